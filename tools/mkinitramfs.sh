#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build the guest initramfs: busybox, /init, the guest suite as a kselftest
# install in /kselftest (tests/Makefile: the kernel's run_kselftest.sh and its
# helpers, and the zc9p collection, which holds every guest script and
# program; /zc9p is that collection's folder), and the modules there
# (zc9p's and, for comparison runs, the C 9pnet_virtio.ko and 9pnet_fd.ko).
# usage: mkinitramfs.sh OUTPUT.cpio.gz
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=$1
kdir=${KDIR:-$(kernel_build_dir)}
stage=$(mktemp -d)
build=$(mktemp -d)
trap 'rm -rf "$stage" "$build"' EXIT

mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,mnt,etc}
cp /bin/busybox "$stage/bin/busybox"
for applet in $("$stage/bin/busybox" --list); do
	[ -e "$stage/bin/$applet" ] || ln -s busybox "$stage/bin/$applet"
done
cp "$ZC9P_ROOT/tests/guest/init" "$stage/init"
# copy_with_libs BINARY DEST: BINARY at DEST in the initramfs, with the shared
# libraries it needs.
copy_with_libs() {
	mkdir -p "$stage/$(dirname "$2")"
	cp "$1" "$stage/$2"
	for lib in $(ldd "$1" | grep -o '/[^ ]*'); do
		cp --parents -L "$lib" "$stage"
	done
}
# The kselftest install; the guest programs are built into $build.
make -s -C "$ZC9P_ROOT/tests" install INSTALL_PATH="$stage/kselftest" OUTPUT="$build" \
	KSFT_SRC="$(kernel_src)/tools/testing/selftests" >/dev/null
ln -s kselftest/zc9p "$stage/zc9p"
# The runner times each test program out with /usr/bin/timeout --foreground,
# which busybox's timeout does not have: coreutils' (the scripts' own
# `timeout` stays busybox's, first in PATH).
copy_with_libs /usr/bin/timeout /usr/bin/timeout
# zc9p's modules (a suite that needs a missing one fails on its insmod), each
# built in its folder (module_ko).
for m in zc9p_virtio zc9p_fd zc9p_pintest; do
	ko=$(module_ko $m)
	if [ -e "$ko" ]; then cp "$ko" "$stage/zc9p/"; else say "no $ko"; fi
done
# The C transports, for comparison runs in the same boot.
for c9p in 9pnet_virtio 9pnet_fd; do
	ko=$(find "$kdir/net/9p" -name "$c9p.ko" | head -1)
	[ -n "$ko" ] && cp "$ko" "$stage/zc9p/"
done
# The installed modules (tests/guest/modprobe.sh): mainline's 9P transports in
# kernel/net/9p/ and `make install` of zc9p's into extra/, which runs depmod;
# kmod's tools in /usr/lib/zc9p-kmod/ (not /sbin, where the kernel's
# request_module would find them: the other suites expect no module to load by
# itself); the modprobe.d file, which the test installs.
rel=$(cat "$kdir/include/config/kernel.release")
mkdir -p "$stage/lib/modules/$rel/kernel/net/9p" "$stage/etc/modprobe.d"
cp "$kdir"/modules.builtin "$kdir"/modules.builtin.modinfo "$stage/lib/modules/$rel/"
for c9p in 9pnet_virtio 9pnet_fd; do
	[ -e "$stage/zc9p/$c9p.ko" ] || continue
	cp "$stage/zc9p/$c9p.ko" "$stage/lib/modules/$rel/kernel/net/9p/"
	echo "kernel/net/9p/$c9p.ko" >>"$stage/lib/modules/$rel/modules.order"
done
INSTALL_MOD_PATH=$stage bash "$ZC9P_ROOT/tools/install-modules.sh" >/dev/null
copy_with_libs /usr/bin/kmod /usr/lib/zc9p-kmod/kmod
for tool in modprobe modinfo depmod lsmod rmmod insmod; do ln -s kmod "$stage/usr/lib/zc9p-kmod/$tool"; done
cp "$ZC9P_ROOT/tools/modprobe/zc9p.conf" "$stage/zc9p/modprobe-zc9p.conf"
# The fd transports' 9P servers (tests/guest/fdsuite.sh): diod (Debian's,
# tools/setup.sh installs it) and unpfs (crates.io, built by tools/setup.sh).
[ -x /usr/sbin/diod ] || { echo "error: no /usr/sbin/diod: run tools/setup.sh" >&2; exit 1; }
copy_with_libs /usr/sbin/diod /usr/sbin/diod
# socat (Debian's) puts a 9P server on a unix socket behind a vsock listener,
# for trans=vsock (tests/guest/vsock.sh).
[ -x /usr/bin/socat ] || { echo "error: no /usr/bin/socat: run tools/setup.sh" >&2; exit 1; }
copy_with_libs /usr/bin/socat /usr/bin/socat
if [ -x "$ZC9P_CACHE/unpfs/bin/unpfs" ]; then
	copy_with_libs "$ZC9P_CACHE/unpfs/bin/unpfs" /usr/bin/unpfs
else
	say "no $ZC9P_CACHE/unpfs/bin/unpfs (tools/setup.sh builds it): the guest runs no unpfs"
fi
# lawn-9p's server (tests/lawn9p/, built by tools/setup.sh): 9P2000 and
# 9P2000.u for tests/guest/versions.sh.
if [ -x "$ZC9P_CACHE/lawn9p/bin/zc9p-lawn9p" ]; then
	copy_with_libs "$ZC9P_CACHE/lawn9p/bin/zc9p-lawn9p" /usr/bin/zc9p-lawn9p
else
	say "no $ZC9P_CACHE/lawn9p/bin/zc9p-lawn9p (tools/setup.sh builds it): the guest runs no lawn-9p"
fi
# stress-ng (for `make soak`) with the shared libraries it needs.
if [ -n "${ZC9P_WITH_STRESS_NG:-}" ] && [ -x /usr/bin/stress-ng ]; then
	cp /usr/bin/stress-ng "$stage/usr/bin/"
	for lib in $(ldd /usr/bin/stress-ng | grep -o '/[^ ]*'); do
		cp --parents -L "$lib" "$stage"
	done
fi
# pjdfstest (for `make conformance`), its libraries and the users it switches to.
if [ -n "${ZC9P_WITH_PJDFSTEST:-}" ]; then
	cp "$ZC9P_WITH_PJDFSTEST" "$stage/usr/bin/pjdfstest"
	for lib in $(ldd "$ZC9P_WITH_PJDFSTEST" | grep -o '/[^ ]*'); do
		cp --parents -L "$lib" "$stage"
	done
fi
# perf (for `make profile`) with its libraries; the profile kernel's symbols
# come from /proc/kallsyms.
if [ -n "${ZC9P_WITH_PERF:-}" ]; then
	cp /usr/bin/perf "$stage/usr/bin/perf"
	for lib in $(ldd /usr/bin/perf | grep -o '/[^ ]*'); do
		cp --parents -L "$lib" "$stage"
	done
fi
# Name lookups from files only (diod resolves its clients' addresses).
printf 'passwd: files\ngroup: files\nhosts: files\n' >"$stage/etc/nsswitch.conf"
printf '127.0.0.1 localhost\n10.0.2.15 guest\n10.0.2.2 host\n' >"$stage/etc/hosts"
printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\ntests:x:1000:1000:tests:/:/bin/false\n' >"$stage/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\ntests:x:1000:\n' >"$stage/etc/group"
chmod +x "$stage/init" "$stage"/zc9p/*.sh
(cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) >"$out"
