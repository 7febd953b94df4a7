# SPDX-License-Identifier: GPL-2.0
# The 9P servers the guest starts on loopback, shared by the fd transports'
# tests (fdsuite.sh, versions.sh) and the benchmark (bench.sh); sourced.
# Each server runs in the background with its log and pid file in SRV_DIR
# (SRV_DIR/NAME.log, SRV_DIR/NAME.pid), a folder the caller sets and makes.
SRV_DIOD=/usr/sbin/diod
SRV_UNPFS=/usr/bin/unpfs
SRV_LAWN=/usr/bin/zc9p-lawn9p
# How long a server may take to listen: diod takes seconds under TCG.
SRV_START_SECS=60

# srv_gone PID: PID has exited (gone, or a zombie not yet reaped by init).
srv_gone() {
	[ ! -e /proc/$1/stat ] && return 0
	[ "$(cut -d' ' -f3 /proc/$1/stat 2>/dev/null)" = Z ]
}

# srv_wait_gone SECONDS PID: wait (at most SECONDS) for PID to exit.
srv_wait_gone() {
	srv_i=0
	while ! srv_gone $2; do
		[ $srv_i -ge $(($1 * 10)) ] && return 1
		usleep 100000
		srv_i=$((srv_i + 1))
	done
}

# srv_listening tcp PORT | unix PATH | vsock PORT: a server listens there (on
# vsock, of which /proc shows nothing, a connection to CID 1 succeeds).
srv_listening() {
	case $1 in
	tcp) grep -qi "^ *[0-9]*: [0-9A-F]*:$(printf %04X $2) [0-9A-F]*:0000 0A" /proc/net/tcp ;;
	unix) grep -q " 00010000 0001 01 *[0-9]* $2\$" /proc/net/unix ;; # __SO_ACCEPTCON
	vsock) socat -u OPEN:/dev/null VSOCK-CONNECT:1:$2 2>/dev/null ;;
	esac
}

# srv_start NAME tcp PORT|unix PATH|vsock PORT COMMAND...: start a server and
# wait until it listens there. When it does not (in SRV_START_SECS, or it
# exits), its log goes to stderr and the status is 1.
srv_start() {
	srv_name=$1 srv_kind=$2 srv_where=$3
	shift 3
	"$@" </dev/null >$SRV_DIR/$srv_name.log 2>&1 &
	echo $! >$SRV_DIR/$srv_name.pid
	srv_i=0
	while ! srv_listening $srv_kind $srv_where; do
		if [ $srv_i -ge $((SRV_START_SECS * 10)) ] || srv_gone "$(cat $SRV_DIR/$srv_name.pid)"; then
			echo "server $srv_name did not start ($*):" >&2
			sed 's/^/    /' $SRV_DIR/$srv_name.log >&2
			return 1
		fi
		usleep 100000
		srv_i=$((srv_i + 1))
	done
}

# srv_stop NAME...: stop the servers started by srv_start (or by zc9p-fdmount,
# which writes SRV_DIR/NAME.pid too): TERM, then KILL after 10 s.
srv_stop() {
	for srv_name; do
		[ -e $SRV_DIR/$srv_name.pid ] || continue
		srv_p=$(cat $SRV_DIR/$srv_name.pid)
		rm -f $SRV_DIR/$srv_name.pid
		srv_gone $srv_p && continue
		kill $srv_p 2>/dev/null
		srv_wait_gone 10 $srv_p || kill -9 $srv_p 2>/dev/null
		wait $srv_p 2>/dev/null
	done
	return 0
}

# srv_diod_opts EXPORT: diod's options for a server exporting EXPORT.
# srv_diod_start EXPORT: diod exporting EXPORT (9P2000.L only, msize at most
# 65536) on 127.0.0.1:564 (diod-tcp) and on SRV_DIR/diod.sock (diod-unix),
# and socat relaying vsock port 564 (any CID of this guest) to that socket
# (socat-vsock), 256 KiB per read (its default, 8 KiB, would be eight system
# calls a 64 KiB message each way).
srv_diod_opts() { echo "-f -n -N -c /dev/null -L stderr -e $1"; }
srv_diod_start() {
	srv_opts=$(srv_diod_opts $1)
	srv_start diod-tcp tcp 564 $SRV_DIOD $srv_opts -l 127.0.0.1:564 &&
		srv_start diod-unix unix $SRV_DIR/diod.sock $SRV_DIOD $srv_opts -l $SRV_DIR/diod.sock &&
		srv_start socat-vsock vsock 564 socat -b 262144 VSOCK-LISTEN:564,fork,reuseaddr UNIX-CONNECT:$SRV_DIR/diod.sock
}

# srv_unpfs_start EXPORT [unix]: unpfs (replies out of order) exporting
# EXPORT on 127.0.0.1:5640 (unpfs-tcp) and, with "unix", on
# SRV_DIR/unpfs.sock (unpfs-unix; its unix listener is at PATH:PORT).
srv_unpfs_start() {
	srv_start unpfs-tcp tcp 5640 $SRV_UNPFS 'tcp!127.0.0.1!5640' $1 || return 1
	[ "${2:-}" = unix ] || return 0
	srv_start unpfs-unix unix $SRV_DIR/unpfs.sock:0 $SRV_UNPFS "unix!$SRV_DIR/unpfs.sock!0" $1
}

# srv_lawn_start EXPORT PORT: lawn-9p (every protocol version) exporting
# EXPORT on 127.0.0.1:PORT (lawn-tcp) and on SRV_DIR/lawn.sock (lawn-unix).
srv_lawn_start() {
	srv_start lawn-tcp tcp $2 $SRV_LAWN $1 -l 127.0.0.1:$2 &&
		srv_start lawn-unix unix $SRV_DIR/lawn.sock $SRV_LAWN $1 -l $SRV_DIR/lawn.sock
}
