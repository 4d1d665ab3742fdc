//! `maillage.gpkg`: one OGC GeoPackage 1.2 holding every layer and table of a run,
//! styled for QGIS.
//!
//! Written with the SQLite that rusqlite bundles, into a temporary file of the
//! output folder renamed into place with every other output by [`Staging`] (all
//! or nothing; an existing file is replaced, never appended to).
//!
//! What GDAL and QGIS expect of it: the `GPKG` application id and version, the
//! `gpkg_spatial_ref_sys`, `gpkg_contents` (with each layer's extent) and
//! `gpkg_geometry_columns` tables, geometries as GeoPackage blobs (the `GP`
//! header with the envelope, then WKB) in EPSG:4326, an R-tree per layer (the
//! `gpkg_rtree_index` extension, with the triggers that keep it up to date when
//! someone edits the layer), and the statistics as attribute tables. QGIS loads
//! the styles of the `layer_styles` table (its own convention) by default: the
//! colours of maillage's maps (those of [`crate::render`]).

use std::path::Path;

use polars::prelude::{DataFrame, DataType};
use rayon::prelude::*;
use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{params, Connection};

use super::layers::{attribute_tables, bbox, feature_layers, union, wkb, Layer};
use super::Staging;
use crate::analysis::Analysis;
use crate::error::{Error, Result};
use crate::stats::Stats;
use crate::style;

/// The file name.
pub const FILE: &str = "maillage.gpkg";

const WGS84_WKT: &str = r#"GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]"#;

/// The GeoPackage tables every file has (GeoPackage 1.2, clauses 1.1.2, 1.1.3,
/// 2.1.5, 2.5).
const SCHEMA: &str = r#"
CREATE TABLE gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
CREATE TABLE gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
  description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE gpkg_geometry_columns (
  table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
CREATE TABLE gpkg_extensions (
  table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL,
  scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
CREATE TABLE layer_styles (
  id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256), f_table_schema TEXT(256),
  f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT,
  styleSLD TEXT, useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30),
  update_time DATETIME);
"#;

/// Options of the GeoPackage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GpkgOptions {
    /// The date written as every table's `last_change` (`YYYY-MM-DD`): the run's
    /// date, so that the same inputs give the same bytes.
    pub date: String,
}

fn sql_at(path: &Path) -> impl Fn(rusqlite::Error) -> Error + '_ {
    move |e| {
        let hint = match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DiskFull | rusqlite::ErrorCode::SystemIoFailure) => {
                " (is the disk full, or the file size limited?)"
            }
            _ => "",
        };
        Error::File {
            path: path.to_owned(),
            message: format!("writing the GeoPackage: SQLite: {e}{hint}"),
        }
    }
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A table's columns as SQLite values, column by column, with their SQL types.
fn columns(df: &DataFrame) -> Result<Vec<(String, &'static str, Vec<Value>)>> {
    let table = |source| Error::Table {
        context: format!("{FILE}: reading a table"),
        source,
    };
    df.columns()
        .iter()
        .map(|c| {
            let name = c.name().to_string();
            let dt = c.dtype();
            Ok(if dt.is_integer() || *dt == DataType::Boolean {
                let v = c.cast(&DataType::Int64).map_err(table)?;
                let v = v.i64().map_err(table)?;
                (
                    name,
                    "INTEGER",
                    v.iter()
                        .map(|x| x.map_or(Value::Null, Value::Integer))
                        .collect(),
                )
            } else if dt.is_float() {
                let v = c.cast(&DataType::Float64).map_err(table)?;
                let v = v.f64().map_err(table)?;
                (
                    name,
                    "REAL",
                    v.iter()
                        .map(|x| x.filter(|x| x.is_finite()).map_or(Value::Null, Value::Real))
                        .collect(),
                )
            } else {
                let v = c.cast(&DataType::String).map_err(table)?;
                let v = v.str().map_err(table)?;
                (
                    name,
                    "TEXT",
                    v.iter()
                        .map(|x| x.map_or(Value::Null, |s| Value::Text(s.to_owned())))
                        .collect(),
                )
            })
        })
        .collect()
}

/// The GeoPackage blob of a geometry: `GP`, version 0, flags (little-endian,
/// an xy envelope, or the empty bit), SRS id, envelope, then WKB.
fn blob(g: &geo::MultiPolygon<f64>, bbox: Option<[f64; 4]>) -> Vec<u8> {
    let mut out =
        Vec::with_capacity(48 + 16 * g.0.iter().map(|p| p.exterior().0.len()).sum::<usize>());
    let out = &mut out;
    out.extend_from_slice(b"GP");
    out.push(0);
    match bbox {
        Some([x0, y0, x1, y1]) => {
            out.push(0b0000_0011);
            out.extend_from_slice(&4326i32.to_le_bytes());
            for v in [x0, x1, y0, y1] {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        None => {
            out.push(0b0001_0001);
            out.extend_from_slice(&4326i32.to_le_bytes());
        }
    }
    wkb(out, g);
    std::mem::take(out)
}

type Sql<'a> = &'a dyn Fn(rusqlite::Error) -> Error;

/// A layer's geometries and their bounding boxes.
type Geometries<'a> = (&'a [&'a geo::MultiPolygon<f64>], &'a [Option<[f64; 4]>]);

fn create_table(
    conn: &Connection,
    sql: Sql,
    name: &str,
    cols: &[(String, &'static str, Vec<Value>)],
    geom: bool,
) -> Result<()> {
    let mut ddl = format!(
        "CREATE TABLE {} (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL",
        quote(name)
    );
    if geom {
        ddl.push_str(", geom MULTIPOLYGON");
    }
    for (c, t, _) in cols {
        ddl.push_str(&format!(", {} {t}", quote(c)));
    }
    ddl.push(')');
    conn.execute_batch(&ddl).map_err(sql)
}

fn fill_table(
    conn: &Connection,
    sql: Sql,
    name: &str,
    cols: &[(String, &'static str, Vec<Value>)],
    geometries: Option<Geometries>,
) -> Result<()> {
    let n = geometries.map_or_else(|| cols.first().map_or(0, |c| c.2.len()), |g| g.0.len());
    let names: Vec<String> = geometries
        .map(|_| "geom".to_owned())
        .into_iter()
        .chain(cols.iter().map(|c| quote(&c.0)))
        .collect();
    let marks = vec!["?"; names.len()].join(",");
    let mut stmt = conn
        .prepare(&format!(
            "INSERT INTO {} (fid, {}) VALUES (?, {marks})",
            quote(name),
            names.join(",")
        ))
        .map_err(sql)?;
    // the blobs are encoded in parallel, then inserted in order
    let blobs: Vec<Vec<u8>> = geometries.map_or_else(Vec::new, |(g, b)| {
        g.par_iter()
            .zip(b.par_iter())
            .map(|(g, b)| blob(g, *b))
            .collect()
    });
    let mut row: Vec<ToSqlOutput> = Vec::with_capacity(names.len() + 1);
    for r in 0..n {
        row.clear();
        row.push(ToSqlOutput::Borrowed(ValueRef::Integer(r as i64 + 1)));
        if let Some(b) = blobs.get(r) {
            row.push(ToSqlOutput::Borrowed(ValueRef::Blob(b)));
        }
        row.extend(
            cols.iter()
                .map(|c| ToSqlOutput::Borrowed(ValueRef::from(&c.2[r]))),
        );
        stmt.execute(rusqlite::params_from_iter(row.iter()))
            .map_err(sql)?;
    }
    Ok(())
}

/// SQLite's R-tree nodes for two dimensions: at most 51 cells of 24 bytes (rowid,
/// then min x, max x, min y, max y as big-endian `f32`) after a 4-byte header
/// (tree depth in the root, cell count).
const RTREE_CELLS: usize = 51;
const RTREE_NODE: usize = 4 + 24 * RTREE_CELLS;

/// `f32` bounds that contain the `f64` value: rounded down for minima, up for maxima.
fn f32_down(x: f64) -> f32 {
    let f = x as f32;
    if f64::from(f) > x {
        f.next_down()
    } else {
        f
    }
}

fn f32_up(x: f64) -> f32 {
    let f = x as f32;
    if f64::from(f) < x {
        f.next_up()
    } else {
        f
    }
}

/// Writes a packed R-tree (Sort-Tile-Recursive) straight into the shadow tables
/// of the empty virtual table `r`, instead of inserting box after box: SQLite
/// inserts one at a time with node splits (0.12 s for the national communes),
/// this writes each node once, and fuller nodes make the tree shallower.
fn bulk_load(conn: &Connection, sql: Sql, r: &str, boxes: &[Option<[f64; 4]>]) -> Result<()> {
    type Cell = (i64, [f32; 4]);
    let cells: Vec<Cell> = boxes
        .iter()
        .enumerate()
        .filter_map(|(k, b)| {
            b.map(|[x0, y0, x1, y1]| {
                (
                    k as i64 + 1,
                    [f32_down(x0), f32_up(x1), f32_down(y0), f32_up(y1)],
                )
            })
        })
        .collect();
    if cells.is_empty() {
        return Ok(()); // the empty root SQLite made is right
    }
    let union = |list: &[Cell]| {
        list.iter()
            .fold([f32::MAX, f32::MIN, f32::MAX, f32::MIN], |a, (_, b)| {
                [
                    a[0].min(b[0]),
                    a[1].max(b[1]),
                    a[2].min(b[2]),
                    a[3].max(b[3]),
                ]
            })
    };
    // levels[0] holds the leaves; a node is a list of cells whose ids are, for
    // now, positions in the level below (leaves: rowids)
    let mut levels: Vec<Vec<Vec<Cell>>> = Vec::new();
    let mut items = cells;
    loop {
        let n = items.len();
        let nodes = n.div_ceil(RTREE_CELLS);
        let slices = (nodes as f64).sqrt().ceil() as usize;
        let per_slice = slices * RTREE_CELLS;
        let centre = |c: &Cell, axis: usize| c.1[2 * axis] + c.1[2 * axis + 1];
        items.sort_by(|a, b| centre(a, 0).total_cmp(&centre(b, 0)).then(a.0.cmp(&b.0)));
        let mut level: Vec<Vec<Cell>> = Vec::with_capacity(nodes);
        for slice in items.chunks_mut(per_slice.max(1)) {
            slice.sort_by(|a, b| centre(a, 1).total_cmp(&centre(b, 1)).then(a.0.cmp(&b.0)));
            for chunk in slice.chunks(RTREE_CELLS) {
                level.push(chunk.to_vec());
            }
        }
        items = level
            .iter()
            .enumerate()
            .map(|(i, node)| (i as i64, union(node)))
            .collect();
        let done = level.len() == 1;
        levels.push(level);
        if done {
            break;
        }
    }
    // node numbers from the root (1) down, level by level
    let depth = levels.len() - 1;
    let mut ids: Vec<Vec<i64>> = levels.iter().map(|l| vec![0; l.len()]).collect();
    let mut next = 1i64;
    for d in (0..=depth).rev() {
        for id in &mut ids[d] {
            *id = next;
            next += 1;
        }
    }
    conn.execute(&format!("DELETE FROM \"{r}_node\""), [])
        .map_err(sql)?;
    let mut node_stmt = conn
        .prepare(&format!("INSERT INTO \"{r}_node\" VALUES (?, ?)"))
        .map_err(sql)?;
    let mut parent_stmt = conn
        .prepare(&format!("INSERT INTO \"{r}_parent\" VALUES (?, ?)"))
        .map_err(sql)?;
    let mut rowid_stmt = conn
        .prepare(&format!("INSERT INTO \"{r}_rowid\" VALUES (?, ?)"))
        .map_err(sql)?;
    let mut blob = Vec::with_capacity(RTREE_NODE);
    for (d, level) in levels.iter().enumerate() {
        for (n, node) in level.iter().enumerate() {
            let id = ids[d][n];
            blob.clear();
            let header_depth = if d == depth { depth as u16 } else { 0 };
            blob.extend(header_depth.to_be_bytes());
            blob.extend((node.len() as u16).to_be_bytes());
            for (child, b) in node {
                let child_id = if d == 0 {
                    *child
                } else {
                    ids[d - 1][*child as usize]
                };
                blob.extend(child_id.to_be_bytes());
                for v in b {
                    blob.extend(v.to_be_bytes());
                }
                if d == 0 {
                    rowid_stmt.execute(params![child_id, id]).map_err(sql)?;
                } else {
                    parent_stmt.execute(params![child_id, id]).map_err(sql)?;
                }
            }
            blob.resize(RTREE_NODE, 0);
            node_stmt.execute(params![id, &blob]).map_err(sql)?;
        }
    }
    Ok(())
}

/// The R-tree of a layer and the six triggers of the `gpkg_rtree_index`
/// extension as GeoPackage 1.2 words them (insert, update1 to update4, delete),
/// the set GDAL 3.6 writes and its `validate_gpkg.py` requires: Debian 12's GDAL
/// (QGIS 3.22/3.28) warns that a 1.4 file « may only be partially supported » and
/// its validator fails without update1 and update3. Created after the rows so
/// that they do not fire while writing. A geometry set to NULL leaves the index
/// (update2) and comes back when set again (update1: `INSERT OR REPLACE`), as
/// GDAL and QGIS edit.
fn rtree(conn: &Connection, sql: Sql, t: &str, boxes: &[Option<[f64; 4]>]) -> Result<()> {
    let r = format!("rtree_{t}_geom");
    conn.execute_batch(&format!(
        "CREATE VIRTUAL TABLE \"{r}\" USING rtree(id, minx, maxx, miny, maxy)"
    ))
    .map_err(sql)?;
    bulk_load(conn, sql, &r, boxes)?;
    let set =
        r#"ST_MinX(NEW."geom"), ST_MaxX(NEW."geom"),ST_MinY(NEW."geom"), ST_MaxY(NEW."geom")"#;
    conn.execute_batch(&format!(
        r#"
CREATE TRIGGER "{r}_insert" AFTER INSERT ON "{t}" WHEN (new."geom" NOT NULL AND NOT ST_IsEmpty(NEW."geom")) BEGIN INSERT OR REPLACE INTO "{r}" VALUES (NEW."fid",{set}); END;
CREATE TRIGGER "{r}_update1" AFTER UPDATE OF "geom" ON "{t}" WHEN OLD."fid" = NEW."fid" AND (NEW."geom" NOTNULL AND NOT ST_IsEmpty(NEW."geom")) BEGIN INSERT OR REPLACE INTO "{r}" VALUES (NEW."fid",{set}); END;
CREATE TRIGGER "{r}_update2" AFTER UPDATE OF "geom" ON "{t}" WHEN OLD."fid" = NEW."fid" AND (NEW."geom" ISNULL OR ST_IsEmpty(NEW."geom")) BEGIN DELETE FROM "{r}" WHERE id = OLD."fid"; END;
CREATE TRIGGER "{r}_update3" AFTER UPDATE ON "{t}" WHEN OLD."fid" != NEW."fid" AND (NEW."geom" NOTNULL AND NOT ST_IsEmpty(NEW."geom")) BEGIN DELETE FROM "{r}" WHERE id = OLD."fid"; INSERT OR REPLACE INTO "{r}" VALUES (NEW."fid",{set}); END;
CREATE TRIGGER "{r}_update4" AFTER UPDATE ON "{t}" WHEN OLD."fid" != NEW."fid" AND (NEW."geom" ISNULL OR ST_IsEmpty(NEW."geom")) BEGIN DELETE FROM "{r}" WHERE id IN (OLD."fid", NEW."fid"); END;
CREATE TRIGGER "{r}_delete" AFTER DELETE ON "{t}" WHEN old."geom" NOT NULL BEGIN DELETE FROM "{r}" WHERE id = OLD."fid"; END;
"#
    ))
    .map_err(sql)?;
    conn.execute(
        "INSERT INTO gpkg_extensions VALUES (?, 'geom', 'gpkg_rtree_index', 'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
        [t],
    )
    .map_err(sql)?;
    Ok(())
}

/// What a GeoPackage holds: feature layers, each with its description and QGIS
/// style (QML), and attribute tables with theirs.
pub struct Content<'a> {
    /// Feature layers: the layer and its style.
    pub layers: Vec<(Layer<'a>, String)>,
    /// Attribute tables: name, table, description.
    pub tables: Vec<(&'static str, &'a DataFrame, String)>,
}

/// Writes the GeoPackage of `analysis` as a new file at `path`.
///
/// # Errors
/// [`Error::File`] naming `path` when SQLite fails (a file already there, a
/// full disk), [`Error::Table`].
pub fn write_file(
    path: &Path,
    analysis: &Analysis,
    stats: &Stats,
    options: &GpkgOptions,
) -> Result<()> {
    write_content(
        path,
        &content(feature_layers(analysis, stats)?, stats),
        options,
    )
}

/// What the GeoPackage of an analysis holds: its feature `layers` (from
/// [`feature_layers`]), each with its style, and its attribute tables.
pub fn content<'a>(layers: Vec<Layer<'a>>, stats: &'a Stats) -> Content<'a> {
    let describe = |name: &str| -> String {
        match name {
            "cpts" => "One row per CPTS",
            "departements" => "Coverage per département",
            "regions" => "Coverage per région",
            _ => "",
        }
        .to_owned()
    };
    Content {
        layers: layers
            .into_iter()
            .map(|l| {
                let q = qml(l.name);
                (l, q)
            })
            .collect(),
        tables: attribute_tables(stats)
            .into_iter()
            .map(|(n, df)| (n, df, describe(n)))
            .collect(),
    }
}

/// Writes `content` as a new GeoPackage at `path`.
///
/// # Errors
/// As [`write_file`].
pub fn write_content(path: &Path, content: &Content<'_>, options: &GpkgOptions) -> Result<()> {
    let sql_err = sql_at(path);
    let sql: Sql = &sql_err;
    if path.exists() {
        return Err(Error::File {
            path: path.to_owned(),
            message: "already exists: a GeoPackage is written as a new file, never added to".into(),
        });
    }
    let conn = Connection::open(path).map_err(sql)?;
    // 0x47504B47 is "GPKG"; 10200 is version 1.2.0 (what GDAL 3.6, Debian 12's,
    // writes and reads without warning: see `rtree`). No journal: the file is new
    // and only renamed into place once complete.
    conn.execute_batch(
        "PRAGMA page_size = 8192; PRAGMA application_id = 1196444487; PRAGMA user_version = 10200; PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; BEGIN;",
    )
    .map_err(sql)?;
    conn.execute_batch(SCHEMA).map_err(sql)?;
    conn.execute(
        "INSERT INTO gpkg_spatial_ref_sys VALUES
          ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
          ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system'),
          ('WGS 84 geodetic', 4326, 'EPSG', 4326, ?1, 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid')",
        [WGS84_WKT],
    )
    .map_err(sql)?;
    let last_change = format!("{}T00:00:00.000Z", options.date);
    for (layer, style) in &content.layers {
        let description = &layer.description;
        let cols = columns(&layer.table)?;
        create_table(&conn, sql, layer.name, &cols, true)?;
        let boxes: Vec<Option<[f64; 4]>> = layer.geometries.par_iter().map(|g| bbox(g)).collect();
        fill_table(
            &conn,
            sql,
            layer.name,
            &cols,
            Some((&layer.geometries, &boxes)),
        )?;
        let extent = union(boxes.iter().flatten().copied());
        let [x0, y0, x1, y1] = extent.map_or([None; 4], |b| b.map(Some));
        conn.execute(
            "INSERT INTO gpkg_contents VALUES (?, 'features', ?, ?, ?, ?, ?, ?, ?, 4326)",
            params![
                layer.name,
                layer.name,
                description,
                last_change,
                x0,
                y0,
                x1,
                y1
            ],
        )
        .map_err(sql)?;
        conn.execute(
            "INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', 'MULTIPOLYGON', 4326, 0, 0)",
            [layer.name],
        )
        .map_err(sql)?;
        rtree(&conn, sql, layer.name, &boxes)?;
        conn.execute(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, owner, ui, update_time)
             VALUES ('', '', ?, 'geom', ?, ?, '', 1, ?, 'maillage', '', ?)",
            params![layer.name, layer.name, style, format!("maillage's style for {}", layer.name), last_change],
        )
        .map_err(sql)?;
    }
    for (name, df, description) in &content.tables {
        let cols = columns(df)?;
        create_table(&conn, sql, name, &cols, false)?;
        fill_table(&conn, sql, name, &cols, None)?;
        conn.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change) VALUES (?, 'attributes', ?, ?, ?)",
            params![name, name, description, last_change],
        )
        .map_err(sql)?;
    }
    conn.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change) VALUES ('layer_styles', 'attributes', 'layer_styles', 'QGIS styles', ?)",
        [&last_change],
    )
    .map_err(sql)?;
    conn.execute_batch("COMMIT;").map_err(sql)?;
    conn.close().map_err(|(_, e)| sql(e))
}

/// Stages `maillage.gpkg`.
///
/// # Errors
/// As [`write_file`].
pub fn stage(
    staging: &Staging,
    analysis: &Analysis,
    stats: &Stats,
    options: &GpkgOptions,
) -> Result<()> {
    stage_with(staging, FILE, options, |path| {
        write_file(path, analysis, stats, options)
    })
}

/// Stages `content` as the GeoPackage `name`.
///
/// # Errors
/// As [`write_file`].
pub fn stage_content(
    staging: &Staging,
    name: &str,
    content: &Content<'_>,
    options: &GpkgOptions,
) -> Result<()> {
    stage_with(staging, name, options, |path| {
        write_content(path, content, options)
    })
}

fn stage_with(
    staging: &Staging,
    name: &str,
    _options: &GpkgOptions,
    write: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
    let tmp = staging.reserve(name);
    // errors name the file the user asked for, not the temporary one
    let target = tmp.with_file_name(name);
    write(&tmp).map_err(|e| match e {
        Error::File { path, message } if path == tmp => Error::File {
            path: target,
            message,
        },
        e => e,
    })?;
    staging.sync(&tmp)
}

/// A graduated QGIS style: `column`'s values in classes bounded by `breaks`
/// (ascending, the first the minimum), light to dark (ColorBrewer's YlGnBu, as
/// the maps' choropleths), labelled with their bounds.
pub fn graduated_qml(column: &str, breaks: &[f64], colours: &[&str]) -> String {
    let grey = rgba(style::TERRITORY_BORDER, 160);
    let mut ranges = String::new();
    let mut symbols = String::new();
    for (k, w) in breaks.windows(2).enumerate() {
        let colour = colours[k.min(colours.len().saturating_sub(1))];
        ranges.push_str(&format!(
            r#"<range lower="{:?}" upper="{:?}" symbol="{k}" label="{} – {}" render="true"/>"#,
            w[0],
            w[1],
            short(w[0]),
            short(w[1])
        ));
        symbols.push_str(&format!(
            r#"<symbol type="fill" name="{k}" alpha="1" clip_to_extent="1" force_rhr="0">{}</symbol>"#,
            simple_fill(&rgba(colour, 255), "solid", &grey, 0.1, None)
        ));
    }
    format!(
        r#"<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'><qgis version="3.22.0" styleCategories="Symbology"><renderer-v2 type="graduatedSymbol" attr="{column}" graduatedMethod="GraduatedColor" symbollevels="0" forceraster="0" enableorderby="0"><ranges>{ranges}</ranges><symbols>{symbols}</symbols></renderer-v2></qgis>"#
    )
}

/// A class bound as a legend shows it: three significant digits.
fn short(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let digits = (2 - x.abs().log10().floor() as i32).max(0) as usize;
    format!("{x:.digits$}")
}

fn rgba(hex: &str, alpha: u8) -> String {
    let h = hex.trim_start_matches('#');
    let byte = |i: usize| {
        h.get(i..i + 2)
            .and_then(|s| u8::from_str_radix(s, 16).ok())
            .unwrap_or(0)
    };
    format!("{},{},{},{alpha}", byte(0), byte(2), byte(4))
}

fn simple_fill(
    colour: &str,
    style: &str,
    outline: &str,
    width: f64,
    data_defined_fill: Option<&str>,
) -> String {
    let dd = match data_defined_fill {
        Some(field) => format!(
            r#"<data_defined_properties><Option type="Map"><Option name="name" type="QString" value=""/><Option name="properties" type="Map"><Option name="fillColor" type="Map"><Option name="active" type="bool" value="true"/><Option name="expression" type="QString" value="&quot;{field}&quot;"/><Option name="type" type="int" value="3"/></Option></Option><Option name="type" type="QString" value="collection"/></Option></data_defined_properties>"#
        ),
        None => String::new(),
    };
    format!(
        r#"<layer class="SimpleFill" enabled="1" locked="0" pass="0"><Option type="Map"><Option name="color" type="QString" value="{colour}"/><Option name="joinstyle" type="QString" value="round"/><Option name="outline_color" type="QString" value="{outline}"/><Option name="outline_style" type="QString" value="solid"/><Option name="outline_width" type="QString" value="{width}"/><Option name="outline_width_unit" type="QString" value="MM"/><Option name="style" type="QString" value="{style}"/></Option>{dd}</layer>"#
    )
}

/// The QGIS style (QML) of a layer: maillage's map colours.
fn qml(layer: &str) -> String {
    let grey = rgba(style::TERRITORY_BORDER, 255);
    let (layers, label) = match layer {
        // neighbours differ: each territory's `fill` column holds its colour
        "territories" => (
            simple_fill(
                &rgba(style::PALETTE[0], 255),
                "solid",
                &grey,
                0.26,
                Some("fill"),
            ),
            Some("cpts_name"),
        ),
        "white_zones" => (
            simple_fill(
                &rgba(style::WHITE_ZONE, 255),
                "solid",
                &rgba(style::WHITE_ZONE, 255),
                0.4,
                None,
            ),
            None,
        ),
        "overlaps" => (
            simple_fill(
                &rgba(style::OVERLAP_BACKGROUND, 255),
                "solid",
                &rgba(style::OVERLAP, 255),
                0.4,
                None,
            ) + &simple_fill(
                &rgba(style::OVERLAP, 255),
                "b_diagonal",
                &rgba(style::OVERLAP, 0),
                0.0,
                None,
            ),
            None,
        ),
        "slivers" => (
            simple_fill(
                &rgba(style::OVERLAP, 255),
                "solid",
                &rgba(style::OVERLAP, 255),
                0.4,
                None,
            ),
            None,
        ),
        // communes: outlines only, over the territories
        _ => (
            simple_fill(
                &rgba(style::BASE, 0),
                "no",
                &rgba(style::TERRITORY_BORDER, 160),
                0.1,
                None,
            ),
            None,
        ),
    };
    let labeling = match label {
        Some(field) => format!(
            r#"<labeling type="simple"><settings calloutType="simple"><text-style fieldName="{field}" isExpression="0" fontSize="8" fontSizeUnit="Point" textColor="20,20,20,255" textOpacity="1" fontFamily="Sans Serif" namedStyle="Regular"><text-buffer bufferDraw="1" bufferSize="0.8" bufferSizeUnits="MM" bufferColor="255,255,255,255" bufferOpacity="1"/></text-style><text-format wrapChar="" multilineAlign="1" autoWrapLength="20"/><placement placement="1" centroidInside="1" centroidWhole="0" fitInPolygonOnly="0"/><rendering obstacle="0" scaleVisibility="0" displayAll="0" minFeatureSize="0" labelPerPart="0"/></settings></labeling>"#
        ),
        None => String::new(),
    };
    format!(
        r#"<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.34.0" styleCategories="Symbology|Labeling" labelsEnabled="{}"><renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0"><symbols><symbol type="fill" name="0" alpha="1" clip_to_extent="1" force_rhr="0">{layers}</symbol></symbols><rotation/><sizescale/></renderer-v2>{labeling}<layerGeometryType>2</layerGeometryType></qgis>
"#,
        u8::from(label.is_some())
    )
}
