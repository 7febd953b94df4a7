# SPDX-License-Identifier: GPL-2.0
# KTAP helpers for the guest tests (sourced): a thin layer over the kernel's
# kselftest/ktap_helpers.sh, which sits beside the collection's folder in a
# kselftest install (tests/Makefile). Results and '# ' diagnostics go to
# stdout, which run_kselftest.sh's runner prefixes with '# ' as one test
# program's nested results; a copy of each result goes to the kernel log.
# ZC9P_DIR is the folder of the scripts and programs, ZC9P_MODDIR that of the
# modules (by default the same).
ZC9P_DIR=${ZC9P_DIR:-/zc9p}
ZC9P_MODDIR=${ZC9P_MODDIR:-$ZC9P_DIR}
. "$ZC9P_DIR/../kselftest/ktap_helpers.sh"
# The runner hands a test program its exit-status pipe as fd 3: nothing here
# may write there, nor keep it open in the servers the tests start.
exec 3>&-
ktap_print_header

# tap STATUS DESCRIPTION: one result. The kernel's helpers echo the
# description unquoted, so globbing is off while they do (descriptions hold
# brackets such as "[zc=1]").
tap() {
	set -f
	if [ "$1" -eq 0 ]; then
		ktap_test_pass "$2"
	else
		ktap_test_fail "$2"
	fi
	set +f
	echo "zc9p-test: $([ "$1" -eq 0 ] && echo ok || echo FAIL) $((KTAP_TESTNO - 1)) - $2" >/dev/kmsg
}

diag() { sed 's/^/# /'; }

# check DESCRIPTION COMMAND...: a test that passes when COMMAND exits 0.
check() {
	desc=$1
	shift
	"$@" >/tmp/check.out 2>&1
	rc=$?
	[ $rc -eq 0 ] || diag </tmp/check.out
	tap $rc "$desc"
}

# expect DESCRIPTION WANT COMMAND...: passes when COMMAND prints exactly WANT.
expect() {
	desc=$1
	want=$2
	shift 2
	got=$("$@" 2>/tmp/check.err)
	if [ "$got" = "$want" ]; then
		tap 0 "$desc"
	else
		echo "want '$want', got '$got'" | diag
		diag </tmp/check.err
		tap 1 "$desc"
	fi
}

# tap_plan_end: the plan (the number of results is known only at the end,
# which TAP allows) and the kernel helpers' totals line.
tap_plan_end() {
	ktap_set_plan $((KTAP_TESTNO - 1))
	ktap_print_totals
}

# tap_descendants: the processes this script started that are still there.
tap_descendants() {
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v root=$$ '
		{ pid = $1; s = $0; sub(/^.*\) /, "", s); split(s, f, " "); parent[pid] = f[2] }
		END {
			live[root] = 1
			do {
				more = 0
				for (p in parent)
					if (!(p in live) && (parent[p] in live)) { live[p] = 1; more = 1 }
			} while (more)
			for (p in live) if (p != root) print p
		}'
}

# tap_exit: the plan, then leave with the kselftest exit status (KSFT_PASS,
# or KSFT_FAIL if a test failed). Whatever the tests left running is killed
# first: it would hold the runner's output pipe open, and the runner waits
# for that pipe to close.
tap_exit() {
	tap_plan_end
	left='' names=
	for p in $(tap_descendants); do
		[ -e /proc/$p ] || continue # (the listing's own processes)
		left="$left $p"
		names="$names $(tr '\0' ' ' </proc/$p/cmdline 2>/dev/null)($p)"
	done
	if [ -n "$left" ]; then
		echo "killing what the tests left running:$names" | diag
		kill -9 $left 2>/dev/null
	fi
	[ "$KTAP_CNT_FAIL" -eq 0 ] && exit "$KSFT_PASS"
	exit "$KSFT_FAIL"
}

# tap_skip_all REASON: the precondition of a whole test program is missing.
tap_skip_all() {
	ktap_skip_all "$1"
	exit "$KSFT_SKIP"
}
