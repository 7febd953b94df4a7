// SPDX-License-Identifier: GPL-2.0

//! Channels: one per virtio 9P device, each usable by one mount at a time.
//!
//! This is the transport's logic, in safe Rust over the wrappers in `virtio.rs`, `sg.rs`,
//! `p9.rs`, `irqsave.rs` and `wait.rs`.

use crate::{
    irqsave::{new_spinlock_irq, SpinLockIrq},
    p9::{Client, Request},
    sg::SgArray,
    virtio::{SgGroup, VirtioDevice, Virtqueue},
    wait::{new_wait_queue, WaitQueue},
};
use kernel::{
    alloc::KVec,
    prelude::*,
    sync::{
        atomic::{Acquire, Atomic, Full, Relaxed, Release},
        Arc,
    },
};

kernel::sync::global_lock! {
    // SAFETY: Initialised by the module initialiser before the driver and transport register.
    /// Every probed channel, in probe order. Also serialises a mount claiming a channel against
    /// another mount and against the device's removal.
    pub(crate) unsafe(uninit) static CHANNELS: Mutex<KVec<Arc<Channel>>> = KVec::new();
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
        let init = pin_init!(Self {
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

    /// Queues `req` on the ring: the whole message out, the whole reply buffer in.
    ///
    /// A full ring makes the sender wait (killably) for a completion and try again.
    pub(crate) fn request(&self, req: &Request) -> Result {
        req.mark_sent();
        loop {
            let mut guard = self.ring.lock();
            let ring = &mut *guard;
            let out = ring.sg.pack_linear(0, req.tc())?;
            let inp = ring.sg.pack_linear(out, req.rc())?;
            let out_groups = [SgGroup { start: 0 }];
            let in_groups = [SgGroup { start: out }];
            let res = ring.vq.add_sgs(
                &mut ring.sg,
                &out_groups[..usize::from(out > 0)],
                &in_groups[..usize::from(inp > 0)],
                req.token(),
            );
            match res {
                Ok(()) => {
                    ring.vq.kick();
                    return Ok(());
                }
                Err(e) if e == ENOSPC => {
                    self.ring_full.store(true, Relaxed);
                    drop(guard);
                    self.ring_wait
                        .wait_killable(|| !self.ring_full.load(Relaxed))?;
                }
                Err(e) => {
                    drop(guard);
                    pr_err!(
                        "{}: virtqueue_add_sgs failed: {:?}\n",
                        self.vdev.name(),
                        e
                    );
                    return Err(EIO);
                }
            }
        }
    }

    /// Interrupt callback: hands every reply the device returned to the client.
    pub(crate) fn complete_requests(&self) {
        let mut wake = false;
        let mut guard = self.ring.lock();
        let ring = &mut *guard;
        while let Some((token, len)) = ring.vq.get_buf() {
            // A slot came free: let a sender waiting on a full ring retry.
            wake |= self.ring_full.xchg(false, Relaxed);
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
