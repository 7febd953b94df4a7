#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Building zc9p against a distribution kernel's headers (Debian's
# linux-headers-RELEASE), which ship no Rust crate metadata (rust/*.rmeta,
# libmacros.so, ...): that metadata is recreated from the kernel's own source
# (linux-source-X.Y at the kernel's exact Debian version), its .config and
# exactly the compilers the .config names, in a tree cached under
# $ZC9P_CACHE/stock/RELEASE (never under /usr/src). Before anything is built
# against it, the recreated crates' exported names are checked against the
# kernel's Module.symvers: the same names mean the same toolchain and
# configuration, so the module will link into the running kernel.
#
# When this machine's compilers are not the kernel's, everything (the
# recreation and the module build) runs in a Debian root of the kernel's suite
# with those compilers, made with mmdebstrap and cached in $ZC9P_CACHE/roots/.
#
# usage: stock-kernel.sh tree KDIR      print the tree to build against (KDIR
#                                       itself when it has the Rust metadata)
#        stock-kernel.sh where KDIR     print "here" or "root SUITE": where the
#                                       kernel's compilers are to be had
#        stock-kernel.sh make KDIR MAKE-ARGS...
#                                       run make for the modules against KDIR
#                                       (here or in the root), M=the sources
# Documentation/install.rst says how this is used (make module KDIR=..., DKMS).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

die() { echo "error: $*" >&2; exit 1; }

# config_str KDIR NAME: a string option of KDIR's .config, unquoted.
config_str() { sed -n "s/^$2=\"\(.*\)\"$/\1/p" "$1/.config"; }
config_set() { grep -q "^$2=[ym]" "$1/.config"; }

# The facts about KDIR's kernel that everything below keys on; exported as
# K_* variables. Checks what a headers tree must have first.
read_kernel() {
	local kdir=$1
	[ -f "$kdir/.config" ] || die "$kdir has no .config: not a kernel build or headers tree (install linux-headers-\$(uname -r))"
	K_RELEASE=$(cat "$kdir/include/config/kernel.release" 2>/dev/null) ||
		die "$kdir has no include/config/kernel.release: not a prepared kernel build or headers tree"
	config_set "$kdir" CONFIG_RUST ||
		die "kernel $K_RELEASE was built without Rust (CONFIG_RUST is not set in $kdir/.config): zc9p needs a Rust-enabled kernel, e.g. Debian's linux-image-7.2.13+deb14-amd64 (sid) or linux-image-7.3.4+deb13-amd64 (trixie-backports)"
	config_set "$kdir" CONFIG_NET_9P ||
		die "kernel $K_RELEASE has no 9P support (CONFIG_NET_9P is not set)"
	[ -f "$kdir/Module.symvers" ] || die "$kdir has no Module.symvers: the module's symbols cannot be checked"
	K_CC_TEXT=$(config_str "$kdir" CONFIG_CC_VERSION_TEXT)
	K_RUSTC_TEXT=$(config_str "$kdir" CONFIG_RUSTC_VERSION_TEXT)
	K_BINDGEN_TEXT=$(config_str "$kdir" CONFIG_BINDGEN_VERSION_TEXT)
	K_CC=${K_CC_TEXT%% *}
	if config_set "$kdir" CONFIG_X86_64; then K_ARCH=x86
	elif config_set "$kdir" CONFIG_ARM64; then K_ARCH=arm64
	else die "kernel $K_RELEASE: only x86_64 and arm64 kernels are supported"
	fi
	# The Debian version of the kernel: ZC9P_KERNEL_DEBVER, or that of the
	# package owning the headers.
	K_DEBVER=${ZC9P_KERNEL_DEBVER:-}
	if [ -z "$K_DEBVER" ]; then
		local pkg
		pkg=$(dpkg-query -S "$(readlink -f "$kdir")/.config" 2>/dev/null | cut -d: -f1 | head -1) || true
		[ -n "$pkg" ] && K_DEBVER=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null)
	fi
	[ -n "$K_DEBVER" ] ||
		die "cannot tell the Debian version of kernel $K_RELEASE (no package owns $kdir/.config): set ZC9P_KERNEL_DEBVER, e.g. 7.2.13-1"
	K_SERIES=$(echo "$K_DEBVER" | sed -n 's/^\([0-9]*\.[0-9]*\).*/\1/p')
	# The suite whose compilers built it: a backport (~bpoNN) was built in
	# the stable release NN; anything else in sid.
	case "$K_DEBVER" in
	*~bpo12*) K_SUITE=bookworm ;;
	*~bpo13*) K_SUITE=trixie ;;
	*~bpo14*) K_SUITE=forky ;;
	*) K_SUITE=sid ;;
	esac
}

# The tools named by the .config, and whether this machine has exactly them.
toolchain_here() {
	local have
	have=$("$K_CC" --version 2>/dev/null | head -1) || have=
	[ "$have" = "$K_CC_TEXT" ] || { MISMATCH="C compiler: the kernel's is '$K_CC_TEXT', here '${have:-no $K_CC}'"; return 1; }
	have=$(rustc --version 2>/dev/null) || have=
	[ "$have" = "$K_RUSTC_TEXT" ] || { MISMATCH="rustc: the kernel's is '$K_RUSTC_TEXT', here '${have:-none}'"; return 1; }
	have=$(bindgen --version 2>/dev/null | head -1) || have=
	[ -z "$K_BINDGEN_TEXT" ] || [ "$have" = "$K_BINDGEN_TEXT" ] ||
		{ MISMATCH="bindgen: the kernel's is '$K_BINDGEN_TEXT', here '${have:-none}'"; return 1; }
	[ -d /usr/lib/rustlib/src/rust/library ] || { MISMATCH="no Rust standard library source (/usr/lib/rustlib/src/rust/library: Debian's rust-src)"; return 1; }
	return 0
}

# The Debian packages that give exactly those tools, as NAME=VERSION (what
# apt is asked for; an error names them when they cannot be had).
toolchain_packages() {
	local cc_pkg cc_ver rust_ver bg_ver
	cc_pkg=${K_CC#"${K_CC%%gcc-*}"}                        # x86_64-linux-gnu-gcc-16 -> gcc-16
	cc_ver=$(echo "$K_CC_TEXT" | sed -n 's/.*(Debian \([^)]*\)).*/\1/p') # 16.2.0-4
	rust_ver=$(echo "$K_RUSTC_TEXT" | awk '{ print $2 }') # 1.97.1
	bg_ver=$(echo "$K_BINDGEN_TEXT" | awk '{ print $2 }')
	echo "$cc_pkg${cc_ver:+=$cc_ver} rustc=$rust_ver+dfsg* rust-src=$rust_ver+dfsg* bindgen${bg_ver:+=$bg_ver*}"
}

# The kernel's exact source: linux-source-SERIES=DEBVER, unpacked (once) under
# $ZC9P_CACHE/stock/src/. The test kernel's copy is used when it is the same.
kernel_source() {
	local key=${K_DEBVER//[~+:]/_}
	local test_copy=$ZC9P_CACHE/src/linux-source-$key
	if [ -f "$test_copy/.unpacked" ]; then echo "$test_copy"; return; fi
	local src=$ZC9P_CACHE/stock/src/linux-source-$key pkg=linux-source-$K_SERIES
	if [ -f "$src/.unpacked" ]; then echo "$src"; return; fi
	local dl
	dl=$(mktemp -d)
	say "downloading $pkg $K_DEBVER (the kernel's own source)"
	(cd "$dl" && apt-get download -qq "$pkg=$K_DEBVER" >&2) ||
		{ rm -rf "$dl"; die "$pkg $K_DEBVER is not to be had from this machine's apt sources: add the suite that has it (Debian $K_SUITE), or install $pkg=$K_DEBVER"; }
	rm -rf "$src.tmp"
	mkdir -p "$src.tmp"
	dpkg-deb --fsys-tarfile "$dl"/*.deb | tar -x -C "$src.tmp" --wildcards "*/$pkg.tar.xz"
	tar -xJf "$src.tmp/usr/src/$pkg.tar.xz" -C "$src.tmp"
	rm -rf "$src" "$dl"
	mv "$src.tmp/$pkg" "$src"
	rm -rf "$src.tmp"
	touch "$src/.unpacked"
	echo "$src"
}

# make's variables for building against the kernel: its compiler and release.
stock_make_vars() {
	local cross=${K_CC%gcc-*}
	echo "ARCH=$K_ARCH CROSS_COMPILE=$cross CC=$K_CC KERNELRELEASE=$K_RELEASE RUSTC=rustc BINDGEN=bindgen"
}

# The names a recreated tree's crates export that the kernel's Module.symvers
# lacks, one per line (none: they are the kernel's own crates).
missing_exports() {
	local tree=$1 kdir=$2
	cat "$tree"/rust/exports_*_generated.h 2>/dev/null |
		sed -n 's/^EXPORT_SYMBOL_RUST_GPL(\(.*\));$/\1/p' | sort -u >"$tree/zc9p-exports"
	awk '{ print $2 }' "$kdir/Module.symvers" | sort -u >"$tree/zc9p-symvers"
	comm -23 "$tree/zc9p-exports" "$tree/zc9p-symvers"
}

# Recreate the Rust metadata for KDIR's kernel with this machine's tools
# (which toolchain_here has checked) and print the tree.
recreate_here() {
	local kdir=$1
	local dir=$ZC9P_CACHE/stock/${K_RELEASE//[~:]/_}
	local tree=$dir/build
	local key
	key=$(cat "$kdir/.config" "$kdir/Module.symvers" | sha256sum | cut -c1-16)
	if [ "$(cat "$dir/.ready" 2>/dev/null)" = "$key $K_DEBVER" ]; then
		echo "$tree"
		return
	fi
	local src
	src=$(kernel_source)
	say "recreating the Rust metadata of kernel $K_RELEASE ($K_DEBVER) in $tree from $src, with $K_CC_TEXT and $K_RUSTC_TEXT"
	rm -rf "$dir/.ready" "$tree"
	mkdir -p "$tree"
	cp "$kdir/.config" "$kdir/Module.symvers" "$tree/"
	# The kernel's vmlinux (the headers ship it), for the modules' BTF.
	[ ! -f "$kdir/vmlinux" ] || ln -s "$kdir/vmlinux" "$tree/vmlinux"
	# shellcheck disable=SC2046 # the variables are words
	make -s -C "$src" O="$tree" $(stock_make_vars) -j"$(nproc)" modules_prepare >"$dir/prepare.log" 2>&1 ||
		{ tail -20 "$dir/prepare.log" >&2; die "make modules_prepare failed for kernel $K_RELEASE (log: $dir/prepare.log)"; }
	# The .config must come out of prepare as it went in: a changed one means
	# other compilers or another source.
	# The .config comes out of prepare as it went in, but for what Kconfig
	# probes on the build machine (e.g. CONFIG_OPENSSL_SUPPORTS_ML_DSA, an
	# openssl feature): shown, not fatal; the symbol check below decides.
	local changed
	changed=$(diff <(grep '^CONFIG_' "$kdir/.config" | sort) <(grep '^CONFIG_' "$tree/.config" | sort) |
		grep '^[<>]' || true)
	[ -z "$changed" ] ||
		say "the prepared .config differs from the kernel's in: $(echo "$changed" | tr '\n' ' ')"
	local missing n total
	missing=$(missing_exports "$tree" "$kdir")
	total=$(wc -l <"$tree/zc9p-exports")
	[ "$total" -gt 0 ] || die "the recreated tree exports no Rust symbols (rust/exports_*_generated.h): the Rust build did not run"
	if [ -n "$missing" ]; then
		n=$(echo "$missing" | wc -l)
		echo "$missing" | head -5 | sed 's/^/  missing: /' >&2
		die "$n of the $total Rust symbols the recreated crates export are not in kernel $K_RELEASE's Module.symvers: the crates differ from the kernel's (another rustc, source or configuration), and a module built on them would fail at insmod"
	fi
	say "the recreated crates export $total symbols, all of them in the kernel's Module.symvers"
	echo "$key $K_DEBVER" >"$dir/.ready"
	echo "$tree"
}

# --- The Debian root of the kernel's suite -------------------------------

root_dir() { echo "$ZC9P_CACHE/roots/$K_SUITE-${K_RELEASE//[~:]/_}"; }

# Make (once) a root of the kernel's suite with its compilers and headers.
make_root() {
	local root
	root=$(root_dir)
	local pkgs
	pkgs="$(toolchain_packages) linux-headers-$K_RELEASE=$K_DEBVER"
	if [ "$(cat "$root/.zc9p-root" 2>/dev/null)" = "$pkgs" ]; then
		echo "$root"
		return
	fi
	command -v mmdebstrap >/dev/null || {
		apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null 2>&1 ||
			die "this machine's compilers are not kernel $K_RELEASE's ($MISMATCH), and mmdebstrap, which makes a Debian $K_SUITE root that has them, cannot be installed: install the packages $pkgs and run again"
	}
	say "this machine's compilers are not kernel $K_RELEASE's ($MISMATCH): building in a Debian $K_SUITE root, $root"
	local suites=$K_SUITE extra=()
	# Backports' kernels: the headers and the source come from -backports.
	case "$K_DEBVER" in *~bpo*) extra=("deb http://deb.debian.org/debian $K_SUITE-backports main") ;; esac
	rm -rf "$root" "$root.tmp"
	mkdir -p "$(dirname "$root")"
	mmdebstrap --variant=apt --aptopt='Acquire::Check-Valid-Until "false"' \
		--include=make,bc,bison,flex,libelf-dev,libssl-dev,python3,kmod,cpio,xz-utils,dwarves,libclang-dev,dpkg-dev \
		"$suites" "$root.tmp" "deb http://deb.debian.org/debian $K_SUITE main" "${extra[@]}" >&2 ||
		die "mmdebstrap could not make a Debian $K_SUITE root"
	# (mmdebstrap leaves no package lists behind.)
	chroot "$root.tmp" apt-get update -qq >&2 || die "apt-get update failed in the Debian $K_SUITE root"
	# Each NAME=VERSION-PATTERN becomes the exact version the suite offers.
	local want exact=() name pat ver
	for want in $pkgs; do
		name=${want%%=*} pat=${want#*=}
		[ "$name" != "$want" ] || { exact+=("$name"); continue; }
		# shellcheck disable=SC2254 # pat is a pattern
		ver=$(chroot "$root.tmp" apt-cache madison "$name" 2>/dev/null | awk -F' *[|] *' '{ print $2 }' |
			while read -r v; do case "$v" in $pat) echo "$v" ;; esac; done | sort -V | tail -1)
		[ -n "$ver" ] || die "Debian $K_SUITE offers no $name=$pat, which kernel $K_RELEASE was built with; needed: $pkgs"
		exact+=("$name=$ver")
	done
	if ! chroot "$root.tmp" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends "${exact[@]}" >"$root.tmp/zc9p-install.log" 2>&1; then
		tail -5 "$root.tmp/zc9p-install.log" >&2
		die "Debian $K_SUITE does not offer exactly the tools and headers kernel $K_RELEASE was built with; needed: $pkgs"
	fi
	echo "$pkgs" >"$root.tmp/.zc9p-root"
	mv "$root.tmp" "$root"
	echo "$root"
}

# Run COMMAND... in the root with the sources at /zc9p and the caller's
# environment variables that matter passed on.
in_root() {
	local root=$1
	shift
	mkdir -p "$root/zc9p"
	# A private mount namespace: the bind mounts go away with the command.
	unshare -m --propagation private bash -c '
		root=$1 src=$2 cache=$3; shift 3
		mount --bind "$src" "$root/zc9p"
		# The test kernel'"'"'s unpacked sources, when this machine has them.
		if [ -d "$cache/src" ]; then
			mkdir -p "$root/var/cache/zc9p/src"
			mount --bind -o ro "$cache/src" "$root/var/cache/zc9p/src"
		fi
		mount -t proc proc "$root/proc"
		exec chroot "$root" "$@"' _ "$root" "$ZC9P_ROOT" "$ZC9P_CACHE" \
		env ZC9P_IN_ROOT=1 ZC9P_CACHE=/var/cache/zc9p PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"
}

cmd=${1:-}
kdir=${2:-}
[ -n "$kdir" ] || { echo "usage: $0 tree|where|make KDIR [MAKE-ARGS...]" >&2; exit 2; }
kdir=$(readlink -f "$kdir")
read_kernel "$kdir"
shift 2
MISMATCH=
case "$cmd" in
where)
	if toolchain_here; then echo here; else echo "root $K_SUITE"; fi ;;
tree)
	if [ -f "$kdir/rust/libkernel.rmeta" ]; then echo "$kdir"; exit 0; fi
	toolchain_here || die "this machine's compilers are not kernel $K_RELEASE's: $MISMATCH (install $(toolchain_packages), or build with 'make module KDIR=$kdir', which uses a Debian $K_SUITE root)"
	recreate_here "$kdir" ;;
make)
	if toolchain_here; then
		tree=$kdir
		[ -f "$kdir/rust/libkernel.rmeta" ] || tree=$(recreate_here "$kdir")
		msrc=${ZC9P_MODULE_SRC:-$ZC9P_ROOT}
		# Objects built against another tree go first (tools/build-module.sh).
		stamp=$msrc/.zc9p-kdir
		if [ -f "$stamp" ] && [ "$(cat "$stamp")" != "$tree" ]; then
			say "modules in $msrc were built against $(cat "$stamp"): cleaning"
			# shellcheck disable=SC2046
			make -s -C "$tree" M="$msrc" $(stock_make_vars) clean >/dev/null
		fi
		echo "$tree" >"$stamp"
		# modules_install signs with the kernel's key when the .config says
		# MODULE_SIG_ALL; a distribution's key is not published, so it would
		# only print sign-file's errors: the modules stay unsigned (DKMS signs
		# with its own key; Documentation/install.rst).
		nosign=()
		for a in "$@"; do [ "$a" != modules_install ] || nosign=(CONFIG_MODULE_SIG_ALL=); done
		# shellcheck disable=SC2046
		exec make -C "$tree" M="$msrc" $(stock_make_vars) "${nosign[@]}" "$@"
	fi
	[ -z "${ZC9P_IN_ROOT:-}" ] ||
		die "kernel $K_RELEASE needs other compilers than this Debian root has: $MISMATCH; needed: $(toolchain_packages)"
	root=$(make_root)
	# The kernel's headers inside the root are the same package's.
	install=no dest=${INSTALL_MOD_PATH:-} args=()
	for a in "$@"; do
		case "$a" in
		modules_install) install=yes; args+=("$a") ;;
		INSTALL_MOD_PATH=*) dest=${a#INSTALL_MOD_PATH=} ;;
		*) args+=("$a") ;;
		esac
	done
	if [ $install = no ]; then
		in_root "$root" bash /zc9p/tools/stock-kernel.sh make "/usr/src/linux-headers-$K_RELEASE" "${args[@]}"
		exit
	fi
	# modules_install in the root installs under a staging folder of the
	# sources, copied from there to this machine's (or INSTALL_MOD_PATH's)
	# /lib/modules/RELEASE, then this machine's depmod.
	staging=$ZC9P_ROOT/.zc9p-install
	rm -rf "$staging"
	in_root "$root" bash /zc9p/tools/stock-kernel.sh make "/usr/src/linux-headers-$K_RELEASE" \
		"${args[@]}" INSTALL_MOD_PATH=/zc9p/.zc9p-install DEPMOD=true
	mkdir -p "${dest:-}/lib/modules/$K_RELEASE"
	cp -a "$staging/lib/modules/$K_RELEASE/." "${dest:-}/lib/modules/$K_RELEASE/"
	find "$staging" -name '*.ko*' | sed "s|^$staging|  installed: ${dest:-}|" >&2
	rm -rf "$staging"
	depmod ${dest:+-b "$dest"} "$K_RELEASE" ;;
*) echo "usage: $0 tree|where|make KDIR [MAKE-ARGS...]" >&2; exit 2 ;;
esac
