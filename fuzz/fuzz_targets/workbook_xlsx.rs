//! `.xlsx` declarations, structure-aware: the input is the declarations sheet's
//! XML (`xl/worksheets/sheet2.xml`), zipped with the other parts of the real
//! ARS-style workbook of the fixtures, so that mutations reach the sheet reader
//! instead of the zip checksums.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let book = maillage_fuzz::rezip(
        include_bytes!("../../fixtures/paca/declarations.xlsx"),
        "xl/worksheets/sheet2.xml",
        data,
    );
    maillage_fuzz::read_workbook("d.xlsx", book);
});
