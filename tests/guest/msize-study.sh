#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The guest side of tools/msize-curve.sh: zc9p_virtio (zerocopy=1) at each of
# MSIZES, beside virtio-fs when the host provides it (tags vfs, cache=none,
# and vfsl, cache=always), in one boot, so the ratios are comparable.
#
# Per msize and share: cache=none sequential writes and reads in 1 MiB and
# 4 MiB calls (up to MAXB bytes or SECS seconds), and cache=loose write +
# fsync of a CACHE_BYTES file (whole, however long it takes) in 1 MiB and
# 4 MiB calls. Every point has its own mount, announced before it is made:
#   MOUNT n share msize cache
# so the host can cut QEMU's trace (v9fs_version, one per mount) into points.
# Results go to the second serial port:
#   RESULT share msize rep cache workload bs bytes ops ns cpu_ticks
# (share: zc9pN, or vfs for virtio-fs; msize 0 for virtio-fs). The order of
# the msizes is reversed every other repetition, virtio-fs first on odd
# repetitions and last on even ones, so drift hits all alike.
exec 3>/dev/ttyS1
B=/zc9p/zc9p-bench
REPS=${REPS:-3}
SECS=${SECS:-1.0}
# (Lists come from the kernel command line with commas for spaces.)
MSIZES=$(echo ${MSIZES:-1048600,2097176,4182040} | tr , ' ')
SHARES=$(echo ${SHARES:-zc9p0} | tr , ' ')
MAXB=${MAXB:-$((96 * 1048576))}
CACHE_BYTES=$((32 * 1048576))
SIZES="1048576 4194304"
mkdir -p /mnt/a /mnt/v
T0=$(date +%s)
echo "# msize-study: REPS=$REPS SECS=$SECS MAXB=$MAXB MSIZES=$MSIZES SHARES=$SHARES" >&3
. /zc9p/transports.sh

nmount=0
mnt9p() { # SHARE MSIZE CACHE
	nmount=$((nmount + 1))
	echo "MOUNT $nmount $1 $2 $3" >&3
	mount -t 9p -o trans=virtio,version=9p2000.L,cache=$3,msize=$2 $1 /mnt/a ||
		{ echo "# mount $1 msize $2 cache=$3 failed" >&3; return 1; }
	grep -q "msize=$2" /proc/mounts || echo "# $1: msize $2 was clamped" >&3
}

none_points() { # SHARE MSIZE REP
	for bs in $SIZES; do
		f=/mnt/a/none-$bs
		mnt9p $1 $2 none || return
		r=$($B seq write $f $bs $MAXB $SECS) && echo "RESULT $1 $2 $3 none write $bs $r" >&3
		umount /mnt/a
		mnt9p $1 $2 none || return
		r=$($B seq read $f $bs $MAXB $SECS) && echo "RESULT $1 $2 $3 none read $bs $r" >&3
		rm -f $f
		umount /mnt/a
	done
}

loose_points() { # SHARE MSIZE REP
	for bs in $SIZES; do
		f=/mnt/a/loose-$bs
		mnt9p $1 $2 loose || return
		r=$(ZC9P_BENCH_FSYNC=1 $B seq write $f $bs $CACHE_BYTES 600) &&
			echo "RESULT $1 $2 $3 loose wfsync $bs $r" >&3
		rm -f $f
		umount /mnt/a
		sync
		echo 3 >/proc/sys/vm/drop_caches
	done
}

vfs_points() { # REP
	if mount -t virtiofs vfs /mnt/v 2>/dev/null; then
		for bs in $SIZES; do
			f=/mnt/v/none-$bs
			r=$($B seq write $f $bs $MAXB $SECS) && echo "RESULT vfs 0 $1 none write $bs $r" >&3
			r=$($B seq read $f $bs $MAXB $SECS) && echo "RESULT vfs 0 $1 none read $bs $r" >&3
			rm -f $f
		done
		umount /mnt/v
	fi
	if mount -t virtiofs vfsl /mnt/v 2>/dev/null; then
		for bs in $SIZES; do
			f=/mnt/v/loose-$bs
			r=$(ZC9P_BENCH_FSYNC=1 $B seq write $f $bs $CACHE_BYTES 600) &&
				echo "RESULT vfs 0 $1 loose wfsync $bs $r" >&3
			rm -f $f
		done
		umount /mnt/v
		sync
		echo 3 >/proc/sys/vm/drop_caches
	fi
}

load zc1 || { echo "# load zc1 failed" >&3; echo "STUDY-DONE" >&3; exit 1; }
for rep in $(seq 1 $REPS); do
	list=$MSIZES
	[ $((rep % 2)) = 0 ] && list=$(echo $MSIZES | tr ' ' '\n' | sort -rn | tr '\n' ' ')
	[ $((rep % 2)) = 1 ] && vfs_points $rep
	for share in $SHARES; do
		for msize in $list; do
			none_points $share $msize $rep
			loose_points $share $msize $rep
		done
	done
	[ $((rep % 2)) = 0 ] && vfs_points $rep
	echo "# time rep $rep $(( $(date +%s) - T0 ))s" >&3
done
for s in /sys/kernel/debug/zc9p_virtio/*/stats; do
	[ -e "$s" ] && sed "s|^|# $s: |" "$s" >&3
done
unload zc1
echo "STUDY-DONE" >&3
