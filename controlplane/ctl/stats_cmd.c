/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mrelayctl stats: per-leg counters summed over the worker rows, each
 * lcore's totals (workers, then the management lcore) with every non-zero
 * drop reason by name, and a total per drop reason. Lock-free: every counter
 * has one writer in mrelay-dp, and a value read here may be one update stale.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"

/* The scalar fields of struct mr_worker_stats, in layout order. */
static const struct {
	const char *name;
	size_t off;
} wstat_fields[] = {
#define F(x) { #x, offsetof(struct mr_worker_stats, x) }
	F(rx_pkts), F(tx_pkts), F(punted), F(exception), F(handoff_out), F(handoff_in),
	F(latched), F(loops), F(idle_loops), F(torn_slots), F(arp_replies),
	F(icmp_replies), F(nd_replies), F(events_dropped), F(cmds_applied),
	F(alloc_failures), F(srtp_ctx_burst), F(srtp_ctx_libsrtp),
	F(stun_replies), F(stun_nominations),
#undef F
};
#define N_WSTAT_FIELDS (sizeof(wstat_fields) / sizeof(wstat_fields[0]))

static uint64_t
load_u64(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static uint64_t
wstat_field(const struct mr_worker_stats *w, size_t i)
{
	return load_u64((const uint64_t *)((const uint8_t *)w + wstat_fields[i].off));
}

/* Age in ms of a CLOCK_MONOTONIC timestamp, or -1 for "never". */
static int64_t
age_ms(uint64_t t, uint64_t now)
{
	if (t == 0)
		return -1;
	return t >= now ? 0 : (int64_t)(now - t);
}

static void
print_leg(uint32_t slot, uint64_t leg_uid, const struct mr_leg_counters *c, uint64_t now,
	  bool json, bool first)
{
	int64_t age = age_ms(c->last_rx_ms, now);

	if (json) {
		printf("%s\n    {\"slot\": %" PRIu32 ", \"leg_uid\": %" PRIu64
		       ", \"rx_pkts\": %" PRIu64 ", \"rx_bytes\": %" PRIu64
		       ", \"tx_pkts\": %" PRIu64 ", \"tx_bytes\": %" PRIu64
		       ", \"drop_src\": %" PRIu64 ", \"drop_auth\": %" PRIu64
		       ", \"drop_other\": %" PRIu64 ", \"last_rx_ms\": %" PRIu64
		       ", \"last_rx_age_ms\": ",
		       first ? "" : ",", slot, leg_uid, c->rx_pkts, c->rx_bytes, c->tx_pkts,
		       c->tx_bytes, c->drop_src, c->drop_auth, c->drop_other, c->last_rx_ms);
		if (age < 0)
			printf("null}");
		else
			printf("%" PRId64 "}", age);
		return;
	}
	printf("%-6" PRIu32 " %12" PRIu64 " %14" PRIu64 " %12" PRIu64 " %14" PRIu64
	       " %10" PRIu64 " %10" PRIu64 " %10" PRIu64,
	       slot, c->rx_pkts, c->rx_bytes, c->tx_pkts, c->tx_bytes,
	       c->drop_src, c->drop_auth, c->drop_other);
	if (age < 0)
		printf(" %12s\n", "-");
	else
		printf(" %10" PRId64 "ms\n", age);
}

/* Per-leg section. @only: one slot, or MR_LEG_NONE for every active leg. */
static int
print_legs(const struct mr_region *r, uint32_t only, bool json, uint64_t now)
{
	struct mr_leg_counters c;
	struct mr_leg_slot leg;
	uint32_t i, lo = 0, hi = r->hdr->max_legs;
	bool first = true;

	if (only != MR_LEG_NONE) {
		lo = only;
		hi = only + 1u;
	}
	if (json)
		printf("\"legs\": [");
	else
		printf("%-6s %12s %14s %12s %14s %10s %10s %10s %12s\n", "SLOT", "RX-PKTS",
		       "RX-BYTES", "TX-PKTS", "TX-BYTES", "DROP-SRC", "DROP-AUTH",
		       "DROP-OTHER", "LAST-RX");
	for (i = lo; i < hi; i++) {
		if (__atomic_load_n(&mr_shm_slot(r->hdr, i)->state, __ATOMIC_RELAXED) !=
		    MR_LEG_ACTIVE)
			continue;
		if (mr_region_leg_read(r, i, &leg) < 0) {
			mr_ctl_err("slot %" PRIu32 " is being written or torn; skipped", i);
			continue;
		}
		if (leg.state != MR_LEG_ACTIVE)
			continue;
		mr_region_leg_counters(r, i, &c);
		print_leg(i, leg.leg_uid, &c, now, json, first);
		first = false;
	}
	explicit_bzero(&leg, sizeof(leg));
	if (json)
		printf("%s]", first ? "" : "\n  ");
	return 0;
}

/* One lcore's totals: @w is a worker index, or max_workers for management. */
static void
print_lcore(const struct mr_shm_header *h, uint32_t w, bool json, bool first,
	    uint64_t drops_total[MR_DROP_MAX])
{
	const struct mr_worker_stats *ws = mr_shm_wstats(h, w);
	bool mgmt = w == h->max_workers, any = false;
	unsigned int d;
	size_t i;

	if (json) {
		if (mgmt)
			printf(", \"mgmt\": {");
		else
			printf("%s\n    {\"worker\": %" PRIu32 ", ", first ? "" : ",", w);
		for (i = 0; i < N_WSTAT_FIELDS; i++)
			printf("%s\"%s\": %" PRIu64, i == 0 ? "" : ", ", wstat_fields[i].name,
			       wstat_field(ws, i));
		printf(", \"drops\": {");
	} else {
		if (mgmt)
			printf("mgmt:");
		else
			printf("worker %" PRIu32 ":", w);
		for (i = 0; i < N_WSTAT_FIELDS; i++)
			printf(" %s=%" PRIu64, wstat_fields[i].name, wstat_field(ws, i));
		printf("\n");
	}
	for (d = 0; d < MR_DROP_MAX; d++) {
		uint64_t v = load_u64(&ws->drops[d]);

		if (v == 0)
			continue;
		drops_total[d] += v;
		if (json)
			printf("%s\"%s\": %" PRIu64, any ? ", " : "", mr_drop_name(d), v);
		else
			printf("  drop %-22s %" PRIu64 "\n", mr_drop_name(d), v);
		any = true;
	}
	if (json)
		printf("}}");
}

static void
print_drop_totals(const uint64_t drops_total[MR_DROP_MAX], bool json)
{
	bool any = false;
	unsigned int d;

	if (json)
		printf(", \"drops_total\": {");
	else
		printf("drops total:\n");
	for (d = 0; d < MR_DROP_MAX; d++) {
		if (drops_total[d] == 0)
			continue;
		if (json)
			printf("%s\"%s\": %" PRIu64, any ? ", " : "", mr_drop_name(d), drops_total[d]);
		else
			printf("  %-22s %" PRIu64 "\n", mr_drop_name(d), drops_total[d]);
		any = true;
	}
	if (json)
		printf("}");
	else if (!any)
		printf("  none\n");
}

int
mr_ctl_stats(const char *path, int argc, char **argv)
{
	struct mr_ctl_opts o = { .json = false };
	uint64_t drops_total[MR_DROP_MAX];
	uint32_t slot = MR_LEG_NONE, w;
	struct mr_region r;
	bool json;
	uint64_t now;
	int err;

	err = mr_ctl_parse_opts(argc, argv, mr_ctl_json_opts, "stats", 0, 1, &o);
	if (err != 0 || o.help)
		return err;
	json = o.json;
	if (argc - optind == 1 &&
	    mr_ctl_parse_u32("stats", argv[optind], 0, MR_SHM_MAX_LEGS - 1u, &slot) < 0)
		return MR_CTL_EXIT_INPUT;
	err = mr_ctl_open(&r, path, false);
	if (err != 0)
		return err;
	if (slot != MR_LEG_NONE &&
	    (slot >= r.hdr->max_legs ||
	     __atomic_load_n(&mr_shm_slot(r.hdr, slot)->state, __ATOMIC_RELAXED) != MR_LEG_ACTIVE)) {
		mr_ctl_err("slot %" PRIu32 " is not an active leg", slot);
		mr_region_close(&r);
		return MR_CTL_EXIT_INPUT;
	}
	now = mr_now_ms();
	if (json)
		printf("{");
	print_legs(&r, slot, json, now);
	if (slot == MR_LEG_NONE) {
		/* Every row is shown: a dataplane may run fewer workers than the
		 * region has rows, and a previous one may have left counts. */
		memset(drops_total, 0, sizeof(drops_total));
		if (json)
			printf(", \"workers\": [");
		else
			printf("\n");
		for (w = 0; w < r.hdr->max_workers; w++)
			print_lcore(r.hdr, w, json, w == 0, drops_total);
		if (json)
			printf("\n  ]");
		print_lcore(r.hdr, r.hdr->max_workers, json, false, drops_total);
		print_drop_totals(drops_total, json);
	}
	if (json)
		printf("}\n");
	mr_region_close(&r);
	return 0;
}
