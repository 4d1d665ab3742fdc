//! Issue 25: geometry and numbers checked where they enter. Each used to give
//! nonsense with exit status 0: a hole outside or around its shell (negative
//! areas), a bow-tie (area 0), a damaged Lambert-93 vertex (the South Pole), an
//! empty WKB MultiPolygon (area 0), a population of 2⁶⁴ − 1 (sums that wrap).

use super::*;
use maillage::load::{load_communes, FieldNames};

fn feature(code: &str, rings: &str, props: &str) -> String {
    format!(
        r#"{{"type":"Feature","properties":{{"code":"{code}","nom":"C{code}"{props}}},"geometry":{{"type":"Polygon","coordinates":{rings}}}}}"#
    )
}

fn load(name: &str, text: &str) -> Result<maillage::load::CommuneLayer, String> {
    load_communes(
        &Source::from_bytes(name, text.as_bytes().to_vec()).unwrap(),
        &FieldNames::default(),
    )
    .map_err(|e| e.to_string())
}

#[test]
fn holes_outside_or_around_the_shell_and_bow_ties_are_refused_by_feature() {
    let shell = "[5.0,45.0],[5.1,45.0],[5.1,45.1],[5.0,45.1],[5.0,45.0]";
    let cases = [
        (
            "hole outside",
            format!("[[{shell}],[[6.0,46.0],[6.0,46.05],[6.05,46.05],[6.05,46.0],[6.0,46.0]]]"),
            "hole 1 is not inside its exterior ring",
        ),
        (
            "hole around",
            format!("[[{shell}],[[4.0,44.0],[4.0,46.0],[6.0,46.0],[6.0,44.0],[4.0,44.0]]]"),
            "hole 1 is not inside its exterior ring",
        ),
        (
            "bow-tie",
            "[[[5.0,45.0],[5.1,45.1],[5.1,45.0],[5.0,45.1],[5.0,45.0]]]".to_owned(),
            "encloses no area",
        ),
    ];
    for (what, rings, said) in cases {
        let text = collection(&[
            square("01001", 5.2, 45.0, 0.1),
            feature("01002", &rings, ""),
        ]);
        let e = load("c.geojson", &text).unwrap_err();
        assert!(
            e.contains("c.geojson") && e.contains("feature 1 (01002)") && e.contains(said),
            "{what}: {e}"
        );
    }
    // a real hole (an enclave) is fine, and the area is the shell's minus it
    let holed =
        format!("[[{shell}],[[5.04,45.04],[5.04,45.06],[5.06,45.06],[5.06,45.04],[5.04,45.04]]]");
    let layer = load("c.geojson", &collection(&[feature("01002", &holed, "")])).unwrap();
    let km2 = maillage::geometry::multi_polygon_km2(&layer.communes[0].geometry);
    assert!(km2 > 80.0 && km2 < 90.0, "{km2}");
}

#[test]
fn a_damaged_projected_vertex_is_refused_not_drawn_at_the_south_pole() {
    // a square in Lambert-93 metres (around Gap), then one vertex damaged
    let l93 = |x: &str| {
        format!(
            r#"{{"type":"FeatureCollection","crs":{{"type":"name","properties":{{"name":"urn:ogc:def:crs:EPSG::2154"}}}},"features":[{}]}}"#,
            feature(
                "05061",
                &format!("[[[944000,6392000],[{x},6392000],[948000,6396000],[944000,6396000],[944000,6392000]]]"),
                ""
            )
        )
    };
    assert!(load("ok.geojson", &l93("948000")).is_ok());
    for (x, said) in [
        ("1e308", "not a finite position"),
        ("-1e15", "not a finite position"),
        ("5000000", "outside the domain of EPSG:2154"),
    ] {
        let e = load("l93.geojson", &l93(x)).unwrap_err();
        assert!(
            e.contains("l93.geojson") && e.contains("feature 0 (05061)") && e.contains(said),
            "{x}: {e}"
        );
    }
}

/// An empty `.prj` says nothing (it used to be read as a CRS "needing a
/// datum shift"): the Lambert-93 metres are then recognised, with the hint.
#[test]
fn an_empty_prj_is_no_crs() {
    let dir = Dir::new();
    let zip = std::fs::read(fixture("adminexpress/ae3-05-l93.zip")).unwrap();
    zip::ZipArchive::new(std::io::Cursor::new(zip))
        .unwrap()
        .extract(dir.path())
        .unwrap();
    std::fs::write(dir.path().join("COMMUNE.prj"), "").unwrap();
    let e = load_communes(
        &Source::from_path(dir.path().join("COMMUNE.shp")).unwrap(),
        &FieldNames::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("--crs EPSG:2154") && !e.contains("datum shift"),
        "{e}"
    );
}

/// `--threads 10000` is capped to the cores (it ran past two minutes).
#[test]
fn absurd_thread_counts_are_capped() {
    let dir = Dir::new();
    let t = std::time::Instant::now();
    let o = maillage(dir.path(), &["check", "--threads", "10000", "--quiet"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(t.elapsed().as_secs() < 30, "{:?}", t.elapsed());
}

#[test]
fn an_empty_multipolygon_in_a_geopackage_is_refused() {
    let dir = Dir::new();
    let path = dir.path().join("e.gpkg");
    std::fs::copy(fixture("adminexpress/ae4-05-l93.gpkg"), &path).unwrap();
    {
        let db = rusqlite::Connection::open(&path).unwrap();
        drop_triggers(&db);
        let (table, column): (String, String) = db
            .query_row(
                "SELECT table_name, column_name FROM gpkg_geometry_columns",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        // GeoPackage header (little-endian, no envelope, srs 2154), then a
        // WKB MultiPolygon of zero polygons
        let mut blob = b"GP\x00\x01".to_vec();
        blob.extend(2154i32.to_le_bytes());
        blob.extend([1, 6, 0, 0, 0, 0, 0, 0, 0]);
        db.execute(
            &format!("UPDATE \"{table}\" SET \"{column}\" = ?1 WHERE fid = (SELECT MIN(fid) FROM \"{table}\")"),
            [blob],
        )
        .unwrap();
    }
    let e = load_communes(&Source::from_path(&path).unwrap(), &FieldNames::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("e.gpkg") && e.contains("empty geometry"), "{e}");
}

#[test]
fn populations_beyond_france_are_refused_and_named() {
    for (value, said) in [
        ("18446744073709551615", "is more than 100000000"),
        ("9223372036854775807", "is more than 100000000"),
        ("-5", "-5 is not a whole number ≥ 0"),
        ("\"beaucoup\"", "\"beaucoup\" is not a whole number ≥ 0"),
    ] {
        let text = collection(&[feature(
            "01001",
            "[[[5.0,45.0],[5.1,45.0],[5.1,45.1],[5.0,45.1],[5.0,45.0]]]",
            &format!(r#","population":{value}"#),
        )]);
        let e = load("p.geojson", &text).unwrap_err();
        assert!(
            e.contains("feature 0 (01001): population") && e.contains(said),
            "{value}: {e}"
        );
        assert!(
            !e.contains("Int(") && !e.contains("Float("),
            "debug text: {e}"
        );
    }
    // a population table too
    let dir = Dir::new();
    dir.write("pop.csv", "code,population\n04001,18446744073709551615\n");
    let mut inputs = paca_inputs();
    inputs.population = Some(Source::from_path(dir.path().join("pop.csv")).unwrap());
    let e = Analysis::run(&inputs).unwrap_err().to_string();
    assert!(
        e.contains("pop.csv: line 2") && e.contains("more than 100000000"),
        "{e}"
    );
}

#[test]
fn a_commune_ring_that_crosses_itself_is_named_with_check_rings() {
    let dir = Dir::new();
    // a square commune with a small twist at a corner (its area barely changes)
    // beside a valid one
    let twisted = feature(
        "04001",
        "[[[5.0,45.0],[5.1,45.0],[5.1,45.1],[5.01,45.1],[5.02,45.105],[5.015,45.098],[5.0,45.1],[5.0,45.0]]]",
        r#","population":100"#,
    );
    let fine = feature(
        "04004",
        "[[[5.1,45.0],[5.2,45.0],[5.2,45.1],[5.1,45.1],[5.1,45.0]]]",
        r#","population":100"#,
    );
    dir.write(
        "c.geojson",
        format!(r#"{{"type":"FeatureCollection","features":[{twisted},{fine}]}}"#),
    );
    dir.write(
        "d.csv",
        "cpts_id,cpts_name,commune_code\nA,A,04001\nA,A,04004\n",
    );
    let run = |extra: &[&str], out: &str| {
        let mut a = vec![
            "analyze",
            "--quiet",
            "--communes",
            "c.geojson",
            "--cpts",
            "d.csv",
            "--out",
            out,
        ];
        a.extend(extra);
        let o = maillage(dir.path(), &a);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        dir.read(&format!("{out}/diagnostics.json"))
    };
    let checked = run(&["--check-rings"], "a");
    let v: serde_json::Value = serde_json::from_str(&checked).unwrap();
    let d = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "self_intersecting_ring")
        .unwrap_or_else(|| panic!("{checked}"));
    assert_eq!(d["codes"], serde_json::json!(["04001"]));
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .contains("04001 (5.01643, 45.10000)"),
        "{d}"
    );
    // without the option: not looked for (the run's cost stays the same)
    assert!(!run(&[], "b").contains("self_intersecting_ring"));
}
