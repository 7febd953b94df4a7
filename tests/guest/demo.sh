#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The main job's guest side: load zc9p, mount the host folder, show a round trip.
# Output goes to the second serial port, which the host prints.
exec >/dev/ttyS1 2>&1
set -e
echo "=== insmod zc9p_virtio.ko"
insmod /zc9p/zc9p_virtio.ko
for d in /sys/bus/virtio/drivers/zc9p_virtio/virtio*; do
	echo "$(basename $d): 9P device with mount tag '$(tr -d '\0' <$d/mount_tag)', driver zc9p_virtio"
done
echo "=== mount -t 9p -o trans=virtio,version=9p2000.L zc9p0 /mnt"
mount -t 9p -o trans=virtio,version=9p2000.L zc9p0 /mnt
grep ' /mnt ' /proc/mounts
echo "=== ls -l /mnt (the host folder)"
ls -l /mnt
echo "=== cat /mnt/from-host.txt"
cat /mnt/from-host.txt
echo "=== writing /mnt/from-guest.txt and a 1 MiB file"
echo "hello from the guest (kernel $(uname -r)), through zc9p_virtio" >/mnt/from-guest.txt
/zc9p/zc9p-check write /mnt/from-guest.bin 1048576 42
/zc9p/zc9p-check verify /mnt/from-guest.bin 1048576 42 4096
echo "1 MiB written and read back in the guest: content verified"
umount /mnt
rmmod zc9p_virtio
echo "=== unmounted and unloaded"
