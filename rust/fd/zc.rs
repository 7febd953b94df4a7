// SPDX-License-Identifier: GPL-2.0

//! Zero-copy requests over a connection: a write's payload is sent from its own pages (spliced
//! where the socket can reference them), a read's data is received straight into its pages.
//!
//! Mapping, patching and counting are in `common::zc`; here the request is queued with its pages
//! lent to the worker, and a [`Lease`] makes sure the caller gets them back before it releases
//! them, however it leaves.

use crate::{
    common::{
        callbacks::ZcCall,
        current_dying,
        p9::Request,
        second,
        trans_common::{noio, PayloadPages},
        zc::{self, Direction},
    },
    conn::{Conn, Held, LentPages, Phase},
    frame,
};
use kernel::{alloc::KVec, prelude::*, sync::atomic::Relaxed};

/// Seconds a killed caller gives a connection stalled mid-frame (the server stopped reading, or
/// stopped partway through a reply) before failing it.
const STALL_SECS: u32 = 2;

impl Conn {
    /// `zc_request`: sends `req` with its payload in its own pages and waits for the reply.
    pub(crate) fn zc_request(&self, call: ZcCall<'_>) -> Result {
        let ZcCall { client, req, tref, uidata, uodata, inlen, outlen, in_hdr_len } = call;
        // A read's data lands after an Rread/Rreaddir header (count included), as the reader
        // expects; the 9P client asks for nothing else.
        if uidata.is_some() && in_hdr_len != frame::COUNT_HEADER_LEN {
            tref.put(client);
            return Err(EINVAL);
        }
        // Filled in place: see `PayloadPages::new`.
        let mut payload = PayloadPages::new();
        let stats = &self.stats.zc;
        let max_pages = usize::MAX;
        let mapped = match zc::map(req, uidata, uodata, inlen, outlen, in_hdr_len, max_pages, &mut payload, stats) {
            Ok(m) => m,
            Err(e) => {
                tref.put(client);
                return Err(e);
            }
        };
        let dir = mapped.direction();
        let lent = (dir != Direction::None && payload.len() > 0).then(|| LentPages::new(&payload));
        let result = match self.submit(tref, dir, payload.len(), lent) {
            Ok(()) => Lease { conn: self, req, _payload: &payload }.wait(),
            Err((e, tref)) => {
                tref.put(client);
                Err(e)
            }
        };
        // The reply (or error) is in `rc` as one frame: nothing to copy back from the pages.
        mapped.finish(req, &mut payload, result.is_ok(), false);
        result
    }
}

/// A request in the connection's hands together with the payload pages lent to it.
///
/// It borrows the payload, so the pages cannot be released while it exists, and dropping it
/// takes them back from the worker first (under the io lock): an unsent request is withdrawn, a
/// read's pages are detached (the rest of its data is read and dropped), and a write whose frame
/// is being sent is waited for (or its connection failed, if the frame stalls).
struct Lease<'a> {
    conn: &'a Conn,
    req: Request<'a>,
    _payload: &'a PayloadPages,
}

impl Lease<'_> {
    /// Waits for the reply. A fatal signal ends the wait: the pages are taken back and the
    /// client is told `ERESTARTSYS` (it then cancels or flushes the request).
    fn wait(self) -> Result {
        let req = self.req;
        // Timed, so a task that is already exiting (a request from its exit path, e.g. closing
        // a file, whose fatal signal no longer ends the wait) is treated as killed too.
        let killed = loop {
            match req.wait_killable_timeout(second()) {
                Ok(true) => break false,
                Ok(false) if !current_dying() => {}
                _ => break true,
            }
        };
        if killed {
            self.conn.stats.killed_waits.add(1);
        }
        drop(self);
        if req.is_received() {
            Ok(())
        } else if req.status() == crate::bindings::p9_req_status_t_REQ_STATUS_ERROR as i32 {
            Err(req.transport_error())
        } else {
            // Killed: withdrawn before it was sent, or still with the server. Not EIO, which
            // would make the client give up on the whole connection.
            Err(ERESTARTSYS)
        }
    }

    /// One attempt to take the pages back; false if the worker is sending them right now.
    fn take_back(&self) -> bool {
        let conn = self.conn;
        let mut io = conn.io.lock();
        let proof = &io.proof;
        if let Some(tx) = io.tx.as_ref() {
            if tx.tag == self.req.tag() && tx.pages.is_some() {
                // Mid-frame: the frame must go on without the pages. Copy what is left of them.
                let hdr = tx.tc.len();
                let from = tx.sent.saturating_sub(hdr);
                let rest = tx.payload_len.saturating_sub(from);
                let copied = noio(|| KVec::from_elem(0u8, rest, GFP_KERNEL)).ok().map(|mut buf| {
                    if let Some(pages) = tx.pages.as_ref() {
                        pages.get(proof).read_at(from, &mut buf);
                    }
                    buf
                });
                let Some(buf) = copied else {
                    return false;
                };
                if let Some(tx) = io.tx.as_mut() {
                    tx.pages = None;
                    tx.splice = false;
                    tx.bounce = Some((buf, from));
                }
                conn.stats.killed_mid_send.add(1);
                return true;
            }
        }
        if let crate::conn::Rx::Body { entry, .. } = &mut io.rx {
            if entry.request().is_some_and(|r| r.is(self.req)) {
                entry.pages = None;
                return true;
            }
        }
        let tag = self.req.tag();
        let withdrawn = {
            let mut st = conn.state.lock();
            match st.reqs.get_mut(&tag) {
                Some(e) if e.request().is_some_and(|r| r.is(self.req)) => {
                    if e.phase == Phase::Unsent {
                        st.reqs.remove(&tag)
                    } else {
                        e.pages = None;
                        None
                    }
                }
                _ => None,
            }
        };
        drop(io);
        if let Some(entry) = withdrawn {
            conn.stats.killed_unsent.add(1);
            conn.retire(1);
            if let Held::Queued(t) = entry.held {
                t.withdraw(conn.client);
            }
        }
        true
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        // Finished: the worker gave the request back with everything it held.
        if self.req.status() >= kernel_status_rcvd() {
            return;
        }
        // Killed. Take the pages back; a frame being sent with them goes on from a copy, or (no
        // memory for one) is waited for.
        while !self.take_back() {
            if !self.wait_for_progress() {
                let mut io = self.conn.io.lock();
                self.conn.fail(
                    &mut io,
                    frame::econnreset(),
                    format_args!("a killed writer's frame made no progress for {STALL_SECS} s"),
                );
            }
        }
        // A server stalled partway through a frame (either way) for that long is not coming
        // back: what the dying task does next (closing its files: Tclunk, which the client waits
        // for without a way out) would wait for it forever. Fail the connection then.
        let stalled = {
            let io = self.conn.io.lock();
            Conn::mid_frame(&io) && !self.conn.is_dead()
        };
        if stalled && !self.wait_for_progress() {
            let mut io = self.conn.io.lock();
            if Conn::mid_frame(&io) {
                self.conn.fail(
                    &mut io,
                    frame::econnreset(),
                    format_args!("stalled mid-frame for {STALL_SECS} s while a killed task waited"),
                );
            }
        }
    }
}

impl Lease<'_> {
    /// Waits up to [`STALL_SECS`] for the connection to send or receive anything (or fail);
    /// false if it did not.
    fn wait_for_progress(&self) -> bool {
        let seen = self.conn.progress.load(Relaxed);
        let moved = || self.conn.progress.load(Relaxed) != seen || self.conn.is_dead();
        for _ in 0..STALL_SECS {
            if self.conn.progress_wait.wait_timeout(moved, second()) {
                return true;
            }
        }
        false
    }
}

/// `REQ_STATUS_RCVD`: statuses from here on mean finished.
fn kernel_status_rcvd() -> i32 {
    crate::bindings::p9_req_status_t_REQ_STATUS_RCVD as i32
}
