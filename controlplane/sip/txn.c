/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Transactions (RFC 3261 section 17), as much as a B2BUA over mostly
 * reliable flows needs:
 *  - client side: every request we send is kept until its final response
 *    or Timer B/F (32 s); on UDP (pstn trunks) it is retransmitted, INVITE
 *    doubling from T1 until a provisional (Timer A), others doubling up to
 *    T2 (Timer E). An INVITE transaction stays 32 s after its final
 *    response, so a retransmitted 2xx finds its ACK again.
 *  - server side: the last response to each request is cached for 32 s by
 *    (flow, Call-ID, top branch, CSeq, method); a retransmitted request gets
 *    it again without being handled twice.
 * A response finds its transaction on the chain of its branch (our own
 * random ones, so nobody else lengthens it), a closing flow finds those on
 * the flow's chain, an ending call those on its own list; only the timers
 * walk them all.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/sip_header.h>

#include "sip_int.h"

static char *
dupn(const char *p, size_t n)
{
	char *d = malloc(n + 1);

	if (d != NULL) {
		memcpy(d, p, n);
		d[n] = '\0';
	}
	return d;
}

static char *
dupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *
dupf(const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return NULL;
	return dupn(buf, (size_t)n);
}

static unsigned int
branch_bucket(const char *branch)
{
	return sip_hash_fold(sip_hash_str(SIP_HASH_INIT, branch), SIP_CTXN_BUCKETS);
}

static unsigned int
flow_bucket(mr_flow_id flow)
{
	return sip_hash_fold(sip_hash_u64(SIP_HASH_INIT, flow), SIP_CTXN_BUCKETS);
}

/* Off every list but its call's. */
static void
unlink_txn(struct sip_ctxn *t)
{
	sip_hnode_del(&t->all);
	sip_hnode_del(&t->by_branch);
	sip_hnode_del(&t->by_flow);
}

void
sip_ctxn_detach(struct sip_ctxn *t)
{
	sip_hnode_del(&t->by_call);
	t->call = NULL;
}

void
sip_ctxn_free(struct mr_sip *s, struct sip_ctxn *t)
{
	(void)s;
	if (t == NULL)
		return;
	if (t->call != NULL) {
		if (t->call->b_inv == t)
			t->call->b_inv = NULL;
		if (t->call->re_out == t)
			t->call->re_out = NULL;
	}
	unlink_txn(t);
	sip_hnode_del(&t->by_call);
	free(t->text);
	free(t->ruri);
	free(t->via);
	free(t->from);
	free(t->to);
	free(t->callid);
	free(t);
}

/* Via sent-by for leg @l: our address on its flow. */
static void
sent_by(const struct mr_sip *s, const struct sip_leg *l, char *out, size_t cap)
{
	char contact[SIP_URI_MAX], *p, *e;

	sip_leg_contact(s, l, contact, sizeof(contact));
	p = strchr(contact, '@');
	p = p != NULL ? p + 1 : contact;
	e = strpbrk(p, ";>");
	if (e != NULL)
		*e = '\0';
	snprintf(out, cap, "%.90s", p);
}

/* Track @t (filled but for timers) and send it. NULL (and @t freed) if the
 * send failed. */
static struct sip_ctxn *
track(struct mr_sip *s, struct sip_ctxn *t, uint64_t now_ms)
{
	if (t->text == NULL || t->via == NULL || t->from == NULL || t->to == NULL ||
	    t->callid == NULL || t->ruri == NULL || sip_send(s, t->flow, t->text, t->len) < 0) {
		t->call = NULL;
		sip_ctxn_free(s, t);
		return NULL;
	}
	t->interval_ms = SIP_T1_MS;
	t->next_ms = now_ms + SIP_T1_MS;
	t->deadline_ms = now_ms + SIP_TXN_TIMEOUT_MS;
	sip_hnode_add(&s->ctxns, &t->all, t);
	sip_hnode_add(&s->ctxn_by_branch[branch_bucket(t->branch)], &t->by_branch, t);
	sip_hnode_add(&s->ctxn_by_flow[flow_bucket(t->flow)], &t->by_flow, t);
	if (t->call != NULL)
		sip_hnode_add(&t->call->ctxns, &t->by_call, t);
	return t;
}

struct sip_ctxn *
sip_ctxn_send(struct mr_sip *s, struct sip_call *c, int leg, enum txn_role role,
	      const char *method, const char *ruri, const char *extra, const char *body,
	      size_t body_len, uint64_t now_ms)
{
	static char buf[MR_SIP_MSG_MAX];
	struct sip_leg *l = &c->leg[leg];
	struct sip_ctxn *t = calloc(1, sizeof(*t));
	char tok[20], sb[96], contact[SIP_URI_MAX];
	struct sipbuf b;

	if (t == NULL || sip_token(tok, 16) < 0) {
		free(t);
		return NULL;
	}
	sip_leg_reach(s, c, leg);      /* a leg without a flow since a restart */
	t->role = role;
	snprintf(t->method, sizeof(t->method), "%s", method);
	snprintf(t->branch, sizeof(t->branch), "%s%s", s->branch_prefix, tok);
	t->cseq = ++l->local_cseq;
	t->flow = l->flow;
	t->udp = l->proto == MR_SIP_UDP;
	t->call = c;
	t->leg = leg;
	sent_by(s, l, sb, sizeof(sb));
	t->ruri = dupf("%s", ruri != NULL ? ruri : l->target);
	t->via = dupf("Via: SIP/2.0/%s %s;branch=%s;rport\r\n", sip_proto_name(l->proto), sb,
		      t->branch);
	t->from = dupf("From: %s;tag=%s\r\n", l->local_uri, l->local_tag);
	t->to = l->remote_tag[0] != '\0' ? dupf("To: %s;tag=%s\r\n", l->remote_uri, l->remote_tag) :
		dupf("To: %s\r\n", l->remote_uri);
	t->callid = dupf("Call-ID: %s\r\n", l->call_id);
	if (t->ruri == NULL || t->via == NULL || t->from == NULL || t->to == NULL ||
	    t->callid == NULL) {
		t->call = NULL;
		sip_ctxn_free(s, t);
		return NULL;
	}
	sip_leg_contact(s, l, contact, sizeof(contact));
	sipbuf_init(&b, buf, sizeof(buf));
	sipbuf_printf(&b, "%s %s SIP/2.0\r\n%sMax-Forwards: 70\r\n%s%s%sCSeq: %u %s\r\n",
		      method, t->ruri, t->via, t->from, t->to, t->callid, t->cseq, method);
	if (strcmp(method, "INVITE") == 0 || strcmp(method, "UPDATE") == 0)
		sipbuf_printf(&b, "Contact: %s\r\nAllow: " SIP_ALLOW "\r\n", contact);
	sipbuf_printf(&b, "User-Agent: mrelay\r\n%s", extra != NULL ? extra : "");
	sipbuf_finish(&b, body, body_len);
	if (sipbuf_ok(&b)) {
		t->text = dupn(b.p, b.len);
		t->len = b.len;
	}
	return track(s, t, now_ms);
}

void
sip_ctxn_cancel(struct mr_sip *s, struct sip_ctxn *inv, uint64_t now_ms)
{
	struct sip_ctxn *t = calloc(1, sizeof(*t));
	char buf[4096];
	int n;

	if (t == NULL)
		return;
	*t = (struct sip_ctxn){ .role = TXN_CANCEL, .cseq = inv->cseq, .flow = inv->flow,
				.udp = inv->udp, .call = NULL, .leg = inv->leg };
	snprintf(t->method, sizeof(t->method), "CANCEL");
	snprintf(t->branch, sizeof(t->branch), "%s", inv->branch);
	t->ruri = dupf("%s", inv->ruri);
	t->via = dupf("%s", inv->via);
	t->from = dupf("%s", inv->from);
	t->to = dupf("%s", inv->to);
	t->callid = dupf("%s", inv->callid);
	n = snprintf(buf, sizeof(buf), "CANCEL %s SIP/2.0\r\n%sMax-Forwards: 70\r\n%s%s%s"
		     "CSeq: %u CANCEL\r\nContent-Length: 0\r\n\r\n", inv->ruri, inv->via, inv->from,
		     inv->to, inv->callid, inv->cseq);
	if (n > 0 && (size_t)n < sizeof(buf)) {
		t->text = dupn(buf, (size_t)n);
		t->len = (size_t)n;
	}
	track(s, t, now_ms);
}

void
sip_ctxn_ack_non2xx(struct mr_sip *s, struct sip_ctxn *t, const struct sipmsg *resp)
{
	char buf[4096];
	struct sipbuf b;

	sipbuf_init(&b, buf, sizeof(buf));
	sipbuf_printf(&b, "ACK %s SIP/2.0\r\n%sMax-Forwards: 70\r\n%s", t->ruri, t->via, t->from);
	sipbuf_header(&b, resp->sip->sip_to, false);
	sipbuf_printf(&b, "%sCSeq: %u ACK\r\n", t->callid, t->cseq);
	sipbuf_finish(&b, NULL, 0);
	if (sipbuf_ok(&b))
		sip_send(s, t->flow, b.p, b.len);
}

char *
sip_ack_2xx_build(struct mr_sip *s, const struct sip_ctxn *t, const struct sipmsg *resp,
		  size_t *ret_len)
{
	char buf[4096], ruri[SIP_URI_MAX], tok[20];
	const char *br = strstr(t->via, ";branch=");
	struct sipbuf b;

	if (br == NULL || sip_token(tok, 16) < 0)
		return NULL;
	ruri[0] = '\0';
	if (resp->sip->sip_contact != NULL)
		sip_url_str(resp->sip->sip_contact->m_url, ruri, sizeof(ruri));
	sipbuf_init(&b, buf, sizeof(buf));
	sipbuf_printf(&b, "ACK %s SIP/2.0\r\n%.*s;branch=%s%s;rport\r\nMax-Forwards: 70\r\n%s",
		      ruri[0] != '\0' ? ruri : t->ruri, (int)(br - t->via), t->via,
		      s->branch_prefix, tok, t->from);
	sipbuf_header(&b, resp->sip->sip_to, false);
	sipbuf_printf(&b, "%sCSeq: %u ACK\r\n", t->callid, t->cseq);
	sipbuf_finish(&b, NULL, 0);
	if (!sipbuf_ok(&b))
		return NULL;
	*ret_len = b.len;
	return dupn(b.p, b.len);
}

struct sip_ctxn *
sip_ctxn_match(struct mr_sip *s, const struct sipmsg *m)
{
	const char *br = sipmsg_branch(m);
	struct sip_hnode *n;
	struct sip_ctxn *t;

	for (n = s->ctxn_by_branch[branch_bucket(br)]; n != NULL; n = n->next) {
		t = n->obj;
		if (strcmp(t->branch, br) == 0 && strcmp(t->method, m->method) == 0 &&
		    t->cseq == m->sip->sip_cseq->cs_seq)
			return t;
	}
	return NULL;
}

void
sip_txn_tick(struct mr_sip *s, uint64_t now_ms)
{
	struct sip_hnode *n, *n_;
	struct sip_ctxn *t;
	bool inv;

	for (n = s->ctxns; n != NULL; n = n_) {
		t = n->obj;
		n_ = n->next;
		inv = strcmp(t->method, "INVITE") == 0;
		if (now_ms >= t->deadline_ms) {
			unlink_txn(t);
			if (t->done) {
				/* The common case (an INVITE's 32 s are up): nothing
				 * else changes, so go on from here. Starting again
				 * from the head each time cost the whole list per
				 * expiry, and at hundreds of calls a second hundreds
				 * expire each tick. */
				sip_ctxn_free(s, t);
				continue;
			}
			s->k.txn_timeouts++;
			sip_b2bua_timeout(s, t, now_ms);
			sip_ctxn_free(s, t);
			n_ = s->ctxns;          /* the handler may have changed the list */
			continue;
		}
		if (t->udp && !t->done && now_ms >= t->next_ms && !(inv && t->provisional)) {
			s->k.retransmits_out++;
			sip_send(s, t->flow, t->text, t->len);
			t->interval_ms *= 2;
			if (!inv && t->interval_ms > SIP_T2_MS)
				t->interval_ms = SIP_T2_MS;
			t->next_ms = now_ms + t->interval_ms;
		}
	}
}

void
sip_ctxn_done(struct mr_sip *s, struct sip_ctxn *t, uint64_t now_ms)
{
	if (strcmp(t->method, "INVITE") == 0) {
		/* Kept to ACK a retransmitted final response. */
		t->done = true;
		t->deadline_ms = now_ms + SIP_TXN_TIMEOUT_MS;
		return;
	}
	sip_ctxn_free(s, t);
}

void
sip_ctxns_forget_call(struct mr_sip *s, struct sip_call *c)
{
	(void)s;
	while (c->ctxns != NULL)
		sip_ctxn_detach(c->ctxns->obj);
	c->b_inv = NULL;
	c->re_out = NULL;
}

void
sip_ctxns_drop_flow(struct mr_sip *s, mr_flow_id id)
{
	struct sip_hnode *n, *n_;
	struct sip_ctxn *t;

	for (n = s->ctxn_by_flow[flow_bucket(id)]; n != NULL; n = n_) {
		n_ = n->next;
		t = n->obj;
		if (t->flow == id)
			sip_ctxn_free(s, t);
	}
}

void
sip_ctxns_free(struct mr_sip *s)
{
	struct sip_ctxn *t;

	while (s->ctxns != NULL) {
		t = s->ctxns->obj;
		sip_ctxn_detach(t);
		sip_ctxn_free(s, t);
	}
}

bool
sip_rcache_hit(struct mr_sip *s, const struct mr_sip_flow_info *f, const struct sipmsg *m,
	       uint64_t now_ms)
{
	char key[SIP_CALLID_MAX + 96];
	struct sip_rcache *e;

	sip_rcache_key(m, m->method, key, sizeof(key));
	for (e = s->rcache[sip_rcache_bucket(key, f->id)]; e != NULL; e = e->next)
		if (e->flow == f->id && e->expires_ms > now_ms && strcmp(e->key, key) == 0) {
			s->k.retransmits_in++;
			sip_send(s, f->id, e->text, e->len);
			return true;
		}
	return false;
}

void
sip_rcache_free(struct mr_sip *s)
{
	struct sip_rcache *e;
	unsigned int i;

	for (i = 0; i < SIP_RCACHE_BUCKETS; i++)
		while ((e = s->rcache[i]) != NULL) {
			s->rcache[i] = e->next;
			free(e->text);
			free(e);
		}
	s->n_rcache = 0;
}
