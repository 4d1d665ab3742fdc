//! Issue 24: the report as the planner's workspace, driven in a real browser
//! (Debian's headless Chromium through playwright-core, `tests/browser/`),
//! opened from disk with every request refused. Without node, playwright-core
//! or Chromium these tests say so and pass, unless MAILLAGE_REQUIRE_BROWSER is
//! set (`.ci/run` and `tests/run.sh` set it). Screenshots and PDFs are kept in
//! `target/test-artefacts/`.

use super::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// True when the browser tests can run here (else they are skipped, or fail
/// under MAILLAGE_REQUIRE_BROWSER).
pub(crate) fn browser_ready() -> bool {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let ready = root
        .join("tests/browser/node_modules/playwright-core")
        .exists()
        && ["/usr/bin/chromium-headless-shell", "/usr/bin/chromium"]
            .iter()
            .any(|p| std::path::Path::new(p).exists())
        && std::process::Command::new("node")
            .arg("--version")
            .output()
            .is_ok();
    if !ready {
        assert!(
            std::env::var_os("MAILLAGE_REQUIRE_BROWSER").is_none(),
            "MAILLAGE_REQUIRE_BROWSER is set but node, playwright-core (npm ci in tests/browser) or Chromium is missing"
        );
        eprintln!("skipped: no browser here (bash tests/run.sh installs one)");
    }
    ready
}

/// Runs `tests/browser/workspace.mjs MODE REPORT ARTEFACTS [extra]` and parses
/// what it printed; asserts no console error and no request off the file.
fn drive(mode: &str, report: &Path, extra: &[&str]) -> (Value, PathBuf) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let artefacts = root.join("target/test-artefacts").join(mode);
    std::fs::create_dir_all(&artefacts).unwrap();
    let run = std::process::Command::new("node")
        .arg(root.join("tests/browser/workspace.mjs"))
        .arg(mode)
        .arg(report)
        .arg(&artefacts)
        .args(extra)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&run.stdout);
    let seen: Value = serde_json::from_str(text.trim())
        .unwrap_or_else(|e| panic!("{e}: {text} {}", String::from_utf8_lossy(&run.stderr)));
    assert_eq!(seen["errors"], serde_json::json!([]), "errors: {seen}");
    assert_eq!(
        seen["refused"],
        serde_json::json!([]),
        "requests to other hosts"
    );
    for url in seen["requests"].as_array().unwrap() {
        let url = url.as_str().unwrap();
        assert!(
            ["file://", "data:", "blob:"]
                .iter()
                .any(|s| url.starts_with(s)),
            "{url}"
        );
    }
    assert_eq!(seen["ready"], "1");
    (seen, artefacts)
}

fn u(v: &Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} missing in {v}"))
}

/// The four figures the rule is about, as the page gives them.
fn rule_figures(v: &Value) -> [u64; 4] {
    [
        u(v, "communes_white"),
        u(v, "population_white"),
        u(v, "communes_overlap"),
        u(v, "population_overlap"),
    ]
}

/// Vertices of each feature of a GeoJSON layer, as written (closing points
/// included), by `code`.
fn input_vertices(path: &Path) -> BTreeMap<String, usize> {
    let text = {
        use std::io::Read;
        let mut s = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
            .read_to_string(&mut s)
            .unwrap();
        s
    };
    let v: Value = serde_json::from_str(&text).unwrap();
    fn count(c: &Value) -> usize {
        match c.as_array() {
            Some(a) if a.first().is_some_and(Value::is_number) => 1,
            Some(a) => a.iter().map(count).sum(),
            None => 0,
        }
    }
    v["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["properties"]["code"].as_str().unwrap().to_owned(),
                count(&f["geometry"]["coordinates"]),
            )
        })
        .collect()
}

#[test]
fn the_workspace_searches_paints_undoes_keeps_and_prints_offline() {
    if !browser_ready() {
        return;
    }
    let dir = Dir::new();
    let o = maillage(
        dir.path(),
        &[
            "analyze",
            "--report",
            "--quiet",
            "--out",
            "out",
            "--date",
            "2026-01-01",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report = dir.path().join("out/report.html");
    assert!(
        std::fs::metadata(&report).unwrap().len() < 1_000_000,
        "the demo report stays under 1 MB"
    );
    // two neighbouring communes of a zone blanche, and a CPTS beside the first
    let a = Analysis::run(&Inputs::demo()).unwrap();
    let communes = &a.communes;
    let (first, second, target) = a
        .coverage
        .white_zones
        .iter()
        .find_map(|z| {
            z.members.iter().find_map(|&i| {
                let j = a
                    .adjacency
                    .neighbours(i)
                    .iter()
                    .copied()
                    .find(|j| z.members.contains(j))?;
                let k = a
                    .adjacency
                    .neighbours(i)
                    .iter()
                    .find_map(|&n| a.coverage.claimants[n as usize].first().copied())?;
                Some((i, j, k))
            })
        })
        .expect("a zone blanche of two communes beside a CPTS");
    let (code_a, code_b) = (
        communes.get(first).code.clone(),
        communes.get(second).code.clone(),
    );
    let target_id = a.declarations.cpts[target as usize].id.clone();
    let paint = serde_json::to_string(&[&code_a, &code_b, &target_id]).unwrap();
    let (seen, _) = drive("analyze", &report, &[&paint]);

    // the page's figures are the analysis's
    let s = &a.summary;
    assert_eq!(
        rule_figures(&seen["figures"]),
        [
            s.communes_white,
            s.population_white,
            s.communes_overlap,
            s.population_overlap
        ]
    );
    for (c, t) in a.declarations.cpts.iter().zip(&a.coverage.territories) {
        let p = &seen["figures"]["cpts"][&c.id];
        if t.members.is_empty() {
            assert!(p.is_null(), "{}", c.id);
            continue;
        }
        assert_eq!(u(p, "communes"), t.members.len() as u64, "{}", c.id);
        assert_eq!(u(p, "population"), t.population, "{}", c.id);
        assert_eq!(u(p, "size_class"), u64::from(t.size_class), "{}", c.id);
        assert_eq!(u(p, "parts"), t.parts.len() as u64, "{}", c.id);
    }
    assert_eq!(
        seen["labels"].as_u64().unwrap(),
        a.coverage
            .territories
            .iter()
            .filter(|t| !t.members.is_empty())
            .count() as u64,
        "one name per territory"
    );

    // search: the name with its article, a code, a CPTS id, a zone number
    assert_eq!(
        seen["searchMees"][0]["code"], "04116",
        "{}",
        seen["searchMees"]
    );
    assert_eq!(seen["searchMees"][0]["label"], "Les Mées (04116)");
    assert_eq!(seen["searchCode"][0]["code"], "13055");
    assert_eq!(seen["searchCpts"][0]["id"], "CPTS-93-012");
    assert_eq!(
        seen["searchZone"][0]["kind"], "zone",
        "{}",
        seen["searchZone"]
    );
    assert!(seen["detailsAfterSearch"]
        .as_str()
        .unwrap()
        .contains("Marseille (13055)"));
    let tip = seen["tooltip"].as_str().unwrap();
    for part in [
        "Marseille (13055)",
        "886\u{202F}040 hab.",
        "CPTS Marseille (CPTS-93-012)",
        "classe ACI 4",
    ] {
        assert!(tip.contains(part), "hover shows {part:?}: {tip}");
    }
    assert!(seen["detailsAfterClick"]
        .as_str()
        .unwrap()
        .contains("Marseille (13055)"));
    // the keyboard: + zooms the focused map, Enter picks the commune at its centre
    assert_eq!(seen["keyZoomed"], true, "{}", seen["focusAfterTab"]);
    assert!(seen["detailsAfterEnter"]
        .as_str()
        .unwrap()
        .contains("Marseille (13055)"));
    let c0 = &a.declarations.cpts[0];
    let row = seen["detailsAfterRow"].as_str().unwrap();
    assert!(row.contains(&format!("{} ({})", c0.name, c0.id)), "{row}");

    // painting two communes with the mouse gives them to the CPTS, only to it
    let before = &seen["before"];
    let after = &seen["afterPaint"];
    let pop = communes.population[first as usize] + communes.population[second as usize];
    assert_eq!(
        u(after, "communes_white"),
        u(before, "communes_white") - 2,
        "{after}"
    );
    assert_eq!(
        u(after, "population_white"),
        u(before, "population_white") - pop
    );
    let (t0, t1) = (&before["cpts"][&target_id], &after["cpts"][&target_id]);
    assert_eq!(u(t1, "communes"), u(t0, "communes") + 2);
    assert_eq!(u(t1, "population"), u(t0, "population") + pop);
    assert_eq!(
        u(t1, "size_class"),
        u64::from(maillage::coverage::size_class(u(t1, "population")))
    );
    let csv = seen["csvAfterPaint"].as_str().unwrap();
    assert!(csv.starts_with("cpts_id,cpts_name,commune_code,status\n"));
    for code in [&code_a, &code_b] {
        let rows: Vec<&str> = csv
            .lines()
            .filter(|l| l.contains(&format!(",{code},")))
            .collect();
        assert_eq!(rows.len(), 1, "{code} in one CPTS: {rows:?}");
        assert!(rows[0].starts_with(&format!("{target_id},")), "{rows:?}");
    }
    let log = seen["logAfterPaint"].as_str().unwrap();
    assert_eq!(log.lines().count(), 3, "{log}");
    assert!(
        log.lines()
            .skip(1)
            .all(|l| l.contains(&target_id) && l.ends_with(",pinceau")),
        "{log}"
    );
    assert!(seen["live"].as_str().unwrap().contains("Zone blanche"));
    // Shift + drag paints a rectangle in one step, undone in one
    let (r0, r1) = (&seen["beforeRectangle"], &seen["afterRectangle"]);
    assert!(
        u(&r1["cpts"][&target_id], "communes") > u(&r0["cpts"][&target_id], "communes"),
        "the rectangle gave communes to {target_id}"
    );
    assert!(seen["logAfterRectangle"]
        .as_str()
        .unwrap()
        .contains(",rectangle"));
    assert_eq!(seen["afterRectangleUndo"], seen["beforeRectangle"]);
    // undo, redo, reload, reset
    assert_eq!(seen["afterUndo"], seen["before"]);
    assert_eq!(seen["afterRedo"], seen["afterPaint"]);
    assert_eq!(
        seen["afterReload"], seen["afterPaint"],
        "the session survives a reload"
    );
    assert_eq!(
        seen["afterReset"], seen["figures"],
        "reset goes back to the analysis"
    );
    // the API: an unknown id starts a CPTS; null makes the commune white
    let marseille = communes.index_of("13055").unwrap();
    let new = &seen["afterAssignNew"]["cpts"]["NOUVELLE-TEST"];
    assert_eq!(u(new, "communes"), 1);
    assert_eq!(
        u(new, "population"),
        communes.population[marseille as usize]
    );
    assert_eq!(
        u(&seen["afterAssignNew"]["cpts"]["CPTS-93-012"], "communes"),
        u(&seen["figures"]["cpts"]["CPTS-93-012"], "communes") - 1,
        "the commune leaves its CPTS"
    );
    assert_eq!(
        u(&seen["afterAssignNull"], "communes_white"),
        s.communes_white + 1
    );

    // zoomed in, a commune is drawn with every vertex of the input
    let input = input_vertices(&fixture("paca/communes.geojson.gz"));
    for (code, n) in seen["vertices"].as_object().unwrap() {
        assert_eq!(n.as_u64().unwrap() as usize, input[code], "{code}");
    }

    // printed, every row of every table is laid out, none in a scroll box
    let tables = seen["print"].as_array().unwrap();
    assert_eq!(tables.len(), 5, "{tables:?}");
    for t in tables {
        assert_eq!(t["shown"], t["rows"], "{t}");
        assert_eq!(t["clipped"], false, "{t}");
    }
    assert!(seen["pdfA4"].as_u64().unwrap() >= 2, "{}", seen["pdfA4"]);
    assert!(seen["pdfA3"].as_u64().unwrap() >= 1);
}

#[test]
fn a_proposal_accepted_in_the_page_gives_proposes_figures_and_checks_the_same() {
    if !browser_ready() {
        return;
    }
    let dir = Dir::new();
    let o = maillage(
        dir.path(),
        &[
            "propose",
            "--report",
            "--quiet",
            "--out",
            "p",
            "--date",
            "2026-01-01",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let summary: Value = serde_json::from_str(&dir.read("p/summary.json")).unwrap();
    let (seen, artefacts) = drive("propose", &dir.path().join("p/report.html"), &[]);
    // the page opens on the region as it is, the proposal offered beside it
    assert_eq!(
        rule_figures(&seen["figures"]),
        rule_figures(&summary["before"])
    );
    let proposals = dir.read("p/proposals.csv");
    let offered =
        proposals.lines().skip(1).count() - summary["unresolved"].as_array().unwrap().len();
    assert_eq!(seen["suggestions"].as_array().unwrap().len(), offered);
    // one accepted with its button: one commune fewer to settle, undone
    let one = &seen["afterOne"];
    assert_eq!(
        u(one, "communes_white") + u(one, "communes_overlap") + 1,
        u(&seen["figures"], "communes_white") + u(&seen["figures"], "communes_overlap")
    );
    assert_eq!(seen["stateOne"], "accepted");
    assert_eq!(seen["afterUndoOne"], seen["figures"]);
    // every move through window.maillage gives propose's figures
    let all = &seen["afterAll"];
    assert_eq!(rule_figures(all), rule_figures(&summary["after"]));
    assert_eq!(u(all, "cpts_count"), u(&summary["after"], "cpts"));
    assert_eq!(
        u(all, "cpts_non_contiguous"),
        u(&summary["after"], "cpts_non_contiguous")
    );
    assert_eq!(u(all, "epci_split"), u(&summary["after"], "epci_split"));
    assert_eq!(seen["afterAcceptAll"], seen["afterAll"]);
    // and the declarations the page exports say the same through maillage check
    let exported = artefacts.join("declarations-from-page.csv");
    let o = maillage(
        dir.path(),
        &[
            "analyze",
            "--communes",
            fixture("paca/communes.geojson.gz").to_str().unwrap(),
            "--population",
            fixture("paca/population.csv").to_str().unwrap(),
            "--cpts",
            exported.to_str().unwrap(),
            "--quiet",
            "--out",
            "c",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let checked: Value = serde_json::from_str(&dir.read("c/summary.json")).unwrap();
    assert_eq!(rule_figures(&checked), rule_figures(all));
    assert_eq!(u(&checked, "cpts_count"), u(all, "cpts_count"));
    // the exported declarations hold what propose's declarations.csv holds
    let rows = |text: &str| -> std::collections::BTreeSet<(String, String)> {
        text.lines()
            .skip(1)
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                (f[0].to_owned(), f[f.len() - 2].to_owned())
            })
            .collect()
    };
    assert_eq!(
        rows(&std::fs::read_to_string(&exported).unwrap()),
        rows(&dir.read("p/declarations.csv"))
    );
}

/// The national tier: the national report, offline, ready and searchable, and
/// propose's national moves applied through `window.maillage` give propose's
/// figures, CPTS by CPTS as maillage analyses the declarations it exports.
#[test]
#[ignore = "national tier: reads ../shared/data (bash tests/run.sh --national)"]
fn national_report_is_searchable_and_its_moves_give_proposes_figures() {
    let layer = national_layer();
    if !browser_ready() {
        return;
    }
    let dir = Dir::new();
    let o = maillage(
        dir.path(),
        &[
            "propose",
            "--communes",
            layer.to_str().unwrap(),
            "--cpts",
            fixture("national/declarations.csv.gz").to_str().unwrap(),
            "--population",
            fixture("national/population.csv.gz").to_str().unwrap(),
            "--report",
            "--quiet",
            "--out",
            "p",
            "--date",
            "2026-12-01",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report = dir.path().join("p/report.html");
    let size = std::fs::metadata(&report).unwrap().len();
    assert!(size <= 8_000_000, "national report of {size} bytes");
    let summary: Value = serde_json::from_str(&dir.read("p/summary.json")).unwrap();
    let (seen, artefacts) = drive("propose", &report, &[]);
    let first = &seen["suggestions"][0];
    assert_eq!(seen["searchFirst"][0]["code"], first["code"]);
    assert_eq!(
        seen["searchTarget"][0]["id"], first["cpts_id"],
        "{}",
        seen["searchTarget"]
    );
    for (side, figures) in [("before", &seen["figures"]), ("after", &seen["afterAll"])] {
        let s = &summary[side];
        assert_eq!(rule_figures(figures), rule_figures(s), "{side}");
        assert_eq!(u(figures, "cpts_count"), u(s, "cpts"), "{side}");
        assert_eq!(
            u(figures, "cpts_non_contiguous"),
            u(s, "cpts_non_contiguous"),
            "{side}"
        );
        assert_eq!(u(figures, "epci_split"), u(s, "epci_split"), "{side}");
    }
    assert_eq!(seen["afterAcceptAll"], seen["afterAll"]);
    // CPTS by CPTS, the page agrees with maillage on what it exports
    let exported = artefacts.join("declarations-from-page.csv");
    let inputs = Inputs::from_paths(
        &layer,
        &[&exported],
        Some(&fixture("national/population.csv.gz")),
        maillage::FieldNames::default(),
    )
    .unwrap();
    let a = Analysis::run(&inputs).unwrap();
    assert_eq!(
        rule_figures(&seen["afterAll"]),
        [
            a.summary.communes_white,
            a.summary.population_white,
            a.summary.communes_overlap,
            a.summary.population_overlap
        ]
    );
    for (c, t) in a.declarations.cpts.iter().zip(&a.coverage.territories) {
        let p = &seen["afterAll"]["cpts"][&c.id];
        assert_eq!(u(p, "communes"), t.members.len() as u64, "{}", c.id);
        assert_eq!(u(p, "population"), t.population, "{}", c.id);
        assert_eq!(u(p, "parts"), t.parts.len() as u64, "{}", c.id);
    }
}
