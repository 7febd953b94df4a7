/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Input to bindgen for zc9p's module-local bindings (bindings_generated.rs).
 * Types already in kernel::bindings are reused, not generated again.
 * The order matters: 9P's headers use these without including them.
 */
#include <linux/types.h>
#include <linux/module.h>
#include <linux/fs_context.h>
#include <linux/idr.h>
#include <linux/scatterlist.h>
#include <linux/virtio.h>
#include <net/9p/9p.h>
#include <net/9p/client.h>
#include <net/9p/transport.h>

#include "shim_virtio.h"

