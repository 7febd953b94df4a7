#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# kselftest zc9p:zc9p_msize.sh: zc9p_virtio's msize, default_msize and the
# largest messages (msize.sh), per zero-copy pass (zerocopy=0 only where the
# stock guest does not run it), on the share with mount tag zc9p0. What a
# request carries is counted on the host, through the host control channel
# (hostctl.sh; tools/run-vm.sh's ZC9P_TRACE). Skips (KSFT_SKIP) as
# zc9p_virtio.sh does.
. "$(dirname "$0")/ksft_prelude.sh"
need_virtio zc9p0
ksft_begin faults hostctl msize

for zc in $(zc_passes); do
	virtio_pass "$zc"
	msize_test $A
	check "$P rmmod zc9p_virtio" rmmod zc9p_virtio
done
tap_exit
