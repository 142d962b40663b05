/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The B2BUA, responses side: what the callee side answers to the requests
 * we sent (txn.c matches them by Via branch, method and CSeq).
 *  - the call's INVITE: 18x and 2xx with SDP go through NG answer and on to
 *    the caller (without 100rel: a reliable 18x from the callee is PRACKed
 *    here, RFC 3262); the 2xx's ACK waits for the caller's (end to end);
 *    failures are ACKed hop by hop and mapped for the caller;
 *  - a re-INVITE/UPDATE carrying an offer: its answer through NG back to
 *    the leg that offered;
 *  - our session refreshes (RFC 4028) and BYE, CANCEL, PRACK: absorbed.
 * A 2xx for a call that already ended (it crossed our CANCEL) is ACKed and
 * BYEd so the callee is not left in a call.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip_header.h>

#include "sip_int.h"

/* What the caller hears for the callee side's failure. */
static int
map_failure(int code)
{
	if (code < 400)
		return 480;     /* no recursion on redirects */
	if (code == 401 || code == 407)
		return 403;     /* the far side's challenge is not the caller's */
	if (code == 503)
		return 500;     /* RFC 3261 16.7: 503 is not passed on */
	return code;
}

static void
send_free(struct mr_sip *s, mr_flow_id flow, char *text, size_t len)
{
	if (text != NULL)
		sip_send(s, flow, text, len);
	free(text);
}

/* A 2xx nobody wants: ACK it, then BYE that dialog. */
static void
orphan_2xx(struct mr_sip *s, struct sip_ctxn *t, const struct sipmsg *m, uint64_t now_ms)
{
	struct sip_call tmp;
	struct sip_leg *l = &tmp.leg[0];
	char *ack;
	size_t len = 0;

	ack = sip_ack_2xx_build(s, t, m, &len);
	send_free(s, t->flow, ack, len);
	if (m->sip->sip_to->a_tag == NULL || m->sip->sip_contact == NULL)
		return;
	memset(&tmp, 0, sizeof(tmp));
	l->flow = t->flow;
	l->proto = t->udp ? MR_SIP_UDP : MR_SIP_TLS;
	l->trunk = -1;
	l->local_cseq = t->cseq;
	snprintf(l->call_id, sizeof(l->call_id), "%s", m->sip->sip_call_id->i_id);
	if (m->sip->sip_from->a_tag != NULL)
		snprintf(l->local_tag, sizeof(l->local_tag), "%s", m->sip->sip_from->a_tag);
	snprintf(l->remote_tag, sizeof(l->remote_tag), "%s", m->sip->sip_to->a_tag);
	sip_addr_str(m->sip->sip_from, l->local_uri, sizeof(l->local_uri));
	sip_addr_str(m->sip->sip_to, l->remote_uri, sizeof(l->remote_uri));
	sip_url_str(m->sip->sip_contact->m_url, l->target, sizeof(l->target));
	{
		struct sip_ctxn *bye = sip_ctxn_send(s, &tmp, 0, TXN_BYE, "BYE", NULL, NULL, NULL,
						     0, now_ms);

		if (bye != NULL)
			sip_ctxn_detach(bye);
	}
}

/* The callee's dialog state from a response that creates it. */
static bool
learn_dialog(struct sip_leg *l, const struct sipmsg *m)
{
	const char *tag = m->sip->sip_to->a_tag;

	if (tag == NULL || strlen(tag) >= sizeof(l->remote_tag))
		return false;
	if (l->remote_tag[0] == '\0')
		snprintf(l->remote_tag, sizeof(l->remote_tag), "%s", tag);
	else if (strcmp(l->remote_tag, tag) != 0)
		return false;           /* another fork: only the first is followed */
	if (m->sip->sip_contact != NULL)
		sip_url_str(m->sip->sip_contact->m_url, l->target, sizeof(l->target));
	l->allow_update = sipmsg_list_has((const msg_list_t *)m->sip->sip_allow, "UPDATE");
	return true;
}

static void
b_provisional(struct mr_sip *s, struct sip_call *c, const struct sipmsg *m, uint64_t now_ms)
{
	struct sip_leg *b = &c->leg[1];
	const char *body;
	char *sdp = NULL, extra[128];
	size_t blen;
	int r;

	if (c->state != CALL_EARLY || c->inv_final || !learn_dialog(b, m))
		return;
	if (sipmsg_list_has(m->sip->sip_require, "100rel") && m->sip->sip_rseq != NULL &&
	    m->sip->sip_rseq->rs_response > c->b_rseq) {
		c->b_rseq = (uint32_t)m->sip->sip_rseq->rs_response;
		snprintf(extra, sizeof(extra), "RAck: %u %u INVITE\r\n", c->b_rseq,
			 m->sip->sip_cseq->cs_seq);
		sip_ctxn_send(s, c, 1, TXN_PRACK, "PRACK", NULL, extra, NULL, 0, now_ms);
	}
	body = sipmsg_body(m, &blen);
	if (sipmsg_has_sdp(m)) {
		r = sip_media_answer(s, c, 1, body, blen, &sdp, now_ms);
		if (r < 0) {
			sip_call_end(s, c, "rejected", 488, -1, now_ms);
			return;
		}
	}
	sip_stxn_respond(s, c, &c->inv, &c->leg[0], m->status, NULL, sdp,
			 sdp != NULL ? strlen(sdp) : 0, now_ms);
	free(sdp);
}

static void
b_2xx(struct mr_sip *s, struct sip_call *c, struct sip_ctxn *t, const struct sipmsg *m,
      uint64_t now_ms)
{
	struct sip_leg *a = &c->leg[0], *b = &c->leg[1];
	const sip_session_expires_t *se = m->sip->sip_session_expires;
	char extra[512], sess[256], *sdp = NULL;
	const char *body;
	size_t blen;
	int r;

	if (c->state != CALL_EARLY || c->inv_final || !learn_dialog(b, m)) {
		orphan_2xx(s, t, m, now_ms);
		return;
	}
	c->b_ack = sip_ack_2xx_build(s, t, m, &c->b_ack_len);
	b->confirmed = true;
	b->peer_timer = se != NULL || sipmsg_list_has(m->sip->sip_require, "timer");
	if (se != NULL) {
		b->se_s = (uint32_t)se->x_delta;
		b->we_refresh = se->x_refresher == NULL || strcasecmp(se->x_refresher, "uac") == 0;
	} else {
		b->we_refresh = true;   /* it has no timer: we refresh, if we asked */
	}
	b->se_last_ms = now_ms;
	body = sipmsg_body(m, &blen);
	if (!sipmsg_has_sdp(m)) {
		sip_call_end(s, c, "rejected", 502, -1, now_ms);
		return;
	}
	r = sip_media_answer(s, c, 1, body, blen, &sdp, now_ms);
	if (r < 0) {
		sip_call_end(s, c, "rejected", 488, -1, now_ms);
		return;
	}
	c->state = CALL_CONFIRMED;
	c->answer_ms = now_ms;
	c->answer_wall_s = c->start_wall_s + (int64_t)((now_ms - c->start_ms) / 1000);
	c->cdr.sip_status = 200;
	s->k.calls_answered++;
	a->confirmed = true;
	a->se_last_ms = now_ms;
	sip_session_headers(s, a, true, sess, sizeof(sess));
	snprintf(extra, sizeof(extra), "%sSupported: " SIP_SUPPORTED "\r\n", sess);
	sip_stxn_respond(s, c, &c->inv, a, 200, extra, sdp, strlen(sdp), now_ms);
	c->inv_final = true;
	free(a->last_sdp);
	a->last_sdp = sdp;
	/* Confirmed: the dialogs go to disk, to survive a restart (the
	 * caller's ACK is not waited for: a restart before it costs at most
	 * that ACK). */
	(void)sip_dialog_save(s, c);
}

/* The answer to an offer we carried from leg c->re_from. */
static void
re_final(struct mr_sip *s, struct sip_call *c, struct sip_ctxn *t, const struct sipmsg *m,
	 uint64_t now_ms)
{
	int x = c->re_from;
	struct sip_leg *l, *o;
	char extra[512], sess[256], *sdp = NULL;
	const char *body;
	size_t blen;
	int r;

	if (x < 0 || !c->re.active)
		return;
	l = &c->leg[x];
	o = &c->leg[!x];
	if (m->status >= 300) {
		sip_stxn_respond(s, c, &c->re, l, m->status == 503 ? 500 : m->status, NULL, NULL, 0,
				 now_ms);
	} else {
		body = sipmsg_body(m, &blen);
		r = sipmsg_has_sdp(m) ? sip_media_answer(s, c, !x, body, blen, &sdp, now_ms) : -EINVAL;
		if (r < 0) {
			sip_stxn_respond(s, c, &c->re, l, 488, NULL, NULL, 0, now_ms);
		} else {
			o->se_last_ms = now_ms;
			l->se_last_ms = now_ms;
			if (m->sip->sip_contact != NULL)
				sip_url_str(m->sip->sip_contact->m_url, o->target, sizeof(o->target));
			sip_session_headers(s, l, true, sess, sizeof(sess));
			snprintf(extra, sizeof(extra), "%sSupported: " SIP_SUPPORTED "\r\n", sess);
			sip_stxn_respond(s, c, &c->re, l, 200, extra, sdp, strlen(sdp), now_ms);
			free(l->last_sdp);
			l->last_sdp = sdp;
		}
	}
	(void)t;
	sip_stxn_clear(&c->re);
	c->re_from = -1;
	c->re_out = NULL;
}

void
sip_b2bua_response(struct mr_sip *s, const struct mr_sip_flow_info *f, const struct sipmsg *m,
		   uint64_t now_ms)
{
	struct sip_ctxn *t = sip_ctxn_match(s, m);
	struct sip_call *c;
	bool invite;
	char *ack;
	size_t len = 0;

	if (t == NULL || t->flow != f->id) {
		s->k.dropped++;
		return;
	}
	c = t->call;
	invite = strcmp(t->method, "INVITE") == 0;
	if (m->status < 200) {
		t->provisional = true;
		if (c != NULL && t->role == TXN_INVITE && m->status > 100 && !t->done)
			b_provisional(s, c, m, now_ms);
		return;
	}
	if (invite && m->status >= 300)
		sip_ctxn_ack_non2xx(s, t, m);
	if (t->done) {
		/* A retransmitted final response. */
		if (invite && m->status < 300 && c != NULL && t->role == TXN_INVITE &&
		    c->b_ack != NULL && c->a_acked)
			sip_send(s, t->flow, c->b_ack, c->b_ack_len);
		else if (invite && m->status < 300 && (c == NULL || t->role != TXN_INVITE))
			send_free(s, t->flow, sip_ack_2xx_build(s, t, m, &len), len);
		return;
	}
	if (c == NULL) {
		if (invite && m->status < 300)
			orphan_2xx(s, t, m, now_ms);
		sip_ctxn_done(s, t, now_ms);
		return;
	}
	switch (t->role) {
	case TXN_INVITE:
		sip_ctxn_done(s, t, now_ms);
		if (m->status < 300) {
			b_2xx(s, c, t, m, now_ms);
		} else {
			c->cdr.sip_status = (uint16_t)map_failure(m->status);
			sip_call_end(s, c, "rejected", map_failure(m->status), -1, now_ms);
		}
		break;
	case TXN_REINVITE:
		if (invite && m->status < 300) {
			ack = sip_ack_2xx_build(s, t, m, &len);
			send_free(s, t->flow, ack, len);
		}
		re_final(s, c, t, m, now_ms);
		sip_ctxn_done(s, t, now_ms);
		break;
	case TXN_REFRESH:
		if (invite && m->status < 300) {
			ack = sip_ack_2xx_build(s, t, m, &len);
			send_free(s, t->flow, ack, len);
		}
		c->leg[t->leg].refreshing = false;
		sip_ctxn_done(s, t, now_ms);
		if (m->status < 300 || (m->status != 408 && m->status != 481)) {
			/* RFC 4028 10: only 408 and 481 end the session */
			c->leg[t->leg].se_last_ms = now_ms;
		} else {
			s->k.session_timer_expired++;
			sip_call_end(s, c, "session-timer", 0, t->leg, now_ms);
		}
		break;
	default:
		sip_ctxn_done(s, t, now_ms);
		break;
	}
}

void
sip_b2bua_timeout(struct mr_sip *s, struct sip_ctxn *t, uint64_t now_ms)
{
	struct sip_call *c = t->call;

	sip_ctxn_detach(t);
	t->done = true;
	if (c == NULL)
		return;
	if (c->b_inv == t)
		c->b_inv = NULL;
	if (c->re_out == t)
		c->re_out = NULL;
	switch (t->role) {
	case TXN_INVITE:
		sip_call_end(s, c, "rejected", 408, -1, now_ms);
		break;
	case TXN_REINVITE:
		/* RFC 3261 14.1 / 12.2.1.2: a 408 to a mid-dialog request ends it */
		sip_call_end(s, c, "flow-lost", 0, t->leg, now_ms);
		break;
	case TXN_REFRESH:
		s->k.session_timer_expired++;
		sip_call_end(s, c, "session-timer", 0, t->leg, now_ms);
		break;
	default:
		break;
	}
}
