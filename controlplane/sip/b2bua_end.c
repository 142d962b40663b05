/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * How calls end, and their timers:
 *  - sip_call_end(): whatever the state, the caller gets a final response
 *    if it has none yet, the callee a CANCEL (pending INVITE) or a BYE, and
 *    the side that ended it (a BYE received, a flow lost) nothing more;
 *    then NG delete, whose statistics go into the one CDR row of the call.
 *  - session timers (RFC 4028) per leg: where we are the refresher, an
 *    UPDATE (or, if the peer does not allow it, a re-INVITE with the SDP
 *    it last got) at half the interval; where the peer is, a missing
 *    refresh ends the call at the interval ("session-timer").
 *  - Timer G/H for our 2xx to a caller on UDP.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sip_int.h"

static void
free_call(struct mr_sip *s, struct sip_call *c)
{
	int i;

	if (c->recovered)
		s->n_recovered--;
	sip_hnode_del(&c->all);
	for (i = 0; i < 2; i++) {
		sip_hnode_del(&c->by_callid[i]);
		sip_hnode_del(&c->by_flow[i]);
		sip_hnode_del(&c->by_account[i]);
	}
	sip_ctxns_forget_call(s, c);
	sip_stxn_clear(&c->inv);
	sip_stxn_clear(&c->re);
	for (i = 0; i < 2; i++)
		free(c->leg[i].last_sdp);
	free(c->b_ack);
	free(c);
}

void
sip_call_forget(struct mr_sip *s, struct sip_call *c)
{
	c->persisted = false;   /* the file stays */
	s->k.calls_active--;
	free_call(s, c);
}

static int64_t
wall(const struct sip_call *c, uint64_t ms)
{
	return c->start_wall_s + (int64_t)((ms - c->start_ms) / 1000);
}

void
sip_call_end(struct mr_sip *s, struct sip_call *c, const char *reason, int code, int skip,
	     uint64_t now_ms)
{
	struct mr_cdr_row *row = &c->cdr;
	struct sip_ctxn *t;
	int i;

	sip_call_rebase(c, now_ms);
	if (now_ms < c->start_ms)
		now_ms = c->start_ms;
	if (code == 0)
		code = 480;
	if (c->state == CALL_EARLY) {
		if (!c->inv_final && skip != 0) {
			sip_stxn_respond(s, c, &c->inv, &c->leg[0], code, NULL, NULL, 0, now_ms);
			c->inv_final = true;
		}
		if (row->sip_status == 0)
			row->sip_status = (uint16_t)code;
		if (skip != 1) {
			if (c->b_inv != NULL && !c->b_inv->done)
				sip_ctxn_cancel(s, c->b_inv, now_ms);
			if (c->leg[1].confirmed) {
				if (c->b_ack != NULL)
					sip_send(s, c->leg[1].flow, c->b_ack, c->b_ack_len);
				sip_ctxn_send(s, c, 1, TXN_BYE, "BYE", NULL, NULL, NULL, 0, now_ms);
			}
		}
	} else {
		/* A re-offer in progress: its sender is BYEd anyway, unless it is
		 * the side that ended the call. */
		for (i = 0; i < 2; i++) {
			if (i == skip)
				continue;
			if (i == 1 && !c->a_acked && c->b_ack != NULL)
				sip_send(s, c->leg[1].flow, c->b_ack, c->b_ack_len);
			t = sip_ctxn_send(s, c, i, TXN_BYE, "BYE", NULL, NULL, NULL, 0, now_ms);
			(void)t;
		}
	}
	if (c->media)
		sip_media_delete(s, c, now_ms);
	row->start_s = c->start_wall_s;
	row->answer_s = c->answer_ms != 0 ? wall(c, c->answer_ms) : 0;
	row->end_s = wall(c, now_ms);
	row->duration_s = c->answer_ms != 0 ? (uint32_t)((now_ms - c->answer_ms) / 1000) : 0;
	snprintf(row->end_reason, sizeof(row->end_reason), "%s", reason);
	if (mr_cdr_write(s->cdr, row) < 0)
		s->k.cdr_failures++;
	sip_dialog_delete(s, c);
	if (c->answer_ms == 0)
		s->k.calls_failed++;
	s->k.calls_active--;
	free_call(s, c);
}

static void
refresh(struct mr_sip *s, struct sip_call *c, int i, uint64_t now_ms)
{
	struct sip_leg *l = &c->leg[i];
	char sess[256];
	bool update = l->allow_update || l->last_sdp == NULL;

	sip_session_headers(s, l, false, sess, sizeof(sess));
	l->refreshing = true;
	if (sip_ctxn_send(s, c, i, TXN_REFRESH, update ? "UPDATE" : "INVITE", NULL, sess,
			  update ? NULL : l->last_sdp,
			  update || l->last_sdp == NULL ? 0 : strlen(l->last_sdp), now_ms) == NULL)
		l->refreshing = false;
}

/* One call's timers; true if it ended (and is freed). */
static bool
call_tick(struct mr_sip *s, struct sip_call *c, uint64_t now_ms)
{
	struct sip_stxn *g = &c->inv;
	int i;

	sip_call_rebase(c, now_ms);
	if (sip_call_media_gone(s, c, now_ms)) {
		/* recovered, a party never came back, and the media idled out */
		sip_call_end(s, c, "media-ended", 0, -1, now_ms);
		return true;
	}
	if (g->final != NULL && !c->a_acked) {
		if (now_ms >= g->deadline_ms) {
			s->k.txn_timeouts++;
			sip_call_end(s, c, "flow-lost", 0, -1, now_ms);
			return true;
		}
		if (now_ms >= g->next_ms) {
			s->k.retransmits_out++;
			sip_send(s, c->leg[0].flow, g->final, g->final_len);
			g->interval_ms = g->interval_ms * 2 > SIP_T2_MS ? SIP_T2_MS : g->interval_ms * 2;
			g->next_ms = now_ms + g->interval_ms;
		}
	}
	if (c->state != CALL_CONFIRMED)
		return false;
	for (i = 0; i < 2; i++) {
		struct sip_leg *l = &c->leg[i];
		uint64_t iv = (uint64_t)l->se_s * 1000;

		if (l->se_s == 0)
			continue;
		if (now_ms >= l->se_last_ms + iv) {
			/* missed refresh (theirs) or no answer to ours */
			s->k.session_timer_expired++;
			sip_call_end(s, c, "session-timer", 0, -1, now_ms);
			return true;
		}
		if (l->we_refresh && !l->refreshing && !c->re.active &&
		    now_ms >= l->se_last_ms + iv / 2)
			refresh(s, c, i, now_ms);
	}
	return false;
}

void
sip_calls_tick(struct mr_sip *s, uint64_t now_ms)
{
	struct sip_hnode *n, *n_;

	for (n = s->calls; n != NULL; n = n_) {
		n_ = n->next;
		if (call_tick(s, n->obj, now_ms))
			n_ = s->calls;          /* list changed; ended calls are gone */
	}
}

unsigned int
sip_calls_flow_lost(struct mr_sip *s, mr_flow_id id, uint64_t now_ms)
{
	struct sip_hnode **head = &s->call_by_flow[sip_hash_fold(sip_hash_u64(SIP_HASH_INIT, id),
								 SIP_CALL_BUCKETS)];
	struct sip_hnode *n;
	struct sip_call *c;
	unsigned int k = 0;
	int i;

	if (id == 0)
		return 0;       /* no leg is indexed without a flow */
	/* Newest first, as the whole list was walked once: ending a call can
	 * unlink the next link (its other leg), so start again at the head,
	 * past the other flows' calls only. */
	for (;;) {
		for (n = *head; n != NULL; n = n->next) {
			c = n->obj;
			if (c->leg[0].flow == id || c->leg[1].flow == id)
				break;
		}
		if (n == NULL)
			return k;
		i = c->leg[0].flow == id ? 0 : 1;
		if (c->leg[i].flow_guessed) {
			/* a recovered leg's guess: unbound again, the call goes on */
			c->leg[i].flow = 0;
			c->leg[i].flow_guessed = false;
			sip_call_index(s, c);
			continue;
		}
		/* nothing more goes to the lost side */
		c->leg[i].flow = 0;
		sip_call_end(s, c, "flow-lost", 480, i, now_ms);
		k++;
	}
}

unsigned int
sip_calls_revoke(struct mr_sip *s, const char *name, uint64_t now_ms)
{
	struct sip_hnode **head =
		&s->call_by_account[sip_hash_fold(sip_hash_str(SIP_HASH_INIT, name),
						  SIP_CALL_BUCKETS)];
	struct sip_hnode *n;
	struct sip_call *c;
	unsigned int k = 0;

	/* The caller's and the callee's links are both on this chain when
	 * either is @name; newest first, as in sip_calls_flow_lost(). */
	for (;;) {
		for (n = *head; n != NULL; n = n->next) {
			c = n->obj;
			if (strcmp(c->cdr.caller, name) == 0 || strcmp(c->cdr.callee, name) == 0)
				break;
		}
		if (n == NULL)
			return k;
		sip_call_end(s, c, "revoked", 480, -1, now_ms);
		k++;
	}
}
