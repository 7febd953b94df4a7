// SPDX-License-Identifier: GPL-2.0

//! Zero-copy requests: the message header from its buffer, the payload straight from (or into)
//! its own pages.
//!
//! The part that does not depend on the device (mapping, patching, counting) is in
//! `common::zc_payload`; here the channel queues the header and the pages and waits for the device to
//! give them back.

use crate::{
    channel::Channel,
    common::{
        callbacks::{ZcCall, ZcMapped},
        p9::{LinearBuf, Request},
        second,
        trans_common::PayloadPages,
        zc_payload::{Direction, Mapped},
    },
    layout::{Layout, Message, Shorten},
    sg::{EntryLimit, SgArray},
};
use kernel::prelude::*;

impl Channel {
    /// Sends `req` with its payload passed separately: the device reads a write's payload
    /// straight from `uodata`'s pages, or writes a read's payload (after an `in_hdr_len`-byte
    /// reply header) straight into `uidata`'s pages. Waits until the device gives the request
    /// back.
    ///
    /// The payload may be shortened to what could be mapped; the message's count field is then
    /// patched, as the 9P client expects.
    pub(crate) fn zc_request(&self, call: ZcCall<'_>) -> Result {
        let req = call.req;
        let tc = req.tc();
        let rc_head = req.rc_head(call.in_hdr_len);
        let limit = self.entry_limit();
        // The headers' entries come first; the payload gets the rest of the scatterlist, in as
        // many pages as always fit there.
        let room = self
            .max_entries()
            .saturating_sub(limit.entries_for(tc))
            .saturating_sub(limit.entries_for(rc_head));
        let max_pages = limit.pages_in(room);
        // Filled in place: see `PayloadPages::new`.
        let mut payload = PayloadPages::new();
        let ZcMapped {
            client,
            tref,
            mut mapped,
        } = call.map(max_pages, &mut payload, &self.stats().zc)?;
        let mut msg = ZcMessage {
            req,
            tc,
            rc_head,
            limit,
            payload: &mut payload,
            mapped: &mut mapped,
        };
        let queued = self.submit(tref, &mut msg);
        let result = match queued {
            Ok(()) => OnDevice::new(self, req, &payload).wait(),
            Err((e, tref)) => {
                tref.put(client);
                Err(e)
            }
        };
        // The device wrote the reply as one stream: a legacy Rerror's string may be in the pages.
        mapped.finish(req, &mut payload, result.is_ok(), true);
        result
    }
}

/// A zero-copy message: the request header, a write's payload, the reply header and a read's
/// payload, in that order. It gets shorter by cutting the payload.
struct ZcMessage<'a, 's> {
    req: Request<'a>,
    tc: LinearBuf,
    rc_head: LinearBuf,
    limit: EntryLimit,
    payload: &'a mut PayloadPages,
    mapped: &'a mut Mapped<'s>,
}

impl ZcMessage<'_, '_> {
    fn device_writes(&self) -> bool {
        self.mapped.direction() == Direction::In
    }
}

impl Message for ZcMessage<'_, '_> {
    /// The device may write the reply header, and a read's payload after it.
    fn reply(&self) -> usize {
        self.rc_head.len()
            + if self.device_writes() {
                self.payload.len()
            } else {
                0
            }
    }

    fn lay_out(&self, l: &mut Layout, sg: &mut SgArray) -> Result {
        let dir = self.mapped.direction();
        l.linear(sg, self.tc, false)?;
        if dir == Direction::Out {
            l.payload(sg, self.payload, false)?;
        }
        l.linear(sg, self.rc_head, true)?;
        if dir == Direction::In {
            l.payload(sg, self.payload, true)?;
        }
        Ok(())
    }

    fn shorten(&mut self, how: Shorten) -> bool {
        let keep = match how {
            Shorten::ToEntries(entries) => {
                let headers =
                    self.limit.entries_for(self.tc) + self.limit.entries_for(self.rc_head);
                self.limit
                    .payload_prefix(self.payload, entries.saturating_sub(headers))
            }
            Shorten::Half => self.payload.len() / 2,
        };
        // An empty payload would read as end of file, or a write of nothing.
        if keep == 0 || keep >= self.payload.len() {
            return false;
        }
        self.mapped.shorten(self.req, self.payload, keep).is_ok()
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
        Self {
            chan,
            req,
            _payload: payload,
        }
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
