#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# zc9p's style checks (`make style`; tools/run-tests.sh runs them before the
# guests): each prints "ok - CHECK" or "not ok - CHECK" with its findings, and
# the script exits non-zero on any finding.
#   - rustfmt     rustfmt --check with the kernel's .rustfmt.toml over the Rust sources
#   - checkpatch  the kernel's checkpatch.pl --strict on the module's C (the shims)
#   - shellcheck  shellcheck -S warning on every shell script
#   - spdx        an SPDX-License-Identifier line in every file that can carry one
#   - clippy      the kernel's CLIPPY=1 build of the modules, warning-free
# STYLE_CHECKS="rustfmt spdx" runs some of them. A check whose tool or kernel
# tree is missing says so and is skipped ("ok - CHECK # SKIP why"), not failed.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ZC9P_ROOT" || exit 2

checks=${STYLE_CHECKS:-rustfmt checkpatch shellcheck spdx clippy}
failed=0
out=$(mktemp -d /tmp/zc9p-style.XXXXXX)
trap 'rm -rf "$out"' EXIT

result() { # CHECK STATUS(0 ok, 1 findings, 2 skipped) DETAIL
	case $2 in
	0) echo "ok - $1${3:+: $3}" ;;
	2) echo "ok - $1 # SKIP $3" ;;
	*) failed=1; echo "not ok - $1${3:+: $3}" ;;
	esac
}
# The tracked files (git ls-files), or every file when this is no git checkout.
files() {
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git ls-files -- "$@"
	else
		find . -path ./.git -prune -o -type f -print | sed 's|^\./||'
	fi
}
ksrc() { kernel_src 2>/dev/null; }

# The rustfmt of the toolchain the modules build with (/usr/bin/rustc, Debian's
# rustc-web: rustfmt-web is the same version).
check_rustfmt() {
	local rustfmt=/usr/bin/rustfmt src cfg
	src=$(ksrc) || { result rustfmt 2 "no kernel source (tools/setup.sh)"; return; }
	cfg=$src/.rustfmt.toml
	[ -x $rustfmt ] || { result rustfmt 2 "no $rustfmt (Debian's rustfmt-web; tools/setup.sh)"; return; }
	[ -f "$cfg" ] || { result rustfmt 2 "no $cfg"; return; }
	mapfile -t rs < <(files 'rust/*.rs' 'tests/pintest/*.rs' 'tests/lawn9p/src/*.rs' |
		grep -v 'bindings_generated\.rs$')
	if $rustfmt --check --config-path "$cfg" --edition 2021 "${rs[@]}" >"$out/rustfmt" 2>&1; then
		result rustfmt 0 "${#rs[@]} files"
	else
		sed 's/^/# /' "$out/rustfmt" | head -200
		result rustfmt 1 "$(grep -c '^Diff in' "$out/rustfmt") hunks to reformat (run: $rustfmt --config-path $cfg --edition 2021 FILES)"
	fi
}

# checkpatch.pl --strict on the C that goes into the kernel modules. (The
# guest's and host's test programs are userspace C, not held to kernel style.)
# Findings checkpatch gets wrong here, as FILE:TYPE, each with its reason:
CHECKPATCH_IGNORE=(
	# The return is inside the function the macro defines, not the caller's flow.
	rust/common/shim_common.h:MACRO_WITH_FLOW_CONTROL
)
check_checkpatch() {
	local src cp f n=0
	src=$(ksrc) || { result checkpatch 2 "no kernel source (tools/setup.sh)"; return; }
	cp=$src/scripts/checkpatch.pl
	[ -f "$cp" ] || { result checkpatch 2 "no $cp"; return; }
	mapfile -t cfiles < <(files 'rust/*.c' 'rust/*.h' 'tests/pintest/*.c' 'tests/pintest/*.h')
	: >"$out/checkpatch"
	for f in "${cfiles[@]}"; do
		perl "$cp" --strict --no-tree --show-types --terse -q -f "$f" 2>&1 |
			grep -E '^[^ ]+:[0-9]+: (ERROR|WARNING|CHECK):' >>"$out/checkpatch"
	done
	for f in "${CHECKPATCH_IGNORE[@]}"; do
		grep -v "^${f%%:*}:[0-9]*: [A-Z]*:${f#*:}:" "$out/checkpatch" >"$out/cp.tmp"
		mv "$out/cp.tmp" "$out/checkpatch"
	done
	n=$(wc -l <"$out/checkpatch")
	if [ "$n" -eq 0 ]; then
		result checkpatch 0 "${#cfiles[@]} files"
	else
		sed 's/^/# /' "$out/checkpatch"
		result checkpatch 1 "$n findings"
	fi
}

# The guest's scripts are POSIX sh run by busybox ash, checked as sh; ash has
# local, $RANDOM and read -t, which POSIX lacks (SC3043, SC3028, SC3045).
# The host's tools are bash.
check_shellcheck() {
	command -v shellcheck >/dev/null ||
		{ result shellcheck 2 "no shellcheck (Debian's shellcheck; tools/setup.sh)"; return; }
	mapfile -t sh_scripts < <(files 'tests/guest/*.sh' tests/guest/init)
	mapfile -t bash_scripts < <(files 'tools/*.sh' .ci/run)
	local rc=0
	shellcheck -S warning -s sh -e SC3043,SC3028,SC3045 -f gcc "${sh_scripts[@]}" >"$out/sc" 2>&1 || rc=1
	shellcheck -S warning -s bash -f gcc "${bash_scripts[@]}" >>"$out/sc" 2>&1 || rc=1
	local f
	for f in "${sh_scripts[@]}"; do sh -n "$f" >>"$out/sc" 2>&1 || rc=1; done
	for f in "${bash_scripts[@]}"; do bash -n "$f" >>"$out/sc" 2>&1 || rc=1; done
	if [ $rc -eq 0 ]; then
		result shellcheck 0 "$(( ${#sh_scripts[@]} + ${#bash_scripts[@]} )) scripts"
	else
		sed 's/^/# /' "$out/sc"
		result shellcheck 1 "$(grep -c ': \(error\|warning\):' "$out/sc") findings"
	fi
}

# Every file with an SPDX-License-Identifier line, except those that cannot
# or need not carry one:
SPDX_EXEMPT='^(results/.*'`                  # tool output (bench, profile data and plots)
	`'|rust/VERSION'`                    # a bare version string, read as is
	`'|packaging/debian/copyright'`      # the machine-readable licence statement itself
	`'|packaging/debian/source/format'`  # one fixed line
	`'|tests/lawn9p/Cargo\.lock'`        # generated by cargo
	`'|tools/kernel(-perf)?\.config'`    # their hash keys the cached kernel builds
	`'|.*\.(png|jpg|svg))$'
check_spdx() {
	local f missing=()
	while read -r f; do
		[[ $f =~ $SPDX_EXEMPT ]] && continue
		[ -f "$f" ] || continue
		head -n 3 "$f" | grep -q 'SPDX-License-Identifier: ' || missing+=("$f")
	done < <(files)
	if [ ${#missing[@]} -eq 0 ]; then
		result spdx 0
	else
		printf '# no SPDX-License-Identifier in its first lines: %s\n' "${missing[@]}"
		result spdx 1 "${#missing[@]} files"
	fi
}

# The kernel's CLIPPY=1 build (clippy-driver in place of rustc), in a
# temporary copy of the module sources so the tree's own objects stay as built. It needs the
# clippy-driver of rustc's exact version: Debian's rust-web-clippy for
# rustc-web (rustup's, first in root's PATH, is another version).
check_clippy() {
	local clippy=/usr/bin/clippy-driver kdir rv cv dir
	[ -x $clippy ] || { result clippy 2 "no $clippy (Debian's rust-web-clippy; tools/setup.sh)"; return; }
	rv=$(/usr/bin/rustc --version | awk '{ print $2 }')
	cv=$($clippy --rustc --version 2>/dev/null | awk '{ print $2 }')
	[ "$rv" = "$cv" ] ||
		{ result clippy 2 "$clippy is for rustc $cv, the modules build with $rv"; return; }
	kdir=${KDIR:-$(kernel_build_dir 2>/dev/null)} || kdir=
	[ -n "$kdir" ] && [ -f "$kdir/rust/libkernel.rmeta" ] ||
		{ result clippy 2 "no built kernel tree with Rust (${kdir:-none}; make kernel)"; return; }
	# A fresh copy each time: make would not rebuild (nor warn about) crates
	# whose objects are up to date.
	dir=$out/src
	mkdir -p "$dir"
	tar -C "$ZC9P_ROOT" --exclude='*.o' --exclude='*.ko' --exclude='*.mod*' \
		--exclude='.*.cmd' --exclude='bindings_generated.rs' \
		-c Kbuild rust tests/pintest | tar -C "$dir" -x
	if make -C "$kdir" M="$dir" LLVM=-19 CLIPPY=1 CLIPPY_DRIVER=$clippy \
		RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc BINDGEN="$BINDGEN" \
		RUST_LIB_SRC=/usr/lib/rustlib/src/rust/library -j"$(nproc)" modules >"$out/clippy" 2>&1 &&
		! grep -q 'warning' "$out/clippy"; then
		result clippy 0 "clippy $cv, no warnings"
	else
		grep -E 'warning|error|-->' "$out/clippy" | sed 's/^/# /' | head -200
		result clippy 1 "$(grep '^warning' "$out/clippy" | grep -Evc 'warnings? emitted') warnings (make -C $kdir M=<copy> CLIPPY=1 CLIPPY_DRIVER=$clippy ...)"
	fi
}

for c in $checks; do
	case $c in
	rustfmt|checkpatch|shellcheck|spdx|clippy) "check_$c" ;;
	*) result "$c" 1 "no such check (rustfmt checkpatch shellcheck spdx clippy)" ;;
	esac
done
[ $failed -eq 0 ]
