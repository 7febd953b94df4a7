// SPDX-License-Identifier: GPL-2.0

//! zc9p_fd: zero-copy 9P transports over file descriptors, written in Rust.
//!
//! Registers the `tcp`, `unix` and `fd` 9P transports (`mount -t 9p -o trans=tcp ADDR /mnt`),
//! as mainline's `9pnet_fd` does, and `vsock` (`mount -t 9p -o trans=vsock,port=P CID /mnt`),
//! which mainline has not, with a `zc_request` that sends a write's payload from its own
//! pages and receives a read's data straight into them. See `Documentation/fd-transports.rst`.
//!
//! Layers, bottom up: [`bindings`] (the kernel's 9P headers and the C shims), the shared
//! [`common`] code, this transport's wrappers ([`endpoint`]), its pure checks of reply frames
//! ([`frame`]) and of mount options ([`options`]), its logic and the C-callable entry points
//! ([`transport`]). The logic's files each hold one piece of a connection, and call one way:
//! [`transport`] → [`lease`] (zero-copy requests) → [`io`] (the worker) → [`conn`] (the
//! connection) → [`state`] (what its locks protect), with [`conn_stats`] (its counters) below.

common::bindgen::module_bindings! {
    /// Module-local bindings for the 9P headers and for the C shims (`shim_fd.c`, which includes
    /// `../common/shim_common.c`).
    ///
    /// Generated at build time by bindgen from the target kernel tree (see `Kbuild`), so every
    /// layout follows that tree's configuration. Types already in `kernel::bindings` are reused.
    mod bindings {
        include!("bindings_generated.rs");
    }
}
// Shared with the virtio transport; each module uses part of it, and what this one does not use
// expects dead_code under `cfg(zc9p_fd)` (rust/common/mod.rs).
#[path = "../common/mod.rs"]
mod common;

mod conn;
mod conn_stats;
mod endpoint;
mod frame;
mod io;
mod lease;
mod options;
mod state;
mod transport;

use kernel::prelude::*;

module! {
    type: Zc9pFd,
    name: "zc9p_fd",
    authors: ["zc9p developers"],
    description: "Zero-copy 9P transports over tcp, unix sockets, file descriptors and vsock, in Rust",
    license: "GPL",
}

struct Zc9pFd;

impl kernel::Module for Zc9pFd {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        // SAFETY: Called once, before anything uses the debugfs handles.
        unsafe { common::debugfs::DEBUGFS.init() };
        common::trans_common::PinBudget::init();
        transport::register(transport::zerocopy_param())?;
        Ok(Zc9pFd)
    }
}

impl Drop for Zc9pFd {
    fn drop(&mut self) {
        transport::unregister();
        // Unregistered, every mount is gone and with it every payload: free the idle lists.
        common::segments::drain_pool();
    }
}
