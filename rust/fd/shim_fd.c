// SPDX-License-Identifier: GPL-2.0
/*
 * zc9p C shim for the fd transports. See shim_fd.h; no transport logic here.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/net.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/inet.h>
#include <linux/un.h>
#include <linux/vm_sockets.h>
#include <linux/poll.h>
#include <linux/bvec.h>
#include <linux/uio.h>
#include <linux/slab.h>
#include <linux/sched/mm.h>
#include <linux/workqueue.h>
#include <linux/nsproxy.h>
#include <net/sock.h>
#include <linux/tcp.h>
#include <net/net_namespace.h>
#include <net/9p/9p.h>
#include <net/9p/client.h>
#include <net/9p/transport.h>

#include "../common/shim_common.c"
#include "shim_fd.h"

static bool zerocopy = true;
module_param(zerocopy, bool, 0444);
MODULE_PARM_DESC(zerocopy, "Move read/write payloads between their own pages and the socket (default on)");

bool zc9p_fd_param_zerocopy(void)
{
	return zerocopy;
}

/*
 * The largest message (ZC9P_FD_MAXSIZE, mainline's 1 MiB) for a mount without
 * msize=; the server may still lower it (diod: 65536).
 */
ZC9P_DEFAULT_MSIZE_PARAM(1048576);

/*
 * The connections' workers. WQ_MEM_RECLAIM: writeback waits on them. Per-CPU
 * at normal priority, as the system workqueue 9pnet_fd uses: under -icount,
 * 4 threads of 4 KiB random reads to a server in the same 2-CPU guest did
 * 12% (tcp) and 23% (unix) more per second than on WQ_HIGHPRI, whose worker
 * preempts the server thread that just answered, and about matched
 * WQ_UNBOUND (5% behind it over tcp, 3% ahead over unix).
 */
static struct workqueue_struct *zc9p_fd_wq;

struct workqueue_struct *zc9p_fd_workqueue(void)
{
	return zc9p_fd_wq;
}

static int zc9p_fd_create_tcp(struct p9_client *client, struct fs_context *fc)
{
	return zc9p_rs_fd_create(client, fc, ZC9P_FD_TCP);
}

static int zc9p_fd_create_unix(struct p9_client *client, struct fs_context *fc)
{
	return zc9p_rs_fd_create(client, fc, ZC9P_FD_UNIX);
}

static int zc9p_fd_create_fd(struct p9_client *client, struct fs_context *fc)
{
	return zc9p_rs_fd_create(client, fc, ZC9P_FD_FD);
}

static int zc9p_fd_create_vsock(struct p9_client *client, struct fs_context *fc)
{
	return zc9p_rs_fd_create(client, fc, ZC9P_FD_VSOCK);
}

static struct p9_trans_module zc9p_tcp_trans, zc9p_unix_trans, zc9p_fd_trans, zc9p_vsock_trans;

/*
 * As mainline: the port when it is not the default, the fds for trans=fd.
 * trans=vsock keeps its port where tcp does (the options are v9fs's own).
 */
static int zc9p_fd_show_options(struct seq_file *m, struct p9_client *clnt)
{
	if (clnt->trans_mod == &zc9p_tcp_trans || clnt->trans_mod == &zc9p_vsock_trans) {
		if (clnt->trans_opts.tcp.port != P9_FD_PORT)
			seq_printf(m, ",port=%u", clnt->trans_opts.tcp.port);
	} else if (clnt->trans_mod == &zc9p_fd_trans) {
		if (clnt->trans_opts.fd.rfd != ~0)
			seq_printf(m, ",rfd=%u", clnt->trans_opts.fd.rfd);
		if (clnt->trans_opts.fd.wfd != ~0)
			seq_printf(m, ",wfd=%u", clnt->trans_opts.fd.wfd);
	}
	return 0;
}

#define ZC9P_FD_TRANS(var, tname, create_fn)			\
static struct p9_trans_module var = {				\
	.name = tname,						\
	.maxsize = ZC9P_FD_MAXSIZE,				\
	.pooled_rbuffers = false,				\
	.def = false,						\
	.supports_vmalloc = false,				\
	.create = create_fn,					\
	.close = zc9p_rs_fd_close,				\
	.request = zc9p_rs_fd_request,				\
	.cancel = zc9p_rs_fd_cancel,				\
	.cancelled = zc9p_rs_fd_cancelled,			\
	.show_options = zc9p_fd_show_options,			\
	.owner = THIS_MODULE,					\
}

ZC9P_FD_TRANS(zc9p_tcp_trans, "tcp", zc9p_fd_create_tcp);
ZC9P_FD_TRANS(zc9p_unix_trans, "unix", zc9p_fd_create_unix);
ZC9P_FD_TRANS(zc9p_fd_trans, "fd", zc9p_fd_create_fd);
ZC9P_FD_TRANS(zc9p_vsock_trans, "vsock", zc9p_fd_create_vsock);
MODULE_ALIAS_9P("tcp");
MODULE_ALIAS_9P("unix");
MODULE_ALIAS_9P("fd");
MODULE_ALIAS_9P("vsock");

static struct p9_trans_module *const zc9p_fd_transports[] = {
	&zc9p_tcp_trans, &zc9p_unix_trans, &zc9p_fd_trans, &zc9p_vsock_trans,
};

int zc9p_fd_register(bool zc)
{
	struct p9_trans_module *found;
	int i, err = 0;

	zc9p_fd_wq = alloc_workqueue(KBUILD_MODNAME, WQ_PERCPU | WQ_MEM_RECLAIM, 0);
	if (!zc9p_fd_wq)
		return -ENOMEM;
	for (i = 0; i < ARRAY_SIZE(zc9p_fd_transports); i++) {
		if (zc)
			zc9p_fd_transports[i]->zc_request = zc9p_rs_fd_zc_request;
		v9fs_register_trans(zc9p_fd_transports[i]);
	}
	/*
	 * The 9P core keeps transports in registration order and mounts use the first one of
	 * a name; it does not refuse a second. With ours registered, a lookup of each name
	 * finds ours unless another module (9pnet_fd) registered that name first.
	 */
	for (i = 0; i < ARRAY_SIZE(zc9p_fd_transports) && !err; i++) {
		found = v9fs_get_trans_by_name(zc9p_fd_transports[i]->name);
		if (found != zc9p_fd_transports[i]) {
			pr_err("transport '%s' is already served by %s: unload it first\n",
			       zc9p_fd_transports[i]->name,
			       found && found->owner ? found->owner->name : "another module");
			err = -EBUSY;
		}
		v9fs_put_trans(found);
	}
	if (err) {
		for (i = 0; i < ARRAY_SIZE(zc9p_fd_transports); i++)
			v9fs_unregister_trans(zc9p_fd_transports[i]);
		destroy_workqueue(zc9p_fd_wq);
	}
	return err;
}

void zc9p_fd_unregister(void)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(zc9p_fd_transports); i++)
		v9fs_unregister_trans(zc9p_fd_transports[i]);
	/* Mounts hold a module reference: no connection is left to use it. */
	destroy_workqueue(zc9p_fd_wq);
}

const char *zc9p_fd_source(struct fs_context *fc)
{
	return fc->source;
}

void zc9p_fd_mount_opts(struct p9_client *client, struct fs_context *fc, enum zc9p_fd_kind kind,
			struct zc9p_fd_opts *opts)
{
	struct v9fs_context *ctx = fc->fs_private;

	opts->rfd = ctx->fd_opts.rfd;
	opts->wfd = ctx->fd_opts.wfd;
	opts->port = ctx->fd_opts.port;
	opts->privport = ctx->fd_opts.privport;
	if (kind == ZC9P_FD_TCP || kind == ZC9P_FD_VSOCK) {
		client->trans_opts.tcp.port = opts->port;
		client->trans_opts.tcp.privport = opts->privport;
	} else if (kind == ZC9P_FD_FD) {
		client->trans_opts.fd.rfd = opts->rfd;
		client->trans_opts.fd.wfd = opts->wfd;
	}
}

/*
 * A socket of ours: no task fragments, allocations that cannot recurse into I/O,
 * and a reference to its network namespace. A kernel socket (__sock_create(...,
 * kern=1)) holds none, so a mount made in a namespace that then goes away (its
 * last task exits) would keep a socket whose namespace is freed; in-kernel TCP
 * users (sunrpc, nvme-tcp, cifs) upgrade theirs the same way.
 */
static int zc9p_fd_sock_file(struct socket *sock, struct file **filp)
{
	struct file *file;

	if (!sock->sk->sk_net_refcnt)
		sk_net_refcnt_upgrade(sock->sk);
	sock->sk->sk_allocation = GFP_NOIO;
	sock->sk->sk_use_task_frag = false;
	file = sock_alloc_file(sock, 0, NULL);
	if (IS_ERR(file))
		return PTR_ERR(file); /* sock_alloc_file released the socket */
	*filp = file;
	return 0;
}

/* Mainline's reserved-port range (trans_fd's p9_ipport_resv_min/max defaults). */
#define ZC9P_FD_RESVPORT_MIN 665
#define ZC9P_FD_RESVPORT_MAX 1023

static int zc9p_fd_bind_privport(struct socket *sock)
{
	struct sockaddr_storage stor = { 0 };
	int port, err = -EINVAL;

	stor.ss_family = sock->ops->family;
	for (port = ZC9P_FD_RESVPORT_MAX; port >= ZC9P_FD_RESVPORT_MIN; port--) {
		if (stor.ss_family == AF_INET) {
			((struct sockaddr_in *)&stor)->sin_addr.s_addr = htonl(INADDR_ANY);
			((struct sockaddr_in *)&stor)->sin_port = htons((u16)port);
		} else {
			((struct sockaddr_in6 *)&stor)->sin6_addr = in6addr_any;
			((struct sockaddr_in6 *)&stor)->sin6_port = htons((u16)port);
		}
		err = kernel_bind(sock, (struct sockaddr_unsized *)&stor, sizeof(stor));
		if (err != -EADDRINUSE)
			break;
	}
	return err;
}

int zc9p_fd_connect_tcp(const char *addr, unsigned short port, bool privport, struct file **filp)
{
	struct sockaddr_storage stor = { 0 };
	struct net *net = current->nsproxy->net_ns;
	struct socket *sock;
	char port_str[6];
	int err;

	snprintf(port_str, sizeof(port_str), "%u", port);
	err = inet_pton_with_scope(net, AF_UNSPEC, addr, port_str, &stor);
	if (err < 0)
		return err;
	err = __sock_create(net, stor.ss_family, SOCK_STREAM, IPPROTO_TCP, &sock, 1);
	if (err)
		return err;
	if (privport) {
		err = zc9p_fd_bind_privport(sock);
		if (err < 0) {
			sock_release(sock);
			return err;
		}
	}
	err = READ_ONCE(sock->ops)->connect(sock, (struct sockaddr_unsized *)&stor,
					    sizeof(stor), 0);
	if (err < 0) {
		sock_release(sock);
		return err;
	}
	/*
	 * A frame whose pages are spliced goes out in two sends (the copied message, then the
	 * pages): Nagle must not hold the message back until the previous frame is acknowledged.
	 */
	tcp_sock_set_nodelay(sock->sk);
	return zc9p_fd_sock_file(sock, filp);
}

int zc9p_fd_connect_unix(const char *path, struct file **filp)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct socket *sock;
	int err;

	if (!path || !*path)
		return -EINVAL;
	if (strscpy(sun.sun_path, path) < 0)
		return -ENAMETOOLONG;
	err = __sock_create(current->nsproxy->net_ns, PF_UNIX, SOCK_STREAM, 0, &sock, 1);
	if (err < 0)
		return err;
	err = READ_ONCE(sock->ops)->connect(sock, (struct sockaddr_unsized *)&sun,
					    sizeof(struct sockaddr_un) - 1, 0);
	if (err < 0) {
		sock_release(sock);
		return err;
	}
	return zc9p_fd_sock_file(sock, filp);
}

static int zc9p_fd_vsock_setopt(struct socket *sock, int name, u64 val)
{
	return READ_ONCE(sock->ops)->setsockopt(sock, AF_VSOCK, name, KERNEL_SOCKPTR(&val),
						sizeof(val));
}

int zc9p_fd_connect_vsock(unsigned int cid, unsigned int port, struct file **filp)
{
	struct sockaddr_vm svm = {
		.svm_family = AF_VSOCK,
		.svm_cid = cid,
		.svm_port = port,
	};
	/* Room for a whole message of the largest msize before the server waits for credit. */
	u64 bufsize = ZC9P_FD_MAXSIZE;
	struct socket *sock;
	int err;

	err = __sock_create(current->nsproxy->net_ns, AF_VSOCK, SOCK_STREAM, 0, &sock, 1);
	if (err < 0)
		return err;
	err = zc9p_fd_vsock_setopt(sock, SO_VM_SOCKETS_BUFFER_MAX_SIZE, bufsize);
	if (!err)
		err = zc9p_fd_vsock_setopt(sock, SO_VM_SOCKETS_BUFFER_SIZE, bufsize);
	/* connect() waits at most the socket's connect timeout (2 s by default). */
	if (!err)
		err = READ_ONCE(sock->ops)->connect(sock, (struct sockaddr_unsized *)&svm,
						    sizeof(svm), 0);
	if (err < 0) {
		sock_release(sock);
		return err;
	}
	return zc9p_fd_sock_file(sock, filp);
}

/* A file trans=fd can use: a stream socket or a pipe, with IOCB_NOWAIT support. */
static int zc9p_fd_check_file(struct file *file, fmode_t mode)
{
	struct socket *sock;

	if (!(file->f_mode & mode))
		return -EIO; /* as mainline: an fd not open for this direction */
	if (!(file->f_mode & FMODE_NOWAIT))
		return -EINVAL;
	sock = sock_from_file(file);
	if (sock)
		return sock->type == SOCK_STREAM ? 0 : -EINVAL;
	if (S_ISFIFO(file_inode(file)->i_mode))
		return 0;
	return -EINVAL;
}

int zc9p_fd_open_fds(int rfd, int wfd, struct file **rd, struct file **wr)
{
	struct file *r, *w;
	int err;

	r = fget(rfd);
	if (!r)
		return -EIO;
	err = zc9p_fd_check_file(r, FMODE_READ);
	if (err)
		goto put_r;
	w = fget(wfd);
	if (!w) {
		err = -EIO;
		goto put_r;
	}
	err = zc9p_fd_check_file(w, FMODE_WRITE);
	if (err)
		goto put_w;
	*rd = r;
	*wr = w;
	return 0;
put_w:
	fput(w);
put_r:
	fput(r);
	return err;
}

void zc9p_fd_put_file(struct file *file)
{
	fput(file);
}

bool zc9p_fd_splices_pages(struct file *file)
{
	struct socket *sock = sock_from_file(file);

	if (!sock)
		return false;
	switch (sock->sk->sk_family) {
	case AF_INET:
	case AF_INET6:
	case AF_UNIX:
		return true;
	default:
		return false;
	}
}

void zc9p_fd_shutdown(struct file *file)
{
	struct socket *sock = sock_from_file(file);

	if (sock)
		kernel_sock_shutdown(sock, SHUT_RDWR);
}

ssize_t zc9p_fd_send(struct file *file, struct bio_vec *bv, unsigned int nr, size_t len,
		     unsigned int flags)
{
	struct socket *sock = sock_from_file(file);
	struct iov_iter iter;
	loff_t pos = 0;

	iov_iter_bvec(&iter, ITER_SOURCE, bv, nr, len);
	if (sock) {
		struct msghdr msg = { .msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL };

		if (flags & ZC9P_FD_SEND_MORE)
			msg.msg_flags |= MSG_MORE;
		unsigned int noio;
		ssize_t ret;

		if (flags & ZC9P_FD_SEND_SPLICE)
			msg.msg_flags |= MSG_SPLICE_PAGES;
		msg.msg_iter = iter;
		/*
		 * Writeback sends through here: no allocation in the send may recurse
		 * into I/O. tcp and unix follow sk_allocation (GFP_NOIO, set at
		 * connect); vsock allocates its packets with GFP_KERNEL, whatever the
		 * socket says.
		 */
		noio = memalloc_noio_save();
		ret = sock_sendmsg(sock, &msg);
		memalloc_noio_restore(noio);
		return ret;
	}
	return vfs_iter_write(file, &iter, &pos, RWF_NOWAIT);
}

static ssize_t zc9p_fd_recv_iter(struct file *file, struct iov_iter *iter)
{
	struct socket *sock = sock_from_file(file);
	loff_t pos = 0;

	if (sock) {
		struct msghdr msg = { .msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL };

		msg.msg_iter = *iter;
		return sock_recvmsg(sock, &msg, msg.msg_flags);
	}
	return vfs_iter_read(file, iter, &pos, RWF_NOWAIT);
}

ssize_t zc9p_fd_recv(struct file *file, struct bio_vec *bv, unsigned int nr, size_t len)
{
	struct iov_iter iter;

	iov_iter_bvec(&iter, ITER_DEST, bv, nr, len);
	return zc9p_fd_recv_iter(file, &iter);
}

ssize_t zc9p_fd_recv_buf(struct file *file, void *buf, size_t len)
{
	struct kvec kv = { .iov_base = buf, .iov_len = len };
	struct iov_iter iter;

	iov_iter_kvec(&iter, ITER_DEST, &kv, 1, len);
	return zc9p_fd_recv_iter(file, &iter);
}

bool zc9p_fd_page_spliceable(struct page *page)
{
	return sendpage_ok(page);
}

struct page *zc9p_fd_virt_to_page(const void *addr)
{
	return virt_to_page(addr);
}

void zc9p_fd_bvec_set(struct bio_vec *bv, struct page *page, unsigned int len,
		      unsigned int offset)
{
	bvec_set_page(bv, page, len, offset);
}

/* Up to two wait queues per file (a pipe has one per direction). */
#define ZC9P_FD_POLL_ENTRIES 4

struct zc9p_fd_poller {
	poll_table pt;
	void *ctx;
	int n;
	struct {
		wait_queue_entry_t wait;
		wait_queue_head_t *head;
	} entries[ZC9P_FD_POLL_ENTRIES];
};

static int zc9p_fd_pollwake(wait_queue_entry_t *wait, unsigned int mode, int sync, void *key)
{
	struct zc9p_fd_poller *p = wait->private;
	/* No key: the waker did not say which events (treat it as any). */
	bool write_space = key && !(key_to_poll(key) & ~(EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND));

	zc9p_rs_fd_ready(p->ctx, write_space);
	return 0;
}

static void zc9p_fd_pollwait(struct file *file, wait_queue_head_t *head, poll_table *pt)
{
	struct zc9p_fd_poller *p = container_of(pt, struct zc9p_fd_poller, pt);
	int i;

	for (i = 0; i < p->n; i++)
		if (p->entries[i].head == head)
			return; /* the same queue for both directions (a socket) */
	if (WARN_ON_ONCE(p->n == ZC9P_FD_POLL_ENTRIES))
		return;
	i = p->n++;
	init_waitqueue_func_entry(&p->entries[i].wait, zc9p_fd_pollwake);
	p->entries[i].wait.private = p;
	p->entries[i].head = head;
	add_wait_queue(head, &p->entries[i].wait);
}

struct zc9p_fd_poller *zc9p_fd_poll_start(struct file *rd, struct file *wr, void *ctx,
					  unsigned int *mask)
{
	struct zc9p_fd_poller *p = kzalloc(sizeof(*p), GFP_KERNEL);

	if (!p)
		return ERR_PTR(-ENOMEM);
	p->ctx = ctx;
	init_poll_funcptr(&p->pt, zc9p_fd_pollwait);
	*mask = vfs_poll(rd, &p->pt);
	if (wr != rd)
		*mask |= vfs_poll(wr, &p->pt);
	return p;
}

void zc9p_fd_poll_stop(struct zc9p_fd_poller *p)
{
	int i;

	for (i = 0; i < p->n; i++)
		remove_wait_queue(p->entries[i].head, &p->entries[i].wait);
	kfree(p);
}

void zc9p_fd_req_get(struct p9_req_t *req)
{
	p9_req_get(req);
}

void zc9p_fd_flush_work(struct work_struct *work)
{
	flush_work(work);
}
