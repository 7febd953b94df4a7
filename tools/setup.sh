#!/usr/bin/env bash
# Install everything zc9p needs on a fresh Debian bookworm machine (run as root).
# Idempotent: each step checks whether it is already done.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

APT_PKGS="rustc-web rust-web-src clang-19 lld-19 llvm-19 libclang-19-dev flex bison bc
  libelf-dev libssl-dev cpio qemu-system-x86 busybox-static make gcc libc6-dev xz-utils
  kmod python3 diod"

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

# unpfs, a second 9P server for the fd transports' tests (tokio; replies out
# of order, takes the client's msize); copied into the guest by
# tools/mkinitramfs.sh. A failed build is not fatal: the guest suite then
# reports its unpfs tests as not run.
UNPFS_VERSION=0.13.0
install_unpfs() {
	local root="$ZC9P_CACHE/unpfs"
	if [ -x "$root/bin/unpfs" ] && [ "$(cat "$root/version" 2>/dev/null)" = "$UNPFS_VERSION" ]; then
		say "unpfs $UNPFS_VERSION already installed at $root"
		return
	fi
	say "building unpfs $UNPFS_VERSION from crates.io into $root"
	local cargo
	cargo=$(find_cargo)
	if "$cargo" install --locked --quiet --force --root "$root" "unpfs@$UNPFS_VERSION"; then
		echo "$UNPFS_VERSION" >"$root/version"
	else
		say "warning: unpfs did not build; the guest suite runs without it"
	fi
}

# Fetch Debian's linux-source-7.2 with a private apt configuration: the sid and
# trixie-backports suites are used for this one download and never added to the
# system's sources (apt would then upgrade the system from them).
fetch_kernel_source() {
	local aptdir="$ZC9P_CACHE/apt"
	mkdir -p "$aptdir/lists/partial" "$aptdir/archives/partial" "$aptdir/parts" "$aptdir/prefs"
	cat > "$aptdir/sources.list" <<EOS
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian sid main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie-backports main
EOS
	local aptopts=(-o Dir::Etc::SourceList="$aptdir/sources.list"
		-o Dir::Etc::SourceParts="$aptdir/parts"
		-o Dir::Etc::PreferencesParts="$aptdir/prefs"
		-o Dir::State::Lists="$aptdir/lists"
		-o Dir::Cache::Archives="$aptdir/archives"
		-o Dir::Cache::pkgcache="" -o Dir::Cache::srcpkgcache=""
		-o APT::Get::List-Cleanup=0 -o APT::Sandbox::User=root)
	local stamp="$aptdir/lists/.updated"
	if [ ! -f "$stamp" ] || [ -n "$(find "$stamp" -mmin +720)" ]; then
		say "refreshing private package lists (sid, trixie-backports)"
		apt-get "${aptopts[@]}" update -qq
		touch "$stamp"
	fi
	local ver
	ver=$(apt-cache "${aptopts[@]}" madison linux-source-7.2 2>/dev/null |
		awk -F'|' '{gsub(/ /,"",$2); print $2}' | sort -V | tail -1)
	if [ -z "$ver" ]; then
		echo "error: no linux-source-7.2 is offered by sid or trixie-backports any more." >&2
		echo "Versions offered:" >&2
		apt-cache "${aptopts[@]}" search '^linux-source-[0-9.]+$' 2>/dev/null |
			awk '{print $1}' | while read -r p; do
			apt-cache "${aptopts[@]}" madison "$p" | awk -F'|' '{print "  " $1 $2}'
		done >&2
		exit 1
	fi
	local src="$ZC9P_CACHE/src/linux-source-$ver"
	echo "$ver" > "$ZC9P_CACHE/kernel-version"
	if [ -f "$src/.unpacked" ]; then
		say "kernel source $ver already unpacked at $src"
		return
	fi
	say "downloading linux-source-7.2 $ver"
	(cd "$aptdir/archives" && apt-get "${aptopts[@]}" download -qq "linux-source-7.2=$ver")
	local deb
	deb=$(ls -t "$aptdir"/archives/linux-source-7.2_*.deb | head -1)
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	say "unpacking $deb"
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$src.tmp" --wildcards '*/linux-source-7.2.tar.xz'
	tar -xJf "$src.tmp"/usr/src/linux-source-7.2.tar.xz -C "$src.tmp"
	mv "$src.tmp"/linux-source-7.2 "$src"
	rm -rf "$src.tmp"
	touch "$src/.unpacked"
}

case "${1:-all}" in
packages) install_packages ;;
bindgen) install_bindgen ;;
unpfs) install_unpfs ;;
source) fetch_kernel_source ;;
all) install_packages; install_bindgen; install_unpfs; fetch_kernel_source ;;
*) echo "usage: $0 [packages|bindgen|unpfs|source|all]" >&2; exit 2 ;;
esac
