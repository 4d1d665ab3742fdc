//! The population table reader (CSV or workbook).
#![no_main]
use libfuzzer_sys::fuzz_target;
use maillage::load::load_population;
use maillage::Source;

fuzz_target!(|data: &[u8]| {
    let Some((&kind, rest)) = data.split_first() else { return };
    let name = ["p.csv", "p.xlsx", "p.ods"][kind as usize % 3];
    if let Ok(source) = Source::from_bytes(name, rest.to_vec()) {
        let _ = load_population(&source);
    }
});
