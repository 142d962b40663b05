/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The registrar: REGISTER with digest authentication (auth.c) binds an
 * account to the flow the REGISTER came on (RFC 5626: the connection the
 * client opened is the only way we ever reach it), with its Contact URI,
 * expiry and, when given, +sip.instance and reg-id. A binding is replaced
 * by a REGISTER for the same instance and reg-id (else the same Contact);
 * it goes when it expires, when its flow closes, or when its account is
 * revoked. Expires shorter than reg_min_expires_s get 423, longer ones are
 * cut to reg_max_expires_s.
 *
 * Bindings are found by account (a REGISTER, a call to the account, a
 * revocation: one hash chain, holding its at most MAX_BINDINGS_PER_ACCOUNT
 * and those of the accounts that share the bucket) and by flow (a flow that
 * closes: the chain of that flow's bindings); only expiry walks them all.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/url.h>

#include "sip_int.h"

#define DEFAULT_EXPIRES_S 3600u
#define MAX_BINDINGS_PER_ACCOUNT 8u

static uint32_t
min_expires(const struct mr_sip *s)
{
	return s->cfg->reg_min_expires_s != 0 ? s->cfg->reg_min_expires_s : 60;
}

static uint32_t
max_expires(const struct mr_sip *s)
{
	return s->cfg->reg_max_expires_s != 0 ? s->cfg->reg_max_expires_s : 3600;
}

static struct sip_hnode **
account_chain(struct mr_sip *s, const char *account)
{
	return &s->bind_by_account[sip_hash_fold(sip_hash_str(SIP_HASH_INIT, account),
						 SIP_BIND_BUCKETS)];
}

static struct sip_hnode **
flow_chain(struct mr_sip *s, mr_flow_id flow)
{
	return &s->bind_by_flow[sip_hash_fold(sip_hash_u64(SIP_HASH_INIT, flow), SIP_BIND_BUCKETS)];
}

static void
unlink_free(struct mr_sip *s, struct sip_binding *b)
{
	sip_hnode_del(&b->all);
	sip_hnode_del(&b->by_account);
	sip_hnode_del(&b->by_flow);
	free(b);
	s->k.bindings--;
}

/* Walk account @a's bindings, newest first: the chain filtered on it.
 * The body may free the current one (@n_ holds the next link). */
#define for_each_of_account(s, a, b, n, n_)                                          \
	for ((n) = *account_chain((s), (a)); (n) != NULL && ((n_) = (n)->next, 1);     \
	     (n) = (n_))                                                                  \
		if (((b) = (n)->obj), strcmp((b)->account, (a)) != 0) {                   \
		} else

/* The Contact's expiry in seconds (header param, else Expires, else default). */
static unsigned long
contact_expires(const struct sipmsg *m, const sip_contact_t *c)
{
	char *end;
	unsigned long v;

	if (c->m_expires != NULL) {
		v = strtoul(c->m_expires, &end, 10);
		return *end == '\0' ? v : DEFAULT_EXPIRES_S;
	}
	if (m->sip->sip_expires != NULL)
		return m->sip->sip_expires->ex_delta;
	return DEFAULT_EXPIRES_S;
}

static struct sip_binding *
find(struct mr_sip *s, const char *account, const char *contact, const char *instance,
     unsigned long reg_id)
{
	struct sip_hnode *n, *n_;
	struct sip_binding *b;

	for_each_of_account(s, account, b, n, n_)
		if (instance[0] != '\0' ? strcmp(b->instance, instance) == 0 && b->reg_id == reg_id :
		    b->instance[0] == '\0' && strcmp(b->contact, contact) == 0)
			return b;
	return NULL;
}

static unsigned int
count(struct mr_sip *s, const char *account)
{
	struct sip_hnode *n, *n_;
	struct sip_binding *b;
	unsigned int k = 0;

	for_each_of_account(s, account, b, n, n_)
		k++;
	return k;
}

static void
drop_oldest(struct mr_sip *s, const char *account)
{
	struct sip_hnode *n, *n_;
	struct sip_binding *b, *old = NULL;

	for_each_of_account(s, account, b, n, n_)
		if (old == NULL || b->created_ms < old->created_ms)
			old = b;
	if (old != NULL)
		unlink_free(s, old);
}

static void
ok(struct mr_sip *s, const struct mr_sip_flow_info *f, const struct sipmsg *m,
   const char *account, uint64_t now_ms)
{
	static char extra[8192];
	struct sip_hnode *n, *n_;
	struct sip_binding *b;
	struct sipbuf sb;
	bool outbound = false;
	char tag[16];

	sipbuf_init(&sb, extra, sizeof(extra));
	for_each_of_account(s, account, b, n, n_) {
		sipbuf_printf(&sb, "Contact: <%s>;expires=%llu", b->contact,
			      (unsigned long long)((b->expires_ms - now_ms + 999) / 1000));
		if (b->instance[0] != '\0')
			sipbuf_printf(&sb, ";+sip.instance=%s", b->instance);
		if (b->reg_id != 0) {
			sipbuf_printf(&sb, ";reg-id=%lu", b->reg_id);
			outbound = b->flow == f->id;
		}
		sipbuf_printf(&sb, "\r\n");
	}
	if (outbound && sipmsg_list_has(m->sip->sip_supported, "outbound"))
		sipbuf_printf(&sb, "Require: outbound\r\n");
	sipbuf_printf(&sb, "Supported: " SIP_SUPPORTED "\r\n");
	sip_token(tag, 10);
	s->k.registrations++;
	sip_respond(s, f, m, 200, tag, sipbuf_ok(&sb) ? extra : NULL, NULL, 0, now_ms);
}

void
sip_register(struct mr_sip *s, const struct mr_sip_flow_info *f, const struct sipmsg *m,
	     uint64_t now_ms)
{
	const sip_t *sip = m->sip;
	const sip_contact_t *c;
	char name[MR_ACCOUNTS_NAME_MAX + 1], tag[16], extra[64];
	struct sip_binding *b;

	sip_token(tag, 10);
	if (f->trunk >= 0) {
		sip_respond(s, f, m, 403, tag, NULL, NULL, 0, now_ms);
		return;
	}
	if (sip_auth(s, f, m, name, sizeof(name), now_ms) != 0)
		return;
	if (sip->sip_to->a_url->url_user == NULL || strcmp(sip->sip_to->a_url->url_user, name) != 0) {
		s->k.auth_failures++;
		sip_respond(s, f, m, 403, tag, NULL, NULL, 0, now_ms);
		return;
	}
	/* Check every Contact before changing anything. */
	for (c = sip->sip_contact; c != NULL; c = c->m_next) {
		unsigned long e;

		if (c->m_url->url_type == url_any) {
			if (sip->sip_contact->m_next != NULL || sip->sip_expires == NULL ||
			    sip->sip_expires->ex_delta != 0) {
				sip_respond(s, f, m, 400, tag, NULL, NULL, 0, now_ms);
				return;
			}
			sip_bindings_drop_account(s, name);
			ok(s, f, m, name, now_ms);
			return;
		}
		e = contact_expires(m, c);
		if (e != 0 && e < min_expires(s)) {
			snprintf(extra, sizeof(extra), "Min-Expires: %u\r\n", min_expires(s));
			sip_respond(s, f, m, 423, tag, extra, NULL, 0, now_ms);
			return;
		}
	}
	for (c = sip->sip_contact; c != NULL; c = c->m_next) {
		char uri[SIP_URI_MAX];
		const char *inst = msg_params_find(c->m_params, "+sip.instance=");
		const char *rid = msg_params_find(c->m_params, "reg-id=");
		unsigned long e = contact_expires(m, c), reg_id = rid != NULL ? strtoul(rid, NULL, 10) : 0;

		sip_url_str(c->m_url, uri, sizeof(uri));
		if (uri[0] == '\0' || (inst != NULL && strlen(inst) >= sizeof(b->instance)))
			continue;
		b = find(s, name, uri, inst != NULL ? inst : "", reg_id);
		if (e == 0) {
			if (b != NULL)
				unlink_free(s, b);
			continue;
		}
		if (e > max_expires(s))
			e = max_expires(s);
		if (b == NULL) {
			if (count(s, name) >= MAX_BINDINGS_PER_ACCOUNT)
				drop_oldest(s, name);
			b = calloc(1, sizeof(*b));
			if (b == NULL)
				break;
			snprintf(b->account, sizeof(b->account), "%s", name);
			snprintf(b->instance, sizeof(b->instance), "%s", inst != NULL ? inst : "");
			b->reg_id = reg_id;
			sip_hnode_add(&s->bindings, &b->all, b);
			sip_hnode_add(account_chain(s, name), &b->by_account, b);
			s->k.bindings++;
		}
		snprintf(b->contact, sizeof(b->contact), "%s", uri);
		if (b->by_flow.pprev == NULL || b->flow != f->id) {
			sip_hnode_del(&b->by_flow);
			sip_hnode_add(flow_chain(s, f->id), &b->by_flow, b);
		}
		b->flow = f->id;
		b->proto = f->proto;
		b->local = f->local;
		b->listener = f->listener;
		b->expires_ms = now_ms + (uint64_t)e * 1000;
		b->created_ms = now_ms;
		snprintf(b->call_id, sizeof(b->call_id), "%s", sip->sip_call_id->i_id);
		b->cseq = sip->sip_cseq->cs_seq;
	}
	ok(s, f, m, name, now_ms);
	if (sip_binding_on_flow(s, f->id, name))
		sip_dialogs_rebind(s, name, f, now_ms);    /* calls from before a restart */
}

struct sip_binding *
sip_binding_newest(struct mr_sip *s, const char *account)
{
	struct sip_hnode *n, *n_;
	struct sip_binding *b, *best = NULL;

	for_each_of_account(s, account, b, n, n_)
		if (best == NULL || b->created_ms >= best->created_ms)
			best = b;
	return best;
}

unsigned int
sip_bindings_drop_flow(struct mr_sip *s, mr_flow_id id)
{
	struct sip_hnode *n, *n_;
	struct sip_binding *b;
	unsigned int k = 0;

	for (n = *flow_chain(s, id); n != NULL; n = n_) {
		n_ = n->next;
		b = n->obj;
		if (b->flow == id) {
			unlink_free(s, b);
			k++;
		}
	}
	return k;
}

unsigned int
sip_bindings_drop_account(struct mr_sip *s, const char *account)
{
	struct sip_hnode *n, *n_;
	struct sip_binding *b;
	unsigned int k = 0;

	for_each_of_account(s, account, b, n, n_) {
		unlink_free(s, b);
		k++;
	}
	return k;
}

void
sip_bindings_expire(struct mr_sip *s, uint64_t now_ms)
{
	struct sip_hnode *n, *n_;

	for (n = s->bindings; n != NULL; n = n_) {
		n_ = n->next;
		if (((struct sip_binding *)n->obj)->expires_ms <= now_ms)
			unlink_free(s, n->obj);
	}
}

void
sip_bindings_free(struct mr_sip *s)
{
	while (s->bindings != NULL)
		unlink_free(s, s->bindings->obj);
}

bool
sip_binding_on_flow(struct mr_sip *s, mr_flow_id flow, const char *account)
{
	struct sip_hnode *n;
	struct sip_binding *b;

	if (flow == 0)
		return false;
	for (n = *flow_chain(s, flow); n != NULL; n = n->next) {
		b = n->obj;
		if (b->flow == flow && strcmp(b->account, account) == 0)
			return true;
	}
	return false;
}
