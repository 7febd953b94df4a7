#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The guest side of `make profile`: where a request's time goes, on C
# 9pnet_virtio, zc9p zerocopy=0 and zerocopy=1, for 4 KiB and 1 MiB sequential
# reads and writes (cache=none, msize 512000). ROUNDS rounds (default 2) run
# the transports in alternating order (c zc0 zc1, then zc1 zc0 c, ...) so drift
# hits all alike; the report sums the rounds.
#
# PROFILE_MODE=realtime (the default): each point runs three times:
#   1. plain, between MARK lines the host uses to read QEMU's per-thread CPU
#      time (tools/profile.sh), giving wall time and guest CPU per call;
#   2. under ftrace's function profiler, only the functions that bracket the
#      request (so tracing adds the same few hooks to every transport);
#   3. under perf, cpu-clock sampling of the CPU the benchmark is pinned to.
# PROFILE_MODE=icount: QEMU runs with -icount (the guest clock counts
# instructions), so the function profiler, with sleeps left out, gives guest
# instructions per call; a fixed number of calls per point.
# Lines to the second serial port:
#   RESULT transport workload bs bytes ops ns cpu_ticks
#   MARK begin|end transport workload bs
#   FPROF transport workload bs function hits total_us
#   IPROF transport workload bs function hits total_us   (icount: us = 1000 instructions)
#   PERF transport workload bs percent dso symbol
exec 3>/dev/ttyS1
export HOME=/tmp PATH=/bin:/sbin:/usr/bin:/usr/sbin
B=/zc9p/zc9p-bench
MODE=${PROFILE_MODE:-realtime}
SECS=${SECS:-3}
ROUNDS=${ROUNDS:-2}
MAXB=$((256 * 1048576))
T=/sys/kernel/tracing
mkdir -p /mnt/a $T
mount -t tracefs tracefs $T 2>/dev/null
echo 0 >/proc/sys/kernel/kptr_restrict
echo -1 >/proc/sys/kernel/perf_event_paranoid 2>/dev/null
echo "CLK_TCK $(getconf CLK_TCK 2>/dev/null || echo 100)" >&3
echo "MODE $MODE" >&3

# What brackets a request: the system call, the 9P client's request (zero-copy
# or not), the sleep for the reply, the notification and the interrupt. Rust
# functions have no ftrace hooks; zc9p's time is inside the client's calls.
FUNCS="vfs_read vfs_write p9_client_zc_rpc p9_client_rpc io_schedule
virtqueue_kick vring_interrupt"

. /zc9p/transports.sh

bench() { # WORKLOAD BS
	if [ $MODE = icount ]; then
		# A fixed number of calls: 4000 of 4 KiB, 64 of 1 MiB.
		taskset 1 $B seq $1 /mnt/a/profile-$2 $2 $(($2 < 65536 ? 4000 * $2 : 64 * $2)) 1000
	else
		taskset 1 $B seq $1 /mnt/a/profile-$2 $2 $MAXB $SECS
	fi
}

fprof_on() {
	echo nop >$T/current_tracer
	: >$T/set_ftrace_filter
	for f in $FUNCS; do
		echo "$f" >>$T/set_ftrace_filter 2>/dev/null
	done
	# Under -icount, leave out the time the task sleeps: what remains is work.
	[ $MODE = icount ] && echo 0 >$T/options/sleep-time
	echo 0 >$T/function_profile_enabled
	echo 1 >$T/function_profile_enabled
}

fprof_off() { # TAG TRANSPORT WORKLOAD BS
	echo 0 >$T/function_profile_enabled
	# trace_stat/functionN per CPU: "name hits time us avg us s^2 us"
	cat $T/trace_stat/function* 2>/dev/null | awk -v p="$1 $2 $3 $4" '
		$2 ~ /^[0-9]+$/ && $4 == "us" { hits[$1] += $2; us[$1] += $3 }
		END { for (f in hits) printf "%s %s %d %.1f\n", p, f, hits[f], us[f] }' >&3
	: >$T/set_ftrace_filter
}

point() { # TRANSPORT WORKLOAD BS
	if [ $2 = read ]; then
		bench write $3 >/dev/null
	fi
	if [ $MODE = icount ]; then
		fprof_on
		r=$(bench $2 $3) && echo "RESULT $1 $2 $3 $r" >&3
		fprof_off IPROF $1 $2 $3
	else
		echo "MARK begin $1 $2 $3" >&3
		sleep 1
		r=$(bench $2 $3) && echo "RESULT $1 $2 $3 $r" >&3
		echo "MARK end $1 $2 $3" >&3
		sleep 1

		fprof_on
		bench $2 $3 >/dev/null
		fprof_off FPROF $1 $2 $3

		perf record -q -o /tmp/perf.data -e cpu-clock -F 2000 -C 0 -g -- \
			taskset 1 $B seq $2 /mnt/a/profile-$3 $3 $MAXB $SECS >/dev/null 2>/tmp/perf.err ||
			echo "# perf record failed for $1 $2 $3: $(tail -1 /tmp/perf.err)" >&3
		perf report -q -i /tmp/perf.data --stdio --no-children -g none \
			--sort dso,sym --percent-limit 0.2 2>/dev/null |
			awk -v p="PERF $1 $2 $3" '$1 ~ /%$/ { sub(/%$/, "", $1); $3 = ""; print p, $0 }' >&3
		rm -f /tmp/perf.data /tmp/perf.data.old
	fi
	[ $2 = read ] || rm -f /mnt/a/profile-$3
}

round=1
while [ $round -le $ROUNDS ]; do
	order="c zc0 zc1"
	[ $((round % 2)) = 1 ] || order="zc1 zc0 c"
	for t in $order; do
		load $t || { echo "# load $t failed" >&3; exit 1; }
		if mount -t 9p -o trans=virtio,version=9p2000.L,cache=none,msize=512000 zc9p0 /mnt/a; then
			for bs in 4096 1048576; do
				point $t write $bs
				point $t read $bs
				rm -f /mnt/a/profile-$bs
			done
			umount /mnt/a
		else
			echo "# mount failed for $t" >&3
		fi
		unload $t || { echo "# unload $t failed" >&3; exit 1; }
	done
	round=$((round + 1))
done
echo "ROUNDS $ROUNDS" >&3
echo "PROFILE-DONE" >&3
