// SPDX-License-Identifier: GPL-2.0

//! What a mount asks its connection to be: the mount's source and the options v9fs parsed
//! (`port=`, `privport`, `rfdno=`, `wfdno=`), read as mainline's trans_fd reads them. Pure logic
//! (no I/O, no log lines): `transport.rs` makes the endpoints from the result.

use crate::{bindings as zb, conn::Kind};
use kernel::{bindings, prelude::*, str::CStr};

/// `rfdno`/`wfdno` when the mount does not give them (v9fs's default, `~0`).
const NO_FD: i32 = !0;

/// The endpoint a mount connects to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target<'a> {
    /// trans=tcp: the source is the server's IPv4 or IPv6 address.
    Tcp { addr: &'a CStr, port: u16, privport: bool },
    /// trans=unix: the source is the socket's path.
    Unix { path: &'a CStr },
    /// trans=fd: the task's descriptors to read from and write to.
    Fd { rfd: i32, wfd: i32 },
}

/// The endpoint `kind` connects to for `source` and `opts`: `EINVAL` for a tcp mount without an
/// address or a unix mount without a path, `ENOPROTOOPT` for trans=fd without both descriptors
/// (mainline's errors).
pub(crate) fn target<'a>(kind: Kind, source: Option<&'a CStr>, opts: &zb::zc9p_fd_opts) -> Result<Target<'a>> {
    match kind {
        Kind::Tcp => {
            let addr = source.ok_or(EINVAL)?;
            Ok(Target::Tcp { addr, port: opts.port, privport: opts.privport })
        }
        Kind::Unix => {
            let path = source.filter(|p| !p.is_empty()).ok_or(EINVAL)?;
            Ok(Target::Unix { path })
        }
        Kind::Fd => {
            if opts.rfd == NO_FD || opts.wfd == NO_FD {
                return Err(Error::from_errno(-(bindings::ENOPROTOOPT as i32)));
            }
            Ok(Target::Fd { rfd: opts.rfd, wfd: opts.wfd })
        }
    }
}

#[kernel::macros::kunit_tests(zc9p_fd_options)]
mod tests {
    use super::*;

    fn opts(rfd: i32, wfd: i32, port: u16, privport: bool) -> zb::zc9p_fd_opts {
        zb::zc9p_fd_opts { rfd, wfd, port, privport }
    }

    #[test]
    fn tcp_takes_the_address_and_port() {
        let got = target(Kind::Tcp, Some(c"10.0.2.2"), &opts(NO_FD, NO_FD, 5640, true));
        assert_eq!(got, Ok(Target::Tcp { addr: c"10.0.2.2", port: 5640, privport: true }));
    }

    #[test]
    fn tcp_without_an_address_is_einval() {
        assert_eq!(target(Kind::Tcp, None, &opts(NO_FD, NO_FD, 564, false)), Err(EINVAL));
    }

    #[test]
    fn unix_needs_a_nonempty_path() {
        let o = opts(NO_FD, NO_FD, 564, false);
        assert_eq!(target(Kind::Unix, Some(c"/run/9p.sock"), &o), Ok(Target::Unix { path: c"/run/9p.sock" }));
        assert_eq!(target(Kind::Unix, Some(c""), &o), Err(EINVAL));
        assert_eq!(target(Kind::Unix, None, &o), Err(EINVAL));
    }

    #[test]
    fn fd_needs_both_descriptors() {
        let enoprotoopt = Error::from_errno(-(bindings::ENOPROTOOPT as i32));
        assert_eq!(target(Kind::Fd, None, &opts(3, 4, 564, false)), Ok(Target::Fd { rfd: 3, wfd: 4 }));
        // The source is ignored (mount(8) needs one; any will do).
        assert_eq!(target(Kind::Fd, Some(c"x"), &opts(0, 0, 564, false)), Ok(Target::Fd { rfd: 0, wfd: 0 }));
        assert_eq!(target(Kind::Fd, None, &opts(NO_FD, 4, 564, false)), Err(enoprotoopt));
        assert_eq!(target(Kind::Fd, None, &opts(3, NO_FD, 564, false)), Err(enoprotoopt));
        assert_eq!(target(Kind::Fd, None, &opts(NO_FD, NO_FD, 564, false)), Err(enoprotoopt));
    }
}
