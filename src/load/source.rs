//! Where input bytes come from: a file on disk (plain or gzip, detected by its magic
//! bytes, not its name) or bytes embedded in the binary (the demo data).

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The most a compressed input (a gzip file, a zip entry) may inflate to: 1 GiB,
/// or 50 times its compressed size when that is more (real layers compress 5 to
/// 10 times; a zip bomb, 1000 times and more). `MAILLAGE_MAX_INFLATE_BYTES`
/// replaces it.
pub(crate) fn inflate_limit(compressed: u64) -> u64 {
    if let Some(v) = std::env::var("MAILLAGE_MAX_INFLATE_BYTES")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        return v;
    }
    (1u64 << 30).max(compressed.saturating_mul(50))
}

/// Reads a decompressing reader to its end, refusing to go past
/// [`inflate_limit`] of `compressed` bytes: memory stays bounded whatever the
/// input.
///
/// # Errors
/// The reader's own error, or [`std::io::ErrorKind::InvalidData`] past the limit.
pub(crate) fn inflate(
    reader: impl Read,
    compressed: u64,
    capacity: usize,
) -> std::io::Result<Vec<u8>> {
    let limit = inflate_limit(compressed);
    let mut bytes = Vec::with_capacity(capacity.min(limit as usize));
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "inflates to more than {limit} bytes from {compressed} compressed: refused as a likely zip bomb (MAILLAGE_MAX_INFLATE_BYTES raises the limit)"
            ),
        ));
    }
    Ok(bytes)
}

/// An input: its name for messages and its bytes, gunzipped.
#[derive(Debug, Clone)]
pub struct Source {
    /// Shown in every message about this input (the path, or `demo:communes.geojson`).
    pub name: PathBuf,
    /// The whole content, decompressed (empty for a [deferred](Source::deferred) file).
    pub bytes: Vec<u8>,
    /// Read by its loader from the file `name`, not from `bytes`.
    pub(crate) deferred: bool,
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

    /// A commune layer left on disk until [`load_communes`](crate::load::load_communes)
    /// reads it: a GeoJSON layer is then streamed (decompressed, split and parsed at
    /// once, never held whole: a full-resolution national layer is 600 MB of text),
    /// any other format read whole as by [`Source::from_path`]. Only the commune
    /// loader reads such a source; [`crate::Inputs::from_paths`] makes one.
    ///
    /// # Examples
    /// ```
    /// use maillage::load::{load_communes, FieldNames};
    /// let source = maillage::Source::deferred("fixtures/paca/communes.geojson.gz")?;
    /// assert!(source.bytes.is_empty()); // nothing read yet
    /// let layer = load_communes(&source, &FieldNames::default())?;
    /// assert_eq!(layer.communes.len(), 947);
    /// # Ok::<(), maillage::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Io`] naming the file when it cannot be opened.
    pub fn deferred(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        Ok(Source {
            name: path.to_owned(),
            bytes: Vec::new(),
            deferred: true,
        })
    }

    /// Wraps bytes already in memory (gzip or not) under a name used in messages.
    ///
    /// # Errors
    /// [`Error::Io`] when the bytes are a corrupt gzip stream.
    pub fn from_bytes(name: impl Into<PathBuf>, raw: Vec<u8>) -> Result<Self> {
        let name = name.into();
        if raw.starts_with(&[0x1f, 0x8b]) {
            let bytes = inflate(
                flate2::read::MultiGzDecoder::new(&raw[..]),
                raw.len() as u64,
                raw.len() * 4,
            )
            .map_err(|e| Error::io(&name, e))?;
            Ok(Source {
                name,
                bytes,
                deferred: false,
            })
        } else {
            Ok(Source {
                name,
                bytes: raw,
                deferred: false,
            })
        }
    }
}
