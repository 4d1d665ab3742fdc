//! The commune layer's GeoJSON read as a stream, for large layers (Admin Express at
//! full resolution is 10 to 20 times the 2018 file): decompression, splitting into
//! features, and parsing overlap, and the text is never held whole.
//!
//! Three workers, connected by bounded channels (so memory stays a few batches of
//! text whatever the file's size):
//! 1. a thread reads the file and gunzips it into 4 MiB chunks, within
//!    [`inflate_limit`](super::source::inflate_limit);
//! 2. a thread splits the chunks into the FeatureCollection's members and its
//!    features, with a small JSON lexer (strings, escapes, nesting), and sends
//!    batches of about 1 MiB of features;
//! 3. rayon parses the batches as they come, each feature in one pass (its
//!    members found by hand, serde for the properties, the coordinate parser
//!    straight from the text for the geometry), keeping only properties and
//!    coordinates.
//!
//! This is the fast path of valid files only. At the first thing it does not
//! expect (any JSON error, any geometry problem, an unreadable or corrupt file) it
//! gives up, and the caller reads the file whole and runs the ordinary reader,
//! which names the problem with its line and column as always: one reader decides
//! every message.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use rayon::prelude::*;

use super::geojson::{coordinates_at, is_blank, properties_at, Ctx, Found, RawPolygons};
use super::source::inflate_limit;

/// Size of the decompressed chunks.
const CHUNK: usize = 4 << 20;

/// Size, roughly, of the feature batches parsed in parallel: small enough that
/// the last ones share out evenly between threads (a 4 MiB batch takes 40 ms to
/// parse, which one thread spent alone at the end of the national layer).
const BATCH: usize = 1 << 20;

/// A feature as streamed: its wanted properties and its rings.
pub(crate) type Feature = (Vec<Found>, RawPolygons);

/// What a valid collection streams into: each feature's wanted properties and
/// rings in file order, and the name of the CRS the collection declares.
pub(crate) struct Streamed {
    pub features: Vec<Feature>,
    pub crs: Option<String>,
}

/// Reads the GeoJSON FeatureCollection at `path` (plain or gzip) as a stream.
/// `None`: not a FeatureCollection this path reads without a problem — read it
/// the ordinary way, which says what is wrong.
pub(crate) fn read(path: &Path, ctx: &Ctx) -> Option<Streamed> {
    let file = File::open(path).ok()?;
    let compressed = file.metadata().ok()?.len();
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let gzip = reader.fill_buf().ok()?.starts_with(&[0x1f, 0x8b]);
    let (chunk_tx, chunk_rx) = sync_channel::<Vec<u8>>(4);
    let (batch_tx, batch_rx) = sync_channel::<Batch>(2);
    std::thread::scope(|s| {
        let producer = s.spawn(move || {
            let limit = if gzip {
                inflate_limit(compressed)
            } else {
                u64::MAX
            };
            let source: Box<dyn Read> = if gzip {
                Box::new(flate2::read::MultiGzDecoder::new(reader))
            } else {
                Box::new(reader)
            };
            produce(source, limit, chunk_tx)
        });
        let splitter = s.spawn(move || split(chunk_rx, batch_tx));
        let parsed: Vec<Option<(usize, Vec<Feature>)>> = batch_rx
            .into_iter()
            .par_bridge()
            .map(|b| parse(b, ctx))
            .collect();
        // a failed parse stops nothing by itself: the channels drain to their end
        let top = splitter.join().ok()??;
        producer.join().ok()?.then_some(())?;
        let mut batches = parsed.into_iter().collect::<Option<Vec<_>>>()?;
        batches.sort_unstable_by_key(|b| b.0);
        let features = batches.into_iter().flat_map(|b| b.1).collect();
        Some(Streamed {
            features,
            crs: top.crs,
        })
    })
}

/// Sends the decompressed bytes in chunks; false on a read error or past `limit`.
fn produce(mut source: impl Read, limit: u64, tx: SyncSender<Vec<u8>>) -> bool {
    let mut total = 0u64;
    loop {
        let mut chunk = vec![0u8; CHUNK];
        let mut filled = 0;
        while filled < CHUNK {
            match source.read(&mut chunk[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        total += filled as u64;
        if total > limit {
            return false;
        }
        if filled == 0 {
            return true;
        }
        chunk.truncate(filled);
        if tx.send(chunk).is_err() {
            // the splitter gave up
            return false;
        }
    }
}

/// Features' text, back to back, with where each one is.
struct Batch {
    index: usize,
    text: Vec<u8>,
    spans: Vec<(usize, usize)>,
}

/// Parses a batch; `None` at the first problem of any kind.
fn parse(b: Batch, ctx: &Ctx) -> Option<(usize, Vec<Feature>)> {
    let mut out = Vec::with_capacity(b.spans.len());
    for &(start, end) in &b.spans {
        // each ring comes at its size (the coordinates are most of what a large
        // layer keeps)
        out.push(feature(b.text.get(start..end)?, ctx)?);
    }
    Some((b.index, out))
}

/// Values nested deeper than this are left to the whole reader, whose serde
/// pass counts the depth from the top of the file.
const MAX_NESTING: usize = 64;

/// One feature's text read in a single pass: the members found by hand, the
/// properties by serde, the coordinates straight by their own parser (they are
/// most of the text, and serde would only have skipped them). `None` at
/// anything unexpected: an escaped or repeated key, a geometry that is not a
/// Polygon or MultiPolygon, text that is not JSON.
fn feature(text: &[u8], ctx: &Ctx) -> Option<Feature> {
    let mut r = Members { b: text, i: 0 };
    let (mut props, mut rings) = (None, None);
    r.object(|r, key| match key {
        b"properties" => {
            let (found, len) = properties_at(r.rest(), ctx)?;
            r.value(len)?;
            once(
                &mut props,
                found.unwrap_or_else(|| vec![None; ctx.slots.len()]),
            )
        }
        b"geometry" => {
            let g = r.geometry()?;
            once(&mut rings, g)
        }
        _ => r.skip(),
    })?;
    r.blank();
    (r.i == text.len()).then_some(())?;
    Some((props.unwrap_or_else(|| vec![None; ctx.slots.len()]), rings?))
}

/// Sets `slot` unless a repeated key already did (serde would keep the last one:
/// rare enough to leave to the whole reader).
fn once<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    slot.is_none().then_some(())?;
    *slot = Some(value);
    Some(())
}

/// A cursor over a JSON object's members.
struct Members<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Members<'a> {
    fn blank(&mut self) {
        while self.b.get(self.i).is_some_and(is_blank) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.blank();
        let found = self.b.get(self.i) == Some(&c);
        self.i += usize::from(found);
        found
    }

    fn rest(&self) -> &'a [u8] {
        self.b.get(self.i..).unwrap_or_default()
    }

    /// Steps over a value of `len` bytes, refusing deep nesting.
    fn value(&mut self, len: usize) -> Option<()> {
        let text = self.rest().get(..len)?;
        let mut lex = Lexer::default();
        for &c in text {
            lex.step(c)?;
            (lex.depth <= MAX_NESTING).then_some(())?;
        }
        self.i += len;
        Some(())
    }

    /// Steps over any JSON value, checked by serde.
    fn skip(&mut self) -> Option<()> {
        let mut values =
            serde_json::Deserializer::from_slice(self.rest()).into_iter::<serde::de::IgnoredAny>();
        values.next()?.ok()?;
        let len = values.byte_offset();
        self.value(len)
    }

    /// A key without escapes or control characters, in UTF-8.
    fn key(&mut self) -> Option<&'a [u8]> {
        self.eat(b'"').then_some(())?;
        let rest = self.rest();
        let len = rest
            .iter()
            .position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
        (rest.get(len) == Some(&b'"')).then_some(())?;
        let key = rest.get(..len)?;
        std::str::from_utf8(key).ok()?;
        self.i += len + 1;
        Some(key)
    }

    /// An object's members, each handed to `member` with the cursor on its value.
    fn object(&mut self, mut member: impl FnMut(&mut Self, &'a [u8]) -> Option<()>) -> Option<()> {
        self.eat(b'{').then_some(())?;
        if self.eat(b'}') {
            return Some(());
        }
        loop {
            let key = self.key()?;
            self.eat(b':').then_some(())?;
            self.blank();
            member(self, key)?;
            if !self.eat(b',') {
                return self.eat(b'}').then_some(());
            }
        }
    }

    /// A Polygon or MultiPolygon geometry object; `None` for anything else
    /// (including `null`: the whole reader says what is missing).
    fn geometry(&mut self) -> Option<RawPolygons> {
        let (mut kind, mut coordinates) = (None, None);
        self.object(|r, key| match key {
            b"type" => {
                let k = r.key()?;
                once(&mut kind, k)
            }
            b"coordinates" => {
                let (depth, rings, end) = coordinates_at(r.b, r.i)?;
                r.i = end;
                once(&mut coordinates, (depth, rings))
            }
            _ => r.skip(),
        })?;
        match (kind?, coordinates?) {
            (b"Polygon", (3, rings)) | (b"MultiPolygon", (4, rings)) => Some(rings),
            _ => None,
        }
    }
}

/// The members of the collection other than its features.
struct TopLevel {
    crs: Option<String>,
}

/// Where the lexer is in the collection.
#[derive(Clone, Copy, PartialEq, Eq)]
enum At {
    /// Before the opening brace.
    Start,
    /// Where a member's key (or the closing brace) is expected.
    Key,
    /// Inside a key.
    KeyText,
    /// After a key, before its colon.
    Colon,
    /// Before a member's value.
    Value,
    /// Inside a member's value other than `features`.
    Member,
    /// After a member's value, before a comma or the closing brace.
    AfterMember,
    /// Inside the features array, before a feature or the closing bracket.
    Feature,
    /// Inside a feature.
    InFeature,
    /// After a feature, before a comma or the closing bracket.
    AfterFeature,
    /// After the closing brace: whitespace only.
    End,
}

/// A JSON lexer's state within a value: nesting, and whether in a string.
#[derive(Default)]
struct Lexer {
    depth: usize,
    string: bool,
    escape: bool,
}

impl Lexer {
    /// Takes one byte of a value; `None` on a closing brace or bracket that
    /// closes nothing.
    fn step(&mut self, b: u8) -> Option<()> {
        if self.string {
            if self.escape {
                self.escape = false;
            } else if b == b'\\' {
                self.escape = true;
            } else if b == b'"' {
                self.string = false;
            }
            return Some(());
        }
        match b {
            b'"' => self.string = true,
            b'{' | b'[' => self.depth += 1,
            b'}' | b']' => {
                self.depth = self.depth.checked_sub(1)?;
            }
            _ => {}
        }
        Some(())
    }
}

/// Splits the chunks into the collection's members and its features, sending
/// batches of features; `None` when the text is not a plain FeatureCollection
/// (then the ordinary reader says why).
fn split(rx: Receiver<Vec<u8>>, tx: SyncSender<Batch>) -> Option<TopLevel> {
    let mut at = At::Start;
    let mut key: Vec<u8> = Vec::new();
    let mut member: Vec<u8> = Vec::new();
    let mut lex = Lexer::default();
    let mut scan = FeatureScan::default();
    let mut kind: Option<String> = None;
    let mut crs: Option<String> = None;
    let mut seen_features = false;
    // after a comma an item must follow: `[a,]` and `{"a":1,}` are not JSON
    let mut after_comma = false;
    let mut batch = Batch {
        index: 0,
        text: Vec::with_capacity(BATCH + (BATCH >> 2)),
        spans: Vec::new(),
    };
    let mut feature_start = 0;
    let ws = |b: u8| is_blank(&b);
    for chunk in rx {
        let bytes: &[u8] = &chunk;
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            match at {
                At::Start | At::Key | At::Colon | At::Value | At::AfterMember | At::End
                    if ws(b) => {}
                At::Feature | At::AfterFeature if ws(b) => {}
                At::Start if b == b'{' => at = At::Key,
                At::Key if b == b'"' => {
                    key.clear();
                    at = At::KeyText;
                }
                At::Key if b == b'}' && !after_comma => at = At::End,
                // an escaped key could spell anything: the ordinary reader decides
                At::KeyText if b == b'\\' => return None,
                At::KeyText if b == b'"' => {
                    // a key that is not UTF-8 is not JSON (found by fuzzing)
                    std::str::from_utf8(&key).ok()?;
                    after_comma = false;
                    at = At::Colon;
                }
                // control characters are not JSON; the ordinary reader says so
                At::KeyText if b < 0x20 => return None,
                At::KeyText => key.push(b),
                At::Colon if b == b':' => at = At::Value,
                At::Value if key == b"features" => {
                    if b != b'[' || seen_features {
                        return None;
                    }
                    seen_features = true;
                    at = At::Feature;
                }
                At::Value => {
                    member.clear();
                    lex = Lexer::default();
                    at = At::Member;
                    continue; // the byte is the value's first: the lexer takes it
                }
                At::Member => {
                    if !lex.string && lex.depth == 0 && matches!(b, b',' | b'}') {
                        take_member(&key, &member, &mut kind, &mut crs)?;
                        at = At::AfterMember;
                        continue; // the comma or brace ends the member: read it again
                    }
                    lex.step(b)?;
                    member.push(b);
                }
                At::AfterMember if b == b',' => {
                    after_comma = true;
                    at = At::Key;
                }
                At::AfterMember if b == b'}' => at = At::End,
                At::Feature | At::AfterFeature if b == b']' && !after_comma => at = At::AfterMember,
                At::Feature if b == b'{' => {
                    // copied from here to the closing brace, chunk by chunk
                    after_comma = false;
                    scan = FeatureScan::opened();
                    feature_start = batch.text.len();
                    batch.text.push(b);
                    at = At::InFeature;
                }
                At::InFeature => {
                    let rest = &bytes[i..];
                    match scan.end(rest) {
                        Some(e) => {
                            batch.text.extend_from_slice(&rest[..=e]);
                            close_feature(&mut batch, feature_start, &tx)?;
                            i += e;
                            at = At::AfterFeature;
                        }
                        None => {
                            batch.text.extend_from_slice(rest);
                            i = bytes.len();
                            continue;
                        }
                    }
                }
                At::AfterFeature if b == b',' => {
                    after_comma = true;
                    at = At::Feature;
                }
                _ => return None,
            }
            i += 1;
        }
    }
    if at != At::End || !seen_features {
        return None;
    }
    if !batch.spans.is_empty() {
        tx.send(batch).ok()?;
    }
    match kind.as_deref() {
        Some("FeatureCollection") | None => Some(TopLevel { crs }),
        Some(_) => None,
    }
}

/// Records the feature that ends the batch's text; sends the batch once full.
fn close_feature(batch: &mut Batch, start: usize, tx: &SyncSender<Batch>) -> Option<()> {
    batch.spans.push((start, batch.text.len()));
    if batch.text.len() >= BATCH {
        let next = Batch {
            index: batch.index + 1,
            text: Vec::with_capacity(BATCH + (BATCH >> 2)),
            spans: Vec::new(),
        };
        tx.send(std::mem::replace(batch, next)).ok()?;
    }
    Some(())
}

/// Where a feature's text ends: braces outside strings counted, everything else
/// skipped by `memchr` (coordinates, most of the text, have neither quotes nor
/// braces). Brackets are not counted: a feature whose brackets do not match is
/// refused by its own parse.
#[derive(Default)]
struct FeatureScan {
    depth: usize,
    string: bool,
    escape: bool,
}

impl FeatureScan {
    /// A scan of a feature whose opening brace has been read.
    fn opened() -> Self {
        FeatureScan {
            depth: 1,
            ..Default::default()
        }
    }

    /// Feeds `bytes`; the position of the brace that closes the feature, if in
    /// `bytes`.
    fn end(&mut self, bytes: &[u8]) -> Option<usize> {
        let mut i = 0;
        while i < bytes.len() {
            if self.escape {
                self.escape = false;
                i += 1;
                continue;
            }
            let rest = &bytes[i..];
            let found = if self.string {
                memchr::memchr2(b'"', b'\\', rest)
            } else {
                memchr::memchr3(b'"', b'{', b'}', rest)
            };
            let j = i + found?;
            match bytes[j] {
                b'\\' => self.escape = true,
                b'"' => self.string = !self.string,
                b'{' => self.depth += 1,
                _ => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        return Some(j);
                    }
                }
            }
            i = j + 1;
        }
        None
    }
}

/// Reads the members kept from the top level: `type` and `crs`, as the
/// ordinary reader does.
fn take_member(
    key: &[u8],
    text: &[u8],
    kind: &mut Option<String>,
    crs: &mut Option<String>,
) -> Option<()> {
    match key {
        b"type" => *kind = Some(serde_json::from_slice::<String>(text).ok()?),
        b"crs" => {
            let v: serde_json::Value = serde_json::from_slice(text).ok()?;
            *crs = v["properties"]["name"]
                .as_str()
                .map(str::to_owned)
                .or_else(|| Some(v.to_string()).filter(|s| s != "null"));
        }
        // every member must be JSON, as for the ordinary reader
        _ => {
            serde_json::from_slice::<serde::de::IgnoredAny>(text).ok()?;
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Ctx {
        Ctx {
            slots: vec![vec!["code".to_owned()]],
        }
    }

    #[test]
    fn the_demo_layer_streams_whole_and_in_order() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/paca/communes.geojson.gz");
        let s = read(&path, &ctx()).expect("a valid layer streams");
        assert_eq!(s.features.len(), 947);
        let codes: Vec<String> = s
            .features
            .iter()
            .filter_map(|(p, _)| {
                p[0].as_ref()
                    .and_then(|(_, v)| super::super::geojson::text(v))
            })
            .collect();
        // file order kept across batches and threads
        let mut text = Vec::new();
        flate2::read::MultiGzDecoder::new(File::open(&path).unwrap())
            .read_to_end(&mut text)
            .unwrap();
        let fc: serde_json::Value = serde_json::from_slice(&text).unwrap();
        let expected: Vec<&str> = fc["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["properties"]["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, expected);
        assert!(s.features.iter().all(|(_, rings)| !rings.is_empty()));
    }

    #[test]
    fn what_is_not_plain_json_is_left_to_the_whole_reader() {
        let dir = std::env::temp_dir().join(format!("maillage-stream-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let poly = r#"{"type":"Feature","properties":{"code":"01001"},"geometry":{"type":"Polygon","coordinates":[[[5,45],[5.1,45],[5.1,45.1],[5,45]]]}}"#;
        let good = format!(r#"{{"type":"FeatureCollection","features":[{poly},{poly}]}}"#);
        let cases = [
            (good.clone(), true),
            (good.replace("}]}", "},]}"), false),
            (format!("\u{feff}{good}"), false),
            (
                good.replace(r#""type":"FeatureCollection""#, r#""type":"Feature""#),
                false,
            ),
            (
                good.replace(r#""type":"FeatureCollection""#, r#""name":nul"#),
                false,
            ),
            (format!("{good}]"), false),
            (good.replace("[[[5,45]", "[[[5,45"), false),
            // read by hand within a feature: what serde would have accepted streams,
            // anything else is left to the whole reader
            (
                good.replace(
                    r#"{"type":"Polygon","coordinates":[[[5,45],[5.1,45],[5.1,45.1],[5,45]]]}"#,
                    r#"{ "coordinates" : [ [ [5,45] , [5.1,45],[5.1,45.1],[5,45]]] , "bbox":[5,45,5.1,45.1],"type":"Polygon" }"#,
                ),
                true,
            ),
            (
                good.replace(r#""properties":"#, r#""properties":null,"properties":"#),
                false,
            ),
            (good.replace(r#""properties""#, r#""prop\u0065rties""#), false),
            (good.replace(r#""geometry":{"#, r#""geometry":null,"x":{"#), false),
            (good.replace("[5,45],[5.1,45]", "[5,45],\u{c}[5.1,45]"), false),
            (good.replace("[5,45],[5.1,45]", "[05,45],[5.1,45]"), false),
            (good.replace("[5,45],[5.1,45]", "[+5,45],[5.1,45]"), false),
            (good.replace("[5,45],[5.1,45]", "[5,45],[5.1,45],"), false),
            (good.replace(r#""Polygon""#, r#""MultiPolygon""#), false),
            (
                good.replace(
                    r#""code":"01001""#,
                    &format!(r#""code":"01001","deep":{}1{}"#, "[".repeat(70), "]".repeat(70)),
                ),
                false,
            ),
            (
                good.replace(
                    r#""code":"01001""#,
                    &format!(r#""code":"01001","deep":{}1{}"#, "[".repeat(20), "]".repeat(20)),
                ),
                true,
            ),
        ];
        for (k, (text, ok)) in cases.iter().enumerate() {
            let path = dir.join(format!("{k}.geojson"));
            std::fs::write(&path, text).unwrap();
            assert_eq!(read(&path, &ctx()).is_some(), *ok, "{text}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
