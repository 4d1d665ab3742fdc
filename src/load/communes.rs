//! The commune layer: a GeoJSON FeatureCollection of Polygon / MultiPolygon in
//! longitude/latitude, read straight into `geo` types by a streaming serde visitor
//! (no intermediate JSON tree: about half the time and memory of building
//! `geojson::FeatureCollection` first, on the national file).

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

use geo::{Coord, LineString, MultiPolygon, Polygon};
use rayon::prelude::*;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::source::Source;
use crate::diagnostics::{sample, Diagnostic, DiagnosticKind};
use crate::error::{Error, Result};

/// Property names tried, in order, for the INSEE code when none is given.
pub const CODE_FIELDS: &[&str] = &[
    "code",
    "INSEE_COM",
    "insee_com",
    "code_insee",
    "codgeo",
    "CODGEO",
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
pub const POPULATION_FIELDS: &[&str] = &["POPULATION", "population"];

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
        code: candidates(&fields.code, CODE_FIELDS),
        name: candidates(&fields.name, NAME_FIELDS),
        population: candidates(&fields.population, POPULATION_FIELDS),
    };
    let mut de = serde_json::Deserializer::from_slice(&source.bytes);
    let raw = CollectionSeed { ctx: &ctx }
        .deserialize(&mut de)
        .and_then(|r| de.end().map(|_| r))
        .map_err(|e| Error::Json {
            path: source.name.clone(),
            message: format!("not a valid GeoJSON FeatureCollection: {e}"),
        })?;
    build_layer(source, raw, &ctx)
}

fn candidates(explicit: &Option<String>, usual: &[&str]) -> Vec<String> {
    match explicit {
        Some(name) => vec![name.clone()],
        None => usual.iter().map(|s| s.to_string()).collect(),
    }
}

struct Ctx {
    code: Vec<String>,
    name: Vec<String>,
    population: Vec<String>,
}

/// A property value found under one of the candidate names: (candidate rank, value).
type Found = Option<(usize, PropValue)>;

#[derive(Debug, Clone)]
enum PropValue {
    Str(String),
    Int(i64),
    Float(f64),
    Other,
}

struct RawFeature<'de> {
    code: Found,
    name: Found,
    population: Found,
    geometry: Option<RawGeometry<'de>>,
}

/// A geometry whose coordinates are still text: the sequential serde pass only
/// skips over them; they are parsed in parallel afterwards ([`coords`]).
struct RawGeometry<'de> {
    kind: Option<String>,
    coords: Option<&'de RawValue>,
}

struct CollectionSeed<'a> {
    ctx: &'a Ctx,
}

impl<'de> DeserializeSeed<'de> for CollectionSeed<'_> {
    type Value = Vec<RawFeature<'de>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for CollectionSeed<'_> {
    type Value = Vec<RawFeature<'de>>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a GeoJSON FeatureCollection object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut features = None;
        let mut kind: Option<String> = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "features" => features = Some(map.next_value_seed(FeaturesSeed { ctx: self.ctx })?),
                "type" => kind = Some(map.next_value()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        match kind.as_deref() {
            Some("FeatureCollection") | None => {}
            Some(other) => {
                return Err(de::Error::custom(format!(
                    "top-level type is {other:?}, expected \"FeatureCollection\""
                )))
            }
        }
        features.ok_or_else(|| de::Error::custom("no \"features\" array"))
    }
}

struct FeaturesSeed<'a> {
    ctx: &'a Ctx,
}

impl<'de> DeserializeSeed<'de> for FeaturesSeed<'_> {
    type Value = Vec<RawFeature<'de>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for FeaturesSeed<'_> {
    type Value = Vec<RawFeature<'de>>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of features")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(1024));
        loop {
            let index = out.len();
            match seq.next_element_seed(FeatureSeed { ctx: self.ctx }) {
                Ok(Some(f)) => out.push(f),
                Ok(None) => return Ok(out),
                Err(e) => return Err(de::Error::custom(format!("feature {index}: {e}"))),
            }
        }
    }
}

struct FeatureSeed<'a> {
    ctx: &'a Ctx,
}

impl<'de> DeserializeSeed<'de> for FeatureSeed<'_> {
    type Value = RawFeature<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FeatureSeed<'_> {
    type Value = RawFeature<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a GeoJSON Feature object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut feature = RawFeature {
            code: None,
            name: None,
            population: None,
            geometry: None,
        };
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "properties" => {
                    let props: Option<(Found, Found, Found)> =
                        map.next_value_seed(OptionSeed(PropsSeed { ctx: self.ctx }))?;
                    if let Some((c, n, p)) = props {
                        feature.code = c;
                        feature.name = n;
                        feature.population = p;
                    }
                }
                "geometry" => feature.geometry = map.next_value_seed(OptionSeed(GeometrySeed))?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(feature)
    }
}

/// `null` or the inner seed's value.
struct OptionSeed<S>(S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for OptionSeed<S> {
    type Value = Option<S::Value>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for OptionSeed<S> {
    type Value = Option<S::Value>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("null or an object")
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.0.deserialize(d).map(Some)
    }
}

struct PropsSeed<'a> {
    ctx: &'a Ctx,
}

impl<'de> DeserializeSeed<'de> for PropsSeed<'_> {
    type Value = (Found, Found, Found);
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for PropsSeed<'_> {
    type Value = (Found, Found, Found);
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a properties object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut code, mut name, mut pop): (Found, Found, Found) = (None, None, None);
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let rank = |list: &[String]| list.iter().position(|c| c == key.as_ref());
            let slot = if let Some(r) = rank(&self.ctx.code) {
                Some((&mut code, r))
            } else if let Some(r) = rank(&self.ctx.name) {
                Some((&mut name, r))
            } else {
                rank(&self.ctx.population).map(|r| (&mut pop, r))
            };
            match slot {
                Some((slot, r)) => {
                    let v: PropValue = map.next_value::<PropAny>()?.0;
                    if slot.as_ref().is_none_or(|(old, _)| r < *old) {
                        *slot = Some((r, v));
                    }
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok((code, name, pop))
    }
}

struct PropAny(PropValue);

impl<'de> serde::Deserialize<'de> for PropAny {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PropAny;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a property value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PropAny, E> {
                Ok(PropAny(PropValue::Str(v.to_owned())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<PropAny, E> {
                Ok(PropAny(PropValue::Int(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<PropAny, E> {
                Ok(PropAny(
                    i64::try_from(v).map_or(PropValue::Other, PropValue::Int),
                ))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<PropAny, E> {
                Ok(PropAny(PropValue::Float(v)))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<PropAny, E> {
                Ok(PropAny(PropValue::Other))
            }
            fn visit_unit<E: de::Error>(self) -> Result<PropAny, E> {
                Ok(PropAny(PropValue::Other))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<PropAny, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(PropAny(PropValue::Other))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<PropAny, A::Error> {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(PropAny(PropValue::Other))
            }
        }
        d.deserialize_any(V)
    }
}

struct GeometrySeed;

impl<'de> DeserializeSeed<'de> for GeometrySeed {
    type Value = RawGeometry<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for GeometrySeed {
    type Value = RawGeometry<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a GeoJSON geometry object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut g = RawGeometry {
            kind: None,
            coords: None,
        };
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "type" => g.kind = Some(map.next_value()?),
                "coordinates" => g.coords = Some(map.next_value::<&'de RawValue>()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(g)
    }
}

fn text(v: &PropValue) -> Option<String> {
    match v {
        PropValue::Str(s) => Some(s.trim().to_owned()),
        PropValue::Int(i) => Some(i.to_string()),
        PropValue::Float(f) if f.fract() == 0.0 => Some(format!("{f:.0}")),
        _ => None,
    }
}

/// Turns raw features into communes, collecting every problem. Geometries are
/// parsed and checked in parallel; problems are listed in feature order.
fn build_layer(source: &Source, raw: Vec<RawFeature<'_>>, ctx: &Ctx) -> Result<CommuneLayer> {
    let path = source.name.clone();
    if raw.is_empty() {
        return Err(Error::Input(format!(
            "{}: the commune layer has no feature",
            path.display()
        )));
    }
    let field = |found: &Found, list: &[String]| found.as_ref().map(|(r, _)| list[*r].clone());
    let code_field = raw.iter().find_map(|f| field(&f.code, &ctx.code));
    let Some(code_field) = code_field else {
        return Err(Error::Features {
            path,
            problems: vec![format!(
                "no feature has a code property (looked for {}; name it with --code-field)",
                ctx.code.join(", ")
            )],
        });
    };
    let name_field = raw.iter().find_map(|f| field(&f.name, &ctx.name));
    let population_field = raw
        .iter()
        .find_map(|f| field(&f.population, &ctx.population));
    let codes: Vec<String> = raw
        .iter()
        .map(|f| {
            f.code
                .as_ref()
                .and_then(|(_, v)| text(v))
                .unwrap_or_default()
        })
        .collect();
    let label = |index: usize| match codes[index].as_str() {
        "" => format!("feature {index}"),
        code => format!("feature {index} ({code})"),
    };
    let geometries: Vec<Checked> = raw
        .par_iter()
        .enumerate()
        .map(|(index, f)| geometry(f.geometry.as_ref(), &label(index), &source.bytes))
        .collect();

    let mut problems = Vec::new();
    let mut unclosed = Vec::new();
    let mut communes = Vec::with_capacity(raw.len());
    let mut seen: HashMap<&str, usize> = HashMap::with_capacity(raw.len());
    for (index, (f, geometry)) in raw.iter().zip(geometries).enumerate() {
        let (code, label) = (&codes[index], label(index));
        if code.is_empty() {
            problems.push(format!(
                "{label}: no {code_field} property (the INSEE code)"
            ));
            continue;
        }
        if let Some(first) = seen.insert(code, index) {
            problems.push(format!("{label}: code {code} repeats feature {first}"));
            continue;
        }
        let population = match f.population.as_ref().map(|(_, v)| v) {
            None | Some(PropValue::Other) => None,
            Some(PropValue::Int(i)) if *i >= 0 => Some(*i as u64),
            Some(PropValue::Float(x)) if *x >= 0.0 && x.fract() == 0.0 => Some(*x as u64),
            Some(PropValue::Str(s)) if s.trim().parse::<u64>().is_ok() => s.trim().parse().ok(),
            Some(other) => {
                problems.push(format!(
                    "{label}: population {other:?} is not a whole number ≥ 0"
                ));
                continue;
            }
        };
        match geometry {
            Ok((geometry, repaired)) => {
                unclosed.extend(repaired);
                communes.push(Commune {
                    code: code.clone(),
                    name: f
                        .name
                        .as_ref()
                        .and_then(|(_, v)| text(v))
                        .unwrap_or_default(),
                    population,
                    geometry,
                })
            }
            Err(p) => problems.push(p),
        }
    }
    if !problems.is_empty() {
        return Err(Error::Features { path, problems });
    }
    communes.sort_unstable_by(|a, b| a.code.cmp(&b.code));
    let mut diagnostics = Vec::new();
    if !unclosed.is_empty() {
        diagnostics.push(Diagnostic::new(
            DiagnosticKind::RepairedRing,
            format!(
                "{}: {} ring(s) were not closed and have been closed: {}",
                path.display(),
                unclosed.len(),
                sample(&unclosed, 5)
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
    })
}

/// A checked geometry with the rings that were closed, or the problem found.
type Checked = Result<(MultiPolygon<f64>, Vec<String>), String>;

/// Parses and checks one geometry; returns it oriented, with the rings it closed.
fn geometry(g: Option<&RawGeometry<'_>>, label: &str, whole: &[u8]) -> Checked {
    let g = g.ok_or_else(|| format!("{label}: no geometry"))?;
    let kind = g.kind.as_deref().unwrap_or_default();
    let Some(raw) = g.coords else {
        return Err(match kind {
            "" => format!("{label}: geometry has no type"),
            _ => format!("{label}: geometry has no coordinates"),
        });
    };
    let mut parser = coords::Parser::new(raw.get());
    let depth = parser.depth();
    let at_error = |e: coords::SyntaxError| {
        let offset = raw.get().as_ptr() as usize - whole.as_ptr() as usize + e.offset;
        let (line, column) = line_column(whole, offset);
        format!(
            "{label}: coordinates: {} at line {line} column {column}",
            e.message
        )
    };
    let polys = match (kind, depth) {
        ("Polygon" | "MultiPolygon", 1) => return Err(format!("{label}: empty geometry")),
        ("Polygon", 3) => vec![parser.polygon().map_err(at_error)?],
        ("MultiPolygon", 4) => parser.multi_polygon().map_err(at_error)?,
        ("Polygon" | "MultiPolygon", _) => {
            return Err(format!(
                "{label}: coordinates are nested {depth} deep, a {kind} needs {}",
                if kind == "Polygon" { 3 } else { 4 }
            ))
        }
        ("", _) => return Err(format!("{label}: geometry has no type")),
        (other, _) => {
            return Err(format!(
                "{label}: geometry is a {other}, expected Polygon or MultiPolygon"
            ))
        }
    };
    let multi = polys.len() > 1;
    let mut repaired = Vec::new();
    let mut out = Vec::with_capacity(polys.len());
    for (pi, rings) in polys.into_iter().enumerate() {
        let mut lines = Vec::with_capacity(rings.len());
        for (ri, mut ring) in rings.into_iter().enumerate() {
            let at = if multi {
                format!("{label}: polygon {pi} ring {ri}")
            } else {
                format!("{label}: ring {ri}")
            };
            if let Some(c) = ring
                .iter()
                .find(|c| !(c.x.abs() <= 180.0 && c.y.abs() <= 90.0))
            {
                return Err(format!(
                    "{at}: coordinate ({}, {}) is not longitude/latitude (projected coordinates need reprojecting to WGS84)",
                    c.x, c.y
                ));
            }
            if ring.len() >= 2 && ring.first() != ring.last() {
                ring.push(ring[0]);
                repaired.push(at.clone());
            }
            if ring.len() < 4 {
                return Err(format!(
                    "{at} has {} points, 4 needed (a closed triangle)",
                    ring.len()
                ));
            }
            lines.push(LineString::new(ring));
        }
        let mut it = lines.into_iter();
        let Some(exterior) = it.next() else {
            return Err(format!("{label}: polygon {pi} has no ring"));
        };
        out.push(oriented(Polygon::new(exterior, it.collect())));
    }
    Ok((MultiPolygon::new(out), repaired))
}

/// 1-based line and column of a byte offset.
fn line_column(text: &[u8], offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = offset
        - before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1)
        + 1;
    (line, column)
}

/// A small parser for GeoJSON coordinate arrays whose nesting depth is known. The
/// text has already been checked to be valid JSON by serde_json; this only checks
/// the shape (positions of 2 or 3 numbers, nesting) and builds `geo` coordinates.
mod coords {
    use geo::Coord;

    /// A shape problem at a byte offset of the coordinates text.
    pub(super) struct SyntaxError {
        pub message: &'static str,
        pub offset: usize,
    }

    type R<T> = Result<T, SyntaxError>;

    pub(super) struct Parser<'a> {
        b: &'a [u8],
        i: usize,
    }

    impl<'a> Parser<'a> {
        pub fn new(text: &'a str) -> Self {
            Parser {
                b: text.as_bytes(),
                i: 0,
            }
        }

        /// How many `[` open before the first number (1 for `[]`).
        pub fn depth(&self) -> usize {
            self.b
                .iter()
                .filter(|c| !c.is_ascii_whitespace())
                .take_while(|&&c| c == b'[')
                .count()
        }

        fn err(&self, message: &'static str) -> SyntaxError {
            SyntaxError {
                message,
                offset: self.i,
            }
        }

        fn peek(&mut self) -> Option<u8> {
            while self.i < self.b.len() && self.b[self.i].is_ascii_whitespace() {
                self.i += 1;
            }
            self.b.get(self.i).copied()
        }

        fn expect(&mut self, c: u8, message: &'static str) -> R<()> {
            if self.peek() == Some(c) {
                self.i += 1;
                Ok(())
            } else {
                Err(self.err(message))
            }
        }

        fn list<T>(&mut self, mut item: impl FnMut(&mut Self) -> R<T>) -> R<Vec<T>> {
            self.expect(b'[', "expected [")?;
            let mut out = Vec::new();
            if self.peek() == Some(b']') {
                self.i += 1;
                return Ok(out);
            }
            loop {
                out.push(item(self)?);
                match self.peek() {
                    Some(b',') => self.i += 1,
                    Some(b']') => {
                        self.i += 1;
                        return Ok(out);
                    }
                    _ => return Err(self.err("expected , or ]")),
                }
            }
        }

        fn number(&mut self) -> R<f64> {
            self.peek();
            let start = self.i;
            while self.i < self.b.len()
                && matches!(
                    self.b[self.i],
                    b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'
                )
            {
                self.i += 1;
            }
            std::str::from_utf8(&self.b[start..self.i])
                .ok()
                .and_then(|t| t.parse::<f64>().ok())
                .filter(|x| x.is_finite())
                .ok_or(SyntaxError {
                    message: "expected a finite number",
                    offset: start,
                })
        }

        fn position(&mut self) -> R<Coord<f64>> {
            self.expect(b'[', "expected a position [x, y]")?;
            let x = self.number()?;
            self.expect(b',', "a position needs two numbers")?;
            let y = self.number()?;
            while self.peek() == Some(b',') {
                self.i += 1;
                self.number()?;
            }
            self.expect(b']', "expected ] after a position")?;
            Ok(Coord { x, y })
        }

        fn ring(&mut self) -> R<Vec<Coord<f64>>> {
            self.list(Self::position)
        }

        pub fn polygon(&mut self) -> R<Vec<Vec<Coord<f64>>>> {
            self.list(Self::ring)
        }

        pub fn multi_polygon(&mut self) -> R<Vec<Vec<Vec<Coord<f64>>>>> {
            self.list(Self::polygon)
        }
    }
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
