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
//! | load | [`load`] | commune layer (GeoJSON, Shapefile, GeoPackage; any French CRS via [`crs`]), declarations (CSV, workbooks, drawn GeoJSON), population; areas ([`area`]) |
//! | vintage | [`vintage`] | codes of different years put on one vintage with the bundled [`cog`]; arrondissements municipaux |
//! | index | [`index`], [`topology`] | R-tree over envelopes, then exact shared-segment test: adjacency; shared borders as arcs |
//! | coverage | [`coverage`], [`overlay`] ([`dissolve`]) | verdict per commune, territories, zones blanches; drawn territories cut exactly |
//! | outlines | [`outlines`] | each territory and zone blanche dissolved into one multipolygon |
//! | stats | [`stats`] | polars tables per commune, CPTS, département, région; the [`Summary`] |
//! | export | [`export`] | `summary.json`, CSV / Parquet tables, GeoJSON layers, a styled GeoPackage ([`export::gpkg`]), GeoParquet ([`export::geoparquet`]), all or nothing |
//! | access | [`access`] | floating-catchment accessibility per commune, CPTS, zone blanche, département |
//! | propose | [`propose`] | a candidate CPTS against the others; fix proposals for zones blanches and chevauchements |
//! | render | [`render`] | `map.svg`, `map.png`, `report.html`: what a planner looks at ([`style`]: the colours) |
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
//! - **département / région**: from the INSEE code ([`admin`]), régions of COG 2026.
#![deny(missing_docs)]

pub mod access;
pub mod admin;
pub mod analysis;
pub mod area;
pub mod cog;
pub mod coverage;
pub mod crs;
pub mod diagnostics;
pub mod dissolve;
pub mod epci;
pub mod error;
pub mod export;
pub mod index;
pub mod lang;
pub mod load;
pub mod outlines;
pub mod overlay;
pub mod progress;
pub mod propose;
pub mod render;
pub mod stats;
pub mod style;
pub mod topology;
pub mod vintage;

pub use analysis::{Analysis, Inputs};
pub use coverage::{Coverage, Verdict};
pub use diagnostics::{Diagnostic, DiagnosticKind};
pub use error::{Error, Result};
pub use export::TableFormat;
pub use lang::Lang;
pub use load::{FieldNames, Source, Status};
pub use stats::Summary;
