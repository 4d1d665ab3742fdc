//! The `maillage` command: parses arguments, calls the library, prints.
//! Exit status: 0 done; 1 from `check` when the one-CPTS-per-territory rule is
//! broken; 2 for bad usage or unreadable input.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use maillage::export::Staging;
use maillage::progress::Progress;
use maillage::render::{Breaks, Choropleth, ColorBy, MapOptions, Renderer, ReportOptions};
use maillage::{Analysis, FieldNames, Inputs, TableFormat};

/// Prints to stdout. Once stdout is closed (`maillage check … | head` after
/// head has read enough), prints nothing more and the run goes on: its files are
/// still written and its exit status is still the verdict's; no panic, no
/// backtrace. (Rust ignores SIGPIPE, so the closed pipe shows as a write error.)
macro_rules! say {
    ($($t:tt)*) => { say_fmt(format_args!($($t)*)) };
}

/// `say!` and a line end.
macro_rules! sayln {
    ($($t:tt)*) => {{ say_fmt(format_args!($($t)*)); say_fmt(format_args!("\n")) }};
}

static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

fn say_fmt(args: std::fmt::Arguments) {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    if out.write_fmt(args).and_then(|()| out.flush()).is_err() {
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
    }
}

#[derive(Parser)]
#[command(
    name = "maillage",
    version,
    about = "Checks how CPTS territories cover French communes: zones blanches, chevauchements, statistics"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Analyse coverage and write every output (default folder ./maillage-out).
    /// Without --communes and --cpts, runs on the embedded demo data (PACA).
    Analyze {
        #[command(flatten)]
        opts: Opts,
        #[command(flatten)]
        draw: Draw,
    },
    /// Same analysis; exit status 1 when a commune is white or claimed twice.
    /// Writes files only when --out is given. With --candidate: what new CPTS
    /// would change (candidate.json); exit status 1 when one overlaps another CPTS
    /// or is not contiguous.
    Check {
        #[command(flatten)]
        opts: Opts,
        #[command(flatten)]
        draw: Draw,
        /// Candidate CPTS to check against the existing ones (--cpts): a
        /// declaration file like any other (lists or drawn). Repeatable.
        #[arg(long, value_name = "FILE")]
        candidate: Vec<PathBuf>,
    },
    /// Propose how to close the zones blanches and end the chevauchements:
    /// proposals.csv, moves.csv, declarations.csv (the result, readable by
    /// analyze), cpts_effect.csv, new_cpts.csv/.geojson, summary.json.
    Propose {
        #[command(flatten)]
        opts: Opts,
        #[command(flatten)]
        propose: ProposeArgs,
        #[command(flatten)]
        draw: Draw,
    },
    /// Draw the coverage map alone: map.svg and map.png (default folder
    /// ./maillage-out); with --report, report.html too.
    Map {
        #[command(flatten)]
        opts: Opts,
        #[command(flatten)]
        draw: Draw,
    },
    /// Accessibility: floating-catchment scores per commune (2SFCA, E2SFCA,
    /// 3SFCA, gravity, DREES's APL), with --cpts per CPTS, zone blanche and
    /// département. Without --communes, runs on the demo (PACA, made-up supply).
    Access {
        #[command(flatten)]
        opts: Opts,
        #[command(flatten)]
        access: Box<AccessArgs>,
        #[command(flatten)]
        draw: Draw,
    },
}

/// Fix proposals.
#[derive(Args)]
struct ProposeArgs {
    /// How the CPTS a commune could go to are ranked: balanced (ACI class kept,
    /// then EPCI, département, border, population), longest-border (as GEOS),
    /// min-population or epci.
    #[arg(long, value_name = "NAME", default_value = "balanced")]
    strategy: String,
    /// Give each zone blanche whole to one neighbour, as GEOS's coverage cleaning
    /// does, instead of commune by commune from its border inwards.
    #[arg(long)]
    whole_clusters: bool,
    /// A zone blanche of at least this many inhabitants is proposed as new CPTS.
    #[arg(long, value_name = "POPULATION", default_value_t = maillage::propose::DEFAULT_NEW_CPTS_MIN)]
    new_cpts_min: u64,
    /// Language of the reasons and the terminal summary (column names stay the
    /// same): fr or en.
    #[arg(long, value_enum, default_value_t = LangChoice::Fr)]
    lang: LangChoice,
}

#[derive(Clone, Copy, ValueEnum)]
enum LangChoice {
    Fr,
    En,
}

/// Accessibility.
#[derive(Args)]
struct AccessArgs {
    /// Supply: a table code,supply per commune (doctors, full-time equivalents,
    /// consultations; CSV or workbook), or points id,x,y[,supply] in --supply-crs
    /// (FINESS establishments…), each counted in the commune containing it.
    #[arg(long, value_name = "FILE")]
    supply: Option<PathBuf>,
    /// CRS of supply points.
    #[arg(long, value_name = "EPSG:CODE", default_value = "EPSG:2154")]
    supply_crs: String,
    /// Locations: a table code,x,y in --points-crs (population-weighted
    /// centroids…); default: each commune's centroid in Lambert-93 (overseas: its
    /// UTM zone).
    #[arg(long, value_name = "FILE")]
    points: Option<PathBuf>,
    /// CRS of --points.
    #[arg(long, value_name = "EPSG:CODE", default_value = "EPSG:2154")]
    points_crs: String,
    /// Travel costs: a matrix origin,dest,cost in long format (origin: where people
    /// live; dest: where the supply is; minutes or metres), instead of straight-line
    /// distances. Missing commune-to-itself pairs are added at 0.
    #[arg(long, value_name = "FILE")]
    costs: Option<PathBuf>,
    /// 2sfca, e2sfca, 3sfca, gravity (potential, no competition) or apl (DREES).
    #[arg(long, value_name = "METHOD", default_value = "e2sfca")]
    method: String,
    /// Distance decay, in the unit of the costs: gaussian:SIGMA,
    /// step:D1=W1,D2=W2,… (bounds inclusive), gravity:SCALE,ALPHA[,MIN] or binary.
    /// Default: PySAL's for the method (e2sfca: step:10000=1,20000=0.68,30000=0.22
    /// on metres), DREES's bands for apl (step:10=1,15=0.66,20=0.33 minutes).
    #[arg(long, value_name = "SPEC")]
    weight: Option<String>,
    /// Maximum cost, inclusive (default 30000 m; 20 min for apl).
    #[arg(long, value_name = "COST")]
    max_cost: Option<f64>,
    /// Turn straight-line metres into minutes at this speed, km/h (an assumption,
    /// for apl without a travel-time matrix).
    #[arg(long, value_name = "KMH")]
    speed: Option<f64>,
    /// The score under which a commune is under-served (default 2.5 for apl: the
    /// sous-dense threshold; none otherwise).
    #[arg(long, value_name = "SCORE")]
    threshold: Option<f64>,
}

/// Maps and report.
#[derive(Args)]
struct Draw {
    /// Also write the coverage map: map.svg and map.png (the same drawing).
    #[arg(long)]
    map: bool,
    /// Also write report.html: figures, verdict, diagnostics, an interactive map
    /// and sortable tables, in one file that works offline.
    #[arg(long)]
    report: bool,
    /// What colours the territories on the map: `territory` (neighbours always
    /// differ) or `status` (ACI signé, projet de santé validé, projet).
    #[arg(long, value_enum, default_value_t = ColorChoice::Territory)]
    color_by: ColorChoice,
    /// Map a numeric column instead of the territories: a column of communes.csv
    /// (population, area_km2, a score…) or of departements.csv
    /// (coverage_rate_population…); prefix with the table to choose
    /// (departements.population_white).
    #[arg(long, value_name = "COLUMN")]
    choropleth: Option<String>,
    /// Classes of the choropleth: quantiles, equal (intervals) or jenks (natural breaks).
    #[arg(long, value_name = "METHOD", default_value = "jenks")]
    breaks: String,
    /// Number of choropleth classes (2 to 7).
    #[arg(long, value_name = "N", default_value_t = 5)]
    classes: usize,
    /// Width of the map in pixels (map.png's width).
    #[arg(long, value_name = "PX", default_value_t = 1600)]
    map_width: u32,
    /// Title of the map and report (default: the région's name, or France).
    #[arg(long, value_name = "TEXT")]
    title: Option<String>,
    /// Date shown on the map's source line and the report (YYYY-MM-DD); default:
    /// today, or the date of SOURCE_DATE_EPOCH when set (reproducible builds).
    #[arg(long, value_name = "YYYY-MM-DD")]
    date: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum ColorChoice {
    Territory,
    Status,
}

#[derive(Args)]
struct Opts {
    /// Commune polygons: GeoJSON (plain or .gz), Shapefile (.shp with its .dbf/.prj,
    /// or a .zip of them), GeoPackage or GeoParquet, as IGN Admin Express ships them; any CRS of
    /// metropolitan or overseas France, reprojected to longitude/latitude.
    #[arg(long, value_name = "FILE")]
    communes: Option<PathBuf>,
    /// CRS of the commune layer when the file does not say (or says wrongly):
    /// EPSG:2154 for Lambert-93, 5490, 2972, 2975, 4471 overseas…
    #[arg(long, value_name = "EPSG:CODE")]
    crs: Option<String>,
    /// CPTS declarations: commune lists (CSV cpts_id,cpts_name,commune_code[,status],
    /// plain or .gz, or .xlsx/.xls/.ods) and/or drawn territories (cpts_id,
    /// cpts_name, status) as GeoJSON, Shapefile, GeoPackage or GeoParquet. Repeatable.
    #[arg(long, value_name = "FILE")]
    cpts: Vec<PathBuf>,
    /// Population table: CSV code,population, plain or .gz (overrides the layer's).
    #[arg(long, value_name = "FILE")]
    population: Option<PathBuf>,
    /// Study-area outline (GeoJSON polygons): only the communes with at least half
    /// their area inside are analysed. Default: every commune of --communes.
    #[arg(long, value_name = "FILE")]
    area: Option<PathBuf>,
    /// Sheet to read in .xlsx/.xls/.ods declaration and population workbooks
    /// (default: the first).
    #[arg(long, value_name = "NAME")]
    sheet: Option<String>,
    /// Name the columns when guessing fails: canonical=header pairs, e.g.
    /// --columns 'cpts_id=N° CPTS' --columns commune_code=INSEE. Canonical names:
    /// cpts_id, cpts_name, commune_code, status, code, population.
    #[arg(long, value_name = "NAME=HEADER")]
    columns: Vec<String>,
    /// Output folder.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// What to write besides GeoJSON and summary.json, comma-separated: csv,
    /// parquet (the tables), gpkg (maillage.gpkg: every layer and table, styled for
    /// QGIS), geoparquet (GeoParquet layers, tables in Parquet); both = csv,parquet;
    /// all = everything.
    #[arg(long, value_name = "LIST", default_value = "csv")]
    format: String,
    /// Property of the commune layer holding the INSEE code (default: code, INSEE_COM, insee_com, code_insee, codgeo, CODGEO).
    #[arg(long, value_name = "NAME")]
    code_field: Option<String>,
    /// Property holding the commune name (default: nom, NOM, name, nom_officiel, NOM_COM, libgeo, LIBGEO).
    #[arg(long, value_name = "NAME")]
    name_field: Option<String>,
    /// Property holding a population (default: POPULATION, population).
    #[arg(long, value_name = "NAME")]
    population_field: Option<String>,
    /// Sliver tolerance for drawn territories, km²: gap and overlap pieces smaller
    /// than this are digitising noise, counted apart (slivers.geojson).
    #[arg(long, value_name = "KM2", default_value_t = maillage::analysis::DEFAULT_MIN_AREA_KM2)]
    min_area: f64,
    /// Worker threads (default: all cores). Output does not depend on it.
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Diagnostics shown in the terminal (all are in summary.json).
    #[arg(long, value_name = "N", default_value_t = 12)]
    max_diagnostics: usize,
    /// Refuse inputs that needed any normalisation or have any problem (every
    /// diagnostic but how files were read): print them and exit with status 2,
    /// writing nothing.
    #[arg(long)]
    strict: bool,
    /// Print nothing but errors (and no progress line: that one is shown only
    /// when stderr is a terminal).
    #[arg(long, short)]
    quiet: bool,
    /// Print the wall time of each stage to stderr.
    #[arg(long)]
    timings: bool,
}

/// The map options from the flags, checked before any work.
fn map_options(draw: &Draw) -> anyhow::Result<MapOptions> {
    let breaks: Breaks = draw
        .breaks
        .parse()
        .map_err(|e: String| anyhow::anyhow!("--breaks: {e}"))?;
    if !(2..=7).contains(&draw.classes) {
        anyhow::bail!("--classes: give 2 to 7 classes, got {}", draw.classes);
    }
    if !(200..=20_000).contains(&draw.map_width) {
        anyhow::bail!(
            "--map-width: give 200 to 20000 pixels, got {}",
            draw.map_width
        );
    }
    let date = match &draw.date {
        Some(d) => {
            let ok = d.len() == 10
                && d.bytes().enumerate().all(|(k, b)| match k {
                    4 | 7 => b == b'-',
                    _ => b.is_ascii_digit(),
                });
            if !ok {
                anyhow::bail!("--date {d:?}: expected YYYY-MM-DD");
            }
            d.clone()
        }
        None => today(),
    };
    Ok(MapOptions {
        color_by: match draw.color_by {
            ColorChoice::Territory => ColorBy::Territory,
            ColorChoice::Status => ColorBy::Status,
        },
        choropleth: draw.choropleth.as_ref().map(|column| Choropleth {
            column: column.clone(),
            breaks,
            classes: draw.classes,
        }),
        width: draw.map_width,
        title: draw.title.clone(),
        date: Some(date),
    })
}

/// Today's date (UTC), or SOURCE_DATE_EPOCH's when set, as YYYY-MM-DD.
fn today() -> String {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64)
        });
    // days since 1970-01-01 to a civil date (Howard Hinnant's algorithm)
    let z = secs.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

fn main() -> ExitCode {
    START.get_or_init(std::time::Instant::now);
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("maillage: error: {}", message(&e));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes, each cause once: library errors already print
/// their cause (`file: reason`), so a cause the message contains is not repeated.
fn message(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !text.contains(&c) {
            text = format!("{text}: {c}");
        }
    }
    text
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Analyze,
    Check,
    Map,
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Analyze { opts, draw } => coverage(opts, draw, Mode::Analyze),
        Command::Check {
            opts,
            draw,
            candidate,
        } if !candidate.is_empty() => check_candidate(opts, draw, &candidate),
        Command::Check { opts, draw, .. } => coverage(opts, draw, Mode::Check),
        Command::Propose {
            opts,
            propose: args,
            draw,
        } => propose(opts, args, draw),
        Command::Map { opts, draw } => coverage(opts, draw, Mode::Map),
        Command::Access {
            opts,
            access: args,
            draw,
        } => access(opts, *args, draw),
    }
}

/// Worker threads, and the progress line on a terminal.
fn setup(opts: &Opts) -> anyhow::Result<(Arc<Progress>, Option<ProgressLine>)> {
    if let Some(n) = opts.threads {
        // more threads than cores only costs: --threads 10000 is capped
        let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.clamp(1, cores))
            .build_global()
            .context("setting up worker threads")?;
    }
    if !(opts.min_area >= 0.0 && opts.min_area.is_finite()) {
        anyhow::bail!(
            "--min-area must be a number of km² ≥ 0, got {}",
            opts.min_area
        );
    }
    // progress on stderr when it is a terminal (batch logs stay clean)
    let progress = Arc::new(Progress::default());
    let display = (!opts.quiet && std::io::stderr().is_terminal())
        .then(|| ProgressLine::start(Arc::clone(&progress)));
    Ok((progress, display))
}

/// The inputs named by the options, or the demo's when no layer is given.
fn inputs(opts: &Opts, progress: &Arc<Progress>) -> anyhow::Result<Inputs> {
    let base = match &opts.communes {
        Some(c) => {
            let fields = FieldNames {
                code: opts.code_field.clone(),
                name: opts.name_field.clone(),
                population: opts.population_field.clone(),
                crs: opts.crs.clone(),
            };
            let d: Vec<&std::path::Path> = opts.cpts.iter().map(|p| p.as_path()).collect();
            Inputs::from_paths(c, &d, opts.population.as_deref(), fields)?
        }
        None => {
            if !opts.cpts.is_empty() || opts.population.is_some() || opts.area.is_some() {
                anyhow::bail!(
                    "--cpts, --population and --area need --communes (without them all, the demo runs)"
                );
            }
            Inputs::demo()
        }
    };
    let mut columns = Vec::new();
    for c in &opts.columns {
        let Some((k, v)) = c.split_once('=') else {
            anyhow::bail!("--columns {c:?}: expected NAME=HEADER, e.g. commune_code=INSEE");
        };
        const NAMES: [&str; 10] = [
            "cpts_id",
            "cpts_name",
            "commune_code",
            "status",
            "code",
            "population",
            "supply",
            "x",
            "y",
            "cost",
        ];
        if !NAMES.contains(&k.trim()) {
            anyhow::bail!("--columns {c:?}: {k:?} is not one of {}", NAMES.join(", "));
        }
        columns.push((k.trim().to_owned(), v.to_owned()));
    }
    Ok(Inputs {
        progress: Some(Arc::clone(progress)),
        tables: maillage::load::TableOptions {
            sheet: opts.sheet.clone(),
            columns,
        },
        min_area_km2: opts.min_area,
        area: opts
            .area
            .as_deref()
            .map(maillage::Source::from_path)
            .transpose()?,
        ..base
    })
}

/// With --strict, the problems found, and an error: nothing is written.
fn strict(opts: &Opts, diagnostics: &[maillage::Diagnostic]) -> anyhow::Result<()> {
    if !opts.strict {
        return Ok(());
    }
    let problems: Vec<&maillage::Diagnostic> =
        diagnostics.iter().filter(|d| d.kind.is_problem()).collect();
    if problems.is_empty() {
        return Ok(());
    }
    for d in &problems {
        eprintln!("  [{}] {}", d.kind.name(), d.message);
    }
    anyhow::bail!(
        "--strict: {} diagnostic(s) above; nothing written",
        problems.len()
    )
}

/// `--format`: a comma-separated list of csv, parquet, gpkg, geoparquet, both
/// (csv,parquet) and all. Without csv or parquet the tables are CSV.
fn formats(list: &str, date: &str) -> anyhow::Result<maillage::export::Formats> {
    let (mut csv, mut parquet, mut gpkg, mut geoparquet) = (false, false, false, false);
    for f in list.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        match f.to_ascii_lowercase().as_str() {
            "csv" => csv = true,
            "parquet" => parquet = true,
            "both" => (csv, parquet) = (true, true),
            "gpkg" | "geopackage" => gpkg = true,
            "geoparquet" => geoparquet = true,
            "all" => (csv, parquet, gpkg, geoparquet) = (true, true, true, true),
            other => anyhow::bail!(
                "--format: {other:?} is not a format: csv, parquet, both, gpkg, geoparquet or all, comma-separated"
            ),
        }
    }
    Ok(maillage::export::Formats {
        tables: match (csv, parquet) {
            (true, true) => TableFormat::Both,
            (false, true) => TableFormat::Parquet,
            _ => TableFormat::Csv,
        },
        gpkg,
        geoparquet,
        date: date.to_owned(),
    })
}

/// `--format` for commands that write tables only.
fn table_format(list: &str) -> anyhow::Result<TableFormat> {
    let f = formats(list, "")?;
    if f.gpkg || f.geoparquet {
        anyhow::bail!("--format: this command writes tables only: csv, parquet or both");
    }
    Ok(f.tables)
}

/// When the process started, for `--timings`' total.
static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

fn print_timings(opts: &Opts, analysis: &Analysis) {
    print_timings_with(opts, analysis, None);
}

/// Each stage's wall time, then `other` (argument parsing, printing, whatever
/// no stage covers) and the `total` since the process started. `read` is the
/// time reading and gunzipping the input files took.
fn print_timings_with(opts: &Opts, analysis: &Analysis, read: Option<std::time::Duration>) {
    if opts.timings {
        let mut stages = analysis.timings.stages();
        if let Some(r) = read {
            stages.insert(0, ("read", r));
        }
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
        for (stage, d) in &stages {
            eprintln!("{stage:>12}: {:8.1} ms", ms(*d));
        }
        if let Some(start) = START.get() {
            let total = start.elapsed();
            let counted: std::time::Duration = stages.iter().map(|s| s.1).sum();
            eprintln!(
                "{:>12}: {:8.1} ms",
                "other",
                ms(total.saturating_sub(counted))
            );
            eprintln!(
                "{:>12}: {:8.1} ms (teardown skipped: the process ends)",
                "total",
                ms(total)
            );
        }
    }
}

/// `analyze`, `check` and `map`.
fn coverage(opts: Opts, draw: Draw, mode: Mode) -> anyhow::Result<ExitCode> {
    let check = mode == Mode::Check;
    let map_options = map_options(&draw)?;
    let formats = formats(
        &opts.format,
        map_options.date.as_deref().unwrap_or("1970-01-01"),
    )?;
    if opts.communes.is_some() && opts.cpts.is_empty() {
        anyhow::bail!("--communes needs --cpts (the declarations to check)");
    }
    let (progress, display) = setup(&opts)?;
    let t = std::time::Instant::now();
    let inputs = inputs(&opts, &progress)?;
    let read = t.elapsed();
    // the layer's text is freed once parsed
    let analysis = Analysis::run_owned(inputs)?;
    strict(&opts, &analysis.summary.diagnostics)?;
    let out = match (&opts.out, check) {
        (Some(dir), _) => Some(dir.clone()),
        (None, false) => Some(PathBuf::from("maillage-out")),
        (None, true) => None,
    };
    let files = match &out {
        Some(dir) => {
            // every output of the run lands together, or none does
            let staging = Staging::new(dir)?;
            if mode != Mode::Map {
                progress.start("writing the tables and layers", 0);
                maillage::export::stage_all(&staging, &analysis, formats.clone())?;
            }
            let map = draw.map || mode == Mode::Map;
            if map || draw.report {
                let report = ReportOptions {
                    title: map_options.title.clone(),
                    date: map_options.date.clone(),
                    max_diagnostics: 500,
                    width: map_options.width,
                };
                progress.start("drawing", 0);
                Renderer::new(&analysis)?.stage(
                    &staging,
                    map.then_some(&map_options),
                    draw.report.then_some(&report),
                )?;
            }
            staging.commit()?
        }
        None => Vec::new(),
    };
    drop(display);
    if !opts.quiet {
        say!("{}", analysis.report(opts.max_diagnostics));
        if let Some(dir) = &out {
            sayln!("\nwrote {} files to {}", files.len(), dir.display());
        }
    }
    print_timings_with(&opts, &analysis, Some(read));
    let code = if check && !analysis.summary.rule_holds() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    };
    // the process ends here: freeing a national layer's memory piece by piece
    // would cost up to a second and give nothing back
    std::mem::forget(analysis);
    Ok(code)
}

/// An EPSG code from `EPSG:2154` or `2154`, checked to be one maillage knows.
fn epsg(flag: &str, text: &str) -> anyhow::Result<u32> {
    let t = text.trim();
    let digits = t
        .strip_prefix("EPSG:")
        .or_else(|| t.strip_prefix("epsg:"))
        .unwrap_or(t);
    let code: u32 = digits
        .parse()
        .map_err(|_| anyhow::anyhow!("{flag} {text:?}: expected EPSG:CODE, e.g. EPSG:2154"))?;
    maillage::crs::Crs::from_epsg(code).map_err(|e| anyhow::anyhow!("{flag}: {e}"))?;
    Ok(code)
}

/// The declarations of `files`, their ids checked against the analysis's.
fn candidate_declarations(
    analysis: &Analysis,
    files: &[PathBuf],
    tables: &maillage::load::TableOptions,
) -> anyhow::Result<(
    maillage::load::Declarations,
    Vec<String>,
    std::collections::BTreeSet<String>,
)> {
    let sources = files
        .iter()
        .map(maillage::Source::from_path)
        .collect::<maillage::Result<Vec<_>>>()?;
    let extra = maillage::load::load_cpts_with(&sources, tables)?;
    if extra.cpts.is_empty() {
        anyhow::bail!(
            "{}: no CPTS declared there",
            files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let taken: Vec<&str> = extra
        .cpts
        .iter()
        .filter(|c| analysis.declarations.cpts.iter().any(|e| e.id == c.id))
        .map(|c| c.id.as_str())
        .collect();
    if !taken.is_empty() {
        anyhow::bail!(
            "candidate id(s) already used by an existing CPTS: {}; give the candidate an id of its own",
            taken.join(", ")
        );
    }
    let mut decl = analysis.declarations.clone();
    let mut names: Vec<String> = decl
        .source
        .display()
        .to_string()
        .split(" + ")
        .map(str::to_owned)
        .collect();
    let offset = names.len();
    names.extend(sources.iter().map(|s| s.name.display().to_string()));
    let ids = extra.cpts.iter().map(|c| c.id.clone()).collect();
    for mut c in extra.cpts {
        c.file += offset;
        decl.cpts.push(c);
    }
    decl.cpts.sort_by(|a, b| a.id.cmp(&b.id));
    decl.diagnostics.extend(extra.diagnostics);
    decl.source = PathBuf::from(names.join(" + "));
    Ok((decl, names, ids))
}

/// `check --candidate`.
fn check_candidate(opts: Opts, draw: Draw, files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    use maillage::propose::candidate::CandidateReport;
    let map_options = map_options(&draw)?;
    let (progress, display) = setup(&opts)?;
    let inputs = inputs(&opts, &progress)?;
    let before = Analysis::run(&inputs)?;
    progress.start("the candidate against the others", 0);
    let (decl, names, ids) = candidate_declarations(&before, files, &inputs.tables)?;
    let after = before.with_declarations(decl, &names, inputs.min_area_km2)?;
    // what the candidates' own files say (unknown codes…)
    let own: Vec<maillage::Diagnostic> = after
        .summary
        .diagnostics
        .iter()
        .filter(|d| {
            d.cpts_id.as_ref().is_some_and(|c| ids.contains(c))
                || files
                    .iter()
                    .any(|f| d.message.contains(&f.display().to_string()))
        })
        .cloned()
        .collect();
    strict(&opts, &own)?;
    let report = CandidateReport::compute(&before, &after, &ids);
    // a candidate naming no commune of the layer has nothing to check: refused,
    // so that a script gating on the exit status does not let it through
    let empty: Vec<&str> = report
        .candidates
        .iter()
        .filter(|c| c.communes.is_empty())
        .map(|c| c.cpts_id.as_str())
        .collect();
    if !empty.is_empty() {
        let unknown: Vec<&str> = own
            .iter()
            .filter(|d| d.kind == maillage::DiagnosticKind::UnknownCode)
            .map(|d| d.message.as_str())
            .collect();
        anyhow::bail!(
            "{}: candidate CPTS {} names no commune of the layer; nothing to check{}",
            files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            empty.join(", "),
            if unknown.is_empty() {
                String::new()
            } else {
                format!(" ({})", unknown.join("; "))
            }
        );
    }
    let written = match &opts.out {
        Some(dir) => {
            let staging = Staging::new(dir)?;
            let path = dir.join("candidate.json");
            let mut value = serde_json::to_value(&report)?;
            if let Some(o) = value.as_object_mut() {
                o.insert("diagnostics".into(), serde_json::to_value(&own)?);
            }
            let text = serde_json::to_string_pretty(&value)? + "\n";
            staging.write("candidate.json", |w| {
                w.write_all(text.as_bytes())
                    .map_err(|e| maillage::Error::Io {
                        path: path.clone(),
                        source: e,
                    })
            })?;
            if draw.map {
                Renderer::new(&after)?.stage(&staging, Some(&map_options), None)?;
            }
            Some((dir.clone(), staging.commit()?))
        }
        None => None,
    };
    drop(display);
    if !opts.quiet {
        say!("{}", report.text());
        for d in own.iter().take(opts.max_diagnostics) {
            sayln!("  [{}] {}", d.kind.name(), d.message);
        }
        if let Some((dir, files)) = written {
            sayln!("\nwrote {} files to {}", files.len(), dir.display());
        }
    }
    print_timings(&opts, &before);
    Ok(if report.problems {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `propose`.
fn propose(opts: Opts, args: ProposeArgs, draw: Draw) -> anyhow::Result<ExitCode> {
    use maillage::propose::{Proposal, ProposeOptions};
    let strategy = args
        .strategy
        .parse()
        .map_err(|e: String| anyhow::anyhow!("--strategy: {e}"))?;
    let map_options = map_options(&draw)?;
    if opts.communes.is_some() && opts.cpts.is_empty() {
        anyhow::bail!("--communes needs --cpts (the declarations to fix)");
    }
    // options propose cannot honour are refused, not ignored
    if table_format(&opts.format)? != TableFormat::Csv {
        anyhow::bail!("--format: propose writes CSV tables only (proposals.csv, moves.csv…)");
    }
    if draw.choropleth.is_some() {
        anyhow::bail!(
            "--choropleth: propose draws the proposal's territories; map a column with `maillage map` on its declarations.csv"
        );
    }
    let (progress, display) = setup(&opts)?;
    let inputs = inputs(&opts, &progress)?;
    let before = Analysis::run(&inputs)?;
    strict(&opts, &before.summary.diagnostics)?;
    progress.start("proposing", 0);
    let options = ProposeOptions {
        strategy,
        whole_clusters: args.whole_clusters,
        new_cpts_min: args.new_cpts_min,
        lang: match args.lang {
            LangChoice::Fr => maillage::Lang::Fr,
            LangChoice::En => maillage::Lang::En,
        },
    };
    let t = Instant::now();
    let proposal = Proposal::compute(&before, &options)?;
    before.timings.record("propose", t.elapsed());
    // the proposal analysed again: its figures, and its map
    let t = Instant::now();
    let after = proposal.apply(&before)?;
    before.timings.record("after", t.elapsed());
    let dir = opts
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("maillage-out"));
    let staging = Staging::new(&dir)?;
    proposal.stage(&staging, &before, &after)?;
    if draw.map || draw.report {
        let report = ReportOptions {
            title: map_options.title.clone(),
            date: map_options.date.clone(),
            max_diagnostics: 500,
            width: map_options.width,
        };
        Renderer::new(&after)?.stage(
            &staging,
            draw.map.then_some(&map_options),
            draw.report.then_some(&report),
        )?;
    }
    let files = staging.commit()?;
    drop(display);
    if !opts.quiet {
        say!("{}", proposal.text(&before, &after, opts.max_diagnostics));
        say!("\nwrote {} files to {}\n", files.len(), dir.display());
    }
    print_timings(&opts, &before);
    Ok(ExitCode::SUCCESS)
}

/// `access`.
fn access(opts: Opts, args: AccessArgs, draw: Draw) -> anyhow::Result<ExitCode> {
    use maillage::access::{AccessInputs, AccessOptions, Accessibility, Method, Weight};
    let method: Method = args
        .method
        .parse()
        .map_err(|e: String| anyhow::anyhow!("--method: {e}"))?;
    let weight: Option<Weight> = args
        .weight
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(|e: String| anyhow::anyhow!("--weight: {e}"))?;
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
    };
    let mut map_options = map_options(&draw)?;
    if map_options.choropleth.is_none() {
        // per 100,000 inhabitants reads better than 0.00085; APL is per inhabitant
        let column = if method == Method::Apl {
            "score"
        } else {
            "score_per_100k"
        };
        map_options.choropleth = Some(Choropleth {
            column: column.into(),
            breaks: draw.breaks.parse().unwrap_or(Breaks::Jenks),
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
    let costs = args
        .costs
        .as_deref()
        .map(|p| maillage::load::load_costs(&maillage::Source::from_path(p)?, &tables))
        .transpose()?;
    let analysis = Analysis::run(&inputs)?;
    progress.start("accessibility", 0);
    let acc = Accessibility::compute(
        &analysis,
        &AccessInputs {
            supply: &supply,
            points: points.as_ref(),
            costs: costs.as_ref(),
        },
        &options,
    )?;
    let mut diagnostics = analysis.summary.diagnostics.clone();
    diagnostics.extend(acc.diagnostics.iter().cloned());
    strict(&opts, &diagnostics)?;
    let dir = opts
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("maillage-out"));
    let staging = Staging::new(&dir)?;
    acc.stage(&staging, &analysis, table_format(&opts.format)?)?;
    if draw.map || draw.report {
        progress.start("drawing", 0);
        if map_options.title.is_none() {
            map_options.title = Some(format!(
                "Accessibilité ({})",
                method.as_str().to_uppercase()
            ));
        }
        let report = ReportOptions {
            title: None,
            date: map_options.date.clone(),
            max_diagnostics: 500,
            width: map_options.width,
        };
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
        say!("{}", access_report(&acc, &analysis, opts.max_diagnostics));
        sayln!("\nwrote {} files to {}", files.len(), dir.display());
    }
    print_timings(&opts, &analysis);
    Ok(ExitCode::SUCCESS)
}

/// The terminal summary of an accessibility run.
fn access_report(
    acc: &maillage::access::Accessibility,
    analysis: &Analysis,
    max_diagnostics: usize,
) -> String {
    use std::fmt::Write as _;
    let s = &acc.summary;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "maillage access: {} communes ({}), {} ({}), weight {}, max cost {} ({})",
        analysis.communes.len(),
        analysis
            .summary
            .inputs
            .get("communes")
            .map_or("", String::as_str),
        s.method,
        s.unit,
        s.weight,
        s.max_cost,
        s.costs
    );
    let _ = writeln!(
        out,
        "  locations: {}; {} pairs within the maximum cost{}",
        s.locations,
        s.pairs,
        if s.self_pairs_added > 0 {
            format!(" ({} commune-to-itself pairs added)", s.self_pairs_added)
        } else {
            String::new()
        }
    );
    let _ = writeln!(
        out,
        "  population {}, supply {} ({} unreached); {} communes scored, {} without a location",
        s.population, s.supply_total, s.supply_unreached, s.communes_scored, s.communes_unscored
    );
    if let Some(m) = s.population_weighted_mean {
        let _ = writeln!(
            out,
            "  population-weighted mean score {m:.6e} ({:.3} per 100,000); supply reached per inhabitant {:.6e}",
            m * 1e5,
            s.supply_reached_per_inhabitant.unwrap_or(f64::NAN)
        );
    }
    if let (Some(t), Some(p), Some(c)) = (
        s.threshold,
        s.population_below_threshold,
        s.communes_below_threshold,
    ) {
        let _ = writeln!(
            out,
            "  under the threshold {t}: {c} communes, {p} inhabitants"
        );
    }
    let mut diags = analysis.summary.diagnostics.clone();
    diags.extend(acc.diagnostics.iter().cloned());
    let report = maillage::diagnostics::Report::new(&diags);
    let _ = writeln!(
        out,
        "\ndiagnostics: {} ({} normalisation(s) or problem(s))",
        report.count, report.problems
    );
    for d in diags.iter().take(max_diagnostics) {
        let _ = writeln!(out, "  [{}] {}", d.kind.name(), d.message);
    }
    if diags.len() > max_diagnostics {
        let _ = writeln!(
            out,
            "  … {} more in diagnostics.json",
            diags.len() - max_diagnostics
        );
    }
    out
}

/// A line on stderr, redrawn five times a second, saying what the run is doing;
/// erased when dropped.
struct ProgressLine {
    done: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ProgressLine {
    fn start(progress: Arc<Progress>) -> ProgressLine {
        let done = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&done);
        let thread = std::thread::spawn(move || {
            let t0 = Instant::now();
            // nothing for quick runs: the line appears after half a second (or
            // MAILLAGE_PROGRESS_AFTER_MS)
            let after = std::env::var("MAILLAGE_PROGRESS_AFTER_MS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(500);
            std::thread::sleep(Duration::from_millis(after));
            while !flag.load(Ordering::Relaxed) {
                let (stage, n, total) = progress.snapshot();
                if stage.is_empty() {
                    // no stage has started yet: nothing to name
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                }
                let count = if total > 0 {
                    format!(" {n}/{total} ({:.0} %)", 100.0 * n as f64 / total as f64)
                } else {
                    String::new()
                };
                let mut e = std::io::stderr().lock();
                let _ = write!(
                    e,
                    "\r\x1b[2Kmaillage: {stage}{count}, {:.1} s",
                    t0.elapsed().as_secs_f64()
                );
                let _ = e.flush();
                drop(e);
                std::thread::sleep(Duration::from_millis(200));
            }
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        });
        ProgressLine {
            done,
            thread: Some(thread),
        }
    }
}

impl Drop for ProgressLine {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
