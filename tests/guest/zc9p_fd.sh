#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# kselftest zc9p:zc9p_fd.sh, the fd part of zc9p's guest suite (run-tests.sh
# with TEST_PARTS=fd): zc9p_fd's trans=tcp, unix and fd, with mainline's
# 9pnet_fd as the reference, to diod (and unpfs, if installed) servers it
# starts in the guest on loopback; with zc9p.hostile=1 on the kernel command
# line, then the hostile part (ksft_prelude.sh's parts_with_hostile). With
# zc9p.hostport=PORT zc9p.hostaname=DIR on the kernel command line it also
# mounts a diod at 10.0.2.2:PORT (QEMU's user networking; see
# Documentation/testing.rst). Skips (KSFT_SKIP) when not root, when a module
# is missing from ZC9P_MODDIR (default: this folder), or without diod.
ZC9P_DIR=$(cd "$(dirname "$0")" && pwd)
. "$ZC9P_DIR/ksft_prelude.sh"
need_modules zc9p_fd 9pnet_fd
[ -x /usr/sbin/diod ] || skip "no /usr/sbin/diod (the 9P server the suite starts)"

parts_with_hostile fd
exec sh "$ZC9P_DIR/run-tests.sh"
