#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# kselftest zc9p:zc9p_virtio.sh: zc9p_virtio's transport suite (virtio.sh),
# with zerocopy=1 and, unless the stock guest runs it (zc9p.reference=stock),
# zerocopy=0, on five virtio 9P shares with mount tags zc9p0..zc9p4
# (Documentation/testing.rst says what each must be). Skips (KSFT_SKIP) when
# not root, when a module is missing from ZC9P_MODDIR (default: this folder),
# when a 9P virtio transport is already loaded, or when a tag is missing.
. "$(dirname "$0")/ksft_prelude.sh"
need_virtio zc9p0 zc9p1 zc9p2 zc9p3 zc9p4
ksft_begin faults virtio

protocols_probe
for zc in $(zc_passes); do
	suite "$zc"
done
[ $REFERENCE_HERE = 1 ] ||
	echo "[zc=0] the copy-path pass runs in the stock-kernel guest (zc9p.reference=stock)" | diag
tap_exit
