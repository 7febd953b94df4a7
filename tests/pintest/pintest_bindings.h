/* SPDX-License-Identifier: GPL-2.0 */
/* Input to bindgen for the trans_common test module. */
#include <linux/types.h>
#include <linux/module.h>

#include "../../rust/common/shim_common.h"
#include "pintest_shim.h"
