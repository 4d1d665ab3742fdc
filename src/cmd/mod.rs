//! What the subcommands share: the options, the inputs they name, the output
//! formats, timings, and the progress line.

pub(crate) mod access;
pub(crate) mod analyze;
pub(crate) mod candidate;
pub(crate) mod propose;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, ValueEnum};
use maillage::progress::Progress;
use maillage::render::{Breaks, Choropleth, ColorBy, MapOptions, ReportOptions};
use maillage::{Analysis, FieldNames, Inputs, Lang, TableFormat};

pub(crate) use access::AccessArgs;
pub(crate) use propose::ProposeArgs;

/// Maps and report.
#[derive(Args)]
pub(crate) struct Draw {
    /// Also write the coverage map: map.svg and map.png (the same drawing).
    #[arg(long)]
    pub(crate) map: bool,
    /// Also write report.html: figures, verdict, diagnostics, an interactive map
    /// and sortable tables, in one file that works offline.
    #[arg(long)]
    pub(crate) report: bool,
    /// What colours the territories on the map: `territory` (neighbours always
    /// differ) or `status` (ACI signé, projet de santé validé, projet).
    #[arg(long, value_enum, default_value_t = ColorChoice::Territory)]
    pub(crate) color_by: ColorChoice,
    /// Map a numeric column instead of the territories: a column of communes.csv
    /// (population, area_km2, a score…) or of departements.csv
    /// (coverage_rate_population…); prefix with the table to choose
    /// (departements.population_white).
    #[arg(long, value_name = "COLUMN")]
    pub(crate) choropleth: Option<String>,
    /// Classes of the choropleth: quantiles, equal (intervals) or jenks (natural breaks).
    #[arg(long, value_enum, default_value_t = BreaksChoice::Jenks)]
    pub(crate) breaks: BreaksChoice,
    /// Number of choropleth classes (2 to 7).
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub(crate) classes: usize,
    /// Width of the map in pixels (map.png's width).
    #[arg(long, value_name = "PX", default_value_t = 1600)]
    pub(crate) map_width: u32,
    /// Title of the map and report (default: the région's name, or France).
    #[arg(long, value_name = "TEXT")]
    pub(crate) title: Option<String>,
    /// Date shown on the map's source line and the report (YYYY-MM-DD); default:
    /// today, or the date of SOURCE_DATE_EPOCH when set (reproducible builds).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub(crate) date: Option<String>,
}

/// `--breaks`.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum BreaksChoice {
    Quantiles,
    Equal,
    Jenks,
}

impl BreaksChoice {
    pub(crate) fn breaks(self) -> Breaks {
        match self {
            BreaksChoice::Quantiles => Breaks::Quantiles,
            BreaksChoice::Equal => Breaks::EqualInterval,
            BreaksChoice::Jenks => Breaks::Jenks,
        }
    }
}

/// `--format`: one item of the list.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FormatChoice {
    Csv,
    Parquet,
    /// csv and parquet
    Both,
    #[value(alias = "geopackage")]
    Gpkg,
    Geoparquet,
    /// every format
    All,
}

impl Opts {
    /// True when `--format` asks for nothing but the default CSV tables.
    pub(crate) fn csv_only(&self) -> bool {
        self.format.iter().all(|f| *f == FormatChoice::Csv)
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum ColorChoice {
    Territory,
    Status,
}

#[derive(Args)]
pub(crate) struct Opts {
    /// Commune polygons: GeoJSON (plain or .gz), Shapefile (.shp with its .dbf/.prj,
    /// or a .zip of them), GeoPackage or GeoParquet, as IGN Admin Express ships them; any CRS of
    /// metropolitan or overseas France, reprojected to longitude/latitude.
    #[arg(long, value_name = "FILE")]
    pub(crate) communes: Option<PathBuf>,
    /// CRS of the commune layer when the file does not say (or says wrongly):
    /// EPSG:2154 for Lambert-93, 5490, 2972, 2975, 4471 overseas…
    #[arg(long, value_name = "EPSG:CODE")]
    pub(crate) crs: Option<String>,
    /// CPTS declarations: commune lists (CSV cpts_id,cpts_name,commune_code[,status],
    /// plain or .gz, or .xlsx/.xls/.ods) and/or drawn territories (cpts_id,
    /// cpts_name, status) as GeoJSON, Shapefile, GeoPackage or GeoParquet. Repeatable.
    #[arg(long, value_name = "FILE")]
    pub(crate) cpts: Vec<PathBuf>,
    /// Population table: CSV code,population, plain or .gz (overrides the layer's).
    #[arg(long, value_name = "FILE")]
    pub(crate) population: Option<PathBuf>,
    /// Study-area outline (GeoJSON polygons): only the communes with at least half
    /// their area inside are analysed. Default: every commune of --communes.
    #[arg(long, value_name = "FILE")]
    pub(crate) area: Option<PathBuf>,
    /// Sheet to read in .xlsx/.xls/.ods declaration and population workbooks
    /// (default: the first).
    #[arg(long, value_name = "NAME")]
    pub(crate) sheet: Option<String>,
    /// Name the columns when guessing fails: canonical=header pairs, e.g.
    /// --columns 'cpts_id=N° CPTS' --columns commune_code=INSEE. Canonical names:
    /// cpts_id, cpts_name, commune_code, status, code, population.
    #[arg(long, value_name = "NAME=HEADER")]
    pub(crate) columns: Vec<String>,
    /// Output folder.
    #[arg(long, value_name = "DIR")]
    pub(crate) out: Option<PathBuf>,
    /// What to write besides GeoJSON and summary.json, comma-separated: csv,
    /// parquet (the tables), gpkg (maillage.gpkg: every layer and table, styled for
    /// QGIS), geoparquet (GeoParquet layers, tables in Parquet); both = csv,parquet;
    /// all = everything.
    #[arg(
        long,
        value_name = "LIST",
        value_enum,
        value_delimiter = ',',
        ignore_case = true,
        default_value = "csv"
    )]
    pub(crate) format: Vec<FormatChoice>,
    /// Property of the commune layer holding the INSEE code (default: code, INSEE_COM, insee_com, code_insee, codgeo, CODGEO).
    #[arg(long, value_name = "NAME")]
    pub(crate) code_field: Option<String>,
    /// Property holding the commune name (default: nom, NOM, name, nom_officiel, NOM_COM, libgeo, LIBGEO).
    #[arg(long, value_name = "NAME")]
    pub(crate) name_field: Option<String>,
    /// Property holding a population (default: POPULATION, population).
    #[arg(long, value_name = "NAME")]
    pub(crate) population_field: Option<String>,
    /// Sliver tolerance for drawn territories, km²: gap and overlap pieces smaller
    /// than this are digitising noise, counted apart (slivers.geojson).
    #[arg(long, value_name = "KM2", default_value_t = maillage::DEFAULT_MIN_AREA_KM2)]
    pub(crate) min_area: f64,
    /// Also look for commune rings that cross or touch themselves (reported as
    /// self_intersecting_ring; about 0.25 s of CPU for all of France).
    #[arg(long)]
    pub(crate) check_rings: bool,
    /// Worker threads (default: all cores). Output does not depend on it.
    #[arg(long, value_name = "N")]
    pub(crate) threads: Option<usize>,
    /// Diagnostics shown in the terminal (all are in summary.json).
    #[arg(long, value_name = "N", default_value_t = 12)]
    pub(crate) max_diagnostics: usize,
    /// Refuse inputs that needed any normalisation or have any problem (every
    /// diagnostic but how files were read): print them and exit with status 2,
    /// writing nothing.
    #[arg(long)]
    pub(crate) strict: bool,
    /// Print nothing but errors (and no progress line: that one is shown only
    /// when stderr is a terminal).
    #[arg(long, short)]
    pub(crate) quiet: bool,
    /// Print the wall time of each stage to stderr.
    #[arg(long)]
    pub(crate) timings: bool,
    /// Language of what people read — diagnostics, reasons, the terminal
    /// summary: fr (default) or en. Column names and JSON keys stay the same.
    #[arg(long, value_enum, default_value_t = LangChoice::Fr)]
    pub(crate) lang: LangChoice,
}

/// `--lang`.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum LangChoice {
    Fr,
    En,
}

impl Opts {
    /// The language chosen.
    pub(crate) fn lang(&self) -> Lang {
        match self.lang {
            LangChoice::Fr => Lang::Fr,
            LangChoice::En => Lang::En,
        }
    }
}

/// « 17 fichiers écrits dans out » / "wrote 17 files to out".
pub(crate) fn written(lang: Lang, files: usize, dir: &std::path::Path) -> String {
    match lang {
        Lang::Fr => format!(
            "{} écrits dans {}",
            lang.count(files as u64, "fichier", "fichiers"),
            dir.display()
        ),
        Lang::En => format!(
            "wrote {} to {}",
            lang.count(files as u64, "file", "files"),
            dir.display()
        ),
    }
}

/// The report's options: the map's date and width, `title`, every diagnostic
/// up to 500.
pub(crate) fn report_options(map: &MapOptions, title: Option<String>) -> ReportOptions {
    ReportOptions {
        title,
        date: map.date.clone(),
        max_diagnostics: 500,
        width: map.width,
        color_by: map.color_by,
    }
}

/// The map options from the flags, checked before any work.
pub(crate) fn map_options(draw: &Draw) -> anyhow::Result<MapOptions> {
    let breaks = draw.breaks.breaks();
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
        Some(d) => match chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d") {
            // chrono also takes 26-2-1 (the year 26): the form is checked too
            Ok(day) if d.len() == 10 => day.format("%Y-%m-%d").to_string(),
            Ok(_) => anyhow::bail!("--date {d:?}: expected a date as YYYY-MM-DD"),
            Err(e) => anyhow::bail!("--date {d:?}: expected a date as YYYY-MM-DD ({e})"),
        },
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
pub(crate) fn today() -> String {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64)
        });
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string()
}

/// Worker threads, and the progress line on a terminal.
pub(crate) fn setup(opts: &Opts) -> anyhow::Result<(Arc<Progress>, Option<ProgressLine>)> {
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
pub(crate) fn inputs(opts: &Opts, progress: &Arc<Progress>) -> anyhow::Result<Inputs> {
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
        check_rings: opts.check_rings,
        area: opts
            .area
            .as_deref()
            .map(maillage::Source::from_path)
            .transpose()?,
        ..base
    })
}

/// With --strict, the problems found, and an error: nothing is written.
pub(crate) fn strict(opts: &Opts, diagnostics: &[maillage::Diagnostic]) -> anyhow::Result<()> {
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
pub(crate) fn formats(
    list: &[FormatChoice],
    date: &str,
) -> anyhow::Result<maillage::export::Formats> {
    let (mut csv, mut parquet, mut gpkg, mut geoparquet) = (false, false, false, false);
    for f in list {
        match f {
            FormatChoice::Csv => csv = true,
            FormatChoice::Parquet => parquet = true,
            FormatChoice::Both => (csv, parquet) = (true, true),
            FormatChoice::Gpkg => gpkg = true,
            FormatChoice::Geoparquet => geoparquet = true,
            FormatChoice::All => (csv, parquet, gpkg, geoparquet) = (true, true, true, true),
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
pub(crate) fn table_format(list: &[FormatChoice]) -> anyhow::Result<TableFormat> {
    let f = formats(list, "")?;
    if f.gpkg || f.geoparquet {
        anyhow::bail!("--format: this command writes tables only: csv, parquet or both");
    }
    Ok(f.tables)
}

/// When the process started, for `--timings`' total.
pub(crate) static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

pub(crate) fn print_timings(opts: &Opts, analysis: &Analysis) {
    print_timings_with(opts, analysis, None);
}

/// Each stage's wall time, then `other` (argument parsing, printing, whatever
/// no stage covers) and the `total` since the process started. `read` is the
/// time reading and gunzipping the input files took.
pub(crate) fn print_timings_with(
    opts: &Opts,
    analysis: &Analysis,
    read: Option<std::time::Duration>,
) {
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

/// An EPSG code from `EPSG:2154` or `2154`, checked to be one maillage knows.
pub(crate) fn epsg(flag: &str, text: &str) -> anyhow::Result<u32> {
    let t = text.trim();
    let digits = t
        .strip_prefix("EPSG:")
        .or_else(|| t.strip_prefix("epsg:"))
        .unwrap_or(t);
    let code: u32 = digits
        .parse()
        .map_err(|_| anyhow::anyhow!("{flag} {text:?}: expected EPSG:CODE, e.g. EPSG:2154"))?;
    maillage::geometry::Crs::from_epsg(code).map_err(|e| anyhow::anyhow!("{flag}: {e}"))?;
    Ok(code)
}

/// A line on stderr, redrawn five times a second, saying what the run is doing;
/// erased when dropped.
pub(crate) struct ProgressLine {
    pub(crate) done: Arc<AtomicBool>,
    pub(crate) thread: Option<std::thread::JoinHandle<()>>,
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
