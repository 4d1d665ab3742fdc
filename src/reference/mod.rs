//! Reference data bundled in the binary, all of vintage 2026: the INSEE *Code
//! officiel géographique* (communes, communes déléguées and associées,
//! arrondissements municipaux, with names and populations), the départements and
//! régions, and the EPCI (intercommunalités). Built from public sources by the
//! scripts in `fixtures/` (see `fixtures/README.md`).

pub(crate) mod admin;
pub(crate) mod cog;
pub(crate) mod epci;

pub use admin::{departement_name, departement_of, region_name, region_of_departement};
pub use cog::{cog, Cog, Entry, Kind, VINTAGE};
pub use epci::{epci, Epci, EpciTable};
