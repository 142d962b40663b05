/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The burst SRTP engine (dataplane/srtp_mb.h, smb_*.c) against:
 *  1. RFC vectors: RFC 3711 B.3 and RFC 6188 7.2 key derivation (read back
 *     from the context's derived salt and first round key), libsrtp 2.5's
 *     own AES-CM known answers (srtp_driver.c), and RFC 7714 16-17 AEAD
 *     SRTP/SRTCP packets byte for byte (the RFC's session keys put into a
 *     context, since no master key derives them).
 *  2. the libsrtp wrapper (dataplane/srtp.c), op for op (tests/srtp_twin.h):
 *     every suite, with and without MKI, both directions, SRTP and SRTCP,
 *     across the 16-bit wrap, gaps, reordering, replays, forgeries and
 *     malformed packets, in bursts of every size that mix streams and
 *     suites.
 *  3. libsrtp used directly, as the peer: round trips both ways across the
 *     wrap, and resume (including a wrap while the dataplane was down)
 *     against a libsrtp stream that never stopped.
 *  4. the contract of srtp_mb.h: failed unprotect and every verify leave
 *     the packet as it came, bursts behave as ops one after another
 *     (duplicates inside a burst, a forgery before a genuine packet, an
 *     estimate that depends on an earlier op failing), no overruns (exact
 *     heap buffers under ASan), bad keys, state reporting.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <srtp2/srtp.h>

#include "smb_engine.h"
#include "smb_int.h"
#include "srtp.h"
#include "srtp_mb.h"
#include "../libsrtp_peer.h"
#include "../srtp_twin.h"
#include "../xorshift.h"
#include "srtp_fixture.h"
#include "srtp_vectors.h"

#define PKT_MAX 1600u
#define SSRC_A 0x11223344u
#define SSRC_B 0x55667788u

static struct mr_smb_engine *eng;

/* ---- helpers ------------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t
rng(void)
{
	return mr_test_xorshift(&rng_state);
}

static uint32_t
below(uint32_t n)
{
	return n ? (uint32_t)(rng() % n) : 0;
}

/* RTP with @cc CSRCs and an RFC 8285 extension of @ext_words words (0: none). */
static size_t
make_rtp_ext(uint8_t *p, uint16_t seq, uint32_t ssrc, unsigned int cc, unsigned int ext_words,
	     size_t payload)
{
	size_t h = 12, i;

	mr_test_rtp(p, seq, ssrc, 0);
	p[0] = (uint8_t)(0x80 | cc);
	for (i = 0; i < cc; i++, h += 4)
		mr_test_wr_be32(p + h, 0xc0000000u + (uint32_t)i);
	if (ext_words != 0) {
		p[0] |= 0x10;
		p[h] = 0xbe;
		p[h + 1] = 0xde;
		p[h + 2] = (uint8_t)(ext_words >> 8);
		p[h + 3] = (uint8_t)ext_words;
		h += 4;
		for (i = 0; i < 4u * ext_words; i++)
			p[h++] = (uint8_t)(0x10 + i);
	}
	for (i = 0; i < payload; i++)
		p[h + i] = (uint8_t)(seq ^ (i * 13));
	return h + payload;
}

/* Runs @ops through twin_run() and fails the test on any difference. */
static void
twin_check(struct twin_stream *st, const struct twin_op *ops, unsigned int n,
	   struct twin_result *r)
{
	char why[256];

	if (!twin_run(eng, st, ops, n, r, why, sizeof(why)))
		fail_msg("%s", why);
}

/* ---- 2. the wrapper, op for op ---------------------------------------- */

/*
 * A pair of streams (one outbound, one inbound, same key and SSRC). Rounds
 * of random bursts: the outbound side protects RTP and RTCP (sequence
 * numbers marching across the wrap with gaps, repeats and reordering),
 * then the inbound side unprotects or verifies what came out, shuffled,
 * with duplicates, forgeries and truncations mixed in.
 */
static void
diff_wrapper(void **state)
{
	const struct mr_test_srtp_param *pa = *state;
	struct mr_key_gen k = mr_test_key(pa->suite, pa->mki_len, (uint8_t)(0x51 + pa->suite));
	static uint8_t plain[MR_SMB_BURST_MAX][TWIN_PKT_MAX], prot[MR_SMB_BURST_MAX][TWIN_PKT_MAX];
	static struct twin_result r;
	struct twin_stream st[2];
	struct twin_op ops[MR_SMB_BURST_MAX];
	uint32_t prot_len[MR_SMB_BURST_MAX];
	bool prot_rtcp[MR_SMB_BURST_MAX];
	uint16_t seq = 65000;
	unsigned int round, i, n, np, rtcp_n = 0;

	rng_state = 0x1234567ull + pa->suite * 77u + pa->mki_len;
	assert_true(twin_stream_init(&st[0], &k, SSRC_A, MR_SRTP_OUTBOUND));
	assert_true(twin_stream_init(&st[1], &k, SSRC_A, MR_SRTP_INBOUND));
	for (round = 0; round < 60; round++) {
		n = 1 + below(MR_SMB_BURST_MAX);
		for (i = 0; i < n; i++) {
			uint32_t pick = below(100);
			size_t len;

			if (pick < 15) {
				len = mr_test_rtcp(plain[i], SSRC_A, ++rtcp_n, 4u * below(40));
				ops[i] = (struct twin_op){ .stream = 0, .kind = MR_SMB_PROTECT,
							   .rtcp = true };
			} else {
				if (pick < 20)
					seq = (uint16_t)(seq - below(40));      /* back: repeat tx or unused */
				else if (pick < 25)
					seq = (uint16_t)(seq + 1 + below(3000));        /* gap */
				else
					seq++;
				if (pick % 7 == 0)
					len = make_rtp_ext(plain[i], seq, SSRC_A, below(4), below(5),
							   below(300));
				else
					len = mr_test_rtp(plain[i], seq, SSRC_A,
							  below(3) == 0 ? 1100 : below(200));
				ops[i] = (struct twin_op){ .stream = 0, .kind = MR_SMB_PROTECT };
			}
			ops[i].in = plain[i];
			ops[i].len = (uint32_t)len;
			ops[i].cap = below(20) == 0 ? (uint32_t)len + 3 : TWIN_PKT_MAX;
		}
		twin_check(st, ops, n, &r);
		/* what passed goes to the inbound side, shuffled, with mischief */
		np = 0;
		for (i = 0; i < n; i++) {
			if (r.status[i] != 0)
				continue;
			memcpy(prot[np], r.out[i], r.len[i]);
			prot_len[np] = r.len[i];
			prot_rtcp[np] = ops[i].rtcp;
			np++;
		}
		for (i = 0; i < np; i++) {
			unsigned int j = i + below(np - i), dup;
			uint8_t *p = prot[j];
			uint32_t pick = below(100);

			if (below(4) == 0) {        /* swap: reorder */
				uint8_t tmp[TWIN_PKT_MAX];
				uint32_t tl = prot_len[i];
				bool trc = prot_rtcp[i];

				memcpy(tmp, prot[i], TWIN_PKT_MAX);
				memcpy(prot[i], prot[j], TWIN_PKT_MAX);
				memcpy(prot[j], tmp, TWIN_PKT_MAX);
				prot_len[i] = prot_len[j];
				prot_rtcp[i] = prot_rtcp[j];
				prot_len[j] = tl;
				prot_rtcp[j] = trc;
			}
			p = prot[i];
			ops[i] = (struct twin_op){ .stream = 1, .rtcp = prot_rtcp[i], .in = p,
						   .len = prot_len[i], .cap = prot_len[i] };
			ops[i].kind = below(3) == 0 ? MR_SMB_VERIFY : MR_SMB_UNPROTECT;
			if (pick < 5)
				p[below(prot_len[i])] ^= (uint8_t)(1u << below(8));   /* forgery */
			else if (pick < 7)
				ops[i].len = below(prot_len[i]);                     /* truncated */
			else if (pick < 12 && i > 0) {
				dup = below(i);                                       /* replay */
				ops[i].in = ops[dup].in;
				ops[i].len = ops[dup].len;
				ops[i].rtcp = ops[dup].rtcp;
			}
		}
		twin_check(st, ops, np, &r);
	}
	twin_stream_fini(&st[0]);
	twin_stream_fini(&st[1]);
}

/* ---- 1. RFC vectors ----------------------------------------------------- */

/* The SHA-1 state after (@key ^ @pad_byte) padded to a block, as HMAC starts. */
static void
pad_state(const uint8_t *key, uint8_t pad_byte, uint8_t out[20])
{
	uint8_t blk[64];
	unsigned int i;

	memset(blk, pad_byte, sizeof(blk));
	for (i = 0; i < 20; i++)
		blk[i] ^= key[i];
	IMB_SHA1_ONE_BLOCK(eng->mgr, blk, out);
}

/*
 * RFC 3711 B.3 and RFC 6188 7.2: the session key (the first round keys of
 * the schedule are the key), salt and auth key (through the HMAC pads) the
 * context derived from the RFC's master key and salt. SRTCP keys differ.
 */
static void
rfc_kdf(void **state)
{
	struct mr_key_gen k128 = mr_test_key_hex(MR_SUITE_AES_CM_128_HMAC_SHA1_80, 0,
						 MR_TEST_RFC3711_MK, MR_TEST_RFC3711_MS);
	struct mr_key_gen k256 = mr_test_key_hex(MR_SUITE_AES_256_CM_HMAC_SHA1_80, 0,
						 MR_TEST_RFC6188_MK, MR_TEST_RFC6188_MS);
	uint8_t auth[32], ipad[20], opad[20];
	struct mr_smb_ctx *c;

	(void)state;
	c = mr_smb_ctx_new(&k128, 1, MR_SRTP_OUTBOUND, NULL);
	assert_non_null(c);
	mr_test_assert_hex(c->rtp->k.cm.enc, 16, "C61E7A93744F39EE10734AFE3FF7A087");
	mr_test_assert_hex(c->rtp->salt, 14, "30CBBC08863D8C85D49DB34A9AE1");
	mr_test_unhex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4", auth, sizeof(auth));
	pad_state(auth, 0x36, ipad);
	pad_state(auth, 0x5c, opad);
	assert_memory_equal(c->rtp->k.cm.ipad, ipad, 20);
	assert_memory_equal(c->rtp->k.cm.opad, opad, 20);
	assert_memory_not_equal(c->rtcp->k.cm.enc, c->rtp->k.cm.enc, 16);
	assert_memory_not_equal(c->rtcp->salt, c->rtp->salt, 14);
	mr_smb_ctx_free(c);

	c = mr_smb_ctx_new(&k256, 1, MR_SRTP_INBOUND, NULL);
	assert_non_null(c);
	mr_test_assert_hex(c->rtp->k.cm.enc, 32,
			   "5ba1064e30ec51613cad926c5a28ef73 1ec7fb397f70a960653caf06554cd8c4");
	mr_test_assert_hex(c->rtp->salt, 14, "fa31791685ca444a9e07c6c64e93");
	mr_test_unhex("fd9c32d39ed5fbb5a9dc96b30818454d1313dc05", auth, sizeof(auth));
	pad_state(auth, 0x36, ipad);
	assert_memory_equal(c->rtp->k.cm.ipad, ipad, 20);
	mr_smb_ctx_free(c);
}

/* One op through the engine; returns its status. */
static int
run1(struct mr_smb_ctx *c, uint8_t kind, bool rtcp, uint8_t *p, uint32_t *len, uint32_t cap)
{
	struct mr_smb_op op = { .ctx = c, .pkt = p, .len = *len, .cap = cap, .kind = kind,
				.rtcp = rtcp };

	mr_smb_run(eng, &op, 1);
	*len = op.len;
	return op.status;
}

/*
 * libsrtp 2.5.0's own known answers (test/srtp_driver.c srtp_validate and
 * srtp_validate_aes_256): RFC 3711 / RFC 6188 master keys, SSRC 0xcafebabe,
 * seq 0x1234, first SRTCP index 1. Both ways through the engine.
 */
static void
libsrtp_known_answers(void **state)
{
	static const struct {
		uint8_t suite;
		const char *mk, *ms, *rtp_out, *rtcp_out;
	} v[] = {
		{ MR_SUITE_AES_CM_128_HMAC_SHA1_80, MR_TEST_RFC3711_MK, MR_TEST_RFC3711_MS,
		  "800f1234decafbadcafebabe 4e55dc4ce79978d88ca4d215949d2402 b78d6acc99ea179b8dbb",
		  "81c8000bcafebabe 7128035be487b9bdbef89041f977a5a8 80000001 993e08cd54d6c1230798" },
		{ MR_SUITE_AES_256_CM_HMAC_SHA1_80, MR_TEST_RFC6188_MK, MR_TEST_RFC6188_MS,
		  "800f1234decafbadcafebabe f1d9de17ff251ff1aa007774b0b4b40d a08d9d9a5b3a55d8873b",
		  NULL },
	};
	uint8_t pkt[PKT_MAX], want[PKT_MAX];
	struct mr_smb_ctx *out, *in;
	struct mr_key_gen k;
	uint32_t len, wlen;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		k = mr_test_key_hex(v[i].suite, 0, v[i].mk, v[i].ms);
		out = mr_smb_ctx_new(&k, 0xcafebabe, MR_SRTP_OUTBOUND, NULL);
		in = mr_smb_ctx_new(&k, 0xcafebabe, MR_SRTP_INBOUND, NULL);
		assert_non_null(out);
		assert_non_null(in);
		len = (uint32_t)mr_test_unhex("800f1234decafbadcafebabe abababababababababababababababab",
					      pkt, sizeof(pkt));
		assert_int_equal(run1(out, MR_SMB_PROTECT, false, pkt, &len, sizeof(pkt)), 0);
		mr_test_assert_hex(pkt, len, v[i].rtp_out);
		assert_int_equal(run1(in, MR_SMB_UNPROTECT, false, pkt, &len, len), 0);
		mr_test_assert_hex(pkt, len,
				   "800f1234decafbadcafebabe abababababababababababababababab");
		if (v[i].rtcp_out != NULL) {
			len = (uint32_t)mr_test_unhex("81c8000bcafebabe abababababababababababababababab",
						      pkt, sizeof(pkt));
			assert_int_equal(run1(out, MR_SMB_PROTECT, true, pkt, &len, sizeof(pkt)), 0);
			mr_test_assert_hex(pkt, len, v[i].rtcp_out);
			wlen = (uint32_t)mr_test_unhex(v[i].rtcp_out, want, sizeof(want));
			assert_int_equal(run1(in, MR_SMB_UNPROTECT, true, want, &wlen, wlen), 0);
			assert_int_equal(wlen, 24);
		}
		mr_smb_ctx_free(out);
		mr_smb_ctx_free(in);
	}
}

/* Put RFC 7714's session key and salt into both halves of @c. */
static void
inject_session_keys(struct mr_smb_ctx *c, const uint8_t *key, size_t key_len, const uint8_t salt[12])
{
	if (key_len == 16) {
		IMB_AES128_GCM_PRE(eng->mgr, key, &c->rtp->k.gcm);
		IMB_AES128_GCM_PRE(eng->mgr, key, &c->rtcp->k.gcm);
	} else {
		IMB_AES256_GCM_PRE(eng->mgr, key, &c->rtp->k.gcm);
		IMB_AES256_GCM_PRE(eng->mgr, key, &c->rtcp->k.gcm);
	}
	memcpy(c->rtp->salt, salt, 12);
	memcpy(c->rtcp->salt, salt, 12);
	smb_salt_words(c->rtp);
	smb_salt_words(c->rtcp);
}

/*
 * RFC 7714 16.1-16.2 and 17.1-17.2, byte for byte: SRTP (ROC 0) and SRTCP
 * (index 0x5d4, reached by resuming the outbound context at 0x5d3), both
 * AEAD suites, protected and unprotected by the engine.
 */
static void
rfc7714_vectors(void **state)
{
	static const char *const keys[2] = { MR_TEST_RFC7714_K128, MR_TEST_RFC7714_K256 };
	static const char *const rtp_out[2] = { MR_TEST_RFC7714_RTP_128, MR_TEST_RFC7714_RTP_256 };
	static const char *const rtcp_out[2] = { MR_TEST_RFC7714_RTCP_128, MR_TEST_RFC7714_RTCP_256 };
	static const uint8_t suites[2] = { MR_SUITE_AEAD_AES_128_GCM, MR_SUITE_AEAD_AES_256_GCM };
	struct mr_srtp_resume res = { .srtcp_index = 0x5d3, .valid = true };
	uint8_t key[32], salt[12], pkt[PKT_MAX], plain[PKT_MAX];
	struct mr_smb_ctx *out, *in;
	struct mr_key_gen k;
	uint32_t len, plen, idx;
	size_t kl, v;

	(void)state;
	mr_test_unhex(MR_TEST_RFC7714_SALT, salt, sizeof(salt));
	for (v = 0; v < 2; v++) {
		kl = mr_test_unhex(keys[v], key, sizeof(key));
		k = mr_test_key(suites[v], 0, 0x42);
		plen = (uint32_t)mr_test_unhex(MR_TEST_RFC7714_RTP, plain, sizeof(plain));
		out = mr_smb_ctx_new(&k, 0x5501a0b2, MR_SRTP_OUTBOUND, NULL);
		in = mr_smb_ctx_new(&k, 0x5501a0b2, MR_SRTP_INBOUND, NULL);
		assert_non_null(out);
		assert_non_null(in);
		inject_session_keys(out, key, kl, salt);
		inject_session_keys(in, key, kl, salt);
		memcpy(pkt, plain, plen);
		len = plen;
		assert_int_equal(run1(out, MR_SMB_PROTECT, false, pkt, &len, sizeof(pkt)), 0);
		mr_test_assert_hex(pkt, len, rtp_out[v]);
		assert_int_equal(run1(in, MR_SMB_VERIFY, false, pkt, &len, len), 0);
		mr_test_assert_hex(pkt, len, rtp_out[v]);
		mr_smb_ctx_free(in);
		in = mr_smb_ctx_new(&k, 0x5501a0b2, MR_SRTP_INBOUND, NULL);
		inject_session_keys(in, key, kl, salt);
		assert_int_equal(run1(in, MR_SMB_UNPROTECT, false, pkt, &len, len), 0);
		assert_int_equal(len, plen);
		assert_memory_equal(pkt, plain, plen);
		mr_smb_ctx_free(out);
		mr_smb_ctx_free(in);

		plen = (uint32_t)mr_test_unhex(MR_TEST_RFC7714_RTCP, plain, sizeof(plain));
		out = mr_smb_ctx_new(&k, 0x4d617273, MR_SRTP_OUTBOUND, &res);
		in = mr_smb_ctx_new(&k, 0x4d617273, MR_SRTP_INBOUND, NULL);
		assert_non_null(out);
		assert_non_null(in);
		inject_session_keys(out, key, kl, salt);
		inject_session_keys(in, key, kl, salt);
		memcpy(pkt, plain, plen);
		len = plen;
		assert_int_equal(run1(out, MR_SMB_PROTECT, true, pkt, &len, sizeof(pkt)), 0);
		mr_test_assert_hex(pkt, len, rtcp_out[v]);
		mr_smb_ctx_state(out, NULL, NULL, &idx);
		assert_int_equal(idx, 0x5d4);
		assert_int_equal(run1(in, MR_SMB_UNPROTECT, true, pkt, &len, len), 0);
		assert_int_equal(len, plen);
		assert_memory_equal(pkt, plain, plen);
		mr_smb_ctx_state(in, NULL, NULL, &idx);
		assert_int_equal(idx, 0x5d4);
		mr_smb_ctx_free(out);
		mr_smb_ctx_free(in);
	}
}

/* ---- 3. libsrtp as the peer ---------------------------------------------- */


/*
 * The engine protects bursts across the wrap (RTP, then RTCP) and libsrtp
 * unprotects them; libsrtp protects, the engine unprotects (in bursts, half
 * by verify first). State on both ends agrees.
 */
static void
vs_libsrtp(void **state)
{
	const struct mr_test_srtp_param *pa = *state;
	struct mr_key_gen k = mr_test_key(pa->suite, pa->mki_len, (uint8_t)(0x30 + pa->suite));
	static uint8_t pkts[32][PKT_MAX], plain[32][PKT_MAX];
	struct mr_smb_op ops[32];
	uint32_t plen[32], roc, idx, i, b;
	struct mr_smb_ctx *c;
	uint16_t seq;
	srtp_t peer;
	int n;

	/* engine -> libsrtp */
	c = mr_smb_ctx_new(&k, SSRC_A, MR_SRTP_OUTBOUND, NULL);
	assert_non_null(c);
	peer = peer_new(&k, SSRC_A, false);
	for (b = 0; b < 3; b++) {
		for (i = 0; i < 32; i++) {
			plen[i] = (uint32_t)mr_test_rtp(plain[i], (uint16_t)(65500u + 32 * b + i), SSRC_A,
							20 + i * 37);
			memcpy(pkts[i], plain[i], plen[i]);
			ops[i] = (struct mr_smb_op){ .ctx = c, .pkt = pkts[i], .len = plen[i],
						     .cap = PKT_MAX, .kind = MR_SMB_PROTECT };
		}
		mr_smb_run(eng, ops, 32);
		for (i = 0; i < 32; i++) {
			assert_int_equal(ops[i].status, 0);
			assert_int_equal(ops[i].len, plen[i] + mr_test_rtp_trailer(&k));
			n = (int)ops[i].len;
			assert_int_equal(srtp_unprotect_mki(peer, pkts[i], &n, k.mki_len != 0),
					 srtp_err_status_ok);
			assert_int_equal(n, plen[i]);
			assert_memory_equal(pkts[i], plain[i], plen[i]);
		}
	}
	mr_smb_ctx_state(c, &roc, &seq, &idx);
	assert_int_equal(roc, 1);
	assert_int_equal(seq, (uint16_t)(65500u + 95));
	assert_int_equal(srtp_get_stream_roc(peer, SSRC_A, &roc), srtp_err_status_ok);
	assert_int_equal(roc, 1);
	for (i = 0; i < 8; i++) {
		plen[i] = (uint32_t)mr_test_rtcp(plain[i], SSRC_A, i, 4 * i);
		memcpy(pkts[i], plain[i], plen[i]);
		ops[i] = (struct mr_smb_op){ .ctx = c, .pkt = pkts[i], .len = plen[i],
					     .cap = PKT_MAX, .kind = MR_SMB_PROTECT, .rtcp = true };
	}
	mr_smb_run(eng, ops, 8);
	for (i = 0; i < 8; i++) {
		assert_int_equal(ops[i].status, 0);
		assert_int_equal(ops[i].len, plen[i] + mr_test_rtcp_trailer(&k));
		n = (int)ops[i].len;
		assert_int_equal(peer_unprotect_rtcp(peer, &k, pkts[i], &n), srtp_err_status_ok);
		assert_memory_equal(pkts[i], plain[i], plen[i]);
	}
	mr_smb_ctx_state(c, NULL, NULL, &idx);
	assert_int_equal(idx, 8);
	mr_smb_ctx_free(c);
	srtp_dealloc(peer);

	/* libsrtp -> engine */
	c = mr_smb_ctx_new(&k, SSRC_B, MR_SRTP_INBOUND, NULL);
	assert_non_null(c);
	peer = peer_new(&k, SSRC_B, false);
	for (b = 0; b < 3; b++) {
		for (i = 0; i < 32; i++) {
			plen[i] = (uint32_t)mr_test_rtp(plain[i], (uint16_t)(65500u + 32 * b + i), SSRC_B,
							1200 - i * 30);
			memcpy(pkts[i], plain[i], plen[i]);
			n = (int)plen[i];
			assert_int_equal(srtp_protect_mki(peer, pkts[i], &n, k.mki_len != 0, 0),
					 srtp_err_status_ok);
			ops[i] = (struct mr_smb_op){ .ctx = c, .pkt = pkts[i], .len = (uint32_t)n,
						     .kind = b == 1 ? MR_SMB_VERIFY : MR_SMB_UNPROTECT };
		}
		mr_smb_run(eng, ops, 32);
		for (i = 0; i < 32; i++) {
			assert_int_equal(ops[i].status, 0);
			if (b == 1)
				continue;
			assert_int_equal(ops[i].len, plen[i]);
			assert_memory_equal(pkts[i], plain[i], plen[i]);
		}
	}
	mr_smb_ctx_state(c, &roc, &seq, NULL);
	assert_int_equal(roc, 1);
	assert_int_equal(seq, (uint16_t)(65500u + 95));
	for (i = 0; i < 8; i++) {
		plen[i] = (uint32_t)mr_test_rtcp(plain[i], SSRC_B, i, 4 * i);
		memcpy(pkts[i], plain[i], plen[i]);
		n = (int)plen[i];
		assert_int_equal(srtp_protect_rtcp_mki(peer, pkts[i], &n, k.mki_len != 0, 0),
				 srtp_err_status_ok);
		ops[i] = (struct mr_smb_op){ .ctx = c, .pkt = pkts[i], .len = (uint32_t)n,
					     .kind = MR_SMB_UNPROTECT, .rtcp = true };
	}
	mr_smb_run(eng, ops, 8);
	for (i = 0; i < 8; i++) {
		assert_int_equal(ops[i].status, 0);
		assert_int_equal(ops[i].len, plen[i]);
		assert_memory_equal(pkts[i], plain[i], plen[i]);
	}
	mr_smb_ctx_state(c, NULL, NULL, &idx);
	assert_int_equal(idx, 8);
	mr_smb_ctx_free(c);
	srtp_dealloc(peer);
}

/*
 * AEAD SRTCP without encryption (RFC 7714 9.3, E = 0), as a libsrtp peer
 * whose SRTCP policy is authentication only sends it: the engine and the
 * wrapper take it (unchanged but for the trailer), and refuse it forged.
 */
static void
aead_srtcp_unencrypted(void **state)
{
	static uint8_t plain[8][TWIN_PKT_MAX], prot[8][TWIN_PKT_MAX];
	static struct twin_result r;
	struct twin_stream st[1];
	struct twin_op ops[8];
	struct mr_key_gen k;
	unsigned int i, m;
	srtp_t peer;
	int n;

	(void)state;
	for (m = 0; m < 4; m++) {
		k = mr_test_key(m < 2 ? MR_SUITE_AEAD_AES_128_GCM : MR_SUITE_AEAD_AES_256_GCM,
				(uint8_t)(m % 2 ? 4 : 0), 0x17);
		peer = peer_new(&k, SSRC_B, true);
		assert_true(twin_stream_init(&st[0], &k, SSRC_B, MR_SRTP_INBOUND));
		for (i = 0; i < 8; i++) {
			size_t len = mr_test_rtcp(plain[i], SSRC_B, i, 8 * i);

			memcpy(prot[i], plain[i], len);
			n = (int)len;
			assert_int_equal(srtp_protect_rtcp_mki(peer, prot[i], &n, k.mki_len != 0, 0),
					 srtp_err_status_ok);
			assert_int_equal(prot[i][n - k.mki_len - 4] & 0x80, 0);      /* E = 0 */
			if (i == 3)
				prot[i][9] ^= 1;        /* forged */
			ops[i] = (struct twin_op){ .stream = 0, .rtcp = true, .in = prot[i],
						   .len = (uint32_t)n,
						   .kind = i % 2 ? MR_SMB_VERIFY : MR_SMB_UNPROTECT };
		}
		twin_check(st, ops, 8, &r);
		for (i = 0; i < 8; i++) {
			assert_int_equal(r.status[i], i == 3 ? -EBADMSG : 0);
			if (i != 3)
				assert_memory_equal(r.out[i], plain[i], 28 + 8 * i);
		}
		twin_stream_fini(&st[0]);
		srtp_dealloc(peer);
	}
}

/* ---- 4. resume ------------------------------------------------------------ */

/*
 * A libsrtp sender that never stopped, and engine contexts resumed from a
 * stored (ROC, seq_hi, SRTCP index):
 *  - inbound, the stream wrapped while the dataplane was down: the first
 *    packet after the restart has ROC + 1 and decrypts; the state follows;
 *    a packet not yet seen below the resume point is still taken (libsrtp
 *    restarts its window empty), without lowering the state;
 *  - outbound, resumed before the wrap, its first packets after it: byte
 *    for byte what the sender that never stopped produces at ROC + 1; an
 *    index at or below the resume point is refused; SRTCP goes on at the
 *    stored index + 1, byte for byte the never-stopped sender's.
 */
static void
resume(void **state)
{
	const struct mr_test_srtp_param *pa = *state;
	struct mr_key_gen k = mr_test_key(pa->suite, pa->mki_len, 0xd1);
	uint8_t pkt[PKT_MAX], ref[PKT_MAX], plain[PKT_MAX], held[PKT_MAX];
	struct mr_srtp_resume res;
	struct mr_smb_ctx *c, *d;
	uint32_t len, plen, roc, idx, i, held_len = 0;
	uint16_t seq;
	srtp_t tx, rx;
	int n;

	/* inbound: 65530..65535 then 0..9 sent; the engine saw up to 65533 */
	tx = peer_new(&k, SSRC_B, false);
	c = mr_smb_ctx_new(&k, SSRC_B, MR_SRTP_INBOUND, NULL);
	assert_non_null(c);
	for (i = 0; i < 16; i++) {
		plen = (uint32_t)mr_test_rtp(plain, (uint16_t)(65530u + i), SSRC_B, 40);
		memcpy(pkt, plain, plen);
		n = (int)plen;
		assert_int_equal(srtp_protect_mki(tx, pkt, &n, k.mki_len != 0, 0), srtp_err_status_ok);
		len = (uint32_t)n;
		if (i == 2) {           /* held back: arrives after the restart */
			memcpy(held, pkt, len);
			held_len = len;
			continue;
		}
		if (i <= 3) {
			assert_int_equal(run1(c, MR_SMB_UNPROTECT, false, pkt, &len, len), 0);
			continue;
		}
		if (i < 12)
			continue;       /* lost while the dataplane was down */
		if (i == 12) {
			mr_smb_ctx_state(c, &roc, &seq, &idx);
			assert_int_equal(roc, 0);
			assert_int_equal(seq, 65533);
			mr_smb_ctx_free(c);
			res = (struct mr_srtp_resume){ .roc = roc, .seq_hi = seq, .srtcp_index = 7,
						       .valid = true };
			c = mr_smb_ctx_new(&k, SSRC_B, MR_SRTP_INBOUND, &res);
			assert_non_null(c);
			mr_smb_ctx_state(c, &roc, &seq, &idx);
			assert_int_equal(roc, 0);
			assert_int_equal(seq, 65533);
			assert_int_equal(idx, 7);
		}
		assert_int_equal(run1(c, MR_SMB_UNPROTECT, false, pkt, &len, len), 0);   /* seq 6.. */
		assert_int_equal(len, plen);
		assert_memory_equal(pkt, plain, plen);
	}
	mr_smb_ctx_state(c, &roc, &seq, NULL);
	assert_int_equal(roc, 1);
	assert_int_equal(seq, 9);
	len = held_len;
	assert_int_equal(run1(c, MR_SMB_UNPROTECT, false, held, &len, len), 0);         /* 65532 */
	len = held_len;
	mr_smb_ctx_state(c, &roc, &seq, NULL);
	assert_int_equal(roc, 1);
	assert_int_equal(seq, 9);
	mr_smb_ctx_free(c);
	srtp_dealloc(tx);

	/*
	 * outbound: the engine sends 65530..65533 and 3 SRTCP packets, stores
	 * its state and restarts; libsrtp (tx) sends the same stream without
	 * stopping and is the reference for every byte.
	 */
	tx = peer_new(&k, SSRC_A, false);
	rx = peer_new(&k, SSRC_A, false);
	c = mr_smb_ctx_new(&k, SSRC_A, MR_SRTP_OUTBOUND, NULL);
	assert_non_null(c);
	for (i = 0; i < 4; i++) {
		plen = (uint32_t)mr_test_rtp(plain, (uint16_t)(65530u + i), SSRC_A, 33);
		memcpy(pkt, plain, plen);
		len = plen;
		assert_int_equal(run1(c, MR_SMB_PROTECT, false, pkt, &len, sizeof(pkt)), 0);
		memcpy(ref, plain, plen);
		n = (int)plen;
		assert_int_equal(srtp_protect_mki(tx, ref, &n, k.mki_len != 0, 0), srtp_err_status_ok);
		assert_int_equal(len, (uint32_t)n);
		assert_memory_equal(pkt, ref, len);
		assert_int_equal(srtp_unprotect_mki(rx, pkt, &n, k.mki_len != 0), srtp_err_status_ok);
	}
	for (i = 1; i <= 3; i++) {
		plen = (uint32_t)mr_test_rtcp(plain, SSRC_A, i, 0);
		memcpy(pkt, plain, plen);
		len = plen;
		assert_int_equal(run1(c, MR_SMB_PROTECT, true, pkt, &len, sizeof(pkt)), 0);
		memcpy(ref, plain, plen);
		n = (int)plen;
		assert_int_equal(srtp_protect_rtcp_mki(tx, ref, &n, k.mki_len != 0, 0),
				 srtp_err_status_ok);
		assert_memory_equal(pkt, ref, len);
	}
	mr_smb_ctx_state(c, &roc, &seq, &idx);
	mr_smb_ctx_free(c);
	res = (struct mr_srtp_resume){ .roc = roc, .seq_hi = seq, .srtcp_index = idx, .valid = true };
	d = mr_smb_ctx_new(&k, SSRC_A, MR_SRTP_OUTBOUND, &res);
	assert_non_null(d);
	/* at or below the resume point: refused, whatever the packet */
	for (i = 0; i < 3; i++) {
		plen = (uint32_t)mr_test_rtp(plain, (uint16_t)(65533u - 5 * i), SSRC_A, 10);
		len = plen;
		assert_int_equal(run1(d, MR_SMB_PROTECT, false, plain, &len, sizeof(plain)),
				 -EALREADY);
	}
	/* 65534, 65535 skipped (never sent); 0..3 after the wrap, ROC 1 */
	for (i = 0; i < 6; i++) {
		plen = (uint32_t)mr_test_rtp(plain, (uint16_t)(65534u + i), SSRC_A, 50 + i);
		memcpy(ref, plain, plen);
		n = (int)plen;
		assert_int_equal(srtp_protect_mki(tx, ref, &n, k.mki_len != 0, 0), srtp_err_status_ok);
		if (i < 2)
			continue;
		memcpy(pkt, plain, plen);
		len = plen;
		assert_int_equal(run1(d, MR_SMB_PROTECT, false, pkt, &len, sizeof(pkt)), 0);
		assert_int_equal(len, (uint32_t)n);
		assert_memory_equal(pkt, ref, len);
		n = (int)len;
		assert_int_equal(srtp_unprotect_mki(rx, pkt, &n, k.mki_len != 0), srtp_err_status_ok);
		assert_memory_equal(pkt, plain, plen);
	}
	mr_smb_ctx_state(d, &roc, &seq, &idx);
	assert_int_equal(roc, 1);
	assert_int_equal(seq, 3);
	assert_int_equal(idx, 3);
	plen = (uint32_t)mr_test_rtcp(plain, SSRC_A, 4, 8);
	memcpy(pkt, plain, plen);
	len = plen;
	assert_int_equal(run1(d, MR_SMB_PROTECT, true, pkt, &len, sizeof(pkt)), 0);
	memcpy(ref, plain, plen);
	n = (int)plen;
	assert_int_equal(srtp_protect_rtcp_mki(tx, ref, &n, k.mki_len != 0, 0), srtp_err_status_ok);
	assert_int_equal(len, (uint32_t)n);
	assert_memory_equal(pkt, ref, len);          /* index 4 */
	mr_smb_ctx_state(d, NULL, NULL, &idx);
	assert_int_equal(idx, 4);
	mr_smb_ctx_free(d);
	srtp_dealloc(tx);
	srtp_dealloc(rx);
}

/*
 * The limits of a resume: the SRTCP index is 31 bits (2^31 - 1 is the
 * last one libsrtp sends, then key_expired, -EINVAL); above it a context
 * is refused. A resumed inbound context reports its resume point until a
 * packet passes.
 */
static void
resume_limits(void **state)
{
	struct mr_key_gen k = mr_test_key(MR_SUITE_AES_CM_128_HMAC_SHA1_80, 0, 0x3e);
	struct mr_srtp_resume res = { .roc = 7, .seq_hi = 9, .srtcp_index = 0x7ffffffe,
				      .valid = true };
	uint8_t pkt[PKT_MAX];
	struct mr_smb_ctx *c;
	uint32_t roc, idx, len;
	uint16_t seq;

	(void)state;
	c = mr_smb_ctx_new(&k, SSRC_A, MR_SRTP_OUTBOUND, &res);
	assert_non_null(c);
	len = (uint32_t)mr_test_rtcp(pkt, SSRC_A, 1, 0);
	assert_int_equal(run1(c, MR_SMB_PROTECT, true, pkt, &len, sizeof(pkt)), 0);
	assert_int_equal(pkt[len - 14], 0xff);          /* E | 0x7fffffff */
	len = (uint32_t)mr_test_rtcp(pkt, SSRC_A, 2, 0);
	assert_int_equal(run1(c, MR_SMB_PROTECT, true, pkt, &len, sizeof(pkt)), -EINVAL);
	mr_smb_ctx_state(c, &roc, &seq, &idx);
	assert_int_equal(roc, 7);
	assert_int_equal(seq, 9);
	assert_int_equal(idx, 0x7fffffff);
	mr_smb_ctx_free(c);
	res.srtcp_index = 0x80000000u;
	errno = 0;
	assert_null(mr_smb_ctx_new(&k, SSRC_A, MR_SRTP_OUTBOUND, &res));
	assert_int_equal(errno, EINVAL);
	res.valid = false;      /* ignored when not valid */
	c = mr_smb_ctx_new(&k, SSRC_A, MR_SRTP_INBOUND, &res);
	assert_non_null(c);
	mr_smb_ctx_state(c, &roc, &seq, &idx);
	assert_int_equal(roc, 0);
	assert_int_equal(seq, 0);
	assert_int_equal(idx, 0);
	mr_smb_ctx_free(c);
}

/* ---- 5. failures, malformed input, the packet left as it came --------------- */

/*
 * Every fault the wrapper knows, op by op through the twin (which also
 * checks that the engine's packet is unchanged when an op fails): wrong
 * direction, short packets, bad CSRC count and extension length, missing
 * tag, another SSRC, another MKI, forged header/payload/tag, the E flag
 * cleared, replays, repeat transmission, too little room; and explicit
 * statuses for the main ones.
 */
static void
failures(void **state)
{
	const struct mr_test_srtp_param *pa = *state;
	struct mr_key_gen k = mr_test_key(pa->suite, pa->mki_len, 0x6b);
	static uint8_t in[24][TWIN_PKT_MAX];
	static struct twin_result r;
	struct twin_stream st[2];
	struct twin_op ops[24];
	uint32_t gl, rl, t = mr_test_rtp_trailer(&k);
	unsigned int n = 0;
	uint8_t good[PKT_MAX], goodc[PKT_MAX];
	int expect[24];

	assert_true(twin_stream_init(&st[0], &k, SSRC_A, MR_SRTP_OUTBOUND));
	assert_true(twin_stream_init(&st[1], &k, SSRC_A, MR_SRTP_INBOUND));
	/* a good SRTP and SRTCP packet to spoil */
	gl = (uint32_t)mr_test_rtp(in[0], 100, SSRC_A, 64);
	rl = (uint32_t)mr_test_rtcp(in[1], SSRC_A, 1, 12);
	ops[0] = (struct twin_op){ .stream = 0, .kind = MR_SMB_PROTECT, .in = in[0], .len = gl,
				   .cap = TWIN_PKT_MAX };
	ops[1] = (struct twin_op){ .stream = 0, .kind = MR_SMB_PROTECT, .rtcp = true, .in = in[1],
				   .len = rl, .cap = TWIN_PKT_MAX };
	twin_check(st, ops, 2, &r);
	assert_int_equal(r.status[0], 0);
	assert_int_equal(r.status[1], 0);
	memcpy(good, r.out[0], r.len[0]);
	memcpy(goodc, r.out[1], r.len[1]);
	gl = r.len[0];
	rl = r.len[1];

#define ADD(s, kd, rc, buf, l, cp, want)                                          \
	do {                                                                        \
		ops[n] = (struct twin_op){ .stream = s, .kind = kd, .rtcp = rc,     \
					   .in = buf, .len = l, .cap = cp };        \
		expect[n++] = want;                                                 \
	} while (0)
	/* outbound faults */
	mr_test_rtp(in[2], 101, SSRC_A, 10);
	ADD(0, MR_SMB_PROTECT, false, in[2], 22, 22 + t - 1, -EMSGSIZE);
	ADD(0, MR_SMB_PROTECT, false, in[2], 11, TWIN_PKT_MAX, -EINVAL);
	ADD(0, MR_SMB_PROTECT, false, in[0], (uint32_t)mr_test_rtp(in[0], 100, SSRC_A, 64),
	    TWIN_PKT_MAX, -EALREADY);                                   /* repeat tx */
	mr_test_rtp(in[3], 102, SSRC_B, 10);
	ADD(0, MR_SMB_PROTECT, false, in[3], 22, TWIN_PKT_MAX, -EINVAL);        /* SSRC */
	mr_test_rtp(in[4], 103, SSRC_A, 10);
	in[4][0] |= 0x0f;                                                   /* 15 CSRCs */
	ADD(0, MR_SMB_PROTECT, false, in[4], 22, TWIN_PKT_MAX, -EINVAL);
	ADD(1, MR_SMB_PROTECT, false, in[2], 22, TWIN_PKT_MAX, -EINVAL);        /* direction */
	ADD(0, MR_SMB_UNPROTECT, false, good, gl, 0, -EINVAL);
	/* inbound faults */
	memcpy(in[5], good, gl);
	in[5][gl - 1] ^= 0x40;                                              /* tag */
	ADD(1, MR_SMB_UNPROTECT, false, in[5], gl, 0, -EBADMSG);
	memcpy(in[6], good, gl);
	in[6][20] ^= 0x01;                                                  /* payload */
	ADD(1, MR_SMB_VERIFY, false, in[6], gl, 0, -EBADMSG);
	memcpy(in[7], good, gl);
	in[7][1] ^= 0x80;                                                   /* marker bit */
	ADD(1, MR_SMB_UNPROTECT, false, in[7], gl, 0, -EBADMSG);
	ADD(1, MR_SMB_UNPROTECT, false, good, 12 + t - 1, 0, -EINVAL);     /* no room for a tag */
	memcpy(in[8], good, gl);
	in[8][0] |= 0x10;                                                   /* X: ext beyond */
	ADD(1, MR_SMB_UNPROTECT, false, in[8], gl, 0, -EINVAL);
	if (k.mki_len != 0) {
		memcpy(in[9], good, gl);
		in[9][k.suite >= MR_SUITE_AEAD_AES_128_GCM ? gl - 1 : gl - t] ^= 1;    /* MKI */
		ADD(1, MR_SMB_UNPROTECT, false, in[9], gl, 0, -EBADMSG);
	}
	memcpy(in[10], good, gl);
	in[10][11] ^= 1;                                                    /* SSRC */
	ADD(1, MR_SMB_UNPROTECT, false, in[10], gl, 0, -EINVAL);
	ADD(1, MR_SMB_VERIFY, false, good, gl, 0, 0);
	ADD(1, MR_SMB_UNPROTECT, false, good, gl, 0, -EALREADY);           /* replay */
	memcpy(in[11], goodc, rl);
	in[11][rl - 1] ^= 2;
	ADD(1, MR_SMB_UNPROTECT, true, in[11], rl, 0, -EBADMSG);
	if (k.suite < MR_SUITE_AEAD_AES_128_GCM) {
		memcpy(in[12], goodc, rl);
		in[12][rl - 10 - k.mki_len - 4] &= 0x7f;                        /* E = 0 */
		ADD(1, MR_SMB_UNPROTECT, true, in[12], rl, 0, -EINVAL);
	}
	ADD(1, MR_SMB_UNPROTECT, true, goodc, 8 + mr_test_rtcp_trailer(&k) - 1, 0, -EINVAL);
	ADD(1, MR_SMB_UNPROTECT, true, goodc, rl, 0, 0);
	ADD(1, MR_SMB_VERIFY, true, goodc, rl, 0, -EALREADY);
#undef ADD
	twin_check(st, ops, n, &r);
	for (unsigned int i = 0; i < n; i++)
		if (r.status[i] != expect[i])
			fail_msg("op %u: status %d, expected %d", i, r.status[i], expect[i]);
	twin_stream_fini(&st[0]);
	twin_stream_fini(&st[1]);
}

/*
 * Every cut of a good SRTP and SRTCP packet, in a heap buffer of exactly
 * that size (ASan sees any read past it), through the engine alone and the
 * wrapper: the same status, the packet untouched. Then every cut of the
 * plain packets, protected into exactly the room they need.
 */
static void
truncated(void **state)
{
	const struct mr_test_srtp_param *pa = *state;
	struct mr_key_gen k = mr_test_key(pa->suite, pa->mki_len, 0x99);
	uint8_t pkt[PKT_MAX], copy[PKT_MAX];
	struct mr_smb_ctx *out, *in;
	struct mr_srtp_ctx *win;
	uint32_t glen, len, cut, wlen, room;
	unsigned int rtcp;
	uint8_t *h;
	int st, wst;

	out = mr_smb_ctx_new(&k, SSRC_A, MR_SRTP_OUTBOUND, NULL);
	in = mr_smb_ctx_new(&k, SSRC_A, MR_SRTP_INBOUND, NULL);
	win = twin_wrapper_new(&k, SSRC_A, MR_SRTP_INBOUND);
	assert_non_null(out);
	assert_non_null(in);
	assert_non_null(win);
	for (rtcp = 0; rtcp < 2; rtcp++) {
		glen = rtcp ? (uint32_t)mr_test_rtcp(pkt, SSRC_A, 3, 8) :
			      (uint32_t)make_rtp_ext(pkt, 2, SSRC_A, 1, 1, 16);
		assert_int_equal(run1(out, MR_SMB_PROTECT, rtcp, pkt, &glen, sizeof(pkt)), 0);
		for (cut = 0; cut < glen; cut++) {
			h = malloc(cut ? cut : 1);
			assert_non_null(h);
			memcpy(h, pkt, cut);
			memcpy(copy, pkt, cut);
			len = cut;
			st = run1(in, (uint8_t)(cut % 2 ? MR_SMB_VERIFY : MR_SMB_UNPROTECT), rtcp, h,
				  &len, cut);
			assert_true(st < 0);
			assert_int_equal(len, cut);
			assert_memory_equal(h, copy, cut);
			wlen = cut;
			wst = rtcp ? mr_srtcp_unprotect(win, copy, &wlen) :
				     mr_srtp_unprotect(win, copy, &wlen);
			assert_int_equal(st, wst);
			free(h);
		}
		/* protect into exactly the room needed, and one byte less */
		for (cut = rtcp ? 8 : 12;
		     cut < glen - (rtcp ? mr_test_rtcp_trailer(&k) : mr_test_rtp_trailer(&k));
		     cut += 7) {
			room = cut + (rtcp ? mr_test_rtcp_trailer(&k) : mr_test_rtp_trailer(&k));
			if (rtcp) {
				mr_test_rtcp(copy, SSRC_A, 3, 0);
				memset(copy + 8, 0x3c, cut - 8);
			} else {
				mr_test_rtp(copy, (uint16_t)(1000 + cut), SSRC_A, cut - 12);
			}
			h = malloc(room);
			assert_non_null(h);
			memcpy(h, copy, cut);
			len = cut;
			assert_int_equal(run1(out, MR_SMB_PROTECT, rtcp, h, &len, room - 1), -EMSGSIZE);
			assert_int_equal(run1(out, MR_SMB_PROTECT, rtcp, h, &len, room), 0);
			assert_int_equal(len, room);
			assert_int_equal(run1(in, MR_SMB_UNPROTECT, rtcp, h, &len, len), 0);
			assert_int_equal(len, cut);
			free(h);
		}
	}
	mr_smb_ctx_free(out);
	mr_smb_ctx_free(in);
	mr_srtp_ctx_free(win);
}

/*
 * Make-before-break: a packet is tried on the old key generation, fails,
 * and is then unprotected with the new one from the same bytes. With every
 * suite (AEAD decrypts in place and is put back), also for packets over
 * the engine's 2 KiB verify buffer (AEAD verify then decrypts in place and
 * is put back too).
 */
static void
other_generation(void **state)
{
	const struct mr_test_srtp_param *pa = *state;
	struct mr_key_gen k_old = mr_test_key(pa->suite, pa->mki_len, 0x01);
	struct mr_key_gen k_new = mr_test_key(pa->suite, pa->mki_len, 0x02);
	static uint8_t pkts[4][TWIN_PKT_MAX], plain[4][TWIN_PKT_MAX], copy[4][TWIN_PKT_MAX];
	static const uint32_t sizes[4] = { 12, 200, 2040, 3900 };
	struct mr_smb_ctx *tx, *rx_old, *rx_new;
	struct mr_smb_op ops[4];
	uint32_t plen[4];
	unsigned int i, pass;

	struct mr_smb_stats before, after;

	mr_smb_engine_stats(eng, &before);
	tx = mr_smb_ctx_new(&k_new, SSRC_A, MR_SRTP_OUTBOUND, NULL);
	rx_old = mr_smb_ctx_new(&k_old, SSRC_A, MR_SRTP_INBOUND, NULL);
	rx_new = mr_smb_ctx_new(&k_new, SSRC_A, MR_SRTP_INBOUND, NULL);
	assert_non_null(tx);
	assert_non_null(rx_old);
	assert_non_null(rx_new);
	for (i = 0; i < 4; i++) {
		plen[i] = (uint32_t)mr_test_rtp(plain[i], (uint16_t)(7 + i), SSRC_A, sizes[i] - 12);
		memcpy(pkts[i], plain[i], plen[i]);
		ops[i] = (struct mr_smb_op){ .ctx = tx, .pkt = pkts[i], .len = plen[i],
					     .cap = TWIN_PKT_MAX, .kind = MR_SMB_PROTECT };
	}
	mr_smb_run(eng, ops, 4);
	for (pass = 0; pass < 3; pass++) {
		for (i = 0; i < 4; i++) {
			assert_int_equal(ops[i].status, 0);
			memcpy(copy[i], pkts[i], ops[i].len);
			ops[i].ctx = pass == 2 ? rx_new : rx_old;
			ops[i].kind = pass == 1 ? MR_SMB_UNPROTECT : MR_SMB_VERIFY;
			if (pass == 2)
				ops[i].kind = i % 2 ? MR_SMB_VERIFY : MR_SMB_UNPROTECT;
		}
		mr_smb_run(eng, ops, 4);
		for (i = 0; i < 4 && pass < 2; i++) {
			assert_int_equal(ops[i].status, -EBADMSG);
			assert_memory_equal(pkts[i], copy[i], ops[i].len);
			ops[i].status = 0;
		}
	}
	mr_smb_engine_stats(eng, &after);
	/*
	 * Put back after an in-place decrypt: the three non-empty unprotects
	 * that failed; with AEAD also the big verifies (pass 0 and 2).
	 */
	assert_int_equal(after.undone - before.undone, twin_aead(k_old.suite) ? 3 + 1 + 1 : 3);
	for (i = 0; i < 4; i++) {
		assert_int_equal(ops[i].status, 0);
		if (i % 2) {
			assert_memory_equal(pkts[i], copy[i], ops[i].len);     /* verify */
		} else {
			assert_int_equal(ops[i].len, plen[i]);
			assert_memory_equal(pkts[i], plain[i], plen[i]);
		}
	}
	mr_smb_ctx_free(tx);
	mr_smb_ctx_free(rx_old);
	mr_smb_ctx_free(rx_new);
}

/*
 * The 1024-packet window at its edges and the SRTCP 128-index window,
 * against the wrapper: d = 1023 behind the highest is taken, d = 1024 is
 * not; a repeat transmission inside the window is refused outbound while
 * an unused older index is protected.
 */
static void
window_edges(void **state)
{
	const struct mr_test_srtp_param *pa = *state;
	struct mr_key_gen k = mr_test_key(pa->suite, pa->mki_len, 0x2c);
	static uint8_t plain[8][TWIN_PKT_MAX], prot[4000][64];
	static struct twin_result r;
	static uint32_t prot_len[4000];
	struct twin_stream st[2];
	struct twin_op ops[8];
	unsigned int i, j;
	uint16_t seqs[8] = { 2999, 1, 1976, 1975, 1974, 1975, 3500, 2000 };

	assert_true(twin_stream_init(&st[0], &k, SSRC_A, MR_SRTP_OUTBOUND));
	assert_true(twin_stream_init(&st[1], &k, SSRC_A, MR_SRTP_INBOUND));
	/* outbound: 0..2999 except a few, in bursts of 60 */
	for (i = 0; i < 3000; i += 50) {
		for (j = 0; j < 50; j++) {
			uint32_t len = (uint32_t)mr_test_rtp(plain[0], (uint16_t)(i + j), SSRC_A, 4);

			ops[0] = (struct twin_op){ .stream = 0, .kind = MR_SMB_PROTECT, .in = plain[0],
						   .len = len, .cap = TWIN_PKT_MAX };
			twin_check(st, ops, 1, &r);
			assert_int_equal(r.status[0], 0);
			memcpy(prot[i + j], r.out[0], r.len[0]);
			prot_len[i + j] = r.len[0];
		}
	}
	/* outbound, again: 2999 repeat, 1 too old, 1976 repeat... all refused */
	for (i = 0; i < 4; i++) {
		uint32_t len = (uint32_t)mr_test_rtp(plain[i], seqs[i], SSRC_A, 4);

		ops[i] = (struct twin_op){ .stream = 0, .kind = MR_SMB_PROTECT, .in = plain[i],
					   .len = len, .cap = TWIN_PKT_MAX };
	}
	twin_check(st, ops, 4, &r);
	for (i = 0; i < 4; i++)
		assert_int_equal(r.status[i], -EALREADY);
	/* inbound: 2999 first; then 1976 (d = 1023) ok, 1975 (d = 1024) old */
	for (i = 0; i < 8; i++)
		ops[i] = (struct twin_op){ .stream = 1, .kind = MR_SMB_UNPROTECT,
					   .in = prot[seqs[i] % 3000],
					   .len = prot_len[seqs[i] % 3000] };
	ops[6].in = prot[2998];
	ops[6].len = prot_len[2998];
	twin_check(st, ops, 8, &r);
	assert_int_equal(r.status[0], 0);
	assert_int_equal(r.status[1], -EALREADY);
	assert_int_equal(r.status[2], 0);
	assert_int_equal(r.status[3], -EALREADY);
	assert_int_equal(r.status[4], -EALREADY);
	assert_int_equal(r.status[6], 0);
	assert_int_equal(r.status[7], 0);
	twin_stream_fini(&st[0]);
	twin_stream_fini(&st[1]);
}

/*
 * Sequence numbers that jump: by 2^15 - 1, 2^15 and 2^15 + 1 (the edges of
 * RFC 3711's estimate), forward at ROC 0 by more than 2^15 (libsrtp's "no
 * ROC -1" rule), across the wrap, back by the same, and by more than the
 * window (which then empties): protected and delivered, each op through
 * the wrapper too, in bursts of one and of all.
 */
static void
jumps(void **state)
{
	const struct mr_test_srtp_param *pa = *state;
	struct mr_key_gen k = mr_test_key(pa->suite, pa->mki_len, 0x7a);
	static const uint16_t seqs[] = {
		10, 40000, 40001, 7232, 7233, 7231, 39999, 50000, 65535, 0, 17231, 17232,
		50000, 1, 17233, 49999, 2000, 3100, 3099, 35868, 3101, 35867, 65000, 100,
	};
	static uint8_t plain[32][TWIN_PKT_MAX], prot[32][TWIN_PKT_MAX];
	static struct twin_result r;
	struct twin_stream st[2];
	struct twin_op ops[32];
	uint32_t plen[32];
	unsigned int i, n = sizeof(seqs) / sizeof(seqs[0]), burst;

	for (burst = 0; burst < 2; burst++) {
		assert_true(twin_stream_init(&st[0], &k, SSRC_A, MR_SRTP_OUTBOUND));
		assert_true(twin_stream_init(&st[1], &k, SSRC_A, MR_SRTP_INBOUND));
		for (i = 0; i < n; i++) {
			uint32_t len = (uint32_t)mr_test_rtp(plain[i], seqs[i], SSRC_A, 20);

			ops[i] = (struct twin_op){ .stream = 0, .kind = MR_SMB_PROTECT, .in = plain[i],
						   .len = len, .cap = TWIN_PKT_MAX };
			if (!burst)
				twin_check(st, &ops[i], 1, &r);
			if (!burst) {
				memcpy(prot[i], r.out[0], r.len[0]);
				plen[i] = r.status[0] == 0 ? r.len[0] : 0;
			}
		}
		if (burst) {
			twin_check(st, ops, n, &r);
			for (i = 0; i < n; i++) {
				memcpy(prot[i], r.out[i], r.len[i]);
				plen[i] = r.status[i] == 0 ? r.len[i] : 0;
			}
		}
		for (i = 0; i < n; i++) {
			ops[i] = (struct twin_op){ .stream = 1, .in = prot[i], .len = plen[i],
						   .kind = i % 4 == 3 ? MR_SMB_VERIFY : MR_SMB_UNPROTECT };
			if (plen[i] == 0) {     /* refused outbound: deliver its plain bytes */
				ops[i].in = plain[i];
				ops[i].len = 12 + 20;
			}
			if (!burst)
				twin_check(st, &ops[i], 1, &r);
		}
		if (burst)
			twin_check(st, ops, n, &r);
		twin_stream_fini(&st[0]);
		twin_stream_fini(&st[1]);
	}
}

/* ---- 6. bursts -------------------------------------------------------------- */

/*
 * Bursts that mix six streams of every suite, both directions, SRTP and
 * SRTCP, good and bad packets, against the wrapper op for op.
 */
static void
mixed_bursts(void **state)
{
	static uint8_t plain[MR_SMB_BURST_MAX][TWIN_PKT_MAX];
	static uint8_t pend[6][MR_SMB_BURST_MAX][TWIN_PKT_MAX];
	static uint32_t pend_len[6][MR_SMB_BURST_MAX];
	static bool pend_rtcp[6][MR_SMB_BURST_MAX];
	static struct twin_result r;
	struct twin_stream st[12];
	struct twin_op ops[MR_SMB_BURST_MAX];
	unsigned int npend[6] = { 0 }, s, i, n, round;
	uint16_t seq[6];
	uint32_t rtcp_n[6] = { 0 };
	struct mr_key_gen k;

	(void)state;
	rng_state = 0xfeedfaceull;
	for (s = 0; s < 6; s++) {
		k = mr_test_key(mr_test_suites[s], (uint8_t)(s % 2 ? 4 : 0), (uint8_t)(0x70 + s));
		assert_true(twin_stream_init(&st[2 * s], &k, 0x1000u + s, MR_SRTP_OUTBOUND));
		assert_true(twin_stream_init(&st[2 * s + 1], &k, 0x1000u + s, MR_SRTP_INBOUND));
		seq[s] = (uint16_t)(65535u - 40 * s);
	}
	for (round = 0; round < 150; round++) {
		n = 1 + below(MR_SMB_BURST_MAX);
		for (i = 0; i < n; i++) {
			s = below(6);
			if (npend[s] != 0 && below(2)) {
				/* deliver something protected earlier, maybe spoiled */
				unsigned int j = below(npend[s]);
				uint8_t *p = pend[s][j];

				if (below(10) == 0)
					p[below(pend_len[s][j])] ^= 0x08;
				ops[i] = (struct twin_op){ .stream = 2 * s + 1, .rtcp = pend_rtcp[s][j],
							   .in = p, .len = pend_len[s][j],
							   .kind = below(2) ? MR_SMB_VERIFY : MR_SMB_UNPROTECT };
				if (below(3) != 0) {    /* consumed, unless replayed later */
					pend_len[s][j] = pend_len[s][npend[s] - 1];
					pend_rtcp[s][j] = pend_rtcp[s][npend[s] - 1];
					memcpy(pend[s][j], pend[s][npend[s] - 1], TWIN_PKT_MAX);
					npend[s]--;
					/* the op must keep its bytes: copy them aside */
					memcpy(plain[i], p == pend[s][j] ? pend[s][j] : p, TWIN_PKT_MAX);
				}
				memcpy(plain[i], ops[i].in, ops[i].len);
				ops[i].in = plain[i];
				continue;
			}
			if (below(6) == 0)
				ops[i].len = (uint32_t)mr_test_rtcp(plain[i], 0x1000u + s, ++rtcp_n[s],
								    4u * below(20));
			else
				ops[i].len = (uint32_t)mr_test_rtp(plain[i],
								   seq[s] += (uint16_t)(below(20) ? 1 : 500),
								   0x1000u + s, below(1300));
			ops[i] = (struct twin_op){ .stream = 2 * s, .kind = MR_SMB_PROTECT,
						   .rtcp = plain[i][1] == 200, .in = plain[i],
						   .len = ops[i].len, .cap = TWIN_PKT_MAX };
		}
		twin_check(st, ops, n, &r);
		for (i = 0; i < n; i++) {
			s = ops[i].stream / 2;
			if (ops[i].kind == MR_SMB_PROTECT && r.status[i] == 0 &&
			    npend[s] < MR_SMB_BURST_MAX) {
				memcpy(pend[s][npend[s]], r.out[i], r.len[i]);
				pend_len[s][npend[s]] = r.len[i];
				pend_rtcp[s][npend[s]] = ops[i].rtcp;
				npend[s]++;
			}
		}
	}
	for (s = 0; s < 12; s++)
		twin_stream_fini(&st[s]);
}

/*
 * Bursts whose ops on one context depend on each other, with explicit
 * outcomes (the wrapper agrees: checked through the twin where it can be):
 *  - the same packet twice: 0 then -EALREADY;
 *  - a forgery carrying a sequence number, then the genuine packet with it
 *    in the same burst: -EBADMSG then 0 (decided as a replay against the
 *    forgery assumed good, then redone);
 *  - a forgery far ahead, then a genuine late packet whose ROC would be
 *    one more had the forgery passed: the genuine one passes (its crypto
 *    redone with the right ROC), on an inbound context resumed at
 *    (1, 0x7000) against a libsrtp sender at ROC 1.
 */
static void
dependent_ops(void **state)
{
	const struct mr_test_srtp_param *pa = *state;
	struct mr_key_gen k = mr_test_key(pa->suite, pa->mki_len, 0x5e);
	struct mr_srtp_resume res = { .roc = 1, .seq_hi = 0x6fff, .valid = true };
	struct mr_smb_stats before, after;
	static uint8_t plain[4][TWIN_PKT_MAX], prot[4][TWIN_PKT_MAX];
	uint8_t pkt[4][PKT_MAX], ref[PKT_MAX];
	static struct twin_result r;
	struct twin_stream st[2];
	struct twin_op ops[4];
	struct mr_smb_op mops[4];
	struct mr_smb_ctx *c;
	uint32_t len, plen[4], i, roc;
	uint16_t seq;
	srtp_t tx;
	int n;

	assert_true(twin_stream_init(&st[0], &k, SSRC_A, MR_SRTP_OUTBOUND));
	assert_true(twin_stream_init(&st[1], &k, SSRC_A, MR_SRTP_INBOUND));
	for (i = 0; i < 2; i++) {
		len = (uint32_t)mr_test_rtp(plain[i], (uint16_t)(40 + i), SSRC_A, 30);
		ops[i] = (struct twin_op){ .stream = 0, .kind = MR_SMB_PROTECT, .in = plain[i],
					   .len = len, .cap = TWIN_PKT_MAX };
	}
	twin_check(st, ops, 2, &r);
	for (i = 0; i < 2; i++) {
		memcpy(prot[i], r.out[i], r.len[i]);
		plen[i] = r.len[i];
	}
	memcpy(prot[2], prot[1], plen[1]);
	prot[2][20] ^= 1;                               /* forged seq 41 (payload) */
	ops[0] = (struct twin_op){ .stream = 1, .kind = MR_SMB_UNPROTECT, .in = prot[0], .len = plen[0] };
	ops[1] = (struct twin_op){ .stream = 1, .kind = MR_SMB_VERIFY, .in = prot[0], .len = plen[0] };
	ops[2] = (struct twin_op){ .stream = 1, .kind = MR_SMB_UNPROTECT, .in = prot[2], .len = plen[1] };
	ops[3] = (struct twin_op){ .stream = 1, .kind = MR_SMB_UNPROTECT, .in = prot[1], .len = plen[1] };
	mr_smb_engine_stats(eng, &before);
	twin_check(st, ops, 4, &r);
	mr_smb_engine_stats(eng, &after);
	assert_int_equal(after.redone - before.redone, 1);     /* the genuine 41, after the forgery */
	assert_int_equal(r.status[0], 0);
	assert_int_equal(r.status[1], -EALREADY);
	assert_int_equal(r.status[2], -EBADMSG);
	assert_int_equal(r.status[3], 0);
	twin_stream_fini(&st[0]);
	twin_stream_fini(&st[1]);

	/* the ROC case */
	tx = peer_new(&k, SSRC_A, false);
	assert_int_equal(srtp_set_stream_roc(tx, SSRC_A, 1), srtp_err_status_ok);
	c = mr_smb_ctx_new(&k, SSRC_A, MR_SRTP_INBOUND, &res);
	assert_non_null(c);
	for (i = 0; i < 2; i++) {           /* 0x6f00 (held back), 0x7000 */
		plen[i] = (uint32_t)mr_test_rtp(plain[i], (uint16_t)(i ? 0x7000 : 0x6f00), SSRC_A, 77);
		memcpy(pkt[i], plain[i], plen[i]);
		n = (int)plen[i];
		assert_int_equal(srtp_protect_mki(tx, pkt[i], &n, k.mki_len != 0, 0), srtp_err_status_ok);
		plen[i + 2] = (uint32_t)n;
	}
	len = plen[3];
	assert_int_equal(run1(c, MR_SMB_UNPROTECT, false, pkt[1], &len, len), 0);
	mr_smb_ctx_state(c, &roc, &seq, NULL);
	assert_int_equal(roc, 1);
	assert_int_equal(seq, 0x7000);
	/* the forgery: 0xf000, a jump of 0x8000 forward if it passed */
	memcpy(ref, pkt[0], plen[2]);
	ref[2] = 0xf0;
	ref[3] = 0x00;
	mops[0] = (struct mr_smb_op){ .ctx = c, .pkt = ref, .len = plen[2], .kind = MR_SMB_UNPROTECT };
	mops[1] = (struct mr_smb_op){ .ctx = c, .pkt = pkt[0], .len = plen[2],
				      .kind = MR_SMB_UNPROTECT };
	mr_smb_engine_stats(eng, &before);
	mr_smb_run(eng, mops, 2);
	mr_smb_engine_stats(eng, &after);
	assert_int_equal(after.redone - before.redone, 1);     /* ROC 2 first, then 1 */
	assert_int_equal(after.bursts - before.bursts, 1);
	assert_int_equal(mops[0].status, -EBADMSG);
	assert_int_equal(mops[1].status, 0);
	assert_int_equal(mops[1].len, plen[0]);
	assert_memory_equal(pkt[0], plain[0], plen[0]);
	mr_smb_ctx_state(c, &roc, &seq, NULL);
	assert_int_equal(roc, 1);
	assert_int_equal(seq, 0x7000);
	mr_smb_ctx_free(c);
	srtp_dealloc(tx);
}

/*
 * A burst of 64 on one stream where forgeries and genuine packets with the
 * same sequence numbers alternate (forged 100, genuine 100, forged 101,
 * genuine 101, ...), and one where 32 forgeries come first: every genuine
 * packet passes, every forgery fails, as op after op through the wrapper;
 * and the crypto work stays linear (failed verdicts are remembered across
 * rounds, and rounds stop speculating after a few).
 */
static void
adversarial_burst(void **state)
{
	const struct mr_test_srtp_param *pa = *state;
	struct mr_key_gen k = mr_test_key(pa->suite, pa->mki_len, 0x4f);
	static uint8_t plain[MR_SMB_BURST_MAX][TWIN_PKT_MAX], prot[MR_SMB_BURST_MAX][TWIN_PKT_MAX],
		forged[MR_SMB_BURST_MAX][TWIN_PKT_MAX];
	static struct twin_result r;
	struct mr_smb_stats before, after;
	struct twin_stream st[2];
	struct twin_op ops[MR_SMB_BURST_MAX];
	uint32_t plen[MR_SMB_BURST_MAX];
	unsigned int i, layout;

	for (layout = 0; layout < 2; layout++) {
		assert_true(twin_stream_init(&st[0], &k, SSRC_A, MR_SRTP_OUTBOUND));
		assert_true(twin_stream_init(&st[1], &k, SSRC_A, MR_SRTP_INBOUND));
		for (i = 0; i < 32; i++) {
			uint32_t len = (uint32_t)mr_test_rtp(plain[i], (uint16_t)(100 + i), SSRC_A, 60);

			ops[i] = (struct twin_op){ .stream = 0, .kind = MR_SMB_PROTECT, .in = plain[i],
						   .len = len, .cap = TWIN_PKT_MAX };
		}
		twin_check(st, ops, 32, &r);
		for (i = 0; i < 32; i++) {
			memcpy(prot[i], r.out[i], r.len[i]);
			memcpy(forged[i], r.out[i], r.len[i]);
			forged[i][30] ^= 0x20;
			plen[i] = r.len[i];
		}
		for (i = 0; i < 64; i++) {
			unsigned int q = layout ? i % 32 : i / 2;
			bool bad = layout ? i < 32 : i % 2 == 0;

			ops[i] = (struct twin_op){ .stream = 1, .in = bad ? forged[q] : prot[q],
						   .len = plen[q],
						   .kind = i % 3 ? MR_SMB_UNPROTECT : MR_SMB_VERIFY };
		}
		mr_smb_engine_stats(eng, &before);
		twin_check(st, ops, 64, &r);
		mr_smb_engine_stats(eng, &after);
		for (i = 0; i < 64; i++) {
			bool bad = layout ? i < 32 : i % 2 == 0;

			assert_int_equal(r.status[i], bad ? -EBADMSG : 0);
		}
		/* at most two jobs an op, undo jobs included */
		assert_true(after.jobs - before.jobs <= 2u * 64u + 64u);
		print_message("layout %u: %llu jobs, %llu redone, %llu undone\n", layout,
			      (unsigned long long)(after.jobs - before.jobs),
			      (unsigned long long)(after.redone - before.redone),
			      (unsigned long long)(after.undone - before.undone));
		twin_stream_fini(&st[0]);
		twin_stream_fini(&st[1]);
	}
}

/*
 * libsrtp 2.5's NSS AEAD backend limits AAD to 2048 bytes. An RTP header
 * above it: protect fails (-EINVAL) and the index is used up; unprotect
 * fails. An unencrypted SRTCP packet whose AAD ends just past it: libsrtp
 * fails it and keeps stale AAD, so every later SRTCP packet of the stream
 * fails too (the wrapper's); the engine fails only that one.
 */
static void
aead_aad_limits(void **state)
{
	static uint8_t plain[4][TWIN_PKT_MAX], bad[TWIN_PKT_MAX], good[TWIN_PKT_MAX];
	static struct twin_result r;
	struct mr_key_gen k = mr_test_key(MR_SUITE_AEAD_AES_128_GCM, 0, 0x33);
	struct twin_stream st[2];
	struct twin_op ops[4];
	uint32_t len, glen;
	srtp_t peer;
	int n;

	(void)state;
	assert_true(twin_stream_init(&st[0], &k, SSRC_A, MR_SRTP_OUTBOUND));
	assert_true(twin_stream_init(&st[1], &k, SSRC_A, MR_SRTP_INBOUND));
	len = (uint32_t)make_rtp_ext(plain[0], 5, SSRC_A, 2, 510, 10);     /* 2060-byte header */
	ops[0] = (struct twin_op){ .stream = 0, .kind = MR_SMB_PROTECT, .in = plain[0], .len = len,
				   .cap = TWIN_PKT_MAX };
	ops[1] = ops[0];
	len = (uint32_t)make_rtp_ext(plain[1], 6, SSRC_A, 2, 500, 10);     /* 2020: fine */
	ops[2] = (struct twin_op){ .stream = 0, .kind = MR_SMB_PROTECT, .in = plain[1], .len = len,
				   .cap = TWIN_PKT_MAX };
	twin_check(st, ops, 3, &r);
	assert_int_equal(r.status[0], -EINVAL);
	assert_int_equal(r.status[1], -EALREADY);       /* the index was used up */
	assert_int_equal(r.status[2], 0);

	/*
	 * SRTCP, E = 0, 2048 bytes before the tag: AAD 2052. No libsrtp sender
	 * makes it (its own AAD fails), so it is written here; it fails before
	 * the tag is looked at. The good packet comes from an auth-only peer.
	 */
	len = (uint32_t)mr_test_rtcp(bad, SSRC_B, 1, 2048 - 28);
	memset(bad + len, 0x77, 16);
	mr_test_wr_be32(bad + len + 16, 1);                     /* E = 0, index 1 */
	peer = peer_new(&k, SSRC_B, true);
	len = (uint32_t)mr_test_rtcp(good, SSRC_B, 2, 0);
	n = (int)len;
	assert_int_equal(srtp_protect_rtcp(peer, good, &n), srtp_err_status_ok);
	glen = (uint32_t)n;
	twin_stream_fini(&st[1]);
	assert_true(twin_stream_init(&st[1], &k, SSRC_B, MR_SRTP_INBOUND));
	ops[0] = (struct twin_op){ .stream = 1, .kind = MR_SMB_UNPROTECT, .rtcp = true, .in = bad,
				   .len = 2048 + 20 };
	ops[1] = (struct twin_op){ .stream = 1, .kind = MR_SMB_UNPROTECT, .rtcp = true, .in = good,
				   .len = glen };
	twin_check(st, ops, 2, &r);
	assert_int_equal(r.status[0], -EINVAL);
	assert_int_equal(r.status[1], 0);
	assert_true(st[1].rtcp_off);    /* the wrapper failed it: poisoned */
	srtp_dealloc(peer);
	twin_stream_fini(&st[0]);
	twin_stream_fini(&st[1]);
}

/* ---- 7. the rest of the contract -------------------------------------------- */

static unsigned int n_alloc, n_release;

static struct {
	void *p;
	size_t size;
} given[4];

static void *
count_alloc(size_t align, size_t size)
{
	unsigned int i;

	n_alloc++;
	assert_int_equal(align, 64);
	assert_int_equal(size % 64, 0);
	for (i = 0; i < 4; i++) {
		if (given[i].p == NULL) {
			given[i].p = aligned_alloc(align, size);
			given[i].size = size;
			return given[i].p;
		}
	}
	fail_msg("more than 4 contexts live");
	return NULL;
}

/* The size handed back is the one allocated (the slab files objects by it). */
static void
count_release(void *p, size_t size)
{
	unsigned int i;

	n_release++;
	for (i = 0; i < 4; i++) {
		if (given[i].p == p) {
			assert_int_equal(given[i].size, size);
			given[i].p = NULL;
			free(p);
			return;
		}
	}
	fail_msg("released what was not allocated");
}

/* mr_smb_set_allocator(): contexts come from it and go back to it, sized by suite. */
static void
allocator(void **state)
{
	struct mr_key_gen k;
	struct mr_smb_ctx *c[2];
	size_t i;

	(void)state;
	mr_smb_set_allocator(count_alloc, count_release);
	for (i = 0; i < MR_TEST_N_SUITES; i++) {
		k = mr_test_key(mr_test_suites[i], 4, 3);
		c[0] = mr_smb_ctx_new(&k, 1, MR_SRTP_OUTBOUND, NULL);
		c[1] = mr_smb_ctx_new(&k, 1, MR_SRTP_INBOUND, NULL);
		assert_non_null(c[0]);
		assert_non_null(c[1]);
		mr_smb_ctx_free(c[0]);
		mr_smb_ctx_free(c[1]);
	}
	assert_int_equal(n_alloc, 2 * MR_TEST_N_SUITES);
	assert_int_equal(n_release, 2 * MR_TEST_N_SUITES);
	mr_smb_set_allocator(NULL, NULL);       /* back to the C library */
	c[0] = mr_smb_ctx_new(&k, 1, MR_SRTP_OUTBOUND, NULL);
	assert_non_null(c[0]);
	mr_smb_ctx_free(c[0]);
	assert_int_equal(n_alloc, 2 * MR_TEST_N_SUITES);
}

static void
basics(void **state)
{
	struct mr_key_gen k;
	uint8_t pkt[PKT_MAX];
	struct mr_smb_op op;
	size_t i;

	(void)state;
	for (i = 0; i < MR_TEST_N_SUITES; i++)
		assert_true(mr_smb_suite_supported(mr_test_suites[i]));
	assert_false(mr_smb_suite_supported(MR_SUITE_NONE));
	assert_false(mr_smb_suite_supported(MR_SUITE_MAX));
	assert_string_equal(mr_smb_engine_arch(eng), smb_arch_name(eng->mgr->used_arch));
	print_message("intel-ipsec-mb %s, code path %s\n", imb_get_version_str(),
		      mr_smb_engine_arch(eng));
	for (i = 0; i < MR_TEST_N_SUITES; i++) {
		k = mr_test_key(mr_test_suites[i], 0, 1);
		k.key_len--;
		errno = 0;
		assert_null(mr_smb_ctx_new(&k, 1, MR_SRTP_OUTBOUND, NULL));
		assert_int_equal(errno, EINVAL);
		assert_string_not_equal(mr_smb_last_error(), "");
		k = mr_test_key(mr_test_suites[i], 0, 1);
		k.salt_len = twin_aead(k.suite) ? 14 : 12;
		assert_null(mr_smb_ctx_new(&k, 1, MR_SRTP_OUTBOUND, NULL));
		k = mr_test_key(mr_test_suites[i], 0, 1);
		k.mki_len = MR_MKI_MAX_BYTES + 1;
		assert_null(mr_smb_ctx_new(&k, 1, MR_SRTP_INBOUND, NULL));
		k = mr_test_key(mr_test_suites[i], 0, 1);
		assert_null(mr_smb_ctx_new(&k, 1, (enum mr_srtp_dir)2, NULL));
	}
	k.suite = MR_SUITE_NONE;
	assert_null(mr_smb_ctx_new(&k, 1, MR_SRTP_OUTBOUND, NULL));
	assert_null(mr_smb_ctx_new(NULL, 1, MR_SRTP_OUTBOUND, NULL));
	mr_smb_ctx_free(NULL);
	mr_smb_engine_free(NULL);
	/* an op without a context, and an unknown kind */
	op = (struct mr_smb_op){ .ctx = NULL, .pkt = pkt, .len = 20, .cap = PKT_MAX };
	mr_smb_run(eng, &op, 1);
	assert_int_equal(op.status, -EINVAL);
	mr_smb_run(eng, &op, 0);
}

/* ---- main ------------------------------------------------------------------ */

static int
group_setup(void **state)
{
	(void)state;
	if (mr_srtp_init() < 0)
		return -1;
	eng = mr_smb_engine_new();
	if (eng == NULL)
		return -1;
	smb_engine_check_jobs(eng, true);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	mr_smb_engine_free(eng);
	return srtp_shutdown() == srtp_err_status_ok ? 0 : -1;
}

static const struct mr_test_srtp_case per_param[] = {
	{ "diff_wrapper", diff_wrapper },
	{ "vs_libsrtp", vs_libsrtp },
	{ "resume", resume },
	{ "failures", failures },
	{ "truncated", truncated },
	{ "other_generation", other_generation },
	{ "window_edges", window_edges },
	{ "jumps", jumps },
	{ "dependent_ops", dependent_ops },
	{ "adversarial_burst", adversarial_burst },
};

static const struct CMUnitTest single[] = {
	cmocka_unit_test(basics),
	cmocka_unit_test(allocator),
	cmocka_unit_test(rfc_kdf),
	cmocka_unit_test(libsrtp_known_answers),
	cmocka_unit_test(rfc7714_vectors),
	cmocka_unit_test(aead_srtcp_unencrypted),
	cmocka_unit_test(resume_limits),
	cmocka_unit_test(mixed_bursts),
	cmocka_unit_test(aead_aad_limits),
};

#define N_SINGLE (sizeof(single) / sizeof(single[0]))
#define N_PER_PARAM (sizeof(per_param) / sizeof(per_param[0]))
#define N_TESTS (N_SINGLE + N_PER_PARAM * MR_TEST_N_PARAMS)

int
main(void)
{
	static char names[N_TESTS][MR_TEST_NAME_MAX];
	static struct CMUnitTest tests[N_TESTS];
	size_t n = 0, i;

	for (i = 0; i < N_SINGLE; i++)
		tests[n++] = single[i];
	n += mr_test_srtp_cases(tests + n, names + n, per_param, N_PER_PARAM);
	return _cmocka_run_group_tests("srtp_mb", tests, n, group_setup, group_teardown);
}
