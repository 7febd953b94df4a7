/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zc9p C shim for the virtio transport: virtio and 9P accessors Rust cannot
 * call directly, and the static tables the kernel wants in C (virtio device
 * table, driver and 9P transport descriptors, module parameters). Thin
 * forwarders only; the transport logic lives in the Rust files beside it.
 *
 * Names: zc9p_virtio_* for this shim's C, zc9p_rs_virtio_* for the Rust entry
 * points (transport.rs); the bare zc9p_* prefix is shim_common.h's, shared by
 * every zc9p module.
 */
#ifndef ZC9P_SHIM_VIRTIO_H
#define ZC9P_SHIM_VIRTIO_H

#include "../common/shim_common.h"

struct virtio_device;
struct virtqueue;
struct scatterlist;
struct p9_client;
struct p9_req_t;
struct fs_context;
struct iov_iter;
struct wait_queue_head;
struct page;

/*
 * Scatterlist entries per channel: the most one message may use with indirect
 * descriptors, which also bounds the message size (see
 * zc9p_virtio_register). QEMU maps one element to at most 1024 host iovecs
 * (VIRTQUEUE_MAX_SIZE) and marks the device broken beyond.
 */
#define ZC9P_VIRTIO_SG_ENTRIES 1024

/* Virtio device and queue accessors. */
void *zc9p_virtio_vdev_priv(struct virtio_device *vdev);
void zc9p_virtio_vdev_set_priv(struct virtio_device *vdev, void *priv);
/* vq->vdev->priv in one call: the interrupt callback's first step. */
void *zc9p_virtio_vq_priv(struct virtqueue *vq);

bool zc9p_virtio_vdev_has_config_get(struct virtio_device *vdev);
bool zc9p_virtio_vdev_has_mount_tag(struct virtio_device *vdev);
u16 zc9p_virtio_vdev_read_tag_len(struct virtio_device *vdev);
void zc9p_virtio_vdev_read_tag(struct virtio_device *vdev, char *buf, unsigned int len);
struct virtqueue *zc9p_virtio_vdev_find_vq(struct virtio_device *vdev,
					   void (*done)(struct virtqueue *vq));
void zc9p_virtio_vdev_ready(struct virtio_device *vdev);
void zc9p_virtio_vdev_reset(struct virtio_device *vdev);
void zc9p_virtio_vdev_del_vqs(struct virtio_device *vdev);
bool zc9p_virtio_vdev_needs_reset(struct virtio_device *vdev);
/*
 * Descriptors one message may use on @vq: ZC9P_VIRTIO_SG_ENTRIES with indirect
 * descriptors on a device that takes chains longer than its queue (the
 * long_chains parameter), at most the ring's size otherwise.
 */
unsigned int zc9p_virtio_vq_max_entries(struct virtqueue *vq);
bool zc9p_virtio_vdev_takes_long_chains(struct virtio_device *vdev);
/* Whether @b is the page right after @a in physical memory. */
bool zc9p_virtio_pages_adjacent(struct page *a, struct page *b);
/* The page @n frames after @page (a physically contiguous run). */
struct page *zc9p_virtio_page_nth(struct page *page, size_t n);
/* The most bytes one DMA mapping may cover for @vdev (virtio_max_dma_size()). */
size_t zc9p_virtio_vdev_max_dma_size(struct virtio_device *vdev);
int zc9p_virtio_vdev_add_mount_tag_attr(struct virtio_device *vdev);
void zc9p_virtio_vdev_remove_mount_tag_attr(struct virtio_device *vdev);
void zc9p_virtio_vdev_uevent_change(struct virtio_device *vdev);
const char *zc9p_virtio_vdev_name(struct virtio_device *vdev);

/* The mount's source (the mount tag for virtio). */
const char *zc9p_virtio_fc_source(struct fs_context *fc);

/* Module parameters of the virtio transport. */
bool zc9p_virtio_param_zerocopy(void);

/* The module's workqueue (for work the interrupt callbacks hand off). */
struct workqueue_struct *zc9p_virtio_workqueue(void);

/* Registration of the C descriptors defined in shim_virtio.c. */
/* @zerocopy: register zc_request, so the client sends payloads separately. */
int zc9p_virtio_register(bool zerocopy);
void zc9p_virtio_unregister(void);

/*
 * Entry points implemented in Rust (transport.rs), called through the C
 * descriptors.
 */
int zc9p_rs_virtio_probe(struct virtio_device *vdev);
void zc9p_rs_virtio_remove(struct virtio_device *vdev);
void zc9p_rs_virtio_config_changed(struct virtio_device *vdev);
const char *zc9p_rs_virtio_mount_tag(struct virtio_device *vdev);
int zc9p_rs_virtio_create(struct p9_client *client, struct fs_context *fc);
void zc9p_rs_virtio_close(struct p9_client *client);
int zc9p_rs_virtio_request(struct p9_client *client, struct p9_req_t *req);
int zc9p_rs_virtio_cancel(struct p9_client *client, struct p9_req_t *req);
int zc9p_rs_virtio_cancelled(struct p9_client *client, struct p9_req_t *req);
int zc9p_rs_virtio_zc_request(struct p9_client *client, struct p9_req_t *req,
			      struct iov_iter *uidata, struct iov_iter *uodata,
			      int inlen, int outlen, int in_hdr_len);

#endif /* ZC9P_SHIM_VIRTIO_H */
