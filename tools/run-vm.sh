#!/usr/bin/env bash
# Boot the test kernel in QEMU with an initramfs and 9P shares.
# usage: run-vm.sh INITRAMFS SCRIPT LOGDIR TIMEOUT_S SHARE...
# The guest runs /zc9p/SCRIPT; its kernel console goes to LOGDIR/console.log and
# its second serial port (test results) to LOGDIR/tap.log. Share N (DIR or
# DIR,DEVICE_PROPS) is exported with mount tag zc9pN. Exits with QEMU's status (124 on timeout).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

initrd=$1 script=$2 logdir=$3 limit=$4
shift 4
kdir=${KDIR:-$(kernel_build_dir)}
mkdir -p "$logdir"
: >"$logdir/console.log"
: >"$logdir/tap.log"

# KVM only with a real hardware hypervisor module; PVM's /dev/kvm hangs stock kernels.
accel=tcg
if [ -w /dev/kvm ] && grep -qsE '^(kvm_intel|kvm_amd) ' /proc/modules; then
	accel=kvm
fi

# Share N is DIR, or DIR,PROPS to add virtio-9p-pci device properties.
shares=()
i=0
for spec in "$@"; do
	dir=${spec%%,*} props=
	[ "$dir" = "$spec" ] || props=,${spec#*,}
	shares+=(-fsdev "local,id=fs$i,path=$dir,security_model=none,multidevs=remap"
		-device "virtio-9p-pci,fsdev=fs$i,mount_tag=zc9p$i$props")
	i=$((i + 1))
done

# The perf kernel measures: give it a real clock (the test kernel keeps the
# jiffies clock it has always been tested with).
append=${ZC9P_APPEND:-}
case "$ZC9P_KERNEL:$append" in
perf:*tsc_early_khz=*) ;; # the caller chose the clock (tools/profile.sh under -icount)
perf:*) append="$append $(guest_clock_params)" ;;
esac

say "booting guest (accel=$accel, script=$script, limit ${limit}s)"
set +e
timeout --kill-after=10 "$limit" qemu-system-x86_64 \
	-accel "$accel" -name zc9p,debug-threads=on -m 2G -smp 2 -no-reboot -display none -monitor none \
	-kernel "$kdir/arch/x86/boot/bzImage" -initrd "$initrd" \
	-append "console=ttyS0 panic=-1 rdinit=/init zc9p.run=$script $append" \
	-serial "file:$logdir/console.log" -serial "file:$logdir/tap.log" \
	"${shares[@]}" ${ZC9P_QEMU_EXTRA:-}
rc=$?
set -e
exit $rc
