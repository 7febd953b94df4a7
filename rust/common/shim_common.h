/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zc9p C shim, the part shared by every zc9p module (the virtio and fd
 * transports and the trans_common test module, whose shims each include
 * shim_common.c): static inline functions and macros Rust cannot call
 * directly, and module-wide C objects. Thin forwarders only.
 *
 * Names: the bare zc9p_* prefix is this shared part's; each module's own shim
 * uses its module's (zc9p_virtio_*, zc9p_fd_*, zc9p_pintest_*), and Rust entry
 * points called from C are zc9p_rs_<module>_*.
 */
#ifndef ZC9P_SHIM_COMMON_H
#define ZC9P_SHIM_COMMON_H

#include <linux/types.h>

struct scatterlist;
struct wait_queue_head;
struct page;
struct iov_iter;

/* Spinlock with interrupts saved: the virtqueue callback runs in hard IRQ. */
unsigned long zc9p_spin_lock_irqsave(spinlock_t *lock);
void zc9p_spin_unlock_irqrestore(spinlock_t *lock, unsigned long flags);
int zc9p_spin_trylock_irqsave(spinlock_t *lock, unsigned long *flags);

/* Waits: the condition is a Rust closure behind @cond/@ctx. */
long zc9p_wait_killable_timeout(struct wait_queue_head *wq, bool (*cond)(const void *ctx),
				const void *ctx, long timeout);
long zc9p_wait_timeout(struct wait_queue_head *wq, bool (*cond)(const void *ctx),
		       const void *ctx, long timeout);
void zc9p_wake_up(struct wait_queue_head *wq);
/* The module's pin-budget wait queue (statically initialised). */
struct wait_queue_head *zc9p_pin_wait_queue(void);

/* Scatterlist helpers. */
void zc9p_sg_init_table(struct scatterlist *sg, unsigned int nents);
void zc9p_sg_set_buf(struct scatterlist *sg, const void *buf, unsigned int len, bool last);
void zc9p_sg_set_page(struct scatterlist *sg, struct page *page,
		      unsigned int len, unsigned int offset, bool last);

/* iov_iter and page helpers for trans_common. */
bool zc9p_iov_iter_will_pin(const struct iov_iter *iter);
bool zc9p_iov_iter_is_dest(const struct iov_iter *iter);
void zc9p_memcpy_from_page(void *to, struct page *page, size_t offset, size_t len);
void zc9p_memcpy_to_page(struct page *page, size_t offset, const void *from, size_t len);
unsigned int zc9p_memalloc_nofs_save(void);
void zc9p_memalloc_nofs_restore(unsigned int flags);
unsigned int zc9p_memalloc_noio_save(void);
void zc9p_memalloc_noio_restore(unsigned int flags);

struct p9_req_t;
/*
 * Waits (killably, accounted as I/O) until the reply to req arrived. Written out in C,
 * condition inline, because a transport waits once per request: the generic
 * condition-callback wait (wait.rs) would add indirect calls to every wake-up.
 */
int zc9p_req_wait_killable(struct p9_req_t *req);
/* Uninterruptibly, at most @timeout jiffies: whether the request is finished. */
int zc9p_req_wait_timeout(struct p9_req_t *req, long timeout);

/* Module parameters shared by zc9p modules (visible in sysfs). */
unsigned long zc9p_param_pin_budget(void);

/*
 * A transport module's default_msize parameter (ZC9P_DEFAULT_MSIZE_PARAM in its
 * shim, with its own default): the msize of a mount that gave no msize=
 * (rust/common/msize.rs). 9P's own DEFAULT_MSIZE, for comparison.
 */
unsigned int zc9p_param_default_msize(void);
unsigned int zc9p_p9_default_msize(void);
#define ZC9P_DEFAULT_MSIZE_PARAM(dflt)							\
	static unsigned int default_msize = (dflt);					\
	module_param(default_msize, uint, 0644);					\
	MODULE_PARM_DESC(default_msize, "msize of a mount without msize= "		\
			 "(default " __stringify(dflt) ", at most the transport's maximum; "	\
			 "0: 9P's own, 131096)");					\
	unsigned int zc9p_param_default_msize(void)					\
	{										\
		return READ_ONCE(default_msize);					\
	}

#endif /* ZC9P_SHIM_COMMON_H */
