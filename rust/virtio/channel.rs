// SPDX-License-Identifier: GPL-2.0

//! Channels: one per virtio 9P device, each usable by one mount at a time.
//!
//! This is the transport's logic, in safe Rust over the wrappers in `device.rs`, `sg.rs` and
//! the shared ones (`common::{p9, irqsave, wait}`): a channel's life here (probe, mounts,
//! shutdown, removal), its ring in [`ring`].
//!
//! Ownership of a request's buffers follows one rule: the transport's reference to a request
//! ([`TransportRef`]) becomes the device's ([`InFlight`]) when, and only when, the buffers are on
//! the ring, and only the device handing them back (a used buffer, or a buffer taken back after a
//! reset) ends it. Every request the device holds is therefore finished exactly once, and a task
//! waiting for a finished request knows the device no longer touches its memory.
//!
//! [`TransportRef`]: crate::common::p9::TransportRef
//! [`InFlight`]: crate::common::p9::InFlight

use crate::{
    channel_stats::ChannelStats,
    common::{
        debugfs::{StatsDir, WriteStats},
        irqsave::{new_spinlock_irq, SpinLockIrq},
        p9::Client,
        second,
        wait::{new_wait_queue, WaitQueue},
    },
    device::{VirtioDevice, Virtqueue},
    sg::{EntryLimit, SgArray},
};

mod ring;
use kernel::{
    alloc::KVec,
    new_mutex,
    prelude::*,
    sync::{
        atomic::{Atomic, Full, Relaxed, Release},
        Arc, Mutex,
    },
    workqueue::{impl_has_work, new_work, Queue, Work, WorkItem},
};

kernel::sync::global_lock! {
    // SAFETY: Initialised by the module initialiser before the driver and transport register.
    /// Every probed channel, in probe order. Also serialises a mount claiming a channel against
    /// another mount and against the device's removal.
    pub(crate) unsafe(uninit) static CHANNELS: Mutex<KVec<Arc<Channel>>> = KVec::new();
}

/// What the ring lock protects: everything the interrupt callback touches.
///
/// # Invariants
///
/// `on_device` is the number of requests whose `InFlight` (`common::p9`) the queue holds. While
/// it is not 0, `client` is `Some` (a client is detached only once its requests are back, if need
/// be by a [`Channel::shut_down`]), so every request the device hands back has a client to finish
/// it.
struct Ring {
    /// The device's queue, until the channel is shut down.
    vq: Option<Virtqueue>,
    sg: SgArray,
    /// The mounted client, while there is one; replies are handed to it.
    client: Option<Client>,
    on_device: usize,
    /// No new request may be queued (the channel is being shut down, or was).
    dead: bool,
}

/// A virtio 9P device as a transport channel.
///
/// A channel is reference counted: the device holds one reference from probe to remove, the
/// channel list one while it is listed, and a mounted client one from `create` to `close`. Device
/// removal does not wait for the mount: it shuts the channel down (resets the device, fails what
/// it held, refuses new requests) and the mount's later requests fail with `EIO`.
///
/// # Invariants
///
/// `tag` and `name` are NUL-terminated. `device` is the bound device until `remove` takes it.
/// While `in_use` is true the channel is owned by one 9P client, whose `trans` pointer holds a
/// reference to it.
#[pin_data]
pub(crate) struct Channel {
    stats: ChannelStats,
    /// The device's name (`virtioN`), kept for log lines after the device is gone.
    name: KVec<u8>,
    tag: KVec<u8>,
    /// The bound device; also serialises shutting the channel down.
    #[pin]
    device: Mutex<Option<VirtioDevice>>,
    /// The counters' debugfs directory, removed with the device (a new device may take the name).
    #[pin]
    debugfs: Mutex<Option<StatsDir<Channel>>>,
    #[pin]
    ring: SpinLockIrq<Ring>,
    /// Scatterlist entries one message may use on this device's queue: at most the ring's size,
    /// or all of them with indirect descriptors on a device known to take longer chains.
    max_entries: usize,
    /// Descriptors in the ring: the longest chain that needs no indirect table.
    ring_size: usize,
    /// The most bytes one entry may describe (the DMA mapping's limit).
    entry_limit: EntryLimit,
    /// Set when a sender found the ring full; cleared (with a wake-up) on the next completion.
    ring_full: Atomic<bool>,
    /// Senders waiting for room on the ring.
    #[pin]
    ring_wait: WaitQueue,
    /// `close` waiting for the device to give back every request.
    #[pin]
    idle_wait: WaitQueue,
    /// A `close` is waiting on `idle_wait`: only then does a completion that empties the ring
    /// wake it (a wake-up per request would take the queue's lock on every reply).
    draining: Atomic<bool>,
    in_use: Atomic<bool>,
    /// Checks the device from process context when it signals a configuration change.
    #[pin]
    check_work: Work<Channel>,
}

impl_has_work! {
    impl HasWork<Self> for Channel { self.check_work }
}

impl WorkItem for Channel {
    type Pointer = Arc<Channel>;

    fn run(this: Arc<Channel>) {
        this.check_device();
    }
}

impl Channel {
    /// Queues a check of the device (see [`Channel::check_device`]) on the module's workqueue;
    /// callable from interrupt context.
    pub(crate) fn check_device_later(this: Arc<Channel>) {
        // SAFETY: The shim's workqueue lives from module init to module exit, after every device
        // was removed and every queued work item ran.
        let queue = unsafe { Queue::from_raw(crate::bindings::zc9p_virtio_workqueue()) };
        // Already queued: that check will do (the reference comes back and is dropped).
        let _ = queue.enqueue(this);
    }

    /// The mount tag, without its NUL.
    pub(crate) fn tag(&self) -> &[u8] {
        &self.tag[..self.tag.len() - 1]
    }

    /// The mount tag including its NUL, for the `mount_tag` sysfs attribute.
    pub(crate) fn tag_with_nul(&self) -> &[u8] {
        &self.tag
    }

    pub(crate) fn tag_str(&self) -> &str {
        core::str::from_utf8(self.tag()).unwrap_or("<non-UTF-8 tag>")
    }

    /// The device's name, for log lines.
    pub(crate) fn name(&self) -> &str {
        core::str::from_utf8(&self.name[..self.name.len() - 1]).unwrap_or("virtio?")
    }

    /// Scatterlist entries one message may use.
    pub(crate) fn max_entries(&self) -> usize {
        self.max_entries
    }

    /// The most bytes one scatterlist entry may describe.
    pub(crate) fn entry_limit(&self) -> EntryLimit {
        self.entry_limit
    }

    /// The channel's counters.
    pub(crate) fn stats(&self) -> &ChannelStats {
        &self.stats
    }

    /// Sets up a channel on a newly probed device and makes it available to mounts.
    pub(crate) fn probe(
        vdev: VirtioDevice,
        done: unsafe extern "C" fn(*mut crate::bindings::virtqueue),
    ) -> Result {
        let tag = vdev.read_mount_tag().inspect_err(|_| {
            pr_err!("{}: device has no mount tag\n", vdev.name());
        })?;
        let mut name = KVec::new();
        name.extend_from_slice(vdev.name_cstr().to_bytes_with_nul(), GFP_KERNEL)?;
        let entry_limit = EntryLimit::new(vdev.max_dma_size());
        let sg = SgArray::new(entry_limit)?;
        let vq = vdev.find_vq(done)?;
        let (max_entries, ring_size) = (vq.max_entries(), vq.size());
        let init = pin_init!(Self {
            stats: ChannelStats::new(),
            name,
            tag,
            device <- new_mutex!(Some(vdev), "zc9p_device"),
            debugfs <- new_mutex!(None, "zc9p_debugfs"),
            ring <- new_spinlock_irq!(
                Ring { vq: None, sg, client: None, on_device: 0, dead: false },
                "zc9p_ring"
            ),
            max_entries,
            ring_size,
            entry_limit,
            ring_full: Atomic::new(false),
            ring_wait <- new_wait_queue!("zc9p_ring_wait"),
            idle_wait <- new_wait_queue!("zc9p_idle_wait"),
            draining: Atomic::new(false),
            in_use: Atomic::new(false),
            check_work <- new_work!("zc9p_check_device"),
        });
        let chan = match Arc::pin_init(init, GFP_KERNEL) {
            Ok(chan) => chan,
            Err(e) => {
                vdev.reset();
                vdev.delete_queues(vq);
                return Err(e);
            }
        };
        chan.ring.lock().vq = Some(vq);
        // Counters are optional: a channel without them works all the same.
        match StatsDir::create(vdev.name_cstr(), chan.clone()) {
            Ok(files) => *chan.debugfs.lock() = Some(files),
            Err(e) => pr_warn!("{}: no debugfs counters: {:?}\n", vdev.name(), e),
        }
        // The device's private pointer owns one reference; `remove` takes it back.
        vdev.set_private(chan.clone());
        let unbind = |e: Error| {
            // SAFETY: The reference stored just above, which nothing else has taken back.
            let private = unsafe { vdev.take_private::<Arc<Channel>>() };
            vdev.clear_private();
            if let Some(chan) = private {
                chan.shut_down("probe failed");
                // The counters file holds a reference: let the channel go.
                drop(chan.debugfs.lock().take());
            }
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

    /// Tears down the channel of a device being removed, without waiting for its mount: the
    /// device is reset, every request it held fails with `EIO`, and a mount still using the
    /// channel gets `EIO` from then on until it is unmounted.
    pub(crate) fn remove(vdev: VirtioDevice) {
        // SAFETY: `probe` stored this reference in the private pointer; only `remove` takes it
        // back, and clears the pointer (below) before dropping it.
        let Some(chan) = (unsafe { vdev.take_private::<Arc<Channel>>() }) else {
            return;
        };
        // No new mounts from here on.
        CHANNELS.lock().retain(|c| !Arc::ptr_eq(c, &chan));
        if chan.in_use.load(Relaxed) {
            pr_info!(
                "{}: device removed while tag '{}' is mounted: its I/O fails from now on\n",
                chan.name(),
                chan.tag_str()
            );
        }
        chan.shut_down("device removed");
        // Removing the attribute drains its readers, which use the private pointer.
        vdev.remove_mount_tag_attr();
        vdev.uevent_change();
        vdev.clear_private();
        // Removes the counters (draining their readers) and the reference their file holds.
        drop(chan.debugfs.lock().take());
        // INVARIANT: `remove` is returning: the device is no longer used through the channel.
        *chan.device.lock() = None;
        // The channel itself goes with its last reference (the mount's, if any).
    }

    /// Resets the device and finishes every request it held, once: replies it had completed are
    /// delivered, the rest fail with `EIO`. New requests fail at once afterwards. Process context.
    pub(crate) fn shut_down(&self, why: &str) {
        let device = self.device.lock();
        let Some(vdev) = *device else {
            return;
        };
        {
            let mut ring = self.ring.lock();
            if ring.vq.is_none() {
                return;
            }
            ring.dead = true;
        }
        // No more DMA and no more interrupts after this (running callbacks are waited for).
        vdev.reset();
        let (vq, failed) = {
            let mut ring = self.ring.lock();
            if !self.finish_used(&mut ring, || {}) {
                return;
            }
            let Some(mut vq) = ring.vq.take() else {
                return;
            };
            let mut failed = 0u64;
            while let Some(req) = vq.detach_unused() {
                ring.on_device = ring.on_device.saturating_sub(1);
                self.finish(ring.client, req, Err(EIO));
                failed += 1;
            }
            (vq, failed)
        };
        vdev.delete_queues(vq);
        self.stats.device_resets.add(1);
        pr_warn!(
            "{}: tag '{}': {}: device reset, {} outstanding requests failed with EIO\n",
            self.name(),
            self.tag_str(),
            why,
            failed
        );
        drop(device);
        // Senders waiting for ring space and a `close` waiting for requests: they see `dead`.
        self.ring_wait.wake_up();
        self.idle_wait.wake_up();
    }

    /// Whether the device stopped working: the virtio core marked its queue broken, or the device
    /// asked for a reset (QEMU does when it marks a device broken; it answers nothing after that).
    fn device_broken(&self) -> bool {
        let device = self.device.lock();
        let Some(vdev) = *device else {
            return false;
        };
        vdev.needs_reset()
            || self
                .ring
                .lock()
                .vq
                .as_ref()
                .is_some_and(|vq| vq.is_broken())
    }

    /// Shuts the channel down if the device stopped working; returns whether it is dead.
    pub(crate) fn check_device(&self) -> bool {
        if self.device_broken() {
            pr_err!(
                "{}: tag '{}': the device stopped working\n",
                self.name(),
                self.tag_str()
            );
            self.shut_down("device broken");
        }
        self.ring.lock().dead
    }

    /// Claims the channel whose tag is `source` for `client`.
    ///
    /// `EBUSY` if every matching channel is mounted already, `ENOENT` if no channel matches,
    /// `EIO` if the matching channel's device stopped working.
    pub(crate) fn attach(client: Client, source: &[u8]) -> Result {
        let list = CHANNELS.lock();
        let mut busy = false;
        let mut dead = false;
        for chan in list.iter() {
            if chan.tag() != source {
                continue;
            }
            if chan.in_use.cmpxchg(false, true, Full).is_err() {
                busy = true;
                continue;
            }
            {
                let mut ring = chan.ring.lock();
                if ring.dead {
                    drop(ring);
                    chan.in_use.store(false, Relaxed);
                    dead = true;
                    continue;
                }
                ring.client = Some(client);
            }
            // INVARIANT: The client's `trans` pointer holds a reference, given back in `close`.
            client.connect_state(chan.clone());
            return Ok(());
        }
        drop(list);
        let tag = core::str::from_utf8(source).unwrap_or("<non-UTF-8 tag>");
        if busy {
            pr_info!("mount tag '{}' is already mounted\n", tag);
            Err(EBUSY)
        } else if dead {
            pr_err!(
                "mount tag '{}': the device stopped working; it must be re-probed\n",
                tag
            );
            Err(EIO)
        } else {
            pr_err!(
                "no virtio 9P device with mount tag '{}' (is 9pnet_virtio bound to it?)\n",
                tag
            );
            Err(ENOENT)
        }
    }

    /// Releases the channel of a client that is being closed, once the device gave back every
    /// request of that client: the client frees them (and their slab cache) right after.
    pub(crate) fn detach(&self) {
        let idle = || self.ring.lock().on_device == 0;
        // Stored before the condition first takes the ring lock: a completion whose critical
        // section follows that check acquired the lock after us and sees the flag (it loads it
        // after its own unlock); one before it emptied the ring, which the check then sees.
        self.draining.store(true, Relaxed);
        let mut waited = 0;
        while !self.idle_wait.wait_timeout(idle, second()) {
            waited += 1;
            if self.check_device() {
                continue;
            }
            if waited == 10 {
                // A device that keeps buffers after every request was flushed or answered is
                // not going to answer: take them back by force.
                self.shut_down("requests still held after unmount");
            }
        }
        self.draining.store(false, Relaxed);
        self.ring.lock().client = None;
        // Under the list lock, so `attach` sees `in_use` and `client` change together.
        let _list = CHANNELS.lock();
        self.in_use.store(false, Release);
    }
}

impl WriteStats for Channel {
    /// Writes this channel's counters (its debugfs `stats` file).
    fn write_stats(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let (on_device, dead) = {
            let ring = self.ring.lock();
            (ring.on_device, ring.dead)
        };
        writeln!(f, "tag: {}", self.tag_str())?;
        // Shut down: its device was removed or stopped working.
        writeln!(f, "dead: {}", u8::from(dead))?;
        writeln!(f, "on_device: {on_device}")?;
        self.stats.write(f)?;
        // What the device allows: entries per message, descriptors in the ring, bytes per entry.
        writeln!(f, "max_entries: {}", self.max_entries)?;
        writeln!(f, "ring_size: {}", self.ring_size)?;
        writeln!(f, "entry_limit: {}", self.entry_limit.bytes())
    }
}
