//! From longitude/latitude to the picture: each commune's **frame** (metropolitan
//! France in Lambert-93, each overseas département in its own UTM zone, as Admin
//! Express does), the arcs projected once, then fitted to boxes on the page and
//! simplified for the pixel size.

use geo::{Coord, MultiPolygon};
use rayon::prelude::*;

use super::simplify::{radial_into, Pt, Simplifier};
use crate::crs::Crs;
use crate::error::CrsError;
use crate::topology::{ArcRef, Topology};

/// A part of the country drawn with one projection: metropolitan France, or one
/// overseas département.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Frame {
    /// `metro`, or the overseas département code (`971`…`976`).
    pub key: String,
    /// Its name on the map.
    pub name: String,
    /// The EPSG code of its projection.
    pub epsg: u32,
}

/// The frame of a département code (see [`crate::crs::departement_crs`]).
pub fn frame_of_departement(dep: &str) -> Frame {
    let (epsg, name) = crate::crs::departement_crs(dep);
    let key = if epsg == 2154 { "metro" } else { dep };
    Frame {
        key: key.to_owned(),
        name: name.to_owned(),
        epsg,
    }
}

/// An axis-aligned box `[xmin, ymin, xmax, ymax]`.
pub type Bounds = [f64; 4];

fn grow(b: &mut Bounds, p: Pt) {
    b[0] = b[0].min(p[0]);
    b[1] = b[1].min(p[1]);
    b[2] = b[2].max(p[0]);
    b[3] = b[3].max(p[1]);
}

const EMPTY: Bounds = [
    f64::INFINITY,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NEG_INFINITY,
];

/// How one frame's projected metres land on the page: `px = x0 + (x − mx) · s`,
/// `py = y0 − (y − my) · s` (y grows downwards on screen).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    /// The box on the page, pixels.
    pub page: Bounds,
    /// Pixels per metre.
    pub scale: f64,
    origin: [f64; 4],
}

impl Placement {
    /// Fits `extent` (metres) centred in the page box `page` (pixels).
    pub fn fit(extent: Bounds, page: Bounds) -> Placement {
        let (w, h) = (
            (extent[2] - extent[0]).max(1.0),
            (extent[3] - extent[1]).max(1.0),
        );
        let (pw, ph) = (page[2] - page[0], page[3] - page[1]);
        let scale = (pw / w).min(ph / h);
        let (cx, cy) = ((extent[0] + extent[2]) / 2.0, (extent[1] + extent[3]) / 2.0);
        let (px, py) = ((page[0] + page[2]) / 2.0, (page[1] + page[3]) / 2.0);
        Placement {
            page,
            scale,
            origin: [cx, cy, px, py],
        }
    }

    /// Metres to pixels.
    pub fn to_page(&self, p: Pt) -> Pt {
        let [cx, cy, px, py] = self.origin;
        [px + (p[0] - cx) * self.scale, py - (p[1] - cy) * self.scale]
    }

    /// The box the content occupies on the page, pixels.
    pub fn content(&self, extent: Bounds) -> Bounds {
        let a = self.to_page([extent[0], extent[3]]);
        let b = self.to_page([extent[2], extent[1]]);
        [a[0], a[1], b[0], b[1]]
    }
}

/// The commune layer ready to draw: its topology, each face's frame, and each
/// frame's extent.
pub struct Canvas {
    /// The topology of the communes (face = commune position).
    pub topology: Topology,
    /// The frames present, main one (most communes) first, then by key.
    pub frames: Vec<Frame>,
    /// Each face's frame (position in `frames`).
    pub face_frame: Vec<usize>,
    /// Each frame's extent in longitude/latitude.
    lon_lat: Vec<Bounds>,
    /// Each arc's frame.
    arc_frame: Vec<usize>,
    projections: Vec<Crs>,
}

/// The arcs of a [`Canvas`] simplified for one scale and projected, in metres.
pub struct Projected {
    /// Each arc, projected metres of its frame.
    pub arcs: Vec<Vec<Pt>>,
    /// Each frame's extent, projected metres.
    pub extents: Vec<Bounds>,
}

/// Metres per degree of latitude (mean, WGS84), for simplifying in degrees.
const M_PER_DEGREE: f64 = 111_195.0;

impl Canvas {
    /// Builds the topology of `geometries` (faces, longitude/latitude, none
    /// empty); `departement` gives each face's département code.
    ///
    /// # Errors
    /// A sentence when a frame's projection cannot be set up.
    pub fn new(
        geometries: &[&MultiPolygon<f64>],
        departement: impl Fn(usize) -> String,
    ) -> Result<Canvas, CrsError> {
        let topology = Topology::build(geometries);
        let mut frames: Vec<Frame> = Vec::new();
        let mut counts: Vec<usize> = Vec::new();
        let mut face_frame = Vec::with_capacity(geometries.len());
        for i in 0..geometries.len() {
            let f = frame_of_departement(&departement(i));
            let k = match frames.iter().position(|x| *x == f) {
                Some(k) => k,
                None => {
                    frames.push(f);
                    counts.push(0);
                    frames.len() - 1
                }
            };
            counts[k] += 1;
            face_frame.push(k);
        }
        // main frame first (most communes), then by key (971, 972…)
        let mut order: Vec<usize> = (0..frames.len()).collect();
        let main = (0..frames.len())
            .max_by(|&a, &b| counts[a].cmp(&counts[b]).then(frames[b].cmp(&frames[a])));
        order.sort_by(|&a, &b| {
            (Some(b) == main)
                .cmp(&(Some(a) == main))
                .then(frames[a].cmp(&frames[b]))
        });
        let mut rank = vec![0; frames.len()];
        for (r, &k) in order.iter().enumerate() {
            rank[k] = r;
        }
        let frames: Vec<Frame> = order.iter().map(|&k| frames[k].clone()).collect();
        let face_frame: Vec<usize> = face_frame.into_iter().map(|k| rank[k]).collect();
        let projections = frames
            .iter()
            .map(|f| Crs::from_epsg(f.epsg))
            .collect::<Result<Vec<_>, _>>()?;
        let arc_frame: Vec<usize> = (0..topology.arc_count())
            .map(|k| face_frame[topology.left[k] as usize])
            .collect();
        let mut lon_lat = vec![EMPTY; frames.len()];
        for (k, &f) in arc_frame.iter().enumerate() {
            for c in topology.arc(k) {
                grow(&mut lon_lat[f], [c.x, c.y]);
            }
        }
        Ok(Canvas {
            topology,
            frames,
            face_frame,
            lon_lat,
            arc_frame,
            projections,
        })
    }

    /// Each frame's extent in projected metres, approximately (from its
    /// longitude/latitude box): enough to choose a scale before simplifying.
    pub fn approximate_extents(&self) -> Vec<Bounds> {
        self.lon_lat
            .iter()
            .zip(&self.projections)
            .map(|(b, crs)| {
                let mut pts: Vec<Coord<f64>> = Vec::new();
                for i in 0..=4 {
                    for j in 0..=4 {
                        let (u, v) = (f64::from(i) / 4.0, f64::from(j) / 4.0);
                        pts.push(Coord {
                            x: b[0] + (b[2] - b[0]) * u,
                            y: b[1] + (b[3] - b[1]) * v,
                        });
                    }
                }
                let mut e = EMPTY;
                if crs.project(&mut pts).is_ok() {
                    pts.iter().for_each(|c| grow(&mut e, [c.x, c.y]));
                }
                e
            })
            .collect()
    }

    /// Every arc simplified so that no detail under `tolerance` pixels is kept
    /// where frame `f` is drawn at `px_per_m[f]` pixels per metre, then projected.
    /// Simplification runs on longitude/latitude scaled to local metres (a radial
    /// filter, then Visvalingam–Whyatt), so that only the kept vertices are
    /// projected.
    ///
    /// # Errors
    /// A sentence when a point cannot be projected.
    ///
    /// # Performance
    /// O(v log v) for the v vertices, arcs in parallel.
    pub fn project(&self, px_per_m: &[f64], tolerance: f64) -> Result<Projected, CrsError> {
        let topo = &self.topology;
        let arcs: Vec<Vec<Pt>> = (0..topo.arc_count())
            .into_par_iter()
            .map_init(Scratch::default, |s, k| {
                let f = self.arc_frame[k];
                let tol_m = tolerance / px_per_m[f];
                let lon_lat = topo.arc(k);
                let keep = if lon_lat.first() == lon_lat.last() {
                    4
                } else {
                    2
                };
                local_metres(lon_lat, &mut s.local);
                radial_into(&s.local, tol_m * 0.5, keep, &mut s.radial);
                s.thin.clear();
                s.thin.extend(
                    s.local
                        .iter()
                        .zip(&s.radial)
                        .filter(|(_, k)| **k)
                        .map(|(p, _)| *p),
                );
                let vw = s.simplifier.kept(&s.thin, tol_m * tol_m, keep);
                s.lon_lat.clear();
                let mut j = 0;
                for (c, r) in lon_lat.iter().zip(&s.radial) {
                    if *r {
                        if vw[j] {
                            s.lon_lat.push(*c);
                        }
                        j += 1;
                    }
                }
                project(&self.projections[f], &s.lon_lat)
            })
            .collect::<Result<_, _>>()?;
        let mut extents = vec![EMPTY; self.frames.len()];
        for (a, &f) in arcs.iter().zip(&self.arc_frame) {
            for &p in a {
                grow(&mut extents[f], p);
            }
        }
        Ok(Projected { arcs, extents })
    }

    /// Every arc projected with all its vertices (none left out, none merged):
    /// the input's full resolution, for a map read zoomed in.
    ///
    /// # Errors
    /// A sentence when a point cannot be projected.
    pub fn project_full(&self) -> Result<Vec<Vec<Pt>>, CrsError> {
        let topo = &self.topology;
        (0..topo.arc_count())
            .into_par_iter()
            .map(|k| project(&self.projections[self.arc_frame[k]], topo.arc(k)))
            .collect()
    }

    /// Projects other polygons (drawn territories, overlay pieces) into `frame`,
    /// ring by ring, without simplifying.
    ///
    /// # Errors
    /// A sentence when a point cannot be projected.
    pub fn project_rings(
        &self,
        frame: usize,
        g: &MultiPolygon<f64>,
    ) -> Result<Vec<Vec<Pt>>, CrsError> {
        g.0.iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
            .map(|r| project(&self.projections[frame], &r.0))
            .collect()
    }

    /// The frame of arc `k`.
    pub fn arc_frame(&self, k: usize) -> usize {
        self.arc_frame[k]
    }
}

impl Projected {
    /// Every arc on the page.
    pub fn on_page(&self, canvas: &Canvas, placements: &[Placement]) -> Vec<Vec<Pt>> {
        self.arcs
            .par_iter()
            .enumerate()
            .map(|(k, a)| {
                let p = &placements[canvas.arc_frame(k)];
                a.iter().map(|&q| p.to_page(q)).collect()
            })
            .collect()
    }
}

/// Longitude/latitude to metres on a local plane (equirectangular at the
/// points' mean latitude): good to a percent or so over an arc, which is all
/// that choosing what to simplify needs.
fn local_metres(pts: &[Coord<f64>], out: &mut Vec<Pt>) {
    let lat = pts.iter().map(|c| c.y).sum::<f64>() / pts.len().max(1) as f64;
    let kx = lat.to_radians().cos() * M_PER_DEGREE;
    out.clear();
    out.extend(pts.iter().map(|c| [c.x * kx, c.y * M_PER_DEGREE]));
}

/// Buffers reused from arc to arc by one thread.
#[derive(Default)]
struct Scratch {
    local: Vec<Pt>,
    radial: Vec<bool>,
    thin: Vec<Pt>,
    simplifier: Simplifier,
    lon_lat: Vec<Coord<f64>>,
}

fn project(crs: &Crs, pts: &[Coord<f64>]) -> Result<Vec<Pt>, CrsError> {
    let mut c = pts.to_vec();
    crs.project(&mut c)?;
    Ok(c.into_iter().map(|c| [c.x, c.y]).collect())
}

/// Page coordinates are written in tenths of a pixel.
pub fn tenths(v: f64) -> i64 {
    (v * 10.0).round() as i64
}

/// Appends `v` tenths as a decimal number (`123` → `12.3`, `-5` → `-0.5`).
pub fn push_tenths(out: &mut String, v: i64) {
    if v < 0 {
        out.push('-');
    }
    let a = v.unsigned_abs();
    out.push_str(itoa::Buffer::new().format(a / 10));
    if !a.is_multiple_of(10) {
        out.push('.');
        out.push(char::from(b'0' + (a % 10) as u8));
    }
}

/// SVG path data of closed loops of arcs (arcs already on the page): absolute
/// first point, then relative moves in tenths of a pixel, `z` to close. Loops
/// that collapse to fewer than three distinct points at this precision are left
/// out (they cover no pixel).
pub fn loops_path(out: &mut String, arcs: &[Vec<Pt>], loops: &[Vec<ArcRef>]) {
    let mut pts: Vec<(i64, i64)> = Vec::new();
    for lp in loops {
        pts.clear();
        for &a in lp {
            let arc = &arcs[a.index()];
            let mut push = |p: &Pt| {
                let q = (tenths(p[0]), tenths(p[1]));
                if pts.last() != Some(&q) {
                    pts.push(q);
                }
            };
            if a.reversed() {
                arc.iter().rev().for_each(&mut push);
            } else {
                arc.iter().for_each(&mut push);
            }
        }
        ring_path(out, &mut pts);
    }
}

/// SVG path data of one closed ring of page points (tenths), as [`loops_path`].
pub fn ring_path(out: &mut String, pts: &mut Vec<(i64, i64)>) {
    while pts.len() > 1 && pts.first() == pts.last() {
        pts.pop();
    }
    if pts.len() < 3 {
        return;
    }
    out.push('M');
    push_tenths(out, pts[0].0);
    out.push(' ');
    push_tenths(out, pts[0].1);
    out.push('l');
    let mut first = true;
    for w in pts.windows(2) {
        let (dx, dy) = (w[1].0 - w[0].0, w[1].1 - w[0].1);
        if !first && dx >= 0 {
            out.push(' ');
        }
        first = false;
        push_tenths(out, dx);
        if dy >= 0 {
            out.push(' ');
        }
        push_tenths(out, dy);
    }
    out.push('z');
}

/// SVG path data of open lines (borders): `M` then relative moves.
pub fn lines_path(out: &mut String, lines: impl Iterator<Item = impl AsRef<[Pt]>>) {
    for line in lines {
        let line = line.as_ref();
        let mut last: Option<(i64, i64)> = None;
        let mut started = false;
        for p in line {
            let q = (tenths(p[0]), tenths(p[1]));
            match last {
                None => {
                    out.push('M');
                    push_tenths(out, q.0);
                    out.push(' ');
                    push_tenths(out, q.1);
                }
                Some(l) if l != q => {
                    out.push(if started { ' ' } else { 'l' });
                    started = true;
                    push_tenths(out, q.0 - l.0);
                    out.push(' ');
                    push_tenths(out, q.1 - l.1);
                }
                Some(_) => continue,
            }
            last = Some(q);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenths_are_written_short_and_exact() {
        let mut s = String::new();
        for v in [0, 5, -5, 123, -120, 10] {
            push_tenths(&mut s, v);
            s.push(',');
        }
        assert_eq!(s, "0,0.5,-0.5,12.3,-12,1,");
    }

    #[test]
    fn a_ring_becomes_relative_moves() {
        let mut s = String::new();
        let mut pts = vec![(0, 0), (100, 0), (100, 100), (0, 0)];
        ring_path(&mut s, &mut pts);
        assert_eq!(s, "M0 0l10 0 0 10z");
        let mut s = String::new();
        ring_path(&mut s, &mut vec![(0, 0), (1, 1), (0, 0)]);
        assert_eq!(s, "", "collapsed ring");
    }

    #[test]
    fn placement_fits_and_flips_y() {
        let p = Placement::fit([0.0, 0.0, 100.0, 50.0], [10.0, 10.0, 210.0, 210.0]);
        assert_eq!(p.scale, 2.0);
        assert_eq!(p.to_page([0.0, 50.0]), [10.0, 60.0]);
        assert_eq!(p.to_page([100.0, 0.0]), [210.0, 160.0]);
    }
}
