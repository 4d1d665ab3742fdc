//! Issue 22, item 6: French for the people who read it, `--lang en` for the
//! others — diagnostics, reasons and terminal summaries, every command; column
//! names and JSON keys the same in both.

use super::*;

/// Marks of French text, and of English text, in a message.
const FRENCH: &[&str] = &["ligne", " : ", " ; ", "en tout", "déclare", " de la couche"];
const ENGLISH: &[&str] = &["(line ", " in all)", "commune(s)", "row(s)", " left out"];

fn assert_lang(messages: &[String], en: bool) {
    let marks = if en { FRENCH } else { ENGLISH };
    for m in messages {
        assert!(!m.is_empty());
        if let Some(mark) = marks.iter().find(|k| m.contains(*k)) {
            panic!(
                "{mark:?} in a message that should be {}: {m}",
                if en { "English" } else { "French" }
            );
        }
    }
}

/// Every kind of declaration oddity, a workbook, normalised codes and a
/// separator: each diagnostic has its English, and each language is clean.
#[test]
fn every_diagnostic_reads_in_both_languages() {
    let dir = Dir::new();
    dir.write(
        "decl.csv",
        "N° CPTS;Nom;Code INSEE;statut\n\
         A;Alpha;4001;aci_signe\n\
         A;Alpha;04001;aci_signe\n\
         A;Alfa;04004 ;valide\n\
         A;Alpha;99999;aci_signe\n\
         B;Beta;;projet\n\
         C;Gamma;88888;en attente\n\
         ;Nobody;04004;projet\n\
         D;Delta;13055 Marseille;signé\n",
    );
    let mut inputs = Inputs::demo();
    inputs.tables.sheet = Some("Déclarations".into());
    inputs.cpts = vec![
        Source::from_path(dir.path().join("decl.csv")).unwrap(),
        Source::from_path(fixture("paca/declarations.xlsx")).unwrap(),
    ];
    let a = Analysis::run(&inputs).unwrap();
    let d = &a.summary.diagnostics;
    assert!(d.len() >= 10, "{d:#?}");
    let fr: Vec<String> = d
        .iter()
        .map(|d| d.clone().in_lang(maillage::Lang::Fr).message)
        .collect();
    let en: Vec<String> = d
        .iter()
        .map(|d| d.clone().in_lang(maillage::Lang::En).message)
        .collect();
    assert_lang(&fr, false);
    assert_lang(&en, true);
    for (f, e) in fr.iter().zip(&en) {
        assert_ne!(f, e, "one text for both languages");
    }
    // the lines, the codes and the kinds are the same whatever the language
    let mut s = a.summary.clone();
    s.set_lang(maillage::Lang::En);
    for (x, y) in s.diagnostics.iter().zip(d) {
        assert_eq!(
            (x.kind, &x.lines, &x.codes, &x.cpts_id),
            (y.kind, &y.lines, &y.codes, &y.cpts_id)
        );
    }
}

fn run(dir: &Dir, args: &[&str]) -> (String, Option<i32>) {
    let o = maillage(dir.path(), args);
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        o.status.code(),
    )
}

fn messages(dir: &Dir, file: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(&dir.read(file)).unwrap();
    v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["message"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn every_command_speaks_french_by_default_and_english_on_request() {
    let dir = Dir::new();
    // analyze: the terminal summary, summary.json and diagnostics.json
    let (fr, code) = run(&dir, &["analyze", "--out", "fr"]);
    assert_eq!(code, Some(0));
    assert!(
        fr.contains("règle « une CPTS par territoire » : non respectée"),
        "{fr}"
    );
    assert!(fr.contains("9 fichiers écrits dans fr"), "{fr}");
    let (en, _) = run(&dir, &["analyze", "--lang", "en", "--out", "en"]);
    assert!(en.contains("one-CPTS-per-territory rule: broken"), "{en}");
    assert!(en.contains("wrote 9 files to en"), "{en}");
    assert_lang(&messages(&dir, "fr/diagnostics.json"), false);
    assert_lang(&messages(&dir, "en/diagnostics.json"), true);
    assert_lang(&messages(&dir, "en/summary.json"), true);
    // the tables and layers do not depend on the language
    for f in ["communes.csv", "cpts.csv", "white_zones.geojson"] {
        assert_eq!(
            dir.read(&format!("fr/{f}")),
            dir.read(&format!("en/{f}")),
            "{f}"
        );
    }
    // check --candidate: its verdict and reasons
    dir.write(
        "cand.csv",
        "cpts_id,cpts_name,commune_code\nNEW,Nouvelle,06088\nNEW,Nouvelle,13055\n",
    );
    let (fr, code) = run(&dir, &["check", "--candidate", "cand.csv"]);
    assert_eq!(code, Some(1), "{fr}");
    assert!(
        fr.contains("verdict : à refuser tel que déclaré : NEW chevauche d'autres CPTS"),
        "{fr}"
    );
    let (en, _) = run(&dir, &["check", "--candidate", "cand.csv", "--lang", "en"]);
    assert!(
        en.contains("verdict: refuse as declared: NEW overlaps other CPTS"),
        "{en}"
    );
    // propose and access: their diagnostics
    run(&dir, &["propose", "--lang", "en", "--out", "pen"]);
    assert_lang(&messages(&dir, "pen/diagnostics.json"), true);
    let (en, _) = run(&dir, &["access", "--lang", "en", "--out", "aen"]);
    assert!(en.contains("population-weighted mean score"), "{en}");
    assert_lang(&messages(&dir, "aen/summary.json"), true);
    let (fr, _) = run(&dir, &["access", "--out", "afr"]);
    assert!(fr.contains("score moyen pondéré par la population"), "{fr}");
    assert_lang(&messages(&dir, "afr/summary.json"), false);
}
