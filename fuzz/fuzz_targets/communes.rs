//! The commune layer reader on any bytes: GeoJSON (plain or gzip), Shapefile
//! zips, GeoPackage, GeoParquet — the format is found from the content, as for a
//! file given to `--communes`. Any input must give a layer or an error, never a
//! panic.
//!
//! maillage catches the panics of polars' Parquet reader (its one
//! `catch_unwind`): libFuzzer's panic hook would abort on them before they are
//! caught, so the hook is replaced by the default one; a panic that reaches this
//! target still aborts (libfuzzer-sys catches it and aborts).
#![no_main]
use libfuzzer_sys::fuzz_target;
use maillage::load::{load_communes, FieldNames};
use maillage::Source;

fuzz_target!(
    init: {
        let _ = std::panic::take_hook();
    },
    |data: &[u8]| {
        if let Ok(source) = Source::from_bytes("fuzz-input", data.to_vec()) {
            let _ = load_communes(&source, &FieldNames::default());
        }
    }
);
