#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make profile`: where a request's time goes, per transport (C 9pnet_virtio,
# zc9p zerocopy=0 and 1), for 4 KiB and 1 MiB sequential reads and writes, on
# the perf kernel (tools/kernel-perf.config). Two guest boots run
# tests/guest/profile.sh: one in real time (wall time and guest CPU per call,
# ftrace's function profiler on the functions that bracket a request, perf
# cpu-clock sampling) while the host records the CPU time of QEMU's threads
# around each run; one under QEMU's -icount, where the guest clock counts
# instructions, for guest instructions per call. Writes results/profile.md.
set -euo pipefail
export ZC9P_KERNEL=${ZC9P_KERNEL:-perf}
. "$(dirname "$0")/guest-lib.sh"

setup_and_build
[ -x /usr/bin/perf ] ||
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends linux-perf >/dev/null

work=$(mktemp -d /tmp/zc9p-profile.XXXXXX)
mkdir -p "$work/share0" "$work/logs"
ZC9P_WITH_PERF=1 bash "$ZC9P_ROOT/tools/mkinitramfs.sh" "$work/initramfs.cpio.gz"
: >"$work/logs/tap.log"
start=$(date +%s)
bash "$ZC9P_ROOT/tools/run-vm.sh" "$work/initramfs.cpio.gz" profile.sh \
	"$work/logs" 1800 "$work/share0" &
vm=$!
# QEMU's threads, read at each MARK line of the guest.
qemu=$(qemu_pid "$work/initramfs.cpio.gz") || { say "QEMU did not start"; wait $vm || true; exit 1; }
python3 "$ZC9P_ROOT/tools/profile.py" watch "$qemu" "$work/logs/tap.log" "$work/host.txt" &
watcher=$!
wait $vm || true
wait $watcher || true
say "profile guest ran for $(( $(date +%s) - start ))s; logs in $work/logs"
# The -icount boot: one guest nanosecond per instruction (a 1 GHz TSC), one round.
mkdir -p "$work/logs-icount"
start=$(date +%s)
ZC9P_APPEND="PROFILE_MODE=icount ROUNDS=1 tsc_early_khz=1000000 tsc=reliable" \
	ZC9P_QEMU_EXTRA="-icount shift=0,sleep=on" \
	bash "$ZC9P_ROOT/tools/run-vm.sh" "$work/initramfs.cpio.gz" profile.sh \
	"$work/logs-icount" 1800 "$work/share0" || true
say "-icount guest ran for $(( $(date +%s) - start ))s"
for logs in "$work/logs" "$work/logs-icount"; do
	grep -q PROFILE-DONE "$logs/tap.log" || { say "the profile run in $logs did not finish"; exit 1; }
	if guest_splats "$logs/console.log"; then
		say "the guest log in $logs has a kernel splat: results discarded"
		exit 1
	fi
done
machine=$(host_machine)
mkdir -p "$ZC9P_ROOT/results"
cp "$work/logs/tap.log" "$ZC9P_ROOT/results/profile-raw.txt"
cp "$work/logs-icount/tap.log" "$ZC9P_ROOT/results/profile-icount-raw.txt"
cp "$work/host.txt" "$ZC9P_ROOT/results/profile-host.txt"
python3 "$ZC9P_ROOT/tools/profile.py" report "$ZC9P_ROOT/results/profile-raw.txt" \
	"$ZC9P_ROOT/results/profile-icount-raw.txt" "$ZC9P_ROOT/results/profile-host.txt" \
	"$ZC9P_ROOT/results" "$machine"
say "wrote results/profile.md"
