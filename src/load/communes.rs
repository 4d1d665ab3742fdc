//! The commune layer: a GeoJSON FeatureCollection of Polygon / MultiPolygon in
//! longitude/latitude, read straight into `geo` types by a streaming serde visitor
//! (no intermediate JSON tree: about half the time and memory of building
//! `geojson::FeatureCollection` first, on the national file).

use std::collections::HashMap;
use std::path::PathBuf;

use geo::{Coord, LineString, MultiPolygon, Polygon};
use rayon::prelude::*;

use super::geojson::{
    check_ring, declared_crs, polygons, read_collection, text, to_lon_lat, Ctx, Found, PropValue,
    RawGeometry, RawPolygons,
};
use super::layers::{self, Format};
use super::population::MAX_POPULATION;
use super::source::Source;
use crate::crs::Crs;
use crate::diagnostics::{sample, sample_en, Diagnostic, DiagnosticKind};
use crate::error::{Error, Result};

/// Positions of the wanted properties in [`Ctx::slots`].
const CODE: usize = 0;
const NAME: usize = 1;
const POPULATION: usize = 2;

/// Property names tried, in order, for the INSEE code when none is given.
/// Admin Express 3.x (`INSEE_COM`) and 4.0 (`code_insee`) names included; shapefile
/// and GeoPackage columns are also matched case-insensitively.
pub const CODE_FIELDS: &[&str] = &[
    "code",
    "INSEE_COM",
    "insee_com",
    "code_insee",
    "codgeo",
    "CODGEO",
    "code_commune",
    "INSEE_ARM",
];
/// Property names tried, in order, for the commune name.
pub const NAME_FIELDS: &[&str] = &[
    "nom",
    "NOM",
    "name",
    "nom_officiel",
    "NOM_COM",
    "libgeo",
    "LIBGEO",
];
/// Property names tried, in order, for a population.
pub const POPULATION_FIELDS: &[&str] = &["POPULATION", "population", "PMUN", "ptot"];

/// Which properties hold the code, the name and the population. `None` means
/// "find it among the usual names" ([`CODE_FIELDS`], [`NAME_FIELDS`], [`POPULATION_FIELDS`]).
#[derive(Debug, Clone, Default)]
pub struct FieldNames {
    /// Property holding the INSEE code.
    pub code: Option<String>,
    /// Property holding the name.
    pub name: Option<String>,
    /// Property holding a population.
    pub population: Option<String>,
    /// The layer's CRS when the file does not declare it (`EPSG:2154`); it
    /// overrides a declared one. `None`: the file's own, else longitude/latitude.
    pub crs: Option<String>,
}

/// One commune of the layer.
#[derive(Debug, Clone)]
pub struct Commune {
    /// INSEE code (`"04001"`, `"2A004"`, `"97411"`).
    pub code: String,
    /// Name, empty when the layer has none.
    pub name: String,
    /// Population given by the layer itself, if it has such a property.
    pub population: Option<u64>,
    /// Polygons in longitude/latitude, oriented: exteriors counter-clockwise,
    /// holes clockwise (RFC 7946), whatever the file's winding.
    pub geometry: MultiPolygon<f64>,
}

/// A loaded commune layer, sorted by INSEE code.
#[derive(Debug, Clone)]
pub struct CommuneLayer {
    /// The file it came from.
    pub source: PathBuf,
    /// The communes, sorted by code (codes are unique).
    pub communes: Vec<Commune>,
    /// The property used for the code.
    pub code_field: String,
    /// The property used for the name, if any.
    pub name_field: Option<String>,
    /// The property used for a population, if any.
    pub population_field: Option<String>,
    /// Repairs made while loading (rings closed).
    pub diagnostics: Vec<Diagnostic>,
    /// Whole cities (Paris, Lyon, Marseille) the vintage stage
    /// replaced by arrondissements without geometry: their polygon stands in for
    /// each of their arrondissements when adjacency is decided.
    pub whole_cities: Vec<Commune>,
    /// Arrondissements municipaux read from a layer shipped beside this one (Admin
    /// Express's `ARRONDISSEMENT_MUNICIPAL`), not part of the layer: the
    /// vintage stage puts a city's arrondissements in its place
    /// only when declarations name them.
    pub spare_arrondissements: Vec<Commune>,
}

/// Reads a commune layer.
///
/// # Errors
/// - [`Error::Json`] when the bytes are not a GeoJSON FeatureCollection (with line and column);
/// - [`Error::Features`] listing every feature without code or geometry, of another
///   geometry type, with a ring of fewer than 4 points, with coordinates that are not
///   longitude/latitude, or whose code repeats another feature's;
/// - [`Error::Input`] when the layer has no feature.
///
/// # Performance
/// One pass over the bytes, O(vertices); the national file (2.2 M vertices) takes
/// about 0.2 s in release builds.
pub fn load_communes(source: &Source, fields: &FieldNames) -> Result<CommuneLayer> {
    let ctx = Ctx {
        slots: vec![
            candidates(&fields.code, CODE_FIELDS),
            candidates(&fields.name, NAME_FIELDS),
            candidates(&fields.population, POPULATION_FIELDS),
        ],
    };
    let forced = fields
        .crs
        .as_deref()
        .map(|name| Crs::from_name(name).map_err(|e| Error::Input(format!("--crs: {e}"))))
        .transpose()?;
    if source.deferred {
        if let Some(streamed) = super::stream::read(&source.name, &ctx) {
            let features = streamed
                .features
                .into_iter()
                .map(|(props, rings)| (props, Geometry::Read(Ok(rings))))
                .collect();
            return geojson_layer(source, features, streamed.crs, &ctx, forced);
        }
        // not a GeoJSON collection read without a problem: the ordinary readers
        // say what it is, or what is wrong
        return load_communes(&Source::from_path(&source.name)?, fields);
    }
    let format = layers::sniff(&source.bytes);
    if format == Format::GeoJson {
        let (raw, crs_name) = read_collection(source, &ctx).map_err(|e| match e {
            // Text that does not even open a JSON object was most likely meant as
            // another format: say which ones are read, not only what JSON expected.
            Error::Json { path, message }
                if source.bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') =>
            {
                Error::Json {
                    path,
                    message: format!(
                        "{message} (nor is it a Shapefile, a zip of one, a GeoPackage or \
                         a GeoParquet file, the other commune layers maillage reads)"
                    ),
                }
            }
            e => e,
        })?;
        let features = raw
            .into_iter()
            .map(|f| (f.props, Geometry::Text(f.geometry)))
            .collect();
        return geojson_layer(source, features, crs_name, &ctx, forced);
    }
    // Admin Express ships arrondissements municipaux beside COMMUNE: AE 3.x codes
    // them INSEE_ARM (its INSEE_COM is the city's), AE 4.0 code_insee
    let arr_ctx = Ctx {
        slots: vec![
            ["INSEE_ARM", "code_insee", "code"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            candidates(&fields.name, NAME_FIELDS),
            candidates(&fields.population, POPULATION_FIELDS),
        ],
    };
    let (layer, arrondissements) =
        layers::read_with_companion(source, &ctx, &arr_ctx, "ARRONDISSEMENT_MUNICIPAL")?;
    let features = layer
        .features
        .into_iter()
        .map(|f| (f.props, Geometry::Read(f.polygons)))
        .collect();
    let mut communes = build_layer(source, features, &ctx, forced.or(layer.crs), layer.note)?;
    if let Some(arr) = arrondissements {
        // read with the same checks; a forced CRS applies to it too
        let forced = fields.crs.as_deref().and_then(|n| Crs::from_name(n).ok());
        let features = arr
            .features
            .into_iter()
            .map(|f| (f.props, Geometry::Read(f.polygons)))
            .collect();
        communes.spare_arrondissements =
            build_layer(source, features, &arr_ctx, forced.or(arr.crs), arr.note)?.communes;
    }
    Ok(communes)
}

/// A GeoJSON collection's features as a layer, in the CRS forced, else the one
/// its `crs` member names, else longitude/latitude.
fn geojson_layer(
    source: &Source,
    features: Vec<(Vec<Found>, Geometry<'_>)>,
    crs_name: Option<String>,
    ctx: &Ctx,
    forced: Option<Crs>,
) -> Result<CommuneLayer> {
    let declared = declared_crs(source, crs_name)?;
    build_layer(source, features, ctx, forced.or(declared), "GeoJSON".into())
}

fn candidates(explicit: &Option<String>, usual: &[&str]) -> Vec<String> {
    match explicit {
        Some(name) => vec![name.clone()],
        None => usual.iter().map(|s| s.to_string()).collect(),
    }
}

/// A feature's geometry: GeoJSON text still to parse, or rings already read from a
/// binary format.
enum Geometry<'de> {
    Text(Option<RawGeometry<'de>>),
    Read(std::result::Result<RawPolygons, String>),
}

/// Turns raw features into communes, collecting every problem. Geometries are
/// parsed, reprojected and checked in parallel; problems are listed in feature order.
fn build_layer(
    source: &Source,
    raw: Vec<(Vec<Found>, Geometry<'_>)>,
    ctx: &Ctx,
    crs: Option<Crs>,
    format: String,
) -> Result<CommuneLayer> {
    let path = source.name.clone();
    if raw.is_empty() {
        return Err(Error::Input(format!(
            "{}: the commune layer has no feature",
            path.display()
        )));
    }
    let declared = crs.is_some();
    let crs = crs.unwrap_or_else(Crs::lon_lat);
    let (props, geoms): (Vec<Vec<Found>>, Vec<Geometry<'_>>) = raw.into_iter().unzip();
    let field = |found: &Found, list: &[String]| found.as_ref().map(|(r, _)| list[*r].clone());
    let code_field = props.iter().find_map(|f| field(&f[CODE], &ctx.slots[CODE]));
    let Some(code_field) = code_field else {
        return Err(Error::Features {
            path,
            problems: vec![format!(
                "no feature has a code property (looked for {}; name it with --code-field)",
                ctx.slots[CODE].join(", ")
            )],
        });
    };
    let name_field = props.iter().find_map(|f| field(&f[NAME], &ctx.slots[NAME]));
    let population_field = props
        .iter()
        .find_map(|f| field(&f[POPULATION], &ctx.slots[POPULATION]));
    // each feature on its own, in parallel: its code, name, population and
    // geometry; then, in feature order, what needs the others (repeated codes)
    let rows: Vec<Row> = props
        .into_par_iter()
        .zip(geoms)
        .enumerate()
        .map(|(index, (f, g))| row(index, f, g, &source.bytes, &crs))
        .collect();
    let mut problems = Vec::new();
    let mut unclosed = Vec::new();
    let mut normalized: Vec<String> = Vec::new();
    let mut communes = Vec::with_capacity(rows.len());
    let mut seen: HashMap<String, usize> = HashMap::with_capacity(rows.len());
    for (index, r) in rows.into_iter().enumerate() {
        normalized.extend(r.normalized);
        let label = label(index, &r.code);
        if r.code.is_empty() {
            problems.push(format!(
                "{label}: no {code_field} property (the INSEE code)"
            ));
            continue;
        }
        if let Some(first) = seen.insert(r.code.clone(), index) {
            problems.push(format!("{label}: code {} repeats feature {first}", r.code));
            continue;
        }
        let population = match r.population {
            Ok(p) => p,
            Err(other) => {
                problems.push(format!("{label}: population {other}"));
                continue;
            }
        };
        match r.geometry {
            Ok((geometry, repaired)) => {
                unclosed.extend(repaired);
                communes.push(Commune {
                    code: r.code,
                    name: r.name,
                    population,
                    geometry,
                })
            }
            Err(p) => problems.push(p),
        }
    }
    if !problems.is_empty() {
        if !declared {
            if let Some(p) = problems
                .iter_mut()
                .find(|p| p.contains("is not longitude/latitude"))
            {
                p.push_str(
                    "; the layer declares no CRS: if it is Lambert-93, run with --crs EPSG:2154 (or the layer's EPSG code)",
                );
            }
        }
        return Err(Error::Features { path, problems });
    }
    communes.par_sort_unstable_by(|a, b| a.code.cmp(&b.code));
    let mut diagnostics = Vec::new();
    let mut how = format!(
        "{} : lu comme {format} ; code depuis {code_field}",
        path.display()
    );
    let mut how_en = format!(
        "{}: read as {format}; code from {code_field}",
        path.display()
    );
    if let Some(n) = &name_field {
        how.push_str(&format!(", nom depuis {n}"));
        how_en.push_str(&format!(", name from {n}"));
    }
    if let Some(p) = &population_field {
        how.push_str(&format!(", population depuis {p}"));
        how_en.push_str(&format!(", population from {p}"));
    }
    if !crs.is_lon_lat() {
        how.push_str(&format!(
            " ; coordonnées en {} reprojetées en longitude/latitude (WGS84)",
            crs.label
        ));
        how_en.push_str(&format!(
            "; coordinates in {} reprojected to longitude/latitude (WGS84)",
            crs.label
        ));
    }
    if format != "GeoJSON" || !crs.is_lon_lat() {
        diagnostics.push(Diagnostic::new(DiagnosticKind::InputFormat, how, how_en));
    }
    if !normalized.is_empty() {
        diagnostics.push(Diagnostic::new(
            DiagnosticKind::NormalizedCode,
            format!(
                "{} : codes de communes complétés ({}) : {}",
                path.display(),
                normalized.len(),
                sample(&normalized, 5)
            ),
            format!(
                "{}: {} commune code(s) made whole: {}",
                path.display(),
                normalized.len(),
                sample_en(&normalized, 5)
            ),
        ));
    }
    if !unclosed.is_empty() {
        diagnostics.push(Diagnostic::new(
            DiagnosticKind::RepairedRing,
            format!(
                "{} : anneaux non fermés, refermés ({}) : {}",
                path.display(),
                unclosed.len(),
                sample(&unclosed, 5)
            ),
            format!(
                "{}: {} ring(s) were not closed and have been closed: {}",
                path.display(),
                unclosed.len(),
                sample_en(&unclosed, 5)
            ),
        ));
    }
    Ok(CommuneLayer {
        source: path,
        communes,
        code_field,
        name_field,
        population_field,
        diagnostics,
        whole_cities: Vec::new(),
        spare_arrondissements: Vec::new(),
    })
}

/// A feature read on its own: its code (made whole, with why if it was), name,
/// population (or the value that is not one) and checked geometry.
struct Row {
    code: String,
    normalized: Option<String>,
    name: String,
    population: std::result::Result<Option<u64>, String>,
    geometry: Checked,
}

/// How messages name feature `index`.
fn label(index: usize, code: &str) -> String {
    match code {
        "" => format!("feature {index}"),
        code => format!("feature {index} ({code})"),
    }
}

/// Reads feature `index`: its wanted properties `f` and geometry `g`.
/// A population property: a whole number from 0 to [`MAX_POPULATION`], or why
/// not, in words (`-5 is not a whole number ≥ 0`).
fn population_value(v: &PropValue) -> Result<u64, String> {
    let (n, shown) = match v {
        PropValue::Int(i) => (u64::try_from(*i).ok(), i.to_string()),
        PropValue::Float(x) => (
            // (the cast saturates: a huge whole number is then too large)
            (*x >= 0.0 && x.fract() == 0.0).then_some(*x as u64),
            x.to_string(),
        ),
        PropValue::Str(s) => (s.trim().parse().ok(), format!("{s:?}")),
        PropValue::Other => (None, "(not a number)".to_owned()),
    };
    match n {
        Some(n) if n <= MAX_POPULATION => Ok(n),
        Some(_) => Err(format!(
            "{shown} is more than {MAX_POPULATION} (all of France has 69 million inhabitants): a damaged value"
        )),
        None => Err(format!("{shown} is not a whole number ≥ 0")),
    }
}

fn row(index: usize, f: Vec<Found>, g: Geometry<'_>, whole: &[u8], crs: &Crs) -> Row {
    let raw = f[CODE]
        .as_ref()
        .and_then(|(_, v)| text(v))
        .unwrap_or_default();
    let (code, normalized) = if raw.is_empty() {
        (raw, None)
    } else {
        let (code, why) = super::table::normalize_code(&raw);
        let note = why.map(|why| format!("feature {index}: {raw:?} → {code} ({why})"));
        (code, note)
    };
    let population = match f[POPULATION].as_ref().map(|(_, v)| v) {
        None | Some(PropValue::Other) => Ok(None),
        Some(v) => population_value(v).map(Some),
    };
    let name = f[NAME]
        .as_ref()
        .and_then(|(_, v)| text(v))
        .unwrap_or_default();
    let geometry = geometry(g, &label(index, &code), whole, crs);
    Row {
        code,
        normalized,
        name,
        population,
        geometry,
    }
}

/// A checked geometry with the rings that were closed, or the problem found.
type Checked = Result<(MultiPolygon<f64>, Vec<String>), String>;

/// Parses, reprojects and checks one geometry; returns it oriented, with the rings
/// it closed.
fn geometry(g: Geometry<'_>, label: &str, whole: &[u8], crs: &Crs) -> Checked {
    let mut polys = match g {
        Geometry::Text(t) => polygons(t.as_ref(), label, whole)?,
        Geometry::Read(r) => r.map_err(|e| format!("{label}: {e}"))?,
    };
    to_lon_lat(&mut polys, crs, label)?;
    let multi = polys.len() > 1;
    let mut repaired = Vec::new();
    let mut out = Vec::with_capacity(polys.len());
    for (pi, rings) in polys.into_iter().enumerate() {
        let mut lines = Vec::with_capacity(rings.len());
        for (ri, mut ring) in rings.into_iter().enumerate() {
            let r = check_ring(&mut ring, label, (pi, ri, multi), false)?;
            if r.closed {
                repaired.push(r.at);
            }
            lines.push(LineString::new(ring));
        }
        let mut it = lines.into_iter();
        let Some(exterior) = it.next() else {
            return Err(format!("{label}: polygon {pi} has no ring"));
        };
        let p = oriented(Polygon::new(exterior, it.collect()));
        let at = if multi {
            format!("{label}: polygon {pi}")
        } else {
            label.to_owned()
        };
        check_polygon(&p, &at)?;
        out.push(p);
    }
    if out.is_empty() {
        return Err(format!("{label}: empty geometry (no polygon)"));
    }
    Ok((MultiPolygon::new(out), repaired))
}

/// What a commune's polygon must be for its area and its coverage to mean
/// something, checked in time linear in its vertices (the national layer's 2.2 M
/// vertices add a few milliseconds): its exterior ring encloses an area (a ring
/// whose lobes cancel, a bow-tie, does not), and each hole lies inside the
/// exterior and is smaller (a hole outside or around its shell gave negative
/// areas). A ring crossing itself in a way that keeps its area is not found here:
/// the overlay treats such a ring by the non-zero rule.
fn check_polygon(p: &Polygon<f64>, at: &str) -> std::result::Result<(), String> {
    use geo::BoundingRect;
    let ext = &p.exterior().0;
    let area = signed_twice_area(ext).abs();
    let Some(bbox) = p.exterior().bounding_rect() else {
        return Err(format!("{at}: empty exterior ring"));
    };
    // (a NaN area is refused too)
    if area.is_nan() || area <= 1e-9 * bbox.width() * bbox.height() {
        return Err(format!(
            "{at}: its exterior ring encloses no area: its edges cross back over themselves (a bow-tie) or it is flat; fix it in QGIS with Fix geometries"
        ));
    }
    for (k, hole) in p.interiors().iter().enumerate() {
        let inside = hole.bounding_rect().is_some_and(|h| {
            h.min().x >= bbox.min().x
                && h.min().y >= bbox.min().y
                && h.max().x <= bbox.max().x
                && h.max().y <= bbox.max().y
        }) && signed_twice_area(&hole.0).abs() < area
            // a vertex of the hole strictly inside the exterior (up to three
            // tried: one may lie on the exterior where the hole touches it)
            && hole.0.iter().take(3).any(|&c| super::validity::strictly_inside(c, ext));
        if !inside {
            return Err(format!(
                "{at}: hole {} is not inside its exterior ring (a hole outside or around its shell, which would make its area negative)",
                k + 1
            ));
        }
    }
    Ok(())
}

/// Orients a polygon for RFC 7946 and for area and overlay code: exterior
/// counter-clockwise, holes clockwise, whatever the input winding.
pub(crate) fn oriented(p: Polygon<f64>) -> Polygon<f64> {
    let (mut ext, mut holes) = p.into_inner();
    if signed_twice_area(&ext.0) < 0.0 {
        ext.0.reverse();
    }
    for h in &mut holes {
        if signed_twice_area(&h.0) > 0.0 {
            h.0.reverse();
        }
    }
    Polygon::new(ext, holes)
}

/// Twice the signed planar area of a closed ring (positive when counter-clockwise).
pub(crate) fn signed_twice_area(ring: &[Coord<f64>]) -> f64 {
    let Some(o) = ring.first() else { return 0.0 };
    ring.windows(2)
        .map(|w| (w[0].x - o.x) * (w[1].y - o.y) - (w[1].x - o.x) * (w[0].y - o.y))
        .sum()
}
