//! All-or-nothing output: every file goes to a hidden temporary file in the output
//! folder, and only when all are written are they renamed into place.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::thread::JoinHandle;

use crate::error::{Error, Result};

/// Files written to a folder, all renamed into place at once by [`Staging::commit`].
///
/// Files can be written from several threads at once. Each written file is synced
/// to disk on a thread of its own while the next one is being written (16 MB of
/// `territories.geojson` take 15 ms to sync); [`Staging::commit`] waits for every
/// sync before renaming anything.
pub struct Staging {
    dir: PathBuf,
    /// (temporary path, final path) of every file, in the order staged.
    staged: Mutex<Vec<(PathBuf, PathBuf)>>,
    /// The syncs under way, with the final path each one is for.
    syncs: Mutex<Vec<(PathBuf, JoinHandle<std::io::Result<()>>)>>,
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
            staged: Mutex::new(Vec::new()),
            syncs: Mutex::new(Vec::new()),
        })
    }

    /// Writes `name` to a temporary file through `fill`; its sync to disk starts
    /// in the background.
    ///
    /// # Errors
    /// [`Error::Io`] naming the final path when creating, writing or flushing fails,
    /// or whatever `fill` returns. A failed sync is reported by [`Staging::commit`].
    pub fn write(
        &self,
        name: &str,
        fill: impl FnOnce(&mut BufWriter<File>) -> Result<()>,
    ) -> Result<()> {
        let target = self.dir.join(name);
        let tmp = self.dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let file = File::create(&tmp).map_err(|e| Error::io(&target, e))?;
        lock(&self.staged).push((tmp, target.clone()));
        let mut w = BufWriter::with_capacity(1 << 20, file);
        fill(&mut w)?;
        let file = w
            .into_inner()
            .map_err(|e| Error::io(&target, e.into_error()))?;
        // `spawn` would panic where the system refuses a thread: then sync here
        let file = std::sync::Arc::new(file);
        let on_thread = std::sync::Arc::clone(&file);
        match std::thread::Builder::new().spawn(move || on_thread.sync_all()) {
            Ok(sync) => lock(&self.syncs).push((target, sync)),
            Err(_) => file.sync_all().map_err(|e| Error::io(&target, e))?,
        }
        Ok(())
    }

    /// Reserves `name` for a writer that opens its file itself (SQLite), maybe on
    /// another thread: returns the temporary path to create, renamed into place
    /// by [`Staging::commit`]. Call [`Staging::sync`] on it once written.
    pub fn reserve(&self, name: &str) -> PathBuf {
        let target = self.dir.join(name);
        let tmp = self.dir.join(format!(".{name}.{}.tmp", std::process::id()));
        // a leftover of a killed run with the same process id
        let _ = std::fs::remove_file(&tmp);
        lock(&self.staged).push((tmp.clone(), target));
        tmp
    }

    /// Syncs a file written at a [`Staging::reserve`]d path to disk.
    ///
    /// # Errors
    /// [`Error::Io`] naming the final path.
    pub fn sync(&self, tmp: &Path) -> Result<()> {
        let target = lock(&self.staged)
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

    /// Waits for every file's sync, then renames every staged file into place;
    /// returns the final paths, sorted.
    ///
    /// # Errors
    /// [`Error::Io`] when a sync or a rename fails (then the temporary files still
    /// staged are removed).
    pub fn commit(self) -> Result<Vec<PathBuf>> {
        self.wait()?;
        let staged = std::mem::take(&mut *lock(&self.staged));
        let mut done = Vec::with_capacity(staged.len());
        let mut it = staged.into_iter();
        while let Some((tmp, target)) = it.next() {
            if let Err(e) = std::fs::rename(&tmp, &target) {
                let _ = std::fs::remove_file(&tmp);
                *lock(&self.staged) = it.collect();
                return Err(Error::io(&target, e));
            }
            done.push(target);
        }
        done.sort();
        Ok(done)
    }
}

impl Staging {
    /// Waits for every sync started; the first failure, naming its file.
    fn wait(&self) -> Result<()> {
        let syncs = std::mem::take(&mut *lock(&self.syncs));
        let mut first = Ok(());
        for (target, sync) in syncs {
            let done = sync.join().unwrap_or_else(|_| {
                Err(std::io::Error::other("the thread syncing the file failed"))
            });
            if let (Ok(()), Err(e)) = (&first, done) {
                first = Err(Error::io(&target, e));
            }
        }
        first
    }
}

/// The data behind a lock, even if a thread panicked holding it: the lists kept
/// here are whole after every push.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Drop for Staging {
    fn drop(&mut self) {
        // no file is removed while a thread still syncs it
        let _ = self.wait();
        for (tmp, _) in lock(&self.staged).iter() {
            let _ = std::fs::remove_file(tmp);
        }
    }
}
