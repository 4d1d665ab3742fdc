//! The language of the text people read: reasons, flags' labels, terminal
//! summaries. French by default (the planners are French), English on request
//! (`--lang en`). Column names and JSON keys are a stable contract and stay in
//! snake_case English whatever the language.

use std::fmt;
use std::str::FromStr;

/// French or English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Lang {
    /// Français (the default).
    #[default]
    Fr,
    /// English.
    En,
}

impl Lang {
    /// The French or the English text.
    pub fn pick<T>(self, fr: T, en: T) -> T {
        match self {
            Lang::Fr => fr,
            Lang::En => en,
        }
    }

    /// A count and its noun, agreed: in French 0 and 1 take the singular
    /// (« 0 commune », « 1 commune », « 2 communes »), in English only 1.
    ///
    /// ```
    /// use maillage::Lang;
    /// assert_eq!(Lang::Fr.count(1, "commune", "communes"), "1 commune");
    /// assert_eq!(Lang::Fr.count(0, "commune", "communes"), "0 commune");
    /// assert_eq!(Lang::En.count(0, "commune", "communes"), "0 communes");
    /// assert_eq!(Lang::Fr.count(12_345, "habitant", "habitants"), "12\u{202F}345 habitants");
    /// ```
    pub fn count(self, n: u64, singular: &str, plural: &str) -> String {
        let noun = match self {
            Lang::Fr if n <= 1 => singular,
            Lang::En if n == 1 => singular,
            _ => plural,
        };
        format!("{} {noun}", self.int(n))
    }

    /// An integer: grouped by a narrow no-break space in French, by commas in
    /// English.
    pub fn int(self, n: u64) -> String {
        let s = n.to_string();
        let sep = self.pick('\u{202F}', ',');
        let mut out = String::with_capacity(s.len() + s.len() / 3 * 3);
        for (k, ch) in s.chars().enumerate() {
            if k > 0 && (s.len() - k).is_multiple_of(3) {
                out.push(sep);
            }
            out.push(ch);
        }
        out
    }

    /// A decimal with `digits` decimals: a comma in French.
    pub fn decimal(self, x: f64, digits: usize) -> String {
        let s = format!("{:.*}", digits, x + 0.0);
        match self {
            Lang::Fr => s.replace('.', ","),
            Lang::En => s,
        }
    }

    /// A date `YYYY-MM-DD` as people read it: « 6 décembre 2026 », or « 6 December
    /// 2026 »; anything else is returned as it is.
    ///
    /// ```
    /// use maillage::Lang;
    /// assert_eq!(Lang::Fr.date("2026-12-06"), "6 décembre 2026");
    /// assert_eq!(Lang::Fr.date("2026-01-01"), "1er janvier 2026");
    /// assert_eq!(Lang::En.date("2026-12-06"), "6 December 2026");
    /// assert_eq!(Lang::Fr.date("décembre"), "décembre");
    /// ```
    pub fn date(self, iso: &str) -> String {
        const FR: [&str; 12] = [
            "janvier",
            "février",
            "mars",
            "avril",
            "mai",
            "juin",
            "juillet",
            "août",
            "septembre",
            "octobre",
            "novembre",
            "décembre",
        ];
        const EN: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        let parts: Vec<&str> = iso.split('-').collect();
        let (Some(y), Some(m), Some(d)) = (
            parts.first().and_then(|y| y.parse::<u32>().ok()),
            parts.get(1).and_then(|m| m.parse::<usize>().ok()),
            parts.get(2).and_then(|d| d.parse::<u32>().ok()),
        ) else {
            return iso.to_owned();
        };
        if parts.len() != 3 || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
            return iso.to_owned();
        }
        match self {
            Lang::Fr if d == 1 => format!("1er {} {y}", FR[m - 1]),
            Lang::Fr => format!("{d} {} {y}", FR[m - 1]),
            Lang::En => format!("{d} {} {y}", EN[m - 1]),
        }
    }

    /// The code on the command line: `fr` or `en`.
    pub fn as_str(self) -> &'static str {
        self.pick("fr", "en")
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Lang {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Lang> {
        match s.to_ascii_lowercase().as_str() {
            "fr" | "français" | "francais" => Ok(Lang::Fr),
            "en" | "english" => Ok(Lang::En),
            other => Err(crate::Error::Input(format!("language {other:?}: fr or en"))),
        }
    }
}

/// The notes the table readers make (French), with their English: `{}` stands
/// for a part carried over as it is (a column name, a separator, a line).
const NOTES: &[(&str, &str)] = &[
    ("pas en UTF-8 : décodé en Windows-1252", "not UTF-8: decoded as Windows-1252"),
    ("séparateur {} détecté", "separator {} detected"),
    ("en-tête trouvé ligne {}", "header found on line {}"),
    ("colonne {} lue comme {} (--columns)", "column {} read as {} (--columns)"),
    (
        "colonne {} lue comme {} (ses valeurs sont des codes)",
        "column {} read as {} (its values are codes)",
    ),
    ("colonne {} lue comme {}", "column {} read as {}"),
    ("--columns : aucune colonne {} pour {}", "--columns: no column {} for {}"),
    (
        "classeur : première feuille {} lue sur {} ({}) ; en choisir une autre avec --sheet ; les numéros de ligne sont ceux de la feuille",
        "workbook: read its first sheet {} of {} ({}); choose another with --sheet; line numbers are sheet rows",
    ),
    (
        "classeur : feuille {} lue ; les numéros de ligne sont ceux de la feuille",
        "workbook: read sheet {}; line numbers are sheet rows",
    ),
    (
        "pas de colonne de nom de CPTS : chaque CPTS est nommée par son identifiant",
        "no CPTS name column: each CPTS is named by its id",
    ),
    (
        "pas de colonne d'identifiant de CPTS : chaque CPTS est identifiée par son nom",
        "no CPTS id column: each CPTS is identified by its name",
    ),
    (
        "{} : aucun statut lu (nommer la colonne avec --columns status=EN-TÊTE)",
        "{}: no status read (name one with --columns status=HEADER)",
    ),
    ("demande = {}", "demand = {}"),
    (
        "temps de trajet par la route : {} routes, {} nœuds ({} dans la plus grande partie fortement connexe), vitesses par classe de route, zones à moins de {} min de {} communes dotées d'offre",
        "travel times by road: {} roads, {} nodes ({} in the largest strongly connected part), speeds by road class, catchments within {} min of {} communes with supply",
    ),
    (
        "{} communes placées sur le réseau : à {} m de leur nœud en médiane, {} m au plus",
        "{} communes snapped to the network: median {} m from their node, at most {} m",
    ),
    ("espaces retirées", "spaces removed"),
    ("décimale .0 retirée", "decimal .0 dropped"),
    ("mis en majuscules", "upper-cased"),
    ("zéro initial perdu rétabli", "lost leading zero restored"),
    ("plusieurs codes dans une cellule, séparés", "several codes in one cell, split"),
    ("nom après le code retiré", "name after the code dropped"),
];

/// The descriptions of an accessibility run (`summary.json`'s `access` values,
/// English) as the French terminal shows them.
const ACCESS: &[(&str, &str)] = &[
    (
        "centroïdes des communes en Lambert-93 (outre-mer : UTM locale)",
        "centroids of the communes in Lambert-93 (overseas: local UTM)",
    ),
    (
        "distance à vol d'oiseau, mètres",
        "straight-line distance, metres",
    ),
    (
        "distance à vol d'oiseau à {} km/h, en minutes (une hypothèse)",
        "straight-line distance at {} km/h, in minutes (an assumption)",
    ),
    ("matrice {}", "matrix {}"),
    (
        "temps de trajet par la route, {}",
        "travel times by road, {}",
    ),
    ("les codes de la matrice", "the matrix's codes"),
    (
        "offre par habitant à portée",
        "supply per inhabitant within reach",
    ),
    (
        "offre pondérée à portée (sans concurrence)",
        "weighted supply within reach (no competition)",
    ),
    (
        "offre par habitant et par an (consultations, ou ETP tels que donnés)",
        "supply per inhabitant per year (consultations, or FTE as given)",
    ),
    ("demande {}", "demand {}"),
];

/// An accessibility description (English, as `summary.json` has it) in French.
pub(crate) fn access_fr(text: &str) -> String {
    translate(ACCESS, text, true)
}

/// A note of the table readers, or a code repair's reason, in English (as it
/// is when maillage does not know it).
pub(crate) fn note_en(note: &str) -> String {
    translate(NOTES, note, false)
}

/// `text` matched against one side of `table` and written with the other
/// (`to_first`: English → French); as it is when no pattern matches.
fn translate(table: &[(&str, &str)], text: &str, to_first: bool) -> String {
    table
        .iter()
        .map(|&(fr, en)| if to_first { (en, fr) } else { (fr, en) })
        .find_map(|(fr, en)| {
            let parts = fill_parts(fr, text)?;
            let mut out = String::new();
            let mut pieces = en.split("{}");
            out.push_str(pieces.next().unwrap_or(""));
            for (piece, part) in pieces.zip(parts) {
                out.push_str(part);
                out.push_str(piece);
            }
            Some(out)
        })
        .unwrap_or_else(|| text.to_owned())
}

/// The parts of `text` standing for each `{}` of `pattern`, when it matches.
fn fill_parts<'a>(pattern: &str, text: &'a str) -> Option<Vec<&'a str>> {
    let literals: Vec<&str> = pattern.split("{}").collect();
    let mut rest = text.strip_prefix(literals[0])?;
    let mut parts = Vec::new();
    for (k, lit) in literals.iter().enumerate().skip(1) {
        let at = if k == literals.len() - 1 {
            // the last literal ends the text
            if !rest.ends_with(lit) {
                return None;
            }
            rest.len() - lit.len()
        } else {
            rest.find(lit)?
        };
        parts.push(&rest[..at]);
        rest = &rest[at + lit.len()..];
    }
    (literals.len() > 1 || rest.is_empty()).then_some(parts)
}

#[cfg(test)]
mod note_tests {
    use super::*;

    #[test]
    fn every_note_has_its_english() {
        for (fr, en) in NOTES {
            // a pattern read back with sample parts
            let sample = fr.replace("{}", "X");
            assert_eq!(note_en(&sample), en.replace("{}", "X"), "{fr}");
        }
        // the more specific pattern wins over the shorter one
        assert_eq!(
            note_en("colonne \"Code\" lue comme code (ses valeurs sont des codes)"),
            "column \"Code\" read as code (its values are codes)"
        );
        assert_eq!(note_en("rien de connu"), "rien de connu");
        assert_eq!(note_en("séparateur ';' détecté"), "separator ';' detected");
        for (fr, en) in ACCESS {
            assert_eq!(
                access_fr(&en.replace("{}", "X")),
                fr.replace("{}", "X"),
                "{en}"
            );
        }
        assert_eq!(
            access_fr("matrix m.csv (minutes)"),
            "matrice m.csv (minutes)"
        );
    }
}
