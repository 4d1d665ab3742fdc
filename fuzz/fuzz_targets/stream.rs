//! The streamed commune reader against the whole one, on any bytes: written to a
//! file, the layer is loaded once as a path (streamed, `Source::deferred`) and
//! once as bytes (read whole); both must give the same layer or the same error.
//! A difference or a panic is a crash.
#![no_main]
use libfuzzer_sys::fuzz_target;
use maillage::load::{load_communes, FieldNames};
use maillage::Source;

fn outcome(source: &Source) -> String {
    match load_communes(source, &FieldNames::default()) {
        Ok(l) => format!(
            "{:?} {:?} {:?}",
            l.communes
                .iter()
                .map(|c| (&c.code, &c.name, c.population, &c.geometry))
                .collect::<Vec<_>>(),
            l.code_field,
            l.diagnostics
        ),
        Err(e) => format!("error: {e}"),
    }
}

fuzz_target!(
    init: {
        let _ = std::panic::take_hook();
    },
    |data: &[u8]| {
        let path = std::env::temp_dir().join(format!("maillage-fuzz-{}.geojson", std::process::id()));
        std::fs::write(&path, data).unwrap();
        let whole = match Source::from_bytes(&path, data.to_vec()) {
            Ok(s) => outcome(&s),
            Err(e) => format!("error: {e}"),
        };
        let streamed = match Source::deferred(&path) {
            Ok(s) => outcome(&s),
            Err(e) => format!("error: {e}"),
        };
        assert_eq!(streamed, whole);
    }
);
