// SPDX-License-Identifier: GPL-2.0

//! Thin wrappers around the 9P client's `struct p9_client` and `struct p9_req_t`.
//!
//! The 9P client owns both; a transport only sees them during its callbacks and, for a request
//! it queued, until it hands the request back with `p9_client_cb` or `p9_req_put`.

use crate::bindings as zb;
use core::ptr::NonNull;
use kernel::ffi::c_void;

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
    pub(crate) fn ptr(&self) -> *mut u8 {
        self.ptr
    }

    /// The buffer's length in bytes.
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
    pub(crate) fn token(&self) -> *mut c_void {
        self.0.as_ptr().cast()
    }

    /// Turns a virtqueue token back into the request it was queued for.
    ///
    /// # Safety
    ///
    /// `token` must come from [`Request::token`] of a request whose reply is still outstanding.
    pub(crate) unsafe fn from_token(token: *mut c_void) -> Option<Self> {
        NonNull::new(token.cast()).map(Self)
    }

    /// The message to send: `tc.sdata[..tc.size]`.
    pub(crate) fn tc(&self) -> LinearBuf {
        // SAFETY: The request is live (type invariant).
        let tc = unsafe { &(*self.0.as_ptr()).tc };
        // INVARIANT: `sdata` is the request's kmalloc'ed buffer of at least `size` bytes.
        LinearBuf { ptr: tc.sdata, len: tc.size as usize }
    }

    /// The whole reply buffer: `rc.sdata[..rc.capacity]`.
    pub(crate) fn rc(&self) -> LinearBuf {
        // SAFETY: The request is live (type invariant).
        let rc = unsafe { &(*self.0.as_ptr()).rc };
        // INVARIANT: `sdata` is the request's kmalloc'ed buffer of `capacity` bytes.
        LinearBuf { ptr: rc.sdata, len: rc.capacity }
    }

    /// Marks the request as sent (`WRITE_ONCE(req->status, REQ_STATUS_SENT)`).
    pub(crate) fn mark_sent(&self) {
        // SAFETY: The request is live (type invariant).
        unsafe { zb::zc9p_req_set_status(self.0.as_ptr(), zb::p9_req_status_t_REQ_STATUS_SENT as _) }
    }

    /// Hands the reply of `len` bytes to the client, which wakes the waiter and drops the
    /// transport's reference.
    pub(crate) fn complete(self, client: Client, len: u32) {
        // SAFETY: The request is live (type invariant) and its reply has arrived, so the device
        // no longer writes `rc`; `p9_client_cb` consumes the reference this wrapper holds.
        unsafe {
            (*self.0.as_ptr()).rc.size = len;
            zb::p9_client_cb(client.as_ptr(), self.0.as_ptr(), zb::p9_req_status_t_REQ_STATUS_RCVD as _);
        }
    }

    /// Drops the transport's reference to a request whose reply will never come.
    pub(crate) fn put(self, client: Client) {
        // SAFETY: The request is live and this wrapper holds a reference (type invariant).
        unsafe { zb::p9_req_put(client.as_ptr(), self.0.as_ptr()) };
    }
}
