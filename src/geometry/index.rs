//! Spatial index and adjacency.
//!
//! Two named phases, as for every spatial query in maillage:
//! 1. **candidates**: an R-tree ([`rstar`]) over the communes' envelopes gives every
//!    pair whose envelopes intersect;
//! 2. **exact test**: [`shares_segment`] keeps a pair only when the two boundaries
//!    share a segment of positive length. A single common point does not count.
//!
//! Both phases run in parallel (rayon) and keep input order, so the result does not
//! depend on the thread count.

use std::collections::HashMap;

use geo::kernels::{Kernel, Orientation, RobustKernel};
use geo::{BoundingRect, Coord, MultiPolygon};
use rayon::prelude::*;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

type Entry = GeomWithData<Rectangle<[f64; 2]>, u32>;

/// An R-tree over the envelopes of a list of multipolygons, returning their
/// positions in that list.
#[derive(Clone)]
pub struct SpatialIndex {
    tree: RTree<Entry>,
    envelopes: Vec<AABB<[f64; 2]>>,
}

impl std::fmt::Debug for SpatialIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpatialIndex")
            .field("len", &self.envelopes.len())
            .finish()
    }
}

impl SpatialIndex {
    /// Bulk-loads the envelopes. O(n log n); 35 k communes take about 10 ms.
    /// Empty geometries (units without geometry) are left out of the tree: no query
    /// returns them.
    pub fn build(geoms: &[&MultiPolygon<f64>]) -> Self {
        let envelopes: Vec<AABB<[f64; 2]>> = geoms.par_iter().map(|g| envelope(g)).collect();
        let entries = envelopes
            .iter()
            .enumerate()
            .filter(|(_, e)| !e.lower()[0].is_nan())
            .map(|(i, e)| GeomWithData::new(Rectangle::from_aabb(*e), i as u32))
            .collect();
        SpatialIndex {
            tree: RTree::bulk_load(entries),
            envelopes,
        }
    }

    /// The envelope of item `i`.
    pub fn envelope(&self, i: u32) -> AABB<[f64; 2]> {
        self.envelopes[i as usize]
    }

    /// Items whose envelope intersects `env`, in ascending order.
    pub fn query(&self, env: &AABB<[f64; 2]>) -> Vec<u32> {
        let mut v: Vec<u32> = self
            .tree
            .locate_in_envelope_intersecting(env)
            .map(|e| e.data)
            .collect();
        v.sort_unstable();
        v
    }

    /// Every pair `(i, j)`, `i < j`, whose envelopes intersect, sorted.
    pub fn candidate_pairs(&self) -> Vec<(u32, u32)> {
        (0..self.envelopes.len() as u32)
            .into_par_iter()
            .flat_map_iter(|i| {
                self.query(&self.envelopes[i as usize])
                    .into_iter()
                    .filter(move |&j| j > i)
                    .map(move |j| (i, j))
            })
            .collect()
    }
}

fn envelope(g: &MultiPolygon<f64>) -> AABB<[f64; 2]> {
    match g.bounding_rect() {
        Some(r) => AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
        None => AABB::from_point([f64::NAN, f64::NAN]),
    }
}

/// Which communes are adjacent, as sorted neighbour lists (compressed rows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adjacency {
    offsets: Vec<u32>,
    neighbours: Vec<u32>,
}

impl Adjacency {
    /// Finds every adjacent pair: R-tree candidates, then [`shares_segment`].
    ///
    /// # Performance
    /// O(n log n + k·s) for n polygons, k candidate pairs and s segments near their
    /// common envelope; the national layer (129 k candidates) takes a few tens of
    /// milliseconds on 2 cores.
    pub fn build(geoms: &[&MultiPolygon<f64>], index: &SpatialIndex) -> Self {
        let pairs: Vec<(u32, u32)> = index
            .candidate_pairs()
            .into_par_iter()
            .map_init(Scratch::default, |scratch, (i, j)| {
                let shared = scratch.shares_segment(
                    geoms[i as usize],
                    geoms[j as usize],
                    &index.envelope(i),
                    &index.envelope(j),
                );
                shared.then_some((i, j))
            })
            .flatten_iter()
            .collect();
        Self::from_pairs(geoms.len(), &pairs)
    }

    /// Builds the structure from undirected pairs.
    pub fn from_pairs(n: usize, pairs: &[(u32, u32)]) -> Self {
        let mut degree = vec![0u32; n + 1];
        for &(i, j) in pairs {
            degree[i as usize] += 1;
            degree[j as usize] += 1;
        }
        let mut offsets = vec![0u32; n + 1];
        for i in 0..n {
            offsets[i + 1] = offsets[i] + degree[i];
        }
        let mut fill = offsets.clone();
        let mut neighbours = vec![0u32; offsets[n] as usize];
        for &(i, j) in pairs {
            neighbours[fill[i as usize] as usize] = j;
            fill[i as usize] += 1;
            neighbours[fill[j as usize] as usize] = i;
            fill[j as usize] += 1;
        }
        for i in 0..n {
            neighbours[offsets[i] as usize..offsets[i + 1] as usize].sort_unstable();
        }
        Adjacency {
            offsets,
            neighbours,
        }
    }

    /// The neighbours of `i`, sorted.
    pub fn neighbours(&self, i: u32) -> &[u32] {
        &self.neighbours[self.offsets[i as usize] as usize..self.offsets[i as usize + 1] as usize]
    }

    /// Number of adjacent (unordered) pairs.
    pub fn pair_count(&self) -> usize {
        self.neighbours.len() / 2
    }

    /// Connected components of `members` (a subset of the items) under this
    /// adjacency. Each component is sorted; components are sorted by their first
    /// item. O(m α(m) + edges among members).
    pub fn components(&self, members: &[u32]) -> Vec<Vec<u32>> {
        let local: HashMap<u32, u32> = members
            .iter()
            .enumerate()
            .map(|(k, &m)| (m, k as u32))
            .collect();
        let mut parent: Vec<u32> = (0..members.len() as u32).collect();
        fn find(parent: &mut [u32], mut x: u32) -> u32 {
            while parent[x as usize] != x {
                parent[x as usize] = parent[parent[x as usize] as usize];
                x = parent[x as usize];
            }
            x
        }
        for (k, &m) in members.iter().enumerate() {
            for nb in self.neighbours(m) {
                if let Some(&l) = local.get(nb) {
                    let (a, b) = (find(&mut parent, k as u32), find(&mut parent, l));
                    if a != b {
                        parent[a.max(b) as usize] = a.min(b);
                    }
                }
            }
        }
        let mut groups: HashMap<u32, Vec<u32>> = HashMap::new();
        for (k, &m) in members.iter().enumerate() {
            let r = find(&mut parent, k as u32);
            groups.entry(r).or_default().push(m);
        }
        let mut out: Vec<Vec<u32>> = groups.into_values().collect();
        for g in &mut out {
            g.sort_unstable();
        }
        out.sort_unstable_by_key(|g| g[0]);
        out
    }
}

type Seg = (Coord<f64>, Coord<f64>);

/// True when the boundaries of `a` and `b` share a segment of positive length.
///
/// Only the segments inside the intersection of the two envelopes (`ea`, `eb`) are
/// looked at. Identical segments (either direction) are found by sorting their
/// endpoint bit patterns, which is all that snapped layers need; otherwise every pair
/// of segments there is tested for exact collinearity (robust orientation predicate)
/// and an overlap of positive length, so T-junctions and partly shared edges are
/// found too.
pub fn shares_segment(
    a: &MultiPolygon<f64>,
    b: &MultiPolygon<f64>,
    ea: &AABB<[f64; 2]>,
    eb: &AABB<[f64; 2]>,
) -> bool {
    Scratch::default().shares_segment(a, b, ea, eb)
}

/// The parts of boundary that `a` and `b` share, as segments: every overlap of
/// positive length between a segment of `a` and a segment of `b`, by the same
/// exact test as [`shares_segment`] (so the two never disagree: the pieces are
/// non-empty exactly when `shares_segment` is true). Each piece's ends are
/// vertices of `a` or `b`, not computed points. Used to measure the border two
/// communes share (the proposals weigh it), whether or not their vertices
/// coincide.
pub fn shared_border(
    a: &MultiPolygon<f64>,
    b: &MultiPolygon<f64>,
    ea: &AABB<[f64; 2]>,
    eb: &AABB<[f64; 2]>,
) -> Vec<(Coord<f64>, Coord<f64>)> {
    let mut scratch = Scratch::default();
    let Some((lo, hi)) = common_box(ea, eb) else {
        return Vec::new();
    };
    segments_in(a, lo, hi, &mut scratch.sa);
    segments_in(b, lo, hi, &mut scratch.sb);
    let sb = &mut scratch.sb;
    sb.sort_unstable_by(|p, q| p.0.x.min(p.1.x).total_cmp(&q.0.x.min(q.1.x)));
    let mut pieces = Vec::new();
    for s in &scratch.sa {
        let (sx0, sx1) = (s.0.x.min(s.1.x), s.0.x.max(s.1.x));
        let (sy0, sy1) = (s.0.y.min(s.1.y), s.0.y.max(s.1.y));
        let end = sb.partition_point(|t| t.0.x.min(t.1.x) <= sx1);
        for t in &sb[..end] {
            if t.0.x.max(t.1.x) >= sx0 && t.0.y.max(t.1.y) >= sy0 && t.0.y.min(t.1.y) <= sy1 {
                if let Some(piece) = overlap_piece(s, t) {
                    pieces.push(piece);
                }
            }
        }
    }
    pieces
}

/// The intersection of two envelopes, unless it is empty or a single point.
fn common_box(ea: &AABB<[f64; 2]>, eb: &AABB<[f64; 2]>) -> Option<([f64; 2], [f64; 2])> {
    let lo = [
        ea.lower()[0].max(eb.lower()[0]),
        ea.lower()[1].max(eb.lower()[1]),
    ];
    let hi = [
        ea.upper()[0].min(eb.upper()[0]),
        ea.upper()[1].min(eb.upper()[1]),
    ];
    if lo[0] > hi[0] || lo[1] > hi[1] || (lo[0] == hi[0] && lo[1] == hi[1]) {
        None
    } else {
        Some((lo, hi))
    }
}

/// Buffers reused from one candidate pair to the next on a worker thread.
#[derive(Default)]
struct Scratch {
    sa: Vec<Seg>,
    sb: Vec<Seg>,
    keys: Vec<Key>,
}

impl Scratch {
    fn shares_segment(
        &mut self,
        a: &MultiPolygon<f64>,
        b: &MultiPolygon<f64>,
        ea: &AABB<[f64; 2]>,
        eb: &AABB<[f64; 2]>,
    ) -> bool {
        let Some((lo, hi)) = common_box(ea, eb) else {
            return false;
        };
        segments_in(a, lo, hi, &mut self.sa);
        if self.sa.is_empty() {
            return false;
        }
        segments_in(b, lo, hi, &mut self.sb);
        if self.sb.is_empty() {
            return false;
        }
        self.keys.clear();
        self.keys.extend(self.sa.iter().map(key));
        self.keys.sort_unstable();
        if self
            .sb
            .iter()
            .any(|s| self.keys.binary_search(&key(s)).is_ok())
        {
            return true;
        }
        let sb = &mut self.sb;
        sb.sort_unstable_by(|p, q| p.0.x.min(p.1.x).total_cmp(&q.0.x.min(q.1.x)));
        self.sa.iter().any(|s| {
            let (sx0, sx1) = (s.0.x.min(s.1.x), s.0.x.max(s.1.x));
            let (sy0, sy1) = (s.0.y.min(s.1.y), s.0.y.max(s.1.y));
            let end = sb.partition_point(|t| t.0.x.min(t.1.x) <= sx1);
            sb[..end].iter().any(|t| {
                t.0.x.max(t.1.x) >= sx0
                    && t.0.y.max(t.1.y) >= sy0
                    && t.0.y.min(t.1.y) <= sy1
                    && collinear_overlap(s, t)
            })
        })
    }
}

/// The segments of `g` whose bounding box meets the box `lo`–`hi`, into `out`.
fn segments_in(g: &MultiPolygon<f64>, lo: [f64; 2], hi: [f64; 2], out: &mut Vec<Seg>) {
    out.clear();
    for p in &g.0 {
        for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
            for w in ring.0.windows(2) {
                let (s, t) = (w[0], w[1]);
                if s == t {
                    continue;
                }
                if s.x.max(t.x) >= lo[0]
                    && s.x.min(t.x) <= hi[0]
                    && s.y.max(t.y) >= lo[1]
                    && s.y.min(t.y) <= hi[1]
                {
                    out.push((s, t));
                }
            }
        }
    }
}

type Key = (u64, u64, u64, u64);

/// Identity of an undirected segment; `-0.0` and `0.0` give the same key.
fn key(s: &Seg) -> Key {
    let bits = |c: Coord<f64>| ((c.x + 0.0).to_bits(), (c.y + 0.0).to_bits());
    let (p, q) = (bits(s.0), bits(s.1));
    let (p, q) = if p <= q { (p, q) } else { (q, p) };
    (p.0, p.1, q.0, q.1)
}

/// Exact: `t` lies on the line of `s` and their overlap has positive length.
fn collinear_overlap(s: &Seg, t: &Seg) -> bool {
    overlap_piece(s, t).is_some()
}

/// Where `t` lies on the line of `s` (exact orientation test) and their overlap has
/// positive length: that overlap, its ends taken from the four endpoints.
fn overlap_piece(s: &Seg, t: &Seg) -> Option<Seg> {
    if RobustKernel::orient2d(s.0, s.1, t.0) != Orientation::Collinear
        || RobustKernel::orient2d(s.0, s.1, t.1) != Orientation::Collinear
    {
        return None;
    }
    let along_x = (s.1.x - s.0.x).abs() >= (s.1.y - s.0.y).abs();
    let proj = |c: Coord<f64>| if along_x { c.x } else { c.y };
    let order = |p: Coord<f64>, q: Coord<f64>| if proj(p) <= proj(q) { (p, q) } else { (q, p) };
    let ((s0, s1), (t0, t1)) = (order(s.0, s.1), order(t.0, t.1));
    let lo = if proj(t0) > proj(s0) { t0 } else { s0 };
    let hi = if proj(t1) < proj(s1) { t1 } else { s1 };
    (proj(hi) > proj(lo)).then_some((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{polygon, MultiPolygon, Polygon};

    fn sq(x: f64, y: f64, w: f64) -> MultiPolygon<f64> {
        MultiPolygon::new(vec![
            polygon![(x: x, y: y), (x: x + w, y: y), (x: x + w, y: y + w), (x: x, y: y + w)],
        ])
    }

    fn adjacent(a: &MultiPolygon<f64>, b: &MultiPolygon<f64>) -> bool {
        let geoms = [a, b];
        let idx = SpatialIndex::build(&geoms);
        Adjacency::build(&geoms, &idx).pair_count() == 1
    }

    #[test]
    fn squares_sharing_an_edge_are_adjacent() {
        assert!(adjacent(&sq(0.0, 0.0, 1.0), &sq(1.0, 0.0, 1.0)));
    }

    #[test]
    fn squares_touching_at_a_corner_are_not() {
        assert!(!adjacent(&sq(0.0, 0.0, 1.0), &sq(1.0, 1.0, 1.0)));
    }

    #[test]
    fn separate_squares_are_not() {
        assert!(!adjacent(&sq(0.0, 0.0, 1.0), &sq(1.5, 0.0, 1.0)));
    }

    #[test]
    fn t_junction_partial_edge_is_adjacent() {
        // The right square's left edge is split at y = 0.5 and shifted: no identical segment.
        let a = sq(0.0, 0.0, 1.0);
        let b = MultiPolygon::new(vec![
            polygon![(x: 1.0, y: 0.5), (x: 2.0, y: 0.5), (x: 2.0, y: 2.0), (x: 1.0, y: 2.0), (x: 1.0, y: 1.25)],
        ]);
        assert!(adjacent(&a, &b));
    }

    fn shared_length(a: &MultiPolygon<f64>, b: &MultiPolygon<f64>) -> f64 {
        let (ea, eb) = (envelope(a), envelope(b));
        shared_border(a, b, &ea, &eb)
            .iter()
            .map(|(p, q)| (q.x - p.x).hypot(q.y - p.y))
            .sum()
    }

    #[test]
    fn the_shared_border_is_measured_by_the_test_that_makes_neighbours() {
        // identical segments: the whole edge, whichever side measures it
        let (a, b) = (sq(0.0, 0.0, 1.0), sq(1.0, 0.0, 1.0));
        assert_eq!(shared_length(&a, &b), 1.0);
        assert_eq!(shared_length(&b, &a), 1.0);
        // a T-junction and a shifted vertex: no identical segment, yet 0.5 shared
        // (y from 0.5 to 1), as the adjacency finds them neighbours
        let c = MultiPolygon::new(vec![
            polygon![(x: 1.0, y: 0.5), (x: 2.0, y: 0.5), (x: 2.0, y: 2.0), (x: 1.0, y: 2.0), (x: 1.0, y: 1.25)],
        ]);
        assert!(adjacent(&a, &c));
        assert_eq!(shared_length(&a, &c), 0.5);
        assert_eq!(shared_length(&c, &a), 0.5);
        // a corner only, or the same line without overlap: nothing, as for adjacency
        assert_eq!(shared_length(&a, &sq(1.0, 1.0, 1.0)), 0.0);
        let d = MultiPolygon::new(vec![
            polygon![(x: 1.0, y: 1.5), (x: 2.0, y: 1.5), (x: 2.0, y: 2.0), (x: 1.0, y: 2.0)],
        ]);
        assert_eq!(shared_length(&a, &d), 0.0);
        // a commune split in three along the edge of its neighbour: three pieces
        let e = MultiPolygon::new(vec![
            polygon![(x: 1.0, y: 0.0), (x: 1.0, y: 0.2), (x: 1.0, y: 0.7), (x: 1.0, y: 1.0), (x: 0.0, y: 1.0), (x: 0.0, y: 0.0)],
        ]);
        let f = sq(1.0, 0.0, 1.0);
        assert_eq!(shared_border(&e, &f, &envelope(&e), &envelope(&f)).len(), 3);
        assert!((shared_length(&e, &f) - 1.0).abs() < 1e-15);
    }

    #[test]
    fn collinear_but_disjoint_edges_are_not_adjacent() {
        let a = sq(0.0, 0.0, 1.0);
        let b = MultiPolygon::new(vec![
            polygon![(x: 1.0, y: 1.0), (x: 2.0, y: 1.0), (x: 2.0, y: 2.0), (x: 1.0, y: 2.0)],
        ]);
        let c = MultiPolygon::new(vec![
            polygon![(x: 1.0, y: 1.5), (x: 2.0, y: 1.5), (x: 2.0, y: 2.0), (x: 1.0, y: 2.0)],
        ]);
        assert!(!adjacent(&a, &b), "corner only");
        assert!(!adjacent(&a, &c), "same line x = 1, no overlap");
    }

    #[test]
    fn enclave_is_adjacent_to_its_surrounding_commune() {
        let outer = Polygon::new(
            sq(0.0, 0.0, 3.0).0[0].exterior().clone(),
            vec![sq(1.0, 1.0, 1.0).0[0].exterior().clone()],
        );
        assert!(adjacent(
            &MultiPolygon::new(vec![outer]),
            &sq(1.0, 1.0, 1.0)
        ));
    }

    #[test]
    fn negative_zero_matches_positive_zero() {
        let a = sq(-1.0, 0.0, 1.0);
        let b = MultiPolygon::new(vec![
            polygon![(x: -0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: -0.0, y: 1.0)],
        ]);
        let (mut sa, mut sb) = (Vec::new(), Vec::new());
        segments_in(&a, [-1.0, 0.0], [0.0, 1.0], &mut sa);
        segments_in(&b, [-1.0, 0.0], [0.0, 1.0], &mut sb);
        assert!(sb.iter().any(|s| sa.iter().any(|t| key(s) == key(t))));
        assert!(shares_segment(
            &a,
            &b,
            &SpatialIndex::build(&[&a]).envelope(0),
            &SpatialIndex::build(&[&b]).envelope(0)
        ));
    }

    #[test]
    fn components_split_a_non_contiguous_set() {
        // a row of 4 squares; members 0, 1 and 3: two components.
        let sqs: Vec<MultiPolygon<f64>> = (0..4).map(|i| sq(i as f64, 0.0, 1.0)).collect();
        let refs: Vec<&MultiPolygon<f64>> = sqs.iter().collect();
        let idx = SpatialIndex::build(&refs);
        let adj = Adjacency::build(&refs, &idx);
        assert_eq!(adj.pair_count(), 3);
        assert_eq!(adj.components(&[0, 1, 3]), vec![vec![0, 1], vec![3]]);
        assert_eq!(adj.components(&[0, 1, 2, 3]), vec![vec![0, 1, 2, 3]]);
    }
}
