#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# kselftest zc9p:zc9p_stock.sh, the guest suite on a distribution kernel
# (Debian's own vmlinuz and modules, zc9p's modules built by DKMS from the
# zc9p-dkms package; tools/stock-guest.sh): the virtio part and the fd part
# of run-tests.sh in one boot, less what needs the debug kernel (kmemleak;
# the faults KASAN would see are still exercised, their reports are not
# there to count). The modules come from ZC9P_MODDIR as for the other parts;
# modprobe.sh finds zc9p's installed where DKMS puts them (updates/dkms).
# Skips (KSFT_SKIP) as zc9p_virtio.sh and zc9p_fd.sh do.
ZC9P_DIR=$(cd "$(dirname "$0")" && pwd)
. "$ZC9P_DIR/ksft_prelude.sh"
# It repeats the other parts: only where asked for (run_kselftest.sh -c zc9p
# in a guest of your own runs the others).
case " $(cat /proc/cmdline) " in
*" zc9p.stock=1 "*) ;;
*) [ "${ZC9P_STOCK:-}" = 1 ] || skip "not a stock-kernel guest (zc9p.stock=1 on the kernel command line)" ;;
esac
need_modules zc9p_virtio zc9p_pintest 9pnet_virtio zc9p_fd 9pnet_fd
for m in zc9p_virtio 9pnet_virtio zc9p_fd 9pnet_fd; do
	! grep -q "^$m " /proc/modules || skip "$m is loaded: the suite loads and unloads it"
done
[ -x /usr/sbin/diod ] || skip "no /usr/sbin/diod (the 9P server the suite starts)"
need_virtio_tags zc9p0 zc9p1 zc9p2 zc9p3 zc9p4

ZC9P_STOCK=1 ZC9P_INSTALLED_DIR=updates/dkms TEST_PARTS="virtio fd hostile" exec sh "$ZC9P_DIR/run-tests.sh"
