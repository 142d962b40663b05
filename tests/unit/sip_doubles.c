/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test doubles for the B2BUA's unit test and fuzz target: a dial plan
 * (dialplan.h: a trunk prefix, else an account name) and a CDR store
 * (cdr.h) that keeps rows in memory. The real ones (dialplan.c, cdr.c) are
 * written separately; these follow the headers' contracts closely enough
 * for the B2BUA's tests and are linked instead of them. Beside them, the
 * fixture helpers both tests build their set-up from.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdr.h"
#include "dialplan.h"
#include "sip_doubles.h"

struct mr_cdr_row mr_test_cdr_rows[MR_TEST_CDR_MAX];
unsigned int mr_test_cdr_n;

enum mr_route_kind
mr_dialplan_route(const struct mr_sip_config *cfg, const char *user, size_t len,
		  struct mr_route *ret)
{
	unsigned int t, p;
	size_t best = 0, i;

	memset(ret, 0, sizeof(*ret));
	ret->trunk = -1;
	if (len == 0 || len >= sizeof(ret->number))
		return MR_ROUTE_NONE;
	for (i = 0; i < len; i++)
		if (user[i] <= ' ' || user[i] == '@' || user[i] == ':')
			return MR_ROUTE_NONE;
	for (t = 0; t < cfg->n_trunks; t++)
		for (p = 0; p < cfg->trunks[t].n_prefixes; p++) {
			size_t n = strlen(cfg->trunks[t].prefixes[p]);

			if (n > best && n <= len && memcmp(user, cfg->trunks[t].prefixes[p], n) == 0) {
				best = n;
				ret->trunk = (int)t;
			}
		}
	if (ret->trunk >= 0) {
		size_t skip = cfg->trunks[ret->trunk].strip_prefix ? best : 0;

		memcpy(ret->number, user + skip, len - skip);
		ret->kind = MR_ROUTE_TRUNK;
		return ret->kind;
	}
	memcpy(ret->number, user, len);
	ret->kind = MR_ROUTE_ACCOUNT;
	return ret->kind;
}

struct mr_cdr {
	int dummy;
};

int
mr_cdr_open(const char *path, struct mr_cdr **ret)
{
	(void)path;
	*ret = calloc(1, sizeof(**ret));
	return *ret != NULL ? 0 : -ENOMEM;
}

void
mr_cdr_close(struct mr_cdr *c)
{
	free(c);
}

int
mr_cdr_write(struct mr_cdr *c, const struct mr_cdr_row *row)
{
	(void)c;
	if (mr_test_cdr_n >= MR_TEST_CDR_MAX)
		mr_test_cdr_n = 0;              /* the fuzz target writes many */
	mr_test_cdr_rows[mr_test_cdr_n++] = *row;
	return 0;
}

int
mr_cdr_purge(struct mr_cdr *c, int64_t before_s)
{
	(void)c;
	(void)before_s;
	return 0;
}

int
mr_cdr_list(struct mr_cdr *c, int64_t since_s,
	    int (*fn)(void *arg, const struct mr_cdr_row *row), void *arg)
{
	unsigned int i;
	int r;

	(void)c;
	for (i = 0; i < mr_test_cdr_n; i++)
		if (mr_test_cdr_rows[i].end_s >= since_s && (r = fn(arg, &mr_test_cdr_rows[i])) != 0)
			return r;
	return 0;
}

void
mr_test_sa4(struct mr_sockaddr *a, const char *ip, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->family = MR_AF_INET;
	inet_pton(AF_INET, ip, a->ip);
	a->port_be = htons(port);
}

void
mr_test_sip_config(struct mr_sip_config *cfg, const char *domain, const char *dir)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->domain, sizeof(cfg->domain), "%s", domain);
	snprintf(cfg->accounts_db, sizeof(cfg->accounts_db), "%s/accounts.db", dir);
	snprintf(cfg->cdr_db, sizeof(cfg->cdr_db), "%s/cdr.db", dir);
	cfg->n_tls = 1;
	mr_test_sa4(&cfg->tls[0].addr, "198.18.0.1", 5061);
	cfg->n_plain_udp = 1;
	mr_test_sa4(&cfg->plain_udp[0], "198.18.0.1", 5060);
	cfg->n_trunks = 1;
	snprintf(cfg->trunks[0].name, sizeof(cfg->trunks[0].name), "gw");
	cfg->trunks[0].proto = MR_SIP_UDP;
	mr_test_sa4(&cfg->trunks[0].addr, "198.18.0.50", 5060);
	cfg->trunks[0].pstn = true;
	snprintf(cfg->trunks[0].iface, sizeof(cfg->trunks[0].iface), "pstn");
	cfg->trunks[0].n_prefixes = 1;
	snprintf(cfg->trunks[0].prefixes[0], MR_SIP_PREFIX_MAX, "00");
	cfg->reg_min_expires_s = 60;
	cfg->reg_max_expires_s = 3600;
	cfg->min_se_s = 90;
}
