// SPDX-License-Identifier: GPL-2.0

//! Thin wrappers around the 9P client's `struct p9_client` and `struct p9_req_t`.
//!
//! The 9P client owns both; a transport only sees them during its callbacks and, for a request
//! it queued, until it hands the request back with `p9_client_cb` or `p9_req_put`.

use crate::bindings as zb;
use core::{marker::PhantomData, ptr::NonNull};
use kernel::{
    ffi::c_void,
    prelude::*,
    sync::atomic::{atomic_load, atomic_store, Acquire, Relaxed},
};

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

    /// The negotiated message size (the requested one until Rversion arrives).
    ///
    /// An atomic (`READ_ONCE`-like) load: `p9_client_version` lowers `msize` with a plain store
    /// when Rversion arrives, and a transport may read it meanwhile (the fd transports check
    /// every reply's size against it, from their receive worker, which runs beside the task
    /// handling Rversion). Either value is a valid bound then: the old one is the larger.
    pub(crate) fn msize(self) -> usize {
        // SAFETY: The client is live (type invariant), so the field is valid and aligned. The
        // load is `READ_ONCE`; the 9P core's only store after `create` is a plain store of the
        // aligned `unsigned int`, one write that the kernel's memory model lets a marked load
        // race with (`CONFIG_KCSAN_ASSUME_PLAIN_WRITES_ATOMIC`): it sees the old or the new value.
        unsafe { atomic_load(&raw mut (*self.as_ptr()).msize, Relaxed) as usize }
    }

    /// Sets the message size the version handshake will ask for.
    ///
    /// # Safety
    ///
    /// Only in the transport's `create`: before `p9_client_version` (which lowers it to the
    /// server's) and before any request exists.
    pub(crate) unsafe fn set_msize(self, msize: u32) {
        // SAFETY: The client is live (type invariant); the caller's contract excludes every
        // other access.
        unsafe { atomic_store(&raw mut (*self.as_ptr()).msize, msize as _, Relaxed) }
    }

    /// The `maxsize` of the client's transport (the largest msize it takes).
    pub(crate) fn trans_maxsize(self) -> u32 {
        // SAFETY: The client is live (type invariant) and is attached to a transport module
        // before `create` is called, which stays registered while the client uses it.
        unsafe { (*(*self.as_ptr()).trans_mod).maxsize.max(0) as u32 }
    }

    /// Whether the client's transport has `zc_request` (its module's `zerocopy` parameter).
    pub(crate) fn trans_has_zc(self) -> bool {
        // SAFETY: As in `trans_maxsize`.
        unsafe { (*(*self.as_ptr()).trans_mod).zc_request.is_some() }
    }

    /// Whether the client speaks 9P2000.L (errors come as Rlerror) rather than a legacy
    /// protocol (Rerror).
    #[cfg_attr(zc9p_virtio, expect(dead_code, reason = "zc9p_fd's only"))]
    pub(crate) fn is_dotl(self) -> bool {
        // SAFETY: The client is live (type invariant); the field is set before `create`.
        unsafe { (*self.as_ptr()).proto_version == zb::p9_proto_versions_p9_proto_2000L as _ }
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
    pub(crate) fn status(self) -> i32 {
        // SAFETY: The request is live (type invariant), so the field is valid and aligned; every
        // other access while it is in flight (`p9_client_cb`, `mark_sent`) is `WRITE_ONCE`.
        unsafe { atomic_load(&raw mut (*self.raw()).status, Acquire) }
    }

    /// Whether the reply arrived from the device.
    #[inline]
    pub(crate) fn is_received(self) -> bool {
        self.status() == zb::p9_req_status_t_REQ_STATUS_RCVD as i32
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
        unsafe {
            atomic_store(
                &raw mut (*self.0.as_ptr()).status,
                zb::p9_req_status_t_REQ_STATUS_SENT as i32,
                Relaxed,
            )
        };
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
        unsafe {
            zb::p9_client_cb(
                client.as_ptr(),
                self.0.as_ptr(),
                zb::p9_req_status_t_REQ_STATUS_ERROR as _,
            )
        };
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
        // INVARIANT: Ownership of the reference returns to the 9P core with the error.
        core::mem::forget(self);
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
        core::mem::forget(self);
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
        self.finish(client, zb::p9_req_status_t_REQ_STATUS_RCVD)
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
        self.finish(client, zb::p9_req_status_t_REQ_STATUS_ERROR)
    }

    fn finish(self, client: Client, status: zb::p9_req_status_t) {
        // SAFETY: The request is live (type invariant) and `client` is the client that created
        // it; `p9_client_cb` publishes the status, wakes the waiter and consumes the reference
        // this value owns.
        unsafe { zb::p9_client_cb(client.as_ptr(), self.0.as_ptr(), status as _) };
    }
}

// SAFETY: The reference may be given back from any context (`p9_client_cb` is IRQ-safe).
unsafe impl Send for InFlight {}

/// `WRITE_ONCE(req->status, REQ_STATUS_FLSHD)`, as mainline's fd transport does before giving a
/// flushed request back.
fn set_flushed(req: NonNull<zb::p9_req_t>) {
    // SAFETY: The caller owns a reference to the live request; every other access to the status
    // while the transport holds it is an atomic load or `WRITE_ONCE`.
    unsafe {
        atomic_store(
            &raw mut (*req.as_ptr()).status,
            zb::p9_req_status_t_REQ_STATUS_FLSHD as i32,
            Relaxed,
        )
    };
}
