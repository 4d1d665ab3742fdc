//! CPTS declarations as commune lists: a CSV (plain or gzip) with one row per
//! (CPTS, commune), header `cpts_id,cpts_name,commune_code[,status]`.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use serde::Serialize;

use super::source::Source;
use super::spreadsheet::TableOptions;
use super::table::{any_of, never, Field, COMMUNE_CODE};
use crate::diagnostics::{items_en, sample, sample_en, Diagnostic, DiagnosticKind};
use crate::error::Result;

/// Where a CPTS stands in its life: *projet* (letter of intent), *projet de santé
/// validé* by the ARS, then *ACI signé* (the interprofessional agreement that funds it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// `projet`: a project, not yet validated.
    Projet,
    /// `valide`: its *projet de santé* has been validated by the ARS.
    Valide,
    /// `aci_signe`: it has signed the ACI (accord conventionnel interprofessionnel).
    AciSigne,
}

impl Status {
    /// Every status, in life order.
    pub const ALL: [Status; 3] = [Status::Projet, Status::Valide, Status::AciSigne];

    /// The canonical spelling used in files: `projet`, `valide`, `aci_signe`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Projet => "projet",
            Status::Valide => "valide",
            Status::AciSigne => "aci_signe",
        }
    }

    /// Reads a canonical spelling (case and surrounding spaces ignored).
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL
            .into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// Reads a status as people write it: the canonical spellings, or `ACI signé`,
    /// `contrat signé`, `Projet de santé validé`, `PS validé`, `lettre d'intention`,
    /// `en projet`… (case, accents and punctuation ignored).
    ///
    /// # Examples
    /// ```
    /// use maillage::Status;
    /// assert_eq!(Status::from_label("ACI signé"), Some(Status::AciSigne));
    /// assert_eq!(Status::from_label("Projet de santé validé"), Some(Status::Valide));
    /// assert_eq!(Status::from_label("Lettre d'intention"), Some(Status::Projet));
    /// assert_eq!(Status::from_label("en attente"), None);
    /// ```
    pub fn from_label(s: &str) -> Option<Status> {
        if let Some(st) = Status::parse(s) {
            return Some(st);
        }
        match super::table::fold(s).as_str() {
            "acisigne" | "aci" | "acisignee" | "contratsigne" | "signe" | "signee"
            | "contractualise" | "contractualisee" => Some(Status::AciSigne),
            "valide"
            | "validee"
            | "projetdesantevalide"
            | "projetsantevalide"
            | "psvalide"
            | "psv" => Some(Status::Valide),
            "projet" | "enprojet" | "lettredintention" | "lettreintention" | "preprojet"
            | "emergence" | "enconstruction" => Some(Status::Projet),
            _ => None,
        }
    }
}

/// One declared commune of a CPTS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The INSEE code as declared.
    pub code: String,
    /// The first line declaring it (1-based, the header is line 1).
    pub line: u64,
}

/// A CPTS as declared.
#[derive(Debug, Clone, PartialEq)]
pub struct Cpts {
    /// Its identifier, unique in the declarations.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its status, `None` when not given or not recognised.
    pub status: Option<Status>,
    /// The communes it declares, sorted by code, each once (empty when drawn).
    pub claims: Vec<Claim>,
    /// Its outline when it is declared as a drawn territory instead of a list.
    pub drawn: Option<geo::MultiPolygon<f64>>,
    /// Which declaration source it came from (index in the sources given to
    /// [`load_cpts`](crate::load::load_cpts); 0 for a single file).
    pub file: usize,
}

/// All CPTS declarations, sorted by CPTS id.
#[derive(Debug, Clone)]
pub struct Declarations {
    /// The file they came from.
    pub source: PathBuf,
    /// The CPTS, sorted by id.
    pub cpts: Vec<Cpts>,
    /// What was odd in the file: duplicates, conflicting names or statuses, unknown statuses.
    pub diagnostics: Vec<Diagnostic>,
}

/// Reads declarations from CSV.
///
/// Columns are found by name (case, accents and punctuation ignored), by an alias
/// (`Code INSEE`, `N° CPTS`…) or by the words of the header (`Code commune INSEE`,
/// `Nom de la CPTS`): `commune_code` is required, with `cpts_id` or `cpts_name` (one
/// stands for the other when alone); `status` is optional. Blank lines are skipped.
///
/// # Errors
/// [`Error::Csv`](crate::Error::Csv) naming the file and line when a required column is
/// missing or two columns could be it, or a row has the wrong number of fields.
///
/// # Performance
/// O(rows); the national set (33 k rows) reads in a few milliseconds.
pub fn load_declarations(source: &Source) -> Result<Declarations> {
    load_declarations_with(source, &TableOptions::default())
}

/// The CPTS's identifier: `Identifiant CPTS`, `N° CPTS`, `Code de la CPTS`…
const CPTS_ID: Field = Field {
    name: "cpts_id",
    aliases: &[
        "id",
        "identifiant",
        "id cpts",
        "identifiant cpts",
        "code cpts",
    ],
    rule: |w| {
        any_of(w, &["cpts"])
            && any_of(
                w,
                &[
                    "id",
                    "identifiant",
                    "code",
                    "n",
                    "no",
                    "num",
                    "numero",
                    "ref",
                    "reference",
                    "finess",
                    "siret",
                    "siren",
                    "matricule",
                ],
            )
    },
    prefer: &[],
    loose: never,
    value: never,
};

/// The CPTS's name: `Nom de la CPTS`, `Libellé CPTS`, `CPTS`…
const CPTS_NAME: Field = Field {
    name: "cpts_name",
    aliases: &[
        "cpts",
        "nom cpts",
        "name",
        "nom",
        "libelle",
        "denomination",
        "intitule",
    ],
    rule: |w| {
        any_of(w, &["cpts"])
            && any_of(
                w,
                &[
                    "nom",
                    "name",
                    "libelle",
                    "denomination",
                    "intitule",
                    "raison",
                ],
            )
    },
    prefer: &[],
    loose: never,
    value: never,
};

/// The CPTS's stage: `Statut`, `État d'avancement`, `Stade`… but not its legal form
/// (`Statut juridique`).
const STATUS: Field = Field {
    name: "status",
    aliases: &["statut", "etat", "statut cpts"],
    rule: |w| {
        any_of(
            w,
            &[
                "statut",
                "status",
                "etat",
                "avancement",
                "stade",
                "phase",
                "etape",
            ],
        ) && !any_of(w, &["juridique", "legal", "forme", "commune"])
    },
    prefer: &[],
    loose: never,
    value: never,
};

/// [`load_declarations`] with options: the workbook sheet to read (`.xlsx`, `.xls`,
/// `.ods` are read directly) and column names given by the user.
///
/// # Errors
/// As [`load_declarations`]; also a missing sheet or an unreadable workbook.
pub fn load_declarations_with(source: &Source, options: &TableOptions) -> Result<Declarations> {
    let path = source.name.clone();
    let mut table = super::spreadsheet::open_table(source, options)?;
    let (c_id, c_name, c_code, c_status) = table.header(
        "commune_code and cpts_id or cpts_name (status optional)",
        |t| {
            let code = t.column(&COMMUNE_CODE)?;
            let (id, name) = match (t.column(&CPTS_ID), t.column(&CPTS_NAME)) {
                (Some(id), Some(name)) => (id, name),
                (Some(id), None) => {
                    t.notes
                        .push("pas de colonne de nom de CPTS : chaque CPTS est nommée par son identifiant".into());
                    (id, id)
                }
                (None, Some(name)) => {
                    t.notes
                        .push("pas de colonne d'identifiant de CPTS : chaque CPTS est identifiée par son nom".into());
                    (name, name)
                }
                (None, None) => return None,
            };
            let status = t.column(&STATUS);
            if status.is_none() {
                let ambiguous = t.ambiguities().to_vec();
                t.notes.extend(ambiguous.into_iter().map(|a| {
                    format!("{a} : aucun statut lu (nommer la colonne avec --columns status=EN-TÊTE)")
                }));
            }
            Some((id, name, code, status))
        },
    )?;
    let mut normalized: BTreeMap<&'static str, Vec<(String, String, u64)>> = BTreeMap::new();
    let mut mapped_status: BTreeMap<(String, Status), usize> = BTreeMap::new();

    struct Acc {
        names: BTreeMap<String, usize>,
        statuses: BTreeMap<Status, usize>,
        claims: BTreeMap<String, u64>,
    }
    let mut by_id: HashMap<String, Acc> = HashMap::new();
    let mut duplicates: Vec<(String, String, u64)> = Vec::new();
    let mut unknown_status: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let mut missing_id: Vec<u64> = Vec::new();
    let mut missing_code: Vec<u64> = Vec::new();
    let mut record = csv::StringRecord::new();
    while let Some(line) = table.next(&mut record)? {
        let get = |i: usize| record.get(i).unwrap_or("").trim();
        let id = get(c_id);
        if id.is_empty() {
            if record.iter().any(|f| !f.trim().is_empty()) {
                missing_id.push(line);
            }
            continue;
        }
        let acc = by_id.entry(id.to_owned()).or_insert_with(|| Acc {
            names: BTreeMap::new(),
            statuses: BTreeMap::new(),
            claims: BTreeMap::new(),
        });
        *acc.names.entry(get(c_name).to_owned()).or_default() += 1;
        if let Some(raw) = c_status.map(get).filter(|s| !s.is_empty()) {
            match Status::from_label(raw) {
                Some(st) => {
                    *acc.statuses.entry(st).or_default() += 1;
                    if Status::parse(raw).is_none() {
                        *mapped_status.entry((raw.to_owned(), st)).or_default() += 1;
                    }
                }
                None => unknown_status.entry(raw.to_owned()).or_default().push(line),
            }
        }
        let cell = get(c_code);
        if cell.is_empty() {
            missing_code.push(line);
        }
        let (pieces, how) = match super::table::split_codes(cell) {
            Some((pieces, how)) => (pieces, Some(how)),
            None => (vec![cell], None),
        };
        if let Some(how) = how {
            normalized
                .entry(how)
                .or_default()
                .push((cell.to_owned(), pieces.join("+"), line));
        }
        for piece in pieces {
            let (code, why) = super::table::normalize_code(piece);
            if let Some(why) = why {
                normalized
                    .entry(why)
                    .or_default()
                    .push((piece.to_owned(), code.clone(), line));
            }
            let code = code.as_str();
            if !code.is_empty() {
                if acc.claims.contains_key(code) {
                    duplicates.push((id.to_owned(), code.to_owned(), line));
                } else {
                    acc.claims.insert(code.to_owned(), line);
                }
            }
        }
    }

    let name = path.display();
    let mut diagnostics = Vec::new();
    diagnostics.extend(Diagnostic::reading(&name, &table.notes));
    for (why, changes) in normalized {
        let examples: Vec<String> = changes
            .iter()
            .map(|(from, to, l)| format!("{from:?} → {to} (ligne {l})"))
            .collect();
        diagnostics.push(
            Diagnostic::new(
                DiagnosticKind::NormalizedCode,
                format!(
                    "{name} : codes normalisés ({}), {why} : {}",
                    changes.len(),
                    sample(&examples, 4)
                ),
                format!(
                    "{name}: {} code(s) normalised, {}: {}",
                    changes.len(),
                    crate::lang::note_en(why),
                    items_en(&sample_en(&examples, 4))
                ),
            )
            .lines(changes.iter().map(|c| c.2).collect()),
        );
    }
    if !mapped_status.is_empty() {
        let shown: Vec<String> = mapped_status
            .iter()
            .map(|((raw, st), n)| format!("{raw:?} → {} ({n} lignes)", st.as_str()))
            .collect();
        diagnostics.push(Diagnostic::new(
            DiagnosticKind::NormalizedStatus,
            format!("{name} : statuts lus comme : {}", shown.join(", ")),
            format!(
                "{name}: statuses read as: {}",
                items_en(&shown.join(", ")).replace("lines)", "row(s))")
            ),
        ));
    }
    let mut cpts = Vec::with_capacity(by_id.len());
    for (id, acc) in by_id {
        let pick_name = most_frequent(&acc.names).cloned().unwrap_or_default();
        if acc.names.len() > 1 {
            let variants: Vec<&String> = acc.names.keys().collect();
            diagnostics.push(
                Diagnostic::new(
                    DiagnosticKind::ConflictingName,
                    format!(
                        "{name} : la CPTS {id} a {} noms ({}) ; gardé : {pick_name:?}",
                        variants.len(),
                        sample(&variants, 4)
                    ),
                    format!(
                        "{name}: CPTS {id} has {} names ({}); kept {pick_name:?}",
                        variants.len(),
                        sample_en(&variants, 4)
                    ),
                )
                .cpts(&id),
            );
        }
        let status = most_frequent(&acc.statuses).copied();
        if acc.statuses.len() > 1 {
            let variants: Vec<&str> = acc.statuses.keys().map(|s| s.as_str()).collect();
            diagnostics.push(
                Diagnostic::new(
                    DiagnosticKind::ConflictingStatus,
                    format!(
                        "{name} : la CPTS {id} a {} statuts ({}) ; gardé : {}",
                        variants.len(),
                        variants.join(", "),
                        status.map_or("", |s| s.as_str())
                    ),
                    format!(
                        "{name}: CPTS {id} has {} statuses ({}); kept {}",
                        variants.len(),
                        variants.join(", "),
                        status.map_or("", |s| s.as_str())
                    ),
                )
                .cpts(&id),
            );
        }
        cpts.push(Cpts {
            id,
            name: pick_name,
            status,
            claims: acc
                .claims
                .into_iter()
                .map(|(code, line)| Claim { code, line })
                .collect(),
            drawn: None,
            file: 0,
        });
    }
    cpts.sort_unstable_by(|a, b| a.id.cmp(&b.id));

    for (raw, lines) in unknown_status {
        diagnostics.push(
            Diagnostic::new(
                DiagnosticKind::UnknownStatus,
                format!(
                    "{name} : le statut {raw:?} n'est ni projet, ni valide, ni aci_signe (ligne {}) ; lu comme inconnu",
                    sample(&lines, 5)
                ),
                format!(
                    "{name}: status {raw:?} is not one of projet, valide, aci_signe (line {}); read as unknown",
                    sample_en(&lines, 5)
                ),
            )
            .lines(lines),
        );
    }
    if !duplicates.is_empty() {
        duplicates.sort();
        let lines: Vec<u64> = duplicates.iter().map(|d| d.2).collect();
        let examples: Vec<String> = duplicates
            .iter()
            .map(|(i, c, l)| format!("{i}/{c} ligne {l}"))
            .collect();
        diagnostics.push(
            Diagnostic::new(
                DiagnosticKind::DuplicateRow,
                format!(
                    "{name} : lignes (CPTS, commune) en double, chacune comptée une fois ({}) : {}",
                    duplicates.len(),
                    sample(&examples, 5)
                ),
                format!(
                    "{name}: {} duplicate (CPTS, commune) row(s), each counted once: {}",
                    duplicates.len(),
                    items_en(&sample_en(&examples, 5))
                ),
            )
            .lines(lines),
        );
    }
    if !missing_id.is_empty() {
        diagnostics.push(
            Diagnostic::new(
                DiagnosticKind::MissingCptsId,
                format!(
                    "{name} : lignes sans cpts_id, ignorées ({}) : ligne {}",
                    missing_id.len(),
                    sample(&missing_id, 5)
                ),
                format!(
                    "{name}: {} row(s) without cpts_id ignored: line {}",
                    missing_id.len(),
                    sample_en(&missing_id, 5)
                ),
            )
            .lines(missing_id),
        );
    }
    if !missing_code.is_empty() {
        diagnostics.push(
            Diagnostic::new(
                DiagnosticKind::MissingCode,
                format!(
                    "{name} : lignes qui nomment une CPTS sans code de commune, ignorées ({}) : ligne {}",
                    missing_code.len(),
                    sample(&missing_code, 5)
                ),
                format!(
                    "{name}: {} row(s) name a CPTS but no commune code, ignored: line {}",
                    missing_code.len(),
                    sample_en(&missing_code, 5)
                ),
            )
            .lines(missing_code),
        );
    }
    diagnostics
        .sort_by(|a, b| (a.kind, &a.cpts_id, &a.message).cmp(&(b.kind, &b.cpts_id, &b.message)));
    Ok(Declarations {
        source: path,
        cpts,
        diagnostics,
    })
}

/// The key seen most often; ties go to the smallest key, so the pick never
/// depends on row order.
fn most_frequent<K: Ord>(counts: &BTreeMap<K, usize>) -> Option<&K> {
    let best = counts.values().copied().max()?;
    counts.iter().find(|(_, n)| **n == best).map(|(k, _)| k)
}
