/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Counters: per leg per worker, and per worker by drop reason.
 *
 * Every counter has exactly one writer, the lcore whose row it is, so
 * writers use plain stores and never share a cache line. Readers (the
 * control side, mrelayctl) sum the rows; a value may be one update stale.
 */
#ifndef MRELAY_COUNTERS_H
#define MRELAY_COUNTERS_H

#include <stdint.h>

/**
 * Why the dataplane dropped a packet. The order is ABI: append only, and
 * bump MR_SHM_ABI_VERSION if a reason is ever removed.
 */
#define MR_DROP_REASONS(X)                                  \
	X(MALFORMED,       "malformed")                     \
	X(BAD_CKSUM,       "bad-checksum")                  \
	X(FRAGMENT,        "fragment")                      \
	X(IP_OPTIONS,      "ip-options")                    \
	X(MULTI_SEG,       "multi-segment")                 \
	X(UNSUPPORTED,     "unsupported-protocol")          \
	X(NOT_LOCAL,       "not-local")                     \
	X(NO_LEG,          "no-leg")                        \
	X(SRC_NOT_LATCHED, "src-not-latched")               \
	X(MUTED,           "muted")                         \
	X(NO_EGRESS,       "no-egress")                     \
	X(NO_DEST,         "no-destination")                \
	X(NO_NEXTHOP_MAC,  "no-nexthop-mac")                \
	X(NO_HEADROOM,     "no-headroom")                   \
	X(TX_FULL,         "tx-full")                       \
	X(HANDOFF_FULL,    "handoff-full")                  \
	X(PUNT_FULL,       "punt-full")                     \
	X(EXCEPTION_FULL,  "exception-full")                \
	X(STATE_TORN,      "state-torn")                    \
	X(SRTP_AUTH,       "srtp-auth")                     \
	X(SRTP_REPLAY,     "srtp-replay")                   \
	X(NO_TAILROOM,     "no-tailroom")                   \
	X(STUN_AUTH,       "stun-auth")                     \
	X(SSRC_LIMIT,      "ssrc-limit")                    \
	X(NOT_RTP,         "not-rtp")

enum mr_drop_reason {
#define MR_X_ENUM(name, str) MR_DROP_##name,
	MR_DROP_REASONS(MR_X_ENUM)
#undef MR_X_ENUM
	MR_DROP_MAX
};

#define MR_DROP_SLOTS 64u
_Static_assert(MR_DROP_MAX <= MR_DROP_SLOTS, "too many drop reasons");

/** Name of a drop reason, for tables and JSON. */
static inline const char *
mr_drop_name(unsigned int r)
{
	static const char *const names[] = {
#define MR_X_NAME(name, str) str,
		MR_DROP_REASONS(MR_X_NAME)
#undef MR_X_NAME
	};
	return r < MR_DROP_MAX ? names[r] : "unknown";
}

/** One worker's counters for one leg (one cache line). */
struct mr_leg_counters {
	uint64_t rx_pkts;       /**< accepted from this leg's peer */
	uint64_t rx_bytes;      /**< UDP payload bytes */
	uint64_t tx_pkts;       /**< sent to this leg's peer */
	uint64_t tx_bytes;
	uint64_t drop_src;      /**< from a source that is not the latched one */
	uint64_t drop_auth;     /**< failed authentication or replay check */
	uint64_t drop_other;    /**< any other reason, attributable to this leg */
	uint64_t last_rx_ms;    /**< CLOCK_MONOTONIC ms of the last accepted packet */
};
_Static_assert(sizeof(struct mr_leg_counters) == 64, "leg counters ABI");

/** One lcore's totals. Row max_workers of the array is the management lcore. */
struct mr_worker_stats {
	uint64_t rx_pkts;
	uint64_t tx_pkts;
	uint64_t punted;        /**< handed to the management lcore */
	uint64_t exception;     /**< handed to the kernel exception path */
	uint64_t handoff_out;   /**< handed to the owner worker */
	uint64_t handoff_in;    /**< received from another worker */
	uint64_t latched;       /**< latch or re-latch decisions */
	uint64_t loops;
	uint64_t idle_loops;
	uint64_t torn_slots;    /**< slot reads that gave up (seqlock.h) */
	uint64_t arp_replies;
	uint64_t icmp_replies;
	uint64_t nd_replies;
	uint64_t events_dropped;/**< event ring full */
	uint64_t cmds_applied;
	uint64_t alloc_failures;/**< mgmt: leg updates not installed for want of
	                             memory (flow entry or SRTP contexts); the leg
	                             keeps its previous flow, if any */
	uint64_t srtp_ctx_burst;        /**< SRTP contexts made on the burst engine */
	uint64_t srtp_ctx_libsrtp;      /**< ... on libsrtp (configured, or a suite the
	                                     burst engine lacks) */
	uint64_t stun_replies;  /**< mgmt: ICE checks answered (Binding success) */
	uint64_t stun_nominations;      /**< mgmt: ... of them with USE-CANDIDATE */
	uint64_t reserved[12];
	uint64_t drops[MR_DROP_SLOTS];
};
_Static_assert(sizeof(struct mr_worker_stats) == 768, "worker stats ABI");

#endif /* MRELAY_COUNTERS_H */
