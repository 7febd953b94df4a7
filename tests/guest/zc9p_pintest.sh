#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# kselftest zc9p:zc9p_pintest.sh: trans_common's pinning path (pin budget,
# user iterators, faults in the buffers, fork and kill while pinned) through
# the zc9p_pintest test module (pintest.sh). Needs no share. Skips
# (KSFT_SKIP) when not root, without zc9p_pintest.ko or when it is loaded.
. "$(dirname "$0")/ksft_prelude.sh"
need_modules zc9p_pintest
need_unloaded zc9p_pintest
ksft_begin faults pintest

pintest_suite
tap_exit
