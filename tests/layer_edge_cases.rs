use super::*;
use maillage::load::{load_communes, FieldNames};

/// A Shapefile on disk: the .shp with its .dbf, .prj and .cpg beside it.
#[test]
fn a_shapefile_on_disk_reads_its_sibling_files() {
    let dir = Dir::new();
    let zip = std::fs::read(fixture("adminexpress/ae3-974-2975.zip")).unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    archive.extract(dir.path()).unwrap();
    let shp = dir.path().join("COMMUNE.shp");
    let layer = load_communes(&Source::from_path(&shp).unwrap(), &FieldNames::default()).unwrap();
    assert_eq!(layer.communes.len(), 24);
    assert!(layer
        .communes
        .iter()
        .any(|c| c.name == "Saint-Denis" && c.code == "97411"));
    // without its .dbf: an error naming the missing file
    std::fs::remove_file(dir.path().join("COMMUNE.dbf")).unwrap();
    let e = load_communes(&Source::from_path(&shp).unwrap(), &FieldNames::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("COMMUNE.dbf"), "{e}");
}

/// Corrupt binary layers are errors naming the file, never panics.
#[test]
fn corrupt_zip_and_geopackage_are_clear_errors() {
    let gpkg = std::fs::read(fixture("adminexpress/ae4-05-l93.gpkg")).unwrap();
    let zip = std::fs::read(fixture("adminexpress/ae3-05-l93.zip")).unwrap();
    let parquet = std::fs::read(fixture("adminexpress/ae4-05-l93.parquet")).unwrap();
    for (name, bytes) in [
        ("cut.gpkg", gpkg[..gpkg.len() / 3].to_vec()),
        ("cut.zip", zip[..zip.len() / 2].to_vec()),
        ("garbage.zip", b"PK\x03\x04 not really a zip".to_vec()),
        ("empty.gpkg", b"SQLite format 3\0".to_vec()),
        ("cut.parquet", parquet[..parquet.len() / 2].to_vec()),
        ("text.zip", b"not a zip at all".to_vec()),
    ] {
        let src = Source::from_bytes(name, bytes).unwrap();
        let r = std::panic::catch_unwind(|| load_communes(&src, &FieldNames::default()));
        let e = r
            .unwrap_or_else(|_| panic!("{name}: panicked"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with(&format!("{name}: ")), "{name}: {e}");
        // a broken file is one error about the file, not a list of "features"
        assert!(!e.contains("feature(s)"), "{name}: {e}");
    }
    // text that is no format at all: the other readable formats are named
    let e = load_communes(
        &Source::from_bytes("text.zip", b"not a zip at all".to_vec()).unwrap(),
        &FieldNames::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("GeoPackage") && e.contains("Shapefile"), "{e}");
}

/// A layer with arrondissement polygons: the whole-city polygon beside them is
/// dropped, a declared whole city claims every arrondissement, and two CPTS on
/// different arrondissements do not overlap.
#[test]
fn arrondissement_polygons_are_used_when_the_layer_has_them() {
    let layer = collection(&[
        square("75101", 2.30, 48.85, 0.01),
        square("75102", 2.31, 48.85, 0.01),
        square("75056", 2.30, 48.85, 0.02),
        square("92012", 2.29, 48.85, 0.01),
    ]);
    let a = analyse(
        &layer,
        "cpts_id,cpts_name,commune_code\nP1,Paris 1,75101\nP2,Paris 2,75102\nB,Boulogne,92012\n",
    )
    .unwrap();
    assert!(a.communes.index_of("75056").is_none());
    assert_eq!(a.summary.communes_overlap, 0);
    assert_eq!(a.verdict("75101"), Some(Verdict::Covered));
    let b = analyse(
        &layer,
        "cpts_id,cpts_name,commune_code\nP1,Paris 1,75101\nALL,Paris,75056\nB,Boulogne,92012\n",
    )
    .unwrap();
    assert_eq!(b.verdict("75101"), Some(Verdict::Overlap));
    assert_eq!(b.verdict("75102"), Some(Verdict::Covered));
    let said: Vec<&str> = b
        .summary
        .diagnostics
        .iter()
        .filter(|d| d.kind == DiagnosticKind::Arrondissements)
        .map(|d| d.message.as_str())
        .collect();
    assert!(
        said.iter()
            .any(|m| m.contains("le polygone de la commune entière est écarté")),
        "{said:?}"
    );
    assert!(
        said.iter().any(|m| m.contains("75056 (ligne 3)")),
        "{said:?}"
    );
}
