//! Criterion benches of each pipeline stage on real data:
//! the PACA fixture (947 communes) and, when `../shared/data` is beside the repo,
//! all of France (35,357 communes) with the national declarations of `fixtures/`.
//!
//!     cargo bench --bench stages                # every stage, both sizes
//!     cargo bench --bench stages -- index       # one stage
//!     cargo bench --bench stages -- overlay     # drawn territories
//!
//! Each group is named for its stage and each benchmark for the data size
//! (`BenchmarkId::new(stage, n_communes)`), so scaling reads straight off the report.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use maillage::coverage::Coverage;
use maillage::export;
use maillage::geometry::{Adjacency, SpatialIndex};
use maillage::load::{load_communes, load_declarations, load_population, Communes, Source};
use maillage::outlines::Outlines;
use maillage::stats::{Stats, Tallies};
use maillage::{Analysis, FieldNames, Inputs, TableFormat};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The data sets benched: PACA always, France when the shared data is present.
fn datasets() -> Vec<(&'static str, Inputs)> {
    let f = |rel: &str| root().join("fixtures").join(rel);
    let mut out = vec![("paca", Inputs::demo())];
    let national: PathBuf = root().join("../shared/data/communes-france-2018.geojson.gz");
    if national.exists() {
        let inputs = Inputs::from_paths(
            &national,
            &[&f("national/declarations.csv.gz")],
            Some(&f("national/population.csv.gz")),
            FieldNames::default(),
        )
        .expect("national inputs");
        out.push(("france", inputs));
    } else {
        eprintln!("note: {} not found, benching PACA only", national.display());
    }
    out
}

fn stages(c: &mut Criterion) {
    for (name, inputs) in datasets() {
        let analysis = Analysis::run(&inputs).expect("analysis");
        let n = analysis.communes.len();
        let id = |stage: &str| BenchmarkId::new(stage, format!("{name}-{n}"));

        let mut g = c.benchmark_group("load");
        g.bench_function(id("gunzip"), |b| {
            let raw = std::fs::read(root().join("fixtures/paca/communes.geojson.gz")).unwrap();
            let raw = if name == "paca" {
                raw
            } else {
                std::fs::read(root().join("../shared/data/communes-france-2018.geojson.gz"))
                    .unwrap()
            };
            b.iter(|| Source::from_bytes("x", black_box(raw.clone())).unwrap())
        });
        g.bench_function(id("parse_communes"), |b| {
            b.iter(|| load_communes(black_box(&inputs.communes), &FieldNames::default()).unwrap())
        });
        g.bench_function(id("declarations+population"), |b| {
            b.iter(|| {
                let d = load_declarations(black_box(&inputs.cpts[0])).unwrap();
                let p = inputs
                    .population
                    .as_ref()
                    .map(|p| load_population(p).unwrap());
                (d, p)
            })
        });
        let layer = load_communes(&inputs.communes, &FieldNames::default()).unwrap();
        g.bench_function(id("join+areas"), |b| {
            b.iter(|| Communes::new(black_box(layer.clone()), None))
        });
        g.finish();

        let communes = &analysis.communes;
        let geoms = communes.geometries();
        let mut g = c.benchmark_group("index");
        g.bench_function(id("rtree_bulk_load"), |b| {
            b.iter(|| SpatialIndex::build(black_box(&geoms)))
        });
        let index = SpatialIndex::build(&geoms);
        g.bench_function(id("candidate_pairs"), |b| {
            b.iter(|| index.candidate_pairs())
        });
        g.bench_function(id("adjacency"), |b| {
            b.iter(|| Adjacency::build(black_box(&geoms), &index))
        });
        g.finish();

        let mut g = c.benchmark_group("coverage");
        g.bench_function(id("verdicts+territories+zones"), |b| {
            b.iter(|| {
                Coverage::compute(communes, &analysis.declarations, &analysis.adjacency, 0.01)
            })
        });
        g.bench_function(id("dissolve"), |b| {
            b.iter(|| Outlines::compute(communes, &analysis.declarations, &analysis.coverage))
        });
        g.finish();

        let mut g = c.benchmark_group("stats");
        g.bench_function(id("tallies+tables"), |b| {
            b.iter(|| {
                let t = Tallies::compute(communes, &analysis.declarations, &analysis.coverage);
                Stats::compute(communes, &analysis.declarations, &analysis.coverage, &t).unwrap()
            })
        });
        g.finish();

        let mut g = c.benchmark_group("export");
        let dir = tempfile::tempdir().unwrap();
        // a fresh clone each time: the outlines are dissolved once per analysis
        g.bench_function(id("dissolve+write_all"), |b| {
            b.iter_batched(
                || analysis.clone(),
                |a| export::write(&a, dir.path(), TableFormat::Csv).unwrap(),
                criterion::BatchSize::LargeInput,
            )
        });
        g.finish();

        let mut g = c.benchmark_group("end_to_end");
        g.bench_function(id("run+write"), |b| {
            b.iter(|| {
                let a = Analysis::run(&inputs).unwrap();
                export::write(&a, dir.path(), TableFormat::Csv).unwrap()
            })
        });
        g.finish();
    }
}

/// The overlay of drawn territories: PACA (19 drawn + 19 lists) and, with
/// ../shared/data, France (609 drawn CPTS).
fn overlay(c: &mut Criterion) {
    let f = |rel: &str| root().join("fixtures").join(rel);
    let mut sets = vec![(
        "paca",
        Inputs::from_paths(
            &f("paca/communes.geojson.gz"),
            &[&f("paca/drawn.geojson"), &f("paca/drawn-lists.csv")],
            Some(&f("paca/population.csv")),
            FieldNames::default(),
        )
        .expect("PACA drawn inputs"),
    )];
    let national = root().join("../shared/data/communes-france-2018.geojson.gz");
    if national.exists() {
        sets.push((
            "france",
            Inputs::from_paths(
                &national,
                &[&f("national/drawn.geojson.gz")],
                Some(&f("national/population.csv.gz")),
                FieldNames::default(),
            )
            .expect("national drawn inputs"),
        ));
    }
    let mut g = c.benchmark_group("overlay");
    g.sample_size(10);
    for (name, inputs) in sets {
        let a = Analysis::run(&inputs).expect("analysis");
        let n = a.communes.len();
        g.bench_function(
            BenchmarkId::new("drawn_coverage", format!("{name}-{n}")),
            |b| b.iter(|| Coverage::compute(&a.communes, &a.declarations, &a.adjacency, 0.01)),
        );
    }
    g.finish();
}

/// Reading one commune layer (Hautes-Alpes, 163 communes) in each format IGN ships,
/// reprojection from Lambert-93 included, against the WGS84 GeoJSON of the same
/// communes: what a Shapefile or GeoPackage costs compared with GeoJSON.
fn layer_formats(c: &mut Criterion) {
    let f = |rel: &str| root().join("fixtures").join(rel);
    let paca = Source::from_path(f("paca/communes.geojson.gz")).expect("PACA layer");
    let layer = load_communes(&paca, &FieldNames::default()).expect("PACA layer");
    // the same 163 communes, as WGS84 GeoJSON text (built here, not a fixture)
    let hautes_alpes: Vec<String> = {
        let text = String::from_utf8(paca.bytes.clone()).expect("UTF-8");
        let v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        v["features"]
            .as_array()
            .expect("features")
            .iter()
            .filter(|ft| {
                ft["properties"]["code"]
                    .as_str()
                    .is_some_and(|c| c.starts_with("05"))
            })
            .map(|ft| ft.to_string())
            .collect()
    };
    assert_eq!(hautes_alpes.len(), 163, "{}", layer.communes.len());
    let wgs84 = Source::from_bytes(
        "05.geojson",
        format!(
            r#"{{"type":"FeatureCollection","features":[{}]}}"#,
            hautes_alpes.join(",")
        )
        .into_bytes(),
    )
    .expect("GeoJSON");
    let mut g = c.benchmark_group("layer_formats");
    for (name, source) in [
        ("geojson_wgs84", wgs84),
        (
            "geojson_l93",
            Source::from_path(f("adminexpress/l93-05.geojson.gz")).expect("fixture"),
        ),
        (
            "shapefile_zip_l93",
            Source::from_path(f("adminexpress/ae3-05-l93.zip")).expect("fixture"),
        ),
        (
            "geopackage_l93",
            Source::from_path(f("adminexpress/ae4-05-l93.gpkg")).expect("fixture"),
        ),
    ] {
        g.bench_function(BenchmarkId::new("load_communes", name), |b| {
            b.iter(|| load_communes(black_box(&source), &FieldNames::default()).expect("layer"))
        });
    }
    g.finish();
}

/// A synthetic road grid of `side` × `side` nodes 100 m apart (a town's
/// density), two-way, residential (25 km/h) but every tenth line primary (65):
/// to measure how routing grows towards a national network.
fn grid_network(side: u32) -> maillage::load::RoadNetwork {
    use maillage::load::{RoadEdge, RoadNetwork};
    let (dlon, dlat) = (100.0 / 75_000.0, 100.0 / 111_200.0);
    let id = |i: u32, j: u32| j * side + i;
    let mut nodes = Vec::with_capacity((side * side) as usize);
    for j in 0..side {
        for i in 0..side {
            nodes.push([2.0 + f64::from(i) * dlon, 46.0 + f64::from(j) * dlat]);
        }
    }
    let mut edges = Vec::new();
    for j in 0..side {
        for i in 0..side {
            for (di, dj) in [(1, 0), (0, 1)] {
                let (a, b) = (i + di, j + dj);
                if a < side && b < side {
                    let kmh = if (di == 1 && j % 10 == 0) || (dj == 1 && i % 10 == 0) {
                        65.0
                    } else {
                        25.0
                    };
                    let minutes = 0.1 / kmh * 60.0;
                    let (u, v) = (id(i, j), id(a, b));
                    edges.push(RoadEdge {
                        from: u,
                        to: v,
                        minutes,
                    });
                    edges.push(RoadEdge {
                        from: v,
                        to: u,
                        minutes,
                    });
                }
            }
        }
    }
    edges.sort_unstable_by_key(|e| (e.from, e.to));
    RoadNetwork {
        source: "grid".into(),
        osm_ids: (0..i64::from(side * side)).collect(),
        nodes,
        edges,
        ways: 0,
        missing_nodes: 0,
    }
}

/// Travel times by road: reading a real extract (Helsinki, 685 kB), building
/// the router, and one 30-minute catchment on a synthetic grid
/// (`MAILLAGE_BENCH_GRID` nodes a side, default 1000: a million nodes).
fn roads(c: &mut Criterion) {
    use maillage::access::Router;
    let mut g = c.benchmark_group("roads");
    let pbf = root().join("fixtures/roads/Helsinki.osm.pbf");
    g.bench_function("load_roads/helsinki", |b| {
        b.iter(|| maillage::load::load_roads(black_box(&pbf)).expect("extract"))
    });
    let side: u32 = std::env::var("MAILLAGE_BENCH_GRID")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let grid = grid_network(side);
    g.bench_function(BenchmarkId::new("router", side * side), |b| {
        b.iter(|| Router::new(black_box(&grid)).main_component())
    });
    let router = Router::new(&grid);
    let centre = (side / 2) * side + side / 2;
    g.bench_function(BenchmarkId::new("catchment_30min", side * side), |b| {
        b.iter(|| router.times_to(black_box(centre), 30.0).len())
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    targets = stages, overlay, layer_formats, roads
}
criterion_main!(benches);
