#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make deb`: the zc9p-dkms Debian package (packaging/debian, packaging/dkms.conf),
# built with Debian's own tooling (dpkg-buildpackage, debhelper, dh_dkms) from
# a copy of the sources, into dist/. Prints the package's path.
# Install it with `apt install ./dist/zc9p-dkms_VERSION_all.deb`.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need=()
for p in debhelper dh-dkms dpkg-dev; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	say "installing ${need[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# The version: rust/VERSION, with the commit when this is a git checkout: its
# number in the history (so that a later commit is a later package for apt)
# and its hash.
version=$(cat "$ZC9P_ROOT/rust/VERSION")
if rev=$(git -C "$ZC9P_ROOT" rev-parse --short=12 HEAD 2>/dev/null); then
	version="$version+git$(git -C "$ZC9P_ROOT" rev-list --count HEAD).g$rev"
fi
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
src=$stage/zc9p-$version
mkdir -p "$src/tests"
tar -C "$ZC9P_ROOT" --exclude='*.o' --exclude='*.ko' --exclude='*.mod*' --exclude='.*.cmd' \
	--exclude='bindings_generated.rs' --exclude='.zc9p-kdir' --exclude='modules.order' \
	--exclude='Module.symvers' --exclude='__pycache__' \
	-c Kbuild Makefile rust tools tests/pintest | tar -C "$src" -x
echo "$version" >"$src/rust/VERSION" # modinfo shows it (no git there)
cp -r "$ZC9P_ROOT/packaging/debian" "$src/debian"
cp "$ZC9P_ROOT/packaging/dkms.conf" "$src/debian/zc9p-dkms.dkms"
cat >"$src/debian/changelog" <<EOC
zc9p ($version) unstable; urgency=medium

  * zc9p $version.

 -- zc9p developers <maintainers@users.noreply.h-seed-5fe9576c.example>  $(date -R)
EOC
say "building zc9p-dkms $version"
(cd "$src" && dpkg-buildpackage -b -us -uc -tc >"$stage/build.log" 2>&1) ||
	{ tail -30 "$stage/build.log" >&2; echo "error: dpkg-buildpackage failed" >&2; exit 1; }
mkdir -p "$ZC9P_ROOT/dist"
deb=$ZC9P_ROOT/dist/zc9p-dkms_${version}_all.deb
cp "$stage/zc9p-dkms_${version}_all.deb" "$deb"
echo "$deb"
