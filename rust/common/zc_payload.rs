// SPDX-License-Identifier: GPL-2.0

//! The transport-independent half of `zc_request`: a message whose payload travels in its own
//! pages, beside the header.
//!
//! [`map`] maps the payload into [`PayloadPages`] (pinning user pages against the budget) and
//! patches the message's count and size fields to what was mapped; the transport then moves the
//! header and the pages (a virtio ring, a socket) and waits for the reply; [`Mapped::finish`]
//! copies a legacy Rerror back where needed, counts what moved and releases the pages.

use crate::{
    bindings as zb,
    common::{counters::ZcStats, p9::Request, trans_common::PayloadPages},
};
use kernel::{
    iov::{IovIterDest, IovIterSource},
    prelude::*,
};

/// Which way a zero-copy payload goes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Direction {
    /// No payload.
    None,
    /// The other side reads the pages (a write).
    Out,
    /// The other side writes the pages (a read or readdir), after the reply header.
    In,
}

/// A payload mapped for one zero-copy call, and its share of the counters.
#[must_use = "a mapped payload must be finished"]
pub(crate) struct Mapped<'s> {
    dir: Direction,
    in_hdr_len: usize,
    pinned: usize,
    stats: &'s ZcStats,
}

/// Maps the payload of `req` into `payload` (which must be empty), at most `max_pages` pages,
/// and patches the message to match what was mapped: its count field (the message's last 4
/// bytes: "dqd" = fid, offset, count) when the payload was cut, and for a write its size field,
/// which covers the header and the payload sent beside it.
///
/// `in_hdr_len` is the reply header the 9P client expects before a read's payload (11: size,
/// type, tag, count).
// fd still calls this with the call's arguments; make it private to `callbacks::ZcCall::map`, or
// let it take a `ZcCall`, when fd switches.
#[expect(
    clippy::too_many_arguments,
    reason = "the zc_request arguments it maps, and where they go"
)]
pub(crate) fn map<'s>(
    req: Request<'_>,
    uidata: Option<&mut IovIterDest<'_>>,
    uodata: Option<&mut IovIterSource<'_>>,
    inlen: usize,
    outlen: usize,
    in_hdr_len: usize,
    max_pages: usize,
    payload: &mut PayloadPages,
    stats: &'s ZcStats,
) -> Result<Mapped<'s>> {
    let tc_len = req.tc().len();
    let count_at = tc_len.checked_sub(4).ok_or(EINVAL)?;
    let dir = if let Some(it) = uodata {
        payload.extract(it, outlen, max_pages)?;
        let n = payload.len();
        if n != outlen {
            req.patch_tc_u32(count_at, n as u32)?;
        }
        let size = u32::try_from(tc_len + n).map_err(|_| EINVAL)?;
        req.patch_tc_u32(0, size)?;
        Direction::Out
    } else if let Some(it) = uidata {
        payload.extract(it, inlen, max_pages)?;
        if payload.len() != inlen {
            req.patch_tc_u32(count_at, payload.len() as u32)?;
        }
        Direction::In
    } else {
        Direction::None
    };
    // Every payload is charged to the budget; only user-backed ones pin (never v9fs's own
    // iterators).
    if payload.waited_for_budget() {
        stats.pin_budget_waits.add(1);
    }
    let pinned = payload.pinned_pages();
    if pinned > 0 {
        stats.pins.pin(pinned);
    }
    Ok(Mapped {
        dir,
        in_hdr_len,
        pinned,
        stats,
    })
}

impl Mapped<'_> {
    /// Which way the payload goes.
    #[inline]
    pub(crate) fn direction(&self) -> Direction {
        self.dir
    }

    /// Shortens the mapped payload to its first `len` bytes (what the transport could hand
    /// over; see [`PayloadPages::truncate`]) and patches the message to match, as [`map`] does:
    /// the count field, and for a write the size field. A payload of `len` or less is left as
    /// it is.
    #[cfg_attr(zc9p_fd, expect(dead_code, reason = "zc9p_virtio's only"))]
    pub(crate) fn shorten(
        &mut self,
        req: Request<'_>,
        payload: &mut PayloadPages,
        len: usize,
    ) -> Result {
        if self.dir == Direction::None || len >= payload.len() {
            return Ok(());
        }
        let tc_len = req.tc().len();
        let count_at = tc_len.checked_sub(4).ok_or(EINVAL)?;
        let size = u32::try_from(tc_len + len).map_err(|_| EINVAL)?;
        payload.truncate(len);
        req.patch_tc_u32(count_at, len as u32)?;
        if self.dir == Direction::Out {
            req.patch_tc_u32(0, size)?;
        }
        let pinned = payload.pinned_pages();
        if pinned < self.pinned {
            self.stats.pins.unpin(self.pinned - pinned);
            self.pinned = pinned;
        }
        Ok(())
    }

    /// The call is over and the other side no longer touches `payload`: counts it (with what
    /// moved, if `replied`), copies a legacy Rerror's string from the pages back into the reply
    /// buffer if the transport let it land there (`error_in_pages`), and releases the pages.
    pub(crate) fn finish(
        self,
        req: Request<'_>,
        payload: &mut PayloadPages,
        replied: bool,
        error_in_pages: bool,
    ) {
        let stats = self.stats;
        stats.requests.add(1);
        if replied {
            let moved = moved_bytes(req, self.dir, self.in_hdr_len, payload.len()) as u64;
            match self.dir {
                Direction::In => stats.bytes_in.add(moved),
                Direction::Out => stats.bytes_out.add(moved),
                Direction::None => {}
            }
            if error_in_pages
                && self.dir == Direction::In
                && req.rc_type() == Some(zb::p9_msg_t_P9_RERROR as u8)
            {
                copy_back_error(req, self.in_hdr_len, payload);
            }
        }
        payload.release();
        if self.pinned > 0 {
            stats.pins.unpin(self.pinned);
        }
    }
}

/// Legacy protocols (9P2000, 9P2000.u) answer a failed read with Rerror, whose error string
/// lands in the payload pages after the `in_hdr_len` bytes that fit the reply buffer when the
/// other side writes the reply as one stream (virtio). Copy it back so the client parses one
/// contiguous reply, bounded by the reply buffer (`P9_ZC_HDR_SZ`), by what was written and by
/// the payload that exists.
///
/// Called from [`Mapped::finish`] only, by the submitting task, once the transport gave the
/// request back (replied) and before `zc_request` returns to the 9P client.
fn copy_back_error(mut req: Request<'_>, in_hdr_len: usize, payload: &PayloadPages) {
    // Only a reply that arrived: its status (acquire) orders the device's writes before ours,
    // and a request that came back by a reply is one the device no longer holds.
    if !req.is_received() {
        return;
    }
    let size = req.rc_size();
    if size <= in_hdr_len {
        return;
    }
    // The reply arrived (checked above): the device or socket worker wrote its last byte of `rc`
    // and gave the request back, and the 9P client reads `rc` only after `finish` returns.
    // SAFETY: Nothing else writes or reads `rc` now, no other slice or `LinearBuf` of it is in
    // use here, and `dst` is dead before `set_rc_size`.
    let dst = unsafe { req.rc_tail_mut(in_hdr_len) };
    let want = copy_back_len(size, in_hdr_len, dst.len());
    let got = payload.read_at(0, &mut dst[..want]);
    req.set_rc_size(in_hdr_len + got);
}

/// Bytes of a legacy Rerror to copy back from the payload pages: the rest of its `size` after
/// the `in_hdr_len` bytes already in the reply buffer, but nothing past the buffer's zero-copy
/// header room (`P9_ZC_HDR_SZ`, all the 9P client parses of it) nor past the `room` the buffer
/// has after the header.
pub(crate) fn copy_back_len(size: usize, in_hdr_len: usize, room: usize) -> usize {
    size.min(zb::P9_ZC_HDR_SZ as usize)
        .saturating_sub(in_hdr_len)
        .min(room)
}

/// Payload bytes that really moved, from the reply: for a read, what follows the reply header
/// (`rc.size` is already clamped to what was mapped); for a write, the count the server says it
/// took. An error reply moved nothing.
fn moved_bytes(req: Request<'_>, dir: Direction, in_hdr_len: usize, mapped: usize) -> usize {
    let expected = req.tc_type().map(|t| t.wrapping_add(1));
    if req.rc_type().is_none() || req.rc_type() != expected {
        return 0;
    }
    match dir {
        Direction::In => req.rc_size().saturating_sub(in_hdr_len).min(mapped),
        // Rwrite: size[4] type[1] tag[2] count[4].
        Direction::Out => req.rc_u32(7).map_or(0, |n| (n as usize).min(mapped)),
        Direction::None => 0,
    }
}
