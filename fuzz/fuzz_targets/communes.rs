//! The commune layer reader on any bytes: GeoJSON (plain or gzip), Shapefile
//! zips, GeoPackage, GeoParquet — the format is found from the content, as for a
//! file given to `--communes`. Any input must give a layer or an error, never a
//! panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use maillage::load::{load_communes, FieldNames};
use maillage::Source;

fuzz_target!(|data: &[u8]| {
    if let Ok(source) = Source::from_bytes("fuzz-input", data.to_vec()) {
        let _ = load_communes(&source, &FieldNames::default());
    }
});
