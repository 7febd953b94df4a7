// SPDX-License-Identifier: GPL-2.0

//! The errnos zc9p returns that the kernel crate has no constant for.
//!
//! C header: [`include/uapi/asm-generic/errno.h`](srctree/include/uapi/asm-generic/errno.h)
//!
//! `kernel::error::code` names the common errnos (`EINVAL`, `EIO`, `ERESTARTSYS`, …) as
//! constants; any other is made here, once, from the header's number, and a new one gets a
//! function here rather than an `Error::from_errno` at the place that returns it.

use kernel::{bindings, error::Error};

/// The error for the positive errno `errno` of the kernel's headers (`bindings::E…`).
fn from_header(errno: u32) -> Error {
    Error::from_errno(-(errno as i32))
}

/// `ECONNRESET`: the connection was reset or closed.
#[cfg_attr(zc9p_virtio, expect(dead_code, reason = "zc9p_fd's only"))]
pub(crate) fn econnreset() -> Error {
    from_header(bindings::ECONNRESET)
}

/// `ENOPROTOOPT`: the protocol option is not available (trans=fd's answer to a mount without
/// both descriptors, as mainline's).
#[cfg_attr(zc9p_virtio, expect(dead_code, reason = "zc9p_fd's only"))]
pub(crate) fn enoprotoopt() -> Error {
    from_header(bindings::ENOPROTOOPT)
}
