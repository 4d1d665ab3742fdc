//! A small streaming GeoJSON (RFC 7946) writer: features one after the other,
//! exteriors counter-clockwise.
//!
//! Coordinates are written exactly, in the shortest form that reads back to the
//! same number (ryu): input with 5 decimals stays 5 decimals. They are not rounded,
//! because rounding can make a valid polygon invalid: overlay pieces have vertices
//! closer than any rounding step, which would merge or cross.

use std::io::{self, Write};

use geo::{LineString, MultiPolygon, Polygon};
use polars::prelude::{Column, DataFrame, DataType};
use serde::Serialize;

use crate::error::{Error, Result};

/// Writes a FeatureCollection feature by feature.
pub struct FeatureWriter<W: Write> {
    w: W,
    first: bool,
}

impl<W: Write> FeatureWriter<W> {
    /// Starts the collection.
    pub fn new(mut w: W) -> io::Result<Self> {
        w.write_all(b"{\"type\":\"FeatureCollection\",\"features\":[")?;
        Ok(FeatureWriter { w, first: true })
    }

    /// Writes one feature: its properties (any serialisable map or struct) and its
    /// geometry (`null` when empty; a Polygon when it has one part).
    pub fn feature(
        &mut self,
        properties: &impl Serialize,
        geometry: &MultiPolygon<f64>,
    ) -> io::Result<()> {
        let mut buf = Vec::new();
        encode_feature(&mut buf, properties, geometry)?;
        self.encoded(&buf)
    }

    /// Writes one feature already encoded by [`encode_feature`] (features can so be
    /// encoded in parallel and written in order).
    pub fn encoded(&mut self, feature: &[u8]) -> io::Result<()> {
        self.w.write_all(if self.first { b"\n" } else { b",\n" })?;
        self.first = false;
        self.w.write_all(feature)
    }

    /// Closes the collection and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.w.write_all(b"\n]}\n")?;
        Ok(self.w)
    }
}

/// Encodes one feature (without separator) into `out`.
pub fn encode_feature(
    out: &mut Vec<u8>,
    properties: &impl Serialize,
    geometry: &MultiPolygon<f64>,
) -> io::Result<()> {
    let mut props = Vec::new();
    serde_json::to_writer(&mut props, properties)?;
    encode_with_properties(out, &props, geometry);
    Ok(())
}

/// Encodes one feature whose properties are already a JSON object (a row of
/// [`rows_as_json`]).
pub fn encode_with_properties(out: &mut Vec<u8>, properties: &[u8], geometry: &MultiPolygon<f64>) {
    out.extend_from_slice(b"{\"type\":\"Feature\",\"properties\":");
    out.extend_from_slice(properties);
    out.extend_from_slice(b",\"geometry\":");
    let mut f = ryu::Buffer::new();
    match geometry.0.as_slice() {
        [] => out.extend_from_slice(b"null"),
        [one] => {
            out.extend_from_slice(b"{\"type\":\"Polygon\",\"coordinates\":");
            polygon(out, one, &mut f);
            out.push(b'}');
        }
        many => {
            out.extend_from_slice(b"{\"type\":\"MultiPolygon\",\"coordinates\":[");
            for (k, p) in many.iter().enumerate() {
                if k > 0 {
                    out.push(b',');
                }
                polygon(out, p, &mut f);
            }
            out.extend_from_slice(b"]}");
        }
    }
    out.push(b'}');
}

/// Each row of `table` as a JSON object, its columns in order: a GeoJSON
/// feature's properties. Text is a string, integers and booleans are themselves,
/// floats are written in their shortest exact form (as in the CSV tables), a
/// null is `null`; any other type is written as polars writes it as text.
///
/// This is how the GeoJSON layers take their attributes from the same
/// [`Layer`](super::layers::Layer) tables as the GeoPackage and the GeoParquet
/// layers: one description, three encodings.
///
/// # Errors
/// [`Error::Table`] if a column cannot be read as its type says.
pub fn rows_as_json(name: &str, table: &DataFrame) -> Result<Vec<Vec<u8>>> {
    let err = |source| Error::Table {
        context: format!("{name} layer"),
        source,
    };
    let mut rows: Vec<Vec<u8>> = vec![vec![b'{']; table.height()];
    for (k, column) in table.columns().iter().enumerate() {
        let mut key = Vec::new();
        serde_json::to_writer(&mut key, column.name().as_str()).expect("a string serialises");
        for row in rows.iter_mut() {
            if k > 0 {
                row.push(b',');
            }
            row.extend_from_slice(&key);
            row.push(b':');
        }
        write_values(column, &mut rows).map_err(err)?;
    }
    for row in &mut rows {
        row.push(b'}');
    }
    Ok(rows)
}

/// Appends each value of `column` to its row.
fn write_values(column: &Column, rows: &mut [Vec<u8>]) -> polars::prelude::PolarsResult<()> {
    fn each<T>(
        rows: &mut [Vec<u8>],
        values: impl Iterator<Item = Option<T>>,
        f: impl Fn(&mut Vec<u8>, T),
    ) {
        for (row, v) in rows.iter_mut().zip(values) {
            match v {
                Some(v) => f(row, v),
                None => row.extend_from_slice(b"null"),
            }
        }
    }
    let int = |row: &mut Vec<u8>, v: i128| {
        row.extend_from_slice(itoa::Buffer::new().format(v).as_bytes())
    };
    let float = |row: &mut Vec<u8>, v: f64| {
        if v.is_finite() {
            row.extend_from_slice(ryu::Buffer::new().format_finite(v).as_bytes());
        } else {
            // JSON has no NaN nor infinity
            row.extend_from_slice(b"null");
        }
    };
    let text = |row: &mut Vec<u8>, v: &str| {
        serde_json::to_writer(&mut *row, v).expect("a string serialises");
    };
    let dt = column.dtype();
    if *dt == DataType::UInt64 {
        each(rows, column.u64()?.iter(), |row, v| int(row, v.into()));
    } else if dt.is_integer() {
        let v = column.cast(&DataType::Int64)?;
        each(rows, v.i64()?.iter(), |row, v| int(row, v.into()));
    } else if *dt == DataType::Boolean {
        each(rows, column.bool()?.iter(), |row, v| {
            row.extend_from_slice(if v { b"true" } else { b"false" })
        });
    } else if dt.is_float() {
        let v = column.cast(&DataType::Float64)?;
        each(rows, v.f64()?.iter(), float);
    } else {
        let v = column.cast(&DataType::String)?;
        each(rows, v.str()?.iter(), text);
    }
    Ok(())
}

fn polygon(out: &mut Vec<u8>, p: &Polygon<f64>, f: &mut ryu::Buffer) {
    out.push(b'[');
    ring(out, p.exterior(), f);
    for h in p.interiors() {
        out.push(b',');
        ring(out, h, f);
    }
    out.push(b']');
}

fn ring(out: &mut Vec<u8>, r: &LineString<f64>, f: &mut ryu::Buffer) {
    out.push(b'[');
    for (k, c) in r.0.iter().enumerate() {
        if k > 0 {
            out.push(b',');
        }
        out.push(b'[');
        out.extend_from_slice(f.format_finite(c.x + 0.0).as_bytes());
        out.push(b',');
        out.extend_from_slice(f.format_finite(c.y + 0.0).as_bytes());
        out.push(b']');
    }
    out.push(b']');
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    #[test]
    fn writes_parsable_geojson_with_exact_coordinates() {
        let p = polygon![(x: 5.545541234567, y: 45.0), (x: 6.0, y: 45.0), (x: 6.0, y: 46.0)];
        let mut fw = FeatureWriter::new(Vec::new()).unwrap();
        fw.feature(
            &serde_json::json!({"id": "a"}),
            &MultiPolygon::new(vec![p.clone()]),
        )
        .unwrap();
        fw.feature(&serde_json::json!({"id": "b"}), &MultiPolygon::new(vec![]))
            .unwrap();
        fw.feature(
            &serde_json::json!({"id": "c"}),
            &MultiPolygon::new(vec![p.clone(), p]),
        )
        .unwrap();
        let text = String::from_utf8(fw.finish().unwrap()).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let f = v["features"].as_array().unwrap();
        assert_eq!(f.len(), 3);
        assert_eq!(f[0]["geometry"]["type"], "Polygon");
        assert_eq!(
            f[0]["geometry"]["coordinates"][0][0][0].as_f64(),
            Some(5.545541234567)
        );
        assert!(f[1]["geometry"].is_null());
        assert_eq!(f[2]["geometry"]["type"], "MultiPolygon");
        assert!(text.contains("[5.545541234567,45.0]"), "{text}");
    }

    #[test]
    fn rows_become_json_objects_with_typed_values_in_column_order() {
        use polars::prelude::{NamedFrom, Series};
        let col = |s: Series| Column::from(s);
        let df = DataFrame::new(
            3,
            vec![
                col(Series::new(
                    "code".into(),
                    &[Some("01001"), None, Some("a\"b")],
                )),
                col(Series::new("population".into(), &[u64::MAX, 0, 7])),
                col(Series::new("class".into(), &[1u32, 2, 3])),
                col(Series::new("delta".into(), &[-5i32, 0, 5])),
                col(Series::new("area".into(), &[0.1, f64::NAN, 12.0])),
                col(Series::new("ok".into(), &[true, false, true])),
            ],
        )
        .unwrap();
        let rows = rows_as_json("t", &df).unwrap();
        let text: Vec<&str> = rows
            .iter()
            .map(|r| std::str::from_utf8(r).unwrap())
            .collect();
        assert_eq!(
            text[0],
            r#"{"code":"01001","population":18446744073709551615,"class":1,"delta":-5,"area":0.1,"ok":true}"#
        );
        // a null and a NaN are both null: JSON has no NaN
        assert_eq!(
            text[1],
            r#"{"code":null,"population":0,"class":2,"delta":0,"area":null,"ok":false}"#
        );
        // text is escaped; floats keep serde_json's form (12.0, not 12)
        assert_eq!(
            text[2],
            r#"{"code":"a\"b","population":7,"class":3,"delta":5,"area":12.0,"ok":true}"#
        );
        for t in text {
            serde_json::from_str::<serde_json::Value>(t).unwrap();
        }
    }
}
