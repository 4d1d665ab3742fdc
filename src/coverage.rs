//! Stage 3, **coverage**: who claims each commune, its verdict, each CPTS
//! territory's figures, and the *zones blanches* as clusters of adjacent white
//! communes.

use std::collections::BTreeSet;

use rayon::prelude::*;
use serde::Serialize;

use crate::diagnostics::{items_en, sample, sample_en, Diagnostic, DiagnosticKind};
use crate::index::Adjacency;
use crate::load::{Claim, Communes, Declarations};
use crate::overlay::{Extent, Overlay};
use crate::progress::Progress;

/// The verdict of one commune under the one-CPTS-per-territory rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Claimed by exactly one CPTS.
    Covered,
    /// *Zone blanche*: claimed by no CPTS.
    White,
    /// *Chevauchement*: claimed by two or more CPTS.
    Overlap,
}

impl Verdict {
    /// Every verdict.
    pub const ALL: [Verdict; 3] = [Verdict::Covered, Verdict::White, Verdict::Overlap];

    /// The spelling used in files: `covered`, `white`, `overlap`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Covered => "covered",
            Verdict::White => "white",
            Verdict::Overlap => "overlap",
        }
    }

    fn of(claimants: usize) -> Verdict {
        match claimants {
            0 => Verdict::White,
            1 => Verdict::Covered,
            _ => Verdict::Overlap,
        }
    }
}

/// The ACI size class of a CPTS from its population: 1 below 40,000 inhabitants,
/// 2 from 40,000 to 79,999, 3 from 80,000 to 175,000, 4 above 175,000.
///
/// # Examples
/// ```
/// use maillage::coverage::size_class;
/// assert_eq!(size_class(39_999), 1);
/// assert_eq!(size_class(40_000), 2);
/// assert_eq!(size_class(80_000), 3);
/// assert_eq!(size_class(175_000), 3);
/// assert_eq!(size_class(175_001), 4);
/// ```
pub fn size_class(population: u64) -> u8 {
    match population {
        0..40_000 => 1,
        40_000..80_000 => 2,
        80_000..=175_000 => 3,
        _ => 4,
    }
}

/// One CPTS territory, as the communes of the layer it declares.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Territory {
    /// Its communes (positions in [`Communes`]), sorted.
    pub members: Vec<u32>,
    /// Its connected parts under adjacency (more than one: non-contiguous).
    pub parts: Vec<Vec<u32>>,
    /// Population of its communes.
    pub population: u64,
    /// Area of its communes, km².
    pub area_km2: f64,
    /// ACI size class, from the population.
    pub size_class: u8,
    /// Départements it touches, sorted.
    pub departements: Vec<String>,
    /// Régions it touches, sorted.
    pub regions: Vec<String>,
    /// The département holding most of its population (ties: the smallest code);
    /// where the per-département tables count this CPTS. `None` when empty.
    pub main_departement: Option<String>,
}

/// A *zone blanche*: a connected cluster of communes claimed by no CPTS.
#[derive(Debug, Clone, PartialEq)]
pub struct WhiteZone {
    /// 1-based, in the order of the clusters' smallest INSEE code.
    pub id: u32,
    /// Its communes, sorted.
    pub members: Vec<u32>,
    /// Population of its communes.
    pub population: u64,
    /// Area of its communes, km².
    pub area_km2: f64,
}

/// The coverage of a commune layer by a set of declarations.
#[derive(Debug, Clone)]
pub struct Coverage {
    /// For each commune, the CPTS claiming it (positions in `Declarations::cpts`,
    /// hence sorted by CPTS id).
    pub claimants: Vec<Vec<u32>>,
    /// For each commune, its verdict.
    pub verdicts: Vec<Verdict>,
    /// For each CPTS (same order as `Declarations::cpts`), its territory.
    pub territories: Vec<Territory>,
    /// The zones blanches: clusters of white communes, or with drawn territories the
    /// gap pieces (see [`Coverage::overlay`]).
    pub white_zones: Vec<WhiteZone>,
    /// For each commune, the area covered by at least one CPTS, km².
    pub covered_km2: Vec<f64>,
    /// For each commune, the area covered by two or more CPTS, km².
    pub overlap_km2: Vec<f64>,
    /// The overlay, when at least one CPTS is drawn: shares, gap, overlap and
    /// sliver pieces. `None` when every CPTS is a commune list (whole communes).
    pub overlay: Option<Overlay>,
    /// Unknown codes, empty and non-contiguous CPTS.
    pub diagnostics: Vec<Diagnostic>,
}

impl Coverage {
    /// Computes claims, verdicts, territories and white zones.
    ///
    /// When every CPTS is a commune list, a commune is covered whole or not at all.
    /// When one or more are drawn, the [`Overlay`] measures how much of each commune
    /// each CPTS covers; a commune's verdict is then the majority of its area
    /// (covered by one, by two or more, by none; ties go to covered, then overlap),
    /// and gap and overlap pieces under `min_area_km2` are slivers.
    ///
    /// # Performance
    /// With commune lists only: O(claims + communes + adjacency), a few
    /// milliseconds for all of France. With drawn territories: the overlay's cost.
    pub fn compute(
        communes: &Communes,
        decl: &Declarations,
        adjacency: &Adjacency,
        min_area_km2: f64,
    ) -> Coverage {
        let quiet = Progress::default();
        Self::compute_with(communes, decl, adjacency, min_area_km2, &quiet)
    }

    /// [`Coverage::compute`], counting the communes overlaid in `progress` (the
    /// long part with drawn territories).
    pub fn compute_with(
        communes: &Communes,
        decl: &Declarations,
        adjacency: &Adjacency,
        min_area_km2: f64,
        progress: &Progress,
    ) -> Coverage {
        let mut claimants: Vec<Vec<u32>> = vec![Vec::new(); communes.len()];
        let mut diagnostics = Vec::new();
        let file = decl.source.display();
        let mut members_of = Vec::with_capacity(decl.cpts.len());
        for (k, cpts) in decl.cpts.iter().enumerate() {
            let mut members = Vec::with_capacity(cpts.claims.len());
            let mut unknown = Vec::new();
            for claim in &cpts.claims {
                match communes.index_of(&claim.code) {
                    Some(i) => {
                        members.push(i);
                        claimants[i as usize].push(k as u32);
                    }
                    None => unknown.push(claim),
                }
            }
            let cog = crate::cog::cog();
            let (known, unknown): (Vec<&Claim>, Vec<&Claim>) =
                unknown.into_iter().partition(|c| cog.knows(&c.code));
            for (list, kind, what, what_en) in [
                (
                    unknown,
                    DiagnosticKind::UnknownCode,
                    "codes inconnus de la couche de communes comme du COG 2026 embarqué",
                    "code(s) in neither the commune layer nor the bundled COG 2026",
                ),
                (
                    known,
                    DiagnosticKind::OutsideLayer,
                    "codes de communes du COG 2026 absents de la couche (hors de la zone chargée, ou sans géométrie)",
                    "commune code(s) of COG 2026 absent from the commune layer (outside the area loaded, or without geometry)",
                ),
            ] {
                if list.is_empty() {
                    continue;
                }
                let shown: Vec<String> = list
                    .iter()
                    .map(|c| format!("{} (ligne {})", c.code, c.line))
                    .collect();
                diagnostics.push(
                    Diagnostic::new(
                        kind,
                        format!(
                            "{file} : la CPTS {} déclare des {what}, ignorés ({}) : {}",
                            cpts.id,
                            list.len(),
                            sample(&shown, 5)
                        ),
                        format!(
                            "{file}: CPTS {} declares {} {what_en}, ignored: {}",
                            cpts.id,
                            list.len(),
                            items_en(&sample_en(&shown, 5))
                        ),
                    )
                    .cpts(&cpts.id)
                    .codes(list.iter().map(|c| c.code.clone()).collect())
                    .lines(list.iter().map(|c| c.line).collect()),
                );
            }
            if members.is_empty() && cpts.drawn.is_none() {
                diagnostics.push(
                    Diagnostic::new(
                        DiagnosticKind::EmptyCpts,
                        format!(
                            "{file} : la CPTS {} ({}) n'a aucune commune de la couche",
                            cpts.id, cpts.name
                        ),
                        format!(
                            "{file}: CPTS {} ({}) has no commune of the layer",
                            cpts.id, cpts.name
                        ),
                    )
                    .cpts(&cpts.id),
                );
            }
            members.sort_unstable();
            members_of.push(members);
        }
        if decl.cpts.iter().any(|c| c.drawn.is_some()) {
            return Self::with_overlay(
                communes,
                decl,
                adjacency,
                members_of,
                min_area_km2,
                diagnostics,
                progress,
            );
        }
        let verdicts: Vec<Verdict> = claimants.iter().map(|c| Verdict::of(c.len())).collect();
        let covered_km2 = (0..communes.len())
            .map(|i| {
                if claimants[i].is_empty() {
                    0.0
                } else {
                    communes.area_km2[i]
                }
            })
            .collect();
        let overlap_km2 = (0..communes.len())
            .map(|i| {
                if claimants[i].len() > 1 {
                    communes.area_km2[i]
                } else {
                    0.0
                }
            })
            .collect();

        let white: Vec<u32> = (0..communes.len() as u32)
            .filter(|&i| verdicts[i as usize] == Verdict::White)
            .collect();
        // each territory's parts and the white clusters are independent
        let (territories, white_parts): (Vec<Territory>, _) = rayon::join(
            || {
                members_of
                    .into_par_iter()
                    .map(|members| territory(communes, adjacency, members))
                    .collect()
            },
            || adjacency.components(&white),
        );
        for (cpts, t) in decl.cpts.iter().zip(&territories) {
            if t.parts.len() > 1 {
                let sizes: Vec<String> = t
                    .parts
                    .iter()
                    .map(|p| {
                        format!(
                            "{} à partir de {}",
                            crate::lang::Lang::Fr.count(p.len() as u64, "commune", "communes"),
                            communes.get(p[0]).code
                        )
                    })
                    .collect();
                let sizes_en: Vec<String> = t
                    .parts
                    .iter()
                    .map(|p| {
                        format!(
                            "{} from {}",
                            crate::lang::Lang::En.count(p.len() as u64, "commune", "communes"),
                            communes.get(p[0]).code
                        )
                    })
                    .collect();
                diagnostics.push(
                    Diagnostic::new(
                        DiagnosticKind::NonContiguous,
                        format!(
                            "la CPTS {} ({}) n'est pas d'un seul tenant : {} parties séparées ({})",
                            cpts.id,
                            cpts.name,
                            t.parts.len(),
                            sample(&sizes, 4)
                        ),
                        format!(
                            "CPTS {} ({}) is not contiguous: {} separate parts ({})",
                            cpts.id,
                            cpts.name,
                            t.parts.len(),
                            sample_en(&sizes_en, 4)
                        ),
                    )
                    .cpts(&cpts.id)
                    .codes(
                        t.parts
                            .iter()
                            .map(|p| communes.get(p[0]).code.clone())
                            .collect(),
                    ),
                );
            }
        }

        let white_zones = white_parts
            .into_iter()
            .enumerate()
            .map(|(k, members)| WhiteZone {
                id: k as u32 + 1,
                population: members
                    .iter()
                    .map(|&i| communes.population[i as usize])
                    .sum(),
                // + 0.0: an empty float sum is -0.0, which would print as "-0.0"
                area_km2: members
                    .iter()
                    .map(|&i| communes.area_km2[i as usize])
                    .sum::<f64>()
                    + 0.0,
                members,
            })
            .collect();

        Coverage {
            claimants,
            verdicts,
            territories,
            white_zones,
            covered_km2,
            overlap_km2,
            overlay: None,
            diagnostics,
        }
    }

    /// The coverage when one or more CPTS are drawn.
    fn with_overlay(
        communes: &Communes,
        decl: &Declarations,
        adjacency: &Adjacency,
        members_of: Vec<Vec<u32>>,
        min_area_km2: f64,
        mut diagnostics: Vec<Diagnostic>,
        progress: &Progress,
    ) -> Coverage {
        let extents: Vec<Extent<'_>> = decl
            .cpts
            .iter()
            .zip(&members_of)
            .map(|(c, m)| match &c.drawn {
                Some(g) => Extent::Drawn(g),
                None => Extent::Communes(m),
            })
            .collect();
        progress.start("overlay of drawn territories", communes.len() as u64);
        let overlay = Overlay::compute_with(communes, &extents, min_area_km2, progress);
        let n = communes.len();
        let mut claimants = vec![Vec::new(); n];
        let mut shares_of: Vec<Vec<(u32, f64)>> = vec![Vec::new(); decl.cpts.len()];
        let mut verdicts = Vec::with_capacity(n);
        for (i, o) in overlay.communes.iter().enumerate() {
            claimants[i] = o.shares.iter().map(|s| s.0).collect();
            for &(k, a) in &o.shares {
                shares_of[k as usize].push((i as u32, a));
            }
            let area = communes.area_km2[i];
            let (single, overlap, white) = (
                o.covered_km2 - o.overlap_km2,
                o.overlap_km2,
                area - o.covered_km2,
            );
            verdicts.push(if communes.get(i as u32).geometry.0.is_empty() {
                // a unit without geometry (an arrondissement municipal of a whole-city
                // layer) has no area to weigh: its claims decide, as for lists
                Verdict::of(o.shares.len())
            } else if single >= overlap && single >= white {
                Verdict::Covered
            } else if overlap >= white {
                Verdict::Overlap
            } else {
                Verdict::White
            });
        }
        let territories: Vec<Territory> = decl
            .cpts
            .iter()
            .zip(members_of)
            .zip(shares_of)
            .map(|((c, members), shares)| match &c.drawn {
                Some(g) => drawn_territory(communes, g, shares),
                None => territory(communes, adjacency, members),
            })
            .collect();
        for (c, t) in decl.cpts.iter().zip(&territories) {
            if c.drawn.is_some() && t.members.is_empty() {
                diagnostics.push(
                    Diagnostic::new(
                        DiagnosticKind::EmptyCpts,
                        format!(
                            "la CPTS {} ({}) est dessinée hors de toute commune de la couche",
                            c.id, c.name
                        ),
                        format!(
                            "CPTS {} ({}) is drawn outside every commune of the layer",
                            c.id, c.name
                        ),
                    )
                    .cpts(&c.id),
                );
            }
            if t.parts.len() > 1 {
                diagnostics.push(
                    Diagnostic::new(
                        DiagnosticKind::NonContiguous,
                        format!(
                            "la CPTS {} ({}) n'est pas d'un seul tenant : {} parties séparées",
                            c.id,
                            c.name,
                            t.parts.len()
                        ),
                        format!(
                            "CPTS {} ({}) is not contiguous: {} separate parts",
                            c.id,
                            c.name,
                            t.parts.len()
                        ),
                    )
                    .cpts(&c.id),
                );
            }
        }
        let white_zones = overlay
            .gaps
            .iter()
            .enumerate()
            .map(|(k, p)| WhiteZone {
                id: k as u32 + 1,
                members: p.communes.clone(),
                population: p.population.round() as u64,
                area_km2: p.area_km2,
            })
            .collect();
        Coverage {
            claimants,
            verdicts,
            territories,
            white_zones,
            covered_km2: overlay.communes.iter().map(|o| o.covered_km2).collect(),
            overlap_km2: overlay.communes.iter().map(|o| o.overlap_km2).collect(),
            overlay: Some(overlay),
            diagnostics,
        }
    }

    /// True when the one-CPTS-per-territory rule holds: no white commune, no overlap.
    pub fn rule_holds(&self) -> bool {
        self.verdicts.iter().all(|v| *v == Verdict::Covered)
    }
}

fn territory(communes: &Communes, adjacency: &Adjacency, members: Vec<u32>) -> Territory {
    let parts = adjacency.components(&members);
    territory_from_parts(communes, members, parts)
}

/// A drawn territory: the communes it touches, its population estimated by areal
/// interpolation, the area of its outline, one part per polygon.
fn drawn_territory(
    communes: &Communes,
    geometry: &geo::MultiPolygon<f64>,
    shares: Vec<(u32, f64)>,
) -> Territory {
    let members: Vec<u32> = shares.iter().map(|s| s.0).collect();
    let estimate: f64 = shares
        .iter()
        .map(|&(i, a)| communes.population[i as usize] as f64 * a / communes.area_km2[i as usize])
        .sum();
    let mut t = territory_from_parts(communes, members, Vec::new());
    t.population = estimate.round() as u64;
    t.size_class = size_class(t.population);
    t.area_km2 = crate::overlay::geodesic_km2(geometry);
    t.parts = (0..geometry.0.len()).map(|k| vec![k as u32]).collect();
    t
}

fn territory_from_parts(communes: &Communes, members: Vec<u32>, parts: Vec<Vec<u32>>) -> Territory {
    let population: u64 = members
        .iter()
        .map(|&i| communes.population[i as usize])
        .sum();
    let area_km2: f64 = members
        .iter()
        .map(|&i| communes.area_km2[i as usize])
        .sum::<f64>()
        + 0.0;
    let departements: BTreeSet<&str> = members.iter().map(|&i| communes.departement(i)).collect();
    let regions: BTreeSet<&str> = members
        .iter()
        .map(|&i| communes.region(i))
        .filter(|r| !r.is_empty())
        .collect();
    let main_departement = departements
        .iter()
        .map(|d| {
            let pop: u64 = members
                .iter()
                .filter(|&&i| communes.departement(i) == *d)
                .map(|&i| communes.population[i as usize])
                .sum();
            (pop, *d)
        })
        .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(a.1)))
        .map(|(_, d)| d.to_owned());
    Territory {
        parts,
        size_class: size_class(population),
        departements: departements.into_iter().map(str::to_owned).collect(),
        regions: regions.into_iter().map(str::to_owned).collect(),
        main_departement,
        population,
        area_km2,
        members,
    }
}
