//! Line simplification for the screen: Visvalingam–Whyatt, as mapshaper does by
//! default. It removes, one after the other, the vertex whose triangle with its two
//! neighbours has the smallest area, while that area is under a threshold. Applied
//! to the arcs of a [`Topology`](crate::topology::Topology), whose endpoints are
//! kept, so neighbours keep sharing their simplified border.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// A point in projected coordinates (metres or pixels).
pub type Pt = [f64; 2];

#[derive(PartialEq)]
struct Candidate {
    area: f64,
    index: usize,
}

impl Eq for Candidate {}

impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> Ordering {
        // smallest area first (BinaryHeap is a max-heap); ties by position, so the
        // result never depends on anything but the input
        other
            .area
            .total_cmp(&self.area)
            .then_with(|| other.index.cmp(&self.index))
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

fn triangle(a: Pt, b: Pt, c: Pt) -> f64 {
    ((b[0] - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (b[1] - a[1])).abs() / 2.0
}

/// Simplifies a line, keeping its first and last points and at least `keep`
/// points in all (4 for a closed ring, so that it stays a polygon). Vertices are
/// removed while the smallest effective area is under `min_area` (in squared
/// units of the points).
///
/// # Performance
/// O(n log n) for n points.
///
/// # Examples
/// ```
/// use maillage::render::simplify::visvalingam;
/// let line = [[0.0, 0.0], [1.0, 0.01], [2.0, 0.0], [3.0, 5.0]];
/// // the nearly straight vertex goes, the sharp one stays
/// assert_eq!(visvalingam(&line, 0.1, 2), vec![[0.0, 0.0], [2.0, 0.0], [3.0, 5.0]]);
/// ```
pub fn visvalingam(points: &[Pt], min_area: f64, keep: usize) -> Vec<Pt> {
    let kept = visvalingam_kept(points, min_area, keep);
    points
        .iter()
        .zip(&kept)
        .filter(|(_, k)| **k)
        .map(|(p, _)| *p)
        .collect()
}

/// [`visvalingam`], saying which points are kept.
pub fn visvalingam_kept(points: &[Pt], min_area: f64, keep: usize) -> Vec<bool> {
    let mut s = Simplifier::default();
    s.kept(points, min_area, keep);
    std::mem::take(&mut s.kept)
}

/// Visvalingam–Whyatt with its buffers kept from one line to the next (simplifying
/// the 100 000 arcs of France allocates once per thread, not eight times per arc).
#[derive(Default)]
pub struct Simplifier {
    prev: Vec<usize>,
    next: Vec<usize>,
    area: Vec<f64>,
    kept: Vec<bool>,
    heap: BinaryHeap<Candidate>,
}

impl Simplifier {
    /// Which points of `points` [`visvalingam`] keeps; valid until the next call.
    pub fn kept(&mut self, points: &[Pt], min_area: f64, keep: usize) -> &[bool] {
        let n = points.len();
        self.kept.clear();
        self.kept.resize(n, true);
        if n <= keep.max(2) {
            return &self.kept;
        }
        self.prev.clear();
        self.prev.extend((0..n).map(|i| i.wrapping_sub(1)));
        self.next.clear();
        self.next.extend(1..=n);
        self.area.clear();
        self.area.resize(n, f64::INFINITY);
        self.heap.clear();
        let (prev, next, area, kept, heap) = (
            &mut self.prev,
            &mut self.next,
            &mut self.area,
            &mut self.kept,
            &mut self.heap,
        );
        for i in 1..n - 1 {
            area[i] = triangle(points[i - 1], points[i], points[i + 1]);
            heap.push(Candidate {
                area: area[i],
                index: i,
            });
        }
        let mut left = n;
        let mut floor = 0.0f64;
        while let Some(Candidate { area: a, index: i }) = heap.pop() {
            if !kept[i] || a != area[i] {
                continue; // a stale entry
            }
            if a >= min_area || left <= keep {
                break;
            }
            // effective areas never decrease (Visvalingam's rule), so that a vertex
            // made flat by a removal does not go before the one removed
            floor = floor.max(a);
            kept[i] = false;
            left -= 1;
            let (p, q) = (prev[i], next[i]);
            next[p] = q;
            prev[q] = p;
            for j in [p, q] {
                if j > 0 && j < n - 1 {
                    area[j] = triangle(points[prev[j]], points[j], points[next[j]]).max(floor);
                    heap.push(Candidate {
                        area: area[j],
                        index: j,
                    });
                }
            }
        }
        &self.kept
    }
}

/// Radial distance pre-filter: keeps the first and last points and every point at
/// least `min_distance` from the last one kept. O(n); it thins out vertices far
/// denser than the pixel before [`visvalingam`] ranks what remains. When that
/// would leave fewer than `keep` points, every point is kept.
pub fn radial_kept(points: &[Pt], min_distance: f64, keep: usize) -> Vec<bool> {
    let mut kept = Vec::new();
    radial_into(points, min_distance, keep, &mut kept);
    kept
}

/// [`radial_kept`] into a buffer.
pub fn radial_into(points: &[Pt], min_distance: f64, keep: usize, kept: &mut Vec<bool>) {
    let n = points.len();
    kept.clear();
    kept.resize(n, false);
    if n == 0 {
        return;
    }
    let d2 = min_distance * min_distance;
    let mut last = points[0];
    kept[0] = true;
    let mut count = 1;
    for (k, p) in points.iter().enumerate().take(n - 1).skip(1) {
        let (dx, dy) = (p[0] - last[0], p[1] - last[1]);
        if dx * dx + dy * dy >= d2 {
            kept[k] = true;
            last = *p;
            count += 1;
        }
    }
    kept[n - 1] = true;
    count += usize::from(n > 1);
    if count < keep {
        kept.iter_mut().for_each(|k| *k = true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_stay_and_nothing_goes_under_a_zero_threshold() {
        let line: Vec<Pt> = (0..10).map(|i| [i as f64, (i % 3) as f64]).collect();
        assert_eq!(visvalingam(&line, 0.0, 2), line);
        let all = visvalingam(&line, f64::INFINITY, 2);
        assert_eq!(all, vec![line[0], line[9]]);
    }

    #[test]
    fn the_radial_filter_thins_dense_points_and_keeps_the_ends() {
        let line: Vec<Pt> = (0..=100).map(|i| [i as f64, 0.0]).collect();
        let kept = radial_kept(&line, 10.0, 2);
        let idx: Vec<usize> = (0..=100).filter(|&i| kept[i]).collect();
        assert_eq!(idx, (0..=100).step_by(10).collect::<Vec<_>>());
        // too few left for a ring: everything stays
        let ring: Vec<Pt> = vec![[0.0, 0.0], [0.1, 0.0], [0.1, 0.1], [0.0, 0.0]];
        assert!(radial_kept(&ring, 1.0, 4).iter().all(|k| *k));
    }

    #[test]
    fn a_closed_ring_keeps_four_points() {
        let mut ring: Vec<Pt> = (0..16)
            .map(|i| {
                let t = i as f64 / 16.0 * std::f64::consts::TAU;
                [t.cos(), t.sin()]
            })
            .collect();
        ring.push(ring[0]);
        let s = visvalingam(&ring, f64::INFINITY, 4);
        assert_eq!(s.len(), 4);
        assert_eq!(s.first(), s.last());
    }

    #[test]
    fn small_wiggles_go_and_the_shape_stays() {
        // a square with a wiggle on each side: the wiggles' triangles are 0.005 each
        let mut ring = Vec::new();
        for (a, b) in [
            ([0.0, 0.0], [10.0, 0.0]),
            ([10.0, 0.0], [10.0, 10.0]),
            ([10.0, 10.0], [0.0, 10.0]),
            ([0.0, 10.0], [0.0, 0.0]),
        ] {
            let a: Pt = a;
            let b: Pt = b;
            ring.push(a);
            let mid = [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0];
            ring.push([
                mid[0] + 0.001 * (b[1] - a[1]),
                mid[1] - 0.001 * (b[0] - a[0]),
            ]);
        }
        ring.push([0.0, 0.0]);
        let s = visvalingam(&ring, 1.0, 4);
        assert_eq!(
            s,
            vec![
                [0.0, 0.0],
                [10.0, 0.0],
                [10.0, 10.0],
                [0.0, 10.0],
                [0.0, 0.0]
            ]
        );
    }
}
