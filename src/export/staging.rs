//! All-or-nothing output, in one atomic step.
//!
//! Every file of a run is written into a **staging folder** beside the output
//! folder (`.<out>.maillage-staging.<pid>`, in the same parent, so on the same
//! file system). Only when all are written and synced does [`Staging::commit`]
//! make them the output folder's content, in one step:
//!
//! 1. every target is checked first: a file the run writes whose name is taken in
//!    the output folder by a folder is refused before anything changes;
//! 2. what the output folder holds besides this run's files (earlier outputs of
//!    other commands, the user's own files) is hard-linked into the staging
//!    folder, so that it survives; the `-wal`, `-shm` and `-journal` files of a
//!    SQLite database this run replaces are not (another program's stale
//!    write-ahead log would corrupt the new GeoPackage);
//! 3. `renameat2(RENAME_EXCHANGE)` swaps the two folders atomically: a reader
//!    sees the old set or the new set, never a mix; the old set, now under the
//!    staging name, is then removed. Where the file system cannot exchange, the
//!    old folder is renamed away and the new one into place (between the two
//!    renames the folder is briefly absent, never mixed).
//!
//! A **lock** (`.<out>.maillage.lock` in the parent, `flock`) keeps two runs on one
//! output folder from interleaving: the second waits for the first and then
//! replaces its set whole. Holding the lock, a run removes the staging folders of
//! killed runs (and the `.<name>.<pid>.tmp` files older versions left inside the
//! output folder).
//!
//! When the output folder is the working directory or holds it (`--out .`), the
//! folder itself cannot be swapped (the shell would be left in a removed
//! folder): the files are renamed into it one by one, after every target was
//! checked; a kill during those renames can leave a mix.
//!
//! Fault injection, for the tests: `MAILLAGE_FAULT_AT=<step>` aborts the process
//! (as `kill -9` would) when the commit reaches `staged`, `linked`, `exchanged`
//! or `cleaned`.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::thread::JoinHandle;

use crate::error::{Error, Result};

/// Files written to a folder, all put in place at once by [`Staging::commit`].
///
/// Files can be written from several threads at once. Each written file is synced
/// to disk on a thread of its own while the next one is being written (16 MB of
/// `territories.geojson` take 15 ms to sync); [`Staging::commit`] waits for every
/// sync before anything is put in place.
pub struct Staging {
    /// The output folder as the user named it (messages name files under it).
    dir: PathBuf,
    /// The output folder, absolute, symbolic links resolved.
    target: PathBuf,
    /// The staging folder beside it.
    stage: PathBuf,
    /// Held until the staging ends: no other run writes this output folder.
    _lock: File,
    /// (staged path, final path) of every file, in the order staged.
    staged: Mutex<Vec<(PathBuf, PathBuf)>>,
    /// The syncs under way, with the final path each one is for.
    syncs: Mutex<Vec<(PathBuf, JoinHandle<std::io::Result<()>>)>>,
    committed: bool,
}

/// Aborts the process at a commit step named by `MAILLAGE_FAULT_AT` (tests).
fn fault(step: &str) {
    if std::env::var("MAILLAGE_FAULT_AT").is_ok_and(|s| s == step) {
        std::process::abort();
    }
}

impl Staging {
    /// Takes the output folder's lock (waiting for another run that holds it),
    /// removes what killed runs left, and creates the staging folder.
    ///
    /// # Errors
    /// [`Error::Io`] naming the output folder when it is not a folder, cannot be
    /// written, or its parent cannot hold the staging folder.
    pub fn new(dir: &Path) -> Result<Self> {
        let io = |e| Error::io(dir, e);
        let absolute = std::path::absolute(dir).map_err(io)?;
        let target = if absolute.exists() {
            let t = absolute.canonicalize().map_err(io)?;
            if !t.is_dir() {
                return Err(io(std::io::Error::other(
                    "exists and is not a folder: give --out a folder",
                )));
            }
            // the folder must be writable as it is (a read-only folder stays so)
            let probe = t.join(format!(".maillage-probe.{}", std::process::id()));
            File::create(&probe).map_err(io)?;
            let _ = std::fs::remove_file(&probe);
            t
        } else {
            absolute
        };
        let (parent, name) = match (target.parent(), target.file_name()) {
            (Some(p), Some(n)) => (p.to_owned(), n.to_string_lossy().into_owned()),
            _ => {
                return Err(io(std::io::Error::other(
                    "cannot be replaced (a file system root): give --out a folder of its own",
                )))
            }
        };
        std::fs::create_dir_all(&parent).map_err(io)?;
        let lock_path = parent.join(format!(".{name}.maillage.lock"));
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| Error::io(&lock_path, e))?;
        if lock.try_lock().is_err() {
            eprintln!(
                "maillage: waiting for another run writing {} to end",
                dir.display()
            );
            lock.lock().map_err(|e| Error::io(&lock_path, e))?;
        }
        // what killed runs left: their staging and old folders, and (from
        // earlier versions) hidden temporary files inside the output folder
        let prefix = format!(".{name}.maillage-");
        if let Ok(entries) = std::fs::read_dir(&parent) {
            for e in entries.flatten() {
                let n = e.file_name().to_string_lossy().into_owned();
                if n.starts_with(&prefix) && !n.ends_with(".lock") {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        if let Ok(entries) = std::fs::read_dir(&target) {
            for e in entries.flatten() {
                let n = e.file_name().to_string_lossy().into_owned();
                let legacy = n.starts_with('.')
                    && n.strip_suffix(".tmp")
                        .and_then(|s| s.rsplit_once('.'))
                        .is_some_and(|(_, pid)| {
                            !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit())
                        });
                if legacy {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        let stage = parent.join(format!("{prefix}staging.{}", std::process::id()));
        std::fs::create_dir(&stage).map_err(|e| Error::io(&stage, e))?;
        Ok(Staging {
            dir: dir.to_owned(),
            target,
            stage,
            _lock: lock,
            staged: Mutex::new(Vec::new()),
            syncs: Mutex::new(Vec::new()),
            committed: false,
        })
    }

    /// Writes `name` into the staging folder through `fill`; its sync to disk
    /// starts in the background.
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
        let tmp = self.stage.join(name);
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
    /// another thread: returns the path to create in the staging folder, put in
    /// place by [`Staging::commit`]. Call [`Staging::sync`] on it once written.
    pub fn reserve(&self, name: &str) -> PathBuf {
        let target = self.dir.join(name);
        let tmp = self.stage.join(name);
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

    /// The output folder, as given.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Waits for every file's sync, then puts the staged set in place in one
    /// step (see the module's description); returns the final paths, sorted.
    ///
    /// # Errors
    /// [`Error::Io`] when a sync fails, a target is taken by a folder, or the
    /// swap fails; then the output folder is as it was.
    pub fn commit(mut self) -> Result<Vec<PathBuf>> {
        self.wait()?;
        let staged = std::mem::take(&mut *lock(&self.staged));
        let names: Vec<String> = staged
            .iter()
            .filter_map(|(tmp, _)| tmp.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .collect();
        // 1. every target checked before anything changes
        for ((_, target), name) in staged.iter().zip(&names) {
            if self.target.join(name).is_dir() {
                return Err(Error::io(
                    target,
                    std::io::Error::other(
                        "a folder has this name: it cannot become the output file",
                    ),
                ));
            }
        }
        fault("staged");
        let cwd = std::env::current_dir()
            .and_then(|c| c.canonicalize())
            .unwrap_or_default();
        let exists = self.target.exists();
        if exists && cwd.starts_with(&self.target) {
            // the working directory: files renamed one by one
            for ((tmp, target), name) in staged.iter().zip(&names) {
                std::fs::rename(tmp, self.target.join(name)).map_err(|e| Error::io(target, e))?;
            }
        } else {
            // 2. what the folder holds besides this run's files, kept
            if exists {
                self.carry_over(&names)?;
            }
            fault("linked");
            sync_dir(&self.stage);
            // 3. the swap
            if exists {
                self.exchange()?;
            } else {
                std::fs::rename(&self.stage, &self.target).map_err(|e| Error::io(&self.dir, e))?;
            }
            fault("exchanged");
            if let Some(parent) = self.target.parent() {
                sync_dir(parent);
            }
        }
        // the old set (under the staging name after a swap) goes
        let _ = std::fs::remove_dir_all(&self.stage);
        fault("cleaned");
        self.committed = true;
        let mut done: Vec<PathBuf> = staged.into_iter().map(|(_, target)| target).collect();
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

    /// Links (or copies) into the staging folder every entry of the output folder
    /// this run does not write, but the SQLite side files of the ones it does.
    fn carry_over(&self, names: &[String]) -> Result<()> {
        let io = |e| Error::io(&self.dir, e);
        for e in std::fs::read_dir(&self.target).map_err(io)? {
            let e = e.map_err(io)?;
            let n = e.file_name().to_string_lossy().into_owned();
            if names.contains(&n) {
                continue;
            }
            let side = ["-wal", "-shm", "-journal"].iter().any(|s| {
                n.strip_suffix(s)
                    .is_some_and(|base| names.iter().any(|x| x == base))
            });
            if side {
                continue;
            }
            let (from, to) = (e.path(), self.stage.join(&n));
            let kind = e.file_type().map_err(io)?;
            let kept = if kind.is_dir() {
                // a folder inside the output folder moves with it
                std::fs::rename(&from, &to)
            } else if kind.is_symlink() {
                std::fs::read_link(&from).and_then(|l| symlink(&l, &to))
            } else {
                std::fs::hard_link(&from, &to).or_else(|_| std::fs::copy(&from, &to).map(|_| ()))
            };
            kept.map_err(|e| Error::io(&from, e))?;
        }
        Ok(())
    }

    /// Swaps the staging folder and the output folder in one step; where the
    /// file system cannot, renames the output folder away, then the staging
    /// folder into place.
    fn exchange(&self) -> Result<()> {
        match exchange_paths(&self.stage, &self.target) {
            Ok(()) => Ok(()),
            Err(_) => {
                let old = self.stage.with_extension("old");
                std::fs::rename(&self.target, &old).map_err(|e| Error::io(&self.dir, e))?;
                if let Err(e) = std::fs::rename(&self.stage, &self.target) {
                    let _ = std::fs::rename(&old, &self.target);
                    return Err(Error::io(&self.dir, e));
                }
                std::fs::rename(&old, &self.stage).map_err(|e| Error::io(&self.dir, e))
            }
        }
    }
}

/// `renameat2(a, b, RENAME_EXCHANGE)`: Linux 3.15 and later, on the file systems
/// that support it (ext4, xfs, btrfs, tmpfs…).
#[cfg(target_os = "linux")]
fn exchange_paths(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes()).map_err(|_| std::io::Error::other("a NUL in a path"))
    };
    let (ca, cb) = (c(a)?, c(b)?);
    // SAFETY: two valid NUL-terminated paths, relative to the working directory.
    let r = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange_paths(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::Error::other("no atomic exchange here"))
}

#[cfg(unix)]
fn symlink(link: &Path, at: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(link, at)
}

#[cfg(not(unix))]
fn symlink(link: &Path, at: &Path) -> std::io::Result<()> {
    std::fs::copy(link, at).map(|_| ())
}

/// Syncs a folder's entries to disk (a rename is durable once its folder is).
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
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
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.stage);
        }
    }
}
