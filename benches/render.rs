//! Criterion benches of the render stage on real data: the PACA demo (947
//! communes) and, when `../shared/data` is beside the repo, all of France with
//! the national declarations of `fixtures/`.
//!
//!     cargo bench --bench render
//!
//! `topology` builds and projects the arcs; `map` and `report` start from a fresh
//! renderer each time (topology included), as a run does; `map+report` makes both
//! from one drawing, on two threads, as `analyze --map --report` does. The whole
//! run with and without maps is timed by `benches/national.sh`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use maillage::export::Staging;
use maillage::render::{MapOptions, Renderer, ReportOptions};
use maillage::{Analysis, FieldNames, Inputs};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

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
    }
    out
}

fn render(c: &mut Criterion) {
    let mut g = c.benchmark_group("render");
    let map = MapOptions::default();
    let report = ReportOptions::default();
    let dir = tempfile::tempdir().expect("temporary folder");
    for (name, inputs) in datasets() {
        let a = Analysis::run(&inputs).expect("analysis");
        let id = |what: &str| BenchmarkId::new(what, format!("{name}-{}", a.communes.len()));
        g.bench_function(id("topology"), |b| {
            b.iter(|| Renderer::new(&a).expect("topology"))
        });
        g.bench_function(id("map"), |b| {
            b.iter(|| Renderer::new(&a).and_then(|r| r.map(&map)).expect("map"))
        });
        g.bench_function(id("report"), |b| {
            b.iter(|| {
                Renderer::new(&a)
                    .and_then(|r| r.report(&report))
                    .expect("report")
            })
        });
        g.bench_function(id("map+report"), |b| {
            b.iter(|| {
                let s = Staging::new(dir.path()).expect("staging");
                Renderer::new(&a)
                    .and_then(|r| r.stage(&s, Some(&map), Some(&report)))
                    .expect("map and report");
                s.commit().expect("commit")
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    targets = render
}
criterion_main!(benches);
