//! The coverage map: territories (neighbours in different colours, or coloured by
//! status as the DGOS atlas does), zones blanches and chevauchements above them,
//! département borders, title, legend with counts, scale bar, source and date; or
//! a choropleth of any numeric column of the commune or département tables.
//!
//! Metropolitan France is drawn in Lambert-93 with the overseas départements as
//! insets in their own UTM zones; a single région is drawn alone, fitted to the
//! picture. Every territory element carries `data-cpts` (its CPTS id).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use polars::prelude::{DataFrame, DataType};

use super::canvas::{lines_path, loops_path, ring_path, Bounds, Placement};
use super::classify::{class_of, classify, Breaks};
use super::shapes::{Layers, Shape};
use super::simplify::Pt;
use super::HighlightKind;
use super::{decimal, escape, thousands, Renderer};
use crate::coverage::Verdict;
use crate::error::{Error, Result};
use crate::lang::Lang;
use crate::load::Status;
use crate::style;

/// What colours the territories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorBy {
    /// One colour per territory, neighbours always different (graph colouring).
    #[default]
    Territory,
    /// The three statuses (ACI signé, projet de santé validé, projet), as the DGOS
    /// atlas of CPTS.
    Status,
}

/// A choropleth: a numeric column of `communes.csv` or `departements.csv`,
/// classed.
#[derive(Debug, Clone, PartialEq)]
pub struct Choropleth {
    /// The column: `population`, `coverage_rate_population`, or prefixed with its
    /// table (`communes.area_km2`, `departements.population_white`). Without a
    /// prefix, the commune table is looked in first.
    pub column: String,
    /// How classes are made.
    pub breaks: Breaks,
    /// How many classes (at most; fewer when the values are fewer).
    pub classes: usize,
}

/// What to draw and how.
#[derive(Debug, Clone, PartialEq)]
pub struct MapOptions {
    /// Territories by neighbour-distinct colours or by status.
    pub color_by: ColorBy,
    /// A choropleth instead of the territories.
    pub choropleth: Option<Choropleth>,
    /// Width of the picture, pixels (the PNG's width).
    pub width: u32,
    /// The title; default: the région's name, or "France".
    pub title: Option<String>,
    /// The date on the source line (`YYYY-MM-DD`); default none.
    pub date: Option<String>,
}

impl Default for MapOptions {
    fn default() -> Self {
        MapOptions {
            color_by: ColorBy::Territory,
            choropleth: None,
            width: 1600,
            title: None,
            date: None,
        }
    }
}

/// Choropleth ramp (ColorBrewer YlGnBu, 7 classes; fewer classes take evenly
/// spread steps).
const RAMP: [&str; 7] = [
    "#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84",
];
/// Fill of a unit without value.
const NO_VALUE: &str = "#d9d9d9";

/// Where each frame goes on the page, and the page's other boxes.
pub(super) struct Layout {
    /// Each frame's extent, projected metres.
    pub(super) extents: Vec<Bounds>,
    width: f64,
    height: f64,
    unit: f64,
    pub(super) placements: Vec<Placement>,
    legend: Bounds,
    title_y: f64,
}

/// A row of the legend: a swatch (fill, optional pattern), a label, a figure line.
struct LegendRow {
    fill: String,
    stroke: Option<&'static str>,
    label: String,
    figures: String,
    /// `data-` attributes of the row, so that tools and tests read the figures
    /// without parsing French numbers.
    data: Vec<(&'static str, String)>,
}

impl Renderer<'_> {
    /// Where the frames (of these extents) go for a picture `width` pixels wide.
    fn layout(&self, width: f64, extents: Vec<Bounds>) -> Layout {
        let c = &self.canvas;
        let unit = width / 1800.0;
        let margin = 24.0 * unit;
        let title_h = 96.0 * unit;
        let footer_h = 44.0 * unit;
        let legend_w = 470.0 * unit;
        let insets = c.frames.len().saturating_sub(1);
        let inset_w = if insets > 0 { 230.0 * unit } else { 0.0 };
        let gap = if insets > 0 { margin } else { 0.0 };
        let main_w = width - 2.0 * margin - legend_w - inset_w - gap - margin;
        let e = extents.first().copied().unwrap_or([0.0, 0.0, 1.0, 1.0]);
        let aspect = ((e[3] - e[1]) / (e[2] - e[0]).max(1.0)).clamp(0.35, 1.6);
        let main_h = main_w * aspect;
        let body_h = main_h.max(if insets > 0 { 5.0 * 150.0 * unit } else { 0.0 });
        let top = title_h;
        let x0 = margin + inset_w + gap;
        let mut placements = Vec::with_capacity(c.frames.len());
        placements.push(Placement::fit(e, [x0, top, x0 + main_w, top + main_h]));
        if insets > 0 {
            let slot = (body_h - (insets as f64 - 1.0) * 10.0 * unit) / insets as f64;
            let label = 22.0 * unit;
            for (k, ext) in extents.iter().enumerate().skip(1) {
                let y = top + (k as f64 - 1.0) * (slot + 10.0 * unit);
                placements.push(Placement::fit(
                    *ext,
                    [margin, y + label, margin + inset_w, y + slot - 4.0 * unit],
                ));
            }
        }
        let legend = [x0 + main_w + margin, top, width - margin, top + body_h];
        Layout {
            extents,
            width,
            height: (top + body_h + footer_h + margin).ceil(),
            unit,
            placements,
            legend,
            title_y: 52.0 * unit,
        }
    }

    /// The layout for a picture `width` pixels wide, and every arc simplified for
    /// it (`tolerance` pixels) and placed on the page.
    pub(super) fn draw_arcs(&self, width: f64, tolerance: f64) -> Result<(Layout, Vec<Vec<Pt>>)> {
        let rough = self.layout(width, self.canvas.approximate_extents());
        let scales: Vec<f64> = rough.placements.iter().map(|p| p.scale).collect();
        let projected = self
            .canvas
            .project(&scales, tolerance)
            .map_err(|e| Error::Render(e.0))?;
        let layout = self.layout(width, projected.extents.clone());
        let arcs = projected.on_page(&self.canvas, &layout.placements);
        Ok((layout, arcs))
    }

    /// The map as SVG text (the same bytes for the same inputs and options).
    ///
    /// # Errors
    /// [`Error::Input`] when the choropleth column is unknown or not numeric, or
    /// the width is under 200 pixels; [`Error::Render`] when a drawn outline cannot
    /// be projected.
    pub fn map_svg(&self, options: &MapOptions) -> Result<String> {
        if options.width < 200 || options.width > 20_000 {
            return Err(Error::Input(format!(
                "map width {} px: give 200 to 20000 pixels",
                options.width
            )));
        }
        let choro = options
            .choropleth
            .as_ref()
            .map(|c| self.choropleth_values(c))
            .transpose()?;
        let drawing = self.drawing(options.width, TOLERANCE)?;
        let (layout, arcs, layers) = (&drawing.layout, &drawing.arcs, &drawing.layers);
        let a = self.analysis;
        let u = layout.unit;
        let mut svg = String::with_capacity(1 << 20);
        let _ = write!(
            svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="DejaVu Sans, sans-serif">"#,
            w = layout.width,
            h = layout.height
        );
        let title = options.title.clone().unwrap_or_else(|| self.place_name());
        let subtitle = match (&choro, options.color_by) {
            (Some(c), _) => format!("{}, par {}", c.label, c.level_word),
            (None, ColorBy::Territory) => {
                "Territoires des CPTS, zones blanches et chevauchements".to_owned()
            }
            (None, ColorBy::Status) => {
                "CPTS par statut, zones blanches et chevauchements".to_owned()
            }
        };
        let _ = write!(
            svg,
            "<title>{} — {}</title>",
            escape(&title),
            escape(&subtitle)
        );
        svg.push_str("<defs><style>");
        svg.push_str(&super::font::css());
        svg.push_str("</style>");
        let hatch = 7.0 * u;
        let _ = write!(
            svg,
            r#"<pattern id="hatch" patternUnits="userSpaceOnUse" width="{hatch:.1}" height="{hatch:.1}" patternTransform="rotate(45)"><rect width="{hatch:.1}" height="{hatch:.1}" fill="{bg}"/><rect width="{w:.1}" height="{hatch:.1}" fill="{fg}"/></pattern>"#,
            bg = style::OVERLAP_BACKGROUND,
            fg = style::OVERLAP,
            w = hatch * 0.45
        );
        svg.push_str("</defs>");
        let _ = write!(
            svg,
            r##"<rect width="100%" height="100%" fill="#ffffff"/>"##
        );

        // the study area, under everything: where drawn territories leave ground
        // uncovered, or under a choropleth (with commune lists every commune is in
        // a territory or a zone blanche, so it would never show)
        if self.analysis.coverage.overlay.is_some() || choro.is_some() {
            let mut d = String::new();
            shape_path(&mut d, arcs, &layers.study_area);
            let _ = write!(
                svg,
                r#"<path id="study-area" fill="{}" fill-rule="evenodd" d="{d}"/>"#,
                style::BASE
            );
        }
        let mut legend: Vec<LegendRow> = Vec::new();
        match &choro {
            Some(c) => self.choropleth_layer(&mut svg, arcs, c, &mut legend),
            None => {
                self.territory_layer(
                    &mut svg,
                    arcs,
                    layers,
                    layout,
                    options.color_by,
                    &mut legend,
                );
                if layout.placements.len() == 1 && self.faces.len() <= 3000 {
                    // communes' borders, faint, on regional maps
                    let mut d = String::new();
                    lines_path(&mut d, layers.commune_borders.iter().map(|&k| &arcs[k]));
                    let _ = write!(
                        svg,
                        r##"<path id="commune-borders" fill="none" stroke="#ffffff" stroke-opacity="0.7" stroke-width="{:.2}" d="{d}"/>"##,
                        0.5 * u
                    );
                }
                self.problem_layers(&mut svg, arcs, layers, layout, &mut legend);
            }
        }
        // highlights (a proposal's changes), outlined over the fills
        if !self.highlights.is_empty() {
            let mut shapes = layers.highlights.iter();
            svg.push_str(r#"<g id="highlights" fill="none">"#);
            for h in &self.highlights {
                let (class, stroke, width, dash) = match h.kind {
                    HighlightKind::Moved => ("moved", "#111111", 1.6, ""),
                    HighlightKind::New => ("new", "#6a3d9a", 3.0, ""),
                    HighlightKind::Unresolved => ("unresolved", "#b2182b", 2.2, "6 3"),
                };
                let mut d = String::new();
                for _ in &h.groups {
                    if let Some(shape) = shapes.next() {
                        shape_path(&mut d, arcs, shape);
                    }
                }
                let dash = if dash.is_empty() {
                    String::new()
                } else {
                    let k: Vec<String> = dash
                        .split(' ')
                        .map(|x| format!("{:.1}", x.parse::<f64>().unwrap_or(1.0) * u))
                        .collect();
                    format!(r#" stroke-dasharray="{}""#, k.join(" "))
                };
                let _ = write!(
                    svg,
                    r#"<path class="highlight {class}" stroke="{stroke}" stroke-width="{:.2}"{dash} stroke-linejoin="round" fill-rule="evenodd" d="{d}"/>"#,
                    width * u
                );
                legend.push(LegendRow {
                    fill: "none".into(),
                    stroke: Some(stroke),
                    label: h.label.clone(),
                    figures: String::new(),
                    data: vec![("kind", format!("highlight-{class}"))],
                });
            }
            svg.push_str("</g>");
        }
        // département borders above the fills
        let mut d = String::new();
        lines_path(&mut d, layers.departement_borders.iter().map(|&k| &arcs[k]));
        let _ = write!(
            svg,
            r#"<path id="departement-borders" fill="none" stroke="{}" stroke-width="{:.2}" d="{d}"/>"#,
            style::DEPARTEMENT_BORDER,
            u.min(1.0)
        );
        legend.push(LegendRow {
            fill: "none".into(),
            stroke: Some(style::DEPARTEMENT_BORDER),
            label: "Limite de département".into(),
            figures: String::new(),
            data: vec![("kind", "departement".into())],
        });

        // insets' frames and names
        for (k, p) in layout.placements.iter().enumerate().skip(1) {
            let b = p.content(layout.extents[k]);
            let _ = write!(
                svg,
                r##"<rect class="inset" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="none" stroke="#969696" stroke-width="{:.2}"/><text x="{:.1}" y="{:.1}" font-size="{:.1}" fill="#252525">{}</text>"##,
                b[0] - 4.0 * u,
                b[1] - 4.0 * u,
                b[2] - b[0] + 8.0 * u,
                b[3] - b[1] + 8.0 * u,
                0.8 * u,
                b[0] - 4.0 * u,
                b[1] - 9.0 * u,
                14.0 * u,
                escape(&self.canvas.frames[k].name)
            );
        }
        if let Some(main) = layout.placements.first() {
            scale_bar(&mut svg, main, u);
        }
        // title, legend, source line
        let _ = write!(
            svg,
            r##"<text id="title" x="{:.1}" y="{:.1}" font-size="{:.1}" font-weight="bold" fill="#111111">{}</text><text x="{:.1}" y="{:.1}" font-size="{:.1}" fill="#404040">{}</text>"##,
            24.0 * u,
            layout.title_y,
            34.0 * u,
            escape(&title),
            24.0 * u,
            layout.title_y + 30.0 * u,
            18.0 * u,
            escape(&subtitle)
        );
        write_legend(&mut svg, layout, &legend, choro.as_ref());
        let inputs = &a.summary.inputs;
        let base = |k: &str| {
            inputs
                .get(k)
                .map(|s| {
                    s.split(" + ")
                        .map(|p| p.rsplit('/').next().unwrap_or(p).to_owned())
                        .collect::<Vec<_>>()
                        .join(" + ")
                })
                .unwrap_or_default()
        };
        let mut source = format!(
            "Sources : communes {} ; déclarations {} ; population {}. Carte : maillage {}",
            base("communes"),
            base("cpts"),
            base("population"),
            env!("CARGO_PKG_VERSION")
        );
        if let Some(date) = &options.date {
            let _ = write!(source, ", {}", Lang::Fr.date(date));
        }
        source.push('.');
        let _ = write!(
            svg,
            r##"<text id="source" x="{:.1}" y="{:.1}" font-size="{:.1}" fill="#595959">{}</text>"##,
            24.0 * u,
            layout.height - 20.0 * u,
            13.0 * u,
            escape(&source)
        );
        svg.push_str("</svg>\n");
        Ok(svg)
    }

    /// "France", a région's name, or the régions' names.
    pub(super) fn place_name(&self) -> String {
        let communes = &self.analysis.communes;
        let mut regions: BTreeMap<&str, usize> = BTreeMap::new();
        for f in &self.faces {
            *regions.entry(communes.region(f.communes[0])).or_default() += 1;
        }
        let names: Vec<&str> = regions
            .keys()
            .map(|r| crate::admin::region_name(r).unwrap_or("région inconnue"))
            .collect();
        match names.as_slice() {
            [] => "Aucune commune".to_owned(),
            [one] => (*one).to_owned(),
            many if many.len() >= 10 || self.canvas.frames.len() > 1 => "France".to_owned(),
            many => many.join(", "),
        }
    }

    /// Territories filled, with their borders.
    fn territory_layer(
        &self,
        svg: &mut String,
        arcs: &[Vec<Pt>],
        layers: &Layers,
        layout: &Layout,
        color_by: ColorBy,
        legend: &mut Vec<LegendRow>,
    ) {
        let a = self.analysis;
        let decl = &a.declarations;
        let colours = match color_by {
            ColorBy::Territory => self.territory_colours(),
            ColorBy::Status => Vec::new(),
        };
        let _ = write!(
            svg,
            r#"<g id="territories" stroke="{}" stroke-width="{:.2}">"#,
            style::TERRITORY_BORDER,
            (0.7 * layout.unit).min(1.0)
        );
        let mut d = String::new();
        let mut ids: BTreeMap<String, usize> = BTreeMap::new();
        for (k, (c, shape)) in decl.cpts.iter().zip(&layers.territories).enumerate() {
            d.clear();
            shape_path(&mut d, arcs, shape);
            if d.is_empty() {
                continue;
            }
            let fill = match color_by {
                ColorBy::Territory => style::colour_of(colours[k]),
                ColorBy::Status => style::status_colour(c.status).to_owned(),
            };
            let n = ids.entry(svg_id(&c.id)).or_default();
            *n += 1;
            let suffix = if *n > 1 {
                format!("-{n}")
            } else {
                String::new()
            };
            // each outline stroked as a hairline (under 1 px, which the rasteriser
            // draws fast): neighbours' shared borders fall on the same pixels
            let _ = write!(
                svg,
                r#"<path class="territory" id="cpts-{}{suffix}" data-cpts="{}" fill="{fill}" fill-rule="evenodd" d="{d}"><title>{}</title></path>"#,
                svg_id(&c.id),
                escape(&c.id),
                escape(&format!("{} — {}", c.id, c.name))
            );
        }
        svg.push_str("</g>");
        let s = &a.summary;
        match color_by {
            ColorBy::Territory => {
                let used: std::collections::BTreeSet<usize> = colours.iter().copied().collect();
                legend.push(LegendRow {
                    fill: used
                        .iter()
                        .take(4)
                        .map(|&k| style::colour_of(k))
                        .collect::<Vec<_>>()
                        .join(" "),
                    stroke: None,
                    label: format!(
                        "Territoires de CPTS ({} CPTS, voisins de couleurs différentes)",
                        s.cpts_count
                    ),
                    figures: format!(
                        "{} communes, {} hab. couverts par une seule CPTS",
                        thousands(s.communes_covered),
                        thousands(s.population_covered)
                    ),
                    data: vec![
                        ("kind", "covered".into()),
                        ("cpts", s.cpts_count.to_string()),
                        ("communes", s.communes_covered.to_string()),
                        ("population", s.population_covered.to_string()),
                    ],
                });
            }
            ColorBy::Status => {
                for status in [
                    Some(Status::AciSigne),
                    Some(Status::Valide),
                    Some(Status::Projet),
                    None,
                ] {
                    let cpts = decl.cpts.iter().filter(|c| c.status == status).count();
                    if cpts == 0 && status.is_none() {
                        continue;
                    }
                    // communes covered by one CPTS of this status
                    let (mut communes, mut population) = (0u64, 0u64);
                    for (i, claim) in a.coverage.claimants.iter().enumerate() {
                        if a.coverage.verdicts[i] == Verdict::Covered
                            && claim.first().map(|&k| decl.cpts[k as usize].status) == Some(status)
                        {
                            communes += 1;
                            population += a.communes.population[i];
                        }
                    }
                    legend.push(LegendRow {
                        fill: style::status_colour(status).to_owned(),
                        stroke: None,
                        label: format!("{} : {} CPTS", style::status_label(status), cpts),
                        figures: format!(
                            "{} communes, {} hab.",
                            thousands(communes),
                            thousands(population)
                        ),
                        data: vec![
                            (
                                "kind",
                                format!("status-{}", status.map_or("unknown", |s| s.as_str())),
                            ),
                            ("cpts", cpts.to_string()),
                            ("communes", communes.to_string()),
                            ("population", population.to_string()),
                        ],
                    });
                }
            }
        }
    }

    /// Zones blanches and chevauchements, above the territories.
    fn problem_layers(
        &self,
        svg: &mut String,
        arcs: &[Vec<Pt>],
        layers: &Layers,
        layout: &Layout,
        legend: &mut Vec<LegendRow>,
    ) {
        let a = self.analysis;
        let s = &a.summary;
        let mut d = String::new();
        let _ = write!(svg, r#"<g id="white-zones" fill="{}">"#, style::WHITE_ZONE);
        for z in &layers.white_zones {
            d.clear();
            shape_path(&mut d, arcs, &z.shape);
            if !d.is_empty() {
                let _ = write!(
                    svg,
                    r#"<path class="white-zone" data-zone="{}" fill-rule="evenodd" d="{d}"/>"#,
                    z.id
                );
            }
        }
        svg.push_str("</g>");
        let _ = write!(
            svg,
            r#"<g id="overlaps" fill="url(#hatch)" stroke="{}" stroke-width="{:.2}">"#,
            style::OVERLAP,
            (0.5 * layout.unit).min(1.0)
        );
        for o in &layers.overlaps {
            d.clear();
            shape_path(&mut d, arcs, &o.shape);
            if d.is_empty() {
                continue;
            }
            let ids: Vec<&str> = o
                .owners
                .iter()
                .map(|&k| a.declarations.cpts[k as usize].id.as_str())
                .collect();
            if o.id == 0 {
                let _ = write!(
                    svg,
                    r#"<path class="overlap" fill-rule="evenodd" d="{d}"/>"#
                );
            } else {
                let _ = write!(
                    svg,
                    r#"<path class="overlap" data-piece="{}" data-cpts="{}" fill-rule="evenodd" d="{d}"/>"#,
                    o.id,
                    escape(&ids.join("|"))
                );
            }
        }
        svg.push_str("</g>");
        let drawn = a.coverage.overlay.is_some();
        legend.push(LegendRow {
            fill: style::WHITE_ZONE.to_owned(),
            stroke: None,
            label: if drawn {
                format!(
                    "Zones blanches : {}",
                    Lang::Fr.count(s.white_zone_clusters, "pièce", "pièces")
                )
            } else {
                format!(
                    "Zones blanches : {}",
                    Lang::Fr.count(s.white_zone_clusters, "zone", "zones")
                )
            },
            figures: if drawn {
                format!(
                    "{} km², ≈ {} hab.",
                    decimal(s.area_km2_white, 1),
                    thousands(s.population_white_estimate)
                )
            } else {
                format!(
                    "{} communes, {} hab.",
                    thousands(s.communes_white),
                    thousands(s.population_white)
                )
            },
            data: vec![
                ("kind", "white".into()),
                ("zones", s.white_zone_clusters.to_string()),
                ("communes", s.communes_white.to_string()),
                ("population", s.population_white.to_string()),
            ],
        });
        legend.push(LegendRow {
            fill: "url(#hatch)".to_owned(),
            stroke: Some(style::OVERLAP),
            label: if drawn {
                format!(
                    "Chevauchements : {} entre {} de CPTS",
                    Lang::Fr.count(
                        a.coverage.overlay.as_ref().map_or(0, |o| o.overlaps.len()) as u64,
                        "pièce",
                        "pièces"
                    ),
                    Lang::Fr.count(s.overlap_pairs, "paire", "paires")
                )
            } else {
                format!(
                    "Chevauchements : {} de CPTS",
                    Lang::Fr.count(s.overlap_pairs, "paire", "paires")
                )
            },
            figures: if drawn {
                format!(
                    "{} km², ≈ {} hab.",
                    decimal(s.area_km2_overlap, 1),
                    thousands(s.population_overlap_estimate)
                )
            } else {
                format!(
                    "{} communes, {} hab.",
                    thousands(s.communes_overlap),
                    thousands(s.population_overlap)
                )
            },
            data: vec![
                ("kind", "overlap".into()),
                ("pairs", s.overlap_pairs.to_string()),
                ("communes", s.communes_overlap.to_string()),
                ("population", s.population_overlap.to_string()),
            ],
        });
    }

    /// The values of a choropleth column, per face.
    fn choropleth_values(&self, c: &Choropleth) -> Result<ChoroValues> {
        if let Some((name, values)) = self.columns.iter().find(|(n, _)| *n == c.column) {
            return self.classed(name, "commune", values, c.breaks, c.classes);
        }
        let stats = self.analysis.stats()?;
        let (table, column) = match c.column.split_once('.') {
            Some((t, col)) => (Some(t), col),
            None => (None, c.column.as_str()),
        };
        let tables: [(&str, &DataFrame, &str, &str); 2] = [
            ("communes", &stats.communes, "code", "commune"),
            (
                "departements",
                &stats.departements,
                "departement",
                "département",
            ),
        ];
        let found = tables
            .iter()
            .filter(|t| table.is_none_or(|name| name == t.0))
            .find(|t| t.1.column(column).is_ok());
        let Some(&(name, df, key, word)) = found else {
            let numeric = |df: &DataFrame| {
                df.columns()
                    .iter()
                    .filter(|s| s.dtype().is_primitive_numeric())
                    .map(|s| s.name().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Err(Error::Input(format!(
                "choropleth: no column {:?} in {}; numeric columns: communes.csv: {}; departements.csv: {}",
                c.column,
                table.map_or("communes.csv nor departements.csv".to_owned(), |t| format!("{t}.csv")),
                numeric(&stats.communes),
                numeric(&stats.departements)
            )));
        };
        let series = df.column(column).map_err(|source| Error::Table {
            context: format!("choropleth column {column}"),
            source,
        })?;
        if !series.dtype().is_primitive_numeric() {
            let example = series
                .str()
                .ok()
                .and_then(|s| {
                    s.iter()
                        .flatten()
                        .find(|v| !v.is_empty())
                        .map(str::to_owned)
                })
                .unwrap_or_default();
            return Err(Error::Input(format!(
                "choropleth: column {column:?} of {name}.csv is not numeric (it holds {} values such as {example:?})",
                series.dtype()
            )));
        }
        let values: Vec<Option<f64>> = series
            .cast(&DataType::Float64)
            .ok()
            .and_then(|s| s.f64().ok().map(|ca| ca.iter().collect()))
            .unwrap_or_default();
        let keys: Vec<String> = df
            .column(key)
            .ok()
            .and_then(|s| {
                s.str()
                    .ok()
                    .map(|ca| ca.iter().map(|k| k.unwrap_or("").to_owned()).collect())
            })
            .unwrap_or_default();
        let by_key: BTreeMap<&str, Option<f64>> = keys
            .iter()
            .map(String::as_str)
            .zip(values.iter().copied())
            .collect();
        let finite: Vec<f64> = values
            .iter()
            .flatten()
            .copied()
            .filter(|v| v.is_finite())
            .collect();
        if finite.is_empty() {
            return Err(Error::Input(format!(
                "choropleth: column {column:?} of {name}.csv has no value to map"
            )));
        }
        let (bounds, counts) = classify(&finite, c.classes.clamp(1, RAMP.len()), c.breaks);
        let communes = &self.analysis.communes;
        let per_face: Vec<Option<usize>> = self
            .faces
            .iter()
            .map(|f| {
                let k = if name == "communes" {
                    communes.get(f.communes[0]).code.clone()
                } else {
                    communes.departement(f.communes[0]).to_owned()
                };
                by_key
                    .get(k.as_str())
                    .copied()
                    .flatten()
                    .and_then(|v| class_of(v, &bounds))
            })
            .collect();
        let missing = values.len() - finite.len();
        Ok(ChoroValues {
            label: column_label(column).to_owned(),
            column: column.to_owned(),
            level_word: if name == "communes" {
                "commune"
            } else {
                "département"
            },
            unit_word: word,
            breaks: c.breaks,
            min: finite.iter().copied().fold(f64::INFINITY, f64::min),
            bounds,
            counts,
            missing,
            per_face,
        })
    }

    /// Classes of a column given per commune.
    fn classed(
        &self,
        name: &str,
        word: &'static str,
        values: &[Option<f64>],
        breaks: Breaks,
        classes: usize,
    ) -> Result<ChoroValues> {
        let finite: Vec<f64> = values
            .iter()
            .flatten()
            .copied()
            .filter(|v| v.is_finite())
            .collect();
        if finite.is_empty() {
            return Err(Error::Input(format!(
                "choropleth: column {name:?} has no value to map"
            )));
        }
        let (bounds, counts) = classify(&finite, classes.clamp(1, RAMP.len()), breaks);
        let per_face = self
            .faces
            .iter()
            .map(|f| {
                values[f.communes[0] as usize]
                    .filter(|v| v.is_finite())
                    .and_then(|v| class_of(v, &bounds))
            })
            .collect();
        Ok(ChoroValues {
            label: column_label(name).to_owned(),
            column: name.to_owned(),
            level_word: "commune",
            unit_word: word,
            breaks,
            min: finite.iter().copied().fold(f64::INFINITY, f64::min),
            bounds,
            counts,
            missing: values.len() - finite.len(),
            per_face,
        })
    }

    fn choropleth_layer(
        &self,
        svg: &mut String,
        arcs: &[Vec<Pt>],
        c: &ChoroValues,
        legend: &mut Vec<LegendRow>,
    ) {
        let n = c.bounds.len();
        let colours = ramp(n);
        let _ = write!(svg, r#"<g id="choropleth">"#);
        let mut groups: BTreeMap<Option<usize>, Vec<u32>> = BTreeMap::new();
        for (f, k) in c.per_face.iter().enumerate() {
            groups.entry(*k).or_default().push(f as u32);
        }
        let mut d = String::new();
        for (k, members) in &groups {
            d.clear();
            let loops = self
                .canvas
                .topology
                .boundary(members, |o| c.per_face[o as usize] == *k);
            loops_path(&mut d, arcs, &loops);
            let (fill, class) = match k {
                Some(k) => (colours[*k], format!("{}", k + 1)),
                None => (NO_VALUE, "none".to_owned()),
            };
            let _ = write!(
                svg,
                r#"<path class="class" data-class="{class}" fill="{fill}" fill-rule="evenodd" d="{d}"/>"#
            );
        }
        svg.push_str("</g>");
        let mut shown = vec![c.min];
        shown.extend(&c.bounds);
        shown.dedup();
        let digits = digits_for(&shown);
        let mut lower = c.min;
        for (k, colour) in colours.iter().enumerate() {
            legend.push(LegendRow {
                fill: (*colour).to_owned(),
                stroke: None,
                label: format!(
                    "{} {} – {}",
                    if k == 0 { "[" } else { "]" },
                    decimal(lower, digits),
                    decimal(c.bounds[k], digits)
                ) + "]",
                figures: format!("{} {}s", thousands(c.counts[k] as u64), c.unit_word),
                data: vec![
                    ("kind", format!("class-{}", k + 1)),
                    ("upper", format!("{}", c.bounds[k])),
                    ("count", c.counts[k].to_string()),
                ],
            });
            lower = c.bounds[k];
        }
        if c.missing > 0 {
            legend.push(LegendRow {
                fill: NO_VALUE.to_owned(),
                stroke: None,
                label: "Sans valeur".to_owned(),
                figures: format!("{} {}s", thousands(c.missing as u64), c.unit_word),
                data: vec![
                    ("kind", "no-value".into()),
                    ("count", c.missing.to_string()),
                ],
            });
        }
    }
}

/// Path data of a shape.
pub(super) fn shape_path(out: &mut String, arcs: &[Vec<Pt>], shape: &Shape) {
    match shape {
        Shape::Loops(loops) => loops_path(out, arcs, loops),
        Shape::Rings(rings) => {
            for r in rings {
                ring_path(out, &mut r.clone());
            }
        }
    }
}

/// The tolerance of simplification on maps, pixels: details under it are not
/// drawn (resvg's anti-aliasing blurs them anyway).
pub(super) const TOLERANCE: f64 = 0.6;

/// A choropleth's classes and each face's class.
struct ChoroValues {
    /// What the column is, for people.
    label: String,
    /// The column's name.
    column: String,
    level_word: &'static str,
    unit_word: &'static str,
    breaks: Breaks,
    min: f64,
    bounds: Vec<f64>,
    counts: Vec<usize>,
    missing: usize,
    per_face: Vec<Option<usize>>,
}

/// A French title for the usual columns; others keep their name.
fn column_label(column: &str) -> &str {
    match column {
        "population" => "Population",
        "area_km2" => "Superficie (km²)",
        "coverage_rate_population" => "Part de la population couverte par une CPTS",
        "coverage_rate_communes" => "Part des communes couvertes par une CPTS",
        "coverage_rate_area" => "Part de la superficie couverte par une CPTS",
        "population_white" => "Population en zone blanche",
        "population_overlap" => "Population en chevauchement",
        "communes_white" => "Communes en zone blanche",
        "communes_overlap" => "Communes en chevauchement",
        "covered_fraction" => "Part de la commune couverte",
        "white_fraction" => "Part de la commune en zone blanche",
        "overlap_fraction" => "Part de la commune en chevauchement",
        "cpts" => "Nombre de CPTS",
        "score" => "Accessibilité : offre accessible par habitant",
        "score_per_100k" => "Accessibilité : offre accessible pour 100 000 habitants",
        other => other,
    }
}

/// `n` colours spread over the ramp.
fn ramp(n: usize) -> Vec<&'static str> {
    match n {
        0 => Vec::new(),
        1 => vec![RAMP[3]],
        _ => (0..n)
            .map(|k| RAMP[(k * (RAMP.len() - 1) + (n - 1) / 2) / (n - 1)])
            .collect(),
    }
}

/// Decimals to print class bounds with: the fewest that print every bound
/// exactly, else the fewest that tell them apart (at most 4, and at least 2 for
/// values under 10, such as shares).
fn digits_for(bounds: &[f64]) -> usize {
    let small = bounds.iter().all(|b| b.abs() < 10.0);
    let printed = |d: usize| -> Vec<String> { bounds.iter().map(|b| format!("{b:.d$}")).collect() };
    let exact = |d: usize| {
        bounds.iter().zip(printed(d)).all(|(b, s)| {
            s.parse::<f64>()
                .is_ok_and(|v| (v - b).abs() <= 1e-9 * b.abs().max(1.0))
        })
    };
    let distinct = |d: usize| printed(d).windows(2).all(|w| w[0] != w[1]);
    (0..=4)
        .find(|&d| exact(d))
        .or_else(|| {
            (0..=4)
                .find(|&d| distinct(d))
                .map(|d| if small { d.max(2) } else { d })
        })
        .unwrap_or(4)
}

/// An id attribute from a CPTS id: letters, digits, `-`, `_` and `.` kept, other
/// characters as `_`.
fn svg_id(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn scale_bar(svg: &mut String, p: &Placement, u: f64) {
    // a round length near a fifth of the map's width
    let target_m = (p.page[2] - p.page[0]) * 0.2 / p.scale;
    let pow = 10f64.powf(target_m.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|s| s * pow)
        .take_while(|&l| l <= target_m)
        .last()
        .unwrap_or(pow);
    let len = step * p.scale;
    let (x, y) = (p.page[0] + 8.0 * u, p.page[3] - 14.0 * u);
    let label = if step >= 1000.0 {
        format!("{} km", decimal(step / 1000.0, 0))
    } else {
        format!("{} m", decimal(step, 0))
    };
    let _ = write!(
        svg,
        r##"<g id="scale-bar"><path d="M{:.1} {:.1}v{:.1}h{:.1}v{:.1}" fill="none" stroke="#252525" stroke-width="{:.2}"/><text x="{:.1}" y="{:.1}" font-size="{:.1}" fill="#252525">{}</text></g>"##,
        x,
        y - 6.0 * u,
        6.0 * u,
        len,
        -6.0 * u,
        1.5 * u,
        x,
        y - 10.0 * u,
        13.0 * u,
        label
    );
}

/// Words of `text` in lines of at most `width` characters (a longer word alone
/// on its line).
fn wrap(text: &str, width: usize) -> Vec<String> {
    // a number grouped by spaces (« 100 000 ») stays on one line
    let chars: Vec<char> = text.chars().collect();
    let glued: String = chars
        .iter()
        .enumerate()
        .map(|(k, &c)| {
            let digit = |j: Option<usize>| {
                j.and_then(|j| chars.get(j))
                    .is_some_and(char::is_ascii_digit)
            };
            if c == ' ' && digit(k.checked_sub(1)) && digit(Some(k + 1)) {
                '\u{a0}'
            } else {
                c
            }
        })
        .collect();
    let mut lines: Vec<String> = Vec::new();
    for word in glued.split(' ').filter(|w| !w.is_empty()) {
        match lines.last_mut() {
            Some(l) if l.chars().count() + 1 + word.chars().count() <= width => {
                l.push(' ');
                l.push_str(word);
            }
            _ => lines.push(word.to_owned()),
        }
    }
    lines
}

#[cfg(test)]
mod wrap_tests {
    #[test]
    fn headings_wrap_between_words_and_never_inside_a_number() {
        let lines = super::wrap(
            "Accessibilité : offre accessible pour 100 000 habitants",
            40,
        );
        assert_eq!(
            lines,
            [
                "Accessibilité : offre accessible pour",
                "100\u{a0}000 habitants"
            ]
        );
        assert!(super::wrap("court", 40) == ["court"]);
    }
}

fn write_legend(
    svg: &mut String,
    layout: &Layout,
    rows: &[LegendRow],
    choro: Option<&ChoroValues>,
) {
    let u = layout.unit;
    let [x, y0, _, _] = layout.legend;
    let _ = write!(svg, r#"<g id="legend">"#);
    let (heading, method) = match choro {
        Some(c) => (
            c.label.clone(),
            Some(format!(
                "{} classes, {} ; {}",
                c.bounds.len(),
                breaks_label(c.breaks),
                c.column
            )),
        ),
        None => ("Légende".to_owned(), None),
    };
    // the heading wrapped to the legend's width (a long column label would run
    // off the page): bold 18-unit text is about 10.5 units a character
    let width = layout.legend[2] - x;
    let per_line = ((width / (10.5 * u)).floor() as usize).max(12);
    let lines = wrap(&heading, per_line);
    for (k, line) in lines.iter().enumerate() {
        let _ = write!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" font-size="{:.1}" font-weight="bold" fill="#111111">{}</text>"##,
            x,
            y0 + 20.0 * u + 22.0 * u * k as f64,
            18.0 * u,
            escape(line)
        );
    }
    let y0 = y0 + 22.0 * u * (lines.len().max(1) - 1) as f64;
    let y0 = match method {
        Some(m) => {
            let _ = write!(
                svg,
                r##"<text x="{:.1}" y="{:.1}" font-size="{:.1}" fill="#525252">{}</text>"##,
                x,
                y0 + 42.0 * u,
                13.0 * u,
                escape(&m)
            );
            y0 + 24.0 * u
        }
        None => y0,
    };
    let mut y = y0 + 44.0 * u;
    let (sw, sh) = (34.0 * u, 22.0 * u);
    for row in rows {
        svg.push_str(r#"<g class="legend-row""#);
        for (k, v) in &row.data {
            let _ = write!(svg, r#" data-{k}="{}""#, escape(v));
        }
        svg.push('>');
        let colours: Vec<&str> = row.fill.split(' ').collect();
        if row.fill == "none" {
            let _ = write!(
                svg,
                r#"<path d="M{:.1} {:.1}h{:.1}" stroke="{}" stroke-width="{:.2}"/>"#,
                x,
                y + sh / 2.0,
                sw,
                row.stroke.unwrap_or("#000000"),
                1.6 * u
            );
        } else {
            let w = sw / colours.len() as f64;
            for (k, c) in colours.iter().enumerate() {
                let _ = write!(
                    svg,
                    r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{c}" stroke="{}" stroke-width="{:.2}"/>"#,
                    x + w * k as f64,
                    y,
                    w,
                    sh,
                    row.stroke.unwrap_or(style::TERRITORY_BORDER),
                    0.6 * u
                );
            }
        }
        let _ = write!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" font-size="{:.1}" fill="#111111">{}</text>"##,
            x + sw + 10.0 * u,
            y + 10.0 * u,
            14.0 * u,
            escape(&row.label)
        );
        if !row.figures.is_empty() {
            let _ = write!(
                svg,
                r##"<text x="{:.1}" y="{:.1}" font-size="{:.1}" fill="#525252">{}</text>"##,
                x + sw + 10.0 * u,
                y + 27.0 * u,
                13.0 * u,
                escape(&row.figures)
            );
        }
        svg.push_str("</g>");
        y += 46.0 * u;
    }
    svg.push_str("</g>");
}

fn breaks_label(b: Breaks) -> &'static str {
    match b {
        Breaks::Quantiles => "quantiles",
        Breaks::EqualInterval => "intervalles égaux",
        Breaks::Jenks => "seuils naturels de Jenks",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ramps_spread_from_light_to_dark() {
        assert_eq!(ramp(7), RAMP.to_vec());
        let r = ramp(3);
        assert_eq!(r, vec![RAMP[0], RAMP[3], RAMP[6]]);
        assert_eq!(ramp(2), vec![RAMP[0], RAMP[6]]);
    }

    #[test]
    fn ids_are_safe() {
        assert_eq!(svg_id("CPTS-93-001"), "CPTS-93-001");
        assert_eq!(svg_id("CPTS du Val d'Oise"), "CPTS_du_Val_d_Oise");
    }

    #[test]
    fn digits_tell_bounds_apart() {
        assert_eq!(digits_for(&[1.0, 2.0, 30.0]), 0);
        assert_eq!(digits_for(&[0.25, 0.5, 1.0]), 2);
    }
}
