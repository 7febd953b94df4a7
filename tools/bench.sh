#!/usr/bin/env bash
# `make bench`: one guest boot runs the same workloads on C 9pnet_virtio,
# zc9p_virtio zerocopy=0 and zerocopy=1 (and guest tmpfs), then results/ gets
# bench.csv, bench.md and bench.png. REPS and SECS (per point) tune the run.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

bash "$ZC9P_ROOT/tools/setup.sh"
bash "$ZC9P_ROOT/tools/build-kernel.sh"
bash "$ZC9P_ROOT/tools/build-module.sh" >/dev/null
python3 -c 'import matplotlib' 2>/dev/null ||
	python3 -m pip install --quiet matplotlib 2>/dev/null ||
	say "matplotlib could not be installed: the report will have no plot"

work=$(mktemp -d /tmp/zc9p-bench.XXXXXX)
mkdir -p "$work/share0" "$work/share1"
bash "$ZC9P_ROOT/tools/mkinitramfs.sh" "$work/initramfs.cpio.gz"
start=$(date +%s)
bash "$ZC9P_ROOT/tools/run-vm.sh" "$work/initramfs.cpio.gz" bench.sh "$work/logs" 2400 \
	"$work/share0" "$work/share1"
say "benchmark guest ran for $(( $(date +%s) - start ))s"
grep -q BENCH-DONE "$work/logs/tap.log" || { say "the benchmark did not finish"; exit 1; }
splats='BUG:|WARNING:|Oops|INFO: possible|circular locking|Kernel panic|panicked at'
if grep -aE "$splats" "$work/logs/console.log"; then
	say "the guest log has a kernel splat: results discarded"
	exit 1
fi
machine="$(nproc) cores, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1), $(date -u +%F)"
cp "$work/logs/tap.log" "$ZC9P_ROOT/results/bench-raw.txt" 2>/dev/null ||
	{ mkdir -p "$ZC9P_ROOT/results"; cp "$work/logs/tap.log" "$ZC9P_ROOT/results/bench-raw.txt"; }
python3 "$ZC9P_ROOT/tools/bench_report.py" "$ZC9P_ROOT/results/bench-raw.txt" "$ZC9P_ROOT/results" "$machine"
