// SPDX-License-Identifier: GPL-2.0

//! Thin wrappers around the 9P client's `struct p9_client` and `struct p9_req_t`.
//!
//! C header: [`include/net/9p/client.h`](srctree/include/net/9p/client.h)
//!
//! The 9P client owns both; a transport only sees them during its callbacks and, for a request
//! it queued, until it hands the request back with `p9_client_cb` or `p9_req_put`. Here: a
//! request's buffers and status ([`Request`]); in [`client`] the client, in [`refs`] the
//! transport's reference to a request ([`TransportRef`], [`InFlight`]).

use crate::bindings as zb;
use core::{marker::PhantomData, ptr::NonNull};
use kernel::{
    prelude::*,
    sync::atomic::{atomic_load, Acquire},
};

mod client;
mod refs;

pub(crate) use client::Client;
pub(crate) use refs::{InFlight, TransportRef};

// `enum p9_req_status_t`, as the `int` that `req->status` and `p9_client_cb` hold.
const STATUS_UNSENT: i32 = zb::p9_req_status_t_REQ_STATUS_UNSENT as i32;
const STATUS_SENT: i32 = zb::p9_req_status_t_REQ_STATUS_SENT as i32;
const STATUS_RCVD: i32 = zb::p9_req_status_t_REQ_STATUS_RCVD as i32;
const STATUS_FLSHD: i32 = zb::p9_req_status_t_REQ_STATUS_FLSHD as i32;
const STATUS_ERROR: i32 = zb::p9_req_status_t_REQ_STATUS_ERROR as i32;

/// A request's status, read once (`req->status`, an `enum p9_req_status_t`): what the transport
/// may conclude from it, without comparing the C enum's values.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct ReqStatus(i32);

impl ReqStatus {
    /// Finished: the reply arrived, the request was flushed, or it failed (the statuses from
    /// `REQ_STATUS_RCVD` on, which is what the 9P client's and the shim's waits wait for).
    #[inline]
    pub(crate) fn is_finished(self) -> bool {
        self.0 >= STATUS_RCVD
    }

    /// The reply arrived (`REQ_STATUS_RCVD`).
    #[inline]
    pub(crate) fn is_received(self) -> bool {
        self.0 == STATUS_RCVD
    }

    /// The request failed without a reply (`REQ_STATUS_ERROR`; the error is in `t_err`).
    #[inline]
    pub(crate) fn is_failed(self) -> bool {
        self.0 == STATUS_ERROR
    }

    /// The request was handed to the transport and not sent (`REQ_STATUS_UNSENT`).
    #[inline]
    #[cfg_attr(zc9p_virtio, expect(dead_code, reason = "zc9p_fd's only"))]
    pub(crate) fn is_unsent(self) -> bool {
        self.0 == STATUS_UNSENT
    }

    /// The request was flushed or withdrawn: no reply will come (`REQ_STATUS_FLSHD`).
    #[inline]
    #[cfg_attr(zc9p_virtio, expect(dead_code, reason = "zc9p_fd's only"))]
    pub(crate) fn is_flushed(self) -> bool {
        self.0 == STATUS_FLSHD
    }
}

/// A linear kernel buffer the device may read or write.
///
/// # Invariants
///
/// `ptr` points to `len` bytes of directly mapped (kmalloc) kernel memory, physically
/// contiguous (one allocation: the transports do not take vmalloc'ed buffers), that stay
/// allocated while the request that owns them is alive.
#[derive(Clone, Copy)]
pub(crate) struct LinearBuf {
    ptr: *mut u8,
    len: usize,
}

impl LinearBuf {
    /// The buffer's start address.
    #[inline]
    pub(crate) fn ptr(&self) -> *mut u8 {
        self.ptr
    }

    /// The buffer's length in bytes.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// A buffer of the KUnit tests (a request's buffers come from [`Request`]).
    ///
    /// # Safety
    ///
    /// `ptr` points to `len` bytes of kmalloc'ed memory that stay allocated while the buffer is
    /// used.
    #[cfg(CONFIG_KUNIT = "y")]
    #[cfg_attr(
        zc9p_fd,
        expect(dead_code, reason = "zc9p_virtio's KUnit suites' only")
    )]
    pub(crate) unsafe fn from_raw(ptr: *mut u8, len: usize) -> Self {
        // INVARIANT: The caller's guarantee.
        Self { ptr, len }
    }
}

// SAFETY: A plain address: who may access the buffer is decided by the owner of its request.
unsafe impl Send for LinearBuf {}

/// A borrowed view of a 9P request: its buffers and status, nothing that gives up a reference.
///
/// # Invariants
///
/// The pointer is a live `p9_req_t` for `'a`: some reference to it (the caller's or the
/// transport's) is held for at least that long. Its `tc` and `rc` buffers are kmalloc'ed (the
/// transports declare `supports_vmalloc = false`).
#[derive(Clone, Copy)]
pub(crate) struct Request<'a> {
    ptr: NonNull<zb::p9_req_t>,
    _life: PhantomData<&'a zb::p9_req_t>,
}

// SAFETY: A request is shared between its submitter and the completion path by design; the fields
// each accessor touches are owned by one side at a time (see the accessors).
unsafe impl Send for Request<'_> {}
// SAFETY: As above.
unsafe impl Sync for Request<'_> {}

impl<'a> Request<'a> {
    /// Views a request passed to a transport callback.
    ///
    /// # Safety
    ///
    /// `ptr` must be a live request that stays live for `'a` (the caller's reference, held by the
    /// 9P core for the whole callback, does that for the callback's duration).
    #[inline]
    pub(crate) unsafe fn from_raw(ptr: *mut zb::p9_req_t) -> Option<Self> {
        // INVARIANT: Guaranteed by the caller.
        NonNull::new(ptr).map(|ptr| Self {
            ptr,
            _life: PhantomData,
        })
    }

    #[inline]
    fn raw(self) -> *mut zb::p9_req_t {
        self.ptr.as_ptr()
    }

    /// The raw pointer, for the C API (e.g. to take a reference of one's own).
    #[inline]
    #[cfg_attr(zc9p_virtio, expect(dead_code, reason = "zc9p_fd's only"))]
    pub(crate) fn as_raw(self) -> *mut zb::p9_req_t {
        self.raw()
    }

    /// The message to send: `tc.sdata[..tc.size]`.
    #[inline]
    pub(crate) fn tc(self) -> LinearBuf {
        // SAFETY: The request is live (type invariant).
        let tc = unsafe { &(*self.raw()).tc };
        // INVARIANT: `sdata` is the request's kmalloc'ed buffer of at least `size` bytes.
        LinearBuf {
            ptr: tc.sdata,
            len: tc.size as usize,
        }
    }

    /// The whole reply buffer: `rc.sdata[..rc.capacity]`.
    #[inline]
    pub(crate) fn rc(self) -> LinearBuf {
        // SAFETY: The request is live (type invariant).
        let rc = unsafe { &(*self.raw()).rc };
        // INVARIANT: `sdata` is the request's kmalloc'ed buffer of `capacity` bytes.
        LinearBuf {
            ptr: rc.sdata,
            len: rc.capacity,
        }
    }

    /// The first `len` bytes of the reply buffer (at most its capacity): where a zero-copy
    /// request wants the reply's header.
    #[inline]
    #[cfg_attr(zc9p_fd, expect(dead_code, reason = "zc9p_virtio's only"))]
    pub(crate) fn rc_head(self, len: usize) -> LinearBuf {
        let rc = self.rc();
        // INVARIANT: A prefix of the reply buffer.
        LinearBuf {
            ptr: rc.ptr,
            len: len.min(rc.len),
        }
    }

    /// The request's tag.
    #[inline]
    #[cfg_attr(zc9p_virtio, expect(dead_code, reason = "zc9p_fd's only"))]
    pub(crate) fn tag(self) -> u16 {
        // SAFETY: The request is live (type invariant); the tag is set before the request is
        // handed to the transport and never changes.
        unsafe { (*self.raw()).tc.tag }
    }

    /// Whether `self` and `other` are the same request.
    #[inline]
    #[cfg_attr(zc9p_virtio, expect(dead_code, reason = "zc9p_fd's only"))]
    pub(crate) fn is(self, other: Request<'_>) -> bool {
        self.ptr == other.ptr
    }

    /// The message's type byte (`tc.sdata[4]`), if the message has a header.
    #[inline]
    pub(crate) fn tc_type(self) -> Option<u8> {
        let tc = self.tc();
        if tc.len < 7 {
            return None;
        }
        // SAFETY: Byte 4 is inside the message, which only the submitter writes.
        Some(unsafe { *tc.ptr.add(4) })
    }

    /// The little-endian `u16` at byte `at` of the message, if it lies inside it.
    #[cfg_attr(zc9p_virtio, expect(dead_code, reason = "zc9p_fd's only"))]
    pub(crate) fn tc_u16(self, at: usize) -> Option<u16> {
        let tc = self.tc();
        if at.checked_add(2)? > tc.len {
            return None;
        }
        let mut bytes = [0u8; 2];
        // SAFETY: `at..at + 2` lies inside the message, which only the submitter writes, before
        // the request is queued.
        unsafe { core::ptr::copy_nonoverlapping(tc.ptr.add(at), bytes.as_mut_ptr(), 2) };
        Some(u16::from_le_bytes(bytes))
    }

    /// Overwrites the little-endian `u32` at byte `at` of the message to send (its size or
    /// count field). Out-of-range offsets are `EINVAL`.
    pub(crate) fn patch_tc_u32(self, at: usize, value: u32) -> Result {
        let tc = self.tc();
        if at.checked_add(4).is_none_or(|end| end > tc.len) {
            return Err(EINVAL);
        }
        let bytes = value.to_le_bytes();
        // SAFETY: `at..at + 4` lies inside the message (checked above), which only this task
        // writes before the request is queued.
        unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), tc.ptr.add(at), 4) };
        Ok(())
    }

    /// Waits killably (as I/O) until the request is finished: its reply arrived or the transport
    /// failed it. Either happens only when the transport's in-flight reference is consumed.
    #[inline]
    pub(crate) fn wait_killable(self) -> Result {
        // SAFETY: The request is live (type invariant) and its wait queue initialised.
        kernel::error::to_result(unsafe { zb::zc9p_req_wait_killable(self.raw()) })
    }

    /// Waits uninterruptibly, at most `timeout` jiffies, until the request is finished; returns
    /// whether it is.
    #[cfg_attr(zc9p_fd, expect(dead_code, reason = "zc9p_virtio's only"))]
    pub(crate) fn wait_timeout(self, timeout: kernel::ffi::c_long) -> bool {
        // SAFETY: The request is live (type invariant) and its wait queue initialised.
        unsafe { zb::zc9p_req_wait_timeout(self.raw(), timeout) != 0 }
    }

    /// The request's status, with acquire ordering: it pairs with the write barrier
    /// `p9_client_cb` puts before the status, so the reply is visible once this says so.
    #[inline]
    pub(crate) fn state(self) -> ReqStatus {
        // SAFETY: The request is live (type invariant), so the field is valid and aligned; every
        // other access while it is in flight (`p9_client_cb`, `on_device`) is `WRITE_ONCE`.
        ReqStatus(unsafe { atomic_load(&raw mut (*self.raw()).status, Acquire) })
    }

    /// Whether the request is finished: replied, flushed or failed (see [`ReqStatus`]).
    #[inline]
    #[cfg_attr(zc9p_virtio, expect(dead_code, reason = "zc9p_fd's only"))]
    pub(crate) fn is_finished(self) -> bool {
        self.state().is_finished()
    }

    /// Whether the reply arrived.
    #[inline]
    pub(crate) fn is_received(self) -> bool {
        self.state().is_received()
    }

    /// Whether the request failed without a reply (its error: [`Request::transport_error`]).
    #[inline]
    #[cfg_attr(zc9p_virtio, expect(dead_code, reason = "zc9p_fd's only"))]
    pub(crate) fn is_failed(self) -> bool {
        self.state().is_failed()
    }

    /// The error a failed request was finished with (`t_err`), `EIO` if none was recorded.
    pub(crate) fn transport_error(self) -> Error {
        // SAFETY: The request is live (type invariant); `t_err` was written before the status
        // that made the request finished (ordered by `status`'s acquire load).
        let err = unsafe { (*self.raw()).t_err };
        if err < 0 {
            Error::from_errno(err)
        } else {
            EIO
        }
    }

    /// Length of the reply the device wrote (`rc.size`); valid once received.
    #[inline]
    pub(crate) fn rc_size(self) -> usize {
        // SAFETY: The request is live (type invariant); the reply has been received, so the
        // field is no longer written by the completion path.
        unsafe { (*self.raw()).rc.size as usize }
    }

    /// Shortens the recorded reply length.
    pub(crate) fn set_rc_size(self, len: usize) {
        // SAFETY: As in `rc_size`; only the waiting task touches the reply now.
        unsafe { (*self.raw()).rc.size = len as u32 };
    }

    /// The little-endian `u32` at byte `at` of the received reply, if it lies inside it.
    pub(crate) fn rc_u32(self, at: usize) -> Option<u32> {
        let rc = self.rc();
        let end = at.checked_add(4)?;
        if end > self.rc_size() || end > rc.len {
            return None;
        }
        let mut bytes = [0u8; 4];
        // SAFETY: `at..at + 4` is inside the reply buffer and the reply has been received.
        unsafe { core::ptr::copy_nonoverlapping(rc.ptr.add(at), bytes.as_mut_ptr(), 4) };
        Some(u32::from_le_bytes(bytes))
    }

    /// The reply's message type byte, once received.
    #[inline]
    pub(crate) fn rc_type(self) -> Option<u8> {
        let rc = self.rc();
        if self.rc_size() < 7 || rc.len < 7 {
            return None;
        }
        // SAFETY: Byte 4 is inside the reply buffer and the reply has been received.
        Some(unsafe { *rc.ptr.add(4) })
    }

    /// The reply buffer from `at` on, to be filled by the transport (an error string that the
    /// device wrote into the payload pages). Empty if `at` is past the capacity.
    ///
    /// # Safety
    ///
    /// `Request` is `Copy`, so `&mut self` alone does not make the slice exclusive: every copy
    /// reaches the same bytes. The caller must guarantee that, while the returned slice lives:
    ///
    /// - the request is finished (its reply arrived or it failed) and the other side (device,
    ///   socket worker) no longer writes `rc`: the caller has seen the finished status, and the
    ///   transport has taken back every buffer of the request;
    /// - the caller is the request's submitter, the only task that touches the reply buffer
    ///   between the request finishing and the transport callback returning (the 9P client reads
    ///   `rc` only after `zc_request` returns);
    /// - nothing else reads or writes `rc.sdata[at..]`: no other slice from this method and no
    ///   [`LinearBuf`] of the reply buffer ([`Request::rc`], [`Request::rc_head`]) is in use,
    ///   and no accessor that reads the reply bytes (`rc_type`, `rc_u32`) is called with it
    ///   alive.
    pub(crate) unsafe fn rc_tail_mut(&mut self, at: usize) -> &mut [u8] {
        let rc = self.rc();
        if at >= rc.len {
            return &mut [];
        }
        // SAFETY: `at..rc.len` lies in the reply buffer, allocated while the request is live
        // (type invariant); the caller guarantees that nobody else reads or writes those bytes
        // while the slice lives.
        unsafe { core::slice::from_raw_parts_mut(rc.ptr.add(at), rc.len - at) }
    }
}
