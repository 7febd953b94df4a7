#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# kselftest zc9p:zc9p_hostile.sh: a hostile server (zc9p-hostile,
# tests/guest/hostile/) on loopback, every way of breaking the protocol or
# going away, against zc9p_fd (hostile.sh's hostile_suite). Needs no host
# share or server: tools/run-tests.sh gives it to the dma guest, which ends
# first otherwise, or to the fd guest without one. Skips (KSFT_SKIP) when not
# root, when a module is missing or loaded.
. "$(dirname "$0")/ksft_prelude.sh"
need_fd
need_file "$ZC9P_DIR/zc9p-hostile" "the hostile server"
ksft_begin hostile

hostile_suite zc
tap_exit
