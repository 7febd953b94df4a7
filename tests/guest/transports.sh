# SPDX-License-Identifier: GPL-2.0
# Sourced by the benchmark and profile scripts: load and unload the transport
# under test. c is mainline's 9pnet_virtio; zc0 and zc1 are zc9p_virtio with
# zerocopy=0 and zerocopy=1. Both fail loudly (message on stderr, status 1)
# rather than measure the wrong module under the right name: load checks that
# the module is loaded and owns every virtio 9P device, unload that it is gone.

# driver_of_9p_devices: the driver of each virtio 9P device (virtio id 9), one per line.
driver_of_9p_devices() {
	for d in /sys/bus/virtio/devices/*; do
		[ "$(cat $d/device)" = 0x0009 ] || continue
		if [ -e $d/driver ]; then basename "$(readlink $d/driver)"; else echo none; fi
	done
}

module_of() { # TRANSPORT
	case $1 in
	c) echo 9pnet_virtio ;;
	*) echo zc9p_virtio ;;
	esac
}

load() { # TRANSPORT
	case $1 in
	c) insmod /zc9p/9pnet_virtio.ko ;;
	zc0) insmod /zc9p/zc9p_virtio.ko zerocopy=0 ;;
	zc1) insmod /zc9p/zc9p_virtio.ko zerocopy=1 ;;
	*) echo "load: unknown transport '$1'" >&2; return 1 ;;
	esac || { echo "load $1: insmod failed" >&2; return 1; }
	m=$(module_of $1)
	grep -q "^$m " /proc/modules || { echo "load $1: $m is not loaded" >&2; return 1; }
	others=$(driver_of_9p_devices | grep -vx "$m")
	if [ -n "$others" ] || [ -z "$(driver_of_9p_devices)" ]; then
		# shellcheck disable=SC2046 # unquoted on purpose: the device list on one line
		echo "load $1: 9P devices not all bound to $m:" $(driver_of_9p_devices) >&2
		return 1
	fi
}

unload() { # TRANSPORT
	m=$(module_of $1)
	rmmod $m || { echo "unload $1: rmmod $m failed" >&2; return 1; }
	! grep -q "^$m " /proc/modules || { echo "unload $1: $m is still loaded" >&2; return 1; }
}
