// SPDX-License-Identifier: GPL-2.0

//! Thin wrappers around a virtio device and its virtqueue.
//!
//! C headers: [`include/linux/virtio.h`](srctree/include/linux/virtio.h),
//! [`include/linux/virtio_config.h`](srctree/include/linux/virtio_config.h)

use crate::{
    bindings as zb,
    common::{
        borrow_foreign,
        p9::{InFlight, TransportRef},
    },
    sg::SgArray,
};
use core::ptr::NonNull;
use kernel::{
    alloc::KVec, bindings, error::from_err_ptr, ffi::c_uint, prelude::*, str::CStr,
    types::ForeignOwnable,
};

/// A virtio 9P device, from probe until remove returns.
///
/// # Invariants
///
/// The pointer is a live `virtio_device` bound to this driver: the driver core keeps it alive
/// from `probe` until `remove` returns, and a `VirtioDevice` is not used past that.
#[derive(Clone, Copy)]
pub(crate) struct VirtioDevice(NonNull<zb::virtio_device>);

// SAFETY: A bound device may be used from any thread; the virtio core serialises config access.
unsafe impl Send for VirtioDevice {}
// SAFETY: As above.
unsafe impl Sync for VirtioDevice {}

impl VirtioDevice {
    /// Wraps the device passed to `probe` or `remove`.
    ///
    /// # Safety
    ///
    /// `ptr` must be a device bound to this driver, used only until its `remove` returns.
    #[inline]
    pub(crate) unsafe fn from_raw(ptr: *mut zb::virtio_device) -> Option<Self> {
        NonNull::new(ptr).map(Self)
    }

    #[inline]
    fn as_ptr(self) -> *mut zb::virtio_device {
        self.0.as_ptr()
    }

    /// The device name (`virtioN`), for log lines.
    pub(crate) fn name(self) -> &'static str {
        self.name_cstr().to_str().unwrap_or("virtio?")
    }

    /// The device name as a C string, for debugfs.
    pub(crate) fn name_cstr(self) -> &'static CStr {
        // SAFETY: The device is live (type invariant); `dev_name` returns its NUL-terminated
        // name, which lives as long as the device and is used (printed, or copied by whoever
        // keeps it) only while it is bound.
        unsafe { CStr::from_char_ptr(zb::zc9p_virtio_vdev_name(self.as_ptr())) }
    }

    /// Attaches `data` to the device (`vdev->priv`), which owns it until
    /// [`VirtioDevice::take_private`] takes it back.
    pub(crate) fn set_private<T: ForeignOwnable>(self, data: T) {
        // SAFETY: The device is live (type invariant).
        unsafe { zb::zc9p_virtio_vdev_set_priv(self.as_ptr(), data.into_foreign()) }
    }

    /// Borrows the data [`VirtioDevice::set_private`] attached, if any.
    ///
    /// # Safety
    ///
    /// `vdev->priv` is null or was set by `set_private::<T>` (this very `T`), and the value
    /// [`VirtioDevice::take_private`] takes back is not dropped before the borrow ends.
    #[inline]
    pub(crate) unsafe fn private<'a, T: ForeignOwnable>(self) -> Option<T::Borrowed<'a>> {
        // SAFETY: The device is live (type invariant).
        let data = unsafe { zb::zc9p_virtio_vdev_priv(self.as_ptr()) };
        // SAFETY: `data` is null or came from `T::into_foreign` and outlives the borrow (the
        // caller's contract).
        unsafe { borrow_foreign::<T>(data) }
    }

    /// Takes back the data [`VirtioDevice::set_private`] attached. `vdev->priv` is left as it
    /// is, for readers that may still borrow it until they are drained; then
    /// [`VirtioDevice::clear_private`] clears it, while the value taken back still lives.
    ///
    /// # Safety
    ///
    /// `vdev->priv` is null or was set by `set_private::<T>`, and is taken back once: the caller
    /// clears it before dropping the result.
    pub(crate) unsafe fn take_private<T: ForeignOwnable>(self) -> Option<T> {
        // SAFETY: The device is live (type invariant).
        let data = unsafe { zb::zc9p_virtio_vdev_priv(self.as_ptr()) };
        // SAFETY: `data` is null or came from `T::into_foreign`, and is taken back only here
        // (the caller's contract).
        unsafe { T::try_from_foreign(data) }
    }

    /// Clears `vdev->priv` (after [`VirtioDevice::take_private`]).
    pub(crate) fn clear_private(self) {
        // SAFETY: The device is live (type invariant).
        unsafe { zb::zc9p_virtio_vdev_set_priv(self.as_ptr(), core::ptr::null_mut()) }
    }

    /// Reads the mount tag from the device configuration space.
    ///
    /// The result is NUL-terminated. A device without config access or without the
    /// `VIRTIO_9P_MOUNT_TAG` feature is `EINVAL`, like mainline.
    pub(crate) fn read_mount_tag(self) -> Result<KVec<u8>> {
        // SAFETY: The device is live (type invariant).
        if !unsafe { zb::zc9p_virtio_vdev_has_config_get(self.as_ptr()) } {
            return Err(EINVAL);
        }
        // SAFETY: The device is live (type invariant).
        if !unsafe { zb::zc9p_virtio_vdev_has_mount_tag(self.as_ptr()) } {
            return Err(EINVAL);
        }
        // SAFETY: The device is live and has config access (checked above).
        let len = usize::from(unsafe { zb::zc9p_virtio_vdev_read_tag_len(self.as_ptr()) });
        let mut tag = KVec::from_elem(0u8, len + 1, GFP_KERNEL)?;
        // SAFETY: `tag` has room for `len` bytes; the last stays the terminating NUL.
        unsafe {
            zb::zc9p_virtio_vdev_read_tag(self.as_ptr(), tag.as_mut_ptr().cast(), len as c_uint)
        };
        // A tag with an embedded NUL ends there, as C readers of it would see it.
        if let Some(nul) = tag.iter().position(|&b| b == 0) {
            tag.truncate(nul + 1);
        }
        Ok(tag)
    }

    /// The most bytes one scatterlist entry may describe for this device
    /// (`virtio_max_dma_size()`): unlimited unless its buffers go through the DMA API, which
    /// may bounce them (swiotlb: 256 KiB per mapping).
    pub(crate) fn max_dma_size(self) -> usize {
        // SAFETY: The device is live (type invariant).
        unsafe { zb::zc9p_virtio_vdev_max_dma_size(self.as_ptr()) }
    }

    /// Finds the device's single request queue, with `done` as its interrupt callback.
    pub(crate) fn find_vq(
        self,
        done: unsafe extern "C" fn(*mut zb::virtqueue),
    ) -> Result<Virtqueue> {
        // SAFETY: The device is live (type invariant); `done` is a valid callback for the life of
        // the module, which outlives the queue (queues are deleted in remove).
        let vq = from_err_ptr(unsafe { zb::zc9p_virtio_vdev_find_vq(self.as_ptr(), Some(done)) })?;
        let vq = NonNull::new(vq).ok_or(ENODEV)?;
        // INVARIANT: `vq` was just created for this device.
        Ok(Virtqueue(vq))
    }

    /// Tells the device the driver is ready (`virtio_device_ready`).
    pub(crate) fn ready(self) {
        // SAFETY: The device is live (type invariant).
        unsafe { zb::zc9p_virtio_vdev_ready(self.as_ptr()) }
    }

    /// Resets the device: it stops using every buffer and raises no more interrupts for them
    /// (the transport core waits for running callbacks). Buffers still queued can then be taken
    /// back with [`Virtqueue::detach_unused`].
    pub(crate) fn reset(self) {
        // SAFETY: The device is live (type invariant).
        unsafe { zb::zc9p_virtio_vdev_reset(self.as_ptr()) }
    }

    /// Deletes the device's queues, consuming the last [`Virtqueue`] handle.
    ///
    /// The device must have been [reset](Self::reset), and every buffer taken back.
    pub(crate) fn delete_queues(self, vq: Virtqueue) {
        let _ = vq;
        // SAFETY: The device is live (type invariant); its only queue handle was just consumed,
        // so nothing uses the queue after this.
        unsafe { zb::zc9p_virtio_vdev_del_vqs(self.as_ptr()) }
    }

    /// Whether the device asked to be reset (`VIRTIO_CONFIG_S_NEEDS_RESET`): QEMU sets it when
    /// it marked the device broken, and then answers nothing more.
    pub(crate) fn needs_reset(self) -> bool {
        // SAFETY: The device is live (type invariant).
        unsafe { zb::zc9p_virtio_vdev_needs_reset(self.as_ptr()) }
    }

    /// Creates the `mount_tag` sysfs attribute.
    pub(crate) fn add_mount_tag_attr(self) -> Result {
        // SAFETY: The device is live (type invariant).
        kernel::error::to_result(unsafe { zb::zc9p_virtio_vdev_add_mount_tag_attr(self.as_ptr()) })
    }

    /// Removes the `mount_tag` sysfs attribute.
    pub(crate) fn remove_mount_tag_attr(self) {
        // SAFETY: The device is live (type invariant).
        unsafe { zb::zc9p_virtio_vdev_remove_mount_tag_attr(self.as_ptr()) }
    }

    /// Sends a change uevent so udev rules see the `mount_tag` attribute come or go.
    pub(crate) fn uevent_change(self) {
        // SAFETY: The device is live (type invariant).
        unsafe { zb::zc9p_virtio_vdev_uevent_change(self.as_ptr()) }
    }
}

/// Borrows the data attached to the device that owns `vq` (`vq->vdev->priv`), for the interrupt
/// callback.
///
/// # Safety
///
/// `vq` must be a live virtqueue created by [`VirtioDevice::find_vq`], whose device's `priv` is
/// null or was set by [`VirtioDevice::set_private`] with this `T`, and not taken back before the
/// borrow ends.
#[inline]
pub(crate) unsafe fn queue_private<'a, T: ForeignOwnable>(
    vq: *mut zb::virtqueue,
) -> Option<T::Borrowed<'a>> {
    // SAFETY: The caller guarantees `vq` is live; its device outlives it.
    let data = unsafe { zb::zc9p_virtio_vq_priv(vq) };
    // SAFETY: The caller's contract.
    unsafe { borrow_foreign::<T>(data) }
}

/// A virtqueue.
///
/// # Invariants
///
/// The pointer is a live virtqueue until [`VirtioDevice::delete_queues`] consumes this handle; its
/// owner serialises all calls on it (it lives inside the channel's ring lock). Every token on the
/// queue is the request of an [`InFlight`] that [`Virtqueue::add`] turned into that token: the
/// queue owns those references until it hands them back.
pub(crate) struct Virtqueue(NonNull<zb::virtqueue>);

// SAFETY: The queue may be used from any thread as long as calls are serialised, which the
// owning lock does.
unsafe impl Send for Virtqueue {}

/// One group of scatterlist entries added to a virtqueue.
#[derive(Clone, Copy, Default)]
pub(crate) struct SgGroup {
    /// Index of the group's first entry in the [`SgArray`].
    pub(crate) start: usize,
}

impl Virtqueue {
    /// Queues the buffer of `req`, made of `groups` (the first `n_out` device-readable, the rest
    /// device-writable, each a run of entries of `sg` ending in an end mark). On success the
    /// request is `SENT` and the queue holds the transport's reference until it hands the request
    /// back as an [`InFlight`]; on failure the reference is returned with the error.
    ///
    /// `ENOSPC` means the ring is full (or, with indirect descriptors, the indirect table could
    /// not be allocated); `EIO` a broken queue.
    #[inline]
    pub(crate) fn add(
        &mut self,
        sg: &mut SgArray,
        groups: &[SgGroup],
        n_out: usize,
        req: TransportRef,
    ) -> core::result::Result<(), (Error, TransportRef)> {
        const MAX_GROUPS: usize = 4;
        let mut heads: [*mut bindings::scatterlist; MAX_GROUPS] =
            [core::ptr::null_mut(); MAX_GROUPS];
        if groups.len() > MAX_GROUPS || n_out > groups.len() {
            return Err((EINVAL, req));
        }
        for (head, group) in heads.iter_mut().zip(groups) {
            match sg.entry_ptr(group.start) {
                Ok(p) => *head = p,
                Err(e) => return Err((e, req)),
            }
        }
        // SAFETY: The queue is live, calls serialised (type invariant); `heads` holds end-marked
        // lists in `sg`, used until the token comes back, and the request's reference (moved into
        // the queue below) keeps the buffers they describe alive until then.
        let ret = unsafe {
            zb::virtqueue_add_sgs(
                self.0.as_ptr(),
                heads.as_mut_ptr(),
                n_out as c_uint,
                (groups.len() - n_out) as c_uint,
                req.token(),
                // A failed indirect table (32 KiB for 1024 entries) is retried (see
                // `Channel::submit`), not worth a warning with a stack dump.
                bindings::GFP_ATOMIC | bindings::__GFP_NOWARN,
            )
        };
        if ret < 0 {
            return Err((Error::from_errno(ret), req));
        }
        // SAFETY: The buffer was just queued with `req.token()`, and `&mut self` (the ring lock)
        // keeps any completion from running until we return.
        let in_flight = unsafe { req.on_device() };
        // INVARIANT: The token on the queue now stands for this reference.
        in_flight.into_token();
        Ok(())
    }

    /// Scatterlist entries one message may use on this queue.
    #[inline]
    pub(crate) fn max_entries(&self) -> usize {
        // SAFETY: The queue is live (type invariant).
        unsafe { zb::zc9p_virtio_vq_max_entries(self.0.as_ptr()) as usize }
    }

    /// Descriptors in the ring.
    #[inline]
    pub(crate) fn size(&self) -> usize {
        // SAFETY: The queue is live (type invariant).
        unsafe { zb::virtqueue_get_vring_size(self.0.as_ptr()) as usize }
    }

    /// Notifies the device of new buffers.
    #[inline]
    pub(crate) fn kick(&mut self) {
        // SAFETY: The queue is live and calls are serialised (type invariant).
        unsafe { zb::virtqueue_kick(self.0.as_ptr()) };
    }

    /// Takes the next used buffer: its request and the number of bytes the device wrote.
    #[inline]
    pub(crate) fn get_buf(&mut self) -> Option<(InFlight, u32)> {
        let mut len: c_uint = 0;
        // SAFETY: The queue is live and calls are serialised (type invariant).
        let token = unsafe { zb::virtqueue_get_buf(self.0.as_ptr(), &mut len) };
        // SAFETY: Every token on the queue stands for an `InFlight` (type invariant), and the
        // virtio core returns each queued token once (it rejects unknown or repeated ids).
        let req = unsafe { InFlight::from_token(token) }?;
        Some((req, len))
    }

    /// Takes back a buffer the device has not used, after a [reset](VirtioDevice::reset).
    #[inline]
    pub(crate) fn detach_unused(&mut self) -> Option<InFlight> {
        // SAFETY: The queue is live and calls are serialised (type invariant); the device was
        // reset, so it no longer uses the buffers being detached.
        let token = unsafe { zb::virtqueue_detach_unused_buf(self.0.as_ptr()) };
        // SAFETY: As in `get_buf`: each queued token comes back once, here or there.
        unsafe { InFlight::from_token(token) }
    }

    /// Whether the virtio core marked the queue broken (it then returns no more buffers).
    #[inline]
    pub(crate) fn is_broken(&self) -> bool {
        // SAFETY: The queue is live (type invariant).
        unsafe { zb::virtqueue_is_broken(self.0.as_ptr()) }
    }
}
