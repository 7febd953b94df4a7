// SPDX-License-Identifier: GPL-2.0

//! Per-connection counters, shown in debugfs as `zc9p_fd/<transport>-<id>/stats`.

use crate::common::stats::{Counter, ZcStats};
use core::fmt;

/// What one connection did.
pub(crate) struct ConnStats {
    pub(crate) copy_requests: Counter,
    /// The zero-copy path: requests, payload bytes sent from and received into the callers'
    /// pages, pages pinned.
    pub(crate) zc: ZcStats,
    /// Frames sent whose payload pages the socket referenced instead of copying
    /// (`MSG_SPLICE_PAGES`).
    pub(crate) spliced_sends: Counter,
    pub(crate) frames_sent: Counter,
    pub(crate) frames_received: Counter,
    /// Write-space wake-ups that did not run the worker (no frame was waiting for room).
    pub(crate) write_wakeups_ignored: Counter,
    /// Zero-copy waiters killed while their request was in flight.
    pub(crate) killed_waits: Counter,
    /// Requests taken back before they were sent (a killed caller).
    pub(crate) killed_unsent: Counter,
    /// Killed writers whose frame was partly sent: the rest of their payload was copied.
    pub(crate) killed_mid_send: Counter,
    /// Requests finished with an error instead of a reply (a failed connection).
    pub(crate) failed_requests: Counter,
    /// Frames the reader refused (the connection failed on each).
    pub(crate) protocol_errors: Counter,
    /// Submissions that sent from the submitting task (only on a socket of ours).
    pub(crate) inline_sends: Counter,
    /// Submissions that waited for a table node (none spare, none could be allocated).
    pub(crate) node_waits: Counter,
    /// Replies that came while their request's frame was still being sent (an early Rlerror).
    pub(crate) early_replies: Counter,
}

impl ConnStats {
    pub(crate) const fn new() -> Self {
        Self {
            copy_requests: Counter::new(),
            zc: ZcStats::new(),
            spliced_sends: Counter::new(),
            frames_sent: Counter::new(),
            frames_received: Counter::new(),
            write_wakeups_ignored: Counter::new(),
            killed_waits: Counter::new(),
            killed_unsent: Counter::new(),
            killed_mid_send: Counter::new(),
            failed_requests: Counter::new(),
            protocol_errors: Counter::new(),
            inline_sends: Counter::new(),
            node_waits: Counter::new(),
            early_replies: Counter::new(),
        }
    }

    /// Writes the counters after the connection's own lines.
    pub(crate) fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "copy_requests: {}", self.copy_requests.get())?;
        self.zc.write(f, "zc_bytes_sent", "zc_bytes_received")?;
        writeln!(f, "spliced_sends: {}", self.spliced_sends.get())?;
        writeln!(f, "frames_sent: {}", self.frames_sent.get())?;
        writeln!(f, "frames_received: {}", self.frames_received.get())?;
        writeln!(f, "write_wakeups_ignored: {}", self.write_wakeups_ignored.get())?;
        writeln!(f, "killed_waits: {}", self.killed_waits.get())?;
        writeln!(f, "killed_unsent: {}", self.killed_unsent.get())?;
        writeln!(f, "killed_mid_send: {}", self.killed_mid_send.get())?;
        writeln!(f, "failed_requests: {}", self.failed_requests.get())?;
        writeln!(f, "protocol_errors: {}", self.protocol_errors.get())?;
        writeln!(f, "inline_sends: {}", self.inline_sends.get())?;
        writeln!(f, "node_waits: {}", self.node_waits.get())?;
        writeln!(f, "early_replies: {}", self.early_replies.get())
    }
}
