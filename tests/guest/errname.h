/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The errno names the guest tests print and the scripts compare ("EIO",
 * "EBUSY"; "OK" for 0), so that an outcome reads the same in every program
 * and in every C library's locale.
 */
#ifndef ZC9P_TEST_ERRNAME_H
#define ZC9P_TEST_ERRNAME_H

#include <stdio.h>
#include <string.h>

/* Needs _GNU_SOURCE (strerrorname_np) before the first include. */
static inline const char *errno_name(int e)
{
	static char buf[32];
	const char *name = e ? strerrorname_np(e) : "OK";

	if (name)
		return name;
	snprintf(buf, sizeof(buf), "E%d", e);
	return buf;
}

#endif /* ZC9P_TEST_ERRNAME_H */
