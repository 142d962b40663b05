/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for mrelay-cp's configuration loader (controlplane/cp/config.c):
 * the input is a whole configuration file. Besides ASan's checks, it aborts
 * when a promise of config.h breaks:
 *  - a refused file returns -errno with a NUL-terminated, non-empty reason
 *    and leaves the caller's configuration as it was (SIGHUP relies on it);
 *  - an accepted one keeps counts within their arrays and strings
 *    terminated, and allows plain SIP only where the operator marked a PSTN
 *    trunk (encryption is never optional otherwise);
 *  - loading it again gives the same result, and it differs from itself in
 *    no restart-only setting.
 */
#include <string.h>

#include "fuzz_check.h"
#include "config.h"
#include "memfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FILL 0x5c

static int
all_fill(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != FILL)
			return 0;
	return 1;
}

static int
has_pstn_trunk(const struct mr_sip_config *sip, enum mr_sip_proto proto)
{
	unsigned int i;

	for (i = 0; i < sip->n_trunks; i++)
		if (sip->trunks[i].proto == proto && sip->trunks[i].pstn)
			return 1;
	return 0;
}

static void
check_sip(const struct mr_sip_config *sip)
{
	unsigned int i;

	check(sip->n_tls <= MR_SIP_MAX_LISTEN);
	check(sip->n_plain_udp <= MR_SIP_MAX_LISTEN && sip->n_plain_tcp <= MR_SIP_MAX_LISTEN);
	check(sip->n_trunks <= MR_SIP_MAX_TRUNKS);
	check(terminated(sip->domain, sizeof(sip->domain)));
	for (i = 0; i < sip->n_tls; i++)
		check(terminated(sip->tls[i].cert, sizeof(sip->tls[i].cert)) &&
		      terminated(sip->tls[i].key, sizeof(sip->tls[i].key)));
	for (i = 0; i < sip->n_trunks; i++) {
		const struct mr_sip_trunk *t = &sip->trunks[i];

		check(terminated(t->name, sizeof(t->name)));
		check(t->n_prefixes <= MR_SIP_MAX_PREFIXES);
		check(t->proto == MR_SIP_TLS || t->pstn);
	}
	check(sip->n_plain_udp == 0 || has_pstn_trunk(sip, MR_SIP_UDP));
	check(sip->n_plain_tcp == 0 || has_pstn_trunk(sip, MR_SIP_TCP));
}

static void
check_accepted(const struct mr_cp_config *c)
{
	unsigned int i;

	check(terminated(c->region, sizeof(c->region)));
	check(terminated(c->admin_socket, sizeof(c->admin_socket)));
	check(terminated(c->state_dir, sizeof(c->state_dir)));
	check(c->n_ifaces <= MR_SESSION_MAX_IFACES);
	check(c->n_ng_udp <= MR_CP_MAX_LISTEN && c->n_ng_tcp <= MR_CP_MAX_LISTEN);
	for (i = 0; i < c->n_ifaces; i++) {
		check(terminated(c->ifaces[i].name, sizeof(c->ifaces[i].name)));
		check(c->ifaces[i].port_min <= c->ifaces[i].port_max);
		check(c->ifaces[i].dscp <= 63);
	}
	check_sip(&c->sip);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mr_cp_config cfg, again;
	char path[64], err[512], diff[512];
	int fd, r;

	if (mr_fuzz_has_include(data, size))
		return 0;
	fd = mr_fuzz_memfile(data, size, path, sizeof(path));
	memset(&cfg, FILL, sizeof(cfg));
	r = mr_cp_config_load(path, &cfg, err, sizeof(err));
	check(r <= 0);
	if (r < 0) {
		check(terminated(err, sizeof(err)) && err[0] != '\0');
		check(all_fill(&cfg, sizeof(cfg)));
	} else {
		check_accepted(&cfg);
		check(mr_cp_config_load(path, &again, err, sizeof(err)) == 0);
		check(memcmp(&cfg, &again, sizeof(cfg)) == 0);
		check(mr_cp_config_restart_diff(&cfg, &again, diff, sizeof(diff)) == 0);
	}
	close(fd);
	return 0;
}
