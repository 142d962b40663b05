/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_DP_H
#define MR_DP_H

/*
 * mrelay-dp's process-wide state, shared by its lcores. Ownership is noted
 * on each field: "RO after start" (set before workers launch), "mgmt"
 * (written by the management lcore only), "RCU" (published by mgmt,
 * read by workers between quiescent states).
 */
#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_hash.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <mrelay/shm.h>

#include "config.h"
#include "latch.h"

#define MR_BURST 32u
#define MR_PREFETCH 3u

struct mr_neigh_table;
struct mr_pkt_info;
struct mr_sctx;
struct mr_sop;
struct mr_smb_engine;

/*
 * One SSRC of a leg's ingress direction: the inbound contexts of the leg's
 * key generations and the outbound context of the egress leg's active key
 * (none when every packet is forwarded as it came: pass-through).
 * Created on the management lcore when the SSRC first appears, used only by
 * the leg's owner worker. Carried over (not copied) when the flow is
 * rebuilt with the same keys, so ROC and replay state survive table updates.
 */
struct mr_stream {
	uint32_t ssrc;
	uint8_t owns;                   /* mgmt only: contexts this flow frees (bits: in0, in1, out) */
	struct mr_sctx *in[2];
	struct mr_sctx *out;
};

#define MR_STREAM_OWNS_IN(g) (1u << (g))
#define MR_STREAM_OWNS_OUT (1u << 2)

struct mr_port {                        /* RO after start */
	uint16_t port_id;
	uint16_t nb_rxq;                /* workers with idx < nb_rxq poll it */
	uint16_t nb_txq;
	uint16_t vlan;
	struct rte_ether_addr mac;
	bool tx_ip_cksum;               /* offloads in effect */
	bool tx_udp_cksum;
	bool rx_cksum;
	const struct mr_cfg_port *cfg;
	struct mr_neigh_table *neigh;
	struct rte_ring *mgmt_tx;       /* frames built by mgmt, sent by worker 0 */
};

/*
 * A leg as the workers see it: an immutable copy of the control side's slot,
 * published by RCU. Replaced whole (never edited) when the slot changes.
 */
struct mr_flow {
	uint32_t slot;
	uint32_t generation;
	uint64_t leg_uid;
	uint16_t owner;                 /* worker index owning this leg's ingress */
	uint16_t port;                  /* index into mr_dp.ports of local's address */
	uint8_t latch;
	uint8_t dscp;
	uint16_t pad;
	uint32_t flags;
	uint32_t egress_slot;
	uint32_t latch_window_ms;
	uint32_t relatch_idle_ms;
	uint32_t idle_timeout_ms;       /* 0 = never report idle */
	uint32_t relatch_auth_packets;
	uint32_t relatch_auth_quiet_ms;
	struct mr_sockaddr local;       /* relay address + RTP port */
	struct mr_sockaddr local_rtcp;  /* == local when RTCP is muxed */
	struct mr_sockaddr peer_rtp;    /* signaled hints */
	struct mr_sockaddr peer_rtcp;
	/* Media crypto of the direction this leg -> egress leg. */
	uint8_t in_gens;                /* bit g: inbound key generation g is set */
	uint8_t pass_gens;              /* bit g: egress key == inbound gen g: forward as is */
	bool out_keyed;                 /* the egress leg's active outbound key is set */
	uint64_t egress_uid;            /* egress leg the out key belongs to (0: none) */
	uint8_t n_streams;
	struct mr_stream streams[MR_LEG_SSRCS];
	struct mr_key_gen in_keys[2];   /* mgmt: to build new streams; wiped on free */
	struct mr_key_gen out_key;
	/* MR_LEG_F_ICE: the relay's ICE-lite credentials, NUL-terminated.
	 * mgmt only (it answers the checks); wiped on free. */
	char ice_ufrag[sizeof(((struct mr_ice *)0)->local_ufrag)];
	char ice_pwd[sizeof(((struct mr_ice *)0)->local_pwd)];
	struct mr_flow *free_next;      /* mgmt: deferred-free list */
};

static inline bool
mr_flow_crypto(const struct mr_flow *f)
{
	return f->in_gens != 0 || f->out_keyed;
}

/* Per-leg runtime state, owner worker only (never shared). */
struct mr_leg_rt {
	uint64_t last_rx_ms[2];         /* per component (MR_COMP_*) */
	uint64_t persist_ms;            /* SRTP state last written to the dp part */
	uint8_t cur_gen;                /* inbound key generation that last authenticated */
	uint16_t last_seq[MR_LEG_SSRCS];
	uint16_t seq_off[MR_LEG_SSRCS]; /* RTP packets muted per stream: renumbered out */
	uint16_t held;                  /* packets of held_ssrc on their way through mgmt */
	uint32_t held_ssrc;             /* a new SSRC whose packets keep their order (worker.c) */
	uint64_t held_ms;               /* its first packet went to mgmt */
	struct mr_latch_cand cand[2];   /* per component: a source trying to take over */
};

/* Worker -> mgmt notifications (rte_ring elements). */
enum mr_note_type {
	MR_NOTE_LATCHED = 1,
	MR_NOTE_RESOLVE = 2,            /* next hop without a MAC */
};

struct mr_note {
	uint8_t type;
	uint8_t comp;
	uint16_t port;
	uint32_t slot;
	uint64_t leg_uid;
	struct mr_sockaddr addr;
	uint32_t pad;
};

struct mr_worker {
	unsigned int idx;               /* 0 .. n_workers-1 */
	unsigned int lcore;
	struct rte_ring *handoff;       /* MP/SC: packets whose owner is us */
	struct rte_ring *reinject;      /* SP/SC from mgmt: packets of a new SSRC, now known */
	struct mr_worker_stats *st;     /* shm, our row */
	struct mr_leg_counters *ctr;    /* shm, our row: ctr[slot] */
	struct rte_eth_dev_tx_buffer *txb[MR_CFG_MAX_PORTS];
	uint64_t now_ms;                /* refreshed once per loop */
	struct mr_smb_engine *smb;      /* burst SRTP engine; NULL when !mr_dp.srtp_burst */
	uint8_t scratch[RTE_MBUF_DEFAULT_DATAROOM];     /* libsrtp verify and GCM copies */
} __rte_cache_aligned;

struct mr_dp {
	struct mr_dp_config cfg;                /* RO after start */
	struct mr_shm_header *shm;              /* RO after start */
	uint64_t shm_size;
	unsigned int n_ports;
	struct mr_port ports[MR_CFG_MAX_PORTS];
	unsigned int n_workers;
	struct mr_worker workers[MR_CFG_MAX_WORKERS];
	struct rte_mempool *pool;
	struct rte_hash *flows;                 /* (local addr, port) -> flow|comp; LF reads */
	struct mr_flow **by_slot;               /* RCU: slot -> flow */
	struct mr_leg_rt *rt;                   /* [max_legs], owner worker only */
	struct rte_ring *punt;                  /* MP/SC mbufs: ARP, ICMP, NDP */
	struct rte_ring *new_ssrc;              /* MP/SC mbufs of an SSRC without contexts */
	struct rte_ring *stun;                  /* MP/SC mbufs: STUN to a leg with MR_LEG_F_ICE */
	struct rte_ring *notes;                 /* MP/SC struct mr_note */
	struct rte_ring *exc_to_kernel;         /* MP/SC mbufs for the TAP */
	int exc_port;                           /* TAP port id, -1 when disabled */
	bool srtp_burst;                        /* RO after start: new streams on the burst engine */
	uint64_t clock_ms;                      /* mgmt: CLOCK_MONOTONIC ms, each loop */
	volatile bool quit;
};

extern struct mr_dp mr_dp;

/*
 * CLOCK_MONOTONIC in milliseconds as the management lcore last read it (at
 * most one loop, ~0.1 ms, old). Workers need no clock call of their own, and
 * every *_ms in the region and in dataplane state is on this one time base:
 * a TSC-derived clock drifts from CLOCK_MONOTONIC by the error of DPDK's
 * TSC frequency estimate.
 */
static inline uint64_t
mr_dp_now_ms(void)
{
	return __atomic_load_n(&mr_dp.clock_ms, __ATOMIC_RELAXED);
}

/* Management lcore (and set-up): advance the shared clock. */
static inline uint64_t
mr_dp_clock_tick(void)
{
	uint64_t now = mr_now_ms();

	__atomic_store_n(&mr_dp.clock_ms, now, __ATOMIC_RELAXED);
	return now;
}

/*
 * A drop reason as a negative return value. MR_DROP_MALFORMED is 0, so a
 * plain -reason would read as success: the packet would go on (and, after a
 * failed protect, go on in the clear).
 */
#define MR_DROP_ERR(reason) (-1 - (int)(reason))
#define MR_DROP_OF_ERR(err) ((unsigned int)(-1 - (err)))

static inline void
mr_drop(struct mr_worker_stats *st, unsigned int reason, struct rte_mbuf *m)
{
	st->drops[reason]++;
	rte_pktmbuf_free(m);
}

/* setup.c (cold) */
int mr_dp_setup(struct mr_dp *dp, unsigned int wait_region_s);
int mr_dp_launch_workers(struct mr_dp *dp);
void mr_dp_teardown(struct mr_dp *dp);

/* port.c (cold) */
int mr_port_init_all(struct mr_dp *dp);
void mr_port_stop_all(struct mr_dp *dp);
int mr_port_of_addr(const struct mr_dp *dp, const struct mr_sockaddr *ip);
bool mr_port_is_local(const struct mr_port *p, const struct mr_sockaddr *ip);
bool mr_port_on_link(const struct mr_port *p, const struct mr_sockaddr *ip);

/* shm.c (cold) */
int mr_shm_dp_attach(struct mr_dp *dp, unsigned int wait_s);
void mr_shm_dp_detach(struct mr_dp *dp);
void mr_leg_dp_write(struct mr_leg_dp *d, const struct mr_leg_dp *src);

/* flow.c (mgmt lcore) */
int mr_flow_init(struct mr_dp *dp);
void mr_flow_fini(struct mr_dp *dp);
int mr_flow_apply(struct mr_dp *dp, uint32_t slot);
int mr_flow_add_ssrc(struct mr_dp *dp, uint32_t slot, uint32_t ssrc);
void mr_flow_remove(struct mr_dp *dp, uint32_t slot);
void mr_flow_rescan(struct mr_dp *dp);
void mr_flow_reclaim(struct mr_dp *dp);
bool mr_flow_reclaim_pending(const struct mr_dp *dp);

/* Workers: the flow and component for a destination, or NULL. */
static inline struct mr_flow *
mr_flow_lookup(const struct mr_dp *dp, const struct mr_sockaddr *dst, uint8_t *ret_comp)
{
	void *data;

	if (rte_hash_lookup_data(dp->flows, dst, &data) < 0)
		return NULL;
	*ret_comp = (uint8_t)((uintptr_t)data & 1u);
	return (struct mr_flow *)((uintptr_t)data & ~(uintptr_t)1u);
}

/* worker.c */
#define MR_ORIGIN_RX 0u
#define MR_ORIGIN_HANDOFF 1u            /* from another worker */
#define MR_ORIGIN_REINJECT 2u           /* from mgmt: after creating SSRC contexts, or
					   an ICE check it authenticated (STUN) */
int mr_worker_main(void *arg);
void mr_pkt_burst(struct mr_worker *w, struct rte_mbuf **pkts, unsigned int n,
		  unsigned int origin);

/* crypt.c (workers): the SRTP stage */
struct mr_crypt_pkt {
	uint32_t index;                 /* RTP sequence number or SRTCP index (latch) */
	uint8_t stream;                 /* index into flow->streams */
	uint8_t gen;                    /* inbound generation that authenticated */
	bool rtcp;
	bool as_is;                     /* forward the bytes unchanged */
	bool authenticated;
	uint8_t tries;                  /* inbound generations tried so far */
};
#define MR_CRYPT_NEW_SSRC 1             /* no contexts for this SSRC yet */
#define MR_CRYPT_OP 2                   /* run *op, then call *_done() */
int mr_crypt_in_prep(const struct mr_flow *f, struct rte_mbuf *m, const struct mr_pkt_info *pi,
		     uint8_t comp, struct mr_crypt_pkt *cp, struct mr_sop *op, uint32_t *ret_ssrc);
int mr_crypt_in_done(const struct mr_flow *f, struct mr_pkt_info *pi, struct mr_crypt_pkt *cp,
		     struct mr_sop *op);
int mr_crypt_out_prep(const struct mr_flow *f, struct rte_mbuf *m, const struct mr_pkt_info *pi,
		      const struct mr_crypt_pkt *cp, struct mr_sop *op);
int mr_crypt_out_done(struct rte_mbuf *m, struct mr_pkt_info *pi, const struct mr_sop *op);
void mr_crypt_persist(struct mr_worker *w, const struct mr_flow *f, const struct mr_crypt_pkt *cp);

/*
 * Outbound SRTCP across a restart. libsrtp gives each protected SRTCP
 * packet the next index, and a restarted dataplane must start past every
 * index the dead one used (the same index under the same key is keystream
 * reuse, and the peer drops it as a replay). mr_crypt_persist() stores a
 * stream's outbound SRTCP index again as soon as it is MR_SRTCP_PERSIST_STEP
 * or more past the stored one; it runs on the owner lcore right after the
 * protect, before that lcore protects anything else. So at any instant at
 * most STEP indexes past the stored one have been used: the STEP-th
 * triggers the write, and a process killed before or during it leaves the
 * previous value, STEP behind (a torn dp part keeps each field old or new).
 * A restarted dataplane therefore skips 2 * STEP past the stored index: STEP
 * for that bound, and STEP of margin for protects not followed by a
 * persist (the tag's append failing after a protect, which the room check
 * before it rules out), each of which could leave the store one further
 * behind. The bound holds at any SRTCP rate, with no clock involved; it
 * costs one dp part write per STEP packets, nothing for RTCP's usual few
 * packets a second. The first persist after a restart finds the skipped
 * index STEP or more past the stored one and writes at once, so a second
 * kill right after the first restart is covered too.
 */
#define MR_SRTCP_PERSIST_STEP 128u
#define MR_SRTCP_RESUME_SKIP (2u * MR_SRTCP_PERSIST_STEP)

/* egress.c (workers) */
int mr_egress_rewrite(struct rte_mbuf *m, uint16_t payload_off, uint16_t payload_len,
		      const struct mr_port *port, const struct rte_ether_addr *dst_mac,
		      const struct mr_sockaddr *src, const struct mr_sockaddr *dst,
		      uint8_t dscp);

/* neigh.c: mgmt writes, workers read */
struct mr_neigh_table *mr_neigh_create(unsigned int socket);
void mr_neigh_free(struct mr_neigh_table *t);
bool mr_neigh_lookup(const struct mr_neigh_table *t, const struct mr_sockaddr *ip,
		     struct rte_ether_addr *ret_mac);
void mr_neigh_update(struct mr_neigh_table *t, const struct mr_sockaddr *ip,
		     const uint8_t mac[6], bool is_static, uint64_t now_ms);
bool mr_neigh_want(struct mr_neigh_table *t, const struct mr_sockaddr *ip,
		   uint64_t now_ms, uint32_t retry_ms);
unsigned int mr_neigh_age(struct mr_neigh_table *t, uint64_t now_ms, uint32_t reachable_ms,
			  uint32_t retry_ms, struct mr_sockaddr *ret_refresh, unsigned int max);

/* mgmt.c (main lcore) */
int mr_mgmt_loop(struct mr_dp *dp);
void mr_mgmt_post_event(struct mr_dp *dp, const struct mr_event *ev);

/* exception.c */
int mr_exception_init(struct mr_dp *dp);
void mr_exception_poll(struct mr_dp *dp);

#endif /* MR_DP_H */
