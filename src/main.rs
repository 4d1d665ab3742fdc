//! The `maillage` command: parses arguments, calls the library, prints. One file
//! per subcommand in `cmd/` (`analyze.rs` also serves `check` and `map`,
//! `candidate.rs` is `check --candidate`); what they share (the options, the
//! inputs, the progress line) is `cmd/mod.rs`.
//! Exit status: 0 done; 1 from `check` when the one-CPTS-per-territory rule is
//! broken; 2 for bad usage or unreadable input.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{Parser, Subcommand};

/// Prints to stdout. Once stdout is closed (`maillage check … | head` after
/// head has read enough), prints nothing more and the run goes on: its files are
/// still written and its exit status is still the verdict's; no panic, no
/// backtrace. (Rust ignores SIGPIPE, so the closed pipe shows as a write error.)
macro_rules! say {
    ($($t:tt)*) => { $crate::say_fmt(format_args!($($t)*)) };
}

/// `say!` and a line end.
macro_rules! sayln {
    ($($t:tt)*) => {{ $crate::say_fmt(format_args!($($t)*)); $crate::say_fmt(format_args!("\n")) }};
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

mod cmd;

use cmd::{AccessArgs, Draw, Opts, ProposeArgs};

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

fn main() -> ExitCode {
    cmd::START.get_or_init(std::time::Instant::now);
    limit_malloc_arenas();
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
/// glibc gives each thread that allocates its own arena, up to 8 per core, and
/// keeps their freed pages: with polars' and rayon's threads a national run held
/// 10–15 % more memory than it used (the Parquet matrix run 393–435 MB, 368–372 MB
/// with one arena per core, measured side by side, no slower). One arena per
/// core, unless `MALLOC_ARENA_MAX` says otherwise.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
        let arenas = libc::c_int::try_from(cores).unwrap_or(libc::c_int::MAX);
        // SAFETY: mallopt only sets an allocator parameter; called before any
        // thread is spawned
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, arenas);
        }
    }
}

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

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Analyze { opts, draw } => {
            cmd::analyze::run(opts, draw, cmd::analyze::Mode::Analyze)
        }
        Command::Check {
            opts,
            draw,
            candidate,
        } if !candidate.is_empty() => cmd::candidate::run(opts, draw, &candidate),
        Command::Check { opts, draw, .. } => {
            cmd::analyze::run(opts, draw, cmd::analyze::Mode::Check)
        }
        Command::Propose {
            opts,
            propose: args,
            draw,
        } => cmd::propose::run(opts, args, draw),
        Command::Map { opts, draw } => cmd::analyze::run(opts, draw, cmd::analyze::Mode::Map),
        Command::Access {
            opts,
            access: args,
            draw,
        } => cmd::access::run(opts, *args, draw),
    }
}
