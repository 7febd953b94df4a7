# SPDX-License-Identifier: GPL-2.0
# zc9p's modules installed like any kernel module (sourced by zc9p_modprobe.sh):
# tools/mkinitramfs.sh puts `make install`'s tree in /lib/modules/RELEASE/
# (zc9p's modules in extra/, mainline's 9pnet_virtio and 9pnet_fd in
# kernel/net/9p/, depmod's files), kmod's tools in /usr/lib/zc9p-kmod/ and
# tools/modprobe/zc9p.conf as /zc9p/modprobe-zc9p.conf.
#
# modprobe_suite virtio|fd: modprobe loads zc9p's module from the installed
# tree; modinfo shows its version, a description for every parameter and its
# aliases; with zc9p.conf in /etc/modprobe.d, the transport's aliases and
# (virtio) the device's modalias load zc9p's module and not mainline's, by
# modprobe and by the kernel's own request_module when a mount names the
# transport; modprobe -r unloads it. Leaves no module loaded, no zc9p.conf
# and the kernel's modprobe path as it found them.

MP_KMOD=/usr/lib/zc9p-kmod
# Where the installed zc9p modules are: `make install`'s extra/, or DKMS's
# updates/dkms on a stock kernel (zc9p.stock=1; ksft_prelude.sh).
MP_DIR=${ZC9P_INSTALLED_DIR:-extra}
MP_CONF=/etc/modprobe.d/zc9p.conf

mp_loaded() { grep -q "^$1 " /proc/modules; }

# mp_state: which of zc9p's module and mainline's are loaded ("M loaded, C not").
mp_state() {
	echo "$MP_M $(mp_loaded $MP_M && echo loaded || echo not), $MP_C $(mp_loaded $MP_C && echo loaded || echo not)"
}

# mp_bound: the 9P devices bound to zc9p_virtio, and the modules' state.
mp_bound() {
	# shellcheck disable=SC2010 # only names virtioN there; busybox ash globs leave a pattern when none match
	echo "$(ls /sys/bus/virtio/drivers/$MP_M 2>/dev/null | grep -c '^virtio') bound; $(mp_state)"
}

# mp_resolves NAME: the transport modules `modprobe NAME` would load (not the
# 9P core they depend on, which a stock kernel has as modules: 9pnet, netfs),
# sorted, on one line.
mp_resolves() {
	$MP_KMOD/modprobe --show-depends "$1" 2>/dev/null |
		sed -n 's|^insmod .*/\([^/]*\)\.ko.*|\1|p' | grep -E '^(zc9p_|9pnet_)' | sort -u |
		tr '\n' ' ' | sed 's/ $//'
}

# mp_params_described MODULE: every parameter in sysfs has a description in
# modinfo ("NAME:DESCRIPTION (TYPE)"); prints the ones without.
mp_params_described() {
	modinfo_parms=$($MP_KMOD/modinfo -F parm "$1")
	missing=0
	# shellcheck disable=SC2045 # parameter names are plain words; a glob would yield the pattern when the folder is missing
	for p in $(ls /sys/module/$1/parameters); do
		mp_pdesc=$(echo "$modinfo_parms" | sed -n "s/^$p:\(.*[^ ]\) ([a-z0-9 ]*)\$/\1/p")
		[ -n "$mp_pdesc" ] || { echo "no description for $p"; missing=1; }
	done
	return $missing
}

# mp_version MODULE: modinfo's version is x.y.z (and the commit), and the loaded
# module's (sysfs).
mp_version() {
	v=$($MP_KMOD/modinfo -F version "$1")
	echo "modinfo: '$v', sysfs: '$(cat /sys/module/$1/version 2>/dev/null)'"
	echo "$v" | grep -qE '^[0-9]+\.[0-9]+\.[0-9]+' && [ "$v" = "$(cat /sys/module/$1/version)" ]
}

# mp_modinfo MODULE WANT_ALIASES: the metadata of the installed module (loaded).
mp_modinfo() {
	m=$1
	mi=$MP_KMOD/modinfo
	check "$MP_P modinfo: the module comes from the installed $MP_DIR/" \
		sh -c "$mi -n $m | grep -q '^/lib/modules/$(uname -r)/$MP_DIR/$m.ko\$'"
	check "$MP_P modinfo: version x.y.z[+gCOMMIT], the loaded module's" mp_version $m
	check "$MP_P modinfo: every parameter has a description" mp_params_described $m
	expect "$MP_P modinfo: aliases" "$2" sh -c "$mi -F alias $m | sort | tr '\n' ' ' | sed 's/ \$//'"
	$mi $m | diag
}

# mp_conf_aliases NAME...: with zc9p.conf, each NAME resolves to zc9p's module
# alone; without it, to mainline's as well (the file is what makes the choice).
mp_conf_aliases() {
	rm -f $MP_CONF
	for name in "$@"; do
		expect "$MP_P without zc9p.conf, $name names mainline's module and zc9p's" \
			"$MP_C $MP_M" mp_resolves "$name"
	done
	cp /zc9p/modprobe-zc9p.conf $MP_CONF
	for name in "$@"; do
		expect "$MP_P with zc9p.conf, $name names $MP_M alone" "$MP_M" mp_resolves "$name"
	done
}

modprobe_suite() {
	case $1 in
	virtio) MP_M=zc9p_virtio MP_C=9pnet_virtio MP_ALIASES="9p-virtio virtio:d00000009v*" ;;
	fd) MP_M=zc9p_fd MP_C=9pnet_fd MP_ALIASES="9p-fd 9p-tcp 9p-unix 9p-vsock" ;;
	esac
	MP_P="[modprobe $MP_M]"
	mp_kpath=$(cat /proc/sys/kernel/modprobe)
	for m in $MP_M $MP_C; do mp_loaded $m && rmmod $m; done
	rm -f $MP_CONF

	check "$MP_P modprobe loads it from the installed tree" \
		sh -c "$MP_KMOD/modprobe $MP_M && grep -q '^$MP_M ' /proc/modules"
	mp_modinfo $MP_M "$MP_ALIASES"
	check "$MP_P modprobe -r unloads it" \
		sh -c "$MP_KMOD/modprobe -r $MP_M && ! grep -q '^$MP_M ' /proc/modules"

	if [ $1 = virtio ]; then
		ndev=$(grep -l '^virtio:d00000009v' /sys/bus/virtio/devices/*/modalias | wc -l)
		# shellcheck disable=SC2046 # as before: the one modalias file found, if any
		alias1=$(cat $(grep -l '^virtio:d00000009v' /sys/bus/virtio/devices/*/modalias | head -1))
		mp_conf_aliases 9p-virtio "$alias1"
		# What udev does for each device that appears: modprobe -b MODALIAS.
		for d in $(grep -l '^virtio:d00000009v' /sys/bus/virtio/devices/*/modalias); do
			$MP_KMOD/modprobe -b "$(cat $d)"
		done
		expect "$MP_P with zc9p.conf, udev's modprobe of the devices' modalias binds all $ndev to it" \
			"$ndev bound; $MP_M loaded, $MP_C not" mp_bound
		$MP_KMOD/modprobe -r $MP_M
		# The kernel's own request_module("9p-virtio"), for a mount naming the transport.
		echo $MP_KMOD/modprobe >/proc/sys/kernel/modprobe
		expect "$MP_P with zc9p.conf, a trans=virtio mount loads it and mounts" OK mount9p zc9p0 $A
		grep -q " $A 9p " /proc/mounts && umount $A
	else
		mp_conf_aliases 9p-tcp 9p-unix 9p-fd
		# request_module("9p-tcp") for a trans=tcp mount: the module loads even though
		# nothing listens on port 1.
		echo $MP_KMOD/modprobe >/proc/sys/kernel/modprobe
		mount -t 9p -o trans=tcp,port=1 127.0.0.1 /mnt/c >/tmp/mp-mount.out 2>&1 && umount /mnt/c
	fi
	echo "$mp_kpath" >/proc/sys/kernel/modprobe
	expect "$MP_P with zc9p.conf, the kernel's request_module loaded $MP_M, not $MP_C" \
		"$MP_M loaded, $MP_C not" mp_state
	check "$MP_P modprobe -r after the mount" \
		sh -c "$MP_KMOD/modprobe -r $MP_M && ! grep -q '^$MP_M ' /proc/modules"
	rm -f $MP_CONF
	for m in $MP_M $MP_C; do mp_loaded $m && rmmod $m; done
}
