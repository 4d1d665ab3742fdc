//! Where input bytes come from: a file on disk (plain or gzip, detected by its magic
//! bytes, not its name) or bytes embedded in the binary (the demo data).

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// An input: its name for messages and its bytes, gunzipped.
#[derive(Debug, Clone)]
pub struct Source {
    /// Shown in every message about this input (the path, or `demo:communes.geojson`).
    pub name: PathBuf,
    /// The whole content, decompressed.
    pub bytes: Vec<u8>,
}

impl Source {
    /// Reads a file, gunzipping it when it starts with the gzip magic bytes.
    ///
    /// # Errors
    /// [`Error::Io`] naming the file when it cannot be read or its gzip stream is corrupt.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let raw = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Self::from_bytes(path, raw)
    }

    /// Wraps bytes already in memory (gzip or not) under a name used in messages.
    ///
    /// # Errors
    /// [`Error::Io`] when the bytes are a corrupt gzip stream.
    pub fn from_bytes(name: impl Into<PathBuf>, raw: Vec<u8>) -> Result<Self> {
        let name = name.into();
        if raw.starts_with(&[0x1f, 0x8b]) {
            let mut bytes = Vec::with_capacity(raw.len() * 4);
            flate2::read::MultiGzDecoder::new(&raw[..])
                .read_to_end(&mut bytes)
                .map_err(|e| Error::io(&name, e))?;
            Ok(Source { name, bytes })
        } else {
            Ok(Source { name, bytes: raw })
        }
    }
}
