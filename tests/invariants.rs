//! Invariants on random declarations over the real PACA layer.

use super::*;

use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 12,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]
    /// The partitions and the independence from row order, as properties: a
    /// failure shrinks to a smaller set of claims.
    #[test]
    fn invariants_hold_for_random_declarations_on_paca(
        claims in prop::collection::vec((0u8..10, 0u8..9, 0u8..9), 947),
        keys in prop::collection::vec(any::<u32>(), 2 * 947),
    ) {
        check(&claims, &keys);
    }
}

fn check(claims: &[(u8, u8, u8)], keys: &[u32]) {
    let label = "these claims";
    let base = paca_inputs();
    let codes: Vec<String> = paca_expected()["communes_area_km2"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    {
        let csv = claimed(&codes, claims);
        let mut inputs = base.clone();
        inputs.cpts = vec![Source::from_bytes("random.csv", csv.clone().into_bytes()).unwrap()];
        let a = Analysis::run(&inputs).unwrap();
        let s = &a.summary;
        // verdicts partition the communes, their population and their area
        assert_eq!(
            s.communes_covered + s.communes_white + s.communes_overlap,
            s.communes_total,
            "{label}"
        );
        assert_eq!(
            s.population_covered + s.population_white + s.population_overlap,
            s.population_total
        );
        // each figure is rounded to 1e-6 km² on its own: the parts add up within 1.5e-6
        let parts = s.area_km2_covered + s.area_km2_white + s.area_km2_overlap;
        assert!((parts - s.area_km2_total).abs() <= 1.5e-6, "{label}");
        for (i, claim) in a.coverage.claimants.iter().enumerate() {
            let expected = [Verdict::White, Verdict::Covered][..]
                .get(claim.len())
                .copied()
                .unwrap_or(Verdict::Overlap);
            assert_eq!(a.coverage.verdicts[i], expected);
        }
        // zones blanches partition the white communes; each is connected, no two touch
        let mut zone_of = vec![usize::MAX; a.communes.len()];
        for (z, zone) in a.coverage.white_zones.iter().enumerate() {
            assert_eq!(
                a.adjacency.components(&zone.members).len(),
                1,
                "{label}: zone {} split",
                zone.id
            );
            for &i in &zone.members {
                assert_eq!(zone_of[i as usize], usize::MAX, "commune in two zones");
                zone_of[i as usize] = z;
            }
        }
        for i in 0..a.communes.len() as u32 {
            let white = a.coverage.verdicts[i as usize] == Verdict::White;
            assert_eq!(white, zone_of[i as usize] != usize::MAX);
            for &nb in a.adjacency.neighbours(i) {
                if white && a.coverage.verdicts[nb as usize] == Verdict::White {
                    assert_eq!(
                        zone_of[i as usize], zone_of[nb as usize],
                        "adjacent white communes in two zones"
                    );
                }
            }
        }
        // a territory's parts partition its communes and no two parts touch
        for t in &a.coverage.territories {
            let mut all: Vec<u32> = t.parts.concat();
            all.sort_unstable();
            assert_eq!(all, t.members);
            for (p, part) in t.parts.iter().enumerate() {
                for other in &t.parts[p + 1..] {
                    assert!(part.iter().all(|&i| other.iter().all(|&j| a
                        .adjacency
                        .neighbours(i)
                        .binary_search(&j)
                        .is_err())));
                }
            }
        }
        // shuffled rows give the same summary and tables
        // shuffled as the keys say (a row's key: its position's)
        let mut rows: Vec<(u32, &str)> = csv
            .lines()
            .skip(1)
            .enumerate()
            .map(|(k, r)| (keys[k], r))
            .collect();
        rows.sort_by_key(|&(key, _)| key);
        let rows: Vec<&str> = rows.into_iter().map(|(_, r)| r).collect();
        let mut shuffled = base.clone();
        shuffled.cpts = vec![Source::from_bytes(
            "random.csv",
            format!(
                "cpts_id,cpts_name,commune_code,status\n{}\n",
                rows.join("\n")
            )
            .into_bytes(),
        )
        .unwrap()];
        let b = Analysis::run(&shuffled).unwrap();
        // identical but for the line numbers diagnostics cite: those follow the rows
        let without_lines = |s: &maillage::Summary| {
            let mut s = s.clone();
            for d in &mut s.diagnostics {
                d.lines.clear();
                d.message.clear();
                d.message_fr.clear();
                d.message_en.clear();
            }
            s
        };
        assert!(
            a.summary
                .diagnostics
                .iter()
                .any(|d| d.kind == DiagnosticKind::DuplicateRow),
            "{label}"
        );
        assert_eq!(
            without_lines(&a.summary),
            without_lines(&b.summary),
            "{label}"
        );
        let (sa, sb) = (a.stats().unwrap(), b.stats().unwrap());
        assert!(
            sa.cpts.equals_missing(&sb.cpts) && sa.departements.equals_missing(&sb.departements)
        );
    }
}
