// SPDX-License-Identifier: GPL-2.0
/*
 * zc9p-hostile: a 9P2000.L server that breaks the protocol on purpose, for
 * the fd transports' hostile-server tests (tests/guest/hostile.sh), and the
 * client helpers those tests use.
 *
 * It serves a synthetic tree: the root directory with the files "good" and
 * "bad", both --size bytes of zc9p-check's stream with seed --seed (so
 * `zc9p-check verify DIR/good SIZE SEED` passes). Everything is correct except
 * what --mode asks for, which happens on the first Tread of "bad" (the first
 * Twrite of it for stop-reading): a mount works, and "good" verifies before
 * and (if the client kept the connection) after.
 *
 *   zc9p-hostile [OPTIONS]     serve one connection, then exit
 *     -l HOST:PORT | -l /PATH  listen on tcp or on a unix socket, accept one
 *     --rfd R --wfd W          or serve these file descriptors
 *     --mount DIR              or make a socketpair, serve one end and mount
 *                              DIR with trans=fd on the other; prints OK or
 *                              the mount's errno name (exit status 0 or 1)
 *     --mopts OPTS             the rest of that mount's options (default
 *                              version=9p2000.L,msize=65536)
 *     --mode MODE --arg N      the misbehaviour (see the table below)
 *     --msize N                cap on the negotiated msize (default: echo)
 *     --size N --seed S        the files' size (default 262144) and seed (1)
 *     --pidfile F              detach once listening (or once mounted): the
 *                              server runs on in the background; F gets its pid
 *     --log F                  event log, one line per event ("held", "trigger",
 *                              "flush", "stall", "eof"...); -v logs every message
 *
 *   zc9p-hostile readat PATH OFFSET SIZE SEED   one pread(2) into an mmap'ed
 *       buffer; prints OK, "SHORT n" (n correct bytes), "BADDATA n" (first
 *       wrong byte) or the errno name; exit status 0 only for OK
 *   zc9p-hostile writeat PATH SIZE BLOCK        pwrite(2)s SIZE bytes from offset
 *       0 (no O_TRUNC, no fsync); prints OK or the errno name
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "stream.h"

/* 9P2000.L message types. */
enum {
	RLERROR = 7, TSTATFS = 8, TLOPEN = 12, TGETATTR = 24, TSETATTR = 26,
	TXATTRWALK = 30, TREADDIR = 40, TFSYNC = 50, TVERSION = 100,
	TATTACH = 104, TFLUSH = 108, TWALK = 110, TREAD = 116, RREAD = 117,
	TWRITE = 118, RWRITE = 119, TCLUNK = 120,
};
#define NOTAG 0xffff
#define HDR 7

enum mode {
	M_NONE, M_SIZE_LT_7, M_SIZE_GT_MSIZE, M_SIZE_GT_BUFFER, M_COUNT_GT_ASKED,
	M_COUNT_NE_SIZE, M_UNKNOWN_TAG, M_DUPLICATE, M_WRONG_TYPE,
	M_FLUSHED_BEFORE, M_FLUSHED_AFTER, M_RLERROR_TO_FLUSH, M_TRUNC_EOF,
	M_TRUNC_SILENCE, M_DRIBBLE, M_OUT_OF_ORDER, M_STOP_READING, M_KILLED,
};

/* What each mode does to the first Tread of "bad" (its reply: Rread of n bytes). */
static const struct {
	const char *name;
	const char *what;
} modes[] = {
	[M_NONE] = { "none", "everything correct" },
	[M_SIZE_LT_7] = { "size-lt-7", "frame size field --arg (default 6), then a normal body" },
	[M_SIZE_GT_MSIZE] = { "size-gt-msize", "a consistent Rread of msize + --arg bytes (default 4096)" },
	[M_SIZE_GT_BUFFER] = { "size-gt-buffer", "a consistent Rread carrying asked + 4096 bytes (capped at msize)" },
	[M_COUNT_GT_ASKED] = { "count-gt-asked", "a consistent Rread of asked + --arg bytes (default 1)" },
	[M_COUNT_NE_SIZE] = { "count-ne-size", "count = n but only n/2 bytes in the frame" },
	[M_UNKNOWN_TAG] = { "unknown-tag", "an Rread for a tag not in flight, then the right reply" },
	[M_DUPLICATE] = { "duplicate-reply", "the right reply twice, back to back" },
	[M_WRONG_TYPE] = { "wrong-type", "an Rwrite (count n) instead of the Rread" },
	[M_FLUSHED_BEFORE] = { "flushed-before", "held; on its Tflush: the Rread, then Rflush" },
	[M_FLUSHED_AFTER] = { "flushed-after", "held; on its Tflush: Rflush, then the Rread" },
	[M_RLERROR_TO_FLUSH] = { "rlerror-to-flush", "held for ever; its Tflush gets Rlerror(EINVAL)" },
	[M_TRUNC_EOF] = { "truncated-eof", "half the frame, then the connection is closed" },
	[M_TRUNC_SILENCE] = { "truncated-silence", "half the frame, then silence (requests read, never answered)" },
	[M_DRIBBLE] = { "dribble", "the right reply, a byte or a few at a time with 1 ms pauses" },
	[M_OUT_OF_ORDER] = { "out-of-order", "the first --arg (default 4) Treads of bad held (at most 3 s), answered in reverse" },
	[M_STOP_READING] = { "stop-reading", "after answering the first Twrite of bad, stop reading for --arg s (0: for ever)" },
	[M_KILLED] = { "killed", "held for ever (the test kills the server)" },
};
#define NMODES (sizeof(modes) / sizeof(modes[0]))

static enum mode mode;
static long marg = -1;
static uint32_t msize_cap, msize = 8192;
static uint64_t fsize = 262144, seed = 1;
static int logfd = -1, verbose;
static int rfd = -1, wfd = -1;
static int triggered, muted, stalled;
static long long stall_until, t0;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void logf_(const char *fmt, ...)
{
	char buf[512];
	int n;
	va_list ap;

	if (logfd < 0)
		return;
	n = snprintf(buf, sizeof(buf), "%lld.%03lld ", (now_ms() - t0) / 1000, (now_ms() - t0) % 1000);
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(logfd, buf, n) < 0)
		return;
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		logf_("out of memory");
		exit(3);
	}
	return p;
}

/* ---- message building ---- */

struct buf {
	uint8_t *b;
	size_t len, cap;
};

static void put(struct buf *m, const void *p, size_t n)
{
	if (m->len + n > m->cap) {
		m->cap = (m->len + n) * 2 + 64;
		m->b = xrealloc(m->b, m->cap);
	}
	memcpy(m->b + m->len, p, n);
	m->len += n;
}

static void p8(struct buf *m, uint8_t v) { put(m, &v, 1); }

static void p16(struct buf *m, uint16_t v)
{
	uint8_t b[2] = { v, v >> 8 };

	put(m, b, 2);
}

static void p32(struct buf *m, uint32_t v)
{
	uint8_t b[4] = { v, v >> 8, v >> 16, v >> 24 };

	put(m, b, 4);
}

static void p64(struct buf *m, uint64_t v)
{
	p32(m, v);
	p32(m, v >> 32);
}

static void pstr(struct buf *m, const char *s)
{
	p16(m, strlen(s));
	put(m, s, strlen(s));
}

static void set32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

/* Starts a message: size (filled by msg_end), type, tag. */
static void msg_begin(struct buf *m, uint8_t type, uint16_t tag)
{
	m->len = 0;
	p32(m, 0);
	p8(m, type);
	p16(m, tag);
}

static void msg_end(struct buf *m)
{
	set32(m->b, m->len);
}

/* ---- request parsing ---- */

struct req {
	const uint8_t *p, *end;
	int bad;
};

static uint64_t gn(struct req *r, int n)
{
	uint64_t v = 0;

	if (r->end - r->p < n) {
		r->bad = 1;
		return 0;
	}
	for (int i = 0; i < n; i++)
		v |= (uint64_t)r->p[i] << (8 * i);
	r->p += n;
	return v;
}

/* A string, NUL-terminated into @out (at most 255 bytes). */
static void gstr(struct req *r, char *out)
{
	size_t n = gn(r, 2);

	if (r->bad || (size_t)(r->end - r->p) < n || n > 255) {
		r->bad = 1;
		out[0] = 0;
		return;
	}
	memcpy(out, r->p, n);
	out[n] = 0;
	r->p += n;
}

/* ---- the tree ---- */

enum { N_ROOT, N_GOOD, N_BAD };

static void pqid(struct buf *m, int node)
{
	p8(m, node == N_ROOT ? 0x80 : 0);
	p32(m, 0);
	p64(m, node + 1);
}

struct fid {
	uint32_t fid;
	int node, used;
};
static struct fid *fids;
static size_t nfids;

static struct fid *fid_get(uint32_t fid)
{
	for (size_t i = 0; i < nfids; i++)
		if (fids[i].used && fids[i].fid == fid)
			return &fids[i];
	return NULL;
}

static struct fid *fid_new(uint32_t fid, int node)
{
	struct fid *f = fid_get(fid);

	for (size_t i = 0; !f && i < nfids; i++)
		if (!fids[i].used)
			f = &fids[i];
	if (!f) {
		fids = xrealloc(fids, (nfids + 64) * sizeof(*fids));
		memset(fids + nfids, 0, 64 * sizeof(*fids));
		f = &fids[nfids];
		nfids += 64;
	}
	f->fid = fid;
	f->node = node;
	f->used = 1;
	return f;
}

/* ---- output: a byte queue, optionally dribbled ---- */

static struct buf out;
static size_t out_off;
static size_t slow_end;		/* bytes of out before this offset go out slowly */
static size_t slow_sent;	/* how many of them went so far (chunk sizes) */
static long long next_slow;

static void send_bytes(const void *p, size_t n)
{
	if (muted)
		return;
	if (out_off && out_off == out.len)
		out.len = out_off = slow_end = 0;
	put(&out, p, n);
}

static void send_msg(struct buf *m)
{
	send_bytes(m->b, m->len);
}

static void send_slow(struct buf *m)
{
	send_msg(m);
	slow_end = out.len;
	slow_sent = 0;
}

/* Writes what it can; returns -1 once the peer is gone. */
static int flush_out(long long now)
{
	while (out_off < out.len) {
		size_t n = out.len - out_off;
		ssize_t w;

		if (out_off < slow_end) {
			/* One byte at a time for the first 64, then 1..1500-byte pieces. */
			size_t piece = slow_sent < 64 ? 1 : 1 + (slow_sent * 7919) % 1500;

			if (now < next_slow)
				return 0;
			if (n > slow_end - out_off)
				n = slow_end - out_off;
			if (n > piece)
				n = piece;
		}
		w = write(wfd, out.b + out_off, n);
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (w <= 0) {
			logf_("write: %s", w < 0 ? strerror(errno) : "0");
			return -1;
		}
		if (out_off < slow_end) {
			slow_sent += w;
			next_slow = now + 1;
		}
		out_off += w;
	}
	return 0;
}

/* Blocks until everything queued has gone out (or the peer is gone). */
static void drain_out(void)
{
	while (out_off < out.len) {
		struct pollfd p = { .fd = wfd, .events = POLLOUT };

		poll(&p, 1, 10);
		if (flush_out(now_ms()) < 0)
			return;
	}
}

/* ---- held replies ---- */

struct held {
	int used;
	uint16_t tag;
	struct buf m;
};
static struct held held[32];
static int nheld_ooo;
static long long ooo_deadline;

static struct held *hold(struct buf *m, uint16_t tag)
{
	for (size_t i = 0; i < sizeof(held) / sizeof(held[0]); i++)
		if (!held[i].used) {
			held[i].used = 1;
			held[i].tag = tag;
			held[i].m.len = 0;
			put(&held[i].m, m->b, m->len);
			return &held[i];
		}
	logf_("too many held replies: sending tag %u", tag);
	send_msg(m);
	return NULL;
}

static struct held *held_find(uint16_t tag)
{
	for (size_t i = 0; i < sizeof(held) / sizeof(held[0]); i++)
		if (held[i].used && held[i].tag == tag)
			return &held[i];
	return NULL;
}

static void release_ooo(void)
{
	int n = 0;

	/* Held in arrival order in held[0..]; send from the last one back. */
	for (int i = sizeof(held) / sizeof(held[0]) - 1; i >= 0; i--)
		if (held[i].used) {
			send_msg(&held[i].m);
			held[i].used = 0;
			logf_("release tag %u", held[i].tag);
			n++;
		}
	logf_("released %d in reverse order", n);
	ooo_deadline = 0;
	triggered = 1;
}

/* ---- request handling ---- */

static struct buf rm; /* the reply being built */

static void rlerror(uint16_t tag, uint32_t ecode)
{
	msg_begin(&rm, RLERROR, tag);
	p32(&rm, ecode);
	msg_end(&rm);
	send_msg(&rm);
}

static void getattr_body(struct buf *m, int node)
{
	int dir = node == N_ROOT;

	p64(m, 0x7ff);
	pqid(m, node);
	p32(m, dir ? 040755 : 0100644);
	p32(m, 0);
	p32(m, 0);
	p64(m, dir ? 2 : 1);
	p64(m, 0);
	p64(m, dir ? 4096 : fsize);
	p64(m, 4096);
	p64(m, dir ? 8 : (fsize + 511) / 512);
	for (int i = 0; i < 8; i++) { /* a/m/c/btime sec+nsec */
		p64(m, i & 1 ? 0 : 1700000000);
	}
	p64(m, 0);
	p64(m, 0);
}

/* Builds Rread(tag) with n bytes of the stream from @off. */
static void build_rread(struct buf *m, uint16_t tag, uint64_t off, uint32_t n)
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

static void close_conn(void)
{
	close(rfd);
	if (wfd != rfd)
		close(wfd);
}

/* The first Tread of "bad": the misbehaviour. */
static void bad_read(uint16_t tag, uint64_t off, uint32_t asked, uint32_t n)
{
	static struct buf m;
	uint32_t c;

	logf_("trigger %s: Tread tag %u offset %llu count %u", modes[mode].name, tag,
	      (unsigned long long)off, asked);
	switch (mode) {
	case M_SIZE_LT_7:
		build_rread(&m, tag, off, n);
		set32(m.b, marg >= 0 ? marg : 6);
		send_msg(&m);
		break;
	case M_SIZE_GT_MSIZE:
		build_rread(&m, tag, off, msize + (marg >= 0 ? marg : 4096) - 11);
		send_msg(&m);
		break;
	case M_SIZE_GT_BUFFER:
		c = asked + 4096;
		if (c > msize - 11)
			c = msize - 11;
		build_rread(&m, tag, off, c);
		send_msg(&m);
		break;
	case M_COUNT_GT_ASKED:
		build_rread(&m, tag, off, asked + (marg >= 0 ? marg : 1));
		send_msg(&m);
		break;
	case M_COUNT_NE_SIZE:
		build_rread(&m, tag, off, n / 2);
		set32(m.b + HDR, n);
		send_msg(&m);
		break;
	case M_UNKNOWN_TAG: {
		uint16_t t = 0xfffe;

		while (t == tag || held_find(t))
			t--;
		build_rread(&m, t, off, n);
		send_msg(&m);
		logf_("sent Rread for tag %u", t);
		build_rread(&m, tag, off, n);
		send_msg(&m);
		break;
	}
	case M_DUPLICATE:
		build_rread(&m, tag, off, n);
		send_msg(&m);
		send_msg(&m);
		break;
	case M_WRONG_TYPE:
		msg_begin(&m, RWRITE, tag);
		p32(&m, n);
		msg_end(&m);
		send_msg(&m);
		break;
	case M_FLUSHED_BEFORE:
	case M_FLUSHED_AFTER:
	case M_RLERROR_TO_FLUSH:
	case M_KILLED:
		build_rread(&m, tag, off, n);
		hold(&m, tag);
		logf_("held tag %u", tag);
		break;
	case M_TRUNC_EOF:
	case M_TRUNC_SILENCE:
		build_rread(&m, tag, off, n);
		send_bytes(m.b, m.len / 2);
		logf_("sent %zu of %zu bytes", m.len / 2, m.len);
		drain_out();
		if (mode == M_TRUNC_EOF) {
			close_conn();
			logf_("closed");
			exit(0);
		}
		muted = 1;
		logf_("silent");
		break;
	case M_DRIBBLE:
		build_rread(&m, tag, off, n);
		send_slow(&m);
		break;
	default:
		build_rread(&m, tag, off, n);
		send_msg(&m);
		break;
	}
}

static void handle(const uint8_t *msg, uint32_t size)
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
		for (size_t i = 0; i < nfids; i++)
			fids[i].used = 0;
		msg_begin(&rm, TVERSION + 1, tag);
		p32(&rm, msize);
		pstr(&rm, strncmp(name, "9P2000.L", 8) ? "unknown" : "9P2000.L");
		msg_end(&rm);
		send_msg(&rm);
		logf_("version %s msize %u", name, msize);
		return;
	}
	case TATTACH: {
		uint32_t fid = gn(&r, 4);

		if (r.bad)
			break;
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
		} else if (type == TLOPEN) {
			pqid(&rm, f->node);
			p32(&rm, 0);
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

		f = fid_get(gn(&r, 4));
		off = gn(&r, 8);
		asked = gn(&r, 4);
		if (r.bad)
			break;
		if (!f) {
			rlerror(tag, EBADF);
			return;
		}
		if (f->node == N_ROOT) {
			rlerror(tag, EISDIR);
			return;
		}
		if (asked > msize - 11)
			asked = msize - 11;
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

		f = fid_get(gn(&r, 4));
		gn(&r, 8);
		n = gn(&r, 4);
		if (r.bad || (size_t)(r.end - r.p) < n)
			break;
		if (!f) {
			rlerror(tag, EBADF);
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
		static const char *const ents[] = { ".", "..", "good", "bad" };
		static const int enode[] = { N_ROOT, N_ROOT, N_GOOD, N_BAD };
		uint64_t off;
		uint32_t count;
		size_t at;

		f = fid_get(gn(&r, 4));
		off = gn(&r, 8);
		count = gn(&r, 4);
		if (r.bad)
			break;
		if (!f) {
			rlerror(tag, EBADF);
			return;
		}
		if (f->node != N_ROOT) {
			rlerror(tag, ENOTDIR);
			return;
		}
		msg_begin(&rm, TREADDIR + 1, tag);
		p32(&rm, 0);
		at = rm.len;
		for (uint64_t i = off; i < 4; i++) {
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

static void serve(void)
{
	struct buf in = { 0 };
	size_t in_off = 0;

	fcntl(rfd, F_SETFL, fcntl(rfd, F_GETFL) | O_NONBLOCK);
	fcntl(wfd, F_SETFL, fcntl(wfd, F_GETFL) | O_NONBLOCK);
	logf_("serving (mode %s, size %llu, seed %llu)", modes[mode].name,
	      (unsigned long long)fsize, (unsigned long long)seed);
	for (;;) {
		long long now = now_ms();
		int timeout = -1, want_write = 0, nfd;
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
				exit(2);
			}
			if (in.len - in_off < size)
				break;
			handle(in.b + in_off, size);
			in_off += size;
		}
		if (in_off == in.len)
			in_off = in.len = 0;
		if (flush_out(now) < 0) {
			logf_("eof (write)");
			exit(0);
		}
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
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
				logf_("eof (read: %s)", n ? strerror(errno) : "0");
				exit(0);
			}
			if (n > 0)
				in.len += n;
		}
		if (p[0].revents & POLLNVAL)
			exit(2);
		if (stalled && (p[0].revents & (POLLHUP | POLLERR))) {
			logf_("eof (hangup while stalled)");
			exit(0);
		}
	}
}

/* ---- client helpers ---- */

static const char *errname(int e)
{
	const char *n = strerrorname_np(e);
	static char b[16];

	if (n)
		return n;
	snprintf(b, sizeof(b), "E%d", e);
	return b;
}

static int readat(const char *path, uint64_t off, size_t size, uint64_t s)
{
	uint8_t *b = mmap(NULL, size + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int fd = open(path, O_RDONLY);
	ssize_t r;

	if (fd < 0) {
		printf("%s\n", errname(errno));
		return 1;
	}
	/* A pattern the stream is unlikely to match, so unfilled bytes show. */
	memset(b, 0xa5, size);
	r = pread(fd, b, size, off);
	if (r < 0) {
		printf("%s\n", errname(errno));
		return 1;
	}
	for (ssize_t i = 0; i < r; i++)
		if (b[i] != stream_byte(s, off + i)) {
			printf("BADDATA %zd\n", i);
			return 1;
		}
	if ((size_t)r != size) {
		printf("SHORT %zd\n", r);
		return 1;
	}
	printf("OK\n");
	return 0;
}

static int writeat(const char *path, uint64_t size, size_t bs)
{
	uint8_t *b = mmap(NULL, bs, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int fd = open(path, O_WRONLY);

	if (fd < 0) {
		printf("%s\n", errname(errno));
		return 1;
	}
	for (uint64_t pos = 0; pos < size;) {
		size_t n = size - pos < bs ? size - pos : bs;
		ssize_t w;

		for (size_t i = 0; i < n; i++)
			b[i] = stream_byte(seed, pos + i);
		w = pwrite(fd, b, n, pos);
		if (w <= 0) {
			printf("%s\n", w < 0 ? errname(errno) : "ZERO");
			return 1;
		}
		pos += w;
	}
	if (close(fd)) {
		printf("%s\n", errname(errno));
		return 1;
	}
	printf("OK\n");
	return 0;
}

/* ---- setup ---- */

static int listen_on(const char *addr)
{
	int s, one = 1;

	if (addr[0] == '/') {
		struct sockaddr_un u = { .sun_family = AF_UNIX };

		snprintf(u.sun_path, sizeof(u.sun_path), "%s", addr);
		unlink(addr);
		s = socket(AF_UNIX, SOCK_STREAM, 0);
		if (s < 0 || bind(s, (struct sockaddr *)&u, sizeof(u)))
			return -1;
	} else {
		struct sockaddr_in in = { .sin_family = AF_INET };
		char host[64];
		const char *colon = strrchr(addr, ':');

		if (!colon || colon - addr >= (long)sizeof(host)) {
			errno = EINVAL;
			return -1;
		}
		memcpy(host, addr, colon - addr);
		host[colon - addr] = 0;
		in.sin_port = htons(atoi(colon + 1));
		if (inet_pton(AF_INET, host, &in.sin_addr) != 1) {
			errno = EINVAL;
			return -1;
		}
		s = socket(AF_INET, SOCK_STREAM, 0);
		if (s < 0)
			return -1;
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(s, (struct sockaddr *)&in, sizeof(in)))
			return -1;
	}
	if (mode == M_STOP_READING) {
		/* A small receive window, so a stalled server stops the client's sends soon. */
		int small = 4096;

		setsockopt(s, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	}
	if (listen(s, 1))
		return -1;
	return s;
}

static void usage(void)
{
	fprintf(stderr, "usage: see the comment at the top of zc9p-hostile.c; modes:\n");
	for (size_t i = 0; i < NMODES; i++)
		fprintf(stderr, "  %-18s %s\n", modes[i].name, modes[i].what);
	exit(2);
}

/* The server's side of detaching: stdio away from the caller's pipes, own session. */
static void detach_child(void)
{
	int null = open("/dev/null", O_RDWR);

	dup2(null, 0);
	dup2(logfd >= 0 ? logfd : null, 1);
	dup2(logfd >= 0 ? logfd : null, 2);
	if (null > 2)
		close(null);
	setsid();
}

static void write_pidfile(const char *f, pid_t pid)
{
	FILE *p = fopen(f, "w");

	if (p) {
		fprintf(p, "%d\n", (int)pid);
		fclose(p);
	}
}

int main(int argc, char **argv)
{
	const char *listen_addr = NULL, *pidfile = NULL, *mountdir = NULL;
	const char *mopts = "version=9p2000.L,msize=65536";

	if (argc == 6 && !strcmp(argv[1], "readat"))
		return readat(argv[2], strtoull(argv[3], NULL, 0), strtoul(argv[4], NULL, 0),
			      strtoull(argv[5], NULL, 0));
	if (argc == 5 && !strcmp(argv[1], "writeat"))
		return writeat(argv[2], strtoull(argv[3], NULL, 0), strtoul(argv[4], NULL, 0));

	t0 = now_ms();
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(o, "-v")) {
			verbose = 1;
			continue;
		}
		if (!v)
			usage();
		i++;
		if (!strcmp(o, "-l"))
			listen_addr = v;
		else if (!strcmp(o, "--rfd"))
			rfd = atoi(v);
		else if (!strcmp(o, "--wfd"))
			wfd = atoi(v);
		else if (!strcmp(o, "--mount"))
			mountdir = v;
		else if (!strcmp(o, "--mopts"))
			mopts = v;
		else if (!strcmp(o, "--arg"))
			marg = atol(v);
		else if (!strcmp(o, "--msize"))
			msize_cap = strtoul(v, NULL, 0);
		else if (!strcmp(o, "--size"))
			fsize = strtoull(v, NULL, 0);
		else if (!strcmp(o, "--seed"))
			seed = strtoull(v, NULL, 0);
		else if (!strcmp(o, "--pidfile"))
			pidfile = v;
		else if (!strcmp(o, "--log")) {
			logfd = open(v, O_WRONLY | O_CREAT | O_APPEND, 0644);
			if (logfd < 0) {
				perror(v);
				return 2;
			}
		} else if (!strcmp(o, "--mode")) {
			size_t m;

			for (m = 0; m < NMODES && strcmp(modes[m].name, v); m++)
				;
			if (m == NMODES)
				usage();
			mode = m;
		} else {
			usage();
		}
	}
	signal(SIGPIPE, SIG_IGN);

	if (mountdir) {
		int sv[2];
		char opts[512];
		pid_t pid;
		int e;

		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) {
			perror("socketpair");
			return 2;
		}
		pid = fork();
		if (pid < 0) {
			perror("fork");
			return 2;
		}
		if (!pid) {
			close(sv[0]);
			detach_child();
			rfd = wfd = sv[1];
			serve();
		}
		close(sv[1]);
		snprintf(opts, sizeof(opts), "trans=fd,rfdno=%d,wfdno=%d,%s", sv[0], sv[0], mopts);
		e = mount("hostile", mountdir, "9p", 0, opts) ? errno : 0;
		if (pidfile)
			write_pidfile(pidfile, pid);
		printf("%s\n", e ? errname(e) : "OK");
		return e ? 1 : 0;
	}
	if (listen_addr) {
		int s = listen_on(listen_addr), c;

		if (s < 0) {
			perror(listen_addr);
			return 2;
		}
		if (pidfile) {
			pid_t pid = fork();

			if (pid < 0) {
				perror("fork");
				return 2;
			}
			if (pid) {
				write_pidfile(pidfile, pid);
				return 0;
			}
			detach_child();
		}
		c = accept(s, NULL, NULL);
		if (c < 0) {
			logf_("accept: %s", strerror(errno));
			return 2;
		}
		close(s);
		if (listen_addr[0] == '/')
			unlink(listen_addr);
		else
			setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
		logf_("connected");
		rfd = wfd = c;
		serve();
	}
	if (rfd < 0 || wfd < 0)
		usage();
	if (pidfile) {
		pid_t pid = fork();

		if (pid < 0)
			return 2;
		if (pid) {
			write_pidfile(pidfile, pid);
			return 0;
		}
		detach_child();
	}
	serve();
	return 0;
}
