//! Stage 4, **stats**: tables as polars `DataFrame`s — per commune, per CPTS, per
//! département, per région and national — and the national [`Summary`].
//!
//! Every sum is taken in a fixed order (communes sorted by INSEE code), so figures
//! are identical whatever the thread count or the order of input rows.
//!
//! Coverage rates count what is claimed by at least one CPTS (covered or
//! overlapped) over the total; they are empty (`null`) when the total is 0.

use std::collections::BTreeMap;

use polars::prelude::{Column, DataFrame, NamedFrom, Series};
use serde::Serialize;

use crate::admin;
use crate::coverage::{Coverage, Verdict};
use crate::diagnostics::Diagnostic;
use crate::error::{Error, Result};
use crate::load::{Communes, Declarations, Status};

/// Counts and sums for one area (a département, a région, France).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    /// Communes by verdict (`Verdict::ALL` order: covered, white, overlap).
    pub communes: [u64; 3],
    /// Population by verdict.
    pub population: [u64; 3],
    /// Area by how it is covered, km²: by one CPTS, by none, by two or more. With
    /// commune lists this is the area of the communes of each verdict; with drawn
    /// territories, the covered parts of every commune.
    pub area_km2: [f64; 3],
    /// Population by how it is covered, estimated by areal interpolation (equal to
    /// `population` with commune lists).
    pub population_estimate: [f64; 3],
    /// CPTS counted here by status: projet, valide, aci_signe, unknown.
    pub cpts_by_status: [u64; 4],
    /// CPTS counted here by ACI size class 1–4.
    pub cpts_by_class: [u64; 4],
}

impl Tally {
    /// Counts a commune of verdict `v`, `covered` km² of which is covered by at least
    /// one CPTS and `overlap` km² by two or more.
    fn add_commune(&mut self, v: Verdict, population: u64, area: f64, covered: f64, overlap: f64) {
        let k = v as usize;
        self.communes[k] += 1;
        self.population[k] += population;
        let parts = [covered - overlap, area - covered, overlap];
        for (j, part) in parts.into_iter().enumerate() {
            self.area_km2[j] += part;
            if area > 0.0 {
                self.population_estimate[j] += population as f64 * part / area;
            }
        }
    }

    fn add_cpts(&mut self, status: Option<Status>, class: u8) {
        self.cpts_by_status[status.map_or(3, |s| s as usize)] += 1;
        self.cpts_by_class[(class as usize).clamp(1, 4) - 1] += 1;
    }

    /// Number of communes in all.
    pub fn communes_total(&self) -> u64 {
        self.communes.iter().sum()
    }

    /// Population in all.
    pub fn population_total(&self) -> u64 {
        self.population.iter().sum()
    }

    /// Area in all, km² (summed covered, white, overlap, in that order).
    pub fn area_km2_total(&self) -> f64 {
        self.area_km2[0] + self.area_km2[1] + self.area_km2[2]
    }

    /// Number of CPTS counted here.
    pub fn cpts(&self) -> u64 {
        self.cpts_by_status.iter().sum()
    }
}

fn rate(claimed: f64, total: f64) -> Option<f64> {
    (total > 0.0).then(|| claimed / total)
}

/// Tallies per département, per région and national.
#[derive(Debug, Clone, Default)]
pub struct Tallies {
    /// By département code.
    pub departements: BTreeMap<String, Tally>,
    /// By région code (communes whose département is unknown are under `""`).
    pub regions: BTreeMap<String, Tally>,
    /// France (or whatever the layer covers).
    pub national: Tally,
}

impl Tallies {
    /// Counts communes by verdict and CPTS by status and size class. A CPTS is
    /// counted in its main département (and that département's région), so that
    /// per-area counts add up to the national count.
    pub fn compute(communes: &Communes, decl: &Declarations, coverage: &Coverage) -> Tallies {
        let mut t = Tallies::default();
        for i in 0..communes.len() as u32 {
            let (v, p, a, c, o) = (
                coverage.verdicts[i as usize],
                communes.population[i as usize],
                communes.area_km2[i as usize],
                coverage.covered_km2[i as usize],
                coverage.overlap_km2[i as usize],
            );
            t.departements
                .entry(communes.departement(i).to_owned())
                .or_default()
                .add_commune(v, p, a, c, o);
            t.regions
                .entry(communes.region(i).to_owned())
                .or_default()
                .add_commune(v, p, a, c, o);
            t.national.add_commune(v, p, a, c, o);
        }
        for (cpts, terr) in decl.cpts.iter().zip(&coverage.territories) {
            t.national.add_cpts(cpts.status, terr.size_class);
            if let Some(dep) = &terr.main_departement {
                let reg = admin::region_of_departement(dep).unwrap_or("");
                t.departements
                    .entry(dep.clone())
                    .or_default()
                    .add_cpts(cpts.status, terr.size_class);
                t.regions
                    .entry(reg.to_owned())
                    .or_default()
                    .add_cpts(cpts.status, terr.size_class);
            }
        }
        t
    }
}

/// The tables of an analysis.
#[derive(Debug, Clone)]
pub struct Stats {
    /// One row per commune: `code,name,departement,region,population,area_km2,status,cpts_ids`.
    pub communes: DataFrame,
    /// One row per CPTS: `cpts_id,cpts_name,status,communes,population,area_km2,size_class,parts,departements,regions`.
    pub cpts: DataFrame,
    /// One row per département (see [`area_columns`] for the columns).
    pub departements: DataFrame,
    /// One row per région.
    pub regions: DataFrame,
    /// One row: the whole layer.
    pub national: DataFrame,
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

/// The statistics columns shared by the per-area tables, after the key columns:
/// `communes_total, communes_covered, communes_white, communes_overlap,
/// population_total, population_covered, population_white, population_overlap,
/// area_km2_total, area_km2_covered, area_km2_white, area_km2_overlap,
/// coverage_rate_communes, coverage_rate_population, coverage_rate_area, cpts,
/// cpts_projet, cpts_valide, cpts_aci_signe, cpts_status_unknown,
/// cpts_class_1, cpts_class_2, cpts_class_3, cpts_class_4`.
pub fn area_columns(tallies: &[&Tally]) -> Vec<Column> {
    let u = |f: &dyn Fn(&Tally) -> u64| tallies.iter().map(|t| f(t)).collect::<Vec<u64>>();
    let fl = |f: &dyn Fn(&Tally) -> f64| tallies.iter().map(|t| f(t)).collect::<Vec<f64>>();
    let opt = |f: &dyn Fn(&Tally) -> Option<f64>| {
        tallies.iter().map(|t| f(t)).collect::<Vec<Option<f64>>>()
    };
    let (c, w, o) = (0, 1, 2);
    vec![
        col("communes_total", u(&|t| t.communes_total())),
        col("communes_covered", u(&|t| t.communes[c])),
        col("communes_white", u(&|t| t.communes[w])),
        col("communes_overlap", u(&|t| t.communes[o])),
        col("population_total", u(&|t| t.population_total())),
        col("population_covered", u(&|t| t.population[c])),
        col("population_white", u(&|t| t.population[w])),
        col("population_overlap", u(&|t| t.population[o])),
        col("area_km2_total", fl(&|t| t.area_km2_total())),
        col("area_km2_covered", fl(&|t| t.area_km2[c])),
        col("area_km2_white", fl(&|t| t.area_km2[w])),
        col("area_km2_overlap", fl(&|t| t.area_km2[o])),
        col(
            "coverage_rate_communes",
            opt(&|t| {
                rate(
                    (t.communes[c] + t.communes[o]) as f64,
                    t.communes_total() as f64,
                )
            }),
        ),
        col(
            "coverage_rate_population",
            opt(&|t| {
                rate(
                    (t.population[c] + t.population[o]) as f64,
                    t.population_total() as f64,
                )
            }),
        ),
        col(
            "coverage_rate_area",
            opt(&|t| rate(t.area_km2[c] + t.area_km2[o], t.area_km2_total())),
        ),
        col("cpts", u(&|t| t.cpts())),
        col("cpts_projet", u(&|t| t.cpts_by_status[0])),
        col("cpts_valide", u(&|t| t.cpts_by_status[1])),
        col("cpts_aci_signe", u(&|t| t.cpts_by_status[2])),
        col("cpts_status_unknown", u(&|t| t.cpts_by_status[3])),
        col("cpts_class_1", u(&|t| t.cpts_by_class[0])),
        col("cpts_class_2", u(&|t| t.cpts_by_class[1])),
        col("cpts_class_3", u(&|t| t.cpts_by_class[2])),
        col("cpts_class_4", u(&|t| t.cpts_by_class[3])),
    ]
}

impl Stats {
    /// Builds every table.
    ///
    /// # Errors
    /// [`Error::Table`] if polars refuses a column (it should not: all columns of a
    /// table have one length by construction).
    pub fn compute(
        communes: &Communes,
        decl: &Declarations,
        coverage: &Coverage,
        tallies: &Tallies,
    ) -> Result<Stats> {
        let n = communes.len() as u32;
        let cs = &communes.layer.communes;
        let ids = |list: &[u32]| {
            list.iter()
                .map(|&k| decl.cpts[k as usize].id.as_str())
                .collect::<Vec<_>>()
                .join("|")
        };
        // covered, overlap and white shares of each commune's area; white = 1 − covered
        let fractions: Vec<(f64, f64, f64)> = (0..n as usize)
            .map(|i| {
                let a = communes.area_km2[i];
                let (c, o) = if a > 0.0 {
                    (
                        (coverage.covered_km2[i] / a).min(1.0),
                        (coverage.overlap_km2[i] / a).min(1.0),
                    )
                } else {
                    // no area (a unit without geometry): the claims decide, as for lists
                    let k = coverage.claimants[i].len();
                    (f64::from(u8::from(k > 0)), f64::from(u8::from(k > 1)))
                };
                (c, o, 1.0 - c)
            })
            .collect();
        let communes_df = frame(
            "communes table",
            vec![
                col(
                    "code",
                    cs.iter().map(|c| c.code.as_str()).collect::<Vec<_>>(),
                ),
                col(
                    "name",
                    cs.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
                ),
                col(
                    "departement",
                    (0..n).map(|i| communes.departement(i)).collect::<Vec<_>>(),
                ),
                col(
                    "region",
                    (0..n).map(|i| communes.region(i)).collect::<Vec<_>>(),
                ),
                col("population", communes.population.clone()),
                col("area_km2", communes.area_km2.clone()),
                col(
                    "status",
                    coverage
                        .verdicts
                        .iter()
                        .map(|v| v.as_str())
                        .collect::<Vec<_>>(),
                ),
                col(
                    "cpts_ids",
                    coverage
                        .claimants
                        .iter()
                        .map(|c| ids(c))
                        .collect::<Vec<_>>(),
                ),
                col(
                    "covered_fraction",
                    fractions.iter().map(|f| f.0).collect::<Vec<_>>(),
                ),
                col(
                    "overlap_fraction",
                    fractions.iter().map(|f| f.1).collect::<Vec<_>>(),
                ),
                col(
                    "white_fraction",
                    fractions.iter().map(|f| f.2).collect::<Vec<_>>(),
                ),
            ],
        )?;
        let terr = &coverage.territories;
        let cpts_df = frame(
            "cpts table",
            vec![
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
                col(
                    "communes",
                    terr.iter()
                        .map(|t| t.members.len() as u64)
                        .collect::<Vec<_>>(),
                ),
                col(
                    "population",
                    terr.iter().map(|t| t.population).collect::<Vec<_>>(),
                ),
                col(
                    "area_km2",
                    terr.iter().map(|t| t.area_km2).collect::<Vec<_>>(),
                ),
                col(
                    "size_class",
                    terr.iter().map(|t| t.size_class as u32).collect::<Vec<_>>(),
                ),
                col(
                    "parts",
                    terr.iter()
                        .map(|t| t.parts.len() as u64)
                        .collect::<Vec<_>>(),
                ),
                col(
                    "departements",
                    terr.iter()
                        .map(|t| t.departements.join("|"))
                        .collect::<Vec<_>>(),
                ),
                col(
                    "regions",
                    terr.iter().map(|t| t.regions.join("|")).collect::<Vec<_>>(),
                ),
            ],
        )?;
        let deps: Vec<(&String, &Tally)> = tallies.departements.iter().collect();
        let mut dep_cols = vec![
            col(
                "departement",
                deps.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
            ),
            col(
                "departement_nom",
                deps.iter()
                    .map(|(k, _)| admin::departement_name(k).unwrap_or(""))
                    .collect::<Vec<_>>(),
            ),
            col(
                "region",
                deps.iter()
                    .map(|(k, _)| admin::region_of_departement(k).unwrap_or(""))
                    .collect::<Vec<_>>(),
            ),
        ];
        dep_cols.extend(area_columns(
            &deps.iter().map(|(_, t)| *t).collect::<Vec<_>>(),
        ));
        let regs: Vec<(&String, &Tally)> = tallies.regions.iter().collect();
        let mut reg_cols = vec![
            col(
                "region",
                regs.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
            ),
            col(
                "region_nom",
                regs.iter()
                    .map(|(k, _)| admin::region_name(k).unwrap_or(""))
                    .collect::<Vec<_>>(),
            ),
        ];
        reg_cols.extend(area_columns(
            &regs.iter().map(|(_, t)| *t).collect::<Vec<_>>(),
        ));
        // one rounding rule for every format: the figures are rounded here, to the
        // 6 decimals the CSV tables and GeoJSON layers print, so that the Parquet
        // tables, the GeoPackage and the GeoParquet layers hold the same numbers
        Ok(Stats {
            communes: round6_columns(communes_df)?,
            cpts: round6_columns(cpts_df)?,
            departements: round6_columns(frame("departements table", dep_cols)?)?,
            regions: round6_columns(frame("regions table", reg_cols)?)?,
            national: round6_columns(frame("national table", area_columns(&[&tallies.national]))?)?,
        })
    }
}

/// Figures in tables and layers: 6 decimals (areas to 1 m²), never `-0`: the one
/// rounding rule of every output.
pub(crate) fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6 + 0.0
}

/// Every `f64` column rounded by [`round6`]; other columns as they are.
fn round6_columns(df: DataFrame) -> Result<DataFrame> {
    use polars::prelude::{DataType, IntoColumn};
    let cols: Vec<Column> = df
        .columns()
        .iter()
        .map(|c| {
            if c.dtype() != &DataType::Float64 {
                return c.clone();
            }
            let name = c.name().clone();
            let rounded: Vec<Option<f64>> = c
                .f64()
                .map(|ca| ca.iter().map(|v| v.map(round6)).collect())
                .unwrap_or_default();
            Series::new(name, rounded).into_column()
        })
        .collect();
    let height = df.height();
    DataFrame::new(height, cols).map_err(|source| Error::Table {
        context: "rounding a table".into(),
        source,
    })
}

/// The national figures written to `summary.json` and printed by the CLI.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Communes in the layer.
    pub communes_total: u64,
    /// Communes claimed by exactly one CPTS.
    pub communes_covered: u64,
    /// Communes claimed by none (zone blanche).
    pub communes_white: u64,
    /// Communes claimed by two or more (chevauchement).
    pub communes_overlap: u64,
    /// Connected clusters of white communes.
    pub white_zone_clusters: u64,
    /// Population of the layer.
    pub population_total: u64,
    /// Population of covered communes.
    pub population_covered: u64,
    /// Population of white communes.
    pub population_white: u64,
    /// Population of overlapped communes.
    pub population_overlap: u64,
    /// Area of the layer, km² (WGS84 ellipsoid).
    pub area_km2_total: f64,
    /// Area of covered communes, km².
    pub area_km2_covered: f64,
    /// Area of white communes, km².
    pub area_km2_white: f64,
    /// Area of overlapped communes, km².
    pub area_km2_overlap: f64,
    /// Share of the population claimed by at least one CPTS (`null` if no population).
    pub coverage_rate_population: Option<f64>,
    /// Population living in uncovered ground, estimated by areal interpolation
    /// (with commune lists: the population of white communes).
    pub population_white_estimate: u64,
    /// Population living in ground claimed twice or more, estimated likewise.
    pub population_overlap_estimate: u64,
    /// Distinct pairs of CPTS that overlap somewhere.
    pub overlap_pairs: u64,
    /// CPTS declared as drawn territories.
    pub cpts_drawn: u64,
    /// With drawn territories: gap and overlap pieces under the sliver tolerance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slivers: Option<Slivers>,
    /// Number of CPTS declared.
    pub cpts_count: u64,
    /// CPTS by status: `projet`, `valide`, `aci_signe`, `unknown`.
    pub cpts_by_status: BTreeMap<String, u64>,
    /// CPTS by ACI size class `"1"`–`"4"`.
    pub cpts_by_size_class: BTreeMap<String, u64>,
    /// CPTS whose territory has more than one part.
    pub cpts_non_contiguous: u64,
    /// Where the inputs came from.
    pub inputs: BTreeMap<String, String>,
    /// Every finding about the inputs.
    pub diagnostics: Vec<Diagnostic>,
}

/// Pieces under the sliver tolerance: digitising noise, counted apart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Slivers {
    /// The tolerance used, km².
    pub min_area_km2: f64,
    /// Gap pieces under it.
    pub gaps: u64,
    /// Overlap pieces under it.
    pub overlaps: u64,
    /// Their total area, km².
    pub area_km2: f64,
}

impl Summary {
    /// Its diagnostics' messages in `lang` (what `summary.json`,
    /// `diagnostics.json` and the report then show).
    pub fn set_lang(&mut self, lang: crate::Lang) {
        for d in &mut self.diagnostics {
            *d = std::mem::replace(d, d.clone()).in_lang(lang);
        }
    }

    /// Builds the summary from the national tally.
    pub fn new(
        national: &Tally,
        coverage: &Coverage,
        drawn: u64,
        inputs: BTreeMap<String, String>,
        diagnostics: Vec<Diagnostic>,
    ) -> Summary {
        let t = national;
        // + 0.0 turns -0.0 (an empty float sum) into 0.0
        let round = |x: f64| (x * 1e6).round() / 1e6 + 0.0;
        let status_keys = ["projet", "valide", "aci_signe", "unknown"];
        Summary {
            communes_total: t.communes_total(),
            communes_covered: t.communes[0],
            communes_white: t.communes[1],
            communes_overlap: t.communes[2],
            white_zone_clusters: coverage.white_zones.len() as u64,
            population_total: t.population_total(),
            population_covered: t.population[0],
            population_white: t.population[1],
            population_overlap: t.population[2],
            area_km2_total: round(t.area_km2_total()),
            area_km2_covered: round(t.area_km2[0]),
            area_km2_white: round(t.area_km2[1]),
            area_km2_overlap: round(t.area_km2[2]),
            coverage_rate_population: rate(
                (t.population[0] + t.population[2]) as f64,
                t.population_total() as f64,
            )
            .map(|r| (r * 1e6).round() / 1e6),
            population_white_estimate: t.population_estimate[1].round() as u64,
            population_overlap_estimate: t.population_estimate[2].round() as u64,
            overlap_pairs: overlap_pairs(coverage),
            cpts_drawn: drawn,
            slivers: coverage.overlay.as_ref().map(|o| Slivers {
                min_area_km2: o.min_area_km2,
                gaps: o.slivers.iter().filter(|p| p.owners.is_empty()).count() as u64,
                overlaps: o.slivers.iter().filter(|p| !p.owners.is_empty()).count() as u64,
                area_km2: round(o.slivers.iter().map(|p| p.area_km2).sum()),
            }),
            cpts_count: t.cpts(),
            cpts_by_status: status_keys
                .iter()
                .zip(t.cpts_by_status)
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            cpts_by_size_class: (1..=4)
                .zip(t.cpts_by_class)
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            cpts_non_contiguous: coverage
                .territories
                .iter()
                .filter(|t| t.parts.len() > 1)
                .count() as u64,
            inputs,
            diagnostics,
        }
    }

    /// True when the one-CPTS-per-territory rule holds (no white, no overlap).
    ///
    /// With drawn territories: no gap and no overlap piece above the sliver tolerance.
    pub fn rule_holds(&self) -> bool {
        self.communes_white == 0
            && self.communes_overlap == 0
            && self.white_zone_clusters == 0
            && self.overlap_pairs == 0
    }
}

/// Distinct pairs of CPTS claiming common ground.
fn overlap_pairs(coverage: &Coverage) -> u64 {
    if let Some(o) = &coverage.overlay {
        return o.overlap_pairs() as u64;
    }
    let mut pairs = std::collections::BTreeSet::new();
    for c in coverage.claimants.iter().filter(|c| c.len() > 1) {
        for (a, &x) in c.iter().enumerate() {
            for &y in &c[a + 1..] {
                pairs.insert((x, y));
            }
        }
    }
    pairs.len() as u64
}
