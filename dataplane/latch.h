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
 *  - MR_LATCH_FIRST_AUTH: only an authenticated packet latches or moves the
 *    latch (the SRTP stage decides "authenticated").
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
};

enum mr_latch_verdict mr_latch_check(const struct mr_latch_in *in);

#endif /* MR_DP_LATCH_H */
