//! A small streaming GeoJSON (RFC 7946) writer: features one after the other,
//! exteriors counter-clockwise.
//!
//! Coordinates are written exactly, in the shortest form that reads back to the
//! same number (ryu): input with 5 decimals stays 5 decimals. They are not rounded,
//! because rounding can make a valid polygon invalid: overlay pieces have vertices
//! closer than any rounding step, which would merge or cross.

use std::io::{self, Write};

use geo::{LineString, MultiPolygon, Polygon};
use serde::Serialize;

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
    out.extend_from_slice(b"{\"type\":\"Feature\",\"properties\":");
    serde_json::to_writer(&mut *out, properties)?;
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
}
