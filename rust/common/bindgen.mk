# SPDX-License-Identifier: GPL-2.0
#
# The bindgen rule of every zc9p module, included by each module folder's Kbuild, which adds
# its own allowlist (ZC9P_BINDGEN_EXTRA) and headers for $(obj)/bindings_generated.rs.
#
# Module-local bindings for the 9P and virtio headers and the C shims, generated from the
# target tree with the kernel's own C flags so the layouts follow its configuration. Types
# the kernel crate already has are reused through the `use` line.
ZC9P_BINDGEN_FLAGS := \
	--use-core --no-layout-tests --no-debug '.*' --no-doc-comments \
	--ctypes-prefix kernel::ffi --with-derive-default \
	--no-recursive-allowlist \
	--allowlist-function 'zc9p_.*' --blocklist-function 'zc9p_rs_.*' \
	--allowlist-var 'ZC9P_.*' \
	--raw-line 'use kernel::bindings::*;'

# bindgen parses the headers with libclang, given the C flags the kernel's own Rust build
# gives it for this kernel (rust/Makefile's bindgen_c_flags_final): a clang-built kernel's
# flags as they are; a GCC-built kernel's (Debian's) without the GCC-only ones clang rejects,
# plus clang's target. The list and the target are read from the tree's own rust/Makefile,
# so they follow the kernel being built against.
ifdef CONFIG_CC_IS_CLANG
zc9p_bindgen_c_flags = $(c_flags)
else
ZC9P_BINDGEN_SKIP := $(shell awk '/^bindgen_skip_c_flags[ \t]*:=/ { on = 1; sub(/^[^=]*=/, "") } \
	on { more = sub(/\\$$/, ""); print; if (!more) exit }' $(srctree)/rust/Makefile)
ZC9P_BINDGEN_TARGET := $(shell sed -n 's/^BINDGEN_TARGET_$(SRCARCH)[ \t]*:=[ \t]*//p' \
	$(srctree)/rust/Makefile)
ifeq ($(and $(ZC9P_BINDGEN_SKIP),$(ZC9P_BINDGEN_TARGET)),)
$(error $(srctree)/rust/Makefile gives no bindgen_skip_c_flags or BINDGEN_TARGET_$(SRCARCH): \
	cannot derive bindgen's flags for this GCC-built kernel)
endif
zc9p_bindgen_c_flags = $(filter-out $(ZC9P_BINDGEN_SKIP),$(c_flags)) -w --target=$(ZC9P_BINDGEN_TARGET)
endif
ifdef CONFIG_LTO
zc9p_bindgen_c_flags_final = $(filter-out $(CC_FLAGS_LTO),$(zc9p_bindgen_c_flags))
else
zc9p_bindgen_c_flags_final = $(zc9p_bindgen_c_flags)
endif

quiet_cmd_zc9p_bindgen = BINDGEN $@
      cmd_zc9p_bindgen = $(BINDGEN) $< $(ZC9P_BINDGEN_FLAGS) $(ZC9P_BINDGEN_EXTRA) -o $@ \
	-- $(filter-out -Wp%,$(zc9p_bindgen_c_flags_final)) -fno-builtin -D__BINDGEN__ -DMODULE \
	-Wno-unused-command-line-argument

targets += bindings_generated.rs
