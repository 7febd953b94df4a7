// SPDX-License-Identifier: GPL-2.0

//! Extracting the pages of an I/O iterator (`struct iov_iter`) for a zero-copy payload.
//!
//! C header: [`include/linux/uio.h`](srctree/include/linux/uio.h)
//!
//! The direction is the iterator's type, the kernel crate's: an [`IovIterSource`] is read from
//! (a write's payload: the other side reads its pages), an [`IovIterDest`] written into (a
//! read's: the other side writes its pages). [`PayloadIter`] adds what a transport needs on top
//! of both: how many bytes are left, whether extraction pins, and the extraction itself.

use crate::bindings as zb;
use kernel::{
    bindings,
    iov::{IovIterDest, IovIterSource},
    prelude::*,
};

const PAGE_SIZE: usize = kernel::page::PAGE_SIZE;

/// An I/O iterator a payload's pages are extracted from, its direction in its type.
pub(crate) trait PayloadIter {
    /// Whether the other side writes the pages (the iterator is a destination, a read): they
    /// are dirtied when released.
    const DEVICE_WRITES: bool;

    /// The iterator, for the C API.
    fn raw_iter(&mut self) -> *mut bindings::iov_iter;

    /// Bytes left in the iterator.
    fn count(&self) -> usize;

    /// Whether extraction pins the pages: true for user-backed (UBUF/IOVEC) iterators; kernel-
    /// backed ones (KVEC, BVEC, FOLIOQ, XARRAY) list their pages with no extra reference.
    #[inline]
    fn will_pin(&mut self) -> bool {
        // SAFETY: The iterator is valid (the kernel types' invariant).
        unsafe { zb::zc9p_iov_iter_will_pin(self.raw_iter()) }
    }

    /// Extracts up to `maxsize` bytes' worth of contiguous pages into `pages`, advancing the
    /// iterator (`iov_iter_extract_pages`).
    ///
    /// Returns the number of bytes covered, the offset into the first page and the number of
    /// pages written to the front of `pages`. User pages come back pinned (see
    /// [`PayloadIter::will_pin`]); the caller owns those pins.
    #[inline]
    fn extract_pages(
        &mut self,
        pages: &mut [*mut bindings::page],
        maxsize: usize,
    ) -> Result<(usize, usize, usize)> {
        if pages.is_empty() || maxsize == 0 {
            return Ok((0, 0, 0));
        }
        let room = u32::try_from(pages.len()).unwrap_or(u32::MAX);
        let mut list = pages.as_mut_ptr();
        let mut offset: usize = 0;
        // SAFETY: The iterator is valid (the kernel types' invariant); `list` points to at least
        // `room` writable page pointers, so extraction fills them instead of allocating a list.
        let ret = unsafe {
            bindings::iov_iter_extract_pages(
                self.raw_iter(),
                &mut list,
                maxsize,
                room,
                0,
                &mut offset,
            )
        };
        // A negative return is an errno.
        let bytes = usize::try_from(ret).map_err(|_| Error::from_errno(ret as i32))?;
        if bytes == 0 {
            return Ok((0, 0, 0));
        }
        // One page per page the `bytes` at `offset` touch, at most the room given.
        let filled = (offset + bytes).div_ceil(PAGE_SIZE).min(pages.len());
        Ok((bytes, offset, filled))
    }
}

impl PayloadIter for IovIterSource<'_> {
    const DEVICE_WRITES: bool = false;

    #[inline]
    fn raw_iter(&mut self) -> *mut bindings::iov_iter {
        self.as_raw()
    }

    #[inline]
    fn count(&self) -> usize {
        self.len()
    }
}

impl PayloadIter for IovIterDest<'_> {
    const DEVICE_WRITES: bool = true;

    #[inline]
    fn raw_iter(&mut self) -> *mut bindings::iov_iter {
        self.as_raw()
    }

    #[inline]
    fn count(&self) -> usize {
        self.len()
    }
}

/// Whether the live iterator `ptr` is a destination (`data_source == ITER_DEST`).
///
/// # Safety
///
/// `ptr` must be a live, initialised `iov_iter`.
unsafe fn is_dest(ptr: *mut bindings::iov_iter) -> bool {
    // SAFETY: The caller's contract.
    unsafe { zb::zc9p_iov_iter_is_dest(ptr) }
}

/// The iterator a caller lends as a write's payload (it is read from), or `None` for null.
/// `EINVAL` if it is a destination.
///
/// # Safety
///
/// `ptr` must be null, or a live, initialised `iov_iter` that nothing else uses for `'a` and
/// that may be read from for `'a` (the 9P core's, lent for one `zc_request` call).
#[cfg_attr(zc9p_pintest, expect(dead_code, reason = "the transports' only"))]
pub(crate) unsafe fn source_from_raw<'a>(
    ptr: *mut bindings::iov_iter,
) -> Result<Option<&'a mut IovIterSource<'a>>> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: `ptr` is live (the caller's contract).
    if unsafe { is_dest(ptr) } {
        return Err(EINVAL);
    }
    // SAFETY: The caller's contract; the direction is `ITER_SOURCE` (checked above), so the
    // kernel crate's assertion holds.
    Ok(Some(unsafe { IovIterSource::from_raw(ptr) }))
}

/// The iterator a caller lends for a read's payload (it is written into), or `None` for null.
/// `EINVAL` if it is a source.
///
/// # Safety
///
/// `ptr` must be null, or a live, initialised `iov_iter` that nothing else uses for `'a` and
/// that may be written to for `'a` (the 9P core's, lent for one `zc_request` call).
#[cfg_attr(zc9p_pintest, expect(dead_code, reason = "the transports' only"))]
pub(crate) unsafe fn dest_from_raw<'a>(
    ptr: *mut bindings::iov_iter,
) -> Result<Option<&'a mut IovIterDest<'a>>> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: `ptr` is live (the caller's contract).
    if !unsafe { is_dest(ptr) } {
        return Err(EINVAL);
    }
    // SAFETY: The caller's contract; the direction is `ITER_DEST` (checked above), so the
    // kernel crate's assertion holds.
    Ok(Some(unsafe { IovIterDest::from_raw(ptr) }))
}
