# SPDX-License-Identifier: GPL-2.0
# The fd transports' suite (sourced; needs tap.sh): trans=tcp, trans=unix and
# trans=fd mounts of 9P servers running in the guest, and of a diod on the
# host through QEMU's user networking when the kernel command line names one.
#
#   fd_suite c      mainline's C transport, 9pnet_fd.ko
#   fd_suite zc ZC  zc9p's, zc9p_fd.ko zerocopy=ZC (with its counters)
#
# Servers: diod (9P2000.L only, msize at most 65536) on 127.0.0.1:564 and on a
# unix socket (also reached over vsock, CID 1 port 564, through socat's
# VSOCK-LISTEN: zc9p_fd's trans=vsock, which mainline has not), and one per
# trans=fd mount over a socketpair or two pipes (zc9p-fdmount forks it); unpfs (replies out of order, takes the
# client's msize) on tcp and unix when the initramfs has it. They all export
# one folder on the guest's tmpfs, so every test can also check what the
# server really stored. Both modules register tcp, unix and fd: only one may
# be loaded at a time.
#
# The host's diod (tools/run-tests.sh): zc9p.hostport=PORT and
# zc9p.hostaname=DIR on the command line; its DIR holds from-host (written on
# the host), the guest writes from-guest-TAG there for the host to verify.

FD_CHK=$ZC9P_DIR/zc9p-check
FD_MOUNT=$ZC9P_DIR/zc9p-fdmount
FD_DBG=/sys/kernel/debug/zc9p_fd
FD_X=/tmp/fdx           # the servers' sockets, pid files and logs
FD_EXP=$FD_X/export     # what they all export
# The servers (servers.sh) keep their pid files and logs in FD_X.
. $ZC9P_DIR/servers.sh
# shellcheck disable=SC2034 # servers.sh's
SRV_DIR=$FD_X
FD_M=/mnt/fd            # where the suite mounts
FD_MIB=1048576
FD_DIOD_OPTS=$(srv_diod_opts $FD_EXP)
# The host's file, as tools/run-tests.sh writes it.
FD_HOST_SIZE=$((3 * FD_MIB + 5))
FD_HOST_SEED=61

fd_loaded() { grep -q "^$1 " /proc/modules; }

# fd_unload_all: neither fd transport module loaded (they register the same names).
fd_unload_all() {
	for m in 9pnet_fd zc9p_fd; do
		fd_loaded $m && rmmod $m
	done
	! fd_loaded 9pnet_fd && ! fd_loaded zc9p_fd
}

# connstat FIELD: FIELD of zc9p_fd's single live connection (dead: 0); fails
# (message on stderr) unless there is exactly one.
connstat() {
	fd_n=0 fd_val=
	for fd_f in $FD_DBG/*/stats; do
		[ -e "$fd_f" ] || continue
		grep -q '^dead: 0$' "$fd_f" || continue
		fd_n=$((fd_n + 1))
		fd_val=$(sed -n "s/^$1: //p" "$fd_f")
	done
	[ $fd_n -eq 1 ] || { echo "connstat $1: $fd_n live connections" >&2; return 1; }
	echo "$fd_val"
}

# fd_live_conns: how many zc9p_fd connections are live.
fd_live_conns() {
	fd_n=0
	for fd_f in $FD_DBG/*/stats; do
		[ -e "$fd_f" ] && grep -q '^dead: 0$' "$fd_f" && fd_n=$((fd_n + 1))
	done
	echo $fd_n
}

fd_pins() { sed -n "s/^$1: //p" $FD_DBG/pins; }

fd_have_unpfs() { [ -x $SRV_UNPFS ]; }

# fd_servers_start: the export folder (with big/, 5000 entries made on the
# tmpfs itself) and the listening servers.
fd_servers_start() {
	mkdir -p $FD_X || return 1
	rm -rf $FD_X/*.log $FD_X/*.pid $FD_X/*.sock* # a previous run's
	# big/ stays from one fd_suite to the next (5000 creates take seconds).
	[ "$(ls $FD_EXP/big 2>/dev/null | wc -l)" = 5000 ] || {
		rm -rf $FD_EXP/big
		mkdir -p $FD_EXP/big && $FD_CHK mkfiles $FD_EXP/big 5000
	} || return 1
	mkdir -p $FD_M
	srv_diod_start $FD_EXP || return 1
	if fd_have_unpfs; then
		srv_unpfs_start $FD_EXP unix || return 1
	fi
}

fd_servers_stop() {
	srv_stop diod-tcp diod-unix socat-vsock unpfs-tcp unpfs-unix
}

# fd_source NAME: sets FD_SRC (the mount source of transport NAME) and
# FD_TRANS (its kind: tcp, unix or fd) in the calling shell.
fd_source() {
	case $1 in
	tcp|unpfs-tcp-*) FD_SRC=127.0.0.1 FD_TRANS=tcp ;;
	unix) FD_SRC=$FD_X/diod.sock FD_TRANS=unix ;;
	vsock) FD_SRC=1 FD_TRANS=vsock ;; # CID 1: this guest, vsock's loopback transport
	unpfs-unix-*) FD_SRC=$FD_X/unpfs.sock:0 FD_TRANS=unix ;; # unpfs listens at PATH:PORT
	fd-*) FD_SRC=diod-${1#fd-} FD_TRANS=fd ;;
	esac
}

# fd_mount NAME: mount transport NAME on $FD_M; prints OK or the errno name.
#   tcp, unix             diod on 127.0.0.1:564, on $FD_X/diod.sock
#   vsock                 diod on $FD_X/diod.sock through socat, CID 1 port 564
#   fd-socketpair|pipes   a diod of its own over a socketpair or two pipes
#   unpfs-tcp|unix-MSIZE  unpfs, at that msize
# diod -N (no user database) attaches only uname=root.
FD_DIOD_MNT="version=9p2000.L,msize=65536,uname=root,aname=$FD_EXP"
fd_mount() {
	fd_source $1
	# shellcheck disable=SC1083 # {R} and {W} are literal: the placeholders for the pipe fds
	case $1 in
	tcp) $FD_CHK mount $FD_SRC $FD_M trans=tcp,port=564,$FD_DIOD_MNT ;;
	unix) $FD_CHK mount $FD_SRC $FD_M trans=unix,$FD_DIOD_MNT ;;
	vsock) $FD_CHK mount $FD_SRC $FD_M trans=vsock,port=564,$FD_DIOD_MNT ;;
	fd-socketpair|fd-pipes)
		$FD_MOUNT ${1#fd-} $FD_SRC $FD_M $FD_DIOD_MNT $FD_X/$1.pid $FD_X/$1.log \
			$SRV_DIOD $FD_DIOD_OPTS --rfdno {R} --wfdno {W} ;;
	unpfs-tcp-*) $FD_CHK mount $FD_SRC $FD_M trans=tcp,port=5640,version=9p2000.L,msize=${1#unpfs-tcp-} ;;
	unpfs-unix-*) $FD_CHK mount $FD_SRC $FD_M trans=unix,version=9p2000.L,msize=${1#unpfs-unix-} ;;
	*) echo "fd_mount: unknown transport $1"; return 1 ;;
	esac
}

fd_mounted() { grep -q " $FD_M 9p " /proc/mounts; }

# fd_server_log NAME: the end of the log of transport NAME's server.
fd_server_log() {
	case $1 in
	tcp) fd_f=diod-tcp ;;
	unix) fd_f=diod-unix ;;
	vsock) tail -5 $FD_X/socat-vsock.log 2>&1; fd_f=diod-unix ;;
	unpfs-tcp-*) fd_f=unpfs-tcp ;;
	unpfs-unix-*) fd_f=unpfs-unix ;;
	*) fd_f=$1 ;;
	esac
	echo "$fd_f.log:"
	tail -20 $FD_X/$fd_f.log 2>&1
}

# fd_transport NAME SIZES [FULL [READDIR]]: the tests over one mount of
# transport NAME (see fd_mount), files of each of SIZES bytes; then unmount
# and clean up. FULL=1 (the default) runs the misaligned-buffer matrix and 1 MiB
# concurrent files, FULL=0 a lighter set (the secondary transports: their
# time under TCG is per request); READDIR=0 skips the 5000-entry readdir.
fd_transport() {
	fd_t=$1 fd_sizes=$2 fd_full=${3:-1} fd_readdir=${4:-1}
	P="$FD_P $fd_t:"
	fd_source $fd_t
	expect "$P mount" OK fd_mount $fd_t
	if ! fd_mounted; then
		tap 1 "$P tests (not mounted)"
		fd_server_log $fd_t | diag
		srv_stop $fd_t
		return
	fi
	fd_w=$FD_M/$fd_t fd_e=$FD_EXP/$fd_t
	mkdir -p $fd_w
	if [ $FD_MOD = zc ]; then
		expect "$P stats: transport" $FD_TRANS connstat transport
		expect "$P stats: addr is the mount source" "$FD_SRC" connstat addr
		fd_z0=$(connstat zc_requests) fd_c0=$(connstat copy_requests)
		fd_s0=$(connstat zc_bytes_sent) fd_r0=$(connstat zc_bytes_received)
	fi

	# Files: written and read back through the mount, and checked in the
	# server's own folder.
	fd_bad=0
	for fd_size in $fd_sizes; do
		# Written in one call or 1 MiB calls (each many requests at diod's
		# msize), read back in 4 KiB calls below 1 MiB, else in 1 MiB calls.
		fd_bs=$FD_MIB fd_rbs=$FD_MIB
		[ $fd_size -lt $FD_MIB ] && fd_rbs=4096
		check "$P write+read $fd_size bytes, content verified" \
			sh -c "$FD_CHK write $fd_w/rt-$fd_size $fd_size $fd_size $fd_bs &&
			       $FD_CHK verify $fd_w/rt-$fd_size $fd_size $fd_size $fd_rbs"
		$FD_CHK verify $fd_e/rt-$fd_size $fd_size $fd_size $FD_MIB >>/tmp/fd-srv.out 2>&1 || fd_bad=1
	done
	[ $fd_bad = 0 ] || diag </tmp/fd-srv.out
	rm -f /tmp/fd-srv.out
	tap $fd_bad "$P the server's copies of those files match"
	# Buffers at page offsets: each size in one call (full), or one file in
	# odd-sized calls that straddle pages and requests (light).
	for fd_off in 0 1 511 4095; do
		fd_bad=0
		if [ $fd_full = 1 ]; then
			for fd_size in 1025 4097 65537 262147; do
				offset_roundtrip $fd_w/mis-$fd_off-$fd_size $fd_size $fd_off $fd_size $fd_size || fd_bad=1
			done
			tap $fd_bad "$P buffers at offset $fd_off, 1 KiB+1 to 256 KiB in one call: content verified"
		else
			offset_roundtrip $fd_w/mis-$fd_off 262147 $fd_off 65537 16411 || fd_bad=1
			tap $fd_bad "$P buffers at offset $fd_off, 256 KiB+3 in 64 KiB+1 writes, 16 KiB+27 reads: content verified"
		fi
	done
	check "$P a single read(2) of 1 MiB, content verified" $FD_CHK readonce $fd_w/rt-$FD_MIB $FD_MIB $FD_MIB
	if [ $FD_MOD = zc ]; then
		fd_z1=$(connstat zc_requests) fd_c1=$(connstat copy_requests)
		fd_s1=$(connstat zc_bytes_sent) fd_r1=$(connstat zc_bytes_received)
		if [ $FD_ZC = 1 ]; then
			check "$P those went by zero copy ($((fd_z1 - fd_z0)) zc requests)" [ $((fd_z1 - fd_z0)) -ge 20 ]
			check "$P zero-copy bytes sent ($((fd_s1 - fd_s0))) cover the files written" \
				[ $((fd_s1 - fd_s0)) -ge $FD_MIB ]
			check "$P zero-copy bytes received ($((fd_r1 - fd_r0))) cover the files read" \
				[ $((fd_r1 - fd_r0)) -ge $FD_MIB ]
		else
			check "$P those went by the copy path ($((fd_c1 - fd_c0)) copy requests, zc requests stay 0)" \
				sh -c "[ $fd_z1 = 0 ] && [ $((fd_c1 - fd_c0)) -ge 20 ]"
		fi
	fi

	fd_csize=$FD_MIB
	[ $fd_full = 1 ] || fd_csize=262144
	concurrent par 4 $fd_csize 300 65536 $((65536 + 4096)) $fd_w
	tap $? "$P 4 concurrent writer+reader processes ($fd_csize bytes each)"
	[ $fd_readdir = 1 ] &&
		expect "$P readdir of a 5000-entry directory" 5000 $FD_CHK countdir $FD_M/big

	# Namespace and metadata operations, each also seen in the server's folder.
	check "$P mkdir" sh -c "mkdir $fd_w/d1 && [ -d $fd_e/d1 ]"
	check "$P rename a directory" sh -c "mv $fd_w/d1 $fd_w/d2 && [ -d $fd_e/d2 ] && [ ! -e $fd_e/d1 ]"
	check "$P rmdir" sh -c "rmdir $fd_w/d2 && [ ! -e $fd_e/d2 ]"
	check "$P create + rename a file" \
		sh -c "$FD_CHK write $fd_w/f1 5000 1 && mv $fd_w/f1 $fd_w/f2 && [ ! -e $fd_e/f1 ] && $FD_CHK verify $fd_e/f2 5000 1"
	case $fd_t in
	unpfs-*) # unpfs implements no Tsymlink: it answers EOPNOTSUPP.
		check "$P symlink: EOPNOTSUPP from unpfs, nothing created" \
			sh -c "! ln -s f2 $fd_w/l1 2>/tmp/ln.err && grep -q 'not supported' /tmp/ln.err && [ ! -L $fd_e/l1 ]"
		ln -s f2 $fd_e/l1 ;; # made on the server side, for the unlink below
	*)	check "$P symlink + readlink" \
			sh -c "ln -s f2 $fd_w/l1 && [ \"\$(readlink $fd_w/l1)\" = f2 ] && [ \"\$(readlink $fd_e/l1)\" = f2 ]" ;;
	esac
	check "$P readlink + read through a symlink" \
		sh -c "[ \"\$(readlink $fd_w/l1)\" = f2 ] && $FD_CHK verify $fd_w/l1 5000 1"
	check "$P chmod" sh -c "chmod 0640 $fd_w/f2 && [ \$(stat -c %a $fd_w/f2) = 640 ] && [ \$(stat -c %a $fd_e/f2) = 640 ]"
	check "$P stat size" sh -c "[ \$(stat -c %s $fd_w/f2) = 5000 ]"
	check "$P unlink" sh -c "rm $fd_w/f2 $fd_w/l1 && [ ! -e $fd_w/f2 ] && [ ! -e $fd_e/f2 ] && [ ! -L $fd_e/l1 ]"
	expect "$P opening a missing file fails with ENOENT" ENOENT $FD_CHK ioerr $fd_w/missing 10

	if [ $FD_MOD = zc ]; then
		expect "$P stats: no request in flight" 0 connstat in_flight
		expect "$P stats: no page left pinned" 0 connstat pinned_pages
		expect "$P stats: no protocol error" 0 connstat protocol_errors
		expect "$P stats: connection not dead" 0 connstat dead
		# A file the user passed (trans=fd) is never written from the
		# submitting task: its socket uses the task's page fragment, which
		# that task may be using itself. Our own sockets are.
		case $fd_t in
		fd-*) expect "$P stats: no send from a submitting task on the user's file" 0 connstat inline_sends ;;
		tcp|unix|vsock) check "$P stats: sends from the submitting task on our own socket ($(connstat inline_sends))" \
			[ "$(connstat inline_sends)" -gt 0 ] ;;
		esac
		# tcp and unix reference a write's pages in their packets; vsock copies
		# them into its own (it ignores MSG_SPLICE_PAGES), so nothing may be
		# counted as spliced there.
		case $fd_t in
		tcp|unix) [ $FD_ZC = 1 ] && check "$P stats: payload pages spliced into the socket ($(connstat spliced_sends) sends)" \
			[ "$(connstat spliced_sends)" -gt 0 ] ;;
		vsock) expect "$P stats: no spliced send (vsock copies the payload into its packets)" 0 connstat spliced_sends ;;
		esac
		# A unix socket wakes its writer for room after every read of the other
		# end; with nothing waiting to be sent, the worker stays asleep.
		case $fd_t in unix|vsock|fd-socketpair|unpfs-unix-*)
			check "$P stats: write-space wake-ups with nothing to send ignored ($(connstat write_wakeups_ignored))" \
				[ "$(connstat write_wakeups_ignored)" -gt 0 ] ;;
		esac
		for fd_f in $FD_DBG/*/stats; do echo "$P $fd_f:"; sed 's/^/    /' $fd_f; done | diag
	fi
	check "$P unmount" umount $FD_M
	case $fd_t in
	fd-*) # Its server ends when the kernel closes the channel.
		fd_p=$(cat $FD_X/$fd_t.pid 2>/dev/null)
		check "$P its server exits after the unmount" srv_wait_gone 60 "$fd_p"
		srv_stop $fd_t ;;
	esac
	[ $FD_MOD = zc ] && expect "$P no live connection after the unmount" 0 fd_live_conns
	rm -rf $fd_e
}

# fd_host ZC_TAG: the host's diod through QEMU's user networking (10.0.2.2).
fd_host() {
	fd_port=$(sed -n 's/.*zc9p\.hostport=\([0-9]*\).*/\1/p' /proc/cmdline)
	fd_aname=$(sed -n 's/.*zc9p\.hostaname=\([^ ]*\).*/\1/p' /proc/cmdline)
	[ -n "$fd_port" ] || return 0
	P="$FD_P host diod:"
	expect "$P mount 10.0.2.2 port $fd_port" OK \
		$FD_CHK mount 10.0.2.2 $FD_M trans=tcp,port=$fd_port,version=9p2000.L,msize=65536,uname=root,aname=$fd_aname
	if ! fd_mounted; then
		tap 1 "$P tests (not mounted)"
		return
	fi
	[ $FD_MOD = zc ] && expect "$P stats: addr" 10.0.2.2 connstat addr
	check "$P the host's file reads back verified" \
		$FD_CHK verify $FD_M/from-host $FD_HOST_SIZE $FD_HOST_SEED
	check "$P write a file for the host to verify" \
		$FD_CHK write $FD_M/from-guest-$1 $((FD_MIB + 3)) 62
	check "$P unmount" umount $FD_M
}

# fd_mounted_msize: the msize /proc/mounts shows for $FD_M (9P leaves out its
# default, 131096: then that).
fd_mounted_msize() {
	sed -n "s|^[^ ]* $FD_M 9p .*|&,|p" /proc/mounts | sed -n 's/.*,msize=\([0-9]*\),.*/\1/p; t; s/.*/131096/p'
}

# fd_default_msize: mounts without msize= get zc9p_fd's default_msize (the
# transport's 1 MiB) with zero copy, as far as the server agrees (unpfs takes
# the client's; diod caps at 65536); 9P's 131096 on the copy path and on
# mainline's transport.
FD_DEFAULT_MSIZE=1048576
fd_default_msize() {
	fd_want=131096
	[ $FD_MOD = zc ] && [ $FD_ZC = 1 ] && fd_want=$FD_DEFAULT_MSIZE
	[ $FD_MOD = zc ] && expect "$P default_msize is in sysfs" $FD_DEFAULT_MSIZE cat /sys/module/zc9p_fd/parameters/default_msize
	if fd_have_unpfs; then
		expect "$P unpfs over tcp without msize=: mounts" OK \
			$FD_CHK mount 127.0.0.1 $FD_M trans=tcp,port=5640,version=9p2000.L
		expect "$P and negotiates $fd_want" $fd_want fd_mounted_msize
		fd_mounted && umount $FD_M
	fi
	expect "$P diod over unix without msize=: mounts" OK \
		$FD_CHK mount $FD_X/diod.sock $FD_M trans=unix,version=9p2000.L,uname=root,aname=$FD_EXP
	expect "$P and negotiates diod's cap, 65536" 65536 fd_mounted_msize
	fd_mounted && umount $FD_M
	if [ $FD_MOD = zc ] && [ $FD_ZC = 1 ] && fd_have_unpfs; then
		expect "$P unpfs with msize=262144: mounts" OK \
			$FD_CHK mount 127.0.0.1 $FD_M trans=tcp,port=5640,version=9p2000.L,msize=262144
		expect "$P and keeps it" 262144 fd_mounted_msize
		fd_mounted && umount $FD_M
	fi
}

# fd_host_vsock: the host's diod over vsock (CID 2, the port in
# zc9p.hostvsock=PORT: tools/run-tests.sh relays it where the host has
# vhost-vsock); skipped, saying why, where it has not.
fd_host_vsock() {
	fd_vport=$(sed -n 's/.*zc9p\.hostvsock=\([^ ]*\).*/\1/p' /proc/cmdline)
	fd_aname=$(sed -n 's/.*zc9p\.hostaname=\([^ ]*\).*/\1/p' /proc/cmdline)
	P="$FD_P host diod over vsock:"
	case $fd_vport in
	''|none)
		ktap_test_skip "$P the host has no /dev/vhost-vsock: QEMU cannot give this guest a vsock device"
		return ;;
	esac
	expect "$P mount CID 2 port $fd_vport" OK \
		$FD_CHK mount 2 $FD_M trans=vsock,port=$fd_vport,version=9p2000.L,msize=65536,uname=root,aname=$fd_aname
	fd_mounted || return
	expect "$P stats: transport" vsock connstat transport
	check "$P the host's file reads back verified" \
		$FD_CHK verify $FD_M/from-host $FD_HOST_SIZE $FD_HOST_SEED
	check "$P a file written and read back, verified" \
		sh -c "$FD_CHK write $FD_M/vsock-rt $((FD_MIB + 7)) 63 && $FD_CHK verify $FD_M/vsock-rt $((FD_MIB + 7)) 63 && rm $FD_M/vsock-rt"
	check "$P unmount" umount $FD_M
}

# fd_run NAME: fd_transport with NAME's file sizes and test set. The long
# streams only on tcp (16 MiB; 64 MiB too in a long suite); the secondary
# transports share its code paths above 1 MiB and take the lighter set (their
# time under TCG goes per request and per process, not per byte). unpfs's
# readdir stats every entry (seconds for 5000 under TCG): only in a long
# suite, at msize 1 MiB.
fd_run() {
	case $1 in
	tcp) fd_transport tcp "0 1 4095 4096 4097 $FD_MIB $((16 * FD_MIB))$([ $FD_LONG = 1 ] && echo " $((64 * FD_MIB))")" ;;
	unix|vsock|fd-socketpair|fd-pipes) fd_transport $1 "0 1 4096 4097 $FD_MIB" 0 ;;
	unpfs-*)
		if ! fd_have_unpfs; then
			tap 1 "$FD_P $1: unpfs is missing from the initramfs, not run"
			return
		fi
		fd_readdir=0
		[ $FD_LONG = 1 ] && [ "${1#unpfs-unix}" != "$1" ] && fd_readdir=1
		fd_transport $1 "0 1 4096 4097 $FD_MIB" 0 $fd_readdir ;;
	*) tap 1 "$FD_P unknown transport '$1'" ;;
	esac
}

# fd_suite c | zc ZC [long]: the suite over each transport of FD_TRANSPORTS
# (default: all of fd_run's), the host's diod, module lifetime. "long" adds
# the 64 MiB tcp stream and unpfs's readdir.
fd_suite() {
	FD_MOD=$1 FD_ZC=${2:-0} FD_LONG=0
	[ "${3:-}" = long ] && FD_LONG=1
	case $FD_MOD in
	c) FD_P="[fd c]" FD_KO=$ZC9P_MODDIR/9pnet_fd.ko FD_NAME=9pnet_fd FD_ARGS='' FD_TAG=c ;;
	zc) FD_P="[fd zc=$FD_ZC]" FD_KO=$ZC9P_MODDIR/zc9p_fd.ko FD_NAME=zc9p_fd FD_ARGS=zerocopy=$FD_ZC FD_TAG=zc$FD_ZC ;;
	*) tap 1 "fd_suite: unknown module '$FD_MOD'"; return ;;
	esac
	P=$FD_P
	if [ ! -e $FD_KO ]; then
		tap 1 "$P $FD_KO is missing: suite not run"
		return
	fi
	fd_start_s=$(date +%s)
	check "$P no other fd transport loaded" fd_unload_all
	check "$P servers started (diod tcp+unix$(fd_have_unpfs && echo ', unpfs tcp+unix'))" fd_servers_start
	check "$P insmod $FD_KO $FD_ARGS" insmod $FD_KO $FD_ARGS
	[ $FD_MOD = zc ] && expect "$P zerocopy parameter reads back" \
		"$([ $FD_ZC = 1 ] && echo Y || echo N)" cat /sys/module/zc9p_fd/parameters/zerocopy

	# Mounts that must fail, and leave nothing behind.
	expect "$P trans=unix with an empty path: EINVAL" EINVAL $FD_CHK mount "" $FD_M trans=unix
	expect "$P trans=unix with a path over 108 bytes: ENAMETOOLONG" ENAMETOOLONG \
		$FD_CHK mount /tmp/"$(printf '%0120d' 0)" $FD_M trans=unix
	expect "$P trans=fd without rfdno/wfdno: ENOPROTOOPT" ENOPROTOOPT $FD_CHK mount nodev $FD_M trans=fd
	expect "$P trans=tcp to a port nothing listens on: ECONNREFUSED" ECONNREFUSED \
		$FD_CHK mount 127.0.0.1 $FD_M trans=tcp,port=1,version=9p2000.L
	if [ $FD_MOD = zc ]; then
		# trans=vsock (zc9p's own): the source is the peer's context id.
		expect "$P trans=vsock to a CID that is not a number: EINVAL" EINVAL \
			$FD_CHK mount host $FD_M trans=vsock,version=9p2000.L
		expect "$P trans=vsock to VMADDR_CID_ANY (4294967295): EINVAL" EINVAL \
			$FD_CHK mount 4294967295 $FD_M trans=vsock,version=9p2000.L
		expect "$P trans=vsock to a port nothing listens on: ECONNRESET (vsock's refusal)" ECONNRESET \
			$FD_CHK mount 1 $FD_M trans=vsock,port=1,version=9p2000.L
		# Without a vsock device (tools/run-tests.sh gives the guest one only
		# where the host has vhost-vsock), no transport reaches other CIDs.
		case $(sed -n 's/.*zc9p\.hostvsock=\([^ ]*\).*/\1/p' /proc/cmdline) in ''|none)
			expect "$P trans=vsock to a CID no transport reaches (77): ENODEV" ENODEV \
				$FD_CHK mount 77 $FD_M trans=vsock,version=9p2000.L ;;
		esac
		check "$P each refused vsock mount logged one line naming its CID" \
			sh -c "dmesg | grep -q \"vsock: 'host' is not a context id\" && dmesg | grep -q 'vsock 1: cannot connect to port 1: error -104'"
	fi
	[ $FD_MOD = zc ] && expect "$P no live connection after the failed mounts" 0 fd_live_conns
	fd_default_msize

	for fd_t in ${FD_TRANSPORTS:-tcp unix vsock fd-socketpair fd-pipes unpfs-tcp-512000 unpfs-unix-1048576}; do
		fd_run $fd_t
	done
	fd_host $FD_TAG
	[ $FD_MOD = zc ] && [ $FD_ZC = 1 ] && fd_host_vsock
	P=$FD_P

	# Module lifetime: a mount holds the module; cycles with a mount each.
	expect "$P mount tcp again" OK fd_mount tcp
	if fd_mounted; then
		check "$P write a file to find after the cycles" $FD_CHK write $FD_M/keep $FD_MIB 7
		if ! rmmod $FD_NAME >/tmp/rmmod.out 2>&1 && fd_loaded $FD_NAME; then
			tap 0 "$P rmmod refused while mounted"
		else
			tap 1 "$P rmmod refused while mounted"
		fi
		check "$P unmount" umount $FD_M
	else
		tap 1 "$P module lifetime tests (not mounted)"
	fi
	if [ $FD_MOD = zc ]; then
		expect "$P no pages left pinned" 0 fd_pins pinned_pages
		sed "s/^/$P pins: /" $FD_DBG/pins | diag
	fi
	check "$P rmmod after unmount" sh -c "rmmod $FD_NAME && ! grep -q '^$FD_NAME ' /proc/modules"
	fd_cycles=0
	for _ in 1 2 3; do
		insmod $FD_KO $FD_ARGS && [ "$(fd_mount tcp)" = OK ] &&
			$FD_CHK verify $FD_M/keep $FD_MIB 7 && umount $FD_M &&
			rmmod $FD_NAME && fd_cycles=$((fd_cycles + 1))
		fd_mounted && umount $FD_M
		fd_loaded $FD_NAME && rmmod $FD_NAME
	done
	expect "$P 3 cycles of insmod + mount + verify + umount + rmmod" 3 echo $fd_cycles
	fd_unload_all
	fd_servers_stop
	rm -f $FD_EXP/keep
	echo "$P took $(( $(date +%s) - fd_start_s ))s" | diag
}
