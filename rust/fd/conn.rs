// SPDX-License-Identifier: GPL-2.0

//! Connections: one per mount over tcp, unix, fd or vsock, in safe Rust over the wrappers in
//! `endpoint.rs` and `common/`.
//!
//! Ownership of a request follows one rule: from `request`/`zc_request` until it is finished,
//! the transport's reference lives in the connection's table of requests (`state.rs`, keyed by
//! tag), and only four things take it out, each once: the reader matching the reply (or failing
//! the request whose reply it refused), `cancel` (before it is sent), `cancelled` (the server
//! answered the client's Tflush) and a connection failure. The table's nodes come from spare ones
//! the connection keeps: a request allocates nothing, since the 9P client gives up on the whole
//! mount when `request` fails with anything but `ERESTARTSYS`. The worker (`io.rs`, behind the
//! io lock) is the only one that reads a request's buffers to send them or writes them with a
//! reply (the frame being sent holds a reference to its request of its own, as a reply may
//! finish the request first), and a zero-copy caller's pages are lent to it until the caller
//! takes them back under that lock ([`Conn::take_back`], from its lease in `lease.rs`).
//!
//! The worker and zero-copy requests call in here; nothing here calls them.

use crate::{
    bindings as zb,
    common::{
        compat,
        debugfs::{StatsDir, WriteStats},
        errno::econnreset,
        p9::{Client, Request, TransportRef},
        second,
        trans_common::noio,
        wait::{new_wait_queue, WaitQueue},
        zc_payload::Direction,
    },
    conn_stats::ConnStats,
    endpoint::{Endpoints, Poller},
    frame,
    options::Kind,
    state::{Io, LentPages, Node, Phase, State},
};
use kernel::{
    alloc::KVec,
    new_mutex, new_spinlock,
    prelude::*,
    rbtree::RBTreeNodeReservation,
    str::CStr,
    sync::{
        atomic::{Atomic, Relaxed},
        Arc, Mutex, SpinLock,
    },
    workqueue::{impl_has_work, new_work, Work},
};

/// One mount's connection.
///
/// Its two locks are always taken in one order, `io` then `state`: the io lock is a mutex, and no
/// mutex may be taken under a spinlock (lockdep and `might_sleep` catch it). What each protects,
/// and the edits made to it, are in `state.rs`.
#[pin_data]
pub(crate) struct Conn {
    pub(crate) kind: Kind,
    pub(crate) client: Client,
    /// The mount's source (address, socket path, "fd"), NUL-terminated, for log lines.
    addr: KVec<u8>,
    pub(crate) ends: Endpoints,
    pub(crate) stats: ConnStats,
    /// The table of requests and whether the connection failed. Lock order: the inner lock,
    /// taken alone or under `io`, never before it; held only to look up or edit the table, never
    /// across a send, a receive or a wait.
    #[pin]
    pub(crate) state: SpinLock<State>,
    /// The worker's frames. Lock order: the outer lock, taken before `state`. Its holder alone
    /// moves a request between the table and the frames (the methods of `State` that do ask for
    /// its `IoProof`), so under it a request stays where it was seen.
    #[pin]
    pub(crate) io: Mutex<Io>,
    /// Bumped by every send and receive: a killed caller waits for a stalled stream to move.
    pub(crate) progress: Atomic<u64>,
    #[pin]
    pub(crate) progress_wait: WaitQueue,
    /// Requests in the table or being received.
    in_flight: Atomic<usize>,
    /// The tag + 1 of the frame being sent with a caller's pages lent to it (0: none), set and
    /// cleared under the io lock. A caller whose request is finished need not take the io lock
    /// unless this names it (its reply came before the frame was all sent).
    pub(crate) tx_lent: Atomic<u32>,
    /// Submitters waiting for a node (none spare, and none could be allocated).
    #[pin]
    node_wait: WaitQueue,
    node_waiters: Atomic<usize>,
    /// A frame waits for room to send (a send would have blocked): only then does a wake-up
    /// that says nothing but "room to send" run the worker (`io::wake`).
    pub(crate) want_write: Atomic<bool>,
    closing: Atomic<bool>,
    #[pin]
    poller: Mutex<Option<Poller>>,
    #[pin]
    debugfs: Mutex<Option<StatsDir<Conn>>>,
    /// The worker (`io.rs`), queued on the module's workqueue.
    #[pin]
    work: Work<Conn>,
}

impl_has_work! {
    impl HasWork<Self> for Conn { self.work }
}

/// Connections made so far, for their debugfs names.
static NEXT_ID: Atomic<u64> = Atomic::new(0);

impl Conn {
    /// Connects a new mount and attaches it to `client`. The caller starts the worker, which
    /// reads anything already readable (a server that speaks first).
    pub(crate) fn create(
        client: Client,
        kind: Kind,
        addr: &CStr,
        ends: Endpoints,
    ) -> Result<Arc<Conn>> {
        let mut name = KVec::new();
        name.extend_from_slice(addr.to_bytes_with_nul(), GFP_KERNEL)?;
        let state = State::new()?;
        let init = pin_init!(Self {
            kind,
            client,
            addr: name,
            ends,
            stats: ConnStats::new(),
            state <- new_spinlock!(state, "zc9p_fd_state"),
            io <- new_mutex!(Io::new(), "zc9p_fd_io"),
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
        client.connect_state(conn.clone());
        Ok(conn)
    }

    /// The mount's source, for log lines.
    pub(crate) fn addr_str(&self) -> &str {
        core::str::from_utf8(&self.addr[..self.addr.len().saturating_sub(1)]).unwrap_or("?")
    }

    /// Whether the connection is closing: the worker does not run any more.
    pub(crate) fn is_closing(&self) -> bool {
        self.closing.load(Relaxed)
    }

    /// Adds a request to the table, for the worker to send (`io::submit`). On failure the
    /// reference comes back with the error: the connection failed, or (`ERESTARTSYS`) the caller
    /// was killed while it waited for a node. It never fails for want of memory: a node comes from
    /// the spare ones, or is allocated, or (when that fails) is waited for: with none spare, the
    /// table holds at least as many requests as a connection starts with nodes, and each gives
    /// its node back when it finishes.
    pub(crate) fn enqueue(
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
        let mut node: Option<Node> = None;
        loop {
            {
                let mut st = self.state.lock();
                if let Err(err) = st.admits(tag) {
                    return Err((err, tref));
                }
                if node.is_none() {
                    node = st.spare_node();
                }
                if let Some(node) = node.take() {
                    st.add(node, tref, dir, mapped, pages);
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
        Ok(())
    }

    /// Waits (killably, a second at most) for a node to be given back or the connection to fail.
    fn wait_for_node(&self) -> Result {
        self.node_waiters.fetch_add(1, Relaxed);
        compat::smp_mb();
        let ready = || self.state.lock().node_or_dead();
        let r = self.node_wait.wait_killable_timeout(ready, second());
        self.node_waiters.fetch_sub(1, Relaxed);
        r.map(|_| ()).map_err(|_| ERESTARTSYS)
    }

    /// A request left the table for good (its node is back).
    pub(crate) fn retire(&self, n: usize) {
        self.in_flight.fetch_sub(n, Relaxed);
        compat::smp_mb();
        if self.node_waiters.load(Relaxed) > 0 {
            self.node_wait.wake_up();
        }
    }

    /// Takes `req` back if it is not sent yet (not a byte of its frame): out of the table,
    /// counted (`killed_unsent`), and its reference given back marked flushed, so the client
    /// sends no Tflush. `cancel` and a killed zero-copy caller ([`Conn::take_back`]) both come
    /// here. Returns whether it did.
    pub(crate) fn withdraw_unsent(&self, req: Request<'_>) -> bool {
        let Some(entry) = self.state.lock().take_if(req, &[Phase::Unsent]) else {
            return false;
        };
        self.stats.killed_unsent.add(1);
        self.retire(1);
        entry.withdraw(self.client);
        true
    }

    /// `cancel`: takes back a request not sent yet (0: the client sends no Tflush). Anything
    /// else is with the server or was (1: the client flushes it), as mainline's `p9_fd_cancel`
    /// says for every request not unsent: a frame partly sent, a reply partly received, a request
    /// already answered. The one exception is a request this transport never had or already gave
    /// back unsent (a zero-copy caller's error path, or its lease withdrew it): 0, nothing to flush.
    pub(crate) fn cancel(&self, req: Request<'_>) -> i32 {
        if self.withdraw_unsent(req) || never_sent(req) {
            0
        } else {
            1
        }
    }

    /// `cancelled`: the server answered the Tflush for `req`, so its reply will not come: drop
    /// the entry (if the reply did not arrive meanwhile).
    pub(crate) fn cancelled(&self, req: Request<'_>) {
        let taken = self
            .state
            .lock()
            .take_if(req, &[Phase::Sent, Phase::Flushed]);
        if let Some(entry) = taken {
            self.retire(1);
            entry.flushed(self.client);
        }
    }

    /// Whether the frame being sent has `req`'s pages lent to it (read without the io lock).
    pub(crate) fn lends_to_tx(&self, req: Request<'_>) -> bool {
        self.tx_lent.load(Relaxed) == u32::from(req.tag()) + 1
    }

    /// A killed zero-copy caller takes its pages back, wherever they are lent: from the frame
    /// being sent (a write's: the rest of the payload is copied for the frame to go on with),
    /// from the frame being received (a read's: the rest of its data is read and dropped), or
    /// from the table (an unsent request is withdrawn; a sent one gives its pages up and fails
    /// when answered). False if the frame being sent has them and no memory could be had for the
    /// copy: the caller waits for the frame to move and asks again. Nothing here fails the
    /// connection: only the request's own state is given up.
    pub(crate) fn take_back(&self, req: Request<'_>) -> bool {
        let mut io = self.io.lock();
        if let Some(copied) = io.detach_sending(req.tag()) {
            if copied.is_err() {
                return false;
            }
            self.tx_lent.store(0, Relaxed);
            self.stats.killed_mid_send.add(1);
            return true;
        }
        if io.detach_receiving(req) {
            return true;
        }
        // Under the io lock: the worker cannot start sending it between these two.
        if !self.withdraw_unsent(req) {
            self.state.lock().detach_pages(req, &io.proof);
        }
        true
    }

    /// Fails the connection with `err`: every request gets it, new ones too; the worker's state
    /// is dropped and our own socket shut down. Logs `why` once.
    pub(crate) fn fail(&self, io: &mut Io, err: Error, why: core::fmt::Arguments<'_>) {
        let Some(mut reqs) = self.state.lock().kill(err, &io.proof) else {
            return;
        };
        if !self.is_closing() {
            pr_err!(
                "{} {}: {}: connection failed (error {})\n",
                self.kind.name(),
                self.addr_str(),
                why,
                err.to_errno()
            );
        }
        let receiving = io.reset();
        self.tx_lent.store(0, Relaxed);
        let mut failed = 0;
        if let Some(entry) = receiving {
            entry.fail(self.client, err);
            failed += 1;
        }
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
        self.state.lock().dead().is_some()
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
            this.fail(&mut io, econnreset(), format_args!("closed"));
        }
        drop(this.debugfs.lock().take());
    }
}

/// Whether `req` never went out through this transport, or came back unsent: its status is still
/// `UNSENT` (a submission that failed) or `FLSHD` (withdrawn by its caller's lease; a request the
/// server flushed is not cancelled again).
fn never_sent(req: Request<'_>) -> bool {
    let state = req.state();
    state.is_unsent() || state.is_flushed()
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
