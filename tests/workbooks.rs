//! Declarations kept in workbooks (issue 4): `.xlsx` (openpyxl) and `.ods` (odfpy)
//! copies of the PACA declarations, with a notice sheet first, a title above the
//! header, French headers, codes typed as numbers and statuses in words, give the
//! clean CSV's coverage; rows are cited by their sheet row.

use super::*;
use maillage::load::TableOptions;

fn with(rel: &str, tables: TableOptions) -> maillage::Result<Analysis> {
    let mut inputs = paca_inputs();
    inputs.cpts = vec![Source::from_path(fixture(rel)).unwrap()];
    inputs.tables = tables;
    Analysis::run(&inputs)
}

#[test]
fn xlsx_and_ods_give_the_csvs_coverage() {
    let clean = Analysis::run(&paca_inputs()).unwrap();
    let sheet = TableOptions {
        sheet: Some("Déclarations".into()),
        ..Default::default()
    };
    for rel in [
        "paca/declarations.xlsx",
        "paca/declarations.ods",
        "paca/declarations.xls",
    ] {
        let a = with(rel, sheet.clone()).unwrap();
        let (s, t) = (&clean.summary, &a.summary);
        assert_eq!(
            (s.communes_covered, s.communes_white, s.communes_overlap),
            (t.communes_covered, t.communes_white, t.communes_overlap),
            "{rel}"
        );
        assert_eq!(s.cpts_by_status, t.cpts_by_status, "{rel}");
        let (x, y) = (clean.stats().unwrap(), a.stats().unwrap());
        assert!(x.cpts.equals_missing(&y.cpts), "{rel}: same CPTS table");
        assert!(
            x.communes.equals_missing(&y.communes),
            "{rel}: same verdicts"
        );
        let code = t
            .diagnostics
            .iter()
            .find(|d| d.kind == DiagnosticKind::NormalizedCode)
            .unwrap();
        // title on row 1, blank row 2, header row 3: the first CPTS row is row 4
        assert!(
            code.message.contains("\"4001\" → 04001 (ligne 4)"),
            "{}",
            code.message
        );
        // the last row's code is a formula error: kept visible as an unknown code
        let na = t
            .diagnostics
            .iter()
            .find(|d| d.kind == DiagnosticKind::UnknownCode)
            .unwrap_or_else(|| panic!("{rel}: no unknown_code for the #N/A cell"));
        assert!(
            na.message.contains("#N/A (ligne 912)"),
            "{rel}: {}",
            na.message
        );
    }
    // the first sheet is a notice: a clear error naming the file and the sheets
    let e = with("paca/declarations.xlsx", TableOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("declarations.xlsx")
            && e.contains("Notice, Déclarations")
            && e.contains("--sheet"),
        "{e}"
    );
    let e = with(
        "paca/declarations.ods",
        TableOptions {
            sheet: Some("Feuil1".into()),
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("no sheet named \"Feuil1\""), "{e}");
    assert!(!e.contains("line 0"), "a missing sheet has no line: {e}");
}

/// A zip workbook (xlsx, ods) with one member's text changed by `edit`.
fn rezip(rel: &str, member: &str, edit: impl Fn(&str) -> String) -> Vec<u8> {
    use std::io::{Read, Write};
    let bytes = std::fs::read(fixture(rel)).unwrap();
    let mut src = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for k in 0..src.len() {
        let mut f = src.by_index(k).unwrap();
        let name = f.name().to_owned();
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap();
        if name == member {
            data = edit(std::str::from_utf8(&data).unwrap()).into_bytes();
        }
        out.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(&data).unwrap();
    }
    out.finish().unwrap().into_inner()
}

fn read_bytes(name: &str, bytes: Vec<u8>, sheet: &str) -> maillage::Result<Analysis> {
    let mut inputs = paca_inputs();
    inputs.cpts = vec![Source::from_bytes(name, bytes).unwrap()];
    inputs.tables = TableOptions {
        sheet: Some(sheet.into()),
        ..Default::default()
    };
    Analysis::run(&inputs)
}

/// Issue 25: workbooks that used to take the machine down (a cell at
/// XFD1048576: a 512 GiB allocation; AAA200000: 4.5 GB; two billion spaces
/// in an .ods cell: 9.5 GB; a billion shared strings) are refused from their
/// structure, naming the file and the part, before calamine reads them.
#[test]
fn hostile_xlsx_and_ods_are_refused_before_they_are_read() {
    let far = |cell: &str| {
        let cell = cell.to_owned();
        rezip(
            "paca/declarations.xlsx",
            "xl/worksheets/sheet2.xml",
            move |x| {
                let row: String = cell
                    .chars()
                    .skip_while(|c| c.is_ascii_alphabetic())
                    .collect();
                x.replace(
                    "</sheetData>",
                    &format!(r#"<row r="{row}"><c r="{cell}"><v>1</v></c></row></sheetData>"#),
                )
            },
        )
    };
    for cell in ["XFD1048576", "AAA200000"] {
        let t = std::time::Instant::now();
        let e = read_bytes("far.xlsx", far(cell), "Déclarations")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("far.xlsx")
                && e.contains("xl/worksheets/sheet2.xml")
                && e.contains("refused as damaged or hostile"),
            "{cell}: {e}"
        );
        assert!(t.elapsed().as_secs() < 5, "{cell}: {:?}", t.elapsed());
    }
    // a cell just beside the table is fine
    let near = rezip("paca/declarations.xlsx", "xl/worksheets/sheet2.xml", |x| {
        x.replace(
            "</sheetData>",
            r#"<row r="920"><c r="F920" t="inlineStr"><is><t>note</t></is></c></row></sheetData>"#,
        )
    });
    assert!(read_bytes("near.xlsx", near, "Déclarations").is_ok());
    // a shared-strings part that asks for four thousand billion strings
    let with_sst = {
        use std::io::Write;
        let bytes = std::fs::read(fixture("paca/declarations.xlsx")).unwrap();
        let mut out = zip::ZipWriter::new_append(std::io::Cursor::new(bytes)).unwrap();
        out.start_file(
            "xl/sharedStrings.xml",
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        out.write_all(br#"<sst uniqueCount="4000000000000"></sst>"#)
            .unwrap();
        out.finish().unwrap().into_inner()
    };
    let e = read_bytes("sst.xlsx", with_sst, "Déclarations")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("sst.xlsx") && e.contains("shared strings"),
        "{e}"
    );

    let spaces = rezip("paca/declarations.ods", "content.xml", |x| {
        x.replacen(
            "<text:p>CPTS Digne-les-Bains</text:p>",
            r#"<text:p>CPTS<text:s text:c="2000000000"/>Digne-les-Bains</text:p>"#,
            1,
        )
    });
    let e = read_bytes("spaces.ods", spaces, "Déclarations")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("spaces.ods") && e.contains("content.xml") && e.contains("2000000000"),
        "{e}"
    );
    let repeated = rezip("paca/declarations.ods", "content.xml", |x| {
        x.replacen(
            "<table:table-row><table:table-cell office:value-type=\"string\"><text:p>CPTS-93-001",
            "<table:table-row table:number-rows-repeated=\"1000000\"><table:table-cell table:number-columns-repeated=\"16000\" office:value-type=\"string\"><text:p>CPTS-93-001",
            1,
        )
    });
    let e = read_bytes("repeated.ods", repeated, "Déclarations")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("repeated.ods") && e.contains("cells to allocate"),
        "{e}"
    );
}

/// The same declarations as an Excel 97-2003 `.xls` (xlwt, BIFF8) give the
/// CSV's coverage; its compound-file container, damaged as transfers and
/// disks damage it (line ends converted, truncated, a FAT that loops, bytes
/// flipped), ends every time with a clean refusal or a sane reading, within
/// seconds: never a hang, an abort or a panic.
#[test]
fn xls_reads_and_damaged_xls_ends_quickly() {
    let clean = Analysis::run(&paca_inputs()).unwrap();
    let bytes = std::fs::read(fixture("paca/declarations.xls")).unwrap();
    let a = read_bytes("d.xls", bytes.clone(), "Déclarations").unwrap();
    assert_eq!(
        (
            a.summary.communes_covered,
            a.summary.communes_white,
            a.summary.communes_overlap
        ),
        (
            clean.summary.communes_covered,
            clean.summary.communes_white,
            clean.summary.communes_overlap
        )
    );
    // a FAT whose directory chain points back at itself
    let u32_at = |b: &[u8], k: usize| u32::from_le_bytes(b[k..k + 4].try_into().unwrap()) as usize;
    let mut looping = bytes.clone();
    let (dir, fat) = (u32_at(&bytes, 48), u32_at(&bytes, 76));
    let at = (fat + 1) * 512 + 4 * dir;
    looping[at..at + 4].copy_from_slice(&(dir as u32).to_le_bytes());
    let e = read_bytes("loop.xls", looping, "Déclarations")
        .unwrap_err()
        .to_string();
    assert!(e.contains("loop.xls") && e.contains("loops back"), "{e}");
    // line ends converted by an ASCII-mode transfer, and a truncated copy
    let mut crlf = Vec::new();
    for &b in &bytes {
        if b == b'\n' {
            crlf.push(b'\r');
        }
        crlf.push(b);
    }
    let dir = Dir::new();
    let mut cases: Vec<(String, Vec<u8>)> = vec![
        ("crlf.xls".into(), crlf),
        ("half.xls".into(), bytes[..bytes.len() / 2].to_vec()),
        ("header.xls".into(), bytes[..600].to_vec()),
    ];
    // and bytes flipped in the header, the FAT and the directory
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    for k in 0..60 {
        let mut m = bytes.clone();
        for _ in 0..1 + k % 4 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let region = [512usize, 2048, bytes.len()][k % 3];
            let at = (x as usize) % region;
            m[at] ^= (x >> 32) as u8 | 1;
        }
        cases.push((format!("flip{k}.xls"), m));
    }
    dir.write(
        "c.geojson.gz",
        std::fs::read(fixture("paca/communes.geojson.gz")).unwrap(),
    );
    for (name, data) in &cases {
        dir.write(name, data);
        let t = std::time::Instant::now();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_maillage"))
            .current_dir(dir.path())
            .args([
                "check",
                "--communes",
                "c.geojson.gz",
                "--cpts",
                name,
                "--sheet",
                "Déclarations",
                "--quiet",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if t.elapsed().as_secs() > 20 {
                child.kill().unwrap();
                panic!("{name}: still running after 20 s");
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        };
        let mut err = String::new();
        std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
        assert!(
            matches!(status.code(), Some(0..=2)),
            "{name}: status {status:?}\n{err}"
        );
        assert!(!err.contains("panicked"), "{name}: {err}");
        if status.code() == Some(2) {
            assert!(err.contains(name.as_str()), "{name}: {err}");
        }
    }
}

/// Headers as ARS files write them are recognised by their words, traps
/// (postal code, legal status) are not taken, and a header two columns could
/// answer is an error naming both.
#[test]
fn headers_are_recognised_by_their_words() {
    let layer = collection(&[
        square("01001", 5.0, 45.0, 0.1),
        square("01002", 5.1, 45.0, 0.1),
    ]);
    let read = |csv: &str| {
        let a = analyse(&layer, csv).unwrap();
        let c = &a.declarations.cpts;
        let how = a
            .summary
            .diagnostics
            .iter()
            .find(|d| d.kind == DiagnosticKind::InputFormat)
            .map(|d| d.message.clone())
            .unwrap_or_default();
        let rows: Vec<(String, String, String, String)> = c
            .iter()
            .map(|c| {
                (
                    c.id.clone(),
                    c.name.clone(),
                    c.claims
                        .iter()
                        .map(|x| x.code.as_str())
                        .collect::<Vec<_>>()
                        .join("+"),
                    c.status.map_or("unknown", |s| s.as_str()).to_owned(),
                )
            })
            .collect();
        (rows, how)
    };
    let row = |id: &str, name: &str, codes: &str, status: &str| {
        (
            id.to_owned(),
            name.to_owned(),
            codes.to_owned(),
            status.to_owned(),
        )
    };
    // French headers with little words, a postal code and a legal status beside
    let (rows, how) = read(
        "N° de la CPTS;Nom de la CPTS;Code postal;Code commune INSEE;Statut juridique;État d'avancement\n\
         C1;CPTS Une;01100;01001;association;ACI signé\n\
         C1;CPTS Une;01100;01002;association;ACI signé\n",
    );
    assert_eq!(
        rows,
        vec![row("C1", "CPTS Une", "01001+01002", "aci_signe")]
    );
    assert!(
        how.contains("colonne \"Code commune INSEE\" lue comme commune_code"),
        "{how}"
    );
    assert!(
        how.contains("colonne \"État d'avancement\" lue comme status"),
        "{how}"
    );
    // a name column only: the name identifies each CPTS, and it is said
    let (rows, how) = read("CPTS,INSEE commune\nCPTS Une,01001\nCPTS Deux,01002\n");
    assert_eq!(
        rows,
        vec![
            row("CPTS Deux", "CPTS Deux", "01002", "unknown"),
            row("CPTS Une", "CPTS Une", "01001", "unknown"),
        ]
    );
    assert!(
        how.contains("pas de colonne d'identifiant de CPTS"),
        "{how}"
    );
    // a column called just "Communes": taken when its values are codes (lists in
    // a cell, a name after the code), refused with its first value otherwise
    let (rows, how) =
        read("CPTS;Communes\nCPTS Une;\"1001 - Ville Une\"\nCPTS Deux;\"01002, 01001\"\n");
    assert_eq!(
        rows,
        vec![
            row("CPTS Deux", "CPTS Deux", "01001+01002", "unknown"),
            row("CPTS Une", "CPTS Une", "01001", "unknown"),
        ]
    );
    assert!(
        how.contains("colonne \"Communes\" lue comme commune_code (ses valeurs sont des codes)"),
        "{how}"
    );
    let e = analyse(&layer, "CPTS;Communes\nCPTS Une;Ville Une\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("holds \"Ville Une\", not an INSEE code"), "{e}");
    // two columns the commune-code rule accepts: an error naming both
    let e = analyse(
        &layer,
        "Identifiant CPTS,Nom CPTS,Code INSEE 2024,Code INSEE 2026\nC1,Une,01001,01001\n",
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("commune_code could be any of the columns")
            && e.contains("Code INSEE 2024")
            && e.contains("Code INSEE 2026")
            && e.contains("--columns"),
        "{e}"
    );
    // population tables: the municipal population among several
    let mut inputs = inputs(&layer, "cpts_id,cpts_name,commune_code\nA,Alpha,01001\n");
    inputs.population = Some(
        Source::from_bytes(
            "pop.csv",
            "Code géographique;Population totale 2023;Population municipale 2023\n\
             01001;1 210;1 200\n01002;505;500\n"
                .as_bytes()
                .to_vec(),
        )
        .unwrap(),
    );
    let a = Analysis::run(&inputs).unwrap();
    assert_eq!(a.communes.population, vec![1200, 500]);
}

/// --columns names what no alias guesses.
#[test]
fn columns_name_what_guessing_misses() {
    let layer = collection(&[square("01001", 5.0, 45.0, 0.1)]);
    let mut inputs = inputs(
        &layer,
        "Structure;Libellé structure;Commune (INSEE 2026)\nA;Alpha;01001\n",
    );
    let e = Analysis::run(&inputs).unwrap_err().to_string();
    assert!(
        e.contains("header must name commune_code and cpts_id or cpts_name"),
        "{e}"
    );
    inputs.tables.columns = vec![
        ("cpts_id".into(), "Structure".into()),
        ("cpts_name".into(), "Libellé structure".into()),
        ("commune_code".into(), "commune (insee 2026)".into()),
    ];
    let a = Analysis::run(&inputs).unwrap();
    assert_eq!(a.verdict("01001"), Some(Verdict::Covered));
    let how = diagnostic(&a, DiagnosticKind::InputFormat);
    assert!(
        how.message
            .contains("colonne \"Structure\" lue comme cpts_id (--columns)"),
        "{}",
        how.message
    );
}
