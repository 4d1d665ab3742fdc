//! Stage 3 for **drawn territories**: how much of each commune each CPTS covers,
//! and the gap (*zone blanche*) and overlap (*chevauchement*) pieces as polygons.
//!
//! Two phases, as everywhere in maillage: an R-tree over the territories' envelopes
//! gives each commune its candidate CPTS, then exact boolean operations (`geo`'s
//! i_overlay engine) cut the commune by each candidate. Communes are processed in
//! parallel and independently, so the result does not depend on the thread count.
//!
//! A CPTS declared as a commune list covers each of its communes entirely; a drawn
//! one covers the part of each commune its outline contains. Within a commune:
//! - *covered* is the union of the parts covered by any CPTS;
//! - *overlap* is what two or more cover, split by the exact set of owners;
//! - *white* is the rest.
//!
//! Pieces: the white parts of all communes, dissolved and split into connected
//! polygons, are the gaps; the overlap parts with the same owners, dissolved and
//! split, are the overlaps. Each piece gets its area, the communes it touches and
//! an estimate of its population by areal interpolation (commune population ×
//! share of the commune's area in the piece). Pieces smaller than the sliver
//! tolerance are kept apart as slivers, never dropped.
//!
//! Arithmetic noise is not digitising noise: the overlay engine rounds coordinates
//! to an integer grid (relative error about 1e-9), so a commune entirely inside a
//! drawn outline comes back a hair smaller than itself. Within a commune, a part
//! within [`NOISE`] of the commune's area of the whole is the whole, and a part or
//! fragment smaller than [`NOISE`] × its area is nothing.

use std::collections::BTreeMap;

use geo::{BooleanOps, BoundingRect, Contains, InteriorPoint, MultiPolygon, Polygon};
use rayon::prelude::*;
use rstar::AABB;

use crate::dissolve::dissolve;
use crate::index::{Adjacency, SpatialIndex};
use crate::load::{oriented, Communes};
use crate::progress::Progress;

mod engine;
use engine::{split, union_op, OverlayRule};

/// Relative area under which a difference within one commune is rounding noise
/// of the overlay engine (1 ppm: 20 m² of a 20 km² commune).
pub const NOISE: f64 = 1e-6;

/// How each commune is covered.
#[derive(Debug, Clone, PartialEq)]
pub struct CommuneOverlay {
    /// `(cpts, km²)`: the area of the commune each CPTS covers, by CPTS position, sorted.
    pub shares: Vec<(u32, f64)>,
    /// Area covered by at least one CPTS, km².
    pub covered_km2: f64,
    /// Area covered by two or more, km².
    pub overlap_km2: f64,
}

/// A gap or overlap polygon.
#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    /// The CPTS covering it (positions, sorted): empty for a gap.
    pub owners: Vec<u32>,
    /// Its outline.
    pub geometry: MultiPolygon<f64>,
    /// Its area, km² (the sum of its parts in each commune).
    pub area_km2: f64,
    /// The communes it touches (positions, sorted).
    pub communes: Vec<u32>,
    /// Population estimate by areal interpolation.
    pub population: f64,
}

/// The overlay of territories on the communes.
#[derive(Debug, Clone)]
pub struct Overlay {
    /// One per commune, in commune order.
    pub communes: Vec<CommuneOverlay>,
    /// Gap pieces of at least the sliver tolerance, largest first.
    pub gaps: Vec<Piece>,
    /// Overlap pieces of at least the sliver tolerance, by owners then largest first.
    pub overlaps: Vec<Piece>,
    /// Gap and overlap pieces under the tolerance, in the same orders.
    pub slivers: Vec<Piece>,
    /// The tolerance used, km².
    pub min_area_km2: f64,
}

/// What one CPTS declares: a list of communes or a drawn outline.
#[derive(Debug, Clone, Copy)]
pub enum Extent<'a> {
    /// The communes it declares (positions, sorted).
    Communes(&'a [u32]),
    /// Its outline, valid and oriented.
    Drawn(&'a MultiPolygon<f64>),
}

/// A fragment of one commune: its area and outline, and who covers it.
struct Fragment {
    commune: u32,
    owners: Vec<u32>,
    geometry: MultiPolygon<f64>,
    /// Geodesic area of each polygon of `geometry`, km².
    areas: Vec<f64>,
}

impl Overlay {
    /// Overlays the CPTS `extents` (one per CPTS, in CPTS order) on the communes.
    /// Pieces under `min_area_km2` are slivers.
    ///
    /// # Performance
    /// O(Σ commune × candidate intersections); communes in parallel.
    pub fn compute(communes: &Communes, extents: &[Extent<'_>], min_area_km2: f64) -> Overlay {
        Self::compute_with(communes, extents, min_area_km2, &Progress::default())
    }

    /// [`Overlay::compute`], counting each commune cut in `progress`.
    pub fn compute_with(
        communes: &Communes,
        extents: &[Extent<'_>],
        min_area_km2: f64,
        progress: &Progress,
    ) -> Overlay {
        let n = communes.len();
        let mut listed: Vec<Vec<u32>> = vec![Vec::new(); n];
        let mut drawn_ids = Vec::new();
        let mut drawn_geoms = Vec::new();
        for (k, e) in extents.iter().enumerate() {
            match e {
                Extent::Communes(members) => members
                    .iter()
                    .for_each(|&i| listed[i as usize].push(k as u32)),
                Extent::Drawn(g) => {
                    drawn_ids.push(k as u32);
                    drawn_geoms.push(*g);
                }
            }
        }
        let index = SpatialIndex::build(&drawn_geoms);
        // each territory cut once into small valid leaves, so that a commune is only
        // ever intersected with the few leaves near it; cut the first time a
        // commune needs it (a territory drawn along commune borders never does)
        let leaves: Vec<std::sync::OnceLock<Leaves>> = drawn_geoms
            .iter()
            .map(|_| std::sync::OnceLock::new())
            .collect();
        let leaves_of = |d: usize| -> &Leaves {
            leaves[d].get_or_init(|| {
                let mut out = Vec::new();
                decompose(drawn_geoms[d], &mut out, 0);
                let index = SpatialIndex::build(&out.iter().collect::<Vec<_>>());
                Leaves { leaves: out, index }
            })
        };
        let per_commune: Vec<(CommuneOverlay, Vec<Fragment>, f64)> = (0..n as u32)
            .into_par_iter()
            .map(|i| {
                progress.advance(1);
                let commune = &communes.get(i).geometry;
                let (rect, env) = match commune.bounding_rect() {
                    Some(r) => (
                        r,
                        AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                    ),
                    None => {
                        // no geometry: only list claims reach it, with no area
                        return (
                            CommuneOverlay {
                                shares: listed[i as usize].iter().map(|&k| (k, 0.0)).collect(),
                                covered_km2: 0.0,
                                overlap_km2: 0.0,
                            },
                            Vec::new(),
                            0.0,
                        );
                    }
                };
                // a territory whose clip to the commune's box is the whole box covers the
                // commune whole: no intersection, no area to measure
                let mut whole: Vec<u32> = listed[i as usize].clone();
                let mut partial = Vec::new();
                for d in index.query(&env) {
                    let g = drawn_geoms[d as usize];
                    if !crosses_box(g, &env) {
                        // no edge of the territory in the commune's box: whole or nothing
                        let corner = geo::Point::new(env.lower()[0], env.lower()[1]);
                        if g.contains(&corner) {
                            whole.push(drawn_ids[d as usize]);
                        }
                        continue;
                    }
                    // a territory drawn along commune borders only touches the
                    // communes of its border: tested on its own outline (its
                    // leaves' cut edges are the engine's, off the commune's
                    // vertices), such a commune is inside or outside whole
                    let outline: Vec<&Polygon<f64>> = g.0.iter().collect();
                    let c = contact(commune, &outline, rect);
                    if c != Contact::Crosses {
                        let inside: Vec<bool> =
                            commune.0.iter().map(|p| side_of(p, &outline, c)).collect();
                        if inside.iter().all(|&x| x) {
                            whole.push(drawn_ids[d as usize]);
                            continue;
                        }
                        if !inside.iter().any(|&x| x) {
                            continue;
                        }
                    }
                    let own = leaves_of(d as usize);
                    let near: Vec<&Polygon<f64>> = own
                        .index
                        .query(&env)
                        .into_iter()
                        .flat_map(|l| own.leaves[l as usize].0.iter())
                        .collect();
                    partial.push((drawn_ids[d as usize], near));
                }
                let table_area = communes.area_km2[i as usize];
                if partial.is_empty() {
                    return whole_commune(i, commune, table_area, whole, None);
                }
                // inside the overlay every area is geodesic (drawn edges can be km long);
                // results are then scaled to the commune's area of the tables
                let areas: Vec<f64> = commune.0.iter().map(geodesic_polygon_km2).collect();
                let area: f64 = areas.iter().sum();
                partial.sort_by_key(|p| p.0);
                let mut cells = split_commune(commune, areas, &partial);
                if let [cell] = &mut cells[..] {
                    if cell.uncut {
                        // every territory covers the commune whole or not at all
                        whole.extend_from_slice(&cell.owners);
                        let areas = std::mem::take(&mut cell.areas);
                        return whole_commune(i, commune, table_area, whole, Some(areas));
                    }
                }
                let (mut o, f) = commune_of_cells(i, area, &whole, cells);
                let scale = if area > 0.0 { table_area / area } else { 0.0 };
                o.shares.iter_mut().for_each(|s| s.1 *= scale);
                o.covered_km2 *= scale;
                o.overlap_km2 *= scale;
                (o, f, area)
            })
            .collect();
        let mut overlays = Vec::with_capacity(n);
        let mut fragments = Vec::new();
        let mut geodesic_areas = Vec::with_capacity(n);
        for (o, f, a) in per_commune {
            overlays.push(o);
            fragments.extend(f);
            geodesic_areas.push(a);
        }
        let mut by_owners: BTreeMap<Vec<u32>, Vec<Fragment>> = BTreeMap::new();
        for f in fragments {
            by_owners.entry(f.owners.clone()).or_default().push(f);
        }
        // each CPTS's extent as one shape: its drawing, or its communes dissolved
        let shapes: Vec<MultiPolygon<f64>> = extents
            .par_iter()
            .map(|e| match e {
                Extent::Drawn(g) => (*g).clone(),
                Extent::Communes(m) => dissolve(
                    &m.iter()
                        .map(|&i| &communes.get(i).geometry)
                        .collect::<Vec<_>>(),
                ),
            })
            .collect();
        let shape_refs: Vec<&MultiPolygon<f64>> = shapes.iter().collect();
        let shape_index = SpatialIndex::build(&shape_refs);
        // each owner set split into clusters of communes whose boxes touch: no piece
        // spans two clusters, and the national gap set (thousands of communes) is
        // worked on by every thread instead of one
        let groups: Vec<(Vec<u32>, Vec<Fragment>)> = by_owners
            .into_iter()
            .flat_map(|(owners, frags)| {
                clusters(frags, communes)
                    .into_iter()
                    .map(move |c| (owners.clone(), c))
            })
            .collect();
        progress.start("gap and overlap pieces", groups.len() as u64);
        let pieces: Vec<Vec<Piece>> = groups
            .into_par_iter()
            .map(|(owners, frags)| {
                progress.advance(1);
                pieces_of(
                    owners,
                    frags,
                    communes,
                    &geodesic_areas,
                    &shapes,
                    &shape_index,
                )
            })
            .collect();
        // the clusters of one owner set, back together in one order whatever the split
        let mut merged: Vec<Vec<Piece>> = Vec::new();
        for group in pieces {
            match merged.last_mut() {
                Some(last)
                    if last.first().map(|p| &p.owners) == group.first().map(|p| &p.owners) =>
                {
                    last.extend(group)
                }
                _ if group.is_empty() => {}
                _ => merged.push(group),
            }
        }
        let (mut gaps, mut overlaps, mut slivers) = (Vec::new(), Vec::new(), Vec::new());
        for mut group in merged {
            sort_pieces(&mut group);
            for p in group {
                if p.area_km2 < min_area_km2 {
                    slivers.push(p);
                } else if p.owners.is_empty() {
                    gaps.push(p);
                } else {
                    overlaps.push(p);
                }
            }
        }
        Overlay {
            communes: overlays,
            gaps,
            overlaps,
            slivers,
            min_area_km2,
        }
    }

    /// Distinct pairs of CPTS that overlap somewhere (above the sliver tolerance).
    pub fn overlap_pairs(&self) -> usize {
        let mut pairs = std::collections::BTreeSet::new();
        for p in &self.overlaps {
            for (a, &x) in p.owners.iter().enumerate() {
                for &y in &p.owners[a + 1..] {
                    pairs.insert((x, y));
                }
            }
        }
        pairs.len()
    }
}

/// Geodesic area in km² of a multipolygon: [`crate::area::geodesic_multi_polygon_km2`].
///
/// The overlay measures with geodesic edges, not with the straight edges of the
/// equal-area mapping used for communes: drawn outlines have edges kilometres long,
/// on which the two differ by up to L³·tan φ / 12R (about 1,500 m² for a 5 km edge).
pub fn geodesic_km2(m: &MultiPolygon<f64>) -> f64 {
    crate::area::geodesic_multi_polygon_km2(m)
}

/// [`geodesic_km2`] of one polygon: its exterior minus its holes.
pub fn geodesic_polygon_km2(p: &Polygon<f64>) -> f64 {
    crate::area::geodesic_polygon_km2(p)
}

/// For each commune, whether at least half of its area lies inside `outline` (the
/// study area given with `--area`). A commune no edge of the outline crosses is
/// inside or outside whole; the others are measured exactly (geodesic areas).
pub fn majority_inside(communes: &[&MultiPolygon<f64>], outline: &MultiPolygon<f64>) -> Vec<bool> {
    let mut leaves = Vec::new();
    decompose(outline, &mut leaves, 0);
    let refs: Vec<&MultiPolygon<f64>> = leaves.iter().collect();
    let index = SpatialIndex::build(&refs);
    communes
        .par_iter()
        .map(|c| {
            let Some(r) = c.bounding_rect() else {
                return false;
            };
            let env = AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
            if !crosses_box(outline, &env) {
                return outline.contains(&geo::Point::new(env.lower()[0], env.lower()[1]));
            }
            let near: Vec<Polygon<f64>> = index
                .query(&env)
                .into_iter()
                .flat_map(|l| leaves[l as usize].0.iter().cloned())
                .collect();
            let inside = geodesic_km2(&clean(c.intersection(&MultiPolygon::new(near))));
            inside >= 0.5 * geodesic_km2(c)
        })
        .collect()
}

/// A territory cut into leaves, and an R-tree over them.
struct Leaves {
    leaves: Vec<MultiPolygon<f64>>,
    index: SpatialIndex,
}

/// Cuts a territory into leaves of at most `LEAF_VERTICES` vertices by halving its
/// box along the longer side, with exact boolean operations (the leaves are valid
/// polygons; their union is the territory). O(v log² v).
fn decompose(g: &MultiPolygon<f64>, out: &mut Vec<MultiPolygon<f64>>, depth: usize) {
    const LEAF_VERTICES: usize = 256;
    let vertices: usize =
        g.0.iter()
            .map(|p| p.exterior().0.len() + p.interiors().iter().map(|h| h.0.len()).sum::<usize>())
            .sum();
    let Some(r) = g.bounding_rect() else { return };
    if vertices <= LEAF_VERTICES || depth >= 24 {
        out.push(g.clone());
        return;
    }
    let (min, max) = (r.min(), r.max());
    let pad = 1e-6 * (1.0 + max.x.abs().max(max.y.abs()));
    let (a, b) = if r.width() >= r.height() {
        let mid = (min.x + max.x) / 2.0;
        (
            geo::Rect::new((min.x - pad, min.y - pad), (mid, max.y + pad)),
            geo::Rect::new((mid, min.y - pad), (max.x + pad, max.y + pad)),
        )
    } else {
        let mid = (min.y + max.y) / 2.0;
        (
            geo::Rect::new((min.x - pad, min.y - pad), (max.x + pad, mid)),
            geo::Rect::new((min.x - pad, mid), (max.x + pad, max.y + pad)),
        )
    };
    for half in [a, b] {
        let part = clean(g.intersection(&half.to_polygon()));
        if !part.0.is_empty() {
            decompose(&part, out, depth + 1);
        }
    }
}

/// True when an edge of `g` may pass through the box (a conservative test on the
/// edges' own boxes: false means certainly not).
fn crosses_box(g: &MultiPolygon<f64>, b: &AABB<[f64; 2]>) -> bool {
    g.0.iter().any(|p| polygon_crosses_box(p, b))
}

/// [`crosses_box`] for one polygon.
fn polygon_crosses_box(p: &Polygon<f64>, b: &AABB<[f64; 2]>) -> bool {
    let (lo, hi) = (b.lower(), b.upper());
    std::iter::once(p.exterior()).chain(p.interiors()).any(|r| {
        r.0.windows(2).any(|w| {
            w[0].x.max(w[1].x) >= lo[0]
                && w[0].x.min(w[1].x) <= hi[0]
                && w[0].y.max(w[1].y) >= lo[1]
                && w[0].y.min(w[1].y) <= hi[1]
        })
    })
}

/// How a territory's boundary (`near`) meets a cell's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Contact {
    /// No edge of the territory meets an edge of the cell.
    None,
    /// They meet, but the territory's boundary never enters the cell's interior:
    /// its edges there are edges of the cell (the same two vertices) or touch the
    /// cell at a point and go away outside it. A territory drawn along commune
    /// borders meets most communes of its border so.
    Along,
    /// The territory's boundary enters the cell: a boolean operation is needed.
    Crosses,
}

/// How the territory's boundary (`near`) meets the cell's (robust predicates and
/// geo's segment intersection; only the territory's edges whose box meets the
/// cell's box `r` are tested). [`Contact::None`] and [`Contact::Along`] leave each
/// polygon of the cell wholly inside or wholly outside the territory: no boolean
/// operation. About 40 % of the cuts the box test lets through leave a side under
/// the noise, most without any crossing; territories drawn along commune borders
/// (as planners draw them) only touch the communes of their border.
fn contact(cell: &MultiPolygon<f64>, near: &[&Polygon<f64>], r: geo::Rect<f64>) -> Contact {
    use geo::coordinate_position::{CoordPos, CoordinatePosition};
    use geo::line_intersection::{line_intersection, LineIntersection};
    let box_of = |a: geo::Coord<f64>, b: geo::Coord<f64>| {
        [a.x.min(b.x), a.y.min(b.y), a.x.max(b.x), a.y.max(b.y)]
    };
    let cell_edges: Vec<(geo::Line<f64>, [f64; 4])> = cell
        .0
        .iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .flat_map(|ring| {
            ring.0
                .windows(2)
                .filter(|w| w[0] != w[1])
                .map(|w| (geo::Line::new(w[0], w[1]), box_of(w[0], w[1])))
        })
        .collect();
    let inside_cell = |c: geo::Coord<f64>| cell.coordinate_position(&c) == CoordPos::Inside;
    let mid = |a: geo::Coord<f64>, b: geo::Coord<f64>| geo::Coord {
        x: 0.5 * (a.x + b.x),
        y: 0.5 * (a.y + b.y),
    };
    let in_box = |b: [f64; 4]| {
        !(b[2] < r.min().x || b[0] > r.max().x || b[3] < r.min().y || b[1] > r.max().y)
    };
    let mut met_any = false;
    for ring in near
        .iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
    {
        let mut met = false;
        let mut reaches = false;
        for w in ring.0.windows(2) {
            let (a, b) = (w[0], w[1]);
            let eb = box_of(a, b);
            if a == b || !in_box(eb) {
                continue;
            }
            reaches = true;
            let edge = geo::Line::new(a, b);
            // where along this edge it meets the cell's edges: points it touches,
            // stretches it shares (collinear); a proper crossing ends the search
            let along = |c: &geo::Coord<f64>| {
                let (dx, dy) = (b.x - a.x, b.y - a.y);
                if dx.abs() >= dy.abs() {
                    (c.x - a.x) / dx
                } else {
                    (c.y - a.y) / dy
                }
            };
            let mut identical = false;
            let mut stops: Vec<geo::Coord<f64>> = Vec::new();
            let mut shared: Vec<(f64, f64)> = Vec::new();
            for (e, cb) in &cell_edges {
                if cb[0] > eb[2] || eb[0] > cb[2] || cb[1] > eb[3] || eb[1] > cb[3] {
                    continue;
                }
                match line_intersection(*e, edge) {
                    None => {}
                    Some(LineIntersection::Collinear { intersection }) => {
                        if (e.start == a && e.end == b) || (e.start == b && e.end == a) {
                            identical = true;
                            break;
                        }
                        let (p, q) = (along(&intersection.start), along(&intersection.end));
                        shared.push((p.min(q), p.max(q)));
                        stops.extend([intersection.start, intersection.end]);
                    }
                    Some(LineIntersection::SinglePoint {
                        is_proper: true, ..
                    }) => return Contact::Crosses,
                    Some(LineIntersection::SinglePoint { intersection, .. }) => {
                        stops.push(intersection)
                    }
                }
            }
            if identical {
                // one of the cell's own edges
                met = true;
                continue;
            }
            if stops.is_empty() {
                continue;
            }
            met = true;
            // between the points where it meets the cell, the edge is inside or
            // outside the cell whole (or on a shared stretch): the midpoint of each
            // stretch not shared tells which
            stops.push(a);
            stops.push(b);
            stops.sort_by(|p, q| along(p).total_cmp(&along(q)));
            stops.dedup();
            for st in stops.windows(2) {
                let (p, q) = (along(&st[0]), along(&st[1]));
                if shared.iter().any(|&(lo, hi)| lo <= p && q <= hi) {
                    continue;
                }
                if inside_cell(mid(st[0], st[1])) {
                    return Contact::Crosses;
                }
            }
        }
        if met {
            met_any = true;
        } else if reaches && ring.0.first().is_some_and(|&c| inside_cell(c)) {
            // a ring of the territory inside the cell without touching its edges
            return Contact::Crosses;
        }
    }
    if met_any {
        Contact::Along
    } else {
        Contact::None
    }
}

/// Whether polygon `p` lies inside the territory (`near`) when their boundaries
/// meet as `contact` says (not [`Contact::Crosses`]): without contact any vertex
/// of `p` tells (none is on the territory's boundary); along it, a point strictly
/// inside `p` does.
fn side_of(p: &Polygon<f64>, near: &[&Polygon<f64>], contact: Contact) -> bool {
    let point = match contact {
        Contact::None => p.exterior().0.first().map(|&c| geo::Point::from(c)),
        _ => p.interior_point(),
    };
    point.is_some_and(|c| near.iter().any(|t| t.contains(&c)))
}

/// A commune covered whole by each of `owners` (sorted): shares and covered area are
/// the commune's, and with two or more owners the whole commune is one overlap
/// fragment. The geodesic area reported is 0 when there is no fragment to need it.
/// `areas`: the geodesic areas of the commune's polygons, if already measured.
fn whole_commune(
    i: u32,
    commune: &MultiPolygon<f64>,
    area: f64,
    mut owners: Vec<u32>,
    areas: Option<Vec<f64>>,
) -> (CommuneOverlay, Vec<Fragment>, f64) {
    owners.sort_unstable();
    let overlap_km2 = if owners.len() > 1 { area } else { 0.0 };
    let covered_km2 = if owners.is_empty() { 0.0 } else { area };
    let mut fragments = Vec::new();
    // fragments need the commune's geodesic area for their population estimate
    let mut geodesic = 0.0;
    if owners.len() != 1 {
        // a white commune (no owner) or an overlapped one: the whole commune is a fragment
        let areas = areas.unwrap_or_else(|| commune.0.iter().map(geodesic_polygon_km2).collect());
        geodesic = areas.iter().sum();
        fragments.push(Fragment {
            commune: i,
            owners: owners.clone(),
            geometry: commune.clone(),
            areas,
        });
    }
    let o = CommuneOverlay {
        shares: owners.iter().map(|&k| (k, area)).collect(),
        covered_km2,
        overlap_km2,
    };
    (o, fragments, geodesic)
}

/// Orients polygons and drops empty ones.
fn clean(m: MultiPolygon<f64>) -> MultiPolygon<f64> {
    MultiPolygon::new(
        m.0.into_iter()
            .filter(|p| p.exterior().0.len() >= 4)
            .map(|p| {
                let (ext, holes) = p.into_inner();
                oriented(Polygon::new(
                    ext,
                    holes.into_iter().filter(|h| h.0.len() >= 4).collect(),
                ))
            })
            .filter(|p| crate::area::polygon_km2(p) > 0.0)
            .collect(),
    )
}

/// A cell of one commune's arrangement: the part covered by exactly `owners` among
/// the territories crossing the commune (those covering it whole come on top).
struct Cell {
    /// Territories covering the cell (CPTS positions, ascending).
    owners: Vec<u32>,
    geometry: MultiPolygon<f64>,
    /// Geodesic area of each polygon of `geometry`, km².
    areas: Vec<f64>,
    /// True while the cell is the commune itself, never cut.
    uncut: bool,
}

impl Cell {
    fn area(&self) -> f64 {
        self.areas.iter().sum()
    }
}

/// Splits a commune by each territory crossing it (`partial`, by ascending CPTS):
/// every cell is cut in two by the next territory, inside and outside, from one
/// overlay graph. A cell the territory's edges do not reach is inside or outside
/// whole without any boolean operation, and a side under [`NOISE`] × the commune's
/// area is rounding: the cell stays whole on the other side. Cells are the
/// non-empty parts of the arrangement, at most one per owner set.
///
/// `areas`: the geodesic area of each of the commune's polygons. Both sides of a
/// cut are measured, never one as the cell's area minus the other: the engine
/// puts the crossing points on straight lines of longitude/latitude, and with
/// geodesic edges a vertex added on an edge of a few km moves the area by up to
/// 1e-5 of the cell's.
fn split_commune(
    commune: &MultiPolygon<f64>,
    areas: Vec<f64>,
    partial: &[(u32, Vec<&Polygon<f64>>)],
) -> Vec<Cell> {
    let area: f64 = areas.iter().sum();
    let noise = area * NOISE;
    let mut cells = vec![Cell {
        owners: Vec::new(),
        areas,
        geometry: commune.clone(),
        uncut: true,
    }];
    for (k, territory) in partial {
        let mut next = Vec::with_capacity(cells.len() + 1);
        for mut cell in cells {
            let Some(r) = cell.geometry.bounding_rect() else {
                continue;
            };
            let env = AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
            // only the territory's polygons that reach the cell's box can cover any of it
            let near: Vec<&Polygon<f64>> = territory
                .iter()
                .copied()
                .filter(|p| {
                    p.bounding_rect().is_some_and(|b| {
                        b.min().x <= r.max().x
                            && b.max().x >= r.min().x
                            && b.min().y <= r.max().y
                            && b.max().y >= r.min().y
                    })
                })
                .collect();
            if near.is_empty() {
                next.push(cell);
                continue;
            }
            if !near.iter().any(|p| polygon_crosses_box(p, &env)) {
                // no edge of the territory in the cell's box: the box, and the cell,
                // lie inside or outside whole; any vertex tells which
                if cell
                    .geometry
                    .0
                    .first()
                    .is_some_and(|p| side_of(p, &near, Contact::None))
                {
                    cell.owners.push(*k);
                }
                next.push(cell);
                continue;
            }
            let contact = contact(&cell.geometry, &near, r);
            let ((inside, inside_areas), (outside, outside_areas)) = if contact == Contact::Crosses
            {
                let (inside, outside) = split(&cell.geometry, &near, r);
                (measured(inside), measured(outside))
            } else {
                // the territory's boundary does not enter the cell: each polygon of
                // the cell lies inside or outside whole; nothing to cut or measure.
                // Without contact any vertex tells which (none is on the boundary);
                // along it, a point strictly inside the polygon does
                let (mut i, mut o) = ((Vec::new(), Vec::new()), (Vec::new(), Vec::new()));
                for (p, &a) in cell.geometry.0.iter().zip(&cell.areas) {
                    let inside = side_of(p, &near, contact);
                    let side = if inside { &mut i } else { &mut o };
                    side.0.push(p.clone());
                    side.1.push(a);
                }
                ((MultiPolygon::new(i.0), i.1), (MultiPolygon::new(o.0), o.1))
            };
            let inside_area: f64 = inside_areas.iter().sum();
            let outside_area: f64 = outside_areas.iter().sum();
            if outside_area <= noise {
                if inside_area > noise {
                    cell.owners.push(*k);
                }
                next.push(cell);
            } else if inside_area <= noise {
                next.push(cell);
            } else {
                let mut owners = cell.owners.clone();
                owners.push(*k);
                next.push(Cell {
                    owners,
                    geometry: inside,
                    areas: inside_areas,
                    uncut: false,
                });
                next.push(Cell {
                    owners: cell.owners,
                    geometry: outside,
                    areas: outside_areas,
                    uncut: false,
                });
            }
        }
        cells = next;
    }
    cells
}

/// One commune's coverage from its cells (geodesic km², not yet scaled to the
/// tables) and its fragments: its white cell and its cells of two or more owners.
/// `whole`: the CPTS covering the whole commune.
fn commune_of_cells(
    i: u32,
    area: f64,
    whole: &[u32],
    cells: Vec<Cell>,
) -> (CommuneOverlay, Vec<Fragment>) {
    let mut shares: BTreeMap<u32, f64> = whole.iter().map(|&k| (k, area)).collect();
    let (mut covered_km2, mut overlap_km2) = (0.0, 0.0);
    let mut fragments = Vec::new();
    for cell in cells {
        let a = cell.area();
        for &k in &cell.owners {
            *shares.entry(k).or_default() += a;
        }
        let mut owners = cell.owners;
        owners.extend_from_slice(whole);
        owners.sort_unstable();
        if !owners.is_empty() {
            covered_km2 += a;
        }
        if owners.len() > 1 {
            overlap_km2 += a;
        }
        if owners.len() != 1 {
            fragments.push(Fragment {
                commune: i,
                owners,
                geometry: cell.geometry,
                areas: cell.areas,
            });
        }
    }
    (
        CommuneOverlay {
            shares: shares.into_iter().collect(),
            covered_km2,
            overlap_km2,
        },
        fragments,
    )
}

/// The engine's output with the geodesic area of each polygon, km²: rings of fewer
/// than four points and polygons of no area dropped. i_overlay already orients
/// exteriors counter-clockwise and holes clockwise, as maillage does (tested).
fn measured(m: MultiPolygon<f64>) -> (MultiPolygon<f64>, Vec<f64>) {
    let mut areas = Vec::with_capacity(m.0.len());
    let polygons =
        m.0.into_iter()
            .filter(|p| p.exterior().0.len() >= 4)
            .filter_map(|p| {
                let (ext, holes) = p.into_inner();
                let p = Polygon::new(ext, holes.into_iter().filter(|h| h.0.len() >= 4).collect());
                let a = geodesic_polygon_km2(&p);
                (a > 0.0).then(|| {
                    areas.push(a);
                    p
                })
            })
            .collect();
    (MultiPolygon::new(polygons), areas)
}

/// The pieces of one owner set (none: gaps), computed globally from the original
/// coordinates — never by dissolving per-commune fragments, whose shared edges
/// each operation rounds differently — then given their communes and population
/// from the fragments that fall in them.
///
/// Region: the communes the fragments lie in, intersected with every owner's
/// extent, minus every other extent that reaches it.
fn pieces_of(
    owners: Vec<u32>,
    frags: Vec<Fragment>,
    communes: &Communes,
    geodesic_areas: &[f64],
    shapes: &[MultiPolygon<f64>],
    index: &SpatialIndex,
) -> Vec<Piece> {
    let mut touched: Vec<u32> = frags.iter().map(|f| f.commune).collect();
    touched.sort_unstable();
    touched.dedup();
    let communes_polygons: Vec<&Polygon<f64>> = touched
        .iter()
        .flat_map(|&i| communes.get(i).geometry.0.iter())
        .collect();
    let Some(bounds) = communes_polygons
        .iter()
        .filter_map(|p| p.bounding_rect())
        .reduce(|a, b| {
            geo::Rect::new(
                (a.min().x.min(b.min().x), a.min().y.min(b.min().y)),
                (a.max().x.max(b.max().x), a.max().y.max(b.max().y)),
            )
        })
    else {
        return Vec::new();
    };
    let env = AABB::from_corners(
        [bounds.min().x, bounds.min().y],
        [bounds.max().x, bounds.max().y],
    );
    // each step one operation, the communes and the territories each counted as
    // their union (non-zero fill), every territory cut to the communes' box first
    let mut region: Option<MultiPolygon<f64>> = None;
    // what the next step cuts: the region so far, or the communes themselves
    fn subject_of<'a>(
        region: &'a Option<MultiPolygon<f64>>,
        communes: &[&'a Polygon<f64>],
    ) -> Vec<&'a Polygon<f64>> {
        match region {
            Some(r) => r.0.iter().collect(),
            None => communes.to_vec(),
        }
    }
    for &k in &owners {
        let subject = subject_of(&region, &communes_polygons);
        let owner: Vec<&Polygon<f64>> = shapes[k as usize].0.iter().collect();
        region = Some(clean(union_op(
            &subject,
            &owner,
            bounds,
            OverlayRule::Intersect,
        )));
    }
    let others: Vec<&Polygon<f64>> = index
        .query(&env)
        .into_iter()
        .filter(|k| owners.binary_search(k).is_err())
        .flat_map(|k| shapes[k as usize].0.iter())
        .collect();
    let region = match (region, others.is_empty()) {
        (Some(r), true) => r,
        (None, true) => clean(union_op(
            &communes_polygons,
            &[],
            bounds,
            OverlayRule::Union,
        )),
        (r, false) => clean(union_op(
            &subject_of(&r, &communes_polygons),
            &others,
            bounds,
            OverlayRule::Difference,
        )),
    };
    let mut pieces: Vec<Piece> = region
        .0
        .into_iter()
        .map(|p| Piece {
            owners: owners.clone(),
            area_km2: geodesic_polygon_km2(&p),
            geometry: MultiPolygon::new(vec![p]),
            communes: Vec::new(),
            population: 0.0,
        })
        .collect();
    if pieces.is_empty() {
        return pieces;
    }
    let piece_refs: Vec<&MultiPolygon<f64>> = pieces.iter().map(|p| &p.geometry).collect();
    let piece_index = SpatialIndex::build(&piece_refs);
    for f in &frags {
        // each polygon of a fragment lies in one piece: find it by an interior point
        // (R-tree candidates, then point in polygon)
        for (p, &a) in f.geometry.0.iter().zip(&f.areas) {
            let Some(fr) = p.bounding_rect() else {
                continue;
            };
            let candidates = piece_index.query(&AABB::from_corners(
                [fr.min().x, fr.min().y],
                [fr.max().x, fr.max().y],
            ));
            let k = match candidates[..] {
                [] => continue,
                // the only piece near: no point to place (the nearest rule gives it too)
                [k] => k as usize,
                _ => {
                    let Some(pt) = p.interior_point() else {
                        continue;
                    };
                    let found = candidates
                        .iter()
                        .map(|&k| k as usize)
                        .find(|&k| pieces[k].geometry.contains(&pt))
                        .or_else(|| nearest(&pieces, &candidates, p));
                    let Some(k) = found else { continue };
                    k
                }
            };
            let piece = &mut pieces[k];
            let i = f.commune as usize;
            if geodesic_areas[i] > 0.0 {
                piece.population += communes.population[i] as f64 * a / geodesic_areas[i];
            }
            if !piece.communes.contains(&f.commune) {
                piece.communes.push(f.commune);
            }
        }
    }
    for p in &mut pieces {
        p.communes.sort_unstable();
    }
    // pieces of numerically no area (degenerate rings of the engine) are not even slivers
    pieces.retain(|p| p.area_km2 > 1e-9);
    pieces
}

/// The pieces of one owner set in their output order: largest first, then by communes.
fn sort_pieces(pieces: &mut [Piece]) {
    pieces.sort_by(|a, b| {
        b.area_km2
            .total_cmp(&a.area_km2)
            .then_with(|| a.communes.cmp(&b.communes))
    });
}

/// Splits fragments into clusters whose communes' boxes touch one another (by
/// chains), in the order of each cluster's first commune. Two clusters are apart:
/// no piece can join them.
fn clusters(frags: Vec<Fragment>, communes: &Communes) -> Vec<Vec<Fragment>> {
    let mut touched: Vec<u32> = frags.iter().map(|f| f.commune).collect();
    touched.sort_unstable();
    touched.dedup();
    if touched.len() < 2 {
        return vec![frags];
    }
    let geoms: Vec<&MultiPolygon<f64>> =
        touched.iter().map(|&i| &communes.get(i).geometry).collect();
    let index = SpatialIndex::build(&geoms);
    // positions in `touched` linked when their boxes touch
    let touching = Adjacency::from_pairs(touched.len(), &index.candidate_pairs());
    let all: Vec<u32> = (0..touched.len() as u32).collect();
    let components = touching.components(&all);
    let mut component_of = vec![0; touched.len()];
    for (c, members) in components.iter().enumerate() {
        for &m in members {
            component_of[m as usize] = c;
        }
    }
    let mut out: Vec<Vec<Fragment>> = components.iter().map(|_| Vec::new()).collect();
    for f in frags {
        // `touched` holds every fragment's commune: the search finds it
        let at = touched.binary_search(&f.commune).unwrap_or(0);
        out[component_of[at]].push(f);
    }
    out
}

/// Among the candidates, the piece whose envelope centre is closest to the polygon's
/// (for fragments whose interior point fell on a piece boundary after rounding).
fn nearest(pieces: &[Piece], candidates: &[u32], p: &Polygon<f64>) -> Option<usize> {
    let c = p.bounding_rect()?.center();
    candidates
        .iter()
        .map(|&k| k as usize)
        .filter_map(|k| {
            pieces[k]
                .geometry
                .bounding_rect()
                .map(|r| (k, (r.center() - c).x.hypot((r.center() - c).y)))
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(k, _)| k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    /// Territories drawn along a commune's border only touch it: sorted whole
    /// without the engine, inside or outside by a point strictly inside the
    /// commune, also when their vertices differ along the shared border. A
    /// territory that reaches inside still goes to the engine.
    #[test]
    fn territories_drawn_along_commune_borders_are_not_cut() {
        // the commune: a square with a vertex on each side's middle
        let commune = MultiPolygon::new(vec![polygon![
            (x: 0.0, y: 0.0), (x: 0.5, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 0.5),
            (x: 1.0, y: 1.0), (x: 0.5, y: 1.0), (x: 0.0, y: 1.0), (x: 0.0, y: 0.5)
        ]]);
        let r = commune.bounding_rect().unwrap();
        let areas: Vec<f64> = commune.0.iter().map(geodesic_polygon_km2).collect();
        // a territory holding it and its eastern neighbour, along its edges
        let holding = polygon![
            (x: 0.0, y: 0.0), (x: 0.5, y: 0.0), (x: 1.0, y: 0.0), (x: 2.0, y: 0.0),
            (x: 2.0, y: 1.0), (x: 1.0, y: 1.0), (x: 0.5, y: 1.0), (x: 0.0, y: 1.0), (x: 0.0, y: 0.5)
        ];
        // its eastern neighbour alone: shares the edge x = 1, lies outside
        let beside = polygon![
            (x: 1.0, y: 0.0), (x: 2.0, y: 0.0), (x: 2.0, y: 1.0), (x: 1.0, y: 1.0), (x: 1.0, y: 0.5)
        ];
        // a neighbour touching at one corner only
        let corner =
            polygon![(x: 1.0, y: 1.0), (x: 2.0, y: 1.0), (x: 2.0, y: 2.0), (x: 1.0, y: 2.0)];
        for (t, inside) in [(&holding, true), (&beside, false), (&corner, false)] {
            assert_eq!(contact(&commune, &[t], r), Contact::Along, "{t:?}");
            let cells = split_commune(&commune, areas.clone(), &[(3, vec![t])]);
            assert_eq!(cells.len(), 1);
            assert!(cells[0].uncut, "not cut");
            assert_eq!(cells[0].owners, if inside { vec![3] } else { vec![] });
        }
        // the same border, then a chord through the commune: crosses
        let chord = polygon![
            (x: 0.5, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 0.5), (x: 0.5, y: 1.0), (x: 0.0, y: 1.0),
            (x: -1.0, y: 1.0), (x: -1.0, y: 0.0)
        ];
        assert_eq!(contact(&commune, &[&chord], r), Contact::Crosses);
        // a territory edge entering at a commune vertex and ending inside
        let spike = polygon![(x: 0.5, y: 0.0), (x: 0.5, y: 0.5), (x: 0.6, y: -0.5)];
        assert_eq!(contact(&commune, &[&spike], r), Contact::Crosses);
        // along the border with vertices of its own (0.25, none at 0.5): still along
        let off = polygon![(x: 1.0, y: 0.0), (x: 2.0, y: 0.0), (x: 2.0, y: 1.0), (x: 1.0, y: 1.0), (x: 1.0, y: 0.25)];
        assert_eq!(contact(&commune, &[&off], r), Contact::Along);
        let cells = split_commune(&commune, areas.clone(), &[(3, vec![&off])]);
        assert!(cells.len() == 1 && cells[0].uncut && cells[0].owners.is_empty());
        // a hole of the territory inside the commune, touching nothing
        let holed = Polygon::new(
            holding.exterior().clone(),
            vec![geo::LineString::from(vec![
                (0.2, 0.2),
                (0.2, 0.4),
                (0.4, 0.4),
                (0.4, 0.2),
                (0.2, 0.2),
            ])],
        );
        assert_eq!(contact(&commune, &[&holed], r), Contact::Crosses);
    }

    /// A commune of two islands and a territory holding one of them whole: its
    /// edges cross the commune's box but no edge of the commune, so the islands are
    /// sorted without the engine, each by one of its own vertices.
    #[test]
    fn islands_are_sorted_whole_when_no_edge_crosses() {
        let commune = MultiPolygon::new(vec![
            polygon![(x: 5.0, y: 45.0), (x: 5.01, y: 45.0), (x: 5.01, y: 45.01), (x: 5.0, y: 45.01)],
            polygon![(x: 5.03, y: 45.0), (x: 5.04, y: 45.0), (x: 5.04, y: 45.01), (x: 5.03, y: 45.01)],
        ]);
        let areas: Vec<f64> = commune.0.iter().map(geodesic_polygon_km2).collect();
        let territory =
            polygon![(x: 4.9, y: 44.9), (x: 5.02, y: 44.9), (x: 5.02, y: 45.1), (x: 4.9, y: 45.1)];
        let r = commune.bounding_rect().unwrap();
        assert_eq!(contact(&commune, &[&territory], r), Contact::None);
        let cells = split_commune(&commune, areas.clone(), &[(7, vec![&territory])]);
        assert_eq!(cells.len(), 2);
        let inside = cells.iter().find(|c| c.owners == [7]).unwrap();
        let outside = cells.iter().find(|c| c.owners.is_empty()).unwrap();
        assert_eq!(inside.geometry.0, vec![commune.0[0].clone()]);
        assert_eq!(outside.geometry.0, vec![commune.0[1].clone()]);
        assert_eq!(
            (inside.areas.clone(), outside.areas.clone()),
            (vec![areas[0]], vec![areas[1]])
        );
        // a territory crossing the first island is cut by the engine instead
        let crossing = polygon![(x: 4.9, y: 44.9), (x: 5.005, y: 44.9), (x: 5.005, y: 45.1), (x: 4.9, y: 45.1)];
        assert_eq!(contact(&commune, &[&crossing], r), Contact::Crosses);
        let cells = split_commune(&commune, areas.clone(), &[(7, vec![&crossing])]);
        let half: f64 = cells
            .iter()
            .filter(|c| c.owners == [7])
            .flat_map(|c| c.areas.iter())
            .sum();
        assert!(
            (half / areas[0] - 0.5).abs() < 1e-3,
            "{half} of {}",
            areas[0]
        );
    }
}
