// SPDX-License-Identifier: GPL-2.0

//! The 9P client (`struct p9_client`), as a transport sees it from `create` to `close`.
//!
//! C header: [`include/net/9p/client.h`](srctree/include/net/9p/client.h)

use crate::bindings as zb;
use core::ptr::NonNull;
use kernel::{
    ffi::c_void,
    sync::atomic::{atomic_load, atomic_store, Relaxed},
    types::ForeignOwnable,
};

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
    fn trans(self) -> *mut c_void {
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
        // The 9P core's only store after `create` is a plain store of the aligned `unsigned int`,
        // which the kernel's memory model lets a marked load race with (it sees either value).
        // SAFETY: The client is live (type invariant), so the field is valid and aligned; the
        // load is `READ_ONCE`, racing only with that one store.
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
        unsafe { atomic_store(&raw mut (*self.as_ptr()).msize, msize, Relaxed) }
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
        u32::from(unsafe { (*self.as_ptr()).proto_version }) == zb::p9_proto_versions_p9_proto_2000L
    }

    /// Attaches the transport's state to the client and marks it connected: the client's
    /// `trans` pointer owns `state` until `close` takes it back ([`Client::take_state`]).
    pub(crate) fn connect_state<T: ForeignOwnable>(self, state: T) {
        self.connect(state.into_foreign());
    }

    /// Borrows the state [`Client::connect_state`] attached, if any.
    ///
    /// # Safety
    ///
    /// The client's `trans` is null or was set by `connect_state::<T>` (this very `T`), and
    /// [`Client::take_state`] does not run before the borrow ends (the 9P core calls `close`
    /// only after every other callback of the client returned).
    pub(crate) unsafe fn state<'a, T: ForeignOwnable>(self) -> Option<T::Borrowed<'a>> {
        // SAFETY: `trans` is null or came from `T::into_foreign` (the caller's contract) and is
        // not taken back while borrowed.
        unsafe { crate::common::borrow_foreign::<T>(self.trans()) }
    }

    /// Takes back the state [`Client::connect_state`] attached: `close`.
    ///
    /// # Safety
    ///
    /// As for [`Client::state`]; called once, from `close`, after which nothing borrows it.
    pub(crate) unsafe fn take_state<T: ForeignOwnable>(self) -> Option<T> {
        // SAFETY: `trans` is null or came from `T::into_foreign` (the caller's contract), and
        // this is the one place that takes it back.
        unsafe { T::try_from_foreign(self.trans()) }
    }

    /// Attaches transport state to the client and marks it connected.
    fn connect(self, trans: *mut c_void) {
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
