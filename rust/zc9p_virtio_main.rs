// SPDX-License-Identifier: GPL-2.0

//! zc9p: a 9P transport over virtio, written in Rust.
//!
//! Registers the `virtio` 9P transport (so `mount -t 9p -o trans=virtio TAG /mnt` uses it) and a
//! virtio driver for 9P devices. See `Documentation/` in the zc9p tree.

mod bindings;
mod channel;
mod iov;
mod irqsave;
mod p9;
mod sg;
mod stats;
mod trans_common;
mod transport;
mod virtio;
mod wait;
mod zc;

use kernel::prelude::*;

module! {
    type: Zc9pVirtio,
    name: "zc9p_virtio",
    authors: ["zc9p developers"],
    description: "Zero-copy 9P transport for virtio, in Rust",
    license: "GPL",
}

struct Zc9pVirtio;

impl kernel::Module for Zc9pVirtio {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        // SAFETY: Called once, before the driver or transport can use the channel list.
        unsafe { channel::CHANNELS.init() };
        // SAFETY: Called once, before anything uses the debugfs handles.
        unsafe { stats::DEBUGFS.init() };
        trans_common::PinBudget::init();
        transport::register(transport::zerocopy_param())?;
        Ok(Zc9pVirtio)
    }
}

impl Drop for Zc9pVirtio {
    fn drop(&mut self) {
        transport::unregister();
    }
}
