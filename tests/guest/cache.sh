# SPDX-License-Identifier: GPL-2.0
# Page-cache tests: 9P mounts with cache=loose and cache=mmap (sourced by
# zc9p_cache.sh and zc9p_dma.sh; ksft_prelude.sh defines CHK, mount9p, loaded,
# chanstat, tap.sh check, expect, tap, diag; the caller per pass P). Everything else runs with cache=none, where no
# page of a file is ever cached; here the transport carries what netfs reads
# into and writes back from the page cache (readahead, writeback of dirty
# folios, mapped pages), mixed with O_DIRECT on the same file.
#
# cache=loose caches read(2)/write(2) and mappings (/proc/mounts shows
# cache=0xf); cache=mmap (0x5) keeps read(2)/write(2) uncached and caches
# only mappings, so there the dirty pages of the tests come from MAP_SHARED
# mappings. drop_caches drops only clean pages: every test syncs first
# (zc9p-mmap dropcaches: syncfs, then drop_caches), so what is read after it
# comes from the server. Closing a file written through the cache starts its
# writeback (v9fs_dir_release), so the tests that need dirty pages keep the
# file open in one process (zc9p-mmap dirtytrunc, dirtydirect).
#
# Files, in DIR/cache-LABEL-MODE/, for the host to check (tools/run-tests.sh;
# stream SEED = zc9p-check's deterministic stream, "A:B:S" = bytes [A, A+B)
# of stream S laid over the rest, as zc9p-mmap expect takes them):
#   rt-SIZE       SIZE bytes of stream SIZE (SIZE in CACHE_SIZES)
#   mmap-shared   zc9p-mmap sharedverify FILE (42194 bytes of stream 71 with
#                 5 ranges of stream 72 written through a shared mapping)
#   dirty-big     CACHE_BIG (24 MiB) of stream 64
#   trunc-HOW-CUT 204800 bytes: CUT bytes of stream 91, then zeros
#                 (HOW write and map under loose, map under mmap; CUT 102400
#                 and 103400)
#   direct-mix    2100152 bytes: stream 81 with 1500000:100000:84,
#                 300000:600000:82 and 800000:300000:83 (CACHE_DIRECT_MIX)
#   exe, exe.sha256  a copy of zc9p-check and the original's sha256sum line
MM=$ZC9P_DIR/zc9p-mmap
CACHE_MODES="loose mmap"
# Sizes kept small: every byte goes through the debug kernel under TCG twice.
CACHE_SIZES="0 1 4095 4096 4097 1048576"
CACHE_BIG=$((24 * 1048576))
CACHE_DIRTY_LIMIT=$((2 * 1048576))
CACHE_DIRECT_SIZE=2100152
CACHE_DIRECT_MIX="$CACHE_DIRECT_SIZE 81 1500000:100000:84 300000:600000:82 800000:300000:83"

# cache_dirty_pages: pages dirty or under writeback, system-wide.
cache_dirty_pages() {
	awk '$1 == "nr_dirty" || $1 == "nr_writeback" { n += $2 } END { print n + 0 }' /proc/vmstat
}

# cache_sampler STOPFILE PEAKFILE: keeps the largest cache_dirty_pages seen in
# PEAKFILE, sampling every 100 ms until STOPFILE exists.
cache_sampler() {
	s_peak=0
	while [ ! -e $1 ]; do
		s_n=$(cache_dirty_pages)
		[ $s_n -le $s_peak ] || { s_peak=$s_n; echo $s_peak >$2; }
		usleep 100000
	done
}

# cache_dirty_test NAME DIR MODE: CACHE_BIG written through the page cache
# with vm.dirty_bytes at CACHE_DIRTY_LIMIT: the writer is throttled and writeback runs while
# it writes (dirty + writeback pages stay near the limit, which the default
# limit, 20% of the guest's 2 GiB, would not do), then the file reads back
# from the server. Writing dirty_bytes zeroes dirty_ratio and the reverse, and
# dirty_bytes cannot be set to 0, hence the restore through dirty_ratio.
cache_dirty_test() {
	local n=$1 d=$2 mode=$3 f=$2/dirty-big how old_bytes old_ratio sampler rc peak
	old_bytes=$(cat /proc/sys/vm/dirty_bytes)
	old_ratio=$(cat /proc/sys/vm/dirty_ratio)
	if echo $CACHE_DIRTY_LIMIT >/proc/sys/vm/dirty_bytes; then
		rm -f /tmp/cache-stop
		echo 0 >/tmp/cache-peak
		cache_sampler /tmp/cache-stop /tmp/cache-peak &
		sampler=$!
		# No fsync: what reaches the server before close is writeback's.
		if [ $mode = loose ]; then
			how="write(2) in 1 MiB blocks"
			ZC9P_NO_FSYNC=1 $CHK write $f $CACHE_BIG 64 1048576 >/tmp/check.out 2>&1
		else
			how="a shared mapping"
			ZC9P_NO_FSYNC=1 $MM mapwrite $f $CACHE_BIG 64 >/tmp/check.out 2>&1
		fi
		rc=$?
		touch /tmp/cache-stop
		wait $sampler
		[ $rc -eq 0 ] || diag </tmp/check.out
		tap $rc "$n $((CACHE_BIG >> 20)) MiB written through $how with vm.dirty_bytes=$((CACHE_DIRTY_LIMIT >> 20)) MiB"
		# Above 0: the data went through the page cache (nothing else in
		# the guest dirties pages). At most 4 times the limit: the writer
		# waited for writeback; unthrottled, it would dirty all of it.
		peak=$(( $(cat /tmp/cache-peak) * 4 ))
		check "$n dirty + writeback pages peaked at $peak KiB: cached, and throttled (0 < peak <= $((4 * CACHE_DIRTY_LIMIT >> 20)) MiB)" \
			sh -c "[ $peak -gt 0 ] && [ $peak -le $((4 * CACHE_DIRTY_LIMIT / 1024)) ]"
	else
		tap 1 "$n vm.dirty_bytes can be set to $CACHE_DIRTY_LIMIT"
	fi
	if [ "$old_bytes" != 0 ]; then
		echo $old_bytes >/proc/sys/vm/dirty_bytes
	else
		echo $old_ratio >/proc/sys/vm/dirty_ratio
	fi
	expect "$n vm.dirty_bytes and vm.dirty_ratio restored ($old_bytes, $old_ratio)" "$old_bytes $old_ratio" \
		sh -c 'echo $(cat /proc/sys/vm/dirty_bytes) $(cat /proc/sys/vm/dirty_ratio)'
	check "$n fsync, drop_caches: the $((CACHE_BIG >> 20)) MiB file reads back from the server" \
		sh -c "$MM fsync $f && $MM dropcaches $d && $CHK verify $f $CACHE_BIG 64 1048576"
}

# cache_suite TAG DIR LABEL: the page-cache tests on share TAG, mounted at DIR
# (not mounted before, unmounted after) once per mode in CACHE_MODES; files
# in DIR/cache-LABEL-MODE/.
cache_suite() {
	local tag=$1 dir=$2 label=$3 mode n d f size how cut bits dirtiers exe
	for mode in $CACHE_MODES; do
		n="${P:+$P }$label cache=$mode:"
		expect "$n mount $tag" OK mount9p $tag $dir version=9p2000.L,msize=512000,cache=$mode
		if ! grep -q " $dir 9p " /proc/mounts; then
			tap 1 "$n page-cache tests (not mounted)"
			continue
		fi
		bits=0xf dirtiers="write map"
		[ $mode = loose ] || bits=0x5 dirtiers=map
		check "$n /proc/mounts shows cache=$bits" grep -q " $dir 9p .*cache=$bits" /proc/mounts
		d=$dir/cache-$label-$mode
		check "$n mkdir $d" sh -c "rm -rf $d && mkdir $d"

		# Round trips: the cache's copy, then the server's by read(2), then
		# by a mapping's faults.
		for size in $CACHE_SIZES; do
			f=$d/rt-$size
			check "$n write+read $size bytes: at once, then after drop_caches by read(2) and mapped" \
				sh -c "$CHK write $f $size $size && $CHK verify $f $size $size 4096 &&
				       $MM dropcaches $d && $CHK verify $f $size $size &&
				       $MM dropcaches $d && $MM expect $f $size $size"
		done

		# A shared mapping over a file the server holds: read faults, then
		# writes across pages, a whole page, up to EOF, and past EOF in the
		# last page (which must not reach the file).
		f=$d/mmap-shared
		check "$n shared mapping: a 42194-byte file written by write(2), caches dropped" \
			sh -c "$CHK write $f 42194 71 && $MM dropcaches $d"
		check "$n shared mapping: it reads through the mapping; 5 ranges written through it, msync(MS_SYNC), munmap" \
			$MM sharedwrite $f
		check "$n shared mapping: an O_DIRECT read right after sees the ranges" \
			env ZC9P_ODIRECT=1 $MM sharedverify $f
		check "$n shared mapping: after drop_caches, mapped and by read(2): ranges, the rest intact, zeros past EOF" \
			sh -c "$MM dropcaches $d && $MM sharedverify $f"

		cache_dirty_test "$n" $d $mode

		# Truncate with the page cache dirty (ZC9P_MIN_DIRTY: at least half
		# of the 256 pages are dirty or under writeback when it starts), to a
		# page boundary and into a page; growing back must read zeros.
		for how in $dirtiers; do
			for cut in 102400 103400; do
				f=$d/trunc-$how-$cut
				check "$n 1 MiB dirty in the cache ($how, no sync), ftruncate to $cut then 204800, fsync" \
					env ZC9P_MIN_DIRTY=128 $MM dirtytrunc $f 1048576 91 $cut 204800 $how
				check "$n after drop_caches: $cut bytes of the stream, then zeros to 204800" \
					sh -c "$MM dropcaches $d && $MM expect $f 204800 z 0:$cut:91"
			done
		done

		# A binary run from the share, its pages faulted in from the server.
		exe=$d/exe
		check "$n a copy of zc9p-check in the share, synced, caches dropped" \
			sh -c "cp $ZC9P_DIR/zc9p-check $exe && sha256sum <$ZC9P_DIR/zc9p-check | sed 's/-\$/exe/' >$d/exe.sha256 &&
			       $MM dropcaches $d"
		expect "$n run from the share without arguments, it prints its usage and exits 2" 2 \
			sh -c "$exe >/tmp/cache-exe.out 2>&1; rc=\$?; grep -q usage /tmp/cache-exe.out && echo \$rc"
		check "$n run from the share, it writes a file the original verifies" \
			sh -c "$exe write /tmp/cache-exe 300000 9 4096 && $CHK verify /tmp/cache-exe 300000 9 && rm /tmp/cache-exe"
		check "$n after drop_caches the copy reads back identical to the original" \
			sh -c "$MM dropcaches $d && cmp $ZC9P_DIR/zc9p-check $exe"

		# O_DIRECT and the page cache on one file (offsets and lengths not
		# page-aligned: 9P asks for no alignment).
		f=$d/direct-mix
		check "$n O_DIRECT mix: written through the cache, read back with O_DIRECT" \
			sh -c "$CHK write $f $CACHE_DIRECT_SIZE 81 && ZC9P_ODIRECT=1 $CHK verify $f $CACHE_DIRECT_SIZE 81"
		check "$n O_DIRECT mix: read into the cache, [1500000, 1600000) overwritten with O_DIRECT: the cache shows it" \
			sh -c "$MM expect $f $CACHE_DIRECT_SIZE 81 &&
			       ZC9P_ODIRECT=1 $MM overwrite $f 1500000 100000 84 &&
			       $MM expect $f $CACHE_DIRECT_SIZE 81 1500000:100000:84"
		for how in $dirtiers; do
			check "$n O_DIRECT mix: [300000, 900000) dirty ($how), O_DIRECT reads it, O_DIRECT writes [800000, 1100000)" \
				env ZC9P_MIN_DIRTY=64 $MM dirtydirect $f 300000 600000 82 800000 300000 83 $how
		done
		check "$n O_DIRECT mix: the cache's view in a new process, mapped and by read(2)" \
			$MM expect $f $CACHE_DIRECT_MIX
		check "$n O_DIRECT mix: read with O_DIRECT" env ZC9P_ODIRECT=1 $MM expect $f $CACHE_DIRECT_MIX
		check "$n O_DIRECT mix: after drop_caches, mapped and by read(2)" \
			sh -c "$MM dropcaches $d && $MM expect $f $CACHE_DIRECT_MIX"

		loaded zc9p_virtio && expect "$n no request left on the device" 0 chanstat $tag on_device
		check "$n unmount" umount $dir
	done
}
