# SPDX-License-Identifier: GPL-2.0
# Sourced by the collection's test programs (zc9p_virtio.sh, zc9p_fd.sh) once
# they have set ZC9P_DIR, their folder: where the modules are (ZC9P_MODDIR,
# default that folder), the kernel's KTAP helpers, and the skips every part
# shares (KSFT_SKIP: not root, a module missing).
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

# parts_with_hostile PARTS: exports TEST_PARTS, PARTS and, when the kernel
# command line has zc9p.hostile=1, the hostile part (zc9p_fd against
# zc9p-hostile: tests/guest/hostile.sh), whose modules it then needs.
# tools/run-tests.sh gives that part to the dma guest, or to the fd guest
# when the dma guest is not in the run.
parts_with_hostile() {
	TEST_PARTS=$1
	case " $(cat /proc/cmdline) " in
	*" zc9p.hostile=1 "*)
		need_modules zc9p_fd 9pnet_fd
		for m in zc9p_fd 9pnet_fd; do
			! grep -q "^$m " /proc/modules || skip "$m is loaded: the hostile part loads and unloads it"
		done
		TEST_PARTS="$1 hostile" ;;
	esac
	export TEST_PARTS
}

# need_virtio_tags TAG...: skips unless a virtio 9P device has each mount tag.
# The tags are in each device's config space, which only a bound driver shows:
# zc9p_virtio is loaded to look (an insmod that fails is the suite's first
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

[ "$(id -u)" = 0 ] || skip "not root"
