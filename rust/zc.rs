// SPDX-License-Identifier: GPL-2.0

//! Zero-copy requests: the message header from its buffer, the payload straight from (or into)
//! its own pages.
//!
//! The part that does not depend on the device is here: mapping the payload, patching the
//! message's count and size fields to what was mapped, copying a legacy Rerror back, and counting
//! what moved. The channel queues the result and waits for the device to give it back.

use crate::{
    bindings as zb,
    channel::{second, Channel},
    iov::IovIter,
    p9::{Client, Request, TransportRef},
    sg::{SgArray, SG_ENTRIES},
    trans_common::PayloadPages,
};
use kernel::prelude::*;

/// Which way a zero-copy payload goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// No payload.
    None,
    /// The device reads the pages (a write).
    ToDevice,
    /// The device writes the pages (a read or readdir).
    FromDevice,
}

/// Maps the payload into `payload` and patches the message to match what was mapped.
#[allow(clippy::too_many_arguments)]
fn map_payload(
    req: Request<'_>,
    uidata: Option<IovIter<'_>>,
    uodata: Option<IovIter<'_>>,
    inlen: usize,
    outlen: usize,
    room: usize,
    payload: &mut PayloadPages,
) -> Result<Direction> {
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
        Ok(Direction::ToDevice)
    } else if let Some(mut it) = uidata {
        payload.extract(&mut it, inlen, room)?;
        if payload.len() != inlen {
            req.patch_tc_u32(count_at, payload.len() as u32)?;
        }
        Ok(Direction::FromDevice)
    } else {
        Ok(Direction::None)
    }
}

/// Legacy protocols (9P2000, 9P2000.u) answer a failed read with Rerror, whose error string
/// lands in the payload pages after the `in_hdr_len` bytes that fit the reply buffer. Copy it
/// back so the client parses one contiguous reply, bounded by the reply buffer
/// (`P9_ZC_HDR_SZ`), by what the device wrote and by the payload that exists.
fn copy_back_error(mut req: Request<'_>, in_hdr_len: usize, payload: &PayloadPages) {
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

/// Payload bytes the device really moved, from its reply: for a read, what follows the reply
/// header (`rc.size` is already clamped to what was mapped); for a write, the count the server
/// says it took. An error reply moved nothing.
fn moved_bytes(req: Request<'_>, dir: Direction, in_hdr_len: usize, mapped: usize) -> usize {
    let expected = req.tc_type().map(|t| t.wrapping_add(1));
    if req.rc_type().is_none() || req.rc_type() != expected {
        return 0;
    }
    match dir {
        Direction::FromDevice => req.rc_size().saturating_sub(in_hdr_len).min(mapped),
        // Rwrite: size[4] type[1] tag[2] count[4].
        Direction::ToDevice => req.rc_u32(7).map_or(0, |n| (n as usize).min(mapped)),
        Direction::None => 0,
    }
}

impl Channel {
    /// Sends `req` with its payload passed separately: the device reads a write's payload
    /// straight from `uodata`'s pages, or writes a read's payload (after an `in_hdr_len`-byte
    /// reply header) straight into `uidata`'s pages. Waits until the device gives the request
    /// back.
    ///
    /// The payload may be shortened to what could be mapped; the message's count field is then
    /// patched, as the 9P client expects.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn zc_request(
        &self,
        client: Client,
        req: Request<'_>,
        tref: TransportRef,
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
        let dir = match map_payload(req, uidata, uodata, inlen, outlen, room, &mut payload) {
            Ok(dir) => dir,
            Err(e) => {
                // Never queued: the reply will not come, so drop the transport's reference.
                tref.put(client);
                return Err(e);
            }
        };
        let stats = self.stats();
        // Only user-backed payloads pin (never v9fs's own iterators): skip the counters then.
        let pinned = payload.pinned_pages();
        if pinned > 0 {
            stats.pin(pinned);
            if payload.waited_for_budget() {
                stats.pin_budget_waits.add(1);
            }
        }
        let device_writes = dir == Direction::FromDevice;
        // The device may write the reply header, and a read's payload after it.
        let reply = rc_head.len() + if device_writes { payload.len() } else { 0 };
        let queued = self.submit(tref, reply, |l, sg| {
            l.linear(sg, tc, false)?;
            if dir == Direction::ToDevice {
                l.payload(sg, &payload, false)?;
            }
            l.linear(sg, rc_head, true)?;
            if device_writes {
                l.payload(sg, &payload, true)?;
            }
            Ok(())
        });
        let result = match queued {
            Ok(()) => OnDevice::new(self, req, &payload).wait(),
            Err((e, tref)) => {
                tref.put(client);
                Err(e)
            }
        };
        stats.zc_requests.add(1);
        if result.is_ok() {
            let moved = moved_bytes(req, dir, in_hdr_len, payload.len()) as u64;
            match dir {
                Direction::FromDevice => stats.zc_bytes_from_device.add(moved),
                Direction::ToDevice => stats.zc_bytes_to_device.add(moved),
                Direction::None => {}
            }
            if device_writes && req.rc_type() == Some(zb::p9_msg_t_P9_RERROR as u8) {
                copy_back_error(req, in_hdr_len, &payload);
            }
        }
        payload.release();
        if pinned > 0 {
            stats.unpin(pinned);
        }
        result
    }
}

/// A request whose buffers are on the device, together with the payload pages they point into.
///
/// It borrows the payload, so the pages cannot be released (unpinned, handed back to their owner)
/// while it exists, and it cannot be dropped before the device gave the request back: dropping it
/// waits for that, however the task got there.
pub(crate) struct OnDevice<'a> {
    chan: &'a Channel,
    req: Request<'a>,
    _payload: &'a PayloadPages,
}

impl<'a> OnDevice<'a> {
    /// `req` was just queued by [`Channel::submit`] with buffers in `payload`.
    pub(crate) fn new(chan: &'a Channel, req: Request<'a>, payload: &'a PayloadPages) -> Self {
        Self { chan, req, _payload: payload }
    }

    /// Waits until the device gives the request back. A fatal signal does not cut this short:
    /// the device may still write into the pages, so the task waits for its buffer (a dead or
    /// removed device gives every buffer back at once), then returns, and dies on its way out.
    ///
    /// Returns the error the request failed with, if it did.
    pub(crate) fn wait(self) -> Result {
        let req = self.req;
        if req.wait_killable().is_err() {
            self.chan.stats().killed_waits.add(1);
        }
        drop(self);
        if req.is_received() {
            Ok(())
        } else {
            Err(req.transport_error())
        }
    }
}

impl Drop for OnDevice<'_> {
    fn drop(&mut self) {
        let mut waited = 0u32;
        while !self.req.wait_timeout(second()) {
            waited += 1;
            if self.chan.check_device() {
                // Dead: the shutdown finished every request it held, this one included.
                continue;
            }
            if waited % 10 == 0 {
                pr_warn!(
                    "{}: tag '{}': a killed task waits {} s for the device to give back its pages\n",
                    self.chan.name(),
                    self.chan.tag_str(),
                    waited
                );
            }
        }
    }
}
