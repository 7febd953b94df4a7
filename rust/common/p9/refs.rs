// SPDX-License-Identifier: GPL-2.0

//! The transport's reference to a 9P request (`struct p9_req_t`), while the transport holds it
//! ([`TransportRef`]) and once the other side does ([`InFlight`]), each given back exactly once.
//!
//! C header: [`include/net/9p/client.h`](srctree/include/net/9p/client.h)

use super::{Client, Request, STATUS_ERROR, STATUS_FLSHD, STATUS_RCVD, STATUS_SENT};
use crate::bindings as zb;
use core::{marker::PhantomData, ptr::NonNull};
use kernel::{
    ffi::c_void,
    prelude::*,
    sync::atomic::{atomic_store, Relaxed},
};

/// The transport's reference to a request, while the transport (not yet the device) holds it.
///
/// The 9P client gives every request two references: the caller's and the transport's. This value
/// is the transport's, from the `request`/`zc_request` callback until the request is on the
/// device (it becomes an [`InFlight`], see [`TransportRef::on_device`]) or the transport gives up
/// on it ([`TransportRef::put`], [`TransportRef::refused`]). It has no `Clone` and no `Drop`:
/// each of those consumes it, and forgetting one is a visible leak, never a double put.
///
/// # Invariants
///
/// The pointer is a live `p9_req_t` on which this value owns one reference; the request's status
/// is not yet `SENT` by this transport.
#[must_use = "the transport's reference must be handed to the device or given back"]
pub(crate) struct TransportRef(NonNull<zb::p9_req_t>);

impl TransportRef {
    /// Takes over the transport's reference to a request passed to a transport callback.
    ///
    /// # Safety
    ///
    /// `ptr` must be a live request the 9P core just passed to `request` or `zc_request`, whose
    /// transport reference nobody else will use or give back.
    #[inline]
    pub(crate) unsafe fn from_raw(ptr: *mut zb::p9_req_t) -> Option<Self> {
        NonNull::new(ptr).map(Self)
    }

    /// The request this reference keeps alive.
    #[inline]
    pub(crate) fn request(&self) -> Request<'_> {
        // INVARIANT: The reference held by `self` keeps the request live while borrowed.
        Request {
            ptr: self.0,
            _life: PhantomData,
        }
    }

    /// The token identifying this request on a device queue.
    #[inline]
    #[cfg_attr(zc9p_fd, expect(dead_code, reason = "zc9p_virtio's only"))]
    pub(crate) fn token(&self) -> *mut c_void {
        self.0.as_ptr().cast()
    }

    /// Records the most reply bytes the device is offered (`rc.size` until the reply comes), so
    /// the completion can clamp what the device claims it wrote.
    #[inline]
    pub(crate) fn offer_reply(&self, len: usize) {
        // SAFETY: The request is live (type invariant); nobody reads `rc.size` before the request
        // is finished, and it is not on the device yet.
        unsafe { (*self.0.as_ptr()).rc.size = u32::try_from(len).unwrap_or(u32::MAX) };
    }

    /// The request is on the device: mark it `SENT` and turn the reference into the device's.
    ///
    /// # Safety
    ///
    /// The buffers of the request were just queued on a device queue with [`Self::token`] as the
    /// token, and the queue's lock is still held, so no completion for it can run yet.
    #[inline]
    pub(crate) unsafe fn on_device(self) -> InFlight {
        // SAFETY: The request is live (type invariant); `WRITE_ONCE(req->status, SENT)`.
        unsafe { atomic_store(&raw mut (*self.0.as_ptr()).status, STATUS_SENT, Relaxed) };
        // INVARIANT: The reference moves into the in-flight value; the caller queued the buffers.
        InFlight(self.0)
    }

    /// The request is the other side's now: mark it `SENT` and turn the reference into the one
    /// its reply will give back (the fd transports: the request is in the connection's table of
    /// requests in flight).
    ///
    /// # Safety
    ///
    /// The caller holds the lock of the table the returned value goes into, so no reply can be
    /// matched to the request before it is there.
    #[inline]
    #[cfg_attr(zc9p_virtio, expect(dead_code, reason = "zc9p_fd's only"))]
    pub(crate) unsafe fn sent(self) -> InFlight {
        // SAFETY: Same contract as `on_device`: the request goes where only its reply, a
        // failure or a flush takes it back, under a lock the caller holds.
        unsafe { self.on_device() }
    }

    /// Finishes a request that was never sent with `err` (its connection failed first): the
    /// 9P core wakes the waiter and drops the reference.
    #[inline]
    #[cfg_attr(zc9p_virtio, expect(dead_code, reason = "zc9p_fd's only"))]
    pub(crate) fn fail(self, client: Client, err: Error) {
        // SAFETY: The request is live (type invariant); `t_err` is read only once the status
        // says ERROR, which `p9_client_cb` stores after a write barrier.
        unsafe { (*self.0.as_ptr()).t_err = err.to_errno() };
        // SAFETY: `client` created the request; `p9_client_cb` consumes the reference this value
        // owns.
        unsafe { zb::p9_client_cb(client.as_ptr(), self.0.as_ptr(), STATUS_ERROR) };
    }

    /// `cancel`: the request was taken back before it was sent. Marks it flushed and gives the
    /// reference back, as the 9P core expects of a transport whose `cancel` returns 0.
    #[inline]
    #[cfg_attr(zc9p_virtio, expect(dead_code, reason = "zc9p_fd's only"))]
    pub(crate) fn withdraw(self, client: Client) {
        set_flushed(self.0);
        self.put(client);
    }

    /// Gives the reference back: the request never reached the device (`zc_request`'s error
    /// paths, where the 9P core expects the transport to drop it).
    #[inline]
    pub(crate) fn put(self, client: Client) {
        // SAFETY: The request is live and this value owns a reference (type invariant), consumed
        // here.
        unsafe { zb::p9_req_put(client.as_ptr(), self.0.as_ptr()) };
    }

    /// `request` is about to fail: the 9P core drops the transport's reference itself then
    /// (`p9_client_rpc`: "write won't happen"), so this only gives up the value.
    #[inline]
    pub(crate) fn refused(self) {
        // INVARIANT: Ownership of the reference returns to the 9P core with the error; the value
        // has no `Drop`, so consuming it gives nothing back.
        let Self(_) = self;
    }
}

// SAFETY: The reference may be moved to, and given back from, any task.
unsafe impl Send for TransportRef {}

/// The other side's hold on a request: the transport's reference once the request was handed
/// over (its status `SENT`): on a virtio ring, or in an fd connection's table with its frame
/// being sent or sent.
///
/// Only [`TransportRef::on_device`] and [`TransportRef::sent`] make one (and, on virtio,
/// [`InFlight::from_token`] from a token the ring gives back), and [`InFlight::complete`],
/// [`InFlight::fail`] or [`InFlight::flushed`] consume it, so the reference is given back exactly
/// once. Holding one does not mean the buffers are free: the holder may still use them (the
/// device while the request is on the ring; an fd connection's worker while it sends the frame).
/// Consuming it lets the 9P client free the request, so a transport consumes it only once nothing
/// of its own still uses the buffers without a reference of its own (virtio: the device gave them
/// back; fd: the frame was sent, or its sender holds another reference to the request, as
/// mainline's `trans_fd` does for the request it is writing).
///
/// # Invariants
///
/// The pointer is a live `p9_req_t` on which this value owns the transport's reference; its
/// status is `SENT`.
#[must_use = "an in-flight request must be completed or failed"]
pub(crate) struct InFlight(NonNull<zb::p9_req_t>);

impl InFlight {
    /// Turns a token a device queue handed back into the request it was queued for.
    ///
    /// # Safety
    ///
    /// `token` must be the token of a [`TransportRef`] that became an `InFlight` through
    /// [`TransportRef::on_device`], returned by the device for the first time, so this is the
    /// only `InFlight` for it.
    #[inline]
    #[cfg_attr(zc9p_fd, expect(dead_code, reason = "zc9p_virtio's only"))]
    pub(crate) unsafe fn from_token(token: *mut c_void) -> Option<Self> {
        NonNull::new(token.cast()).map(Self)
    }

    /// Leaves the reference to the device queue the request was just added to: the queue's token
    /// stands for it until [`InFlight::from_token`] takes it back.
    #[inline]
    #[cfg_attr(zc9p_fd, expect(dead_code, reason = "zc9p_virtio's only"))]
    pub(crate) fn into_token(self) {
        // INVARIANT: The value has no `Drop`: consuming it leaves the reference to the token.
        let Self(_) = self;
    }

    /// Hands the reply of `len` bytes to the client: `rc.size` becomes `len`, clamped to what the
    /// device was offered ([`TransportRef::offer_reply`]); the 9P core wakes the waiter and drops
    /// the reference. A reply of 0 bytes is no reply: the request fails with `EIO`.
    #[inline]
    pub(crate) fn complete(self, client: Client, len: u32) {
        if len == 0 {
            self.fail(client, EIO);
            return;
        }
        // SAFETY: The request is live (type invariant) and its reply is in `rc`: nothing writes
        // it now.
        unsafe {
            let rc = &raw mut (*self.0.as_ptr()).rc;
            (*rc).size = len.min((*rc).size);
        }
        self.finish(client, STATUS_RCVD)
    }

    /// The request this reference keeps alive.
    #[inline]
    #[cfg_attr(zc9p_virtio, expect(dead_code, reason = "zc9p_fd's only"))]
    pub(crate) fn request(&self) -> Request<'_> {
        // INVARIANT: The reference held by `self` keeps the request live while borrowed.
        Request {
            ptr: self.0,
            _life: PhantomData,
        }
    }

    /// `cancelled`: the server answered the client's Tflush for this request, so no reply will
    /// come. Marks it flushed and gives the reference back.
    #[inline]
    #[cfg_attr(zc9p_virtio, expect(dead_code, reason = "zc9p_fd's only"))]
    pub(crate) fn flushed(self, client: Client) {
        set_flushed(self.0);
        // SAFETY: The request is live and this value owns a reference (type invariant), consumed
        // here.
        unsafe { zb::p9_req_put(client.as_ptr(), self.0.as_ptr()) };
    }

    /// Finishes the request with `err`, without a reply (a dead device, a reset, a bad reply).
    #[inline]
    pub(crate) fn fail(self, client: Client, err: Error) {
        // SAFETY: The request is live (type invariant); `t_err` is read only once the status
        // says ERROR, which `p9_client_cb` stores after a write barrier.
        unsafe { (*self.0.as_ptr()).t_err = err.to_errno() };
        self.finish(client, STATUS_ERROR)
    }

    fn finish(self, client: Client, status: i32) {
        // SAFETY: The request is live (type invariant) and `client` is the client that created
        // it; `p9_client_cb` publishes the status, wakes the waiter and consumes the reference
        // this value owns.
        unsafe { zb::p9_client_cb(client.as_ptr(), self.0.as_ptr(), status) };
    }
}

// SAFETY: The reference may be given back from any context (`p9_client_cb` is IRQ-safe).
unsafe impl Send for InFlight {}

/// `WRITE_ONCE(req->status, REQ_STATUS_FLSHD)`, as mainline's fd transport does before giving a
/// flushed request back.
fn set_flushed(req: NonNull<zb::p9_req_t>) {
    // SAFETY: The caller owns a reference to the live request; every other access to the status
    // while the transport holds it is an atomic load or `WRITE_ONCE`.
    unsafe { atomic_store(&raw mut (*req.as_ptr()).status, STATUS_FLSHD, Relaxed) };
}
