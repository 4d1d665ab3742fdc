use super::*;
use maillage::propose::{Proposal, ProposeOptions, Strategy, Target};
use std::collections::BTreeSet;

const STRATEGIES: [Strategy; 4] = [
    Strategy::Balanced,
    Strategy::LongestBorder,
    Strategy::MinPopulation,
    Strategy::Epci,
];

fn csv_of(rows: &[[String; 4]]) -> String {
    let mut csv = String::from("cpts_id,cpts_name,commune_code,status\n");
    for r in rows {
        csv.push_str(&r.join(","));
        csv.push('\n');
    }
    csv
}

fn with_csv(csv: &str) -> Analysis {
    let mut inputs = paca_inputs();
    inputs.cpts = vec![Source::from_bytes("d.csv", csv.as_bytes().to_vec()).unwrap()];
    Analysis::run(&inputs).unwrap()
}

fn paca_codes() -> Vec<String> {
    paca_expected()["communes_area_km2"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

/// The hard rules, checked on the analysis of the proposal applied.
fn check_rules(before: &Analysis, p: &Proposal, label: &str) -> Analysis {
    let after = with_csv(&csv_of(&p.declarations(before)));
    // the library's own application gives the same figures
    let applied = p.apply(before).unwrap();
    assert_eq!(applied.summary.communes_white, after.summary.communes_white);
    assert_eq!(applied.summary.cpts_count, after.summary.cpts_count);
    assert_eq!(
        applied.summary.communes_overlap,
        after.summary.communes_overlap
    );
    let s = &after.summary;
    let count = |kind: &str| -> usize {
        p.unresolved
            .iter()
            .filter(|u| u.kind == kind)
            .map(|u| u.codes.len())
            .sum()
    };
    // overlaps left: only communes that are the last of two CPTS or more
    assert_eq!(
        s.communes_overlap as usize,
        count("chevauchement"),
        "{label}: overlaps left"
    );
    assert_eq!(
        s.communes_white as usize,
        count("zone_blanche"),
        "{label}: whites left"
    );
    // every input CPTS keeps at least one commune, or is reported
    let emptied = p.summary(before, &after).cpts_emptied;
    for (c, m) in before.declarations.cpts.iter().zip(&p.members) {
        assert!(
            !m.is_empty() || emptied.contains(&c.id),
            "{label}: {} vanished unreported",
            c.id
        );
        assert!(
            m.is_empty() || after.declarations.cpts.iter().any(|d| d.id == c.id),
            "{label}: {} is not in the result",
            c.id
        );
    }
    // new CPTS: at most 175,000 inhabitants unless one commune, one région
    for t in &p.new_cpts {
        assert!(
            t.population <= maillage::propose::NEW_CPTS_MAX || t.members.len() == 1,
            "{label}: {} has {} inhabitants in {} communes",
            t.id,
            t.population,
            t.members.len()
        );
        let regions: BTreeSet<Option<&str>> = t
            .members
            .iter()
            .map(|&i| maillage::reference::region_of_departement(before.communes.departement(i)))
            .collect();
        assert_eq!(regions.len(), 1, "{label}: {} spans {regions:?}", t.id);
    }
    for u in &p.unresolved {
        assert!(!u.reason.is_empty(), "{label}: unresolved without reason");
        let verdict = if u.kind == "zone_blanche" {
            Verdict::White
        } else {
            Verdict::Overlap
        };
        for c in &u.codes {
            assert_eq!(after.verdict(c), Some(verdict), "{label}: {c}");
        }
    }
    // parts never grow, except for claimants cut where every claimant needed
    // the commune, which is reported
    let cut: BTreeSet<u32> = p
        .rows
        .iter()
        .filter(|r| r.flags.contains(&"cuts_claimant"))
        .flat_map(|r| r.claimants.iter().copied())
        .collect();
    let after_by: BTreeMap<&str, usize> = after
        .declarations
        .cpts
        .iter()
        .zip(&after.coverage.territories)
        .map(|(c, t)| (c.id.as_str(), t.parts.len()))
        .collect();
    for (k, (c, t)) in before
        .declarations
        .cpts
        .iter()
        .zip(&before.coverage.territories)
        .enumerate()
    {
        let parts = after_by.get(c.id.as_str()).copied().unwrap_or(0);
        assert!(
            parts <= t.parts.len() || cut.contains(&(k as u32)),
            "{label}: {} went from {} to {parts} parts",
            c.id,
            t.parts.len()
        );
    }
    for r in &p.rows {
        let code = &before.communes.get(r.commune).code;
        match (r.before, r.proposed) {
            // an overlap commune only goes to one of its claimants
            (Verdict::Overlap, Target::Cpts(k)) => {
                assert!(r.claimants.contains(&k), "{label}: {code}")
            }
            // left unresolved only when it is the last commune of two
            // claimants or more
            (Verdict::Overlap, Target::Unresolved) => {
                let sole = r
                    .claimants
                    .iter()
                    .filter(|&&k| {
                        before.coverage.territories[k as usize].members.len() == 1
                            || p.members[k as usize] == [r.commune]
                    })
                    .count();
                assert!(
                    sole >= 2 && r.flags.contains(&"sole_commune"),
                    "{label}: overlap {code} left unresolved with {sole} sole claimant(s)"
                );
            }
            (Verdict::Overlap, t) => panic!("{label}: overlap {code} to {t:?}"),
            // a white commune given to an existing CPTS touches it afterwards
            (Verdict::White, Target::Cpts(k)) => {
                let members = &p.members[k as usize];
                assert!(
                    before
                        .adjacency
                        .neighbours(r.commune)
                        .iter()
                        .any(|n| members.binary_search(n).is_ok()),
                    "{label}: white {code} given to a CPTS it does not touch"
                );
            }
            _ => {}
        }
    }
    // every new CPTS is contiguous
    for t in &p.new_cpts {
        assert_eq!(
            before.adjacency.components(&t.members).len(),
            1,
            "{label}: {}",
            t.id
        );
    }
    after
}

#[test]
fn every_strategy_resolves_the_demo_and_proposes_nothing_the_second_time() {
    let before = Analysis::run(&paca_inputs()).unwrap();
    assert!(before.summary.communes_white > 0 && before.summary.communes_overlap > 0);
    for strategy in STRATEGIES {
        for whole_clusters in [false, true] {
            let options = ProposeOptions {
                strategy,
                whole_clusters,
                ..ProposeOptions::default()
            };
            let label = format!("{strategy} whole={whole_clusters}");
            let p = Proposal::compute(&before, &options).unwrap();
            assert_eq!(
                p.rows.len() as u64,
                before.summary.communes_white + before.summary.communes_overlap,
                "{label}: one row per white or overlapping commune"
            );
            let after = check_rules(&before, &p, &label);
            assert_eq!(after.summary.communes_white, 0, "{label}");
            let again = Proposal::compute(&after, &options).unwrap();
            assert!(again.rows.is_empty(), "{label}: not idempotent");
            assert!(again.moves(&after).is_empty());
        }
    }
}

#[test]
fn random_declarations_keep_the_hard_rules_whatever_the_row_order() {
    let codes = paca_codes();
    for seed in 1..=6u64 {
        // and CPTS of one commune each claimed by another CPTS too: S1 and S2
        // the same commune (neither can give it up), S3 another
        let mut csv = random_declarations(&codes, seed);
        let pick = |k: u64| &codes[((seed * 7919 + k * 104_729) % codes.len() as u64) as usize];
        for (id, code) in [("S1", pick(1)), ("S2", pick(1)), ("S3", pick(2))] {
            csv.push_str(&format!("{id},Seule {id},{code},aci_signe\n"));
        }
        let before = with_csv(&csv);
        let mut rows: Vec<&str> = csv.lines().skip(1).collect();
        shuffle(&mut rows, seed + 100);
        let shuffled = with_csv(&format!(
            "cpts_id,cpts_name,commune_code,status\n{}\n",
            rows.join("\n")
        ));
        for strategy in STRATEGIES {
            let options = ProposeOptions {
                strategy,
                // small new CPTS too, so that the partition is exercised
                new_cpts_min: 5_000,
                ..ProposeOptions::default()
            };
            let label = format!("seed {seed} {strategy}");
            let p = Proposal::compute(&before, &options).unwrap();
            let after = check_rules(&before, &p, &label);
            let again = Proposal::compute(&after, &options).unwrap();
            assert!(
                again.rows.iter().all(|r| r.proposed == Target::Unresolved),
                "{label}: a second proposal moves communes"
            );
            let q = Proposal::compute(&shuffled, &options).unwrap();
            assert_eq!(
                p.declarations(&before),
                q.declarations(&shuffled),
                "{label}: depends on row order"
            );
        }
    }
}

/// The hard rules as properties (proptest, with shrinking): any declarations
/// over the real PACA layer — each commune claimed by none, one or two of nine
/// CPTS, and one-commune CPTS sharing their commune with others — give, with
/// every strategy, a proposal where no input CPTS vanishes unreported, every new
/// CPTS is within 175,000 inhabitants unless it is one commune, no new CPTS spans
/// two régions, and the rules of `check_rules` hold. A failure shrinks to a
/// smaller set of claims.
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn declarations(codes: &[String], claims: &[(u8, u8, u8)], sole: &[usize]) -> String {
        let mut csv = claimed(codes, claims);
        for (k, &i) in sole.iter().enumerate() {
            let code = &codes[i % codes.len()];
            csv.push_str(&format!("S{k},Seule {k},{code},aci_signe\n"));
        }
        csv
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 10,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]
        #[test]
        fn proposals_keep_the_hard_rules(
            claims in prop::collection::vec((0u8..10, 0u8..9, 0u8..9), 947),
            sole in prop::collection::vec(0usize..947, 0..4),
            min in prop::sample::select(vec![5_000u64, 20_000]),
        ) {
            let codes = paca_codes();
            let before = with_csv(&declarations(&codes, &claims, &sole));
            for strategy in STRATEGIES {
                let options = ProposeOptions {
                    strategy,
                    new_cpts_min: min,
                    ..ProposeOptions::default()
                };
                let p = Proposal::compute(&before, &options).unwrap();
                check_rules(&before, &p, &format!("{strategy} min {min}"));
            }
        }
    }
}

#[test]
fn a_white_island_is_reported_unresolved_never_dropped() {
    // four squares in a row and one apart: A B claimed, C white touching B,
    // D white touching nothing claimed (an island)
    let g = collection(&[
        square("01001", 5.0, 45.0, 0.25),
        square("01002", 5.25, 45.0, 0.25),
        square("01003", 5.5, 45.0, 0.25),
        square("01004", 6.5, 45.0, 0.25),
    ]);
    let a = analyse(
        &g,
        "cpts_id,cpts_name,commune_code,status\nK,K,01001,projet\nK,K,01002,projet\n",
    )
    .unwrap();
    let p = Proposal::compute(&a, &ProposeOptions::default()).unwrap();
    let by: BTreeMap<&str, Target> = p
        .rows
        .iter()
        .map(|r| (a.communes.get(r.commune).code.as_str(), r.proposed))
        .collect();
    assert_eq!(by["01003"], Target::Cpts(0));
    assert_eq!(by["01004"], Target::Unresolved);
    assert_eq!(p.unresolved.len(), 1);
    assert_eq!(p.unresolved[0].codes, vec!["01004".to_owned()]);
    assert!(
        p.unresolved[0].reason.contains("ne touche aucune CPTS"),
        "{}",
        p.unresolved[0].reason
    );
}

#[test]
fn longest_border_whole_clusters_agrees_with_geos_coverage_clean() {
    // fixtures/oracle_propose.py: shapely.coverage_clean (GEOS) on the CPTS
    // polygons of fixtures/paca/propose-declarations.csv
    let decl = std::fs::read_to_string(fixture("paca/propose-declarations.csv")).unwrap();
    let a = with_csv(&decl);
    let p = Proposal::compute(
        &a,
        &ProposeOptions {
            strategy: Strategy::LongestBorder,
            whole_clusters: true,
            new_cpts_min: u64::MAX,
            ..ProposeOptions::default()
        },
    )
    .unwrap();
    let ours: BTreeMap<String, String> = p
        .rows
        .iter()
        .map(|r| {
            (
                a.communes.get(r.commune).code.clone(),
                p.target_id(&a, r.proposed),
            )
        })
        .collect();
    let geos = std::fs::read_to_string(fixture("paca/propose-geos.csv")).unwrap();
    let mut differ = Vec::new();
    let mut n = 0;
    for line in geos.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        n += 1;
        if ours.get(f[0]).map(String::as_str) != Some(f[2]) {
            differ.push(f[0].to_owned());
        }
    }
    assert_eq!(n, 24);
    // 84013: maillage counts the border through 84073, itself an overlap
    // commune that CPTS-93-004 keeps; GEOS measures against the polygon left
    // once overlaps are cut out, where that stretch belongs to no one
    assert_eq!(differ, vec!["84013".to_owned()]);
}

fn zone_codes(a: &Analysis, z: usize) -> Vec<String> {
    a.coverage.white_zones[z]
        .members
        .iter()
        .map(|&i| a.communes.get(i).code.clone())
        .collect()
}

fn candidate(dir: &Dir, name: &str, id: &str, codes: &[String]) {
    let mut csv = String::from("cpts_id,cpts_name,commune_code,status\n");
    for c in codes {
        csv.push_str(&format!("{id},Candidate {id},{c},projet\n"));
    }
    dir.write(name, csv);
}

fn check(dir: &Dir, file: &str, out: &str) -> std::process::Output {
    let communes = fixture("paca/communes.geojson.gz");
    let cpts = fixture("paca/declarations.csv");
    let population = fixture("paca/population.csv");
    maillage(
        dir.path(),
        &[
            "check",
            "--communes",
            communes.to_str().unwrap(),
            "--cpts",
            cpts.to_str().unwrap(),
            "--population",
            population.to_str().unwrap(),
            "--candidate",
            file,
            "--out",
            out,
        ],
    )
}

#[test]
fn a_candidate_filling_a_zone_blanche_passes_and_one_taking_a_held_commune_fails() {
    let a = Analysis::run(&paca_inputs()).unwrap();
    let dir = Dir::new();
    // the largest zone blanche, whole
    let z = (0..a.coverage.white_zones.len())
        .max_by_key(|&z| a.coverage.white_zones[z].members.len())
        .unwrap();
    let zone = zone_codes(&a, z);
    candidate(&dir, "fill.csv", "NEW-1", &zone);
    let o = check(&dir, "fill.csv", "fill");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_str(&dir.read("fill/candidate.json")).unwrap();
    let c = &r["candidates"][0];
    assert_eq!(c["cpts_id"], "NEW-1");
    assert_eq!(c["parts"], 1);
    assert_eq!(c["fills"].as_array().unwrap().len(), zone.len());
    let zone_pop: u64 = a.coverage.white_zones[z]
        .members
        .iter()
        .map(|&i| a.communes.population[i as usize])
        .sum();
    assert_eq!(c["fills_population"], zone_pop);
    assert_eq!(c["population"], zone_pop);
    assert!(c["overlaps"].as_array().unwrap().is_empty());
    assert_eq!(
        r["after"]["communes_white"].as_u64().unwrap(),
        a.summary.communes_white - zone.len() as u64
    );
    assert_eq!(
        r["after"]["white_zones"].as_u64().unwrap(),
        a.summary.white_zone_clusters - 1
    );
    assert_eq!(r["problems"], false);

    // the same plus a neighbour another CPTS holds: exit 1, the overlap named
    let held = a.coverage.white_zones[z]
        .members
        .iter()
        .flat_map(|&i| a.adjacency.neighbours(i).iter().copied())
        .find(|&n| a.coverage.verdicts[n as usize] == Verdict::Covered)
        .unwrap();
    let held_code = a.communes.get(held).code.clone();
    let holder = &a.declarations.cpts[a.coverage.claimants[held as usize][0] as usize].id;
    let mut more = zone.clone();
    more.push(held_code.clone());
    candidate(&dir, "take.csv", "NEW-2", &more);
    let o = check(&dir, "take.csv", "take");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_str(&dir.read("take/candidate.json")).unwrap();
    let overlaps = r["candidates"][0]["overlaps"].as_array().unwrap();
    assert_eq!(overlaps.len(), 1);
    assert_eq!(overlaps[0]["code"], held_code.as_str());
    assert_eq!(overlaps[0]["with"][0], holder.as_str());
    assert_eq!(
        r["after"]["communes_overlap"].as_u64().unwrap(),
        a.summary.communes_overlap + 1
    );
    assert_eq!(r["problems"], true);
}

#[test]
fn a_split_candidate_fails_and_bad_candidates_are_clear_errors() {
    let a = Analysis::run(&paca_inputs()).unwrap();
    let dir = Dir::new();
    // two zones blanches that do not touch: a candidate in two parts
    assert!(a.coverage.white_zones.len() >= 2);
    let mut two = zone_codes(&a, 0);
    two.extend(zone_codes(&a, 1));
    candidate(&dir, "split.csv", "NEW-3", &two);
    let o = check(&dir, "split.csv", "split");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_str(&dir.read("split/candidate.json")).unwrap();
    assert_eq!(r["candidates"][0]["parts"], 2);
    assert!(r["candidates"][0]["overlaps"]
        .as_array()
        .unwrap()
        .is_empty());
    assert!(r["why"][0].as_str().unwrap().contains("NEW-3"));

    // an id an existing CPTS already uses: exit 2, nothing written
    let existing = a.declarations.cpts[0].id.clone();
    candidate(&dir, "taken.csv", &existing, &zone_codes(&a, 0));
    let o = check(&dir, "taken.csv", "taken");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(&existing) && stderr(&o).contains("already used"),
        "{}",
        stderr(&o)
    );
    assert!(!dir.path().join("taken").exists());

    // an unknown code: a diagnostic naming the file, line and code
    let mut unknown = zone_codes(&a, 0);
    unknown.push("99999".to_owned());
    candidate(&dir, "unknown.csv", "NEW-4", &unknown);
    let o = check(&dir, "unknown.csv", "unknown");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        (out.contains("99999") || err.contains("99999"))
            && (out.contains("unknown.csv") || err.contains("unknown.csv")),
        "{out}\n{err}"
    );

    // a strategy that does not exist: exit 2, the names listed
    let o = maillage(
        dir.path(),
        &["propose", "--strategy", "largest", "--out", "p"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("longest-border"), "{}", stderr(&o));
    // a missing candidate file is named once, with the reason once
    let o = check(&dir, "missing.csv", "m");
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o).matches("No such file").count(),
        1,
        "{}",
        stderr(&o)
    );
}

#[test]
fn propose_files_apply_back_and_do_not_depend_on_threads() {
    let dir = Dir::new();
    for (out, threads) in [("p1", "1"), ("p2", "2")] {
        let o = maillage(dir.path(), &["propose", "--threads", threads, "--out", out]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    for name in [
        "proposals.csv",
        "moves.csv",
        "declarations.csv",
        "cpts_effect.csv",
        "new_cpts.csv",
        "new_cpts.geojson",
        "summary.json",
    ] {
        assert_eq!(
            dir.read(&format!("p1/{name}")),
            dir.read(&format!("p2/{name}")),
            "{name}"
        );
    }
    // the input with its rows for moved communes removed and moves.csv added
    // is declarations.csv
    let moves = dir.read("p1/moves.csv");
    let moved: BTreeSet<&str> = moves
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(2).unwrap())
        .collect();
    let a = Analysis::run(&paca_inputs()).unwrap();
    let decided: BTreeSet<String> = (0..a.communes.len() as u32)
        .filter(|&i| a.coverage.verdicts[i as usize] != Verdict::Covered)
        .map(|i| a.communes.get(i).code.clone())
        .collect();
    assert_eq!(moved.len(), decided.len());
    let input = std::fs::read_to_string(fixture("paca/declarations.csv")).unwrap();
    let mut applied: Vec<String> = input
        .lines()
        .skip(1)
        .filter(|l| !decided.contains(l.split(',').nth(2).unwrap_or("")))
        .map(str::to_owned)
        .collect();
    // (moves.csv's first four columns are the input's; commune_name and
    // from_cpts follow, for the reader)
    assert!(moves.starts_with("cpts_id,cpts_name,commune_code,status,commune_name,from_cpts\n"));
    applied.extend(
        moves
            .lines()
            .skip(1)
            .map(|l| l.splitn(5, ',').take(4).collect::<Vec<_>>().join(",")),
    );
    let summary: serde_json::Value = serde_json::from_str(&dir.read("p1/summary.json")).unwrap();
    let after = with_csv(&format!(
        "cpts_id,cpts_name,commune_code,status\n{}\n",
        applied.join("\n")
    ));
    let from_file = with_csv(&dir.read("p1/declarations.csv"));
    assert_eq!(after.summary.communes_white, 0);
    assert_eq!(after.summary.communes_overlap, 0);
    assert_eq!(after.summary.cpts_count, from_file.summary.cpts_count);
    assert_eq!(
        summary["after"]["cpts"].as_u64().unwrap(),
        from_file.summary.cpts_count
    );
    for i in 0..after.communes.len() as u32 {
        let code = &after.communes.get(i).code;
        let who = |x: &Analysis| -> Vec<String> {
            x.coverage.claimants[i as usize]
                .iter()
                .map(|&k| x.declarations.cpts[k as usize].id.clone())
                .collect()
        };
        assert_eq!(who(&after), who(&from_file), "{code}");
    }
    // new CPTS: viable population (a single commune may exceed the cap: it
    // cannot be cut), and the table matches the GeoJSON
    let new = dir.read("p1/new_cpts.csv");
    let geo: serde_json::Value = serde_json::from_str(&dir.read("p1/new_cpts.geojson")).unwrap();
    assert_eq!(
        geo["features"].as_array().unwrap().len(),
        new.lines().count() - 1
    );
    for l in new.lines().skip(1) {
        let f: Vec<&str> = l.split(',').collect();
        let (communes, pop): (u64, u64) = (f[2].parse().unwrap(), f[3].parse().unwrap());
        assert!(pop >= 20_000 && (pop <= 175_000 || communes == 1), "{l}");
    }
}
