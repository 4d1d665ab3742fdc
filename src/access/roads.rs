//! Travel times by road: communes snapped to a [`RoadNetwork`] and drive-time
//! catchments around each commune with supply, bounded by the maximum cost.
//!
//! 1. The network is reduced to its largest strongly connected component
//!    (Kosaraju, iterative): a point snapped to a dead-end piece of road (a car
//!    park, a one-way fragment cut by the extract's border) would reach nothing.
//! 2. Each location (a commune's centroid, or its `--points` row) is snapped to
//!    the nearest node of that component (an R-tree on the unit sphere); a
//!    location farther than [`FAR_FROM_ROADS_M`] from every node is not on the
//!    network (outside the extract) and gets no travel time.
//! 3. From each commune with supply, a Dijkstra on the reversed graph, stopped
//!    at the maximum cost, gives the time *from* every node *to* it: the pairs
//!    (origin = where people live, destination = the supply), as a cost matrix
//!    the scores read as they read a `--costs` file. Each located commune also
//!    gets its pair with itself (0 minutes when the supply is in it), so that a
//!    commune with no supply within reach scores 0 rather than nothing.
//!
//! The time of a pair is the time between the two snapped nodes: the distance
//! from a location to its node is not added (as pandana and r5py's defaults).
//! Catchments are computed in parallel, one per destination; the pairs come out
//! in (destination, origin) order whatever the thread count.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use geo::{Centroid, Coord, Distance, Geodesic, Point};
use rayon::prelude::*;
use rstar::primitives::GeomWithData;
use rstar::RTree;

use crate::analysis::Analysis;
use crate::diagnostics::{sample, sample_en, Diagnostic, DiagnosticKind};
use crate::error::{Error, Result};
use crate::geometry::Crs;
use crate::load::{CostMatrix, CostPair, RoadNetwork};

use super::locations::{place_supply, user_points};
use super::AccessInputs;

/// How far from every road node a location may lie and still be snapped
/// (metres): a commune centroid is rarely more than a few hundred metres from a
/// road; farther, the point lies outside the extract.
pub const FAR_FROM_ROADS_M: f64 = 5000.0;

/// A road network ready to route on: forward and reverse adjacency (CSR) and
/// the nodes of its largest strongly connected component in an R-tree.
pub struct Router<'n> {
    network: &'n RoadNetwork,
    /// Reverse adjacency: for node v, the edges u → v as (u, minutes).
    rev_offsets: Vec<u32>,
    rev: Vec<(u32, f64)>,
    /// Nodes of the largest strongly connected component.
    in_main: Vec<bool>,
    tree: RTree<GeomWithData<[f64; 3], u32>>,
}

/// Where a location was snapped.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Snap {
    /// The node (position in [`RoadNetwork::nodes`]).
    pub node: u32,
    /// Geodesic distance from the location to it, metres.
    pub metres: f64,
}

fn unit_sphere(lon: f64, lat: f64) -> [f64; 3] {
    let (lon, lat) = (lon.to_radians(), lat.to_radians());
    [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
}

/// A (minutes, node) entry of Dijkstra's heap, smallest time first, then node.
#[derive(PartialEq)]
struct Entry(f64, u32);

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.total_cmp(&self.0).then(other.1.cmp(&self.1))
    }
}

fn csr(
    n: usize,
    pairs: impl Iterator<Item = (u32, u32, f64)> + Clone,
) -> (Vec<u32>, Vec<(u32, f64)>) {
    let mut offsets = vec![0u32; n + 1];
    for (a, _, _) in pairs.clone() {
        offsets[a as usize + 1] += 1;
    }
    for i in 0..n {
        offsets[i + 1] += offsets[i];
    }
    let mut fill = offsets.clone();
    let mut out = vec![(0u32, 0.0); offsets[n] as usize];
    for (a, b, w) in pairs {
        out[fill[a as usize] as usize] = (b, w);
        fill[a as usize] += 1;
    }
    (offsets, out)
}

impl<'n> Router<'n> {
    /// Builds the adjacency, the largest strongly connected component and its
    /// R-tree. O(V + E) and O(V log V).
    pub fn new(network: &'n RoadNetwork) -> Router<'n> {
        let n = network.nodes.len();
        let e = &network.edges;
        let (fwd_offsets, fwd) = csr(n, e.iter().map(|x| (x.from, x.to, x.minutes)));
        let (rev_offsets, rev) = csr(n, e.iter().map(|x| (x.to, x.from, x.minutes)));
        let component = strongly_connected(n, (&fwd_offsets, &fwd), (&rev_offsets, &rev));
        // the largest component; ties to the one found first
        let mut size = vec![0usize; n];
        for &c in &component {
            size[c as usize] += 1;
        }
        let main = (0..n).max_by(|&a, &b| size[a].cmp(&size[b]).then(b.cmp(&a)));
        let in_main: Vec<bool> = component
            .iter()
            .map(|&c| Some(c as usize) == main)
            .collect();
        let tree = RTree::bulk_load(
            (0..n)
                .filter(|&v| in_main[v])
                .map(|v| {
                    let [lon, lat] = network.nodes[v];
                    GeomWithData::new(unit_sphere(lon, lat), v as u32)
                })
                .collect(),
        );
        Router {
            network,
            rev_offsets,
            rev,
            in_main,
            tree,
        }
    }

    /// Nodes of the largest strongly connected component.
    pub fn main_component(&self) -> usize {
        self.in_main.iter().filter(|&&m| m).count()
    }

    /// The nearest node of the main component to `lon`, `lat`, unless it is
    /// farther than [`FAR_FROM_ROADS_M`].
    pub fn snap(&self, lon: f64, lat: f64) -> Option<Snap> {
        let near = self.tree.nearest_neighbor(&unit_sphere(lon, lat))?;
        let [x, y] = self.network.nodes[near.data as usize];
        let metres = Geodesic.distance(Point::new(lon, lat), Point::new(x, y));
        (metres <= FAR_FROM_ROADS_M).then_some(Snap {
            node: near.data,
            metres,
        })
    }

    /// Minutes from every node that reaches `target` within `max_minutes`
    /// (inclusive), as (node, minutes) sorted by node.
    pub fn times_to(&self, target: u32, max_minutes: f64) -> Vec<(u32, f64)> {
        let mut scratch = Scratch::new(self.network.nodes.len());
        self.times_to_with(&mut scratch, target, max_minutes)
    }

    fn times_to_with(&self, s: &mut Scratch, target: u32, max_minutes: f64) -> Vec<(u32, f64)> {
        s.reset();
        let mut heap = BinaryHeap::new();
        s.set(target, 0.0);
        heap.push(Entry(0.0, target));
        let mut settled = Vec::new();
        while let Some(Entry(t, v)) = heap.pop() {
            if t > s.dist[v as usize] {
                continue;
            }
            settled.push((v, t));
            let (a, b) = (
                self.rev_offsets[v as usize] as usize,
                self.rev_offsets[v as usize + 1] as usize,
            );
            for &(u, w) in &self.rev[a..b] {
                let tu = t + w;
                if tu <= max_minutes && tu < s.dist[u as usize] {
                    s.set(u, tu);
                    heap.push(Entry(tu, u));
                }
            }
        }
        settled.sort_unstable_by_key(|x| x.0);
        settled
    }
}

/// Dijkstra's distances, reset in O(nodes touched).
struct Scratch {
    dist: Vec<f64>,
    touched: Vec<u32>,
}

impl Scratch {
    fn new(n: usize) -> Scratch {
        Scratch {
            dist: vec![f64::INFINITY; n],
            touched: Vec::new(),
        }
    }
    fn set(&mut self, v: u32, t: f64) {
        if self.dist[v as usize] == f64::INFINITY {
            self.touched.push(v);
        }
        self.dist[v as usize] = t;
    }
    fn reset(&mut self) {
        for &v in &self.touched {
            self.dist[v as usize] = f64::INFINITY;
        }
        self.touched.clear();
    }
}

/// Each node's strongly connected component (Kosaraju, iterative: deep roads
/// do not overflow the stack). Components are numbered in the order found.
fn strongly_connected(
    n: usize,
    (fo, f): (&[u32], &[(u32, f64)]),
    (ro, r): (&[u32], &[(u32, f64)]),
) -> Vec<u32> {
    // 1. nodes in order of finishing a depth-first search of the graph
    let mut seen = vec![false; n];
    let mut order = Vec::with_capacity(n);
    let mut stack: Vec<(u32, u32)> = Vec::new();
    for root in 0..n as u32 {
        if seen[root as usize] {
            continue;
        }
        seen[root as usize] = true;
        stack.push((root, fo[root as usize]));
        while let Some(&mut (v, ref mut next)) = stack.last_mut() {
            if *next < fo[v as usize + 1] {
                let u = f[*next as usize].0;
                *next += 1;
                if !seen[u as usize] {
                    seen[u as usize] = true;
                    stack.push((u, fo[u as usize]));
                }
            } else {
                order.push(v);
                stack.pop();
            }
        }
    }
    // 2. the reversed graph, from the last finished: each search is a component
    let mut component = vec![u32::MAX; n];
    let mut count = 0u32;
    let mut todo = Vec::new();
    for &root in order.iter().rev() {
        if component[root as usize] != u32::MAX {
            continue;
        }
        component[root as usize] = count;
        todo.push(root);
        while let Some(v) = todo.pop() {
            for &(u, _) in &r[ro[v as usize] as usize..ro[v as usize + 1] as usize] {
                if component[u as usize] == u32::MAX {
                    component[u as usize] = count;
                    todo.push(u);
                }
            }
        }
        count += 1;
    }
    component
}

/// Travel times by road between the analysis's communes, as the cost matrix
/// ([`CostMatrix`], minutes) the scores read: origins every commune located on
/// the network, destinations the communes with supply, pairs within
/// `max_minutes`. Locations are `inputs.points` where given, else each
/// commune's centroid (longitude/latitude). Its codes are the layer's, in layer
/// order; its lines are the rows of `access_matrix.parquet` plus 2, the file a
/// run writes so that it can be reproduced with `--costs`.
///
/// Returns the matrix and its diagnostics (communes too far from every road).
///
/// # Errors
/// As [`place_supply`] and [`user_points`]; [`Error::Input`] when no commune
/// lies within [`FAR_FROM_ROADS_M`] of the network (the extract is of another
/// area).
pub fn road_costs(
    analysis: &Analysis,
    network: &RoadNetwork,
    inputs: &AccessInputs<'_>,
    max_minutes: f64,
    points_epsg: u32,
    supply_epsg: u32,
) -> Result<(CostMatrix, Vec<Diagnostic>)> {
    let communes = &analysis.communes;
    let n = communes.len();
    let timings = &analysis.timings;
    let file = network.source.display().to_string();
    let (supply, _) = place_supply(communes, analysis.index(), inputs.supply, supply_epsg)?;
    // where each commune is, longitude/latitude
    let mut lon_lat: Vec<Option<[f64; 2]>> = vec![None; n];
    if let Some(points) = inputs.points {
        let mut loc = vec![None; n];
        user_points(communes, points, points_epsg, &mut loc)?;
        for (i, l) in loc.iter().enumerate() {
            if let Some(l) = l {
                let crs = Crs::from_epsg(l.epsg).map_err(|e| Error::Input(e.to_string()))?;
                let mut c = [Coord {
                    x: l.point[0],
                    y: l.point[1],
                }];
                crs.to_lon_lat(&mut c)
                    .map_err(|e| Error::Input(format!("{}: {e}", points.source.display())))?;
                lon_lat[i] = Some([c[0].x, c[0].y]);
            }
        }
    }
    for (i, at) in lon_lat.iter_mut().enumerate() {
        if at.is_none() {
            *at = communes
                .get(i as u32)
                .geometry
                .centroid()
                .map(|c| [c.x(), c.y()]);
        }
    }
    let router = timings.time("road graph", || Router::new(network));
    let snaps: Vec<Option<Snap>> = timings.time("snap", || {
        lon_lat
            .par_iter()
            .map(|p| p.and_then(|[x, y]| router.snap(x, y)))
            .collect()
    });
    let far: Vec<String> = (0..n)
        .filter(|&i| lon_lat[i].is_some() && snaps[i].is_none())
        .map(|i| communes.get(i as u32).code.clone())
        .collect();
    if snaps.iter().all(Option::is_none) {
        return Err(Error::Input(format!(
            "{file}: no commune lies within {} km of its roads: is the extract of the area of the communes?",
            FAR_FROM_ROADS_M / 1000.0
        )));
    }
    let mut diagnostics = Vec::new();
    if !far.is_empty() {
        diagnostics.push(
            Diagnostic::new(
                DiagnosticKind::NoLocation,
                format!(
                    "{file} : {} commune(s) à plus de {} km de toute route du réseau (hors de l'extrait ?), sans temps de trajet ni score : {}",
                    far.len(),
                    FAR_FROM_ROADS_M / 1000.0,
                    sample(&far, 8)
                ),
                format!(
                    "{file}: {} commune(s) more than {} km from every road of the network (outside the extract?), without travel times or score: {}",
                    far.len(),
                    FAR_FROM_ROADS_M / 1000.0,
                    sample_en(&far, 8)
                ),
            )
            .codes(far),
        );
    }
    // communes at each node: a node may serve several communes
    let mut at_node: Vec<(u32, u32)> = (0..n as u32)
        .filter_map(|i| snaps[i as usize].map(|s| (s.node, i)))
        .collect();
    at_node.sort_unstable();
    let is_dest: Vec<bool> = (0..n)
        .map(|i| supply[i] > 0.0 && snaps[i].is_some())
        .collect();
    let dests: Vec<u32> = (0..n as u32).filter(|&i| is_dest[i as usize]).collect();
    let per_dest: Vec<Vec<CostPair>> = timings.time("road catchments", || {
        dests
            .par_iter()
            .map_init(
                || Scratch::new(network.nodes.len()),
                |scratch, &d| {
                    let node = snaps[d as usize].expect("destinations are snapped").node;
                    let mut pairs = Vec::new();
                    for (v, t) in router.times_to_with(scratch, node, max_minutes) {
                        let from = at_node.partition_point(|x| x.0 < v);
                        for &(_, o) in at_node[from..].iter().take_while(|x| x.0 == v) {
                            pairs.push(CostPair {
                                origin: o,
                                dest: d,
                                cost: t,
                            });
                        }
                    }
                    pairs.sort_unstable_by_key(|p| p.origin);
                    pairs
                },
            )
            .collect()
    });
    let mut pairs: Vec<CostPair> = per_dest.into_iter().flatten().collect();
    // every located commune with itself, so that one with no supply in reach
    // scores 0 (a destination already has its pair)
    pairs.extend(
        (0..n as u32)
            .filter(|&i| snaps[i as usize].is_some() && !is_dest[i as usize])
            .map(|i| CostPair {
                origin: i,
                dest: i,
                cost: 0.0,
            }),
    );
    let lines: Vec<u32> = (0..pairs.len() as u32).map(|k| k + 2).collect();
    let snapped: Vec<f64> = snaps.iter().flatten().map(|s| s.metres).collect();
    // French, as every reader's notes (lang::NOTES gives their English)
    let mut notes = vec![format!(
        "temps de trajet par la route : {} routes, {} nœuds ({} dans la plus grande partie fortement connexe), vitesses par classe de route, zones à moins de {max_minutes} min de {} communes dotées d'offre",
        network.ways,
        network.nodes.len(),
        router.main_component(),
        dests.len()
    )];
    if !snapped.is_empty() {
        let mut sorted = snapped.clone();
        sorted.sort_unstable_by(f64::total_cmp);
        notes.push(format!(
            "{} communes placées sur le réseau : à {:.0} m de leur nœud en médiane, {:.0} m au plus",
            sorted.len(),
            sorted[sorted.len() / 2],
            sorted[sorted.len() - 1]
        ));
    }
    Ok((
        CostMatrix::new(
            network.source.clone(),
            (0..n as u32)
                .map(|i| communes.get(i).code.clone())
                .collect(),
            pairs,
            &lines,
            notes,
        ),
        diagnostics,
    ))
}
