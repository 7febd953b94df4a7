#!/bin/sh
# The main job's guest side: load zc9p, mount the host folder, show a round trip.
set -e
echo "=== zc9p demo: insmod zc9p_virtio.ko"
insmod /zc9p/zc9p_virtio.ko
echo "=== mount -t 9p -o trans=virtio,version=9p2000.L zc9p0 /mnt"
mount -t 9p -o trans=virtio,version=9p2000.L zc9p0 /mnt
grep ' /mnt ' /proc/mounts
echo "=== the host folder, as the guest sees it"
ls -l /mnt
echo "=== reading the host's file:"
cat /mnt/from-host.txt
echo "=== writing /mnt/from-guest.txt"
echo "hello from the guest, kernel $(uname -r), through zc9p_virtio" >/mnt/from-guest.txt
/zc9p/zc9p-check write /mnt/from-guest.bin 1048576 42
/zc9p/zc9p-check verify /mnt/from-guest.bin 1048576 42 && echo "1 MiB written and read back: content verified"
umount /mnt
rmmod zc9p_virtio
echo "=== unmounted and unloaded"
