//! Edge cases found along the way: empty CPTS, messy spreadsheet exports.

use super::*;

#[test]
fn an_empty_cpts_has_zero_area_not_minus_zero() {
    let layer = collection(&[square("01001", 5.0, 45.0, 0.1)]);
    let dir = Dir::new();
    dir.write("c.geojson", &layer);
    dir.write(
        "d.csv",
        "cpts_id,cpts_name,commune_code\nA,Alpha,01001\nB,Beta,99999\n",
    );
    let o = maillage(
        dir.path(),
        &[
            "analyze",
            "--communes",
            "c.geojson",
            "--cpts",
            "d.csv",
            "--out",
            "out",
            "--quiet",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let cpts = dir.read("out/cpts.csv");
    let b = cpts.lines().find(|l| l.starts_with("B,")).unwrap();
    assert!(b.contains(",0.000000,") && !b.contains("-0"), "{b}");
    assert!(!dir.read("out/summary.json").contains("-0.0"));
    assert!(!dir
        .read("out/territories.geojson")
        .contains("\"area_km2\":-0.0"));
}

/// Issue 4's acceptance test for declaration files: the same declarations written
/// the way spreadsheets export them give exactly the clean file's coverage.
#[test]
fn a_messy_spreadsheet_export_gives_the_clean_files_coverage() {
    let clean = std::fs::read_to_string(fixture("paca/declarations.csv")).unwrap();
    let mut rows: Vec<String> = Vec::new();
    let lines: Vec<&str> = clean.lines().skip(1).collect();
    let mut joined = 0;
    for (k, line) in lines.iter().enumerate() {
        let f: Vec<&str> = line.split(',').collect();
        if k > 0 && lines[k - 1].starts_with(&format!("{},", f[0])) && (k - 1) % 41 == 5 {
            continue; // written in the previous row's cell
        }
        let mut code = f[2].strip_prefix('0').unwrap_or(f[2]).to_owned(); // Excel drops the leading zero
        if k % 41 == 5
            && lines
                .get(k + 1)
                .is_some_and(|n| n.starts_with(&format!("{},", f[0])))
        {
            // two codes typed in one cell
            code = format!("{code}, {}", lines[k + 1].split(',').nth(2).unwrap());
            joined += 1;
        } else if k % 53 == 9 {
            code = format!("{code} - commune"); // the commune's name after its code
        }
        let status = match f[3] {
            "aci_signe" => "ACI signé",
            "valide" => "Projet de santé validé",
            _ => "Lettre d'intention",
        };
        rows.push(format!("{};{};{code};{status}", f[0], f[1]));
        if k % 97 == 0 {
            rows.push(format!("{};{};{code};{status}", f[0], f[1])); // a duplicate
        }
        if k % 301 == 0 {
            rows.push(format!("{};{};99999;{status}", f[0], f[1])); // an unknown code
        }
    }
    let text = format!(
        "Identifiant CPTS;Nom CPTS;Code INSEE;Statut\r\n{}\r\n;;;\r\n\r\n",
        rows.join("\r\n")
    );
    assert!(
        text.chars().all(|c| (c as u32) < 256),
        "Latin-1 subset, so 1 byte per char in Windows-1252"
    );
    let windows_1252: Vec<u8> = text.chars().map(|c| c as u32 as u8).collect();
    assert!(
        std::str::from_utf8(&windows_1252).is_err(),
        "the accents make it invalid UTF-8"
    );

    let a = Analysis::run(&paca_inputs()).unwrap();
    let mut messy = paca_inputs();
    messy.cpts = vec![Source::from_bytes("export.csv", windows_1252).unwrap()];
    let b = Analysis::run(&messy).unwrap();
    let (s, t) = (&a.summary, &b.summary);
    assert_eq!(
        (
            s.communes_covered,
            s.communes_white,
            s.communes_overlap,
            s.white_zone_clusters
        ),
        (
            t.communes_covered,
            t.communes_white,
            t.communes_overlap,
            t.white_zone_clusters
        )
    );
    assert_eq!(
        (s.population_white, s.population_overlap),
        (t.population_white, t.population_overlap)
    );
    assert_eq!(
        (s.area_km2_white, s.area_km2_overlap),
        (t.area_km2_white, t.area_km2_overlap)
    );
    assert_eq!(s.cpts_by_status, t.cpts_by_status);
    assert_eq!(s.cpts_by_size_class, t.cpts_by_size_class);
    let (sa, sb) = (a.stats().unwrap(), b.stats().unwrap());
    assert!(
        sa.cpts.equals_missing(&sb.cpts),
        "same CPTS table, names decoded"
    );
    assert!(
        sa.communes.equals_missing(&sb.communes),
        "same verdicts per commune"
    );
    // and every normalisation is reported
    let msgs: Vec<String> = t
        .diagnostics
        .iter()
        .map(|d| format!("{:?}: {}", d.kind, d.message))
        .collect();
    for needle in [
        "InputFormat: export.csv : pas en UTF-8 : décodé en Windows-1252 ; séparateur ';' détecté ; colonne \"Code INSEE\" lue comme commune_code ; colonne \"Identifiant CPTS\" lue comme cpts_id",
        "NormalizedCode: export.csv : ",
        "zéro initial perdu rétabli : \"4001\" → 04001",
        "NormalizedStatus: export.csv : statuts lus comme : \"ACI signé\" → aci_signe",
        "DuplicateRow: export.csv : ",
        format!("codes normalisés ({joined}), plusieurs codes dans une cellule, séparés").as_str(),
        "), nom après le code retiré : \"",
        " - commune\" → ",
        // header line 1, first row line 2, its duplicate line 3, the unknown code line 4
        "DuplicateRow: export.csv : lignes (CPTS, commune) en double, chacune comptée une fois (10) : CPTS-93-001/04001 ligne 3",
        "UnknownCode: export.csv : la CPTS CPTS-93-001 déclare des codes inconnus de la couche de communes comme du COG 2026 embarqué, ignorés (1) : 99999 (ligne 4)",
    ] {
        assert!(msgs.iter().any(|m| m.contains(needle)), "missing {needle:?} in {msgs:#?}");
    }
    assert!(joined > 10, "{joined} cells with two codes");
}

/// `diagnostics.json` lists every finding with counts by kind; `--strict` refuses
/// inputs that needed normalising (exit 2, nothing written) and accepts clean ones.
#[test]
fn diagnostics_json_and_strict() {
    let dir = Dir::new();
    let layer = collection(&[
        square("01001", 5.0, 45.0, 0.1),
        square("01002", 5.1, 45.0, 0.1),
    ]);
    dir.write("c.geojson", &layer);
    dir.write(
        "clean.csv",
        "cpts_id,cpts_name,commune_code\nA,Alpha,01001\nA,Alpha,01002\n",
    );
    dir.write(
        "messy.csv",
        "cpts_id;cpts_name;commune_code\nA;Alpha;1001\nA;Alpha;01002\nA;Alpha;01002\n",
    );
    let run = |decl: &str, strict: bool, out: &str| {
        let mut args = vec![
            "analyze",
            "--communes",
            "c.geojson",
            "--cpts",
            decl,
            "--out",
            out,
        ];
        if strict {
            args.push("--strict");
        }
        maillage(dir.path(), &args)
    };
    let o = run("messy.csv", false, "lenient");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report: serde_json::Value =
        serde_json::from_str(&dir.read("lenient/diagnostics.json")).unwrap();
    assert_eq!(report["by_kind"]["normalized_code"], 1);
    assert_eq!(report["by_kind"]["duplicate_row"], 1);
    assert_eq!(report["problems"], 2, "{report:#}");
    let dup = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "duplicate_row")
        .unwrap();
    assert_eq!(dup["lines"], serde_json::json!([4]));

    let o = run("messy.csv", true, "strict");
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("[duplicate_row]") && err.contains("--strict: 2 diagnostic(s)"),
        "{err}"
    );
    assert!(!dir.path().join("strict").exists(), "nothing written");

    let o = run("clean.csv", true, "clean");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(dir.path().join("clean/diagnostics.json").exists());
}
