/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Latch policy. Every decision that moves where media goes is made here, so
 * the rules against RTP-bleed style hijacking can be read (and tested) in
 * one place: a source that is not the latched one is refused unless the
 * leg is young, the latched source has gone quiet, or the packet proved
 * it holds the leg's keys.
 */
#include "latch.h"

static bool
addr_set(const struct mr_sockaddr *a)
{
	return a != NULL && a->family != MR_AF_NONE && a->port_be != 0;
}

static bool
rising(const struct mr_latch_in *in, uint32_t last)
{
	if (in->index16)
		return (int16_t)(uint16_t)(in->index - last) > 0;
	return (int32_t)(in->index - last) > 0;
}

/* Authenticated leg, packet from a source other than the latched one. */
static enum mr_latch_verdict
auth_takeover(const struct mr_latch_in *in, struct mr_latch_cand *cand)
{
	if (cand == NULL || in->now_ms - in->last_rx_ms < in->auth_quiet_ms) {
		if (cand != NULL)
			cand->count = 0;
		return MR_LATCH_REJECT;
	}
	if (cand->count != 0 && mr_sockaddr_eq(&cand->src, in->src) && rising(in, cand->last)) {
		cand->count++;
	} else {
		cand->src = *in->src;
		cand->count = 1;
	}
	cand->last = in->index;
	if (cand->count < (in->auth_packets ? in->auth_packets : 1u))
		return MR_LATCH_REJECT;
	cand->count = 0;
	return MR_LATCH_LATCH;
}

enum mr_latch_verdict
mr_latch_check(const struct mr_latch_in *in, struct mr_latch_cand *cand)
{
	bool young, quiet;

	switch (in->policy) {
	case MR_LATCH_STRICT:
		/* The operator vouched for the signaled address: nothing else. */
		if (!addr_set(in->hint) || !mr_sockaddr_eq(in->hint, in->src))
			return MR_LATCH_REJECT;
		return in->latched && mr_sockaddr_eq(in->current, in->src) ?
		       MR_LATCH_ACCEPT : MR_LATCH_LATCH;
	case MR_LATCH_FIRST_AUTH:
		/* Unauthenticated packets can neither latch nor pass. */
		if (!in->authenticated)
			return MR_LATCH_REJECT;
		if (!in->latched)
			return MR_LATCH_LATCH;
		if (mr_sockaddr_eq(in->current, in->src))
			return MR_LATCH_ACCEPT;
		return auth_takeover(in, cand);
	case MR_LATCH_FIRST:
		if (!in->latched)
			return MR_LATCH_LATCH;
		if (mr_sockaddr_eq(in->current, in->src))
			return MR_LATCH_ACCEPT;
		/*
		 * Plain RTP has nothing to authenticate, so a new source is
		 * believed only while the call is being set up (the first
		 * packet may come from a port the NAT later changes) or once
		 * the latched source has gone silent (NAT rebinding).
		 */
		young = in->now_ms - in->created_ms < in->window_ms;
		quiet = in->last_rx_ms == 0 ||
			in->now_ms - in->last_rx_ms >= in->relatch_idle_ms;
		return young || quiet ? MR_LATCH_LATCH : MR_LATCH_REJECT;
	default:
		return MR_LATCH_REJECT;
	}
}
