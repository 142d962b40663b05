/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_BENCH_H
#define MR_BENCH_H

/*
 * bench_relay: mrelay-dp's plain-relay throughput and table-update rate on
 * net_ring, beside dpdk-testpmd on the same kind of device in the same run.
 * It prints figures and never asserts (STYLE.md section 8).
 *
 * The parent process never starts an EAL: each measurement runs in a child
 * (fork) with its own EAL, region and file prefix, and sends back one of the
 * result structs below through a pipe; dpdk-testpmd runs as a subprocess.
 */
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define BENCH_MAX_LEG_COUNTS 8u
#define BENCH_MAX_LEGS 2064384u                 /* 64 relay addresses x 32,256 port pairs */
#define BENCH_CHURN_SLOTS 16384u                /* the install benchmark's extra slots */
#define BENCH_PAYLOAD_LEN 200u                  /* UDP payload: RTP header + 188 bytes */
#define BENCH_HDR_LEN (14u + 20u + 8u)          /* Ethernet + IPv4 + UDP */
#define BENCH_FRAME_LEN (BENCH_HDR_LEN + BENCH_PAYLOAD_LEN)

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
};

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
uint64_t bench_now_ns(void);
void bench_sleep_s(double s);
int bench_schedstat(pid_t pid, pid_t tid, struct cpu_sample *ret);

/* relay.c: run in a forked child; @tag names its EAL prefix, region and config. */
int bench_relay_run(const struct bench_opts *o, uint32_t legs, const char *tag,
		    struct relay_result *ret);
int bench_churn_run(const struct bench_opts *o, const char *tag, struct churn_result *ret);

/* testpmd.c: dpdk-testpmd as a subprocess, forward mode @mode ("io", "macswap"). */
int bench_testpmd_run(const struct bench_opts *o, const char *mode, const char *tag,
		      struct tp_result *ret);

#endif /* MR_BENCH_H */
