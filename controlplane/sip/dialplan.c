/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dial plan (contract in dialplan.h). A user part is one of:
 *  - a number (digits, '+', '*', '#' only, as a keypad or E.164 dials):
 *    routed to the trunk with the longest matching prefix, ties to the
 *    trunk listed first; with no match it may still be an account whose
 *    name is all digits (an extension);
 *  - an account name (mr_accounts_name_valid(): RFC 3261 unreserved);
 *  - anything else (escapes, separators, empty, too long): no route.
 * Nothing is unescaped: "%32" is refused rather than taken for "2", so what
 * is routed is exactly what was signalled.
 */
#include <string.h>

#include "accounts.h"
#include "dialplan.h"

static bool
is_number(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '*' || s[i] == '#'))
			return false;
	return true;
}

/* The trunk with the longest prefix of @user, or -1; *ret_plen its length. */
static int
match_trunk(const struct mr_sip_config *cfg, const char *user, size_t len, size_t *ret_plen)
{
	size_t best_len = 0;
	int best = -1;
	unsigned int t, p;

	for (t = 0; t < cfg->n_trunks && t < MR_SIP_MAX_TRUNKS; t++) {
		const struct mr_sip_trunk *tr = &cfg->trunks[t];

		for (p = 0; p < tr->n_prefixes && p < MR_SIP_MAX_PREFIXES; p++) {
			size_t n = strnlen(tr->prefixes[p], MR_SIP_PREFIX_MAX);

			/* Strictly longer: an equal prefix of a later trunk loses. */
			if (n > best_len && n <= len && memcmp(user, tr->prefixes[p], n) == 0) {
				best_len = n;
				best = (int)t;
			}
		}
	}
	*ret_plen = best_len;
	return best;
}

enum mr_route_kind
mr_dialplan_route(const struct mr_sip_config *cfg, const char *user, size_t len,
		  struct mr_route *ret)
{
	size_t plen = 0;
	int t;

	memset(ret, 0, sizeof(*ret));
	ret->kind = MR_ROUTE_NONE;
	ret->trunk = -1;
	if (cfg == NULL || user == NULL || len == 0 || len >= sizeof(ret->number) ||
	    memchr(user, '\0', len) != NULL)
		return MR_ROUTE_NONE;
	if (is_number(user, len)) {
		t = match_trunk(cfg, user, len, &plen);
		if (t >= 0) {
			if (!cfg->trunks[t].strip_prefix)
				plen = 0;
			if (plen == len)
				return MR_ROUTE_NONE;   /* nothing left to dial */
			memcpy(ret->number, user + plen, len - plen);
			ret->number[len - plen] = '\0';
			ret->trunk = t;
			ret->kind = MR_ROUTE_TRUNK;
			return ret->kind;
		}
	}
	memcpy(ret->number, user, len);
	ret->number[len] = '\0';
	if (!mr_accounts_name_valid(ret->number)) {
		ret->number[0] = '\0';
		return MR_ROUTE_NONE;
	}
	ret->kind = MR_ROUTE_ACCOUNT;
	return ret->kind;
}
