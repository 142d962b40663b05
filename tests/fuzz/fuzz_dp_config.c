/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for mrelay-dp's configuration loader (dataplane/config.c):
 * the input is a whole configuration file. Besides ASan's checks, it aborts
 * when a promise of config.h breaks:
 *  - a refused file returns -errno with a NUL-terminated, non-empty reason;
 *  - an accepted one holds only what the loader promises to accept (counts
 *    within their arrays, strings terminated, ranges in order, neighbours
 *    on a configured port), and loading it again gives the same result.
 */
#include <string.h>

#include "fuzz_check.h"
#include "config.h"
#include "memfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_accepted(const struct mr_dp_config *c)
{
	unsigned int i;

	check(terminated(c->region, sizeof(c->region)));
	check(terminated(c->exception_iface, sizeof(c->exception_iface)));
	check(c->port_min <= c->port_max);
	check(c->n_ports <= MR_CFG_MAX_PORTS);
	check(c->n_workers <= MR_CFG_MAX_WORKERS);
	check(c->n_neigh <= MR_CFG_MAX_NEIGH);
	check(c->srtp_engine <= MR_CFG_SRTP_IPSEC_MB);
	/* zero would make the neighbour timers spin */
	check(c->neigh_reachable_ms > 0 && c->neigh_retry_ms > 0);
	check(c->relatch_auth_packets >= 1 && c->relatch_auth_packets <= 64);
	for (i = 0; i < c->n_ports; i++) {
		const struct mr_cfg_port *p = &c->ports[i];

		check(terminated(p->name, sizeof(p->name)) && p->name[0] != '\0');
		check(terminated(p->device, sizeof(p->device)));
		check(p->vlan <= 4094);
		check(p->n_addrs <= MR_CFG_MAX_ADDRS);
	}
	for (i = 0; i < c->n_neigh; i++)
		check(c->neigh[i].port < c->n_ports);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mr_dp_config cfg, again;
	char path[64], err[512], err2[512];
	int fd, r;

	if (mr_fuzz_has_include(data, size))
		return 0;
	fd = mr_fuzz_memfile(data, size, path, sizeof(path));
	memset(err, 0x5c, sizeof(err));
	r = mr_config_load(path, &cfg, err, sizeof(err));
	check(r <= 0);
	if (r < 0) {
		check(terminated(err, sizeof(err)) && err[0] != '\0');
	} else {
		check_accepted(&cfg);
		check(mr_config_load(path, &again, err2, sizeof(err2)) == 0);
		check(memcmp(&cfg, &again, sizeof(cfg)) == 0);
	}
	close(fd);
	return 0;
}
