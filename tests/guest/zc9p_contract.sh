#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# kselftest zc9p:zc9p_contract.sh: the 9P client's contract on virtio
# (contract.sh: a large read while the reading task's order-3 allocations
# fail), on mainline's 9pnet_virtio and on zc9p_virtio per zero-copy pass,
# on the share with mount tag zc9p0. Skips (KSFT_SKIP) as zc9p_virtio.sh does.
. "$(dirname "$0")/ksft_prelude.sh"
need_virtio zc9p0
ksft_begin faults hostctl msize contract

P="[9pnet_virtio]"
check "$P insmod 9pnet_virtio.ko" insmod $ZC9P_MODDIR/9pnet_virtio.ko
contract_suite c $A
check "$P rmmod 9pnet_virtio" rmmod 9pnet_virtio
for zc in $(zc_passes); do
	virtio_pass "$zc"
	contract_suite "zc$zc" $A
	check "$P rmmod zc9p_virtio" rmmod zc9p_virtio
done
tap_exit
