//! `analyze`, `check` and `map`: the coverage, its files, its map and report.

use std::path::PathBuf;
use std::process::ExitCode;

use maillage::export::Staging;
use maillage::render::Renderer;
use maillage::Analysis;

use super::*;

#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Mode {
    Analyze,
    Check,
    Map,
}

/// `analyze`, `check` and `map`.
pub(crate) fn run(opts: Opts, draw: Draw, mode: Mode) -> anyhow::Result<ExitCode> {
    let check = mode == Mode::Check;
    let map_options = map_options(&draw)?;
    let formats = formats(
        &opts.format,
        map_options.date.as_deref().unwrap_or("1970-01-01"),
    )?;
    if opts.communes.is_some() && opts.cpts.is_empty() {
        anyhow::bail!("--communes needs --cpts (the declarations to check)");
    }
    // options this command cannot honour are refused, not ignored
    if mode == Mode::Map && !opts.csv_only() {
        anyhow::bail!(
            "--format: map writes map.svg and map.png only; use analyze for tables and layers"
        );
    }
    if check && opts.out.is_none() && (draw.map || draw.report) {
        anyhow::bail!("--map and --report write files: give check an --out folder");
    }
    let (progress, display) = setup(&opts)?;
    let t = std::time::Instant::now();
    let inputs = inputs(&opts, &progress)?;
    let read = t.elapsed();
    // the layer's text is freed once parsed
    let mut analysis = Analysis::run_owned(inputs)?;
    analysis.summary.set_lang(opts.lang());
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
                let report = report_options(&map_options, map_options.title.clone());
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
        say!("{}", analysis.report_in(opts.lang(), opts.max_diagnostics));
        if let Some(dir) = &out {
            sayln!("\n{}", written(opts.lang(), files.len(), dir));
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
