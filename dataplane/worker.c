/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The packet path starts here. Nothing below blocks, allocates, locks, logs
 * or makes a syscall (the idle back-off sleeps only when a whole loop found
 * no work, after telling RCU this thread is offline).
 *
 * mr_pkt_burst() reads as the table of contents of a packet's life:
 * parse -> lookup -> owner hand-off -> SRTP in -> latch -> fan-out ->
 * SRTP out -> rewrite -> tx, in stages over a whole burst.
 */
#include <stddef.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_hash.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>
#include <rte_udp.h>
#include <urcu-qsbr.h>

#include "dp.h"
#include "latch.h"
#include "parse.h"
#include "rtp.h"
#include "sbatch.h"

static bool
punt(struct mr_worker *w, struct rte_ring *r, struct rte_mbuf *m,
     unsigned int full_reason, uint64_t *counter)
{
	if (rte_ring_mp_enqueue(r, m) != 0) {
		mr_drop(w->st, full_reason, m);
		return false;
	}
	(*counter)++;
	return true;
}

static void
note(struct mr_worker *w, struct mr_note *n)
{
	if (rte_ring_mp_enqueue_elem(mr_dp.notes, n, sizeof(*n)) != 0)
		w->st->events_dropped++;
}

/* Frames the relay itself must answer or the kernel must see. */
static void
not_media(struct mr_worker *w, struct rte_mbuf *m, const struct mr_pkt_info *pi)
{
	switch (pi->kind) {
	case MR_PKT_ARP:
	case MR_PKT_ICMP4:
	case MR_PKT_ICMP6:
		punt(w, mr_dp.punt, m, MR_DROP_PUNT_FULL, &w->st->punted);
		return;
	default:
		break;
	}
	if (mr_dp.exc_port >= 0 && (pi->kind == MR_PKT_OTHER_L4 || pi->kind == MR_PKT_UDP)) {
		punt(w, mr_dp.exc_to_kernel, m, MR_DROP_EXCEPTION_FULL, &w->st->exception);
		return;
	}
	mr_drop(w->st, pi->kind == MR_PKT_UDP ? MR_DROP_NOT_LOCAL : MR_DROP_UNSUPPORTED, m);
}

/*
 * Where the egress leg's media goes: its latched source, else the signaled
 * hint. The egress leg's dp part may be written by another worker, so it is
 * read under its seqlock unless we own it.
 */
/* The part of struct mr_leg_dp a forwarding decision needs: one cache line. */
struct leg_dest {
	uint32_t dseq;
	uint16_t owner_lcore;
	uint8_t latch_flags;
	uint8_t pad;
	uint64_t leg_uid;
	uint64_t created_ms;
	struct mr_sockaddr latched_rtp;
	struct mr_sockaddr latched_rtcp;
};
_Static_assert(sizeof(struct leg_dest) == offsetof(struct mr_leg_dp, ssrc_in) &&
	       offsetof(struct leg_dest, latched_rtcp) == offsetof(struct mr_leg_dp, latched_rtcp),
	       "leg_dest is the head of mr_leg_dp");

/*
 * Where the egress leg's media goes: its latched source, else the signaled
 * hint. The egress leg's dp part may be written by another worker, so it is
 * read under its seqlock unless we own it.
 */
static int
egress_dest(struct mr_worker *w, const struct mr_flow *e, uint8_t comp,
	    struct mr_sockaddr *dst)
{
	const struct mr_leg_dp *p = mr_shm_leg_dp(mr_dp.shm, e->slot);
	const struct leg_dest *d = (const struct leg_dest *)p;
	struct leg_dest copy;
	uint8_t latched;

	/*
	 * Our own leg's part is read in place: a copy first would be read back
	 * across the narrower stores that made it, which cannot be forwarded.
	 */
	if (e->owner != w->idx) {
		if (mr_seq_read(&p->dseq, &copy, p, sizeof(copy)) < 0)
			return MR_DROP_ERR(MR_DROP_STATE_TORN);
		d = &copy;
	}
	latched = d->leg_uid == e->leg_uid ? d->latch_flags : 0;  /* 0: not installed by mgmt yet */
	if ((e->flags & MR_LEG_F_RTCP_MUX) || comp == MR_COMP_RTP)
		*dst = (latched & MR_LATCHED_RTP) ? d->latched_rtp : e->peer_rtp;
	else if (latched & MR_LATCHED_RTCP)
		*dst = d->latched_rtcp;
	else
		*dst = e->peer_rtcp;
	if (dst->family == MR_AF_NONE || dst->port_be == 0)
		return MR_DROP_ERR(MR_DROP_NO_DEST);
	return 0;
}

static bool
next_hop_mac(struct mr_worker *w, const struct mr_port *port, uint16_t port_idx,
	     const struct mr_sockaddr *dst, struct rte_ether_addr *mac)
{
	const struct mr_sockaddr *hop = dst;
	struct mr_note n;

	if (!mr_port_on_link(port, dst)) {
		hop = dst->family == MR_AF_INET ? &port->cfg->gateway4 : &port->cfg->gateway6;
		if (hop->family == MR_AF_NONE)
			return false;
	}
	if (mr_neigh_lookup(port->neigh, hop, mac))
		return true;
	memset(&n, 0, sizeof(n));
	n.type = MR_NOTE_RESOLVE;
	n.port = port_idx;
	n.addr = *hop;
	note(w, &n);
	return false;
}

static bool
latch(struct mr_worker *w, const struct mr_flow *f, uint8_t comp,
      const struct mr_sockaddr *src, const struct mr_crypt_pkt *cp)
{
	struct mr_leg_dp *p = mr_shm_leg_dp(mr_dp.shm, f->slot);
	struct mr_leg_rt *rt = &mr_dp.rt[f->slot];
	uint8_t bit = (uint8_t)(1u << comp);
	struct mr_latch_in in = {
		/* A leg with keys can authenticate: it moves only by the auth rules. */
		.policy = f->in_gens && f->latch == MR_LATCH_FIRST ? MR_LATCH_FIRST_AUTH : f->latch,
		.latched = (p->latch_flags & bit) != 0,
		.authenticated = cp->authenticated,
		.index = cp->index,
		.index16 = !cp->rtcp,
		.auth_packets = f->relatch_auth_packets,
		.auth_quiet_ms = f->relatch_auth_quiet_ms,
		.window_ms = f->latch_window_ms,
		.relatch_idle_ms = f->relatch_idle_ms,
		.created_ms = p->created_ms,
		.last_rx_ms = rt->last_rx_ms[comp],
		.now_ms = w->now_ms,
		.hint = comp == MR_COMP_RTP ? &f->peer_rtp : &f->peer_rtcp,
		.current = comp == MR_COMP_RTP ? &p->latched_rtp : &p->latched_rtcp,
		.src = src,
	};
	struct mr_note n;

	switch (mr_latch_check(&in, &rt->cand[comp])) {
	case MR_LATCH_ACCEPT:
		break;
	case MR_LATCH_LATCH: {
		struct mr_leg_dp d = *p;

		if (comp == MR_COMP_RTP)
			d.latched_rtp = *src;
		else
			d.latched_rtcp = *src;
		d.latch_flags |= bit;
		mr_leg_dp_write(p, &d);
		w->st->latched++;
		memset(&n, 0, sizeof(n));
		n.type = MR_NOTE_LATCHED;
		n.comp = comp;
		n.slot = f->slot;
		n.leg_uid = f->leg_uid;
		n.addr = *src;
		note(w, &n);
		break;
	}
	default:
		return false;
	}
	rt->last_rx_ms[comp] = w->now_ms;
	return true;
}

/*
 * An ICE check the management lcore authenticated and that carried
 * USE-CANDIDATE: the peer nominated this source (RFC 8445 lite, the relay
 * is controlled). It latches a component that has not latched yet, by the
 * rules of latch.c for an authenticated packet, and refreshes a latch on
 * that very source; it never moves a latch made on another source: STUN
 * has no replay protection, so a check captured and replayed from another
 * address would otherwise take the leg over. Media that authenticates
 * (SRTP) moves a latch by the usual rules.
 */
static void
stun_latch(struct mr_worker *w, const struct mr_flow *f, uint8_t comp,
	   const struct mr_sockaddr *src)
{
	const struct mr_leg_dp *p = mr_shm_leg_dp(mr_dp.shm, f->slot);
	struct mr_crypt_pkt cp;

	if ((p->latch_flags & (1u << comp)) &&
	    !mr_sockaddr_eq(comp == MR_COMP_RTP ? &p->latched_rtp : &p->latched_rtcp, src))
		return;
	memset(&cp, 0, sizeof(cp));
	cp.authenticated = true;
	(void)latch(w, f, comp, src, &cp);
}

static bool
interloper(const struct mr_worker *w, const struct mr_flow *f, uint8_t comp,
	   const struct mr_sockaddr *src)
{
	const struct mr_leg_dp *p = mr_shm_leg_dp(mr_dp.shm, f->slot);

	return (p->latch_flags & (1u << comp)) &&
	       !mr_sockaddr_eq(comp == MR_COMP_RTP ? &p->latched_rtp : &p->latched_rtcp, src) &&
	       w->now_ms - mr_dp.rt[f->slot].last_rx_ms[comp] < f->relatch_auth_quiet_ms;
}

/*
 * A packet on its way through a burst. The path runs in stages over the
 * whole burst so that SRTP runs once per burst (sbatch.h): front() up to
 * the ingress crypto, middle() from the latch to the egress crypto, back()
 * to the TX buffer. A packet that is dropped or handed on has m == NULL.
 */
struct pkt {
	struct rte_mbuf *m;
	const struct mr_flow *f;
	const struct mr_flow *e;        /* egress leg */
	const struct mr_port *port;     /* egress port */
	const struct mr_sockaddr *src;  /* egress relay address */
	struct mr_sockaddr dst;
	struct rte_ether_addr mac;
	struct mr_pkt_info pi;
	struct mr_crypt_pkt cp;
	uint8_t comp;
	int8_t op;                      /* index into the stage's ops, -1: none */
};

/* Drop @p's packet, counting it against the ingress leg too. */
static void
drop_leg(struct mr_worker *w, struct pkt *p, int err, uint64_t *leg_counter)
{
	(*leg_counter)++;
	mr_drop(w->st, MR_DROP_OF_ERR(err), p->m);
	p->m = NULL;
}

static void
drop(struct mr_worker *w, struct pkt *p, unsigned int reason)
{
	mr_drop(w->st, reason, p->m);
	p->m = NULL;
}

/*
 * A new SSRC's first packet waits for its contexts on the management
 * lcore and comes back through the reinject ring. Packets of that SSRC
 * arriving meanwhile take the same way (mgmt hands back a packet whose SSRC
 * is known at once), or one that came after it could leave before it: the
 * rings keep the order, the direct path does not. Bounded in time, so a
 * packet lost on the way cannot divert the stream for long.
 */
#define MR_HOLD_MS 50u

static bool
held_back(struct mr_worker *w, const struct mr_flow *f, uint32_t ssrc, unsigned int origin)
{
	struct mr_leg_rt *rt = &mr_dp.rt[f->slot];

	if (rt->held == 0)
		return false;
	if (origin == MR_ORIGIN_REINJECT) {
		rt->held--;
		return false;
	}
	return ssrc == rt->held_ssrc && w->now_ms - rt->held_ms < MR_HOLD_MS;
}

static void
hold_back(struct mr_worker *w, const struct mr_flow *f, struct rte_mbuf *m, uint32_t ssrc,
	  bool first)
{
	struct mr_leg_rt *rt = &mr_dp.rt[f->slot];

	m->hash.usr = f->slot;
	m->hash.fdir.hi = ssrc;
	if (!punt(w, mr_dp.new_ssrc, m, MR_DROP_PUNT_FULL, &w->st->punted))
		return;
	if (first) {
		rt->held_ssrc = ssrc;
		rt->held_ms = w->now_ms;
		rt->held = 0;
	}
	rt->held++;
}

/* 1: parse. Whether the packet goes on to the flow lookup. */
static bool
parse(struct mr_worker *w, struct pkt *p)
{
	struct rte_mbuf *m = p->m;
	unsigned int flags = 0;
	uint8_t reason;

	p->op = -1;
	if (unlikely(m->nb_segs != 1)) {
		drop(w, p, MR_DROP_MULTI_SEG);
		return false;
	}
	if ((m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_GOOD)
		flags |= MR_PARSE_IP_CKSUM_OK;
	if (unlikely((m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_BAD ||
		     (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_BAD)) {
		drop(w, p, MR_DROP_BAD_CKSUM);
		return false;
	}
	if (unlikely(!mr_parse_frame(rte_pktmbuf_mtod(m, const uint8_t *),
				     rte_pktmbuf_data_len(m), flags, &p->pi, &reason))) {
		drop(w, p, reason);
		return false;
	}
	if (unlikely(p->pi.kind != MR_PKT_UDP)) {
		not_media(w, m, &p->pi);
		p->m = NULL;
		return false;
	}
	return true;
}

/*
 * 2-4: the looked-up flow @f (NULL: none), owner hand-off, the SRTP
 * operation of ingress.
 */
static void
front(struct mr_worker *w, struct pkt *p, const struct mr_flow *f, unsigned int origin,
      struct mr_sop *op)
{
	struct rte_mbuf *m = p->m;
	struct mr_leg_counters *in_ctr;
	uint32_t ssrc;
	int r;

	if (unlikely(f == NULL)) {
		if (mr_port_of_addr(&mr_dp, &p->pi.dst) < 0 ||
		    rte_be_to_cpu_16(p->pi.dst.port_be) < mr_dp.cfg.port_min ||
		    rte_be_to_cpu_16(p->pi.dst.port_be) > mr_dp.cfg.port_max)
			not_media(w, m, &p->pi);
		else
			mr_drop(w->st, MR_DROP_NO_LEG, m);
		p->m = NULL;
		return;
	}
	p->f = f;
	/*
	 * ICE-lite: STUN to a leg with ICE credentials is answered by the
	 * management lcore (HMAC, a few checks a second), from any worker.
	 * A check it authenticated with USE-CANDIDATE comes back here, to
	 * the owner, only to latch.
	 */
	if (unlikely(f->flags & MR_LEG_F_ICE) &&
	    mr_media_classify(rte_pktmbuf_mtod_offset(m, const uint8_t *, p->pi.payload_off),
			      p->pi.payload_len) == MR_MEDIA_STUN) {
		if (origin != MR_ORIGIN_REINJECT) {
			punt(w, mr_dp.stun, m, MR_DROP_PUNT_FULL, &w->st->punted);
			p->m = NULL;
			return;
		}
		if (f->owner == w->idx)
			stun_latch(w, f, p->comp, &p->pi.src);
		rte_pktmbuf_free(m);    /* mgmt's copy, not a drop: the check was answered */
		p->m = NULL;
		return;
	}
	/* 3. state of a direction is touched by its owner only */
	if (f->owner != w->idx) {
		if (unlikely(origin != MR_ORIGIN_RX)) {  /* owner changed under us: bug */
			drop(w, p, MR_DROP_HANDOFF_FULL);
			return;
		}
		punt(w, mr_dp.workers[f->owner].handoff, m, MR_DROP_HANDOFF_FULL,
		     &w->st->handoff_out);
		p->m = NULL;
		return;
	}
	in_ctr = &w->ctr[f->slot];
	/*
	 * Another source while the latched one talks can never take over: turn
	 * it away before it touches the replay window, which it could otherwise
	 * push past the real source's packets.
	 */
	if (f->in_gens && unlikely(interloper(w, f, p->comp, &p->pi.src))) {
		drop_leg(w, p, MR_DROP_ERR(MR_DROP_SRC_NOT_LATCHED), &in_ctr->drop_src);
		return;
	}
	if (!mr_flow_crypto(f))
		return;
	/* 4. SRTP: authenticate (and decrypt) before anything may latch */
	r = mr_crypt_in_prep(f, m, &p->pi, p->comp, &p->cp, op, &ssrc);
	if (unlikely(r == MR_CRYPT_NEW_SSRC) || (r >= 0 && unlikely(held_back(w, f, ssrc, origin)))) {
		/* Contexts allocate: the management lcore makes them and
		 * hands the packet back (once). */
		if (r == MR_CRYPT_NEW_SSRC &&
		    (origin == MR_ORIGIN_REINJECT || f->n_streams >= MR_LEG_SSRCS)) {
			drop_leg(w, p, MR_DROP_ERR(MR_DROP_SSRC_LIMIT), &in_ctr->drop_other);
			return;
		}
		hold_back(w, f, m, ssrc, r == MR_CRYPT_NEW_SSRC);
		p->m = NULL;
	} else if (r == MR_CRYPT_OP) {
		p->op = 0;
	} else if (unlikely(r < 0)) {
		drop_leg(w, p, r, &in_ctr->drop_other);
	}
}

/*
 * The ingress SRTP result: 0 (the packet goes on), MR_CRYPT_OP (@op now
 * tries the other key generation) or -1 (dropped).
 */
static int
ingress_done(struct mr_worker *w, struct pkt *p, struct mr_sop *op)
{
	int r = mr_crypt_in_done(p->f, &p->pi, &p->cp, op);
	struct mr_leg_counters *in_ctr = &w->ctr[p->f->slot];

	if (r == 0 || r == MR_CRYPT_OP)
		return r;
	drop_leg(w, p, r, r == MR_DROP_ERR(MR_DROP_SRTP_AUTH) ||
			  r == MR_DROP_ERR(MR_DROP_SRTP_REPLAY) ? &in_ctr->drop_auth :
								  &in_ctr->drop_other);
	return -1;
}

/*
 * Where the burst's last packet went. Media comes in trains (a video frame
 * is many packets of one stream), so the next packet to the same egress
 * leg and component reuses its destination and next hop instead of reading
 * the egress leg's state and the neighbour table again. A latch made in
 * between (ours: the egress leg may be fed back) voids it; what another
 * lcore changes meanwhile is seen by the next burst, as it would be by a
 * packet a moment earlier.
 */
struct route_memo {
	const struct mr_flow *e;        /* NULL: none */
	uint8_t comp;
	uint64_t latched;               /* w->st->latched when taken */
	const struct mr_port *port;
	const struct mr_sockaddr *src;
	struct mr_sockaddr dst;
	struct rte_ether_addr mac;
};

/* @p's destination, relay address, port and next hop towards @e. 0 or a drop. */
static int
route(struct mr_worker *w, struct pkt *p, const struct mr_flow *e, uint8_t out_comp,
      struct route_memo *rm)
{
	int r;

	if (rm->e == e && rm->comp == out_comp && rm->latched == w->st->latched) {
		p->dst = rm->dst;
		p->src = rm->src;
		p->port = rm->port;
		p->mac = rm->mac;
		return 0;
	}
	r = egress_dest(w, e, out_comp, &p->dst);
	if (unlikely(r < 0))
		return r;
	p->src = out_comp == MR_COMP_RTCP ? &e->local_rtcp : &e->local;
	p->port = &mr_dp.ports[e->port];
	if (unlikely(p->dst.family != p->src->family ||
		     !next_hop_mac(w, p->port, e->port, &p->dst, &p->mac)))
		return MR_DROP_ERR(MR_DROP_NO_NEXTHOP_MAC);
	*rm = (struct route_memo){ e, out_comp, w->st->latched, p->port, p->src, p->dst, p->mac };
	return 0;
}

/* 5-7: latch, mute, fan-out, destination, the SRTP operation of egress. */
static void
middle(struct mr_worker *w, struct pkt *p, struct mr_sop *op, struct route_memo *rm)
{
	const struct mr_flow *f = p->f, *e;
	struct mr_leg_counters *in_ctr = &w->ctr[f->slot];
	struct rte_mbuf *m = p->m;
	uint8_t out_comp;
	int r;

	p->op = -1;
	/* 5. latch: only the latched public source is accepted */
	if (unlikely(!latch(w, f, p->comp, &p->pi.src, &p->cp))) {
		drop_leg(w, p, MR_DROP_ERR(MR_DROP_SRC_NOT_LATCHED), &in_ctr->drop_src);
		return;
	}
	in_ctr->rx_pkts++;
	in_ctr->rx_bytes += p->pi.payload_len;
	in_ctr->last_rx_ms = w->now_ms;
	if (unlikely(f->flags & MR_LEG_F_MUTED)) {
		/* Re-protected streams are renumbered past the mute (crypt.c). */
		if (f->out_keyed && !p->cp.as_is && !p->cp.rtcp)
			mr_dp.rt[f->slot].seq_off[p->cp.stream]++;
		/* A mute under way must survive a restart too, or it shows as a gap. */
		if (mr_flow_crypto(f))
			mr_crypt_persist(w, f, &p->cp);
		drop(w, p, MR_DROP_MUTED);
		return;
	}
	/* 6. fan-out (one egress leg for now), as the flow was built for it */
	e = f->egress_slot < mr_dp.shm->max_legs ?
	    rcu_dereference(mr_dp.by_slot[f->egress_slot]) : NULL;
	if (unlikely(e == NULL || e->leg_uid != f->egress_uid)) {
		drop_leg(w, p, MR_DROP_ERR(MR_DROP_NO_EGRESS), &in_ctr->drop_other);
		return;
	}
	p->e = e;
	/*
	 * What leaves by the egress leg's RTCP port is what is RTCP, not what
	 * came in on an RTCP port: a muxed leg carries both on one port.
	 */
	out_comp = p->comp;
	if (mr_flow_crypto(f))
		out_comp = p->cp.rtcp ? MR_COMP_RTCP : MR_COMP_RTP;
	else if ((f->flags & MR_LEG_F_RTCP_MUX) &&
		 mr_media_classify(rte_pktmbuf_mtod_offset(m, const uint8_t *, p->pi.payload_off),
				   p->pi.payload_len) == MR_MEDIA_RTCP)
		out_comp = MR_COMP_RTCP;
	r = route(w, p, e, out_comp, rm);
	if (unlikely(r < 0)) {
		drop_leg(w, p, r, &in_ctr->drop_other);
		return;
	}
	if (!mr_flow_crypto(f))
		return;
	/* 7. SRTP towards the egress leg's peer */
	r = mr_crypt_out_prep(f, m, &p->pi, &p->cp, op);
	if (r == MR_CRYPT_OP)
		p->op = 0;
	else if (unlikely(r < 0))
		drop_leg(w, p, r, &in_ctr->drop_other);
}

/* 7-9: the egress SRTP result, rewrite, buffered TX. */
static void
back(struct mr_worker *w, struct pkt *p, const struct mr_sop *op)
{
	const struct mr_flow *f = p->f, *e = p->e;
	struct mr_leg_counters *in_ctr = &w->ctr[f->slot], *out_ctr;
	struct rte_mbuf *m = p->m;
	int r;

	if (op != NULL) {
		r = mr_crypt_out_done(m, &p->pi, op);
		if (unlikely(r < 0)) {
			drop_leg(w, p, r, &in_ctr->drop_other);
			return;
		}
	}
	if (mr_flow_crypto(f))
		mr_crypt_persist(w, f, &p->cp);
	/* 8. rewrite */
	if (unlikely(mr_egress_rewrite(m, p->pi.payload_off, p->pi.payload_len, p->port, &p->mac,
				       p->src, &p->dst, e->dscp) < 0)) {
		drop_leg(w, p, MR_DROP_ERR(MR_DROP_NO_HEADROOM), &in_ctr->drop_other);
		return;
	}
	out_ctr = &w->ctr[e->slot];
	out_ctr->tx_pkts++;
	out_ctr->tx_bytes += p->pi.payload_len;
	m->hash.usr = e->slot;          /* tx_error() un-counts it if refused */
	/* 9. buffered tx; the flush callback counts what the queue refused */
	w->st->tx_pkts += rte_eth_tx_buffer(p->port->port_id, (uint16_t)w->idx,
					    w->txb[e->port], m);
}

static void
run_ops(struct mr_worker *w, struct mr_sop *ops, unsigned int n)
{
	const struct mr_sop_env s = { w->smb, w->scratch, sizeof(w->scratch) };

	if (n != 0)
		mr_sop_run(ops, n, &s);
}

/*
 * What a packet of flow @f will touch, fetched ahead in two steps, each
 * needing only what the step before brought in: far() once the flow is in
 * cache (its leg's state, the egress slot's pointer, the first stream's
 * context wrappers), near() once those are (the engine contexts, the
 * egress flow); the egress leg's state is fetched in the middle stage.
 * With many legs none of it is cached, and one miss after
 * another per packet costs more than the crypto.
 */
static inline void
prefetch_far(const struct mr_worker *w, const struct mr_flow *f)
{
	rte_prefetch0(mr_shm_leg_dp(mr_dp.shm, f->slot));
	rte_prefetch0(&mr_dp.rt[f->slot]);
	rte_prefetch0(&w->ctr[f->slot]);
	if (f->egress_slot < mr_dp.shm->max_legs)
		rte_prefetch0(&mr_dp.by_slot[f->egress_slot]);
	if (f->n_streams != 0) {
		rte_prefetch0(f->streams[0].in[0]);
		rte_prefetch0(f->streams[0].in[1]);
		rte_prefetch0(f->streams[0].out);
	}
}

static inline void
prefetch_near(const struct mr_flow *f)
{
	const struct mr_flow *e;

	if (f->egress_slot < mr_dp.shm->max_legs) {
		e = rcu_dereference(mr_dp.by_slot[f->egress_slot]);
		rte_prefetch0(e);
	}
	if (f->n_streams != 0) {
		mr_sctx_prefetch(f->streams[0].in[0]);
		mr_sctx_prefetch(f->streams[0].in[1]);
		mr_sctx_prefetch(f->streams[0].out);
	}
}

/* The egress leg's dp part, for middle() a few packets ahead. */
static inline void
prefetch_egress(const struct mr_flow *f)
{
	const struct mr_flow *e;

	if (f->egress_slot >= mr_dp.shm->max_legs)
		return;
	e = rcu_dereference(mr_dp.by_slot[f->egress_slot]);
	if (e != NULL)
		rte_prefetch0(mr_shm_leg_dp(mr_dp.shm, e->slot));
}

/* A flow's fields up to its first stream: what the packet path reads. */
static inline void
prefetch_flow(const struct mr_flow *f)
{
	const char *p = (const char *)f;
	size_t i;

	for (i = 0; i < offsetof(struct mr_flow, streams) + sizeof(struct mr_stream); i += 64)
		rte_prefetch0(p + i);
}

/*
 * 1-4 for the burst: parse every packet, look all their flows up at once
 * (rte_hash's bulk lookup overlaps the bucket misses that one lookup at a
 * time pays in turn: with many legs the table is far bigger than the
 * caches), then prefetch each flow and, 2 * MR_PREFETCH and MR_PREFETCH
 * packets ahead, what hangs off it, so the per-packet work mostly finds it
 * in cache.
 */
_Static_assert(MR_BURST <= RTE_HASH_LOOKUP_BULK_MAX, "one bulk lookup per burst");

static unsigned int
front_burst(struct mr_worker *w, struct pkt *ps, unsigned int n, unsigned int origin,
	    struct mr_sop *ops)
{
	const void *keys[MR_BURST];
	void *data[MR_BURST];
	const struct mr_flow *fl[MR_BURST];
	uint8_t at[MR_BURST];
	uint64_t hits = 0;
	unsigned int i, k, nk = 0, n_ops = 0;

	for (i = 0; i < n; i++) {
		if (i + MR_PREFETCH < n)
			rte_prefetch0(rte_pktmbuf_mtod(ps[i + MR_PREFETCH].m, void *));
		if (parse(w, &ps[i])) {
			keys[nk] = &ps[i].pi.dst;
			at[nk++] = (uint8_t)i;
		}
	}
	if (nk != 0)
		rte_hash_lookup_bulk_data(mr_dp.flows, keys, nk, &hits, data);
	for (k = 0; k < nk; k++) {
		fl[k] = NULL;
		if (hits & (1ull << k)) {
			ps[at[k]].comp = (uint8_t)((uintptr_t)data[k] & 1u);
			fl[k] = (const struct mr_flow *)((uintptr_t)data[k] & ~(uintptr_t)1u);
			prefetch_flow(fl[k]);
		}
	}
	for (k = 0; k < nk && k < 2 * MR_PREFETCH; k++)
		if (fl[k] != NULL)
			prefetch_far(w, fl[k]);
	for (k = 0; k < nk && k < MR_PREFETCH; k++)
		if (fl[k] != NULL)
			prefetch_near(fl[k]);
	for (k = 0; k < nk; k++) {
		struct pkt *p = &ps[at[k]];

		if (k + 2 * MR_PREFETCH < nk && fl[k + 2 * MR_PREFETCH] != NULL)
			prefetch_far(w, fl[k + 2 * MR_PREFETCH]);
		if (k + MR_PREFETCH < nk && fl[k + MR_PREFETCH] != NULL)
			prefetch_near(fl[k + MR_PREFETCH]);
		front(w, p, fl[k], origin, &ops[n_ops]);
		if (p->m != NULL && p->op == 0)
			p->op = (int8_t)n_ops++;
	}
	return n_ops;
}

void
mr_pkt_burst(struct mr_worker *w, struct rte_mbuf **pkts, unsigned int n, unsigned int origin)
{
	struct mr_sop ops[MR_BURST], retry[MR_BURST];
	struct pkt ps[MR_BURST];
	struct route_memo rm = { .e = NULL };
	unsigned int i, n_ops, n_retry = 0;

	if (n == 0)
		return;         /* most polls of the handoff and reinject rings */
	for (i = 0; i < n; i++)
		ps[i].m = pkts[i];
	n_ops = front_burst(w, ps, n, origin, ops);
	run_ops(w, ops, n_ops);
	for (i = 0; i < n; i++) {
		if (ps[i].m == NULL || ps[i].op < 0)
			continue;
		if (ingress_done(w, &ps[i], &ops[ps[i].op]) == MR_CRYPT_OP) {
			retry[n_retry] = ops[ps[i].op];
			ps[i].op = (int8_t)n_retry++;
		} else {
			/* settled: the pass below is for the retried ones only */
			ps[i].op = -1;
		}
	}
	if (n_retry != 0) {
		run_ops(w, retry, n_retry);
		for (i = 0; i < n; i++)
			if (ps[i].m != NULL && ps[i].op >= 0)
				ingress_done(w, &ps[i], &retry[ps[i].op]);
	}
	n_ops = 0;
	for (i = 0; i < n; i++) {
		if (i + MR_PREFETCH < n && ps[i + MR_PREFETCH].m != NULL)
			prefetch_egress(ps[i + MR_PREFETCH].f);
		if (ps[i].m == NULL)
			continue;
		middle(w, &ps[i], &ops[n_ops], &rm);
		if (ps[i].m != NULL && ps[i].op == 0)
			ps[i].op = (int8_t)n_ops++;
	}
	run_ops(w, ops, n_ops);
	for (i = 0; i < n; i++)
		if (ps[i].m != NULL)
			back(w, &ps[i], ps[i].op >= 0 ? &ops[ps[i].op] : NULL);
}

/* The queue refused these: per-leg tx counters only count what left. */
static void
tx_error(struct rte_mbuf **unsent, uint16_t count, void *arg)
{
	struct mr_worker *w = arg;
	uint16_t i;

	w->st->drops[MR_DROP_TX_FULL] += count;
	for (i = 0; i < count; i++) {
		uint32_t slot = unsent[i]->hash.usr;

		if (slot < mr_dp.shm->max_legs) {
			struct mr_leg_counters *c = &w->ctr[slot];

			c->tx_pkts--;
			c->tx_bytes -= unsent[i]->pkt_len - unsent[i]->l2_len - unsent[i]->l3_len -
				       sizeof(struct rte_udp_hdr);
			c->drop_other++;
		}
	}
	rte_pktmbuf_free_bulk(unsent, count);
}

static int
worker_init(struct mr_worker *w)
{
	unsigned int p;

	for (p = 0; p < mr_dp.n_ports; p++) {
		w->txb[p] = rte_zmalloc_socket("mr_txb", RTE_ETH_TX_BUFFER_SIZE(MR_BURST), 0,
					       (int)rte_socket_id());
		if (w->txb[p] == NULL)
			return -ENOMEM;
		rte_eth_tx_buffer_init(w->txb[p], MR_BURST);
		rte_eth_tx_buffer_set_err_callback(w->txb[p], tx_error, w);
	}
	return 0;
}

static unsigned int
poll_rx(struct mr_worker *w)
{
	struct rte_mbuf *pkts[MR_BURST];
	unsigned int p, total = 0;
	uint16_t n;

	for (p = 0; p < mr_dp.n_ports; p++) {
		const struct mr_port *port = &mr_dp.ports[p];

		if (w->idx >= port->nb_rxq)
			continue;
		n = rte_eth_rx_burst(port->port_id, (uint16_t)w->idx, pkts, MR_BURST);
		w->st->rx_pkts += n;
		mr_pkt_burst(w, pkts, n, MR_ORIGIN_RX);
		total += n;
	}
	n = (uint16_t)rte_ring_sc_dequeue_burst(w->handoff, (void **)pkts, MR_BURST, NULL);
	w->st->handoff_in += n;
	mr_pkt_burst(w, pkts, n, MR_ORIGIN_HANDOFF);
	total += n;
	n = (uint16_t)rte_ring_sc_dequeue_burst(w->reinject, (void **)pkts, MR_BURST, NULL);
	mr_pkt_burst(w, pkts, n, MR_ORIGIN_REINJECT);
	return total + n;
}

/* Frames the management lcore built (ARP, NDP, ICMP replies): worker 0 owns TX queue 0. */
static unsigned int
send_mgmt_frames(struct mr_worker *w)
{
	struct rte_mbuf *pkts[MR_BURST];
	unsigned int p, total = 0;

	for (p = 0; p < mr_dp.n_ports; p++) {
		unsigned int n = rte_ring_sc_dequeue_burst(mr_dp.ports[p].mgmt_tx,
							   (void **)pkts, MR_BURST, NULL);
		unsigned int i;

		for (i = 0; i < n; i++) {
			pkts[i]->hash.usr = MR_LEG_NONE;
			w->st->tx_pkts += rte_eth_tx_buffer(mr_dp.ports[p].port_id,
							    (uint16_t)w->idx, w->txb[p], pkts[i]);
		}
		total += n;
	}
	return total;
}

int
mr_worker_main(void *arg)
{
	struct mr_worker *w = arg;
	unsigned int idle = 0, p, n;
	uint64_t sent;

	if (worker_init(w) < 0)
		return -ENOMEM;
	rcu_register_thread();
	while (!mr_dp.quit) {
		w->now_ms = mr_dp_now_ms();
		n = poll_rx(w);
		if (w->idx == 0)
			n += send_mgmt_frames(w);
		for (p = 0; p < mr_dp.n_ports; p++) {
			sent = rte_eth_tx_buffer_flush(mr_dp.ports[p].port_id, (uint16_t)w->idx,
						       w->txb[p]);
			w->st->tx_pkts += sent;
		}
		/*
		 * A quiescent state is two full barriers and a store to a line
		 * the grace-period waiter reads: every 16th loop keeps it off the
		 * per-packet cost (under load a loop is a whole burst) while a
		 * grace period still ends within microseconds. No flow pointer
		 * outlives the loop that looked it up.
		 */
		if ((++w->st->loops & 15u) == 0)
			rcu_quiescent_state();
		if (n != 0) {
			idle = 0;
			continue;
		}
		w->st->idle_loops++;
		/* Back off only after a run of empty polls; benchmarks set 0. */
		if (mr_dp.cfg.idle_backoff_us != 0 && ++idle >= 64) {
			rcu_thread_offline();
			rte_delay_us_sleep(mr_dp.cfg.idle_backoff_us);
			rcu_thread_online();
		}
	}
	rcu_unregister_thread();
	return 0;
}
