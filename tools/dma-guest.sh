# SPDX-License-Identifier: GPL-2.0
# The bounce-buffered DMA guest of tools/run-tests.sh (sourced; bash): a q35
# machine booted with swiotlb=force, whose one 9P share (mount tag zc9p0) is a
# modern-only virtio-9p-pci device with iommu_platform=on, so the virtio core
# maps every buffer through the DMA API and swiotlb bounces it, at most
# 256 KiB per scatterlist entry: what SEV/TDX guests and guests behind an
# IOMMU do. It runs the kselftest programs the caller names, among them
# zc9p:zc9p_dma.sh (tests/guest/dma.sh).
#
#   dma_guest_start WORK INITRAMFS LOGDIR LIMIT KSFT_TIMEOUT KSFT_TESTS
#                       makes WORK/dma0 (the share) and boots the guest in
#                       the background, running the programs KSFT_TESTS
#                       (COLLECTION:TEST,...); its pid is in DMA_GUEST_PID, its
#                       running time goes to LOGDIR/elapsed (seconds)
#   dma_guest_verify    the host's checks of what the guest wrote, through
#                       guest-results.sh's host_verify

dma_guest_start() {
	local work=$1 initramfs=$2 logdir=$3 limit=$4 ksft_timeout=$5 ksft_tests=$6
	DMA_GUEST_SHARE=$work/dma0
	mkdir -p "$DMA_GUEST_SHARE/big"
	(cd "$DMA_GUEST_SHARE/big" && seq -f 'h%05g' 0 4999 | xargs touch)
	# acpi=noirq as for every test-kernel guest (tools/run-vm.sh), and the
	# trace events msize.sh's helpers count.
	(
		t0=$(date +%s)
		rc=0
		ZC9P_APPEND="${ZC9P_APPEND:-} kasan_multi_shot swiotlb=force KSFT_TESTS=$ksft_tests KSFT_TIMEOUT=$ksft_timeout" \
		ZC9P_TRACE="v9fs_read v9fs_write virtqueue_pop" \
		ZC9P_QEMU_EXTRA="${ZC9P_QEMU_EXTRA:-} -machine q35" \
		bash "$ZC9P_ROOT/tools/run-vm.sh" "$initramfs" kselftest.sh "$logdir" "$limit" \
			"$DMA_GUEST_SHARE,iommu_platform=on,disable-legacy=on" || rc=$?
		echo $(( $(date +%s) - t0 )) >"$logdir/elapsed"
		exit $rc
	) &
	# shellcheck disable=SC2034 # for the caller, tools/run-tests.sh
	DMA_GUEST_PID=$!
}

# The files of tests/guest/dma.sh, per transport.
dma_guest_verify() {
	local label d size i mode
	for label in c zc1 zc0; do
		d=$DMA_GUEST_SHARE/dma-$label
		for size in 0 1 4095 4096 4097 65537 262144 262145 $((1048576 + 1)) $((4 * 1048576 + 1)); do
			host_verify "[dma $label] $size-byte file matches" "$d/rt-$size" "$size" "$size"
		done
		host_verify "[dma $label] O_DIRECT file matches" "$d/direct" $((1048576 + 4096)) 9
		for i in 1 2 3 4; do
			host_verify "[dma $label] concurrent writer $i's file matches" "$d/par-$i" $((1048576 + i)) "$i"
		done
		for mode in loose mmap; do
			host_verify "[dma $label] cache=$mode file matches" "$d/cache-$mode" $((4 * 1048576)) 24
		done
	done
	for i in 1 2 3 4 5 6 7 8; do
		host_verify "[dma zc1] budget flood: O_DIRECT writer $i's file matches" \
			"$DMA_GUEST_SHARE/dma-zc1/flood-$i" $((2 * 1048576 + i)) $((200 + i))
	done
}
