//! `propose`: how to close the zones blanches and end the chevauchements.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, ValueEnum};
use maillage::export::Staging;
use maillage::render::Renderer;
use maillage::{Analysis, TableFormat};

use super::*;

/// Fix proposals.
/// `--strategy`.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum StrategyChoice {
    Balanced,
    LongestBorder,
    MinPopulation,
    Epci,
}

#[derive(Args)]
pub(crate) struct ProposeArgs {
    /// How the CPTS a commune could go to are ranked: balanced (ACI class kept,
    /// then EPCI, département, border, population), longest-border (as GEOS),
    /// min-population or epci.
    #[arg(long, value_enum, default_value_t = StrategyChoice::Balanced)]
    pub(crate) strategy: StrategyChoice,
    /// Give each zone blanche whole to one neighbour, as GEOS's coverage cleaning
    /// does, instead of commune by commune from its border inwards.
    #[arg(long)]
    pub(crate) whole_clusters: bool,
    /// A zone blanche of at least this many inhabitants is proposed as new CPTS.
    #[arg(long, value_name = "POPULATION", default_value_t = maillage::propose::DEFAULT_NEW_CPTS_MIN)]
    pub(crate) new_cpts_min: u64,
}

/// `propose`.
pub(crate) fn run(opts: Opts, args: ProposeArgs, draw: Draw) -> anyhow::Result<ExitCode> {
    use maillage::propose::{Proposal, ProposeOptions};
    let strategy = match args.strategy {
        StrategyChoice::Balanced => maillage::propose::Strategy::Balanced,
        StrategyChoice::LongestBorder => maillage::propose::Strategy::LongestBorder,
        StrategyChoice::MinPopulation => maillage::propose::Strategy::MinPopulation,
        StrategyChoice::Epci => maillage::propose::Strategy::Epci,
    };
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
    let mut before = Analysis::run(&inputs)?;
    before.summary.set_lang(opts.lang());
    strict(&opts, &before.summary.diagnostics)?;
    progress.start("proposing", 0);
    let options = ProposeOptions {
        strategy,
        whole_clusters: args.whole_clusters,
        new_cpts_min: args.new_cpts_min,
        lang: opts.lang(),
    };
    let t = Instant::now();
    let proposal = Proposal::compute(&before, &options)?;
    before.timings.record("propose", t.elapsed());
    // the proposal analysed again: its figures, and its map
    let t = Instant::now();
    let mut after = proposal.apply(&before)?;
    after.summary.set_lang(opts.lang());
    before.timings.record("after", t.elapsed());
    let dir = opts
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("maillage-out"));
    let staging = Staging::new(&dir)?;
    proposal.stage(&staging, &before, &after)?;
    if draw.map || draw.report {
        // the map: the region after the proposal, what changes outlined; the
        // report: the region as it is, the proposal as suggestions to accept or
        // reject in its workspace; both titled as a proposal
        let renderer = Renderer::new(&after)?.with_highlights(proposal.highlights(&before));
        let mut map_options = map_options.clone();
        let title = format!(
            "Proposition — {}",
            map_options
                .title
                .clone()
                .unwrap_or_else(|| renderer.place())
        );
        map_options.title = Some(title.clone());
        if draw.map {
            renderer.stage(&staging, Some(&map_options), None)?;
        }
        if draw.report {
            let report = report_options(&map_options, Some(title));
            Renderer::new(&before)?
                .with_suggestions(proposal.suggestions(&before))
                .stage(&staging, None, Some(&report))?;
        }
    }
    let files = staging.commit()?;
    drop(display);
    if !opts.quiet {
        say!("{}", proposal.text(&before, &after, opts.max_diagnostics));
        say!("\n{}\n", written(opts.lang(), files.len(), &dir));
    }
    print_timings(&opts, &before);
    Ok(ExitCode::SUCCESS)
}
