# SPDX-License-Identifier: GPL-2.0
# The shared library of the collection's test programs (zc9p_*.sh, one per
# concern; tests/Makefile lists them): each sources it first, checks its own
# preconditions with the need_* helpers below (a missing one skips the whole
# program: KSFT_SKIP with the reason), then calls ksft_begin and runs its
# tests with tap.sh's helpers, ending with tap_exit.
#
# What every program shares: the folders (ZC9P_DIR, the programs and scripts;
# ZC9P_MODDIR, the modules, by default the same), the mount points, zc9p-check
# (CHK), the virtio helpers (mount9p, chanstat, pinstat), and what the kernel
# command line says of the guest:
#   zc9p.reference=stock  the stock-kernel guest (tools/stock-guest.sh) runs
#                         mainline's transports' suites and zc9p's copy-path
#                         passes; this guest, under KASAN, lockdep and fault
#                         injection, keeps to zc9p's own code (REFERENCE_HERE=0)
#   zc9p.stock=1          this is that stock-kernel guest: zc9p's modules are
#                         installed by DKMS (ZC9P_STOCK=1, ZC9P_INSTALLED_DIR)
ZC9P_DIR=${ZC9P_DIR:-$(cd "$(dirname "$0")" && pwd)}
ZC9P_MODDIR=${ZC9P_MODDIR:-$ZC9P_DIR}
export ZC9P_DIR ZC9P_MODDIR
. "$ZC9P_DIR/../kselftest/ktap_helpers.sh"

# skip REASON: the whole program is skipped.
skip() {
	ktap_print_header
	ktap_skip_all "$1"
	exit "$KSFT_SKIP"
}

# need_modules NAME...: skips unless ZC9P_MODDIR has NAME.ko for each.
need_modules() {
	for ko; do
		[ -r "$ZC9P_MODDIR/$ko.ko" ] || skip "no $ZC9P_MODDIR/$ko.ko"
	done
}

# need_unloaded NAME...: skips if a module NAME is loaded: the program loads
# and unloads it.
need_unloaded() {
	for m; do
		! grep -q "^$m " /proc/modules || skip "$m is loaded: the program loads and unloads it"
	done
}

# need_virtio_tags TAG...: skips unless a virtio 9P device has each mount tag.
# The tags are in each device's config space, which only a bound driver shows:
# zc9p_virtio is loaded to look (an insmod that fails is the program's first
# failure, not a reason to skip).
need_virtio_tags() {
	insmod "$ZC9P_MODDIR/zc9p_virtio.ko" 2>/dev/null || return 0
	tags=
	for f in /sys/bus/virtio/drivers/zc9p_virtio/virtio*/mount_tag; do
		[ -e "$f" ] && tags="$tags $(tr -d '\0' <"$f")"
	done
	tags="$tags "
	rmmod zc9p_virtio
	for tag; do
		case "$tags" in
		*" $tag "*) ;;
		*) skip "no virtio 9P device with mount tag $tag (tags:$tags)" ;;
		esac
	done
}

# need_virtio NAME...: the virtio programs' preconditions: zc9p_virtio and
# 9pnet_virtio to load and unload, and the shares with mount tags NAME...
need_virtio() {
	need_modules zc9p_virtio 9pnet_virtio
	need_unloaded zc9p_virtio 9pnet_virtio
	need_virtio_tags "$@"
}

# need_fd: the fd programs' preconditions: zc9p_fd and 9pnet_fd to load and unload.
need_fd() {
	need_modules zc9p_fd 9pnet_fd
	need_unloaded zc9p_fd 9pnet_fd
}

# need_file PATH WHAT: skips unless PATH exists (WHAT says what it is).
need_file() {
	[ -e "$1" ] || skip "no $1 ($2)"
}

# cmdline_has WORD: the kernel command line has WORD.
cmdline_has() {
	case " $(cat /proc/cmdline) " in *" $1 "*) return 0 ;; esac
	return 1
}

# cmdline_value NAME: the value of NAME=VALUE on the kernel command line.
cmdline_value() {
	tr ' ' '\n' </proc/cmdline | sed -n "s/^$1=//p" | head -1
}

REFERENCE_HERE=1
cmdline_has zc9p.reference=stock && REFERENCE_HERE=0
if cmdline_has zc9p.stock=1; then
	ZC9P_STOCK=1 ZC9P_INSTALLED_DIR=updates/dkms
	export ZC9P_STOCK ZC9P_INSTALLED_DIR
fi

# zc_passes: the zero-copy settings (zerocopy=1, =0) whose passes run in this
# guest: without the copy path's when the stock guest runs it.
zc_passes() {
	if [ $REFERENCE_HERE = 1 ]; then echo "1 0"; else echo 1; fi
}

CHK=$ZC9P_DIR/zc9p-check
MOD=$ZC9P_MODDIR/zc9p_virtio.ko
A=/mnt/a
B=/mnt/b
S=/mnt/s
H=/mnt/h
# shellcheck disable=SC2034 # for the programs and the scripts they source
MIB=1048576
DBG=/sys/kernel/debug

mount9p() { # TAG DIR [OPTIONS]
	$CHK mount "$1" "$2" "trans=virtio${3:+,$3}"
}

loaded() { grep -q "^$1 " /proc/modules; }

# chanstat TAG FIELD: a counter of the zc9p_virtio channel whose mount tag is TAG.
chanstat() {
	for f in $DBG/zc9p_virtio/*/stats; do
		grep -q "^tag: $1\$" $f && sed -n "s/^$2: //p" $f
	done
}

# pinstat KEY: a counter of zc9p_virtio's pins file (pin budget, segment lists).
pinstat() { sed -n "s/^$1: //p" $DBG/zc9p_virtio/pins; }

# concurrent NAME N SIZE SEED WBLOCK RBLOCK DIR...: N processes at once,
# process i writing DIR/NAME-i (SIZE + i bytes, zc9p-check's stream SEED + i)
# in WBLOCK-byte calls and verifying it in RBLOCK-byte calls; the DIRs are
# used in turn. Returns how many failed (their logs go out as diagnostics).
concurrent() {
	cc_name=$1 cc_n=$2 cc_size=$3 cc_seed=$4 cc_wbs=$5 cc_rbs=$6
	shift 6
	cc_pids=
	cc_i=1
	while [ $cc_i -le $cc_n ]; do
		# shellcheck disable=SC1083 # the braces are for eval: the positional parameter numbered by the arithmetic
		cc_d=$(eval echo \${$(( (cc_i - 1) % $# + 1 ))})
		( $CHK write $cc_d/$cc_name-$cc_i $((cc_size + cc_i)) $((cc_seed + cc_i)) $cc_wbs &&
		  $CHK verify $cc_d/$cc_name-$cc_i $((cc_size + cc_i)) $((cc_seed + cc_i)) $cc_rbs ) \
			>/tmp/$cc_name-$cc_i.log 2>&1 &
		cc_pids="$cc_pids $!"
		cc_i=$((cc_i + 1))
	done
	cc_fails=0
	for cc_p in $cc_pids; do wait $cc_p || cc_fails=$((cc_fails + 1)); done
	[ $cc_fails -eq 0 ] || cat /tmp/$cc_name-*.log | diag
	rm -f /tmp/$cc_name-*.log
	return $cc_fails
}

# offset_roundtrip FILE SIZE OFFSET WBLOCK RBLOCK: FILE written (SIZE bytes
# of the stream seeded OFFSET) in WBLOCK-byte calls and verified in
# RBLOCK-byte calls, from buffers at page offset OFFSET; on failure
# zc9p-check's output goes out as diagnostics.
offset_roundtrip() {
	ZC9P_BUF_OFFSET=$3 $CHK write $1 $2 $3 $4 >/tmp/mis.out 2>&1 &&
		ZC9P_BUF_OFFSET=$3 $CHK verify $1 $2 $3 $5 >>/tmp/mis.out 2>&1 && return 0
	diag </tmp/mis.out
	return 1
}

# virtio_pass ZC: loads zc9p_virtio with zerocopy=ZC for a pass of a
# program's tests (one result), setting ZC, OPTS and P, the pass's label.
virtio_pass() {
	ZC=$1
	OPTS="zerocopy=$ZC"
	P="[zc=$ZC]"
	check "$P insmod zc9p_virtio.ko $OPTS ($(basename "$0"))" insmod $MOD $OPTS
}

# ksft_begin [SCRIPT...]: the program's preconditions hold; its tests begin
# (the TAP header; tap.sh's helpers), with the helpers of SCRIPT.sh in this
# folder for each SCRIPT, sourced in that order (each says what it needs).
ksft_begin() {
	. "$ZC9P_DIR/tap.sh"
	for ksft_script; do
		# shellcheck source=/dev/null # each program names its own
		. "$ZC9P_DIR/$ksft_script.sh"
	done
	# shellcheck disable=SC2164 # a missing $ZC9P_DIR shows in the tests that follow
	cd "$ZC9P_DIR"
	mkdir -p $A $B $S $H /mnt/c
}

[ "$(id -u)" = 0 ] || skip "not root"
