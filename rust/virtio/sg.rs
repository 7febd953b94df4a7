// SPDX-License-Identifier: GPL-2.0

//! A fixed-size scatterlist array that messages are packed into.

use crate::{
    bindings as zb,
    common::{p9::LinearBuf, trans_common::PayloadPages},
};
use kernel::{alloc::KVec, bindings, prelude::*};

/// Number of entries: the most one message may use.
pub(crate) const SG_ENTRIES: usize = zb::ZC9P_SG_ENTRIES as usize;

const PAGE_SIZE: usize = kernel::page::PAGE_SIZE;

/// Whether `next` is the page right after `page` in physical memory (both pages of a live
/// payload).
#[inline]
fn pages_adjacent(page: *mut bindings::page, next: *mut bindings::page) -> bool {
    // SAFETY: The shim only compares the two pages' frame numbers (`page_to_pfn`, arithmetic on
    // the pointers); it reads neither page.
    unsafe { zb::zc9p_pages_adjacent(page, next) }
}

/// A scatterlist array of [`SG_ENTRIES`] entries.
///
/// # Invariants
///
/// `entries` holds exactly [`SG_ENTRIES`] entries initialised by `sg_init_table`.
pub(crate) struct SgArray {
    entries: KVec<bindings::scatterlist>,
}

impl SgArray {
    /// Allocates and initialises the array.
    pub(crate) fn new() -> Result<Self> {
        let mut entries = KVec::with_capacity(SG_ENTRIES, GFP_KERNEL)?;
        for _ in 0..SG_ENTRIES {
            entries.push(bindings::scatterlist::default(), GFP_KERNEL)?;
        }
        // SAFETY: `entries` holds `SG_ENTRIES` writable entries.
        unsafe { zb::zc9p_sg_init_table(entries.as_mut_ptr(), SG_ENTRIES as u32) };
        // INVARIANT: Exactly `SG_ENTRIES` entries, initialised just above.
        Ok(Self { entries })
    }

    /// A pointer to entry `index`, for `virtqueue_add_sgs`.
    #[inline]
    pub(crate) fn entry_ptr(&mut self, index: usize) -> Result<*mut bindings::scatterlist> {
        self.entries.get_mut(index).map(|e| e as *mut _).ok_or(EMSGSIZE)
    }

    /// Entries [`SgArray::pack_linear`] needs for `buf`: one, as the buffer is physically
    /// contiguous (invariant of `LinearBuf`), none if it is empty.
    #[inline]
    pub(crate) fn entries_for(buf: LinearBuf) -> usize {
        usize::from(buf.len() != 0)
    }

    /// Packs the segments of `payload` into the entries from `start` up to `end`, and marks the
    /// last one used as the end of this group. A segment that continues the previous one in
    /// physical memory (a large folio, a huge page, adjacent pages) extends its entry.
    ///
    /// Returns the number of entries used; segments that do not fit are `EMSGSIZE`.
    #[inline]
    pub(crate) fn pack_payload(&mut self, start: usize, end: usize, payload: &PayloadPages) -> Result<usize> {
        let end = end.min(SG_ENTRIES);
        let mut used = 0;
        // The entry being filled: its first page, offset and length so far, and its last page.
        let mut open: Option<(*mut bindings::page, usize, usize, *mut bindings::page)> = None;
        for seg in payload.segments() {
            if let Some((page, offset, len, last)) = open.as_mut() {
                let adjacent = (*offset + *len) % PAGE_SIZE == 0
                    && seg.offset() == 0
                    && pages_adjacent(*last, seg.page());
                if adjacent && *len + seg.len() <= u32::MAX as usize {
                    *len += seg.len();
                    *last = seg.page();
                    continue;
                }
                let (page, offset, len) = (*page, *offset, *len);
                self.set_page(start + used - 1, page, offset, len, false)?;
            }
            if start + used >= end {
                return Err(EMSGSIZE);
            }
            used += 1;
            open = Some((seg.page(), seg.offset(), seg.len(), seg.page()));
        }
        if let Some((page, offset, len, _)) = open {
            self.set_page(start + used - 1, page, offset, len, true)?;
        }
        Ok(used)
    }

    /// Points entry `index` at `len` bytes from `offset` in `page` and the pages after it.
    #[inline]
    fn set_page(&mut self, index: usize, page: *mut bindings::page, offset: usize, len: usize, last: bool) -> Result {
        let entry = self.entries.get_mut(index).ok_or(EMSGSIZE)?;
        // SAFETY: `entry` is an initialised entry (type invariant); the run lies in live pages
        // the payload keeps for the life of the request (invariants of `Segment` and
        // `PayloadPages`), physically contiguous from `page` (checked by `pack_payload`).
        unsafe { zb::zc9p_sg_set_page(entry, page, len as u32, offset as u32, last) };
        Ok(())
    }

    /// Packs `buf` into entry `start` (it must be below `end`) and marks it as the end of this
    /// group.
    ///
    /// Returns the number of entries used (0 for an empty buffer, else 1); no room is
    /// `EMSGSIZE`, and the array is left for the next packing to overwrite.
    #[inline]
    pub(crate) fn pack_linear(&mut self, start: usize, end: usize, buf: LinearBuf) -> Result<usize> {
        if buf.len() == 0 {
            return Ok(0);
        }
        if start >= end.min(SG_ENTRIES) {
            return Err(EMSGSIZE);
        }
        let entry = self.entries.get_mut(start).ok_or(EMSGSIZE)?;
        // SAFETY: `entry` is an initialised entry (type invariant); `buf` is physically
        // contiguous, directly mapped memory (invariant of `LinearBuf`), so one entry describes
        // it.
        unsafe { zb::zc9p_sg_set_buf(entry, buf.ptr().cast(), buf.len() as u32, true) };
        Ok(1)
    }
}

// SAFETY: The entries only describe memory; whoever packs them holds the ring lock.
unsafe impl Send for SgArray {}
