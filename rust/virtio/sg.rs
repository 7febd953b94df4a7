// SPDX-License-Identifier: GPL-2.0

//! A fixed-size scatterlist array that messages are packed into, and the device's limit on what
//! one entry may describe.
//!
//! C header: [`include/linux/scatterlist.h`](srctree/include/linux/scatterlist.h)

use crate::{
    bindings as zb,
    common::{p9::LinearBuf, trans_common::PayloadPages},
};
use kernel::{alloc::KVec, bindings, prelude::*};

/// Number of entries: the most one message may use.
pub(crate) const SG_ENTRIES: usize = zb::ZC9P_VIRTIO_SG_ENTRIES as usize;

const PAGE_SIZE: usize = kernel::page::PAGE_SIZE;

/// Whether `next` is the page right after `page` in physical memory (both pages of a live
/// payload).
#[inline]
fn pages_adjacent(page: *mut bindings::page, next: *mut bindings::page) -> bool {
    // SAFETY: The shim only compares the two pages' frame numbers (`page_to_pfn`, arithmetic on
    // the pointers); it reads neither page.
    unsafe { zb::zc9p_virtio_pages_adjacent(page, next) }
}

/// The page `n` frames after `page`, which starts a physically contiguous run of more than `n`
/// pages (as [`pages_adjacent`] found them).
#[inline]
fn page_in_run(page: *mut bindings::page, n: usize) -> *mut bindings::page {
    if n == 0 {
        return page;
    }
    // SAFETY: The shim only computes the frame's `struct page` (`pfn_to_page(page_to_pfn + n)`);
    // the caller's run guarantees that frame exists and belongs to the payload.
    unsafe { zb::zc9p_virtio_page_nth(page, n) }
}

/// The most bytes one scatterlist entry may describe on a device: `virtio_max_dma_size()`, which
/// is unlimited unless the device goes through the DMA API (`VIRTIO_F_ACCESS_PLATFORM`) and that
/// bounces (swiotlb: 256 KiB), and at most what an entry's length field holds.
///
/// # Invariants
///
/// The limit is at least 1 and at most `u32::MAX`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct EntryLimit(usize);

impl EntryLimit {
    /// No limit but the length field's.
    #[cfg_attr(
        not(CONFIG_KUNIT = "y"),
        expect(dead_code, reason = "the KUnit suites' only")
    )]
    pub(crate) const NONE: Self = Self(u32::MAX as usize);

    /// At most `bytes` per entry.
    pub(crate) const fn new(bytes: usize) -> Self {
        let bytes = if bytes == 0 {
            1
        } else if bytes > u32::MAX as usize {
            u32::MAX as usize
        } else {
            bytes
        };
        // INVARIANT: Clamped to 1..=u32::MAX just above.
        Self(bytes)
    }

    /// Bytes per entry.
    #[inline]
    pub(crate) fn bytes(self) -> usize {
        self.0
    }

    /// Entries [`SgArray::pack_linear`] needs for `buf`: it is physically contiguous (invariant
    /// of `LinearBuf`), so one per limit's worth of bytes; none if it is empty.
    #[inline]
    pub(crate) fn entries_for(self, buf: LinearBuf) -> usize {
        buf.len().div_ceil(self.0)
    }

    /// Payload pages that always fit in `entries` entries, however the payload lies: a run of
    /// `k` pages is at most `k` pages long, so it needs at most `k` entries when the limit is a
    /// page or more, and `k * ceil(PAGE_SIZE / limit)` below that.
    #[inline]
    pub(crate) fn pages_in(self, entries: usize) -> usize {
        entries / PAGE_SIZE.div_ceil(self.0)
    }

    /// Calls `f(page, offset, length)` for each entry `payload` packs into, in order, until it
    /// returns false: segments that continue the previous one in physical memory (a large folio,
    /// a huge page, adjacent pages) extend its run, and runs are cut at the limit. `page` is the
    /// entry's first page and `offset < PAGE_SIZE`.
    fn for_each_entry(
        self,
        payload: &PayloadPages,
        mut f: impl FnMut(*mut bindings::page, usize, usize) -> bool,
    ) {
        let limit = self.0;
        let mut emit = |page: *mut bindings::page, offset: usize, len: usize| -> bool {
            let mut done = 0;
            while done < len {
                let at = offset + done;
                let n = (len - done).min(limit);
                if !f(page_in_run(page, at / PAGE_SIZE), at % PAGE_SIZE, n) {
                    return false;
                }
                done += n;
            }
            true
        };
        // The run being gathered: its first page, offset and length so far, and its last page.
        let mut open: Option<(*mut bindings::page, usize, usize, *mut bindings::page)> = None;
        for seg in payload.segments() {
            if let Some((page, offset, len, last)) = open {
                if (offset + len) % PAGE_SIZE == 0
                    && seg.offset() == 0
                    && pages_adjacent(last, seg.page())
                {
                    open = Some((page, offset, len + seg.len(), seg.page()));
                    continue;
                }
                if !emit(page, offset, len) {
                    return;
                }
            }
            open = Some((seg.page(), seg.offset(), seg.len(), seg.page()));
        }
        if let Some((page, offset, len, _)) = open {
            emit(page, offset, len);
        }
    }

    /// The bytes of the longest start of `payload` that packs into `entries` entries.
    pub(crate) fn payload_prefix(self, payload: &PayloadPages, entries: usize) -> usize {
        let (mut n, mut bytes) = (0, 0);
        self.for_each_entry(payload, |_, _, len| {
            if n == entries {
                return false;
            }
            n += 1;
            bytes += len;
            true
        });
        bytes
    }
}

/// A scatterlist array of [`SG_ENTRIES`] entries, each describing at most `limit` bytes.
///
/// # Invariants
///
/// `entries` holds exactly [`SG_ENTRIES`] entries initialised by `sg_init_table`.
pub(crate) struct SgArray {
    entries: KVec<bindings::scatterlist>,
    limit: EntryLimit,
}

impl SgArray {
    /// Allocates and initialises the array for a device whose entries may describe at most
    /// `limit` bytes each.
    pub(crate) fn new(limit: EntryLimit) -> Result<Self> {
        let mut entries = KVec::with_capacity(SG_ENTRIES, GFP_KERNEL)?;
        for _ in 0..SG_ENTRIES {
            entries.push(bindings::scatterlist::default(), GFP_KERNEL)?;
        }
        // SAFETY: `entries` holds `SG_ENTRIES` writable entries.
        unsafe { zb::zc9p_sg_init_table(entries.as_mut_ptr(), SG_ENTRIES as u32) };
        // INVARIANT: Exactly `SG_ENTRIES` entries, initialised just above.
        Ok(Self { entries, limit })
    }

    /// A pointer to entry `index`, for `virtqueue_add_sgs`.
    #[inline]
    pub(crate) fn entry_ptr(&mut self, index: usize) -> Result<*mut bindings::scatterlist> {
        self.entries
            .get_mut(index)
            .map(core::ptr::from_mut)
            .ok_or(EMSGSIZE)
    }

    /// Packs the segments of `payload` into the entries from `start` up to `end` (see
    /// [`EntryLimit::for_each_entry`]), and marks the last one used as the end of this group.
    ///
    /// Returns the number of entries used; a payload that does not fit is `EMSGSIZE`.
    #[inline]
    pub(crate) fn pack_payload(
        &mut self,
        start: usize,
        end: usize,
        payload: &PayloadPages,
    ) -> Result<usize> {
        let end = end.min(SG_ENTRIES);
        let mut used = 0;
        let mut full = false;
        // Each entry is written when the next one comes, so the last can carry the end mark.
        let mut pending: Option<(*mut bindings::page, usize, usize)> = None;
        let mut result = Ok(());
        let (limit, entries) = (self.limit, &mut self.entries);
        limit.for_each_entry(payload, |page, offset, len| {
            if start + used >= end {
                full = true;
                return false;
            }
            if let Some((p, o, l)) = pending.replace((page, offset, len)) {
                if let Err(e) = Self::set_page(entries, start + used - 1, p, o, l, false) {
                    result = Err(e);
                    return false;
                }
            }
            used += 1;
            true
        });
        result?;
        if full {
            return Err(EMSGSIZE);
        }
        if let Some((page, offset, len)) = pending {
            Self::set_page(&mut self.entries, start + used - 1, page, offset, len, true)?;
        }
        Ok(used)
    }

    /// Points entry `index` at `len` bytes from `offset` in `page` and the pages after it.
    #[inline]
    fn set_page(
        entries: &mut KVec<bindings::scatterlist>,
        index: usize,
        page: *mut bindings::page,
        offset: usize,
        len: usize,
        last: bool,
    ) -> Result {
        let entry = entries.get_mut(index).ok_or(EMSGSIZE)?;
        // Invariants relied on: `Segment`/`PayloadPages` keep the run's pages live for the life
        // of the request, `for_each_entry` checked they are contiguous from `page`, `EntryLimit`.
        // SAFETY: `entry` is initialised (type invariant), the run lies in live contiguous pages,
        // and `len` fits the entry's field (all per the invariants above).
        unsafe { zb::zc9p_sg_set_page(entry, page, len as u32, offset as u32, last) };
        Ok(())
    }

    /// Packs `buf` into the entries from `start` up to `end`, at most the limit's bytes each,
    /// and marks the last one as the end of this group.
    ///
    /// Returns the number of entries used (none for an empty buffer); no room is `EMSGSIZE`,
    /// and the array is left for the next packing to overwrite.
    #[inline]
    pub(crate) fn pack_linear(
        &mut self,
        start: usize,
        end: usize,
        buf: LinearBuf,
    ) -> Result<usize> {
        let n = self.limit.entries_for(buf);
        if n == 0 {
            return Ok(0);
        }
        if start.checked_add(n).is_none_or(|e| e > end.min(SG_ENTRIES)) {
            return Err(EMSGSIZE);
        }
        let step = self.limit.bytes();
        for i in 0..n {
            let entry = self.entries.get_mut(start + i).ok_or(EMSGSIZE)?;
            let at = i * step;
            let len = (buf.len() - at).min(step);
            // `buf` is physically contiguous, directly mapped memory (invariant of `LinearBuf`)
            // and `at..at + len` is a part of it (`at < buf.len()` as `i < n`).
            // SAFETY: `entry` is initialised (type invariant), the range lies in `buf` (above),
            // and `len` fits the entry's field (invariant of `EntryLimit`).
            unsafe { zb::zc9p_sg_set_buf(entry, buf.ptr().add(at).cast(), len as u32, i + 1 == n) };
        }
        Ok(n)
    }
}

// SAFETY: The entries only describe memory; whoever packs them holds the ring lock.
unsafe impl Send for SgArray {}

#[kernel::macros::kunit_tests(zc9p_virtio_sg)]
mod tests {
    use super::*;
    use crate::common::test_pages::TestPages;

    /// Entries [`SgArray::pack_payload`] needs for `payload` under `limit`.
    fn entries_for_payload(limit: EntryLimit, payload: &PayloadPages) -> usize {
        let mut n = 0;
        limit.for_each_entry(payload, |_, _, _| {
            n += 1;
            true
        });
        n
    }

    /// Entry `i` as (page, offset, length, end mark).
    fn entry(sg: &SgArray, i: usize) -> (*mut bindings::page, usize, usize, bool) {
        let e = &sg.entries[i];
        let mask = (bindings::SG_CHAIN | bindings::SG_END) as usize;
        let page = (e.page_link & !mask) as *mut bindings::page;
        (
            page,
            e.offset as usize,
            e.length as usize,
            e.page_link & bindings::SG_END as usize != 0,
        )
    }

    /// Packs `runs` of `pages` (see [`TestPages::map`]) into entries `start..end` of an array
    /// whose entries hold at most `limit` bytes.
    fn pack_limited(
        pages: &TestPages,
        runs: &[(usize, usize, usize)],
        start: usize,
        end: usize,
        limit: EntryLimit,
    ) -> Result<(SgArray, usize)> {
        let mut payload = PayloadPages::new();
        // SAFETY: `payload` is released (dropped) here, before `pages` goes.
        unsafe { pages.map(runs, false, 16, &mut payload) }?;
        let mut sg = SgArray::new(limit)?;
        let used = sg.pack_payload(start, end, &payload)?;
        assert_eq!(used, entries_for_payload(limit, &payload));
        Ok((sg, used))
    }

    fn pack(
        pages: &TestPages,
        runs: &[(usize, usize, usize)],
        start: usize,
        end: usize,
    ) -> Result<(SgArray, usize)> {
        pack_limited(pages, runs, start, end, EntryLimit::NONE)
    }

    const WHOLE: [(usize, usize, usize); 4] = [
        (0, 0, PAGE_SIZE),
        (1, 0, PAGE_SIZE),
        (2, 0, PAGE_SIZE),
        (3, 0, PAGE_SIZE),
    ];

    #[test]
    fn adjacency_is_the_next_frame_number() -> Result {
        let pages = TestPages::alloc(1)?;
        assert!(pages_adjacent(pages.page(0), pages.page(1)));
        assert!(!pages_adjacent(pages.page(1), pages.page(0)));
        assert!(!pages_adjacent(pages.page(0), pages.page(0)));
        assert_eq!(page_in_run(pages.page(0), 1), pages.page(1));
        Ok(())
    }

    #[test]
    fn adjacent_whole_pages_share_one_entry() -> Result {
        let pages = TestPages::alloc(1)?;
        let (sg, used) = pack(
            &pages,
            &[(0, 0, PAGE_SIZE), (1, 0, PAGE_SIZE)],
            0,
            SG_ENTRIES,
        )?;
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
        assert_eq!(
            entry(&sg, 0),
            (pages.page(0), 100, 2 * PAGE_SIZE - 93, true)
        );
        Ok(())
    }

    #[test]
    fn a_merged_run_is_cut_at_the_limit() -> Result {
        let pages = TestPages::alloc(2)?;
        let (sg, used) = pack_limited(
            &pages,
            &WHOLE,
            0,
            SG_ENTRIES,
            EntryLimit::new(2 * PAGE_SIZE),
        )?;
        assert_eq!(used, 2);
        assert_eq!(entry(&sg, 0), (pages.page(0), 0, 2 * PAGE_SIZE, false));
        assert_eq!(entry(&sg, 1), (pages.page(2), 0, 2 * PAGE_SIZE, true));
        // Three pages a piece: a full entry, then the rest.
        let (sg, used) = pack_limited(
            &pages,
            &WHOLE,
            0,
            SG_ENTRIES,
            EntryLimit::new(3 * PAGE_SIZE),
        )?;
        assert_eq!(used, 2);
        assert_eq!(entry(&sg, 0), (pages.page(0), 0, 3 * PAGE_SIZE, false));
        assert_eq!(entry(&sg, 1), (pages.page(3), 0, PAGE_SIZE, true));
        Ok(())
    }

    #[test]
    fn a_cut_run_keeps_its_offset_in_later_pages() -> Result {
        let pages = TestPages::alloc(2)?;
        let runs = [(0, 100, PAGE_SIZE - 100), (1, 0, PAGE_SIZE), (2, 0, 7)];
        let (sg, used) = pack_limited(&pages, &runs, 0, SG_ENTRIES, EntryLimit::new(PAGE_SIZE))?;
        assert_eq!(used, 2);
        assert_eq!(entry(&sg, 0), (pages.page(0), 100, PAGE_SIZE, false));
        assert_eq!(entry(&sg, 1), (pages.page(1), 100, PAGE_SIZE - 93, true));
        Ok(())
    }

    #[test]
    fn a_limit_below_a_page_cuts_pages_too() -> Result {
        let pages = TestPages::alloc(1)?;
        let runs = [(1, 0, PAGE_SIZE), (0, 0, PAGE_SIZE)];
        let limit = EntryLimit::new(PAGE_SIZE / 2);
        let (sg, used) = pack_limited(&pages, &runs, 0, SG_ENTRIES, limit)?;
        assert_eq!(used, 4);
        assert_eq!(
            entry(&sg, 1),
            (pages.page(1), PAGE_SIZE / 2, PAGE_SIZE / 2, false)
        );
        assert_eq!(
            entry(&sg, 3),
            (pages.page(0), PAGE_SIZE / 2, PAGE_SIZE / 2, true)
        );
        // Two entries per page, whatever the layout.
        assert_eq!(limit.pages_in(7), 3);
        assert_eq!(EntryLimit::NONE.pages_in(7), 7);
        assert_eq!(EntryLimit::new(256 * 1024).pages_in(1021), 1021);
        Ok(())
    }

    #[test]
    fn the_prefix_that_fits_is_whole_entries() -> Result {
        let pages = TestPages::alloc(2)?;
        let mut payload = PayloadPages::new();
        // Page 3, then pages 0, 1 and 2, which follow each other.
        let runs = [
            (3, 0, PAGE_SIZE),
            (0, 0, PAGE_SIZE),
            (1, 0, PAGE_SIZE),
            (2, 0, 10),
        ];
        // SAFETY: `payload` is released below, before `pages` goes.
        unsafe { pages.map(&runs, true, 16, &mut payload) }?;
        assert_eq!(entries_for_payload(EntryLimit::NONE, &payload), 2);
        assert_eq!(EntryLimit::NONE.payload_prefix(&payload, 0), 0);
        assert_eq!(EntryLimit::NONE.payload_prefix(&payload, 1), PAGE_SIZE);
        // Pages 0, 1 and 2 are one run.
        assert_eq!(
            EntryLimit::NONE.payload_prefix(&payload, 2),
            3 * PAGE_SIZE + 10
        );
        assert_eq!(
            EntryLimit::NONE.payload_prefix(&payload, 5),
            3 * PAGE_SIZE + 10
        );
        // Half pages: two for page 3, five for the run of 2 pages and 10 bytes.
        let half = EntryLimit::new(PAGE_SIZE / 2);
        assert_eq!(entries_for_payload(half, &payload), 7);
        assert_eq!(half.payload_prefix(&payload, 3), PAGE_SIZE + PAGE_SIZE / 2);
        payload.release();
        Ok(())
    }

    #[test]
    fn pages_out_of_order_get_an_entry_each() -> Result {
        let pages = TestPages::alloc(1)?;
        let (sg, used) = pack(
            &pages,
            &[(1, 0, PAGE_SIZE), (0, 0, PAGE_SIZE)],
            0,
            SG_ENTRIES,
        )?;
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
        assert_eq!(
            pack(&pages, &[(0, 0, PAGE_SIZE), (1, 0, PAGE_SIZE)], 5, 6)?.1,
            1
        );
        // Unless the limit cuts them again.
        let one_page = EntryLimit::new(PAGE_SIZE);
        assert!(pack_limited(
            &pages,
            &[(0, 0, PAGE_SIZE), (1, 0, PAGE_SIZE)],
            5,
            6,
            one_page
        )
        .is_err());
        // Past the array's own end.
        assert!(pack(&pages, &runs, SG_ENTRIES - 1, SG_ENTRIES + 10).is_err());
        Ok(())
    }

    #[test]
    fn a_linear_buffer_is_one_entry_per_limit_and_an_empty_one_none() -> Result {
        let mut buf = KVec::from_elem(0u8, 64, GFP_KERNEL)?;
        let mut sg = SgArray::new(EntryLimit::NONE)?;
        // SAFETY: `buf` is kmalloc'ed and outlives the packing.
        let lin = unsafe { LinearBuf::from_raw(buf.as_mut_ptr(), buf.len()) };
        assert_eq!(sg.pack_linear(0, 1, lin), Ok(1));
        assert_eq!(entry(&sg, 0).2, 64);
        assert_eq!(entry(&sg, 0).3, true);
        assert_eq!(sg.pack_linear(1, 1, lin), Err(EMSGSIZE));
        // SAFETY: An empty buffer is never dereferenced.
        let empty = unsafe { LinearBuf::from_raw(buf.as_mut_ptr(), 0) };
        assert_eq!(sg.pack_linear(1, 1, empty), Ok(0));
        assert_eq!(EntryLimit::NONE.entries_for(empty), 0);
        assert_eq!(EntryLimit::NONE.entries_for(lin), 1);
        // At most 24 bytes an entry: 24, 24 and 16, the last one marked.
        let limit = EntryLimit::new(24);
        let mut sg = SgArray::new(limit)?;
        assert_eq!(limit.entries_for(lin), 3);
        assert_eq!(sg.pack_linear(2, 4, lin), Err(EMSGSIZE));
        assert_eq!(sg.pack_linear(2, 5, lin), Ok(3));
        assert_eq!((entry(&sg, 2).2, entry(&sg, 2).3), (24, false));
        assert_eq!((entry(&sg, 3).2, entry(&sg, 3).3), (24, false));
        assert_eq!((entry(&sg, 4).2, entry(&sg, 4).3), (16, true));
        let e = &sg.entries[3];
        assert_eq!(
            e.offset as usize % PAGE_SIZE,
            (buf.as_ptr() as usize + 24) % PAGE_SIZE
        );
        Ok(())
    }

    #[test]
    fn the_limit_is_clamped_to_the_length_field() {
        assert_eq!(EntryLimit::new(0).bytes(), 1);
        assert_eq!(EntryLimit::new(usize::MAX).bytes(), u32::MAX as usize);
        assert_eq!(EntryLimit::new(262144).bytes(), 262144);
    }
}
