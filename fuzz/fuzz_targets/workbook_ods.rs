//! `.ods` declarations, structure-aware: the input is `content.xml`, zipped with
//! the other parts of the real ARS-style workbook of the fixtures.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let book = maillage_fuzz::rezip(
        include_bytes!("../../fixtures/paca/declarations.ods"),
        "content.xml",
        data,
    );
    maillage_fuzz::read_workbook("d.ods", book);
});
