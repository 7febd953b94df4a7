// SPDX-License-Identifier: GPL-2.0
/*
 * zc9p-fdmount: mount a 9P server over trans=fd.
 *
 *   zc9p-fdmount socketpair|pipes SRC DIR OPTIONS PIDFILE LOGFILE SERVER [ARG...]
 *
 * Makes the channel (one AF_UNIX socketpair, or two pipes: one each way),
 * forks and execs SERVER with its ends of it, then mounts SRC on DIR with
 * mount -t 9p -o "trans=fd,rfdno=R,wfdno=W,OPTIONS" on its own ends and
 * prints OK or the errno name, as zc9p-check's mount does. In ARGs, "{R}" and
 * "{W}" stand for the server's read and write descriptor numbers (the same
 * socket for a socketpair), e.g. diod ... --rfdno {R} --wfdno {W}.
 *
 * The server runs in a session of its own with stdin on /dev/null and stdout
 * and stderr appended to LOGFILE (never the caller's, which may be a pipe a
 * shell waits on); its pid goes to PIDFILE before the mount. After the mount
 * this program closes its ends (the kernel holds its own references to them)
 * and exits, leaving the server running (reparented to init) for as long as
 * the mount keeps the channel open: kill it by PIDFILE. When the mount fails,
 * the server is killed and reaped, and PIDFILE removed.
 * Exit status: 0 when mounted, 1 when the mount failed, 2 on a setup error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "errname.h"

static int fail(const char *what)
{
	fprintf(stderr, "zc9p-fdmount: %s: %s\n", what, strerror(errno));
	return 2;
}

/* ARG with every "{R}" / "{W}" replaced by the server's descriptor numbers. */
static char *subst(const char *arg, int rfd, int wfd)
{
	size_t cap = strlen(arg) * 4 + 32, n = 0;
	char *out = malloc(cap);

	if (!out)
		return NULL;
	while (*arg) {
		if (!strncmp(arg, "{R}", 3) || !strncmp(arg, "{W}", 3)) {
			n += snprintf(out + n, cap - n, "%d", arg[1] == 'R' ? rfd : wfd);
			arg += 3;
		} else {
			out[n++] = *arg++;
		}
	}
	out[n] = 0;
	return out;
}

int main(int argc, char **argv)
{
	int crfd, cwfd, srfd, swfd; /* client's and server's read/write ends */
	char opts[4096], **sargv;
	const char *pidfile, *logfile;
	FILE *pf;
	pid_t pid;
	int e;

	if (argc < 8 || (strcmp(argv[1], "socketpair") && strcmp(argv[1], "pipes"))) {
		fprintf(stderr, "usage: zc9p-fdmount socketpair|pipes SRC DIR OPTIONS PIDFILE LOGFILE SERVER [ARG...]\n");
		return 2;
	}
	pidfile = argv[5];
	logfile = argv[6];
	if (!strcmp(argv[1], "socketpair")) {
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
			return fail("socketpair");
		crfd = cwfd = sv[0];
		srfd = swfd = sv[1];
	} else {
		int to_client[2], to_server[2];

		if (pipe2(to_client, O_CLOEXEC) || pipe2(to_server, O_CLOEXEC))
			return fail("pipe");
		crfd = to_client[0];
		swfd = to_client[1];
		srfd = to_server[0];
		cwfd = to_server[1];
	}
	sargv = calloc(argc - 6, sizeof(*sargv));
	if (!sargv)
		return fail("calloc");
	for (int i = 7; i < argc; i++)
		if (!(sargv[i - 7] = subst(argv[i], srfd, swfd)))
			return fail("malloc");

	pid = fork();
	if (pid < 0)
		return fail("fork");
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY), log = open(logfile, O_WRONLY | O_CREAT | O_APPEND, 0644);

		if (null < 0 || log < 0 || dup2(null, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0)
			_exit(127);
		if (null > 2 && null != srfd && null != swfd)
			close(null);
		if (log > 2 && log != srfd && log != swfd)
			close(log);
		/* The server's ends survive exec (the fds keep their numbers); the client's do not. */
		fcntl(srfd, F_SETFD, 0);
		fcntl(swfd, F_SETFD, 0);
		setsid();
		execvp(sargv[0], sargv);
		fprintf(stderr, "zc9p-fdmount: exec %s: %s\n", sargv[0], strerror(errno));
		_exit(127);
	}
	close(srfd);
	if (swfd != srfd)
		close(swfd);
	pf = fopen(pidfile, "w");
	if (!pf || fprintf(pf, "%d\n", (int)pid) < 0 || fclose(pf)) {
		e = errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		errno = e;
		return fail(pidfile);
	}

	snprintf(opts, sizeof(opts), "trans=fd,rfdno=%d,wfdno=%d%s%s", crfd, cwfd,
		 *argv[4] ? "," : "", argv[4]);
	e = mount(argv[2], argv[3], "9p", 0, opts) ? errno : 0;
	close(crfd);
	if (cwfd != crfd)
		close(cwfd);
	printf("%s\n", errno_name(e));
	fflush(stdout);
	if (e) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
		unlink(pidfile);
		return 1;
	}
	return 0;
}
