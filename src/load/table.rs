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
    /// Fields several columns of the current header row could be.
    ambiguous: Vec<String>,
    separator: u8,
    /// The last (byte offset, line) counted: lines are counted from the text,
    /// since the csv crate's own line numbers leave out blank lines.
    counted: std::cell::Cell<(usize, u64)>,
}

/// A column a table input may have: its canonical name (the one `--columns` uses),
/// the other exact names it goes by, and a rule on the words of any other header.
pub(crate) struct Field {
    /// Canonical name: `commune_code`, `cpts_id`…
    pub name: &'static str,
    /// Other names, compared without case, accents, spaces or punctuation.
    pub aliases: &'static [&'static str],
    /// Whether a header's [`words`] name this column.
    pub rule: fn(&[String]) -> bool,
    /// Among several headers the rule accepts, the only one with one of these words
    /// is taken (`municipale` among population columns).
    pub prefer: &'static [&'static str],
    /// A looser rule on the words (`Communes`), for when the first accepts nothing:
    /// a column it accepts is taken only if its first values pass `value`.
    pub loose: fn(&[String]) -> bool,
    /// What a value of the column looks like, for [`Field::loose`].
    pub value: fn(&str) -> bool,
}

/// For [`Field::loose`] and [`Field::value`] when a field has no loose rule.
pub(crate) fn never<T: ?Sized>(_: &T) -> bool {
    false
}

/// True when `w` holds one of `these` words.
pub(crate) fn any_of(w: &[String], these: &[&str]) -> bool {
    w.iter().any(|x| these.contains(&x.as_str()))
}

/// The code of a commune: `Code commune INSEE`, `Code INSEE de la commune`,
/// `N° INSEE`, `Code géographique` (INSEE's `CODGEO`), `COM`… but not a postal code, nor the code of a département, EPCI or
/// CPTS, nor a name.
pub(crate) const COMMUNE_CODE: Field = Field {
    name: "commune_code",
    aliases: &[
        "code insee",
        "code commune",
        "insee",
        "codgeo",
        "insee_com",
        "code_insee",
        "depcom",
        "com",
        "code",
    ],
    rule: |w| {
        let other = any_of(
            w,
            &[
                "postal",
                "cpts",
                "nom",
                "libelle",
                "departement",
                "dep",
                "region",
                "reg",
                "epci",
                "population",
                "pop",
            ],
        );
        !other
            && (any_of(
                w,
                &[
                    "insee",
                    "codgeo",
                    "depcom",
                    "codecommune",
                    "codeinsee",
                    "inseecom",
                ],
            ) || (any_of(w, &["code", "cod", "n", "no", "numero"])
                && any_of(w, &["commune", "com", "geographique"])))
    },
    prefer: &[],
    // `Communes`, `Liste des communes`, `Commune(s)`: codes or names? the values say
    loose: |w| {
        any_of(w, &["commune", "communes", "com", "liste"])
            && !any_of(
                w,
                &[
                    "nom",
                    "libelle",
                    "nombre",
                    "nb",
                    "population",
                    "pop",
                    "epci",
                ],
            )
    },
    value: |v| code_like(v) || split_codes(v).is_some(),
};

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
                notes.push("pas en UTF-8 : décodé en Windows-1252".to_owned());
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
            notes.push(format!("séparateur {:?} détecté", separator as char));
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
            ambiguous: Vec::new(),
            separator,
            counted: std::cell::Cell::new((0, 1)),
        })
    }

    /// Finds the header row and the columns in it: `accept` is tried on the first
    /// row, then on each of the [`HEADER_SEARCH_ROWS`] rows below (spreadsheets put
    /// titles above the header), and the first row it accepts is the header. Notes
    /// made by a rejected row are dropped. `what` names the required columns in the
    /// error.
    pub fn header<T>(
        &mut self,
        what: &str,
        mut accept: impl FnMut(&mut Self) -> Option<T>,
    ) -> Result<T> {
        let first = self.header.clone();
        let notes = self.notes.len();
        let mut ambiguous: Vec<String> = Vec::new();
        let mut record = csv::StringRecord::new();
        for _ in 0..=HEADER_SEARCH_ROWS {
            self.ambiguous.clear();
            if let Some(found) = accept(self) {
                let line = self.line_of(self.header.position());
                if line > 1 {
                    self.notes.push(format!("en-tête trouvé ligne {line}"));
                }
                return Ok(found);
            }
            if ambiguous.is_empty() {
                ambiguous = std::mem::take(&mut self.ambiguous);
            }
            self.notes.truncate(notes);
            match self.rdr.read_record(&mut record) {
                Ok(true) => self.header = record.clone(),
                _ => break,
            }
        }
        let mut found = first.iter().collect::<Vec<_>>().join(",");
        if let Some(n) = self.notes.iter().find(|n| n.starts_with("classeur :")) {
            found.push_str(&format!(" — {}", crate::lang::note_en(n)));
        }
        let ambiguous = if ambiguous.is_empty() {
            String::new()
        } else {
            format!("; {}", ambiguous.join("; "))
        };
        Err(self.error(
            self.line_of(first.position()).max(1),
            format!("header must name {what}; found: {found}{ambiguous} (nor in the {HEADER_SEARCH_ROWS} rows below; name the columns with --columns)"),
        ))
    }

    /// The position of `field`'s column in the current header row: the one named
    /// with `--columns`, else the one whose name is the field's or one of its
    /// aliases (compared without case, accents, spaces or punctuation), else the
    /// only one whose words the field's rule accepts (`Code commune INSEE`,
    /// `Nom de la CPTS`). A match that is not the canonical name is noted; several
    /// columns accepted by the rule are noted as ambiguous and none is taken.
    pub fn column(&mut self, field: &Field) -> Option<usize> {
        let name = field.name;
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
                    .push(format!("colonne {given:?} lue comme {name} (--columns)")),
                None => self
                    .notes
                    .push(format!("--columns : aucune colonne {given:?} pour {name}")),
            }
            return pos;
        }
        let wanted: Vec<String> = std::iter::once(name)
            .chain(field.aliases.iter().copied())
            .map(fold)
            .collect();
        // the canonical name first, then the aliases in their order
        let exact = wanted
            .iter()
            .find_map(|w| self.header.iter().position(|h| fold(h) == *w));
        let pos = match exact {
            Some(pos) => pos,
            None => {
                let header_words: Vec<Vec<String>> = self.header.iter().map(words).collect();
                let accepted: Vec<usize> = (0..header_words.len())
                    .filter(|&i| (field.rule)(&header_words[i]))
                    .collect();
                let preferred: Vec<usize> = accepted
                    .iter()
                    .copied()
                    .filter(|&i| any_of(&header_words[i], field.prefer))
                    .collect();
                match (accepted.as_slice(), preferred.as_slice()) {
                    ([], _) => return self.by_values(field),
                    ([one], _) | (_, [one]) => *one,
                    (many, _) => {
                        let list: Vec<&str> = many.iter().map(|&i| self.header[i].trim()).collect();
                        self.ambiguous
                            .push(format!("{name} could be any of the columns {list:?}"));
                        return None;
                    }
                }
            }
        };
        let found = self.header.get(pos).unwrap_or("").trim();
        if found != name {
            self.notes
                .push(format!("colonne {found:?} lue comme {name}"));
        }
        Some(pos)
    }

    /// The column named `name` in the current header row (compared without case,
    /// accents, spaces or punctuation).
    pub fn position_of(&self, name: &str) -> Option<usize> {
        let want = fold(name);
        self.header.iter().position(|h| fold(h) == want)
    }

    /// The only column [`Field::loose`] accepts whose first values (up to 20 non-empty
    /// ones) are at least 80 % what [`Field::value`] expects; noted.
    fn by_values(&mut self, field: &Field) -> Option<usize> {
        let loose: Vec<usize> = (0..self.header.len())
            .filter(|&i| (field.loose)(&words(&self.header[i])))
            .collect();
        if loose.is_empty() {
            return None;
        }
        // read the rows below the current header again, from a second reader
        let line = self.header.position().map_or(1, |p| p.line());
        let mut rdr = csv::ReaderBuilder::new()
            .delimiter(self.separator)
            .has_headers(false)
            .flexible(true)
            .from_reader(Cursor::new(self.rdr.get_ref().get_ref().as_slice()));
        let rows: Vec<csv::StringRecord> = rdr
            .records()
            .filter_map(|r| r.ok())
            .filter(|r| r.position().is_some_and(|p| p.line() > line))
            .take(200)
            .collect();
        let mut good = Vec::new();
        for i in loose {
            let values: Vec<&str> = rows
                .iter()
                .filter_map(|r| r.get(i))
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .take(20)
                .collect();
            let ok = values.iter().filter(|v| (field.value)(v)).count();
            if !values.is_empty() && ok * 5 >= values.len() * 4 {
                good.push(i);
            } else if let Some(bad) = values.iter().find(|v| !(field.value)(v)) {
                self.ambiguous.push(format!(
                    "column {:?} could be {} but holds {bad:?}, not an INSEE code",
                    self.header[i].trim(),
                    field.name
                ));
            }
        }
        match good.as_slice() {
            [one] => {
                let found = self.header[*one].trim().to_owned();
                self.notes.push(format!(
                    "colonne {found:?} lue comme {} (ses valeurs sont des codes)",
                    field.name
                ));
                Some(*one)
            }
            _ => None,
        }
    }

    /// Ambiguities met while matching the current header row (several columns a
    /// field's rule accepts), for the report.
    pub fn ambiguities(&self) -> &[String] {
        &self.ambiguous
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
                    let line = self.line_of(record.position());
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
                Err(e) => return Err(self.error(self.line_of(e.position()), e.to_string())),
            }
        }
    }

    /// The line (1-based) of a position of the reader: newlines counted in the
    /// text up to it, from the last position counted when it lies further on
    /// (rows are read in order, so the whole file is counted once).
    fn line_of(&self, pos: Option<&csv::Position>) -> u64 {
        let Some(pos) = pos else { return 0 };
        let bytes = self.rdr.get_ref().get_ref();
        let mut byte = (pos.byte() as usize).min(bytes.len());
        // a record read after blank lines starts where they start
        while bytes.get(byte) == Some(&b'\n') {
            byte += 1;
        }
        let (from, line) = match self.counted.get() {
            (b, l) if b <= byte => (b, l),
            _ => (0, 1),
        };
        let line = line + memchr::memchr_iter(b'\n', &bytes[from..byte]).count() as u64;
        self.counted.set((byte, line));
        line
    }

    /// The field separator detected (or `,`).
    pub fn separator(&self) -> u8 {
        self.separator
    }

    /// The line of the header row (1-based).
    pub fn header_line(&self) -> u64 {
        self.line_of(self.header.position()).max(1)
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
        .map(fold_char)
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

/// A French or English letter without case or accent.
fn fold_char(c: char) -> char {
    match c {
        'à' | 'â' | 'ä' | 'À' | 'Â' | 'Ä' => 'a',
        'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => 'e',
        'î' | 'ï' | 'Î' | 'Ï' => 'i',
        'ô' | 'ö' | 'Ô' | 'Ö' => 'o',
        'ù' | 'û' | 'ü' | 'Ù' | 'Û' | 'Ü' => 'u',
        'ç' | 'Ç' => 'c',
        c => c.to_ascii_lowercase(),
    }
}

/// The words of a header, folded like [`fold`], without the little words
/// (`de`, `la`, `du`, `of`…): `N° de la CPTS` → `["n", "cpts"]`.
pub(crate) fn words(s: &str) -> Vec<String> {
    const LITTLE: [&str; 11] = [
        "de", "la", "le", "les", "du", "des", "d", "l", "en", "of", "the",
    ];
    s.chars()
        .map(fold_char)
        .collect::<String>()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty() && !LITTLE.contains(w))
        .map(str::to_owned)
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
    // WHATWG's windows-1252 (0x81, 0x8D, 0x8F, 0x90, 0x9D to the C1 controls),
    // from encoding_rs, the decoder the Shapefile reader already uses
    encoding_rs::WINDOWS_1252
        .decode_without_bom_handling(bytes)
        .0
        .into_owned()
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
        // every byte: Latin-1 but for 0x80-0x9F's printable characters
        let all: Vec<u8> = (0..=255).collect();
        let text: Vec<char> = windows_1252(&all).chars().collect();
        assert_eq!(text.len(), 256);
        for (b, c) in all.iter().zip(&text) {
            if !(0x80..=0x9F).contains(b) {
                assert_eq!(*c as u32, u32::from(*b));
            }
        }
        assert_eq!((text[0x81], text[0x8A], text[0x9F]), ('\u{81}', 'Š', 'Ÿ'));
    }

    #[test]
    fn headers_fold_without_case_accents_or_punctuation() {
        assert_eq!(fold("Code INSEE"), "codeinsee");
        assert_eq!(fold(" Identifiant_CPTS "), "identifiantcpts");
        assert_eq!(fold("État"), "etat");
        assert_eq!(fold("Nom de la CPTS"), "nomdelacpts");
    }

    #[test]
    fn header_words_drop_little_words_and_the_commune_code_rule_avoids_traps() {
        assert_eq!(words("N° de la CPTS"), ["n", "cpts"]);
        assert_eq!(words("Code_INSEE (2026)"), ["code", "insee", "2026"]);
        let code = |h: &str| (COMMUNE_CODE.rule)(&words(h));
        for yes in [
            "Code commune INSEE",
            "Code INSEE de la commune",
            "N° INSEE",
            "Code géographique",
            "CODE_COMMUNE",
            "Commune (code INSEE)",
        ] {
            assert!(code(yes), "{yes}");
        }
        for no in [
            "Code postal",
            "Nom commune INSEE",
            "Code INSEE du département",
            "Code EPCI de la commune",
            "Commune",
            "Code CPTS",
            "Population INSEE",
        ] {
            assert!(!code(no), "{no}");
        }
    }
}

/// A commune code as spreadsheets break it, made whole again: spaces removed, a
/// trailing `.0` dropped (`04001.0`), Corsica upper-cased (`2a004`), a lost leading
/// zero restored (`4001` → `04001`). Returns the code and, when it changed, why.
pub(crate) fn normalize_code(raw: &str) -> (String, Option<&'static str>) {
    let mut code: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    let mut why = None;
    if code.len() != raw.len() {
        why = Some("espaces retirées");
    }
    for suffix in [".0", ",0"] {
        if code.len() > suffix.len()
            && code.ends_with(suffix)
            && code[..code.len() - suffix.len()]
                .chars()
                .all(|c| c.is_ascii_digit())
        {
            code.truncate(code.len() - suffix.len());
            why = Some("décimale .0 retirée");
        }
    }
    if code.chars().any(|c| c.is_ascii_lowercase()) && code.len() == 5 {
        code = code.to_ascii_uppercase();
        why = Some("mis en majuscules");
    }
    if code.len() == 4 && code.chars().all(|c| c.is_ascii_digit()) {
        code.insert(0, '0');
        why = Some("zéro initial perdu rétabli");
    }
    (code, why)
}

/// True for what a commune code looks like, whole or broken by a spreadsheet:
/// 4 or 5 digits, or `2A`/`2B` and 3 digits, with an optional `.0`.
fn code_like(s: &str) -> bool {
    let s = s.strip_suffix(".0").unwrap_or(s);
    let b = s.as_bytes();
    matches!(b.len(), 4 | 5)
        && b.iter().enumerate().all(|(i, c)| {
            c.is_ascii_digit() || (b.len() == 5 && i == 1 && matches!(c, b'A' | b'B' | b'a' | b'b'))
        })
}

/// A code cell that holds more than one code, the way spreadsheets are filled in by
/// hand: a list (`04001, 04005 ; 04006`, `04001 04005`, one per line in the cell) or
/// a code followed by its name (`04070 - Digne-les-Bains`, `04070 Digne`). Returns the
/// codes and how the cell was read; `None` for a cell that is one code (or that is
/// not recognisably a list: it is then read as one code, reported if unknown).
pub(crate) fn split_codes(cell: &str) -> Option<(Vec<&str>, &'static str)> {
    let cell = cell.trim();
    let pieces: Vec<&str> = cell
        .split([',', ';', '|', '/', '\n', '\r', '\t'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if pieces.len() > 1 && pieces.iter().all(|p| code_like(p)) {
        return Some((pieces, "plusieurs codes dans une cellule, séparés"));
    }
    let words: Vec<&str> = cell.split_whitespace().collect();
    if words.len() > 1 && words.iter().all(|w| code_like(w)) {
        return Some((words, "plusieurs codes dans une cellule, séparés"));
    }
    // a code, then a name: `04070 - Digne-les-Bains`, `04070 Digne-les-Bains`
    let code_end = cell
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
        .unwrap_or(cell.len());
    let (code, rest) = cell.split_at(code_end);
    let rest = rest.trim_start_matches(|c: char| c.is_whitespace() || "-–—:()".contains(c));
    if code_like(code) && rest.chars().next().is_some_and(char::is_alphabetic) {
        return Some((vec![code], "nom après le code retiré"));
    }
    None
}

#[cfg(test)]
mod code_tests {
    use super::{normalize_code, split_codes};

    #[test]
    fn cells_listing_codes_or_naming_the_commune_are_split() {
        fn split(c: &str) -> Option<Vec<&str>> {
            split_codes(c).map(|(p, _)| p)
        }
        assert_eq!(
            split("04001, 04005 ; 04006"),
            Some(vec!["04001", "04005", "04006"])
        );
        assert_eq!(split("04001\n4005"), Some(vec!["04001", "4005"]));
        assert_eq!(split("04001 2A004"), Some(vec!["04001", "2A004"]));
        assert_eq!(split("04070 - Digne-les-Bains"), Some(vec!["04070"]));
        assert_eq!(split("2a004 Ajaccio"), Some(vec!["2a004"]));
        assert_eq!(split("04070 (Digne)"), Some(vec!["04070"]));
        // one code, however broken, is not a list
        for one in [
            "04001",
            " 13 055 ",
            "4001,0",
            "4001.0",
            "2A004",
            "",
            "Digne 04070",
            "04001, Digne",
        ] {
            assert_eq!(split(one), None, "{one:?}");
        }
    }

    #[test]
    fn codes_are_made_whole() {
        assert_eq!(normalize_code("04001"), ("04001".to_owned(), None));
        assert_eq!(
            normalize_code("4001"),
            ("04001".to_owned(), Some("zéro initial perdu rétabli"))
        );
        assert_eq!(
            normalize_code("2a004"),
            ("2A004".to_owned(), Some("mis en majuscules"))
        );
        assert_eq!(
            normalize_code(" 13 055 "),
            ("13055".to_owned(), Some("espaces retirées"))
        );
        assert_eq!(
            normalize_code("4001.0"),
            ("04001".to_owned(), Some("zéro initial perdu rétabli"))
        );
        assert_eq!(normalize_code("97411"), ("97411".to_owned(), None));
        assert_eq!(
            normalize_code("401"),
            ("401".to_owned(), None),
            "too short to guess: left as is (unknown code)"
        );
    }
}
