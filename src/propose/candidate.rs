//! A candidate CPTS against the existing ones: what its declared territory does
//! to the region before a *commission* validates it — which communes another CPTS
//! already holds, which zones blanches it fills, what ACI class it lands in, and
//! the region's figures before and after.
//!
//! Both analyses share the layer: the "after" one is
//! [`Analysis::with_declarations`] of the existing declarations plus the
//! candidate's. Communes are matched by INSEE code between them.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::analysis::Analysis;
use crate::coverage::Verdict;
use crate::error::{Error, Result};
use crate::lang::Lang;
use crate::load::{Source, TableOptions};

/// A commune of the candidate that other CPTS claim too.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shared {
    /// INSEE code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Population.
    pub population: u64,
    /// The other CPTS claiming it (ids, sorted); candidates are marked `(candidate)`.
    pub with: Vec<String>,
}

/// An overlap piece of a drawn candidate with other CPTS.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Piece {
    /// Every CPTS covering it.
    pub cpts_ids: Vec<String>,
    /// Its area, km².
    pub area_km2: f64,
    /// Its population, estimated by areal interpolation.
    pub population: u64,
    /// The communes it touches.
    pub codes: Vec<String>,
}

/// One candidate CPTS.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CandidateCpts {
    /// Its id.
    pub cpts_id: String,
    /// Its name.
    pub cpts_name: String,
    /// Its status.
    pub status: String,
    /// Drawn (a polygon) rather than a commune list.
    pub drawn: bool,
    /// Its communes (for a drawn one, the communes it touches).
    pub communes: Vec<String>,
    /// Its population (a drawn one: estimated by areal interpolation).
    pub population: u64,
    /// Its area, km².
    pub area_km2: f64,
    /// Its ACI size class.
    pub size_class: u8,
    /// Its parts: more than one is not contiguous.
    pub parts: usize,
    /// The départements it touches.
    pub departements: Vec<String>,
    /// Communes it declares that other CPTS claim.
    pub overlaps: Vec<Shared>,
    /// With a drawn candidate: its overlap pieces with other CPTS.
    pub overlap_pieces: Vec<Piece>,
    /// White communes (before) it covers.
    pub fills: Vec<String>,
    /// Their population.
    pub fills_population: u64,
    /// Zones blanches (numbered as before) it covers entirely.
    pub zones_closed: Vec<u32>,
    /// Zones blanches it covers in part.
    pub zones_partly: Vec<u32>,
}

/// The region's figures under the rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    /// White communes.
    pub communes_white: u64,
    /// Their population.
    pub population_white: u64,
    /// Zones blanches.
    pub white_zones: u64,
    /// Overlapped communes.
    pub communes_overlap: u64,
    /// Their population.
    pub population_overlap: u64,
    /// Pairs of CPTS overlapping.
    pub overlap_pairs: u64,
}

impl Figures {
    fn of(a: &Analysis) -> Figures {
        let s = &a.summary;
        Figures {
            communes_white: s.communes_white,
            population_white: s.population_white,
            white_zones: s.white_zone_clusters,
            communes_overlap: s.communes_overlap,
            population_overlap: s.population_overlap,
            overlap_pairs: s.overlap_pairs,
        }
    }
}

/// The content of `candidate.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CandidateReport {
    /// One per candidate CPTS, by id.
    pub candidates: Vec<CandidateCpts>,
    /// The region before.
    pub before: Figures,
    /// The region with the candidates.
    pub after: Figures,
    /// True when a candidate creates an overlap or is not contiguous: `check`
    /// exits with status 1.
    pub problems: bool,
    /// Why `problems` is true, one sentence each (French unless
    /// [`CandidateReport::in_lang`] chose English).
    pub why: Vec<String>,
    /// The same sentences in French and in English.
    #[serde(skip)]
    pub why_by_lang: (Vec<String>, Vec<String>),
}

impl CandidateReport {
    /// Compares the region `before` with the region `after` adding the CPTS whose
    /// ids are `candidates`.
    pub fn compute(
        before: &Analysis,
        after: &Analysis,
        candidates: &BTreeSet<String>,
    ) -> CandidateReport {
        let b_index: BTreeMap<&str, u32> = (0..before.communes.len() as u32)
            .map(|i| (before.communes.get(i).code.as_str(), i))
            .collect();
        let decl = &after.declarations;
        let mut out = Vec::new();
        let mut why = Vec::new();
        let mut why_en = Vec::new();
        for (k, c) in decl.cpts.iter().enumerate() {
            if !candidates.contains(&c.id) {
                continue;
            }
            let t = &after.coverage.territories[k];
            let code = |i: u32| after.communes.get(i).code.clone();
            let mut overlaps = Vec::new();
            for &i in &t.members {
                let others: Vec<String> = after.coverage.claimants[i as usize]
                    .iter()
                    .filter(|&&o| o as usize != k)
                    .map(|&o| {
                        let id = &decl.cpts[o as usize].id;
                        if candidates.contains(id) {
                            format!("{id} (candidate)")
                        } else {
                            id.clone()
                        }
                    })
                    .collect();
                // a drawn candidate touching a commune is not an overlap by itself:
                // its overlap pieces say where it is
                if !others.is_empty()
                    && (c.drawn.is_none()
                        || after.coverage.verdicts[i as usize] == Verdict::Overlap)
                {
                    overlaps.push(Shared {
                        code: code(i),
                        name: after.communes.get(i).name.clone(),
                        population: after.communes.population[i as usize],
                        with: others,
                    });
                }
            }
            let overlap_pieces: Vec<Piece> = after
                .coverage
                .overlay
                .as_ref()
                .map(|o| {
                    o.overlaps
                        .iter()
                        .filter(|p| p.owners.contains(&(k as u32)))
                        .map(|p| Piece {
                            cpts_ids: p
                                .owners
                                .iter()
                                .map(|&o| decl.cpts[o as usize].id.clone())
                                .collect(),
                            area_km2: (p.area_km2 * 1e6).round() / 1e6,
                            population: p.population.round() as u64,
                            codes: p.communes.iter().map(|&i| code(i)).collect(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            // white before, claimed by the candidate now
            let mut fills = Vec::new();
            let mut fills_population = 0;
            let mut covered_before: BTreeSet<u32> = BTreeSet::new();
            for &i in &t.members {
                if let Some(&bi) = b_index.get(code(i).as_str()) {
                    if before.coverage.verdicts[bi as usize] == Verdict::White {
                        fills.push(code(i));
                        fills_population += before.communes.population[bi as usize];
                        covered_before.insert(bi);
                    }
                }
            }
            let (mut closed, mut partly) = (Vec::new(), Vec::new());
            for z in &before.coverage.white_zones {
                let n = z
                    .members
                    .iter()
                    .filter(|i| covered_before.contains(i))
                    .count();
                if n == z.members.len() && n > 0 {
                    closed.push(z.id);
                } else if n > 0 {
                    partly.push(z.id);
                }
            }
            if !overlaps.is_empty() || !overlap_pieces.is_empty() {
                why.push(format!(
                    "{} chevauche d'autres CPTS sur {}{}",
                    c.id,
                    Lang::Fr.count(overlaps.len() as u64, "commune", "communes"),
                    if overlap_pieces.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " ({})",
                            Lang::Fr.count(
                                overlap_pieces.len() as u64,
                                "morceau de chevauchement",
                                "morceaux de chevauchement"
                            )
                        )
                    }
                ));
                why_en.push(format!(
                    "{} overlaps other CPTS on {} commune(s){}",
                    c.id,
                    overlaps.len(),
                    if overlap_pieces.is_empty() {
                        String::new()
                    } else {
                        format!(" ({} overlap piece(s))", overlap_pieces.len())
                    }
                ));
            }
            if t.parts.len() > 1 {
                why.push(format!(
                    "{} n'est pas d'un seul tenant : {} parties",
                    c.id,
                    t.parts.len()
                ));
                why_en.push(format!(
                    "{} is not contiguous: {} parts",
                    c.id,
                    t.parts.len()
                ));
            }
            out.push(CandidateCpts {
                cpts_id: c.id.clone(),
                cpts_name: c.name.clone(),
                status: c.status.map_or(String::new(), |s| s.as_str().to_owned()),
                drawn: c.drawn.is_some(),
                communes: t.members.iter().map(|&i| code(i)).collect(),
                population: t.population,
                area_km2: (t.area_km2 * 1e6).round() / 1e6 + 0.0,
                size_class: t.size_class,
                parts: t.parts.len(),
                departements: t.departements.clone(),
                overlaps,
                overlap_pieces,
                fills,
                fills_population,
                zones_closed: closed,
                zones_partly: partly,
            });
        }
        CandidateReport {
            problems: !why.is_empty(),
            why: why.clone(),
            why_by_lang: (why, why_en),
            candidates: out,
            before: Figures::of(before),
            after: Figures::of(after),
        }
    }

    /// The report with its reasons in `lang`.
    pub fn in_lang(mut self, lang: Lang) -> Self {
        self.why = lang.pick(&self.why_by_lang.0, &self.why_by_lang.1).clone();
        self
    }

    /// The terminal summary, in French.
    pub fn text(&self) -> String {
        self.text_in(Lang::Fr)
    }

    /// The terminal summary in `lang`.
    pub fn text_in(&self, lang: Lang) -> String {
        use std::fmt::Write as _;
        let fr = lang == Lang::Fr;
        let mut s = String::new();
        for c in &self.candidates {
            let _ = writeln!(
                s,
                "{}",
                if fr {
                    format!(
                        "candidate {} ({}) : {}, {} habitants, {} km², classe ACI {}, {}, départements {}",
                        c.cpts_id,
                        c.cpts_name,
                        lang.count(c.communes.len() as u64, "commune", "communes"),
                        lang.int(c.population),
                        lang.decimal(c.area_km2, 1),
                        c.size_class,
                        lang.count(c.parts as u64, "partie", "parties"),
                        c.departements.join(", ")
                    )
                } else {
                    format!(
                        "candidate {} ({}): {} communes, {} inhabitants, {:.1} km², ACI class {}, {} part(s), départements {}",
                        c.cpts_id,
                        c.cpts_name,
                        c.communes.len(),
                        c.population,
                        c.area_km2,
                        c.size_class,
                        c.parts,
                        c.departements.join(", ")
                    )
                }
            );
            if c.overlaps.is_empty() && c.overlap_pieces.is_empty() {
                let _ = writeln!(
                    s,
                    "  {}",
                    lang.pick("chevauchements : aucun", "overlaps: none")
                );
            }
            for o in &c.overlaps {
                let _ = writeln!(
                    s,
                    "{}",
                    if fr {
                        format!(
                            "  chevauche {} {} ({} habitants), tenue par {}",
                            o.code,
                            o.name,
                            lang.int(o.population),
                            o.with.join(", ")
                        )
                    } else {
                        format!(
                            "  overlaps {} {} ({} inhabitants), held by {}",
                            o.code,
                            o.name,
                            o.population,
                            o.with.join(", ")
                        )
                    }
                );
            }
            for p in &c.overlap_pieces {
                let _ = writeln!(
                    s,
                    "{}",
                    if fr {
                        format!(
                            "  morceau de chevauchement avec {} : {} km², environ {} habitants",
                            p.cpts_ids.join(", "),
                            lang.decimal(p.area_km2, 3),
                            lang.int(p.population)
                        )
                    } else {
                        format!(
                            "  overlap piece with {}: {:.3} km², about {} inhabitants",
                            p.cpts_ids.join(", "),
                            p.area_km2,
                            p.population
                        )
                    }
                );
            }
            let _ = writeln!(
                s,
                "{}",
                if fr {
                    format!(
                        "  couvre {} blanches, {} habitants ; zones blanches fermées {:?}, en partie {:?}",
                        lang.count(c.fills.len() as u64, "commune", "communes"),
                        lang.int(c.fills_population),
                        c.zones_closed,
                        c.zones_partly
                    )
                } else {
                    format!(
                        "  fills {} white commune(s), {} inhabitants; zones blanches closed {:?}, partly {:?}",
                        c.fills.len(),
                        c.fills_population,
                        c.zones_closed,
                        c.zones_partly
                    )
                }
            );
        }
        let (b, a) = (&self.before, &self.after);
        let _ = writeln!(
            s,
            "\n  {:<28}{:>10}{:>10}",
            "",
            lang.pick("avant", "before"),
            lang.pick("après", "after")
        );
        for (label, x, y) in [
            (
                lang.pick("communes blanches", "white communes"),
                b.communes_white,
                a.communes_white,
            ),
            (
                lang.pick("population blanche", "white population"),
                b.population_white,
                a.population_white,
            ),
            ("zones blanches", b.white_zones, a.white_zones),
            (
                lang.pick("communes en chevauchement", "overlapping communes"),
                b.communes_overlap,
                a.communes_overlap,
            ),
            (
                lang.pick("population en chevauchement", "overlapping population"),
                b.population_overlap,
                a.population_overlap,
            ),
        ] {
            let _ = writeln!(s, "  {label:<28}{x:>10}{y:>10}");
        }
        let why = lang.pick(&self.why_by_lang.0, &self.why_by_lang.1);
        let verdict = match (self.problems, fr) {
            (true, true) => format!("à refuser tel que déclaré : {}", why.join(" ; ")),
            (true, false) => format!("refuse as declared: {}", why.join("; ")),
            (false, true) => "aucun chevauchement, d'un seul tenant".to_owned(),
            (false, false) => "no overlap, contiguous".to_owned(),
        };
        let _ = writeln!(s, "\n  {} {verdict}", lang.pick("verdict :", "verdict:"));
        s
    }
}

/// The region with candidate CPTS added: the declarations of `sources` merged
/// with `before`'s and analysed on the same layer, with the candidates' ids
/// (what [`CandidateReport::compute`] takes).
///
/// ```
/// use maillage::propose::candidate::{with_candidates, CandidateReport};
/// use maillage::{Analysis, Inputs, Source};
///
/// let before = Analysis::run(&Inputs::demo())?;
/// let new = Source::from_bytes(
///     "new.csv",
///     b"cpts_id,cpts_name,commune_code\nNEW,Nouvelle,06088\n".to_vec(),
/// )?;
/// let (after, ids) = with_candidates(&before, &[new], &Default::default(), 0.01)?;
/// let report = CandidateReport::compute(&before, &after, &ids);
/// assert_eq!(report.candidates[0].communes, ["06088"]); // Nice, white before
/// assert!(report.after.communes_white < report.before.communes_white);
/// # Ok::<(), maillage::Error>(())
/// ```
///
/// # Errors
/// Those of reading the sources; [`Error::Input`] when they declare no CPTS or
/// reuse an existing CPTS's id.
pub fn with_candidates(
    before: &Analysis,
    sources: &[Source],
    tables: &TableOptions,
    min_area_km2: f64,
) -> Result<(Analysis, BTreeSet<String>)> {
    let extra = crate::load::load_cpts_with(sources, tables)?;
    let files = || {
        sources
            .iter()
            .map(|s| s.name.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if extra.cpts.is_empty() {
        return Err(Error::Input(format!("{}: no CPTS declared there", files())));
    }
    let taken: Vec<&str> = extra
        .cpts
        .iter()
        .filter(|c| before.declarations.cpts.iter().any(|e| e.id == c.id))
        .map(|c| c.id.as_str())
        .collect();
    if !taken.is_empty() {
        return Err(Error::Input(format!(
            "{}: candidate id(s) already used by an existing CPTS: {}; give the candidate an id of its own",
            files(),
            taken.join(", ")
        )));
    }
    let mut decl = before.declarations.clone();
    // the files the existing declarations came from, then the candidates'
    let mut names: Vec<String> = decl
        .source
        .display()
        .to_string()
        .split(" + ")
        .map(str::to_owned)
        .collect();
    let offset = names.len();
    names.extend(sources.iter().map(|s| s.name.display().to_string()));
    let ids = extra.cpts.iter().map(|c| c.id.clone()).collect();
    for mut c in extra.cpts {
        c.file += offset;
        decl.cpts.push(c);
    }
    decl.cpts.sort_by(|a, b| a.id.cmp(&b.id));
    decl.diagnostics.extend(extra.diagnostics);
    decl.source = names.join(" + ").into();
    let after = before.with_declarations(decl, &names, min_area_km2)?;
    Ok((after, ids))
}
