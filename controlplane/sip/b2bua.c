/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The B2BUA, requests side: a new INVITE becomes a call of two legs (we are
 * the UAS of the caller's dialog and the UAC of the callee's), with the
 * media offered through NG (b2bua_media.c) and the INVITE sent over the
 * callee's registered flow (never a new connection to a client) or to the
 * trunk the dial plan names. In-dialog requests (BYE, re-INVITE, UPDATE,
 * ACK) and CANCEL are matched to their call and leg here; responses from
 * the callee side are in b2bua_reply.c, endings and timers in b2bua_end.c.
 *
 * Not done: delayed offers (an INVITE without SDP gets 488; a re-INVITE
 * without SDP is answered locally with the last SDP as a session refresh),
 * forking to more than the newest binding of an account, route sets
 * (Record-Route of trunks is not honoured), reliable provisionals towards
 * the caller (PRACK from a caller gets 481).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>

#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/url.h>

#include "dialplan.h"
#include "sip_int.h"

void
sip_stxn_clear(struct sip_stxn *t)
{
	free(t->hdrs);
	free(t->to);
	free(t->final);
	memset(t, 0, sizeof(*t));
}

void
sip_stxn_save(struct sip_stxn *t, const struct sipmsg *m, const char *key)
{
	static char buf[MR_SIP_MSG_MAX];
	struct sipbuf b;

	sip_stxn_clear(t);
	sipbuf_init(&b, buf, sizeof(buf));
	sipbuf_header(&b, m->sip->sip_via, true);
	sipbuf_header(&b, m->sip->sip_from, false);
	sipbuf_header(&b, m->sip->sip_call_id, false);
	sipbuf_header(&b, m->sip->sip_cseq, false);
	if (!sipbuf_ok(&b))
		return;
	t->hdrs = strdup(b.p);
	sipbuf_init(&b, buf, sizeof(buf));
	sipbuf_header(&b, m->sip->sip_to, false);
	if (!sipbuf_ok(&b) || b.len < 2) {
		sip_stxn_clear(t);
		return;
	}
	b.p[b.len - 2] = '\0';
	t->to = strdup(b.p);
	if (t->hdrs == NULL || t->to == NULL) {
		sip_stxn_clear(t);
		return;
	}
	t->to_tagged = m->sip->sip_to->a_tag != NULL;
	snprintf(t->branch, sizeof(t->branch), "%s", sipmsg_branch(m));
	snprintf(t->method, sizeof(t->method), "%s", m->method);
	snprintf(t->key, sizeof(t->key), "%s", key);
	t->cseq = m->sip->sip_cseq->cs_seq;
	t->active = true;
}

void
sip_stxn_respond(struct mr_sip *s, struct sip_call *c, struct sip_stxn *t, struct sip_leg *l,
		 int code, const char *extra, const char *body, size_t body_len, uint64_t now_ms)
{
	static char buf[MR_SIP_MSG_MAX];
	char contact[SIP_URI_MAX];
	struct sipbuf b;

	(void)c;
	if (!t->active)
		return;
	sip_leg_contact(s, l, contact, sizeof(contact));
	sipbuf_init(&b, buf, sizeof(buf));
	sipbuf_printf(&b, "SIP/2.0 %d %s\r\n%s%s", code, sip_phrase(code), t->hdrs, t->to);
	if (!t->to_tagged && code != 100)
		sipbuf_printf(&b, ";tag=%s", l->local_tag);
	sipbuf_printf(&b, "\r\nServer: mrelay\r\n");
	if (code > 100 && code < 300)
		sipbuf_printf(&b, "Contact: %s\r\nAllow: " SIP_ALLOW "\r\n", contact);
	sipbuf_printf(&b, "%s", extra != NULL ? extra : "");
	sipbuf_finish(&b, body, body_len);
	if (!sipbuf_ok(&b))
		return;
	sip_send(s, l->flow, b.p, b.len);
	sip_rcache_put(s, t->key, l->flow, b.p, b.len, now_ms);
	if (code >= 200 && code < 300 && strcmp(t->method, "INVITE") == 0 &&
	    l->proto == MR_SIP_UDP) {
		/* Timer G: resent until the ACK comes (b2bua_end.c). */
		free(t->final);
		t->final = malloc(b.len);
		if (t->final != NULL) {
			memcpy(t->final, b.p, b.len);
			t->final_len = b.len;
			t->interval_ms = SIP_T1_MS;
			t->next_ms = now_ms + SIP_T1_MS;
			t->deadline_ms = now_ms + SIP_TXN_TIMEOUT_MS;
		}
	}
}

void
sip_session_headers(const struct mr_sip *s, const struct sip_leg *l, bool as_uas, char *out,
		    size_t cap)
{
	(void)s;
	out[0] = '\0';
	if (l->se_s == 0)
		return;
	snprintf(out, cap, "Session-Expires: %u;refresher=%s\r\n%s", l->se_s,
		 l->we_refresh == as_uas ? "uas" : "uac", l->peer_timer && as_uas ?
		 "Require: timer\r\n" : "");
}

/* Whether @u may go into the user part of a URI we write as it is: what a
 * phone number or account name holds (RFC 3261 unreserved, escapes, and
 * the user-unreserved characters but ';'). Untrusted input otherwise. */
static bool
user_safe(const char *u)
{
	const char *p;

	if (u == NULL || u[0] == '\0' || strlen(u) > 64)
		return false;
	for (p = u; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("-_.!~*'()+%&=$,?/", *p) != NULL))
			return false;
	return true;
}

static uint32_t
min_se(const struct mr_sip *s)
{
	return s->cfg->min_se_s > 90 ? s->cfg->min_se_s : 90;
}

/*
 * The call indexes. By Call-ID alone, one link per leg: a CANCEL has no To
 * tag and is matched on the caller leg's Call-ID (and its INVITE's branch
 * and CSeq), so the tags are compared along the chain, not hashed. The
 * caller leg's Call-ID is the caller's choice: a chain it lengthens by
 * reusing one holds its own calls only. The callee leg's is ours (random).
 * By flow, one link per leg with a flow; by account, the caller's name and
 * the callee's. A call's keys are set in new_call(), before any other call
 * is made (leg 1's flow and Call-ID, the callee, once routed), and never
 * change after, so every chain stays newest first. The exception is a call
 * recovered after a restart (dialog_restore.c), re-indexed when a leg gets
 * a flow again: it moves to the head of its chains.
 */
static unsigned int
callid_bucket(const char *call_id)
{
	return sip_hash_fold(sip_hash_str(SIP_HASH_INIT, call_id), SIP_CALL_BUCKETS);
}

void
sip_call_index(struct mr_sip *s, struct sip_call *c)
{
	const char *acc[2] = { c->cdr.caller, c->cdr.callee };
	int i;

	for (i = 0; i < 2; i++) {
		sip_hnode_del(&c->by_callid[i]);
		sip_hnode_del(&c->by_flow[i]);
		sip_hnode_del(&c->by_account[i]);
		sip_hnode_add(&s->call_by_callid[callid_bucket(c->leg[i].call_id)],
			      &c->by_callid[i], c);
		if (c->leg[i].flow != 0)
			sip_hnode_add(&s->call_by_flow[sip_hash_fold(sip_hash_u64(SIP_HASH_INIT,
										  c->leg[i].flow),
								     SIP_CALL_BUCKETS)],
				      &c->by_flow[i], c);
		if (acc[i][0] != '\0')
			sip_hnode_add(&s->call_by_account[sip_hash_fold(sip_hash_str(SIP_HASH_INIT,
										     acc[i]),
									SIP_CALL_BUCKETS)],
				      &c->by_account[i], c);
	}
}

struct sip_call *
sip_call_find_dialog(struct mr_sip *s, const char *call_id, const char *local_tag,
		     const char *remote_tag, int *ret_leg)
{
	struct sip_hnode *n;
	struct sip_call *c;
	int i;

	for (n = s->call_by_callid[callid_bucket(call_id)]; n != NULL; n = n->next) {
		c = n->obj;
		for (i = 0; i < 2; i++)
			if (strcmp(c->leg[i].call_id, call_id) == 0 &&
			    strcmp(c->leg[i].local_tag, local_tag) == 0 &&
			    strcmp(c->leg[i].remote_tag, remote_tag) == 0) {
				*ret_leg = i;
				return c;
			}
	}
	return NULL;
}

struct sip_call *
sip_call_find_invite(struct mr_sip *s, mr_flow_id flow, const char *call_id, const char *branch,
		     uint32_t cseq)
{
	struct sip_hnode *n;
	struct sip_call *c;

	for (n = s->call_by_callid[callid_bucket(call_id)]; n != NULL; n = n->next) {
		c = n->obj;
		if (c->leg[0].flow == flow && strcmp(c->leg[0].call_id, call_id) == 0 &&
		    strcmp(c->inv.branch, branch) == 0 && c->inv.cseq == cseq)
			return c;
	}
	return NULL;
}

/* Find the call and leg of in-dialog request @m. */
static struct sip_call *
find_leg(struct mr_sip *s, const struct sipmsg *m, int *ret_leg)
{
	const char *to_tag = m->sip->sip_to->a_tag, *from_tag = m->sip->sip_from->a_tag;

	if (to_tag == NULL || from_tag == NULL)
		return NULL;
	return sip_call_find_dialog(s, m->sip->sip_call_id->i_id, to_tag, from_tag, ret_leg);
}

static void
warn_488(struct mr_sip *s, int r, char *extra, size_t cap)
{
	s->k.rejected_488++;
	snprintf(extra, cap, "Warning: 399 %s \"%s\"\r\n", s->cfg->domain,
		 r == -EPERM ? "SRTP (SDES) required" : "media refused by the relay");
}

/* The caller's leg from its INVITE. */
static int
leg_caller(struct mr_sip *s, struct sip_leg *l, const struct mr_sip_flow_info *f,
	   const struct sipmsg *m)
{
	const sip_t *sip = m->sip;

	l->flow = f->id;
	l->trunk = f->trunk;
	l->listener = f->listener;
	l->proto = f->proto;
	l->local = f->local;
	if (f->trunk >= 0 && (unsigned int)f->trunk < s->cfg->n_trunks) {
		snprintf(l->iface, sizeof(l->iface), "%s", s->cfg->trunks[f->trunk].iface);
		l->pstn = s->cfg->trunks[f->trunk].pstn;
	} else if (f->listener >= 0 && (unsigned int)f->listener < s->cfg->n_tls) {
		snprintf(l->iface, sizeof(l->iface), "%s", s->cfg->tls[f->listener].iface);
	}
	if (sip->sip_from->a_tag == NULL || strlen(sip->sip_from->a_tag) >= sizeof(l->remote_tag) ||
	    sip->sip_contact == NULL || sip_token(l->local_tag, 16) < 0)
		return -EINVAL;
	snprintf(l->call_id, sizeof(l->call_id), "%s", sip->sip_call_id->i_id);
	snprintf(l->remote_tag, sizeof(l->remote_tag), "%s", sip->sip_from->a_tag);
	sip_addr_str(sip->sip_to, l->local_uri, sizeof(l->local_uri));
	sip_addr_str(sip->sip_from, l->remote_uri, sizeof(l->remote_uri));
	sip_url_str(sip->sip_contact->m_url, l->target, sizeof(l->target));
	if (l->target[0] == '\0')
		return -EINVAL;
	l->remote_cseq = sip->sip_cseq->cs_seq;
	l->allow_update = sipmsg_list_has((const msg_list_t *)sip->sip_allow, "UPDATE");
	l->peer_timer = sipmsg_list_has(sip->sip_supported, "timer") ||
			sipmsg_list_has(sip->sip_require, "timer");
	/* RFC 4028: the caller's interval if it asked, else ours; it refreshes
	 * when it can and did not leave that to us. */
	if (sip->sip_session_expires != NULL)
		l->se_s = (uint32_t)sip->sip_session_expires->x_delta;
	else
		l->se_s = s->cfg->session_expires_s;
	if (l->se_s != 0 && l->se_s < min_se(s))
		l->se_s = min_se(s);
	l->we_refresh = !l->peer_timer || (sip->sip_session_expires != NULL &&
					   sip->sip_session_expires->x_refresher != NULL &&
					   strcasecmp(sip->sip_session_expires->x_refresher, "uas") == 0);
	return 0;
}

/* The callee's leg: an account's newest binding or a trunk. */
static int
leg_callee(struct mr_sip *s, struct sip_call *c, const struct mr_route *rt, const char *caller_user,
	   int *ret_code)
{
	struct sip_leg *l = &c->leg[1];
	char hp[80];

	l->trunk = -1;
	l->listener = -1;
	if (rt->kind == MR_ROUTE_ACCOUNT) {
		const struct sip_binding *b = sip_binding_newest(s, rt->number);

		if (b == NULL) {
			*ret_code = 480;
			return -ENOENT;
		}
		l->flow = b->flow;
		l->proto = b->proto;
		l->local = b->local;
		l->listener = b->listener;
		if (b->listener >= 0 && (unsigned int)b->listener < s->cfg->n_tls)
			snprintf(l->iface, sizeof(l->iface), "%s", s->cfg->tls[b->listener].iface);
		snprintf(l->target, sizeof(l->target), "%s", b->contact);
		snprintf(l->remote_uri, sizeof(l->remote_uri), "<sip:%s@%s>", rt->number,
			 s->cfg->domain);
	} else {
		const struct mr_sip_trunk *t = &s->cfg->trunks[rt->trunk];

		if (s->io.dial == NULL || s->io.dial(s->io.ctx, (unsigned int)rt->trunk, &l->flow) < 0) {
			*ret_code = 503;
			return -EIO;
		}
		l->trunk = rt->trunk;
		l->proto = t->proto;
		l->pstn = t->pstn;
		snprintf(l->iface, sizeof(l->iface), "%s", t->iface);
		sip_hostport(&t->addr, hp, sizeof(hp));
		snprintf(l->target, sizeof(l->target), "sip:%s@%s%s", rt->number, hp,
			 t->proto == MR_SIP_TLS ? ";transport=tls" :
			 t->proto == MR_SIP_TCP ? ";transport=tcp" : "");
		snprintf(l->remote_uri, sizeof(l->remote_uri), "<sip:%s@%s>", rt->number, hp);
	}
	snprintf(l->local_uri, sizeof(l->local_uri), "<sip:%s@%s>", caller_user, s->cfg->domain);
	if (sip_token(l->local_tag, 16) < 0 || sip_token(l->call_id, 32) < 0) {
		*ret_code = 500;
		return -EIO;
	}
	l->se_s = s->cfg->session_expires_s;
	return 0;
}

static void
new_call(struct mr_sip *s, const struct mr_sip_flow_info *f, const struct sipmsg *m,
	 uint64_t now_ms)
{
	const sip_t *sip = m->sip;
	const url_t *ru = sip->sip_request->rq_url;
	char name[MR_ACCOUNTS_NAME_MAX + 1], extra[1024], key[SIP_CALLID_MAX + 96], tag[20];
	char caller_user[MR_CDR_FIELD_MAX];
	struct mr_route rt;
	struct sip_call *c;
	const char *body;
	char *sdp = NULL;
	size_t blen;
	int code = 0, r;

	sip_token(tag, 16);
	if (f->trunk >= 0) {
		const char *u = sip->sip_from->a_url->url_user;

		snprintf(caller_user, sizeof(caller_user), "%s", user_safe(u) ? u : "anonymous");
		snprintf(name, sizeof(name), "trunk:%.50s", caller_user);
	} else {
		if (sip_auth(s, f, m, name, sizeof(name), now_ms) != 0)
			return;
		snprintf(caller_user, sizeof(caller_user), "%s", name);
	}
	if (sip->sip_session_expires != NULL && sip->sip_session_expires->x_delta < min_se(s)) {
		snprintf(extra, sizeof(extra), "Min-SE: %u\r\n", min_se(s));
		sip_respond(s, f, m, 422, tag, extra, NULL, 0, now_ms);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		sip_respond(s, f, m, 500, tag, NULL, NULL, 0, now_ms);
		return;
	}
	if (leg_caller(s, &c->leg[0], f, m) < 0 || sip_token(c->ng_id + 3, 24) < 0) {
		free(c);
		sip_respond(s, f, m, 400, tag, NULL, NULL, 0, now_ms);
		return;
	}
	memcpy(c->ng_id, "mr-", 3);
	c->state = CALL_EARLY;
	c->re_from = -1;
	c->start_ms = now_ms;
	c->start_wall_s = (int64_t)time(NULL);
	snprintf(c->cdr.call_id, sizeof(c->cdr.call_id), "%s", sip->sip_call_id->i_id);
	snprintf(c->cdr.caller, sizeof(c->cdr.caller), "%s", name);
	sip_rcache_key(m, "INVITE", key, sizeof(key));
	sip_stxn_save(&c->inv, m, key);
	sip_hnode_add(&s->calls, &c->all, c);
	sip_call_index(s, c);
	s->k.calls_total++;
	s->k.calls_active++;
	if (!c->inv.active) {
		sip_call_end(s, c, "rejected", 500, -1, now_ms);
		return;
	}
	sip_stxn_respond(s, c, &c->inv, &c->leg[0], 100, NULL, NULL, 0, now_ms);

	/* Where it goes. */
	if (!user_safe(ru->url_user) ||
	    mr_dialplan_route(s->cfg, ru->url_user, strlen(ru->url_user), &rt) == MR_ROUTE_NONE ||
	    !user_safe(rt.number)) {
		sip_call_end(s, c, "rejected", 404, -1, now_ms);
		return;
	}
	if (rt.kind == MR_ROUTE_ACCOUNT) {
		char ha1[MR_DIGEST_HEX_MAX];

		snprintf(c->cdr.callee, sizeof(c->cdr.callee), "%s", rt.number);
		sip_call_index(s, c);
		r = mr_accounts_lookup_ha1(s->acc, rt.number, MR_DIGEST_MD5, ha1);
		OPENSSL_cleanse(ha1, sizeof(ha1));
		if (r < 0) {
			sip_call_end(s, c, "rejected", 404, -1, now_ms);
			return;
		}
	} else {
		snprintf(c->cdr.callee, sizeof(c->cdr.callee), "trunk:%.200s", rt.number);
		sip_call_index(s, c);
		if (f->trunk >= 0 || rt.trunk < 0 || (unsigned int)rt.trunk >= s->cfg->n_trunks) {
			/* trunk to trunk: not a relay for toll fraud */
			sip_call_end(s, c, "rejected", 403, -1, now_ms);
			return;
		}
	}
	r = leg_callee(s, c, &rt, caller_user, &code);
	sip_call_index(s, c);          /* leg 1's flow and Call-ID */
	if (r < 0) {
		sip_call_end(s, c, "rejected", code, -1, now_ms);
		return;
	}

	/* Media: the caller's offer through NG. */
	body = sipmsg_body(m, &blen);
	if (!sipmsg_has_sdp(m)) {
		snprintf(extra, sizeof(extra), "Warning: 399 %s \"an SDP offer is required\"\r\n",
			 s->cfg->domain);
		s->k.rejected_488++;
		c->cdr.sip_status = 488;
		sip_stxn_respond(s, c, &c->inv, &c->leg[0], 488, extra, NULL, 0, now_ms);
		c->inv_final = true;
		sip_call_end(s, c, "rejected", 488, -1, now_ms);
		return;
	}
	r = sip_media_offer(s, c, 0, true, body, blen, &sdp, now_ms);
	if (r < 0) {
		warn_488(s, r, extra, sizeof(extra));
		c->cdr.sip_status = 488;
		sip_stxn_respond(s, c, &c->inv, &c->leg[0], 488, extra, NULL, 0, now_ms);
		c->inv_final = true;
		sip_call_end(s, c, "rejected", 488, -1, now_ms);
		return;
	}
	c->media = true;
	snprintf(extra, sizeof(extra), "Supported: timer, 100rel\r\n");
	if (c->leg[1].se_s != 0)
		snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra),
			 "Session-Expires: %u\r\nMin-SE: %u\r\n", c->leg[1].se_s, min_se(s));
	c->b_inv = sip_ctxn_send(s, c, 1, TXN_INVITE, "INVITE", NULL, extra, sdp, strlen(sdp),
				 now_ms);
	if (c->b_inv == NULL) {
		free(sdp);
		sip_call_end(s, c, "flow-lost", 480, -1, now_ms);
		return;
	}
	free(c->leg[1].last_sdp);
	c->leg[1].last_sdp = sdp;
}

/* ACK: for our 2xx to the caller (end to end: now we ACK the callee's), for
 * a re-INVITE's 2xx, or hop by hop for a non-2xx (nothing to do). */
static void
ack(struct mr_sip *s, const struct mr_sip_flow_info *f, const struct sipmsg *m)
{
	struct sip_call *c;
	int i;

	c = find_leg(s, m, &i);
	if (c == NULL || c->leg[i].flow != f->id)
		return;
	if (i == 0 && c->state == CALL_CONFIRMED && !c->a_acked &&
	    m->sip->sip_cseq->cs_seq == c->inv.cseq) {
		c->a_acked = true;
		free(c->inv.final);
		c->inv.final = NULL;
		if (c->b_ack != NULL)
			sip_send(s, c->leg[1].flow, c->b_ack, c->b_ack_len);
	}
	/* re-INVITEs: the other side was ACKed when its 2xx came. */
}

static void
cancel(struct mr_sip *s, const struct mr_sip_flow_info *f, const struct sipmsg *m,
       uint64_t now_ms)
{
	struct sip_call *c;

	c = sip_call_find_invite(s, f->id, m->sip->sip_call_id->i_id, sipmsg_branch(m),
				 m->sip->sip_cseq->cs_seq);
	if (c == NULL) {
		sip_respond(s, f, m, 481, NULL, NULL, NULL, 0, now_ms);
		return;
	}
	sip_respond(s, f, m, 200, c->leg[0].local_tag, NULL, NULL, 0, now_ms);
	if (!c->inv_final)
		sip_call_end(s, c, "cancel", 487, -1, now_ms);
}

/* A re-INVITE or UPDATE from leg @i. */
static void
reoffer(struct mr_sip *s, const struct mr_sip_flow_info *f, const struct sipmsg *m,
	struct sip_call *c, int i, uint64_t now_ms)
{
	bool invite = strcmp(m->method, "INVITE") == 0;
	struct sip_leg *l = &c->leg[i], *o = &c->leg[!i];
	char extra[1024], sess[256], key[SIP_CALLID_MAX + 96];
	const char *body;
	char *sdp = NULL;
	size_t blen;
	int r;

	if (m->sip->sip_contact != NULL) {
		char was[SIP_URI_MAX];

		memcpy(was, l->target, sizeof(was));
		sip_url_str(m->sip->sip_contact->m_url, l->target, sizeof(l->target));
		if (c->persisted && strcmp(was, l->target) != 0)
			(void)sip_dialog_save(s, c);    /* a target refresh */
	}
	if (m->sip->sip_session_expires != NULL && m->sip->sip_session_expires->x_delta < min_se(s)) {
		snprintf(extra, sizeof(extra), "Min-SE: %u\r\n", min_se(s));
		sip_respond(s, f, m, 422, NULL, extra, NULL, 0, now_ms);
		return;
	}
	if (!sipmsg_has_sdp(m)) {
		/* A session refresh (or a delayed offer, answered with what the
		 * relay last offered it). */
		if (c->state != CALL_CONFIRMED && invite) {
			sip_respond(s, f, m, 491, NULL, NULL, NULL, 0, now_ms);
			return;
		}
		l->se_last_ms = now_ms;
		if (invite && l->last_sdp == NULL) {
			/* Recovered after a restart: the SDP a 2xx must offer is
			 * not kept (it holds the relay's key). Any failure but
			 * 408/481 keeps the dialog (RFC 3261 14.1), and the
			 * session counts as refreshed (RFC 4028 10). */
			sip_respond(s, f, m, 500, NULL, NULL, NULL, 0, now_ms);
			return;
		}
		sip_session_headers(s, l, true, sess, sizeof(sess));
		snprintf(extra, sizeof(extra), "%sSupported: " SIP_SUPPORTED "\r\n", sess);
		sip_rcache_key(m, m->method, key, sizeof(key));
		{
			struct sip_stxn t = { 0 };

			sip_stxn_save(&t, m, key);
			sip_stxn_respond(s, c, &t, l, 200, extra, invite ? l->last_sdp : NULL,
					 invite && l->last_sdp != NULL ? strlen(l->last_sdp) : 0,
					 now_ms);
			sip_stxn_clear(&t);
		}
		return;
	}
	if (c->state != CALL_CONFIRMED || c->re.active || o->refreshing) {
		sip_respond(s, f, m, 491, NULL, "Retry-After: 1\r\n", NULL, 0, now_ms);
		return;
	}
	if (invite)
		sip_respond(s, f, m, 100, NULL, NULL, NULL, 0, now_ms);
	body = sipmsg_body(m, &blen);
	r = sip_media_offer(s, c, i, false, body, blen, &sdp, now_ms);
	if (r < 0) {
		warn_488(s, r, extra, sizeof(extra));
		sip_respond(s, f, m, 488, NULL, extra, NULL, 0, now_ms);
		return;
	}
	l->se_last_ms = now_ms;
	sip_rcache_key(m, m->method, key, sizeof(key));
	sip_stxn_save(&c->re, m, key);
	c->re_from = i;
	c->re_invite = invite;
	sip_session_headers(s, o, false, sess, sizeof(sess));
	snprintf(extra, sizeof(extra), "%sSupported: timer\r\n", sess);
	c->re_out = sip_ctxn_send(s, c, !i, TXN_REINVITE, invite ? "INVITE" : "UPDATE", NULL, extra,
				  sdp, strlen(sdp), now_ms);
	if (c->re_out == NULL) {
		free(sdp);
		sip_stxn_respond(s, c, &c->re, l, 500, NULL, NULL, 0, now_ms);
		sip_stxn_clear(&c->re);
		c->re_from = -1;
		return;
	}
	free(o->last_sdp);
	o->last_sdp = sdp;
}

static void
in_dialog(struct mr_sip *s, const struct mr_sip_flow_info *f, const struct sipmsg *m,
	  uint64_t now_ms)
{
	struct sip_call *c;
	int i, r;

	c = find_leg(s, m, &i);
	r = c != NULL ? sip_leg_claim(s, c, i, f, m, now_ms) : -ENOENT;
	if (r > 0)
		return;         /* challenged (a call from before a restart) */
	if (r < 0) {
		sip_respond(s, f, m, 481, NULL, NULL, NULL, 0, now_ms);
		return;
	}
	c->leg[i].flow_guessed = false;
	if (c->leg[i].remote_cseq != 0 && m->sip->sip_cseq->cs_seq <= c->leg[i].remote_cseq &&
	    strcmp(m->method, "PRACK") != 0) {
		sip_respond(s, f, m, 500, NULL, "Retry-After: 1\r\n", NULL, 0, now_ms);
		return;
	}
	c->leg[i].remote_cseq = m->sip->sip_cseq->cs_seq;
	if (strcmp(m->method, "BYE") == 0) {
		sip_respond(s, f, m, 200, NULL, NULL, NULL, 0, now_ms);
		if (c->state == CALL_EARLY)
			sip_call_end(s, c, "cancel", 487, i == 1 ? 1 : -1, now_ms);
		else
			sip_call_end(s, c, i == 0 ? "caller-bye" : "callee-bye", 0, i, now_ms);
	} else if (strcmp(m->method, "INVITE") == 0 || strcmp(m->method, "UPDATE") == 0) {
		reoffer(s, f, m, c, i, now_ms);
	} else {
		/* PRACK: we never send reliable provisionals. */
		sip_respond(s, f, m, 481, NULL, NULL, NULL, 0, now_ms);
	}
}

void
sip_b2bua_request(struct mr_sip *s, const struct mr_sip_flow_info *f, const struct sipmsg *m,
		  uint64_t now_ms)
{
	const char *meth = m->method;

	if (strcmp(meth, "ACK") == 0)
		ack(s, f, m);
	else if (strcmp(meth, "CANCEL") == 0)
		cancel(s, f, m, now_ms);
	else if (m->sip->sip_to->a_tag != NULL)
		in_dialog(s, f, m, now_ms);
	else if (strcmp(meth, "INVITE") == 0)
		new_call(s, f, m, now_ms);
	else
		sip_respond(s, f, m, 481, NULL, NULL, NULL, 0, now_ms);
}
