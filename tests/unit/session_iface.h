/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_TEST_SESSION_IFACE_H
#define MR_TEST_SESSION_IFACE_H

/*
 * A media interface for a session manager under test: an IPv4 relay
 * address and a port range, and the PSTN mark. No cmocka, so the fuzz
 * targets link it too.
 */
#include <stdbool.h>
#include <stdint.h>

#include "session.h"

void mr_test_iface(struct mr_session_iface *f, const char *name, const char *ip, uint16_t min,
		   uint16_t max, bool pstn);

#endif
