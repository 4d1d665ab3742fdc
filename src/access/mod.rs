//! **access**: how accessible care is — floating-catchment scores per commune, then
//! per CPTS, per zone blanche and per département. A consumer of an [`Analysis`]:
//! the communes, their populations (the demand) and the territories come from it.
//!
//! The scores are PySAL `access`'s, computed the same way (and checked against it
//! to 1e-9 on real data, `fixtures/oracle_access.py`):
//! - **2SFCA** (Luo and Wang): each supply location's ratio
//!   `R_j = S_j / Σ_i P_i` over the origins within the maximum cost, then each
//!   origin's score `A_i = Σ_j R_j` over the supply it reaches;
//! - **E2SFCA** (Luo and Qi): the same with a distance-decay weight `w(c)` in both
//!   steps, `R_j = S_j / Σ_i P_i w(c_ij)`, `A_i = Σ_j R_j w(c_ij)`;
//! - **3SFCA** (Wan, Zou and Sternberg): both steps also weighted by the selection
//!   weight `G_ij = w(c_ij) / Σ_k w(c_ik)`, over the origin's pairs within the
//!   maximum cost;
//! - **gravity** potential (no competition): `A_i = Σ_j S_j w(c_ij)`;
//! - **APL** (DREES's *accessibilité potentielle localisée*): an E2SFCA on travel
//!   times in minutes with the bands 0–10 min: 1, 10–15: 0.66, 15–20: 0.33, none
//!   beyond, supply in consultations (or FTE) per year: the score is per
//!   inhabitant per year, under 2.5 being *sous-dense* (under-served).
//!
//! Pairs come from straight-line distances between locations (commune centroids in
//! Lambert-93 or the local UTM zone overseas, or user points), all pairs within the
//! maximum cost found with an R-tree, or from a travel-time matrix. The maximum
//! cost is inclusive. For any 2SFCA the population-weighted mean score is the
//! supply reached divided by the population: nothing is lost or made up.
//!
//! Where PySAL's behaviour is questionable maillage decides, and says so:
//! - a commune always reaches itself at cost 0 (a matrix lacking the pair gets it,
//!   reported); PySAL uses only the pairs it is given;
//! - supply that no inhabitant can reach (every origin within reach has no
//!   population) counts in no score and is reported; PySAL divides by zero;
//! - 3SFCA's selection weights are normalised over the pairs within the maximum
//!   cost (Wan et al.'s catchment); PySAL normalises over every pair of the cost
//!   table, which is the same when the table holds only pairs within it.

mod locations;
mod pairs;
mod roads;
mod weight;

pub use locations::{centroids, centroids_into, place_supply, user_points, FAR_FROM_COMMUNE_M};
pub use pairs::{Location, Pairs};
pub use roads::{road_costs, Router, Snap, FAR_FROM_ROADS_M};
pub use weight::Weight;

use crate::error::ParseError;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use polars::prelude::{Column, DataFrame, NamedFrom, Series};
use rayon::prelude::*;
use serde::Serialize;

use crate::analysis::Analysis;
use crate::diagnostics::{items_en, sample, sample_en, Diagnostic, DiagnosticKind};
use crate::error::{Error, Result};
use crate::export::{write_table_with, Staging, TableFormat};
use crate::load::{CostMatrix, DemandTable, PointsTable, SupplyTable};

/// The demo's supply: a made-up count of general practitioners per PACA commune
/// (`fixtures/paca/supply.csv`, derived from real populations by
/// `fixtures/make_supply.py`; not real data), for [`crate::Inputs::demo`].
pub fn demo_supply() -> crate::Source {
    crate::Source {
        name: "demo:paca/supply.csv".into(),
        bytes: include_bytes!("../../fixtures/paca/supply.csv").to_vec(),
        deferred: false,
    }
}

/// A floating-catchment method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Two-step floating catchment, binary catchment.
    TwoStep,
    /// Enhanced 2SFCA: a distance-decay weight in both steps.
    Enhanced,
    /// Three-step: with selection weights.
    ThreeStep,
    /// Gravity potential, no competition for the supply.
    Gravity,
    /// DREES's APL: E2SFCA on minutes with its bands, per inhabitant per year.
    Apl,
}

impl Method {
    /// The name on the command line and in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::TwoStep => "2sfca",
            Method::Enhanced => "e2sfca",
            Method::ThreeStep => "3sfca",
            Method::Gravity => "gravity",
            Method::Apl => "apl",
        }
    }

    /// The weight used when none is given, in the unit of the costs (metres for
    /// straight lines, minutes for APL): PySAL's defaults (its E2SFCA steps 10, 20,
    /// 30 and 3SFCA steps 10, 20, 30, 60, read as kilometres), DREES's APL bands.
    pub fn default_weight(self, metres: bool) -> Weight {
        let k = if metres { 1000.0 } else { 1.0 };
        match self {
            Method::TwoStep => Weight::Binary,
            Method::Enhanced => {
                Weight::Step(vec![(10.0 * k, 1.0), (20.0 * k, 0.68), (30.0 * k, 0.22)])
            }
            Method::ThreeStep => Weight::Step(vec![
                (10.0 * k, 0.962),
                (20.0 * k, 0.704),
                (30.0 * k, 0.377),
                (60.0 * k, 0.042),
            ]),
            Method::Gravity => Weight::Gravity {
                scale: 10.0 * k,
                alpha: -1.0,
                min: k,
            },
            Method::Apl => Weight::Step(vec![(10.0, 1.0), (15.0, 0.66), (20.0, 0.33)]),
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Method {
    type Err = ParseError;
    fn from_str(s: &str) -> std::result::Result<Method, ParseError> {
        match s.to_ascii_lowercase().as_str() {
            "2sfca" => Ok(Method::TwoStep),
            "e2sfca" => Ok(Method::Enhanced),
            "3sfca" => Ok(Method::ThreeStep),
            "gravity" => Ok(Method::Gravity),
            "apl" => Ok(Method::Apl),
            other => Err(ParseError(format!(
                "method {other:?}: 2sfca, e2sfca, 3sfca, gravity or apl"
            ))),
        }
    }
}

/// How to compute the scores.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessOptions {
    /// The method.
    pub method: Method,
    /// The distance-decay weight; `None`: the method's default.
    pub weight: Option<Weight>,
    /// The maximum cost, inclusive; `None`: 30,000 m, or 20 min for APL.
    pub max_cost: Option<f64>,
    /// The score under which a commune is under-served; `None`: 2.5 for APL, no
    /// threshold otherwise.
    pub threshold: Option<f64>,
    /// Turns straight-line metres into minutes at this speed (km/h), for APL
    /// without a travel-time matrix: an assumption, said in the summary.
    pub speed_kmh: Option<f64>,
    /// The CRS of `--points` (EPSG code).
    pub points_epsg: u32,
    /// The CRS of supply points (EPSG code).
    pub supply_epsg: u32,
    /// The unit of a `--costs` matrix; `None`: minutes, checked against the
    /// costs (a matrix in metres read as minutes is refused).
    pub cost_unit: Option<CostUnit>,
}

/// The unit of a cost matrix: it sets the default weights and maximum cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CostUnit {
    /// Travel times in minutes (APL's unit).
    Minutes,
    /// Distances in metres (PySAL's defaults as for straight lines).
    Metres,
    /// Distances in kilometres.
    Kilometres,
}

impl CostUnit {
    /// The name on the command line and in `summary.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            CostUnit::Minutes => "minutes",
            CostUnit::Metres => "metres",
            CostUnit::Kilometres => "km",
        }
    }
}

impl FromStr for CostUnit {
    type Err = Error;
    fn from_str(s: &str) -> Result<CostUnit> {
        match s.trim().to_ascii_lowercase().as_str() {
            "minutes" | "minute" | "min" => Ok(CostUnit::Minutes),
            "metres" | "meters" | "m" => Ok(CostUnit::Metres),
            "km" | "kilometres" | "kilometers" => Ok(CostUnit::Kilometres),
            other => Err(Error::Input(format!(
                "cost unit {other:?}: minutes, metres or km"
            ))),
        }
    }
}

impl Default for AccessOptions {
    fn default() -> Self {
        AccessOptions {
            method: Method::Enhanced,
            weight: None,
            max_cost: None,
            threshold: None,
            speed_kmh: None,
            points_epsg: 2154,
            supply_epsg: 2154,
            cost_unit: None,
        }
    }
}

impl AccessOptions {
    /// The maximum cost a run uses: `max_cost`, else 20 minutes for APL, 30 km
    /// on metres, else the last band of a step weight (the weight given, or the
    /// method's default), else none (infinite).
    ///
    /// # Examples
    /// ```
    /// use maillage::access::{AccessOptions, Method};
    /// let o = AccessOptions { method: Method::Enhanced, ..AccessOptions::default() };
    /// assert_eq!(o.max_cost(true), 30_000.0);
    /// assert_eq!(o.max_cost(false), 30.0);
    /// let two = AccessOptions { method: Method::TwoStep, ..o.clone() };
    /// assert_eq!(two.max_cost(false), f64::INFINITY);
    /// ```
    pub fn max_cost(&self, metres: bool) -> f64 {
        let weight = self
            .weight
            .clone()
            .unwrap_or_else(|| self.method.default_weight(metres));
        self.max_cost_with(&weight, metres)
    }

    fn max_cost_with(&self, weight: &Weight, metres: bool) -> f64 {
        self.max_cost.unwrap_or(match self.method {
            Method::Apl => 20.0,
            _ if metres => 30_000.0,
            _ => match weight {
                Weight::Step(s) => s.last().map_or(f64::INFINITY, |l| l.0),
                _ => f64::INFINITY,
            },
        })
    }
}

/// The files an accessibility run reads besides the analysis's.
#[derive(Debug, Clone, Copy)]
pub struct AccessInputs<'a> {
    /// The supply (by commune, or points).
    pub supply: &'a SupplyTable,
    /// User locations replacing the centroids.
    pub points: Option<&'a PointsTable>,
    /// A travel-time matrix replacing straight-line distances.
    pub costs: Option<&'a CostMatrix>,
    /// The demand of each commune (decimals: an age-standardised population)
    /// replacing its population in the catchments; group figures stay weighted
    /// by inhabitants.
    pub demand: Option<&'a DemandTable>,
}

/// The `access` object of `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccessSummary {
    /// `2sfca`, `e2sfca`, `3sfca`, `gravity` or `apl`.
    pub method: String,
    /// The weight, as `--weight` writes it.
    pub weight: String,
    /// The maximum cost, inclusive.
    pub max_cost: f64,
    /// What the costs are.
    pub costs: String,
    /// Where communes are.
    pub locations: String,
    /// Pairs (origin, destination) within the maximum cost used.
    pub pairs: u64,
    /// Commune-to-itself pairs added to a matrix that lacked them.
    pub self_pairs_added: u64,
    /// Communes with a score.
    pub communes_scored: u64,
    /// Communes without a score (no location).
    pub communes_unscored: u64,
    /// Population of the communes.
    pub population: u64,
    /// What the demand is: the population, or the demand table.
    pub demand: String,
    /// The demand in the catchments (the population, or the demand table's sum).
    pub demand_total: f64,
    /// Total supply placed in communes of the layer.
    pub supply_total: f64,
    /// Supply no inhabitant can reach (counted in no score).
    pub supply_unreached: f64,
    /// Population-weighted mean score over scored communes.
    pub population_weighted_mean: Option<f64>,
    /// The same per 100,000 inhabitants.
    pub population_weighted_mean_per_100k: Option<f64>,
    /// Supply reached per inhabitant: equal to the weighted mean for any 2SFCA.
    pub supply_reached_per_inhabitant: Option<f64>,
    /// The under-service threshold, if any.
    pub threshold: Option<f64>,
    /// Population of communes scoring under the threshold.
    pub population_below_threshold: Option<u64>,
    /// Communes scoring under the threshold.
    pub communes_below_threshold: Option<u64>,
    /// What the score means.
    pub unit: String,
}

/// Scores per commune and what they were computed from.
#[derive(Debug, Clone)]
pub struct Accessibility {
    /// Supply placed in each commune (positions of [`crate::load::Communes`]).
    pub supply: Vec<f64>,
    /// Each commune's score; `None` without a location.
    pub score: Vec<Option<f64>>,
    /// The threshold used.
    pub threshold: Option<f64>,
    /// Figures for `summary.json`.
    pub summary: AccessSummary,
    /// Findings about the inputs.
    pub diagnostics: Vec<Diagnostic>,
}

impl Accessibility {
    /// Computes every commune's score for the analysis's communes and populations.
    ///
    /// # Errors
    /// [`Error::Input`] for options that do not fit (APL on metres without a speed,
    /// a maximum cost ≤ 0, a cost matrix with one pair at two costs, a CRS
    /// maillage does not know).
    ///
    /// # Performance
    /// O(v + p) for v vertices (centroids) and p pairs: France within 30 km (7.5 M
    /// pairs) takes a few tenths of a second on 2 cores.
    pub fn compute(
        analysis: &Analysis,
        inputs: &AccessInputs<'_>,
        options: &AccessOptions,
    ) -> Result<Accessibility> {
        let communes = &analysis.communes;
        let n = communes.len();
        let timings = &analysis.timings;
        let method = options.method;
        check_options(inputs, options)?;
        let metres = match inputs.costs {
            None => options.speed_kmh.is_none(),
            Some(_) => options.cost_unit == Some(CostUnit::Metres),
        };
        let minutes = match inputs.costs {
            None => options.speed_kmh.is_some(),
            Some(_) => matches!(options.cost_unit, None | Some(CostUnit::Minutes)),
        };
        if method == Method::Apl && !minutes {
            return Err(Error::Input(
                "--method apl works on travel times in minutes: give --costs (a matrix in minutes) or --speed KMH to turn straight-line distances into minutes".into(),
            ));
        }
        let weight = options
            .weight
            .clone()
            .unwrap_or_else(|| method.default_weight(metres));
        weight
            .check()
            .map_err(|e| Error::Input(format!("--weight {weight}: {e}")))?;
        let max_cost = options.max_cost_with(&weight, metres);
        if max_cost.is_nan() || max_cost <= 0.0 {
            return Err(Error::Input(format!(
                "--max-cost {max_cost}: give a cost > 0"
            )));
        }
        let threshold = options.threshold.or((method == Method::Apl).then_some(2.5));
        let mut diagnostics = Vec::new();
        let (supply, d) = timings.time("supply", || {
            place_supply(
                communes,
                analysis.index(),
                inputs.supply,
                options.supply_epsg,
            )
        })?;
        diagnostics.extend(d);
        let supply_total: f64 = supply.iter().sum();
        if supply_total.is_nan() || supply_total <= 0.0 {
            return Err(Error::Input(empty_supply(
                inputs.supply,
                options.supply_epsg,
            )));
        }
        if let Some(matrix) = inputs.costs {
            if options.max_cost.is_none() && options.cost_unit.is_none() {
                check_matrix_unit(matrix, max_cost)?;
            }
        }

        // pairs
        let mut self_added = 0u64;
        let (pairs, costs_desc, locations_desc, located) = match inputs.costs {
            Some(matrix) => {
                let (pairs, added, located, d) =
                    timings.time("pairs", || matrix_pairs(analysis, matrix, max_cost))?;
                self_added = added;
                diagnostics.extend(d);
                let unit = options.cost_unit.unwrap_or(CostUnit::Minutes).as_str();
                (
                    pairs,
                    if matrix.source.extension().is_some_and(|e| e == "pbf") {
                        format!("travel times by road, {} ({unit})", matrix.source.display())
                    } else {
                        format!("matrix {} ({unit})", matrix.source.display())
                    },
                    "the matrix's codes".to_owned(),
                    located,
                )
            }
            None => {
                let mut loc: Vec<Option<Location>> = vec![None; n];
                let mut where_ =
                    "centroids of the communes in Lambert-93 (overseas: local UTM)".to_owned();
                if let Some(points) = inputs.points {
                    diagnostics.extend(user_points(
                        communes,
                        points,
                        options.points_epsg,
                        &mut loc,
                    )?);
                    where_ = format!("{} (EPSG:{})", points.source.display(), options.points_epsg);
                }
                // the others at their centroid
                diagnostics
                    .extend(timings.time("locations", || centroids_into(communes, &mut loc))?);
                let unlocated: Vec<String> = (0..n)
                    .filter(|&i| loc[i].is_none())
                    .map(|i| communes.get(i as u32).code.clone())
                    .collect();
                if !unlocated.is_empty() {
                    diagnostics.push(
                        Diagnostic::new(
                            DiagnosticKind::NoLocation,
                            format!(
                                "communes sans géométrie ni point, sans score ({}) : {}",
                                unlocated.len(),
                                sample(&unlocated, 8)
                            ),
                            format!(
                                "{} commune(s) have no geometry and no point: no score: {}",
                                unlocated.len(),
                                sample_en(&unlocated, 8)
                            ),
                        )
                        .codes(unlocated),
                    );
                }
                let scale = match options.speed_kmh {
                    Some(kmh) if kmh > 0.0 && kmh.is_finite() => 60.0 / (kmh * 1000.0),
                    Some(kmh) => {
                        return Err(Error::Input(format!("--speed {kmh}: give km/h > 0")));
                    }
                    None => 1.0,
                };
                let desc = match options.speed_kmh {
                    Some(kmh) => {
                        format!("straight-line distance at {kmh} km/h, in minutes (an assumption)")
                    }
                    None => "straight-line distance, metres".to_owned(),
                };
                let located = loc.iter().map(Option::is_some).collect();
                let bound = Pairs::euclidean_bound(&loc, max_cost, scale);
                if bound > MAX_PAIRS {
                    return Err(Error::Input(format!(
                        "up to {bound} pairs of locations within the maximum cost {max_cost}, more than maillage holds ({MAX_PAIRS}): lower --max-cost, or check the CRS of --points"
                    )));
                }
                let pairs = timings.time("pairs", || Pairs::euclidean(&loc, max_cost, scale));
                (pairs, desc, where_, located)
            }
        };

        // the methods
        let population: Vec<f64> = communes.population.iter().map(|&p| p as f64).collect();
        let (demand, demand_desc) = match inputs.demand {
            None => (population.clone(), "population".to_owned()),
            Some(table) => {
                let (d, diags) = place_demand(communes, table)?;
                diagnostics.extend(diags);
                (d, format!("demand {}", table.source.display()))
            }
        };
        let w = |c: f64| weight.at(c);
        let (score_raw, unreached) = timings.time("catchments", || {
            catchments(method, &pairs, &demand, &supply, &w)
        });
        if let Some(i) = score_raw.iter().position(|s| !s.is_finite()) {
            return Err(Error::Input(format!(
                "the score of {} is not a finite number with the weight {weight}: give a weight that stays finite at every cost from 0 to {max_cost}",
                communes.get(i as u32).code
            )));
        }
        let score: Vec<Option<f64>> = score_raw
            .into_iter()
            .zip(&located)
            .map(|(s, &l)| l.then_some(s))
            .collect();
        // + 0.0: an empty float sum is -0.0
        let unreached_total: f64 = unreached.iter().map(|&j| supply[j]).sum::<f64>() + 0.0;
        if !unreached.is_empty() {
            let codes: Vec<String> = unreached
                .iter()
                .map(|&j| communes.get(j as u32).code.clone())
                .collect();
            diagnostics.push(
                Diagnostic::new(
                    DiagnosticKind::UnreachedSupply,
                    format!(
                        "offre {unreached_total} dans des communes qu'aucun habitant n'atteint en moins de {max_cost} ({}), comptée dans aucun score : {}",
                        codes.len(),
                        sample(&codes, 8)
                    ),
                    format!(
                        "supply {unreached_total} in {} commune(s) that no inhabitant reaches within {max_cost} counts in no score: {}",
                        codes.len(),
                        sample_en(&codes, 8)
                    ),
                )
                .codes(codes),
            );
        }
        let total_population: f64 = population.iter().sum();
        let (mut wsum, mut pop_scored) = (0.0, 0.0);
        for (s, p) in score.iter().zip(&population) {
            if let Some(s) = s {
                wsum += s * p;
                pop_scored += p;
            }
        }
        let mean = (pop_scored > 0.0).then(|| wsum / pop_scored);
        if method == Method::Apl && mean.is_some_and(|m| m < APL_LEAST) {
            diagnostics.push(Diagnostic::new(
                DiagnosticKind::AccessUnits,
                format!(
                    "{} : score APL moyen {:.2e} par habitant et par an, loin des quelque 4 consultations qu'un habitant reçoit : l'APL attend une offre en consultations par an ; une offre en ETP ou en nombre de médecins met chaque commune sous le seuil {}, qui ne s'applique alors pas (multiplier par les consultations d'un ETP)",
                    inputs.supply.source.display(),
                    mean.unwrap_or(0.0),
                    threshold.unwrap_or(2.5)
                ),
                format!(
                    "{}: mean APL score {:.2e} per inhabitant and year, far from the 4 or so consultations an inhabitant receives: APL expects a supply in consultations per year; a supply in FTE or in doctors puts every commune under the threshold {}, which then does not apply (multiply by the consultations of one FTE)",
                    inputs.supply.source.display(),
                    mean.unwrap_or(0.0),
                    threshold.unwrap_or(2.5)
                ),
            ));
        }
        let below = threshold.map(|t| {
            let (mut pop, mut count) = (0u64, 0u64);
            for (i, s) in score.iter().enumerate() {
                if s.is_some_and(|s| s < t) {
                    pop += communes.population[i];
                    count += 1;
                }
            }
            (pop, count)
        });
        let unit = match method {
            Method::Apl => {
                "supply per inhabitant per year (consultations, or FTE as given)".to_owned()
            }
            Method::Gravity => "weighted supply within reach (no competition)".to_owned(),
            _ => "supply per inhabitant within reach".to_owned(),
        };
        let summary = AccessSummary {
            method: method.as_str().to_owned(),
            weight: weight.to_string(),
            max_cost,
            costs: costs_desc,
            locations: locations_desc,
            pairs: pairs.len() as u64,
            self_pairs_added: self_added,
            communes_scored: score.iter().filter(|s| s.is_some()).count() as u64,
            communes_unscored: score.iter().filter(|s| s.is_none()).count() as u64,
            population: total_population as u64,
            demand: demand_desc,
            demand_total: demand.iter().sum::<f64>() + 0.0,
            supply_total,
            supply_unreached: unreached_total,
            population_weighted_mean: mean,
            population_weighted_mean_per_100k: mean.map(|m| m * 1e5),
            supply_reached_per_inhabitant: (pop_scored > 0.0)
                .then(|| (supply_total - unreached_total) / pop_scored),
            threshold,
            population_below_threshold: below.map(|b| b.0),
            communes_below_threshold: below.map(|b| b.1),
            unit,
        };
        Ok(Accessibility {
            supply,
            score,
            threshold,
            summary,
            diagnostics,
        })
    }

    /// Its diagnostics' messages in `lang`.
    pub fn set_lang(&mut self, lang: crate::lang::Lang) {
        for d in &mut self.diagnostics {
            *d = std::mem::replace(d, d.clone()).in_lang(lang);
        }
    }

    /// `access` per commune: `code,name,population,supply,score,score_per_100k`,
    /// sorted by code.
    ///
    /// # Errors
    /// [`Error::Table`] (not expected).
    pub fn commune_table(&self, analysis: &Analysis) -> Result<DataFrame> {
        let c = &analysis.communes;
        let n = c.len() as u32;
        frame(
            "access table",
            vec![
                col(
                    "code",
                    (0..n).map(|i| c.get(i).code.as_str()).collect::<Vec<_>>(),
                ),
                col(
                    "name",
                    (0..n).map(|i| c.get(i).name.as_str()).collect::<Vec<_>>(),
                ),
                col("population", c.population.clone()),
                col("supply", self.supply.clone()),
                col("score", self.score.clone()),
                col(
                    "score_per_100k",
                    self.score
                        .iter()
                        .map(|s| s.map(|s| s * 1e5))
                        .collect::<Vec<_>>(),
                ),
            ],
        )
    }

    /// The scores of groups of communes, one row each: population-weighted mean,
    /// median (the median inhabitant's score), minimum, and the population and
    /// communes under the threshold. `groups` gives each group's key columns and
    /// its communes with their weights (their population, or the part of it a
    /// drawn territory covers).
    fn group_columns(&self, groups: &[Vec<(u32, f64)>]) -> Vec<Column> {
        let stats: Vec<GroupStats> = groups
            .iter()
            .map(|members| group_stats(members, &self.score, self.threshold))
            .collect();
        vec![
            col(
                "communes",
                stats.iter().map(|s| s.communes).collect::<Vec<_>>(),
            ),
            col(
                "population",
                stats.iter().map(|s| s.population).collect::<Vec<_>>(),
            ),
            col(
                "mean_score",
                stats.iter().map(|s| s.mean).collect::<Vec<_>>(),
            ),
            col(
                "median_score",
                stats.iter().map(|s| s.median).collect::<Vec<_>>(),
            ),
            col("min_score", stats.iter().map(|s| s.min).collect::<Vec<_>>()),
            col(
                "mean_score_per_100k",
                stats
                    .iter()
                    .map(|s| s.mean.map(|m| m * 1e5))
                    .collect::<Vec<_>>(),
            ),
            col(
                "population_below_threshold",
                stats.iter().map(|s| s.population_below).collect::<Vec<_>>(),
            ),
            col(
                "communes_below_threshold",
                stats.iter().map(|s| s.communes_below).collect::<Vec<_>>(),
            ),
        ]
    }

    /// Per CPTS (`access_cpts`), per zone blanche (`access_zones`) and per
    /// département (`access_departements`). A CPTS counts the communes it claims
    /// (a drawn one the part of each commune it covers, by area); a zone blanche its
    /// communes.
    ///
    /// # Errors
    /// [`Error::Table`] (not expected).
    pub fn group_tables(&self, analysis: &Analysis) -> Result<(DataFrame, DataFrame, DataFrame)> {
        let a = analysis;
        let pop = &a.communes.population;
        let decl = &a.declarations;
        // CPTS: lists by their communes; drawn by the share of each commune covered
        let mut by_cpts: Vec<Vec<(u32, f64)>> = vec![Vec::new(); decl.cpts.len()];
        match &a.coverage.overlay {
            None => {
                for (k, t) in a.coverage.territories.iter().enumerate() {
                    by_cpts[k] = t
                        .members
                        .iter()
                        .map(|&i| (i, pop[i as usize] as f64))
                        .collect();
                }
            }
            Some(o) => {
                for (i, c) in o.communes.iter().enumerate() {
                    let area = a.communes.area_km2[i];
                    for &(k, km2) in &c.shares {
                        let share = if area > 0.0 {
                            (km2 / area).min(1.0)
                        } else {
                            1.0
                        };
                        by_cpts[k as usize].push((i as u32, pop[i] as f64 * share));
                    }
                }
            }
        }
        let mut cols = vec![
            col(
                "cpts_id",
                decl.cpts.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
            ),
            col(
                "cpts_name",
                decl.cpts
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>(),
            ),
            col(
                "status",
                decl.cpts
                    .iter()
                    .map(|c| c.status.map_or("", |s| s.as_str()))
                    .collect::<Vec<_>>(),
            ),
        ];
        cols.extend(self.group_columns(&by_cpts));
        let cpts = frame("access_cpts table", cols)?;

        let zones: Vec<Vec<(u32, f64)>> = a
            .coverage
            .white_zones
            .iter()
            .map(|z| {
                z.members
                    .iter()
                    .map(|&i| (i, pop[i as usize] as f64))
                    .collect()
            })
            .collect();
        let mut cols = vec![
            col(
                "zone_id",
                a.coverage
                    .white_zones
                    .iter()
                    .map(|z| z.id)
                    .collect::<Vec<_>>(),
            ),
            col(
                "codes",
                a.coverage
                    .white_zones
                    .iter()
                    .map(|z| {
                        z.members
                            .iter()
                            .map(|&i| a.communes.get(i).code.as_str())
                            .collect::<Vec<_>>()
                            .join("|")
                    })
                    .collect::<Vec<_>>(),
            ),
        ];
        cols.extend(self.group_columns(&zones));
        let zones = frame("access_zones table", cols)?;

        let mut deps: BTreeMap<&str, Vec<(u32, f64)>> = BTreeMap::new();
        for i in 0..a.communes.len() as u32 {
            deps.entry(a.communes.departement(i))
                .or_default()
                .push((i, pop[i as usize] as f64));
        }
        let keys: Vec<&str> = deps.keys().copied().collect();
        let groups: Vec<Vec<(u32, f64)>> = deps.into_values().collect();
        let mut cols = vec![
            col("departement", keys.clone()),
            col(
                "departement_nom",
                keys.iter()
                    .map(|k| crate::admin::departement_name(k).unwrap_or(""))
                    .collect::<Vec<_>>(),
            ),
        ];
        cols.extend(self.group_columns(&groups));
        let departements = frame("access_departements table", cols)?;
        Ok((cpts, zones, departements))
    }

    /// Stages `access.csv` (and/or `.parquet`), with declarations the CPTS, zone
    /// and département tables, `summary.json` (the analysis's figures with an
    /// `access` object; without declarations only the layer's totals) and
    /// `diagnostics.json`. Floats are written in full: scores are small numbers.
    ///
    /// # Errors
    /// [`Error::Io`] or [`Error::Table`].
    pub fn stage(&self, staging: &Staging, analysis: &Analysis, format: TableFormat) -> Result<()> {
        stage_runs(std::slice::from_ref(self), staging, analysis, format)
    }
}

/// Tables of several runs side by side: the first `keys` columns once (they are
/// the same in every run), then each run's other columns named after its method
/// (`score` → `score_2sfca`). One run's table is left as it is.
fn side_by_side(
    name: &str,
    tables: Vec<DataFrame>,
    keys: usize,
    methods: &[&str],
) -> Result<DataFrame> {
    if tables.len() == 1 {
        return Ok(tables.into_iter().next().unwrap_or_default());
    }
    let mut cols: Vec<Column> = tables[0].columns()[..keys].to_vec();
    for (df, m) in tables.iter().zip(methods) {
        cols.extend(df.columns()[keys..].iter().map(|c| {
            let mut c = c.clone();
            c.rename(format!("{}_{m}", c.name()).into());
            c
        }));
    }
    frame(name, cols)
}

/// The tables of one or several runs: the commune table (code, name, population,
/// supply, then each method's scores) and the CPTS, zone and département tables
/// (their keys, communes and population, then each method's figures).
#[allow(clippy::type_complexity)]
fn run_tables(
    runs: &[Accessibility],
    analysis: &Analysis,
) -> Result<(DataFrame, Vec<(&'static str, DataFrame)>)> {
    if runs.is_empty() {
        return Err(Error::Input("no accessibility run to write".into()));
    }
    let methods: Vec<&str> = runs.iter().map(|r| r.summary.method.as_str()).collect();
    let mut sorted = methods.clone();
    sorted.sort_unstable();
    if sorted.windows(2).any(|w| w[0] == w[1]) {
        return Err(Error::Input("each method once in --method".into()));
    }
    let communes = runs
        .iter()
        .map(|r| r.commune_table(analysis))
        .collect::<Result<Vec<_>>>()?;
    let communes = side_by_side("access table", communes, 4, &methods)?;
    let (mut cpts, mut zones, mut deps) = (Vec::new(), Vec::new(), Vec::new());
    for r in runs {
        let (c, z, d) = r.group_tables(analysis)?;
        cpts.push(c);
        zones.push(z);
        deps.push(d);
    }
    Ok((
        communes,
        vec![
            (
                "access_cpts",
                side_by_side("access_cpts table", cpts, 5, &methods)?,
            ),
            (
                "access_zones",
                side_by_side("access_zones table", zones, 4, &methods)?,
            ),
            (
                "access_departements",
                side_by_side("access_departements table", deps, 4, &methods)?,
            ),
        ],
    ))
}

/// Stages the outputs of several runs on the same analysis — one per method
/// (`--method 2sfca,e2sfca`): one table of each kind, the score columns of each
/// method side by side (`score_2sfca`, `mean_score_e2sfca`…), `summary.json`'s
/// `access` an object by method, and each diagnostic once. With one run, the
/// same files as [`Accessibility::stage`]. `formats` may ask for the score layer:
/// `access.gpkg` (every commune with the columns of `access.csv`, styled as a
/// graduated map of the first method's score per 100,000, and the group tables)
/// and `access.parquet` as GeoParquet.
///
/// ```no_run
/// use maillage::access::{stage_runs, AccessInputs, AccessOptions, Accessibility, Method};
/// use maillage::{Analysis, Inputs, TableFormat};
///
/// let analysis = Analysis::run(&Inputs::demo())?;
/// let supply = maillage::load::load_supply(&maillage::access::demo_supply(), &Default::default())?;
/// let inputs = AccessInputs { supply: &supply, points: None, costs: None, demand: None };
/// let runs = [Method::TwoStep, Method::Enhanced]
///     .into_iter()
///     .map(|method| Accessibility::compute(&analysis, &inputs, &AccessOptions { method, ..Default::default() }))
///     .collect::<maillage::Result<Vec<_>>>()?;
/// let staging = maillage::export::Staging::new("out".as_ref())?;
/// stage_runs(&runs, &staging, &analysis, TableFormat::Csv)?;   // score_2sfca, score_e2sfca…
/// staging.commit()?;
/// # Ok::<(), maillage::Error>(())
/// ```
///
/// # Errors
/// [`Error::Io`] or [`Error::Table`]; [`Error::Input`] for no run, or two runs of
/// one method.
pub fn stage_runs(
    runs: &[Accessibility],
    staging: &Staging,
    analysis: &Analysis,
    formats: impl Into<crate::export::Formats>,
) -> Result<()> {
    let formats = formats.into();
    let (communes, tables) = run_tables(runs, analysis)?;
    let first = &runs[0];
    let many = runs.len() > 1;
    // with GeoParquet, access.parquet is the layer (the table's columns and the
    // geometry), and the group tables are written as Parquet too
    let plain = match (formats.tables, formats.geoparquet) {
        (TableFormat::Csv, true) => TableFormat::Both,
        (t, _) => t,
    };
    let communes_format = match (plain, formats.geoparquet) {
        (TableFormat::Both, true) | (TableFormat::Csv, _) => Some(TableFormat::Csv),
        (TableFormat::Parquet, true) => None,
        (t, false) => Some(t),
    };
    if let Some(f) = communes_format {
        write_table_with(staging, "access", &communes, f, None)?;
    }
    let declared = !analysis.declarations.cpts.is_empty();
    for (name, df) in &tables {
        if declared || *name == "access_departements" {
            write_table_with(staging, name, df, plain, None)?;
        }
    }
    stage_layers(runs, staging, analysis, &communes, &tables, &formats)?;
    let mut summary = serde_json::to_value(&analysis.summary)
        .map_err(|e| Error::Input(format!("summary: {e}")))?;
    let mut diagnostics = analysis.summary.diagnostics.clone();
    for r in runs {
        for d in &r.diagnostics {
            if !diagnostics
                .iter()
                .any(|x| x.kind == d.kind && x.message == d.message)
            {
                diagnostics.push(d.clone());
            }
        }
    }
    let access = if many {
        serde_json::Value::Object(
            runs.iter()
                .map(|r| Ok((r.summary.method.clone(), serde_json::to_value(&r.summary)?)))
                .collect::<std::result::Result<serde_json::Map<_, _>, serde_json::Error>>()
                .map_err(|e| Error::Input(format!("summary: {e}")))?,
        )
    } else {
        serde_json::to_value(&first.summary).map_err(|e| Error::Input(format!("summary: {e}")))?
    };
    if let Some(obj) = summary.as_object_mut() {
        if !declared {
            // no declarations: the coverage figures would only say "all white"
            obj.retain(|k, _| {
                matches!(
                    k.as_str(),
                    "communes_total" | "population_total" | "area_km2_total" | "inputs"
                )
            });
        }
        obj.insert("access".into(), access);
        obj.insert(
            "diagnostics".into(),
            serde_json::to_value(&diagnostics)
                .map_err(|e| Error::Input(format!("summary: {e}")))?,
        );
    }
    let dir = staging.dir().to_owned();
    let json = |v: &serde_json::Value| {
        let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
        s.push('\n');
        s
    };
    let report = serde_json::to_value(crate::diagnostics::Report::new(&diagnostics))
        .map_err(|e| Error::Input(format!("diagnostics: {e}")))?;
    for (name, text) in [
        ("summary.json", json(&summary)),
        ("diagnostics.json", json(&report)),
    ] {
        staging.write(name, |w| {
            std::io::Write::write_all(w, text.as_bytes()).map_err(|e| Error::io(dir.join(name), e))
        })?;
    }
    Ok(())
}

/// Stages `matrix` as `access_matrix.parquet` (`origin,dest,cost`, codes as
/// text, costs as full doubles): the travel times a `--roads` run computed, which
/// `--costs` reads back to give the same scores without the network.
///
/// # Errors
/// [`Error::Table`] or [`Error::Io`].
pub fn stage_matrix(matrix: &CostMatrix, staging: &Staging) -> Result<()> {
    use polars::prelude::{Column, NamedFrom, Series};
    let p = &matrix.pairs;
    let code = |id: u32| matrix.code(id);
    let df = DataFrame::new(
        p.len(),
        vec![
            Column::from(Series::new(
                "origin".into(),
                p.iter().map(|x| code(x.origin)).collect::<Vec<_>>(),
            )),
            Column::from(Series::new(
                "dest".into(),
                p.iter().map(|x| code(x.dest)).collect::<Vec<_>>(),
            )),
            Column::from(Series::new(
                "cost".into(),
                p.iter().map(|x| x.cost).collect::<Vec<_>>(),
            )),
        ],
    )
    .map_err(|source| Error::Table {
        context: "access_matrix".into(),
        source,
    })?;
    crate::export::write_table_with(
        staging,
        "access_matrix",
        &df,
        crate::export::TableFormat::Parquet,
        None,
    )
}

/// The score layer: every commune of the layer with the columns of
/// `access.csv`, as `access.parquet` (GeoParquet) and/or in `access.gpkg` (with
/// the group tables), styled for QGIS as a graduated map of the first method's
/// score per 100,000 (APL: the score), Jenks natural breaks in 5 classes, the
/// maps' ramp.
fn stage_layers(
    runs: &[Accessibility],
    staging: &Staging,
    analysis: &Analysis,
    communes: &DataFrame,
    tables: &[(&'static str, DataFrame)],
    formats: &crate::export::Formats,
) -> Result<()> {
    use crate::export::gpkg::{self, Content, GpkgOptions};
    use crate::export::layers::Layer;
    if !formats.gpkg && !formats.geoparquet {
        return Ok(());
    }
    let geometries: Vec<&geo::MultiPolygon<f64>> = (0..analysis.communes.len() as u32)
        .map(|i| &analysis.communes.get(i).geometry)
        .collect();
    let layer = || Layer {
        name: "access",
        description: format!("Accessibility per commune ({})", runs[0].summary.method),
        table: communes.clone(),
        geometries: geometries.clone(),
    };
    if formats.geoparquet {
        crate::export::geoparquet::stage_layers(staging, &[layer()])?;
    }
    if formats.gpkg {
        let first = &runs[0];
        let per_100k = first.summary.method != Method::Apl.as_str();
        let values: Vec<f64> = first
            .score
            .iter()
            .flatten()
            .map(|s| if per_100k { s * 1e5 } else { *s })
            .collect();
        let (upper, _) =
            crate::render::classify::classify(&values, 5, crate::render::Breaks::Jenks);
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let mut breaks = vec![min];
        breaks.extend(upper);
        let column = match (per_100k, runs.len() > 1) {
            (true, false) => "score_per_100k".to_owned(),
            (false, false) => "score".to_owned(),
            (true, true) => format!("score_per_100k_{}", first.summary.method),
            (false, true) => format!("score_{}", first.summary.method),
        };
        let ramp = ["#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494"];
        let style = gpkg::graduated_qml(&column, &breaks, &ramp);
        let declared = !analysis.declarations.cpts.is_empty();
        let content = Content {
            layers: vec![(layer(), style)],
            tables: tables
                .iter()
                .filter(|(n, _)| declared || *n == "access_departements")
                .map(|(n, df)| (*n, df, format!("Accessibility per {}", &n[7..])))
                .collect(),
        };
        gpkg::stage_content(
            staging,
            "access.gpkg",
            &content,
            &GpkgOptions {
                date: formats.date.clone(),
            },
        )?;
    }
    Ok(())
}

/// The smallest plausible mean APL (consultations per inhabitant per year; France
/// is near 4): below it the supply is in another unit (FTE, doctors).
const APL_LEAST: f64 = 0.05;

/// The most pairs a straight-line run builds (an upper bound from the grid, about
/// three times the pairs found): 500 million, some 2 GB. France within 100 km is
/// about 250 million; lon/lat points read as metres would be a billion and more.
pub const MAX_PAIRS: u64 = 500_000_000;

/// Options that cannot go together, refused rather than one silently ignored.
fn check_options(inputs: &AccessInputs<'_>, options: &AccessOptions) -> Result<()> {
    let conflict = |m: &str| Err(Error::Input(m.to_owned()));
    if inputs.costs.is_some() && inputs.points.is_some() {
        return conflict("--points places communes for straight-line distances, and a --costs matrix replaces those distances: give one or the other");
    }
    if inputs.costs.is_some() && options.speed_kmh.is_some() {
        return conflict("--speed turns straight-line metres into minutes, and a --costs matrix has its own costs: give one or the other");
    }
    if inputs.costs.is_none() && options.cost_unit.is_some() {
        return conflict("--cost-unit says the unit of a --costs matrix: without one, costs are straight-line metres (minutes with --speed)");
    }
    if options.method == Method::TwoStep
        && options
            .weight
            .as_ref()
            .is_some_and(|w| *w != Weight::Binary)
    {
        return conflict("--method 2sfca counts every pair within the maximum cost alike (a binary weight): for a distance decay use --method e2sfca (or 3sfca)");
    }
    Ok(())
}

/// The error for a supply that puts nothing in the layer's communes, with the
/// likely cause.
fn empty_supply(table: &SupplyTable, epsg: u32) -> String {
    let file = table.source.display();
    let total: f64 = table.rows.iter().map(|r| r.supply).sum();
    if table.rows.is_empty() {
        return format!("{file}: no supply row: every score would be 0");
    }
    if total.is_nan() || total <= 0.0 {
        return format!(
            "{file}: the supply of its {} rows adds up to 0: every score would be 0",
            table.rows.len()
        );
    }
    if table.points {
        let lon_lat = table
            .rows
            .iter()
            .filter_map(|r| r.point)
            .all(|[x, y]| x.abs() <= 180.0 && y.abs() <= 90.0);
        let hint = if lon_lat && epsg != 4326 {
            " They look like longitude/latitude: give --supply-crs EPSG:4326.".to_owned()
        } else {
            format!(" Are they in EPSG:{epsg} (--supply-crs)?")
        };
        return format!(
            "{file}: none of its {} points falls in a commune of the layer: no supply is placed.{hint}",
            table.rows.len()
        );
    }
    format!(
        "{file}: none of its {} rows names a commune of the layer with supply > 0: every score would be 0",
        table.rows.len()
    )
}

/// Refuses a matrix whose costs are far above the default maximum cost (minutes)
/// — a matrix in metres read as minutes would keep only each commune's pair with
/// itself.
fn check_matrix_unit(matrix: &CostMatrix, max_cost: f64) -> Result<()> {
    let mut costs: Vec<f64> = matrix
        .pairs
        .iter()
        .filter(|p| p.origin != p.dest)
        .map(|p| p.cost)
        .collect();
    if costs.is_empty() {
        return Ok(());
    }
    let mid = costs.len() / 2;
    let (_, median, _) = costs.select_nth_unstable_by(mid, f64::total_cmp);
    let median = *median;
    if median > 20.0 * max_cost {
        let beyond = costs.iter().filter(|&&c| c > max_cost).count();
        return Err(Error::Input(format!(
            "{}: its median cost is {median}, and {beyond} of its {} pairs between two communes are beyond the default maximum of {max_cost} minutes: are the costs in metres? Say their unit with --cost-unit metres (or km), or give --max-cost",
            matrix.source.display(),
            costs.len()
        )));
    }
    Ok(())
}

/// Each commune's demand from a demand table (codes of former communes in the
/// commune that absorbed them, added up). Every commune of the layer with
/// inhabitants must have a row: a missing one would silently count no one.
fn place_demand(
    communes: &crate::load::Communes,
    table: &DemandTable,
) -> Result<(Vec<f64>, Vec<Diagnostic>)> {
    let file = table.source.display().to_string();
    let n = communes.len();
    let mut demand = vec![0.0; n];
    let mut given = vec![false; n];
    let mut outside = Vec::new();
    for r in &table.rows {
        match locations::place_code(communes, &r.code) {
            Some(i) => {
                demand[i as usize] += r.demand;
                given[i as usize] = true;
            }
            None => outside.push(format!("{} (ligne {})", r.code, r.line)),
        }
    }
    let missing: Vec<String> = (0..n)
        .filter(|&i| !given[i] && communes.population[i] > 0)
        .map(|i| communes.get(i as u32).code.clone())
        .collect();
    if !missing.is_empty() {
        return Err(Error::Input(format!(
            "{file}: {} communes of the layer with inhabitants have no demand row: {} (give a row for each, 0 where the demand is nil)",
            missing.len(),
            sample(&missing, 8)
        )));
    }
    let mut diagnostics = Vec::new();
    diagnostics.extend(Diagnostic::reading(&file, &table.notes));
    if !outside.is_empty() {
        diagnostics.push(Diagnostic::new(
            DiagnosticKind::AccessOutsideLayer,
            format!(
                "{file} : demande de communes absentes de la couche, laissée de côté ({}) : {}",
                outside.len(),
                sample(&outside, 6)
            ),
            format!(
                "{file}: demand of {} commune(s) the layer does not have, left out: {}",
                outside.len(),
                items_en(&sample_en(&outside, 6))
            ),
        ));
    }
    Ok((demand, diagnostics))
}

/// The scores of every unit, and the units whose supply no one reaches.
fn catchments(
    method: Method,
    pairs: &Pairs,
    population: &[f64],
    supply: &[f64],
    w: &(dyn Fn(f64) -> f64 + Sync),
) -> (Vec<f64>, Vec<usize>) {
    let n = pairs.units();
    if method == Method::Gravity {
        let score = (0..n)
            .into_par_iter()
            .map(|i| {
                let mut s = 0.0;
                pairs.for_origin(i, |j, c| s += supply[j] * w(c));
                s
            })
            .collect();
        return (score, Vec::new());
    }
    // 3SFCA: each origin's total weight, to share its demand among destinations.
    // Weights are computed again in each step rather than stored: storing them
    // saved ~20 ms for France at 30 km and cost 40 MB more at peak.
    let selection: Vec<f64> = if method == Method::ThreeStep {
        (0..n)
            .into_par_iter()
            .map(|i| {
                let mut s = 0.0;
                pairs.for_origin(i, |_, c| s += w(c));
                s
            })
            .collect()
    } else {
        Vec::new()
    };
    let g = |i: usize, c: f64| -> f64 {
        if selection.is_empty() {
            w(c)
        } else if selection[i] > 0.0 {
            let wc = w(c);
            wc * (wc / selection[i])
        } else {
            0.0
        }
    };
    // step 1: each destination's weighted demand, and its supply-to-demand ratio
    let demand: Vec<f64> = (0..n)
        .into_par_iter()
        .map(|j| {
            let mut d = 0.0;
            pairs.for_dest(j, |i, c| d += population[i] * g(i, c));
            d
        })
        .collect();
    let ratio: Vec<f64> = demand
        .iter()
        .zip(supply)
        .map(|(&d, &s)| if d > 0.0 { s / d } else { 0.0 })
        .collect();
    let unreached = (0..n)
        .filter(|&j| supply[j] > 0.0 && (demand[j] <= 0.0 || demand[j].is_nan()))
        .collect();
    // step 2: each origin's sum of the ratios it reaches
    let score = (0..n)
        .into_par_iter()
        .map(|i| {
            let mut s = 0.0;
            pairs.for_origin(i, |j, c| s += ratio[j] * g(i, c));
            s
        })
        .collect();
    (score, unreached)
}

/// The pairs of a matrix over the layer's communes: codes read as the layer's
/// (older codes as the commune that absorbed them), pairs beyond the maximum cost
/// left out, a repeated pair with the same cost counted once, and the pair with
/// itself added at cost 0 for each commune the matrix has but without it.
/// Communes in no pair at all are not located (no score). Returns the pairs, how
/// many self pairs were added, which communes are located, and the diagnostics.
///
/// Each distinct code is placed once; the pairs are put in rows by origin with a
/// counting sort (stable: file order), each row sorted by destination in
/// parallel.
fn matrix_pairs(
    analysis: &Analysis,
    matrix: &CostMatrix,
    max_cost: f64,
) -> Result<(Pairs, u64, Vec<bool>, Vec<Diagnostic>)> {
    let communes = &analysis.communes;
    let n = communes.len();
    let file = matrix.source.display().to_string();
    let place: Vec<Option<u32>> = matrix
        .codes
        .iter()
        .map(|c| locations::place_code(communes, c))
        .collect();
    let mut present = vec![false; n];
    let mut outside: Vec<String> = Vec::new();
    let mut outside_lines = Vec::new();
    let mut beyond = 0u64;
    let mut count = vec![0usize; n + 1];
    for (k, p) in matrix.pairs.iter().enumerate() {
        match (place[p.origin as usize], place[p.dest as usize]) {
            (Some(o), Some(d)) => {
                present[o as usize] = true;
                present[d as usize] = true;
                if p.cost <= max_cost {
                    count[o as usize + 1] += 1;
                } else {
                    beyond += 1;
                }
            }
            _ => {
                if outside.len() < 5 {
                    outside.push(format!(
                        "{}→{} (ligne {})",
                        matrix.code(p.origin),
                        matrix.code(p.dest),
                        matrix.line(k)
                    ));
                }
                outside_lines.push(matrix.line(k));
            }
        }
    }
    // rows by origin, in file order
    for i in 0..n {
        count[i + 1] += count[i];
    }
    let offsets = count;
    let mut fill = offsets.clone();
    // (destination, position in the matrix): 8 bytes a pair, costs and lines
    // read back from the matrix
    let mut cells: Vec<(u32, u32)> = vec![(0, 0); offsets[n]];
    for (k, p) in matrix.pairs.iter().enumerate() {
        if let (Some(o), Some(d)) = (place[p.origin as usize], place[p.dest as usize]) {
            if p.cost <= max_cost {
                let slot = &mut fill[o as usize];
                cells[*slot] = (d, k as u32);
                *slot += 1;
            }
        }
    }
    drop(fill);
    // each row by destination (then file order): repeats, conflicts, the self pair
    let mut slices: Vec<&mut [(u32, u32)]> = Vec::with_capacity(n);
    let mut rest = cells.as_mut_slice();
    for i in 0..n {
        let (row, tail) = rest.split_at_mut(offsets[i + 1] - offsets[i]);
        slices.push(row);
        rest = tail;
    }
    struct Row {
        kept: usize,
        repeated: Vec<u64>,
        conflicts: Vec<String>,
    }
    let cost = |k: u32| matrix.pairs[k as usize].cost;
    let rows: Vec<Row> = slices
        .into_par_iter()
        .enumerate()
        .map(|(i, row)| {
            row.sort_unstable();
            let mut r = Row {
                kept: 0,
                repeated: Vec::new(),
                conflicts: Vec::new(),
            };
            // compacted in place: the first of each destination kept
            let mut k = 0;
            while k < row.len() {
                let (d, first) = row[k];
                let c = cost(first);
                let mut m = k + 1;
                while m < row.len() && row[m].0 == d {
                    let other = row[m].1;
                    if cost(other) == c {
                        r.repeated.push(matrix.line(other as usize));
                    } else {
                        r.conflicts.push(format!(
                            "{}→{} costs {c} on line {} and {} on line {}",
                            communes.get(i as u32).code,
                            communes.get(d).code,
                            matrix.line(first as usize),
                            cost(other),
                            matrix.line(other as usize)
                        ));
                    }
                    m += 1;
                }
                row[r.kept] = (d, first);
                r.kept += 1;
                k = m;
            }
            r
        })
        .collect();
    let conflicts: Vec<String> = rows
        .iter()
        .flat_map(|r| r.conflicts.iter().cloned())
        .collect();
    if !conflicts.is_empty() {
        return Err(Error::Input(format!(
            "{file}: {} pair(s) given twice with different costs: {}",
            conflicts.len(),
            sample(&conflicts, 5)
        )));
    }
    let mut repeated: Vec<u64> = rows
        .iter()
        .flat_map(|r| r.repeated.iter().copied())
        .collect();
    repeated.sort_unstable();
    // the rows, each with its self pair where the matrix has the commune but not
    // it: lengths first, then the rows filled in parallel
    let self_at: Vec<Option<usize>> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let row = &cells[offsets[i]..offsets[i] + r.kept];
            let me = i as u32;
            let at = row.partition_point(|c| c.0 < me);
            let has_self = row.get(at).is_some_and(|c| c.0 == me);
            (present[i] && !has_self).then_some(at)
        })
        .collect();
    let added = self_at.iter().flatten().count();
    let mut new_offsets = Vec::with_capacity(n + 1);
    new_offsets.push(0usize);
    for (r, s) in rows.iter().zip(&self_at) {
        new_offsets.push(new_offsets[new_offsets.len() - 1] + r.kept + usize::from(s.is_some()));
    }
    let mut dest = vec![0u32; new_offsets[n]];
    let mut costs = vec![0f64; new_offsets[n]];
    {
        let mut out: Vec<(&mut [u32], &mut [f64])> = Vec::with_capacity(n);
        let (mut d_rest, mut c_rest) = (dest.as_mut_slice(), costs.as_mut_slice());
        for i in 0..n {
            let len = new_offsets[i + 1] - new_offsets[i];
            let (d, dt) = d_rest.split_at_mut(len);
            let (c, ct) = c_rest.split_at_mut(len);
            out.push((d, c));
            (d_rest, c_rest) = (dt, ct);
        }
        out.into_par_iter().enumerate().for_each(|(i, (d, c))| {
            let row = &cells[offsets[i]..offsets[i] + rows[i].kept];
            let mut w = 0;
            for (k, &(to, at)) in row.iter().enumerate() {
                if self_at[i] == Some(k) {
                    (d[w], c[w]) = (i as u32, 0.0);
                    w += 1;
                }
                (d[w], c[w]) = (to, cost(at));
                w += 1;
            }
            if self_at[i] == Some(row.len()) {
                (d[w], c[w]) = (i as u32, 0.0);
            }
        });
    }
    drop(cells);
    let offsets = new_offsets;
    let pairs = Pairs::from_rows(offsets, dest, costs);

    let mut diagnostics = Vec::new();
    diagnostics.extend(Diagnostic::reading(&file, &matrix.notes));
    if !outside_lines.is_empty() {
        let shown = if outside_lines.len() > outside.len() {
            format!(
                "{}, … ({} en tout)",
                outside.join(", "),
                outside_lines.len()
            )
        } else {
            outside.join(", ")
        };
        diagnostics.push(
            Diagnostic::new(
                DiagnosticKind::AccessOutsideLayer,
                format!(
                    "{file} : paires qui nomment une commune absente de la couche, laissées de côté ({}) : {shown}",
                    outside_lines.len(),
                ),
                format!(
                    "{file}: {} pair(s) name a commune the layer does not have, left out: {}",
                    outside_lines.len(),
                    items_en(&shown).replace("en tout", "in all")
                ),
            )
            .lines(outside_lines),
        );
    }
    let absent: Vec<String> = (0..n)
        .filter(|&i| !present[i])
        .map(|i| communes.get(i as u32).code.clone())
        .collect();
    if !absent.is_empty() {
        diagnostics.push(
            Diagnostic::new(
                DiagnosticKind::NoLocation,
                format!(
                    "{file} : communes absentes de la matrice (dans aucune paire), sans score ; leur offre n'est atteinte par personne ({}) : {}",
                    absent.len(),
                    sample(&absent, 8)
                ),
                format!(
                    "{file}: {} commune(s) absent from the matrix (in no pair) have no score, and their supply reaches no one: {}",
                    absent.len(),
                    sample_en(&absent, 8)
                ),
            )
            .codes(absent),
        );
    }
    let (mut notes, mut notes_en) = (Vec::new(), Vec::new());
    if added > 0 {
        notes.push(format!(
            "paires d'une commune à elle-même ajoutées au coût 0 ({added} ; une commune atteint toujours sa propre offre)"
        ));
        notes_en.push(format!(
            "{added} commune-to-itself pair(s) added at cost 0 (a commune always reaches its own supply)"
        ));
    }
    if !repeated.is_empty() {
        notes.push(format!(
            "paires répétées avec le même coût comptées une fois ({}, lignes {})",
            repeated.len(),
            sample(&repeated, 6)
        ));
        notes_en.push(format!(
            "{} pair(s) repeated with the same cost counted once (lines {})",
            repeated.len(),
            sample_en(&repeated, 6)
        ));
    }
    if beyond > 0 {
        notes.push(format!(
            "paires au-delà du coût maximal {max_cost} laissées de côté ({beyond})"
        ));
        notes_en.push(format!(
            "{beyond} pair(s) beyond the maximum cost {max_cost} left out"
        ));
    }
    if !notes.is_empty() {
        diagnostics.push(
            Diagnostic::new(
                DiagnosticKind::CostPairs,
                format!("{file} : {}", notes.join(" ; ")),
                format!("{file}: {}", notes_en.join("; ")),
            )
            .lines(repeated),
        );
    }
    Ok((pairs, added as u64, present, diagnostics))
}

struct GroupStats {
    communes: u64,
    population: u64,
    mean: Option<f64>,
    median: Option<f64>,
    min: Option<f64>,
    population_below: Option<u64>,
    communes_below: Option<u64>,
}

fn group_stats(
    members: &[(u32, f64)],
    score: &[Option<f64>],
    threshold: Option<f64>,
) -> GroupStats {
    let mut scored: Vec<(f64, f64)> = members
        .iter()
        .filter_map(|&(i, w)| score[i as usize].map(|s| (s, w)))
        .collect();
    let weight: f64 = scored.iter().map(|s| s.1).sum();
    let mean = (weight > 0.0).then(|| scored.iter().map(|(s, w)| s * w).sum::<f64>() / weight);
    scored.sort_by(|a, b| a.0.total_cmp(&b.0));
    // the median inhabitant's score
    let median = (weight > 0.0).then(|| {
        let mut acc = 0.0;
        scored
            .iter()
            .find(|(_, w)| {
                acc += w;
                acc >= weight / 2.0
            })
            .map_or(f64::NAN, |s| s.0)
    });
    // a commune where nobody lives weighs nothing: not the group's minimum either
    let min = scored.iter().find(|s| s.1 > 0.0).map(|s| s.0);
    let below = threshold.map(|t| {
        let under: Vec<&(u32, f64)> = members
            .iter()
            .filter(|&&(i, _)| score[i as usize].is_some_and(|s| s < t))
            .collect();
        (
            under.iter().map(|(_, w)| *w).sum::<f64>().round() as u64,
            under.len() as u64,
        )
    });
    GroupStats {
        communes: members.len() as u64,
        population: members.iter().map(|m| m.1).sum::<f64>().round() as u64,
        mean,
        median,
        min,
        population_below: below.map(|b| b.0),
        communes_below: below.map(|b| b.1),
    }
}

fn col<T, V>(name: &str, values: V) -> Column
where
    Series: NamedFrom<V, T>,
    T: ?Sized,
{
    Column::from(Series::new(name.into(), values))
}

fn frame(context: &str, columns: Vec<Column>) -> Result<DataFrame> {
    let height = columns.first().map_or(0, |c| c.len());
    DataFrame::new(height, columns).map_err(|source| Error::Table {
        context: context.to_owned(),
        source,
    })
}

impl Accessibility {
    /// The terminal summary: inputs, pairs, figures, then the diagnostics of the
    /// inputs and of the run (at most `max_diagnostics` shown), in French.
    pub fn text(&self, analysis: &Analysis, max_diagnostics: usize) -> String {
        self.text_in(analysis, crate::lang::Lang::Fr, max_diagnostics)
    }

    /// [`Accessibility::text`] in `lang`, the diagnostics included.
    pub fn text_in(
        &self,
        analysis: &Analysis,
        lang: crate::lang::Lang,
        max_diagnostics: usize,
    ) -> String {
        use std::fmt::Write as _;
        let fr = lang == crate::lang::Lang::Fr;
        let s = &self.summary;
        // summary.json's descriptions are English; the French terminal says them in French
        let say = |t: &str| {
            if fr {
                crate::lang::access_fr(t)
            } else {
                t.to_owned()
            }
        };
        let mut out = String::new();
        let layer = analysis
            .summary
            .inputs
            .get("communes")
            .map_or("", String::as_str);
        let _ = writeln!(
            out,
            "{}",
            if fr {
                format!(
                    "maillage access : {} communes ({}), {} ({}), pondération {}, coût maximal {} ({})",
                    analysis.communes.len(),
                    layer,
                    s.method,
                    say(&s.unit),
                    s.weight,
                    s.max_cost,
                    say(&s.costs)
                )
            } else {
                format!(
                    "maillage access: {} communes ({}), {} ({}), weight {}, max cost {} ({})",
                    analysis.communes.len(),
                    layer,
                    s.method,
                    s.unit,
                    s.weight,
                    s.max_cost,
                    s.costs
                )
            }
        );
        let added = if s.self_pairs_added == 0 {
            String::new()
        } else if fr {
            format!(
                " (paires d'une commune à elle-même ajoutées : {})",
                s.self_pairs_added
            )
        } else {
            format!(" ({} commune-to-itself pairs added)", s.self_pairs_added)
        };
        let _ = writeln!(
            out,
            "{}",
            if fr {
                format!(
                    "  lieux : {} ; {} paires dans le coût maximal{added}",
                    say(&s.locations),
                    lang.int(s.pairs)
                )
            } else {
                format!(
                    "  locations: {}; {} pairs within the maximum cost{added}",
                    s.locations, s.pairs
                )
            }
        );
        let _ = writeln!(
            out,
            "{}",
            if fr {
                format!(
                    "  population {}, demande {} ({}), offre {} ({} non atteinte) ; communes avec un score : {}, sans lieu : {}",
                    lang.int(s.population), s.demand_total, say(&s.demand), s.supply_total, s.supply_unreached, lang.int(s.communes_scored), lang.int(s.communes_unscored)
                )
            } else {
                format!(
                    "  population {}, demand {} ({}), supply {} ({} unreached); {} communes scored, {} without a location",
                    s.population, s.demand_total, s.demand, s.supply_total, s.supply_unreached, s.communes_scored, s.communes_unscored
                )
            }
        );
        if let Some(m) = s.population_weighted_mean {
            let reached = s.supply_reached_per_inhabitant.unwrap_or(f64::NAN);
            let _ = writeln!(
                out,
                "{}",
                if fr {
                    format!(
                        "  score moyen pondéré par la population {m:.6e} ({:.3} pour 100 000) ; offre atteinte par habitant {reached:.6e}",
                        m * 1e5
                    )
                } else {
                    format!(
                        "  population-weighted mean score {m:.6e} ({:.3} per 100,000); supply reached per inhabitant {reached:.6e}",
                        m * 1e5
                    )
                }
            );
        }
        if let (Some(t), Some(p), Some(c)) = (
            s.threshold,
            s.population_below_threshold,
            s.communes_below_threshold,
        ) {
            let _ = writeln!(
                out,
                "{}",
                if fr {
                    format!("  sous le seuil {t} : {c} communes, {p} habitants")
                } else {
                    format!("  under the threshold {t}: {c} communes, {p} inhabitants")
                }
            );
        }
        let diags: Vec<Diagnostic> = analysis
            .summary
            .diagnostics
            .iter()
            .chain(&self.diagnostics)
            .map(|d| d.clone().in_lang(lang))
            .collect();
        let report = crate::diagnostics::Report::new(&diags);
        let _ = write!(out, "\n{}", report.text_in(lang, max_diagnostics));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(x: f64) -> Option<Location> {
        Some(Location {
            epsg: 2154,
            point: [x, 0.0],
        })
    }

    /// Scores of units on a line (metres), populations and supplies given.
    fn run(
        method: Method,
        xs: &[f64],
        pop: &[f64],
        supply: &[f64],
        w: &Weight,
        max: f64,
    ) -> (Vec<f64>, Vec<usize>) {
        let locs: Vec<Option<Location>> = xs.iter().map(|&x| at(x)).collect();
        let pairs = Pairs::euclidean(&locs, max, 1.0);
        catchments(method, &pairs, pop, supply, &|c| w.at(c))
    }

    #[test]
    fn two_step_by_hand() {
        // A(pop 100, 1 doctor) — 10 m — B(pop 300): both within 15 m of each other
        let (s, _) = run(
            Method::TwoStep,
            &[0.0, 10.0],
            &[100.0, 300.0],
            &[1.0, 0.0],
            &Weight::Binary,
            15.0,
        );
        // R_A = 1/400; both reach A
        assert!((s[0] - 1.0 / 400.0).abs() < 1e-18 && (s[1] - 1.0 / 400.0).abs() < 1e-18);
        // out of reach: B only has its own (empty) supply
        let (s, _) = run(
            Method::TwoStep,
            &[0.0, 20.0],
            &[100.0, 300.0],
            &[1.0, 0.0],
            &Weight::Binary,
            15.0,
        );
        assert_eq!(s, vec![0.01, 0.0]);
    }

    #[test]
    fn the_population_weighted_mean_is_the_supply_per_inhabitant() {
        let xs: Vec<f64> = (0..40).map(|i| (i * i % 97) as f64 * 1000.0).collect();
        let pop: Vec<f64> = (0..40)
            .map(|i| ((i * 37) % 11 + 1) as f64 * 100.0)
            .collect();
        let sup: Vec<f64> = (0..40).map(|i| (i % 3) as f64).collect();
        for (method, w) in [
            (Method::TwoStep, Weight::Binary),
            (Method::Enhanced, "gaussian:15000".parse().unwrap()),
            (
                Method::Enhanced,
                "step:10000=1,20000=0.68,30000=0.22".parse().unwrap(),
            ),
            (Method::ThreeStep, "gaussian:15000".parse().unwrap()),
        ] {
            let (s, unreached) = run(method, &xs, &pop, &sup, &w, 30_000.0);
            assert!(unreached.is_empty());
            let mean: f64 =
                s.iter().zip(&pop).map(|(s, p)| s * p).sum::<f64>() / pop.iter().sum::<f64>();
            let expected = sup.iter().sum::<f64>() / pop.iter().sum::<f64>();
            assert!(
                (mean - expected).abs() < 1e-12 * expected,
                "{method:?}: {mean} vs {expected}"
            );
        }
    }

    #[test]
    fn supply_nobody_reaches_is_set_apart() {
        // a doctor where nobody lives, 50 km from everyone
        let (s, unreached) = run(
            Method::TwoStep,
            &[0.0, 50_000.0],
            &[100.0, 0.0],
            &[0.0, 2.0],
            &Weight::Binary,
            30_000.0,
        );
        assert_eq!(unreached, vec![1]);
        assert_eq!(s, vec![0.0, 0.0], "no division by zero, no infinity");
    }

    #[test]
    fn an_asymmetric_matrix_is_read_in_its_own_direction() {
        // origin 0 reaches 1 cheaply, 1 does not reach 0
        let pairs = Pairs::matrix(2, vec![(0, 0, 0.0), (1, 1, 0.0), (0, 1, 5.0)]);
        let (s, _) = catchments(
            Method::TwoStep,
            &pairs,
            &[100.0, 100.0],
            &[0.0, 1.0],
            &|_| 1.0,
        );
        // demand at 1: both origins (200); score of 0 and of 1: 1/200
        assert_eq!(s, vec![0.005, 0.005]);
        let (s, _) = catchments(
            Method::TwoStep,
            &pairs,
            &[100.0, 100.0],
            &[1.0, 0.0],
            &|_| 1.0,
        );
        // supply at 0: only origin 0 reaches it
        assert_eq!(s, vec![0.01, 0.0]);
    }

    #[test]
    fn three_step_shares_each_origins_demand_among_its_destinations() {
        // one origin between two equal practices at the same distance: half each
        let (s, _) = run(
            Method::ThreeStep,
            &[-10.0, 0.0, 10.0],
            &[0.0, 100.0, 0.0],
            &[1.0, 0.0, 1.0],
            &Weight::Binary,
            10.0,
        );
        // G = 1/3 for each of the origin's 3 pairs: D_j = 100/3 at each practice,
        // R_j = 0.03, A = (0.03 + 0 + 0.03) / 3 = 0.02: the 2 doctors for 100 people
        assert!((s[1] - 0.02).abs() < 1e-15, "{}", s[1]);
    }

    #[test]
    fn weighted_median_and_threshold() {
        let score = vec![Some(1.0), Some(3.0), Some(2.0), None];
        let g = group_stats(
            &[(0, 10.0), (1, 50.0), (2, 30.0), (3, 5.0)],
            &score,
            Some(2.5),
        );
        assert_eq!(g.median, Some(3.0), "half the 90 inhabitants score 3");
        assert_eq!(g.min, Some(1.0));
        assert_eq!(g.population_below, Some(40));
        assert_eq!(g.communes_below, Some(2));
        assert!((g.mean.unwrap() - (10.0 + 150.0 + 60.0) / 90.0).abs() < 1e-15);
        assert_eq!(g.communes, 4);
    }
}
