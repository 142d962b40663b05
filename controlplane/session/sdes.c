/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One RFC 4568 a=crypto attribute value: suites, parse, print (policy in
 * sdes.h and docs/srtp-sdes.md). The grammar (RFC 4568 section 9, SRTP part):
 *
 *   value        = tag 1*WSP crypto-suite 1*WSP key-params *(1*WSP session-param)
 *   tag          = 1*9DIGIT
 *   key-params   = key-param *(";" key-param)
 *   key-param    = "inline:" key-salt ["|" lifetime] ["|" mki]
 *   lifetime     = ["2^"] 1*DIGIT
 *   mki          = mki-value ":" mki-length      ; length 1..128 bytes
 *
 * The parser checks the whole line's syntax first and only then applies
 * policy, so a malformed line is always -EINVAL whatever the flags; only an
 * unknown suite stops early (its key length, and so the key's syntax, is not
 * known). Nothing here logs; reasons go to the caller's buffer.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "base64.h"
#include "sdes.h"
#include "sdp_say.h"

#define KEY_SALT_MAX (MR_KEY_MAX_BYTES + MR_SALT_MAX_BYTES)
#define MKI_LEN_MAX 128u                /* RFC 4568 grammar: mki-length */
#define LIFETIME_MIN (1ull << 31)       /* with MR_SDES_F_LIFETIME */
#define WSH_MIN 64u                     /* RFC 4568: the smallest window size hint */
#define NAME_SHOWN 40                   /* longest suite or parameter echoed in a reason */

struct suite_info {
	const char *name;
	uint8_t suite;
	uint8_t key_len;
	uint8_t salt_len;
};

/* RFC 4568 (AES_CM_128), RFC 6188 (AES_256_CM), RFC 7714 (AEAD GCM, 96-bit salt). */
static const struct suite_info suites[] = {
	{ "AES_CM_128_HMAC_SHA1_80", MR_SUITE_AES_CM_128_HMAC_SHA1_80, 16, 14 },
	{ "AES_CM_128_HMAC_SHA1_32", MR_SUITE_AES_CM_128_HMAC_SHA1_32, 16, 14 },
	{ "AES_256_CM_HMAC_SHA1_80", MR_SUITE_AES_256_CM_HMAC_SHA1_80, 32, 14 },
	{ "AES_256_CM_HMAC_SHA1_32", MR_SUITE_AES_256_CM_HMAC_SHA1_32, 32, 14 },
	{ "AEAD_AES_128_GCM", MR_SUITE_AEAD_AES_128_GCM, 16, 12 },
	{ "AEAD_AES_256_GCM", MR_SUITE_AEAD_AES_256_GCM, 32, 12 },
};
_Static_assert(sizeof(suites) / sizeof(suites[0]) == MR_SUITE_MAX - 1, "one entry per suite");

/*
 * Registered or widely sent suites the dataplane has no cipher for. Named
 * "unsupported" in reasons, so an operator can tell a peer that wants
 * something mrelay lacks from one that sends garbage.
 */
static const char *const unsupported[] = {
	"AES_192_CM_HMAC_SHA1_80", "AES_192_CM_HMAC_SHA1_32",   /* RFC 6188 */
	"F8_128_HMAC_SHA1_80", "F8_128_HMAC_SHA1_32",           /* RFC 4568, IANA */
	"NULL_HMAC_SHA1_80", "NULL_HMAC_SHA1_32",               /* rtpengine, no cipher */
	"SEED_CTR_128_HMAC_SHA1_80", "SEED_128_CCM_80", "SEED_128_GCM_96", /* RFC 5669 */
	"AEAD_AES_128_GCM_8", "AEAD_AES_256_GCM_8",             /* pre-RFC 7714 drafts */
	"AES_CM_256_HMAC_SHA1_80", "AES_CM_256_HMAC_SHA1_32",   /* non-standard names */
	"AES_CM_192_HMAC_SHA1_80", "AES_CM_192_HMAC_SHA1_32",
};

static const struct suite_info *
suite_info(unsigned int suite)
{
	return suite > MR_SUITE_NONE && suite < MR_SUITE_MAX ? &suites[suite - 1] : NULL;
}

const char *
mr_sdes_suite_name(enum mr_srtp_suite suite)
{
	const struct suite_info *si = suite_info(suite);

	return si != NULL ? si->name : NULL;
}

static bool
word_eq(const char *p, size_t len, const char *word)
{
	return strlen(word) == len && strncasecmp(p, word, len) == 0;
}

enum mr_srtp_suite
mr_sdes_suite_from_name(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
		if (word_eq(name, len, suites[i].name))
			return (enum mr_srtp_suite)suites[i].suite;
	}
	return MR_SUITE_NONE;
}

bool
mr_sdes_suite_lengths(enum mr_srtp_suite suite, uint8_t *ret_key_len, uint8_t *ret_salt_len)
{
	const struct suite_info *si = suite_info(suite);

	if (si == NULL)
		return false;
	*ret_key_len = si->key_len;
	*ret_salt_len = si->salt_len;
	return true;
}

void
mr_sdes_wipe(struct mr_sdes_crypto *c)
{
	if (c != NULL)
		OPENSSL_cleanse(c, sizeof(*c));
}

void
mr_sdes_to_key_gen(const struct mr_sdes_crypto *c, struct mr_key_gen *ret)
{
	OPENSSL_cleanse(ret, sizeof(*ret));
	ret->suite = c->suite;
	ret->key_len = c->key_len;
	ret->salt_len = c->salt_len;
	ret->mki_len = c->mki_len;
	ret->tag = c->tag;
	memcpy(ret->key, c->key, sizeof(ret->key));
	memcpy(ret->salt, c->salt, sizeof(ret->salt));
	memcpy(ret->mki, c->mki, sizeof(ret->mki));
}

/* ---- parser ----------------------------------------------------------- */

struct cursor {
	const char *s;
	size_t len;
	size_t pos;
};

struct parse_state {
	struct cursor cur;
	uint32_t flags;
	char *err;
	size_t err_len;
	const char *refusal;            /* first policy refusal (static text) */
};

static bool
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A run of non-WSP bytes at the cursor: [*ret_p, *ret_p + *ret_len). */
static void
next_token(struct cursor *c, const char **ret_p, size_t *ret_len)
{
	size_t start = c->pos;

	while (c->pos < c->len && !is_wsp(c->s[c->pos]))
		c->pos++;
	*ret_p = c->s + start;
	*ret_len = c->pos - start;
}

static size_t
skip_wsp(struct cursor *c)
{
	size_t start = c->pos;

	while (c->pos < c->len && is_wsp(c->s[c->pos]))
		c->pos++;
	return c->pos - start;
}

/* Decimal digits [p, p + len) into @ret; false if empty, not all digits, or
 * above @max. */
static bool
parse_dec(const char *p, size_t len, uint64_t max, uint64_t *ret)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++) {
		unsigned int d;

		if (!is_digit(p[i]))
			return false;
		d = (unsigned int)(p[i] - '0');
		if (v > (max - d) / 10u)
			return false;
		v = v * 10u + d;
	}
	*ret = v;
	return true;
}

static void
refuse(struct parse_state *ps, const char *why)
{
	if (ps->refusal == NULL)
		ps->refusal = why;
}

static int
parse_lifetime(struct parse_state *ps, const char *p, size_t len, struct mr_sdes_crypto *out)
{
	uint64_t v;

	if (len >= 2 && p[0] == '2' && p[1] == '^') {
		if (!parse_dec(p + 2, len - 2, 63, &v) || v == 0)
			return mr_sdp_say(ps->err, ps->err_len, -EINVAL,
					  "key lifetime \"%.*s\" is not 2^1..2^63",
					  (int)(len < NAME_SHOWN ? len : NAME_SHOWN), p);
		out->lifetime = 1ull << v;
	} else if (!parse_dec(p, len, UINT64_MAX, &out->lifetime) || out->lifetime == 0) {
		return mr_sdp_say(ps->err, ps->err_len, -EINVAL,
				  "key lifetime \"%.*s\" is not a positive 64-bit number",
				  (int)(len < NAME_SHOWN ? len : NAME_SHOWN), p);
	}
	if (!(ps->flags & MR_SDES_F_LIFETIME))
		refuse(ps, "a key lifetime is not supported: the relay does not re-key on its own");
	else if (out->lifetime < LIFETIME_MIN)
		refuse(ps, "a key lifetime below 2^31 packets is not supported: the relay does not re-key on its own");
	return 0;
}

static int
parse_mki(struct parse_state *ps, const char *p, size_t len, struct mr_sdes_crypto *out)
{
	const char *colon = memchr(p, ':', len);
	size_t vlen, i;
	uint64_t v, mki_len;

	if (colon == NULL)
		return mr_sdp_say(ps->err, ps->err_len, -EINVAL, "MKI without \":length\"");
	vlen = (size_t)(colon - p);
	if (!parse_dec(colon + 1, len - vlen - 1, 999, &mki_len) || len - vlen - 1 > 3 ||
	    mki_len < 1 || mki_len > MKI_LEN_MAX)
		return mr_sdp_say(ps->err, ps->err_len, -EINVAL, "MKI length is not 1..128");
	for (i = 0; i < vlen; i++) {
		if (!is_digit(p[i]))
			return mr_sdp_say(ps->err, ps->err_len, -EINVAL,
					  "MKI value is not a decimal number");
	}
	if (vlen == 0)
		return mr_sdp_say(ps->err, ps->err_len, -EINVAL, "MKI value is empty");
	if (mki_len > MR_MKI_MAX_BYTES) {
		refuse(ps, "an MKI longer than 8 bytes is not supported");
		return 0;
	}
	if (!parse_dec(p, vlen, UINT64_MAX, &v) || (mki_len < 8 && v >> (8 * mki_len) != 0))
		return mr_sdp_say(ps->err, ps->err_len, -EINVAL,
				  "MKI value does not fit in %u bytes", (unsigned int)mki_len);
	out->mki_len = (uint8_t)mki_len;
	for (i = 0; i < mki_len; i++)
		out->mki[i] = (uint8_t)(v >> (8 * (mki_len - 1 - i)));
	if (!(ps->flags & MR_SDES_F_MKI))
		refuse(ps, "an MKI is not supported");
	return 0;
}

static int
parse_key_params(struct parse_state *ps, const struct suite_info *si, const char *p, size_t len,
		 struct mr_sdes_crypto *out)
{
	uint8_t ks[KEY_SALT_MAX];
	const char *field[3], *bar;
	size_t flen[3], n = 0, i;
	ssize_t got;
	int r;

	if (memchr(p, ';', len) != NULL) {
		/* Several master keys to be used in turn, selected by MKI or
		 * lifetime: the dataplane holds one per generation. */
		refuse(ps, "several key-params (master keys) in one line are not supported");
		len = (size_t)((const char *)memchr(p, ';', len) - p);
	}
	if (len < 7 || strncasecmp(p, "inline:", 7) != 0) {
		const char *c = memchr(p, ':', len);

		if (c == NULL || c == p)
			return mr_sdp_say(ps->err, ps->err_len, -EINVAL,
					  "key-param is not \"method:info\"");
		refuse(ps, "only the \"inline\" key method is supported");
		return 0;
	}
	p += 7;
	len -= 7;
	while (n < 3) {
		bar = memchr(p, '|', len);
		field[n] = p;
		flen[n] = bar != NULL ? (size_t)(bar - p) : len;
		n++;
		if (bar == NULL)
			break;
		len -= flen[n - 1] + 1;
		p = bar + 1;
		if (n == 3)
			return mr_sdp_say(ps->err, ps->err_len, -EINVAL,
					  "more than key|lifetime|MKI in a key-param");
	}

	got = mr_base64_len(field[0], flen[0], 0);
	if (got < 0)
		return mr_sdp_say(ps->err, ps->err_len, -EINVAL, "key is not valid base64");
	if ((size_t)got != (size_t)si->key_len + si->salt_len)
		return mr_sdp_say(ps->err, ps->err_len, -EINVAL,
				  "%s needs %u bytes of key and salt, got %zd", si->name,
				  si->key_len + si->salt_len, got);
	/* Valid, and of the suite's length, which fits @ks: it cannot fail. */
	(void)mr_base64_decode(field[0], flen[0], 0, ks, sizeof(ks));
	out->key_len = si->key_len;
	out->salt_len = si->salt_len;
	memcpy(out->key, ks, si->key_len);
	memcpy(out->salt, ks + si->key_len, si->salt_len);
	OPENSSL_cleanse(ks, sizeof(ks));

	for (i = 1; i < n; i++) {
		bool is_mki = memchr(field[i], ':', flen[i]) != NULL;

		if (is_mki && i + 1 < n)
			return mr_sdp_say(ps->err, ps->err_len, -EINVAL, "MKI before the lifetime");
		if (!is_mki && i == 2)
			return mr_sdp_say(ps->err, ps->err_len, -EINVAL,
					  "two lifetimes in a key-param");
		r = is_mki ? parse_mki(ps, field[i], flen[i], out) :
			     parse_lifetime(ps, field[i], flen[i], out);
		if (r < 0)
			return r;
	}
	return 0;
}

static bool
has_prefix(const char *p, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && strncasecmp(p, prefix, n) == 0;
}

/* One session parameter (RFC 4568's SRTP session parameters). */
static int
parse_session_param(struct parse_state *ps, const char *p, size_t len, struct mr_sdes_crypto *out)
{
	int shown = (int)(len < NAME_SHOWN ? len : NAME_SHOWN);
	uint64_t v;
	size_t i;

	for (i = 0; i < len; i++) {
		if ((unsigned char)p[i] < 0x21 || (unsigned char)p[i] > 0x7e)
			return mr_sdp_say(ps->err, ps->err_len, -EINVAL,
					  "session parameter with a control or non-ASCII byte");
	}
	if (word_eq(p, len, "UNENCRYPTED_SRTP")) {
		refuse(ps, "UNENCRYPTED_SRTP is not supported: media must be encrypted");
	} else if (word_eq(p, len, "UNENCRYPTED_SRTCP")) {
		refuse(ps, "UNENCRYPTED_SRTCP is not supported: RTCP must be encrypted");
	} else if (word_eq(p, len, "UNAUTHENTICATED_SRTP")) {
		refuse(ps, "UNAUTHENTICATED_SRTP is not supported: media must be authenticated");
	} else if (has_prefix(p, len, "KDR=")) {
		if (!parse_dec(p + 4, len - 4, 24, &v) || len - 4 > 2)
			return mr_sdp_say(ps->err, ps->err_len, -EINVAL, "KDR is not 0..24");
		/* Even KDR=0 asks for a key derivation rate of 2^0 (a new
		 * session key every packet), not for "none". */
		refuse(ps, "a key derivation rate (KDR) is not supported");
	} else if (has_prefix(p, len, "FEC_ORDER=")) {
		if (word_eq(p + 10, len - 10, "SRTP_FEC"))
			refuse(ps, "FEC_ORDER=SRTP_FEC is not supported");
		else if (!word_eq(p + 10, len - 10, "FEC_SRTP"))
			return mr_sdp_say(ps->err, ps->err_len, -EINVAL,
					  "FEC_ORDER is neither FEC_SRTP nor SRTP_FEC");
	} else if (has_prefix(p, len, "FEC_KEY=")) {
		refuse(ps, "FEC_KEY is not supported");
	} else if (has_prefix(p, len, "WSH=")) {
		if (!parse_dec(p + 4, len - 4, UINT32_MAX, &v) || v < WSH_MIN)
			return mr_sdp_say(ps->err, ps->err_len, -EINVAL,
					  "WSH is not a number >= 64");
		if (out->wsh != 0)
			return mr_sdp_say(ps->err, ps->err_len, -EINVAL, "WSH given twice");
		out->wsh = (uint32_t)v;
	} else if (p[0] != '-') {
		/* RFC 4568: an unknown parameter without a leading '-' must be
		 * understood, so a line carrying one cannot be accepted. */
		if (ps->refusal == NULL) {
			mr_sdp_say(ps->err, ps->err_len, -ENOTSUP,
				   "unknown session parameter \"%.*s\"", shown, p);
			ps->refusal = "";       /* reason already written */
		}
	}
	return 0;
}

int
mr_sdes_parse(const char *line, size_t len, uint32_t flags,
	      struct mr_sdes_crypto *ret, char *err, size_t err_len)
{
	struct parse_state ps = {
		.cur = { .s = line, .len = len }, .flags = flags, .err = err, .err_len = err_len,
	};
	const struct suite_info *si = NULL;
	struct mr_sdes_crypto c;
	const char *tok;
	size_t tok_len, i;
	uint64_t tag;
	int r;

	if (line == NULL)
		return mr_sdp_say(err, err_len, -EINVAL, "no a=crypto value");
	for (i = 0; i < len; i++) {
		if ((unsigned char)line[i] < 0x20 && line[i] != '\t')
			return mr_sdp_say(err, err_len, -EINVAL, "a=crypto holds a control byte");
	}
	while (len > 0 && is_wsp(line[len - 1]))
		len--;
	ps.cur.len = len;
	memset(&c, 0, sizeof(c));

	next_token(&ps.cur, &tok, &tok_len);
	if (tok_len > 9 || !parse_dec(tok, tok_len, MR_SDES_TAG_MAX, &tag) || tag == 0)
		return mr_sdp_say(err, err_len, -EINVAL, "tag is not a number 1..999999999");
	c.tag = (uint32_t)tag;

	if (skip_wsp(&ps.cur) == 0)
		return mr_sdp_say(err, err_len, -EINVAL, "no crypto-suite after the tag");
	next_token(&ps.cur, &tok, &tok_len);
	for (i = 0; i < tok_len; i++) {
		char ch = tok[i];

		if (!(is_digit(ch) || ch == '_' || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z')))
			return mr_sdp_say(err, err_len, -EINVAL,
					  "crypto-suite is not letters, digits and '_'");
	}
	c.suite = (uint8_t)mr_sdes_suite_from_name(tok, tok_len);
	si = suite_info(c.suite);
	if (si == NULL) {
		for (i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++) {
			if (word_eq(tok, tok_len, unsupported[i]))
				return mr_sdp_say(err, err_len, -ENOTSUP,
						  "crypto-suite %s is not supported",
						  unsupported[i]);
		}
		return mr_sdp_say(err, err_len, -ENOTSUP, "unknown crypto-suite \"%.*s\"",
				  (int)(tok_len < NAME_SHOWN ? tok_len : NAME_SHOWN), tok);
	}

	if (skip_wsp(&ps.cur) == 0)
		return mr_sdp_say(err, err_len, -EINVAL, "no key-params after the crypto-suite");
	next_token(&ps.cur, &tok, &tok_len);
	r = parse_key_params(&ps, si, tok, tok_len, &c);
	while (r == 0 && skip_wsp(&ps.cur) != 0) {
		next_token(&ps.cur, &tok, &tok_len);
		r = parse_session_param(&ps, tok, tok_len, &c);
	}
	if (r == 0 && ps.refusal != NULL) {
		r = -ENOTSUP;
		if (ps.refusal[0] != '\0')
			mr_sdp_say(err, err_len, r, "%s", ps.refusal);
	}
	if (r == 0) {
		*ret = c;
		mr_sdp_say(err, err_len, 0, "%s", "");
	}
	OPENSSL_cleanse(&c, sizeof(c));
	return r;
}

/* ---- printer ---------------------------------------------------------- */

int
mr_sdes_print(const struct mr_sdes_crypto *c, uint32_t flags,
	      char *buf, size_t cap, size_t *ret_len)
{
	const struct suite_info *si = suite_info(c->suite);
	uint8_t ks[KEY_SALT_MAX];
	char b64[4 * ((KEY_SALT_MAX + 2) / 3) + 1];
	char extra[80] = "";
	size_t n = 0;
	uint64_t mki = 0;
	int len;
	unsigned int i;

	if (si == NULL || c->tag == 0 || c->tag > MR_SDES_TAG_MAX || c->key_len != si->key_len ||
	    c->salt_len != si->salt_len || c->mki_len > MR_MKI_MAX_BYTES ||
	    (c->wsh != 0 && c->wsh < 64))
		return -EINVAL;
	if (c->lifetime != 0) {
		if ((c->lifetime & (c->lifetime - 1)) == 0)
			n = (size_t)snprintf(extra, sizeof(extra), "|2^%d", __builtin_ctzll(c->lifetime));
		else
			n = (size_t)snprintf(extra, sizeof(extra), "|%" PRIu64, c->lifetime);
	}
	if (c->mki_len != 0) {
		for (i = 0; i < c->mki_len; i++)
			mki = (mki << 8) | c->mki[i];
		n += (size_t)snprintf(extra + n, sizeof(extra) - n, "|%" PRIu64 ":%u", mki, c->mki_len);
	}
	if (c->wsh != 0)
		snprintf(extra + n, sizeof(extra) - n, " WSH=%" PRIu32, c->wsh);
	memcpy(ks, c->key, si->key_len);
	memcpy(ks + si->key_len, c->salt, si->salt_len);
	mr_base64_encode(ks, (size_t)si->key_len + si->salt_len, !(flags & MR_SDES_F_NO_PAD), b64);
	OPENSSL_cleanse(ks, sizeof(ks));
	len = snprintf(buf, cap, "%" PRIu32 " %s inline:%s%s", c->tag, si->name, b64, extra);
	OPENSSL_cleanse(b64, sizeof(b64));
	if (len < 0 || (size_t)len >= cap) {
		if (cap != 0)
			OPENSSL_cleanse(buf, cap);
		return -ENOSPC;
	}
	*ret_len = (size_t)len;
	return 0;
}
