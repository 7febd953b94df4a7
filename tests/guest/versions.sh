# SPDX-License-Identifier: GPL-2.0
# Every protocol version on every fd transport (issue 20; sourced after
# fdsuite.sh, whose helpers it uses, and tap.sh): version=9p2000, 9p2000.u
# and 9p2000.L over trans=tcp, unix and fd, against lawn-9p's server
# (zc9p-lawn9p, tests/lawn9p/: the one server found that speaks all three
# over a real directory), on mainline's 9pnet_fd and on zc9p_fd.
#
#   vs_suite c | zc ZC     VS_TRANSPORTS (default: tcp unix fd-pipes)
#
# Per version (9p2000 and 9p2000.L: see below for .u) and transport: files the server made, 0 B to 293 KiB (pages
# and msize 65536 crossed), read back verified, also from a buffer at page
# offset 4095; the server's files overwritten through the mount and checked
# on both sides; readdir of 1000 entries; the errno of a missing file and of
# rmdir of a non-empty directory (server errors: Rerror's errno under .u,
# Rlerror's under .L, Rerror's string under 9P2000); mkdir, rename, unlink
# and rmdir, each seen in the server's folder; for zc9p_fd its counters
# (zero copy used, no protocol error, nothing in flight or pinned).
#
# lawn-9p's Rerror strings are Rust's ("No such file or directory (os error
# 2)"), which the 9P client's table (net/9p/error.c) does not hold: under
# plain 9P2000 every server error is ESERVERFAULT (526) with either
# transport, a walk to a missing name included, so v9fs's lookups of new
# names fail and nothing can be created there. Under 9p2000 the suite
# therefore writes only over files the server made, and checks that mkdir
# fails with E526 as it must; .L creates as usual.
#
# 9p2000.u is not run against lawn-9p: its .u stat leaves n_uid, n_gid and
# n_muid at ~0, so v9fs's inodes have no valid owner and root's open for
# writing fails with EACCES, its directory reads fail with EFAULT and then
# the connection ends, with mainline's 9pnet_fd as with zc9p_fd (measured:
# every .u file test but the reads failed on both). The .u tests are
# zc9p-hostile's below (walk, stat, open, read, Rerror with its errno).

VS_LAWN=$SRV_LAWN
VS_EXP=$FD_X/vexport
VS_PORT=5650
VS_SIZES="0 1 4095 4096 4097 65537 300007"
VS_NDIR=1000

vs_have_lawn() { [ -x $VS_LAWN ]; }

# vs_err COMMAND...: OK, or the message of the failure (what follows the last ': ').
vs_err() {
	"$@" >/tmp/vs.err 2>&1 && { echo OK; return; }
	sed -n 's/.*: //p' /tmp/vs.err | tail -1
}

# vs_fixture: the server's files, made in its folder (not through 9P).
vs_fixture() {
	mkdir -p $VS_EXP/pre || return 1
	for vs_s in $VS_SIZES; do
		[ -e $VS_EXP/pre/r-$vs_s ] || $FD_CHK write $VS_EXP/pre/r-$vs_s $vs_s $((vs_s % 1000 + 11)) >/dev/null || return 1
	done
	[ "$(ls $VS_EXP/big 2>/dev/null | wc -l)" = $VS_NDIR ] || {
		rm -rf $VS_EXP/big
		mkdir -p $VS_EXP/big && $FD_CHK mkfiles $VS_EXP/big $VS_NDIR
	}
}

# vs_mount VERSION TRANSPORT: prints OK or the errno name.
vs_mount() {
	vs_o="version=$1,msize=65536"
	# shellcheck disable=SC1083 # {R} and {W} are literal: the placeholders for the pipe fds
	case $2 in
	tcp) $FD_CHK mount 127.0.0.1 $FD_M trans=tcp,port=$VS_PORT,$vs_o ;;
	unix) $FD_CHK mount $FD_X/lawn.sock $FD_M trans=unix,$vs_o ;;
	fd-pipes|fd-socketpair)
		$FD_MOUNT ${2#fd-} lawn $FD_M $vs_o $FD_X/vs-$2.pid $FD_X/vs-$2.log \
			$VS_LAWN $VS_EXP --rfd {R} --wfd {W} ;;
	*) echo "unknown transport $2" ;;
	esac
}

# vs_one VERSION TRANSPORT: the tests of one mount.
vs_one() {
	vs_v=$1 vs_t=$2
	P="$VS_P $vs_v $vs_t:"
	vs_tag=$(echo "$vs_v-$vs_t" | tr . _)
	vs_e=$VS_EXP/w-$vs_tag vs_w=$FD_M/w-$vs_tag
	rm -rf $vs_e
	mkdir -p $vs_e/full $vs_e/gone-dir && : >$vs_e/full/x && : >$vs_e/gone-file
	for vs_s in $VS_SIZES; do : >$vs_e/o-$vs_s; done
	expect "$P mount" OK vs_mount $vs_v $vs_t
	if ! fd_mounted; then
		tap 1 "$P tests (not mounted)"
		tail -20 $FD_X/lawn-*.log $FD_X/vs-$vs_t.log 2>/dev/null | diag
		srv_stop vs-$vs_t
		return
	fi
	unset ZC9P_NO_FSYNC
	[ $vs_v = 9p2000.L ] || export ZC9P_NO_FSYNC=1 # (as the virtio suite's legacy passes)
	[ $VS_MOD = zc ] && vs_z0=$(connstat zc_requests)

	vs_bad=
	for vs_s in $VS_SIZES; do
		$FD_CHK verify $FD_M/pre/r-$vs_s $vs_s $((vs_s % 1000 + 11)) 4096 >/tmp/vs.out 2>&1 ||
			{ vs_bad="$vs_bad $vs_s"; diag </tmp/vs.out; }
	done
	tap "$([ -z "$vs_bad" ]; echo $?)" "$P the server's files, 0 B to 293 KiB, read verified in 4 KiB calls${vs_bad:+ (bad:$vs_bad)}"
	check "$P 293 KiB read from a buffer at page offset 4095 in 64 KiB+1 calls, verified" \
		env ZC9P_BUF_OFFSET=4095 $FD_CHK verify $FD_M/pre/r-300007 300007 18 65537
	vs_bad=
	for vs_s in $VS_SIZES; do
		{ ZC9P_BUF_OFFSET=1 $FD_CHK write $vs_w/o-$vs_s $vs_s $((vs_s + 5)) 65537 &&
		  $FD_CHK verify $vs_w/o-$vs_s $vs_s $((vs_s + 5)) 65536 &&
		  $FD_CHK verify $vs_e/o-$vs_s $vs_s $((vs_s + 5)); } >/tmp/vs.out 2>&1 ||
			{ vs_bad="$vs_bad $vs_s"; diag </tmp/vs.out; }
	done
	tap "$([ -z "$vs_bad" ]; echo $?)" "$P the server's files overwritten (64 KiB+1 writes from page offset 1), verified through the mount and in its folder${vs_bad:+ (bad:$vs_bad)}"
	expect "$P readdir of $VS_NDIR entries" $VS_NDIR $FD_CHK countdir $FD_M/big

	# Server errors.
	if [ $vs_v = 9p2000 ]; then vs_noent=E526 vs_nempty="Unknown error 526"
	else vs_noent=ENOENT vs_nempty="Directory not empty"; fi
	expect "$P opening a missing file: $vs_noent" $vs_noent $FD_CHK ioerr $vs_w/missing 10
	expect "$P rmdir of a non-empty directory: $vs_nempty" "$vs_nempty" vs_err rmdir $vs_w/full

	# The namespace.
	check "$P unlink of the server's file" sh -c "rm $vs_w/gone-file && [ ! -e $vs_e/gone-file ]"
	check "$P rmdir of the server's directory" sh -c "rmdir $vs_w/gone-dir && [ ! -e $vs_e/gone-dir ]"
	if [ $vs_v = 9p2000 ]; then
		expect "$P mkdir of a new name fails: the server's ENOENT for the walk is E526 here" \
			"Unknown error 526" vs_err mkdir $vs_w/d1
		check "$P and nothing was created" [ ! -e $vs_e/d1 ]
	else
		check "$P mkdir" sh -c "mkdir $vs_w/d1 && [ -d $vs_e/d1 ]"
		check "$P rename a directory" sh -c "mv $vs_w/d1 $vs_w/d2 && [ -d $vs_e/d2 ] && [ ! -e $vs_e/d1 ]"
		check "$P create + rename a file, verified in the server's folder" \
			sh -c "$FD_CHK write $vs_w/f1 70000 3 && mv $vs_w/f1 $vs_w/f2 && [ ! -e $vs_e/f1 ] && $FD_CHK verify $vs_e/f2 70000 3"
		check "$P unlink + rmdir" sh -c "rm $vs_w/f2 && rmdir $vs_w/d2 && [ ! -e $vs_e/f2 ] && [ ! -e $vs_e/d2 ]"
	fi
	unset ZC9P_NO_FSYNC

	if [ $VS_MOD = zc ]; then
		vs_z1=$(connstat zc_requests)
		if [ $VS_ZC = 1 ]; then
			check "$P reads, writes and readdir went by zero copy ($((vs_z1 - vs_z0)) zc requests)" [ $((vs_z1 - vs_z0)) -ge 20 ]
		else
			expect "$P zerocopy=0: no zero-copy request" 0 echo $((vs_z1 - vs_z0))
		fi
		expect "$P stats: no protocol error" 0 connstat protocol_errors
		expect "$P stats: no request in flight" 0 connstat in_flight
		expect "$P stats: no page left pinned" 0 connstat pinned_pages
	fi
	check "$P unmount" umount $FD_M
	case $vs_t in
	fd-*) check "$P its server exits after the unmount" srv_wait_gone 60 "$(cat $FD_X/vs-$vs_t.pid 2>/dev/null)"
	      srv_stop vs-$vs_t ;;
	esac
	rm -rf $vs_e
}

# vs_rerror: zc9p-hostile (tests/guest/hostile/, --mode long-rerror) fails
# the first Tread of "bad", a 64 KiB read into a page-aligned buffer (zero
# copy on zc9p_fd: the reply's first 11 bytes go to the header buffer, the
# rest of an Rread to the pages, so an error's string runs past that split,
# at a page boundary), with EACCES in each version's form: plain 9P2000's
# Rerror "Permission denied" (26 bytes), 9P2000.u's string padded to a frame
# of 200 and of 4096 bytes (the whole reply buffer of a zero-copy request)
# with errno 13, 9P2000.L's Rlerror; over each of VS_TRANSPORTS (tcp, unix,
# and fd: the server's own socketpair). The read fails with EACCES, the
# connection goes on (a later read verifies), and zc9p_fd counts no
# protocol error.
VS_HS=$ZC9P_DIR/zc9p-hostile
# vs_hs_mount TRANSPORT VERSION LEN: zc9p-hostile in --mode long-rerror with
# an error frame of LEN bytes, mounted on $FD_M over TRANSPORT (tcp, unix, or
# fd: the server's own socketpair, trans=fd); prints OK or the errno name.
vs_hs_mount() {
	vs_srv="--mode long-rerror --arg $3 --size 262144 --seed 23 --log $vs_log --pidfile $FD_X/vs-hostile.pid"
	case $1 in
	tcp) $VS_HS -l 127.0.0.1:$vs_port $vs_srv >/dev/null &&
		$FD_CHK mount 127.0.0.1 $FD_M trans=tcp,port=$vs_port,version=$2,msize=65536 ;;
	unix) $VS_HS -l $FD_X/vs-hostile.sock $vs_srv >/dev/null &&
		$FD_CHK mount $FD_X/vs-hostile.sock $FD_M trans=unix,version=$2,msize=65536 ;;
	fd*) $VS_HS --mount $FD_M --mopts version=$2,msize=65536 $vs_srv ;;
	esac
}

vs_rerror() {
	vs_n=0
	for vs_tr in ${VS_TRANSPORTS:-tcp unix fd}; do
		vs_tr=${vs_tr%%-*}
		for vs_c in 9p2000:26 9p2000.u:200 9p2000.u:4096 9p2000.L:11; do
			vs_v=${vs_c%:*} vs_len=${vs_c#*:}
			vs_n=$((vs_n + 1))
			vs_port=$((VS_PORT + 10 + vs_n))
			vs_log=$FD_X/vs-hostile-$vs_n.log
			P="$VS_P $vs_tr: Rerror to a zero-copy read, $vs_v, $vs_len-byte frame:"
			rm -f $vs_log $FD_X/vs-hostile.pid
			expect "$P mount" OK vs_hs_mount $vs_tr $vs_v $vs_len
			if fd_mounted; then
				check "$P good verifies" $VS_HS readat $FD_M/good 0 65536 23
				[ $VS_MOD = zc ] && vs_z0=$(connstat zc_requests)
				expect "$P the read of bad fails with EACCES" EACCES $VS_HS readat $FD_M/bad 0 65536 23
				check "$P (the server sent that error)" grep -q 'sent the error' $vs_log
				[ $VS_MOD = zc ] && [ $VS_ZC = 1 ] &&
					check "$P that read went by zero copy" [ "$(connstat zc_requests)" -gt "$vs_z0" ]
				check "$P the connection goes on: good verifies after it" $VS_HS readat $FD_M/good 65536 65536 23
				[ $VS_MOD = zc ] && expect "$P stats: no protocol error" 0 connstat protocol_errors
				check "$P unmount" umount $FD_M
			else
				tail -20 $vs_log | diag
			fi
			vs_p=$(cat $FD_X/vs-hostile.pid 2>/dev/null)
			[ -n "$vs_p" ] && ! srv_wait_gone 5 $vs_p && kill -9 $vs_p 2>/dev/null
		done
	done
}

# vs_suite c | zc ZC: every version on each of VS_TRANSPORTS.
vs_suite() {
	VS_MOD=$1 VS_ZC=${2:-0}
	case $VS_MOD in
	c) VS_P="[versions c]" vs_ko=$ZC9P_MODDIR/9pnet_fd.ko vs_args= ;;
	zc) VS_P="[versions zc=$VS_ZC]" vs_ko=$ZC9P_MODDIR/zc9p_fd.ko vs_args=zerocopy=$VS_ZC ;;
	esac
	P=$VS_P
	if ! vs_have_lawn; then
		tap 1 "$P $VS_LAWN is missing from the initramfs (tools/setup.sh builds it): not run"
		return
	fi
	vs_t0=$(date +%s)
	check "$P no other fd transport loaded" fd_unload_all
	mkdir -p $FD_X $FD_M
	check "$P the server's folder (files, $VS_NDIR entries)" vs_fixture
	srv_lawn_start $VS_EXP $VS_PORT
	tap $? "$P lawn-9p started on tcp and unix"
	check "$P insmod $vs_ko $vs_args" insmod $vs_ko $vs_args
	for vs_v in 9p2000 9p2000.L; do
		for vs_tr in ${VS_TRANSPORTS:-tcp unix fd-pipes}; do
			vs_one $vs_v $vs_tr
		done
	done
	vs_rerror
	P=$VS_P
	[ $VS_MOD = zc ] && expect "$P no pages left pinned" 0 fd_pins pinned_pages
	fd_mounted && umount $FD_M
	check "$P rmmod" fd_unload_all
	srv_stop lawn-tcp lawn-unix
	echo "$P took $(( $(date +%s) - vs_t0 ))s" | diag
}
