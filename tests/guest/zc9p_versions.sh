#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# kselftest zc9p:zc9p_versions.sh: every protocol version (9P2000, .u, .L)
# on trans=tcp, unix and fd, against lawn-9p and zc9p-hostile on loopback
# (versions.sh), mainline's 9pnet_fd beside zc9p_fd; with
# zc9p.reference=stock only zc9p_fd's zero-copy pass (the stock guest runs
# the others). Runs beside zc9p_hostile.sh (tools/run-tests.sh). Skips
# (KSFT_SKIP) when not root, when a module is missing or loaded.
. "$(dirname "$0")/ksft_prelude.sh"
need_fd
ksft_begin fdsuite versions

if [ $REFERENCE_HERE = 1 ]; then
	vs_suite c
	vs_suite zc 1
	VS_TRANSPORTS=tcp vs_suite zc 0
else
	echo "[versions c] 9pnet_fd's pass and zc9p_fd's copy-path pass run in the stock-kernel guest (zc9p.reference=stock)" | diag
	vs_suite zc 1
fi
tap_exit
