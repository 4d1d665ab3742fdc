//! What both CSV inputs share, taking files as spreadsheets export them:
//! - UTF-8 (with or without BOM), or Windows-1252 when the bytes are not UTF-8
//!   (detected and reported);
//! - `,`, `;` or tab separators, detected from the header line (reported when not `,`);
//! - CRLF line ends, blank and all-empty lines;
//! - headers in French or English, case, accents, spaces and punctuation ignored
//!   (`Code INSEE`, `Identifiant CPTS`, `Statut`…), the mapping reported when it is
//!   not the canonical name;
//! - errors naming file and line.

use std::io::Cursor;
use std::path::PathBuf;

use super::source::Source;
use crate::error::{Error, Result};

/// How many rows below the first one a header is looked for (title rows above
/// the header are common in spreadsheets).
const HEADER_SEARCH_ROWS: usize = 10;

/// A CSV input being read row by row.
pub(crate) struct CsvTable {
    path: PathBuf,
    rdr: csv::Reader<Cursor<Vec<u8>>>,
    header: csv::StringRecord,
    /// What was detected or normalised about the file itself, for the report.
    pub notes: Vec<String>,
    /// Columns named by the user (`--columns`): canonical name → header.
    pub overrides: Vec<(String, String)>,
}

impl CsvTable {
    /// Opens `source` and reads its header.
    pub fn open(source: &Source) -> Result<Self> {
        let path = source.name.clone();
        let mut notes = Vec::new();
        let bytes = source
            .bytes
            .strip_prefix(b"\xEF\xBB\xBF")
            .unwrap_or(&source.bytes);
        let text = match std::str::from_utf8(bytes) {
            Ok(t) => t.to_owned(),
            Err(_) => {
                notes.push("not UTF-8: decoded as Windows-1252".to_owned());
                windows_1252(bytes)
            }
        };
        // the csv reader numbers the records of CRLF files one line early: read LF
        let text = if text.contains("\r\n") {
            text.replace("\r\n", "\n")
        } else {
            text
        };
        let separator = sniff_separator(&text);
        if separator != b',' {
            notes.push(format!("separator {:?} detected", separator as char));
        }
        let mut rdr = csv::ReaderBuilder::new()
            .delimiter(separator)
            .flexible(true)
            .from_reader(Cursor::new(text.into_bytes()));
        let header = rdr
            .headers()
            .map_err(|e| csv_error(&path, 1, e.to_string()))?
            .clone();
        Ok(CsvTable {
            path,
            rdr,
            header,
            notes,
            overrides: Vec::new(),
        })
    }

    /// The positions of the `required` columns (canonical names, each with the
    /// other names it may go by), or an error on line 1 listing them (`what` says
    /// which are required) and the header found.
    pub fn columns<const N: usize>(
        &mut self,
        required: [(&str, &[&str]); N],
        what: &str,
    ) -> Result<[usize; N]> {
        let first = self.header.clone();
        let notes = self.notes.len();
        // a spreadsheet may put titles above the header: look a few rows further
        let mut record = csv::StringRecord::new();
        for _ in 0..=HEADER_SEARCH_ROWS {
            let found: Option<Vec<usize>> = required
                .iter()
                .map(|(name, aliases)| self.column(name, aliases))
                .collect();
            if let Some(found) = found {
                let line = self.header.position().map_or(1, |p| p.line());
                if line > 1 {
                    self.notes.push(format!("header found on line {line}"));
                }
                let mut out = [0; N];
                out.copy_from_slice(&found);
                return Ok(out);
            }
            self.notes.truncate(notes);
            match self.rdr.read_record(&mut record) {
                Ok(true) => self.header = record.clone(),
                _ => break,
            }
        }
        let mut found = first.iter().collect::<Vec<_>>().join(",");
        if let Some(n) = self.notes.iter().find(|n| n.starts_with("workbook:")) {
            found.push_str(&format!(" — {n}"));
        }
        Err(self.error(
            first.position().map_or(1, |p| p.line()),
            format!("header must name {what}; found: {found} (nor in the {HEADER_SEARCH_ROWS} rows below; name the columns with --columns)"),
        ))
    }

    /// The position of a column by its canonical name or one of its aliases
    /// (compared without case, accents, spaces or punctuation). A match that is not
    /// the canonical name is noted.
    pub fn column(&mut self, name: &str, aliases: &[&str]) -> Option<usize> {
        if let Some((_, given)) = self.overrides.iter().find(|(k, _)| k == name) {
            let given = given.clone();
            let pos = self
                .header
                .iter()
                .position(|h| h.trim() == given.trim())
                .or_else(|| self.header.iter().position(|h| fold(h) == fold(&given)));
            match pos {
                Some(_) => self
                    .notes
                    .push(format!("column {given:?} read as {name} (--columns)")),
                None => self
                    .notes
                    .push(format!("--columns: no column {given:?} for {name}")),
            }
            return pos;
        }
        let wanted: Vec<String> = std::iter::once(name)
            .chain(aliases.iter().copied())
            .map(fold)
            .collect();
        let pos = self.header.iter().position(|h| wanted.contains(&fold(h)))?;
        let found = self.header.get(pos).unwrap_or("").trim();
        if found != name {
            self.notes.push(format!("column {found:?} read as {name}"));
        }
        Some(pos)
    }

    /// Reads the next row with content into `record`; returns its line number, `None`
    /// at the end. Blank lines and lines of empty fields are skipped.
    pub fn next(&mut self, record: &mut csv::StringRecord) -> Result<Option<u64>> {
        loop {
            match self.rdr.read_record(record) {
                Ok(false) => return Ok(None),
                Ok(true) => {
                    if record.iter().all(|f| f.trim().is_empty()) {
                        continue;
                    }
                    let line = record.position().map_or(0, |p| p.line());
                    let extra_content = record
                        .iter()
                        .skip(self.width())
                        .any(|f| !f.trim().is_empty());
                    if record.len() < self.width() || extra_content {
                        return Err(self.error(
                            line,
                            format!(
                                "this row has {} fields, the header {}",
                                record.len(),
                                self.width()
                            ),
                        ));
                    }
                    return Ok(Some(line));
                }
                Err(e) => {
                    return Err(self.error(e.position().map_or(0, |p| p.line()), e.to_string()))
                }
            }
        }
    }

    /// The number of header fields (rows with another count are malformed).
    pub fn width(&self) -> usize {
        self.header.len()
    }

    /// An error at `line` of this file.
    pub fn error(&self, line: u64, message: String) -> Error {
        csv_error(&self.path, line, message)
    }
}

fn csv_error(path: &std::path::Path, line: u64, message: String) -> Error {
    Error::Csv {
        path: path.to_owned(),
        line,
        message,
    }
}

/// Lowercase ASCII letters and digits only, accents removed: `Code INSEE` → `codeinsee`,
/// `Identifiant_CPTS` → `identifiantcpts`, `Statut` → `statut`, `État` → `etat`.
pub(crate) fn fold(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'à' | 'â' | 'ä' | 'À' | 'Â' | 'Ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => 'e',
            'î' | 'ï' | 'Î' | 'Ï' => 'i',
            'ô' | 'ö' | 'Ô' | 'Ö' => 'o',
            'ù' | 'û' | 'ü' | 'Ù' | 'Û' | 'Ü' => 'u',
            'ç' | 'Ç' => 'c',
            c => c.to_ascii_lowercase(),
        })
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

/// The most frequent of `,`, `;` and tab outside quotes on the first non-blank line
/// (ties go to `,`).
fn sniff_separator(text: &str) -> u8 {
    let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => counts[0] += 1,
            ';' if !quoted => counts[1] += 1,
            '\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let best = (0..3)
        .max_by_key(|&k| (counts[k], std::cmp::Reverse(k)))
        .unwrap_or(0);
    [b',', b';', b'\t'][best]
}

/// Decodes Windows-1252 (Latin-1 but for 0x80–0x9F, which hold € ‚ ƒ „ … † ‡ ˆ ‰ Š ‹ Œ
/// Ž ‘ ’ “ ” • – — ˜ ™ š › œ ž Ÿ).
fn windows_1252(bytes: &[u8]) -> String {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž',
        '\u{8f}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}',
        'ž', 'Ÿ',
    ];
    bytes
        .iter()
        .map(|&b| match b {
            0x80..=0x9F => HIGH[(b - 0x80) as usize],
            _ => b as char,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_are_sniffed_outside_quotes() {
        assert_eq!(sniff_separator("a,b,c\n1,2,3"), b',');
        assert_eq!(sniff_separator("a;b;c\n"), b';');
        assert_eq!(sniff_separator("a\tb\tc"), b'\t');
        assert_eq!(sniff_separator("\"x;y;z\",b\n"), b',');
        assert_eq!(sniff_separator("\n\nid;nom\n"), b';');
    }

    #[test]
    fn windows_1252_decodes_french_text() {
        assert_eq!(windows_1252(b"Boll\xe8ne \x80 \x92"), "Bollène € ’");
    }

    #[test]
    fn headers_fold_without_case_accents_or_punctuation() {
        assert_eq!(fold("Code INSEE"), "codeinsee");
        assert_eq!(fold(" Identifiant_CPTS "), "identifiantcpts");
        assert_eq!(fold("État"), "etat");
        assert_eq!(fold("Nom de la CPTS"), "nomdelacpts");
    }
}

/// A commune code as spreadsheets break it, made whole again: spaces removed, a
/// trailing `.0` dropped (`04001.0`), Corsica upper-cased (`2a004`), a lost leading
/// zero restored (`4001` → `04001`). Returns the code and, when it changed, why.
pub(crate) fn normalize_code(raw: &str) -> (String, Option<&'static str>) {
    let mut code: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    let mut why = None;
    if code.len() != raw.len() {
        why = Some("spaces removed");
    }
    for suffix in [".0", ",0"] {
        if code.len() > suffix.len()
            && code.ends_with(suffix)
            && code[..code.len() - suffix.len()]
                .chars()
                .all(|c| c.is_ascii_digit())
        {
            code.truncate(code.len() - suffix.len());
            why = Some("decimal .0 dropped");
        }
    }
    if code.chars().any(|c| c.is_ascii_lowercase()) && code.len() == 5 {
        code = code.to_ascii_uppercase();
        why = Some("upper-cased");
    }
    if code.len() == 4 && code.chars().all(|c| c.is_ascii_digit()) {
        code.insert(0, '0');
        why = Some("lost leading zero restored");
    }
    (code, why)
}

#[cfg(test)]
mod code_tests {
    use super::normalize_code;

    #[test]
    fn codes_are_made_whole() {
        assert_eq!(normalize_code("04001"), ("04001".to_owned(), None));
        assert_eq!(
            normalize_code("4001"),
            ("04001".to_owned(), Some("lost leading zero restored"))
        );
        assert_eq!(
            normalize_code("2a004"),
            ("2A004".to_owned(), Some("upper-cased"))
        );
        assert_eq!(
            normalize_code(" 13 055 "),
            ("13055".to_owned(), Some("spaces removed"))
        );
        assert_eq!(
            normalize_code("4001.0"),
            ("04001".to_owned(), Some("lost leading zero restored"))
        );
        assert_eq!(normalize_code("97411"), ("97411".to_owned(), None));
        assert_eq!(
            normalize_code("401"),
            ("401".to_owned(), None),
            "too short to guess: left as is (unknown code)"
        );
    }
}
