// SPDX-License-Identifier: GPL-2.0

//! The Rust side of `bindgen.mk`: every zc9p module declares the bindings generated for it
//! (`bindings_generated.rs`, in the module's own folder) with [`module_bindings!`], so what the
//! generated code is excused from is written once.

/// Declares the module's bindings module around its generated bindings, with the lints generated
/// code cannot follow allowed. The body is given by the caller, so `include!` finds the file
/// beside the caller's crate root:
///
/// ```ignore
/// common::bindgen::module_bindings! {
///     /// Module-local bindings for ...
///     mod bindings {
///         include!("bindings_generated.rs");
///     }
/// }
/// ```
macro_rules! module_bindings {
    ($(#[$attr:meta])* mod $name:ident { $($body:tt)* }) => {
        $(#[$attr])*
        #[allow(
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
        mod $name {
            $($body)*
        }
    };
}
pub(crate) use module_bindings;
