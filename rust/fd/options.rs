// SPDX-License-Identifier: GPL-2.0

//! What a mount asks its connection to be: which transport ([`Kind`]), the mount's source and the
//! options v9fs parsed ([`MountOpts`]: `port=`, `privport`, `rfdno=`, `wfdno=`), read as
//! mainline's trans_fd reads them, and for trans=vsock (no mainline counterpart) the source as
//! the peer's CID. Pure logic (no I/O, no log lines, no C types: `transport.rs` converts the C
//! side's options into a [`MountOpts`] and makes the endpoints from the result).

use crate::common::errno::enoprotoopt;
use kernel::{prelude::*, str::CStr};

/// Which transport a connection serves.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Tcp,
    Unix,
    Fd,
    Vsock,
}

impl Kind {
    /// The transport's name, as mounts give it (`trans=`).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Tcp => "tcp",
            Kind::Unix => "unix",
            Kind::Fd => "fd",
            Kind::Vsock => "vsock",
        }
    }
}

/// The mount options the fd transports read, as v9fs parsed them.
#[derive(Clone, Copy)]
pub(crate) struct MountOpts {
    /// `port=`: the server's port (tcp, vsock).
    pub(crate) port: u16,
    /// `privport`: tcp's socket binds a reserved port of its own first.
    pub(crate) privport: bool,
    /// `rfdno=`: trans=fd's descriptor to read from, if the mount gave one.
    pub(crate) rfd: Option<i32>,
    /// `wfdno=`: trans=fd's descriptor to write to, if the mount gave one.
    pub(crate) wfd: Option<i32>,
}

/// The endpoint a mount connects to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target<'a> {
    /// trans=tcp: the source is the server's IPv4 or IPv6 address.
    Tcp {
        addr: &'a CStr,
        port: u16,
        privport: bool,
    },
    /// trans=unix: the source is the socket's path.
    Unix { path: &'a CStr },
    /// trans=fd: the task's descriptors to read from and write to.
    Fd { rfd: i32, wfd: i32 },
    /// trans=vsock: the source is the peer's context id (2: the host, 1: this machine).
    Vsock { cid: u32, port: u16 },
}

/// `VMADDR_CID_ANY`: a wildcard for binding, never a peer.
const CID_ANY: u32 = u32::MAX;

/// A vsock context id written in decimal, as `socat` and `/dev/vsock` users write them: `EINVAL`
/// for anything else (empty, signs, other characters, above `u32::MAX`) and for `VMADDR_CID_ANY`.
pub(crate) fn parse_cid(source: &CStr) -> Result<u32> {
    let digits = source.to_bytes();
    if digits.is_empty() || digits.len() > 10 {
        return Err(EINVAL);
    }
    let mut cid: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return Err(EINVAL);
        }
        cid = cid * 10 + u64::from(d - b'0');
    }
    match u32::try_from(cid) {
        Ok(cid) if cid != CID_ANY => Ok(cid),
        _ => Err(EINVAL),
    }
}

/// The endpoint `kind` connects to for `source` and `opts`: `EINVAL` for a tcp mount without an
/// address or a unix mount without a path, `ENOPROTOOPT` for trans=fd without both descriptors
/// (mainline's errors); `EINVAL` for a vsock mount whose source is not a CID ([`parse_cid`]).
pub(crate) fn target<'a>(
    kind: Kind,
    source: Option<&'a CStr>,
    opts: &MountOpts,
) -> Result<Target<'a>> {
    match kind {
        Kind::Tcp => {
            let addr = source.ok_or(EINVAL)?;
            Ok(Target::Tcp {
                addr,
                port: opts.port,
                privport: opts.privport,
            })
        }
        Kind::Unix => {
            let path = source.filter(|p| !p.is_empty()).ok_or(EINVAL)?;
            Ok(Target::Unix { path })
        }
        Kind::Fd => match (opts.rfd, opts.wfd) {
            (Some(rfd), Some(wfd)) => Ok(Target::Fd { rfd, wfd }),
            _ => Err(enoprotoopt()),
        },
        Kind::Vsock => {
            let cid = parse_cid(source.ok_or(EINVAL)?)?;
            Ok(Target::Vsock {
                cid,
                port: opts.port,
            })
        }
    }
}

#[kernel::macros::kunit_tests(zc9p_fd_options)]
mod tests {
    use super::*;

    /// No `rfdno=` or `wfdno=`.
    const NO_FD: Option<i32> = None;

    fn opts(rfd: Option<i32>, wfd: Option<i32>, port: u16, privport: bool) -> MountOpts {
        MountOpts {
            port,
            privport,
            rfd,
            wfd,
        }
    }

    #[test]
    fn tcp_takes_the_address_and_port() {
        let got = target(
            Kind::Tcp,
            Some(c"10.0.2.2"),
            &opts(NO_FD, NO_FD, 5640, true),
        );
        assert_eq!(
            got,
            Ok(Target::Tcp {
                addr: c"10.0.2.2",
                port: 5640,
                privport: true
            })
        );
    }

    #[test]
    fn tcp_without_an_address_is_einval() {
        assert_eq!(
            target(Kind::Tcp, None, &opts(NO_FD, NO_FD, 564, false)),
            Err(EINVAL)
        );
    }

    #[test]
    fn unix_needs_a_nonempty_path() {
        let o = opts(NO_FD, NO_FD, 564, false);
        assert_eq!(
            target(Kind::Unix, Some(c"/run/9p.sock"), &o),
            Ok(Target::Unix {
                path: c"/run/9p.sock"
            })
        );
        assert_eq!(target(Kind::Unix, Some(c""), &o), Err(EINVAL));
        assert_eq!(target(Kind::Unix, None, &o), Err(EINVAL));
    }

    #[test]
    fn vsock_takes_the_cid_and_port() {
        let o = opts(NO_FD, NO_FD, 5640, false);
        assert_eq!(
            target(Kind::Vsock, Some(c"2"), &o),
            Ok(Target::Vsock { cid: 2, port: 5640 })
        );
        assert_eq!(
            target(Kind::Vsock, Some(c"1"), &o),
            Ok(Target::Vsock { cid: 1, port: 5640 })
        );
        assert_eq!(target(Kind::Vsock, None, &o), Err(EINVAL));
    }

    #[test]
    fn cids_are_decimal_and_never_the_wildcard() {
        assert_eq!(parse_cid(c"0"), Ok(0));
        assert_eq!(parse_cid(c"3"), Ok(3));
        assert_eq!(parse_cid(c"4294967294"), Ok(u32::MAX - 1));
        for bad in [
            c"",
            c"4294967295",
            c"4294967296",
            c"99999999999",
            c"-1",
            c"+2",
            c"0x2",
            c"2 ",
            c"host",
        ] {
            assert_eq!(parse_cid(bad), Err(EINVAL));
        }
    }

    #[test]
    fn fd_needs_both_descriptors() {
        let enoprotoopt = enoprotoopt();
        assert_eq!(
            target(Kind::Fd, None, &opts(Some(3), Some(4), 564, false)),
            Ok(Target::Fd { rfd: 3, wfd: 4 })
        );
        // The source is ignored (mount(8) needs one; any will do).
        assert_eq!(
            target(Kind::Fd, Some(c"x"), &opts(Some(0), Some(0), 564, false)),
            Ok(Target::Fd { rfd: 0, wfd: 0 })
        );
        assert_eq!(
            target(Kind::Fd, None, &opts(NO_FD, Some(4), 564, false)),
            Err(enoprotoopt)
        );
        assert_eq!(
            target(Kind::Fd, None, &opts(Some(3), NO_FD, 564, false)),
            Err(enoprotoopt)
        );
        assert_eq!(
            target(Kind::Fd, None, &opts(NO_FD, NO_FD, 564, false)),
            Err(enoprotoopt)
        );
    }
}
