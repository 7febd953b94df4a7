// SPDX-License-Identifier: GPL-2.0

//! What every transport's C-callable entry points share: turning the 9P core's raw arguments into
//! the wrappers, and errors back into errnos.

use crate::common::{
    counters::ZcStats,
    debugfs::ModuleDebugfs,
    iov,
    p9::{Client, Request, TransportRef},
    trans_common::PayloadPages,
    zc_payload::{self, Mapped},
};
use kernel::{
    bindings,
    ffi::c_int,
    iov::{IovIterDest, IovIterSource},
    prelude::*,
    str::CStr,
    types::ForeignOwnable,
};

/// `Ok` as 0, an error as its negative errno.
pub(crate) fn to_errno(r: Result) -> c_int {
    match r {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// Creates the module's debugfs directory `name`, then runs `register` (the C side's transport
/// registration); the directory goes again if that fails.
pub(crate) fn register_with_debugfs(
    name: &'static CStr,
    register: impl FnOnce() -> Result,
) -> Result {
    ModuleDebugfs::create(name)?;
    let registered = register();
    if registered.is_err() {
        ModuleDebugfs::remove();
    }
    registered
}

/// The arguments of one `zc_request` call, wrapped.
pub(crate) struct ZcCall<'a> {
    pub(crate) client: Client,
    /// The caller's view of the request, live for the call.
    pub(crate) req: Request<'a>,
    /// The transport's reference, ours now.
    pub(crate) tref: TransportRef,
    /// Where a read's payload goes.
    pub(crate) uidata: Option<&'a mut IovIterDest<'a>>,
    /// Where a write's payload comes from.
    pub(crate) uodata: Option<&'a mut IovIterSource<'a>>,
    pub(crate) inlen: usize,
    pub(crate) outlen: usize,
    /// The reply header before a read's payload.
    pub(crate) in_hdr_len: usize,
}

/// A `zc_request` call whose payload is mapped ([`ZcCall::map`]): what the transport moves
/// (the request itself: the call's `req`).
pub(crate) struct ZcMapped<'s> {
    pub(crate) client: Client,
    /// The transport's reference, still to be handed over or given back.
    pub(crate) tref: TransportRef,
    /// The payload's share of the call: finish it once the other side is done with the pages.
    pub(crate) mapped: Mapped<'s>,
}

impl ZcCall<'_> {
    /// Runs `run` on the transport state `create` attached to the call's client (`T`, see
    /// [`Client::connect_state`]): the body of a transport's `zc_request` entry point. A client
    /// with none is `ENODEV`, and the transport's reference is given back.
    ///
    /// # Safety
    ///
    /// As for [`Client::state`]: the client's `trans` is null or a `T` from `connect_state`,
    /// not taken back while `run` runs.
    pub(crate) unsafe fn run<T: ForeignOwnable>(
        self,
        run: impl FnOnce(T::Borrowed<'_>, Self) -> Result,
    ) -> c_int {
        // SAFETY: The caller's contract.
        let Some(state) = (unsafe { self.client.state::<T>() }) else {
            self.tref.put(self.client);
            return ENODEV.to_errno();
        };
        to_errno(run(state, self))
    }

    /// Maps the payload into `payload` (which must be empty), at most `max_pages` pages, and
    /// patches the message to match ([`zc_payload::map`]). On failure the transport's reference
    /// is given back: the request was never queued, so no reply will give it back.
    pub(crate) fn map<'s>(
        self,
        max_pages: usize,
        payload: &mut PayloadPages,
        stats: &'s ZcStats,
    ) -> Result<ZcMapped<'s>> {
        let mapped = zc_payload::map(
            self.req,
            self.uidata,
            self.uodata,
            self.inlen,
            self.outlen,
            self.in_hdr_len,
            max_pages,
            payload,
            stats,
        );
        match mapped {
            Ok(mapped) => Ok(ZcMapped {
                client: self.client,
                tref: self.tref,
                mapped,
            }),
            Err(e) => {
                self.tref.put(self.client);
                Err(e)
            }
        }
    }

    /// Wraps `zc_request`'s arguments. Negative lengths and iterators of the wrong direction
    /// are `EINVAL` (the transport's reference is given back then).
    ///
    /// # Safety
    ///
    /// The arguments are those the 9P core passed to `zc_request`, for the duration of the call:
    /// a live client, a request holding the caller's and the transport's references, and the
    /// iterators it lends (either may be null).
    pub(crate) unsafe fn from_raw(
        client: *mut crate::bindings::p9_client,
        req: *mut crate::bindings::p9_req_t,
        uidata: *mut bindings::iov_iter,
        uodata: *mut bindings::iov_iter,
        inlen: c_int,
        outlen: c_int,
        in_hdr_len: c_int,
    ) -> Result<Self> {
        // SAFETY: The caller's contract: a live client and request, and the transport's reference.
        let (Some(client), Some(view), Some(tref)) = (unsafe {
            (
                Client::from_raw(client),
                Request::from_raw(req),
                TransportRef::from_raw(req),
            )
        }) else {
            return Err(EINVAL);
        };
        // SAFETY: The 9P core lends the iterators for this call only: `uidata` to be written
        // into, `uodata` to be read from.
        let iters = unsafe { (iov::lend_from_raw(uidata), iov::lend_from_raw(uodata)) };
        let (Ok(inlen), Ok(outlen), Ok(in_hdr_len), (Ok(uidata), Ok(uodata))) = (
            usize::try_from(inlen),
            usize::try_from(outlen),
            usize::try_from(in_hdr_len),
            iters,
        ) else {
            tref.put(client);
            return Err(EINVAL);
        };
        Ok(Self {
            client,
            req: view,
            tref,
            uidata,
            uodata,
            inlen,
            outlen,
            in_hdr_len,
        })
    }
}
