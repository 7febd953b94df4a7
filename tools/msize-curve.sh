#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The msize curve (issue 22): one perf-kernel guest boot runs
# tests/guest/msize-study.sh, zc9p_virtio zerocopy=1 at each msize of
# MSIZES (default 1048600 2097176 4182040: payloads of 1, 2 and 3.99 MiB),
# cache=none 1 MiB and 4 MiB writes and reads and cache=loose write + fsync
# of 32 MiB, beside virtio-fs (when /usr/lib/qemu/virtiofsd exists), with
# QEMU's 9P trace (v9fs_version/write/read and their returns, timestamped)
# and, with HOST_TRACE=1, the host's pwritev/preadv calls of QEMU (`perf
# trace -p`; it follows only the threads QEMU has when it attaches, and
# QEMU starts its worker threads on demand, so this usually sees nothing:
# tools/pwritev-repro.sh times the same calls outside QEMU). Prints the curve table and the trace's Twrite/Tread
# counts, sizes and host-side times per point (tools/msize_curve_report.py),
# and keeps the logs in the work folder it names.
#
#   tools/msize-curve.sh                  share on /tmp (the host's ext4)
#   SHARE_DIRS="/tmp /dev/shm" tools/msize-curve.sh
#                                         one share on each, in the same boot
#                                         (tmpfs: the host's file system apart)
#
# REPS, SECS, MAXB and MSIZES go to the guest. Needs the perf kernel built
# (`make bench` or `make profile` builds it; this tool does not);
# ZC9P_KERNEL=test boots the test kernel instead (its debug checks slow the
# guest, not the host: QEMU's trace and the host's times still hold).
set -euo pipefail
export ZC9P_KERNEL=${ZC9P_KERNEL:-perf}
. "$(dirname "$0")/guest-lib.sh"

kdir=$(kernel_build_dir)
[ -e "$kdir/arch/x86/boot/bzImage" ] ||
	{ say "no $ZC9P_KERNEL kernel in $kdir: run make bench (or tools/build-kernel.sh) first"; exit 1; }
# BUILD_MODULE=0 takes the modules as they are (module_dir in tools/lib.sh).
[ "${BUILD_MODULE:-1}" = 0 ] || bash "$ZC9P_ROOT/tools/build-module.sh" >/dev/null

work=$(mktemp -d /tmp/zc9p-msize.XXXXXX)
mkdir -p "$work/logs"
ZC9P_WITH_PERF='' bash "$ZC9P_ROOT/tools/mkinitramfs.sh" "$work/initramfs.cpio.gz"

# The shares: one folder per SHARE_DIRS entry (zc9p0, zc9p1, ...).
shares=() names=
i=0
for d in ${SHARE_DIRS:-/tmp}; do
	s=$(mktemp -d "$d/zc9p-msize-share.XXXXXX")
	shares+=("$s")
	names="$names zc9p$i"
	echo "zc9p$i $s $(df --output=fstype "$s" | tail -1)" >>"$work/shares.txt"
	i=$((i + 1))
done

# virtio-fs beside the 9P points (start_virtiofsd in tools/guest-lib.sh); its
# shared-memfd guest RAM is then the one layout for all points.
start_virtiofsd "$work" || say "no virtiofsd: no virtio-fs points"
extra="-msg timestamp=on $VIRTIOFS_QEMU_ARGS"

names=${names# }
append="SHARES=${names// /,}"
for v in REPS SECS MAXB MSIZES; do
	[ -z "${!v:-}" ] || append="$append $v=${!v// /,}"
done
rk() { cat /sys/module/page_reporting/parameters/reported_kib 2>/dev/null || echo -; }
echo "reported_kib before $(rk)" >"$work/host.txt"
start=$(date +%s)
ZC9P_TRACE="v9fs_version v9fs_write v9fs_write_return v9fs_read v9fs_read_return" \
	ZC9P_APPEND="$append" ZC9P_QEMU_EXTRA=$extra \
	bash "$ZC9P_ROOT/tools/run-vm.sh" "$work/initramfs.cpio.gz" msize-study.sh \
	"$work/logs" "${LIMIT:-900}" "${shares[@]}" &
vm=$!
# The host's own system calls on the share's files, from QEMU's worker threads
# (those alive at attach time only).
tracer=
if [ "${HOST_TRACE:-0}" = 1 ] && [ -x /usr/bin/perf ] &&
	qemu=$(qemu_pid "$work/initramfs.cpio.gz"); then
	perf trace -p "$qemu" -e pwritev,preadv,pwritev2,preadv2,pwrite64,pread64 \
		-o "$work/logs/host-syscalls.txt" 2>"$work/logs/perf-trace.err" &
	tracer=$!
fi
wait $vm || true
[ -z "$tracer" ] || { kill -INT "$tracer" 2>/dev/null || true; wait "$tracer" 2>/dev/null || true; }
stop_virtiofsd
echo "reported_kib after $(rk)" >>"$work/host.txt"
rm -rf "${shares[@]}"
say "msize-curve guest ran for $(( $(date +%s) - start ))s; logs in $work"
grep -q STUDY-DONE "$work/logs/tap.log" || { say "the study did not finish"; exit 1; }
if guest_splats "$work/logs/console.log"; then
	say "the guest log has a kernel splat: results discarded"
	exit 1
fi
python3 "$ZC9P_ROOT/tools/msize_curve_report.py" "$work"
