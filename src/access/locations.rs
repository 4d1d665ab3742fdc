//! Where each commune is, for the catchments, and which commune each supply goes to.
//!
//! By default a commune is at the centroid of its polygon in its département's
//! projected CRS (Lambert-93 for metropolitan France, the local UTM zone overseas:
//! [`crate::crs::departement_crs`]): every vertex is projected, then the
//! area-weighted centroid taken, as geopandas' `to_crs(2154).centroid` does. A
//! user table of points (population-weighted centroids, say) replaces it.

use std::collections::HashMap;

use geo::{Centroid, Contains, Coord, Distance, Euclidean, Intersects, MultiPolygon, Point};
use rayon::prelude::*;
use rstar::AABB;

use super::pairs::Location;
use crate::crs::{departement_crs, Crs};
use crate::diagnostics::{items_en, sample, sample_en, Diagnostic, DiagnosticKind};
use crate::error::{CrsError, Error, Result};
use crate::index::SpatialIndex;
use crate::load::{Communes, PointsTable, SupplyTable};

/// The projection of each EPSG code used, made once.
fn projections(codes: impl Iterator<Item = u32>) -> Result<HashMap<u32, Crs>> {
    let mut out = HashMap::new();
    for c in codes {
        if let std::collections::hash_map::Entry::Vacant(e) = out.entry(c) {
            e.insert(Crs::from_epsg(c)?);
        }
    }
    Ok(out)
}

/// The geometry that locates commune `i`: its own, or for an arrondissement
/// without geometry its whole city's.
fn geometry_of(communes: &Communes, i: usize) -> Option<&MultiPolygon<f64>> {
    let c = communes.get(i as u32);
    if !c.geometry.0.is_empty() {
        return Some(&c.geometry);
    }
    let parent = crate::cog::cog().current(&c.code)?.parent.as_deref()?;
    communes
        .layer
        .whole_cities
        .iter()
        .find(|w| w.code == parent)
        .map(|w| &w.geometry)
        .filter(|g| !g.0.is_empty())
}

/// Each commune's centroid in its département's projected CRS; `None` for a
/// commune without any geometry. Arrondissements without geometry take their
/// city's centroid (reported).
///
/// # Errors
/// [`Error::Input`] when a vertex cannot be projected.
///
/// # Performance
/// Every vertex is projected once (proj4rs), communes in parallel: about 0.1 s
/// for the 2.2 M vertices of France on 2 cores.
pub fn centroids(communes: &Communes) -> Result<(Vec<Option<Location>>, Vec<Diagnostic>)> {
    let mut located = vec![None; communes.len()];
    let d = centroids_into(communes, &mut located)?;
    Ok((located, d))
}

/// [`centroids`] for the communes not located yet (`None` in `located`).
///
/// # Errors
/// As [`centroids`].
pub fn centroids_into(
    communes: &Communes,
    done: &mut [Option<Location>],
) -> Result<Vec<Diagnostic>> {
    let n = communes.len();
    let epsg: Vec<u32> = (0..n)
        .map(|i| departement_crs(communes.departement(i as u32)).0)
        .collect();
    let proj = projections(epsg.iter().copied())?;
    let located: Vec<Option<Location>> = (0..n)
        .into_par_iter()
        .map(|i| {
            if done[i].is_some() {
                return Ok(done[i]);
            }
            let Some(g) = geometry_of(communes, i) else {
                return Ok(None);
            };
            let crs = &proj[&epsg[i]];
            let mut projected = g.clone();
            let mut failed = Ok(());
            for p in projected.0.iter_mut() {
                p.exterior_mut(|ext| failed = failed.clone().and(crs.project(&mut ext.0)));
                p.interiors_mut(|holes| {
                    for h in holes {
                        failed = failed.clone().and(crs.project(&mut h.0));
                    }
                });
            }
            failed.map_err(|e| {
                Error::Input(format!("commune {}: {e}", communes.get(i as u32).code))
            })?;
            Ok(projected.centroid().map(|c| Location {
                epsg: epsg[i],
                point: [c.x(), c.y()],
            }))
        })
        .collect::<Result<_>>()?;
    let mut diagnostics = Vec::new();
    let stand_ins: Vec<String> = (0..n)
        .filter(|&i| {
            done[i].is_none()
                && communes.get(i as u32).geometry.0.is_empty()
                && located[i].is_some()
        })
        .map(|i| communes.get(i as u32).code.clone())
        .collect();
    done.copy_from_slice(&located);
    if !stand_ins.is_empty() {
        diagnostics.push(
            Diagnostic::new(
                DiagnosticKind::NoLocation,
                format!(
                    "arrondissements sans géométrie placés au centroïde de leur ville ({}) : {}",
                    stand_ins.len(),
                    sample(&stand_ins, 8)
                ),
                format!(
                    "{} arrondissement(s) without geometry are placed at their city's centroid: {}",
                    stand_ins.len(),
                    sample_en(&stand_ins, 8)
                ),
            )
            .codes(stand_ins),
        );
    }
    Ok(diagnostics)
}

/// The position of a code in the layer, reading an older code as the commune
/// that absorbed it (COG 2026); `None` when the layer has neither.
pub(super) fn place_code(communes: &Communes, code: &str) -> Option<u32> {
    communes.index_of(code).or_else(|| {
        crate::cog::cog()
            .successor(code)
            .and_then(|s| communes.index_of(s))
    })
}

/// How far outside its commune a user location may lie (metres): a
/// population-weighted centroid is inside; a point a few hundred metres over the
/// border (a town centre on the boundary) is tolerated.
pub const FAR_FROM_COMMUNE_M: f64 = 5000.0;

/// Places communes at the points of `table` (each row in its `epsg` column's CRS,
/// else `epsg`), reprojected to the commune's CRS unless already in it. Communes
/// the table lacks stay `None` (their centroid is taken next, and reported); codes
/// of no commune are reported.
///
/// # Errors
/// [`Error::Input`] when the CRS is unknown, a point cannot be reprojected, or
/// points lie more than [`FAR_FROM_COMMUNE_M`] outside their commune (naming them,
/// with the likely CRS mistake).
pub fn user_points(
    communes: &Communes,
    table: &PointsTable,
    epsg: u32,
    located: &mut [Option<Location>],
) -> Result<Vec<Diagnostic>> {
    let file = table.source.display().to_string();
    let mut sources: HashMap<u32, Crs> = HashMap::new();
    let mut placed = vec![false; communes.len()];
    let mut unknown = Vec::new();
    let mut targets = HashMap::new();
    let mut far: Vec<(String, u64, f64)> = Vec::new();
    let looks_lon_lat = epsg != 4326
        && table
            .rows
            .iter()
            .all(|r| r.point[0].abs() <= 180.0 && r.point[1].abs() <= 90.0);
    let hint = |lon_lat: bool| {
        if lon_lat {
            " — these points look like longitude/latitude: give --points-crs EPSG:4326"
        } else {
            ""
        }
    };
    for row in &table.rows {
        let Some(i) = place_code(communes, &row.code) else {
            unknown.push(format!("{} (ligne {})", row.code, row.line));
            continue;
        };
        let target = departement_crs(communes.departement(i)).0;
        let from_epsg = row.epsg.unwrap_or(epsg);
        let at_line = |e: CrsError| {
            Error::Input(format!(
                "{file}: line {}: {e}{}",
                row.line,
                hint(looks_lon_lat)
            ))
        };
        if let std::collections::hash_map::Entry::Vacant(e) = sources.entry(from_epsg) {
            e.insert(Crs::from_epsg(from_epsg).map_err(at_line)?);
        }
        if let std::collections::hash_map::Entry::Vacant(e) = targets.entry(target) {
            e.insert(Crs::from_epsg(target)?);
        }
        let mut lon_lat = [Coord {
            x: row.point[0],
            y: row.point[1],
        }];
        sources[&from_epsg]
            .to_lon_lat(&mut lon_lat)
            .map_err(at_line)?;
        let point = if target == from_epsg {
            row.point
        } else {
            let mut c = lon_lat;
            targets[&target].project(&mut c).map_err(at_line)?;
            [c[0].x, c[0].y]
        };
        // a location far outside its commune is a CRS mistake (or a wrong code):
        // scores computed from it would be silently wrong
        if let Some(g) = geometry_of(communes, i as usize) {
            let ll = Point::from(lon_lat[0]);
            if !(lon_lat[0].x.is_finite() && lon_lat[0].y.is_finite()) {
                far.push((row.code.clone(), row.line, f64::INFINITY));
            } else if !g.intersects(&ll) {
                let mut projected = g.clone();
                let mut failed = Ok(());
                for p in projected.0.iter_mut() {
                    p.exterior_mut(|ext| {
                        failed = failed.clone().and(targets[&target].project(&mut ext.0))
                    });
                }
                let d = match failed {
                    Ok(()) => Euclidean.distance(&Point::from(point), &projected),
                    Err(_) => f64::INFINITY,
                };
                if d > FAR_FROM_COMMUNE_M {
                    far.push((row.code.clone(), row.line, d));
                }
            }
        }
        located[i as usize] = Some(Location {
            epsg: target,
            point,
        });
        placed[i as usize] = true;
    }
    if !far.is_empty() {
        let shown: Vec<String> = far
            .iter()
            .map(|(code, line, d)| format!("{code} line {line}: {:.0} km away", d / 1000.0))
            .collect();
        let hint = if looks_lon_lat {
            "they look like longitude/latitude: give --points-crs EPSG:4326".to_owned()
        } else {
            format!(
                "are they in EPSG:{epsg} (--points-crs, or an epsg column)? are the codes right?"
            )
        };
        return Err(Error::Input(format!(
            "{file}: {} of {} points lie more than {} km outside their commune ({}): {hint}",
            far.len(),
            table.rows.len(),
            FAR_FROM_COMMUNE_M / 1000.0,
            sample(&shown, 5)
        )));
    }
    let mut diagnostics = Vec::new();
    if !unknown.is_empty() {
        diagnostics.push(Diagnostic::new(
            DiagnosticKind::AccessOutsideLayer,
            format!(
                "{file} : points de communes absentes de la couche, ignorés ({}) : {}",
                unknown.len(),
                sample(&unknown, 6)
            ),
            format!(
                "{file}: {} point(s) of communes the layer does not have, ignored: {}",
                unknown.len(),
                items_en(&sample_en(&unknown, 6))
            ),
        ));
    }
    let kept: Vec<String> = (0..communes.len())
        .filter(|&i| !placed[i])
        .map(|i| communes.get(i as u32).code.clone())
        .collect();
    if !kept.is_empty() {
        diagnostics.push(
            Diagnostic::new(
                DiagnosticKind::NoLocation,
                format!(
                    "{file} : communes sans point dans ce fichier, placées à leur centroïde ({}) : {}",
                    kept.len(),
                    sample(&kept, 8)
                ),
                format!(
                    "{file}: {} commune(s) have no point there and are placed at their centroid: {}",
                    kept.len(),
                    sample_en(&kept, 8)
                ),
            )
            .codes(kept),
        );
    }
    Ok(diagnostics)
}

/// The supply of each commune: rows by code add up in their commune; points go to
/// the commune that contains them (reprojected from `epsg` to longitude/latitude,
/// found with `index`, the R-tree over the communes: [`crate::Analysis::index`]).
/// Rows of no commune of the layer are reported with their lines and left out.
///
/// # Errors
/// [`Error::Input`] when the CRS of the points is unknown or a point cannot be
/// reprojected.
pub fn place_supply(
    communes: &Communes,
    index: &SpatialIndex,
    table: &SupplyTable,
    epsg: u32,
) -> Result<(Vec<f64>, Vec<Diagnostic>)> {
    let file = table.source.display().to_string();
    let n = communes.len();
    let mut supply = vec![0.0; n];
    let mut outside: Vec<String> = Vec::new();
    let mut outside_lines = Vec::new();
    let mut outside_amount = 0.0;
    let mut merged = Vec::new();
    let mut repeated: HashMap<u32, Vec<u64>> = HashMap::new();
    let place: Vec<Option<u32>> = if table.points {
        let crs = Crs::from_epsg(epsg).map_err(|e| Error::Input(format!("{file}: {e}")))?;
        let mut coords: Vec<Coord<f64>> = table
            .rows
            .iter()
            .map(|r| {
                let p = r.point.unwrap_or([f64::NAN, f64::NAN]);
                Coord { x: p[0], y: p[1] }
            })
            .collect();
        // rows without a point stay NaN (found in no commune, reported below)
        let with: Vec<usize> = (0..coords.len())
            .filter(|&k| table.rows[k].point.is_some())
            .collect();
        let mut pts: Vec<Coord<f64>> = with.iter().map(|&k| coords[k]).collect();
        if crs.to_lon_lat(&mut pts).is_err() {
            // name the first row that cannot be placed
            let lon_lat = epsg != 4326
                && with
                    .iter()
                    .all(|&k| coords[k].x.abs() <= 180.0 && coords[k].y.abs() <= 90.0);
            for &k in &with {
                let mut one = [coords[k]];
                if let Err(e) = crs.to_lon_lat(&mut one) {
                    return Err(Error::Input(format!(
                        "{file}: line {}: {e}{}",
                        table.rows[k].line,
                        if lon_lat {
                            " — these points look like longitude/latitude: give --supply-crs EPSG:4326"
                        } else {
                            ""
                        }
                    )));
                }
            }
        }
        for (&k, p) in with.iter().zip(pts) {
            coords[k] = p;
        }
        let geoms: Vec<&MultiPolygon<f64>> =
            (0..n).map(|i| &communes.get(i as u32).geometry).collect();
        coords
            .par_iter()
            .map(|c| {
                let p = Point::from(*c);
                let env = AABB::from_point([c.x, c.y]);
                // inside first; on a border, the first commune by code touching it
                let candidates = index.query(&env);
                candidates
                    .iter()
                    .copied()
                    .find(|&i| geoms[i as usize].contains(&p))
                    .or_else(|| {
                        candidates
                            .iter()
                            .copied()
                            .find(|&i| geoms[i as usize].intersects(&p))
                    })
            })
            .collect()
    } else {
        table
            .rows
            .iter()
            .map(|r| {
                let code = r.code.as_deref().unwrap_or("");
                let at = place_code(communes, code);
                if let Some(i) = at {
                    if communes.get(i).code != code {
                        merged.push(format!(
                            "{code} → {} (ligne {})",
                            communes.get(i).code,
                            r.line
                        ));
                    }
                }
                at
            })
            .collect()
    };
    for (row, at) in table.rows.iter().zip(place) {
        match at {
            Some(i) => {
                supply[i as usize] += row.supply;
                repeated.entry(i).or_default().push(row.line);
            }
            None => {
                outside_amount += row.supply;
                outside_lines.push(row.line);
                outside.push(match (&row.code, &row.id) {
                    (Some(c), _) => format!("{c} (ligne {})", row.line),
                    (None, Some(id)) => format!("{id} (ligne {})", row.line),
                    (None, None) => format!("ligne {}", row.line),
                });
            }
        }
    }
    let mut diagnostics = Vec::new();
    diagnostics.extend(Diagnostic::reading(&file, &table.notes));
    if !outside.is_empty() {
        let what = if table.points {
            "points hors de toute commune de la couche"
        } else {
            "lignes qui ne nomment aucune commune de la couche"
        };
        diagnostics.push(
            Diagnostic::new(
                DiagnosticKind::AccessOutsideLayer,
                format!(
                    "{file} : offre, {what} ({}, offre {outside_amount}), laissée de côté : {}",
                    outside.len(),
                    sample(&outside, 6)
                ),
                format!(
                    "{file}: {} supply {} (supply {outside_amount}), left out: {}",
                    outside.len(),
                    if table.points {
                        "point(s) in no commune of the layer"
                    } else {
                        "row(s) naming no commune of the layer"
                    },
                    items_en(&sample_en(&outside, 6))
                ),
            )
            .lines(outside_lines),
        );
    }
    if !merged.is_empty() {
        diagnostics.push(Diagnostic::new(
            DiagnosticKind::MergedCode,
            format!(
                "{file} : lignes d'offre d'anciennes communes comptées dans la commune qui les a absorbées ({}) : {}",
                merged.len(),
                sample(&merged, 6)
            ),
            format!(
                "{file}: {} supply row(s) of former communes counted in the commune that absorbed them: {}",
                merged.len(),
                items_en(&sample_en(&merged, 6))
            ),
        ));
    }
    let mut summed: Vec<(String, Vec<u64>)> = repeated
        .into_iter()
        .filter(|(_, lines)| lines.len() > 1 && !table.points)
        .map(|(i, lines)| (communes.get(i).code.clone(), lines))
        .collect();
    summed.sort();
    if !summed.is_empty() {
        let shown: Vec<String> = summed
            .iter()
            .map(|(c, l)| {
                format!(
                    "{c} (lignes {})",
                    l.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
                )
            })
            .collect();
        diagnostics.push(
            Diagnostic::new(
                DiagnosticKind::SummedSupply,
                format!(
                    "{file} : communes sur plusieurs lignes, leur offre additionnée ({}) : {}",
                    summed.len(),
                    sample(&shown, 4)
                ),
                format!(
                    "{file}: {} commune(s) appear on several rows, their supply added up: {}",
                    summed.len(),
                    items_en(&sample_en(&shown, 4))
                ),
            )
            .codes(summed.iter().map(|s| s.0.clone()).collect())
            .lines(summed.iter().flat_map(|s| s.1.iter().copied()).collect()),
        );
    }
    Ok((supply, diagnostics))
}
