#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# kselftest zc9p:zc9p_kunit.sh: the KUnit suites built into zc9p's modules.
# KUnit runs a module's suites each time the module is loaded, printing KTAP
# in the kernel log, which tools/run-tests.sh counts (guest-results.sh's
# kunit_results): each module is loaded once here, then KUnit's filter_glob
# is set to a name no suite has, so that the later loads of the guest's
# other programs (some 25 in the virtio guest) run none: results repeated
# that often would fill the kernel's 128 KiB log ring, which zc9p_msize.sh
# and zc9p_dma.sh read back with dmesg, and count the same cases 25 times.
# So it runs first in each guest. Skips (KSFT_SKIP) without KUnit (a stock
# kernel), when a module is missing or already loaded.
. "$(dirname "$0")/ksft_prelude.sh"
KUNIT_FILTER=/sys/module/kunit/parameters/filter_glob
[ -w $KUNIT_FILTER ] || skip "no KUnit in this kernel ($KUNIT_FILTER)"
need_modules zc9p_virtio zc9p_fd
need_unloaded zc9p_virtio zc9p_fd
ksft_begin

for m in zc9p_virtio zc9p_fd; do
	check "kunit: load and unload $m, which runs its suites (their results: the host's count)" \
		sh -c "insmod $ZC9P_MODDIR/$m.ko && rmmod $m"
done
check "kunit: later loads run no suite (filter_glob)" sh -c "echo zc9p-suites-ran-once >$KUNIT_FILTER"
tap_exit
