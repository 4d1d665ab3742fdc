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
    let t = std::time::Instant::now();
    let layers = layers::feature_layers(analysis, &stats)?;
    stage_files(s, analysis, &stats, &layers, &formats)?;
    analysis.timings.record("export", t.elapsed());
    if formats.geoparquet {
        analysis
            .timings
            .time("geoparquet", || geoparquet::stage_layers(s, &layers))?;
    }
    if formats.gpkg {
        let options = GpkgOptions {
            date: formats.date.clone(),
        };
        analysis.timings.time("gpkg", || {
            gpkg::stage_content(s, gpkg::FILE, &gpkg::content(layers, &stats), &options)
        })?;
    }
    Ok(())
}

/// The tables, the reports and the GeoJSON layers: every feature layer but the
/// communes (which the tables already hold) as `<name>.geojson`.
fn stage_files(
    s: &Staging,
    analysis: &Analysis,
    stats: &crate::stats::Stats,
    layers: &[layers::Layer<'_>],
    formats: &Formats,
) -> Result<()> {
    let dir = s.dir().to_owned();
    let io = |name: &str| {
        let p = dir.join(name);
        move |e: std::io::Error| Error::io(p, e)
    };
    // the reports and tables and the GeoJSON layers are independent: written side
    // by side (each file is still written whole by one thread, so the bytes do not
    // change)
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
    let geojson = || -> Result<()> {
        layers
            .iter()
            .filter(|l| l.name != "communes")
            .try_for_each(|layer| stage_geojson(s, layer))
    };
    let (first, second) = rayon::join(tables_and_reports, geojson);
    first.and(second)
}

/// Stages `layer` as `<name>.geojson`, its attributes as properties.
fn stage_geojson(s: &Staging, layer: &layers::Layer<'_>) -> Result<()> {
    let name = format!("{}.geojson", layer.name);
    let path = s.dir().join(&name);
    let io = |e: std::io::Error| Error::io(path.clone(), e);
    let properties = geojson::rows_as_json(layer.name, &layer.table)?;
    s.write(&name, |w| {
        // territories.geojson is the largest output (127 MB for a full-resolution
        // layer): features are encoded in parallel, a slice at a time so that
        // memory holds a slice and not the file, and written in order
        let mut fw = FeatureWriter::new(w).map_err(io)?;
        let rows = layer.geometries.len();
        for start in (0..rows).step_by(64) {
            let features: Vec<Vec<u8>> = (start..(start + 64).min(rows))
                .into_par_iter()
                .map(|k| {
                    let mut buf = Vec::new();
                    geojson::encode_with_properties(&mut buf, &properties[k], layer.geometries[k]);
                    buf
                })
                .collect();
            for f in &features {
                fw.encoded(f).map_err(io)?;
            }
        }
        fw.finish().map(|_| ()).map_err(io)
    })
}
