#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make conformance`: pjdfstest (crates.io) in one guest boot against a share
# mounted through the C 9pnet_virtio and through zc9p_virtio, and against one
# diod export in the guest mounted with trans=tcp through the C 9pnet_fd and
# through zc9p_fd; reports the pass counts and fails if a test passes on
# 9pnet_virtio but not on zc9p_virtio, or if 9pnet_fd and zc9p_fd do not pass
# the same tests.
set -euo pipefail
. "$(dirname "$0")/guest-lib.sh"

setup_and_build
pjd=$ZC9P_CACHE/pjdfstest/bin/pjdfstest
if [ ! -x "$pjd" ]; then
	say "installing pjdfstest from crates.io"
	cargo=$(command -v cargo || echo /root/.cargo/bin/cargo)
	"$cargo" install --locked --quiet --root "$ZC9P_CACHE/pjdfstest" pjdfstest
fi
work=$(mktemp -d /tmp/zc9p-conformance.XXXXXX)
mkdir -p "$work/share0" "$work/share1"
ZC9P_WITH_PJDFSTEST=$pjd bash "$ZC9P_ROOT/tools/mkinitramfs.sh" "$work/initramfs.cpio.gz"
# The debug kernel under TCG: a pjdfstest run takes 15 to 35 minutes (the fd
# runs alongside the virtio ones, so the guest needs about an hour).
# CONF_PARTS=virtio or fd runs one part (tests/guest/conformance.sh).
start=$(date +%s)
ZC9P_APPEND="${ZC9P_APPEND:-}${CONF_PARTS:+ CONF_PARTS=$CONF_PARTS}" \
bash "$ZC9P_ROOT/tools/run-vm.sh" "$work/initramfs.cpio.gz" conformance.sh "$work/logs" 5400 \
	"$work/share0" "$work/share1" || true
say "conformance guest ran for $(( $(date +%s) - start ))s"
log=$work/logs/tap.log
grep -q PJD-DONE "$log" || { say "the conformance run did not finish ($work/logs)"; exit 1; }
sed -i 's/\r$//' "$log"
for t in c zc1 fd-c fd-zc1; do
	grep -q "^PJD-EXIT $t " "$log" || continue
	echo "# $t: $(grep -c "^PJD $t .* ok$" "$log") passed, $(grep -c "^PJD $t .* FAILED$" "$log") failed, $(grep -c "^PJD $t .* skipped$" "$log") skipped ($(grep "^PJD-EXIT $t " "$log"))"
done
passes() { sed -n "s/^PJD $1 \(.*\) ok\$/\1/p" "$log" | sort; }
ok=0 bad=0
# virtio: every test that passes on 9pnet_virtio passes on zc9p.
if grep -q '^PJD-EXIT c ' "$log"; then
	regressions=$(comm -23 <(passes c) <(passes zc1))
	if [ -n "$regressions" ]; then
		echo "# passing on 9pnet_virtio but not on zc9p:"
		echo "$regressions" | sed 's/^/#   /'
		bad=$((bad + 1))
	else
		ok=$((ok + 1))
	fi
	echo "# pjdfstest passes: 9pnet_virtio $(passes c | wc -l), zc9p $(passes zc1 | wc -l)"
fi
# fd (trans=tcp to the guest's diod): both ran, and the same tests pass.
if ! grep -q '^PJD-EXIT fd-' "$log"; then
	: # the fd part was not run (CONF_PARTS)
elif grep -q '^PJD-EXIT fd-c [0-9]' "$log" && grep -q '^PJD-EXIT fd-zc1 [0-9]' "$log"; then
	fd_c_only=$(comm -23 <(passes fd-c) <(passes fd-zc1))
	fd_zc_only=$(comm -13 <(passes fd-c) <(passes fd-zc1))
	[ -z "$fd_c_only" ] || { echo "# passing on 9pnet_fd tcp but not on zc9p_fd tcp:"; echo "$fd_c_only" | sed 's/^/#   /'; }
	[ -z "$fd_zc_only" ] || { echo "# passing on zc9p_fd tcp but not on 9pnet_fd tcp:"; echo "$fd_zc_only" | sed 's/^/#   /'; }
	if [ -z "$fd_c_only$fd_zc_only" ]; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
	echo "# pjdfstest passes over tcp to diod: 9pnet_fd $(passes fd-c | wc -l), zc9p_fd $(passes fd-zc1 | wc -l)"
else
	echo "# the fd runs did not both complete: $(grep '^PJD-EXIT fd-' "$log" | tr '\n' ' ')"
	bad=$((bad + 1))
fi
if guest_splats "$work/logs/console.log" >/dev/null; then
	echo "# the guest log has a kernel splat"
	bad=$((bad + 1))
else
	ok=$((ok + 1))
fi
echo "# logs: $work/logs"
echo "$ok passed, $bad failed"
[ "$bad" -eq 0 ]
