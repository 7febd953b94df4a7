#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# kselftest zc9p:zc9p_modprobe.sh: zc9p's modules installed like any kernel
# module (modprobe.sh): modprobe, modinfo, zc9p.conf's aliases, udev's
# modalias and the kernel's request_module, per transport: those named by
# zc9p.modprobe=virtio,fd on the kernel command line, or else fd, and virtio
# where a virtio 9P device is there. Skips (KSFT_SKIP) without kmod's tools
# in /usr/lib/zc9p-kmod (tools/mkinitramfs.sh) or zc9p's modules installed.
. "$(dirname "$0")/ksft_prelude.sh"
need_file /usr/lib/zc9p-kmod/modprobe "kmod's modprobe, as tools/mkinitramfs.sh installs it"
need_file "/lib/modules/$(uname -r)/${ZC9P_INSTALLED_DIR:-extra}" "zc9p's installed modules"
transports=$(cmdline_value zc9p.modprobe | tr , ' ')
if [ -z "$transports" ]; then
	transports=fd
	grep -qs '^virtio:d00000009v' /sys/bus/virtio/devices/*/modalias && transports="virtio fd"
fi
for t in $transports; do
	case $t in
	virtio) need_unloaded zc9p_virtio 9pnet_virtio ;;
	fd) need_unloaded zc9p_fd 9pnet_fd ;;
	*) skip "zc9p.modprobe: unknown transport '$t'" ;;
	esac
done
ksft_begin modprobe

for t in $transports; do
	modprobe_suite "$t"
done
tap_exit
