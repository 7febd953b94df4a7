#!/usr/bin/env bash
# Build zc9p_virtio.ko out of tree against KDIR (default: the cached test kernel).
# Extra arguments go to make (e.g. `clean`).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if [ -z "${KDIR:-}" ]; then
	KDIR=$(kernel_build_dir)
fi
say "building zc9p modules against $KDIR"
make -C "$KDIR" M="$ZC9P_ROOT" LLVM=-19 \
	RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc BINDGEN="$BINDGEN" \
	RUST_LIB_SRC=/usr/lib/rustlib/src/rust/library \
	-j"$(nproc)" "${@:-modules}"
