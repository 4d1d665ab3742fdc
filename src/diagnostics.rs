//! Findings about the inputs that do not stop the run: they are values of the
//! report (`summary.json` → `diagnostics`), never silent drops.

use serde::Serialize;

use crate::lang::Lang;

/// What kind of finding a [`Diagnostic`] is. Serialised in `snake_case`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DiagnosticKind {
    /// A commune ring was not closed; maillage closed it.
    RepairedRing,
    /// A commune ring crosses or touches itself (as the source draws it): kept as
    /// given, its area and overlay by the non-zero rule; named with the point.
    SelfIntersectingRing,
    /// A declared code in neither the commune layer nor the bundled COG; the claim is ignored.
    UnknownCode,
    /// A CPTS has no commune of the layer (no row with a code, or only unknown codes).
    EmptyCpts,
    /// One CPTS id appears with two or more names; the most frequent is kept.
    ConflictingName,
    /// One CPTS id appears with two or more statuses; the most frequent is kept.
    ConflictingStatus,
    /// A status value outside `projet`, `valide`, `aci_signe`; read as unknown.
    UnknownStatus,
    /// The same (CPTS, commune) pair declared more than once; it counts once.
    DuplicateRow,
    /// A declaration row without CPTS id; the row is ignored.
    MissingCptsId,
    /// A declaration row naming a CPTS but no commune code (an empty cell, or a
    /// spreadsheet error such as `#N/A` is reported as an unknown code instead).
    MissingCode,
    /// Communes with no population in any source, the bundled COG included (counted as 0).
    MissingPopulation,
    /// Rows of the population table whose code is not in the commune layer.
    UnusedPopulation,
    /// A CPTS territory made of several separate parts (non-contiguous).
    NonContiguous,
    /// Drawn territories repaired without ambiguity: rings closed, repeated points
    /// dropped, rings re-oriented.
    RepairedGeometry,
    /// A drawn territory feature that could not be used (no id, self-intersecting
    /// ring, hole outside its shell, not longitude/latitude…); it is ignored.
    RejectedFeature,
    /// One CPTS drawn in several features; their union is its territory.
    MergedFeatures,
    /// One CPTS id declared in two sources; the first declaration is kept.
    DeclaredTwice,
    /// An explicit study area (`--area`) selected the communes analysed.
    StudyArea,
    /// How a CSV file was read: encoding, separator, column names.
    InputFormat,
    /// Commune codes made whole again (lost leading zero, `2a`, spaces, `.0`).
    NormalizedCode,
    /// Statuses written in words, read as the canonical ones.
    NormalizedStatus,
    /// The vintage (year of the Code officiel géographique) each input was read in,
    /// and the one they were reconciled onto.
    Vintage,
    /// A declared code of a former commune (merged since) read as the current commune
    /// that absorbed it.
    MergedCode,
    /// A declared current code standing for several communes of an older layer (a
    /// commune nouvelle and the former communes it absorbed).
    ExpandedCode,
    /// Communes of the layer whose code is in no COG 2026 entry (merged without
    /// leaving a delegated commune, or unknown): only their own code can claim them.
    ObsoleteLayerCode,
    /// A declared code known to the COG but absent from the commune layer (outside
    /// the area loaded, or a commune without geometry); the claim is ignored.
    OutsideLayer,
    /// Arrondissements municipaux analysed without geometry (the layer has only the
    /// whole commune), or a whole commune read as its arrondissements.
    Arrondissements,
    /// Population figures taken from the bundled COG 2026 where no other source had them.
    PopulationSource,
    /// Accessibility: supply rows or points, locations or cost pairs naming no
    /// commune of the layer (outside the area loaded); left out.
    AccessOutsideLayer,
    /// Accessibility: a commune on several rows of the supply table; its supply is
    /// the sum.
    SummedSupply,
    /// Accessibility: communes located otherwise than at their own centroid (a
    /// city's arrondissements, communes missing from `--points`), or not located
    /// at all (no score).
    NoLocation,
    /// Accessibility: pairs a commune-to-itself added at cost 0 to a matrix that
    /// lacked them, pairs repeated with the same cost counted once, pairs beyond the
    /// maximum cost left out.
    CostPairs,
    /// Accessibility: supply that no inhabitant can reach (every origin within the
    /// maximum cost has no population): it counts in no score.
    UnreachedSupply,
    /// Accessibility: the scores are far from what the method's unit allows (APL
    /// on a supply in FTE rather than consultations): the threshold does not apply.
    AccessUnits,
}

/// One finding, with the subject it is about.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    /// What kind of finding.
    pub kind: DiagnosticKind,
    /// A sentence for people, naming the file and lines where it applies: in
    /// French unless [`Diagnostic::in_lang`] chose English.
    pub message: String,
    /// The sentence in French.
    #[serde(skip)]
    pub message_fr: String,
    /// The sentence in English.
    #[serde(skip)]
    pub message_en: String,
    /// The CPTS concerned, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpts_id: Option<String>,
    /// The commune codes concerned (sorted), if any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub codes: Vec<String>,
    /// The input lines concerned (1-based, header = line 1), if any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<u64>,
}

impl DiagnosticKind {
    /// False for findings that only say how the inputs were read (`vintage`,
    /// `input_format`, `study_area`) or describe a territory (`non_contiguous`);
    /// true for every normalisation and every problem — what `--strict` refuses.
    pub fn is_problem(self) -> bool {
        !matches!(
            self,
            DiagnosticKind::Vintage
                | DiagnosticKind::InputFormat
                | DiagnosticKind::StudyArea
                | DiagnosticKind::NonContiguous
        )
    }

    /// The `snake_case` name used in files.
    pub fn name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

/// The content of `diagnostics.json`: counts by kind, then every diagnostic.
#[derive(Debug, Clone, Serialize)]
pub struct Report<'a> {
    /// Number of diagnostics.
    pub count: usize,
    /// Number of them that `--strict` refuses ([`DiagnosticKind::is_problem`]).
    pub problems: usize,
    /// Count of each kind present.
    pub by_kind: std::collections::BTreeMap<String, usize>,
    /// Every diagnostic, in report order.
    pub diagnostics: &'a [Diagnostic],
}

impl<'a> Report<'a> {
    /// Counts the diagnostics.
    pub fn new(diagnostics: &'a [Diagnostic]) -> Self {
        let mut by_kind = std::collections::BTreeMap::new();
        for d in diagnostics {
            *by_kind.entry(d.kind.name()).or_insert(0) += 1;
        }
        Report {
            count: diagnostics.len(),
            problems: diagnostics.iter().filter(|d| d.kind.is_problem()).count(),
            by_kind,
            diagnostics,
        }
    }
}

impl Report<'_> {
    /// The terminal text: counts by kind, then at most `max` diagnostics and how
    /// many more `diagnostics.json` holds (in French).
    pub fn text(&self, max: usize) -> String {
        self.text_in(Lang::Fr, max)
    }

    /// [`Report::text`] in `lang` (the diagnostics are shown as they are: make
    /// them with [`Diagnostic::in_lang`]).
    pub fn text_in(&self, lang: Lang, max: usize) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let kinds: Vec<String> = self
            .by_kind
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        let colon = lang.pick(" : ", ": ");
        let _ = writeln!(
            out,
            "diagnostics{colon}{} ({}){}{}",
            self.count,
            lang.count(
                self.problems as u64,
                lang.pick("normalisation ou problème", "normalisation or problem"),
                lang.pick("normalisations ou problèmes", "normalisations or problems"),
            ),
            if kinds.is_empty() { "" } else { colon },
            kinds.join(", ")
        );
        for d in self.diagnostics.iter().take(max) {
            let _ = writeln!(out, "  [{}] {}", d.kind.name(), d.message);
        }
        if self.diagnostics.len() > max {
            let _ = writeln!(
                out,
                "{}",
                lang.pick(
                    format!(
                        "  … et {} autres dans diagnostics.json",
                        self.diagnostics.len() - max
                    ),
                    format!(
                        "  … {} more in diagnostics.json",
                        self.diagnostics.len() - max
                    )
                )
            );
        }
        out
    }
}

impl Diagnostic {
    /// A finding, its sentence in French and in English.
    pub(crate) fn new(kind: DiagnosticKind, fr: impl Into<String>, en: impl Into<String>) -> Self {
        let fr = fr.into();
        Diagnostic {
            kind,
            message: fr.clone(),
            message_fr: fr,
            message_en: en.into(),
            cpts_id: None,
            codes: Vec::new(),
            lines: Vec::new(),
        }
    }

    /// The diagnostic with its message in `lang` (French as made; English on
    /// request), as `summary.json`, `diagnostics.json` and the terminal show it.
    ///
    /// ```
    /// use maillage::{Analysis, Inputs, Lang};
    /// let a = Analysis::run(&Inputs::demo())?;
    /// let d = &a.summary.diagnostics[0];
    /// let en = d.clone().in_lang(Lang::En);
    /// assert_ne!(en.message, d.message);
    /// assert_eq!(en.clone().in_lang(Lang::En).message, en.message);
    /// assert_eq!(en.in_lang(Lang::Fr).message, d.message);
    /// # Ok::<(), maillage::Error>(())
    /// ```
    pub fn in_lang(mut self, lang: Lang) -> Self {
        let text = lang.pick(&self.message_fr, &self.message_en);
        if !text.is_empty() {
            self.message = text.clone();
        }
        self
    }

    /// How `file` was read (a reader's notes: encoding, separator, columns), as
    /// one `input_format` finding in both languages; none without notes.
    pub(crate) fn reading(file: impl std::fmt::Display, notes: &[String]) -> Option<Self> {
        (!notes.is_empty()).then(|| {
            Diagnostic::new(
                DiagnosticKind::InputFormat,
                format!("{file} : {}", notes.join(" ; ")),
                format!("{file}: {}", notes_en(notes)),
            )
        })
    }

    pub(crate) fn cpts(mut self, id: &str) -> Self {
        self.cpts_id = Some(id.to_owned());
        self
    }

    pub(crate) fn codes(mut self, codes: Vec<String>) -> Self {
        self.codes = codes;
        self
    }

    pub(crate) fn lines(mut self, lines: Vec<u64>) -> Self {
        self.lines = lines;
        self
    }
}

/// Shows at most `n` items of a list, then `… (N en tout)`.
pub(crate) fn sample<T: std::fmt::Display>(items: &[T], n: usize) -> String {
    sample_in(Lang::Fr, items, n)
}

/// A list made for a French message (« 04001 (ligne 3) ») in English.
pub(crate) fn items_en(s: &str) -> String {
    s.replace("ligne", "line")
}

/// Notes of a reader (French) in English, joined as a sentence.
fn notes_en(notes: &[String]) -> String {
    notes
        .iter()
        .map(|n| crate::lang::note_en(n))
        .collect::<Vec<_>>()
        .join("; ")
}

/// [`sample`] in English: `… (N in all)`.
pub(crate) fn sample_en<T: std::fmt::Display>(items: &[T], n: usize) -> String {
    sample_in(Lang::En, items, n)
}

fn sample_in<T: std::fmt::Display>(lang: Lang, items: &[T], n: usize) -> String {
    let shown: Vec<String> = items.iter().take(n).map(|x| x.to_string()).collect();
    if items.len() > n {
        let all = lang.pick("en tout", "in all");
        format!("{}, … ({} {all})", shown.join(", "), items.len())
    } else {
        shown.join(", ")
    }
}
