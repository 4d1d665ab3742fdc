use super::*;

/// Every input the fuzzers crashed maillage with, kept in fixtures/fuzz/: each
/// must now be a clear error naming the file, with exit status 2.
#[test]
fn every_crash_input_is_now_a_clear_error() {
    let dir = Dir::new();
    dir.write(
        "d.csv",
        "cpts_id,cpts_name,commune_code,status\nA,A,01001,projet\n",
    );
    let mut n = 0;
    for entry in std::fs::read_dir(fixture("fuzz")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        // communes-*: crashed a reader; stream-*: the streamed layer disagreed with
        // the whole reader (it must give the whole reader's error)
        let file = path.display().to_string();
        let o = if name.starts_with("communes-") || name.starts_with("stream-") {
            maillage(
                dir.path(),
                &["check", "--communes", &file, "--cpts", "d.csv"],
            )
        } else if name.starts_with("workbook-") {
            // a workbook of declarations, over the demo's communes
            let communes = fixture("paca/communes.geojson.gz").display().to_string();
            maillage(
                dir.path(),
                &["check", "--communes", &communes, "--cpts", &file],
            )
        } else {
            continue;
        };
        assert_eq!(o.status.code(), Some(2), "{name}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(!e.contains("panicked"), "{name}: {e}");
        assert!(
            e.contains(&format!("maillage: error: {file}")),
            "{name}: {e}"
        );
        if name.starts_with("stream-") {
            assert!(e.contains("not a valid GeoJSON"), "{name}: {e}");
        }
        n += 1;
    }
    assert!(n >= 1);
}
