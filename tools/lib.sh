# Common settings for zc9p's tools. Sourced, not run.
ZC9P_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Caches live outside the repository so a fresh clone reuses them.
ZC9P_CACHE=${ZC9P_CACHE:-/var/cache/zc9p}
BINDGEN=${BINDGEN:-$ZC9P_CACHE/bindgen/bin/bindgen}
mkdir -p "$ZC9P_CACHE"

say() { printf '>>> %s\n' "$*" >&2; }

kernel_version() { cat "$ZC9P_CACHE/kernel-version"; }
kernel_src() { echo "$ZC9P_CACHE/src/linux-source-$(kernel_version)"; }

# The kernel build directory: keyed on the kernel version and the config fragment,
# so a changed fragment or a new Debian point release builds a fresh tree.
kernel_build_dir() {
	local key
	key=$(cat "$ZC9P_ROOT/tools/kernel.config" | sha256sum | cut -c1-12)
	echo "$ZC9P_CACHE/build/$(kernel_version)-$key"
}

kmake() {
	make -C "$(kernel_src)" O="$(kernel_build_dir)" LLVM=-19 \
		RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc BINDGEN="$BINDGEN" \
		RUST_LIB_SRC=/usr/lib/rustlib/src/rust/library "$@"
}
