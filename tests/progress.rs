//! Issue 9: long work shows progress on a terminal, and nothing in batch logs.

use super::*;

fn under_terminal(dir: &Dir, args: &str) -> Option<String> {
    // util-linux's script runs the command in a pseudo-terminal
    let bin = env!("CARGO_BIN_EXE_maillage");
    let o = std::process::Command::new("script")
        .current_dir(dir.path())
        .env("MAILLAGE_PROGRESS_AFTER_MS", "0")
        .args(["-qec", &format!("{bin} {args}"), "/dev/null"])
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&o.stdout).into_owned())
}

#[test]
fn a_terminal_sees_a_progress_line_and_a_pipe_sees_none() {
    let dir = Dir::new();
    let drawn = format!(
        "analyze --out out --communes {} --cpts {} --cpts {}",
        fixture("paca/communes.geojson.gz").display(),
        fixture("paca/drawn.geojson").display(),
        fixture("paca/drawn-lists.csv").display()
    );
    let Some(shown) = under_terminal(&dir, &drawn) else {
        eprintln!("skipped: no `script` (util-linux) to make a terminal");
        return;
    };
    assert!(shown.contains("\r\x1b[2Kmaillage: "), "{shown:?}");
    assert!(
        [
            "reading the inputs",
            "overlay of drawn territories",
            "gap and overlap pieces"
        ]
        .iter()
        .any(|stage| shown.contains(stage)),
        "{shown:?}"
    );
    // the line is erased before the summary is printed
    assert!(
        shown.contains("\r\x1b[2Kmaillage : 947 communes"),
        "{shown:?}"
    );
    let quiet = under_terminal(&dir, &format!("{drawn} --quiet")).unwrap();
    assert!(
        !quiet.contains("maillage: "),
        "--quiet silences it: {quiet:?}"
    );
    // piped, as in a batch job: no progress, no carriage return
    let args: Vec<String> = drawn.split(' ').map(str::to_owned).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_maillage"))
        .current_dir(dir.path())
        .env("MAILLAGE_PROGRESS_AFTER_MS", "0")
        .args(&args)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        !stderr(&o).contains('\r') && !stderr(&o).contains("overlay of"),
        "{}",
        stderr(&o)
    );
}
