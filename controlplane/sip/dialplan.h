/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_CP_SIP_DIALPLAN_H
#define MR_CP_SIP_DIALPLAN_H

/*
 * Where a call goes, from the user part of its Request-URI: a trunk whose
 * prefix matches (the longest matching prefix wins; ties go to the trunk
 * listed first), else an account of our domain. Pure: no state, no I/O.
 */
#include <stddef.h>

#include "sip_config.h"

enum mr_route_kind {
	MR_ROUTE_NONE = 0,      /* malformed user part: 404 */
	MR_ROUTE_ACCOUNT,       /* a registered account, if it is */
	MR_ROUTE_TRUNK,
};

struct mr_route {
	enum mr_route_kind kind;
	int trunk;                      /* index into cfg->trunks[] */
	char number[128];               /* what to put in the outgoing Request-URI's
	                                   user part (prefix stripped if the trunk
	                                   says so); the account name otherwise */
};

/* Route @user (@len bytes, not NUL-terminated). Returns @ret->kind. */
enum mr_route_kind mr_dialplan_route(const struct mr_sip_config *cfg, const char *user,
				     size_t len, struct mr_route *ret);

#endif /* MR_CP_SIP_DIALPLAN_H */
