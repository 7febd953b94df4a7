// SPDX-License-Identifier: GPL-2.0

//! Per-channel counters, shown in debugfs as `zc9p_virtio/<device>/stats`.

use crate::common::stats::{Counter, ZcStats};
use core::fmt;

/// What one channel did.
pub(crate) struct ChannelStats {
    pub(crate) copy_requests: Counter,
    /// The zero-copy path: requests, payload bytes the device read (writes) and wrote (reads),
    /// pages pinned.
    pub(crate) zc: ZcStats,
    pub(crate) ring_full_waits: Counter,
    /// Waits because an entry could not be mapped for DMA (swiotlb's pool full).
    pub(crate) dma_map_waits: Counter,
    /// Requests sent shorter than asked because the idle device could not take them whole (no
    /// indirect table for a chain longer than the ring, no bounce buffers).
    pub(crate) shortened_requests: Counter,
    /// Zero-copy waiters killed while the device held their pages (they waited for them).
    pub(crate) killed_waits: Counter,
    /// Senders killed before their request reached the device (waiting for ring space).
    pub(crate) killed_unsent: Counter,
    /// Requests finished with an error instead of a reply (a reset, a 0-byte reply).
    pub(crate) failed_requests: Counter,
    /// Times the device was reset to take its buffers back (removal, a broken device).
    pub(crate) device_resets: Counter,
}

impl ChannelStats {
    pub(crate) const fn new() -> Self {
        Self {
            copy_requests: Counter::new(),
            zc: ZcStats::new(),
            ring_full_waits: Counter::new(),
            dma_map_waits: Counter::new(),
            shortened_requests: Counter::new(),
            killed_waits: Counter::new(),
            killed_unsent: Counter::new(),
            failed_requests: Counter::new(),
            device_resets: Counter::new(),
        }
    }

    /// Writes the counters, with the requests the device holds now and whether the channel is
    /// dead (shut down: its device was removed or stopped working).
    pub(crate) fn write(&self, f: &mut fmt::Formatter<'_>, tag: &str, on_device: usize, dead: bool) -> fmt::Result {
        writeln!(f, "tag: {tag}")?;
        writeln!(f, "dead: {}", u8::from(dead))?;
        writeln!(f, "on_device: {on_device}")?;
        writeln!(f, "copy_requests: {}", self.copy_requests.get())?;
        self.zc.write(f, "zc_bytes_to_device", "zc_bytes_from_device")?;
        writeln!(f, "ring_full_waits: {}", self.ring_full_waits.get())?;
        writeln!(f, "dma_map_waits: {}", self.dma_map_waits.get())?;
        writeln!(f, "shortened_requests: {}", self.shortened_requests.get())?;
        writeln!(f, "killed_waits: {}", self.killed_waits.get())?;
        writeln!(f, "killed_unsent: {}", self.killed_unsent.get())?;
        writeln!(f, "failed_requests: {}", self.failed_requests.get())?;
        writeln!(f, "device_resets: {}", self.device_resets.get())
    }
}
