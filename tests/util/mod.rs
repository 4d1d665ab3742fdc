//! Helpers for the integration tests: fixtures by name, a scratch folder, the binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use maillage::{Analysis, FieldNames, Inputs, Source};

pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel)
}

/// The national commune layer (35,357 communes), read only by the national tier
/// (tests marked `#[ignore = "national tier: …"]`, run by `bash tests/run.sh
/// --national`): from `MAILLAGE_NATIONAL_DATA` when set, else `../shared/data`
/// beside the repository.
pub fn national_layer() -> PathBuf {
    let dir = std::env::var_os("MAILLAGE_NATIONAL_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    let path = dir.join("communes-france-2018.geojson.gz");
    assert!(
        path.is_file(),
        "the national tier needs {}: set MAILLAGE_NATIONAL_DATA to the folder holding it",
        path.display()
    );
    path
}

/// The PACA communes, populations and demo declarations, as files.
pub fn paca_inputs() -> Inputs {
    Inputs::from_paths(
        &fixture("paca/communes.geojson.gz"),
        &[&fixture("paca/declarations.csv")],
        Some(&fixture("paca/population.csv")),
        FieldNames::default(),
    )
    .unwrap()
}

/// Figures computed independently by `fixtures/oracle_paca.py` (shapely + pyproj).
pub fn paca_expected() -> serde_json::Value {
    let text = std::fs::read_to_string(fixture("paca/expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// An analysis of in-memory GeoJSON and CSV text, for hand-made cases.
pub fn analyse(geojson: &str, csv: &str) -> maillage::Result<Analysis> {
    Analysis::run(&inputs(geojson, csv))
}

pub fn inputs(geojson: &str, csv: &str) -> Inputs {
    Inputs {
        communes: Source::from_bytes("communes.geojson", geojson.as_bytes().to_vec()).unwrap(),
        cpts: vec![Source::from_bytes("declarations.csv", csv.as_bytes().to_vec()).unwrap()],
        population: None,
        fields: FieldNames::default(),
        min_area_km2: maillage::DEFAULT_MIN_AREA_KM2,
        area: None,
        tables: Default::default(),
        progress: None,
        check_rings: false,
    }
}

/// A GeoJSON feature for a commune made of one axis-aligned square.
pub fn square(code: &str, x: f64, y: f64, w: f64) -> String {
    format!(
        r#"{{"type":"Feature","properties":{{"code":"{code}","nom":"C{code}","population":1000}},"geometry":{{"type":"Polygon","coordinates":[[[{x},{y}],[{x1},{y}],[{x1},{y1}],[{x},{y1}],[{x},{y}]]]}}}}"#,
        x1 = x + w,
        y1 = y + w
    )
}

pub fn collection(features: &[String]) -> String {
    format!(
        r#"{{"type":"FeatureCollection","features":[{}]}}"#,
        features.join(",")
    )
}

/// A fresh scratch folder, removed when dropped.
pub struct Dir(pub tempfile::TempDir);

impl Dir {
    pub fn new() -> Dir {
        Dir(tempfile::tempdir().unwrap())
    }
    pub fn path(&self) -> &Path {
        self.0.path()
    }
    pub fn write(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path().join(name);
        std::fs::write(&p, content).unwrap();
        p
    }
    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }
}

/// Runs the `maillage` binary in `cwd`.
pub fn maillage(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_maillage"))
        .current_dir(cwd)
        .args(args)
        .output()
        .unwrap()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A deterministic shuffle (xorshift), so that tests are reproducible.
pub fn shuffle<T>(v: &mut [T], mut seed: u64) {
    for i in (1..v.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        v.swap(i, (seed % (i as u64 + 1)) as usize);
    }
}

/// The first diagnostic of `kind` in an analysis's report (the test fails without one).
pub fn diagnostic(a: &Analysis, kind: maillage::DiagnosticKind) -> &maillage::Diagnostic {
    a.summary
        .diagnostics
        .iter()
        .find(|d| d.kind == kind)
        .unwrap_or_else(|| panic!("no {kind:?} diagnostic in {:#?}", a.summary.diagnostics))
}

/// Random declarations over the real PACA layer (fixed seeds): each commune claimed by
/// none, one or two of 9 CPTS.
pub fn random_declarations(codes: &[String], seed: u64) -> String {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut csv = String::from("cpts_id,cpts_name,commune_code,status\n");
    for code in codes {
        let r = next();
        let claimants = match r % 10 {
            0 | 1 => 0,
            9 => 2,
            _ => 1,
        };
        for k in 0..claimants {
            let id = (r >> (8 + 4 * k)) % 9;
            csv.push_str(&format!("R{id},Random {id},{code},projet\n"));
        }
    }
    csv
}

/// Declarations drawn by a property test: for each of `codes`, a claim triple
/// (r, a, b) gives no CPTS (r % 10 in 0–1: 20 %), CPTS `R{a}` (70 %) or both `R{a}`
/// and `R{b}` (10 %), among nine CPTS.
pub fn claimed(codes: &[String], claims: &[(u8, u8, u8)]) -> String {
    let mut csv = String::from("cpts_id,cpts_name,commune_code,status\n");
    for (code, &(r, a, b)) in codes.iter().zip(claims) {
        let ids: &[u8] = match r % 10 {
            0 | 1 => &[],
            9 => &[a, b],
            _ => &[a],
        };
        for id in ids {
            let id = id % 9;
            csv.push_str(&format!("R{id},Random {id},{code},projet\n"));
        }
    }
    csv
}

/// Drops every trigger of a GeoPackage and returns how many there were: the
/// R-tree triggers call GDAL's ST_ functions, which plain SQLite lacks (as in
/// GDAL's own files), so a test that edits geometry blobs drops them first.
pub fn drop_triggers(db: &rusqlite::Connection) -> usize {
    let triggers: Vec<String> = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for t in &triggers {
        db.execute_batch(&format!("DROP TRIGGER \"{t}\"")).unwrap();
    }
    triggers.len()
}
