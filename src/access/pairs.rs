//! The pairs (where people live, where the supply is) within the maximum cost,
//! stored as compressed rows (CSR): for each origin its destinations, ascending,
//! and for an asymmetric matrix the transpose. Sums over a row run in that fixed
//! order, so scores do not depend on the thread count.
//!
//! Straight-line pairs are found with an R-tree over the locations (never an
//! N×N matrix) and store only the destination: their distance is recomputed from
//! the two points when it is needed (the same arithmetic every time), which keeps
//! 7.5 million pairs in 30 MB.

use rayon::prelude::*;

/// A location: the CRS it is measured in (EPSG code) and the point, metres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Location {
    /// The projected CRS (pairs only join locations of the same one).
    pub epsg: u32,
    /// The point, metres of that CRS.
    pub point: [f64; 2],
}

enum Costs {
    /// Costs given, one per pair.
    Stored(Vec<f64>),
    /// Straight-line distance between the locations, times `scale`.
    Euclidean { points: Vec<[f64; 2]>, scale: f64 },
}

/// Every pair within the maximum cost.
pub struct Pairs {
    /// Row `i` (origin `i`) is `dest[offsets[i]..offsets[i + 1]]`.
    offsets: Vec<usize>,
    dest: Vec<u32>,
    costs: Costs,
    /// For an asymmetric matrix: row `j` lists the pairs whose destination is `j`
    /// (positions in `dest`), by origin. `None`: pairs are symmetric.
    by_dest: Option<(Vec<usize>, Vec<u32>, Vec<u32>)>,
}

/// A uniform grid over the points of one CRS: cells at least `radius` wide (and
/// at most 1024 a side), each holding its points (positions and coordinates).
struct Grid {
    origin: [f64; 2],
    cell: f64,
    dims: (usize, usize),
    /// Cell `c` holds `items[offsets[c]..offsets[c + 1]]`.
    offsets: Vec<usize>,
    items: Vec<(u32, [f64; 2])>,
}

impl Grid {
    fn new(locations: &[Option<Location>], epsg: u32, radius: f64) -> Grid {
        let pts: Vec<(u32, [f64; 2])> = locations
            .iter()
            .enumerate()
            .filter_map(|(i, l)| l.filter(|l| l.epsg == epsg).map(|l| (i as u32, l.point)))
            .collect();
        let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        for (_, p) in &pts {
            for k in 0..2 {
                lo[k] = lo[k].min(p[k]);
                hi[k] = hi[k].max(p[k]);
            }
        }
        let span = (hi[0] - lo[0]).max(hi[1] - lo[1]).max(1.0);
        let cell = radius.max(span / 1024.0).max(f64::MIN_POSITIVE);
        let dims = (
            ((hi[0] - lo[0]) / cell) as usize + 1,
            ((hi[1] - lo[1]) / cell) as usize + 1,
        );
        let index = |p: [f64; 2]| {
            let cx = (((p[0] - lo[0]) / cell) as usize).min(dims.0 - 1);
            let cy = (((p[1] - lo[1]) / cell) as usize).min(dims.1 - 1);
            cy * dims.0 + cx
        };
        let mut offsets = vec![0usize; dims.0 * dims.1 + 1];
        for (_, p) in &pts {
            offsets[index(*p) + 1] += 1;
        }
        for c in 0..dims.0 * dims.1 {
            offsets[c + 1] += offsets[c];
        }
        let mut fill = offsets.clone();
        let mut items = vec![(0u32, [0.0, 0.0]); pts.len()];
        for &(i, p) in &pts {
            let c = index(p);
            items[fill[c]] = (i, p);
            fill[c] += 1;
        }
        Grid {
            origin: lo,
            cell,
            dims,
            offsets,
            items,
        }
    }

    /// Calls `f` for every point in the cell of `p` and the eight around it.
    #[inline]
    fn near(&self, p: [f64; 2], mut f: impl FnMut(u32, [f64; 2])) {
        let cx = ((p[0] - self.origin[0]) / self.cell).floor() as i64;
        let cy = ((p[1] - self.origin[1]) / self.cell).floor() as i64;
        for y in (cy - 1).max(0)..=(cy + 1).min(self.dims.1 as i64 - 1) {
            for x in (cx - 1).max(0)..=(cx + 1).min(self.dims.0 as i64 - 1) {
                let c = y as usize * self.dims.0 + x as usize;
                for &(i, q) in &self.items[self.offsets[c]..self.offsets[c + 1]] {
                    f(i, q);
                }
            }
        }
    }
}

/// The distance between two points, always computed the same way.
#[inline]
fn distance(a: [f64; 2], b: [f64; 2]) -> f64 {
    let (dx, dy) = (a[0] - b[0], a[1] - b[1]);
    (dx * dx + dy * dy).sqrt()
}

impl Pairs {
    /// Straight-line pairs: every two locations of the same CRS whose distance
    /// times `scale` is at most `max_cost` (inclusive), each location with itself
    /// at cost 0. `scale` turns metres into the cost's unit (1 for metres; minutes
    /// per metre for an assumed speed).
    ///
    /// # Performance
    /// O(n log n + p) for n locations and p pairs; 35,357 communes within 30 km
    /// (7.5 M pairs) take about 0.1 s on 2 cores.
    pub fn euclidean(locations: &[Option<Location>], max_cost: f64, scale: f64) -> Pairs {
        let n = locations.len();
        let radius = max_cost / scale;
        // one grid per CRS, cells at least the radius wide: a point's partners are
        // in its cell or the eight around it
        let mut crs: Vec<u32> = locations.iter().flatten().map(|l| l.epsg).collect();
        crs.sort_unstable();
        crs.dedup();
        let grids: Vec<(u32, Grid)> = crs
            .iter()
            .map(|&e| (e, Grid::new(locations, e, radius)))
            .collect();
        // rows in the grid's order (fixed by the locations alone, so sums are the
        // same on any thread count), gathered in a reused buffer, then copied once
        let rows: Vec<Vec<u32>> = (0..n)
            .into_par_iter()
            .map_init(Vec::new, |scratch: &mut Vec<u32>, i| {
                let Some(here) = locations[i] else {
                    return Vec::new();
                };
                let Some((_, grid)) = grids.iter().find(|(e, _)| *e == here.epsg) else {
                    return Vec::new();
                };
                scratch.clear();
                grid.near(here.point, |j, p| {
                    if distance(here.point, p) * scale <= max_cost {
                        scratch.push(j);
                    }
                });
                scratch.clone()
            })
            .collect();
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0);
        for r in &rows {
            offsets.push(offsets[offsets.len() - 1] + r.len());
        }
        let mut dest = Vec::with_capacity(offsets[n]);
        for r in rows {
            dest.extend(r);
        }
        let points = locations
            .iter()
            .map(|l| l.map_or([f64::NAN, f64::NAN], |l| l.point))
            .collect();
        Pairs {
            offsets,
            dest,
            costs: Costs::Euclidean { points, scale },
            by_dest: None,
        }
    }

    /// An upper bound of the pairs [`Pairs::euclidean`] would find, counted on
    /// its grids without looking at a pair (each point with every point of its
    /// cell and the eight around): about three times the pairs, in O(n + cells).
    /// Checked before building, so that a CRS mistake (longitude/latitude read as
    /// metres: every point within a few metres of every other) is refused before
    /// it takes the memory.
    pub fn euclidean_bound(locations: &[Option<Location>], max_cost: f64, scale: f64) -> u64 {
        let radius = max_cost / scale;
        let mut crs: Vec<u32> = locations.iter().flatten().map(|l| l.epsg).collect();
        crs.sort_unstable();
        crs.dedup();
        let mut total = 0u64;
        for e in crs {
            let g = Grid::new(locations, e, radius);
            let count = |x: i64, y: i64| -> u64 {
                if x < 0 || y < 0 || x >= g.dims.0 as i64 || y >= g.dims.1 as i64 {
                    return 0;
                }
                let c = y as usize * g.dims.0 + x as usize;
                (g.offsets[c + 1] - g.offsets[c]) as u64
            };
            for y in 0..g.dims.1 as i64 {
                for x in 0..g.dims.0 as i64 {
                    let here = count(x, y);
                    if here == 0 {
                        continue;
                    }
                    let mut around = 0u64;
                    for dy in -1..=1 {
                        for dx in -1..=1 {
                            around += count(x + dx, y + dy);
                        }
                    }
                    total = total.saturating_add(here.saturating_mul(around));
                }
            }
        }
        total
    }

    /// Pairs of a matrix `(origin, dest, cost)` over `n` units, already checked
    /// (no duplicate, costs ≥ 0) and limited to the maximum cost.
    pub fn matrix(n: usize, mut triples: Vec<(u32, u32, f64)>) -> Pairs {
        triples.par_sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        let mut offsets = vec![0usize; n + 1];
        for t in &triples {
            offsets[t.0 as usize + 1] += 1;
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        let dest: Vec<u32> = triples.iter().map(|t| t.1).collect();
        let costs: Vec<f64> = triples.iter().map(|t| t.2).collect();
        drop(triples);
        Pairs::from_rows(offsets, dest, costs)
    }

    /// Pairs already in rows: origin `i`'s destinations are
    /// `dest[offsets[i]..offsets[i + 1]]`, ascending, with their costs.
    pub fn from_rows(offsets: Vec<usize>, dest: Vec<u32>, costs: Vec<f64>) -> Pairs {
        let n = offsets.len() - 1;
        // the transpose: pairs by destination, in origin order (counting sort)
        let mut doff = vec![0usize; n + 1];
        for &d in &dest {
            doff[d as usize + 1] += 1;
        }
        for j in 0..n {
            doff[j + 1] += doff[j];
        }
        let mut fill = doff.clone();
        let mut pos = vec![0u32; dest.len()];
        let mut orig = vec![0u32; dest.len()];
        for i in 0..n {
            for k in offsets[i]..offsets[i + 1] {
                let slot = &mut fill[dest[k] as usize];
                pos[*slot] = k as u32;
                orig[*slot] = i as u32;
                *slot += 1;
            }
        }
        Pairs {
            offsets,
            dest,
            costs: Costs::Stored(costs),
            by_dest: Some((doff, pos, orig)),
        }
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.dest.len()
    }

    /// True when there is no pair.
    pub fn is_empty(&self) -> bool {
        self.dest.is_empty()
    }

    /// Number of units (rows).
    pub fn units(&self) -> usize {
        self.offsets.len() - 1
    }

    #[inline]
    fn cost(&self, origin: usize, k: usize) -> f64 {
        match &self.costs {
            Costs::Stored(c) => c[k],
            Costs::Euclidean { points, scale } => {
                distance(points[origin], points[self.dest[k] as usize]) * scale
            }
        }
    }

    /// Calls `f(dest, cost)` for each pair of origin `i`, always in the same order
    /// (destinations ascending for a matrix; the grid's order for straight lines).
    #[inline]
    pub fn for_origin(&self, i: usize, mut f: impl FnMut(usize, f64)) {
        for k in self.offsets[i]..self.offsets[i + 1] {
            f(self.dest[k] as usize, self.cost(i, k));
        }
    }

    /// Calls `f(origin, cost)` for each pair whose destination is `j`, always in the
    /// same order.
    #[inline]
    pub fn for_dest(&self, j: usize, mut f: impl FnMut(usize, f64)) {
        match &self.by_dest {
            // symmetric: j's own row, with the cost from each origin to j
            None => {
                for k in self.offsets[j]..self.offsets[j + 1] {
                    let i = self.dest[k] as usize;
                    f(i, self.cost(j, k));
                }
            }
            Some((doff, pos, orig)) => {
                for s in doff[j]..doff[j + 1] {
                    let (k, i) = (pos[s] as usize, orig[s] as usize);
                    f(i, self.cost(i, k));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(x: f64, y: f64) -> Option<Location> {
        Some(Location {
            epsg: 2154,
            point: [x, y],
        })
    }

    #[test]
    fn straight_line_pairs_include_the_bound_and_each_unit_itself() {
        let locs = vec![at(0.0, 0.0), at(3.0, 4.0), at(10.0, 0.0), None];
        let p = Pairs::euclidean(&locs, 5.0, 1.0);
        let row = |i| {
            let mut v = Vec::new();
            p.for_origin(i, |j, c| v.push((j, c)));
            v.sort_by_key(|a: &(usize, f64)| a.0);
            v
        };
        assert_eq!(row(0), vec![(0, 0.0), (1, 5.0)], "5 m is within 5 m");
        assert_eq!(row(2), vec![(2, 0.0)]);
        assert_eq!(row(3), vec![], "no location, no pair");
        assert_eq!(p.len(), 5);
        assert!(Pairs::euclidean_bound(&locs, 5.0, 1.0) >= p.len() as u64);
        // other CRSs never pair
        let mut locs = locs;
        locs[1] = Some(Location {
            epsg: 2975,
            point: [3.0, 4.0],
        });
        assert_eq!(Pairs::euclidean(&locs, 5.0, 1.0).len(), 3);
    }

    #[test]
    fn the_bound_never_undercounts_and_sees_collapsed_points() {
        // a 40 × 40 lattice 1 m apart, radius 3 m: the bound is at least the pairs
        let locs: Vec<Option<Location>> = (0..1600)
            .map(|k| at((k % 40) as f64, (k / 40) as f64))
            .collect();
        for r in [0.5, 3.0, 10.0, 100.0] {
            let found = Pairs::euclidean(&locs, r, 1.0).len() as u64;
            let bound = Pairs::euclidean_bound(&locs, r, 1.0);
            assert!(
                bound >= found && bound <= 12 * found.max(1600),
                "r {r}: {bound} vs {found}"
            );
        }
        // every point within the radius of every other: n² pairs, said before building
        assert_eq!(Pairs::euclidean_bound(&locs, 1e6, 1.0), 1600 * 1600);
    }

    #[test]
    fn a_matrix_is_read_by_origin_and_by_destination() {
        let p = Pairs::matrix(3, vec![(2, 0, 7.0), (0, 1, 3.0), (1, 0, 4.0), (0, 0, 0.0)]);
        let mut by_dest = Vec::new();
        p.for_dest(0, |i, c| by_dest.push((i, c)));
        assert_eq!(by_dest, vec![(0, 0.0), (1, 4.0), (2, 7.0)]);
        let mut from0 = Vec::new();
        p.for_origin(0, |j, c| from0.push((j, c)));
        assert_eq!(from0, vec![(0, 0.0), (1, 3.0)]);
        let mut to1 = Vec::new();
        p.for_dest(1, |i, c| to1.push((i, c)));
        assert_eq!(to1, vec![(0, 3.0)], "asymmetric: 1→0 is not 0→1");
    }
}
