#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Configure and build the zc9p kernel of the current flavour (ZC9P_KERNEL=test,
# the default, from tools/kernel.config; ZC9P_KERNEL=perf adds tools/kernel-perf.config).
# The kernel series is KERNEL_SERIES's, or the default tools/setup.sh resolved
# (tools/lib.sh). The build tree is cached outside the repository, keyed on the
# Debian kernel version and the fragment's hash, so a second run only checks it
# is complete.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

src=$(kernel_src)
out=$(kernel_build_dir)

# One build of a tree at a time: a second `make test` on the machine waits for
# the first's build instead of building into the same folder beside it (two
# such builds once broke each other's objects and both failed).
mkdir -p "$(dirname "$out")"
exec 9>"$out.lock"
if ! flock -n 9; then
	say "another build of $out is running: waiting for it"
	flock 9
fi

if [ -f "$out/.zc9p-built" ]; then
	say "kernel $(kernel_version) already built in $out"
	exit 0
fi
mkdir -p "$out"
frag="$out/zc9p.config"
kernel_fragment >"$frag"
say "checking the Rust toolchain (make rustavailable)"
kmake rustavailable >/dev/null
say "configuring the $ZC9P_KERNEL kernel $(kernel_version) (series $(kernel_series)): tinyconfig + the zc9p fragment"
kmake -s tinyconfig >/dev/null
KCONFIG_CONFIG="$out/.config" "$src/scripts/kconfig/merge_config.sh" -m -O "$out" \
	"$out/.config" "$frag" >/dev/null
kmake -s olddefconfig >/dev/null
# A line that olddefconfig dropped means an unmet dependency: fail loudly.
bad=0
while read -r line; do
	kept=yes
	case "$line" in
	CONFIG_*) grep -qx "$line" "$out/.config" || kept=no ;;
	"# CONFIG_"*" is not set")
		opt=${line#\# }; opt=${opt%% *}
		! grep -q "^$opt=" "$out/.config" || kept=no ;;
	esac
	if [ $kept = no ]; then
		echo "error: '$line' did not survive olddefconfig" >&2
		bad=1
	fi
done < "$frag"
[ $bad -eq 0 ] || exit 1
say "building kernel and modules in $out (takes several minutes)"
start=$(date +%s)
kmake -j"$(nproc)" bzImage modules >"$out/build.log" 2>&1 || {
	tail -50 "$out/build.log" >&2
	exit 1
}
say "kernel built in $(( $(date +%s) - start ))s"
touch "$out/.zc9p-built"
