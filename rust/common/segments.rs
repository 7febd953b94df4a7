// SPDX-License-Identifier: GPL-2.0

//! The list of page runs behind one payload, and the module-wide pool its long lists come from.
//!
//! A payload of up to [`INLINE_SEGMENTS`] pages keeps its list inline. A longer one borrows a
//! list of [`LIST_CAPACITY`] entries from the pool and gives it back when the payload is
//! released, so a transport moving 4 MiB payloads allocates a list once per payload in flight at
//! the busiest moment, not once per request (mainline allocates a page-pointer array for every
//! zero-copy request). Should that one allocation fail, the payload falls back to the inline list:
//! it maps fewer pages and the request is shortened, as the 9P client allows, instead of failing.

use kernel::{
    alloc::KVec,
    bindings,
    prelude::*,
    sync::atomic::{Atomic, Relaxed},
};

const PAGE_SIZE: usize = kernel::page::PAGE_SIZE;

/// A run of bytes inside one page of a payload.
///
/// Only [`crate::common::trans_common::PayloadPages`] makes segments (the constructor is
/// crate-private and the type is neither `Copy` nor `Clone`), so a segment handed to a device is
/// always one of a live payload's.
///
/// # Invariants
///
/// `offset + len <= PAGE_SIZE`; inside a payload, `page` is one of the payload's pages.
pub(crate) struct Segment {
    page: *mut bindings::page,
    offset: u32,
    len: u32,
}

impl Segment {
    pub(super) const EMPTY: Self = Self {
        page: core::ptr::null_mut(),
        offset: 0,
        len: 0,
    };

    /// The run of `len` bytes at `offset` in `page`, or `None` if it does not fit in the page.
    #[inline]
    pub(super) fn new(page: *mut bindings::page, offset: usize, len: usize) -> Option<Self> {
        if offset.checked_add(len)? > PAGE_SIZE {
            return None;
        }
        // INVARIANT: Checked just above; both fit in `u32` as they are at most `PAGE_SIZE`.
        Some(Self {
            page,
            offset: offset as u32,
            len: len as u32,
        })
    }

    /// The page.
    #[inline]
    pub(crate) fn page(&self) -> *mut bindings::page {
        self.page
    }

    /// Where the run starts in the page.
    #[inline]
    pub(crate) fn offset(&self) -> usize {
        self.offset as usize
    }

    /// Bytes in the run.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len as usize
    }
}

/// Segments kept inline: payloads up to this many pages use no pooled list.
pub(super) const INLINE_SEGMENTS: usize = 8;

/// Entries in a pooled list, and so the most pages one payload maps: 1024 covers zc9p_virtio's
/// largest payload (1021 pages and one more for an unaligned start) and zc9p_fd's (1 MiB).
pub(super) const LIST_CAPACITY: usize = 1024;

/// Idle lists the pool keeps (16 KiB each); lists given back beyond that are freed.
const POOL_SLOTS: usize = 32;

/// The idle lists: each slot is 0 or the address of a [`LIST_CAPACITY`]-entry buffer that
/// `KVec::into_raw_parts` gave up. A slot is taken with one exchange, so two tasks never get the
/// same list.
static POOL: [Atomic<usize>; POOL_SLOTS] = [const { Atomic::new(0) }; POOL_SLOTS];
static LISTS_ALLOCATED: Atomic<u64> = Atomic::new(0);
static LISTS_IN_USE: Atomic<usize> = Atomic::new(0);
static LIST_FALLBACKS: Atomic<u64> = Atomic::new(0);

/// Takes an idle list from the pool, or allocates one.
fn take_list() -> Result<KVec<Segment>> {
    for slot in &POOL {
        if slot.load(Relaxed) == 0 {
            continue;
        }
        let addr = slot.xchg(0, Relaxed);
        if addr != 0 {
            LISTS_IN_USE.fetch_add(1, Relaxed);
            // SAFETY: Only `put_list` stores non-zero addresses, each from `into_raw_parts` of an
            // empty list of exactly `LIST_CAPACITY` entries; the exchange made this task its only
            // owner.
            return Ok(unsafe { KVec::from_raw_parts(addr as *mut Segment, 0, LIST_CAPACITY) });
        }
    }
    let list = KVec::with_capacity(LIST_CAPACITY, GFP_KERNEL)?;
    LISTS_ALLOCATED.fetch_add(1, Relaxed);
    LISTS_IN_USE.fetch_add(1, Relaxed);
    Ok(list)
}

/// Gives a list taken by [`take_list`] back to the pool (freeing it if the pool is full).
fn put_list(mut list: KVec<Segment>) {
    LISTS_IN_USE.fetch_sub(1, Relaxed);
    if list.capacity() != LIST_CAPACITY {
        return;
    }
    list.clear();
    let (ptr, _, _) = list.into_raw_parts();
    for slot in &POOL {
        if slot.cmpxchg(0, ptr as usize, Relaxed).is_ok() {
            return;
        }
    }
    // SAFETY: `ptr` came from `into_raw_parts` of an empty list of `LIST_CAPACITY` entries just
    // above and was stored nowhere.
    drop(unsafe { KVec::from_raw_parts(ptr, 0, LIST_CAPACITY) });
}

/// Frees the idle lists; call at module exit, when no payload is left.
pub(crate) fn drain_pool() {
    for slot in &POOL {
        let addr = slot.xchg(0, Relaxed);
        if addr != 0 {
            // SAFETY: As in `take_list`.
            drop(unsafe { KVec::from_raw_parts(addr as *mut Segment, 0, LIST_CAPACITY) });
        }
    }
}

/// Writes the pool's counters (part of the debugfs `pins` file).
pub(crate) fn write_counters(f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
    let idle = POOL.iter().filter(|s| s.load(Relaxed) != 0).count();
    writeln!(
        f,
        "segment_lists_allocated: {}",
        LISTS_ALLOCATED.load(Relaxed)
    )?;
    writeln!(f, "segment_lists_in_use: {}", LISTS_IN_USE.load(Relaxed))?;
    writeln!(f, "segment_lists_idle: {idle}")?;
    writeln!(
        f,
        "segment_list_fallbacks: {}",
        LIST_FALLBACKS.load(Relaxed)
    )
}

/// The segments of a payload: inline for small payloads, a pooled list for large ones.
///
/// # Invariants
///
/// `Inline(segs, n, cap)`: `n <= cap <= INLINE_SEGMENTS` and `segs[..n]` are the segments.
/// `Pooled(v)`: `v` came from [`take_list`] and goes back through [`put_list`] exactly once.
pub(super) enum SegmentList {
    Inline([Segment; INLINE_SEGMENTS], usize, usize),
    Pooled(KVec<Segment>),
}

impl SegmentList {
    /// An empty inline list.
    pub(super) const fn new() -> Self {
        Self::Inline([Segment::EMPTY; INLINE_SEGMENTS], 0, 0)
    }

    /// Makes room for up to `capacity` segments in an empty list and returns the room made:
    /// `capacity` cut to [`LIST_CAPACITY`], or to [`INLINE_SEGMENTS`] if no list could be had.
    pub(super) fn reserve(&mut self, capacity: usize) -> usize {
        if capacity > INLINE_SEGMENTS {
            match nofs(take_list) {
                Ok(list) => {
                    // INVARIANT: From `take_list`; dropping the old list returns any pooled one.
                    *self = Self::Pooled(list);
                    return capacity.min(LIST_CAPACITY);
                }
                Err(_) => LIST_FALLBACKS.fetch_add(1, Relaxed),
            };
        }
        let capacity = capacity.min(INLINE_SEGMENTS);
        // INVARIANT: An empty list, with `capacity <= INLINE_SEGMENTS`.
        *self = Self::Inline([Segment::EMPTY; INLINE_SEGMENTS], 0, capacity);
        capacity
    }

    #[inline]
    pub(super) fn as_slice(&self) -> &[Segment] {
        match self {
            Self::Inline(segs, n, _) => &segs[..*n],
            Self::Pooled(v) => v,
        }
    }

    /// Forgets the segments and gives a pooled list back.
    #[inline]
    pub(super) fn clear(&mut self) {
        match self {
            Self::Inline(_, n, _) => *n = 0,
            // Dropping the pooled list puts it back.
            Self::Pooled(_) => *self = Self::new(),
        }
    }

    /// Keeps the first `n` segments (all of them if there are fewer), the last of them cut to
    /// `last_len` bytes if that is shorter.
    pub(super) fn truncate(&mut self, n: usize, last_len: usize) {
        let kept = match self {
            Self::Inline(segs, len, _) => {
                *len = (*len).min(n);
                &mut segs[..*len]
            }
            Self::Pooled(v) => {
                v.truncate(n);
                &mut v[..]
            }
        };
        if let Some(last) = kept.last_mut() {
            // INVARIANT: A shorter run at the same offset stays inside its page.
            last.len = last.len.min(last_len.min(u32::MAX as usize) as u32);
        }
    }

    /// Room left within the capacity reserved.
    #[inline]
    pub(super) fn room(&self) -> usize {
        match self {
            Self::Inline(_, n, cap) => *cap - *n,
            Self::Pooled(v) => v.capacity() - v.len(),
        }
    }

    /// Appends `seg`, or gives it back if there is no room (the caller then still owns its
    /// page's pin: nothing is dropped silently).
    #[inline]
    pub(super) fn push(&mut self, seg: Segment) -> core::result::Result<(), Segment> {
        match self {
            Self::Inline(segs, n, cap) => match segs.get_mut(*n) {
                Some(slot) if *n < *cap => {
                    *slot = seg;
                    *n += 1;
                    Ok(())
                }
                _ => Err(seg),
            },
            Self::Pooled(v) => v.push_within_capacity(seg).map_err(|e| e.0),
        }
    }
}

impl Drop for SegmentList {
    fn drop(&mut self) {
        if let Self::Pooled(v) = self {
            put_list(core::mem::take(v));
        }
    }
}

/// Runs the allocations in `f` as GFP_NOFS: the 9P I/O path may be called from writeback, where
/// reclaim must not recurse into a filesystem.
pub(super) fn nofs<T>(f: impl FnOnce() -> T) -> T {
    // SAFETY: Save and restore are paired on this task.
    let flags = unsafe { crate::bindings::zc9p_memalloc_nofs_save() };
    let ret = f();
    // SAFETY: `flags` came from the matching save above.
    unsafe { crate::bindings::zc9p_memalloc_nofs_restore(flags) };
    ret
}
