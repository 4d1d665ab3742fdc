//! The command line: the demo's outputs, exit statuses, determinism, diagnostics and --strict.

use super::*;

#[test]
fn demo_run_writes_every_output_as_valid_rfc7946() {
    let dir = Dir::new();
    let o = maillage(dir.path(), &["analyze", "--format", "both"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("zone blanche") && stdout.contains("13 fichiers écrits"),
        "{stdout}"
    );
    let summary: serde_json::Value =
        serde_json::from_str(&dir.read("maillage-out/summary.json")).unwrap();
    let e = paca_expected();
    assert_eq!(summary["communes_white"], e["communes_white"]);
    for key in [
        "communes.parquet",
        "cpts.parquet",
        "departements.parquet",
        "regions.parquet",
    ] {
        let bytes = std::fs::read(dir.path().join("maillage-out").join(key)).unwrap();
        assert!(
            bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"),
            "{key}"
        );
    }
    let header = dir
        .read("maillage-out/communes.csv")
        .lines()
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(
        header,
        "code,name,departement,region,population,area_km2,status,cpts_ids,covered_fraction,overlap_fraction,white_fraction"
    );
    let header = dir
        .read("maillage-out/cpts.csv")
        .lines()
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(header, "cpts_id,cpts_name,status,communes,population,area_km2,size_class,parts,departements,regions");

    let layers: BTreeMap<&str, usize> = [
        (
            "territories",
            summary["cpts_count"].as_u64().unwrap() as usize,
        ),
        (
            "white_zones",
            summary["white_zone_clusters"].as_u64().unwrap() as usize,
        ),
        (
            "overlaps",
            summary["communes_overlap"].as_u64().unwrap() as usize,
        ),
    ]
    .into();
    for (name, count) in layers {
        let text = dir.read(&format!("maillage-out/{name}.geojson"));
        let fc: geojson::FeatureCollection = text.parse().unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(fc.features.len(), count, "{name}");
        for f in &fc.features {
            let props = f.properties.as_ref().unwrap();
            let g: geo::Geometry<f64> = f.geometry.clone().unwrap().try_into().unwrap();
            let m: MultiPolygon<f64> = match g {
                geo::Geometry::Polygon(p) => MultiPolygon::new(vec![p]),
                geo::Geometry::MultiPolygon(m) => m,
                other => panic!("{name}: {other:?}"),
            };
            for p in &m.0 {
                assert!(
                    p.exterior().signed_area_ccw() > 0.0,
                    "{name}: exterior not counter-clockwise"
                );
                for h in p.interiors() {
                    assert!(h.signed_area_ccw() < 0.0, "{name}: hole not clockwise");
                }
            }
            // a dissolved outline has the area of its communes: no sliver, no lost part
            let dissolved = maillage::geometry::multi_polygon_km2(&m);
            let declared = props["area_km2"].as_f64().unwrap();
            assert!(
                close(dissolved, declared, 1e-6),
                "{name} {props:?}: {dissolved} vs {declared}"
            );
        }
    }
}

trait SignedCcw {
    fn signed_area_ccw(&self) -> f64;
}
impl SignedCcw for geo::LineString<f64> {
    fn signed_area_ccw(&self) -> f64 {
        geo::Polygon::new(self.clone(), vec![]).signed_area()
    }
}

#[test]
fn check_exits_1_when_the_rule_is_broken_and_0_when_it_holds() {
    let dir = Dir::new();
    let o = maillage(dir.path(), &["check", "--quiet"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "the demo has zones blanches: {}",
        stderr(&o)
    );
    assert!(
        !dir.path().join("maillage-out").exists(),
        "check writes files only with --out"
    );

    // one CPTS per département of PACA: every commune covered exactly once
    let e = paca_expected();
    let mut csv = String::from("cpts_id,cpts_name,commune_code,status\n");
    for code in e["communes_area_km2"].as_object().unwrap().keys() {
        csv.push_str(&format!(
            "D{0},CPTS {0},{code},aci_signe\n",
            maillage::reference::departement_of(code)
        ));
    }
    let decl = dir.write("full.csv", csv);
    let communes = fixture("paca/communes.geojson.gz");
    let o = maillage(
        dir.path(),
        &[
            "check",
            "--communes",
            communes.to_str().unwrap(),
            "--cpts",
            decl.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout)
        .contains("règle « une CPTS par territoire » : respectée"));
}

#[test]
fn output_is_byte_identical_whatever_the_threads_and_the_row_order() {
    let (a, b) = (Dir::new(), Dir::new());
    let raw = Source::from_path(fixture("paca/communes.geojson.gz"))
        .unwrap()
        .bytes;
    let mut layer: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    a.write("communes.geojson", serde_json::to_vec(&layer).unwrap());
    let features = layer["features"].as_array_mut().unwrap();
    shuffle(features, 7);
    b.write("communes.geojson", serde_json::to_vec(&layer).unwrap());
    let decl = std::fs::read_to_string(fixture("paca/declarations.csv")).unwrap();
    a.write("decl.csv", &decl);
    let mut rows: Vec<&str> = decl.lines().skip(1).collect();
    shuffle(&mut rows, 11);
    b.write(
        "decl.csv",
        format!(
            "cpts_id,cpts_name,commune_code,status\n{}\n",
            rows.join("\n")
        ),
    );
    let pop = std::fs::read_to_string(fixture("paca/population.csv")).unwrap();
    a.write("pop.csv", &pop);
    b.write("pop.csv", &pop);
    let args = [
        "analyze",
        "--communes",
        "communes.geojson",
        "--cpts",
        "decl.csv",
        "--population",
        "pop.csv",
        "--out",
        "out",
        "--quiet",
        "--format",
        "both",
        "--map",
        "--report",
        "--date",
        "2026-01-01",
    ];
    for (dir, threads) in [(&a, "1"), (&b, "2")] {
        let mut v = args.to_vec();
        v.extend(["--threads", threads]);
        let o = maillage(dir.path(), &v);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    let names: Vec<String> = std::fs::read_dir(a.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 16, "{names:?}");
    for name in names {
        let (x, y) = (
            std::fs::read(a.path().join("out").join(&name)).unwrap(),
            std::fs::read(b.path().join("out").join(&name)).unwrap(),
        );
        assert!(
            x == y,
            "{name} differs between 1 thread / file order and 2 threads / shuffled rows"
        );
    }
}

#[test]
fn a_failed_write_leaves_no_partial_file() {
    let dir = Dir::new();
    std::fs::create_dir_all(dir.path().join("out/regions.csv")).unwrap();
    let o = maillage(dir.path(), &["analyze", "--out", "out", "--quiet"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("regions.csv"), "{}", stderr(&o));
    for entry in std::fs::read_dir(dir.path().join("out")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(!name.ends_with(".tmp"), "temporary file left: {name}");
        if name.ends_with(".csv") && name != "regions.csv" {
            let text = dir.read(&format!("out/{name}"));
            assert!(
                text.ends_with('\n') && text.lines().count() > 1,
                "{name} is partial"
            );
        }
    }
    // an --out that is a file cannot become a folder
    dir.write("file", "x");
    let o = maillage(dir.path(), &["analyze", "--out", "file", "--quiet"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("file"), "{}", stderr(&o));
}

#[test]
fn demo_inputs_are_the_paca_fixture() {
    let demo = Inputs::demo();
    let files = paca_inputs();
    // the files' commune layer is read when loaded (streamed): read it here
    assert!(files.communes.bytes.is_empty());
    let layer = maillage::Source::from_path(&files.communes.name).unwrap();
    assert_eq!(demo.communes.bytes, layer.bytes);
    assert_eq!(demo.cpts[0].bytes, files.cpts[0].bytes);
    assert_eq!(
        demo.population.unwrap().bytes,
        files.population.unwrap().bytes
    );
}

#[test]
fn dates_are_calendar_dates_and_today_follows_source_date_epoch() {
    let dir = Dir::new();
    // 29 February exists in 2028, not in 2026; a 13th month never
    for (date, ok) in [
        ("2028-02-29", true),
        ("2026-02-29", false),
        ("2026-13-01", false),
        ("26-12-01", false),
    ] {
        let o = maillage(
            dir.path(),
            &["analyze", "--quiet", "--map", "--date", date, "--out", "o"],
        );
        let code = if ok { 0 } else { 2 };
        assert_eq!(o.status.code(), Some(code), "{date}: {}", stderr(&o));
        if !ok {
            assert!(stderr(&o).contains("--date"), "{}", stderr(&o));
        }
    }
    assert!(dir.read("o/map.svg").contains("29 février 2028"));
    // without --date: SOURCE_DATE_EPOCH's day (2026-12-06 12:00 UTC)
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_maillage"))
        .current_dir(dir.path())
        .env("SOURCE_DATE_EPOCH", "1796558400")
        .args(["analyze", "--quiet", "--map", "--out", "t"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(dir.read("t/map.svg").contains("6 décembre 2026"));
}
