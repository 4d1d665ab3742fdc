//! The commune layer given as a path is streamed (src/load/stream.rs); given as
//! bytes it is read whole. The stream must read every valid file exactly as the
//! whole reader does, and hand every other file to it.

use super::*;
use maillage::load::{load_communes, FieldNames};

/// What a load gives, comparable: every commune in full, the diagnostics, or
/// the error's message.
fn outcome(source: &Source) -> String {
    match load_communes(source, &FieldNames::default()) {
        Ok(l) => format!(
            "{:?} {:?} {:?} {:?} {:?}",
            l.communes
                .iter()
                .map(|c| (&c.code, &c.name, c.population, &c.geometry))
                .collect::<Vec<_>>(),
            l.code_field,
            l.name_field,
            l.population_field,
            l.diagnostics
        ),
        Err(e) => format!("error: {e}"),
    }
}

/// Twelve real PACA communes, then the same text damaged 600 ways (cut,
/// bytes dropped, inserted, changed, repeated), plain and gzip, and the
/// hand-picked near-misses of a lexer: a trailing comma, a byte order mark,
/// the crs member after the features, an escaped key, a top-level member that
/// is not JSON, another type. Each file: the stream's outcome is the whole
/// reader's.
#[test]
fn the_stream_reads_every_file_as_the_whole_reader_does() {
    let paca = Source::from_path(fixture("paca/communes.geojson.gz")).unwrap();
    let mut fc: serde_json::Value = serde_json::from_slice(&paca.bytes).unwrap();
    fc["features"].as_array_mut().unwrap().truncate(12);
    let text = serde_json::to_string(&fc).unwrap();
    let body = text.trim_start_matches('{').to_owned();
    let mut cases: Vec<Vec<u8>> = vec![
        text.clone().into_bytes(),
        serde_json::to_string_pretty(&fc).unwrap().into_bytes(),
        text.replacen("}]}", "},]}", 1).into_bytes(),
        format!("\u{feff}{text}").into_bytes(),
        format!(
            "{{{},\"crs\":{{\"type\":\"name\",\"properties\":{{\"name\":\"EPSG:2154\"}}}}}}",
            text.trim_start_matches('{').trim_end_matches('}')
        )
        .into_bytes(),
        format!("{{\"feat\\u0075res\":[],{body}").into_bytes(),
        format!("{{\"name\":tru,{body}").into_bytes(),
        format!("{{\"name\":\"a\",,{body}").into_bytes(),
        format!("{{\"type\":\"Feature\",{body}").into_bytes(),
        format!("{{\"type\":7,{body}").into_bytes(),
        format!("{text} x").into_bytes(),
        format!("{text}}}").into_bytes(),
        text.replacen("},{", "} {", 1).into_bytes(),
        text.replacen("[{", "[{]", 1).into_bytes(),
        b"{\"features\":[]}".to_vec(),
        b"{\"features\":[],\"features\":[]}".to_vec(),
        Vec::new(),
    ];
    // a fixed-seed generator: the same 600 damaged files every run
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let bytes = text.as_bytes();
    for _ in 0..600 {
        let mut t = bytes.to_vec();
        for _ in 0..1 + next(3) {
            let at = next(t.len());
            match next(5) {
                0 => t.truncate(at),
                1 => {
                    t.remove(at);
                }
                2 => t.insert(at, b"{}[],:\"\\ 0e-.a\n"[next(15)]),
                3 => t[at] = b"{}[],:\"\\ 0e-.a\n"[next(15)],
                _ => {
                    let end = (at + next(200)).min(t.len());
                    let piece = t[at..end].to_vec();
                    t.splice(at..at, piece);
                }
            }
            if t.is_empty() {
                break;
            }
        }
        cases.push(t);
    }
    let dir = Dir::new();
    let (mut accepted, mut refused) = (0, 0);
    for (k, case) in cases.iter().enumerate() {
        for gzip in [false, true] {
            let content = if gzip {
                use std::io::Write;
                let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                e.write_all(case).unwrap();
                e.finish().unwrap()
            } else {
                case.clone()
            };
            let path = dir.write(&format!("c{k}.geojson"), &content);
            let whole = outcome(&Source::from_bytes(&path, content).unwrap_or_else(|e| {
                // a corrupt gzip: from_bytes refuses it, as the stream must
                panic!("{e}")
            }));
            let streamed = outcome(&Source::deferred(&path).unwrap());
            assert_eq!(streamed, whole, "case {k} (gzip {gzip})");
            if whole.starts_with("error") {
                refused += 1;
            } else {
                accepted += 1;
            }
        }
    }
    // both kinds are there: the test compares readings, not only refusals
    assert!(
        accepted > 20 && refused > 600,
        "{accepted} read, {refused} refused"
    );
}
