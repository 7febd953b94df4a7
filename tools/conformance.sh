#!/usr/bin/env bash
# `make conformance`: pjdfstest (crates.io) against a share mounted through
# the C 9pnet_virtio and through zc9p in one guest boot; reports both pass
# counts and fails if any test passes on C but not on zc9p.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

bash "$ZC9P_ROOT/tools/setup.sh"
bash "$ZC9P_ROOT/tools/build-kernel.sh"
bash "$ZC9P_ROOT/tools/build-module.sh" >/dev/null
pjd=$ZC9P_CACHE/pjdfstest/bin/pjdfstest
if [ ! -x "$pjd" ]; then
	say "installing pjdfstest from crates.io"
	cargo=$(command -v cargo || echo /root/.cargo/bin/cargo)
	"$cargo" install --locked --quiet --root "$ZC9P_CACHE/pjdfstest" pjdfstest
fi
work=$(mktemp -d /tmp/zc9p-conformance.XXXXXX)
mkdir -p "$work/share0" "$work/share1"
ZC9P_WITH_PJDFSTEST=$pjd bash "$ZC9P_ROOT/tools/mkinitramfs.sh" "$work/initramfs.cpio.gz"
bash "$ZC9P_ROOT/tools/run-vm.sh" "$work/initramfs.cpio.gz" conformance.sh "$work/logs" 2400 \
	"$work/share0" "$work/share1" || true
log=$work/logs/tap.log
grep -q PJD-DONE "$log" || { say "the conformance run did not finish ($work/logs)"; exit 1; }
sed -i 's/\r$//' "$log"
for t in c zc1; do
	echo "# $t: $(grep -c "^PJD $t .* ok$" "$log") passed, $(grep -c "^PJD $t .* FAILED$" "$log") failed, $(grep -c "^PJD $t .* skipped$" "$log") skipped ($(grep "^PJD-EXIT $t" "$log"))"
done
regressions=$(comm -23 <(sed -n 's/^PJD c \(.*\) ok$/\1/p' "$log" | sort) \
	<(sed -n 's/^PJD zc1 \(.*\) ok$/\1/p' "$log" | sort))
passed_c=$(grep -c '^PJD c .* ok$' "$log" || true)
passed_zc=$(grep -c '^PJD zc1 .* ok$' "$log" || true)
if [ -n "$regressions" ]; then
	echo "# passing on 9pnet_virtio but not on zc9p:"
	echo "$regressions" | sed 's/^/#   /'
fi
splat=0
grep -aqE 'BUG:|WARNING:|Oops|INFO: possible|circular locking|Kernel panic|panicked at' "$work/logs/console.log" && splat=1
echo "# pjdfstest passes: 9pnet_virtio $passed_c, zc9p $passed_zc (logs: $work/logs)"
nreg=$(printf '%s' "$regressions" | grep -c . || true)
echo "$(( (nreg == 0) + (splat == 0) )) passed, $(( (nreg != 0) + (splat != 0) )) failed"
[ "$nreg" -eq 0 ] && [ "$splat" -eq 0 ]
