// SPDX-License-Identifier: GPL-2.0

//! What every zc9p transport shares, compiled into each module from this one source.
//!
//! An item that a module does not use says so, `#[cfg_attr(zc9p_fd, expect(dead_code, ...))]`
//! (each module's Kbuild passes `--cfg` with its name: `zc9p_virtio`, `zc9p_fd`,
//! `zc9p_pintest`), so what no module uses shows as dead code, and so does an expectation
//! that no longer holds.
//!
//! Below it sit the module's bindings (`crate::bindings`: the 9P headers and the C shims, generated
//! per module); above it the transports. Nothing here imports a transport.
//!
//! - [`bindgen`]: the module's generated bindings, declared alike in every module;
//! - wrappers over the C side: [`irqsave`] (irqsave spinlock), [`wait`] (killable and timed
//!   waits), [`iov`] (extracting an `iov_iter`'s pages, its direction its type), [`p9`] (the 9P
//!   client, its requests and the transport's references to them);
//! - [`callbacks`]: what the transports' C-callable entry points share (`ZcCall`: one
//!   `zc_request` call's arguments, wrapped);
//! - [`segments`]: a payload's list of page runs, and the pool its long lists come from;
//! - [`trans_common`]: payload pages, pinning against the module-wide pin budget, release;
//! - [`zc_payload`]: the transport-independent half of `zc_request` (mapping the payload,
//!   patching the count and size fields, the legacy Rerror copy-back, byte counters);
//! - [`counters`]: counters, and [`debugfs`]: the module's debugfs directory and `stats` files;
//! - [`msize`]: the msize of a mount that did not ask for one (`default_msize`);
//! - [`compat`]: what differs between the kernel series zc9p builds against, in one place;
//! - `test_pages` (with `CONFIG_KUNIT`): real pages and payloads for the KUnit tests, whose
//!   suites for this code are in `unit_tests.rs` (built into zc9p_virtio only, so each suite
//!   registers once).

pub(crate) mod bindgen;
pub(crate) mod callbacks;
pub(crate) mod compat;
pub(crate) mod counters;
pub(crate) mod debugfs;
pub(crate) mod errno;
pub(crate) mod iov;
#[cfg_attr(
    zc9p_fd,
    expect(
        dead_code,
        unused_imports,
        unused_macros,
        reason = "zc9p_virtio's only"
    )
)]
pub(crate) mod irqsave;
pub(crate) mod msize;
pub(crate) mod p9;
pub(crate) mod segments;
#[cfg(CONFIG_KUNIT = "y")]
#[cfg_attr(
    zc9p_fd,
    expect(dead_code, reason = "for zc9p_virtio's KUnit suites (unit_tests.rs)")
)]
pub(crate) mod test_pages;
pub(crate) mod trans_common;
pub(crate) mod wait;
pub(crate) mod zc_payload;

/// Borrows the value behind `data`, a pointer from `T::into_foreign` kept by the C side (a
/// client's `trans`, a device's `priv`), or `None` for null.
///
/// # Safety
///
/// `data` is null or came from `T::into_foreign`, and is not taken back (`T::from_foreign`)
/// before the borrow ends.
#[cfg_attr(zc9p_pintest, expect(dead_code, reason = "the transports' only"))]
pub(crate) unsafe fn borrow_foreign<'a, T: kernel::types::ForeignOwnable>(
    data: *mut kernel::ffi::c_void,
) -> Option<T::Borrowed<'a>> {
    if data.is_null() {
        return None;
    }
    // SAFETY: The caller's contract.
    Some(unsafe { T::borrow(data) })
}

/// One second, in jiffies, for the timed waits.
pub(crate) fn second() -> kernel::ffi::c_long {
    kernel::time::msecs_to_jiffies(1000) as kernel::ffi::c_long
}
