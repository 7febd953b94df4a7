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

[ "$(id -u)" = 0 ] || skip "not root"
