// SPDX-License-Identifier: GPL-2.0

//! The connection's worker: sends queued frames and reads replies, never blocking (every send
//! and receive is non-blocking and resumes where it stopped), and checks each reply before a byte
//! of it lands anywhere (`frame.rs`).
//!
//! Its entry points: [`kick`] (run it soon, from any context), [`wake`] (a poll wake-up of the
//! connection's files), [`submit`] (a new request, sent from the submitting task when it can) and
//! the workqueue's `run`. It works on the connection's state through `Conn` and the methods of
//! what each lock protects (`state.rs`).

use crate::{
    bindings as zb,
    common::{
        compat,
        errno::econnreset,
        p9::{LinearBuf, Request, TransportRef},
        trans_common::{noio, PayloadPages},
        zc_payload::Direction,
    },
    conn::Conn,
    endpoint::{page_spliceable, BvecBatch, SEND_MORE, SEND_SPLICE},
    frame::{self, Expect, Header, Plan, Violation},
    state::{Entry, Io, IoProof, LentPages, Rx, Tx},
};
use kernel::{
    prelude::*,
    sync::{
        atomic::{Full, Relaxed},
        Arc, ArcBorrow,
    },
    workqueue::{Queue, WorkItem},
};

/// Rounds of sending and receiving before the worker yields to other work.
const PUMP_ROUNDS: usize = 64;

/// The smallest payload whose pages are spliced. A spliced frame is two sends (the copied
/// message, then the pages) and two segments; below this one send that copies the payload costs
/// less (under `-icount`, 4 KiB writes over tcp took 17% more guest time spliced, 16 KiB ones
/// broke even, 64 KiB ones took 15% less).
const SPLICE_MIN: usize = 16 * 1024;

/// Why the reader stopped for good.
enum RxStop {
    /// The server closed the connection between frames.
    Eof,
    /// A receive failed.
    Io(Error),
    /// A frame the reader refused.
    Bad(Violation),
}

/// Payload bytes from `pos` of `pages`, at most `max`, into `bv`.
fn fill_payload(bv: &mut BvecBatch, pages: &PayloadPages, mut pos: usize, max: usize) {
    for seg in pages.segments() {
        if bv.bytes() >= max || bv.is_full() {
            break;
        }
        if pos >= seg.len() {
            pos -= seg.len();
            continue;
        }
        let n = (seg.len() - pos).min(max - bv.bytes());
        bv.push_page(seg.page(), seg.offset() + pos, n);
        pos = 0;
    }
}

/// The reply buffer `rc[at..end]` of a request the reader owns.
///
/// # Safety
///
/// The caller owns the request's entry (taken out of the table, so nobody else touches the
/// reply buffer until the request is finished) and `at <= end <= rc.len()`.
unsafe fn rc_slice<'a>(rc: LinearBuf, at: usize, end: usize) -> &'a mut [u8] {
    // SAFETY: In bounds and exclusively ours (the caller's contract).
    unsafe { core::slice::from_raw_parts_mut(rc.ptr().add(at), end - at) }
}

impl WorkItem for Conn {
    type Pointer = Arc<Conn>;

    fn run(this: Arc<Conn>) {
        if this.is_closing() {
            return;
        }
        noio(|| {
            let mut io = this.io.lock();
            if this.pump(&mut io) {
                // Still busy after a fair share: let other work run, then go on.
                kick_arc(this.clone());
            }
        });
    }
}

/// Runs `conn`'s worker soon (from any context).
pub(crate) fn kick(conn: &Conn) {
    // SAFETY: `conn` is inside an `Arc` (connections are only made by `Conn::create`), alive for
    // this call.
    let arc: Arc<Conn> = unsafe { ArcBorrow::from_raw(core::ptr::from_ref(conn)) }.into();
    kick_arc(arc);
}

fn kick_arc(arc: Arc<Conn>) {
    // SAFETY: The module's workqueue lives from module init to exit, past every connection.
    let queue = unsafe { Queue::from_raw(zb::zc9p_fd_workqueue()) };
    // Already queued: that run will see what this one would have.
    let _ = queue.enqueue(arc);
}

/// A poll wake-up of `conn`'s files (any context): runs the worker, unless the wake-up only says
/// there is room to send and no frame waits for it. The waker made room before waking us, the
/// sender set `want_write` before its last try (`tx_step`): with a full barrier on both sides,
/// either that try found the room or this sees the flag.
pub(crate) fn wake(conn: &Conn, write_space: bool) {
    if write_space {
        compat::smp_mb();
        if !conn.want_write.load(Relaxed) {
            conn.stats.write_wakeups_ignored.add(1);
            return;
        }
    }
    kick(conn);
}

/// Adds a request to `conn` (`Conn::enqueue`, whose errors it returns) and has it sent.
pub(crate) fn submit(
    conn: &Conn,
    tref: TransportRef,
    dir: Direction,
    mapped: usize,
    pages: Option<LentPages>,
) -> Result<(), (Error, TransportRef)> {
    conn.enqueue(tref, dir, mapped, pages)?;
    send_now(conn);
    Ok(())
}

/// Sends from the submitting task if the worker is not busy (one wake-up fewer per request);
/// otherwise, or if the socket is full, the worker does it. Never on a file the user passed
/// (trans=fd): its socket still uses the task's page fragment (`sk_use_task_frag`), which the
/// submitting task may be in the middle of using itself (a request from a page fault inside
/// its own `sendmsg`), so only the worker sends there.
fn send_now(conn: &Conn) {
    if !conn.ends.own_socket() {
        kick(conn);
        return;
    }
    let Some(mut io) = conn.io.try_lock() else {
        kick(conn);
        return;
    };
    conn.stats.inline_sends.add(1);
    let pending = noio(|| match conn.tx_step(&mut io) {
        Ok(_) => io.tx.is_some(),
        Err(e) => {
            conn.fail(&mut io, e, format_args!("send failed"));
            false
        }
    });
    drop(io);
    if pending {
        kick(conn);
    }
}

impl Conn {
    /// Moves bytes both ways until neither would go on without blocking. Returns true if it
    /// stopped only to let other work run.
    fn pump(&self, io: &mut Io) -> bool {
        for _ in 0..PUMP_ROUNDS {
            if self.is_dead() {
                return false;
            }
            let sent = match self.tx_step(io) {
                Ok(sent) => sent,
                Err(e) => {
                    self.fail(io, e, format_args!("send failed"));
                    return false;
                }
            };
            let received = match self.rx_step(io) {
                Ok(received) => received,
                Err(RxStop::Eof) => {
                    self.fail(
                        io,
                        econnreset(),
                        format_args!("server closed the connection"),
                    );
                    return false;
                }
                Err(RxStop::Io(e)) => {
                    self.fail(io, e, format_args!("receive failed"));
                    return false;
                }
                Err(RxStop::Bad(v)) => {
                    self.stats.protocol_errors.add(1);
                    self.fail(io, v.errno(), format_args!("{v}"));
                    return false;
                }
            };
            if !sent && !received {
                return false;
            }
        }
        true
    }

    /// Starts sending the oldest unsent request, if there is one (`State::start_sending`), its
    /// pages spliced if the socket can reference them and the payload is large enough.
    fn next_frame(&self, proof: &IoProof) -> Option<Tx> {
        let mut tx = self.state.lock().start_sending(self.client, proof)?;
        if tx.pages.is_some() {
            self.tx_lent.store(u32::from(tx.tag) + 1, Relaxed);
        }
        tx.splice = tx.payload_len >= SPLICE_MIN
            && self.ends.splices_pages()
            && tx.pages.as_ref().is_some_and(|p| {
                p.get(proof)
                    .segments()
                    .iter()
                    .all(|s| page_spliceable(s.page()))
            });
        Some(tx)
    }

    /// Sends until the socket would block or nothing is left. Returns whether anything moved.
    fn tx_step(&self, io: &mut Io) -> Result<bool> {
        let Io { tx, bv, proof, .. } = io;
        let mut progress = false;
        // Sending now: write-space wake-ups need not run the worker until a send would block.
        self.want_write.store(false, Relaxed);
        let mut armed = false;
        loop {
            if tx.is_none() {
                *tx = self.next_frame(proof);
            }
            let Some(cur) = tx.as_mut() else {
                self.want_write.store(false, Relaxed);
                return Ok(progress);
            };
            let hdr = cur.tc.len();
            let total = hdr + cur.payload_len;
            bv.clear();
            let mut flags = 0;
            if cur.sent < hdr {
                bv.push_linear(cur.tc.ptr().wrapping_add(cur.sent), hdr - cur.sent);
            }
            if cur.splice && cur.sent < hdr {
                // The message is copied (slab memory cannot be spliced); the pages follow in a
                // send of their own. Not corked with MSG_MORE: if the pages' send must wait for
                // buffer space, a corked message would wait for a delayed ACK as well.
            } else if let Some(pages) = cur.pages.as_ref() {
                let from = cur.sent.saturating_sub(hdr);
                fill_payload(bv, pages.get(proof), from, total - cur.sent);
                if cur.splice {
                    flags |= SEND_SPLICE;
                }
            } else if let Some((buf, base)) = cur.bounce.as_mut() {
                let from = cur.sent.saturating_sub(hdr).saturating_sub(*base);
                if from < buf.len() {
                    bv.push_linear(buf.as_mut_ptr().wrapping_add(from), buf.len() - from);
                }
            }
            // More of the frame follows in the next send (a batch is at most 32 pages).
            let header_only = cur.splice && cur.sent < hdr;
            if !header_only && cur.sent + bv.bytes() < total {
                flags |= SEND_MORE;
            }
            let n = match self.ends.send(bv, flags) {
                Ok(n) if n > 0 => n,
                Ok(_) => 0,
                Err(e) if e == EAGAIN => 0,
                Err(e) => return Err(e),
            };
            if n == 0 {
                if armed {
                    return Ok(progress);
                }
                // Ask for the write-space wake-up, then try once more: room made before the
                // waker could see the flag wakes nobody (`wake`).
                self.want_write.xchg(true, Full);
                armed = true;
                continue;
            }
            progress = true;
            cur.sent += n;
            self.progress.fetch_add(1, Relaxed);
            if cur.sent >= total {
                let done = tx.take();
                if done.as_ref().is_some_and(|d| d.pages.is_some()) {
                    // The caller may release its pages now, even if its reply came first.
                    self.tx_lent.store(0, Relaxed);
                }
                if let Some(done) = done {
                    self.state.lock().sent(done.tag);
                    self.stats.frames_sent.add(1);
                    if done.splice {
                        self.stats.spliced_sends.add(1);
                    }
                    // A write's pages are the caller's again: the server has them all.
                }
            }
            self.progress_wait.wake_up();
        }
    }

    /// Reads until the socket would block. Returns whether anything arrived.
    fn rx_step(&self, io: &mut Io) -> Result<bool, RxStop> {
        let mut progress = false;
        loop {
            let Io {
                rx,
                bv,
                scratch,
                proof,
                ..
            } = &mut *io;
            match rx {
                Rx::Header { buf, got } => {
                    let Some(n) = self.received(self.ends.recv_buf(&mut buf[*got..]), *got == 0)?
                    else {
                        return Ok(progress);
                    };
                    progress = true;
                    *got += n;
                    if *got < frame::HEADER_LEN {
                        continue;
                    }
                    let h = Header::parse(buf);
                    frame::check_size(&h, self.client.msize()).map_err(RxStop::Bad)?;
                    let (entry, early) = self
                        .state
                        .lock()
                        .take_for_reply(&h, proof)
                        .map_err(RxStop::Bad)?;
                    if early {
                        self.stats.early_replies.add(1);
                    }
                    let body = self.start_body(h, entry, buf).map_err(RxStop::Bad)?;
                    *rx = body;
                }
                Rx::Body {
                    h,
                    entry,
                    plan,
                    rc,
                    got,
                } => {
                    let size = h.size as usize;
                    if *got >= size {
                        self.finish_frame(io);
                        continue;
                    }
                    let got_now = *got;
                    let received = match *plan {
                        // SAFETY: The entry is the reader's; `got < size <= rc.len()` (checked by
                        // `frame::check` for a whole frame).
                        Plan::Whole => self.ends.recv_buf(unsafe { rc_slice(*rc, got_now, size) }),
                        Plan::Payload if got_now < frame::COUNT_HEADER_LEN => {
                            // SAFETY: As above, with `rc.len() >= 11` (checked for a payload plan).
                            self.ends.recv_buf(unsafe {
                                rc_slice(*rc, got_now, frame::COUNT_HEADER_LEN)
                            })
                        }
                        Plan::Payload => match entry.pages() {
                            Some(pages) => {
                                bv.clear();
                                let from = got_now - frame::COUNT_HEADER_LEN;
                                fill_payload(bv, pages.get(proof), from, size - got_now);
                                self.ends.recv(bv)
                            }
                            // Taken back by a killed caller: read the data and drop it.
                            None => {
                                let n = scratch.len().min(size - got_now);
                                self.ends.recv_buf(&mut scratch[..n])
                            }
                        },
                    };
                    let Some(n) = self.received(received, false)? else {
                        return Ok(progress);
                    };
                    progress = true;
                    *got += n;
                    if *plan == Plan::Payload
                        && got_now < frame::COUNT_HEADER_LEN
                        && *got == frame::COUNT_HEADER_LEN
                    {
                        // SAFETY: As above; the count's 4 bytes were just received.
                        let c = unsafe { rc_slice(*rc, 7, frame::COUNT_HEADER_LEN) };
                        let count = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                        if let Err(v) = frame::check_count(h, count) {
                            return Err(RxStop::Bad(v));
                        }
                    }
                }
            }
        }
    }

    /// A receive's outcome: `Some(n)` bytes (counted as progress), `None` if it would block. End
    /// of file ends the connection between frames (`at_boundary`) and truncates a frame inside one.
    fn received(&self, r: Result<usize>, at_boundary: bool) -> Result<Option<usize>, RxStop> {
        match r {
            Ok(0) if at_boundary => Err(RxStop::Eof),
            Ok(0) => Err(RxStop::Bad(Violation::Truncated)),
            Ok(n) => {
                self.progress.fetch_add(1, Relaxed);
                Ok(Some(n))
            }
            Err(e) if e == EAGAIN => Ok(None),
            Err(e) => Err(RxStop::Io(e)),
        }
    }

    /// Checks a frame against its request and copies its header into the reply buffer. A
    /// refused frame fails the request here (the connection fails next).
    fn start_body(
        &self,
        h: Header,
        entry: Entry,
        hdr: &[u8; frame::HEADER_LEN],
    ) -> Result<Rx, Violation> {
        let Some(req) = entry.request() else {
            return Err(Violation::UnknownTag(h.tag));
        };
        let expect = expectation(req, &entry, self.client.is_dotl());
        let rc = req.rc();
        match frame::check(&h, &expect) {
            Ok(plan) => {
                // SAFETY: The entry is the reader's now; `rc.len() >= size >= 7` (checked).
                unsafe { rc_slice(rc, 0, frame::HEADER_LEN) }.copy_from_slice(hdr);
                Ok(Rx::Body {
                    h,
                    entry,
                    plan,
                    rc,
                    got: frame::HEADER_LEN,
                })
            }
            Err(v) => {
                self.retire(1);
                entry.fail(self.client, v.errno());
                Err(v)
            }
        }
    }

    /// The frame in `io.rx` is all there: hand the reply to the client.
    fn finish_frame(&self, io: &mut Io) {
        let Rx::Body { h, entry, plan, .. } = core::mem::replace(&mut io.rx, Rx::idle()) else {
            return;
        };
        self.stats.frames_received.add(1);
        self.retire(1);
        if plan == Plan::Payload && entry.taken_back() {
            // The caller was killed and took its pages back: the data did not land, so the
            // request must not look answered (a page-cache read would trust it).
            entry.fail(self.client, EINTR);
            return;
        }
        if let Some(req) = entry.request() {
            if req.tc_type() == Some(frame::TFLUSH) && h.ty == frame::RFLUSH {
                self.flushed(req);
            }
        }
        entry.complete(self.client, h.size);
    }

    /// An Rflush arrived for the Tflush `flush`: the request it names (`oldtag`, the message's
    /// bytes 7..9) may get no reply from now on.
    fn flushed(&self, flush: Request<'_>) {
        if let Some(old) = flush.tc_u16(7) {
            self.state.lock().flushed(old);
        }
    }
}

/// What the request `req` (with its entry) accepts as a reply.
fn expectation(req: Request<'_>, entry: &Entry, dotl: bool) -> Expect {
    let reply = req.tc_type().map_or(0, |t| t.wrapping_add(1));
    Expect {
        reply,
        // A Tflush cannot fail: only Rflush answers it.
        error: if reply == frame::RFLUSH {
            reply
        } else if dotl {
            frame::RLERROR
        } else {
            frame::RERROR
        },
        rc_capacity: req.rc().len(),
        payload: entry.read_room(),
    }
}
