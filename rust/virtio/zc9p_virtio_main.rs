// SPDX-License-Identifier: GPL-2.0

//! zc9p_virtio: a zero-copy 9P transport over virtio, written in Rust.
//!
//! Registers the `virtio` 9P transport (so `mount -t 9p -o trans=virtio TAG /mnt` uses it) and a
//! virtio driver for 9P devices. See `Documentation/` in the zc9p tree.
//!
//! Layers, bottom up: [`bindings`] (the kernel's 9P and virtio headers and the C shims), the
//! shared [`common`] code (wrappers, `trans_common`, the transport-independent half of
//! `zc_request`), this transport's wrappers ([`device`], [`sg`]), its logic ([`channel`],
//! [`layout`], [`zc_request`], [`channel_stats`]) and the C-callable entry points ([`transport`]). KUnit suites
//! (with `CONFIG_KUNIT`, run at load): the layout, the scatterlist packing, and the shared
//! code's (`common_tests`).

common::bindgen::module_bindings! {
    /// Module-local bindings for the 9P and virtio headers and for the C shims (`shim_virtio.c`,
    /// which includes `../common/shim_common.c`).
    ///
    /// Generated at build time by bindgen from the target kernel tree (see `Kbuild`), so every
    /// layout follows that tree's configuration. Types already in `kernel::bindings` are reused.
    mod bindings {
        include!("bindings_generated.rs");
    }
}
// Shared with the fd transports; each module uses part of it, and what this one does not use
// expects dead_code under `cfg(zc9p_virtio)` (rust/common/mod.rs).
#[path = "../common/mod.rs"]
mod common;
// The KUnit suites of the shared code, in this module only (see the file).
#[cfg(CONFIG_KUNIT = "y")]
#[path = "../common/unit_tests.rs"]
mod common_tests;

mod channel;
mod channel_stats;
mod device;
mod layout;
mod sg;
mod transport;
mod zc_request;

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
        unsafe { common::debugfs::DEBUGFS.init() };
        common::trans_common::PinBudget::init();
        transport::register(transport::zerocopy_param())?;
        Ok(Zc9pVirtio)
    }
}

impl Drop for Zc9pVirtio {
    fn drop(&mut self) {
        transport::unregister();
        // Unregistered, every mount is gone and with it every payload: free the idle lists.
        common::segments::drain_pool();
    }
}
