//! GeoParquet 1.1: `communes.parquet`, `territories.parquet`,
//! `white_zones.parquet`, `overlaps.parquet` (and `slivers.parquet` with drawn
//! territories), for DuckDB, Apache Sedona, BigQuery and geopandas.
//!
//! Each file holds the layer's attributes, its geometry as WKB in a `geometry`
//! column, and a `bbox` struct column (`xmin, ymin, xmax, ymax`) declared as the
//! geometry's *covering* so that engines can skip row groups from their
//! statistics; rows keep the layer's order (communes by code: about by
//! département, so row groups are compact on the ground). The `geo` metadata
//! gives the CRS (OGC:CRS84, longitude/latitude, as PROJJSON), the geometry type,
//! the bounding box, counter-clockwise exteriors and planar edges (straight in
//! longitude/latitude, as in GeoJSON).

use polars::prelude::{
    Column, DataFrame, IdxCa, IdxSize, IntoSeries, KeyValueMetadata, NamedFrom, ParquetCompression,
    ParquetWriter, Series, StatisticsOptions, StructChunked,
};

use rayon::prelude::*;

use super::layers::{bbox, feature_layers, union, wkb, Layer};
use super::{table_err, Staging};
use crate::analysis::Analysis;
use crate::error::{Error, Result};
use crate::stats::Stats;

/// OGC:CRS84 as PROJJSON, as PROJ 9 writes it.
const CRS84: &str = include_str!("../data/crs84.projjson");

/// Rows per row group: 35 groups for the communes of France, each a compact
/// area (rows are in Hilbert order), so that a département-sized box reads a few
/// of them.
pub const ROW_GROUP: usize = 1024;

/// Row positions sorted along a Hilbert curve (order 16) of their boxes' centres
/// within `extent`; rows without a box last; ties by position.
fn hilbert_order(boxes: &[Option<[f64; 4]>], extent: [f64; 4]) -> Vec<IdxSize> {
    let scale = |v: f64, lo: f64, hi: f64| {
        if hi > lo {
            (((v - lo) / (hi - lo)) * 65535.0)
                .round()
                .clamp(0.0, 65535.0) as u32
        } else {
            0
        }
    };
    let mut keyed: Vec<(u64, IdxSize)> = boxes
        .iter()
        .enumerate()
        .map(|(k, b)| {
            let key = b.map_or(u64::MAX, |b| {
                let x = scale((b[0] + b[2]) / 2.0, extent[0], extent[2]);
                let y = scale((b[1] + b[3]) / 2.0, extent[1], extent[3]);
                hilbert(x, y)
            });
            (key, k as IdxSize)
        })
        .collect();
    keyed.sort_unstable();
    keyed.into_iter().map(|(_, k)| k).collect()
}

/// The distance along a Hilbert curve of side 2¹⁶ of the cell (x, y).
fn hilbert(mut x: u32, mut y: u32) -> u64 {
    let n: u32 = 1 << 16;
    let mut d: u64 = 0;
    let mut s = n / 2;
    while s > 0 {
        let rx = u32::from(x & s > 0);
        let ry = u32::from(y & s > 0);
        d += u64::from(s) * u64::from(s) * u64::from((3 * rx) ^ ry);
        // rotate the quadrant
        if ry == 0 {
            if rx == 1 {
                x = n - 1 - x;
                y = n - 1 - y;
            }
            std::mem::swap(&mut x, &mut y);
        }
        s /= 2;
    }
    d
}

/// The layer as a frame with `geometry` and `bbox`, and its `geo` metadata.
fn frame(layer: &Layer) -> Result<(DataFrame, String)> {
    let name = format!("{}.parquet", layer.name);
    let err = table_err(&name);
    let boxes: Vec<Option<[f64; 4]>> = layer.geometries.par_iter().map(|g| bbox(g)).collect();
    let blobs: Vec<Vec<u8>> = layer
        .geometries
        .par_iter()
        .map(|g| {
            let mut b = Vec::new();
            wkb(&mut b, g);
            b
        })
        .collect();
    let refs: Vec<&[u8]> = blobs.iter().map(Vec::as_slice).collect();
    let n = refs.len();
    let part = |k: usize, field: &str| {
        Series::new(
            field.into(),
            boxes
                .iter()
                .map(|b| b.map(|b| b[k]))
                .collect::<Vec<Option<f64>>>(),
        )
    };
    let fields = [
        part(0, "xmin"),
        part(1, "ymin"),
        part(2, "xmax"),
        part(3, "ymax"),
    ];
    let bbox_col = StructChunked::from_series("bbox".into(), n, fields.iter())
        .map_err(err)?
        .into_series();
    let mut df = layer.table.clone();
    df.with_column(Column::from(Series::new("geometry".into(), refs)))
        .map_err(table_err(&name))?;
    df.with_column(Column::from(bbox_col))
        .map_err(table_err(&name))?;
    let extent = union(boxes.iter().flatten().copied());
    // rows along a Hilbert curve of their boxes' centres (as GDAL's
    // SORT_BY_BBOX), so that each row group is a compact area a reader skips by
    // its bbox statistics; the tables keep the code order
    if let Some(e) = extent {
        let order = hilbert_order(&boxes, e);
        if order.iter().enumerate().any(|(k, &i)| k != i as usize) {
            let idx = IdxCa::from_vec("".into(), order);
            df = df.take(&idx).map_err(table_err(&name))?;
        }
    }
    let crs: serde_json::Value = serde_json::from_str(CRS84)
        .map_err(|e| Error::Input(format!("the bundled CRS84 PROJJSON: {e}")))?;
    let mut column = serde_json::json!({
        "encoding": "WKB",
        "geometry_types": ["MultiPolygon"],
        "crs": crs,
        "orientation": "counterclockwise",
        "edges": "planar",
        "covering": {"bbox": {
            "xmin": ["bbox", "xmin"], "ymin": ["bbox", "ymin"],
            "xmax": ["bbox", "xmax"], "ymax": ["bbox", "ymax"]
        }}
    });
    if let Some(e) = extent {
        column["bbox"] = serde_json::json!(e);
    }
    let geo = serde_json::json!({
        "version": "1.1.0",
        "primary_column": "geometry",
        "columns": {"geometry": column},
    });
    Ok((df, geo.to_string()))
}

/// Stages the GeoParquet layers of `analysis`.
///
/// # Errors
/// [`Error::Table`] or [`Error::Io`].
pub fn stage(staging: &Staging, analysis: &Analysis, stats: &Stats) -> Result<()> {
    stage_layers(staging, &feature_layers(analysis, stats)?)
}

/// Stages each layer as the GeoParquet file `<name>.parquet`: rows in Hilbert
/// order of their boxes, a `bbox` covering column, row groups a compact area.
///
/// # Errors
/// [`Error::Table`] or [`Error::Io`].
pub fn stage_layers(staging: &Staging, layers: &[Layer<'_>]) -> Result<()> {
    let frames: Vec<(DataFrame, String)> = layers.par_iter().map(frame).collect::<Result<_>>()?;
    for (layer, (df, geo)) in layers.iter().zip(frames) {
        let (mut df, arrow) = super::plain_arrow(&df, &[("geo", geo.as_str())])
            .map_err(super::table_err(format!("{}.parquet", layer.name)))?;
        let name = format!("{}.parquet", layer.name);
        let path = staging.dir().join(&name);
        staging.write(&name, |w| {
            ParquetWriter::new(w)
                .with_row_group_size(Some(ROW_GROUP))
                .with_compression(ParquetCompression::Snappy)
                .with_statistics(StatisticsOptions {
                    // min/max of bbox's fields let readers skip row groups; the
                    // geometry's own min/max (whole WKB blobs) would only bloat
                    // the footer: cut to 16 bytes
                    min_value: true,
                    max_value: true,
                    distinct_count: false,
                    null_count: true,
                    binary_statistics_truncate_length: Some(16),
                })
                .with_key_value_metadata(Some(KeyValueMetadata::from_static(vec![
                    arrow,
                    ("geo".to_owned(), geo),
                ])))
                .finish(&mut df)
                .map(|_| ())
                .map_err(table_err(path.display()))
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The curve visits every cell of a small grid once, neighbours one step
    /// apart.
    #[test]
    fn hilbert_is_a_path_through_every_cell() {
        // on the 4 x 4 corner of the grid, scaled: use the top bits only
        let mut seen = std::collections::BTreeMap::new();
        for x in 0..4u32 {
            for y in 0..4u32 {
                seen.insert(hilbert(x << 14, y << 14) >> 28, (x, y));
            }
        }
        assert_eq!(seen.len(), 16);
        let cells: Vec<(u32, u32)> = seen.into_values().collect();
        for w in cells.windows(2) {
            let d = w[0].0.abs_diff(w[1].0) + w[0].1.abs_diff(w[1].1);
            assert_eq!(d, 1, "{w:?}");
        }
    }
}
