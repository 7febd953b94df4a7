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

#[kernel::macros::kunit_tests(zc9p_virtio_sg)]
mod tests {
    use super::*;
    use crate::common::test_pages::TestPages;

    /// Entry `i` as (page, offset, length, end mark).
    fn entry(sg: &SgArray, i: usize) -> (*mut bindings::page, usize, usize, bool) {
        let e = &sg.entries[i];
        let mask = (bindings::SG_CHAIN | bindings::SG_END) as usize;
        let page = (e.page_link & !mask) as *mut bindings::page;
        (page, e.offset as usize, e.length as usize, e.page_link & bindings::SG_END as usize != 0)
    }

    /// Packs `runs` of `pages` (see [`TestPages::map`]) into entries `start..end`.
    fn pack(pages: &TestPages, runs: &[(usize, usize, usize)], start: usize, end: usize) -> Result<(SgArray, usize)> {
        let mut payload = PayloadPages::new();
        // SAFETY: `payload` is released (dropped) here, before `pages` goes.
        unsafe { pages.map(runs, false, 16, &mut payload) }?;
        let mut sg = SgArray::new()?;
        let used = sg.pack_payload(start, end, &payload)?;
        Ok((sg, used))
    }

    #[test]
    fn adjacency_is_the_next_frame_number() -> Result {
        let pages = TestPages::alloc(1)?;
        assert!(pages_adjacent(pages.page(0), pages.page(1)));
        assert!(!pages_adjacent(pages.page(1), pages.page(0)));
        assert!(!pages_adjacent(pages.page(0), pages.page(0)));
        Ok(())
    }

    #[test]
    fn adjacent_whole_pages_share_one_entry() -> Result {
        let pages = TestPages::alloc(1)?;
        let (sg, used) = pack(&pages, &[(0, 0, PAGE_SIZE), (1, 0, PAGE_SIZE)], 0, SG_ENTRIES)?;
        assert_eq!(used, 1);
        assert_eq!(entry(&sg, 0), (pages.page(0), 0, 2 * PAGE_SIZE, true));
        Ok(())
    }

    #[test]
    fn an_unaligned_start_still_merges() -> Result {
        let pages = TestPages::alloc(2)?;
        let runs = [(0, 100, PAGE_SIZE - 100), (1, 0, PAGE_SIZE), (2, 0, 7)];
        let (sg, used) = pack(&pages, &runs, 0, SG_ENTRIES)?;
        assert_eq!(used, 1);
        assert_eq!(entry(&sg, 0), (pages.page(0), 100, 2 * PAGE_SIZE - 93, true));
        Ok(())
    }

    #[test]
    fn pages_out_of_order_get_an_entry_each() -> Result {
        let pages = TestPages::alloc(1)?;
        let (sg, used) = pack(&pages, &[(1, 0, PAGE_SIZE), (0, 0, PAGE_SIZE)], 0, SG_ENTRIES)?;
        assert_eq!(used, 2);
        assert_eq!(entry(&sg, 0), (pages.page(1), 0, PAGE_SIZE, false));
        assert_eq!(entry(&sg, 1), (pages.page(0), 0, PAGE_SIZE, true));
        Ok(())
    }

    #[test]
    fn a_run_ending_inside_its_page_is_not_extended() -> Result {
        let pages = TestPages::alloc(1)?;
        let (sg, used) = pack(&pages, &[(0, 0, 100), (1, 0, PAGE_SIZE)], 0, SG_ENTRIES)?;
        assert_eq!(used, 2);
        assert_eq!(entry(&sg, 0), (pages.page(0), 0, 100, false));
        assert_eq!(entry(&sg, 1), (pages.page(1), 0, PAGE_SIZE, true));
        Ok(())
    }

    #[test]
    fn packing_starts_at_the_given_entry_and_stops_at_the_end() -> Result {
        let pages = TestPages::alloc(1)?;
        let runs = [(1, 0, PAGE_SIZE), (0, 0, PAGE_SIZE)];
        let (sg, used) = pack(&pages, &runs, 5, 7)?;
        assert_eq!(used, 2);
        assert_eq!(entry(&sg, 5), (pages.page(1), 0, PAGE_SIZE, false));
        assert_eq!(entry(&sg, 6), (pages.page(0), 0, PAGE_SIZE, true));
        // Two runs into one entry: EMSGSIZE, unless they merge.
        assert!(pack(&pages, &runs, 5, 6).is_err());
        assert_eq!(pack(&pages, &[(0, 0, PAGE_SIZE), (1, 0, PAGE_SIZE)], 5, 6)?.1, 1);
        // Past the array's own end.
        assert!(pack(&pages, &runs, SG_ENTRIES - 1, SG_ENTRIES + 10).is_err());
        Ok(())
    }

    #[test]
    fn a_linear_buffer_is_one_entry_and_an_empty_one_none() -> Result {
        let mut buf = KVec::from_elem(0u8, 64, GFP_KERNEL)?;
        let mut sg = SgArray::new()?;
        // SAFETY: `buf` is kmalloc'ed and outlives the packing.
        let lin = unsafe { LinearBuf::from_raw(buf.as_mut_ptr(), buf.len()) };
        assert_eq!(sg.pack_linear(0, 1, lin), Ok(1));
        assert_eq!(entry(&sg, 0).2, 64);
        assert_eq!(entry(&sg, 0).3, true);
        assert_eq!(sg.pack_linear(1, 1, lin), Err(EMSGSIZE));
        // SAFETY: An empty buffer is never dereferenced.
        let empty = unsafe { LinearBuf::from_raw(buf.as_mut_ptr(), 0) };
        assert_eq!(sg.pack_linear(1, 1, empty), Ok(0));
        assert_eq!(SgArray::entries_for(empty), 0);
        assert_eq!(SgArray::entries_for(lin), 1);
        Ok(())
    }
}
