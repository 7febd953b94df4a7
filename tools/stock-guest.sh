# SPDX-License-Identifier: GPL-2.0
# The stock-kernel guest of tools/run-tests.sh (sourced; bash): Debian's own
# kernel, with zc9p's modules built the way a user's machine builds them.
#
# A Debian root of the kernel's suite (mmdebstrap, cached in
# $ZC9P_CACHE/stock-guest/) stands for the user's machine: the kernel's
# linux-image and linux-headers packages installed by apt, then this tree's
# zc9p-dkms package (tools/build-deb.sh) installed by apt, whose DKMS build
# recreates the headers' missing Rust metadata (tools/stock-kernel.sh) and
# builds zc9p_virtio and zc9p_fd for that kernel. The guest boots the root's
# /boot/vmlinuz with an initramfs that is the test guests' one plus the
# kernel's own modules (virtio's PCI transport, its NIC, 9P, mainline's 9P
# transports) and the DKMS-built ones as installed (updates/dkms), and runs
# the kselftest programs the caller names (zc9p.stock=1 on its command line
# tells them where DKMS installed the modules): the virtio guest's and the fd
# guest's, less what needs the debug kernel.
#
# The kernel: KERNEL_SERIES's (7.2: sid's 7.2.13+deb14-amd64; 7.3:
# trixie-backports' 7.3.4+deb13-amd64), or ZC9P_STOCK_KERNEL="SUITE RELEASE
# DEBIAN-VERSION".
#
#   stock_guest_prepare LOGDIR   the root, the package and DKMS's build, the
#                                extra initramfs part (LOGDIR/stock.cpio.gz)
#                                and the kernel (LOGDIR/vmlinuz); returns
#                                non-zero, with the reason in LOGDIR/prepare.log,
#                                when any of it fails
#   stock_guest_start WORK BASE-INITRAMFS LOGDIR LIMIT KSFT_TIMEOUT KSFT_TESTS
#                                boots the guest in the background, running
#                                the programs KSFT_TESTS (pid in
#                                STOCK_GUEST_PID; running time in LOGDIR/elapsed)
#   stock_guest_results LOGDIR   the host's checks, through the caller's report

# The stock kernel of a series: SUITE RELEASE DEBIAN-VERSION.
stock_kernel_spec() {
	if [ -n "${ZC9P_STOCK_KERNEL:-}" ]; then echo "$ZC9P_STOCK_KERNEL"; return; fi
	case "$1" in
	7.2) echo "sid 7.2.13+deb14-amd64 7.2.13-1" ;;
	7.3) echo "trixie 7.3.4+deb13-amd64 7.3.4-1~bpo13+1" ;;
	*) echo "error: no stock kernel is named for series $1 (set ZC9P_STOCK_KERNEL)" >&2; return 1 ;;
	esac
}

# in_stock_root ROOT COMMAND...: COMMAND in the root, with /proc and the
# host's unpacked kernel sources (read-only) mounted for its duration.
in_stock_root() {
	local root=$1
	shift
	unshare -m --propagation private bash -c '
		root=$1 cache=$2; shift 2
		mount -t proc proc "$root/proc"
		if [ -d "$cache/src" ]; then
			mkdir -p "$root/var/cache/zc9p/src"
			mount --bind -o ro "$cache/src" "$root/var/cache/zc9p/src"
		fi
		exec chroot "$root" "$@"' _ "$root" "$ZC9P_CACHE" \
		env DEBIAN_FRONTEND=noninteractive PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"
}

# The package's dependencies (packaging/debian/control), for the root.
stock_package_depends() {
	sed -n '/^Package: zc9p-dkms/,/^Description/p' "$ZC9P_ROOT/packaging/debian/control" |
		sed -n '/^Depends:/,/^[A-Z][a-z]*:/p' | grep -v '^Recommends:\|^Description' |
		sed 's/^Depends://' | tr ',' '\n' | sed 's/[ \t]//g; s/(.*//' | grep -v '^\$' | grep . | sort -u
}

stock_guest_prepare() {
	local logdir=$1 suite rel ver series
	series=$(kernel_series)
	read -r suite rel ver < <(stock_kernel_spec "$series") || return 1
	STOCK_RELEASE=$rel
	mkdir -p "$logdir"
	local log=$logdir/prepare.log
	: >"$log"
	local root=$ZC9P_CACHE/stock-guest/$suite-${rel//[~:]/_}
	local pkgs sources
	pkgs="linux-image-$rel=$ver linux-headers-$rel=$ver $(stock_package_depends | tr '\n' ' ')"
	sources="deb http://deb.debian.org/debian $suite main"
	# A backported kernel needs some of its dependencies from backports too
	# (linux-base), while the compilers stay the stable release's.
	case "$ver" in *~bpo*)
		sources="$sources"$'\n'"deb http://deb.debian.org/debian $suite-backports main"
		pkgs="$pkgs linux-base/$suite-backports" ;;
	esac
	if [ "$(cat "$root/.zc9p-root" 2>/dev/null)" != "$pkgs" ]; then
		say "stock guest: making a Debian $suite root with linux-image-$rel $ver (cached in $root)"
		rm -rf "$root" "$root.tmp"
		mkdir -p "$(dirname "$root")"
		# shellcheck disable=SC2086 # lists of packages
		if ! mmdebstrap --variant=apt --aptopt='Acquire::Check-Valid-Until "false"' \
				--include="$(echo $pkgs | tr ' ' ',')" "$suite" "$root.tmp" - <<<"$sources" >>"$log" 2>&1; then
			echo "error: mmdebstrap could not make the stock kernel's root" >>"$log"
			return 1
		fi
		chroot "$root.tmp" apt-get update -qq >>"$log" 2>&1
		echo "$pkgs" >"$root.tmp/.zc9p-root"
		mv "$root.tmp" "$root"
	fi
	# The package, as a user installs it: apt, then DKMS's build for the kernel
	# (the Rust metadata it recreates the first time stays cached in the root).
	local deb
	deb=$(bash "$ZC9P_ROOT/tools/build-deb.sh" 2>>"$log") || { echo "error: make deb failed" >>"$log"; return 1; }
	local name=${deb##*/}
	local pkgver=${name#zc9p-dkms_}
	pkgver=${pkgver%_all.deb}
	cp "$deb" "$root/tmp/$name"
	say "stock guest: apt install ./$name in the root (DKMS builds zc9p for $rel)"
	{
		echo "== apt install ./$name"
		# (A root that had a later commit's package takes an earlier one too.)
		in_stock_root "$root" apt-get install -y --no-install-recommends --reinstall --allow-downgrades "/tmp/$name" 2>&1
		echo "== dkms status"
		in_stock_root "$root" dkms status 2>&1
	} >>"$log"
	# DKMS builds at installation for the running kernel and the newest
	# installed one; the running one is the host's, so ask for this one too.
	if ! in_stock_root "$root" dkms status -m zc9p -v "$pkgver" -k "$rel" 2>/dev/null | grep -q ': installed'; then
		in_stock_root "$root" dkms install -m zc9p -v "$pkgver" -k "$rel" >>"$log" 2>&1 || true
	fi
	in_stock_root "$root" dkms status -m zc9p -v "$pkgver" -k "$rel" >"$logdir/dkms-status" 2>&1
	if ! grep -q ': installed' "$logdir/dkms-status"; then
		cat "$root/var/lib/dkms/zc9p/$pkgver/build/make.log" >>"$log" 2>/dev/null
		echo "error: DKMS did not install zc9p $pkgver for $rel" >>"$log"
		return 1
	fi
	# The test module, which the package does not build, from the sources it
	# installed, alone (ZC9P_PINTEST=only), against the same recreated tree.
	say "stock guest: building the test module zc9p_pintest for $rel"
	rm -rf "$root/tmp/zc9p-pintest"
	cp -r "$root/usr/src/zc9p-$pkgver" "$root/tmp/zc9p-pintest"
	if ! in_stock_root "$root" make -C /tmp/zc9p-pintest module \
			KDIR="/lib/modules/$rel/build" ZC9P_PINTEST=only >>"$log" 2>&1; then
		echo "error: zc9p_pintest did not build for $rel" >>"$log"
		return 1
	fi
	stock_initramfs_part "$root" "$rel" "$pkgver" "$logdir" >>"$log" 2>&1 || return 1
	cp "$root/boot/vmlinuz-$rel" "$logdir/vmlinuz"
}

# The initramfs part the stock guest adds to the test guests' one.
stock_initramfs_part() {
	local root=$1 rel=$2 pkgver=$3 logdir=$4
	local stage
	stage=$(mktemp -d)
	local mods=$stage/lib/modules/$rel
	# /zc9p is a link to the collection's folder, /kselftest/zc9p (tools/mkinitramfs.sh).
	local coll=$stage/kselftest/zc9p
	mkdir -p "$mods" "$coll" "$stage/etc"
	cp "$root/lib/modules/$rel"/modules.{order,builtin,builtin.modinfo} "$mods/"
	# The kernel's modules the suites use, with what they depend on.
	local m f
	for m in virtio_pci virtio_net 9pnet 9p 9pnet_virtio 9pnet_fd vsock_loopback; do
		/sbin/modprobe -d "$root" -S "$rel" --show-depends "$m" |
			sed -n "s|^insmod $root\\(/lib/modules/[^ ]*\\).*|\\1|p"
	done | sort -u >"$stage/list"
	find "$root/lib/modules/$rel/updates/dkms" -name 'zc9p_*.ko*' | sed "s|^$root||" >>"$stage/list"
	while read -r f; do
		mkdir -p "$stage$(dirname "$f")"
		case "$f" in
		*.xz) xz -dc "$root$f" >"$stage${f%.xz}" ;;
		*.zst) zstd -qdc "$root$f" >"$stage${f%.zst}" ;;
		*) cp "$root$f" "$stage$f" ;;
		esac
	done <"$stage/list"
	rm "$stage/list"
	/sbin/depmod -b "$stage" "$rel"
	# The suites' own copies: zc9p's as DKMS installed them, mainline's as Debian ships them.
	cp "$mods"/updates/dkms/zc9p_{virtio,fd}.ko "$coll/"
	cp "$root/tmp/zc9p-pintest/tests/pintest/zc9p_pintest.ko" "$coll/"
	find "$mods/kernel/net/9p" -name '9pnet_*.ko' -exec cp {} "$coll/" \;
	# vsock_loopback: trans=vsock's tests use CID 1 (the test kernel has it built in).
	echo "virtio_pci virtio_net 9pnet 9p vsock_loopback" >"$stage/etc/zc9p-preload"
	(cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) >"$logdir/stock.cpio.gz"
	rm -rf "$stage"
}

stock_guest_start() {
	local work=$1 base=$2 logdir=$3 limit=$4 ksft_timeout=$5 ksft_tests=$6
	local s=$work/stock
	mkdir -p "$s/share0/big" "$s/share1" "$s/share3" "$s/share4"
	(cd "$s/share0/big" && seq -f 'h%05g' 0 4999 | xargs touch)
	# shellcheck disable=SC2154 # check: the host check program, set by tools/run-tests.sh
	"$check" write "$s/share3/slow" $((4 * 1048576)) 31 >/dev/null
	"$check" write "$s/share3/small-1" 262144 41 >/dev/null
	"$check" write "$s/share3/small-2" 262144 42 >/dev/null
	cat "$base" "$logdir/stock.cpio.gz" >"$s/initramfs.cpio.gz"
	(
		t0=$(date +%s)
		rc=0
		ZC9P_VMLINUZ=$logdir/vmlinuz \
		ZC9P_APPEND="${ZC9P_APPEND:-} zc9p.stock=1 KSFT_TESTS=$ksft_tests KSFT_TIMEOUT=$ksft_timeout" \
		ZC9P_TRACE="v9fs_read v9fs_write virtqueue_pop" ZC9P_NET=1 \
		bash "$ZC9P_ROOT/tools/run-vm.sh" "$s/initramfs.cpio.gz" kselftest.sh "$logdir" "$limit" \
			"$s/share0" "$s/share1,indirect_desc=off" /proc/self \
			"$s/share3,indirect_desc=off,fsdev.throttling.bps-read=262144" "$s/share4" || rc=$?
		echo $(( $(date +%s) - t0 )) >"$logdir/elapsed"
		exit $rc
	) &
	# shellcheck disable=SC2034 # for the caller, tools/run-tests.sh
	STOCK_GUEST_PID=$!
}

# The build's refusals, each a one-line error and a non-zero exit, nothing
# left behind (tools/stock-kernel.sh): headers of a kernel without Rust, a
# rustc other than the kernel's, no linux-source at the kernel's version. Run
# on this machine and in the stock root, on copies of the stock kernel's
# headers' facts with one of them changed.
stock_error_checks() {
	local logdir=$1 root rel=$STOCK_RELEASE suite debver series
	read -r suite rel debver < <(stock_kernel_spec "$(kernel_series)")
	series=$(echo "$debver" | sed -n 's/^\([0-9]*\.[0-9]*\).*/\1/p')
	root=$(ls -d "$ZC9P_CACHE"/stock-guest/*-"$rel" 2>/dev/null | head -1)
	local h=$root/usr/src/linux-headers-$rel
	[ -f "$h/.config" ] || { report 1 "stock: the refusals (no headers in $root)"; return; }
	local fake=$root/tmp/zc9p-fake-headers
	# stock_refusal DESCRIPTION WANT-IN-ERROR COMMAND...: the command exits
	# non-zero and its error is one line holding WANT.
	stock_refusal() {
		local desc=$1 want=$2 rc=0
		shift 2
		"$@" >"$logdir/refusal.out" 2>&1 || rc=$?
		local errs
		errs=$(grep -c '^error: ' "$logdir/refusal.out" || true)
		if [ $rc -ne 0 ] && [ "$errs" = 1 ] && grep -q "^error: .*$want" "$logdir/refusal.out"; then
			sed 's/^/# /' "$logdir/refusal.out" | grep '# error'
			report 0 "stock: $desc"
		else
			sed 's/^/# /' "$logdir/refusal.out" | tail -5
			report 1 "stock: $desc (exit $rc, $errs error lines)"
		fi
	}
	# fake_headers CHANGE: the headers' facts with a sed CHANGE to .config.
	fake_headers() {
		rm -rf "$fake"
		mkdir -p "$fake/include/config"
		sed "$1" "$h/.config" >"$fake/.config"
		cp "$h/Module.symvers" "$fake/"
		cp "$h/include/config/kernel.release" "$fake/include/config/"
	}
	fake_headers 's/^CONFIG_RUST=y/# CONFIG_RUST is not set/'
	stock_refusal "headers of a kernel without Rust: refused" "CONFIG_RUST is not set" \
		env ZC9P_KERNEL_DEBVER=0 bash "$ZC9P_ROOT/tools/stock-kernel.sh" tree "$fake"
	local ver tool
	tool=$(ls -d "$root"/usr/src/zc9p-*/tools/stock-kernel.sh | head -1)
	tool=${tool#"$root"}
	ver=$(sed -n 's/^CONFIG_RUSTC_VERSION_TEXT="rustc \([0-9.]*\).*/\1/p' "$h/.config")
	fake_headers 's/^CONFIG_RUSTC_VERSION_TEXT="rustc [0-9.]*/CONFIG_RUSTC_VERSION_TEXT="rustc 1.60.0/'
	stock_refusal "a kernel built with another rustc (1.60.0, the root has $ver): refused, naming the packages" \
		"rustc=1.60.0" \
		in_stock_root "$root" env ZC9P_KERNEL_DEBVER="$debver" bash "$tool" tree /tmp/zc9p-fake-headers
	fake_headers ''
	stock_refusal "no linux-source at the kernel's version ($series.0-99): refused, nothing cached" \
		"linux-source-$series $series.0-99 is not to be had" \
		in_stock_root "$root" env ZC9P_KERNEL_DEBVER="$series.0-99" ZC9P_CACHE=/tmp/zc9p-fake-cache \
		bash "$tool" tree /tmp/zc9p-fake-headers
	local left
	left=$(find "$root/tmp/zc9p-fake-cache" -mindepth 1 -not -type d 2>/dev/null | wc -l)
	report $(( left != 0 )) "stock: the refused build left nothing in its cache ($left files)"
	rm -rf "$fake" "$root/tmp/zc9p-fake-cache"
}
