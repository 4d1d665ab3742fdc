use super::*;

const PARQUET: [&str; 7] = [
    "communes.parquet",
    "territories.parquet",
    "white_zones.parquet",
    "overlaps.parquet",
    "cpts.parquet",
    "departements.parquet",
    "regions.parquet",
];

fn paca_args(cpts: &str) -> Vec<String> {
    vec![
        "analyze".into(),
        "--communes".into(),
        fixture("paca/communes.geojson.gz").display().to_string(),
        "--population".into(),
        fixture("paca/population.csv").display().to_string(),
        "--cpts".into(),
        cpts.into(),
        "--quiet".into(),
    ]
}

/// True when `python` imports `modules`; else the test says how to get them and
/// is skipped, unless the environment variable `require` is set (then it fails).
fn python_has(python: &str, modules: &str, require: &str, hint: &str) -> bool {
    let ok = std::process::Command::new(python)
        .arg("-c")
        .arg(format!("import {modules}"))
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os(require).is_none(),
            "{require} is set but {python} cannot import {modules}"
        );
        eprintln!("skipped: {hint}");
    }
    ok
}

/// Runs `fixtures/<script>` with `python` and `args` (Qt offscreen, for the QGIS
/// scripts); asserts it succeeded and returns what it printed.
fn check_script<A: AsRef<std::ffi::OsStr>>(python: &str, script: &str, args: &[A]) -> String {
    let o = std::process::Command::new(python)
        .env("QT_QPA_PLATFORM", "offscreen")
        .arg(fixture(script))
        .args(args)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{script}: {out}\n{}", stderr(&o));
    out
}

fn run(dir: &Dir, args: &[String], extra: &[&str]) {
    let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
    all.extend_from_slice(extra);
    let o = maillage(dir.path(), &all);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn gpkg_and_geoparquet_pass_gdal_geopandas_and_duckdb() {
    // two monthly runs, partitioned by date: the demo, then the demo without
    // one CPTS (more zones blanches)
    let dir = Dir::new();
    let decl = std::fs::read_to_string(fixture("paca/declarations.csv")).unwrap();
    let without: Vec<&str> = decl
        .lines()
        .filter(|l| !l.starts_with("CPTS-93-001,"))
        .collect();
    assert!(without.len() < decl.lines().count());
    dir.write("later.csv", without.join("\n") + "\n");
    let first = fixture("paca/declarations.csv").display().to_string();
    run(
        &dir,
        &paca_args(&first),
        &[
            "--format",
            "all",
            "--date",
            "2026-11-01",
            "--out",
            "runs/run_date=2026-11",
        ],
    );
    run(
        &dir,
        &paca_args("later.csv"),
        &[
            "--format",
            "all",
            "--date",
            "2026-12-01",
            "--out",
            "runs/run_date=2026-12",
        ],
    );
    for run in ["2026-11", "2026-12"] {
        for f in PARQUET
            .iter()
            .chain(&["maillage.gpkg", "communes.csv", "summary.json"])
        {
            assert!(
                dir.path().join(format!("runs/run_date={run}/{f}")).exists(),
                "{run}/{f}"
            );
        }
    }
    if !python_has(
        "python3",
        "dask_geopandas, distributed, duckdb, duckdb_extension_spatial, geopandas, pyarrow, pyogrio, pyspark, shapely",
        "MAILLAGE_REQUIRE_PYTHON",
        "pip install -r tests/requirements.txt to run the GDAL, geopandas, DuckDB, dask and Spark checks",
    ) {
        return;
    }
    let out = check_script(
        "python3",
        "check_gis.py",
        &[dir.path().join("runs").into_os_string()],
    );
    assert!(out.contains("all checks passed"), "{out}");
    // every Parquet file filtered by pyarrow, pandas and geopandas (issue 23)
    assert!(out.contains("filtered reads: "), "{out}");
    // the R-tree follows edits (the GeoPackage 1.2 triggers GDAL writes)
    assert!(out.contains("GeoPackage edits: NULL and back"), "{out}");
    // the DuckDB query found zones blanches in both runs, more in the second
    let line = out.lines().find(|l| l.starts_with("DuckDB:")).unwrap();
    let whites: Vec<u64> = line
        .split("; ")
        .map(|p| {
            p.rsplit(": ")
                .next()
                .unwrap()
                .trim_end_matches(" white")
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(whites.len(), 2, "{line}");
    assert!(whites[1] > whites[0], "{line}");
    // the scale-out path: dask-geopandas on two worker processes reads both runs
    // and its per-région sums are each run's regions.csv
    let out = check_script(
        "python3",
        "check_dask.py",
        &[
            dir.path().join("runs").into_os_string(),
            std::ffi::OsString::from("2"),
        ],
    );
    assert!(
        out.contains("dask.distributed: 2 worker processes"),
        "{out}"
    );
    assert!(out.contains("all checks passed"), "{out}");
    // and on Spark (local mode), reading the GeoParquet as plain Parquet with WKB
    let java = std::process::Command::new("java").arg("-version").output();
    if !java.is_ok_and(|o| o.status.success()) {
        eprintln!(
            "skipped the Spark check: no Java runtime (apt-get install default-jre-headless)"
        );
        return;
    }
    let out = check_script(
        "python3",
        "check_spark.py",
        &[dir.path().join("runs").into_os_string()],
    );
    assert!(out.contains("geometry binary, population bigint"), "{out}");
    assert!(out.contains("all checks passed"), "{out}");
}

/// Debian's GDAL (3.6 on Debian 12, what QGIS 3.22/3.28 there uses) validates
/// the GeoPackage with its own `validate_gpkg.py`, opens it without a warning,
/// and keeps its R-tree right through edits (`fixtures/check_gpkg_gdal36.py`).
/// Needs Debian's python3-gdal (`tests/run.sh` installs it); without it the test
/// says so and passes, unless MAILLAGE_REQUIRE_PYTHON is set.
#[test]
fn debians_gdal_validates_the_geopackage_and_its_edits() {
    if !python_has(
        "/usr/bin/python3",
        "osgeo.gdal, osgeo_utils.samples.validate_gpkg",
        "MAILLAGE_REQUIRE_PYTHON",
        "apt-get install python3-gdal to run GDAL's validator",
    ) {
        return;
    }
    let dir = Dir::new();
    let first = fixture("paca/declarations.csv").display().to_string();
    run(
        &dir,
        &paca_args(&first),
        &["--format", "gpkg", "--out", "o"],
    );
    let out = check_script(
        "/usr/bin/python3",
        "check_gpkg_gdal36.py",
        &[
            dir.path().join("o/maillage.gpkg").into_os_string(),
            dir.path().join("edited.gpkg").into_os_string(),
        ],
    );
    assert!(out.contains("validate_gpkg.py (GDAL 3."), "{out}");
    assert!(out.contains("opened without a word"), "{out}");
    assert!(out.contains("all checks passed"), "{out}");
}

/// QGIS, with the styles stored in the GeoPackage, labels every territory of the
/// demo at 1,600 px (the label style made each territory an obstacle to the
/// others' labels: 18 of 38 were drawn). Runs where Debian's QGIS is installed
/// (`apt-get install qgis python3-qgis`, about 270 MB); elsewhere it says so and
/// passes, unless MAILLAGE_REQUIRE_QGIS is set.
#[test]
fn qgis_labels_every_territory_with_the_stored_style() {
    if !python_has(
        "/usr/bin/python3",
        "qgis.core",
        "MAILLAGE_REQUIRE_QGIS",
        "apt-get install qgis python3-qgis to check the labels in QGIS",
    ) {
        return;
    }
    let dir = Dir::new();
    let first = fixture("paca/declarations.csv").display().to_string();
    run(
        &dir,
        &paca_args(&first),
        &["--format", "gpkg", "--out", "o"],
    );
    let out = check_script(
        "/usr/bin/python3",
        "check_qgis_labels.py",
        &[
            dir.path().join("o/maillage.gpkg").into_os_string(),
            std::ffi::OsString::from("1600"),
        ],
    );
    assert!(
        out.contains("territories 38, labelled 38 at 1600 px, style loaded: True"),
        "{out}"
    );
}

#[test]
fn the_geopackage_reads_back_as_the_commune_layer() {
    let dir = Dir::new();
    let decl = fixture("paca/declarations.csv").display().to_string();
    run(&dir, &paca_args(&decl), &["--format", "gpkg", "--out", "a"]);
    assert!(!dir.path().join("a/communes.parquet").exists());
    // the GeoPackage's communes layer (one of several tables) as input
    let o = maillage(
        dir.path(),
        &[
            "analyze",
            "--communes",
            "a/maillage.gpkg",
            "--cpts",
            &decl,
            "--quiet",
            "--out",
            "b",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let a: serde_json::Value = serde_json::from_str(&dir.read("a/summary.json")).unwrap();
    let b: serde_json::Value = serde_json::from_str(&dir.read("b/summary.json")).unwrap();
    for key in [
        "communes_total",
        "communes_white",
        "communes_overlap",
        "population_total",
        "population_white",
        "white_zone_clusters",
        "area_km2_total",
        "area_km2_white",
    ] {
        assert_eq!(a[key], b[key], "{key}");
    }
    assert_eq!(
        dir.read("a/territories.geojson"),
        dir.read("b/territories.geojson")
    );
}

#[test]
fn gis_files_do_not_depend_on_threads_or_row_order_and_replace_old_ones() {
    let dir = Dir::new();
    let decl = std::fs::read_to_string(fixture("paca/declarations.csv")).unwrap();
    let mut rows: Vec<&str> = decl.lines().skip(1).collect();
    shuffle(&mut rows, 11);
    dir.write(
        "shuffled.csv",
        format!(
            "cpts_id,cpts_name,commune_code,status\n{}\n",
            rows.join("\n")
        ),
    );
    // an old file in the way is replaced whole, never added to
    std::fs::create_dir_all(dir.path().join("b")).unwrap();
    dir.write("b/maillage.gpkg", "not a database");
    let first = fixture("paca/declarations.csv").display().to_string();
    run(
        &dir,
        &paca_args(&first),
        &[
            "--format",
            "all",
            "--threads",
            "1",
            "--date",
            "2026-12-01",
            "--out",
            "a",
        ],
    );
    run(
        &dir,
        &paca_args("shuffled.csv"),
        &[
            "--format",
            "all",
            "--threads",
            "2",
            "--date",
            "2026-12-01",
            "--out",
            "b",
        ],
    );
    for f in PARQUET.iter().chain(&["maillage.gpkg"]) {
        let (a, b) = (
            std::fs::read(dir.path().join("a").join(f)).unwrap(),
            std::fs::read(dir.path().join("b").join(f)).unwrap(),
        );
        assert!(a == b, "{f} differs");
    }
    let gpkg = std::fs::read(dir.path().join("b/maillage.gpkg")).unwrap();
    assert!(gpkg.starts_with(b"SQLite format 3\0"));
    // the GeoPackage application id, big-endian at offset 68: "GPKG"
    assert_eq!(&gpkg[68..72], b"GPKG");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("b"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
    // a format that does not exist
    let o = maillage(
        dir.path(),
        &["analyze", "--format", "gpkg,shp", "--out", "c"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("invalid value 'shp' for '--format")
            && stderr(&o).contains("csv, parquet, both, gpkg, geoparquet, all"),
        "{}",
        stderr(&o)
    );
    assert!(!dir.path().join("c").exists());
}

/// National GeoParquet rows in Hilbert order: the box of any département meets
/// at most a quarter of the communes layer's row groups (they were in code
/// order: a Paris-sized box read 7 of 8). Needs the Python readers, as CI has
/// them after the default suite.
#[test]
#[ignore = "national tier: reads ../shared/data (bash tests/run.sh --national)"]
fn national_geoparquet_row_groups_are_compact_areas() {
    let dir = Dir::new();
    let layer = national_layer().display().to_string();
    let decl = fixture("national/declarations.csv.gz")
        .display()
        .to_string();
    let o = maillage(
        dir.path(),
        &[
            "analyze",
            "--communes",
            &layer,
            "--cpts",
            &decl,
            "--format",
            "geoparquet",
            "--quiet",
            "--out",
            "n",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = std::process::Command::new("python3")
        .arg(fixture("check_rowgroups.py"))
        .arg(dir.path().join("n/communes.parquet"))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "pip install -r tests/requirements.txt: {out}{}",
        stderr(&o)
    );
    eprintln!("{out}");
    let worst: f64 = out
        .lines()
        .find_map(|l| l.strip_prefix("worst: "))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap()
        .parse()
        .unwrap();
    assert!(worst <= 25.0, "{out}");
}

/// Issue 26, item 5: accessibility scores as a layer to style — `access.gpkg`
/// (the score layer, styled graduated, with the group tables) and
/// `access.parquet` as GeoParquet, with the columns of `access.csv`. GDAL's
/// validator and QGIS (where installed) read them as they are.
#[test]
fn access_scores_are_a_styled_layer_in_the_geopackage_and_geoparquet() {
    let dir = Dir::new();
    let o = maillage(
        dir.path(),
        &[
            "access",
            "--quiet",
            "--method",
            "2sfca,e2sfca",
            "--format",
            "gpkg,geoparquet",
            "--date",
            "2026-12-01",
            "--out",
            "a",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let csv = dir.read("a/access.csv");
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    // the GeoPackage: the layer with every column of access.csv, one feature per
    // commune, its graduated style on the first method's score per 100,000
    let db = rusqlite::Connection::open(dir.path().join("a/access.gpkg")).unwrap();
    let n: i64 = db
        .query_row("SELECT count(*) FROM access", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n as usize, csv.lines().count() - 1);
    let cols: Vec<String> = db
        .prepare("SELECT name FROM pragma_table_info('access')")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for h in &header {
        assert!(
            cols.iter().any(|c| c == h),
            "{h} not in the layer: {cols:?}"
        );
    }
    let qml: String = db
        .query_row(
            "SELECT styleQML FROM layer_styles WHERE f_table_name = 'access'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        qml.contains(r#"type="graduatedSymbol" attr="score_per_100k_2sfca""#),
        "{qml}"
    );
    assert_eq!(qml.matches("<range ").count(), 5);
    let tables: Vec<String> = db
        .prepare("SELECT table_name FROM gpkg_contents ORDER BY 1")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        tables,
        [
            "access",
            "access_cpts",
            "access_departements",
            "access_zones",
            "layer_styles"
        ]
    );
    // the same score, to the last digit, in the layer and in the CSV
    let marseille: f64 = db
        .query_row(
            "SELECT score_e2sfca FROM access WHERE code = '13055'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let line = csv.lines().find(|l| l.starts_with("13055,")).unwrap();
    let k = header.iter().position(|h| *h == "score_e2sfca").unwrap();
    assert_eq!(
        marseille,
        line.split(',').nth(k).unwrap().parse::<f64>().unwrap()
    );
    // GeoParquet: access.parquet carries geo metadata and the same columns
    let file = std::fs::File::open(dir.path().join("a/access.parquet")).unwrap();
    let mut reader = polars::prelude::ParquetReader::new(file);
    use polars::prelude::SerReader;
    let meta = reader.get_metadata().unwrap().clone();
    let kv = meta.key_value_metadata.clone().unwrap_or_default();
    assert!(kv.iter().any(|k| k.key == "geo"), "no geo metadata");
    let df = reader.finish().unwrap();
    for h in &header {
        assert!(df.column(h).is_ok(), "{h} not in access.parquet");
    }
    assert!(df.column("geometry").is_ok() && df.column("bbox").is_ok());
    // GDAL's own validator and an edit round on the score layer
    if python_has(
        "/usr/bin/python3",
        "osgeo.gdal, osgeo_utils.samples.validate_gpkg",
        "MAILLAGE_REQUIRE_PYTHON",
        "apt-get install python3-gdal to run GDAL's validator",
    ) {
        let (gpkg, copy) = (
            dir.path().join("a/access.gpkg"),
            dir.path().join("edited.gpkg"),
        );
        let out = check_script(
            "/usr/bin/python3",
            "check_gpkg_gdal36.py",
            &[gpkg.as_os_str(), copy.as_os_str(), "access".as_ref()],
        );
        assert!(out.contains("all checks passed"), "{out}");
    }
    // QGIS draws it with the stored style, every class present
    if python_has(
        "/usr/bin/python3",
        "qgis.core",
        "MAILLAGE_REQUIRE_QGIS",
        "apt-get install qgis python3-qgis to render the score layer in QGIS",
    ) {
        let gpkg = dir.path().join("a/access.gpkg");
        let out = check_script(
            "/usr/bin/python3",
            "check_qgis_access.py",
            &[
                gpkg.as_os_str(),
                "score_per_100k_2sfca".as_ref(),
                "5".as_ref(),
            ],
        );
        assert!(out.contains("all checks passed"), "{out}");
    }
}

/// Issue 21, item 3: each layer written three ways — GeoJSON (or CSV for the
/// communes), GeoPackage, GeoParquet — carries the same attributes, the same
/// rows, the same values (numbers to 1e-9; `fill`, the map colour, is in the
/// GIS files only). Checked in Rust, without Python.
#[test]
fn every_layer_carries_the_same_attributes_in_every_format() {
    use polars::prelude::SerReader;
    let dir = Dir::new();
    let o = maillage(
        dir.path(),
        &[
            "analyze",
            "--quiet",
            "--format",
            "all",
            "--date",
            "2026-12-01",
            "--out",
            "o",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let db = rusqlite::Connection::open(dir.path().join("o/maillage.gpkg")).unwrap();
    // one table as rows of (column → text), in its own order
    type Rows = Vec<BTreeMap<String, String>>;
    let from_gpkg = |layer: &str| -> Rows {
        let mut st = db
            .prepare(&format!("SELECT * FROM {layer} ORDER BY fid"))
            .unwrap();
        let names: Vec<String> = st.column_names().iter().map(|s| s.to_string()).collect();
        st.query_map([], |r| {
            Ok(names
                .iter()
                .enumerate()
                .filter(|(_, n)| !matches!(n.as_str(), "fid" | "geom"))
                .map(|(k, n)| {
                    let v = match r.get_ref(k).unwrap() {
                        rusqlite::types::ValueRef::Null => String::new(),
                        rusqlite::types::ValueRef::Integer(i) => i.to_string(),
                        rusqlite::types::ValueRef::Real(f) => f.to_string(),
                        rusqlite::types::ValueRef::Text(t) => {
                            String::from_utf8_lossy(t).into_owned()
                        }
                        rusqlite::types::ValueRef::Blob(_) => "blob".into(),
                    };
                    (n.clone(), v)
                })
                .collect())
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
    };
    let from_parquet = |layer: &str| -> Rows {
        let file = std::fs::File::open(dir.path().join(format!("o/{layer}.parquet"))).unwrap();
        let df = polars::prelude::ParquetReader::new(file).finish().unwrap();
        let cols: Vec<_> = df
            .columns()
            .iter()
            .filter(|c| !matches!(c.name().as_str(), "geometry" | "bbox"))
            .collect();
        (0..df.height())
            .map(|i| {
                cols.iter()
                    .map(|c| {
                        let v = c.get(i).unwrap();
                        let text = match v {
                            polars::prelude::AnyValue::Null => String::new(),
                            polars::prelude::AnyValue::String(s) => s.to_owned(),
                            polars::prelude::AnyValue::StringOwned(s) => s.to_string(),
                            other => other.to_string(),
                        };
                        (c.name().to_string(), text)
                    })
                    .collect()
            })
            .collect()
    };
    let from_geojson = |layer: &str| -> Rows {
        let v: serde_json::Value =
            serde_json::from_str(&dir.read(&format!("o/{layer}.geojson"))).unwrap();
        v["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                f["properties"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| {
                        let t = match v {
                            serde_json::Value::String(s) => s.clone(),
                            serde_json::Value::Null => String::new(),
                            other => other.to_string(),
                        };
                        (k.clone(), t)
                    })
                    .collect()
            })
            .collect()
    };
    let from_csv = |name: &str| -> Rows {
        let text = dir.read(&format!("o/{name}.csv"));
        let mut rdr = csv::Reader::from_reader(text.as_bytes());
        let h = rdr.headers().unwrap().clone();
        rdr.records()
            .map(|r| {
                h.iter()
                    .zip(r.unwrap().iter())
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect()
            })
            .collect()
    };
    // GeoParquet rows are in Hilbert order of their boxes: compare by key
    let by = |mut rows: Rows, key: &str| -> Rows {
        rows.sort_by(|x, y| x[key].cmp(&y[key]));
        rows
    };
    let same = |what: &str, a: &Rows, b: &Rows, skip: &[&str]| {
        assert_eq!(a.len(), b.len(), "{what}: rows");
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            let keys = |r: &BTreeMap<String, String>| -> Vec<String> {
                r.keys()
                    .filter(|k| !skip.contains(&k.as_str()))
                    .cloned()
                    .collect()
            };
            assert_eq!(keys(x), keys(y), "{what}: columns");
            for k in keys(x) {
                let (u, v) = (&x[&k], &y[&k]);
                let equal = u == v
                    || matches!((u.parse::<f64>(), v.parse::<f64>()),
                        (Ok(p), Ok(q)) if (p - q).abs() <= 1e-9 * p.abs().max(1.0));
                assert!(equal, "{what}: row {i}, {k}: {u:?} vs {v:?}");
            }
        }
    };
    for (layer, key) in [
        ("territories", "cpts_id"),
        ("white_zones", "zone_id"),
        ("overlaps", "code"),
    ] {
        let (json, gpkg, parquet) = (
            by(from_geojson(layer), key),
            by(from_gpkg(layer), key),
            by(from_parquet(layer), key),
        );
        assert!(!json.is_empty(), "{layer}");
        same(
            &format!("{layer}: GeoJSON vs GeoPackage"),
            &json,
            &gpkg,
            &[],
        );
        same(
            &format!("{layer}: GeoPackage vs GeoParquet"),
            &gpkg,
            &parquet,
            &[],
        );
    }
    // the communes: the CSV table, the GeoPackage layer and the GeoParquet layer
    let (table, gpkg, parquet) = (
        by(from_csv("communes"), "code"),
        by(from_gpkg("communes"), "code"),
        by(from_parquet("communes"), "code"),
    );
    same("communes: CSV vs GeoPackage", &table, &gpkg, &[]);
    same("communes: GeoPackage vs GeoParquet", &gpkg, &parquet, &[]);
}
