//! All-or-nothing output: every file goes to a hidden temporary file in the output
//! folder, and only when all are written are they renamed into place.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Files written to a folder, all renamed into place at once by [`Staging::commit`].
pub struct Staging {
    dir: PathBuf,
    staged: Vec<(PathBuf, PathBuf)>,
}

impl Staging {
    /// Creates the folder if needed.
    ///
    /// # Errors
    /// [`Error::Io`] when the folder cannot be created.
    pub fn new(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        Ok(Staging {
            dir: dir.to_owned(),
            staged: Vec::new(),
        })
    }

    /// Writes `name` to a temporary file through `fill`.
    ///
    /// # Errors
    /// [`Error::Io`] naming the final path when creating, writing or flushing fails,
    /// or whatever `fill` returns.
    pub fn write(
        &mut self,
        name: &str,
        fill: impl FnOnce(&mut BufWriter<File>) -> Result<()>,
    ) -> Result<()> {
        let target = self.dir.join(name);
        let tmp = self.dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let file = File::create(&tmp).map_err(|e| Error::io(&target, e))?;
        self.staged.push((tmp, target.clone()));
        let mut w = BufWriter::with_capacity(1 << 20, file);
        fill(&mut w)?;
        let file = w
            .into_inner()
            .map_err(|e| Error::io(&target, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io(&target, e))?;
        Ok(())
    }

    /// Reserves `name` for a writer that opens its file itself (SQLite), maybe on
    /// another thread: returns the temporary path to create, renamed into place
    /// by [`Staging::commit`]. Call [`Staging::sync`] on it once written.
    pub fn reserve(&mut self, name: &str) -> PathBuf {
        let target = self.dir.join(name);
        let tmp = self.dir.join(format!(".{name}.{}.tmp", std::process::id()));
        // a leftover of a killed run with the same process id
        let _ = std::fs::remove_file(&tmp);
        self.staged.push((tmp.clone(), target));
        tmp
    }

    /// Syncs a file written at a [`Staging::reserve`]d path to disk.
    ///
    /// # Errors
    /// [`Error::Io`] naming the final path.
    pub fn sync(&self, tmp: &Path) -> Result<()> {
        let target = self
            .staged
            .iter()
            .find(|(t, _)| t == tmp)
            .map_or_else(|| tmp.to_owned(), |(_, target)| target.clone());
        File::open(tmp)
            .and_then(|f| f.sync_all())
            .map_err(|e| Error::io(target, e))
    }

    /// The output folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Renames every staged file into place; returns the final paths, sorted.
    ///
    /// # Errors
    /// [`Error::Io`] when a rename fails (the remaining temporary files are removed).
    pub fn commit(mut self) -> Result<Vec<PathBuf>> {
        let staged = std::mem::take(&mut self.staged);
        let mut done = Vec::with_capacity(staged.len());
        let mut it = staged.into_iter();
        while let Some((tmp, target)) = it.next() {
            if let Err(e) = std::fs::rename(&tmp, &target) {
                let _ = std::fs::remove_file(&tmp);
                self.staged = it.collect();
                return Err(Error::io(&target, e));
            }
            done.push(target);
        }
        done.sort();
        Ok(done)
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        for (tmp, _) in &self.staged {
            let _ = std::fs::remove_file(tmp);
        }
    }
}
