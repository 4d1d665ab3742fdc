//! Geometry that knows nothing of CPTS: areas on the ellipsoid, coordinate
//! reference systems, the spatial index and the adjacency it gives, the planar
//! topology of a layer (shared borders as arcs), and dissolve.
//!
//! **One definition of a shared border** serves the whole crate: two communes
//! share a border when their boundaries have a common segment of positive length
//! ([`shares_segment`]: collinear overlap, so neighbours whose vertices do not
//! coincide still share it). [`Adjacency`] is built with it, and the length of a
//! border is measured on the pieces the same test finds ([`shared_border`]), so
//! "neighbours" and "the border they share" cannot disagree. The [`Topology`] is
//! a drawing structure, not a second definition: its arcs are the segments two
//! rings hold identically, which is the same border on layers whose neighbours
//! share their vertices (Admin Express, mapshaper output); elsewhere each commune
//! keeps its own arcs and only the drawing is less compact.

pub(crate) mod area;
pub(crate) mod crs;
pub(crate) mod dissolve;
pub(crate) mod index;
pub(crate) mod topology;

pub use area::{geodesic_multi_polygon_km2, geodesic_polygon_km2, multi_polygon_km2, polygon_km2};
pub use crs::{departement_crs, Crs};
pub use dissolve::dissolve;
pub use index::{shared_border, shares_segment, Adjacency, SpatialIndex};
pub use topology::{ring_points, ArcRef, Topology, OUTSIDE};
