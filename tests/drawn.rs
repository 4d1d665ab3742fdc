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
        maillage::geometry::multi_polygon_km2(&o.gaps[0].geometry),
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
