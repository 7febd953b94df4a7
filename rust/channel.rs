// SPDX-License-Identifier: GPL-2.0

//! Channels: one per virtio 9P device, each usable by one mount at a time.
//!
//! This is the transport's logic, in safe Rust over the wrappers in `virtio.rs`, `sg.rs`,
//! `p9.rs`, `irqsave.rs` and `wait.rs`.

use crate::{
    bindings as zb,
    iov::IovIter,
    irqsave::{new_spinlock_irq, SpinLockIrq},
    p9::{Client, LinearBuf, Request},
    sg::{SgArray, SG_ENTRIES},
    stats::{ChannelStats, DebugfsDir},
    trans_common::{PayloadPages, Segment},
    virtio::{SgGroup, VirtioDevice, Virtqueue},
    wait::{new_wait_queue, WaitQueue},
};
use kernel::{
    alloc::KVec,
    prelude::*,
    seq_file::SeqFile,
    sync::{
        atomic::{Acquire, Atomic, Full, Relaxed, Release},
        Arc,
    },
};

/// Where the device's buffer for one message comes from, in order: device-readable groups
/// first, then device-writable ones.
struct Layout {
    groups: [SgGroup; 4],
    n_groups: usize,
    n_out: usize,
    next: usize,
}

impl Layout {
    #[inline]
    fn new() -> Self {
        Self { groups: [SgGroup::default(); 4], n_groups: 0, n_out: 0, next: 0 }
    }

    #[inline]
    fn push(&mut self, entries: usize, device_writes: bool) -> Result {
        if entries == 0 {
            return Ok(());
        }
        if self.n_groups == self.groups.len() || (!device_writes && self.n_out != self.n_groups) {
            return Err(EINVAL);
        }
        self.groups[self.n_groups] = SgGroup { start: self.next };
        self.n_groups += 1;
        if !device_writes {
            self.n_out += 1;
        }
        self.next += entries;
        Ok(())
    }

    #[inline]
    fn linear(&mut self, sg: &mut SgArray, buf: LinearBuf, device_writes: bool) -> Result {
        let n = sg.pack_linear(self.next, buf)?;
        self.push(n, device_writes)
    }

    #[inline]
    fn pages(&mut self, sg: &mut SgArray, segs: &[Segment], device_writes: bool) -> Result {
        let n = sg.pack_pages(self.next, segs)?;
        self.push(n, device_writes)
    }
}

kernel::sync::global_lock! {
    // SAFETY: Initialised by the module initialiser before the driver and transport register.
    /// Every probed channel, in probe order. Also serialises a mount claiming a channel against
    /// another mount and against the device's removal.
    pub(crate) unsafe(uninit) static CHANNELS: Mutex<KVec<Arc<Channel>>> = KVec::new();
}

/// Legacy protocols (9P2000, 9P2000.u) answer a failed read with Rerror, whose error string
/// lands in the payload pages after the `in_hdr_len` bytes that fit the reply buffer. Copy it
/// back so the client parses one contiguous reply, bounded by the reply buffer
/// (`P9_ZC_HDR_SZ`), by what the device wrote and by the payload that exists.
fn copy_back_error(req: &mut Request, in_hdr_len: usize, payload: &PayloadPages) {
    let size = req.rc_size();
    if size <= in_hdr_len {
        return;
    }
    let want = size.min(zb::P9_ZC_HDR_SZ as usize).saturating_sub(in_hdr_len);
    let dst = req.rc_tail_mut(in_hdr_len);
    let want = want.min(dst.len());
    let got = payload.read_at(0, &mut dst[..want]);
    req.set_rc_size(in_hdr_len + got);
}

/// What the ring lock protects: everything the interrupt callback touches.
struct Ring {
    vq: Virtqueue,
    sg: SgArray,
    /// The mounted client, while there is one; replies are handed to it.
    client: Option<Client>,
}

/// A virtio 9P device as a transport channel.
///
/// # Invariants
///
/// `tag` is NUL-terminated. While `in_use` is true the channel is owned by one 9P client, whose
/// `trans` pointer refers to it; device removal waits for `in_use` to become false.
#[pin_data]
pub(crate) struct Channel {
    /// First, so it is removed (draining readers of `stats`) before anything else goes.
    debugfs: DebugfsDir,
    stats: ChannelStats,
    vdev: VirtioDevice,
    tag: KVec<u8>,
    #[pin]
    ring: SpinLockIrq<Ring>,
    /// Set when a sender found the ring full; cleared (with a wake-up) on the next completion.
    ring_full: Atomic<bool>,
    #[pin]
    ring_wait: WaitQueue,
    in_use: Atomic<bool>,
    #[pin]
    idle_wait: WaitQueue,
}

impl Channel {
    /// The mount tag, without its NUL.
    pub(crate) fn tag(&self) -> &[u8] {
        &self.tag[..self.tag.len() - 1]
    }

    /// The mount tag including its NUL, for the `mount_tag` sysfs attribute.
    pub(crate) fn tag_with_nul(&self) -> &[u8] {
        &self.tag
    }

    fn tag_str(&self) -> &str {
        core::str::from_utf8(self.tag()).unwrap_or("<non-UTF-8 tag>")
    }

    /// Sets up a channel on a newly probed device and makes it available to mounts.
    pub(crate) fn probe(
        vdev: VirtioDevice,
        done: unsafe extern "C" fn(*mut crate::bindings::virtqueue),
    ) -> Result {
        let tag = vdev.read_mount_tag().inspect_err(|_| {
            pr_err!("{}: device has no mount tag\n", vdev.name());
        })?;
        let sg = SgArray::new()?;
        let vq = vdev.find_vq(done)?;
        let debugfs = DebugfsDir::new(vdev.name_cstr(), crate::stats::module_root());
        let init = pin_init!(Self {
            debugfs,
            stats: ChannelStats::new(),
            vdev,
            tag,
            ring <- new_spinlock_irq!(Ring { vq, sg, client: None }, "zc9p_ring"),
            ring_full: Atomic::new(false),
            ring_wait <- new_wait_queue!("zc9p_ring_wait"),
            in_use: Atomic::new(false),
            idle_wait <- new_wait_queue!("zc9p_idle_wait"),
        });
        let chan = match Arc::pin_init(init, GFP_KERNEL) {
            Ok(chan) => chan,
            Err(e) => {
                vdev.reset_and_delete_queues();
                return Err(e);
            }
        };
        chan.debugfs.add_stats_file(c"stats", Arc::as_ptr(&chan).cast_mut().cast());
        // The device's private pointer owns one reference; `remove` takes it back.
        vdev.set_private(Arc::into_raw(chan.clone()).cast_mut().cast());
        let unbind = |e: Error| {
            vdev.reset_and_delete_queues();
            let raw = vdev.private();
            vdev.set_private(core::ptr::null_mut());
            // SAFETY: `raw` is the reference stored just above and nothing else has used it.
            drop(unsafe { Arc::<Channel>::from_raw(raw.cast()) });
            e
        };
        vdev.add_mount_tag_attr().map_err(unbind)?;
        let mut list = CHANNELS.lock();
        if let Err(e) = list.reserve(1, GFP_KERNEL) {
            drop(list);
            vdev.remove_mount_tag_attr();
            return Err(unbind(e.into()));
        }
        vdev.ready();
        // Cannot fail: room was reserved above, under the same lock.
        let _ = list.push_within_capacity(chan);
        drop(list);
        // Let udev rules use the new mount_tag attribute.
        vdev.uevent_change();
        Ok(())
    }

    /// Tears down the channel of a device being removed, once its mount (if any) is closed.
    pub(crate) fn remove(vdev: VirtioDevice) {
        let raw = vdev.private();
        if raw.is_null() {
            return;
        }
        // SAFETY: `probe` stored this reference in the private pointer; only `remove` takes it.
        let chan = unsafe { Arc::<Channel>::from_raw(raw.cast()) };
        // No new mounts from here on.
        CHANNELS.lock().retain(|c| !Arc::ptr_eq(c, &chan));
        let period = kernel::time::msecs_to_jiffies(10_000) as kernel::ffi::c_long;
        while !chan.idle_wait.wait_timeout(|| !chan.in_use.load(Acquire), period) {
            pr_warn!(
                "{}: removal waits for the mount of tag '{}' to end\n",
                vdev.name(),
                chan.tag_str()
            );
        }
        // `close` stores `in_use = false` and wakes us under this lock: once we hold it, that
        // `close` no longer touches the channel.
        drop(CHANNELS.lock());
        vdev.reset_and_delete_queues();
        vdev.remove_mount_tag_attr();
        vdev.uevent_change();
        vdev.set_private(core::ptr::null_mut());
        // `chan` (and its debugfs directory) goes when the list's and this reference are gone.
    }

    /// Claims the channel whose tag is `source` for `client`.
    ///
    /// `EBUSY` if every matching channel is mounted already, `ENOENT` if no channel matches.
    pub(crate) fn attach(client: Client, source: &[u8]) -> Result {
        let list = CHANNELS.lock();
        let mut busy = false;
        for chan in list.iter() {
            if chan.tag() != source {
                continue;
            }
            if chan.in_use.cmpxchg(false, true, Full).is_err() {
                busy = true;
                continue;
            }
            chan.ring.lock().client = Some(client);
            // INVARIANT: `in_use` is set, so removal waits for `detach` before freeing `chan`.
            client.connect(Arc::as_ptr(chan).cast_mut().cast());
            return Ok(());
        }
        drop(list);
        let tag = core::str::from_utf8(source).unwrap_or("<non-UTF-8 tag>");
        if busy {
            pr_info!("mount tag '{}' is already mounted\n", tag);
            Err(EBUSY)
        } else {
            pr_err!(
                "no virtio 9P device with mount tag '{}' (is 9pnet_virtio bound to it?)\n",
                tag
            );
            Err(ENOENT)
        }
    }

    /// Releases the channel of a client that is being closed.
    pub(crate) fn detach(&self) {
        self.ring.lock().client = None;
        // Under the list lock: see `remove`.
        let _list = CHANNELS.lock();
        self.in_use.store(false, Release);
        self.idle_wait.wake_up();
    }

    /// Prints this channel's counters (debugfs).
    pub(crate) fn show_stats(&self, m: &SeqFile) {
        self.stats.show(m, self.tag_str());
    }

    /// Queues `req` with the buffer `layout` packs, retrying (killably) while the ring is full.
    fn submit(
        &self,
        req: &Request,
        layout: impl Fn(&mut Layout, &mut SgArray) -> Result,
    ) -> Result {
        loop {
            let mut guard = self.ring.lock();
            let ring = &mut *guard;
            let mut l = Layout::new();
            layout(&mut l, &mut ring.sg)?;
            let res = ring.vq.add_sgs(&mut ring.sg, &l.groups[..l.n_groups], l.n_out, req.token());
            match res {
                Ok(()) => {
                    ring.vq.kick();
                    return Ok(());
                }
                Err(e) if e == ENOSPC => {
                    self.ring_full.store(true, Relaxed);
                    drop(guard);
                    self.stats.ring_full_waits.add(1);
                    self.ring_wait.wait_killable(|| !self.ring_full.load(Relaxed))?;
                }
                Err(e) => {
                    drop(guard);
                    pr_err!("{}: virtqueue_add_sgs failed: {:?}\n", self.vdev.name(), e);
                    return Err(EIO);
                }
            }
        }
    }

    /// Queues `req` on the ring: the whole message out, the whole reply buffer in.
    pub(crate) fn request(&self, req: &Request) -> Result {
        req.mark_sent();
        self.stats.copy_requests.add(1);
        self.submit(req, |l, sg| {
            l.linear(sg, req.tc(), false)?;
            l.linear(sg, req.rc(), true)
        })
    }

    /// Sends `req` with its payload passed separately: the device reads a write's payload
    /// straight from `uodata`'s pages, or writes a read's payload (after an `in_hdr_len`-byte
    /// reply header) straight into `uidata`'s pages. Waits for the reply.
    ///
    /// The payload may be shortened to what could be mapped; the message's count field is then
    /// patched, as the 9P client expects.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn zc_request(
        &self,
        client: Client,
        mut req: Request,
        uidata: Option<IovIter<'_>>,
        uodata: Option<IovIter<'_>>,
        inlen: usize,
        outlen: usize,
        in_hdr_len: usize,
    ) -> Result {
        let tc = req.tc();
        let rc_head = req.rc_head(in_hdr_len);
        // The headers' entries come first; the payload gets the rest of the scatterlist.
        let room = SG_ENTRIES
            .saturating_sub(SgArray::entries_for(tc))
            .saturating_sub(SgArray::entries_for(rc_head));
        // Filled in place: see `PayloadPages::new`.
        let mut payload = PayloadPages::new();
        let device_writes =
            match self.map_payload(&req, uidata, uodata, inlen, outlen, room, &mut payload) {
                Ok(device_writes) => device_writes,
                Err(e) => {
                    // Never queued: the reply will not come, so drop the transport's reference.
                    req.put(client);
                    return Err(e);
                }
            };
        let segs = payload.segments();
        // Only user-backed payloads pin (never v9fs's own iterators): skip the counters then.
        let pinned = payload.pinned_pages();
        if pinned > 0 {
            self.stats.pin(pinned);
            if payload.waited_for_budget() {
                self.stats.pin_budget_waits.add(1);
            }
        }
        req.mark_sent();
        let queued = self.submit(&req, |l, sg| {
            l.linear(sg, tc, false)?;
            if !device_writes {
                l.pages(sg, segs, false)?;
            }
            l.linear(sg, rc_head, true)?;
            if device_writes {
                l.pages(sg, segs, true)?;
            }
            Ok(())
        });
        if let Err(e) = queued {
            payload.release();
            if pinned > 0 {
                self.stats.unpin(pinned);
            }
            req.put(client);
            return Err(e);
        }
        if req.wait_killable().is_err() {
            // The device owns the payload pages until it returns the buffer: returning now would
            // let the caller free or reuse memory the host is about to write. The wait ends
            // when the server replies; the task dies on its way back to user space.
            req.wait_queue().wait_uninterruptible(
                || req.is_done(),
                format_args!(
                    "zc9p_virtio: {}: killed task waits for the reply that owns its pages",
                    self.tag_str()
                ),
            );
        }
        self.stats.zc_requests.add(1);
        if payload.len() > 0 {
            let counter = if device_writes {
                &self.stats.zc_bytes_from_device
            } else {
                &self.stats.zc_bytes_to_device
            };
            counter.add(payload.len() as u64);
        }
        if req.is_received() && req.rc_type() == Some(zb::p9_msg_t_P9_RERROR as u8) {
            copy_back_error(&mut req, in_hdr_len, &payload);
        }
        payload.release();
        if pinned > 0 {
            self.stats.unpin(pinned);
        }
        Ok(())
    }

    /// Maps the payload into `payload` (empty when the message has none) and patches the
    /// message to match what was mapped.
    ///
    /// Returns whether the device writes the pages (a read).
    #[allow(clippy::too_many_arguments)]
    fn map_payload(
        &self,
        req: &Request,
        uidata: Option<IovIter<'_>>,
        uodata: Option<IovIter<'_>>,
        inlen: usize,
        outlen: usize,
        room: usize,
        payload: &mut PayloadPages,
    ) -> Result<bool> {
        let tc_len = req.tc().len();
        // The count field is the message's last 4 bytes ("dqd": fid, offset, count).
        let count_at = tc_len.checked_sub(4).ok_or(EINVAL)?;
        if let Some(mut it) = uodata {
            payload.extract(&mut it, outlen, room)?;
            let n = payload.len();
            if n != outlen {
                req.patch_tc_u32(count_at, n as u32)?;
            }
            // The size field covers the header and the payload sent beside it.
            let size = u32::try_from(tc_len + n).map_err(|_| EINVAL)?;
            req.patch_tc_u32(0, size)?;
            Ok(false)
        } else if let Some(mut it) = uidata {
            payload.extract(&mut it, inlen, room)?;
            if payload.len() != inlen {
                req.patch_tc_u32(count_at, payload.len() as u32)?;
            }
            Ok(true)
        } else {
            Ok(false)
        }
    }

    /// Interrupt callback: hands every reply the device returned to the client.
    pub(crate) fn complete_requests(&self) {
        let mut wake = false;
        let mut guard = self.ring.lock();
        let ring = &mut *guard;
        while let Some((token, len)) = ring.vq.get_buf() {
            // A slot came free: let a sender waiting on a full ring retry.
            // (A load first: the ring is rarely full, and the exchange is a locked operation.)
            if self.ring_full.load(Relaxed) {
                wake |= self.ring_full.xchg(false, Relaxed);
            }
            if len == 0 {
                // Nothing was written back, so there is no reply to parse (as mainline).
                continue;
            }
            // SAFETY: Every token on the ring was queued by `request` for an outstanding
            // request, and the device returns each one once.
            let req = unsafe { Request::from_token(token) };
            if let (Some(req), Some(client)) = (req, ring.client) {
                req.complete(client, len);
            }
        }
        drop(guard);
        if wake {
            self.ring_wait.wake_up();
        }
    }
}
