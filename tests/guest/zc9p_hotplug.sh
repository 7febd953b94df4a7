#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# kselftest zc9p:zc9p_hotplug.sh: hot-unplug and re-plug of zc9p_virtio's
# device with mount tag zc9p4 (hotplug.sh), idle, mounted and under I/O, per
# zero-copy pass; the host unplugs it through QEMU's monitor when asked on
# the host control channel (hostctl.sh, tools/hostctl.py). Skips (KSFT_SKIP)
# as zc9p_virtio.sh does.
. "$(dirname "$0")/ksft_prelude.sh"
need_virtio zc9p4
ksft_begin faults hotplug

for zc in $(zc_passes); do
	virtio_pass "$zc"
	hotplug_test $H
	check "$P rmmod zc9p_virtio" rmmod zc9p_virtio
done
tap_exit
