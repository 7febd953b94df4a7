#!/bin/sh
# `make conformance` guest side: pjdfstest on a share mounted through the C
# 9pnet_virtio and through zc9p_virtio (zerocopy=1), in the same boot. Every
# test's outcome goes to the second serial port as "PJD transport name result".
exec 3>/dev/ttyS1
mkdir -p /mnt/a
for t in c zc1; do
	case $t in
	c) insmod /zc9p/9pnet_virtio.ko ;;
	zc1) insmod /zc9p/zc9p_virtio.ko zerocopy=1 ;;
	esac
	if mount -t 9p -o trans=virtio,version=9p2000.L zc9p0 /mnt/a; then
		mkdir -p /mnt/a/pjd-$t
		cd /mnt/a/pjd-$t
		/usr/bin/pjdfstest -c /zc9p/pjdfstest.toml -p /mnt/a/pjd-$t >/tmp/pjd-$t.log 2>&1
		echo "PJD-EXIT $t $?" >&3
		cd /
		sed -n 's/^\([a-z0-9_:]*\)  *\(ok\|FAILED\|skipped\)$/PJD '$t' \1 \2/p' /tmp/pjd-$t.log >&3
		umount /mnt/a
	else
		echo "PJD-EXIT $t mount-failed" >&3
	fi
	case $t in
	c) rmmod 9pnet_virtio ;;
	*) rmmod zc9p_virtio ;;
	esac
done
echo "PJD-DONE" >&3
