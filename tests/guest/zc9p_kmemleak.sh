#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# kselftest zc9p:zc9p_kmemleak.sh: kmemleak's view after the guest's other
# programs, which tools/run-tests.sh runs first: unreferenced objects
# allocated by 9P or zc9p code (or by a module since unloaded, whose frames
# show as bare addresses) fail it. Objects younger than 5 s are not
# reported, hence two scans. A stock kernel (zc9p.stock=1) has no kmemleak:
# its result is a skip there, a failure elsewhere.
. "$(dirname "$0")/ksft_prelude.sh"
ksft_begin

KML=$DBG/kmemleak
if [ -w $KML ]; then
	echo scan >$KML
	sleep 6
	echo scan >$KML
	cat $KML >/tmp/kmemleak.txt
	awk '/^unreferenced object/ { if (b != "" && b ~ /zc9p|p9_|v9fs|9pnet|netfs|\] 0xffffffff/) print b; b = $0; next }
	     { b = b "\n" $0 }
	     END { if (b ~ /zc9p|p9_|v9fs|9pnet|netfs|\] 0xffffffff/) print b }' /tmp/kmemleak.txt >/tmp/ourleaks.txt
	echo "kmemleak: $(grep -c '^unreferenced object' /tmp/kmemleak.txt) unreferenced objects in all" | diag
	head -60 /tmp/ourleaks.txt | diag
	expect "kmemleak: no leak in 9P, netfs or zc9p code" 0 grep -c '^unreferenced object' /tmp/ourleaks.txt
elif [ -n "${ZC9P_STOCK:-}" ]; then
	ktap_test_skip "kmemleak: not in this kernel (a stock kernel)"
else
	tap 1 "kmemleak is active ($KML)"
fi
tap_exit
