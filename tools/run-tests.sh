#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# zc9p's test run: build what is missing, boot up to four guests with the
# host's shares and servers, each running its list of the kselftest
# collection zc9p's programs (tests/Makefile; one per concern) through the
# kernel's run_kselftest.sh, then count
# their results and those of the modules' KUnit suites, check on the host what
# the guests wrote and that their kernel logs are clean. Ends with
# "N passed, N failed".
# ZC9P_PARTS (default "virtio fd dma stock") picks the guests that boot and whose
# results, host-side checks and console scans are counted, e.g.
# ZC9P_PARTS=fd for the fd guest alone.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$ZC9P_ROOT/tools/guest-results.sh"
. "$ZC9P_ROOT/tools/dma-guest.sh"
. "$ZC9P_ROOT/tools/stock-guest.sh"

parts=" ${ZC9P_PARTS:-virtio fd dma stock} "
parts=${parts//,/ }
part_on() { [[ $parts == *" $1 "* ]]; }
for p in $parts; do
	case $p in virtio|fd|dma|stock) ;; *) say "error: ZC9P_PARTS: unknown part '$p'"; exit 2 ;; esac
done

bash "$ZC9P_ROOT/tools/setup.sh"
work=$(mktemp -d /tmp/zc9p-test.XXXXXX)
logs=${ZC9P_LOGS:-$work/logs}
mkdir -p "$work/share0/big" "$work/share1" "$work/share3" "$work/share4" "$logs"
say "test work folder: $work (guest logs in $logs)"
# The stock-kernel guest's root, package and DKMS build (tools/stock-guest.sh)
# while the test kernel builds; ZC9P_STOCK=0 (or ZC9P_PARTS without stock)
# leaves that guest out.
stock=${ZC9P_STOCK:-1}
part_on stock || stock=0
if [ "$stock" = 1 ]; then
	read -r _ STOCK_RELEASE _ < <(stock_kernel_spec "$(kernel_series)")
	stock_guest_prepare "$logs/stock" &
	stock_prep_pid=$!
fi
bash "$ZC9P_ROOT/tools/build-kernel.sh"
bash "$ZC9P_ROOT/tools/build-module.sh" >/dev/null
# The style checks (tools/style.sh, `make style`) before the guests boot: one
# result line below, a failure counted there rather than ending the run.
style_rc=0
STYLE_CHECKS=${STYLE_CHECKS:-rustfmt checkpatch shellcheck spdx clippy} \
	bash "$ZC9P_ROOT/tools/style.sh" >"$logs/style.log" 2>&1 || style_rc=$?
say "style checks: $(grep -c '^ok' "$logs/style.log") ok, $(grep -c '^not ok' "$logs/style.log") not ok ($logs/style.log)"

# A directory the host fills, for the guest's readdir test.
(cd "$work/share0/big" && seq -f 'h%05g' 0 4999 | xargs touch)

check=$work/zc9p-check
gcc -O2 -Wall -Werror -o "$check" "$ZC9P_ROOT/tests/guest/zc9p-check.c"
# The slow server's files (the guest kills a reader of "slow" while others read).
"$check" write "$work/share3/slow" $((4 * 1048576)) 31 >/dev/null
"$check" write "$work/share3/small-1" 262144 41 >/dev/null
"$check" write "$work/share3/small-2" 262144 42 >/dev/null
bash "$ZC9P_ROOT/tools/mkinitramfs.sh" "$work/initramfs.cpio.gz"

# A diod on the host, which the guest mounts with trans=tcp through QEMU's user
# networking (tests/guest/fdsuite.sh, fd_host): it reads from-host and writes
# from-guest-TAG (TAG: c, zc1, zc0) for the checks below.
hostdiod=$work/hostdiod
mkdir -p "$hostdiod/export"
"$check" write "$hostdiod/export/from-host" $((3 * 1048576 + 5)) 61 >/dev/null
trap 'bash "$ZC9P_ROOT/tools/host-diod.sh" stop "$hostdiod"' EXIT
# (If it does not start, the guest is sent to port 0, and its tests fail.)
if hostport=$(bash "$ZC9P_ROOT/tools/host-diod.sh" start "$hostdiod/export" "$hostdiod"); then
	say "host diod on 127.0.0.1:$hostport exports $hostdiod/export"
else
	say "error: the host's diod did not start"
	hostport=0
fi
# trans=vsock from guest to host: where this host has vhost-vsock, the fd
# guest gets a vsock device (CID 3) and socat relays the host's vsock port
# 5640 to its diod (zc9p.hostvsock=5640); elsewhere the guest says why and
# skips that test (zc9p.hostvsock=none).
hostvsock=none fd_qemu_extra=
if [ -c /dev/vhost-vsock ] && [ "$hostport" != 0 ] && part_on fd; then
	socat VSOCK-LISTEN:5640,fork,reuseaddr "TCP:127.0.0.1:$hostport" 2>"$logs/host-vsock.log" &
	hostvsock_pid=$!
	trap 'kill $hostvsock_pid 2>/dev/null; bash "$ZC9P_ROOT/tools/host-diod.sh" stop "$hostdiod"' EXIT
	hostvsock=5640 fd_qemu_extra="-device vhost-vsock-pci,guest-cid=3"
	say "host vsock port 5640 relays to the host's diod (the fd guest is CID 3)"
else
	say "no /dev/vhost-vsock here: the fd guest has no vsock device (its host-vsock test is skipped)"
fi

# Two guests side by side, one per part of the guest suite (they share
# nothing; TCG leaves a core partly idle while one guest waits on its servers).
# The virtio guest has the shares: share 1 has no indirect descriptors (the
# ring-full test); share 2 is QEMU's own /proc/self, which the guest only reads
# (its "mem" fails to read: the Rerror test); share 3 is a slow server (reads
# throttled to 256 KiB/s) with a small ring (no indirect descriptors: the
# ring-full kill test); share 4 is hot-unplugged and re-plugged by the guest
# through the host control channel (tools/hostctl.py). The fd guest has the
# NIC (ZC9P_NET=1), which reaches the host's diod at 10.0.2.2.
# KASAN reports every bad access, not just the first.
start=$(date +%s)
limit=${ZC9P_TEST_TIMEOUT:-3600}
# The kselftest runner's timeout for the guest's program, overriding the
# collection's settings: just under the guest's limit, so that a slow run
# still reports its results and the runner's TIMEOUT.
ksft_timeout=$((limit - 90))
virtio_pid='' fd_pid='' DMA_GUEST_PID=
# At most ZC9P_GUESTS guests at once (default: one a core): the guests' vCPU
# threads on an oversubscribed host cost more CPU for the same work (the stock
# guest alone: 172 s of CPU; beside three others: 306 to 326 s), so the rest
# wait for a place, longest first. guest_slot waits until there is one and
# keeps the exit status of a guest it saw end (reap gives it back).
max_guests=${ZC9P_GUESTS:-$(nproc)}
running=()
declare -A guest_rc
guest_slot() {
	local pid rc still p
	while [ ${#running[@]} -ge "$max_guests" ]; do
		rc=0
		wait -n -p pid "${running[@]}" || rc=$?
		guest_rc[$pid]=$rc
		still=()
		for p in "${running[@]}"; do [ "$p" = "$pid" ] || still+=("$p"); done
		running=("${still[@]}")
	done
}
reap() { # PID: its exit status
	if [ -n "${guest_rc[$1]+set}" ]; then return "${guest_rc[$1]}"; fi
	wait "$1"
}
# With the stock guest in the run, mainline's transports are compared there,
# on Debian's build of the same kernel: the test kernel's guests leave out
# those passes and the longest streams (zc9p.reference=stock; see
# tests/guest/ksft_prelude.sh) and spend their time on zc9p's own code under
# KASAN, lockdep and fault injection.
reference=test ref_append=
if [ "$stock" = 1 ]; then reference=stock ref_append=" zc9p.reference=stock"; fi
# Each guest's programs of the collection zc9p (tests/Makefile, one per
# concern; Documentation/testing.rst), in the order they run: KUnit's first
# (later loads run no suites), kmemleak's last (after everything else).
# The hostile programs (zc9p-hostile's cases and the protocol versions, on
# loopback: much of it waiting on the servers' stalls) go to the dma guest,
# which ends first otherwise; without it, to the fd guest. The stock guest
# runs the virtio guest's and the fd guest's programs and the hostile ones
# (no KUnit there); zc9p_modprobe.sh there does both transports.
virtio_programs="zc9p_virtio.sh zc9p_msize.sh zc9p_contract.sh zc9p_cache.sh zc9p_hotplug.sh zc9p_pintest.sh"
fd_programs="zc9p_fd.sh zc9p_fd_contract.sh"
hostile_programs="zc9p_hostile.sh zc9p_versions.sh"
declare -A programs=(
	[virtio]="zc9p_kunit.sh $virtio_programs zc9p_modprobe.sh zc9p_kmemleak.sh"
	[fd]="zc9p_kunit.sh $fd_programs zc9p_modprobe.sh$(part_on dma || echo " $hostile_programs") zc9p_kmemleak.sh"
	[dma]="zc9p_kunit.sh zc9p_dma.sh $hostile_programs zc9p_kmemleak.sh"
	[stock]="$virtio_programs $fd_programs zc9p_modprobe.sh $hostile_programs zc9p_kmemleak.sh"
)
# ksft_tests PART: the guest's programs as kselftest.sh's KSFT_TESTS.
ksft_tests() {
	local p list=
	for p in ${programs[$1]}; do list="$list,zc9p:$p"; done
	echo "${list#,}"
}
if part_on fd; then
	ZC9P_APPEND="${ZC9P_APPEND:-}$ref_append kasan_multi_shot KSFT_TESTS=$(ksft_tests fd) zc9p.modprobe=fd KSFT_TIMEOUT=$ksft_timeout zc9p.hostport=$hostport zc9p.hostaname=$hostdiod/export zc9p.hostvsock=$hostvsock" \
	ZC9P_QEMU_EXTRA="${ZC9P_QEMU_EXTRA:-} $fd_qemu_extra" ZC9P_NET=1 bash "$ZC9P_ROOT/tools/run-vm.sh" "$work/initramfs.cpio.gz" kselftest.sh "$logs/fd" "$limit" &
	fd_pid=$!
	running+=("$fd_pid")
fi
if part_on virtio; then
	ZC9P_APPEND="${ZC9P_APPEND:-}$ref_append kasan_multi_shot KSFT_TESTS=$(ksft_tests virtio) zc9p.modprobe=virtio KSFT_TIMEOUT=$ksft_timeout" \
	ZC9P_TRACE="v9fs_read v9fs_write virtqueue_pop" \
	bash "$ZC9P_ROOT/tools/run-vm.sh" "$work/initramfs.cpio.gz" kselftest.sh "$logs/virtio" "$limit" \
		"$work/share0" "$work/share1,indirect_desc=off" /proc/self \
		"$work/share3,indirect_desc=off,fsdev.throttling.bps-read=262144" "$work/share4" &
	virtio_pid=$!
	running+=("$virtio_pid")
fi
# A third (the longer of the two left): Debian's own kernel with zc9p built by DKMS (tools/stock-guest.sh).
rc_stock=0 stock_prep_rc=0
if [ "$stock" = 1 ]; then
	wait $stock_prep_pid || stock_prep_rc=$?
	if [ $stock_prep_rc -eq 0 ]; then
		guest_slot
		stock_guest_start "$work" "$work/initramfs.cpio.gz" "$logs/stock" "$limit" "$ksft_timeout" "$(ksft_tests stock)"
		running+=("$STOCK_GUEST_PID")
	else
		say "the stock guest could not be prepared: $logs/stock/prepare.log"
	fi
fi
# A fourth: bounce-buffered DMA (tools/dma-guest.sh), then the hostile part.
if part_on dma; then
	guest_slot
	ZC9P_APPEND="${ZC9P_APPEND:-}$ref_append" \
		dma_guest_start "$work" "$work/initramfs.cpio.gz" "$logs/dma" "$limit" "$ksft_timeout" "$(ksft_tests dma)"
	running+=("$DMA_GUEST_PID")
fi
rc_virtio=0 rc_fd=0 rc_dma=0
# guest_cpu PART: the CPU seconds (user+system) its QEMU used (tools/run-vm.sh; every boot).
guest_cpu() { awk '{ s += $1 + $2 } END { printf "%.0fs", s }' "$logs/$1/cpu-times" 2>/dev/null || echo ?; }
if [ -n "$virtio_pid" ]; then
	reap $virtio_pid || rc_virtio=$?
	say "virtio guest ended $(( $(date +%s) - start ))s after the first started, CPU $(guest_cpu virtio) (exit $rc_virtio)"
fi
if [ -n "$fd_pid" ]; then
	reap $fd_pid || rc_fd=$?
	say "fd guest ended $(( $(date +%s) - start ))s after the first started, CPU $(guest_cpu fd) (exit $rc_fd)"
fi
if [ -n "$DMA_GUEST_PID" ]; then
	reap $DMA_GUEST_PID || rc_dma=$?
	say "dma guest ran for $(cat "$logs/dma/elapsed" 2>/dev/null)s, CPU $(guest_cpu dma) (exit $rc_dma)"
fi
if [ "$stock" = 1 ] && [ $stock_prep_rc -eq 0 ]; then
	reap $STOCK_GUEST_PID || rc_stock=$?
	say "stock guest ran for $(cat "$logs/stock/elapsed" 2>/dev/null)s, CPU $(guest_cpu stock) (exit $rc_stock)"
fi
bash "$ZC9P_ROOT/tools/host-diod.sh" stop "$hostdiod"

# The guests' KTAP results, renumbered into one stream with the host's checks.
# A guest's "ok N - ... # SKIP why" (a precondition this machine or kernel
# lacks) counts as skipped, not passed.
passed=0 failed=0 skipped=0 n=0
report() { # STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" -eq 0 ] && [[ $2 == *"# SKIP"* ]]; then
		skipped=$((skipped + 1)); echo "ok $n - $2"
	elif [ "$1" -eq 0 ]; then
		passed=$((passed + 1)); echo "ok $n - $2"
	else
		failed=$((failed + 1)); echo "not ok $n - $2"
	fi
}
grep -E '^(not )?ok - ' "$logs/style.log" | sed 's/^/# style: /'
report $style_rc "style: ${STYLE_CHECKS:-rustfmt checkpatch shellcheck spdx clippy} checks pass (tools/style.sh; $logs/style.log)"
splats='BUG:|WARNING:|KASAN|KFENCE|refcount_t|Oops|INFO: possible|INFO: task|circular locking|inconsistent lock state|possible recursive locking|turning off the locking correctness validator|Kernel panic|general protection|UBSAN|panicked at|Call Trace'
for part in $parts; do
	[ "$part" != stock ] || continue # (below)
	vmrc=rc_$part
	# shellcheck disable=SC2086 # the list of programs, one word each
	kselftest_results $part "$logs/$part/tap.log" "${!vmrc}" ${programs[$part]}
	kunit_results $part "$logs/$part/console.log"
	if grep -aE "$splats" "$logs/$part/console.log" >"$work/splats.txt"; then
		sed 's/^/# /' "$work/splats.txt" | head -40
		report 1 "guest $part: kernel log is free of lockdep/BUG/WARNING/Oops"
	else
		report 0 "guest $part: kernel log is free of lockdep/BUG/WARNING/Oops"
	fi
done

# The stock kernel: DKMS installed zc9p for it, then its guest's results (no
# KUnit there: Debian's kernels are built without CONFIG_KUNIT).
if [ "$stock" = 1 ]; then
	if [ $stock_prep_rc -eq 0 ]; then
		sed 's/^/# /' "$logs/stock/dkms-status"
		report 0 "stock $STOCK_RELEASE: DKMS built and installed zc9p from the zc9p-dkms package"
		# shellcheck disable=SC2086 # the list of programs, one word each
		kselftest_results stock "$logs/stock/tap.log" "$rc_stock" ${programs[stock]}
		if grep -q '^CONFIG_KUNIT=' "$ZC9P_CACHE"/stock-guest/*-"$STOCK_RELEASE"/boot/config-"$STOCK_RELEASE" 2>/dev/null; then
			kunit_results stock "$logs/stock/console.log"
		else
			echo "# stock $STOCK_RELEASE: no KUnit (CONFIG_KUNIT is not set in Debian's kernel)"
		fi
		if grep -aE "$splats" "$logs/stock/console.log" >"$work/splats.txt"; then
			sed 's/^/# /' "$work/splats.txt" | head -40
			report 1 "guest stock: kernel log is free of BUG/WARNING/Oops"
		else
			report 0 "guest stock: kernel log is free of BUG/WARNING/Oops"
		fi
		stock_error_checks "$logs/stock"
	else
		tail -30 "$logs/stock/prepare.log" | sed 's/^/# /'
		report 1 "stock kernel: the root, the zc9p-dkms package and its DKMS build ($logs/stock/prepare.log)"
	fi
fi

# A module built with KUnit suites (.kunit_test_suites) has run them (in the
# test kernel's guests: the stock kernel has no KUnit).
with_kunit=$(kunit_modules "$(module_ko zc9p_virtio)" "$(module_ko zc9p_fd)" "$(module_ko zc9p_pintest)" |
	tr '\n' ' ')
if ! part_on virtio && ! part_on fd && ! part_on dma; then
	echo "# kunit: no test-kernel guest in ZC9P_PARTS"
elif [ -n "$with_kunit" ]; then
	report $(( KUNIT_SUITES == 0 )) "kunit: the suites of ${with_kunit% } ran ($KUNIT_SUITES zc9p_ suites found in the guests' logs)"
else
	echo "# kunit: no module carries KUnit suites"
fi

# The host sees exactly the bytes the guest wrote (guest-results.sh's host_verify).
HOST_CHECK=$check
MIB=1048576
# What the virtio guest wrote into the shares.
if part_on virtio; then
	for zc in 1 0; do
		W=$work/share0/zc$zc V=$work/share1/zc$zc
		# As tests/guest/virtio.sh: with zc9p.reference=stock the debug
		# guest's slowest file tests are smaller, and its copy-path pass ran
		# in the stock guest, at the full sizes.
		big=$((8 * MIB)) par=$((4 * MIB)) want=300
		if [ $reference = stock ]; then
			if [ $zc = 0 ]; then
				[ $stock_prep_rc -eq 0 ] || continue # counted as failed above
				W=$work/stock/share0/zc$zc V=$work/stock/share1/zc$zc
			else
				big=$((4 * MIB)) par=$MIB want=100
			fi
		fi
		[ $zc = 1 ] || want=100 # NFILES_ZC0
		# Plain 9p2000 files exist only where the server speaks it (see virtio.sh).
		protos="9p2000.L 9p2000.u"
		[ -e "$W/rt-9p2000-0" ] && protos="$protos 9p2000"
		for proto in $protos; do
			sizes="0 1 4095 4096 4097 $MIB" # as tests/guest/virtio.sh
			[ $proto = 9p2000.L ] && sizes="$sizes $big"
			for size in $sizes; do
				host_verify "[zc=$zc] $proto file of $size bytes matches" "$W/rt-$proto-$size" "$size" "$size"
			done
		done
		bad=0
		for off in 0 1 511 4095; do
			for size in 1025 4097 65537 262147 524288; do
				"$check" verify "$W/mis-$off-$size" $size $off >/dev/null 2>&1 || bad=1
			done
		done
		report $bad "host: [zc=$zc] the 20 misaligned-buffer files match"
		host_verify "[zc=$zc] O_DIRECT file matches" "$W/direct" $((3 * MIB + 4096)) 9
		host_verify "[zc=$zc] second-share file matches" "$V/second" $MIB 77
		for i in 1 2 3 4 5 6 7 8; do
			host_verify "[zc=$zc] ring-test file $i matches" "$V/ring-$i" $((4 * MIB + i)) $((i + 100))
		done
		for i in 1 2 3 4 5 6 7 8; do
			d=$W; [ $((i % 2)) -eq 1 ] || d=$V
			host_verify "[zc=$zc] concurrent writer $i's file matches" "$d/par-$i" $((par + i)) "$i"
		done
		made=$(ls "$V/made" 2>/dev/null | wc -l || true)
		report $(( made != want )) "host: [zc=$zc] the $want files created in the guest exist ($made)"
	done

	# The page-cache suite's files (tests/guest/cache.sh), per transport (zc1:
	# zc9p_virtio, c: 9pnet_virtio, in the stock guest's share when it ran
	# the comparison) and cache mode.
	mmapchk=$work/zc9p-mmap
	gcc -O2 -Wall -Werror -o "$mmapchk" "$ZC9P_ROOT"/tests/guest/mmap/*.c
	for label in zc1 c; do
		share=$work/share0
		if [ $label = c ] && [ $reference = stock ]; then
			[ $stock_prep_rc -eq 0 ] || continue # counted as failed above
			share=$work/stock/share0
		fi
		for mode in loose mmap; do
			C=$share/cache-$label-$mode
			t="[cache $label $mode]"
			for size in 0 1 4095 4096 4097 $MIB; do # CACHE_SIZES in tests/guest/cache.sh
				host_verify "$t $size-byte file matches" "$C/rt-$size" $size $size
			done
			host_run "$t shared-mapping file matches" "$mmapchk" sharedverify "$C/mmap-shared"
			host_verify "$t file written under a small dirty limit matches" "$C/dirty-big" $((24 * MIB)) 64
			hows="write map"
			[ $mode = loose ] || hows=map
			for how in $hows; do
				for cut in 102400 103400; do
					host_run "$t file truncated to $cut while dirty ($how), then to 204800, matches" \
						"$mmapchk" expect "$C/trunc-$how-$cut" 204800 z 0:$cut:91
				done
			done
			host_run "$t O_DIRECT-mix file matches" "$mmapchk" expect "$C/direct-mix" \
				2100152 81 1500000:100000:84 300000:600000:82 800000:300000:83
			host_run "$t the binary copied into the share matches the original" \
				sh -c "cd '$C' && sha256sum -c --quiet exe.sha256"
		done
	done
fi

# What the dma guest wrote under swiotlb=force.
if part_on dma; then dma_guest_verify; fi

# What the guest wrote through the host's diod, one file per fd transport module.
# (Mainline's only when the test kernel's guest compared it, not the stock one:
# that has no route to the host's diod.)
part_on fd && for tag in $([ $reference = test ] && echo c) zc1 zc0; do
	host_verify "[fd $tag] file written through the host's diod (trans=tcp over QEMU user networking) matches" \
		"$hostdiod/export/from-guest-$tag" $((MIB + 3)) 62
done

echo "# console logs:$(for p in $parts; do [ "$p" != stock ] || [ "$stock" = 1 ] && printf ' %s' "$logs/$p/console.log"; done)"
echo "# $skipped skipped (what this machine or a stock kernel cannot run: see the '# SKIP' lines)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
