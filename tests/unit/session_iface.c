/* SPDX-License-Identifier: BSD-3-Clause */
/* A session manager's media interface for tests (session_iface.h). */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "session_iface.h"

void
mr_test_iface(struct mr_session_iface *f, const char *name, const char *ip, uint16_t min,
	      uint16_t max, bool pstn)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->local4.family = MR_AF_INET;
	inet_pton(AF_INET, ip, f->local4.ip);
	f->port_min = min;
	f->port_max = max;
	f->pstn = pstn;
}
