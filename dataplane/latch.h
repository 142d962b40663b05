/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_DP_LATCH_H
#define MR_DP_LATCH_H

/*
 * Source latching (symmetric RTP, firewall traversal). The signaled peer
 * address is a hint; the first acceptable packet latches the real public
 * source and replies go there. After that, only the latched source is
 * accepted, except as the policy allows (docs/life-of-a-packet.md):
 *  - MR_LATCH_FIRST (plain RTP, nothing to authenticate): another source may
 *    take over only within window_ms of the leg's creation, or after the
 *    latched source has been silent for relatch_idle_ms.
 *  - MR_LATCH_FIRST_AUTH: only an authenticated packet latches. Moving the
 *    latch takes auth_packets authenticated packets in a row from one new
 *    source with rising indices, while the latched source has been silent
 *    for auth_quiet_ms: one lucky or replayed packet moves nothing, and a
 *    source that is still talking is never displaced.
 *  - MR_LATCH_STRICT: only the signaled address is ever accepted.
 * Pure function: the owner lcore calls it and records the outcome.
 */
#include <stdbool.h>
#include <stdint.h>

#include <mrelay/leg.h>

enum mr_latch_verdict {
	MR_LATCH_ACCEPT = 0,    /* from the latched source */
	MR_LATCH_LATCH,         /* accept, and latch (or re-latch) onto src */
	MR_LATCH_REJECT,        /* drop: src-not-latched */
};

/* A source trying to take over an authenticated leg (owner worker's state). */
struct mr_latch_cand {
	struct mr_sockaddr src;
	uint32_t count;                 /* authenticated packets in a row */
	uint32_t last;                  /* index of the last of them */
};

struct mr_latch_in {
	uint8_t policy;                 /* enum mr_latch_policy */
	bool latched;
	bool authenticated;             /* packet passed SRTP/STUN authentication */
	uint32_t window_ms;
	uint32_t relatch_idle_ms;
	uint64_t created_ms;
	uint64_t last_rx_ms;            /* last accepted packet, 0 = none */
	uint64_t now_ms;
	const struct mr_sockaddr *hint;     /* signaled address (may be unset) */
	const struct mr_sockaddr *current;  /* latched source (if latched) */
	const struct mr_sockaddr *src;      /* this packet's source */
	uint32_t index;                 /* authenticated: RTP sequence number or SRTCP index */
	bool index16;                   /* index is a 16-bit RTP sequence number */
	uint32_t auth_packets;          /* MR_LATCH_FIRST_AUTH: packets to move the latch */
	uint32_t auth_quiet_ms;         /* ... after this much silence of the latched source */
};

/* @cand is updated for MR_LATCH_FIRST_AUTH (may be NULL for other policies). */
enum mr_latch_verdict mr_latch_check(const struct mr_latch_in *in, struct mr_latch_cand *cand);

#endif /* MR_DP_LATCH_H */
