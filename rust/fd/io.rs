// SPDX-License-Identifier: GPL-2.0

//! The connection's worker: sends queued frames and reads replies, never blocking (every send
//! and receive is non-blocking and resumes where it stopped), and checks each reply before a byte
//! of it lands anywhere (`frame.rs`).

use crate::{
    common::{p9::Request, zc::Direction},
    conn::{moving_seen, Conn, Entry, FrameRef, Held, Io, IoProof, Phase, Rx, Tx},
    endpoint::{page_spliceable, BvecBatch, SEND_MORE, SEND_SPLICE},
    frame::{self, Expect, Header, Plan, Violation},
};
use kernel::{
    prelude::*,
    sync::atomic::{Full, Relaxed},
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
fn fill_payload(
    bv: &mut BvecBatch,
    pages: &crate::common::trans_common::PayloadPages,
    mut pos: usize,
    max: usize,
) {
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
unsafe fn rc_slice<'a>(rc: crate::common::p9::LinearBuf, at: usize, end: usize) -> &'a mut [u8] {
    // SAFETY: In bounds and exclusively ours (the caller's contract).
    unsafe { core::slice::from_raw_parts_mut(rc.ptr().add(at), end - at) }
}

impl Conn {
    /// Moves bytes both ways until neither would go on without blocking. Returns true if it
    /// stopped only to let other work run.
    pub(crate) fn pump(&self, io: &mut Io) -> bool {
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
                        frame::econnreset(),
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

    /// Starts sending the oldest unsent request, if there is one: it becomes `Sending` (and
    /// `SENT` for the client), the frame takes a reference to it of its own ([`FrameRef`]), and
    /// a write's lent pages move to the frame being sent.
    fn next_frame(&self, proof: &IoProof) -> Option<Tx> {
        let mut st = self.state.lock();
        let mut oldest: Option<(u16, u64)> = None;
        for (tag, e) in st.reqs.iter() {
            if e.phase == Phase::Unsent && oldest.is_none_or(|(_, seq)| e.seq < seq) {
                oldest = Some((*tag, e.seq));
            }
        }
        let (tag, _) = oldest?;
        let e = st.reqs.get_mut(&tag)?;
        let hold = FrameRef::new(self.client, e.request()?)?;
        e.phase = Phase::Sending;
        if let Held::Queued(t) = core::mem::replace(&mut e.held, Held::Moving) {
            // SAFETY: The state lock is held: a reply is matched to the request only through the
            // table, under this lock, and the entry stays there.
            e.held = Held::Sent(unsafe { t.sent() });
        }
        let tc = e.request()?.tc();
        let pages = if e.dir == Direction::Out {
            e.pages.take()
        } else {
            None
        };
        let payload_len = pages.as_ref().map_or(0, |p| p.get(proof).len());
        if pages.is_some() {
            self.tx_lent.store(u32::from(tag) + 1, Relaxed);
        }
        let splice = payload_len >= SPLICE_MIN
            && self.ends.splices_pages()
            && pages.as_ref().is_some_and(|p| {
                p.get(proof)
                    .segments()
                    .iter()
                    .all(|s| page_spliceable(s.page()))
            });
        Some(Tx {
            tag,
            tc,
            pages,
            bounce: None,
            payload_len,
            sent: 0,
            splice,
            _hold: hold,
        })
    }

    /// Sends until the socket would block or nothing is left. Returns whether anything moved.
    pub(crate) fn tx_step(&self, io: &mut Io) -> Result<bool> {
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
                // waker could see the flag wakes nobody (`Conn::wants_write_space`).
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
                    if let Some(e) = self.state.lock().reqs.get_mut(&done.tag) {
                        if e.phase == Phase::Sending {
                            e.phase = Phase::Sent;
                        }
                    }
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

    /// Takes the request a reply header names out of the table, after checking it may have a
    /// reply now: it is sent, or being sent (a server may answer before it read all of a
    /// request: an Rlerror to a Twrite whose payload it will drain; the frame goes on from its
    /// own reference to the request).
    fn take_for_reply(&self, h: &Header) -> Result<Entry, Violation> {
        let mut st = self.state.lock();
        match st.reqs.get(&h.tag) {
            None => return Err(Violation::UnknownTag(h.tag)),
            Some(e) if e.phase == Phase::Flushed => return Err(Violation::AfterFlush(h.tag)),
            Some(e) if e.phase == Phase::Unsent => return Err(Violation::EarlyReply(h.tag)),
            Some(e) if e.phase == Phase::Sending => self.stats.early_replies.add(1),
            Some(_) => {}
        }
        st.take(h.tag).ok_or(Violation::UnknownTag(h.tag))
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
                    let entry = self.take_for_reply(&h).map_err(RxStop::Bad)?;
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
                        Plan::Payload => match entry.pages.as_ref() {
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
        let rx = core::mem::replace(
            &mut io.rx,
            Rx::Header {
                buf: [0; frame::HEADER_LEN],
                got: 0,
            },
        );
        let Rx::Body { h, entry, plan, .. } = rx else {
            return;
        };
        self.stats.frames_received.add(1);
        self.retire(1);
        if plan == Plan::Payload && entry.taken_back {
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
        match entry.held {
            Held::Sent(f) => f.complete(self.client, h.size),
            Held::Queued(t) => t.fail(self.client, EIO),
            Held::Moving => moving_seen(),
        }
    }
}

impl Conn {
    /// An Rflush arrived for the Tflush `flush`: the request it names (`oldtag`, the message's
    /// bytes 7..9) may get no reply from now on.
    fn flushed(&self, flush: Request<'_>) {
        let Some(old) = flush.tc_u16(7) else {
            return;
        };
        if let Some(e) = self.state.lock().reqs.get_mut(&old) {
            if e.phase == Phase::Sent {
                e.phase = Phase::Flushed;
            }
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
        payload: (entry.dir == Direction::In).then_some(entry.mapped),
    }
}
