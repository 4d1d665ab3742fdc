//! A population table: CSV (plain or gzip) `code,population`.

use std::collections::HashMap;
use std::path::PathBuf;

/// The largest population a commune may have: 100 million, above all of France
/// (69 million). A larger value is a damaged cell, refused; below it, sums over
/// every commune of France cannot overflow.
pub const MAX_POPULATION: u64 = 100_000_000;

use super::source::Source;
use super::spreadsheet::TableOptions;
use super::table::{any_of, never, Field, COMMUNE_CODE};
use crate::error::Result;

/// Populations by INSEE code.
#[derive(Debug, Clone)]
pub struct PopulationTable {
    /// The file it came from.
    pub source: PathBuf,
    /// Population of each code.
    pub by_code: HashMap<String, u64>,
    /// How the file was read (encoding, separator, column names), when notable.
    pub notes: Vec<String>,
}

/// Reads a population table.
///
/// # Errors
/// [`Error::Csv`](crate::Error::Csv) naming the file and line when the header lacks `code` or
/// `population`, a population is not a whole number ≥ 0, or a code appears twice
/// with two different populations.
pub fn load_population(source: &Source) -> Result<PopulationTable> {
    load_population_with(source, &TableOptions::default())
}

/// The commune's code: as in declarations, canonical name `code`.
const CODE: Field = Field {
    name: "code",
    aliases: &[
        "commune_code",
        "code insee",
        "code commune",
        "insee",
        "codgeo",
        "code_insee",
        "depcom",
        "com",
    ],
    ..COMMUNE_CODE
};

/// The population: `Population municipale 2023`, `PMUN`, `Nombre d'habitants`…;
/// among several, the *municipale* one (the population INSEE publishes as legal).
const POPULATION: Field = Field {
    name: "population",
    aliases: &[
        "pmun",
        "population municipale",
        "pop",
        "ptot",
        "population totale",
    ],
    rule: |w| {
        any_of(
            w,
            &["population", "pop", "pmun", "ptot", "psdc", "habitants"],
        ) && !any_of(w, &["code", "annee", "year", "source", "date", "densite"])
    },
    prefer: &["municipale", "pmun"],
    loose: never,
    value: never,
};

/// [`load_population`] with options: the workbook sheet (`.xlsx`, `.xls`, `.ods`
/// are read directly) and column names given by the user.
///
/// # Errors
/// As [`load_population`]; also a missing sheet or an unreadable workbook.
pub fn load_population_with(source: &Source, options: &TableOptions) -> Result<PopulationTable> {
    let mut table = super::spreadsheet::open_table(source, options)?;
    let (c_code, c_pop) = table.header("code and population", |t| {
        Some((t.column(&CODE)?, t.column(&POPULATION)?))
    })?;
    let mut by_code: HashMap<String, (u64, u64)> = HashMap::new();
    let mut record = csv::StringRecord::new();
    while let Some(line) = table.next(&mut record)? {
        let (code, _) = super::table::normalize_code(record.get(c_code).unwrap_or(""));
        let code = code.as_str();
        let raw = record.get(c_pop).unwrap_or("").trim();
        if code.is_empty() {
            return Err(table.error(line, "empty code".into()));
        }
        let pop: u64 = raw
            .trim_end_matches(".0")
            .replace([' ', '\u{a0}', '\u{202f}'], "")
            .parse()
            .map_err(|_| {
                table.error(
                    line,
                    format!("population {raw:?} of {code} is not a whole number ≥ 0"),
                )
            })?;
        if pop > MAX_POPULATION {
            return Err(table.error(
                line,
                format!(
                    "population {raw:?} of {code} is more than {MAX_POPULATION} (all of France has 69 million inhabitants): a damaged value"
                ),
            ));
        }
        if let Some((old, old_line)) = by_code.insert(code.to_owned(), (pop, line)) {
            if old != pop {
                return Err(table.error(
                    line,
                    format!("{code} has population {pop} here and {old} on line {old_line}"),
                ));
            }
        }
    }
    Ok(PopulationTable {
        source: source.name.clone(),
        by_code: by_code.into_iter().map(|(k, (p, _))| (k, p)).collect(),
        notes: table.notes,
    })
}
