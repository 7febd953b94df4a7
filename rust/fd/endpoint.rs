// SPDX-License-Identifier: GPL-2.0

//! Thin wrappers around a connection's files (a socket, or trans=fd's read and write files), their
//! non-blocking I/O over `bio_vec` arrays, and the poll wait-queue entries that wake the worker.

use crate::bindings as zb;
use core::ptr::NonNull;
use kernel::{bindings, error::from_err_ptr, ffi::c_void, page::PAGE_SIZE, prelude::*, str::CStr};

/// A file reference.
///
/// # Invariants
///
/// The pointer is a file on which this value owns one reference.
struct FileRef(NonNull<bindings::file>);

impl FileRef {
    /// # Safety
    ///
    /// `ptr` is a file reference the caller gives to the new value.
    unsafe fn from_raw(ptr: *mut bindings::file) -> Result<Self> {
        NonNull::new(ptr).map(Self).ok_or(EINVAL)
    }

    fn as_ptr(&self) -> *mut bindings::file {
        self.0.as_ptr()
    }
}

impl Drop for FileRef {
    fn drop(&mut self) {
        // SAFETY: The reference is owned by this value (type invariant) and given back once.
        unsafe { zb::zc9p_fd_put_file(self.as_ptr()) };
    }
}

// SAFETY: File references may be used and dropped from any task.
unsafe impl Send for FileRef {}
// SAFETY: The file operations used here synchronise internally.
unsafe impl Sync for FileRef {}

/// Send flags: more of the frame follows; reference the pages instead of copying them.
pub(crate) const SEND_MORE: u32 = zb::ZC9P_FD_SEND_MORE;
pub(crate) const SEND_SPLICE: u32 = zb::ZC9P_FD_SEND_SPLICE;

/// A connection's two ends: one socket for both directions, or trans=fd's two files.
pub(crate) struct Endpoints {
    rd: FileRef,
    /// `None`: writes go to `rd` too (a socket).
    wr: Option<FileRef>,
    /// The socket is the connection's own (tcp, unix, vsock), not a file the user passed.
    own_socket: bool,
    /// The write end references pages under `MSG_SPLICE_PAGES` (tcp, unix) instead of copying.
    splices: bool,
}

fn to_result_len(n: isize) -> Result<usize> {
    if n < 0 {
        Err(Error::from_errno(n as i32))
    } else {
        Ok(n as usize)
    }
}

impl Endpoints {
    /// Connects a TCP socket to `addr` (an IPv4 or IPv6 address, as mainline takes it) and
    /// `port`, from a reserved local port if `privport`.
    pub(crate) fn connect_tcp(addr: &CStr, port: u16, privport: bool) -> Result<Self> {
        let mut file = core::ptr::null_mut();
        // SAFETY: `addr` is NUL-terminated; `file` is written only on success.
        kernel::error::to_result(unsafe {
            zb::zc9p_fd_connect_tcp(addr.as_char_ptr(), port, privport, &mut file)
        })?;
        // SAFETY: On success the shim returned a new file reference.
        let rd = unsafe { FileRef::from_raw(file) }?;
        Ok(Self::new(rd, None, true))
    }

    fn new(rd: FileRef, wr: Option<FileRef>, own_socket: bool) -> Self {
        let w = wr.as_ref().unwrap_or(&rd);
        // SAFETY: The file is live (`FileRef` invariant).
        let splices = unsafe { zb::zc9p_fd_splices_pages(w.as_ptr()) };
        Self {
            rd,
            wr,
            own_socket,
            splices,
        }
    }

    /// Connects a unix stream socket to `path`.
    pub(crate) fn connect_unix(path: &CStr) -> Result<Self> {
        let mut file = core::ptr::null_mut();
        // SAFETY: `path` is NUL-terminated; `file` is written only on success.
        kernel::error::to_result(unsafe {
            zb::zc9p_fd_connect_unix(path.as_char_ptr(), &mut file)
        })?;
        // SAFETY: On success the shim returned a new file reference.
        let rd = unsafe { FileRef::from_raw(file) }?;
        Ok(Self::new(rd, None, true))
    }

    /// Connects a vsock stream socket to `cid`'s `port` (waits at most the socket's connect
    /// timeout, 2 s, for a peer that does not answer).
    pub(crate) fn connect_vsock(cid: u32, port: u16) -> Result<Self> {
        let mut file = core::ptr::null_mut();
        // SAFETY: `file` is written only on success.
        kernel::error::to_result(unsafe {
            zb::zc9p_fd_connect_vsock(cid, port.into(), &mut file)
        })?;
        // SAFETY: On success the shim returned a new file reference.
        let rd = unsafe { FileRef::from_raw(file) }?;
        Ok(Self::new(rd, None, true))
    }

    /// Takes references to the calling task's files `rfd` and `wfd` (stream sockets or pipes
    /// that support non-blocking I/O; their flags are left as they are).
    pub(crate) fn open_fds(rfd: i32, wfd: i32) -> Result<Self> {
        let (mut rd, mut wr) = (core::ptr::null_mut(), core::ptr::null_mut());
        // SAFETY: The out pointers are written only on success.
        kernel::error::to_result(unsafe { zb::zc9p_fd_open_fds(rfd, wfd, &mut rd, &mut wr) })?;
        // SAFETY: On success the shim returned two new file references.
        let (rd, wr) = unsafe { (FileRef::from_raw(rd)?, FileRef::from_raw(wr)?) };
        Ok(Self::new(rd, Some(wr), false))
    }

    fn wr(&self) -> &FileRef {
        self.wr.as_ref().unwrap_or(&self.rd)
    }

    /// Whether the socket is the connection's own (tcp, unix, vsock), not a file the user passed.
    pub(crate) fn own_socket(&self) -> bool {
        self.own_socket
    }

    /// Whether the write end is a socket that references payload pages instead of copying them
    /// (tcp and unix; a vsock socket copies them into its packets, a pipe into its buffers).
    pub(crate) fn splices_pages(&self) -> bool {
        self.splices
    }

    /// Sends what `bv` describes without blocking: the bytes taken, or `EAGAIN`.
    pub(crate) fn send(&self, bv: &mut BvecBatch, flags: u32) -> Result<usize> {
        // SAFETY: The file is live; `bv`'s entries name pages that its builder keeps alive for
        // the call (`BvecBatch` invariant).
        to_result_len(unsafe {
            zb::zc9p_fd_send(
                self.wr().as_ptr(),
                bv.as_mut_ptr(),
                bv.count(),
                bv.bytes(),
                flags,
            )
        })
    }

    /// Receives into what `bv` describes without blocking: the bytes received (0 at end of
    /// file), or `EAGAIN`.
    pub(crate) fn recv(&self, bv: &mut BvecBatch) -> Result<usize> {
        // SAFETY: As in `send`; the pages are the receiver's to write (the caller's contract
        // when it built the batch).
        to_result_len(unsafe {
            zb::zc9p_fd_recv(self.rd.as_ptr(), bv.as_mut_ptr(), bv.count(), bv.bytes())
        })
    }

    /// Receives into `buf` without blocking, as [`Self::recv`].
    pub(crate) fn recv_buf(&self, buf: &mut [u8]) -> Result<usize> {
        // SAFETY: The file is live; `buf` is writable for its length.
        to_result_len(unsafe {
            zb::zc9p_fd_recv_buf(self.rd.as_ptr(), buf.as_mut_ptr().cast(), buf.len())
        })
    }

    /// Stops the peer (a failed connection): shuts our own socket down both ways. A file the
    /// user passed (trans=fd) is left as it is.
    pub(crate) fn shutdown(&self) {
        if self.own_socket {
            // SAFETY: The file is live (`FileRef` invariant).
            unsafe { zb::zc9p_fd_shutdown(self.rd.as_ptr()) };
        }
    }

    /// Puts wait-queue entries on the files' poll queues: every wake-up calls
    /// `zc9p_rs_fd_ready(ctx)`. Returns them with the files' current poll mask.
    ///
    /// # Safety
    ///
    /// `ctx` must stay valid for `zc9p_rs_fd_ready` until the returned [`Poller`] is dropped.
    pub(crate) unsafe fn poll_start(&self, ctx: *mut c_void) -> Result<(Poller, u32)> {
        let mut mask = 0;
        // SAFETY: The files are live; the caller keeps `ctx` valid as long as the poller.
        let p = from_err_ptr(unsafe {
            zb::zc9p_fd_poll_start(self.rd.as_ptr(), self.wr().as_ptr(), ctx, &mut mask)
        })?;
        // INVARIANT: A poller the shim just made.
        Ok((Poller(NonNull::new(p).ok_or(ENOMEM)?), mask))
    }
}

/// Wait-queue entries on a connection's poll queues.
///
/// # Invariants
///
/// The pointer is a live poller from `zc9p_fd_poll_start`, owned by this value.
pub(crate) struct Poller(NonNull<zb::zc9p_fd_poller>);

impl Drop for Poller {
    /// Removes the entries: no wake-up callback runs for them once this returns.
    fn drop(&mut self) {
        // SAFETY: Owned by this value (type invariant); stopped once.
        unsafe { zb::zc9p_fd_poll_stop(self.0.as_ptr()) };
    }
}

// SAFETY: The poller may be stopped from any task.
unsafe impl Send for Poller {}
// SAFETY: It has no methods taking `&self`.
unsafe impl Sync for Poller {}

/// Entries of one send or receive call.
pub(crate) const BVEC_BATCH: usize = 32;

/// Up to [`BVEC_BATCH`] page ranges for one call.
///
/// # Invariants
///
/// The first `count` entries are set, each within one page, `bytes` long in all. The pages stay
/// alive while the batch is used: the code that fills it holds what owns them (a request's
/// buffer, a payload the connection borrowed).
pub(crate) struct BvecBatch {
    entries: [bindings::bio_vec; BVEC_BATCH],
    count: usize,
    bytes: usize,
}

impl BvecBatch {
    pub(crate) fn new() -> Self {
        Self {
            entries: [bindings::bio_vec::default(); BVEC_BATCH],
            count: 0,
            bytes: 0,
        }
    }

    pub(crate) fn clear(&mut self) {
        self.count = 0;
        self.bytes = 0;
    }

    pub(crate) fn is_full(&self) -> bool {
        self.count == BVEC_BATCH
    }

    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    fn count(&self) -> u32 {
        self.count as u32
    }

    fn as_mut_ptr(&mut self) -> *mut bindings::bio_vec {
        self.entries.as_mut_ptr()
    }

    /// Adds `len` bytes of `page` from `offset` (within the page); false if full.
    pub(crate) fn push_page(
        &mut self,
        page: *mut bindings::page,
        offset: usize,
        len: usize,
    ) -> bool {
        if self.is_full() || len == 0 {
            return len == 0;
        }
        // SAFETY: `entries[count]` exists (not full); the shim only stores the values.
        unsafe {
            zb::zc9p_fd_bvec_set(
                &mut self.entries[self.count],
                page,
                len as u32,
                offset as u32,
            )
        };
        self.count += 1;
        self.bytes += len;
        true
    }

    /// Adds the directly mapped (kmalloc'ed) buffer `ptr[..len]`, one entry per page it
    /// touches; returns how many bytes fitted.
    pub(crate) fn push_linear(&mut self, ptr: *mut u8, len: usize) -> usize {
        let mut done = 0;
        while done < len && !self.is_full() {
            let addr = ptr.wrapping_add(done);
            let offset = addr as usize % PAGE_SIZE;
            let n = (len - done).min(PAGE_SIZE - offset);
            // SAFETY: `addr` is inside a kmalloc'ed buffer, which is in the direct map.
            let page = unsafe { zb::zc9p_fd_virt_to_page(addr.cast()) };
            self.push_page(page, offset, n);
            done += n;
        }
        done
    }
}

// SAFETY: The entries are plain page references, used by whichever task holds the batch.
unsafe impl Send for BvecBatch {}

/// Whether the network stack may reference `page` instead of copying it (`sendpage_ok`: not a
/// slab page, and has a reference count).
pub(crate) fn page_spliceable(page: *mut bindings::page) -> bool {
    // SAFETY: The caller's page is live (it is a payload page held for the request).
    unsafe { zb::zc9p_fd_page_spliceable(page) }
}
