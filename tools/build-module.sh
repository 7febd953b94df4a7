#!/usr/bin/env bash
# Build zc9p_virtio.ko (and the test module) out of tree against KDIR, by default
# the cached kernel of the current flavour (ZC9P_KERNEL, see tools/lib.sh).
# Extra arguments go to make (e.g. `clean`).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

src=$ZC9P_ROOT
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
say "building zc9p modules in $src against $KDIR"
make -C "$KDIR" M="$src" LLVM=-19 \
	RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc BINDGEN="$BINDGEN" \
	RUST_LIB_SRC=/usr/lib/rustlib/src/rust/library \
	-j"$(nproc)" "${@:-modules}"
