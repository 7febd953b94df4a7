// SPDX-License-Identifier: GPL-2.0
/*
 * zc9p C shim shared by every zc9p module. See shim_common.h; no logic here.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/scatterlist.h>
#include <linux/uio.h>
#include <linux/highmem.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <net/9p/9p.h>
#include <net/9p/client.h>

#include "shim_common.h"

/* ZC9P_VERSION: rust/VERSION and the commit, from Kbuild. */
MODULE_VERSION(ZC9P_VERSION);

static unsigned long pin_budget;
module_param(pin_budget, ulong, 0644);
MODULE_PARM_DESC(pin_budget,
		 "Most user pages pinned at once for zero copy (0: a quarter of free buffer pages)");

unsigned long zc9p_param_pin_budget(void)
{
	return READ_ONCE(pin_budget);
}

unsigned int zc9p_p9_default_msize(void)
{
	return DEFAULT_MSIZE;
}

static DECLARE_WAIT_QUEUE_HEAD(zc9p_pin_wq);

struct wait_queue_head *zc9p_pin_wait_queue(void)
{
	return &zc9p_pin_wq;
}

unsigned long zc9p_spin_lock_irqsave(spinlock_t *lock)
{
	unsigned long flags;

	spin_lock_irqsave(lock, flags);
	return flags;
}

void zc9p_spin_unlock_irqrestore(spinlock_t *lock, unsigned long flags)
{
	spin_unlock_irqrestore(lock, flags);
}

int zc9p_spin_trylock_irqsave(spinlock_t *lock, unsigned long *flags)
{
	return spin_trylock_irqsave(lock, *flags);
}

long zc9p_wait_killable_timeout(struct wait_queue_head *wq, bool (*cond)(const void *ctx),
				const void *ctx, long timeout)
{
	return wait_event_killable_timeout(*wq, cond(ctx), timeout);
}

long zc9p_wait_timeout(struct wait_queue_head *wq, bool (*cond)(const void *ctx),
		       const void *ctx, long timeout)
{
	return wait_event_timeout(*wq, cond(ctx), timeout);
}

void zc9p_wake_up(struct wait_queue_head *wq)
{
	wake_up(wq);
}

void zc9p_sg_init_table(struct scatterlist *sg, unsigned int nents)
{
	sg_init_table(sg, nents);
}

/*
 * One scatterlist entry each, end-marked when it is the last of its list: a
 * single call per entry, as the transport fills entries on every request.
 */
void zc9p_sg_set_buf(struct scatterlist *sg, const void *buf, unsigned int len, bool last)
{
	sg_unmark_end(sg);
	sg_set_buf(sg, buf, len);
	if (last)
		sg_mark_end(sg);
}

void zc9p_sg_set_page(struct scatterlist *sg, struct page *page,
		      unsigned int len, unsigned int offset, bool last)
{
	sg_unmark_end(sg);
	sg_set_page(sg, page, len, offset);
	if (last)
		sg_mark_end(sg);
}

bool zc9p_iov_iter_will_pin(const struct iov_iter *iter)
{
	return iov_iter_extract_will_pin(iter);
}

bool zc9p_iov_iter_is_dest(const struct iov_iter *iter)
{
	return iter->data_source == ITER_DEST;
}

void zc9p_memcpy_from_page(void *to, struct page *page, size_t offset, size_t len)
{
	memcpy_from_page(to, page, offset, len);
}

void zc9p_memcpy_to_page(struct page *page, size_t offset, const void *from, size_t len)
{
	memcpy_to_page(page, offset, from, len);
}

unsigned int zc9p_memalloc_nofs_save(void)
{
	return memalloc_nofs_save();
}

void zc9p_memalloc_nofs_restore(unsigned int flags)
{
	memalloc_nofs_restore(flags);
}

unsigned int zc9p_memalloc_noio_save(void)
{
	return memalloc_noio_save();
}

void zc9p_memalloc_noio_restore(unsigned int flags)
{
	memalloc_noio_restore(flags);
}

int zc9p_req_wait_killable(struct p9_req_t *req)
{
	return io_wait_event_killable(req->wq, READ_ONCE(req->status) >= REQ_STATUS_RCVD);
}

int zc9p_req_wait_timeout(struct p9_req_t *req, long timeout)
{
	return wait_event_timeout(req->wq, READ_ONCE(req->status) >= REQ_STATUS_RCVD, timeout) != 0;
}
