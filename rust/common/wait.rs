// SPDX-License-Identifier: GPL-2.0

//! A wait queue with killable and timed waits on an arbitrary condition.
//!
//! C header: [`include/linux/wait.h`](srctree/include/linux/wait.h)
//!
//! `kernel::sync::CondVar` ties waiting to a lock guard and has no killable wait; the transport
//! needs `io_wait_event_killable` semantics (a sender blocked on a full ring or on the pin budget
//! must die promptly on SIGKILL) and an unkillable timed wait for device removal.

use crate::bindings as zb;
use core::marker::PhantomPinned;
use kernel::{
    bindings,
    ffi::{c_long, c_void},
    prelude::*,
    str::CStr,
    sync::LockClassKey,
    types::Opaque,
};

/// A kernel `wait_queue_head`.
///
/// # Invariants
///
/// `head` is initialised by `__init_waitqueue_head` before the queue can be used, and the
/// queue is pinned, since the head is a self-referential list.
#[repr(transparent)]
#[pin_data]
pub(crate) struct WaitQueue {
    #[pin]
    head: Opaque<bindings::wait_queue_head>,
    #[pin]
    _pin: PhantomPinned,
}

// SAFETY: A `wait_queue_head` may be used from any thread; it carries its own lock.
unsafe impl Send for WaitQueue {}
// SAFETY: Concurrent waits and wake-ups are serialised by the head's own lock.
unsafe impl Sync for WaitQueue {}

/// Creates a [`WaitQueue`] initialiser with a lockdep class of its own.
#[cfg_attr(zc9p_pintest, expect(unused_macros, reason = "the transports' only"))]
macro_rules! new_wait_queue {
    ($name:literal) => {
        $crate::common::wait::WaitQueue::new(
            ::kernel::c_str!($name),
            ::kernel::static_lock_class!(),
        )
    };
}
#[cfg_attr(zc9p_pintest, expect(unused_imports, reason = "the transports' only"))]
pub(crate) use new_wait_queue;

/// Calls the closure `ctx` points at; the C wait macros evaluate it as their condition.
///
/// # Safety
///
/// `ctx` must point to a live `F`.
unsafe extern "C" fn condition_trampoline<F: Fn() -> bool>(ctx: *const c_void) -> bool {
    // SAFETY: The caller passes the address of an `F` that outlives the wait.
    let cond = unsafe { &*ctx.cast::<F>() };
    cond()
}

/// The shim's waits on a condition (`zc9p_wait_killable_timeout`, `zc9p_wait_timeout`):
/// `(queue, condition, its context, timeout) -> the wait macro's result`.
type ShimWait = unsafe extern "C" fn(
    *mut bindings::wait_queue_head,
    Option<unsafe extern "C" fn(*const c_void) -> bool>,
    *const c_void,
    c_long,
) -> c_long;

impl WaitQueue {
    /// Returns an initialiser for a wait queue named `name` in lockdep class `key`.
    #[cfg_attr(zc9p_pintest, expect(dead_code, reason = "the transports' only"))]
    pub(crate) fn new(name: &'static CStr, key: Pin<&'static LockClassKey>) -> impl PinInit<Self> {
        pin_init!(Self {
            // SAFETY: `slot` is valid for writes during the call; `name` and `key` are static.
            head <- Opaque::ffi_init(|slot| unsafe {
                bindings::__init_waitqueue_head(slot, name.as_char_ptr(), key.as_ptr())
            }),
            _pin: PhantomPinned,
        })
    }

    /// Borrows a wait queue head the C side owns and initialised.
    ///
    /// # Safety
    ///
    /// `ptr` must be an initialised `wait_queue_head` that outlives `'a`.
    #[inline]
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::wait_queue_head) -> &'a Self {
        // SAFETY: `WaitQueue` is a transparent wrapper of the head (plus a zero-sized marker);
        // the caller guarantees it is initialised and lives long enough.
        unsafe { &*ptr.cast::<Self>() }
    }

    /// Sleeps (accounted as I/O wait) until `cond` returns true, a fatal signal arrives or
    /// `timeout` jiffies pass. Returns whether `cond` became true; `Err(ERESTARTSYS)` if killed.
    pub(crate) fn wait_killable_timeout<F: Fn() -> bool>(
        &self,
        cond: F,
        timeout: c_long,
    ) -> Result<bool> {
        let ret = self.wait_with(zb::zc9p_wait_killable_timeout, cond, timeout);
        if ret < 0 {
            Err(Error::from_errno(ret as i32))
        } else {
            Ok(ret > 0)
        }
    }

    /// Sleeps uninterruptibly until `cond` returns true or `timeout` jiffies pass.
    ///
    /// Returns whether `cond` became true.
    #[cfg_attr(zc9p_pintest, expect(dead_code, reason = "the transports' only"))]
    pub(crate) fn wait_timeout<F: Fn() -> bool>(&self, cond: F, timeout: c_long) -> bool {
        self.wait_with(zb::zc9p_wait_timeout, cond, timeout) != 0
    }

    /// Runs `wait`, one of the shim's waits (`zc9p_wait_*timeout`), on this queue with `cond`
    /// as its condition; returns what it returns.
    fn wait_with<F: Fn() -> bool>(&self, wait: ShimWait, cond: F, timeout: c_long) -> c_long {
        // SAFETY: `head` is initialised (type invariant); `cond` outlives the call, which is
        // the only user of the pointer, and the trampoline is instantiated for its type `F`.
        unsafe {
            wait(
                self.head.get(),
                Some(condition_trampoline::<F>),
                (&raw const cond).cast(),
                timeout,
            )
        }
    }

    /// Wakes the waiters, which then re-evaluate their conditions.
    #[inline]
    pub(crate) fn wake_up(&self) {
        // SAFETY: `head` is initialised (type invariant).
        unsafe { zb::zc9p_wake_up(self.head.get()) }
    }
}
