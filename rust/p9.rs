// SPDX-License-Identifier: GPL-2.0

//! Thin wrappers around the 9P client's `struct p9_client` and `struct p9_req_t`.
//!
//! The 9P client owns both; a transport only sees them during its callbacks and, for a request
//! it queued, until it hands the request back with `p9_client_cb` or `p9_req_put`.

use crate::{bindings as zb, wait::WaitQueue};
use core::ptr::NonNull;
use kernel::{
    ffi::c_void,
    prelude::*,
    sync::atomic::{atomic_load, atomic_store, Acquire, Relaxed},
};

/// A linear kernel buffer the device may read or write.
///
/// # Invariants
///
/// `ptr` points to `len` bytes of directly mapped (kmalloc) kernel memory that stay allocated
/// while the request that owns them is alive.
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
}

/// A 9P client, as passed to a transport callback.
///
/// # Invariants
///
/// The pointer is a live `p9_client` for as long as the transport may use it: from `create` to
/// the return of `close`.
#[derive(Clone, Copy)]
pub(crate) struct Client(NonNull<zb::p9_client>);

impl Client {
    /// Wraps a client pointer received from the 9P core.
    ///
    /// # Safety
    ///
    /// `ptr` must be a live client for as long as the wrapper is used (see the invariants).
    pub(crate) unsafe fn from_raw(ptr: *mut zb::p9_client) -> Option<Self> {
        NonNull::new(ptr).map(Self)
    }

    /// The raw pointer, for the C API.
    #[inline]
    pub(crate) fn as_ptr(self) -> *mut zb::p9_client {
        self.0.as_ptr()
    }

    /// The transport's private pointer (`client->trans`).
    pub(crate) fn trans(self) -> *mut c_void {
        // SAFETY: The client is live (type invariant); the field is a plain pointer the 9P core
        // reserves for the transport.
        unsafe { (*self.as_ptr()).trans }
    }

    /// Attaches transport state to the client and marks it connected.
    pub(crate) fn connect(self, trans: *mut c_void) {
        // SAFETY: The client is live (type invariant); `create` runs before any request, so no
        // one else reads these fields concurrently.
        unsafe {
            (*self.as_ptr()).trans = trans;
            (*self.as_ptr()).status = zb::p9_trans_status_Connected;
        }
    }
}

// SAFETY: A `p9_client` is shared between the submitting tasks and the completion interrupt by
// design; the 9P core serialises its own state.
unsafe impl Send for Client {}
// SAFETY: As above.
unsafe impl Sync for Client {}

/// A 9P request handed to the transport.
///
/// # Invariants
///
/// The pointer is a live `p9_req_t` that holds a reference the transport may give back (through
/// [`Request::complete`] or [`Request::put`]); its `tc` and `rc` buffers are kmalloc'ed
/// (the transport declares `supports_vmalloc = false`).
pub(crate) struct Request(NonNull<zb::p9_req_t>);

impl Request {
    /// Wraps a request pointer received from the 9P core.
    ///
    /// # Safety
    ///
    /// `ptr` must satisfy the type invariants for as long as the wrapper is used.
    pub(crate) unsafe fn from_raw(ptr: *mut zb::p9_req_t) -> Option<Self> {
        NonNull::new(ptr).map(Self)
    }

    /// The token that identifies this request on the virtqueue.
    #[inline]
    pub(crate) fn token(&self) -> *mut c_void {
        self.0.as_ptr().cast()
    }

    /// Turns a virtqueue token back into the request it was queued for.
    ///
    /// # Safety
    ///
    /// `token` must come from [`Request::token`] of a request whose reply is still outstanding.
    #[inline]
    pub(crate) unsafe fn from_token(token: *mut c_void) -> Option<Self> {
        NonNull::new(token.cast()).map(Self)
    }

    /// The message to send: `tc.sdata[..tc.size]`.
    #[inline]
    pub(crate) fn tc(&self) -> LinearBuf {
        // SAFETY: The request is live (type invariant).
        let tc = unsafe { &(*self.0.as_ptr()).tc };
        // INVARIANT: `sdata` is the request's kmalloc'ed buffer of at least `size` bytes.
        LinearBuf { ptr: tc.sdata, len: tc.size as usize }
    }

    /// The whole reply buffer: `rc.sdata[..rc.capacity]`.
    #[inline]
    pub(crate) fn rc(&self) -> LinearBuf {
        // SAFETY: The request is live (type invariant).
        let rc = unsafe { &(*self.0.as_ptr()).rc };
        // INVARIANT: `sdata` is the request's kmalloc'ed buffer of `capacity` bytes.
        LinearBuf { ptr: rc.sdata, len: rc.capacity }
    }

    /// The first `len` bytes of the reply buffer (at most its capacity): where a zero-copy
    /// request wants the reply's header.
    #[inline]
    pub(crate) fn rc_head(&self, len: usize) -> LinearBuf {
        let rc = self.rc();
        // INVARIANT: A prefix of the reply buffer.
        LinearBuf { ptr: rc.ptr, len: len.min(rc.len) }
    }

    /// Overwrites the little-endian `u32` at byte `at` of the message to send (its size or
    /// count field). Out-of-range offsets are `EINVAL`.
    pub(crate) fn patch_tc_u32(&self, at: usize, value: u32) -> Result {
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

    /// Waits killably (as I/O) until the reply arrived or the request was otherwise finished.
    #[inline]
    pub(crate) fn wait_killable(&self) -> Result {
        // SAFETY: The request is live (type invariant) and its wait queue initialised.
        kernel::error::to_result(unsafe { zb::zc9p_req_wait_killable(self.0.as_ptr()) })
    }

    /// The queue `p9_client_cb` wakes when the reply arrives.
    #[inline]
    pub(crate) fn wait_queue(&self) -> &WaitQueue {
        // SAFETY: The request is live (type invariant) and the 9P core initialised its queue.
        unsafe { WaitQueue::from_raw(&raw mut (*self.0.as_ptr()).wq) }
    }

    /// The request's status, with acquire ordering: it pairs with the write barrier
    /// `p9_client_cb` puts before the status, so the reply is visible once this says so.
    #[inline]
    pub(crate) fn status(&self) -> i32 {
        // SAFETY: The request is live (type invariant), so the field is valid and aligned; while
        // it is in flight, every other access (`p9_client_cb`, `mark_sent`) is `WRITE_ONCE`.
        unsafe { atomic_load(&raw mut (*self.0.as_ptr()).status, Acquire) }
    }

    /// Whether the reply has arrived (or the request was otherwise finished).
    #[inline]
    pub(crate) fn is_done(&self) -> bool {
        self.status() >= zb::p9_req_status_t_REQ_STATUS_RCVD as i32
    }

    /// Whether the reply arrived from the device.
    #[inline]
    pub(crate) fn is_received(&self) -> bool {
        self.status() == zb::p9_req_status_t_REQ_STATUS_RCVD as i32
    }

    /// Length of the reply the device wrote (`rc.size`); valid once received.
    #[inline]
    pub(crate) fn rc_size(&self) -> usize {
        // SAFETY: The request is live (type invariant); the reply has been received, so the
        // field is no longer written.
        unsafe { (*self.0.as_ptr()).rc.size as usize }
    }

    /// Shortens the recorded reply length.
    pub(crate) fn set_rc_size(&self, len: usize) {
        // SAFETY: As in `rc_size`; only the waiting task touches the reply now.
        unsafe { (*self.0.as_ptr()).rc.size = len as u32 };
    }

    /// The reply's message type byte, once received.
    #[inline]
    pub(crate) fn rc_type(&self) -> Option<u8> {
        let rc = self.rc();
        if self.rc_size() < 5 || rc.len < 5 {
            return None;
        }
        // SAFETY: Byte 4 is inside the reply buffer and the reply has been received.
        Some(unsafe { *rc.ptr.add(4) })
    }

    /// The reply buffer from `at` on, to be filled by the transport (an error string that the
    /// device wrote into the payload pages). Empty if `at` is past the capacity.
    pub(crate) fn rc_tail_mut(&mut self, at: usize) -> &mut [u8] {
        let rc = self.rc();
        if at >= rc.len {
            return &mut [];
        }
        // SAFETY: `at..rc.len` lies in the reply buffer; the device is done with it (the reply
        // was received) and `&mut self` keeps this the only reference.
        unsafe { core::slice::from_raw_parts_mut(rc.ptr.add(at), rc.len - at) }
    }

    /// Marks the request as sent (`WRITE_ONCE(req->status, REQ_STATUS_SENT)`).
    #[inline]
    pub(crate) fn mark_sent(&self) {
        // SAFETY: As in `status`; this is `WRITE_ONCE(req->status, REQ_STATUS_SENT)`.
        unsafe {
            atomic_store(
                &raw mut (*self.0.as_ptr()).status,
                zb::p9_req_status_t_REQ_STATUS_SENT as i32,
                Relaxed,
            )
        }
    }

    /// Hands the reply of `len` bytes to the client, which wakes the waiter and drops the
    /// transport's reference.
    #[inline]
    pub(crate) fn complete(self, client: Client, len: u32) {
        // SAFETY: The request is live (type invariant) and its reply has arrived, so the device
        // no longer writes `rc`; `p9_client_cb` consumes the reference this wrapper holds.
        unsafe {
            (*self.0.as_ptr()).rc.size = len;
            zb::p9_client_cb(client.as_ptr(), self.0.as_ptr(), zb::p9_req_status_t_REQ_STATUS_RCVD as _);
        }
    }

    /// Drops the transport's reference to a request whose reply will never come.
    #[inline]
    pub(crate) fn put(self, client: Client) {
        // SAFETY: The request is live and this wrapper holds a reference (type invariant).
        unsafe { zb::p9_req_put(client.as_ptr(), self.0.as_ptr()) };
    }
}
