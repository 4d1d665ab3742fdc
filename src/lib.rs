//! # maillage — does every French commune have exactly one CPTS?
//!
//! Health professionals in France group into **CPTS** (*communautés
//! professionnelles territoriales de santé*), each declaring a territory, usually as
//! a list of communes (INSEE codes). The regional health agencies (ARS) enforce one
//! rule: **one CPTS per territory** — no *zone blanche* (white zone: ground claimed
//! by no CPTS) and no *chevauchement* (overlap: ground claimed by two or more).
//! maillage checks that rule on real commune polygons and reports where it breaks.
//!
//! ## The pipeline
//! Data flows one way, one module per stage:
//!
//! | stage | module | what it does |
//! |---|---|---|
//! | load | [`load`] | commune layer (GeoJSON, Shapefile, GeoPackage; any French CRS via [`geometry::Crs`]), declarations (CSV, workbooks, drawn GeoJSON), population, accessibility inputs |
//! | vintage | (inside [`Analysis::run`]) | codes of different years put on one vintage with the bundled COG ([`reference::cog`]); arrondissements municipaux |
//! | index | [`geometry`] | R-tree over envelopes ([`geometry::SpatialIndex`], kept by the [`Analysis`]), then the exact shared-segment test: [`geometry::Adjacency`]; shared borders as arcs ([`geometry::Topology`], built once, lazily: [`Analysis::topology`]) |
//! | coverage | [`coverage`], [`overlay`] | verdict per commune, territories, zones blanches; drawn territories cut exactly |
//! | outlines | [`outlines`] | each territory and zone blanche dissolved into one multipolygon ([`geometry::dissolve`]) |
//! | stats | [`stats`] | polars tables per commune, CPTS, département, région; the [`Summary`] |
//! | export | [`export`] | `summary.json`, CSV / Parquet tables, GeoJSON layers, a styled GeoPackage ([`export::gpkg`]), GeoParquet ([`export::geoparquet`]), all or nothing |
//! | access | [`access`] | floating-catchment accessibility per commune, CPTS, zone blanche, département |
//! | propose | [`propose`] | a candidate CPTS against the others; fix proposals for zones blanches and chevauchements |
//! | render | [`render`] | `map.svg`, `map.png`, `report.html`: what a planner looks at |
//!
//! Beside the stages: [`reference`](mod@reference) (the COG 2026, départements, régions, EPCI,
//! bundled), [`geometry`] (areas on the ellipsoid, CRSs, index, topology, dissolve:
//! nothing of CPTS), and the crate's [`Error`], [`Diagnostic`] and [`Lang`].
//!
//! The source tree says the same:
//!
//! ```text
//! src/
//!   lib.rs          this page: the curated public API
//!   analysis.rs     Analysis::run — load → vintage → index → coverage → tallies
//!   error.rs  diagnostics.rs  lang.rs  progress.rs   cross-cutting
//!   reference/      bundled COG 2026, départements and régions, EPCI
//!   geometry/       area, crs, index (R-tree, adjacency), topology, dissolve
//!   load/           one reader per input, lenient tables, workbooks, validity
//!   vintage.rs      codes of any year onto the layer's
//!   coverage.rs  overlay/  outlines.rs  stats.rs      the stages
//!   export/         tables, GeoJSON, GeoPackage, GeoParquet, the staged folder
//!   access/  propose/  render/  style.rs               downstream consumers
//!   cmd/  main.rs   the CLI: parse, call, print (one file per subcommand)
//! ```
//!
//! [`Analysis::run`] runs load → coverage; [`export::write`] dissolves and writes
//! every file; [`render::Renderer`] draws the map and the report. Consumers read an
//! [`Analysis`] and never change it. [`progress`] tells a display what a long run
//! is doing.
//!
//! ## Example
//! ```
//! use maillage::{Analysis, Inputs, Verdict};
//!
//! // The demo data embedded in the library: Provence-Alpes-Côte d'Azur.
//! let analysis = Analysis::run(&Inputs::demo())?;
//! let s = &analysis.summary;
//! assert_eq!(s.communes_total, 947);
//! assert_eq!(s.communes_covered + s.communes_white + s.communes_overlap, s.communes_total);
//! assert_eq!(analysis.verdict("13055"), Some(Verdict::Covered)); // Marseille
//! println!("{}", analysis.report(10));
//! # Ok::<(), maillage::Error>(())
//! ```
//!
//! Every output at once, the GIS files included:
//! ```no_run
//! use maillage::export::{self, Formats};
//! use maillage::{Analysis, Inputs, TableFormat};
//!
//! let analysis = Analysis::run(&Inputs::demo())?;
//! let formats = Formats { tables: TableFormat::Csv, gpkg: true, geoparquet: true, date: "2026-12-01".into() };
//! let files = export::write(&analysis, "out".as_ref(), formats)?;
//! assert!(files.iter().any(|f| f.ends_with("maillage.gpkg")));
//! # Ok::<(), maillage::Error>(())
//! ```
//!
//! A fix proposal for the zones blanches and chevauchements:
//! ```
//! use maillage::propose::{Proposal, ProposeOptions};
//! use maillage::{Analysis, Inputs};
//!
//! let analysis = Analysis::run(&Inputs::demo())?;
//! let proposal = Proposal::compute(&analysis, &ProposeOptions::default())?;
//! // one decision per white or overlapping commune
//! let s = &analysis.summary;
//! assert_eq!(proposal.rows.len() as u64, s.communes_white + s.communes_overlap);
//! # Ok::<(), maillage::Error>(())
//! ```
//!
//! ## Glossary
//! - **CPTS**: *communauté professionnelle territoriale de santé*, a grouping of
//!   health professionals of one territory.
//! - **zone blanche** ([`Verdict::White`]): a commune claimed by no CPTS; adjacent
//!   white communes form one zone ([`coverage::WhiteZone`]).
//! - **chevauchement** ([`Verdict::Overlap`]): a commune claimed by two or more CPTS.
//! - **adjacent**: two communes whose boundaries share a segment of positive length
//!   (a common point alone does not count).
//! - **drawn territory**: a CPTS declared as a polygon instead of a commune list;
//!   the [`overlay`] measures what part of each commune it covers, and gaps and
//!   overlaps become polygons (pieces), small ones *slivers*.
//! - **statut**: *projet* → *projet de santé validé* → *ACI signé* ([`Status`]).
//! - **classe ACI**: the funding size class 1–4 from the population
//!   ([`coverage::size_class`]).
//! - **DGOS atlas**: the national map of CPTS by status (ACI signé, projet de santé
//!   validé, lettre d'intention) that [`render`] follows with `--color-by status`.
//! - **COG**: *Code officiel géographique*, INSEE's list of communes for one year
//!   (its *vintage*); communes merge every 1 January, so codes change.
//! - **département / région**: from the INSEE code ([`reference::departement_of`]), régions of COG 2026.
#![deny(missing_docs)]

// Cross-cutting: errors, findings about the inputs, the language of the text
// people read, progress for a display.
mod diagnostics;
mod error;
mod lang;
pub mod progress;

// Reference data and geometry, knowing nothing of CPTS.
pub mod geometry;
pub mod reference;

// The pipeline, one stage per module, data flowing one way.
mod analysis;
pub mod coverage;
pub mod export;
pub mod load;
pub mod outlines;
pub mod overlay;
pub mod stats;
mod vintage;

// Downstream consumers of an `Analysis`.
pub mod access;
pub mod propose;
pub mod render;
mod style;

// The crate's own short paths to modules that live in folders.
use geometry::{area, crs, dissolve, index, topology};
use reference::{admin, cog, epci};

pub use analysis::{Analysis, Inputs, Timings, DEFAULT_MIN_AREA_KM2};
pub use coverage::{Coverage, Verdict};
pub use diagnostics::{Diagnostic, DiagnosticKind, Report as DiagnosticsReport};
pub use error::{CrsError, Error, ParseError, Result};
pub use export::TableFormat;
pub use lang::Lang;
pub use load::{FieldNames, Source, Status};
pub use stats::Summary;
