//! A population table: CSV (plain or gzip) `code,population`.

use std::collections::HashMap;
use std::path::PathBuf;

use super::source::Source;
use crate::error::{Error, Result};

/// Populations by INSEE code.
#[derive(Debug, Clone)]
pub struct PopulationTable {
    /// The file it came from.
    pub source: PathBuf,
    /// Population of each code.
    pub by_code: HashMap<String, u64>,
}

/// Reads a population table.
///
/// # Errors
/// [`Error::Csv`] naming the file and line when the header lacks `code` or
/// `population`, a population is not a whole number ≥ 0, or a code appears twice
/// with two different populations.
pub fn load_population(source: &Source) -> Result<PopulationTable> {
    let path = source.name.clone();
    let err = |line: u64, message: String| Error::Csv {
        path: path.clone(),
        line,
        message,
    };
    let bytes = source
        .bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(&source.bytes);
    let mut rdr = csv::ReaderBuilder::new().from_reader(bytes);
    let header = rdr.headers().map_err(|e| err(1, e.to_string()))?.clone();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    let (Some(c_code), Some(c_pop)) = (col("code"), col("population")) else {
        return Err(err(
            1,
            format!(
                "header must name code and population; found: {}",
                header.iter().collect::<Vec<_>>().join(",")
            ),
        ));
    };
    let mut by_code: HashMap<String, (u64, u64)> = HashMap::new();
    let mut record = csv::StringRecord::new();
    loop {
        match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(err(e.position().map_or(0, |p| p.line()), e.to_string())),
        }
        let line = record.position().map_or(0, |p| p.line());
        let code = record.get(c_code).unwrap_or("").trim();
        let raw = record.get(c_pop).unwrap_or("").trim();
        if code.is_empty() {
            return Err(err(line, "empty code".into()));
        }
        let pop: u64 = raw.parse().map_err(|_| {
            err(
                line,
                format!("population {raw:?} of {code} is not a whole number ≥ 0"),
            )
        })?;
        if let Some((old, old_line)) = by_code.insert(code.to_owned(), (pop, line)) {
            if old != pop {
                return Err(err(
                    line,
                    format!("{code} has population {pop} here and {old} on line {old_line}"),
                ));
            }
        }
    }
    Ok(PopulationTable {
        source: path,
        by_code: by_code.into_iter().map(|(k, (p, _))| (k, p)).collect(),
    })
}
