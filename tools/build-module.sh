#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build zc9p's modules out of tree against KDIR, by default the cached kernel of
# the current flavour (ZC9P_KERNEL, see tools/lib.sh): each in its folder,
# rust/virtio/zc9p_virtio.ko, rust/fd/zc9p_fd.ko and the test module
# tests/pintest/zc9p_pintest.ko (module_ko in tools/lib.sh).
# Extra arguments go to make (e.g. `clean`).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

src=$ZC9P_ROOT
# A kernel that is not a clang-built tree with its Rust metadata (Debian's
# headers, a GCC-built kernel): built with that kernel's own compilers, here or
# in a Debian root of its suite, against recreated Rust metadata
# (tools/stock-kernel.sh).
if [ -n "${KDIR:-}" ] && ! { [ -f "$KDIR/rust/libkernel.rmeta" ] &&
		grep -q '^CONFIG_CC_IS_CLANG=y' "$KDIR/.config" 2>/dev/null; }; then
	say "building zc9p modules in $src against $KDIR (with that kernel's compilers)"
	exec bash "$ZC9P_ROOT/tools/stock-kernel.sh" make "$KDIR" -j"$(nproc)" "${@:-modules}"
fi
if [ -z "${KDIR:-}" ]; then
	KDIR=$(kernel_build_dir)
	src=$(module_dir)
fi
if [ "$src" != "$ZC9P_ROOT" ]; then
	# A copy of the module sources; tar keeps their times, so make rebuilds
	# only what changed since the last copy.
	mkdir -p "$src"
	tar -C "$ZC9P_ROOT" --exclude='*.o' --exclude='*.ko' --exclude='*.mod*' \
		--exclude='.*.cmd' --exclude='bindings_generated.rs' \
		-c Kbuild rust tests/pintest | tar -C "$src" -x
fi
modmake() {
	make -C "$KDIR" M="$src" LLVM=-19 \
		RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc BINDGEN="$BINDGEN" \
		RUST_LIB_SRC=/usr/lib/rustlib/src/rust/library "$@"
}
# The test flavour builds in the repository whichever series is chosen
# (KERNEL_SERIES): objects left from another kernel tree go first, so nothing
# built against one tree's kernel crate is linked against another's.
stamp=$src/.zc9p-kdir
if [ -f "$stamp" ] && [ "$(cat "$stamp")" != "$KDIR" ]; then
	say "modules in $src were built against $(cat "$stamp"): cleaning"
	modmake clean >/dev/null
fi
say "building zc9p modules in $src against $KDIR"
modmake -j"$(nproc)" "${@:-modules}"
echo "$KDIR" >"$stamp"
