// SPDX-License-Identifier: GPL-2.0
/*
 * zc9p-mmap: the page-cache tests' helper (tests/guest/cache.sh): shared
 * mappings, dirty pages that meet truncate and O_DIRECT, and a checker of
 * files made of pieces of the deterministic stream of zc9p-check.c.
 *
 *   zc9p-mmap expect PATH SIZE BASE [OFF:LEN:SEED]...
 *       check that PATH is SIZE bytes: the stream of seed BASE ("z": zeros)
 *       with, laid over it in order, LEN bytes of the stream SEED ("z":
 *       zeros) at OFF (a part takes the stream's bytes at the same
 *       positions). First through a MAP_SHARED mapping, where the rest of
 *       the last page, past the end of the file, must read as zeros, then
 *       with read(2). With ZC9P_ODIRECT=1: read(2) with O_DIRECT only.
 *   zc9p-mmap mapwrite PATH SIZE SEED
 *       create PATH of SIZE bytes (ftruncate) and write the stream through
 *       a MAP_SHARED mapping; msync(MS_SYNC) unless ZC9P_NO_FSYNC is set.
 *   zc9p-mmap sharedwrite PATH
 *       PATH holds the stream of seed 71, 42194 bytes (zc9p-check write PATH
 *       42194 71); check that through a MAP_SHARED mapping, write the parts
 *       of the stream of seed 72 listed in shared_parts[] through it, and
 *       garbage past the end of the file in its last page; msync(MS_SYNC),
 *       munmap.
 *   zc9p-mmap sharedverify PATH
 *       check what sharedwrite leaves, the same as
 *       expect PATH 42194 71 0:1:72 4000:200:72 8192:4096:72 20470:8212:72 41960:234:72
 *   zc9p-mmap overwrite PATH OFF LEN SEED
 *       pwrite(2) the stream's bytes [OFF, OFF+LEN) at OFF (no O_TRUNC);
 *       honours ZC9P_ODIRECT=1; fsync unless ZC9P_NO_FSYNC is set.
 *   zc9p-mmap dirtytrunc PATH SIZE SEED CUT GROW write|map
 *       create PATH with SIZE bytes of the stream, dirty in the page cache
 *       (write(2) or a MAP_SHARED mapping, kept mapped; no sync), ftruncate
 *       to CUT then up to GROW (CUT <= GROW <= SIZE), check the page cache's
 *       view (CUT bytes of the stream, then zeros), fsync.
 *   zc9p-mmap dirtydirect PATH OFF1 LEN1 SEED1 OFF2 LEN2 SEED2 write|map
 *       on an existing file: dirty [OFF1, OFF1+LEN1) with SEED1's stream in
 *       the page cache (write(2) or a MAP_SHARED mapping; no sync); with
 *       those pages dirty, an O_DIRECT read must see them; then an O_DIRECT
 *       write of [OFF2, OFF2+LEN2) with SEED2's stream, after which the
 *       cached view (pread(2), and the mapping) must show it; fsync. Both
 *       ranges lie inside the file.
 *   zc9p-mmap fsync PATH                        open O_RDWR, fsync
 *   zc9p-mmap dropcaches PATH                   syncfs(2) of PATH's file system,
 *                                               then 3 > /proc/sys/vm/drop_caches
 *
 * ZC9P_MIN_DIRTY=PAGES: dirtytrunc and dirtydirect fail unless, once their
 * pages are dirty, /proc/vmstat counts at least PAGES pages dirty or under
 * writeback (proof that the data sits in the page cache, not on the server).
 * Exit status: 0 when every check holds, 1 on a failed check or call, 2 on
 * bad arguments.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../stream.h"
#include "layout.h"

/* What sharedwrite writes through its mapping (page size 4096). */
#define SHARED_SIZE (10 * 4096 + 1234)
#define SHARED_BASE 71
#define SHARED_SEED 72
static const struct part shared_parts[] = {
	{ 0, 1, SHARED_SEED },				/* the first byte */
	{ 4000, 200, SHARED_SEED },			/* across pages 0 and 1 */
	{ 2 * 4096, 4096, SHARED_SEED },		/* page 2, exactly */
	{ 5 * 4096 - 10, 2 * 4096 + 20, SHARED_SEED },	/* pages 4 to 7 */
	{ 10 * 4096 + 1000, 234, SHARED_SEED },		/* up to EOF, last page */
};

static void shared_layout(struct layout *l)
{
	l->size = SHARED_SIZE;
	l->base = SHARED_BASE;
	l->nparts = sizeof(shared_parts) / sizeof(shared_parts[0]);
	memcpy(l->parts, shared_parts, sizeof(shared_parts));
}

static int nosync(void)
{
	return getenv("ZC9P_NO_FSYNC") != NULL;
}

/*
 * The end of a write through a MAP_SHARED mapping of @len bytes: msync() when
 * @sync, munmap(), close(). 0, or fail()'s status for the step that failed.
 */
static int unmap_close(uint8_t *map, uint64_t len, int fd, const char *path, int sync)
{
	if (sync && msync(map, len, MS_SYNC))
		return fail("msync", path);
	if (munmap(map, len))
		return fail("munmap", path);
	if (close(fd))
		return fail("close", path);
	return 0;
}

static int do_mapwrite(const char *path, uint64_t size, uint64_t seed)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	uint8_t *map;

	if (fd < 0 || ftruncate(fd, size))
		return fail("create", path);
	if (size) {
		map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (map == MAP_FAILED)
			return fail("mmap", path);
		for (uint64_t pos = 0; pos < size; pos += BLOCK)
			fill(map + pos, size - pos < BLOCK ? size - pos : BLOCK, seed, pos);
		return unmap_close(map, size, fd, path, !nosync());
	}
	if (close(fd))
		return fail("close", path);
	return 0;
}

static int do_sharedwrite(const char *path)
{
	struct layout base = { .size = SHARED_SIZE, .base = SHARED_BASE };
	uint64_t len = round_up(SHARED_SIZE, page_size);
	int fd = open(path, O_RDWR);
	struct stat st;
	uint8_t *map;

	if (fd < 0 || fstat(fd, &st))
		return fail("open", path);
	if (st.st_size != SHARED_SIZE) {
		fprintf(stderr, "%s: st_size %lld, want %d (zc9p-check write %s %d %d)\n",
			path, (long long)st.st_size, SHARED_SIZE, path, SHARED_SIZE, SHARED_BASE);
		return 1;
	}
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return fail("mmap", path);
	/* Read faults first: the mapping shows the file. */
	if (check_map(&base, map, path, "mapped, before the writes"))
		return 1;
	for (size_t i = 0; i < sizeof(shared_parts) / sizeof(shared_parts[0]); i++)
		fill(map + shared_parts[i].off, shared_parts[i].len, shared_parts[i].seed,
		     shared_parts[i].off);
	/* Past EOF in the last page: must never reach the file. */
	memset(map + SHARED_SIZE, 0xa5, len - SHARED_SIZE);
	return unmap_close(map, len, fd, path, 1);
}

/* ZC9P_MIN_DIRTY: enough pages dirty or under writeback, system-wide. */
static int dirty_check(const char *path)
{
	const char *min = getenv("ZC9P_MIN_DIRTY");
	unsigned long want, v, pages = 0;
	char name[64];
	FILE *f;

	if (!min)
		return 0;
	want = strtoul(min, NULL, 0);
	f = fopen("/proc/vmstat", "r");
	if (!f)
		return fail("open", "/proc/vmstat");
	while (fscanf(f, "%63s %lu", name, &v) == 2)
		if (!strcmp(name, "nr_dirty") || !strcmp(name, "nr_writeback"))
			pages += v;
	fclose(f);
	if (pages < want) {
		fprintf(stderr, "%s: %lu pages dirty or under writeback, want at least %lu\n",
			path, pages, want);
		return 1;
	}
	return 0;
}

static int method(const char *how)
{
	if (!strcmp(how, "write"))
		return 0;
	if (!strcmp(how, "map"))
		return 1;
	return -1;
}

/* Writes the stream's bytes [off, off+len) at @off with pwrite(2). */
static int pwrite_stream(int fd, uint64_t off, uint64_t len, uint64_t seed,
			 const char *path)
{
	uint8_t *buf = buffer(BLOCK);

	if (!buf)
		return fail("mmap", "buffer");
	for (uint64_t pos = off; pos < off + len;) {
		size_t n = off + len - pos < BLOCK ? off + len - pos : BLOCK;
		ssize_t w;

		fill(buf, n, seed, pos);
		w = pwrite(fd, buf, n, pos);
		if (w <= 0)
			return fail("write", path);
		pos += w;
	}
	munmap(buf, BLOCK);
	return 0;
}

static int do_overwrite(const char *path, uint64_t off, uint64_t len, uint64_t seed)
{
	int fd = open(path, O_WRONLY | (odirect() ? O_DIRECT : 0));

	if (fd < 0)
		return fail("open", path);
	if (pwrite_stream(fd, off, len, seed, path))
		return 1;
	if ((!nosync() && fsync(fd)) || close(fd))
		return fail("close", path);
	return 0;
}

static int do_dirtytrunc(const char *path, uint64_t size, uint64_t seed, uint64_t cut,
			 uint64_t grow, int map_it)
{
	struct layout l = { .size = grow, .base = ZEROS, .nparts = 1,
			    .parts = { { 0, cut, seed } } };
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	uint8_t *map = NULL;

	if (fd < 0)
		return fail("create", path);
	if (map_it) {
		if (ftruncate(fd, size))
			return fail("ftruncate", path);
		map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (map == MAP_FAILED)
			return fail("mmap", path);
		for (uint64_t pos = 0; pos < size; pos += BLOCK)
			fill(map + pos, size - pos < BLOCK ? size - pos : BLOCK, seed, pos);
	} else if (pwrite_stream(fd, 0, size, seed, path)) {
		return 1;
	}
	if (dirty_check(path))
		return 1;
	if (ftruncate(fd, cut) || ftruncate(fd, grow))
		return fail("ftruncate", path);
	if (check_read(&l, fd, path, "read, after the truncates"))
		return 1;
	if (map) {
		/* [0, grow) of the mapping: still inside the file. */
		if (check_map(&l, map, path, "mapped, after the truncates"))
			return 1;
		if (munmap(map, size))
			return fail("munmap", path);
	}
	if (fsync(fd) || close(fd))
		return fail("fsync", path);
	return 0;
}

/* @got is @want (@size bytes); else the first byte that differs, said as @what's, and 1. */
static int same_bytes(const uint8_t *got, const uint8_t *want, uint64_t size, const char *path,
		      const char *what)
{
	for (uint64_t i = 0; i < size; i++)
		if (got[i] != want[i]) {
			fprintf(stderr, "%s: %s: byte %llu is 0x%02x, want 0x%02x\n", path, what,
				(unsigned long long)i, got[i], want[i]);
			return 1;
		}
	return 0;
}

static int do_dirtydirect(const char *path, const struct part *r1, const struct part *r2,
			  int map_it)
{
	int fd = open(path, O_RDWR), dfd;
	uint8_t *img, *buf, *map = NULL;
	struct stat st;
	uint64_t size;

	if (fd < 0 || fstat(fd, &st))
		return fail("open", path);
	size = st.st_size;
	if (!size || r1->off + r1->len > size || r2->off + r2->len > size) {
		fprintf(stderr, "%s: the ranges must lie inside the file (%llu bytes)\n", path,
			(unsigned long long)size);
		return 2;
	}
	img = buffer(round_up(size, page_size));
	buf = buffer(round_up(size, page_size));
	if (!img || !buf)
		return fail("mmap", "buffer");
	/* The file as it is, through the page cache. */
	for (uint64_t pos = 0; pos < size;) {
		ssize_t r = pread(fd, img + pos, size - pos, pos);

		if (r <= 0)
			return fail("read", path);
		pos += r;
	}
	/* Dirty r1, and leave it dirty. */
	if (map_it) {
		map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (map == MAP_FAILED)
			return fail("mmap", path);
		fill(map + r1->off, r1->len, r1->seed, r1->off);
	} else if (pwrite_stream(fd, r1->off, r1->len, r1->seed, path)) {
		return 1;
	}
	fill(img + r1->off, r1->len, r1->seed, r1->off);
	if (dirty_check(path))
		return 1;

	/* O_DIRECT read with those pages dirty: it must see them. */
	dfd = open(path, O_RDWR | O_DIRECT);
	if (dfd < 0)
		return fail("open O_DIRECT", path);
	for (uint64_t pos = 0; pos < size;) {
		ssize_t r = pread(dfd, buf + pos, size - pos, pos);

		if (r < 0)
			return fail("O_DIRECT read", path);
		if (r == 0) {
			fprintf(stderr, "%s: O_DIRECT read ends at %llu of %llu bytes\n", path,
				(unsigned long long)pos, (unsigned long long)size);
			return 1;
		}
		pos += r;
	}
	if (same_bytes(buf, img, size, path, "O_DIRECT read with dirty pages"))
		return 1;

	/* O_DIRECT write of r2; the cached views must show it. */
	if (pwrite_stream(dfd, r2->off, r2->len, r2->seed, path))
		return 1;
	fill(img + r2->off, r2->len, r2->seed, r2->off);
	for (uint64_t pos = 0; pos < size;) {
		ssize_t r = pread(fd, buf + pos, size - pos, pos);

		if (r <= 0)
			return fail("read", path);
		pos += r;
	}
	if (same_bytes(buf, img, size, path, "cached read after the O_DIRECT write"))
		return 1;
	if (map) {
		if (same_bytes(map, img, size, path, "mapping after the O_DIRECT write"))
			return 1;
		if (munmap(map, size))
			return fail("munmap", path);
	}
	if (close(dfd) || fsync(fd) || close(fd))
		return fail("fsync", path);
	return 0;
}

static int do_dropcaches(const char *path)
{
	int fd = open(path, O_RDONLY);
	int dc;

	if (fd < 0)
		return fail("open", path);
	if (syncfs(fd))
		return fail("syncfs", path);
	close(fd);
	dc = open("/proc/sys/vm/drop_caches", O_WRONLY);
	if (dc < 0 || write(dc, "3\n", 2) != 2 || close(dc))
		return fail("write", "/proc/sys/vm/drop_caches");
	return 0;
}

static uint64_t num(const char *s)
{
	return strtoull(s, NULL, 0);
}

int main(int argc, char **argv)
{
	struct layout l;

	page_size = sysconf(_SC_PAGESIZE);
	if (argc >= 5 && !strcmp(argv[1], "expect")) {
		if (parse_layout(&l, argc - 3, argv + 3)) {
			fprintf(stderr, "expect: bad SIZE, seed or OFF:LEN:SEED\n");
			return 2;
		}
		return do_expect(&l, argv[2]);
	}
	if (argc == 5 && !strcmp(argv[1], "mapwrite"))
		return do_mapwrite(argv[2], num(argv[3]), num(argv[4]));
	if (argc == 3 && !strcmp(argv[1], "sharedwrite"))
		return do_sharedwrite(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "sharedverify")) {
		shared_layout(&l);
		return do_expect(&l, argv[2]);
	}
	if (argc == 6 && !strcmp(argv[1], "overwrite"))
		return do_overwrite(argv[2], num(argv[3]), num(argv[4]), num(argv[5]));
	if (argc == 8 && !strcmp(argv[1], "dirtytrunc") && method(argv[7]) >= 0) {
		uint64_t size = num(argv[3]), cut = num(argv[5]), grow = num(argv[6]);

		if (cut > grow || grow > size) {
			fprintf(stderr, "dirtytrunc: want CUT <= GROW <= SIZE\n");
			return 2;
		}
		return do_dirtytrunc(argv[2], size, num(argv[4]), cut, grow, method(argv[7]));
	}
	if (argc == 10 && !strcmp(argv[1], "dirtydirect") && method(argv[9]) >= 0) {
		struct part r1 = { num(argv[3]), num(argv[4]), num(argv[5]) };
		struct part r2 = { num(argv[6]), num(argv[7]), num(argv[8]) };

		return do_dirtydirect(argv[2], &r1, &r2, method(argv[9]));
	}
	if (argc == 3 && !strcmp(argv[1], "fsync")) {
		int fd = open(argv[2], O_RDWR);

		if (fd < 0 || fsync(fd) || close(fd))
			return fail("fsync", argv[2]);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "dropcaches"))
		return do_dropcaches(argv[2]);
	fprintf(stderr, "usage: see the comment at the top of tests/guest/mmap/main.c\n");
	return 2;
}
