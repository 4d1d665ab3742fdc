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

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::str::FromStr;

use geo::{Geodesic, Length};
use serde::Serialize;

use crate::analysis::Analysis;
use crate::coverage::{size_class, Verdict};
use crate::error::{Error, Result};
use crate::topology::{Topology, OUTSIDE};

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
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Strategy, String> {
        match s {
            "balanced" => Ok(Strategy::Balanced),
            "longest-border" => Ok(Strategy::LongestBorder),
            "min-population" => Ok(Strategy::MinPopulation),
            "epci" => Ok(Strategy::Epci),
            other => Err(format!(
                "strategy {other:?}: balanced, longest-border, min-population or epci"
            )),
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
}

impl Default for ProposeOptions {
    fn default() -> Self {
        ProposeOptions {
            strategy: Strategy::Balanced,
            whole_clusters: false,
            new_cpts_min: DEFAULT_NEW_CPTS_MIN,
        }
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
    /// Which rule decided.
    pub reason: String,
    /// `crosses_departement`, `splits_epci`, `class_change`, `cuts_claimant`,
    /// `new_cpts`, `unresolved`.
    pub flags: Vec<&'static str>,
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

/// White communes left without CPTS, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unresolved {
    /// The zone blanche.
    pub zone: u32,
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
    let km = |m: f64| format!("{:.1} km", m / 1000.0);
    match part {
        "class" => format!(
            "keeps ACI classes ({} change(s); {} would make {})",
            win.class_changes,
            names(next.k),
            next.class_changes
        ),
        "epci" => format!(
            "holds {} commune(s) of its EPCI ({} holds {})",
            win.epci_mates,
            names(next.k),
            next.epci_mates
        ),
        "departement" => format!("in its département ({} is not)", names(next.k)),
        "border" => format!(
            "longest border: {} ({} {})",
            km(win.border),
            names(next.k),
            km(next.border)
        ),
        "population" => format!(
            "smaller population: {} ({} {})",
            win.population,
            names(next.k),
            next.population
        ),
        _ => format!("tie with {}: first CPTS id", names(next.k)),
    }
}

/// Border lengths between communes, measured geodesically on the shared arcs of
/// the layer's topology, computed for the communes asked about only.
struct Borders {
    topology: Topology,
    arc_length: Vec<f64>,
    cache: HashMap<u32, Vec<(u32, f64)>>,
}

impl Borders {
    fn new(analysis: &Analysis) -> Borders {
        let geoms = analysis.communes.geometries();
        let topology = Topology::build(&geoms);
        let arcs = topology.arc_count();
        Borders {
            topology,
            arc_length: vec![f64::NAN; arcs],
            cache: HashMap::new(),
        }
    }

    /// Each neighbour of `i` with the length of the border they share, metres.
    fn of(&mut self, i: u32) -> &[(u32, f64)] {
        if !self.cache.contains_key(&i) {
            let mut by: BTreeMap<u32, f64> = BTreeMap::new();
            for ring in self.topology.rings(i as usize) {
                for &a in ring {
                    let j = self.topology.across(a);
                    if j == OUTSIDE || j == i {
                        continue;
                    }
                    let k = a.index();
                    if self.arc_length[k].is_nan() {
                        let line = geo::LineString::new(self.topology.arc(k).to_vec());
                        self.arc_length[k] = Geodesic.length(&line);
                    }
                    *by.entry(j).or_default() += self.arc_length[k];
                }
            }
            self.cache.insert(i, by.into_iter().collect());
        }
        self.cache.get(&i).map_or(&[], Vec::as_slice)
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
    borders: Borders,
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
        if win.crosses == 1 {
            flags.push("crosses_departement");
        }
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
        let strategy = options.strategy;
        let mut st = State::new(a);
        let mut rows: Vec<ProposalRow> = Vec::new();

        // 1. chevauchements, by code: each to one claimant, never cutting another
        for (i, claims) in a.coverage.claimants.iter().enumerate() {
            if claims.len() < 2 {
                continue;
            }
            let i = i as u32;
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
            let (pool, cuts) = if safe.is_empty() {
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
            let why = if pool.len() == 1 && claims.len() > 1 && !cuts {
                "the only claimant whose choice cuts no other in two".to_owned()
            } else {
                reason(strategy, &win, ranked.get(1), &|k| st.cpts_name(k))
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
            });
        }

        // 2. zones blanches
        let mut new_cpts: Vec<NewCpts> = Vec::new();
        let mut unresolved: Vec<Unresolved> = Vec::new();
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
                for (k, part) in partition(a, &z.members, options.new_cpts_min)
                    .into_iter()
                    .enumerate()
                {
                    let t = new_cpts.len() as u32;
                    let population = part.iter().map(|&i| st.pop(i)).sum();
                    let head = part
                        .iter()
                        .copied()
                        .max_by(|&x, &y| st.pop(x).cmp(&st.pop(y)).then(y.cmp(&x)))
                        .unwrap_or(part[0]);
                    for &i in &part {
                        st.owner[i as usize] = Some(Target::New(t));
                        rows.push(ProposalRow {
                            commune: i,
                            before: Verdict::White,
                            claimants: Vec::new(),
                            proposed: Target::New(t),
                            runner_up: None,
                            reason: format!(
                                "zone blanche {} of {} inhabitants (≥ {}): new CPTS {} of {}",
                                z.id,
                                zpop,
                                options.new_cpts_min,
                                k + 1,
                                population
                            ),
                            flags: vec!["new_cpts"],
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
                let reason = format!(
                    "zone blanche {} touches no CPTS (an island, or bordered only by the sea, a border or the edge of the layer) and has {} inhabitants, under the {} a new CPTS needs",
                    z.id, zpop, options.new_cpts_min
                );
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
                    });
                }
                unresolved.push(Unresolved {
                    zone: z.id,
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
                    "the only neighbouring CPTS (whole zone)".to_owned()
                } else {
                    format!(
                        "whole zone: {}",
                        reason(strategy, &win, ranked.get(1), &|k| st.cpts_name(k))
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
                        "the only CPTS it touches".to_owned()
                    } else {
                        reason(strategy, &win, ranked.get(1), &|k| st.cpts_name(k))
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
                    });
                    left.retain(|&x| x != i);
                }
            }
        }
        rows.sort_by_key(|r| r.commune);
        Ok(Proposal {
            options: options.clone(),
            rows,
            members: st
                .members
                .into_iter()
                .map(|m| m.into_iter().collect())
                .collect(),
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

/// Cuts a large zone blanche into contiguous territories of viable population:
/// as many as it takes for none to exceed [`NEW_CPTS_MAX`], grown breadth-first
/// from seeds spread apart (farthest first, from the most populous commune), the
/// smallest territory growing first; a territory left under `min` joins its
/// smallest neighbour. Deterministic: ties go to the smallest code.
fn partition(a: &Analysis, zone: &[u32], min: u64) -> Vec<Vec<u32>> {
    let pop = |i: u32| a.communes.population[i as usize];
    let total: u64 = zone.iter().map(|&i| pop(i)).sum();
    let parts = total.div_ceil(NEW_CPTS_MAX).max(1) as usize;
    if parts == 1 {
        return vec![zone.to_vec()];
    }
    let inside: BTreeSet<u32> = zone.iter().copied().collect();
    let distances = |from: u32| -> BTreeMap<u32, usize> {
        let mut d = BTreeMap::new();
        d.insert(from, 0);
        let mut queue = std::collections::VecDeque::from([from]);
        while let Some(x) = queue.pop_front() {
            let dx = d[&x];
            for &y in a.adjacency.neighbours(x) {
                if inside.contains(&y) && !d.contains_key(&y) {
                    d.insert(y, dx + 1);
                    queue.push_back(y);
                }
            }
        }
        d
    };
    let first = zone
        .iter()
        .copied()
        .max_by(|&x, &y| pop(x).cmp(&pop(y)).then(y.cmp(&x)))
        .unwrap_or(zone[0]);
    let mut seeds = vec![first];
    let mut nearest = distances(first);
    while seeds.len() < parts {
        let far = zone
            .iter()
            .copied()
            .filter(|x| !seeds.contains(x))
            .max_by(|&x, &y| {
                nearest
                    .get(&x)
                    .copied()
                    .unwrap_or(0)
                    .cmp(&nearest.get(&y).copied().unwrap_or(0))
                    .then(y.cmp(&x))
            });
        let Some(far) = far else { break };
        seeds.push(far);
        for (x, d) in distances(far) {
            let e = nearest.entry(x).or_insert(d);
            *e = (*e).min(d);
        }
    }
    let mut owner: BTreeMap<u32, usize> = BTreeMap::new();
    let mut regions: Vec<Vec<u32>> = seeds.iter().map(|&s| vec![s]).collect();
    let mut size: Vec<u64> = seeds.iter().map(|&s| pop(s)).collect();
    for (r, &s) in seeds.iter().enumerate() {
        owner.insert(s, r);
    }
    loop {
        // the smallest region that can still grow takes its smallest free neighbour
        let mut order: Vec<usize> = (0..regions.len()).collect();
        order.sort_by_key(|&r| (size[r], r));
        let mut grew = false;
        for r in order {
            let next = regions[r]
                .iter()
                .flat_map(|&x| a.adjacency.neighbours(x).iter().copied())
                .filter(|y| inside.contains(y) && !owner.contains_key(y))
                .min();
            if let Some(y) = next {
                owner.insert(y, r);
                regions[r].push(y);
                size[r] += pop(y);
                grew = true;
                break;
            }
        }
        if !grew {
            break;
        }
    }
    // communes no seed reached (the zone is connected: none), then small regions
    // join their smallest neighbour
    while let Some(r) = (0..regions.len()).find(|&r| size[r] < min && regions.len() > 1) {
        let next = regions[r]
            .iter()
            .flat_map(|&x| a.adjacency.neighbours(x).iter().copied())
            .filter_map(|y| owner.get(&y).copied())
            .filter(|&o| o != r)
            .min_by_key(|&o| (size[o], o));
        let Some(o) = next else { break };
        let moved = std::mem::take(&mut regions[r]);
        for &x in &moved {
            owner.insert(x, o);
        }
        regions[o].extend(moved);
        size[o] += size[r];
        regions.remove(r);
        size.remove(r);
        for v in owner.values_mut() {
            if *v > r {
                *v -= 1;
            }
        }
    }
    for r in &mut regions {
        r.sort_unstable();
    }
    regions.sort();
    regions
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
    /// White communes given to a CPTS, existing or new.
    pub whites_assigned: u64,
    /// New CPTS proposed.
    pub new_cpts: u64,
    /// CPTS whose ACI class changes.
    pub size_class_changes: u64,
    /// Decisions crossing a département border.
    pub departement_crossings: u64,
    /// Decisions giving a commune to a CPTS holding none of its EPCI.
    pub epci_splitting_moves: u64,
    /// Chevauchements that had to cut a claimant in two.
    pub cuts_claimant: u64,
    /// What stays unresolved, and why.
    pub unresolved: Vec<Unresolved>,
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
                .filter(|r| r.before == Verdict::Overlap)
                .count() as u64,
            whites_assigned: self
                .rows
                .iter()
                .filter(|r| r.before == Verdict::White && r.proposed != Target::Unresolved)
                .count() as u64,
            new_cpts: self.new_cpts.len() as u64,
            size_class_changes,
            departement_crossings: flagged("crosses_departement"),
            epci_splitting_moves: flagged("splits_epci"),
            cuts_claimant: flagged("cuts_claimant"),
            unresolved: self.unresolved.clone(),
        }
    }

    /// Stages `proposals.csv`, `moves.csv`, `declarations.csv`, `cpts_effect.csv`,
    /// `new_cpts.csv`, `new_cpts.geojson` and `summary.json`; `after` is the
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
        let mut rows = vec![[
            "code",
            "name",
            "population",
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
            rows.push(vec![
                c.code.clone(),
                c.name.clone(),
                a.communes.population[r.commune as usize].to_string(),
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
        let mut rows = vec![header()];
        rows.extend(self.moves(a).into_iter().map(|r| r.to_vec()));
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
        let table = crate::epci::epci();
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
        ]
        .map(str::to_owned)
        .to_vec()];
        for (c, t) in after
            .declarations
            .cpts
            .iter()
            .zip(&after.coverage.territories)
        {
            let b = before_by
                .get(c.id.as_str())
                .map(|&k| &a.coverage.territories[k]);
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
