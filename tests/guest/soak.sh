#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# `make soak` guest side: for zerocopy=1 and 0, 16 processes do mixed
# write/verify/readdir/rename/unlink on both shares for SOAK_SECS seconds,
# every surviving file is verified at the end, stress-ng's filesystem
# stressors (if present) run against the mount, and pins must be back to 0.
# Results to the second serial port (tools/soak.sh reads them there).
exec >/dev/ttyS1
. /zc9p/tap.sh
CHK=/zc9p/zc9p-check
SECS=$(sed -n 's/.*zc9p\.soak_secs=\([0-9]*\).*/\1/p' /proc/cmdline)
SECS=${SECS:-120}
mkdir -p /mnt/a /mnt/b

worker() { # ID DIR END
	id=$1 dir=$2/w$1 end=$3 n=0
	mkdir -p $dir
	while [ "$(date +%s)" -lt $end ]; do
		n=$((n + 1))
		size=$(( (n * 7919 + id * 104729) % 1048576 ))
		seed=$((id * 100000 + n))
		$CHK write $dir/f$n $size $seed $(( 512 + (n % 7) * 8192 )) || return 1
		$CHK verify $dir/f$n $size $seed 65536 || return 1
		mv $dir/f$n $dir/g$n || return 1
		$CHK countdir $dir >/dev/null || return 1
		if [ $((n % 3)) -ne 0 ]; then
			rm $dir/g$n || return 1
		else
			echo "$dir/g$n $size $seed" >>/tmp/keep-$id
		fi
	done
}

for zc in 1 0; do
	P="[zc=$zc]"
	check "$P insmod" insmod /zc9p/zc9p_virtio.ko zerocopy=$zc
	check "$P mount both shares" sh -c "mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 zc9p0 /mnt/a && mount -t 9p -o trans=virtio,version=9p2000.L zc9p1 /mnt/b"
	rm -f /tmp/keep-*
	end=$(( $(date +%s) + SECS ))
	pids=
	for i in $(seq 1 16); do
		d=/mnt/a/soak$zc; [ $((i % 2)) -eq 0 ] && d=/mnt/b/soak$zc
		worker $i $d $end >/tmp/worker-$i.log 2>&1 &
		pids="$pids $!"
	done
	fails=0
	for p in $pids; do wait $p || fails=$((fails + 1)); done
	[ $fails -eq 0 ] || cat /tmp/worker-*.log | diag
	tap $fails "$P 16 mixed workers for ${SECS}s on both shares"
	bad=0 kept=0
	cat /tmp/keep-* 2>/dev/null >/tmp/keep.all
	while read -r f size seed; do
		kept=$((kept + 1))
		$CHK verify $f $size $seed 4096 >/dev/null 2>&1 || { bad=1; echo "bad: $f" | diag; }
	done </tmp/keep.all
	tap $bad "$P all $kept surviving files verified"
	if command -v stress-ng >/dev/null; then
		mkdir -p /mnt/a/stress$zc
		check "$P stress-ng filesystem stressors" \
			stress-ng --temp-path /mnt/a/stress$zc --timeout 20s --metrics-brief \
				--hdd 2 --hdd-bytes 8M --dentry 1 --dir 1 --rename 1 --link 1 \
				--symlink 1 --seek 1 --fstat 1 --iomix 1
	fi
	check "$P no pages left pinned" sh -c "grep -q '^pinned_pages: 0' /sys/kernel/debug/zc9p_virtio/pins"
	check "$P unmount and rmmod" sh -c "umount /mnt/a && umount /mnt/b && rmmod zc9p_virtio"
done
tap_plan_end
