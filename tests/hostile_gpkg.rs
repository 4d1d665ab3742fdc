use super::*;

/// A GeoPackage whose geometry blobs lie about their sizes (a ring of 2³² − 1
/// points in a 100-byte blob, a truncated blob): each feature is refused with
/// its index, within bounded memory, and the other features are not read as
/// anything else.
#[test]
fn geometry_blobs_that_lie_about_their_size_are_refused_by_feature() {
    let dir = Dir::new();
    let decl = fixture("paca/declarations.csv").display().to_string();
    let communes = fixture("paca/communes.geojson.gz").display().to_string();
    let o = maillage(
        dir.path(),
        &[
            "analyze",
            "--communes",
            &communes,
            "--cpts",
            &decl,
            "--format",
            "gpkg",
            "--quiet",
            "--out",
            "a",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let path = dir.path().join("a/maillage.gpkg");
    {
        let db = rusqlite::Connection::open(&path).unwrap();
        // six R-tree triggers (GeoPackage 1.2) for each of the four layers, dropped to edit
        // the blobs
        assert_eq!(drop_triggers(&db), 4 * 6);
        // fid 1: GP header (8) + envelope (32) + WKB multipolygon header (9) +
        // polygon header (9), then a ring count claiming 4,294,967,295 points
        let mut lying: Vec<u8> = db
            .query_row("SELECT geom FROM communes WHERE fid = 1", [], |r| r.get(0))
            .unwrap();
        lying.truncate(40 + 9 + 9);
        lying.extend(u32::MAX.to_le_bytes());
        lying.extend([0u8; 40]);
        db.execute("UPDATE communes SET geom = ? WHERE fid = 1", [&lying])
            .unwrap();
        // fid 2: cut in the middle of its coordinates
        db.execute(
            "UPDATE communes SET geom = substr(geom, 1, 100) WHERE fid = 2",
            [],
        )
        .unwrap();
    }
    let o = maillage(
        dir.path(),
        &["check", "--communes", "a/maillage.gpkg", "--cpts", &decl],
    );
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("a/maillage.gpkg") && e.contains("2 unusable feature(s)"),
        "{e}"
    );
    assert!(e.contains("feature 0") && e.contains("feature 1"), "{e}");
    assert_eq!(
        e.matches("WKB ring longer than the geometry").count(),
        2,
        "{e}"
    );
}
