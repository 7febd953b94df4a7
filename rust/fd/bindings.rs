// SPDX-License-Identifier: GPL-2.0

//! Module-local bindings for the 9P headers and for the C shims (`shim_fd.c`, which includes
//! `../common/shim_common.c`).
//!
//! Generated at build time by bindgen from the target kernel tree (see `Kbuild`), so every
//! layout follows that tree's configuration. Types already in `kernel::bindings` are reused.

#![allow(
    dead_code,
    non_camel_case_types,
    non_upper_case_globals,
    non_snake_case,
    improper_ctypes,
    unreachable_pub,
    unsafe_op_in_unsafe_fn,
    clippy::all,
    clippy::undocumented_unsafe_blocks,
    rustdoc::all
)]

include!("bindings_generated.rs");
