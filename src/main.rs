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
    /// Writes files only when --out is given.
    Check {
        #[command(flatten)]
        opts: Opts,
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
    #[arg(long, value_name = "FILE", requires = "cpts")]
    communes: Option<PathBuf>,
    /// CRS of the commune layer when the file does not say (or says wrongly):
    /// EPSG:2154 for Lambert-93, 5490, 2972, 2975, 4471 overseas…
    #[arg(long, value_name = "EPSG:CODE")]
    crs: Option<String>,
    /// CPTS declarations: commune lists (CSV cpts_id,cpts_name,commune_code[,status],
    /// plain or .gz, or .xlsx/.xls/.ods) and/or drawn territories (cpts_id,
    /// cpts_name, status) as GeoJSON, Shapefile, GeoPackage or GeoParquet. Repeatable.
    #[arg(long, value_name = "FILE", requires = "communes")]
    cpts: Vec<PathBuf>,
    /// Population table: CSV code,population, plain or .gz (overrides the layer's).
    #[arg(long, value_name = "FILE", requires = "communes")]
    population: Option<PathBuf>,
    /// Study-area outline (GeoJSON polygons): only the communes with at least half
    /// their area inside are analysed. Default: every commune of --communes.
    #[arg(long, value_name = "FILE", requires = "communes")]
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
    /// Table format.
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    format: Format,
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

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Csv,
    Parquet,
    Both,
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
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("maillage: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Analyze,
    Check,
    Map,
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let (opts, draw, mode) = match cli.command {
        Command::Analyze { opts, draw } => (opts, draw, Mode::Analyze),
        Command::Check { opts, draw } => (opts, draw, Mode::Check),
        Command::Map { opts, draw } => (opts, draw, Mode::Map),
    };
    let check = mode == Mode::Check;
    let map_options = map_options(&draw)?;
    if let Some(n) = opts.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()
            .context("setting up worker threads")?;
    }
    let inputs = match (&opts.communes, opts.cpts.as_slice()) {
        (Some(c), d) if !d.is_empty() => {
            let fields = FieldNames {
                code: opts.code_field.clone(),
                name: opts.name_field.clone(),
                population: opts.population_field.clone(),
                crs: opts.crs.clone(),
            };
            let d: Vec<&std::path::Path> = d.iter().map(|p| p.as_path()).collect();
            Inputs::from_paths(c, &d, opts.population.as_deref(), fields)?
        }
        _ => Inputs::demo(),
    };
    if !(opts.min_area >= 0.0 && opts.min_area.is_finite()) {
        anyhow::bail!(
            "--min-area must be a number of km² ≥ 0, got {}",
            opts.min_area
        );
    }
    let mut columns = Vec::new();
    for c in &opts.columns {
        let Some((k, v)) = c.split_once('=') else {
            anyhow::bail!("--columns {c:?}: expected NAME=HEADER, e.g. commune_code=INSEE");
        };
        const NAMES: [&str; 6] = [
            "cpts_id",
            "cpts_name",
            "commune_code",
            "status",
            "code",
            "population",
        ];
        if !NAMES.contains(&k.trim()) {
            anyhow::bail!("--columns {c:?}: {k:?} is not one of {}", NAMES.join(", "));
        }
        columns.push((k.trim().to_owned(), v.to_owned()));
    }
    // progress on stderr when it is a terminal (batch logs stay clean)
    let progress = Arc::new(Progress::default());
    let _display = (!opts.quiet && std::io::stderr().is_terminal())
        .then(|| ProgressLine::start(Arc::clone(&progress)));
    let inputs = Inputs {
        progress: Some(Arc::clone(&progress)),
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
        ..inputs
    };
    let analysis = Analysis::run(&inputs)?;
    if opts.strict {
        let problems: Vec<&maillage::Diagnostic> = analysis
            .summary
            .diagnostics
            .iter()
            .filter(|d| d.kind.is_problem())
            .collect();
        if !problems.is_empty() {
            for d in &problems {
                eprintln!("  [{}] {}", d.kind.name(), d.message);
            }
            anyhow::bail!(
                "--strict: {} diagnostic(s) above; nothing written",
                problems.len()
            );
        }
    }
    let out = match (&opts.out, check) {
        (Some(dir), _) => Some(dir.clone()),
        (None, false) => Some(PathBuf::from("maillage-out")),
        (None, true) => None,
    };
    let format = match opts.format {
        Format::Csv => TableFormat::Csv,
        Format::Parquet => TableFormat::Parquet,
        Format::Both => TableFormat::Both,
    };
    let files = match &out {
        Some(dir) => {
            // every output of the run lands together, or none does
            let mut staging = Staging::new(dir)?;
            if mode != Mode::Map {
                progress.start("writing the tables and layers", 0);
                maillage::export::stage_all(&mut staging, &analysis, format)?;
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
                    &mut staging,
                    map.then_some(&map_options),
                    draw.report.then_some(&report),
                )?;
            }
            staging.commit()?
        }
        None => Vec::new(),
    };
    drop(_display);
    if !opts.quiet {
        print!("{}", analysis.report(opts.max_diagnostics));
        if let Some(dir) = &out {
            println!("\nwrote {} files to {}", files.len(), dir.display());
        }
    }
    if opts.timings {
        for (stage, d) in &analysis.timings.stages() {
            eprintln!("{stage:>12}: {:8.1} ms", d.as_secs_f64() * 1e3);
        }
    }
    Ok(if check && !analysis.summary.rule_holds() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
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
