// SPDX-License-Identifier: GPL-2.0

//! The C-callable entry points of the tcp, unix, fd and vsock transports, which `shim_fd.c`
//! puts in their descriptors. Each turns raw pointers into the wrappers (and the mount's options
//! into a [`MountOpts`]) and calls into [`Conn`], its worker ([`io`]) or a zero-copy request
//! ([`lease`]).

use crate::{
    bindings as zb,
    common::{
        callbacks::{register_with_debugfs, to_errno, ZcCall},
        debugfs::ModuleDebugfs,
        msize,
        p9::{Client, Request, TransportRef},
        zc_payload::Direction,
    },
    conn::Conn,
    endpoint::Endpoints,
    io, lease,
    options::{self, Kind, MountOpts, Target},
};
use kernel::{
    bindings,
    ffi::{c_int, c_void},
    prelude::*,
    str::CStr,
    sync::{Arc, ArcBorrow},
};

/// Registers the four transports (with `zc_request` if `zerocopy`) after the module's debugfs
/// directory (each connection adds its counters there).
pub(crate) fn register(zerocopy: bool) -> Result {
    register_with_debugfs(c"zc9p_fd", || {
        // SAFETY: Called once from module init.
        kernel::error::to_result(unsafe { zb::zc9p_fd_register(zerocopy) })
    })
}

/// Whether the `zerocopy` module parameter is set.
pub(crate) fn zerocopy_param() -> bool {
    // SAFETY: FFI call without preconditions.
    unsafe { zb::zc9p_fd_param_zerocopy() }
}

/// Unregisters the transports, then the module's debugfs directory. Every mount holds a module
/// reference, so no connection is left.
pub(crate) fn unregister() {
    // SAFETY: Called once from module exit, after a successful `register`.
    unsafe { zb::zc9p_fd_unregister() };
    ModuleDebugfs::remove();
}

/// The connection a client was attached to in `create`.
///
/// # Safety
///
/// `client` must be a live client of these transports, between `create` and `close`.
unsafe fn conn_of<'a>(client: Client) -> Option<ArcBorrow<'a, Conn>> {
    // SAFETY: `create` stored a reference to the connection in `trans` (`Client::connect_state`),
    // which `close` takes back after every other callback of the client returned.
    unsafe { client.state::<Arc<Conn>>() }
}

/// The connection and the request of a `cancel` or `cancelled` call.
///
/// # Safety
///
/// `client` must be a live client of these transports, between `create` and `close`, and `req` a
/// request it holds a reference to, for the duration of the call.
unsafe fn conn_and_req<'a>(
    client: *mut zb::p9_client,
    req: *mut zb::p9_req_t,
) -> Option<(ArcBorrow<'a, Conn>, Request<'a>)> {
    // SAFETY: The caller's contract.
    let (client, req) = unsafe { (Client::from_raw(client)?, Request::from_raw(req)?) };
    // SAFETY: As above.
    Some((unsafe { conn_of(client) }?, req))
}

/// `rfdno`/`wfdno` as v9fs gives them when the mount does not (`~0`).
const NO_FD: i32 = !0;

/// The mount's options, as v9fs parsed them (the C side also records them in the client, for
/// `show_options`, as mainline does).
///
/// # Safety
///
/// `fc` must be the live context of the mount `client` is being created for.
unsafe fn mount_opts(client: Client, fc: *mut bindings::fs_context, kind: Kind) -> MountOpts {
    let mut raw = zb::zc9p_fd_opts::default();
    // SAFETY: The caller's contract: `fc`'s options were parsed by v9fs.
    unsafe { zb::zc9p_fd_mount_opts(client.as_ptr(), fc, kind_raw(kind), &mut raw) };
    let given = |fd| (fd != NO_FD).then_some(fd);
    MountOpts {
        port: raw.port,
        privport: raw.privport,
        rfd: given(raw.rfd),
        wfd: given(raw.wfd),
    }
}

/// Connects the mount's endpoints, as mainline's trans_fd takes its options.
fn connect(kind: Kind, source: Option<&CStr>, opts: &MountOpts) -> Result<Endpoints> {
    let target = options::target(kind, source, opts).inspect_err(|_| match kind {
        Kind::Fd => pr_err!("trans=fd needs both rfdno and wfdno\n"),
        Kind::Vsock => pr_err!(
            "vsock: '{}' is not a context id (a decimal number below 4294967295)\n",
            source.and_then(|s| s.to_str().ok()).unwrap_or("")
        ),
        _ => {}
    })?;
    match target {
        Target::Tcp {
            addr,
            port,
            privport,
        } => Endpoints::connect_tcp(addr, port, privport).inspect_err(|e| {
            pr_err!(
                "tcp {}: cannot connect to port {}: error {}\n",
                addr.to_str().unwrap_or("?"),
                port,
                e.to_errno()
            )
        }),
        Target::Unix { path } => Endpoints::connect_unix(path).inspect_err(|e| {
            pr_err!(
                "unix {}: cannot connect: error {}\n",
                path.to_str().unwrap_or("?"),
                e.to_errno()
            )
        }),
        Target::Fd { rfd, wfd } => Endpoints::open_fds(rfd, wfd).inspect_err(|e| {
            pr_err!(
                "fd: cannot use rfdno={} wfdno={}: error {}\n",
                rfd,
                wfd,
                e.to_errno()
            )
        }),
        Target::Vsock { cid, port } => Endpoints::connect_vsock(cid, port).inspect_err(|e| {
            pr_err!(
                "vsock {}: cannot connect to port {}: error {}\n",
                cid,
                port,
                e.to_errno()
            )
        }),
    }
}

/// `p9_trans_module.create` of the four transports.
///
/// # Safety
///
/// The 9P core's arguments: a client being created and its mount's live context; `kind` is the
/// transport's `zc9p_fd_kind`, from its descriptor.
#[no_mangle]
pub(crate) unsafe extern "C" fn zc9p_rs_fd_create(
    client: *mut zb::p9_client,
    fc: *mut bindings::fs_context,
    kind: c_int,
) -> c_int {
    // SAFETY: The 9P core passes a live client.
    let Some(client) = (unsafe { Client::from_raw(client) }) else {
        return EINVAL.to_errno();
    };
    if fc.is_null() {
        return EINVAL.to_errno();
    }
    let kind = match kind as u32 {
        zb::zc9p_fd_kind_ZC9P_FD_TCP => Kind::Tcp,
        zb::zc9p_fd_kind_ZC9P_FD_UNIX => Kind::Unix,
        zb::zc9p_fd_kind_ZC9P_FD_VSOCK => Kind::Vsock,
        _ => Kind::Fd,
    };
    // SAFETY: `fc` is the live context of the mount being created, its options parsed by v9fs.
    let opts = unsafe { mount_opts(client, fc, kind) };
    // SAFETY: As above; the source is NUL-terminated or null.
    let source = unsafe { zb::zc9p_fd_source(fc) };
    let source = if source.is_null() {
        None
    } else {
        // SAFETY: Non-null, NUL-terminated and live during `create`.
        Some(unsafe { CStr::from_char_ptr(source) })
    };
    to_errno(connect(kind, source, &opts).and_then(|ends| {
        let conn = Conn::create(client, kind, source.unwrap_or(c"fd"), ends)?;
        // Anything already readable (a server that speaks first) is read now.
        io::kick(&conn);
        msize::apply_default(client, source.unwrap_or(c"fd").to_bytes());
        Ok(())
    }))
}

fn kind_raw(kind: Kind) -> zb::zc9p_fd_kind {
    match kind {
        Kind::Tcp => zb::zc9p_fd_kind_ZC9P_FD_TCP,
        Kind::Unix => zb::zc9p_fd_kind_ZC9P_FD_UNIX,
        Kind::Fd => zb::zc9p_fd_kind_ZC9P_FD_FD,
        Kind::Vsock => zb::zc9p_fd_kind_ZC9P_FD_VSOCK,
    }
}

/// `p9_trans_module.close`.
///
/// # Safety
///
/// `client` must be a live client of these transports that `create` succeeded for; called once.
#[no_mangle]
pub(crate) unsafe extern "C" fn zc9p_rs_fd_close(client: *mut zb::p9_client) {
    // SAFETY: The 9P core passes a live client of this transport.
    let Some(client) = (unsafe { Client::from_raw(client) }) else {
        return;
    };
    // SAFETY: `create` stored this reference in `trans` (`Client::connect_state`); `close` runs
    // once, after every other callback of the client returned, and takes it back.
    if let Some(conn) = unsafe { client.take_state::<Arc<Conn>>() } {
        Conn::close(conn);
    }
}

/// `p9_trans_module.request`: queue a message on the copy path.
///
/// # Safety
///
/// `client` must be a live client of these transports, between `create` and `close`, and `req`
/// a request of it that holds the transport's reference, which passes to this call.
#[no_mangle]
pub(crate) unsafe extern "C" fn zc9p_rs_fd_request(
    client: *mut zb::p9_client,
    req: *mut zb::p9_req_t,
) -> c_int {
    // SAFETY: The 9P core passes a request holding the transport's reference, which is ours now.
    let Some(tref) = (unsafe { TransportRef::from_raw(req) }) else {
        return EINVAL.to_errno();
    };
    // SAFETY: The 9P core passes a live client of this transport.
    let conn = unsafe { Client::from_raw(client) }.and_then(|c| {
        // SAFETY: As above.
        unsafe { conn_of(c) }
    });
    let Some(conn) = conn else {
        tref.refused();
        return ENODEV.to_errno();
    };
    conn.stats.copy_requests.add(1);
    match io::submit(&conn, tref, Direction::None, 0, None) {
        Ok(()) => 0,
        Err((e, tref)) => {
            tref.refused();
            e.to_errno()
        }
    }
}

/// `p9_trans_module.cancel`.
///
/// # Safety
///
/// `client` must be a live client of these transports, between `create` and `close`, and `req` a
/// request of it that the 9P core holds a reference to.
#[no_mangle]
pub(crate) unsafe extern "C" fn zc9p_rs_fd_cancel(
    client: *mut zb::p9_client,
    req: *mut zb::p9_req_t,
) -> c_int {
    // SAFETY: The 9P core passes a live client of this transport and a request it holds a
    // reference to.
    match unsafe { conn_and_req(client, req) } {
        Some((conn, req)) => conn.cancel(req),
        None => 0,
    }
}

/// `p9_trans_module.cancelled`.
///
/// # Safety
///
/// As for [`zc9p_rs_fd_cancel`].
#[no_mangle]
pub(crate) unsafe extern "C" fn zc9p_rs_fd_cancelled(
    client: *mut zb::p9_client,
    req: *mut zb::p9_req_t,
) -> c_int {
    // SAFETY: As in `zc9p_rs_fd_cancel`.
    if let Some((conn, req)) = unsafe { conn_and_req(client, req) } {
        conn.cancelled(req);
    }
    0
}

/// `p9_trans_module.zc_request`: send a message whose payload travels in its own pages.
///
/// # Safety
///
/// The 9P core's arguments (`ZcCall::from_raw`'s contract), for a live client of these
/// transports, between `create` and `close`.
#[no_mangle]
pub(crate) unsafe extern "C" fn zc9p_rs_fd_zc_request(
    client: *mut zb::p9_client,
    req: *mut zb::p9_req_t,
    uidata: *mut bindings::iov_iter,
    uodata: *mut bindings::iov_iter,
    inlen: c_int,
    outlen: c_int,
    in_hdr_len: c_int,
) -> c_int {
    // SAFETY: The arguments of the 9P core's `zc_request` call.
    match unsafe { ZcCall::from_raw(client, req, uidata, uodata, inlen, outlen, in_hdr_len) } {
        // SAFETY: A live client of these transports, whose `trans` `Conn::create` set and
        // `close` (which runs after this call) takes back.
        Ok(call) => unsafe { call.run::<Arc<Conn>>(|conn, call| lease::zc_request(&conn, call)) },
        Err(e) => e.to_errno(),
    }
}

/// The poll wake-up of a connection's files (any context): run its worker, unless the wake-up
/// only says there is room to send and no frame waits for it (`io::wake`).
///
/// # Safety
///
/// `ctx` must be the context `Conn::create` gave the connection's poller, which is stopped
/// before the connection goes.
#[no_mangle]
pub(crate) unsafe extern "C" fn zc9p_rs_fd_ready(ctx: *mut c_void, write_space: bool) {
    // SAFETY: The context is the connection, alive until its poller is stopped (`close` stops it
    // before dropping the client's reference), and no wake-up runs after that.
    let Some(conn) = (unsafe { ctx.cast::<Conn>().as_ref() }) else {
        return;
    };
    io::wake(conn, write_space);
}
