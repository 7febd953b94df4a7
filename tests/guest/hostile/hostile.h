/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zc9p-hostile (main.c has what it does and its command line): what its
 * files share. log.c: the event log; wire.c: 9P messages and the output
 * queue (wire.h); tree.c: the synthetic tree and the fids; server.c: the
 * request handler and the connection loop; delay.c: --delay; modes.c: the misbehaviours and the replies they hold;
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

/* tree.c: the nodes, and the fids that name them. */
enum { N_ROOT, N_GOOD, N_BAD, N_DATA };
struct fid {
	uint32_t fid;
	int node, used;
};
struct fid *fid_get(uint32_t fid);
/* A fid for @node: @fid itself if in use (--lax-fids), else a free slot. */
struct fid *fid_new(uint32_t fid, int node);
void fids_clear(void);
/* The server ends: logs how many fids the client left, exits with @status. */
void bye(int status, const char *why);
void pqid(struct buf *m, int node);
void stat_body(struct buf *m, int node);
void getattr_body(struct buf *m, int node);

/* server.c */
void build_rread(struct buf *m, uint16_t tag, uint64_t off, uint32_t n);
void error_reply(uint16_t tag, const char *ename, uint32_t ecode);
void close_conn(void);
/* Answers a request (of @size bytes, whole) now. */
void handle_now(const uint8_t *msg, uint32_t size);
void serve(void);

/* delay.c: --delay */
/* Answers a request now, or later if --delay names its type. */
void handle(const uint8_t *msg, uint32_t size);
/* Answers the deferred requests that are due; the ms until the next one (-1: none). */
int run_deferred(long long now);
/* Drops the deferred request @tag (Tflush): 1 if there was one. */
int deferred_drop(uint16_t tag);
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
