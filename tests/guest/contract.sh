# SPDX-License-Identifier: GPL-2.0
# The 9P client's contract at the edges, on virtio (issue 19; sourced by
# zc9p_contract.sh and zc9p_dma.sh after msize.sh: uses ksft_prelude.sh's CHK, chanstat, mount9p, check,
# expect, tap, diag, MIB, DBG, MSIZE_MAX, MSIZE_COPY and the trace helpers).
# contract_suite runs on whichever virtio transport is loaded, with zc9p0
# (indirect descriptors on) mounted nowhere: zc9p_virtio in each zero-copy
# pass (labels zc1, zc0) and mainline's 9pnet_virtio (label c) for
# comparison. Its files go to zc9p0's contract-LABEL/ (read back in the
# guest only).

# contract_alloc_failure LABEL MOUNTPOINT MSIZE [AREA]: a 4 MiB read at msize MSIZE
# while every order-3 atomic allocation of the reading task fails
# (fail_page_alloc, min-order 3, task-filter: only a task with
# /proc/PID/make-it-fail set; ignore-gfp-wait: sleeping allocations, such as
# the 9P client's buffers, are left alone). The buffer's pages are scattered,
# so at zc9p's largest msize an iounit request is 1024 entries, whose indirect
# table (16 KiB of descriptors and as much of the virtio core's own) is such an
# allocation, and such a chain is longer than the 128-entry ring. The read must
# complete, verified, in requests cut to fit (more than the 2 Treads 4 MiB
# takes at that msize). Mainline (512000) and the copy path (512000, two
# entries a message) never need an order-3 table: they must complete too.
# AREA (default contract) names the tests and their folder: dma.sh runs this
# under bounce-buffered DMA as "dma".
contract_alloc_failure() {
	local label=$1 mnt=$2 msz=$3 area=${4:-contract} FPA=$DBG/fail_page_alloc f rc left treads top s0 m mp
	local P="[$area $1]"
	if [ ! -d $FPA ]; then
		if [ -n "${ZC9P_STOCK:-}" ]; then
			# A distribution kernel has no fault injection (zc9p.stock=1).
			ktap_test_skip "$P order-3 failures: no fault injection in this kernel (a stock kernel)"
		else
			tap 1 "$P fault injection: $FPA exists (CONFIG_FAIL_PAGE_ALLOC, CONFIG_FAULT_INJECTION_DEBUG_FS)"
		fi
		return
	fi
	f=$mnt/$area-$label/fa-4m
	expect "$P order-3 failures: mount zc9p0 with msize=$msz" OK mount9p zc9p0 $mnt version=9p2000.L,msize=$msz
	mkdir -p $mnt/$area-$label
	$CHK write $f $((4 * MIB)) 25 $MIB >/tmp/contract-fa.out 2>&1 || diag </tmp/contract-fa.out
	echo 3 >$FPA/min-order
	echo Y >$FPA/task-filter
	echo Y >$FPA/ignore-gfp-wait
	echo 0 >$FPA/space
	echo 0 >$FPA/verbose
	echo 1 >$FPA/interval
	echo 100000 >$FPA/times
	echo 100 >$FPA/probability
	s0=$(chanstat zc9p0 shortened_requests)
	m=$(trace_mark v9fs_read)
	mp=$(trace_mark virtqueue_pop)
	# Killed after 60 s: zc9p before the fix retried every tick for ever.
	timeout 60 sh -c "echo 1 >/proc/self/make-it-fail &&
		ZC9P_BUF_SCATTER=1 exec $CHK readonce $f $((4 * MIB)) 25" >/tmp/contract-fa.out 2>&1
	rc=$?
	echo 0 >$FPA/probability
	left=$(cat $FPA/times)
	echo -1 >$FPA/times
	treads=$(trace_since v9fs_read $m | cut -d' ' -f1)
	top=$(trace_since virtqueue_pop $mp in_num out_num | cut -d' ' -f2)
	diag </tmp/contract-fa.out
	echo "$P fail_page_alloc failed $((100000 - left)) allocations of the reader; $treads Treads, at most $top descriptors" | diag
	tap $rc "$P a 4 MiB read at msize $msz, order-3 atomic allocations failing: it completes, verified (exit $rc)"
	if [ $label = zc1 ]; then
		check "$P the reader's order-3 allocations did fail ($((100000 - left)))" [ $left -lt 100000 ]
		check "$P its requests were shortened to fit the ring ($(( $(chanstat zc9p0 shortened_requests) - s0 )))" \
			[ "$(chanstat zc9p0 shortened_requests)" -gt "$s0" ]
		check "$P so it took more than 2 Treads ($treads)" sh -c "[ -n '$treads' ] && [ '$treads' -gt 2 ]"
	fi
	# A table of up to 512 descriptors (32 bytes each with the virtio core's
	# own) is order 2 or less, which the injection leaves alone: none may
	# have had more.
	check "$P no request had an order-3 table: at most 512 descriptors ($top)" \
		sh -c "[ -n '$top' ] && [ '$top' -le 512 ]"
	check "$P the next read, without failures, verified" env ZC9P_BUF_SCATTER=1 $CHK readonce $f $((4 * MIB)) 25
	case $label in
	zc*) expect "$P no request left on the device" 0 chanstat zc9p0 on_device ;;
	esac
	check "$P order-3 failures: unmount" umount $mnt
}

# contract_suite LABEL MOUNTPOINT: the tests above on the loaded transport,
# at its largest msize.
contract_suite() {
	local msz=$MSIZE_COPY
	[ $1 = zc1 ] && msz=$MSIZE_MAX
	contract_alloc_failure $1 $2 $msz
}
