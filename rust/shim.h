/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zc9p C shim: what Rust cannot call directly (static inline functions and
 * macros) and the static tables the kernel wants in C (virtio device table,
 * driver and 9P transport descriptors). Everything here is a thin forwarder;
 * the transport logic lives in the Rust files beside it.
 */
#ifndef ZC9P_SHIM_H
#define ZC9P_SHIM_H

#include <linux/types.h>

struct virtio_device;
struct virtqueue;
struct scatterlist;
struct p9_client;
struct p9_req_t;
struct fs_context;
struct seq_file;
struct iov_iter;
struct wait_queue_head;
struct page;

/*
 * Scatterlist entries per channel: the most one message may use, which also
 * bounds the message size (see zc9p_trans.maxsize).
 */
#define ZC9P_SG_ENTRIES 128

/* Spinlock with interrupts saved: the virtqueue callback runs in hard IRQ. */
unsigned long zc9p_spin_lock_irqsave(spinlock_t *lock);
void zc9p_spin_unlock_irqrestore(spinlock_t *lock, unsigned long flags);
int zc9p_spin_trylock_irqsave(spinlock_t *lock, unsigned long *flags);

/* Waits: the condition is a Rust closure behind @cond/@ctx. */
int zc9p_wait_killable(struct wait_queue_head *wq, bool (*cond)(const void *ctx),
		       const void *ctx);
long zc9p_wait_timeout(struct wait_queue_head *wq, bool (*cond)(const void *ctx),
		       const void *ctx, long timeout);
void zc9p_wake_up(struct wait_queue_head *wq);

/* Scatterlist helpers. */
void zc9p_sg_init_table(struct scatterlist *sg, unsigned int nents);
void zc9p_sg_set_buf(struct scatterlist *sg, const void *buf, unsigned int len);
void zc9p_sg_set_page(struct scatterlist *sg, struct page *page,
		      unsigned int len, unsigned int offset);
void zc9p_sg_mark_end(struct scatterlist *sg);
void zc9p_sg_unmark_end(struct scatterlist *sg);
unsigned long zc9p_offset_in_page(const void *addr);

/* Virtio device and queue accessors. */
void *zc9p_vdev_priv(struct virtio_device *vdev);
void zc9p_vdev_set_priv(struct virtio_device *vdev, void *priv);
struct virtio_device *zc9p_vq_vdev(struct virtqueue *vq);
bool zc9p_vdev_has_config_get(struct virtio_device *vdev);
bool zc9p_vdev_has_mount_tag(struct virtio_device *vdev);
u16 zc9p_vdev_read_tag_len(struct virtio_device *vdev);
void zc9p_vdev_read_tag(struct virtio_device *vdev, char *buf, unsigned int len);
struct virtqueue *zc9p_vdev_find_vq(struct virtio_device *vdev,
				    void (*done)(struct virtqueue *vq));
void zc9p_vdev_ready(struct virtio_device *vdev);
void zc9p_vdev_reset_and_del_vqs(struct virtio_device *vdev);
int zc9p_vdev_add_mount_tag_attr(struct virtio_device *vdev);
void zc9p_vdev_remove_mount_tag_attr(struct virtio_device *vdev);
void zc9p_vdev_uevent_change(struct virtio_device *vdev);
const char *zc9p_vdev_name(struct virtio_device *vdev);

/* The mount's source (the mount tag for virtio). */
const char *zc9p_fc_source(struct fs_context *fc);

/* 9P request field access that needs READ_ONCE/WRITE_ONCE ordering. */
void zc9p_req_set_status(struct p9_req_t *req, int status);

/* Registration of the C descriptors defined in shim.c. */
int zc9p_register(void);
void zc9p_unregister(void);

/*
 * Entry points implemented in Rust (transport.rs), called through the C
 * descriptors.
 */
int zc9p_rs_probe(struct virtio_device *vdev);
void zc9p_rs_remove(struct virtio_device *vdev);
const char *zc9p_rs_mount_tag(struct virtio_device *vdev);
int zc9p_rs_create(struct p9_client *client, struct fs_context *fc);
void zc9p_rs_close(struct p9_client *client);
int zc9p_rs_request(struct p9_client *client, struct p9_req_t *req);
int zc9p_rs_cancel(struct p9_client *client, struct p9_req_t *req);
int zc9p_rs_cancelled(struct p9_client *client, struct p9_req_t *req);

#endif /* ZC9P_SHIM_H */
