//! Stage 1b, **vintage**: puts the commune layer and the declarations on one
//! vintage of the Code officiel géographique before anything is counted.
//!
//! Communes merge every 1 January into *communes nouvelles*; a layer from 2018 and
//! declarations written in 2026 disagree on codes. The layer's geometry is the finest
//! grain available, so everything is reconciled **onto the layer's vintage**, using the
//! bundled [COG 2026](crate::cog):
//!
//! - a declared code of a former commune absent from the layer (declarations older
//!   than the layer) is read as the current commune that absorbed it;
//! - a declaration file written in COG 2026 codes, over a layer older than that, has
//!   each current code stand for its own polygon *and* the polygons of the former
//!   communes it absorbed. A file is taken as older (not expanded) when it declares
//!   any former commune the layer has: a file naming former communes was written on
//!   the old map;
//! - Paris, Lyon and Marseille: a declared arrondissement municipal is used as such.
//!   When the layer has arrondissement polygons, a declared whole city stands for all
//!   of them (and a whole-city polygon overlapping them is dropped). When it has only
//!   the whole city and declarations name arrondissements, the city is replaced by
//!   its arrondissements: with their polygons when a layer shipped beside the commune
//!   layer has them ([`CommuneLayer::spare_arrondissements`], Admin Express's
//!   `ARRONDISSEMENT_MUNICIPAL`), otherwise **without geometry**: verdicts and
//!   populations are exact, areas are 0 and the units are absent from maps, which is
//!   reported.
//!
//! Every mapping is reported as a [`Diagnostic`] with its lines.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use geo::MultiPolygon;

use crate::cog::{cog, Kind, VINTAGE};
use crate::diagnostics::{items_en, sample, sample_en, Diagnostic, DiagnosticKind};
use crate::load::{Claim, Commune, CommuneLayer, Declarations};

/// Reconciles `layer` and `decl` in place; `files` names the declaration sources
/// (indexed by [`Cpts::file`](crate::load::Cpts::file)). Returns what was done.
///
/// Commune names missing from the layer are filled from the COG.
pub fn reconcile(
    layer: &mut CommuneLayer,
    decl: &mut Declarations,
    files: &[String],
) -> Vec<Diagnostic> {
    let cog = cog();
    let mut diagnostics = Vec::new();
    let layer_name = layer.source.display().to_string();

    // -- the layer: names, former communes, unknown codes, arrondissement polygons
    for c in layer.communes.iter_mut().filter(|c| c.name.is_empty()) {
        if let Some(e) = cog.current(&c.code).or_else(|| cog.former(&c.code)) {
            c.name = e.name.clone();
        }
    }
    let with_arrondissements: BTreeSet<String> = layer
        .communes
        .iter()
        .filter_map(|c| cog.current(&c.code))
        .filter(|e| e.kind == Kind::Arrondissement)
        .filter_map(|e| e.parent.clone())
        .collect();
    let before = layer.communes.len();
    let dropped: Vec<String> = layer
        .communes
        .iter()
        .filter(|c| with_arrondissements.contains(&c.code))
        .map(|c| c.code.clone())
        .collect();
    layer
        .communes
        .retain(|c| !with_arrondissements.contains(&c.code));
    if layer.communes.len() < before {
        diagnostics.push(
            Diagnostic::new(
                DiagnosticKind::Arrondissements,
                format!(
                    "{layer_name} : la couche a à la fois la commune entière et les polygones de ses arrondissements municipaux pour {} ; le polygone de la commune entière est écarté (il les recouvre)",
                    dropped.join(", ")
                ),
                format!(
                    "{layer_name}: the layer has both the whole commune and polygons of its arrondissements municipaux for {}; the whole-commune polygon is dropped (it overlaps them)",
                    dropped.join(", ")
                ),
            )
            .codes(dropped),
        );
    }
    let in_layer: HashSet<String> = layer.communes.iter().map(|c| c.code.clone()).collect();
    // former communes of the layer, grouped by the current commune that absorbed them
    let mut parts_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut gone = Vec::new();
    for c in &layer.communes {
        if let Some(s) = cog.successor(&c.code) {
            parts_of
                .entry(s.to_owned())
                .or_default()
                .push(c.code.clone());
        } else if !cog.knows(&c.code) {
            gone.push(c.code.clone());
        }
    }
    let former_in_layer: usize = parts_of.values().map(Vec::len).sum();
    let (layer_vintage, layer_vintage_en) = if former_in_layer == 0 && gone.is_empty() {
        (VINTAGE.to_owned(), VINTAGE.to_owned())
    } else {
        (
            format!(
                "antérieure au {VINTAGE} ({former_in_layer} anciennes communes fusionnées depuis, {} codes inconnus du {VINTAGE})",
                gone.len()
            ),
            format!(
                "older than {VINTAGE} ({former_in_layer} former communes merged since, {} codes unknown to {VINTAGE})",
                gone.len()
            ),
        )
    };
    if !gone.is_empty() {
        diagnostics.push(
            Diagnostic::new(
                DiagnosticKind::ObsoleteLayerCode,
                format!(
                    "{layer_name} : communes dont le code n'est dans aucune entrée du {VINTAGE} ({} ; fusionnées sans commune déléguée, ou inconnues) ; une déclaration en codes actuels ne peut les atteindre, seul leur propre code le peut : {}",
                    gone.len(),
                    sample(&gone, 8)
                ),
                format!(
                    "{layer_name}: {} commune(s) have a code in no {VINTAGE} entry (merged without a delegated commune, or unknown); a declaration in current codes cannot reach them, only their own code can: {}",
                    gone.len(),
                    sample_en(&gone, 8)
                ),
            )
            .codes(gone),
        );
    }

    // -- each declaration file's vintage: older when it names a former commune the layer has
    let mut file_is_old = vec![false; files.len().max(1)];
    for c in decl.cpts.iter().filter(|c| c.drawn.is_none()) {
        if c.claims
            .iter()
            .any(|cl| in_layer.contains(&cl.code) && cog.successor(&cl.code).is_some())
        {
            if let Some(old) = file_is_old.get_mut(c.file) {
                *old = true;
            }
        }
    }

    // -- claims
    let mut merged: Vec<(String, String, u64)> = Vec::new(); // (declared, read as, line)
    let mut expanded: Vec<(String, u64)> = Vec::new();
    let mut split: BTreeSet<String> = BTreeSet::new();
    let mut whole_city: Vec<(String, u64)> = Vec::new();
    let mut files_used = BTreeSet::new();
    for cpts in decl.cpts.iter_mut().filter(|c| c.drawn.is_none()) {
        files_used.insert(cpts.file);
        let expand =
            layer_vintage != VINTAGE && !file_is_old.get(cpts.file).copied().unwrap_or(true);
        let mut out: Vec<Claim> = Vec::with_capacity(cpts.claims.len());
        for claim in std::mem::take(&mut cpts.claims) {
            let code = claim.code.as_str();
            let line = claim.line;
            let push = |out: &mut Vec<Claim>, code: &str| {
                out.push(Claim {
                    code: code.to_owned(),
                    line,
                })
            };
            if with_arrondissements.contains(code) {
                whole_city.push((code.to_owned(), line));
                for a in cog
                    .arrondissements(code)
                    .filter(|a| in_layer.contains(&a.code))
                {
                    push(&mut out, &a.code);
                }
            } else if in_layer.contains(code) {
                push(&mut out, code);
                if expand {
                    if let Some(parts) = parts_of.get(code) {
                        expanded.push((code.to_owned(), line));
                        parts.iter().for_each(|p| push(&mut out, p));
                    }
                }
            } else if let Some(s) = cog.successor(code) {
                if in_layer.contains(s) {
                    merged.push((code.to_owned(), s.to_owned(), line));
                    push(&mut out, s);
                } else if let Some(parts) = parts_of.get(s) {
                    merged.push((code.to_owned(), s.to_owned(), line));
                    parts.iter().for_each(|p| push(&mut out, p));
                } else {
                    out.push(claim);
                }
            } else if let Some(parts) = parts_of.get(code).filter(|_| expand) {
                // a current commune whose own code is not in the layer: its parts are
                expanded.push((code.to_owned(), line));
                parts.iter().for_each(|p| push(&mut out, p));
            } else {
                if let Some(e) = cog.current(code) {
                    if e.kind == Kind::Arrondissement {
                        if let Some(p) = e.parent.as_deref().filter(|p| in_layer.contains(*p)) {
                            split.insert(p.to_owned());
                        }
                    }
                }
                out.push(claim);
            }
        }
        cpts.claims = dedup(out);
    }

    // -- cities declared by arrondissement over a layer that has only the whole city
    if !split.is_empty() {
        let mut units = Vec::new();
        for parent in &split {
            let Some(pos) = layer.communes.iter().position(|c| &c.code == parent) else {
                continue;
            };
            let arr: Vec<&crate::cog::Entry> = cog.arrondissements(parent).collect();
            // polygons from a layer shipped beside this one (Admin Express)
            let spare: Vec<&Commune> = arr
                .iter()
                .filter_map(|a| {
                    layer
                        .spare_arrondissements
                        .iter()
                        .find(|c| c.code == a.code)
                })
                .collect();
            if spare.len() == arr.len() {
                let spare: Vec<Commune> = spare.into_iter().cloned().collect();
                let city = layer.communes.remove(pos);
                diagnostics.push(
                    Diagnostic::new(
                        DiagnosticKind::Arrondissements,
                        format!(
                            "{} ({parent}) : les déclarations nomment ses arrondissements municipaux ; analysée comme ses {} arrondissements, avec leurs polygones de la couche ARRONDISSEMENT_MUNICIPAL à côté de {layer_name}, à la place de la commune entière",
                            city.name,
                            arr.len()
                        ),
                        format!(
                            "{} ({parent}): declarations name its arrondissements municipaux; analysed as its {} arrondissements with their polygons from the ARRONDISSEMENT_MUNICIPAL layer beside {layer_name}, in place of the whole commune",
                            city.name,
                            arr.len()
                        ),
                    )
                    .codes(arr.iter().map(|a| a.code.clone()).collect()),
                );
                units.extend(spare);
                continue;
            }
            let city = layer.communes.remove(pos);
            let km2 = crate::area::multi_polygon_km2(&city.geometry);
            diagnostics.push(
                Diagnostic::new(
                    DiagnosticKind::Arrondissements,
                    format!(
                        "{} ({parent}) : les déclarations nomment ses arrondissements municipaux mais {layer_name} n'a que la commune entière ; analysée comme ses {} arrondissements SANS GÉOMÉTRIE : leurs verdicts et populations sont exacts, leurs surfaces comptent pour 0 (les {km2:.1} km² de la commune sont laissés hors des totaux de surface), ils sont absents des cartes, et chacun compte comme voisin des autres et des voisins de la ville",
                        city.name,
                        arr.len()
                    ),
                    format!(
                        "{} ({parent}): declarations name its arrondissements municipaux but {layer_name} has only the whole commune; analysed as its {} arrondissements WITHOUT GEOMETRY: their verdicts and populations are exact, their areas count as 0 (the commune's {km2:.1} km² are left out of area totals), they are absent from maps, and each counts as adjacent to the others and to the city's neighbours",
                        city.name,
                        arr.len()
                    ),
                )
                .codes(arr.iter().map(|a| a.code.clone()).collect()),
            );
            for a in arr {
                units.push(Commune {
                    code: a.code.clone(),
                    name: a.name.clone(),
                    population: None,
                    geometry: MultiPolygon::new(Vec::new()),
                });
            }
            layer.whole_cities.push(city);
        }
        // a declared whole city then stands for all its arrondissements
        for cpts in decl.cpts.iter_mut().filter(|c| c.drawn.is_none()) {
            if cpts.claims.iter().any(|c| split.contains(&c.code)) {
                let mut out = Vec::with_capacity(cpts.claims.len() + 20);
                for claim in std::mem::take(&mut cpts.claims) {
                    if split.contains(&claim.code) {
                        whole_city.push((claim.code.clone(), claim.line));
                        for a in cog.arrondissements(&claim.code) {
                            out.push(Claim {
                                code: a.code.clone(),
                                line: claim.line,
                            });
                        }
                    } else {
                        out.push(claim);
                    }
                }
                cpts.claims = dedup(out);
            }
        }
        layer.communes.extend(units);
        layer.communes.sort_unstable_by(|a, b| a.code.cmp(&b.code));
    }

    // -- the report
    let label = |f: usize| {
        files
            .get(f)
            .cloned()
            .unwrap_or_else(|| decl.source.display().to_string())
    };
    for f in &files_used {
        let (v, v_en) = if file_is_old.get(*f).copied().unwrap_or(false) {
            (
                "le millésime de la couche (ils nomment d'anciennes communes qu'elle a)",
                "the layer's vintage (it names former communes the layer has)",
            )
        } else {
            (VINTAGE, VINTAGE)
        };
        diagnostics.push(Diagnostic::new(
            DiagnosticKind::Vintage,
            format!(
                "{} : codes lus comme {v} ; couche de communes {layer_name} : {layer_vintage} ; rapprochés des communes de la couche",
                label(*f)
            ),
            format!(
                "{}: codes read as {v_en}; commune layer {layer_name}: {layer_vintage_en}; reconciled onto the layer's communes",
                label(*f)
            ),
        ));
    }
    if !merged.is_empty() {
        let shown: Vec<String> = merged
            .iter()
            .map(|(from, to, line)| format!("{from} → {to} (ligne {line})"))
            .collect();
        diagnostics.push(
            Diagnostic::new(
                DiagnosticKind::MergedCode,
                format!(
                    "codes déclarés d'anciennes communes fusionnées depuis, lus comme la commune actuelle qui les a absorbées ({VINTAGE}, {}) : {}",
                    merged.len(),
                    sample(&shown, 6)
                ),
                format!(
                    "{} declared code(s) are former communes merged since, read as the current commune that absorbed them ({VINTAGE}): {}",
                    merged.len(),
                    items_en(&sample_en(&shown, 6))
                ),
            )
            .codes(merged.iter().map(|m| m.0.clone()).collect::<BTreeSet<_>>().into_iter().collect())
            .lines(merged.iter().map(|m| m.2).collect()),
        );
    }
    if !expanded.is_empty() {
        let shown: Vec<String> = expanded
            .iter()
            .map(|(code, line)| {
                format!(
                    "{code} = {code} + {} (ligne {line})",
                    parts_of
                        .get(code)
                        .map(|p| p.join(" + "))
                        .unwrap_or_default()
                )
            })
            .collect();
        diagnostics.push(
            Diagnostic::new(
                DiagnosticKind::ExpandedCode,
                format!(
                    "codes déclarés ({VINTAGE}) de communes nouvelles que la couche plus ancienne a encore en plusieurs communes ({}) ; chacun les revendique toutes : {}",
                    expanded.len(),
                    sample(&shown, 6)
                ),
                format!(
                    "{} declared {VINTAGE} code(s) are communes nouvelles that the older layer still has as several communes; each claims all of them: {}",
                    expanded.len(),
                    items_en(&sample_en(&shown, 6))
                ),
            )
            .codes(expanded.iter().map(|e| e.0.clone()).collect::<BTreeSet<_>>().into_iter().collect())
            .lines(expanded.iter().map(|e| e.1).collect()),
        );
    }
    if !whole_city.is_empty() {
        let shown: Vec<String> = whole_city
            .iter()
            .map(|(code, line)| format!("{code} (ligne {line})"))
            .collect();
        diagnostics.push(
            Diagnostic::new(
                DiagnosticKind::Arrondissements,
                format!(
                    "déclarations d'une ville entière lues comme tous ses arrondissements municipaux ({}) : {}",
                    whole_city.len(),
                    sample(&shown, 6)
                ),
                format!(
                    "{} declaration(s) of a whole city read as all its arrondissements municipaux: {}",
                    whole_city.len(),
                    items_en(&sample_en(&shown, 6))
                ),
            )
            .lines(whole_city.iter().map(|w| w.1).collect()),
        );
    }
    diagnostics
}

/// Sorts claims by code, keeping each code once with its first line.
fn dedup(mut claims: Vec<Claim>) -> Vec<Claim> {
    claims.sort_unstable_by(|a, b| a.code.cmp(&b.code).then(a.line.cmp(&b.line)));
    claims.dedup_by(|b, a| a.code == b.code);
    claims
}
