//! Reading GeoJSON FeatureCollections of Polygon / MultiPolygon: a streaming serde
//! pass that keeps only the wanted properties and borrows each geometry's
//! coordinates as text, then [`polygons`] parses coordinates (in parallel, by the
//! caller) into `geo` coordinates. Used for commune layers and drawn territories.

use std::fmt;

use geo::Coord;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::source::Source;
use crate::crs::Crs;
use crate::error::{Error, Result};

/// Reads every feature of a FeatureCollection, keeping the properties named in `ctx`,
/// and the name of the CRS the collection declares in a `crs` member (GeoJSON 2008;
/// RFC 7946 dropped it, but GDAL and QGIS still write it).
///
/// # Errors
/// [`Error::Json`] with line and column when the text is not JSON or not a
/// FeatureCollection.
pub(crate) fn read_collection<'de>(
    source: &'de Source,
    ctx: &Ctx,
) -> Result<(Vec<RawFeature<'de>>, Option<String>)> {
    let mut de = serde_json::Deserializer::from_slice(&source.bytes);
    CollectionSeed { ctx }
        .deserialize(&mut de)
        .and_then(|r| de.end().map(|_| r))
        .map_err(|e| Error::Json {
            path: source.name.clone(),
            message: format!("not a valid GeoJSON FeatureCollection: {e}"),
        })
}

/// The CRS a collection's `crs` member names, if any.
///
/// # Errors
/// [`Error::File`] naming the file when the member names a CRS maillage cannot read.
pub(crate) fn declared_crs(source: &Source, name: Option<String>) -> Result<Option<Crs>> {
    name.map(|n| {
        Crs::from_name(&n).map_err(|e| Error::File {
            path: source.name.clone(),
            message: format!("the crs member: {e}"),
        })
    })
    .transpose()
}

/// Reprojects every ring of a feature to longitude/latitude (nothing to do for a
/// longitude/latitude CRS); `label` names the feature in the error.
pub(crate) fn to_lon_lat(polys: &mut RawPolygons, crs: &Crs, label: &str) -> Result<(), String> {
    if crs.is_lon_lat() {
        return Ok(());
    }
    for ring in polys.iter_mut().flatten() {
        crs.to_lon_lat(ring).map_err(|e| format!("{label}: {e}"))?;
    }
    Ok(())
}

/// What [`check_ring`] did to a ring.
pub(crate) struct RingRepairs {
    /// Where the ring is, for messages: `feature 3 (04001): ring 0`.
    pub at: String,
    /// It was not closed and has been.
    pub closed: bool,
    /// Repeated consecutive points dropped.
    pub deduplicated: usize,
}

/// Checks one ring of polygon `pi`, ring `ri` of the feature `label`: coordinates
/// must be longitude/latitude; an unclosed ring is closed; with `dedup`, repeated
/// consecutive points are dropped; at least 4 points (a closed triangle) must remain.
pub(crate) fn check_ring(
    ring: &mut Vec<Coord<f64>>,
    label: &str,
    (pi, ri, multi): (usize, usize, bool),
    dedup: bool,
) -> Result<RingRepairs, String> {
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
            "{at}: coordinate ({}, {}) is not longitude/latitude (projected coordinates, such as Lambert-93 metres, need reprojecting to WGS84)",
            c.x, c.y
        ));
    }
    let before = ring.len();
    if dedup {
        ring.dedup();
    }
    let deduplicated = before - ring.len();
    let closed = ring.len() >= 2 && ring.first() != ring.last();
    if closed {
        ring.push(ring[0]);
    }
    if ring.len() < 4 {
        return Err(format!(
            "{at} has {} points, 4 needed (a closed triangle)",
            ring.len()
        ));
    }
    Ok(RingRepairs {
        at,
        closed,
        deduplicated,
    })
}

/// Rings of each polygon, as read (not yet checked, closed or oriented).
pub(crate) type RawPolygons = Vec<Vec<Vec<Coord<f64>>>>;

/// Parses a Polygon or MultiPolygon geometry's coordinates. `label` names the
/// feature in messages; `whole` is the source text, to locate errors by line.
pub(crate) fn polygons(
    g: Option<&RawGeometry<'_>>,
    label: &str,
    whole: &[u8],
) -> Result<RawPolygons, String> {
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
    match (kind, depth) {
        ("Polygon" | "MultiPolygon", 1) => Err(format!("{label}: empty geometry")),
        ("Polygon", 3) => Ok(vec![parser.polygon().map_err(at_error)?]),
        ("MultiPolygon", 4) => parser.multi_polygon().map_err(at_error),
        ("Polygon" | "MultiPolygon", _) => Err(format!(
            "{label}: coordinates are nested {depth} deep, a {kind} needs {}",
            if kind == "Polygon" { 3 } else { 4 }
        )),
        ("", _) => Err(format!("{label}: geometry has no type")),
        (other, _) => Err(format!(
            "{label}: geometry is a {other}, expected Polygon or MultiPolygon"
        )),
    }
}

/// The rings of the Polygon or MultiPolygon coordinates that start at byte `at` of
/// `text`, not yet checked by serde: the parser is strict JSON in what it reads.
/// Gives the nesting depth (3 for a Polygon, 4 for a MultiPolygon, as
/// [`polygons`] wants them) and where the coordinates end; `None` for anything
/// else. For the streamed reader, which leaves any problem to the whole one.
pub(crate) fn coordinates_at(text: &[u8], at: usize) -> Option<(usize, RawPolygons, usize)> {
    let mut parser = coords::Parser::at(text, at);
    let depth = parser.depth();
    let rings = match depth {
        3 => vec![parser.polygon().ok()?],
        4 => parser.multi_polygon().ok()?,
        _ => return None,
    };
    Some((depth, rings, parser.offset()))
}

/// The wanted properties of the `properties` value at the start of `text`
/// (`None` for `null`), and the length of that value's text; `None` when it is
/// not JSON or not an object.
pub(crate) fn properties_at(text: &[u8], ctx: &Ctx) -> Option<(Option<Vec<Found>>, usize)> {
    let mut values = serde_json::Deserializer::from_slice(text).into_iter::<&RawValue>();
    let raw = values.next()?.ok()?;
    let end = values.byte_offset();
    let mut de = serde_json::Deserializer::from_str(raw.get());
    let props = OptionSeed(PropsSeed { ctx }).deserialize(&mut de).ok()?;
    Some((props, end))
}

/// The properties wanted from each feature: for each slot, the names tried in order.
pub(crate) struct Ctx {
    pub slots: Vec<Vec<String>>,
}

/// A property value found under one of a slot's names: (rank of the name, value).
pub(crate) type Found = Option<(usize, PropValue)>;

/// A property value as read.
#[derive(Debug, Clone)]
pub(crate) enum PropValue {
    Str(String),
    Int(i64),
    Float(f64),
    Other,
}

/// A feature as read: the wanted properties (one per slot) and its geometry.
pub(crate) struct RawFeature<'de> {
    pub props: Vec<Found>,
    pub geometry: Option<RawGeometry<'de>>,
}

/// A geometry whose coordinates are still text: the sequential serde pass only
/// skips over them; they are parsed in parallel afterwards ([`polygons`]).
pub(crate) struct RawGeometry<'de> {
    kind: Option<String>,
    coords: Option<&'de RawValue>,
}

struct CollectionSeed<'a> {
    ctx: &'a Ctx,
}

impl<'de> DeserializeSeed<'de> for CollectionSeed<'_> {
    type Value = (Vec<RawFeature<'de>>, Option<String>);
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for CollectionSeed<'_> {
    type Value = (Vec<RawFeature<'de>>, Option<String>);
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a GeoJSON FeatureCollection object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut features = None;
        let mut kind: Option<String> = None;
        let mut crs = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "features" => features = Some(map.next_value_seed(FeaturesSeed { ctx: self.ctx })?),
                "type" => kind = Some(map.next_value()?),
                "crs" => {
                    let v: serde_json::Value = map.next_value()?;
                    crs = v["properties"]["name"]
                        .as_str()
                        .map(str::to_owned)
                        .or_else(|| Some(v.to_string()).filter(|s| s != "null"));
                }
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
        features
            .map(|f| (f, crs))
            .ok_or_else(|| de::Error::custom("no \"features\" array"))
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

pub(crate) struct FeatureSeed<'a> {
    pub ctx: &'a Ctx,
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
            props: vec![None; self.ctx.slots.len()],
            geometry: None,
        };
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "properties" => {
                    if let Some(props) =
                        map.next_value_seed(OptionSeed(PropsSeed { ctx: self.ctx }))?
                    {
                        feature.props = props;
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
    type Value = Vec<Found>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for PropsSeed<'_> {
    type Value = Vec<Found>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a properties object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found: Vec<Found> = vec![None; self.ctx.slots.len()];
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let hit = self.ctx.slots.iter().enumerate().find_map(|(s, names)| {
                names.iter().position(|n| n == key.as_ref()).map(|r| (s, r))
            });
            match hit {
                Some((s, r)) => {
                    let v: PropValue = map.next_value::<PropAny>()?.0;
                    if found[s].as_ref().is_none_or(|(old, _)| r < *old) {
                        found[s] = Some((r, v));
                    }
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(found)
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
                // above i64: kept as a number (a population that large is then
                // refused by name, not ignored)
                Ok(PropAny(
                    i64::try_from(v).map_or(PropValue::Float(v as f64), PropValue::Int),
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

/// A property as text: strings trimmed, whole numbers printed.
pub(crate) fn text(v: &PropValue) -> Option<String> {
    match v {
        PropValue::Str(s) => Some(s.trim().to_owned()),
        PropValue::Int(i) => Some(i.to_string()),
        PropValue::Float(f) if f.fract() == 0.0 => Some(format!("{f:.0}")),
        _ => None,
    }
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

/// JSON's whitespace (not form feed or vertical tab).
pub(crate) fn is_blank(c: &u8) -> bool {
    matches!(c, b' ' | b'\n' | b'\r' | b'\t')
}

/// A small parser for GeoJSON coordinate arrays whose nesting depth is known: it
/// checks the shape (positions of 2 or 3 numbers, nesting) and builds `geo`
/// coordinates. It reads strict JSON (its whitespace, its numbers), so the
/// streamed reader can use it on text serde has not seen.
mod coords {
    use super::is_blank;
    use geo::Coord;

    /// A shape problem at a byte offset of the coordinates text.
    pub(super) struct SyntaxError {
        pub message: &'static str,
        pub offset: usize,
    }

    type R<T> = Result<T, SyntaxError>;

    /// 10^0 to 10^22, each exact in an `f64`.
    const POWERS_OF_TEN: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];

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

        /// A parser of the coordinates that start at byte `at` of `text`.
        pub fn at(text: &'a [u8], at: usize) -> Self {
            Parser { b: text, i: at }
        }

        /// Where the parser is: after the last value read.
        pub fn offset(&self) -> usize {
            self.i
        }

        /// How many `[` open before the first number (1 for `[]`).
        pub fn depth(&self) -> usize {
            self.b
                .get(self.i..)
                .unwrap_or_default()
                .iter()
                .filter(|c| !is_blank(c))
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
            while self.b.get(self.i).is_some_and(is_blank) {
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

        fn list<T>(&mut self, item: impl FnMut(&mut Self) -> R<T>) -> R<Vec<T>> {
            let mut out = Vec::new();
            self.list_into(&mut out, item)?;
            Ok(out)
        }

        /// The items of a JSON array, pushed onto `out`.
        fn list_into<T>(
            &mut self,
            out: &mut Vec<T>,
            mut item: impl FnMut(&mut Self) -> R<T>,
        ) -> R<()> {
            self.expect(b'[', "expected [")?;
            if self.peek() == Some(b']') {
                self.i += 1;
                return Ok(());
            }
            loop {
                out.push(item(self)?);
                match self.peek() {
                    Some(b',') => self.i += 1,
                    Some(b']') => {
                        self.i += 1;
                        return Ok(());
                    }
                    _ => return Err(self.err("expected , or ]")),
                }
            }
        }

        /// A JSON number. Most coordinates have few digits (`5.54554`): their
        /// digits are gathered as an integer while scanning, and when it and the
        /// power of ten are both exact in an `f64` (at most 2^53 and 10^22), one
        /// multiplication or division gives the correctly rounded value, as the
        /// standard library's own fast path does (Clinger). Other numbers go
        /// through `str::parse`, so the value is always the standard one.
        fn number(&mut self) -> R<f64> {
            self.peek();
            let (b, start) = (self.b, self.i);
            let fail = SyntaxError {
                message: "expected a finite number",
                offset: start,
            };
            let mut i = start;
            let negative = b.get(i) == Some(&b'-');
            i += usize::from(negative);
            let mut mantissa: u64 = 0;
            let digits = |i: &mut usize, mantissa: &mut u64| {
                let from = *i;
                while let Some(&d) = b.get(*i).filter(|d| d.is_ascii_digit()) {
                    *mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
                    *i += 1;
                }
                *i - from
            };
            let whole = digits(&mut i, &mut mantissa);
            // JSON: a digit first, and no leading zero before other digits
            if whole == 0 || (whole > 1 && b.get(i - whole) == Some(&b'0')) {
                return Err(fail);
            }
            let mut fraction = 0;
            if b.get(i) == Some(&b'.') {
                i += 1;
                fraction = digits(&mut i, &mut mantissa);
                if fraction == 0 {
                    return Err(fail);
                }
            }
            let mut exponent: i64 = 0;
            if matches!(b.get(i), Some(b'e' | b'E')) {
                i += 1;
                let minus = b.get(i) == Some(&b'-');
                i += usize::from(matches!(b.get(i), Some(b'-' | b'+')));
                let from = i;
                while let Some(&d) = b.get(i).filter(|d| d.is_ascii_digit()) {
                    exponent = (exponent * 10 + i64::from(d - b'0')).min(1 << 20);
                    i += 1;
                }
                if i == from {
                    return Err(fail);
                }
                if minus {
                    exponent = -exponent;
                }
            }
            self.i = i;
            // at most 19 digits cannot overflow a u64
            let power = exponent - fraction as i64;
            if whole + fraction <= 19 && mantissa <= 1 << 53 && (-22..=22).contains(&power) {
                let m = mantissa as f64;
                // `power` is within 0..=22 here: the index is in bounds
                let scaled = if power >= 0 {
                    m * POWERS_OF_TEN[power as usize]
                } else {
                    m / POWERS_OF_TEN[(-power) as usize]
                };
                return Ok(if negative { -scaled } else { scaled });
            }
            b.get(start..i)
                .and_then(|t| std::str::from_utf8(t).ok())
                .and_then(|t| t.parse::<f64>().ok())
                .filter(|x| x.is_finite())
                .ok_or(fail)
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

        /// A ring, read into a buffer the thread keeps and then copied once at
        /// its size: growing each ring's own vector by doubling, then giving the
        /// slack back, cost more allocations than the copy.
        fn ring(&mut self) -> R<Vec<Coord<f64>>> {
            thread_local! {
                static RING: std::cell::RefCell<Vec<Coord<f64>>> =
                    const { std::cell::RefCell::new(Vec::new()) };
            }
            RING.with_borrow_mut(|buf| {
                buf.clear();
                self.list_into(buf, Self::position)?;
                let ring = buf.as_slice().to_vec();
                // a huge ring's buffer is not kept for the next ones
                buf.shrink_to(1 << 16);
                Ok(ring)
            })
        }

        pub fn polygon(&mut self) -> R<Vec<Vec<Coord<f64>>>> {
            self.list(Self::ring)
        }

        pub fn multi_polygon(&mut self) -> R<Vec<Vec<Vec<Coord<f64>>>>> {
            self.list(Self::polygon)
        }
    }

    #[cfg(test)]
    mod tests {
        use super::Parser;

        fn parse(t: &str) -> Option<f64> {
            Parser::new(t).number().ok()
        }

        #[test]
        fn numbers_are_the_standard_library_s_to_the_bit() {
            let mut cases: Vec<String> = [
                "0",
                "-0",
                "0.1",
                "5.54554",
                "45.71359",
                "-61.80947",
                "1e22",
                "1e23",
                "1E-22",
                "123456789012345678",
                "9007199254740992",
                "9007199254740993",
                "12345678901234567890123",
                "0.30000000000000004",
                "2.2250738585072014e-308",
                "1.7976931348623157e308",
                "6543210.123456789",
                "-0.0000001",
                "1e-400",
                "4.9e-324",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            // pseudo-random coordinates of every length the layers carry
            let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
            for _ in 0..20_000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let decimals = (x % 18) as usize;
                let whole = (x >> 8) % 1_000_000;
                let fraction = format!("{:018}", x >> 3);
                let sign = if x & 1 == 1 { "-" } else { "" };
                cases.push(match decimals {
                    0 => format!("{sign}{whole}"),
                    d => format!("{sign}{whole}.{}", &fraction[..d]),
                });
            }
            for t in &cases {
                let expected: f64 = t.parse().unwrap();
                match parse(t) {
                    Some(v) => assert_eq!(v.to_bits(), expected.to_bits(), "{t}"),
                    None => assert!(!expected.is_finite(), "{t} refused"),
                }
            }
        }

        #[test]
        fn what_json_does_not_allow_is_refused() {
            for t in [
                "01", "-01", "1.", ".5", "-", "+1", "1e", "1e+", "--1", "1.e5", "e5",
            ] {
                let mut p = Parser::new(t);
                let read = p.number().ok().map(|_| p.i == t.len());
                assert_ne!(read, Some(true), "{t} accepted whole");
            }
            assert_eq!(parse("1e999"), None, "infinite");
        }
    }
}
