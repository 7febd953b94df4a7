// SPDX-License-Identifier: GPL-2.0
/*
 * zc9p-mmap (see main.c): a file's expected content as a layout of pieces of
 * the test stream, and the checks against it.
 */
#ifndef ZC9P_MMAP_LAYOUT_H
#define ZC9P_MMAP_LAYOUT_H

#include <stdint.h>
#include <stddef.h>

#define BLOCK 65536
#define MAX_PARTS 16
#define ZEROS UINT64_MAX	/* the "seed" of a run of zeros */

/* A file's expected content: a base stream with parts laid over it. */
struct layout {
	uint64_t size;
	uint64_t base;
	int nparts;
	struct part {
		uint64_t off, len, seed;
	} parts[MAX_PARTS];
};

/* The system's page size, set by main() before anything else runs. */
extern long page_size;

int fail(const char *what, const char *path);
void fill(uint8_t *buf, size_t len, uint64_t seed, uint64_t pos);
void expected(const struct layout *l, uint8_t *buf, uint64_t pos, size_t len);
int compare(const struct layout *l, const uint8_t *got, uint64_t pos, size_t len, uint8_t *scratch, const char *path, const char *how);
uint8_t *buffer(size_t len);
int odirect(void);
uint64_t round_up(uint64_t v, uint64_t to);
int check_map(const struct layout *l, const uint8_t *map, const char *path, const char *how);
int check_read(const struct layout *l, int fd, const char *path, const char *how);
int do_expect(const struct layout *l, const char *path);
int parse_seed(const char *s, uint64_t *seed);
int parse_layout(struct layout *l, int argc, char **argv);

#endif /* ZC9P_MMAP_LAYOUT_H */
