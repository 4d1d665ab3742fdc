//! Declarations and population tables as the ARS keep them: Excel (`.xlsx`, `.xls`)
//! and OpenDocument (`.ods`) workbooks, read with [`calamine`] (pure Rust). The
//! chosen sheet becomes CSV text in memory, one line per sheet row, so that every
//! later message cites the sheet's own row numbers and every CSV rule (header
//! aliases, code normalisation…) applies unchanged.

use std::io::Cursor;

use calamine::{open_workbook_auto_from_rs, Data, Reader};

use super::source::Source;
use super::table::CsvTable;
use crate::error::{Error, Result};

/// How to read table inputs (declaration lists, population).
#[derive(Debug, Clone, Default)]
pub struct TableOptions {
    /// The workbook sheet to read (default: the first).
    pub sheet: Option<String>,
    /// Column names given by the user when guessing fails: canonical name
    /// (`cpts_id`, `cpts_name`, `commune_code`, `status`, `code`, `population`) →
    /// header as written in the file.
    pub columns: Vec<(String, String)>,
}

/// Opens a table input, CSV or workbook (the chosen sheet), with the user's column
/// names; the sheet read is the first note.
pub(crate) fn open_table(source: &Source, options: &TableOptions) -> Result<CsvTable> {
    let mut table = if is_workbook(&source.bytes) {
        let (csv, note) = as_csv(source, options.sheet.as_deref())?;
        let mut t = CsvTable::open(&csv)?;
        t.notes.insert(0, note);
        t
    } else {
        CsvTable::open(source)?
    };
    table.overrides = options.columns.clone();
    Ok(table)
}

/// True when the bytes are a workbook: xlsx and ods are zip archives, xls an OLE
/// compound file.
pub(crate) fn is_workbook(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0])
}

/// The chosen sheet of a workbook as a CSV source, and a note saying which sheet.
pub(crate) fn as_csv(source: &Source, sheet: Option<&str>) -> Result<(Source, String)> {
    let fail = |message: String| Error::File {
        path: source.name.clone(),
        message,
    };
    // the structure first: calamine trusts what the file says (see workbook_guard)
    super::workbook_guard::check(&source.bytes).map_err(fail)?;
    // and a defect calamine still has ends as an error, not an abort of the run,
    // without the panic's message and backtrace on the terminal (the hook is
    // the process's: it is put back right after)
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let read = std::panic::catch_unwind(|| read_sheet(&source.bytes, sheet));
    std::panic::set_hook(hook);
    let (range, name, names) = match read {
        Ok(r) => r.map_err(fail)?,
        Err(_) => {
            return Err(fail(
                "the workbook reader failed on this file (damaged?); save it again from a spreadsheet program, or as CSV"
                    .into(),
            ))
        }
    };
    let mut text = String::new();
    if let Some((row0, col0)) = range.start() {
        // blank lines keep line numbers equal to the sheet's row numbers
        for _ in 0..row0 {
            text.push('\n');
        }
        let lead = ",".repeat(col0 as usize);
        for row in range.rows() {
            text.push_str(&lead);
            let cells: Vec<String> = row.iter().map(cell).collect();
            text.push_str(&cells.join(","));
            text.push('\n');
        }
    }
    let note = if names.len() > 1 && sheet.is_none() {
        format!(
            "classeur : première feuille {name:?} lue sur {} ({}) ; en choisir une autre avec --sheet ; les numéros de ligne sont ceux de la feuille",
            names.len(),
            names.join(", ")
        )
    } else {
        format!("classeur : feuille {name:?} lue ; les numéros de ligne sont ceux de la feuille")
    };
    let csv_source = Source {
        name: source.name.clone(),
        bytes: text.into_bytes(),
        deferred: false,
    };
    Ok((csv_source, note))
}

/// The chosen sheet's cells, its name and every sheet's name.
fn read_sheet(
    bytes: &[u8],
    sheet: Option<&str>,
) -> std::result::Result<(calamine::Range<Data>, String, Vec<String>), String> {
    let mut book = open_workbook_auto_from_rs(Cursor::new(bytes))
        .map_err(|e| format!("not a readable workbook (xlsx, xls, ods): {e}"))?;
    let names = book.sheet_names();
    let name = match sheet {
        Some(s) => names
            .iter()
            .find(|n| n.as_str() == s)
            .or_else(|| names.iter().find(|n| n.eq_ignore_ascii_case(s)))
            .cloned()
            .ok_or_else(|| format!("no sheet named {s:?} (sheets: {})", names.join(", ")))?,
        None => names
            .first()
            .cloned()
            .ok_or_else(|| "the workbook has no sheet".to_owned())?,
    };
    let range = book
        .worksheet_range(&name)
        .map_err(|e| format!("sheet {name:?}: {e}"))?;
    Ok((range, name, names))
}

/// One cell as CSV text: whole numbers without `.0` (a code typed as a number stays
/// a code), quotes where needed, line breaks inside a cell turned into spaces.
fn cell(d: &Data) -> String {
    let raw = match d {
        Data::Empty => String::new(),
        // a formula error (#N/A, #REF!…) stays visible: reported as an unknown code
        Data::Error(e) => e.to_string(),
        Data::String(s) => s.replace(['\r', '\n'], " "),
        Data::Int(i) => i.to_string(),
        Data::Float(x) if x.fract() == 0.0 && x.abs() < 1e15 => format!("{x:.0}"),
        Data::Float(x) => x.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::DateTime(dt) => dt.to_string(),
    };
    if raw.contains([',', '"']) {
        format!("\"{}\"", raw.replace('"', "\"\""))
    } else {
        raw
    }
}
