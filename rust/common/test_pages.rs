// SPDX-License-Identifier: GPL-2.0

//! Real pages for the KUnit tests: a block from the page allocator, and payloads over it built
//! the way a transport gets them (a kernel `bio_vec` iterator through [`PayloadPages::extract`]).
//! Only built with `CONFIG_KUNIT`.

use crate::common::{iov, trans_common::PayloadPages};
use core::ptr::NonNull;
use kernel::{
    alloc::KVec,
    bindings,
    iov::{IovIterDest, IovIterSource},
    prelude::*,
};

const PAGE_SIZE: usize = kernel::page::PAGE_SIZE;

/// `2^order` physically contiguous pages.
///
/// # Invariants
///
/// `first` is the first page of an order-`order` allocation owned by this value.
pub(crate) struct TestPages {
    first: NonNull<bindings::page>,
    order: u32,
}

impl TestPages {
    /// Allocates `2^order` contiguous pages (an order-1 block is two adjacent pages).
    pub(crate) fn alloc(order: u32) -> Result<Self> {
        // SAFETY: FFI call without preconditions.
        let first = unsafe { bindings::alloc_pages(bindings::GFP_KERNEL, order) };
        // INVARIANT: A fresh allocation of that order, or none.
        Ok(Self {
            first: NonNull::new(first).ok_or(ENOMEM)?,
            order,
        })
    }

    /// Pages in the block.
    pub(crate) fn count(&self) -> usize {
        1 << self.order
    }

    /// Page `i` of the block (the last one for a larger `i`).
    pub(crate) fn page(&self, i: usize) -> *mut bindings::page {
        // The `struct page`s of one buddy block are consecutive in the memory map.
        self.first.as_ptr().wrapping_add(i.min(self.count() - 1))
    }

    /// Maps `runs` (page index, offset in the page, length; each inside its page), in order, into
    /// `payload` (which must be empty) through a `bio_vec` iterator that the device writes
    /// (`device_writes`, a read) or reads, at most `max_pages` pages. Returns the bytes mapped.
    ///
    /// # Safety
    ///
    /// `payload` must be released before `self` is dropped: it points into these pages.
    pub(crate) unsafe fn map(
        &self,
        runs: &[(usize, usize, usize)],
        device_writes: bool,
        max_pages: usize,
        payload: &mut PayloadPages,
    ) -> Result<usize> {
        let mut bvecs = KVec::with_capacity(runs.len(), GFP_KERNEL)?;
        let mut count = 0;
        for &(i, offset, len) in runs {
            if i >= self.count() || offset.checked_add(len).is_none_or(|end| end > PAGE_SIZE) {
                return Err(EINVAL);
            }
            let bv = bindings::bio_vec {
                bv_page: self.page(i),
                bv_len: len as u32,
                bv_offset: offset as u32,
            };
            bvecs.push(bv, GFP_KERNEL)?;
            count += len;
        }
        let mut iter = bindings::iov_iter::default();
        let dir = if device_writes {
            bindings::ITER_DEST
        } else {
            bindings::ITER_SOURCE
        };
        // SAFETY: `iter` is ours to initialise; `bvecs` outlives it (both live until return) and
        // names pages of this block, each run inside its page (checked above).
        unsafe { bindings::iov_iter_bvec(&mut iter, dir, bvecs.as_ptr(), bvecs.len(), count) };
        let iter = &raw mut iter;
        if device_writes {
            // SAFETY: `iter` was just initialised, in the direction asked for; nothing else uses
            // it while the extraction runs, and its pages (this block) may be read and written.
            let iter = unsafe { iov::lend_from_raw::<IovIterDest<'_>>(iter) }?.ok_or(EINVAL)?;
            payload.extract(iter, count, max_pages)?;
        } else {
            // SAFETY: As above.
            let iter = unsafe { iov::lend_from_raw::<IovIterSource<'_>>(iter) }?.ok_or(EINVAL)?;
            payload.extract(iter, count, max_pages)?;
        }
        Ok(payload.len())
    }
}

impl Drop for TestPages {
    fn drop(&mut self) {
        // SAFETY: The block is owned by this value (type invariant) and freed once.
        unsafe { bindings::__free_pages(self.first.as_ptr(), self.order) };
    }
}
