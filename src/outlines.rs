//! Outlines of an analysis: each CPTS territory and each zone blanche as one
//! multipolygon, for the GeoJSON layers and the GeoPackage. Downstream of
//! [`crate::coverage`]; the geometry itself is [`crate::dissolve::dissolve`].

use geo::MultiPolygon;
use rayon::prelude::*;

use crate::coverage::Coverage;
use crate::dissolve::dissolve;
use crate::load::{Communes, Declarations};

/// The dissolved outline of every territory and every zone blanche.
#[derive(Debug, Clone)]
pub struct Outlines {
    /// One per CPTS, in the order of `Coverage::territories` (empty when the CPTS is).
    pub territories: Vec<MultiPolygon<f64>>,
    /// One per zone blanche, in the order of `Coverage::white_zones`.
    pub white_zones: Vec<MultiPolygon<f64>>,
}

impl Outlines {
    /// Dissolves all groups in parallel; the result does not depend on the thread count.
    /// A drawn territory's outline is its drawing; with drawn territories the zones
    /// blanches are the overlay's gap pieces.
    pub fn compute(communes: &Communes, decl: &Declarations, coverage: &Coverage) -> Outlines {
        if let Some(overlay) = &coverage.overlay {
            let territories = decl
                .cpts
                .par_iter()
                .zip(&coverage.territories)
                .map(|(c, t)| match &c.drawn {
                    Some(g) => g.clone(),
                    None => dissolve(
                        &t.members
                            .iter()
                            .map(|&i| &communes.get(i).geometry)
                            .collect::<Vec<_>>(),
                    ),
                })
                .collect();
            let white_zones = overlay.gaps.iter().map(|p| p.geometry.clone()).collect();
            return Outlines {
                territories,
                white_zones,
            };
        }
        let groups: Vec<&[u32]> = coverage
            .territories
            .iter()
            .map(|t| t.members.as_slice())
            .chain(coverage.white_zones.iter().map(|z| z.members.as_slice()))
            .collect();
        let mut all: Vec<MultiPolygon<f64>> = groups
            .par_iter()
            .map(|members| {
                let geoms: Vec<&MultiPolygon<f64>> =
                    members.iter().map(|&i| &communes.get(i).geometry).collect();
                dissolve(&geoms)
            })
            .collect();
        let white_zones = all.split_off(coverage.territories.len());
        Outlines {
            territories: all,
            white_zones,
        }
    }
}
