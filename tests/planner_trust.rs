//! Issue 22: the planner's tools never mislead — no CPTS dissolved in silence,
//! new CPTS capped and within one région, empty inputs refused, a closed pipe
//! ending quietly, options a command cannot honour refused.

use super::*;
use maillage::propose::{Proposal, ProposeOptions, Target};

/// Squares in a row, west to east.
fn row(codes: &[&str]) -> String {
    collection(
        &codes
            .iter()
            .enumerate()
            .map(|(k, c)| square(c, 5.0 + 0.25 * k as f64, 45.0, 0.25))
            .collect::<Vec<_>>(),
    )
}

fn target(a: &Analysis, p: &Proposal, code: &str) -> Target {
    p.rows
        .iter()
        .find(|r| a.communes.get(r.commune).code == code)
        .map(|r| r.proposed)
        .unwrap()
}

#[test]
fn a_cpts_keeps_its_only_commune() {
    // A declares 01002 alone; B declares 01001 and 01002: 01002 stays A's
    // whatever the strategy would have preferred
    let g = row(&["01001", "01002", "01003"]);
    let a = analyse(
        &g,
        "cpts_id,cpts_name,commune_code,status\nA,Alpha,01002,aci_signe\nB,Beta,01001,projet\nB,Beta,01002,projet\nB,Beta,01003,projet\n",
    )
    .unwrap();
    for strategy in [
        maillage::propose::Strategy::Balanced,
        maillage::propose::Strategy::LongestBorder,
        maillage::propose::Strategy::Epci,
        maillage::propose::Strategy::MinPopulation,
    ] {
        let options = ProposeOptions {
            strategy,
            ..ProposeOptions::default()
        };
        let p = Proposal::compute(&a, &options).unwrap();
        assert_eq!(target(&a, &p, "01002"), Target::Cpts(0), "{strategy}");
        let row = p
            .rows
            .iter()
            .find(|r| r.proposed == Target::Cpts(0))
            .unwrap();
        assert!(row.flags.contains(&"sole_commune"), "{:?}", row.flags);
        assert!(row.reason.contains("seule commune de A"), "{}", row.reason);
        let after = p.apply(&a).unwrap();
        assert_eq!(after.summary.cpts_count, 2, "{strategy}: a CPTS vanished");
        assert_eq!(after.summary.communes_overlap, 0);
    }
}

#[test]
fn two_cpts_of_one_shared_commune_stay_unresolved_with_their_reason() {
    let g = row(&["01001", "01002"]);
    let a = analyse(
        &g,
        "cpts_id,cpts_name,commune_code,status\nA,Alpha,01001,aci_signe\nC,Gamma,01001,valide\nB,Beta,01002,projet\n",
    )
    .unwrap();
    let p = Proposal::compute(&a, &ProposeOptions::default()).unwrap();
    assert_eq!(target(&a, &p, "01001"), Target::Unresolved);
    assert_eq!(p.unresolved.len(), 1);
    let u = &p.unresolved[0];
    assert_eq!((u.kind, u.zone), ("chevauchement", None));
    assert!(
        u.reason.contains("seule commune de A et C") && u.reason.contains("à arbitrer"),
        "{}",
        u.reason
    );
    let after = p.apply(&a).unwrap();
    // both keep it: the chevauchement is still there, nobody vanished
    assert_eq!(after.summary.cpts_count, 3);
    assert_eq!(after.summary.communes_overlap, 1);
    let s = p.summary(&a, &after);
    assert_eq!((s.overlaps_resolved, s.overlaps_unresolved), (0, 1));
    assert!(s.cpts_emptied.is_empty());
    // and in English on request
    let en = Proposal::compute(
        &a,
        &ProposeOptions {
            lang: maillage::Lang::En,
            ..ProposeOptions::default()
        },
    )
    .unwrap();
    assert!(
        en.unresolved[0]
            .reason
            .contains("the only commune of A and C"),
        "{}",
        en.unresolved[0].reason
    );
}

#[test]
fn cpts_effect_lists_every_input_cpts() {
    let dir = Dir::new();
    dir.write("c.geojson", row(&["01001", "01002", "01003"]));
    dir.write(
        "d.csv",
        "cpts_id,cpts_name,commune_code,status\nA,Alpha,01002,aci_signe\nB,Beta,01001,projet\nB,Beta,01002,projet\n",
    );
    let o = maillage(
        dir.path(),
        &[
            "propose",
            "--communes",
            "c.geojson",
            "--cpts",
            "d.csv",
            "--out",
            "p",
            "--new-cpts-min",
            "1000000",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let effect = dir.read("p/cpts_effect.csv");
    let lines: Vec<&str> = effect.lines().collect();
    assert!(lines[0].ends_with(",emptied"), "{}", lines[0]);
    assert_eq!(lines.len(), 3, "{effect}");
    // A keeps its commune and takes the white 01003 it touches; B gives up
    // 01002 and keeps 01001
    assert!(
        lines[1].starts_with("A,Alpha,1,2,") && lines[1].ends_with(",false"),
        "{effect}"
    );
    assert!(
        lines[2].starts_with("B,Beta,2,1,") && lines[2].ends_with(",false"),
        "{effect}"
    );
    // the terminal says it, in French
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("CPTS existantes : 2 avant, toutes gardées"),
        "{out}"
    );
    // the inputs' diagnostics are shown and written
    assert!(out.contains("diagnostics :"), "{out}");
    assert!(dir.read("p/diagnostics.json").contains("\"count\""));
}

/// New CPTS: at most 175,000 inhabitants unless one commune, never across
/// régions, cut along département lines.
#[test]
fn new_cpts_respect_the_cap_and_the_region() {
    // a white strip across Ain (Auvergne-Rhône-Alpes) and Jura
    // (Bourgogne-Franche-Comté), one claimed commune at its end
    let g = row(&["01001", "01002", "39001", "39002", "39003"]);
    let a = analyse(
        &g,
        "cpts_id,cpts_name,commune_code,status\nK,K,39003,projet\n",
    )
    .unwrap();
    let p = Proposal::compute(
        &a,
        &ProposeOptions {
            new_cpts_min: 1_000,
            ..ProposeOptions::default()
        },
    )
    .unwrap();
    assert_eq!(p.new_cpts.len(), 2, "{:#?}", p.new_cpts);
    let codes: Vec<Vec<&str>> = p
        .new_cpts
        .iter()
        .map(|t| {
            t.members
                .iter()
                .map(|&i| a.communes.get(i).code.as_str())
                .collect()
        })
        .collect();
    assert_eq!(codes, vec![vec!["01001", "01002"], vec!["39001", "39002"]]);
    // on the demo with almost nothing declared: every new CPTS under the cap
    // unless it is one commune
    let mut inputs = paca_inputs();
    inputs.cpts = vec![Source::from_bytes(
        "one.csv",
        b"cpts_id,cpts_name,commune_code,status\nX,X,04001,projet\n".to_vec(),
    )
    .unwrap()];
    let demo = Analysis::run(&inputs).unwrap();
    let p = Proposal::compute(&demo, &ProposeOptions::default()).unwrap();
    assert!(p.new_cpts.len() >= 26, "{}", p.new_cpts.len());
    for t in &p.new_cpts {
        assert!(
            t.population <= maillage::propose::NEW_CPTS_MAX || t.members.len() == 1,
            "{} {} inhabitants, {} communes",
            t.id,
            t.population,
            t.members.len()
        );
        // named after its largest commune
        let head = t
            .members
            .iter()
            .max_by_key(|&&i| demo.communes.population[i as usize])
            .unwrap();
        assert_eq!(
            t.name,
            format!("Nouvelle CPTS {}", demo.communes.get(*head).name)
        );
    }
}

#[test]
fn empty_declarations_and_empty_candidates_are_refused() {
    let dir = Dir::new();
    dir.write("c.geojson", row(&["01001", "01002"]));
    dir.write("empty.csv", "cpts_id,cpts_name,commune_code,status\n");
    dir.write("d.csv", "cpts_id,cpts_name,commune_code\nA,Alpha,01001\n");
    dir.write(
        "unknown.csv",
        "cpts_id,cpts_name,commune_code\nN,Nouvelle,99999\nN,Nouvelle,98888\n",
    );
    for cmd in ["analyze", "check", "propose", "map"] {
        let o = maillage(
            dir.path(),
            &[
                cmd,
                "--communes",
                "c.geojson",
                "--cpts",
                "empty.csv",
                "--out",
                "o",
            ],
        );
        assert_eq!(o.status.code(), Some(2), "{cmd}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("empty.csv: no CPTS declared"),
            "{cmd}: {}",
            stderr(&o)
        );
        assert!(!dir.path().join("o").exists(), "{cmd} wrote something");
    }
    for candidate in ["empty.csv", "unknown.csv"] {
        let o = maillage(
            dir.path(),
            &[
                "check",
                "--communes",
                "c.geojson",
                "--cpts",
                "d.csv",
                "--candidate",
                candidate,
            ],
        );
        assert_eq!(o.status.code(), Some(2), "{candidate}: {}", stderr(&o));
        assert!(stderr(&o).contains(candidate), "{}", stderr(&o));
    }
    let o = maillage(
        dir.path(),
        &[
            "check",
            "--communes",
            "c.geojson",
            "--cpts",
            "d.csv",
            "--candidate",
            "unknown.csv",
        ],
    );
    assert!(
        stderr(&o).contains("names no commune of the layer"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn options_a_command_cannot_honour_are_refused() {
    let dir = Dir::new();
    dir.write(
        "cand.csv",
        "cpts_id,cpts_name,commune_code\nNEW,Nouvelle,06088\n",
    );
    for args in [
        &["propose", "--format", "gpkg", "--out", "o"][..],
        &[
            "propose",
            "--choropleth",
            "population",
            "--map",
            "--out",
            "o",
        ][..],
        &["map", "--format", "gpkg", "--out", "o"][..],
        &["check", "--map"][..],
        &["check", "--candidate", "cand.csv", "--report", "--out", "o"][..],
        &[
            "check",
            "--candidate",
            "cand.csv",
            "--format",
            "gpkg",
            "--out",
            "o",
        ][..],
    ] {
        let o = maillage(dir.path(), args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(args[1]), "{}", stderr(&o));
        assert!(!dir.path().join("o").exists());
    }
}

/// `maillage check … | head`: the reader goes away, the run ends quietly
/// with the verdict's status, and the files it was asked for are written.
#[test]
fn a_closed_pipe_ends_quietly() {
    let dir = Dir::new();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_maillage"))
        .current_dir(dir.path())
        .args(["check", "--out", "o"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    assert!(
        !err.contains("panicked") && !err.contains("Broken pipe"),
        "{err}"
    );
    // the demo breaks the rule: status 1, as without the pipe
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(dir.path().join("o/summary.json").exists());
}

/// `propose --map --report` shows a proposal as one: its title says so, the
/// communes given to an existing CPTS are outlined, each new CPTS is outlined,
/// and the legend counts them.
#[test]
fn a_proposal_map_shows_what_changes() {
    let dir = Dir::new();
    let o = maillage(
        dir.path(),
        &["propose", "--map", "--report", "--out", "p", "--quiet"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let svg = dir.read("p/map.svg");
    assert!(svg.contains("<title>Proposition — Provence-Alpes-Côte d&#39;Azur"));
    let summary: serde_json::Value = serde_json::from_str(&dir.read("p/summary.json")).unwrap();
    let new = summary["new_cpts"].as_u64().unwrap();
    let moved = summary["overlaps_resolved"].as_u64().unwrap()
        + summary["whites_assigned"].as_u64().unwrap()
        - dir
            .read("p/new_cpts.csv")
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(2).unwrap().parse::<u64>().unwrap())
            .sum::<u64>();
    assert!(svg.contains(r#"class="highlight new""#) && new > 0);
    assert!(svg.contains(r#"class="highlight moved""#) && moved > 0);
    assert!(
        svg.contains(&format!("Nouvelles CPTS proposées : {new}")),
        "{new}"
    );
    assert!(
        svg.contains(&format!("Confiées à une CPTS existante : {moved} commune")),
        "{moved}"
    );
    assert!(dir.read("p/report.html").contains("Proposition — "));
}
