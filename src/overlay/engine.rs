//! The overlay engine as maillage drives it: i_overlay (the engine under `geo`'s
//! boolean operations) called directly, for what `geo` does not expose: both sides
//! of a cut from one graph, and clip rings first cut to the subject's box.

use geo::{Coord, LineString, MultiPolygon, Polygon, Rect};
use i_overlay::core::extract::BooleanExtractionBuffer;
use i_overlay::core::fill_rule::FillRule;
pub(super) use i_overlay::core::overlay_rule::OverlayRule;
use i_overlay::float::overlay::{FloatOverlay, OverlayOptions};

/// `subject` ∩ `clip` and `subject` − `clip`, both extracted from one overlay graph
/// (even-odd fill and OGC-valid output, as `geo`'s boolean operations).
///
/// `bounds` is the subject's bounding box: the clip is cut to it first (see
/// [`window_around`]), so the engine only sorts the edges near the subject.
pub(super) fn split(
    subject: &MultiPolygon<f64>,
    clip: &[&Polygon<f64>],
    bounds: Rect<f64>,
) -> (MultiPolygon<f64>, MultiPolygon<f64>) {
    let subj = paths(subject.0.iter());
    let clip = clipped_paths(clip, window_around(bounds));
    let mut overlay = FloatOverlay::with_subj_and_clip_custom(
        &subj,
        &clip,
        OverlayOptions::ogc(),
        Default::default(),
    );
    let Some(graph) = overlay.build_graph_view(FillRule::EvenOdd) else {
        return (MultiPolygon::new(Vec::new()), MultiPolygon::new(Vec::new()));
    };
    let mut buffer = BooleanExtractionBuffer::default();
    let inside = to_geo(graph.extract_shapes(OverlayRule::Intersect, &mut buffer));
    let outside = to_geo(graph.extract_shapes(OverlayRule::Difference, &mut buffer));
    (inside, outside)
}

/// One boolean operation with the **non-zero** fill rule: the subject's polygons
/// count as their union, and so do the clip's, so that `subject` − (a set of
/// overlapping territories) is one operation, not a union then a difference.
/// Rings must be oriented (exteriors counter-clockwise, holes clockwise), as
/// maillage's are. The clip is cut to `bounds`, which must hold the subject.
pub(super) fn union_op(
    subject: &[&Polygon<f64>],
    clip: &[&Polygon<f64>],
    bounds: Rect<f64>,
    rule: OverlayRule,
) -> MultiPolygon<f64> {
    let subj = paths(subject.iter().copied());
    let clip = clipped_paths(clip, window_around(bounds));
    to_geo(
        FloatOverlay::with_subj_and_clip_custom(
            &subj,
            &clip,
            OverlayOptions::ogc(),
            Default::default(),
        )
        .overlay(rule, FillRule::NonZero),
    )
}

/// The window clip rings are cut to: `bounds` widened by a margin, so that the
/// subject lies strictly inside it.
///
/// A ring is cut with Sutherland–Hodgman's four half-plane passes (linear, no
/// boolean operation). A half-plane pass keeps the winding number of every point
/// strictly inside its half-plane, so within the window the cut rings fill exactly
/// what the rings did, under either fill rule; what the passes add (edges along
/// the window's sides) lies outside the subject, where no result is taken.
fn window_around(bounds: Rect<f64>) -> [f64; 4] {
    let margin = 1e-3 * bounds.width().max(bounds.height()) + 1e-9;
    let (lo, hi) = (bounds.min(), bounds.max());
    [lo.x - margin, lo.y - margin, hi.x + margin, hi.y + margin]
}

/// Rings as the engine's paths: geo's rings repeat their first point at the end,
/// i_overlay's paths do not.
fn paths<'a>(polygons: impl Iterator<Item = &'a Polygon<f64>>) -> Vec<Vec<[f64; 2]>> {
    polygons
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .map(|r| {
            let open = r.0.len().saturating_sub(1);
            r.0.iter().take(open).map(|c| [c.x, c.y]).collect()
        })
        .collect()
}

/// [`paths`] cut to the window; rings left with no area dropped.
fn clipped_paths(polygons: &[&Polygon<f64>], window: [f64; 4]) -> Vec<Vec<[f64; 2]>> {
    paths(polygons.iter().copied())
        .into_iter()
        .map(|path| clip_to_window(path, window))
        .filter(|path| path.len() >= 3)
        .collect()
}

/// The engine's shapes (outer contour, then holes) as geo polygons with closed rings.
fn to_geo(shapes: Vec<Vec<Vec<[f64; 2]>>>) -> MultiPolygon<f64> {
    MultiPolygon::new(
        shapes
            .into_iter()
            .map(|shape| {
                let mut rings = shape.into_iter().map(|path| {
                    let mut ring: LineString<f64> =
                        path.into_iter().map(|[x, y]| Coord { x, y }).collect();
                    ring.close();
                    ring
                });
                let exterior = rings.next().unwrap_or_else(|| LineString::new(Vec::new()));
                Polygon::new(exterior, rings.collect())
            })
            .collect(),
    )
}

/// A closed path (first point not repeated) cut to the window `[xmin, ymin, xmax,
/// ymax]` by four half-plane passes (Sutherland–Hodgman). The result may run along
/// the window's sides, and is empty when the path lies wholly outside.
fn clip_to_window(mut path: Vec<[f64; 2]>, window: [f64; 4]) -> Vec<[f64; 2]> {
    // (axis, bound, keep the side above the bound)
    let passes = [
        (0, window[0], true),
        (1, window[1], true),
        (0, window[2], false),
        (1, window[3], false),
    ];
    let mut out = Vec::with_capacity(path.len() + 4);
    for (axis, bound, above) in passes {
        let inside = |p: &[f64; 2]| {
            if above {
                p[axis] >= bound
            } else {
                p[axis] <= bound
            }
        };
        if path.iter().all(inside) {
            continue;
        }
        out.clear();
        let Some(&last) = path.last() else {
            return path;
        };
        let mut s = last;
        for &e in &path {
            let (s_in, e_in) = (inside(&s), inside(&e));
            if s_in != e_in {
                // the edge crosses the bound (its two ends are on either side)
                let t = (bound - s[axis]) / (e[axis] - s[axis]);
                let other = 1 - axis;
                let mut q = [0.0; 2];
                q[axis] = bound;
                q[other] = s[other] + t * (e[other] - s[other]);
                out.push(q);
            }
            if e_in {
                out.push(e);
            }
            s = e;
        }
        std::mem::swap(&mut path, &mut out);
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{polygon, Area};
    use geo::{BooleanOps, BoundingRect};

    /// The split with the clip cut to the subject's box gives what `geo`'s boolean
    /// operations give with the whole clip: a comb that leaves the box and comes
    /// back (the passes' edges along the box), a hole across the box's side, a
    /// polygon far away and one containing the box whole.
    #[test]
    fn a_split_with_the_clip_cut_to_the_box_is_the_plain_overlay() {
        let subject = MultiPolygon::new(vec![polygon![
            (x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.3, y: 1.0), (x: 0.0, y: 0.6)
        ]]);
        // teeth going down through the bottom of the box and up past its top
        let mut comb = vec![(-0.5, 2.0)];
        for k in 0..5 {
            let x = -0.2 + 0.3 * k as f64;
            comb.extend([(x, -1.0), (x + 0.1, -1.0), (x + 0.1, 1.5), (x + 0.2, 1.5)]);
        }
        comb.push((2.0, 2.0));
        let comb = Polygon::new(
            comb.into_iter().collect(),
            vec![vec![(0.05, 1.7), (0.05, 1.8), (0.3, 1.8), (0.3, 1.7)].into()],
        );
        let holed = Polygon::new(
            vec![(1.5, -0.5), (3.0, -0.5), (3.0, 2.0), (1.5, 2.0)].into(),
            vec![vec![(1.6, 0.1), (2.5, 0.1), (2.5, 0.4), (1.6, 0.4)].into()],
        );
        let ring_across = Polygon::new(
            vec![(0.9, 0.2), (1.4, 0.2), (1.4, 0.5), (0.9, 0.5)].into(),
            vec![vec![(0.95, 0.3), (1.2, 0.3), (1.2, 0.4), (0.95, 0.4)].into()],
        );
        let far = polygon![(x: 10.0, y: 10.0), (x: 11.0, y: 10.0), (x: 11.0, y: 11.0)];
        let around = Polygon::new(
            vec![(-5.0, -5.0), (5.0, -5.0), (5.0, 5.0), (-5.0, 5.0)].into(),
            vec![vec![(-4.0, -4.0), (-4.0, -3.0), (-3.0, -3.0), (-3.0, -4.0)].into()],
        );
        let holed_subject = MultiPolygon::new(vec![Polygon::new(
            vec![(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)].into(),
            vec![vec![(0.41, 0.2), (0.41, 0.6), (0.49, 0.6), (0.49, 0.2)].into()],
        )]);
        let mut holes_seen = 0;
        for (subject, clip) in [
            (&subject, vec![&comb]),
            (&holed_subject, vec![&comb]),
            (&holed_subject, vec![&far]),
            (&holed_subject, vec![&around]),
        ]
        .into_iter()
        .chain(
            [
                vec![&comb],
                vec![&comb, &ring_across],
                vec![&holed, &ring_across, &far],
                vec![&around],
                vec![&far],
            ]
            .into_iter()
            .map(|clip| (&subject, clip)),
        ) {
            let whole = MultiPolygon::new(clip.iter().map(|p| (*p).clone()).collect());
            let bounds = subject.bounding_rect().unwrap();
            let (inside, outside) = split(subject, &clip, bounds);
            let (a, b) = (
                subject.intersection(&whole).unsigned_area(),
                subject.difference(&whole).unsigned_area(),
            );
            // equal up to the engine's grid, which is finer for the smaller input
            assert!(
                (inside.unsigned_area() - a).abs() < 1e-8,
                "{} vs {a}",
                inside.unsigned_area()
            );
            assert!(
                (outside.unsigned_area() - b).abs() < 1e-8,
                "{} vs {b}",
                outside.unsigned_area()
            );
            assert!(a > 0.0 || b > 0.0);
            // oriented as maillage's polygons are: exteriors counter-clockwise, holes not
            use crate::load::signed_twice_area;
            for p in inside.0.iter().chain(&outside.0) {
                assert!(signed_twice_area(&p.exterior().0) > 0.0);
                assert!(p.interiors().iter().all(|h| signed_twice_area(&h.0) < 0.0));
                holes_seen += p.interiors().len();
            }
        }
        assert!(holes_seen >= 2, "{holes_seen}");
    }

    /// With the non-zero rule, overlapping territories count as their union: one
    /// difference gives what geo's union then difference give, the clip cut to the
    /// subject's box or not.
    #[test]
    fn one_non_zero_difference_is_a_union_then_a_difference() {
        let a = polygon![(x: 0.0, y: 0.0), (x: 2.0, y: 0.0), (x: 2.0, y: 1.0), (x: 0.0, y: 1.0)];
        let b = polygon![(x: 1.8, y: 0.0), (x: 3.0, y: 0.0), (x: 3.0, y: 1.0), (x: 1.8, y: 1.0)];
        let subject = [&a, &b];
        let t1 = Polygon::new(
            vec![(-1.0, 0.5), (2.5, 0.5), (2.5, 5.0), (-1.0, 5.0)].into(),
            vec![vec![(0.2, 0.6), (0.2, 0.9), (0.5, 0.9), (0.5, 0.6)].into()],
        );
        let t2 = polygon![(x: 1.0, y: -3.0), (x: 2.2, y: -3.0), (x: 2.2, y: 0.7), (x: 1.0, y: 0.7)];
        let bounds = geo::Rect::new((0.0, 0.0), (3.0, 1.0));
        let got = union_op(&subject, &[&t1, &t2], bounds, OverlayRule::Difference);
        let ab = geo::unary_union([&a, &b]);
        let want = ab.difference(&geo::unary_union([&t1, &t2]));
        assert!((got.unsigned_area() - want.unsigned_area()).abs() < 1e-8);
        // (to the engine's grid) by hand: 3 − (t1's 1.25 − its hole's 0.09 + t2's 0.84 − their common 0.24)
        assert!(
            (got.unsigned_area() - 1.24).abs() < 1e-8,
            "{}",
            got.unsigned_area()
        );
        let inter = union_op(&subject, &[&t1], bounds, OverlayRule::Intersect);
        let want = ab.intersection(&t1);
        assert!((inter.unsigned_area() - want.unsigned_area()).abs() < 1e-8);
        assert!((inter.unsigned_area() - 1.16).abs() < 1e-8);
    }

    #[test]
    fn a_path_is_cut_to_the_window_and_vanishes_outside_it() {
        let square = vec![[-1.0, -1.0], [2.0, -1.0], [2.0, 2.0], [-1.0, 2.0]];
        let cut = clip_to_window(square, [0.0, 0.0, 1.0, 1.0]);
        assert_eq!(cut.len(), 4);
        assert!(cut
            .iter()
            .all(|p| (0.0..=1.0).contains(&p[0]) && (0.0..=1.0).contains(&p[1])));
        let outside = vec![[3.0, 3.0], [4.0, 3.0], [4.0, 4.0]];
        assert!(clip_to_window(outside, [0.0, 0.0, 1.0, 1.0]).is_empty());
        let within = vec![[0.2, 0.2], [0.8, 0.2], [0.5, 0.7]];
        assert_eq!(clip_to_window(within.clone(), [0.0, 0.0, 1.0, 1.0]), within);
    }
}
