//! maillage's integration tests: one binary, grouped by what they protect.
//!
//! Expected figures on real data come from `fixtures/paca/expected.json`, computed
//! by `fixtures/oracle_paca.py` with shapely and pyproj (geographiclib), never by
//! maillage's own code.

mod util;

use std::collections::BTreeMap;

use geo::{Area, GeodesicArea, MultiPolygon};
use maillage::{Analysis, DiagnosticKind, Error, Inputs, Source, Verdict};
use util::*;

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-12)
}

mod access;
mod access_guards;
mod admin_express;
mod atomic_output;
mod bad_input;
mod cli;
mod declarations;
mod drawn;
mod drawn_input;
mod drawn_paca;
mod edge_cases;
mod fuzz_findings;
mod gis;
mod hostile;
mod hostile_geometry;
mod hostile_gpkg;
mod invariants;
mod lang;
mod layer_edge_cases;
mod maps;
mod oracle;
mod planner_trust;
mod progress;
mod propose;
mod propose_exact;
mod roads;
mod rules;
mod streamed_layer;
mod study_area;
mod vintage;
mod workbooks;
mod workspace;
