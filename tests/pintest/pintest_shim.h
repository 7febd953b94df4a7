/* SPDX-License-Identifier: GPL-2.0 */
/* The trans_common test module's own C helpers (pintest_shim.c). */
#ifndef ZC9P_PINTEST_SHIM_H
#define ZC9P_PINTEST_SHIM_H

unsigned int zc9p_pintest_hold_ms(void);

#endif /* ZC9P_PINTEST_SHIM_H */
