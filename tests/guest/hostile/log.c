// SPDX-License-Identifier: GPL-2.0
/*
 * zc9p-hostile's event log (--log F, -v), its clock, and the allocator that
 * gives up with a log line.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "hostile.h"

int logfd = -1, verbose;
long long t0;

long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

void logf_(const char *fmt, ...)
{
	char buf[512];
	int n;
	va_list ap;

	if (logfd < 0)
		return;
	n = snprintf(buf, sizeof(buf), "%lld.%03lld ", (now_ms() - t0) / 1000, (now_ms() - t0) % 1000);
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(logfd, buf, n) < 0)
		return;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		logf_("out of memory");
		exit(3);
	}
	return p;
}
