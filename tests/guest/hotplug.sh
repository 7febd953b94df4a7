# SPDX-License-Identifier: GPL-2.0
# Hot-unplug and re-plug of a 9P device through QEMU's monitor (sourced by
# zc9p_hotplug.sh; hostctl.sh asks the host to run QMP device_del/device_add).
# Share 4 (tag zc9p4) is kept for this. Removal must finish without waiting
# for the unmount: a mounted share then fails I/O with EIO, unmounts, and the
# re-plugged device mounts again with its data intact.

. $ZC9P_DIR/hostctl.sh

# tag_present TAG: some bound virtio device has this mount tag.
tag_present() {
	for t in /sys/bus/virtio/devices/*/mount_tag; do
		[ -e "$t" ] && [ "$(tr -d '\0' <$t)" = "$1" ] && return 0
	done
	return 1
}

# wait_tag TAG SECS: waits until a device with TAG is bound.
wait_tag() {
	limit=$(( $(uptime_cs) + $2 * 100 ))
	until tag_present $1; do
		[ "$(uptime_cs)" -lt $limit ] || return 1
		usleep 50000
	done
}

replug() { hostctl device_add 4 >/dev/null && wait_tag zc9p4 60; }

hotplug_test() { # MOUNTPOINT
	H=$1
	check "$P hot-unplug of an idle device" hostctl device_del 4
	check "$P its tag is gone" sh -c "! tag_present zc9p4"
	check "$P hot-plug brings the tag back" replug

	expect "$P mount the re-plugged device" OK mount9p zc9p4 $H version=9p2000.L,msize=512000
	check "$P write a file on it" $CHK write $H/hp-$ZC $MIB 55
	check "$P hot-unplug while mounted completes" hostctl device_del 4
	expect "$P I/O on the mount then fails with EIO" EIO $CHK ioerr $H/hp-$ZC 65536
	check "$P unmount after the device is gone" umount $H
	check "$P hot-plug again" replug
	expect "$P mount again" OK mount9p zc9p4 $H version=9p2000.L,msize=512000
	check "$P the file written before the unplug is intact" $CHK verify $H/hp-$ZC $MIB 55

	# Under concurrent I/O: every process ends (with an error), none hangs.
	pids=
	for i in 1 2 3 4; do
		( k=0
		  while [ $k -lt 1000 ]; do
			$CHK write $H/busy-$i $((2 * MIB)) $i $((i * 65536)) &&
				$CHK verify $H/busy-$i $((2 * MIB)) $i 4096 || exit 0
			k=$((k + 1))
		  done ) >/dev/null 2>&1 &
		pids="$pids $!"
	done
	sleep 2
	check "$P hot-unplug under concurrent I/O completes" hostctl device_del 4
	wait_gone 60 $pids
	tap $? "$P the 4 busy processes end (with errors), none hangs"
	check "$P unmount after the busy unplug" umount $H
	check "$P hot-plug after the busy unplug" replug
	expect "$P mount after the busy unplug" OK mount9p zc9p4 $H version=9p2000.L,msize=512000
	check "$P file tests on the re-plugged share" \
		sh -c "$CHK write $H/after-$ZC $((4 * MIB)) 66 $MIB && $CHK verify $H/after-$ZC $((4 * MIB)) 66 4096 &&
		       $CHK verify $H/hp-$ZC $MIB 55 && mkdir -p $H/d-$ZC && rmdir $H/d-$ZC"
	check "$P unmount" umount $H
}
