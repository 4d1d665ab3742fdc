//! The whole pipeline in one call: [`Analysis::run`].

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::coverage::{Coverage, Verdict};
use crate::diagnostics::Diagnostic;
use crate::error::{Error, Result};
use crate::index::{Adjacency, SpatialIndex};
use crate::lang::Lang;
use crate::load::{self, Communes, Declarations, FieldNames, Source};
use crate::outlines::Outlines;
use crate::stats::{Stats, Summary, Tallies};
use crate::topology::Topology;

/// The inputs of an analysis, already read into memory.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// The commune layer (GeoJSON, plain or gzip).
    pub communes: Source,
    /// The declarations: CSV commune lists and/or GeoJSON drawn territories (plain
    /// or gzip), each CPTS declared in one of them.
    pub cpts: Vec<Source>,
    /// An optional population table (CSV `code,population`).
    pub population: Option<Source>,
    /// Which properties of the layer hold code, name and population.
    pub fields: FieldNames,
    /// Sliver tolerance for drawn territories, km²: gap and overlap pieces smaller
    /// than this are digitising noise, counted and reported apart.
    pub min_area_km2: f64,
    /// An explicit study-area outline (GeoJSON). The study area is then the communes
    /// with at least half their area inside it; without it, every commune loaded.
    pub area: Option<Source>,
    /// How to read the tables (declaration lists, population): workbook sheet,
    /// column names.
    pub tables: load::TableOptions,
    /// Where the run reports what it is doing, for a progress display (`None`:
    /// nowhere).
    pub progress: Option<std::sync::Arc<crate::progress::Progress>>,
    /// Also look for commune rings that cross or touch themselves
    /// ([`load::ring_crossings`]): about 0.25 s of CPU for France, so not by
    /// default (bow-ties, holes outside their shell and bad coordinates are
    /// always refused).
    pub check_rings: bool,
}

/// The default sliver tolerance: 0.01 km² (one hectare).
pub const DEFAULT_MIN_AREA_KM2: f64 = 0.01;

impl Inputs {
    /// Reads the files.
    ///
    /// # Errors
    /// [`Error::Io`] naming the file that cannot be read.
    pub fn from_paths(
        communes: &Path,
        cpts: &[&Path],
        population: Option<&Path>,
        fields: FieldNames,
    ) -> Result<Self> {
        Ok(Inputs {
            communes: Source::deferred(communes)?,
            cpts: cpts.iter().map(Source::from_path).collect::<Result<_>>()?,
            population: population.map(Source::from_path).transpose()?,
            fields,
            min_area_km2: DEFAULT_MIN_AREA_KM2,
            area: None,
            tables: load::TableOptions::default(),
            progress: None,
            check_rings: false,
        })
    }

    /// The demo data embedded in the binary: the 947 communes of Provence-Alpes-Côte
    /// d'Azur (IGN Admin Express 2018), their 2026 populations, and 37 made-up CPTS
    /// drawn from real intercommunalities (see `fixtures/README.md`).
    pub fn demo() -> Self {
        let src = |name: &str, bytes: &[u8]| {
            Source::from_bytes(format!("demo:{name}"), bytes.to_vec())
                // proof: compiled-in fixtures, read by the tests (no input reaches it)
                .expect("the embedded demo data is valid gzip")
        };
        Inputs {
            communes: src(
                "paca/communes.geojson.gz",
                include_bytes!("../fixtures/paca/communes.geojson.gz"),
            ),
            cpts: vec![src(
                "paca/declarations.csv",
                include_bytes!("../fixtures/paca/declarations.csv"),
            )],
            population: Some(src(
                "paca/population.csv",
                include_bytes!("../fixtures/paca/population.csv"),
            )),
            fields: FieldNames::default(),
            min_area_km2: DEFAULT_MIN_AREA_KM2,
            area: None,
            tables: load::TableOptions::default(),
            progress: None,
            check_rings: false,
        }
    }
}

/// The wall time of each stage, in the order the stages ran. Stages run after
/// [`Analysis::run`] (dissolve, export, maps…) add theirs through a shared
/// reference, so every consumer of an analysis can be timed.
#[derive(Debug, Default)]
pub struct Timings(Mutex<Vec<(&'static str, Duration)>>);

impl Timings {
    /// Records that `stage` took `d`.
    pub fn record(&self, stage: &'static str, d: Duration) {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push((stage, d));
    }

    /// Runs `f`, recording its wall time as `stage`.
    pub fn time<T>(&self, stage: &'static str, f: impl FnOnce() -> T) -> T {
        let t = Instant::now();
        let out = f();
        self.record(stage, t.elapsed());
        out
    }

    /// Every stage recorded so far, in order.
    pub fn stages(&self) -> Vec<(&'static str, Duration)> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

impl Clone for Timings {
    fn clone(&self) -> Self {
        Timings(Mutex::new(self.stages()))
    }
}

/// Everything computed from the inputs, ready to be printed or written.
///
/// Consumers downstream of it — [`crate::export`], [`crate::render`] — read it
/// and never change it; what they need beyond the coverage (the dissolved
/// [`Outlines`]) is computed once, on first use.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// The communes with their population and area.
    pub communes: Communes,
    /// The declarations.
    pub declarations: Declarations,
    /// Which communes are adjacent.
    pub adjacency: Adjacency,
    /// Claims, verdicts, territories, zones blanches.
    pub coverage: Coverage,
    /// Tallies per département, région and nationally.
    pub tallies: Tallies,
    /// The national summary, with every diagnostic.
    pub summary: Summary,
    /// Wall time of each stage, in order.
    pub timings: Timings,
    index: SpatialIndex,
    outlines: OnceLock<Outlines>,
    topology: OnceLock<Topology>,
}

impl Analysis {
    /// Runs load → index → coverage → tallies.
    ///
    /// # Errors
    /// Any load error ([`Error::Json`], [`Error::Features`], [`Error::Csv`]), or
    /// [`Error::Input`] when the layer is empty.
    ///
    /// # Performance
    /// Linear in vertices and declarations but for the R-tree (n log n); all of
    /// France with 660 CPTS takes well under a second on 2 cores, release build.
    pub fn run(inputs: &Inputs) -> Result<Analysis> {
        Self::run_with(inputs, None)
    }

    /// [`Analysis::run`] taking the inputs: the commune layer's text is freed as
    /// soon as it is parsed, so that the text and the geometry are not held at
    /// once (on a full-resolution layer, hundreds of megabytes less at the peak).
    ///
    /// # Errors
    /// As [`Analysis::run`].
    pub fn run_owned(mut inputs: Inputs) -> Result<Analysis> {
        if inputs.communes.deferred {
            return Self::run_with(&inputs, None);
        }
        let empty = Source {
            name: inputs.communes.name.clone(),
            bytes: Vec::new(),
            deferred: false,
        };
        let communes = std::mem::replace(&mut inputs.communes, empty);
        Self::run_with(&inputs, Some(communes))
    }

    fn run_with(inputs: &Inputs, owned: Option<Source>) -> Result<Analysis> {
        let timings = Timings::default();
        let quiet = crate::progress::Progress::default();
        let progress = inputs.progress.as_deref().unwrap_or(&quiet);
        progress.start("reading the inputs", 0);
        let t = Instant::now();
        let (layer, decl) = rayon::join(
            || {
                let layer =
                    load::load_communes(owned.as_ref().unwrap_or(&inputs.communes), &inputs.fields);
                drop(owned);
                layer
            },
            || {
                // the bundled COG (30 ms to unpack) is needed next, by the vintage
                // stage: unpacked here, beside the layer's loading
                crate::cog::cog();
                let decl = load::load_cpts_with(&inputs.cpts, &inputs.tables);
                let table = inputs
                    .population
                    .as_ref()
                    .map(|p| load::load_population_with(p, &inputs.tables))
                    .transpose();
                (decl, table)
            },
        );
        let (layer, (decl, table)) = (layer?, decl);
        let (decl, table) = (decl?, table?);
        timings.record("load", t.elapsed());
        let rings = if inputs.check_rings {
            timings.time("ring check", || load::ring_crossings(&layer))
        } else {
            Vec::new()
        };
        let t = Instant::now();
        progress.start("areas and populations", 0);
        let mut layer = layer;
        let mut diagnostics: Vec<Diagnostic> = layer.diagnostics.clone();
        diagnostics.extend(rings);
        if let Some(area) = &inputs.area {
            let outline = load::load_outline(area)?;
            let geoms: Vec<&geo::MultiPolygon<f64>> =
                layer.communes.iter().map(|c| &c.geometry).collect();
            let keep = crate::overlay::majority_inside(&geoms, &outline);
            let before = layer.communes.len();
            let mut k = keep.iter();
            layer.communes.retain(|_| *k.next().unwrap_or(&false));
            if layer.communes.is_empty() {
                return Err(Error::Input(format!(
                    "{}: no commune of {} has half its area inside this study area",
                    area.name.display(),
                    layer.source.display()
                )));
            }
            diagnostics.push(Diagnostic::new(
                crate::diagnostics::DiagnosticKind::StudyArea,
                format!(
                    "zone d'étude {} : communes gardées, au moins la moitié de leur surface dedans : {} ; laissées de côté : {}",
                    area.name.display(),
                    layer.communes.len(),
                    before - layer.communes.len()
                ),
                format!(
                    "study area {}: {} commune(s) with at least half their area inside kept, {} left out",
                    area.name.display(),
                    layer.communes.len(),
                    before - layer.communes.len()
                ),
            ));
        }
        let files: Vec<String> = inputs
            .cpts
            .iter()
            .map(|s| s.name.display().to_string())
            .collect();
        Self::assemble(
            layer,
            decl,
            table.as_ref(),
            &files,
            diagnostics,
            inputs.min_area_km2,
            progress,
            timings,
            t,
        )
    }

    /// The same communes with other declarations: what a candidate CPTS or a
    /// proposal changes, without reading the layer again. The declarations are
    /// put on the layer's vintage as in [`Analysis::run`] (`files` names their
    /// sources); populations are the ones this analysis used.
    ///
    /// # Errors
    /// As [`Analysis::run`] after loading.
    pub fn with_declarations(
        &self,
        decl: Declarations,
        files: &[String],
        min_area_km2: f64,
    ) -> Result<Analysis> {
        let table = load::PopulationTable {
            source: PathBuf::from(&self.communes.population_source),
            by_code: self
                .communes
                .layer
                .communes
                .iter()
                .zip(&self.communes.population)
                .map(|(c, &p)| (c.code.clone(), p))
                .collect(),
            notes: Vec::new(),
        };
        let mut layer = self.communes.layer.clone();
        layer.diagnostics.clear();
        let quiet = crate::progress::Progress::default();
        let mut a = Self::assemble(
            layer,
            decl,
            Some(&table),
            files,
            Vec::new(),
            min_area_km2,
            &quiet,
            Timings::default(),
            Instant::now(),
        )?;
        a.communes.population_source = self.communes.population_source.clone();
        a.summary
            .inputs
            .insert("population".into(), self.communes.population_source.clone());
        Ok(a)
    }

    /// Everything after loading: vintage, populations and areas, index, coverage,
    /// tallies and summary.
    #[allow(clippy::too_many_arguments)]
    fn assemble(
        mut layer: load::CommuneLayer,
        mut decl: Declarations,
        table: Option<&load::PopulationTable>,
        files: &[String],
        mut diagnostics: Vec<Diagnostic>,
        min_area_km2: f64,
        progress: &crate::progress::Progress,
        timings: Timings,
        mut t: Instant,
    ) -> Result<Analysis> {
        let mut tick = |name: &'static str| {
            timings.record(name, t.elapsed());
            t = Instant::now();
        };
        diagnostics.extend(crate::vintage::reconcile(&mut layer, &mut decl, files));
        tick("vintage");
        if layer.communes.is_empty() {
            return Err(Error::Input("the commune layer has no commune".into()));
        }
        progress.start("areas, populations and adjacency", 0);
        // the spatial index and adjacency need only the geometries: built beside
        // the areas and the population join
        let (communes, pop_diags, (adjacency, index)) =
            Communes::new_beside(layer, table, |layer| {
                let geoms: Vec<&geo::MultiPolygon<f64>> =
                    layer.communes.iter().map(|c| &c.geometry).collect();
                let index = SpatialIndex::build(&geoms);
                let adjacency = match layer.adjacency_geometries() {
                    None => Adjacency::build(&geoms, &index),
                    // arrondissements without geometry neighbour through their city's polygon
                    Some(stand_in) => Adjacency::build(&stand_in, &SpatialIndex::build(&stand_in)),
                };
                (adjacency, index)
            });
        diagnostics.extend(pop_diags);
        diagnostics.extend(decl.diagnostics.iter().cloned());
        tick("areas+index");
        progress.start("coverage", communes.len() as u64);
        // boolean operations on drawn outlines run inside i_overlay, which can panic on
        // some degenerate inputs: turn that into an error, never an abort
        let coverage = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            Coverage::compute_with(&communes, &decl, &adjacency, min_area_km2, progress)
        }))
        .map_err(|panic| {
            let why = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("unknown failure");
            Error::Engine(why.to_owned())
        })?;
        diagnostics.extend(coverage.diagnostics.iter().cloned());
        let tallies = Tallies::compute(&communes, &decl, &coverage);
        tick("coverage");
        let mut inputs_map = BTreeMap::new();
        inputs_map.insert(
            "communes".to_owned(),
            communes.layer.source.display().to_string(),
        );
        inputs_map.insert("cpts".to_owned(), decl.source.display().to_string());
        inputs_map.insert("population".to_owned(), communes.population_source.clone());
        inputs_map.insert("code_field".to_owned(), communes.layer.code_field.clone());
        let drawn = decl.cpts.iter().filter(|c| c.drawn.is_some()).count() as u64;
        let summary = Summary::new(&tallies.national, &coverage, drawn, inputs_map, diagnostics);
        Ok(Analysis {
            communes,
            declarations: decl,
            adjacency,
            coverage,
            tallies,
            summary,
            timings,
            index,
            outlines: OnceLock::new(),
            topology: OnceLock::new(),
        })
    }

    /// The dissolved outline of every territory and zone blanche, computed on first
    /// use (timed as `dissolve`).
    ///
    /// # Performance
    /// About 0.1 s for all of France on 2 cores; then free.
    pub fn outlines(&self) -> &Outlines {
        self.outlines.get_or_init(|| {
            self.timings.time("dissolve", || {
                Outlines::compute(&self.communes, &self.declarations, &self.coverage)
            })
        })
    }

    /// The R-tree over the communes' envelopes (positions of
    /// [`Analysis::communes`]), built once with the adjacency: for every later
    /// spatial query (supply points into communes…).
    pub fn index(&self) -> &SpatialIndex {
        &self.index
    }

    /// The planar topology of the commune layer (each shared border one arc),
    /// built on first use and then kept (timed as `topology`): for callers who
    /// want the borders as arcs (a TopoJSON-like export, their own maps). The
    /// crate's maps build theirs on faces that merge the arrondissements of
    /// Paris, Lyon and Marseille; border lengths come from
    /// [`crate::geometry::shared_border`], the adjacency's own test.
    ///
    /// # Performance
    /// About 0.3 s for all of France on 2 cores; then free.
    pub fn topology(&self) -> &Topology {
        self.topology.get_or_init(|| {
            self.timings
                .time("topology", || Topology::build(&self.communes.geometries()))
        })
    }

    /// The statistics tables.
    ///
    /// # Errors
    /// [`Error::Table`] (not expected: columns are built with equal lengths).
    pub fn stats(&self) -> Result<Stats> {
        Stats::compute(
            &self.communes,
            &self.declarations,
            &self.coverage,
            &self.tallies,
        )
    }

    /// The verdict of the commune with this INSEE code, if the layer has it.
    pub fn verdict(&self, code: &str) -> Option<Verdict> {
        self.communes
            .index_of(code)
            .map(|i| self.coverage.verdicts[i as usize])
    }

    /// The terminal summary: figures by verdict, CPTS by status and class,
    /// diagnostics (at most `max_diagnostics` shown), in French.
    pub fn report(&self, max_diagnostics: usize) -> String {
        self.report_in(Lang::Fr, max_diagnostics)
    }

    /// [`Analysis::report`] in `lang`, the diagnostics included.
    pub fn report_in(&self, lang: Lang, max_diagnostics: usize) -> String {
        let s = &self.summary;
        let t = |fr: &'static str, en: &'static str| lang.pick(fr, en);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}",
            lang.pick(
                format!(
                    "maillage : {} communes ({}), {} CPTS ({}), population de {}",
                    s.communes_total,
                    s.inputs["communes"],
                    s.cpts_count,
                    s.inputs["cpts"],
                    s.inputs["population"]
                ),
                format!(
                    "maillage: {} communes ({}), {} CPTS ({}), population from {}",
                    s.communes_total,
                    s.inputs["communes"],
                    s.cpts_count,
                    s.inputs["cpts"],
                    s.inputs["population"].replace(" (embarqué)", " (bundled)")
                ),
            )
        );
        let _ = writeln!(
            out,
            "\n  {:<22}{:>10}{:>14}{:>14}",
            "",
            "communes",
            "population",
            t("surface km²", "area km²")
        );
        let rows = [
            (
                t("couvertes (une CPTS)", "covered (one CPTS)"),
                s.communes_covered,
                s.population_covered,
                s.area_km2_covered,
            ),
            (
                t("zone blanche (aucune)", "zone blanche (none)"),
                s.communes_white,
                s.population_white,
                s.area_km2_white,
            ),
            (
                t("chevauchement (2 et +)", "chevauchement (2+)"),
                s.communes_overlap,
                s.population_overlap,
                s.area_km2_overlap,
            ),
            (
                "total",
                s.communes_total,
                s.population_total,
                s.area_km2_total,
            ),
        ];
        for (label, c, p, a) in rows {
            let _ = writeln!(
                out,
                "  {label:<22}{c:>10}{:>14}{:>14}",
                thousands(p),
                format!("{a:.1}")
            );
        }
        match &s.slivers {
            None => {
                let _ = writeln!(
                    out,
                    "{}",
                    lang.pick(
                        format!(
                            "\n  zones blanches : {} de communes blanches voisines",
                            lang.count(s.white_zone_clusters, "groupe", "groupes")
                        ),
                        format!(
                            "\n  zones blanches: {} of adjacent white communes",
                            lang.count(s.white_zone_clusters, "cluster", "clusters")
                        )
                    )
                );
            }
            Some(sl) => {
                let pieces = self
                    .coverage
                    .overlay
                    .as_ref()
                    .map_or(0, |o| o.overlaps.len());
                let lines = match lang {
                    Lang::Fr => [
                        format!("\n  territoires dessinés : {} CPTS ; surfaces ci-dessus : parts des communes couvertes, verdicts à la majorité de la surface", s.cpts_drawn),
                        format!("  zones blanches : morceaux non couverts : {}, {:.1} km², environ {} habitants", s.white_zone_clusters, s.area_km2_white, thousands(s.population_white_estimate)),
                        format!("  chevauchements : morceaux : {pieces}, entre paires de CPTS : {}, {:.1} km², environ {} habitants", s.overlap_pairs, s.area_km2_overlap, thousands(s.population_overlap_estimate)),
                        format!("  éclats de moins de {} km² (--min-area) : {} interstices, {} recouvrements, {:.3} km² en tout (slivers.geojson)", sl.min_area_km2, sl.gaps, sl.overlaps, sl.area_km2),
                    ],
                    Lang::En => [
                        format!("\n  drawn territories: {} CPTS; areas above are the parts of communes covered, verdicts by majority of area", s.cpts_drawn),
                        format!("  zones blanches: {} gap piece(s), {:.1} km², about {} inhabitants", s.white_zone_clusters, s.area_km2_white, thousands(s.population_white_estimate)),
                        format!("  chevauchements: {pieces} overlap piece(s) between {} pair(s) of CPTS, {:.1} km², about {} inhabitants", s.overlap_pairs, s.area_km2_overlap, thousands(s.population_overlap_estimate)),
                        format!("  slivers under {} km² (--min-area): {} gap(s), {} overlap(s), {:.3} km² in all (slivers.geojson)", sl.min_area_km2, sl.gaps, sl.overlaps, sl.area_km2),
                    ],
                };
                for l in lines {
                    let _ = writeln!(out, "{l}");
                }
            }
        }
        if let Some(r) = s.coverage_rate_population {
            let _ = writeln!(
                out,
                "  {} {} %",
                t(
                    "population revendiquée par au moins une CPTS :",
                    "population claimed by at least one CPTS:"
                ),
                lang.decimal(r * 100.0, 2)
            );
        }
        let by = |m: &BTreeMap<String, u64>, keys: &[&str]| {
            keys.iter()
                .map(|k| format!("{k} {}", m.get(*k).copied().unwrap_or(0)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let statuses = ["projet", "valide", "aci_signe", "unknown"];
        let _ = writeln!(
            out,
            "  {} {}",
            t("CPTS par statut :", "CPTS by status:"),
            by(&s.cpts_by_status, &statuses)
        );
        let _ = writeln!(
            out,
            "  {} {}",
            t("CPTS par classe ACI :", "CPTS by ACI size class:"),
            by(&s.cpts_by_size_class, &["1", "2", "3", "4"])
        );
        let _ = writeln!(
            out,
            "  {} {}",
            t("CPTS non contiguës :", "non-contiguous CPTS:"),
            s.cpts_non_contiguous
        );
        let verdict = match (s.rule_holds(), lang) {
            (true, Lang::Fr) => "respectée : chaque commune a exactement une CPTS",
            (false, Lang::Fr) => "non respectée : il y a des zones blanches ou des chevauchements",
            (true, Lang::En) => "holds: every commune has exactly one CPTS",
            (false, Lang::En) => "broken: there are zones blanches or chevauchements",
        };
        let _ = writeln!(
            out,
            "  {} {verdict}",
            t(
                "règle « une CPTS par territoire » :",
                "one-CPTS-per-territory rule:"
            )
        );
        let shown: Vec<crate::Diagnostic> = s
            .diagnostics
            .iter()
            .map(|d| d.clone().in_lang(lang))
            .collect();
        let report = crate::diagnostics::Report::new(&shown);
        let _ = write!(out, "\n{}", report.text_in(lang, max_diagnostics));
        out
    }
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (k, ch) in s.chars().enumerate() {
        if k > 0 && (s.len() - k).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_groups_by_three() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(1000), "1 000");
        assert_eq!(super::thousands(68_952_941), "68 952 941");
    }
}
