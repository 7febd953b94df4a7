# SPDX-License-Identifier: GPL-2.0
# Virtio 9P under bounce-buffered DMA (sourced by zc9p_dma.sh
# after msize.sh, contract.sh and cache.sh; uses ksft_prelude.sh's CHK, MM, mount9p, chanstat, check, expect, tap, diag, MIB,
# A and the trace helpers of msize.sh). The guest (tools/dma-guest.sh) is a
# q35 machine booted with swiotlb=force whose one share, zc9p0, is a
# virtio-9p-pci device with iommu_platform=on (VIRTIO_F_ACCESS_PLATFORM) and
# disable-legacy=on: what an SEV or TDX guest, or one behind an IOMMU, sees.
# The virtio core then maps every scatterlist entry through the DMA API, and
# swiotlb bounces each one through its pool, at most 256 KiB
# (virtio_max_dma_size()) per entry.
#
# The same focused selection runs on mainline's 9pnet_virtio (label c) and
# on zc9p_virtio with zerocopy=1 and zerocopy=0 (zc1, zc0), each at its
# largest msize: files across sizes around the 256 KiB limit and far above
# it, buffers at odd page offsets and in huge pages (page runs merged into
# entries longer than the limit), O_DIRECT, concurrent writers (the pool is
# shared), a large readdir, and cache=loose and cache=mmap round trips; then
# on zc9p a large read while the indirect table cannot be allocated
# (contract_alloc_failure of contract.sh; mainline's transport never needs an
# order-3 table and is tried there, in the virtio guest), the long_chains
# gate (dma_long_chains) and the pin budget under a flood of O_DIRECT writers
# (dma_budget_flood).
# The files stay in the share, in dma-LABEL/, for the host's checks
# (tools/dma-guest.sh):
#   rt-SIZE       SIZE bytes of stream SIZE (SIZE in DMA_SIZES)
#   direct        1 MiB + 4096 bytes of stream 9, written with O_DIRECT
#   par-I         1 MiB + I bytes of stream I (I in 1..4)
#   cache-MODE    4 MiB of stream 24 (MODE loose and mmap)
#   flood-I       2 MiB + I bytes of stream 200 + I (zc1 only, I in 1..8)
# Kept small: under TCG mainline's transport moves a cache=none payload one
# page per request.
DMA_SIZES="0 1 4095 4096 4097 65537 262144 262145 $((MIB + 1)) $((4 * MIB + 1))"
DMA_BIG=$((4 * MIB))

# dma_transport LABEL MSIZE: the selection on the transport just loaded,
# mounted at A with msize MSIZE.
dma_transport() {
	local label=$1 msz=$2 P="[dma $1]" d off size bad io
	io=$((msz - 24))
	expect "$P mount zc9p0 with msize=$msz" OK mount9p zc9p0 $A version=9p2000.L,msize=$msz
	if ! grep -q " $A 9p " /proc/mounts; then
		tap 1 "$P the file tests (not mounted)"
		return
	fi
	d=$A/dma-$label
	rm -rf $d
	mkdir -p $d
	for size in $DMA_SIZES; do
		check "$P write+read $size bytes in 1 MiB calls, content verified" \
			sh -c "$CHK write $d/rt-$size $size $size $MIB && $CHK verify $d/rt-$size $size $size $((4 * MIB))"
	done
	# Odd offsets and no two pages adjacent; then huge pages, whose 2 MiB
	# runs are physically contiguous.
	bad=0
	for off in 1 4095; do
		for size in 262147 $io; do
			ZC9P_BUF_OFFSET=$off ZC9P_BUF_SCATTER=1 $CHK write $d/mis $size $off $size >/tmp/dma.out 2>&1 &&
				ZC9P_BUF_OFFSET=$off ZC9P_BUF_SCATTER=1 $CHK readonce $d/mis $size $off >>/tmp/dma.out 2>&1 ||
				{ bad=1; diag </tmp/dma.out; }
		done
	done
	tap $bad "$P buffers at page offsets 1 and 4095 (pages scattered), 256 KiB+3 and $io bytes, verified"
	check "$P a $io-byte write from and read into transparent huge pages, verified" \
		sh -c "ZC9P_BUF_HUGE=1 $CHK write $d/huge $io 22 $io && ZC9P_BUF_HUGE=1 $CHK readonce $d/huge $io 22"
	check "$P O_DIRECT write and read, content verified" \
		sh -c "ZC9P_ODIRECT=1 $CHK write $d/direct $((MIB + 4096)) 9 $MIB &&
		       ZC9P_ODIRECT=1 $CHK verify $d/direct $((MIB + 4096)) 9 $((2 * MIB))"
	# Four writers at once share swiotlb's pool (64 MiB).
	concurrent par 4 $MIB 0 $MIB $((2 * MIB)) $d
	tap $? "$P 4 concurrent 1 MiB writers+readers, verified"
	expect "$P readdir of a 5000-entry directory made on the host" 5000 $CHK countdir $A/big
	case $label in
	zc*)
		expect "$P no request left on the device" 0 chanstat zc9p0 on_device
		expect "$P the channel is alive" 0 chanstat zc9p0 dead
		;;
	esac
	check "$P the mount still works: a file written before reads back" \
		$CHK verify $d/rt-262145 262145 262145
	check "$P unmount" umount $A

	# The page cache: writeback and readahead of large folio runs.
	for mode in loose mmap; do
		expect "$P cache=$mode: mount with msize=$msz" OK \
			mount9p zc9p0 $A version=9p2000.L,msize=$msz,cache=$mode
		check "$P cache=$mode: 4 MiB written, caches dropped, read(2) and mapped, verified" \
			sh -c "$CHK write $d/cache-$mode $DMA_BIG 24 $MIB && $MM dropcaches $d &&
			       $CHK verify $d/cache-$mode $DMA_BIG 24 $((2 * MIB)) &&
			       $MM dropcaches $d && $MM expect $d/cache-$mode $DMA_BIG 24"
		check "$P cache=$mode: a shared mapping written, synced, read back after drop_caches" \
			sh -c "$CHK write $d/shared-$mode 42194 71 && $MM dropcaches $d && $MM sharedwrite $d/shared-$mode &&
			       $MM dropcaches $d && $MM sharedverify $d/shared-$mode"
		check "$P cache=$mode: unmount" umount $A
	done
}

# dma_long_chains: zc9p_virtio's chains longer than the queue, which VIRTIO
# 1.x 2.7.5.3.1 forbids and QEMU accepts, are used only on QEMU's devices
# (the long_chains parameter; this machine's SMBIOS vendor is QEMU's) and
# not at all with long_chains=0, where a 4 MiB read still works, in
# requests within the 128-entry queue.
dma_long_chains() {
	local P="[dma zc1]" f=$A/dma-zc1/fa-4m m mp top treads
	check "$P insmod zc9p_virtio.ko (long_chains left at -1)" insmod $MOD
	expect "$P on QEMU's device a message may use 1024 entries" 1024 chanstat zc9p0 max_entries
	check "$P rmmod" rmmod zc9p_virtio
	check "$P insmod zc9p_virtio.ko long_chains=0" insmod $MOD long_chains=0
	expect "$P with long_chains=0, at most the queue's 128" 128 chanstat zc9p0 max_entries
	expect "$P long_chains=0: mount with msize=$MSIZE_MAX" OK mount9p zc9p0 $A version=9p2000.L,msize=$MSIZE_MAX
	m=$(trace_mark v9fs_read)
	mp=$(trace_mark virtqueue_pop)
	check "$P long_chains=0: a 4 MiB read from scattered pages, verified" \
		env ZC9P_BUF_SCATTER=1 $CHK readonce $f $((4 * MIB)) 25
	treads=$(trace_since v9fs_read $m | cut -d' ' -f1)
	top=$(trace_since virtqueue_pop $mp in_num out_num | cut -d' ' -f2)
	check "$P long_chains=0: in $treads Treads of at most 128 descriptors ($top)" \
		sh -c "[ -n '$top' ] && [ '$top' -le 128 ] && [ '$treads' -ge 9 ]"
	check "$P long_chains=0: unmount" umount $A
	check "$P rmmod" rmmod zc9p_virtio
}

# dma_budget_flood: zc9p_virtio loaded afresh with pin_budget=64; eight
# O_DIRECT writers of 2 MiB in 1 MiB calls, then readers, at once on a
# 512000 mount, each request asking for up to 125 pages. netfs hands them over
# as BVEC iterators (pages it pinned itself), which zc9p does not pin: the
# budget must hold what the transport lends the device all the same (the
# pins file: lent_pages_peak within it, waits counted, nothing left after).
dma_budget_flood() {
	local P="[dma zc1]" d=$A/dma-zc1 fails
	check "$P insmod zc9p_virtio.ko pin_budget=64" insmod $MOD pin_budget=64
	expect "$P the budget reads back in the pins file" 64 pinstat pin_budget
	expect "$P budget flood: mount with msize=512000" OK mount9p zc9p0 $A version=9p2000.L,msize=512000
	export ZC9P_ODIRECT=1
	concurrent flood 8 $((2 * MIB)) 200 $MIB $MIB $d
	fails=$?
	unset ZC9P_ODIRECT
	tap $fails "$P budget flood: 8 O_DIRECT writers+readers of 2 MiB, verified"
	sed 's/^/pins: /' $DBG/zc9p_virtio/pins | diag
	check "$P budget flood: the pages lent at once stayed within the budget (peak $(pinstat lent_pages_peak))" \
		sh -c "[ '$(pinstat lent_pages_peak)' -gt 0 ] && [ '$(pinstat lent_pages_peak)' -le 64 ]"
	check "$P budget flood: requests waited for the budget ($(pinstat pin_budget_waits) waits)" \
		[ "$(pinstat pin_budget_waits)" -gt 0 ]
	check "$P budget flood: and the channel counted them ($(chanstat zc9p0 pin_budget_waits))" \
		[ "$(chanstat zc9p0 pin_budget_waits)" -gt 0 ]
	expect "$P budget flood: netfs's pages were lent, not pinned again by zc9p" 0 pinstat pinned_pages_peak
	expect "$P budget flood: no page lent afterwards" 0 pinstat lent_pages
	expect "$P budget flood: none pinned" 0 pinstat pinned_pages
	check "$P budget flood: unmount" umount $A
	check "$P rmmod" rmmod zc9p_virtio
}

# dma_suite: the selection on each transport, then the kernel log's view.
dma_suite() {
	local f feat log0 n
	log0=$(dmesg | wc -l)
	# The device must really go through the DMA API: VIRTIO_F_ACCESS_PLATFORM
	# (feature bit 33) negotiated, and swiotlb forced.
	check "dma: swiotlb=force on the kernel command line" grep -qw swiotlb=force /proc/cmdline
	check "dma: swiotlb bounces: its pool is set up" sh -c "dmesg | grep -q 'software IO TLB'"

	check "[dma c] insmod 9pnet_virtio.ko" insmod $ZC9P_MODDIR/9pnet_virtio.ko
	feat=
	for f in /sys/bus/virtio/drivers/9pnet_virtio/virtio*/features; do feat=$(cat $f); done
	expect "[dma c] the device negotiated VIRTIO_F_ACCESS_PLATFORM (bit 33)" 1 echo "$(echo "$feat" | cut -c34)"
	dma_transport c 512000
	check "[dma c] rmmod 9pnet_virtio" rmmod 9pnet_virtio

	for zc in 1 0; do
		check "[dma zc$zc] insmod zc9p_virtio.ko zerocopy=$zc" insmod $MOD zerocopy=$zc
		feat=
		for f in /sys/bus/virtio/drivers/zc9p_virtio/virtio*/features; do feat=$(cat $f); done
		expect "[dma zc$zc] the device negotiated VIRTIO_F_ACCESS_PLATFORM (bit 33)" 1 \
			echo "$(echo "$feat" | cut -c34)"
		if [ $zc = 1 ]; then
			dma_transport zc1 $MSIZE_MAX
			contract_alloc_failure zc1 $A $MSIZE_MAX dma
		else
			dma_transport zc0 $MSIZE_COPY
		fi
		for f in $DBG/zc9p_virtio/*/stats; do
			echo "[dma zc$zc] $f:"
			sed 's/^/    /' $f
		done | diag
		check "[dma zc$zc] rmmod zc9p_virtio" rmmod zc9p_virtio
		if [ $zc = 1 ]; then
			dma_long_chains
			dma_budget_flood
		fi
	done

	dmesg | tail -n +$((log0 + 1)) | grep -E 'swiotlb|add_sgs|zc9p|9pnet' >/tmp/dma-log.txt
	head -40 /tmp/dma-log.txt | diag
	n=$(grep -c 'swiotlb buffer is full' /tmp/dma-log.txt)
	expect "dma: no mapping failed (swiotlb buffer is full: $n)" 0 echo $n
}
