// SPDX-License-Identifier: GPL-2.0
/*
 * pwritev-repro: QEMU's 9P write pattern on the host, outside any guest.
 *
 * Why: a 4 MiB write() through zc9p at msize=4182040 reaches QEMU's 9P server
 * as Twrites of 4182016 bytes (1021 pages), and QEMU's local fsdev makes of
 * each one pwritev() call (hw/9pfs/9p.c v9fs_write -> v9fs_co_pwritev) whose
 * iovecs are the request's guest pages, one 4 KiB iovec a page, mapped from
 * guest RAM, at file offsets that grow by the payload size. Documentation/
 * virtio-limits.rst ("Large writes and the host") found those calls slow on
 * the host (the worker thread's time in copy_folio_from_iter_atomic); this
 * program makes the same calls without QEMU or a guest, so the host's part
 * can be measured alone, on ext4 (/tmp) and on tmpfs (/dev/shm).
 *
 *   pwritev-repro [-d DIR] [-m MIB] [-n SERIES] [-i IOV] [-w WRITE] [-s PAUSE] [-q] CHUNK...
 *
 * For each of SERIES series, for each CHUNK (bytes; the order reversed every
 * other series, ABBA, so drift of the host's state hits every size alike): a
 * new file DIR/pwritev-repro.PID (O_CREAT|O_TRUNC, as the guest benchmark's
 * open() reaches QEMU) gets MIB MiB of sequential pwritev() calls of CHUNK
 * bytes each (the last one shorter), and is unlinked. The source is a memfd
 * (guest RAM is a memfd when QEMU shares it, e.g. for virtio-fs; otherwise
 * anonymous memory: the copy is the same), already faulted in, cut into IOV-
 * byte iovecs (default 4096: one a guest page; 0: one iovec per call).
 *
 * -w WRITE: the guest's write() size. The 9P client cuts each write() of
 * WRITE bytes into Twrites of at most CHUNK (the msize's payload), so a
 * 4 MiB write at msize=4182040 is a pwritev of 4182016 bytes at a 4 MiB
 * boundary and one of 12288 after it, and the next write() starts at the
 * next 4 MiB boundary: -w 4194304 makes that pattern. Without -w, calls of
 * CHUNK bytes follow each other (the offsets drift off every boundary).
 *
 * -s PAUSE: seconds of sleep before each run. The memory a run frees (its
 * file's page cache, unlinked) is what the next run's page cache reuses
 * unless the host has given it back to its hypervisor in between; a pause
 * lets that happen.
 *
 * Before each series, "touch" lines measure the host's own first touch of
 * fresh anonymous memory (mmap + memset of MIB MiB, small pages) and a
 * second pass over the same memory, to tell the cost of a new page from the
 * cost of the file system: this host is itself a virtual machine whose free
 * pages are reported to its hypervisor (virtio_balloon free page reporting,
 * /sys/module/page_reporting), and a page handed back that way faults in the
 * hypervisor when it is next written.
 *
 * Output, one line per run:
 *   RUN series chunk MiB/s p50_us_per_call max_us_per_call sys_ms_per_MiB reported_MiB
 * (reported_MiB: how much the guest kernel reported free to its hypervisor
 * during the run, from page_reporting's reported_kib, "-" where absent), and
 * at the end a table per chunk: median, min and max MiB/s over the series.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define MAX_CHUNKS 16
#define MAX_SERIES 64
#define IOVS_MAX 1024 /* IOV_MAX; QEMU's element has at most 1024 descriptors */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static uint64_t sys_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_stime.tv_sec * 1000000000ULL + ru.ru_stime.tv_usec * 1000ULL;
}

/* page_reporting's running total of KiB reported free (-1 if absent). */
static long long reported_kib(void)
{
	long long v = -1;
	FILE *f = fopen("/sys/module/page_reporting/parameters/reported_kib", "r");

	if (f) {
		if (fscanf(f, "%lld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/* The first touch of fresh anonymous memory, then a second pass: MiB/s each. */
static void touch(int series, size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t t0, t1, t2;

	if (p == MAP_FAILED)
		die("mmap");
	madvise(p, len, MADV_NOHUGEPAGE);
	t0 = now_ns();
	memset(p, 1, len);
	t1 = now_ns();
	memset(p, 2, len);
	t2 = now_ns();
	printf("TOUCH %d first %.0f again %.0f\n", series,
	       len / 1048576.0 / ((t1 - t0) / 1e9), len / 1048576.0 / ((t2 - t1) / 1e9));
	munmap(p, len);
}

int main(int argc, char **argv)
{
	const char *dir = "/tmp";
	size_t total = 256ULL << 20, iov_size = 4096, wsize = 0, chunks[MAX_CHUNKS], maxchunk = 0;
	int series = 4, nchunks = 0, quiet = 0, opt;
	double pause = 0;
	static double mibs[MAX_CHUNKS][MAX_SERIES], sysm[MAX_CHUNKS][MAX_SERIES];
	char path[4096];

	while ((opt = getopt(argc, argv, "d:m:n:i:w:s:q")) != -1) {
		switch (opt) {
		case 'd': dir = optarg; break;
		case 'm': total = strtoull(optarg, NULL, 0) << 20; break;
		case 'n': series = atoi(optarg); break;
		case 'i': iov_size = strtoull(optarg, NULL, 0); break;
		case 'w': wsize = strtoull(optarg, NULL, 0); break;
		case 's': pause = atof(optarg); break;
		case 'q': quiet = 1; break;
		default:
			fprintf(stderr, "usage: %s [-d DIR] [-m MIB] [-n SERIES] [-i IOV] [-w WRITE] [-s PAUSE] [-q] CHUNK...\n",
				argv[0]);
			return 2;
		}
	}
	for (; optind < argc && nchunks < MAX_CHUNKS; optind++) {
		chunks[nchunks] = strtoull(argv[optind], NULL, 0);
		if (chunks[nchunks] > maxchunk)
			maxchunk = chunks[nchunks];
		nchunks++;
	}
	if (!nchunks || series < 1 || series > MAX_SERIES || (iov_size && iov_size % 4096)) {
		fprintf(stderr, "need chunk sizes, 1..%d series, IOV a multiple of 4096 or 0\n",
			MAX_SERIES);
		return 2;
	}
	if (iov_size && (maxchunk + iov_size - 1) / iov_size > IOVS_MAX) {
		fprintf(stderr, "a chunk of %zu bytes needs more than %d iovecs of %zu\n",
			maxchunk, IOVS_MAX, iov_size);
		return 2;
	}

	/* The source: a memfd of the largest chunk (rounded to pages), faulted in. */
	size_t srclen = (maxchunk + 4095) & ~(size_t)4095;
	int mfd = memfd_create("guest-ram", 0);

	if (mfd < 0 || ftruncate(mfd, srclen))
		die("memfd");
	char *src = mmap(NULL, srclen, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);

	if (src == MAP_FAILED)
		die("mmap memfd");
	memset(src, 0x5a, srclen);

	struct iovec *iov = calloc(IOVS_MAX, sizeof(*iov));
	size_t maxcalls = total / 4096 + 1;
	uint64_t *lat = calloc(maxcalls, sizeof(*lat));

	snprintf(path, sizeof(path), "%s/pwritev-repro.%d", dir, (int)getpid());
	printf("# dir %s, %zu MiB a run, iovecs of %zu bytes (0: one per call), %d series, "
	       "write() size %zu (0: none)\n", dir, total >> 20, iov_size, series, wsize);
	printf("# RUN series chunk MiB/s p50_us_per_call max_us_per_call sys_ms_per_MiB reported_MiB\n");
	for (int s = 0; s < series; s++) {
		touch(s, total);
		for (int k = 0; k < nchunks; k++) {
			int c = (s % 2) ? nchunks - 1 - k : k;
			size_t chunk = chunks[c];
			int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			size_t done = 0, calls = 0;
			long long r0 = reported_kib();
			uint64_t t0, s0;

			if (fd < 0)
				die(path);
			if (pause > 0) {
				struct timespec ts = { (time_t)pause, (long)((pause - (time_t)pause) * 1e9) };

				nanosleep(&ts, NULL);
			}
			r0 = reported_kib();
			s0 = sys_ns();
			t0 = now_ns();
			while (done < total) {
				size_t n = total - done < chunk ? total - done : chunk;

				/* A Twrite does not cross the end of the guest's write(). */
				if (wsize && wsize - done % wsize < n)
					n = wsize - done % wsize;
				int cnt = 0;

				if (iov_size) {
					for (size_t o = 0; o < n; o += iov_size, cnt++) {
						iov[cnt].iov_base = src + o;
						iov[cnt].iov_len = n - o < iov_size ? n - o : iov_size;
					}
				} else {
					iov[0].iov_base = src;
					iov[0].iov_len = n;
					cnt = 1;
				}
				uint64_t c0 = now_ns();
				ssize_t w = pwritev(fd, iov, cnt, done);

				if (w <= 0)
					die("pwritev");
				lat[calls++] = now_ns() - c0;
				done += w;
			}
			uint64_t ns = now_ns() - t0, sys = sys_ns() - s0;
			long long r1 = reported_kib();

			close(fd);
			unlink(path);
			qsort(lat, calls, sizeof(*lat), cmp_u64);
			mibs[c][s] = total / 1048576.0 / (ns / 1e9);
			sysm[c][s] = sys / 1e6 / (total / 1048576.0);
			if (!quiet) {
				printf("RUN %d %zu %.0f %.0f %.0f %.2f ", s, chunk, mibs[c][s],
				       lat[calls / 2] / 1e3, lat[calls - 1] / 1e3,
				       sys / 1e6 / (total / 1048576.0));
				if (r0 >= 0 && r1 >= 0)
					printf("%lld\n", (r1 - r0) / 1024);
				else
					printf("-\n");
			}
			fflush(stdout);
		}
	}
	/*
	 * MiB/s is wall time, which other load on the host's cores stretches;
	 * the system time per MiB is the host kernel's own work (and whatever
	 * the hypervisor below it does during that work), and holds under load.
	 */
	printf("# TABLE dir chunk MiB/s: median min max; sys ms per MiB: median min max (%d series)\n",
	       series);
	for (int c = 0; c < nchunks; c++) {
		double v[MAX_SERIES], y[MAX_SERIES];

		memcpy(v, mibs[c], sizeof(double) * series);
		memcpy(y, sysm[c], sizeof(double) * series);
		qsort(v, series, sizeof(double), cmp_dbl);
		qsort(y, series, sizeof(double), cmp_dbl);
		printf("TABLE %s %zu %.0f %.0f %.0f %.2f %.2f %.2f\n", dir, chunks[c],
		       series % 2 ? v[series / 2] : (v[series / 2 - 1] + v[series / 2]) / 2,
		       v[0], v[series - 1],
		       series % 2 ? y[series / 2] : (y[series / 2 - 1] + y[series / 2]) / 2,
		       y[0], y[series - 1]);
	}
	return 0;
}
