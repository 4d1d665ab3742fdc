//! Areas on the WGS84 ellipsoid, in km².
//!
//! The ellipsoid is mapped onto the plane by Lambert's cylindrical equal-area
//! projection of the ellipsoid, `(λ, φ) ↦ (λ, q(φ))`, where `q` is the authalic
//! function: the area element of the ellipsoid is exactly `a²/2 · dλ · dq`. A
//! polygon's area is then `a²/2` times the shoelace area of its projected rings:
//! exact on the ellipsoid for edges that are straight in that projection.
//! Commune edges are short (tens of metres to a few km), so the difference with
//! geodesic edges is negligible: on the 947 PACA communes the figures agree with
//! geographiclib's geodesic polygon area (pyproj, `geo::GeodesicArea`) within
//! 3e-5 relative for each commune and 1e-8 for their total (tested in `tests/`),
//! at a tenth of its cost.
//!
//! Winding does not matter: each ring is taken with the sign that makes an
//! exterior positive and a hole negative.

use geo::{Coord, LineString, MultiPolygon, Polygon};

/// WGS84 semi-major axis, metres.
const A: f64 = 6_378_137.0;
/// WGS84 flattening.
const F: f64 = 1.0 / 298.257_223_563;
/// First eccentricity squared, e² = f(2 − f).
const E2: f64 = F * (2.0 - F);

/// Area of a polygon or multipolygon on the WGS84 ellipsoid, in km², whatever the
/// winding of its rings (holes are subtracted).
///
/// # Examples
/// ```
/// use geo::polygon;
/// // A 0.01° square at 45°N; pyproj's geodesic area (geographiclib) gives 0.87616345 km².
/// let p = polygon![(x: 5.0, y: 45.0), (x: 5.01, y: 45.0), (x: 5.01, y: 45.01), (x: 5.0, y: 45.01)];
/// let km2 = maillage::geometry::polygon_km2(&p);
/// assert!((km2 - 0.87616345).abs() < 1e-7, "{km2}");
/// ```
pub fn polygon_km2(p: &Polygon<f64>) -> f64 {
    exterior_minus_holes_m2(p, ring_m2) / 1e6
}

/// A polygon's exterior minus its holes, each ring measured by `ring` and taken
/// with the sign that makes it count as it should (winding does not matter).
fn exterior_minus_holes_m2(p: &Polygon<f64>, ring: fn(&LineString<f64>) -> f64) -> f64 {
    let holes: f64 = p.interiors().iter().map(|r| ring(r).abs()).sum();
    ring(p.exterior()).abs() - holes
}

/// Area of a multipolygon on the WGS84 ellipsoid, km² (sum of its polygons).
pub fn multi_polygon_km2(m: &MultiPolygon<f64>) -> f64 {
    // + 0.0: an empty sum of f64 is -0.0, which would print as "-0"
    m.0.iter().map(polygon_km2).sum::<f64>() + 0.0
}

/// Signed area of a closed ring in m² (positive counter-clockwise).
fn ring_m2(ring: &LineString<f64>) -> f64 {
    let pts = &ring.0;
    let Some(&first) = pts.first() else {
        return 0.0;
    };
    let origin = project(first);
    let mut prev = Coord { x: 0.0, y: 0.0 };
    let mut twice = 0.0;
    for &c in &pts[1..] {
        let p = project(c);
        let cur = Coord {
            x: p.x - origin.x,
            y: p.y - origin.y,
        };
        twice += prev.x * cur.y - cur.x * prev.y;
        prev = cur;
    }
    twice / 2.0 * A * A / 2.0
}

/// Area of a polygon with **geodesic edges** on the WGS84 ellipsoid, in km², whatever
/// the winding (holes subtracted; never negative).
///
/// [`polygon_km2`] is exact for edges straight in the equal-area plane `(λ, q)`; a
/// geodesic edge bows away from that straight line by an amount that grows as the
/// cube of its length (about 1,500 m² for a 5 km edge at 45°N), which matters for
/// drawn outlines with long edges. Each edge of more than about 60 m therefore
/// adds its bow, the area between the geodesic's image in that plane and the
/// chord, in closed form from the ellipsoid's geodesic equations (see `bow` in
/// the source); edges longer than about 6 km are first halved at their geodesic
/// midpoint, found on the auxiliary sphere of parametric latitudes.
///
/// Agrees with geographiclib's geodesic polygon area (`geo::GeodesicArea`) within
/// 2e-9 relative on the communes of PACA, and within 1e-8 on outlines with edges of
/// 50 to 350 km (tested), at a tenth of its cost: the overlay of drawn territories
/// measures thousands of pieces.
///
/// # Examples
/// ```
/// use geo::{polygon, GeodesicArea};
/// // a 0.5° square (edges of 40–55 km) at 45°N
/// let p = polygon![(x: 5.0, y: 45.0), (x: 5.5, y: 45.0), (x: 5.5, y: 45.5), (x: 5.0, y: 45.5)];
/// let reference = p.geodesic_area_unsigned() / 1e6;
/// let km2 = maillage::geometry::geodesic_polygon_km2(&p);
/// assert!((km2 - reference).abs() / reference < 1e-9, "{km2} vs {reference}");
/// ```
pub fn geodesic_polygon_km2(p: &Polygon<f64>) -> f64 {
    (exterior_minus_holes_m2(p, geodesic_ring_m2) / 1e6).max(0.0)
}

/// [`geodesic_polygon_km2`] summed over the polygons of a multipolygon.
pub fn geodesic_multi_polygon_km2(m: &MultiPolygon<f64>) -> f64 {
    m.0.iter().map(geodesic_polygon_km2).sum::<f64>() + 0.0
}

/// Signed area in m² of a closed ring with geodesic edges (positive counter-clockwise).
fn geodesic_ring_m2(ring: &LineString<f64>) -> f64 {
    let pts = &ring.0;
    let Some(&first) = pts.first() else {
        return 0.0;
    };
    // the first vertex is the origin: measured once, at (0, 0)
    let mut prev = Vertex::new(first, Coord { x: 0.0, y: 0.0 });
    let origin = Coord {
        x: prev.lambda,
        y: prev.q,
    };
    prev.at = Coord { x: 0.0, y: 0.0 };
    let mut twice = 0.0;
    for &c in &pts[1..] {
        let cur = Vertex::new(c, origin);
        twice += twice_edge(&prev, &cur, origin, 0);
        prev = cur;
    }
    twice / 2.0 * A * A / 2.0
}

/// What an edge's measure needs of each of its ends, computed once per vertex.
struct Vertex {
    /// Longitude/latitude, degrees.
    c: Coord<f64>,
    /// Longitude, radians.
    lambda: f64,
    /// Authalic `q` of the latitude.
    q: f64,
    /// Sine and cosine of the latitude.
    sin_phi: f64,
    cos_phi: f64,
    /// `(λ, q)` relative to the ring's origin.
    at: Coord<f64>,
}

impl Vertex {
    fn new(c: Coord<f64>, origin: Coord<f64>) -> Vertex {
        let (sin_phi, cos_phi) = c.y.to_radians().sin_cos();
        let lambda = c.x.to_radians();
        let q = q_of_sin(sin_phi);
        Vertex {
            c,
            lambda,
            q,
            sin_phi,
            cos_phi,
            at: Coord {
                x: lambda - origin.x,
                y: q - origin.y,
            },
        }
    }
}

/// Twice the signed area an edge adds to the shoelace sum in the `(λ, q)` plane,
/// the edge being the geodesic between `a` and `b`: the chord, plus the bow
/// between the geodesic's image and the chord ([`bow`]). Edges longer than about
/// 6 km are halved at their geodesic midpoint first: the bow's error falls as the
/// fifth power of the length.
fn twice_edge(a: &Vertex, b: &Vertex, origin: Coord<f64>, depth: u32) -> f64 {
    /// Edges shorter than this (radians of latitude or longitude, about 60 m) bow
    /// by less than 0.01 m²: straight.
    const SHORT: f64 = 1e-5;
    /// Edges longer than this (about 6 km) are halved.
    const LONG: f64 = 1e-3;
    let (pa, pb) = (a.at, b.at);
    let chord = pa.x * pb.y - pb.x * pa.y;
    let (dl, dp) = (
        (b.c.x - a.c.x).to_radians().abs(),
        (b.c.y - a.c.y).to_radians().abs(),
    );
    if dl.max(dp) <= SHORT {
        return chord;
    }
    if dl.max(dp) > LONG && depth < 20 {
        let m = Vertex::new(geodesic_midpoint(a.c, b.c), origin);
        return twice_edge(a, &m, origin, depth + 1) + twice_edge(&m, b, origin, depth + 1);
    }
    chord + bow(a, b)
}

/// Twice the signed area between a short geodesic's image in the `(λ, q)` plane
/// and its chord, in closed form.
///
/// For a curve `P(t)`, `t` from −½ to ½, twice the area between it and its chord
/// is `P′ × P″ / 6` at `t = 0`, up to terms of relative order `t²` (the odd
/// terms cancel by symmetry). With `t` proportional to the geodesic's length,
/// `P′ = (Δλ, q′ Δφ)`, and the ellipsoid's geodesic equations (`φ′ = cos α / M`,
/// `λ′ = sin α / (N cos φ)`, `α′ = sin α tan φ / N`) give `P″`; with
/// `q′ = 2(1 − e²) cos φ / W⁴` (`W² = 1 − e² sin² φ`) the product reduces to
///
/// `−sin φ · Δλ · ((1 − e²)² Δφ² / W⁶ + cos² φ Δλ² / (3 W²))`
///
/// at the middle latitude. (On a sphere and an east–west edge this is the
/// familiar `sin φ cos² φ Δλ³ / 3`; a meridian, a geodesic straight in the
/// plane, gets 0.) Relative error of order Δ², 10⁻⁶ on the longest edges it
/// takes; a few multiplications and one division, where the geodesic midpoint
/// took square roots, divisions and series.
fn bow(a: &Vertex, b: &Vertex) -> f64 {
    let dphi = (b.c.y - a.c.y).to_radians();
    let dlam = b.lambda - a.lambda;
    // sine and cosine of the middle latitude from the ends': their means divided
    // by cos(Δφ/2), to order Δφ⁴
    let half = 0.5 * (1.0 + dphi * dphi / 8.0);
    let (s, c) = (
        (a.sin_phi + b.sin_phi) * half,
        (a.cos_phi + b.cos_phi) * half,
    );
    let inv_w2 = 1.0 / (1.0 - E2 * s * s);
    let g = 1.0 - E2;
    -s * dlam
        * (g * g * dphi * dphi * inv_w2 * inv_w2 * inv_w2 + c * c * dlam * dlam * inv_w2 / 3.0)
}

/// On the auxiliary sphere of parametric latitudes β (`tan β = (1 − f) tan φ`) an
/// ellipsoid geodesic is a great circle, its spherical longitude ω running ahead
/// of the longitude λ by `f · sin α0 · σ` to first order in the flattening (α0 the
/// azimuth at the equator, σ the arc; Karney 2013, eq. 8). The great circle is
/// taken with that longitude span, its midpoint brought back to λ and φ; what is
/// left is of order f² of the edge's bow.
fn geodesic_midpoint(a: Coord<f64>, b: Coord<f64>) -> Coord<f64> {
    let parametric = |c: Coord<f64>| {
        let (sp, cp) = c.y.to_radians().sin_cos();
        let (sb, cb) = ((1.0 - F) * sp, cp);
        let n = sb.hypot(cb);
        (sb / n, cb / n)
    };
    let ((sa, ca), (sb, cb)) = (parametric(a), parametric(b));
    // longitudes relative to a's, so that no wrap-around can occur
    let dl = (b.x - a.x).to_radians();
    // the great circle from a to b on the sphere of parametric latitudes, its
    // longitude span lengthened twice by the first-order shift f · sin α0 · σ
    let u = [ca, 0.0, sa];
    let (s, c) = dl.sin_cos();
    let mut v = [cb * c, cb * s, sb];
    let mut shift = 0.0;
    for _ in 0..2 {
        // u × v: its length is sin σ, its z component sin σ · sin α0
        let (cx, cy, cz) = (
            u[1] * v[2] - u[2] * v[1],
            u[2] * v[0] - u[0] * v[2],
            u[0] * v[1] - u[1] * v[0],
        );
        let sin_sigma = (cx * cx + cy * cy + cz * cz).sqrt();
        let sigma = sin_sigma.atan2(u[0] * v[0] + u[1] * v[1] + u[2] * v[2]);
        shift = if sin_sigma > 0.0 {
            F * cz / sin_sigma * sigma
        } else {
            0.0
        };
        let (s, c) = (dl + shift).sin_cos();
        v = [cb * c, cb * s, sb];
    }
    // the sum of the two unit vectors points at the midpoint
    let m = [u[0] + v[0], u[1] + v[1], u[2] + v[2]];
    let horizontal = m[0].hypot(m[1]);
    // back from parametric to geodetic latitude: tan φ = tan β / (1 − f)
    let phi = m[2].atan2((1.0 - F) * horizontal);
    Coord {
        x: a.x + (m[1].atan2(m[0]) - shift / 2.0).to_degrees(),
        y: phi.to_degrees(),
    }
}

/// `(λ, q(φ))`, λ in radians, with the authalic function
/// `q(φ) = (1 − e²) · (s / (1 − e²s²) + atanh(e·s) / e)`, `s = sin φ`.
///
/// `atanh(e·s)/e = s · Σ (e²s²)^k / (2k + 1)`; as e²s² ≤ 0.0067 the series to k = 6
/// is exact to double precision (next term < 1e-16), and cheaper than a logarithm.
#[inline]
fn project(c: Coord<f64>) -> Coord<f64> {
    Coord {
        x: c.x.to_radians(),
        y: q_of_sin(c.y.to_radians().sin()),
    }
}

/// The authalic `q` of the latitude whose sine is `s` (see [`project`]).
#[inline]
fn q_of_sin(s: f64) -> f64 {
    let x = E2 * s * s;
    let series = 1.0
        + x * (1.0 / 3.0
            + x * (1.0 / 5.0 + x * (1.0 / 7.0 + x * (1.0 / 9.0 + x * (1.0 / 11.0 + x / 13.0)))));
    (1.0 - E2) * (s / (1.0 - x) + s * series)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    #[test]
    fn series_matches_the_closed_form_of_q() {
        let e = E2.sqrt();
        for deg in [-89.9, -45.0, -10.0, 0.0, 12.5, 43.7, 51.0, 89.9] {
            let s = f64::to_radians(deg).sin();
            let closed = (1.0 - E2)
                * (s / (1.0 - E2 * s * s)
                    - (1.0 / (2.0 * e)) * ((1.0 - e * s) / (1.0 + e * s)).ln());
            let q = project(Coord { x: 0.0, y: deg }).y;
            assert!((q - closed).abs() < 1e-15, "{deg}: {q} vs {closed}");
        }
    }

    #[test]
    fn winding_does_not_change_area() {
        let ccw =
            polygon![(x: 5.0, y: 45.0), (x: 5.1, y: 45.0), (x: 5.1, y: 45.1), (x: 5.0, y: 45.1)];
        let mut cw = ccw.clone();
        cw.exterior_mut(|r| r.0.reverse());
        assert!(polygon_km2(&ccw) > 80.0);
        assert_eq!(polygon_km2(&ccw), polygon_km2(&cw));
    }

    #[test]
    fn holes_are_subtracted_whatever_their_winding() {
        let outer =
            polygon![(x: 5.0, y: 45.0), (x: 5.1, y: 45.0), (x: 5.1, y: 45.1), (x: 5.0, y: 45.1)];
        let hole = LineString::from(vec![
            (5.02, 45.02),
            (5.04, 45.02),
            (5.04, 45.04),
            (5.02, 45.04),
            (5.02, 45.02),
        ]);
        let mut hole_rev = hole.clone();
        hole_rev.0.reverse();
        let a = Polygon::new(outer.exterior().clone(), vec![hole.clone()]);
        let b = Polygon::new(outer.exterior().clone(), vec![hole_rev]);
        let hole_area = polygon_km2(&Polygon::new(hole, vec![]));
        assert!(hole_area > 1.0);
        assert!((polygon_km2(&a) - (polygon_km2(&outer) - hole_area)).abs() < 1e-9);
        assert_eq!(polygon_km2(&a), polygon_km2(&b));
    }

    /// The closed-form bow is the parabola through the geodesic midpoint (found by
    /// trigonometry), at every latitude and heading and up to the largest edge it
    /// takes.
    #[test]
    fn the_closed_form_bow_is_the_midpoint_parabola_s() {
        let origin = project(Coord { x: 4.0, y: 40.0 });
        let mut worst: f64 = 0.0;
        for lat in [-60.0, -20.0, 0.1, 20.0, 43.3, 51.0, 70.0] {
            for k in 0..16 {
                let heading = k as f64 * std::f64::consts::PI / 8.0 + 0.1;
                for size in [2e-5_f64, 3e-4, 1e-3] {
                    let a = Coord { x: 5.3, y: lat };
                    let d = size.to_degrees();
                    let b = Coord {
                        x: a.x + d * heading.cos(),
                        y: a.y + d * heading.sin(),
                    };
                    let (va, vb) = (Vertex::new(a, origin), Vertex::new(b, origin));
                    let (pa, pb) = (va.at, vb.at);
                    let pm = Vertex::new(geodesic_midpoint(a, b), origin).at;
                    let parabola =
                        4.0 / 3.0 * ((pm.x - pa.x) * (pb.y - pa.y) - (pb.x - pa.x) * (pm.y - pa.y));
                    let closed = bow(&va, &vb);
                    // the parabola's own rounding: a few ulps of q (the points are
                    // far from the origin) on the edge's length
                    let rounding = 1e-15 * size;
                    worst =
                        worst.max(((closed - parabola).abs() - rounding).max(0.0) / parabola.abs());
                }
            }
        }
        // 4e-6 at most (edges of 1e-3 rad, about 6 km): the two differ at the
        // order both leave out
        assert!(worst < 1e-5, "{worst:e}");
    }

    #[test]
    fn geodesic_edges_match_geographiclib() {
        use geo::GeodesicArea;
        // long-edged outlines (a drawn territory's edges reach tens of km) from the
        // equator to Dunkirk's latitude, oblique edges and a hole; both windings
        let cases = [
            polygon![(x: 5.0, y: 45.0), (x: 5.5, y: 45.0), (x: 5.5, y: 45.5), (x: 5.0, y: 45.5)],
            polygon![(x: 2.3, y: 51.0), (x: 2.9, y: 50.7), (x: 3.1, y: 51.1), (x: 2.6, y: 51.2)],
            polygon![(x: -61.2, y: 14.4), (x: -60.8, y: 14.4), (x: -60.9, y: 14.9)],
            polygon![(x: 55.2, y: -21.4), (x: 55.8, y: -21.4), (x: 55.8, y: -20.9), (x: 55.2, y: -20.9)],
            polygon![(x: -52.0, y: 2.0), (x: -51.0, y: 5.0), (x: -54.0, y: 5.5)],
            Polygon::new(
                LineString::from(vec![
                    (5.0, 45.0),
                    (5.4, 45.0),
                    (5.4, 45.4),
                    (5.0, 45.4),
                    (5.0, 45.0),
                ]),
                vec![LineString::from(vec![
                    (5.1, 45.1),
                    (5.25, 45.3),
                    (5.3, 45.1),
                    (5.1, 45.1),
                ])],
            ),
        ];
        for p in cases {
            let reference = p.geodesic_area_unsigned() / 1e6;
            let km2 = geodesic_polygon_km2(&p);
            assert!(
                (km2 - reference).abs() / reference < 1e-8,
                "{km2} vs {reference}"
            );
            // the straight-edged measure differs visibly on such edges: the test can fail
            assert!((polygon_km2(&p) - reference).abs() / reference > 1e-7);
            let mut q = p.clone();
            q.exterior_mut(|r| r.0.reverse());
            assert!((geodesic_polygon_km2(&q) - km2).abs() < 1e-9 * km2);
        }
    }

    #[test]
    fn whole_ellipsoid_band_matches_closed_form() {
        // The band between the equator and 10°N, all around: a²/2 · 2π · q(10°).
        let band = polygon![(x: -180.0, y: 0.0), (x: 180.0, y: 0.0), (x: 180.0, y: 10.0), (x: -180.0, y: 10.0)];
        let expected =
            A * A / 2.0 * 2.0 * std::f64::consts::PI * project(Coord { x: 0.0, y: 10.0 }).y / 1e6;
        assert!((polygon_km2(&band) - expected).abs() / expected < 1e-12);
        // And the whole ellipsoid: 510,065,621.7 km² (WGS84 authalic sphere area).
        let north = polygon![(x: -180.0, y: 0.0), (x: 180.0, y: 0.0), (x: 180.0, y: 90.0), (x: -180.0, y: 90.0)];
        assert!((2.0 * polygon_km2(&north) - 510_065_621.7).abs() < 1.0);
    }
}
