/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zc9p C shim for the fd transports (tcp, unix, fd): the transport
 * descriptors, socket setup, non-blocking sends and receives over bio_vec
 * arrays, and the poll wait-queue entries that wake a connection's worker.
 * Thin forwarders only; the transport's logic is in Rust (rust/fd/).
 */
#ifndef ZC9P_SHIM_FD_H
#define ZC9P_SHIM_FD_H

#include "../common/shim_common.h"

struct p9_client;
struct p9_req_t;
struct fs_context;
struct iov_iter;
struct file;
struct bio_vec;
struct page;
struct workqueue_struct;
struct zc9p_fd_poller;

/* Which transport a mount asked for. */
enum zc9p_fd_kind {
	ZC9P_FD_TCP = 0,
	ZC9P_FD_UNIX = 1,
	ZC9P_FD_FD = 2,
	ZC9P_FD_VSOCK = 3,
};

/* The largest message, as mainline's trans_fd (MAX_SOCK_BUF). */
#define ZC9P_FD_MAXSIZE (1024 * 1024)

/* Send flags. */
#define ZC9P_FD_SEND_MORE 1u   /* more of this frame follows (MSG_MORE) */
#define ZC9P_FD_SEND_SPLICE 2u /* reference the pages, do not copy them (MSG_SPLICE_PAGES) */

/*
 * Registers the three transports; fails with -EBUSY (and one log line) if
 * another module already serves one of their names.
 */
int zc9p_fd_register(bool zerocopy);
void zc9p_fd_unregister(void);
bool zc9p_fd_param_zerocopy(void);
/* The module's WQ_MEM_RECLAIM workqueue for the connections' workers. */
struct workqueue_struct *zc9p_fd_workqueue(void);

/*
 * The mount's source (address, socket path) and its parsed fd options,
 * recorded in the client for show_options as mainline does.
 */
struct zc9p_fd_opts {
	int rfd;
	int wfd;
	unsigned short port;
	bool privport;
};

const char *zc9p_fd_source(struct fs_context *fc);
void zc9p_fd_mount_opts(struct p9_client *client, struct fs_context *fc, enum zc9p_fd_kind kind,
			struct zc9p_fd_opts *opts);

/* Endpoints. Each returns 0 and a file reference, or a negative errno. */
int zc9p_fd_connect_tcp(const char *addr, unsigned short port, bool privport, struct file **filp);
int zc9p_fd_connect_unix(const char *path, struct file **filp);
/*
 * AF_VSOCK stream socket to @cid:@port, its receive buffer sized for the
 * largest message.
 */
int zc9p_fd_connect_vsock(unsigned int cid, unsigned int port, struct file **filp);
/*
 * trans=fd: sockets (stream) and pipes that support IOCB_NOWAIT only; the
 * files' flags are left alone.
 */
int zc9p_fd_open_fds(int rfd, int wfd, struct file **rd, struct file **wr);
void zc9p_fd_put_file(struct file *file);
/* Shuts a socket down both ways (a failed connection); nothing for pipes. */
void zc9p_fd_shutdown(struct file *file);
/*
 * A socket whose sendmsg references pages under MSG_SPLICE_PAGES (tcp, unix);
 * others (vsock) copy them whatever the flag says.
 */
bool zc9p_fd_splices_pages(struct file *file);

/*
 * Non-blocking I/O over @nr bio_vecs covering @len bytes: bytes moved, 0 at
 * end of file (receive), -EAGAIN when it would block, or another errno.
 */
ssize_t zc9p_fd_send(struct file *file, struct bio_vec *bv, unsigned int nr, size_t len,
		     unsigned int flags);
ssize_t zc9p_fd_recv(struct file *file, struct bio_vec *bv, unsigned int nr, size_t len);
ssize_t zc9p_fd_recv_buf(struct file *file, void *buf, size_t len);

/* Pages. */
bool zc9p_fd_page_spliceable(struct page *page); /* sendpage_ok */
struct page *zc9p_fd_virt_to_page(const void *addr);
void zc9p_fd_bvec_set(struct bio_vec *bv, struct page *page, unsigned int len,
		      unsigned int offset);

/*
 * Readiness: entries on @rd's and @wr's poll wait queues that call
 * zc9p_rs_fd_ready(@ctx, write_space) on every wake-up (any context),
 * write_space true when the waker named only write-space events. Returns the
 * poller, or an ERR_PTR; *@mask is the files' current poll mask.
 */
struct zc9p_fd_poller *zc9p_fd_poll_start(struct file *rd, struct file *wr, void *ctx,
					  unsigned int *mask);
/* Removes the entries (after which no call to zc9p_rs_fd_ready runs) and frees the poller. */
void zc9p_fd_poll_stop(struct zc9p_fd_poller *poller);

/* Another reference to a request (the frame being sent holds one). */
void zc9p_fd_req_get(struct p9_req_t *req);

/* Work items and reclaim scope. */
void zc9p_fd_flush_work(struct work_struct *work);

/* Implemented in Rust (rust/fd/transport.rs). */
int zc9p_rs_fd_create(struct p9_client *client, struct fs_context *fc, int kind);
void zc9p_rs_fd_close(struct p9_client *client);
int zc9p_rs_fd_request(struct p9_client *client, struct p9_req_t *req);
int zc9p_rs_fd_cancel(struct p9_client *client, struct p9_req_t *req);
int zc9p_rs_fd_cancelled(struct p9_client *client, struct p9_req_t *req);
int zc9p_rs_fd_zc_request(struct p9_client *client, struct p9_req_t *req,
			  struct iov_iter *uidata, struct iov_iter *uodata,
			  int inlen, int outlen, int in_hdr_len);
void zc9p_rs_fd_ready(void *ctx, bool write_space);

#endif /* ZC9P_SHIM_FD_H */
