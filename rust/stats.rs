// SPDX-License-Identifier: GPL-2.0

//! Per-channel counters, shown in debugfs as `zc9p_virtio/<device>/stats`, and the module-wide
//! pin counters in `zc9p_virtio/pins`.

use crate::{bindings as zb, trans_common::PinBudget};
use kernel::{
    bindings,
    seq_file::SeqFile,
    seq_print,
    sync::atomic::{Atomic, Relaxed},
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

    /// Prints the counters, with the requests the device holds now and whether the channel is
    /// dead (shut down: its device was removed or stopped working).
    pub(crate) fn show(&self, m: &SeqFile, tag: &str, on_device: usize, dead: bool) {
        seq_print!(m, "tag: {}\n", tag);
        seq_print!(m, "dead: {}\n", u8::from(dead));
        seq_print!(m, "on_device: {}\n", on_device);
        seq_print!(m, "copy_requests: {}\n", self.copy_requests.get());
        seq_print!(m, "zc_requests: {}\n", self.zc_requests.get());
        seq_print!(m, "zc_bytes_to_device: {}\n", self.zc_bytes_to_device.get());
        seq_print!(m, "zc_bytes_from_device: {}\n", self.zc_bytes_from_device.get());
        seq_print!(m, "pinned_pages: {}\n", self.pinned_now.load(Relaxed));
        seq_print!(m, "pinned_pages_peak: {}\n", self.pinned_peak.load(Relaxed));
        seq_print!(m, "pin_budget_waits: {}\n", self.pin_budget_waits.get());
        seq_print!(m, "ring_full_waits: {}\n", self.ring_full_waits.get());
        seq_print!(m, "killed_waits: {}\n", self.killed_waits.get());
        seq_print!(m, "failed_requests: {}\n", self.failed_requests.get());
        seq_print!(m, "device_resets: {}\n", self.device_resets.get());
    }
}

/// The module's debugfs directory.
pub(crate) fn module_root() -> *mut bindings::dentry {
    // SAFETY: FFI call without preconditions; the root lives until module exit.
    unsafe { zb::zc9p_debugfs_root() }
}

/// Prints the module-wide pin counters.
pub(crate) fn show_pins(m: &SeqFile) {
    let (now, peak, waits) = PinBudget::counters();
    seq_print!(m, "pin_budget: {}\n", PinBudget::limit());
    seq_print!(m, "pinned_pages: {}\n", now);
    seq_print!(m, "pinned_pages_peak: {}\n", peak);
    seq_print!(m, "pin_budget_waits: {}\n", waits);
}

/// A debugfs directory, removed (with everything in it) when dropped.
///
/// # Invariants
///
/// `dentry` is what `debugfs_create_dir` returned (possibly an error pointer, which debugfs
/// functions accept and ignore).
pub(crate) struct DebugfsDir {
    dentry: *mut bindings::dentry,
}

// SAFETY: debugfs entries may be created and removed from any task.
unsafe impl Send for DebugfsDir {}
// SAFETY: The handle is only read.
unsafe impl Sync for DebugfsDir {}

impl DebugfsDir {
    /// Creates `name` under `parent` (the module's root if null).
    pub(crate) fn new(name: &core::ffi::CStr, parent: *mut bindings::dentry) -> Self {
        // SAFETY: `name` is NUL-terminated; `parent` is null or a live debugfs directory.
        let dentry = unsafe { bindings::debugfs_create_dir(name.as_ptr().cast(), parent) };
        Self { dentry }
    }

    /// Adds a read-only file printed by `zc9p_rs_stats_show(m, ctx)`.
    ///
    /// `ctx` must stay valid until this directory is dropped.
    pub(crate) fn add_stats_file(&self, name: &core::ffi::CStr, ctx: *mut kernel::ffi::c_void) {
        // SAFETY: The directory is live (type invariant); removal of the directory drains
        // readers before the owner of `ctx` goes away.
        unsafe { zb::zc9p_debugfs_create_stats(name.as_ptr().cast(), self.dentry, ctx) };
    }
}

impl Drop for DebugfsDir {
    fn drop(&mut self) {
        // SAFETY: `dentry` came from `debugfs_create_dir` (type invariant); removal waits for
        // open readers of its files to finish.
        unsafe { bindings::debugfs_remove(self.dentry) };
    }
}
