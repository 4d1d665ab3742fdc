//! Stage 5, **export**: every output of an analysis, written all or nothing.
//!
//! Each file is first written to a hidden temporary file in the output folder;
//! only when every file has been written are they renamed to their final names
//! ([`Staging`]). A failure leaves no half-written output and removes the
//! temporary files. Other consumers of an analysis (maps, the report) stage their
//! files in the same [`Staging`], so one run's outputs land together or not at all.

mod geojson;
pub mod geoparquet;
pub mod gpkg;
pub mod layers;
mod staging;

pub use geojson::{encode_feature, FeatureWriter};
pub use gpkg::GpkgOptions;
pub use staging::Staging;

use std::io::Write;
use std::path::{Path, PathBuf};

use polars::prelude::{
    CompatLevel, CsvWriter, DataFrame, DataType, KeyValueMetadata, ParquetWriter, SerWriter,
};
use rayon::prelude::*;
use serde::Serialize;

use crate::analysis::Analysis;
use crate::error::{Error, Result};

/// Which table formats to write (GeoJSON and `summary.json` are always written).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TableFormat {
    /// CSV only.
    #[default]
    Csv,
    /// Parquet only.
    Parquet,
    /// Both.
    Both,
}

impl TableFormat {
    fn csv(self) -> bool {
        matches!(self, TableFormat::Csv | TableFormat::Both)
    }
    fn parquet(self) -> bool {
        matches!(self, TableFormat::Parquet | TableFormat::Both)
    }
}

/// Everything a run writes besides GeoJSON and `summary.json`: the tables' format
/// and the GIS files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Formats {
    /// The statistics tables.
    pub tables: TableFormat,
    /// `maillage.gpkg`: every layer and table, styled for QGIS ([`gpkg`]).
    pub gpkg: bool,
    /// GeoParquet layers ([`geoparquet`]); `communes.parquet` is then the
    /// GeoParquet one (every column of the table, and the geometry), and the other
    /// tables are written as plain Parquet too.
    pub geoparquet: bool,
    /// The run's date (`YYYY-MM-DD`), written in the GeoPackage's metadata.
    pub date: String,
}

impl From<TableFormat> for Formats {
    fn from(tables: TableFormat) -> Formats {
        Formats {
            tables,
            gpkg: false,
            geoparquet: false,
            date: "1970-01-01".to_owned(),
        }
    }
}

impl Default for Formats {
    fn default() -> Formats {
        TableFormat::default().into()
    }
}

/// A polars error while writing `what` (a file's path, to name it in the message).
pub(crate) fn table_err(
    what: impl std::fmt::Display,
) -> impl FnOnce(polars::error::PolarsError) -> Error {
    move |source| Error::Table {
        context: format!("writing {what}"),
        source,
    }
}

/// Stages one table as `{stem}.csv` and/or `{stem}.parquet`, floats with 6
/// decimals in CSV (areas in km²: 1 m²).
///
/// # Errors
/// [`Error::Io`] or [`Error::Table`].
pub fn write_table(
    staging: &Staging,
    stem: &str,
    df: &DataFrame,
    format: TableFormat,
) -> Result<()> {
    write_table_with(staging, stem, df, format, Some(6))
}

/// [`write_table`] with the CSV's decimals: `None` writes every float in full
/// (the shortest text that reads back to the same number).
///
/// # Errors
/// [`Error::Io`] or [`Error::Table`].
pub fn write_table_with(
    staging: &Staging,
    stem: &str,
    df: &DataFrame,
    format: TableFormat,
    decimals: Option<usize>,
) -> Result<()> {
    // the writers want a mutable frame (they may rechunk); columns are shared, so
    // the copy is cheap
    let mut df = df.clone();
    let df = &mut df;
    if matches!(format, TableFormat::Csv | TableFormat::Both) {
        let name = format!("{stem}.csv");
        let path = staging.dir().join(&name);
        staging.write(&name, |w| {
            CsvWriter::new(w)
                .include_header(true)
                .with_float_precision(decimals)
                .finish(df)
                .map_err(table_err(path.display()))
        })?;
    }
    if matches!(format, TableFormat::Parquet | TableFormat::Both) {
        let name = format!("{stem}.parquet");
        let path = staging.dir().join(&name);
        staging.write(&name, |w| {
            let (mut plain, arrow) = plain_arrow(df, &[]).map_err(table_err(path.display()))?;
            ParquetWriter::new(w)
                .with_key_value_metadata(Some(KeyValueMetadata::from_static(vec![arrow])))
                .finish(&mut plain)
                .map(|_| ())
                .map_err(table_err(path.display()))
        })?;
    }
    Ok(())
}

/// A frame as every Arrow reader filters it: unsigned integers as `Int64`, and the
/// footer's Arrow schema (`ARROW:schema`, returned as a key-value pair for the
/// writer) in plain types — `large_string` and `large_binary` rather than the
/// view types polars writes by default, on which pyarrow 26 and geopandas 1.2
/// have no filter kernel (`gpd.read_parquet(bbox=…)`, `pd.read_parquet(filters=…)`
/// failed on every file), and no `UInt64` that DuckDB sums as `HUGEINT` and Spark
/// reads as `DECIMAL(20,0)`. The pages are the same: Parquet stores strings as
/// `BYTE_ARRAY`/`UTF8` either way.
///
/// `schema_metadata` goes into that Arrow schema too (GeoParquet's `geo`):
/// pyarrow takes the schema's metadata from `ARROW:schema` when it is there, so
/// without it `pq.read_schema` shows no `geo` and dask-geopandas refuses the file.
pub(crate) fn plain_arrow(
    df: &DataFrame,
    schema_metadata: &[(&str, &str)],
) -> polars::prelude::PolarsResult<(DataFrame, (String, String))> {
    let mut df = df.clone();
    let unsigned: Vec<String> = df
        .columns()
        .iter()
        .filter(|c| {
            matches!(
                c.dtype(),
                DataType::UInt64 | DataType::UInt32 | DataType::UInt16 | DataType::UInt8
            )
        })
        .map(|c| c.name().to_string())
        .collect();
    for name in unsigned {
        let cast = df.column(name.as_str())?.cast(&DataType::Int64)?;
        df.replace(name.as_str(), cast)?;
    }
    use polars::prelude::SchemaExt;
    let schema = df.schema().to_arrow(CompatLevel::oldest());
    if schema_metadata.is_empty() {
        let kv = polars_parquet::write::schema_to_metadata_key(&schema);
        return Ok((df, (kv.key, kv.value.unwrap_or_default())));
    }
    // the IPC schema with its metadata, length-prefixed as Arrow's legacy
    // format (what pyarrow writes under ARROW:schema)
    let metadata: polars_arrow::datatypes::Metadata = schema_metadata
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect();
    let fields = polars_arrow::io::ipc::write::default_ipc_fields(schema.iter_values());
    let bytes = polars_arrow::io::ipc::write::schema_to_bytes(&schema, &fields, Some(&metadata));
    let mut framed = Vec::with_capacity(bytes.len() + 8);
    framed.extend_from_slice(&[255u8, 255, 255, 255]);
    framed.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    framed.extend_from_slice(&bytes);
    use base64::Engine as _;
    Ok((
        df,
        (
            "ARROW:schema".to_owned(),
            base64::engine::general_purpose::STANDARD.encode(framed),
        ),
    ))
}

/// Properties of a `territories.geojson` feature, in file order.
#[derive(Serialize)]
struct TerritoryProps<'a> {
    cpts_id: &'a str,
    cpts_name: &'a str,
    status: &'a str,
    communes: usize,
    population: u64,
    area_km2: f64,
    size_class: u8,
    parts: usize,
    departements: String,
    regions: String,
}

/// Properties of a `white_zones.geojson` feature.
#[derive(Serialize)]
struct ZoneProps {
    zone_id: u32,
    communes: usize,
    codes: String,
    population: u64,
    area_km2: f64,
}

/// Properties of an `overlaps.geojson` feature.
#[derive(Serialize)]
struct OverlapProps<'a> {
    code: &'a str,
    name: &'a str,
    cpts_ids: String,
    population: u64,
    area_km2: f64,
}

/// Properties of a gap, overlap or sliver piece (drawn territories).
#[derive(Serialize)]
struct PieceProps {
    kind: &'static str,
    piece_id: u32,
    cpts_ids: String,
    communes: usize,
    codes: String,
    population: u64,
    area_km2: f64,
}

/// Writes every output of `analysis` into `dir`, all or nothing; returns the files
/// written, sorted. See [`stage_all`] for the files.
///
/// # Errors
/// [`Error::Io`] or [`Error::Table`]; then no output file has been replaced.
pub fn write(analysis: &Analysis, dir: &Path, formats: impl Into<Formats>) -> Result<Vec<PathBuf>> {
    let staging = Staging::new(dir)?;
    stage_all(&staging, analysis, formats)?;
    staging.commit()
}

/// Stages every output of `analysis`: `summary.json`, `diagnostics.json` (every
/// normalisation and problem, counted by kind), `communes`, `cpts`, `departements`,
/// `regions` tables (CSV and/or Parquet), `territories.geojson`,
/// `white_zones.geojson`, `overlaps.geojson`, and with drawn territories
/// `slivers.geojson`; with [`Formats::gpkg`] `maillage.gpkg`, with
/// [`Formats::geoparquet`] the GeoParquet layers. Dissolves the outlines if no one
/// has yet; times `stats`, `export`, `gpkg` and `geoparquet`.
///
/// # Errors
/// [`Error::Io`] or [`Error::Table`].
pub fn stage_all(s: &Staging, analysis: &Analysis, formats: impl Into<Formats>) -> Result<()> {
    let formats = formats.into();
    analysis.outlines();
    let stats = analysis.timings.time("stats", || analysis.stats())?;
    stage_files(s, analysis, &stats, &formats)?;
    if formats.gpkg {
        let options = GpkgOptions {
            date: formats.date.clone(),
        };
        analysis
            .timings
            .time("gpkg", || gpkg::stage(s, analysis, &stats, &options))?;
    }
    Ok(())
}

/// Everything [`stage_all`] writes but the GeoPackage.
fn stage_files(
    s: &Staging,
    analysis: &Analysis,
    stats: &crate::stats::Stats,
    formats: &Formats,
) -> Result<()> {
    let outlines = analysis.outlines();
    let t = std::time::Instant::now();
    let dir = s.dir().to_owned();
    let io = |name: &str| {
        let p = dir.join(name);
        move |e: std::io::Error| Error::io(p, e)
    };
    let (communes, decl, cov) = (
        &analysis.communes,
        &analysis.declarations,
        &analysis.coverage,
    );
    use layers::round6;
    // the three groups of files are independent: written side by side (each
    // file is still written whole by one thread, so the bytes do not change)
    let tables_and_reports = || -> Result<()> {
        s.write("summary.json", |w| {
            serde_json::to_writer_pretty(&mut *w, &analysis.summary)
                .map_err(|e| io("summary.json")(e.into()))?;
            w.write_all(b"\n").map_err(io("summary.json"))
        })?;
        s.write("diagnostics.json", |w| {
            let report = crate::diagnostics::Report::new(&analysis.summary.diagnostics);
            serde_json::to_writer_pretty(&mut *w, &report)
                .map_err(|e| io("diagnostics.json")(e.into()))?;
            w.write_all(b"\n").map_err(io("diagnostics.json"))
        })?;
        let tables = formats.tables;
        // with GeoParquet, communes.parquet is the GeoParquet layer and the other
        // tables come in Parquet too
        let plain = match (tables.csv(), tables.parquet() || formats.geoparquet) {
            (true, true) => TableFormat::Both,
            (false, true) => TableFormat::Parquet,
            _ => TableFormat::Csv,
        };
        match (formats.geoparquet, tables.csv()) {
            (false, _) => write_table(s, "communes", &stats.communes, tables)?,
            (true, true) => write_table(s, "communes", &stats.communes, TableFormat::Csv)?,
            (true, false) => {}
        }
        write_table(s, "cpts", &stats.cpts, plain)?;
        write_table(s, "departements", &stats.departements, plain)?;
        write_table(s, "regions", &stats.regions, plain)?;

        Ok(())
    };
    let territories = || -> Result<()> {
        s.write("territories.geojson", |w| {
            // the largest output (127 MB for a full-resolution layer): features are
            // encoded in parallel, a slice of CPTS at a time so that memory holds a
            // slice and not the file, and written in CPTS order
            let mut fw = FeatureWriter::new(w).map_err(io("territories.geojson"))?;
            let all: Vec<usize> = (0..decl.cpts.len()).collect();
            for slice in all.chunks(64) {
                let features: Vec<Vec<u8>> = slice
                    .par_iter()
                    .map(|&k| {
                        let (c, t) = (&decl.cpts[k], &cov.territories[k]);
                        let props = TerritoryProps {
                            cpts_id: &c.id,
                            cpts_name: &c.name,
                            status: c.status.map_or("", |s| s.as_str()),
                            communes: t.members.len(),
                            population: t.population,
                            area_km2: round6(t.area_km2),
                            size_class: t.size_class,
                            parts: t.parts.len(),
                            departements: t.departements.join("|"),
                            regions: t.regions.join("|"),
                        };
                        let mut buf = Vec::new();
                        encode_feature(&mut buf, &props, &outlines.territories[k]).map(|_| buf)
                    })
                    .collect::<std::io::Result<_>>()
                    .map_err(io("territories.geojson"))?;
                for f in &features {
                    fw.encoded(f).map_err(io("territories.geojson"))?;
                }
            }
            fw.finish().map(|_| ()).map_err(io("territories.geojson"))
        })?;
        Ok(())
    };
    let zones_and_pieces = || -> Result<()> {
        s.write("white_zones.geojson", |w| {
            let mut fw = FeatureWriter::new(w).map_err(io("white_zones.geojson"))?;
            for (z, g) in cov.white_zones.iter().zip(&outlines.white_zones) {
                let codes: Vec<&str> = z
                    .members
                    .iter()
                    .map(|&i| communes.get(i).code.as_str())
                    .collect();
                let props = ZoneProps {
                    zone_id: z.id,
                    communes: z.members.len(),
                    codes: codes.join("|"),
                    population: z.population,
                    area_km2: round6(z.area_km2),
                };
                fw.feature(&props, g).map_err(io("white_zones.geojson"))?;
            }
            fw.finish().map(|_| ()).map_err(io("white_zones.geojson"))
        })?;
        let ids_of = |owners: &[u32]| layers::join_ids(decl, owners);
        let codes_of = |members: &[u32]| layers::join_codes(communes, members);
        let piece_props = |kind: &'static str, k: usize, p: &crate::overlay::Piece| PieceProps {
            kind,
            piece_id: k as u32 + 1,
            cpts_ids: ids_of(&p.owners),
            communes: p.communes.len(),
            codes: codes_of(&p.communes),
            population: p.population.round() as u64,
            area_km2: round6(p.area_km2),
        };
        s.write("overlaps.geojson", |w| {
            let mut fw = FeatureWriter::new(w).map_err(io("overlaps.geojson"))?;
            if let Some(overlay) = &cov.overlay {
                // drawn territories: one feature per overlap piece
                for (k, p) in overlay.overlaps.iter().enumerate() {
                    fw.feature(&piece_props("overlap", k, p), &p.geometry)
                        .map_err(io("overlaps.geojson"))?;
                }
            } else {
                // commune lists: one feature per overlapped commune
                for (i, claim) in cov
                    .claimants
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| c.len() > 1)
                {
                    let c = communes.get(i as u32);
                    let props = OverlapProps {
                        code: &c.code,
                        name: &c.name,
                        cpts_ids: ids_of(claim),
                        population: communes.population[i],
                        area_km2: round6(communes.area_km2[i]),
                    };
                    fw.feature(&props, &c.geometry)
                        .map_err(io("overlaps.geojson"))?;
                }
            }
            fw.finish().map(|_| ()).map_err(io("overlaps.geojson"))
        })?;
        if let Some(overlay) = &cov.overlay {
            s.write("slivers.geojson", |w| {
                let mut fw = FeatureWriter::new(w).map_err(io("slivers.geojson"))?;
                for (k, p) in overlay.slivers.iter().enumerate() {
                    let kind = if p.owners.is_empty() {
                        "gap"
                    } else {
                        "overlap"
                    };
                    fw.feature(&piece_props(kind, k, p), &p.geometry)
                        .map_err(io("slivers.geojson"))?;
                }
                fw.finish().map(|_| ()).map_err(io("slivers.geojson"))
            })?;
        }
        Ok(())
    };
    let (first, (second, third)) = rayon::join(tables_and_reports, || {
        rayon::join(territories, zones_and_pieces)
    });
    first.and(second).and(third)?;
    analysis.timings.record("export", t.elapsed());
    if formats.geoparquet {
        analysis
            .timings
            .time("geoparquet", || geoparquet::stage(s, analysis, stats))?;
    }
    Ok(())
}
