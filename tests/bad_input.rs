//! Bad input: a clear error naming the file, the line or feature, and what was wrong.

use super::*;

fn load_error(geojson: &str) -> String {
    match analyse(geojson, "cpts_id,cpts_name,commune_code\nA,Alpha,01001\n") {
        Err(e) => e.to_string(),
        Ok(_) => panic!("accepted: {geojson}"),
    }
}

#[test]
fn malformed_json_names_the_file_and_position() {
    let msg = load_error(r#"{"type":"FeatureCollection","features":[{"type":"Feature",]}"#);
    assert!(
        msg.starts_with("communes.geojson:") && msg.contains("line 1 column"),
        "{msg}"
    );
    let msg = load_error(r#"{"type":"Topology","objects":{}}"#);
    assert!(msg.contains("Topology"), "{msg}");
}

#[test]
fn nan_coordinates_are_rejected_with_the_feature_index() {
    let good = square("01001", 5.0, 45.0, 0.1);
    let bad = square("01002", 5.1, 45.0, 0.1).replace("[5.1,45]", "[NaN,45]");
    let msg = load_error(&collection(&[good, bad]));
    assert!(msg.contains("feature 1") && msg.contains("line 1"), "{msg}");
}

#[test]
fn every_unusable_feature_is_listed() {
    let ok = square("01001", 5.0, 45.0, 0.1);
    let no_geometry =
        r#"{"type":"Feature","properties":{"code":"01002"},"geometry":null}"#.to_owned();
    let no_code = square("01003", 5.2, 45.0, 0.1).replace(r#""code":"01003","#, "");
    let duplicate = square("01001", 5.3, 45.0, 0.1);
    let short_ring = r#"{"type":"Feature","properties":{"code":"01005"},"geometry":{"type":"Polygon","coordinates":[[[5,45],[5.1,45],[5,45]]]}}"#.to_owned();
    let point = r#"{"type":"Feature","properties":{"code":"01006"},"geometry":{"type":"Point","coordinates":[5,45]}}"#.to_owned();
    let lambert = square("01007", 700000.0, 6600000.0, 1000.0);
    let msg = load_error(&collection(&[
        ok,
        no_geometry,
        no_code,
        duplicate,
        short_ring,
        point,
        lambert,
    ]));
    for needle in [
        "6 unusable feature(s)",
        "feature 1 (01002): no geometry",
        "feature 2: no code property",
        "feature 3 (01001): code 01001 repeats feature 0",
        "feature 4 (01005): ring 0 has 3 points, 4 needed",
        "feature 5 (01006): geometry is a Point",
        "feature 6 (01007): ring 0: coordinate (700000, 6600000) is not longitude/latitude",
    ] {
        assert!(msg.contains(needle), "missing {needle:?} in:\n{msg}");
    }
}

#[test]
fn a_badly_shaped_position_is_located_by_line_and_column() {
    // pretty-printed over several lines, as QGIS writes it; feature 1 has a 1-number position
    let good = square("01001", 5.0, 45.0, 0.1);
    let bad = square("01002", 5.1, 45.0, 0.1).replacen("[5.1,45]", "[5.1]", 1);
    let text =
        format!("{{\"type\": \"FeatureCollection\",\n\"features\": [\n{good},\n{bad}\n]}}\n");
    let column = bad.find("[5.1]").unwrap() + "[5.1".len() + 1;
    let msg = load_error(&text);
    assert!(
        msg.contains(&format!("feature 1 (01002): coordinates: a position needs two numbers at line 4 column {column}")),
        "{msg}"
    );
    let flat = r#"{"type":"Feature","properties":{"code":"01001"},"geometry":{"type":"Polygon","coordinates":[[5,45],[5.1,45],[5.1,45.1],[5,45]]}}"#;
    let msg = load_error(&collection(&[flat.to_owned()]));
    assert!(
        msg.contains("feature 0 (01001): coordinates are nested 2 deep, a Polygon needs 3"),
        "{msg}"
    );
}

#[test]
fn an_unclosed_ring_is_closed_and_reported() {
    let open = square("01001", 5.0, 45.0, 0.1).replace(",[5,45]]]", "]]");
    assert!(!open.contains(",[5,45]]]"));
    let a = analyse(
        &collection(&[open]),
        "cpts_id,cpts_name,commune_code\nA,Alpha,01001\n",
    )
    .unwrap();
    assert!(
        a.summary
            .diagnostics
            .iter()
            .any(|d| d.kind == DiagnosticKind::RepairedRing
                && d.message.contains("feature 0 (01001)"))
    );
    let closed = analyse(
        &collection(&[square("01001", 5.0, 45.0, 0.1)]),
        "cpts_id,cpts_name,commune_code\nA,Alpha,01001\n",
    )
    .unwrap();
    assert_eq!(a.summary.area_km2_total, closed.summary.area_km2_total);
}

#[test]
fn bad_csv_names_the_file_and_line() {
    let layer = collection(&[square("01001", 5.0, 45.0, 0.1)]);
    let e = analyse(&layer, "groupe,ville,commune\nA,Alpha,01001\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("declarations.csv: line 1: header must name commune_code and cpts_id"),
        "{e}"
    );
    let e = analyse(
        &layer,
        "cpts_id,cpts_name,commune_code\nA,Alpha,01001\nB,Beta\n",
    )
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("declarations.csv: line 3:"), "{e}");
    // not UTF-8: read as Windows-1252, and said so
    let latin1 = b"cpts_id,cpts_name,commune_code\nA,R\xe9gion,01001\n".to_vec();
    let mut i = inputs(&layer, "");
    i.cpts = vec![Source::from_bytes("latin1.csv", latin1).unwrap()];
    let a = Analysis::run(&i).unwrap();
    assert_eq!(a.declarations.cpts[0].name, "Région");
    assert!(a
        .summary
        .diagnostics
        .iter()
        .any(|d| d.kind == DiagnosticKind::InputFormat
            && d.message == "latin1.csv : pas en UTF-8 : décodé en Windows-1252"));
    let mut i = inputs(&layer, "cpts_id,cpts_name,commune_code\nA,Alpha,01001\n");
    i.population =
        Some(Source::from_bytes("pop.csv", b"code,population\n01001,12k\n".to_vec()).unwrap());
    let e = Analysis::run(&i).unwrap_err().to_string();
    assert_eq!(
        e,
        "pop.csv: line 2: population \"12k\" of 01001 is not a whole number ≥ 0"
    );
}

#[test]
fn a_missing_file_is_a_clear_error_with_exit_status_2() {
    let dir = Dir::new();
    let o = maillage(
        dir.path(),
        &[
            "analyze",
            "--communes",
            "nope.geojson",
            "--cpts",
            "nope.csv",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("nope.geojson: No such file"),
        "{}",
        stderr(&o)
    );
    let o = maillage(dir.path(), &["analyze", "--communes", "nope.geojson"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "--communes without --cpts is bad usage"
    );
    assert!(
        !dir.path().join("maillage-out").exists(),
        "nothing written on error"
    );
}

#[test]
fn gzip_is_detected_by_content_and_corrupt_gzip_is_an_error() {
    let e =
        Source::from_bytes("x.gz", vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3]).unwrap_err();
    assert!(
        matches!(e, Error::Io { .. }) && e.to_string().starts_with("x.gz:"),
        "{e}"
    );
    let plain = std::fs::read(fixture("paca/declarations.csv")).unwrap();
    assert_eq!(
        Source::from_bytes("d.csv", plain.clone()).unwrap().bytes,
        plain
    );
}
