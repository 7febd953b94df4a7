// SPDX-License-Identifier: GPL-2.0

//! KUnit suites for the shared code (`rust/common/`). Every module compiles that code, but only
//! zc9p_virtio compiles this file, so each suite registers (and runs, at module load) once.

#[kernel::macros::kunit_tests(zc9p_pin_budget)]
mod pin_budget {
    use crate::common::trans_common::{default_limit, effective_limit, fit};

    #[test]
    fn default_is_a_quarter_of_free_pages_and_never_zero() {
        assert_eq!(default_limit(4000), 1000);
        assert_eq!(default_limit(7), 1);
        assert_eq!(default_limit(0), 1);
    }

    #[test]
    fn parameter_overrides_the_default_unless_zero() {
        assert_eq!(effective_limit(0, 1000), 1000);
        assert_eq!(effective_limit(8, 1000), 8);
        assert_eq!(effective_limit(0, 0), 1);
    }

    #[test]
    fn a_request_takes_what_it_asks_while_it_fits() {
        assert_eq!(fit(0, 5, 8), Some(5));
        assert_eq!(fit(3, 5, 8), Some(5));
        assert_eq!(fit(4, 5, 8), None);
        assert_eq!(fit(8, 1, 8), None);
    }

    #[test]
    fn a_request_over_the_budget_is_cut_to_it() {
        // 64 pages asked of an 8-page budget: 8 when the budget is free, else wait.
        assert_eq!(fit(0, 64, 8), Some(8));
        assert_eq!(fit(1, 64, 8), None);
    }

    #[test]
    fn an_empty_request_still_takes_one_page() {
        assert_eq!(fit(0, 0, 8), Some(1));
        assert_eq!(fit(8, 0, 8), None);
    }

    #[test]
    fn no_overflow_or_panic_at_the_extremes() {
        assert_eq!(fit(usize::MAX, 1, usize::MAX), None);
        assert_eq!(fit(1, usize::MAX, usize::MAX), None);
        assert_eq!(fit(0, usize::MAX, usize::MAX), Some(usize::MAX));
        // A zero limit (never in force: see `effective_limit`) takes nothing and does not panic.
        assert_eq!(fit(0, 1, 0), None);
    }
}

#[kernel::macros::kunit_tests(zc9p_rerror_copy_back)]
mod rerror_copy_back {
    use crate::common::zc_payload::copy_back_len;

    /// The reply header before a read's payload (size, type, tag, count).
    const HDR: usize = 11;

    #[test]
    fn the_string_after_the_header_comes_back() {
        // An Rerror of 60 bytes: 49 of them landed in the pages.
        assert_eq!(copy_back_len(60, HDR, 4096), 49);
    }

    #[test]
    fn nothing_when_the_reply_fits_the_header() {
        assert_eq!(copy_back_len(HDR, HDR, 4096), 0);
        assert_eq!(copy_back_len(7, HDR, 4096), 0);
    }

    #[test]
    fn bounded_by_the_zero_copy_header_room() {
        // A hostile size: at most P9_ZC_HDR_SZ (4096) bytes of reply are parsed.
        assert_eq!(copy_back_len(1 << 20, HDR, 1 << 20), 4096 - HDR);
        assert_eq!(copy_back_len(usize::MAX, HDR, usize::MAX), 4096 - HDR);
    }

    #[test]
    fn bounded_by_the_reply_buffer() {
        assert_eq!(copy_back_len(4096, HDR, 100), 100);
        assert_eq!(copy_back_len(4096, HDR, 0), 0);
    }

    #[test]
    fn a_header_past_the_room_copies_nothing() {
        assert_eq!(copy_back_len(8192, 5000, 4096), 0);
    }
}

#[kernel::macros::kunit_tests(zc9p_payload_pages)]
mod payload_pages {
    use crate::common::{test_pages::TestPages, trans_common::PayloadPages};
    use kernel::prelude::*;

    const PAGE: usize = kernel::page::PAGE_SIZE;

    /// Runs over three pages: the end of the first, the whole second, the start of the third.
    const THREE_RUNS: [(usize, usize, usize); 3] = [(0, 100, PAGE - 100), (1, 0, PAGE), (2, 0, 50)];

    /// Segment `i` of `payload`, as (page, offset in it, length).
    fn segment(
        payload: &PayloadPages,
        i: usize,
    ) -> Option<(*mut kernel::bindings::page, usize, usize)> {
        payload
            .segments()
            .get(i)
            .map(|s| (s.page(), s.offset(), s.len()))
    }

    #[test]
    fn a_kernel_iterator_maps_page_by_page_charged_without_pins() -> Result {
        let pages = TestPages::alloc(2)?;
        let mut payload = PayloadPages::new();
        // SAFETY: `payload` is released below, before `pages` goes.
        let n = unsafe { pages.map(&THREE_RUNS, true, 16, &mut payload) }?;
        assert_eq!(n, 2 * PAGE - 50);
        assert_eq!(payload.segments().len(), 3);
        assert_eq!(segment(&payload, 0), Some((pages.page(0), 100, PAGE - 100)));
        assert_eq!(segment(&payload, 1), Some((pages.page(1), 0, PAGE)));
        assert_eq!(segment(&payload, 2), Some((pages.page(2), 0, 50)));
        // Kernel-backed pages are listed and charged to the budget, not pinned.
        assert_eq!(payload.pinned_pages(), 0);
        assert_eq!(payload.charged_pages(), 3);
        // Cut to its first page: the other two go back to the budget.
        payload.truncate(PAGE - 100);
        assert_eq!(payload.charged_pages(), 1);
        payload.release();
        assert_eq!(payload.len(), 0);
        assert_eq!(payload.charged_pages(), 0);
        Ok(())
    }

    #[test]
    fn the_page_limit_shortens_the_payload() -> Result {
        let pages = TestPages::alloc(2)?;
        let mut payload = PayloadPages::new();
        // SAFETY: As above.
        let n = unsafe {
            pages.map(
                &[(0, 0, PAGE), (1, 0, PAGE), (2, 0, PAGE)],
                false,
                2,
                &mut payload,
            )
        }?;
        assert_eq!(n, 2 * PAGE);
        assert_eq!(payload.segments().len(), 2);
        payload.release();
        Ok(())
    }

    #[test]
    fn a_truncated_payload_keeps_its_first_bytes() -> Result {
        let pages = TestPages::alloc(2)?;
        let mut payload = PayloadPages::new();
        // SAFETY: `payload` is released below, before `pages` goes.
        unsafe { pages.map(&THREE_RUNS, true, 16, &mut payload) }?;
        // Longer than the payload: nothing changes.
        payload.truncate(4 * PAGE);
        assert_eq!(
            (payload.len(), payload.segments().len()),
            (2 * PAGE - 50, 3)
        );
        // Into the second segment: the first whole, 100 bytes of the second.
        payload.truncate(PAGE);
        assert_eq!(payload.len(), PAGE);
        assert_eq!(payload.segments().len(), 2);
        assert_eq!(segment(&payload, 1), Some((pages.page(1), 0, 100)));
        // At a segment's end: that segment is the last.
        payload.truncate(PAGE - 100);
        assert_eq!((payload.len(), payload.segments().len()), (PAGE - 100, 1));
        payload.release();
        Ok(())
    }

    #[test]
    fn a_full_payload_refuses_a_second_mapping() -> Result {
        let pages = TestPages::alloc(0)?;
        let mut payload = PayloadPages::new();
        // SAFETY: As above.
        unsafe { pages.map(&[(0, 0, 10)], true, 4, &mut payload) }?;
        // SAFETY: As above.
        let second = unsafe { pages.map(&[(0, 0, 10)], true, 4, &mut payload) };
        assert_eq!(second, Err(EINVAL));
        payload.release();
        Ok(())
    }

    #[test]
    fn bytes_read_and_written_across_segments_stay_in_bounds() -> Result {
        let pages = TestPages::alloc(1)?;
        let mut payload = PayloadPages::new();
        // SAFETY: As above.
        unsafe { pages.map(&[(0, PAGE - 3, 3), (1, 0, 5)], true, 4, &mut payload) }?;
        let src = [1u8, 2, 3, 4, 5, 6, 7, 8];
        assert_eq!(payload.write_at(0, &src), 8);
        let mut dst = [0u8; 10];
        // From byte 2: one byte of the first page, five of the second; nothing past the end.
        assert_eq!(payload.read_at(2, &mut dst), 6);
        assert_eq!(&dst[..6], &src[2..]);
        assert_eq!(payload.read_at(8, &mut dst), 0);
        assert_eq!(payload.write_at(7, &src), 1);
        payload.release();
        Ok(())
    }
}

#[kernel::macros::kunit_tests(zc9p_default_msize)]
mod default_msize {
    use crate::common::msize::chosen;

    const DFLT: u32 = 131096;

    #[test]
    fn only_a_mount_at_9ps_default_is_raised() {
        assert_eq!(chosen(DFLT, DFLT, 1048600, 4182040), Some(1048600));
        assert_eq!(chosen(262144, DFLT, 1048600, 4182040), None);
        assert_eq!(chosen(8192, DFLT, 1048600, 4182040), None);
    }

    #[test]
    fn zero_keeps_9ps_default() {
        assert_eq!(chosen(DFLT, DFLT, 0, 4182040), None);
    }

    #[test]
    fn the_transport_maximum_and_9ps_minimum_bound_it() {
        assert_eq!(chosen(DFLT, DFLT, 8 << 20, 1048576), Some(1048576));
        assert_eq!(chosen(DFLT, DFLT, 100, 4182040), Some(4096));
        assert_eq!(chosen(DFLT, DFLT, DFLT, 4182040), None);
    }
}
