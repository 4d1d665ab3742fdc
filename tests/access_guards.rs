//! Issue 26, item 4 and 3: accessibility inputs that would give silently wrong
//! scores are refused (exit 2, naming the file and the likely mistake) or
//! reported; decimal and age-weighted demand.

use super::access::{access_points as points, scores};
use super::*;

fn write_points(dir: &Dir, name: &str, pts: &[(String, f64, f64)]) {
    let mut t = String::from("code,x,y\n");
    for (c, x, y) in pts {
        t.push_str(&format!("{c},{x:?},{y:?}\n"));
    }
    dir.write(name, t);
}

/// Runs `access` expecting a refusal: exit 2, no output folder, the message.
fn refused(dir: &Dir, args: &[&str]) -> String {
    let mut all = vec!["access", "--quiet", "--out", "refused"];
    all.extend(args);
    let o = maillage(dir.path(), &all);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        !dir.path().join("refused").exists(),
        "{args:?}: a refused run writes nothing"
    );
    err
}

fn ok(dir: &Dir, out: &str, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["access", "--quiet", "--out", out];
    all.extend(args);
    let o = maillage(dir.path(), &all);
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
    serde_json::from_str(&dir.read(&format!("{out}/summary.json"))).unwrap()
}

#[test]
fn points_in_the_wrong_crs_or_far_from_their_commune_are_refused() {
    let dir = Dir::new();
    let l93 = points();
    // the same points in longitude/latitude, given without --points-crs
    let crs = maillage::geometry::Crs::from_epsg(2154).unwrap();
    let mut coords: Vec<geo::Coord<f64>> =
        l93.iter().map(|p| geo::coord! {x: p.1, y: p.2}).collect();
    crs.to_lon_lat(&mut coords).unwrap();
    let ll: Vec<(String, f64, f64)> = l93
        .iter()
        .zip(&coords)
        .map(|(p, c)| (p.0.clone(), c.x, c.y))
        .collect();
    write_points(&dir, "lonlat.csv", &ll);
    write_points(&dir, "l93.csv", &l93);
    let err = refused(&dir, &["--points", "lonlat.csv"]);
    assert!(err.contains("lonlat.csv: line 2"), "{err}");
    assert!(err.contains("--points-crs EPSG:4326"), "{err}");
    // two rows whose points were swapped (Marseille's and Nice's): inside the
    // CRS's domain, caught by their distance to their commune
    let mut swapped = l93.clone();
    let (m, n) = (
        swapped.iter().position(|p| p.0 == "13055").unwrap(),
        swapped.iter().position(|p| p.0 == "06088").unwrap(),
    );
    let (mx, my) = (swapped[m].1, swapped[m].2);
    (swapped[m].1, swapped[m].2) = (swapped[n].1, swapped[n].2);
    (swapped[n].1, swapped[n].2) = (mx, my);
    write_points(&dir, "swapped.csv", &swapped);
    let err = refused(&dir, &["--points", "swapped.csv"]);
    assert!(
        err.contains("2 of 947 points lie more than 5 km outside"),
        "{err}"
    );
    assert!(err.contains("are the codes right?"), "{err}");
    // stated, they are right: the scores equal the Lambert-93 points' scores
    ok(
        &dir,
        "ll",
        &["--points", "lonlat.csv", "--points-crs", "EPSG:4326"],
    );
    ok(&dir, "l93", &["--points", "l93.csv"]);
    let (a, b) = (scores(&dir, "ll"), scores(&dir, "l93"));
    for (code, x) in &a {
        let (x, y) = (x.unwrap(), b[code].unwrap());
        assert!((x - y).abs() <= 1e-9 * y.max(1e-12), "{code}: {x} vs {y}");
    }
    // one point moved 500 km east: named with its line and distance
    let mut moved = l93.clone();
    let k = moved.iter().position(|p| p.0 == "13055").unwrap();
    moved[k].1 += 500_000.0;
    write_points(&dir, "moved.csv", &moved);
    let err = refused(&dir, &["--points", "moved.csv"]);
    assert!(err.contains("1 of 947 points"), "{err}");
    assert!(err.contains(&format!("13055 line {}", k + 2)), "{err}");
    assert!(err.contains("km away"), "{err}");
}

#[test]
fn weights_and_options_that_cannot_be_honoured_are_refused() {
    let dir = Dir::new();
    // a gravity decay without a minimum: each commune with itself weighs infinity
    let err = refused(
        &dir,
        &["--method", "gravity", "--weight", "gravity:10000,-1"],
    );
    assert!(err.contains("minimum cost > 0"), "{err}");
    // plain 2SFCA has no decay
    let err = refused(&dir, &["--method", "2sfca", "--weight", "gaussian:15000"]);
    assert!(err.contains("e2sfca"), "{err}");
    // a matrix replaces the points: both is one ignored
    dir.write("m.csv", "origin,dest,cost\n13055,13055,0\n");
    write_points(&dir, "p.csv", &points());
    let err = refused(&dir, &["--costs", "m.csv", "--points", "p.csv"]);
    assert!(err.contains("one or the other"), "{err}");
    let err = refused(&dir, &["--costs", "m.csv", "--speed", "50"]);
    assert!(err.contains("--speed"), "{err}");
    let err = refused(&dir, &["--cost-unit", "metres"]);
    assert!(err.contains("--cost-unit"), "{err}");
}

#[test]
fn a_supply_that_places_nothing_is_refused() {
    let dir = Dir::new();
    dir.write("empty.csv", "code,supply\n");
    let err = refused(&dir, &["--supply", "empty.csv"]);
    assert!(
        err.contains("empty.csv") && err.contains("no supply row"),
        "{err}"
    );
    dir.write("zeros.csv", "code,supply\n13055,0\n04001,0\n");
    let err = refused(&dir, &["--supply", "zeros.csv"]);
    assert!(
        err.contains("zeros.csv") && err.contains("adds up to 0"),
        "{err}"
    );
    // points in longitude/latitude read as Lambert-93 land in no commune
    dir.write("pts.csv", "id,x,y,supply\nA,5.37,43.30,3\nB,7.26,43.70,2\n");
    let err = refused(&dir, &["--supply", "pts.csv"]);
    assert!(err.contains("pts.csv: line 2"), "{err}");
    assert!(err.contains("--supply-crs EPSG:4326"), "{err}");
    // inside the CRS's domain but in no commune of the layer
    dir.write(
        "far.csv",
        "id,x,y,supply
A,200000,6200000,3
",
    );
    let err = refused(&dir, &["--supply", "far.csv"]);
    assert!(
        err.contains("none of its 1 points falls in a commune"),
        "{err}"
    );
    let s = ok(
        &dir,
        "pts",
        &["--supply", "pts.csv", "--supply-crs", "EPSG:4326"],
    );
    assert_eq!(s["access"]["supply_total"], 5.0);
}

/// The straight-line distances between the oracle's points within `max` metres,
/// each commune with itself included, as a matrix.
fn matrix(max: f64, skip: &str) -> String {
    let pts = points();
    let mut m = String::from("origin,dest,cost\n");
    for (a, ax, ay) in &pts {
        for (b, bx, by) in &pts {
            let d = ((ax - bx).powi(2) + (ay - by).powi(2)).sqrt();
            if d <= max && a != skip && b != skip {
                m.push_str(&format!("{a},{b},{d:?}\n"));
            }
        }
    }
    m
}

#[test]
fn a_matrix_in_metres_read_as_minutes_is_refused_and_runs_once_its_unit_is_said() {
    let dir = Dir::new();
    dir.write("metres.csv", matrix(30_000.0, ""));
    let err = refused(&dir, &["--costs", "metres.csv"]);
    assert!(
        err.contains("metres.csv") && err.contains("--cost-unit metres"),
        "{err}"
    );
    // said: PySAL's metre defaults, and the straight-line scores of the same points
    let s = ok(
        &dir,
        "m",
        &["--costs", "metres.csv", "--cost-unit", "metres"],
    );
    assert_eq!(s["access"]["max_cost"], 30_000.0);
    assert_eq!(s["access"]["weight"], "step:10000=1,20000=0.68,30000=0.22");
    assert!(s["access"]["costs"].as_str().unwrap().ends_with("(metres)"));
    write_points(&dir, "p.csv", &points());
    ok(&dir, "p", &["--points", "p.csv"]);
    let (a, b) = (scores(&dir, "m"), scores(&dir, "p"));
    for (code, x) in &a {
        let (x, y) = (x.unwrap(), b[code].unwrap());
        assert!((x - y).abs() <= 1e-12 * y.max(1e-12), "{code}: {x} vs {y}");
    }
}

#[test]
fn a_commune_missing_from_the_matrix_gets_no_score_and_is_reported() {
    let dir = Dir::new();
    // Bourg-en-Bresse's case: a commune the matrix forgot is not an island
    dir.write("m.csv", matrix(30_000.0, "04070"));
    let s = ok(&dir, "m", &["--costs", "m.csv", "--cost-unit", "metres"]);
    assert_eq!(scores(&dir, "m")["04070"], None);
    assert_eq!(s["access"]["communes_unscored"], 1);
    assert_eq!(s["access"]["self_pairs_added"], 0);
    let d = s["diagnostics"].as_array().unwrap();
    assert!(
        d.iter().any(|d| d["kind"] == "no_location"
            && d["codes"] == serde_json::json!(["04070"])
            && d["message"]
                .as_str()
                .unwrap()
                .contains("absentes de la matrice")),
        "{d:?}"
    );
}

#[test]
fn decimal_and_age_weighted_demand_replace_the_population() {
    let dir = Dir::new();
    let pop: Vec<(String, u64)> = {
        let a = maillage::Analysis::run(&maillage::Inputs::demo()).unwrap();
        (0..a.communes.len() as u32)
            .map(|i| {
                (
                    a.communes.get(i).code.clone(),
                    a.communes.population[i as usize],
                )
            })
            .collect()
    };
    // 1.5 × the population, with decimals: every 2SFCA score divided by 1.5
    let mut t = String::from("code;population standardisée\n");
    for (c, p) in &pop {
        t.push_str(&format!(
            "{c};{}\n",
            (*p as f64 * 1.5).to_string().replace('.', ",")
        ));
    }
    dir.write("std.csv", t);
    ok(&dir, "base", &["--method", "2sfca"]);
    let s = ok(&dir, "std", &["--method", "2sfca", "--demand", "std.csv"]);
    assert!(s["access"]["demand"].as_str().unwrap().contains("std.csv"));
    let want: f64 = pop.iter().map(|p| p.1 as f64 * 1.5).sum();
    assert!((s["access"]["demand_total"].as_f64().unwrap() - want).abs() < 1e-6 * want);
    let (base, std) = (scores(&dir, "base"), scores(&dir, "std"));
    for (code, x) in &std {
        let (x, y) = (x.unwrap(), base[code].unwrap());
        assert!(
            (x * 1.5 - y).abs() <= 1e-12 * y.max(1e-12),
            "{code}: {x} vs {y}"
        );
    }
    // two age groups adding up to the population, weighted 1: the population's scores
    let mut t = String::from("code,p0_59,p60_plus\n");
    for (c, p) in &pop {
        t.push_str(&format!("{c},{},{}\n", p - p / 3, p / 3));
    }
    dir.write("ages.csv", t);
    ok(
        &dir,
        "ages",
        &[
            "--method",
            "2sfca",
            "--demand",
            "ages.csv",
            "--age-weights",
            "p0_59=1,p60_plus=1",
        ],
    );
    assert_eq!(scores(&dir, "ages"), base);
    // an inhabited commune without demand would count no one: refused
    let mut t = dir.read("std.csv");
    let line = t
        .lines()
        .find(|l| l.starts_with("13055;"))
        .unwrap()
        .to_owned();
    t = t.replace(&format!("{line}\n"), "");
    dir.write("hole.csv", t);
    let err = refused(&dir, &["--demand", "hole.csv"]);
    assert!(err.contains("hole.csv") && err.contains("13055"), "{err}");
    let err = refused(
        &dir,
        &["--demand", "ages.csv", "--age-weights", "p0_59=1,p90=2"],
    );
    assert!(err.contains("p90"), "{err}");
}

#[test]
fn apl_on_a_supply_in_doctors_rather_than_consultations_is_reported() {
    let dir = Dir::new();
    // the demo supply counts doctors: APL's 2.5 consultations would put everyone under
    let s = ok(&dir, "apl", &["--method", "apl", "--speed", "50"]);
    let d = s["diagnostics"].as_array().unwrap();
    assert!(
        d.iter().any(|d| d["kind"] == "access_units"
            && d["message"].as_str().unwrap().contains("consultations")),
        "{d:?}"
    );
    // in consultations (4,900 a doctor a year, DREES's order of magnitude): no such report
    let supply = std::fs::read_to_string(fixture("paca/supply.csv")).unwrap();
    let mut t = String::from("code,consultations\n");
    for l in supply.lines().skip(1) {
        let (c, v) = l.split_once(',').unwrap();
        t.push_str(&format!("{c},{}\n", v.parse::<f64>().unwrap() * 4900.0));
    }
    dir.write("consult.csv", t);
    let s = ok(
        &dir,
        "apl2",
        &[
            "--method",
            "apl",
            "--speed",
            "50",
            "--supply",
            "consult.csv",
        ],
    );
    let d = s["diagnostics"].as_array().unwrap();
    assert!(!d.iter().any(|d| d["kind"] == "access_units"), "{d:?}");
    // and no score written anywhere is inf or NaN
    let text = dir.read("apl2/access.csv");
    assert!(!text.contains("inf") && !text.contains("NaN"));
}

/// `access.csv`-like table as rows of (column → value).
fn table(dir: &Dir, file: &str) -> Vec<BTreeMap<String, String>> {
    let text = dir.read(file);
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let h = rdr.headers().unwrap().clone();
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            h.iter()
                .zip(r.iter())
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect()
        })
        .collect()
}

#[test]
fn several_methods_in_one_run_give_each_methods_own_columns() {
    let dir = Dir::new();
    let s = ok(&dir, "all", &["--method", "2sfca,e2sfca,gravity"]);
    let access = s["access"].as_object().unwrap();
    assert_eq!(
        access.keys().collect::<Vec<_>>(),
        ["2sfca", "e2sfca", "gravity"]
    );
    for m in ["2sfca", "e2sfca", "gravity"] {
        let one = ok(&dir, m, &["--method", m]);
        assert_eq!(access[m], one["access"], "{m}");
        // every table: the shared columns equal, each score column the method's own
        for t in [
            "access",
            "access_cpts",
            "access_zones",
            "access_departements",
        ] {
            let (all, own) = (
                table(&dir, &format!("all/{t}.csv")),
                table(&dir, &format!("{m}/{t}.csv")),
            );
            assert_eq!(all.len(), own.len(), "{t}");
            for (a, o) in all.iter().zip(&own) {
                for (k, v) in o {
                    let key = if a.contains_key(k) {
                        k.clone()
                    } else {
                        format!("{k}_{m}")
                    };
                    assert_eq!(a.get(&key), Some(v), "{t} {k} ({m})");
                }
            }
        }
    }
    // each diagnostic once
    let d = s["diagnostics"].as_array().unwrap();
    for (k, x) in d.iter().enumerate() {
        assert!(!d[..k].contains(x), "{x} twice");
    }
    let err = refused(&dir, &["--method", "2sfca,2sfca"]);
    assert!(err.contains("each method once"), "{err}");
}
