/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dataplane under load, in-process: the same code as mrelay-dp
 * (dp_core_dep), on one net_ring port, with a generator lcore in place of
 * the wire. Runs in a child process forked by main.c, one EAL per run.
 *
 *   control side (this process, region.h)  writes N paired PSTN legs
 *            |  region file in /dev/shm
 *   mgmt lcore 0 (CPU other) ---- mr_dp_setup()'s rescan installs them
 *   generator lcore 2 (CPU other)  --rx ring-->  worker lcore 1 (CPU worker)
 *             ^                                        |
 *             +--------------tx ring <-----------------+
 *
 * The generator keeps a fixed set of mbufs in flight: each relayed frame
 * that comes back on the tx ring is rewritten into the next leg's incoming
 * RTP frame (legs visited with a golden-ratio stride, so the table is
 * touched all over, as by real calls) and fed back, so the loop allocates
 * nothing. Each leg's peer sends from one fixed address, so the first
 * packet latches (latch policy "first") and every later one is accepted.
 *
 * SRTP cases (bench_srtp_run) use the same loop with other input: the
 * generator copies each frame's payload from a stock of SRTP packets that a
 * child of the parent protected with libsrtp beforehand, in exactly the
 * order the legs are visited (record i: leg (i * stride) mod n, sequence
 * number i / n, so every leg sees strictly increasing sequence numbers and
 * the replay window never rejects one), and never sends the relayed payload
 * again: it was protected with another key. Copying a record costs the
 * generator far less than the worker spends on the same packet; protecting
 * on the fly would cost it as much (one libsrtp call each), and the
 * generator shares its CPU with the management lcore. RTP -> SRTP needs no
 * stock: plain RTP with a fresh sequence number per packet.
 *
 * Addresses (all in 198.18.0.0/15): relay addresses 198.18.0.1 .. .64/24,
 * 32,256 RTP/RTCP port pairs each (1024..65535); peers in 198.19.0.0/16,
 * off-link, behind the gateway 198.18.0.254 (a static neighbour), so the
 * next hop is one neighbour entry and no ARP is ever needed.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "bench.h"
#include "dp.h"
#include "region.h"
#include "runner.h"

#define PORT_MIN 1024u
#define PORT_MAX 65535u
#define PAIRS_PER_ADDR ((PORT_MAX - PORT_MIN + 1u) / 2u)       /* 32,256 */
#define MAX_ADDRS MR_CFG_MAX_ADDRS                              /* 64 */
#define MAX_LEGS (PAIRS_PER_ADDR * MAX_ADDRS)
_Static_assert(MAX_LEGS == BENCH_MAX_LEGS, "bench.h's leg limit");
#define GW_MAC { 0x02, 0x00, 0x00, 0x00, 0x00, 0xfe }
#define LCORE_WORKER 1u
#define LCORE_GEN 2u
#define GEN_BURST 32u
#define RING_SIZE BENCH_RING_SIZE
#define PACE_MAX 64u                    /* warm-up: new-SSRC packets queued for management */
#define SRTP_CTX_TIMEOUT_S 900.0        /* every leg's contexts made within this */

enum gen_mode {
	GEN_RUN = 0,
	GEN_DRAIN,              /* only take back what returns, send nothing */
	GEN_STOP,
};

/* An lcore's thread, for its CPU clock and its schedstat. */
struct lthread {
	pthread_t thread;
	pid_t tid;
};

struct gen {
	struct rte_ring *to_dp, *from_dp;
	struct rte_mempool *pool;
	uint16_t port_id;
	uint32_t first, n, stride, cursor;      /* legs first .. first+n-1 */
	uint32_t pass_left;                     /* frames until this pass over the legs ends */
	uint64_t rate_pps;                      /* 0: as fast as the worker takes them */
	uint8_t tmpl[BENCH_HDR_LEN + BENCH_SRTP_MAX_SIZE + 64];     /* + SRTP trailer */
	struct lthread lt;
	volatile int mode;                      /* enum gen_mode, set by the controller */
	/* generator-written, controller-read */
	volatile uint64_t sent, returned, passes;
	/* SRTP cases (gen_main_srtp) */
	const struct bench_srtp_case *sc;       /* NULL: plain relay (gen_main) */
	const uint8_t *stock;                   /* NULL: plain RTP, fresh sequence numbers */
	uint64_t stock_n;                       /* records (UINT64_MAX without a stock) */
	uint32_t stock_rec;
	uint32_t payload_len;                   /* UDP payload sent */
	struct rte_ring *volatile pace;         /* hold while this (new-SSRC) ring fills */
	volatile uint64_t pos;                  /* records sent: the next one's index */
	volatile bool exhausted;
	volatile uint32_t check_left, checked, check_bad;
};

struct run {
	const struct bench_opts *o;
	struct mr_region region;
	struct gen gen;
	struct lthread worker, mgmt;
	bool eal_up;
	char region_path[128], conf_path[128], dev_name[64];
	double region_mib;
	const struct bench_srtp_case *srtp;     /* an SRTP case, or NULL */
	struct relay_result *relay;             /* controller's output */
	struct churn_result *churn;
	int status;
};

/* --- legs and frames ----------------------------------------------------- */

static uint32_t
n_addrs_for(uint32_t slots)
{
	uint32_t n = (slots + PAIRS_PER_ADDR - 1u) / PAIRS_PER_ADDR;

	return n == 0 ? 1 : n;
}

/* Relay address and ports of @slot, and the address its peer sends from. */
static void
leg_addrs(uint32_t slot, struct mr_sockaddr *local, uint16_t *ret_rtcp_be,
	  struct mr_sockaddr *peer)
{
	uint32_t a = slot / PAIRS_PER_ADDR;
	uint16_t p = (uint16_t)(PORT_MIN + 2u * (slot % PAIRS_PER_ADDR));

	memset(local, 0, sizeof(*local));
	local->family = MR_AF_INET;
	local->ip[0] = 198;
	local->ip[1] = 18;
	local->ip[2] = 0;
	local->ip[3] = (uint8_t)(1u + a);
	local->port_be = rte_cpu_to_be_16(p);
	*ret_rtcp_be = rte_cpu_to_be_16((uint16_t)(p + 1u));
	memset(peer, 0, sizeof(*peer));
	peer->family = MR_AF_INET;
	peer->ip[0] = 198;
	peer->ip[1] = 19;
	peer->ip[2] = (uint8_t)(slot >> 13);
	peer->ip[3] = (uint8_t)(1u + ((slot >> 5) & 0xfe));
	peer->port_be = rte_cpu_to_be_16((uint16_t)(20000u + 2u * (slot & 31u)));
}

/* A plain-RTP PSTN leg whose media goes to @egress (plain RTP needs PSTN). */
static void
leg_fill(struct mr_leg_slot *s, uint32_t slot, uint32_t egress)
{
	memset(s, 0, sizeof(*s));
	s->call_tag = 0xbe9c000000000000ull | (slot / 2u);
	s->latch = MR_LATCH_FIRST;
	s->dscp = 46;                           /* EF, voice */
	s->flags = MR_LEG_F_PSTN;
	s->egress_slot = egress;
	leg_addrs(slot, &s->local, &s->local_rtcp_port_be, &s->peer_rtp);
}

/* Legs 2k and 2k+1 of [first, first + n) relay to each other; an odd last one to itself. */
static uint32_t
partner(uint32_t first, uint32_t n, uint32_t slot)
{
	uint32_t i = slot - first;

	return (i ^ 1u) < n ? first + (i ^ 1u) : slot;
}

uint32_t
bench_partner(uint32_t first, uint32_t n, uint32_t slot)
{
	return partner(first, n, slot);
}

/*
 * The keys of an SRTP case's leg. A direction A -> B uses A's inbound key
 * and B's outbound key, so to make every direction of the run the case's
 * mode: pass-through gives B the outbound key A's peer sends with; re-key
 * gives every leg its own outbound key; RTP -> SRTP legs have no inbound key
 * and SRTP -> RTP legs no outbound key (both PSTN, the only legs allowed
 * plain RTP one way).
 */
static void
srtp_leg_fill(struct mr_leg_slot *s, const struct bench_srtp_case *c, uint32_t slot,
	      uint32_t egress)
{
	leg_fill(s, slot, egress);
	s->flags = 0;
	s->latch = MR_LATCH_FIRST_AUTH;
	switch (c->mode) {
	case BENCH_SRTP_PASS:
		bench_srtp_key(c->suite, slot, BENCH_KEY_IN, &s->crypto_in.gen[0]);
		bench_srtp_key(c->suite, egress, BENCH_KEY_IN, &s->crypto_out.gen[0]);
		break;
	case BENCH_SRTP_REKEY:
		bench_srtp_key(c->suite, slot, BENCH_KEY_IN, &s->crypto_in.gen[0]);
		bench_srtp_key(c->suite, slot, BENCH_KEY_OUT, &s->crypto_out.gen[0]);
		break;
	case BENCH_SRTP_RTP2SRTP:
		s->flags = MR_LEG_F_PSTN;
		s->latch = MR_LATCH_FIRST;
		bench_srtp_key(c->suite, slot, BENCH_KEY_OUT, &s->crypto_out.gen[0]);
		break;
	case BENCH_SRTP_SRTP2RTP:
		s->flags = MR_LEG_F_PSTN;
		bench_srtp_key(c->suite, slot, BENCH_KEY_IN, &s->crypto_in.gen[0]);
		break;
	}
}

/* @c: an SRTP case's legs, or NULL for plain PSTN legs. */
static int
write_legs(struct mr_region *r, uint32_t first, uint32_t n, const struct bench_srtp_case *c)
{
	struct mr_leg_slot s;
	uint32_t i;
	int err = 0;

	for (i = first; i < first + n; i++) {
		if (c != NULL)
			srtp_leg_fill(&s, c, i, partner(first, n, i));
		else
			leg_fill(&s, i, partner(first, n, i));
		err = mr_region_leg_write(r, i, &s);
		if (err < 0)
			break;
	}
	explicit_bzero(&s, sizeof(s));
	return err < 0 ? err : 0;
}

static uint32_t
gcd(uint32_t a, uint32_t b)
{
	while (b != 0) {
		uint32_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/* A stride coprime with @n near n/phi: one pass visits every leg, far apart. */
static uint32_t
spread_stride(uint32_t n)
{
	uint32_t s;

	if (n <= 2)
		return 1;
	for (s = (uint32_t)((double)n * 0.6180339887); gcd(s, n) != 1; s++)
		;
	return s;
}

uint32_t
bench_spread_stride(uint32_t n)
{
	return spread_stride(n);
}

/* Headers for a @payload_len-byte UDP payload, and a plain RTP packet of that size. */
static void
frame_template(uint8_t *f, const struct rte_ether_addr *relay_mac, uint32_t payload_len)
{
	static const uint8_t gw_mac[6] = GW_MAC;
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)f;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(f + 14);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(f + 34);
	uint8_t *rtp = f + BENCH_HDR_LEN;

	memset(f, 0, BENCH_HDR_LEN + payload_len);
	rte_ether_addr_copy(relay_mac, &eth->dst_addr);
	memcpy(eth->src_addr.addr_bytes, gw_mac, 6);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = 46u << 2;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(20u + 8u + payload_len));
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 60;
	ip->next_proto_id = IPPROTO_UDP;
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(8u + payload_len));
	/* RTP: version 2, PCMU, then 188 bytes of mu-law silence. */
	rtp[0] = 0x80;
	rtp[1] = 0;
	memset(rtp + 12, 0xff, payload_len - 12u);
}

/*
 * @m as a frame of @len bytes from leg @slot's peer to the leg: the
 * template's first @copy bytes, then the leg's addresses. Returns its start.
 */
static inline uint8_t *
gen_frame(struct gen *g, struct rte_mbuf *m, uint32_t slot, uint32_t len, uint32_t copy)
{
	struct mr_sockaddr local, peer;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *udp;
	uint16_t rtcp;
	uint8_t *f;

	m->data_off = RTE_PKTMBUF_HEADROOM;
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
	m->ol_flags = 0;
	m->port = g->port_id;
	f = rte_pktmbuf_mtod(m, uint8_t *);
	memcpy(f, g->tmpl, copy);
	leg_addrs(slot, &local, &rtcp, &peer);
	ip = (struct rte_ipv4_hdr *)(f + 14);
	udp = (struct rte_udp_hdr *)(f + 34);
	memcpy(&ip->src_addr, peer.ip, 4);
	memcpy(&ip->dst_addr, local.ip, 4);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp->src_port = peer.port_be;
	udp->dst_port = local.port_be;
	return f;
}

/* On to the next leg of the pass, counting the passes. */
static inline void
gen_next_leg(struct gen *g)
{
	g->cursor += g->stride;
	if (g->cursor >= g->n)
		g->cursor -= g->n;
	if (--g->pass_left == 0) {
		g->pass_left = g->n;
		g->passes++;
	}
}

/* Make @m the next leg's incoming frame; @whole also rewrites the payload. */
static inline void
gen_build(struct gen *g, struct rte_mbuf *m, bool whole)
{
	gen_frame(g, m, g->first + g->cursor, BENCH_FRAME_LEN,
		  whole ? BENCH_FRAME_LEN : BENCH_HDR_LEN);
	gen_next_leg(g);
}

/*
 * The worker wrote these mbufs last, on the other CPU: fetch their header
 * and first data line for writing, all at once, before building.
 */
static inline void
gen_prefetch(struct rte_mbuf **pkts, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		__builtin_prefetch(pkts[i], 1, 3);
		__builtin_prefetch((uint8_t *)pkts[i] + sizeof(struct rte_mbuf) +
				   RTE_PKTMBUF_HEADROOM, 1, 3);
	}
}

/* Take up to @want fresh mbufs (the pool holds what is not in flight). */
static unsigned int
gen_alloc(struct gen *g, struct rte_mbuf **pkts, unsigned int want)
{
	unsigned int i;

	if (want == 0)
		return 0;
	if (rte_pktmbuf_alloc_bulk(g->pool, pkts, want) == 0)
		return want;
	for (i = 0; i < want; i++) {
		pkts[i] = rte_pktmbuf_alloc(g->pool);
		if (pkts[i] == NULL)
			break;
	}
	return i;
}

static int
gen_main(void *arg)
{
	struct gen *g = arg;
	struct rte_mbuf *pkts[GEN_BURST];
	uint64_t hz = rte_get_tsc_hz(), t0 = rte_rdtsc();
	unsigned int n, fresh, total, i, k;

	while (g->mode != GEN_STOP) {
		n = rte_ring_sc_dequeue_burst(g->from_dp, (void **)pkts, GEN_BURST, NULL);
		g->returned += n;
		gen_prefetch(pkts, n);
		if (g->mode == GEN_DRAIN) {
			if (n != 0)
				rte_pktmbuf_free_bulk(pkts, n);
			continue;
		}
		fresh = gen_alloc(g, pkts + n, GEN_BURST - n);
		total = n + fresh;
		if (g->rate_pps != 0) {
			uint64_t due = (uint64_t)((double)(rte_rdtsc() - t0) * (double)g->rate_pps /
						  (double)hz);
			uint64_t allowed = due > g->sent ? due - g->sent : 0;

			if (allowed < total) {
				/* Over budget: the surplus waits in the pool. */
				rte_pktmbuf_free_bulk(pkts + allowed, total - (unsigned int)allowed);
				total = (unsigned int)allowed;
				n = total < n ? total : n;
			}
			if (total == 0) {
				/* Ahead of schedule: leave the CPU to management. */
				rte_delay_us_sleep(20);
				continue;
			}
		}
		/* Relayed frames keep their payload; fresh mbufs get a whole frame. */
		for (i = 0; i < n; i++)
			gen_build(g, pkts[i], false);
		for (; i < total; i++)
			gen_build(g, pkts[i], true);
		k = rte_ring_sp_enqueue_burst(g->to_dp, (void **)pkts, total, NULL);
		if (k < total)
			rte_pktmbuf_free_bulk(pkts + k, total - k);
		g->sent += k;
	}
	return 0;
}

/* The next leg's incoming SRTP-case frame: headers, then the stock's next record. */
static inline void
gen_build_srtp(struct gen *g, struct rte_mbuf *m)
{
	uint32_t slot = g->first + g->cursor;
	uint64_t pos = g->pos;
	uint8_t *p;

	p = gen_frame(g, m, slot, BENCH_HDR_LEN + g->payload_len, BENCH_HDR_LEN) + BENCH_HDR_LEN;
	if (g->stock != NULL) {
		memcpy(p, g->stock + pos * g->stock_rec, g->payload_len);
	} else {
		/* RTP -> SRTP: what bench_rtp_packet() makes, from the template. */
		memcpy(p, g->tmpl + BENCH_HDR_LEN, g->payload_len);
		bench_rtp_stamp(p, bench_srtp_ssrc(slot), (uint16_t)(pos / g->n));
	}
	g->pos = pos + 1;
	gen_next_leg(g);
}

/* Relayed frames as the egress leg's peer gets them (after the window only). */
static void
gen_check(struct gen *g, struct rte_mbuf **pkts, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n && g->check_left != 0; i++) {
		const uint8_t *f = rte_pktmbuf_mtod(pkts[i], const uint8_t *);
		const struct rte_udp_hdr *udp = (const struct rte_udp_hdr *)(f + 34);
		uint16_t port = rte_be_to_cpu_16(udp->src_port);
		uint16_t ulen = rte_be_to_cpu_16(udp->dgram_len);
		uint32_t egress = (uint32_t)(f[14 + 15] - 1u) * PAIRS_PER_ADDR +
				  (uint32_t)(port - PORT_MIN) / 2u;

		if (rte_pktmbuf_data_len(pkts[i]) < BENCH_HDR_LEN || ulen < 8u ||
		    BENCH_HDR_LEN + ulen - 8u > rte_pktmbuf_data_len(pkts[i]) ||
		    egress < g->first || egress >= g->first + g->n ||
		    bench_srtp_check(g->sc, egress, partner(g->first, g->n, egress),
				     g->pos / g->n, f + BENCH_HDR_LEN, ulen - 8u) < 0)
			g->check_bad++;
		g->checked++;
		g->check_left--;
	}
}

/*
 * The SRTP cases' loop: like gen_main() unpaced, but every frame is built
 * whole from the stock, nothing is sent once the stock runs out, and while
 * g->pace is set (warm-up) it holds whenever management has PACE_MAX
 * packets of new SSRCs waiting, so the first pass is not dropped wholesale
 * while management makes contexts. Holding (and, during the warm-up, with
 * nothing to do) it sleeps 20 us, leaving the CPU to management; in the
 * window it polls, as gen_main() does: a sleep there can last a time slice
 * of whatever else shares the CPU, longer than the worker's backlog.
 */
static int
gen_main_srtp(void *arg)
{
	struct gen *g = arg;
	struct rte_mbuf *pkts[GEN_BURST];
	unsigned int n, fresh, total, i, k;

	while (g->mode != GEN_STOP) {
		struct rte_ring *pace = g->pace;
		uint64_t left;

		n = rte_ring_sc_dequeue_burst(g->from_dp, (void **)pkts, GEN_BURST, NULL);
		g->returned += n;
		if (n != 0 && g->check_left != 0)
			gen_check(g, pkts, n);
		left = g->stock_n - g->pos;
		if (g->mode == GEN_DRAIN || left == 0 ||
		    (pace != NULL && rte_ring_count(pace) >= PACE_MAX)) {
			if (n != 0)
				rte_pktmbuf_free_bulk(pkts, n);
			if (left == 0)
				g->exhausted = true;
			if (n == 0 || g->mode != GEN_DRAIN)
				rte_delay_us_sleep(20);
			continue;
		}
		gen_prefetch(pkts, n);
		fresh = gen_alloc(g, pkts + n, GEN_BURST - n);
		total = n + fresh;
		if (total == 0) {
			if (pace != NULL)
				rte_delay_us_sleep(20);
			continue;
		}
		if (total > left) {
			rte_pktmbuf_free_bulk(pkts + left, total - (unsigned int)left);
			total = (unsigned int)left;
		}
		for (i = 0; i < total; i++)
			gen_build_srtp(g, pkts[i]);
		k = rte_ring_sp_enqueue_burst(g->to_dp, (void **)pkts, total, NULL);
		if (k < total)
			rte_pktmbuf_free_bulk(pkts + k, total - k);
		g->sent += k;
	}
	return 0;
}

/* --- EAL, ports, dataplane ------------------------------------------------ */

static int
write_config(const struct run *run, uint32_t slots)
{
	uint32_t i, n = n_addrs_for(slots);
	FILE *f = fopen(run->conf_path, "w");

	if (f == NULL)
		return -errno;
	fprintf(f, "# Written by bench_relay for one run, removed after it.\n");
	fprintf(f, "region = \"%s\";\n", run->region_path);
	fprintf(f, "ports = ( {\n\tname = \"bench\";\n\tdevice = \"%s\";\n\taddresses = [",
		run->dev_name);
	for (i = 0; i < n; i++)
		fprintf(f, "%s \"198.18.0.%u/24\"", i ? "," : "", i + 1u);
	fprintf(f, " ];\n\tgateway = \"198.18.0.254\";\n} );\n");
	fprintf(f, "relay = { port_min = %u; port_max = %u; };\n", PORT_MIN, PORT_MAX);
	fprintf(f, "workers = [ %u ];\n", LCORE_WORKER);
	fprintf(f, "idle_backoff_us = 0;\n");
	if (run->srtp != NULL)
		fprintf(f, "srtp_engine = \"%s\";\n", bench_engine_name(run->srtp->engine));
	fprintf(f, "neighbours = ( { ip = \"198.18.0.254\"; mac = \"02:00:00:00:00:fe\"; "
		"port = \"bench\"; } );\n");
	return fclose(f) == 0 ? 0 : -errno;
}

static int
eal_start(const struct bench_opts *o, const char *tag, uint32_t slots)
{
	char lcores[64], mem[32], prefix[96];
	char *argv[16];
	int argc = 0;

	/* Worker alone on its CPU; management, generator and control share the other. */
	snprintf(lcores, sizeof(lcores), "0@%u,%u@%u,%u@%u", o->other_cpu,
		 LCORE_WORKER, o->worker_cpu, LCORE_GEN, o->other_cpu);
	/* Hash table, flows, pools: about 1 KiB per leg on top of 512 MiB. */
	snprintf(mem, sizeof(mem), "%" PRIu64, 512u + (((uint64_t)slots * 1024u) >> 20));
	snprintf(prefix, sizeof(prefix), "--file-prefix=%s", tag);
	argv[argc++] = "bench_relay";
	argc += (int)bench_eal_args(o, argv + argc, mem, prefix, lcores);
	if (!o->verbose) {
		argv[argc++] = "--log-level=*:error";
		argv[argc++] = "--log-level=user.mrelay.*:warning";
	}
	argv[argc] = NULL;
	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "bench: EAL: %s\n", rte_strerror(rte_errno));
		return -rte_errno;
	}
	return 0;
}

/* A net_ring port made of two rings, created before mr_dp_setup() finds it by name. */
static int
ring_port(struct run *run)
{
	struct rte_ring *rx, *tx;
	int port;

	/* rx: generator -> worker; tx: worker -> generator. One producer, one consumer each. */
	rx = rte_ring_create("bench_rx", RING_SIZE, (int)rte_socket_id(),
			     RING_F_SP_ENQ | RING_F_SC_DEQ);
	tx = rte_ring_create("bench_tx", RING_SIZE, (int)rte_socket_id(),
			     RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (rx == NULL || tx == NULL)
		return -ENOMEM;
	port = rte_eth_from_rings("bench", &rx, 1, &tx, 1, rte_socket_id());
	if (port < 0)
		return -ENODEV;
	/* rte_eth_from_rings() names the device "net_ring_" + name. */
	snprintf(run->dev_name, sizeof(run->dev_name), "net_ring_bench");
	run->gen.to_dp = rx;
	run->gen.from_dp = tx;
	run->gen.port_id = (uint16_t)port;
	return 0;
}

static int
record_thread(void *arg)
{
	struct lthread *l = arg;

	l->thread = pthread_self();
	l->tid = gettid();
	return 0;
}

/* Region with @slots slots, the first @legs of them written as paired legs. */
static int
region_prepare(struct run *run, uint32_t slots, uint32_t legs, double *ret_write_s)
{
	struct mr_shm_layout l = { 0 };
	struct statvfs sv;
	uint64_t t0;
	int err;

	/* A region larger than the tmpfs would die of SIGBUS on first touch. */
	if (mr_shm_layout(slots, 1, &l) == 0 && statvfs("/dev/shm", &sv) == 0 &&
	    (uint64_t)sv.f_bavail * sv.f_frsize < l.size) {
		fprintf(stderr, "bench: %u slots need a %" PRIu64 " MiB region; /dev/shm has %"
			PRIu64 " MiB free\n", slots, l.size >> 20,
			((uint64_t)sv.f_bavail * sv.f_frsize) >> 20);
		return -ENOSPC;
	}
	run->region_mib = (double)l.size / (1 << 20);
	err = mr_region_open(&run->region, run->region_path, true, slots, 1);
	if (err == 0)
		err = mr_region_lock(&run->region);
	if (err < 0) {
		fprintf(stderr, "bench: region %s: %s\n", run->region_path, strerror(-err));
		return err;
	}
	t0 = bench_now_ns();
	err = write_legs(&run->region, 0, legs, run->srtp);
	*ret_write_s = (double)(bench_now_ns() - t0) / 1e9;
	if (err < 0)
		fprintf(stderr, "bench: writing legs: %s\n", strerror(-err));
	return err;
}

/*
 * EAL, port, dataplane (whose rescan installs every leg already in the
 * region), generator over legs 0 .. gen_legs-1 at @rate pps (0: unpaced).
 * On success the worker and the generator are running.
 */
static int
dp_start(struct run *run, const char *tag, uint32_t slots, uint32_t gen_legs, uint64_t rate,
	 double *ret_setup_s)
{
	const struct bench_opts *o = run->o;
	struct rte_ether_addr mac;
	char err_text[512];
	uint64_t t0;
	int err;

	err = eal_start(o, tag, slots);
	if (err < 0)
		return err;
	run->eal_up = true;
	err = ring_port(run);
	if (err == 0)
		err = write_config(run, slots);
	if (err < 0)
		return err;
	err = mr_config_load(run->conf_path, &mr_dp.cfg, err_text, sizeof(err_text));
	if (err < 0) {
		fprintf(stderr, "bench: %s\n", err_text);
		return err;
	}
	t0 = bench_now_ns();
	err = mr_dp_setup(&mr_dp, 5);
	*ret_setup_s = (double)(bench_now_ns() - t0) / 1e9;
	if (err < 0)
		return err;

	run->gen.pool = rte_pktmbuf_pool_create("bench_gen", o->inflight, 64, 0,
						RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (run->gen.pool == NULL)
		return -ENOMEM;
	rte_eth_macaddr_get(run->gen.port_id, &mac);
	if (run->gen.sc != NULL) {
		run->gen.pace = mr_dp.new_ssrc;        /* until every leg has its contexts */
		frame_template(run->gen.tmpl, &mac, run->gen.payload_len);
		bench_rtp_packet(run->gen.tmpl + BENCH_HDR_LEN, run->gen.sc->size, 0, 0);
	} else {
		frame_template(run->gen.tmpl, &mac, BENCH_PAYLOAD_LEN);
	}
	run->gen.n = gen_legs;
	run->gen.pass_left = gen_legs;
	run->gen.stride = spread_stride(gen_legs);
	run->gen.rate_pps = rate;

	/* Each lcore's thread, for its CPU clock (EAL lcore threads persist). */
	run->mgmt.thread = pthread_self();
	run->mgmt.tid = gettid();
	if (rte_eal_remote_launch(record_thread, &run->worker, LCORE_WORKER) < 0 ||
	    rte_eal_remote_launch(record_thread, &run->gen.lt, LCORE_GEN) < 0)
		return -EBUSY;
	rte_eal_mp_wait_lcore();
	err = mr_dp_launch_workers(&mr_dp);
	if (err < 0)
		return err;
	if (rte_eal_remote_launch(run->gen.sc != NULL ? gen_main_srtp : gen_main, &run->gen,
				  LCORE_GEN) < 0)
		return -EBUSY;
	return 0;
}

/* --- measurement ---------------------------------------------------------- */

struct snap {
	uint64_t t_ns;
	struct cpu_sample worker, mgmt, gen;
	struct mr_worker_stats w, m;
	uint64_t sent, returned;
	uint32_t cmd_tail, resync_req;
};

static void
thread_sample(const struct lthread *l, struct cpu_sample *ret)
{
	struct cpu_sample ss;
	clockid_t clk;

	memset(ret, 0, sizeof(*ret));
	/* The thread's CLOCK_THREAD_CPUTIME: exact, where schedstat may be a tick stale. */
	if (pthread_getcpuclockid(l->thread, &clk) == 0)
		ret->cpu_ns = bench_clock_ns(clk);
	if (bench_schedstat(getpid(), l->tid, &ss) == 0) {
		ret->wait_ns = ss.wait_ns;
		if (ret->cpu_ns == 0)
			ret->cpu_ns = ss.cpu_ns;
	}
}

static void
take_snap(struct run *run, struct snap *s)
{
	const struct mr_shm_header *h = mr_dp.shm;

	s->t_ns = bench_now_ns();
	thread_sample(&run->worker, &s->worker);
	thread_sample(&run->mgmt, &s->mgmt);
	thread_sample(&run->gen.lt, &s->gen);
	memcpy(&s->w, mr_shm_wstats(h, 0), sizeof(s->w));
	memcpy(&s->m, mr_shm_wstats(h, h->max_workers), sizeof(s->m));
	s->sent = run->gen.sent;
	s->returned = run->gen.returned;
	s->cmd_tail = __atomic_load_n(&mr_shm_cmd_ring(h)->tail, __ATOMIC_ACQUIRE);
	s->resync_req = __atomic_load_n(&h->resync_req, __ATOMIC_ACQUIRE);
}

/* Drops since @base (all reasons), and the most frequent reason. */
static uint64_t
drops_since(const struct mr_worker_stats *w, const struct mr_worker_stats *base,
	    uint32_t *ret_top)
{
	uint64_t sum = 0, top = 0;
	unsigned int r;

	for (r = 0; r < MR_DROP_MAX; r++) {
		uint64_t d = w->drops[r] - base->drops[r];

		sum += d;
		if (d > top) {
			top = d;
			*ret_top = r;
		}
	}
	return sum;
}

static double
secs(uint64_t a_ns, uint64_t b_ns)
{
	return (double)(b_ns - a_ns) / 1e9;
}

/*
 * Until management runs and the generator has sent to every leg twice (so
 * every leg has latched). Returns the time it took, or -1 if management
 * never came up.
 */
static double
warm_up(struct run *run)
{
	uint64_t t0 = bench_now_ns();

	while (__atomic_load_n(&mr_dp.shm->dp_state, __ATOMIC_ACQUIRE) != MR_DP_RUNNING) {
		if (mr_dp.quit || secs(t0, bench_now_ns()) > 30.0) {
			fprintf(stderr, "bench: the management loop did not start\n");
			return -1;
		}
		bench_sleep_s(0.001);
	}
	while (run->gen.passes < 2 || secs(t0, bench_now_ns()) < run->o->warmup_s) {
		if (secs(t0, bench_now_ns()) > 120.0) {
			fprintf(stderr, "bench: warm-up cut at 120 s (%" PRIu64 " passes)\n",
				(uint64_t)run->gen.passes);
			break;
		}
		bench_sleep_s(0.01);
	}
	return secs(t0, bench_now_ns());
}

static void
stop_all(struct run *run)
{
	run->gen.mode = GEN_STOP;
	mr_dp.quit = true;
}

/*
 * What an empty poll costs the worker: the generator stops, the worker
 * drains its ring and then only polls. The window's empty polls times this
 * is the CPU time it spent waiting for the generator (which shares its CPU
 * with management and whatever else runs there), not relaying.
 */
static void
idle_calibrate(struct run *run, struct relay_result *res)
{
	struct snap a, b;

	run->gen.mode = GEN_DRAIN;
	bench_sleep_s(0.05);
	take_snap(run, &a);
	bench_sleep_s(0.2);
	take_snap(run, &b);
	if (b.w.idle_loops > a.w.idle_loops)
		res->idle_poll_ns = (double)(b.worker.cpu_ns - a.worker.cpu_ns) /
				    (double)(b.w.idle_loops - a.w.idle_loops);
}

/* The worker's figures over the window from @a to @b: what plain and SRTP runs both report. */
static void
window_result(struct relay_result *res, const struct snap *a, const struct snap *b)
{
	res->wall_s = secs(a->t_ns, b->t_ns);
	res->cpu_s = secs(a->worker.cpu_ns, b->worker.cpu_ns);
	res->wait_s = secs(a->worker.wait_ns, b->worker.wait_ns);
	res->gen_cpu_s = secs(a->gen.cpu_ns, b->gen.cpu_ns);
	res->rx = b->w.rx_pkts - a->w.rx_pkts;
	res->tx = b->w.tx_pkts - a->w.tx_pkts;
	res->loops = b->w.loops - a->w.loops;
	res->idle_loops = b->w.idle_loops - a->w.idle_loops;
	res->drops = drops_since(&b->w, &a->w, &res->top_drop);
	res->latched = b->w.latched - a->w.latched;
	res->notes_dropped = b->w.events_dropped - a->w.events_dropped;
	res->handoff = b->w.handoff_out - a->w.handoff_out;
}

static void *
relay_controller(void *arg)
{
	struct run *run = arg;
	struct relay_result *res = run->relay;
	struct snap a, b;

	res->warmup_s = warm_up(run);
	if (res->warmup_s < 0) {
		run->status = -ETIMEDOUT;
		stop_all(run);
		return NULL;
	}
	res->gen_passes = run->gen.passes;
	take_snap(run, &a);
	bench_sleep_s(run->o->seconds);
	take_snap(run, &b);
	window_result(res, &a, &b);
	idle_calibrate(run, res);
	stop_all(run);
	return NULL;
}

/* --- SRTP cases ------------------------------------------------------------ */

/* Legs of [0, n) that have accepted a packet: their contexts exist and they latched. */
static uint32_t
legs_ready(uint32_t n)
{
	uint32_t i, ready = 0;

	for (i = 0; i < n; i++)
		ready += mr_shm_counters(mr_dp.shm, 0, i)->rx_pkts != 0;
	return ready;
}

static bool
dp_running(void)
{
	uint64_t t0 = bench_now_ns();

	while (__atomic_load_n(&mr_dp.shm->dp_state, __ATOMIC_ACQUIRE) != MR_DP_RUNNING) {
		if (mr_dp.quit || secs(t0, bench_now_ns()) > 30.0) {
			fprintf(stderr, "bench: the management loop did not start\n");
			return false;
		}
		bench_sleep_s(0.001);
	}
	return true;
}

/*
 * Warm-up of an SRTP case: the first packet of each leg's SSRC goes to the
 * management lcore, which makes the leg's contexts (libsrtp allocates) and
 * hands it back. Paced (the generator holds while management has a backlog)
 * until every leg has accepted a packet, then --srtp-warmup more seconds,
 * and until the new-SSRC and hand-back rings are empty.
 */
static int
srtp_warm_up(struct run *run, struct relay_result *res)
{
	const struct bench_opts *o = run->o;
	uint32_t n = run->srtp->legs, ready = 0;
	uint64_t t0 = bench_now_ns(), t;
	double next_note = 10.0;

	if (!dp_running())
		return -ETIMEDOUT;
	for (;;) {
		ready = legs_ready(n);
		if (ready == n)
			break;
		t = bench_now_ns();
		if (secs(t0, t) > SRTP_CTX_TIMEOUT_S) {
			fprintf(stderr, "bench: only %u of %u legs accepted a packet in %.0f s\n",
				ready, n, SRTP_CTX_TIMEOUT_S);
			return -ETIMEDOUT;
		}
		if (run->gen.exhausted) {
			fprintf(stderr, "bench: the stock ran out during the warm-up (%u of %u legs "
				"ready); try a larger --srtp-stock-mib\n", ready, n);
			return -ENOBUFS;
		}
		if (secs(t0, t) > next_note) {
			printf("       ... %u of %u legs have their SRTP contexts after %.0f s\n",
			       ready, n, secs(t0, t));
			next_note += 10.0;
		}
		bench_sleep_s(n > 100000 ? 0.05 : 0.005);
	}
	res->ctx_s = secs(t0, bench_now_ns());
	run->gen.pace = NULL;
	bench_sleep_s(o->srtp_warmup_s);
	while (rte_ring_count(mr_dp.new_ssrc) != 0 || rte_ring_count(mr_dp.workers[0].reinject) != 0)
		bench_sleep_s(0.001);
	res->warmup_s = secs(t0, bench_now_ns());
	return 0;
}

static void *
srtp_controller(void *arg)
{
	struct run *run = arg;
	const struct bench_opts *o = run->o;
	struct relay_result *res = run->relay;
	struct gen *g = &run->gen;
	/* Records still to come once the window ends: what circulates, and the check. */
	uint64_t reserve = BENCH_STOCK_RESERVE(o->inflight);
	uint64_t deadline, t0;
	struct snap w0, a, b;
	uint32_t top = 0;
	unsigned int r;
	int err;

	memcpy(&w0.w, mr_shm_wstats(mr_dp.shm, 0), sizeof(w0.w));
	err = srtp_warm_up(run, res);
	if (err < 0) {
		run->status = err;
		stop_all(run);
		return NULL;
	}
	res->gen_passes = g->passes;
	take_snap(run, &a);
	res->warm_drops = drops_since(&a.w, &w0.w, &top);
	deadline = a.t_ns + (uint64_t)(o->srtp_seconds * 1e9);
	while (bench_now_ns() < deadline) {
		if (g->stock != NULL && g->pos + reserve >= g->stock_n) {
			res->window_cut = true;
			break;
		}
		bench_sleep_s(0.001);
	}
	take_snap(run, &b);
	window_result(res, &a, &b);
	for (r = 0; r < MR_DROP_MAX; r++) {
		res->drop_by[r] = b.w.drops[r] - a.w.drops[r];
		res->mgmt_drops += b.m.drops[r] - a.m.drops[r];
	}

	/* What the egress legs' peers would get: a few relayed packets, verified. */
	g->check_left = BENCH_SRTP_CHECKS;
	t0 = bench_now_ns();
	while (g->check_left != 0 && secs(t0, bench_now_ns()) < 5.0)
		bench_sleep_s(0.001);
	res->checked = g->checked;
	res->check_bad = g->check_bad;
	g->check_left = 0;
	res->stock_used = g->pos;
	res->stock_n = g->stock != NULL ? g->stock_n : 0;

	/* The worker may still hold a backlog (slow cases): drain it before timing empty polls. */
	g->mode = GEN_DRAIN;
	t0 = bench_now_ns();
	while (rte_ring_count(g->to_dp) != 0 && secs(t0, bench_now_ns()) < 60.0)
		bench_sleep_s(0.005);
	idle_calibrate(run, res);
	stop_all(run);
	return NULL;
}

/* --- the install benchmark's control side ---------------------------------- */

#define CHURN_SLOTS BENCH_CHURN_SLOTS
#define CHURN_LIVE 4096u
#define CHURN_BACKLOG 1024u             /* commands queued at most: << 2 x CHURN_LIVE */

struct churn {
	struct run *run;
	uint32_t base, slots, live;     /* churn slots base .. base+slots-1, live at a time */
	uint64_t added, deleted;        /* FIFO: live legs are added-deleted, oldest first */
	uint64_t reuse_cursor;
};

static void
ring_wait_below(const struct mr_shm_header *h, uint32_t count)
{
	while (mr_ring_count(mr_shm_cmd_ring(h)) > count)
		bench_sleep_s(0.0001);
}

static void
ring_wait_empty(const struct mr_shm_header *h)
{
	while (mr_ring_count(mr_shm_cmd_ring(h)) != 0)
		bench_sleep_s(0.0001);
}

static uint32_t
churn_slot(const struct churn *c, uint64_t n)
{
	return c->base + (uint32_t)(n % c->slots);
}

static int
churn_add(struct churn *c, uint32_t slot, struct churn_phase *p)
{
	struct mr_leg_slot s;
	int err;

	leg_fill(&s, slot, c->base + ((slot - c->base) ^ 1u));
	err = mr_region_leg_write(&c->run->region, slot, &s);
	if (err == 0)
		p->writes++;
	return err;
}

static int
churn_del(struct churn *c, uint32_t slot, struct churn_phase *p)
{
	int err = mr_region_leg_delete(&c->run->region, slot);

	if (err == 0)
		p->deletes++;
	return err;
}

/* One table update: "fresh" adds or deletes in FIFO order; "reuse" re-creates a live leg. */
static int
churn_step(struct churn *c, bool reuse, struct churn_phase *p)
{
	uint64_t live = c->added - c->deleted;
	uint32_t slot;
	int err;

	if (reuse) {
		/* Delete, and take the same slot for a new leg at once. */
		slot = churn_slot(c, c->deleted + c->reuse_cursor++ % live);
		err = churn_del(c, slot, p);
		return err == 0 ? churn_add(c, slot, p) : err;
	}
	if (live < c->live)
		return churn_add(c, churn_slot(c, c->added++), p);
	return churn_del(c, churn_slot(c, c->deleted++), p);
}

/*
 * One phase, from the first write until management consumed the last
 * command. "fresh slots": FIFO over the churn slots, so a slot comes back
 * only after (slots - live) other installs; "reused slots": delete a leg and
 * create the next one in the same slot at once, as a control plane that
 * takes the lowest free slot does.
 */
static int
churn_phase(struct churn *c, bool reuse, struct churn_phase *p)
{
	struct run *run = c->run;
	const struct mr_shm_header *h = mr_dp.shm;
	uint64_t deadline;
	struct snap a, b;
	uint32_t top = 0;
	unsigned int i;
	int err = 0;

	snprintf(p->name, sizeof(p->name), reuse ? "reused slots" : "fresh slots");
	ring_wait_empty(h);
	take_snap(run, &a);
	deadline = a.t_ns + (uint64_t)(run->o->seconds * 1e9);
	while (err == 0 && bench_now_ns() < deadline) {
		/*
		 * As fast as management takes them, with a bounded backlog: the
		 * ring must never overflow (that is a full rescan), and a leg
		 * must not be deleted before its SET was applied, else the SET
		 * finds a free slot and installs nothing.
		 */
		ring_wait_below(h, CHURN_BACKLOG / 2u);
		for (i = 0; i < CHURN_BACKLOG / 4u && err == 0; i++)
			err = churn_step(c, reuse, p);
	}
	ring_wait_empty(h);
	/* Popped is not yet applied: the last batch finishes within a loop. */
	bench_sleep_s(0.002);
	take_snap(run, &b);
	p->wall_s = secs(a.t_ns, b.t_ns);
	p->mgmt_cpu_s = secs(a.mgmt.cpu_ns, b.mgmt.cpu_ns);
	p->mgmt_wait_s = secs(a.mgmt.wait_ns, b.mgmt.wait_ns);
	p->installs = b.m.cmds_applied - a.m.cmds_applied;
	p->cmds = b.cmd_tail - a.cmd_tail;
	p->fwd = b.w.tx_pkts - a.w.tx_pkts;
	p->drops = drops_since(&b.w, &a.w, &top);
	p->resyncs = b.resync_req - a.resync_req;
	if (err < 0)
		fprintf(stderr, "bench: churn: %s\n", strerror(-err));
	return err;
}

static void *
churn_controller(void *arg)
{
	struct run *run = arg;
	struct churn_result *res = run->churn;
	struct churn c = {
		.run = run,
		.base = res->stable_legs + (res->stable_legs & 1u),
		.slots = res->churn_slots,
		.live = res->churn_live,
	};
	struct mr_worker_stats w0;
	struct churn_phase tail;
	uint64_t i;
	int err;

	if (warm_up(run) < 0) {
		run->status = -ETIMEDOUT;
		stop_all(run);
		return NULL;
	}
	memcpy(&w0, mr_shm_wstats(mr_dp.shm, 0), sizeof(w0));
	err = churn_phase(&c, false, &res->phase[0]);
	if (err == 0)
		err = churn_phase(&c, true, &res->phase[1]);
	/* Remove what is left, then let every packet in flight come back. */
	memset(&tail, 0, sizeof(tail));
	for (i = c.deleted; err == 0 && i < c.added; i++) {
		ring_wait_below(mr_dp.shm, CHURN_BACKLOG);
		err = churn_del(&c, churn_slot(&c, i), &tail);
	}
	ring_wait_empty(mr_dp.shm);
	run->gen.mode = GEN_DRAIN;
	bench_sleep_s(0.3);
	res->sent = run->gen.sent;
	res->returned = run->gen.returned;
	res->drops = drops_since(mr_shm_wstats(mr_dp.shm, 0), &w0, &res->top_drop);
	run->status = err;
	stop_all(run);
	return NULL;
}

/* --- entry points ---------------------------------------------------------- */

/* Management on this (the main) lcore until @controller says stop. */
static int
run_dataplane(struct run *run, void *(*controller)(void *))
{
	pthread_t ctl;
	int err;

	err = pthread_create(&ctl, NULL, controller, run);
	if (err != 0)
		return -err;
	err = mr_mgmt_loop(&mr_dp);
	pthread_join(ctl, NULL);
	return err;
}

static void
finish(struct run *run)
{
	if (run->eal_up) {
		stop_all(run);
		mr_dp_teardown(&mr_dp);
	}
	mr_region_close(&run->region);
	if (run->eal_up)
		rte_eal_cleanup();
}

static int
run_init(struct run *run, const struct bench_opts *o, const char *tag, uint32_t slots)
{
	memset(run, 0, sizeof(*run));
	run->o = o;
	run->region.lock_fd = -1;
	snprintf(run->region_path, sizeof(run->region_path), "/dev/shm/%s", tag);
	snprintf(run->conf_path, sizeof(run->conf_path), "/dev/shm/%s.conf", tag);
	if (slots == 0 || slots > MAX_LEGS) {
		fprintf(stderr, "bench: %u slots: 1..%u fit %u relay addresses\n", slots,
			MAX_LEGS, MAX_ADDRS);
		return -EINVAL;
	}
	return 0;
}

int
bench_relay_run(const struct bench_opts *o, uint32_t legs, const char *tag,
		struct relay_result *ret)
{
	static struct run run;
	int err;

	memset(ret, 0, sizeof(*ret));
	ret->legs = legs;
	err = run_init(&run, o, tag, legs);
	if (err < 0)
		return err;
	run.relay = ret;
	err = region_prepare(&run, legs, legs, &ret->write_s);
	ret->region_mib = run.region_mib;
	if (err == 0)
		err = dp_start(&run, tag, legs, legs, 0, &ret->setup_s);
	if (err == 0) {
		struct rte_malloc_socket_stats ms;

		if (rte_malloc_get_socket_stats((int)rte_socket_id(), &ms) == 0)
			ret->heap_mib = (double)ms.heap_allocsz_bytes / (1 << 20);
	}
	if (err == 0)
		err = run_dataplane(&run, relay_controller);
	finish(&run);
	return err < 0 ? err : run.status;
}

struct inproc_ref {
	const struct bench_srtp_case *c;
	struct relay_result *res;
	int status;
};

static int
inproc_ref_main(void *arg)
{
	struct inproc_ref *a = arg;

	a->status = bench_srtp_ref_measure(a->c->suite, a->c->size, 20000000ull, 5,
					   &a->res->lib_protect_ns, &a->res->lib_unprotect_ns,
					   &a->res->lib_calls);
	return 0;
}

/*
 * libsrtp alone again, now in this process with every context the relay
 * made still alive (the worker has stopped; its lcore, on the worker's CPU,
 * runs it): how much of a packet's cost at this many legs is libsrtp's.
 */
static void
inproc_reference(const struct bench_srtp_case *c, struct relay_result *res)
{
	struct inproc_ref a = { .c = c, .res = res };

	rte_eal_mp_wait_lcore();
	if (rte_eal_remote_launch(inproc_ref_main, &a, LCORE_WORKER) < 0)
		return;
	rte_eal_wait_lcore(LCORE_WORKER);
	if (a.status != 0)
		res->lib_protect_ns = res->lib_unprotect_ns = 0;
}

/*
 * Like finish(), without freeing the flows: each holds libsrtp contexts, and
 * freeing tens of thousands of NSS-backed contexts takes minutes (the cost
 * of each grows with the number alive). The process exits right after.
 */
static void
finish_srtp(struct run *run)
{
	if (run->eal_up) {
		stop_all(run);
		rte_eal_mp_wait_lcore();
		if (mr_dp.n_ports)
			mr_port_stop_all(&mr_dp);
		mr_shm_dp_detach(&mr_dp);
	}
	mr_region_close(&run->region);
	if (run->eal_up)
		rte_eal_cleanup();
}

int
bench_srtp_run(const struct bench_opts *o, const struct bench_srtp_case *c,
	       const struct bench_stock *stock, const char *tag, struct relay_result *ret)
{
	static struct run run;
	int err;

	memset(ret, 0, sizeof(*ret));
	ret->legs = c->legs;
	err = run_init(&run, o, tag, c->legs);
	if (err < 0)
		return err;
	run.relay = ret;
	run.srtp = c;
	run.gen.sc = c;
	run.gen.stock = stock != NULL ? stock->data : NULL;
	run.gen.stock_n = stock != NULL ? stock->n : UINT64_MAX;
	run.gen.stock_rec = stock != NULL ? stock->rec : 0;
	run.gen.payload_len = stock != NULL ? stock->len : c->size;
	err = region_prepare(&run, c->legs, c->legs, &ret->write_s);
	ret->region_mib = run.region_mib;
	if (err == 0)
		err = dp_start(&run, tag, c->legs, c->legs, 0, &ret->setup_s);
	if (err == 0) {
		struct rte_malloc_socket_stats ms;

		if (rte_malloc_get_socket_stats((int)rte_socket_id(), &ms) == 0)
			ret->heap_mib = (double)ms.heap_allocsz_bytes / (1 << 20);
	}
	if (err == 0)
		err = run_dataplane(&run, srtp_controller);
	if (err == 0 && run.status == 0 && c->legs >= BENCH_SRTP_INPROC_LEGS)
		inproc_reference(c, ret);
	finish_srtp(&run);
	return err < 0 ? err : run.status;
}

int
bench_churn_run(const struct bench_opts *o, const char *tag, struct churn_result *ret)
{
	static struct run run;
	uint32_t stable = o->churn_legs, slots;
	int err;

	memset(ret, 0, sizeof(*ret));
	ret->stable_legs = stable;
	ret->churn_slots = CHURN_SLOTS;
	ret->churn_live = CHURN_LIVE;
	ret->pps = o->churn_pps != 0 ? o->churn_pps : 50u * stable;
	slots = stable + (stable & 1u) + CHURN_SLOTS;
	err = run_init(&run, o, tag, slots);
	if (err < 0)
		return err;
	run.churn = ret;
	err = region_prepare(&run, slots, stable, &(double){ 0 });
	if (err == 0)
		err = dp_start(&run, tag, slots, stable, ret->pps, &(double){ 0 });
	if (err == 0)
		err = run_dataplane(&run, churn_controller);
	finish(&run);
	return err < 0 ? err : run.status;
}
