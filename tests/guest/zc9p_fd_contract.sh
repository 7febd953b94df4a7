#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# kselftest zc9p:zc9p_fd_contract.sh: the 9P client's contract on the fd
# transports under exit, kill and allocation failure (hostile.sh's
# contract_suite, against zc9p-hostile on loopback), on mainline's 9pnet_fd
# and on zc9p_fd; mainline's only where it needs this kernel's fault
# injection when the stock guest runs the rest (zc9p.reference=stock).
# Skips (KSFT_SKIP) when not root, when a module is missing or loaded.
. "$(dirname "$0")/ksft_prelude.sh"
need_fd
need_file "$ZC9P_DIR/zc9p-hostile" "the hostile server"
ksft_begin hostile

if [ $REFERENCE_HERE = 1 ]; then
	contract_suite c
else
	HC_CASES=failnth-stat contract_suite c
fi
contract_suite zc
tap_exit
