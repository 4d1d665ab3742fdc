use super::*;
use maillage::propose::exact::check_overlaps;
use maillage::propose::{Proposal, ProposeOptions};

/// Brute force on every small group of interacting chevauchements: the
/// `balanced` proposal, made one commune at a time, against the best
/// assignment of the whole group under the same criteria. Returns the groups
/// checked, how many the greedy solved optimally, and the others.
fn greedy_against_brute_force(inputs: Inputs) -> (usize, usize, Vec<String>) {
    let a = Analysis::run(&inputs).unwrap();
    let p = Proposal::compute(&a, &ProposeOptions::default()).unwrap();
    let (mut groups, mut optimal, mut tried) = (0, 0, 0u64);
    let mut report = Vec::new();
    for g in check_overlaps(&a, &p, 10) {
        groups += 1;
        tried += g.tried;
        if g.optimal() {
            optimal += 1;
        } else {
            let codes: Vec<&str> = g
                .communes
                .iter()
                .map(|&i| a.communes.get(i).code.as_str())
                .collect();
            report.push(format!(
                "{codes:?}: proposed {:?}, best {:?}",
                g.proposed, g.best
            ));
        }
    }
    eprintln!(
        "{optimal}/{groups} groups optimal, {tried} assignments tried\n{}",
        report.join("\n")
    );
    (groups, optimal, report)
}

#[test]
fn balanced_reaches_the_exact_optimum_on_the_demo_overlap_groups() {
    let (groups, optimal, report) = greedy_against_brute_force(paca_inputs());
    // the demo's 8 overlapped communes form two groups, both solved
    assert!(groups >= 2, "{groups}");
    assert_eq!(optimal, groups, "{}", report.join("\n"));
}

#[test]
#[ignore = "national tier: reads ../shared/data (bash tests/run.sh --national)"]
fn national_balanced_reaches_the_exact_optimum_on_small_overlap_groups() {
    // the national declarations: 195 chevauchements in many small groups
    let (groups, optimal, report) = greedy_against_brute_force(
        Inputs::from_paths(
            &national_layer(),
            &[&fixture("national/declarations.csv.gz")],
            Some(&fixture("national/population.csv.gz")),
            maillage::FieldNames::default(),
        )
        .unwrap(),
    );
    // measured when written: 56 of 60 groups optimal with the demo's (the 4
    // others: one ACI class change avoidable in Seine-et-Marne/Seine-Saint-Denis,
    // fewer EPCI mates in two Île-de-France groups, 2.4 km less border in
    // Hérault); the greedy must not get worse than that
    assert!(groups >= 50, "{groups}");
    assert!(
        optimal * 100 >= groups * 90,
        "{optimal}/{groups}\n{}",
        report.join("\n")
    );
}
