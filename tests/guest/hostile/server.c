// SPDX-License-Identifier: GPL-2.0
/*
 * zc9p-hostile's server: the request handler, correct but for what --mode
 * asks (modes.c), on the synthetic tree (tree.c), and the loop that serves
 * one connection.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../stream.h"
#include "hostile.h"

enum mode mode;
long marg = -1;
uint32_t msize_cap, msize = 8192;
uint64_t fsize = 262144, seed = 1;
int rfd = -1, wfd = -1;
int triggered, muted;
int delay_type;
long delay_ms;
int store_fd = -1;
int lax_fids;
enum proto proto;
static int stalled;
static long long stall_until;
static int early_tag = -1;	/* early-rlerror: the Twrite answered before it was all in */

/* ---- request handling ---- */

static struct buf rm; /* the reply being built */

/*
 * The error of the version in use: Rlerror(errno) under 9P2000.L; Rerror with
 * the string (which the client maps to an errno with net/9p/error.c's table:
 * glibc's strerror() texts) under 9P2000, and the errno after it under .u.
 */
void error_reply(uint16_t tag, const char *ename, uint32_t ecode)
{
	if (proto == P_L) {
		msg_begin(&rm, RLERROR, tag);
		p32(&rm, ecode);
	} else {
		msg_begin(&rm, RERROR, tag);
		pstr(&rm, ename);
		if (proto == P_U)
			p32(&rm, ecode);
	}
	msg_end(&rm);
	send_msg(&rm);
}

static void rlerror(uint16_t tag, uint32_t ecode)
{
	error_reply(tag, strerror(ecode), ecode);
}

/* Builds Rread(tag) with n bytes of the stream from @off. */
void build_rread(struct buf *m, uint16_t tag, uint64_t off, uint32_t n)
{
	msg_begin(m, RREAD, tag);
	p32(m, n);
	if (m->len + n > m->cap) {
		m->cap = m->len + n + 64;
		m->b = xrealloc(m->b, m->cap);
	}
	for (uint32_t i = 0; i < n; i++)
		m->b[m->len + i] = stream_byte(seed, off + i);
	m->len += n;
	msg_end(m);
}

void close_conn(void)
{
	close(rfd);
	if (wfd != rfd)
		close(wfd);
}

/* The store's file ("data"): reads, writes and truncation go to --store. */
static void data_truncate(uint64_t size)
{
	if (ftruncate(store_fd, size))
		logf_("ftruncate: %s", strerror(errno));
	else
		logf_("data truncated to %llu", (unsigned long long)size);
}

/*
 * The fid[4] offset[8] count[4] that Tread and Treaddir carry: -1 when the
 * message is too short for them, 0 when the fid is unknown (answered with
 * EBADF), 1 when *f is the fid.
 */
static int io_args(struct req *r, uint16_t tag, struct fid **f, uint64_t *off, uint32_t *count)
{
	*f = fid_get(gn(r, 4));
	*off = gn(r, 8);
	*count = gn(r, 4);
	if (r->bad)
		return -1;
	if (!*f) {
		rlerror(tag, EBADF);
		return 0;
	}
	return 1;
}

void handle_now(const uint8_t *msg, uint32_t size)
{
	struct req r = { msg + HDR, msg + size, 0 };
	uint8_t type = msg[4];
	uint16_t tag = msg[5] | msg[6] << 8;
	char name[256];
	struct fid *f;

	if (verbose)
		logf_("T%u tag %u size %u", type, tag, size);
	if (muted)
		return;
	switch (type) {
	case TVERSION: {
		uint32_t ms = gn(&r, 4);

		gstr(&r, name);
		if (r.bad)
			break;
		msize = msize_cap && msize_cap < ms ? msize_cap : ms;
		fids_clear();
		proto = !strcmp(name, "9P2000.u") ? P_U : !strcmp(name, "9P2000") ? P_9P2000 : P_L;
		msg_begin(&rm, TVERSION + 1, tag);
		p32(&rm, msize);
		pstr(&rm, proto == P_U ? "9P2000.u" : proto == P_9P2000 ? "9P2000" :
			  strncmp(name, "9P2000.L", 8) ? "unknown" : "9P2000.L");
		msg_end(&rm);
		send_msg(&rm);
		logf_("version %s msize %u", name, msize);
		return;
	}
	case TATTACH: {
		uint32_t fid = gn(&r, 4);

		if (r.bad)
			break;
		if (fid_get(fid) && !lax_fids) {
			logf_("fid %u in use: Tattach tag %u refused", fid, tag);
			rlerror(tag, EINVAL);
			return;
		}
		fid_new(fid, N_ROOT);
		msg_begin(&rm, TATTACH + 1, tag);
		pqid(&rm, N_ROOT);
		msg_end(&rm);
		send_msg(&rm);
		return;
	}
	case TWALK: {
		uint32_t fid = gn(&r, 4), newfid = gn(&r, 4);
		uint16_t nw = gn(&r, 2);
		int node, qids[16], nq = 0;

		f = fid_get(fid);
		if (r.bad || nw > 16)
			break;
		if (!f) {
			rlerror(tag, EBADF);
			return;
		}
		if (newfid != fid && fid_get(newfid) && !lax_fids) {
			/* As QEMU's server: a new fid must not be in use. */
			logf_("fid %u in use: Twalk tag %u refused", newfid, tag);
			rlerror(tag, EINVAL);
			return;
		}
		node = f->node;
		for (int i = 0; i < nw; i++) {
			gstr(&r, name);
			if (r.bad)
				break;
			if (node != N_ROOT)
				break;
			if (!strcmp(name, "..") || !strcmp(name, "."))
				node = N_ROOT;
			else if (!strcmp(name, "good"))
				node = N_GOOD;
			else if (!strcmp(name, "bad"))
				node = N_BAD;
			else if (!strcmp(name, "data") && store_fd >= 0)
				node = N_DATA;
			else
				break;
			qids[nq++] = node;
		}
		if (r.bad)
			break;
		if (nw && !nq) {
			rlerror(tag, f->node == N_ROOT ? ENOENT : ENOTDIR);
			return;
		}
		if (nq == nw)
			fid_new(newfid, node);
		msg_begin(&rm, TWALK + 1, tag);
		p16(&rm, nq);
		for (int i = 0; i < nq; i++)
			pqid(&rm, qids[i]);
		msg_end(&rm);
		send_msg(&rm);
		return;
	}
	case TGETATTR:
	case TLOPEN:
	case TOPEN:
	case TSTAT:
	case TWSTAT:
	case TSETATTR:
	case TFSYNC:
	case TCLUNK:
	case TSTATFS:
		f = fid_get(gn(&r, 4));
		if (r.bad)
			break;
		if (!f) {
			rlerror(tag, EBADF);
			return;
		}
		msg_begin(&rm, type + 1, tag);
		if (type == TGETATTR) {
			getattr_body(&rm, f->node);
		} else if (type == TLOPEN || type == TOPEN) {
			/* Rlopen and Ropen: qid iounit. Truncation: P9_DOTL_TRUNC, P9_OTRUNC. */
			uint32_t flags = gn(&r, type == TLOPEN ? 4 : 1);

			if (f->node == N_DATA && (flags & (type == TLOPEN ? 01000 : 0x10)))
				data_truncate(0);
			pqid(&rm, f->node);
			p32(&rm, 0);
		} else if (type == TSTAT) {
			size_t at = rm.len;

			p16(&rm, 0);	/* Rstat: n[2] stat[n] */
			stat_body(&rm, f->node);
			rm.b[at] = (rm.len - at - 2) & 0xff;
			rm.b[at + 1] = (rm.len - at - 2) >> 8;
		} else if (type == TSETATTR) {
			uint32_t valid = gn(&r, 4);
			uint64_t sz;

			gn(&r, 12); /* mode, uid, gid */
			sz = gn(&r, 8);
			if (!r.bad && f->node == N_DATA && (valid & 8)) /* P9_ATTR_SIZE */
				data_truncate(sz);
		} else if (type == TCLUNK) {
			f->used = 0;
		} else if (type == TSTATFS) {
			p32(&rm, 0x01021997);
			p32(&rm, 4096);
			p64(&rm, 1024);
			p64(&rm, 512);
			p64(&rm, 512);
			p64(&rm, 16);
			p64(&rm, 8);
			p64(&rm, 0);
			p32(&rm, 255);
		}
		msg_end(&rm);
		send_msg(&rm);
		return;
	case TXATTRWALK:
		rlerror(tag, ENODATA);
		return;
	case TREAD: {
		uint64_t off;
		uint32_t asked, n;
		int known;

		known = io_args(&r, tag, &f, &off, &asked);
		if (known < 0)
			break;
		if (!known)
			return;
		if (f->node == N_ROOT) {
			rlerror(tag, EISDIR);
			return;
		}
		if (asked > msize - 11)
			asked = msize - 11;
		if (f->node == N_DATA) {
			ssize_t got;

			msg_begin(&rm, RREAD, tag);
			p32(&rm, 0);
			if (rm.len + asked > rm.cap) {
				rm.cap = rm.len + asked + 64;
				rm.b = xrealloc(rm.b, rm.cap);
			}
			got = pread(store_fd, rm.b + rm.len, asked, off);
			if (got < 0) {
				rlerror(tag, errno);
				return;
			}
			rm.len += got;
			set32(rm.b + HDR, got);
			msg_end(&rm);
			send_msg(&rm);
			return;
		}
		n = off >= fsize ? 0 : fsize - off < asked ? fsize - off : asked;
		if (f->node == N_BAD && mode == M_OUT_OF_ORDER && !triggered) {
			build_rread(&rm, tag, off, n);
			hold(&rm, tag);
			logf_("held tag %u (offset %llu count %u)", tag, (unsigned long long)off, asked);
			if (!ooo_deadline)
				ooo_deadline = now_ms() + 3000;
			if (++nheld_ooo >= (marg > 0 ? marg : 4))
				release_ooo();
			return;
		}
		if (f->node == N_BAD && mode != M_NONE && mode != M_STOP_READING &&
		    mode != M_OUT_OF_ORDER && !triggered) {
			triggered = 1;
			bad_read(tag, off, asked, n);
			return;
		}
		build_rread(&rm, tag, off, n);
		send_msg(&rm);
		return;
	}
	case TWRITE: {
		uint32_t n;
		uint64_t off;

		f = fid_get(gn(&r, 4));
		off = gn(&r, 8);
		n = gn(&r, 4);
		if (r.bad || (size_t)(r.end - r.p) < n)
			break;
		if (!f) {
			rlerror(tag, EBADF);
			return;
		}
		if (f->node == N_DATA && pwrite(store_fd, r.p, n, off) != (ssize_t)n) {
			rlerror(tag, EIO);
			return;
		}
		msg_begin(&rm, RWRITE, tag);
		p32(&rm, n);
		msg_end(&rm);
		send_msg(&rm);
		if (f->node == N_BAD && mode == M_STOP_READING && !triggered) {
			triggered = 1;
			stalled = 1;
			stall_until = marg > 0 ? now_ms() + marg * 1000 : 0;
			logf_("trigger stop-reading: stall (%ld s) after Twrite tag %u", marg > 0 ? marg : 0, tag);
		}
		return;
	}
	case TREADDIR: {
		static const char *const ents[] = { ".", "..", "good", "bad", "data" };
		static const int enode[] = { N_ROOT, N_ROOT, N_GOOD, N_BAD, N_DATA };
		uint64_t nents = store_fd >= 0 ? 5 : 4;
		uint64_t off;
		uint32_t count;
		size_t at;
		int known;

		known = io_args(&r, tag, &f, &off, &count);
		if (known < 0)
			break;
		if (!known)
			return;
		if (f->node != N_ROOT) {
			rlerror(tag, ENOTDIR);
			return;
		}
		msg_begin(&rm, TREADDIR + 1, tag);
		p32(&rm, 0);
		at = rm.len;
		for (uint64_t i = off; i < nents; i++) {
			if (rm.len - at + 24 + strlen(ents[i]) > count)
				break;
			pqid(&rm, enode[i]);
			p64(&rm, i + 1);
			p8(&rm, enode[i] == N_ROOT ? DT_DIR : DT_REG);
			pstr(&rm, ents[i]);
		}
		set32(rm.b + HDR, rm.len - at);
		msg_end(&rm);
		send_msg(&rm);
		return;
	}
	case TFLUSH: {
		uint16_t old = gn(&r, 2);
		struct held *h;

		if (r.bad)
			break;
		if (deferred_drop(old)) {
			/* Never handled: it had no effect, and gets no reply. */
			logf_("flush tag %u (old tag %u, deferred: dropped)", tag, old);
			msg_begin(&rm, RFLUSH, tag);
			msg_end(&rm);
			send_msg(&rm);
			return;
		}
		h = held_find(old);
		logf_("flush tag %u (old tag %u, %s)", tag, old, h ? "held" : "not held");
		if (h && mode == M_RLERROR_TO_FLUSH) {
			rlerror(tag, EINVAL);
			return;
		}
		if (h && mode == M_FLUSHED_BEFORE)
			send_msg(&h->m);
		msg_begin(&rm, TFLUSH + 1, tag);
		msg_end(&rm);
		send_msg(&rm);
		if (h && mode == M_FLUSHED_AFTER)
			send_msg(&h->m);
		if (h) {
			h->used = 0;
			if (mode == M_OUT_OF_ORDER)
				nheld_ooo--;
		}
		return;
	}
	default:
		logf_("unsupported T%u tag %u: EOPNOTSUPP", type, tag);
		rlerror(tag, EOPNOTSUPP);
		return;
	}
	logf_("malformed T%u tag %u size %u: EINVAL", type, tag, size);
	rlerror(tag, EINVAL);
}

/* ---- the connection loop ---- */

void serve(void)
{
	struct buf in = { 0 };
	size_t in_off = 0;

	fcntl(rfd, F_SETFL, fcntl(rfd, F_GETFL) | O_NONBLOCK);
	fcntl(wfd, F_SETFL, fcntl(wfd, F_GETFL) | O_NONBLOCK);
	logf_("serving (mode %s, size %llu, seed %llu)", modes[mode].name,
	      (unsigned long long)fsize, (unsigned long long)seed);
	for (;;) {
		long long now = now_ms();
		int timeout = -1, want_write = 0, nfd, dnext;
		struct pollfd p[2];

		if (stalled && stall_until && now >= stall_until) {
			stalled = 0;
			logf_("resume");
		}
		if (ooo_deadline && now >= ooo_deadline)
			release_ooo();
		/* Process whole requests already read. */
		while (!stalled && in.len - in_off >= 4) {
			uint32_t size = in.b[in_off] | in.b[in_off + 1] << 8 |
					in.b[in_off + 2] << 16 | (uint32_t)in.b[in_off + 3] << 24;

			if (size < HDR || size > (msize > 65536 ? msize : 65536) + 65536) {
				logf_("bad request size %u: closing", size);
				close_conn();
				bye(2, "closed");
			}
			if (early_tag >= 0 && in.len - in_off >= HDR &&
			    (in.b[in_off + 5] | in.b[in_off + 6] << 8) == early_tag && in.b[in_off + 4] == TWRITE) {
				/* The rest of the Twrite answered early: drained, not handled. */
				if (in.len - in_off < size)
					break;
				logf_("drained Twrite tag %d (%u bytes)", early_tag, size);
				early_tag = -1;
				in_off += size;
				continue;
			}
			if (in.len - in_off < size) {
				if (mode == M_EARLY_RLERROR && !triggered && in.len - in_off >= HDR + 16 &&
				    in.b[in_off + 4] == TWRITE) {
					struct req r = { in.b + in_off + HDR, in.b + in.len, 0 };
					struct fid *f = fid_get(gn(&r, 4));
					uint16_t tag = in.b[in_off + 5] | in.b[in_off + 6] << 8;

					if (f && f->node == N_BAD) {
						triggered = 1;
						early_tag = tag;
						logf_("trigger early-rlerror: Twrite tag %u, %zu of %u bytes in", tag,
						      in.len - in_off, size);
						rlerror(tag, EFBIG);
						stalled = 1;
						stall_until = now_ms() + 1000;
					}
				}
				break;
			}
			handle(in.b + in_off, size);
			in_off += size;
		}
		if (in_off == in.len)
			in_off = in.len = 0;
		/* After the requests just read: some may have been deferred. */
		dnext = run_deferred(now);
		if (flush_out(now) < 0)
			bye(0, "eof (write)");
		if (out_off < out.len) {
			if (out_off < slow_end && now < next_slow)
				timeout = next_slow - now;
			else
				want_write = 1;
		}
		if (stalled && stall_until)
			timeout = timeout < 0 || stall_until - now < timeout ? stall_until - now : timeout;
		if (ooo_deadline)
			timeout = timeout < 0 || ooo_deadline - now < timeout ? ooo_deadline - now : timeout;
		if (dnext >= 0)
			timeout = timeout < 0 || dnext < timeout ? dnext : timeout;
		if (timeout < -1)
			timeout = 0;
		p[0] = (struct pollfd){ .fd = rfd, .events = stalled ? 0 : POLLIN };
		p[1] = (struct pollfd){ .fd = wfd, .events = want_write ? POLLOUT : 0 };
		nfd = poll(p, 2, timeout);
		if (nfd < 0 && errno != EINTR) {
			logf_("poll: %s", strerror(errno));
			exit(2);
		}
		if (!stalled && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t n;

			if (in.cap - in.len < 65536) {
				in.cap = in.len + 4 * 65536;
				in.b = xrealloc(in.b, in.cap);
			}
			n = read(rfd, in.b + in.len, in.cap - in.len);
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
				bye(0, n ? "eof (read error)" : "eof (read: 0)");
			if (n > 0)
				in.len += n;
		}
		if (p[0].revents & POLLNVAL)
			exit(2);
		if (stalled && (p[0].revents & (POLLHUP | POLLERR)))
			bye(0, "eof (hangup while stalled)");
	}
}
