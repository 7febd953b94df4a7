#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# `make conformance` guest side: pjdfstest in one boot on
#   c, zc1         a share mounted through the C 9pnet_virtio and through
#                  zc9p_virtio (zerocopy=1);
#   fd-c, fd-zc1   one diod export (guest tmpfs) mounted with trans=tcp through
#                  the C 9pnet_fd and through zc9p_fd (zerocopy=1), the same
#                  mount options for both.
# The two parts use different modules and run at the same time (a pjdfstest
# run takes 15 to 35 minutes here: the debug kernel under TCG). Every test's
# outcome goes to the second serial port as "PJD transport name result", once
# both parts are done; CONF_PARTS=virtio or fd (kernel command line) runs one
# part.
exec 3>/dev/ttyS1
PARTS=${CONF_PARTS:-virtio,fd}
mkdir -p /mnt/a

# pjd TAG DIR: pjdfstest in DIR (made here), its outcomes tagged TAG, to stdout.
pjd() {
	mkdir -p $2
	# shellcheck disable=SC2164 # as before: a missing folder shows in the tests that follow
	cd $2
	t0=$(date +%s)
	/usr/bin/pjdfstest -c /zc9p/pjdfstest.toml -p $2 >/tmp/pjd-$1.log 2>&1
	rc=$?
	echo "PJD-EXIT $1 $rc ($(( $(date +%s) - t0 ))s)"
	echo "# $1 done: exit $rc after $(( $(date +%s) - t0 ))s" >&3
	cd /
	sed -n 's/^\([a-z0-9_:]*\)  *\(ok\|FAILED\|skipped\)$/PJD '$1' \1 \2/p' /tmp/pjd-$1.log
}

virtio_part() {
	for t in c zc1; do
		case $t in
		c) insmod /zc9p/9pnet_virtio.ko ;;
		zc1) insmod /zc9p/zc9p_virtio.ko zerocopy=1 ;;
		esac
		if mount -t 9p -o trans=virtio,version=9p2000.L zc9p0 /mnt/a; then
			pjd $t /mnt/a/pjd-$t
			umount /mnt/a
		else
			echo "PJD-EXIT $t mount-failed"
		fi
		case $t in
		c) rmmod 9pnet_virtio ;;
		*) rmmod zc9p_virtio ;;
		esac
	done
}

# diod exports a folder on the guest's tmpfs, as tests/guest/bench.sh and
# fdsuite.sh run it (-N: any uid may attach); access=user attaches each user
# pjdfstest switches to as itself. On C 9pnet_fd, access=user and
# access=client, with diod's user database or -N, passed the same tests;
# without uname=root diod refused the attach.
FDX=/tmp/fdc
FD_EXP=$FDX/export
FD_OPTS="trans=tcp,port=564,version=9p2000.L,uname=root,access=user,aname=$FD_EXP"

fd_part() {
	for m in 9pnet_fd zc9p_fd; do grep -q "^$m " /proc/modules && rmmod $m; done
	mkdir -p $FDX $FD_EXP /mnt/f
	/usr/sbin/diod -f -n -N -c /dev/null -L stderr -e $FD_EXP -l 127.0.0.1:564 \
		</dev/null >$FDX/diod.log 2>&1 &
	diod=$!
	i=0
	until grep -qi "^ *[0-9]*: [0-9A-F]*:0234 [0-9A-F]*:0000 0A" /proc/net/tcp; do
		[ $i -ge 100 ] && break
		usleep 100000
		i=$((i + 1))
	done
	for t in fd-c fd-zc1; do
		case $t in
		fd-c) insmod /zc9p/9pnet_fd.ko; m=9pnet_fd ;;
		fd-zc1) insmod /zc9p/zc9p_fd.ko zerocopy=1; m=zc9p_fd ;;
		esac
		if [ "$(/zc9p/zc9p-check mount 127.0.0.1 /mnt/f $FD_OPTS)" = OK ]; then
			pjd $t /mnt/f/pjd-$t
			umount /mnt/f
		else
			echo "PJD-EXIT $t mount-failed"
			sed 's/^/# diod: /' $FDX/diod.log | tail -5
		fi
		rmmod $m
	done
	kill $diod
}

: >/tmp/conf-virtio.out
: >/tmp/conf-fd.out
case ,$PARTS, in *,virtio,*) virtio_part >/tmp/conf-virtio.out 2>&1 & vpid=$! ;; esac
case ,$PARTS, in *,fd,*) fd_part >/tmp/conf-fd.out 2>&1 ;; esac
[ -n "$vpid" ] && wait $vpid
cat /tmp/conf-virtio.out /tmp/conf-fd.out >&3
echo "PJD-DONE" >&3
