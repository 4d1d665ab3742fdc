//! The one-CPTS-per-territory rule on hand-made shapes.

use super::*;

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
