//! maillage's integration tests: one binary, grouped by what they protect.
//!
//! Expected figures on real data come from `fixtures/paca/expected.json`, computed
//! by `fixtures/oracle_paca.py` with shapely and pyproj (geographiclib), never by
//! maillage's own code.

mod util;

use std::collections::BTreeMap;

use geo::{Area, GeodesicArea, MultiPolygon};
use maillage::{Analysis, DiagnosticKind, Error, Inputs, Source, Verdict};
use util::*;

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-12)
}

// ---------------------------------------------------------------- PACA vs oracle

#[test]
fn paca_counts_and_populations_match_the_oracle_exactly() {
    let a = Analysis::run(&paca_inputs()).unwrap();
    let (s, e) = (&a.summary, paca_expected());
    for key in [
        "communes_total",
        "communes_covered",
        "communes_white",
        "communes_overlap",
        "population_total",
        "population_covered",
        "population_white",
        "population_overlap",
    ] {
        let ours = serde_json::to_value(s).unwrap()[key].as_u64().unwrap();
        assert_eq!(ours, e[key].as_u64().unwrap(), "{key}");
    }
    assert_eq!(s.cpts_count as usize, e["cpts"].as_object().unwrap().len());
}

#[test]
fn paca_areas_match_geographiclib() {
    let a = Analysis::run(&paca_inputs()).unwrap();
    let e = paca_expected();
    // geodesic polygon areas from pyproj: each commune within 5e-5, and the total
    // within 1e-8 (the edge-shape difference cancels between neighbours sharing it)
    assert!(close(
        a.summary.area_km2_total,
        e["area_km2_total"].as_f64().unwrap(),
        1e-8
    ));
    assert!(close(
        a.summary.area_km2_white,
        e["area_km2_white"].as_f64().unwrap(),
        5e-5
    ));
    assert!(close(
        a.summary.area_km2_overlap,
        e["area_km2_overlap"].as_f64().unwrap(),
        5e-5
    ));
    let mut worst: f64 = 0.0;
    for (i, c) in a.communes.layer.communes.iter().enumerate() {
        let exp = e["communes_area_km2"][&c.code].as_f64().unwrap();
        assert!(
            close(a.communes.area_km2[i], exp, 5e-5),
            "{}: {} vs {exp}",
            c.code,
            a.communes.area_km2[i]
        );
        // and geo's own geodesic area (geographiclib in Rust) agrees too
        let geo_km2 = c.geometry.geodesic_area_unsigned() / 1e6;
        assert!(close(a.communes.area_km2[i], geo_km2, 5e-5), "{}", c.code);
        // the overlay's geodesic-edge measure (each edge's bow on the equal-area
        // plane) agrees with geographiclib a thousand times more closely
        let fast = maillage::area::geodesic_multi_polygon_km2(&c.geometry);
        assert!(
            close(fast, geo_km2, 5e-9),
            "{}: {fast} vs {geo_km2}",
            c.code
        );
        worst = worst.max((fast - geo_km2).abs() / geo_km2);
    }
    eprintln!("geodesic-edge area: worst relative difference with geographiclib {worst:e}");
}

#[test]
fn paca_adjacency_white_zones_and_territories_match_the_oracle() {
    let a = Analysis::run(&paca_inputs()).unwrap();
    let e = paca_expected();
    assert_eq!(
        a.adjacency.pair_count() as u64,
        e["adjacent_pairs"].as_u64().unwrap()
    );

    let clusters: Vec<Vec<String>> = a
        .coverage
        .white_zones
        .iter()
        .map(|z| {
            z.members
                .iter()
                .map(|&i| a.communes.get(i).code.clone())
                .collect()
        })
        .collect();
    let expected: Vec<Vec<String>> = e["white_zone_clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|z| serde_json::from_value(z["codes"].clone()).unwrap())
        .collect();
    assert_eq!(clusters, expected);
    assert_eq!(a.summary.white_zone_clusters as usize, expected.len());

    for (c, t) in a.declarations.cpts.iter().zip(&a.coverage.territories) {
        let x = &e["cpts"][&c.id];
        assert_eq!(
            t.members.len() as u64,
            x["communes"].as_u64().unwrap(),
            "{}",
            c.id
        );
        assert_eq!(t.population, x["population"].as_u64().unwrap(), "{}", c.id);
        assert_eq!(
            t.size_class as u64,
            x["size_class"].as_u64().unwrap(),
            "{}",
            c.id
        );
        assert_eq!(
            t.parts.len() as u64,
            x["parts"].as_u64().unwrap(),
            "{}",
            c.id
        );
        let deps: Vec<String> = serde_json::from_value(x["departements"].clone()).unwrap();
        assert_eq!(t.departements, deps, "{}", c.id);
        assert!(
            close(t.area_km2, x["area_km2"].as_f64().unwrap(), 5e-5),
            "{}",
            c.id
        );
    }
    for (code, ids) in e["overlaps"].as_object().unwrap() {
        let i = a.communes.index_of(code).unwrap();
        let ours: Vec<&str> = a.coverage.claimants[i as usize]
            .iter()
            .map(|&k| a.declarations.cpts[k as usize].id.as_str())
            .collect();
        let ids: Vec<&str> = ids
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(ours, ids, "{code}");
        assert_eq!(a.verdict(code), Some(Verdict::Overlap));
    }
}

#[test]
fn paca_tables_add_up_to_the_national_summary() {
    let a = Analysis::run(&paca_inputs()).unwrap();
    let stats = a.stats().unwrap();
    let sum = |df: &polars::prelude::DataFrame, col: &str| -> u64 {
        df.column(col)
            .unwrap()
            .as_materialized_series()
            .u64()
            .unwrap()
            .into_no_null_iter()
            .sum()
    };
    for col in [
        "communes_total",
        "communes_white",
        "population_white",
        "population_overlap",
        "cpts",
        "cpts_class_3",
    ] {
        let national = sum(&stats.national, col);
        assert_eq!(
            sum(&stats.departements, col),
            national,
            "{col} over départements"
        );
        assert_eq!(sum(&stats.regions, col), national, "{col} over régions");
    }
    assert_eq!(stats.departements.height(), 6, "PACA has six départements");
    assert_eq!(stats.communes.height(), 947);
    assert_eq!(stats.cpts.height() as u64, a.summary.cpts_count);
}

// ------------------------------------------------------- rules on hand-made shapes

#[test]
fn a_commune_claimed_twice_is_an_overlap_and_breaks_the_rule() {
    let layer = collection(&[
        square("01001", 5.0, 45.0, 0.1),
        square("01002", 5.1, 45.0, 0.1),
    ]);
    let csv = "cpts_id,cpts_name,commune_code,status\nA,Alpha,01001,projet\nA,Alpha,01002,projet\nB,Beta,01002,valide\n";
    let a = analyse(&layer, csv).unwrap();
    assert_eq!(a.verdict("01001"), Some(Verdict::Covered));
    assert_eq!(a.verdict("01002"), Some(Verdict::Overlap));
    assert_eq!(a.summary.communes_overlap, 1);
    assert_eq!(a.summary.population_overlap, 1000);
    assert!(!a.summary.rule_holds());
}

#[test]
fn a_territory_split_in_two_is_non_contiguous() {
    // three squares in a row; the CPTS declares both ends, not the middle
    let layer = collection(&[
        square("01001", 5.0, 45.0, 0.1),
        square("01002", 5.1, 45.0, 0.1),
        square("01003", 5.2, 45.0, 0.1),
    ]);
    let a = analyse(
        &layer,
        "cpts_id,cpts_name,commune_code\nA,Alpha,01001\nA,Alpha,01003\n",
    )
    .unwrap();
    assert_eq!(a.coverage.territories[0].parts.len(), 2);
    assert_eq!(a.summary.cpts_non_contiguous, 1);
    assert!(a
        .summary
        .diagnostics
        .iter()
        .any(|d| d.kind == DiagnosticKind::NonContiguous && d.cpts_id.as_deref() == Some("A")));
    assert_eq!(a.verdict("01002"), Some(Verdict::White));
}

#[test]
fn white_communes_touching_at_a_corner_are_two_zones_and_sharing_an_edge_one() {
    // 2×2 grid: white on one diagonal (corner contact), covered on the other
    let grid = collection(&[
        square("01001", 5.0, 45.0, 0.1),
        square("01002", 5.1, 45.0, 0.1),
        square("01003", 5.0, 45.1, 0.1),
        square("01004", 5.1, 45.1, 0.1),
    ]);
    let a = analyse(
        &grid,
        "cpts_id,cpts_name,commune_code\nA,Alpha,01002\nA,Alpha,01003\n",
    )
    .unwrap();
    assert_eq!(a.summary.communes_white, 2);
    assert_eq!(
        a.summary.white_zone_clusters, 2,
        "a single common point does not join zones"
    );
    let b = analyse(
        &grid,
        "cpts_id,cpts_name,commune_code\nA,Alpha,01003\nA,Alpha,01004\n",
    )
    .unwrap();
    assert_eq!(
        b.summary.white_zone_clusters, 1,
        "01001 and 01002 share an edge"
    );
    assert_eq!(b.coverage.white_zones[0].members.len(), 2);
}

#[test]
fn clockwise_and_counter_clockwise_layers_give_the_same_areas_and_outlines() {
    let ccw = collection(&[
        square("01001", 5.0, 45.0, 0.1),
        square("01002", 5.1, 45.0, 0.1),
    ]);
    // the same squares with every ring reversed (as in the shared 2018 layer)
    let cw = ccw.replace(
        "[[[5,45],[5.1,45],[5.1,45.1],[5,45.1],[5,45]]]",
        "[[[5,45],[5,45.1],[5.1,45.1],[5.1,45],[5,45]]]",
    );
    assert_ne!(cw, ccw);
    let csv = "cpts_id,cpts_name,commune_code\nA,Alpha,01001\nA,Alpha,01002\n";
    let (a, b) = (analyse(&ccw, csv).unwrap(), analyse(&cw, csv).unwrap());
    assert!(a.summary.area_km2_total > 150.0);
    assert_eq!(a.summary.area_km2_total, b.summary.area_km2_total);
    assert_eq!(a.adjacency, b.adjacency);
}

#[test]
fn full_coverage_holds_the_rule() {
    let layer = collection(&[
        square("01001", 5.0, 45.0, 0.1),
        square("01002", 5.1, 45.0, 0.1),
    ]);
    let a = analyse(
        &layer,
        "cpts_id,cpts_name,commune_code\nA,Alpha,01001\nB,Beta,01002\n",
    )
    .unwrap();
    assert!(a.summary.rule_holds());
    assert_eq!(a.summary.white_zone_clusters, 0);
}

// ------------------------------------------------------------- declarations

#[test]
fn declaration_oddities_are_reported_and_never_counted_twice() {
    let layer = collection(&[
        square("01001", 5.0, 45.0, 0.1),
        square("01002", 5.1, 45.0, 0.1),
    ]);
    let csv = "cpts_id,cpts_name,commune_code,status\n\
               A,Alpha,01001,aci_signe\n\
               A,Alpha,01001,aci_signe\n\
               A,Alfa,01002,valide\n\
               A,Alpha,99999,aci_signe\n\
               B,Beta,,projet\n\
               C,Gamma,88888,en attente\n\
               ,Nobody,01002,projet\n\n";
    let a = analyse(&layer, csv).unwrap();
    let kinds: Vec<DiagnosticKind> = a.summary.diagnostics.iter().map(|d| d.kind).collect();
    for k in [
        DiagnosticKind::DuplicateRow,
        DiagnosticKind::ConflictingName,
        DiagnosticKind::ConflictingStatus,
        DiagnosticKind::UnknownCode,
        DiagnosticKind::EmptyCpts,
        DiagnosticKind::UnknownStatus,
        DiagnosticKind::MissingCptsId,
        DiagnosticKind::MissingCode,
    ] {
        assert!(kinds.contains(&k), "{k:?} missing from {kinds:?}");
    }
    let no_code = diagnostic(&a, DiagnosticKind::MissingCode);
    assert_eq!(no_code.lines, vec![6], "B's row has no commune code");
    // the duplicate counts once: 01001 is covered, not overlapped
    assert_eq!(a.verdict("01001"), Some(Verdict::Covered));
    assert_eq!(
        a.verdict("01002"),
        Some(Verdict::Covered),
        "the row without id is ignored"
    );
    // the most frequent name and status win
    let alpha = &a.declarations.cpts[0];
    assert_eq!(
        (alpha.name.as_str(), alpha.status),
        ("Alpha", Some(maillage::Status::AciSigne))
    );
    let unknown = a
        .summary
        .diagnostics
        .iter()
        .find(|d| d.kind == DiagnosticKind::UnknownCode && d.cpts_id.as_deref() == Some("A"))
        .unwrap();
    assert_eq!(unknown.codes, vec!["99999"]);
    assert_eq!(
        unknown.lines,
        vec![5],
        "line numbers count the header as line 1"
    );
    let status = diagnostic(&a, DiagnosticKind::UnknownStatus);
    assert!(
        status.message.contains("\"en attente\"") && status.lines == vec![7],
        "{}",
        status.message
    );
    // A: aci_signe (3 rows to 1), B: projet, C: unknown ("en attente" is no status)
    assert_eq!(a.summary.cpts_by_status["unknown"], 1);
    assert_eq!(a.summary.cpts_by_status["aci_signe"], 1);
    assert!(
        !kinds.contains(&DiagnosticKind::PopulationSource),
        "the layer has a population property"
    );
}

#[test]
fn population_table_overrides_the_layer_and_reports_gaps() {
    let layer = collection(&[
        square("01001", 5.0, 45.0, 0.1),
        square("01002", 5.1, 45.0, 0.1),
    ]);
    let mut inputs = inputs(&layer, "cpts_id,cpts_name,commune_code\nA,Alpha,01001\n");
    let a = Analysis::run(&inputs).unwrap();
    assert_eq!(
        a.summary.population_total, 2000,
        "from the layer's population property"
    );
    inputs.population = Some(
        Source::from_bytes(
            "pop.csv",
            b"code,population\n01001,50000\n75056,2100000\n".to_vec(),
        )
        .unwrap(),
    );
    let b = Analysis::run(&inputs).unwrap();
    // 01002 is missing from the table: its COG 2026 population (270) fills the gap
    assert_eq!(b.summary.population_total, 50000 + 270);
    assert_eq!(b.coverage.territories[0].size_class, 2);
    let kinds: Vec<_> = b.summary.diagnostics.iter().map(|d| d.kind).collect();
    assert!(
        kinds.contains(&DiagnosticKind::PopulationSource)
            && kinds.contains(&DiagnosticKind::UnusedPopulation),
        "{kinds:?}"
    );
    assert!(b.summary.inputs["population"].contains("COG 2026"));
}

// --------------------------------------------------------------- bad input

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
            && d.message == "latin1.csv: not UTF-8: decoded as Windows-1252"));
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

// -------------------------------------------------------------------- CLI

#[test]
fn demo_run_writes_every_output_as_valid_rfc7946() {
    let dir = Dir::new();
    let o = maillage(dir.path(), &["analyze", "--format", "both"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("zone blanche") && stdout.contains("wrote 13 files"),
        "{stdout}"
    );
    let summary: serde_json::Value =
        serde_json::from_str(&dir.read("maillage-out/summary.json")).unwrap();
    let e = paca_expected();
    assert_eq!(summary["communes_white"], e["communes_white"]);
    for key in [
        "communes.parquet",
        "cpts.parquet",
        "departements.parquet",
        "regions.parquet",
    ] {
        let bytes = std::fs::read(dir.path().join("maillage-out").join(key)).unwrap();
        assert!(
            bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"),
            "{key}"
        );
    }
    let header = dir
        .read("maillage-out/communes.csv")
        .lines()
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(
        header,
        "code,name,departement,region,population,area_km2,status,cpts_ids,covered_fraction,overlap_fraction,white_fraction"
    );
    let header = dir
        .read("maillage-out/cpts.csv")
        .lines()
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(header, "cpts_id,cpts_name,status,communes,population,area_km2,size_class,parts,departements,regions");

    let layers: BTreeMap<&str, usize> = [
        (
            "territories",
            summary["cpts_count"].as_u64().unwrap() as usize,
        ),
        (
            "white_zones",
            summary["white_zone_clusters"].as_u64().unwrap() as usize,
        ),
        (
            "overlaps",
            summary["communes_overlap"].as_u64().unwrap() as usize,
        ),
    ]
    .into();
    for (name, count) in layers {
        let text = dir.read(&format!("maillage-out/{name}.geojson"));
        let fc: geojson::FeatureCollection = text.parse().unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(fc.features.len(), count, "{name}");
        for f in &fc.features {
            let props = f.properties.as_ref().unwrap();
            let g: geo::Geometry<f64> = f.geometry.clone().unwrap().try_into().unwrap();
            let m: MultiPolygon<f64> = match g {
                geo::Geometry::Polygon(p) => MultiPolygon::new(vec![p]),
                geo::Geometry::MultiPolygon(m) => m,
                other => panic!("{name}: {other:?}"),
            };
            for p in &m.0 {
                assert!(
                    p.exterior().signed_area_ccw() > 0.0,
                    "{name}: exterior not counter-clockwise"
                );
                for h in p.interiors() {
                    assert!(h.signed_area_ccw() < 0.0, "{name}: hole not clockwise");
                }
            }
            // a dissolved outline has the area of its communes: no sliver, no lost part
            let dissolved = maillage::area::multi_polygon_km2(&m);
            let declared = props["area_km2"].as_f64().unwrap();
            assert!(
                close(dissolved, declared, 1e-6),
                "{name} {props:?}: {dissolved} vs {declared}"
            );
        }
    }
}

trait SignedCcw {
    fn signed_area_ccw(&self) -> f64;
}
impl SignedCcw for geo::LineString<f64> {
    fn signed_area_ccw(&self) -> f64 {
        geo::Polygon::new(self.clone(), vec![]).signed_area()
    }
}

#[test]
fn check_exits_1_when_the_rule_is_broken_and_0_when_it_holds() {
    let dir = Dir::new();
    let o = maillage(dir.path(), &["check", "--quiet"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "the demo has zones blanches: {}",
        stderr(&o)
    );
    assert!(
        !dir.path().join("maillage-out").exists(),
        "check writes files only with --out"
    );

    // one CPTS per département of PACA: every commune covered exactly once
    let e = paca_expected();
    let mut csv = String::from("cpts_id,cpts_name,commune_code,status\n");
    for code in e["communes_area_km2"].as_object().unwrap().keys() {
        csv.push_str(&format!(
            "D{0},CPTS {0},{code},aci_signe\n",
            maillage::admin::departement_of(code)
        ));
    }
    let decl = dir.write("full.csv", csv);
    let communes = fixture("paca/communes.geojson.gz");
    let o = maillage(
        dir.path(),
        &[
            "check",
            "--communes",
            communes.to_str().unwrap(),
            "--cpts",
            decl.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("rule: holds"));
}

#[test]
fn output_is_byte_identical_whatever_the_threads_and_the_row_order() {
    let (a, b) = (Dir::new(), Dir::new());
    let raw = Source::from_path(fixture("paca/communes.geojson.gz"))
        .unwrap()
        .bytes;
    let mut layer: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    a.write("communes.geojson", serde_json::to_vec(&layer).unwrap());
    let features = layer["features"].as_array_mut().unwrap();
    shuffle(features, 7);
    b.write("communes.geojson", serde_json::to_vec(&layer).unwrap());
    let decl = std::fs::read_to_string(fixture("paca/declarations.csv")).unwrap();
    a.write("decl.csv", &decl);
    let mut rows: Vec<&str> = decl.lines().skip(1).collect();
    shuffle(&mut rows, 11);
    b.write(
        "decl.csv",
        format!(
            "cpts_id,cpts_name,commune_code,status\n{}\n",
            rows.join("\n")
        ),
    );
    let pop = std::fs::read_to_string(fixture("paca/population.csv")).unwrap();
    a.write("pop.csv", &pop);
    b.write("pop.csv", &pop);
    let args = [
        "analyze",
        "--communes",
        "communes.geojson",
        "--cpts",
        "decl.csv",
        "--population",
        "pop.csv",
        "--out",
        "out",
        "--quiet",
        "--format",
        "both",
        "--map",
        "--report",
        "--date",
        "2026-01-01",
    ];
    for (dir, threads) in [(&a, "1"), (&b, "2")] {
        let mut v = args.to_vec();
        v.extend(["--threads", threads]);
        let o = maillage(dir.path(), &v);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    let names: Vec<String> = std::fs::read_dir(a.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 16, "{names:?}");
    for name in names {
        let (x, y) = (
            std::fs::read(a.path().join("out").join(&name)).unwrap(),
            std::fs::read(b.path().join("out").join(&name)).unwrap(),
        );
        assert!(
            x == y,
            "{name} differs between 1 thread / file order and 2 threads / shuffled rows"
        );
    }
}

/// Issue 25: the output folder changes in one step. Two complete sets of the
/// same files (the demo's declarations, and another set of declarations), then
/// runs killed (abort, as `kill -9`) at every step of the commit: the folder
/// holds the old set or the new set, never a mix, and the next run removes what
/// the killed one left.
mod atomic_output {
    use super::*;
    use std::collections::BTreeMap;

    fn files(dir: &std::path::Path) -> BTreeMap<String, Vec<u8>> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| e.file_type().unwrap().is_file())
            .map(|e| {
                (
                    e.file_name().into_string().unwrap(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect()
    }

    fn args(decl: &str, out: &str) -> Vec<String> {
        [
            "analyze",
            "--communes",
            fixture("paca/communes.geojson.gz").to_str().unwrap(),
            "--cpts",
            fixture(decl).to_str().unwrap(),
            "--date",
            "2026-12-01",
            "--quiet",
            "--out",
            out,
        ]
        .map(str::to_owned)
        .to_vec()
    }

    fn run(dir: &Dir, decl: &str, out: &str, fault: Option<&str>) -> std::process::Output {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_maillage"));
        c.current_dir(dir.path()).args(args(decl, out));
        if let Some(f) = fault {
            c.env("MAILLAGE_FAULT_AT", f);
        }
        c.output().unwrap()
    }

    /// Which set the folder holds: "old", "new", or a panic naming the mix.
    fn which(
        got: &BTreeMap<String, Vec<u8>>,
        old: &BTreeMap<String, Vec<u8>>,
        new: &BTreeMap<String, Vec<u8>>,
    ) -> &'static str {
        if got == old {
            "old"
        } else if got == new {
            "new"
        } else {
            let mixed: Vec<&String> = got
                .iter()
                .filter(|(k, v)| old.get(*k) != Some(*v))
                .map(|(k, _)| k)
                .collect();
            panic!("a mix of the two sets: {mixed:?} are not the old files");
        }
    }

    #[test]
    fn a_run_killed_at_any_step_leaves_the_old_set_or_the_new_one() {
        let dir = Dir::new();
        for (decl, out) in [
            ("paca/declarations.csv", "old"),
            ("paca/propose-declarations.csv", "new"),
        ] {
            assert_eq!(run(&dir, decl, out, None).status.code(), Some(0));
        }
        let (old, new) = (
            files(&dir.path().join("old")),
            files(&dir.path().join("new")),
        );
        assert_eq!(
            old.keys().collect::<Vec<_>>(),
            new.keys().collect::<Vec<_>>()
        );
        let differ = old.iter().filter(|(k, v)| new[*k] != **v).count();
        assert!(differ >= 5, "the two sets differ in {differ} files only");
        let mut seen = Vec::new();
        for step in ["staged", "linked", "exchanged", "cleaned"] {
            let out = dir.path().join("out");
            let _ = std::fs::remove_dir_all(&out);
            std::fs::create_dir(&out).unwrap();
            for (k, v) in &old {
                std::fs::write(out.join(k), v).unwrap();
            }
            let o = run(&dir, "paca/propose-declarations.csv", "out", Some(step));
            assert_eq!(
                o.status.code(),
                None,
                "{step}: the run should have been killed"
            );
            let state = which(&files(&out), &old, &new);
            seen.push(format!("{step}: {state}"));
            // the next run puts the new set in place and leaves nothing behind
            let o = run(&dir, "paca/propose-declarations.csv", "out", None);
            assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
            assert_eq!(which(&files(&out), &old, &new), "new", "{step}");
            let leftovers: Vec<String> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .filter(|n| n.contains("maillage-") && !n.ends_with(".lock"))
                .collect();
            assert!(leftovers.is_empty(), "{step}: {leftovers:?}");
        }
        // killed before the swap: old; after it: new
        assert_eq!(
            seen,
            [
                "staged: old",
                "linked: old",
                "exchanged: new",
                "cleaned: new"
            ]
        );
    }

    #[test]
    fn other_files_stay_and_a_replaced_geopackage_loses_its_stale_wal() {
        let dir = Dir::new();
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        dir.write("out/notes.txt", "the planner's own notes");
        dir.write("out/maillage.gpkg", "an old GeoPackage");
        dir.write("out/maillage.gpkg-wal", "another program's write-ahead log");
        std::fs::create_dir(out.join("archive")).unwrap();
        dir.write("out/archive/2026-01.csv", "kept");
        // and what a run killed by an older version left
        dir.write("out/.summary.json.4242.tmp", "partial");
        let mut a = args("paca/declarations.csv", "out");
        a.extend(["--format".into(), "gpkg".into()]);
        let o = maillage(
            dir.path(),
            &a.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(dir.read("out/notes.txt"), "the planner's own notes");
        assert_eq!(dir.read("out/archive/2026-01.csv"), "kept");
        assert!(std::fs::read(out.join("maillage.gpkg"))
            .unwrap()
            .starts_with(b"SQLite format 3\0"));
        assert!(
            !out.join("maillage.gpkg-wal").exists(),
            "the stale WAL would corrupt it"
        );
        assert!(!out.join(".summary.json.4242.tmp").exists());
    }

    #[test]
    fn a_target_that_cannot_be_replaced_leaves_the_folder_as_it_was() {
        let dir = Dir::new();
        assert_eq!(
            run(&dir, "paca/declarations.csv", "out", None)
                .status
                .code(),
            Some(0)
        );
        let before = files(&dir.path().join("out"));
        // regions.csv is a folder now, and summary.json is gone
        std::fs::remove_file(dir.path().join("out/regions.csv")).unwrap();
        std::fs::create_dir(dir.path().join("out/regions.csv")).unwrap();
        std::fs::remove_file(dir.path().join("out/summary.json")).unwrap();
        let before: BTreeMap<_, _> = before
            .into_iter()
            .filter(|(k, _)| k != "summary.json" && k != "regions.csv")
            .collect();
        let o = run(&dir, "paca/propose-declarations.csv", "out", None);
        assert_eq!(o.status.code(), Some(2));
        assert!(stderr(&o).contains("out/regions.csv"), "{}", stderr(&o));
        assert_eq!(files(&dir.path().join("out")), before, "the folder changed");
        assert!(dir.path().join("out/regions.csv").is_dir());
    }

    /// Two runs on one folder at once: the second waits for the first, and the
    /// folder ends with one whole set.
    #[test]
    fn two_runs_on_one_folder_do_not_interleave() {
        let dir = Dir::new();
        for (decl, out) in [
            ("paca/declarations.csv", "old"),
            ("paca/propose-declarations.csv", "new"),
        ] {
            assert_eq!(run(&dir, decl, out, None).status.code(), Some(0));
        }
        let (old, new) = (
            files(&dir.path().join("old")),
            files(&dir.path().join("new")),
        );
        for trial in 0..4 {
            let spawn = |decl: &str| {
                std::process::Command::new(env!("CARGO_BIN_EXE_maillage"))
                    .current_dir(dir.path())
                    .args(args(decl, "shared"))
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .unwrap()
            };
            let (mut a, mut b) = (
                spawn("paca/declarations.csv"),
                spawn("paca/propose-declarations.csv"),
            );
            assert!(
                a.wait().unwrap().success() && b.wait().unwrap().success(),
                "{trial}"
            );
            which(&files(&dir.path().join("shared")), &old, &new);
        }
    }
}

#[test]
fn a_failed_write_leaves_no_partial_file() {
    let dir = Dir::new();
    std::fs::create_dir_all(dir.path().join("out/regions.csv")).unwrap();
    let o = maillage(dir.path(), &["analyze", "--out", "out", "--quiet"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("regions.csv"), "{}", stderr(&o));
    for entry in std::fs::read_dir(dir.path().join("out")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(!name.ends_with(".tmp"), "temporary file left: {name}");
        if name.ends_with(".csv") && name != "regions.csv" {
            let text = dir.read(&format!("out/{name}"));
            assert!(
                text.ends_with('\n') && text.lines().count() > 1,
                "{name} is partial"
            );
        }
    }
    // an --out that is a file cannot become a folder
    dir.write("file", "x");
    let o = maillage(dir.path(), &["analyze", "--out", "file", "--quiet"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("file"), "{}", stderr(&o));
}

#[test]
fn demo_inputs_are_the_paca_fixture() {
    let demo = Inputs::demo();
    let files = paca_inputs();
    // the files' commune layer is read when loaded (streamed): read it here
    assert!(files.communes.bytes.is_empty());
    let layer = maillage::Source::from_path(&files.communes.name).unwrap();
    assert_eq!(demo.communes.bytes, layer.bytes);
    assert_eq!(demo.cpts[0].bytes, files.cpts[0].bytes);
    assert_eq!(
        demo.population.unwrap().bytes,
        files.population.unwrap().bytes
    );
}

// ------------------------------------------------------- invariants (property tests)

/// Random declarations over the real PACA layer (fixed seeds): each commune claimed by
/// none, one or two of 9 CPTS.
fn random_declarations(codes: &[String], seed: u64) -> String {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut csv = String::from("cpts_id,cpts_name,commune_code,status\n");
    for code in codes {
        let r = next();
        let claimants = match r % 10 {
            0 | 1 => 0,
            9 => 2,
            _ => 1,
        };
        for k in 0..claimants {
            let id = (r >> (8 + 4 * k)) % 9;
            csv.push_str(&format!("R{id},Random {id},{code},projet\n"));
        }
    }
    csv
}

#[test]
fn invariants_hold_for_random_declarations_on_paca() {
    let base = paca_inputs();
    let codes: Vec<String> = paca_expected()["communes_area_km2"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    for seed in 1..=12u64 {
        let csv = random_declarations(&codes, seed);
        let mut inputs = base.clone();
        inputs.cpts = vec![Source::from_bytes("random.csv", csv.clone().into_bytes()).unwrap()];
        let a = Analysis::run(&inputs).unwrap();
        let s = &a.summary;
        // verdicts partition the communes, their population and their area
        assert_eq!(
            s.communes_covered + s.communes_white + s.communes_overlap,
            s.communes_total,
            "seed {seed}"
        );
        assert_eq!(
            s.population_covered + s.population_white + s.population_overlap,
            s.population_total
        );
        // each figure is rounded to 1e-6 km² on its own: the parts add up within 1.5e-6
        let parts = s.area_km2_covered + s.area_km2_white + s.area_km2_overlap;
        assert!((parts - s.area_km2_total).abs() <= 1.5e-6, "seed {seed}");
        for (i, claim) in a.coverage.claimants.iter().enumerate() {
            let expected = [Verdict::White, Verdict::Covered][..]
                .get(claim.len())
                .copied()
                .unwrap_or(Verdict::Overlap);
            assert_eq!(a.coverage.verdicts[i], expected);
        }
        // zones blanches partition the white communes; each is connected, no two touch
        let mut zone_of = vec![usize::MAX; a.communes.len()];
        for (z, zone) in a.coverage.white_zones.iter().enumerate() {
            assert_eq!(
                a.adjacency.components(&zone.members).len(),
                1,
                "seed {seed}: zone {} split",
                zone.id
            );
            for &i in &zone.members {
                assert_eq!(zone_of[i as usize], usize::MAX, "commune in two zones");
                zone_of[i as usize] = z;
            }
        }
        for i in 0..a.communes.len() as u32 {
            let white = a.coverage.verdicts[i as usize] == Verdict::White;
            assert_eq!(white, zone_of[i as usize] != usize::MAX);
            for &nb in a.adjacency.neighbours(i) {
                if white && a.coverage.verdicts[nb as usize] == Verdict::White {
                    assert_eq!(
                        zone_of[i as usize], zone_of[nb as usize],
                        "adjacent white communes in two zones"
                    );
                }
            }
        }
        // a territory's parts partition its communes and no two parts touch
        for t in &a.coverage.territories {
            let mut all: Vec<u32> = t.parts.concat();
            all.sort_unstable();
            assert_eq!(all, t.members);
            for (p, part) in t.parts.iter().enumerate() {
                for other in &t.parts[p + 1..] {
                    assert!(part.iter().all(|&i| other.iter().all(|&j| a
                        .adjacency
                        .neighbours(i)
                        .binary_search(&j)
                        .is_err())));
                }
            }
        }
        // shuffled rows give the same summary and tables
        let mut rows: Vec<&str> = csv.lines().skip(1).collect();
        shuffle(&mut rows, seed);
        let mut shuffled = base.clone();
        shuffled.cpts = vec![Source::from_bytes(
            "random.csv",
            format!(
                "cpts_id,cpts_name,commune_code,status\n{}\n",
                rows.join("\n")
            )
            .into_bytes(),
        )
        .unwrap()];
        let b = Analysis::run(&shuffled).unwrap();
        // identical but for the line numbers diagnostics cite: those follow the rows
        let without_lines = |s: &maillage::Summary| {
            let mut s = s.clone();
            for d in &mut s.diagnostics {
                d.lines.clear();
                d.message.clear();
            }
            s
        };
        assert!(
            a.summary
                .diagnostics
                .iter()
                .any(|d| d.kind == DiagnosticKind::DuplicateRow),
            "seed {seed}"
        );
        assert_eq!(
            without_lines(&a.summary),
            without_lines(&b.summary),
            "seed {seed}"
        );
        let (sa, sb) = (a.stats().unwrap(), b.stats().unwrap());
        assert!(
            sa.cpts.equals_missing(&sb.cpts) && sa.departements.equals_missing(&sb.departements)
        );
    }
}

// ------------------------------------------------------- drawn territories (overlay)

mod drawn {
    use super::*;
    use maillage::load::{load_communes, Communes, FieldNames};
    use maillage::overlay::{Extent, Overlay};

    /// A longitude strip [x0, x1] × [45, 45.1]. Strips of one latitude band have
    /// areas nearly proportional to their width: the overlay measures geodesic
    /// edges, whose east-west ones bulge poleward (about 7e-5 of a 0.1° strip), so
    /// the checks below allow 1e-4; exact areas are checked on PACA against pyproj.
    fn strip(x0: f64, x1: f64) -> MultiPolygon<f64> {
        MultiPolygon::new(vec![geo::Polygon::new(
            geo::LineString::from(vec![
                (x0, 45.0),
                (x1, 45.0),
                (x1, 45.1),
                (x0, 45.1),
                (x0, 45.0),
            ]),
            vec![],
        )])
    }

    /// Communes A = [5.0, 5.1] and B = [5.1, 5.2], 1000 inhabitants each.
    fn two_communes() -> Communes {
        let layer = collection(&[
            square("01001", 5.0, 45.0, 0.1),
            square("01002", 5.1, 45.0, 0.1),
        ]);
        let src = Source::from_bytes("c.geojson", layer.into_bytes()).unwrap();
        Communes::new(load_communes(&src, &FieldNames::default()).unwrap(), None).0
    }

    #[test]
    fn shares_overlaps_and_gaps_of_drawn_strips() {
        let c = two_communes();
        let (a, b) = (c.area_km2[0], c.area_km2[1]);
        // X: [4.95, 5.15] covers A and half of B; Y: [5.16, 5.25] 40 % of B; Z: [5.05, 5.08] 30 % of A
        let (x, y, z) = (strip(4.95, 5.15), strip(5.16, 5.25), strip(5.05, 5.08));
        let o = Overlay::compute(
            &c,
            &[Extent::Drawn(&x), Extent::Drawn(&y), Extent::Drawn(&z)],
            0.0,
        );
        let near = |got: f64, want: f64| (got - want).abs() < 1e-4 * want.max(1.0);
        let ca = &o.communes[0];
        assert_eq!(
            ca.shares.iter().map(|s| s.0).collect::<Vec<_>>(),
            vec![0, 2]
        );
        assert!(
            near(ca.shares[0].1, a) && near(ca.shares[1].1, 0.3 * a),
            "{ca:?}"
        );
        assert!(near(ca.covered_km2, a) && near(ca.overlap_km2, 0.3 * a));
        let cb = &o.communes[1];
        assert_eq!(
            cb.shares.iter().map(|s| s.0).collect::<Vec<_>>(),
            vec![0, 1]
        );
        assert!(
            near(cb.shares[0].1, 0.5 * b) && near(cb.shares[1].1, 0.4 * b),
            "{cb:?}"
        );
        assert!(near(cb.covered_km2, 0.9 * b) && cb.overlap_km2 == 0.0);
        // one gap [5.15, 5.16] in B, one overlap {X, Z} in A
        assert_eq!(o.gaps.len(), 1);
        assert!(near(o.gaps[0].area_km2, 0.1 * b) && o.gaps[0].communes == vec![1]);
        assert!(
            (o.gaps[0].population - 100.0).abs() < 1e-3,
            "10 % of B's 1000 inhabitants: {:?}",
            o.gaps
        );
        assert!(near(
            maillage::area::multi_polygon_km2(&o.gaps[0].geometry),
            0.1 * b
        ));
        assert_eq!(o.overlaps.len(), 1);
        assert_eq!(o.overlaps[0].owners, vec![0, 2]);
        assert!(
            near(o.overlaps[0].area_km2, 0.3 * a) && (o.overlaps[0].population - 300.0).abs() < 0.1
        );
        assert_eq!(o.overlap_pairs(), 1);
        assert!(o.slivers.is_empty());
    }

    #[test]
    fn pieces_under_the_tolerance_are_slivers_not_dropped() {
        let c = two_communes();
        let (x, y) = (strip(4.95, 5.15), strip(5.16, 5.25));
        let gap = 0.1 * c.area_km2[1];
        let o = Overlay::compute(&c, &[Extent::Drawn(&x), Extent::Drawn(&y)], gap * 1.01);
        assert!(o.gaps.is_empty());
        assert_eq!(o.slivers.len(), 1);
        assert!((o.slivers[0].area_km2 - gap).abs() < 1e-4 * gap);
        assert_eq!(o.min_area_km2, gap * 1.01);
    }

    #[test]
    fn a_gap_across_two_communes_is_one_piece_touching_both() {
        let c = two_communes();
        // X covers [5.0, 5.05], Y covers [5.17, 5.2]: the gap [5.05, 5.17] spans A and B
        let (x, y) = (strip(5.0, 5.05), strip(5.17, 5.2));
        let o = Overlay::compute(&c, &[Extent::Drawn(&x), Extent::Drawn(&y)], 0.0);
        assert_eq!(o.gaps.len(), 1, "{:?}", o.gaps);
        assert_eq!(o.gaps[0].communes, vec![0, 1]);
        let want = 0.5 * c.area_km2[0] + 0.7 * c.area_km2[1];
        assert!((o.gaps[0].area_km2 - want).abs() < 1e-4 * want);
        assert_eq!(
            o.gaps[0].geometry.0.len(),
            1,
            "dissolved across the commune boundary"
        );
        assert!(
            (o.gaps[0].population - 1200.0).abs() < 1e-4,
            "500 in A, 700 in B"
        );
    }

    #[test]
    fn commune_lists_and_drawn_outlines_mix() {
        let c = two_communes();
        // CPTS 0 declares A as a commune; CPTS 1 draws over the east half of A and all of B
        let y = strip(5.05, 5.2);
        let members = [0u32];
        let o = Overlay::compute(&c, &[Extent::Communes(&members), Extent::Drawn(&y)], 0.0);
        assert!((o.communes[0].overlap_km2 - 0.5 * c.area_km2[0]).abs() < 1e-4 * c.area_km2[0]);
        assert_eq!(
            o.communes[1].covered_km2, c.area_km2[1],
            "B lies inside Y: covered whole"
        );
        assert!(o.gaps.is_empty());
        assert_eq!(o.overlaps.len(), 1);
        assert_eq!(o.overlaps[0].owners, vec![0, 1]);
    }
}

mod drawn_input {
    use super::*;
    use maillage::load::load_territories;

    fn feature(id: &str, coords: &str) -> String {
        format!(
            r#"{{"type":"Feature","properties":{{"cpts_id":"{id}","cpts_name":"CPTS {id}","status":"valide"}},"geometry":{{"type":"Polygon","coordinates":{coords}}}}}"#
        )
    }

    #[test]
    fn each_bad_drawn_feature_is_repaired_or_rejected_and_the_rest_kept() {
        let ok = feature("A", "[[[5,45],[5.1,45],[5.1,45.1],[5,45.1],[5,45]]]");
        let clockwise = feature("B", "[[[6,45],[6,45.1],[6.1,45.1],[6.1,45],[6,45]]]");
        let unclosed_repeated = feature("C", "[[[7,45],[7.1,45],[7.1,45],[7.1,45.1],[7,45.1]]]");
        let bow_tie = feature("D", "[[[8,45],[8.1,45.1],[8.1,45],[8,45.1],[8,45]]]");
        let hole_outside = feature("E", "[[[9,45],[9.1,45],[9.1,45.1],[9,45.1],[9,45]],[[9.5,45.5],[9.6,45.5],[9.6,45.6],[9.5,45.5]]]");
        let lambert = feature(
            "F",
            "[[[700000,6600000],[701000,6600000],[701000,6601000],[700000,6600000]]]",
        );
        let empty = r#"{"type":"Feature","properties":{"cpts_id":"G"},"geometry":{"type":"Polygon","coordinates":[]}}"#.to_owned();
        let no_id = r#"{"type":"Feature","properties":{"cpts_name":"nobody"},"geometry":{"type":"Polygon","coordinates":[[[5,46],[5.1,46],[5.1,46.1],[5,46]]]}}"#.to_owned();
        let a_again = feature("A", "[[[5.1,45],[5.2,45],[5.2,45.1],[5.1,45.1],[5.1,45]]]");
        let text = collection(&[
            ok,
            clockwise,
            unclosed_repeated,
            bow_tie,
            hole_outside,
            lambert,
            empty,
            no_id,
            a_again,
        ]);
        let t = load_territories(&Source::from_bytes("drawn.geojson", text.into_bytes()).unwrap())
            .unwrap();

        let ids: Vec<&str> = t.territories.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(
            ids,
            vec!["A", "B", "C"],
            "the unusable features are left out, the others kept"
        );
        let msgs: Vec<String> = t
            .diagnostics
            .iter()
            .map(|d| format!("{:?}: {}", d.kind, d.message))
            .collect();
        let has = |needle: &str| msgs.iter().any(|m| m.contains(needle));
        for needle in [
            "RepairedGeometry: drawn.geojson: repaired: 1 unclosed ring(s) closed; 1 repeated consecutive point(s) dropped; 1 ring(s) re-oriented",
            "RejectedFeature: drawn.geojson: feature 3 (D): polygon 0: its exterior ring has a self-intersection (a bow-tie",
            "RejectedFeature: drawn.geojson: feature 4 (E): polygon 0: interior ring at index 0 is not contained within the polygon's exterior",
            "RejectedFeature: drawn.geojson: feature 5 (F): ring 0: coordinate (700000, 6600000) is not longitude/latitude",
            "RejectedFeature: drawn.geojson: feature 6 (G): empty geometry",
            "RejectedFeature: drawn.geojson: feature 7: no cpts_id property",
            "MergedFeatures: drawn.geojson: CPTS A is drawn in 2 features (0, 8)",
        ] {
            assert!(has(needle), "missing {needle:?} in {msgs:#?}");
        }
        // the repaired and merged territories have the right shapes
        let a = &t.territories[0];
        assert_eq!(
            a.geometry.0.len(),
            1,
            "two adjacent squares merge into one polygon"
        );
        assert!(
            (maillage::area::multi_polygon_km2(&a.geometry)
                - 2.0 * maillage::area::multi_polygon_km2(&t.territories[1].geometry))
            .abs()
                < 1e-6
        );
        for t in &t.territories {
            assert!(
                t.geometry.signed_area() > 0.0,
                "{} oriented counter-clockwise",
                t.id
            );
            assert_eq!(t.status, Some(maillage::Status::Valide));
        }
    }
}

mod drawn_paca {
    use super::*;
    use maillage::overlay::NOISE;

    /// PACA with its even-numbered CPTS drawn (outlines simplified by ~400 m, so they
    /// no longer follow commune boundaries) and the odd-numbered ones as commune
    /// lists, as made by fixtures/make_drawn.py.
    fn drawn_inputs(min_area_km2: f64) -> Inputs {
        let mut i = Inputs::from_paths(
            &fixture("paca/communes.geojson.gz"),
            &[
                &fixture("paca/drawn.geojson"),
                &fixture("paca/drawn-lists.csv"),
            ],
            Some(&fixture("paca/population.csv")),
            maillage::FieldNames::default(),
        )
        .unwrap();
        i.min_area_km2 = min_area_km2;
        i
    }

    /// The same drawn territories exported by GDAL in Lambert-93 with a `crs` member
    /// (fixtures/make_adminexpress.py, 1 mm precision) give the same verdicts and
    /// areas: the member is honoured, not misread.
    #[test]
    /// The drawings in Lambert-93 as QGIS saves them (GeoJSON with a crs member,
    /// GeoPackage, zipped Shapefile; made by GDAL) give the WGS84 file's figures.
    fn drawn_territories_in_lambert_93_are_reprojected() {
        let a = Analysis::run(&drawn_inputs(0.01)).unwrap();
        let who = |x: &Analysis| -> Vec<(String, String, Option<maillage::load::Status>)> {
            x.declarations
                .cpts
                .iter()
                .map(|c| (c.id.clone(), c.name.clone(), c.status))
                .collect()
        };
        for rel in [
            "adminexpress/drawn-l93.geojson.gz",
            "adminexpress/drawn-l93.gpkg",
            "adminexpress/drawn-l93.zip",
        ] {
            let mut l93 = drawn_inputs(0.01);
            l93.cpts[0] = Source::from_path(fixture(rel)).unwrap();
            let b = Analysis::run(&l93).unwrap();
            assert!(
                b.summary
                    .diagnostics
                    .iter()
                    .any(|d| d.kind == DiagnosticKind::InputFormat
                        && d.message.contains("Lambert")
                        && d.message.contains("reprojected to longitude/latitude")),
                "{rel}"
            );
            assert_eq!(b.summary.cpts_drawn, 19, "{rel}");
            assert_eq!(who(&a), who(&b), "{rel}: same ids, names, statuses");
            for c in &a.communes.layer.communes {
                assert_eq!(a.verdict(&c.code), b.verdict(&c.code), "{rel}: {}", c.code);
            }
            let (s, t) = (&a.summary, &b.summary);
            for (x, y) in [
                (s.area_km2_white, t.area_km2_white),
                (s.area_km2_overlap, t.area_km2_overlap),
                (s.area_km2_covered, t.area_km2_covered),
            ] {
                assert!((x - y).abs() <= 1e-5 * x.max(1.0), "{rel}: {x} vs {y} km²");
            }
        }
    }

    /// Independent figures from shapely + pyproj (fixtures/make_drawn.py).
    fn expected() -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(fixture("paca/drawn-expected.json")).unwrap())
            .unwrap()
    }

    #[test]
    fn drawn_paca_matches_shapely_and_pyproj() {
        let e = expected();
        let a = Analysis::run(&drawn_inputs(e["min_area_km2"].as_f64().unwrap())).unwrap();
        let s = &a.summary;
        assert_eq!(s.cpts_drawn, e["cpts_drawn"].as_u64().unwrap());
        assert!(
            close(
                s.area_km2_white,
                e["area_km2_white"].as_f64().unwrap(),
                1e-4
            ),
            "{}",
            s.area_km2_white
        );
        assert!(
            close(
                s.area_km2_overlap,
                e["area_km2_overlap"].as_f64().unwrap(),
                1e-4
            ),
            "{}",
            s.area_km2_overlap
        );
        for (key, ours) in [
            ("covered", s.communes_covered),
            ("white", s.communes_white),
            ("overlap", s.communes_overlap),
        ] {
            assert_eq!(ours, e["verdicts"][key].as_u64().unwrap(), "{key} communes");
        }
        // per commune fractions: both sides measure geodesic areas; what remains is
        // the two overlay engines' rounding
        let stats = a.stats().unwrap();
        let frac = |name: &str| -> Vec<f64> {
            stats
                .communes
                .column(name)
                .unwrap()
                .as_materialized_series()
                .f64()
                .unwrap()
                .into_no_null_iter()
                .collect()
        };
        let (covered, overlap, white) = (
            frac("covered_fraction"),
            frac("overlap_fraction"),
            frac("white_fraction"),
        );
        for (i, c) in a.communes.layer.communes.iter().enumerate() {
            let x = &e["communes"][&c.code];
            assert!(
                (covered[i] - x["covered_fraction"].as_f64().unwrap()).abs() < 1e-5,
                "{} covered {}",
                c.code,
                covered[i]
            );
            assert!(
                (overlap[i] - x["overlap_fraction"].as_f64().unwrap()).abs() < 1e-5,
                "{} overlap {}",
                c.code,
                overlap[i]
            );
            assert_eq!(
                covered[i] + white[i],
                1.0,
                "{}: covered + white = 1",
                c.code
            );
        }
        // gap pieces: the count, bracketed for pieces at the tolerance, and the large ones
        let overlay = a.coverage.overlay.as_ref().unwrap();
        let n = overlay.gaps.len() as u64;
        assert!(
            n >= e["gap_pieces_at_least"].as_u64().unwrap()
                && n <= e["gap_pieces_at_most"].as_u64().unwrap(),
            "{n} gap pieces"
        );
        // the large pieces, one for one (those clear of the 1 km² cut by 5 %); GEOS and
        // i_overlay may resolve a sub-metre neck differently: 277.671 vs 277.637 km²
        // for the third piece, so 5e-4
        let want: Vec<f64> = e["gap_pieces_over_1km2"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .filter(|&x| x > 1.05)
            .collect();
        assert!(want.len() >= 5);
        for (p, y) in overlay.gaps.iter().zip(&want) {
            assert!(close(p.area_km2, *y, 5e-4), "{} vs {y}", p.area_km2);
        }
        assert!(
            s.slivers.as_ref().unwrap().gaps > 0,
            "the simplified outlines leave slivers, reported apart"
        );
    }

    #[test]
    fn drawn_area_is_its_covered_parts_plus_what_lies_outside_the_communes() {
        let e = expected();
        let a = Analysis::run(&drawn_inputs(0.05)).unwrap();
        let overlay = a.coverage.overlay.as_ref().unwrap();
        for (k, c) in a
            .declarations
            .cpts
            .iter()
            .enumerate()
            .filter(|(_, c)| c.drawn.is_some())
        {
            let inside: f64 = overlay
                .communes
                .iter()
                .flat_map(|o| &o.shares)
                .filter(|s| s.0 == k as u32)
                .map(|s| s.1)
                .sum();
            let outside = e["drawn_area_outside_km2"][&c.id].as_f64().unwrap();
            let total = a.coverage.territories[k].area_km2;
            // each commune's share may drop up to NOISE of the commune as rounding noise
            assert!(
                (inside + outside - total).abs() <= 1e-4 * total + NOISE * total,
                "{}: {inside} + {outside} vs {total}",
                c.id
            );
            assert!(
                close(total, e["drawn_area_km2"][&c.id].as_f64().unwrap(), 1e-4),
                "{}",
                c.id
            );
        }
    }

    #[test]
    fn drawn_output_is_identical_whatever_the_threads_and_the_feature_order() {
        let (a, b) = (Dir::new(), Dir::new());
        let drawn: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(fixture("paca/drawn.geojson")).unwrap())
                .unwrap();
        a.write("drawn.geojson", serde_json::to_vec(&drawn).unwrap());
        let mut shuffled = drawn.clone();
        shuffle(shuffled["features"].as_array_mut().unwrap(), 5);
        b.write("drawn.geojson", serde_json::to_vec(&shuffled).unwrap());
        for d in [&a, &b] {
            d.write(
                "lists.csv",
                std::fs::read(fixture("paca/drawn-lists.csv")).unwrap(),
            );
        }
        let communes = fixture("paca/communes.geojson.gz");
        for (dir, threads) in [(&a, "1"), (&b, "2")] {
            let o = maillage(
                dir.path(),
                &[
                    "analyze",
                    "--communes",
                    communes.to_str().unwrap(),
                    "--cpts",
                    "drawn.geojson",
                    "--cpts",
                    "lists.csv",
                    "--out",
                    "out",
                    "--quiet",
                    "--threads",
                    threads,
                ],
            );
            assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        }
        let names: Vec<String> = std::fs::read_dir(a.path().join("out"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(names.contains(&"slivers.geojson".to_owned()), "{names:?}");
        for name in names {
            let (x, y) = (
                std::fs::read(a.path().join("out").join(&name)).unwrap(),
                std::fs::read(b.path().join("out").join(&name)).unwrap(),
            );
            assert!(x == y, "{name} differs");
        }
    }
}

mod study_area {
    use super::*;

    #[test]
    fn an_outline_keeps_the_communes_mostly_inside_it() {
        // Vaucluse's outline (its communes dissolved here) selects its 151 communes
        let a = Analysis::run(&paca_inputs()).unwrap();
        let polys: Vec<&geo::Polygon<f64>> = a
            .communes
            .layer
            .communes
            .iter()
            .filter(|c| c.code.starts_with("84"))
            .flat_map(|c| c.geometry.0.iter())
            .collect();
        let outline = geo::unary_union(polys);
        let feature = geojson::Feature::from(geojson::Geometry::from(&outline));
        let fc = geojson::FeatureCollection {
            bbox: None,
            features: vec![feature],
            foreign_members: None,
        };
        let mut inputs = paca_inputs();
        inputs.area =
            Some(Source::from_bytes("vaucluse.geojson", fc.to_string().into_bytes()).unwrap());
        let b = Analysis::run(&inputs).unwrap();
        assert_eq!(b.summary.communes_total, 151);
        assert!(b
            .communes
            .layer
            .communes
            .iter()
            .all(|c| c.code.starts_with("84")));
        assert!(b
            .summary
            .diagnostics
            .iter()
            .any(|d| d.kind == DiagnosticKind::StudyArea
                && d.message.contains("151 commune(s)")
                && d.message.contains("796 left out")));
    }

    /// An outline in Lambert-93 with a crs member (GDAL-made: the Hautes-Alpes
    /// communes) is reprojected: it selects exactly the 163 communes of 05.
    #[test]
    fn an_outline_in_lambert_93_is_reprojected() {
        let mut inputs = paca_inputs();
        inputs.area = Some(Source::from_path(fixture("adminexpress/l93-05.geojson.gz")).unwrap());
        let b = Analysis::run(&inputs).unwrap();
        assert_eq!(b.summary.communes_total, 163);
        assert!(b
            .communes
            .layer
            .communes
            .iter()
            .all(|c| c.code.starts_with("05")));
    }

    #[test]
    fn a_commune_half_outside_is_decided_by_majority() {
        let layer = collection(&[
            square("01001", 5.0, 45.0, 0.1),
            square("01002", 5.1, 45.0, 0.1),
            square("01003", 5.2, 45.0, 0.1),
        ]);
        // [4.9, 5.16] covers 01001, 60 % of 01002 and nothing of 01003
        let outline = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[4.9,44.9],[5.16,44.9],[5.16,45.2],[4.9,45.2],[4.9,44.9]]]}}]}"#;
        let mut i = inputs(&layer, "cpts_id,cpts_name,commune_code\nA,Alpha,01001\n");
        i.area = Some(Source::from_bytes("area.geojson", outline.as_bytes().to_vec()).unwrap());
        let a = Analysis::run(&i).unwrap();
        let codes: Vec<&str> = a
            .communes
            .layer
            .communes
            .iter()
            .map(|c| c.code.as_str())
            .collect();
        assert_eq!(codes, vec!["01001", "01002"]);
        // an outline outside every commune is an error, not an empty report
        let far = outline.replace("4.9,", "-60.9,").replace("5.16,", "-60.5,");
        i.area = Some(Source::from_bytes("far.geojson", far.into_bytes()).unwrap());
        let e = Analysis::run(&i).unwrap_err().to_string();
        assert!(e.starts_with("far.geojson: no commune"), "{e}");
    }
}

#[test]
fn an_empty_cpts_has_zero_area_not_minus_zero() {
    let layer = collection(&[square("01001", 5.0, 45.0, 0.1)]);
    let dir = Dir::new();
    dir.write("c.geojson", &layer);
    dir.write(
        "d.csv",
        "cpts_id,cpts_name,commune_code\nA,Alpha,01001\nB,Beta,99999\n",
    );
    let o = maillage(
        dir.path(),
        &[
            "analyze",
            "--communes",
            "c.geojson",
            "--cpts",
            "d.csv",
            "--out",
            "out",
            "--quiet",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let cpts = dir.read("out/cpts.csv");
    let b = cpts.lines().find(|l| l.starts_with("B,")).unwrap();
    assert!(b.contains(",0.000000,") && !b.contains("-0"), "{b}");
    assert!(!dir.read("out/summary.json").contains("-0.0"));
    assert!(!dir
        .read("out/territories.geojson")
        .contains("\"area_km2\":-0.0"));
}

/// Issue 4's acceptance test for declaration files: the same declarations written
/// the way spreadsheets export them give exactly the clean file's coverage.
#[test]
fn a_messy_spreadsheet_export_gives_the_clean_files_coverage() {
    let clean = std::fs::read_to_string(fixture("paca/declarations.csv")).unwrap();
    let mut rows: Vec<String> = Vec::new();
    let lines: Vec<&str> = clean.lines().skip(1).collect();
    let mut joined = 0;
    for (k, line) in lines.iter().enumerate() {
        let f: Vec<&str> = line.split(',').collect();
        if k > 0 && lines[k - 1].starts_with(&format!("{},", f[0])) && (k - 1) % 41 == 5 {
            continue; // written in the previous row's cell
        }
        let mut code = f[2].strip_prefix('0').unwrap_or(f[2]).to_owned(); // Excel drops the leading zero
        if k % 41 == 5
            && lines
                .get(k + 1)
                .is_some_and(|n| n.starts_with(&format!("{},", f[0])))
        {
            // two codes typed in one cell
            code = format!("{code}, {}", lines[k + 1].split(',').nth(2).unwrap());
            joined += 1;
        } else if k % 53 == 9 {
            code = format!("{code} - commune"); // the commune's name after its code
        }
        let status = match f[3] {
            "aci_signe" => "ACI signé",
            "valide" => "Projet de santé validé",
            _ => "Lettre d'intention",
        };
        rows.push(format!("{};{};{code};{status}", f[0], f[1]));
        if k % 97 == 0 {
            rows.push(format!("{};{};{code};{status}", f[0], f[1])); // a duplicate
        }
        if k % 301 == 0 {
            rows.push(format!("{};{};99999;{status}", f[0], f[1])); // an unknown code
        }
    }
    let text = format!(
        "Identifiant CPTS;Nom CPTS;Code INSEE;Statut\r\n{}\r\n;;;\r\n\r\n",
        rows.join("\r\n")
    );
    assert!(
        text.chars().all(|c| (c as u32) < 256),
        "Latin-1 subset, so 1 byte per char in Windows-1252"
    );
    let windows_1252: Vec<u8> = text.chars().map(|c| c as u32 as u8).collect();
    assert!(
        std::str::from_utf8(&windows_1252).is_err(),
        "the accents make it invalid UTF-8"
    );

    let a = Analysis::run(&paca_inputs()).unwrap();
    let mut messy = paca_inputs();
    messy.cpts = vec![Source::from_bytes("export.csv", windows_1252).unwrap()];
    let b = Analysis::run(&messy).unwrap();
    let (s, t) = (&a.summary, &b.summary);
    assert_eq!(
        (
            s.communes_covered,
            s.communes_white,
            s.communes_overlap,
            s.white_zone_clusters
        ),
        (
            t.communes_covered,
            t.communes_white,
            t.communes_overlap,
            t.white_zone_clusters
        )
    );
    assert_eq!(
        (s.population_white, s.population_overlap),
        (t.population_white, t.population_overlap)
    );
    assert_eq!(
        (s.area_km2_white, s.area_km2_overlap),
        (t.area_km2_white, t.area_km2_overlap)
    );
    assert_eq!(s.cpts_by_status, t.cpts_by_status);
    assert_eq!(s.cpts_by_size_class, t.cpts_by_size_class);
    let (sa, sb) = (a.stats().unwrap(), b.stats().unwrap());
    assert!(
        sa.cpts.equals_missing(&sb.cpts),
        "same CPTS table, names decoded"
    );
    assert!(
        sa.communes.equals_missing(&sb.communes),
        "same verdicts per commune"
    );
    // and every normalisation is reported
    let msgs: Vec<String> = t
        .diagnostics
        .iter()
        .map(|d| format!("{:?}: {}", d.kind, d.message))
        .collect();
    for needle in [
        "InputFormat: export.csv: not UTF-8: decoded as Windows-1252; separator ';' detected; column \"Code INSEE\" read as commune_code; column \"Identifiant CPTS\" read as cpts_id",
        "NormalizedCode: export.csv: ",
        "lost leading zero restored: \"4001\" → 04001",
        "NormalizedStatus: export.csv: statuses read as: \"ACI signé\" → aci_signe",
        "DuplicateRow: export.csv: ",
        format!("{joined} code(s) normalised, several codes in one cell, split").as_str(),
        "code(s) normalised, name after the code dropped: \"",
        " - commune\" → ",
        // header line 1, first row line 2, its duplicate line 3, the unknown code line 4
        "DuplicateRow: export.csv: 10 duplicate (CPTS, commune) row(s), each counted once: CPTS-93-001/04001 line 3",
        "UnknownCode: export.csv: CPTS CPTS-93-001 declares 1 code(s) in neither the commune layer nor the bundled COG 2026, ignored: 99999 (line 4)",
    ] {
        assert!(msgs.iter().any(|m| m.contains(needle)), "missing {needle:?} in {msgs:#?}");
    }
    assert!(joined > 10, "{joined} cells with two codes");
}

/// Codes from another year (issue 4): the 2018 layer against declarations, population
/// and arrondissements of COG 2026.
mod vintage {
    use super::*;
    use maillage::cog::cog;

    fn kinds(a: &Analysis) -> Vec<(DiagnosticKind, String)> {
        a.summary
            .diagnostics
            .iter()
            .map(|d| (d.kind, d.message.clone()))
            .collect()
    }

    fn claimants(a: &Analysis, code: &str) -> Vec<String> {
        let i = a.communes.index_of(code).unwrap() as usize;
        let mut ids: Vec<String> = a.coverage.claimants[i]
            .iter()
            .map(|&k| a.declarations.cpts[k as usize].id.clone())
            .collect();
        ids.sort();
        ids
    }

    /// The national declarations rewritten in COG 2026 codes (every former commune
    /// replaced by the current commune that absorbed it): over the 2018 layer, each
    /// former commune must end up with exactly the claimants of its commune nouvelle.
    #[test]
    #[ignore = "national tier: reads ../shared/data (bash tests/run.sh --national)"]
    fn national_declarations_in_2026_codes_cover_the_former_communes_of_a_2018_layer() {
        let text = {
            let src = Source::from_path(fixture("national/declarations.csv.gz")).unwrap();
            String::from_utf8(src.bytes).unwrap()
        };
        let mut lines = text.lines();
        let header = lines.next().unwrap();
        let mut mapped = 0;
        let rows: Vec<String> = lines
            .map(|l| {
                let mut f: Vec<String> = l.split(',').map(str::to_owned).collect();
                if let Some(s) = cog().successor(&f[2]) {
                    f[2] = s.to_owned();
                    mapped += 1;
                }
                f.join(",")
            })
            .collect();
        assert!(
            mapped > 300,
            "the national set names {mapped} former communes"
        );
        let csv = format!("{header}\n{}\n", rows.join("\n"));
        let inputs = Inputs::from_paths(
            &national_layer(),
            &[&fixture("national/declarations.csv.gz")],
            None,
            maillage::FieldNames::default(),
        )
        .unwrap();
        let mut inputs = inputs;
        inputs.cpts = vec![Source::from_bytes("decl2026.csv", csv.into_bytes()).unwrap()];
        let a = Analysis::run(&inputs).unwrap();
        let mut checked = 0;
        for c in &a.communes.layer.communes {
            let Some(s) = cog().successor(&c.code) else {
                continue;
            };
            if a.communes.index_of(s).is_none() {
                continue;
            }
            assert_eq!(
                claimants(&a, &c.code),
                claimants(&a, s),
                "{} (absorbed by {s})",
                c.code
            );
            checked += 1;
        }
        assert!(checked > 300, "{checked} former communes checked");
        let d = kinds(&a);
        let expanded = diagnostic(&a, DiagnosticKind::ExpandedCode);
        assert!(
            expanded.codes.contains(&"05001".to_owned()),
            "Abriès-Ristolas stands for Abriès and Ristolas: {}",
            expanded.message
        );
        assert!(d.iter().any(|(k, m)| *k == DiagnosticKind::Vintage
            && m.contains("decl2026.csv: codes read as COG 2026")));
        // the 85 codes gone without a delegated commune are named
        let gone = diagnostic(&a, DiagnosticKind::ObsoleteLayerCode);
        assert_eq!(gone.codes.len(), 85);
        // population from the bundled COG 2026 when none is given: every current commune
        // of the layer carries its 2026 population
        assert!(a.summary.inputs["population"].contains("COG 2026 (bundled)"));
        let expected: u64 = a
            .communes
            .layer
            .communes
            .iter()
            .filter_map(|c| cog().current(&c.code).and_then(|e| e.population))
            .sum();
        assert_eq!(a.summary.population_total, expected);
        assert!(expected > 68_000_000, "{expected}");
    }

    /// The same declarations in the layer's own (2018) codes are not expanded: a file
    /// naming former communes was written on the old map.
    #[test]
    fn declarations_in_the_layers_codes_are_left_alone() {
        let a = Analysis::run(&paca_inputs()).unwrap();
        let d = kinds(&a);
        assert!(
            !d.iter().any(|(k, _)| *k == DiagnosticKind::ExpandedCode),
            "{d:#?}"
        );
        assert!(d.iter().any(|(k, m)| *k == DiagnosticKind::Vintage
            && m.contains("the layer's vintage (it names former communes the layer has)")));
        assert_eq!(a.communes.len(), 947);
    }

    /// Declarations older than the layer: a former commune's code reads as the commune
    /// that absorbed it (hand-made layer in 2026 codes).
    #[test]
    fn a_former_communes_code_reads_as_its_commune_nouvelle() {
        let layer = collection(&[
            square("05001", 6.9, 44.8, 0.1),
            square("05002", 7.0, 44.8, 0.1),
        ]);
        let a = analyse(
            &layer,
            "cpts_id,cpts_name,commune_code\nA,Alpha,05120\nB,Beta,05002\n",
        )
        .unwrap();
        assert_eq!(a.verdict("05001"), Some(Verdict::Covered));
        let merged = diagnostic(&a, DiagnosticKind::MergedCode);
        assert!(
            merged.message.contains("05120 → 05001 (line 2)"),
            "{}",
            merged.message
        );
        assert_eq!(merged.lines, vec![2]);
    }

    /// Arrondissements without geometry beside drawn territories: their list claims
    /// still decide their verdicts, and no area prints as "-0".
    #[test]
    fn arrondissements_without_geometry_beside_drawn_territories() {
        let lists = std::fs::read_to_string(fixture("paca/drawn-lists.csv")).unwrap();
        let mut text: String = lists
            .lines()
            .filter(|l| !l.contains(",13055,"))
            .map(|l| format!("{l}\n"))
            .collect();
        for a in 13201..=13216 {
            let id = if a % 2 == 0 { "M-EVEN" } else { "M-ODD" };
            text.push_str(&format!("{id},CPTS {id},{a},valide\n"));
        }
        let mut inputs = paca_inputs();
        inputs.cpts = vec![
            Source::from_path(fixture("paca/drawn.geojson")).unwrap(),
            Source::from_bytes("lists.csv", text.into_bytes()).unwrap(),
        ];
        let a = Analysis::run(&inputs).unwrap();
        for code in 13201..=13216 {
            let code = code.to_string();
            assert_eq!(a.verdict(&code), Some(Verdict::Covered), "{code}");
            assert_eq!(claimants(&a, &code).len(), 1, "{code}");
        }
        let dir = Dir::new();
        maillage::export::write(&a, dir.path(), maillage::TableFormat::Csv).unwrap();
        let communes = dir.read("communes.csv");
        let row = communes.lines().find(|l| l.starts_with("13201,")).unwrap();
        assert!(
            row.ends_with(",covered,M-ODD,1.000000,0.000000,0.000000"),
            "{row}"
        );
        assert!(
            !communes.contains(",-0.000000,"),
            "negative zero in communes.csv"
        );
    }

    /// A population table older than the layer: a former commune's row adds to the
    /// commune that absorbed it.
    #[test]
    fn an_older_population_tables_former_communes_add_to_their_commune_nouvelle() {
        let layer = collection(&[
            square("05001", 6.9, 44.8, 0.1),
            square("05002", 7.0, 44.8, 0.1),
        ]);
        let mut inputs = inputs(&layer, "cpts_id,cpts_name,commune_code\nA,Alpha,05001\n");
        inputs.population = Some(
            Source::from_bytes(
                "pop2015.csv",
                b"code,population\n05001,300\n05120,50\n05002,20\n99999,7\n".to_vec(),
            )
            .unwrap(),
        );
        let a = Analysis::run(&inputs).unwrap();
        let i = a.communes.index_of("05001").unwrap() as usize;
        assert_eq!(a.communes.population[i], 350);
        assert_eq!(a.summary.population_total, 370);
        let d = kinds(&a);
        assert!(
            d.iter()
                .any(|(k, m)| *k == DiagnosticKind::MergedCode && m.contains("05120 → 05001")),
            "{d:#?}"
        );
        assert!(d
            .iter()
            .any(|(k, m)| *k == DiagnosticKind::UnusedPopulation && m.contains("99999")));
    }

    /// Paris, Lyon, Marseille: CPTS declared on arrondissements municipaux over a layer
    /// that has only the whole city.
    #[test]
    fn marseille_by_arrondissement_over_a_whole_city_layer() {
        let clean = std::fs::read_to_string(fixture("paca/declarations.csv")).unwrap();
        let mut text: String = clean
            .lines()
            .filter(|l| !l.contains(",13055,"))
            .map(|l| format!("{l}\n"))
            .collect();
        for a in 13201..=13216 {
            let id = if a <= 13208 { "M-NORD" } else { "M-SUD" };
            text.push_str(&format!("{id},CPTS Marseille {id},{a},aci_signe\n"));
        }
        let mut inputs = paca_inputs();
        inputs.cpts = vec![Source::from_bytes("arr.csv", text.clone().into_bytes()).unwrap()];
        let a = Analysis::run(&inputs).unwrap();
        assert!(a.communes.index_of("13055").is_none());
        assert_eq!(a.communes.len(), 947 - 1 + 16);
        for code in 13201..=13216 {
            let code = code.to_string();
            assert_eq!(a.verdict(&code), Some(Verdict::Covered), "{code}");
        }
        // populations at arrondissement level, from COG 2026 (the table has only 13055)
        let i = a.communes.index_of("13201").unwrap() as usize;
        assert_eq!(
            a.communes.population[i],
            cog().current("13201").unwrap().population.unwrap()
        );
        let sum: u64 = (13201..=13216)
            .map(|c| a.communes.population[a.communes.index_of(&c.to_string()).unwrap() as usize])
            .sum();
        assert_eq!(sum, cog().current("13055").unwrap().population.unwrap());
        let flag = diagnostic(&a, DiagnosticKind::Arrondissements);
        assert!(
            flag.message.contains("WITHOUT GEOMETRY"),
            "{}",
            flag.message
        );
        assert_eq!(flag.codes.len(), 16);
        // adjacency goes through the city's polygon: eight arrondissements without
        // geometry are one part, not eight, and are not reported non-contiguous
        let parts = |a: &Analysis, id: &str| {
            let i = a.declarations.cpts.iter().position(|c| c.id == id).unwrap();
            a.coverage.territories[i].parts.len()
        };
        assert_eq!(parts(&a, "M-NORD"), 1);
        assert_eq!(parts(&a, "M-SUD"), 1);
        assert!(!a
            .summary
            .diagnostics
            .iter()
            .any(|d| d.kind == DiagnosticKind::NonContiguous
                && d.cpts_id.as_deref().is_some_and(|c| c.starts_with("M-"))));
        // an arrondissement neighbours the city's neighbours (Allauch), not Digne
        let city = a.communes.index_of("13201").unwrap();
        let allauch = a.communes.index_of("13002").unwrap();
        let digne = a.communes.index_of("04070").unwrap();
        assert!(a.adjacency.neighbours(city).contains(&allauch));
        assert!(!a.adjacency.neighbours(city).contains(&digne));

        // a third CPTS claiming the whole city overlaps both, arrondissement by arrondissement
        text.push_str("M-ALL,CPTS Marseille entière,13055,projet\n");
        inputs.cpts = vec![Source::from_bytes("arr.csv", text.into_bytes()).unwrap()];
        let b = Analysis::run(&inputs).unwrap();
        for code in 13201..=13216 {
            assert_eq!(b.verdict(&code.to_string()), Some(Verdict::Overlap));
        }
        assert_eq!(b.summary.communes_overlap, a.summary.communes_overlap + 16);
        // and every output is written, the arrondissements without geometry included
        let dir = Dir::new();
        maillage::export::write(&b, dir.path(), maillage::TableFormat::Csv).unwrap();
        let communes = dir.read("communes.csv");
        assert!(
            communes.lines().any(|l| l.starts_with("13201,")),
            "{}",
            &communes[..200]
        );
    }
}

/// Commune layers as IGN Admin Express ships them (issue 4), made by GDAL/PROJ
/// (`fixtures/make_adminexpress.py`) from the real WGS84 polygons: read back through
/// maillage's own pure-Rust reprojection, every vertex must land within 1 m of the
/// source.
mod admin_express {
    use super::*;
    use maillage::load::{load_communes, CommuneLayer, FieldNames};

    /// The WGS84 polygons the Admin Express fixtures were made from (Hautes-Alpes
    /// and the five DROM, cut unchanged from the national file).
    fn source() -> &'static CommuneLayer {
        static L: std::sync::OnceLock<CommuneLayer> = std::sync::OnceLock::new();
        L.get_or_init(|| load("adminexpress/wgs84-source.geojson.gz"))
    }

    fn load(rel: &str) -> CommuneLayer {
        load_communes(
            &Source::from_path(fixture(rel)).unwrap(),
            &FieldNames::default(),
        )
        .unwrap()
    }

    /// Admin Express ships arrondissements municipaux as a layer beside COMMUNE: when
    /// declarations name Marseille's arrondissements, their polygons (synthetic
    /// strips of the city, made by GDAL) take the city's place; otherwise the city
    /// stays whole. Read from the zip, the unzipped folder and the AE 4.0
    /// GeoPackage (table `arrondissement_municipal`) alike.
    #[test]
    fn arrondissement_layer_beside_commune_is_used_when_declarations_need_it() {
        let mut by_arr = String::from("cpts_id,cpts_name,commune_code,status\n");
        for a in 13201..=13216 {
            let id = if a <= 13208 { "M-NORD" } else { "M-SUD" };
            by_arr.push_str(&format!("{id},Marseille {id},{a},aci_signe\n"));
        }
        let whole = "cpts_id,cpts_name,commune_code,status\nM,Marseille,13055,projet\n";
        let dir = Dir::new();
        let zip = std::fs::read(fixture("adminexpress/ae3-13-l93.zip")).unwrap();
        zip::ZipArchive::new(std::io::Cursor::new(zip))
            .unwrap()
            .extract(dir.path())
            .unwrap();
        let city_km2 = {
            let l = load("adminexpress/ae3-13-l93.zip");
            assert_eq!(l.spare_arrondissements.len(), 16);
            let city = l.communes.iter().find(|c| c.code == "13055").unwrap();
            maillage::area::multi_polygon_km2(&city.geometry)
        };
        for layer in [
            Source::from_path(fixture("adminexpress/ae3-13-l93.zip")).unwrap(),
            Source::from_path(dir.path().join("COMMUNE.shp")).unwrap(),
            Source::from_path(fixture("adminexpress/ae4-13-l93.gpkg")).unwrap(),
        ] {
            let run = |csv: &str| {
                Analysis::run(&Inputs {
                    communes: layer.clone(),
                    cpts: vec![Source::from_bytes("d.csv", csv.as_bytes().to_vec()).unwrap()],
                    population: None,
                    fields: FieldNames::default(),
                    min_area_km2: maillage::analysis::DEFAULT_MIN_AREA_KM2,
                    area: None,
                    tables: Default::default(),
                    progress: None,
                })
                .unwrap()
            };
            let a = run(&by_arr);
            assert!(a.communes.index_of("13055").is_none());
            let mut km2 = 0.0;
            for code in 13201..=13216 {
                let i = a.communes.index_of(&code.to_string()).unwrap() as usize;
                assert!(a.communes.area_km2[i] > 1.0, "{code} has its polygon");
                assert_eq!(a.verdict(&code.to_string()), Some(Verdict::Covered));
                km2 += a.communes.area_km2[i];
            }
            assert!(
                (km2 - city_km2).abs() < 1e-6 * city_km2,
                "{km2} vs {city_km2}"
            );
            let flag = diagnostic(&a, DiagnosticKind::Arrondissements);
            assert!(
                flag.message
                    .contains("with their polygons from the ARRONDISSEMENT_MUNICIPAL layer"),
                "{}",
                flag.message
            );
            // adjacent strips: each CPTS is one part
            assert_eq!(a.summary.cpts_non_contiguous, 0);
            // declarations of the whole city leave the layer as it is
            let b = run(whole);
            assert!(b.communes.index_of("13055").is_some());
            assert!(b.communes.index_of("13201").is_none());
            assert_eq!(b.communes.len(), a.communes.len() - 15);
        }
    }

    /// Largest distance in metres between corresponding vertices of two layers
    /// (rings matched in order; a ring may start elsewhere or turn the other way).
    fn max_shift_m(a: &CommuneLayer, reference: &CommuneLayer) -> f64 {
        let mut worst = 0.0f64;
        for c in &a.communes {
            let r = reference
                .communes
                .iter()
                .find(|r| r.code == c.code)
                .unwrap_or_else(|| panic!("{} not in the reference", c.code));
            assert_eq!(c.geometry.0.len(), r.geometry.0.len(), "{}", c.code);
            for (p, q) in c.geometry.0.iter().zip(&r.geometry.0) {
                let rings_p = std::iter::once(p.exterior()).chain(p.interiors());
                let rings_q: Vec<_> = std::iter::once(q.exterior()).chain(q.interiors()).collect();
                for (k, ring) in rings_p.enumerate() {
                    let (a, b) = (
                        &ring.0[..ring.0.len() - 1],
                        &rings_q[k].0[..rings_q[k].0.len() - 1],
                    );
                    assert_eq!(a.len(), b.len(), "{} ring {k}", c.code);
                    let m = |u: geo::Coord, v: geo::Coord| {
                        let dx = (u.x - v.x) * 111_320.0 * u.y.to_radians().cos();
                        let dy = (u.y - v.y) * 110_574.0;
                        (dx * dx + dy * dy).sqrt()
                    };
                    let start = (0..b.len())
                        .min_by(|&i, &j| m(a[0], b[i]).total_cmp(&m(a[0], b[j])))
                        .unwrap();
                    let n = b.len();
                    let fwd = (0..n)
                        .map(|i| m(a[i], b[(start + i) % n]))
                        .fold(0.0, f64::max);
                    let back = (0..n)
                        .map(|i| m(a[i], b[(start + n - i) % n]))
                        .fold(0.0, f64::max);
                    worst = worst.max(fwd.min(back));
                }
            }
        }
        worst
    }

    #[test]
    fn lambert_93_shapefile_geopackage_and_geojson_match_the_wgs84_source() {
        let reference = source();
        for rel in [
            "adminexpress/ae3-05-l93.zip",
            "adminexpress/ae4-05-l93.gpkg",
            "adminexpress/l93-05.geojson.gz",
        ] {
            let layer = load(rel);
            assert_eq!(layer.communes.len(), 163, "{rel}: Hautes-Alpes, 2018");
            let shift = max_shift_m(&layer, reference);
            eprintln!("{rel}: largest vertex shift {shift:.1e} m");
            // GeoJSON written by GDAL at 1 mm (COORDINATE_PRECISION 3)
            assert!(shift < 0.01, "{rel}: a vertex moved {shift} m");
            let said = format!("{:?}", layer.diagnostics);
            assert!(
                said.contains("Lambert-93") || said.contains("Lambert_93"),
                "{said}"
            );
        }
        // Admin Express 3.x and 4.0 field names, without options
        let ae3 = load("adminexpress/ae3-05-l93.zip");
        let ae4 = load("adminexpress/ae4-05-l93.gpkg");
        assert_eq!(
            (ae3.code_field.as_str(), ae4.code_field.as_str()),
            ("INSEE_COM", "code_insee")
        );
        assert_eq!(ae4.name_field.as_deref(), Some("nom_officiel"));
        assert_eq!(ae4.population_field.as_deref(), Some("population"));
        let gap = ae3.communes.iter().find(|c| c.code == "05061").unwrap();
        assert_eq!(gap.name, "Gap");
        assert_eq!(
            gap.population,
            maillage::cog::cog().current("05061").unwrap().population
        );
        assert_eq!(
            ae3.communes
                .iter()
                .map(|c| c.population)
                .collect::<Vec<_>>(),
            ae4.communes
                .iter()
                .map(|c| c.population)
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn overseas_crs_of_admin_express_match_the_wgs84_source() {
        let reference = source();
        for (rel, n) in [
            ("adminexpress/ae3-971-5490.zip", 32),
            ("adminexpress/ae3-972-5490.zip", 34),
            ("adminexpress/ae3-973-2972.zip", 22),
            ("adminexpress/ae3-974-2975.zip", 24),
            ("adminexpress/ae3-976-4471.zip", 17),
        ] {
            let layer = load(rel);
            assert_eq!(layer.communes.len(), n, "{rel}");
            let shift = max_shift_m(&layer, reference);
            eprintln!("{rel}: largest vertex shift {shift:.1e} m");
            assert!(shift < 1.0, "{rel}: a vertex moved {shift} m");
        }
    }

    /// Metres without a CRS are refused with a hint, never read as degrees; --crs
    /// (here FieldNames::crs) reads them.
    #[test]
    fn metres_without_a_crs_are_detected_and_crs_reads_them() {
        let text = String::from_utf8(
            Source::from_path(fixture("adminexpress/l93-05.geojson.gz"))
                .unwrap()
                .bytes,
        )
        .unwrap();
        let start = text.find("\"crs\"").unwrap();
        let end = start + text[start..].find("} },").unwrap() + 4;
        let bare = format!("{}{}", &text[..start], &text[end..]);
        assert!(!bare.contains("EPSG"));
        let src = Source::from_bytes("bare.geojson", bare.into_bytes()).unwrap();
        let e = load_communes(&src, &FieldNames::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("bare.geojson")
                && e.contains("--crs EPSG:2154")
                && e.contains("feature 0 (05001)"),
            "{e}"
        );
        let fields = FieldNames {
            crs: Some("EPSG:2154".into()),
            ..FieldNames::default()
        };
        let layer = load_communes(&src, &fields).unwrap();
        assert!(max_shift_m(&layer, source()) < 0.01);
    }

    /// The whole pipeline on a Lambert-93 Shapefile gives the same verdicts as on the
    /// WGS84 GeoJSON of the same communes.
    #[test]
    fn analysis_on_the_shapefile_equals_the_analysis_on_geojson() {
        let mut shp = paca_inputs();
        shp.communes = Source::from_path(fixture("adminexpress/ae3-05-l93.zip")).unwrap();
        shp.population = None;
        let a = Analysis::run(&shp).unwrap();
        let b = Analysis::run(&paca_inputs()).unwrap();
        for c in &a.communes.layer.communes {
            assert_eq!(a.verdict(&c.code), b.verdict(&c.code), "{}", c.code);
            let (i, j) = (
                a.communes.index_of(&c.code).unwrap() as usize,
                b.communes.index_of(&c.code).unwrap() as usize,
            );
            let (x, y) = (a.communes.area_km2[i], b.communes.area_km2[j]);
            assert!((x - y).abs() <= 1e-6 * y, "{}: {x} vs {y} km²", c.code);
        }
    }
}

/// `diagnostics.json` lists every finding with counts by kind; `--strict` refuses
/// inputs that needed normalising (exit 2, nothing written) and accepts clean ones.
#[test]
fn diagnostics_json_and_strict() {
    let dir = Dir::new();
    let layer = collection(&[
        square("01001", 5.0, 45.0, 0.1),
        square("01002", 5.1, 45.0, 0.1),
    ]);
    dir.write("c.geojson", &layer);
    dir.write(
        "clean.csv",
        "cpts_id,cpts_name,commune_code\nA,Alpha,01001\nA,Alpha,01002\n",
    );
    dir.write(
        "messy.csv",
        "cpts_id;cpts_name;commune_code\nA;Alpha;1001\nA;Alpha;01002\nA;Alpha;01002\n",
    );
    let run = |decl: &str, strict: bool, out: &str| {
        let mut args = vec![
            "analyze",
            "--communes",
            "c.geojson",
            "--cpts",
            decl,
            "--out",
            out,
        ];
        if strict {
            args.push("--strict");
        }
        maillage(dir.path(), &args)
    };
    let o = run("messy.csv", false, "lenient");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report: serde_json::Value =
        serde_json::from_str(&dir.read("lenient/diagnostics.json")).unwrap();
    assert_eq!(report["by_kind"]["normalized_code"], 1);
    assert_eq!(report["by_kind"]["duplicate_row"], 1);
    assert_eq!(report["problems"], 2, "{report:#}");
    let dup = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "duplicate_row")
        .unwrap();
    assert_eq!(dup["lines"], serde_json::json!([4]));

    let o = run("messy.csv", true, "strict");
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("[duplicate_row]") && err.contains("--strict: 2 diagnostic(s)"),
        "{err}"
    );
    assert!(!dir.path().join("strict").exists(), "nothing written");

    let o = run("clean.csv", true, "clean");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(dir.path().join("clean/diagnostics.json").exists());
}

/// Declarations kept in workbooks (issue 4): `.xlsx` (openpyxl) and `.ods` (odfpy)
/// copies of the PACA declarations, with a notice sheet first, a title above the
/// header, French headers, codes typed as numbers and statuses in words, give the
/// clean CSV's coverage; rows are cited by their sheet row.
mod workbooks {
    use super::*;
    use maillage::load::TableOptions;

    fn with(rel: &str, tables: TableOptions) -> maillage::Result<Analysis> {
        let mut inputs = paca_inputs();
        inputs.cpts = vec![Source::from_path(fixture(rel)).unwrap()];
        inputs.tables = tables;
        Analysis::run(&inputs)
    }

    #[test]
    fn xlsx_and_ods_give_the_csvs_coverage() {
        let clean = Analysis::run(&paca_inputs()).unwrap();
        let sheet = TableOptions {
            sheet: Some("Déclarations".into()),
            ..Default::default()
        };
        for rel in [
            "paca/declarations.xlsx",
            "paca/declarations.ods",
            "paca/declarations.xls",
        ] {
            let a = with(rel, sheet.clone()).unwrap();
            let (s, t) = (&clean.summary, &a.summary);
            assert_eq!(
                (s.communes_covered, s.communes_white, s.communes_overlap),
                (t.communes_covered, t.communes_white, t.communes_overlap),
                "{rel}"
            );
            assert_eq!(s.cpts_by_status, t.cpts_by_status, "{rel}");
            let (x, y) = (clean.stats().unwrap(), a.stats().unwrap());
            assert!(x.cpts.equals_missing(&y.cpts), "{rel}: same CPTS table");
            assert!(
                x.communes.equals_missing(&y.communes),
                "{rel}: same verdicts"
            );
            let code = t
                .diagnostics
                .iter()
                .find(|d| d.kind == DiagnosticKind::NormalizedCode)
                .unwrap();
            // title on row 1, blank row 2, header row 3: the first CPTS row is row 4
            assert!(
                code.message.contains("\"4001\" → 04001 (line 4)"),
                "{}",
                code.message
            );
            // the last row's code is a formula error: kept visible as an unknown code
            let na = t
                .diagnostics
                .iter()
                .find(|d| d.kind == DiagnosticKind::UnknownCode)
                .unwrap_or_else(|| panic!("{rel}: no unknown_code for the #N/A cell"));
            assert!(
                na.message.contains("#N/A (line 912)"),
                "{rel}: {}",
                na.message
            );
        }
        // the first sheet is a notice: a clear error naming the file and the sheets
        let e = with("paca/declarations.xlsx", TableOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("declarations.xlsx")
                && e.contains("Notice, Déclarations")
                && e.contains("--sheet"),
            "{e}"
        );
        let e = with(
            "paca/declarations.ods",
            TableOptions {
                sheet: Some("Feuil1".into()),
                ..Default::default()
            },
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("no sheet named \"Feuil1\""), "{e}");
        assert!(!e.contains("line 0"), "a missing sheet has no line: {e}");
    }

    /// A zip workbook (xlsx, ods) with one member's text changed by `edit`.
    fn rezip(rel: &str, member: &str, edit: impl Fn(&str) -> String) -> Vec<u8> {
        use std::io::{Read, Write};
        let bytes = std::fs::read(fixture(rel)).unwrap();
        let mut src = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for k in 0..src.len() {
            let mut f = src.by_index(k).unwrap();
            let name = f.name().to_owned();
            let mut data = Vec::new();
            f.read_to_end(&mut data).unwrap();
            if name == member {
                data = edit(std::str::from_utf8(&data).unwrap()).into_bytes();
            }
            out.start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            out.write_all(&data).unwrap();
        }
        out.finish().unwrap().into_inner()
    }

    fn read_bytes(name: &str, bytes: Vec<u8>, sheet: &str) -> maillage::Result<Analysis> {
        let mut inputs = paca_inputs();
        inputs.cpts = vec![Source::from_bytes(name, bytes).unwrap()];
        inputs.tables = TableOptions {
            sheet: Some(sheet.into()),
            ..Default::default()
        };
        Analysis::run(&inputs)
    }

    /// Issue 25: workbooks that used to take the machine down (a cell at
    /// XFD1048576: a 512 GiB allocation; AAA200000: 4.5 GB; two billion spaces
    /// in an .ods cell: 9.5 GB; a billion shared strings) are refused from their
    /// structure, naming the file and the part, before calamine reads them.
    #[test]
    fn hostile_xlsx_and_ods_are_refused_before_they_are_read() {
        let far = |cell: &str| {
            let cell = cell.to_owned();
            rezip(
                "paca/declarations.xlsx",
                "xl/worksheets/sheet2.xml",
                move |x| {
                    let row: String = cell
                        .chars()
                        .skip_while(|c| c.is_ascii_alphabetic())
                        .collect();
                    x.replace(
                        "</sheetData>",
                        &format!(r#"<row r="{row}"><c r="{cell}"><v>1</v></c></row></sheetData>"#),
                    )
                },
            )
        };
        for cell in ["XFD1048576", "AAA200000"] {
            let t = std::time::Instant::now();
            let e = read_bytes("far.xlsx", far(cell), "Déclarations")
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("far.xlsx")
                    && e.contains("xl/worksheets/sheet2.xml")
                    && e.contains("refused as damaged or hostile"),
                "{cell}: {e}"
            );
            assert!(t.elapsed().as_secs() < 5, "{cell}: {:?}", t.elapsed());
        }
        // a cell just beside the table is fine
        let near = rezip("paca/declarations.xlsx", "xl/worksheets/sheet2.xml", |x| {
            x.replace(
                "</sheetData>",
                r#"<row r="920"><c r="F920" t="inlineStr"><is><t>note</t></is></c></row></sheetData>"#,
            )
        });
        assert!(read_bytes("near.xlsx", near, "Déclarations").is_ok());
        // a shared-strings part that asks for four thousand billion strings
        let with_sst = {
            use std::io::Write;
            let bytes = std::fs::read(fixture("paca/declarations.xlsx")).unwrap();
            let mut out = zip::ZipWriter::new_append(std::io::Cursor::new(bytes)).unwrap();
            out.start_file(
                "xl/sharedStrings.xml",
                zip::write::SimpleFileOptions::default(),
            )
            .unwrap();
            out.write_all(br#"<sst uniqueCount="4000000000000"></sst>"#)
                .unwrap();
            out.finish().unwrap().into_inner()
        };
        let e = read_bytes("sst.xlsx", with_sst, "Déclarations")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("sst.xlsx") && e.contains("shared strings"),
            "{e}"
        );

        let spaces = rezip("paca/declarations.ods", "content.xml", |x| {
            x.replacen(
                "<text:p>CPTS Digne-les-Bains</text:p>",
                r#"<text:p>CPTS<text:s text:c="2000000000"/>Digne-les-Bains</text:p>"#,
                1,
            )
        });
        let e = read_bytes("spaces.ods", spaces, "Déclarations")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("spaces.ods") && e.contains("content.xml") && e.contains("2000000000"),
            "{e}"
        );
        let repeated = rezip("paca/declarations.ods", "content.xml", |x| {
            x.replacen(
                "<table:table-row><table:table-cell office:value-type=\"string\"><text:p>CPTS-93-001",
                "<table:table-row table:number-rows-repeated=\"1000000\"><table:table-cell table:number-columns-repeated=\"16000\" office:value-type=\"string\"><text:p>CPTS-93-001",
                1,
            )
        });
        let e = read_bytes("repeated.ods", repeated, "Déclarations")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("repeated.ods") && e.contains("cells to allocate"),
            "{e}"
        );
    }

    /// The same declarations as an Excel 97-2003 `.xls` (xlwt, BIFF8) give the
    /// CSV's coverage; its compound-file container, damaged as transfers and
    /// disks damage it (line ends converted, truncated, a FAT that loops, bytes
    /// flipped), ends every time with a clean refusal or a sane reading, within
    /// seconds: never a hang, an abort or a panic.
    #[test]
    fn xls_reads_and_damaged_xls_ends_quickly() {
        let clean = Analysis::run(&paca_inputs()).unwrap();
        let bytes = std::fs::read(fixture("paca/declarations.xls")).unwrap();
        let a = read_bytes("d.xls", bytes.clone(), "Déclarations").unwrap();
        assert_eq!(
            (
                a.summary.communes_covered,
                a.summary.communes_white,
                a.summary.communes_overlap
            ),
            (
                clean.summary.communes_covered,
                clean.summary.communes_white,
                clean.summary.communes_overlap
            )
        );
        // a FAT whose directory chain points back at itself
        let u32_at =
            |b: &[u8], k: usize| u32::from_le_bytes(b[k..k + 4].try_into().unwrap()) as usize;
        let mut looping = bytes.clone();
        let (dir, fat) = (u32_at(&bytes, 48), u32_at(&bytes, 76));
        let at = (fat + 1) * 512 + 4 * dir;
        looping[at..at + 4].copy_from_slice(&(dir as u32).to_le_bytes());
        let e = read_bytes("loop.xls", looping, "Déclarations")
            .unwrap_err()
            .to_string();
        assert!(e.contains("loop.xls") && e.contains("loops back"), "{e}");
        // line ends converted by an ASCII-mode transfer, and a truncated copy
        let mut crlf = Vec::new();
        for &b in &bytes {
            if b == b'\n' {
                crlf.push(b'\r');
            }
            crlf.push(b);
        }
        let dir = Dir::new();
        let mut cases: Vec<(String, Vec<u8>)> = vec![
            ("crlf.xls".into(), crlf),
            ("half.xls".into(), bytes[..bytes.len() / 2].to_vec()),
            ("header.xls".into(), bytes[..600].to_vec()),
        ];
        // and bytes flipped in the header, the FAT and the directory
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        for k in 0..60 {
            let mut m = bytes.clone();
            for _ in 0..1 + k % 4 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let region = [512usize, 2048, bytes.len()][k % 3];
                let at = (x as usize) % region;
                m[at] ^= (x >> 32) as u8 | 1;
            }
            cases.push((format!("flip{k}.xls"), m));
        }
        dir.write(
            "c.geojson.gz",
            std::fs::read(fixture("paca/communes.geojson.gz")).unwrap(),
        );
        for (name, data) in &cases {
            dir.write(name, data);
            let t = std::time::Instant::now();
            let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_maillage"))
                .current_dir(dir.path())
                .args([
                    "check",
                    "--communes",
                    "c.geojson.gz",
                    "--cpts",
                    name,
                    "--sheet",
                    "Déclarations",
                    "--quiet",
                ])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            let status = loop {
                if let Some(s) = child.try_wait().unwrap() {
                    break s;
                }
                if t.elapsed().as_secs() > 20 {
                    child.kill().unwrap();
                    panic!("{name}: still running after 20 s");
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            };
            let mut err = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
            assert!(
                matches!(status.code(), Some(0..=2)),
                "{name}: status {status:?}\n{err}"
            );
            assert!(!err.contains("panicked"), "{name}: {err}");
            if status.code() == Some(2) {
                assert!(err.contains(name.as_str()), "{name}: {err}");
            }
        }
    }

    /// Headers as ARS files write them are recognised by their words, traps
    /// (postal code, legal status) are not taken, and a header two columns could
    /// answer is an error naming both.
    #[test]
    fn headers_are_recognised_by_their_words() {
        let layer = collection(&[
            square("01001", 5.0, 45.0, 0.1),
            square("01002", 5.1, 45.0, 0.1),
        ]);
        let read = |csv: &str| {
            let a = analyse(&layer, csv).unwrap();
            let c = &a.declarations.cpts;
            let how = a
                .summary
                .diagnostics
                .iter()
                .find(|d| d.kind == DiagnosticKind::InputFormat)
                .map(|d| d.message.clone())
                .unwrap_or_default();
            let rows: Vec<(String, String, String, String)> = c
                .iter()
                .map(|c| {
                    (
                        c.id.clone(),
                        c.name.clone(),
                        c.claims
                            .iter()
                            .map(|x| x.code.as_str())
                            .collect::<Vec<_>>()
                            .join("+"),
                        c.status.map_or("unknown", |s| s.as_str()).to_owned(),
                    )
                })
                .collect();
            (rows, how)
        };
        let row = |id: &str, name: &str, codes: &str, status: &str| {
            (
                id.to_owned(),
                name.to_owned(),
                codes.to_owned(),
                status.to_owned(),
            )
        };
        // French headers with little words, a postal code and a legal status beside
        let (rows, how) = read(
            "N° de la CPTS;Nom de la CPTS;Code postal;Code commune INSEE;Statut juridique;État d'avancement\n\
             C1;CPTS Une;01100;01001;association;ACI signé\n\
             C1;CPTS Une;01100;01002;association;ACI signé\n",
        );
        assert_eq!(
            rows,
            vec![row("C1", "CPTS Une", "01001+01002", "aci_signe")]
        );
        assert!(
            how.contains("column \"Code commune INSEE\" read as commune_code"),
            "{how}"
        );
        assert!(
            how.contains("column \"État d'avancement\" read as status"),
            "{how}"
        );
        // a name column only: the name identifies each CPTS, and it is said
        let (rows, how) = read("CPTS,INSEE commune\nCPTS Une,01001\nCPTS Deux,01002\n");
        assert_eq!(
            rows,
            vec![
                row("CPTS Deux", "CPTS Deux", "01002", "unknown"),
                row("CPTS Une", "CPTS Une", "01001", "unknown"),
            ]
        );
        assert!(how.contains("no CPTS id column"), "{how}");
        // a column called just "Communes": taken when its values are codes (lists in
        // a cell, a name after the code), refused with its first value otherwise
        let (rows, how) =
            read("CPTS;Communes\nCPTS Une;\"1001 - Ville Une\"\nCPTS Deux;\"01002, 01001\"\n");
        assert_eq!(
            rows,
            vec![
                row("CPTS Deux", "CPTS Deux", "01001+01002", "unknown"),
                row("CPTS Une", "CPTS Une", "01001", "unknown"),
            ]
        );
        assert!(
            how.contains("column \"Communes\" read as commune_code (its values are codes)"),
            "{how}"
        );
        let e = analyse(&layer, "CPTS;Communes\nCPTS Une;Ville Une\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("holds \"Ville Une\", not an INSEE code"), "{e}");
        // two columns the commune-code rule accepts: an error naming both
        let e = analyse(
            &layer,
            "Identifiant CPTS,Nom CPTS,Code INSEE 2024,Code INSEE 2026\nC1,Une,01001,01001\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("commune_code could be any of the columns")
                && e.contains("Code INSEE 2024")
                && e.contains("Code INSEE 2026")
                && e.contains("--columns"),
            "{e}"
        );
        // population tables: the municipal population among several
        let mut inputs = inputs(&layer, "cpts_id,cpts_name,commune_code\nA,Alpha,01001\n");
        inputs.population = Some(
            Source::from_bytes(
                "pop.csv",
                "Code géographique;Population totale 2023;Population municipale 2023\n\
                 01001;1 210;1 200\n01002;505;500\n"
                    .as_bytes()
                    .to_vec(),
            )
            .unwrap(),
        );
        let a = Analysis::run(&inputs).unwrap();
        assert_eq!(a.communes.population, vec![1200, 500]);
    }

    /// --columns names what no alias guesses.
    #[test]
    fn columns_name_what_guessing_misses() {
        let layer = collection(&[square("01001", 5.0, 45.0, 0.1)]);
        let mut inputs = inputs(
            &layer,
            "Structure;Libellé structure;Commune (INSEE 2026)\nA;Alpha;01001\n",
        );
        let e = Analysis::run(&inputs).unwrap_err().to_string();
        assert!(
            e.contains("header must name commune_code and cpts_id or cpts_name"),
            "{e}"
        );
        inputs.tables.columns = vec![
            ("cpts_id".into(), "Structure".into()),
            ("cpts_name".into(), "Libellé structure".into()),
            ("commune_code".into(), "commune (insee 2026)".into()),
        ];
        let a = Analysis::run(&inputs).unwrap();
        assert_eq!(a.verdict("01001"), Some(Verdict::Covered));
        let how = diagnostic(&a, DiagnosticKind::InputFormat);
        assert!(
            how.message
                .contains("column \"Structure\" read as cpts_id (--columns)"),
            "{}",
            how.message
        );
    }
}

mod layer_edge_cases {
    use super::*;
    use maillage::load::{load_communes, FieldNames};

    /// A Shapefile on disk: the .shp with its .dbf, .prj and .cpg beside it.
    #[test]
    fn a_shapefile_on_disk_reads_its_sibling_files() {
        let dir = Dir::new();
        let zip = std::fs::read(fixture("adminexpress/ae3-974-2975.zip")).unwrap();
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
        archive.extract(dir.path()).unwrap();
        let shp = dir.path().join("COMMUNE.shp");
        let layer =
            load_communes(&Source::from_path(&shp).unwrap(), &FieldNames::default()).unwrap();
        assert_eq!(layer.communes.len(), 24);
        assert!(layer
            .communes
            .iter()
            .any(|c| c.name == "Saint-Denis" && c.code == "97411"));
        // without its .dbf: an error naming the missing file
        std::fs::remove_file(dir.path().join("COMMUNE.dbf")).unwrap();
        let e = load_communes(&Source::from_path(&shp).unwrap(), &FieldNames::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("COMMUNE.dbf"), "{e}");
    }

    /// Corrupt binary layers are errors naming the file, never panics.
    #[test]
    fn corrupt_zip_and_geopackage_are_clear_errors() {
        let gpkg = std::fs::read(fixture("adminexpress/ae4-05-l93.gpkg")).unwrap();
        let zip = std::fs::read(fixture("adminexpress/ae3-05-l93.zip")).unwrap();
        let parquet = std::fs::read(fixture("adminexpress/ae4-05-l93.parquet")).unwrap();
        for (name, bytes) in [
            ("cut.gpkg", gpkg[..gpkg.len() / 3].to_vec()),
            ("cut.zip", zip[..zip.len() / 2].to_vec()),
            ("garbage.zip", b"PK\x03\x04 not really a zip".to_vec()),
            ("empty.gpkg", b"SQLite format 3\0".to_vec()),
            ("cut.parquet", parquet[..parquet.len() / 2].to_vec()),
            ("text.zip", b"not a zip at all".to_vec()),
        ] {
            let src = Source::from_bytes(name, bytes).unwrap();
            let r = std::panic::catch_unwind(|| load_communes(&src, &FieldNames::default()));
            let e = r
                .unwrap_or_else(|_| panic!("{name}: panicked"))
                .unwrap_err()
                .to_string();
            assert!(e.starts_with(&format!("{name}: ")), "{name}: {e}");
            // a broken file is one error about the file, not a list of "features"
            assert!(!e.contains("feature(s)"), "{name}: {e}");
        }
        // text that is no format at all: the other readable formats are named
        let e = load_communes(
            &Source::from_bytes("text.zip", b"not a zip at all".to_vec()).unwrap(),
            &FieldNames::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("GeoPackage") && e.contains("Shapefile"), "{e}");
    }

    /// A layer with arrondissement polygons: the whole-city polygon beside them is
    /// dropped, a declared whole city claims every arrondissement, and two CPTS on
    /// different arrondissements do not overlap.
    #[test]
    fn arrondissement_polygons_are_used_when_the_layer_has_them() {
        let layer = collection(&[
            square("75101", 2.30, 48.85, 0.01),
            square("75102", 2.31, 48.85, 0.01),
            square("75056", 2.30, 48.85, 0.02),
            square("92012", 2.29, 48.85, 0.01),
        ]);
        let a = analyse(
            &layer,
            "cpts_id,cpts_name,commune_code\nP1,Paris 1,75101\nP2,Paris 2,75102\nB,Boulogne,92012\n",
        )
        .unwrap();
        assert!(a.communes.index_of("75056").is_none());
        assert_eq!(a.summary.communes_overlap, 0);
        assert_eq!(a.verdict("75101"), Some(Verdict::Covered));
        let b = analyse(
            &layer,
            "cpts_id,cpts_name,commune_code\nP1,Paris 1,75101\nALL,Paris,75056\nB,Boulogne,92012\n",
        )
        .unwrap();
        assert_eq!(b.verdict("75101"), Some(Verdict::Overlap));
        assert_eq!(b.verdict("75102"), Some(Verdict::Covered));
        let said: Vec<&str> = b
            .summary
            .diagnostics
            .iter()
            .filter(|d| d.kind == DiagnosticKind::Arrondissements)
            .map(|d| d.message.as_str())
            .collect();
        assert!(
            said.iter()
                .any(|m| m.contains("whole-commune polygon is dropped")),
            "{said:?}"
        );
        assert!(
            said.iter().any(|m| m.contains("75056 (line 3)")),
            "{said:?}"
        );
    }
}

/// Issue 9: the coverage map (SVG and PNG) and the interactive report.
mod maps {
    use super::*;

    /// `name="value"` attributes of every element of `tag` whose text contains
    /// `marker`, in document order.
    fn elements<'a>(svg: &'a str, tag: &str, marker: &str) -> Vec<BTreeMap<&'a str, &'a str>> {
        let open = format!("<{tag} ");
        svg.match_indices(&open)
            .filter_map(|(at, _)| {
                let end = svg[at..].find('>')? + at;
                let text = &svg[at + open.len()..end];
                text.contains(marker).then(|| attributes(text))
            })
            .collect()
    }

    fn attributes(text: &str) -> BTreeMap<&str, &str> {
        let mut out = BTreeMap::new();
        let mut rest = text;
        while let Some(eq) = rest.find("=\"") {
            let name = rest[..eq].trim().trim_end_matches('/');
            let tail = &rest[eq + 2..];
            let Some(close) = tail.find('"') else { break };
            out.insert(name.rsplit(' ').next().unwrap_or(name), &tail[..close]);
            rest = &tail[close + 1..];
        }
        out
    }

    fn demo_map(dir: &Dir, extra: &[&str]) -> String {
        let mut args = vec![
            "analyze",
            "--map",
            "--quiet",
            "--out",
            "out",
            "--date",
            "2026-01-01",
        ];
        args.extend(extra);
        let o = maillage(dir.path(), &args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        dir.read("out/map.svg")
    }

    #[test]
    fn every_territory_is_drawn_with_its_id_and_neighbours_never_share_a_colour() {
        let dir = Dir::new();
        let svg = demo_map(&dir, &[]);
        let a = Analysis::run(&paca_inputs()).unwrap();
        let paths = elements(&svg, "path", r#"class="territory""#);
        let fill: BTreeMap<&str, &str> =
            paths.iter().map(|p| (p["data-cpts"], p["fill"])).collect();
        let ids: Vec<&str> = a.declarations.cpts.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(
            fill.keys().copied().collect::<Vec<_>>(),
            ids,
            "one path per CPTS, by id"
        );
        for p in &paths {
            assert!(p["id"].starts_with("cpts-") && !p["d"].is_empty(), "{p:?}");
        }
        // territories that share a border or a commune, from the commune adjacency
        // (checked against shapely in paca_adjacency_…)
        let claims = &a.coverage.claimants;
        let mut pairs = 0;
        for i in 0..a.communes.len() {
            let mut near: Vec<u32> = claims[i].clone();
            for &j in a.adjacency.neighbours(i as u32) {
                near.extend(&claims[j as usize]);
            }
            for &x in &claims[i] {
                for &y in &near {
                    if x != y {
                        let (cx, cy) = (
                            &a.declarations.cpts[x as usize].id,
                            &a.declarations.cpts[y as usize].id,
                        );
                        assert_ne!(fill[cx.as_str()], fill[cy.as_str()], "{cx} and {cy} touch");
                        pairs += 1;
                    }
                }
            }
        }
        assert!(pairs > 100, "the demo's territories do touch ({pairs})");
        let colours: std::collections::BTreeSet<&str> = fill.values().copied().collect();
        assert!((3..=6).contains(&colours.len()), "{colours:?}");
    }

    #[test]
    fn the_legend_counts_are_the_summary() {
        let dir = Dir::new();
        let svg = demo_map(&dir, &[]);
        let summary: serde_json::Value =
            serde_json::from_str(&dir.read("out/summary.json")).unwrap();
        let rows = elements(&svg, "g", r#"class="legend-row""#);
        let row = |kind: &str| {
            rows.iter()
                .find(|r| r.get("data-kind") == Some(&kind))
                .unwrap_or_else(|| panic!("no {kind} row in {rows:?}"))
        };
        for (kind, communes, population) in [
            ("covered", "communes_covered", "population_covered"),
            ("white", "communes_white", "population_white"),
            ("overlap", "communes_overlap", "population_overlap"),
        ] {
            assert_eq!(
                row(kind)["data-communes"],
                summary[communes].to_string(),
                "{kind}"
            );
            assert_eq!(
                row(kind)["data-population"],
                summary[population].to_string(),
                "{kind}"
            );
        }
        assert_eq!(
            row("white")["data-zones"],
            summary["white_zone_clusters"].to_string()
        );
        // and the words a planner reads
        assert!(
            svg.contains("47 communes, 713\u{202F}154 hab."),
            "white zone figures in French"
        );
        assert!(
            svg.contains(">Provence-Alpes-Côte d&#39;Azur<"),
            "the région's name as title"
        );
        assert!(svg.contains("2026-01-01"), "the date on the source line");
        // the white zones and overlaps drawn are the summary's
        assert_eq!(
            elements(&svg, "path", r#"class="white-zone""#).len() as u64,
            summary["white_zone_clusters"].as_u64().unwrap()
        );
    }

    #[test]
    fn by_status_the_legend_splits_the_covered_communes_by_status() {
        let dir = Dir::new();
        let svg = demo_map(&dir, &["--color-by", "status"]);
        let summary: serde_json::Value =
            serde_json::from_str(&dir.read("out/summary.json")).unwrap();
        let rows = elements(&svg, "g", r#"class="legend-row""#);
        let statuses: Vec<_> = rows
            .iter()
            .filter(|r| r["data-kind"].starts_with("status-"))
            .collect();
        assert_eq!(statuses.len(), 3, "ACI signé, validé, projet: {rows:?}");
        let sum = |key: &str| -> u64 {
            statuses
                .iter()
                .map(|r| r[key].parse::<u64>().unwrap())
                .sum()
        };
        assert_eq!(
            sum("data-communes"),
            summary["communes_covered"].as_u64().unwrap()
        );
        assert_eq!(
            sum("data-population"),
            summary["population_covered"].as_u64().unwrap()
        );
        assert_eq!(sum("data-cpts"), summary["cpts_count"].as_u64().unwrap());
        for (status, key) in [
            ("aci_signe", "aci_signe"),
            ("valide", "valide"),
            ("projet", "projet"),
        ] {
            let r = statuses
                .iter()
                .find(|r| r["data-kind"] == format!("status-{status}"))
                .unwrap();
            assert_eq!(r["data-cpts"], summary["cpts_by_status"][key].to_string());
        }
        // every territory wears its status's colour
        let a = Analysis::run(&paca_inputs()).unwrap();
        for p in elements(&svg, "path", r#"class="territory""#) {
            let c = a
                .declarations
                .cpts
                .iter()
                .find(|c| c.id == p["data-cpts"])
                .unwrap();
            assert_eq!(
                p["fill"],
                maillage::style::status_colour(c.status),
                "{}",
                c.id
            );
        }
    }

    #[test]
    fn a_choropleth_classes_every_departement_and_says_how_many_per_class() {
        let dir = Dir::new();
        let classes = |svg: &str| -> Vec<usize> {
            elements(svg, "g", r#"class="legend-row""#)
                .iter()
                .filter(|r| r["data-kind"].starts_with("class-"))
                .map(|r| r["data-count"].parse::<usize>().unwrap())
                .collect()
        };
        let svg = demo_map(
            &dir,
            &[
                "--choropleth",
                "coverage_rate_population",
                "--breaks",
                "equal",
                "--classes",
                "3",
            ],
        );
        let counts = classes(&svg);
        assert_eq!(counts.len(), 3);
        assert_eq!(counts.iter().sum::<usize>(), 6, "PACA's six départements");
        assert!(svg.contains("Part de la population couverte par une CPTS, par département"));
        assert!(svg.contains("3 classes, intervalles égaux ; coverage_rate_population"));
        // four of the six départements are covered whole: repeated quantiles merge
        let svg = demo_map(
            &dir,
            &[
                "--choropleth",
                "coverage_rate_population",
                "--breaks",
                "quantiles",
                "--classes",
                "3",
            ],
        );
        let counts = classes(&svg);
        assert_eq!(counts, vec![2, 4], "{svg}");
        assert!(
            elements(&svg, "path", r#"class="territory""#).is_empty(),
            "a choropleth instead"
        );
        // communes, Jenks: every commune with a population in a class
        let svg = demo_map(
            &dir,
            &["--choropleth", "communes.population", "--classes", "5"],
        );
        let rows = elements(&svg, "g", r#"class="legend-row""#);
        let counted: usize = rows
            .iter()
            .filter(|r| r["data-kind"].starts_with("class-"))
            .map(|r| r["data-count"].parse::<usize>().unwrap())
            .sum();
        assert_eq!(counted, 947);
        let bounds: Vec<f64> = rows
            .iter()
            .filter_map(|r| r.get("data-upper").map(|u| u.parse().unwrap()))
            .collect();
        assert!(bounds.windows(2).all(|w| w[0] < w[1]), "{bounds:?}");
        assert_eq!(
            *bounds.last().unwrap(),
            886_040.0,
            "Marseille tops the last class"
        );
    }

    #[test]
    fn a_column_that_cannot_be_mapped_is_a_clear_error_and_nothing_is_written() {
        let dir = Dir::new();
        for (column, says) in [
            ("name", "not numeric"),
            ("no_such_column", "no column \"no_such_column\""),
        ] {
            let o = maillage(
                dir.path(),
                &["analyze", "--map", "--choropleth", column, "--out", "out"],
            );
            assert_eq!(o.status.code(), Some(2), "{column}");
            let e = stderr(&o);
            assert!(
                e.contains(says) && e.contains("communes.csv"),
                "{column}: {e}"
            );
            assert!(
                !dir.path().join("out").join("summary.json").exists(),
                "all or nothing"
            );
        }
        // a column with no value at all: a layer without population
        let layer = collection(&[
            square("01001", 5.0, 45.0, 0.01),
            square("01002", 5.01, 45.0, 0.01),
        ])
        .replace(r#","population":1000"#, "");
        dir.write("c.geojson", &layer);
        dir.write("d.csv", "cpts_id,cpts_name,commune_code\nA,A,01001\n");
        dir.write("p.csv", "code,population\n01001,0\n01002,0\n");
        let o = maillage(
            dir.path(),
            &[
                "analyze",
                "--communes",
                "c.geojson",
                "--cpts",
                "d.csv",
                "--population",
                "p.csv",
                "--map",
                "--choropleth",
                "departements.coverage_rate_population",
                "--out",
                "out2",
            ],
        );
        assert_eq!(o.status.code(), Some(2));
        assert!(stderr(&o).contains("has no value to map"), "{}", stderr(&o));
        assert!(
            !dir.path().join("out2").exists()
                || std::fs::read_dir(dir.path().join("out2"))
                    .unwrap()
                    .next()
                    .is_none()
        );
        // options checked before any work
        let o = maillage(dir.path(), &["map", "--breaks", "kmeans"]);
        assert_eq!(o.status.code(), Some(2));
        assert!(
            stderr(&o).contains("[possible values: quantiles, equal, jenks]"),
            "{}",
            stderr(&o)
        );
    }

    #[test]
    fn the_map_command_writes_the_maps_alone_and_the_png_is_the_svg_drawn() {
        let dir = Dir::new();
        let o = maillage(
            dir.path(),
            &["map", "--out", "maps", "--date", "2026-01-01", "--quiet"],
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let mut names: Vec<String> = std::fs::read_dir(dir.path().join("maps"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["map.png", "map.svg"]);
        let svg = dir.read("maps/map.svg");
        let w: u32 = attributes(&svg[..svg.find('>').unwrap()])["width"]
            .parse()
            .unwrap();
        let h: f64 = attributes(&svg[..svg.find('>').unwrap()])["height"]
            .parse()
            .unwrap();
        let png = decode_png(&std::fs::read(dir.path().join("maps/map.png")).unwrap());
        assert_eq!((png.0, png.1), (w, h as u32), "same size");
        assert!(w >= 1600, "at least 1600 px wide");
        // the zones blanches' red is on the picture, as drawn in the SVG
        let red = png.2.chunks(3).filter(|p| p == &[0xe3, 0x1a, 0x1c]).count();
        assert!(red > 5000, "{red} red pixels");
    }

    /// width, height and RGB pixels of a PNG
    fn decode_png(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        let mut d = png::Decoder::new(std::io::Cursor::new(bytes));
        d.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
        let mut r = d.read_info().unwrap();
        let mut buf = vec![0; r.output_buffer_size().unwrap()];
        let info = r.next_frame(&mut buf).unwrap();
        let channels = info.color_type.samples();
        let rgb = buf[..info.buffer_size()]
            .chunks(channels)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect();
        (info.width, info.height, rgb)
    }

    /// The PACA map at 640 px against the committed picture: a drawing regression
    /// fails, anti-aliasing noise does not. `MAILLAGE_BLESS=1` rewrites it after a
    /// change meant to show.
    #[test]
    fn the_regional_map_matches_its_golden_picture() {
        let dir = Dir::new();
        let o = maillage(
            dir.path(),
            &[
                "map",
                "--out",
                "maps",
                "--date",
                "2026-01-01",
                "--map-width",
                "640",
                "--quiet",
            ],
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let got = std::fs::read(dir.path().join("maps/map.png")).unwrap();
        let golden = fixture("golden/paca-map-640.png");
        if std::env::var_os("MAILLAGE_BLESS").is_some() {
            std::fs::write(&golden, &got).unwrap();
        }
        let (w, h, a) = decode_png(&got);
        let (gw, gh, b) = decode_png(&std::fs::read(&golden).unwrap());
        assert_eq!((w, h), (gw, gh), "size of the picture");
        let mut off = 0usize;
        let mut total = 0u64;
        for (p, q) in a.chunks(3).zip(b.chunks(3)) {
            let d = p
                .iter()
                .zip(q)
                .map(|(x, y)| x.abs_diff(*y))
                .max()
                .unwrap_or(0);
            total += u64::from(d);
            if d > 48 {
                off += 1;
            }
        }
        let pixels = (w * h) as usize;
        assert!(
            off * 1000 < pixels * 5,
            "{off} of {pixels} pixels differ (> 0.5 %)"
        );
        assert!(
            (total as f64) / (pixels as f64) < 1.5,
            "mean difference {}",
            total as f64 / pixels as f64
        );
    }

    #[test]
    fn drawn_territories_are_drawn_with_their_gap_and_overlap_pieces() {
        let dir = Dir::new();
        let o = maillage(
            dir.path(),
            &[
                "analyze",
                "--map",
                "--quiet",
                "--out",
                "out",
                "--date",
                "2026-01-01",
                "--communes",
                fixture("paca/communes.geojson.gz").to_str().unwrap(),
                "--cpts",
                fixture("paca/drawn.geojson").to_str().unwrap(),
                "--cpts",
                fixture("paca/drawn-lists.csv").to_str().unwrap(),
                "--population",
                fixture("paca/population.csv").to_str().unwrap(),
            ],
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let svg = dir.read("out/map.svg");
        let summary: serde_json::Value =
            serde_json::from_str(&dir.read("out/summary.json")).unwrap();
        let territories = elements(&svg, "path", r#"class="territory""#);
        assert_eq!(
            territories.len() as u64,
            summary["cpts_count"].as_u64().unwrap()
        );
        // every drawn territory has its own outline on the map
        let drawn: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(fixture("paca/drawn.geojson")).unwrap())
                .unwrap();
        let ids: std::collections::BTreeSet<&str> = drawn["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["properties"]["cpts_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids.len() as u64, summary["cpts_drawn"].as_u64().unwrap());
        for id in ids {
            assert!(territories.iter().any(|p| p["data-cpts"] == id), "{id}");
        }
        let overlaps: serde_json::Value =
            serde_json::from_str(&dir.read("out/overlaps.geojson")).unwrap();
        let pieces = elements(&svg, "path", r#"class="overlap""#);
        assert_eq!(pieces.len(), overlaps["features"].as_array().unwrap().len());
        for (p, f) in pieces.iter().zip(overlaps["features"].as_array().unwrap()) {
            assert_eq!(
                p["data-cpts"],
                f["properties"]["cpts_ids"].as_str().unwrap()
            );
        }
        assert_eq!(
            elements(&svg, "path", r#"class="white-zone""#).len() as u64,
            summary["white_zone_clusters"].as_u64().unwrap()
        );
    }

    /// The report in a real browser (Debian's headless Chromium through
    /// playwright-core, see tests/browser): opened from disk with every request
    /// refused, it shows a path per territory, a commune's figures on hover and
    /// click, hides a layer, sorts a table. The screenshot is kept in
    /// target/test-artefacts/. Without node, playwright-core or Chromium the test
    /// says so and passes, unless MAILLAGE_REQUIRE_BROWSER is set (`.ci/run` and
    /// `tests/run.sh` set it).
    #[test]
    fn the_report_works_offline_in_a_real_browser() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let driver = root.join("tests/browser/report.mjs");
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
            "a regional report under 1 MB"
        );
        let shots = root.join("target/test-artefacts");
        std::fs::create_dir_all(&shots).unwrap();
        let shot = shots.join("report-paca.png");
        let run = std::process::Command::new("node")
            .arg(&driver)
            .arg(&report)
            .arg("13055")
            .arg(&shot)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&run.stdout);
        let seen: serde_json::Value = serde_json::from_str(text.trim())
            .unwrap_or_else(|e| panic!("{e}: {text} {}", String::from_utf8_lossy(&run.stderr)));
        assert_eq!(
            seen["errors"],
            serde_json::json!([]),
            "console errors: {seen}"
        );
        assert_eq!(
            seen["refused"],
            serde_json::json!([]),
            "requests to other hosts"
        );
        for url in seen["requests"].as_array().unwrap() {
            assert!(url.as_str().unwrap().starts_with("file://"), "{url}");
        }
        assert_eq!(seen["ready"], "1");
        let a = Analysis::run(&paca_inputs()).unwrap();
        let ids: Vec<&str> = a.declarations.cpts.iter().map(|c| c.id.as_str()).collect();
        let drawn: Vec<&str> = seen["territoryIds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(drawn, ids, "one map element per territory");
        assert_eq!(seen["whiteZones"], 3);
        assert_eq!(seen["api"]["faces"], 947);
        let tip = seen["tooltip"].as_str().unwrap();
        assert!(seen["tooltipVisible"].as_bool().unwrap());
        for part in [
            "Marseille (13055)",
            "886\u{202F}040 hab.",
            "couverte par une seule CPTS",
            "CPTS Marseille (CPTS-93-012)",
            "classe ACI 4",
        ] {
            assert!(tip.contains(part), "hover shows {part:?}: {tip}");
        }
        assert_eq!(seen["highlighted"], serde_json::json!(["CPTS-93-012"]));
        assert!(
            seen["details"]
                .as_str()
                .unwrap()
                .contains("Marseille (13055)"),
            "click pins the figures"
        );
        assert!(
            seen["transform"].as_str().unwrap().contains("scale(1.25)"),
            "the wheel zooms"
        );
        assert!(seen["tooltipAfterZoom"]
            .as_str()
            .unwrap()
            .contains("Marseille"));
        assert_eq!(seen["whiteZonesHidden"], true);
        let asc: Vec<f64> = seen["sortedAscending"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let desc: Vec<f64> = seen["sortedDescending"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(asc.len(), ids.len());
        assert!(asc.windows(2).all(|w| w[0] <= w[1]) && desc.windows(2).all(|w| w[0] >= w[1]));
        assert!(
            std::fs::metadata(&shot).unwrap().len() > 10_000,
            "screenshot kept"
        );
    }

    #[test]
    fn the_report_holds_the_verdict_figures_and_diagnostics() {
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
        let html = dir.read("out/report.html");
        assert!(html.contains(r#"class="verdict broken""#));
        assert!(
            html.contains(r#"<td data-figure="communes_white">47</td>"#),
            "figures"
        );
        assert!(
            html.contains("[non_contiguous]") || html.contains(">non_contiguous<"),
            "diagnostics listed"
        );
        assert!(html.contains("CPTS Bollène"));
        // no address of any host: it works offline and sends nothing anywhere
        for scheme in ["http://", "https://", "//cdn", "src=\"http"] {
            let outside = html.matches(scheme).filter(|m| !m.is_empty()).count();
            // the SVG namespace is the only URL, and it is never fetched
            let ns = html.matches("http://www.w3.org/2000/svg").count();
            assert!(outside <= ns, "{scheme} in the report");
        }
    }
}

/// Issue 9: long work shows progress on a terminal, and nothing in batch logs.
mod progress {
    use super::*;

    fn under_terminal(dir: &Dir, args: &str) -> Option<String> {
        // util-linux's script runs the command in a pseudo-terminal
        let bin = env!("CARGO_BIN_EXE_maillage");
        let o = std::process::Command::new("script")
            .current_dir(dir.path())
            .env("MAILLAGE_PROGRESS_AFTER_MS", "0")
            .args(["-qec", &format!("{bin} {args}"), "/dev/null"])
            .output()
            .ok()?;
        Some(String::from_utf8_lossy(&o.stdout).into_owned())
    }

    #[test]
    fn a_terminal_sees_a_progress_line_and_a_pipe_sees_none() {
        let dir = Dir::new();
        let drawn = format!(
            "analyze --out out --communes {} --cpts {} --cpts {}",
            fixture("paca/communes.geojson.gz").display(),
            fixture("paca/drawn.geojson").display(),
            fixture("paca/drawn-lists.csv").display()
        );
        let Some(shown) = under_terminal(&dir, &drawn) else {
            eprintln!("skipped: no `script` (util-linux) to make a terminal");
            return;
        };
        assert!(shown.contains("\r\x1b[2Kmaillage: "), "{shown:?}");
        assert!(
            [
                "reading the inputs",
                "overlay of drawn territories",
                "gap and overlap pieces"
            ]
            .iter()
            .any(|stage| shown.contains(stage)),
            "{shown:?}"
        );
        // the line is erased before the summary is printed
        assert!(
            shown.contains("\r\x1b[2Kmaillage: 947 communes"),
            "{shown:?}"
        );
        let quiet = under_terminal(&dir, &format!("{drawn} --quiet")).unwrap();
        assert!(
            !quiet.contains("maillage: "),
            "--quiet silences it: {quiet:?}"
        );
        // piped, as in a batch job: no progress, no carriage return
        let args: Vec<String> = drawn.split(' ').map(str::to_owned).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_maillage"))
            .current_dir(dir.path())
            .env("MAILLAGE_PROGRESS_AFTER_MS", "0")
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(
            !stderr(&o).contains('\r') && !stderr(&o).contains("overlay of"),
            "{}",
            stderr(&o)
        );
    }
}

/// Issue 10: accessibility scores, checked against PySAL `access` on PACA.
mod access {
    use super::*;

    /// `access.csv` as code → score.
    fn scores(dir: &Dir, out: &str) -> BTreeMap<String, Option<f64>> {
        let text = dir.read(&format!("{out}/access.csv"));
        let mut rdr = csv::Reader::from_reader(text.as_bytes());
        rdr.records()
            .map(|r| {
                let r = r.unwrap();
                (r[0].to_owned(), r[4].parse::<f64>().ok())
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
        let text = std::fs::read_to_string(fixture("paca/access-points.csv")).unwrap();
        let pts: Vec<(String, f64, f64)> = text
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
            .collect();
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
                .contains("947 commune-to-itself pair(s) added")));
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
            let min = m
                .iter()
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
}

// ------------------------------------------------ propose: candidate and fixes

mod propose {
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
                .map(|&i| maillage::admin::region_of_departement(before.communes.departement(i)))
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
        let summary: serde_json::Value =
            serde_json::from_str(&dir.read("p1/summary.json")).unwrap();
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
        let geo: serde_json::Value =
            serde_json::from_str(&dir.read("p1/new_cpts.geojson")).unwrap();
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
}

// ------------------------------------------------ GIS outputs: GeoPackage, GeoParquet

mod gis {
    use super::*;

    const PARQUET: [&str; 7] = [
        "communes.parquet",
        "territories.parquet",
        "white_zones.parquet",
        "overlaps.parquet",
        "cpts.parquet",
        "departements.parquet",
        "regions.parquet",
    ];

    fn paca_args(cpts: &str) -> Vec<String> {
        vec![
            "analyze".into(),
            "--communes".into(),
            fixture("paca/communes.geojson.gz").display().to_string(),
            "--population".into(),
            fixture("paca/population.csv").display().to_string(),
            "--cpts".into(),
            cpts.into(),
            "--quiet".into(),
        ]
    }

    fn run(dir: &Dir, args: &[String], extra: &[&str]) {
        let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
        all.extend_from_slice(extra);
        let o = maillage(dir.path(), &all);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }

    #[test]
    fn gpkg_and_geoparquet_pass_gdal_geopandas_and_duckdb() {
        // two monthly runs, partitioned by date: the demo, then the demo without
        // one CPTS (more zones blanches)
        let dir = Dir::new();
        let decl = std::fs::read_to_string(fixture("paca/declarations.csv")).unwrap();
        let without: Vec<&str> = decl
            .lines()
            .filter(|l| !l.starts_with("CPTS-93-001,"))
            .collect();
        assert!(without.len() < decl.lines().count());
        dir.write("later.csv", without.join("\n") + "\n");
        let first = fixture("paca/declarations.csv").display().to_string();
        run(
            &dir,
            &paca_args(&first),
            &[
                "--format",
                "all",
                "--date",
                "2026-11-01",
                "--out",
                "runs/run_date=2026-11",
            ],
        );
        run(
            &dir,
            &paca_args("later.csv"),
            &[
                "--format",
                "all",
                "--date",
                "2026-12-01",
                "--out",
                "runs/run_date=2026-12",
            ],
        );
        for run in ["2026-11", "2026-12"] {
            for f in PARQUET
                .iter()
                .chain(&["maillage.gpkg", "communes.csv", "summary.json"])
            {
                assert!(
                    dir.path().join(format!("runs/run_date={run}/{f}")).exists(),
                    "{run}/{f}"
                );
            }
        }
        let python = std::process::Command::new("python3")
            .arg("-c")
            .arg("import duckdb, duckdb_extension_spatial, geopandas, pyarrow, pyogrio, shapely")
            .output();
        if !python.is_ok_and(|o| o.status.success()) {
            assert!(
                std::env::var_os("MAILLAGE_REQUIRE_PYTHON").is_none(),
                "MAILLAGE_REQUIRE_PYTHON is set but the readers of tests/requirements.txt are missing"
            );
            eprintln!("skipped: pip install -r tests/requirements.txt to run the GDAL, geopandas and DuckDB checks");
            return;
        }
        let o = std::process::Command::new("python3")
            .arg(fixture("check_gis.py"))
            .arg(dir.path().join("runs"))
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success(), "{out}\n{}", stderr(&o));
        assert!(out.contains("all checks passed"), "{out}");
        // the DuckDB query found zones blanches in both runs, more in the second
        let line = out.lines().find(|l| l.starts_with("DuckDB:")).unwrap();
        let whites: Vec<u64> = line
            .split("; ")
            .map(|p| {
                p.rsplit(": ")
                    .next()
                    .unwrap()
                    .trim_end_matches(" white")
                    .parse()
                    .unwrap()
            })
            .collect();
        assert_eq!(whites.len(), 2, "{line}");
        assert!(whites[1] > whites[0], "{line}");
    }

    #[test]
    fn the_geopackage_reads_back_as_the_commune_layer() {
        let dir = Dir::new();
        let decl = fixture("paca/declarations.csv").display().to_string();
        run(&dir, &paca_args(&decl), &["--format", "gpkg", "--out", "a"]);
        assert!(!dir.path().join("a/communes.parquet").exists());
        // the GeoPackage's communes layer (one of several tables) as input
        let o = maillage(
            dir.path(),
            &[
                "analyze",
                "--communes",
                "a/maillage.gpkg",
                "--cpts",
                &decl,
                "--quiet",
                "--out",
                "b",
            ],
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let a: serde_json::Value = serde_json::from_str(&dir.read("a/summary.json")).unwrap();
        let b: serde_json::Value = serde_json::from_str(&dir.read("b/summary.json")).unwrap();
        for key in [
            "communes_total",
            "communes_white",
            "communes_overlap",
            "population_total",
            "population_white",
            "white_zone_clusters",
            "area_km2_total",
            "area_km2_white",
        ] {
            assert_eq!(a[key], b[key], "{key}");
        }
        assert_eq!(
            dir.read("a/territories.geojson"),
            dir.read("b/territories.geojson")
        );
    }

    #[test]
    fn gis_files_do_not_depend_on_threads_or_row_order_and_replace_old_ones() {
        let dir = Dir::new();
        let decl = std::fs::read_to_string(fixture("paca/declarations.csv")).unwrap();
        let mut rows: Vec<&str> = decl.lines().skip(1).collect();
        shuffle(&mut rows, 11);
        dir.write(
            "shuffled.csv",
            format!(
                "cpts_id,cpts_name,commune_code,status\n{}\n",
                rows.join("\n")
            ),
        );
        // an old file in the way is replaced whole, never added to
        std::fs::create_dir_all(dir.path().join("b")).unwrap();
        dir.write("b/maillage.gpkg", "not a database");
        let first = fixture("paca/declarations.csv").display().to_string();
        run(
            &dir,
            &paca_args(&first),
            &[
                "--format",
                "all",
                "--threads",
                "1",
                "--date",
                "2026-12-01",
                "--out",
                "a",
            ],
        );
        run(
            &dir,
            &paca_args("shuffled.csv"),
            &[
                "--format",
                "all",
                "--threads",
                "2",
                "--date",
                "2026-12-01",
                "--out",
                "b",
            ],
        );
        for f in PARQUET.iter().chain(&["maillage.gpkg"]) {
            let (a, b) = (
                std::fs::read(dir.path().join("a").join(f)).unwrap(),
                std::fs::read(dir.path().join("b").join(f)).unwrap(),
            );
            assert!(a == b, "{f} differs");
        }
        let gpkg = std::fs::read(dir.path().join("b/maillage.gpkg")).unwrap();
        assert!(gpkg.starts_with(b"SQLite format 3\0"));
        // the GeoPackage application id, big-endian at offset 68: "GPKG"
        assert_eq!(&gpkg[68..72], b"GPKG");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("b"))
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
        // a format that does not exist
        let o = maillage(
            dir.path(),
            &["analyze", "--format", "gpkg,shp", "--out", "c"],
        );
        assert_eq!(o.status.code(), Some(2));
        assert!(
            stderr(&o).contains("\"shp\" is not a format"),
            "{}",
            stderr(&o)
        );
        assert!(!dir.path().join("c").exists());
    }
}

// ------------------------------------------------ hostile inputs and failing disks

mod hostile {
    use super::*;
    use std::io::Write;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn a_gzip_bomb_is_refused_within_the_inflate_limit() {
        let dir = Dir::new();
        // 64 MB of spaces in 64 KB: a 1000× ratio, past a 16 MB limit
        let bomb = gzip(&vec![b' '; 64 << 20]);
        assert!(bomb.len() < 200_000);
        dir.write("bomb.geojson.gz", &bomb);
        dir.write(
            "d.csv",
            "cpts_id,cpts_name,commune_code,status\nA,A,01001,projet\n",
        );
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_maillage"))
            .current_dir(dir.path())
            .env("MAILLAGE_MAX_INFLATE_BYTES", (16u64 << 20).to_string())
            .args(["check", "--communes", "bomb.geojson.gz", "--cpts", "d.csv"])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2));
        let e = stderr(&o);
        assert!(
            e.contains("bomb.geojson.gz") && e.contains("zip bomb"),
            "{e}"
        );
        // the same file under the default limit (1 GiB, or 50× its size) reads
        // and fails for what it is: blank, not GeoJSON
        let o = maillage(
            dir.path(),
            &["check", "--communes", "bomb.geojson.gz", "--cpts", "d.csv"],
        );
        assert_eq!(o.status.code(), Some(2));
        assert!(!stderr(&o).contains("zip bomb"), "{}", stderr(&o));
    }

    #[test]
    fn a_zip_whose_shapefile_inflates_too_far_is_refused() {
        let dir = Dir::new();
        let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        z.start_file("COMMUNE.shp", opts).unwrap();
        z.write_all(&vec![0u8; 48 << 20]).unwrap();
        z.start_file("COMMUNE.dbf", opts).unwrap();
        z.write_all(b"x").unwrap();
        let bytes = z.finish().unwrap().into_inner();
        assert!(bytes.len() < 200_000);
        dir.write("communes.zip", &bytes);
        dir.write(
            "d.csv",
            "cpts_id,cpts_name,commune_code,status\nA,A,01001,projet\n",
        );
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_maillage"))
            .current_dir(dir.path())
            .env("MAILLAGE_MAX_INFLATE_BYTES", (8u64 << 20).to_string())
            .args(["check", "--communes", "communes.zip", "--cpts", "d.csv"])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2));
        let e = stderr(&o);
        assert!(e.contains("COMMUNE.shp") && e.contains("zip bomb"), "{e}");
    }

    #[test]
    fn deeply_nested_json_and_a_huge_csv_cell_are_clear_errors_or_read() {
        let dir = Dir::new();
        let d = 200_000;
        dir.write("deep.geojson", "[".repeat(d) + &"]".repeat(d));
        dir.write(
            "deep2.geojson",
            format!(
                r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":{{"code":"01001"}},"geometry":{{"type":"Polygon","coordinates":{}{}}}}}]}}"#,
                "[".repeat(d),
                "]".repeat(d)
            ),
        );
        dir.write(
            "d.csv",
            "cpts_id,cpts_name,commune_code,status\nA,A,01001,projet\n",
        );
        for f in ["deep.geojson", "deep2.geojson"] {
            let o = maillage(dir.path(), &["check", "--communes", f, "--cpts", "d.csv"]);
            assert_eq!(o.status.code(), Some(2), "{f}");
            assert!(stderr(&o).contains(f), "{}", stderr(&o));
        }
        // a 10 MB cell on one line: read (a long name is a name), or an
        // unterminated quote: the line named
        let communes = fixture("paca/communes.geojson.gz").display().to_string();
        dir.write(
            "big.csv",
            format!(
                "cpts_id,cpts_name,commune_code,status\nA,{},13055,projet\n",
                "x".repeat(10 << 20)
            ),
        );
        let o = maillage(
            dir.path(),
            &["check", "--communes", &communes, "--cpts", "big.csv"],
        );
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        dir.write(
            "quote.csv",
            format!(
                "cpts_id,cpts_name,commune_code,status\nA,\"{},13055,projet\n",
                "x".repeat(10 << 20)
            ),
        );
        let o = maillage(
            dir.path(),
            &["check", "--communes", &communes, "--cpts", "quote.csv"],
        );
        assert_eq!(o.status.code(), Some(2));
        assert!(stderr(&o).contains("quote.csv: line 2"), "{}", stderr(&o));
    }

    #[test]
    fn an_unwritable_out_folder_leaves_the_old_files_and_no_temporary_one() {
        use std::os::unix::fs::PermissionsExt;
        let dir = Dir::new();
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        dir.write("out/summary.json", "old");
        std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o555)).unwrap();
        // root writes through permissions: then nothing to test here
        let probe = out.join("probe");
        if std::fs::write(&probe, "x").is_ok() {
            std::fs::remove_file(&probe).unwrap();
            std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o755)).unwrap();
            eprintln!("skipped: running as a user who can write into a read-only folder (root)");
            return;
        }
        let o = maillage(
            dir.path(),
            &[
                "analyze", "--format", "all", "--map", "--report", "--out", "out", "--quiet",
            ],
        );
        std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(o.status.code(), Some(2));
        assert!(stderr(&o).contains("out/"), "{}", stderr(&o));
        let names: Vec<String> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, vec!["summary.json".to_owned()]);
        assert_eq!(dir.read("out/summary.json"), "old");
    }

    /// A full disk, simulated with a file size limit (`ulimit -f`, SIGXFSZ
    /// ignored so that writes fail with EFBIG as on a full disk, even as root):
    /// at every size one of the outputs (CSV, GeoJSON, Parquet or the GeoPackage.s
    /// SQLite, the maps) fails, the run says which file, and the folder keeps its
    /// old files and no temporary one.
    #[test]
    fn a_full_disk_leaves_the_old_files_and_no_temporary_one() {
        let dir = Dir::new();
        std::fs::create_dir(dir.path().join("out")).unwrap();
        dir.write("out/summary.json", "old");
        let mut failed_files = std::collections::BTreeSet::new();
        // at most 2000 blocks: whether sh counts them in 512 or 1024 bytes, the
        // GeoPackage (2.2 MB) cannot fit
        for blocks in [8, 200, 1000, 2000] {
            let o = std::process::Command::new("sh")
                .current_dir(dir.path())
                .arg("-c")
                .arg(format!(
                    "trap '' XFSZ; ulimit -f {blocks}; exec \"$0\" \"$@\""
                ))
                .arg(env!("CARGO_BIN_EXE_maillage"))
                .args([
                    "analyze", "--format", "all", "--map", "--report", "--out", "out", "--quiet",
                ])
                .output()
                .unwrap();
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(2), "{blocks}: {err}");
            assert!(!err.contains("panicked"), "{err}");
            // the message names the final file, never the temporary one
            let named = err
                .split_whitespace()
                .find(|w| w.starts_with("out/"))
                .unwrap_or_else(|| panic!("{blocks}: no file named: {err}"));
            assert!(!named.contains(".tmp"), "{err}");
            failed_files.insert(named.trim_end_matches(':').to_owned());
            let names: Vec<String> = std::fs::read_dir(dir.path().join("out"))
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            assert_eq!(names, vec!["summary.json".to_owned()], "{blocks}");
            assert_eq!(dir.read("out/summary.json"), "old");
        }
        // the limits reach more than one writer
        assert!(failed_files.len() >= 2, "{failed_files:?}");
        eprintln!("failed writers: {failed_files:?}");
    }
}

// ------------------------------------------------ the streamed commune reader

/// The commune layer given as a path is streamed (src/load/stream.rs); given as
/// bytes it is read whole. The stream must read every valid file exactly as the
/// whole reader does, and hand every other file to it.
mod streamed_layer {
    use super::*;
    use maillage::load::{load_communes, FieldNames};

    /// What a load gives, comparable: every commune in full, the diagnostics, or
    /// the error's message.
    fn outcome(source: &Source) -> String {
        match load_communes(source, &FieldNames::default()) {
            Ok(l) => format!(
                "{:?} {:?} {:?} {:?} {:?}",
                l.communes
                    .iter()
                    .map(|c| (&c.code, &c.name, c.population, &c.geometry))
                    .collect::<Vec<_>>(),
                l.code_field,
                l.name_field,
                l.population_field,
                l.diagnostics
            ),
            Err(e) => format!("error: {e}"),
        }
    }

    /// Twelve real PACA communes, then the same text damaged 600 ways (cut,
    /// bytes dropped, inserted, changed, repeated), plain and gzip, and the
    /// hand-picked near-misses of a lexer: a trailing comma, a byte order mark,
    /// the crs member after the features, an escaped key, a top-level member that
    /// is not JSON, another type. Each file: the stream's outcome is the whole
    /// reader's.
    #[test]
    fn the_stream_reads_every_file_as_the_whole_reader_does() {
        let paca = Source::from_path(fixture("paca/communes.geojson.gz")).unwrap();
        let mut fc: serde_json::Value = serde_json::from_slice(&paca.bytes).unwrap();
        fc["features"].as_array_mut().unwrap().truncate(12);
        let text = serde_json::to_string(&fc).unwrap();
        let body = text.trim_start_matches('{').to_owned();
        let mut cases: Vec<Vec<u8>> = vec![
            text.clone().into_bytes(),
            serde_json::to_string_pretty(&fc).unwrap().into_bytes(),
            text.replacen("}]}", "},]}", 1).into_bytes(),
            format!("\u{feff}{text}").into_bytes(),
            format!(
                "{{{},\"crs\":{{\"type\":\"name\",\"properties\":{{\"name\":\"EPSG:2154\"}}}}}}",
                text.trim_start_matches('{').trim_end_matches('}')
            )
            .into_bytes(),
            format!("{{\"feat\\u0075res\":[],{body}").into_bytes(),
            format!("{{\"name\":tru,{body}").into_bytes(),
            format!("{{\"name\":\"a\",,{body}").into_bytes(),
            format!("{{\"type\":\"Feature\",{body}").into_bytes(),
            format!("{{\"type\":7,{body}").into_bytes(),
            format!("{text} x").into_bytes(),
            format!("{text}}}").into_bytes(),
            text.replacen("},{", "} {", 1).into_bytes(),
            text.replacen("[{", "[{]", 1).into_bytes(),
            b"{\"features\":[]}".to_vec(),
            b"{\"features\":[],\"features\":[]}".to_vec(),
            Vec::new(),
        ];
        // a fixed-seed generator: the same 600 damaged files every run
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let bytes = text.as_bytes();
        for _ in 0..600 {
            let mut t = bytes.to_vec();
            for _ in 0..1 + next(3) {
                let at = next(t.len());
                match next(5) {
                    0 => t.truncate(at),
                    1 => {
                        t.remove(at);
                    }
                    2 => t.insert(at, b"{}[],:\"\\ 0e-.a\n"[next(15)]),
                    3 => t[at] = b"{}[],:\"\\ 0e-.a\n"[next(15)],
                    _ => {
                        let end = (at + next(200)).min(t.len());
                        let piece = t[at..end].to_vec();
                        t.splice(at..at, piece);
                    }
                }
                if t.is_empty() {
                    break;
                }
            }
            cases.push(t);
        }
        let dir = Dir::new();
        let (mut accepted, mut refused) = (0, 0);
        for (k, case) in cases.iter().enumerate() {
            for gzip in [false, true] {
                let content = if gzip {
                    use std::io::Write;
                    let mut e =
                        flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                    e.write_all(case).unwrap();
                    e.finish().unwrap()
                } else {
                    case.clone()
                };
                let path = dir.write(&format!("c{k}.geojson"), &content);
                let whole = outcome(&Source::from_bytes(&path, content).unwrap_or_else(|e| {
                    // a corrupt gzip: from_bytes refuses it, as the stream must
                    panic!("{e}")
                }));
                let streamed = outcome(&Source::deferred(&path).unwrap());
                assert_eq!(streamed, whole, "case {k} (gzip {gzip})");
                if whole.starts_with("error") {
                    refused += 1;
                } else {
                    accepted += 1;
                }
            }
        }
        // both kinds are there: the test compares readings, not only refusals
        assert!(
            accepted > 20 && refused > 600,
            "{accepted} read, {refused} refused"
        );
    }
}

// ------------------------------------------------ what the fuzzers found (fuzz/)

mod fuzz_findings {
    use super::*;

    /// Every input the fuzzers crashed maillage with, kept in fixtures/fuzz/: each
    /// must now be a clear error naming the file, with exit status 2.
    #[test]
    fn every_crash_input_is_now_a_clear_error() {
        let dir = Dir::new();
        dir.write(
            "d.csv",
            "cpts_id,cpts_name,commune_code,status\nA,A,01001,projet\n",
        );
        let mut n = 0;
        for entry in std::fs::read_dir(fixture("fuzz")).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            // communes-*: crashed a reader; stream-*: the streamed layer disagreed with
            // the whole reader (it must give the whole reader's error)
            let (flag, file) = if name.starts_with("communes-") || name.starts_with("stream-") {
                ("--communes", path.display().to_string())
            } else {
                continue;
            };
            let o = maillage(dir.path(), &["check", flag, &file, "--cpts", "d.csv"]);
            assert_eq!(o.status.code(), Some(2), "{name}: {}", stderr(&o));
            let e = stderr(&o);
            assert!(
                e.contains(&format!("maillage: error: {file}")),
                "{name}: {e}"
            );
            if name.starts_with("stream-") {
                assert!(e.contains("not a valid GeoJSON"), "{name}: {e}");
            }
            n += 1;
        }
        assert!(n >= 1);
    }
}

/// Issue 25: geometry and numbers checked where they enter. Each used to give
/// nonsense with exit status 0: a hole outside or around its shell (negative
/// areas), a bow-tie (area 0), a damaged Lambert-93 vertex (the South Pole), an
/// empty WKB MultiPolygon (area 0), a population of 2⁶⁴ − 1 (sums that wrap).
mod hostile_geometry {
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
        let holed = format!(
            "[[{shell}],[[5.04,45.04],[5.04,45.06],[5.06,45.06],[5.06,45.04],[5.04,45.04]]]"
        );
        let layer = load("c.geojson", &collection(&[feature("01002", &holed, "")])).unwrap();
        let km2 = maillage::area::multi_polygon_km2(&layer.communes[0].geometry);
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
            let triggers: Vec<String> = db
                .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'")
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            for t in triggers {
                db.execute_batch(&format!("DROP TRIGGER \"{t}\"")).unwrap();
            }
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
}

mod hostile_gpkg {
    use super::*;

    /// A GeoPackage whose geometry blobs lie about their sizes (a ring of 2³² − 1
    /// points in a 100-byte blob, a truncated blob): each feature is refused with
    /// its index, within bounded memory, and the other features are not read as
    /// anything else.
    #[test]
    fn geometry_blobs_that_lie_about_their_size_are_refused_by_feature() {
        let dir = Dir::new();
        let decl = fixture("paca/declarations.csv").display().to_string();
        let communes = fixture("paca/communes.geojson.gz").display().to_string();
        let o = maillage(
            dir.path(),
            &[
                "analyze",
                "--communes",
                &communes,
                "--cpts",
                &decl,
                "--format",
                "gpkg",
                "--quiet",
                "--out",
                "a",
            ],
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let path = dir.path().join("a/maillage.gpkg");
        {
            let db = rusqlite::Connection::open(&path).unwrap();
            // the R-tree triggers call GDAL's ST_ functions, which plain SQLite
            // lacks (as in GDAL's own files): drop them to edit the blobs
            let triggers: Vec<String> = db
                .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'")
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            assert_eq!(triggers.len(), 4 * 6);
            for t in triggers {
                db.execute_batch(&format!("DROP TRIGGER \"{t}\"")).unwrap();
            }
            // fid 1: GP header (8) + envelope (32) + WKB multipolygon header (9) +
            // polygon header (9), then a ring count claiming 4,294,967,295 points
            let mut lying: Vec<u8> = db
                .query_row("SELECT geom FROM communes WHERE fid = 1", [], |r| r.get(0))
                .unwrap();
            lying.truncate(40 + 9 + 9);
            lying.extend(u32::MAX.to_le_bytes());
            lying.extend([0u8; 40]);
            db.execute("UPDATE communes SET geom = ? WHERE fid = 1", [&lying])
                .unwrap();
            // fid 2: cut in the middle of its coordinates
            db.execute(
                "UPDATE communes SET geom = substr(geom, 1, 100) WHERE fid = 2",
                [],
            )
            .unwrap();
        }
        let o = maillage(
            dir.path(),
            &["check", "--communes", "a/maillage.gpkg", "--cpts", &decl],
        );
        assert_eq!(o.status.code(), Some(2));
        let e = stderr(&o);
        assert!(
            e.contains("a/maillage.gpkg") && e.contains("2 unusable feature(s)"),
            "{e}"
        );
        assert!(e.contains("feature 0") && e.contains("feature 1"), "{e}");
        assert_eq!(
            e.matches("WKB ring longer than the geometry").count(),
            2,
            "{e}"
        );
    }
}

/// Issue 22: the planner's tools never mislead — no CPTS dissolved in silence,
/// new CPTS capped and within one région, empty inputs refused, a closed pipe
/// ending quietly, options a command cannot honour refused.
mod planner_trust {
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
        assert!(out.contains("diagnostics:"), "{out}");
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
    fn options_propose_cannot_honour_are_refused() {
        let dir = Dir::new();
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
}

mod propose_exact {
    use super::*;
    use maillage::propose::exact::check_overlaps;
    use maillage::propose::{Proposal, ProposeOptions};

    /// Brute force on every small group of interacting chevauchements: the
    /// `balanced` proposal, made one commune at a time, against the best
    /// assignment of the whole group under the same criteria. Returns the groups
    /// checked, how many the greedy solved optimally, and the others.
    fn greedy_against_brute_force(inputs: Inputs) -> (usize, usize, Vec<String>) {
        let a = Analysis::run(&inputs).unwrap();
        let p = Proposal::compute(&a, &ProposeOptions::default()).unwrap();
        let (mut groups, mut optimal, mut tried) = (0, 0, 0u64);
        let mut report = Vec::new();
        for g in check_overlaps(&a, &p, 10) {
            groups += 1;
            tried += g.tried;
            if g.optimal() {
                optimal += 1;
            } else {
                let codes: Vec<&str> = g
                    .communes
                    .iter()
                    .map(|&i| a.communes.get(i).code.as_str())
                    .collect();
                report.push(format!(
                    "{codes:?}: proposed {:?}, best {:?}",
                    g.proposed, g.best
                ));
            }
        }
        eprintln!(
            "{optimal}/{groups} groups optimal, {tried} assignments tried\n{}",
            report.join("\n")
        );
        (groups, optimal, report)
    }

    #[test]
    fn balanced_reaches_the_exact_optimum_on_the_demo_overlap_groups() {
        let (groups, optimal, report) = greedy_against_brute_force(paca_inputs());
        // the demo's 8 overlapped communes form two groups, both solved
        assert!(groups >= 2, "{groups}");
        assert_eq!(optimal, groups, "{}", report.join("\n"));
    }

    #[test]
    #[ignore = "national tier: reads ../shared/data (bash tests/run.sh --national)"]
    fn national_balanced_reaches_the_exact_optimum_on_small_overlap_groups() {
        // the national declarations: 195 chevauchements in many small groups
        let (groups, optimal, report) = greedy_against_brute_force(
            Inputs::from_paths(
                &national_layer(),
                &[&fixture("national/declarations.csv.gz")],
                Some(&fixture("national/population.csv.gz")),
                maillage::FieldNames::default(),
            )
            .unwrap(),
        );
        // measured when written: 56 of 60 groups optimal with the demo's (the 4
        // others: one ACI class change avoidable in Seine-et-Marne/Seine-Saint-Denis,
        // fewer EPCI mates in two Île-de-France groups, 2.4 km less border in
        // Hérault); the greedy must not get worse than that
        assert!(groups >= 50, "{groups}");
        assert!(
            optimal * 100 >= groups * 90,
            "{optimal}/{groups}\n{}",
            report.join("\n")
        );
    }
}
