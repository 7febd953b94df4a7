#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The main job: build what is missing, boot a guest, mount a host folder through
# zc9p_virtio and show a file round trip in both directions.
# SHARE=/some/dir picks the host folder (default: a new temporary one).
set -euo pipefail
. "$(dirname "$0")/guest-lib.sh"

setup_and_build

share=${SHARE:-$(mktemp -d /tmp/zc9p-demo.XXXXXX)}
mkdir -p "$share"
work=$(mktemp -d /tmp/zc9p-demo-run.XXXXXX)
echo "hello from the host ($(hostname), $(date -u +%FT%TZ))" >"$share/from-host.txt"
bash "$ZC9P_ROOT/tools/mkinitramfs.sh" "$work/initramfs.cpio.gz"
rc=0
bash "$ZC9P_ROOT/tools/run-vm.sh" "$work/initramfs.cpio.gz" demo.sh "$work/logs" 600 "$share" || rc=$?
# The guest's side of the demo, then zc9p's kernel messages.
sed 's/\r$//; s/^/guest| /' "$work/logs/tap.log"
grep -a 'zc9p_virtio' "$work/logs/console.log" | sed 's/\r$//; s/^/guest kernel| /' || true
echo "=== back on the host, $share holds:"
ls -l "$share"
if [ -f "$share/from-guest.txt" ]; then
	echo "=== the guest's file, read on the host:"
	cat "$share/from-guest.txt"
	gcc -O2 -o "$work/zc9p-check" "$ZC9P_ROOT/tests/guest/zc9p-check.c"
	"$work/zc9p-check" verify "$share/from-guest.bin" 1048576 42
	echo "the guest's 1 MiB file, checked on the host: content verified"
	echo "zc9p demo: OK (guest console log: $work/logs/console.log)"
else
	echo "zc9p demo: FAILED, the guest's file did not arrive (qemu exit $rc; log: $work/logs/console.log)"
	exit 1
fi
