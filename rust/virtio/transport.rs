// SPDX-License-Identifier: GPL-2.0

//! The C-callable entry points: the virtio driver's and the 9P transport's callbacks, which
//! `shim_virtio.c` puts in its descriptors. Each turns raw pointers into the wrappers and calls into
//! [`Channel`].

use crate::{
    bindings as zb,
    channel::Channel,
    common::{
        callbacks::{register_with_debugfs, to_errno, ZcCall},
        debugfs::ModuleDebugfs,
        p9::{Client, TransportRef},
    },
    device::{self, VirtioDevice},
};
use kernel::{
    bindings,
    ffi::{c_char, c_int},
    prelude::*,
    str::CStr,
    sync::{Arc, ArcBorrow},
};

/// Registers the 9P transport (with `zc_request` if `zerocopy`) and the virtio driver, after
/// the module's debugfs directory (each channel adds its counters there).
pub(crate) fn register(zerocopy: bool) -> Result {
    register_with_debugfs(c"zc9p_virtio", || {
        // SAFETY: Called once from module init, after the channel list is initialised.
        kernel::error::to_result(unsafe { zb::zc9p_virtio_register(zerocopy) })
    })
}

/// Whether the `zerocopy` module parameter is set.
pub(crate) fn zerocopy_param() -> bool {
    // SAFETY: FFI call without preconditions.
    unsafe { zb::zc9p_virtio_param_zerocopy() }
}

/// Unregisters the virtio driver (removing every channel) and the transport, then the
/// module's debugfs directory.
pub(crate) fn unregister() {
    // SAFETY: Called once from module exit, after a successful `register`.
    unsafe { zb::zc9p_virtio_unregister() };
    ModuleDebugfs::remove();
}

/// The channel a client was attached to in `create`.
///
/// # Safety
///
/// `client` must be a live client of this transport, between `create` and `close`.
unsafe fn channel_of<'a>(client: Client) -> Option<ArcBorrow<'a, Channel>> {
    // SAFETY: `create` stored a reference to the channel in `trans` (`Channel::attach`), which
    // `close` takes back after every other callback of the client returned.
    unsafe { client.state::<Arc<Channel>>() }
}

/// `virtio_driver.probe`.
///
/// # Safety
///
/// Called by the virtio core only, with a device being bound to this driver.
#[no_mangle]
pub(crate) unsafe extern "C" fn zc9p_rs_virtio_probe(vdev: *mut zb::virtio_device) -> c_int {
    // SAFETY: The driver core passes a device being bound to this driver.
    let Some(vdev) = (unsafe { VirtioDevice::from_raw(vdev) }) else {
        return EINVAL.to_errno();
    };
    to_errno(Channel::probe(vdev, zc9p_rs_virtio_vq_done))
}

/// `virtio_driver.remove`.
///
/// # Safety
///
/// Called by the virtio core only, once, with a device `probe` bound.
#[no_mangle]
pub(crate) unsafe extern "C" fn zc9p_rs_virtio_remove(vdev: *mut zb::virtio_device) {
    // SAFETY: The driver core passes a device bound to this driver.
    if let Some(vdev) = unsafe { VirtioDevice::from_raw(vdev) } {
        Channel::remove(vdev);
    }
}

/// `virtio_driver.config_changed` (interrupt context): a device that asks for a reset (QEMU's
/// way of saying it marked the device broken) answers nothing more; check it from process context.
///
/// # Safety
///
/// Called by the virtio core only, for a bound device, before `remove` begins.
#[no_mangle]
pub(crate) unsafe extern "C" fn zc9p_rs_virtio_config_changed(vdev: *mut zb::virtio_device) {
    // SAFETY: The virtio core calls this for a bound device, before `remove` disables it.
    let Some(vdev) = (unsafe { VirtioDevice::from_raw(vdev) }) else {
        return;
    };
    // SAFETY: The private pointer holds a channel reference from probe until `remove`, and the
    // virtio core runs no config callback once `remove` has begun.
    if let Some(chan) = unsafe { vdev.private::<Arc<Channel>>() } {
        Channel::check_device_later(chan.into());
    }
}

/// The virtqueue interrupt callback (hard IRQ).
///
/// # Safety
///
/// Called by the virtio core only, for a live queue created by `Channel::probe`.
unsafe extern "C" fn zc9p_rs_virtio_vq_done(vq: *mut zb::virtqueue) {
    // SAFETY: The virtio core calls this for a live queue created by `Channel::probe`. The
    // private pointer holds a channel reference from probe until remove, which deletes the queue
    // (after a reset that waits for running callbacks) before giving it back.
    if let Some(chan) = unsafe { device::queue_private::<Arc<Channel>>(vq) } {
        chan.complete_requests();
    }
}

/// Show function of the `mount_tag` sysfs attribute: the tag, NUL-terminated.
///
/// # Safety
///
/// Called by the shim's sysfs attribute only, while it exists (the device is bound).
#[no_mangle]
pub(crate) unsafe extern "C" fn zc9p_rs_virtio_mount_tag(
    vdev: *mut zb::virtio_device,
) -> *const c_char {
    // SAFETY: sysfs calls this only while the attribute exists, i.e. while the device is bound.
    let vdev = unsafe { VirtioDevice::from_raw(vdev) };
    // SAFETY: The attribute is removed (draining readers) before remove drops the channel.
    match vdev.and_then(|v| unsafe { v.private::<Arc<Channel>>() }) {
        Some(chan) => chan.tag_with_nul().as_ptr().cast(),
        None => c"".as_char_ptr(),
    }
}

/// `p9_trans_module.create`: attach the mount to the channel named by its source.
///
/// # Safety
///
/// Called by the 9P core only, with a live client and the mount's filesystem context.
#[no_mangle]
pub(crate) unsafe extern "C" fn zc9p_rs_virtio_create(
    client: *mut zb::p9_client,
    fc: *mut bindings::fs_context,
) -> c_int {
    // SAFETY: The 9P core passes a live client.
    let Some(client) = (unsafe { Client::from_raw(client) }) else {
        return EINVAL.to_errno();
    };
    if fc.is_null() {
        return EINVAL.to_errno();
    }
    // SAFETY: `fc` is the live filesystem context of the mount being created.
    let source = unsafe { zb::zc9p_virtio_fc_source(fc) };
    if source.is_null() {
        return EINVAL.to_errno();
    }
    // SAFETY: `source` is the NUL-terminated device name of the mount, live during `create`.
    let source = unsafe { CStr::from_char_ptr(source) };
    to_errno(Channel::attach(client, source.to_bytes()).inspect(|()| {
        crate::common::msize::apply_default(client, source.to_bytes());
    }))
}

/// `p9_trans_module.close`: waits until the device gave back every request of this client,
/// then drops the client's reference to the channel.
///
/// # Safety
///
/// Called by the 9P core only, once per client `create` attached, after its other callbacks.
#[no_mangle]
pub(crate) unsafe extern "C" fn zc9p_rs_virtio_close(client: *mut zb::p9_client) {
    // SAFETY: The 9P core passes a live client of this transport.
    let Some(client) = (unsafe { Client::from_raw(client) }) else {
        return;
    };
    // SAFETY: `attach` stored this reference in `trans`; `close` runs once, after every other
    // callback of the client, and takes it back.
    if let Some(chan) = unsafe { client.take_state::<Arc<Channel>>() } {
        chan.detach();
    }
}

/// `p9_trans_module.request`: queue a message on the copy path.
///
/// # Safety
///
/// Called by the 9P core only, with a live client of this transport and a request whose
/// transport reference it hands over.
#[no_mangle]
pub(crate) unsafe extern "C" fn zc9p_rs_virtio_request(
    client: *mut zb::p9_client,
    req: *mut zb::p9_req_t,
) -> c_int {
    // SAFETY: The 9P core passes a request holding the transport's reference, which is ours now.
    let Some(tref) = (unsafe { TransportRef::from_raw(req) }) else {
        return EINVAL.to_errno();
    };
    // SAFETY: The 9P core passes a live client of this transport.
    let chan = unsafe { Client::from_raw(client) }.and_then(|c| {
        // SAFETY: As above.
        unsafe { channel_of(c) }
    });
    let Some(chan) = chan else {
        tref.refused();
        return ENODEV.to_errno();
    };
    to_errno(chan.request(tref))
}

/// `p9_trans_module.cancel`: a queued virtio request cannot be taken back; let the client flush.
#[no_mangle]
pub(crate) extern "C" fn zc9p_rs_virtio_cancel(
    _client: *mut zb::p9_client,
    _req: *mut zb::p9_req_t,
) -> c_int {
    1
}

/// `p9_trans_module.cancelled`: the server answered the flush, but the device still holds the
/// request (its status is still SENT). Nothing to do: the device owns the transport's reference
/// and gives it back with the buffer; dropping it here would free memory the device may still
/// write, and a later completion would touch a freed request.
#[no_mangle]
pub(crate) extern "C" fn zc9p_rs_virtio_cancelled(
    _client: *mut zb::p9_client,
    _req: *mut zb::p9_req_t,
) -> c_int {
    0
}

/// `p9_trans_module.zc_request`: send a message whose payload travels in its own pages.
///
/// # Safety
///
/// Called by the 9P core only, with the arguments `ZcCall::from_raw` describes.
#[no_mangle]
pub(crate) unsafe extern "C" fn zc9p_rs_virtio_zc_request(
    client: *mut zb::p9_client,
    req: *mut zb::p9_req_t,
    uidata: *mut bindings::iov_iter,
    uodata: *mut bindings::iov_iter,
    inlen: c_int,
    outlen: c_int,
    in_hdr_len: c_int,
) -> c_int {
    // SAFETY: The arguments of the 9P core's `zc_request` call.
    match unsafe { ZcCall::from_raw(client, req, uidata, uodata, inlen, outlen, in_hdr_len) } {
        // SAFETY: A live client of this transport, whose `trans` `Channel::attach` set and
        // `close` (which runs after this call) takes back.
        Ok(call) => unsafe { call.run::<Arc<Channel>>(|chan, call| chan.zc_request(call)) },
        Err(e) => e.to_errno(),
    }
}
