//! PACA against the independent oracle (`fixtures/oracle_paca.py`: shapely and pyproj), never maillage's own code.

use super::*;

#[test]
fn paca_counts_and_populations_match_the_oracle_exactly() {
    let a = Analysis::run(&paca_inputs()).unwrap();
    let (s, e) = (&a.summary, paca_expected());
    for key in [
        "communes_total",
        "communes_covered",
        "communes_white",
        "communes_overlap",
        "population_total",
        "population_covered",
        "population_white",
        "population_overlap",
    ] {
        let ours = serde_json::to_value(s).unwrap()[key].as_u64().unwrap();
        assert_eq!(ours, e[key].as_u64().unwrap(), "{key}");
    }
    assert_eq!(s.cpts_count as usize, e["cpts"].as_object().unwrap().len());
}

#[test]
fn paca_areas_match_geographiclib() {
    let a = Analysis::run(&paca_inputs()).unwrap();
    let e = paca_expected();
    // geodesic polygon areas from pyproj: each commune within 5e-5, and the total
    // within 1e-8 (the edge-shape difference cancels between neighbours sharing it)
    assert!(close(
        a.summary.area_km2_total,
        e["area_km2_total"].as_f64().unwrap(),
        1e-8
    ));
    assert!(close(
        a.summary.area_km2_white,
        e["area_km2_white"].as_f64().unwrap(),
        5e-5
    ));
    assert!(close(
        a.summary.area_km2_overlap,
        e["area_km2_overlap"].as_f64().unwrap(),
        5e-5
    ));
    let mut worst: f64 = 0.0;
    for (i, c) in a.communes.layer.communes.iter().enumerate() {
        let exp = e["communes_area_km2"][&c.code].as_f64().unwrap();
        assert!(
            close(a.communes.area_km2[i], exp, 5e-5),
            "{}: {} vs {exp}",
            c.code,
            a.communes.area_km2[i]
        );
        // and geo's own geodesic area (geographiclib in Rust) agrees too
        let geo_km2 = c.geometry.geodesic_area_unsigned() / 1e6;
        assert!(close(a.communes.area_km2[i], geo_km2, 5e-5), "{}", c.code);
        // the overlay's geodesic-edge measure (each edge's bow on the equal-area
        // plane) agrees with geographiclib a thousand times more closely
        let fast = maillage::geometry::geodesic_multi_polygon_km2(&c.geometry);
        assert!(
            close(fast, geo_km2, 5e-9),
            "{}: {fast} vs {geo_km2}",
            c.code
        );
        worst = worst.max((fast - geo_km2).abs() / geo_km2);
    }
    eprintln!("geodesic-edge area: worst relative difference with geographiclib {worst:e}");
}

#[test]
fn paca_adjacency_white_zones_and_territories_match_the_oracle() {
    let a = Analysis::run(&paca_inputs()).unwrap();
    let e = paca_expected();
    assert_eq!(
        a.adjacency.pair_count() as u64,
        e["adjacent_pairs"].as_u64().unwrap()
    );

    let clusters: Vec<Vec<String>> = a
        .coverage
        .white_zones
        .iter()
        .map(|z| {
            z.members
                .iter()
                .map(|&i| a.communes.get(i).code.clone())
                .collect()
        })
        .collect();
    let expected: Vec<Vec<String>> = e["white_zone_clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|z| serde_json::from_value(z["codes"].clone()).unwrap())
        .collect();
    assert_eq!(clusters, expected);
    assert_eq!(a.summary.white_zone_clusters as usize, expected.len());

    for (c, t) in a.declarations.cpts.iter().zip(&a.coverage.territories) {
        let x = &e["cpts"][&c.id];
        assert_eq!(
            t.members.len() as u64,
            x["communes"].as_u64().unwrap(),
            "{}",
            c.id
        );
        assert_eq!(t.population, x["population"].as_u64().unwrap(), "{}", c.id);
        assert_eq!(
            t.size_class as u64,
            x["size_class"].as_u64().unwrap(),
            "{}",
            c.id
        );
        assert_eq!(
            t.parts.len() as u64,
            x["parts"].as_u64().unwrap(),
            "{}",
            c.id
        );
        let deps: Vec<String> = serde_json::from_value(x["departements"].clone()).unwrap();
        assert_eq!(t.departements, deps, "{}", c.id);
        assert!(
            close(t.area_km2, x["area_km2"].as_f64().unwrap(), 5e-5),
            "{}",
            c.id
        );
    }
    for (code, ids) in e["overlaps"].as_object().unwrap() {
        let i = a.communes.index_of(code).unwrap();
        let ours: Vec<&str> = a.coverage.claimants[i as usize]
            .iter()
            .map(|&k| a.declarations.cpts[k as usize].id.as_str())
            .collect();
        let ids: Vec<&str> = ids
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(ours, ids, "{code}");
        assert_eq!(a.verdict(code), Some(Verdict::Overlap));
    }
}

#[test]
fn paca_tables_add_up_to_the_national_summary() {
    let a = Analysis::run(&paca_inputs()).unwrap();
    let stats = a.stats().unwrap();
    let sum = |df: &polars::prelude::DataFrame, col: &str| -> u64 {
        df.column(col)
            .unwrap()
            .as_materialized_series()
            .u64()
            .unwrap()
            .into_no_null_iter()
            .sum()
    };
    for col in [
        "communes_total",
        "communes_white",
        "population_white",
        "population_overlap",
        "cpts",
        "cpts_class_3",
    ] {
        let national = sum(&stats.national, col);
        assert_eq!(
            sum(&stats.departements, col),
            national,
            "{col} over départements"
        );
        assert_eq!(sum(&stats.regions, col), national, "{col} over régions");
    }
    assert_eq!(stats.departements.height(), 6, "PACA has six départements");
    assert_eq!(stats.communes.height(), 947);
    assert_eq!(stats.cpts.height() as u64, a.summary.cpts_count);
}
