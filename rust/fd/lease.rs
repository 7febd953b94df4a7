// SPDX-License-Identifier: GPL-2.0

//! Zero-copy requests over a connection, `zc_request`: a write's payload is sent from its own
//! pages (spliced where the socket can reference them), a read's data is received straight into
//! its pages.
//!
//! Mapping, patching and counting are in `common::zc_payload`; here the request is submitted with its
//! pages lent to the worker, and a [`Lease`] makes sure the caller gets them back before it
//! releases them, however it leaves.

use crate::{
    common::{
        callbacks::{ZcCall, ZcMapped},
        p9::Request,
        second,
        trans_common::PayloadPages,
        zc_payload::Direction,
    },
    conn::Conn,
    frame, io,
    state::LentPages,
};
use kernel::{prelude::*, sync::atomic::Relaxed};

/// `zc_request`: sends `call`'s request over `conn` with its payload in its own pages and waits
/// for the reply.
pub(crate) fn zc_request(conn: &Conn, call: ZcCall<'_>) -> Result {
    // A read's data lands after an Rread/Rreaddir header (count included), as the reader
    // expects; the 9P client asks for nothing else.
    if call.uidata.is_some() && call.in_hdr_len != frame::COUNT_HEADER_LEN {
        call.tref.put(call.client);
        return Err(EINVAL);
    }
    let req = call.req;
    // Filled in place: see `PayloadPages::new`.
    let mut payload = PayloadPages::new();
    // No page limit: the frame is written to the socket, not to a ring of fixed size.
    let ZcMapped {
        client,
        tref,
        mapped,
    } = call.map(usize::MAX, &mut payload, &conn.stats.zc)?;
    let dir = mapped.direction();
    let lent = (dir != Direction::None && payload.len() > 0).then(|| LentPages::new(&payload));
    let result = match io::submit(conn, tref, dir, payload.len(), lent) {
        Ok(()) => Lease {
            conn,
            req,
            _payload: &payload,
        }
        .wait(),
        Err((e, tref)) => {
            tref.put(client);
            Err(e)
        }
    };
    // The reply (or error) is in `rc` as one frame: nothing to copy back from the pages.
    mapped.finish(req, &mut payload, result.is_ok(), false);
    result
}

/// A request in the connection's hands together with the payload pages lent to it.
///
/// It borrows the payload, so the pages cannot be released while it exists, and dropping it
/// takes them back first ([`Conn::take_back`], under the io lock): an unsent request is withdrawn, a
/// read's pages are detached (the rest of its data is read and dropped), and the rest of a
/// write's payload whose frame is being sent is copied for the frame to go on with (or, with no
/// memory for the copy, the frame is waited for). Nothing here fails the connection: only the
/// request's own state is given up, and a frame that stalls is the server's to move on.
struct Lease<'a> {
    conn: &'a Conn,
    req: Request<'a>,
    _payload: &'a PayloadPages,
}

impl Lease<'_> {
    /// Waits for the reply, as long as it takes, as the 9P client's own wait does: only a fatal
    /// signal ends it (the pages are then taken back and the client is told `ERESTARTSYS`; it
    /// cancels or flushes the request). A task that exits normally (writeback at its last
    /// `fput` or at `exit_mm`) has none and waits.
    fn wait(self) -> Result {
        let req = self.req;
        if req.wait_killable().is_err() {
            self.conn.stats.killed_waits.add(1);
        }
        drop(self);
        if req.is_received() {
            Ok(())
        } else if req.is_failed() {
            Err(req.transport_error())
        } else {
            // Killed: withdrawn before it was sent, or still with the server. Not EIO, which
            // would make the client give up on the whole connection.
            Err(ERESTARTSYS)
        }
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        // Finished, and no frame is sending these pages: the worker gave everything back. (A
        // reply may come while its write's frame is still being sent, e.g. an early Rlerror:
        // then the pages are taken back from that frame below.)
        let lent_to_tx = self.conn.lends_to_tx(self.req);
        if self.req.is_finished() && !lent_to_tx {
            return;
        }
        // Take the pages back; a frame being sent with them goes on from a copy, or (no memory
        // for one) is waited for while it moves, and the copy tried again.
        while !self.conn.take_back(self.req) {
            self.wait_for_progress();
        }
    }
}

impl Lease<'_> {
    /// Waits up to a second for the connection to send or receive anything (or fail).
    fn wait_for_progress(&self) {
        let seen = self.conn.progress.load(Relaxed);
        let moved = || self.conn.progress.load(Relaxed) != seen || self.conn.is_dead();
        self.conn.progress_wait.wait_timeout(moved, second());
    }
}
