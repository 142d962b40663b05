/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The NG front-end (controlplane/ng/ng.h) without sockets: messages in,
 * reply bytes out, over a real (temporary) region and session manager.
 * Framing and bencode errors, the command table, the retransmission cache,
 * offer/answer/query/delete glue with the SDP model, the encryption policy
 * (plain RTP only on pstn interfaces), refusals that leave nothing behind,
 * and TCP framing (mr_ng_frame_len()).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ng.h"
#include "frame.h"
#include "bencode.h"
#include "session_iface.h"
#include "tmpdir.h"

#define LEGS 64u
#define NG_TEST_PENDING "<callee>"     /* ng_int.h's NG_PENDING_TAG */

struct fx {
	struct mr_test_tmpdir tmp;      /* path: the region; dir: the session's state_dir */
	struct mr_region r;
	struct mr_session_iface ifaces[2];
	struct mr_session *s;
	struct mr_ng *ng;
	char out[MR_NG_MSG_MAX];
	size_t out_len;
	struct mr_ng_result res;
	struct mr_bc_node nodes[4096];
	const struct mr_bc_node *reply;
};

static struct fx F;

static void
start(uint32_t max_calls)
{
	struct mr_session_params p = { 0 };
	struct mr_ng_params np = { 0 };
	char err[256];

	mr_test_iface(&F.ifaces[0], "wan", "198.18.0.2", 30000, 30019, false);
	mr_test_iface(&F.ifaces[1], "pstn", "198.18.0.2", 40000, 40019, true);
	p.ifaces = F.ifaces;
	p.n_ifaces = 2;
	p.limits.max_calls = max_calls;
	p.state_dir = F.tmp.dir;
	assert_int_equal(mr_region_lock(&F.r), 0);
	assert_int_equal(mr_session_new(&p, &F.r, &F.s, NULL, err, sizeof(err)), 0);
	np.sess = F.s;
	np.ifaces = F.ifaces;
	np.n_ifaces = 2;
	F.ng = mr_ng_new(&np);
	assert_non_null(F.ng);
}

static int
setup(void **state)
{
	(void)state;
	memset(&F, 0, sizeof(F));
	if (mr_test_tmpdir_make(&F.tmp, "/tmp/mr-test-ng-XXXXXX", "region") < 0)
		return -1;
	return mr_region_open(&F.r, F.tmp.path, true, LEGS, 2);
}

static int
teardown(void **state)
{
	(void)state;
	mr_ng_free(F.ng);
	mr_session_free(F.s);
	mr_region_unlock(&F.r);
	mr_region_close(&F.r);
	return mr_test_tmpdir_remove(&F.tmp);
}

/* Send @len bytes; parse the reply's dictionary into F.reply. */
static int
send_raw(const char *msg, size_t len, uint64_t now)
{
	struct mr_bc_arena a;
	struct mr_ng_msg m;
	struct mr_bc_err e;
	int r = mr_ng_process(F.ng, msg, len, "peer", 4, now, F.out, sizeof(F.out), &F.out_len,
			      &F.res);

	F.reply = NULL;
	if (r < 0)
		return r;
	assert_int_equal(mr_ng_split(F.out, F.out_len, &m, NULL), 0);
	mr_bc_arena_init(&a, F.nodes, sizeof(F.nodes) / sizeof(F.nodes[0]));
	assert_int_equal(mr_ng_parse_request(&m, &a, &F.reply, &e), 0);
	return 0;
}

/* Build "COOKIE d...e" from key/value C strings (values starting with
 * 'l' + a list literal are passed through as raw bencode). */
static void __attribute__((sentinel))
send_req(const char *cookie, ...)
{
	static char buf[16384];
	const char *k, *v;
	size_t n;
	va_list ap;

	n = (size_t)snprintf(buf, sizeof(buf), "%s d", cookie);
	va_start(ap, cookie);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%zu:%s", strlen(k), k);
		if (v[0] == '!')
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s", v + 1);  /* raw */
		else
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%zu:%s", strlen(v), v);
	}
	va_end(ap);
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "e");
	assert_int_equal(send_raw(buf, n, 1000), 0);
}

static const char *
reply_str(const char *key)
{
	static char buf[8192];
	const struct mr_bc_node *v = mr_bc_dict_get(F.reply, key);

	if (v == NULL || v->type != MR_BC_STR || v->s.len >= sizeof(buf))
		return NULL;
	memcpy(buf, v->s.p, v->s.len);
	buf[v->s.len] = '\0';
	return buf;
}

static void
assert_error(const char *reason_part)
{
	const char *why;

	assert_string_equal(reply_str("result"), "error");
	why = reply_str("error-reason");
	assert_non_null(why);
	if (strstr(why, reason_part) == NULL)
		fail_msg("error-reason '%s' lacks '%s'", why, reason_part);
	assert_int_equal(F.reply->count, 2);    /* result and error-reason only */
}

static struct mr_session_stats
stats(void)
{
	struct mr_session_stats st;

	mr_session_stats(F.s, &st);
	return st;
}

#define SDP_HEAD "v=0\r\no=- 1 1 IN IP4 198.18.1.10\r\ns=-\r\nc=IN IP4 198.18.1.10\r\nt=0 0\r\n"
#define CRYPTO_A "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n"
#define CRYPTO_B "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk\r\n"
#define OFFER_SRTP SDP_HEAD "m=audio 4000 RTP/SAVP 0\r\n" CRYPTO_A "m=application 5000 TCP/BFCP *\r\n"
#define ANSWER_SRTP "v=0\r\no=- 2 1 IN IP4 198.18.0.11\r\ns=-\r\nc=IN IP4 198.18.0.11\r\nt=0 0\r\n" \
	"m=audio 6000 RTP/SAVP 0\r\n" CRYPTO_B "m=application 0 TCP/BFCP *\r\n"

static void
test_framing_errors(void **state)
{
	(void)state;
	start(0);
	assert_int_equal(send_raw("nocookie", 8, 1), -EINVAL);
	assert_true(F.res.dropped);
	assert_int_equal(send_raw("c1 d7:command4:pi", 17, 1), 0);
	assert_error("Failed to decode dictionary");
	assert_int_equal(send_raw("c2 li1ee", 8, 1), 0);
	assert_error("not a dictionary");
	assert_int_equal(send_raw("c3 {\"command\":\"ping\"}", 21, 1), 0);
	assert_error("JSON");
	send_req("c4", "call-id", "x", NULL);
	assert_error("no command");
	send_req("c5", "command", "frobnicate", NULL);
	assert_error("Unrecognized command");
	send_req("c6", "command", "start recording", "call-id", "x", NULL);
	assert_error("not supported");
	send_req("c7", "command", "ping", NULL);
	assert_string_equal(reply_str("result"), "pong");
	assert_memory_equal(F.out, "c7 d6:result4:ponge", F.out_len);
	assert_int_equal(mr_ng_counters(F.ng)->requests[MR_NG_CMD_PING], 1);
	assert_int_equal(mr_ng_counters(F.ng)->dropped, 1);
}

static void
test_offer_answer_delete(void **state)
{
	const char *sdp;

	(void)state;
	start(0);
	send_req("o1", "command", "offer", "call-id", "c1", "from-tag", "ft", "sdp", OFFER_SRTP,
		 "replace", "!l6:origin18:session-connectione", NULL);
	assert_string_equal(reply_str("result"), "ok");
	sdp = reply_str("sdp");
	assert_non_null(sdp);
	assert_non_null(strstr(sdp, "o=- 1 1 IN IP4 198.18.0.2\r\n"));
	assert_non_null(strstr(sdp, "m=audio 30002 RTP/SAVP 0\r\n"));
	assert_non_null(strstr(sdp, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"));
	assert_null(strstr(sdp, "WVNfX19zZW1jdGwg"));          /* never the caller's key */
	assert_non_null(strstr(sdp, "m=application 0 TCP/BFCP"));
	assert_null(strstr(sdp, "198.18.1.10"));
	assert_int_equal(stats().calls, 1);
	assert_int_equal(stats().legs, 2);

	send_req("a1", "command", "answer", "call-id", "c1", "from-tag", "ft", "to-tag", "tt",
		 "sdp", ANSWER_SRTP, NULL);
	assert_string_equal(reply_str("result"), "ok");
	sdp = reply_str("sdp");
	assert_non_null(strstr(sdp, "m=audio 30000 RTP/SAVP 0\r\n"));
	assert_non_null(strstr(sdp, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"));
	assert_null(strstr(sdp, "QUJDREVGR0hJ"));

	send_req("q1", "command", "query", "call-id", "c1", NULL);
	assert_string_equal(reply_str("result"), "ok");
	assert_non_null(mr_bc_dict_get(mr_bc_dict_get(F.reply, "tags"), "ft"));
	assert_non_null(mr_bc_dict_get(mr_bc_dict_get(F.reply, "tags"), "tt"));
	assert_non_null(mr_bc_dict_get(F.reply, "totals"));

	send_req("l1", "command", "list", NULL);
	assert_int_equal(mr_bc_dict_get(F.reply, "calls")->count, 1);

	send_req("d1", "command", "delete", "call-id", "c1", "from-tag", "ft", NULL);
	assert_string_equal(reply_str("result"), "ok");
	assert_int_equal(stats().calls, 0);
	assert_int_equal(stats().ports_used, 0);
	send_req("d2", "command", "delete", "call-id", "c1", "from-tag", "ft", NULL);
	assert_non_null(reply_str("warning"));
	send_req("d3", "command", "delete", "call-id", "c1", "from-tag", "ft",
		 "flags", "!l5:fatale", NULL);
	assert_error("Unknown call-id");
}

/* The value of attribute line "a=NAME:" in @sdp (up to CRLF), or "". */
static const char *
sdp_attr(const char *sdp, const char *name, char *buf, size_t cap)
{
	const char *p = strstr(sdp, name), *e;

	buf[0] = '\0';
	if (p == NULL)
		return buf;
	p += strlen(name);
	e = strstr(p, "\r\n");
	snprintf(buf, cap, "%.*s", (int)(e != NULL ? e - p : (ptrdiff_t)strlen(p)), p);
	return buf;
}

/* Slots with MR_LEG_F_ICE whose credentials are @ufrag/@pwd. */
static unsigned int
ice_slots(const char *ufrag, const char *pwd)
{
	unsigned int i, n = 0;

	for (i = 0; i < LEGS; i++) {
		const struct mr_leg_slot *sl = mr_shm_slot(F.r.hdr, i);

		if (sl->state == MR_LEG_ACTIVE && (sl->flags & MR_LEG_F_ICE) &&
		    strcmp(sl->ice.local_ufrag, ufrag) == 0 && strcmp(sl->ice.local_pwd, pwd) == 0)
			n++;
	}
	return n;
}

#define ANSWER_1 "v=0\r\no=- 2 1 IN IP4 198.18.0.11\r\ns=-\r\nc=IN IP4 198.18.0.11\r\nt=0 0\r\n" \
	"m=audio 6000 RTP/SAVP 0\r\n" CRYPTO_B
#define ICE_A "a=ice-ufrag:peerA\r\na=ice-pwd:peerApasswordpeerApassword\r\n" \
	"a=candidate:1 1 UDP 2130706431 198.18.1.10 4000 typ host\r\n"

/*
 * ICE-lite over NG: ICE=force gives the callee the relay's credentials
 * (fresh, RFC 8839 lengths, the same in the slot the dataplane answers
 * from) and one host candidate, the relay; ICE=default does so only when
 * the offer has ICE, and then the answer to the caller is ICE-lite too;
 * ICE=remove leaves no ICE anywhere, and the caller's candidates never pass.
 */
static void
test_ice(void **state)
{
	char uf[64], pw[64], cand[128], uf_a[64], pw_a[64];
	const char *sdp;

	(void)state;
	start(0);
	send_req("i1", "command", "offer", "call-id", "ice1", "from-tag", "ft", "sdp", OFFER_SRTP,
		 "ICE", "force", NULL);
	assert_string_equal(reply_str("result"), "ok");
	sdp = reply_str("sdp");
	assert_non_null(strstr(sdp, "a=ice-lite\r\n"));
	sdp_attr(sdp, "a=ice-ufrag:", uf, sizeof(uf));
	sdp_attr(sdp, "a=ice-pwd:", pw, sizeof(pw));
	sdp_attr(sdp, "a=candidate:", cand, sizeof(cand));
	assert_int_equal(strlen(uf), 8);
	assert_int_equal(strlen(pw), 24);
	assert_int_equal(strspn(uf, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"), 8);
	assert_non_null(strstr(cand, " 1 UDP "));
	assert_non_null(strstr(cand, " 198.18.0.2 30002 typ host"));
	/* rtcp-mux not offered: component 2 on the RTCP port. */
	assert_non_null(strstr(sdp, " 2 UDP "));
	assert_non_null(strstr(sdp, " 198.18.0.2 30003 typ host"));
	assert_int_equal(ice_slots(uf, pw), 1);         /* the callee's stream only */
	/* The caller offered no ICE: its answer carries none. */
	send_req("i2", "command", "answer", "call-id", "ice1", "from-tag", "ft", "to-tag", "tt",
		 "sdp", ANSWER_SRTP, NULL);
	assert_string_equal(reply_str("result"), "ok");
	assert_null(strstr(reply_str("sdp"), "ice"));

	/* ICE=default, the offer has ICE: ICE-lite both ways, its own credentials each. */
	send_req("i3", "command", "offer", "call-id", "ice2", "from-tag", "ft", "sdp",
		 SDP_HEAD "m=audio 4000 RTP/SAVP 0\r\n" CRYPTO_A ICE_A, NULL);
	assert_string_equal(reply_str("result"), "ok");
	sdp = reply_str("sdp");
	assert_non_null(strstr(sdp, "a=ice-lite\r\n"));
	assert_null(strstr(sdp, "peerA"));
	assert_null(strstr(sdp, "198.18.1.10 4000 typ host"));     /* only the relay's candidate */
	sdp_attr(sdp, "a=ice-ufrag:", uf, sizeof(uf));
	sdp_attr(sdp, "a=ice-pwd:", pw, sizeof(pw));
	assert_int_equal(ice_slots(uf, pw), 1);
	send_req("i4", "command", "answer", "call-id", "ice2", "from-tag", "ft", "to-tag", "tt",
		 "sdp", ANSWER_1, NULL);
	if (reply_str("sdp") == NULL)
		fail_msg("answer: %s", reply_str("error-reason"));
	sdp = reply_str("sdp");
	assert_non_null(strstr(sdp, "a=ice-lite\r\n"));
	sdp_attr(sdp, "a=ice-ufrag:", uf_a, sizeof(uf_a));
	sdp_attr(sdp, "a=ice-pwd:", pw_a, sizeof(pw_a));
	assert_int_equal(ice_slots(uf_a, pw_a), 1);
	assert_string_not_equal(uf_a, uf);
	assert_non_null(strstr(sdp, " 198.18.0.2 30004 typ host"));
	/* ... and the answer may remove it towards the caller. */
	send_req("i5", "command", "answer", "call-id", "ice2", "from-tag", "ft", "to-tag", "tt",
		 "sdp", ANSWER_1, "ICE", "remove", NULL);
	assert_null(strstr(reply_str("sdp"), "ice"));

	/* ICE=default without ICE in the offer, ICE=remove with it: no ICE. */
	send_req("i6", "command", "offer", "call-id", "ice3", "from-tag", "ft", "sdp", OFFER_SRTP, NULL);
	assert_null(strstr(reply_str("sdp"), "ice"));
	send_req("i7", "command", "offer", "call-id", "ice4", "from-tag", "ft", "sdp",
		 SDP_HEAD "m=audio 4000 RTP/SAVP 0\r\n" CRYPTO_A ICE_A, "ICE", "remove", NULL);
	sdp = reply_str("sdp");
	assert_null(strstr(sdp, "ice"));
	assert_null(strstr(sdp, "candidate"));
	send_req("i8", "command", "offer", "call-id", "ice5", "from-tag", "ft", "sdp", OFFER_SRTP,
		 "ICE", "optional", NULL);
	assert_error("ICE-lite");
}

static void
test_policy(void **state)
{
	const char *sdp;

	(void)state;
	start(0);
	/* Plain RTP from the default (wan) interface: refused, nothing made. */
	send_req("p1", "command", "offer", "call-id", "c", "from-tag", "f",
		 "sdp", SDP_HEAD "m=audio 4000 RTP/AVP 0\r\n", NULL);
	assert_error("encryption is mandatory");
	assert_int_equal(stats().calls, 0);
	send_req("p2", "command", "offer", "call-id", "c", "from-tag", "f", "sdp", OFFER_SRTP,
		 "SDES", "!l3:offe", NULL);
	assert_error("towards interface 'wan'");
	send_req("p3", "command", "offer", "call-id", "c", "from-tag", "f",
		 "sdp", SDP_HEAD "m=audio 4000 UDP/TLS/RTP/SAVPF 0\r\na=fingerprint:sha-256 AB:CD\r\n"
		 "a=setup:actpass\r\n", NULL);
	assert_error("DTLS-SRTP");
	send_req("p4", "command", "offer", "call-id", "c", "from-tag", "f", "sdp", OFFER_SRTP,
		 "codec", "!d9:transcodel4:opusee", NULL);
	assert_error("transcoding");
	assert_int_equal(stats().calls, 0);
	assert_int_equal(stats().ports_used, 0);
	/* From a pstn interface, plain RTP is taken, and SRTP goes to wan. */
	send_req("p5", "command", "offer", "call-id", "c", "from-tag", "f",
		 "sdp", SDP_HEAD "m=audio 4000 RTP/AVP 0\r\n", "direction", "!l4:pstn3:wane", NULL);
	assert_string_equal(reply_str("result"), "ok");
	sdp = reply_str("sdp");
	assert_non_null(strstr(sdp, "m=audio 30000 RTP/SAVP 0\r\n"));
	assert_non_null(strstr(sdp, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"));
	/* ... and the answer towards the PSTN side stays plain. */
	send_req("p6", "command", "answer", "call-id", "c", "from-tag", "f", "to-tag", "t",
		 "sdp", "v=0\r\no=- 2 1 IN IP4 198.18.0.11\r\ns=-\r\nc=IN IP4 198.18.0.11\r\nt=0 0\r\n"
		 "m=audio 6000 RTP/SAVP 0\r\n" CRYPTO_B, NULL);
	assert_string_equal(reply_str("result"), "ok");
	sdp = reply_str("sdp");
	assert_non_null(strstr(sdp, "m=audio 40000 RTP/AVP 0\r\n"));
	assert_null(strstr(sdp, "a=crypto"));
	/* An SRTP answer without a=crypto is refused. */
	send_req("p7", "command", "offer", "call-id", "c2", "from-tag", "f", "sdp", OFFER_SRTP, NULL);
	send_req("p8", "command", "answer", "call-id", "c2", "from-tag", "f", "to-tag", "t",
		 "sdp", "v=0\r\no=- 2 1 IN IP4 198.18.0.11\r\ns=-\r\nc=IN IP4 198.18.0.11\r\nt=0 0\r\n"
		 "m=audio 6000 RTP/SAVP 0\r\nm=application 0 TCP/BFCP *\r\n", NULL);
	assert_error("no a=crypto");
}

static void
test_retransmission_and_limits(void **state)
{
	static const char msg[] = "rx1 d7:call-id1:c7:command5:offer8:from-tag1:f3:sdp"
				  "%zu:" OFFER_SRTP "e";
	char buf[1024], first[4096];
	size_t n, first_len;
	int len;

	(void)state;
	start(1);
	len = snprintf(buf, sizeof(buf), msg, strlen(OFFER_SRTP));
	n = (size_t)len;
	assert_int_equal(send_raw(buf, n, 1000), 0);
	assert_string_equal(reply_str("result"), "ok");
	memcpy(first, F.out, F.out_len);
	first_len = F.out_len;
	first[first_len] = '\0';
	assert_int_equal(send_raw(buf, n, 1500), 0);
	assert_true(F.res.cached);
	assert_int_equal(F.out_len, first_len);
	assert_memory_equal(F.out, first, first_len);
	assert_int_equal(mr_ng_counters(F.ng)->retransmits, 1);
	assert_int_equal(stats().calls, 1);
	assert_int_equal(stats().ports_used, 2);
	/* The same offer with another cookie: the same SDP (ports and keys). */
	buf[2] = '2';
	assert_int_equal(send_raw(buf, n, 1600), 0);
	assert_false(F.res.cached);
	assert_non_null(strstr(first, reply_str("sdp")));
	assert_int_equal(stats().ports_used, 2);
	/* Over max_calls: refused, nothing half-made. */
	send_req("lim", "command", "offer", "call-id", "c9", "from-tag", "f", "sdp", OFFER_SRTP, NULL);
	assert_error("limit reached");
	assert_int_equal(stats().calls, 1);
	assert_int_equal(stats().ports_used, 2);
	/* Block and unblock media by from-tag. */
	send_req("b1", "command", "block media", "call-id", "c", "from-tag", "f", NULL);
	assert_string_equal(reply_str("result"), "ok");
	send_req("b2", "command", "unblock media", "call-id", "c", "from-tag", "nope", NULL);
	assert_error("Unknown monologue tag");
}

#define CRYPTO_A2 "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:bmV3IGtleSBvZiB0aGUgY2FsbGVyLCBhZnRlciBh\r\n"
#define CRYPTO_B2 "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:bmV3IGtleSBvZiB0aGUgY2FsbGVlLCBpbiBpdHMg\r\n"
#define OFFER_HOLD SDP_HEAD "m=audio 4000 RTP/SAVP 0\r\na=sendonly\r\n" CRYPTO_A \
	"m=application 5000 TCP/BFCP *\r\n"
#define OFFER_REKEY SDP_HEAD "m=audio 4000 RTP/SAVP 0\r\n" CRYPTO_A2 "m=application 5000 TCP/BFCP *\r\n"
#define ANSWER_REKEY "v=0\r\no=- 2 2 IN IP4 198.18.0.11\r\ns=-\r\nc=IN IP4 198.18.0.11\r\nt=0 0\r\n" \
	"m=audio 6000 RTP/SAVP 0\r\n" CRYPTO_B2 "m=application 0 TCP/BFCP *\r\n"

/* Stream 0's slot of leg @tag of call @call_id. */
static const struct mr_leg_slot *
leg_slot(const char *call_id, const char *tag)
{
	struct mr_call *c = mr_session_call_get(F.s, call_id);
	struct mr_stream_info si;

	assert_non_null(c);
	assert_non_null(mr_session_leg_get(c, tag));
	assert_int_equal(mr_session_stream_info(F.s, mr_session_leg_get(c, tag), 0, &si), 0);
	return mr_shm_slot(F.r.hdr, si.slot);
}

/* The a=crypto line of the reply's SDP (the relay's key), into @buf. */
static const char *
reply_crypto(char *buf, size_t cap)
{
	const char *sdp = reply_str("sdp");

	assert_non_null(sdp);
	return sdp_attr(sdp, "a=crypto:", buf, cap);
}

/*
 * Key change by re-offer (RFC 4568 section 7.1.4) through NG: a re-offer
 * with the same key (hold) and its answer touch no slot; a re-offer with a
 * new key puts it beside the caller's old one (both accepted until the
 * answer and old_key_s after it); an answer with a new callee key does the
 * same on the callee's leg. The relay's own keys never change.
 */
static void
test_reoffer_key_change(void **state)
{
	const struct mr_leg_slot *sa, *sb;
	struct mr_key_gen a1, b1;
	uint32_t gen_a, gen_b, seq_a, seq_b;
	char to_b[128], to_a[128], buf[128];

	(void)state;
	start(0);
	send_req("o1", "command", "offer", "call-id", "k", "from-tag", "ft", "sdp", OFFER_SRTP, NULL);
	assert_string_equal(reply_str("result"), "ok");
	snprintf(to_b, sizeof(to_b), "%s", reply_crypto(buf, sizeof(buf)));
	send_req("a1", "command", "answer", "call-id", "k", "from-tag", "ft", "to-tag", "tt",
		 "sdp", ANSWER_SRTP, NULL);
	assert_string_equal(reply_str("result"), "ok");
	snprintf(to_a, sizeof(to_a), "%s", reply_crypto(buf, sizeof(buf)));
	sa = leg_slot("k", "ft");
	sb = leg_slot("k", "tt");
	assert_int_equal(sa->crypto_in.active, 0);
	assert_int_equal(sa->crypto_in.gen[1].suite, MR_SUITE_NONE);
	a1 = sa->crypto_in.gen[0];
	b1 = sb->crypto_in.gen[0];
	gen_a = sa->generation;
	gen_b = sb->generation;
	seq_a = sa->seq;
	seq_b = sb->seq;

	/* Hold: same key, same addresses; offer and answer write no slot. */
	send_req("o2", "command", "offer", "call-id", "k", "from-tag", "ft", "sdp", OFFER_HOLD, NULL);
	assert_string_equal(reply_str("result"), "ok");
	assert_string_equal(reply_crypto(buf, sizeof(buf)), to_b);
	send_req("a2", "command", "answer", "call-id", "k", "from-tag", "ft", "to-tag", "tt",
		 "sdp", ANSWER_SRTP, NULL);
	assert_string_equal(reply_str("result"), "ok");
	assert_string_equal(reply_crypto(buf, sizeof(buf)), to_a);
	assert_int_equal(sa->generation, gen_a);
	assert_int_equal(sa->seq, seq_a);
	assert_int_equal(sb->generation, gen_b);
	assert_int_equal(sb->seq, seq_b);

	/* Re-offer with a new caller key: both generations, the old one as it was. */
	send_req("o3", "command", "offer", "call-id", "k", "from-tag", "ft", "sdp", OFFER_REKEY, NULL);
	assert_string_equal(reply_str("result"), "ok");
	assert_string_equal(reply_crypto(buf, sizeof(buf)), to_b);     /* the relay's key stays */
	assert_int_equal(sa->generation, gen_a + 1);
	assert_memory_equal(&sa->crypto_in.gen[0], &a1, sizeof(a1));
	assert_int_equal(sa->crypto_in.gen[1].suite, MR_SUITE_AES_CM_128_HMAC_SHA1_80);
	assert_memory_not_equal(sa->crypto_in.gen[1].key, a1.key, 16);
	assert_int_equal(sa->crypto_in.active, 1);
	assert_int_equal(sa->crypto_in.cp_flags, MR_CRYPTO_CP_PENDING);
	assert_int_equal(sb->generation, gen_b);
	/* The same re-offer again (a retransmission with a new cookie): no write. */
	send_req("o4", "command", "offer", "call-id", "k", "from-tag", "ft", "sdp", OFFER_REKEY, NULL);
	assert_string_equal(reply_str("result"), "ok");
	assert_int_equal(sa->generation, gen_a + 1);

	/* The answer, with a new callee key too: the caller's change is
	 * complete (old key still there, retiring); the callee's is made
	 * beside its old key and complete at once. */
	send_req("a3", "command", "answer", "call-id", "k", "from-tag", "ft", "to-tag", "tt",
		 "sdp", ANSWER_REKEY, NULL);
	assert_string_equal(reply_str("result"), "ok");
	assert_string_equal(reply_crypto(buf, sizeof(buf)), to_a);
	assert_int_equal(sa->crypto_in.cp_flags, 0);
	assert_memory_equal(&sa->crypto_in.gen[0], &a1, sizeof(a1));
	assert_int_equal(sa->crypto_in.active, 1);
	assert_memory_equal(&sb->crypto_in.gen[0], &b1, sizeof(b1));
	assert_int_equal(sb->crypto_in.gen[1].suite, MR_SUITE_AES_CM_128_HMAC_SHA1_80);
	assert_int_equal(sb->crypto_in.active, 1);
	assert_int_equal(sb->crypto_in.cp_flags, 0);
	assert_int_equal(sa->egress_slot, (uint32_t)(sb - mr_shm_slot(F.r.hdr, 0)));
	assert_int_equal(sb->egress_slot, (uint32_t)(sa - mr_shm_slot(F.r.hdr, 0)));
}

/* mrelay-cp as a kill -9 leaves it: nothing flushed or ended, lock dropped. */
static void
restart(void)
{
	mr_ng_free(F.ng);
	F.ng = NULL;
	mr_session_free(F.s);
	F.s = NULL;
	mr_region_unlock(&F.r);
	start(0);
}

/* The inline key||salt of leg @tag's stream 0 outbound key, from the slot. */
static void
out_key_b64(const char *call_id, const char *tag, char *buf, size_t cap)
{
	struct mr_call *c = mr_session_call_get(F.s, call_id);
	struct mr_sdes_crypto k;
	char line[MR_SDES_LINE_MAX];
	size_t len;
	const char *p;

	assert_non_null(c);
	assert_non_null(mr_session_leg_get(c, tag));
	assert_int_equal(mr_session_stream_out_key(F.s, mr_session_leg_get(c, tag), 0, &k), 0);
	assert_int_equal(mr_sdes_print(&k, 0, line, sizeof(line), &len), 0);
	p = strstr(line, "inline:");
	assert_non_null(p);
	snprintf(buf, cap, "%.40s", p + 7);
	mr_sdes_wipe(&k);
}

#define OFFER_3 SDP_HEAD "m=audio 4000 RTP/SAVP 0\r\na=rtcp-mux\r\n" CRYPTO_A \
	"m=application 5000 TCP/BFCP *\r\n" \
	"m=video 4002 RTP/SAVPF 96\r\n" CRYPTO_A
#define ANSWER_3 "v=0\r\no=- 2 1 IN IP4 198.18.0.11\r\ns=-\r\nc=IN IP4 198.18.0.11\r\nt=0 0\r\n" \
	"m=audio 6000 RTP/SAVP 0\r\na=rtcp-mux\r\n" CRYPTO_B "m=application 0 TCP/BFCP *\r\n" \
	"m=video 6002 RTP/SAVPF 96\r\n" CRYPTO_B

/*
 * An answer to an offer made before a restart of mrelay-cp: the NG state
 * comes back from the journal's note, the relay's key towards the caller
 * from the region. A call whose note is gone (a version-1 journal) is
 * refused with "offer again", and the journal never holds a key.
 */
static void
test_answer_after_restart(void **state)
{
	char a_key[48], b_key[48], path[256], cmd[512];
	const struct mr_bc_node *m;
	const char *sdp;
	FILE *f;
	char *j;
	long n;

	(void)state;
	start(0);
	send_req("r1", "command", "offer", "call-id", "c1", "from-tag", "ft", "sdp", OFFER_3, NULL);
	assert_string_equal(reply_str("result"), "ok");
	assert_null(reply_str("warning"));
	send_req("r2", "command", "offer", "call-id", "c2", "from-tag", "ft", "sdp", OFFER_SRTP,
		 NULL);
	assert_string_equal(reply_str("result"), "ok");
	out_key_b64("c1", "ft", a_key, sizeof(a_key));
	out_key_b64("c1", NG_TEST_PENDING, b_key, sizeof(b_key));
	restart();
	assert_int_equal(mr_ng_counters(F.ng)->restored, 2);
	assert_int_equal(mr_ng_counters(F.ng)->restore_failed, 0);

	send_req("r3", "command", "answer", "call-id", "c1", "from-tag", "ft", "to-tag", "tt",
		 "sdp", ANSWER_3, NULL);
	assert_string_equal(reply_str("result"), "ok");
	sdp = reply_str("sdp");
	assert_non_null(sdp);
	/* The caller's own relay ports, mux kept, the BFCP line still rejected,
	 * and the relay's key towards the caller, as before the restart. */
	assert_non_null(strstr(sdp, "m=audio 30000 RTP/SAVP 0\r\n"));
	assert_non_null(strstr(sdp, "a=rtcp-mux\r\n"));
	assert_non_null(strstr(sdp, "m=application 0 TCP/BFCP"));
	assert_non_null(strstr(sdp, "m=video 30002 RTP/SAVPF 96\r\n"));
	assert_non_null(strstr(sdp, "a=rtcp:30003\r\n"));
	assert_non_null(strstr(sdp, a_key));
	assert_null(strstr(sdp, "QUJDREVGR0hJ"));
	/* The slot took the callee's key: query shows a paired, keyed call
	 * with the media numbered as the offer's m= lines. */
	send_req("r4", "command", "query", "call-id", "c1", NULL);
	m = mr_bc_dict_get(mr_bc_dict_get(mr_bc_dict_get(F.reply, "tags"), "tt"), "medias");
	assert_non_null(m);
	assert_int_equal(m->count, 2);
	assert_int_equal(mr_bc_dict_get(mr_bc_first(m)->next, "index")->i, 3);
	assert_int_equal(stats().calls, 2);

	/* c2 without its note, as a version-1 mrelay-cp would have left it. */
	restart();
	snprintf(path, sizeof(path), "%s/journal", F.tmp.dir);
	snprintf(cmd, sizeof(cmd), "sed -i '/^N /d; 1s/ 2$/ 1/' '%s'", path);
	mr_ng_free(F.ng);
	F.ng = NULL;
	mr_session_free(F.s);
	F.s = NULL;
	mr_region_unlock(&F.r);
	assert_int_equal(system(cmd), 0);
	start(0);
	assert_int_equal(mr_ng_counters(F.ng)->restored, 0);
	send_req("r5", "command", "answer", "call-id", "c2", "from-tag", "ft", "to-tag", "tt",
		 "sdp", ANSWER_SRTP, NULL);
	assert_error("offer again");
	send_req("r6", "command", "delete", "call-id", "c2", "from-tag", "ft", NULL);
	assert_string_equal(reply_str("result"), "ok");

	/* No key in the journal: neither the clients' nor the relay's. */
	f = fopen(path, "r");
	assert_non_null(f);
	j = calloc(1, 1 << 20);
	assert_non_null(j);
	n = (long)fread(j, 1, (1 << 20) - 1, f);
	fclose(f);
	assert_true(n > 0);
	assert_null(strstr(j, "WVNfX19zZW1jdGwg"));
	assert_null(strstr(j, "QUJDREVGR0hJ"));
	assert_null(strstr(j, a_key));
	assert_null(strstr(j, b_key));
	free(j);
}

static void
test_tcp_framing(void **state)
{
	static const char two[] = "a d7:command4:pinge" "b d3:keyl1:x2:yyee";
	const char *why;
	size_t len;

	(void)state;
	assert_int_equal(mr_ng_frame_len(two, sizeof(two) - 1, &len, &why), 0);
	assert_int_equal(len, 19);
	assert_int_equal(mr_ng_frame_len(two + 19, sizeof(two) - 1 - 19, &len, &why), 0);
	assert_int_equal(len, sizeof(two) - 1 - 19);
	assert_int_equal(mr_ng_frame_len(two, 10, &len, &why), -EAGAIN);
	assert_int_equal(mr_ng_frame_len("a", 1, &len, &why), -EAGAIN);
	assert_int_equal(mr_ng_frame_len("a d5:ab", 7, &len, &why), -EAGAIN);
	assert_int_equal(mr_ng_frame_len("a x", 3, &len, &why), -EINVAL);
	assert_int_equal(mr_ng_frame_len("a e", 3, &len, &why), -EINVAL);
	assert_int_equal(mr_ng_frame_len("a d99999999:", 12, &len, &why), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_framing_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offer_answer_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ice, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retransmission_and_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reoffer_key_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_answer_after_restart, setup, teardown),
		cmocka_unit_test(test_tcp_framing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
