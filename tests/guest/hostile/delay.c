// SPDX-License-Identifier: GPL-2.0
/*
 * zc9p-hostile's --delay TYPE:MS: the requests of one type are handled MS
 * after they arrived (in order), unless a Tflush drops them first; the
 * others at once.
 */
#include <stdlib.h>
#include <string.h>

#include "hostile.h"

/* --delay: requests of one type, handled delay_ms after they arrived (in order). */
struct deferred {
	int used;
	uint16_t tag;
	long long due;
	struct buf m;
};
static struct deferred deferred[64];

int deferred_drop(uint16_t tag)
{
	for (size_t i = 0; i < sizeof(deferred) / sizeof(deferred[0]); i++)
		if (deferred[i].used && deferred[i].tag == tag) {
			deferred[i].used = 0;
			return 1;
		}
	return 0;
}

/* Handles the deferred requests that are due; returns the ms until the next one (-1: none). */
int run_deferred(long long now)
{
	int next = -1;

	for (;;) {
		struct deferred *d = NULL;

		for (size_t i = 0; i < sizeof(deferred) / sizeof(deferred[0]); i++)
			if (deferred[i].used && (!d || deferred[i].due < d->due))
				d = &deferred[i];
		if (!d)
			return next;
		if (d->due > now) {
			next = d->due - now;
			return next;
		}
		d->used = 0;
		logf_("answer deferred tag %u", d->tag);
		handle_now(d->m.b, d->m.len);
	}
}

void handle(const uint8_t *msg, uint32_t size)
{
	uint8_t type = msg[4];
	uint16_t tag = msg[5] | msg[6] << 8;

	if (delay_type && type == delay_type && !muted) {
		for (size_t i = 0; i < sizeof(deferred) / sizeof(deferred[0]); i++)
			if (!deferred[i].used) {
				struct deferred *d = &deferred[i];

				d->used = 1;
				d->tag = tag;
				d->due = now_ms() + delay_ms;
				d->m.len = 0;
				put(&d->m, msg, size);
				if (verbose)
					logf_("T%u tag %u size %u", type, tag, size);
				logf_("defer T%u tag %u (%ld ms)", type, tag, delay_ms);
				return;
			}
		logf_("too many deferred requests: T%u tag %u now", type, tag);
	}
	handle_now(msg, size);
}

/* --delay's TYPE: a request's name (walk, read, write, ...) or its number. */
int delay_type_of(const char *name)
{
	static const struct { const char *n; int t; } names[] = {
		{ "statfs", TSTATFS }, { "lopen", TLOPEN }, { "getattr", TGETATTR },
		{ "setattr", TSETATTR }, { "readdir", TREADDIR }, { "fsync", TFSYNC },
		{ "walk", TWALK }, { "read", TREAD }, { "write", TWRITE }, { "clunk", TCLUNK },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i].n))
			return names[i].t;
	return atoi(name);
}
