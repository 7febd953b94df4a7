// SPDX-License-Identifier: GPL-2.0

//! A spinlock that disables local interrupts while held.
//!
//! C header: [`include/linux/spinlock.h`](srctree/include/linux/spinlock.h)
//!
//! The virtqueue callback runs in hard-IRQ context and takes the channel's ring lock, so every
//! other holder must keep interrupts off (`spin_lock_irqsave`), or the callback could spin on a
//! lock held by the very code it interrupted. `kernel::sync::SpinLock` does not do that, so this
//! plugs an irqsave backend into the kernel's generic [`Lock`].

use crate::bindings as zb;
use kernel::{
    bindings,
    ffi::{c_char, c_ulong},
    sync::lock::{Backend, Lock},
};

/// A spinlock whose guard keeps local interrupts disabled.
pub(crate) type SpinLockIrq<T> = Lock<T, IrqSaveBackend>;

/// Creates a [`SpinLockIrq`] initialiser with a lockdep class of its own.
macro_rules! new_spinlock_irq {
    ($inner:expr, $name:literal $(,)?) => {
        $crate::common::irqsave::SpinLockIrq::new(
            $inner,
            ::kernel::c_str!($name),
            ::kernel::static_lock_class!(),
        )
    };
}
pub(crate) use new_spinlock_irq;

/// The `spin_lock_irqsave` backend; the guard state is the saved interrupt flags.
pub(crate) struct IrqSaveBackend;

// SAFETY: The kernel's `spinlock_t` provides mutual exclusion; the saved flags are restored by the
// owner on unlock, and `relock` uses the default implementation that calls `lock` again.
unsafe impl Backend for IrqSaveBackend {
    type State = bindings::spinlock_t;
    type GuardState = c_ulong;

    unsafe fn init(ptr: *mut Self::State, name: *const c_char, key: *mut bindings::lock_class_key) {
        // SAFETY: The caller guarantees `ptr` is valid for writes and `name`/`key` live forever.
        unsafe { bindings::__spin_lock_init(ptr, name, key) }
    }

    #[inline]
    unsafe fn lock(ptr: *mut Self::State) -> Self::GuardState {
        // SAFETY: The caller guarantees the lock was initialised.
        unsafe { zb::zc9p_spin_lock_irqsave(ptr) }
    }

    unsafe fn try_lock(ptr: *mut Self::State) -> Option<Self::GuardState> {
        let mut flags: c_ulong = 0;
        // SAFETY: The caller guarantees the lock was initialised; `flags` is a valid out pointer.
        if unsafe { zb::zc9p_spin_trylock_irqsave(ptr, &mut flags) } != 0 {
            Some(flags)
        } else {
            None
        }
    }

    #[inline]
    unsafe fn unlock(ptr: *mut Self::State, flags: &Self::GuardState) {
        // SAFETY: The caller owns the lock and `flags` came from the matching `lock`.
        unsafe { zb::zc9p_spin_unlock_irqrestore(ptr, *flags) }
    }

    #[inline]
    unsafe fn assert_is_held(ptr: *mut Self::State) {
        // `lockdep_assert_held` is empty without lockdep; skip the call into C then, as every
        // guard (two per request) asserts.
        #[cfg(CONFIG_LOCKDEP)]
        // SAFETY: The caller guarantees the lock was initialised.
        unsafe {
            bindings::spin_assert_is_held(ptr)
        };
        #[cfg(not(CONFIG_LOCKDEP))]
        let _ = ptr;
    }
}
