//! The inputs of accessibility statistics, read as leniently as declarations (CSV
//! or workbook, headers in French or English, codes as spreadsheets break them):
//! - **supply**: a table `code,supply` per commune (doctors, full-time
//!   equivalents, consultations), or points `id,x,y[,supply]` in a CRS, each
//!   counted in the commune that contains it;
//! - **points**: a table `code,x,y` of locations (population-weighted centroids…);
//! - **demand**: a table `code,demand` (decimals), or age groups weighted.
//!
//! The cost matrix has its own reader ([`super::costs`]): it is millions of rows.
//!
//! A value that cannot be read (text, negative, `NaN`) stops the run with its file
//! and line: a score computed without it would be silently wrong.

use std::path::PathBuf;

use super::source::Source;
use super::spreadsheet::{open_table, TableOptions};
use super::table::{any_of, never, normalize_code, Field, COMMUNE_CODE};
use crate::error::Result;

/// A commune code column: as in population tables.
const CODE: Field = Field {
    name: "code",
    aliases: &[
        "commune_code",
        "code insee",
        "code commune",
        "insee",
        "codgeo",
        "code_insee",
        "depcom",
        "com",
    ],
    ..COMMUNE_CODE
};

/// The amount of supply: `supply`, `ETP`, `Nombre de médecins`, `Consultations`…
const SUPPLY: Field = Field {
    name: "supply",
    aliases: &["offre", "etp", "fte", "effectif", "value", "count", "n"],
    rule: |w| {
        any_of(
            w,
            &[
                "supply",
                "offre",
                "etp",
                "fte",
                "effectif",
                "effectifs",
                "medecins",
                "medecin",
                "generalistes",
                "generaliste",
                "praticiens",
                "consultations",
                "actes",
                "nombre",
                "nb",
            ],
        ) && !any_of(
            w,
            &["code", "nom", "libelle", "x", "y", "latitude", "longitude"],
        )
    },
    prefer: &[],
    loose: never,
    value: never,
};

const X: Field = Field {
    name: "x",
    aliases: &[
        "coord_x",
        "coordx",
        "xcoord",
        "x_l93",
        "longitude",
        "lon",
        "lng",
        "easting",
    ],
    rule: |w| any_of(w, &["x", "longitude", "lon", "easting"]) && !any_of(w, &["y"]),
    prefer: &[],
    loose: never,
    value: never,
};

const Y: Field = Field {
    name: "y",
    aliases: &[
        "coord_y", "coordy", "ycoord", "y_l93", "latitude", "lat", "northing",
    ],
    rule: |w| any_of(w, &["y", "latitude", "lat", "northing"]) && !any_of(w, &["x"]),
    prefer: &[],
    loose: never,
    value: never,
};

/// An identifier of a supply point (a FINESS number…), optional.
const ID: Field = Field {
    name: "id",
    aliases: &["identifiant", "finess", "nofinesset", "numero", "siret"],
    rule: |w| any_of(w, &["id", "identifiant", "finess"]),
    prefer: &[],
    loose: never,
    value: never,
};

/// A number as spreadsheets write it: spaces as thousands separators, a decimal
/// comma. Not finite (`NaN`, `inf`) is no number.
///
/// # Examples
/// ```
/// use maillage::load::parse_number;
/// assert_eq!(parse_number("1 234,5"), Some(1234.5));
/// assert_eq!(parse_number("12.0"), Some(12.0));
/// assert_eq!(parse_number("NaN"), None);
/// assert_eq!(parse_number("douze"), None);
/// ```
pub fn parse_number(raw: &str) -> Option<f64> {
    let mut t: String = raw
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}'))
        .collect();
    if !t.contains('.') && t.matches(',').count() == 1 {
        t = t.replace(',', ".");
    }
    t.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// One row of supply.
#[derive(Debug, Clone, PartialEq)]
pub struct SupplyRow {
    /// Its line in the file (header = 1).
    pub line: u64,
    /// The commune's code (normalised), for a table by commune.
    pub code: Option<String>,
    /// Its position, for a table of points, in the file's coordinates.
    pub point: Option<[f64; 2]>,
    /// Its identifier, for points that have one.
    pub id: Option<String>,
    /// The amount (1 for a point without a supply column).
    pub supply: f64,
}

/// A supply input: by commune, or as points to place in communes.
#[derive(Debug, Clone)]
pub struct SupplyTable {
    /// The file.
    pub source: PathBuf,
    /// True when rows are points (`x`, `y` columns), false when they are communes.
    pub points: bool,
    /// The rows, in file order.
    pub rows: Vec<SupplyRow>,
    /// How the file was read, when notable.
    pub notes: Vec<String>,
}

/// Reads a supply table: points when it has `x` and `y` columns, else `code,supply`.
///
/// # Errors
/// [`crate::Error::Csv`] naming file and line: no such columns, a value that is not
/// a number ≥ 0, a point without coordinates.
pub fn load_supply(source: &Source, options: &TableOptions) -> Result<SupplyTable> {
    let mut t = open_table(source, options)?;
    enum Shape {
        Points(usize, usize, Option<usize>, Option<usize>),
        Codes(usize, usize),
    }
    let shape = t.header(
        "a commune code and a supply column, or x and y columns",
        |t| {
            if let (Some(x), Some(y)) = (t.column(&X), t.column(&Y)) {
                let s = t.column(&SUPPLY);
                let id = t.column(&ID).or_else(|| t.column(&CODE));
                return Some(Shape::Points(x, y, s, id));
            }
            Some(Shape::Codes(t.column(&CODE)?, t.column(&SUPPLY)?))
        },
    )?;
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    let amount = |t: &super::table::CsvTable, line: u64, raw: &str| {
        parse_number(raw)
            .filter(|v| *v >= 0.0)
            .ok_or_else(|| t.error(line, format!("supply {:?} is not a number ≥ 0", raw.trim())))
    };
    while let Some(line) = t.next(&mut record)? {
        let cell = |k: usize| record.get(k).unwrap_or("").trim().to_owned();
        match shape {
            Shape::Codes(c, s) => {
                let (code, _) = normalize_code(&cell(c));
                if code.is_empty() {
                    return Err(t.error(line, "empty commune code".into()));
                }
                rows.push(SupplyRow {
                    line,
                    code: Some(code),
                    point: None,
                    id: None,
                    supply: amount(&t, line, &cell(s))?,
                });
            }
            Shape::Points(x, y, s, id) => {
                let coord = |k: usize, what: &str| {
                    parse_number(&cell(k)).ok_or_else(|| {
                        t.error(line, format!("{what} {:?} is not a number", cell(k)))
                    })
                };
                rows.push(SupplyRow {
                    line,
                    code: None,
                    point: Some([coord(x, "x")?, coord(y, "y")?]),
                    id: id.map(cell).filter(|v| !v.is_empty()),
                    supply: match s {
                        Some(s) => amount(&t, line, &cell(s))?,
                        None => 1.0,
                    },
                });
            }
        }
    }
    Ok(SupplyTable {
        source: source.name.clone(),
        points: matches!(shape, Shape::Points(..)),
        rows,
        notes: t.notes,
    })
}

/// One location: a commune's code and a point.
#[derive(Debug, Clone, PartialEq)]
pub struct PointRow {
    /// Its line in the file.
    pub line: u64,
    /// The commune's code (normalised).
    pub code: String,
    /// The point, in the file's coordinates.
    pub point: [f64; 2],
    /// The CRS of this row (an `epsg` column: overseas points in their own UTM
    /// zone beside Lambert-93 ones), else the table's.
    pub epsg: Option<u32>,
}

/// An optional per-row CRS: `epsg`, `crs`, `srid` (`2154` or `EPSG:2154`).
const EPSG: Field = Field {
    name: "epsg",
    aliases: &["crs", "srid", "code_epsg"],
    rule: |w| any_of(w, &["epsg", "srid"]),
    prefer: &[],
    loose: never,
    value: never,
};

/// A table of locations `code,x,y`.
#[derive(Debug, Clone)]
pub struct PointsTable {
    /// The file.
    pub source: PathBuf,
    /// The rows, in file order.
    pub rows: Vec<PointRow>,
    /// How the file was read, when notable.
    pub notes: Vec<String>,
}

/// Reads a table of locations `code,x,y[,epsg]`.
///
/// # Errors
/// [`crate::Error::Csv`] naming file and line: missing columns, a coordinate that is
/// not a number, an `epsg` that is not a code, a code twice with two points.
pub fn load_points(source: &Source, options: &TableOptions) -> Result<PointsTable> {
    let mut t = open_table(source, options)?;
    let (c, x, y, e) = t.header("a commune code, x and y", |t| {
        Some((
            t.column(&CODE)?,
            t.column(&X)?,
            t.column(&Y)?,
            t.column(&EPSG),
        ))
    })?;
    let mut rows: Vec<PointRow> = Vec::new();
    let mut seen: std::collections::HashMap<String, (u64, [f64; 2])> = Default::default();
    let mut record = csv::StringRecord::new();
    while let Some(line) = t.next(&mut record)? {
        let cell = |k: usize| record.get(k).unwrap_or("").trim().to_owned();
        let (code, _) = normalize_code(&cell(c));
        if code.is_empty() {
            return Err(t.error(line, "empty commune code".into()));
        }
        let coord = |k: usize, what: &str| {
            parse_number(&cell(k))
                .ok_or_else(|| t.error(line, format!("{what} {:?} is not a number", cell(k))))
        };
        let point = [coord(x, "x")?, coord(y, "y")?];
        let epsg = match e.map(cell).filter(|v| !v.is_empty()) {
            None => None,
            Some(v) => Some(
                v.trim_start_matches("EPSG:")
                    .trim_start_matches("epsg:")
                    .parse::<u32>()
                    .map_err(|_| t.error(line, format!("epsg {v:?} is not an EPSG code")))?,
            ),
        };
        if let Some((first, p)) = seen.insert(code.clone(), (line, point)) {
            if p != point {
                return Err(t.error(
                    line,
                    format!("{code} has another point on line {first}: one location per commune"),
                ));
            }
            continue;
        }
        rows.push(PointRow {
            line,
            code,
            point,
            epsg,
        });
    }
    Ok(PointsTable {
        source: source.name.clone(),
        rows,
        notes: t.notes,
    })
}

/// The demand column: `demand`, `Population standardisée`, `population`…
const DEMAND: Field = Field {
    name: "demand",
    aliases: &[
        "demande",
        "population standardisee",
        "population ponderee",
        "standardised population",
        "population",
        "pop",
    ],
    rule: |w| {
        any_of(
            w,
            &[
                "demand",
                "demande",
                "population",
                "pop",
                "habitants",
                "standardisee",
            ],
        ) && !any_of(w, &["code", "annee", "year", "densite"])
    },
    prefer: &["standardisee", "ponderee", "demand", "demande"],
    loose: never,
    value: never,
};

/// One commune's demand.
#[derive(Debug, Clone, PartialEq)]
pub struct DemandRow {
    /// Its line in the file.
    pub line: u64,
    /// The commune's code (normalised).
    pub code: String,
    /// The demand: a population, age-standardised or weighted (decimals allowed).
    pub demand: f64,
}

/// The demand of each commune, replacing the population in the catchments.
#[derive(Debug, Clone)]
pub struct DemandTable {
    /// The file.
    pub source: PathBuf,
    /// The rows, in file order, one per code.
    pub rows: Vec<DemandRow>,
    /// How the file was read (the columns weighted, when an age weighting was given).
    pub notes: Vec<String>,
}

/// Reads a demand table: `code,demand` with decimals (an age-standardised
/// population, as DREES computes it for the APL), or, with `age_weights`, one
/// column per age group, each row's demand being `Σ weight × value` over the
/// groups named (`[("pop_0_14", 0.9), ("pop_75_plus", 1.8)]`: header names,
/// compared without case, accents or punctuation).
///
/// # Examples
/// ```
/// use maillage::load::{load_demand, TableOptions};
/// use maillage::Source;
/// let csv = "code,p0_59,p60_plus\n04001,100,50.5\n";
/// let source = Source::from_bytes("demand.csv", csv.as_bytes().to_vec())?;
/// let t = load_demand(&source, &TableOptions::default(), &[("p0_59".into(), 1.0), ("p60_plus".into(), 2.0)])?;
/// assert_eq!(t.rows[0].demand, 201.0);
/// # Ok::<(), maillage::Error>(())
/// ```
///
/// # Errors
/// [`crate::Error::Csv`] naming file and line: no code or demand column (or an age
/// group not in the header), a value that is not a number ≥ 0, a code twice.
pub fn load_demand(
    source: &Source,
    options: &TableOptions,
    age_weights: &[(String, f64)],
) -> Result<DemandTable> {
    let mut t = open_table(source, options)?;
    let groups: Vec<String> = age_weights.iter().map(|(g, _)| g.clone()).collect();
    let what = if groups.is_empty() {
        "a commune code and a demand (or population) column".to_owned()
    } else {
        format!("a commune code and the age groups {}", groups.join(", "))
    };
    let (c, cols) = t.header(&what, |t| {
        let c = t.column(&CODE)?;
        if groups.is_empty() {
            return Some((c, vec![(t.column(&DEMAND)?, 1.0)]));
        }
        let cols = age_weights
            .iter()
            .map(|(g, w)| t.position_of(g).map(|k| (k, *w)))
            .collect::<Option<Vec<_>>>()?;
        Some((c, cols))
    })?;
    if !groups.is_empty() {
        let shown: Vec<String> = age_weights
            .iter()
            .map(|(g, w)| format!("{w} × {g}"))
            .collect();
        t.notes.push(format!("demande = {}", shown.join(" + ")));
    }
    let mut rows = Vec::new();
    let mut seen: std::collections::HashMap<String, u64> = Default::default();
    let mut record = csv::StringRecord::new();
    while let Some(line) = t.next(&mut record)? {
        let cell = |k: usize| record.get(k).unwrap_or("").trim().to_owned();
        let (code, _) = normalize_code(&cell(c));
        if code.is_empty() {
            return Err(t.error(line, "empty commune code".into()));
        }
        let mut demand = 0.0;
        for &(k, w) in &cols {
            let raw = cell(k);
            let v = parse_number(&raw)
                .filter(|v| *v >= 0.0 && *v <= super::MAX_POPULATION as f64)
                .ok_or_else(|| {
                    t.error(
                        line,
                        format!(
                            "demand {raw:?} of {code} is not a number between 0 and {}",
                            super::MAX_POPULATION
                        ),
                    )
                })?;
            demand += w * v;
        }
        if let Some(first) = seen.insert(code.clone(), line) {
            return Err(t.error(
                line,
                format!("{code} is already on line {first}: one row per commune"),
            ));
        }
        rows.push(DemandRow { line, code, demand });
    }
    Ok(DemandTable {
        source: source.name.clone(),
        rows,
        notes: t.notes,
    })
}

/// Parses `--age-weights GROUP=W,GROUP=W` (weights finite and ≥ 0).
///
/// ```
/// let w = maillage::load::parse_age_weights("p0_14=0.9, p75_plus=1.8").unwrap();
/// assert_eq!(w, vec![("p0_14".to_owned(), 0.9), ("p75_plus".to_owned(), 1.8)]);
/// assert!(maillage::load::parse_age_weights("p0_14").is_err());
/// ```
///
/// # Errors
/// [`crate::Error::Input`] naming the part that is not `GROUP=WEIGHT`.
pub fn parse_age_weights(spec: &str) -> Result<Vec<(String, f64)>> {
    let mut out = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let parsed = part.rsplit_once('=').and_then(|(g, w)| {
            let w = parse_number(w).filter(|w| *w >= 0.0)?;
            (!g.trim().is_empty()).then(|| (g.trim().to_owned(), w))
        });
        out.push(parsed.ok_or_else(|| {
            crate::Error::Input(format!(
                "--age-weights: {part:?} is not GROUP=WEIGHT (a column of the demand table and a number ≥ 0)"
            ))
        })?);
    }
    if out.is_empty() {
        return Err(crate::Error::Input(
            "--age-weights: give GROUP=WEIGHT,…".into(),
        ));
    }
    Ok(out)
}
