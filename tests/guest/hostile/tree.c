// SPDX-License-Identifier: GPL-2.0
/*
 * zc9p-hostile's synthetic tree: the root, "good" and "bad" (the stream, of
 * --size bytes) and, with --store, "data" (a real file), their qids and
 * attributes as each protocol version has them, and the fids the client
 * holds on them.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hostile.h"

/*
 * The kept file "data" has qid version 1: a real file the client may cache
 * (v9fs caches nothing of a file whose qid version is 0, a synthetic one, so
 * cache=loose writes to it would go straight to the server, not at exit).
 */
void pqid(struct buf *m, int node)
{
	p8(m, node == N_ROOT ? 0x80 : 0);
	p32(m, node == N_DATA ? 1 : 0);
	p64(m, node + 1);
}

static struct fid *fids;
static size_t nfids;

struct fid *fid_get(uint32_t fid)
{
	for (size_t i = 0; i < nfids; i++)
		if (fids[i].used && fids[i].fid == fid)
			return &fids[i];
	return NULL;
}

/* Tversion: a new session, every fid of the old one gone. */
void fids_clear(void)
{
	for (size_t i = 0; i < nfids; i++)
		fids[i].used = 0;
}

static size_t fids_in_use(void)
{
	size_t n = 0;

	for (size_t i = 0; i < nfids; i++)
		n += fids[i].used;
	return n;
}

/* The server ends: say how many fids the client left (0 after an unmount). */
void bye(int status, const char *why)
{
	logf_("%s; fids in use: %zu", why, fids_in_use());
	exit(status);
}

struct fid *fid_new(uint32_t fid, int node)
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

/* 9P2000's stat (and .u's extension): Tstat's reply body and a legacy directory entry. */
void stat_body(struct buf *m, int node)
{
	int dir = node == N_ROOT;
	uint64_t size = dir ? 0 : fsize;
	struct stat st;
	size_t at;

	if (node == N_DATA)
		size = fstat(store_fd, &st) ? 0 : (uint64_t)st.st_size;
	at = m->len;
	p16(m, 0);					/* size, set below */
	p16(m, 0);					/* type */
	p32(m, 0);					/* dev */
	pqid(m, node);
	p32(m, dir ? 0x80000000 | 0755 : 0644);		/* mode (DMDIR) */
	p32(m, 1700000000);				/* atime */
	p32(m, 1700000000);				/* mtime */
	p64(m, size);
	pstr(m, dir ? "/" : node == N_GOOD ? "good" : node == N_BAD ? "bad" : "data");
	pstr(m, "root");
	pstr(m, "root");
	pstr(m, "root");
	if (proto == P_U) {
		pstr(m, "");				/* extension */
		p32(m, 0);				/* n_uid, n_gid, n_muid */
		p32(m, 0);
		p32(m, 0);
	}
	m->b[at] = (m->len - at - 2) & 0xff;
	m->b[at + 1] = (m->len - at - 2) >> 8;
}

void getattr_body(struct buf *m, int node)
{
	int dir = node == N_ROOT;
	uint64_t size = dir ? 4096 : fsize;
	struct stat st;

	if (node == N_DATA)
		size = fstat(store_fd, &st) ? 0 : (uint64_t)st.st_size;
	p64(m, 0x7ff);
	pqid(m, node);
	p32(m, dir ? 040755 : 0100644);
	p32(m, 0);
	p32(m, 0);
	p64(m, dir ? 2 : 1);
	p64(m, 0);
	p64(m, size);
	p64(m, 4096);
	p64(m, (size + 511) / 512);
	for (int i = 0; i < 8; i++) { /* a/m/c/btime sec+nsec */
		p64(m, i & 1 ? 0 : 1700000000);
	}
	p64(m, 0);
	p64(m, 0);
}
