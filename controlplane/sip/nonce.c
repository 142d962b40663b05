/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stateless digest nonces (contract in digest.h). Layout, all lowercase hex:
 *
 *   nonce = ts(16) rand(16) mac(32)
 *   mac   = first 16 bytes of HMAC-SHA256(secret, ts_be64 || rand)
 *
 * The timestamp is in the clear so that an expired nonce can still be told
 * apart from a forged one (stale=true only for our own nonces). 128 bits of
 * MAC are plenty against forgery; the random part makes two nonces of the
 * same second differ, so a response for one says nothing about another.
 */
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "digest.h"

#define TS_BYTES   8u
#define RAND_BYTES 8u
#define MAC_BYTES 16u
#define BODY_BYTES (TS_BYTES + RAND_BYTES)
#define FUTURE_SKEW_S 5u                /* clocks of a cluster may differ a little */

_Static_assert(2 * (BODY_BYTES + MAC_BYTES) == MR_DIGEST_NONCE_LEN, "nonce layout");

static void
hex(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
}

static int
unhex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;                      /* uppercase too: we only ever emit lowercase */
}

static int
mac(const uint8_t *secret, size_t secret_len, const uint8_t *body, uint8_t *ret)
{
	uint8_t full[32];
	unsigned int n = 0;

	if (HMAC(EVP_sha256(), secret, (int)secret_len, body, BODY_BYTES, full, &n) == NULL ||
	    n != sizeof(full))
		return -EIO;
	memcpy(ret, full, MAC_BYTES);
	return 0;
}

int
mr_digest_nonce_make(const uint8_t *secret, size_t secret_len, uint64_t now_s, char *ret)
{
	uint8_t body[BODY_BYTES], m[MAC_BYTES];
	size_t i;
	int r;

	if (secret == NULL || secret_len < MR_DIGEST_SECRET_MIN || secret_len > INT32_MAX ||
	    ret == NULL)
		return -EINVAL;
	for (i = 0; i < TS_BYTES; i++)
		body[i] = (uint8_t)(now_s >> (8 * (TS_BYTES - 1 - i)));
	if (RAND_bytes(body + TS_BYTES, RAND_BYTES) != 1)
		return -EIO;
	r = mac(secret, secret_len, body, m);
	if (r < 0)
		return r;
	hex(body, BODY_BYTES, ret);
	hex(m, MAC_BYTES, ret + 2 * BODY_BYTES);
	ret[MR_DIGEST_NONCE_LEN] = '\0';
	return 0;
}

int
mr_digest_nonce_check(const uint8_t *secret, size_t secret_len, const char *nonce,
		      uint64_t now_s, uint32_t max_age_s)
{
	uint8_t raw[BODY_BYTES + MAC_BYTES], m[MAC_BYTES];
	uint64_t ts = 0;
	size_t i;
	int r;

	if (secret == NULL || secret_len < MR_DIGEST_SECRET_MIN || secret_len > INT32_MAX ||
	    nonce == NULL)
		return -EINVAL;
	for (i = 0; i < sizeof(raw); i++) {
		int hi, lo;

		/* stops at a short string's NUL: it is never a hex digit */
		hi = unhex_nibble(nonce[2 * i]);
		if (hi < 0)
			return -EINVAL;
		lo = unhex_nibble(nonce[2 * i + 1]);
		if (lo < 0)
			return -EINVAL;
		raw[i] = (uint8_t)(hi << 4 | lo);
	}
	if (nonce[MR_DIGEST_NONCE_LEN] != '\0')
		return -EINVAL;
	r = mac(secret, secret_len, raw, m);
	if (r < 0)
		return r;
	if (CRYPTO_memcmp(m, raw + BODY_BYTES, MAC_BYTES) != 0)
		return -EINVAL;
	/* Authentic from here on: only its age is left to judge. */
	for (i = 0; i < TS_BYTES; i++)
		ts = ts << 8 | raw[i];
	if (ts > now_s + FUTURE_SKEW_S)
		return -EINVAL;
	if (now_s > ts && now_s - ts > max_age_s)
		return -ESTALE;
	return 0;
}
