# SPDX-License-Identifier: GPL-2.0
# The guest's control channel to the host (sourced; busybox sh). The third
# serial port, /dev/ttyS2, is a socket on the host where tools/hostctl.py
# (started by tools/run-vm.sh) acts on requests through QEMU's QMP:
#
#   hostctl ping            prints "pong"
#   hostctl device_del N    hot-unplugs share N's virtio-9p-pci device (QEMU id
#                           zc9pdevN, mount tag zc9pN); returns once QEMU has
#                           seen the guest release it
#   hostctl device_add N    plugs the same device back in; returns when QEMU has
#                           accepted it (the guest still has to probe it: wait
#                           for its mount_tag in /sys/bus/virtio/devices)
#
# hostctl returns 0 when the host answers ok and prints the answer's detail on
# stdout; on an error answer, or no answer within HOSTCTL_TIMEOUT seconds (90),
# it prints the reason on stderr and returns 1. One caller at a time: the
# answers come back on the one serial line.
#
# Wire format, one line each way: "ID COMMAND ARGS...", answered by
# "ID ok [DETAIL]" or "ID error DETAIL".

HOSTCTL_DEV=${HOSTCTL_DEV:-/dev/ttyS2}
HOSTCTL_TIMEOUT=${HOSTCTL_TIMEOUT:-90}
hostctl_seq=0
hostctl_open=
hostctl_cr=$(printf '\r')

# Raw, without echo (our requests must not come back to the host, nor its
# answers be mangled), kept open on fd 8 for the life of the script.
if command exec 8<>"$HOSTCTL_DEV"; then
	hostctl_open=1
	stty raw -echo <&8 || echo "hostctl: cannot set $HOSTCTL_DEV to raw mode" >&2
else
	echo "hostctl: cannot open $HOSTCTL_DEV" >&2
fi

# Seconds since boot in $_hc_now, its hundredths in $_hc_cs (no forks: they
# are slow in a debug guest under TCG).
hostctl_now() {
	read -r _hc_up _ </proc/uptime
	_hc_now=${_hc_up%%.*}
	_hc_cs=${_hc_up#*.}
}

hostctl() { # COMMAND ARGS...
	if [ -z "$hostctl_open" ]; then
		echo "hostctl: $HOSTCTL_DEV is not open" >&2
		return 1
	fi
	hostctl_seq=$((hostctl_seq + 1))
	# Unique across scripts and subshells, so a late answer to an earlier
	# request that timed out is never taken for this one's.
	hostctl_now
	_hc_id="g$$.$hostctl_seq.$_hc_now$_hc_cs.${RANDOM:-0}"
	_hc_end=$((_hc_now + HOSTCTL_TIMEOUT))
	if ! printf '%s %s\n' "$_hc_id" "$*" >&8 2>/dev/null; then
		echo "hostctl: cannot write to $HOSTCTL_DEV" >&2
		return 1
	fi

	while :; do
		hostctl_now
		_hc_left=$((_hc_end - _hc_now))
		if [ $_hc_left -le 0 ]; then
			echo "hostctl: no answer to '$*' within ${HOSTCTL_TIMEOUT}s" >&2
			return 1
		fi
		_hc_line=
		IFS= read -r -t $_hc_left _hc_line <&8 || [ -n "$_hc_line" ] || continue
		_hc_line=${_hc_line%"$hostctl_cr"}
		case "$_hc_line" in
		"$_hc_id ok")
			return 0 ;;
		"$_hc_id ok "*)
			echo "${_hc_line#"$_hc_id ok "}"
			return 0 ;;
		"$_hc_id error"*)
			_hc_line=${_hc_line#"$_hc_id error"}
			echo "hostctl: $* failed:${_hc_line}" >&2
			return 1 ;;
		esac
	done
}
