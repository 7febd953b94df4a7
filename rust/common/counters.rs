// SPDX-License-Identifier: GPL-2.0

//! Counters: event and byte counts, the pinned-pages gauge, the zero-copy path's group of them,
//! and [`counters!`], which declares a struct of them with its `stats` file text (see
//! [`debugfs`](super::debugfs) for the files).

use core::fmt;
use kernel::sync::atomic::{Atomic, Relaxed};

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

/// Pages pinned now, and the most pinned at once.
pub(crate) struct PinGauge {
    now: Atomic<usize>,
    peak: Atomic<usize>,
}

impl PinGauge {
    pub(crate) const fn new() -> Self {
        Self {
            now: Atomic::new(0),
            peak: Atomic::new(0),
        }
    }

    /// Records `pages` more pages pinned.
    pub(crate) fn pin(&self, pages: usize) {
        let now = self.now.fetch_add(pages, Relaxed) + pages;
        let mut peak = self.peak.load(Relaxed);
        while now > peak {
            match self.peak.cmpxchg(peak, now, Relaxed) {
                Ok(_) => break,
                Err(p) => peak = p,
            }
        }
    }

    /// Records `pages` pages released.
    pub(crate) fn unpin(&self, pages: usize) {
        self.now.fetch_sub(pages, Relaxed);
    }

    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "pinned_pages: {}", self.now.load(Relaxed))?;
        writeln!(f, "pinned_pages_peak: {}", self.peak.load(Relaxed))
    }
}

/// A counter's lines in a `stats` file, under the names the [`counters!`] declaration gives.
pub(crate) trait WriteCounter {
    /// The names of its lines: one name, or a group's names for the lines it names itself.
    type Names;

    /// Writes its lines.
    fn write_counter(&self, f: &mut fmt::Formatter<'_>, names: Self::Names) -> fmt::Result;
}

impl WriteCounter for Counter {
    type Names = &'static str;

    fn write_counter(&self, f: &mut fmt::Formatter<'_>, name: &'static str) -> fmt::Result {
        writeln!(f, "{name}: {}", self.get())
    }
}

impl WriteCounter for ZcStats {
    /// The names of the payload byte counters, out and in.
    type Names = (&'static str, &'static str);

    fn write_counter(&self, f: &mut fmt::Formatter<'_>, (out, inn): Self::Names) -> fmt::Result {
        self.write(f, out, inn)
    }
}

/// Declares a struct of counters, one line each, with its `const fn new()` (every counter at
/// zero) and its `write(&self, f)`, which writes one `name: value` line per counter, in the
/// declared order (a [`ZcStats`] writes its group of lines, the names of its byte counters
/// given after `=`):
///
/// ```ignore
/// counters! {
///     /// What one connection did.
///     pub(crate) struct ConnStats {
///         copy_requests: Counter,
///         /// The zero-copy path.
///         zc: ZcStats = ("zc_bytes_sent", "zc_bytes_received"),
///     }
/// }
/// ```
macro_rules! counters {
    (
        $(#[$attr:meta])*
        $vis:vis struct $name:ident {
            $(
                $(#[$field_attr:meta])*
                $field:ident: $ty:ty $(= $names:expr)?
            ),* $(,)?
        }
    ) => {
        $(#[$attr])*
        $vis struct $name {
            $(
                $(#[$field_attr])*
                pub(crate) $field: $ty,
            )*
        }

        impl $name {
            /// Every counter at zero.
            pub(crate) const fn new() -> Self {
                Self { $($field: <$ty>::new(),)* }
            }

            /// Writes one line per counter (a group's lines for a group), in declared order.
            pub(crate) fn write(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                $(
                    $crate::common::counters::WriteCounter::write_counter(
                        &self.$field,
                        f,
                        $crate::common::counters::counters!(@names $field $($names)?),
                    )?;
                )*
                Ok(())
            }
        }
    };
    (@names $field:ident) => { ::core::stringify!($field) };
    (@names $field:ident $names:expr) => { $names };
}
pub(crate) use counters;

/// What the zero-copy path of one channel or connection did.
pub(crate) struct ZcStats {
    pub(crate) requests: Counter,
    /// Payload bytes the other side read straight from the caller's pages (writes).
    pub(crate) bytes_out: Counter,
    /// Payload bytes the other side wrote straight into the caller's pages (reads, readdir).
    pub(crate) bytes_in: Counter,
    pub(crate) pins: PinGauge,
    pub(crate) pin_budget_waits: Counter,
}

impl ZcStats {
    pub(crate) const fn new() -> Self {
        Self {
            requests: Counter::new(),
            bytes_out: Counter::new(),
            bytes_in: Counter::new(),
            pins: PinGauge::new(),
            pin_budget_waits: Counter::new(),
        }
    }

    /// Writes the counters; the byte counters are named `out` and `in` by the transport
    /// (`zc_bytes_to_device` on virtio, `zc_bytes_sent` on a socket).
    pub(crate) fn write(&self, f: &mut fmt::Formatter<'_>, out: &str, inn: &str) -> fmt::Result {
        writeln!(f, "zc_requests: {}", self.requests.get())?;
        writeln!(f, "{out}: {}", self.bytes_out.get())?;
        writeln!(f, "{inn}: {}", self.bytes_in.get())?;
        self.pins.write(f)?;
        writeln!(f, "pin_budget_waits: {}", self.pin_budget_waits.get())
    }
}
