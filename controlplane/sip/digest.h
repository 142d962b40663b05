/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_CP_DIGEST_H
#define MR_CP_DIGEST_H

/*
 * HTTP digest authentication as SIP uses it (RFC 3261 section 22, RFC 7616,
 * and RFC 8760 for SHA-256 in SIP), server side only:
 *  - HA1 = H(username ":" realm ":" password) for MD5 and SHA-256, which the
 *    account store keeps instead of the password;
 *  - the WWW-Authenticate challenge: realm, nonce, algorithm, qop="auth" and,
 *    for an expired nonce, stale=true;
 *  - stateless nonces: hex(timestamp, random, HMAC-SHA256(secret, both)), so
 *    any process holding the secret can check one without a nonce table;
 *  - parsing an Authorization header and checking its response against a
 *    stored HA1 in constant time (CRYPTO_memcmp).
 *
 * Policy: only qop=auth is accepted (no RFC 2069 responses without qop, no
 * auth-int); algorithms MD5 and SHA-256 only, without "-sess" and userhash.
 * Everything else the header carries is the caller's to check: that realm is
 * ours, that uri matches the Request-URI, and that nc grows per nonce if it
 * wants replay protection beyond the nonce's lifetime.
 *
 * Functions that fail with a reason write it, NUL-terminated, to @err
 * (@err_len bytes; @err may be NULL). Reasons never contain secrets.
 * Returns: 0; -EINVAL for malformed input; -ENOTSUP for well-formed input
 * this server refuses (algorithm, qop); -ENOSPC for a short output buffer.
 *
 * No global state; nothing logs. Safe from any thread.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mr_digest_alg {
	MR_DIGEST_INVALID = 0,          /* a zeroed struct names no algorithm */
	MR_DIGEST_MD5,
	MR_DIGEST_SHA256,
};

#define MR_DIGEST_HEX_MAX      65u      /* SHA-256 in hex + NUL */
#define MR_DIGEST_NONCE_LEN    64u      /* hex chars, without the NUL */
#define MR_DIGEST_HDR_MAX    2048u      /* longest Authorization value parsed */
#define MR_DIGEST_SECRET_MIN   32u      /* bytes of server secret, at least */

/* "MD5" / "SHA-256", or NULL for MR_DIGEST_INVALID and unknown values. */
const char *mr_digest_alg_name(enum mr_digest_alg alg);

/* Hex digits of one hash: 32 for MD5, 64 for SHA-256, 0 otherwise. */
size_t mr_digest_hex_len(enum mr_digest_alg alg);

/*
 * HA1 in lowercase hex into @ret_hex (MR_DIGEST_HEX_MAX bytes). The password
 * is hashed in place, never copied. Returns 0 or -EINVAL (unknown algorithm,
 * NULL argument, or a ':' in @user or @realm, which would make HA1 ambiguous).
 */
int mr_digest_ha1(enum mr_digest_alg alg, const char *user, const char *realm,
		  const char *password, char *ret_hex);

/*
 * A fresh nonce, NUL-terminated, into @ret (MR_DIGEST_NONCE_LEN + 1 bytes),
 * stamped with @now_s (seconds on any clock the checks share).
 * @secret is at least MR_DIGEST_SECRET_MIN bytes. Returns 0, -EINVAL or
 * -EIO (no randomness).
 */
int mr_digest_nonce_make(const uint8_t *secret, size_t secret_len, uint64_t now_s, char *ret);

/*
 * Check a nonce this server made. Returns 0 when it is authentic and no older
 * than @max_age_s; -ESTALE when authentic but expired (answer with a new
 * challenge and stale=true, so the client retries without asking the user);
 * -EINVAL when malformed, forged, tampered with, or stamped in the future.
 */
int mr_digest_nonce_check(const uint8_t *secret, size_t secret_len, const char *nonce,
			  uint64_t now_s, uint32_t max_age_s);

/*
 * The WWW-Authenticate (or Proxy-Authenticate) value into @out:
 *   Digest realm="R", nonce="N", algorithm=A, qop="auth"[, stale=true]
 * @realm is escaped as a quoted-string. Returns 0, -EINVAL (bad algorithm,
 * or a control character in @realm or @nonce) or -ENOSPC.
 */
int mr_digest_challenge(char *out, size_t out_len, const char *realm, const char *nonce,
			enum mr_digest_alg alg, bool stale);

/*
 * One parsed Authorization (or Proxy-Authorization) value. The strings point
 * into @buf, unescaped and NUL-terminated; NULL when the parameter was absent
 * (only opaque may be). Holds no secret: the response is a one-time value.
 */
struct mr_digest_creds {
	const char *username;
	const char *realm;
	const char *nonce;
	const char *uri;
	const char *response;           /* lowercase hex, mr_digest_hex_len(alg) long */
	const char *cnonce;
	const char *nc;                 /* exactly 8 hex digits */
	const char *qop;                /* always "auth" after a successful parse */
	const char *opaque;
	uint8_t alg;                    /* enum mr_digest_alg; MD5 when absent */
	char buf[MR_DIGEST_HDR_MAX];
};

/*
 * Parse the value of an Authorization header (@hdr, @len bytes, NUL not
 * needed), "Digest" scheme included:
 *   Digest username="Mufasa", realm="x", nonce="...", uri="sip:x",
 *          response="...", algorithm=SHA-256, qop=auth, nc=00000001, cnonce="..."
 * Parameter names match without regard to case; unknown parameters are
 * ignored, known ones may not repeat; quoted-strings may hold \-escapes.
 * @ret is written only on success. Returns 0, -EINVAL or -ENOTSUP.
 */
int mr_digest_parse(const char *hdr, size_t len, struct mr_digest_creds *ret,
		    char *err, size_t err_len);

/*
 * Whether @c's response is the one @ha1_hex (as mr_digest_ha1() gives it, for
 * c->alg) and @method yield. The comparison takes the same time wherever the
 * responses differ. Returns 0 on a match, -EACCES on a mismatch, -EINVAL for
 * bad arguments (an HA1 of the wrong length or not hex).
 */
int mr_digest_verify(const struct mr_digest_creds *c, const char *method, const char *ha1_hex);

/*
 * The response a client would send: exposed for tests and for the day
 * mrelay authenticates towards a trunk. Lowercase hex into @ret_hex
 * (MR_DIGEST_HEX_MAX bytes). Returns 0 or -EINVAL.
 */
int mr_digest_response(enum mr_digest_alg alg, const char *ha1_hex, const char *method,
		       const char *uri, const char *nonce, const char *nc, const char *cnonce,
		       char *ret_hex);

#endif /* MR_CP_DIGEST_H */
