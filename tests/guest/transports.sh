# Sourced by the benchmark and profile scripts: load and unload the transport
# under test. c is mainline's 9pnet_virtio; zc0 and zc1 are zc9p_virtio with
# zerocopy=0 and zerocopy=1.

load() { # TRANSPORT
	case $1 in
	c) insmod /zc9p/9pnet_virtio.ko ;;
	zc0) insmod /zc9p/zc9p_virtio.ko zerocopy=0 ;;
	zc1) insmod /zc9p/zc9p_virtio.ko zerocopy=1 ;;
	esac
}

unload() { # TRANSPORT
	case $1 in
	c) rmmod 9pnet_virtio ;;
	*) rmmod zc9p_virtio ;;
	esac
}
