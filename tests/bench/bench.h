/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_BENCH_H
#define MR_BENCH_H

/*
 * bench_relay: mrelay-dp's plain-relay throughput and table-update rate on
 * net_ring, beside dpdk-testpmd on the same kind of device in the same run,
 * and its SRTP throughput beside libsrtp alone. It prints figures and never
 * asserts (STYLE.md section 8).
 *
 * The parent process never starts an EAL, nor libsrtp: each measurement runs
 * in a child (fork) with its own EAL, region and file prefix, and sends back
 * one of the result structs below through a pipe; dpdk-testpmd runs as a
 * subprocess. The SRTP cases' pre-protected input is built by a child into a
 * shared mapping the relay children read.
 */
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <mrelay/counters.h>
#include <mrelay/leg.h>

#define BENCH_MAX_LEG_COUNTS 8u
#define BENCH_MAX_LEGS 2064384u                 /* 64 relay addresses x 32,256 port pairs */
#define BENCH_CHURN_SLOTS 16384u                /* the install benchmark's extra slots */
#define BENCH_PAYLOAD_LEN 200u                  /* UDP payload: RTP header + 188 bytes */
#define BENCH_HDR_LEN (14u + 20u + 8u)          /* Ethernet + IPv4 + UDP */
#define BENCH_FRAME_LEN (BENCH_HDR_LEN + BENCH_PAYLOAD_LEN)

/* SRTP cases */
#define BENCH_SRTP_MAX_SIZES 4u
#define BENCH_SRTP_MAX_LEG_COUNTS 4u
#define BENCH_SRTP_MIN_SIZE 12u                 /* an RTP header */
#define BENCH_SRTP_MAX_SIZE 1400u               /* RTP packet before protection */
#define BENCH_SRTP_MAX_LEGS 1000000u
#define BENCH_RING_SIZE 4096u                   /* the net_ring port's two rings */
#define BENCH_SRTP_CHECKS 32u                   /* relayed packets verified after a window */
#define BENCH_SRTP_INPROC_LEGS 100u             /* from this many legs, libsrtp in-process too */
/*
 * Above this many legs the libsrtp engine is not run: Debian's libsrtp on
 * NSS makes each context slower the more exist (minutes for 10,000, tens
 * of minutes for 100,000); its cost per packet is known from fewer legs.
 */
#define BENCH_SRTP_LIBSRTP_MAX_LEGS 10000u
/* Stock records still sent after an SRTP window ends: what circulates, and the check. */
#define BENCH_STOCK_RESERVE(inflight) ((uint64_t)(inflight) + 2u * BENCH_RING_SIZE + 4096u)

/* What the relay does to each packet of an SRTP case (every direction of the run alike). */
enum bench_srtp_mode {
	BENCH_SRTP_PASS = 0,    /* egress leg's out key == ingress leg's in key: verify, forward as is */
	BENCH_SRTP_REKEY,       /* unprotect, protect again with the egress leg's out key */
	BENCH_SRTP_RTP2SRTP,    /* ingress leg without in key (PSTN): protect only */
	BENCH_SRTP_SRTP2RTP,    /* egress leg without out key (PSTN): unprotect only */
	BENCH_SRTP_MODES
};

struct bench_srtp_case {
	uint8_t mode;           /* enum bench_srtp_mode */
	uint8_t engine;         /* enum mr_cfg_srtp_engine: LIBSRTP or IPSEC_MB */
	uint8_t suite;          /* enum mr_srtp_suite */
	uint32_t size;          /* RTP packet (header + payload) before protection, bytes */
	uint32_t legs;
};

/*
 * Pre-protected SRTP packets in the order the generator sends them (record
 * i: leg (i * stride) mod legs, sequence number i / legs), built by a child
 * of the parent into a shared mapping the relay children only read.
 */
struct bench_stock {
	uint8_t *data;          /* MAP_SHARED, n records of rec bytes */
	size_t map_len;
	uint32_t rec;           /* record stride */
	uint32_t len;           /* SRTP packet length (size + tag) */
	uint64_t n;             /* records built */
};

/* bench_opts.mem */
#define BENCH_MEM_AUTO 0                /* hugepages if enough are free, else 4 KiB pages */
#define BENCH_MEM_HUGE 1                /* EAL --in-memory (hugepages) */
#define BENCH_MEM_NOHUGE 2              /* EAL --no-huge -m N */

struct bench_opts {
	uint32_t legs[BENCH_MAX_LEG_COUNTS];    /* plain-relay runs, one per count */
	unsigned int n_legs;
	double seconds;                 /* measurement window */
	double warmup_s;                /* at least this, and until every leg was sent to twice */
	unsigned int worker_cpu;        /* the worker (and testpmd's forwarding lcore) */
	unsigned int other_cpu;         /* management, generator, control thread, testpmd main */
	int mem;                        /* BENCH_MEM_*: EAL memory, decided once before the runs */
	const char *testpmd;            /* path, or NULL: no reference */
	uint32_t churn_legs;            /* stable legs of the install benchmark; 0 = skip it */
	uint32_t churn_pps;             /* their packet rate; 0 = 50 pps per leg */
	uint32_t inflight;              /* mbufs circulating between generator and worker */
	unsigned int repeat;            /* runs per row; the median is reported */
	bool verbose;                   /* show EAL and dataplane logs */
	/* SRTP cases: every mode x suite x size x leg count */
	uint8_t srtp_modes[BENCH_SRTP_MODES];
	unsigned int n_srtp_modes;      /* 0: no SRTP cases */
	uint8_t srtp_suites[MR_SUITE_MAX];
	unsigned int n_srtp_suites;
	uint32_t srtp_sizes[BENCH_SRTP_MAX_SIZES];
	unsigned int n_srtp_sizes;
	uint32_t srtp_legs[BENCH_SRTP_MAX_LEG_COUNTS];
	unsigned int n_srtp_legs;
	uint32_t srtp_scale_legs;       /* one more row per suite at this many legs (0: none) */
	uint8_t srtp_scale_mode;        /* its mode; first size; run once */
	double srtp_seconds;            /* measurement window of an SRTP case */
	double srtp_warmup_s;           /* after every leg has its SRTP contexts */
	uint32_t srtp_stock_mib;        /* memory for pre-protected packets, per case */
	uint8_t srtp_engines[2];        /* enum mr_cfg_srtp_engine, each case on each */
	unsigned int n_srtp_engines;
};

/* "ipsec-mb" or "libsrtp" (config.c's names). */
const char *bench_engine_name(uint8_t engine);

/* One thread's scheduler accounting, nanoseconds. */
struct cpu_sample {
	uint64_t cpu_ns;                /* on CPU */
	uint64_t wait_ns;               /* runnable, waiting for a CPU (0 if unknown) */
};

struct relay_result {
	int status;                     /* 0, or -errno: the run failed */
	uint32_t legs;
	double write_s;                 /* control side: writing every slot of the region */
	double setup_s;                 /* mr_dp_setup(): ports + the rescan that installs them */
	double warmup_s;
	double wall_s;                  /* measurement window */
	double cpu_s;                   /* worker thread CPU time in the window */
	double wait_s;                  /* worker runnable but not running (other load on its CPU) */
	double gen_cpu_s;               /* generator thread CPU time in the window */
	uint64_t rx, tx, loops, idle_loops, drops;
	double idle_poll_ns;            /* worker CPU per empty poll, measured after the window */
	uint64_t latched, notes_dropped, handoff; /* worker, in the window (expected 0) */
	uint32_t top_drop;              /* most frequent drop reason, if drops */
	uint64_t gen_passes;            /* complete passes over the legs before the window */
	double region_mib;              /* the shared-memory region (1 worker row) */
	double heap_mib;                /* DPDK heap in use after start-up: tables, flows, pools */
	/* SRTP cases only */
	uint64_t drop_by[MR_DROP_MAX];  /* worker drops in the window, by reason */
	uint64_t mgmt_drops;            /* management lcore drops in the window (new-SSRC path) */
	uint64_t warm_drops;            /* worker drops during the warm-up (contexts being made) */
	double ctx_s;                   /* from start until every leg had its contexts */
	uint64_t stock_used, stock_n;   /* pre-protected packets sent / built */
	bool window_cut;                /* the stock ran out before --srtp-seconds */
	uint32_t checked, check_bad;    /* relayed packets verified after the window */
	/* libsrtp alone in this process after the window, the relay's contexts still alive */
	double lib_protect_ns, lib_unprotect_ns;
	uint64_t lib_calls;
};

/* Raw libsrtp, no dataplane: CPU ns per call, one context each way, on the worker CPU. */
#define BENCH_LIMIT_OPS 3u      /* protect, unprotect, verify: raw_crypto.h's BENCH_RAW_N */

struct srtp_ref {
	int status;
	double protect_ns[MR_SUITE_MAX][BENCH_SRTP_MAX_SIZES];
	double unprotect_ns[MR_SUITE_MAX][BENCH_SRTP_MAX_SIZES];
	uint64_t calls[MR_SUITE_MAX][BENCH_SRTP_MAX_SIZES];    /* each way */
	/*
	 * The crypto limit (raw_crypto.h): intel-ipsec-mb alone, the same
	 * calls as the burst engine, CPU ns per op; 0: not measured.
	 */
	double limit_ns[MR_SUITE_MAX][BENCH_SRTP_MAX_SIZES][BENCH_LIMIT_OPS];
	char version[48];
};

struct stock_result {
	int status;
	uint64_t n;                     /* records built */
	double build_s;
};

struct churn_phase {
	char name[32];
	double wall_s;                  /* from the first write until the ring is drained */
	double mgmt_cpu_s, mgmt_wait_s; /* management lcore thread */
	uint64_t writes, deletes;       /* issued by the control thread */
	uint64_t installs;              /* LEG_SET applied (cmds_applied) */
	uint64_t cmds;                  /* commands consumed from the ring */
	uint64_t fwd;                   /* packets the worker relayed meanwhile */
	uint64_t drops;                 /* worker drops meanwhile (any reason) */
	uint64_t resyncs;               /* command ring overflows (should be 0) */
};

#define BENCH_CHURN_PHASES 2u

struct churn_result {
	int status;
	uint32_t stable_legs, churn_slots, churn_live;
	uint32_t pps;                   /* generator rate over the stable legs */
	struct churn_phase phase[BENCH_CHURN_PHASES];
	uint64_t sent, returned;        /* generator totals, after draining */
	uint64_t drops;                 /* worker drops over the whole run */
	uint32_t top_drop;
};

struct tp_result {
	int status;
	double wall_s, cpu_s, wait_s;
	uint64_t pkts;                  /* forwarded (port RX) in the window */
};

/* main.c */
extern volatile pid_t bench_child;      /* the running child, signalled on SIGINT/SIGTERM */
int bench_schedstat(pid_t pid, pid_t tid, struct cpu_sample *ret);
unsigned int bench_eal_args(const struct bench_opts *o, char **argv, char *mib, char *prefix_arg,
			    char *lcores);

/* relay.c: run in a forked child; @tag names its EAL prefix, region and config. */
int bench_relay_run(const struct bench_opts *o, uint32_t legs, const char *tag,
		    struct relay_result *ret);
int bench_churn_run(const struct bench_opts *o, const char *tag, struct churn_result *ret);

/* relay.c: an SRTP case; @stock is NULL for RTP -> SRTP (plain input). */
int bench_srtp_run(const struct bench_opts *o, const struct bench_srtp_case *c,
		   const struct bench_stock *stock, const char *tag, struct relay_result *ret);
uint32_t bench_spread_stride(uint32_t n);
uint32_t bench_partner(uint32_t first, uint32_t n, uint32_t slot);

/* srtp_peer.c: the peers' side of the SRTP cases, on libsrtp directly (children only). */
enum bench_key_use { BENCH_KEY_IN = 0, BENCH_KEY_OUT = 1 };
void bench_srtp_key(uint8_t suite, uint32_t slot, enum bench_key_use use, struct mr_key_gen *k);
uint32_t bench_srtp_ssrc(uint32_t slot);
void bench_rtp_packet(uint8_t *p, uint32_t size, uint32_t ssrc, uint16_t seq);

/*
 * The per-packet part of bench_rtp_packet()'s header: sequence number,
 * timestamp (160 a packet) and SSRC. Inline: the generator stamps every
 * plain packet it sends with it.
 */
static inline void
bench_rtp_stamp(uint8_t *p, uint32_t ssrc, uint16_t seq)
{
	uint32_t ts = (uint32_t)seq * 160u;

	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	p[4] = (uint8_t)(ts >> 24);
	p[5] = (uint8_t)(ts >> 16);
	p[6] = (uint8_t)(ts >> 8);
	p[7] = (uint8_t)ts;
	p[8] = (uint8_t)(ssrc >> 24);
	p[9] = (uint8_t)(ssrc >> 16);
	p[10] = (uint8_t)(ssrc >> 8);
	p[11] = (uint8_t)ssrc;
}

uint32_t bench_srtp_tag_len(uint8_t suite);
int bench_srtp_reference(const struct bench_opts *o, struct srtp_ref *ret);
int bench_srtp_ref_measure(uint8_t suite, uint32_t size, uint64_t round_ns, unsigned int rounds,
			   double *ret_protect, double *ret_unprotect, uint64_t *ret_calls);
int bench_stock_build(const struct bench_opts *o, const struct bench_srtp_case *c,
		      struct bench_stock *st, struct stock_result *ret);
int bench_srtp_check(const struct bench_srtp_case *c, uint32_t egress_slot, uint32_t ingress_slot,
		     uint64_t index_hint, const uint8_t *pkt, uint32_t len);
const char *bench_srtp_mode_name(uint8_t mode);

/* testpmd.c: dpdk-testpmd as a subprocess, forward mode @mode ("io", "macswap"). */
int bench_testpmd_run(const struct bench_opts *o, const char *mode, const char *tag,
		      struct tp_result *ret);

#endif /* MR_BENCH_H */
