//! Vector layers other than GeoJSON: commune layers as IGN ships Admin Express, and
//! drawn territories as QGIS saves them — GeoParquet, Shapefile (`.shp` with its
//! `.dbf`, `.prj`, `.cpg` beside it, or all of them in a `.zip`) and GeoPackage. All
//! are read into the same raw features as GeoJSON, with the CRS they declare; the
//! commune and territory loaders reproject and check them ([`super::communes`],
//! [`super::territories`]).
//!
//! Formats are told apart by content (zip, SQLite and Shapefile magic numbers), not
//! by file name.

use std::io::Cursor;
use std::path::Path;

use geo::Coord;

use super::geojson::{Ctx, Found, PropValue, RawPolygons};
use super::source::Source;
use crate::crs::Crs;
use crate::error::{Error, Result};

/// A feature read from a binary layer: the wanted properties and its rings.
pub(crate) struct BinaryFeature {
    pub props: Vec<Found>,
    pub polygons: std::result::Result<RawPolygons, String>,
}

/// A layer read from a binary format.
pub(crate) struct BinaryLayer {
    pub features: Vec<BinaryFeature>,
    /// The CRS it declares (`None`: it declares none).
    pub crs: Option<Crs>,
    /// How it was read, for the report: `Shapefile COMMUNE.shp in x.zip`.
    pub note: String,
}

/// What a layer file is, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    GeoJson,
    Shapefile,
    Zip,
    GeoPackage,
    GeoParquet,
}

pub(crate) fn sniff(bytes: &[u8]) -> Format {
    if bytes.starts_with(b"PK\x03\x04") {
        Format::Zip
    } else if bytes.starts_with(b"SQLite format 3\0") {
        Format::GeoPackage
    } else if bytes.starts_with(b"PAR1") {
        Format::GeoParquet
    } else if bytes.starts_with(&[0x00, 0x00, 0x27, 0x0a]) {
        Format::Shapefile
    } else {
        Format::GeoJson
    }
}

/// Reads a layer of a binary format (anything [`sniff`] does not take for GeoJSON).
pub(crate) fn read_binary(source: &Source, ctx: &Ctx) -> Result<BinaryLayer> {
    match sniff(&source.bytes) {
        Format::Zip => read_zip(source, ctx),
        Format::GeoPackage => read_geopackage(source, ctx),
        Format::GeoParquet => read_geoparquet(source, ctx),
        Format::Shapefile | Format::GeoJson => read_shapefile(source, ctx),
    }
}

/// Reads a binary layer as [`read_binary`], and the layer named `name` shipped
/// beside it, read with `companion_ctx`: the Shapefile `name.shp` in the same zip
/// archive or folder, or the GeoPackage table `name` — how Admin Express ships
/// `ARRONDISSEMENT_MUNICIPAL` beside `COMMUNE`. `None` for the companion when there
/// is no such layer (always for GeoParquet).
pub(crate) fn read_with_companion(
    source: &Source,
    ctx: &Ctx,
    companion_ctx: &Ctx,
    name: &str,
) -> Result<(BinaryLayer, Option<BinaryLayer>)> {
    match sniff(&source.bytes) {
        Format::GeoPackage => read_geopackage_tables(source, ctx, Some((name, companion_ctx))),
        Format::Zip => Ok((
            read_zip(source, ctx)?,
            read_zip_layer(source, companion_ctx, Some(name))?,
        )),
        Format::Shapefile => {
            let main = read_shapefile(source, ctx)?;
            let found = source.name.parent().and_then(|dir| {
                std::fs::read_dir(dir)
                    .ok()?
                    .filter_map(|e| e.ok())
                    .map(|e| e.path())
                    .find(|p| {
                        p.extension().is_some_and(|x| x.eq_ignore_ascii_case("shp"))
                            && p.file_stem()
                                .is_some_and(|s| s.to_string_lossy().eq_ignore_ascii_case(name))
                    })
            });
            let second = match found {
                Some(p) if p != source.name => {
                    Some(read_shapefile(&Source::from_path(&p)?, companion_ctx)?)
                }
                _ => None,
            };
            Ok((main, second))
        }
        Format::GeoParquet | Format::GeoJson => Ok((read_binary(source, ctx)?, None)),
    }
}

/// True when the bytes are a vector layer rather than a table: a GeoPackage,
/// GeoParquet, a `.shp`, or a zip archive holding a `.shp` (an `.xlsx` or `.ods`
/// workbook is a zip too, without one).
pub(crate) fn is_layer(bytes: &[u8]) -> bool {
    match sniff(bytes) {
        Format::GeoPackage | Format::GeoParquet | Format::Shapefile => true,
        Format::Zip => zip::ZipArchive::new(Cursor::new(bytes)).is_ok_and(|z| {
            z.file_names()
                .any(|n| n.to_ascii_lowercase().ends_with(".shp"))
        }),
        Format::GeoJson => false,
    }
}

fn err(source: &Source, problem: impl Into<String>) -> Error {
    Error::File {
        path: source.name.clone(),
        message: problem.into(),
    }
}

/// Reads a Shapefile whose `.shp` is `source`; `.dbf`, `.prj`, `.cpg` are read from
/// beside it on disk.
pub(crate) fn read_shapefile(source: &Source, ctx: &Ctx) -> Result<BinaryLayer> {
    let sibling = |ext: &str| -> Option<Vec<u8>> {
        let p = source.name.with_extension(ext);
        std::fs::read(&p)
            .ok()
            .or_else(|| std::fs::read(source.name.with_extension(ext.to_uppercase())).ok())
    };
    let dbf = sibling("dbf").ok_or_else(|| {
        err(
            source,
            format!(
                "the Shapefile has no {} beside it (the attributes, INSEE codes included, are there)",
                source.name.with_extension("dbf").display()
            ),
        )
    })?;
    let prj = sibling("prj").map(|b| String::from_utf8_lossy(&b).into_owned());
    let cpg = sibling("cpg").map(|b| String::from_utf8_lossy(&b).into_owned());
    let name = source.name.display().to_string();
    shapefile_parts(
        source,
        &source.bytes,
        &dbf,
        prj,
        cpg,
        ctx,
        format!("Shapefile {name}"),
    )
}

/// Reads the Shapefile inside a zip archive.
pub(crate) fn read_zip(source: &Source, ctx: &Ctx) -> Result<BinaryLayer> {
    read_zip_layer(source, ctx, None)?
        .ok_or_else(|| err(source, "the zip archive holds no Shapefile to read"))
}

/// The upper-cased file stem of an archive entry: `COMMUNE` for `a/b/COMMUNE.shp`.
fn stem_upper(name: &str) -> String {
    Path::new(name)
        .file_stem()
        .map(|s| s.to_string_lossy().to_ascii_uppercase())
        .unwrap_or_default()
}

/// The Shapefile of a zip archive to read as the layer: the only one, or the one
/// named `COMMUNE`.
fn main_shapefile(source: &Source, shps: &[&String], names: &[String]) -> Result<String> {
    match shps {
        [one] => Ok((*one).clone()),
        // a zipped GeoPackage or GeoJSON is not read
        [] => Err(err(
            source,
            format!(
                "the zip archive holds no .shp file (it holds {})",
                names.join(", ")
            ),
        )),
        many => match many.iter().find(|n| stem_upper(n) == "COMMUNE") {
            Some(one) => Ok((*one).clone()),
            None => {
                let all: Vec<&str> = many.iter().map(|s| s.as_str()).collect();
                Err(err(
                    source,
                    format!(
                        "the zip archive holds several Shapefiles ({}) and none is named COMMUNE.shp; unzip the one to use",
                        all.join(", ")
                    ),
                ))
            }
        },
    }
}

/// Reads a Shapefile inside a zip archive: the one named `want` (`None` when there
/// is none), or without `want` the only one, or the one named `COMMUNE`.
fn read_zip_layer(source: &Source, ctx: &Ctx, want: Option<&str>) -> Result<Option<BinaryLayer>> {
    let mut archive = zip::ZipArchive::new(Cursor::new(&source.bytes[..]))
        .map_err(|e| err(source, format!("not a readable zip archive: {e}")))?;
    let names: Vec<String> = archive.file_names().map(str::to_owned).collect();
    let shps: Vec<&String> = names
        .iter()
        .filter(|n| n.to_ascii_lowercase().ends_with(".shp"))
        .collect();
    let shp = match want {
        // a companion only beside another layer: a lone Shapefile is the layer itself
        Some(_) if shps.len() < 2 => return Ok(None),
        Some(w) => match shps
            .iter()
            .find(|n| stem_upper(n) == w.to_ascii_uppercase())
        {
            Some(n) => (*n).clone(),
            None => return Ok(None),
        },
        None => main_shapefile(source, &shps, &names)?,
    };
    let stem = &shp[..shp.len() - 4];
    let mut bomb = None;
    let mut read = |ext: &str| -> Option<Vec<u8>> {
        let wanted = format!("{stem}.{ext}").to_ascii_lowercase();
        let actual = names.iter().find(|n| n.to_ascii_lowercase() == wanted)?;
        let file = archive.by_name(actual).ok()?;
        let (compressed, declared) = (file.compressed_size(), file.size());
        match super::source::inflate(file, compressed, declared.min(1 << 30) as usize) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                bomb = Some(format!("{actual} {e}"));
                None
            }
            Err(_) => None,
        }
    };
    let shp_bytes = read("shp");
    let dbf = read("dbf");
    let prj = read("prj").map(|b| String::from_utf8_lossy(&b).into_owned());
    let cpg = read("cpg").map(|b| String::from_utf8_lossy(&b).into_owned());
    if let Some(b) = bomb {
        return Err(err(source, b));
    }
    let shp_bytes =
        shp_bytes.ok_or_else(|| err(source, format!("cannot read {shp} in the archive")))?;
    let dbf = dbf.ok_or_else(|| {
        err(
            source,
            format!("the archive has {shp} but no {stem}.dbf (the attributes)"),
        )
    })?;
    shapefile_parts(
        source,
        &shp_bytes,
        &dbf,
        prj,
        cpg,
        ctx,
        format!("Shapefile {shp} in {}", source.name.display()),
    )
    .map(Some)
}

fn shapefile_parts(
    source: &Source,
    shp: &[u8],
    dbf: &[u8],
    prj: Option<String>,
    cpg: Option<String>,
    ctx: &Ctx,
    note: String,
) -> Result<BinaryLayer> {
    use shapefile::dbase;
    let shapes = shapefile::ShapeReader::new(Cursor::new(shp))
        .map_err(|e| err(source, format!("not a readable Shapefile: {e}")))?;
    let builder = match cpg
        .as_deref()
        .and_then(dbase::encoding::DynEncoding::from_name)
    {
        Some(enc) => dbase::ReaderBuilder::new().with_encoding(enc),
        None => dbase::ReaderBuilder::new(),
    };
    let records = builder
        .build(Cursor::new(dbf))
        .map_err(|e| err(source, format!("the .dbf is not readable: {e}")))?;
    let fields: Vec<String> = records
        .fields()
        .iter()
        .map(|f| f.name().to_owned())
        .collect();
    let slots = match_slots(ctx, &fields);
    let mut reader = shapefile::Reader::new(shapes, records);
    let mut features = Vec::new();
    for (index, item) in reader.iter_shapes_and_records().enumerate() {
        let (shape, record) =
            item.map_err(|e| err(source, format!("feature {index}: cannot be read: {e}")))?;
        let mut record: std::collections::HashMap<String, dbase::FieldValue> =
            record.into_iter().collect();
        let props = slots
            .iter()
            .map(|slot| {
                slot.as_ref().and_then(|(rank, name)| {
                    record
                        .remove(name.as_str())
                        .map(|v| (*rank, dbf_value(v)))
                        .filter(|(_, v)| !matches!(v, PropValue::Other))
                })
            })
            .collect();
        let polygons = match shape {
            shapefile::Shape::Polygon(p) => Ok(shape_polygons(p.rings(), |q| (q.x, q.y))),
            shapefile::Shape::PolygonZ(p) => Ok(shape_polygons(p.rings(), |q| (q.x, q.y))),
            shapefile::Shape::PolygonM(p) => Ok(shape_polygons(p.rings(), |q| (q.x, q.y))),
            shapefile::Shape::NullShape => Err("no geometry (null shape)".to_owned()),
            other => Err(format!(
                "geometry is a {}, expected polygons",
                other.shapetype()
            )),
        };
        features.push(BinaryFeature { props, polygons });
    }
    // an empty .prj says nothing: as if there were none (the coordinates then
    // tell, or --crs)
    let crs = prj
        .filter(|w| !w.trim().is_empty())
        .map(|w| Crs::from_wkt(&w).map_err(|e| err(source, format!(".prj: {e}"))))
        .transpose()?;
    Ok(BinaryLayer {
        features,
        crs,
        note,
    })
}

/// For each slot, the first of its names present among `fields` (exact, then
/// case-insensitive): (rank, actual field name).
fn match_slots(ctx: &Ctx, fields: &[String]) -> Vec<Option<(usize, String)>> {
    ctx.slots
        .iter()
        .map(|names| {
            let exact = names
                .iter()
                .enumerate()
                .find(|(_, n)| fields.contains(n))
                .map(|(rank, n)| (rank, n.clone()));
            exact.or_else(|| {
                names.iter().enumerate().find_map(|(rank, n)| {
                    fields
                        .iter()
                        .find(|f| f.eq_ignore_ascii_case(n))
                        .map(|f| (rank, f.clone()))
                })
            })
        })
        .collect()
}

fn dbf_value(v: shapefile::dbase::FieldValue) -> PropValue {
    use shapefile::dbase::FieldValue as F;
    let number = |x: f64| {
        if x.fract() == 0.0 && x.abs() < 9e15 {
            PropValue::Int(x as i64)
        } else {
            PropValue::Float(x)
        }
    };
    match v {
        F::Character(Some(s)) | F::Memo(s) => PropValue::Str(s.trim().to_owned()),
        F::Numeric(Some(x)) | F::Double(x) | F::Currency(x) => number(x),
        F::Float(Some(x)) => number(x as f64),
        F::Integer(i) => PropValue::Int(i as i64),
        _ => PropValue::Other,
    }
}

/// The rings of a Shapefile polygon (of 2D, M or Z points), grouped into polygons.
fn shape_polygons<P>(
    rings: &[shapefile::PolygonRing<P>],
    xy: impl Fn(&P) -> (f64, f64),
) -> RawPolygons {
    rings_to_polygons(rings.iter().map(|r| {
        let ring = r
            .points()
            .iter()
            .map(|q| {
                let (x, y) = xy(q);
                Coord { x, y }
            })
            .collect();
        (matches!(r, shapefile::PolygonRing::Outer(_)), ring)
    }))
}

/// Groups Shapefile rings into polygons: each outer ring starts a polygon, each
/// inner ring (hole) goes to the outer ring that contains its first point (the
/// Shapefile order does not say which).
fn rings_to_polygons(rings: impl Iterator<Item = (bool, Vec<Coord<f64>>)>) -> RawPolygons {
    let mut polygons: RawPolygons = Vec::new();
    let mut holes = Vec::new();
    for (outer, ring) in rings {
        if outer {
            polygons.push(vec![ring]);
        } else {
            holes.push(ring);
        }
    }
    for hole in holes {
        let Some(&p) = hole.first() else { continue };
        let target =
            polygons
                .iter()
                .position(|poly| contains(&poly[0], p))
                .or(if polygons.is_empty() {
                    None
                } else {
                    Some(polygons.len() - 1)
                });
        match target {
            Some(i) => polygons[i].push(hole),
            // a hole without a shell: keep it as a polygon so that the checks name it
            None => polygons.push(vec![hole]),
        }
    }
    polygons
}

/// Even-odd point-in-ring test.
fn contains(ring: &[Coord<f64>], p: Coord<f64>) -> bool {
    let mut inside = false;
    for w in ring.windows(2) {
        let (a, b) = (w[0], w[1]);
        if (a.y > p.y) != (b.y > p.y) && p.x < (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x {
            inside = !inside;
        }
    }
    inside
}

/// Reads a GeoPackage: its one feature table of polygons, or the one named
/// `commune` when it has several.
pub(crate) fn read_geopackage(source: &Source, ctx: &Ctx) -> Result<BinaryLayer> {
    read_geopackage_tables(source, ctx, None).map(|(main, _)| main)
}

/// Reads a GeoPackage's commune table as [`read_geopackage`], and the table named
/// `companion.0` (read with `companion.1`) if there is one, from one in-memory copy
/// of the database.
fn read_geopackage_tables(
    source: &Source,
    ctx: &Ctx,
    companion: Option<(&str, &Ctx)>,
) -> Result<(BinaryLayer, Option<BinaryLayer>)> {
    let sql = |e: rusqlite::Error| err(source, format!("GeoPackage: {e}"));
    let mut conn = rusqlite::Connection::open_in_memory().map_err(sql)?;
    conn.deserialize_read_exact("main", &source.bytes[..], source.bytes.len(), true)
        .map_err(sql)?;
    let mut tables: Vec<(String, String, i64)> = conn
        .prepare(
            "SELECT table_name, column_name, srs_id FROM gpkg_geometry_columns ORDER BY table_name",
        )
        .and_then(|mut s| {
            s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect()
        })
        .map_err(|e| {
            err(
                source,
                format!("not a GeoPackage (no gpkg_geometry_columns table): {e}"),
            )
        })?;
    // a companion only beside another table: a lone table is the layer itself
    let second = companion
        .filter(|_| tables.len() > 1)
        .and_then(|(name, c)| {
            let t = tables.iter().position(|t| t.0.eq_ignore_ascii_case(name))?;
            Some((tables.remove(t), c))
        });
    let (table, column, srs_id) =
        match tables.as_slice() {
            [one] => one.clone(),
            [] => return Err(err(source, "the GeoPackage has no feature table")),
            // "commune" (Admin Express), "communes" (maillage.gpkg)
            many => match many.iter().find(|t| {
                t.0.eq_ignore_ascii_case("commune") || t.0.eq_ignore_ascii_case("communes")
            }) {
                Some(t) => t.clone(),
                None => {
                    return Err(err(
                        source,
                        format!(
                        "the GeoPackage has several feature tables ({}) and none is named commune or communes",
                        many.iter().map(|t| t.0.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                    ))
                }
            },
        };
    let main = gpkg_table(source, &conn, table, column, srs_id, ctx)?;
    let second = match second {
        Some(((table, column, srs_id), c)) => {
            Some(gpkg_table(source, &conn, table, column, srs_id, c)?)
        }
        None => None,
    };
    Ok((main, second))
}

/// Reads one feature table of an open GeoPackage.
fn gpkg_table(
    source: &Source,
    conn: &rusqlite::Connection,
    table: String,
    column: String,
    srs_id: i64,
    ctx: &Ctx,
) -> Result<BinaryLayer> {
    let sql = |e: rusqlite::Error| err(source, format!("GeoPackage: {e}"));
    let srs: Option<(String, i64, String)> = conn
        .query_row(
            "SELECT organization, organization_coordsys_id, definition FROM gpkg_spatial_ref_sys WHERE srs_id = ?1",
            [srs_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .ok();
    let crs = match srs {
        Some((org, id, _)) if org.eq_ignore_ascii_case("EPSG") && id > 0 => {
            Some(Crs::from_epsg(id as u32).map_err(|e| err(source, e.to_string()))?)
        }
        Some((_, _, def)) if def.trim() != "undefined" && !def.trim().is_empty() => {
            Some(Crs::from_wkt(&def).map_err(|e| err(source, e.to_string()))?)
        }
        _ => None,
    };
    let quoted = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let mut stmt = conn
        .prepare(&format!("SELECT * FROM {} ORDER BY rowid", quoted(&table)))
        .map_err(sql)?;
    // rusqlite's column_name(s) panic on a name that is not UTF-8 (found by
    // fuzzing): the names are read as values from the table's schema, in the
    // order of `SELECT *`, and one that is not UTF-8 is refused with its position
    let fields: Vec<String> = {
        let mut info = conn
            .prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid")
            .map_err(sql)?;
        let mut rows = info.query([&table]).map_err(sql)?;
        let mut names = Vec::new();
        while let Some(row) = rows.next().map_err(sql)? {
            let bytes = row
                .get_ref(0)
                .map_err(sql)?
                .as_bytes()
                .map_err(|e| sql(e.into()))?;
            let name = std::str::from_utf8(bytes).map_err(|_| {
                err(
                    source,
                    format!(
                        "table {table}: column {} has a name that is not UTF-8",
                        names.len() + 1
                    ),
                )
            })?;
            names.push(name.to_owned());
        }
        names
    };
    if fields.len() != stmt.column_count() {
        return Err(err(
            source,
            format!("table {table}: its columns could not be listed"),
        ));
    }
    let slots = match_slots(ctx, &fields);
    let geom_at = fields
        .iter()
        .position(|f| f == &column)
        .ok_or_else(|| err(source, format!("table {table} has no column {column}")))?;
    let slot_at: Vec<Option<(usize, usize)>> = slots
        .iter()
        .map(|s| {
            s.as_ref()
                .and_then(|(rank, name)| fields.iter().position(|f| f == name).map(|i| (*rank, i)))
        })
        .collect();
    let mut rows = stmt.query([]).map_err(sql)?;
    let mut features = Vec::new();
    while let Some(row) = rows.next().map_err(sql)? {
        use rusqlite::types::ValueRef;
        let props = slot_at
            .iter()
            .map(|s| {
                s.map(|(rank, i)| {
                    let v = match row.get_ref(i) {
                        Ok(ValueRef::Text(t)) => {
                            PropValue::Str(String::from_utf8_lossy(t).trim().to_owned())
                        }
                        Ok(ValueRef::Integer(n)) => PropValue::Int(n),
                        Ok(ValueRef::Real(x)) => PropValue::Float(x),
                        _ => PropValue::Other,
                    };
                    (rank, v)
                })
                .filter(|(_, v)| !matches!(v, PropValue::Other))
            })
            .collect();
        let polygons = match row.get_ref(geom_at) {
            // the feature's index and code are added where problems are listed
            Ok(ValueRef::Blob(b)) => gpkg_geometry(b),
            _ => Err("no geometry".to_owned()),
        };
        features.push(BinaryFeature { props, polygons });
    }
    Ok(BinaryLayer {
        features,
        crs,
        note: format!("GeoPackage table {table} of {}", source.name.display()),
    })
}

/// Reads a GeoParquet file (Admin Express 4.0 is also shipped so): WKB geometry
/// column named by the `geo` metadata, its CRS given there as PROJJSON (an EPSG
/// `id`), longitude/latitude when the metadata gives none (the specification's
/// default, OGC:CRS84). Read with polars, already built for the tables.
pub(crate) fn read_geoparquet(source: &Source, ctx: &Ctx) -> Result<BinaryLayer> {
    // polars' Parquet reader panics on some damaged files (an out-of-range slice
    // in polars-utils 0.55, found by fuzz/communes): the last resort is to catch
    // it here, at the one call into it, and report the file as unreadable
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        read_geoparquet_unguarded(source, ctx)
    })) {
        Ok(result) => result,
        Err(panic) => {
            let what = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("a panic");
            Err(err(
                source,
                format!("GeoParquet: the Parquet reader failed on this file, which looks damaged ({what})"),
            ))
        }
    }
}

fn read_geoparquet_unguarded(source: &Source, ctx: &Ctx) -> Result<BinaryLayer> {
    use polars::prelude::{DataType, ParquetReader, SerReader};
    let fail = |e: String| err(source, format!("GeoParquet: {e}"));
    let mut reader = ParquetReader::new(Cursor::new(source.bytes.as_slice()));
    check_parquet_footer(&source.bytes).map_err(&fail)?;
    let mut metadata = (**reader.get_metadata().map_err(|e| fail(e.to_string()))?).clone();
    // column chunks must lie inside the file: polars slices them without checking
    // and panics on its worker threads, where the panic can abort the process
    let len = source.bytes.len() as u64;
    for (g, group) in metadata.row_groups.iter().enumerate() {
        if let Some(r) = group
            .byte_ranges_iter()
            .find(|r| r.start > r.end || r.end > len)
        {
            return Err(fail(format!(
                "row group {g} has a column chunk at bytes {}..{} of a {len}-byte file: the file is truncated or damaged",
                r.start, r.end
            )));
        }
    }
    let geo: Option<serde_json::Value> = metadata
        .key_value_metadata
        .as_ref()
        .and_then(|kv| kv.iter().find(|k| k.key == "geo"))
        .and_then(|k| k.value.as_deref())
        .and_then(|v| serde_json::from_str(v).ok());
    // writers tag the WKB column as a geoarrow extension type in the Arrow schema,
    // which polars cannot hold: read the plain Parquet types instead (binary, text)
    if let Some(kv) = metadata.key_value_metadata.as_mut() {
        kv.retain(|k| k.key != "ARROW:schema");
    }
    reader.set_metadata(std::sync::Arc::new(metadata));
    let Some(geo) = geo else {
        return Err(fail(
            "no `geo` metadata: a plain Parquet file, not GeoParquet".into(),
        ));
    };
    let column = geo["primary_column"]
        .as_str()
        .unwrap_or("geometry")
        .to_owned();
    let meta = &geo["columns"][&column];
    if let Some(enc) = meta["encoding"].as_str() {
        if !enc.eq_ignore_ascii_case("WKB") {
            return Err(fail(format!(
                "geometry encoding {enc} is not supported (WKB is)"
            )));
        }
    }
    let crs = match &meta["crs"] {
        serde_json::Value::Null => None,
        crs => {
            let id = &crs["id"];
            match (id["authority"].as_str(), id["code"].as_u64()) {
                (Some(a), Some(code)) if a.eq_ignore_ascii_case("EPSG") => {
                    Some(Crs::from_epsg(code as u32).map_err(|e| fail(e.to_string()))?)
                }
                (Some(a), _) if a.eq_ignore_ascii_case("OGC") => None,
                _ => {
                    return Err(fail(format!(
                        "CRS {:?} has no EPSG id; give it with --crs",
                        crs["name"].as_str().unwrap_or("?")
                    )))
                }
            }
        }
    };
    let df = reader.finish().map_err(|e| fail(e.to_string()))?;
    let fields: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let slots = match_slots(ctx, &fields);
    let text_columns: Vec<Option<(usize, polars::prelude::StringChunked)>> = slots
        .iter()
        .map(|s| {
            s.as_ref().and_then(|(rank, name)| {
                let c = df.column(name).ok()?;
                let as_text = c.cast(&DataType::String).ok()?;
                Some((*rank, as_text.str().ok()?.clone()))
            })
        })
        .collect();
    let geometry = df
        .column(&column)
        .map_err(|e| fail(e.to_string()))?
        .binary()
        .map_err(|_| fail(format!("column {column} is not binary WKB")))?
        .clone();
    let mut features = Vec::with_capacity(df.height());
    for index in 0..df.height() {
        let props = text_columns
            .iter()
            .map(|c| {
                c.as_ref().and_then(|(rank, col)| {
                    col.get(index)
                        .map(|v| (*rank, PropValue::Str(v.trim().to_owned())))
                })
            })
            .collect();
        let polygons = match geometry.get(index) {
            Some(b) => Wkb { b, at: 0 }.polygons(),
            None => Err("no geometry".to_owned()),
        };
        features.push(BinaryFeature { props, polygons });
    }
    Ok(BinaryLayer {
        features,
        crs,
        note: format!("GeoParquet {}", source.name.display()),
    })
}

/// Walks a Parquet file's footer (Thrift compact protocol) before polars decodes
/// it: polars reserves memory for as many elements as a list header claims,
/// so a damaged footer claiming billions of row groups would abort the process
/// (found by fuzz/communes). Every list, map and string must fit in the bytes
/// that are left, and structures nest at most 64 deep.
pub(crate) fn check_parquet_footer(b: &[u8]) -> std::result::Result<(), String> {
    let n = b.len();
    if n < 12 || &b[n - 4..] != b"PAR1" {
        return Err("not a Parquet file (no PAR1 footer)".into());
    }
    let len = u32::from_le_bytes([b[n - 8], b[n - 7], b[n - 6], b[n - 5]]) as usize;
    if len > n - 12 {
        return Err(format!(
            "the footer claims {len} bytes of metadata in a {n}-byte file"
        ));
    }
    let meta = &b[n - 8 - len..n - 8];
    let mut at = 0usize;
    thrift_struct(meta, &mut at, 0).map_err(|e| format!("damaged metadata: {e}"))
}

fn thrift_byte(m: &[u8], at: &mut usize) -> std::result::Result<u8, String> {
    let v = *m.get(*at).ok_or("truncated")?;
    *at += 1;
    Ok(v)
}

fn thrift_varint(m: &[u8], at: &mut usize) -> std::result::Result<u64, String> {
    let mut v = 0u64;
    for shift in (0..70).step_by(7) {
        let byte = thrift_byte(m, at)?;
        v |= u64::from(byte & 0x7f) << shift.min(63);
        if byte & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err("varint too long".into())
}

/// Checks that `count` elements of at least one byte each fit in what is left.
fn thrift_fits(m: &[u8], at: usize, count: u64) -> std::result::Result<usize, String> {
    let left = (m.len() - at.min(m.len())) as u64;
    if count > left {
        return Err(format!("a list of {count} elements in {left} bytes"));
    }
    Ok(count as usize)
}

fn thrift_value(
    m: &[u8],
    at: &mut usize,
    kind: u8,
    depth: usize,
) -> std::result::Result<(), String> {
    match kind {
        // booleans carried in the field header (structs) or one byte (lists)
        1 | 2 => Ok(()),
        3 => thrift_byte(m, at).map(|_| ()),
        4..=6 => thrift_varint(m, at).map(|_| ()),
        7 => {
            thrift_fits(m, *at, 8)?;
            *at += 8;
            Ok(())
        }
        8 => {
            let len = thrift_varint(m, at)?;
            *at += thrift_fits(m, *at, len)?;
            Ok(())
        }
        9 | 10 => {
            let h = thrift_byte(m, at)?;
            let size = match h >> 4 {
                15 => thrift_varint(m, at)?,
                s => u64::from(s),
            };
            let elem = h & 0x0f;
            for _ in 0..thrift_fits(m, *at, size)? {
                if elem == 1 || elem == 2 {
                    thrift_byte(m, at)?;
                } else {
                    thrift_value(m, at, elem, depth + 1)?;
                }
            }
            Ok(())
        }
        11 => {
            let size = thrift_varint(m, at)?;
            if size == 0 {
                return Ok(());
            }
            let kv = thrift_byte(m, at)?;
            for _ in 0..thrift_fits(m, *at, size.saturating_mul(2))? / 2 {
                thrift_value(m, at, kv >> 4, depth + 1)?;
                thrift_value(m, at, kv & 0x0f, depth + 1)?;
            }
            Ok(())
        }
        12 => thrift_struct(m, at, depth + 1),
        13 => {
            thrift_fits(m, *at, 16)?;
            *at += 16;
            Ok(())
        }
        other => Err(format!("unknown Thrift type {other}")),
    }
}

fn thrift_struct(m: &[u8], at: &mut usize, depth: usize) -> std::result::Result<(), String> {
    if depth > 64 {
        return Err("structures nested more than 64 deep".into());
    }
    loop {
        let h = thrift_byte(m, at)?;
        if h == 0 {
            return Ok(());
        }
        if h >> 4 == 0 {
            thrift_varint(m, at)?; // a long-form field id
        }
        thrift_value(m, at, h & 0x0f, depth)?;
    }
}

/// A GeoPackage geometry blob: the `GP` header, then standard WKB.
fn gpkg_geometry(b: &[u8]) -> std::result::Result<RawPolygons, String> {
    if b.len() < 8 || &b[..2] != b"GP" {
        return Err("geometry is not a GeoPackage blob (no GP header)".into());
    }
    let flags = b[3];
    if flags & 0b1_0000 != 0 {
        return Err("empty geometry".into());
    }
    let envelope = match (flags >> 1) & 0b111 {
        0 => 0,
        1 => 32,
        2 | 3 => 48,
        4 => 64,
        e => {
            return Err(format!(
                "invalid envelope code {e} in the GeoPackage header"
            ))
        }
    };
    let mut wkb = Wkb {
        b,
        at: 8 + envelope,
    };
    wkb.polygons()
}

/// A reader of (ISO or extended) WKB polygons and multipolygons.
struct Wkb<'a> {
    b: &'a [u8],
    at: usize,
}

impl Wkb<'_> {
    fn bytes<const N: usize>(&mut self) -> std::result::Result<[u8; N], String> {
        let s = self
            .b
            .get(self.at..self.at + N)
            .ok_or("WKB geometry is truncated")?;
        self.at += N;
        // proof: `get(at..at + N)` returned exactly N bytes
        Ok(s.try_into().expect("slice of length N"))
    }

    fn header(&mut self) -> std::result::Result<(bool, u32, usize), String> {
        let little = match self.bytes::<1>()?[0] {
            0 => false,
            1 => true,
            o => return Err(format!("invalid WKB byte order {o}")),
        };
        let raw = self.u32(little)?;
        // EWKB flags (Z 0x80000000, M 0x40000000, SRID 0x20000000) or ISO 1000s
        let (z, m) = (raw & 0x8000_0000 != 0, raw & 0x4000_0000 != 0);
        if raw & 0x2000_0000 != 0 {
            self.u32(little)?; // srid
        }
        let base = raw & 0x0fff_ffff;
        let (kind, iso_dims) = (base % 1000, base / 1000);
        let dims = 2
            + usize::from(z || iso_dims == 1 || iso_dims == 3)
            + usize::from(m || iso_dims == 2 || iso_dims == 3);
        Ok((little, kind, dims))
    }

    fn u32(&mut self, little: bool) -> std::result::Result<u32, String> {
        let b = self.bytes::<4>()?;
        Ok(if little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }

    fn f64(&mut self, little: bool) -> std::result::Result<f64, String> {
        let b = self.bytes::<8>()?;
        Ok(if little {
            f64::from_le_bytes(b)
        } else {
            f64::from_be_bytes(b)
        })
    }

    fn polygon_body(
        &mut self,
        little: bool,
        dims: usize,
    ) -> std::result::Result<Vec<Vec<Coord<f64>>>, String> {
        let rings = self.u32(little)? as usize;
        let mut out = Vec::with_capacity(rings.min(1024));
        for _ in 0..rings {
            let n = self.u32(little)? as usize;
            if n.saturating_mul(dims * 8) > self.b.len() {
                return Err("WKB ring longer than the geometry".into());
            }
            let mut ring = Vec::with_capacity(n);
            for _ in 0..n {
                let x = self.f64(little)?;
                let y = self.f64(little)?;
                for _ in 2..dims {
                    self.f64(little)?;
                }
                ring.push(Coord { x, y });
            }
            out.push(ring);
        }
        Ok(out)
    }

    fn polygons(&mut self) -> std::result::Result<RawPolygons, String> {
        let (little, kind, dims) = self.header()?;
        match kind {
            3 => Ok(vec![self.polygon_body(little, dims)?]),
            6 => {
                let n = self.u32(little)? as usize;
                let mut out = Vec::with_capacity(n.min(1024));
                for _ in 0..n {
                    let (l, k, d) = self.header()?;
                    if k != 3 {
                        return Err(format!("a MultiPolygon holds WKB type {k}"));
                    }
                    out.push(self.polygon_body(l, d)?);
                }
                Ok(out)
            }
            other => Err(format!(
                "geometry is WKB type {other}, expected Polygon (3) or MultiPolygon (6)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parquet_footer_claiming_a_huge_list_is_refused_before_polars_reads_it() {
        // FileMetaData { 1: version i32 = 1, 2: schema list<struct> of 2^32 elements }
        let mut meta = vec![0x15, 0x02, 0x19, 0xfc];
        meta.extend([0x80, 0x80, 0x80, 0x80, 0x10]); // varint 2^32
        meta.push(0);
        let mut file = b"PAR1".to_vec();
        file.extend(&meta);
        file.extend((meta.len() as u32).to_le_bytes());
        file.extend(b"PAR1");
        let e = check_parquet_footer(&file).unwrap_err();
        assert!(e.contains("a list of 4294967296 elements"), "{e}");
        // a well-formed footer walks to its end
        let ok = [0x15, 0x02, 0x00];
        let mut file = b"PAR1".to_vec();
        file.extend(ok);
        file.extend(3u32.to_le_bytes());
        file.extend(b"PAR1");
        assert_eq!(check_parquet_footer(&file), Ok(()));
        assert!(check_parquet_footer(b"PAR1\xff\xff\xff\xffPAR1").is_err());
    }

    #[test]
    fn wkb_multipolygon_little_and_big_endian() {
        let mut le = vec![1u8];
        le.extend(6u32.to_le_bytes());
        le.extend(1u32.to_le_bytes());
        le.push(0); // the inner polygon in big-endian, as WKB allows
        le.extend(3u32.to_be_bytes());
        le.extend(1u32.to_be_bytes());
        le.extend(4u32.to_be_bytes());
        for (x, y) in [(0.0f64, 0.0f64), (1.0, 0.0), (0.0, 1.0), (0.0, 0.0)] {
            le.extend(x.to_be_bytes());
            le.extend(y.to_be_bytes());
        }
        let mut blob = b"GP\x00\x01".to_vec(); // no envelope, little-endian header
        blob.extend(2154i32.to_le_bytes());
        blob.extend(&le);
        let p = gpkg_geometry(&blob).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0][0][1], Coord { x: 1.0, y: 0.0 });
        // truncated: an error, not a panic
        assert!(gpkg_geometry(&blob[..blob.len() - 3]).is_err());
    }

    #[test]
    fn shapefile_holes_go_to_the_shell_that_contains_them() {
        let sq = |x: f64, w: f64| {
            vec![
                Coord { x, y: 0.0 },
                Coord { x, y: w },
                Coord { x: x + w, y: w },
                Coord { x: x + w, y: 0.0 },
                Coord { x, y: 0.0 },
            ]
        };
        let hole = vec![
            Coord { x: 11.0, y: 1.0 },
            Coord { x: 12.0, y: 1.0 },
            Coord { x: 12.0, y: 2.0 },
            Coord { x: 11.0, y: 1.0 },
        ];
        let p = rings_to_polygons(
            [(true, sq(0.0, 5.0)), (true, sq(10.0, 5.0)), (false, hole)].into_iter(),
        );
        assert_eq!((p[0].len(), p[1].len()), (1, 2));
    }
}
