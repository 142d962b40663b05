/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Digest authentication of clients (digest.h, accounts.h): REGISTER gets
 * 401 + WWW-Authenticate, other requests 407 + Proxy-Authenticate, each
 * offering SHA-256 then MD5 (RFC 8760 section 2.4: the preferred first).
 * A response that does not verify, for an account that exists or not, gets
 * the same 403: nothing says which. An expired nonce of ours gets a new
 * challenge with stale=true, so the client retries without asking its user.
 * The authenticated name must be the From user (403 otherwise).
 *
 * Not done: nc replay tracking (a nonce is valid for SIP_NONCE_MAX_AGE_S
 * whatever its count); the TLS flow already keeps others from replaying.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip_header.h>

#include "sip_int.h"

/* The challenge list of the listener @f came in on (sip_config.h), else
 * the group's, else SHA-256 then MD5. */
static const struct mr_sip_digest_algs *
algs_of(const struct mr_sip *s, const struct mr_sip_flow_info *f)
{
	static const struct mr_sip_digest_algs def = { 2, { MR_DIGEST_SHA256, MR_DIGEST_MD5 } };

	if (f->listener >= 0 && (unsigned int)f->listener < s->cfg->n_tls &&
	    s->cfg->tls[f->listener].digest.n != 0)
		return &s->cfg->tls[f->listener].digest;
	return s->cfg->digest.n != 0 ? &s->cfg->digest : &def;
}

static bool
alg_offered(const struct mr_sip_digest_algs *d, enum mr_digest_alg alg)
{
	unsigned int i;

	for (i = 0; i < d->n; i++)
		if (d->alg[i] == alg)
			return true;
	return false;
}

static void
challenge(struct mr_sip *s, const struct mr_sip_flow_info *f, const struct sipmsg *m, bool reg,
	  bool stale, uint64_t now_ms)
{
	const char *hname = reg ? "WWW-Authenticate" : "Proxy-Authenticate";
	char nonce[MR_DIGEST_NONCE_LEN + 1], val[512], extra[1200], tag[16];
	struct sipbuf b;
	unsigned int i;

	if (mr_digest_nonce_make(s->secret, sizeof(s->secret), now_ms / 1000, nonce) < 0) {
		sip_respond(s, f, m, 500, NULL, NULL, NULL, 0, now_ms);
		return;
	}
	sipbuf_init(&b, extra, sizeof(extra));
	for (i = 0; i < algs_of(s, f)->n; i++) {
		if (mr_digest_challenge(val, sizeof(val), s->cfg->domain, nonce,
					(enum mr_digest_alg)algs_of(s, f)->alg[i], stale) < 0)
			continue;
		sipbuf_printf(&b, "%s: %s\r\n", hname, val);
	}
	sip_token(tag, 10);
	s->k.auth_challenges++;
	sip_respond(s, f, m, reg ? 401 : 407, tag, sipbuf_ok(&b) ? extra : NULL, NULL, 0, now_ms);
}

static void
forbid(struct mr_sip *s, const struct mr_sip_flow_info *f, const struct sipmsg *m,
       uint64_t now_ms)
{
	char tag[16];

	sip_token(tag, 10);
	s->k.auth_failures++;
	sip_respond(s, f, m, 403, tag, NULL, NULL, 0, now_ms);
}

/* The credentials for our realm, parsed; -ENOENT if none. */
static int
creds_for_realm(const struct mr_sip *s, const msg_auth_t *h, struct mr_digest_creds *c)
{
	char buf[MR_DIGEST_HDR_MAX + 64];
	const char *v;
	issize_t n;

	for (; h != NULL; h = h->au_next) {
		n = msg_header_e(buf, sizeof(buf), (const msg_header_t *)h, 0);
		if (n < 0 || (size_t)n >= sizeof(buf))
			continue;
		v = strchr(buf, ':');
		if (v == NULL)
			continue;
		v++;
		while (*v == ' ')
			v++;
		n = (issize_t)strlen(v);
		while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n'))
			n--;
		if (mr_digest_parse(v, (size_t)n, c, NULL, 0) < 0)
			continue;
		if (c->realm != NULL && strcmp(c->realm, s->cfg->domain) == 0)
			return 0;
	}
	return -ENOENT;
}

int
sip_auth(struct mr_sip *s, const struct mr_sip_flow_info *f, const struct sipmsg *m,
	 char *ret_name, size_t cap, uint64_t now_ms)
{
	bool reg = strcmp(m->method, "REGISTER") == 0;
	const sip_t *sip = m->sip;
	struct mr_digest_creds c;
	char ha1[MR_DIGEST_HEX_MAX];
	const char *user = sip->sip_from->a_url->url_user;
	int r;

	r = creds_for_realm(s, reg ? sip->sip_authorization : sip->sip_proxy_authorization, &c);
	if (r < 0)
		r = creds_for_realm(s, reg ? sip->sip_proxy_authorization : sip->sip_authorization,
				    &c);
	if (r < 0) {
		challenge(s, f, m, reg, false, now_ms);
		return 1;
	}
	r = mr_digest_nonce_check(s->secret, sizeof(s->secret), c.nonce, now_ms / 1000,
				  SIP_NONCE_MAX_AGE_S);
	if (r == -ESTALE || r < 0) {
		challenge(s, f, m, reg, r == -ESTALE, now_ms);
		return 1;
	}
	if (c.uri == NULL || m->ruri == NULL || strlen(c.uri) != m->ruri_len ||
	    memcmp(c.uri, m->ruri, m->ruri_len) != 0 || user == NULL ||
	    strcmp(c.username, user) != 0 || !mr_accounts_name_valid(c.username) ||
	    strlen(c.username) >= cap || !alg_offered(algs_of(s, f), (enum mr_digest_alg)c.alg)) {
		forbid(s, f, m, now_ms);
		return 1;
	}
	r = mr_accounts_lookup_ha1(s->acc, c.username, (enum mr_digest_alg)c.alg, ha1);
	if (r == 0)
		r = mr_digest_verify(&c, m->method, ha1);
	OPENSSL_cleanse(ha1, sizeof(ha1));
	if (r != 0) {
		forbid(s, f, m, now_ms);
		return 1;
	}
	snprintf(ret_name, cap, "%s", c.username);
	return 0;
}
