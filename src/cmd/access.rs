//! `access`: floating-catchment accessibility.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use maillage::export::Staging;
use maillage::render::{Choropleth, Renderer};
use maillage::Analysis;

use super::*;

/// `--method`.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum MethodChoice {
    #[value(name = "2sfca")]
    TwoSfca,
    #[value(name = "e2sfca")]
    E2sfca,
    #[value(name = "3sfca")]
    ThreeSfca,
    Gravity,
    Apl,
}

/// `--cost-unit`.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum CostUnitChoice {
    Minutes,
    Metres,
    Km,
}

/// Accessibility.
#[derive(Args)]
pub(crate) struct AccessArgs {
    /// Supply: a table code,supply per commune (doctors, full-time equivalents,
    /// consultations; CSV or workbook), or points id,x,y[,supply] in --supply-crs
    /// (FINESS establishments…), each counted in the commune containing it.
    #[arg(long, value_name = "FILE")]
    pub(crate) supply: Option<PathBuf>,
    /// CRS of supply points.
    #[arg(long, value_name = "EPSG:CODE", default_value = "EPSG:2154")]
    pub(crate) supply_crs: String,
    /// Locations: a table code,x,y in --points-crs (population-weighted
    /// centroids…); default: each commune's centroid in Lambert-93 (overseas: its
    /// UTM zone).
    #[arg(long, value_name = "FILE")]
    pub(crate) points: Option<PathBuf>,
    /// CRS of --points.
    #[arg(long, value_name = "EPSG:CODE", default_value = "EPSG:2154")]
    pub(crate) points_crs: String,
    /// Travel costs: a matrix origin,dest,cost in long format, CSV or Parquet (origin: where people
    /// live; dest: where the supply is; minutes or metres), instead of straight-line
    /// distances. Missing commune-to-itself pairs are added at 0.
    #[arg(long, value_name = "FILE")]
    pub(crate) costs: Option<PathBuf>,
    /// Travel times by road: an OpenStreetMap extract (.osm.pbf, as Geofabrik
    /// ships them). Communes are snapped to its drivable roads and catchments
    /// driven at free-flow speeds by road class, within --max-cost minutes; the
    /// matrix used is written as access_matrix.parquet (give it to --costs to
    /// run again without the network).
    #[arg(long, value_name = "FILE.osm.pbf", conflicts_with_all = ["costs", "speed", "cost_unit"])]
    pub(crate) roads: Option<PathBuf>,
    /// The unit of --costs: minutes (default; a matrix whose costs are far above
    /// the default maximum is refused as likely metres), metres or km. Sets the
    /// default weight and maximum cost.
    #[arg(long, value_enum, value_name = "UNIT")]
    pub(crate) cost_unit: Option<CostUnitChoice>,
    /// Demand replacing the population in the catchments: a table code,demand
    /// (decimals: an age-standardised population), or with --age-weights one
    /// column per age group. Every inhabited commune needs a row.
    #[arg(long, value_name = "FILE")]
    pub(crate) demand: Option<PathBuf>,
    /// Age weighting of --demand: COLUMN=WEIGHT,… (demand = Σ weight × column).
    #[arg(long, value_name = "COL=W,…", requires = "demand")]
    pub(crate) age_weights: Option<String>,
    /// 2sfca, e2sfca, 3sfca, gravity (potential, no competition) or apl (DREES);
    /// several, comma-separated (2sfca,e2sfca), give one column each.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "e2sfca")]
    pub(crate) method: Vec<MethodChoice>,
    /// Distance decay, in the unit of the costs: gaussian:SIGMA,
    /// step:D1=W1,D2=W2,… (bounds inclusive), gravity:SCALE,ALPHA[,MIN] or binary.
    /// Default: PySAL's for the method (e2sfca: step:10000=1,20000=0.68,30000=0.22
    /// on metres), DREES's bands for apl (step:10=1,15=0.66,20=0.33 minutes).
    #[arg(long, value_name = "SPEC")]
    pub(crate) weight: Option<String>,
    /// Maximum cost, inclusive (default 30000 m; 20 min for apl).
    #[arg(long, value_name = "COST")]
    pub(crate) max_cost: Option<f64>,
    /// Turn straight-line metres into minutes at this speed, km/h (an assumption,
    /// for apl without a travel-time matrix).
    #[arg(long, value_name = "KMH")]
    pub(crate) speed: Option<f64>,
    /// The score under which a commune is under-served (default 2.5 for apl: the
    /// sous-dense threshold; none otherwise).
    #[arg(long, value_name = "SCORE")]
    pub(crate) threshold: Option<f64>,
}

/// `access`.
pub(crate) fn run(opts: Opts, args: AccessArgs, draw: Draw) -> anyhow::Result<ExitCode> {
    use maillage::access::{AccessInputs, AccessOptions, Accessibility, CostUnit, Method, Weight};
    let methods: Vec<Method> = args
        .method
        .iter()
        .map(|m| match m {
            MethodChoice::TwoSfca => Method::TwoStep,
            MethodChoice::E2sfca => Method::Enhanced,
            MethodChoice::ThreeSfca => Method::ThreeStep,
            MethodChoice::Gravity => Method::Gravity,
            MethodChoice::Apl => Method::Apl,
        })
        .collect();
    let Some(&method) = methods.first() else {
        anyhow::bail!("--method: give at least one method");
    };
    if (1..methods.len()).any(|k| methods[..k].contains(&methods[k])) {
        anyhow::bail!("--method: each method once");
    }
    let weight: Option<Weight> = args
        .weight
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(|e: maillage::ParseError| anyhow::anyhow!("--weight: {e}"))?;
    if let Some(m) = args.max_cost {
        if !(m > 0.0 && m.is_finite()) {
            anyhow::bail!("--max-cost {m}: give a cost > 0");
        }
    }
    let options = AccessOptions {
        method,
        weight,
        max_cost: args.max_cost,
        threshold: args.threshold,
        speed_kmh: args.speed,
        points_epsg: epsg("--points-crs", &args.points_crs)?,
        supply_epsg: epsg("--supply-crs", &args.supply_crs)?,
        cost_unit: args.cost_unit.map(|u| match u {
            CostUnitChoice::Minutes => CostUnit::Minutes,
            CostUnitChoice::Metres => CostUnit::Metres,
            CostUnitChoice::Km => CostUnit::Kilometres,
        }),
    };
    let mut map_options = map_options(&draw)?;
    let formats = formats(
        &opts.format,
        map_options.date.as_deref().unwrap_or("1970-01-01"),
    )?;
    if map_options.choropleth.is_none() {
        // per 100,000 inhabitants reads better than 0.00085; APL is per inhabitant
        let column = if method == Method::Apl {
            "score"
        } else {
            "score_per_100k"
        };
        map_options.choropleth = Some(Choropleth {
            column: column.into(),
            breaks: draw.breaks.breaks(),
            classes: draw.classes,
        });
    }
    if draw.report && opts.cpts.is_empty() && opts.communes.is_some() {
        anyhow::bail!("--report shows the coverage by CPTS: give --cpts too");
    }
    let demo = opts.communes.is_none();
    let supply_source = match (&args.supply, demo) {
        (Some(p), _) => maillage::Source::from_path(p)?,
        (None, true) => maillage::access::demo_supply(),
        (None, false) => {
            anyhow::bail!("access needs --supply (a table code,supply or points id,x,y)")
        }
    };
    let (progress, display) = setup(&opts)?;
    let inputs = inputs(&opts, &progress)?;
    let tables = inputs.tables.clone();
    let supply = maillage::load::load_supply(&supply_source, &tables)?;
    let points = args
        .points
        .as_deref()
        .map(|p| maillage::load::load_points(&maillage::Source::from_path(p)?, &tables))
        .transpose()?;
    let read_costs = std::time::Instant::now();
    let costs = args
        .costs
        .as_deref()
        .map(|p| maillage::load::load_costs(&maillage::Source::from_path(p)?, &tables))
        .transpose()?;
    let read_costs = read_costs.elapsed();
    let read_roads = std::time::Instant::now();
    let roads = args
        .roads
        .as_deref()
        .map(maillage::load::load_roads)
        .transpose()?;
    let read_roads = read_roads.elapsed();
    let age_weights = args
        .age_weights
        .as_deref()
        .map(maillage::load::parse_age_weights)
        .transpose()?
        .unwrap_or_default();
    let demand = args
        .demand
        .as_deref()
        .map(|p| {
            maillage::load::load_demand(&maillage::Source::from_path(p)?, &tables, &age_weights)
        })
        .transpose()?;
    let analysis = Analysis::run(&inputs)?;
    if costs.is_some() {
        // read before the layer, shown after its stages
        analysis.timings.record("read costs", read_costs);
    }
    progress.start("accessibility", 0);
    let mut access_inputs = AccessInputs {
        supply: &supply,
        points: points.as_ref(),
        costs: costs.as_ref(),
        demand: demand.as_ref(),
    };
    // travel times by road: the matrix every method then reads, in minutes
    let mut options = options;
    let mut road_diagnostics = Vec::new();
    let road_matrix = match &roads {
        Some(network) => {
            analysis.timings.record("read roads", read_roads);
            let max = methods
                .iter()
                .map(|&m| {
                    AccessOptions {
                        method: m,
                        ..options.clone()
                    }
                    .max_cost(false)
                })
                .fold(0.0, f64::max);
            if !max.is_finite() {
                anyhow::bail!("--roads: catchments need a maximum travel time: give --max-cost MINUTES (2sfca and gravity have none by default)");
            }
            let (matrix, d) = maillage::access::road_costs(
                &analysis,
                network,
                &access_inputs,
                max,
                options.points_epsg,
                options.supply_epsg,
            )?;
            road_diagnostics = d;
            options.cost_unit = Some(CostUnit::Minutes);
            Some(matrix)
        }
        None => None,
    };
    if let Some(m) = &road_matrix {
        access_inputs.costs = Some(m);
        access_inputs.points = None;
    }
    let mut runs = Vec::with_capacity(methods.len());
    for (k, &m) in methods.iter().enumerate() {
        let mut run = Accessibility::compute(
            &analysis,
            &access_inputs,
            &AccessOptions {
                method: m,
                ..options.clone()
            },
        )?;
        if k == 0 {
            run.diagnostics.extend(road_diagnostics.iter().cloned());
        }
        run.set_lang(opts.lang());
        runs.push(run);
    }
    let mut analysis = analysis;
    analysis.summary.set_lang(opts.lang());
    let mut diagnostics = analysis.summary.diagnostics.clone();
    for r in &runs {
        diagnostics.extend(r.diagnostics.iter().cloned());
    }
    strict(&opts, &diagnostics)?;
    let acc = &runs[0];
    let dir = opts
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("maillage-out"));
    let staging = Staging::new(&dir)?;
    maillage::access::stage_runs(&runs, &staging, &analysis, formats.clone())?;
    if let Some(m) = &road_matrix {
        maillage::access::stage_matrix(m, &staging)?;
    }
    if draw.map || draw.report {
        progress.start("drawing", 0);
        if map_options.title.is_none() {
            map_options.title = Some(format!(
                "Accessibilité ({})",
                method.as_str().to_uppercase()
            ));
        }
        let report = report_options(&map_options, None);
        Renderer::new(&analysis)?
            .with_column("score", acc.score.clone())?
            .with_column(
                "score_per_100k",
                acc.score.iter().map(|s| s.map(|s| s * 1e5)).collect(),
            )?
            .stage(
                &staging,
                draw.map.then_some(&map_options),
                draw.report.then_some(&report),
            )?;
    }
    let files = staging.commit()?;
    drop(display);
    if !opts.quiet {
        // each method's figures, then the diagnostics once
        for (k, r) in runs.iter().enumerate() {
            let text = r.text_in(&analysis, opts.lang(), opts.max_diagnostics);
            match (k + 1 == runs.len(), text.find("\ndiagnostics")) {
                (false, Some(at)) => say!("{}", &text[..at]),
                _ => say!("{text}"),
            }
        }
        sayln!("\n{}", written(opts.lang(), files.len(), &dir));
    }
    print_timings(&opts, &analysis);
    Ok(ExitCode::SUCCESS)
}
