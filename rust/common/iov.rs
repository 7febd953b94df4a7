// SPDX-License-Identifier: GPL-2.0

//! A thin wrapper around a borrowed `struct iov_iter`, for extracting its pages.

use crate::bindings as zb;
use core::{marker::PhantomData, ptr::NonNull};
use kernel::{bindings, prelude::*};

const PAGE_SIZE: usize = kernel::page::PAGE_SIZE;

/// An I/O iterator the caller lends for the duration of one operation.
///
/// # Invariants
///
/// The pointer is a live, initialised `iov_iter` that nothing else uses while this wrapper
/// exists (the caller passed it to us for this operation).
pub(crate) struct IovIter<'a> {
    ptr: NonNull<bindings::iov_iter>,
    _borrow: PhantomData<&'a mut bindings::iov_iter>,
}

impl IovIter<'_> {
    /// Wraps an iterator.
    ///
    /// # Safety
    ///
    /// `ptr` must be a live, initialised `iov_iter`, not used by anyone else while the wrapper
    /// exists.
    #[inline]
    pub(crate) unsafe fn from_raw(ptr: *mut bindings::iov_iter) -> Option<Self> {
        NonNull::new(ptr).map(|ptr| Self {
            ptr,
            _borrow: PhantomData,
        })
    }

    /// Bytes left in the iterator.
    #[inline]
    pub(crate) fn count(&self) -> usize {
        // SAFETY: The iterator is live (type invariant).
        unsafe { zb::zc9p_iov_iter_count(self.ptr.as_ptr()) }
    }

    /// Whether extraction pins the pages: true for user-backed (UBUF/IOVEC) iterators; kernel-
    /// backed ones (KVEC, BVEC, FOLIOQ, XARRAY) list their pages with no extra reference.
    #[inline]
    pub(crate) fn will_pin(&self) -> bool {
        // SAFETY: The iterator is live (type invariant).
        unsafe { zb::zc9p_iov_iter_will_pin(self.ptr.as_ptr()) }
    }

    /// Whether the iterator is a destination (data is read into it).
    #[inline]
    pub(crate) fn is_dest(&self) -> bool {
        // SAFETY: The iterator is live (type invariant).
        unsafe { zb::zc9p_iov_iter_is_dest(self.ptr.as_ptr()) }
    }

    /// Extracts up to `maxsize` bytes' worth of contiguous pages into `pages`, advancing the
    /// iterator (`iov_iter_extract_pages`).
    ///
    /// Returns the number of bytes covered, the offset into the first page and the number of
    /// pages written to the front of `pages`. User pages come back pinned (see
    /// [`IovIter::will_pin`]); the caller owns those pins.
    #[inline]
    pub(crate) fn extract_pages(
        &mut self,
        pages: &mut [*mut bindings::page],
        maxsize: usize,
    ) -> Result<(usize, usize, usize)> {
        if pages.is_empty() || maxsize == 0 {
            return Ok((0, 0, 0));
        }
        let mut list = pages.as_mut_ptr();
        let mut offset: usize = 0;
        // SAFETY: The iterator is live (type invariant); `list` points to `pages.len()` writable
        // page pointers, so extraction fills them instead of allocating a list.
        let ret = unsafe {
            bindings::iov_iter_extract_pages(
                self.ptr.as_ptr(),
                &mut list,
                maxsize,
                pages.len() as u32,
                0,
                &mut offset,
            )
        };
        if ret < 0 {
            return Err(Error::from_errno(ret as i32));
        }
        let bytes = ret as usize;
        if bytes == 0 {
            return Ok((0, 0, 0));
        }
        // One page per page the `bytes` at `offset` touch, at most the room given.
        let filled = (offset + bytes).div_ceil(PAGE_SIZE).min(pages.len());
        Ok((bytes, offset, filled))
    }
}
