#!/bin/sh
# zc9p guest test suite (TAP). Run by /init with zc9p.run=run-tests.sh.
# Host shares: zc9p0 (holds big/ with 5000 entries made by the host) and zc9p1.
. /zc9p/tap.sh
cd /zc9p
CHK=/zc9p/zc9p-check
MOD=/zc9p/zc9p_virtio.ko
A=/mnt/a
B=/mnt/b
mkdir -p $A $B /mnt/c
KIB=1024
MIB=1048576
SIZES="0 1 4095 4096 4097 $MIB $((64 * MIB))"

mount9p() { # TAG DIR [OPTIONS]
	$CHK mount "$1" "$2" "trans=virtio${3:+,$3}"
}

loaded() { grep -q '^zc9p_virtio ' /proc/modules; }

# Plain 9P2000 depends on the server: QEMU's answers Tversion "9P2000" with
# "unknown", so no transport can mount it there. Ask the C transport first and
# hold zc9p to the same outcome below.
insmod /zc9p/9pnet_virtio.ko
c_9p2000=$(mount9p zc9p0 /mnt/c version=9p2000)
[ "$c_9p2000" = OK ] && umount /mnt/c
rmmod 9pnet_virtio
PROTOS="9p2000.L 9p2000.u"
[ "$c_9p2000" = OK ] && PROTOS="$PROTOS 9p2000"

check "insmod zc9p_virtio.ko" insmod $MOD
check "module is registered" loaded
ndev=$(ls /sys/bus/virtio/drivers/zc9p_virtio 2>/dev/null | grep -c '^virtio')
expect "both 9P devices bound to zc9p_virtio" 2 echo "$ndev"
tags=$(cat /sys/bus/virtio/drivers/zc9p_virtio/virtio*/mount_tag | tr '\0' ' ')
expect "mount_tag attributes name both shares" "zc9p0 zc9p1 " echo "$tags"

# File round trips under each protocol version; files stay for the host check.
# Under 9p2000.u and 9p2000, fsync (a blank Twstat) never completes against
# QEMU's server with mainline's 9pnet_virtio as well as with zc9p, so the
# legacy runs write without fsync.
for proto in $PROTOS; do
	unset ZC9P_NO_FSYNC
	[ $proto = 9p2000.L ] || export ZC9P_NO_FSYNC=1
	expect "mount zc9p0 with version=$proto" OK mount9p zc9p0 $A "version=$proto"
	if ! grep -q " $A 9p " /proc/mounts; then
		tap 1 "$proto: file tests (not mounted)"
		continue
	fi
	for size in $SIZES; do
		f=$A/rt-$proto-$size
		check "$proto: write+read $size bytes, content verified" \
			sh -c "$CHK write $f $size $size && $CHK verify $f $size $size 4096"
	done
	check "$proto: unmount" umount $A
done
unset ZC9P_NO_FSYNC
[ "$c_9p2000" = OK ] ||
	expect "version=9p2000 fails as under 9pnet_virtio ($c_9p2000)" "$c_9p2000" \
		mount9p zc9p0 $A version=9p2000

expect "mount zc9p0 (9p2000.L)" OK mount9p zc9p0 $A version=9p2000.L
expect "mount zc9p1 at the same time" OK mount9p zc9p1 $B version=9p2000.L
check "second share: 1 MiB round trip" \
	sh -c "$CHK write $B/second $MIB 77 && $CHK verify $B/second $MIB 77"
expect "mounting zc9p0 twice fails with EBUSY" EBUSY mount9p zc9p0 /mnt/c version=9p2000.L
expect "mounting an unknown tag fails with ENOENT" ENOENT mount9p nosuchtag /mnt/c version=9p2000.L

# Directories.
expect "readdir of a 5000-entry directory made on the host" 5000 $CHK countdir $A/big
check "create 5000 files in the guest" sh -c "mkdir $B/made && $CHK mkfiles $B/made 5000"
expect "readdir of the 5000 files made in the guest" 5000 $CHK countdir $B/made

# Namespace operations.
cd $A
check "mkdir" mkdir d1
check "stat of a directory" sh -c '[ "$(stat -c %F d1)" = directory ]'
check "rename a directory" sh -c 'mv d1 d2 && [ -d d2 ] && [ ! -e d1 ]'
check "rmdir" sh -c 'rmdir d2 && [ ! -e d2 ]'
check "create + rename a file" sh -c "$CHK write f1 5000 1 && mv f1 f2 && $CHK verify f2 5000 1"
check "symlink + readlink" sh -c 'ln -s f2 l1 && [ "$(readlink l1)" = f2 ]'
check "read through a symlink" $CHK verify l1 5000 1
check "stat size" sh -c '[ "$(stat -c %s f2)" = 5000 ]'
check "truncate down keeps the prefix" sh -c "truncate -s 100 f2 && $CHK verify f2 100 1"
check "truncate up reads zeros" sh -c 'truncate -s 200 f2 && [ "$(stat -c %s f2)" = 200 ] && [ "$(dd if=f2 bs=1 skip=100 count=100 2>/dev/null | tr -d "\0" | wc -c)" = 0 ]'
check "unlink" sh -c 'rm f2 l1 && [ ! -e f2 ] && [ ! -L l1 ]'
check "hard link" sh -c "$CHK write h1 10 3 && ln h1 h2 && [ \$(stat -c %h h1) = 2 ] && rm h1 h2"
cd /

# Concurrency: 8 processes, each writing and verifying its own file.
pids=
for i in 1 2 3 4 5 6 7 8; do
	d=$A; [ $((i % 2)) -eq 0 ] && d=$B
	( $CHK write $d/par-$i $((4 * MIB + i)) $i 8192 &&
	  $CHK verify $d/par-$i $((4 * MIB + i)) $i 12288 ) >/tmp/par-$i.log 2>&1 &
	pids="$pids $!"
done
fails=0
for p in $pids; do wait $p || fails=$((fails + 1)); done
[ $fails -eq 0 ] || cat /tmp/par-*.log | diag
tap $fails "8 concurrent writer+reader processes on both shares"

# Device removal waits for the mount: unbind zc9p1's device while mounted.
DRV=/sys/bus/virtio/drivers/zc9p_virtio
dev1=
for d in $DRV/virtio*; do
	[ "$(tr -d '\0' <$d/mount_tag)" = zc9p1 ] && dev1=$(basename $d)
done
( echo $dev1 >$DRV/unbind; echo done >/tmp/unbind.done ) &
unbind_pid=$!
sleep 2
check "unbinding a mounted device waits for the unmount" \
	sh -c "[ ! -e /tmp/unbind.done ] && [ -e /sys/bus/virtio/devices/$dev1/mount_tag ]"
check "the mount still works while removal waits" $CHK verify $B/second $MIB 77
check "unmount lets the removal finish" sh -c "umount $B && wait $unbind_pid; for i in 1 2 3 4 5 6 7 8 9 10; do [ -e /tmp/unbind.done ] && break; sleep 1; done; [ -e /tmp/unbind.done ] && [ ! -e /sys/bus/virtio/devices/$dev1/mount_tag ]"
expect "a removed device's tag no longer mounts" ENOENT mount9p zc9p1 $B version=9p2000.L
check "rebinding the device" sh -c "echo $dev1 >$DRV/bind && [ \"\$(tr -d '\\0' <$DRV/$dev1/mount_tag)\" = zc9p1 ]"
expect "the rebound device mounts again" OK mount9p zc9p1 $B version=9p2000.L
check "data on the rebound share is intact" $CHK verify $B/second $MIB 77

# Module lifetime.
if ! rmmod zc9p_virtio >/tmp/rmmod.out 2>&1 && loaded; then
	tap 0 "rmmod refused while mounted"
else
	tap 1 "rmmod refused while mounted"
fi
check "unmount both shares" sh -c "umount $A && umount $B"
check "rmmod after unmount" sh -c "rmmod zc9p_virtio && ! grep -q '^zc9p_virtio ' /proc/modules"
cycles=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	insmod $MOD && mount9p zc9p0 $A version=9p2000.L >/dev/null && umount $A &&
		rmmod zc9p_virtio && cycles=$((cycles + 1))
done
expect "10 cycles of insmod + mount + umount + rmmod" 10 echo $cycles
check "insmod again" insmod $MOD
expect "mount again after the cycles" OK mount9p zc9p0 $A version=9p2000.L
check "data written before the cycles is intact" $CHK verify $A/rt-9p2000.L-$MIB $MIB $MIB
check "final unmount" umount $A
check "final rmmod" rmmod zc9p_virtio

tap_plan_end
