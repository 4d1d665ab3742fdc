//! What a long run is doing, for whoever wants to show it: the stage, and where
//! it is known how far that stage has gone. The library only counts (atomics, no
//! lock on the hot path); the command line draws it on a terminal.
//!
//! # Examples
//! ```
//! use maillage::progress::Progress;
//! let p = Progress::default();
//! p.start("overlay", 100);
//! p.advance(40);
//! assert_eq!(p.snapshot(), ("overlay", 40, 100));
//! ```

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;

/// The stage under way and its count of items done out of a total (0: unknown).
#[derive(Debug, Default)]
pub struct Progress {
    stage: Mutex<&'static str>,
    done: AtomicU64,
    total: AtomicU64,
}

impl Progress {
    /// A new stage with `total` items to do (0 when unknown).
    pub fn start(&self, stage: &'static str, total: u64) {
        *self.stage.lock().unwrap_or_else(|p| p.into_inner()) = stage;
        self.done.store(0, Relaxed);
        self.total.store(total, Relaxed);
    }

    /// `n` more items done.
    pub fn advance(&self, n: u64) {
        self.done.fetch_add(n, Relaxed);
    }

    /// The stage, items done, items in all.
    pub fn snapshot(&self) -> (&'static str, u64, u64) {
        let stage = *self.stage.lock().unwrap_or_else(|p| p.into_inner());
        (stage, self.done.load(Relaxed), self.total.load(Relaxed))
    }
}
