//! **propose**: the planner's two questions — what a new CPTS changes
//! ([`candidate`]), and how to close the gaps: a proposal that gives each
//! chevauchement to one of its claimants and each zone blanche to a neighbouring
//! CPTS (or, when it is large, to new CPTS), in the terms planners use:
//! populations, ACI funding classes, EPCI, départements, contiguity.
//!
//! A consumer of an [`Analysis`] of commune lists: it reads the coverage, never
//! changes it, and its result can be analysed again
//! ([`Analysis::with_declarations`]).
//!
//! **Hard rules**, kept whatever the strategy:
//! - the result is a partition of the communes that can be reached: every
//!   chevauchement goes to exactly one of its claimants, every white commune to one
//!   CPTS (or is reported unresolved, with its reason, never dropped);
//! - no CPTS ends with more parts than it started with: a chevauchement is never
//!   taken from a claimant it would cut in two (an articulation point of its
//!   territory), unless every choice cuts one — then it is flagged `cuts_claimant`;
//!   white communes are given only to a CPTS they touch, grown from the border of
//!   the zone inwards, so interior communes are handled and no part is created;
//! - a zone blanche touching no CPTS (an island, a cluster bordered only by the sea
//!   or a border) is unresolved unless it is large enough for new CPTS.
//!
//! **Strategies** rank the CPTS a commune could go to (ties by CPTS id, never by
//! input order): `longest-border` (the CPTS sharing the longest border, measured
//! geodesically: GEOS's and ArcGIS's rule), `min-population`, `epci` (the CPTS
//! holding most of the commune's EPCI, then one in its département) and `balanced`:
//! no change of ACI class, then fewest EPCI split, fewest département borders
//! crossed, longest border, smallest population.

pub mod candidate;
pub mod exact;

use crate::error::ParseError;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::str::FromStr;

use geo::{Geodesic, Length};
use serde::Serialize;

use crate::admin::{departement_of, region_of_departement};
use crate::analysis::Analysis;
use crate::coverage::{size_class, Verdict};
use crate::error::{Error, Result};
use crate::lang::Lang;

/// How the CPTS a commune could go to are ranked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// No change of ACI class, then fewest EPCI split, fewest département borders
    /// crossed, longest border, smallest population.
    #[default]
    Balanced,
    /// The CPTS sharing the longest border (GEOS `ST_CoverageClean`, ArcGIS).
    LongestBorder,
    /// The CPTS with the smallest population (balance).
    MinPopulation,
    /// The CPTS holding most of the commune's EPCI, then one in its département.
    Epci,
}

impl Strategy {
    /// The name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Balanced => "balanced",
            Strategy::LongestBorder => "longest-border",
            Strategy::MinPopulation => "min-population",
            Strategy::Epci => "epci",
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Strategy {
    type Err = ParseError;
    fn from_str(s: &str) -> std::result::Result<Strategy, ParseError> {
        match s {
            "balanced" => Ok(Strategy::Balanced),
            "longest-border" => Ok(Strategy::LongestBorder),
            "min-population" => Ok(Strategy::MinPopulation),
            "epci" => Ok(Strategy::Epci),
            other => Err(ParseError(format!(
                "strategy {other:?}: balanced, longest-border, min-population or epci"
            ))),
        }
    }
}

/// The population from which a zone blanche becomes new CPTS rather than being
/// shared among its neighbours: 20,000 inhabitants. Below it, a neighbour
/// absorbs a village or two without its project or its ACI class changing much;
/// above it, handing a town to a neighbour changes that CPTS, while 20,000
/// inhabitants is about the smallest population CPTS have in practice (ACI class 1
/// runs up to 40,000).
pub const DEFAULT_NEW_CPTS_MIN: u64 = 20_000;

/// New CPTS are cut to at most this population: the top of ACI class 3.
pub const NEW_CPTS_MAX: u64 = 175_000;

/// How to propose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposeOptions {
    /// How candidates are ranked.
    pub strategy: Strategy,
    /// Give each zone blanche whole to one neighbour (GEOS-like), rather than
    /// commune by commune from its border inwards.
    pub whole_clusters: bool,
    /// A zone blanche of at least this population becomes new CPTS.
    pub new_cpts_min: u64,
    /// The language of the reasons.
    pub lang: Lang,
}

impl Default for ProposeOptions {
    fn default() -> Self {
        ProposeOptions {
            strategy: Strategy::Balanced,
            whole_clusters: false,
            new_cpts_min: DEFAULT_NEW_CPTS_MIN,
            lang: Lang::Fr,
        }
    }
}

/// Every flag a proposal row can carry, in the order they are listed.
pub const FLAGS: [&str; 8] = [
    "new_cpts",
    "unresolved",
    "sole_commune",
    "crosses_departement",
    "crosses_region",
    "splits_epci",
    "class_change",
    "cuts_claimant",
];

/// What a flag means, for people (the flag itself is the stable code written in
/// `proposals.csv`).
pub fn flag_label(flag: &str, lang: Lang) -> &'static str {
    match flag {
        "new_cpts" => lang.pick("nouvelle CPTS", "new CPTS"),
        "unresolved" => lang.pick("non résolu", "unresolved"),
        "sole_commune" => lang.pick(
            "seule commune d'une CPTS existante",
            "the only commune of an existing CPTS",
        ),
        "crosses_departement" => lang.pick(
            "seule commune de son département dans sa CPTS",
            "the only commune of its département in its CPTS",
        ),
        "crosses_region" => lang.pick(
            "seule commune de sa région dans sa CPTS",
            "the only commune of its région in its CPTS",
        ),
        "splits_epci" => lang.pick(
            "rejoint une CPTS sans autre commune de son EPCI",
            "joins a CPTS holding none of its EPCI",
        ),
        "class_change" => lang.pick("change une classe ACI", "changes an ACI class"),
        "cuts_claimant" => lang.pick("coupe un demandeur en deux", "cuts a claimant in two"),
        _ => "",
    }
}

/// Where a commune goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    /// An existing CPTS (position in the declarations).
    Cpts(u32),
    /// A proposed new CPTS (position in [`Proposal::new_cpts`]).
    New(u32),
    /// Nowhere: see the row's reason.
    Unresolved,
}

/// The proposal for one white or overlapping commune.
#[derive(Debug, Clone, PartialEq)]
pub struct ProposalRow {
    /// The commune (position in the analysis's communes).
    pub commune: u32,
    /// White or overlap.
    pub before: Verdict,
    /// The CPTS claiming it before (positions).
    pub claimants: Vec<u32>,
    /// Where it goes.
    pub proposed: Target,
    /// The next best choice, if there was one.
    pub runner_up: Option<Target>,
    /// Which rule decided, in the options' language.
    pub reason: String,
    /// Codes from [`FLAGS`], in that order: `crosses_departement` and
    /// `crosses_region` are read from the final declarations (the commune is the
    /// only one of its département or région in the CPTS it ends in).
    pub flags: Vec<&'static str>,
    /// The zone blanche of a white commune (its number), none for a chevauchement.
    pub zone: Option<u32>,
}

/// A proposed new CPTS, made of (part of) a large zone blanche.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCpts {
    /// `NOUVELLE-` and the smallest INSEE code of its communes.
    pub id: String,
    /// `Nouvelle CPTS` and its most populous commune's name.
    pub name: String,
    /// Its communes, sorted.
    pub members: Vec<u32>,
    /// Its population.
    pub population: u64,
    /// The zone blanche it comes from.
    pub zone: u32,
}

/// Communes the proposal leaves as they are, and why: a zone blanche no CPTS can
/// take, or a chevauchement whose claimants would each vanish without it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unresolved {
    /// `zone_blanche` or `chevauchement`.
    pub kind: &'static str,
    /// The zone blanche (its number), none for a chevauchement.
    pub zone: Option<u32>,
    /// Its communes' codes.
    pub codes: Vec<String>,
    /// Their population.
    pub population: u64,
    /// Why.
    pub reason: String,
}

/// A proposal for the whole layer.
#[derive(Debug, Clone)]
pub struct Proposal {
    /// How it was made.
    pub options: ProposeOptions,
    /// One row per white or overlapping commune, by code.
    pub rows: Vec<ProposalRow>,
    /// Each existing CPTS's communes after the proposal, sorted.
    pub members: Vec<Vec<u32>>,
    /// Proposed new CPTS.
    pub new_cpts: Vec<NewCpts>,
    /// What stays unresolved.
    pub unresolved: Vec<Unresolved>,
}

/// The facts a ranking reads about one candidate CPTS.
#[derive(Debug, Clone, Copy)]
struct Facts {
    /// CPTS whose ACI class this choice changes.
    class_changes: u32,
    /// Communes of the commune's EPCI the CPTS holds.
    epci_mates: u32,
    /// 1 when the CPTS holds no commune of the commune's département.
    crosses: u32,
    /// The border the commune shares with the CPTS, metres.
    border: f64,
    /// The CPTS's population before this choice.
    population: u64,
    /// The CPTS (position): the last tie-break.
    k: u32,
}

/// The ranking key of a strategy (smaller is better) and the names of its parts.
fn key(strategy: Strategy, f: &Facts) -> Vec<f64> {
    let (c, e, d, b, p, k) = (
        f64::from(f.class_changes),
        -f64::from(f.epci_mates),
        f64::from(f.crosses),
        -f.border,
        f.population as f64,
        f64::from(f.k),
    );
    match strategy {
        Strategy::Balanced => vec![c, e, d, b, p, k],
        Strategy::LongestBorder => vec![b, k],
        Strategy::MinPopulation => vec![p, k],
        Strategy::Epci => vec![e, d, k],
    }
}

fn key_names(strategy: Strategy) -> &'static [&'static str] {
    match strategy {
        Strategy::Balanced => &["class", "epci", "departement", "border", "population", "id"],
        Strategy::LongestBorder => &["border", "id"],
        Strategy::MinPopulation => &["population", "id"],
        Strategy::Epci => &["epci", "departement", "id"],
    }
}

/// Why the winner beat the runner-up: the first part of the key that differs.
fn reason(
    strategy: Strategy,
    lang: Lang,
    win: &Facts,
    next: Option<&Facts>,
    names: &dyn Fn(u32) -> String,
) -> String {
    let Some(next) = next else {
        return String::new();
    };
    let (kw, kn) = (key(strategy, win), key(strategy, next));
    let part = kw
        .iter()
        .zip(&kn)
        .position(|(a, b)| a != b)
        .map_or("id", |p| key_names(strategy)[p]);
    let km = |m: f64| format!("{} km", lang.decimal(m / 1000.0, 1));
    let other = names(next.k);
    match (part, lang) {
        ("class", Lang::Fr) => format!(
            "garde les classes ACI ({} ; {other} : {})",
            lang.count(win.class_changes.into(), "changement", "changements"),
            lang.count(next.class_changes.into(), "changement", "changements")
        ),
        ("class", Lang::En) => format!(
            "keeps ACI classes ({}; {other} would make {})",
            lang.count(win.class_changes.into(), "change", "changes"),
            next.class_changes
        ),
        ("epci", Lang::Fr) => format!(
            "compte {} de son EPCI ({other} : {})",
            lang.count(win.epci_mates.into(), "commune", "communes"),
            next.epci_mates
        ),
        ("epci", Lang::En) => format!(
            "holds {} of its EPCI ({other} holds {})",
            lang.count(win.epci_mates.into(), "commune", "communes"),
            next.epci_mates
        ),
        ("departement", Lang::Fr) => {
            format!("a déjà des communes de son département ({other} n'en a pas)")
        }
        ("departement", Lang::En) => format!("in its département ({other} is not)"),
        ("border", Lang::Fr) => format!(
            "plus longue frontière commune : {} ({other} : {})",
            km(win.border),
            km(next.border)
        ),
        ("border", Lang::En) => format!(
            "longest border: {} ({other} {})",
            km(win.border),
            km(next.border)
        ),
        ("population", Lang::Fr) => format!(
            "plus petite population : {} ({other} : {})",
            lang.count(win.population, "habitant", "habitants"),
            lang.int(next.population)
        ),
        ("population", Lang::En) => format!(
            "smaller population: {} ({other} {})",
            lang.int(win.population),
            lang.int(next.population)
        ),
        (_, Lang::Fr) => format!("à égalité avec {other} : premier identifiant"),
        (_, Lang::En) => format!("tie with {other}: first CPTS id"),
    }
}

/// Border lengths between communes, measured geodesically on the pieces of
/// boundary they share ([`crate::geometry::shared_border`], the test that makes
/// them neighbours in the adjacency), computed for the communes asked about only.
struct Borders<'t> {
    analysis: &'t Analysis,
    cache: HashMap<u32, Vec<(u32, f64)>>,
}

impl<'t> Borders<'t> {
    fn new(analysis: &'t Analysis) -> Borders<'t> {
        Borders {
            analysis,
            cache: HashMap::new(),
        }
    }

    /// Each neighbour of `i` with the length of the border they share, metres.
    fn of(&mut self, i: u32) -> &[(u32, f64)] {
        let a = self.analysis;
        self.cache.entry(i).or_insert_with(|| {
            let index = a.index();
            a.adjacency
                .neighbours(i)
                .iter()
                .map(|&j| {
                    let pieces = crate::geometry::shared_border(
                        &a.communes.get(i).geometry,
                        &a.communes.get(j).geometry,
                        &index.envelope(i),
                        &index.envelope(j),
                    );
                    let metres: f64 = pieces
                        .iter()
                        .map(|&(p, q)| Geodesic.length(&geo::Line::new(p, q)))
                        .sum();
                    (j, metres)
                })
                .collect()
        })
    }
}

/// The working state: who holds what, and each CPTS's population.
struct State<'a> {
    a: &'a Analysis,
    members: Vec<BTreeSet<u32>>,
    population: Vec<u64>,
    parts_before: Vec<usize>,
    /// Where each decided commune goes.
    owner: Vec<Option<Target>>,
    epci: Vec<Option<u32>>,
    /// Communes of the layer in each EPCI.
    epci_size: HashMap<u32, usize>,
    borders: Borders<'a>,
}

impl<'a> State<'a> {
    fn new(a: &'a Analysis) -> State<'a> {
        let n = a.communes.len();
        let members: Vec<BTreeSet<u32>> = a
            .coverage
            .territories
            .iter()
            .map(|t| t.members.iter().copied().collect())
            .collect();
        let mut owner = vec![None; n];
        for (i, c) in a.coverage.claimants.iter().enumerate() {
            if let [k] = c.as_slice() {
                owner[i] = Some(Target::Cpts(*k));
            }
        }
        let table = crate::epci::epci();
        let epci: Vec<Option<u32>> = (0..n as u32)
            .map(|i| table.index_of(&a.communes.get(i).code))
            .collect();
        let mut epci_size = HashMap::new();
        for e in epci.iter().flatten() {
            *epci_size.entry(*e).or_default() += 1;
        }
        State {
            a,
            population: a
                .coverage
                .territories
                .iter()
                .map(|t| t.population)
                .collect(),
            parts_before: a
                .coverage
                .territories
                .iter()
                .map(|t| t.parts.len())
                .collect(),
            members,
            owner,
            epci,
            epci_size,
            borders: Borders::new(a),
        }
    }

    fn pop(&self, i: u32) -> u64 {
        self.a.communes.population[i as usize]
    }

    /// Parts of CPTS `k` if it lost `i`.
    fn parts_without(&self, k: u32, i: u32) -> usize {
        let m: Vec<u32> = self.members[k as usize]
            .iter()
            .copied()
            .filter(|&x| x != i)
            .collect();
        if m.is_empty() {
            return 0;
        }
        self.a.adjacency.components(&m).len()
    }

    /// The facts about giving the communes `unit` to `k`; `losers` lose them.
    fn facts(&mut self, k: u32, unit: &[u32], losers: &[u32]) -> Facts {
        let p: u64 = unit.iter().map(|&i| self.pop(i)).sum();
        let mut class_changes = 0;
        for &l in losers {
            let before = self.population[l as usize];
            if size_class(before) != size_class(before.saturating_sub(p)) {
                class_changes += 1;
            }
        }
        let gain = if losers.is_empty() { p } else { 0 };
        let before = self.population[k as usize];
        if size_class(before) != size_class(before + gain) {
            class_changes += 1;
        }
        let m = &self.members[k as usize];
        let epcis: BTreeSet<u32> = unit.iter().filter_map(|&i| self.epci[i as usize]).collect();
        let epci_mates = m
            .iter()
            .filter(|x| !unit.contains(x))
            .filter(|&&x| self.epci[x as usize].is_some_and(|e| epcis.contains(&e)))
            .count() as u32;
        let deps: BTreeSet<&str> = unit
            .iter()
            .map(|&i| self.a.communes.departement(i))
            .collect();
        let crosses = u32::from(
            !m.iter()
                .filter(|x| !unit.contains(x))
                .any(|&x| deps.contains(self.a.communes.departement(x))),
        );
        let mut border = 0.0;
        for &i in unit {
            let members = &self.members[k as usize];
            let list: Vec<(u32, f64)> = self.borders.of(i).to_vec();
            border += list
                .iter()
                .filter(|(j, _)| members.contains(j) && !unit.contains(j))
                .map(|(_, l)| l)
                .sum::<f64>();
        }
        Facts {
            class_changes,
            epci_mates,
            crosses,
            border,
            population: before,
            k,
        }
    }

    /// Gives white commune `i` to CPTS `k`.
    fn give(&mut self, i: u32, k: u32) {
        self.members[k as usize].insert(i);
        self.population[k as usize] += self.pop(i);
        self.owner[i as usize] = Some(Target::Cpts(k));
    }

    fn cpts_name(&self, k: u32) -> String {
        self.a.declarations.cpts[k as usize].id.clone()
    }

    /// Ranks `candidates` for `unit` (facts from `facts`), best first.
    fn rank(
        &mut self,
        strategy: Strategy,
        candidates: &[u32],
        unit: &[u32],
        losers_of: &dyn Fn(u32) -> Vec<u32>,
    ) -> Vec<Facts> {
        let mut all: Vec<Facts> = candidates
            .iter()
            .map(|&k| {
                let losers = losers_of(k);
                self.facts(k, unit, &losers)
            })
            .collect();
        all.sort_by(|a, b| {
            key(strategy, a)
                .iter()
                .zip(key(strategy, b).iter())
                .map(|(x, y)| x.total_cmp(y))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        all
    }

    fn flags(&self, win: &Facts, unit: &[u32]) -> Vec<&'static str> {
        let mut flags = Vec::new();
        // (département and région crossings are read from the final declarations)
        // the unit's EPCI has other communes, the winner holds none of them
        let has_mates = unit.iter().any(|&i| {
            self.epci[i as usize].is_some_and(|e| {
                let in_unit = unit
                    .iter()
                    .filter(|&&x| self.epci[x as usize] == Some(e))
                    .count();
                self.epci_size.get(&e).copied().unwrap_or(0) > in_unit
            })
        });
        if win.epci_mates == 0 && has_mates {
            flags.push("splits_epci");
        }
        if win.class_changes > 0 {
            flags.push("class_change");
        }
        flags
    }
}

impl Proposal {
    /// Proposes a fix for every chevauchement and zone blanche of `analysis`.
    ///
    /// # Errors
    /// [`Error::Input`] when a CPTS is drawn: proposals move whole communes.
    ///
    /// # Performance
    /// The layer's topology (for border lengths), then work proportional to the
    /// white and overlapping communes and the territories they touch: about a
    /// second for France with a few thousand of them.
    pub fn compute(analysis: &Analysis, options: &ProposeOptions) -> Result<Proposal> {
        if let Some(c) = analysis
            .declarations
            .cpts
            .iter()
            .find(|c| c.drawn.is_some())
        {
            return Err(Error::Input(format!(
                "propose moves whole communes: CPTS {} is drawn; give its commune list instead",
                c.id
            )));
        }
        let a = analysis;
        let (strategy, lang) = (options.strategy, options.lang);
        let mut st = State::new(a);
        let mut rows: Vec<ProposalRow> = Vec::new();
        let mut unresolved: Vec<Unresolved> = Vec::new();

        // 1. chevauchements, by code: each to one claimant, never cutting another,
        //    never taking from a CPTS its last commune
        for (i, claims) in a.coverage.claimants.iter().enumerate() {
            if claims.len() < 2 {
                continue;
            }
            let i = i as u32;
            let name_list = |st: &State<'_>, ks: &[u32]| {
                ks.iter()
                    .map(|&k| st.cpts_name(k))
                    .collect::<Vec<_>>()
                    .join(lang.pick(" et ", " and "))
            };
            // claimants for which this commune is all that is left
            let sole: Vec<u32> = claims
                .iter()
                .copied()
                .filter(|&k| st.members[k as usize].len() == 1)
                .collect();
            if sole.len() >= 2 {
                let why = lang
                    .pick(
                        "seule commune de {} : aucune ne peut la céder sans disparaître ; le chevauchement reste, à arbitrer",
                        "the only commune of {}: none can give it up without vanishing; the chevauchement stays, to be settled",
                    )
                    .replace("{}", &name_list(&st, &sole));
                st.owner[i as usize] = Some(Target::Unresolved);
                rows.push(ProposalRow {
                    commune: i,
                    before: Verdict::Overlap,
                    claimants: claims.clone(),
                    proposed: Target::Unresolved,
                    runner_up: None,
                    reason: why.clone(),
                    flags: vec!["unresolved", "sole_commune"],
                    zone: None,
                });
                unresolved.push(Unresolved {
                    kind: "chevauchement",
                    zone: None,
                    codes: vec![a.communes.get(i).code.clone()],
                    population: st.pop(i),
                    reason: why,
                });
                continue;
            }
            let keeps_whole = |st: &State<'_>, k: u32| {
                claims
                    .iter()
                    .filter(|&&o| o != k)
                    .all(|&o| st.parts_without(o, i) <= st.parts_before[o as usize])
            };
            let safe: Vec<u32> = claims
                .iter()
                .copied()
                .filter(|&k| keeps_whole(&st, k))
                .collect();
            let (pool, cuts) = if let [only] = sole.as_slice() {
                (vec![*only], !keeps_whole(&st, *only))
            } else if safe.is_empty() {
                (claims.clone(), true)
            } else {
                (safe, false)
            };
            let claims_c = claims.clone();
            let ranked = st.rank(strategy, &pool, &[i], &|k| {
                claims_c.iter().copied().filter(|&o| o != k).collect()
            });
            let win = ranked[0];
            let mut flags = st.flags(&win, &[i]);
            if cuts {
                flags.push("cuts_claimant");
            }
            let why = if !sole.is_empty() {
                flags.push("sole_commune");
                lang.pick(
                    "seule commune de {} : la lui retirer dissoudrait cette CPTS",
                    "the only commune of {}: taking it away would dissolve that CPTS",
                )
                .replace("{}", &st.cpts_name(win.k))
            } else if pool.len() == 1 && claims.len() > 1 && !cuts {
                lang.pick(
                    "le seul demandeur dont le choix ne coupe aucun autre en deux",
                    "the only claimant whose choice cuts no other in two",
                )
                .to_owned()
            } else {
                reason(strategy, lang, &win, ranked.get(1), &|k| st.cpts_name(k))
            };
            for &o in claims.iter().filter(|&&o| o != win.k) {
                st.members[o as usize].remove(&i);
                st.population[o as usize] -= st.pop(i);
            }
            st.owner[i as usize] = Some(Target::Cpts(win.k));
            rows.push(ProposalRow {
                commune: i,
                before: Verdict::Overlap,
                claimants: claims.clone(),
                proposed: Target::Cpts(win.k),
                runner_up: ranked.get(1).map(|f| Target::Cpts(f.k)),
                reason: why,
                flags,
                zone: None,
            });
        }

        // 2. zones blanches
        let mut new_cpts: Vec<NewCpts> = Vec::new();
        for z in &a.coverage.white_zones {
            let zpop: u64 = z.members.iter().map(|&i| st.pop(i)).sum();
            let touching = |st: &State<'_>, i: u32| -> Vec<u32> {
                let mut ks: Vec<u32> = a
                    .adjacency
                    .neighbours(i)
                    .iter()
                    .filter_map(|&j| match st.owner[j as usize] {
                        Some(Target::Cpts(k)) => Some(k),
                        _ => None,
                    })
                    .collect();
                ks.sort_unstable();
                ks.dedup();
                ks
            };
            if zpop >= options.new_cpts_min {
                let parts = partition(a, &z.members, options.new_cpts_min, &st.epci);
                let n = parts.len() as u64;
                for (k, part) in parts.into_iter().enumerate() {
                    let t = new_cpts.len() as u32;
                    let population = part.iter().map(|&i| st.pop(i)).sum();
                    let head = part
                        .iter()
                        .copied()
                        .max_by(|&x, &y| st.pop(x).cmp(&st.pop(y)).then(y.cmp(&x)))
                        .unwrap_or(part[0]);
                    let why = match lang {
                        Lang::Fr => format!(
                            "zone blanche {} de {} (≥ {}) : nouvelle CPTS {} sur {n}, {}",
                            z.id,
                            lang.count(zpop, "habitant", "habitants"),
                            lang.int(options.new_cpts_min),
                            k + 1,
                            lang.count(population, "habitant", "habitants"),
                        ),
                        Lang::En => format!(
                            "zone blanche {} of {} inhabitants (≥ {}): new CPTS {} of {n}, {} inhabitants",
                            z.id,
                            lang.int(zpop),
                            lang.int(options.new_cpts_min),
                            k + 1,
                            lang.int(population),
                        ),
                    };
                    for &i in &part {
                        st.owner[i as usize] = Some(Target::New(t));
                        rows.push(ProposalRow {
                            commune: i,
                            before: Verdict::White,
                            claimants: Vec::new(),
                            proposed: Target::New(t),
                            runner_up: None,
                            reason: why.clone(),
                            flags: vec!["new_cpts"],
                            zone: Some(z.id),
                        });
                    }
                    new_cpts.push(NewCpts {
                        id: format!("NOUVELLE-{}", a.communes.get(part[0]).code),
                        name: format!("Nouvelle CPTS {}", a.communes.get(head).name),
                        members: part,
                        population,
                        zone: z.id,
                    });
                }
                continue;
            }
            let neighbours: BTreeSet<u32> =
                z.members.iter().flat_map(|&i| touching(&st, i)).collect();
            if neighbours.is_empty() {
                let reason = match lang {
                    Lang::Fr => format!(
                        "la zone blanche {} ne touche aucune CPTS (une île, ou bordée seulement par la mer, une frontière ou le bord de la couche) et compte {}, moins que les {} d'une nouvelle CPTS",
                        z.id,
                        lang.count(zpop, "habitant", "habitants"),
                        lang.int(options.new_cpts_min)
                    ),
                    Lang::En => format!(
                        "zone blanche {} touches no CPTS (an island, or bordered only by the sea, a border or the edge of the layer) and has {} inhabitants, under the {} a new CPTS needs",
                        z.id,
                        lang.int(zpop),
                        lang.int(options.new_cpts_min)
                    ),
                };
                for &i in &z.members {
                    st.owner[i as usize] = Some(Target::Unresolved);
                    rows.push(ProposalRow {
                        commune: i,
                        before: Verdict::White,
                        claimants: Vec::new(),
                        proposed: Target::Unresolved,
                        runner_up: None,
                        reason: reason.clone(),
                        flags: vec!["unresolved"],
                        zone: Some(z.id),
                    });
                }
                unresolved.push(Unresolved {
                    kind: "zone_blanche",
                    zone: Some(z.id),
                    codes: z
                        .members
                        .iter()
                        .map(|&i| a.communes.get(i).code.clone())
                        .collect(),
                    population: zpop,
                    reason,
                });
                continue;
            }
            if options.whole_clusters {
                let candidates: Vec<u32> = neighbours.iter().copied().collect();
                let ranked = st.rank(strategy, &candidates, &z.members, &|_| Vec::new());
                let win = ranked[0];
                let flags = st.flags(&win, &z.members);
                let why = if ranked.len() == 1 {
                    lang.pick(
                        "la seule CPTS voisine (zone entière)",
                        "the only neighbouring CPTS (whole zone)",
                    )
                    .to_owned()
                } else {
                    format!(
                        "{}{}",
                        lang.pick("zone entière : ", "whole zone: "),
                        reason(strategy, lang, &win, ranked.get(1), &|k| st.cpts_name(k))
                    )
                };
                for &i in &z.members {
                    st.give(i, win.k);
                    rows.push(ProposalRow {
                        commune: i,
                        before: Verdict::White,
                        claimants: Vec::new(),
                        proposed: Target::Cpts(win.k),
                        runner_up: ranked.get(1).map(|f| Target::Cpts(f.k)),
                        reason: why.clone(),
                        flags: flags.clone(),
                        zone: Some(z.id),
                    });
                }
                continue;
            }
            // grown from the border inwards: each round gives the communes touching
            // a CPTS (as the round starts) to one of those CPTS
            let mut left: Vec<u32> = z.members.clone();
            while !left.is_empty() {
                let round: Vec<(u32, Vec<u32>)> = left
                    .iter()
                    .map(|&i| (i, touching(&st, i)))
                    .filter(|(_, ks)| !ks.is_empty())
                    .collect();
                if round.is_empty() {
                    break; // not reachable: the zone is connected and touches a CPTS
                }
                for (i, ks) in round {
                    let ranked = st.rank(strategy, &ks, &[i], &|_| Vec::new());
                    let win = ranked[0];
                    let flags = st.flags(&win, &[i]);
                    let why = if ranked.len() == 1 {
                        lang.pick("la seule CPTS qu'elle touche", "the only CPTS it touches")
                            .to_owned()
                    } else {
                        reason(strategy, lang, &win, ranked.get(1), &|k| st.cpts_name(k))
                    };
                    st.give(i, win.k);
                    rows.push(ProposalRow {
                        commune: i,
                        before: Verdict::White,
                        claimants: Vec::new(),
                        proposed: Target::Cpts(win.k),
                        runner_up: ranked.get(1).map(|f| Target::Cpts(f.k)),
                        reason: why,
                        flags,
                        zone: Some(z.id),
                    });
                    left.retain(|&x| x != i);
                }
            }
        }

        // 3. département and région crossings, read from the final declarations:
        //    a commune is the only one of its département (région) in its CPTS
        let members: Vec<Vec<u32>> = st
            .members
            .into_iter()
            .map(|m| m.into_iter().collect())
            .collect();
        for r in &mut rows {
            let list: &[u32] = match r.proposed {
                Target::Cpts(k) => &members[k as usize],
                Target::New(t) => &new_cpts[t as usize].members,
                Target::Unresolved => continue,
            };
            let (dep, reg) = place(a, r.commune);
            let others = list.iter().copied().filter(|&j| j != r.commune);
            let (mut same_dep, mut same_reg, mut any) = (false, false, false);
            for j in others {
                let (d, g) = place(a, j);
                any = true;
                same_dep |= d == dep;
                same_reg |= g == reg;
            }
            if any && !same_dep {
                r.flags.push("crosses_departement");
            }
            if any && !same_reg {
                r.flags.push("crosses_region");
            }
            r.flags
                .sort_by_key(|f| FLAGS.iter().position(|g| g == f).unwrap_or(FLAGS.len()));
        }
        rows.sort_by_key(|r| r.commune);
        Ok(Proposal {
            options: options.clone(),
            rows,
            members,
            new_cpts,
            unresolved,
        })
    }

    /// The declarations with the proposal applied: `(cpts_id, cpts_name,
    /// commune_code, status)`, every CPTS's communes (new CPTS as `projet`),
    /// sorted by CPTS id then code: what `analyze` can read back.
    pub fn declarations(&self, analysis: &Analysis) -> Vec<[String; 4]> {
        let a = analysis;
        let mut out = Vec::new();
        for (k, m) in self.members.iter().enumerate() {
            let c = &a.declarations.cpts[k];
            for &i in m {
                out.push([
                    c.id.clone(),
                    c.name.clone(),
                    a.communes.get(i).code.clone(),
                    c.status.map_or(String::new(), |s| s.as_str().to_owned()),
                ]);
            }
        }
        for t in &self.new_cpts {
            for &i in &t.members {
                out.push([
                    t.id.clone(),
                    t.name.clone(),
                    a.communes.get(i).code.clone(),
                    "projet".to_owned(),
                ]);
            }
        }
        out.sort();
        out
    }

    /// The proposal applied: the analysis of [`Proposal::declarations`] on the same
    /// layer and populations (what `analyze` would say of `declarations.csv`).
    ///
    /// ```
    /// use maillage::propose::{Proposal, ProposeOptions};
    /// use maillage::{Analysis, Inputs};
    ///
    /// let before = Analysis::run(&Inputs::demo())?;
    /// let proposal = Proposal::compute(&before, &ProposeOptions::default())?;
    /// let after = proposal.apply(&before)?;
    /// assert_eq!(after.summary.communes_overlap, 0);
    /// // no existing CPTS disappears
    /// assert!(after.summary.cpts_count >= before.summary.cpts_count);
    /// # Ok::<(), maillage::Error>(())
    /// ```
    ///
    /// # Errors
    /// Those of [`Analysis::with_declarations`].
    pub fn apply(&self, before: &Analysis) -> Result<Analysis> {
        use crate::load::{Claim, Cpts, Declarations, Status};
        let a = before;
        let code = |i: &u32| a.communes.get(*i).code.clone();
        let mut cpts: Vec<Cpts> = Vec::new();
        let mut add = |id: &str, name: &str, status: Option<Status>, members: &[u32]| {
            if members.is_empty() {
                return;
            }
            let mut codes: Vec<String> = members.iter().map(code).collect();
            codes.sort();
            cpts.push(Cpts {
                id: id.to_owned(),
                name: name.to_owned(),
                status,
                claims: codes
                    .into_iter()
                    .map(|code| Claim { code, line: 0 })
                    .collect(),
                drawn: None,
                file: 0,
            });
        };
        for (c, m) in a.declarations.cpts.iter().zip(&self.members) {
            add(&c.id, &c.name, c.status, m);
        }
        for t in &self.new_cpts {
            add(&t.id, &t.name, Some(Status::Projet), &t.members);
        }
        cpts.sort_by(|x, y| x.id.cmp(&y.id));
        // the lines of declarations.csv (header on line 1), as if it were read back
        let mut line = 2;
        for c in &mut cpts {
            for claim in &mut c.claims {
                claim.line = line;
                line += 1;
            }
        }
        let source = "proposal:declarations.csv";
        let decl = Declarations {
            source: source.into(),
            cpts,
            diagnostics: Vec::new(),
        };
        a.with_declarations(
            decl,
            &[source.to_owned()],
            crate::analysis::DEFAULT_MIN_AREA_KM2,
        )
    }

    /// The proposal as changes the report's workspace offers to accept or
    /// reject: one per commune it gives to a CPTS, existing or new (the
    /// communes it leaves unresolved are not offered).
    pub fn suggestions(&self, analysis: &Analysis) -> Vec<crate::render::Suggestion> {
        let cpts = &analysis.declarations.cpts;
        self.rows
            .iter()
            .filter_map(|r| {
                let (id, name) = match r.proposed {
                    Target::Cpts(k) => (cpts[k as usize].id.clone(), cpts[k as usize].name.clone()),
                    Target::New(j) => {
                        let t = &self.new_cpts[j as usize];
                        (t.id.clone(), t.name.clone())
                    }
                    Target::Unresolved => return None,
                };
                Some(crate::render::Suggestion {
                    commune: r.commune,
                    cpts_id: id,
                    cpts_name: name,
                    reason: r.reason.clone(),
                })
            })
            .collect()
    }

    /// What a map of the proposal outlines (see
    /// [`Renderer::with_highlights`](crate::render::Renderer::with_highlights)):
    /// the communes given to an existing CPTS (one group per CPTS), each new
    /// CPTS, and what stays unresolved; positions are those of `analysis`'s
    /// communes, the same in the analysis of the proposal applied.
    pub fn highlights(&self, analysis: &Analysis) -> Vec<crate::render::Highlight> {
        use crate::render::{Highlight, HighlightKind};
        let lang = self.options.lang;
        let mut moved: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
        let mut unresolved: Vec<u32> = Vec::new();
        for r in &self.rows {
            match r.proposed {
                Target::Cpts(k) => moved.entry(k).or_default().push(r.commune),
                Target::Unresolved => unresolved.push(r.commune),
                Target::New(_) => {}
            }
        }
        let _ = analysis;
        let count = |n: usize, one: &str, many: &str| lang.count(n as u64, one, many);
        let moved_n: usize = moved.values().map(Vec::len).sum();
        let mut out = Vec::new();
        if moved_n > 0 {
            out.push(Highlight {
                kind: HighlightKind::Moved,
                label: lang
                    .pick(
                        "Confiées à une CPTS existante : ",
                        "Given to an existing CPTS: ",
                    )
                    .to_owned()
                    + &count(moved_n, "commune", "communes"),
                groups: moved.into_values().collect(),
            });
        }
        if !self.new_cpts.is_empty() {
            out.push(Highlight {
                kind: HighlightKind::New,
                label: lang
                    .pick("Nouvelles CPTS proposées : ", "New CPTS proposed: ")
                    .to_owned()
                    + &self.new_cpts.len().to_string(),
                groups: self.new_cpts.iter().map(|t| t.members.clone()).collect(),
            });
        }
        if !unresolved.is_empty() {
            out.push(Highlight {
                kind: HighlightKind::Unresolved,
                label: lang
                    .pick("Non résolu, à arbitrer : ", "Unresolved, to be settled: ")
                    .to_owned()
                    + &count(unresolved.len(), "commune", "communes"),
                groups: vec![unresolved],
            });
        }
        out
    }

    /// The moves: for every commune the proposal decides, the row(s) it should
    /// have. Applying them is removing the input's rows for those communes and
    /// adding these ([`Proposal::declarations`] is the result).
    pub fn moves(&self, analysis: &Analysis) -> Vec<[String; 4]> {
        let a = analysis;
        let mut out: Vec<[String; 4]> = self
            .rows
            .iter()
            .filter_map(|r| {
                let code = a.communes.get(r.commune).code.clone();
                match r.proposed {
                    Target::Cpts(k) => {
                        let c = &a.declarations.cpts[k as usize];
                        Some([
                            c.id.clone(),
                            c.name.clone(),
                            code,
                            c.status.map_or(String::new(), |s| s.as_str().to_owned()),
                        ])
                    }
                    Target::New(t) => {
                        let t = &self.new_cpts[t as usize];
                        Some([t.id.clone(), t.name.clone(), code, "projet".to_owned()])
                    }
                    Target::Unresolved => None,
                }
            })
            .collect();
        out.sort();
        out
    }

    /// The name of a target, for tables.
    pub fn target_id(&self, analysis: &Analysis, t: Target) -> String {
        match t {
            Target::Cpts(k) => analysis.declarations.cpts[k as usize].id.clone(),
            Target::New(k) => self.new_cpts[k as usize].id.clone(),
            Target::Unresolved => String::new(),
        }
    }
}

/// The département and région of commune `i` (the région is `None` for a
/// département COG 2026 does not know).
fn place(a: &Analysis, i: u32) -> (&str, Option<&'static str>) {
    let dep = a.communes.departement(i);
    (dep, region_of_departement(dep))
}

/// Cuts a large zone blanche into new CPTS that are plausible CPTS:
/// - never across régions (each is validated by one ARS): the zone is first cut
///   by région, and each piece is handled alone;
/// - along EPCI and département lines where the zone allows: the units grown are
///   the zone's communes of one EPCI and one département (contiguous pieces of
///   them), and a unit is split into its communes only when it alone exceeds
///   [`NEW_CPTS_MAX`];
/// - never above [`NEW_CPTS_MAX`] (the top of ACI class 3) unless one commune
///   alone exceeds it: a piece of population P becomes ⌈P / max⌉ territories,
///   each grown from the edge of what is left (the unit with the fewest free
///   neighbours), taking the neighbouring unit most bound to it, until it reaches
///   P / ⌈P / max⌉ or the next unit would pass the cap (a commune above the cap
///   is a territory of its own, and P counts the others);
/// - a territory under `min` then joins its smallest neighbour of the same région
///   when the two stay under the cap; otherwise it stays a (small) new CPTS.
///
/// Contiguous by construction; deterministic (ties go to the smallest code).
fn partition(a: &Analysis, zone: &[u32], min: u64, epci: &[Option<u32>]) -> Vec<Vec<u32>> {
    let pop = |i: u32| a.communes.population[i as usize];
    // units: communes of one (région, département, EPCI), cut into connected pieces
    // (région, département, EPCI, the commune itself when it has no EPCI)
    type Unit<'a> = (Option<&'a str>, &'a str, Option<u32>, Option<u32>);
    let mut groups: BTreeMap<Unit<'_>, Vec<u32>> = BTreeMap::new();
    for &i in zone {
        let (dep, reg) = place(a, i);
        let e = epci[i as usize];
        // a commune without EPCI is a unit of its own
        let own = if e.is_none() { Some(i) } else { None };
        groups.entry((reg, dep, e, own)).or_default().push(i);
    }
    let mut units: Vec<Vec<u32>> = Vec::new();
    for members in groups.into_values() {
        for piece in a.adjacency.components(&members) {
            let total: u64 = piece.iter().map(|&i| pop(i)).sum();
            if total > NEW_CPTS_MAX && piece.len() > 1 {
                units.extend(piece.iter().map(|&i| vec![i]));
            } else {
                units.push(piece);
            }
        }
    }
    for u in &mut units {
        u.sort_unstable();
    }
    units.sort();
    let unit_of: HashMap<u32, usize> = units
        .iter()
        .enumerate()
        .flat_map(|(u, m)| m.iter().map(move |&i| (i, u)))
        .collect();
    let region = |u: usize| place(a, units[u][0]).1;
    let upop: Vec<u64> = units
        .iter()
        .map(|m| m.iter().map(|&i| pop(i)).sum())
        .collect();
    // unit adjacency, within one région, with the number of commune borders shared
    let links: Vec<BTreeMap<usize, u32>> = (0..units.len())
        .map(|u| {
            let mut l: BTreeMap<usize, u32> = BTreeMap::new();
            for &i in &units[u] {
                for j in a.adjacency.neighbours(i) {
                    if let Some(&v) = unit_of.get(j) {
                        if v != u && region(v) == region(u) {
                            *l.entry(v).or_default() += 1;
                        }
                    }
                }
            }
            l
        })
        .collect();
    // pieces of one région: connected components of the unit graph
    let mut seen = vec![false; units.len()];
    let mut parts: Vec<Vec<usize>> = Vec::new();
    for start in 0..units.len() {
        if seen[start] {
            continue;
        }
        let mut piece = vec![start];
        seen[start] = true;
        let mut k = 0;
        while k < piece.len() {
            for &v in links[piece[k]].keys() {
                if !seen[v] {
                    seen[v] = true;
                    piece.push(v);
                }
            }
            k += 1;
        }
        // a commune above the cap alone is a territory of its own; the rest is
        // shared evenly
        let mut free: BTreeSet<usize> = BTreeSet::new();
        for u in piece {
            if upop[u] > NEW_CPTS_MAX {
                parts.push(vec![u]);
            } else {
                free.insert(u);
            }
        }
        let total: u64 = free.iter().map(|&u| upop[u]).sum();
        let count = total.div_ceil(NEW_CPTS_MAX).max(1);
        let target = total / count;
        while let Some(seed) = free.iter().copied().min_by_key(|&u| {
            let degree = links[u].keys().filter(|v| free.contains(v)).count();
            (degree, u)
        }) {
            free.remove(&seed);
            let mut part = vec![seed];
            let mut size = upop[seed];
            // free neighbours of the part, with the borders they share with it
            let mut frontier: BTreeMap<usize, u32> = BTreeMap::new();
            for (&v, &n) in &links[seed] {
                if free.contains(&v) {
                    *frontier.entry(v).or_default() += n;
                }
            }
            while size < target {
                let next = frontier
                    .iter()
                    .filter(|(&v, _)| size + upop[v] <= NEW_CPTS_MAX)
                    .max_by(|(&v, &n), (&w, &m)| n.cmp(&m).then(w.cmp(&v)))
                    .map(|(&v, _)| v);
                let Some(v) = next else { break };
                frontier.remove(&v);
                free.remove(&v);
                part.push(v);
                size += upop[v];
                for (&w, &n) in &links[v] {
                    if free.contains(&w) {
                        *frontier.entry(w).or_default() += n;
                    }
                }
            }
            parts.push(part);
        }
    }
    // small territories join their smallest neighbour (same région, under the cap)
    let psize = |p: &[usize]| p.iter().map(|&u| upop[u]).sum::<u64>();
    loop {
        let mut owner: HashMap<usize, usize> = HashMap::new();
        for (p, part) in parts.iter().enumerate() {
            for &u in part {
                owner.insert(u, p);
            }
        }
        let merge = (0..parts.len())
            .filter(|&p| psize(&parts[p]) < min)
            .find_map(|p| {
                let size = psize(&parts[p]);
                parts[p]
                    .iter()
                    .flat_map(|&u| links[u].keys())
                    .filter_map(|v| owner.get(v).copied())
                    .filter(|&q| q != p && size + psize(&parts[q]) <= NEW_CPTS_MAX)
                    .min_by_key(|&q| (psize(&parts[q]), q))
                    .map(|q| (p, q))
            });
        let Some((p, q)) = merge else { break };
        let moved = std::mem::take(&mut parts[p]);
        parts[q].extend(moved);
        parts.remove(p);
    }
    let mut out: Vec<Vec<u32>> = parts
        .into_iter()
        .map(|p| {
            let mut m: Vec<u32> = p.into_iter().flat_map(|u| units[u].clone()).collect();
            m.sort_unstable();
            m
        })
        .collect();
    out.sort();
    out
}

/// The figures `summary.json` gives of one side (before or after).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Side {
    /// White communes.
    pub communes_white: u64,
    /// Their population.
    pub population_white: u64,
    /// Overlapped communes.
    pub communes_overlap: u64,
    /// Their population.
    pub population_overlap: u64,
    /// CPTS.
    pub cpts: u64,
    /// CPTS in more than one part.
    pub cpts_non_contiguous: u64,
    /// EPCI whose communes are not all in one territory (or all white).
    pub epci_split: u64,
}

impl Side {
    fn of(a: &Analysis) -> Side {
        let s = &a.summary;
        Side {
            communes_white: s.communes_white,
            population_white: s.population_white,
            communes_overlap: s.communes_overlap,
            population_overlap: s.population_overlap,
            cpts: s.cpts_count,
            cpts_non_contiguous: s.cpts_non_contiguous,
            epci_split: epci_split(a),
        }
    }
}

/// EPCI (with two communes or more in the layer) whose communes are held by more
/// than one CPTS, or partly by none.
fn epci_split(a: &Analysis) -> u64 {
    let table = crate::epci::epci();
    let mut holders: BTreeMap<u32, BTreeSet<Vec<u32>>> = BTreeMap::new();
    let mut sizes: BTreeMap<u32, usize> = BTreeMap::new();
    for i in 0..a.communes.len() {
        if let Some(e) = table.index_of(&a.communes.get(i as u32).code) {
            holders
                .entry(e)
                .or_default()
                .insert(a.coverage.claimants[i].clone());
            *sizes.entry(e).or_default() += 1;
        }
    }
    holders
        .iter()
        .filter(|(e, h)| sizes[e] > 1 && h.len() > 1)
        .count() as u64
}

/// The content of the proposal's `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProposalSummary {
    /// The strategy.
    pub strategy: String,
    /// Whole zones to one neighbour.
    pub whole_clusters: bool,
    /// The population from which a zone blanche becomes new CPTS.
    pub new_cpts_min: u64,
    /// The region as declared.
    pub before: Side,
    /// The region with the proposal applied (analysed again).
    pub after: Side,
    /// Chevauchements given to one claimant.
    pub overlaps_resolved: u64,
    /// Chevauchements left to their claimants: each is the last commune of two
    /// CPTS or more (see `unresolved`).
    pub overlaps_unresolved: u64,
    /// White communes given to a CPTS, existing or new.
    pub whites_assigned: u64,
    /// New CPTS proposed.
    pub new_cpts: u64,
    /// CPTS whose ACI class changes.
    pub size_class_changes: u64,
    /// Communes that end in a CPTS holding no other commune of their département.
    pub departement_crossings: u64,
    /// Communes that end in a CPTS holding no other commune of their région.
    pub region_crossings: u64,
    /// Input CPTS left with no commune (ids). The proposal never takes a CPTS's
    /// last commune, so only a CPTS that had none to start with (every code
    /// unknown) is listed.
    pub cpts_emptied: Vec<String>,
    /// Decisions giving a commune to a CPTS holding none of its EPCI.
    pub epci_splitting_moves: u64,
    /// Chevauchements that had to cut a claimant in two.
    pub cuts_claimant: u64,
    /// What stays unresolved, and why.
    pub unresolved: Vec<Unresolved>,
    /// Diagnostics of the inputs (all in `diagnostics.json`).
    pub diagnostics: usize,
    /// Their count by kind.
    pub diagnostics_by_kind: BTreeMap<String, usize>,
}

impl Proposal {
    /// The figures of `summary.json`, `after` being the analysis of
    /// [`Proposal::declarations`].
    pub fn summary(&self, before: &Analysis, after: &Analysis) -> ProposalSummary {
        let flagged = |f: &str| self.rows.iter().filter(|r| r.flags.contains(&f)).count() as u64;
        let class_after: BTreeMap<&str, u8> = after
            .declarations
            .cpts
            .iter()
            .zip(&after.coverage.territories)
            .map(|(c, t)| (c.id.as_str(), t.size_class))
            .collect();
        let size_class_changes = before
            .declarations
            .cpts
            .iter()
            .zip(&before.coverage.territories)
            .filter(|(c, t)| {
                class_after
                    .get(c.id.as_str())
                    .is_some_and(|&k| k != t.size_class)
            })
            .count() as u64;
        ProposalSummary {
            strategy: self.options.strategy.as_str().to_owned(),
            whole_clusters: self.options.whole_clusters,
            new_cpts_min: self.options.new_cpts_min,
            before: Side::of(before),
            after: Side::of(after),
            overlaps_resolved: self
                .rows
                .iter()
                .filter(|r| r.before == Verdict::Overlap && r.proposed != Target::Unresolved)
                .count() as u64,
            overlaps_unresolved: self
                .rows
                .iter()
                .filter(|r| r.before == Verdict::Overlap && r.proposed == Target::Unresolved)
                .count() as u64,
            whites_assigned: self
                .rows
                .iter()
                .filter(|r| r.before == Verdict::White && r.proposed != Target::Unresolved)
                .count() as u64,
            new_cpts: self.new_cpts.len() as u64,
            size_class_changes,
            departement_crossings: flagged("crosses_departement"),
            region_crossings: flagged("crosses_region"),
            cpts_emptied: self
                .members
                .iter()
                .zip(&before.declarations.cpts)
                .filter(|(m, _)| m.is_empty())
                .map(|(_, c)| c.id.clone())
                .collect(),
            epci_splitting_moves: flagged("splits_epci"),
            cuts_claimant: flagged("cuts_claimant"),
            unresolved: self.unresolved.clone(),
            diagnostics: before.summary.diagnostics.len(),
            diagnostics_by_kind: crate::diagnostics::Report::new(&before.summary.diagnostics)
                .by_kind,
        }
    }

    /// The terminal summary, in the options' language: what was decided, the
    /// figures before and after, what stays unresolved, the inputs' diagnostics
    /// (at most `max_diagnostics` shown).
    pub fn text(&self, before: &Analysis, after: &Analysis, max_diagnostics: usize) -> String {
        use std::fmt::Write as _;
        let s = self.summary(before, after);
        let l = self.options.lang;
        let c = |n: u64, one: &str, many: &str| l.count(n, one, many);
        let mut out = String::new();
        match l {
            Lang::Fr => {
                let _ = writeln!(
                    out,
                    "maillage propose ({}{}) : {} à un seul demandeur, {} à une CPTS, {}, {} non {}",
                    s.strategy,
                    if s.whole_clusters { ", zones entières" } else { "" },
                    c(s.overlaps_resolved, "chevauchement confié", "chevauchements confiés"),
                    c(s.whites_assigned, "commune blanche confiée", "communes blanches confiées"),
                    c(s.new_cpts, "nouvelle CPTS", "nouvelles CPTS"),
                    c(s.unresolved.len() as u64, "cas", "cas"),
                    if s.unresolved.len() > 1 { "résolus" } else { "résolu" },
                );
                let _ = writeln!(
                    out,
                    "  avant : {} ({}), {} ; après : {} ({}), {}",
                    c(
                        s.before.communes_white,
                        "commune blanche",
                        "communes blanches"
                    ),
                    c(s.before.population_white, "habitant", "habitants"),
                    c(
                        s.before.communes_overlap,
                        "commune en chevauchement",
                        "communes en chevauchement"
                    ),
                    c(
                        s.after.communes_white,
                        "commune blanche",
                        "communes blanches"
                    ),
                    c(s.after.population_white, "habitant", "habitants"),
                    c(
                        s.after.communes_overlap,
                        "commune en chevauchement",
                        "communes en chevauchement"
                    ),
                );
                let _ = writeln!(
                    out,
                    "  classes ACI changées {}, communes seules de leur département dans leur CPTS {}, de leur région {}, communes éloignées de leur EPCI {}, EPCI partagés {} → {}, demandeurs coupés en deux {}",
                    s.size_class_changes,
                    s.departement_crossings,
                    s.region_crossings,
                    s.epci_splitting_moves,
                    s.before.epci_split,
                    s.after.epci_split,
                    s.cuts_claimant
                );
                let _ = writeln!(
                    out,
                    "  CPTS existantes : {} avant, toutes gardées{}",
                    before.declarations.cpts.len(),
                    if s.cpts_emptied.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " sauf {} sans commune connue dès le départ : {}",
                            s.cpts_emptied.len(),
                            s.cpts_emptied.join(", ")
                        )
                    }
                );
            }
            Lang::En => {
                let _ = writeln!(
                    out,
                    "maillage propose ({}{}): {} given to one claimant, {} given to a CPTS, {} new CPTS, {} unresolved",
                    s.strategy,
                    if s.whole_clusters { ", whole zones" } else { "" },
                    c(s.overlaps_resolved, "chevauchement", "chevauchements"),
                    c(s.whites_assigned, "white commune", "white communes"),
                    s.new_cpts,
                    s.unresolved.len()
                );
                let _ = writeln!(
                    out,
                    "  before: {} white ({} inhabitants), {} overlapping; after: {} white ({} inhabitants), {} overlapping",
                    s.before.communes_white,
                    l.int(s.before.population_white),
                    s.before.communes_overlap,
                    s.after.communes_white,
                    l.int(s.after.population_white),
                    s.after.communes_overlap
                );
                let _ = writeln!(
                    out,
                    "  ACI class changes {}, communes alone of their département in their CPTS {}, of their région {}, moves away from the commune's EPCI {}, EPCI split {} → {}, claimants cut in two {}",
                    s.size_class_changes,
                    s.departement_crossings,
                    s.region_crossings,
                    s.epci_splitting_moves,
                    s.before.epci_split,
                    s.after.epci_split,
                    s.cuts_claimant
                );
                let _ = writeln!(
                    out,
                    "  existing CPTS: {} before, all kept{}",
                    before.declarations.cpts.len(),
                    if s.cpts_emptied.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " but {} with no known commune to begin with: {}",
                            s.cpts_emptied.len(),
                            s.cpts_emptied.join(", ")
                        )
                    }
                );
            }
        }
        for u in &s.unresolved {
            let _ = writeln!(
                out,
                "  {}{}",
                l.pick("non résolu : ", "unresolved: "),
                u.reason
            );
        }
        let report = crate::diagnostics::Report::new(&before.summary.diagnostics);
        let _ = write!(out, "\n{}", report.text(max_diagnostics));
        out
    }

    /// Stages `proposals.csv`, `moves.csv`, `declarations.csv`, `cpts_effect.csv`,
    /// `new_cpts.csv`, `new_cpts.geojson`, `diagnostics.json` (the inputs') and
    /// `summary.json`; `after` is the
    /// analysis of [`Proposal::declarations`].
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn stage(
        &self,
        staging: &crate::export::Staging,
        before: &Analysis,
        after: &Analysis,
    ) -> Result<()> {
        let a = before;
        let dir = staging.dir().to_owned();
        let csv_file = |staging: &crate::export::Staging, name: &str, rows: Vec<Vec<String>>| {
            let path = dir.join(name);
            staging.write(name, |w| {
                let mut c = csv::WriterBuilder::new()
                    .terminator(csv::Terminator::Any(b'\n'))
                    .from_writer(w);
                for r in rows {
                    c.write_record(&r)
                        .map_err(|e| Error::io(&path, std::io::Error::other(e)))?;
                }
                c.flush().map_err(|e| Error::io(&path, e))
            })
        };
        let ids = |list: &[u32]| {
            list.iter()
                .map(|&k| a.declarations.cpts[k as usize].id.as_str())
                .collect::<Vec<_>>()
                .join("|")
        };
        let table = crate::epci::epci();
        let mut rows = vec![[
            "code",
            "name",
            "population",
            "departement",
            "epci",
            "epci_name",
            "zone_id",
            "before",
            "claimants",
            "proposed_cpts",
            "runner_up",
            "reason",
            "flags",
        ]
        .map(str::to_owned)
        .to_vec()];
        for r in &self.rows {
            let c = a.communes.get(r.commune);
            let e = table.of(&c.code);
            rows.push(vec![
                c.code.clone(),
                c.name.clone(),
                a.communes.population[r.commune as usize].to_string(),
                departement_of(&c.code).to_owned(),
                e.map_or(String::new(), |e| e.code.clone()),
                e.map_or(String::new(), |e| e.name.clone()),
                r.zone.map_or(String::new(), |z| z.to_string()),
                r.before.as_str().to_owned(),
                ids(&r.claimants),
                self.target_id(a, r.proposed),
                r.runner_up
                    .map(|t| self.target_id(a, t))
                    .unwrap_or_default(),
                r.reason.clone(),
                r.flags.join("|"),
            ]);
        }
        csv_file(staging, "proposals.csv", rows)?;
        let header = || {
            vec!["cpts_id", "cpts_name", "commune_code", "status"]
                .into_iter()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        // moves: the rows to add, with where each commune came from
        let mut rows = vec![header()
            .into_iter()
            .chain(["commune_name".to_owned(), "from_cpts".to_owned()])
            .collect()];
        for r in self.moves(a) {
            let i = a.communes.index_of(&r[2]).map_or(0, |i| i as usize);
            let from = ids(&a.coverage.claimants[i]);
            let name = a.communes.get(i as u32).name.clone();
            rows.push(r.into_iter().chain([name, from]).collect());
        }
        csv_file(staging, "moves.csv", rows)?;
        let mut rows = vec![header()];
        rows.extend(self.declarations(a).into_iter().map(|r| r.to_vec()));
        csv_file(staging, "declarations.csv", rows)?;

        // effect on each CPTS, existing then new
        let before_by: BTreeMap<&str, usize> = a
            .declarations
            .cpts
            .iter()
            .enumerate()
            .map(|(k, c)| (c.id.as_str(), k))
            .collect();
        let epcis = |an: &Analysis, members: &[u32]| -> String {
            let set: BTreeSet<&str> = members
                .iter()
                .filter_map(|&i| table.of(&an.communes.get(i).code).map(|e| e.code.as_str()))
                .collect();
            set.into_iter().collect::<Vec<_>>().join("|")
        };
        let mut rows = vec![[
            "cpts_id",
            "cpts_name",
            "communes_before",
            "communes_after",
            "population_before",
            "population_after",
            "size_class_before",
            "size_class_after",
            "parts_before",
            "parts_after",
            "epci_before",
            "epci_after",
            "departements_before",
            "departements_after",
            "emptied",
        ]
        .map(str::to_owned)
        .to_vec()];
        // every input CPTS (one emptied is listed with 0 communes after and
        // flagged), then the new ones
        let after_by: BTreeMap<&str, usize> = after
            .declarations
            .cpts
            .iter()
            .enumerate()
            .map(|(k, c)| (c.id.as_str(), k))
            .collect();
        let empty = crate::coverage::Territory::default();
        let mut listed: Vec<(
            &crate::load::Cpts,
            Option<&crate::coverage::Territory>,
            &crate::coverage::Territory,
        )> = Vec::new();
        for (c, t) in a.declarations.cpts.iter().zip(&a.coverage.territories) {
            let t_after = after_by
                .get(c.id.as_str())
                .map_or(&empty, |&k| &after.coverage.territories[k]);
            listed.push((c, Some(t), t_after));
        }
        for (c, t) in after
            .declarations
            .cpts
            .iter()
            .zip(&after.coverage.territories)
        {
            if !before_by.contains_key(c.id.as_str()) {
                listed.push((c, None, t));
            }
        }
        for (c, b, t) in listed {
            rows.push(vec![
                c.id.clone(),
                c.name.clone(),
                b.map_or(0, |b| b.members.len()).to_string(),
                t.members.len().to_string(),
                b.map_or(0, |b| b.population).to_string(),
                t.population.to_string(),
                b.map_or(String::new(), |b| b.size_class.to_string()),
                t.size_class.to_string(),
                b.map_or(0, |b| b.parts.len()).to_string(),
                t.parts.len().to_string(),
                b.map_or(String::new(), |b| epcis(a, &b.members)),
                epcis(after, &t.members),
                b.map_or(String::new(), |b| b.departements.join("|")),
                t.departements.join("|"),
                (t.members.is_empty()).to_string(),
            ]);
        }
        csv_file(staging, "cpts_effect.csv", rows)?;

        let mut rows = vec![[
            "cpts_id",
            "cpts_name",
            "communes",
            "population",
            "size_class",
            "zone_id",
            "codes",
        ]
        .map(str::to_owned)
        .to_vec()];
        for t in &self.new_cpts {
            rows.push(vec![
                t.id.clone(),
                t.name.clone(),
                t.members.len().to_string(),
                t.population.to_string(),
                size_class(t.population).to_string(),
                t.zone.to_string(),
                t.members
                    .iter()
                    .map(|&i| a.communes.get(i).code.as_str())
                    .collect::<Vec<_>>()
                    .join("|"),
            ]);
        }
        csv_file(staging, "new_cpts.csv", rows)?;
        let path = dir.join("new_cpts.geojson");
        staging.write("new_cpts.geojson", |w| {
            let io = |e| Error::io(&path, e);
            let mut fw = crate::export::FeatureWriter::new(w).map_err(io)?;
            for t in &self.new_cpts {
                let geoms: Vec<&geo::MultiPolygon<f64>> = t
                    .members
                    .iter()
                    .map(|&i| &a.communes.get(i).geometry)
                    .collect();
                let props = serde_json::json!({
                    "cpts_id": t.id,
                    "cpts_name": t.name,
                    "communes": t.members.len(),
                    "population": t.population,
                    "size_class": size_class(t.population),
                    "zone_id": t.zone,
                });
                fw.feature(&props, &crate::dissolve::dissolve(&geoms))
                    .map_err(io)?;
            }
            fw.finish().map(|_| ()).map_err(io)
        })?;
        let path = dir.join("diagnostics.json");
        staging.write("diagnostics.json", |w| {
            let report = crate::diagnostics::Report::new(&before.summary.diagnostics);
            serde_json::to_writer_pretty(&mut *w, &report)
                .map_err(|e| Error::io(&path, e.into()))?;
            std::io::Write::write_all(w, b"\n").map_err(|e| Error::io(&path, e))
        })?;
        let path = dir.join("summary.json");
        let summary = self.summary(before, after);
        staging.write("summary.json", |w| {
            serde_json::to_writer_pretty(&mut *w, &summary)
                .map_err(|e| Error::io(&path, e.into()))?;
            std::io::Write::write_all(w, b"\n").map_err(|e| Error::io(&path, e))
        })?;
        Ok(())
    }
}
