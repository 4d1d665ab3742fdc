//! Workbooks checked before they are trusted. calamine reads what a well-formed
//! workbook says, and a damaged or hostile one can say anything: a sector chain
//! that loops (an `.xls` read forever), a cell at XFD1048576 (a dense sheet of
//! 17 billion cells), a shared-string count of a billion, a run of two billion
//! spaces in an `.ods` cell, a member that inflates a thousand times. Each of
//! those is found here, from the file's own structure, before calamine runs:
//!
//! - **containers**: an `.xls` compound file (MS-CFB) has every chain calamine
//!   will follow (DIFAT, FAT, directory, mini stream, mini FAT, the workbook
//!   stream) walked once: sectors inside the file and whole, no sector twice, no
//!   index past its table; `.xlsx`/`.xlsb`/`.ods` zip members are inflated under
//!   the same limit as gzip inputs ([`inflate_limit`]), counted while inflating;
//! - **sheet extents**: the dense range calamine allocates spans the cells'
//!   bounding box; it must stay within [`MAX_DENSE_CELLS`] or within
//!   [`DENSE_PER_CELL`] times the cells the file really holds, whichever is more
//!   (a stray cell far away in an otherwise small sheet is refused, a large sheet
//!   that is full is not);
//! - **declared counts**: `uniqueCount` of the shared strings within the size of
//!   their part, `text:c` space runs within [`MAX_SPACE_RUN`].
//!
//! Limits proportional to the file keep memory bounded by the input's size; the
//! message names the file, the part or sheet, and what was wrong.

use std::io::{Cursor, Read};

use quick_xml::events::{BytesStart, Event};

use super::source::inflate_limit;

/// Cells a sheet's dense range may span whatever it holds (4 M cells: ~130 MB).
pub(crate) const MAX_DENSE_CELLS: u64 = 4_000_000;
/// Beyond [`MAX_DENSE_CELLS`], the dense range may span this many times the
/// cells the sheet really has.
pub(crate) const DENSE_PER_CELL: u64 = 64;
/// The longest run of spaces one `<text:s text:c="…">` may ask for.
pub(crate) const MAX_SPACE_RUN: u64 = 10_000;

/// Checks a workbook's structure; `Err` says what is wrong (the caller names
/// the file).
pub(crate) fn check(bytes: &[u8]) -> Result<(), String> {
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        check_cfb(bytes)
    } else {
        check_zip(bytes)
    }
}

/// Whether a dense range of `rows` × `cols` is acceptable for `present` cells.
fn dense_ok(rows: u64, cols: u64, present: u64) -> Result<(), String> {
    let dense = rows.saturating_mul(cols);
    if dense <= MAX_DENSE_CELLS.max(present.saturating_mul(DENSE_PER_CELL)) {
        Ok(())
    } else {
        Err(format!(
            "its cells span {rows} rows × {cols} columns ({dense} cells to allocate) for {present} cell(s) actually present: refused as damaged or hostile (a cell far outside the table?)"
        ))
    }
}

// ------------------------------------------------------------------ zip (xlsx, xlsb, ods)

fn check_zip(bytes: &[u8]) -> Result<(), String> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| format!("not a readable workbook archive: {e}"))?;
    let limit = inflate_limit(bytes.len() as u64);
    let mut total: u64 = 0;
    let mut parts: Vec<(String, Vec<u8>)> = Vec::new();
    for k in 0..zip.len() {
        let mut member = zip
            .by_index(k)
            .map_err(|e| format!("archive member {k} unreadable: {e}"))?;
        let name = member.name().to_owned();
        let keep = is_sheet_part(&name);
        let mut buf = Vec::new();
        let budget = limit.saturating_sub(total) + 1;
        let n = if keep {
            (&mut member)
                .take(budget)
                .read_to_end(&mut buf)
                .map(|n| n as u64)
        } else {
            std::io::copy(&mut (&mut member).take(budget), &mut std::io::sink())
        }
        .map_err(|e| format!("archive member {name:?} does not inflate: {e}"))?;
        total += n;
        if total > limit {
            return Err(format!(
                "inflates to more than {limit} bytes from {} compressed (at member {name:?}): refused as a likely zip bomb (MAILLAGE_MAX_INFLATE_BYTES raises the limit)",
                bytes.len()
            ));
        }
        if keep {
            parts.push((name, buf));
        }
    }
    for (name, xml) in &parts {
        let what = |e: String| format!("{name}: {e}");
        if name.ends_with("sharedStrings.xml") {
            shared_strings(xml).map_err(what)?;
        } else if name == "content.xml" {
            ods_content(xml).map_err(what)?;
        } else if name.ends_with(".bin") {
            xlsb_sheet(xml).map_err(what)?;
        } else {
            xlsx_sheet(xml).map_err(what)?;
        }
    }
    Ok(())
}

/// The parts whose content is checked: sheets (xlsx, xlsb), shared strings,
/// the ODS content.
fn is_sheet_part(name: &str) -> bool {
    (name.starts_with("xl/worksheets/") && (name.ends_with(".xml") || name.ends_with(".bin")))
        || name == "xl/sharedStrings.xml"
        || name == "content.xml"
}

fn attribute(e: &BytesStart<'_>, local: &[u8]) -> Option<Vec<u8>> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == local)
        .map(|a| a.value.into_owned())
}

fn number(v: &[u8]) -> Option<u64> {
    std::str::from_utf8(v).ok()?.trim().parse().ok()
}

/// `A1`-style reference → (row, column), both 0-based.
fn cell_ref(r: &[u8]) -> Option<(u64, u64)> {
    let letters = r.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    if letters == 0 || letters > 4 {
        return None;
    }
    let mut col: u64 = 0;
    for &b in &r[..letters] {
        col = col * 26 + u64::from(b.to_ascii_uppercase() - b'A' + 1);
    }
    let row = number(&r[letters..])?;
    Some((row.checked_sub(1)?, col - 1))
}

/// An XML part must close every element it opens: calamine's readers loop
/// forever on an element left open at the end of the part (a `table:table`
/// never closed: found by fuzz target workbook_ods).
fn closed(depth: usize) -> Result<(), String> {
    if depth == 0 {
        Ok(())
    } else {
        Err(format!(
            "cut short or damaged: {depth} element(s) are still open at its end"
        ))
    }
}

/// Reads XML events, calling `f` on every start or empty element (with
/// `true` for an element that has content).
fn walk(
    xml: &[u8],
    mut f: impl FnMut(&BytesStart<'_>, bool) -> Result<(), String>,
) -> Result<(), String> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut depth = 0usize;
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => {
                depth += 1;
                f(&e, true)?
            }
            Ok(Event::End(_)) => depth = depth.saturating_sub(1),
            Ok(Event::Empty(e)) => f(&e, false)?,
            Ok(Event::Eof) => return closed(depth),
            Ok(_) => {}
            Err(e) => {
                return Err(format!(
                    "not well-formed XML near byte {}: {e}",
                    reader.buffer_position()
                ))
            }
        }
        buf.clear();
    }
}

fn xlsx_sheet(xml: &[u8]) -> Result<(), String> {
    let (mut row, mut col): (Option<u64>, Option<u64>) = (None, None);
    let (mut max_row, mut max_col, mut present) = (0u64, 0u64, 0u64);
    walk(xml, |e, _| {
        match e.local_name().as_ref() {
            b"row" => {
                row = Some(match attribute(e, b"r").and_then(|r| number(&r)) {
                    Some(r) => r.saturating_sub(1),
                    None => row.map_or(0, |r| r + 1),
                });
                col = None;
            }
            b"c" => {
                let (r, c) = match attribute(e, b"r") {
                    Some(v) => cell_ref(&v).ok_or_else(|| {
                        format!(
                            "cell reference {:?} is not a cell",
                            String::from_utf8_lossy(&v)
                        )
                    })?,
                    None => (row.unwrap_or(0), col.map_or(0, |c| c + 1)),
                };
                (row, col) = (Some(r), Some(c));
                present += 1;
                max_row = max_row.max(r);
                max_col = max_col.max(c);
            }
            _ => {}
        }
        Ok(())
    })?;
    if present == 0 {
        return Ok(());
    }
    dense_ok(max_row + 1, max_col + 1, present)
}

fn shared_strings(xml: &[u8]) -> Result<(), String> {
    walk(xml, |e, _| {
        if e.local_name().as_ref() == b"sst" {
            for key in [&b"uniqueCount"[..], b"count"] {
                if let Some(n) = attribute(e, key).and_then(|v| number(&v)) {
                    if n > xml.len() as u64 {
                        return Err(format!(
                            "declares {n} shared strings in {} bytes: refused as damaged or hostile",
                            xml.len()
                        ));
                    }
                }
            }
        }
        Ok(())
    })
}

fn ods_content(xml: &[u8]) -> Result<(), String> {
    // rows and columns as calamine counts them (repeats expanded, capped at the
    // sheet's maximum), the extent of the cells that hold something
    const MAX_ROWS: u64 = 1_048_576;
    const MAX_COLUMNS: u64 = 16_384;
    let (mut row, mut row_repeat, mut col) = (0u64, 1u64, 0u64);
    let (mut last_row, mut last_col, mut present, mut spaces) = (0u64, 0u64, 0u64, 0u64);
    let mut row_has = false;
    let mut sheet_open = false;
    let finish_row = |row: &mut u64, repeat: u64, has: bool, last_row: &mut u64| {
        if has {
            *last_row = (*last_row).max((*row + repeat).min(MAX_ROWS));
        }
        *row = (*row + repeat).min(MAX_ROWS);
    };
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut depth = 0usize;
    loop {
        let ev = reader.read_event_into(&mut buf);
        match &ev {
            Ok(Event::Start(_)) => depth += 1,
            Ok(Event::End(_)) => depth = depth.saturating_sub(1),
            _ => {}
        }
        match ev {
            Ok(Event::Start(ref e)) | Ok(Event::Empty(ref e)) => {
                let content = matches!(ev, Ok(Event::Start(_)));
                match e.local_name().as_ref() {
                    b"table" => {
                        if sheet_open {
                            dense_ok(last_row, last_col, present)?;
                        }
                        (row, last_row, last_col, present) = (0, 0, 0, 0);
                        sheet_open = true;
                    }
                    b"table-row" => {
                        row_repeat = attribute(e, b"number-rows-repeated")
                            .and_then(|v| number(&v))
                            .unwrap_or(1)
                            .max(1);
                        col = 0;
                        row_has = false;
                        if !content {
                            finish_row(&mut row, row_repeat, false, &mut last_row);
                        }
                    }
                    b"table-cell" | b"covered-table-cell" => {
                        let repeat = attribute(e, b"number-columns-repeated")
                            .and_then(|v| number(&v))
                            .unwrap_or(1)
                            .max(1);
                        let has = content || attribute(e, b"value-type").is_some();
                        let end = (col + repeat).min(MAX_COLUMNS);
                        if has {
                            row_has = true;
                            last_col = last_col.max(end);
                            // the cells the file really holds: elements, not repeats
                            present += 1;
                        }
                        col = end;
                    }
                    b"s" => {
                        let n = attribute(e, b"c").and_then(|v| number(&v)).unwrap_or(1);
                        spaces = spaces.saturating_add(n);
                        if n > MAX_SPACE_RUN
                            || spaces > MAX_SPACE_RUN.saturating_mul(100).max(xml.len() as u64)
                        {
                            return Err(format!(
                                "a cell asks for {n} repeated spaces (text:c): refused as damaged or hostile"
                            ));
                        }
                    }
                    _ => {}
                }
            }
            Ok(Event::End(ref e)) if e.local_name().as_ref() == b"table-row" => {
                finish_row(&mut row, row_repeat, row_has, &mut last_row);
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => {
                return Err(format!(
                    "not well-formed XML near byte {}: {e}",
                    reader.buffer_position()
                ))
            }
        }
        buf.clear();
    }
    closed(depth)?;
    if sheet_open {
        dense_ok(last_row, last_col, present)?;
    }
    Ok(())
}

/// An `.xlsb` sheet: BIFF12 records (MS-XLSB 2.1.4), their type and size in
/// 7-bit groups. Rows from BrtRowHdr, columns from the cell records.
fn xlsb_sheet(bin: &[u8]) -> Result<(), String> {
    let mut pos = 0usize;
    let varint = |pos: &mut usize, max: usize| -> Option<u32> {
        let mut v: u32 = 0;
        for k in 0..max {
            let b = *bin.get(*pos)?;
            *pos += 1;
            v |= u32::from(b & 0x7F) << (7 * k);
            if b & 0x80 == 0 {
                break;
            }
        }
        Some(v)
    };
    let (mut row, mut col): (u64, Option<u64>) = (0, None);
    let (mut max_row, mut max_col, mut present) = (0u64, 0u64, 0u64);
    while pos < bin.len() {
        let (Some(typ), Some(size)) = (varint(&mut pos, 2), varint(&mut pos, 4)) else {
            return Err("a record is cut short".into());
        };
        let end = pos
            .checked_add(size as usize)
            .filter(|&e| e <= bin.len())
            .ok_or_else(|| format!("record {typ} at byte {pos} runs past the end of its part"))?;
        let data = &bin[pos..end];
        let u32_at = |k: usize| {
            data.get(k..k + 4)
                .map(|b| u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])))
        };
        match typ {
            0 => {
                row = u32_at(0).ok_or("a row header is cut short")?;
                col = None;
            }
            1..=11 => {
                let c = u32_at(0).ok_or("a cell record is cut short")?;
                col = Some(c);
                present += 1;
                max_row = max_row.max(row);
                max_col = max_col.max(c);
            }
            12..=18 => {
                let c = col.map_or(0, |c| c + 1);
                col = Some(c);
                present += 1;
                max_row = max_row.max(row);
                max_col = max_col.max(c);
            }
            _ => {}
        }
        pos = end;
    }
    if present == 0 {
        return Ok(());
    }
    dense_ok(max_row + 1, max_col + 1, present)
}

// ------------------------------------------------------------------ xls (MS-CFB)

const ENDOFCHAIN: u32 = 0xFFFF_FFFE;
const RESERVED: u32 = 0xFFFF_FFFA;

fn u16_at(b: &[u8], k: usize) -> u16 {
    u16::from_le_bytes([b[k], b[k + 1]])
}

fn u32_at(b: &[u8], k: usize) -> u32 {
    u32::from_le_bytes([b[k], b[k + 1], b[k + 2], b[k + 3]])
}

/// The compound file's sectors as calamine addresses them: sector `id` starts
/// right after the header, at `(id + 1) × size`.
struct Cfb<'a> {
    bytes: &'a [u8],
    size: usize,
    fat: Vec<u32>,
}

impl<'a> Cfb<'a> {
    fn sector(&self, id: u32) -> Result<&'a [u8], String> {
        let start = (id as usize + 1)
            .checked_mul(self.size)
            .ok_or_else(|| format!("sector {id} is out of range"))?;
        self.bytes
            .get(start..start + self.size)
            .ok_or_else(|| format!("sector {id} lies past the end of the file (truncated?)"))
    }

    /// Follows a chain from `start`, at most `len` bytes (calamine stops there
    /// too), every sector inside the file and seen once.
    fn chain(&self, what: &str, start: u32, len: usize) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        let mut seen = vec![false; self.fat.len()];
        let mut id = start;
        while id != ENDOFCHAIN && out.len() < len {
            let slot = seen
                .get_mut(id as usize)
                .ok_or_else(|| format!("{what}: sector {id:#x} is outside the sector table"))?;
            if *slot {
                return Err(format!(
                    "{what}: its sector chain loops back to sector {id}"
                ));
            }
            *slot = true;
            let s = self.sector(id).map_err(|e| format!("{what}: {e}"))?;
            out.extend_from_slice(&s[..s.len().min(len - out.len())]);
            id = self.fat[id as usize];
        }
        Ok(out)
    }
}

fn check_cfb(bytes: &[u8]) -> Result<(), String> {
    let bad = |e: String| format!("damaged .xls container: {e}");
    if bytes.len() < 512 {
        return Err(bad("shorter than its 512-byte header".into()));
    }
    let size = match u16_at(bytes, 30) {
        9 => 512,
        12 => 4096,
        s => return Err(bad(format!("sector shift {s:#x}, 9 or 12 expected"))),
    };
    if u16_at(bytes, 32) != 6 {
        return Err(bad("mini sector shift is not 6".into()));
    }
    let sectors = bytes.len() / size;
    let dir_start = u32_at(bytes, 48);
    let mini_fat_start = u32_at(bytes, 60);
    let mini_fat_len = u32_at(bytes, 64) as usize;
    let mut cfb = Cfb {
        bytes,
        size,
        fat: Vec::new(),
    };
    // DIFAT: 109 entries in the header, then a chain of DIFAT sectors whose last
    // entry is the next one
    let mut difat: Vec<u32> = (0..109).map(|k| u32_at(bytes, 76 + 4 * k)).collect();
    let mut id = u32_at(bytes, 68);
    let mut seen = std::collections::HashSet::new();
    while id < RESERVED {
        if !seen.insert(id) || seen.len() > sectors {
            return Err(bad(format!("the DIFAT chain loops back to sector {id}")));
        }
        let s = cfb.sector(id).map_err(|e| bad(format!("DIFAT: {e}")))?;
        let entries: Vec<u32> = (0..size / 4).map(|k| u32_at(s, 4 * k)).collect();
        difat.extend_from_slice(&entries[..entries.len() - 1]);
        id = entries[entries.len() - 1];
    }
    for &id in difat.iter().filter(|&&id| id < RESERVED) {
        let s = cfb.sector(id).map_err(|e| bad(format!("FAT: {e}")))?;
        cfb.fat.extend((0..size / 4).map(|k| u32_at(s, 4 * k)));
    }
    if cfb.fat.len() > sectors.saturating_mul(2).max(1 << 20) {
        return Err(bad("its sector table is larger than the file allows".into()));
    }
    let dirs = cfb.chain("directory", dir_start, usize::MAX).map_err(bad)?;
    if dirs.len() < 128 {
        return Err(bad("no directory".into()));
    }
    let entry = |k: usize| -> (String, u8, u32, u64) {
        let e = &dirs[128 * k..128 * k + 128];
        let units: Vec<u16> = (0..32)
            .map(|j| u16_at(e, 2 * j))
            .take_while(|&u| u != 0)
            .collect();
        let len = if size == 512 {
            u64::from(u32_at(e, 120))
        } else {
            u64::from(u32_at(e, 120)) | (u64::from(u32_at(e, 124)) << 32)
        };
        (String::from_utf16_lossy(&units), e[66], u32_at(e, 116), len)
    };
    let (_, _, root_start, root_len) = entry(0);
    let file = bytes.len() as u64;
    let too_long = |name: &str, len: u64| {
        bad(format!(
            "stream {name:?} claims {len} bytes in a file of {file}"
        ))
    };
    let (mini_fat, mini_stream) = if mini_fat_len > 0 {
        if root_len > file {
            return Err(too_long("Root Entry", root_len));
        }
        let stream = cfb
            .chain("mini stream", root_start, root_len as usize)
            .map_err(bad)?;
        let fat = cfb
            .chain(
                "mini FAT",
                mini_fat_start,
                mini_fat_len.saturating_mul(size),
            )
            .map_err(bad)?;
        let fat: Vec<u32> = fat.chunks_exact(4).map(|c| u32_at(c, 0)).collect();
        (fat, stream)
    } else {
        (Vec::new(), Vec::new())
    };
    // the streams calamine reads: the workbook (any case of its names)
    for k in 0..dirs.len() / 128 {
        let (name, kind, start, len) = entry(k);
        if kind != 2 || !["workbook", "book"].contains(&name.to_ascii_lowercase().as_str()) {
            continue;
        }
        if len > file {
            return Err(too_long(&name, len));
        }
        let stream = if len < 4096 {
            let mut out = Vec::new();
            let mut seen = vec![false; mini_fat.len()];
            let mut id = start;
            while id != ENDOFCHAIN && out.len() < len as usize {
                let slot = seen.get_mut(id as usize).ok_or_else(|| {
                    bad(format!(
                        "stream {name:?}: mini sector {id:#x} is outside the mini FAT"
                    ))
                })?;
                if *slot {
                    return Err(bad(format!("stream {name:?}: its mini sector chain loops")));
                }
                *slot = true;
                let s = mini_stream
                    .get(id as usize * 64..id as usize * 64 + 64)
                    .ok_or_else(|| {
                        bad(format!(
                            "stream {name:?}: mini sector {id} is past the mini stream"
                        ))
                    })?;
                out.extend_from_slice(&s[..64.min(len as usize - out.len())]);
                id = mini_fat[id as usize];
            }
            out
        } else {
            cfb.chain(&format!("stream {name:?}"), start, len as usize)
                .map_err(bad)?
        };
        biff_records(&stream).map_err(|e| format!("damaged .xls workbook stream: {e}"))?;
    }
    Ok(())
}

/// The workbook stream's records, read as calamine reads them: from the start
/// (the globals), then from every sheet's position that a BoundSheet record
/// gives (a damaged one can point anywhere in the stream). Dimensions must have
/// their first row before their last (calamine's row count wraps otherwise: a
/// reservation of 2.8 PB, found by fuzz target workbook_xls) within the BIFF8
/// limit of 65,536 rows; cells within its 256 columns.
fn biff_records(s: &[u8]) -> Result<(), String> {
    let mut starts = vec![0usize];
    let mut k = 0;
    while k < starts.len() {
        let mut pos = starts[k];
        k += 1;
        while pos + 4 <= s.len() {
            let typ = u16_at(s, pos);
            let len = usize::from(u16_at(s, pos + 2));
            let data = s.get(pos + 4..pos + 4 + len).unwrap_or(&s[pos + 4..]);
            match typ {
                // BoundSheet8: where a sheet's records start
                0x0085 if data.len() >= 4 && starts.len() < 4096 => {
                    let at = u32_at(data, 0) as usize;
                    if at < s.len() && !starts.contains(&at) {
                        starts.push(at);
                    }
                }
                // Dimensions, BIFF8 (rows as u32) and BIFF5 (rows as u16)
                0x0200 if data.len() == 14 || data.len() == 10 => {
                    let (rf, rl) = if data.len() == 14 {
                        (u32_at(data, 0), u32_at(data, 4))
                    } else {
                        (u32::from(u16_at(data, 0)), u32::from(u16_at(data, 2)))
                    };
                    if rl > 65_536 || (rl >= 1 && rf > rl - 1) {
                        return Err(format!(
                            "a sheet's Dimensions record spans rows {rf}..{rl}: not a range of the format's 65,536 rows"
                        ));
                    }
                }
                // MergeCells: a count, then 8 bytes a range (calamine reads them
                // without checking the record's length: found by fuzz target
                // workbook_xls)
                0x00E5 => {
                    let count = if data.len() >= 2 {
                        usize::from(u16_at(data, 0))
                    } else {
                        usize::MAX
                    };
                    if count == usize::MAX || data.len() < 2 + 8 * count {
                        return Err(format!(
                            "a MergeCells record of {} bytes is shorter than the ranges it announces",
                            data.len()
                        ));
                    }
                }
                // cells: row, then column
                0x0203 | 0x0204 | 0x0205 | 0x027E | 0x00FD | 0x0006 | 0x0201 | 0x00BD | 0x00BE
                    if data.len() >= 4 =>
                {
                    let col = u16_at(data, 2);
                    if col > 255 {
                        return Err(format!(
                            "a cell in column {col}: past the 256 columns of the format"
                        ));
                    }
                }
                _ => {}
            }
            pos += 4 + len;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_references() {
        assert_eq!(cell_ref(b"A1"), Some((0, 0)));
        assert_eq!(cell_ref(b"XFD1048576"), Some((1_048_575, 16_383)));
        assert_eq!(cell_ref(b"aa10"), Some((9, 26)));
        assert_eq!(cell_ref(b"A0"), None);
        assert_eq!(cell_ref(b"12"), None);
    }

    #[test]
    fn a_stray_cell_far_away_is_refused_a_full_sheet_is_not() {
        let sheet = |cells: &str| {
            format!(
                r#"<worksheet><sheetData><row r="1"><c r="A1"/><c r="B1"/></row>{cells}</sheetData></worksheet>"#
            )
        };
        assert!(xlsx_sheet(sheet("").as_bytes()).is_ok());
        let far = sheet(r#"<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>"#);
        let e = xlsx_sheet(far.as_bytes()).unwrap_err();
        assert!(e.contains("1048576 rows × 16384 columns"), "{e}");
        // cells without references follow the previous one
        let implicit = r#"<worksheet><sheetData><row><c/><c/><c/></row><row><c/></row></sheetData></worksheet>"#;
        assert!(xlsx_sheet(implicit.as_bytes()).is_ok());
        // 3,000 rows × 2 columns, full: fine
        let mut full = String::from("<worksheet><sheetData>");
        for r in 1..=3000 {
            full.push_str(&format!(r#"<row r="{r}"><c r="A{r}"/><c r="B{r}"/></row>"#));
        }
        full.push_str("</sheetData></worksheet>");
        assert!(xlsx_sheet(full.as_bytes()).is_ok());
    }

    #[test]
    fn ods_repeats_and_space_runs() {
        // LibreOffice's trailing empty rows and columns are fine
        let normal = r#"<office:document-content><table:table><table:table-row><table:table-cell office:value-type="string"><text:p>A</text:p></table:table-cell><table:table-cell table:number-columns-repeated="1023"/></table:table-row><table:table-row table:number-rows-repeated="1048575"><table:table-cell table:number-columns-repeated="1024"/></table:table-row></table:table></office:document-content>"#;
        assert!(ods_content(normal.as_bytes()).is_ok());
        // a cell with content repeated over a million rows and the whole width
        let bomb = r#"<table:table><table:table-row table:number-rows-repeated="1000000"><table:table-cell table:number-columns-repeated="16000" office:value-type="float" office:value="1"/></table:table-row></table:table>"#;
        assert!(ods_content(bomb.as_bytes()).is_err());
        let spaces = r#"<table:table><table:table-row><table:table-cell><text:p>a<text:s text:c="2000000000"/></text:p></table:table-cell></table:table-row></table:table>"#;
        let e = ods_content(spaces.as_bytes()).unwrap_err();
        assert!(e.contains("2000000000 repeated spaces"), "{e}");
    }

    #[test]
    fn parts_cut_short_are_refused() {
        let open = r#"<office:document-content><office:body><table:table table:name="D"><table:table-row>"#;
        let e = ods_content(open.as_bytes()).unwrap_err();
        assert!(e.contains("still open"), "{e}");
        assert!(xlsx_sheet(b"<worksheet><sheetData><row r=\"1\">").is_err());
    }

    #[test]
    fn shared_string_counts_within_their_part() {
        assert!(shared_strings(
            br#"<sst uniqueCount="2"><si><t>a</t></si><si><t>b</t></si></sst>"#
        )
        .is_ok());
        assert!(shared_strings(br#"<sst uniqueCount="99999999999"></sst>"#).is_err());
    }

    #[test]
    fn xlsb_records() {
        // row header (type 0, 4 bytes: row 0), then a BrtCellReal at column 2
        let mut ok = vec![0u8, 4, 0, 0, 0, 0, 5, 4, 2, 0, 0, 0];
        assert!(xlsb_sheet(&ok).is_ok());
        // then a row header at row 1,000,000 and a cell in column 16,000
        ok.extend([0, 4]);
        ok.extend(1_000_000u32.to_le_bytes());
        ok.extend([5, 4]);
        ok.extend(16_000u32.to_le_bytes());
        assert!(xlsb_sheet(&ok).is_err());
        // a record longer than its part
        assert!(xlsb_sheet(&[5, 100, 0]).is_err());
    }
}
