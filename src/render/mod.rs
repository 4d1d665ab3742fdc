//! **render**: what a planner looks at — the coverage map (`map.svg`, and the same
//! drawing as `map.png`) and a self-contained interactive report
//! (`report.html`). A consumer of an [`Analysis`]: it reads it, never changes it.
//!
//! How a map is made:
//! 1. the communes become a planar [`crate::geometry::Topology`]: each shared border is one arc;
//! 2. arcs are projected once on a [`canvas`]: metropolitan France in Lambert-93,
//!    each overseas département in its own UTM zone, drawn as an inset;
//! 3. arcs are [`simplify`]-ed for the pixel size (Visvalingam–Whyatt), once, so
//!    neighbours keep one border and no gap opens between them;
//! 4. each group of communes (a territory, a zone blanche, the chevauchements, a
//!    choropleth class) is drawn as the arcs with the group on one side only;
//! 5. the SVG is rasterised by resvg (pure Rust) with the font embedded in the
//!    binary (DejaVu Sans, `src/render/font/`), so `map.png` is the same drawing, on any
//!    machine, with no system font or C library.
//!
//! Drawn territories keep their own outlines, with the gap and overlap pieces of
//! the overlay above them.

pub mod canvas;
pub mod classify;
mod font;
pub mod map;
mod png;
pub mod report;
mod shapes;
pub mod simplify;

pub use crate::style::{colour_of, status_colour, status_label, OVERLAP, PALETTE, WHITE_ZONE};
pub use classify::Breaks;
pub use map::{Choropleth, ColorBy, MapOptions};
pub use report::ReportOptions;

use std::sync::{Arc, Mutex};

use geo::MultiPolygon;

use crate::analysis::Analysis;
use crate::coverage::Verdict;
use crate::error::{Error, Result};
use crate::export::Staging;
use canvas::Canvas;

/// An analysis ready to draw: the topology of its communes, projected. Build it
/// once, then make the map and the report from it.
///
/// # Examples
/// ```
/// use maillage::render::{MapOptions, Renderer};
/// use maillage::{Analysis, Inputs};
///
/// let analysis = Analysis::run(&Inputs::demo())?;
/// let renderer = Renderer::new(&analysis)?;
/// let svg = renderer.map_svg(&MapOptions::default())?;
/// assert!(svg.contains("<title>Provence-Alpes-Côte d&#39;Azur"));
/// assert!(svg.contains(r#"data-cpts="CPTS-93-001""#));
/// # Ok::<(), maillage::Error>(())
/// ```
pub struct Renderer<'a> {
    analysis: &'a Analysis,
    canvas: Canvas,
    /// What each face (a commune, or a whole city standing for arrondissements
    /// without geometry) is, for drawing.
    faces: Vec<Face>,
    /// The face of each commune (arrondissements without geometry: their city's).
    face_of: Vec<Option<u32>>,
    /// Drawings made so far, by (width, tolerance): the map and the report share
    /// one when they are drawn at the same scale.
    drawings: Mutex<Vec<(DrawingKey, Arc<Drawing>)>>,
    /// Columns per commune given by the caller (an accessibility score…), mapped
    /// by a choropleth like the tables' columns.
    columns: Vec<(String, Vec<Option<f64>>)>,
    /// Groups of communes outlined over the map (a proposal's changes).
    highlights: Vec<Highlight>,
    /// Changes the report offers to accept or reject (a proposal's).
    suggestions: Vec<Suggestion>,
}

/// A change the report's workspace offers the planner, to accept or reject:
/// give `commune` to one CPTS only (what `propose` suggests for a zone blanche
/// or a chevauchement).
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    /// The commune (position in the analysis).
    pub commune: u32,
    /// The CPTS it goes to: an id of the declarations, or a new one
    /// (`NOUVELLE-…`), which accepting starts.
    pub cpts_id: String,
    /// That CPTS's name.
    pub cpts_name: String,
    /// Why, in French (shown beside it).
    pub reason: String,
}

/// What a highlight shows, which sets its outline and its legend row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HighlightKind {
    /// Communes that change CPTS (a proposal's moves): outlined in black.
    Moved,
    /// New territories (a proposal's new CPTS): a thick violet outline.
    New,
    /// Communes left as they are, to be settled: a dashed red outline.
    Unresolved,
}

/// Groups of communes drawn as outlines over the map, with one legend row: what
/// `propose --map` uses to show what its proposal changes.
#[derive(Debug, Clone, PartialEq)]
pub struct Highlight {
    /// How it is drawn.
    pub kind: HighlightKind,
    /// Its legend row, in French (« Communes déplacées : 47 »).
    pub label: String,
    /// Each group is outlined as one shape (its shared borders inside left
    /// out): positions of communes in the analysis.
    pub groups: Vec<Vec<u32>>,
}

/// A drawing's width in pixels and tolerance (its bits).
type DrawingKey = (u32, u64);

/// Everything drawn at one scale: where the frames go, the arcs on the page and
/// the layers made of them.
pub(crate) struct Drawing {
    layout: map::Layout,
    arcs: Vec<Vec<simplify::Pt>>,
    layers: shapes::Layers,
}

/// One polygon of the map and what it stands for.
#[derive(Debug, Clone)]
struct Face {
    /// The communes it stands for (one, or a city's arrondissements).
    communes: Vec<u32>,
    /// The CPTS claiming any of them, sorted.
    claims: Vec<u32>,
    /// Its verdict (for a city: overlap if any arrondissement is, else white if
    /// any is, else covered).
    verdict: Verdict,
}

impl<'a> Renderer<'a> {
    /// Builds and projects the topology of the analysis's communes (timed as
    /// `topology`).
    ///
    /// # Errors
    /// [`Error::Render`] when a commune cannot be projected.
    ///
    /// # Performance
    /// O(v log v): about 0.15 s for the 2.2 M vertices of France on 2 cores.
    pub fn new(analysis: &'a Analysis) -> Result<Renderer<'a>> {
        analysis.timings.time("topology", || {
            let communes = &analysis.communes;
            let cov = &analysis.coverage;
            let n = communes.len();
            let mut geoms: Vec<&MultiPolygon<f64>> = Vec::with_capacity(n);
            let mut faces = Vec::with_capacity(n);
            let mut face_of = vec![None; n];
            let mut deps: Vec<String> = Vec::with_capacity(n);
            for (i, face) in face_of.iter_mut().enumerate() {
                let c = communes.get(i as u32);
                if c.geometry.0.is_empty() {
                    continue;
                }
                *face = Some(faces.len() as u32);
                geoms.push(&c.geometry);
                deps.push(communes.departement(i as u32).to_owned());
                faces.push(Face {
                    communes: vec![i as u32],
                    claims: cov.claimants[i].clone(),
                    verdict: cov.verdicts[i],
                });
            }
            // a whole city analysed as its arrondissements without geometry is drawn
            // once, standing for all of them
            let cog = crate::cog::cog();
            for city in &communes.layer.whole_cities {
                let members: Vec<u32> = (0..n as u32)
                    .filter(|&i| {
                        face_of[i as usize].is_none()
                            && cog
                                .current(&communes.get(i).code)
                                .and_then(|e| e.parent.as_deref())
                                == Some(city.code.as_str())
                    })
                    .collect();
                if members.is_empty() || city.geometry.0.is_empty() {
                    continue;
                }
                let f = faces.len() as u32;
                let mut claims: Vec<u32> = members
                    .iter()
                    .flat_map(|&i| cov.claimants[i as usize].iter().copied())
                    .collect();
                claims.sort_unstable();
                claims.dedup();
                let verdicts: Vec<Verdict> =
                    members.iter().map(|&i| cov.verdicts[i as usize]).collect();
                let verdict = if verdicts.contains(&Verdict::Overlap) {
                    Verdict::Overlap
                } else if verdicts.contains(&Verdict::White) {
                    Verdict::White
                } else {
                    Verdict::Covered
                };
                for &i in &members {
                    face_of[i as usize] = Some(f);
                }
                geoms.push(&city.geometry);
                deps.push(crate::admin::departement_of(&city.code).to_owned());
                faces.push(Face {
                    communes: members,
                    claims,
                    verdict,
                });
            }
            let canvas =
                Canvas::new(&geoms, |f| deps[f].clone()).map_err(|e| Error::Render(e.0))?;
            Ok(Renderer {
                analysis,
                canvas,
                faces,
                face_of,
                drawings: Mutex::new(Vec::new()),
                columns: Vec::new(),
                highlights: Vec::new(),
                suggestions: Vec::new(),
            })
        })
    }

    /// A colour index per CPTS, neighbours different ([`style::territory_colours`]).
    fn territory_colours(&self) -> Vec<usize> {
        let a = self.analysis;
        crate::style::territory_colours(
            a.declarations.cpts.len(),
            &crate::style::neighbouring_territories(a),
        )
    }

    /// Outlines these groups of communes over the map, each with its legend row.
    ///
    /// ```
    /// use maillage::render::{Highlight, HighlightKind, MapOptions, Renderer};
    /// use maillage::{Analysis, Inputs};
    ///
    /// let analysis = Analysis::run(&Inputs::demo())?;
    /// let nice = analysis.communes.index_of("06088").unwrap();
    /// let svg = Renderer::new(&analysis)?
    ///     .with_highlights(vec![Highlight {
    ///         kind: HighlightKind::New,
    ///         label: "Nouvelles CPTS : 1".into(),
    ///         groups: vec![vec![nice]],
    ///     }])
    ///     .map_svg(&MapOptions::default())?;
    /// assert!(svg.contains(r#"class="highlight new""#) && svg.contains("Nouvelles CPTS : 1"));
    /// # Ok::<(), maillage::Error>(())
    /// ```
    pub fn with_highlights(mut self, highlights: Vec<Highlight>) -> Self {
        self.highlights = highlights;
        self
    }

    /// Changes the report offers to accept or reject one by one or all at once
    /// (a proposal's: see `Proposal::suggestions`); the map does not draw them.
    ///
    /// ```
    /// use maillage::render::{ReportOptions, Renderer, Suggestion};
    /// use maillage::{Analysis, Inputs};
    ///
    /// let analysis = Analysis::run(&Inputs::demo())?;
    /// let nice = analysis.communes.index_of("06088").unwrap();
    /// let html = Renderer::new(&analysis)?
    ///     .with_suggestions(vec![Suggestion {
    ///         commune: nice,
    ///         cpts_id: "NOUVELLE-06088".into(),
    ///         cpts_name: "Nouvelle CPTS Nice".into(),
    ///         reason: "zone blanche".into(),
    ///     }])
    ///     .report(&ReportOptions::default())?;
    /// assert!(html.contains(r#"id="suggestions""#));
    /// # Ok::<(), maillage::Error>(())
    /// ```
    pub fn with_suggestions(mut self, suggestions: Vec<Suggestion>) -> Self {
        self.suggestions = suggestions;
        self
    }

    /// The name a map of this analysis is titled with by default: its région's,
    /// or « France ».
    pub fn place(&self) -> String {
        self.place_name()
    }

    /// Adds a numeric column per commune (in commune order) that a choropleth can
    /// map by `name`, before the tables' columns: a score computed downstream of
    /// the analysis, say.
    ///
    /// # Errors
    /// [`Error::Input`] when `values` is not one per commune.
    pub fn with_column(mut self, name: &str, values: Vec<Option<f64>>) -> Result<Self> {
        if values.len() != self.analysis.communes.len() {
            return Err(Error::Input(format!(
                "column {name}: {} values for {} communes",
                values.len(),
                self.analysis.communes.len()
            )));
        }
        self.columns.push((name.to_owned(), values));
        Ok(self)
    }

    /// The analysis drawn.
    pub fn analysis(&self) -> &Analysis {
        self.analysis
    }

    /// The drawing at `width` pixels with details under `tolerance` pixels left
    /// out: made once, then shared.
    fn drawing(&self, width: u32, tolerance: f64) -> Result<Arc<Drawing>> {
        let key = (width, tolerance.to_bits());
        let mut cache = self.drawings.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, d)) = cache.iter().find(|(k, _)| *k == key) {
            return Ok(Arc::clone(d));
        }
        let timings = &self.analysis.timings;
        let (layout, arcs) =
            timings.time("draw arcs", || self.draw_arcs(f64::from(width), tolerance))?;
        let layers = timings.time("draw layers", || self.layers(&layout.placements, tolerance))?;
        let d = Arc::new(Drawing {
            layout,
            arcs,
            layers,
        });
        cache.push((key, Arc::clone(&d)));
        Ok(d)
    }

    /// The report's simplification: finer where there are few communes (a région,
    /// zoomed into), the map's for all of France (its size stays under 3 MB).
    fn report_tolerance(&self) -> f64 {
        if self.faces.len() <= report::DETAILED {
            0.2
        } else {
            map::TOLERANCE
        }
    }

    /// The faces standing for `communes` (positions), sorted, without repeats.
    fn faces_of(&self, communes: &[u32]) -> Vec<u32> {
        let mut f: Vec<u32> = communes
            .iter()
            .filter_map(|&i| self.face_of[i as usize])
            .collect();
        f.sort_unstable();
        f.dedup();
        f
    }

    /// The map as SVG and the same drawing as PNG (timed as `map`).
    ///
    /// # Errors
    /// [`Error::Input`] for options that cannot be drawn (an unknown or non-numeric
    /// choropleth column), or [`Error::Render`].
    pub fn map(&self, options: &MapOptions) -> Result<MapFiles> {
        let t = std::time::Instant::now();
        let svg = self.map_svg(options)?;
        let png = self
            .analysis
            .timings
            .time("map png", || png::rasterise(&svg))?;
        self.analysis.timings.record("map", t.elapsed());
        Ok(MapFiles { svg, png })
    }

    /// The report's page (timed as `report`).
    ///
    /// # Errors
    /// [`Error::Render`].
    pub fn report(&self, options: &ReportOptions) -> Result<String> {
        let t = std::time::Instant::now();
        let html = report::html(self, options)?;
        self.analysis.timings.record("report", t.elapsed());
        Ok(html)
    }

    /// Stages `map.svg` and `map.png` and/or `report.html` in `staging`. Both are
    /// made at once on two threads (rasterising and compressing are each mostly
    /// sequential), from one shared drawing when they are at the same scale.
    ///
    /// # Errors
    /// As [`Renderer::map`] and [`Renderer::report`], or [`Error::Io`].
    pub fn stage(
        &self,
        staging: &Staging,
        map: Option<&MapOptions>,
        report: Option<&ReportOptions>,
    ) -> Result<()> {
        // the drawings first, with every thread (a thread waiting on another's
        // drawing would take one from it)
        if let Some(o) = map {
            self.drawing(o.width, map::TOLERANCE)?;
        }
        if let Some(o) = report {
            self.drawing(o.width, self.report_tolerance())?;
        }
        let (map, report) = rayon::join(
            || map.map(|o| self.map(o)).transpose(),
            || report.map(|o| self.report(o)).transpose(),
        );
        let (map, report) = (map?, report?);
        let dir = staging.dir().to_owned();
        let mut files: Vec<(&str, &[u8])> = Vec::new();
        if let Some(m) = &map {
            files.push(("map.svg", m.svg.as_bytes()));
            files.push(("map.png", &m.png));
        }
        if let Some(r) = &report {
            files.push(("report.html", r.as_bytes()));
        }
        for (name, bytes) in files {
            staging.write(name, |w| {
                std::io::Write::write_all(w, bytes).map_err(|e| Error::io(dir.join(name), e))
            })?;
        }
        Ok(())
    }
}

/// The map's two files: the same drawing as SVG and as PNG.
#[derive(Debug, Clone)]
pub struct MapFiles {
    /// `map.svg`.
    pub svg: String,
    /// `map.png`, as wide as the SVG.
    pub png: Vec<u8>,
}

/// Escapes text for XML and HTML (`&`, `<`, `>`, `"`, `'`).
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A number the French way: thousands separated by a narrow no-break space.
pub(crate) fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3 * 3);
    for (k, ch) in s.chars().enumerate() {
        if k > 0 && (s.len() - k).is_multiple_of(3) {
            out.push('\u{202F}');
        }
        out.push(ch);
    }
    out
}

/// A decimal the French way (comma), with `digits` decimals.
pub(crate) fn decimal(x: f64, digits: usize) -> String {
    let s = format!("{:.*}", digits, x + 0.0);
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i.to_owned(), Some(f.to_owned())),
        None => (s, None),
    };
    let (sign, digits_part) = match int.strip_prefix('-') {
        Some(d) => ("-", d.to_owned()),
        None => ("", int),
    };
    let grouped = digits_part
        .parse::<u64>()
        .map(thousands)
        .unwrap_or(digits_part);
    match frac {
        Some(f) => format!("{sign}{grouped},{f}"),
        None => format!("{sign}{grouped}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_numbers() {
        assert_eq!(thousands(4_457_116), "4\u{202F}457\u{202F}116");
        assert_eq!(thousands(999), "999");
        assert_eq!(decimal(1234.5, 1), "1\u{202F}234,5");
        assert_eq!(decimal(-0.25, 2), "-0,25");
        assert_eq!(decimal(-0.0, 1), "0,0");
        assert_eq!(
            escape(r#"a<b & "c" 'd'"#),
            "a&lt;b &amp; &quot;c&quot; &#39;d&#39;"
        );
    }
}
