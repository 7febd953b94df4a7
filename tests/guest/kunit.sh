# SPDX-License-Identifier: GPL-2.0
# KUnit (sourced by run-tests.sh, after part()): KUnit runs a module's suites
# each time the module is loaded, printing KTAP in the kernel log, which
# tools/run-tests.sh counts. Each part loads its zc9p module once here, so its
# suites run once, then sets KUnit's filter_glob to a name no suite has, so the
# part's later loads (some 25 in the virtio part) run none: results repeated
# that often would fill the kernel's 128 KiB log ring, which msize.sh reads
# back with dmesg, and count the same cases 25 times.
kunit_once() { # MODULE
	insmod /zc9p/$1.ko && rmmod $1
}
part virtio && kunit_once zc9p_virtio
part fd && kunit_once zc9p_fd
# (A kernel without KUnit, e.g. a stock one, has no such parameter.)
[ ! -w /sys/module/kunit/parameters/filter_glob ] || echo zc9p-suites-ran-once >/sys/module/kunit/parameters/filter_glob
