/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The forwarding table: turns control-side slots into flow entries and
 * publishes them to the workers. Management lcore only.
 *
 * Workers find a flow by (relay address, port) in an rte_hash with
 * lock-free readers, and a leg's egress by slot in by_slot[]. An entry is
 * never edited after publication: a changed slot gets a new entry, and the
 * old one (with deleted hash key positions) is freed here after an RCU grace
 * period (synchronize_rcu(): every worker has passed a quiescent state), so
 * an untouched leg never sees a table update at all.
 */
#include <errno.h>
#include <stdlib.h>

#include <rte_jhash.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <urcu-qsbr.h>

#include "dp.h"

RTE_LOG_REGISTER(mr_logtype_flow, user.mrelay.flow, INFO);
#define RTE_LOGTYPE_MR_FLOW mr_logtype_flow
#define FLOW_LOG(lvl, fmt, ...) RTE_LOG(lvl, MR_FLOW, fmt "\n", ##__VA_ARGS__)

/* Deferred frees, mgmt-private. */
static struct mr_flow *pending_flows;
static int32_t *pending_pos;
static size_t n_pending_pos, cap_pending_pos;
static uint8_t *quarantine;             /* slot removed, grace period pending */

int
mr_flow_init(struct mr_dp *dp)
{
	uint32_t legs = dp->shm->max_legs;
	struct rte_hash_parameters hp = {
		.name = "mr_flows",
		.entries = legs * 2u + legs / 4u + 64u,
		.key_len = sizeof(struct mr_sockaddr),
		.hash_func = rte_jhash,
		.socket_id = (int)rte_socket_id(),
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF |
			      RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};

	dp->flows = rte_hash_create(&hp);
	dp->by_slot = rte_zmalloc("mr_by_slot", sizeof(*dp->by_slot) * legs, RTE_CACHE_LINE_SIZE);
	dp->rt = rte_zmalloc("mr_leg_rt", sizeof(*dp->rt) * legs, RTE_CACHE_LINE_SIZE);
	quarantine = calloc(legs, 1);
	if (dp->flows == NULL || dp->by_slot == NULL || dp->rt == NULL || quarantine == NULL) {
		FLOW_LOG(ERR, "cannot allocate the flow table for %u legs", legs);
		return -ENOMEM;
	}
	return 0;
}

void
mr_flow_fini(struct mr_dp *dp)
{
	uint32_t i;

	if (dp->by_slot != NULL && dp->shm != NULL)
		for (i = 0; i < dp->shm->max_legs; i++)
			rte_free(dp->by_slot[i]);
	for (struct mr_flow *f = pending_flows, *n; f != NULL; f = n) {
		n = f->free_next;
		rte_free(f);
	}
	pending_flows = NULL;
	rte_hash_free(dp->flows);
	rte_free(dp->by_slot);
	rte_free(dp->rt);
	free(pending_pos);
	free(quarantine);
}

bool
mr_flow_reclaim_pending(const struct mr_dp *dp)
{
	(void)dp;
	return pending_flows != NULL || n_pending_pos != 0;
}

/* Free everything unpublished before now, once no worker can hold it. */
void
mr_flow_reclaim(struct mr_dp *dp)
{
	struct mr_flow *f, *n;
	size_t i;

	if (!mr_flow_reclaim_pending(dp))
		return;
	synchronize_rcu();
	for (f = pending_flows; f != NULL; f = n) {
		n = f->free_next;
		quarantine[f->slot] = 0;
		rte_free(f);
	}
	pending_flows = NULL;
	for (i = 0; i < n_pending_pos; i++)
		rte_hash_free_key_with_position(dp->flows, pending_pos[i]);
	n_pending_pos = 0;
}

static void
defer_key(struct mr_dp *dp, const struct mr_sockaddr *key)
{
	int32_t pos = rte_hash_del_key(dp->flows, key);

	if (pos < 0)
		return;
	if (n_pending_pos == cap_pending_pos) {
		size_t cap = cap_pending_pos ? cap_pending_pos * 2 : 1024;
		int32_t *p = realloc(pending_pos, cap * sizeof(*p));

		if (p == NULL) {
			/* Cannot defer: wait for the grace period right here. */
			synchronize_rcu();
			rte_hash_free_key_with_position(dp->flows, pos);
			return;
		}
		pending_pos = p;
		cap_pending_pos = cap;
	}
	pending_pos[n_pending_pos++] = pos;
}

static bool
uses_rtcp_key(const struct mr_flow *f)
{
	return !(f->flags & MR_LEG_F_RTCP_MUX);
}

static void
unpublish(struct mr_dp *dp, struct mr_flow *old, const struct mr_flow *keep)
{
	if (keep == NULL || !mr_sockaddr_eq(&old->local, &keep->local))
		defer_key(dp, &old->local);
	if (uses_rtcp_key(old) &&
	    (keep == NULL || !uses_rtcp_key(keep) ||
	     !mr_sockaddr_eq(&old->local_rtcp, &keep->local_rtcp)))
		defer_key(dp, &old->local_rtcp);
	old->free_next = pending_flows;
	pending_flows = old;
	quarantine[old->slot] = 1;
}

void
mr_flow_remove(struct mr_dp *dp, uint32_t slot)
{
	struct mr_flow *old = dp->by_slot[slot];

	if (old == NULL)
		return;
	rcu_assign_pointer(dp->by_slot[slot], NULL);
	unpublish(dp, old, NULL);
}

static const char *
refuse_reason(const struct mr_dp *dp, const struct mr_leg_slot *s, int *ret_port)
{
	uint16_t lp = rte_be_to_cpu_16(s->local.port_be);
	uint16_t rp = rte_be_to_cpu_16(s->local_rtcp_port_be);

	if (s->latch == MR_LATCH_INVALID || s->latch >= MR_LATCH_MAX)
		return "invalid latch policy";
	if (s->flags & ~MR_LEG_F_ALL)
		return "unknown flags";
	*ret_port = mr_port_of_addr(dp, &s->local);
	if (*ret_port < 0)
		return "local address is not a relay address";
	if (lp < dp->cfg.port_min || lp > dp->cfg.port_max)
		return "local port outside the relay port range";
	if (!(s->flags & MR_LEG_F_RTCP_MUX) &&
	    (rp < dp->cfg.port_min || rp > dp->cfg.port_max || rp == lp))
		return "RTCP port outside the relay port range";
	if (s->egress_slot != MR_LEG_NONE && s->egress_slot >= dp->shm->max_legs)
		return "egress slot out of range";
	if (s->crypto_in.gen[0].suite != MR_SUITE_NONE ||
	    s->crypto_in.gen[1].suite != MR_SUITE_NONE ||
	    s->crypto_out.gen[0].suite != MR_SUITE_NONE ||
	    s->crypto_out.gen[1].suite != MR_SUITE_NONE)
		return "SRTP is not supported by this dataplane yet";
	/* Encryption is mandatory: plain RTP only on operator-marked PSTN legs. */
	if (!(s->flags & MR_LEG_F_PSTN))
		return "plain RTP on a leg not marked PSTN";
	return NULL;
}

/* Key of @k is free, or already ours. */
static bool
key_available(const struct mr_dp *dp, const struct mr_sockaddr *k, uint32_t slot)
{
	void *data;

	if (rte_hash_lookup_data(dp->flows, k, &data) < 0)
		return true;
	return ((const struct mr_flow *)((uintptr_t)data & ~(uintptr_t)1u))->slot == slot;
}

static void
build_flow(const struct mr_dp *dp, const struct mr_leg_slot *s, uint32_t slot, int port,
	   struct mr_flow *f)
{
	memset(f, 0, sizeof(*f));
	f->slot = slot;
	f->generation = s->generation;
	f->leg_uid = s->leg_uid;
	f->owner = (uint16_t)(slot % dp->n_workers);
	f->port = (uint16_t)port;
	f->latch = s->latch;
	f->dscp = s->dscp & 0x3f;
	f->flags = s->flags;
	f->egress_slot = s->egress_slot;
	f->latch_window_ms = s->latch_window_ms ? s->latch_window_ms : dp->cfg.latch_window_ms;
	f->relatch_idle_ms = s->relatch_idle_ms ? s->relatch_idle_ms : dp->cfg.relatch_idle_ms;
	f->idle_timeout_ms = s->idle_timeout_ms ? s->idle_timeout_ms : dp->cfg.media_idle_ms;
	f->local = s->local;
	f->local_rtcp = s->local;
	if (!(s->flags & MR_LEG_F_RTCP_MUX))
		f->local_rtcp.port_be = s->local_rtcp_port_be;
	f->peer_rtp = s->peer_rtp;
	f->peer_rtcp = s->peer_rtcp;
	if (f->peer_rtcp.family == MR_AF_NONE && f->peer_rtp.family != MR_AF_NONE &&
	    !(s->flags & MR_LEG_F_RTCP_MUX)) {
		/* RFC 3550: RTCP on the next port unless signaled otherwise. */
		f->peer_rtcp = f->peer_rtp;
		f->peer_rtcp.port_be = rte_cpu_to_be_16(rte_be_to_cpu_16(f->peer_rtp.port_be) + 1u);
	}
}

/* Make the dp part describe this leg before any worker can see the flow. */
static void
prepare_dp_part(struct mr_dp *dp, const struct mr_flow *f, bool first_install)
{
	struct mr_leg_dp *p = mr_shm_leg_dp(dp->shm, f->slot);
	struct mr_leg_dp d;
	uint64_t now = mr_dp_now_ms();

	if (p->leg_uid != f->leg_uid) {
		memset(&d, 0, sizeof(d));
		d.leg_uid = f->leg_uid;
		d.created_ms = now;
		d.owner_lcore = f->owner;
		mr_leg_dp_write(p, &d);
		memset(&dp->rt[f->slot], 0, sizeof(dp->rt[f->slot]));
		return;
	}
	if (first_install) {
		/*
		 * Resuming after a restart: the latched source is kept, and a
		 * new source must wait out relatch_idle_ms as if the latched
		 * one had just spoken, so a restart opens no hijack window.
		 */
		dp->rt[f->slot].last_rx_ms[MR_COMP_RTP] = now;
		dp->rt[f->slot].last_rx_ms[MR_COMP_RTCP] = now;
	}
	if (p->owner_lcore != f->owner) {
		d = *p;
		d.owner_lcore = f->owner;
		mr_leg_dp_write(p, &d);
	}
}

int
mr_flow_apply(struct mr_dp *dp, uint32_t slot)
{
	struct mr_worker_stats *st = mr_shm_wstats(dp->shm, dp->shm->max_workers);
	struct mr_flow *old = dp->by_slot[slot], *f;
	struct mr_leg_slot s;
	const char *why;
	int port = -1;

	if (mr_seq_read(&mr_shm_slot(dp->shm, slot)->seq, &s, mr_shm_slot(dp->shm, slot),
			sizeof(s)) < 0) {
		struct mr_event ev;

		/* The writer died mid-write: skip the slot and tell the control
		 * side, which repairs it and asks for a rescan. */
		st->torn_slots++;
		memset(&ev, 0, sizeof(ev));
		ev.type = MR_EV_SLOT_TORN;
		ev.slot = slot;
		mr_mgmt_post_event(dp, &ev);
		return -EAGAIN;
	}
	if (s.state != MR_LEG_ACTIVE) {
		mr_flow_remove(dp, slot);
		return 0;
	}
	if (old != NULL && old->generation == s.generation && old->leg_uid == s.leg_uid)
		return 0;       /* already applied: commands are idempotent */
	why = refuse_reason(dp, &s, &port);
	if (why == NULL && !key_available(dp, &s.local, slot))
		why = "local address and port used by another leg";
	if (why != NULL) {
		FLOW_LOG(WARNING, "leg %u (call %" PRIx64 "): refused: %s", slot, s.call_tag, why);
		mr_flow_remove(dp, slot);
		return -EINVAL;
	}
	/*
	 * A reused slot must not share state with a leg still in flight: wait
	 * for the grace period first. The caller batches these, so one
	 * synchronize_rcu() serves many reused slots.
	 */
	if ((old != NULL && old->leg_uid != s.leg_uid) || quarantine[slot]) {
		mr_flow_remove(dp, slot);
		return -EBUSY;
	}
	f = rte_malloc("mr_flow", sizeof(*f), RTE_CACHE_LINE_SIZE);
	if (f == NULL)
		return -ENOMEM;
	build_flow(dp, &s, slot, port, f);
	if (!(f->flags & MR_LEG_F_RTCP_MUX) && !key_available(dp, &f->local_rtcp, slot)) {
		FLOW_LOG(WARNING, "leg %u: refused: RTCP port used by another leg", slot);
		rte_free(f);
		mr_flow_remove(dp, slot);
		return -EINVAL;
	}
	prepare_dp_part(dp, f, old == NULL);
	if (rte_hash_add_key_data(dp->flows, &f->local, f) < 0 ||
	    (!(f->flags & MR_LEG_F_RTCP_MUX) &&
	     rte_hash_add_key_data(dp->flows, &f->local_rtcp, (void *)((uintptr_t)f | 1u)) < 0)) {
		/* Cannot happen with the table sized for every leg; if it
		 * does, the leg is removed whole rather than half-installed. */
		FLOW_LOG(ERR, "leg %u: flow table full, leg removed", slot);
		rcu_assign_pointer(dp->by_slot[slot], NULL);
		if (old != NULL)
			unpublish(dp, old, f);
		unpublish(dp, f, NULL);
		return -ENOSPC;
	}
	rcu_assign_pointer(dp->by_slot[slot], f);
	if (old != NULL)
		unpublish(dp, old, f);
	st->cmds_applied++;
	return 0;
}

void
mr_flow_rescan(struct mr_dp *dp)
{
	uint32_t i;

	for (i = 0; i < dp->shm->max_legs; i++) {
		const struct mr_leg_slot *s = mr_shm_slot(dp->shm, i);

		if ((__atomic_load_n(&s->state, __ATOMIC_RELAXED) == MR_LEG_ACTIVE ||
		     dp->by_slot[i] != NULL || mr_seq_is_odd(&s->seq)) &&
		    mr_flow_apply(dp, i) == -EBUSY) {
			mr_flow_reclaim(dp);
			mr_flow_apply(dp, i);
		}
	}
}
