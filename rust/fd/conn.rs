// SPDX-License-Identifier: GPL-2.0

//! Connections: one per mount over tcp, unix or fd, in safe Rust over the wrappers in
//! `endpoint.rs` and `common/`.
//!
//! Ownership of a request follows one rule: from `request`/`zc_request` until it is finished,
//! the transport's reference lives in the connection's table of requests ([`Entry`], keyed by
//! tag), and only four things take it out, each once: the reader matching the reply (or failing
//! the request whose reply it refused), `cancel` (before it is sent), `cancelled` (the server
//! answered the client's Tflush) and a connection failure. The table's nodes come from spare ones
//! the connection keeps (`State::spare`): a request allocates nothing, since the 9P client gives
//! up on the whole mount when `request` fails with anything but `ERESTARTSYS`. The worker
//! ([`Io`], behind its own lock) is the only one that reads a request's buffers to send them or
//! writes them with a reply (the frame being sent holds a reference to its request of its own,
//! [`FrameRef`], as a reply may finish the request first), and a zero-copy caller's pages are
//! lent to it ([`LentPages`]) until the caller takes them back under that lock (`zc.rs`).

use crate::{
    bindings as zb,
    common::{
        compat,
        p9::{Client, InFlight, LinearBuf, Request, TransportRef},
        second,
        stats::{StatsDir, WriteStats},
        trans_common::{noio, PayloadPages},
        wait::{new_wait_queue, WaitQueue},
        zc::Direction,
    },
    endpoint::{BvecBatch, Endpoints, Poller},
    frame::{self, Header, Plan},
    stats::ConnStats,
};
use core::ptr::NonNull;
use kernel::{
    alloc::KVec,
    new_mutex, new_spinlock,
    prelude::*,
    rbtree::{RBTree, RBTreeNodeReservation},
    str::CStr,
    sync::{
        atomic::{Atomic, Relaxed},
        Arc, ArcBorrow, Mutex, SpinLock,
    },
    workqueue::{impl_has_work, new_work, Queue, Work, WorkItem},
};

/// Which transport a connection serves.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Tcp,
    Unix,
    Fd,
    Vsock,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Tcp => "tcp",
            Kind::Unix => "unix",
            Kind::Fd => "fd",
            Kind::Vsock => "vsock",
        }
    }
}

/// A zero-copy caller's payload pages, lent to the connection while its request is in flight.
///
/// # Invariants
///
/// The pointer is a live [`PayloadPages`] that its owner does not release, move or change while
/// the connection holds this value: the owner's lease (`zc.rs`) takes it back under the io lock
/// before it releases the pages, and the connection uses it only under that lock.
pub(crate) struct LentPages(NonNull<PayloadPages>);

impl LentPages {
    /// Lends `pages`; see the type invariant for what the caller promises.
    pub(crate) fn new(pages: &PayloadPages) -> Self {
        Self(NonNull::from(pages))
    }

    /// The pages, for the holder of the io lock (`_proof` is part of [`Io`]).
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
pub(crate) struct FrameRef {
    req: NonNull<zb::p9_req_t>,
    client: Client,
}

impl FrameRef {
    /// Takes another reference to `req`, a request of `client` that the caller holds one to.
    pub(crate) fn new(client: Client, req: Request<'_>) -> Option<Self> {
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
pub(crate) enum Held {
    /// Not sent yet: `cancel` may still take it back.
    Queued(TransportRef),
    /// Sent (or being sent): only its reply, a flush or a failure ends it.
    Sent(InFlight),
    /// Between the two, inside the state lock only.
    Moving,
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

/// A request of this connection, from submission until it is finished.
pub(crate) struct Entry {
    /// Submission order: frames go out oldest first.
    pub(crate) seq: u64,
    pub(crate) phase: Phase,
    pub(crate) held: Held,
    pub(crate) dir: Direction,
    /// Payload bytes mapped (a zero-copy read's room for data).
    pub(crate) mapped: usize,
    /// The caller's pages while lent (`None` also for a payload of 0 bytes).
    pub(crate) pages: Option<LentPages>,
    /// A killed caller took its pages back: a read's data is then read and dropped, and the
    /// request fails instead of looking answered.
    pub(crate) taken_back: bool,
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

    /// Finishes the request with `err` (never replied to).
    pub(crate) fn fail(self, client: Client, err: Error) {
        match self.held {
            Held::Queued(t) => t.fail(client, err),
            Held::Sent(f) => f.fail(client, err),
            Held::Moving => moving_seen(),
        }
    }
}

/// `Held::Moving` exists only inside the state lock: one seen outside it is a reference lost.
pub(crate) fn moving_seen() {
    kernel::pr_warn_once!("a request's reference was lost in its move to Sent\n");
}

/// Nodes the table keeps for reuse, at most.
const SPARE_NODES: usize = 64;
/// Nodes a connection starts with: as many requests may be in flight before one allocates.
const INITIAL_NODES: usize = 16;

/// What the state lock protects: the table of requests and whether the connection failed.
pub(crate) struct State {
    pub(crate) reqs: RBTree<u16, Entry>,
    /// Nodes for the table: an entry's node comes from here and goes back when the entry leaves
    /// (up to [`SPARE_NODES`]; its capacity is allocated up front, so a push never allocates).
    spare: KVec<RBTreeNodeReservation<u16, Entry>>,
    next_seq: u64,
    /// Set once when the connection fails: every request since gets this error.
    pub(crate) dead: Option<Error>,
}

impl State {
    /// Takes the entry of `tag` out of the table; its node goes back to the spare ones.
    pub(crate) fn take(&mut self, tag: u16) -> Option<Entry> {
        let entry = core::mem::replace(self.reqs.get_mut(&tag)?, Entry::vacant());
        if let Some(node) = self.reqs.remove_node(&tag) {
            // Full: the node is freed instead.
            let _ = self.spare.push_within_capacity(node.into_reservation());
        }
        Some(entry)
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
    pub(crate) _hold: FrameRef,
    pub(crate) sent: usize,
    /// The payload pages may be referenced by the socket instead of copied.
    pub(crate) splice: bool,
}

/// Proof that the io lock is held: only [`Io`] has one.
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

/// One mount's connection.
#[pin_data]
pub(crate) struct Conn {
    pub(crate) kind: Kind,
    pub(crate) client: Client,
    /// The mount's source (address, socket path, "fd"), NUL-terminated, for log lines.
    addr: KVec<u8>,
    pub(crate) ends: Endpoints,
    pub(crate) stats: ConnStats,
    #[pin]
    pub(crate) state: SpinLock<State>,
    #[pin]
    pub(crate) io: Mutex<Io>,
    /// Bumped by every send and receive: a killed caller waits for a stalled stream to move.
    pub(crate) progress: Atomic<u64>,
    #[pin]
    pub(crate) progress_wait: WaitQueue,
    /// Requests in the table or being received.
    pub(crate) in_flight: Atomic<usize>,
    /// The tag + 1 of the frame being sent with a caller's pages lent to it (0: none). A caller
    /// whose request is finished need not take the io lock unless this names it (its reply came
    /// before the frame was all sent).
    pub(crate) tx_lent: Atomic<u32>,
    /// Submitters waiting for a node (none spare, and none could be allocated).
    #[pin]
    node_wait: WaitQueue,
    node_waiters: Atomic<usize>,
    /// A frame waits for room to send (a send would have blocked): only then does a wake-up
    /// that says nothing but "room to send" run the worker (see [`Conn::wants_write_space`]).
    pub(crate) want_write: Atomic<bool>,
    closing: Atomic<bool>,
    #[pin]
    poller: Mutex<Option<Poller>>,
    #[pin]
    debugfs: Mutex<Option<StatsDir<Conn>>>,
    #[pin]
    work: Work<Conn>,
}

impl_has_work! {
    impl HasWork<Self> for Conn { self.work }
}

impl WorkItem for Conn {
    type Pointer = Arc<Conn>;

    fn run(this: Arc<Conn>) {
        if this.closing.load(Relaxed) {
            return;
        }
        noio(|| {
            let mut io = this.io.lock();
            if this.pump(&mut io) {
                // Still busy after a fair share: let other work run, then go on.
                this.kick_arc(this.clone());
            }
        });
    }
}

/// Connections made so far, for their debugfs names.
static NEXT_ID: Atomic<u64> = Atomic::new(0);

impl Conn {
    /// Connects a new mount and attaches it to `client`.
    pub(crate) fn create(client: Client, kind: Kind, addr: &CStr, ends: Endpoints) -> Result {
        let mut name = KVec::new();
        name.extend_from_slice(addr.to_bytes_with_nul(), GFP_KERNEL)?;
        let mut spare = KVec::with_capacity(SPARE_NODES, GFP_KERNEL)?;
        for _ in 0..INITIAL_NODES {
            // Within the capacity just allocated: never fails.
            let _ = spare.push_within_capacity(RBTreeNodeReservation::new(GFP_KERNEL)?);
        }
        let init = pin_init!(Self {
            kind,
            client,
            addr: name,
            ends,
            stats: ConnStats::new(),
            state <- new_spinlock!(State { reqs: RBTree::new(), spare, next_seq: 0, dead: None }, "zc9p_fd_state"),
            io <- new_mutex!(
                Io {
                    proof: IoProof(()),
                    rx: Rx::Header { buf: [0; frame::HEADER_LEN], got: 0 },
                    tx: None,
                    bv: BvecBatch::new(),
                    scratch: [0; 256],
                },
                "zc9p_fd_io"
            ),
            progress: Atomic::new(0),
            progress_wait <- new_wait_queue!("zc9p_fd_progress"),
            in_flight: Atomic::new(0),
            tx_lent: Atomic::new(0),
            node_wait <- new_wait_queue!("zc9p_fd_node"),
            node_waiters: Atomic::new(0),
            want_write: Atomic::new(false),
            closing: Atomic::new(false),
            poller <- new_mutex!(None, "zc9p_fd_poller"),
            debugfs <- new_mutex!(None, "zc9p_fd_debugfs"),
            work <- new_work!("zc9p_fd_worker"),
        });
        let conn = Arc::pin_init(init, GFP_KERNEL)?;
        // SAFETY: The context is the connection, which outlives its poller: `close` drops the
        // poller before the client's reference to the connection.
        let (poller, _mask) =
            unsafe { conn.ends.poll_start(Arc::as_ptr(&conn).cast_mut().cast()) }?;
        *conn.poller.lock() = Some(poller);
        let id = NEXT_ID.fetch_add(1, Relaxed);
        let mut dir = [0u8; 32];
        let dir_name = fmt_name(&mut dir, kind.name(), id);
        // Counters are optional: a connection without them works all the same.
        if let Some(dir_name) = dir_name {
            match StatsDir::create(dir_name, conn.clone()) {
                Ok(files) => *conn.debugfs.lock() = Some(files),
                Err(e) => pr_warn!("{}: no debugfs counters: {:?}\n", conn.addr_str(), e),
            }
        }
        // The client's reference; `close` takes it back.
        client.connect(Arc::into_raw(conn.clone()).cast_mut().cast());
        // Anything already readable (a server that speaks first) is read now.
        conn.kick();
        Ok(())
    }

    /// Whether a write-space wake-up must run the worker. The waker made room before waking us,
    /// the sender set `want_write` before its last try (`tx_step`): with a full barrier on both
    /// sides, either that try found the room or this sees the flag.
    pub(crate) fn wants_write_space(&self) -> bool {
        compat::smp_mb();
        self.want_write.load(Relaxed)
    }

    /// The mount's source, for log lines.
    pub(crate) fn addr_str(&self) -> &str {
        core::str::from_utf8(&self.addr[..self.addr.len().saturating_sub(1)]).unwrap_or("?")
    }

    /// Runs the worker soon (from any context).
    pub(crate) fn kick(&self) {
        // SAFETY: `self` is inside an `Arc` (connections are only made by `create`), alive for
        // this call.
        let arc: Arc<Conn> = unsafe { ArcBorrow::from_raw(self as *const Conn) }.into();
        self.kick_arc(arc);
    }

    fn kick_arc(&self, arc: Arc<Conn>) {
        // SAFETY: The module's workqueue lives from module init to exit, past every connection.
        let queue = unsafe { Queue::from_raw(zb::zc9p_fd_workqueue()) };
        // Already queued: that run will see what this one would have.
        let _ = queue.enqueue(arc);
    }

    /// Adds a request to the table and has the worker send it. On failure the reference comes
    /// back with the error: the connection failed, or (`ERESTARTSYS`) the caller was killed while
    /// it waited for a node. It never fails for want of memory: a node comes from the spare ones,
    /// or is allocated, or (when that fails) is waited for: with none spare, the table holds at
    /// least [`INITIAL_NODES`] requests, and each gives its node back when it finishes.
    pub(crate) fn submit(
        &self,
        tref: TransportRef,
        dir: Direction,
        mapped: usize,
        pages: Option<LentPages>,
    ) -> Result<(), (Error, TransportRef)> {
        let req = tref.request();
        // The reader checks every frame against its target before it lands; this is only the
        // completion's own clamp.
        let room = req.rc().len().max(frame::COUNT_HEADER_LEN + mapped);
        tref.offer_reply(room);
        let tag = req.tag();
        let mut node: Option<RBTreeNodeReservation<u16, Entry>> = None;
        loop {
            {
                let mut st = self.state.lock();
                if let Some(err) = st.dead {
                    return Err((err, tref));
                }
                if st.reqs.get(&tag).is_some() {
                    // The 9P core never reuses a tag still in use; refuse rather than lose a
                    // request.
                    return Err((EBUSY, tref));
                }
                if node.is_none() {
                    node = st.spare.pop();
                }
                if let Some(node) = node.take() {
                    let seq = st.next_seq;
                    st.next_seq += 1;
                    let entry = Entry {
                        seq,
                        phase: Phase::Unsent,
                        held: Held::Queued(tref),
                        dir,
                        mapped,
                        pages,
                        taken_back: false,
                    };
                    st.reqs.insert(node.into_node(tag, entry));
                    break;
                }
            }
            node = noio(|| RBTreeNodeReservation::new(GFP_KERNEL)).ok();
            if node.is_none() {
                self.stats.node_waits.add(1);
                if let Err(e) = self.wait_for_node() {
                    return Err((e, tref));
                }
            }
        }
        self.in_flight.fetch_add(1, Relaxed);
        self.send_now();
        Ok(())
    }

    /// Waits (killably, a second at most) for a node to be given back or the connection to fail.
    fn wait_for_node(&self) -> Result {
        self.node_waiters.fetch_add(1, Relaxed);
        compat::smp_mb();
        let ready = || {
            let st = self.state.lock();
            !st.spare.is_empty() || st.dead.is_some()
        };
        let r = self.node_wait.wait_killable_timeout(ready, second());
        self.node_waiters.fetch_sub(1, Relaxed);
        r.map(|_| ()).map_err(|_| ERESTARTSYS)
    }

    /// Sends from the submitting task if the worker is not busy (one wake-up fewer per request);
    /// otherwise, or if the socket is full, the worker does it. Never on a file the user passed
    /// (trans=fd): its socket still uses the task's page fragment (`sk_use_task_frag`), which the
    /// submitting task may be in the middle of using itself (a request from a page fault inside
    /// its own `sendmsg`), so only the worker sends there.
    fn send_now(&self) {
        if !self.ends.own_socket() {
            self.kick();
            return;
        }
        let Some(mut io) = self.io.try_lock() else {
            self.kick();
            return;
        };
        self.stats.inline_sends.add(1);
        let pending = noio(|| match self.tx_step(&mut io) {
            Ok(_) => io.tx.is_some(),
            Err(e) => {
                self.fail(&mut io, e, format_args!("send failed"));
                false
            }
        });
        drop(io);
        if pending {
            self.kick();
        }
    }

    /// A request left the table for good (its node is back).
    pub(crate) fn retire(&self, n: usize) {
        self.in_flight.fetch_sub(n, Relaxed);
        compat::smp_mb();
        if self.node_waiters.load(Relaxed) > 0 {
            self.node_wait.wake_up();
        }
    }

    /// `cancel`: takes back a request not sent yet (0: the client sends no Tflush). Anything
    /// else is with the server or was (1: the client flushes it), as mainline's `p9_fd_cancel`
    /// says for every request not unsent: a frame partly sent, a reply partly received, a request
    /// already answered. The one exception is a request this transport never had or already gave
    /// back unsent (a zero-copy caller's error path, or its lease withdrew it): 0, nothing to flush.
    pub(crate) fn cancel(&self, req: Request<'_>) -> i32 {
        let tag = req.tag();
        let taken = {
            let mut st = self.state.lock();
            match st.reqs.get(&tag) {
                Some(e) if e.request().is_some_and(|r| r.is(req)) && e.phase == Phase::Unsent => {
                    st.take(tag)
                }
                _ => None,
            }
        };
        match taken {
            Some(entry) => {
                self.stats.killed_unsent.add(1);
                self.retire(1);
                match entry.held {
                    Held::Queued(t) => t.withdraw(self.client),
                    Held::Sent(f) => f.fail(self.client, ERESTARTSYS),
                    Held::Moving => moving_seen(),
                }
                0
            }
            None if never_sent(req) => 0,
            None => 1,
        }
    }

    /// `cancelled`: the server answered the Tflush for `req`, so its reply will not come: drop
    /// the entry (if the reply did not arrive meanwhile).
    pub(crate) fn cancelled(&self, req: Request<'_>) {
        let tag = req.tag();
        let taken = {
            let mut st = self.state.lock();
            match st.reqs.get(&tag) {
                Some(e)
                    if e.request().is_some_and(|r| r.is(req))
                        && matches!(e.phase, Phase::Sent | Phase::Flushed) =>
                {
                    st.take(tag)
                }
                _ => None,
            }
        };
        if let Some(entry) = taken {
            self.retire(1);
            match entry.held {
                Held::Sent(f) => f.flushed(self.client),
                Held::Queued(t) => t.withdraw(self.client),
                Held::Moving => moving_seen(),
            }
        }
    }

    /// Fails the connection with `err`: every request gets it, new ones too; the worker's state
    /// is dropped and our own socket shut down. Logs `why` once.
    pub(crate) fn fail(&self, io: &mut Io, err: Error, why: core::fmt::Arguments<'_>) {
        let reqs = {
            let mut st = self.state.lock();
            if st.dead.is_some() {
                return;
            }
            st.dead = Some(err);
            core::mem::take(&mut st.reqs)
        };
        if !self.closing.load(Relaxed) {
            pr_err!(
                "{} {}: {}: connection failed (error {})\n",
                self.kind.name(),
                self.addr_str(),
                why,
                err.to_errno()
            );
        }
        io.tx = None;
        self.tx_lent.store(0, Relaxed);
        let mut failed = 0;
        if let Rx::Body { .. } = io.rx {
            let rx = core::mem::replace(
                &mut io.rx,
                Rx::Header {
                    buf: [0; frame::HEADER_LEN],
                    got: 0,
                },
            );
            if let Rx::Body { entry, .. } = rx {
                entry.fail(self.client, err);
                failed += 1;
            }
        }
        let mut reqs = reqs;
        while let Some(cursor) = reqs.cursor_front_mut() {
            let (_, node) = cursor.remove_current();
            let (_, entry) = node.to_key_value();
            entry.fail(self.client, err);
            failed += 1;
        }
        self.stats.failed_requests.add(failed as u64);
        self.retire(failed);
        self.ends.shutdown();
        self.progress_wait.wake_up();
        self.node_wait.wake_up();
    }

    /// Whether the connection failed.
    pub(crate) fn is_dead(&self) -> bool {
        self.state.lock().dead.is_some()
    }

    /// `close`: stops the wake-ups and the worker, fails what is left (requests the server never
    /// answered, e.g. one whose Tflush got an error) and drops the client's reference.
    pub(crate) fn close(this: Arc<Conn>) {
        this.closing.store(true, Relaxed);
        drop(this.poller.lock().take());
        // SAFETY: The work item is initialised; no one queues it any more (no wake-ups, no
        // requests, and the worker does not queue itself once `closing` is set).
        unsafe { zb::zc9p_fd_flush_work(Work::raw_get(&this.work)) };
        {
            let mut io = this.io.lock();
            this.fail(&mut io, frame::econnreset(), format_args!("closed"));
        }
        drop(this.debugfs.lock().take());
    }
}

/// Whether `req` never went out through this transport, or came back unsent: its status is still
/// `UNSENT` (a submission that failed) or `FLSHD` (withdrawn by its caller's lease; a request the
/// server flushed is not cancelled again).
fn never_sent(req: Request<'_>) -> bool {
    let status = req.status();
    status == zb::p9_req_status_t_REQ_STATUS_UNSENT as i32
        || status == zb::p9_req_status_t_REQ_STATUS_FLSHD as i32
}

/// `"<kind>-<id>"`, NUL-terminated, in `buf`.
fn fmt_name<'a>(buf: &'a mut [u8; 32], kind: &str, id: u64) -> Option<&'a CStr> {
    let len = {
        let mut w = kernel::str::Formatter::new(&mut buf[..31]);
        core::fmt::write(&mut w, format_args!("{kind}-{id}")).ok()?;
        w.bytes_written()
    };
    buf[len] = 0;
    CStr::from_bytes_with_nul(&buf[..=len]).ok()
}

impl WriteStats for Conn {
    fn write_stats(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        writeln!(f, "addr: {}", self.addr_str())?;
        writeln!(f, "transport: {}", self.kind.name())?;
        writeln!(f, "dead: {}", u8::from(self.is_dead()))?;
        writeln!(f, "in_flight: {}", self.in_flight.load(Relaxed))?;
        self.stats.write(f)
    }
}
