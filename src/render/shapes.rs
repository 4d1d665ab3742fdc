//! What each layer of a drawing is made of — territories, zones blanches,
//! chevauchements, borders — computed once and written by both the map (SVG
//! paths) and the report (its compact geometry), so the two show the same shapes.

use rayon::prelude::*;

use super::canvas::{tenths, Placement};
use super::simplify::{visvalingam, Pt};
use super::Renderer;
use crate::coverage::Verdict;
use crate::error::{Error, Result};
use crate::topology::{ArcRef, OUTSIDE};

/// A filled area.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// Closed loops of arcs of the commune topology (filled even-odd).
    Loops(Vec<Vec<ArcRef>>),
    /// Rings of its own (a drawn outline, an overlay piece), on the page in tenths
    /// of a pixel, simplified (filled even-odd).
    Rings(Vec<Vec<(i64, i64)>>),
}

/// A zone blanche or a chevauchement drawn on the map.
#[derive(Debug, Clone)]
pub struct Problem {
    /// The zone's number (zones blanches), or the piece's (chevauchements of
    /// drawn territories); 0 for the chevauchements of commune lists, drawn as one.
    pub id: u32,
    /// The CPTS claiming it (positions), empty for a zone blanche.
    pub owners: Vec<u32>,
    /// Its area.
    pub shape: Shape,
}

/// Every layer of a drawing.
#[derive(Debug, Clone)]
pub struct Layers {
    /// The study area: every commune (the ground under the territories).
    pub study_area: Shape,
    /// One per CPTS, in declaration order (empty when it has no geometry).
    pub territories: Vec<Shape>,
    /// The zones blanches.
    pub white_zones: Vec<Problem>,
    /// The chevauchements.
    pub overlaps: Vec<Problem>,
    /// Arcs on a département's border (or the layer's outer border).
    pub departement_borders: Vec<usize>,
    /// Arcs between two communes.
    pub commune_borders: Vec<usize>,
    /// The renderer's highlights (a proposal's moves…), outlined over the rest:
    /// one shape per highlighted group, in the renderer's order.
    pub highlights: Vec<Shape>,
}

impl Renderer<'_> {
    /// Every layer for frames placed at `placements`, polygons of their own
    /// simplified to `tolerance` pixels.
    ///
    /// # Errors
    /// [`Error::Render`] when a drawn outline or a piece cannot be projected.
    pub(super) fn layers(&self, placements: &[Placement], tolerance: f64) -> Result<Layers> {
        let a = self.analysis;
        let decl = &a.declarations;
        let topo = &self.canvas.topology;
        let territories = decl
            .cpts
            .par_iter()
            .zip(&a.coverage.territories)
            .enumerate()
            .map(|(k, (c, t))| match &c.drawn {
                Some(g) => self.rings(&t.members, g, placements, tolerance),
                None => {
                    let members = self.faces_of(&t.members);
                    Ok(Shape::Loops(topo.boundary(&members, |o| {
                        self.faces[o as usize]
                            .claims
                            .binary_search(&(k as u32))
                            .is_ok()
                    })))
                }
            })
            .collect::<Result<Vec<_>>>()?;
        let (white_zones, overlaps) = match &a.coverage.overlay {
            Some(overlay) => {
                let pieces = |list: &[crate::overlay::Piece]| {
                    list.par_iter()
                        .enumerate()
                        .map(|(k, p)| {
                            Ok(Problem {
                                id: k as u32 + 1,
                                owners: p.owners.clone(),
                                shape: self.rings(
                                    &p.communes,
                                    &p.geometry,
                                    placements,
                                    tolerance,
                                )?,
                            })
                        })
                        .collect::<Result<Vec<_>>>()
                };
                (pieces(&overlay.gaps)?, pieces(&overlay.overlaps)?)
            }
            None => {
                let white = a
                    .coverage
                    .white_zones
                    .par_iter()
                    .map(|z| Problem {
                        id: z.id,
                        owners: Vec::new(),
                        shape: Shape::Loops(topo.boundary(&self.faces_of(&z.members), |o| {
                            self.faces[o as usize].verdict == Verdict::White
                        })),
                    })
                    .collect();
                let is_overlap = |f: u32| self.faces[f as usize].verdict == Verdict::Overlap;
                let members: Vec<u32> = (0..self.faces.len() as u32)
                    .filter(|&f| is_overlap(f))
                    .collect();
                let overlap = Problem {
                    id: 0,
                    owners: Vec::new(),
                    shape: Shape::Loops(topo.boundary(&members, is_overlap)),
                };
                (white, vec![overlap])
            }
        };
        // borders: arcs whose two sides differ
        let dep = |f: u32| a.communes.departement(self.faces[f as usize].communes[0]);
        let arcs: Vec<usize> = (0..topo.arc_count()).collect();
        let departement_borders = arcs
            .par_iter()
            .copied()
            .filter(|&k| topo.right[k] == OUTSIDE || dep(topo.left[k]) != dep(topo.right[k]))
            .collect();
        let commune_borders = arcs
            .into_iter()
            .filter(|&k| topo.right[k] != OUTSIDE)
            .collect();
        let highlights = self
            .highlights
            .iter()
            .flat_map(|h| &h.groups)
            .map(|g| {
                let members = self.faces_of(g);
                Shape::Loops(topo.boundary(&members, |o| members.binary_search(&o).is_ok()))
            })
            .collect();
        let all: Vec<u32> = (0..self.faces.len() as u32).collect();
        Ok(Layers {
            highlights,
            study_area: Shape::Loops(topo.boundary(&all, |_| true)),
            territories,
            white_zones,
            overlaps,
            departement_borders,
            commune_borders,
        })
    }

    /// Polygons of their own (longitude/latitude) drawn in the frame of the first
    /// of `communes` that has one, simplified ring by ring.
    fn rings(
        &self,
        communes: &[u32],
        g: &geo::MultiPolygon<f64>,
        placements: &[Placement],
        tolerance: f64,
    ) -> Result<Shape> {
        let frame = communes
            .iter()
            .find_map(|&i| self.face_of[i as usize])
            .map_or(0, |f| self.canvas.face_frame[f as usize]);
        let p = &placements[frame];
        let min_area = (tolerance / p.scale).powi(2);
        let projected = self
            .canvas
            .project_rings(frame, g)
            .map_err(|e| Error::Render(e.0))?;
        let on_page = |ring: &[Pt], min_area: f64| {
            let mut pts: Vec<(i64, i64)> = visvalingam(ring, min_area, 4)
                .into_iter()
                .map(|q| {
                    let q = p.to_page(q);
                    (tenths(q[0]), tenths(q[1]))
                })
                .collect();
            pts.dedup();
            while pts.len() > 1 && pts.first() == pts.last() {
                pts.pop();
            }
            (pts.len() >= 3).then_some(pts)
        };
        let mut rings: Vec<_> = projected
            .iter()
            .filter_map(|r| on_page(r, min_area))
            .collect();
        if rings.is_empty() {
            // a piece smaller than the simplification's tolerance (a thin or pinched
            // zone blanche of a few hectares) is still listed: draw it unsimplified,
            // or as a one-pixel mark where it lies, never not at all
            rings = projected.iter().filter_map(|r| on_page(r, 0.0)).collect();
        }
        if rings.is_empty() {
            if let Some(&q) = projected.iter().flatten().next() {
                let q = p.to_page(q);
                let (x, y) = (tenths(q[0]), tenths(q[1]));
                rings.push(vec![
                    (x - 5, y - 5),
                    (x + 5, y - 5),
                    (x + 5, y + 5),
                    (x - 5, y + 5),
                ]);
            }
        }
        Ok(Shape::Rings(rings))
    }
}
