#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# kselftest zc9p:zc9p_virtio.sh, the virtio part of zc9p's guest suite
# (run-tests.sh with TEST_PARTS=virtio): zc9p_virtio in both zero-copy modes
# on five virtio 9P shares with mount tags zc9p0..zc9p4, mainline's
# 9pnet_virtio beside it for comparison, and the zc9p_pintest module.
# Documentation/testing.rst says what each share must be. Skips (KSFT_SKIP)
# when not root, when a module is missing from ZC9P_MODDIR (default: this
# folder), when a 9P virtio transport is already loaded, or when a tag is
# missing.
ZC9P_DIR=$(cd "$(dirname "$0")" && pwd)
. "$ZC9P_DIR/ksft_prelude.sh"
need_modules zc9p_virtio zc9p_pintest 9pnet_virtio
for m in zc9p_virtio 9pnet_virtio; do
	! grep -q "^$m " /proc/modules || skip "$m is loaded: the suite loads and unloads it"
done
need_virtio_tags zc9p0 zc9p1 zc9p2 zc9p3 zc9p4

TEST_PARTS=virtio exec sh "$ZC9P_DIR/run-tests.sh"
