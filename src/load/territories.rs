//! CPTS declared as drawn territories: a GeoJSON FeatureCollection of Polygon /
//! MultiPolygon with properties `cpts_id`, `cpts_name` and optional `status`, as a
//! planner draws them in QGIS.
//!
//! Drawn outlines are messier than commune layers, and one bad feature must not
//! stop a region's check. So, unlike the commune layer:
//! - what can be repaired without ambiguity is repaired and reported: unclosed rings
//!   are closed, repeated consecutive points dropped, rings re-oriented;
//! - a feature that cannot be is rejected with a diagnostic naming it and why
//!   (no `cpts_id`, self-intersecting ring, hole outside its shell, coordinates that
//!   are not longitude/latitude, empty geometry), and the run goes on.

use std::collections::BTreeMap;
use std::path::PathBuf;

use geo::{unary_union, Coord, LineString, MultiPolygon, Polygon};
use rayon::prelude::*;

use super::communes::oriented;
use super::declarations::Status;
use super::geojson::{
    check_ring, declared_crs, polygons, read_collection, text, to_lon_lat, Ctx, Found, RawGeometry,
    RawPolygons,
};
use super::layers::{self, Format};
use super::source::Source;
use crate::diagnostics::{sample, sample_en, Diagnostic, DiagnosticKind};
use crate::error::Result;

const ID: usize = 0;
const NAME: usize = 1;
const STATUS: usize = 2;

/// A CPTS territory as drawn.
#[derive(Debug, Clone)]
pub struct DrawnTerritory {
    /// Its identifier.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its status, `None` when absent or not recognised.
    pub status: Option<Status>,
    /// Its outline, valid and oriented (exteriors counter-clockwise).
    pub geometry: MultiPolygon<f64>,
}

/// Drawn territories, sorted by CPTS id (features sharing an id are merged).
#[derive(Debug, Clone)]
pub struct DrawnTerritories {
    /// The file they came from.
    pub source: PathBuf,
    /// The territories, sorted by id.
    pub territories: Vec<DrawnTerritory>,
    /// Repairs, rejected features, merged features, unknown statuses.
    pub diagnostics: Vec<Diagnostic>,
}

/// A feature's geometry: GeoJSON text still to parse, or rings read from a binary
/// layer (or why they could not be).
enum Shape<'de> {
    Text(Option<RawGeometry<'de>>),
    Read(std::result::Result<RawPolygons, String>),
}

/// What happened to one feature.
struct Checked {
    polygons: Vec<Polygon<f64>>,
    closed: usize,
    deduplicated: usize,
    reoriented: usize,
}

/// Reads drawn territories: a GeoJSON FeatureCollection, or a Shapefile (also
/// zipped), GeoPackage or GeoParquet layer as QGIS saves drawings, with properties
/// `cpts_id`, `cpts_name`, `status`, in any CRS maillage reads (reprojected).
///
/// # Errors
/// [`Error::Json`](crate::Error::Json) when GeoJSON text is not a FeatureCollection;
/// [`Error::File`](crate::Error::File) when a binary layer cannot be read. Problems
/// of single features are diagnostics, not errors.
pub fn load_territories(source: &Source) -> Result<DrawnTerritories> {
    let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let ctx = Ctx {
        slots: vec![
            names(&["cpts_id", "CPTS_ID", "id_cpts"]),
            names(&["cpts_name", "CPTS_NAME", "nom_cpts", "nom"]),
            names(&["status", "statut", "STATUS"]),
        ],
    };
    let file = source.name.display().to_string();
    // GeoJSON, or a Shapefile / GeoPackage / GeoParquet as QGIS saves drawings
    let (raw, crs, how) = match layers::sniff(&source.bytes) {
        Format::GeoJson => {
            let (raw, crs_name) = read_collection(source, &ctx)?;
            let raw: Vec<(Vec<Found>, Shape<'_>)> = raw
                .into_iter()
                .map(|f| (f.props, Shape::Text(f.geometry)))
                .collect();
            // a crs member (GDAL's GeoJSON in Lambert-93, say) is honoured
            (raw, declared_crs(source, crs_name)?, None)
        }
        _ => {
            let layer = layers::read_binary(source, &ctx)?;
            let raw = layer
                .features
                .into_iter()
                .map(|f| (f.props, Shape::Read(f.polygons)))
                .collect();
            (raw, layer.crs, Some(layer.note))
        }
    };
    let crs = crs.filter(|c| !c.is_lon_lat());
    let (raw, shapes): (Vec<Vec<Found>>, Vec<Shape<'_>>) = raw.into_iter().unzip();
    let ids: Vec<String> = raw
        .iter()
        .map(|props| {
            props[ID]
                .as_ref()
                .and_then(|(_, v)| text(v))
                .unwrap_or_default()
        })
        .collect();
    let label = |i: usize| match ids[i].as_str() {
        "" => format!("{file}: feature {i}"),
        id => format!("{file}: feature {i} ({id})"),
    };
    let checked: Vec<Result<Checked, String>> = shapes
        .into_par_iter()
        .enumerate()
        .map(|(i, shape)| {
            let label = label(i);
            let mut rings = match shape {
                Shape::Text(g) => polygons(g.as_ref(), &label, &source.bytes)?,
                Shape::Read(r) => r.map_err(|e| format!("{label}: {e}"))?,
            };
            if let Some(crs) = &crs {
                to_lon_lat(&mut rings, crs, &label)?;
            }
            check(rings, &label)
        })
        .collect();

    let mut diagnostics = Vec::new();
    if let Some(how) = how {
        diagnostics.push(Diagnostic::new(
            DiagnosticKind::InputFormat,
            format!("territoires dessinés lus depuis {how}"),
            format!("drawn territories read from {how}"),
        ));
    }
    if let Some(crs) = &crs {
        diagnostics.push(Diagnostic::new(
            DiagnosticKind::InputFormat,
            format!(
                "{file} : coordonnées en {} reprojetées en longitude/latitude (WGS84)",
                crs.label
            ),
            format!(
                "{file}: coordinates in {} reprojected to longitude/latitude (WGS84)",
                crs.label
            ),
        ));
    }
    let mut rejected = Vec::new();
    let (mut closed, mut deduplicated, mut reoriented) = (0, 0, 0);
    let mut unknown_status: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    // per CPTS id: name, status, polygons and the features they came from
    type Collected = (String, Option<Status>, Vec<Polygon<f64>>, Vec<usize>);
    let mut by_id: BTreeMap<String, Collected> = BTreeMap::new();
    for (i, (props, c)) in raw.iter().zip(checked).enumerate() {
        if ids[i].is_empty() {
            rejected.push(format!("{}: no cpts_id property", label(i)));
            continue;
        }
        let c = match c {
            Ok(c) => c,
            Err(problem) => {
                rejected.push(problem);
                continue;
            }
        };
        closed += c.closed;
        deduplicated += c.deduplicated;
        reoriented += c.reoriented;
        let status = match props[STATUS].as_ref().and_then(|(_, v)| text(v)) {
            Some(s) if !s.is_empty() => Status::parse(&s).or_else(|| {
                unknown_status.entry(s).or_default().push(i);
                None
            }),
            _ => None,
        };
        let name = props[NAME]
            .as_ref()
            .and_then(|(_, v)| text(v))
            .unwrap_or_default();
        let entry = by_id
            .entry(ids[i].clone())
            .or_insert((name, status, Vec::new(), Vec::new()));
        entry.1 = entry.1.or(status);
        entry.2.extend(c.polygons);
        entry.3.push(i);
    }
    let repaired = [
        (closed, "anneaux non fermés refermés", "unclosed ring(s) closed"),
        (
            deduplicated,
            "points consécutifs répétés retirés",
            "repeated consecutive point(s) dropped",
        ),
        (
            reoriented,
            "anneaux réorientés (extérieurs dans le sens trigonométrique, trous dans le sens horaire)",
            "ring(s) re-oriented (exteriors counter-clockwise, holes clockwise)",
        ),
    ];
    let repairs: Vec<String> = repaired
        .iter()
        .filter(|(n, _, _)| *n > 0)
        .map(|(n, what, _)| format!("{n} {what}"))
        .collect();
    let repairs_en: Vec<String> = repaired
        .iter()
        .filter(|(n, _, _)| *n > 0)
        .map(|(n, _, what)| format!("{n} {what}"))
        .collect();
    if !repairs.is_empty() {
        diagnostics.push(Diagnostic::new(
            DiagnosticKind::RepairedGeometry,
            format!("{file} : réparé : {}", repairs.join(" ; ")),
            format!("{file}: repaired: {}", repairs_en.join("; ")),
        ));
    }
    for problem in rejected {
        diagnostics.push(Diagnostic::new(
            DiagnosticKind::RejectedFeature,
            format!("{problem} ; entité ignorée"),
            format!("{problem}; feature ignored"),
        ));
    }
    for (raw, features) in unknown_status {
        diagnostics.push(Diagnostic::new(
            DiagnosticKind::UnknownStatus,
            format!(
                "{file} : le statut {raw:?} n'est ni projet, ni valide, ni aci_signe (entité {}) ; lu comme inconnu",
                sample(&features, 5)
            ),
            format!(
                "{file}: status {raw:?} is not one of projet, valide, aci_signe (feature {}); read as unknown",
                sample_en(&features, 5)
            ),
        ));
    }
    let territories = by_id
        .into_iter()
        .map(|(id, (name, status, polys, features))| {
            let geometry = if features.len() > 1 {
                diagnostics.push(
                    Diagnostic::new(
                        DiagnosticKind::MergedFeatures,
                        format!("{file} : la CPTS {id} est dessinée en {} entités ({}) ; leur union est son territoire", features.len(), sample(&features, 5)),
                        format!("{file}: CPTS {id} is drawn in {} features ({}); their union is its territory", features.len(), sample_en(&features, 5)),
                    )
                    .cpts(&id),
                );
                let refs: Vec<&Polygon<f64>> = polys.iter().collect();
                MultiPolygon::new(unary_union(refs).0.into_iter().map(oriented).collect())
            } else {
                MultiPolygon::new(polys)
            };
            DrawnTerritory {
                id,
                name,
                status,
                geometry,
            }
        })
        .collect();
    Ok(DrawnTerritories {
        source: source.name.clone(),
        territories,
        diagnostics,
    })
}

/// Reads a study-area outline: every Polygon / MultiPolygon feature of a GeoJSON
/// FeatureCollection, repaired like drawn territories, merged into one multipolygon.
///
/// # Errors
/// [`Error::Json`](crate::Error::Json) for malformed GeoJSON;
/// [`Error::Features`](crate::Error::Features) when a feature cannot be used (an outline
/// with a hole in it would silently change every figure, so nothing is set aside) or
/// when there is no polygon at all.
pub fn load_outline(source: &Source) -> Result<MultiPolygon<f64>> {
    let (raw, crs_name) = read_collection(source, &Ctx { slots: Vec::new() })?;
    let file = source.name.display().to_string();
    let crs = declared_crs(source, crs_name)?;
    let mut problems = Vec::new();
    let mut polys = Vec::new();
    for (i, f) in raw.iter().enumerate() {
        let label = format!("feature {i}");
        let rings =
            polygons(f.geometry.as_ref(), &label, &source.bytes).and_then(|mut r| match &crs {
                Some(crs) => to_lon_lat(&mut r, crs, &label).map(|_| r),
                None => Ok(r),
            });
        match rings.and_then(|r| check(r, &label)) {
            Ok(c) => polys.extend(c.polygons),
            Err(p) => problems.push(p),
        }
    }
    if polys.is_empty() && problems.is_empty() {
        problems.push("no polygon".to_owned());
    }
    if !problems.is_empty() {
        return Err(crate::Error::Features {
            path: file.into(),
            problems,
        });
    }
    let refs: Vec<&Polygon<f64>> = polys.iter().collect();
    Ok(MultiPolygon::new(
        unary_union(refs).0.into_iter().map(oriented).collect(),
    ))
}

/// Repairs what is unambiguous in one feature's rings, rejects the rest.
fn check(rings: Vec<Vec<Vec<Coord<f64>>>>, label: &str) -> Result<Checked, String> {
    let mut out = Checked {
        polygons: Vec::with_capacity(rings.len()),
        closed: 0,
        deduplicated: 0,
        reoriented: 0,
    };
    let multi = rings.len() > 1;
    for (pi, poly) in rings.into_iter().enumerate() {
        let mut lines = Vec::with_capacity(poly.len());
        for (ri, mut ring) in poly.into_iter().enumerate() {
            let r = check_ring(&mut ring, label, (pi, ri, multi), true)?;
            out.closed += usize::from(r.closed);
            out.deduplicated += r.deduplicated;
            lines.push(LineString::new(ring));
        }
        let mut it = lines.into_iter();
        let Some(exterior) = it.next() else {
            return Err(format!("{label}: polygon {pi} has no ring"));
        };
        let p = Polygon::new(exterior, it.collect());
        let o = oriented(p.clone());
        out.reoriented += std::iter::once((p.exterior(), o.exterior()))
            .chain(p.interiors().iter().zip(o.interiors()))
            .filter(|(a, b)| a != b)
            .count();
        if let Some(problem) = super::validity::polygon_problem(&o) {
            return Err(format!("{label}: polygon {pi}: {problem}"));
        }
        out.polygons.push(o);
    }
    if out.polygons.is_empty() {
        return Err(format!("{label}: empty geometry"));
    }
    Ok(out)
}
