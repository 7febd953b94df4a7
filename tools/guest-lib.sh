# SPDX-License-Identifier: GPL-2.0
# The host's side of a guest boot, for the tools that boot one (`make demo`,
# `make bench`, `make profile`, `make soak`, `make conformance`,
# tools/msize-curve.sh): what they build first, the virtio-fs daemons beside
# the 9P shares, QEMU's pid, the kernel messages that void a run. Sourced,
# not run; it sources tools/lib.sh.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The kernel of the current flavour (ZC9P_KERNEL) and the modules built
# against it; each step does nothing when its output is current.
build_kernel_and_modules() {
	bash "$ZC9P_ROOT/tools/build-kernel.sh"
	bash "$ZC9P_ROOT/tools/build-module.sh" >/dev/null
}

# What a guest tool starts with: the host's packages, bindgen, the guest's 9P
# servers and the kernel source (tools/setup.sh), then the kernel and modules.
setup_and_build() {
	bash "$ZC9P_ROOT/tools/setup.sh"
	build_kernel_and_modules
}

# start_virtiofsd WORK: virtio-fs, the benchmarks' reference line: QEMU's
# virtiofsd on WORK/vfs with cache=none (mount tag "vfs", for the cache=none
# points) and on WORK/vfsl with cache=always (tag "vfsl", for the cache=loose
# points), logging to WORK/virtiofsd.log and WORK/virtiofsd-loose.log. Sets
# VIRTIOFSD_PIDS (stop_virtiofsd ends them) and VIRTIOFS_QEMU_ARGS: the two
# vhost-user-fs devices and the guest's memory in a shared memfd, as
# vhost-user needs. Without /usr/lib/qemu/virtiofsd, returns 1 and sets both
# empty.
start_virtiofsd() {
	local work=$1 tag cache log
	VIRTIOFSD_PIDS=
	VIRTIOFS_QEMU_ARGS=
	[ -x /usr/lib/qemu/virtiofsd ] || return 1
	for tag in vfs vfsl; do
		case $tag in
		vfs) cache=none log=virtiofsd.log ;;
		vfsl) cache=always log=virtiofsd-loose.log ;;
		esac
		mkdir -p "$work/$tag"
		/usr/lib/qemu/virtiofsd --socket-path="$work/$tag.sock" -o source="$work/$tag" \
			-o cache=$cache -o sandbox=chroot >"$work/$log" 2>&1 &
		VIRTIOFSD_PIDS="$VIRTIOFSD_PIDS $!"
		VIRTIOFS_QEMU_ARGS="$VIRTIOFS_QEMU_ARGS -chardev socket,id=$tag,path=$work/$tag.sock
		-device vhost-user-fs-pci,queue-size=1024,chardev=$tag,tag=$tag"
	done
	VIRTIOFS_QEMU_ARGS="$VIRTIOFS_QEMU_ARGS
		-object memory-backend-memfd,id=mem,size=2G,share=on -machine memory-backend=mem"
	for _ in $(seq 50); do [ -S "$work/vfs.sock" ] && [ -S "$work/vfsl.sock" ] && break; sleep 0.1; done
}

stop_virtiofsd() {
	# Word splitting wanted: one pid per word.
	# shellcheck disable=SC2086
	[ -z "${VIRTIOFSD_PIDS:-}" ] || kill $VIRTIOFSD_PIDS 2>/dev/null || true
}

# qemu_pid INITRAMFS: the pid of the QEMU booting INITRAMFS (tools/run-vm.sh,
# started in the background a moment ago), waiting up to 10 s for it to
# appear; status 1 and no output when it does not.
qemu_pid() {
	local pid
	for _ in $(seq 100); do
		pid=$(pgrep -f -n "qemu-system-x86_64.*$1" || true)
		[ -z "$pid" ] || { echo "$pid"; return 0; }
		sleep 0.1
	done
	return 1
}

# guest_splats CONSOLE_LOG [MORE]: prints the lines of a guest's kernel log
# that void its run, status 0 when there is one: a BUG or WARNING, an oops, a
# lockdep report, a kernel or Rust panic, and MORE (grep -E alternatives) of
# a tool's own. tools/run-tests.sh looks for more (KASAN, UBSAN, hung tasks,
# ...), as its guests run the checks that print them.
guest_splats() {
	grep -aE "BUG:|WARNING:|Oops|INFO: possible|circular locking|Kernel panic|panicked at${2:+|$2}" "$1"
}

# The machine a result was measured on, for the reports' first line.
host_machine() {
	echo "$(nproc) cores, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1), $(date -u +%F)"
}
