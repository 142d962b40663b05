/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The registrar and B2BUA (controlplane/sip/sip.h) driven by text SIP
 * messages over a fake transport that records what is sent on each flow,
 * with the real NG front-end and session manager on a temporary region
 * (no dataplane): digest registration, calls between accounts and from a
 * pstn trunk, SDES re-keying, the 488 for plain RTP, 480/404, CANCEL,
 * re-INVITE hold, session-timer expiry, PRACK, lost flows, revocation,
 * and malformed input; and the indexes (sip_int.h) with many bindings and
 * calls: per-account caps, flows that close under many of them, calls
 * matched among many, revocation, transactions dropped with their flow.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>

#include <cmocka.h>

#include "accounts.h"
#include "digest.h"
#include "sip.h"
#include "session_iface.h"
#include "sip_doubles.h"
#include "tmpdir.h"

#define LEGS 64u
#define DOMAIN "example.test"
#define FA 11u                  /* alice's TLS flow */
#define FB 12u                  /* bob's */
#define FT 13u                  /* the pstn trunk's UDP flow (it called us) */
#define FT_DIAL 900u            /* the flow io.dial() gives for the trunk */
#define MAXQ 64u
#define SIP_CSEQ_STEP_SEEN 999u /* recovered legs' CSeqs jump by 1000 */

struct sent {
	mr_flow_id flow;
	char *text;
};

static struct {
	struct mr_test_tmpdir tmp;      /* path: the region; dir: state_dir, databases, nonce key */
	char nonce_path[128];           /* F.sp's, for as long as F.sp is used */
	struct mr_region r;
	struct mr_session_iface ifaces[2];
	struct mr_session *sess;
	struct mr_ng *ng;
	struct mr_sip_config cfg;
	struct mr_sip *sip;
	struct mr_sip_params sp;        /* to make F.sip again (a restart) */
	struct sent q[MAXQ];
	unsigned int nq;
	uint64_t now;
	unsigned int seq;
} F;

static unsigned int n_invites;  /* each INVITE of a test gets its own Call-ID */

/* ---- the fake transport --------------------------------------------- */

static int
io_send(void *ctx, mr_flow_id id, const char *msg, size_t len)
{
	(void)ctx;
	assert_true(F.nq < MAXQ);
	F.q[F.nq].flow = id;
	F.q[F.nq].text = strndup(msg, len);
	F.nq++;
	return 0;
}

static int
io_dial(void *ctx, unsigned int trunk, mr_flow_id *ret)
{
	(void)ctx;
	*ret = FT_DIAL + trunk;
	return 0;
}

/* The next message sent on @flow (caller frees), or NULL. */
static char *
pop(mr_flow_id flow)
{
	unsigned int i;
	char *t;

	for (i = 0; i < F.nq; i++)
		if (F.q[i].flow == flow) {
			t = F.q[i].text;
			memmove(&F.q[i], &F.q[i + 1], (F.nq - i - 1) * sizeof(F.q[0]));
			F.nq--;
			return t;
		}
	return NULL;
}

static void
drain(void)
{
	while (F.nq > 0)
		free(pop(F.q[0].flow));
}

static int
status_of(const char *t)
{
	return strncmp(t, "SIP/2.0 ", 8) == 0 ? atoi(t + 8) : 0;
}

/* Next message on @flow must be a response @code (skipping 100 unless
 * asked for); returns it. */
static char *
expect_status(mr_flow_id flow, int code)
{
	char *t;

	for (;;) {
		t = pop(flow);
		if (t == NULL)
			fail_msg("no response %d on flow %llu", code, (unsigned long long)flow);
		if (status_of(t) == 100 && code != 100) {
			free(t);
			continue;
		}
		if (status_of(t) != code)
			fail_msg("expected %d on flow %llu, got:\n%s", code, (unsigned long long)flow, t);
		return t;
	}
}

static char *
expect_request(mr_flow_id flow, const char *method)
{
	char *t = pop(flow);
	size_t n = strlen(method);

	if (t == NULL)
		fail_msg("no %s on flow %llu", method, (unsigned long long)flow);
	if (strncmp(t, method, n) != 0 || t[n] != ' ')
		fail_msg("expected %s on flow %llu, got:\n%s", method, (unsigned long long)flow, t);
	return t;
}

/* Value of header @name in @t (first one), copied; "" if absent. */
static const char *
hdr(const char *t, const char *name)
{
	static char v[1024];
	size_t n = strlen(name);
	const char *p = t, *e;

	v[0] = '\0';
	while ((p = strstr(p, "\r\n")) != NULL) {
		p += 2;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			p += n + 1;
			while (*p == ' ')
				p++;
			e = strstr(p, "\r\n");
			snprintf(v, sizeof(v), "%.*s", (int)(e - p), p);
			return v;
		}
	}
	return v;
}

/* The parameter @param (e.g. "tag=") in @v, copied up to ; or > or end. */
static const char *
param(const char *v, const char *param)
{
	static char out[256];
	const char *p = strstr(v, param);
	size_t n;

	out[0] = '\0';
	if (p == NULL)
		return out;
	p += strlen(param);
	if (*p == '"')
		p++;
	n = strcspn(p, ";>\",\r\n ");
	snprintf(out, sizeof(out), "%.*s", (int)n, p);
	return out;
}

static const char *
body_of(const char *t)
{
	const char *b = strstr(t, "\r\n\r\n");

	return b != NULL ? b + 4 : "";
}

/* ---- fixture -------------------------------------------------------- */

static int
setup(void **state)
{
	struct mr_session_params p = { 0 };
	struct mr_ng_params np = { 0 };
	struct mr_sip_params sp = { 0 };
	struct mr_accounts *acc;
	char err[256];

	(void)state;
	memset(&F, 0, sizeof(F));
	mr_test_cdr_n = 0;
	n_invites = 0;
	F.now = 1000000;
	if (mr_test_tmpdir_make(&F.tmp, "/tmp/mr-test-sip-XXXXXX", "region") < 0)
		return -1;
	if (mr_region_open(&F.r, F.tmp.path, true, LEGS, 2) < 0)
		return -1;
	mr_test_iface(&F.ifaces[0], "wan", "198.18.0.2", 30000, 30099, false);
	mr_test_iface(&F.ifaces[1], "pstn", "198.18.0.3", 40000, 40099, true);
	p.ifaces = F.ifaces;
	p.n_ifaces = 2;
	p.state_dir = F.tmp.dir;
	assert_int_equal(mr_region_lock(&F.r), 0);
	assert_int_equal(mr_session_new(&p, &F.r, &F.sess, NULL, err, sizeof(err)), 0);
	np.sess = F.sess;
	np.ifaces = F.ifaces;
	np.n_ifaces = 2;
	F.ng = mr_ng_new(&np);
	assert_non_null(F.ng);

	mr_test_sip_config(&F.cfg, DOMAIN, F.tmp.dir);
	F.cfg.enabled = true;
	snprintf(F.cfg.tls[0].iface, sizeof(F.cfg.tls[0].iface), "wan");
	F.cfg.trunks[0].strip_prefix = true;
	F.cfg.session_expires_s = 1800;

	assert_int_equal(mr_accounts_open(F.cfg.accounts_db, DOMAIN, &acc), 0);
	assert_int_equal(mr_accounts_add(acc, "alice", "secretA"), 0);
	assert_int_equal(mr_accounts_add(acc, "bob", "secretB"), 0);
	assert_int_equal(mr_accounts_add(acc, "carol", "secretC"), 0);
	mr_accounts_close(acc);

	sp.cfg = &F.cfg;
	sp.ng = F.ng;
	sp.io.send = io_send;
	sp.io.dial = io_dial;
	snprintf(F.nonce_path, sizeof(F.nonce_path), "%s/nonce.key", F.tmp.dir);
	sp.nonce_secret_path = F.nonce_path;
	sp.default_iface = "wan";
	sp.state_dir = F.tmp.dir;
	F.sp = sp;
	F.sip = mr_sip_new(&sp, err, sizeof(err));
	if (F.sip == NULL)
		fail_msg("mr_sip_new: %s", err);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	mr_sip_free(F.sip);
	drain();
	mr_ng_free(F.ng);
	mr_session_free(F.sess);
	mr_region_unlock(&F.r);
	mr_region_close(&F.r);
	return mr_test_tmpdir_remove(&F.tmp);
}

static void
flow_info(struct mr_sip_flow_info *f, mr_flow_id id)
{
	memset(f, 0, sizeof(*f));
	f->id = id;
	f->proto = id == FT ? MR_SIP_UDP : MR_SIP_TLS;
	f->listener = id == FT ? -1 : 0;
	f->trunk = id == FT || id == FT_DIAL ? 0 : -1;
	if (id == FT_DIAL)
		f->proto = MR_SIP_UDP;
	mr_test_sa4(&f->peer, id == FT || id == FT_DIAL ? "198.18.0.50" : "198.18.1.10",
		  (uint16_t)(40000 + id));
	if (id == FT || id == FT_DIAL)
		F.cfg.n_tls = 1, mr_test_sa4(&f->local, "198.18.0.1", 5060);
	else
		mr_test_sa4(&f->local, "198.18.0.1", 5061);
}

static void __attribute__((format(printf, 2, 3)))
deliver(mr_flow_id flow, const char *fmt, ...)
{
	static char buf[16384];
	struct mr_sip_flow_info f;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof(buf));
	flow_info(&f, flow);
	mr_sip_on_message(F.sip, &f, buf, (size_t)n, F.now);
}

/* Deliver @head + Content-Length + @body. */
static void
deliver_body(mr_flow_id flow, const char *head, const char *body)
{
	deliver(flow, "%s%sContent-Length: %zu\r\n\r\n%s", head,
		body[0] != '\0' ? "Content-Type: application/sdp\r\n" : "", strlen(body), body);
}

/* ---- digest --------------------------------------------------------- */

/* The first challenge's algorithm, and the one the answers use (SHA-256
 * unless a test says otherwise). */
static enum mr_digest_alg first_alg = MR_DIGEST_SHA256, resp_alg = MR_DIGEST_SHA256;

/* The Authorization value answering challenge @t (its first header). */
static const char *
answer_challenge(const char *t, const char *hname, const char *user, const char *pw,
		 const char *method, const char *uri)
{
	static char out[1024];
	char nonce[128], ha1[MR_DIGEST_HEX_MAX], resp[MR_DIGEST_HEX_MAX];

	snprintf(nonce, sizeof(nonce), "%s", param(hdr(t, hname), "nonce="));
	assert_string_equal(param(hdr(t, hname), "algorithm="), mr_digest_alg_name(first_alg));
	assert_int_equal(mr_digest_ha1(resp_alg, user, DOMAIN, pw, ha1), 0);
	assert_int_equal(mr_digest_response(resp_alg, ha1, method, uri, nonce, "00000001",
					    "c0ffee", resp), 0);
	snprintf(out, sizeof(out),
		 "Digest username=\"%s\", realm=\"" DOMAIN "\", nonce=\"%s\", uri=\"%s\", "
		 "response=\"%s\", algorithm=%s, qop=auth, nc=00000001, cnonce=\"c0ffee\"",
		 user, nonce, uri, resp, mr_digest_alg_name(resp_alg));
	return out;
}

/* REGISTER @user on @flow with Contact <sip:@contact@198.18.1.10:5061;...>:
 * the final status; the 2xx itself in @ret_ok if given (caller frees). */
static int
register_contact(mr_flow_id flow, const char *user, const char *pw, const char *contact,
		 const char *expires, char **ret_ok)
{
	char *t, auth[1024];
	int code;

	F.seq++;
	deliver(flow, "REGISTER sip:" DOMAIN " SIP/2.0\r\n"
		"Via: SIP/2.0/TLS 198.18.1.10:5061;branch=z9hG4bKr%u\r\n"
		"From: <sip:%s@" DOMAIN ">;tag=rf%u\r\nTo: <sip:%s@" DOMAIN ">\r\n"
		"Call-ID: reg-%s\r\nCSeq: %u REGISTER\r\nMax-Forwards: 70\r\n"
		"Contact: <sip:%s@198.18.1.10:5061;transport=tls>;expires=%s\r\n"
		"Content-Length: 0\r\n\r\n", F.seq, user, F.seq, user, user, F.seq, contact, expires);
	t = expect_status(flow, 401);
	if (F.cfg.digest.n == 0 && F.cfg.tls[0].digest.n == 0 && strstr(t, "algorithm=SHA-256") > strstr(t, "algorithm=MD5"))
		fail_msg("SHA-256 must come first:\n%s", t);
	if ((F.cfg.digest.n == 1 || F.cfg.tls[0].digest.n == 1) && strstr(t, "algorithm=SHA-256") != NULL)
		fail_msg("only MD5 is configured:\n%s", t);
	snprintf(auth, sizeof(auth), "%s", answer_challenge(t, "WWW-Authenticate", user, pw,
							     "REGISTER", "sip:" DOMAIN));
	free(t);
	F.seq++;
	deliver(flow, "REGISTER sip:" DOMAIN " SIP/2.0\r\n"
		"Via: SIP/2.0/TLS 198.18.1.10:5061;branch=z9hG4bKr%u\r\n"
		"From: <sip:%s@" DOMAIN ">;tag=rf%u\r\nTo: <sip:%s@" DOMAIN ">\r\n"
		"Call-ID: reg-%s\r\nCSeq: %u REGISTER\r\nMax-Forwards: 70\r\n"
		"Contact: <sip:%s@198.18.1.10:5061;transport=tls>;expires=%s\r\n"
		"Authorization: %s\r\nContent-Length: 0\r\n\r\n", F.seq, user, F.seq, user, user,
		F.seq, contact, expires, auth);
	t = pop(flow);
	assert_non_null(t);
	code = status_of(t);
	if (ret_ok != NULL && code == 200)
		*ret_ok = t;
	else
		free(t);
	return code;
}

static int
do_register(mr_flow_id flow, const char *user, const char *pw, const char *expires)
{
	return register_contact(flow, user, pw, user, expires, NULL);
}

/* ---- SDP ------------------------------------------------------------ */

#define SDP_A "v=0\r\no=alice 1 1 IN IP4 198.18.1.10\r\ns=-\r\nc=IN IP4 198.18.1.10\r\nt=0 0\r\n"
#define KEY_A "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"
#define KEY_B "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk"
#define OFFER_A SDP_A "m=audio 4000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" \
	KEY_A "\r\na=sendrecv\r\n"
#define HOLD_A SDP_A "m=audio 4000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" \
	KEY_A "\r\na=sendonly\r\n"
#define VIDEO_A SDP_A "m=audio 4000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" \
	KEY_A "\r\nm=video 4002 RTP/SAVP 96\r\na=rtpmap:96 H264/90000\r\n" \
	"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_A "\r\n" \
	"m=video 4004 RTP/SAVP 96\r\na=rtpmap:96 H264/90000\r\na=content:slides\r\n" \
	"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_A "\r\n"
#define PLAIN_A SDP_A "m=audio 4000 RTP/AVP 0\r\n"
#define SDP_B "v=0\r\no=bob 2 1 IN IP4 198.18.1.20\r\ns=-\r\nc=IN IP4 198.18.1.20\r\nt=0 0\r\n"
#define CRYPTO_B "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_B "\r\n"

/* B's answer with as many audio/video lines as the offer it got. */
static const char *
answer_b(const char *offer, const char *dir)
{
	static char out[4096];
	const char *p = offer;
	size_t n = 0;
	unsigned int port = 6000;

	n += (size_t)snprintf(out + n, sizeof(out) - n, "%s", SDP_B);
	while ((p = strstr(p, "m=")) != NULL) {
		bool video = strncmp(p, "m=video", 7) == 0;

		n += (size_t)snprintf(out + n, sizeof(out) - n, "m=%s %u RTP/SAVP %s\r\n%s%s",
				      video ? "video" : "audio", port, video ? "96" : "0",
				      video ? "a=rtpmap:96 H264/90000\r\n" : "", CRYPTO_B);
		if (dir != NULL)
			n += (size_t)snprintf(out + n, sizeof(out) - n, "a=%s\r\n", dir);
		port += 2;
		p += 2;
	}
	return out;
}

/* ---- a call --------------------------------------------------------- */

struct callp {
	char b_invite[8192];    /* what bob got */
	char a_tag[64];         /* alice's leg: our To tag */
	char b_callid[128], b_from[256], b_to_hdr[256];
	char b_via[256];
	char a_callid[32];
	unsigned int a_cseq;
};

static char last_a[8192];       /* what alice last got when bob got nothing */

/* alice calls @who with @sdp; returns the code of the first non-100
 * response alice got if bob got nothing, else 0 with bob's INVITE in @cp. */
static int
invite_on(struct callp *cp, const char *who, const char *sdp, const char *extra, mr_flow_id bf)
{
	char head[2048], *t, auth[1024], uri[128];

	snprintf(uri, sizeof(uri), "sip:%s@" DOMAIN, who);
	if (n_invites++ == 0)
		snprintf(cp->a_callid, sizeof(cp->a_callid), "call-a");
	else
		snprintf(cp->a_callid, sizeof(cp->a_callid), "call-a%u", n_invites);
	cp->a_cseq = 1;
	snprintf(head, sizeof(head), "INVITE %s SIP/2.0\r\n"
		 "Via: SIP/2.0/TLS 198.18.1.10:5061;branch=z9hG4bKa1%s\r\n"
		 "From: \"Alice\" <sip:alice@" DOMAIN ">;tag=atag\r\nTo: <%s>\r\n"
		 "Call-ID: %s\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"
		 "Contact: <sip:alice@198.18.1.10:5061;transport=tls>\r\n%s", uri, cp->a_callid, uri, cp->a_callid, extra);
	deliver_body(FA, head, sdp);
	t = expect_status(FA, 407);
	snprintf(auth, sizeof(auth), "%s",
		 answer_challenge(t, "Proxy-Authenticate", "alice", "secretA", "INVITE", uri));
	free(t);
	cp->a_cseq = 2;
	snprintf(head, sizeof(head), "INVITE %s SIP/2.0\r\n"
		 "Via: SIP/2.0/TLS 198.18.1.10:5061;branch=z9hG4bKa2%s\r\n"
		 "From: \"Alice\" <sip:alice@" DOMAIN ">;tag=atag\r\nTo: <%s>\r\n"
		 "Call-ID: %s\r\nCSeq: 2 INVITE\r\nMax-Forwards: 70\r\n"
		 "Contact: <sip:alice@198.18.1.10:5061;transport=tls>\r\n"
		 "Proxy-Authorization: %s\r\n%s", uri, cp->a_callid, uri, cp->a_callid, auth, extra);
	deliver_body(FA, head, sdp);
	t = pop(bf);
	if (t == NULL) {
		int code;

		while ((t = pop(FA)) != NULL && status_of(t) == 100)
			free(t);
		assert_non_null(t);
		code = status_of(t);
		snprintf(last_a, sizeof(last_a), "%s", t);
		free(t);
		return code;
	}
	if (strncmp(t, "INVITE ", 7) != 0)
		fail_msg("bob got:\n%s", t);
	snprintf(cp->b_invite, sizeof(cp->b_invite), "%s", t);
	snprintf(cp->b_callid, sizeof(cp->b_callid), "%s", hdr(t, "Call-ID"));
	snprintf(cp->b_from, sizeof(cp->b_from), "%s", hdr(t, "From"));
	snprintf(cp->b_to_hdr, sizeof(cp->b_to_hdr), "%s", hdr(t, "To"));
	snprintf(cp->b_via, sizeof(cp->b_via), "%s", hdr(t, "Via"));
	free(t);
	t = expect_status(FA, 100);
	free(t);
	return 0;
}

static int
invite(struct callp *cp, const char *who, const char *sdp, const char *extra)
{
	return invite_on(cp, who, sdp, extra, FB);
}

/* Bob responds @code to the INVITE in @cp. */
static void
bob_responds(struct callp *cp, int code, const char *extra, const char *sdp)
{
	char head[2048];

	snprintf(head, sizeof(head), "SIP/2.0 %d X\r\nVia: %s\r\nFrom: %s\r\nTo: %s;tag=btag\r\n"
		 "Call-ID: %s\r\nCSeq: 1 INVITE\r\n"
		 "Contact: <sip:bob@198.18.1.20:5061;transport=tls>\r\n%s", code, cp->b_via,
		 cp->b_from, cp->b_to_hdr, cp->b_callid, extra != NULL ? extra : "");
	deliver_body(FB, head, sdp != NULL ? sdp : "");
}

/* A call alice -> bob up to alice's ACK. Returns alice's 200 To tag. */
static void
call_up(struct callp *cp, const char *offer, const char *extra_a, const char *extra_b)
{
	char *t;

	assert_int_equal(do_register(FB, "bob", "secretB", "600"), 200);
	assert_int_equal(invite(cp, "bob", offer, extra_a), 0);
	bob_responds(cp, 180, NULL, NULL);
	t = expect_status(FA, 180);
	free(t);
	bob_responds(cp, 200, extra_b, answer_b(cp->b_invite + 0, NULL) == NULL ? "" :
		     answer_b(body_of(cp->b_invite), NULL));
	t = expect_status(FA, 200);
	snprintf(cp->a_tag, sizeof(cp->a_tag), "%s", param(hdr(t, "To"), "tag="));
	assert_true(cp->a_tag[0] != '\0');
	free(t);
	deliver(FA, "ACK sip:mrelay@198.18.0.1:5061;transport=tls SIP/2.0\r\n"
		"Via: SIP/2.0/TLS 198.18.1.10:5061;branch=z9hG4bKack\r\n"
		"From: <sip:alice@" DOMAIN ">;tag=atag\r\nTo: <sip:bob@" DOMAIN ">;tag=%s\r\n"
		"Call-ID: call-a\r\nCSeq: %u ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
		cp->a_tag, cp->a_cseq);
	t = expect_request(FB, "ACK");
	free(t);
}

static void
alice_in_dialog(struct callp *cp, const char *method, unsigned int cseq, const char *extra,
		const char *sdp)
{
	char head[2048];

	snprintf(head, sizeof(head), "%s sip:mrelay@198.18.0.1:5061;transport=tls SIP/2.0\r\n"
		 "Via: SIP/2.0/TLS 198.18.1.10:5061;branch=z9hG4bKd%u\r\n"
		 "From: <sip:alice@" DOMAIN ">;tag=atag\r\nTo: <sip:bob@" DOMAIN ">;tag=%s\r\n"
		 "Call-ID: %s\r\nCSeq: %u %s\r\nMax-Forwards: 70\r\n"
		 "Contact: <sip:alice@198.18.1.10:5061;transport=tls>\r\n%s", method, cseq,
		 cp->a_tag, cp->a_callid, cseq, method, extra != NULL ? extra : "");
	deliver_body(FA, head, sdp != NULL ? sdp : "");
}

/* Respond 200 to request @t on @flow (echoing its Via/From/To/Call-ID/CSeq). */
static void
ok_to(mr_flow_id flow, const char *t, const char *sdp)
{
	char head[2048];

	{
		char from[256], to[256], via[256], cid[128], cseq[64];

		snprintf(via, sizeof(via), "%s", hdr(t, "Via"));
		snprintf(from, sizeof(from), "%s", hdr(t, "From"));
		snprintf(to, sizeof(to), "%s", hdr(t, "To"));
		snprintf(cid, sizeof(cid), "%s", hdr(t, "Call-ID"));
		snprintf(cseq, sizeof(cseq), "%s", hdr(t, "CSeq"));
		snprintf(head, sizeof(head), "SIP/2.0 200 OK\r\nVia: %s\r\nFrom: %s\r\nTo: %s\r\n"
			 "Call-ID: %s\r\nCSeq: %s\r\n"
			 "Contact: <sip:x@198.18.1.20:5061;transport=tls>\r\n",
			 via, from, to, cid, cseq);
	}
	deliver_body(flow, head, sdp != NULL ? sdp : "");
}

static const struct mr_cdr_row *
last_cdr(void)
{
	assert_true(mr_test_cdr_n > 0);
	return &mr_test_cdr_rows[mr_test_cdr_n - 1];
}

/* ---- tests ---------------------------------------------------------- */

static void
test_register(void **state)
{
	(void)state;
	assert_int_equal(do_register(FA, "alice", "secretA", "600"), 200);
	assert_int_equal(mr_sip_counters(F.sip)->bindings, 1);
	assert_int_equal(do_register(FA, "alice", "wrong", "600"), 403);
	assert_int_equal(do_register(FA, "nobody", "x", "600"), 403);
	assert_int_equal(do_register(FA, "alice", "secretA", "10"), 423);
	assert_int_equal(mr_sip_counters(F.sip)->auth_failures, 2);
	assert_int_equal(do_register(FA, "alice", "secretA", "0"), 200);
	assert_int_equal(mr_sip_counters(F.sip)->bindings, 0);
	/* expiry on tick */
	assert_int_equal(do_register(FA, "alice", "secretA", "60"), 200);
	F.now += 61000;
	mr_sip_tick(F.sip, F.now);
	assert_int_equal(mr_sip_counters(F.sip)->bindings, 0);
}

/* sip.digest_algorithms = [ "MD5" ]: one challenge; a SHA-256 answer is refused. */
static void
test_register_md5_only(void **state)
{
	(void)state;
	F.cfg.digest.n = 1;
	F.cfg.digest.alg[0] = MR_DIGEST_MD5;
	first_alg = MR_DIGEST_MD5;
	resp_alg = MR_DIGEST_SHA256;
	assert_int_equal(do_register(FA, "alice", "secretA", "600"), 403);
	assert_int_equal(mr_sip_counters(F.sip)->bindings, 0);
	resp_alg = MR_DIGEST_MD5;
	assert_int_equal(do_register(FA, "alice", "secretA", "600"), 200);
	assert_int_equal(mr_sip_counters(F.sip)->bindings, 1);
	/* a listener's own list wins over the group's */
	F.cfg.digest.n = 0;
	F.cfg.tls[0].digest.n = 1;
	F.cfg.tls[0].digest.alg[0] = MR_DIGEST_MD5;
	resp_alg = MR_DIGEST_SHA256;
	assert_int_equal(do_register(FA, "alice", "secretA", "600"), 403);
	resp_alg = MR_DIGEST_MD5;
	assert_int_equal(do_register(FA, "alice", "secretA", "600"), 200);
	first_alg = resp_alg = MR_DIGEST_SHA256;
}

static void
test_call(void **state)
{
	struct callp cp;
	const struct mr_cdr_row *row;
	char *t;

	(void)state;
	assert_int_equal(do_register(FB, "bob", "secretB", "600"), 200);
	assert_int_equal(invite(&cp, "bob", OFFER_A, ""), 0);
	/* over bob's own flow, to his Contact, SDP rewritten and re-keyed */
	assert_true(strncmp(cp.b_invite, "INVITE sip:bob@198.18.1.10:5061;transport=tls SIP/2.0",
			    53) == 0);
	assert_non_null(strstr(body_of(cp.b_invite), "c=IN IP4 198.18.0.2"));
	assert_non_null(strstr(body_of(cp.b_invite), "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"));
	assert_null(strstr(body_of(cp.b_invite), KEY_A));
	assert_null(strstr(cp.b_invite, "call-a"));     /* our own Call-ID */
	assert_non_null(strstr(hdr(cp.b_invite, "Contact"), ";transport=tls"));
	assert_string_equal(param(cp.b_from, "<sip:"), "alice@" DOMAIN);

	bob_responds(&cp, 180, NULL, NULL);
	t = expect_status(FA, 180);
	free(t);
	bob_responds(&cp, 200, NULL, answer_b(body_of(cp.b_invite), NULL));
	t = expect_status(FA, 200);
	assert_non_null(strstr(body_of(t), "c=IN IP4 198.18.0.2"));
	assert_null(strstr(body_of(t), KEY_B));
	assert_non_null(strstr(body_of(t), "a=crypto:1 AES_CM_128_HMAC_SHA1_80"));
	snprintf(cp.a_tag, sizeof(cp.a_tag), "%s", param(hdr(t, "To"), "tag="));
	free(t);
	assert_null(pop(FB));   /* no ACK before alice's */
	deliver(FA, "ACK sip:mrelay@198.18.0.1:5061;transport=tls SIP/2.0\r\n"
		"Via: SIP/2.0/TLS 198.18.1.10:5061;branch=z9hG4bKack\r\n"
		"From: <sip:alice@" DOMAIN ">;tag=atag\r\nTo: <sip:bob@" DOMAIN ">;tag=%s\r\n"
		"Call-ID: call-a\r\nCSeq: 2 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
		cp.a_tag);
	t = expect_request(FB, "ACK");
	assert_non_null(strstr(t, "ACK sip:bob@198.18.1.20:5061;transport=tls"));
	free(t);
	assert_int_equal(mr_sip_counters(F.sip)->calls_active, 1);

	alice_in_dialog(&cp, "BYE", 3, NULL, NULL);
	t = expect_status(FA, 200);
	free(t);
	t = expect_request(FB, "BYE");
	ok_to(FB, t, NULL);
	free(t);
	assert_int_equal(mr_sip_counters(F.sip)->calls_active, 0);
	row = last_cdr();
	assert_string_equal(row->caller, "alice");
	assert_string_equal(row->callee, "bob");
	assert_string_equal(row->call_id, "call-a");
	assert_string_equal(row->end_reason, "caller-bye");
	assert_int_equal(row->sip_status, 200);
	assert_true(row->answer_s != 0);
	assert_null(pop(FA));
	assert_null(pop(FB));
}

static void
test_video_lines(void **state)
{
	struct callp cp;
	const char *b;

	(void)state;
	assert_int_equal(do_register(FB, "bob", "secretB", "600"), 200);
	assert_int_equal(invite(&cp, "bob", VIDEO_A, ""), 0);
	b = body_of(cp.b_invite);
	assert_non_null(strstr(b, "m=audio"));
	assert_non_null(strstr(strstr(b, "m=video"), "m=video"));
	assert_non_null(strstr(strstr(strstr(b, "m=video") + 2, "m=video"), "a=content:slides"));
}

static void
test_plain_488(void **state)
{
	struct callp cp;

	(void)state;
	assert_int_equal(do_register(FB, "bob", "secretB", "600"), 200);
	assert_int_equal(invite(&cp, "bob", PLAIN_A, ""), 488);
	assert_string_equal(hdr(last_a, "Warning"), "399 " DOMAIN " \"SRTP (SDES) required\"");
	assert_null(pop(FB));
	assert_int_equal(mr_sip_counters(F.sip)->rejected_488, 1);
	assert_int_equal(mr_sip_counters(F.sip)->calls_active, 0);
	assert_string_equal(last_cdr()->end_reason, "rejected");
	assert_int_equal(last_cdr()->sip_status, 488);
}

static void
test_480_404(void **state)
{
	struct callp cp;

	(void)state;
	assert_int_equal(invite(&cp, "carol", OFFER_A, ""), 480);
	assert_int_equal(invite(&cp, "dave", OFFER_A, ""), 404);
	assert_int_equal(mr_sip_counters(F.sip)->calls_failed, 2);
	assert_int_equal(mr_sip_counters(F.sip)->calls_active, 0);
}

static void
test_cancel(void **state)
{
	struct callp cp;
	char *t;

	(void)state;
	assert_int_equal(do_register(FB, "bob", "secretB", "600"), 200);
	assert_int_equal(invite(&cp, "bob", OFFER_A, ""), 0);
	bob_responds(&cp, 180, NULL, NULL);
	free(expect_status(FA, 180));
	deliver(FA, "CANCEL sip:bob@" DOMAIN " SIP/2.0\r\n"
		"Via: SIP/2.0/TLS 198.18.1.10:5061;branch=z9hG4bKa2%s\r\n"
		"From: \"Alice\" <sip:alice@" DOMAIN ">;tag=atag\r\nTo: <sip:bob@" DOMAIN ">\r\n"
		"Call-ID: %s\r\nCSeq: 2 CANCEL\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
		cp.a_callid, cp.a_callid);
	t = expect_status(FA, 200);
	assert_non_null(strstr(hdr(t, "CSeq"), "CANCEL"));
	free(t);
	t = expect_status(FA, 487);
	free(t);
	t = expect_request(FB, "CANCEL");
	assert_string_equal(hdr(t, "Via"), cp.b_via);
	free(t);
	bob_responds(&cp, 487, NULL, NULL);
	t = expect_request(FB, "ACK");
	free(t);
	assert_string_equal(last_cdr()->end_reason, "cancel");
	assert_int_equal(mr_sip_counters(F.sip)->calls_active, 0);
}

static void
test_reinvite_hold(void **state)
{
	struct callp cp;
	char *t, *r;

	(void)state;
	call_up(&cp, OFFER_A, "", NULL);
	alice_in_dialog(&cp, "INVITE", 3, NULL, HOLD_A);
	t = expect_request(FB, "INVITE");
	assert_non_null(strstr(body_of(t), "a=sendonly"));
	assert_non_null(strstr(body_of(t), "c=IN IP4 198.18.0.2"));
	/* glare: bob's own re-INVITE meanwhile gets 491 */
	{
		char head[1024];

		snprintf(head, sizeof(head), "INVITE sip:mrelay@198.18.0.1:5061;transport=tls SIP/2.0\r\n"
			 "Via: SIP/2.0/TLS 198.18.1.20:5061;branch=z9hG4bKbre\r\n"
			 "From: <sip:bob@" DOMAIN ">;tag=btag\r\nTo: %s\r\nCall-ID: %s\r\n"
			 "CSeq: 7 INVITE\r\nMax-Forwards: 70\r\n", hdr(t, "From"), cp.b_callid);
		deliver_body(FB, head, answer_b(body_of(t), "sendrecv"));
		r = expect_status(FB, 491);
		free(r);
	}
	ok_to(FB, t, answer_b(body_of(t), "recvonly"));
	free(t);
	t = expect_request(FB, "ACK");
	free(t);
	r = expect_status(FA, 200);
	assert_non_null(strstr(body_of(r), "a=recvonly"));
	free(r);
	assert_int_equal(mr_sip_counters(F.sip)->calls_active, 1);
}

#define KEY_A2 "bmV3IGtleSBvZiB0aGUgY2FsbGVyLCBhZnRlciBh"
#define REKEY_A SDP_A "m=audio 4000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" \
	KEY_A2 "\r\na=sendrecv\r\n"

/* Stream 0's slot of leg @i of the only call. */
static const struct mr_leg_slot *
only_call_slot(unsigned int i)
{
	const struct mr_call *c = mr_session_call_next(F.sess, NULL);
	struct mr_stream_info si;

	assert_non_null(c);
	assert_null(mr_session_call_next(F.sess, c));
	assert_non_null(mr_session_leg_at(c, i));
	assert_int_equal(mr_session_stream_info(F.sess, mr_session_leg_at(c, i), 0, &si), 0);
	return mr_shm_slot(F.r.hdr, si.slot);
}

static const char *
crypto_line_of(const char *msg, char *buf, size_t cap)
{
	const char *p = strstr(body_of(msg), "a=crypto:");

	assert_non_null(p);
	snprintf(buf, cap, "%.*s", (int)strcspn(p, "\r\n"), p);
	return buf;
}

/*
 * Key change by re-INVITE (RFC 4568 section 7.1.4): alice re-offers a new
 * key. The call goes on, bob gets a re-INVITE with the relay's unchanged
 * key, alice's slot accepts her old key and the new one (she sends with the
 * old one until she has the answer), and after the answers both legs'
 * slots are consistent: paired, alice's change complete, bob's untouched.
 * A re-INVITE that repeats the new key (hold) writes no slot.
 */
static void
test_reinvite_key_change(void **state)
{
	const struct mr_leg_slot *sa, *sb;
	struct mr_key_gen a1;
	uint32_t gen_a, gen_b;
	char to_b[128], to_a[128], buf[128];
	struct callp cp;
	char *t, *r;

	(void)state;
	call_up(&cp, OFFER_A, "", NULL);
	crypto_line_of(cp.b_invite, to_b, sizeof(to_b));
	sa = only_call_slot(0);
	sb = only_call_slot(1);
	a1 = sa->crypto_in.gen[0];
	assert_int_equal(a1.suite, MR_SUITE_AES_CM_128_HMAC_SHA1_80);
	assert_int_equal(sa->crypto_in.gen[1].suite, MR_SUITE_NONE);
	gen_b = sb->generation;

	alice_in_dialog(&cp, "INVITE", 3, NULL, REKEY_A);
	t = expect_request(FB, "INVITE");
	assert_string_equal(crypto_line_of(t, buf, sizeof(buf)), to_b);  /* relay's key: same */
	assert_null(strstr(body_of(t), KEY_A2));
	/* Until the answer: both of alice's keys. */
	assert_memory_equal(&sa->crypto_in.gen[0], &a1, sizeof(a1));
	assert_int_equal(sa->crypto_in.gen[1].suite, MR_SUITE_AES_CM_128_HMAC_SHA1_80);
	assert_int_equal(sa->crypto_in.active, 1);
	assert_int_equal(sa->crypto_in.cp_flags, MR_CRYPTO_CP_PENDING);
	assert_int_equal(sb->generation, gen_b);
	ok_to(FB, t, answer_b(body_of(t), NULL));
	free(t);
	t = expect_request(FB, "ACK");
	free(t);
	r = expect_status(FA, 200);
	snprintf(to_a, sizeof(to_a), "%s", crypto_line_of(r, buf, sizeof(buf)));
	assert_null(strstr(body_of(r), KEY_B));
	free(r);
	assert_int_equal(mr_sip_counters(F.sip)->calls_active, 1);
	/* After the answers: alice's new key in use, the old one kept for the
	 * grace; bob's slot as it was; the legs point at each other. */
	assert_int_equal(sa->crypto_in.cp_flags, 0);
	assert_int_equal(sa->crypto_in.active, 1);
	assert_memory_equal(&sa->crypto_in.gen[0], &a1, sizeof(a1));
	assert_int_equal(sb->generation, gen_b);
	assert_int_equal(sb->crypto_in.gen[0].suite, MR_SUITE_AES_CM_128_HMAC_SHA1_80);
	assert_int_equal(sa->egress_slot, (uint32_t)(sb - mr_shm_slot(F.r.hdr, 0)));
	assert_int_equal(sb->egress_slot, (uint32_t)(sa - mr_shm_slot(F.r.hdr, 0)));
	assert_int_equal(sa->state, MR_LEG_ACTIVE);
	assert_int_equal(sb->state, MR_LEG_ACTIVE);

	/* The same key again (a refresh): neither slot is written. */
	gen_a = sa->generation;
	alice_in_dialog(&cp, "INVITE", 4, NULL, REKEY_A);
	t = expect_request(FB, "INVITE");
	assert_string_equal(crypto_line_of(t, buf, sizeof(buf)), to_b);
	ok_to(FB, t, answer_b(body_of(t), NULL));
	free(t);
	free(expect_request(FB, "ACK"));
	r = expect_status(FA, 200);
	assert_string_equal(crypto_line_of(r, buf, sizeof(buf)), to_a);
	free(r);
	assert_int_equal(sa->generation, gen_a);
	assert_int_equal(sb->generation, gen_b);
	assert_int_equal(mr_sip_counters(F.sip)->calls_active, 1);
}

static void
test_session_timer(void **state)
{
	struct callp cp;
	char *t;

	(void)state;
	call_up(&cp, OFFER_A, "Supported: timer\r\nSession-Expires: 90;refresher=uac\r\n", NULL);
	/* 200 had said alice refreshes */
	/* bob's leg: we refresh at half of 1800 s; alice misses hers at 90 s */
	F.now += 91000;
	mr_sip_tick(F.sip, F.now);
	t = expect_request(FA, "BYE");
	free(t);
	t = expect_request(FB, "BYE");
	free(t);
	assert_string_equal(last_cdr()->end_reason, "session-timer");
	assert_int_equal(mr_sip_counters(F.sip)->session_timer_expired, 1);
}

static void
test_session_timer_small(void **state)
{
	struct callp cp;

	(void)state;
	assert_int_equal(do_register(FB, "bob", "secretB", "600"), 200);
	assert_int_equal(invite(&cp, "bob", OFFER_A, "Session-Expires: 30\r\n"), 422);
}

static void
test_prack(void **state)
{
	struct callp cp;
	char *t;

	(void)state;
	assert_int_equal(do_register(FB, "bob", "secretB", "600"), 200);
	assert_int_equal(invite(&cp, "bob", OFFER_A, ""), 0);
	assert_non_null(strstr(hdr(cp.b_invite, "Supported"), "100rel"));
	bob_responds(&cp, 183, "Require: 100rel\r\nRSeq: 1\r\n",
		     answer_b(body_of(cp.b_invite), NULL));
	t = expect_request(FB, "PRACK");
	assert_string_equal(hdr(t, "RAck"), "1 1 INVITE");
	assert_non_null(strstr(hdr(t, "To"), "tag=btag"));
	ok_to(FB, t, NULL);
	free(t);
	t = expect_status(FA, 183);
	assert_null(strstr(t, "100rel"));
	assert_null(strstr(t, "RSeq"));
	assert_non_null(strstr(body_of(t), "c=IN IP4 198.18.0.2"));
	free(t);
}

static void
test_flow_closed(void **state)
{
	struct callp cp;
	char *t;

	(void)state;
	call_up(&cp, OFFER_A, "", NULL);
	mr_sip_on_closed(F.sip, FB, F.now);
	t = expect_request(FA, "BYE");
	free(t);
	assert_null(pop(FB));
	assert_string_equal(last_cdr()->end_reason, "flow-lost");
	assert_int_equal(mr_sip_counters(F.sip)->bindings, 0);
	assert_int_equal(invite(&cp, "bob", OFFER_A, ""), 480);
}

static void
test_revoke(void **state)
{
	struct callp cp;
	char *t;

	(void)state;
	call_up(&cp, OFFER_A, "", NULL);
	assert_int_equal(mr_sip_account_revoked(F.sip, "bob", F.now), 1);
	t = expect_request(FA, "BYE");
	free(t);
	t = expect_request(FB, "BYE");
	free(t);
	assert_string_equal(last_cdr()->end_reason, "revoked");
	assert_int_equal(mr_sip_counters(F.sip)->bindings, 0);
	assert_int_equal(mr_sip_counters(F.sip)->calls_active, 0);
}

static void
test_trunk_inbound(void **state)
{
	char *t;
	struct callp cp;

	(void)state;
	assert_int_equal(do_register(FB, "bob", "secretB", "600"), 200);
	deliver_body(FT, "INVITE sip:bob@198.18.0.1:5060 SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP 198.18.0.50:5060;branch=z9hG4bKt1\r\n"
		     "From: <sip:+15551234@198.18.0.50>;tag=ttag\r\nTo: <sip:bob@198.18.0.1>\r\n"
		     "Call-ID: call-t\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"
		     "Contact: <sip:+15551234@198.18.0.50:5060>\r\n", PLAIN_A);
	free(expect_status(FT, 100));
	t = expect_request(FB, "INVITE");
	assert_non_null(strstr(body_of(t), "RTP/SAVP"));
	assert_non_null(strstr(body_of(t), "a=crypto:"));
	snprintf(cp.b_invite, sizeof(cp.b_invite), "%s", t);
	snprintf(cp.b_callid, sizeof(cp.b_callid), "%s", hdr(t, "Call-ID"));
	snprintf(cp.b_from, sizeof(cp.b_from), "%s", hdr(t, "From"));
	snprintf(cp.b_to_hdr, sizeof(cp.b_to_hdr), "%s", hdr(t, "To"));
	snprintf(cp.b_via, sizeof(cp.b_via), "%s", hdr(t, "Via"));
	free(t);
	/* a UDP retransmission of the INVITE gets the cached response */
	deliver_body(FT, "INVITE sip:bob@198.18.0.1:5060 SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP 198.18.0.50:5060;branch=z9hG4bKt1\r\n"
		     "From: <sip:+15551234@198.18.0.50>;tag=ttag\r\nTo: <sip:bob@198.18.0.1>\r\n"
		     "Call-ID: call-t\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"
		     "Contact: <sip:+15551234@198.18.0.50:5060>\r\n", PLAIN_A);
	free(expect_status(FT, 100));
	assert_null(pop(FB));
	bob_responds(&cp, 200, NULL, answer_b(body_of(cp.b_invite), NULL));
	t = expect_status(FT, 200);
	assert_non_null(strstr(body_of(t), "RTP/AVP"));
	assert_non_null(strstr(body_of(t), "c=IN IP4 198.18.0.3"));
	assert_null(strstr(body_of(t), "a=crypto"));
	free(t);
	/* Timer G: no ACK yet, the 2xx is resent on UDP */
	F.now += 600;
	mr_sip_tick(F.sip, F.now);
	free(expect_status(FT, 200));
	assert_int_equal(mr_test_cdr_n, 0);            /* no row yet */
}

static void
test_outbound_trunk(void **state)
{
	struct callp cp;
	const char *b;

	(void)state;
	/* "00" + number: the pstn trunk, dialled, plain RTP on its interface */
	assert_int_equal(invite_on(&cp, "0049301234", OFFER_A, "", FT_DIAL), 0);
	assert_true(strncmp(cp.b_invite, "INVITE sip:49301234@198.18.0.50:5060 SIP/2.0", 44) == 0);
	assert_non_null(strstr(cp.b_via, "SIP/2.0/UDP 198.18.0.1:5060"));
	b = body_of(cp.b_invite);
	assert_non_null(strstr(b, "m=audio"));
	assert_non_null(strstr(b, " RTP/AVP "));
	assert_non_null(strstr(b, "c=IN IP4 198.18.0.3"));
	assert_null(strstr(b, "a=crypto"));
	/* UDP: Timer A retransmits the INVITE until a provisional */
	F.now += 500;
	mr_sip_tick(F.sip, F.now);
	free(expect_request(FT_DIAL, "INVITE"));
	/* Timer B: 32 s without an answer, 408 to alice */
	F.now += 32000;
	mr_sip_tick(F.sip, F.now);
	free(expect_status(FA, 408));
	assert_string_equal(last_cdr()->callee, "trunk:49301234");
	assert_int_equal(mr_sip_counters(F.sip)->calls_active, 0);
}

static void
test_malformed(void **state)
{
	char *t;

	(void)state;
	deliver(FA, "garbage\r\n\r\n");
	assert_null(pop(FA));
	assert_int_equal(mr_sip_counters(F.sip)->dropped, 1);
	/* CSeq method differs from the request's */
	deliver(FA, "OPTIONS sip:" DOMAIN " SIP/2.0\r\nVia: SIP/2.0/TLS 1.2.3.4;branch=z9hG4bKm1\r\n"
		"From: <sip:a@" DOMAIN ">;tag=1\r\nTo: <sip:" DOMAIN ">\r\nCall-ID: m1\r\n"
		"CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
	free(expect_status(FA, 400));
	deliver(FA, "OPTIONS sip:" DOMAIN " SIP/2.0\r\nVia: SIP/2.0/TLS 1.2.3.4;branch=z9hG4bKm2\r\n"
		"From: <sip:a@" DOMAIN ">;tag=1\r\nTo: <sip:" DOMAIN ">\r\nCall-ID: m2\r\n"
		"CSeq: 1 OPTIONS\r\nMax-Forwards: 0\r\nContent-Length: 0\r\n\r\n");
	free(expect_status(FA, 483));
	deliver(FA, "OPTIONS sip:" DOMAIN " SIP/2.0\r\nVia: SIP/2.0/TLS 1.2.3.4;branch=z9hG4bKm3\r\n"
		"From: <sip:a@" DOMAIN ">;tag=1\r\nTo: <sip:" DOMAIN ">\r\nCall-ID: m3\r\n"
		"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n");
	t = expect_status(FA, 200);
	assert_non_null(strstr(hdr(t, "Allow"), "INVITE"));
	assert_non_null(strstr(hdr(t, "Supported"), "timer"));
	assert_string_equal(hdr(t, "Accept"), "application/sdp");
	free(t);
	deliver(FA, "FOO sip:" DOMAIN " SIP/2.0\r\nVia: SIP/2.0/TLS 1.2.3.4;branch=z9hG4bKm4\r\n"
		"From: <sip:a@" DOMAIN ">;tag=1\r\nTo: <sip:" DOMAIN ">\r\nCall-ID: m4\r\n"
		"CSeq: 1 FOO\r\nContent-Length: 0\r\n\r\n");
	t = expect_status(FA, 501);
	assert_non_null(strstr(hdr(t, "Allow"), "BYE"));
	free(t);
	deliver(FA, "SUBSCRIBE sip:" DOMAIN " SIP/2.0\r\nVia: SIP/2.0/TLS 1.2.3.4;branch=z9hG4bKm5\r\n"
		"From: <sip:a@" DOMAIN ">;tag=1\r\nTo: <sip:" DOMAIN ">\r\nCall-ID: m5\r\n"
		"CSeq: 1 SUBSCRIBE\r\nContent-Length: 0\r\n\r\n");
	free(expect_status(FA, 405));
	deliver(FA, "OPTIONS sip:" DOMAIN " SIP/2.0\r\nVia: SIP/2.0/TLS 1.2.3.4;branch=z9hG4bKm6\r\n"
		"From: <sip:a@" DOMAIN ">;tag=1\r\nTo: <sip:" DOMAIN ">\r\nCall-ID: m6\r\n"
		"CSeq: 1 OPTIONS\r\nRequire: foo, timer\r\nContent-Length: 0\r\n\r\n");
	t = expect_status(FA, 420);
	assert_string_equal(hdr(t, "Unsupported"), "foo");
	free(t);
	/* no Via: nothing to answer */
	deliver(FA, "OPTIONS sip:" DOMAIN " SIP/2.0\r\n"
		"From: <sip:a@" DOMAIN ">;tag=1\r\nTo: <sip:" DOMAIN ">\r\nCall-ID: m7\r\n"
		"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n");
	assert_null(pop(FA));
	/* a response nobody asked for */
	deliver(FA, "SIP/2.0 200 OK\r\nVia: SIP/2.0/TLS 1.2.3.4;branch=z9hG4bKzz\r\n"
		"From: <sip:a@" DOMAIN ">;tag=1\r\nTo: <sip:" DOMAIN ">\r\nCall-ID: m8\r\n"
		"CSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n");
	assert_null(pop(FA));
	/* in-dialog request for no dialog */
	deliver(FA, "BYE sip:" DOMAIN " SIP/2.0\r\nVia: SIP/2.0/TLS 1.2.3.4;branch=z9hG4bKm9\r\n"
		"From: <sip:a@" DOMAIN ">;tag=1\r\nTo: <sip:" DOMAIN ">;tag=2\r\nCall-ID: m9\r\n"
		"CSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n");
	free(expect_status(FA, 481));
}

/* The response cache holds every response of the last 32 s, so under load
 * it is large: each retransmission must still find its own response (and
 * only on its own flow), and the tick must empty it once they expire. */
#define RCACHE_N 20000u
static void
deliver_options(mr_flow_id flow, unsigned int i)
{
	deliver(flow, "OPTIONS sip:" DOMAIN " SIP/2.0\r\nVia: SIP/2.0/TLS 1.2.3.4;branch=z9hG4bKrc%u\r\n"
		"From: <sip:a@" DOMAIN ">;tag=1\r\nTo: <sip:" DOMAIN ">\r\nCall-ID: rc%u\r\n"
		"CSeq: %u OPTIONS\r\nContent-Length: 0\r\n\r\n", i, i, i + 1);
}

static void
test_rcache_many(void **state)
{
	static const mr_flow_id flows[] = { FA, FB, 21, 22 };
	char *first[4], *t;
	unsigned int i;

	(void)state;
	for (i = 0; i < RCACHE_N; i++) {
		deliver_options(flows[i % 4], i);
		t = expect_status(flows[i % 4], 200);
		if (i < 4)
			first[i] = t;
		else
			free(t);
	}
	assert_int_equal(mr_sip_counters(F.sip)->retransmits_in, 0);
	F.now += 1000;
	mr_sip_tick(F.sip, F.now);
	for (i = 0; i < RCACHE_N; i++) {
		deliver_options(flows[i % 4], i);
		t = expect_status(flows[i % 4], 200);
		if (i < 4) {
			assert_string_equal(t, first[i]);
			free(first[i]);
		}
		free(t);
	}
	assert_int_equal(mr_sip_counters(F.sip)->retransmits_in, RCACHE_N);
	/* the same request on another flow is another request */
	deliver_options(FB, 0);
	free(expect_status(FB, 200));
	assert_int_equal(mr_sip_counters(F.sip)->retransmits_in, RCACHE_N);
	/* 32 s on, all expired: handled again, not answered from the cache */
	F.now += 32000;
	mr_sip_tick(F.sip, F.now);
	deliver_options(FA, 0);
	free(expect_status(FA, 200));
	assert_int_equal(mr_sip_counters(F.sip)->retransmits_in, RCACHE_N);
	assert_null(pop(FA));
}

/* Response @t must hold @want. */
static void
expect_text(const char *t, const char *want)
{
	if (strstr(t, want) == NULL)
		fail_msg("expected %s in:\n%s", want, t);
}

/* Responses fill the top Via for a client behind a NAT (RFC 3261 18.2.1,
 * RFC 3581): baresip and linphone send ;rport and a private sent-by. */
static void
test_via_received(void **state)
{
	char *t;

	(void)state;
	/* rport asked for: received and rport, the later Vias untouched */
	deliver(FA, "OPTIONS sip:" DOMAIN " SIP/2.0\r\n"
		"Via: SIP/2.0/TLS 10.0.0.7:5061;branch=z9hG4bKv1;rport\r\n"
		"Via: SIP/2.0/TLS 10.0.0.8:5061;branch=z9hG4bKv0;rport\r\n"
		"From: <sip:a@" DOMAIN ">;tag=1\r\nTo: <sip:" DOMAIN ">\r\nCall-ID: v1\r\n"
		"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n");
	t = expect_status(FA, 200);
	expect_text(t, "Via: SIP/2.0/TLS 10.0.0.7:5061;branch=z9hG4bKv1;rport=40011;"
				  "received=198.18.1.10\r\n");
	expect_text(t, "Via: SIP/2.0/TLS 10.0.0.8:5061;branch=z9hG4bKv0;rport\r\n");
	free(t);
	/* no rport, another sent-by host: received only */
	deliver(FA, "OPTIONS sip:" DOMAIN " SIP/2.0\r\nVia: SIP/2.0/TLS 10.0.0.7:5061;branch=z9hG4bKv2\r\n"
		"From: <sip:a@" DOMAIN ">;tag=1\r\nTo: <sip:" DOMAIN ">\r\nCall-ID: v2\r\n"
		"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n");
	t = expect_status(FA, 200);
	expect_text(t, "Via: SIP/2.0/TLS 10.0.0.7:5061;branch=z9hG4bKv2;received=198.18.1.10\r\n");
	free(t);
	/* sent-by is the source address, no rport: Via as it came */
	deliver(FA, "OPTIONS sip:" DOMAIN " SIP/2.0\r\nVia: SIP/2.0/TLS 198.18.1.10:5061;branch=z9hG4bKv3\r\n"
		"From: <sip:a@" DOMAIN ">;tag=1\r\nTo: <sip:" DOMAIN ">\r\nCall-ID: v3\r\n"
		"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n");
	t = expect_status(FA, 200);
	expect_text(t, "Via: SIP/2.0/TLS 198.18.1.10:5061;branch=z9hG4bKv3\r\n");
	free(t);
	/* and a 400 too */
	deliver(FA, "OPTIONS sip:" DOMAIN " SIP/2.0\r\nVia: SIP/2.0/TLS 10.0.0.7:5061;branch=z9hG4bKv4;rport\r\n"
		"From: <sip:a@" DOMAIN ">;tag=1\r\nTo: <sip:" DOMAIN ">\r\nCall-ID: v4\r\n"
		"CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
	t = expect_status(FA, 400);
	expect_text(t, ";rport=40011;received=198.18.1.10\r\n");
	free(t);
}

/* ---- the indexes ------------------------------------------------------ */

#define MANY_ACCOUNTS 200u
#define MANY_FLOWS 5u
#define MANY_FLOW0 100u

/* An account's bindings are capped at 8, the oldest going first; the 200
 * lists them newest first, as the single list did. */
static void
test_bindings_cap(void **state)
{
	char contact[32], *ok = NULL;
	const char *prev;
	unsigned int i;

	(void)state;
	for (i = 1; i <= 10; i++) {
		snprintf(contact, sizeof(contact), "alice-c%u", i);
		free(ok);
		ok = NULL;
		assert_int_equal(register_contact(FA, "alice", "secretA", contact, "600", &ok), 200);
		F.now += 10;
	}
	assert_int_equal(mr_sip_counters(F.sip)->bindings, 8);
	assert_null(strstr(ok, "<sip:alice-c1@"));
	assert_null(strstr(ok, "<sip:alice-c2@"));
	prev = ok;
	for (i = 10; i >= 3; i--) {
		const char *p;

		snprintf(contact, sizeof(contact), "<sip:alice-c%u@", i);
		p = strstr(ok, contact);
		assert_non_null(p);
		assert_true(p >= prev);
		prev = p;
	}
	free(ok);
	/* one of them removed (Expires 0), then all by revocation */
	assert_int_equal(register_contact(FA, "alice", "secretA", "alice-c5", "0", NULL), 200);
	assert_int_equal(mr_sip_counters(F.sip)->bindings, 7);
	assert_int_equal(do_register(FB, "bob", "secretB", "600"), 200);
	assert_int_equal(mr_sip_account_revoked(F.sip, "alice", F.now), 0);
	assert_int_equal(mr_sip_counters(F.sip)->bindings, 1);
}

/* Many accounts over a few flows: a closing flow takes exactly its own
 * bindings, also one that moved to it or away from it. */
static void
test_bindings_many_flows(void **state)
{
	struct mr_accounts *acc;
	struct callp cp;
	char name[16];
	unsigned int i, per = MANY_ACCOUNTS / MANY_FLOWS;
	char *t;

	(void)state;
	assert_int_equal(mr_accounts_open(F.cfg.accounts_db, DOMAIN, &acc), 0);
	for (i = 0; i < MANY_ACCOUNTS; i++) {
		snprintf(name, sizeof(name), "u%03u", i);
		assert_int_equal(mr_accounts_add(acc, name, "secretU"), 0);
	}
	mr_accounts_close(acc);
	for (i = 0; i < MANY_ACCOUNTS; i++) {
		snprintf(name, sizeof(name), "u%03u", i);
		assert_int_equal(do_register(MANY_FLOW0 + i % MANY_FLOWS, name, "secretU", "600"),
				 200);
	}
	assert_int_equal(mr_sip_counters(F.sip)->bindings, MANY_ACCOUNTS);

	mr_sip_on_closed(F.sip, MANY_FLOW0, F.now);
	assert_int_equal(mr_sip_counters(F.sip)->bindings, MANY_ACCOUNTS - per);
	/* u002 moves from flow 102 to 103: the same binding, another flow */
	assert_int_equal(do_register(MANY_FLOW0 + 3, "u002", "secretU", "600"), 200);
	assert_int_equal(mr_sip_counters(F.sip)->bindings, MANY_ACCOUNTS - per);
	mr_sip_on_closed(F.sip, MANY_FLOW0 + 2, F.now);
	assert_int_equal(mr_sip_counters(F.sip)->bindings, MANY_ACCOUNTS - 2 * per + 1);
	/* a call to u002 goes over its new flow */
	assert_int_equal(invite_on(&cp, "u002", OFFER_A, "", MANY_FLOW0 + 3), 0);
	assert_non_null(strstr(cp.b_invite, "Call-ID: "));
	mr_sip_on_closed(F.sip, MANY_FLOW0 + 3, F.now);
	assert_int_equal(mr_sip_counters(F.sip)->bindings, MANY_ACCOUNTS - 3 * per);
	t = expect_status(FA, 480);
	free(t);
	assert_int_equal(mr_sip_counters(F.sip)->calls_active, 0);
	/* calls to accounts on a closed flow find no binding */
	assert_int_equal(invite_on(&cp, "u005", OFFER_A, "", MANY_FLOW0), 480);
	assert_int_equal(invite_on(&cp, "u001", OFFER_A, "", MANY_FLOW0 + 1), 0);
	mr_sip_on_closed(F.sip, MANY_FLOW0 + 1, F.now);
	free(expect_status(FA, 480));
	/* the rest expire */
	F.now += 601000;
	mr_sip_tick(F.sip, F.now);
	assert_int_equal(mr_sip_counters(F.sip)->bindings, 0);
	drain();
}

/* alice calls @who on @bf; the callee answers and alice ACKs. */
static void
call_answered(struct callp *cp, const char *who, mr_flow_id bf)
{
	char head[2048], *t;

	assert_int_equal(invite_on(cp, who, OFFER_A, "", bf), 0);
	snprintf(head, sizeof(head), "SIP/2.0 200 OK\r\nVia: %s\r\nFrom: %s\r\nTo: %s;tag=btag\r\n"
		 "Call-ID: %s\r\nCSeq: 1 INVITE\r\n"
		 "Contact: <sip:%s@198.18.1.20:5061;transport=tls>\r\n", cp->b_via, cp->b_from,
		 cp->b_to_hdr, cp->b_callid, who);
	deliver_body(bf, head, answer_b(body_of(cp->b_invite), NULL));
	t = expect_status(FA, 200);
	snprintf(cp->a_tag, sizeof(cp->a_tag), "%s", param(hdr(t, "To"), "tag="));
	free(t);
	deliver(FA, "ACK sip:mrelay@198.18.0.1:5061;transport=tls SIP/2.0\r\n"
		"Via: SIP/2.0/TLS 198.18.1.10:5061;branch=z9hG4bKack%s\r\n"
		"From: <sip:alice@" DOMAIN ">;tag=atag\r\nTo: <sip:%s@" DOMAIN ">;tag=%s\r\n"
		"Call-ID: %s\r\nCSeq: %u ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
		cp->a_callid, who, cp->a_tag, cp->a_callid, cp->a_cseq);
	free(expect_request(bf, "ACK"));
}

/* The callee of @cp hangs up over @bf (a request on the callee leg). */
static void
callee_bye(const struct callp *cp, mr_flow_id bf)
{
	deliver(bf, "BYE sip:mrelay@198.18.0.1:5061;transport=tls SIP/2.0\r\n"
		"Via: SIP/2.0/TLS 198.18.1.20:5061;branch=z9hG4bKbye%s\r\n"
		"From: %s;tag=btag\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: 1 BYE\r\n"
		"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n", cp->b_callid, cp->b_to_hdr,
		cp->b_from, cp->b_callid);
}

#define MANY_CALLS 16u

/* Many calls between the same two accounts over the same two flows: each
 * in-dialog request and response finds its own call, on either leg; a
 * closing flow ends the rest newest first. */
static void
test_calls_many(void **state)
{
	static struct callp cp[MANY_CALLS];
	unsigned int i, rows;
	char *t;

	(void)state;
	assert_int_equal(do_register(FB, "bob", "secretB", "600"), 200);
	for (i = 0; i < MANY_CALLS; i++)
		call_answered(&cp[i], "bob", FB);
	assert_int_equal(mr_sip_counters(F.sip)->calls_active, MANY_CALLS);
	assert_null(pop(FA));
	assert_null(pop(FB));

	/* the callee hangs up call 5 (callee leg), the caller call 9 */
	callee_bye(&cp[5], FB);
	free(expect_status(FB, 200));
	t = expect_request(FA, "BYE");
	assert_string_equal(hdr(t, "Call-ID"), cp[5].a_callid);
	ok_to(FA, t, NULL);
	free(t);
	assert_string_equal(last_cdr()->call_id, cp[5].a_callid);
	assert_string_equal(last_cdr()->end_reason, "callee-bye");
	alice_in_dialog(&cp[9], "BYE", 3, NULL, NULL);
	free(expect_status(FA, 200));
	t = expect_request(FB, "BYE");
	assert_string_equal(hdr(t, "Call-ID"), cp[9].b_callid);
	ok_to(FB, t, NULL);
	free(t);
	assert_string_equal(last_cdr()->call_id, cp[9].a_callid);
	assert_string_equal(last_cdr()->end_reason, "caller-bye");
	/* the same BYE again: answered from the cache; to an ended dialog: 481 */
	alice_in_dialog(&cp[9], "BYE", 3, NULL, NULL);
	free(expect_status(FA, 200));
	alice_in_dialog(&cp[9], "BYE", 4, NULL, NULL);
	free(expect_status(FA, 481));
	callee_bye(&cp[9], FB);
	free(expect_status(FB, 481));
	assert_int_equal(mr_sip_counters(F.sip)->calls_active, MANY_CALLS - 2);
	assert_null(pop(FA));
	assert_null(pop(FB));

	/* bob's flow closes: every other call ends, newest first */
	rows = mr_test_cdr_n;
	mr_sip_on_closed(F.sip, FB, F.now);
	for (i = MANY_CALLS; i-- > 0;) {
		if (i == 5 || i == 9)
			continue;
		t = expect_request(FA, "BYE");
		assert_string_equal(hdr(t, "Call-ID"), cp[i].a_callid);
		free(t);
		assert_string_equal(mr_test_cdr_rows[rows].call_id, cp[i].a_callid);
		assert_string_equal(mr_test_cdr_rows[rows].end_reason, "flow-lost");
		rows++;
	}
	assert_null(pop(FA));
	assert_null(pop(FB));
	assert_int_equal(mr_sip_counters(F.sip)->calls_active, 0);
	assert_int_equal(mr_sip_counters(F.sip)->bindings, 0);
}

/* The INVITE transactions of many calls, kept 32 s after their 2xx,
 * expire on the same tick: before it a retransmitted 2xx gets the ACK
 * again, after it the 2xx matches nothing; the calls stay. */
static void
test_ctxn_expiry_many(void **state)
{
	static struct callp cp[MANY_CALLS];
	unsigned int i, dropped;
	char *t;

	(void)state;
	assert_int_equal(do_register(FB, "bob", "secretB", "600"), 200);
	for (i = 0; i < MANY_CALLS; i++) {
		call_answered(&cp[i], "bob", FB);
		F.now += 100;
	}
	for (i = 0; i < MANY_CALLS; i += 5) {
		bob_responds(&cp[i], 200, NULL, answer_b(body_of(cp[i].b_invite), NULL));
		t = expect_request(FB, "ACK");
		assert_string_equal(hdr(t, "Call-ID"), cp[i].b_callid);
		free(t);
	}
	F.now += 32000 - 100 * (MANY_CALLS / 2);
	mr_sip_tick(F.sip, F.now);      /* the older half */
	F.now += 100 * (MANY_CALLS / 2);
	mr_sip_tick(F.sip, F.now);      /* the rest */
	dropped = mr_sip_counters(F.sip)->dropped;
	for (i = 0; i < MANY_CALLS; i += 5)
		bob_responds(&cp[i], 200, NULL, answer_b(body_of(cp[i].b_invite), NULL));
	assert_int_equal(mr_sip_counters(F.sip)->dropped, dropped + (MANY_CALLS + 4) / 5);
	assert_null(pop(FA));
	assert_null(pop(FB));
	assert_int_equal(mr_sip_counters(F.sip)->calls_active, MANY_CALLS);
	assert_int_equal(mr_sip_counters(F.sip)->txn_timeouts, 0);
}

/* A CANCEL among many early calls ends only its own. */
static void
test_cancel_many(void **state)
{
	static struct callp cp[8];
	unsigned int i;
	char *t;

	(void)state;
	assert_int_equal(do_register(FB, "bob", "secretB", "600"), 200);
	for (i = 0; i < 8; i++)
		assert_int_equal(invite(&cp[i], "bob", OFFER_A, ""), 0);
	deliver(FA, "CANCEL sip:bob@" DOMAIN " SIP/2.0\r\n"
		"Via: SIP/2.0/TLS 198.18.1.10:5061;branch=z9hG4bKa2%s\r\n"
		"From: \"Alice\" <sip:alice@" DOMAIN ">;tag=atag\r\nTo: <sip:bob@" DOMAIN ">\r\n"
		"Call-ID: %s\r\nCSeq: 2 CANCEL\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
		cp[3].a_callid, cp[3].a_callid);
	free(expect_status(FA, 200));
	t = expect_status(FA, 487);
	assert_string_equal(hdr(t, "Call-ID"), cp[3].a_callid);
	free(t);
	t = expect_request(FB, "CANCEL");
	assert_string_equal(hdr(t, "Call-ID"), cp[3].b_callid);
	free(t);
	assert_string_equal(last_cdr()->call_id, cp[3].a_callid);
	assert_int_equal(mr_sip_counters(F.sip)->calls_active, 7);
	/* a CANCEL on another flow than the INVITE's finds nothing */
	deliver(FB, "CANCEL sip:bob@" DOMAIN " SIP/2.0\r\n"
		"Via: SIP/2.0/TLS 198.18.1.10:5061;branch=z9hG4bKa2%s\r\n"
		"From: \"Alice\" <sip:alice@" DOMAIN ">;tag=atag\r\nTo: <sip:bob@" DOMAIN ">\r\n"
		"Call-ID: %s\r\nCSeq: 2 CANCEL\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
		cp[4].a_callid, cp[4].a_callid);
	free(expect_status(FB, 481));
	/* the callee's 487 to the cancelled INVITE still finds its transaction */
	bob_responds(&cp[3], 487, NULL, NULL);
	free(expect_request(FB, "ACK"));
	/* the others still answer */
	for (i = 0; i < 8; i++) {
		if (i == 3)
			continue;
		bob_responds(&cp[i], 180, NULL, NULL);
		t = expect_status(FA, 180);
		assert_string_equal(hdr(t, "Call-ID"), cp[i].a_callid);
		free(t);
	}
	assert_null(pop(FA));
	assert_null(pop(FB));
}

/* Revocation ends the account's calls as callee (newest first) and leaves
 * the others; the BYEs it sends are transactions that go with their flow. */
static void
test_revoke_many(void **state)
{
	static struct callp cp[8];
	unsigned int i, rows, dropped;
	char *t, *bye21[4];

	(void)state;
	assert_int_equal(do_register(FB, "bob", "secretB", "600"), 200);
	assert_int_equal(do_register(21, "carol", "secretC", "600"), 200);
	for (i = 0; i < 8; i++)
		call_answered(&cp[i], i % 2 ? "carol" : "bob", i % 2 ? 21 : FB);
	rows = mr_test_cdr_n;
	assert_int_equal(mr_sip_account_revoked(F.sip, "carol", F.now), 4);
	for (i = 8; i-- > 0;) {
		if (i % 2 == 0)
			continue;
		t = expect_request(FA, "BYE");
		assert_string_equal(hdr(t, "Call-ID"), cp[i].a_callid);
		free(t);
		bye21[i / 2] = expect_request(21, "BYE");
		assert_string_equal(hdr(bye21[i / 2], "Call-ID"), cp[i].b_callid);
		assert_string_equal(mr_test_cdr_rows[rows].call_id, cp[i].a_callid);
		assert_string_equal(mr_test_cdr_rows[rows].end_reason, "revoked");
		rows++;
	}
	assert_int_equal(mr_sip_counters(F.sip)->calls_active, 4);
	assert_int_equal(mr_sip_counters(F.sip)->bindings, 1);
	/* a 200 to one of carol's BYEs finds its transaction; once flow 21
	 * closed, another does not (dropped) */
	dropped = mr_sip_counters(F.sip)->dropped;
	ok_to(21, bye21[0], NULL);
	assert_int_equal(mr_sip_counters(F.sip)->dropped, dropped);
	ok_to(21, bye21[0], NULL);
	assert_int_equal(mr_sip_counters(F.sip)->dropped, dropped + 1);
	mr_sip_on_closed(F.sip, 21, F.now);
	ok_to(21, bye21[1], NULL);
	assert_int_equal(mr_sip_counters(F.sip)->dropped, dropped + 2);
	for (i = 0; i < 4; i++)
		free(bye21[i]);
	/* bob's calls are still there, and go with the caller */
	callee_bye(&cp[2], FB);
	free(expect_status(FB, 200));
	t = expect_request(FA, "BYE");
	assert_string_equal(hdr(t, "Call-ID"), cp[2].a_callid);
	free(t);
	assert_int_equal(mr_sip_account_revoked(F.sip, "alice", F.now), 3);
	for (i = 8; i-- > 0;) {
		if (i % 2 != 0 || i == 2)
			continue;
		t = expect_request(FB, "BYE");
		assert_string_equal(hdr(t, "Call-ID"), cp[i].b_callid);
		free(t);
	}
	drain();
	assert_int_equal(mr_sip_counters(F.sip)->calls_active, 0);
	assert_int_equal(mr_sip_counters(F.sip)->bindings, 1);
}

/* ---- a restart of mrelay-cp ----------------------------------------- */

#define FA2 21u                 /* alice's connection after the restart */
#define FB2 22u                 /* bob's */

/* mrelay-cp restarts: the SIP state is freed (every connection closed with
 * the process) and made again on the same state directory; the NG front-end
 * and the session manager keep the media (their own restart is tested in
 * test_ng.c and test_session.c). */
static void
restart_sip(void)
{
	char err[256];

	mr_sip_free(F.sip);
	drain();
	F.sip = mr_sip_new(&F.sp, err, sizeof(err));
	if (F.sip == NULL)
		fail_msg("mr_sip_new: %s", err);
}

/* The dialog files: how many, the first's name (without .dialog) in @ng_id,
 * and every file's text appended to @all. */
static unsigned int
dialog_files(char *ng_id, size_t cap, char *all, size_t all_cap)
{
	char dir[300], path[600];
	struct dirent *e;
	unsigned int n = 0;
	size_t len = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/sip-dialogs", F.tmp.dir);
	d = opendir(dir);
	assert_non_null(d);
	if (all != NULL)
		all[0] = '\0';
	while ((e = readdir(d)) != NULL) {
		size_t k = strlen(e->d_name);
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		assert_true(k > 7 && strcmp(e->d_name + k - 7, ".dialog") == 0);
		if (n++ == 0 && ng_id != NULL)
			snprintf(ng_id, cap, "%.*s", (int)(k - 7), e->d_name);
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		f = fopen(path, "r");
		assert_non_null(f);
		if (all != NULL)
			len += fread(all + len, 1, all_cap - 1 - len, f);
		fclose(f);
	}
	closedir(d);
	if (all != NULL)
		all[len] = '\0';
	return n;
}

#define MRELAY_URI "sip:mrelay@198.18.0.1:5061;transport=tls"

/* alice's request in her dialog of @cp over @flow; @auth: a
 * Proxy-Authorization value, or NULL. */
static void
alice_in_dialog_on(mr_flow_id flow, const struct callp *cp, const char *method, unsigned int cseq,
		   const char *auth)
{
	deliver(flow, "%s " MRELAY_URI " SIP/2.0\r\n"
		"Via: SIP/2.0/TLS 198.18.1.10:5061;branch=z9hG4bKr%u\r\n"
		"From: <sip:alice@" DOMAIN ">;tag=atag\r\nTo: <sip:bob@" DOMAIN ">;tag=%s\r\n"
		"Call-ID: %s\r\nCSeq: %u %s\r\nMax-Forwards: 70\r\n%s%s%s"
		"Contact: <sip:alice@198.18.1.10:5061;transport=tls>\r\nContent-Length: 0\r\n\r\n",
		method, cseq, cp->a_tag, cp->a_callid, cseq, method,
		auth != NULL ? "Proxy-Authorization: " : "", auth != NULL ? auth : "",
		auth != NULL ? "\r\n" : "");
}

/* The relay's key towards bob (what its INVITE to bob offered). */
static const char *
relay_key(const struct callp *cp)
{
	static char k[64];

	snprintf(k, sizeof(k), "%s", param(body_of(cp->b_invite), "inline:"));
	assert_true(strlen(k) >= 40);
	return k;
}

/* A confirmed call survives: its dialog is on disk without keys, comes
 * back with no flows; both parties register on new connections, alice's
 * BYE (new flow) reaches bob's new flow with a CSeq above any sent
 * before, NG deletes the media, one CDR row, the file goes. */
static void
test_restart_call(void **state)
{
	static char all[65536];
	struct callp cp;
	const struct mr_cdr_row *row;
	uint64_t deletes;
	char *t;

	(void)state;
	call_up(&cp, OFFER_A, "", NULL);
	assert_int_equal(dialog_files(NULL, 0, all, sizeof(all)), 1);
	assert_non_null(strstr(all, cp.b_callid));
	assert_null(strstr(all, "inline:"));
	assert_null(strstr(all, "a=crypto"));
	assert_null(strstr(all, KEY_A));
	assert_null(strstr(all, KEY_B));
	assert_null(strstr(all, relay_key(&cp)));

	restart_sip();
	assert_int_equal(mr_sip_counters(F.sip)->calls_recovered, 1);
	assert_int_equal(mr_sip_counters(F.sip)->calls_active, 1);
	assert_int_equal(mr_sip_counters(F.sip)->bindings, 0);
	/* before anyone is back: a request of the dialog on a connection
	 * without a registration must prove its account */
	alice_in_dialog_on(FA, &cp, "BYE", 10, NULL);
	free(expect_status(FA, 407));
	F.now += 2000;
	mr_sip_tick(F.sip, F.now);
	assert_int_equal(mr_sip_counters(F.sip)->calls_active, 1);     /* media still there */

	assert_int_equal(do_register(FA2, "alice", "secretA", "600"), 200);
	assert_int_equal(do_register(FB2, "bob", "secretB", "600"), 200);
	/* bob's flow does not take alice's dialog: the account must match,
	 * and bob's credentials are not alice's */
	alice_in_dialog_on(FB2, &cp, "BYE", 11, NULL);
	t = expect_status(FB2, 407);
	alice_in_dialog_on(FB2, &cp, "BYE", 12,
			   answer_challenge(t, "Proxy-Authenticate", "bob", "secretB", "BYE",
					    MRELAY_URI));
	free(t);
	free(expect_status(FB2, 403));
	assert_int_equal(mr_sip_counters(F.sip)->calls_active, 1);

	/* alice refreshes: UPDATE without SDP is answered; a re-INVITE
	 * without SDP gets 500 (its 2xx would need the SDP with the relay's
	 * key, which is not kept), and the call goes on */
	alice_in_dialog_on(FA2, &cp, "UPDATE", 13, NULL);
	t = expect_status(FA2, 200);
	assert_string_equal(body_of(t), "");
	free(t);
	alice_in_dialog_on(FA2, &cp, "INVITE", 14, NULL);
	free(expect_status(FA2, 500));
	assert_null(pop(FB2));
	assert_int_equal(mr_sip_counters(F.sip)->calls_active, 1);

	deletes = mr_ng_counters(F.ng)->requests[MR_NG_CMD_DELETE];
	alice_in_dialog_on(FA2, &cp, "BYE", 15, NULL);
	free(expect_status(FA2, 200));
	t = expect_request(FB2, "BYE");
	assert_string_equal(hdr(t, "Call-ID"), cp.b_callid);
	assert_true(strtoul(hdr(t, "CSeq"), NULL, 10) > SIP_CSEQ_STEP_SEEN);
	ok_to(FB2, t, NULL);
	free(t);
	assert_int_equal(mr_ng_counters(F.ng)->requests[MR_NG_CMD_DELETE], deletes + 1);
	assert_int_equal(mr_sip_counters(F.sip)->calls_active, 0);
	row = last_cdr();
	assert_string_equal(row->end_reason, "caller-bye");
	assert_string_equal(row->caller, "alice");
	assert_string_equal(row->callee, "bob");
	assert_string_equal(row->call_id, cp.a_callid);
	assert_int_equal(row->sip_status, 200);
	assert_true(row->answer_s != 0);
	assert_int_equal(dialog_files(NULL, 0, NULL, 0), 0);
	assert_null(pop(FA2));
	assert_null(pop(FB2));
}

/* Only bob comes back and hangs up; alice registers later: the BYE goes to
 * her newest registration, else nowhere (counted), and the call ends. And a
 * second restart in between keeps the call. */
static void
test_restart_callee_bye(void **state)
{
	struct callp cp;
	char *t;

	(void)state;
	call_up(&cp, OFFER_A, "", NULL);
	restart_sip();
	restart_sip();
	assert_int_equal(mr_sip_counters(F.sip)->calls_active, 1);
	assert_int_equal(do_register(FB2, "bob", "secretB", "600"), 200);
	assert_int_equal(do_register(FA2, "alice", "secretA", "600"), 200);
	/* alice holds: the re-INVITE's offer goes through NG (which has the
	 * call back from its note) to bob's new flow, his answer back */
	{
		char head[1024], *r;

		snprintf(head, sizeof(head), "INVITE " MRELAY_URI " SIP/2.0\r\n"
			 "Via: SIP/2.0/TLS 198.18.1.10:5061;branch=z9hG4bKhold\r\n"
			 "From: <sip:alice@" DOMAIN ">;tag=atag\r\nTo: <sip:bob@" DOMAIN ">;tag=%s\r\n"
			 "Call-ID: %s\r\nCSeq: 5 INVITE\r\nMax-Forwards: 70\r\n"
			 "Contact: <sip:alice@198.18.1.10:5061;transport=tls>\r\n", cp.a_tag,
			 cp.a_callid);
		deliver_body(FA2, head, HOLD_A);
		t = expect_request(FB2, "INVITE");
		assert_non_null(strstr(body_of(t), "a=sendonly"));
		assert_non_null(strstr(body_of(t), "c=IN IP4 198.18.0.2"));
		ok_to(FB2, t, answer_b(body_of(t), "recvonly"));
		free(t);
		free(expect_request(FB2, "ACK"));
		r = expect_status(FA2, 200);
		assert_non_null(strstr(body_of(r), "a=recvonly"));
		free(r);
	}
	callee_bye(&cp, FB2);
	free(expect_status(FB2, 200));
	t = expect_request(FA2, "BYE");
	assert_string_equal(hdr(t, "Call-ID"), cp.a_callid);
	/* two restarts: two steps above what was sent before */
	assert_true(strtoul(hdr(t, "CSeq"), NULL, 10) > 2 * SIP_CSEQ_STEP_SEEN);
	free(t);
	assert_string_equal(last_cdr()->end_reason, "callee-bye");
	assert_int_equal(mr_sip_counters(F.sip)->calls_active, 0);
	assert_int_equal(dialog_files(NULL, 0, NULL, 0), 0);
}

/* alice hangs up over a new connection she did not register on (a client
 * that sends its BYE before its REGISTER): the 407 is answered with her
 * credentials and the leg is hers again. bob's leg has no flow: it is
 * reached over his newest registration when he has one. */
static void
test_restart_claim_digest(void **state)
{
	struct callp cp;
	char *t;

	(void)state;
	call_up(&cp, OFFER_A, "", NULL);
	restart_sip();
	assert_int_equal(do_register(FB2, "bob", "secretB", "600"), 200);
	alice_in_dialog_on(FA2, &cp, "BYE", 10, NULL);
	t = expect_status(FA2, 407);
	alice_in_dialog_on(FA2, &cp, "BYE", 11,
			   answer_challenge(t, "Proxy-Authenticate", "alice", "secretA", "BYE",
					    MRELAY_URI));
	free(t);
	free(expect_status(FA2, 200));
	t = expect_request(FB2, "BYE");
	assert_string_equal(hdr(t, "Call-ID"), cp.b_callid);
	free(t);
	assert_string_equal(last_cdr()->end_reason, "caller-bye");
	assert_int_equal(dialog_files(NULL, 0, NULL, 0), 0);
}

/* A call to the pstn trunk survives too: after the restart alice hangs up
 * over a new registration and the BYE goes to the trunk, dialled again
 * (UDP, with its Via and Contact). */
static void
test_restart_trunk(void **state)
{
	char head[2048], *t, a_tag[64];
	struct callp cp;

	(void)state;
	assert_int_equal(invite_on(&cp, "0049301234", OFFER_A, "", FT_DIAL), 0);
	snprintf(head, sizeof(head), "SIP/2.0 200 OK\r\nVia: %s\r\nFrom: %s\r\nTo: %s;tag=gwtag\r\n"
		 "Call-ID: %s\r\nCSeq: 1 INVITE\r\nContact: <sip:49301234@198.18.0.50:5060>\r\n",
		 cp.b_via, cp.b_from, cp.b_to_hdr, cp.b_callid);
	deliver_body(FT_DIAL, head, SDP_B "m=audio 6000 RTP/AVP 0\r\n");
	t = expect_status(FA, 200);
	snprintf(a_tag, sizeof(a_tag), "%s", param(hdr(t, "To"), "tag="));
	free(t);
	snprintf(cp.a_tag, sizeof(cp.a_tag), "%s", a_tag);
	deliver(FA, "ACK sip:mrelay@198.18.0.1:5061;transport=tls SIP/2.0\r\n"
		"Via: SIP/2.0/TLS 198.18.1.10:5061;branch=z9hG4bKack\r\n"
		"From: <sip:alice@" DOMAIN ">;tag=atag\r\nTo: <sip:0049301234@" DOMAIN ">;tag=%s\r\n"
		"Call-ID: %s\r\nCSeq: 2 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
		a_tag, cp.a_callid);
	free(expect_request(FT_DIAL, "ACK"));
	assert_int_equal(dialog_files(NULL, 0, NULL, 0), 1);

	restart_sip();
	assert_int_equal(mr_sip_counters(F.sip)->calls_recovered, 1);
	assert_int_equal(do_register(FA2, "alice", "secretA", "600"), 200);
	alice_in_dialog_on(FA2, &cp, "BYE", 3, NULL);
	free(expect_status(FA2, 200));
	t = expect_request(FT_DIAL, "BYE");
	assert_true(strncmp(t, "BYE sip:49301234@198.18.0.50:5060 SIP/2.0", 41) == 0);
	assert_string_equal(hdr(t, "Call-ID"), cp.b_callid);
	assert_non_null(strstr(hdr(t, "Via"), "SIP/2.0/UDP 198.18.0.1:5060"));
	assert_non_null(strstr(hdr(t, "To"), "tag=gwtag"));
	free(t);
	assert_string_equal(last_cdr()->end_reason, "caller-bye");
	assert_string_equal(last_cdr()->callee, "trunk:49301234");
	assert_int_equal(dialog_files(NULL, 0, NULL, 0), 0);
}

/* Nobody comes back: when the media ends (idle in the session manager; an
 * NG delete here) the recovered call is noticed, ended and its file goes. */
static void
test_restart_gone(void **state)
{
	static char msg[256], out[65536];
	struct mr_ng_result res;
	struct callp cp;
	char ng_id[64];
	size_t len;
	int n;

	(void)state;
	call_up(&cp, OFFER_A, "", NULL);
	restart_sip();
	assert_int_equal(dialog_files(ng_id, sizeof(ng_id), NULL, 0), 1);
	F.now += 10000;
	mr_sip_tick(F.sip, F.now);
	assert_int_equal(mr_sip_counters(F.sip)->calls_active, 1);
	n = snprintf(msg, sizeof(msg), "c1 d7:command6:delete7:call-id%zu:%se", strlen(ng_id),
		     ng_id);
	assert_int_equal(mr_ng_process(F.ng, msg, (size_t)n, "test", 4, F.now, out, sizeof(out),
				       &len, &res), 0);
	assert_false(res.error);
	F.now += 10000;
	mr_sip_tick(F.sip, F.now);
	assert_int_equal(mr_sip_counters(F.sip)->calls_active, 0);
	assert_string_equal(last_cdr()->end_reason, "media-ended");
	assert_int_equal(dialog_files(NULL, 0, NULL, 0), 0);
}

/* Early calls and a broken file do not come back. */
static void
test_restart_early_and_bad(void **state)
{
	struct callp cp;
	char path[400];
	FILE *f;

	(void)state;
	assert_int_equal(do_register(FB, "bob", "secretB", "600"), 200);
	assert_int_equal(invite(&cp, "bob", OFFER_A, ""), 0);
	snprintf(path, sizeof(path), "%s/sip-dialogs/mr-bogus.dialog", F.tmp.dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("not a dialog\n", f);
	fclose(f);
	restart_sip();
	assert_int_equal(mr_sip_counters(F.sip)->calls_recovered, 0);
	assert_int_equal(mr_sip_counters(F.sip)->recover_failed, 1);
	assert_int_equal(mr_sip_counters(F.sip)->calls_active, 0);
	assert_int_equal(dialog_files(NULL, 0, NULL, 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_register, setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_md5_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_call, setup, teardown),
		cmocka_unit_test_setup_teardown(test_video_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plain_488, setup, teardown),
		cmocka_unit_test_setup_teardown(test_480_404, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reinvite_hold, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reinvite_key_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_timer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_timer_small, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flow_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoke, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trunk_inbound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outbound_trunk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rcache_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_via_received, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bindings_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bindings_many_flows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_calls_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctxn_expiry_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoke_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_call, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_callee_bye, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_claim_digest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_trunk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_early_and_bad, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
