// SPDX-License-Identifier: GPL-2.0

//! Per-connection counters, shown in debugfs as `zc9p_fd/<transport>-<id>/stats`.

use crate::common::counters::{counters, Counter, ZcStats};

counters! {
    /// What one connection did; `write` writes them after the connection's own lines.
    pub(crate) struct ConnStats {
        copy_requests: Counter,
        /// The zero-copy path: requests, payload bytes sent from and received into the callers'
        /// pages, pages pinned.
        zc: ZcStats = ("zc_bytes_sent", "zc_bytes_received"),
        /// Frames sent whose payload pages the socket referenced instead of copying
        /// (`MSG_SPLICE_PAGES`).
        spliced_sends: Counter,
        frames_sent: Counter,
        frames_received: Counter,
        /// Write-space wake-ups that did not run the worker (no frame was waiting for room).
        write_wakeups_ignored: Counter,
        /// Zero-copy waiters killed while their request was in flight.
        killed_waits: Counter,
        /// Requests taken back before they were sent (a killed caller).
        killed_unsent: Counter,
        /// Killed writers whose frame was partly sent: the rest of their payload was copied.
        killed_mid_send: Counter,
        /// Requests finished with an error instead of a reply (a failed connection).
        failed_requests: Counter,
        /// Frames the reader refused (the connection failed on each).
        protocol_errors: Counter,
        /// Submissions that sent from the submitting task (only on a socket of ours).
        inline_sends: Counter,
        /// Submissions that waited for a table node (none spare, none could be allocated).
        node_waits: Counter,
        /// Replies that came while their request's frame was still being sent (an early Rlerror).
        early_replies: Counter,
    }
}
