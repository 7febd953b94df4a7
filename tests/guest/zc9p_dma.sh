#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# kselftest zc9p:zc9p_dma.sh, the dma part of zc9p's guest suite
# (run-tests.sh with TEST_PARTS=dma, tests/guest/dma.sh): mainline's
# 9pnet_virtio and zc9p_virtio in both zero-copy modes under bounce-buffered
# DMA, on one virtio 9P share with mount tag zc9p0 whose device offers
# VIRTIO_F_ACCESS_PLATFORM (QEMU: iommu_platform=on), in a guest booted with
# swiotlb=force (tools/dma-guest.sh); with zc9p.hostile=1 on the kernel
# command line the hostile part too (ksft_prelude.sh's parts_with_hostile). Skips
# (KSFT_SKIP) when not root, when a module is missing from ZC9P_MODDIR
# (default: this folder), when a 9P virtio transport is already loaded, or
# without swiotlb=force.
ZC9P_DIR=$(cd "$(dirname "$0")" && pwd)
. "$ZC9P_DIR/ksft_prelude.sh"
need_modules zc9p_virtio 9pnet_virtio
for m in zc9p_virtio 9pnet_virtio; do
	! grep -q "^$m " /proc/modules || skip "$m is loaded: the suite loads and unloads it"
done
grep -qw swiotlb=force /proc/cmdline || skip "the kernel was not booted with swiotlb=force"

parts_with_hostile dma
exec sh "$ZC9P_DIR/run-tests.sh"
