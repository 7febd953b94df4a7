// SPDX-License-Identifier: GPL-2.0

//! zc9p_pintest: drives `trans_common`'s pinning path with user-backed iterators.
//!
//! No 7.2 v9fs caller hands a transport a user iterator, so this misc device does: its
//! `read_iter`/`write_iter` pass the caller's iterator to [`PayloadPages`] exactly as a
//! transport would, then play the device: a read fills the pinned pages with a deterministic
//! stream (byte `i` of the file is `stream_byte(DEVICE_SEED, i)`, the generator of
//! `tests/guest/stream.h`), a write checks them against it (`EBADMSG` on a mismatch).
//! `hold_ms` makes the fake device keep each chunk's pages pinned for a while, so tests can
//! fork, fill the pin budget or kill a waiter meanwhile. Built from the same `trans_common`
//! source as the transport.

// The transports' shared sources (rust/common/); this module uses part of them, and what it
// does not use expects dead_code under `cfg(zc9p_pintest)` (rust/common/mod.rs).
#[path = "../../rust/common"]
mod common {
    pub(crate) mod bindgen;
    pub(crate) mod iov;
    pub(crate) mod segments;
    pub(crate) mod trans_common;
    pub(crate) mod wait;
}
common::bindgen::module_bindings! {
    /// Module-local bindings of the trans_common test module (see `Kbuild`).
    mod bindings {
        include!("bindings_generated.rs");
    }
}

use common::{iov::PayloadIter, trans_common};
use kernel::{
    bindings as kb,
    debugfs::{Dir, File as DebugfsFile},
    fs::{File, Kiocb},
    iov::{IovIterDest, IovIterSource},
    miscdevice::{MiscDevice, MiscDeviceOptions, MiscDeviceRegistration},
    prelude::*,
    time::{delay::fsleep, Delta},
};
use trans_common::{PayloadPages, PinBudget};

module! {
    type: PinTest,
    name: "zc9p_pintest",
    authors: ["zc9p developers"],
    description: "Test device for zc9p's trans_common user-page pinning",
    license: "GPL",
}

/// Seed of the stream the fake device produces and expects.
const DEVICE_SEED: u64 = 7;
/// Pages handed to the fake device at once.
const CHUNK_PAGES: usize = 64;

fn stream_byte(seed: u64, pos: u64) -> u8 {
    let mut z = seed
        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
        .wrapping_add(pos >> 3)
        .wrapping_add(1);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> ((pos & 7) * 8)) as u8
}

/// The module: the misc device and the debugfs file `zc9p_pintest/pins` (the shared pin
/// counters, printed by the same code as the transport's).
#[pin_data]
struct PinTest {
    #[pin]
    _miscdev: MiscDeviceRegistration<PinTestDevice>,
    _pins: Pin<KBox<DebugfsFile<()>>>,
    _debugfs: Dir,
    // Last: dropped after the device, when no payload is left.
    _pool: SegmentPool,
}

/// Frees the segment-list pool's idle lists when the module goes.
struct SegmentPool;

impl Drop for SegmentPool {
    fn drop(&mut self) {
        common::segments::drain_pool();
    }
}

impl kernel::InPlaceModule for PinTest {
    fn init(_module: &'static ThisModule) -> impl PinInit<Self, Error> {
        PinBudget::init();
        let debugfs = Dir::new(c"zc9p_pintest");
        let pins = KBox::pin_init(
            debugfs.read_callback_file(c"pins", (), &|(): &(), f| PinBudget::write_counters(f)),
            GFP_KERNEL,
        );
        try_pin_init!(Self {
            _miscdev <- MiscDeviceRegistration::register(MiscDeviceOptions {
                name: c"zc9p_pintest",
            }),
            _pins: pins?,
            _debugfs: debugfs,
            _pool: SegmentPool,
        })
    }
}

struct PinTestDevice;

/// Moves up to the iterator's length between it and the fake device (which writes into a
/// destination, and reads a source), chunk by chunk, starting at file position `pos`. Returns
/// the bytes moved; an error only if none were.
fn transfer<I: PayloadIter>(it: &mut I, pos: u64) -> Result<usize> {
    let total = it.count();
    let mut done = 0;
    let mut buf = [0u8; 256];
    while done < total {
        let mut pages = PayloadPages::new();
        match pages.extract(it, total - done, CHUNK_PAGES) {
            Ok(()) => {}
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        }
        if pages.len() == 0 {
            break;
        }
        // SAFETY: FFI call without preconditions.
        let hold = unsafe { bindings::zc9p_pintest_hold_ms() };
        if hold > 0 {
            fsleep(Delta::from_millis(i64::from(hold)));
        }
        let mut off = 0;
        while off < pages.len() {
            let n = buf.len().min(pages.len() - off);
            let at = pos + (done + off) as u64;
            if I::DEVICE_WRITES {
                for (i, b) in buf[..n].iter_mut().enumerate() {
                    *b = stream_byte(DEVICE_SEED, at + i as u64);
                }
                pages.write_at(off, &buf[..n]);
            } else {
                pages.read_at(off, &mut buf[..n]);
                if buf[..n]
                    .iter()
                    .enumerate()
                    .any(|(i, &b)| b != stream_byte(DEVICE_SEED, at + i as u64))
                {
                    return if done == 0 {
                        Err(Error::from_errno(-(kb::EBADMSG as i32)))
                    } else {
                        Ok(done)
                    };
                }
            }
            off += n;
        }
        done += pages.len();
    }
    Ok(done)
}

fn position(kiocb: &Kiocb<'_, KBox<PinTestDevice>>) -> Result<u64> {
    u64::try_from(kiocb.ki_pos()).map_err(|_| EINVAL)
}

#[vtable]
impl MiscDevice for PinTestDevice {
    type Ptr = KBox<Self>;

    fn open(_file: &File, _misc: &MiscDeviceRegistration<Self>) -> Result<KBox<Self>> {
        Ok(KBox::new(PinTestDevice, GFP_KERNEL)?)
    }

    fn read_iter(mut kiocb: Kiocb<'_, Self::Ptr>, iov: &mut IovIterDest<'_>) -> Result<usize> {
        let pos = position(&kiocb)?;
        let done = transfer(iov, pos)?;
        *kiocb.ki_pos_mut() += done as i64;
        Ok(done)
    }

    fn write_iter(mut kiocb: Kiocb<'_, Self::Ptr>, iov: &mut IovIterSource<'_>) -> Result<usize> {
        let pos = position(&kiocb)?;
        let done = transfer(iov, pos)?;
        *kiocb.ki_pos_mut() += done as i64;
        Ok(done)
    }
}
