//! Départements and régions, from a table bundled in the binary (built from the
//! INSEE Code officiel géographique 2026 by `fixtures/make_fixtures.py`).

use rustc_hash::FxHashMap as HashMap;
use std::sync::OnceLock;

const DEPARTEMENTS: &str = include_str!("../data/departements.csv");
const REGIONS: &str = include_str!("../data/regions.csv");

/// The département of an INSEE commune code: its first 2 characters, or 3 for the
/// overseas départements (`97x`). Corsica's `2A` / `2B` come out as they are.
///
/// # Examples
/// ```
/// assert_eq!(maillage::reference::departement_of("04001"), "04");
/// assert_eq!(maillage::reference::departement_of("2A004"), "2A");
/// assert_eq!(maillage::reference::departement_of("97411"), "974");
/// ```
pub fn departement_of(code: &str) -> &str {
    let n = if code.starts_with("97") { 3 } else { 2 };
    code.get(..n).unwrap_or(code)
}

struct Tables {
    dep: HashMap<&'static str, (&'static str, &'static str)>,
    reg: HashMap<&'static str, &'static str>,
}

fn tables() -> &'static Tables {
    static T: OnceLock<Tables> = OnceLock::new();
    T.get_or_init(|| {
        let rows = |text: &'static str| {
            text.lines()
                .skip(1)
                .filter(|l| !l.is_empty())
                .map(split_csv)
        };
        Tables {
            dep: rows(DEPARTEMENTS).map(|f| (f[0], (f[1], f[2]))).collect(),
            reg: rows(REGIONS).map(|f| (f[0], f[1])).collect(),
        }
    })
}

/// Splits one line of the bundled tables (fields never contain commas or quotes
/// except names, which may be quoted).
fn split_csv(line: &'static str) -> Vec<&'static str> {
    let mut out = Vec::with_capacity(3);
    let mut rest = line;
    while !rest.is_empty() {
        if let Some(stripped) = rest.strip_prefix('"') {
            let end = stripped.find('"').unwrap_or(stripped.len());
            out.push(&stripped[..end]);
            rest = stripped.get(end + 2..).unwrap_or("");
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            out.push(&rest[..end]);
            rest = rest.get(end + 1..).unwrap_or("");
        }
    }
    out
}

/// The région code of a département code (`"04"` → `"93"`), if known.
pub fn region_of_departement(dep: &str) -> Option<&'static str> {
    tables().dep.get(dep).map(|(_, r)| *r)
}

/// The name of a département (`"04"` → `"Alpes-de-Haute-Provence"`), if known.
pub fn departement_name(dep: &str) -> Option<&'static str> {
    tables().dep.get(dep).map(|(n, _)| *n)
}

/// The name of a région (`"93"` → `"Provence-Alpes-Côte d'Azur"`), if known.
pub fn region_name(reg: &str) -> Option<&'static str> {
    tables().reg.get(reg).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_departement_has_a_named_region() {
        assert!(tables().dep.len() >= 101, "{}", tables().dep.len());
        for (dep, (name, reg)) in &tables().dep {
            assert!(!name.is_empty(), "{dep}");
            assert!(region_name(reg).is_some(), "{dep} → {reg}");
        }
    }

    #[test]
    fn known_codes() {
        assert_eq!(region_of_departement("2A"), Some("94"));
        assert_eq!(region_of_departement("976"), Some("06"));
        assert_eq!(region_of_departement("13"), Some("93"));
        assert_eq!(region_name("93"), Some("Provence-Alpes-Côte d'Azur"));
        assert_eq!(departement_name("04"), Some("Alpes-de-Haute-Provence"));
        assert_eq!(region_of_departement("99"), None);
    }
}
