// SPDX-License-Identifier: GPL-2.0

//! A message's layout on the ring: the groups of scatterlist entries it is made of, in the order
//! virtio wants them (every device-readable group before the device-writable ones), within the
//! entries one message may use.

use crate::{
    common::{p9::LinearBuf, trans_common::PayloadPages},
    device::SgGroup,
    sg::SgArray,
};
use kernel::prelude::*;

/// How a message that the device cannot take whole should get shorter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shorten {
    /// To at most this many scatterlist entries (the ring's size: no indirect table).
    ToEntries(usize),
    /// To about half its payload (the DMA mapping failed).
    Half,
}

/// A message on its way to the ring: how it is laid out, and how it gets shorter when the
/// device cannot take it as it is (the 9P client accepts a short read or write).
pub(crate) trait Message {
    /// The most the device may write back (see `TransportRef::offer_reply`).
    fn reply(&self) -> usize;

    /// Packs the message into `sg` as `l`'s groups.
    fn lay_out(&self, l: &mut Layout, sg: &mut SgArray) -> Result;

    /// Shortens the message as `how` says; false if it cannot get shorter (it has no payload,
    /// or one that would become empty). Called without the ring lock: it may release pages.
    fn shorten(&mut self, how: Shorten) -> bool {
        let _ = how;
        false
    }
}

/// Where the device's buffer for one message comes from, in order: device-readable groups
/// first, then device-writable ones.
///
/// # Invariants
///
/// The first `n_groups` of `groups` start at increasing entries below `next`, which is at most
/// `limit`; the first `n_out` of them are device-readable and the rest device-writable.
pub(crate) struct Layout {
    groups: [SgGroup; 4],
    n_groups: usize,
    n_out: usize,
    /// The first entry not used yet.
    next: usize,
    /// Entries the message may use (the channel's `max_entries`).
    limit: usize,
}

impl Layout {
    /// An empty layout of at most `limit` entries.
    #[inline]
    pub(crate) fn new(limit: usize) -> Self {
        // INVARIANT: No group, nothing used.
        Self {
            groups: [SgGroup::default(); 4],
            n_groups: 0,
            n_out: 0,
            next: 0,
            limit,
        }
    }

    /// Records a group of `entries` entries just packed at `next` (none: no group).
    #[inline]
    fn push(&mut self, entries: usize, device_writes: bool) -> Result {
        if entries == 0 {
            return Ok(());
        }
        if self.n_groups == self.groups.len() || (!device_writes && self.n_out != self.n_groups) {
            return Err(EINVAL);
        }
        let next = self
            .next
            .checked_add(entries)
            .filter(|&n| n <= self.limit)
            .ok_or(EMSGSIZE)?;
        // INVARIANT: Checked just above: the group starts at `next`, fits the limit, and a
        // device-readable one follows only device-readable ones.
        self.groups[self.n_groups] = SgGroup { start: self.next };
        self.n_groups += 1;
        if !device_writes {
            self.n_out += 1;
        }
        self.next = next;
        Ok(())
    }

    /// Packs `buf` as the next group.
    #[inline]
    pub(crate) fn linear(
        &mut self,
        sg: &mut SgArray,
        buf: LinearBuf,
        device_writes: bool,
    ) -> Result {
        let n = sg.pack_linear(self.next, self.limit, buf)?;
        self.push(n, device_writes)
    }

    /// Packs the pages of `payload` as the next group.
    #[inline]
    pub(crate) fn payload(
        &mut self,
        sg: &mut SgArray,
        payload: &PayloadPages,
        device_writes: bool,
    ) -> Result {
        let n = sg.pack_payload(self.next, self.limit, payload)?;
        self.push(n, device_writes)
    }

    /// The groups, device-readable ones first.
    #[inline]
    pub(crate) fn groups(&self) -> &[SgGroup] {
        &self.groups[..self.n_groups]
    }

    /// How many of [`Self::groups`] the device reads.
    #[inline]
    pub(crate) fn n_out(&self) -> usize {
        self.n_out
    }

    /// Entries used.
    #[inline]
    #[cfg_attr(
        not(CONFIG_KUNIT = "y"),
        expect(dead_code, reason = "the KUnit suites' only")
    )]
    pub(crate) fn entries(&self) -> usize {
        self.next
    }
}

#[kernel::macros::kunit_tests(zc9p_virtio_layout)]
mod tests {
    use super::*;
    use crate::common::test_pages::TestPages;
    use kernel::alloc::KVec;

    const PAGE: usize = kernel::page::PAGE_SIZE;

    fn starts(l: &Layout) -> KVec<usize> {
        let mut v = KVec::new();
        for g in l.groups() {
            let _ = v.push(g.start, GFP_KERNEL);
        }
        v
    }

    #[test]
    fn groups_follow_one_another() -> Result {
        let mut l = Layout::new(16);
        l.push(1, false)?;
        l.push(2, false)?;
        l.push(1, true)?;
        l.push(3, true)?;
        assert_eq!(&starts(&l)[..], &[0, 1, 3, 4]);
        assert_eq!(l.n_out(), 2);
        assert_eq!(l.entries(), 7);
        Ok(())
    }

    #[test]
    fn an_empty_group_takes_no_slot() -> Result {
        let mut l = Layout::new(16);
        l.push(0, false)?;
        l.push(1, true)?;
        l.push(0, true)?;
        assert_eq!(&starts(&l)[..], &[0]);
        assert_eq!(l.n_out(), 0);
        Ok(())
    }

    #[test]
    fn a_device_readable_group_after_a_writable_one_is_refused() -> Result {
        let mut l = Layout::new(16);
        l.push(1, true)?;
        assert_eq!(l.push(1, false), Err(EINVAL));
        assert_eq!(l.groups().len(), 1);
        Ok(())
    }

    #[test]
    fn at_most_four_groups() -> Result {
        let mut l = Layout::new(16);
        for _ in 0..4 {
            l.push(1, true)?;
        }
        assert_eq!(l.push(1, true), Err(EINVAL));
        assert_eq!(l.entries(), 4);
        Ok(())
    }

    #[test]
    fn no_group_past_the_limit() -> Result {
        let mut l = Layout::new(4);
        l.push(3, false)?;
        assert_eq!(l.push(2, true), Err(EMSGSIZE));
        l.push(1, true)?;
        assert_eq!(l.entries(), 4);
        assert_eq!(Layout::new(4).push(usize::MAX, true), Err(EMSGSIZE));
        Ok(())
    }

    /// A zero-copy read as the transport lays it out: the request out, the reply header and
    /// the payload in.
    #[test]
    fn a_zero_copy_read_uses_one_entry_per_buffer_and_per_run() -> Result {
        let mut tc = KVec::from_elem(0u8, 23, GFP_KERNEL)?;
        let mut rc = KVec::from_elem(0u8, 11, GFP_KERNEL)?;
        // SAFETY: Both are kmalloc'ed and outlive the packing.
        let (tc_buf, rc_buf) = unsafe {
            (
                LinearBuf::from_raw(tc.as_mut_ptr(), tc.len()),
                LinearBuf::from_raw(rc.as_mut_ptr(), rc.len()),
            )
        };
        let pages = TestPages::alloc(1)?;
        let mut payload = PayloadPages::new();
        // Page 1 then page 0: not physically in order, so two entries.
        // SAFETY: `payload` is released before `pages` goes.
        unsafe { pages.map(&[(1, 0, PAGE), (0, 0, PAGE)], true, 8, &mut payload) }?;
        let mut sg = SgArray::new(crate::sg::EntryLimit::NONE)?;
        let mut l = Layout::new(4);
        l.linear(&mut sg, tc_buf, false)?;
        l.linear(&mut sg, rc_buf, true)?;
        l.payload(&mut sg, &payload, true)?;
        assert_eq!(&starts(&l)[..], &[0, 1, 2]);
        assert_eq!((l.n_out(), l.entries()), (1, 4));
        // One entry fewer does not fit, and says so.
        let mut l = Layout::new(3);
        l.linear(&mut sg, tc_buf, false)?;
        l.linear(&mut sg, rc_buf, true)?;
        assert_eq!(l.payload(&mut sg, &payload, true), Err(EMSGSIZE));
        payload.release();
        Ok(())
    }
}
