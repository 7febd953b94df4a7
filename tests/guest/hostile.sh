# SPDX-License-Identifier: GPL-2.0
# Hostile-server cases for the fd transports (sourced; needs tap.sh). Each
# case runs zc9p-hostile (tests/guest/hostile/), a 9P2000.L
# server that serves "good" and "bad" (HS_SIZE bytes of zc9p-check's stream,
# seed HS_SEED) correctly except for one misbehaviour (its --mode) on the
# first read of "bad", mounts it, verifies "good", reads "bad" and checks
# what the transport made of it: the read ends in bounded time with data that
# checksums or an errno (never wrong data, never a hang), killed tasks die,
# no task is left in D state, later I/O works or fails promptly, the mount
# unmounts, and (zc9p_fd) nothing stays pinned or in flight and a protocol
# violation counts in protocol_errors.
#
#   hostile_suite c|zc [report]
#     c   mainline's C transport, 9pnet_fd.ko
#     zc  zc9p's, zc9p_fd.ko $HS_MODARGS (with its debugfs counters)
#     report: every outcome goes out as a diagnostic ("would fail: ..."),
#     and each case as one passing test, so the run never fails on them.
#   HS_MODES="case ..." runs only those cases (default: all, see HS_ALL); a
#   case is [TRANSPORT:]MODE, TRANSPORT tcp (the default: 127.0.0.1, ports
#   from HS_PORT + 1 on), unix (a socket in HS_X), fd (a socketpair the
#   server makes and mounts itself) or vsock (CID 1, the loopback transport;
#   zc9p_fd only), MODE one of zc9p-hostile's --mode.
#   HS_VERBOSE=1 adds each case's phase times to its line.
# It mounts on HS_M, keeps the servers' logs in HS_X, and leaves the caller's
# variables alone except its own (hs_*, hp, HS_*).
#
# Every case ends with a '# hostile[MOD] CASE: ...' line saying what the
# read gave (OK, SHORT n, an errno, or how long a killed task took to die),
# what later I/O gave, how the unmount went (plain, force: umount -f,
# server-kill: only once the server was killed, lazy: umount -l) and, for zc,
# the connection's counters.

HS=$ZC9P_DIR/zc9p-hostile
HS_CHK=$ZC9P_DIR/zc9p-check
HS_M=/mnt/h
HS_X=/tmp/hostile
HS_DBG=/sys/kernel/debug/zc9p_fd
# How long a killed reader (or a read whose server was killed) may take to go.
HS_KILL_SECS=10
HS_SIZE=262144
HS_SEED=23
HS_PORT=5700
HS_OPTS=version=9p2000.L,msize=65536
HS_ALL="none dribble out-of-order size-lt-7 size-gt-msize size-gt-buffer count-gt-asked
	count-ne-size unknown-tag duplicate-reply wrong-type flushed-before flushed-after
	rlerror-to-flush truncated-eof truncated-silence stop-reading killed
	fd:none fd:truncated-eof fd:duplicate-reply unix:none
	vsock:none vsock:dribble vsock:size-gt-msize vsock:truncated-eof vsock:flushed-after
	vsock:killed vsock:stop-reading"

# The helpers below poll, so they fork nothing they can avoid: under TCG
# with KASAN every process costs tens of milliseconds.

# hs_now: hs_t = time since boot in hundredths of a second.
hs_now() {
	# shellcheck disable=SC2034 # the second field of /proc/uptime, unused
	read -r hs_up hs_x </proc/uptime
	hs_t=${hs_up%.*}${hs_up#*.}
}

# hs_state PID: hs_s = its state letter (R, S, D, Z...), empty once reaped.
hs_state() {
	hs_s=
	read -r hs_stl 2>/dev/null </proc/$1/stat || return 0
	hs_s=${hs_stl##*) }
	hs_s=${hs_s%% *}
}

hs_gone() {
	hs_state $1
	[ -z "$hs_s" ] || [ "$hs_s" = Z ]
}

# hs_wchan PID: hs_w = where it sleeps.
hs_wchan() {
	hs_w=
	read -r hs_w 2>/dev/null </proc/$1/wchan
}

# hs_wait SECS PID: waits (at most SECS) for PID to exit; 0 if it did.
# Sets hs_ms to how long that took.
hs_wait() {
	hs_now
	hs_t0=$hs_t
	hs_lim=$((hs_t0 + $1 * 100))
	while ! hs_gone $2; do
		hs_now
		if [ $hs_t -ge $hs_lim ]; then
			hs_ms=$(( (hs_t - hs_t0) * 10 ))
			return 1
		fi
		usleep 20000
	done
	hs_now
	hs_ms=$(( (hs_t - hs_t0) * 10 ))
	return 0
}

# hs_bounded SECS OUT COMMAND...: runs COMMAND (output to OUT) for at most
# SECS. hs_rc is its exit status, or 124 if it is still running (its pid in
# hs_pid: the caller must deal with it); hs_ms how long it ran.
hs_bounded() {
	hs_secs=$1 hs_out=$2
	shift 2
	"$@" >$hs_out 2>&1 </dev/null &
	hs_pid=$!
	if hs_wait $hs_secs $hs_pid; then
		wait $hs_pid
		hs_rc=$?
	else
		hs_rc=124
	fi
}

# hs_dstate: userspace tasks in D state, one "pid comm (wchan)" a line.
hs_dstate() {
	for hs_p in $(awk '{ s = $0; sub(/.*\) /, "", s); split(s, f, " ")
		# f[1] state, f[7] flags: PF_KTHREAD is 0x00200000
		if (f[1] == "D" && !and(f[7], 2097152)) { n = FILENAME; gsub(/[^0-9]/, "", n); print n } }' \
		/proc/[0-9]*/stat 2>/dev/null); do
		echo "$hs_p $(cat /proc/$hs_p/comm 2>/dev/null) ($(cat /proc/$hs_p/wchan 2>/dev/null))"
	done
}

# hs_logwait WORD SECS: waits until the server's log has a line with WORD.
hs_logwait() {
	hs_now
	hs_lim=$((hs_t + $2 * 100))
	until grep -q -- "$1" $hs_log 2>/dev/null; do
		hs_now
		[ $hs_t -lt $hs_lim ] || return 1
		usleep 50000
	done
}

hs_mounted() { grep -q " $HS_M 9p " /proc/mounts; }

# hs_small_buffers: TCP's socket buffers at 16 KiB at the most, so that a
# frame of a large write cannot go into the socket whole (TCP grows a
# socket's buffers up to tcp_wmem's maximum as it goes); hs_buffers_back
# restores what they were.
hs_small_buffers() {
	hs_wmem=$(cat /proc/sys/net/ipv4/tcp_wmem)
	hs_rmem=$(cat /proc/sys/net/ipv4/tcp_rmem)
	echo "4096 16384 16384" >/proc/sys/net/ipv4/tcp_wmem
	echo "4096 16384 16384" >/proc/sys/net/ipv4/tcp_rmem
}
hs_buffers_back() {
	echo "$hs_wmem" >/proc/sys/net/ipv4/tcp_wmem
	echo "$hs_rmem" >/proc/sys/net/ipv4/tcp_rmem
}

# hs_conns: the zc9p_fd connection folders (none for c).
hs_conns() {
	[ $hs_mod = zc ] || return 0
	for hs_f in $HS_DBG/*/stats; do
		[ -e $hs_f ] && echo ${hs_f%/stats}
	done
}

# hs_stat FIELD: FIELD of the connections this case made (sum over them).
hs_stat() {
	hs_sum= 
	for hs_c in $(hs_conns); do
		case " $hs_before " in *" $hs_c "*) continue ;; esac
		hs_v=$(sed -n "s/^$1: //p" $hs_c/stats 2>/dev/null)
		[ -n "$hs_v" ] && hs_sum=$(( ${hs_sum:-0} + hs_v ))
	done
	echo "${hs_sum:--}"
}

hs_mark() { hs_now; hs_ph="$hs_ph $1@$((hs_t - hs_tc0))"; }

hs_pins() { sed -n 's/^pinned_pages: //p' $HS_DBG/pins 2>/dev/null; }

# hs_assert STATUS DESCRIPTION: a test of the zc9p contract; in report mode
# a failure is only a diagnostic.
hs_assert() {
	[ "$1" -eq 0 ] || hs_would=$((hs_would + 1))
	if [ -z "$hs_report" ]; then
		tap "$1" "$2"
	elif [ "$1" -ne 0 ]; then
		echo "would fail: $2" | diag
	fi
}

# hs_kill_server: SIGKILL the server (if alive) and reap it.
hs_kill_server() {
	[ -n "$hs_spid" ] || return 0
	hs_gone $hs_spid || kill -9 $hs_spid 2>/dev/null
	hs_wait 5 $hs_spid
	wait $hs_spid 2>/dev/null
	return 0
}

# hs_unstick PID WHAT: PID did not end in time. Record its state, then get it
# out of the way: SIGKILL it, then (if that is not enough) kill the server.
# Returns 0 if SIGKILL was enough (within 5 s).
hs_unstick() {
	hs_state $1
	hs_wchan $1
	hs_note="$hs_note $2 stuck [$hs_s $hs_w]"
	kill -9 $1 2>/dev/null
	if hs_wait 5 $1; then
		hs_note="$hs_note, died of SIGKILL in ${hs_ms}ms"
		return 0
	fi
	hs_kill_server
	if hs_wait 10 $1; then
		hs_note="$hs_note, ended once the server was killed"
	else
		hs_note="$hs_note, UNKILLABLE"
	fi
	wait $1 2>/dev/null
	return 1
}

# hs_result FILE: the first line a helper printed (TIMEOUT when it did not finish).
hs_result() {
	if [ $hs_rc = 124 ]; then echo TIMEOUT; else head -1 $1; fi
}

# hs_read_ok WANT RESULT: does RESULT (of readat) meet WANT?
#   ok   the data, all of it   err  an errno   any  OK, SHORT (data verified) or an errno
hs_read_ok() {
	case $1:$2 in
	*:OK) [ $1 != err ] ;;
	any:SHORT*) true ;;
	ok:*) false ;;
	*:E[A-Z]*) true ;;
	*) false ;;
	esac
}

# hs_umount: unmount $HS_M, escalating: plain, umount -f, kill the server,
# umount -l. Sets hs_how.
hs_umount() {
	hs_how=
	hs_bounded 15 $HS_X/umount.out umount $HS_M
	if [ $hs_rc = 0 ]; then hs_how=plain; return; fi
	hs_upid=$hs_pid
	[ $hs_rc = 124 ] || hs_upid=
	hs_bounded 5 $HS_X/umount.out umount -f $HS_M
	if [ $hs_rc = 0 ] && ! hs_mounted; then
		hs_how=force
	else
		hs_kill_server
		{ [ -z "$hs_upid" ] || hs_wait 10 $hs_upid; } && ! hs_mounted && hs_how=server-kill
	fi
	if [ -z "$hs_how" ]; then
		umount -l $HS_M 2>/dev/null
		hs_mounted && hs_how=STUCK || hs_how=lazy
	fi
	[ -n "$hs_upid" ] && ! hs_gone $hs_upid && kill -9 $hs_upid 2>/dev/null
	return 0
}

# hs_case [TRANSPORT:]MODE: one case (TRANSPORT tcp, the default, unix or fd).
hs_case() {
	hs_name=$1
	hs_m=${1#*:}
	hs_tr=tcp
	[ "$hs_m" = "$1" ] || hs_tr=${1%%:*}
	hs_n=$((hs_n + 1))
	hs_port=$((HS_PORT + hs_n))
	hs_log=$HS_X/$hs_tr-$hs_m.log
	hs_note='' hs_read=- hs_after=- hs_how=- hs_spid='' hs_would=0
	hp="$HS_P $hs_name:"
	# What the case does and what the zc9p contract wants from it:
	#   kind: read (of bad), ooo (4 concurrent reads), kill (the reader, once
	#   its reply is held), killsrv (the server, likewise), write (a writer
	#   killed while the server does not read); size: bytes per read;
	#   want: see hs_read_ok; perr: a protocol error to count; later: prompt
	#   (later I/O works or fails within 10 s) or wait (it may wait, but a
	#   SIGKILL ends it); umounts: the acceptable ways to unmount.
	hs_kind=read hs_size=65536 hs_arg='' hs_want=any hs_perr=1 hs_umounts=plain hs_held=held hs_later=prompt hs_killwait=
	# shellcheck disable=SC2209 # the word kill, not its output
	case $hs_m in
	none|dribble) hs_want=ok hs_perr=0 ;;
	out-of-order) hs_kind=ooo hs_want=ok hs_perr=0 ;;
	size-gt-buffer) hs_size=16384 ;;
	flushed-before) hs_kind=kill hs_perr=0 ;;
	flushed-after|rlerror-to-flush) hs_kind=kill ;;
	truncated-eof) hs_want=err hs_perr=0 ;;
	truncated-silence)
		# The server stays silent partway through a reply: the killed
		# reader's request is the server's (its reply has begun), so the
		# client flushes it and waits for the Rflush, which cannot come
		# before the rest of that reply, as long as the server lives (so
		# does 9pnet_fd's). It must die once the server is gone. Later
		# requests may wait (and must be killable).
		hs_kind=kill hs_perr=0 hs_held=silent hs_later=wait hs_umounts="plain force server-kill"
		hs_killwait=server ;;
	killed) hs_kind=killsrv hs_want=err hs_perr=0 ;;
	stop-reading) hs_kind=write hs_perr=0 hs_arg=7 ;;
	esac
	rm -f $hs_log $HS_X/server.pid
	hs_now
	hs_tc0=$hs_t hs_ph=
	hs_before=$(hs_conns | tr '\n' ' ')

	# The server, and the mount.
	hs_srv="--mode $hs_m ${hs_arg:+--arg $hs_arg} --size $HS_SIZE --seed $HS_SEED --log $hs_log -v --pidfile $HS_X/server.pid"
	if [ $hs_m = stop-reading ]; then
		# Small socket buffers, so a client's send blocks soon once the
		# server stops reading (the kernel's socket takes these at connect).
		hs_small_buffers
	fi
	hs_rc=0
	case $hs_tr in
	tcp) $HS -l 127.0.0.1:$hs_port $hs_srv >$HS_X/mount.out 2>&1 || hs_rc=1
	     [ $hs_rc = 1 ] ||
		hs_bounded 20 $HS_X/mount.out $HS_CHK mount 127.0.0.1 $HS_M trans=tcp,port=$hs_port,$HS_OPTS ;;
	unix) $HS -l $HS_X/sock $hs_srv >$HS_X/mount.out 2>&1 || hs_rc=1
	      [ $hs_rc = 1 ] ||
		hs_bounded 20 $HS_X/mount.out $HS_CHK mount $HS_X/sock $HS_M trans=unix,$HS_OPTS ;;
	fd) hs_bounded 20 $HS_X/mount.out $HS --mount $HS_M --mopts $HS_OPTS $hs_srv ;;
	vsock) $HS -l vsock:$hs_port $hs_srv >$HS_X/mount.out 2>&1 || hs_rc=1
	       [ $hs_rc = 1 ] ||
		hs_bounded 20 $HS_X/mount.out $HS_CHK mount 1 $HS_M trans=vsock,port=$hs_port,$HS_OPTS ;;
	esac
	hs_spid=$(cat $HS_X/server.pid 2>/dev/null)
	hs_mark mount
	if [ $hs_m = stop-reading ]; then
		hs_buffers_back
	fi
	hs_mres=$(hs_result $HS_X/mount.out)
	if [ "$hs_mres" != OK ]; then
		echo "mount: $hs_mres" | diag
		tail -20 $hs_log 2>/dev/null | diag
		tap 1 "$hp mount"
		[ $hs_rc = 124 ] && hs_unstick $hs_pid mount
		hs_mounted && hs_umount
		hs_kill_server
		return
	fi
	hs_bounded 30 $HS_X/verify.out $HS_CHK verify $HS_M/good $HS_SIZE $HS_SEED
	[ $hs_rc = 124 ] && hs_unstick $hs_pid verify
	[ $hs_rc = 0 ] || diag <$HS_X/verify.out
	tap $hs_rc "$hp mount, good verifies"

	hs_mark verify
	# The misbehaviour.
	case $hs_kind in
	read)
		hs_bounded 10 $HS_X/read.out $HS readat $HS_M/bad 0 $hs_size $HS_SEED
		hs_r=$(hs_result $HS_X/read.out)
		hs_read="$hs_r (${hs_ms}ms)"
		[ $hs_rc = 124 ] && hs_unstick $hs_pid reader
		hs_read_ok $hs_want "$hs_r"
		hs_assert $? "$hp the read of bad ends in time with $hs_want: $hs_read"
		;;
	ooo)
		hs_pids='' hs_i=0
		while [ $hs_i -lt 4 ]; do
			$HS readat $HS_M/bad $((hs_i * 65536)) 65536 $HS_SEED >$HS_X/ooo-$hs_i.out 2>&1 &
			hs_pids="$hs_pids $!"
			hs_i=$((hs_i + 1))
		done
		hs_read='' hs_bad=0 hs_i=0
		for hs_p in $hs_pids; do
			if hs_wait 15 $hs_p; then
				wait $hs_p
				hs_r=$(head -1 $HS_X/ooo-$hs_i.out)
			else
				hs_r=TIMEOUT
				hs_unstick $hs_p reader-$hs_i
			fi
			[ "$hs_r" = OK ] || hs_bad=1
			hs_read="$hs_read $hs_r"
			hs_i=$((hs_i + 1))
		done
		hs_read="${hs_read# } ($(grep -c 'held tag' $hs_log) held, $(grep 'released' $hs_log | head -1 | cut -d' ' -f2-))"
		hs_assert $hs_bad "$hp 4 concurrent reads, answered in reverse order, all verified: $hs_read"
		;;
	kill|killsrv)
		$HS readat $HS_M/bad 0 $hs_size $HS_SEED >$HS_X/read.out 2>&1 &
		hs_rpid=$!
		hs_logwait "$hs_held" 15 || hs_note="$hs_note (the server never held the read)"
		usleep 300000
		hs_wchan $hs_rpid
		hs_was=$hs_w
		if [ $hs_kind = kill ]; then
			kill -9 $hs_rpid
		else
			kill -9 $hs_spid
		fi
		# Slack for a loaded host (under TCG with a dozen guests on two
		# cores, 5 s was once too little). A reader whose Tflush waits for
		# the server (hs_killwait=server) must still be there, and die once
		# the server is killed.
		if [ "$hs_killwait" = server ] && [ $hs_kind = kill ]; then
			hs_wait 3 $hs_rpid
			hs_state $hs_rpid
			hs_wchan $hs_rpid
			hc_still="$hs_s $hs_w"
			hs_kill_server
		fi
		if hs_wait $HS_KILL_SECS $hs_rpid; then
			wait $hs_rpid
			if [ $hs_kind = kill ]; then
				hs_read="killed reader (in $hs_was) died in ${hs_ms}ms"
				[ "$hs_killwait" = server ] &&
					hs_read="killed reader (in $hs_was; 3 s later: ${hc_still:-gone}) died ${hs_ms}ms after the server was killed"
				[ -s $HS_X/read.out ] && hs_read="$hs_read, read: $(head -1 $HS_X/read.out)"
				if [ "$hs_killwait" = server ]; then
					hs_assert 0 "$hp the reader, killed while its reply is half in, dies once the server is gone ($hs_read)"
				else
					hs_assert 0 "$hp the reader, killed while its reply is held, dies within ${HS_KILL_SECS}s ($hs_read)"
				fi
			else
				hs_read="$(head -1 $HS_X/read.out) (${hs_ms}ms after the server was killed)"
				hs_read_ok $hs_want "$(head -1 $HS_X/read.out)"
				hs_assert $? "$hp the read fails within ${HS_KILL_SECS}s of the server's death: $hs_read"
			fi
		else
			hs_state $hs_rpid
			hs_wchan $hs_rpid
			hs_read="TIMEOUT: still there ${hs_ms}ms after the kill [$hs_s $hs_w]"
			hs_assert 1 "$hp the $([ $hs_kind = kill ] && echo 'killed reader dies' || echo 'read fails') within ${HS_KILL_SECS}s ($hs_read)"
			hs_unstick $hs_rpid reader
		fi
		;;
	write)
		$HS writeat $HS_M/bad $((4 * 1048576)) 65512 >$HS_X/write.out 2>&1 &
		hs_wpid=$!
		hs_logwait stall 15 || hs_note="$hs_note (the server never stalled)"
		usleep 1000000
		hs_state $hs_wpid
		hs_wchan $hs_wpid
		hs_wst="$hs_s $hs_w"
		kill -9 $hs_wpid
		# The writer's frame is all in the socket's buffers: the request is the
		# server's, and the client's Tflush for it waits (uninterruptibly, in
		# client.c, with 9pnet_fd too) until the server reads again, $hs_arg s
		# after it stopped. The writer must die then at the latest.
		if hs_wait 5 $hs_wpid; then
			wait $hs_wpid
			hs_read="killed writer (state $hs_wst) died in ${hs_ms}ms"
			hs_assert 0 "$hp a writer killed while the server reads nothing dies ($hs_read)"
		elif hs_wait 15 $hs_wpid; then
			hs_read="killed writer (state $hs_wst) died ${hs_ms}ms after the first 5 s$(grep -q resume $hs_log && echo ', once the server read again')"
			hs_assert 0 "$hp a writer killed while the server reads nothing dies ($hs_read)"
		else
			hs_read="TIMEOUT: writer (state $hs_wst) still there 20 s after the kill"
			hs_assert 1 "$hp a writer killed while the server reads nothing dies ($hs_read)"
			hs_unstick $hs_wpid writer
		fi
		hs_logwait resume 15
		;;
	esac
	hs_mark read
	# Later I/O on the mount: works, or fails promptly.
	hs_bounded 10 $HS_X/after.out $HS readat $HS_M/good 65536 65536 $HS_SEED
	hs_after="$(hs_result $HS_X/after.out) (${hs_ms}ms)"
	case $hs_after in OK*|E[A-Z]*) hs_r=0 ;; *) hs_r=1 ;; esac
	if [ $hs_rc = 124 ]; then
		hs_unstick $hs_pid "later read"
		[ $? = 0 ] && [ $hs_later = wait ] && hs_r=0
	fi
	hs_assert $hs_r "$hp later I/O works or fails promptly$([ $hs_later = wait ] && echo ' (or waits, killably)'): $hs_after"

	hs_mark later
	# The connection's counters, before the unmount takes them away.
	if [ $hs_mod = zc ]; then
		hs_pe=$(hs_stat protocol_errors) hs_dead=$(hs_stat dead) hs_fl=$(hs_stat in_flight)
		hs_stats="protocol_errors=$hs_pe dead=$hs_dead in_flight=$hs_fl"
		if [ $hs_perr = 1 ]; then
			hs_assert "$([ "$hs_pe" != - ] && [ "$hs_pe" -ge 1 ]; echo $?)" \
				"$hp the protocol violation is counted (protocol_errors $hs_pe)"
		fi
	fi

	hs_umount
	case " $hs_umounts " in *" $hs_how "*) hs_r=0 ;; *) hs_r=1 ;; esac
	hs_assert $hs_r "$hp unmount ($hs_how; wanted: $hs_umounts)"
	hs_mark umount
	# The server ends when the connection closes.
	if [ -n "$hs_spid" ] && ! hs_wait 5 $hs_spid; then
		hs_note="$hs_note server still running after the unmount;"
		hs_kill_server
	fi
	wait $hs_spid 2>/dev/null

	hs_mark srv
	hs_d=$(hs_dstate)
	[ -z "$hs_d" ] || hs_note="$hs_note D-state: $hs_d"
	hs_assert "$([ -z "$hs_d" ]; echo $?)" "$hp no task left in D state${hs_d:+: $hs_d}"
	if [ $hs_mod = zc ]; then
		# Its folder may be gone: then nothing is in flight.
		hs_now
		hs_lim=$((hs_t + 500))
		while hs_fl=$(hs_stat in_flight); [ "$hs_fl" != - ] && [ "$hs_fl" != 0 ] &&
			hs_now && [ $hs_t -lt $hs_lim ]; do
			usleep 50000
		done
		hs_assert "$([ "$hs_fl" = - ] || [ "$hs_fl" = 0 ]; echo $?)" \
			"$hp nothing in flight after the unmount ($([ "$hs_fl" = - ] && echo 'connection gone' || echo "in_flight $hs_fl"))"
		hs_p1=$(hs_pins)
		hs_assert "$([ "$hs_p1" = 0 ]; echo $?)" "$hp no pages left pinned (pinned_pages $hs_p1)"
		hs_stats="$hs_stats; after umount: in_flight=$([ "$hs_fl" = - ] && echo gone || echo $hs_fl) pinned_pages=$hs_p1"
	fi
	hs_mark end
	hs_t=$(( (hs_t - hs_tc0) / 10 ))
	echo "hostile[$hs_mod] $hs_name ($((hs_t / 10)).$((hs_t % 10))s): read=$hs_read | after=$hs_after | umount=$hs_how${hs_stats:+ | $hs_stats}${hs_note:+ |$hs_note}${HS_VERBOSE:+ | phases (cs):$hs_ph}" | diag
	if [ $hs_would -gt 0 ]; then
		grep -v '^[0-9.]* T[0-9]' $hs_log | tail -8 | sed 's/^/    server: /' | diag
	fi
	[ -n "$hs_report" ] && tap 0 "$hp report ($hs_would would fail)"
	hs_stats=
}

hostile_suite() {
	hs_report=${2:-}
	hs_load "$1" hostile || return
	for hs_c in ${HS_MODES:-$HS_ALL}; do
		hs_case $hs_c
	done
	hs_unload
}

# hs_killed PID NAME WHAT: SIGKILL for PID, which must die within 30 s (one
# result: "the killed WHAT dies"); if it does not, hs_unstick with NAME.
hs_killed() {
	kill -9 $1
	hs_wait 30 $1
	hs_kr=$?
	tap $hs_kr "$hp the killed $3 dies (in ${hs_ms}ms)"
	[ $hs_kr = 0 ] || hs_unstick $1 $2
	wait $1 2>/dev/null
}

# hs_load c|zc SUITE: the suite SUITE (hostile, contract) begins on mainline's
# 9pnet_fd (c) or zc9p_fd (zc, with HS_MODARGS), loaded here with the other
# unloaded; HS_P names the suite and the module. Non-zero (a failed result)
# for an unknown or missing module.
hs_load() {
	hs_mod=$1
	case $hs_mod in
	c) hs_ko=$ZC9P_MODDIR/9pnet_fd.ko hs_kmod=9pnet_fd hs_other=zc9p_fd hs_args= ;;
	zc) hs_ko=$ZC9P_MODDIR/zc9p_fd.ko hs_kmod=zc9p_fd hs_other=9pnet_fd hs_args=${HS_MODARGS:-} ;;
	*) tap 1 "${2}_suite: unknown module '$hs_mod'"; return 1 ;;
	esac
	HS_P="[$2 $hs_mod]"
	if [ ! -e $hs_ko ]; then
		tap 1 "$HS_P $hs_ko is missing: suite not run"
		return 1
	fi
	hs_now
	hs_tsuite=$hs_t
	ip link set lo up 2>/dev/null
	mkdir -p $HS_M $HS_X
	grep -q "^$hs_other " /proc/modules && rmmod $hs_other
	grep -q "^$hs_kmod " /proc/modules || check "$HS_P insmod $hs_ko $hs_args" insmod $hs_ko $hs_args
	hs_n=0
}

# hs_unload: the suite hs_load began ends: unmounted, the module unloaded.
hs_unload() {
	hs_mounted && umount -l $HS_M
	check "$HS_P rmmod $hs_kmod" rmmod $hs_kmod
	hs_now
	echo "$HS_P took $(( (hs_t - hs_tsuite) / 100 ))s" | diag
}

# ---- The 9P client's contract under exit, kill and allocation failure ----
#
#   contract_suite c|zc
#
# Mainline's client (net/9p/client.c) expects of a transport: a task that
# exits normally waits for its requests like any other (writeback at the
# last fput or at exit_mmap runs in the exiting task); cancel() says
# "never sent" only for what was never sent; a request is never failed
# because of a small allocation (that disconnects the mount for good); and
# a connection is never failed because a task was killed. Each case runs
# zc9p-hostile on tcp (127.0.0.1, ports from HS_PORT + 100 on) with one of
# --delay (a request type answered late), --store (a file "data" the server
# keeps, checked byte for byte) and a misbehaviour on "bad", and checks the
# outcome; the same cases run against mainline's 9pnet_fd (c), where they
# pass too. The server logs the fids the client left at the end ("fids in
# use: N"): after the unmount, none.
HC_ALL="exit-close exit-mmap kill-beside-stalled-write killed-walk-dribbled-read failnth-stat early-rlerror zero-read"

# hc_start NAME SERVER-ARGS MOUNT-OPTS: a server and its mount; 0 if mounted.
hc_start() {
	hs_n=$((hs_n + 1))
	hs_port=$((HS_PORT + 100 + hs_n))
	hs_log=$HS_X/contract-$1.log
	hs_note='' hs_spid='' hs_would=0
	hp="$HS_P $1:"
	rm -f $hs_log $HS_X/server.pid
	hs_before=$(hs_conns | tr '\n' ' ')
	$HS -l 127.0.0.1:$hs_port $2 --size $HS_SIZE --seed $HS_SEED --log $hs_log -v \
		--pidfile $HS_X/server.pid >$HS_X/mount.out 2>&1 &&
		hs_bounded 30 $HS_X/mount.out $HS_CHK mount 127.0.0.1 $HS_M trans=tcp,port=$hs_port,$3
	hs_spid=$(cat $HS_X/server.pid 2>/dev/null)
	if [ "$(hs_result $HS_X/mount.out)" != OK ]; then
		diag <$HS_X/mount.out
		tail -20 $hs_log 2>/dev/null | diag
		tap 1 "$hp mount"
		[ "$hs_rc" = 124 ] && hs_unstick $hs_pid mount
		hs_mounted && hs_umount
		hs_kill_server
		return 1
	fi
}

# hc_end: unmount, the server's fids, no task in D state, (zc) nothing in
# flight or pinned.
hc_end() {
	hs_umount
	tap "$([ $hs_how = plain ]; echo $?)" "$hp unmount ($hs_how)"
	if [ -n "$hs_spid" ] && ! hs_wait 10 $hs_spid; then
		hs_note="$hs_note server still running after the unmount;"
		hs_kill_server
	fi
	wait $hs_spid 2>/dev/null
	hc_left=$(sed -n 's/.*fids in use: \([0-9]*\).*/\1/p' $hs_log | tail -1)
	hc_inuse=$(grep -c 'in use: T' $hs_log)
	if [ "${hc_fidcheck:-1}" = 1 ]; then
		tap "$([ "$hc_left" = 0 ] && [ "$hc_inuse" = 0 ]; echo $?)" \
			"$hp the server has no fid left after the unmount (${hc_left:-?} left; $hc_inuse requests for a fid in use)"
	else
		echo "$hp the server had ${hc_left:-?} fids left after the unmount (not a test here)" | diag
	fi
	hc_fidcheck=1
	hs_d=$(hs_dstate)
	tap "$([ -z "$hs_d" ]; echo $?)" "$hp no task left in D state${hs_d:+: $hs_d}"
	if [ $hs_mod = zc ]; then
		hs_p1=$(hs_pins)
		tap "$([ "$hs_p1" = 0 ]; echo $?)" "$hp no pages left pinned (pinned_pages $hs_p1)"
	fi
	[ -n "$hs_note" ] && echo "$hp$hs_note" | diag
	grep -v '^[0-9.]* T[0-9]' $hs_log | tail -12 | sed 's/^/    server: /' | diag
}

# hc_exit how: a task writes 128 KiB to "data" on a cache=loose mount and
# exits, leaving the writeback to its exit (close: the file left open, the
# last fput; mmap: a dirty shared mapping, exit_mmap). Every Twrite is
# answered after 1.5 s. The exit must wait for it: the server then holds
# exactly what was written, before anything else (an unmount) writes back.
hc_exit() {
	hc_store=$HS_X/store-exit-$1
	rm -f $hc_store
	hc_start exit-$1 "--delay write:1500 --store $hc_store" $HS_OPTS,cache=loose || return
	hc_kw0=$(hs_stat killed_waits)
	hs_bounded 90 $HS_X/exit.out $HS exit"$([ $1 = close ] && echo write || echo map)" $HS_M/data 131072 71
	hc_r=$(hs_result $HS_X/exit.out)
	[ $hs_rc = 124 ] && hs_unstick $hs_pid "exiting writer"
	tap "$([ "$hc_r" = OK ]; echo $?)" "$hp the writer wrote and exited ($hc_r, exit took ${hs_ms}ms)"
	if [ $hs_mod = zc ]; then
		hc_kw=$(hs_stat killed_waits)
		tap "$([ "$hc_kw" = "$hc_kw0" ]; echo $?)" \
			"$hp the exit was not taken for a kill: no zero-copy wait gave up (killed_waits $hc_kw0, then $hc_kw)"
	fi
	$HS_CHK verify $hc_store 131072 71 >$HS_X/verify.out 2>&1
	hc_rc=$?
	diag <$HS_X/verify.out
	echo "$hp $(grep -c 'defer T118' $hs_log) Twrites answered after 1.5 s, $(grep -c 'deferred: dropped' $hs_log) flushed" | diag
	tap $hc_rc "$hp the server's file is what was written, as the task exited ($(stat -c %s $hc_store) bytes)"
	# A write the exit gave up on leaves an error on the file that no one
	# has seen: the next opener's fsync gets it.
	hs_bounded 20 $HS_X/fsync.out $HS fsync $HS_M/data
	tap "$([ "$(hs_result $HS_X/fsync.out)" = OK ]; echo $?)" \
		"$hp a later fsync reports no writeback error ($(hs_result $HS_X/fsync.out))"
	hc_end
}

# A task killed while another task's write frame waits to be sent: at msize
# 1 MiB the server answers writer A's first Twrite, then stops reading for
# 8 s; A's second frame is stuck partway into the socket (small buffers), and
# writer B's waits behind it, unsent, for the whole stall. The killed task's read is with the
# server (Treads are answered after 12 s), so the client flushes it, behind
# those frames. Both writes go on once the server reads again and succeed;
# the mount stays alive. Nothing the killed task does may fail the
# connection (zc9p before the fix failed it after 2 s without progress on
# any frame).
hc_kill_beside_write() {
	hs_small_buffers
	# Small socket buffers for the whole case (TCP grows a socket's buffers
	# up to tcp_wmem's maximum as it goes): the socket cannot take a frame
	# of 1 MiB whole.
	hc_start kill-beside-stalled-write "--mode stop-reading --arg 8 --delay read:12000" \
		version=9p2000.L,msize=1048576
	if [ $? != 0 ]; then
		hs_buffers_back
		return
	fi
	# The victim's read (zero copy) reaches the server, which holds it.
	$HS readat $HS_M/good 0 65536 $HS_SEED >$HS_X/victim.out 2>&1 &
	hc_vpid=$!
	hs_logwait "defer T116" 20 || hs_note="$hs_note (the victim's read never came)"
	$HS writeat $HS_M/bad 2097152 2097152 >$HS_X/write.out 2>&1 &
	hc_wpid=$!
	hs_logwait stall 20 || hs_note="$hs_note (the server never stalled)"
	$HS writeat $HS_M/bad 1048576 1048576 >$HS_X/write2.out 2>&1 &
	hc_w2pid=$!
	usleep 1000000
	hs_killed $hc_vpid victim task
	hc_w=
	for hc_p in $hc_wpid:write $hc_w2pid:write2; do
		if hs_wait 40 ${hc_p%:*}; then
			wait ${hc_p%:*}
			hc_w="$hc_w $(head -1 $HS_X/${hc_p#*:}.out)"
		else
			hc_w="$hc_w TIMEOUT"
			hs_unstick ${hc_p%:*} ${hc_p#*:}
		fi
	done
	tap "$([ "$hc_w" = " OK OK" ]; echo $?)" "$hp the other tasks' writes (2 MiB, 1 MiB) succeed once the server reads again ($hc_w )"
	hs_bounded 30 $HS_X/after.out $HS readat $HS_M/good 65536 65536 $HS_SEED
	tap "$([ "$(hs_result $HS_X/after.out)" = OK ]; echo $?)" \
		"$hp the mount is alive: a later read verifies ($(hs_result $HS_X/after.out))"
	[ $hs_mod = zc ] && echo "$hp dead=$(hs_stat dead) killed_waits=$(hs_stat killed_waits)" | diag
	hs_buffers_back
	hc_end
}

# A walk (stat of a path) killed while the server holds it (Twalks are
# answered after 1.5 s) and another task's read reply is being dribbled in:
# the walk was sent, so the client must flush it (the server then drops it);
# with "never sent" the client reuses the new fid's number while the server
# creates it, and the next walk to that number fails. An unrelated stat
# afterwards must succeed, and no fid be left on the server.
hc_killed_walk() {
	hc_start killed-walk-dribbled-read "--mode dribble --arg 40 --delay walk:1500" $HS_OPTS || return
	# The reader opens "bad" (its walk takes 1.5 s) and its read's reply is dribbled.
	$HS readat $HS_M/bad 0 65536 $HS_SEED >$HS_X/read.out 2>&1 &
	hc_rpid=$!
	hs_logwait "trigger dribble" 30 || hs_note="$hs_note (no dribbled read)"
	usleep 300000
	hc_n0=$(grep -c 'defer T110' $hs_log)
	stat $HS_M/good >/dev/null 2>&1 &
	hc_spid=$!
	hs_now; hc_lim=$((hs_t + 1000))
	until [ "$(grep -c 'defer T110' $hs_log)" -gt $hc_n0 ] || { hs_now; [ $hs_t -ge $hc_lim ]; }; do
		usleep 20000
	done
	usleep 300000
	hs_killed $hc_spid stat stat
	# At once, while the reader still holds its fid: the new walk takes the
	# lowest free fid number, the killed walk's if the client freed it.
	hs_bounded 20 $HS_X/stat.out stat -c %s $HS_M/good
	hc_st=$(hs_result $HS_X/stat.out)
	tap "$([ "$hc_st" = $HS_SIZE ]; echo $?)" "$hp an unrelated stat afterwards succeeds ($hc_st)"
	if hs_wait 60 $hc_rpid; then
		wait $hc_rpid
		hc_rd=$(head -1 $HS_X/read.out)
	else
		hc_rd=TIMEOUT
		hs_unstick $hc_rpid reader
	fi
	tap "$([ "$hc_rd" = OK ]; echo $?)" "$hp the dribbled read verifies ($hc_rd)"
	echo "$hp server: $(grep -c 'deferred: dropped' $hs_log) deferred requests flushed, $(grep -c 'in use: T' $hs_log) refused for a fid in use" | diag
	hc_end
}

# fail-nth over stat(2) of "good": for N = 1, 2, ... the Nth allocation of
# the call fails (failslab, sleeping allocations included), until the call
# makes fewer than N. Each stat may fail (ENOMEM), but the next stat, without
# failures, must work: an allocation failure on the request path must not
# disconnect the mount.
hc_failnth() {
	hc_fs=$DBG/failslab
	[ -d $hc_fs ] || hc_fs=/sys/kernel/debug/failslab
	if [ ! -w /proc/self/fail-nth ] || [ ! -d $hc_fs ]; then
		if [ -n "${ZC9P_STOCK:-}" ]; then
			# A distribution kernel has no fault injection (zc9p.stock=1).
			ktap_test_skip "$HS_P failnth-stat: no fault injection in this kernel (a stock kernel)"
			return
		fi
		tap 1 "$HS_P failnth-stat: /proc/self/fail-nth and $hc_fs exist (CONFIG_FAILSLAB, CONFIG_FAULT_INJECTION_DEBUG_FS)"
		return
	fi
	# The 9P client itself leaks a fid on the server when a Tclunk cannot be
	# allocated (p9_client_clunk destroys the fid anyway, and reuses its
	# number), with either transport: the server lets a new fid replace one
	# in use, so what is left to see is the transport's part.
	hc_fidcheck=0
	hc_start failnth-stat "--lax-fids" $HS_OPTS || return
	hc_igw=$(cat $hc_fs/ignore-gfp-wait)
	hc_vb=$(cat $hc_fs/verbose)
	echo N >$hc_fs/ignore-gfp-wait
	echo 0 >$hc_fs/verbose
	hc_n=1 hc_bad='' hc_errs=0
	while [ $hc_n -le 300 ]; do
		hc_o=$(timeout 20 $HS failnth $HS_M/good $hc_n)
		case $hc_o in *" injected") ;; *) break ;; esac
		[ "${hc_o%% *}" = OK ] || hc_errs=$((hc_errs + 1))
		hc_o2=$(timeout 20 stat -c %s $HS_M/good 2>&1)
		[ "$hc_o2" = $HS_SIZE ] || hc_bad="$hc_bad n=$hc_n:${hc_o%% *}->${hc_o2:-TIMEOUT}"
		hc_n=$((hc_n + 1))
	done
	echo $hc_igw >$hc_fs/ignore-gfp-wait
	echo $hc_vb >$hc_fs/verbose
	tap "$([ "${hc_o:-}" = "OK not-injected" ]; echo $?)" \
		"$hp stepped over every allocation of stat: $((hc_n - 1)) failed in turn, $hc_errs of those stats failed, then one without a failure ($hc_o)"
	tap "$([ -z "$hc_bad" ]; echo $?)" "$hp after each, a stat without failures works${hc_bad:+:$hc_bad}"
	hs_bounded 20 $HS_X/after.out $HS readat $HS_M/good 0 65536 $HS_SEED
	tap "$([ "$(hs_result $HS_X/after.out)" = OK ]; echo $?)" \
		"$hp the mount is alive: a read verifies ($(hs_result $HS_X/after.out))"
	hc_end
}

# A Twrite answered (Rlerror EFBIG) before the server read its payload,
# which it drains afterwards: the write fails with that error and the
# connection goes on, as the protocol allows (9pnet_fd accepts a reply to a
# request it is still writing).
hc_early_rlerror() {
	hs_small_buffers
	hc_start early-rlerror "--mode early-rlerror" $HS_OPTS
	hc_ok=$?
	hs_buffers_back
	[ $hc_ok = 0 ] || return
	hs_bounded 30 $HS_X/write.out $HS writeat $HS_M/bad 131072 65536
	hc_w=$(hs_result $HS_X/write.out)
	[ $hs_rc = 124 ] && hs_unstick $hs_pid writer
	tap "$([ "$hc_w" = EFBIG ]; echo $?)" "$hp the write fails with the server's early error ($hc_w; $(grep -c 'drained' $hs_log) payload drained)"
	hs_bounded 20 $HS_X/after.out $HS readat $HS_M/good 0 65536 $HS_SEED
	tap "$([ "$(hs_result $HS_X/after.out)" = OK ]; echo $?)" \
		"$hp the connection goes on: a later read verifies ($(hs_result $HS_X/after.out))"
	if [ $hs_mod = zc ]; then
		hc_pe=$(hs_stat protocol_errors)
		tap "$([ "$hc_pe" = 0 ]; echo $?)" "$hp no protocol error counted ($hc_pe; early_replies $(hs_stat early_replies))"
	fi
	hc_end
}

# Zero-length reads and reads at the end of the file: 0 bytes, not an error.
hc_zero_read() {
	hc_store=$HS_X/store-zero
	rm -f $hc_store
	: >$hc_store
	hc_start zero-read "--store $hc_store" $HS_OPTS || return
	hc_bad=
	for hc_a in "data 0 65536" "good $HS_SIZE 65536" "good $((HS_SIZE + 4096)) 8192" "good 0 0"; do
		set -- $hc_a
		hc_o=$(timeout 20 $HS readlen $HS_M/$1 $2 $3 2>&1)
		[ "$hc_o" = 0 ] || hc_bad="$hc_bad [$hc_a: $hc_o]"
		if [ $3 != 0 ]; then
			hc_o=$(timeout 20 env HS_ODIRECT=1 $HS readlen $HS_M/$1 $2 $3 2>&1)
			[ "$hc_o" = 0 ] || hc_bad="$hc_bad [O_DIRECT $hc_a: $hc_o]"
		fi
	done
	tap "$([ -z "$hc_bad" ]; echo $?)" "$hp reads of 0 bytes (empty file, at and past the end, count 0) return 0${hc_bad:+:$hc_bad}"
	hc_end
}

contract_suite() {
	hs_load "$1" contract || return
	for hc_c in ${HC_CASES:-$HC_ALL}; do
		case $hc_c in
		exit-close) hc_exit close ;;
		exit-mmap) hc_exit mmap ;;
		kill-beside-stalled-write) hc_kill_beside_write ;;
		killed-walk-dribbled-read) hc_killed_walk ;;
		failnth-stat) hc_failnth ;;
		early-rlerror) hc_early_rlerror ;;
		zero-read) hc_zero_read ;;
		*) tap 1 "$HS_P unknown case $hc_c" ;;
		esac
	done
	hs_unload
}
