/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The peers' side of the SRTP cases, on libsrtp directly (never through the
 * dataplane's srtp.c, so the relay is checked against an independent use of
 * the library): the legs' keys and SSRCs, the RTP packets the peers send,
 * the pre-protected stock the generator sends from, the raw libsrtp
 * reference the relay's cost is quoted against, and a check of relayed
 * packets.
 *
 * Only forked children call libsrtp here: its NSS backend keeps per-process
 * state (and NSS refuses to be used across fork), and every live NSS key
 * object makes each later protect/unprotect of the process slower (see
 * README.md, Benchmarks), so the parent never initialises it and the relay
 * children carry no contexts but the dataplane's own.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <srtp2/srtp.h>

#include "bench.h"
#include "raw_crypto.h"
#include "runner.h"
#include "srtp.h"

#define REF_BATCH 32u                   /* packets per timed batch */
_Static_assert(BENCH_LIMIT_OPS == BENCH_RAW_N, "srtp_ref.limit_ns holds every raw op");

#define REF_ROUNDS 9u                   /* the median round is reported */
#define REF_ROUND_NS 20000000ull        /* CPU per round and direction, at least */
#define REF_MIN_CALLS 64u               /* per round and direction */
#define PKT_ROOM (BENCH_SRTP_MAX_SIZE + SRTP_MAX_TRAILER_LEN + 16u)

const char *
bench_srtp_mode_name(uint8_t mode)
{
	static const char *const names[BENCH_SRTP_MODES] = {
		[BENCH_SRTP_PASS] = "pass-through",
		[BENCH_SRTP_REKEY] = "re-key",
		[BENCH_SRTP_RTP2SRTP] = "RTP -> SRTP",
		[BENCH_SRTP_SRTP2RTP] = "SRTP -> RTP",
	};

	return mode < BENCH_SRTP_MODES ? names[mode] : "?";
}

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Key generation @use of leg @slot: distinct per leg, direction and suite, reproducible. */
void
bench_srtp_key(uint8_t suite, uint32_t slot, enum bench_key_use use, struct mr_key_gen *k)
{
	const struct mr_srtp_suite_info *si = mr_srtp_suite(suite);
	uint64_t x = ((uint64_t)suite << 40) ^ ((uint64_t)use << 32) ^ slot, v = 0;
	unsigned int i;

	memset(k, 0, sizeof(*k));
	if (si == NULL)
		return;
	k->suite = suite;
	k->key_len = si->key_len;
	k->salt_len = si->salt_len;
	k->tag = 1;
	for (i = 0; i < (unsigned int)si->key_len + si->salt_len; i++) {
		if (i % 8 == 0)
			v = splitmix64(&x);
		if (i < si->key_len)
			k->key[i] = (uint8_t)(v >> (8 * (i % 8)));
		else
			k->salt[i - si->key_len] = (uint8_t)(v >> (8 * (i % 8)));
	}
}

uint32_t
bench_srtp_ssrc(uint32_t slot)
{
	return 0x5e000000u + slot;
}

uint32_t
bench_srtp_tag_len(uint8_t suite)
{
	const struct mr_srtp_suite_info *si = mr_srtp_suite(suite);

	return si != NULL ? si->rtp_tag_len : 0;
}

/* The RTP packet a peer sends: PCMU-like for small sizes, a video payload type above. */
void
bench_rtp_packet(uint8_t *p, uint32_t size, uint32_t ssrc, uint16_t seq)
{
	p[0] = 0x80;
	p[1] = size <= 400 ? 0 : 96;
	bench_rtp_stamp(p, ssrc, seq);
	if (size > 12)
		memset(p + 12, 0xd5, size - 12u);
}

/* The dataplane's suite choices (dataplane/srtp.c set_policy), on libsrtp directly. */
static int
policy_for(uint8_t suite, srtp_policy_t *pol)
{
	srtp_crypto_policy_t *rtp = &pol->rtp, *rtcp = &pol->rtcp;

	switch (suite) {
	case MR_SUITE_AES_CM_128_HMAC_SHA1_80:
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(rtcp);
		return 0;
	case MR_SUITE_AES_CM_128_HMAC_SHA1_32:
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(rtcp);
		return 0;
	case MR_SUITE_AES_256_CM_HMAC_SHA1_80:
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(rtp);
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(rtcp);
		return 0;
	case MR_SUITE_AES_256_CM_HMAC_SHA1_32:
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_32(rtp);
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(rtcp);
		return 0;
	case MR_SUITE_AEAD_AES_128_GCM:
		srtp_crypto_policy_set_aes_gcm_128_16_auth(rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(rtcp);
		return 0;
	case MR_SUITE_AEAD_AES_256_GCM:
		srtp_crypto_policy_set_aes_gcm_256_16_auth(rtp);
		srtp_crypto_policy_set_aes_gcm_256_16_auth(rtcp);
		return 0;
	default:
		return -EINVAL;
	}
}

/* A one-SSRC session with @k, as the dataplane makes them (window 1024, no repeated tx). */
static int
session_new(const struct mr_key_gen *k, uint32_t ssrc, srtp_t *ret)
{
	uint8_t master[MR_KEY_MAX_BYTES + MR_SALT_MAX_BYTES];
	srtp_policy_t pol;
	srtp_err_status_t st;

	memset(&pol, 0, sizeof(pol));
	if (policy_for(k->suite, &pol) < 0)
		return -EINVAL;
	memcpy(master, k->key, k->key_len);
	memcpy(master + k->key_len, k->salt, k->salt_len);
	pol.ssrc.type = ssrc_specific;
	pol.ssrc.value = ssrc;
	pol.key = master;
	pol.window_size = 1024;
	pol.allow_repeat_tx = 0;
	st = srtp_create(ret, &pol);
	return st == srtp_err_status_ok ? 0 : -EINVAL;
}

static int
srtp_ready(void)
{
	static bool done;

	if (done)
		return 0;
	if (srtp_init() != srtp_err_status_ok)
		return -EIO;
	done = true;
	return 0;
}

/*
 * libsrtp alone: one sender and one receiver session (two more contexts in
 * the process), packets of @size protected in batches of 32 and unprotected
 * in the same order; CPU time of each batch. Rounds of at least
 * @round_ns each way; the median round is reported, so a round that other
 * load on the CPU slowed down does not move the figure.
 */
int
bench_srtp_ref_measure(uint8_t suite, uint32_t size, uint64_t round_ns, unsigned int rounds,
		       double *ret_protect, double *ret_unprotect, uint64_t *ret_calls)
{
	static uint8_t buf[REF_BATCH][PKT_ROOM] __attribute__((aligned(64)));
	double p_round[REF_ROUNDS], u_round[REF_ROUNDS];
	int len[REF_BATCH];
	uint64_t total = 0, t;
	struct mr_key_gen k;
	srtp_t tx, rx;
	uint16_t seq = 0;
	unsigned int i, r;
	int err = 0;

	if (rounds == 0 || rounds > REF_ROUNDS)
		return -EINVAL;
	bench_srtp_key(suite, 0, BENCH_KEY_IN, &k);
	if (session_new(&k, bench_srtp_ssrc(0), &tx) < 0)
		return -EINVAL;
	if (session_new(&k, bench_srtp_ssrc(0), &rx) < 0) {
		srtp_dealloc(tx);
		return -EINVAL;
	}
	explicit_bzero(&k, sizeof(k));
	for (r = 0; r < rounds && err == 0; r++) {
		uint64_t p_ns = 0, u_ns = 0, calls = 0;

		while (err == 0 && (p_ns < round_ns || u_ns < round_ns || calls < REF_MIN_CALLS)) {
			for (i = 0; i < REF_BATCH; i++) {
				bench_rtp_packet(buf[i], size, bench_srtp_ssrc(0), seq++);
				len[i] = (int)size;
			}
			t = bench_thread_ns();
			for (i = 0; i < REF_BATCH; i++)
				if (srtp_protect(tx, buf[i], &len[i]) != srtp_err_status_ok)
					err = -EINVAL;
			p_ns += bench_thread_ns() - t;
			t = bench_thread_ns();
			for (i = 0; i < REF_BATCH; i++)
				if (srtp_unprotect(rx, buf[i], &len[i]) != srtp_err_status_ok)
					err = -EINVAL;
			u_ns += bench_thread_ns() - t;
			for (i = 0; i < REF_BATCH && err == 0; i++)
				if ((uint32_t)len[i] != size)
					err = -EINVAL;
			calls += REF_BATCH;
		}
		p_round[r] = (double)p_ns / (double)calls;
		u_round[r] = (double)u_ns / (double)calls;
		total += calls;
	}
	srtp_dealloc(tx);
	srtp_dealloc(rx);
	qsort(p_round, rounds, sizeof(double), bench_cmp_double);
	qsort(u_round, rounds, sizeof(double), bench_cmp_double);
	*ret_protect = p_round[rounds / 2];
	*ret_unprotect = u_round[rounds / 2];
	*ret_calls = total;
	return err;
}

int
bench_srtp_reference(const struct bench_opts *o, struct srtp_ref *ret)
{
	unsigned int s, z;
	int err;

	memset(ret, 0, sizeof(*ret));
	snprintf(ret->version, sizeof(ret->version), "%s", srtp_get_version_string());
	err = bench_pin_cpu(o->worker_cpu);
	if (err == 0)
		err = srtp_ready();
	for (s = 0; s < o->n_srtp_suites && err == 0; s++) {
		uint8_t suite = o->srtp_suites[s];

		for (z = 0; z < o->n_srtp_sizes && err == 0; z++) {
			struct mr_key_gen k;

			err = bench_srtp_ref_measure(suite, o->srtp_sizes[z], REF_ROUND_NS, REF_ROUNDS,
						     &ret->protect_ns[suite][z],
						     &ret->unprotect_ns[suite][z],
						     &ret->calls[suite][z]);
			/* the limit: without it (no AES-NI code path) the rows show none */
			bench_srtp_key(suite, 0, BENCH_KEY_IN, &k);
			if (err == 0 && bench_crypto_limit(&k, o->srtp_sizes[z], REF_ROUND_NS / 4,
							   REF_ROUNDS, ret->limit_ns[suite][z]) < 0)
				memset(ret->limit_ns[suite][z], 0, sizeof(ret->limit_ns[suite][z]));
			explicit_bzero(&k, sizeof(k));
		}
	}
	return err;
}

/*
 * The stock: record i goes to leg (i * stride) mod legs with sequence
 * number i / legs, which is exactly the order in which the generator visits
 * the legs (one pass visits each leg once). One session per leg at a time
 * (made, used for every record of its leg, freed), so the build never holds
 * more than two live NSS keys and costs what one-context libsrtp costs; the
 * second, idle session keeps NSS initialised (libsrtp opens an NSS context
 * per cipher, and closing the last one shuts NSS down: the next
 * srtp_create() would pay a whole NSS start, ~0.8 ms).
 */
int
bench_stock_build(const struct bench_opts *o, const struct bench_srtp_case *c,
		  struct bench_stock *st, struct stock_result *ret)
{
	uint8_t pkt[PKT_ROOM] __attribute__((aligned(16)));
	uint32_t stride = bench_spread_stride(c->legs), k;
	struct mr_key_gen idle_key;
	srtp_t idle = NULL;
	uint64_t t0;
	int err;

	memset(ret, 0, sizeof(*ret));
	t0 = bench_now_ns();
	err = bench_pin_cpu(o->worker_cpu);
	if (err == 0)
		err = srtp_ready();
	bench_srtp_key(c->suite, 0, BENCH_KEY_OUT, &idle_key);
	if (err == 0)
		err = session_new(&idle_key, 0, &idle);
	for (k = 0; k < c->legs && k < st->n && err == 0; k++) {
		uint32_t leg = (uint32_t)(((uint64_t)k * stride) % c->legs);
		uint32_t ssrc = bench_srtp_ssrc(leg);
		struct mr_key_gen key;
		srtp_t tx = NULL;
		uint64_t i;

		bench_srtp_key(c->suite, leg, BENCH_KEY_IN, &key);
		err = session_new(&key, ssrc, &tx);
		for (i = k; i < st->n && err == 0; i += c->legs) {
			int len = (int)c->size;

			bench_rtp_packet(pkt, c->size, ssrc, (uint16_t)(i / c->legs));
			if (srtp_protect(tx, pkt, &len) != srtp_err_status_ok ||
			    (uint32_t)len != st->len)
				err = -EINVAL;
			else
				memcpy(st->data + i * st->rec, pkt, st->len);
		}
		if (tx != NULL)
			srtp_dealloc(tx);
		explicit_bzero(&key, sizeof(key));
	}
	if (idle != NULL)
		srtp_dealloc(idle);
	ret->build_s = (double)(bench_now_ns() - t0) / 1e9;
	ret->n = err == 0 ? st->n : 0;
	return err;
}

/*
 * One relayed packet, as the egress leg's peer receives it: for the modes
 * that send SRTP, it must unprotect with the egress leg's outbound key (the
 * ingress leg's inbound key for pass-through) to the RTP packet the
 * ingress leg's peer sent; SRTP -> RTP must deliver that packet in clear.
 * @index_hint: an SRTP packet index at or just after this packet's, for its
 * rollover counter. Returns 0, or -EBADMSG.
 */
int
bench_srtp_check(const struct bench_srtp_case *c, uint32_t egress_slot, uint32_t ingress_slot,
		 uint64_t index_hint, const uint8_t *pkt, uint32_t len)
{
	uint8_t got[PKT_ROOM] __attribute__((aligned(16))), want[PKT_ROOM];
	uint32_t ssrc = bench_srtp_ssrc(ingress_slot);
	struct mr_key_gen key;
	uint16_t seq;
	uint64_t index;
	srtp_t rx;
	int n = (int)len, err = 0;

	/* In a relay child: mr_dp_setup() initialised libsrtp (a second srtp_init() fails). */
	if (len < 12 || len > sizeof(got))
		return -EBADMSG;
	memcpy(got, pkt, len);
	seq = (uint16_t)(got[2] << 8 | got[3]);
	bench_rtp_packet(want, c->size, ssrc, seq);
	if (c->mode != BENCH_SRTP_SRTP2RTP) {
		/* The packet's index: the latest one at or below the hint with its sequence number. */
		index = (uint16_t)(index_hint - seq) <= index_hint ?
			index_hint - (uint16_t)(index_hint - seq) : seq;
		bench_srtp_key(c->suite, c->mode == BENCH_SRTP_PASS ? ingress_slot : egress_slot,
			       c->mode == BENCH_SRTP_PASS ? BENCH_KEY_IN : BENCH_KEY_OUT, &key);
		err = session_new(&key, ssrc, &rx);
		explicit_bzero(&key, sizeof(key));
		if (err < 0)
			return -EBADMSG;
		if ((index >> 16) != 0 &&
		    srtp_set_stream_roc(rx, ssrc, (uint32_t)(index >> 16)) != srtp_err_status_ok)
			err = -EBADMSG;
		if (err == 0 && srtp_unprotect(rx, got, &n) != srtp_err_status_ok)
			err = -EBADMSG;
		srtp_dealloc(rx);
	}
	if (err == 0 && ((uint32_t)n != c->size || memcmp(got, want, c->size) != 0))
		err = -EBADMSG;
	return err;
}
