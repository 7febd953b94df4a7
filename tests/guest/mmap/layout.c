// SPDX-License-Identifier: GPL-2.0
/*
 * zc9p-mmap (see main.c): expected content, comparison and the expect
 * checks, shared by the subcommands.
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

long page_size;

int fail(const char *what, const char *path)
{
	fprintf(stderr, "%s %s: %s\n", what, path, strerror(errno));
	return 1;
}

void fill(uint8_t *buf, size_t len, uint64_t seed, uint64_t pos)
{
	if (seed == ZEROS) {
		memset(buf, 0, len);
		return;
	}
	for (size_t i = 0; i < len; i++)
		buf[i] = stream_byte(seed, pos + i);
}

/* The expected bytes [pos, pos+len) of @l. */
void expected(const struct layout *l, uint8_t *buf, uint64_t pos, size_t len)
{
	fill(buf, len, l->base, pos);
	for (int i = 0; i < l->nparts; i++) {
		const struct part *p = &l->parts[i];
		uint64_t s = p->off > pos ? p->off : pos;
		uint64_t e = p->off + p->len < pos + len ? p->off + p->len : pos + len;

		if (s < e)
			fill(buf + (s - pos), e - s, p->seed, s);
	}
}

/* Compares @len bytes at file position @pos with @l; reports the first difference. */
int compare(const struct layout *l, const uint8_t *got, uint64_t pos, size_t len,
		   uint8_t *scratch, const char *path, const char *how)
{
	expected(l, scratch, pos, len);
	if (!memcmp(got, scratch, len))
		return 0;
	for (size_t i = 0; i < len; i++)
		if (got[i] != scratch[i]) {
			fprintf(stderr, "%s (%s): byte %llu is 0x%02x, want 0x%02x\n", path, how,
				(unsigned long long)(pos + i), got[i], scratch[i]);
			break;
		}
	return 1;
}

/* A page-aligned buffer (also good for O_DIRECT). */
uint8_t *buffer(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

int odirect(void)
{
	const char *d = getenv("ZC9P_ODIRECT");

	return d && *d == '1';
}

uint64_t round_up(uint64_t v, uint64_t to)
{
	return (v + to - 1) / to * to;
}

/* Checks @map (the file mapped from offset 0, @l->size bytes) against @l. */
int check_map(const struct layout *l, const uint8_t *map, const char *path,
		     const char *how)
{
	uint8_t *scratch = buffer(BLOCK);

	if (!scratch)
		return fail("mmap", "scratch");
	for (uint64_t pos = 0; pos < l->size; pos += BLOCK) {
		size_t n = l->size - pos < BLOCK ? l->size - pos : BLOCK;

		if (compare(l, map + pos, pos, n, scratch, path, how))
			return 1;
	}
	munmap(scratch, BLOCK);
	return 0;
}

/* Reads @fd (from offset 0, to its end) and checks it against @l. */
int check_read(const struct layout *l, int fd, const char *path, const char *how)
{
	uint8_t *buf = buffer(BLOCK), *scratch = buffer(BLOCK);
	uint64_t pos = 0;

	if (!buf || !scratch)
		return fail("mmap", "buffer");
	for (;;) {
		ssize_t r = pread(fd, buf, BLOCK, pos);

		if (r < 0)
			return fail("read", path);
		if (r == 0)
			break;
		if (pos + r > l->size) {
			fprintf(stderr, "%s (%s): longer than %llu bytes\n", path, how,
				(unsigned long long)l->size);
			return 1;
		}
		if (compare(l, buf, pos, r, scratch, path, how))
			return 1;
		pos += r;
	}
	if (pos != l->size) {
		fprintf(stderr, "%s (%s): %llu bytes, want %llu\n", path, how,
			(unsigned long long)pos, (unsigned long long)l->size);
		return 1;
	}
	munmap(buf, BLOCK);
	munmap(scratch, BLOCK);
	return 0;
}

/* expect: through a fresh mapping (unless O_DIRECT), then with read(2). */
int do_expect(const struct layout *l, const char *path)
{
	int direct = odirect();
	int fd = open(path, O_RDONLY | (direct ? O_DIRECT : 0));
	struct stat st;

	if (fd < 0 || fstat(fd, &st))
		return fail("open", path);
	if ((uint64_t)st.st_size != l->size) {
		fprintf(stderr, "%s: st_size %llu, want %llu\n", path,
			(unsigned long long)st.st_size, (unsigned long long)l->size);
		return 1;
	}
	if (!direct && l->size) {
		uint64_t len = round_up(l->size, page_size);
		uint8_t *map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);

		if (map == MAP_FAILED)
			return fail("mmap", path);
		if (check_map(l, map, path, "mapped"))
			return 1;
		for (uint64_t i = l->size; i < len; i++)
			if (map[i]) {
				fprintf(stderr, "%s (mapped): byte %llu, past EOF, is 0x%02x, want 0\n",
					path, (unsigned long long)i, map[i]);
				return 1;
			}
		munmap(map, len);
	}
	if (check_read(l, fd, path, direct ? "O_DIRECT read" : "read"))
		return 1;
	close(fd);
	return 0;
}

int parse_seed(const char *s, uint64_t *seed)
{
	char *end;

	if (!strcmp(s, "z")) {
		*seed = ZEROS;
		return 0;
	}
	*seed = strtoull(s, &end, 0);
	return *end ? -1 : 0;
}

/* Parses "SIZE BASE [OFF:LEN:SEED]..." into @l. */
int parse_layout(struct layout *l, int argc, char **argv)
{
	char *end;

	if (argc < 2 || argc - 2 > MAX_PARTS)
		return -1;
	l->size = strtoull(argv[0], &end, 0);
	if (*end || parse_seed(argv[1], &l->base))
		return -1;
	l->nparts = 0;
	for (int i = 2; i < argc; i++) {
		struct part *p = &l->parts[l->nparts++];
		char seed[32];

		if (sscanf(argv[i], "%lli:%lli:%31s", (long long *)&p->off,
			   (long long *)&p->len, seed) != 3 || parse_seed(seed, &p->seed))
			return -1;
	}
	return 0;
}
