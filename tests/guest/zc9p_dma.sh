#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# kselftest zc9p:zc9p_dma.sh: mainline's 9pnet_virtio and zc9p_virtio in
# both zero-copy modes under bounce-buffered DMA (dma.sh), on one virtio 9P
# share with mount tag zc9p0 whose device offers VIRTIO_F_ACCESS_PLATFORM
# (QEMU: iommu_platform=on), in a guest booted with swiotlb=force
# (tools/dma-guest.sh). Skips (KSFT_SKIP) when not root, when a module is
# missing from ZC9P_MODDIR (default: this folder), when a 9P virtio transport
# is already loaded, or without swiotlb=force.
. "$(dirname "$0")/ksft_prelude.sh"
cmdline_has swiotlb=force || skip "the kernel was not booted with swiotlb=force"
need_virtio zc9p0
ksft_begin faults hostctl msize contract cache dma

dma_suite
tap_exit
