//! Issue 25: the output folder changes in one step. Two complete sets of the
//! same files (the demo's declarations, and another set of declarations), then
//! runs killed (abort, as `kill -9`) at every step of the commit: the folder
//! holds the old set or the new set, never a mix, and the next run removes what
//! the killed one left.

use super::*;
use std::collections::BTreeMap;

fn files(dir: &std::path::Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| {
            (
                e.file_name().into_string().unwrap(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn args(decl: &str, out: &str) -> Vec<String> {
    [
        "analyze",
        "--communes",
        fixture("paca/communes.geojson.gz").to_str().unwrap(),
        "--cpts",
        fixture(decl).to_str().unwrap(),
        "--date",
        "2026-12-01",
        "--quiet",
        "--out",
        out,
    ]
    .map(str::to_owned)
    .to_vec()
}

fn run(dir: &Dir, decl: &str, out: &str, fault: Option<&str>) -> std::process::Output {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_maillage"));
    c.current_dir(dir.path()).args(args(decl, out));
    if let Some(f) = fault {
        c.env("MAILLAGE_FAULT_AT", f);
    }
    c.output().unwrap()
}

/// Which set the folder holds: "old", "new", or a panic naming the mix.
fn which(
    got: &BTreeMap<String, Vec<u8>>,
    old: &BTreeMap<String, Vec<u8>>,
    new: &BTreeMap<String, Vec<u8>>,
) -> &'static str {
    if got == old {
        "old"
    } else if got == new {
        "new"
    } else {
        let mixed: Vec<&String> = got
            .iter()
            .filter(|(k, v)| old.get(*k) != Some(*v))
            .map(|(k, _)| k)
            .collect();
        panic!("a mix of the two sets: {mixed:?} are not the old files");
    }
}

#[test]
fn a_run_killed_at_any_step_leaves_the_old_set_or_the_new_one() {
    let dir = Dir::new();
    for (decl, out) in [
        ("paca/declarations.csv", "old"),
        ("paca/propose-declarations.csv", "new"),
    ] {
        assert_eq!(run(&dir, decl, out, None).status.code(), Some(0));
    }
    let (old, new) = (
        files(&dir.path().join("old")),
        files(&dir.path().join("new")),
    );
    assert_eq!(
        old.keys().collect::<Vec<_>>(),
        new.keys().collect::<Vec<_>>()
    );
    let differ = old.iter().filter(|(k, v)| new[*k] != **v).count();
    assert!(differ >= 5, "the two sets differ in {differ} files only");
    let mut seen = Vec::new();
    for step in ["staged", "linked", "exchanged", "cleaned"] {
        let out = dir.path().join("out");
        let _ = std::fs::remove_dir_all(&out);
        std::fs::create_dir(&out).unwrap();
        for (k, v) in &old {
            std::fs::write(out.join(k), v).unwrap();
        }
        let o = run(&dir, "paca/propose-declarations.csv", "out", Some(step));
        assert_eq!(
            o.status.code(),
            None,
            "{step}: the run should have been killed"
        );
        let state = which(&files(&out), &old, &new);
        seen.push(format!("{step}: {state}"));
        // the next run puts the new set in place and leaves nothing behind
        let o = run(&dir, "paca/propose-declarations.csv", "out", None);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(which(&files(&out), &old, &new), "new", "{step}");
        let leftovers: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.contains("maillage-") && !n.ends_with(".lock"))
            .collect();
        assert!(leftovers.is_empty(), "{step}: {leftovers:?}");
    }
    // killed before the swap: old; after it: new
    assert_eq!(
        seen,
        [
            "staged: old",
            "linked: old",
            "exchanged: new",
            "cleaned: new"
        ]
    );
}

#[test]
fn other_files_stay_and_a_replaced_geopackage_loses_its_stale_wal() {
    let dir = Dir::new();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    dir.write("out/notes.txt", "the planner's own notes");
    dir.write("out/maillage.gpkg", "an old GeoPackage");
    dir.write("out/maillage.gpkg-wal", "another program's write-ahead log");
    std::fs::create_dir(out.join("archive")).unwrap();
    dir.write("out/archive/2026-01.csv", "kept");
    // and what a run killed by an older version left
    dir.write("out/.summary.json.4242.tmp", "partial");
    let mut a = args("paca/declarations.csv", "out");
    a.extend(["--format".into(), "gpkg".into()]);
    let o = maillage(
        dir.path(),
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(dir.read("out/notes.txt"), "the planner's own notes");
    assert_eq!(dir.read("out/archive/2026-01.csv"), "kept");
    assert!(std::fs::read(out.join("maillage.gpkg"))
        .unwrap()
        .starts_with(b"SQLite format 3\0"));
    assert!(
        !out.join("maillage.gpkg-wal").exists(),
        "the stale WAL would corrupt it"
    );
    assert!(!out.join(".summary.json.4242.tmp").exists());
}

#[test]
fn a_target_that_cannot_be_replaced_leaves_the_folder_as_it_was() {
    let dir = Dir::new();
    assert_eq!(
        run(&dir, "paca/declarations.csv", "out", None)
            .status
            .code(),
        Some(0)
    );
    let before = files(&dir.path().join("out"));
    // regions.csv is a folder now, and summary.json is gone
    std::fs::remove_file(dir.path().join("out/regions.csv")).unwrap();
    std::fs::create_dir(dir.path().join("out/regions.csv")).unwrap();
    std::fs::remove_file(dir.path().join("out/summary.json")).unwrap();
    let before: BTreeMap<_, _> = before
        .into_iter()
        .filter(|(k, _)| k != "summary.json" && k != "regions.csv")
        .collect();
    let o = run(&dir, "paca/propose-declarations.csv", "out", None);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("out/regions.csv"), "{}", stderr(&o));
    assert_eq!(files(&dir.path().join("out")), before, "the folder changed");
    assert!(dir.path().join("out/regions.csv").is_dir());
}

/// Two runs on one folder at once: the second waits for the first, and the
/// folder ends with one whole set.
#[test]
fn two_runs_on_one_folder_do_not_interleave() {
    let dir = Dir::new();
    for (decl, out) in [
        ("paca/declarations.csv", "old"),
        ("paca/propose-declarations.csv", "new"),
    ] {
        assert_eq!(run(&dir, decl, out, None).status.code(), Some(0));
    }
    let (old, new) = (
        files(&dir.path().join("old")),
        files(&dir.path().join("new")),
    );
    for trial in 0..4 {
        let spawn = |decl: &str| {
            std::process::Command::new(env!("CARGO_BIN_EXE_maillage"))
                .current_dir(dir.path())
                .args(args(decl, "shared"))
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        };
        let (mut a, mut b) = (
            spawn("paca/declarations.csv"),
            spawn("paca/propose-declarations.csv"),
        );
        assert!(
            a.wait().unwrap().success() && b.wait().unwrap().success(),
            "{trial}"
        );
        which(&files(&dir.path().join("shared")), &old, &new);
    }
}
