// SPDX-License-Identifier: GPL-2.0
/*
 * zc9p-hostile's wire: 9P2000.L messages built into and parsed from byte
 * buffers, and the connection's output queue (see wire.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "hostile.h"

/* ---- message building ---- */

void put(struct buf *m, const void *p, size_t n)
{
	if (m->len + n > m->cap) {
		m->cap = (m->len + n) * 2 + 64;
		m->b = xrealloc(m->b, m->cap);
	}
	memcpy(m->b + m->len, p, n);
	m->len += n;
}

void p8(struct buf *m, uint8_t v) { put(m, &v, 1); }

void p16(struct buf *m, uint16_t v)
{
	uint8_t b[2] = { v, v >> 8 };

	put(m, b, 2);
}

void p32(struct buf *m, uint32_t v)
{
	uint8_t b[4] = { v, v >> 8, v >> 16, v >> 24 };

	put(m, b, 4);
}

void p64(struct buf *m, uint64_t v)
{
	p32(m, v);
	p32(m, v >> 32);
}

void pstr(struct buf *m, const char *s)
{
	p16(m, strlen(s));
	put(m, s, strlen(s));
}

void set32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

/* Starts a message: size (filled by msg_end), type, tag. */
void msg_begin(struct buf *m, uint8_t type, uint16_t tag)
{
	m->len = 0;
	p32(m, 0);
	p8(m, type);
	p16(m, tag);
}

void msg_end(struct buf *m)
{
	set32(m->b, m->len);
}

/* ---- request parsing ---- */

uint64_t gn(struct req *r, int n)
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
void gstr(struct req *r, char *out)
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

/* ---- output: a byte queue, optionally dribbled ---- */

struct buf out;
size_t out_off;
size_t slow_end;		/* bytes of out before this offset go out slowly */
static size_t slow_sent;	/* how many of them went so far (chunk sizes) */
long long next_slow;
long slow_ms = 1;

void send_bytes(const void *p, size_t n)
{
	if (muted)
		return;
	if (out_off && out_off == out.len)
		out.len = out_off = slow_end = 0;
	put(&out, p, n);
}

void send_msg(struct buf *m)
{
	send_bytes(m->b, m->len);
}

void send_slow(struct buf *m)
{
	send_msg(m);
	slow_end = out.len;
	slow_sent = 0;
}

/* Writes what it can; returns -1 once the peer is gone. */
int flush_out(long long now)
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
			next_slow = now + slow_ms;
		}
		out_off += w;
	}
	return 0;
}

/* Blocks until everything queued has gone out (or the peer is gone). */
void drain_out(void)
{
	while (out_off < out.len) {
		struct pollfd p = { .fd = wfd, .events = POLLOUT };

		poll(&p, 1, 10);
		if (flush_out(now_ms()) < 0)
			return;
	}
}
