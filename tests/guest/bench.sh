#!/bin/sh
# The guest side of `make bench`: the same workload on C 9pnet_virtio,
# zc9p_virtio zerocopy=0 and zerocopy=1 (repetitions interleaved, so drift hits
# all alike), on cache=none mounts of zc9p0, plus guest tmpfs as the ceiling
# and virtio-fs (tag vfs, virtiofsd cache=none) when the host provides it.
# Result lines go to the second serial port:
#   RESULT transport msize rep workload bs bytes ops ns cpu_ticks
exec 3>/dev/ttyS1
B=/zc9p/zc9p-bench
REPS=${REPS:-3}
SIZES="1 32 128 512 1024 2048 4096 16384 65536 262144 1048576"
SECS=${SECS:-1.2}
MAXB=$((48 * 1048576))
mkdir -p /mnt/a /mnt/v
CLK=$(getconf CLK_TCK 2>/dev/null || echo 100)
echo "CLK_TCK $CLK" >&3

. /zc9p/transports.sh

run_points() { # TRANSPORT MSIZE REP DIR
	for bs in $SIZES; do
		f=$4/bench-$1-$bs
		r=$($B seq write $f $bs $MAXB $SECS) && echo "RESULT $1 $2 $3 write $bs $r" >&3
		r=$($B seq read $f $bs $MAXB $SECS) && echo "RESULT $1 $2 $3 read $bs $r" >&3
		[ $bs = 4096 ] || rm -f $f
	done
	r=$($B rand $4/bench-$1-4096 4096 4 $SECS) && echo "RESULT $1 $2 $3 rand4k 4096 $r" >&3
	rm -f $4/bench-$1-4096
}

for rep in $(seq 1 $REPS); do
	for msize in 512000 131072; do
		for t in c zc0 zc1; do
			load $t || { echo "# load $t failed" >&3; exit 1; }
			if mount -t 9p -o trans=virtio,version=9p2000.L,cache=none,msize=$msize zc9p0 /mnt/a; then
				run_points $t $msize $rep /mnt/a
				umount /mnt/a
			else
				echo "# mount failed for $t msize $msize" >&3
			fi
			unload $t || { echo "# unload $t failed" >&3; exit 1; }
		done
	done
	run_points tmpfs 0 $rep /tmp
	if mount -t virtiofs vfs /mnt/v 2>/dev/null; then
		run_points virtiofs 0 $rep /mnt/v
		umount /mnt/v
	fi
done
echo "BENCH-DONE" >&3
