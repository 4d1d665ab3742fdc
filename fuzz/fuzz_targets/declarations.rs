//! The declaration readers: the first byte chooses how the rest is named (CSV,
//! workbook, drawn GeoJSON), as the file name would on the command line.
#![no_main]
use libfuzzer_sys::fuzz_target;
use maillage::load::load_cpts;
use maillage::Source;

fuzz_target!(|data: &[u8]| {
    let Some((&kind, rest)) = data.split_first() else { return };
    let name = ["d.csv", "d.xlsx", "d.ods", "d.geojson", "d.xls", "d.zip"][kind as usize % 6];
    if let Ok(source) = Source::from_bytes(name, rest.to_vec()) {
        let _ = load_cpts(&[source]);
    }
});
