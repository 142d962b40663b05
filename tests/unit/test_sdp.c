/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SDP model and rewrite (controlplane/session/sdp_*.c).
 *
 * Golden cases: tests/data/sdp/NAME.in.sdp is parsed, rewritten with the
 * case's plan and compared byte for byte with CASE.out.sdp. The files are
 * stored with LF endings for reading; each input is also fed with CRLF
 * endings and must give the same output, which is compared in CRLF form.
 * Every golden output is parsed again and must say what the plan said
 * (ports, addresses, transport, crypto, ICE, direction), and must not hold
 * an address of the client where the plan replaced them all.
 * MR_SDP_GOLDEN_WRITE=1 rewrites the .out.sdp files instead (review the
 * diff before committing).
 *
 * Then: the model of each case, the error of each malformed or over-limit
 * input, plan errors, the buffer bound, and SDES negotiation over the model.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sdp.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define OUT_CAP 65536

#define RELAY4 "198.18.0.1"
#define RELAY6 "2001:db8::1"
/* RFC 4568 example keys (30 bytes) and bytes 1..44 */
#define KEY_PS1U "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR"
#define KEY_WVNF "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"
#define KEY44 "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKyw="
#define RELAY_CRYPTO80 "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_WVNF
#define RELAY_GCM256 "1 AEAD_AES_256_GCM inline:" KEY44
#define RELAY_UFRAG "mrly"
#define RELAY_PWD "0123456789abcdefghijKL"

static char out[OUT_CAP];

static struct mr_sockaddr
ip(const char *s)
{
	struct mr_sockaddr a;

	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, s, a.ip) == 1) {
		a.family = MR_AF_INET;
	} else {
		assert_int_equal(inet_pton(AF_INET6, s, a.ip), 1);
		a.family = MR_AF_INET6;
	}
	return a;
}

static char *
load(const char *file, size_t *ret_len)
{
	char path[512];
	FILE *f;
	long n;
	char *buf;

	snprintf(path, sizeof(path), "%s/sdp/%s", MR_TEST_DATA, file);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*ret_len = (size_t)n;
	return buf;
}

static char *
to_crlf(const char *s, size_t len, size_t *ret_len)
{
	char *buf = malloc(2 * len + 1);
	size_t i, o = 0;

	assert_non_null(buf);
	for (i = 0; i < len; i++) {
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			buf[o++] = '\r';
		buf[o++] = s[i];
	}
	buf[o] = '\0';
	*ret_len = o;
	return buf;
}

static struct mr_sdp *
parse_ok(const char *text, size_t len)
{
	char err[MR_SDP_ERR_MAX];
	struct mr_sdp *s = NULL;
	int r = mr_sdp_parse(text, len, &s, err, sizeof(err));

	if (r != 0)
		fail_msg("parse: %d %s", r, err);
	assert_string_equal(err, "");
	return s;
}

static struct mr_sdp *
parse_str(const char *text)
{
	return parse_ok(text, strlen(text));
}

static size_t
rewrite_ok(const struct mr_sdp *s, const struct mr_sdp_plan *plan)
{
	char err[MR_SDP_ERR_MAX];
	size_t len = 0;
	int r = mr_sdp_rewrite(s, plan, out, sizeof(out), &len, err, sizeof(err));

	if (r != 0)
		fail_msg("rewrite: %d %s", r, err);
	assert_int_equal(strlen(out), len);
	return len;
}

/* ---- plans ------------------------------------------------------------ */

/*
 * Accept every line with a port and an RTP proto on the relay's IPv4
 * address, RTP on 30000 + 2i, RTCP + 1; replace o= and the session c=,
 * bump the version, keep the transport, no crypto, ICE removed.
 */
static void
plan_default(const struct mr_sdp *s, struct mr_sdp_plan *p)
{
	unsigned int i;

	memset(p, 0, sizeof(*p));
	p->addr = ip(RELAY4);
	p->replace_origin = true;
	p->replace_session_conn = true;
	p->version = MR_SDP_VERSION_BUMP;
	p->n_media = s->n_media;
	for (i = 0; i < s->n_media; i++) {
		struct mr_sdp_media_plan *mp = &p->media[i];

		mp->accept = s->media[i].port != 0 && mr_sdp_proto_is_rtp(s->media[i].proto);
		mp->rtp_port = (uint16_t)(30000 + 2 * i);
		mp->rtcp_port = (uint16_t)(30001 + 2 * i);
		mp->addr = p->addr;
	}
}

static const char *const crypto80[] = { RELAY_CRYPTO80 };
static const char *const crypto_offer[] = { RELAY_GCM256, "2 AES_CM_128_HMAC_SHA1_80 inline:" KEY_WVNF };

/* The relay's answer to a Yealink SDES offer: one line under tag 1. */
static void
plan_yealink_sdes(const struct mr_sdp *s, struct mr_sdp_plan *p)
{
	plan_default(s, p);
	p->media[0].crypto = crypto80;
	p->media[0].n_crypto = 1;
}

/* SRTP phone towards a plain RTP trunk: RTP/AVP, no crypto. */
static void
plan_to_avp(const struct mr_sdp *s, struct mr_sdp_plan *p)
{
	plan_default(s, p);
	p->media[0].proto = "RTP/AVP";
}

/* Every line kept, each with its own crypto. */
static void
plan_av_slides(const struct mr_sdp *s, struct mr_sdp_plan *p)
{
	unsigned int i;

	plan_default(s, p);
	for (i = 0; i < s->n_media; i++) {
		p->media[i].crypto = crypto80;
		p->media[i].n_crypto = 1;
	}
}

/* DTLS-SRTP browser bridged to SDES (what a caller would do if it could):
 * ICE-lite, rtcp-mux accepted, RTP/SAVPF. */
static void
plan_webrtc(const struct mr_sdp *s, struct mr_sdp_plan *p)
{
	unsigned int i;

	plan_default(s, p);
	p->ice = MR_SDP_ICE_LITE;
	for (i = 0; i < s->n_media; i++) {
		struct mr_sdp_media_plan *mp = &p->media[i];

		mp->proto = "RTP/SAVPF";
		mp->rtcp_mux = true;
		mp->rtcp_port = mp->rtp_port;
		mp->crypto = crypto80;
		mp->n_crypto = 1;
		mp->ice_ufrag = RELAY_UFRAG;
		mp->ice_pwd = RELAY_PWD;
	}
}

/* hold.in: line 3 put on hold by the relay (inactive). */
static void
plan_hold(const struct mr_sdp *s, struct mr_sdp_plan *p)
{
	plan_default(s, p);
	p->media[2].dir = MR_SDP_DIR_INACTIVE;
}

/* rtcp_mux.in: audio accepts mux (a=rtcp = RTP port), video demuxes. */
static void
plan_rtcp_mux(const struct mr_sdp *s, struct mr_sdp_plan *p)
{
	plan_default(s, p);
	p->media[0].rtcp_mux = true;
	p->media[0].rtcp_port = p->media[0].rtp_port;
	p->media[0].crypto = crypto80;
	p->media[0].n_crypto = 1;
	p->media[1].crypto = crypto80;
	p->media[1].n_crypto = 1;
}

/* PSTN gateway (plain RTP) towards SRTP phones: RTP/SAVP, the relay offers
 * two suites. */
static void
plan_pstn_to_savp(const struct mr_sdp *s, struct mr_sdp_plan *p)
{
	plan_default(s, p);
	p->media[0].proto = "RTP/SAVP";
	p->media[0].crypto = crypto_offer;
	p->media[0].n_crypto = ARRAY_SIZE(crypto_offer);
}

/* No replace flags: o= and the session c= stay, version kept. */
static void
plan_origin_keep(const struct mr_sdp *s, struct mr_sdp_plan *p)
{
	plan_default(s, p);
	p->replace_origin = false;
	p->replace_session_conn = false;
	p->version = MR_SDP_VERSION_KEEP;
}

/* Bridged to IPv6 with an explicit version. */
static void
plan_pstn_v6(const struct mr_sdp *s, struct mr_sdp_plan *p)
{
	plan_default(s, p);
	p->addr = ip(RELAY6);
	p->media[0].addr = p->addr;
	p->version = MR_SDP_VERSION_SET;
	p->version_value = 42;
}

/* bfcp_tcp.in: session c= kept, so the rejected BFCP line needs its own. */
static void
plan_bfcp_keep_session(const struct mr_sdp *s, struct mr_sdp_plan *p)
{
	plan_default(s, p);
	p->replace_session_conn = false;
}

/* ---- checks of a rewritten description -------------------------------- */

static bool
addr_eq(const struct mr_sockaddr *a, const struct mr_sockaddr *b)
{
	return a->family == b->family && memcmp(a->ip, b->ip, 16) == 0;
}

static bool
str_eq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* The output @o, parsed again, says what @p planned for input @in. */
static void
check_reflects(const struct mr_sdp *in, const struct mr_sdp_plan *p, const struct mr_sdp *o)
{
	unsigned int i, f;
	bool any_accepted = false;
	uint64_t version = p->version == MR_SDP_VERSION_KEEP ? in->origin_version :
			   p->version == MR_SDP_VERSION_BUMP ? in->origin_version + 1 :
			   p->version_value;

	assert_int_equal(o->n_media, in->n_media);
	assert_int_equal(o->origin_version, version);
	assert_string_equal(o->origin_sess_id, in->origin_sess_id);
	assert_string_equal(o->origin_username, in->origin_username);
	if (p->replace_origin)
		assert_true(addr_eq(&o->origin_conn.addr, &p->addr));
	else
		assert_string_equal(o->origin_conn.address, in->origin_conn.address);
	if (in->conn.address != NULL && p->replace_session_conn)
		assert_true(addr_eq(&o->conn.addr, &p->addr));
	else
		assert_true(str_eq(o->conn.address, in->conn.address));
	assert_null(o->bundle);
	assert_null(o->fingerprint);
	assert_null(o->setup);
	for (i = 0; i < in->n_media; i++)
		any_accepted |= p->media[i].accept;
	assert_int_equal(o->ice_lite, p->ice == MR_SDP_ICE_LITE && any_accepted);

	for (i = 0; i < in->n_media; i++) {
		const struct mr_sdp_media *im = &in->media[i], *om = &o->media[i];
		const struct mr_sdp_media_plan *mp = &p->media[i];

		assert_string_equal(om->type_name, im->type_name);
		assert_int_equal(om->n_formats, im->n_formats);
		for (f = 0; f < im->n_formats; f++)
			assert_string_equal(om->format[f], im->format[f]);
		assert_true(str_eq(om->mid, im->mid));
		assert_null(om->fingerprint);
		assert_null(om->setup);
		assert_false(om->bundle_only);
		if (!mp->accept) {
			assert_int_equal(om->port, 0);
			assert_string_equal(om->proto_name, im->proto_name);
			assert_int_equal(om->n_crypto, 0);
			assert_int_equal(om->n_candidates, 0);
			assert_null(om->ice_ufrag);
			assert_int_equal(om->rtcp_port, 0);
			if (om->conn.address != NULL && !om->conn_from_session)
				assert_true(addr_eq(&om->conn.addr, &p->addr));
			continue;
		}
		assert_int_equal(om->port, mp->rtp_port);
		assert_int_equal(om->port_count, 1);
		assert_string_equal(om->proto_name, mp->proto != NULL ? mp->proto : im->proto_name);
		assert_false(om->conn_from_session);
		if (im->conn.unspecified && !p->replace_zero_addr) {
			assert_true(om->conn.unspecified);
			assert_int_equal(om->conn.addr.family, mp->addr.family);
		} else {
			assert_true(addr_eq(&om->conn.addr, &mp->addr));
		}
		assert_int_equal(om->rtcp_port, mp->rtcp_port);
		assert_null(om->rtcp_conn.address);
		assert_int_equal(om->rtcp_mux, mp->rtcp_mux);
		assert_false(om->rtcp_mux_only);
		assert_int_equal(om->n_crypto, mp->n_crypto);
		for (f = 0; f < mp->n_crypto; f++)
			assert_string_equal(om->crypto[f], mp->crypto[f]);
		assert_int_equal(om->dir, mp->dir != MR_SDP_DIR_NONE ? mp->dir : im->dir);
		if (p->ice == MR_SDP_ICE_LITE) {
			assert_true(o->ice_lite);
			assert_string_equal(om->ice_ufrag, mp->ice_ufrag);
			assert_string_equal(om->ice_pwd, mp->ice_pwd);
			assert_int_equal(om->n_candidates,
					 mp->rtcp_mux || mp->rtcp_port == 0 ? 1 : 2);
		} else {
			assert_false(o->ice_lite);
			assert_null(om->ice_ufrag);
			assert_null(om->ice_pwd);
			assert_null(om->ice_options);
			assert_int_equal(om->n_candidates, 0);
			assert_false(om->end_of_candidates);
		}
	}
}

/* Is @addr in @text as a whole address (not part of a longer one)? */
static bool
has_addr(const char *text, const char *addr)
{
	size_t n = strlen(addr);
	const char *p;

	for (p = strstr(text, addr); p != NULL; p = strstr(p + 1, addr)) {
		char before = p == text ? ' ' : p[-1], after = p[n];

		if (strchr(" \r\n", before) != NULL && strchr(" \r\n/", after) != NULL)
			return true;
	}
	return false;
}

/* No address of the client left where the plan replaced o= and the session c=. */
static void
check_private(const struct mr_sdp *in, const struct mr_sdp_plan *p, const char *text)
{
	unsigned int i, k;

	if (!p->replace_origin || !p->replace_session_conn)
		return;
	for (i = 0; i < in->n_media; i++) {
		const struct mr_sdp_media *m = &in->media[i];

		if (m->conn.address != NULL && !m->conn.unspecified && m->conn.addr.family)
			assert_false(has_addr(text, m->conn.address));
		if (m->rtcp_conn.address != NULL && !m->rtcp_conn.unspecified)
			assert_false(has_addr(text, m->rtcp_conn.address));
		for (k = 0; k < m->n_candidates; k++) {
			char cand[256], *f[6], *save = NULL;
			unsigned int n = 0;

			snprintf(cand, sizeof(cand), "%s", m->candidate[k]);
			for (f[n] = strtok_r(cand, " ", &save); f[n] != NULL && n < 5;
			     f[++n] = strtok_r(NULL, " ", &save))
				;
			assert_true(n >= 5);
			assert_false(has_addr(text, f[4]));
		}
	}
	assert_false(has_addr(text, in->origin_conn.address));
}

/* ---- golden cases ----------------------------------------------------- */

struct golden {
	const char *name;               /* NAME.out.sdp */
	const char *in;                 /* IN.in.sdp */
	void (*plan)(const struct mr_sdp *, struct mr_sdp_plan *);
};

static const struct golden goldens[] = {
	{ "yealink_sdes", "yealink", plan_yealink_sdes },
	{ "yealink_to_avp", "yealink", plan_to_avp },
	{ "av_slides", "av_slides", plan_av_slides },
	{ "bfcp_tcp", "bfcp_tcp", plan_default },
	{ "bfcp_keep_session", "bfcp_tcp", plan_bfcp_keep_session },
	{ "webrtc", "webrtc", plan_webrtc },
	{ "ipv6_bridge", "ipv6", plan_default },
	{ "hold", "hold", plan_hold },
	{ "rtcp_mux", "rtcp_mux", plan_rtcp_mux },
	{ "pstn_to_savp", "pstn", plan_pstn_to_savp },
	{ "pstn_origin_keep", "pstn", plan_origin_keep },
	{ "pstn_v6", "pstn", plan_pstn_v6 },
};

static void
write_golden(const char *name, const char *text, size_t len)
{
	char path[512];
	FILE *f;
	size_t i;

	snprintf(path, sizeof(path), "%s/sdp/%s.out.sdp", MR_TEST_DATA, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	for (i = 0; i < len; i++) {
		if (text[i] != '\r')
			fputc(text[i], f);
	}
	assert_int_equal(fclose(f), 0);
}

static void
run_golden(const struct golden *g)
{
	char file[128], err[MR_SDP_ERR_MAX];
	struct mr_sdp *in, *in_crlf, *o;
	struct mr_sdp_plan plan;
	size_t lf_len, crlf_len, want_lf_len, want_len, len, len2;
	char *lf, *crlf, *want_lf, *want, *first;

	snprintf(file, sizeof(file), "%s.in.sdp", g->in);
	lf = load(file, &lf_len);
	crlf = to_crlf(lf, lf_len, &crlf_len);
	in = parse_ok(lf, lf_len);
	in_crlf = parse_ok(crlf, crlf_len);

	g->plan(in, &plan);
	len = rewrite_ok(in, &plan);
	first = strdup(out);
	assert_non_null(first);
	len2 = rewrite_ok(in_crlf, &plan);
	assert_int_equal(len2, len);
	assert_string_equal(out, first);

	if (getenv("MR_SDP_GOLDEN_WRITE") != NULL) {
		write_golden(g->name, first, len);
	} else {
		snprintf(file, sizeof(file), "%s.out.sdp", g->name);
		want_lf = load(file, &want_lf_len);
		want = to_crlf(want_lf, want_lf_len, &want_len);
		if (len != want_len || memcmp(first, want, len) != 0)
			fail_msg("%s: output differs from %s:\n%s", g->name, file, first);
		free(want_lf);
		free(want);
	}

	assert_int_equal(mr_sdp_parse(first, len, &o, err, sizeof(err)), 0);
	check_reflects(in, &plan, o);
	check_private(in, &plan, first);
	/* a second pass with the same plan changes nothing but the version */
	mr_sdp_free(o);
	free(first);
	mr_sdp_free(in);
	mr_sdp_free(in_crlf);
	free(lf);
	free(crlf);
}

static void
test_golden(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(goldens); i++)
		run_golden(&goldens[i]);
}

/* ---- models ----------------------------------------------------------- */

static struct mr_sdp *
parse_file(const char *name)
{
	char file[128];
	struct mr_sdp *s;
	size_t len;
	char *text;

	snprintf(file, sizeof(file), "%s.in.sdp", name);
	text = load(file, &len);
	s = parse_ok(text, len);
	free(text);
	return s;
}

static void
test_model_yealink(void **state)
{
	struct mr_sdp *s = parse_file("yealink");
	const struct mr_sdp_media *m = &s->media[0];
	struct mr_sockaddr client = ip("192.168.1.101");

	(void)state;
	assert_string_equal(s->origin_username, "-");
	assert_string_equal(s->origin_sess_id, "20044");
	assert_int_equal(s->origin_version, 20044);
	assert_true(addr_eq(&s->origin_conn.addr, &client));
	assert_true(addr_eq(&s->conn.addr, &client));
	assert_int_equal(s->conn.addrtype, MR_AF_INET);
	assert_int_equal(s->dir, MR_SDP_DIR_NONE);
	assert_int_equal(s->n_media, 1);
	assert_string_equal(m->type_name, "audio");
	assert_int_equal(m->type, MR_SDP_MEDIA_AUDIO);
	assert_int_equal(m->port, 11780);
	assert_int_equal(m->port_count, 1);
	assert_int_equal(m->proto, MR_SDP_PROTO_RTP_SAVP);
	assert_string_equal(m->proto_name, "RTP/SAVP");
	assert_int_equal(m->n_formats, 5);
	assert_string_equal(m->format[0], "0");
	assert_string_equal(m->format[4], "101");
	assert_true(m->conn_from_session);
	assert_true(addr_eq(&m->conn.addr, &client));
	assert_false(m->conn.unspecified || m->conn.multicast);
	assert_int_equal(m->rtcp_port, 0);
	assert_false(m->rtcp_mux);
	assert_int_equal(m->n_crypto, 2);
	assert_string_equal(m->crypto[0], "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_PS1U);
	assert_string_equal(m->crypto[1], "2 AES_CM_128_HMAC_SHA1_32 inline:" KEY_WVNF);
	assert_int_equal(m->dir, MR_SDP_DIR_SENDRECV);
	assert_int_equal(m->dir_attr, MR_SDP_DIR_SENDRECV);
	assert_false(m->dtls);
	assert_null(m->ice_ufrag);
	assert_int_equal(m->n_candidates, 0);
	assert_null(m->mid);
	mr_sdp_free(s);
}

static void
test_model_av_slides(void **state)
{
	struct mr_sdp *s = parse_file("av_slides");

	(void)state;
	assert_int_equal(s->n_media, 3);
	assert_int_equal(s->media[0].rtcp_port, 2327);
	assert_null(s->media[0].rtcp_conn.address);
	assert_int_equal(s->media[1].type, MR_SDP_MEDIA_VIDEO);
	assert_string_equal(s->media[1].content, "main");
	assert_int_equal(s->media[2].type, MR_SDP_MEDIA_VIDEO);
	assert_string_equal(s->media[2].content, "slides");
	assert_int_equal(s->media[2].n_formats, 1);
	assert_int_equal(s->media[2].n_crypto, 1);
	assert_string_equal(s->media[2].crypto[0],
			    "1 AES_CM_128_HMAC_SHA1_80 inline:YUJDZGVmZ2hpSktMbW9QUXJzVHVWd3l6MTIzNDU2");
	mr_sdp_free(s);
}

static void
test_model_bfcp(void **state)
{
	struct mr_sdp *s = parse_file("bfcp_tcp");
	const struct mr_sdp_media *b = &s->media[3];

	(void)state;
	assert_int_equal(s->n_media, 4);
	assert_int_equal(b->type, MR_SDP_MEDIA_APPLICATION);
	assert_int_equal(b->proto, MR_SDP_PROTO_TCP_BFCP);
	assert_false(mr_sdp_proto_is_rtp(b->proto));
	assert_int_equal(b->port, 5070);
	assert_int_equal(b->n_formats, 1);
	assert_string_equal(b->format[0], "*");
	assert_false(b->conn_from_session);
	assert_string_equal(b->setup, "actpass");
	assert_false(b->dtls);          /* RFC 4145 TCP setup, not DTLS */
	mr_sdp_free(s);
}

static void
test_model_webrtc(void **state)
{
	struct mr_sdp *s = parse_file("webrtc");
	const struct mr_sdp_media *a = &s->media[0], *v = &s->media[1];

	(void)state;
	assert_null(s->conn.address);
	assert_string_equal(s->bundle, "0 1");
	assert_int_equal(a->proto, MR_SDP_PROTO_UDP_TLS_RTP_SAVPF);
	assert_true(mr_sdp_proto_is_rtp(a->proto));
	assert_true(a->dtls && v->dtls);
	assert_string_equal(a->fingerprint, "sha-256 D2:FA:0E:C3:22:59:5E:14:95:69:92:3D:13:B4:84:"
			    "24:2C:C2:A2:C0:3E:FD:34:8E:5E:EA:6F:AF:52:CE:E6:0F");
	assert_int_equal(a->n_fingerprints, 1);
	assert_string_equal(a->setup, "actpass");
	assert_string_equal(a->ice_ufrag, "EsAw");
	assert_string_equal(a->ice_pwd, "P2uYro0UCOQ4zxjKXaWCBui1");
	assert_string_equal(a->ice_options, "trickle");
	assert_int_equal(a->n_candidates, 3);
	assert_string_equal(a->candidate[1], "3191185143 1 udp 1686052607 203.0.113.77 54321 "
			    "typ srflx raddr 192.168.1.23 rport 54321 generation 0");
	assert_int_equal(v->n_candidates, 0);
	assert_int_equal(a->rtcp_port, 9);
	assert_true(a->rtcp_conn.unspecified);
	assert_true(a->rtcp_mux && v->rtcp_mux);
	assert_string_equal(a->mid, "0");
	assert_string_equal(v->mid, "1");
	assert_int_equal(a->n_formats, 8);
	assert_int_equal(a->n_crypto, 0);
	mr_sdp_free(s);
}

static void
test_model_ipv6_hold(void **state)
{
	struct mr_sdp *s = parse_file("ipv6");
	struct mr_sockaddr client = ip("fd00:1::10");

	(void)state;
	assert_int_equal(s->conn.addrtype, MR_AF_INET6);
	assert_true(addr_eq(&s->media[0].conn.addr, &client));
	assert_int_equal(s->media[0].rtcp_port, 49171);
	assert_true(addr_eq(&s->media[0].rtcp_conn.addr, &client));
	assert_true(addr_eq(&s->origin_conn.addr, &client));
	assert_int_equal(s->origin_version, 2890844527u);
	mr_sdp_free(s);

	s = parse_file("hold");
	assert_int_equal(s->dir, MR_SDP_DIR_SENDONLY);
	assert_int_equal(s->media[0].dir, MR_SDP_DIR_SENDONLY);       /* inherited */
	assert_int_equal(s->media[0].dir_attr, MR_SDP_DIR_NONE);
	assert_int_equal(s->media[1].dir, MR_SDP_DIR_INACTIVE);
	assert_true(s->media[1].conn.unspecified);
	assert_false(s->media[1].conn_from_session);
	assert_int_equal(s->media[2].dir, MR_SDP_DIR_RECVONLY);
	mr_sdp_free(s);
}

static void
test_model_rtcp_mux(void **state)
{
	struct mr_sdp *s = parse_file("rtcp_mux");

	(void)state;
	assert_true(s->media[0].rtcp_mux);
	assert_false(s->media[0].rtcp_mux_only);
	assert_int_equal(s->media[0].rtcp_port, 40000);
	assert_int_equal(s->media[0].proto, MR_SDP_PROTO_RTP_SAVPF);
	assert_true(s->media[1].rtcp_mux && s->media[1].rtcp_mux_only);
	assert_int_equal(s->media[1].rtcp_port, 40003);
	mr_sdp_free(s);
}

/* Values the golden files do not show. */
static void
test_model_misc(void **state)
{
	struct mr_sdp *s;

	(void)state;
	/* session-level ICE and DTLS are inherited; port count; FQDN; multicast;
	 * LF endings with no final newline; mixed case keywords */
	s = parse_str("v=0\no=- 1 1 IN IP4 host.example.com\ns=-\nc=in ip4 233.252.0.1/127\n"
		      "t=0 0\na=ice-lite\na=ice-ufrag:sess\na=ice-pwd:sessionpasswordsessionpw\n"
		      "a=fingerprint:sha-1 00:11\na=fingerprint:sha-256 22:33\na=setup:passive\n"
		      "m=video 49170/2 RTP/AVPF 96\na=rtpmap:96 VP8/90000\na=SendOnly\n"
		      "m=text 11000 RTP/AVP 98\nc=IN IP4 gw.example.com\na=ice-ufrag:med1\n"
		      "a=end-of-candidates\na=bundle-only\nm=message 0 TCP/MSRP *");
	assert_true(s->ice_lite);
	assert_int_equal(s->origin_conn.addr.family, MR_AF_NONE);
	assert_string_equal(s->origin_conn.address, "host.example.com");
	assert_true(s->conn.multicast);
	assert_string_equal(s->conn.address, "233.252.0.1");
	assert_int_equal(s->n_fingerprints, 2);
	assert_string_equal(s->media[0].ice_ufrag, "sess");
	assert_string_equal(s->media[0].ice_pwd, "sessionpasswordsessionpw");
	assert_string_equal(s->media[0].fingerprint, "sha-1 00:11");
	assert_int_equal(s->media[0].n_fingerprints, 2);
	assert_string_equal(s->media[0].setup, "passive");
	assert_true(s->media[0].dtls);  /* an RTP proto with a fingerprint */
	assert_int_equal(s->media[0].port_count, 2);
	assert_int_equal(s->media[0].proto, MR_SDP_PROTO_RTP_AVPF);
	assert_int_equal(s->media[0].dir, MR_SDP_DIR_SENDONLY);
	assert_int_equal(s->media[1].type, MR_SDP_MEDIA_TEXT);
	assert_string_equal(s->media[1].ice_ufrag, "med1");
	assert_string_equal(s->media[1].conn.address, "gw.example.com");
	assert_int_equal(s->media[1].conn.addr.family, MR_AF_NONE);
	assert_true(s->media[1].end_of_candidates);
	assert_true(s->media[1].bundle_only);
	assert_int_equal(s->media[2].type, MR_SDP_MEDIA_MESSAGE);
	assert_int_equal(s->media[2].proto, MR_SDP_PROTO_TCP_MSRP);
	assert_int_equal(s->media[2].port, 0);
	mr_sdp_free(s);

	/* the same direction twice is no conflict; an unknown proto is OTHER */
	s = parse_str("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
		      "m=audio 5000 RTP/XYZ 0\r\na=recvonly\r\na=recvonly\r\n");
	assert_int_equal(s->media[0].proto, MR_SDP_PROTO_OTHER);
	assert_int_equal(s->media[0].dir, MR_SDP_DIR_RECVONLY);
	mr_sdp_free(s);
}

static void
test_names(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 1; i < MR_SDP_PROTO_MAX; i++) {
		const char *n = mr_sdp_proto_name((enum mr_sdp_proto)i);

		assert_non_null(n);
		assert_int_equal(mr_sdp_proto_from_name(n, strlen(n)), i);
	}
	assert_null(mr_sdp_proto_name(MR_SDP_PROTO_OTHER));
	assert_null(mr_sdp_proto_name(MR_SDP_PROTO_MAX));
	assert_int_equal(mr_sdp_proto_from_name("rtp/savpf", 9), MR_SDP_PROTO_RTP_SAVPF);
	assert_int_equal(mr_sdp_proto_from_name("RTP/SAVPF", 8), MR_SDP_PROTO_RTP_SAVP);
	assert_int_equal(mr_sdp_proto_from_name("RTP", 3), MR_SDP_PROTO_OTHER);
	assert_true(mr_sdp_proto_is_rtp(MR_SDP_PROTO_UDP_TLS_RTP_SAVP));
	assert_false(mr_sdp_proto_is_rtp(MR_SDP_PROTO_UDPTL));
	assert_string_equal(mr_sdp_dir_name(MR_SDP_DIR_INACTIVE), "inactive");
	assert_null(mr_sdp_dir_name(MR_SDP_DIR_NONE));
	assert_null(mr_sdp_dir_name((enum mr_sdp_dir)9));
}

/* ---- malformed and over-limit input ----------------------------------- */

#define HDR "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
#define AUDIO "m=audio 5000 RTP/AVP 0\r\n"

/* binary input: the bytes of a literal, NULs included */
#define BIN(s) s, sizeof(s) - 1

struct bad_case {
	const char *text;
	size_t len;                     /* 0: strlen */
	int r;
	const char *reason;             /* the whole reason */
};

static const struct bad_case bad_cases[] = {
	{ "", 0, -EINVAL, "empty SDP" },
	{ "\r\n\n\r\n", 0, -EINVAL, "SDP has only blank lines" },
	/* no v= / wrong v= */
	{ "o=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\n", 0, -EINVAL, "line 1: an SDP must start with v=0" },
	{ "v=1\r\no=- 1 1 IN IP4 10.0.0.1\r\n", 0, -EINVAL, "line 1: an SDP must start with v=0" },
	{ "v=0 \r\n", 0, -EINVAL, "line 1: an SDP must start with v=0" },
	{ HDR "v=0\r\n", 0, -EINVAL, "line 6: v= is not allowed after the first line" },
	/* line shapes */
	{ "v=0\r\n o=- 1 1 IN IP4 10.0.0.1\r\n", 0, -EINVAL,
	  "line 2: not a \"<type>=<value>\" line" },
	{ HDR "a\r\n" AUDIO, 0, -EINVAL, "line 6: not a \"<type>=<value>\" line" },
	{ HDR "A=foo\r\n", 0, -EINVAL, "line 6: not a \"<type>=<value>\" line" },
	{ HDR "x=foo\r\n", 0, -EINVAL, "line 6: unknown line type x=" },
	{ HDR AUDIO "s=-\r\n", 0, -EINVAL, "line 7: s= is not allowed in a media description" },
	{ HDR AUDIO "t=0 0\r\n", 0, -EINVAL, "line 7: t= is not allowed in a media description" },
	/* bytes */
	{ "v=0\ro=- 1 1 IN IP4 10.0.0.1\r\n", 0, -EINVAL, "line 1: CR not followed by LF" },
	{ "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=\x01\r\n", 0, -EINVAL,
	  "line 3: control character 0x01" },
	{ BIN("v=0\r\no=- 1 1 IN\0 IP4 10.0.0.1\r\n"), -EINVAL, "line 2: NUL byte" },
	{ BIN("\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), -EINVAL, "line 1: not a \"<type>=<value>\" line" },
	{ BIN("\xff\xfe\x00\x01\x02"), -EINVAL, "line 1: NUL byte" },
	{ BIN("v=0\r\n\0"), -EINVAL, "line 2: NUL byte" },
	/* o= */
	{ "v=0\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n" AUDIO, 0, -EINVAL, "no o= line" },
	{ HDR "o=- 1 1 IN IP4 10.0.0.1\r\n", 0, -EINVAL, "line 6: repeated o= line" },
	{ "v=0\r\no=- 1 1 IN IP\r\n", 0, -EINVAL, "line 2: o= needs 6 fields" },
	{ "v=0\r\no=- x 1 IN IP4 1.2.3.4\r\n", 0, -EINVAL, "line 2: o= session id is not a number" },
	{ "v=0\r\no=- 1 18446744073709551616 IN IP4 1.2.3.4\r\n", 0, -EINVAL,
	  "line 2: o= session version is not a number below 2^64" },
	{ "v=0\r\no=- 1 1 IN IP5 1.2.3.4\r\ns=-\r\nt=0 0\r\n", 0, -EINVAL,
	  "invalid SDP (sofia-sip): unknown IN address type: IP5" },
	/* c= */
	{ "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\nc=IN IP4\r\n", 0, -EINVAL, "line 3: c= needs 3 fields" },
	{ "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\nc=IN IP4 1.2.3.4 x\r\n", 0, -EINVAL,
	  "line 3: c= needs 3 fields" },
	{ "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\nc=IN IP4 2001:db8::1\r\n", 0, -EINVAL,
	  "line 3: c= is not IN IP4/IP6 with an address of that type" },
	{ "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\nc=IN IP6 10.0.0.1\r\n", 0, -EINVAL,
	  "line 3: c= is not IN IP4/IP6 with an address of that type" },
	{ "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\nc=IN IP4 bad_host!\r\n", 0, -EINVAL,
	  "line 3: c= is not IN IP4/IP6 with an address of that type" },
	{ HDR "c=IN IP4 10.0.0.2\r\n", 0, -EINVAL, "line 6: repeated session-level c= line" },
	{ "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\n" AUDIO, 0, -EINVAL,
	  "invalid SDP (sofia-sip): No c= on either session level or all mediums" },
	/* m= */
	{ HDR "m=audio abc RTP/AVP 0\r\n", 0, -EINVAL,
	  "line 6: m= port is not a number from 0 to 65535" },
	{ HDR "m=audio 65536 RTP/AVP 0\r\n", 0, -EINVAL,
	  "line 6: m= port is not a number from 0 to 65535" },
	{ HDR "m=audio +500 RTP/AVP 0\r\n", 0, -EINVAL,
	  "line 6: m= port is not a number from 0 to 65535" },
	{ HDR "m=audio 5000/0 RTP/AVP 0\r\n", 0, -EINVAL,
	  "line 6: m= port count is not a number from 1 to 65535" },
	{ HDR "m=audio 5000 RTP/AVP\r\n", 0, -EINVAL,
	  "line 6: m= needs a media type, a port, a proto and formats" },
	{ HDR "m=audio 49170 RTP/A", 0, -EINVAL,                        /* truncated */
	  "line 6: m= needs a media type, a port, a proto and formats" },
	{ HDR "m=aud", 0, -EINVAL, "line 6: m= needs a media type, a port, a proto and formats" },
	{ HDR "m=audio 5000 RTP/AVP abc\r\n", 0, -EINVAL,
	  "line 6: m= format is not an RTP payload type (0-127)" },
	{ HDR "m=audio 5000 RTP/AVP 128\r\n", 0, -EINVAL,
	  "line 6: m= format is not an RTP payload type (0-127)" },
	{ HDR "m=au(dio 5000 RTP/AVP 0\r\n", 0, -EINVAL, "line 6: m= media type is not a token" },
	{ HDR "m=audio 5000/2 /RTP 0\r\n", 0, -EINVAL,                 /* fuzz finding */
	  "line 6: m= proto is not token *(\"/\" token)" },
	{ HDR "m=audio 5000 RTP//AVP 0\r\n", 0, -EINVAL,
	  "line 6: m= proto is not token *(\"/\" token)" },
	{ HDR "m=audio 5000 RTP/ 0\r\n", 0, -EINVAL,
	  "line 6: m= proto is not token *(\"/\" token)" },
	/* other fields sofia-sip checks */
	{ HDR "b=AS:abc\r\n", 0, -EINVAL, "invalid SDP (sofia-sip): invalid bandwidth" },
	{ "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nr=7d 1h 0 25h\r\n", 0, -EINVAL,
	  "invalid SDP (sofia-sip): repeat field without time field" },
	{ "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\nt=abc 0\r\n", 0, -EINVAL,
	  "invalid SDP (sofia-sip): invalid time" },
	/* a=rtpmap, checked on every line (sofia-sip skips RTP/AVPF, RTP/SAVPF) */
	{ HDR AUDIO "a=rtpmap:0 PCMU\r\n", 0, -EINVAL,
	  "line 7: a=rtpmap is not <pt> <encoding>/<clock rate>" },
	{ HDR "m=video 5000 RTP/AVPF 96\r\na=rtpmap:96 VP8\r\n", 0, -EINVAL,
	  "line 7: a=rtpmap is not <pt> <encoding>/<clock rate>" },
	{ HDR "m=video 5000 RTP/AVPF 96\r\na=rtpmap:96 VP8/x\r\n", 0, -EINVAL,
	  "line 7: a=rtpmap is not <pt> <encoding>/<clock rate>" },
	{ HDR "m=video 5000 RTP/AVPF 96\r\na=rtpmap:128 VP8/90000\r\n", 0, -EINVAL,
	  "line 7: a=rtpmap is not <pt> <encoding>/<clock rate>" },
	{ HDR "m=video 5000 UDP 96\r\na=rtpmap:x VP8/90000\r\n", 0, -EINVAL,
	  "line 7: a=rtpmap is not <pt> <encoding>/<clock rate>" },
	{ HDR "m=video 5000 RTP/SAVPF 96 vp8\r\n", 0, -EINVAL,
	  "line 6: m= format is not an RTP payload type (0-127)" },
	{ HDR "m=video 5000 UDP/TLS/RTP/SAVPF 200\r\n", 0, -EINVAL,
	  "line 6: m= format is not an RTP payload type (0-127)" },
	/* attributes */
	{ HDR "a=\r\n", 0, -EINVAL, "line 6: attribute name is not a token" },
	{ HDR "a=:x\r\n", 0, -EINVAL, "line 6: attribute name is not a token" },
	{ HDR AUDIO "a=rtcp:abc\r\n", 0, -EINVAL,
	  "line 7: a=rtcp is not <port> [IN IP4|IP6 <address>]" },
	{ HDR AUDIO "a=rtcp:0\r\n", 0, -EINVAL,
	  "line 7: a=rtcp is not <port> [IN IP4|IP6 <address>]" },
	{ HDR AUDIO "a=rtcp:5001 IN IP4\r\n", 0, -EINVAL,
	  "line 7: a=rtcp is not <port> [IN IP4|IP6 <address>]" },
	{ HDR AUDIO "a=rtcp:5001 IN IP6 10.0.0.1\r\n", 0, -EINVAL,
	  "line 7: a=rtcp address is not IN IP4/IP6 with an address of that type" },
	{ HDR AUDIO "a=rtcp:5001\r\na=rtcp:5003\r\n", 0, -EINVAL, "line 8: repeated a=rtcp" },
	{ HDR AUDIO "a=crypto\r\n", 0, -EINVAL, "line 7: a=crypto needs a value" },
	{ HDR AUDIO "a=crypto:\r\n", 0, -EINVAL, "line 7: a=crypto needs a value" },
	{ HDR AUDIO "a=candidate:\r\n", 0, -EINVAL, "line 7: a=candidate needs a value" },
	{ HDR AUDIO "a=mid:a\r\na=mid:b\r\n", 0, -EINVAL, "line 8: repeated a=mid" },
	{ HDR AUDIO "a=ice-ufrag:abcd\r\na=ice-ufrag:efgh\r\n", 0, -EINVAL,
	  "line 8: repeated a=ice-ufrag" },
	{ HDR "a=setup:active\r\na=setup:passive\r\n", 0, -EINVAL, "line 7: repeated a=setup" },
	{ HDR AUDIO "a=sendonly\r\na=recvonly\r\n", 0, -EINVAL,
	  "line 8: a second, different direction attribute" },
	{ HDR "a=inactive\r\na=sendrecv\r\n", 0, -EINVAL,
	  "line 7: a second, different direction attribute" },
};

static void
test_malformed(void **state)
{
	char err[MR_SDP_ERR_MAX];
	struct mr_sdp *s;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		size_t len = c->len != 0 ? c->len : strlen(c->text);
		int r;

		s = (struct mr_sdp *)&s;        /* a sentinel: must stay */
		memset(err, 0x5c, sizeof(err));
		r = mr_sdp_parse(c->text, len, &s, err, sizeof(err));
		if (r != c->r || strcmp(err, c->reason) != 0)
			fail_msg("case %zu: got %d \"%s\", want %d \"%s\"", i, r, err, c->r,
				 c->reason);
		assert_ptr_equal(s, (struct mr_sdp *)&s);
	}
	/* no reason buffer, or a tiny one, is fine */
	assert_int_equal(mr_sdp_parse("x", 1, &s, NULL, 0), -EINVAL);
	assert_int_equal(mr_sdp_parse("x", 1, &s, err, 4), -EINVAL);
	assert_string_equal(err, "lin");
}

/* Build an SDP of @n_media audio lines, each with @extra repeated @n times. */
static char *
big_sdp(unsigned int n_media, const char *extra, unsigned int n)
{
	size_t cap = 64 + n_media * (64 + n * (strlen(extra) + 2)) + sizeof(HDR);
	char *s = malloc(cap), *p = s;
	unsigned int i, k;

	assert_non_null(s);
	p += sprintf(p, HDR);
	for (i = 0; i < n_media; i++) {
		p += sprintf(p, "m=audio %u RTP/AVP 0\r\n", 5000 + 2 * i);
		for (k = 0; k < n; k++)
			p += sprintf(p, extra, k);
		assert_true((size_t)(p - s) < cap);
	}
	return s;
}

static void
expect_e2big(char *text, size_t len, const char *reason)
{
	char err[MR_SDP_ERR_MAX];
	struct mr_sdp *s = NULL;

	assert_int_equal(mr_sdp_parse(text, len, &s, err, sizeof(err)), -E2BIG);
	assert_string_equal(err, reason);
	assert_null(s);
	free(text);
}

static void
test_limits(void **state)
{
	struct mr_sdp *s;
	char *text, buf[64];
	size_t len;
	unsigned int i;

	(void)state;
	/* exactly at each limit parses */
	text = big_sdp(MR_SDP_MAX_MEDIA, "a=crypto:%u x\r\n", MR_SDP_MAX_CRYPTO);
	s = parse_str(text);
	assert_int_equal(s->n_media, MR_SDP_MAX_MEDIA);
	assert_int_equal(s->media[15].n_crypto, MR_SDP_MAX_CRYPTO);
	mr_sdp_free(s);
	free(text);

	text = big_sdp(MR_SDP_MAX_MEDIA + 1, "", 0);
	expect_e2big(text, strlen(text), "line 22: more than 16 m= lines");
	text = big_sdp(1, "a=crypto:%u x\r\n", MR_SDP_MAX_CRYPTO + 1);
	expect_e2big(text, strlen(text), "line 39: more than 32 a=crypto lines");
	text = big_sdp(1, "a=candidate:%u 1 UDP 1 10.0.0.1 5000 typ host\r\n",
		       MR_SDP_MAX_CANDIDATES + 1);
	expect_e2big(text, strlen(text), "line 71: more than 64 a=candidate lines");
	text = big_sdp(1, "a=fingerprint:sha-256 %u\r\n", MR_SDP_MAX_FINGERPRINTS + 1);
	expect_e2big(text, strlen(text), "line 15: more than 8 a=fingerprint lines");
	text = big_sdp(1, "a=x-%u\r\n", MR_SDP_MAX_LINES);
	expect_e2big(text, strlen(text), "line 1025: more than 1024 lines");

	/* 128 formats parse, 129 do not */
	text = malloc(8192);
	assert_non_null(text);
	len = (size_t)sprintf(text, HDR "m=application 5000 UDP");
	for (i = 0; i < MR_SDP_MAX_FORMATS; i++)
		len += (size_t)sprintf(text + len, " f%u", i);
	s = parse_ok(text, len);
	assert_int_equal(s->media[0].n_formats, MR_SDP_MAX_FORMATS);
	assert_string_equal(s->media[0].format[127], "f127");
	mr_sdp_free(s);
	len += (size_t)sprintf(text + len, " f128");
	expect_e2big(text, len, "line 6: more than 128 formats on an m= line");

	/* bytes: the limit itself, then one more */
	text = malloc(MR_SDP_MAX_BYTES + 1);
	assert_non_null(text);
	len = (size_t)sprintf(text, HDR AUDIO "a=x-pad:");
	memset(text + len, 'p', MR_SDP_MAX_BYTES - len - 2);
	memcpy(text + MR_SDP_MAX_BYTES - 2, "\r\n", 2);
	s = parse_ok(text, MR_SDP_MAX_BYTES);
	mr_sdp_free(s);
	text[MR_SDP_MAX_BYTES] = '\n';
	snprintf(buf, sizeof(buf), "SDP of %u bytes is over the limit of %u",
		 MR_SDP_MAX_BYTES + 1, MR_SDP_MAX_BYTES);
	expect_e2big(text, MR_SDP_MAX_BYTES + 1, buf);
}

/* ---- rewrite: plans and bounds ---------------------------------------- */

static void
expect_plan_error(const struct mr_sdp *s, const struct mr_sdp_plan *p, int want,
		  const char *reason)
{
	char err[MR_SDP_ERR_MAX];
	size_t len = 12345;

	assert_int_equal(mr_sdp_rewrite(s, p, out, sizeof(out), &len, err, sizeof(err)), want);
	assert_string_equal(err, reason);
	assert_int_equal(len, 12345);
}

static void
test_plan_errors(void **state)
{
	struct mr_sdp *s = parse_file("rtcp_mux"), *m;
	struct mr_sdp_plan p;
	static const char *const bad_crypto[] = { "1 AES_CM_128_HMAC_SHA1_80 inline:x\r\na=evil" };
	static const char *const empty_crypto[] = { "" };

	(void)state;
	plan_default(s, &p);
	p.n_media = 1;
	expect_plan_error(s, &p, -EINVAL, "plan has 1 m= lines, the SDP 2");

	plan_default(s, &p);
	p.addr.family = MR_AF_NONE;
	expect_plan_error(s, &p, -EINVAL, "plan has no relay address");

	plan_default(s, &p);
	p.ice = 7;
	expect_plan_error(s, &p, -EINVAL, "bad version or ICE mode in the plan");

	plan_default(s, &p);
	p.media[1].rtp_port = 0;
	expect_plan_error(s, &p, -EINVAL, "m= line 2: accepted without a relay address and port");

	plan_default(s, &p);
	p.media[0].addr.family = 5;
	expect_plan_error(s, &p, -EINVAL, "m= line 1: accepted without a relay address and port");

	plan_default(s, &p);
	p.media[0].proto = "RTP/SAVP\r\na=x";
	expect_plan_error(s, &p, -EINVAL, "m= line 1: bad transport");
	p.media[0].proto = "RTP SAVP";
	expect_plan_error(s, &p, -EINVAL, "m= line 1: bad transport");
	p.media[0].proto = "";
	expect_plan_error(s, &p, -EINVAL, "m= line 1: bad transport");
	p.media[0].proto = "/RTP/AVP";
	expect_plan_error(s, &p, -EINVAL, "m= line 1: bad transport");
	p.media[0].proto = "RTP/AVP/";
	expect_plan_error(s, &p, -EINVAL, "m= line 1: bad transport");

	plan_default(s, &p);
	p.media[0].dir = 5;
	expect_plan_error(s, &p, -EINVAL, "m= line 1: bad direction");

	plan_default(s, &p);
	p.media[0].crypto = bad_crypto;
	p.media[0].n_crypto = 1;
	expect_plan_error(s, &p, -EINVAL, "m= line 1: a=crypto 1 is not one printable line");
	p.media[0].crypto = empty_crypto;
	expect_plan_error(s, &p, -EINVAL, "m= line 1: a=crypto 1 is not one printable line");
	p.media[0].crypto = NULL;
	expect_plan_error(s, &p, -EINVAL, "m= line 1: bad a=crypto list");
	p.media[0].crypto = crypto80;
	p.media[0].n_crypto = MR_SDP_MAX_CRYPTO + 1;
	expect_plan_error(s, &p, -EINVAL, "m= line 1: bad a=crypto list");

	plan_default(s, &p);
	p.ice = MR_SDP_ICE_LITE;
	expect_plan_error(s, &p, -EINVAL, "m= line 1: ICE-lite needs a ufrag of 4-256 and a pwd "
			  "of 22-256 ice-chars");
	p.media[0].ice_ufrag = "abc";                   /* too short */
	p.media[0].ice_pwd = RELAY_PWD;
	expect_plan_error(s, &p, -EINVAL, "m= line 1: ICE-lite needs a ufrag of 4-256 and a pwd "
			  "of 22-256 ice-chars");
	p.media[0].ice_ufrag = "ab:c";                  /* not an ice-char */
	expect_plan_error(s, &p, -EINVAL, "m= line 1: ICE-lite needs a ufrag of 4-256 and a pwd "
			  "of 22-256 ice-chars");
	p.media[1].accept = false;                      /* rejected lines need none */
	p.media[0].ice_ufrag = RELAY_UFRAG;
	rewrite_ok(s, &p);

	/* an RTP transport on a line whose formats are not payload types */
	m = parse_str(HDR "m=application 5000 UDP/BFCP *\r\n");
	plan_default(m, &p);
	p.media[0].accept = true;
	p.media[0].proto = "RTP/AVP";
	expect_plan_error(m, &p, -EINVAL, "m= line 1: its formats are not RTP payload types");
	p.media[0].proto = "UDP/BFCP";
	rewrite_ok(m, &p);
	mr_sdp_free(m);

	/* a line the offerer disabled (port 0) cannot be accepted */
	m = parse_str(HDR "m=audio 0 RTP/AVP 0\r\n");
	plan_default(m, &p);
	p.media[0].accept = true;
	expect_plan_error(m, &p, -EINVAL, "m= line 1: its port is 0, it cannot be accepted");
	mr_sdp_free(m);

	/* o= version at 2^64-1: bump is refused, set and keep work */
	m = parse_str("v=0\r\no=- 1 18446744073709551615 IN IP4 10.0.0.1\r\ns=-\r\n"
		      "c=IN IP4 10.0.0.1\r\nt=0 0\r\n" AUDIO);
	plan_default(m, &p);
	expect_plan_error(m, &p, -ERANGE, "o= version cannot be bumped past 2^64-1");
	p.version = MR_SDP_VERSION_SET;
	p.version_value = 1;
	rewrite_ok(m, &p);
	assert_non_null(strstr(out, "o=- 1 1 IN IP4 198.18.0.1\r\n"));
	mr_sdp_free(m);
	mr_sdp_free(s);
}

static void
test_buffer_bound(void **state)
{
	struct mr_sdp *s = parse_file("av_slides");
	struct mr_sdp_plan p;
	char err[MR_SDP_ERR_MAX], *small;
	size_t need, cap, len;

	(void)state;
	plan_av_slides(s, &p);
	need = rewrite_ok(s, &p);
	for (cap = 0; cap <= need; cap++) {
		small = malloc(cap ? cap : 1);
		assert_non_null(small);
		len = 7;
		assert_int_equal(mr_sdp_rewrite(s, &p, small, cap, &len, err, sizeof(err)), -ENOSPC);
		assert_int_equal(len, 7);
		free(small);
	}
	small = malloc(need + 1);
	assert_non_null(small);
	assert_int_equal(mr_sdp_rewrite(s, &p, small, need + 1, &len, err, sizeof(err)), 0);
	assert_int_equal(len, need);
	assert_memory_equal(small, out, need + 1);
	free(small);
	mr_sdp_free(s);
}

/* ---- rewrite: behaviours the golden files do not pin down ------------- */

static void
test_rewrite_variants(void **state)
{
	struct mr_sdp *s, *o;
	struct mr_sdp_plan p;
	size_t len;

	(void)state;
	/* zero-address hold replaced when asked */
	s = parse_file("hold");
	plan_default(s, &p);
	p.replace_zero_addr = true;
	len = rewrite_ok(s, &p);
	assert_null(strstr(out, "0.0.0.0"));
	o = parse_ok(out, len);
	check_reflects(s, &p, o);
	mr_sdp_free(o);
	/* ... and bridged to IPv6 it stays unspecified: "::" */
	plan_default(s, &p);
	p.media[1].addr = ip(RELAY6);
	len = rewrite_ok(s, &p);
	assert_non_null(strstr(out, "m=audio 30002 RTP/AVP 8\r\nc=IN IP6 ::\r\n"));
	mr_sdp_free(s);

	/* rtcp-mux offered by the relay: mux and a fallback RTCP port; ICE-lite
	 * then gives a candidate for each component */
	s = parse_file("pstn");
	plan_default(s, &p);
	p.ice = MR_SDP_ICE_LITE;
	p.media[0].rtcp_mux = true;
	p.media[0].ice_ufrag = RELAY_UFRAG;
	p.media[0].ice_pwd = RELAY_PWD;
	len = rewrite_ok(s, &p);
	assert_non_null(strstr(out, "a=rtcp:30001\r\na=rtcp-mux\r\na=ice-ufrag:mrly\r\n"
				    "a=ice-pwd:" RELAY_PWD "\r\n"));
	assert_non_null(strstr(out, " 1 UDP 2130706431 198.18.0.1 30000 typ host\r\n"));
	assert_null(strstr(out, " 2 UDP "));    /* muxed: one component */
	o = parse_ok(out, len);
	check_reflects(s, &p, o);
	mr_sdp_free(o);
	/* no a=rtcp at all when the plan has no RTCP port */
	plan_default(s, &p);
	p.media[0].rtcp_port = 0;
	rewrite_ok(s, &p);
	assert_null(strstr(out, "a=rtcp"));
	/* everything rejected: no a=ice-lite even in ICE-lite mode */
	plan_default(s, &p);
	p.ice = MR_SDP_ICE_LITE;
	p.media[0].accept = false;
	rewrite_ok(s, &p);
	assert_null(strstr(out, "ice"));
	assert_non_null(strstr(out, "m=audio 0 RTP/AVP 8 0 18 101\r\n"));
	assert_null(strstr(out, "a=rtpmap"));   /* a rejected line keeps no attribute */
	mr_sdp_free(s);

	/* port count dropped; k= and misplaced session-level a=crypto never
	 * passed on; i= stays before the relay's c=; unknown lines kept */
	s = parse_str("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
		      "k=clear:secret\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_PS1U "\r\n"
		      "a=rtcp:999 IN IP4 10.0.0.1\r\na=tool:x\r\n"
		      "m=video 49170/2 RTP/AVP 31\r\ni=camera\r\nb=AS:512\r\nk=prompt\r\n"
		      "a=x-unknown:10.0.0.1\r\n");
	plan_default(s, &p);
	len = rewrite_ok(s, &p);
	assert_string_equal(out, "v=0\r\no=- 1 2 IN IP4 198.18.0.1\r\ns=-\r\n"
			    "c=IN IP4 198.18.0.1\r\nt=0 0\r\na=tool:x\r\n"
			    "m=video 30000 RTP/AVP 31\r\ni=camera\r\nc=IN IP4 198.18.0.1\r\n"
			    "b=AS:512\r\na=x-unknown:10.0.0.1\r\na=rtcp:30001\r\n");
	mr_sdp_free(s);

	/* blanks in o= (a fuzz finding: the kept address was taken from the
	 * wrong field when the value started with a blank) */
	s = parse_str("v=0\r\no= alice\t 7  8 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\n"
		      "t=0 0\r\n" AUDIO);
	plan_default(s, &p);
	p.replace_origin = false;
	p.version = MR_SDP_VERSION_SET;
	p.version_value = 9;
	rewrite_ok(s, &p);
	assert_non_null(strstr(out, "\r\no=alice 7 9 IN IP4 10.0.0.1\r\n"));
	mr_sdp_free(s);

	/* no session c= at all: accepted lines get theirs, a rejected one none */
	s = parse_str("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\n"
		      "m=audio 5000 RTP/AVP 0\r\nc=IN IP4 10.0.0.1\r\n"
		      "m=application 0 UDP/BFCP *\r\n");
	plan_default(s, &p);
	rewrite_ok(s, &p);
	assert_string_equal(out, "v=0\r\no=- 1 2 IN IP4 198.18.0.1\r\ns=-\r\nt=0 0\r\n"
			    "m=audio 30000 RTP/AVP 0\r\nc=IN IP4 198.18.0.1\r\na=rtcp:30001\r\n"
			    "m=application 0 UDP/BFCP *\r\n");
	mr_sdp_free(s);
}

/* SDES negotiation over the model: the offer's lines go to mr_sdes_answer()
 * as they are, and the printed answer goes back through the rewrite. */
static void
test_sdes_roundtrip(void **state)
{
	static const char offer[] =
		HDR "m=audio 5000 RTP/SAVP 0\r\n"
		"a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:" KEY_PS1U "\r\n"
		"a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:" KEY_WVNF "|2^20|1:4\r\n"
		"a=crypto:3 AEAD_AES_256_GCM inline:" KEY44 "\r\n"
		"a=crypto:4 F8_128_HMAC_SHA1_80 inline:" KEY_PS1U "\r\n";
	struct mr_sdes_crypto remote, local, back;
	struct mr_sdes_prefs prefs;
	char line[MR_SDES_LINE_MAX], err[MR_SDP_ERR_MAX];
	const char *lines[1] = { line };
	struct mr_sdp *s = parse_str(offer), *o;
	struct mr_sdp_plan p;
	size_t idx, n, len;

	(void)state;
	assert_int_equal(s->media[0].n_crypto, 4);
	mr_sdes_prefs_default(&prefs);
	assert_int_equal(mr_sdes_answer(&prefs, s->media[0].crypto, s->media[0].n_crypto, &idx,
					&remote, &local, err, sizeof(err)), 0);
	assert_int_equal(idx, 2);                       /* AEAD_AES_256_GCM, tag 3 */
	assert_int_equal(mr_sdes_print(&local, 0, line, sizeof(line), &n), 0);
	plan_default(s, &p);
	p.media[0].crypto = lines;
	p.media[0].n_crypto = 1;
	len = rewrite_ok(s, &p);
	o = parse_ok(out, len);
	assert_int_equal(o->media[0].n_crypto, 1);
	assert_int_equal(mr_sdes_parse(o->media[0].crypto[0], strlen(o->media[0].crypto[0]), 0,
				       &back, err, sizeof(err)), 0);
	assert_int_equal(back.tag, 3);
	assert_int_equal(back.suite, MR_SUITE_AEAD_AES_256_GCM);
	assert_memory_equal(back.key, local.key, sizeof(back.key));
	mr_sdes_wipe(&remote);
	mr_sdes_wipe(&local);
	mr_sdes_wipe(&back);
	mr_sdp_free(o);
	mr_sdp_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_model_yealink),
		cmocka_unit_test(test_model_av_slides),
		cmocka_unit_test(test_model_bfcp),
		cmocka_unit_test(test_model_webrtc),
		cmocka_unit_test(test_model_ipv6_hold),
		cmocka_unit_test(test_model_rtcp_mux),
		cmocka_unit_test(test_model_misc),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_plan_errors),
		cmocka_unit_test(test_buffer_bound),
		cmocka_unit_test(test_rewrite_variants),
		cmocka_unit_test(test_sdes_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
