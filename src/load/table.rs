//! What both CSV inputs share: UTF-8 text with an optional BOM, columns found by
//! name (case and surrounding spaces ignored), and errors naming file and line.

use std::path::PathBuf;

use super::source::Source;
use crate::error::{Error, Result};

/// A CSV input being read row by row.
pub(crate) struct CsvTable<'a> {
    path: PathBuf,
    rdr: csv::Reader<&'a [u8]>,
    header: csv::StringRecord,
}

impl<'a> CsvTable<'a> {
    /// Opens `source` and reads its header.
    pub fn open(source: &'a Source) -> Result<Self> {
        let bytes = source
            .bytes
            .strip_prefix(b"\xEF\xBB\xBF")
            .unwrap_or(&source.bytes);
        let mut rdr = csv::ReaderBuilder::new().from_reader(bytes);
        let path = source.name.clone();
        let header = rdr
            .headers()
            .map_err(|e| csv_error(&path, 1, e.to_string()))?
            .clone();
        Ok(CsvTable { path, rdr, header })
    }

    /// The positions of the `required` columns, or an error on line 1 listing them
    /// (`what` says which are required) and the header found.
    pub fn columns<const N: usize>(&self, required: [&str; N], what: &str) -> Result<[usize; N]> {
        let mut out = [0; N];
        for (slot, name) in out.iter_mut().zip(required) {
            *slot = self.column(name).ok_or_else(|| {
                let found = self.header.iter().collect::<Vec<_>>().join(",");
                let hint = match [';', '\t'].into_iter().find(|c| found.contains(*c)) {
                    Some(c) => format!(" (the file seems separated by {c:?}; maillage reads comma-separated files)"),
                    None => String::new(),
                };
                self.error(1, format!("header must name {what}; found: {found}{hint}"))
            })?;
        }
        Ok(out)
    }

    /// The position of an optional column.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.header
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    }

    /// Reads the next row into `record`; returns its line number, `None` at the end.
    /// Blank lines are skipped.
    pub fn next(&mut self, record: &mut csv::StringRecord) -> Result<Option<u64>> {
        match self.rdr.read_record(record) {
            Ok(false) => Ok(None),
            Ok(true) => Ok(Some(record.position().map_or(0, |p| p.line()))),
            Err(e) => Err(self.error(e.position().map_or(0, |p| p.line()), e.to_string())),
        }
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
