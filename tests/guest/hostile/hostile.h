/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zc9p-hostile (main.c has what it does and its command line): what its
 * files share. log.c: the event log; wire.c: 9P messages and the output
 * queue (wire.h); server.c: the synthetic tree, the request handler and the
 * connection loop; modes.c: the misbehaviours and the replies they hold;
 * main.c: the options, the client helpers and the setup.
 */
#ifndef ZC9P_HOSTILE_H
#define ZC9P_HOSTILE_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

enum mode {
	M_NONE, M_SIZE_LT_7, M_SIZE_GT_MSIZE, M_SIZE_GT_BUFFER, M_COUNT_GT_ASKED,
	M_COUNT_NE_SIZE, M_UNKNOWN_TAG, M_DUPLICATE, M_WRONG_TYPE,
	M_FLUSHED_BEFORE, M_FLUSHED_AFTER, M_RLERROR_TO_FLUSH, M_TRUNC_EOF,
	M_TRUNC_SILENCE, M_DRIBBLE, M_OUT_OF_ORDER, M_STOP_READING, M_KILLED,
	M_EARLY_RLERROR, M_LONG_RERROR,
};
#define NMODES (M_LONG_RERROR + 1)

/* modes.c: the name and effect of each mode, indexed by enum mode. */
struct mode_desc {
	const char *name;
	const char *what;
};
extern const struct mode_desc modes[NMODES];

/* server.c: the options (set by main.c) and the server's state. */
extern enum mode mode;
extern long marg;
extern uint32_t msize_cap, msize;
extern uint64_t fsize, seed;
extern int rfd, wfd;
extern int triggered, muted;
/* --delay TYPE:MS (0 type: none), --store PATH (the file "data"; -1: none). */
extern int delay_type;
extern long delay_ms;
extern int store_fd;
extern int lax_fids;	/* --lax-fids: a new fid may be one in use (it is replaced) */
/* The version Tversion agreed on: 9P2000.L, 9P2000.u or plain 9P2000. */
enum proto { P_L, P_U, P_9P2000 };
extern enum proto proto;

/* log.c */
extern int logfd, verbose;
extern long long t0;

long long now_ms(void);
void logf_(const char *fmt, ...);
void *xrealloc(void *p, size_t n);

/* server.c */
void build_rread(struct buf *m, uint16_t tag, uint64_t off, uint32_t n);
void error_reply(uint16_t tag, const char *ename, uint32_t ecode);
void close_conn(void);
void serve(void);
int delay_type_of(const char *name);

/* modes.c: held replies */
struct held {
	int used;
	uint16_t tag;
	struct buf m;
};
extern int nheld_ooo;
extern long long ooo_deadline;

struct held *hold(struct buf *m, uint16_t tag);
struct held *held_find(uint16_t tag);
void release_ooo(void);
void bad_read(uint16_t tag, uint64_t off, uint32_t asked, uint32_t n);

#endif /* ZC9P_HOSTILE_H */
