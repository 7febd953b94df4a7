// SPDX-License-Identifier: GPL-2.0
/*
 * zc9p-pintest: user-space side of the trans_common test module
 * (/dev/zc9p_pintest, tests/pintest/). Reading the device fills the caller's
 * buffer through pinned pages with stream_byte(7, file position); writing
 * checks the buffer against that stream (EBADMSG on a mismatch).
 *
 *   zc9p-pintest misaligned       reads and writes at offsets 0/1/511/4095
 *   zc9p-pintest unmapped         a read whose buffer's second half is unmapped
 *   zc9p-pintest readonly         a read into a PROT_READ buffer
 *   zc9p-pintest fork             fork while a read holds the buffer's pins
 *                                 (needs the module's hold_ms > 200)
 *   zc9p-pintest parallel N SIZE  N processes read SIZE bytes each, verified
 *   zc9p-pintest kill SIZE        SIGKILL a reader waiting for the pin budget
 *                                 (needs pin_budget = SIZE pages, hold_ms > 2000)
 * Exit status 0 means the check held; diagnostics go to stderr.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "stream.h"

#define DEV "/dev/zc9p_pintest"
#define SEED 7
#define PAGE 4096

static int check(const uint8_t *buf, size_t len, uint64_t pos, const char *what)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != stream_byte(SEED, pos + i)) {
			fprintf(stderr, "%s: byte %zu differs\n", what, i);
			return 1;
		}
	return 0;
}

static int open_dev(void)
{
	int fd = open(DEV, O_RDWR);

	if (fd < 0)
		perror(DEV);
	return fd;
}

static uint8_t *map(size_t len, int prot)
{
	uint8_t *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static int misaligned(void)
{
	static const size_t offs[] = { 0, 1, 511, 4095 };
	static const size_t sizes[] = { 1025, 4097, 65537, 262147, 524288 };
	int fd = open_dev(), bad = 0;
	size_t maplen = 524288 + 2 * PAGE;
	uint8_t *base = map(maplen, PROT_READ | PROT_WRITE);

	if (fd < 0 || !base)
		return 1;
	for (size_t o = 0; o < 4; o++)
		for (size_t s = 0; s < 5; s++) {
			uint8_t *buf = base + offs[o];
			uint64_t pos = 1000 * o + s;
			ssize_t n;

			memset(base, 0, maplen);
			n = pread(fd, buf, sizes[s], pos);
			if (n != (ssize_t)sizes[s] || check(buf, sizes[s], pos, "read")) {
				fprintf(stderr, "read off %zu size %zu: %zd\n", offs[o], sizes[s], n);
				bad = 1;
			}
			n = pwrite(fd, buf, sizes[s], pos);
			if (n != (ssize_t)sizes[s]) {
				fprintf(stderr, "write off %zu size %zu: %zd (%s)\n", offs[o],
					sizes[s], n, strerror(errno));
				bad = 1;
			}
			buf[sizes[s] / 2] ^= 0xff;
			n = pwrite(fd, buf, sizes[s], pos);
			if (n == (ssize_t)sizes[s] || (n < 0 && errno != EBADMSG)) {
				fprintf(stderr, "corrupt write off %zu size %zu accepted: %zd\n",
					offs[o], sizes[s], n);
				bad = 1;
			}
		}
	return bad;
}

static int unmapped(void)
{
	int fd = open_dev();
	uint8_t *buf = map(16 * PAGE, PROT_READ | PROT_WRITE);
	ssize_t n;

	if (fd < 0 || !buf)
		return 1;
	munmap(buf + 8 * PAGE, 8 * PAGE);
	n = pread(fd, buf + 100, 16 * PAGE - 200, 0);
	if (n < 0 && errno == EFAULT)
		return 0;
	if (n < 0 || n > 8 * PAGE - 100) {
		fprintf(stderr, "read into a half-unmapped buffer: %zd (%s)\n", n, strerror(errno));
		return 1;
	}
	return check(buf + 100, n, 0, "short read");
}

static int readonly(void)
{
	int fd = open_dev();
	uint8_t *buf = map(4 * PAGE, PROT_READ | PROT_WRITE);
	ssize_t n;

	if (fd < 0 || !buf)
		return 1;
	memset(buf, 0x5a, 4 * PAGE);
	mprotect(buf, 4 * PAGE, PROT_READ);
	n = pread(fd, buf, 4 * PAGE, 0);
	if (n >= 0 || errno != EFAULT) {
		fprintf(stderr, "read into a read-only buffer: %zd (%s)\n", n, strerror(errno));
		return 1;
	}
	for (int i = 0; i < 4 * PAGE; i++)
		if (buf[i] != 0x5a) {
			fprintf(stderr, "read-only buffer was written\n");
			return 1;
		}
	return 0;
}

struct reader {
	int fd;
	uint8_t *buf;
	size_t len;
	ssize_t got;
};

static void *read_thread(void *arg)
{
	struct reader *r = arg;

	r->got = pread(r->fd, r->buf, r->len, 0);
	return NULL;
}

/* The test module's count of pages pinned now (its debugfs "pins" file), -1 if unreadable. */
static long pinned_now(void)
{
	FILE *f = fopen("/sys/kernel/debug/zc9p_pintest/pins", "r");
	char line[128];
	long n = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "pinned_pages: %ld", &n) == 1)
			break;
	fclose(f);
	return n;
}

/*
 * The classic direct-I/O-versus-fork trap: after fork, the parent writes to
 * bytes that share pages with the buffer being read. With pages merely
 * referenced (FOLL_GET), that write gives the parent a new copy and the
 * device's data lands in the child's page; with FOLL_PIN, fork copies the
 * pinned pages for the child up front and the parent keeps the pinned ones.
 */
static int fork_during_read(void)
{
	struct reader r = { .fd = open_dev(), .len = 16 * PAGE - 200 };
	uint8_t *map_base = map(16 * PAGE, PROT_READ | PROT_WRITE);
	pthread_t t;
	pid_t child;
	int status;

	if (r.fd < 0 || !map_base)
		return 1;
	r.buf = map_base + 100;
	memset(map_base, 0x11, 16 * PAGE);
	pthread_create(&t, NULL, read_thread, &r);
	/* Fork only once the fake device holds the reader's pins (hold_ms keeps them). */
	for (int i = 0; pinned_now() <= 0; i++) {
		if (i == 5000) {
			fprintf(stderr, "the reader never pinned its pages\n");
			return 1;
		}
		usleep(1000);
	}
	child = fork();
	if (child == 0) {
		memset(r.buf, 0xaa, r.len);	/* the child's copy */
		_exit(0);
	}
	/* The parent writes next to the buffer, in its first and last pages. */
	map_base[0] = 0x22;
	map_base[16 * PAGE - 1] = 0x22;
	waitpid(child, &status, 0);
	pthread_join(t, NULL);
	if (r.got != (ssize_t)r.len) {
		fprintf(stderr, "read during fork: %zd\n", r.got);
		return 1;
	}
	if (map_base[0] != 0x22 || map_base[16 * PAGE - 1] != 0x22) {
		fprintf(stderr, "the parent's own writes were lost\n");
		return 1;
	}
	return check(r.buf, r.len, 0, "parent after fork");
}

static int read_verify(size_t len)
{
	int fd = open_dev();
	uint8_t *buf = map(len, PROT_READ | PROT_WRITE);
	ssize_t n;

	if (fd < 0 || !buf)
		return 1;
	n = pread(fd, buf, len, 0);
	if (n != (ssize_t)len) {
		fprintf(stderr, "read %zu: %zd (%s)\n", len, n, strerror(errno));
		return 1;
	}
	return check(buf, len, 0, "read");
}

static int parallel(int n, size_t len)
{
	int bad = 0;

	for (int i = 0; i < n; i++)
		if (fork() == 0)
			_exit(read_verify(len));
	for (int i = 0; i < n; i++) {
		int status;

		wait(&status);
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			bad = 1;
	}
	return bad;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int kill_waiter(size_t len)
{
	pid_t holder, waiter;
	int status, bad = 0;
	double t0;

	holder = fork();
	if (holder == 0)
		_exit(read_verify(len));
	usleep(600 * 1000);	/* the holder has the whole budget */
	waiter = fork();
	if (waiter == 0)
		_exit(read_verify(len));
	usleep(600 * 1000);
	if (waitpid(waiter, &status, WNOHANG) != 0) {
		fprintf(stderr, "the second reader did not wait for the budget\n");
		bad = 1;
	}
	t0 = now();
	kill(waiter, SIGKILL);
	waitpid(waiter, &status, 0);
	fprintf(stderr, "killed waiter exited after %.0f ms\n", (now() - t0) * 1000);
	/* Well before the holder's pages come back (hold_ms > 2000). */
	if (now() - t0 > 1.0 || !WIFSIGNALED(status)) {
		fprintf(stderr, "the killed waiter did not die promptly\n");
		bad = 1;
	}
	waitpid(holder, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "the holder failed\n");
		bad = 1;
	}
	return bad;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "misaligned"))
		return misaligned();
	if (argc == 2 && !strcmp(argv[1], "unmapped"))
		return unmapped();
	if (argc == 2 && !strcmp(argv[1], "readonly"))
		return readonly();
	if (argc == 2 && !strcmp(argv[1], "fork"))
		return fork_during_read();
	if (argc == 4 && !strcmp(argv[1], "parallel"))
		return parallel(atoi(argv[2]), strtoul(argv[3], NULL, 0));
	if (argc == 3 && !strcmp(argv[1], "kill"))
		return kill_waiter(strtoul(argv[2], NULL, 0));
	fprintf(stderr, "usage: see the comment at the top of zc9p-pintest.c\n");
	return 2;
}
