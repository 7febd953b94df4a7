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
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static uint8_t stream_byte(uint64_t seed, uint64_t pos)
{
	/* splitmix64 of (seed, 8-byte word index), one byte per position. */
	uint64_t z = seed * 0x9e3779b97f4a7c15ULL + (pos >> 3) + 1;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return (uint8_t)(z >> ((pos & 7) * 8));
}

static void fill(uint8_t *buf, size_t len, uint64_t seed, uint64_t pos)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = stream_byte(seed, pos + i);
}

static int die(const char *what, const char *path)
{
	fprintf(stderr, "%s %s: %s\n", what, path, strerror(errno));
	return 1;
}

static int do_write(const char *path, uint64_t size, uint64_t seed, size_t bs)
{
	uint8_t *buf = malloc(bs);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

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
	/* ZC9P_NO_FSYNC: see the legacy-protocol note in run-tests.sh. */
	if ((!getenv("ZC9P_NO_FSYNC") && fsync(fd)) || close(fd))
		return die("close", path);
	free(buf);
	return 0;
}

static int do_verify(const char *path, uint64_t size, uint64_t seed, size_t bs)
{
	uint8_t *buf = malloc(bs), *want = malloc(bs);
	int fd = open(path, O_RDONLY);
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
	free(buf);
	free(want);
	return 0;
}

static const char *errno_name(int e)
{
	static char buf[32];
	const char *name = e ? strerrorname_np(e) : "OK";

	if (name)
		return name;
	snprintf(buf, sizeof(buf), "E%d", e);
	return buf;
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
