/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zc9p-hostile's wire: 9P messages built into and parsed from byte
 * buffers (wire.c), and the connection's output queue.
 */
#ifndef ZC9P_HOSTILE_WIRE_H
#define ZC9P_HOSTILE_WIRE_H

#include <stddef.h>
#include <stdint.h>

/* 9P2000.L message types, and those of 9P2000 and 9P2000.u (Rerror, Topen, Tstat, Twstat). */
enum {
	RLERROR = 7, TSTATFS = 8, TLOPEN = 12, TGETATTR = 24, TSETATTR = 26,
	TXATTRWALK = 30, TREADDIR = 40, TFSYNC = 50, TVERSION = 100,
	TATTACH = 104, RERROR = 107, TFLUSH = 108, RFLUSH = 109, TWALK = 110, TOPEN = 112,
	TREAD = 116, RREAD = 117, TWRITE = 118, RWRITE = 119, TCLUNK = 120, TSTAT = 124,
	TWSTAT = 126,
};
#define NOTAG 0xffff
#define HDR 7

/* ---- message building ---- */

struct buf {
	uint8_t *b;
	size_t len, cap;
};

void put(struct buf *m, const void *p, size_t n);
void p8(struct buf *m, uint8_t v);
void p16(struct buf *m, uint16_t v);
void p32(struct buf *m, uint32_t v);
void p64(struct buf *m, uint64_t v);
void pstr(struct buf *m, const char *s);
void set32(uint8_t *p, uint32_t v);
void msg_begin(struct buf *m, uint8_t type, uint16_t tag);
void msg_end(struct buf *m);

/* ---- request parsing ---- */

struct req {
	const uint8_t *p, *end;
	int bad;
};

uint64_t gn(struct req *r, int n);
void gstr(struct req *r, char *out);

/* ---- output: a byte queue, optionally dribbled ---- */

extern struct buf out;
extern size_t out_off;
extern size_t slow_end;		/* bytes of out before this offset go out slowly */
extern long long next_slow;
extern long slow_ms;		/* the pause between dribbled pieces */

void send_bytes(const void *p, size_t n);
void send_msg(struct buf *m);
void send_slow(struct buf *m);
int flush_out(long long now);
void drain_out(void);

#endif /* ZC9P_HOSTILE_WIRE_H */
