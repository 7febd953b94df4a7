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

/// Offset of `addr` in its page (`offset_in_page`): plain arithmetic, no call into C, as the
/// transport computes it for every buffer of every request.
#[inline]
fn offset_in_page(addr: *const u8) -> usize {
    addr as usize % PAGE_SIZE
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

    /// Entries [`SgArray::pack_linear`] needs for `buf`: one per page it touches.
    #[inline]
    pub(crate) fn entries_for(buf: LinearBuf) -> usize {
        if buf.len() == 0 {
            return 0;
        }
        (offset_in_page(buf.ptr()) + buf.len()).div_ceil(PAGE_SIZE)
    }

    /// Packs the segments of `payload` into the entries starting at `start`, one entry per
    /// segment, and marks the last one as the end of this group.
    ///
    /// Returns the number of entries used; too many segments is `EMSGSIZE`.
    #[inline]
    pub(crate) fn pack_payload(&mut self, start: usize, payload: &PayloadPages) -> Result<usize> {
        let segs = payload.segments();
        if segs.len() > SG_ENTRIES.saturating_sub(start) {
            return Err(EMSGSIZE);
        }
        let last = segs.len().wrapping_sub(1);
        for (i, (entry, seg)) in self.entries[start..].iter_mut().zip(segs).enumerate() {
            // SAFETY: `entry` is an initialised entry (type invariant); the segment lies inside
            // a live page its payload keeps for the life of the request (invariants of
            // `Segment` and `PayloadPages`).
            unsafe {
                zb::zc9p_sg_set_page(entry, seg.page(), seg.len() as u32, seg.offset() as u32, i == last)
            };
        }
        Ok(segs.len())
    }

    /// Packs `buf` into the entries starting at `start`, one entry per page it touches, and
    /// marks the last one as the end of this group.
    ///
    /// Returns the number of entries used. A buffer that does not fit is `EMSGSIZE`, and the
    /// array is left for the next packing to overwrite.
    #[inline]
    pub(crate) fn pack_linear(&mut self, start: usize, buf: LinearBuf) -> Result<usize> {
        let mut index = start;
        let mut addr = buf.ptr();
        let mut left = buf.len();
        while left > 0 {
            let entry = self.entries.get_mut(index).ok_or(EMSGSIZE)?;
            let len = (PAGE_SIZE - offset_in_page(addr)).min(left);
            left -= len;
            // SAFETY: `entry` is an initialised entry (type invariant); `addr..addr + len` lies
            // in `buf`, directly mapped memory (invariant of `LinearBuf`).
            unsafe { zb::zc9p_sg_set_buf(entry, addr.cast(), len as u32, left == 0) };
            addr = addr.wrapping_add(len);
            index += 1;
        }
        Ok(index - start)
    }
}

// SAFETY: The entries only describe memory; whoever packs them holds the ring lock.
unsafe impl Send for SgArray {}
