//! `check --candidate`: what new CPTS would change.

use std::path::PathBuf;
use std::process::ExitCode;

use maillage::export::Staging;
use maillage::render::Renderer;
use maillage::Analysis;

use super::*;

/// `check --candidate`.
pub(crate) fn run(opts: Opts, draw: Draw, files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    use maillage::propose::candidate::CandidateReport;
    let map_options = map_options(&draw)?;
    // options check --candidate cannot honour are refused, not ignored
    if draw.report {
        anyhow::bail!("--report: check --candidate writes candidate.json and, with --map, the map; run analyze --report on the merged declarations for a report");
    }
    if !opts.csv_only() {
        anyhow::bail!("--format: check --candidate writes candidate.json only");
    }
    if opts.out.is_none() && draw.map {
        anyhow::bail!("--map writes files: give check --candidate an --out folder");
    }
    let (progress, display) = setup(&opts)?;
    let inputs = inputs(&opts, &progress)?;
    let before = Analysis::run(&inputs)?;
    progress.start("the candidate against the others", 0);
    let sources = files
        .iter()
        .map(maillage::Source::from_path)
        .collect::<maillage::Result<Vec<_>>>()?;
    let (after, ids) = maillage::propose::candidate::with_candidates(
        &before,
        &sources,
        &inputs.tables,
        inputs.min_area_km2,
    )?;
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
    let own: Vec<maillage::Diagnostic> = own.into_iter().map(|d| d.in_lang(opts.lang())).collect();
    let report = CandidateReport::compute(&before, &after, &ids).in_lang(opts.lang());
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
    let wrote = match &opts.out {
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
        say!("{}", report.text_in(opts.lang()));
        for d in own.iter().take(opts.max_diagnostics) {
            sayln!("  [{}] {}", d.kind.name(), d.message);
        }
        if let Some((dir, files)) = wrote {
            sayln!("\n{}", written(opts.lang(), files.len(), &dir));
        }
    }
    print_timings(&opts, &before);
    Ok(if report.problems {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
