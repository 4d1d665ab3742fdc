//! A small streaming GeoJSON (RFC 7946) writer: features one after the other,
//! coordinates rounded to 1e-7 degree (about 1 cm), exteriors counter-clockwise.

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
        self.w.write_all(if self.first { b"\n" } else { b",\n" })?;
        self.first = false;
        self.w.write_all(b"{\"type\":\"Feature\",\"properties\":")?;
        serde_json::to_writer(&mut self.w, properties)?;
        self.w.write_all(b",\"geometry\":")?;
        match geometry.0.as_slice() {
            [] => self.w.write_all(b"null")?,
            [one] => {
                self.w
                    .write_all(b"{\"type\":\"Polygon\",\"coordinates\":")?;
                polygon(&mut self.w, one)?;
                self.w.write_all(b"}")?;
            }
            many => {
                self.w
                    .write_all(b"{\"type\":\"MultiPolygon\",\"coordinates\":[")?;
                for (k, p) in many.iter().enumerate() {
                    if k > 0 {
                        self.w.write_all(b",")?;
                    }
                    polygon(&mut self.w, p)?;
                }
                self.w.write_all(b"]}")?;
            }
        }
        self.w.write_all(b"}")
    }

    /// Closes the collection and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.w.write_all(b"\n]}\n")?;
        Ok(self.w)
    }
}

fn polygon(w: &mut impl Write, p: &Polygon<f64>) -> io::Result<()> {
    w.write_all(b"[")?;
    ring(w, p.exterior())?;
    for h in p.interiors() {
        w.write_all(b",")?;
        ring(w, h)?;
    }
    w.write_all(b"]")
}

fn ring(w: &mut impl Write, r: &LineString<f64>) -> io::Result<()> {
    w.write_all(b"[")?;
    for (k, c) in r.0.iter().enumerate() {
        if k > 0 {
            w.write_all(b",")?;
        }
        write!(w, "[{},{}]", round7(c.x), round7(c.y))?;
    }
    w.write_all(b"]")
}

/// Rounds to 7 decimals; `Display` then prints the shortest form (`5.54554`).
fn round7(x: f64) -> f64 {
    (x * 1e7).round() / 1e7 + 0.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    #[test]
    fn writes_parsable_geojson_with_rounded_coordinates() {
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
            Some(5.5455412)
        );
        assert!(f[1]["geometry"].is_null());
        assert_eq!(f[2]["geometry"]["type"], "MultiPolygon");
        assert!(text.contains("[5.5455412,45]"), "{text}");
    }
}
