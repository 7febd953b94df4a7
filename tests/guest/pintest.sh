# SPDX-License-Identifier: GPL-2.0
# trans_common's pinning path through the zc9p_pintest test module's user
# iterators (sourced by zc9p_pintest.sh, after ksft_prelude.sh's ksft_begin
# and faults.sh).
PIN=$ZC9P_DIR/zc9p-pintest

# pintest_suite: trans_common's pinning path, through the test module's user iterators.
pintest_suite() {
	PT=/sys/module/zc9p_pintest/parameters
	pins() { sed -n "s/^$1: //p" $DBG/zc9p_pintest/pins; }
	check "pintest: insmod zc9p_pintest.ko" insmod $ZC9P_MODDIR/zc9p_pintest.ko
	check "pintest: reads/writes at offsets 0/1/511/4095, 1 KiB+1 to 512 KiB" $PIN misaligned
	check "pintest: read into a half-unmapped buffer: EFAULT or a verified short count" $PIN unmapped
	check "pintest: read into a read-only buffer: EFAULT, buffer untouched" $PIN readonly
	echo 400 >$PT/hold_ms
	check "pintest: fork during a pinned read: the parent sees the data" $PIN fork
	echo 0 >$PT/hold_ms
	expect "pintest: no pages left pinned" 0 pins pinned_pages
	check "pintest: pages were pinned on the way (peak > 0)" [ "$(pins pinned_pages_peak)" -gt 0 ]
	check "pintest: rmmod" rmmod zc9p_pintest
	check "pintest: insmod with pin_budget=8" insmod $ZC9P_MODDIR/zc9p_pintest.ko pin_budget=8 hold_ms=20
	expect "pintest: the budget reads back" 8 pins pin_budget
	check "pintest: 8 parallel 1 MiB readers under an 8-page budget, verified" $PIN parallel 8 $MIB
	check "pintest: they waited for the budget ($(pins pin_budget_waits) waits)" [ "$(pins pin_budget_waits)" -gt 0 ]
	expect "pintest: the peak stayed within the budget" 8 pins pinned_pages_peak
	echo 3000 >$PT/hold_ms
	check "pintest: SIGKILL of a reader waiting for the budget: it dies promptly" $PIN kill 32768
	echo 0 >$PT/hold_ms
	expect "pintest: no pages left pinned after the kill" 0 pins pinned_pages
	sed 's/^/pintest pins: /' $DBG/zc9p_pintest/pins | diag
	check "pintest: rmmod" rmmod zc9p_pintest

	# Waiters for a budget that is lowered under them: they asked for 64 pages,
	# the budget becomes 8, and each must go on with 8 instead of waiting forever.
	check "pintest: insmod with pin_budget=64" insmod $ZC9P_MODDIR/zc9p_pintest.ko pin_budget=64 hold_ms=300
	$PIN parallel 8 $MIB >/tmp/lower.log 2>&1 &
	lower_pid=$!
	n=0
	while [ "$(pins pin_budget_waits)" -eq 0 ] && [ $n -lt 500 ]; do usleep 20000; n=$((n + 1)); done
	check "pintest: readers wait for the 64-page budget ($(pins pin_budget_waits) waits)" [ "$(pins pin_budget_waits)" -gt 0 ]
	echo 8 >$PT/pin_budget
	echo 0 >$PT/hold_ms
	wait_gone 120 $lower_pid
	rc=$?
	if [ $rc -eq 0 ]; then
		wait $lower_pid 2>/dev/null
		diag </tmp/lower.log
		check "pintest: after lowering the budget to 8 they all finish, verified" sh -c "! grep -q . /tmp/lower.log"
	else
		kill -9 $lower_pid
		tap 1 "pintest: after lowering the budget to 8 they all finish, verified"
	fi
	expect "pintest: nothing pinned after they finished" 0 pins pinned_pages
	echo 0 >$PT/hold_ms
	check "pintest: rmmod" rmmod zc9p_pintest
}
