// SPDX-License-Identifier: GPL-2.0

//! Module-local bindings of the trans_common test module (see `Kbuild`).

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
