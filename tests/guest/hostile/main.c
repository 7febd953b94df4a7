// SPDX-License-Identifier: GPL-2.0
/*
 * zc9p-hostile: a 9P2000.L server that breaks the protocol on purpose, for
 * the fd transports' hostile-server tests (tests/guest/hostile.sh), and the
 * client helpers those tests use. Asked for 9P2000.u or plain 9P2000 in
 * Tversion, it speaks that (Topen, Tstat, Twstat; Rerror with the string,
 * and the errno under .u) for tests/guest/versions.sh.
 *
 * It serves a synthetic tree: the root directory with the files "good" and
 * "bad", both --size bytes of zc9p-check's stream with seed --seed (so
 * `zc9p-check verify DIR/good SIZE SEED` passes). Everything is correct except
 * what --mode asks for, which happens on the first Tread of "bad" (the first
 * Twrite of it for stop-reading): a mount works, and "good" verifies before
 * and (if the client kept the connection) after.
 *
 *   zc9p-hostile [OPTIONS]     serve one connection, then exit
 *     -l HOST:PORT | -l /PATH | -l vsock:PORT
 *                              listen on tcp, on a unix socket or on vsock
 *                              (any CID), accept one
 *     --rfd R --wfd W          or serve these file descriptors
 *     --mount DIR              or make a socketpair, serve one end and mount
 *                              DIR with trans=fd on the other; prints OK or
 *                              the mount's errno name (exit status 0 or 1)
 *     --mopts OPTS             the rest of that mount's options (default
 *                              version=9p2000.L,msize=65536)
 *     --mode MODE --arg N      the misbehaviour (see the table below)
 *     --msize N                cap on the negotiated msize (default: echo)
 *     --size N --seed S        the files' size (default 262144) and seed (1)
 *     --delay TYPE:MS          handle every request of TYPE (walk, read, write,
 *                              fsync, getattr, clunk, ... or its number) MS ms
 *                              after it arrived; a Tflush for one still waiting
 *                              drops it (never handled, no reply) and gets Rflush
 *     --lax-fids               a Tattach or Twalk to a fid in use replaces it
 *                              (by default it is refused with EINVAL, as QEMU does)
 *     --store F                serve a third file, "data", kept in the file F
 *                              (reads, writes, truncation)
 *     --pidfile F              detach once listening (or once mounted): the
 *                              server runs on in the background; F gets its pid
 *     --log F                  event log, one line per event ("held", "trigger",
 *                              "flush", "stall", "eof"...); -v logs every message
 *
 *   zc9p-hostile readat PATH OFFSET SIZE SEED   one pread(2) into an mmap'ed
 *       buffer; prints OK, "SHORT n" (n correct bytes), "BADDATA n" (first
 *       wrong byte) or the errno name; exit status 0 only for OK
 *       (with HS_READ_WAIT=F: after the open, creates F.ready and waits for
 *       F to exist before the pread)
 *   zc9p-hostile writeat PATH SIZE BLOCK        pwrite(2)s SIZE bytes from offset
 *       0 (no O_TRUNC, no fsync); prints OK or the errno name
 *   zc9p-hostile exitwrite PATH SIZE SEED       opens PATH (O_TRUNC), writes SIZE
 *       bytes of the stream and exits with the file open: the last fput, and
 *       with it the writeback of a cached file, happens in the exiting task
 *   zc9p-hostile exitmap PATH SIZE SEED         sizes PATH to SIZE, fills it
 *       through a shared mapping and exits with the mapping in place (the
 *       file closed): its dirty pages are written back at exit_mmap
 *   zc9p-hostile fsync PATH                     opens PATH and fsync(2)s it:
 *       OK, or the errno name of a writeback error not yet reported to anyone
 *   zc9p-hostile readlen PATH OFFSET SIZE      one pread(2) (O_DIRECT with
 *       HS_ODIRECT=1) into an mmap'ed buffer; prints the bytes read or the
 *       errno name
 *   zc9p-hostile failnth PATH N                 stat(2)s PATH with the Nth
 *       allocation of the call failed (/proc/thread-self/fail-nth); prints
 *       "OK" or the errno name, then "injected" or "not-injected" (the call
 *       made fewer than N allocations)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "../stream.h"
#include "hostile.h"

/* ---- client helpers ---- */

static const char *errname(int e)
{
	const char *n = strerrorname_np(e);
	static char b[16];

	if (n)
		return n;
	snprintf(b, sizeof(b), "E%d", e);
	return b;
}

static int readat(const char *path, uint64_t off, size_t size, uint64_t s)
{
	uint8_t *b = mmap(NULL, size + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int fd = open(path, O_RDONLY);
	ssize_t r;

	if (fd < 0) {
		printf("%s\n", errname(errno));
		return 1;
	}
	/* A pattern the stream is unlikely to match, so unfilled bytes show. */
	memset(b, 0xa5, size);
	if (getenv("HS_READ_WAIT")) {
		const char *w = getenv("HS_READ_WAIT");
		char ready[256];

		snprintf(ready, sizeof(ready), "%s.ready", w);
		close(open(ready, O_WRONLY | O_CREAT, 0644));
		while (access(w, F_OK))
			usleep(10000);
	}
	r = pread(fd, b, size, off);
	if (r < 0) {
		printf("%s\n", errname(errno));
		return 1;
	}
	for (ssize_t i = 0; i < r; i++)
		if (b[i] != stream_byte(s, off + i)) {
			printf("BADDATA %zd\n", i);
			return 1;
		}
	if ((size_t)r != size) {
		printf("SHORT %zd\n", r);
		return 1;
	}
	printf("OK\n");
	return 0;
}

static int writeat(const char *path, uint64_t size, size_t bs)
{
	uint8_t *b = mmap(NULL, bs, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int fd = open(path, O_WRONLY);

	if (fd < 0) {
		printf("%s\n", errname(errno));
		return 1;
	}
	for (uint64_t pos = 0; pos < size;) {
		size_t n = size - pos < bs ? size - pos : bs;
		ssize_t w;

		for (size_t i = 0; i < n; i++)
			b[i] = stream_byte(seed, pos + i);
		w = pwrite(fd, b, n, pos);
		if (w <= 0) {
			printf("%s\n", w < 0 ? errname(errno) : "ZERO");
			return 1;
		}
		pos += w;
	}
	if (close(fd)) {
		printf("%s\n", errname(errno));
		return 1;
	}
	printf("OK\n");
	return 0;
}

static int readlen(const char *path, uint64_t off, size_t size)
{
	uint8_t *b = mmap(NULL, size + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int fd = open(path, O_RDONLY | (getenv("HS_ODIRECT") ? O_DIRECT : 0));
	ssize_t r;

	if (fd < 0) {
		printf("%s\n", errname(errno));
		return 1;
	}
	r = pread(fd, b, size, off);
	if (r < 0) {
		printf("%s\n", errname(errno));
		return 1;
	}
	printf("%zd\n", r);
	return 0;
}

static void fill(uint8_t *b, size_t n, uint64_t s)
{
	for (size_t i = 0; i < n; i++)
		b[i] = stream_byte(s, i);
}

/* Leaves the file open: exit(2) closes it, and the last fput writes it back. */
static int exitwrite(const char *path, size_t size, uint64_t s)
{
	uint8_t *b = malloc(size + 1);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || !b) {
		printf("%s\n", errname(errno));
		return 1;
	}
	fill(b, size, s);
	for (size_t at = 0; at < size;) {
		ssize_t w = write(fd, b + at, size - at);

		if (w <= 0) {
			printf("%s\n", w < 0 ? errname(errno) : "ZERO");
			return 1;
		}
		at += w;
	}
	printf("OK\n");
	fflush(stdout);
	_exit(0);
}

/*
 * A writeback error nobody has seen yet (errseq: a file opened after it still
 * gets it), e.g. of the writeback in a task's exit.
 */
static int do_fsync(const char *path)
{
	int fd = open(path, O_WRONLY);

	if (fd < 0 || fsync(fd)) {
		printf("%s\n", errname(errno));
		return 1;
	}
	close(fd);
	printf("OK\n");
	return 0;
}

/* Leaves the shared mapping dirty: exit_mmap closes it, which writes it back. */
static int exitmap(const char *path, size_t size, uint64_t s)
{
	int fd = open(path, O_RDWR | O_CREAT, 0644);
	uint8_t *m;

	if (fd < 0 || ftruncate(fd, size)) {
		printf("%s\n", errname(errno));
		return 1;
	}
	m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		printf("%s\n", errname(errno));
		return 1;
	}
	close(fd);
	fill(m, size, s);
	printf("OK\n");
	fflush(stdout);
	_exit(0);
}

static int failnth(const char *path, const char *n)
{
	int fd = open("/proc/thread-self/fail-nth", O_RDWR);
	struct stat st;
	char left[32] = "";
	int e = 0;
	ssize_t r;

	if (fd < 0) {
		printf("%s fail-nth\n", errname(errno));
		return 2;
	}
	if (write(fd, n, strlen(n)) < 0) {
		printf("%s fail-nth write\n", errname(errno));
		return 2;
	}
	if (stat(path, &st))
		e = errno;
	r = pread(fd, left, sizeof(left) - 1, 0);
	if (write(fd, "0", 1) < 0)
		return 2;
	if (r < 0)
		return 2;
	left[r] = 0;
	printf("%s %s\n", e ? errname(e) : "OK", atoi(left) == 0 ? "injected" : "not-injected");
	return 0;
}

/* ---- setup ---- */

static int listen_on(const char *addr)
{
	int s, one = 1;

	if (!strncmp(addr, "vsock:", 6)) {
		struct sockaddr_vm vm = {
			.svm_family = AF_VSOCK,
			.svm_cid = VMADDR_CID_ANY,
			.svm_port = atoi(addr + 6),
		};

		s = socket(AF_VSOCK, SOCK_STREAM, 0);
		if (s < 0 || bind(s, (struct sockaddr *)&vm, sizeof(vm)))
			return -1;
		if (mode == M_STOP_READING || mode == M_EARLY_RLERROR) {
			/* vsock's receive window is the buffer it advertises as credit. */
			unsigned long long small = 16384;

			setsockopt(s, AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, &small, sizeof(small));
		}
	} else if (addr[0] == '/') {
		struct sockaddr_un u = { .sun_family = AF_UNIX };

		snprintf(u.sun_path, sizeof(u.sun_path), "%s", addr);
		unlink(addr);
		s = socket(AF_UNIX, SOCK_STREAM, 0);
		if (s < 0 || bind(s, (struct sockaddr *)&u, sizeof(u)))
			return -1;
	} else {
		struct sockaddr_in in = { .sin_family = AF_INET };
		char host[64];
		const char *colon = strrchr(addr, ':');

		if (!colon || colon - addr >= (long)sizeof(host)) {
			errno = EINVAL;
			return -1;
		}
		memcpy(host, addr, colon - addr);
		host[colon - addr] = 0;
		in.sin_port = htons(atoi(colon + 1));
		if (inet_pton(AF_INET, host, &in.sin_addr) != 1) {
			errno = EINVAL;
			return -1;
		}
		s = socket(AF_INET, SOCK_STREAM, 0);
		if (s < 0)
			return -1;
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(s, (struct sockaddr *)&in, sizeof(in)))
			return -1;
	}
	if (mode == M_STOP_READING || mode == M_EARLY_RLERROR) {
		/* A small receive window, so a stalled server stops the client's sends soon. */
		int small = 4096;

		setsockopt(s, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	}
	if (listen(s, 1))
		return -1;
	return s;
}

static void usage(void)
{
	fprintf(stderr, "usage: see the comment at the top of tests/guest/hostile/main.c; modes:\n");
	for (size_t i = 0; i < NMODES; i++)
		fprintf(stderr, "  %-18s %s\n", modes[i].name, modes[i].what);
	exit(2);
}

/* The server's side of detaching: stdio away from the caller's pipes, own session. */
static void detach_child(void)
{
	int null = open("/dev/null", O_RDWR);

	dup2(null, 0);
	dup2(logfd >= 0 ? logfd : null, 1);
	dup2(logfd >= 0 ? logfd : null, 2);
	if (null > 2)
		close(null);
	setsid();
}

static void write_pidfile(const char *f, pid_t pid)
{
	FILE *p = fopen(f, "w");

	if (p) {
		fprintf(p, "%d\n", (int)pid);
		fclose(p);
	}
}

int main(int argc, char **argv)
{
	const char *listen_addr = NULL, *pidfile = NULL, *mountdir = NULL;
	const char *mopts = "version=9p2000.L,msize=65536";

	if (argc == 6 && !strcmp(argv[1], "readat"))
		return readat(argv[2], strtoull(argv[3], NULL, 0), strtoul(argv[4], NULL, 0),
			      strtoull(argv[5], NULL, 0));
	if (argc == 5 && !strcmp(argv[1], "writeat"))
		return writeat(argv[2], strtoull(argv[3], NULL, 0), strtoul(argv[4], NULL, 0));
	if (argc == 5 && !strcmp(argv[1], "exitwrite"))
		return exitwrite(argv[2], strtoul(argv[3], NULL, 0), strtoull(argv[4], NULL, 0));
	if (argc == 5 && !strcmp(argv[1], "exitmap"))
		return exitmap(argv[2], strtoul(argv[3], NULL, 0), strtoull(argv[4], NULL, 0));
	if (argc == 5 && !strcmp(argv[1], "readlen"))
		return readlen(argv[2], strtoull(argv[3], NULL, 0), strtoul(argv[4], NULL, 0));
	if (argc == 3 && !strcmp(argv[1], "fsync"))
		return do_fsync(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "failnth"))
		return failnth(argv[2], argv[3]);

	t0 = now_ms();
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(o, "-v")) {
			verbose = 1;
			continue;
		}
		if (!strcmp(o, "--lax-fids")) {
			lax_fids = 1;
			continue;
		}
		if (!v)
			usage();
		i++;
		if (!strcmp(o, "-l"))
			listen_addr = v;
		else if (!strcmp(o, "--rfd"))
			rfd = atoi(v);
		else if (!strcmp(o, "--wfd"))
			wfd = atoi(v);
		else if (!strcmp(o, "--mount"))
			mountdir = v;
		else if (!strcmp(o, "--mopts"))
			mopts = v;
		else if (!strcmp(o, "--arg"))
			marg = atol(v);
		else if (!strcmp(o, "--msize"))
			msize_cap = strtoul(v, NULL, 0);
		else if (!strcmp(o, "--size"))
			fsize = strtoull(v, NULL, 0);
		else if (!strcmp(o, "--seed"))
			seed = strtoull(v, NULL, 0);
		else if (!strcmp(o, "--pidfile"))
			pidfile = v;
		else if (!strcmp(o, "--delay")) {
			const char *c = strchr(v, ':');
			char t[32];

			if (!c || c - v >= (long)sizeof(t))
				usage();
			memcpy(t, v, c - v);
			t[c - v] = 0;
			delay_type = delay_type_of(t);
			delay_ms = atol(c + 1);
		} else if (!strcmp(o, "--store")) {
			store_fd = open(v, O_RDWR | O_CREAT, 0644);
			if (store_fd < 0) {
				perror(v);
				return 2;
			}
		}
		else if (!strcmp(o, "--log")) {
			logfd = open(v, O_WRONLY | O_CREAT | O_APPEND, 0644);
			if (logfd < 0) {
				perror(v);
				return 2;
			}
		} else if (!strcmp(o, "--mode")) {
			size_t m;

			for (m = 0; m < NMODES && strcmp(modes[m].name, v); m++)
				;
			if (m == NMODES)
				usage();
			mode = m;
		} else {
			usage();
		}
	}
	signal(SIGPIPE, SIG_IGN);
	if (mode == M_DRIBBLE && marg > 0)
		slow_ms = marg;

	if (mountdir) {
		int sv[2];
		char opts[512];
		pid_t pid;
		int e;

		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) {
			perror("socketpair");
			return 2;
		}
		pid = fork();
		if (pid < 0) {
			perror("fork");
			return 2;
		}
		if (!pid) {
			close(sv[0]);
			detach_child();
			rfd = wfd = sv[1];
			serve();
		}
		close(sv[1]);
		snprintf(opts, sizeof(opts), "trans=fd,rfdno=%d,wfdno=%d,%s", sv[0], sv[0], mopts);
		e = mount("hostile", mountdir, "9p", 0, opts) ? errno : 0;
		if (pidfile)
			write_pidfile(pidfile, pid);
		printf("%s\n", e ? errname(e) : "OK");
		return e ? 1 : 0;
	}
	if (listen_addr) {
		int s = listen_on(listen_addr), c;

		if (s < 0) {
			perror(listen_addr);
			return 2;
		}
		if (pidfile) {
			pid_t pid = fork();

			if (pid < 0) {
				perror("fork");
				return 2;
			}
			if (pid) {
				write_pidfile(pidfile, pid);
				return 0;
			}
			detach_child();
		}
		c = accept(s, NULL, NULL);
		if (c < 0) {
			logf_("accept: %s", strerror(errno));
			return 2;
		}
		close(s);
		if (listen_addr[0] == '/')
			unlink(listen_addr);
		else
			setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
		logf_("connected");
		rfd = wfd = c;
		serve();
	}
	if (rfd < 0 || wfd < 0)
		usage();
	if (pidfile) {
		pid_t pid = fork();

		if (pid < 0)
			return 2;
		if (pid) {
			write_pidfile(pidfile, pid);
			return 0;
		}
		detach_child();
	}
	serve();
	return 0;
}
