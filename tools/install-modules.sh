#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make install`: zc9p_virtio.ko and zc9p_fd.ko installed like any external
# module, by the target kernel's modules_install, into
# INSTALL_MOD_PATH/lib/modules/RELEASE/extra/, then depmod (against the build's
# System.map when it has one), so `modprobe zc9p_virtio` and `modprobe zc9p_fd`
# work and the 9P client's request_module("9p-NAME") finds them. The test module
# stays out: the modules are built once more with ZC9P_PINTEST=n, as
# modules_install installs what modules.order lists.
#
# Each module is built in its own folder (rust/virtio/, rust/fd/: their Kbuild),
# where modules_install would put it too (extra/rust/virtio/zc9p_virtio.ko);
# installed as before, extra/zc9p_virtio.ko, a new install replaces an earlier
# one instead of adding a second module of the same name. So modules_install
# installs into a staging root (signing, compressing, stripping as the kernel's
# configuration says), and each module goes from there to extra/ itself.
#
# KDIR: the target kernel's build directory (default: the cached kernel of the
# current flavour, ZC9P_KERNEL; RELEASE is its kernel release).
# INSTALL_MOD_PATH: the root to install under (default: /, this machine's).
# The modprobe.d file that makes zc9p serve trans=virtio and trans=tcp instead
# of mainline's modules is installed separately: `make install-modprobe-conf`.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
args=(ZC9P_PINTEST=n INSTALL_MOD_DIR=extra)
bash "$ZC9P_ROOT/tools/build-module.sh" modules "${args[@]}"
bash "$ZC9P_ROOT/tools/build-module.sh" modules_install "${args[@]}" INSTALL_MOD_PATH="$staging" DEPMOD=true
kdir=${KDIR:-$(kernel_build_dir)}
rel=$(cat "$kdir/include/config/kernel.release")
root=${INSTALL_MOD_PATH:-}
dest=$root/lib/modules/$rel/extra
mkdir -p "$dest"
for m in zc9p_virtio zc9p_fd; do
	ko=$(find "$staging/lib/modules/$rel/extra" -name "$m.ko*" | head -1)
	[ -n "$ko" ] || { echo "error: modules_install installed no $m.ko (in $staging/lib/modules/$rel/extra)" >&2; exit 1; }
	install -m 644 "$ko" "$dest/"
	say "installed ${dest#"$root"}/${ko##*/}${root:+ under $root}"
done
sysmap=()
[ -r "$kdir/System.map" ] && sysmap=(-e -F "$kdir/System.map")
depmod -a ${root:+-b "$root"} "${sysmap[@]}" "$rel"
