// SPDX-License-Identifier: GPL-2.0

//! The msize of a mount that did not ask for one.
//!
//! v9fs gives every mount 9P's `DEFAULT_MSIZE` (128 KiB + 24) unless it says `msize=`, and the
//! 9P client only lowers that to the transport's `maxsize` after `create`, so most mounts would
//! run at 128 KiB messages whatever a transport can do. `create` sees the client before the
//! version handshake: there a transport may raise it to its module's `default_msize` parameter.
//! v9fs records no sign of whether the value came from the mount's options, so exactly
//! `DEFAULT_MSIZE` counts as "not asked" (an explicit `msize=131096` cannot be told apart: ask for
//! any other value, or set `default_msize=0`). The server still has the last word in Rversion.
//! Only with zero copy: on a copy path every large message goes through two msize-sized buffers,
//! whose cost grows with msize, so there 9P's default stays.

use super::p9::Client;
use crate::bindings as zb;

/// The smallest msize the 9P client accepts.
const MIN_MSIZE: u32 = 4096;

/// The msize a mount that asked for `asked` gets instead, if any: `param` (the module's
/// `default_msize`, 0 for "leave 9P's default"), no larger than the transport's `maxsize` nor
/// smaller than 9P's minimum, when `asked` is 9P's default and the result differs from it.
pub(crate) fn chosen(asked: u32, p9_default: u32, param: u32, maxsize: u32) -> Option<u32> {
    if asked != p9_default || param == 0 {
        return None;
    }
    let msize = param.min(maxsize).max(MIN_MSIZE);
    (msize != asked).then_some(msize)
}

/// Applies the module's `default_msize` to `client` in `create` (before `p9_client_version`),
/// with one log line naming the mount's `source`: returns the msize it set, if it set one.
pub(crate) fn apply_default(client: Client, source: &[u8]) -> Option<u32> {
    // SAFETY: FFI calls without preconditions.
    let (p9_default, param) =
        unsafe { (zb::zc9p_p9_default_msize(), zb::zc9p_param_default_msize()) };
    if !client.trans_has_zc() {
        return None;
    }
    let msize = chosen(
        client.msize() as u32,
        p9_default,
        param,
        client.trans_maxsize(),
    )?;
    // SAFETY: `create` runs before the version handshake, the only other writer of `msize`,
    // and before any request exists to read it concurrently.
    unsafe { client.set_msize(msize) };
    kernel::pr_info!(
        "{}: mount without msize=: msize {} (default_msize; 9P's default is {})\n",
        core::str::from_utf8(source).unwrap_or("?"),
        msize,
        p9_default
    );
    Some(msize)
}
