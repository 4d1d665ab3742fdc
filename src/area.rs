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
/// let km2 = maillage::area::polygon_km2(&p);
/// assert!((km2 - 0.87616345).abs() < 1e-7, "{km2}");
/// ```
pub fn polygon_km2(p: &Polygon<f64>) -> f64 {
    let ext = ring_m2(p.exterior()).abs();
    let holes: f64 = p.interiors().iter().map(|r| ring_m2(r).abs()).sum();
    (ext - holes) / 1e6
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

/// `(λ, q(φ))`, λ in radians, with the authalic function
/// `q(φ) = (1 − e²) · (s / (1 − e²s²) + atanh(e·s) / e)`, `s = sin φ`.
///
/// `atanh(e·s)/e = s · Σ (e²s²)^k / (2k + 1)`; as e²s² ≤ 0.0067 the series to k = 6
/// is exact to double precision (next term < 1e-16), and cheaper than a logarithm.
#[inline]
fn project(c: Coord<f64>) -> Coord<f64> {
    let s = c.y.to_radians().sin();
    let x = E2 * s * s;
    let series = 1.0
        + x * (1.0 / 3.0
            + x * (1.0 / 5.0 + x * (1.0 / 7.0 + x * (1.0 / 9.0 + x * (1.0 / 11.0 + x / 13.0)))));
    Coord {
        x: c.x.to_radians(),
        y: (1.0 - E2) * (s / (1.0 - x) + s * series),
    }
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
