// SPDX-License-Identifier: GPL-2.0
/*
 * C shim of the trans_common test module: the shared shim, built into this
 * module too, plus this module's parameter.
 */
#include "../../rust/common/shim_common.c"
#include "pintest_shim.h"

static unsigned int hold_ms;
module_param(hold_ms, uint, 0644);
MODULE_PARM_DESC(hold_ms, "How long the fake device holds the pinned pages of each chunk (ms)");

unsigned int zc9p_pintest_hold_ms(void)
{
	return READ_ONCE(hold_ms);
}
