// SPDX-License-Identifier: GPL-2.0

//! Helpers shared by zc9p's transports: the pages behind a zero-copy payload and the global
//! pin budget.
//!
//! A zero-copy request hands the device the payload's pages instead of a copy. Every payload's
//! pages are counted against a module-wide budget while the transport holds them (lent to a
//! device or a socket): user-backed iterators (UBUF/IOVEC), which are also pinned (FOLL_PIN, so
//! a concurrent fork cannot steal a page from under a direct-I/O read), and the kernel-backed
//! ones netfs hands over for all file I/O (BVEC, FOLIOQ, and KVEC for readdir), which are only
//! listed: their owner keeps the pages for the request.

use crate::{
    bindings as zb,
    common::{
        iov::PayloadIter,
        segments::{Segment, SegmentList},
        wait::WaitQueue,
    },
};
use kernel::{
    bindings,
    prelude::*,
    sync::atomic::{Atomic, Relaxed},
};

const PAGE_SIZE: usize = kernel::page::PAGE_SIZE;

/// Page pointers extracted per `iov_iter_extract_pages` call (a stack scratch array).
const EXTRACT_BATCH: usize = 16;

/// Releases one FOLL_PIN pin on each of `pages`, marking them dirty first if the device wrote
/// them; one call for the whole batch.
fn unpin_pages(pages: &mut [*mut bindings::page], dirty: bool) {
    if pages.is_empty() {
        return;
    }
    // SAFETY: The callers pass pages that each carry one pin taken by `iov_iter_extract_pages`,
    // which they give up here and never use again.
    unsafe {
        if dirty {
            bindings::unpin_user_pages_dirty_lock(pages.as_mut_ptr(), pages.len(), true);
        } else {
            bindings::unpin_user_pages(pages.as_mut_ptr(), pages.len());
        }
    }
}

/// Runs `f` with every allocation as GFP_NOIO: a transport's worker (and its request path) runs
/// under writeback, where reclaim must not wait for I/O, least of all its own.
#[cfg_attr(
    any(zc9p_virtio, zc9p_pintest),
    expect(dead_code, reason = "zc9p_fd's only")
)]
pub(crate) fn noio<T>(f: impl FnOnce() -> T) -> T {
    // SAFETY: Save and restore are paired on this task.
    let flags = unsafe { zb::zc9p_memalloc_noio_save() };
    let ret = f();
    // SAFETY: `flags` came from the matching save above.
    unsafe { zb::zc9p_memalloc_noio_restore(flags) };
    ret
}

/// The module-wide pin budget: flow control, so the pages transports hold for requests in
/// flight cannot exhaust memory. Every zero-copy payload is charged, pinned or not.
///
/// The limit is the `pin_budget` module parameter, or a quarter of `nr_free_buffer_pages()`
/// (mainline's limit) when that is 0.
pub(crate) struct PinBudget;

/// Pages charged now (lent to a device or socket), and the most at once.
static LENT: Atomic<usize> = Atomic::new(0);
static LENT_PEAK: Atomic<usize> = Atomic::new(0);
/// Of them, user pages pinned (FOLL_PIN), and the most at once.
static PINNED: Atomic<usize> = Atomic::new(0);
static PINNED_PEAK: Atomic<usize> = Atomic::new(0);

/// Adds `n` to `now`, raising `peak` to the sum if it is higher.
fn gauge_add(now: &Atomic<usize>, peak: &Atomic<usize>, n: usize) {
    let sum = now.fetch_add(n, Relaxed) + n;
    let mut p = peak.load(Relaxed);
    while sum > p {
        match peak.cmpxchg(p, sum, Relaxed) {
            Ok(_) => break,
            Err(q) => p = q,
        }
    }
}
static BUDGET_WAITS: Atomic<u64> = Atomic::new(0);
static DEFAULT_LIMIT: Atomic<usize> = Atomic::new(0);

impl PinBudget {
    /// Computes the default limit; call once at module init.
    pub(crate) fn init() {
        // SAFETY: FFI call without preconditions.
        let free = unsafe { bindings::nr_free_buffer_pages() } as usize;
        DEFAULT_LIMIT.store(default_limit(free), Relaxed);
    }

    /// The current limit, in pages.
    pub(crate) fn limit() -> usize {
        // SAFETY: FFI call without preconditions.
        let param = unsafe { zb::zc9p_param_pin_budget() } as usize;
        effective_limit(param, DEFAULT_LIMIT.load(Relaxed))
    }

    /// Writes the budget, the pages charged to it now and at most, how often a request
    /// waited, the user pages pinned now and at most, and the segment-list pool's counters (a
    /// debugfs `pins` file).
    pub(crate) fn write_counters(f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        writeln!(f, "pin_budget: {}", Self::limit())?;
        writeln!(f, "lent_pages: {}", LENT.load(Relaxed))?;
        writeln!(f, "lent_pages_peak: {}", LENT_PEAK.load(Relaxed))?;
        writeln!(f, "pin_budget_waits: {}", BUDGET_WAITS.load(Relaxed))?;
        writeln!(f, "pinned_pages: {}", PINNED.load(Relaxed))?;
        writeln!(f, "pinned_pages_peak: {}", PINNED_PEAK.load(Relaxed))?;
        crate::common::segments::write_counters(f)
    }

    fn wait_queue() -> &'static WaitQueue {
        // SAFETY: The shim's wait queue is statically initialised and lives as long as the
        // module.
        unsafe { WaitQueue::from_raw(zb::zc9p_pin_wait_queue()) }
    }

    /// Takes `want` pages, cut to the current limit (which the parameter may lower at any
    /// time), if they fit; returns how many were taken.
    fn try_take(want: usize) -> Option<usize> {
        let limit = Self::limit();
        let mut cur = LENT.load(Relaxed);
        let taken = loop {
            let take = fit(cur, want, limit)?;
            match LENT.cmpxchg(cur, cur + take, Relaxed) {
                Ok(_) => break take,
                Err(now) => cur = now,
            }
        };
        let now = cur + taken;
        let mut peak = LENT_PEAK.load(Relaxed);
        while now > peak {
            match LENT_PEAK.cmpxchg(peak, now, Relaxed) {
                Ok(_) => break,
                Err(p) => peak = p,
            }
        }
        Some(taken)
    }

    /// Reserves up to `want` pages, at most the whole budget as it is when they are taken,
    /// waiting killably while it is used up. Returns the charge, which gives the pages back when
    /// dropped.
    pub(crate) fn acquire(want: usize) -> Result<PinCharge> {
        if let Some(pages) = Self::try_take(want) {
            return Ok(PinCharge {
                pages,
                waited: false,
            });
        }
        BUDGET_WAITS.fetch_add(1, Relaxed);
        let taken = core::cell::Cell::new(0);
        let cond = || match Self::try_take(want) {
            Some(pages) => {
                taken.set(pages);
                true
            }
            None => false,
        };
        // Re-evaluated on every release and at least once a second, so a budget lowered below
        // what this waiter asked for is noticed even when nothing is released.
        let second = kernel::time::msecs_to_jiffies(1000) as kernel::ffi::c_long;
        while !Self::wait_queue().wait_killable_timeout(cond, second)? {}
        Ok(PinCharge {
            pages: taken.get(),
            waited: true,
        })
    }
}

/// The default limit for `free` free buffer pages: a quarter of them (mainline's), at least one.
pub(crate) fn default_limit(free: usize) -> usize {
    (free / 4).max(1)
}

/// The limit in force: the `pin_budget` parameter, or `default` when that is 0; never 0.
pub(crate) fn effective_limit(param: usize, default: usize) -> usize {
    match param {
        0 => default.max(1),
        n => n,
    }
}

/// The pages a request asking for `want` takes when `pinned` are taken of `limit`: `want`, at
/// least one and at most the whole limit (a request larger than the budget goes on with what the
/// budget allows, a shorter request), if that many are free; `None` means wait.
pub(crate) fn fit(pinned: usize, want: usize, limit: usize) -> Option<usize> {
    let want = want.max(1).min(limit.max(1));
    (pinned.checked_add(want)? <= limit).then_some(want)
}

/// Pages reserved in the [`PinBudget`].
///
/// # Invariants
///
/// `pages` pages are counted in `LENT` on behalf of this charge.
pub(crate) struct PinCharge {
    pages: usize,
    waited: bool,
}

impl PinCharge {
    /// Pages this charge may pin.
    #[inline]
    pub(crate) fn pages(&self) -> usize {
        self.pages
    }

    /// Gives back what the request did not use.
    fn shrink_to(&mut self, pages: usize) {
        if pages < self.pages {
            LENT.fetch_sub(self.pages - pages, Relaxed);
            // INVARIANT: The difference was just given back.
            self.pages = pages;
            PinBudget::wait_queue().wake_up();
        }
    }
}

impl Drop for PinCharge {
    fn drop(&mut self) {
        self.shrink_to(0);
    }
}

/// The pages covering one payload, released when dropped.
///
/// # Invariants
///
/// If `segs` is not empty, `charge` is `Some` and covers at least `segs.len()` pages. If
/// `pinned`, every page in `segs` carries one FOLL_PIN pin taken by [`PayloadPages::extract`]
/// and counted in `PINNED`; otherwise the iterator's owner keeps the pages alive for the life
/// of the request. `len` is the sum of the segments' lengths.
pub(crate) struct PayloadPages {
    segs: SegmentList,
    len: usize,
    charge: Option<PinCharge>,
    pinned: bool,
    /// The device writes these pages (a read): mark them dirty when unpinning.
    device_writes: bool,
}

impl PayloadPages {
    /// A payload with no pages: what a request without a payload carries, and what
    /// [`PayloadPages::extract`] fills in place.
    ///
    /// The value is about two hundred bytes (the inline segments), and every move of it is a
    /// `memcpy` on the request path: callers keep it in one place and fill it there.
    pub(crate) const fn new() -> Self {
        // INVARIANT: No segments, no charge, `len` 0.
        Self {
            segs: SegmentList::new(),
            len: 0,
            charge: None,
            pinned: false,
            device_writes: false,
        }
    }

    /// Maps up to `count` bytes of `iter` to at most `max_pages` page segments, advancing it,
    /// into this payload, which must be empty (`EINVAL` otherwise).
    ///
    /// The result may cover less than `count` (the iterator is shorter, the segment limit or
    /// the pin budget was reached, or part of a user buffer is not mapped): [`Self::len`] says
    /// how much, and the caller must shorten the request to match. Only if nothing at all could
    /// be mapped is the extraction error returned (`EFAULT` for an unmapped user buffer), and
    /// the payload is left empty.
    pub(crate) fn extract<I: PayloadIter>(
        &mut self,
        iter: &mut I,
        count: usize,
        max_pages: usize,
    ) -> Result {
        if self.len != 0 || !self.segs.as_slice().is_empty() || self.charge.is_some() {
            return Err(EINVAL);
        }
        let count = count.min(iter.count());
        // The list first: if it has to fall back to its inline room, the charge is smaller.
        let mut max_pages = self
            .segs
            .reserve(max_pages.min(count.div_ceil(PAGE_SIZE) + 1));
        if count > 0 {
            let charge = match PinBudget::acquire(max_pages) {
                Ok(charge) => charge,
                Err(e) => {
                    self.segs.clear();
                    return Err(e);
                }
            };
            max_pages = charge.pages();
            // INVARIANT: No segment yet; segments (and their pins) are added below, within the
            // charge.
            self.charge = Some(charge);
        }
        self.pinned = iter.will_pin();
        self.device_writes = I::DEVICE_WRITES;
        let mut scratch = [core::ptr::null_mut(); EXTRACT_BATCH];
        loop {
            let room = self.segs.room().min(max_pages - self.segs.as_slice().len());
            if self.len >= count || room == 0 {
                break;
            }
            let batch = room.min(EXTRACT_BATCH);
            let (bytes, mut offset, filled) =
                match iter.extract_pages(&mut scratch[..batch], count - self.len) {
                    Ok((0, _, _)) => break,
                    Ok(got) => got,
                    Err(e) if self.len == 0 => {
                        // Nothing mapped, nothing pinned: give the budget and the list back.
                        self.charge = None;
                        self.pinned = false;
                        self.segs.clear();
                        return Err(e);
                    }
                    Err(_) => break,
                };
            let mut left = bytes;
            let mut dropped = 0;
            for (i, &page) in scratch[..filled].iter().enumerate() {
                let len = left.min(PAGE_SIZE - offset);
                // `offset + len <= PAGE_SIZE` by construction, so the segment always exists.
                let pushed = match Segment::new(page, offset, len) {
                    Some(seg) => self.segs.push(seg).is_ok(),
                    None => false,
                };
                if !pushed {
                    // Cannot happen (batches fit the room, runs fit their page); if it did, the
                    // rest of the batch is not part of the payload: give back its pins now.
                    dropped = filled - i;
                    if self.pinned {
                        unpin_pages(&mut scratch[i..filled], false);
                    }
                    break;
                }
                self.len += len;
                left -= len;
                offset = 0;
            }
            if dropped > 0 {
                break;
            }
        }
        let used = self.segs.as_slice().len();
        if let Some(charge) = self.charge.as_mut() {
            charge.shrink_to(used);
        }
        if self.pinned {
            gauge_add(&PINNED, &PINNED_PEAK, used);
        }
        Ok(())
    }

    /// Shortens the payload to its first `len` bytes (a transport that cannot hand it over
    /// whole sends less; the client accepts the short count), giving back the pages past them:
    /// unpinned (never written: the transport has not sent them) and returned to the budget.
    #[cfg_attr(zc9p_pintest, expect(dead_code, reason = "the transports' only"))]
    pub(crate) fn truncate(&mut self, len: usize) {
        if len >= self.len {
            return;
        }
        // The segments that hold the first `len` bytes, and how much of the last one.
        let (mut keep, mut at, mut last_len) = (0, 0, 0);
        for seg in self.segs.as_slice() {
            if at >= len {
                break;
            }
            keep += 1;
            last_len = seg.len().min(len - at);
            at += seg.len();
        }
        if self.pinned {
            let dropped = self.segs.as_slice().len() - keep;
            let mut batch = [core::ptr::null_mut(); EXTRACT_BATCH];
            for chunk in self.segs.as_slice()[keep..].chunks(EXTRACT_BATCH) {
                for (slot, seg) in batch.iter_mut().zip(chunk) {
                    *slot = seg.page();
                }
                // Each page past the cut carries one pin from extraction (type invariant), given
                // up here as its segment goes.
                unpin_pages(&mut batch[..chunk.len()], false);
            }
            PINNED.fetch_sub(dropped, Relaxed);
        }
        self.segs.truncate(keep, last_len);
        // INVARIANT: `len` bytes remain; the charge still covers the segments left.
        self.len = len;
        if let Some(charge) = self.charge.as_mut() {
            charge.shrink_to(keep);
        }
    }

    /// Bytes covered.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The segments, in payload order.
    #[inline]
    #[cfg_attr(zc9p_pintest, expect(dead_code, reason = "the transports' only"))]
    pub(crate) fn segments(&self) -> &[Segment] {
        self.segs.as_slice()
    }

    /// Whether getting the pages had to wait for the pin budget.
    #[inline]
    #[cfg_attr(zc9p_pintest, expect(dead_code, reason = "the transports' only"))]
    pub(crate) fn waited_for_budget(&self) -> bool {
        self.charge.as_ref().is_some_and(|c| c.waited)
    }

    /// Pages pinned (FOLL_PIN) for this payload.
    #[inline]
    #[cfg_attr(zc9p_pintest, expect(dead_code, reason = "the transports' only"))]
    pub(crate) fn pinned_pages(&self) -> usize {
        if self.pinned {
            self.segs.as_slice().len()
        } else {
            0
        }
    }

    /// Pages charged to the budget for this payload.
    #[inline]
    #[cfg_attr(
        not(all(zc9p_virtio, CONFIG_KUNIT = "y")),
        expect(dead_code, reason = "zc9p_virtio's KUnit suites' only")
    )]
    pub(crate) fn charged_pages(&self) -> usize {
        self.charge.as_ref().map_or(0, |c| c.pages())
    }

    /// Copies payload bytes from `pos` into `dst`; returns how many there were.
    pub(crate) fn read_at(&self, pos: usize, dst: &mut [u8]) -> usize {
        self.walk(pos, dst.len(), |seg_page, seg_off, at, n| {
            // SAFETY: `seg_page` is a live page of the payload (type invariant) and
            // `seg_off + n` stays inside it; `dst[at..at + n]` is in bounds.
            unsafe {
                zb::zc9p_memcpy_from_page(dst[at..].as_mut_ptr().cast(), seg_page, seg_off, n)
            }
        })
    }

    /// Copies `src` into the payload at `pos`; returns how many bytes fitted.
    #[allow(dead_code)] // The test module fills pages as a device would; the transport does not.
    pub(crate) fn write_at(&mut self, pos: usize, src: &[u8]) -> usize {
        self.walk(pos, src.len(), |seg_page, seg_off, at, n| {
            // SAFETY: As in `read_at`, with `src[at..at + n]` in bounds.
            unsafe { zb::zc9p_memcpy_to_page(seg_page, seg_off, src[at..].as_ptr().cast(), n) }
        })
    }

    /// Calls `f(page, offset in page, offset in the buffer, length)` for each piece of the
    /// payload range `pos..pos + len` that exists; returns the bytes visited.
    fn walk(
        &self,
        mut pos: usize,
        len: usize,
        mut f: impl FnMut(*mut bindings::page, usize, usize, usize),
    ) -> usize {
        let mut done = 0;
        for seg in self.segs.as_slice() {
            if done == len {
                break;
            }
            if pos >= seg.len() {
                pos -= seg.len();
                continue;
            }
            let n = (seg.len() - pos).min(len - done);
            f(seg.page(), seg.offset() + pos, done, n);
            done += n;
            pos = 0;
        }
        done
    }
}

impl PayloadPages {
    /// Unpins the pages and gives them back to the budget, leaving the payload empty. Done in
    /// place (dropping the value is the same, but `drop(payload)` moves it first).
    #[inline]
    pub(crate) fn release(&mut self) {
        if self.pinned {
            let mut batch = [core::ptr::null_mut(); EXTRACT_BATCH];
            for chunk in self.segs.as_slice().chunks(EXTRACT_BATCH) {
                for (slot, seg) in batch.iter_mut().zip(chunk) {
                    *slot = seg.page();
                }
                // Each page carries one pin from extraction (type invariant), released exactly
                // once here, as `pinned` is cleared below.
                unpin_pages(&mut batch[..chunk.len()], self.device_writes);
            }
            PINNED.fetch_sub(self.segs.as_slice().len(), Relaxed);
        }
        // Gives the pages back to the budget and wakes waiters.
        self.charge = None;
        // INVARIANT: No charge, nothing pinned; the segments are forgotten.
        self.pinned = false;
        self.segs.clear();
        self.len = 0;
    }
}

impl Drop for PayloadPages {
    fn drop(&mut self) {
        self.release();
    }
}

// SAFETY: The pages and pins may be released from any task.
unsafe impl Send for PayloadPages {}
