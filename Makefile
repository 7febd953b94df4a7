# SPDX-License-Identifier: GPL-2.0
#
# zc9p: the developer's entry points. The module itself is built by Kbuild
# (see ./Kbuild) through tools/build-module.sh.
#
#   make demo     build what is missing, boot a guest, mount a host folder via zc9p
#   make test     build what is missing and run the whole test suite in a guest
#   make style    the style checks (rustfmt, checkpatch, shellcheck, SPDX, clippy): tools/style.sh
#   make bench    side-by-side throughput: C 9pnet_virtio vs zc9p, into results/
#   make profile  where a request's time goes, per transport, into results/profile.md
#   make soak     16 mixed-I/O processes for SOAK_SECS (default 120) per zerocopy mode
#   make conformance  pjdfstest on 9pnet_virtio and on zc9p, same boot
#   make module   build rust/virtio/zc9p_virtio.ko, rust/fd/zc9p_fd.ko and the test module
#                 tests/pintest/zc9p_pintest.ko, each by its folder's Kbuild
#                 (KDIR=/path/to/rust-enabled/kernel/build, or a Debian kernel's headers:
#                 /lib/modules/RELEASE/build; Documentation/install.rst)
#   make install  modules_install of zc9p_virtio.ko and zc9p_fd.ko into the target kernel's
#                 extra/ and depmod (KDIR as for module; INSTALL_MOD_PATH=/staging/root)
#   make rust-analyzer  rust-project.json for rust-analyzer: a crate per module root
#                 (KDIR as for module; tools/rust-analyzer.sh)
#   make install-modprobe-conf  /etc/modprobe.d/zc9p.conf (under INSTALL_MOD_PATH): zc9p's
#                 modules, not mainline's, serve trans=virtio, tcp, unix and fd
#   make deb      the zc9p-dkms Debian package, into dist/ (apt install ./dist/zc9p-dkms_*.deb)
#   make setup    install the toolchain and fetch the kernel source
#   make kernel   build the cached test kernel
#   make clean    remove the module build products
#
# KERNEL_SERIES=X.Y before any of them picks Debian's linux-source-X.Y (default:
# 7.2 while Debian offers it; Documentation/kernels.rst).

.PHONY: all demo test check style bench profile soak conformance module install install-modprobe-conf \
	deb setup kernel clean rust-analyzer

all: module

setup:
	bash tools/setup.sh

kernel: setup
	bash tools/build-kernel.sh

module: $(if $(KDIR),,kernel)
	bash tools/build-module.sh

install: $(if $(KDIR),,kernel)
	bash tools/install-modules.sh

deb:
	bash tools/build-deb.sh

rust-analyzer: $(if $(KDIR),,kernel)
	bash tools/rust-analyzer.sh

install-modprobe-conf:
	install -D -m 644 tools/modprobe/zc9p.conf $(INSTALL_MOD_PATH)/etc/modprobe.d/zc9p.conf

demo:
	bash tools/demo.sh

test check:
	bash tools/run-tests.sh

style:
	bash tools/style.sh

bench:
	bash tools/bench.sh

profile:
	bash tools/profile.sh

soak:
	bash tools/soak.sh

conformance:
	bash tools/conformance.sh

clean:
	-bash tools/build-module.sh clean
	rm -f rust/*/bindings_generated.rs tests/pintest/bindings_generated.rs rust-project.json
