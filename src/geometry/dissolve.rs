//! Dissolve: the union of a group of polygons (the communes of a CPTS territory or
//! of a zone blanche) as one multipolygon, without internal edges. Pure geometry:
//! it knows nothing of coverage; [`crate::outlines`] applies it to an analysis.
//!
//! Uses `geo`'s `unary_union` (the i_overlay engine), which is exact along shared
//! boundaries. Its fill rule is taken from the winding of the first ring it sees,
//! so inputs must be consistently oriented — the loader orients every commune —
//! and its output may hold a hole wound like its shell, so the output is oriented
//! again (exteriors counter-clockwise, holes clockwise: RFC 7946).

use geo::{unary_union, MultiPolygon, Polygon};

use crate::load::oriented;

/// The union of the given (consistently oriented) multipolygons, oriented for RFC 7946.
///
/// # Performance
/// O(v log v) in the number of vertices v; all CPTS of France take ~0.1 s on 2 cores.
pub fn dissolve(parts: &[&MultiPolygon<f64>]) -> MultiPolygon<f64> {
    match parts {
        [] => MultiPolygon::new(Vec::new()),
        [one] => (*one).clone(),
        _ => {
            let polys: Vec<&Polygon<f64>> = parts.iter().flat_map(|m| m.0.iter()).collect();
            let union = unary_union(polys);
            MultiPolygon::new(union.0.into_iter().map(oriented).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{polygon, Area};

    fn sq(x: f64, y: f64) -> MultiPolygon<f64> {
        MultiPolygon::new(vec![
            polygon![(x: x, y: y), (x: x + 1.0, y: y), (x: x + 1.0, y: y + 1.0), (x: x, y: y + 1.0)],
        ])
    }

    #[test]
    fn adjacent_squares_dissolve_into_one_ring_without_internal_edge() {
        let (a, b) = (sq(0.0, 0.0), sq(1.0, 0.0));
        let d = dissolve(&[&a, &b]);
        assert_eq!(d.0.len(), 1);
        assert!(d.0[0].interiors().is_empty());
        assert!(
            (d.signed_area() - 2.0).abs() < 1e-12,
            "counter-clockwise, area 2"
        );
    }

    #[test]
    fn ring_of_squares_keeps_its_hole_wound_clockwise() {
        let cells: Vec<MultiPolygon<f64>> = (0..3)
            .flat_map(|x| (0..3).map(move |y| (x, y)))
            .filter(|&(x, y)| (x, y) != (1, 1))
            .map(|(x, y)| sq(x as f64, y as f64))
            .collect();
        let refs: Vec<&MultiPolygon<f64>> = cells.iter().collect();
        let d = dissolve(&refs);
        assert_eq!(d.0.len(), 1);
        assert_eq!(d.0[0].interiors().len(), 1);
        assert!(d.0[0].exterior().0.len() >= 5);
        assert!((d.signed_area() - 8.0).abs() < 1e-9);
        assert!(crate::load::signed_twice_area(&d.0[0].interiors()[0].0) < 0.0);
    }

    #[test]
    fn separate_squares_stay_two_polygons() {
        let (a, b) = (sq(0.0, 0.0), sq(5.0, 0.0));
        assert_eq!(dissolve(&[&a, &b]).0.len(), 2);
    }
}
