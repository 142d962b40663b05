/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Differential fuzz target: the burst SRTP engine (srtp_mb.h) against the
 * libsrtp wrapper (srtp.h). The input is a small program: two stream pairs
 * (an outbound and an inbound context with the same key, suites and MKI
 * chosen by the input), then commands that protect RTP and RTCP, deliver
 * what was protected (unprotect or verify, spoiled or not, replayed, to
 * the wrong pair), feed raw input bytes as packets, and end bursts. Each
 * burst runs through both (tests/srtp_twin.h); any difference in status,
 * bytes or state, or an engine packet changed by a failed op, aborts.
 *
 * Input layout (tests/fuzz/make_corpus.py writes seeds in it):
 *   [0] suite A (index, mod 6)  [1] MKI length A (mod 9)  [2] key seed A
 *   [3] suite B                 [4] MKI length B          [5] key seed B
 *   then commands, one byte each plus operands (pair = bit 3 of the byte):
 *     0 protect RTP:   seq step (int8), payload/8, header (CC 0-3, ext words
 *                      0-7, marker), room (0: plenty, else len + n - 1)
 *     1 protect RTCP:  extra/4
 *     2 deliver:       pool slot, how (bit 0 verify, bits 1-3 spoil, bit 4
 *                      other pair), spoil operand
 *     3 raw inbound:   length, kind, then that many bytes
 *     4 raw protect:   length, then that many bytes
 *     5 end of burst
 *     6 protect RTP, long: seq step, payload/16 (up to 4 KiB)
 *     7 deliver twice in a row (a duplicate inside the burst)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srtp.h"
#include "srtp_mb.h"
#include "smb_engine.h"
#include "../srtp_twin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define POOL 32u
#define MAX_OPS_PER_INPUT 512u

static const uint8_t suites[6] = {
	MR_SUITE_AES_CM_128_HMAC_SHA1_80, MR_SUITE_AES_CM_128_HMAC_SHA1_32,
	MR_SUITE_AES_256_CM_HMAC_SHA1_80, MR_SUITE_AES_256_CM_HMAC_SHA1_32,
	MR_SUITE_AEAD_AES_128_GCM, MR_SUITE_AEAD_AES_256_GCM,
};

struct reader {
	const uint8_t *p;
	size_t n;
};

static uint8_t
take(struct reader *r)
{
	if (r->n == 0)
		return 0;
	r->n--;
	return *r->p++;
}

struct pool_pkt {
	unsigned int pair;
	bool rtcp;
	uint32_t len;
	uint8_t b[TWIN_PKT_MAX];
};

struct run {
	struct mr_smb_engine *e;
	struct twin_stream st[4];       /* pair p: 2p outbound, 2p + 1 inbound */
	uint16_t seq[2];
	uint32_t rtcp_n[2];
	struct twin_op ops[MR_SMB_BURST_MAX];
	uint8_t in[MR_SMB_BURST_MAX][TWIN_PKT_MAX];
	unsigned int n;
	struct pool_pkt pool[POOL];
	unsigned int pool_n, pool_next;
	struct twin_result res;
};

static struct run R;
static struct mr_srtp_ctx *nss_keepalive;      /* see LLVMFuzzerTestOneInput() */

/* At exit, so leak checkers see only what an input leaked. */
static void
release(void)
{
	mr_srtp_ctx_free(nss_keepalive);
	mr_smb_engine_free(R.e);
	(void)srtp_shutdown();
}

static struct mr_key_gen
make_key(uint8_t suite_pick, uint8_t mki_pick, uint8_t seed)
{
	const struct mr_srtp_suite_info *si;
	struct mr_key_gen k;
	unsigned int i;

	memset(&k, 0, sizeof(k));
	k.suite = suites[suite_pick % 6];
	si = mr_srtp_suite(k.suite);
	k.key_len = si->key_len;
	k.salt_len = si->salt_len;
	k.mki_len = (uint8_t)(mki_pick % (MR_MKI_MAX_BYTES + 1));
	for (i = 0; i < MR_MKI_MAX_BYTES; i++)
		k.mki[i] = (uint8_t)(0xe0 + i + seed);
	for (i = 0; i < k.key_len; i++)
		k.key[i] = (uint8_t)(seed * 31u + i * 7u);
	for (i = 0; i < k.salt_len; i++)
		k.salt[i] = (uint8_t)(seed ^ (0x5a + i * 3u));
	return k;
}

static void
flush(void)
{
	char why[256];
	unsigned int i;

	if (R.n == 0)
		return;
	if (!twin_run(R.e, R.st, R.ops, R.n, &R.res, why, sizeof(why))) {
		fprintf(stderr, "fuzz_srtp_diff: %s\n", why);
		abort();
	}
	/* what was protected can be delivered by later bursts */
	for (i = 0; i < R.n; i++) {
		struct pool_pkt *pp;

		if (R.ops[i].kind != MR_SMB_PROTECT || R.res.status[i] != 0)
			continue;
		pp = &R.pool[R.pool_next];
		R.pool_next = (R.pool_next + 1) % POOL;
		if (R.pool_n < POOL)
			R.pool_n++;
		pp->pair = R.ops[i].stream / 2;
		pp->rtcp = R.ops[i].rtcp;
		pp->len = R.res.len[i];
		memcpy(pp->b, R.res.out[i], pp->len);
	}
	R.n = 0;
}

/* A new op whose packet is @len bytes at R.in[R.n] (already written). */
static void
add(unsigned int stream, uint8_t kind, bool rtcp, uint32_t len, uint32_t cap)
{
	R.ops[R.n] = (struct twin_op){ .stream = stream, .kind = kind, .rtcp = rtcp,
				       .in = R.in[R.n], .len = len, .cap = cap };
	if (++R.n == MR_SMB_BURST_MAX)
		flush();
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void
protect_rtp(struct reader *r, unsigned int pair, bool is_long)
{
	uint8_t *p = R.in[R.n];
	int8_t step = (int8_t)take(r);
	uint32_t payload = is_long ? 16u * take(r) : 8u * take(r), h = 12, i, room, len;
	uint8_t hb = is_long ? 0 : take(r), rb = is_long ? 0 : take(r);
	unsigned int cc = hb & 3u, ext = (hb >> 2) & 7u;

	R.seq[pair] = (uint16_t)(R.seq[pair] + step);
	p[0] = (uint8_t)(0x80 | cc | (ext ? 0x10 : 0));
	p[1] = (uint8_t)((hb & 0x80) | 96);
	p[2] = (uint8_t)(R.seq[pair] >> 8);
	p[3] = (uint8_t)R.seq[pair];
	put_be32(p + 4, R.seq[pair] * 160u);
	put_be32(p + 8, R.st[2 * pair].ssrc);
	for (i = 0; i < cc; i++, h += 4)
		put_be32(p + h, 0xc5c5c500u + i);
	if (ext) {
		p[h] = 0xbe;
		p[h + 1] = 0xde;
		p[h + 2] = 0;
		p[h + 3] = (uint8_t)ext;
		h += 4;
		memset(p + h, 0x21, 4u * ext);
		h += 4u * ext;
	}
	if (h + payload > TWIN_PKT_MAX - 64u)
		payload = TWIN_PKT_MAX - 64u - h;
	for (i = 0; i < payload; i++)
		p[h + i] = (uint8_t)(i * 11u + R.seq[pair]);
	len = h + payload;
	room = rb ? len + rb - 1u : TWIN_PKT_MAX;
	add(2 * pair, MR_SMB_PROTECT, false, len, room);
}

static void
protect_rtcp(struct reader *r, unsigned int pair)
{
	uint8_t *p = R.in[R.n];
	uint32_t extra = 4u * take(r), len = 28 + extra, i;

	p[0] = 0x80;
	p[1] = 200;
	p[2] = (uint8_t)((6 + extra / 4) >> 8);
	p[3] = (uint8_t)(6 + extra / 4);
	put_be32(p + 4, R.st[2 * pair].ssrc);
	R.rtcp_n[pair]++;
	for (i = 8; i < len; i++)
		p[i] = (uint8_t)(R.rtcp_n[pair] + i);
	add(2 * pair, MR_SMB_PROTECT, true, len, TWIN_PKT_MAX);
}

/* Spoil a delivered copy: @how bits 1-3 choose, @arg says where or how much. */
static uint32_t
spoil(uint8_t *p, uint32_t len, const struct pool_pkt *pp, uint8_t how, uint8_t arg)
{
	switch ((how >> 1) & 7u) {
	case 1:         /* one bit anywhere */
		p[arg % len] ^= (uint8_t)(1u << (arg % 8u));
		break;
	case 2:         /* shorter */
		return len > arg ? len - arg : 0;
	case 3:         /* another sequence number (RTP) or index (RTCP) */
		if (!pp->rtcp)
			p[3] = (uint8_t)(p[3] + arg);
		else if (len >= 4)
			p[len - 1] ^= arg;
		break;
	case 4:         /* a bit near the end: tag, MKI, E|index */
		p[len - 1 - arg % (len < 24 ? len : 24)] ^= (uint8_t)(0x80u >> (arg % 8u));
		break;
	case 5:         /* header bits: CC, X, P */
		p[0] ^= (uint8_t)(arg & 0x3f);
		break;
	default:
		break;
	}
	return len;
}

static void
deliver(struct reader *r, bool twice)
{
	uint8_t slot = take(r), how = take(r), arg = take(r);
	const struct pool_pkt *pp;
	unsigned int pair, k;
	uint32_t len;

	if (R.pool_n == 0)
		return;
	pp = &R.pool[slot % R.pool_n];
	pair = (how & 0x10) ? 1u - pp->pair : pp->pair;
	for (k = 0; k < (twice ? 2u : 1u); k++) {
		memcpy(R.in[R.n], pp->b, pp->len);
		len = spoil(R.in[R.n], pp->len, pp, how, arg);
		add(2 * pair + 1, (how & 1) ? MR_SMB_VERIFY : MR_SMB_UNPROTECT, pp->rtcp, len, 0);
	}
}

static void
raw(struct reader *r, bool inbound)
{
	uint32_t len = take(r) * 16u + take(r);
	uint8_t kind = inbound ? take(r) : MR_SMB_PROTECT;
	unsigned int pair = kind >> 7;
	bool rtcp = (kind & 0x40) != 0;

	if (len > r->n)
		len = (uint32_t)r->n;
	if (len > TWIN_PKT_MAX - 64u)
		len = TWIN_PKT_MAX - 64u;
	memcpy(R.in[R.n], r->p, len);
	r->p += len;
	r->n -= len;
	if (inbound)
		add(2 * pair + 1, (kind & 1) ? MR_SMB_VERIFY : MR_SMB_UNPROTECT, rtcp, len, 0);
	else
		add(2 * (len & 1), MR_SMB_PROTECT, len > 1 && R.in[R.n][1] >= 200, len, TWIN_PKT_MAX);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reader r = { data, size };
	struct mr_key_gen ka, kb;
	unsigned int ops = 0, p;
	uint8_t h[6], c;

	if (R.e == NULL) {
		/*
		 * libsrtp's NSS backend starts NSS with its first cipher and shuts
		 * it down with its last (a few ms each time): one context kept
		 * for the process keeps NSS up between inputs.
		 */
		ka = make_key(0, 0, 0);
		if (mr_srtp_init() < 0 || (R.e = mr_smb_engine_new()) == NULL ||
		    (nss_keepalive = twin_wrapper_new(&ka, 1, MR_SRTP_INBOUND)) == NULL)
			abort();
		atexit(release);
		smb_engine_check_jobs(R.e, true);
	}
	if (size < sizeof(h))
		return 0;
	for (p = 0; p < sizeof(h); p++)
		h[p] = take(&r);
	ka = make_key(h[0], h[1], h[2]);
	kb = make_key(h[3], h[4], h[5]);
	R.n = 0;
	R.pool_n = R.pool_next = 0;
	R.rtcp_n[0] = R.rtcp_n[1] = 0;
	R.seq[0] = (uint16_t)(65520u + h[2] % 16u);
	R.seq[1] = (uint16_t)(h[5] * 256u);
	if (!twin_stream_init(&R.st[0], &ka, 0x0a0b0c0d, MR_SRTP_OUTBOUND) ||
	    !twin_stream_init(&R.st[1], &ka, 0x0a0b0c0d, MR_SRTP_INBOUND) ||
	    !twin_stream_init(&R.st[2], &kb, 0x1a1b1c1d, MR_SRTP_OUTBOUND) ||
	    !twin_stream_init(&R.st[3], &kb, 0x1a1b1c1d, MR_SRTP_INBOUND))
		abort();
	while (r.n != 0 && ops++ < MAX_OPS_PER_INPUT) {
		c = take(&r);
		p = (c >> 3) & 1u;
		switch (c & 7u) {
		case 0:
			protect_rtp(&r, p, false);
			break;
		case 1:
			protect_rtcp(&r, p);
			break;
		case 2:
			deliver(&r, false);
			break;
		case 3:
			raw(&r, true);
			break;
		case 4:
			raw(&r, false);
			break;
		case 5:
			flush();
			break;
		case 6:
			protect_rtp(&r, p, true);
			break;
		default:
			deliver(&r, true);
			break;
		}
	}
	flush();
	for (p = 0; p < 4; p++)
		twin_stream_fini(&R.st[p]);
	return 0;
}
