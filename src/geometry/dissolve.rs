//! Dissolve: the union of a group of polygons (the communes of a CPTS territory or
//! of a zone blanche) as one multipolygon, without internal edges. Pure geometry:
//! it knows nothing of coverage; [`crate::outlines`] applies it to an analysis.
//!
//! Uses `geo`'s `unary_union` (the i_overlay engine), which is exact along shared
//! boundaries. Its fill rule is taken from the winding of the first ring it sees,
//! so inputs must be consistently oriented — the loader orients every commune —
//! and its output may hold a hole wound like its shell, so the output is oriented
//! again (exteriors counter-clockwise, holes clockwise: RFC 7946).

use geo::{unary_union, Coord, MultiPolygon, Polygon};

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
            let mut out = MultiPolygon::new(union.0.into_iter().map(oriented).collect());
            snap_to_inputs(&mut out, parts);
            out
        }
    }
}

/// How far (degrees) an output vertex may lie from the input vertex it stands
/// for. i_overlay (i_float's adapter) computes on an integer grid whose step is
/// at most the group's extent / 2^29, centred on it, and scales back, which
/// moves a vertex by up to half a step: ~1e-11° for a commune, ~1e-9° for a
/// territory a degree wide. The tolerance is four steps, at least 1e-9° (0.1
/// mm): far below any two distinct vertices of a commune layer, and the nearest
/// input vertex wins.
fn snap_tolerance(out: &MultiPolygon<f64>) -> f64 {
    use geo::BoundingRect;
    let extent = out
        .bounding_rect()
        .map_or(0.0, |r| r.width().max(r.height()));
    (extent * 4.0 / f64::from(1u32 << 29)).max(1e-9)
}

/// Puts every vertex of `out` back exactly on the input vertex it stands for,
/// so that the outline follows the input's own coordinates: a commune is then
/// exactly within its zone blanche (`ST_Within` holds), its edges on the zone's
/// boundary. Vertices with no input vertex within [`snap_tolerance`] are left as
/// they are.
fn snap_to_inputs(out: &mut MultiPolygon<f64>, parts: &[&MultiPolygon<f64>]) {
    use rustc_hash::FxHashMap;
    // input vertices filed by grid cell (a vertex shared by two communes is the
    // same coordinates twice: one entry); each outline vertex then looks in the
    // cells within the tolerance of it — one, or up to four near a cell's edge
    let snap_d = snap_tolerance(out);
    let cell_size = 16.0 * snap_d;
    // one integer key per cell: longitudes and latitudes in cells of 1.6e-8°
    // stay well within 32 bits each
    let cell = |x: f64, y: f64| {
        let (cx, cy) = (
            (x / cell_size).floor() as i64,
            (y / cell_size).floor() as i64,
        );
        ((cx as u64) << 32) ^ (cy as u64 & 0xFFFF_FFFF)
    };
    let rings = || {
        parts
            .iter()
            .flat_map(|m| m.0.iter())
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
    };
    let n: usize = rings().map(|r| r.0.len()).sum();
    let mut inputs: FxHashMap<u64, Coord<f64>> =
        FxHashMap::with_capacity_and_hasher(n, Default::default());
    for ring in rings() {
        for q in &ring.0 {
            inputs.entry(cell(q.x, q.y)).or_insert(*q);
        }
    }
    let snap = |c: &mut Coord<f64>| {
        let mut keys = [
            cell(c.x - snap_d, c.y - snap_d),
            cell(c.x + snap_d, c.y - snap_d),
            cell(c.x - snap_d, c.y + snap_d),
            cell(c.x + snap_d, c.y + snap_d),
        ];
        keys.sort_unstable();
        let mut best: Option<(f64, Coord<f64>)> = None;
        for (i, key) in keys.iter().enumerate() {
            if i > 0 && keys[i - 1] == *key {
                continue;
            }
            {
                if let Some(q) = inputs.get(key) {
                    let d = (q.x - c.x).abs().max((q.y - c.y).abs());
                    if d <= snap_d && best.is_none_or(|b| d < b.0) {
                        best = Some((d, *q));
                    }
                }
            }
        }
        if let Some((_, q)) = best {
            *c = q;
        }
    };
    for p in out.0.iter_mut() {
        p.exterior_mut(|r| r.0.iter_mut().for_each(snap));
        p.interiors_mut(|rs| {
            for r in rs {
                r.0.iter_mut().for_each(snap);
            }
        });
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
    fn the_outline_keeps_the_inputs_own_coordinates() {
        // coordinates with no short binary form, as a real layer's: every vertex
        // of the outline is one of the inputs', bit for bit
        let (x0, y0, w) = (5.123456789012345, 43.98765432109876, 0.0137);
        let cells: Vec<MultiPolygon<f64>> = (0..4)
            .flat_map(|i| (0..3).map(move |j| (i, j)))
            .map(|(i, j)| {
                let (x, y) = (x0 + w * f64::from(i) * 1.1, y0 + w * f64::from(j) * 0.9);
                let (x1, y1) = (
                    x0 + w * f64::from(i + 1) * 1.1,
                    y0 + w * f64::from(j + 1) * 0.9,
                );
                MultiPolygon::new(vec![
                    polygon![(x: x, y: y), (x: x1, y: y), (x: x1, y: y1), (x: x, y: y1)],
                ])
            })
            .collect();
        let refs: Vec<&MultiPolygon<f64>> = cells.iter().collect();
        let d = dissolve(&refs);
        let inputs: std::collections::HashSet<(u64, u64)> = cells
            .iter()
            .flat_map(|m| m.0[0].exterior().0.iter())
            .map(|c| (c.x.to_bits(), c.y.to_bits()))
            .collect();
        for c in d.0.iter().flat_map(|p| p.exterior().0.iter()) {
            assert!(
                inputs.contains(&(c.x.to_bits(), c.y.to_bits())),
                "{c:?} is not an input vertex"
            );
        }
        // and every input polygon is within the outline, exactly
        use geo::Within;
        for m in &cells {
            assert!(m.is_within(&d));
        }
    }

    #[test]
    fn separate_squares_stay_two_polygons() {
        let (a, b) = (sq(0.0, 0.0), sq(5.0, 0.0));
        assert_eq!(dissolve(&[&a, &b]).0.len(), 2);
    }
}
