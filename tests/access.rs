//! Issue 10: accessibility scores, checked against PySAL `access` on PACA.

use super::*;

/// `access.csv` as code → score.
pub(crate) fn scores(dir: &Dir, out: &str) -> BTreeMap<String, Option<f64>> {
    let text = dir.read(&format!("{out}/access.csv"));
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let h = rdr.headers().unwrap().clone();
    let k = h.iter().position(|x| x == "score").unwrap();
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_owned(), r[k].parse::<f64>().ok())
        })
        .collect()
}

/// PySAL's points (`fixtures/paca/access-points.csv`, Lambert-93) as (code, x, y).
pub(crate) fn access_points() -> Vec<(String, f64, f64)> {
    std::fs::read_to_string(fixture("paca/access-points.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[0].to_owned(),
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
            )
        })
        .collect()
}

/// PySAL's scores (fixtures/oracle_access.py), one column.
fn expected(column: &str) -> BTreeMap<String, f64> {
    let text = std::fs::read_to_string(fixture("paca/access-expected.csv")).unwrap();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let header = rdr.headers().unwrap().clone();
    let k = header.iter().position(|h| h == column).unwrap();
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_owned(), r[k].parse().unwrap())
        })
        .collect()
}

fn run(dir: &Dir, out: &str, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["access", "--quiet", "--out", out];
    all.extend(args);
    let o = maillage(dir.path(), &all);
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
    serde_json::from_str(&dir.read(&format!("{out}/summary.json"))).unwrap()
}

const METHODS: [(&str, &[&str]); 5] = [
    ("2sfca", &["--method", "2sfca"]),
    (
        "e2sfca_gaussian",
        &["--method", "e2sfca", "--weight", "gaussian:15000"],
    ),
    ("e2sfca_step", &["--method", "e2sfca"]),
    (
        "3sfca_gaussian",
        &["--method", "3sfca", "--weight", "gaussian:15000"],
    ),
    (
        "gravity",
        &["--method", "gravity", "--weight", "gravity:10000,-1,1000"],
    ),
];

#[test]
fn scores_match_pysal_on_paca_with_its_points_and_with_ours() {
    let dir = Dir::new();
    let points = fixture("paca/access-points.csv");
    for (column, args) in METHODS {
        let want = expected(column);
        for own in [false, true] {
            let mut a = args.to_vec();
            a.extend(["--max-cost", "30000"]);
            if !own {
                a.extend(["--points", points.to_str().unwrap()]);
            }
            let out = format!("{column}-{own}");
            run(&dir, &out, &a);
            let got = scores(&dir, &out);
            assert_eq!(got.len(), want.len());
            for (code, w) in &want {
                let g = got[code].unwrap_or_else(|| panic!("{code}: no score"));
                let rel = (g - w).abs() / w.abs().max(1e-300);
                // with PySAL's points: the same arithmetic, to rounding; with our
                // own centroids (geo vs GEOS, 1e-10 m apart) pairs could flip at
                // a step bound, none does here
                assert!(
                    rel < 1e-9,
                    "{column} own={own} {code}: {g} vs {w} ({rel:e})"
                );
            }
        }
    }
}

#[test]
fn the_weighted_mean_of_any_2sfca_is_the_supply_per_inhabitant() {
    let dir = Dir::new();
    for (column, args) in METHODS.iter().take(4) {
        let s = run(&dir, column, args);
        let a = &s["access"];
        let mean = a["population_weighted_mean"].as_f64().unwrap();
        let per = a["supply_reached_per_inhabitant"].as_f64().unwrap();
        assert!(
            (mean - per).abs() < 1e-12 * per,
            "{column}: {mean} vs {per}"
        );
        assert_eq!(a["supply_unreached"], 0.0);
        // 4,954 made-up GPs for 5,218,960 inhabitants
        assert_eq!(a["supply_total"], 4954.0);
        assert!((per - 4954.0 / 5_218_960.0).abs() < 1e-15);
        assert_eq!(a["method"], column.split('_').next().unwrap());
    }
}

#[test]
fn supply_as_points_lands_in_the_communes_that_contain_them() {
    let dir = Dir::new();
    run(&dir, "codes", &[]);
    let s = run(
        &dir,
        "points",
        &[
            "--supply",
            fixture("paca/supply-points.csv").to_str().unwrap(),
        ],
    );
    assert_eq!(scores(&dir, "codes"), scores(&dir, "points"));
    assert_eq!(s["access"]["supply_total"], 4954.0);
}

#[test]
fn a_matrix_without_self_pairs_gets_them_and_gives_the_straight_line_scores() {
    let dir = Dir::new();
    // the oracle's points, and every pair within 30 km but the pairs to self
    let pts = access_points();
    let mut m = String::from("origine;destination;distance\n");
    for (a, ax, ay) in &pts {
        for (b, bx, by) in &pts {
            let d = ((ax - bx) * (ax - bx) + (ay - by) * (ay - by)).sqrt();
            if a != b && d <= 30_000.0 {
                m.push_str(&format!("{a};{b};{d:?}\n"));
            }
        }
    }
    dir.write("matrix.csv", &m);
    let args = ["--method", "e2sfca", "--weight", "gaussian:15000"];
    let mut with_matrix = args.to_vec();
    with_matrix.extend(["--costs", "matrix.csv"]);
    let s = run(&dir, "matrix", &with_matrix);
    assert_eq!(s["access"]["self_pairs_added"], 947);
    let d = s["diagnostics"].as_array().unwrap();
    assert!(d.iter().any(|d| d["kind"] == "cost_pairs"
        && d["message"]
            .as_str()
            .unwrap()
            .contains("paires d'une commune à elle-même ajoutées au coût 0 (947 ;")));
    let points = fixture("paca/access-points.csv");
    let mut with_points = args.to_vec();
    with_points.extend(["--points", points.to_str().unwrap()]);
    run(&dir, "points", &with_points);
    let (a, b) = (scores(&dir, "matrix"), scores(&dir, "points"));
    for (code, x) in &a {
        let (x, y) = (x.unwrap(), b[code].unwrap());
        assert!((x - y).abs() <= 1e-12 * y, "{code}: {x} vs {y}");
    }
}

#[test]
fn bad_supply_and_matrices_are_named_with_their_lines() {
    let dir = Dir::new();
    // unknown codes in the supply: a diagnostic with lines, the rest counts
    dir.write(
        "s.csv",
        "Code INSEE;Médecins généralistes\n04001;2\n99999;5\n13055;1,5\n04001;1\n",
    );
    let s = run(&dir, "s", &["--supply", "s.csv"]);
    let diags = s["diagnostics"].as_array().unwrap();
    let outside = diags
        .iter()
        .find(|d| d["kind"] == "access_outside_layer")
        .unwrap();
    assert_eq!(outside["lines"], serde_json::json!([3]));
    assert!(diags
        .iter()
        .any(|d| d["kind"] == "summed_supply" && d["codes"] == serde_json::json!(["04001"])));
    assert_eq!(
        s["access"]["supply_total"], 4.5,
        "2 + 1 for 04001, 1.5 for Marseille"
    );
    // values that cannot be read stop the run with their file and line
    for (file, text, says) in [
        (
            "neg.csv",
            "code,supply\n04001,-1\n",
            "line 2: supply \"-1\" is not a number ≥ 0",
        ),
        (
            "nan.csv",
            "code,supply\n04001,NaN\n",
            "line 2: supply \"NaN\" is not a number ≥ 0",
        ),
    ] {
        dir.write(file, text);
        let o = maillage(dir.path(), &["access", "--supply", file, "--out", "bad"]);
        assert_eq!(o.status.code(), Some(2));
        assert!(
            stderr(&o).contains(file) && stderr(&o).contains(says),
            "{}",
            stderr(&o)
        );
    }
    for (text, says) in [
        (
            "origin,dest,cost\n04001,04004,3\n04004,04001,-2\n04001,04070,abc\n",
            "line 3: cost \"-2\" is not a number ≥ 0; line 4: cost \"abc\"",
        ),
        (
            "origin,dest,cost\n04001,04004,NaN\n",
            "line 2: cost \"NaN\"",
        ),
        (
            "origin,dest,cost\n04001,04004,3\n04001,04004,4\n",
            "04001→04004 costs 3 on line 2 and 4 on line 3",
        ),
    ] {
        dir.write("m.csv", text);
        let o = maillage(
            dir.path(),
            &[
                "access", "--costs", "m.csv", "--method", "2sfca", "--out", "bad",
            ],
        );
        assert_eq!(o.status.code(), Some(2), "{text}");
        assert!(
            stderr(&o).contains("m.csv") && stderr(&o).contains(says),
            "{}",
            stderr(&o)
        );
    }
    assert!(
        !dir.path().join("bad").join("access.csv").exists(),
        "nothing written"
    );
    // a repeated pair with the same cost counts once; unknown codes are named
    dir.write(
        "m.csv",
        "origin,dest,cost\n04001,04004,3\n04001,04004,3\n04001,99999,2\n",
    );
    let s = run(
        &dir,
        "m",
        &["--costs", "m.csv", "--method", "2sfca", "--max-cost", "10"],
    );
    let diags = s["diagnostics"].as_array().unwrap();
    assert!(diags
        .iter()
        .any(|d| d["kind"] == "cost_pairs" && d["lines"] == serde_json::json!([3])));
    assert!(diags
        .iter()
        .any(|d| d["kind"] == "access_outside_layer" && d["lines"] == serde_json::json!([4])));
    // options that do not fit
    let o = maillage(dir.path(), &["access", "--method", "apl", "--out", "apl"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--costs") && stderr(&o).contains("--speed"),
        "{}",
        stderr(&o)
    );
    let o = maillage(dir.path(), &["access", "--weight", "cubic:2", "--out", "w"]);
    assert!(stderr(&o).contains("--weight") && stderr(&o).contains("gaussian:SIGMA"));
}

#[test]
fn apl_at_an_assumed_speed_reports_the_sous_dense_communes() {
    let dir = Dir::new();
    // 4,500 consultations a year per GP, straight lines at 60 km/h
    let supply = std::fs::read_to_string(fixture("paca/supply.csv")).unwrap();
    let consultations: String = supply
        .lines()
        .enumerate()
        .map(|(k, l)| {
            if k == 0 {
                "code,consultations\n".to_owned()
            } else {
                let (c, n) = l.split_once(',').unwrap();
                format!("{c},{}\n", n.parse::<f64>().unwrap() * 4500.0)
            }
        })
        .collect();
    dir.write("c.csv", consultations);
    let s = run(
        &dir,
        "apl",
        &["--method", "apl", "--speed", "60", "--supply", "c.csv"],
    );
    let a = &s["access"];
    assert_eq!(a["threshold"], 2.5);
    assert_eq!(a["max_cost"], 20.0);
    assert_eq!(a["weight"], "step:10=1,15=0.66,20=0.33");
    assert!(a["costs"].as_str().unwrap().contains("60 km/h"));
    // the under-served, recounted from access.csv
    let got = scores(&dir, "apl");
    let pop: BTreeMap<String, u64> = std::fs::read_to_string(fixture("paca/population.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let (c, p) = l.split_once(',').unwrap();
            (c.to_owned(), p.parse().unwrap())
        })
        .collect();
    let below: Vec<&String> = got
        .iter()
        .filter(|(_, s)| s.unwrap() < 2.5)
        .map(|(c, _)| c)
        .collect();
    assert_eq!(a["communes_below_threshold"], below.len());
    let p: u64 = below
        .iter()
        .map(|c| pop.get(*c).copied().unwrap_or(0))
        .sum();
    assert_eq!(a["population_below_threshold"], p);
    assert!(!below.is_empty() && below.len() < got.len());
    // the mean: 4,954 GPs × 4,500 consultations per inhabitant
    let mean = a["population_weighted_mean"].as_f64().unwrap();
    assert!(
        (mean - 4954.0 * 4500.0 / 5_218_960.0).abs() < 1e-9,
        "{mean}"
    );
}

#[test]
fn cpts_figures_are_the_population_weighted_figures_of_their_communes() {
    let dir = Dir::new();
    run(&dir, "out", &["--threshold", "0.0008"]);
    let score = scores(&dir, "out");
    let pop: BTreeMap<String, f64> = std::fs::read_to_string(fixture("paca/population.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let (c, p) = l.split_once(',').unwrap();
            (c.to_owned(), p.parse().unwrap())
        })
        .collect();
    let mut members: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    for l in std::fs::read_to_string(fixture("paca/declarations.csv"))
        .unwrap()
        .lines()
        .skip(1)
    {
        let f: Vec<&str> = l.split(',').collect();
        if score.contains_key(f[2]) {
            members
                .entry(f[0].to_owned())
                .or_default()
                .insert(f[2].to_owned());
        }
    }
    let table = dir.read("out/access_cpts.csv");
    let mut rdr = csv::Reader::from_reader(table.as_bytes());
    let h = rdr.headers().unwrap().clone();
    let at = |name: &str| h.iter().position(|x| x == name).unwrap();
    let mut rows = 0;
    for r in rdr.records() {
        let r = r.unwrap();
        let m = &members[&r[0]];
        let w: f64 = m.iter().map(|c| pop.get(c).copied().unwrap_or(0.0)).sum();
        let mean = m
            .iter()
            .map(|c| score[c].unwrap() * pop.get(c).copied().unwrap_or(0.0))
            .sum::<f64>()
            / w;
        let got: f64 = r[at("mean_score")].parse().unwrap();
        assert!(
            (got - mean).abs() < 1e-12 * mean,
            "{}: {got} vs {mean}",
            &r[0]
        );
        // a commune where nobody lives weighs nothing, in the minimum too
        let min = m
            .iter()
            .filter(|c| pop.get(*c).copied().unwrap_or(0.0) > 0.0)
            .map(|c| score[c].unwrap())
            .fold(f64::INFINITY, f64::min);
        assert_eq!(r[at("min_score")].parse::<f64>().unwrap(), min);
        let below: Vec<&String> = m.iter().filter(|c| score[*c].unwrap() < 0.0008).collect();
        assert_eq!(
            r[at("communes_below_threshold")].parse::<usize>().unwrap(),
            below.len()
        );
        assert_eq!(r[at("communes")].parse::<usize>().unwrap(), m.len());
        rows += 1;
    }
    assert_eq!(rows, 38);
    assert_eq!(
        dir.read("out/access_zones.csv").lines().count(),
        1 + 3,
        "three zones blanches"
    );
}

#[test]
fn access_outputs_do_not_depend_on_threads_or_row_order() {
    let dir = Dir::new();
    let supply = std::fs::read_to_string(fixture("paca/supply.csv")).unwrap();
    let mut rows: Vec<&str> = supply.lines().skip(1).collect();
    shuffle(&mut rows, 5);
    dir.write(
        "shuffled.csv",
        format!("code,supply\n{}\n", rows.join("\n")),
    );
    run(
        &dir,
        "a",
        &["--threads", "1", "--map", "--date", "2026-01-01"],
    );
    run(
        &dir,
        "b",
        &[
            "--threads",
            "2",
            "--supply",
            "shuffled.csv",
            "--map",
            "--date",
            "2026-01-01",
        ],
    );
    for name in [
        "access.csv",
        "access_cpts.csv",
        "access_zones.csv",
        "access_departements.csv",
        "map.svg",
        "map.png",
    ] {
        assert!(
            std::fs::read(dir.path().join("a").join(name)).unwrap()
                == std::fs::read(dir.path().join("b").join(name)).unwrap(),
            "{name}"
        );
    }
    // the score map classes every commune
    let svg = dir.read("a/map.svg");
    let counted: usize = svg
        .match_indices("data-count=\"")
        .map(|(i, m)| {
            svg[i + m.len()..]
                .split('"')
                .next()
                .unwrap()
                .parse::<usize>()
                .unwrap()
        })
        .sum();
    assert_eq!(counted, 947);
}
