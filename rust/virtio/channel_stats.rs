// SPDX-License-Identifier: GPL-2.0

//! Per-channel counters, shown in debugfs as `zc9p_virtio/<device>/stats`.

use crate::common::counters::{counters, Counter, ZcStats};

counters! {
    /// What one channel did; `write` writes them after the channel's own lines (its tag,
    /// whether it is dead, the requests the device holds).
    pub(crate) struct ChannelStats {
        copy_requests: Counter,
        /// The zero-copy path: requests, payload bytes the device read (writes) and wrote
        /// (reads), pages pinned.
        zc: ZcStats = ("zc_bytes_to_device", "zc_bytes_from_device"),
        ring_full_waits: Counter,
        /// Waits because an entry could not be mapped for DMA (swiotlb's pool full).
        dma_map_waits: Counter,
        /// Requests sent shorter than asked because the idle device could not take them whole
        /// (no indirect table for a chain longer than the ring, no bounce buffers).
        shortened_requests: Counter,
        /// Zero-copy waiters killed while the device held their pages (they waited for them).
        killed_waits: Counter,
        /// Senders killed before their request reached the device (waiting for ring space).
        killed_unsent: Counter,
        /// Requests finished with an error instead of a reply (a reset, a 0-byte reply).
        failed_requests: Counter,
        /// Times the device was reset to take its buffers back (removal, a broken device).
        device_resets: Counter,
    }
}
