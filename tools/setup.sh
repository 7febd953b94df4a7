#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Install everything zc9p needs on a fresh Debian bookworm machine (run as root).
# Idempotent: each step checks whether it is already done.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

APT_PKGS="rustc-web rust-web-src clang-19 lld-19 llvm-19 libclang-19-dev flex bison bc
  libelf-dev libssl-dev cpio qemu-system-x86 busybox-static make gcc libc6-dev xz-utils
  kmod python3 diod socat
  mmdebstrap debhelper dh-dkms dpkg-dev
  shellcheck rustfmt-web rust-web-clippy"

install_packages() {
	local missing=()
	for p in $APT_PKGS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing+=("$p")
	done
	if [ ${#missing[@]} -eq 0 ]; then
		say "toolchain packages already installed"
		return
	fi
	say "installing packages: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# One retry: a dpkg run interrupted by another apt user leaves a half-done state.
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
		{ apt-get install -f -y -qq >/dev/null; apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
}

# find_cargo: the path of a cargo, installing Debian's if there is none.
find_cargo() {
	local cargo
	cargo=$(command -v cargo || echo /root/.cargo/bin/cargo)
	[ -x "$cargo" ] || { apt-get install -y -qq cargo-web >/dev/null; cargo=$(command -v cargo || echo /usr/bin/cargo); }
	echo "$cargo"
}

install_bindgen() {
	if [ -x "$BINDGEN" ]; then
		say "bindgen already installed at $BINDGEN"
		return
	fi
	say "installing bindgen-cli from crates.io into $ZC9P_CACHE/bindgen"
	local cargo
	cargo=$(find_cargo)
	LIBCLANG_PATH=/usr/lib/llvm-19/lib "$cargo" install --locked --quiet \
		--root "$ZC9P_CACHE/bindgen" bindgen-cli
}

# build_cached NAME ROOT STAMP_FILE STAMP COMMAND...: a guest 9P server built
# into ROOT by COMMAND, run (and cargo found or installed) only when
# ROOT/bin/NAME is missing or STAMP_FILE does not hold STAMP (its version, or
# the hash of its sources).
# Copied into the guest by tools/mkinitramfs.sh. A failed build is not fatal:
# the guest suite then reports the tests that need NAME as not run.
build_cached() {
	local name=$1 root=$2 stamp_file=$3 stamp=$4
	shift 4
	if [ -x "$root/bin/$name" ] && [ "$(cat "$stamp_file" 2>/dev/null)" = "$stamp" ]; then
		say "$name $stamp already built at $root"
		return
	fi
	say "building $name $stamp from crates.io into $root"
	if "$@"; then
		echo "$stamp" >"$stamp_file"
	else
		say "warning: $name did not build; the guest suite runs without it"
	fi
}

# unpfs, a second 9P server for the fd transports' tests (tokio; replies out
# of order, takes the client's msize).
UNPFS_VERSION=0.13.0
install_unpfs() {
	local root="$ZC9P_CACHE/unpfs"
	build_cached unpfs "$root" "$root/version" "$UNPFS_VERSION" build_unpfs "$root"
}
# build_unpfs ROOT: cargo's install of unpfs UNPFS_VERSION into ROOT.
build_unpfs() {
	local cargo
	cargo=$(find_cargo)
	"$cargo" install --locked --quiet --force --root "$1" "unpfs@$UNPFS_VERSION"
}

# zc9p-lawn9p (tests/lawn9p/): lawn-9p's server (crates.io), the only one
# found that serves a real directory in 9P2000 and 9P2000.u (and .L), for the
# protocol-version suite (tests/guest/versions.sh). Keyed on the hash of its
# sources and lock file.
install_lawn9p() {
	local root="$ZC9P_CACHE/lawn9p" src="$ZC9P_ROOT/tests/lawn9p" key
	key=$(cat "$src/Cargo.toml" "$src/Cargo.lock" "$src/src/main.rs" | sha256sum | cut -c1-16)
	build_cached zc9p-lawn9p "$root" "$root/key" "$key" build_lawn9p "$root" "$src"
}
# build_lawn9p ROOT SRC: cargo's build of SRC, its binary copied to ROOT/bin.
build_lawn9p() {
	local root=$1 src=$2 cargo
	cargo=$(find_cargo)
	mkdir -p "$root/bin"
	"$cargo" build --quiet --release --locked --manifest-path "$src/Cargo.toml" \
		--target-dir "$root/target" &&
		cp "$root/target/release/zc9p-lawn9p" "$root/bin/zc9p-lawn9p"
}

# The private apt configuration that fetches Debian's kernel source: the sid
# and trixie-backports suites are used for this one download and never added to
# the system's sources (apt would then upgrade the system from them).
APTDIR=$ZC9P_CACHE/apt
APTOPTS=(-o Dir::Etc::SourceList="$APTDIR/sources.list"
	-o Dir::Etc::SourceParts="$APTDIR/parts"
	-o Dir::Etc::PreferencesParts="$APTDIR/prefs"
	-o Dir::State::Lists="$APTDIR/lists"
	-o Dir::Cache::Archives="$APTDIR/archives"
	-o Dir::Cache::pkgcache="" -o Dir::Cache::srcpkgcache=""
	-o APT::Get::List-Cleanup=0 -o APT::Sandbox::User=root)

refresh_kernel_lists() {
	mkdir -p "$APTDIR/lists/partial" "$APTDIR/archives/partial" "$APTDIR/parts" "$APTDIR/prefs"
	cat > "$APTDIR/sources.list" <<EOS
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian sid main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie-backports main
EOS
	local stamp="$APTDIR/lists/.updated"
	if [ ! -f "$stamp" ] || [ -n "$(find "$stamp" -mmin +720)" ]; then
		say "refreshing private package lists (sid, trixie-backports)"
		apt-get "${APTOPTS[@]}" update -qq
		touch "$stamp"
	fi
}

# The newest Debian version of linux-source-SERIES offered, or nothing.
offered_version() {
	apt-cache "${APTOPTS[@]}" madison "linux-source-$1" 2>/dev/null |
		awk -F'|' '{gsub(/ /,"",$2); print $2}' | sort -V | tail -1
}

# The series offered (linux-source-X.Y packages that have a version), oldest first.
offered_series() {
	apt-cache "${APTOPTS[@]}" pkgnames linux-source- 2>/dev/null |
		sed -n 's/^linux-source-\([0-9][0-9]*\.[0-9][0-9]*\)$/\1/p' | sort -V |
		while read -r s; do [ -z "$(offered_version "$s")" ] || echo "$s"; done
}

# KERNEL_SERIES unset: the default, ZC9P_PREFERRED_SERIES while Debian offers
# it, else the newest series offered (a fresh machine still builds once sid
# has moved on). Recorded for the tools that run after this one.
resolve_default_series() {
	local series
	if [ -n "$(offered_version "$ZC9P_PREFERRED_SERIES")" ]; then
		series=$ZC9P_PREFERRED_SERIES
		say "kernel series $series (the default; KERNEL_SERIES=X.Y picks another)"
	else
		series=$(offered_series | tail -1)
		if [ -z "$series" ]; then
			echo "error: sid and trixie-backports offer no linux-source-X.Y at all" >&2
			exit 1
		fi
		say "kernel series $series: linux-source-$ZC9P_PREFERRED_SERIES is not offered any more, $series is the newest series offered (KERNEL_SERIES=X.Y picks another)"
	fi
	echo "$series" > "$ZC9P_CACHE/kernel-series-default.tmp"
	mv "$ZC9P_CACHE/kernel-series-default.tmp" "$ZC9P_CACHE/kernel-series-default"
}

# Fetch and unpack Debian's linux-source-SERIES (KERNEL_SERIES or the default),
# recording its version in $ZC9P_CACHE/kernel-version-SERIES.
fetch_kernel_source() {
	refresh_kernel_lists
	if [ -z "${KERNEL_SERIES:-}" ]; then
		resolve_default_series
	fi
	local series ver
	series=$(kernel_series)
	[ -z "${KERNEL_SERIES:-}" ] || say "kernel series $series (KERNEL_SERIES)"
	ver=$(offered_version "$series")
	if [ -z "$ver" ]; then
		# A source fetched while it was offered still builds.
		if ver=$(kernel_version 2>/dev/null) && [ -f "$(kernel_src)/.unpacked" ]; then
			say "linux-source-$series is not offered any more; using the cached $ver"
			return
		fi
		echo "error: no linux-source-$series is offered by sid or trixie-backports." >&2
		echo "Series offered: $(offered_series | tr '\n' ' ')" >&2
		exit 1
	fi
	echo "$ver" > "$ZC9P_CACHE/kernel-version-$series.tmp"
	mv "$ZC9P_CACHE/kernel-version-$series.tmp" "$ZC9P_CACHE/kernel-version-$series"
	local src
	src=$(kernel_src)
	if [ -f "$src/.unpacked" ]; then
		say "kernel source $ver already unpacked at $src"
		return
	fi
	local pkg=linux-source-$series
	say "downloading $pkg $ver"
	(cd "$APTDIR/archives" && apt-get "${APTOPTS[@]}" download -qq "$pkg=$ver")
	# apt names the file after the version, with an epoch's ':' as %3a.
	local deb="$APTDIR/archives/${pkg}_${ver//:/%3a}_all.deb"
	[ -f "$deb" ] || { echo "error: apt-get download left no $deb" >&2; exit 1; }
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	say "unpacking $deb"
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$src.tmp" --wildcards "*/$pkg.tar.xz"
	tar -xJf "$src.tmp/usr/src/$pkg.tar.xz" -C "$src.tmp"
	mv "$src.tmp/$pkg" "$src"
	rm -rf "$src.tmp"
	touch "$src/.unpacked"
}

case "${1:-all}" in
packages) install_packages ;;
bindgen) install_bindgen ;;
unpfs) install_unpfs ;;
lawn9p) install_lawn9p ;;
source) fetch_kernel_source ;;
all) install_packages; install_bindgen; install_unpfs; install_lawn9p; fetch_kernel_source ;;
*) echo "usage: $0 [packages|bindgen|unpfs|lawn9p|source|all]" >&2; exit 2 ;;
esac
