#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Run by /init with zc9p.run=kselftest.sh (tools/run-tests.sh): the kselftest
# install in /kselftest (tools/mkinitramfs.sh, from tests/Makefile), through
# the kernel's own run_kselftest.sh, its output on the second serial port.
# From the kernel command line: KSFT_TESTS lists COLLECTION:TEST names, comma
# separated (without it the whole zc9p collection runs); KSFT_TIMEOUT, if
# set, overrides the settings file's timeout (the host gives the guest a
# limit of its own, and the runner's should end a test program just before).
args=
for t in $(echo "${KSFT_TESTS:-}" | tr , ' '); do
	args="$args -t $t"
done
[ -n "${KSFT_TIMEOUT:-}" ] && args="$args -o $KSFT_TIMEOUT"
/kselftest/run_kselftest.sh ${args:--c zc9p} >/dev/ttyS1 2>&1
echo "zc9p: run_kselftest.sh exited with $?" >/dev/kmsg
