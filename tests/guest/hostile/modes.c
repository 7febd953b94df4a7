// SPDX-License-Identifier: GPL-2.0
/*
 * zc9p-hostile's misbehaviours (--mode): what each mode does, the replies
 * held back (flushed-*, rlerror-to-flush, killed, out-of-order), and the
 * broken reply to the first Tread of "bad".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hostile.h"

/* What each mode does to the first Tread of "bad" (its reply: Rread of n bytes). */
const struct mode_desc modes[NMODES] = {
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
	[M_DRIBBLE] = { "dribble", "the right reply, a byte or a few at a time with --arg ms pauses (default 1)" },
	[M_OUT_OF_ORDER] = { "out-of-order", "the first --arg (default 4) Treads of bad held (at most 3 s), answered in reverse" },
	[M_STOP_READING] = { "stop-reading", "after answering the first Twrite of bad, stop reading for --arg s (0: for ever)" },
	[M_KILLED] = { "killed", "held for ever (the test kills the server)" },
	[M_EARLY_RLERROR] = { "early-rlerror", "the first Twrite of bad: Rlerror(EFBIG) once its header is in, then 1 s without reading, then its payload drained" },
	[M_LONG_RERROR] = { "long-rerror", "the error EACCES: 9P2000's Rerror \"Permission denied\"; 9P2000.u's that string padded to a frame of --arg bytes (default 4096) + errno; Rlerror for .L" },
};

/* ---- held replies ---- */

static struct held held[32];
int nheld_ooo;
long long ooo_deadline;

struct held *hold(struct buf *m, uint16_t tag)
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

struct held *held_find(uint16_t tag)
{
	for (size_t i = 0; i < sizeof(held) / sizeof(held[0]); i++)
		if (held[i].used && held[i].tag == tag)
			return &held[i];
	return NULL;
}

void release_ooo(void)
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

/* The first Tread of "bad": the misbehaviour. */
void bad_read(uint16_t tag, uint64_t off, uint32_t asked, uint32_t n)
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
	case M_LONG_RERROR: {
		/* The string fills the frame (size[4] type tag[2] len[2] string errno[4]). */
		static char ename[65536];
		long len = (marg > 0 ? marg : 4096) - 7 - 2 - 4;
		const char *e = "Permission denied";

		if (proto == P_U && len > (long)strlen(e) && len < (long)sizeof(ename)) {
			memset(ename, '.', len);
			memcpy(ename, e, strlen(e));
			ename[len] = 0;
			e = ename;
		}
		error_reply(tag, e, EACCES);
		logf_("sent the error (%zu-byte string)", strlen(e));
		break;
	}
	default:
		build_rread(&m, tag, off, n);
		send_msg(&m);
		break;
	}
}
