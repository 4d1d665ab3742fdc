//! Geometry that knows nothing of CPTS: areas on the ellipsoid, coordinate
//! reference systems, the spatial index and the adjacency it gives, the planar
//! topology of a layer (shared borders as arcs), and dissolve.
//!
//! **One definition of a shared border** serves the whole crate: two communes
//! share a border when their boundaries have a common segment of positive length
//! ([`shares_segment`]: collinear overlap, so neighbours whose vertices do not
//! coincide still share it). [`Adjacency`] is built with it; the [`Topology`]'s
//! arcs are the borders it finds, and where an arc chain misses a border that the
//! adjacency has (layers whose neighbours do not share vertices), consumers take
//! the adjacency as the truth.

pub(crate) mod area;
pub(crate) mod crs;
pub(crate) mod dissolve;
pub(crate) mod index;
pub(crate) mod topology;

pub use area::{geodesic_multi_polygon_km2, geodesic_polygon_km2, multi_polygon_km2, polygon_km2};
pub use crs::{departement_crs, Crs};
pub use dissolve::dissolve;
pub use index::{shares_segment, Adjacency, SpatialIndex};
pub use topology::{ring_points, ArcRef, Topology, OUTSIDE};
