/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The deterministic data stream of zc9p's tests: byte @pos of a stream with
 * seed @seed depends on nothing else. tests/pintest/pintest_main.rs computes
 * the same function in the kernel.
 */
#ifndef ZC9P_TEST_STREAM_H
#define ZC9P_TEST_STREAM_H

#include <stdint.h>

static inline uint8_t stream_byte(uint64_t seed, uint64_t pos)
{
	/* splitmix64 of (seed, 8-byte word index), one byte per position. */
	uint64_t z = seed * 0x9e3779b97f4a7c15ULL + (pos >> 3) + 1;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return (uint8_t)(z >> ((pos & 7) * 8));
}

#endif /* ZC9P_TEST_STREAM_H */
