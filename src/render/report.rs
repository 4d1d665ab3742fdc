//! `report.html`: the planner's workspace, one file opened from disk or attached
//! to an email — the figures and the rule's verdict, an OpenLayers map (vendored
//! in the page) legible at every zoom, search, sortable and filterable tables,
//! painting communes onto CPTS with live figures, a proposal's suggestions,
//! exports, print, and `window.maillage` for scripts. It makes no request to any
//! host: styles, script and data are inside (see the README's « Maps and
//! report »).
//!
//! The data travels as two gzip-compressed payloads, base64 in the page, that
//! the browser inflates with its own `DecompressionStream`: a JSON part (names,
//! figures, claims, départements, EPCI, suggestions) with the varint geometry of
//! the map (its simplified arcs in tenths of a pixel, delta-encoded, and each
//! commune's rings as arcs, as TopoJSON does), then the same arcs at full
//! resolution in thousandths of a pixel, read once the map is shown. Neighbours
//! share their arcs, so the map has no gap at any zoom.

use crate::lang::Lang;
use std::fmt::Write as _;
use std::io::Write as _;

use base64::Engine as _;
use serde::Serialize;

use super::canvas::tenths;
use super::map::Layout;
use super::shapes::{Layers, Shape};
use super::simplify::Pt;
use super::{decimal, escape, thousands, Renderer};
use crate::coverage::Verdict;
use crate::diagnostics::Report;
use crate::error::{Error, Result};
use crate::style;

/// Options of the report.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// The title (default: the région's name, or France).
    pub title: Option<String>,
    /// The date shown.
    pub date: Option<String>,
    /// Diagnostics listed in the page (all are counted).
    pub max_diagnostics: usize,
    /// The map's scale: drawn as if this many pixels wide (the map's width, so
    /// that both are drawn from one simplification).
    pub width: u32,
    /// The view the page opens with (switchable in the page).
    pub color_by: super::ColorBy,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            title: None,
            date: None,
            max_diagnostics: 500,
            width: 1600,
            color_by: super::ColorBy::Territory,
        }
    }
}

const CSS: &str = include_str!("report.css");
const SCRIPT: &str = include_str!("report.js");
/// OpenLayers (BSD-2-Clause, `vendor/OL-LICENSE.md`), the part the page uses,
/// bundled by `vendor/package.json`: canvas rendering with per-resolution
/// simplification and decluttered labels, no request to any host.
const OPENLAYERS: &str = include_str!("vendor/ol.min.js");

/// Layers with this many communes or fewer get a finer simplification (the
/// report is zoomed into).
pub(super) const DETAILED: usize = 5000;

/// The report's page.
pub(super) fn html(r: &Renderer<'_>, options: &ReportOptions) -> Result<String> {
    let a = r.analysis;
    let s = &a.summary;
    let drawing = r.drawing(options.width, r.report_tolerance())?;
    let full = a.timings.time("report full arcs", || {
        let arcs = r.canvas.project_full().map_err(|e| Error::Render(e.0))?;
        let placements = &drawing.layout.placements;
        Ok::<_, Error>(
            arcs.into_iter()
                .enumerate()
                .map(|(k, a)| {
                    let p = &placements[r.canvas.arc_frame(k)];
                    a.into_iter().map(|q| p.to_page(q)).collect::<Vec<Pt>>()
                })
                .collect::<Vec<_>>(),
        )
    })?;
    let (payload, payload_full) = a.timings.time("report data", || {
        payload(
            r,
            &drawing.layout,
            &drawing.arcs,
            &full,
            &drawing.layers,
            options.color_by,
        )
    })?;
    let title = options.title.clone().unwrap_or_else(|| r.place_name());
    let mut h = String::with_capacity(payload.len() + payload_full.len() + (1 << 18));
    let _ = write!(
        h,
        r#"<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="maillage {version}">
<title>{title} — couverture des CPTS</title>
<style>{CSS}</style>
</head>
<body>
<header>
<h1>{title}</h1>
<p class="sub">Couverture du territoire par les CPTS (communautés professionnelles territoriales de santé){date}</p>
</header>
<main>
"#,
        version = env!("CARGO_PKG_VERSION"),
        title = escape(&title),
        date = options
            .date
            .as_ref()
            .map(|d| format!(" — {}", escape(&Lang::Fr.date(d))))
            .unwrap_or_default(),
    );
    verdict_section(&mut h, r);
    figures_section(&mut h, r);
    workspace_section(&mut h, r, options);
    tables_section(&mut h, r)?;
    diagnostics_section(&mut h, a, options.max_diagnostics);
    let inputs = &s.inputs;
    let _ = write!(
        h,
        r#"</main>
<footer>Sources : communes {communes} ; déclarations {cpts} ; population {population}. Rapport : maillage {version}{date}. Fichiers détaillés à côté de ce rapport : summary.json, diagnostics.json, communes.csv, cpts.csv.</footer>
<script id="payload" type="application/octet-stream">{payload}</script>
<script id="payload-full" type="application/octet-stream">{payload_full}</script>
<script>{OPENLAYERS}</script>
<script>{SCRIPT}</script>
</body>
</html>
"#,
        communes = escape(inputs.get("communes").map_or("", String::as_str)),
        cpts = escape(inputs.get("cpts").map_or("", String::as_str)),
        population = escape(inputs.get("population").map_or("", String::as_str)),
        version = env!("CARGO_PKG_VERSION"),
        date = options
            .date
            .as_ref()
            .map(|d| format!(", {}", escape(&Lang::Fr.date(d))))
            .unwrap_or_default(),
    );
    Ok(h)
}

/// The map and the workspace around it: search, views, the details panel, the
/// editing tools and their live figures, the suggestions of a proposal.
fn workspace_section(h: &mut String, r: &Renderer<'_>, options: &ReportOptions) {
    let view = |v: &str, label: &str, on: bool| {
        format!(
            r#"<option value="{v}"{}>{label}</option>"#,
            if on { " selected" } else { "" }
        )
    };
    let status = options.color_by == super::ColorBy::Status;
    let mut views = String::new();
    views.push_str(&view("territory", "Territoires de CPTS", !status));
    views.push_str(&view("status", "Statut des CPTS", status));
    views.push_str(&view(
        "verdict",
        "Couverture (zones blanches, chevauchements)",
        false,
    ));
    views.push_str(&view("population", "Population des communes", false));
    for (k, (name, _)) in r.columns.iter().enumerate() {
        views.push_str(&view(&format!("column-{k}"), &escape(name), false));
    }
    let _ = write!(
        h,
        r#"<section id="map-section">
<h2>Carte et espace de travail</h2>
<div class="toolbar" role="toolbar" aria-label="Outils de la carte">
<div class="search"><label for="search">Rechercher</label> <input id="search" type="search" placeholder="Commune, code INSEE, CPTS, zone blanche n°" autocomplete="off" role="combobox" aria-expanded="false" aria-controls="search-results"><ul id="search-results" role="listbox" hidden></ul></div>
<label>Vue <select id="view">{views}</select></label>
<label>Aller à <select id="goto"><option value="all">Tout le territoire</option></select></label>
<span class="layers"><label><input type="checkbox" data-layer="communes" checked> Limites de communes</label>
<label><input type="checkbox" data-layer="departements" checked> Départements</label>
<label><input type="checkbox" data-layer="regions" checked> Régions</label>
<label><input type="checkbox" data-layer="labels" checked> Noms</label></span>
<span class="print"><button type="button" data-print="A4">Imprimer A4</button><button type="button" data-print="A3">Imprimer A3</button></span>
</div>
<div class="map-wrap">
<div id="map" tabindex="0" role="application" aria-label="Carte des territoires de CPTS : flèches pour déplacer, + et − pour zoomer, Entrée pour choisir la commune au centre"><div id="tooltip" hidden></div></div>
<aside id="side">
<section id="details" aria-live="polite"><p class="hint">Survolez ou cliquez une commune ; cherchez une commune, une CPTS ou une zone blanche ; molette, boutons ou clavier pour zoomer.</p></section>
<section id="edit" aria-labelledby="edit-title">
<h3 id="edit-title">Modifier le découpage</h3>
<p class="hint">Choisissez une CPTS, puis peignez : chaque commune peinte n'appartient plus qu'à elle. Les modifications restent dans ce navigateur.</p>
<label class="row"><input type="checkbox" id="paint"> Peindre sur la carte (glisser peint, Maj + glisser peint un rectangle ; la carte ne se déplace plus)</label>
<label class="row">CPTS <select id="edit-cpts"></select></label>
<button type="button" id="new-cpts">Nouvelle CPTS</button>
<fieldset><legend>Pinceau</legend><label><input type="radio" name="brush" value="commune" checked> Une commune</label> <label><input type="radio" name="brush" value="epci"> L'EPCI entier</label></fieldset>
<fieldset><legend>Action</legend><label><input type="radio" name="action" value="add" checked> Donner à la CPTS</label> <label><input type="radio" name="action" value="remove"> Retirer (zone blanche)</label></fieldset>
<div class="buttons"><button type="button" id="undo" disabled>Annuler</button><button type="button" id="redo" disabled>Rétablir</button><button type="button" id="reset" disabled>Tout réinitialiser</button></div>
<div class="buttons"><button type="button" id="export-declarations">Exporter les déclarations (CSV)</button><button type="button" id="export-log">Exporter le journal (CSV)</button></div>
<div id="live" aria-live="polite"></div>
</section>
{suggestions}</aside>
</div>
<p class="legend" id="legend">{legend}</p>
</section>
"#,
        suggestions = if r.suggestions.is_empty() {
            String::new()
        } else {
            format!(
                r#"<section id="suggestions" aria-labelledby="suggestions-title"><h3 id="suggestions-title">Suggestions de la proposition ({})</h3><p class="hint">Chaque suggestion donne une commune à une seule CPTS. Acceptée, elle devient une modification comme les autres.</p><div class="buttons"><button type="button" id="accept-all">Tout accepter</button><button type="button" id="reject-all">Tout rejeter</button></div><ol id="suggestion-list"></ol></section>
"#,
                r.suggestions.len()
            )
        },
        legend = legend(r),
    );
}

fn verdict_section(h: &mut String, r: &Renderer<'_>) {
    let s = &r.analysis.summary;
    if s.rule_holds() {
        h.push_str(r#"<section id="verdict" class="verdict ok"><strong>Règle « une CPTS par territoire » : respectée.</strong> Chaque commune est couverte par exactement une CPTS.</section>"#);
        return;
    }
    let mut parts = Vec::new();
    if s.communes_white > 0 || s.white_zone_clusters > 0 {
        parts.push(format!(
            "{} en zone blanche ({} hab., {})",
            Lang::Fr.count(s.communes_white, "commune", "communes"),
            thousands(s.population_white),
            Lang::Fr.count(s.white_zone_clusters, "zone", "zones")
        ));
    }
    if s.communes_overlap > 0 || s.overlap_pairs > 0 {
        parts.push(format!(
            "{} en chevauchement ({} hab., {} de CPTS)",
            Lang::Fr.count(s.communes_overlap, "commune", "communes"),
            thousands(s.population_overlap),
            Lang::Fr.count(s.overlap_pairs, "paire", "paires")
        ));
    }
    let _ = write!(
        h,
        r#"<section id="verdict" class="verdict broken"><strong>Règle « une CPTS par territoire » : non respectée.</strong> {}.</section>"#,
        escape(&parts.join(" ; "))
    );
}

fn figures_section(h: &mut String, r: &Renderer<'_>) {
    let s = &r.analysis.summary;
    h.push_str(r#"<section id="figures"><h2>Chiffres</h2><table class="figures"><thead><tr><th></th><th>Communes</th><th>Population</th><th>Superficie (km²)</th></tr></thead><tbody>"#);
    for (label, class, c, p, a) in [
        (
            "Couvertes par une seule CPTS",
            "covered",
            s.communes_covered,
            s.population_covered,
            s.area_km2_covered,
        ),
        (
            "Zone blanche (aucune CPTS)",
            "white",
            s.communes_white,
            s.population_white,
            s.area_km2_white,
        ),
        (
            "Chevauchement (deux CPTS ou plus)",
            "overlap",
            s.communes_overlap,
            s.population_overlap,
            s.area_km2_overlap,
        ),
        (
            "Total",
            "total",
            s.communes_total,
            s.population_total,
            s.area_km2_total,
        ),
    ] {
        let _ = write!(
            h,
            r#"<tr class="{class}"><th>{label}</th><td data-figure="communes_{class}">{}</td><td data-figure="population_{class}">{}</td><td>{}</td></tr>"#,
            thousands(c),
            thousands(p),
            decimal(a, 1)
        );
    }
    h.push_str("</tbody></table><ul class=\"facts\">");
    if let Some(rate) = s.coverage_rate_population {
        let _ = write!(
            h,
            "<li>Population couverte par au moins une CPTS : <strong>{} %</strong></li>",
            decimal(rate * 100.0, 2)
        );
    }
    let by = |m: &std::collections::BTreeMap<String, u64>, k: &str| m.get(k).copied().unwrap_or(0);
    let _ = write!(
        h,
        "<li>{} CPTS : {} ACI signé, {} projet de santé validé, {} projet, {} statut inconnu</li><li>Par classe ACI (population) : 1 : {}, 2 : {}, 3 : {}, 4 : {}</li><li>CPTS non contiguës : {}</li>",
        s.cpts_count,
        by(&s.cpts_by_status, "aci_signe"),
        by(&s.cpts_by_status, "valide"),
        by(&s.cpts_by_status, "projet"),
        by(&s.cpts_by_status, "unknown"),
        by(&s.cpts_by_size_class, "1"),
        by(&s.cpts_by_size_class, "2"),
        by(&s.cpts_by_size_class, "3"),
        by(&s.cpts_by_size_class, "4"),
        s.cpts_non_contiguous
    );
    if let Some(sl) = &s.slivers {
        let _ = write!(
            h,
            "<li>Territoires dessinés : {} CPTS ; interstices et recouvrements de moins de {} km² (bruit de tracé) : {} et {}</li>",
            s.cpts_drawn,
            decimal(sl.min_area_km2, 3),
            sl.gaps,
            sl.overlaps
        );
    }
    h.push_str("</ul></section>\n");
}

fn legend(r: &Renderer<'_>) -> String {
    let s = &r.analysis.summary;
    format!(
        r#"<span class="key territory"></span> Territoire de CPTS (voisins de couleurs différentes) <span class="key white"></span> Zone blanche : {} communes, {} hab. <span class="key overlap"></span> Chevauchement : {} communes, {} hab. <span class="key dep"></span> Limite de département"#,
        thousands(s.communes_white),
        thousands(s.population_white),
        thousands(s.communes_overlap),
        thousands(s.population_overlap)
    )
}

/// A sortable table: `columns` are (header, numeric); each row gives each cell's
/// text and sort value.
fn table(
    h: &mut String,
    id: &str,
    caption: &str,
    columns: &[(&str, bool)],
    rows: Vec<(String, Vec<(String, String)>)>,
) {
    let _ = write!(
        h,
        r#"<h3>{caption}</h3><input type="search" class="filter" data-table="{id}" placeholder="Filtrer les lignes" aria-label="Filtrer le tableau {caption}"> <span class="count" data-count="{id}"></span><div class="scroll"><table class="sortable" id="{id}"><thead><tr>"#,
        caption = escape(caption)
    );
    for (name, numeric) in columns {
        let _ = write!(
            h,
            r#"<th data-type="{}" tabindex="0">{}</th>"#,
            if *numeric { "num" } else { "text" },
            escape(name)
        );
    }
    h.push_str("</tr></thead><tbody>");
    for (attrs, cells) in rows {
        let _ = write!(h, "<tr{attrs}>");
        for (text, value) in cells {
            if value.is_empty() {
                let _ = write!(h, "<td>{}</td>", escape(&text));
            } else {
                let _ = write!(
                    h,
                    r#"<td data-v="{}">{}</td>"#,
                    escape(&value),
                    escape(&text)
                );
            }
        }
        h.push_str("</tr>");
    }
    h.push_str("</tbody></table></div>");
}

fn tables_section(h: &mut String, r: &Renderer<'_>) -> Result<()> {
    let a = r.analysis;
    h.push_str(r#"<section id="tables"><h2>Tableaux</h2><p class="hint">Cliquez un en-tête pour trier, tapez dans « Filtrer » pour ne garder que les lignes qui le contiennent ; cliquez une ligne (ou Entrée) pour la montrer sur la carte.</p>"#);
    let num = |v: u64| (thousands(v), v.to_string());
    let float = |v: f64, d: usize| (decimal(v, d), format!("{v}"));
    let text = |t: &str| (t.to_owned(), String::new());
    let rows = a
        .declarations
        .cpts
        .iter()
        .zip(&a.coverage.territories)
        .enumerate()
        .map(|(k, (c, t))| {
            (
                format!(r#" data-cpts="{k}" tabindex="0""#),
                vec![
                    text(&c.id),
                    text(&c.name),
                    text(style::status_label(c.status)),
                    num(t.members.len() as u64),
                    num(t.population),
                    num(u64::from(t.size_class)),
                    num(t.parts.len() as u64),
                    float(t.area_km2, 1),
                    text(&t.departements.join(", ")),
                ],
            )
        })
        .collect();
    table(
        h,
        "table-cpts",
        &format!("CPTS ({})", a.declarations.cpts.len()),
        &[
            ("Identifiant", false),
            ("Nom", false),
            ("Statut", false),
            ("Communes", true),
            ("Population", true),
            ("Classe ACI", true),
            ("Parties", true),
            ("Superficie (km²)", true),
            ("Départements", false),
        ],
        rows,
    );
    area_table(
        h,
        "table-departements",
        "Départements",
        "dep",
        a.tallies
            .departements
            .iter()
            .map(|(dep, t)| (dep.as_str(), crate::admin::departement_name(dep), t)),
    );
    let rows = match &a.coverage.overlay {
        None => a
            .coverage
            .white_zones
            .iter()
            .map(|z| {
                let (codes, names) = codes_and_names(&a.communes, &z.members, true);
                (
                    format!(r#" data-codes="{codes}" tabindex="0""#),
                    vec![
                        num(u64::from(z.id)),
                        num(z.members.len() as u64),
                        num(z.population),
                        float(z.area_km2, 1),
                        text(&names),
                        text(&codes),
                    ],
                )
            })
            .collect(),
        Some(overlay) => overlay
            .gaps
            .iter()
            .enumerate()
            .map(|(k, p)| {
                let (codes, names) = codes_and_names(&a.communes, &p.communes, false);
                (
                    format!(r#" data-codes="{codes}" tabindex="0""#),
                    vec![
                        num(k as u64 + 1),
                        num(p.communes.len() as u64),
                        num(p.population.round() as u64),
                        float(p.area_km2, 2),
                        text(&names),
                        text(&codes),
                    ],
                )
            })
            .collect(),
    };
    table(
        h,
        "table-zones",
        &format!("Zones blanches ({})", a.summary.white_zone_clusters),
        &[
            ("N°", true),
            ("Communes", true),
            ("Population", true),
            ("Superficie (km²)", true),
            ("Communes (noms)", false),
            ("Codes INSEE", false),
        ],
        rows,
    );
    overlaps_table(h, r);
    area_table(
        h,
        "table-regions",
        "Régions",
        "reg",
        r.analysis
            .tallies
            .regions
            .iter()
            .filter(|(reg, _)| !reg.is_empty())
            .map(|(reg, t)| (reg.as_str(), crate::admin::region_name(reg), t)),
    );
    h.push_str("</section>\n");
    Ok(())
}

/// The communes' INSEE codes, space-separated, and the names of the first six,
/// with « … » after them when there are more and `ellipsis` is asked for.
fn codes_and_names(
    communes: &crate::load::Communes,
    members: &[u32],
    ellipsis: bool,
) -> (String, String) {
    let codes: Vec<&str> = members
        .iter()
        .map(|&i| communes.get(i).code.as_str())
        .collect();
    let mut names: Vec<&str> = members
        .iter()
        .take(6)
        .map(|&i| communes.get(i).name.as_str())
        .collect();
    if ellipsis && members.len() > names.len() {
        names.push("…");
    }
    (codes.join(" "), names.join(", "))
}

/// The chevauchements, one row per pair of CPTS claiming the same communes.
fn overlaps_table(h: &mut String, r: &Renderer<'_>) {
    let a = r.analysis;
    let cpts = &a.declarations.cpts;
    let mut pairs: std::collections::BTreeMap<(u32, u32), Vec<u32>> = Default::default();
    for (i, claims) in a.coverage.claimants.iter().enumerate() {
        for (x, &p) in claims.iter().enumerate() {
            for &q in &claims[x + 1..] {
                pairs
                    .entry((p.min(q), p.max(q)))
                    .or_default()
                    .push(i as u32);
            }
        }
    }
    let rows = pairs
        .iter()
        .map(|(&(p, q), communes)| {
            let (codes, names) = codes_and_names(&a.communes, communes, true);
            let population: u64 = communes
                .iter()
                .map(|&i| a.communes.population[i as usize])
                .sum();
            let (cp, cq) = (&cpts[p as usize], &cpts[q as usize]);
            (
                format!(r#" data-codes="{codes}" tabindex="0""#),
                vec![
                    (format!("{} ({})", cp.name, cp.id), String::new()),
                    (format!("{} ({})", cq.name, cq.id), String::new()),
                    (thousands(communes.len() as u64), communes.len().to_string()),
                    (thousands(population), population.to_string()),
                    (names, String::new()),
                    (codes, String::new()),
                ],
            )
        })
        .collect();
    table(
        h,
        "table-overlaps",
        &format!(
            "Chevauchements ({})",
            Lang::Fr.count(pairs.len() as u64, "paire de CPTS", "paires de CPTS")
        ),
        &[
            ("CPTS", false),
            ("Autre CPTS", false),
            ("Communes", true),
            ("Population", true),
            ("Communes (noms)", false),
            ("Codes INSEE", false),
        ],
        rows,
    );
}

/// A table of areas (départements, régions): communes and population by verdict,
/// the share covered, the CPTS counted there; `key` names the rows' `data-`
/// attribute the page selects by.
fn area_table<'t>(
    h: &mut String,
    id: &str,
    caption: &str,
    key: &str,
    areas: impl Iterator<Item = (&'t str, Option<&'t str>, &'t crate::stats::Tally)>,
) {
    let num = |v: u64| (thousands(v), v.to_string());
    let rows = areas
        .map(|(code, name, t)| {
            let total = t.population_total();
            let rate = (total > 0)
                .then(|| (t.population[0] + t.population[2]) as f64 / total as f64 * 100.0);
            (
                format!(r#" data-{key}="{}" tabindex="0""#, escape(code)),
                vec![
                    (code.to_owned(), String::new()),
                    (name.unwrap_or("").to_owned(), String::new()),
                    num(t.communes_total()),
                    num(t.communes[Verdict::White as usize]),
                    num(t.communes[Verdict::Overlap as usize]),
                    num(total),
                    num(t.population[Verdict::White as usize]),
                    rate.map_or((String::new(), String::new()), |r| {
                        (decimal(r, 1), format!("{r}"))
                    }),
                    num(t.cpts()),
                ],
            )
        })
        .collect();
    table(
        h,
        id,
        caption,
        &[
            ("Code", false),
            ("Nom", false),
            ("Communes", true),
            ("En zone blanche", true),
            ("En chevauchement", true),
            ("Population", true),
            ("Population en zone blanche", true),
            ("Population couverte (%)", true),
            ("CPTS", true),
        ],
        rows,
    );
}

fn diagnostics_section(h: &mut String, a: &crate::Analysis, max: usize) {
    let report = Report::new(&a.summary.diagnostics);
    let _ = write!(
        h,
        r#"<section id="diagnostics"><h2>Diagnostics ({})</h2><p>{} dans les fichiers d'entrée{}</p><ul>"#,
        report.count,
        Lang::Fr.count(
            report.problems as u64,
            "normalisation ou problème",
            "normalisations ou problèmes"
        ),
        if report.by_kind.is_empty() {
            String::new()
        } else {
            format!(
                " : {}",
                report
                    .by_kind
                    .iter()
                    .map(|(k, n)| format!("{k} {n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
    for d in a.summary.diagnostics.iter().take(max) {
        let _ = write!(
            h,
            r#"<li><span class="kind">{}</span> {}</li>"#,
            escape(&d.kind.name()),
            escape(&d.message)
        );
    }
    if a.summary.diagnostics.len() > max {
        let _ = write!(
            h,
            "<li>… et {} autres dans diagnostics.json</li>",
            a.summary.diagnostics.len() - max
        );
    }
    h.push_str("</ul></section>\n");
}

/// What the page's script reads besides geometry.
#[derive(Serialize)]
struct Data<'a> {
    view: [i64; 4],
    frames: Vec<FrameBox<'a>>,
    /// Territories are lists of communes (not drawn outlines): the page can
    /// edit them.
    editable: bool,
    /// The simplification of the map's arcs, in pixels of the page (the
    /// full-resolution arcs replace them where it would show).
    tolerance: f64,
    /// Names the session kept in the browser's storage.
    key: String,
    /// The side of a typical commune in pixels of the page (√(area / faces)),
    /// from which the page decides when communes get borders and names.
    typical: f64,
    view_mode: &'static str,
    faces: Faces,
    cpts: Vec<CptsData<'a>>,
    white_zones: usize,
    overlaps: Vec<Vec<u32>>,
    colours: Colours,
    departements: std::collections::BTreeMap<String, (&'static str, &'static str)>,
    regions: std::collections::BTreeMap<&'static str, &'static str>,
    epcis: Vec<(&'a str, &'a str)>,
    suggestions: Vec<(u32, &'a str, &'a str, &'a str)>,
    columns: Vec<ColumnData<'a>>,
    /// Where the analysis's adjacency (the one contiguity is judged by) and
    /// the map's shared arcs disagree: pairs of faces adjacent without a shared
    /// arc (neighbours whose vertices differ), and pairs sharing an arc the
    /// analysis does not count (a border of zero length).
    adjacent_extra: Vec<FacePair>,
    adjacent_not: Vec<FacePair>,
}

#[derive(Serialize)]
struct ColumnData<'a> {
    name: &'a str,
    /// One value per face (a city standing for its arrondissements: the first's).
    values: Vec<Option<f64>>,
}

#[derive(Serialize)]
struct FrameBox<'a> {
    name: &'a str,
    #[serde(rename = "box")]
    bounds: [i64; 4],
}

#[derive(Serialize)]
struct Faces {
    code: Vec<String>,
    name: Vec<String>,
    population: Vec<u64>,
    claims: Vec<Vec<u32>>,
    /// Each face's département code.
    dep: Vec<String>,
    /// Each face's EPCI (position in `epcis`), -1 for none.
    epci: Vec<i32>,
    /// The communes' codes of the faces standing for several (a city's
    /// arrondissements), by face.
    members: std::collections::BTreeMap<usize, Vec<String>>,
}

#[derive(Serialize)]
struct CptsData<'a> {
    id: &'a str,
    name: &'a str,
    status: &'static str,
    communes: usize,
    population: u64,
    size_class: u8,
    parts: usize,
    area_km2: f64,
    fill: String,
    status_key: &'static str,
    status_fill: &'static str,
}

#[derive(Serialize)]
struct Colours {
    white: &'static str,
    overlap: &'static str,
    overlap_background: &'static str,
    departement: &'static str,
    territory_border: &'static str,
    base: &'static str,
    status: [(&'static str, &'static str, &'static str); 4],
}

/// Two faces (positions), the smaller first.
type FacePair = (u32, u32);

/// The pairs of faces the analysis's adjacency joins that share no arc, and the
/// pairs sharing an arc that it does not join, each sorted.
fn adjacency_differences(r: &Renderer<'_>) -> (Vec<FacePair>, Vec<FacePair>) {
    use std::collections::BTreeSet;
    // the faces whose rings use each arc, as the page reads them (an arc whose
    // other side the topology found by position, not by a ring, joins nothing:
    // overlapping polygons)
    let topo = &r.canvas.topology;
    let mut users: Vec<[u32; 2]> = vec![[u32::MAX; 2]; topo.arc_count()];
    for f in 0..r.faces.len() {
        for ring in topo.rings(f) {
            for a in ring {
                let u = &mut users[a.index()];
                if u[0] == u32::MAX {
                    u[0] = f as u32;
                } else if u[0] != f as u32 {
                    u[1] = f as u32;
                }
            }
        }
    }
    let arcs: BTreeSet<(u32, u32)> = users
        .iter()
        .filter(|u| u[1] != u32::MAX)
        .map(|u| (u[0].min(u[1]), u[0].max(u[1])))
        .collect();
    let a = r.analysis;
    let mut adjacency: BTreeSet<(u32, u32)> = BTreeSet::new();
    for i in 0..a.communes.len() as u32 {
        let Some(fi) = r.face_of[i as usize] else {
            continue;
        };
        for &j in a.adjacency.neighbours(i) {
            if let Some(fj) = r.face_of[j as usize] {
                if fi != fj {
                    adjacency.insert((fi.min(fj), fi.max(fj)));
                }
            }
        }
    }
    (
        adjacency.difference(&arcs).copied().collect(),
        arcs.difference(&adjacency).copied().collect(),
    )
}

/// Page coordinates at full resolution are written in thousandths of a pixel.
fn thousandths(v: f64) -> i64 {
    (v * 1000.0).round() as i64
}

/// Appends `v` as an unsigned LEB128 varint.
fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends `v` zigzag-encoded (small negatives stay small).
fn zigzag(out: &mut Vec<u8>, v: i64) {
    varint(out, ((v << 1) ^ (v >> 63)) as u64);
}

fn points(out: &mut Vec<u8>, pts: &[(i64, i64)]) {
    points_from(out, pts, (0, 0));
}

/// A count, then each point from the one before, the first from `last`.
fn points_from(out: &mut Vec<u8>, pts: &[(i64, i64)], mut last: (i64, i64)) {
    varint(out, pts.len() as u64);
    for &p in pts {
        zigzag(out, p.0 - last.0);
        zigzag(out, p.1 - last.1);
        last = p;
    }
}

fn shape(out: &mut Vec<u8>, s: &Shape) {
    match s {
        Shape::Loops(loops) => {
            varint(out, 0);
            varint(out, loops.len() as u64);
            for l in loops {
                varint(out, l.len() as u64);
                for a in l {
                    zigzag(out, i64::from(a.0));
                }
            }
        }
        Shape::Rings(rings) => {
            varint(out, 1);
            varint(out, rings.len() as u64);
            for r in rings {
                points(out, r);
            }
        }
    }
}

/// The gzip-compressed, base64 payload: `MLG1`, the JSON's length (u32, little
/// endian), the JSON, then the varint geometry: arcs (points delta-encoded, each
/// arc starting from the previous one's end), each face's rings (arc references
/// delta-encoded), then, for drawn territories only, the shapes of the study
/// area, territories, zones blanches and chevauchements.
/// And a second payload: `MLG2`, the arcs at full resolution.
fn payload(
    r: &Renderer<'_>,
    layout: &Layout,
    arcs: &[Vec<Pt>],
    full: &[Vec<Pt>],
    layers: &Layers,
    color_by: super::ColorBy,
) -> Result<(String, String)> {
    let a = r.analysis;
    let communes = &a.communes;
    let colours = r.territory_colours();
    // the view: every frame's content, with a margin
    let mut view = [i64::MAX, i64::MAX, i64::MIN, i64::MIN];
    let mut frames = Vec::new();
    for (k, p) in layout.placements.iter().enumerate() {
        let b = p.content(layout.extents[k]);
        let bx = [tenths(b[0]), tenths(b[1]), tenths(b[2]), tenths(b[3])];
        view = [
            view[0].min(bx[0]),
            view[1].min(bx[1]),
            view[2].max(bx[2]),
            view[3].max(bx[3]),
        ];
        if k > 0 {
            frames.push(FrameBox {
                name: &r.canvas.frames[k].name,
                bounds: bx,
            });
        }
    }
    let margin = 200;
    view = [
        view[0] - margin,
        view[1] - margin,
        view[2] + margin,
        view[3] + margin,
    ];
    let faces = Faces {
        code: r
            .faces
            .iter()
            .map(|f| {
                let codes: Vec<&str> = f
                    .communes
                    .iter()
                    .map(|&i| communes.get(i).code.as_str())
                    .collect();
                match codes.as_slice() {
                    [one] => (*one).to_owned(),
                    many => format!(
                        "{} ({} arrondissements)",
                        crate::admin::departement_of(many[0]),
                        many.len()
                    ),
                }
            })
            .collect(),
        name: r
            .faces
            .iter()
            .map(|f| match f.communes.as_slice() {
                // the official name (with its article: « Les Mées »), which
                // layers of some vintages leave out
                [one] => {
                    let c = communes.get(*one);
                    crate::cog::cog()
                        .current(&c.code)
                        .map_or_else(|| c.name.clone(), |e| e.name.clone())
                }
                many => format!(
                    "{} et {} autres arrondissements",
                    communes.get(many[0]).name,
                    many.len() - 1
                ),
            })
            .collect(),
        population: r
            .faces
            .iter()
            .map(|f| {
                f.communes
                    .iter()
                    .map(|&i| communes.population[i as usize])
                    .sum()
            })
            .collect(),
        claims: r.faces.iter().map(|f| f.claims.clone()).collect(),
        dep: r
            .faces
            .iter()
            .map(|f| communes.departement(f.communes[0]).to_owned())
            .collect(),
        epci: Vec::new(),
        members: r
            .faces
            .iter()
            .enumerate()
            .filter(|(_, f)| f.communes.len() > 1)
            .map(|(k, f)| {
                (
                    k,
                    f.communes
                        .iter()
                        .map(|&i| communes.get(i).code.clone())
                        .collect(),
                )
            })
            .collect(),
    };
    let mut faces = faces;
    // EPCI: the ones present, in table order
    let table = crate::epci::epci();
    let mut epci_pos: std::collections::BTreeMap<u32, i32> = Default::default();
    let of: Vec<Option<u32>> = r
        .faces
        .iter()
        .map(|f| table.index_of(&communes.get(f.communes[0]).code))
        .collect();
    for e in of.iter().flatten() {
        epci_pos.insert(*e, 0);
    }
    let mut epcis = Vec::with_capacity(epci_pos.len());
    for (n, (e, pos)) in epci_pos.iter_mut().enumerate() {
        *pos = n as i32;
        let x = table
            .get(*e)
            .map_or(("", ""), |x| (x.code.as_str(), x.name.as_str()));
        epcis.push(x);
    }
    faces.epci = of.iter().map(|e| e.map_or(-1, |e| epci_pos[&e])).collect();
    let mut departements = std::collections::BTreeMap::new();
    let mut regions = std::collections::BTreeMap::new();
    for d in &faces.dep {
        let reg = crate::admin::region_of_departement(d).unwrap_or("");
        departements.insert(
            d.clone(),
            (crate::admin::departement_name(d).unwrap_or(""), reg),
        );
        if let Some(name) = crate::admin::region_name(reg) {
            regions.insert(reg, name);
        }
    }
    // the storage key: what the page's edits apply to (codes and claims)
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (code, claims) in faces.code.iter().zip(&faces.claims) {
        for b in code
            .bytes()
            .chain(claims.iter().flat_map(|c| c.to_le_bytes()))
        {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    for c in &a.declarations.cpts {
        for b in c.id.bytes() {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    let face_of = &r.face_of;
    let suggestions = r
        .suggestions
        .iter()
        .filter_map(|s| {
            let f = face_of.get(s.commune as usize).copied().flatten()?;
            Some((
                f,
                s.cpts_id.as_str(),
                s.cpts_name.as_str(),
                s.reason.as_str(),
            ))
        })
        .collect();
    let columns = r
        .columns
        .iter()
        .map(|(name, values)| ColumnData {
            name,
            values: r
                .faces
                .iter()
                .map(|f| values[f.communes[0] as usize].filter(|v| v.is_finite()))
                .collect(),
        })
        .collect();
    let cpts = a
        .declarations
        .cpts
        .iter()
        .zip(&a.coverage.territories)
        .zip(&colours)
        .map(|((c, t), &k)| CptsData {
            id: &c.id,
            name: &c.name,
            status: style::status_label(c.status),
            communes: t.members.len(),
            population: t.population,
            size_class: t.size_class,
            parts: t.parts.len(),
            area_km2: (t.area_km2 * 10.0).round() / 10.0,
            fill: style::colour_of(k),
            status_key: match c.status {
                Some(crate::load::Status::AciSigne) => "aci_signe",
                Some(crate::load::Status::Valide) => "valide",
                Some(crate::load::Status::Projet) => "projet",
                None => "",
            },
            status_fill: style::status_colour(c.status),
        })
        .collect();
    let (adjacent_extra, adjacent_not) = adjacency_differences(r);
    // the faces' area on the page (each ring has its face on its left: outer
    // rings count positive, holes negative)
    let topo = &r.canvas.topology;
    let mut twice_area = 0.0;
    for f in 0..r.faces.len() {
        for ring in topo.rings(f) {
            let mut first = true;
            let mut prev = [0.0, 0.0];
            let mut start = [0.0, 0.0];
            for a in ring {
                let pts = &arcs[a.index()];
                let seq: Box<dyn Iterator<Item = &Pt>> = if a.reversed() {
                    Box::new(pts.iter().rev())
                } else {
                    Box::new(pts.iter())
                };
                for p in seq {
                    if first {
                        start = *p;
                        first = false;
                    } else {
                        twice_area += prev[0] * p[1] - p[0] * prev[1];
                    }
                    prev = *p;
                }
            }
            twice_area += prev[0] * start[1] - start[0] * prev[1];
        }
    }
    let typical = (twice_area.abs() / 2.0 / r.faces.len().max(1) as f64).sqrt();
    let data = Data {
        typical,
        adjacent_extra,
        adjacent_not,
        view,
        frames,
        editable: a.coverage.overlay.is_none(),
        tolerance: r.report_tolerance(),
        key: format!("{hash:016x}"),
        view_mode: match color_by {
            super::ColorBy::Territory => "territory",
            super::ColorBy::Status => "status",
        },
        departements,
        regions,
        epcis,
        suggestions,
        columns,
        faces,
        cpts,
        white_zones: layers.white_zones.len(),
        overlaps: layers.overlaps.iter().map(|o| o.owners.clone()).collect(),
        colours: Colours {
            white: style::WHITE_ZONE,
            overlap: style::OVERLAP,
            overlap_background: style::OVERLAP_BACKGROUND,
            departement: style::DEPARTEMENT_BORDER,
            territory_border: style::TERRITORY_BORDER,
            base: style::BASE,
            status: {
                use crate::load::Status;
                let row =
                    |s: Option<Status>, key| (key, style::status_label(s), style::status_colour(s));
                [
                    row(Some(Status::AciSigne), "aci_signe"),
                    row(Some(Status::Valide), "valide"),
                    row(Some(Status::Projet), "projet"),
                    row(None, ""),
                ]
            },
        },
    };
    let json = serde_json::to_vec(&data).map_err(|e| Error::Render(format!("report data: {e}")))?;
    let mut bin = Vec::with_capacity(json.len() + arcs.len() * 16);
    bin.extend_from_slice(b"MLG1");
    bin.extend_from_slice(&(json.len() as u32).to_le_bytes());
    bin.extend_from_slice(&json);
    // arcs, in tenths of a pixel; repeated points at that precision dropped, the
    // ends kept (they join arcs)
    // each arc's first point from the previous arc's last: arcs come in ring
    // order, so they are near each other
    varint(&mut bin, arcs.len() as u64);
    let mut pts: Vec<(i64, i64)> = Vec::new();
    let mut last = (0, 0);
    for arc in arcs {
        pts.clear();
        for (k, p) in arc.iter().enumerate() {
            let q = (tenths(p[0]), tenths(p[1]));
            if k + 1 == arc.len() || pts.last() != Some(&q) {
                pts.push(q);
            }
        }
        points_from(&mut bin, &pts, last);
        last = pts.last().copied().unwrap_or(last);
    }
    // rings as arc references, each from the one before (a face's own arcs are
    // numbered one after the other): zigzag of the index step, times two, plus
    // one when the arc is used reversed
    let topo = &r.canvas.topology;
    varint(&mut bin, r.faces.len() as u64);
    let mut prev = 0i64;
    for f in 0..r.faces.len() {
        let rings = topo.rings(f);
        varint(&mut bin, rings.len() as u64);
        for ring in rings {
            varint(&mut bin, ring.len() as u64);
            for a in ring {
                let index = a.index() as i64;
                let step = index - prev;
                varint(
                    &mut bin,
                    (((step << 1) ^ (step >> 63)) as u64) * 2 + u64::from(a.reversed()),
                );
                prev = index;
            }
        }
    }
    // drawn territories: their own shapes (lists of communes are drawn from
    // the faces' claims by the page)
    if a.coverage.overlay.is_some() {
        varint(
            &mut bin,
            (1 + layers.territories.len() + layers.white_zones.len() + layers.overlaps.len())
                as u64,
        );
        for s in std::iter::once(&layers.study_area)
            .chain(&layers.territories)
            .chain(layers.white_zones.iter().map(|z| &z.shape))
            .chain(layers.overlaps.iter().map(|o| &o.shape))
        {
            shape(&mut bin, s);
        }
    } else {
        varint(&mut bin, 0);
    }
    // the same arcs at full resolution, in thousandths of a pixel, every vertex
    // kept (the page shows them zoomed in, vertex for vertex as the input): a
    // payload of their own, which the page reads once the map is shown
    let mut hi = Vec::with_capacity(bin.len() * 3);
    hi.extend_from_slice(b"MLG2");
    varint(&mut hi, full.len() as u64);
    let mut last = (0, 0);
    for arc in full {
        pts.clear();
        pts.extend(arc.iter().map(|p| (thousandths(p[0]), thousandths(p[1]))));
        points_from(&mut hi, &pts, last);
        last = pts.last().copied().unwrap_or(last);
    }
    let (main, hi) = rayon::join(|| pack(&bin), || pack(&hi));
    Ok((main?, hi?))
}

/// Gzip, then base64.
fn pack(bytes: &[u8]) -> Result<String> {
    let mut gz = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 3),
        flate2::Compression::new(6),
    );
    gz.write_all(bytes)
        .and_then(|()| gz.flush())
        .map_err(|e| Error::Render(format!("compressing the report's data: {e}")))?;
    let packed = gz
        .finish()
        .map_err(|e| Error::Render(format!("compressing the report's data: {e}")))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(packed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_zigzag_are_leb128() {
        let mut v = Vec::new();
        varint(&mut v, 0);
        varint(&mut v, 127);
        varint(&mut v, 128);
        varint(&mut v, 300);
        assert_eq!(v, vec![0, 127, 0x80, 1, 0xAC, 2]);
        let mut z = Vec::new();
        for x in [0, -1, 1, -2, 2] {
            zigzag(&mut z, x);
        }
        assert_eq!(z, vec![0, 1, 2, 3, 4]);
    }
}
