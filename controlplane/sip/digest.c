/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Digest hashes, the response check and the challenge (contract in digest.h).
 * With qop=auth (RFC 7616 section 3.4.1):
 *
 *   HA1      = H(username ":" realm ":" password)
 *   HA2      = H(method ":" uri)
 *   response = H(HA1 ":" nonce ":" nc ":" cnonce ":" "auth" ":" HA2)
 *
 * H is MD5 or SHA-256 in lowercase hex. Parts are fed to the hash one by one
 * so that the password and HA1 are never concatenated into a buffer of ours.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "digest.h"

const char *
mr_digest_alg_name(enum mr_digest_alg alg)
{
	switch (alg) {
	case MR_DIGEST_MD5:
		return "MD5";
	case MR_DIGEST_SHA256:
		return "SHA-256";
	default:
		return NULL;
	}
}

size_t
mr_digest_hex_len(enum mr_digest_alg alg)
{
	switch (alg) {
	case MR_DIGEST_MD5:
		return 32;
	case MR_DIGEST_SHA256:
		return 64;
	default:
		return 0;
	}
}

static const EVP_MD *
alg_md(enum mr_digest_alg alg)
{
	switch (alg) {
	case MR_DIGEST_MD5:
		return EVP_md5();
	case MR_DIGEST_SHA256:
		return EVP_sha256();
	default:
		return NULL;
	}
}

static void
to_hex(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * n] = '\0';
}

/* H(parts[0] ":" parts[1] ":" ...) in lowercase hex. */
static int
hash_hex(enum mr_digest_alg alg, const char *const *parts, size_t n, char *ret_hex)
{
	const EVP_MD *md = alg_md(alg);
	uint8_t d[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	EVP_MD_CTX *ctx;
	size_t i;
	int ok;

	if (md == NULL)
		return -EINVAL;
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return -ENOMEM;
	ok = EVP_DigestInit_ex(ctx, md, NULL);
	for (i = 0; ok && i < n; i++) {
		if (i > 0)
			ok = EVP_DigestUpdate(ctx, ":", 1);
		if (ok)
			ok = EVP_DigestUpdate(ctx, parts[i], strlen(parts[i]));
	}
	if (ok)
		ok = EVP_DigestFinal_ex(ctx, d, &dlen);
	EVP_MD_CTX_free(ctx);          /* cleanses its state, which saw the password */
	if (!ok || dlen * 2 != mr_digest_hex_len(alg)) {
		OPENSSL_cleanse(d, sizeof(d));
		return -EIO;
	}
	to_hex(d, dlen, ret_hex);
	OPENSSL_cleanse(d, sizeof(d));
	return 0;
}

int
mr_digest_ha1(enum mr_digest_alg alg, const char *user, const char *realm,
	      const char *password, char *ret_hex)
{
	const char *parts[3] = { user, realm, password };

	if (user == NULL || realm == NULL || password == NULL || ret_hex == NULL)
		return -EINVAL;
	if (strchr(user, ':') != NULL || strchr(realm, ':') != NULL)
		return -EINVAL;
	return hash_hex(alg, parts, 3, ret_hex);
}

static bool
is_lower_hex(const char *s, size_t n)
{
	size_t i;

	if (strlen(s) != n)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int
mr_digest_response(enum mr_digest_alg alg, const char *ha1_hex, const char *method,
		   const char *uri, const char *nonce, const char *nc, const char *cnonce,
		   char *ret_hex)
{
	char ha2[MR_DIGEST_HEX_MAX];
	const char *a2[2] = { method, uri };
	const char *parts[6] = { ha1_hex, nonce, nc, cnonce, "auth", ha2 };
	int r;

	if (ha1_hex == NULL || method == NULL || uri == NULL || nonce == NULL ||
	    nc == NULL || cnonce == NULL || ret_hex == NULL)
		return -EINVAL;
	if (mr_digest_hex_len(alg) == 0 || !is_lower_hex(ha1_hex, mr_digest_hex_len(alg)))
		return -EINVAL;
	r = hash_hex(alg, a2, 2, ha2);
	if (r < 0)
		return r;
	return hash_hex(alg, parts, 6, ret_hex);
}

int
mr_digest_verify(const struct mr_digest_creds *c, const char *method, const char *ha1_hex)
{
	char want[MR_DIGEST_HEX_MAX];
	size_t n;
	int r;

	if (c == NULL || method == NULL || ha1_hex == NULL || c->response == NULL ||
	    c->uri == NULL || c->nonce == NULL || c->nc == NULL || c->cnonce == NULL)
		return -EINVAL;
	n = mr_digest_hex_len(c->alg);
	r = mr_digest_response(c->alg, ha1_hex, method, c->uri, c->nonce, c->nc, c->cnonce, want);
	if (r < 0)
		return r;
	/* The parser lowercased the response and fixed its length; check the
	 * length again so a hand-built struct cannot make us read past it. */
	if (strlen(c->response) != n) {
		r = -EACCES;
		goto out_wipe;
	}
	r = CRYPTO_memcmp(want, c->response, n) == 0 ? 0 : -EACCES;
out_wipe:
	OPENSSL_cleanse(want, sizeof(want));   /* a valid response for this nonce */
	return r;
}

/* Whether @s is safe inside a quoted-string: no control characters. */
static bool
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

int
mr_digest_challenge(char *out, size_t out_len, const char *realm, const char *nonce,
		    enum mr_digest_alg alg, bool stale)
{
	const char *name = mr_digest_alg_name(alg);
	const char *p;
	size_t o = 0;
	int n;

	if (out == NULL || realm == NULL || nonce == NULL || name == NULL ||
	    !printable(realm) || !printable(nonce) || strpbrk(nonce, "\"\\") != NULL)
		return -EINVAL;
#define PUT(ch) do { if (o + 1 >= out_len) return -ENOSPC; out[o++] = (ch); } while (0)
	n = snprintf(out, out_len, "Digest realm=\"");
	if (n < 0 || (size_t)n >= out_len)
		return -ENOSPC;
	o = (size_t)n;
	for (p = realm; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			PUT('\\');
		PUT(*p);
	}
#undef PUT
	n = snprintf(out + o, out_len - o, "\", nonce=\"%s\", algorithm=%s, qop=\"auth\"%s",
		     nonce, name, stale ? ", stale=true" : "");
	if (n < 0 || (size_t)n >= out_len - o)
		return -ENOSPC;
	return 0;
}
