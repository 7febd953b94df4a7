#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The guest side of `make bench`, in two parts (BENCH_PARTS, default virtio,fd).
#
# virtio: the same workload on C 9pnet_virtio, zc9p_virtio zerocopy=0 and
# zerocopy=1 (repetitions interleaved, so drift hits all alike), on cache=none
# mounts of zc9p0, plus guest tmpfs as the ceiling and virtio-fs (tag vfs,
# virtiofsd cache=none) when the host provides it.
#
# The virtio part also measures cached mounts (CACHE_SIZES): cache=loose on C
# (msize 512000) and zc9p zerocopy=1 (512000 and its maximum) beside virtio-fs
# with its matching cache mode (tag vfsl, virtiofsd cache=always): a file of
# CACHE_BYTES written and fsync()ed, read cold (after dropping the guest's
# caches) and read again warm.
#
# fd: C 9pnet_fd, zc9p_fd zerocopy=0 and zerocopy=1 (only one of the two
# modules is loaded at a time: they register the same transport names) over
# cache=none mounts of 9P servers running in this guest, all exporting one
# folder on its tmpfs: diod over tcp and over a unix socket (diod caps msize at
# 65536), the unix socket's diod over vsock (CID 1, through socat's
# VSOCK-LISTEN; zc9p_fd only: mainline has no trans=vsock), and unpfs over tcp
# at msize 512000 and 1048576 (it takes the client's msize) when the
# initramfs has it.
#
# Result lines go to the second serial port:
#   RESULT transport msize rep workload bs bytes ops ns cpu_ticks
#   FDRESULT module trans server msize rep workload bs bytes ops ns cpu_ticks server_ticks
#   FDSTAT module trans server msize rep workload bs zc_requests copy_requests spliced_sends frames_sent
# (cpu_ticks: the whole guest's busy time, server included; server_ticks: the
# 9P server process's own; FDSTAT: zc9p_fd's counters over the point.)
# REPS, SECS (virtio) and FD_REPS, FD_SECS (fd) tune the run; the host passes
# them on the kernel command line, which gives them to /init's environment.
exec 3>/dev/ttyS1
B=/zc9p/zc9p-bench
CHK=/zc9p/zc9p-check
REPS=${REPS:-3}
SECS=${SECS:-1.0}
FD_REPS=${FD_REPS:-$REPS}
FD_SECS=${FD_SECS:-0.8}
PARTS=${BENCH_PARTS:-virtio,fd}
# Sizes in groups ("|" between them): each group runs on every transport in
# turn before the next starts, so a change of load on the host (other guests)
# hits the three transports of a point alike.
SIZES="1 32 128|512 1024 2048|4096 16384|65536 262144 1048576|4194304"
# msize 131072 changes nothing for requests that fit either way.
SIZES_131072="4096 16384|65536 262144 1048576"
FD_SIZES="1 512|4096 65536|1048576"
# zc9p alone at msizes past mainline's 512000 cap (C and zerocopy=0 clamp to
# it): 1 MiB + 24 and zc9p_virtio's maximum, 1021 pages + 24.
LARGE_MSIZES="1048600 4182040"
LARGE_SIZES="262144 1048576 4194304"
# What a mount without msize= gets (9P's 131096 on C, zc9p_virtio's
# default_msize), the point's msize being the one negotiated.
NOMSIZE_SIZES="4096 65536 1048576 4194304"
MAXB=$((48 * 1048576))
CACHE_SIZES="262144 1048576 4194304"
CACHE_BYTES=$((32 * 1048576))
CACHE_SECS=${CACHE_SECS:-4}
MSIZE_MAX=4182040
mkdir -p /mnt/a /mnt/v
CLK=$(getconf CLK_TCK 2>/dev/null || echo 100)
echo "CLK_TCK $CLK" >&3
echo "# parts $PARTS; virtio: REPS=$REPS SECS=$SECS; fd: FD_REPS=$FD_REPS FD_SECS=$FD_SECS" >&3
T0=$(date +%s)
elapsed() { echo "# time $1 $(( $(date +%s) - T0 ))s" >&3; }

. /zc9p/transports.sh

# groups SIZES: one line per group, its sizes separated by spaces.
groups() { echo "$1" | tr '|' '\n'; }

# order REP: the transports' order in repetition REP (reversed every other one).
order() { if [ $(($1 % 2)) = 1 ]; then echo "c zc0 zc1"; else echo "zc1 zc0 c"; fi; }

run_points() { # TRANSPORT MSIZE REP DIR SIZES (with 4096: the random reads too)
	for bs in $5; do
		f=$4/bench-$1-$bs
		r=$($B seq write $f $bs $MAXB $SECS) && echo "RESULT $1 $2 $3 write $bs $r" >&3
		r=$($B seq read $f $bs $MAXB $SECS) && echo "RESULT $1 $2 $3 read $bs $r" >&3
		[ $bs = 4096 ] || rm -f $f
	done
	case " $5 " in *" 4096 "*)
		r=$($B rand $4/bench-$1-4096 4096 4 $SECS) && echo "RESULT $1 $2 $3 rand4k 4096 $r" >&3
		rm -f $4/bench-$1-4096 ;;
	esac
}

# cache_points NAME MSIZE REP DIR: write + fsync, cold read, warm read.
cache_points() {
	for bs in $CACHE_SIZES; do
		f=$4/cache-$1-$bs
		r=$(ZC9P_BENCH_FSYNC=1 $B seq write $f $bs $CACHE_BYTES $CACHE_SECS) &&
			echo "RESULT $1 $2 $3 wfsync $bs $r" >&3
		sync
		echo 3 >/proc/sys/vm/drop_caches
		r=$($B seq read $f $bs $CACHE_BYTES $CACHE_SECS) && echo "RESULT $1 $2 $3 coldread $bs $r" >&3
		r=$($B seq read $f $bs $CACHE_BYTES $CACHE_SECS) && echo "RESULT $1 $2 $3 warmread $bs $r" >&3
		rm -f $f
	done
}

# mounted_msize: the msize of the mount on /mnt/a (9P shows none for 131096).
mounted_msize() {
	m=$(sed -n 's|^[^ ]* /mnt/a 9p .*msize=\([0-9]*\).*|\1|p' /proc/mounts)
	echo ${m:-131096}
}

# cache_part REP: the cached mounts (msize 0: none given, "-nomsize" points).
cache_part() {
	list="c:512000 zc1:512000 zc1:$MSIZE_MAX c:0 zc1:0"
	[ $(($1 % 2)) = 0 ] && list="zc1:0 c:0 zc1:$MSIZE_MAX zc1:512000 c:512000"
	for tm in $list; do
		t=${tm%:*} msize=${tm#*:}
		load $t || { echo "# load $t failed" >&3; exit 1; }
		if [ $msize = 0 ]; then
			mount -t 9p -o trans=virtio,version=9p2000.L,cache=loose zc9p0 /mnt/a &&
				cache_points $t-loose-nomsize "$(mounted_msize)" $1 /mnt/a
			umount /mnt/a 2>/dev/null
		elif mount -t 9p -o trans=virtio,version=9p2000.L,cache=loose,msize=$msize zc9p0 /mnt/a; then
			cache_points $t-loose $msize $1 /mnt/a
			umount /mnt/a
		else
			echo "# cache=loose mount failed for $t msize $msize" >&3
		fi
		unload $t || { echo "# unload $t failed" >&3; exit 1; }
	done
	if mount -t virtiofs vfsl /mnt/v 2>/dev/null; then
		cache_points virtiofs-loose 0 $1 /mnt/v
		umount /mnt/v
	fi
}

virtio_part() {
	for rep in $(seq 1 $REPS); do
		for msize in 512000 131072; do
			sizes=$SIZES
			[ $msize = 131072 ] && sizes=$SIZES_131072
			for group in $(groups "$sizes" | tr ' ' ,); do
				group=$(echo $group | tr , ' ')
				for t in $(order $rep); do
					load $t || { echo "# load $t failed" >&3; exit 1; }
					if mount -t 9p -o trans=virtio,version=9p2000.L,cache=none,msize=$msize zc9p0 /mnt/a; then
						run_points $t $msize $rep /mnt/a "$group"
						umount /mnt/a
					else
						echo "# mount failed for $t msize $msize" >&3
					fi
					unload $t || { echo "# unload $t failed" >&3; exit 1; }
				done
			done
		done
		for msize in $LARGE_MSIZES; do
			load zc1 || { echo "# load zc1 failed" >&3; exit 1; }
			if mount -t 9p -o trans=virtio,version=9p2000.L,cache=none,msize=$msize zc9p0 /mnt/a; then
				grep -q "msize=$msize" /proc/mounts || echo "# zc1: msize $msize was clamped" >&3
				run_points zc1 $msize $rep /mnt/a "$LARGE_SIZES"
				umount /mnt/a
			else
				echo "# mount failed for zc1 msize $msize" >&3
			fi
			unload zc1 || { echo "# unload zc1 failed" >&3; exit 1; }
		done
		# What users run: no msize= at all.
		for t in $(order $rep); do
			[ $t = zc0 ] && continue
			load $t || { echo "# load $t failed" >&3; exit 1; }
			if mount -t 9p -o trans=virtio,version=9p2000.L,cache=none zc9p0 /mnt/a; then
				run_points $t-nomsize "$(mounted_msize)" $rep /mnt/a "$NOMSIZE_SIZES"
				umount /mnt/a
			else
				echo "# mount without msize failed for $t" >&3
			fi
			unload $t || { echo "# unload $t failed" >&3; exit 1; }
		done
		cache_part $rep
		all=$(groups "$SIZES" | tr '\n' ' ')
		run_points tmpfs 0 $rep /tmp "$all"
		if mount -t virtiofs vfs /mnt/v 2>/dev/null; then
			run_points virtiofs 0 $rep /mnt/v "$all"
			umount /mnt/v
		fi
		elapsed "virtio rep $rep"
	done
}

# --- the fd transports ---

FDX=/tmp/fdb        # servers' sockets, pids, logs
FD_EXP=$FDX/export  # what they export
FD_M=/mnt/fd
FD_DBG=/sys/kernel/debug/zc9p_fd

# The servers (servers.sh) keep their pid files and logs in FDX.
. /zc9p/servers.sh
# shellcheck disable=SC2034 # servers.sh's
SRV_DIR=$FDX

fd_load() { # c | zc0 | zc1
	case $1 in
	c) insmod /zc9p/9pnet_fd.ko && m=9pnet_fd ;;
	zc0) insmod /zc9p/zc9p_fd.ko zerocopy=0 && m=zc9p_fd ;;
	zc1) insmod /zc9p/zc9p_fd.ko zerocopy=1 && m=zc9p_fd ;;
	esac || { echo "# insmod for $1 failed" >&3; return 1; }
	grep -q "^$m " /proc/modules || { echo "# $m not loaded for $1" >&3; return 1; }
	[ $1 = c ] && grep -q "^zc9p_fd " /proc/modules && { echo "# zc9p_fd loaded beside 9pnet_fd" >&3; return 1; }
	[ $1 != c ] && grep -q "^9pnet_fd " /proc/modules && { echo "# 9pnet_fd loaded beside zc9p_fd" >&3; return 1; }
	return 0
}

fd_unload() { # c | zc0 | zc1
	m=zc9p_fd
	[ $1 = c ] && m=9pnet_fd
	rmmod $m && ! grep -q "^$m " /proc/modules || { echo "# rmmod $m failed" >&3; return 1; }
}

# fd_counters: "zc_requests copy_requests spliced_sends frames_sent" of
# zc9p_fd's live connection ("- - - -" if there is not exactly one).
fd_counters() {
	n=0 out="- - - -"
	for s in $FD_DBG/*/stats; do
		[ -e $s ] && grep -q '^dead: 0$' $s || continue
		n=$((n + 1))
		out=$(awk -F': ' '{ v[$1] = $2 } END { print v["zc_requests"], v["copy_requests"], v["spliced_sends"], v["frames_sent"] }' $s)
	done
	[ $n = 1 ] && echo "$out" || echo "- - - -"
}

fd_point() { # MOD TRANS SERVER MSIZE REP WORKLOAD BS COMMAND...
	tag="$1 $2 $3 $4 $5 $6 $7"
	shift 7
	[ $mod != c ] && s0=$(fd_counters)
	r=$(ZC9P_BENCH_PID=$srvpid "$@") && echo "FDRESULT $tag $r" >&3
	if [ $mod != c ]; then
		s1=$(fd_counters)
		echo "$s0 $s1" | awk -v t="$tag" '$1 != "-" && $5 != "-" { print "FDSTAT", t, $5 - $1, $6 - $2, $7 - $3, $8 - $4 }' >&3
	fi
}

# fd_config TRANS SERVER MSIZE REP: the points over one mount per module.
fd_config() {
	trans=$1 server=$2 want=$3 rep=$4
	case $server in
	diod) srvpid=$(cat $FDX/diod-$trans.pid)
	      opts="version=9p2000.L,cache=none,msize=$want,uname=root,access=user,aname=$FD_EXP" ;;
	unpfs) srvpid=$(cat $FDX/unpfs-$trans.pid)
	       opts="version=9p2000.L,cache=none,msize=$want" ;;
	esac
	case $trans:$server in
	tcp:diod) src=127.0.0.1 opts="trans=tcp,port=564,$opts" ;;
	unix:diod) src=$FDX/diod.sock opts="trans=unix,$opts" ;;
	# The unix socket's diod, through socat's vsock listener (CID 1: loopback).
	vsock:diod) src=1 opts="trans=vsock,port=564,$opts" srvpid=$(cat $FDX/diod-unix.pid) ;;
	tcp:unpfs) src=127.0.0.1 opts="trans=tcp,port=5640,$opts" ;;
	esac
	for group in $(groups "$FD_SIZES" | tr ' ' ,); do
		group=$(echo $group | tr , ' ')
		for mod in $(order $rep); do
			[ $trans = vsock ] && [ $mod = c ] && continue # mainline has no vsock transport
			fd_load $mod || exit 1
			if [ "$($CHK mount $src $FD_M $opts)" = OK ]; then
				fd_points "$group"
				umount $FD_M || echo "# umount failed for $mod $trans $server" >&3
			else
				echo "# fd mount failed for $mod $trans $server msize $want" >&3
				sed 's/^/#   /' $FDX/$server-$trans.log | tail -5 >&3
			fi
			fd_unload $mod || exit 1
		done
	done
}

# fd_points SIZES: the points over the mount on $FD_M (fd_config's variables).
fd_points() {
	# The msize the server agreed to (9p shows it unless it is the default 8192).
	msize=$(sed -n "s|.* $FD_M 9p .*,msize=\([0-9]*\).*|\1|p" /proc/mounts)
	[ -n "$msize" ] || msize=8192
	[ $rep = 1 ] && [ "$msize" != "$want" ] && echo "# fd $mod $trans $server: asked msize $want, got $msize" >&3
	for bs in $1; do
		f=$FD_M/fdb-$mod-$bs
		fd_point $mod $trans $server $want $rep write $bs $B seq write $f $bs $MAXB $FD_SECS
		fd_point $mod $trans $server $want $rep read $bs $B seq read $f $bs $MAXB $FD_SECS
		[ $bs = 4096 ] || rm -f $f
	done
	case " $1 " in *" 4096 "*)
		fd_point $mod $trans $server $want $rep rand4k 4096 $B rand $FD_M/fdb-$mod-4096 4096 4 $FD_SECS
		rm -f $FD_M/fdb-$mod-4096 ;;
	esac
	if [ $mod != c ] && [ $rep = 1 ]; then
		for s in $FD_DBG/*/stats; do
			[ -e $s ] && grep -q '^dead: 0$' $s && sed "s|^|# fd $mod $trans $server $want [$1] stats: |" $s >&3
		done
	fi
}

fd_part() {
	for m in 9pnet_fd zc9p_fd; do grep -q "^$m " /proc/modules && rmmod $m; done
	rm -rf $FDX
	mkdir -p $FDX $FD_EXP $FD_M
	# A server that does not start says why on fd 3, with the other notes.
	srv_diod_start $FD_EXP 2>$FDX/start.err || { sed 's/^/# /' $FDX/start.err >&3; return; }
	unpfs=0
	if [ -x $SRV_UNPFS ]; then
		if srv_unpfs_start $FD_EXP 2>$FDX/start.err; then unpfs=1; else sed 's/^/# /' $FDX/start.err >&3; fi
	else
		echo "# no /usr/bin/unpfs in the initramfs: no unpfs points" >&3
	fi
	for rep in $(seq 1 $FD_REPS); do
		fd_config tcp diod 65536 $rep
		fd_config unix diod 65536 $rep
		fd_config vsock diod 65536 $rep
		if [ $unpfs = 1 ]; then
			fd_config tcp unpfs 512000 $rep
			fd_config tcp unpfs 1048576 $rep
		fi
		elapsed "fd rep $rep"
	done
	srv_stop diod-tcp diod-unix socat-vsock unpfs-tcp
}

case ,$PARTS, in *,virtio,*) virtio_part ;; esac
case ,$PARTS, in *,fd,*) fd_part ;; esac
elapsed total
echo "BENCH-DONE" >&3
