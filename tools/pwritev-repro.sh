#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# QEMU's 9P write pattern on the host, without QEMU or a guest
# (tools/pwritev-repro.c says what it does and why): is a slow 4 MiB write
# at msize=4182040 the host's doing? Runs, in this order,
#
#   1. ext4 (DIR, default /tmp), PAUSE seconds (default 8) before every run:
#      the host's state between two guest benchmark points;
#   2. ext4, runs back to back (each reuses the memory the last one freed);
#   3. tmpfs (/dev/shm), with the pause: the copy without ext4's page cache;
#
# each with the Twrite sizes of a 4 MiB write() at msize 4182040 (4182016 +
# 12288), 4190208 (4 MiB - 4 KiB: the offsets drift by a page a call), 2 MiB,
# 1 MiB and 128 KiB payloads (msize 2097176, 1048600, the 9P default
# 131096), MIB MiB a run (default 128), SERIES series (default 3, the order
# reversed every other one). Prints the host's page reporting settings (this
# matters: see Documentation/virtio-limits.rst) and the TABLE lines:
#   TABLE dir chunk MiB/s(median min max) sys-ms-per-MiB(median min max)
# With PERF=1, also a `perf record` of one 2 MiB and one 1 MiB run after a
# pause: the host kernel's functions by CPU share.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
DIR=${DIR:-/tmp} MIB=${MIB:-128} SERIES=${SERIES:-3} PAUSE=${PAUSE:-8}
bin=$(mktemp -d /tmp/pwritev-repro.XXXXXX)
trap 'rm -rf "$bin"' EXIT
gcc -O2 -Wall -o "$bin/pwritev-repro" "$here/pwritev-repro.c"

echo "# host: $(uname -r), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg);" \
	"$DIR on $(df --output=fstype "$DIR" | tail -1)"
if [ -d /sys/module/page_reporting/parameters ]; then
	echo "# free page reporting: $(cd /sys/module/page_reporting/parameters &&
		for p in *; do printf '%s=%s ' "$p" "$(cat "$p")"; done)"
fi
echo "# transparent_hugepage: $(cat /sys/kernel/mm/transparent_hugepage/enabled)"
chunks="4182016 4190208 2097152 1048576 131072"
run() { # LABEL ARGS...
	local label=$1
	shift
	echo "## $label"
	"$bin/pwritev-repro" -m "$MIB" -n "$SERIES" -w 4194304 "$@" $chunks | grep -E '^(TABLE|TOUCH|RUN|# TABLE)'
}
run "ext4, ${PAUSE}s pause before each run" -d "$DIR" -s "$PAUSE"
run "ext4, back to back" -d "$DIR"
run "tmpfs, ${PAUSE}s pause before each run" -d /dev/shm -s "$PAUSE"
if [ "${PERF:-0}" = 1 ] && command -v perf >/dev/null; then
	for c in 2097152 1048576; do
		sleep "$PAUSE"
		echo "## perf record, ext4, one run of $c after a ${PAUSE}s pause: top host functions"
		perf record -q -e cpu-clock -F 4000 -o "$bin/perf.data" -- \
			"$bin/pwritev-repro" -d "$DIR" -m "$MIB" -n 1 "$c" | grep '^RUN'
		perf report -i "$bin/perf.data" --no-children --sort symbol --stdio 2>/dev/null |
			grep -E '^ +[0-9]' | head -6
	done
fi
