#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make bench`: one guest boot runs the same workloads on C 9pnet_virtio,
# zc9p_virtio zerocopy=0 and zerocopy=1 (and guest tmpfs, virtio-fs), then on
# C 9pnet_fd, zc9p_fd zerocopy=0 and zerocopy=1 over tcp and unix to 9P servers
# in the guest (diod, unpfs); results/ gets bench.csv, bench-fd.csv, bench.md,
# bench.png and bench-fd.png. REPS and SECS (per point, virtio part), FD_REPS
# and FD_SECS (fd part) tune the run, BENCH_PARTS=virtio or fd runs one part
# (tests/guest/bench.sh has the defaults; about 15 minutes in all on 2 cores).
# It measures the perf kernel (tools/kernel-perf.config: the test kernel without
# lockdep and the other debug checks); ZC9P_KERNEL=test measures the test kernel.
set -euo pipefail
export ZC9P_KERNEL=${ZC9P_KERNEL:-perf}
. "$(dirname "$0")/guest-lib.sh"

setup_and_build
python3 -c 'import matplotlib' 2>/dev/null ||
	python3 -m pip install --quiet matplotlib 2>/dev/null ||
	say "matplotlib could not be installed: the report will have no plot"

work=$(mktemp -d /tmp/zc9p-bench.XXXXXX)
mkdir -p "$work/share0" "$work/share1"
bash "$ZC9P_ROOT/tools/mkinitramfs.sh" "$work/initramfs.cpio.gz"

# virtio-fs, the reference line (start_virtiofsd in tools/guest-lib.sh).
start_virtiofsd "$work" || say "no virtiofsd: the virtio-fs line is left out"
# The guest's settings travel on its kernel command line (/init's environment).
append=
for v in REPS SECS FD_REPS FD_SECS BENCH_PARTS; do
	[ -z "${!v:-}" ] || append="$append $v=${!v}"
done
# The host's load while the guest runs: other guests on this machine slow some
# points and not others (bench.md's first line reports it).
( while sleep 10; do echo "$(cut -d' ' -f1 /proc/loadavg) $(pgrep -c '^qemu-system' || true)"; done ) \
	>"$work/load.txt" 2>/dev/null &
load_pid=$!
start=$(date +%s)
ZC9P_APPEND="${ZC9P_APPEND:-}$append" ZC9P_QEMU_EXTRA=$VIRTIOFS_QEMU_ARGS bash "$ZC9P_ROOT/tools/run-vm.sh" "$work/initramfs.cpio.gz" bench.sh \
	"$work/logs" 2400 "$work/share0" "$work/share1" || true
stop_virtiofsd
kill "$load_pid" 2>/dev/null || true
load=$(awk '{ s += $1; if ($1 > m) m = $1; g += $2 - 1; n++ }
	END { if (n) printf "host load average %.1f (at most %.1f; this guest adds up to 2), %.1f other guests on average", s / n, m, g / n }' "$work/load.txt")
say "benchmark guest ran for $(( $(date +%s) - start ))s ($(grep -a '^# time' "$work/logs/tap.log" | tr -d '\r' | tr '\n' ' '))"
grep -q BENCH-DONE "$work/logs/tap.log" || { say "the benchmark did not finish"; exit 1; }
if guest_splats "$work/logs/console.log"; then
	say "the guest log has a kernel splat: results discarded"
	exit 1
fi
machine="$(host_machine), $ZC9P_KERNEL kernel${load:+; $load}"
cp "$work/logs/tap.log" "$ZC9P_ROOT/results/bench-raw.txt" 2>/dev/null ||
	{ mkdir -p "$ZC9P_ROOT/results"; cp "$work/logs/tap.log" "$ZC9P_ROOT/results/bench-raw.txt"; }
python3 "$ZC9P_ROOT/tools/bench_report.py" "$ZC9P_ROOT/results/bench-raw.txt" "$ZC9P_ROOT/results" "$machine"
