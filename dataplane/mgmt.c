/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The management lcore (the EAL main lcore): applies the control side's
 * commands, answers ARP / ICMP / NDP for the relay's addresses, resolves
 * and ages next hops, posts events, expires idle legs and writes the
 * heartbeat. It may block briefly (synchronize_rcu) and log; workers never
 * wait for it.
 */
#include <stdlib.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <urcu-qsbr.h>

#include "dp.h"
#include "parse.h"
#include "proto.h"
#include "stun.h"

RTE_LOG_REGISTER(mr_logtype_mgmt, user.mrelay.mgmt, INFO);
#define RTE_LOGTYPE_MR_MGMT mr_logtype_mgmt
#define MGMT_LOG(lvl, fmt, ...) RTE_LOG(lvl, MR_MGMT, fmt "\n", ##__VA_ARGS__)

#define CMD_BATCH 256u
#define TICK_MS 100u
#define IDLE_SCAN_PER_TICK 65536u

static struct mr_worker_stats *mst;     /* management row of the region */

void
mr_mgmt_post_event(struct mr_dp *dp, const struct mr_event *ev)
{
	/* Also called during set-up (the first rescan), before mst is set. */
	if (mr_ring_push(mr_shm_event_ring(dp->shm), ev) < 0)
		mr_shm_wstats(dp->shm, dp->shm->max_workers)->events_dropped++;
}

static void
post_simple(struct mr_dp *dp, uint16_t type, uint32_t slot, uint64_t value)
{
	struct mr_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.slot = slot;
	ev.value = value;
	if (slot != MR_LEG_NONE && slot < dp->shm->max_legs)
		ev.leg_uid = mr_shm_leg_dp(dp->shm, slot)->leg_uid;
	mr_mgmt_post_event(dp, &ev);
}

/* After one grace period, the slots that waited for it (mgmt only). */
static void
apply_deferred(struct mr_dp *dp, const uint32_t *slots, unsigned int n)
{
	unsigned int i;

	mr_flow_reclaim(dp);
	for (i = 0; i < n; i++)
		if (mr_flow_apply(dp, slots[i]) == -EBUSY) {
			/* The same slot twice in one batch: rare, wait again. */
			mr_flow_reclaim(dp);
			mr_flow_apply(dp, slots[i]);
		}
}

static bool
cmds_poll(struct mr_dp *dp)
{
	struct mr_ring *ring = mr_shm_cmd_ring(dp->shm);
	uint32_t req = __atomic_load_n(&dp->shm->resync_req, __ATOMIC_ACQUIRE);
	uint32_t deferred[CMD_BATCH];
	unsigned int n, n_deferred = 0;
	struct mr_cmd c;

	if (req != dp->shm->resync_done) {
		MGMT_LOG(INFO, "resync requested: rescanning every slot");
		mr_flow_rescan(dp);
		__atomic_store_n(&dp->shm->resync_done, req, __ATOMIC_RELEASE);
	}
	for (n = 0; n < CMD_BATCH && mr_ring_pop(ring, &c) == 0; n++) {
		switch (c.op) {
		case MR_CMD_LEG_SET:
		case MR_CMD_LEG_DEL:
			/* A torn slot is reported by mr_flow_apply() and retried
			 * by the rescan the control side asks for; a reused slot
			 * waits for this batch's grace period. */
			if (c.slot < dp->shm->max_legs && mr_flow_apply(dp, c.slot) == -EBUSY)
				deferred[n_deferred++] = c.slot;
			break;
		case MR_CMD_SYNC: {
			struct mr_event ev;

			/* Everything before the barrier is applied and, after the
			 * grace period, visible to every worker. */
			apply_deferred(dp, deferred, n_deferred);
			n_deferred = 0;
			mr_flow_reclaim(dp);
			synchronize_rcu();
			memset(&ev, 0, sizeof(ev));
			ev.type = MR_EV_SYNC;
			ev.slot = MR_LEG_NONE;
			ev.cookie = c.cookie;
			mr_mgmt_post_event(dp, &ev);
			break;
		}
		default:
			break;
		}
	}
	/* One grace period for the whole batch, then the reused slots. */
	apply_deferred(dp, deferred, n_deferred);
	mr_flow_reclaim(dp);
	return n != 0;
}

struct local_ctx {
	const struct mr_port *port;
};

static bool
is_local(void *ctx, const struct mr_sockaddr *ip)
{
	return mr_port_is_local(((struct local_ctx *)ctx)->port, ip);
}

static void
mgmt_send(struct mr_dp *dp, unsigned int port_idx, struct rte_mbuf *m)
{
	if (rte_ring_mp_enqueue(dp->ports[port_idx].mgmt_tx, m) != 0) {
		mst->drops[MR_DROP_TX_FULL]++;
		rte_pktmbuf_free(m);
	}
}

static int
port_idx_of(const struct mr_dp *dp, uint16_t port_id)
{
	unsigned int i;

	for (i = 0; i < dp->n_ports; i++)
		if (dp->ports[i].port_id == port_id)
			return (int)i;
	return -1;
}

/* Strip a VLAN tag so proto.c sees untagged frames; put it back after. */
static bool
vlan_strip(struct rte_mbuf *m, uint16_t vlan)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

	if (eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN))
		return vlan == 0;
	if (rte_pktmbuf_data_len(m) < RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN || vlan == 0 ||
	    (rte_be_to_cpu_16(((struct rte_vlan_hdr *)(eth + 1))->vlan_tci) & 0xfff) != vlan)
		return false;
	return rte_vlan_strip(m) == 0;
}

static void
handle_punted(struct mr_dp *dp, struct rte_mbuf *m)
{
	struct mr_proto_result res;
	struct local_ctx ctx;
	const struct mr_port *port;
	struct mr_pkt_info pi;
	uint8_t reason;
	bool ok = false;
	int pi_idx = port_idx_of(dp, m->port);

	if (pi_idx < 0)
		goto drop;
	port = &dp->ports[pi_idx];
	ctx.port = port;
	if (!vlan_strip(m, port->vlan))
		goto drop;
	if (!mr_parse_frame(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m),
			    0, &pi, &reason))
		goto drop;
	memset(&res, 0, sizeof(res));
	switch (pi.kind) {
	case MR_PKT_ARP:
		ok = mr_proto_arp(rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_data_len(m),
				  port->mac.addr_bytes, is_local, &ctx, &res);
		if (res.reply)
			mst->arp_replies++;
		break;
	case MR_PKT_ICMP4:
		ok = mr_proto_icmp4(rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_data_len(m),
				    port->mac.addr_bytes, is_local, &ctx, &res);
		if (res.reply)
			mst->icmp_replies++;
		break;
	case MR_PKT_ICMP6:
		ok = mr_proto_icmp6(rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_data_len(m),
				    (uint16_t)(rte_pktmbuf_data_len(m) + rte_pktmbuf_tailroom(m)),
				    port->mac.addr_bytes, is_local, &ctx, &res);
		if (res.reply)
			mst->nd_replies++;
		break;
	default:
		break;
	}
	if (ok && res.learnt)
		mr_neigh_update(port->neigh, &res.learnt_ip, res.learnt_mac, false, mr_dp_now_ms());
	if (!ok || !res.reply)
		goto drop;
	if (res.reply_len > rte_pktmbuf_data_len(m))
		rte_pktmbuf_append(m, (uint16_t)(res.reply_len - rte_pktmbuf_data_len(m)));
	else
		rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_data_len(m) - res.reply_len));
	m->ol_flags = 0;
	if (port->vlan) {
		m->vlan_tci = port->vlan;
		if (rte_vlan_insert(&m) != 0)
			return;
	}
	mgmt_send(dp, (unsigned int)pi_idx, m);
	return;
drop:
	/* Not ours to answer: the host behind the exception path may want it. */
	if (dp->exc_port >= 0 && rte_ring_mp_enqueue(dp->exc_to_kernel, m) == 0)
		return;
	if (!ok)
		mst->drops[MR_DROP_UNSUPPORTED]++;
	rte_pktmbuf_free(m);
}

/* ARP request or Neighbor Solicitation for @ip out of @port_idx. */
static void
solicit(struct mr_dp *dp, unsigned int port_idx, const struct mr_sockaddr *ip)
{
	const struct mr_port *port = &dp->ports[port_idx];
	const struct mr_sockaddr *ours = NULL;
	struct rte_mbuf *m;
	uint16_t len;
	unsigned int i;
	uint8_t *frame;

	for (i = 0; i < port->cfg->n_addrs; i++)
		if (port->cfg->addrs[i].ip.family == ip->family) {
			ours = &port->cfg->addrs[i].ip;
			break;
		}
	if (ours == NULL)
		return;
	m = rte_pktmbuf_alloc(dp->pool);
	if (m == NULL)
		return;
	frame = rte_pktmbuf_mtod(m, uint8_t *);
	len = ip->family == MR_AF_INET ?
	      mr_proto_arp_request(frame, port->mac.addr_bytes, ours, ip) :
	      mr_proto_ns_request(frame, port->mac.addr_bytes, ours, ip);
	if (len == 0 || rte_pktmbuf_append(m, len) == NULL) {
		rte_pktmbuf_free(m);
		return;
	}
	if (port->vlan) {
		m->vlan_tci = port->vlan;
		if (rte_vlan_insert(&m) != 0)
			return;
	}
	mgmt_send(dp, port_idx, m);
}

static bool
notes_poll(struct mr_dp *dp, uint64_t now)
{
	struct mr_note n;
	unsigned int i;

	for (i = 0; i < CMD_BATCH && rte_ring_sc_dequeue_elem(dp->notes, &n, sizeof(n)) == 0; i++) {
		if (n.type == MR_NOTE_RESOLVE && n.port < dp->n_ports) {
			if (mr_neigh_want(dp->ports[n.port].neigh, &n.addr, now,
					  dp->cfg.neigh_retry_ms))
				solicit(dp, n.port, &n.addr);
		} else if (n.type == MR_NOTE_LATCHED) {
			struct mr_event ev;

			memset(&ev, 0, sizeof(ev));
			ev.type = MR_EV_LATCHED;
			ev.comp = n.comp;
			ev.slot = n.slot;
			ev.leg_uid = n.leg_uid;
			ev.addr = n.addr;
			mr_mgmt_post_event(dp, &ev);
		}
	}
	return i != 0;
}

/*
 * A packet of an SSRC its flow had no SRTP contexts for: make them (they
 * allocate, which workers never do), publish the flow, and hand the packet
 * back to its owner, which now finds the stream.
 */
static void
handle_new_ssrc(struct mr_dp *dp, struct rte_mbuf *m)
{
	uint32_t slot = m->hash.usr, ssrc = m->hash.fdir.hi;
	const struct mr_flow *f = slot < dp->shm->max_legs ? dp->by_slot[slot] : NULL;
	bool known = false;
	unsigned int j;

	for (j = 0; f != NULL && j < f->n_streams; j++)
		known |= f->streams[j].ssrc == ssrc;
	/* If this fails the owner finds the SSRC unknown again and
	 * drops the packet (ssrc-limit): it never comes back here. */
	if (f != NULL && !known)
		mr_flow_add_ssrc(dp, slot, ssrc);
	f = slot < dp->shm->max_legs ? dp->by_slot[slot] : NULL;
	if (f == NULL || rte_ring_sp_enqueue(dp->workers[f->owner].reinject, m) != 0) {
		mst->drops[MR_DROP_SSRC_LIMIT]++;
		rte_pktmbuf_free(m);
	}
}

/*
 * An ICE connectivity check to a leg with MR_LEG_F_ICE (RFC 8445 lite: the
 * peer checks, the relay answers). Verified against the leg's credentials
 * (stun.c); a good one is answered in place, from the relay address and
 * port it was sent to, to its source (the frame's source MAC is the next
 * hop back); one that also nominates (USE-CANDIDATE) is copied to the
 * leg's owner worker to latch (worker.c, stun_latch()) and reported as
 * MR_EV_STUN. Anything else is dropped and counted on this lcore's row:
 * stun-auth (USERNAME or MESSAGE-INTEGRITY wrong: never answered, never
 * latches), malformed (or FINGERPRINT wrong), not-rtp (an indication or a
 * response: nothing to answer).
 */
static void
handle_stun(struct mr_dp *dp, struct rte_mbuf *m)
{
	uint8_t reply[MR_STUN_RESPONSE_MAX], reason, comp;
	struct rte_ether_addr next_hop;
	const struct mr_flow *f;
	struct mr_stun_msg msg;
	struct mr_pkt_info pi;
	struct rte_mbuf *copy;
	struct mr_event ev;
	uint16_t n;
	uint8_t *payload;

	if (!mr_parse_frame(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), 0,
			    &pi, &reason)) {
		mr_drop(mst, reason, m);
		return;
	}
	f = pi.kind == MR_PKT_UDP ? mr_flow_lookup(dp, &pi.dst, &comp) : NULL;
	if (f == NULL || !(f->flags & MR_LEG_F_ICE)) {
		mr_drop(mst, MR_DROP_NO_LEG, m);        /* the leg went while the check waited */
		return;
	}
	payload = rte_pktmbuf_mtod_offset(m, uint8_t *, pi.payload_off);
	switch (mr_stun_check_request(payload, pi.payload_len, f->ice_ufrag, f->ice_pwd, &msg)) {
	case MR_STUN_OK:
		break;
	case MR_STUN_AUTH:
		mr_drop(mst, MR_DROP_STUN_AUTH, m);
		return;
	case MR_STUN_NOT_REQUEST:
		mr_drop(mst, MR_DROP_NOT_RTP, m);
		return;
	default:
		mr_drop(mst, MR_DROP_MALFORMED, m);
		return;
	}
	if (msg.use_candidate) {
		copy = rte_pktmbuf_copy(m, dp->pool, 0, UINT32_MAX);
		if (copy == NULL) {
			mst->alloc_failures++;
		} else if (rte_ring_sp_enqueue(dp->workers[f->owner].reinject, copy) != 0) {
			mst->drops[MR_DROP_PUNT_FULL]++;
			rte_pktmbuf_free(copy);
		}
		memset(&ev, 0, sizeof(ev));
		ev.type = MR_EV_STUN;
		ev.comp = comp;
		ev.slot = f->slot;
		ev.leg_uid = f->leg_uid;
		ev.value = 1;           /* nominated */
		ev.addr = pi.src;
		mr_mgmt_post_event(dp, &ev);
		mst->stun_nominations++;
	}
	n = mr_stun_build_response(reply, sizeof(reply), msg.txid, &pi.src, f->ice_pwd, NULL);
	if (n == 0) {
		mr_drop(mst, MR_DROP_MALFORMED, m);
		return;
	}
	/* The reply replaces the request's payload; the headers are rebuilt. */
	if (pi.payload_off + n > rte_pktmbuf_data_len(m) &&
	    rte_pktmbuf_append(m, (uint16_t)(pi.payload_off + n - rte_pktmbuf_data_len(m))) == NULL) {
		mr_drop(mst, MR_DROP_NO_TAILROOM, m);
		return;
	}
	memcpy(rte_pktmbuf_mtod_offset(m, uint8_t *, pi.payload_off), reply, n);
	rte_ether_addr_copy(&rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->src_addr, &next_hop);
	if (mr_egress_rewrite(m, pi.payload_off, n, &dp->ports[f->port], &next_hop,
			      comp == MR_COMP_RTP ? &f->local : &f->local_rtcp, &pi.src,
			      f->dscp) < 0) {
		mr_drop(mst, MR_DROP_NO_HEADROOM, m);
		return;
	}
	mst->stun_replies++;
	mgmt_send(dp, f->port, m);
}

/*
 * Hand a burst of what the workers queued on @ring (punt, new_ssrc, stun:
 * each has this lcore as its one consumer) to @handle, which owns each
 * mbuf from then on. Returns whether there was any.
 */
static bool
ring_poll(struct mr_dp *dp, struct rte_ring *ring,
	  void (*handle)(struct mr_dp *dp, struct rte_mbuf *m))
{
	struct rte_mbuf *pkts[MR_BURST];
	unsigned int i, n;

	n = rte_ring_sc_dequeue_burst(ring, (void **)pkts, MR_BURST, NULL);
	for (i = 0; i < n; i++)
		handle(dp, pkts[i]);
	return n != 0;
}

/* Legs whose peer stopped sending: one MR_EV_IDLE each, then quiet until media returns. */
static void
idle_scan(struct mr_dp *dp, uint64_t now, uint32_t *cursor, uint8_t *reported)
{
	uint32_t legs = dp->shm->max_legs, i, w, n;

	for (n = 0; n < IDLE_SCAN_PER_TICK && n < legs; n++) {
		const struct mr_flow *f;
		uint64_t last = 0;

		i = (*cursor + n) % legs;
		f = dp->by_slot[i];
		if (f == NULL || f->idle_timeout_ms == 0)
			continue;
		for (w = 0; w < dp->n_workers; w++) {
			uint64_t t = mr_shm_counters(dp->shm, w, i)->last_rx_ms;

			last = t > last ? t : last;
		}
		if (last < mr_shm_leg_dp(dp->shm, i)->created_ms)
			last = mr_shm_leg_dp(dp->shm, i)->created_ms;
		if (last >= now || now - last < f->idle_timeout_ms) {
			reported[i] = 0;
			continue;
		}
		if (!reported[i]) {
			reported[i] = 1;
			post_simple(dp, MR_EV_IDLE, i, now - last);
		}
	}
	*cursor = (*cursor + n) % legs;
}

static void
tick(struct mr_dp *dp, uint64_t now, uint32_t *idle_cursor, uint8_t *idle_reported)
{
	struct mr_sockaddr refresh[64];
	unsigned int p, i, n;

	__atomic_store_n(&dp->shm->dp_heartbeat_ms, now, __ATOMIC_RELEASE);
	for (p = 0; p < dp->n_ports; p++) {
		n = mr_neigh_age(dp->ports[p].neigh, now, dp->cfg.neigh_reachable_ms,
				 dp->cfg.neigh_retry_ms, refresh, RTE_DIM(refresh));
		for (i = 0; i < n; i++)
			solicit(dp, p, &refresh[i]);
	}
	idle_scan(dp, now, idle_cursor, idle_reported);
}

int
mr_mgmt_loop(struct mr_dp *dp)
{
	uint64_t now, next_tick = 0;
	uint32_t idle_cursor = 0;
	uint8_t *idle_reported = calloc(dp->shm->max_legs, 1);
	bool busy;

	if (idle_reported == NULL)
		return -ENOMEM;
	mst = mr_shm_wstats(dp->shm, dp->shm->max_workers);
	/* mgmt never reads RCU-protected data without owning it; it only
	 * waits for grace periods, so it is not a registered reader. */
	post_simple(dp, MR_EV_DP_START, MR_LEG_NONE, (uint64_t)getpid());
	__atomic_store_n(&dp->shm->dp_state, MR_DP_RUNNING, __ATOMIC_RELEASE);
	MGMT_LOG(INFO, "running: %u workers, %u ports", dp->n_workers, dp->n_ports);
	while (!dp->quit) {
		now = mr_dp_clock_tick();
		busy = cmds_poll(dp);
		busy |= ring_poll(dp, dp->punt, handle_punted);
		busy |= notes_poll(dp, now);
		busy |= ring_poll(dp, dp->new_ssrc, handle_new_ssrc);
		busy |= ring_poll(dp, dp->stun, handle_stun);
		if (dp->exc_port >= 0)
			mr_exception_poll(dp);
		if (now >= next_tick) {
			tick(dp, now, &idle_cursor, idle_reported);
			next_tick = now + TICK_MS;
		}
		mst->loops++;
		if (!busy)
			rte_delay_us_sleep(dp->cfg.idle_backoff_us ? dp->cfg.idle_backoff_us : 50);
	}
	free(idle_reported);
	return 0;
}
