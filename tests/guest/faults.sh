# SPDX-License-Identifier: GPL-2.0
# Fault tests of the transport (sourced by the virtio programs;
# ksft_prelude.sh defines CHK, chanstat, mount9p, MIB, tap.sh check, expect,
# tap, diag, and the caller per pass ZC and P):
# tasks killed inside the transport, a slow server, mount cycles with killed
# readers. What they guard against is a request handed back twice or never
# (use-after-free, refcount underflow: the host fails the run on any KASAN,
# refcount or hung-task line in the guest's log), a task that cannot die,
# and requests left on the device.

# uptime_cs: time since boot in hundredths of a second.
uptime_cs() { tr -d . </proc/uptime | cut -d' ' -f1; }

# is_gone PID: the process has exited (gone, or a zombie waiting to be reaped).
is_gone() {
	st=$(cut -d' ' -f3 /proc/$1/stat 2>/dev/null)
	[ -z "$st" ] || [ "$st" = Z ]
}

# wait_gone SECS PID...: waits until every PID has exited, at most SECS seconds;
# reaps them. Returns 0 if all exited in time.
wait_gone() {
	limit=$(( $(uptime_cs) + $1 * 100 ))
	shift
	for p in "$@"; do
		while ! is_gone $p; do
			[ "$(uptime_cs)" -lt $limit ] || return 1
			usleep 20000
		done
	done
	for p in "$@"; do wait $p 2>/dev/null; done
	return 0
}

# wait_counter TAG FIELD OP VALUE SECS: polls a channel counter until the test
# `[ counter OP VALUE ]` holds, at most SECS seconds.
wait_counter() {
	limit=$(( $(uptime_cs) + $5 * 100 ))
	while ! test "$(chanstat $1 $2)" "$3" "$4"; do
		[ "$(uptime_cs)" -lt $limit ] || return 1
		usleep 20000
	done
}

# Senders parked on a full ring, then killed. zc9p3 is a slow server (reads
# throttled to 256 KiB/s) without indirect descriptors: one 1 MiB-block read
# request maps ~125 pages by zero copy (one descriptor each, unless adjacent
# ones merge; a copy-path message is two descriptors, so this test runs only
# with zerocopy=1), so its 128-entry ring holds one request, for seconds, and seven
# more readers sleep waiting for room. Killed there, their requests were never
# queued: the transport must give its reference back once (the old code marked
# zero-copy ones SENT first, so the client's flush then dropped it a second
# time); the one on the device waits for its buffer, then dies.
ring_kill_test() { # MOUNTPOINT of zc9p3
	w0=$(chanstat zc9p3 ring_full_waits)
	u0=$(chanstat zc9p3 killed_unsent)
	pids=
	for i in 1 2 3 4 5 6 7 8; do
		$CHK drain $1/slow $MIB 10 >/dev/null 2>&1 &
		pids="$pids $!"
	done
	wait_counter zc9p3 ring_full_waits -ge $((w0 + 7)) 60
	parked=$(( $(chanstat zc9p3 ring_full_waits) - w0 ))
	check "$P ring-full kill: readers parked on the full ring ($parked waits)" [ $parked -gt 0 ]
	t0=$(uptime_cs)
	kill -9 $pids
	wait_gone 60 $pids
	rc=$?
	tap $rc "$P ring-full kill: the 8 killed readers died ($(( ($(uptime_cs) - t0) * 10 )) ms)"
	check "$P ring-full kill: the kill reached senders still waiting for ring space ($(( $(chanstat zc9p3 killed_unsent) - u0 )))" \
		[ "$(chanstat zc9p3 killed_unsent)" -gt "$u0" ]
	check "$P ring-full kill: no request left on the device" wait_counter zc9p3 on_device -eq 0 60
	check "$P ring-full kill: reads on the share still correct afterwards" \
		$CHK verify $1/small-1 262144 41 65536
}

# A zero-copy reader killed while a slow server (zc9p3 is throttled to
# 256 KiB/s of reads) holds its buffer: it dies once its buffer is back, and
# readers beside it get correct data.
slow_kill_test() { # MOUNTPOINT (zc9p3 mounted there)
	k0=$(chanstat zc9p3 killed_waits)
	( $CHK verify $1/small-1 262144 41 65536 && $CHK verify $1/small-2 262144 42 131072 ) \
		>/tmp/slow-others.log 2>&1 &
	others=$!
	# The victim reads 1 MiB at a time, and between two requests it waits for
	# nothing: a kill that lands there (the loop below saw it waiting, then its
	# request ended) tests nothing, and the check of killed_waits would fail
	# for the test's sake. With zero copy, up to three victims, until a kill
	# finds one waiting for its buffer; a transport that never counts such a
	# wait fails all three.
	attempt=0
	while :; do
		attempt=$((attempt + 1))
		$CHK verify $1/slow $((4 * MIB)) 31 $MIB >/dev/null 2>&1 &
		victim=$!
		wait_counter zc9p3 on_device -gt 0 20
		# Kill it only once it waits for its own buffer (a loaded machine may
		# start it late): in the transport's wait with zero copy, in the 9P
		# client's without.
		want=zc9p_req_wait_killable
		[ $ZC = 1 ] || want=p9_client_rpc
		i=0
		while [ "$(cat /proc/$victim/wchan 2>/dev/null)" != $want ] && [ $i -lt 200 ]; do
			usleep 100000
			i=$((i + 1))
		done
		[ $i -lt 200 ] || echo "the victim never waited in $want: $(cat /proc/$victim/wchan 2>/dev/null)" | diag
		t0=$(uptime_cs)
		kill -9 $victim
		wait_gone 60 $victim
		rc=$?
		[ $rc -eq 0 ] && [ $ZC = 1 ] && [ $attempt -lt 3 ] &&
			[ "$(chanstat zc9p3 killed_waits)" -le "$k0" ] || break
		echo "victim $attempt: the kill landed between two of its requests; another one" | diag
	done
	tap $rc "$P slow server: a killed reader dies once its buffer is back ($(( ($(uptime_cs) - t0) * 10 )) ms)"
	wait $others
	rc=$?
	[ $rc -eq 0 ] || diag </tmp/slow-others.log
	tap $rc "$P slow server: the readers beside it read correct data"
	[ $ZC = 1 ] && check "$P slow server: the killed reader waited for its pages ($(( $(chanstat zc9p3 killed_waits) - k0 )), $attempt victims)" \
		[ "$(chanstat zc9p3 killed_waits)" -gt "$k0" ]
	check "$P slow server: no request left on the device" wait_counter zc9p3 on_device -eq 0 60
}

# Mount, kill readers in the middle of their requests (small reads go by the
# copy path and are flushed; large ones are zero-copy), unmount; ten times on
# one channel. A completion that outlived its client would touch freed memory.
remount_kill_test() { # MOUNTPOINT FILE-IN-MOUNT SIZE SEED
	cycles=0
	for i in 1 2 3 4 5 6 7 8 9 10; do
		[ "$(mount9p zc9p0 $1 version=9p2000.L,msize=512000)" = OK ] || break
		pids=
		for bs in $MIB 512 512; do
			$CHK verify $1/$2 $3 $4 $bs >/dev/null 2>&1 &
			pids="$pids $!"
		done
		usleep $((100000 + i * 30000))
		kill -9 $pids
		wait_gone 30 $pids || { echo "cycle $i: a killed reader did not die" | diag; break; }
		umount $1 || break
		cycles=$((cycles + 1))
	done
	expect "$P 10 cycles of mount, killed readers, umount on one channel" 10 echo $cycles
	check "$P no request left on the device after the cycles" wait_counter zc9p0 on_device -eq 0 10
}
