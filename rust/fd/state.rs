// SPDX-License-Identifier: GPL-2.0

//! What a connection's two locks protect, each piece with the edits made to it: the table of
//! requests ([`State`], behind the state lock) and the worker's frames ([`Io`], behind the io
//! lock), and what they hold of a request: the transport's reference (in its [`Entry`]), the
//! sending frame's own reference ([`FrameRef`]) and a zero-copy caller's lent pages
//! ([`LentPages`]).
//!
//! Lock order: io, then state (`Conn`'s fields say so too). A request moves between the table and
//! the worker's frames only under both, so the holder of the io lock finds it where it saw it;
//! the methods that move one or rely on that ask for the io lock's [`IoProof`].

use crate::{
    bindings as zb,
    common::{
        p9::{Client, InFlight, LinearBuf, Request, TransportRef},
        trans_common::{noio, PayloadPages},
        zc_payload::Direction,
    },
    endpoint::BvecBatch,
    frame::{self, Header, Plan, Violation},
};
use core::ptr::NonNull;
use kernel::{
    alloc::KVec,
    prelude::*,
    rbtree::{RBTree, RBTreeNodeReservation},
};

/// A zero-copy caller's payload pages, lent to the connection while its request is in flight.
///
/// # Invariants
///
/// The pointer is a live [`PayloadPages`] that its owner does not release, move or change while
/// the connection holds this value: the owner's lease (`lease.rs`) takes it back under the io lock
/// (`Conn::take_back`) before it releases the pages, and the connection uses it only under that
/// lock.
pub(crate) struct LentPages(NonNull<PayloadPages>);

impl LentPages {
    /// Lends `pages`; see the type invariant for what the caller promises.
    pub(crate) fn new(pages: &PayloadPages) -> Self {
        Self(NonNull::from(pages))
    }

    /// The pages, for the holder of the io lock.
    pub(crate) fn get<'a>(&'a self, _proof: &'a IoProof) -> &'a PayloadPages {
        // SAFETY: The owner keeps the pages alive and unchanged while they are lent, and takes
        // them back only under the io lock, which the caller holds for `'a`.
        unsafe { self.0.as_ref() }
    }
}

// SAFETY: The pages may be read and written from the worker; see the invariant.
unsafe impl Send for LentPages {}

/// A reference of the worker's own to the request whose frame it is sending, as mainline's
/// `trans_fd` holds one while it writes: the server may answer a request before it has read all
/// of it (an early Rlerror to a Twrite), and the reply then finishes it while its message is
/// still being sent from its buffer.
///
/// # Invariants
///
/// The pointer is a live `p9_req_t` of `client` on which this value owns one reference.
struct FrameRef {
    req: NonNull<zb::p9_req_t>,
    client: Client,
}

impl FrameRef {
    /// Takes another reference to `req`, a request of `client` that the caller holds one to.
    fn new(client: Client, req: Request<'_>) -> Option<Self> {
        let req = NonNull::new(req.as_raw())?;
        // SAFETY: The request is live (the caller holds a reference), so its count is not zero.
        unsafe { zb::zc9p_fd_req_get(req.as_ptr()) };
        // INVARIANT: The reference just taken.
        Some(Self { req, client })
    }
}

impl Drop for FrameRef {
    fn drop(&mut self) {
        // SAFETY: This value owns one reference (type invariant), given back once.
        unsafe { zb::p9_req_put(self.client.as_ptr(), self.req.as_ptr()) };
    }
}

// SAFETY: The reference may be dropped from any task.
unsafe impl Send for FrameRef {}

/// The transport's reference, as its entry holds it.
enum Held {
    /// Not sent yet: `cancel` may still take it back.
    Queued(TransportRef),
    /// Sent (or being sent): only its reply, a flush or a failure ends it.
    Sent(InFlight),
    /// Between the two, inside the state lock only.
    Moving,
}

/// `Held::Moving` exists only inside the state lock: one seen outside it is a reference lost.
fn moving_seen() {
    kernel::pr_warn_once!("a request's reference was lost in its move to Sent\n");
}

/// How far a request got.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Unsent,
    /// The worker is sending its frame (it reads the request's buffers and lent pages).
    Sending,
    Sent,
    /// Its Tflush was answered: no reply may come; `cancelled` drops it.
    Flushed,
}

/// A request of this connection, from submission until it is finished: in the table, then (once
/// the reader took it out for its reply) in the frame being received.
pub(crate) struct Entry {
    /// Submission order: frames go out oldest first.
    seq: u64,
    phase: Phase,
    held: Held,
    dir: Direction,
    /// Payload bytes mapped (a zero-copy read's room for data).
    mapped: usize,
    /// The caller's pages while lent (`None` also for a payload of 0 bytes).
    pages: Option<LentPages>,
    /// A killed caller took its pages back: a read's data is then read and dropped, and the
    /// request fails instead of looking answered.
    taken_back: bool,
}

impl Entry {
    /// What is left in the table's slot while its entry is moved out (nothing to give back).
    fn vacant() -> Self {
        Self {
            seq: 0,
            phase: Phase::Unsent,
            held: Held::Moving,
            dir: Direction::None,
            mapped: 0,
            pages: None,
            taken_back: false,
        }
    }

    /// The request.
    pub(crate) fn request(&self) -> Option<Request<'_>> {
        match &self.held {
            Held::Queued(t) => Some(t.request()),
            Held::Sent(f) => Some(f.request()),
            Held::Moving => None,
        }
    }

    /// The caller's pages, while lent.
    pub(crate) fn pages(&self) -> Option<&LentPages> {
        self.pages.as_ref()
    }

    /// A zero-copy read: the bytes of payload pages mapped for its data.
    pub(crate) fn read_room(&self) -> Option<usize> {
        (self.dir == Direction::In).then_some(self.mapped)
    }

    /// Whether a killed caller took its pages back.
    pub(crate) fn taken_back(&self) -> bool {
        self.taken_back
    }

    /// A killed caller takes its pages back from the request, which stays in flight.
    fn detach_pages(&mut self) {
        self.pages = None;
        self.taken_back = true;
    }

    /// Finishes the request with `err` (never replied to).
    pub(crate) fn fail(self, client: Client, err: Error) {
        match self.held {
            Held::Queued(t) => t.fail(client, err),
            Held::Sent(f) => f.fail(client, err),
            Held::Moving => moving_seen(),
        }
    }

    /// Hands the reply, `size` bytes in the reply buffer, to the client.
    pub(crate) fn complete(self, client: Client, size: u32) {
        match self.held {
            Held::Sent(f) => f.complete(client, size),
            Held::Queued(t) => t.fail(client, EIO),
            Held::Moving => moving_seen(),
        }
    }

    /// Gives back a request taken out unsent (`cancel`, a killed caller's lease): it is marked
    /// flushed, so the 9P client sends no Tflush for it.
    pub(crate) fn withdraw(self, client: Client) {
        match self.held {
            Held::Queued(t) => t.withdraw(client),
            Held::Sent(f) => f.fail(client, ERESTARTSYS),
            Held::Moving => moving_seen(),
        }
    }

    /// Gives back a request whose Tflush the server answered (`cancelled`).
    pub(crate) fn flushed(self, client: Client) {
        match self.held {
            Held::Sent(f) => f.flushed(client),
            Held::Queued(t) => t.withdraw(client),
            Held::Moving => moving_seen(),
        }
    }
}

/// Nodes the table keeps for reuse, at most.
const SPARE_NODES: usize = 64;
/// Nodes a connection starts with: as many requests may be in flight before one allocates.
const INITIAL_NODES: usize = 16;

/// A node of the table, without its entry.
pub(crate) type Node = RBTreeNodeReservation<u16, Entry>;

/// What the state lock protects: the table of requests and whether the connection failed.
pub(crate) struct State {
    reqs: RBTree<u16, Entry>,
    /// Nodes for the table: an entry's node comes from here and goes back when the entry leaves
    /// (up to [`SPARE_NODES`]; its capacity is allocated up front, so a push never allocates).
    spare: KVec<Node>,
    next_seq: u64,
    /// Set once when the connection fails: every request since gets this error.
    dead: Option<Error>,
}

impl State {
    /// An empty table, with [`INITIAL_NODES`] spare nodes.
    pub(crate) fn new() -> Result<Self> {
        let mut spare = KVec::with_capacity(SPARE_NODES, GFP_KERNEL)?;
        for _ in 0..INITIAL_NODES {
            // Within the capacity just allocated: never fails.
            let _ = spare.push_within_capacity(RBTreeNodeReservation::new(GFP_KERNEL)?);
        }
        Ok(Self {
            reqs: RBTree::new(),
            spare,
            next_seq: 0,
            dead: None,
        })
    }

    /// The error of a failed connection.
    pub(crate) fn dead(&self) -> Option<Error> {
        self.dead
    }

    /// Whether a submitter waiting for a node may go on: one is spare, or the connection failed.
    pub(crate) fn node_or_dead(&self) -> bool {
        !self.spare.is_empty() || self.dead.is_some()
    }

    /// Whether a request with `tag` may be added: the error of a failed connection, or `EBUSY`
    /// for a tag in the table (the 9P core never reuses a tag still in use; refuse rather than
    /// lose a request).
    pub(crate) fn admits(&self, tag: u16) -> Result {
        if let Some(err) = self.dead {
            return Err(err);
        }
        if self.reqs.get(&tag).is_some() {
            return Err(EBUSY);
        }
        Ok(())
    }

    /// A spare node, if one is left.
    pub(crate) fn spare_node(&mut self) -> Option<Node> {
        self.spare.pop()
    }

    /// Adds `tref`'s request, unsent, in `node` (after [`State::admits`] said yes): frames go out
    /// in the order of these calls.
    pub(crate) fn add(
        &mut self,
        node: Node,
        tref: TransportRef,
        dir: Direction,
        mapped: usize,
        pages: Option<LentPages>,
    ) {
        let tag = tref.request().tag();
        let seq = self.next_seq;
        self.next_seq += 1;
        let entry = Entry {
            seq,
            phase: Phase::Unsent,
            held: Held::Queued(tref),
            dir,
            mapped,
            pages,
            taken_back: false,
        };
        self.reqs.insert(node.into_node(tag, entry));
    }

    /// Takes the entry of `tag` out of the table; its node goes back to the spare ones.
    fn take(&mut self, tag: u16) -> Option<Entry> {
        let entry = core::mem::replace(self.reqs.get_mut(&tag)?, Entry::vacant());
        if let Some(node) = self.reqs.remove_node(&tag) {
            // Full: the node is freed instead.
            let _ = self.spare.push_within_capacity(node.into_reservation());
        }
        Some(entry)
    }

    /// Takes `req`'s entry out of the table if it is in one of `phases`.
    pub(crate) fn take_if(&mut self, req: Request<'_>, phases: &[Phase]) -> Option<Entry> {
        let tag = req.tag();
        match self.reqs.get(&tag) {
            Some(e) if e.request().is_some_and(|r| r.is(req)) && phases.contains(&e.phase) => {
                self.take(tag)
            }
            _ => None,
        }
    }

    /// A killed caller takes its pages back from `req`, sent or being sent (an unsent one it
    /// withdraws): a read's data is then read and dropped, and the request fails.
    pub(crate) fn detach_pages(&mut self, req: Request<'_>, _io: &IoProof) {
        if let Some(e) = self.reqs.get_mut(&req.tag()) {
            if e.request().is_some_and(|r| r.is(req)) {
                e.detach_pages();
            }
        }
    }

    /// The oldest unsent request's frame, if there is one: the request becomes `Sending` (and
    /// `SENT` for the client), the frame takes a reference to it of its own ([`FrameRef`]), and a
    /// write's lent pages move to the frame. Not spliced: the worker decides that.
    pub(crate) fn start_sending(&mut self, client: Client, proof: &IoProof) -> Option<Tx> {
        let mut oldest: Option<(u16, u64)> = None;
        for (tag, e) in self.reqs.iter() {
            if e.phase == Phase::Unsent && oldest.is_none_or(|(_, seq)| e.seq < seq) {
                oldest = Some((*tag, e.seq));
            }
        }
        let (tag, _) = oldest?;
        let e = self.reqs.get_mut(&tag)?;
        let hold = FrameRef::new(client, e.request()?)?;
        e.phase = Phase::Sending;
        if let Held::Queued(t) = core::mem::replace(&mut e.held, Held::Moving) {
            // SAFETY: The state lock is held (`&mut self`: a `State` lives only behind it): a
            // reply is matched to the request only through the table, under this lock, and the
            // entry stays there.
            e.held = Held::Sent(unsafe { t.sent() });
        }
        let tc = e.request()?.tc();
        let pages = if e.dir == Direction::Out {
            e.pages.take()
        } else {
            None
        };
        let payload_len = pages.as_ref().map_or(0, |p| p.get(proof).len());
        Some(Tx {
            tag,
            tc,
            pages,
            bounce: None,
            payload_len,
            sent: 0,
            splice: false,
            _hold: hold,
        })
    }

    /// The frame of `tag` was all sent: a request still `Sending` is `Sent`.
    pub(crate) fn sent(&mut self, tag: u16) {
        if let Some(e) = self.reqs.get_mut(&tag) {
            if e.phase == Phase::Sending {
                e.phase = Phase::Sent;
            }
        }
    }

    /// Takes the request a reply header names out of the table, for the reader, after checking it
    /// may have a reply now: it is sent, or being sent (a server may answer before it read all of
    /// a request: an Rlerror to a Twrite whose payload it will drain; the frame goes on from its
    /// own reference to the request). The flag says it was being sent (an early reply).
    pub(crate) fn take_for_reply(
        &mut self,
        h: &Header,
        _io: &IoProof,
    ) -> Result<(Entry, bool), Violation> {
        let early = match self.reqs.get(&h.tag) {
            None => return Err(Violation::UnknownTag(h.tag)),
            Some(e) if e.phase == Phase::Flushed => return Err(Violation::AfterFlush(h.tag)),
            Some(e) if e.phase == Phase::Unsent => return Err(Violation::EarlyReply(h.tag)),
            Some(e) => e.phase == Phase::Sending,
        };
        let entry = self.take(h.tag).ok_or(Violation::UnknownTag(h.tag))?;
        Ok((entry, early))
    }

    /// The server answered the Tflush for `tag`: a sent request of that tag may get no reply
    /// from now on.
    pub(crate) fn flushed(&mut self, tag: u16) {
        if let Some(e) = self.reqs.get_mut(&tag) {
            if e.phase == Phase::Sent {
                e.phase = Phase::Flushed;
            }
        }
    }

    /// The connection failed with `err`: every request since gets it. Returns the requests in
    /// the table, to be failed, the first time only.
    pub(crate) fn kill(&mut self, err: Error, _io: &IoProof) -> Option<RBTree<u16, Entry>> {
        if self.dead.is_some() {
            return None;
        }
        self.dead = Some(err);
        Some(core::mem::take(&mut self.reqs))
    }
}

/// Where the reader is in the byte stream.
pub(crate) enum Rx {
    /// Reading a frame's 7-byte header.
    Header {
        buf: [u8; frame::HEADER_LEN],
        got: usize,
    },
    /// Reading the body of a frame into the request it answers, taken out of the table.
    Body {
        h: Header,
        entry: Entry,
        plan: Plan,
        rc: LinearBuf,
        got: usize,
    },
}

impl Rx {
    /// Waiting for the next frame's header.
    pub(crate) fn idle() -> Self {
        Rx::Header {
            buf: [0; frame::HEADER_LEN],
            got: 0,
        }
    }
}

/// The frame the worker is sending.
pub(crate) struct Tx {
    pub(crate) tag: u16,
    /// The message (its buffer lives while the entry is `Sending`).
    pub(crate) tc: LinearBuf,
    /// A write's payload pages, lent until the frame is sent.
    pub(crate) pages: Option<LentPages>,
    /// The rest of a killed writer's payload, copied out of its pages when it left mid-frame,
    /// from payload offset `.1` on.
    pub(crate) bounce: Option<(KVec<u8>, usize)>,
    /// The payload's length: it follows the message.
    pub(crate) payload_len: usize,
    /// Keeps the request, and so `tc`, alive until the frame is sent, even if its reply came
    /// first.
    _hold: FrameRef,
    pub(crate) sent: usize,
    /// The payload pages may be referenced by the socket instead of copied.
    pub(crate) splice: bool,
}

impl Tx {
    /// Lets the frame go on without its lent pages (a killed writer left mid-frame): what is
    /// left of its payload is copied for it. `ENOMEM` if no memory could be had for the copy:
    /// the pages stay lent.
    fn detach_pages(&mut self, proof: &IoProof) -> Result {
        let Some(pages) = self.pages.as_ref() else {
            return Ok(());
        };
        let from = self.sent.saturating_sub(self.tc.len());
        let rest = self.payload_len.saturating_sub(from);
        let mut buf = noio(|| KVec::from_elem(0u8, rest, GFP_KERNEL))?;
        pages.get(proof).read_at(from, &mut buf);
        self.pages = None;
        self.splice = false;
        self.bounce = Some((buf, from));
        Ok(())
    }
}

/// Proof that the io lock is held: only [`Io`] has one, so a `&IoProof` is a borrow of the io
/// lock's data.
///
/// It does what `kernel::sync::LockedBy<_, Io>` does for the lent pages, by hand, because the
/// pages it guards are inside `Io` itself (a frame's in `Io::tx`, an entry's in `Io::rx`) as
/// well as in the table: `LockedBy::access` borrows the whole `Io`, which the borrow checker
/// refuses while the worker holds `&mut` to the frame it is advancing (it fills each send from
/// that frame's pages), where a field of its own borrows apart from the rest. It also needs no
/// run-time owner check that could panic (a connection has one io lock), nor a `Sync` pointer.
pub(crate) struct IoProof(());

/// The worker's state, behind the io lock: only its holder touches request buffers and lent
/// pages.
pub(crate) struct Io {
    pub(crate) proof: IoProof,
    pub(crate) rx: Rx,
    pub(crate) tx: Option<Tx>,
    pub(crate) bv: BvecBatch,
    /// Where the data of a frame whose pages were taken back goes.
    pub(crate) scratch: [u8; 256],
}

impl Io {
    /// Nothing being sent or received.
    pub(crate) fn new() -> Self {
        Self {
            proof: IoProof(()),
            rx: Rx::idle(),
            tx: None,
            bv: BvecBatch::new(),
            scratch: [0; 256],
        }
    }

    /// The connection failed: drops the frame being sent, and gives back the request of the
    /// frame being received, to be failed.
    pub(crate) fn reset(&mut self) -> Option<Entry> {
        self.tx = None;
        if let Rx::Body { .. } = self.rx {
            if let Rx::Body { entry, .. } = core::mem::replace(&mut self.rx, Rx::idle()) {
                return Some(entry);
            }
        }
        None
    }

    /// A killed writer takes its pages back from the frame being sent, if that is its request's
    /// with the pages still lent (see [`Tx::detach_pages`]); `None` if it is not.
    pub(crate) fn detach_sending(&mut self, tag: u16) -> Option<Result> {
        let Io { tx, proof, .. } = self;
        let tx = tx
            .as_mut()
            .filter(|tx| tx.tag == tag && tx.pages.is_some())?;
        Some(tx.detach_pages(proof))
    }

    /// A killed reader takes its pages back from the frame being received, if that answers
    /// `req`: the rest of its data is read and dropped, and the request fails.
    pub(crate) fn detach_receiving(&mut self, req: Request<'_>) -> bool {
        match &mut self.rx {
            Rx::Body { entry, .. } if entry.request().is_some_and(|r| r.is(req)) => {
                entry.detach_pages();
                true
            }
            _ => false,
        }
    }
}
