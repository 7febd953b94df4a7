// SPDX-License-Identifier: GPL-2.0
/*
 * zc9p-bench: the guest side of `make bench`.
 *
 *   zc9p-bench seq write|read PATH BS MAX_BYTES MAX_SECONDS
 *       sequential I/O in BS-byte calls until MAX_BYTES or MAX_SECONDS; with
 *       ZC9P_BENCH_FSYNC=1 a write ends with fsync(), inside the time measured
 *       (for cached mounts, where write() only fills the page cache)
 *   zc9p-bench rand PATH BS THREADS SECONDS
 *       random BS-aligned preads of PATH by THREADS threads for SECONDS
 *
 * Prints one line: "bytes ops ns cpu_busy_ticks" where the CPU ticks are the
 * whole guest's non-idle time (from /proc/stat) during the run. With
 * ZC9P_BENCH_PID=PID in the environment (a 9P server running in the guest) a
 * fifth field follows: the CPU ticks (user + system, all threads) PID used
 * during the run, the server's part of the guest's.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static uint64_t cpu_busy(void)
{
	unsigned long long v[10] = { 0 };
	FILE *f = fopen("/proc/stat", "r");

	if (!f || fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
			 &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) != 8)
		return 0;
	fclose(f);
	/* user nice system idle iowait irq softirq steal: all but idle and iowait */
	return v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
}

/* utime + stime of the process ZC9P_BENCH_PID (0 if unset or unreadable). */
static uint64_t server_cpu(void)
{
	const char *pid = getenv("ZC9P_BENCH_PID");
	unsigned long long ut = 0, st = 0;
	char path[64], line[1024], *p;
	FILE *f;

	if (!pid)
		return 0;
	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	p = fgets(line, sizeof(line), f) ? strrchr(line, ')') : NULL;
	fclose(f);
	/* after "pid (comm)": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return 0;
	return ut + st;
}

/* The result line: bytes ops ns cpu_ticks [server_ticks]. */
static void report(uint64_t bytes, uint64_t ops, uint64_t ns, uint64_t ticks, uint64_t srv)
{
	printf("%llu %llu %llu %llu", (unsigned long long)bytes, (unsigned long long)ops,
	       (unsigned long long)ns, (unsigned long long)ticks);
	if (getenv("ZC9P_BENCH_PID"))
		printf(" %llu", (unsigned long long)srv);
	printf("\n");
}

static void *buffer(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	/*
	 * Small pages, as the buffers of most programs are, and the same layout
	 * in every run: whether the kernel backs the buffer with transparent huge
	 * pages depends on fragmentation, and a huge page is one physically
	 * contiguous run that zero-copy transports hand the host as one iovec
	 * where small pages are 1021 at the largest msize. The tests cover
	 * huge-page buffers (zc9p-check, ZC9P_BUF_HUGE).
	 */
	madvise(p, len, MADV_NOHUGEPAGE);
	memset(p, 0x5a, len);
	return p;
}

static int seq(int writing, const char *path, size_t bs, uint64_t max_bytes, double secs)
{
	int fd = open(path, writing ? O_WRONLY | O_CREAT | O_TRUNC : O_RDONLY, 0644);
	char *buf = buffer(bs);
	uint64_t bytes = 0, ops = 0, t0, c0, s0, deadline;

	if (fd < 0) {
		perror(path);
		return 1;
	}
	s0 = server_cpu();
	c0 = cpu_busy();
	t0 = now_ns();
	deadline = t0 + (uint64_t)(secs * 1e9);
	while (bytes < max_bytes) {
		ssize_t n = writing ? write(fd, buf, bs) : read(fd, buf, bs);

		if (n < 0) {
			perror("io");
			return 1;
		}
		if (n == 0)
			break;
		bytes += n;
		ops++;
		/* The clock every 16 calls, or every call of 64 KiB or more (a slow transport's
		 * 16 large calls could take many times MAX_SECONDS). */
		if ((bs >= 65536 || (ops & 15) == 0) && now_ns() > deadline)
			break;
	}
	if (writing && getenv("ZC9P_BENCH_FSYNC") && fsync(fd)) {
		perror("fsync");
		return 1;
	}
	t0 = now_ns() - t0;
	c0 = cpu_busy() - c0;
	report(bytes, ops, t0, c0, server_cpu() - s0);
	close(fd);
	return 0;
}

struct rand_arg {
	int fd;
	size_t bs;
	off_t blocks;
	uint64_t deadline, ops;
	unsigned int seed;
};

static void *rand_reader(void *p)
{
	struct rand_arg *a = p;
	char *buf = buffer(a->bs);

	while (now_ns() < a->deadline) {
		off_t blk = rand_r(&a->seed) % a->blocks;

		if (pread(a->fd, buf, a->bs, blk * a->bs) <= 0)
			break;
		a->ops++;
	}
	return NULL;
}

static int rnd(const char *path, size_t bs, int threads, double secs)
{
	struct rand_arg a[64];
	pthread_t t[64];
	struct stat st;
	uint64_t t0, c0, s0, ops = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) || st.st_size < (off_t)bs || threads > 64) {
		perror(path);
		return 1;
	}
	s0 = server_cpu();
	c0 = cpu_busy();
	t0 = now_ns();
	for (int i = 0; i < threads; i++) {
		a[i] = (struct rand_arg){ fd, bs, st.st_size / bs, t0 + (uint64_t)(secs * 1e9), 0, i + 1 };
		pthread_create(&t[i], NULL, rand_reader, &a[i]);
	}
	for (int i = 0; i < threads; i++) {
		pthread_join(t[i], NULL);
		ops += a[i].ops;
	}
	t0 = now_ns() - t0;
	c0 = cpu_busy() - c0;
	report(ops * bs, ops, t0, c0, server_cpu() - s0);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 7 && !strcmp(argv[1], "seq"))
		return seq(!strcmp(argv[2], "write"), argv[3], strtoul(argv[4], NULL, 0),
			   strtoull(argv[5], NULL, 0), atof(argv[6]));
	if (argc == 6 && !strcmp(argv[1], "rand"))
		return rnd(argv[2], strtoul(argv[3], NULL, 0), atoi(argv[4]), atof(argv[5]));
	fprintf(stderr, "usage: see the comment at the top of zc9p-bench.c\n");
	return 2;
}
