// SPDX-License-Identifier: GPL-2.0

//! The module's debugfs directory: `<module>/pins` (the module-wide pin budget) and one
//! `<module>/<name>/stats` file per channel or connection, through the kernel crate's `debugfs`.

use crate::common::trans_common::PinBudget;
use core::fmt;
use kernel::{
    debugfs::{Dir, File},
    prelude::*,
    str::CStr,
    sync::Arc,
};

/// Something with a debugfs `stats` file.
pub(crate) trait WriteStats: Send + Sync + 'static {
    /// Writes the file's contents.
    fn write_stats(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

kernel::sync::global_lock! {
    // SAFETY: Initialised by the module initialiser before anything registers.
    /// The module's debugfs directory and its `pins` file, from module init to module exit.
    pub(crate) unsafe(uninit) static DEBUGFS: Mutex<Option<ModuleDebugfs>> = None;
}

/// The module's debugfs directory, with the module-wide `pins` file.
pub(crate) struct ModuleDebugfs {
    root: Dir,
    _pins: Pin<KBox<File<()>>>,
}

impl ModuleDebugfs {
    /// Creates `name/` and `name/pins` and publishes them for the channels.
    pub(crate) fn create(name: &'static CStr) -> Result {
        let root = Dir::new(name);
        let pins = KBox::pin_init(
            root.read_callback_file(c"pins", (), &|(): &(), f| PinBudget::write_counters(f)),
            GFP_KERNEL,
        )?;
        *DEBUGFS.lock() = Some(Self { root, _pins: pins });
        Ok(())
    }

    /// Removes the module's directory (after every channel's).
    pub(crate) fn remove() {
        drop(DEBUGFS.lock().take());
    }
}

/// What a `stats` file holds: a reference to its channel or connection, given back when the
/// [`StatsDir`] is dropped.
struct StatsFile<T: WriteStats>(Arc<T>);

/// A debugfs directory `<module>/<name>/` with a `stats` file. Dropping it removes both, after
/// readers of the file are done.
pub(crate) struct StatsDir<T: WriteStats> {
    _stats: Pin<KBox<File<StatsFile<T>>>>,
    _dir: Dir,
}

impl<T: WriteStats> StatsDir<T> {
    /// Creates `name/stats` under the module's directory for `of`.
    pub(crate) fn create(name: &CStr, of: Arc<T>) -> Result<Self> {
        let dir = match DEBUGFS.lock().as_ref() {
            Some(module) => module.root.subdir(name),
            None => return Err(ENOENT),
        };
        let stats = KBox::pin_init(
            dir.read_callback_file(c"stats", StatsFile(of), &|s: &StatsFile<T>, f| {
                s.0.write_stats(f)
            }),
            GFP_KERNEL,
        )?;
        Ok(Self {
            _stats: stats,
            _dir: dir,
        })
    }
}
