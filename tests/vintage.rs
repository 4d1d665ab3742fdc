//! Codes from another year (issue 4): the 2018 layer against declarations, population
//! and arrondissements of COG 2026.

use super::*;
use maillage::reference::cog;

fn kinds(a: &Analysis) -> Vec<(DiagnosticKind, String)> {
    a.summary
        .diagnostics
        .iter()
        .map(|d| (d.kind, d.message.clone()))
        .collect()
}

fn claimants(a: &Analysis, code: &str) -> Vec<String> {
    let i = a.communes.index_of(code).unwrap() as usize;
    let mut ids: Vec<String> = a.coverage.claimants[i]
        .iter()
        .map(|&k| a.declarations.cpts[k as usize].id.clone())
        .collect();
    ids.sort();
    ids
}

/// The national declarations rewritten in COG 2026 codes (every former commune
/// replaced by the current commune that absorbed it): over the 2018 layer, each
/// former commune must end up with exactly the claimants of its commune nouvelle.
#[test]
#[ignore = "national tier: reads ../shared/data (bash tests/run.sh --national)"]
fn national_declarations_in_2026_codes_cover_the_former_communes_of_a_2018_layer() {
    let text = {
        let src = Source::from_path(fixture("national/declarations.csv.gz")).unwrap();
        String::from_utf8(src.bytes).unwrap()
    };
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let mut mapped = 0;
    let rows: Vec<String> = lines
        .map(|l| {
            let mut f: Vec<String> = l.split(',').map(str::to_owned).collect();
            if let Some(s) = cog().successor(&f[2]) {
                f[2] = s.to_owned();
                mapped += 1;
            }
            f.join(",")
        })
        .collect();
    assert!(
        mapped > 300,
        "the national set names {mapped} former communes"
    );
    let csv = format!("{header}\n{}\n", rows.join("\n"));
    let inputs = Inputs::from_paths(
        &national_layer(),
        &[&fixture("national/declarations.csv.gz")],
        None,
        maillage::FieldNames::default(),
    )
    .unwrap();
    let mut inputs = inputs;
    inputs.cpts = vec![Source::from_bytes("decl2026.csv", csv.into_bytes()).unwrap()];
    let a = Analysis::run(&inputs).unwrap();
    let mut checked = 0;
    for c in &a.communes.layer.communes {
        let Some(s) = cog().successor(&c.code) else {
            continue;
        };
        if a.communes.index_of(s).is_none() {
            continue;
        }
        assert_eq!(
            claimants(&a, &c.code),
            claimants(&a, s),
            "{} (absorbed by {s})",
            c.code
        );
        checked += 1;
    }
    assert!(checked > 300, "{checked} former communes checked");
    let d = kinds(&a);
    let expanded = diagnostic(&a, DiagnosticKind::ExpandedCode);
    assert!(
        expanded.codes.contains(&"05001".to_owned()),
        "Abriès-Ristolas stands for Abriès and Ristolas: {}",
        expanded.message
    );
    assert!(d.iter().any(|(k, m)| *k == DiagnosticKind::Vintage
        && m.contains("decl2026.csv : codes lus comme COG 2026")));
    // the 85 codes gone without a delegated commune are named
    let gone = diagnostic(&a, DiagnosticKind::ObsoleteLayerCode);
    assert_eq!(gone.codes.len(), 85);
    // population from the bundled COG 2026 when none is given: every current commune
    // of the layer carries its 2026 population
    assert!(a.summary.inputs["population"].contains("COG 2026 (embarqué)"));
    let expected: u64 = a
        .communes
        .layer
        .communes
        .iter()
        .filter_map(|c| cog().current(&c.code).and_then(|e| e.population))
        .sum();
    assert_eq!(a.summary.population_total, expected);
    assert!(expected > 68_000_000, "{expected}");
}

/// The same declarations in the layer's own (2018) codes are not expanded: a file
/// naming former communes was written on the old map.
#[test]
fn declarations_in_the_layers_codes_are_left_alone() {
    let a = Analysis::run(&paca_inputs()).unwrap();
    let d = kinds(&a);
    assert!(
        !d.iter().any(|(k, _)| *k == DiagnosticKind::ExpandedCode),
        "{d:#?}"
    );
    assert!(d.iter().any(|(k, m)| *k == DiagnosticKind::Vintage
        && m.contains("le millésime de la couche (ils nomment d'anciennes communes qu'elle a)")));
    assert_eq!(a.communes.len(), 947);
}

/// Declarations older than the layer: a former commune's code reads as the commune
/// that absorbed it (hand-made layer in 2026 codes).
#[test]
fn a_former_communes_code_reads_as_its_commune_nouvelle() {
    let layer = collection(&[
        square("05001", 6.9, 44.8, 0.1),
        square("05002", 7.0, 44.8, 0.1),
    ]);
    let a = analyse(
        &layer,
        "cpts_id,cpts_name,commune_code\nA,Alpha,05120\nB,Beta,05002\n",
    )
    .unwrap();
    assert_eq!(a.verdict("05001"), Some(Verdict::Covered));
    let merged = diagnostic(&a, DiagnosticKind::MergedCode);
    assert!(
        merged.message.contains("05120 → 05001 (ligne 2)"),
        "{}",
        merged.message
    );
    assert_eq!(merged.lines, vec![2]);
}

/// Arrondissements without geometry beside drawn territories: their list claims
/// still decide their verdicts, and no area prints as "-0".
#[test]
fn arrondissements_without_geometry_beside_drawn_territories() {
    let lists = std::fs::read_to_string(fixture("paca/drawn-lists.csv")).unwrap();
    let mut text: String = lists
        .lines()
        .filter(|l| !l.contains(",13055,"))
        .map(|l| format!("{l}\n"))
        .collect();
    for a in 13201..=13216 {
        let id = if a % 2 == 0 { "M-EVEN" } else { "M-ODD" };
        text.push_str(&format!("{id},CPTS {id},{a},valide\n"));
    }
    let mut inputs = paca_inputs();
    inputs.cpts = vec![
        Source::from_path(fixture("paca/drawn.geojson")).unwrap(),
        Source::from_bytes("lists.csv", text.into_bytes()).unwrap(),
    ];
    let a = Analysis::run(&inputs).unwrap();
    for code in 13201..=13216 {
        let code = code.to_string();
        assert_eq!(a.verdict(&code), Some(Verdict::Covered), "{code}");
        assert_eq!(claimants(&a, &code).len(), 1, "{code}");
    }
    let dir = Dir::new();
    maillage::export::write(&a, dir.path(), maillage::TableFormat::Csv).unwrap();
    let communes = dir.read("communes.csv");
    let row = communes.lines().find(|l| l.starts_with("13201,")).unwrap();
    assert!(
        row.ends_with(",covered,M-ODD,1.000000,0.000000,0.000000"),
        "{row}"
    );
    assert!(
        !communes.contains(",-0.000000,"),
        "negative zero in communes.csv"
    );
}

/// A population table older than the layer: a former commune's row adds to the
/// commune that absorbed it.
#[test]
fn an_older_population_tables_former_communes_add_to_their_commune_nouvelle() {
    let layer = collection(&[
        square("05001", 6.9, 44.8, 0.1),
        square("05002", 7.0, 44.8, 0.1),
    ]);
    let mut inputs = inputs(&layer, "cpts_id,cpts_name,commune_code\nA,Alpha,05001\n");
    inputs.population = Some(
        Source::from_bytes(
            "pop2015.csv",
            b"code,population\n05001,300\n05120,50\n05002,20\n99999,7\n".to_vec(),
        )
        .unwrap(),
    );
    let a = Analysis::run(&inputs).unwrap();
    let i = a.communes.index_of("05001").unwrap() as usize;
    assert_eq!(a.communes.population[i], 350);
    assert_eq!(a.summary.population_total, 370);
    let d = kinds(&a);
    assert!(
        d.iter()
            .any(|(k, m)| *k == DiagnosticKind::MergedCode && m.contains("05120 → 05001")),
        "{d:#?}"
    );
    assert!(d
        .iter()
        .any(|(k, m)| *k == DiagnosticKind::UnusedPopulation && m.contains("99999")));
}

/// Paris, Lyon, Marseille: CPTS declared on arrondissements municipaux over a layer
/// that has only the whole city.
#[test]
fn marseille_by_arrondissement_over_a_whole_city_layer() {
    let clean = std::fs::read_to_string(fixture("paca/declarations.csv")).unwrap();
    let mut text: String = clean
        .lines()
        .filter(|l| !l.contains(",13055,"))
        .map(|l| format!("{l}\n"))
        .collect();
    for a in 13201..=13216 {
        let id = if a <= 13208 { "M-NORD" } else { "M-SUD" };
        text.push_str(&format!("{id},CPTS Marseille {id},{a},aci_signe\n"));
    }
    let mut inputs = paca_inputs();
    inputs.cpts = vec![Source::from_bytes("arr.csv", text.clone().into_bytes()).unwrap()];
    let a = Analysis::run(&inputs).unwrap();
    assert!(a.communes.index_of("13055").is_none());
    assert_eq!(a.communes.len(), 947 - 1 + 16);
    for code in 13201..=13216 {
        let code = code.to_string();
        assert_eq!(a.verdict(&code), Some(Verdict::Covered), "{code}");
    }
    // populations at arrondissement level, from COG 2026 (the table has only 13055)
    let i = a.communes.index_of("13201").unwrap() as usize;
    assert_eq!(
        a.communes.population[i],
        cog().current("13201").unwrap().population.unwrap()
    );
    let sum: u64 = (13201..=13216)
        .map(|c| a.communes.population[a.communes.index_of(&c.to_string()).unwrap() as usize])
        .sum();
    assert_eq!(sum, cog().current("13055").unwrap().population.unwrap());
    let flag = diagnostic(&a, DiagnosticKind::Arrondissements);
    assert!(flag.message.contains("SANS GÉOMÉTRIE"), "{}", flag.message);
    assert_eq!(flag.codes.len(), 16);
    // adjacency goes through the city's polygon: eight arrondissements without
    // geometry are one part, not eight, and are not reported non-contiguous
    let parts = |a: &Analysis, id: &str| {
        let i = a.declarations.cpts.iter().position(|c| c.id == id).unwrap();
        a.coverage.territories[i].parts.len()
    };
    assert_eq!(parts(&a, "M-NORD"), 1);
    assert_eq!(parts(&a, "M-SUD"), 1);
    assert!(!a
        .summary
        .diagnostics
        .iter()
        .any(|d| d.kind == DiagnosticKind::NonContiguous
            && d.cpts_id.as_deref().is_some_and(|c| c.starts_with("M-"))));
    // an arrondissement neighbours the city's neighbours (Allauch), not Digne
    let city = a.communes.index_of("13201").unwrap();
    let allauch = a.communes.index_of("13002").unwrap();
    let digne = a.communes.index_of("04070").unwrap();
    assert!(a.adjacency.neighbours(city).contains(&allauch));
    assert!(!a.adjacency.neighbours(city).contains(&digne));

    // a third CPTS claiming the whole city overlaps both, arrondissement by arrondissement
    text.push_str("M-ALL,CPTS Marseille entière,13055,projet\n");
    inputs.cpts = vec![Source::from_bytes("arr.csv", text.into_bytes()).unwrap()];
    let b = Analysis::run(&inputs).unwrap();
    for code in 13201..=13216 {
        assert_eq!(b.verdict(&code.to_string()), Some(Verdict::Overlap));
    }
    assert_eq!(b.summary.communes_overlap, a.summary.communes_overlap + 16);
    // and every output is written, the arrondissements without geometry included
    let dir = Dir::new();
    maillage::export::write(&b, dir.path(), maillage::TableFormat::Csv).unwrap();
    let communes = dir.read("communes.csv");
    assert!(
        communes.lines().any(|l| l.starts_with("13201,")),
        "{}",
        &communes[..200]
    );
}
