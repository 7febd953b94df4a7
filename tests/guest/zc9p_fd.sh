#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# kselftest zc9p:zc9p_fd.sh: the fd transports' suite (fdsuite.sh):
# trans=tcp, unix, vsock and fd to diod (and unpfs, if installed) servers it
# starts in the guest on loopback, mainline's 9pnet_fd as the reference, then
# zc9p_fd with and without zero copy, the long streams in the zero-copy pass.
# The reference pass and the copy-path pass cover fewer transports: every
# transport's own code runs in the zero-copy pass, which has them all. With
# zc9p.hostport=PORT zc9p.hostaname=DIR on the kernel command line it also
# mounts a diod at 10.0.2.2:PORT (QEMU's user networking; see
# Documentation/testing.rst). Skips (KSFT_SKIP) when not root, when a module
# is missing from ZC9P_MODDIR (default: this folder) or loaded, or without diod.
. "$(dirname "$0")/ksft_prelude.sh"
need_fd
need_file /usr/sbin/diod "the 9P server the suite starts"
ksft_begin fdsuite

if [ $REFERENCE_HERE = 1 ]; then
	FD_TRANSPORTS="tcp unix fd-pipes" fd_suite c
	fd_suite zc 1 long
	FD_TRANSPORTS="tcp fd-socketpair fd-pipes unpfs-tcp-512000" fd_suite zc 0
else
	echo "[fd c] 9pnet_fd's suite, the long streams and the fd transports' full copy-path pass run in the stock-kernel guest (zc9p.reference=stock)" | diag
	FD_TRANSPORTS="tcp unix vsock fd-pipes unpfs-tcp-512000" fd_suite zc 1
	FD_TRANSPORTS="tcp" fd_suite zc 0
fi
tap_exit
