//! The Code officiel géographique (COG) 2026 of INSEE, bundled in the binary: every
//! current commune with its name, département, région and 2026 population; every
//! *commune déléguée* and *commune associée* (a former commune kept as a sub-unit of
//! the *commune nouvelle* that absorbed it) with that current commune (its
//! *chef-lieu*); and the *arrondissements municipaux* of Paris, Lyon and Marseille
//! with their parent commune and population.
//!
//! Built by `fixtures/make_fixtures.py` from `@etalab/decoupage-administratif` 6.0.0
//! (INSEE COG 2026). Communes merge every 1 January, so layers, declarations and
//! population tables of different years disagree on codes; [`crate::vintage`] uses
//! this table to put them on one vintage.

use rustc_hash::FxHashMap as HashMap;
use std::io::Read;
use std::sync::OnceLock;

const COG_2026: &[u8] = include_bytes!("../data/cog2026.csv.gz");

/// The vintage of the bundled table, for reports.
pub const VINTAGE: &str = "COG 2026";

/// What a code is in the COG.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// A current commune (*commune actuelle*).
    Current,
    /// A former commune, now a *commune déléguée* of a commune nouvelle.
    Delegated,
    /// A former commune, now a *commune associée*.
    Associated,
    /// An *arrondissement municipal* of Paris, Lyon or Marseille.
    Arrondissement,
}

/// One entry of the COG.
#[derive(Debug, Clone)]
pub struct Entry {
    /// INSEE code.
    pub code: String,
    /// What the code is.
    pub kind: Kind,
    /// Official name.
    pub name: String,
    /// Département code.
    pub departement: String,
    /// Région code.
    pub region: String,
    /// 2026 population (current communes and arrondissements municipaux).
    pub population: Option<u64>,
    /// For a delegated or associated commune, the current commune that absorbed it;
    /// for an arrondissement municipal, its commune (75056, 69123, 13055).
    pub parent: Option<String>,
}

/// The table, indexed by code.
#[derive(Debug)]
pub struct Cog {
    entries: Vec<Entry>,
    /// Current communes and arrondissements by code.
    current: HashMap<String, usize>,
    /// Former communes (delegated or associated, whose code is no current commune's).
    former: HashMap<String, usize>,
    /// Arrondissements municipaux of each parent commune, sorted by code.
    arrondissements: HashMap<String, Vec<usize>>,
}

/// The bundled COG 2026 (parsed once, on first use: about 37,600 entries, a few ms).
///
/// # Examples
/// ```
/// let cog = maillage::reference::cog();
/// assert_eq!(cog.current("04070").unwrap().name, "Digne-les-Bains");
/// // Paris has 20 arrondissements municipaux
/// assert_eq!(cog.arrondissements("75056").count(), 20);
/// ```
pub fn cog() -> &'static Cog {
    static COG: OnceLock<Cog> = OnceLock::new();
    // proof: the table is compiled in and parsed by the tests (no input reaches it)
    COG.get_or_init(|| Cog::parse(COG_2026).expect("the bundled COG table is valid"))
}

impl Cog {
    fn parse(gz: &[u8]) -> Result<Cog, String> {
        let mut text = String::new();
        flate2::read::GzDecoder::new(gz)
            .read_to_string(&mut text)
            .map_err(|e| e.to_string())?;
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let mut entries = Vec::with_capacity(38_000);
        for record in reader.records() {
            let r = record.map_err(|e| e.to_string())?;
            let kind = match &r[1] {
                "actuelle" => Kind::Current,
                "deleguee" => Kind::Delegated,
                "associee" => Kind::Associated,
                "arrondissement" => Kind::Arrondissement,
                other => return Err(format!("unknown type {other}")),
            };
            entries.push(Entry {
                code: r[0].to_owned(),
                kind,
                name: r[2].to_owned(),
                departement: r[3].to_owned(),
                region: r[4].to_owned(),
                population: r[5].parse().ok(),
                parent: Some(r[6].to_owned()).filter(|p| !p.is_empty()),
            });
        }
        let mut current = HashMap::default();
        let mut former = HashMap::default();
        let mut arrondissements: HashMap<String, Vec<usize>> = HashMap::default();
        for (i, e) in entries.iter().enumerate() {
            match e.kind {
                Kind::Current => {
                    current.insert(e.code.clone(), i);
                }
                Kind::Arrondissement => {
                    current.insert(e.code.clone(), i);
                    if let Some(p) = &e.parent {
                        arrondissements.entry(p.clone()).or_default().push(i);
                    }
                }
                Kind::Delegated | Kind::Associated => {
                    former.insert(e.code.clone(), i);
                }
            }
        }
        // a chef-lieu keeps its code and also appears as a delegated commune of itself
        former.retain(|code, _| !current.contains_key(code));
        for list in arrondissements.values_mut() {
            list.sort_by(|&a, &b| entries[a].code.cmp(&entries[b].code));
        }
        Ok(Cog {
            entries,
            current,
            former,
            arrondissements,
        })
    }

    /// The current commune or arrondissement municipal with this code.
    pub fn current(&self, code: &str) -> Option<&Entry> {
        self.current.get(code).map(|&i| &self.entries[i])
    }

    /// The former commune (now delegated or associated) with this code, if the code
    /// is no current commune's.
    pub fn former(&self, code: &str) -> Option<&Entry> {
        self.former.get(code).map(|&i| &self.entries[i])
    }

    /// The current commune that absorbed a former commune: `Some("05118")` for
    /// `"05120"`; `None` for a current or unknown code.
    pub fn successor(&self, code: &str) -> Option<&str> {
        self.former(code).and_then(|e| e.parent.as_deref())
    }

    /// The arrondissements municipaux of a commune (empty but for Paris, Lyon and
    /// Marseille), by code.
    pub fn arrondissements(&self, parent: &str) -> impl Iterator<Item = &Entry> {
        self.arrondissements
            .get(parent)
            .into_iter()
            .flatten()
            .map(|&i| &self.entries[i])
    }

    /// True when the code is in the table at all.
    pub fn knows(&self, code: &str) -> bool {
        self.current.contains_key(code) || self.former.contains_key(code)
    }

    /// Every entry, sorted by code (a code can appear twice: a chef-lieu is also a
    /// delegated commune of itself).
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_table_matches_the_source_counts() {
        let cog = cog();
        let count = |k: Kind| cog.entries().iter().filter(|e| e.kind == k).count();
        // figures from ../shared/data/README.md and the source file
        assert_eq!(count(Kind::Current), 34_969);
        assert_eq!(count(Kind::Arrondissement), 45);
        assert_eq!(cog.entries().len(), 37_590);
        let total: u64 = cog
            .entries()
            .iter()
            .filter(|e| e.kind == Kind::Current)
            .filter_map(|e| e.population)
            .sum();
        assert_eq!(total, 68_952_941);
        assert_eq!(cog.arrondissements("69123").count(), 9);
        assert_eq!(cog.arrondissements("13055").count(), 16);
        assert_eq!(
            cog.arrondissements("75056")
                .map(|e| e.population.unwrap())
                .sum::<u64>(),
            cog.current("75056").unwrap().population.unwrap()
        );
    }

    #[test]
    fn former_communes_lead_to_their_chef_lieu() {
        let cog = cog();
        // 01015 is both a current commune (Arboys en Bugey) and its own delegated commune
        assert!(cog.former("01015").is_none());
        assert_eq!(cog.current("01015").unwrap().kind, Kind::Current);
        // a real associated commune
        assert_eq!(cog.successor("01120"), Some("01262"));
        assert_eq!(cog.successor("01001"), None);
        assert!(!cog.knows("99999"));
    }
}
