//! The whole pipeline on small inputs: a commune layer and declarations (lists or
//! drawn), separated by the first `\0\0\0` of the input, analysed, then every
//! output staged into a scratch folder.
#![no_main]
use libfuzzer_sys::fuzz_target;
use maillage::{Analysis, FieldNames, Inputs, Source};

fuzz_target!(|data: &[u8]| {
    let Some(cut) = data.windows(3).position(|w| w == b"\0\0\0") else { return };
    let (layer, decl) = (&data[..cut], &data[cut + 3..]);
    let (Ok(communes), Ok(cpts)) = (
        Source::from_bytes("communes.geojson", layer.to_vec()),
        Source::from_bytes(if decl.first() == Some(&b'{') { "d.geojson" } else { "d.csv" }, decl.to_vec()),
    ) else {
        return;
    };
    let inputs = Inputs {
        communes,
        cpts: vec![cpts],
        population: None,
        fields: FieldNames::default(),
        min_area_km2: maillage::DEFAULT_MIN_AREA_KM2,
        area: None,
        tables: Default::default(),
        progress: None,
        check_rings: false,
    };
    if let Ok(analysis) = Analysis::run(&inputs) {
        let _ = analysis.stats();
        let _ = analysis.outlines();
        let _ = maillage::propose::Proposal::compute(&analysis, &Default::default());
    }
});
