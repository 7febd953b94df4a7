// SPDX-License-Identifier: GPL-2.0
/*
 * tsc-khz: prints the host's TSC rate in kHz, measured against CLOCK_MONOTONIC_RAW.
 *
 * The test guests have no HPET or ACPI PM timer to calibrate their TSC against,
 * so they fall back to a 4 ms jiffies clock. Under TCG the guest's TSC is the
 * host's, so the perf guests are told its rate (tsc_early_khz=) and get a
 * nanosecond clock and high-resolution timers (tools/run-vm.sh).
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <x86intrin.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int main(void)
{
	struct timespec pause = { 0, 200000000 };
	uint64_t t0 = now_ns(), c0 = __rdtsc();

	nanosleep(&pause, NULL);
	uint64_t t1 = now_ns(), c1 = __rdtsc();

	printf("%llu\n", (unsigned long long)((c1 - c0) * 1000000ULL / (t1 - t0)));
	return 0;
}
