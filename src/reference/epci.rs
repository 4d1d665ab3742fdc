//! The EPCI (*établissements publics de coopération intercommunale*: the
//! intercommunalités) of COG 2026, bundled in the binary: which EPCI each commune
//! belongs to. Many CPTS follow EPCI boundaries, so [`crate::propose`] avoids
//! splitting them.
//!
//! Built by `fixtures/make_epci.py` from `@etalab/decoupage-administratif` 6.0.0
//! (MIT licence). A commune of an older layer (merged since) belongs to the EPCI of
//! the commune that absorbed it; an arrondissement municipal to its city's.

use std::collections::HashMap;
use std::io::Read;
use std::sync::OnceLock;

const EPCI_2026: &[u8] = include_bytes!("../data/epci2026.csv.gz");

/// One EPCI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Epci {
    /// Its SIREN code.
    pub code: String,
    /// Its name.
    pub name: String,
}

/// The table: EPCI and the EPCI of each commune code.
#[derive(Debug)]
pub struct EpciTable {
    list: Vec<Epci>,
    of: HashMap<String, u32>,
}

/// The bundled EPCI of COG 2026 (parsed once, on first use).
///
/// # Examples
/// ```
/// let t = maillage::reference::epci();
/// // Digne-les-Bains and Aiglun are in Provence-Alpes Agglomération
/// let digne = t.of("04070").unwrap();
/// assert_eq!(t.of("04001"), Some(digne));
/// assert!(digne.name.contains("Provence-Alpes"));
/// ```
pub fn epci() -> &'static EpciTable {
    static T: OnceLock<EpciTable> = OnceLock::new();
    T.get_or_init(|| EpciTable::parse(EPCI_2026).unwrap_or_else(|_| EpciTable::empty()))
}

impl EpciTable {
    fn empty() -> EpciTable {
        EpciTable {
            list: Vec::new(),
            of: HashMap::new(),
        }
    }

    fn parse(gz: &[u8]) -> std::io::Result<EpciTable> {
        let mut text = String::new();
        flate2::read::GzDecoder::new(gz).read_to_string(&mut text)?;
        let mut t = EpciTable::empty();
        for line in text.lines().skip(1) {
            let mut f = line.splitn(3, ';');
            let (Some(code), Some(name), Some(members)) = (f.next(), f.next(), f.next()) else {
                continue;
            };
            let k = t.list.len() as u32;
            t.list.push(Epci {
                code: code.to_owned(),
                name: name.to_owned(),
            });
            for m in members.split('|').filter(|m| !m.is_empty()) {
                t.of.insert(m.to_owned(), k);
            }
        }
        Ok(t)
    }

    /// The EPCI of a commune code: its own, else (a former commune, an
    /// arrondissement municipal) the EPCI of the commune it belongs to now.
    pub fn of(&self, code: &str) -> Option<&Epci> {
        self.index_of(code).map(|k| &self.list[k as usize])
    }

    /// The position of a commune's EPCI in the table (see [`EpciTable::of`]).
    pub fn index_of(&self, code: &str) -> Option<u32> {
        if let Some(&k) = self.of.get(code) {
            return Some(k);
        }
        let cog = crate::cog::cog();
        let parent = cog
            .successor(code)
            .or_else(|| cog.current(code).and_then(|e| e.parent.as_deref()))?;
        self.of.get(parent).copied()
    }

    /// The EPCI at a position.
    pub fn get(&self, k: u32) -> Option<&Epci> {
        self.list.get(k as usize)
    }

    /// Number of EPCI.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// True when the table is empty.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_epci_of_2026_is_there() {
        let t = super::epci();
        assert_eq!(t.len(), 1255);
        // Marseille's arrondissements are in the Métropole d'Aix-Marseille-Provence
        assert_eq!(t.of("13201"), t.of("13055"));
        assert!(t.of("13055").unwrap().name.contains("Marseille"));
        assert_eq!(t.of("99999"), None);
    }
}
