// SPDX-License-Identifier: GPL-2.0

//! What a reply frame from the server may be: the checks the reader makes before it writes a
//! byte of a frame anywhere. Pure logic, no I/O.
//!
//! A frame is `size[4] type[1] tag[2]` followed by `size - 7` bytes. The reader reads those 7
//! bytes into its own buffer, finds the request by tag and asks [`check`] where the rest may go:
//! all of it into the request's reply buffer, or (a zero-copy read's Rread) its 4-byte count into
//! the reply buffer and the data straight into the request's payload pages.

use crate::common::errno::econnreset;
use core::fmt;

/// Bytes of `size[4] type[1] tag[2]`.
pub(crate) const HEADER_LEN: usize = 7;
/// An Rread or Rreaddir header: `size[4] type[1] tag[2] count[4]`.
pub(crate) const COUNT_HEADER_LEN: usize = 11;

/// 9P message types the reader needs by name.
pub(crate) const RLERROR: u8 = 7;
pub(crate) const RERROR: u8 = 107;
pub(crate) const TFLUSH: u8 = 108;
pub(crate) const RFLUSH: u8 = 109;

/// A frame's fixed header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) size: u32,
    pub(crate) ty: u8,
    pub(crate) tag: u16,
}

impl Header {
    /// Decodes the first [`HEADER_LEN`] bytes of a frame.
    pub(crate) fn parse(b: &[u8; HEADER_LEN]) -> Self {
        Self {
            size: u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            ty: b[4],
            tag: u16::from_le_bytes([b[5], b[6]]),
        }
    }
}

/// What the request the frame answers can take.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Expect {
    /// The type of a successful reply: the request's type + 1.
    pub(crate) reply: u8,
    /// The error reply of the protocol in use (Rlerror for 9P2000.L, Rerror otherwise).
    pub(crate) error: u8,
    /// Capacity of the request's reply buffer.
    pub(crate) rc_capacity: usize,
    /// A zero-copy read: the bytes of payload pages mapped for the data.
    pub(crate) payload: Option<usize>,
}

/// Where the body of a valid frame goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Plan {
    /// The whole frame into the reply buffer.
    Whole,
    /// The count into the reply buffer, then `size - 11` data bytes into the payload pages.
    Payload,
}

/// A frame the reader refuses; the connection fails with [`Violation::errno`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Violation {
    /// `size` < 7.
    TooShort(u32),
    /// `size` > msize.
    OverMsize { size: u32, msize: usize },
    /// No request in flight has the tag (never sent, already answered, or flushed).
    UnknownTag(u16),
    /// Not a byte of the request was sent yet: no server answers what it has not seen. (One
    /// whose frame is partly sent may be answered: a server can refuse a Twrite on its header.)
    EarlyReply(u16),
    /// The server answered a Tflush for the request: it may not answer the request now.
    AfterFlush(u16),
    /// Neither the request's reply nor an error.
    WrongType { tag: u16, got: u8, want: u8 },
    /// The frame does not fit where it would land.
    TooBig { tag: u16, size: u32, room: usize },
    /// An Rread whose count is not `size - 11`.
    BadCount { tag: u16, count: u32, size: u32 },
    /// The connection ended inside a frame.
    Truncated,
}

impl Violation {
    /// The errno the requests in flight fail with.
    pub(crate) fn errno(self) -> kernel::error::Error {
        match self {
            Violation::Truncated => econnreset(),
            _ => kernel::error::code::EIO,
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Violation::TooShort(size) => write!(f, "frame size {size} < 7"),
            Violation::OverMsize { size, msize } => write!(f, "frame size {size} > msize {msize}"),
            Violation::UnknownTag(tag) => write!(f, "reply to tag {tag}, which is not in flight"),
            Violation::EarlyReply(tag) => write!(f, "reply to tag {tag} before it was sent"),
            Violation::AfterFlush(tag) => write!(f, "reply to tag {tag} after its Rflush"),
            Violation::WrongType { tag, got, want } => {
                write!(f, "reply type {got} to tag {tag}, which expects {want}")
            }
            Violation::TooBig { tag, size, room } => {
                write!(
                    f,
                    "reply of {size} bytes to tag {tag}, which has room for {room}"
                )
            }
            Violation::BadCount { tag, count, size } => {
                write!(
                    f,
                    "Rread count {count} in a frame of {size} bytes (tag {tag})"
                )
            }
            Violation::Truncated => write!(f, "connection closed inside a frame"),
        }
    }
}

/// Checks a frame's size against the connection's msize, before its tag is looked up.
pub(crate) fn check_size(h: &Header, msize: usize) -> Result<(), Violation> {
    if (h.size as usize) < HEADER_LEN {
        return Err(Violation::TooShort(h.size));
    }
    if h.size as usize > msize {
        return Err(Violation::OverMsize {
            size: h.size,
            msize,
        });
    }
    Ok(())
}

/// Checks a frame against the request it answers and says where its body goes.
pub(crate) fn check(h: &Header, e: &Expect) -> Result<Plan, Violation> {
    let size = h.size as usize;
    if h.ty != e.reply && h.ty != e.error {
        return Err(Violation::WrongType {
            tag: h.tag,
            got: h.ty,
            want: e.reply,
        });
    }
    match e.payload {
        Some(mapped) if h.ty == e.reply => {
            let room = COUNT_HEADER_LEN.saturating_add(mapped);
            if size < COUNT_HEADER_LEN || size > room || e.rc_capacity < COUNT_HEADER_LEN {
                return Err(Violation::TooBig {
                    tag: h.tag,
                    size: h.size,
                    room,
                });
            }
            Ok(Plan::Payload)
        }
        _ => {
            if size > e.rc_capacity {
                return Err(Violation::TooBig {
                    tag: h.tag,
                    size: h.size,
                    room: e.rc_capacity,
                });
            }
            Ok(Plan::Whole)
        }
    }
}

/// Checks an Rread's count (the 4 bytes after the header) against its frame's size.
pub(crate) fn check_count(h: &Header, count: u32) -> Result<(), Violation> {
    if count as usize + COUNT_HEADER_LEN != h.size as usize {
        return Err(Violation::BadCount {
            tag: h.tag,
            count,
            size: h.size,
        });
    }
    Ok(())
}

#[kernel::macros::kunit_tests(zc9p_fd_frame)]
mod tests {
    use super::*;
    use kernel::error::code::EIO;

    /// An Rread's expectations: reply type 117, Rlerror, a reply buffer of `rc`, `mapped`
    /// payload bytes (a zero-copy read) or none.
    fn rread(rc: usize, mapped: Option<usize>) -> Expect {
        Expect {
            reply: 117,
            error: RLERROR,
            rc_capacity: rc,
            payload: mapped,
        }
    }

    fn header(size: u32, ty: u8, tag: u16) -> Header {
        Header { size, ty, tag }
    }

    #[test]
    fn header_is_little_endian() {
        let h = Header::parse(&[0x0b, 0x01, 0x00, 0x00, 117, 0x34, 0x12]);
        assert_eq!(h, header(267, 117, 0x1234));
    }

    #[test]
    fn size_below_header_or_over_msize_is_refused() {
        assert_eq!(
            check_size(&header(6, 117, 1), 8192),
            Err(Violation::TooShort(6))
        );
        assert_eq!(check_size(&header(7, 117, 1), 8192), Ok(()));
        assert_eq!(check_size(&header(8192, 117, 1), 8192), Ok(()));
        assert_eq!(
            check_size(&header(8193, 117, 1), 8192),
            Err(Violation::OverMsize {
                size: 8193,
                msize: 8192
            })
        );
        assert_eq!(
            check_size(&header(u32::MAX, 117, 1), 8192),
            Err(Violation::OverMsize {
                size: u32::MAX,
                msize: 8192
            })
        );
    }

    #[test]
    fn only_the_reply_or_the_error_type_is_accepted() {
        let e = rread(4096, None);
        assert_eq!(check(&header(20, 117, 3), &e), Ok(Plan::Whole));
        assert_eq!(check(&header(20, RLERROR, 3), &e), Ok(Plan::Whole));
        assert_eq!(
            check(&header(20, RERROR, 3), &e),
            Err(Violation::WrongType {
                tag: 3,
                got: RERROR,
                want: 117
            })
        );
        assert_eq!(
            check(&header(20, 116, 3), &e),
            Err(Violation::WrongType {
                tag: 3,
                got: 116,
                want: 117
            })
        );
    }

    #[test]
    fn copied_reply_must_fit_the_reply_buffer() {
        let e = rread(4096, None);
        assert_eq!(check(&header(4096, 117, 9), &e), Ok(Plan::Whole));
        assert_eq!(
            check(&header(4097, 117, 9), &e),
            Err(Violation::TooBig {
                tag: 9,
                size: 4097,
                room: 4096
            })
        );
    }

    #[test]
    fn zero_copy_read_goes_to_the_pages_within_what_was_mapped() {
        let e = rread(64, Some(8192));
        assert_eq!(check(&header(11, 117, 5), &e), Ok(Plan::Payload));
        assert_eq!(check(&header(11 + 8192, 117, 5), &e), Ok(Plan::Payload));
        assert_eq!(
            check(&header(11 + 8193, 117, 5), &e),
            Err(Violation::TooBig {
                tag: 5,
                size: 11 + 8193,
                room: 11 + 8192
            })
        );
        // An Rread shorter than its count header cannot be split there.
        assert_eq!(
            check(&header(10, 117, 5), &e),
            Err(Violation::TooBig {
                tag: 5,
                size: 10,
                room: 11 + 8192
            })
        );
        // A reply buffer without room for the count header takes no split frame.
        assert!(check(&header(20, 117, 5), &rread(10, Some(8192))).is_err());
        // No overflow for the largest mapping.
        assert_eq!(
            check(&header(u32::MAX, 117, 5), &rread(64, Some(usize::MAX))),
            Ok(Plan::Payload)
        );
    }

    #[test]
    fn error_to_a_zero_copy_read_goes_to_the_reply_buffer() {
        let e = rread(64, Some(8192));
        assert_eq!(check(&header(64, RLERROR, 5), &e), Ok(Plan::Whole));
        assert_eq!(
            check(&header(65, RLERROR, 5), &e),
            Err(Violation::TooBig {
                tag: 5,
                size: 65,
                room: 64
            })
        );
    }

    #[test]
    fn rread_count_must_match_the_frame() {
        let h = header(11 + 100, 117, 2);
        assert_eq!(check_count(&h, 100), Ok(()));
        assert_eq!(
            check_count(&h, 99),
            Err(Violation::BadCount {
                tag: 2,
                count: 99,
                size: 111
            })
        );
        assert_eq!(
            check_count(&h, 101),
            Err(Violation::BadCount {
                tag: 2,
                count: 101,
                size: 111
            })
        );
        assert!(check_count(&h, u32::MAX).is_err());
    }

    #[test]
    fn truncation_is_a_reset_and_the_rest_eio() {
        assert_eq!(Violation::Truncated.errno(), econnreset());
        assert_eq!(Violation::TooShort(0).errno(), EIO);
        assert_eq!(Violation::UnknownTag(1).errno(), EIO);
    }
}
