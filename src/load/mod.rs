//! Stage 1, **load**: the commune layer, the CPTS declarations and the population
//! table, read into plain values, every problem named with its file and line or
//! feature. Then [`Communes::new`] joins layer and population and computes each
//! commune's area.

mod access_inputs;
mod communes;
mod costs;
mod declarations;
mod geojson;
mod layers;
mod population;
mod roads;
mod source;
mod spreadsheet;
mod stream;
mod table;
mod territories;
mod validity;
mod workbook_guard;

pub use access_inputs::{
    load_demand, load_points, load_supply, parse_age_weights, parse_number, DemandRow, DemandTable,
    PointRow, PointsTable, SupplyRow, SupplyTable,
};
pub(crate) use communes::oriented;
#[cfg(test)]
pub(crate) use communes::signed_twice_area;
pub use communes::{
    load_communes, Commune, CommuneLayer, FieldNames, CODE_FIELDS, NAME_FIELDS, POPULATION_FIELDS,
};
pub use costs::{load_costs, CostMatrix, CostPair};
pub use declarations::{
    load_declarations, load_declarations_with, Claim, Cpts, Declarations, Status,
};
pub use population::{load_population, load_population_with, PopulationTable, MAX_POPULATION};
pub use roads::{load_roads, RoadEdge, RoadNetwork, SPEEDS_KMH};
pub use source::Source;
pub use spreadsheet::TableOptions;
pub use territories::{load_outline, load_territories, DrawnTerritories, DrawnTerritory};

use geo::MultiPolygon;
use rayon::prelude::*;

use crate::admin;
use crate::diagnostics::{sample, sample_en, Diagnostic, DiagnosticKind};

/// Every commune whose ring crosses or touches itself (a sweep per ring, geo's
/// robust segment intersection), as one `self_intersecting_ring` diagnostic
/// naming each with the point: such a ring is kept as the layer draws it (its
/// area and overlaps by the non-zero rule), but a planner should fix it. Not
/// part of every run: France's 2.2 M vertices take about 0.25 s of CPU
/// (`--check-rings`, [`crate::Inputs::check_rings`]).
///
/// # Examples
/// ```
/// let layer = maillage::load::load_communes(&maillage::Inputs::demo().communes, &Default::default())?;
/// assert!(maillage::load::ring_crossings(&layer).is_empty());
/// # Ok::<(), maillage::Error>(())
/// ```
pub fn ring_crossings(layer: &CommuneLayer) -> Vec<Diagnostic> {
    let crossings: Vec<(String, String)> = layer
        .communes
        .par_iter()
        .filter_map(|c| {
            let x = c.geometry.0.iter().find_map(|p| {
                std::iter::once(p.exterior())
                    .chain(p.interiors())
                    .find_map(|r| validity::ring_self_intersection(&r.0))
            })?;
            Some((
                c.code.clone(),
                format!("{} ({:.5}, {:.5})", c.code, x.x, x.y),
            ))
        })
        .collect();
    if crossings.is_empty() {
        return Vec::new();
    }
    let (codes, at): (Vec<String>, Vec<String>) = crossings.into_iter().unzip();
    vec![Diagnostic::new(
        DiagnosticKind::SelfIntersectingRing,
        format!(
            "{} : {} commune(s) dont un contour se recoupe, gardées telles que la couche les dessine (aire et superpositions selon la règle non nulle ; à corriger dans QGIS avec « Réparer les géométries ») : {}",
            layer.source.display(),
            at.len(),
            sample(&at, 8)
        ),
        format!(
            "{}: {} commune(s) with a ring that crosses or touches itself, kept as the layer draws them (area and overlaps by the non-zero rule; fix in QGIS with Fix geometries): {}",
            layer.source.display(),
            at.len(),
            sample_en(&at, 8)
        ),
    )
    .codes(codes)]
}

/// Reads every declaration source — CSV commune lists or GeoJSON drawn territories,
/// told apart by their content — into one set of CPTS sorted by id.
///
/// A CPTS id declared in two sources keeps its first declaration (sources in the
/// order given) and is reported as `declared_twice`.
///
/// No source gives no CPTS (every commune is then white: for accessibility alone).
///
/// # Errors
/// The first source's error ([`crate::Error::Csv`] or [`crate::Error::Json`]).
pub fn load_cpts(sources: &[Source]) -> crate::Result<Declarations> {
    load_cpts_with(sources, &TableOptions::default())
}

/// [`load_cpts`] with options for the commune lists: the workbook sheet and column
/// names given by the user.
///
/// # Errors
/// As [`load_cpts`].
pub fn load_cpts_with(sources: &[Source], options: &TableOptions) -> crate::Result<Declarations> {
    let mut cpts: Vec<Cpts> = Vec::new();
    let mut diagnostics = Vec::new();
    let mut seen: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    for (file, source) in sources.iter().enumerate() {
        let name = source.name.display().to_string();
        let (found, diags) = if is_geojson(&source.bytes) || layers::is_layer(&source.bytes) {
            let t = load_territories(source)?;
            let found: Vec<Cpts> = t
                .territories
                .into_iter()
                .map(|t| Cpts {
                    id: t.id,
                    name: t.name,
                    status: t.status,
                    claims: Vec::new(),
                    drawn: Some(t.geometry),
                    file,
                })
                .collect();
            (found, t.diagnostics)
        } else {
            let mut d = load_declarations_with(source, options)?;
            d.cpts.iter_mut().for_each(|c| c.file = file);
            (d.cpts, d.diagnostics)
        };
        if found.is_empty() {
            return Err(crate::Error::Input(format!(
                "{name}: no CPTS declared there (no row under the header, or no feature); nothing to check"
            )));
        }
        diagnostics.extend(diags);
        for c in found {
            if let Some(first) = seen.get(&c.id) {
                diagnostics.push(
                    Diagnostic::new(
                        DiagnosticKind::DeclaredTwice,
                        format!("la CPTS {} est déclarée dans {first} et de nouveau dans {name} ; la déclaration de {first} est gardée", c.id),
                        format!("CPTS {} is declared in {first} and again in {name}; the declaration in {first} is kept", c.id),
                    )
                    .cpts(&c.id),
                );
                continue;
            }
            seen.insert(c.id.clone(), name.clone());
            cpts.push(c);
        }
    }
    cpts.sort_by(|a, b| a.id.cmp(&b.id));
    let names: Vec<String> = sources
        .iter()
        .map(|s| s.name.display().to_string())
        .collect();
    Ok(Declarations {
        source: std::path::PathBuf::from(names.join(" + ")),
        cpts,
        diagnostics,
    })
}

/// True when the text looks like JSON (first non-blank character `{`), not CSV.
fn is_geojson(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// The commune layer joined with its population and areas: what every later stage
/// works on. Commune `i` is `layer.communes[i]`; communes are sorted by code.
#[derive(Debug, Clone)]
pub struct Communes {
    /// The layer as loaded.
    pub layer: CommuneLayer,
    /// Population of each commune (0 where unknown, with a diagnostic).
    pub population: Vec<u64>,
    /// Where the population figures came from, for the report.
    pub population_source: String,
    /// Area of each commune on the WGS84 ellipsoid, km².
    pub area_km2: Vec<f64>,
}

impl Communes {
    /// Joins a layer with an optional population table (which takes precedence over a
    /// population property of the layer) and computes areas in parallel.
    ///
    /// Returns the diagnostics of the join: communes missing from the table, table
    /// rows for codes outside the layer, or no population source at all.
    pub fn new(layer: CommuneLayer, table: Option<&PopulationTable>) -> (Self, Vec<Diagnostic>) {
        let (communes, diagnostics, ()) = Self::new_beside(layer, table, |_| ());
        (communes, diagnostics)
    }

    /// [`Communes::new`], running `beside` on the layer at the same time (the
    /// analysis builds its spatial index there): the areas are parallel, the
    /// population join is one thread's work, and `beside` fills what they leave.
    pub fn new_beside<T: Send>(
        layer: CommuneLayer,
        table: Option<&PopulationTable>,
        beside: impl FnOnce(&CommuneLayer) -> T + Send,
    ) -> (Self, Vec<Diagnostic>, T) {
        let ((area_km2, (population, population_source, diagnostics)), other) = rayon::join(
            || {
                rayon::join(
                    || {
                        layer
                            .communes
                            .par_iter()
                            .map(|c| crate::area::multi_polygon_km2(&c.geometry))
                            .collect::<Vec<f64>>()
                    },
                    || populations(&layer, table),
                )
            },
            || beside(&layer),
        );
        (
            Communes {
                layer,
                population,
                population_source,
                area_km2,
            },
            diagnostics,
            other,
        )
    }

    /// Number of communes.
    pub fn len(&self) -> usize {
        self.layer.communes.len()
    }

    /// True when there is no commune.
    pub fn is_empty(&self) -> bool {
        self.layer.communes.is_empty()
    }

    /// The position of a code, if the layer has it. O(log n).
    pub fn index_of(&self, code: &str) -> Option<u32> {
        self.layer
            .communes
            .binary_search_by(|c| c.code.as_str().cmp(code))
            .ok()
            .map(|i| i as u32)
    }

    /// The commune at `i`.
    pub fn get(&self, i: u32) -> &Commune {
        &self.layer.communes[i as usize]
    }

    /// The département code of commune `i`.
    pub fn departement(&self, i: u32) -> &str {
        admin::departement_of(&self.get(i).code)
    }

    /// The région code of commune `i` (empty when the département is unknown).
    pub fn region(&self, i: u32) -> &'static str {
        admin::region_of_departement(self.departement(i)).unwrap_or("")
    }

    /// The geometries, in commune order.
    pub fn geometries(&self) -> Vec<&MultiPolygon<f64>> {
        self.layer.communes.iter().map(|c| &c.geometry).collect()
    }

    /// The geometries that decide adjacency: each commune's own, except that an
    /// arrondissement without geometry takes its whole city's polygon (see
    /// [`CommuneLayer::whole_cities`]), so that it neighbours the city's other
    /// arrondissements and the city's neighbours. `None` when no commune needs a
    /// stand-in (then adjacency uses [`Communes::geometries`]).
    pub fn adjacency_geometries(&self) -> Option<Vec<&MultiPolygon<f64>>> {
        self.layer.adjacency_geometries()
    }
}

impl CommuneLayer {
    /// The geometries that decide adjacency, as [`Communes::adjacency_geometries`].
    pub fn adjacency_geometries(&self) -> Option<Vec<&MultiPolygon<f64>>> {
        if self.whole_cities.is_empty() {
            return None;
        }
        let cog = crate::cog::cog();
        let city = |code: &str| {
            let parent = cog.current(code)?.parent.as_deref()?;
            self.whole_cities.iter().find(|c| c.code == parent)
        };
        Some(
            self.communes
                .iter()
                .map(|c| match city(&c.code) {
                    Some(city) if c.geometry.0.is_empty() => &city.geometry,
                    _ => &c.geometry,
                })
                .collect(),
        )
    }
}

/// Each commune's population (from the table, else the layer's property, else
/// the bundled COG), where the figures come from, and the join's diagnostics.
fn populations(
    layer: &CommuneLayer,
    table: Option<&PopulationTable>,
) -> (Vec<u64>, String, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let cog = crate::cog::cog();
    type Lookup<'a> = Box<dyn Fn(&Commune) -> Option<u64> + 'a>;
    let (primary, lookup): (Option<String>, Lookup<'_>) = match (table, &layer.population_field) {
        (Some(t), _) => {
            diagnostics.extend(Diagnostic::reading(t.source.display(), &t.notes));
            let in_layer = |k: &str| {
                layer
                    .communes
                    .binary_search_by(|c| c.code.as_str().cmp(k))
                    .is_ok()
            };
            // rows of former communes the layer no longer has (a table older than the
            // layer) add to the commune that absorbed them
            let mut folded: std::collections::HashMap<String, u64> = t.by_code.clone();
            let mut merged = Vec::new();
            let mut unused = Vec::new();
            let mut keys: Vec<&String> = t.by_code.keys().collect();
            keys.sort();
            for k in keys {
                if in_layer(k) {
                    continue;
                }
                match cog.successor(k).filter(|s| in_layer(s)) {
                    Some(s) => {
                        let p = folded.remove(k).unwrap_or(0);
                        *folded.entry(s.to_owned()).or_insert(0) += p;
                        merged.push(format!("{k} → {s}"));
                    }
                    None => unused.push(k.clone()),
                }
            }
            if !merged.is_empty() {
                diagnostics.push(Diagnostic::new(
                    DiagnosticKind::MergedCode,
                    format!(
                        "{} : lignes d'anciennes communes ajoutées à la commune qui les a absorbées ({}, {}) : {}",
                        t.source.display(),
                        merged.len(),
                        crate::cog::VINTAGE,
                        sample(&merged, 6)
                    ),
                    format!(
                        "{}: {} row(s) of former communes added to the commune that absorbed them ({}): {}",
                        t.source.display(),
                        merged.len(),
                        crate::cog::VINTAGE,
                        sample_en(&merged, 6)
                    ),
                ));
            }
            if !unused.is_empty() {
                diagnostics.push(
                    Diagnostic::new(
                        DiagnosticKind::UnusedPopulation,
                        format!(
                            "{} : lignes dont le code est absent de la couche de communes ({}) : {}",
                            t.source.display(),
                            unused.len(),
                            sample(&unused, 8)
                        ),
                        format!(
                            "{}: {} row(s) name a code absent from the commune layer: {}",
                            t.source.display(),
                            unused.len(),
                            sample_en(&unused, 8)
                        ),
                    )
                    .codes(unused),
                );
            }
            (
                Some(t.source.display().to_string()),
                Box::new(move |c: &Commune| folded.get(&c.code).copied()),
            )
        }
        (None, Some(field)) => (
            Some(format!("{} ({field})", layer.source.display())),
            Box::new(|c: &Commune| c.population),
        ),
        (None, None) => (None, Box::new(|_: &Commune| None)),
    };
    let (mut from_cog, mut missing) = (Vec::new(), Vec::new());
    let population: Vec<u64> = layer
        .communes
        .iter()
        .map(|c| {
            lookup(c).unwrap_or_else(|| match cog.current(&c.code).and_then(|e| e.population) {
                Some(p) => {
                    from_cog.push(c.code.clone());
                    p
                }
                None => {
                    missing.push(c.code.clone());
                    0
                }
            })
        })
        .collect();
    drop(lookup);
    let population_source = match (&primary, from_cog.len()) {
        (Some(p), 0) => p.clone(),
        (Some(p), n) => format!(
            "{p}, et {} (embarqué) pour les communes qui y manquent ({n})",
            crate::cog::VINTAGE
        ),
        (None, _) => format!("{} (embarqué)", crate::cog::VINTAGE),
    };
    if !from_cog.is_empty() {
        let message = match &primary {
            Some(p) => format!(
                "{p} : communes de la couche sans population dans ce fichier ({}) ; leur population {} est utilisée : {}",
                from_cog.len(),
                crate::cog::VINTAGE,
                sample(&from_cog, 8)
            ),
            None => format!(
                "ni table de population (--population) ni propriété de population dans la couche : populations du {} embarqué ({} communes)",
                crate::cog::VINTAGE,
                from_cog.len()
            ),
        };
        let message_en = match &primary {
            Some(p) => format!(
                "{p}: {} commune(s) of the layer have no population there; their {} population is used: {}",
                from_cog.len(),
                crate::cog::VINTAGE,
                sample_en(&from_cog, 8)
            ),
            None => format!(
                "no population table (--population) and no population property in the layer: populations are those of the bundled {} ({} communes)",
                crate::cog::VINTAGE,
                from_cog.len()
            ),
        };
        diagnostics.push(
            Diagnostic::new(DiagnosticKind::PopulationSource, message, message_en).codes(
                if primary.is_some() {
                    from_cog
                } else {
                    Vec::new()
                },
            ),
        );
    }
    if !missing.is_empty() {
        diagnostics.push(
            Diagnostic::new(
                DiagnosticKind::MissingPopulation,
                format!(
                    "communes de la couche sans population ni dans {1} ni dans {2}, comptées pour 0 ({0} ; les habitants d'une ancienne commune comptent dans celle qui l'a absorbée) : {3}",
                    missing.len(),
                    primary.as_deref().unwrap_or("aucune entrée"),
                    crate::cog::VINTAGE,
                    sample(&missing, 8)
                ),
                format!(
                    "{} commune(s) of the layer have no population in {} nor in {} and count as 0 (a former commune's inhabitants are counted in the commune that absorbed it): {}",
                    missing.len(),
                    primary.as_deref().unwrap_or("any input"),
                    crate::cog::VINTAGE,
                    sample_en(&missing, 8)
                ),
            )
            .codes(missing),
        );
    }
    (population, population_source, diagnostics)
}
