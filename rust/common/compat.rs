// SPDX-License-Identifier: GPL-2.0

//! What differs, for zc9p's code, between the kernel series it builds against (7.2 and 7.3:
//! `KERNEL_SERIES`, Documentation/kernels.rst): the one place where the kernel crate's API is
//! chosen by version, so the rest of the code calls one name on every series.
//!
//! The version comes from the tree being built against: Kbuild passes `--cfg zc9p_since_X_Y`
//! for each series from X.Y on at which something here changed (see `ZC9P_SINCE_CFGS` there).
//! A new difference gets a function here, under such a cfg, and a line in kernels.rst.

/// A full memory barrier between CPUs (C `smp_mb()`).
///
/// 7.3's `kernel::sync::barrier::smp_mb` takes the ordering as an argument (`Full`, `Read`,
/// `Write`); 7.2's is the full barrier with no argument.
#[inline]
#[cfg_attr(zc9p_virtio, expect(dead_code, reason = "zc9p_fd's only"))]
pub(crate) fn smp_mb() {
    #[cfg(zc9p_since_7_3)]
    kernel::sync::barrier::smp_mb(kernel::sync::barrier::Full);
    #[cfg(not(zc9p_since_7_3))]
    kernel::sync::barrier::smp_mb();
}
