//! A travel-time or distance matrix in long format, `origin,dest,cost`: millions of
//! rows (France within 30 km is 7.5 million pairs, 150–230 MB of CSV), so it has its
//! own reader.
//!
//! - **CSV** (plain or gzip): the header is found as for every table (lenient names,
//!   `--columns`, the separator sniffed, titles above it), then the rows are split
//!   at line ends into one chunk per thread and parsed in parallel, each chunk
//!   interning its codes (a few tens of thousands of distinct codes for millions of
//!   rows); each distinct code is normalised once. A file this path cannot read
//!   exactly as the general reader would (quoted fields, text that is not UTF-8)
//!   goes through the general reader instead: slower, the same result.
//! - **Parquet** (`PAR1`): columns matched by the same names; codes as text or
//!   integers, costs as any number type.
//! - **Workbooks**: the general reader.
//!
//! A cost that is not a number ≥ 0, an empty code, or a row of the wrong width
//! stops the run with the file and the lines (up to 20), as every table does.

use std::path::PathBuf;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::access_inputs::parse_number;
use super::source::Source;
use super::spreadsheet::{is_workbook, open_table, TableOptions};
use super::table::{any_of, never, normalize_code, CsvTable, Field};
use crate::error::{Error, Result};

const ORIGIN: Field = Field {
    name: "origin",
    aliases: &["origine", "from", "source", "depart", "code_origine", "o"],
    rule: |w| any_of(w, &["origin", "origine", "from", "depart", "residence"]),
    prefer: &[],
    loose: never,
    value: never,
};

const DEST: Field = Field {
    name: "dest",
    aliases: &["destination", "to", "arrivee", "code_destination", "d"],
    rule: |w| any_of(w, &["dest", "destination", "to", "arrivee", "offre"]),
    prefer: &[],
    loose: never,
    value: never,
};

const COST: Field = Field {
    name: "cost",
    aliases: &[
        "cout", "time", "temps", "duree", "duration", "distance", "minutes", "min",
    ],
    rule: |w| {
        any_of(
            w,
            &[
                "cost", "cout", "time", "temps", "duree", "duration", "distance", "minutes",
                "metres",
            ],
        )
    },
    prefer: &[],
    loose: never,
    value: never,
};

/// One pair of a cost matrix: origin and destination as positions in
/// [`CostMatrix::codes`]; 16 bytes (its line: [`CostMatrix::line`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CostPair {
    /// Where people live.
    pub origin: u32,
    /// Where the supply is.
    pub dest: u32,
    /// Travel time or distance, ≥ 0.
    pub cost: f64,
}

/// A travel-time or distance matrix in long format, codes interned.
#[derive(Debug, Clone)]
pub struct CostMatrix {
    /// The file.
    pub source: PathBuf,
    /// The distinct codes of the file, normalised, each once.
    pub codes: Vec<String>,
    /// The pairs, in file order.
    pub pairs: Vec<CostPair>,
    /// The line in the file of each pair (header = 1; for Parquet, row + 2), as
    /// runs of consecutive lines (8 bytes a run, rather than 4 a pair): a file
    /// without blank lines is one run.
    lines: Lines,
    /// How the file was read, when notable.
    pub notes: Vec<String>,
}

/// Lines of pairs stored as runs: (first pair of the run, its line); within a
/// run, each next pair is on the next line.
#[derive(Debug, Clone, PartialEq)]
struct Lines(Vec<(u32, u32)>);

impl Lines {
    fn new(lines: &[u32]) -> Lines {
        let mut runs: Vec<(u32, u32)> = Vec::new();
        for (k, &line) in lines.iter().enumerate() {
            let continues = runs.last().is_some_and(|&(first, at)| {
                u64::from(at) + (k as u64 - u64::from(first)) == u64::from(line)
            });
            if !continues {
                runs.push((k as u32, line));
            }
        }
        Lines(runs)
    }

    fn at(&self, k: usize) -> u64 {
        let r = self.0.partition_point(|&(first, _)| first as usize <= k) - 1;
        let (first, line) = self.0[r];
        u64::from(line) + (k as u64 - u64::from(first))
    }
}

impl CostMatrix {
    /// A matrix of `pairs` read from `source`, `lines[k]` the line of pair `k`.
    ///
    /// # Panics
    /// When `lines` and `pairs` differ in length.
    pub fn new(
        source: PathBuf,
        codes: Vec<String>,
        pairs: Vec<CostPair>,
        lines: &[u32],
        notes: Vec<String>,
    ) -> CostMatrix {
        assert_eq!(pairs.len(), lines.len(), "one line per pair");
        CostMatrix {
            source,
            codes,
            pairs,
            lines: Lines::new(lines),
            notes,
        }
    }

    /// The lines of every pair, in order.
    pub fn lines(&self) -> Vec<u64> {
        (0..self.pairs.len()).map(|k| self.line(k)).collect()
    }

    /// The code of an origin or destination.
    pub fn code(&self, id: u32) -> &str {
        &self.codes[id as usize]
    }

    /// The line in the file of pair `k`.
    pub fn line(&self, k: usize) -> u64 {
        self.lines.at(k)
    }
}

/// Reads a cost matrix `origin,dest,cost` (as OSRM, r5py or INSEE's Metric write
/// them; asymmetric allowed): CSV, gzip CSV, Parquet or a workbook.
///
/// # Examples
/// ```
/// use maillage::load::{load_costs, TableOptions};
/// let csv = "origine;destination;minutes\n4001;04001;0\n04001;4004;12,5\n";
/// let m = load_costs(&maillage::Source::from_bytes("m.csv", csv.into())?, &TableOptions::default())?;
/// assert_eq!(m.codes, ["04001", "04004"]);
/// assert_eq!((m.code(m.pairs[1].dest), m.pairs[1].cost, m.line(1)), ("04004", 12.5, 3));
/// # Ok::<(), maillage::Error>(())
/// ```
///
/// # Errors
/// [`crate::Error::Csv`] listing every line whose cost is not a number ≥ 0 (text,
/// negative, `NaN`) or whose code is empty, up to 20 of them; missing columns; a
/// row of another width than the header; [`crate::Error::File`] for a damaged
/// Parquet file.
///
/// # Performance
/// CSV rows are parsed in parallel: the 7.5 million pairs of France within 30 km
/// (150 MB) in about 0.3 s on 2 cores, against 2.3 s row by row.
pub fn load_costs(source: &Source, options: &TableOptions) -> Result<CostMatrix> {
    if source.bytes.starts_with(b"PAR1") {
        return read_parquet(source, options);
    }
    if !is_workbook(&source.bytes) {
        if let Some(m) = read_csv_fast(source, options)? {
            return Ok(m);
        }
    }
    read_general(source, options)
}

/// Collects unusable rows: the first 20 described (by line), then `…`.
#[derive(Default)]
struct Bad {
    /// (line, what), at most 21 kept: the lowest lines.
    list: Vec<(u64, String)>,
    count: usize,
}

impl Bad {
    fn push(&mut self, line: u64, what: String) {
        self.count += 1;
        if self.list.len() <= 20 {
            self.list.push((line, what));
        }
    }

    fn merge(parts: impl Iterator<Item = Bad>) -> Bad {
        let mut out = Bad::default();
        for b in parts {
            out.count += b.count;
            out.list.extend(b.list);
        }
        out.list.sort_by_key(|b| b.0);
        out.list.truncate(21);
        out
    }

    fn into_error(self, t: &CsvTable) -> Option<Error> {
        let first = self.list.first()?.0;
        let mut shown: Vec<String> = self
            .list
            .iter()
            .take(20)
            .map(|(line, what)| format!("line {line}: {what}"))
            .collect();
        if self.count > 20 {
            shown.push("…".into());
        }
        Some(t.error(first, format!("unusable pairs: {}", shown.join("; "))))
    }
}

/// Interns codes by their normalised form.
#[derive(Default)]
struct Codes {
    ids: FxHashMap<String, u32>,
    list: Vec<String>,
}

impl Codes {
    fn id(&mut self, raw: &str) -> Option<u32> {
        let (code, _) = normalize_code(raw);
        if code.is_empty() {
            return None;
        }
        if let Some(&id) = self.ids.get(&code) {
            return Some(id);
        }
        let id = self.list.len() as u32;
        self.ids.insert(code.clone(), id);
        self.list.push(code);
        Some(id)
    }
}

/// The general reader, row by row (workbooks, quoted or non-UTF-8 CSV).
fn read_general(source: &Source, options: &TableOptions) -> Result<CostMatrix> {
    let mut t = open_table(source, options)?;
    let (o, d, c) = t.header("origin, dest and cost", |t| {
        Some((t.column(&ORIGIN)?, t.column(&DEST)?, t.column(&COST)?))
    })?;
    let mut codes = Codes::default();
    let mut pairs = Vec::new();
    let mut lines = Vec::new();
    let mut bad = Bad::default();
    let mut record = csv::StringRecord::new();
    while let Some(line) = t.next(&mut record)? {
        let cell = |k: usize| record.get(k).unwrap_or("").trim();
        let (origin, dest) = (codes.id(cell(o)), codes.id(cell(d)));
        let raw = cell(c);
        match (parse_number(raw).filter(|v| *v >= 0.0), origin, dest) {
            (Some(cost), Some(origin), Some(dest)) => {
                pairs.push(CostPair { origin, dest, cost });
                lines.push(line_u32(&t, line)?);
            }
            (Some(_), _, _) => bad.push(line, "empty origin or dest".into()),
            (None, _, _) => bad.push(line, format!("cost {raw:?} is not a number ≥ 0")),
        }
    }
    if let Some(e) = bad.into_error(&t) {
        return Err(e);
    }
    Ok(CostMatrix::new(
        source.name.clone(),
        codes.list,
        pairs,
        &lines,
        t.notes,
    ))
}

/// A line number as stored (a matrix of more than 4 billion lines is refused).
fn line_u32(t: &CsvTable, line: u64) -> Result<u32> {
    u32::try_from(line).map_err(|_| t.error(line, "more than 4,294,967,295 lines".into()))
}

/// The lines of the header search: the header row is within the first few.
const PREFIX_LINES: usize = 64;

/// The parallel CSV path; `None` when the file needs the general reader.
fn read_csv_fast(source: &Source, options: &TableOptions) -> Result<Option<CostMatrix>> {
    let bytes = source
        .bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(&source.bytes);
    // the header, found by the general reader on the first lines
    let prefix_end = memchr::memchr_iter(b'\n', bytes)
        .nth(PREFIX_LINES)
        .map_or(bytes.len(), |k| k + 1);
    let prefix = Source::from_bytes(source.name.clone(), bytes[..prefix_end].to_vec())?;
    let mut t = open_table(&prefix, options)?;
    let (o, d, c) = t.header("origin, dest and cost", |t| {
        Some((t.column(&ORIGIN)?, t.column(&DEST)?, t.column(&COST)?))
    })?;
    let header_line = t.header_line();
    if t.notes.iter().any(|n| n.contains("UTF-8")) {
        return Ok(None);
    }
    // the body: after the header's line
    let start = match header_line {
        0 | 1 => memchr::memchr(b'\n', bytes).map_or(bytes.len(), |k| k + 1),
        l => memchr::memchr_iter(b'\n', bytes)
            .nth(l as usize - 1)
            .map_or(bytes.len(), |k| k + 1),
    };
    let body = &bytes[start..];
    if memchr::memchr(b'"', body).is_some() {
        return Ok(None);
    }
    let sep = t.separator();
    let width = t.width();
    // chunks cut at line ends, their first line numbers
    let parts = rayon::current_num_threads().max(1) * 4;
    let mut cuts = vec![0usize];
    for k in 1..parts {
        let at = body.len() * k / parts;
        let at = memchr::memchr(b'\n', &body[at..]).map_or(body.len(), |p| at + p + 1);
        if at > *cuts.last().unwrap_or(&0) && at < body.len() {
            cuts.push(at);
        }
    }
    cuts.push(body.len());
    let chunks: Vec<&[u8]> = cuts.windows(2).map(|w| &body[w[0]..w[1]]).collect();
    let newlines: Vec<u64> = chunks
        .par_iter()
        .map(|c| memchr::memchr_iter(b'\n', c).count() as u64)
        .collect();
    let mut first_line = Vec::with_capacity(chunks.len());
    let mut line = header_line + 1;
    for n in &newlines {
        first_line.push(line);
        line += n;
    }
    // every row of a chunk gives at most one pair: the pairs and their lines are
    // parsed straight into their final vectors, each chunk into its own slice
    // (then closed up where blank or bad rows left room), never copied whole
    let rows: Vec<usize> = chunks
        .iter()
        .zip(&newlines)
        .map(|(c, &n)| n as usize + usize::from(!c.is_empty() && !c.ends_with(b"\n")))
        .collect();
    let room: usize = rows.iter().sum();
    let blank = CostPair {
        origin: 0,
        dest: 0,
        cost: 0.0,
    };
    let mut pairs = vec![blank; room];
    let mut lines = vec![0u32; room];
    let mut slots: Vec<(&mut [CostPair], &mut [u32])> = Vec::with_capacity(chunks.len());
    {
        let (mut p_rest, mut l_rest) = (pairs.as_mut_slice(), lines.as_mut_slice());
        for &r in &rows {
            let (p, pt) = p_rest.split_at_mut(r);
            let (l, lt) = l_rest.split_at_mut(r);
            slots.push((p, l));
            (p_rest, l_rest) = (pt, lt);
        }
    }
    let Some(parsed) = chunks
        .par_iter()
        .zip(first_line)
        .zip(slots)
        .map(|((chunk, line), (p, l))| parse_chunk(chunk, line, sep, width, [o, d, c], p, l))
        .collect::<Option<Vec<Chunk<'_>>>>()
    else {
        return Ok(None);
    };
    if let Some((line, count)) = parsed.iter().filter_map(|p| p.wrong_width).min() {
        return Err(t.error(
            line,
            format!("this row has {count} fields, the header {width}"),
        ));
    }
    let mut parsed = parsed;
    let bad = Bad::merge(parsed.iter_mut().map(|p| std::mem::take(&mut p.bad)));
    if let Some(e) = bad.into_error(&t) {
        return Err(e);
    }
    // one id per normalised code, each distinct raw code normalised once
    let mut codes = Codes::default();
    let remaps: Vec<Vec<u32>> = parsed
        .iter()
        .map(|p| {
            p.raw
                .iter()
                .map(|raw| codes.id(raw).unwrap_or(u32::MAX))
                .collect()
        })
        .collect();
    if line > u64::from(u32::MAX) {
        return Err(t.error(line, "more than 4,294,967,295 lines".into()));
    }
    {
        let mut chunk_pairs: Vec<&mut [CostPair]> = Vec::with_capacity(rows.len());
        let mut rest = pairs.as_mut_slice();
        for (&r, p) in rows.iter().zip(&parsed) {
            let (mine, tail) = rest.split_at_mut(r);
            chunk_pairs.push(&mut mine[..p.count]);
            rest = tail;
        }
        chunk_pairs
            .into_par_iter()
            .zip(&remaps)
            .for_each(|(ps, remap)| {
                for q in ps.iter_mut() {
                    q.origin = remap[q.origin as usize];
                    q.dest = remap[q.dest as usize];
                }
            });
    }
    // close up the room blank rows left (none in most files)
    let total: usize = parsed.iter().map(|p| p.count).sum();
    if total < room {
        let (mut from, mut to) = (0usize, 0usize);
        for (&r, p) in rows.iter().zip(&parsed) {
            pairs.copy_within(from..from + p.count, to);
            lines.copy_within(from..from + p.count, to);
            to += p.count;
            from += r;
        }
        pairs.truncate(total);
        lines.truncate(total);
    }
    if pairs
        .iter()
        .any(|p| p.origin == u32::MAX || p.dest == u32::MAX)
    {
        // a code that normalises to nothing: let the general reader name it
        return Ok(None);
    }
    Ok(Some(CostMatrix::new(
        source.name.clone(),
        codes.list,
        pairs,
        &lines,
        t.notes,
    )))
}

/// The pairs of one chunk, codes as positions in its own `raw` list.
struct Chunk<'a> {
    raw: Vec<&'a str>,
    /// Pairs written at the start of the chunk's slice.
    count: usize,
    bad: Bad,
    /// The first row of another width than the header: (line, fields).
    wrong_width: Option<(u64, usize)>,
}

/// ASCII whitespace trimmed on both sides.
fn trim_ascii(b: &[u8]) -> &[u8] {
    b.trim_ascii()
}

/// A short code as one integer key (its bytes and its length): hashing it costs
/// no string comparison.
fn key(b: &[u8]) -> Option<u64> {
    if b.len() > 7 {
        return None;
    }
    let mut k = (b.len() as u64) << 56;
    for (i, &c) in b.iter().enumerate() {
        k |= u64::from(c) << (8 * i);
    }
    Some(k)
}

/// Parses one chunk of rows; `None` when a row needs the general reader (a
/// field with non-ASCII text: it trims Unicode spaces and decodes encodings).
fn parse_chunk<'a>(
    chunk: &'a [u8],
    mut line: u64,
    sep: u8,
    width: usize,
    [o, d, c]: [usize; 3],
    out: &mut [CostPair],
    out_lines: &mut [u32],
) -> Option<Chunk<'a>> {
    let mut short: FxHashMap<u64, u32> = FxHashMap::default();
    let mut long: FxHashMap<&'a [u8], u32> = FxHashMap::default();
    let mut raw: Vec<&'a str> = Vec::new();
    let mut written = 0usize;
    let mut bad = Bad::default();
    let mut wrong_width = None;
    let mut rest = chunk;
    while !rest.is_empty() {
        let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
        let mut row = &rest[..end];
        rest = &rest[(end + 1).min(rest.len())..];
        let this = line;
        line += 1;
        if let Some(r) = row.strip_suffix(b"\r") {
            row = r;
        }
        if !row.is_ascii() {
            return None;
        }
        // the three fields wanted, the field count, any content beyond the header
        let (mut fo, mut fd, mut fc): (&[u8], &[u8], &[u8]) = (b"", b"", b"");
        let (mut count, mut content, mut extra) = (0usize, false, false);
        let mut start = 0;
        for stop in memchr::memchr_iter(sep, row).chain(std::iter::once(row.len())) {
            let f = trim_ascii(&row[start..stop]);
            if count == o {
                fo = f;
            }
            if count == d {
                fd = f;
            }
            if count == c {
                fc = f;
            }
            if !f.is_empty() {
                content = true;
                extra |= count >= width;
            }
            count += 1;
            start = stop + 1;
        }
        if !content {
            continue; // blank lines, as the general reader skips them
        }
        if count < width || extra {
            // as the general reader: a malformed row stops the file there
            wrong_width = Some((this, count));
            break;
        }
        let mut id = |f: &'a [u8]| -> Option<u32> {
            if f.is_empty() {
                return None;
            }
            let mut fresh = || {
                // ASCII checked above
                raw.push(std::str::from_utf8(f).unwrap_or(""));
                raw.len() as u32 - 1
            };
            Some(match key(f) {
                Some(k) => *short.entry(k).or_insert_with(&mut fresh),
                None => *long.entry(f).or_insert_with(&mut fresh),
            })
        };
        let (origin, dest) = (id(fo), id(fd));
        let cost_text = std::str::from_utf8(fc).unwrap_or("");
        let cost = cost_text
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .or_else(|| parse_number(cost_text))
            .filter(|v| *v >= 0.0);
        match (cost, origin, dest) {
            (Some(cost), Some(origin), Some(dest)) => {
                // one slot a row: the slice has one per row of the chunk
                out[written] = CostPair { origin, dest, cost };
                // beyond u32, the whole file is refused after the parse
                out_lines[written] = this as u32;
                written += 1;
            }
            (Some(_), _, _) => bad.push(this, "empty origin or dest".into()),
            (None, _, _) => bad.push(this, format!("cost {cost_text:?} is not a number ≥ 0")),
        }
    }
    Some(Chunk {
        raw,
        count: written,
        bad,
        wrong_width,
    })
}

/// A Parquet matrix: the columns matched by name as in a CSV header.
fn read_parquet(source: &Source, options: &TableOptions) -> Result<CostMatrix> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        read_parquet_unguarded(source, options)
    })) {
        Ok(result) => result,
        Err(_) => Err(Error::File {
            path: source.name.clone(),
            message: "Parquet: the reader failed on this file, which looks damaged".into(),
        }),
    }
}

/// The id of a Parquet cell's code, each distinct cell normalised once.
fn intern(
    cache: &mut FxHashMap<String, Option<u32>>,
    codes: &mut Codes,
    cell: Option<&str>,
) -> Option<u32> {
    let s = cell?.trim();
    if s.is_empty() {
        return None;
    }
    if let Some(&id) = cache.get(s) {
        return id;
    }
    let id = codes.id(s);
    cache.insert(s.to_owned(), id);
    id
}

fn read_parquet_unguarded(source: &Source, options: &TableOptions) -> Result<CostMatrix> {
    use polars::prelude::{DataType, ParquetReader, SerReader};
    let fail = |e: String| Error::File {
        path: source.name.clone(),
        message: format!("Parquet: {e}"),
    };
    super::layers::check_parquet_footer(&source.bytes).map_err(fail)?;
    let reader = || ParquetReader::new(std::io::Cursor::new(source.bytes.as_slice()));
    let schema = reader().schema().map_err(|e| fail(e.to_string()))?;
    let names: Vec<String> = schema.iter_names().map(|s| s.to_string()).collect();
    let rows = reader().num_rows().map_err(|e| fail(e.to_string()))?;
    // the column names as a CSV header, matched by the table rules
    let header = names
        .iter()
        .map(|n| n.replace([',', '"', '\n'], " "))
        .collect::<Vec<_>>()
        .join(",");
    let mut t = open_table(
        &Source::from_bytes(source.name.clone(), format!("{header}\n").into_bytes())?,
        options,
    )?;
    let (o, d, c) = t.header("origin, dest and cost", |t| {
        Some((t.column(&ORIGIN)?, t.column(&DEST)?, t.column(&COST)?))
    })?;
    let wanted = vec![names[o].clone(), names[d].clone(), names[c].clone()];
    let mut codes = Codes::default();
    let mut cache: FxHashMap<String, Option<u32>> = FxHashMap::default();
    let mut pairs = Vec::with_capacity(rows);
    let mut lines = Vec::with_capacity(rows);
    let mut bad = Bad::default();
    // a million rows at a time: the decoded columns of one slice at most in
    // memory beside the pairs (the whole national matrix's strings would double it)
    const SLICE: usize = 1 << 20;
    let mut offset = 0;
    while offset < rows {
        let len = SLICE.min(rows - offset);
        let df = reader()
            .with_columns(Some(wanted.clone()))
            .with_slice(Some((offset, len)))
            .finish()
            .map_err(|e| fail(e.to_string()))?;
        let text = |name: &str| {
            df.column(name)
                .and_then(|col| col.cast(&DataType::String))
                .map_err(|e| fail(format!("column {name}: {e}")))
        };
        let (origin, dest) = (text(&wanted[0])?, text(&wanted[1])?);
        let (origin, dest) = (
            origin.str().map_err(|e| fail(e.to_string()))?,
            dest.str().map_err(|e| fail(e.to_string()))?,
        );
        let cost = df
            .column(&wanted[2])
            .and_then(|col| col.cast(&DataType::Float64))
            .map_err(|e| fail(format!("column {}: {e}", wanted[2])))?;
        let cost = cost.f64().map_err(|e| fail(e.to_string()))?;
        for (k, ((a, b), v)) in origin.iter().zip(dest.iter()).zip(cost.iter()).enumerate() {
            let line = (offset + k) as u64 + 2;
            let (a, b) = (
                intern(&mut cache, &mut codes, a),
                intern(&mut cache, &mut codes, b),
            );
            match (v.filter(|v| v.is_finite() && *v >= 0.0), a, b) {
                (Some(cost), Some(origin), Some(dest)) => {
                    pairs.push(CostPair { origin, dest, cost });
                    lines.push(line_u32(&t, line)?);
                }
                (Some(_), _, _) => bad.push(line, "empty origin or dest".into()),
                (None, _, _) => bad.push(
                    line,
                    format!(
                        "cost {} is not a number ≥ 0",
                        v.map_or("null".to_owned(), |v| v.to_string())
                    ),
                ),
            }
        }
        offset += len;
    }
    if let Some(e) = bad.into_error(&t) {
        return Err(e);
    }
    let mut notes = vec!["Parquet".to_owned()];
    notes.extend(t.notes);
    Ok(CostMatrix::new(
        source.name.clone(),
        codes.list,
        pairs,
        &lines,
        notes,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(text: &str) -> Source {
        Source::from_bytes("m.csv", text.as_bytes().to_vec()).unwrap()
    }

    /// The parallel reader and the general one on the same text: both errors, or
    /// both matrices with the same codes, pairs, lines and notes.
    fn same(text: &str) -> Option<CostMatrix> {
        let opts = TableOptions::default();
        let general = read_general(&source(text), &opts);
        let fast = read_csv_fast(&source(text), &opts);
        match (general, fast) {
            (Ok(g), Ok(Some(f))) => {
                assert_eq!(g.codes, f.codes, "{text:?}");
                assert_eq!(g.pairs, f.pairs, "{text:?}");
                assert_eq!(g.lines(), f.lines(), "{text:?}");
                assert_eq!(g.notes, f.notes, "{text:?}");
                Some(f)
            }
            (Ok(_), Ok(None)) => None, // the general reader's case
            (Err(g), Err(f)) => {
                assert_eq!(g.to_string(), f.to_string(), "{text:?}");
                None
            }
            (g, f) => panic!("{text:?}: general {g:?}, fast {f:?}"),
        }
    }

    #[test]
    fn the_parallel_reader_reads_as_the_general_one() {
        let m = same("origin,dest,cost\n04001,04004,12.5\n04004,04001,13\n").unwrap();
        assert_eq!(m.codes, ["04001", "04004"]);
        assert_eq!(m.lines(), [2, 3]);
        // CRLF, blank lines, a BOM, spaces, lost leading zeros
        let m = same(
            "\u{feff}origin;dest;minutes\r\n\r\n 4001 ; 04004 ; 12,5 \r\n;;\r\n4004;4001;7\r\n",
        )
        .unwrap();
        assert_eq!(m.codes, ["04001", "04004"]);
        assert_eq!(m.lines(), [3, 5]);
        assert_eq!(m.pairs[0].cost, 12.5);
        // a title above the header
        let m = same("Distancier 2026\norigine,destination,duree\n13055,13001,25\n").unwrap();
        assert_eq!(m.lines(), [3]);
        // unusable rows: the same lines named
        same("origin,dest,cost\n04001,04004,-1\n04001,,3\n04001,04004,NaN\n04001,04004\n");
        same("origin,dest,cost\n04001,04004,1,extra\n");
        // what only the general reader reads: quotes, Windows-1252, no such columns
        assert!(same("origin,dest,cost\n\"04001\",\"04004\",\"1\"\n").is_none());
        let latin1 = b"origine;destination;dur\xe9e\n04001;04004;1\n".to_vec();
        let s = Source::from_bytes("m.csv", latin1).unwrap();
        assert!(read_csv_fast(&s, &TableOptions::default())
            .unwrap()
            .is_none());
        assert_eq!(
            load_costs(&s, &TableOptions::default())
                .unwrap()
                .pairs
                .len(),
            1
        );
        same("a,b,c\n1,2,3\n");
    }

    #[test]
    fn over_twenty_unusable_rows_are_cut_at_twenty_by_line() {
        let mut text = String::from("origin,dest,cost\n");
        for k in 0..5000 {
            text.push_str(&format!(
                "04001,04004,{}\n",
                if k % 7 == 3 { "x" } else { "1" }
            ));
        }
        let e = load_costs(&source(&text), &TableOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 5: cost \"x\""), "{e}");
        assert_eq!(e.matches("line ").count(), 21, "{e}"); // the error's own + 20
        assert!(e.ends_with("…"), "{e}");
        same(&text);
    }

    #[test]
    fn a_parquet_matrix_reads_as_its_csv() {
        use polars::prelude::{Column, DataFrame, NamedFrom, ParquetWriter, Series};
        // codes as integers (lost leading zeros) and as text, costs as f32 and i64
        let mut df = DataFrame::new(
            3,
            vec![
                Column::from(Series::new("Origine".into(), [4001i64, 4004, 13055])),
                Column::from(Series::new("destination".into(), ["04004", "04001", ""])),
                Column::from(Series::new("minutes".into(), [12.5f32, 7.0, 3.0])),
            ],
        )
        .unwrap();
        let mut bytes = Vec::new();
        ParquetWriter::new(&mut bytes).finish(&mut df).unwrap();
        let s = Source::from_bytes("m.parquet", bytes.clone()).unwrap();
        let e = load_costs(&s, &TableOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 4: empty origin or dest"), "{e}");
        let mut df = df.slice(0, 2);
        let mut bytes = Vec::new();
        ParquetWriter::new(&mut bytes).finish(&mut df).unwrap();
        let s = Source::from_bytes("m.parquet", bytes).unwrap();
        let p = load_costs(&s, &TableOptions::default()).unwrap();
        let c = same("Origine,destination,minutes\n4001,04004,12.5\n4004,04001,7\n").unwrap();
        assert_eq!((p.lines(), p.codes, p.pairs), (c.lines(), c.codes, c.pairs));
        // a damaged file is an error naming it, never a panic
        let s = Source::from_bytes("m.parquet", b"PAR1 not really PAR1".to_vec()).unwrap();
        let e = load_costs(&s, &TableOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("m.parquet"), "{e}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 48,
            // shrunk failures become named tests here, not files beside the crate
            failure_persistence: None,
            ..proptest::prelude::ProptestConfig::default()
        })]
        /// Any mix of rows, blank lines, separators and spacing reads the same
        /// both ways, on any thread count.
        #[test]
        fn random_matrices_read_the_same_both_ways(
            rows in proptest::collection::vec((0u32..40, 0u32..40, 0u32..100_000, 0u8..8), 0..400),
            semicolon in proptest::bool::ANY,
        ) {
            let sep = if semicolon { ';' } else { ',' };
            let mut text = format!("origin{sep}dest{sep}cost\n");
            for (o, d, c, style) in rows {
                let code = |v: u32| format!("{:05}", 1000 + v);
                let cost = if semicolon && style % 2 == 0 {
                    format!("{},{}", c / 10, c % 10)
                } else {
                    format!("{}.{}", c / 10, c % 10)
                };
                match style {
                    0 => text.push('\n'),
                    1 => text.push_str(&format!(" {} {sep}{}{sep} {cost}\r\n", code(o), code(d))),
                    2 => text.push_str(&format!("{}{sep}{}{sep}{cost}\n", o + 1000, code(d))),
                    _ => text.push_str(&format!("{}{sep}{}{sep}{cost}\n", code(o), code(d))),
                }
            }
            let m = same(&text);
            proptest::prop_assert!(m.is_some());
            for threads in [1, 3] {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                let again = pool.install(|| load_costs(&source(&text), &TableOptions::default())).unwrap();
                let m = m.as_ref().unwrap();
                proptest::prop_assert_eq!(&again.pairs, &m.pairs);
                proptest::prop_assert_eq!(&again.codes, &m.codes);
            }
        }
    }
}
