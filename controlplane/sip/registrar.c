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

static void
unlink_free(struct mr_sip *s, struct sip_binding **pp)
{
	struct sip_binding *b = *pp;

	*pp = b->next;
	free(b);
	s->k.bindings--;
}

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
     unsigned long reg_id, struct sip_binding ***ret_pp)
{
	struct sip_binding **pp, *b;

	for (pp = &s->bindings; (b = *pp) != NULL; pp = &b->next) {
		if (strcmp(b->account, account) != 0)
			continue;
		if (instance[0] != '\0' ? strcmp(b->instance, instance) == 0 && b->reg_id == reg_id :
		    b->instance[0] == '\0' && strcmp(b->contact, contact) == 0) {
			*ret_pp = pp;
			return b;
		}
	}
	return NULL;
}

static unsigned int
count(const struct mr_sip *s, const char *account)
{
	const struct sip_binding *b;
	unsigned int n = 0;

	for (b = s->bindings; b != NULL; b = b->next)
		n += strcmp(b->account, account) == 0;
	return n;
}

static void
drop_oldest(struct mr_sip *s, const char *account)
{
	struct sip_binding **pp, **old = NULL;

	for (pp = &s->bindings; *pp != NULL; pp = &(*pp)->next)
		if (strcmp((*pp)->account, account) == 0 &&
		    (old == NULL || (*pp)->created_ms < (*old)->created_ms))
			old = pp;
	if (old != NULL)
		unlink_free(s, old);
}

static void
ok(struct mr_sip *s, const struct mr_sip_flow_info *f, const struct sipmsg *m,
   const char *account, uint64_t now_ms)
{
	static char extra[8192];
	struct sip_binding *b;
	struct sipbuf sb;
	bool outbound = false;
	char tag[16];

	sipbuf_init(&sb, extra, sizeof(extra));
	for (b = s->bindings; b != NULL; b = b->next) {
		if (strcmp(b->account, account) != 0)
			continue;
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
	struct sip_binding *b, **pp;

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
		b = find(s, name, uri, inst != NULL ? inst : "", reg_id, &pp);
		if (e == 0) {
			if (b != NULL)
				unlink_free(s, pp);
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
			b->next = s->bindings;
			s->bindings = b;
			s->k.bindings++;
		}
		snprintf(b->contact, sizeof(b->contact), "%s", uri);
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
}

struct sip_binding *
sip_binding_newest(struct mr_sip *s, const char *account)
{
	struct sip_binding *b, *best = NULL;

	for (b = s->bindings; b != NULL; b = b->next)
		if (strcmp(b->account, account) == 0 &&
		    (best == NULL || b->created_ms >= best->created_ms))
			best = b;
	return best;
}

unsigned int
sip_bindings_drop_flow(struct mr_sip *s, mr_flow_id id)
{
	struct sip_binding **pp = &s->bindings;
	unsigned int n = 0;

	while (*pp != NULL) {
		if ((*pp)->flow == id) {
			unlink_free(s, pp);
			n++;
		} else {
			pp = &(*pp)->next;
		}
	}
	return n;
}

unsigned int
sip_bindings_drop_account(struct mr_sip *s, const char *account)
{
	struct sip_binding **pp = &s->bindings;
	unsigned int n = 0;

	while (*pp != NULL) {
		if (strcmp((*pp)->account, account) == 0) {
			unlink_free(s, pp);
			n++;
		} else {
			pp = &(*pp)->next;
		}
	}
	return n;
}

void
sip_bindings_expire(struct mr_sip *s, uint64_t now_ms)
{
	struct sip_binding **pp = &s->bindings;

	while (*pp != NULL) {
		if ((*pp)->expires_ms <= now_ms)
			unlink_free(s, pp);
		else
			pp = &(*pp)->next;
	}
}

void
sip_bindings_free(struct mr_sip *s)
{
	while (s->bindings != NULL)
		unlink_free(s, &s->bindings);
}
