#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make soak`: one guest boot; for zerocopy=1 and 0, 16 processes of mixed I/O
# on both shares for SOAK_SECS (default 120) seconds, all surviving files
# verified, stress-ng's filesystem stressors, pins back to zero, and a clean
# guest kernel log. Ends with "N passed, N failed".
set -euo pipefail
. "$(dirname "$0")/guest-lib.sh"

setup_and_build
dpkg-query -W -f='${Status}' stress-ng 2>/dev/null | grep -q "install ok installed" ||
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq stress-ng >/dev/null

secs=${SOAK_SECS:-120}
work=$(mktemp -d /tmp/zc9p-soak.XXXXXX)
mkdir -p "$work/share0" "$work/share1"
ZC9P_WITH_STRESS_NG=1 bash "$ZC9P_ROOT/tools/mkinitramfs.sh" "$work/initramfs.cpio.gz"
vmrc=0
ZC9P_APPEND="zc9p.soak_secs=$secs" bash "$ZC9P_ROOT/tools/run-vm.sh" "$work/initramfs.cpio.gz" \
	soak.sh "$work/logs" $((secs * 2 + 600)) "$work/share0" "$work/share1" || vmrc=$?
sed 's/\r$//' "$work/logs/tap.log" | grep -E '^(ok|not ok|#)'
passed=$(grep -c '^ok ' "$work/logs/tap.log" || true)
failed=$(grep -c '^not ok ' "$work/logs/tap.log" || true)
grep -q '^1\.\.' "$work/logs/tap.log" || { echo "not ok - the soak did not finish (qemu exit $vmrc)"; failed=$((failed + 1)); }
# The soak's long run also watches for hung tasks and lock-state reports.
if guest_splats "$work/logs/console.log" "INFO: task|inconsistent lock state"; then
	echo "not ok - guest kernel log has a splat"
	failed=$((failed + 1))
else
	echo "ok - guest kernel log is clean"
	passed=$((passed + 1))
fi
echo "# logs: $work/logs"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
