use super::*;
use std::io::Write;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn a_gzip_bomb_is_refused_within_the_inflate_limit() {
    let dir = Dir::new();
    // 64 MB of spaces in 64 KB: a 1000× ratio, past a 16 MB limit
    let bomb = gzip(&vec![b' '; 64 << 20]);
    assert!(bomb.len() < 200_000);
    dir.write("bomb.geojson.gz", &bomb);
    dir.write(
        "d.csv",
        "cpts_id,cpts_name,commune_code,status\nA,A,01001,projet\n",
    );
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_maillage"))
        .current_dir(dir.path())
        .env("MAILLAGE_MAX_INFLATE_BYTES", (16u64 << 20).to_string())
        .args(["check", "--communes", "bomb.geojson.gz", "--cpts", "d.csv"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("bomb.geojson.gz") && e.contains("zip bomb"),
        "{e}"
    );
    // the same file under the default limit (1 GiB, or 50× its size) reads
    // and fails for what it is: blank, not GeoJSON
    let o = maillage(
        dir.path(),
        &["check", "--communes", "bomb.geojson.gz", "--cpts", "d.csv"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(!stderr(&o).contains("zip bomb"), "{}", stderr(&o));
}

#[test]
fn a_zip_whose_shapefile_inflates_too_far_is_refused() {
    let dir = Dir::new();
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    z.start_file("COMMUNE.shp", opts).unwrap();
    z.write_all(&vec![0u8; 48 << 20]).unwrap();
    z.start_file("COMMUNE.dbf", opts).unwrap();
    z.write_all(b"x").unwrap();
    let bytes = z.finish().unwrap().into_inner();
    assert!(bytes.len() < 200_000);
    dir.write("communes.zip", &bytes);
    dir.write(
        "d.csv",
        "cpts_id,cpts_name,commune_code,status\nA,A,01001,projet\n",
    );
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_maillage"))
        .current_dir(dir.path())
        .env("MAILLAGE_MAX_INFLATE_BYTES", (8u64 << 20).to_string())
        .args(["check", "--communes", "communes.zip", "--cpts", "d.csv"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("COMMUNE.shp") && e.contains("zip bomb"), "{e}");
}

#[test]
fn deeply_nested_json_and_a_huge_csv_cell_are_clear_errors_or_read() {
    let dir = Dir::new();
    let d = 200_000;
    dir.write("deep.geojson", "[".repeat(d) + &"]".repeat(d));
    dir.write(
        "deep2.geojson",
        format!(
            r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":{{"code":"01001"}},"geometry":{{"type":"Polygon","coordinates":{}{}}}}}]}}"#,
            "[".repeat(d),
            "]".repeat(d)
        ),
    );
    dir.write(
        "d.csv",
        "cpts_id,cpts_name,commune_code,status\nA,A,01001,projet\n",
    );
    for f in ["deep.geojson", "deep2.geojson"] {
        let o = maillage(dir.path(), &["check", "--communes", f, "--cpts", "d.csv"]);
        assert_eq!(o.status.code(), Some(2), "{f}");
        assert!(stderr(&o).contains(f), "{}", stderr(&o));
    }
    // a 10 MB cell on one line: read (a long name is a name), or an
    // unterminated quote: the line named
    let communes = fixture("paca/communes.geojson.gz").display().to_string();
    dir.write(
        "big.csv",
        format!(
            "cpts_id,cpts_name,commune_code,status\nA,{},13055,projet\n",
            "x".repeat(10 << 20)
        ),
    );
    let o = maillage(
        dir.path(),
        &["check", "--communes", &communes, "--cpts", "big.csv"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    dir.write(
        "quote.csv",
        format!(
            "cpts_id,cpts_name,commune_code,status\nA,\"{},13055,projet\n",
            "x".repeat(10 << 20)
        ),
    );
    let o = maillage(
        dir.path(),
        &["check", "--communes", &communes, "--cpts", "quote.csv"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("quote.csv: line 2"), "{}", stderr(&o));
}

#[test]
fn an_unwritable_out_folder_leaves_the_old_files_and_no_temporary_one() {
    use std::os::unix::fs::PermissionsExt;
    let dir = Dir::new();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    dir.write("out/summary.json", "old");
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o555)).unwrap();
    let args = [
        "analyze", "--format", "all", "--map", "--report", "--out", "out", "--quiet",
    ];
    // root writes through permissions (as CI runs): the binary then runs as
    // `nobody`, from a copy in the test's folder (the clone may sit under /root)
    let probe = out.join("probe");
    let o = if std::fs::write(&probe, "x").is_ok() {
        std::fs::remove_file(&probe).unwrap();
        if std::process::Command::new("setpriv")
            .arg("--version")
            .output()
            .is_err()
        {
            std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o755)).unwrap();
            eprintln!("skipped: root, and no setpriv to run as another user");
            return;
        }
        let bin = dir.path().join("maillage-bin");
        std::fs::copy(env!("CARGO_BIN_EXE_maillage"), &bin).unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        std::process::Command::new("setpriv")
            .current_dir(dir.path())
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&bin)
            .args(args)
            .output()
            .unwrap()
    } else {
        maillage(dir.path(), &args)
    };
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    // the folder or a file in it is named
    let e = stderr(&o);
    assert!(e.contains("out/") || e.contains("out:"), "{e}");
    let names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, vec!["summary.json".to_owned()]);
    assert_eq!(dir.read("out/summary.json"), "old");
}

/// A full disk, simulated with a file size limit (`ulimit -f`, SIGXFSZ
/// ignored so that writes fail with EFBIG as on a full disk, even as root):
/// at every size one of the outputs (CSV, GeoJSON, Parquet or the GeoPackage.s
/// SQLite, the maps) fails, the run says which file, and the folder keeps its
/// old files and no temporary one.
#[test]
fn a_full_disk_leaves_the_old_files_and_no_temporary_one() {
    let dir = Dir::new();
    std::fs::create_dir(dir.path().join("out")).unwrap();
    dir.write("out/summary.json", "old");
    let mut failed_files = std::collections::BTreeSet::new();
    // at most 2000 blocks: whether sh counts them in 512 or 1024 bytes, the
    // GeoPackage (2.2 MB) cannot fit
    for blocks in [8, 200, 1000, 2000] {
        let o = std::process::Command::new("sh")
            .current_dir(dir.path())
            .arg("-c")
            .arg(format!(
                "trap '' XFSZ; ulimit -f {blocks}; exec \"$0\" \"$@\""
            ))
            .arg(env!("CARGO_BIN_EXE_maillage"))
            .args([
                "analyze", "--format", "all", "--map", "--report", "--out", "out", "--quiet",
            ])
            .output()
            .unwrap();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{blocks}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        // the message names the final file, never the temporary one
        let named = err
            .split_whitespace()
            .find(|w| w.starts_with("out/"))
            .unwrap_or_else(|| panic!("{blocks}: no file named: {err}"));
        assert!(!named.contains(".tmp"), "{err}");
        failed_files.insert(named.trim_end_matches(':').to_owned());
        let names: Vec<String> = std::fs::read_dir(dir.path().join("out"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, vec!["summary.json".to_owned()], "{blocks}");
        assert_eq!(dir.read("out/summary.json"), "old");
    }
    // the limits reach more than one writer
    assert!(failed_files.len() >= 2, "{failed_files:?}");
    eprintln!("failed writers: {failed_files:?}");
}
