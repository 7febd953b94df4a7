// SPDX-License-Identifier: GPL-2.0
/*
 * zc9p-check: the guest tests' (and host checks') helper.
 *
 * Data files are a deterministic stream: byte i of a file with seed S is a
 * function of (S, i) only, so a file written in any block size can be verified
 * in any other, in the guest or on the host.
 *
 *   zc9p-check write  PATH SIZE SEED [BLOCK]   create PATH with SIZE bytes, fsync
 *   zc9p-check verify PATH SIZE SEED [BLOCK]   check size and every byte
 *   zc9p-check mount  SRC DIR OPTIONS           mount -t 9p; prints errno name
 *   zc9p-check mkfiles DIR COUNT                create DIR/f00000.. (empty)
 *   zc9p-check countdir DIR                     print the entries (no . and ..)
 *   zc9p-check readonce PATH SIZE SEED          one read(2) of SIZE bytes, checked
 *   zc9p-check readerr PATH SIZE                one read(2); prints OK or the errno name
 *   zc9p-check drain PATH BLOCK ROUNDS          read PATH to its end ROUNDS times, keeping
 *                                               nothing (a reader that mostly waits)
 *   zc9p-check ioerr PATH SIZE                  open(2) + read(2); prints OK or the errno
 *                                               name of the first that failed
 *   zc9p-check badbuf PATH                      reads into a half-unmapped and
 *                                               a read-only buffer; prints results
 *
 * write/verify/readonce honour ZC9P_BUF_OFFSET (buffer misalignment within a
 * page), ZC9P_BUF_HUGE=1 (a buffer in transparent huge pages: physically
 * contiguous runs of 2 MiB; fails if the kernel gives none), ZC9P_BUF_SCATTER=1
 * (pages faulted in backwards and checked in the pagemap: no two neighbours
 * are adjacent in physical memory) and ZC9P_ODIRECT=1 (open
 * with O_DIRECT); buffers come from mmap.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errname.h"
#include "stream.h"

static void fill(uint8_t *buf, size_t len, uint64_t seed, uint64_t pos)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = stream_byte(seed, pos + i);
}

#define HUGE_SIZE (2UL << 20)

/* Bytes of @p's mapping in transparent huge pages, from /proc/self/smaps. */
static unsigned long huge_bytes(const void *p)
{
	char line[256], want[32];
	FILE *f = fopen("/proc/self/smaps", "r");
	unsigned long kb = 0;
	int in = 0;

	if (!f)
		return 0;
	snprintf(want, sizeof(want), "%lx-", (unsigned long)p);
	while (fgets(line, sizeof(line), f)) {
		if (strchr(line, '-') && strchr(line, '-') < strchr(line, ' '))
			in = !strncmp(line, want, strlen(want));
		else if (in && sscanf(line, "AnonHugePages: %lu kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb << 10;
}

/* The physical frame of each of @n pages at @p (0: unknown, e.g. not root). */
static int page_frames(const uint8_t *p, size_t n, uint64_t *pfn)
{
	int fd = open("/proc/self/pagemap", O_RDONLY);
	ssize_t want = n * sizeof(*pfn);

	if (fd < 0)
		return -1;
	if (pread(fd, pfn, want, (uintptr_t)p / 4096 * sizeof(*pfn)) != want) {
		close(fd);
		return -1;
	}
	close(fd);
	for (size_t i = 0; i < n; i++)
		pfn[i] = pfn[i] >> 63 ? pfn[i] & ((1ULL << 55) - 1) : 0;
	return 0;
}

/*
 * Makes the @n pages at @p physically scattered: no page is followed by the
 * next frame in memory, so none can be merged with its neighbour. They are
 * faulted in backwards, in small pages: the page allocator hands out
 * consecutive frames in ascending order, so the mapping's frames descend.
 * Where the pagemap shows a page followed by the next frame anyway, that page
 * is replaced by a spare one faulted in elsewhere (moved in with mremap),
 * and the check repeats. One mapping, so cheap even
 * under KASAN (one mremap per page took 4 s for 4 MiB there). Fails when the
 * pages cannot be scattered; with frames unknown (not root) it trusts the
 * order.
 */
static int scatter(uint8_t *p, size_t n)
{
	uint64_t *pfn = calloc(n, sizeof(*pfn));
	size_t spare_n = n, used = 0, bad = 0;
	uint8_t *spare = mmap(NULL, 2 * spare_n * 4096, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (!pfn || spare == MAP_FAILED || madvise(p, n * 4096, MADV_NOHUGEPAGE))
		return -1;
	for (size_t i = n; i-- > 0;)
		p[i * 4096] = 1;
	/* All now: a page freed by a move below must not come back as a spare. */
	for (size_t i = 0; i < 2 * spare_n; i++)
		spare[i * 4096] = 1;
	for (int round = 0; round < 8; round++) {
		if (page_frames(p, n, pfn))
			return -1;
		bad = 0;
		for (size_t i = 0; i + 1 < n; i++) {
			if (!pfn[i] || pfn[i + 1] != pfn[i] + 1)
				continue;
			bad++;
			/* Every other spare page: they are not neighbours either. */
			if (used == spare_n)
				break;
			if (mremap(spare + 2 * used * 4096, 4096, 4096,
				   MREMAP_MAYMOVE | MREMAP_FIXED, p + (i + 1) * 4096) == MAP_FAILED)
				return -1;
			used++;
			pfn[i + 1] = 0;
		}
		if (!bad)
			break;
	}
	free(pfn);
	if (bad) {
		fprintf(stderr, "could not scatter the buffer's pages (%zu adjacent)\n", bad);
		return -1;
	}
	return 0;
}

/*
 * An I/O buffer of @len bytes at ZC9P_BUF_OFFSET bytes into a fresh mapping;
 * with ZC9P_BUF_HUGE=1 the mapping is 2 MiB-aligned, in huge pages.
 */
static uint8_t *io_buffer(size_t len)
{
	const char *o = getenv("ZC9P_BUF_OFFSET");
	size_t off = o ? strtoul(o, NULL, 0) : 0;
	int huge = getenv("ZC9P_BUF_HUGE") && !strcmp(getenv("ZC9P_BUF_HUGE"), "1");
	size_t map = len + off + 4096;
	uint8_t *p;

	if (huge)
		map = (map + HUGE_SIZE - 1) / HUGE_SIZE * HUGE_SIZE + HUGE_SIZE;
	p = mmap(NULL, map, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (huge) {
		uint8_t *a = (uint8_t *)(((uintptr_t)p + HUGE_SIZE - 1) & ~(HUGE_SIZE - 1));

		if (madvise(a, map - HUGE_SIZE, MADV_HUGEPAGE))
			return NULL;
		memset(a, 0, map - HUGE_SIZE);
		if (huge_bytes(a) < HUGE_SIZE) {
			fprintf(stderr, "no transparent huge pages for the buffer\n");
			return NULL;
		}
		p = a;
	}
	if (getenv("ZC9P_BUF_SCATTER") && !strcmp(getenv("ZC9P_BUF_SCATTER"), "1") &&
	    scatter(p, map / 4096))
		return NULL;
	return p + off;
}

static int open_flags(int flags)
{
	const char *d = getenv("ZC9P_ODIRECT");

	return d && *d == '1' ? flags | O_DIRECT : flags;
}

static int die(const char *what, const char *path)
{
	fprintf(stderr, "%s %s: %s\n", what, path, strerror(errno));
	return 1;
}

static int do_write(const char *path, uint64_t size, uint64_t seed, size_t bs)
{
	uint8_t *buf = io_buffer(bs);
	int fd = open(path, open_flags(O_WRONLY | O_CREAT | O_TRUNC), 0644);

	if (!buf || fd < 0)
		return die("open", path);
	for (uint64_t pos = 0; pos < size;) {
		size_t n = size - pos < bs ? size - pos : bs;
		ssize_t w;

		fill(buf, n, seed, pos);
		w = write(fd, buf, n);
		if (w <= 0)
			return die("write", path);
		pos += w;
	}
	/* ZC9P_NO_FSYNC: see the legacy-protocol note in virtio.sh. */
	if ((!getenv("ZC9P_NO_FSYNC") && fsync(fd)) || close(fd))
		return die("close", path);
	return 0;
}

static int do_verify(const char *path, uint64_t size, uint64_t seed, size_t bs)
{
	uint8_t *buf = io_buffer(bs), *want = malloc(bs);
	int fd = open(path, open_flags(O_RDONLY));
	uint64_t pos = 0;

	if (!buf || !want || fd < 0)
		return die("open", path);
	for (;;) {
		ssize_t r = read(fd, buf, bs);

		if (r < 0)
			return die("read", path);
		if (r == 0)
			break;
		if (pos + r > size) {
			fprintf(stderr, "%s: longer than %llu bytes\n", path,
				(unsigned long long)size);
			return 1;
		}
		fill(want, r, seed, pos);
		if (memcmp(buf, want, r)) {
			for (ssize_t i = 0; i < r; i++)
				if (buf[i] != want[i]) {
					fprintf(stderr, "%s: byte %llu differs\n", path,
						(unsigned long long)(pos + i));
					break;
				}
			return 1;
		}
		pos += r;
	}
	close(fd);
	if (pos != size) {
		fprintf(stderr, "%s: %llu bytes, want %llu\n", path,
			(unsigned long long)pos, (unsigned long long)size);
		return 1;
	}
	free(want);
	return 0;
}

/*
 * Reads into bad buffers: neither may crash or corrupt; a half-unmapped
 * buffer gives EFAULT or a short count, a read-only one EFAULT.
 */
static int do_badbuf(const char *path)
{
	uint8_t *p = mmap(NULL, 16 * 4096, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int fd = open(path, O_RDONLY), bad = 0;
	ssize_t n;

	if (p == MAP_FAILED || fd < 0)
		return die("open", path);
	munmap(p + 8 * 4096, 8 * 4096);
	n = pread(fd, p + 100, 16 * 4096 - 200, 0);
	printf("half-unmapped: %zd %s\n", n, n < 0 ? strerrorname_np(errno) : "");
	if (!(n < 0 && errno == EFAULT) && !(n >= 0 && n <= 8 * 4096 - 100))
		bad = 1;
	mprotect(p, 8 * 4096, PROT_READ);
	n = pread(fd, p, 8 * 4096, 0);
	printf("read-only: %zd %s\n", n, n < 0 ? strerrorname_np(errno) : "");
	if (!(n < 0 && errno == EFAULT))
		bad = 1;
	close(fd);
	return bad;
}

int main(int argc, char **argv)
{
	if (argc >= 5 && !strcmp(argv[1], "write"))
		return do_write(argv[2], strtoull(argv[3], NULL, 0), strtoull(argv[4], NULL, 0),
				argc > 5 ? strtoul(argv[5], NULL, 0) : 65536);
	if (argc >= 5 && !strcmp(argv[1], "verify"))
		return do_verify(argv[2], strtoull(argv[3], NULL, 0), strtoull(argv[4], NULL, 0),
				 argc > 5 ? strtoul(argv[5], NULL, 0) : 65536);
	if (argc == 5 && !strcmp(argv[1], "mount")) {
		int e = mount(argv[2], argv[3], "9p", 0, argv[4]) ? errno : 0;

		printf("%s\n", errno_name(e));
		return e ? 1 : 0;
	}
	if (argc == 4 && !strcmp(argv[1], "mkfiles")) {
		long n = strtol(argv[3], NULL, 0);
		char path[4096];

		for (long i = 0; i < n; i++) {
			int fd;

			snprintf(path, sizeof(path), "%s/f%05ld", argv[2], i);
			fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
			if (fd < 0 || close(fd))
				return die("create", path);
		}
		return 0;
	}
	if (argc == 5 && !strcmp(argv[1], "readonce")) {
		size_t size = strtoul(argv[3], NULL, 0);
		uint8_t *buf = io_buffer(size), *want = malloc(size);
		int fd = open(argv[2], open_flags(O_RDONLY));
		ssize_t r;

		if (!buf || !want || fd < 0)
			return die("open", argv[2]);
		r = read(fd, buf, size);
		fill(want, size, strtoull(argv[4], NULL, 0), 0);
		if (r != (ssize_t)size || memcmp(buf, want, size)) {
			fprintf(stderr, "%s: read %zd of %zu bytes, or wrong data\n", argv[2], r, size);
			return 1;
		}
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "readerr")) {
		size_t size = strtoul(argv[3], NULL, 0);
		uint8_t *buf = io_buffer(size);
		int fd = open(argv[2], open_flags(O_RDONLY));

		if (!buf || fd < 0)
			return die("open", argv[2]);
		printf("%s\n", read(fd, buf, size) < 0 ? errno_name(errno) : "OK");
		return 0;
	}
	if (argc == 5 && !strcmp(argv[1], "drain")) {
		size_t bs = strtoul(argv[3], NULL, 0);
		long rounds = strtol(argv[4], NULL, 0);
		uint8_t *buf = io_buffer(bs);

		if (!buf)
			return die("mmap", argv[2]);
		for (long i = 0; i < rounds; i++) {
			int fd = open(argv[2], open_flags(O_RDONLY));
			ssize_t r;

			if (fd < 0)
				return die("open", argv[2]);
			while ((r = read(fd, buf, bs)) > 0)
				;
			if (r < 0)
				return die("read", argv[2]);
			close(fd);
		}
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "ioerr")) {
		size_t size = strtoul(argv[3], NULL, 0);
		uint8_t *buf = io_buffer(size);
		int fd = open(argv[2], open_flags(O_RDONLY));

		if (!buf)
			return die("mmap", argv[2]);
		printf("%s\n", fd < 0 || read(fd, buf, size) < 0 ? errno_name(errno) : "OK");
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "badbuf"))
		return do_badbuf(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "countdir")) {
		DIR *d = opendir(argv[2]);
		struct dirent *de;
		long n = 0;

		if (!d)
			return die("opendir", argv[2]);
		errno = 0;
		while ((de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				n++;
		if (errno)
			return die("readdir", argv[2]);
		closedir(d);
		printf("%ld\n", n);
		return 0;
	}
	fprintf(stderr, "usage: see the comment at the top of zc9p-check.c\n");
	return 2;
}
