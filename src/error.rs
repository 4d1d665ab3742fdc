//! Errors of the library: each names the file, and where it can the line or the
//! feature index and the INSEE code, and what was wrong.

use std::path::PathBuf;

/// What went wrong, and where.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be opened, read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// A file is not valid JSON / GeoJSON at all (bad syntax, wrong top-level shape).
    #[error("{path}: {message}")]
    Json {
        /// The file.
        path: PathBuf,
        /// What the parser said, with line and column.
        message: String,
    },
    /// One or more features of a commune layer are unusable. Every problem found is
    /// listed, not only the first.
    #[error("{path}: {} unusable feature(s):\n  {}", problems.len(), problems.join("\n  "))]
    Features {
        /// The file.
        path: PathBuf,
        /// One line per problem: `feature 12 (04001): ring 0 has 3 points, 4 needed`.
        problems: Vec<String>,
    },
    /// A whole file cannot be used as what it was given for (not a readable archive,
    /// workbook or database, a CRS maillage cannot read, a missing sheet).
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
    /// A CSV file is malformed or lacks a required column.
    #[error("{path}: line {line}: {message}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based line number (1 is the header).
        line: u64,
        /// What was wrong.
        message: String,
    },
    /// The inputs make no analysis possible (an empty commune layer, say).
    #[error("{0}")]
    Input(String),
    /// The geometry engine failed on these inputs (a defect of the engine, caught so
    /// that the run ends with an error instead of an abort).
    #[error("the overlay of drawn territories failed inside the geometry engine ({0}); please report it with the input files")]
    Engine(String),
    /// A map or the report could not be drawn (a projection or the rasteriser
    /// failed).
    #[error("map: {0}")]
    Render(String),
    /// Building a statistics table or writing a table failed.
    #[error("{context}: {source}")]
    Table {
        /// Which table.
        context: String,
        /// What polars said.
        source: polars::error::PolarsError,
    },
}

/// `Result` with maillage's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// A coordinate reference system maillage cannot set up or use: an EPSG code it
/// does not know, a WKT it cannot read, a point outside the CRS's domain.
///
/// ```
/// let e = maillage::geometry::Crs::from_epsg(1).unwrap_err();
/// assert!(e.to_string().contains("EPSG:1"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CrsError(pub String);

/// A value given as text that is none of those accepted (a method, a weight, a
/// classification, a strategy), with what would be.
///
/// ```
/// let e = "cubic:3".parse::<maillage::access::Weight>().unwrap_err();
/// assert!(e.to_string().contains("gaussian"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

impl From<CrsError> for Error {
    fn from(e: CrsError) -> Error {
        Error::Input(e.0)
    }
}

impl From<ParseError> for Error {
    fn from(e: ParseError) -> Error {
        Error::Input(e.0)
    }
}

impl From<String> for ParseError {
    fn from(s: String) -> ParseError {
        ParseError(s)
    }
}
