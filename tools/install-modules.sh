#!/usr/bin/env bash
# `make install`: zc9p_virtio.ko and zc9p_fd.ko installed like any external
# module, by the target kernel's modules_install: into
# INSTALL_MOD_PATH/lib/modules/RELEASE/extra/, then depmod (the kernel's
# scripts/depmod.sh, against the build's System.map), so `modprobe zc9p_virtio`
# and `modprobe zc9p_fd` work and the 9P client's request_module("9p-NAME")
# finds them. The test module stays out: the modules are built once more with
# ZC9P_PINTEST=n, as modules_install installs what modules.order lists.
#
# KDIR: the target kernel's build directory (default: the cached kernel of the
# current flavour, ZC9P_KERNEL; RELEASE is its kernel release).
# INSTALL_MOD_PATH: the root to install under (default: /, this machine's).
# The modprobe.d file that makes zc9p serve trans=virtio and trans=tcp instead
# of mainline's modules is installed separately: `make install-modprobe-conf`.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

args=(ZC9P_PINTEST=n INSTALL_MOD_DIR=extra)
[ -n "${INSTALL_MOD_PATH:-}" ] && args+=("INSTALL_MOD_PATH=$INSTALL_MOD_PATH")
bash "$ZC9P_ROOT/tools/build-module.sh" modules "${args[@]}"
bash "$ZC9P_ROOT/tools/build-module.sh" modules_install "${args[@]}"
