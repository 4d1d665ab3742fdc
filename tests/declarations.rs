//! Declarations as ARS files write them: oddities reported, never counted twice; population tables.

use super::*;

#[test]
fn declaration_oddities_are_reported_and_never_counted_twice() {
    let layer = collection(&[
        square("01001", 5.0, 45.0, 0.1),
        square("01002", 5.1, 45.0, 0.1),
    ]);
    let csv = "cpts_id,cpts_name,commune_code,status\n\
               A,Alpha,01001,aci_signe\n\
               A,Alpha,01001,aci_signe\n\
               A,Alfa,01002,valide\n\
               A,Alpha,99999,aci_signe\n\
               B,Beta,,projet\n\
               C,Gamma,88888,en attente\n\
               ,Nobody,01002,projet\n\n";
    let a = analyse(&layer, csv).unwrap();
    let kinds: Vec<DiagnosticKind> = a.summary.diagnostics.iter().map(|d| d.kind).collect();
    for k in [
        DiagnosticKind::DuplicateRow,
        DiagnosticKind::ConflictingName,
        DiagnosticKind::ConflictingStatus,
        DiagnosticKind::UnknownCode,
        DiagnosticKind::EmptyCpts,
        DiagnosticKind::UnknownStatus,
        DiagnosticKind::MissingCptsId,
        DiagnosticKind::MissingCode,
    ] {
        assert!(kinds.contains(&k), "{k:?} missing from {kinds:?}");
    }
    let no_code = diagnostic(&a, DiagnosticKind::MissingCode);
    assert_eq!(no_code.lines, vec![6], "B's row has no commune code");
    // the duplicate counts once: 01001 is covered, not overlapped
    assert_eq!(a.verdict("01001"), Some(Verdict::Covered));
    assert_eq!(
        a.verdict("01002"),
        Some(Verdict::Covered),
        "the row without id is ignored"
    );
    // the most frequent name and status win
    let alpha = &a.declarations.cpts[0];
    assert_eq!(
        (alpha.name.as_str(), alpha.status),
        ("Alpha", Some(maillage::Status::AciSigne))
    );
    let unknown = a
        .summary
        .diagnostics
        .iter()
        .find(|d| d.kind == DiagnosticKind::UnknownCode && d.cpts_id.as_deref() == Some("A"))
        .unwrap();
    assert_eq!(unknown.codes, vec!["99999"]);
    assert_eq!(
        unknown.lines,
        vec![5],
        "line numbers count the header as line 1"
    );
    let status = diagnostic(&a, DiagnosticKind::UnknownStatus);
    assert!(
        status.message.contains("\"en attente\"") && status.lines == vec![7],
        "{}",
        status.message
    );
    // A: aci_signe (3 rows to 1), B: projet, C: unknown ("en attente" is no status)
    assert_eq!(a.summary.cpts_by_status["unknown"], 1);
    assert_eq!(a.summary.cpts_by_status["aci_signe"], 1);
    assert!(
        !kinds.contains(&DiagnosticKind::PopulationSource),
        "the layer has a population property"
    );
}

#[test]
fn population_table_overrides_the_layer_and_reports_gaps() {
    let layer = collection(&[
        square("01001", 5.0, 45.0, 0.1),
        square("01002", 5.1, 45.0, 0.1),
    ]);
    let mut inputs = inputs(&layer, "cpts_id,cpts_name,commune_code\nA,Alpha,01001\n");
    let a = Analysis::run(&inputs).unwrap();
    assert_eq!(
        a.summary.population_total, 2000,
        "from the layer's population property"
    );
    inputs.population = Some(
        Source::from_bytes(
            "pop.csv",
            b"code,population\n01001,50000\n75056,2100000\n".to_vec(),
        )
        .unwrap(),
    );
    let b = Analysis::run(&inputs).unwrap();
    // 01002 is missing from the table: its COG 2026 population (270) fills the gap
    assert_eq!(b.summary.population_total, 50000 + 270);
    assert_eq!(b.coverage.territories[0].size_class, 2);
    let kinds: Vec<_> = b.summary.diagnostics.iter().map(|d| d.kind).collect();
    assert!(
        kinds.contains(&DiagnosticKind::PopulationSource)
            && kinds.contains(&DiagnosticKind::UnusedPopulation),
        "{kinds:?}"
    );
    assert!(b.summary.inputs["population"].contains("COG 2026"));
}

#[test]
fn lines_are_counted_in_the_file_blank_lines_included() {
    // the csv crate numbers records as if blank lines were not there: every line
    // named in a diagnostic is the file's own line, as an editor shows it
    let layer = collection(&[square("01001", 5.0, 45.0, 0.1)]);
    let csv = "cpts_id,cpts_name,commune_code\n\n\nA,Alpha,01001\n\r\nB,Beta,\n\nA,Alpha,01001\n";
    let a = analyse(&layer, csv).unwrap();
    assert_eq!(diagnostic(&a, DiagnosticKind::MissingCode).lines, vec![6]);
    assert_eq!(diagnostic(&a, DiagnosticKind::DuplicateRow).lines, vec![8]);
}
