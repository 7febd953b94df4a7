// SPDX-License-Identifier: GPL-2.0

//! The ring: queueing a request's buffers on the device ([`Channel::submit`]) and handing back
//! what the device used ([`Channel::complete_requests`]), both under the ring lock.

use super::{Channel, Ring};
use crate::{
    common::{
        p9::{Client, InFlight, LinearBuf, TransportRef},
        second,
    },
    layout::{Layout, Message, Shorten},
    sg::SgArray,
};
use kernel::{prelude::*, sync::atomic::Relaxed};

impl Channel {
    /// Queues `req` with the buffer `msg` lays out, waiting (killably) while the ring is full
    /// or the DMA mapping cannot be had, and shortening `msg` when an idle device cannot take
    /// it as it is.
    ///
    /// On success the device holds the request; on failure the reference comes back with the
    /// error (`EIO` on a dead channel, `ERESTARTSYS` if killed while waiting).
    pub(crate) fn submit(
        &self,
        req: TransportRef,
        msg: &mut impl Message,
    ) -> core::result::Result<(), (Error, TransportRef)> {
        let mut req = req;
        loop {
            req.offer_reply(msg.reply());
            let mut guard = self.ring.lock();
            let Ring {
                vq,
                sg,
                on_device,
                dead,
                ..
            } = &mut *guard;
            let Some(vq) = vq.as_mut().filter(|_| !*dead) else {
                return Err((EIO, req));
            };
            let mut l = Layout::new(self.max_entries);
            if let Err(e) = msg.lay_out(&mut l, sg) {
                return Err((e, req));
            }
            let idle = *on_device == 0;
            let e = match vq.add(sg, l.groups(), l.n_out(), req) {
                Ok(()) => {
                    *on_device += 1;
                    vq.kick();
                    return Ok(());
                }
                Err((e, back)) if e == ENOSPC || e == ENOMEM => {
                    req = back;
                    e
                }
                Err((e, back)) => {
                    drop(guard);
                    pr_err!("{}: virtqueue_add_sgs failed: {:?}\n", self.name(), e);
                    // A broken queue takes no more buffers: shut down so every waiter is freed.
                    self.check_device();
                    return Err((EIO, back));
                }
            };
            let timeout = if idle {
                drop(guard);
                // Nothing will complete to make room. ENOSPC: a chain longer than the ring
                // needs an indirect table (16 bytes a descriptor and as much again for the
                // core's bookkeeping: order 3 at 1024 entries, GFP_ATOMIC), which could not be
                // allocated. ENOMEM: an entry could not be mapped (swiotlb's pool is full, or too
                // fragmented for it). Send less: what fits in the ring needs no table; half
                // the payload needs half the bounce buffers.
                let how = if e == ENOSPC {
                    Shorten::ToEntries(self.ring_size)
                } else {
                    Shorten::Half
                };
                if msg.shorten(how) {
                    self.stats.shortened_requests.add(1);
                    continue;
                }
                // It cannot get shorter: a small table, or other devices' bounce buffers, come
                // free by themselves; retry after a tick (or a completion, should another
                // sender's request get in first).
                self.ring_full.store(true, Relaxed);
                1
            } else {
                // A completion frees ring slots and the bounce buffers of its request.
                self.ring_full.store(true, Relaxed);
                drop(guard);
                if e == ENOSPC {
                    self.stats.ring_full_waits.add(1);
                    second()
                } else {
                    // Other devices free bounce buffers too, and do not wake us.
                    kernel::time::msecs_to_jiffies(10) as kernel::ffi::c_long
                }
            };
            if e == ENOMEM {
                self.stats.dma_map_waits.add(1);
            }
            let woken = self.ring_wait.wait_killable_timeout(
                || !self.ring_full.load(Relaxed) || self.ring.lock().dead,
                timeout,
            );
            if let Err(e) = woken {
                self.stats.killed_unsent.add(1);
                return Err((e, req));
            }
        }
    }

    /// Queues `req` on the ring: the whole message out, the whole reply buffer in.
    pub(crate) fn request(&self, req: TransportRef) -> Result {
        self.stats.copy_requests.add(1);
        let mut msg = Whole {
            tc: req.request().tc(),
            rc: req.request().rc(),
        };
        self.submit(req, &mut msg).map_err(|(e, req)| {
            req.refused();
            e
        })
    }

    /// Hands every buffer the device used to the ring's client, each with its reply, calling
    /// `freed` for each ring slot that comes free. Returns whether the ring has a queue (false
    /// once the channel is shut down: nothing to hand back).
    pub(super) fn finish_used(&self, ring: &mut Ring, mut freed: impl FnMut()) -> bool {
        let Ring {
            vq,
            client,
            on_device,
            ..
        } = ring;
        let Some(vq) = vq.as_mut() else {
            return false;
        };
        while let Some((req, len)) = vq.get_buf() {
            *on_device = on_device.saturating_sub(1);
            freed();
            self.finish(*client, req, Ok(len));
        }
        true
    }

    /// Hands a request the device gave back to `client`: its reply (`Ok(len)`) or an error.
    pub(super) fn finish(
        &self,
        client: Option<Client>,
        req: InFlight,
        how: core::result::Result<u32, Error>,
    ) {
        let Some(client) = client else {
            // Excluded by the invariant of `Ring`; should it ever happen, keeping the reference
            // (a leak) is the only safe choice: there is no client to give it to.
            pr_err!(
                "{}: a request came back with no client; leaking it\n",
                self.name()
            );
            let _ = req;
            return;
        };
        match how {
            Ok(len) => {
                if len == 0 {
                    self.stats.failed_requests.add(1);
                }
                req.complete(client, len)
            }
            Err(e) => {
                self.stats.failed_requests.add(1);
                req.fail(client, e)
            }
        }
    }

    /// Interrupt callback: hands every request the device gave back to the client.
    pub(crate) fn complete_requests(&self) {
        let mut wake = false;
        let mut ring = self.ring.lock();
        let queued = self.finish_used(&mut ring, || {
            // A slot came free: let a sender waiting on a full ring retry.
            // (A load first: the ring is rarely full, and the exchange is a locked operation.)
            if self.ring_full.load(Relaxed) {
                wake |= self.ring_full.xchg(false, Relaxed);
            }
        });
        if !queued {
            return;
        }
        let idle = ring.on_device == 0;
        drop(ring);
        if wake {
            self.ring_wait.wake_up();
        }
        if idle && self.draining.load(Relaxed) {
            self.idle_wait.wake_up();
        }
    }
}

/// A message on the copy path: its buffer out, the reply buffer in. It cannot get shorter.
struct Whole {
    tc: LinearBuf,
    rc: LinearBuf,
}

impl Message for Whole {
    fn reply(&self) -> usize {
        self.rc.len()
    }

    fn lay_out(&self, l: &mut Layout, sg: &mut SgArray) -> Result {
        l.linear(sg, self.tc, false)?;
        l.linear(sg, self.rc, true)
    }
}
