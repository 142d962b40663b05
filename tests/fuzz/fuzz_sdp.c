/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for the SDP model and rewrite (controlplane/session/sdp_*.c,
 * with sofia-sip's parser underneath). The input is SDP text. Besides
 * ASan's "no read past the input", it aborts when a promise of sdp.h breaks:
 *  - refused input returns -EINVAL or -E2BIG with a non-empty,
 *    NUL-terminated reason, and leaves *ret alone;
 *  - a model stays within its limits and is consistent (every string set,
 *    enums in range, RTP formats are payload types, inherited values equal
 *    the session's);
 *  - rewritten with a plan drawn from a hash of the input (each line
 *    accepted or rejected, IPv4 or IPv6 relay address, transport, RTCP
 *    port and mux, 0-2 a=crypto, ICE-lite or removed, direction, the
 *    replace flags, the version kept or set), the output parses again
 *    (unless it outgrew MR_SDP_MAX_BYTES or _LINES) and says what the plan
 *    said, with no client address left where the plan replaced them all;
 *  - rewriting that output with the same plan gives the same bytes;
 *  - a version bump adds exactly one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "sdp.h"
#include "../xorshift.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OUT_CAP (2 * MR_SDP_MAX_BYTES)

static const char *const cryptos[] = {
	"1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz",
	"2 AEAD_AES_256_GCM inline:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKyw=",
};
static const char *const protos[] = { "RTP/SAVP", "RTP/AVP", "RTP/SAVPF", "RTP/AVPF" };
static const struct mr_sockaddr relay4 = { .ip = { 198, 18, 0, 1 }, .family = MR_AF_INET };
static const struct mr_sockaddr relay6 = {
	.ip = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }, .family = MR_AF_INET6,
};

static bool
same_addr(const struct mr_sockaddr *a, const struct mr_sockaddr *b)
{
	return a->family == b->family && memcmp(a->ip, b->ip, 16) == 0;
}

static bool
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static uint64_t rng_state;

static unsigned int
draw(unsigned int n)
{
	return (unsigned int)(mr_test_xorshift(&rng_state) >> 33) % n;
}

static bool
is_pt(const char *f)
{
	size_t n = strlen(f);

	return n >= 1 && n <= 3 && strspn(f, "0123456789") == n && atoi(f) <= 127;
}

static void
check_conn(const struct mr_sdp_conn *c)
{
	if (c->address == NULL)
		return;
	check(c->addrtype == MR_AF_INET || c->addrtype == MR_AF_INET6);
	check(c->addr.family == MR_AF_NONE || c->addr.family == c->addrtype);
	check(!c->unspecified || c->addr.family != MR_AF_NONE);
}

static void
check_model(const struct mr_sdp *s)
{
	unsigned int i, k;

	check(s->origin_username != NULL && s->origin_sess_id != NULL);
	check(s->origin_conn.address != NULL);
	check_conn(&s->conn);
	check(s->dir <= MR_SDP_DIR_INACTIVE);
	check(s->n_media <= MR_SDP_MAX_MEDIA);
	check(s->n_fingerprints <= MR_SDP_MAX_FINGERPRINTS);
	for (i = 0; i < s->n_media; i++) {
		const struct mr_sdp_media *m = &s->media[i];

		check(m->type_name != NULL && m->proto_name != NULL);
		check(m->type <= MR_SDP_MEDIA_MESSAGE && m->proto < MR_SDP_PROTO_MAX);
		check(m->port_count >= 1);
		check(m->n_formats >= 1 && m->n_formats <= MR_SDP_MAX_FORMATS);
		for (k = 0; k < m->n_formats; k++) {
			check(m->format[k] != NULL && m->format[k][0] != '\0');
			check(!mr_sdp_proto_is_rtp(m->proto) || is_pt(m->format[k]));
		}
		check(m->n_crypto <= MR_SDP_MAX_CRYPTO);
		for (k = 0; k < m->n_crypto; k++)
			check(m->crypto[k] != NULL && m->crypto[k][0] != '\0');
		check(m->n_candidates <= MR_SDP_MAX_CANDIDATES);
		for (k = 0; k < m->n_candidates; k++)
			check(m->candidate[k] != NULL && m->candidate[k][0] != '\0');
		check(m->n_fingerprints <= MR_SDP_MAX_FINGERPRINTS);
		check((m->fingerprint != NULL) == (m->n_fingerprints != 0));
		check(m->dir >= MR_SDP_DIR_SENDRECV && m->dir <= MR_SDP_DIR_INACTIVE);
		check(m->dir_attr <= MR_SDP_DIR_INACTIVE);
		check(m->dir == (m->dir_attr ? m->dir_attr : s->dir ? s->dir : MR_SDP_DIR_SENDRECV));
		check_conn(&m->conn);
		check_conn(&m->rtcp_conn);
		/* sofia-sip's sanity check: a line in use has a c= */
		check(m->port == 0 || m->conn.address != NULL);
		if (m->conn_from_session)
			check(m->conn.address == s->conn.address);
		/* session-level values are inherited */
		check(m->ice_ufrag != NULL || s->ice_ufrag == NULL);
		check(m->ice_pwd != NULL || s->ice_pwd == NULL);
		check(m->setup != NULL || s->setup == NULL);
	}
}

/* The plan: drawn from a hash of the input, so a finding reproduces. */
static void
make_plan(const struct mr_sdp *s, const uint8_t *data, size_t size, struct mr_sdp_plan *p)
{
	uint64_t h = 14695981039346656037ull;   /* FNV-1a */
	unsigned int i, k;
	size_t b;

	for (b = 0; b < size; b++)
		h = (h ^ data[b]) * 1099511628211ull;
	rng_state = h | 1;
	memset(p, 0, sizeof(*p));
	p->addr = draw(2) ? relay4 : relay6;
	p->replace_origin = draw(2);
	p->replace_session_conn = draw(2);
	p->replace_zero_addr = draw(2);
	p->ice = draw(2) ? MR_SDP_ICE_LITE : MR_SDP_ICE_REMOVE;
	p->version = draw(2) ? MR_SDP_VERSION_KEEP : MR_SDP_VERSION_SET;
	p->version_value = h >> 1;
	p->n_media = s->n_media;
	for (i = 0; i < s->n_media; i++) {
		const struct mr_sdp_media *m = &s->media[i];
		struct mr_sdp_media_plan *mp = &p->media[i];
		bool rtp_ok = true;

		mp->accept = m->port != 0 && draw(4) != 0;
		mp->addr = draw(2) ? relay4 : relay6;
		mp->rtp_port = (uint16_t)(20000 + 2 * i);
		k = draw(3);
		mp->rtcp_port = k == 0 ? 0 : k == 1 ? mp->rtp_port : (uint16_t)(mp->rtp_port + 1);
		mp->rtcp_mux = draw(2);
		mp->dir = (uint8_t)draw(5);
		mp->n_crypto = draw(3);
		mp->crypto = mp->n_crypto ? cryptos : NULL;
		mp->ice_ufrag = "mrly";
		mp->ice_pwd = "0123456789abcdefghijKL";
		for (k = 0; k < m->n_formats; k++)
			rtp_ok &= is_pt(m->format[k]);
		if (rtp_ok && draw(2))
			mp->proto = protos[draw(4)];
	}
}

/* Every address the output's c=, o=, a=rtcp and a=candidate lines hold is
 * checked here (the relay's, unspecified, or a kept one the plan asked to
 * keep); text elsewhere (s=, unknown attributes) passes through by design. */
static void
check_reflects(const struct mr_sdp *in, const struct mr_sdp_plan *p, const struct mr_sdp *o)
{
	bool any = false;
	unsigned int i, k;

	check(o->n_media == in->n_media);
	check(o->origin_version == (p->version == MR_SDP_VERSION_SET ? p->version_value :
				    in->origin_version));
	check(strcmp(o->origin_sess_id, in->origin_sess_id) == 0);
	if (p->replace_origin)
		check(same_addr(&o->origin_conn.addr, &p->addr));
	if (in->conn.address != NULL && p->replace_session_conn)
		check(same_addr(&o->conn.addr, &p->addr));
	else
		check(same_str(o->conn.address, in->conn.address));
	check(o->bundle == NULL && o->fingerprint == NULL && o->setup == NULL);
	for (i = 0; i < in->n_media; i++) {
		const struct mr_sdp_media *im = &in->media[i], *om = &o->media[i];
		const struct mr_sdp_media_plan *mp = &p->media[i];

		any |= mp->accept;
		check(strcmp(om->type_name, im->type_name) == 0);
		check(om->n_formats == im->n_formats);
		for (k = 0; k < im->n_formats; k++)
			check(strcmp(om->format[k], im->format[k]) == 0);
		check(same_str(om->mid, im->mid));
		check(om->fingerprint == NULL && om->setup == NULL && !om->bundle_only);
		if (!mp->accept) {
			check(om->port == 0 && om->n_crypto == 0 && om->n_candidates == 0);
			check(om->ice_ufrag == NULL);
			check(om->rtcp_port == 0 && !om->rtcp_mux);
			check(strcmp(om->proto_name, im->proto_name) == 0);
			if (om->conn.address != NULL && !om->conn_from_session)
				check(same_addr(&om->conn.addr, &p->addr));
			continue;
		}
		check(om->port == mp->rtp_port && om->port_count == 1);
		check(strcmp(om->proto_name, mp->proto ? mp->proto : im->proto_name) == 0);
		check(!om->conn_from_session);
		if (im->conn.unspecified && !p->replace_zero_addr)
			check(om->conn.unspecified && om->conn.addr.family == mp->addr.family);
		else
			check(same_addr(&om->conn.addr, &mp->addr));
		check(om->rtcp_port == mp->rtcp_port && om->rtcp_conn.address == NULL);
		check(om->rtcp_mux == mp->rtcp_mux && !om->rtcp_mux_only);
		check(om->n_crypto == mp->n_crypto);
		for (k = 0; k < mp->n_crypto; k++)
			check(strcmp(om->crypto[k], mp->crypto[k]) == 0);
		check(om->dir == (mp->dir ? mp->dir : im->dir));
		if (p->ice == MR_SDP_ICE_LITE) {
			check(same_str(om->ice_ufrag, mp->ice_ufrag));
			check(same_str(om->ice_pwd, mp->ice_pwd));
			check(om->n_candidates == (mp->rtcp_mux || !mp->rtcp_port ? 1 : 2));
		} else {
			check(om->ice_ufrag == NULL && om->ice_pwd == NULL);
			check(om->n_candidates == 0 && !om->end_of_candidates);
		}
	}
	check(o->ice_lite == (p->ice == MR_SDP_ICE_LITE && any));
}

static unsigned int
count_lines(const char *s, size_t len)
{
	unsigned int n = 0;
	size_t i;

	for (i = 0; i < len; i++)
		n += s[i] == '\n';
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[OUT_CAP], again[OUT_CAP];
	struct mr_sdp *s, *o, *sentinel = (struct mr_sdp *)&s;
	struct mr_sdp_plan plan;
	char err[MR_SDP_ERR_MAX];
	size_t len, len2;
	int r;

	s = sentinel;
	memset(err, 0x5c, sizeof(err));
	r = mr_sdp_parse((const char *)data, size, &s, err, sizeof(err));
	check(memchr(err, '\0', sizeof(err)) != NULL);
	if (r < 0) {
		check(r == -EINVAL || r == -E2BIG || r == -ENOMEM);
		check(err[0] != '\0' && s == sentinel);
		return 0;
	}
	check(r == 0 && err[0] == '\0' && s != sentinel);
	check_model(s);

	make_plan(s, data, size, &plan);
	r = mr_sdp_rewrite(s, &plan, out, sizeof(out), &len, err, sizeof(err));
	check(r == 0 && len == strlen(out));

	r = mr_sdp_parse(out, len, &o, err, sizeof(err));
	if (r == -E2BIG) {
		check(len > MR_SDP_MAX_BYTES || count_lines(out, len) > MR_SDP_MAX_LINES);
		mr_sdp_free(s);
		return 0;
	}
	check(r == 0);
	check_model(o);
	check_reflects(s, &plan, o);

	/* the rewrite of a rewrite is the same text */
	r = mr_sdp_rewrite(o, &plan, again, sizeof(again), &len2, err, sizeof(err));
	check(r == 0 && len2 == len && memcmp(again, out, len) == 0);
	mr_sdp_free(o);

	/* a bump adds one, or is refused at the top */
	plan.version = MR_SDP_VERSION_BUMP;
	r = mr_sdp_rewrite(s, &plan, out, sizeof(out), &len, err, sizeof(err));
	if (s->origin_version == UINT64_MAX) {
		check(r == -ERANGE);
	} else {
		check(r == 0);
		o = NULL;
		r = mr_sdp_parse(out, len, &o, err, sizeof(err));
		check(r == 0 || (r == -E2BIG && len > MR_SDP_MAX_BYTES));
		if (r == 0)
			check(o->origin_version == s->origin_version + 1);
		mr_sdp_free(o);
	}
	mr_sdp_free(s);
	return 0;
}
