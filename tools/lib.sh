# SPDX-License-Identifier: GPL-2.0
# Common settings for zc9p's tools. Sourced, not run.
ZC9P_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Caches live outside the repository so a fresh clone reuses them.
ZC9P_CACHE=${ZC9P_CACHE:-/var/cache/zc9p}
BINDGEN=${BINDGEN:-$ZC9P_CACHE/bindgen/bin/bindgen}
mkdir -p "$ZC9P_CACHE"

say() { printf '>>> %s\n' "$*" >&2; }

# The kernel series (Debian's linux-source-X.Y) everything builds against:
# KERNEL_SERIES=7.3 picks one; unset, the default that tools/setup.sh resolved
# from the private apt lists (7.2 while Debian offers it, else the newest
# series offered), recorded in $ZC9P_CACHE/kernel-series-default. Each series'
# Debian version is recorded in $ZC9P_CACHE/kernel-version-X.Y.
ZC9P_PREFERRED_SERIES=${ZC9P_PREFERRED_SERIES:-7.2}
kernel_series() {
	local series=${KERNEL_SERIES:-}
	if [ -z "$series" ]; then
		series=$(cat "$ZC9P_CACHE/kernel-series-default" 2>/dev/null) || {
			echo "error: no default kernel series yet: run tools/setup.sh (or set KERNEL_SERIES)" >&2
			return 1
		}
	fi
	[[ $series =~ ^[0-9]+\.[0-9]+$ ]] || {
		echo "error: KERNEL_SERIES must be MAJOR.MINOR (e.g. 7.3), not '$series'" >&2
		return 1
	}
	echo "$series"
}
# The Debian version of the series' source (e.g. 7.2.13-1, 7.3.4-1~bpo13+1).
kernel_version() {
	local series file
	series=$(kernel_series) || return 1
	file=$ZC9P_CACHE/kernel-version-$series
	if [ -f "$file" ]; then
		cat "$file"
	# The single file that trees before KERNEL_SERIES wrote (read, never written:
	# they may still be using it), valid for its own series only.
	elif grep -qs "^$series\." "$ZC9P_CACHE/kernel-version"; then
		cat "$ZC9P_CACHE/kernel-version"
	else
		echo "error: no linux-source-$series fetched yet: run KERNEL_SERIES=$series tools/setup.sh source" >&2
		return 1
	fi
}
# The version as a path component: backports' versions carry '~' and '+',
# which make and Kbuild treat specially; 7.2.13-1 stays 7.2.13-1, so trees
# cached before this still match.
kernel_version_key() { local v; v=$(kernel_version) || return 1; echo "${v//[~+:]/_}"; }
kernel_src() { local k; k=$(kernel_version_key) || return 1; echo "$ZC9P_CACHE/src/linux-source-$k"; }

# Two kernel flavours share the source and the module code:
#   test  tools/kernel.config: lockdep, atomic-sleep and Rust overflow checks on;
#         what the tests run on (`make test`, `make demo`, soak, conformance).
#   perf  the same without those debug checks (lockdep alone costs more per
#         request than the transport does) and with the tracers and precise
#         timers profiling needs: tools/kernel-perf.config; `make bench`, `make profile`.
ZC9P_KERNEL=${ZC9P_KERNEL:-test}

# The config fragment of the current flavour: kernel.config with the perf
# overlay's settings replacing the lines they name.
kernel_fragment() {
	case "$ZC9P_KERNEL" in
	test) cat "$ZC9P_ROOT/tools/kernel.config" ;;
	perf) awk '
		function name(l) { if (match(l, /CONFIG_[A-Za-z0-9_]+/)) return substr(l, RSTART, RLENGTH); return "" }
		FNR == NR { if (name($0) != "") over[name($0)] = 1; next }
		!(name($0) in over)' "$ZC9P_ROOT/tools/kernel-perf.config" "$ZC9P_ROOT/tools/kernel.config"
	      cat "$ZC9P_ROOT/tools/kernel-perf.config" ;;
	*) echo "ZC9P_KERNEL must be test or perf, not '$ZC9P_KERNEL'" >&2; return 1 ;;
	esac
}

# The kernel build directory: keyed on the kernel version and the config fragment,
# so a changed fragment or a new Debian point release builds a fresh tree.
kernel_build_dir() {
	local key
	local ver
	ver=$(kernel_version_key) || return 1
	key=$(kernel_fragment | sha256sum | cut -c1-12)
	echo "$ZC9P_CACHE/build/$ver-$key"
}

# Where the modules for the current flavour are built: the repository itself for
# the test kernel (so `make module` leaves rust/virtio/zc9p_virtio.ko where a
# developer looks), a copy of the sources in the cache for the perf kernel
# (modules built against one tree do not load into the other).
module_dir() {
	case "$ZC9P_KERNEL" in
	test) echo "$ZC9P_ROOT" ;;
	*) echo "$(kernel_build_dir)/zc9p-module" ;;
	esac
}

# The folder (under the sources) whose Kbuild builds module NAME.
module_folder() {
	case "$1" in
	zc9p_virtio) echo rust/virtio ;;
	zc9p_fd) echo rust/fd ;;
	zc9p_pintest) echo tests/pintest ;;
	*) echo "error: no zc9p module named '$1'" >&2; return 1 ;;
	esac
}

# module_ko NAME [DIR]: the built module NAME.ko under DIR (default: module_dir),
# e.g. DIR/rust/virtio/zc9p_virtio.ko.
module_ko() {
	local folder
	folder=$(module_folder "$1") || return 1
	echo "${2:-$(module_dir)}/$folder/$1.ko"
}

# Kernel parameters giving a perf guest a nanosecond clock: its TSC rate, when
# the host's TSC is constant (tools/tsc-khz.c says why). Empty otherwise.
guest_clock_params() {
	grep -qw constant_tsc /proc/cpuinfo && grep -qw nonstop_tsc /proc/cpuinfo || return 0
	local bin="$ZC9P_CACHE/bin/tsc-khz"
	if [ ! -x "$bin" ] || [ "$ZC9P_ROOT/tools/tsc-khz.c" -nt "$bin" ]; then
		mkdir -p "$ZC9P_CACHE/bin"
		gcc -O2 -o "$bin" "$ZC9P_ROOT/tools/tsc-khz.c" || return 0
	fi
	echo "tsc_early_khz=$("$bin") tsc=reliable"
}

kmake() {
	make -C "$(kernel_src)" O="$(kernel_build_dir)" LLVM=-19 \
		RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc BINDGEN="$BINDGEN" \
		RUST_LIB_SRC=/usr/lib/rustlib/src/rust/library "$@"
}
