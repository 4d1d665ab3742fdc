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
    let t =
        load_territories(&Source::from_bytes("drawn.geojson", text.into_bytes()).unwrap()).unwrap();

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
        "RepairedGeometry: drawn.geojson : réparé : 1 anneaux non fermés refermés ; 1 points consécutifs répétés retirés ; 1 anneaux réorientés",
        "RejectedFeature: drawn.geojson: feature 3 (D): polygon 0: its exterior ring has a self-intersection (a bow-tie",
        "RejectedFeature: drawn.geojson: feature 4 (E): polygon 0: interior ring at index 0 is not contained within the polygon's exterior",
        "RejectedFeature: drawn.geojson: feature 5 (F): ring 0: coordinate (700000, 6600000) is not longitude/latitude",
        "RejectedFeature: drawn.geojson: feature 6 (G): empty geometry",
        "RejectedFeature: drawn.geojson: feature 7: no cpts_id property",
        "MergedFeatures: drawn.geojson : la CPTS A est dessinée en 2 entités (0, 8)",
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
        (maillage::geometry::multi_polygon_km2(&a.geometry)
            - 2.0 * maillage::geometry::multi_polygon_km2(&t.territories[1].geometry))
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
