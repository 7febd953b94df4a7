# SPDX-License-Identifier: GPL-2.0
# Large msize on virtio (sourced by zc9p_msize.sh and others, after faults.sh and
# hostctl.sh; uses its CHK, chanstat, mount9p, check, expect, tap, diag, MIB,
# and per pass ZC and P). What a request carries is counted on the host: QEMU
# writes a trace line per Tread/Twrite it serves (v9fs_read, v9fs_write) and
# per element it takes off a ring (virtqueue_pop, with its host iovec counts),
# and `hostctl trace` counts them (tools/run-vm.sh, ZC9P_TRACE).
#
# With zero copy, a message uses one scatterlist entry per header and at most
# one per payload page, and QEMU maps one element to at most 1024 iovecs: the
# largest msize is 1021 pages + 24 bytes (MSIZE_MAX), whose iounit (1021 pages)
# an unaligned buffer spreads over 1022 pages. The copy path keeps mainline's
# 512000 (see zc9p_virtio_register in rust/virtio/shim_virtio.c).
MSIZE_MAX=$((1021 * 4096 + 24))
MSIZE_COPY=512000

# trace_mark EVENT: how many EVENT lines QEMU wrote so far.
trace_mark() { hostctl trace $1 0 | cut -d' ' -f1; }

# trace_since EVENT MARK [FIELD...]: "N MAX": EVENT lines after MARK, and the
# largest sum of FIELDs among them.
trace_since() { hostctl trace "$@"; }

# io_requests EVENT COMMAND...: runs COMMAND and prints "RC N": its exit status
# and how many EVENT requests the server saw meanwhile.
io_requests() {
	ev=$1
	shift
	m=$(trace_mark $ev)
	"$@" >/tmp/io.out 2>&1
	rc=$?
	[ $rc -eq 0 ] || diag </tmp/io.out
	echo "$rc $(trace_since $ev $m | cut -d' ' -f1)"
}

# mounted_msize MOUNTPOINT: the msize /proc/mounts shows (9P leaves out its
# default, 131096: then that).
mounted_msize() {
	sed -n "s|^[^ ]* $1 9p .*|&,|p" /proc/mounts | sed -n 's/.*,msize=\([0-9]*\),.*/\1/p; t; s/.*/131096/p'
}

# default_msize_test MOUNTPOINT: a mount without msize= gets the module's
# default_msize (with zero copy; 9P's 131096 without), one with msize= keeps
# it, and default_msize=0 restores 9P's.
DEFAULT_MSIZE_VIRTIO=1048600
default_msize_test() {
	pdir=/sys/module/zc9p_virtio/parameters
	expect "$P default_msize is in sysfs" $DEFAULT_MSIZE_VIRTIO cat $pdir/default_msize
	check "$P modinfo documents it" sh -c \
		"$(command -v modinfo || echo /usr/lib/zc9p-kmod/modinfo) -p $MOD | grep -q '^default_msize:msize of a mount without msize='"
	log0=$(dmesg | wc -l)
	dm_want=$DEFAULT_MSIZE_VIRTIO
	[ $ZC = 1 ] || dm_want=131096
	expect "$P a mount without msize= mounts" OK mount9p zc9p0 $1 version=9p2000.L
	expect "$P and negotiates $dm_want" $dm_want mounted_msize $1
	if [ $ZC = 1 ]; then
		check "$P and says so, once" sh -c "[ \$(dmesg | tail -n +$((log0 + 1)) | grep -c 'zc9p0: mount without msize=: msize $dm_want (default_msize') = 1 ]"
		mkdir -p $1/zc$ZC
		$CHK write $1/zc$ZC/ms-dflt $MIB 25 $MIB >/dev/null 2>&1
		expect "$P there a 1 MiB write is one Twrite on the server" "0 1" \
			io_requests v9fs_write $CHK write $1/zc$ZC/ms-dflt $MIB 25 $MIB
		rm -f $1/zc$ZC/ms-dflt
	fi
	umount $1
	expect "$P a mount with msize=262144 mounts" OK mount9p zc9p0 $1 version=9p2000.L,msize=262144
	expect "$P and keeps it" 262144 mounted_msize $1
	umount $1
	[ $ZC = 1 ] || return 0
	echo 0 >$pdir/default_msize
	expect "$P with default_msize=0, a mount without msize= mounts" OK mount9p zc9p0 $1 version=9p2000.L
	expect "$P and gets 9P's 131096" 131096 mounted_msize $1
	umount $1
	echo 8388608 >$pdir/default_msize
	expect "$P with default_msize=8M, a mount without msize= mounts" OK mount9p zc9p0 $1 version=9p2000.L
	expect "$P and gets the transport's maximum" $MSIZE_MAX mounted_msize $1
	umount $1
	echo $DEFAULT_MSIZE_VIRTIO >$pdir/default_msize
}

# msize_test MOUNTPOINT: zc9p0 is mounted nowhere.
msize_test() {
	default_msize_test $1
	msz=$MSIZE_MAX
	[ $ZC = 1 ] || msz=$MSIZE_COPY
	log0=$(dmesg | wc -l)
	said="Limiting 'msize' to $msz as this is the maximum supported by transport virtio"
	expect "$P msize=8M mounts" OK mount9p zc9p0 $1 version=9p2000.L,msize=8388608
	expect "$P msize=8M is clamped to $msz in /proc/mounts" $msz \
		sh -c "sed -n 's|^zc9p0 $1 9p .*msize=\([0-9]*\).*|\1|p' /proc/mounts"
	check "$P the kernel says so" sh -c "dmesg | tail -n +$((log0 + 1)) | grep -qF \"$said\""
	umount $1
	[ $ZC = 1 ] || return 0

	W=$1/zc$ZC
	# At msize 1048600 a 1 MiB request carries exactly 1 MiB.
	mount9p zc9p0 $1 version=9p2000.L,msize=1048600 >/dev/null
	mkdir -p $W
	$CHK write $W/ms-1m $MIB 21 $MIB >/dev/null 2>&1
	expect "$P msize 1048600: a 1 MiB write is one Twrite on the server" "0 1" \
		io_requests v9fs_write $CHK write $W/ms-1m $MIB 21 $MIB
	expect "$P msize 1048600: a 1 MiB read is one Tread on the server" "0 1" \
		io_requests v9fs_read $CHK readonce $W/ms-1m $MIB 21
	umount $1

	# At the maximum: an iounit is one request, 4 MiB two.
	io=$((MSIZE_MAX - 24))
	expect "$P mount with msize=$MSIZE_MAX" OK mount9p zc9p0 $1 version=9p2000.L,msize=$MSIZE_MAX
	expect "$P msize $MSIZE_MAX: a $io-byte write is one Twrite" "0 1" \
		io_requests v9fs_write $CHK write $W/ms-io $io 22 $io
	expect "$P msize $MSIZE_MAX: a $io-byte read is one Tread" "0 1" \
		io_requests v9fs_read $CHK readonce $W/ms-io $io 22
	expect "$P msize $MSIZE_MAX: a 4 MiB write is two Twrites" "0 2" \
		io_requests v9fs_write $CHK write $W/ms-4m $((4 * MIB)) 23 $((4 * MIB))
	expect "$P msize $MSIZE_MAX: a 4 MiB read is two Treads" "0 2" \
		io_requests v9fs_read $CHK readonce $W/ms-4m $((4 * MIB)) 23

	# A payload's list of page runs (over 8 pages) comes from a pool: warm, as
	# it is now, large requests allocate none.
	a0=$(pinstat segment_lists_allocated)
	# shellcheck disable=SC2034 # a counter only: five attempts
	for i in 1 2 3 4 5; do
		$CHK write $W/ms-4m $((4 * MIB)) 23 $((4 * MIB)) && $CHK readonce $W/ms-4m $((4 * MIB)) 23
	done >/tmp/pool.out 2>&1 || diag </tmp/pool.out
	a1=$(pinstat segment_lists_allocated)
	check "$P 20 more large requests allocated no segment list (allocated: $a0, then $a1)" \
		sh -c "[ -n '$a0' ] && [ '$a0' -gt 0 ] && [ '$a1' = '$a0' ]"
	expect "$P and none is in use after them" 0 pinstat segment_lists_in_use

	# Buffers that do not start on a page boundary: the iounit spreads over
	# 1022 pages, 1024 entries with the headers; QEMU must never see more.
	# Their pages are faulted in backwards, so that none merge: the requests
	# reach the limit itself.
	m=$(trace_mark virtqueue_pop)
	bad=0
	for off in 1 4095; do
		export ZC9P_BUF_OFFSET=$off ZC9P_BUF_SCATTER=1
		$CHK write $W/ms-off $io $off $io >/tmp/off.out 2>&1 &&
			$CHK readonce $W/ms-off $io $off >>/tmp/off.out 2>&1 ||
			{ bad=1; diag </tmp/off.out; }
		unset ZC9P_BUF_OFFSET ZC9P_BUF_SCATTER
	done
	tap $bad "$P msize $MSIZE_MAX: iounit writes and reads from buffers at offsets 1 and 4095, verified"
	top=$(trace_since virtqueue_pop $m in_num out_num | cut -d' ' -f2)
	check "$P those requests stayed within QEMU's 1024 iovecs ($top at most)" [ "$top" -le 1024 ]
	check "$P and reached it: 1022 unmerged payload pages and 2 headers ($top)" [ "$top" -eq 1024 ]
	expect "$P the device still works afterwards" OK sh -c "$CHK verify $W/ms-4m $((4 * MIB)) 23 $MIB && echo OK"
	expect "$P and the channel is not dead" 0 chanstat zc9p0 dead

	# Pages adjacent in physical memory share an entry: a read into huge
	# pages is a handful of iovecs, not 1022.
	m=$(trace_mark virtqueue_pop)
	check "$P msize $MSIZE_MAX: an iounit read into transparent huge pages, verified" \
		env ZC9P_BUF_HUGE=1 $CHK readonce $W/ms-io $io 22
	top=$(trace_since virtqueue_pop $m in_num out_num | cut -d' ' -f2)
	check "$P it took few iovecs ($top): adjacent pages merged" [ "$top" -le 8 ]

	# The directory of 5000 entries at the maximum msize.
	expect "$P msize $MSIZE_MAX: readdir of the 5000-entry directory" 5000 $CHK countdir $1/big
	umount $1

	# Cached, the page cache's folios reach the transport in requests as
	# large as msize allows: 3 Twrites for 8 MiB of writeback, a handful of
	# Treads as readahead grows (at mainline's 512000, 17 and 18 or more).
	expect "$P mount cache=loose with msize=$MSIZE_MAX" OK \
		mount9p zc9p0 $1 version=9p2000.L,cache=loose,msize=$MSIZE_MAX
	r=$(io_requests v9fs_write $CHK write $W/ms-cl $((8 * MIB)) 24 $MIB)
	check "$P cache=loose: 8 MiB written and fsync()ed in at most 4 Twrites (status, Twrites: $r)" \
		sh -c "set -- $r; [ \$1 = 0 ] && [ \$2 -ge 1 ] && [ \$2 -le 4 ]"
	sync
	echo 3 >/proc/sys/vm/drop_caches
	r=$(io_requests v9fs_read $CHK verify $W/ms-cl $((8 * MIB)) 24 $MIB)
	check "$P cache=loose: 8 MiB read cold and verified in at most 8 Treads (status, Treads: $r)" \
		sh -c "set -- $r; [ \$1 = 0 ] && [ \$2 -ge 1 ] && [ \$2 -le 8 ]"
	rm -f $W/ms-cl
	umount $1
	check "$P no slab or page allocator warning at these msizes" \
		sh -c "! dmesg | tail -n +$((log0 + 1)) | grep -iE 'page allocation failure|kmem_cache|WARNING'"
}
