#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Boot the test kernel in QEMU with an initramfs and 9P shares.
# usage: run-vm.sh INITRAMFS SCRIPT LOGDIR TIMEOUT_S SHARE...
# The guest runs /zc9p/SCRIPT; its kernel console goes to LOGDIR/console.log and
# its second serial port (test results) to LOGDIR/tap.log. Exits with QEMU's
# status (124 on timeout, or when the kernel twice does not reach /init in
# ZC9P_BOOT_LIMIT seconds: see below).
#
# Share N is DIR or DIR,PROP,PROP...: exported with mount tag zc9pN by
# `-fsdev local,id=fsN,...` and `-device virtio-9p-pci,fsdev=fsN,mount_tag=zc9pN,id=zc9pdevN`.
# A PROP is a virtio-9p-pci property (e.g. indirect_desc=off) or, written
# fsdev.KEY=VALUE, an -fsdev one (e.g. fsdev.throttling.bps-read=262144 for a
# slow server).
#
# ZC9P_VMLINUZ boots another kernel than KDIR's (a stock one, tools/stock-guest.sh).
#
# ZC9P_NET=1 adds a virtio NIC on QEMU's user networking: the guest's eth0
# (tests/guest/init gives it 10.0.2.15/24, no default route) reaches the host's
# loopback at 10.0.2.2, e.g. a 9P server there for trans=tcp (tools/run-tests.sh).
#
# The guest's third serial port (/dev/ttyS2) is a control channel to the host:
# tools/hostctl.py answers requests there (tests/guest/hostctl.sh: ping,
# hot-unplug/re-plug of share N's device through QEMU's QMP socket, counts of
# QEMU trace events), logging to LOGDIR/hostctl.log.
#
# ZC9P_TRACE="EVENT..." enables those QEMU trace events (e.g. v9fs_read: one
# line per request the 9P server reads) into LOGDIR/qemu-trace.log, which the
# guest's `hostctl trace` counts.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

initrd=$1 script=$2 logdir=$3 limit=$4
shift 4
kdir=${KDIR:-$(kernel_build_dir)}
mkdir -p "$logdir"
: >"$logdir/console.log"
: >"$logdir/tap.log"

# KVM only with a real hardware hypervisor module; PVM's /dev/kvm hangs stock kernels.
accel=tcg
if [ -w /dev/kvm ] && grep -qsE '^(kvm_intel|kvm_amd) ' /proc/modules; then
	accel=kvm
fi

# Share N is DIR, or DIR,PROPS: virtio-9p-pci properties, and -fsdev ones
# written fsdev.KEY=VALUE (",," is a comma inside a value, as for QEMU).
shares=() devices=()
i=0
for spec in "$@"; do
	dir=${spec%%,*} devprops='' fsprops=
	if [ "$dir" != "$spec" ]; then
		rest=${spec#*,}
		IFS=, read -ra props <<<"${rest//,,/$'\x02'}"
		for p in "${props[@]}"; do
			p=${p//$'\x02'/,,}
			case "$p" in
			"") ;;
			fsdev.*) fsprops+=,${p#fsdev.} ;;
			*) devprops+=,$p ;;
			esac
		done
	fi
	device="virtio-9p-pci,fsdev=fs$i,mount_tag=zc9p$i,id=zc9pdev$i$devprops"
	shares+=(-fsdev "local,id=fs$i,path=$dir,security_model=none,multidevs=remap$fsprops"
		-device "$device")
	devices+=(--device "$i" "$device")
	i=$((i + 1))
done

# QMP and the control channel's socket: in a short folder of their own (a unix
# socket's path has to fit in 108 bytes, LOGDIR's may not).
sockdir=$(mktemp -d /tmp/zc9p-vm.XXXXXX)
hostctl_pid='' watch_pid=
stop_helpers() {
	if [ -n "$watch_pid" ]; then
		kill "$watch_pid" 2>/dev/null || true
		wait "$watch_pid" 2>/dev/null || true
		watch_pid=
	fi
	if [ -n "$hostctl_pid" ]; then
		# It leaves by itself once QEMU has closed its sockets.
		for _ in $(seq 20); do kill -0 "$hostctl_pid" 2>/dev/null || break; sleep 0.1; done
		kill "$hostctl_pid" 2>/dev/null || true
		wait "$hostctl_pid" 2>/dev/null || true
		hostctl_pid=
	fi
}
cleanup() {
	set +e # nothing here may change the exit status
	stop_helpers
	rm -rf "$sockdir"
}
trap cleanup EXIT
: >"$logdir/hostctl.log"
trace=() trace_arg=()
if [ -n "${ZC9P_TRACE:-}" ]; then
	for ev in $ZC9P_TRACE; do trace+=(-trace "enable=$ev"); done
	trace+=(-trace "file=$logdir/qemu-trace.log")
	trace_arg=(--trace "$logdir/qemu-trace.log")
fi
start_hostctl() {
	if [ -x /usr/bin/python3 ]; then
		/usr/bin/python3 "$ZC9P_ROOT/tools/hostctl.py" --qmp "$sockdir/qmp.sock" "${trace_arg[@]}" \
			--control "$sockdir/hostctl.sock" --log "$logdir/hostctl.log" "${devices[@]}" \
			</dev/null >>"$logdir/hostctl.log" 2>&1 &
		hostctl_pid=$!
	else
		say "no /usr/bin/python3: the guest's control channel (hostctl) is not served"
	fi
}

# A kernel that has not reached /init after ZC9P_BOOT_LIMIT seconds (default
# 300; a debug kernel under TCG on a loaded machine needs under a minute) is
# stuck, as Debian's once was under TCG right after bringing up its second
# CPU: QEMU is stopped (its -pidfile) and the guest booted once more, rather
# than the run waiting out the guest's whole time limit.
boot_limit=${ZC9P_BOOT_LIMIT:-300}
watch_boot() {
	local waited=0
	while [ $waited -lt "$boot_limit" ]; do
		sleep 5
		waited=$((waited + 5))
		grep -aq 'Run /init as init process' "$logdir/console.log" && return 0
	done
	echo "the kernel did not reach /init in ${boot_limit}s" >"$logdir/boot-stuck"
	[ -s "$sockdir/qemu.pid" ] && kill "$(cat "$sockdir/qemu.pid")"
}

# The perf kernel measures: give it a real clock (the test kernel keeps the
# jiffies clock it has always been tested with).
append=${ZC9P_APPEND:-}
case "$ZC9P_KERNEL:$append" in
perf:*tsc_early_khz=*) ;; # the caller chose the clock (tools/profile.sh under -icount)
perf:*) append="$append $(guest_clock_params)" ;;
# The test kernel (KASAN, kmemleak): its devices use MSI-X, and evaluating
# QEMU's _PRT (a 128-step AML loop, once per PCI device enabled) takes over
# 30 s there under TCG, which ACPICA aborts as a loop timeout; acpi=noirq
# skips it. ACPI itself (CPUs, hot-plug events) stays on.
test:*) append="$append acpi=noirq" ;;
esac

# The user network: no IPv6, so the guest has only the one subnet to talk on;
# no option ROM (the kernel boots directly; ipxe-qemu need not be installed).
net=()
if [ "${ZC9P_NET:-0}" = 1 ]; then
	# shellcheck disable=SC2054 # the commas are QEMU's option syntax
	net=(-netdev user,id=net0,ipv6=off -device virtio-net-pci,netdev=net0,romfile=)
fi

rm -f "$logdir/cpu-times"
attempt=1
while :; do
	: >"$logdir/console.log"
	: >"$logdir/tap.log"
	[ -z "${ZC9P_TRACE:-}" ] || : >"$logdir/qemu-trace.log"
	rm -f "$sockdir/qemu.pid" "$logdir/boot-stuck"
	start_hostctl
	watch_boot &
	watch_pid=$!
	say "booting guest (accel=$accel, script=$script, limit ${limit}s)"
	set +e
	# LOGDIR/cpu-times: the CPU seconds QEMU used (user, system), a line a
	# boot. The guests of a test run share the machine's cores, so its time
	# budget is spent in CPU.
	TIMEFORMAT='%U %S'
	{ time timeout --kill-after=10 "$limit" qemu-system-x86_64 \
		-accel "$accel" -name zc9p,debug-threads=on -m 2G -smp 2 -no-reboot -display none -monitor none \
		-kernel "${ZC9P_VMLINUZ:-$kdir/arch/x86/boot/bzImage}" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 rdinit=/init zc9p.run=$script $append" \
		-serial "file:$logdir/console.log" -serial "file:$logdir/tap.log" \
		-chardev "socket,id=hostctl,path=$sockdir/hostctl.sock,server=on,wait=off" -serial chardev:hostctl \
		-qmp "unix:$sockdir/qmp.sock,server=on,wait=off" -pidfile "$sockdir/qemu.pid" \
		"${shares[@]}" "${net[@]}" "${trace[@]}" ${ZC9P_QEMU_EXTRA:-} 2>&3; } 3>&2 2>>"$logdir/cpu-times"
	rc=$?
	set -e
	stop_helpers
	if [ -e "$logdir/boot-stuck" ] && [ $attempt = 1 ]; then
		say "$(cat "$logdir/boot-stuck"): booting it again (its console: $logdir/console-stuck.log)"
		mv "$logdir/console.log" "$logdir/console-stuck.log"
		attempt=2
		continue
	fi
	# (QEMU stopped by the watchdog exits 0: the boot failed, as a timeout.)
	[ ! -e "$logdir/boot-stuck" ] || rc=124
	break
done
exit $rc
