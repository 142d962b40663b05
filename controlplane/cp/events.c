/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Dataplane events and liveness, as mrelay-cp sees them.
 *
 * Events come from mrelay-dp's management lcore over the event ring
 * (ring.h); this process is their only consumer. Each is logged with the
 * call it concerns and handed to the session manager, which ends a call
 * whose media stopped. The dataplane's heartbeat is only watched and
 * logged: whether it runs or not, calls stay as they are, and a restarted
 * dataplane rebuilds its flows from the slots by itself.
 */
#include <inttypes.h>
#include <stdio.h>

#include "cp.h"
#include "log.h"

/* Events handled per loop turn: a burst cannot starve the admin socket. */
#define EVENTS_PER_TURN 4096u

void
mr_cp_call_ended(const struct mr_call *c, enum mr_end_reason why, void *ctx)
{
	struct mr_call_info ci;
	uint64_t now = mr_now_ms();

	(void)ctx;
	mr_session_call_info(c, &ci);
	mr_log(why == MR_END_DELETED ? LOG_INFO : LOG_NOTICE, MR_LOG_SESSION, ci.call_id,
	       "call ended: %s (tag %" PRIu64 ", %u legs, %" PRIu64 " s old)",
	       mr_end_reason_name(why), ci.tag, ci.n_legs,
	       now > ci.created_ms ? (now - ci.created_ms) / 1000u : 0);
}

static void
log_event(const struct mr_event *ev, const struct mr_call *c)
{
	struct mr_call_info ci;
	char addr[MR_LOG_ADDR_LEN];
	const char *id;

	if (c == NULL)
		return;
	mr_session_call_info(c, &ci);
	id = ci.call_id;
	switch (ev->type) {
	case MR_EV_LATCHED:
		mr_log(LOG_INFO, MR_LOG_REGION, id, "slot %" PRIu32 " latched %s to %s",
		       ev->slot, ev->comp == MR_COMP_RTCP ? "RTCP" : "RTP",
		       mr_log_addr(&ev->addr, addr, sizeof(addr)));
		break;
	case MR_EV_IDLE:
		mr_log(LOG_INFO, MR_LOG_REGION, id, "slot %" PRIu32 " idle for %" PRIu64 " ms",
		       ev->slot, ev->value);
		break;
	case MR_EV_AUTH_FAIL:
		mr_log(LOG_NOTICE, MR_LOG_REGION, id,
		       "slot %" PRIu32 ": %" PRIu64 " packets failed SRTP authentication",
		       ev->slot, ev->value);
		break;
	case MR_EV_SSRC:
		mr_log(LOG_INFO, MR_LOG_REGION, id, "slot %" PRIu32 ": new SSRC 0x%08" PRIx64,
		       ev->slot, ev->value);
		break;
	case MR_EV_STUN:
		mr_log(LOG_DEBUG, MR_LOG_REGION, id, "slot %" PRIu32 ": STUN check from %s",
		       ev->slot, mr_log_addr(&ev->addr, addr, sizeof(addr)));
		break;
	case MR_EV_SLOT_TORN:
		mr_log(LOG_WARNING, MR_LOG_REGION, id, "slot %" PRIu32 " read torn by the dataplane",
		       ev->slot);
		break;
	default:
		break;
	}
}

void
mr_cp_events_drain(struct mr_cp *cp, uint64_t now_ms)
{
	struct mr_ring *ring = mr_shm_event_ring(cp->region.hdr);
	struct mr_event ev;
	unsigned int n;

	for (n = 0; n < EVENTS_PER_TURN && mr_ring_pop(ring, &ev) == 0; n++) {
		const struct mr_call *c = NULL;
		int r;

		cp->events++;
		switch (ev.type) {
		case MR_EV_DP_START:
			mr_log(LOG_NOTICE, MR_LOG_REGION, NULL,
			       "dataplane pid %" PRIu64 " started; it rebuilds its flows from the region",
			       ev.value);
			continue;
		case MR_EV_SYNC:
			continue;       /* someone's mrelayctl sync, answered late */
		default:
			break;
		}
		r = mr_session_event(cp->sess, &ev, now_ms, mr_cp_call_ended, cp, &c);
		if (r == 0)
			log_event(&ev, c);
		else
			mr_log(LOG_DEBUG, MR_LOG_REGION, NULL,
			       "event type %u for slot %" PRIu32 " (uid %" PRIu64 ") of no live call",
			       (unsigned int)ev.type, ev.slot, ev.leg_uid);
	}
}

void
mr_cp_dp_watch(struct mr_cp *cp, uint64_t now_ms)
{
	const struct mr_shm_header *h = cp->region.hdr;
	bool alive = mr_region_dp_alive(&cp->region, MR_CP_DP_MAX_AGE_MS);
	uint32_t pid = __atomic_load_n(&h->dp_pid, __ATOMIC_ACQUIRE);
	uint64_t hb = __atomic_load_n(&h->dp_heartbeat_ms, __ATOMIC_ACQUIRE);

	if (alive == cp->dp_alive && (!alive || pid == cp->dp_pid))
		return;
	if (alive)
		mr_log(LOG_NOTICE, MR_LOG_REGION, NULL, "dataplane pid %" PRIu32 " is running", pid);
	else if (hb == 0)
		mr_log(LOG_WARNING, MR_LOG_REGION, NULL,
		       "no dataplane on the region yet; calls are kept and set up as usual");
	else
		mr_log(LOG_WARNING, MR_LOG_REGION, NULL,
		       "dataplane pid %" PRIu32 " stopped: heartbeat %" PRIu64 " ms old; calls "
		       "are kept, and a restarted dataplane resumes them", pid,
		       now_ms > hb ? now_ms - hb : 0);
	cp->dp_alive = alive;
	cp->dp_pid = pid;
}
