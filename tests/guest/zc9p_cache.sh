#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# kselftest zc9p:zc9p_cache.sh: the page cache over virtio (cache.sh:
# cache=loose and cache=mmap) on zc9p_virtio with zerocopy=1 and, unless the
# stock guest runs it (zc9p.reference=stock), on mainline's 9pnet_virtio, on
# the share with mount tag zc9p0; the host checks the files. With zerocopy=0
# what the page cache sends is the same as with zerocopy=1, and the copy
# path's own tests are zc9p_virtio.sh's. Skips (KSFT_SKIP) as zc9p_virtio.sh does.
. "$(dirname "$0")/ksft_prelude.sh"
need_virtio zc9p0
need_file "$ZC9P_DIR/zc9p-mmap" "the page-cache tests' program"
ksft_begin cache

P="[9pnet_virtio]"
if [ $REFERENCE_HERE = 1 ]; then
	check "$P insmod 9pnet_virtio.ko" insmod $ZC9P_MODDIR/9pnet_virtio.ko
	cache_suite zc9p0 $A c
	check "$P rmmod 9pnet_virtio" rmmod 9pnet_virtio
else
	echo "$P its page-cache suite runs in the stock-kernel guest (zc9p.reference=stock)" | diag
fi
virtio_pass 1
cache_suite zc9p0 $A zc1
check "$P rmmod zc9p_virtio" rmmod zc9p_virtio
tap_exit
