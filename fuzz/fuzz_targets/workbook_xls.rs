//! `.xls` declarations: the input is the whole compound file (sector tables,
//! directory, workbook stream), seeded with the fixtures' xlwt workbook.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    maillage_fuzz::read_workbook("d.xls", data.to_vec());
});
