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

    /// Views the live iterator `ptr` as this type, for `'a`.
    ///
    /// # Safety
    ///
    /// `ptr` must be a live, initialised `iov_iter` of this direction (`data_source` is
    /// `ITER_DEST` exactly when [`PayloadIter::DEVICE_WRITES`]), used only through the result
    /// for `'a`, whose memory may be accessed in that direction for `'a`.
    unsafe fn lend<'a>(ptr: *mut bindings::iov_iter) -> &'a mut Self;

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

/// `PayloadIter` for one of the kernel crate's iterator types, whose direction is `$dest`.
macro_rules! impl_payload_iter {
    ($iter:ident, $dest:literal) => {
        impl PayloadIter for $iter<'_> {
            const DEVICE_WRITES: bool = $dest;

            #[inline]
            unsafe fn lend<'a>(ptr: *mut bindings::iov_iter) -> &'a mut Self {
                // SAFETY: The caller's contract, which includes the kernel crate's direction.
                unsafe { $iter::from_raw(ptr) }
            }

            #[inline]
            fn raw_iter(&mut self) -> *mut bindings::iov_iter {
                self.as_raw()
            }

            #[inline]
            fn count(&self) -> usize {
                self.len()
            }
        }
    };
}
impl_payload_iter!(IovIterSource, false);
impl_payload_iter!(IovIterDest, true);

/// The iterator a caller lends for one call, `I` being its direction (an [`IovIterSource`] for
/// a write's payload, an [`IovIterDest`] for a read's), or `None` for null. `EINVAL` if its
/// direction is the other.
///
/// # Safety
///
/// `ptr` must be null, or a live, initialised `iov_iter` that nothing else uses for `'a` and
/// whose memory may be read from (a source) or written to (a destination) for `'a`: the 9P
/// core's, lent for one `zc_request` call.
#[cfg_attr(zc9p_pintest, expect(dead_code, reason = "the transports' only"))]
pub(crate) unsafe fn lend_from_raw<'a, I: PayloadIter>(
    ptr: *mut bindings::iov_iter,
) -> Result<Option<&'a mut I>> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: `ptr` is a live iterator (the caller's contract).
    if unsafe { zb::zc9p_iov_iter_is_dest(ptr) } != I::DEVICE_WRITES {
        return Err(EINVAL);
    }
    // SAFETY: The caller's contract; the direction is `I`'s (checked above).
    Ok(Some(unsafe { I::lend(ptr) }))
}
