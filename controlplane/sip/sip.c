/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The SIP front-end's entry points (sip.h): construction, the dispatch of
 * each message the transport hands up, timers, flows that close, accounts
 * that are revoked. The work is in registrar.c, auth.c, txn.c and b2bua*.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/su_alloc.h>

#include "sip_int.h"

#define CDR_PURGE_EVERY_MS (3600u * 1000u)

/* Option-tags a request may Require of us. */
static const char *const supported_tags[] = { "timer", "outbound", NULL };

static int
load_secret(const char *path, uint8_t *secret, size_t n, char *err, size_t errlen)
{
	ssize_t got;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0)
			goto err_open;
		if (RAND_bytes(secret, (int)n) != 1 || write(fd, secret, n) != (ssize_t)n ||
		    fsync(fd) < 0) {
			close(fd);
			unlink(path);
			snprintf(err, errlen, "%s: cannot write a new nonce secret", path);
			return -EIO;
		}
		close(fd);
		return 0;
	}
	if (fd < 0)
		goto err_open;
	(void)fchmod(fd, 0600);
	got = read(fd, secret, n);
	close(fd);
	if (got != (ssize_t)n) {
		snprintf(err, errlen, "%s: nonce secret shorter than %zu bytes", path, n);
		return -EINVAL;
	}
	return 0;
err_open:
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return -errno;
}

struct mr_sip *
mr_sip_new(const struct mr_sip_params *p, char *err, size_t errlen)
{
	struct mr_sip *s;
	char tok[12];
	int r;

	if (p == NULL || p->cfg == NULL || p->ng == NULL || p->io.send == NULL ||
	    p->nonce_secret_path == NULL) {
		snprintf(err, errlen, "sip: missing parameters");
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		snprintf(err, errlen, "sip: out of memory");
		return NULL;
	}
	s->cfg = p->cfg;
	s->ng = p->ng;
	s->io = p->io;
	if (p->default_iface != NULL)
		snprintf(s->default_iface, sizeof(s->default_iface), "%s", p->default_iface);
	r = load_secret(p->nonce_secret_path, s->secret, sizeof(s->secret), err, errlen);
	if (r < 0)
		goto err_free;
	r = mr_accounts_open(p->cfg->accounts_db, p->cfg->domain, &s->acc);
	if (r < 0) {
		snprintf(err, errlen, "%s: cannot open the account store: %s", p->cfg->accounts_db,
			 strerror(-r));
		goto err_wipe;
	}
	r = mr_cdr_open(p->cfg->cdr_db, &s->cdr);
	if (r < 0) {
		snprintf(err, errlen, "%s: cannot open the CDR store: %s", p->cfg->cdr_db,
			 strerror(-r));
		goto err_accounts;
	}
	if (sip_token(tok, 8) < 0) {
		r = -EIO;
		snprintf(err, errlen, "sip: no randomness");
		goto err_cdr;
	}
	snprintf(s->branch_prefix, sizeof(s->branch_prefix), SIP_BRANCH_MAGIC "-mr%s-", tok);
	/* NG cookies of this instance: not those of the one before a restart,
	 * whose replies NG may still hold in its retransmission cache. */
	if (RAND_bytes((unsigned char *)&s->ng_cookie, sizeof(s->ng_cookie)) != 1) {
		r = -EIO;
		snprintf(err, errlen, "sip: no randomness");
		goto err_cdr;
	}
	s->ng_cookie >>= 1;     /* room to count */
	r = sip_dialog_store_open(s, p->state_dir);
	if (r < 0) {
		snprintf(err, errlen, "%s/sip-dialogs: %s", p->state_dir, strerror(-r));
		goto err_cdr;
	}
	sip_dialogs_recover(s);
	return s;
err_cdr:
	mr_cdr_close(s->cdr);
err_accounts:
	mr_accounts_close(s->acc);
err_wipe:
	OPENSSL_cleanse(s->secret, sizeof(s->secret));
err_free:
	free(s);
	errno = -r;
	return NULL;
}

void
mr_sip_free(struct mr_sip *s)
{
	if (s == NULL)
		return;
	/* Confirmed calls with a dialog file stay for the next start (their
	 * media stays in the region); the others end. */
	while (s->calls != NULL) {
		struct sip_call *c = s->calls->obj;

		if (c->persisted && c->state == CALL_CONFIRMED)
			sip_call_forget(s, c);
		else
			sip_call_end(s, c, "shutdown", 503, -1, 0);
	}
	sip_ctxns_free(s);
	sip_rcache_free(s);
	sip_bindings_free(s);
	mr_cdr_close(s->cdr);
	mr_accounts_close(s->acc);
	OPENSSL_cleanse(s->secret, sizeof(s->secret));
	free(s);
}

const struct mr_sip_counters *
mr_sip_counters(const struct mr_sip *s)
{
	return &s->k;
}

int
sip_send(struct mr_sip *s, mr_flow_id flow, const char *text, size_t len)
{
	int r;

	if (flow == 0) {
		s->k.send_failures++;
		return -ENOTCONN;
	}
	r = s->io.send(s->io.ctx, flow, text, len);
	if (r < 0)
		s->k.send_failures++;
	return r;
}

void
sip_rcache_key(const struct sipmsg *m, const char *method, char *out, size_t cap)
{
	snprintf(out, cap, "%s|%s|%u|%s", m->sip->sip_call_id->i_id, sipmsg_branch(m),
		 m->sip->sip_cseq->cs_seq, method);
}

/* FNV-1a over the key, then the flow id: a lookup walks one bucket, not
 * every response of the last 32 s (which made each message cost O(load)). */
unsigned int
sip_rcache_bucket(const char *key, mr_flow_id flow)
{
	return sip_hash_fold(sip_hash_u64(sip_hash_str(SIP_HASH_INIT, key), flow),
			     SIP_RCACHE_BUCKETS);
}

void
sip_rcache_put(struct mr_sip *s, const char *key, mr_flow_id flow, const char *text, size_t len,
	       uint64_t now_ms)
{
	struct sip_rcache **head = &s->rcache[sip_rcache_bucket(key, flow)];
	struct sip_rcache *e;
	char *copy = malloc(len);

	if (copy == NULL)
		return;
	memcpy(copy, text, len);
	for (e = *head; e != NULL; e = e->next)
		if (e->flow == flow && strcmp(e->key, key) == 0)
			break;
	if (e == NULL) {
		e = calloc(1, sizeof(*e));
		if (e == NULL) {
			free(copy);
			return;
		}
		snprintf(e->key, sizeof(e->key), "%s", key);
		e->flow = flow;
		e->next = *head;
		*head = e;
		s->n_rcache++;
	}
	free(e->text);
	e->text = copy;
	e->len = len;
	e->expires_ms = now_ms + SIP_RCACHE_TTL_MS;
}

void
sip_respond(struct mr_sip *s, const struct mr_sip_flow_info *f, const struct sipmsg *m, int code,
	    const char *to_tag, const char *extra, const char *body, size_t body_len,
	    uint64_t now_ms)
{
	static char buf[MR_SIP_MSG_MAX];
	const sip_t *sip = m->sip;
	char key[SIP_CALLID_MAX + 96];
	struct sipbuf b;

	sipbuf_init(&b, buf, sizeof(buf));
	sipbuf_printf(&b, "SIP/2.0 %d %s\r\n", code, sip_phrase(code));
	sipbuf_header(&b, sip->sip_via, true);
	sipbuf_header(&b, sip->sip_from, false);
	sipbuf_header(&b, sip->sip_to, false);
	if (sip->sip_to->a_tag == NULL && to_tag != NULL && to_tag[0] != '\0' && code != 100 &&
	    b.len >= 2) {
		b.len -= 2;     /* the To line's CRLF */
		sipbuf_printf(&b, ";tag=%s\r\n", to_tag);
	}
	sipbuf_header(&b, sip->sip_call_id, false);
	sipbuf_header(&b, sip->sip_cseq, false);
	sipbuf_printf(&b, "Server: mrelay\r\n%s", extra != NULL ? extra : "");
	sipbuf_finish(&b, body, body_len);
	if (!sipbuf_ok(&b))
		return;
	sip_send(s, f->id, b.p, b.len);
	if (strcmp(m->method, "ACK") != 0) {
		sip_rcache_key(m, m->method, key, sizeof(key));
		sip_rcache_put(s, key, f->id, b.p, b.len, now_ms);
	}
}

void
sip_leg_contact(const struct mr_sip *s, const struct sip_leg *l, char *out, size_t cap)
{
	char hp[80];
	const struct mr_sockaddr *a = &l->local;
	const char *tp = l->proto == MR_SIP_TLS ? ";transport=tls" :
			 l->proto == MR_SIP_TCP ? ";transport=tcp" : "";

	if (a->family == MR_AF_NONE) {
		/* A dialled trunk: the listener it would reach us on. */
		if (l->proto == MR_SIP_UDP && s->cfg->n_plain_udp > 0)
			a = &s->cfg->plain_udp[0];
		else if (l->proto == MR_SIP_TCP && s->cfg->n_plain_tcp > 0)
			a = &s->cfg->plain_tcp[0];
		else if (s->cfg->n_tls > 0)
			a = &s->cfg->tls[0].addr;
	}
	sip_hostport(a, hp, sizeof(hp));
	if (hp[0] == '\0')
		snprintf(hp, sizeof(hp), "%.70s", s->cfg->domain);
	snprintf(out, cap, "<sip:mrelay@%s%s>", hp, tp);
}

static bool
tag_supported(const char *tag)
{
	unsigned int i;

	for (i = 0; supported_tags[i] != NULL; i++)
		if (strcasecmp(tag, supported_tags[i]) == 0)
			return true;
	return false;
}

/* 420 for a Require we do not support. True if answered. */
static bool
check_require(struct mr_sip *s, const struct mr_sip_flow_info *f, const struct sipmsg *m,
	      uint64_t now_ms)
{
	const msg_list_t *l;
	struct sipbuf b;
	char extra[512];
	bool bad = false;
	size_t i;

	sipbuf_init(&b, extra, sizeof(extra));
	sipbuf_printf(&b, "Unsupported: ");
	for (l = m->sip->sip_require; l != NULL; l = l->k_next)
		for (i = 0; l->k_items != NULL && l->k_items[i] != NULL; i++) {
			if (tag_supported(l->k_items[i]))
				continue;
			sipbuf_printf(&b, "%s%s", bad ? ", " : "", l->k_items[i]);
			bad = true;
		}
	if (!bad)
		return false;
	sipbuf_printf(&b, "\r\n");
	sip_respond(s, f, m, 420, NULL, sipbuf_ok(&b) ? extra : NULL, NULL, 0, now_ms);
	return true;
}

static bool
looped(const struct mr_sip *s, const struct sipmsg *m)
{
	const sip_via_t *v;
	size_t n = strlen(s->branch_prefix);

	for (v = m->sip->sip_via; v != NULL; v = v->v_next)
		if (v->v_branch != NULL && strncmp(v->v_branch, s->branch_prefix, n) == 0)
			return true;
	return false;
}

static void
request(struct mr_sip *s, const struct mr_sip_flow_info *f, const struct sipmsg *m,
	uint64_t now_ms)
{
	const char *meth = m->method;
	bool ack = strcmp(meth, "ACK") == 0;

	if (!ack && sip_rcache_hit(s, f, m, now_ms))
		return;
	if (!ack && strcmp(meth, "CANCEL") != 0) {
		if (m->sip->sip_max_forwards != NULL && m->sip->sip_max_forwards->mf_count == 0) {
			s->k.too_many_hops++;
			sip_respond(s, f, m, 483, NULL, NULL, NULL, 0, now_ms);
			return;
		}
		if (looped(s, m)) {
			s->k.loops++;
			sip_respond(s, f, m, 482, NULL, NULL, NULL, 0, now_ms);
			return;
		}
		if (check_require(s, f, m, now_ms))
			return;
	}
	if (strcmp(meth, "REGISTER") == 0) {
		sip_register(s, f, m, now_ms);
	} else if (strcmp(meth, "OPTIONS") == 0) {
		/* Capabilities only, so no authentication: clients use OPTIONS as a
		 * keep-alive without credentials. */
		sip_respond(s, f, m, 200, NULL,
			    "Allow: " SIP_ALLOW "\r\nAccept: application/sdp\r\n"
			    "Supported: " SIP_SUPPORTED "\r\n", NULL, 0, now_ms);
	} else if (strcmp(meth, "INVITE") == 0 || ack || strcmp(meth, "BYE") == 0 ||
		   strcmp(meth, "CANCEL") == 0 || strcmp(meth, "UPDATE") == 0 ||
		   strcmp(meth, "PRACK") == 0) {
		sip_b2bua_request(s, f, m, now_ms);
	} else {
		static const char *const known[] = { "SUBSCRIBE", "NOTIFY", "MESSAGE", "REFER",
						     "PUBLISH", "INFO", NULL };
		unsigned int i;
		int code = 501;

		for (i = 0; known[i] != NULL; i++)
			if (strcmp(meth, known[i]) == 0)
				code = 405;
		sip_respond(s, f, m, code, NULL, "Allow: " SIP_ALLOW "\r\n", NULL, 0, now_ms);
	}
}

/*
 * The top Via of a request as RFC 3261 18.2.1 and RFC 3581 4 want it in our
 * responses: received=IP when the sent-by host is not the address the
 * request came from (always with rport), rport=PORT when the client asked
 * with an empty rport. Behind a NAT that is how a client learns the
 * address and port its flow has outside (baresip and linphone send rport;
 * linphone uses the answer to fix its Contact). Responses go back over the
 * request's flow whatever Via says, so this only informs the client.
 */
static void
via_received(struct sipmsg *m, const struct mr_sip_flow_info *f)
{
	sip_via_t *v = m->sip != NULL ? m->sip->sip_via : NULL;
	char ip[INET6_ADDRSTRLEN], param[INET6_ADDRSTRLEN + 16];
	su_home_t *home = msg_home(m->msg);
	char *p;

	if (v == NULL || v->v_host == NULL ||
	    inet_ntop(f->peer.family == MR_AF_INET6 ? AF_INET6 : AF_INET, f->peer.ip, ip,
		      sizeof(ip)) == NULL || f->peer.family == MR_AF_NONE)
		return;
	/* sofia-sip keeps the parameter string itself: it must live in the
	 * message's home, as long as the message. */
	if (v->v_rport != NULL) {
		snprintf(param, sizeof(param), "rport=%u", (unsigned int)ntohs(f->peer.port_be));
		p = su_strdup(home, param);
		if (p != NULL)
			(void)msg_header_replace_param(home, v->v_common, p);
	}
	if (v->v_rport != NULL || strcasecmp(v->v_host, ip) != 0) {
		snprintf(param, sizeof(param), "received=%s", ip);
		p = su_strdup(home, param);
		if (p != NULL)
			(void)msg_header_replace_param(home, v->v_common, p);
	}
}

void
mr_sip_on_message(struct mr_sip *s, const struct mr_sip_flow_info *f, const char *msg, size_t len,
		  uint64_t now_ms)
{
	struct sipmsg m;
	int r;

	s->k.msgs_in++;
	r = sipmsg_parse(msg, len, &m);
	if (r == -EINVAL) {
		s->k.dropped++;
		return;
	}
	if (m.request && m.respondable)
		via_received(&m, f);
	if (r < 0) {
		if (m.respondable && strcmp(m.method != NULL ? m.method : "ACK", "ACK") != 0) {
			s->k.bad_requests++;
			sip_respond(s, f, &m, 400, NULL, NULL, NULL, 0, now_ms);
		} else {
			s->k.dropped++;
		}
		sipmsg_free(&m);
		return;
	}
	if (m.request)
		request(s, f, &m, now_ms);
	else
		sip_b2bua_response(s, f, &m, now_ms);
	sipmsg_free(&m);
}

void
mr_sip_on_closed(struct mr_sip *s, mr_flow_id id, uint64_t now_ms)
{
	sip_bindings_drop_flow(s, id);
	sip_calls_flow_lost(s, id, now_ms);
	sip_ctxns_drop_flow(s, id);
}

void
mr_sip_tick(struct mr_sip *s, uint64_t now_ms)
{
	struct sip_rcache **pp, *e;
	unsigned int i;

	sip_txn_tick(s, now_ms);
	sip_calls_tick(s, now_ms);
	sip_bindings_expire(s, now_ms);
	for (i = 0; i < SIP_RCACHE_BUCKETS && s->n_rcache > 0; i++) {
		for (pp = &s->rcache[i]; (e = *pp) != NULL;) {
			if (e->expires_ms <= now_ms) {
				*pp = e->next;
				free(e->text);
				free(e);
				s->n_rcache--;
			} else {
				pp = &e->next;
			}
		}
	}
	if (s->cfg->cdr_retention_days > 0 &&
	    (s->last_purge_ms == 0 || now_ms - s->last_purge_ms >= CDR_PURGE_EVERY_MS)) {
		s->last_purge_ms = now_ms;
		mr_cdr_purge(s->cdr, (int64_t)time(NULL) -
				     (int64_t)s->cfg->cdr_retention_days * 86400);
	}
}

unsigned int
mr_sip_account_revoked(struct mr_sip *s, const char *name, uint64_t now_ms)
{
	sip_bindings_drop_account(s, name);
	return sip_calls_revoke(s, name, now_ms);
}
