/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_CP_SDES_H
#define MR_CP_SDES_H

/*
 * SDES key exchange (RFC 4568 "a=crypto", with the suites of RFC 4568,
 * RFC 6188 and RFC 7714): parse one attribute value, print one, generate
 * keys, and negotiate an answer. docs/srtp-sdes.md states the policy; in
 * short, a line is refused unless the dataplane can honour every part of it:
 *  - suites: AES_CM_128_HMAC_SHA1_80/_32, AES_256_CM_HMAC_SHA1_80/_32,
 *    AEAD_AES_128_GCM, AEAD_AES_256_GCM (enum mr_srtp_suite). Other known
 *    suites (AES_192_CM_*, F8_*, NULL_*, SEED_*, ...) are "unsupported",
 *    anything else "unknown";
 *  - exactly one key-param, "inline:" base64(key || salt) of the suite's
 *    exact length, padded or not;
 *  - a key lifetime is refused, unless MR_SDES_F_LIFETIME is given and it is
 *    at least 2^31 packets (the dataplane never re-keys on its own);
 *  - an MKI is refused, unless MR_SDES_F_MKI is given and it is at most
 *    MR_MKI_MAX_BYTES long;
 *  - session parameters UNENCRYPTED_SRTP, UNENCRYPTED_SRTCP,
 *    UNAUTHENTICATED_SRTP, any KDR=, FEC_KEY= and FEC_ORDER=SRTP_FEC are
 *    refused; FEC_ORDER=FEC_SRTP (the default) and WSH= (a hint) are accepted;
 *    an unknown parameter is refused unless it starts with '-', which
 *    RFC 4568 lets a receiver ignore.
 * Keywords (suite names, "inline", session parameters) match without regard
 * to case, as quoted strings in ABNF (RFC 5234) do.
 *
 * Functions that fail with a reason write it, NUL-terminated, to @err
 * (@err_len bytes; @err may be NULL). Reasons never contain key material.
 * Returns: 0; -EINVAL for a malformed line; -ENOTSUP for a well-formed line
 * that policy or the dataplane refuses.
 *
 * No global state. Keys are wiped with mr_sdes_wipe() (OPENSSL_cleanse).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mrelay/leg.h>

#define MR_SDES_TAG_MAX 999999999u
/* Longest line mr_sdes_print() writes, with its NUL: tag, suite, 64 base64
 * bytes, 20 digits of lifetime, a 20-digit MKI, " WSH=" and 10 digits. */
#define MR_SDES_LINE_MAX 192u
/* Most a=crypto lines of one m= line that negotiation looks at. */
#define MR_SDES_MAX_LINES 32u

/* Policy flags (mr_sdes_parse(), struct mr_sdes_prefs.flags). */
#define MR_SDES_F_MKI           (1u << 0)  /* accept an MKI of up to MR_MKI_MAX_BYTES */
#define MR_SDES_F_LIFETIME      (1u << 1)  /* accept a lifetime >= 2^31 */
/* Negotiation: take the first acceptable line in the offerer's order rather
 * than the first in prefs->suites order (prefs->suites still filters). */
#define MR_SDES_F_OFFERER_ORDER (1u << 2)
/* mr_sdes_print(): omit base64 '=' padding (rtpengine's default; RFC 4568
 * cites RFC 3548 base64, which pads, so padding is mrelay's default). */
#define MR_SDES_F_NO_PAD        (1u << 3)

/* One a=crypto attribute. Holds key material: wipe it after use. */
struct mr_sdes_crypto {
	uint32_t tag;                   /* 1..MR_SDES_TAG_MAX */
	uint8_t suite;                  /* enum mr_srtp_suite */
	uint8_t key_len;
	uint8_t salt_len;
	uint8_t mki_len;                /* 0 = no MKI */
	uint8_t key[MR_KEY_MAX_BYTES];
	uint8_t salt[MR_SALT_MAX_BYTES];
	uint8_t mki[MR_MKI_MAX_BYTES];  /* MKI value, big-endian, mki_len bytes */
	uint64_t lifetime;              /* packets; 0 = not given */
	uint32_t wsh;                   /* WSH= window size hint; 0 = not given */
};

/* The relay's side of negotiation: acceptable suites, most preferred first. */
struct mr_sdes_prefs {
	uint8_t suites[MR_SUITE_MAX];   /* enum mr_srtp_suite, no duplicates, no NONE */
	uint8_t n_suites;
	uint32_t flags;                 /* MR_SDES_F_* */
};

/* "AES_CM_128_HMAC_SHA1_80", ...; NULL for MR_SUITE_NONE or out of range. */
const char *mr_sdes_suite_name(enum mr_srtp_suite suite);
/* The suite named @name (@len bytes, any case); MR_SUITE_NONE if unknown to
 * the dataplane. */
enum mr_srtp_suite mr_sdes_suite_from_name(const char *name, size_t len);
/* Master key and salt lengths of @suite; false for NONE or out of range. */
bool mr_sdes_suite_lengths(enum mr_srtp_suite suite, uint8_t *ret_key_len, uint8_t *ret_salt_len);

/*
 * mrelay's default preference: AEAD_AES_256_GCM, AEAD_AES_128_GCM,
 * AES_256_CM_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_80, AES_256_CM_HMAC_SHA1_32,
 * AES_CM_128_HMAC_SHA1_32 (strongest first; 32-bit tags last), no flags.
 */
void mr_sdes_prefs_default(struct mr_sdes_prefs *ret);
/* 0, or -EINVAL if @prefs lists NONE, an unknown or a repeated suite, or none. */
int mr_sdes_prefs_check(const struct mr_sdes_prefs *prefs);

/*
 * Parse the value of one "a=crypto:" attribute (without "a=crypto:"), @len
 * bytes, trailing whitespace allowed. @flags: MR_SDES_F_MKI,
 * MR_SDES_F_LIFETIME. On success fills @ret; on error @ret is untouched.
 */
int mr_sdes_parse(const char *line, size_t len, uint32_t flags,
		  struct mr_sdes_crypto *ret, char *err, size_t err_len);

/*
 * Print @c as "TAG SUITE inline:BASE64[|LIFETIME][|MKI:LEN][ WSH=N]"
 * (lifetime as "2^N" when a power of two; each part only when set, so a line
 * the relay generates is "TAG SUITE inline:BASE64") with a NUL, into @buf.
 * @flags: MR_SDES_F_NO_PAD. 0 and the length without the NUL; -EINVAL if @c
 * is not valid (tag, suite, lengths, WSH below 64); -ENOSPC.
 */
int mr_sdes_print(const struct mr_sdes_crypto *c, uint32_t flags,
		  char *buf, size_t cap, size_t *ret_len);

/*
 * A fresh key and salt for @suite from OpenSSL's CSPRNG, with @tag, no MKI,
 * no lifetime. 0; -EINVAL (bad suite or tag); -EIO if RAND_bytes() fails
 * (@ret is then wiped).
 */
int mr_sdes_generate(enum mr_srtp_suite suite, uint32_t tag, struct mr_sdes_crypto *ret);

/* Zero @c in a way the compiler cannot drop. NULL is a no-op. */
void mr_sdes_wipe(struct mr_sdes_crypto *c);

/*
 * Copy @c into a dataplane key generation (suite, lengths, key, salt, MKI;
 * tag = the SDES tag, a label for logs). @ret is zeroed first.
 */
void mr_sdes_to_key_gen(const struct mr_sdes_crypto *c, struct mr_key_gen *ret);

/*
 * Answer an offer (RFC 4568 section 7): the offered lines @lines[0..n) (values
 * without "a=crypto:", NUL-terminated) are parsed with prefs->flags; among
 * the acceptable ones, pick the first in prefs->suites order (or, with
 * MR_SDES_F_OFFERER_ORDER, the first in offer order whose suite is in
 * prefs->suites). Lines past MR_SDES_MAX_LINES are ignored.
 * On success: @ret_index is the chosen line, @ret_remote its parsed content
 * (the key the offerer will send with: the relay's inbound key), @ret_local a
 * new key of the same suite under the same tag (the answer: the relay's
 * outbound key). Returns 0; -ENOENT if @n is 0; -EINVAL if @prefs is bad or
 * two lines share a tag; -ENOTSUP if no line is acceptable, with the first
 * refused line's reason (preferring a line whose suite is acceptable, since
 * its reason is the one the operator can act on); -EIO from key generation.
 */
int mr_sdes_answer(const struct mr_sdes_prefs *prefs, const char *const *lines, size_t n,
		   size_t *ret_index, struct mr_sdes_crypto *ret_remote,
		   struct mr_sdes_crypto *ret_local, char *err, size_t err_len);

/*
 * The relay's own offer: one fresh crypto per suite of @prefs, in its order,
 * tags 1, 2, ... Writes min(n_suites, @cap) entries to @ret and their count to
 * @ret_n. 0; -EINVAL; -EIO (@ret is then wiped).
 */
int mr_sdes_offer(const struct mr_sdes_prefs *prefs, struct mr_sdes_crypto *ret,
		  size_t cap, size_t *ret_n);

/*
 * Check the answer to the relay's offer @offered[0..n_offered): RFC 4568
 * wants exactly one a=crypto line in it (@lines[0..n_lines)), whose tag is
 * one the relay offered and whose suite is that tag's suite. On success
 * @ret_index is the accepted offered entry and @ret_remote the answerer's
 * key (the relay's inbound key). Returns 0; -ENOENT (no line); -EINVAL
 * (several lines, malformed, unknown tag, suite differs from the tag's);
 * -ENOTSUP (refused by prefs->flags policy, as mr_sdes_parse()).
 */
int mr_sdes_accept_answer(const struct mr_sdes_crypto *offered, size_t n_offered,
			  uint32_t flags, const char *const *lines, size_t n_lines,
			  size_t *ret_index, struct mr_sdes_crypto *ret_remote,
			  char *err, size_t err_len);

#endif /* MR_CP_SDES_H */
