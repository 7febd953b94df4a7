// SPDX-License-Identifier: GPL-2.0
/*
 * zc9p C shim for the virtio transport. See shim_virtio.h; no logic here.
 */
#include <linux/module.h>
#include <linux/acpi.h>
#include <linux/dmi.h>
#include <linux/of.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/scatterlist.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <linux/virtio_9p.h>
#include <linux/fs_context.h>
#include <net/9p/9p.h>
#include <net/9p/client.h>
#include <net/9p/transport.h>

#include <linux/workqueue.h>

#include "../common/shim_common.c"
#include "shim_virtio.h"

void *zc9p_virtio_vdev_priv(struct virtio_device *vdev)
{
	return vdev->priv;
}

void zc9p_virtio_vdev_set_priv(struct virtio_device *vdev, void *priv)
{
	vdev->priv = priv;
}

void *zc9p_virtio_vq_priv(struct virtqueue *vq)
{
	return vq->vdev->priv;
}

bool zc9p_virtio_vdev_has_config_get(struct virtio_device *vdev)
{
	return !!vdev->config->get;
}

bool zc9p_virtio_vdev_has_mount_tag(struct virtio_device *vdev)
{
	return virtio_has_feature(vdev, VIRTIO_9P_MOUNT_TAG);
}

u16 zc9p_virtio_vdev_read_tag_len(struct virtio_device *vdev)
{
	u16 tag_len;

	virtio_cread(vdev, struct virtio_9p_config, tag_len, &tag_len);
	return tag_len;
}

void zc9p_virtio_vdev_read_tag(struct virtio_device *vdev, char *buf, unsigned int len)
{
	virtio_cread_bytes(vdev, offsetof(struct virtio_9p_config, tag), buf, len);
}

struct virtqueue *zc9p_virtio_vdev_find_vq(struct virtio_device *vdev,
					   void (*done)(struct virtqueue *vq))
{
	return virtio_find_single_vq(vdev, done, "requests");
}

void zc9p_virtio_vdev_ready(struct virtio_device *vdev)
{
	virtio_device_ready(vdev);
}

void zc9p_virtio_vdev_reset(struct virtio_device *vdev)
{
	virtio_reset_device(vdev);
}

void zc9p_virtio_vdev_del_vqs(struct virtio_device *vdev)
{
	vdev->config->del_vqs(vdev);
}

bool zc9p_virtio_vdev_needs_reset(struct virtio_device *vdev)
{
	return vdev->config->get_status(vdev) & VIRTIO_CONFIG_S_NEEDS_RESET;
}

/*
 * VIRTIO 1.x 2.7.5.3.1: "A driver MUST NOT create a descriptor chain longer
 * than the Queue Size of the device", indirect tables included. QEMU takes an
 * indirect table of up to VIRTQUEUE_MAX_SIZE (1024) descriptors whatever the
 * queue size (128 for virtio-9p), and zc9p's largest msize needs that; other
 * devices get chains within their queue size, unless long_chains=1.
 */
static int long_chains = -1;
module_param(long_chains, int, 0444);
MODULE_PARM_DESC(long_chains,
		 "Indirect descriptor chains longer than the queue (up to 1024 entries, beyond VIRTIO 1.x 2.7.5.3.1): 1 always, 0 never, -1 (default) on QEMU's devices, which accept them");

/* QEMU's virtio-mmio vendor ID: "QEMU" in little-endian bytes. */
#define ZC9P_VIRTIO_MMIO_VENDOR_QEMU 0x554d4551

/*
 * Whether the machine is QEMU's: it has QEMU's firmware configuration device
 * (fw_cfg: ACPI _HID QEMU0002 on x86 and ACPI arm64, a "qemu,fw-cfg-mmio"
 * device-tree node elsewhere), which management layers that rename the
 * SMBIOS vendor leave alone, or SMBIOS says "QEMU".
 */
static bool zc9p_virtio_machine_is_qemu(void)
{
	struct device_node *np;

	if (acpi_dev_present("QEMU0002", NULL, -1))
		return true;
	np = of_find_compatible_node(NULL, NULL, "qemu,fw-cfg-mmio");
	if (np) {
		of_node_put(np);
		return true;
	}
	return dmi_match(DMI_SYS_VENDOR, "QEMU");
}

bool zc9p_virtio_vdev_takes_long_chains(struct virtio_device *vdev)
{
	if (long_chains >= 0)
		return long_chains;
	/*
	 * A virtio-mmio device names its implementation; a virtio-pci one does
	 * not (every implementation uses Red Hat's vendor IDs): ask the machine.
	 */
	return vdev->id.vendor == ZC9P_VIRTIO_MMIO_VENDOR_QEMU || zc9p_virtio_machine_is_qemu();
}

unsigned int zc9p_virtio_vq_max_entries(struct virtqueue *vq)
{
	unsigned int ring = virtqueue_get_vring_size(vq);

	/* Indirect, on a device that takes it: one ring slot per message, whatever its length. */
	if (virtio_has_feature(vq->vdev, VIRTIO_RING_F_INDIRECT_DESC) &&
	    zc9p_virtio_vdev_takes_long_chains(vq->vdev))
		return ZC9P_VIRTIO_SG_ENTRIES;
	return min_t(unsigned int, ZC9P_VIRTIO_SG_ENTRIES, ring);
}

bool zc9p_virtio_pages_adjacent(struct page *a, struct page *b)
{
	return page_to_pfn(b) == page_to_pfn(a) + 1;
}

struct page *zc9p_virtio_page_nth(struct page *page, size_t n)
{
	return pfn_to_page(page_to_pfn(page) + n);
}

size_t zc9p_virtio_vdev_max_dma_size(struct virtio_device *vdev)
{
	return virtio_max_dma_size(vdev);
}

static ssize_t mount_tag_show(struct device *dev, struct device_attribute *attr,
			      char *buf)
{
	const char *tag = zc9p_rs_virtio_mount_tag(dev_to_virtio(dev));
	size_t len = strnlen(tag, PAGE_SIZE - 1);

	/* Like 9pnet_virtio: the tag including its NUL, which udev rules expect. */
	memcpy(buf, tag, len);
	buf[len] = '\0';
	return len + 1;
}

static DEVICE_ATTR_RO(mount_tag);

int zc9p_virtio_vdev_add_mount_tag_attr(struct virtio_device *vdev)
{
	return sysfs_create_file(&vdev->dev.kobj, &dev_attr_mount_tag.attr);
}

void zc9p_virtio_vdev_remove_mount_tag_attr(struct virtio_device *vdev)
{
	sysfs_remove_file(&vdev->dev.kobj, &dev_attr_mount_tag.attr);
}

void zc9p_virtio_vdev_uevent_change(struct virtio_device *vdev)
{
	kobject_uevent(&vdev->dev.kobj, KOBJ_CHANGE);
}

const char *zc9p_virtio_vdev_name(struct virtio_device *vdev)
{
	return dev_name(&vdev->dev);
}

const char *zc9p_virtio_fc_source(struct fs_context *fc)
{
	return fc->source;
}

static bool zerocopy = true;
module_param(zerocopy, bool, 0444);
MODULE_PARM_DESC(zerocopy,
		 "Send read/write/readdir payloads straight from/to their pages (default: on)");

bool zc9p_virtio_param_zerocopy(void)
{
	return zerocopy;
}

/*
 * Work the interrupt context cannot do (shutting down a channel whose device
 * asked for a reset). WQ_MEM_RECLAIM: the mount's I/O, and so writeback, may
 * wait for it. Destroyed, after draining, at module exit.
 */
static struct workqueue_struct *zc9p_virtio_wq;

struct workqueue_struct *zc9p_virtio_workqueue(void)
{
	return zc9p_virtio_wq;
}

static const struct virtio_device_id zc9p_virtio_id_table[] = {
	{ VIRTIO_ID_9P, VIRTIO_DEV_ANY_ID },
	{ 0 },
};
MODULE_DEVICE_TABLE(virtio, zc9p_virtio_id_table);

static unsigned int zc9p_virtio_features[] = {
	VIRTIO_9P_MOUNT_TAG,
};

static struct virtio_driver zc9p_virtio_driver = {
	.feature_table = zc9p_virtio_features,
	.feature_table_size = ARRAY_SIZE(zc9p_virtio_features),
	.driver.name = KBUILD_MODNAME,
	.id_table = zc9p_virtio_id_table,
	.probe = zc9p_rs_virtio_probe,
	.remove = zc9p_rs_virtio_remove,
	.config_changed = zc9p_rs_virtio_config_changed,
};

/*
 * 1 MiB of payload per message (make bench, Documentation/performance.rst
 * "The default msize"): a mount without msize= gets it instead of 9P's 128 KiB.
 */
ZC9P_DEFAULT_MSIZE_PARAM(1048600);

static struct p9_trans_module zc9p_virtio_trans = {
	.name = "virtio",
	.create = zc9p_rs_virtio_create,
	.close = zc9p_rs_virtio_close,
	.request = zc9p_rs_virtio_request,
	.cancel = zc9p_rs_virtio_cancel,
	.cancelled = zc9p_rs_virtio_cancelled,
	/* Set by zc9p_virtio_register. */
	.maxsize = 0,
	.pooled_rbuffers = false,
	.def = true,
	.supports_vmalloc = false,
	.owner = THIS_MODULE,
};
MODULE_ALIAS_9P("virtio");

int zc9p_virtio_register(bool zerocopy)
{
	int err;

	/*
	 * Zero copy: a message is one sg entry per header (kmalloc'ed, so
	 * contiguous) and at most one per payload page, and a payload that does
	 * not start on a page boundary touches one page more than its length:
	 * ZC9P_VIRTIO_SG_ENTRIES - 3 pages of payload (iounit) plus the 24-byte I/O
	 * header msize includes, 1021 pages + 24 bytes (4182040) for 1024
	 * entries. The copy path (zerocopy=0) moves every payload through two
	 * msize kmalloc()s per request (order 10 at 4 MiB, and a per-mount slab
	 * of msize objects): mainline's 512000, where each is order 7.
	 */
	if (zerocopy) {
		zc9p_virtio_trans.zc_request = zc9p_rs_virtio_zc_request;
		zc9p_virtio_trans.maxsize = PAGE_SIZE * (ZC9P_VIRTIO_SG_ENTRIES - 3) + P9_IOHDRSZ;
	} else {
		zc9p_virtio_trans.maxsize = 512000;
	}
	zc9p_virtio_wq = alloc_workqueue(KBUILD_MODNAME, WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!zc9p_virtio_wq)
		return -ENOMEM;
	v9fs_register_trans(&zc9p_virtio_trans);
	err = register_virtio_driver(&zc9p_virtio_driver);
	if (err) {
		v9fs_unregister_trans(&zc9p_virtio_trans);
		destroy_workqueue(zc9p_virtio_wq);
	}
	return err;
}

void zc9p_virtio_unregister(void)
{
	unregister_virtio_driver(&zc9p_virtio_driver);
	v9fs_unregister_trans(&zc9p_virtio_trans);
	/* After the driver: removal ends the channels; their pending work runs first. */
	destroy_workqueue(zc9p_virtio_wq);
}
