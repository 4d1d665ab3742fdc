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
            && d.message.contains(": 151 ;")
            && d.message.contains("laissées de côté : 796")));
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
