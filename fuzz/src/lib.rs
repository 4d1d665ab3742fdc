//! What the workbook targets share.

use std::io::{Cursor, Read, Write};

/// `book` (a zip workbook) with `member` replaced by `data`.
pub fn rezip(book: &[u8], member: &str, data: &[u8]) -> Vec<u8> {
    let mut src = zip::ZipArchive::new(Cursor::new(book)).expect("the fixture is a zip");
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for k in 0..src.len() {
        let mut f = src.by_index(k).expect("the fixture's members read");
        let name = f.name().to_owned();
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes)
            .expect("the fixture's members inflate");
        out.start_file(name.as_str(), zip::write::SimpleFileOptions::default())
            .expect("writing to memory");
        out.write_all(if name == member { data } else { &bytes })
            .expect("writing to memory");
    }
    out.finish().expect("writing to memory").into_inner()
}

/// Reads `bytes` as declarations from a workbook named `name`, its sheet
/// "Déclarations" then its first sheet: an error is fine, a panic, an abort or a
/// hang is the finding.
pub fn read_workbook(name: &str, bytes: Vec<u8>) {
    for sheet in [Some("Déclarations"), None] {
        let Ok(source) = maillage::Source::from_bytes(name, bytes.clone()) else {
            return;
        };
        let options = maillage::load::TableOptions {
            sheet: sheet.map(str::to_owned),
            ..Default::default()
        };
        let _ = maillage::load::load_cpts_with(&[source], &options);
    }
}
