// SPDX-License-Identifier: GPL-2.0

//! Per-channel counters, shown in debugfs as `zc9p_virtio/<device>/stats`, and the module-wide
//! pin counters in `zc9p_virtio/pins`, through the kernel crate's `debugfs`.

use crate::{channel::Channel, trans_common::PinBudget};
use core::fmt;
use kernel::{
    debugfs::{Dir, File},
    prelude::*,
    str::CStr,
    sync::{
        atomic::{Atomic, Relaxed},
        Arc,
    },
};

/// A monotonically increasing event or byte count.
pub(crate) struct Counter(Atomic<u64>);

impl Counter {
    pub(crate) const fn new() -> Self {
        Self(Atomic::new(0))
    }

    #[inline]
    pub(crate) fn add(&self, n: u64) {
        self.0.fetch_add(n, Relaxed);
    }

    pub(crate) fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }
}

/// What one channel did.
pub(crate) struct ChannelStats {
    pub(crate) copy_requests: Counter,
    pub(crate) zc_requests: Counter,
    /// Payload bytes the device read straight from the caller's pages (writes).
    pub(crate) zc_bytes_to_device: Counter,
    /// Payload bytes the device wrote straight into the caller's pages (reads, readdir).
    pub(crate) zc_bytes_from_device: Counter,
    pub(crate) pin_budget_waits: Counter,
    pub(crate) ring_full_waits: Counter,
    /// Zero-copy waiters killed while the device held their pages (they waited for them).
    pub(crate) killed_waits: Counter,
    /// Senders killed before their request reached the device (waiting for ring space).
    pub(crate) killed_unsent: Counter,
    /// Requests finished with an error instead of a reply (a reset, a 0-byte reply).
    pub(crate) failed_requests: Counter,
    /// Times the device was reset to take its buffers back (removal, a broken device).
    pub(crate) device_resets: Counter,
    pinned_now: Atomic<usize>,
    pinned_peak: Atomic<usize>,
}

impl ChannelStats {
    pub(crate) const fn new() -> Self {
        Self {
            copy_requests: Counter::new(),
            zc_requests: Counter::new(),
            zc_bytes_to_device: Counter::new(),
            zc_bytes_from_device: Counter::new(),
            pin_budget_waits: Counter::new(),
            ring_full_waits: Counter::new(),
            killed_waits: Counter::new(),
            killed_unsent: Counter::new(),
            failed_requests: Counter::new(),
            device_resets: Counter::new(),
            pinned_now: Atomic::new(0),
            pinned_peak: Atomic::new(0),
        }
    }

    /// Records `pages` more pages pinned by this channel's requests.
    pub(crate) fn pin(&self, pages: usize) {
        let now = self.pinned_now.fetch_add(pages, Relaxed) + pages;
        let mut peak = self.pinned_peak.load(Relaxed);
        while now > peak {
            match self.pinned_peak.cmpxchg(peak, now, Relaxed) {
                Ok(_) => break,
                Err(p) => peak = p,
            }
        }
    }

    /// Records `pages` pages released.
    pub(crate) fn unpin(&self, pages: usize) {
        self.pinned_now.fetch_sub(pages, Relaxed);
    }

    /// Writes the counters, with the requests the device holds now and whether the channel is
    /// dead (shut down: its device was removed or stopped working).
    pub(crate) fn write(&self, f: &mut fmt::Formatter<'_>, tag: &str, on_device: usize, dead: bool) -> fmt::Result {
        writeln!(f, "tag: {tag}")?;
        writeln!(f, "dead: {}", u8::from(dead))?;
        writeln!(f, "on_device: {on_device}")?;
        writeln!(f, "copy_requests: {}", self.copy_requests.get())?;
        writeln!(f, "zc_requests: {}", self.zc_requests.get())?;
        writeln!(f, "zc_bytes_to_device: {}", self.zc_bytes_to_device.get())?;
        writeln!(f, "zc_bytes_from_device: {}", self.zc_bytes_from_device.get())?;
        writeln!(f, "pinned_pages: {}", self.pinned_now.load(Relaxed))?;
        writeln!(f, "pinned_pages_peak: {}", self.pinned_peak.load(Relaxed))?;
        writeln!(f, "pin_budget_waits: {}", self.pin_budget_waits.get())?;
        writeln!(f, "ring_full_waits: {}", self.ring_full_waits.get())?;
        writeln!(f, "killed_waits: {}", self.killed_waits.get())?;
        writeln!(f, "killed_unsent: {}", self.killed_unsent.get())?;
        writeln!(f, "failed_requests: {}", self.failed_requests.get())?;
        writeln!(f, "device_resets: {}", self.device_resets.get())
    }
}

kernel::sync::global_lock! {
    // SAFETY: Initialised by the module initialiser before the driver registers.
    /// The module's debugfs directory and its `pins` file, from module init to module exit.
    pub(crate) unsafe(uninit) static DEBUGFS: Mutex<Option<ModuleDebugfs>> = None;
}

/// The module's debugfs directory, `zc9p_virtio/`, with the module-wide `pins` file.
pub(crate) struct ModuleDebugfs {
    root: Dir,
    _pins: Pin<KBox<File<()>>>,
}

impl ModuleDebugfs {
    /// Creates `zc9p_virtio/` and `zc9p_virtio/pins` and publishes them for the channels.
    pub(crate) fn create() -> Result {
        let root = Dir::new(c"zc9p_virtio");
        let pins = KBox::pin_init(
            root.read_callback_file(c"pins", (), &|_: &(), f| PinBudget::write_counters(f)),
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

/// A channel's `stats` file; the file holds a channel reference, given back when the channel
/// drops its [`ChannelDebugfs`] (device removal).
struct StatsFile(Arc<Channel>);

/// A channel's debugfs directory, `zc9p_virtio/<device>/`, with its `stats` file. Dropping it
/// removes both, after readers of the file are done.
pub(crate) struct ChannelDebugfs {
    _stats: Pin<KBox<File<StatsFile>>>,
    _dir: Dir,
}

impl ChannelDebugfs {
    /// Creates `name/stats` under the module's directory for `chan`.
    pub(crate) fn create(name: &CStr, chan: Arc<Channel>) -> Result<Self> {
        let dir = match DEBUGFS.lock().as_ref() {
            Some(module) => module.root.subdir(name),
            None => return Err(ENOENT),
        };
        let stats = KBox::pin_init(
            dir.read_callback_file(c"stats", StatsFile(chan), &|s: &StatsFile, f| s.0.write_stats(f)),
            GFP_KERNEL,
        )?;
        Ok(Self { _stats: stats, _dir: dir })
    }
}
