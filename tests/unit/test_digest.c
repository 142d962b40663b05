/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Digest authentication (controlplane/sip/digest.c, digest_parse.c, nonce.c):
 * the RFC 7616 section 3.9.1 example for MD5 and SHA-256 through HA1, the
 * response and a parsed Authorization header; a wrong password; stateless
 * nonces (fresh, expired -> -ESTALE, tampered, forged, from the future); the
 * challenge's exact bytes; the parser's accepted forms, one table row per
 * malformed or refused header with its reason, and every truncation and a
 * few thousand random mutations of a good header (no crash, no overread:
 * run under valgrind or ASan to see the latter).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "digest.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* RFC 7616 section 3.9.1 */
#define RFC_USER   "Mufasa"
#define RFC_REALM  "http-auth@example.org"
#define RFC_PASS   "Circle of Life"
#define RFC_URI    "/dir/index.html"
#define RFC_NONCE  "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
#define RFC_CNONCE "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
#define RFC_OPAQUE "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
#define RFC_RESP_MD5    "8ca523f5e9506fed4657c9700eebdbec"
#define RFC_RESP_SHA256 "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"

#define RFC_HDR(alg, resp)                                              \
	"Digest username=\"" RFC_USER "\",\r\n"                         \
	"       realm=\"" RFC_REALM "\",\r\n"                           \
	"       uri=\"" RFC_URI "\",\r\n"                               \
	"       algorithm=" alg ",\r\n"                                 \
	"       nonce=\"" RFC_NONCE "\",\r\n"                           \
	"       nc=00000001,\r\n"                                       \
	"       cnonce=\"" RFC_CNONCE "\",\r\n"                         \
	"       qop=auth,\r\n"                                          \
	"       response=\"" resp "\",\r\n"                             \
	"       opaque=\"" RFC_OPAQUE "\""

static const uint8_t secret[32] = "0123456789abcdef0123456789abcde";
static const uint8_t other_secret[32] = "fedcba9876543210fedcba987654321";

static int
parse(const char *h, struct mr_digest_creds *c, char *err, size_t err_len)
{
	return mr_digest_parse(h, strlen(h), c, err, err_len);
}

static void
test_alg_names(void **state)
{
	(void)state;
	assert_string_equal(mr_digest_alg_name(MR_DIGEST_MD5), "MD5");
	assert_string_equal(mr_digest_alg_name(MR_DIGEST_SHA256), "SHA-256");
	assert_null(mr_digest_alg_name(MR_DIGEST_INVALID));
	assert_int_equal(mr_digest_hex_len(MR_DIGEST_MD5), 32);
	assert_int_equal(mr_digest_hex_len(MR_DIGEST_SHA256), 64);
	assert_int_equal(mr_digest_hex_len(MR_DIGEST_INVALID), 0);
}

static void
check_rfc(enum mr_digest_alg alg, const char *hdr, const char *want)
{
	struct mr_digest_creds c;
	char ha1[MR_DIGEST_HEX_MAX], resp[MR_DIGEST_HEX_MAX], err[128];

	assert_int_equal(mr_digest_ha1(alg, RFC_USER, RFC_REALM, RFC_PASS, ha1), 0);
	assert_int_equal(strlen(ha1), mr_digest_hex_len(alg));
	assert_int_equal(mr_digest_response(alg, ha1, "GET", RFC_URI, RFC_NONCE, "00000001",
					    RFC_CNONCE, resp), 0);
	assert_string_equal(resp, want);

	assert_int_equal(parse(hdr, &c, err, sizeof(err)), 0);
	assert_int_equal(c.alg, alg);
	assert_string_equal(c.username, RFC_USER);
	assert_string_equal(c.realm, RFC_REALM);
	assert_string_equal(c.uri, RFC_URI);
	assert_string_equal(c.nonce, RFC_NONCE);
	assert_string_equal(c.cnonce, RFC_CNONCE);
	assert_string_equal(c.nc, "00000001");
	assert_string_equal(c.qop, "auth");
	assert_string_equal(c.opaque, RFC_OPAQUE);
	assert_string_equal(c.response, want);
	assert_int_equal(mr_digest_verify(&c, "GET", ha1), 0);
	/* the method is part of HA2 */
	assert_int_equal(mr_digest_verify(&c, "POST", ha1), -EACCES);
}

static void
test_rfc7616_md5(void **state)
{
	(void)state;
	check_rfc(MR_DIGEST_MD5, RFC_HDR("MD5", RFC_RESP_MD5), RFC_RESP_MD5);
}

static void
test_rfc7616_sha256(void **state)
{
	(void)state;
	check_rfc(MR_DIGEST_SHA256, RFC_HDR("SHA-256", RFC_RESP_SHA256), RFC_RESP_SHA256);
}

static void
test_wrong_password(void **state)
{
	struct mr_digest_creds c;
	char ha1[MR_DIGEST_HEX_MAX];

	(void)state;
	assert_int_equal(parse(RFC_HDR("SHA-256", RFC_RESP_SHA256), &c, NULL, 0), 0);
	assert_int_equal(mr_digest_ha1(MR_DIGEST_SHA256, RFC_USER, RFC_REALM, "Circle Of Life",
				       ha1), 0);
	assert_int_equal(mr_digest_verify(&c, "GET", ha1), -EACCES);
	/* an MD5 HA1 for a SHA-256 response: wrong length, refused */
	assert_int_equal(mr_digest_ha1(MR_DIGEST_MD5, RFC_USER, RFC_REALM, RFC_PASS, ha1), 0);
	assert_int_equal(mr_digest_verify(&c, "GET", ha1), -EINVAL);
	/* a response that differs only in its last digit */
	assert_int_equal(mr_digest_ha1(MR_DIGEST_SHA256, RFC_USER, RFC_REALM, RFC_PASS, ha1), 0);
	((char *)c.response)[63] = c.response[63] == '0' ? '1' : '0';
	assert_int_equal(mr_digest_verify(&c, "GET", ha1), -EACCES);
}

static void
test_ha1_args(void **state)
{
	char ha1[MR_DIGEST_HEX_MAX];

	(void)state;
	assert_int_equal(mr_digest_ha1(MR_DIGEST_INVALID, "a", "r", "p", ha1), -EINVAL);
	assert_int_equal(mr_digest_ha1(MR_DIGEST_MD5, "a:b", "r", "p", ha1), -EINVAL);
	assert_int_equal(mr_digest_ha1(MR_DIGEST_MD5, "a", "r:x", "p", ha1), -EINVAL);
	assert_int_equal(mr_digest_ha1(MR_DIGEST_MD5, NULL, "r", "p", ha1), -EINVAL);
	/* a ':' in the password is fine: it is the last part */
	assert_int_equal(mr_digest_ha1(MR_DIGEST_MD5, "a", "r", "p:q", ha1), 0);
}

/* ---- nonces ------------------------------------------------------------ */

static void
test_nonce_fresh_and_stale(void **state)
{
	char n1[MR_DIGEST_NONCE_LEN + 1], n2[MR_DIGEST_NONCE_LEN + 1];
	const uint64_t t = 1800000000;

	(void)state;
	assert_int_equal(mr_digest_nonce_make(secret, sizeof(secret), t, n1), 0);
	assert_int_equal(strlen(n1), MR_DIGEST_NONCE_LEN);
	assert_int_equal(mr_digest_nonce_make(secret, sizeof(secret), t, n2), 0);
	assert_string_not_equal(n1, n2);        /* random part */
	assert_int_equal(mr_digest_nonce_check(secret, sizeof(secret), n1, t, 300), 0);
	assert_int_equal(mr_digest_nonce_check(secret, sizeof(secret), n1, t + 300, 300), 0);
	assert_int_equal(mr_digest_nonce_check(secret, sizeof(secret), n1, t + 301, 300), -ESTALE);
	assert_int_equal(mr_digest_nonce_check(secret, sizeof(secret), n1, t + 86400, 300),
			 -ESTALE);
	/* from the future beyond the skew allowance: not ours to trust */
	assert_int_equal(mr_digest_nonce_check(secret, sizeof(secret), n1, t - 60, 300), -EINVAL);
	/* another server's secret */
	assert_int_equal(mr_digest_nonce_check(other_secret, sizeof(other_secret), n1, t, 300),
			 -EINVAL);
}

static void
test_nonce_tampered(void **state)
{
	char n[MR_DIGEST_NONCE_LEN + 1], bad[MR_DIGEST_NONCE_LEN + 2];
	const uint64_t t = 1800000000;
	size_t i;

	(void)state;
	assert_int_equal(mr_digest_nonce_make(secret, sizeof(secret), t, n), 0);
	/* every single-digit change, in timestamp, random part and MAC alike */
	for (i = 0; i < MR_DIGEST_NONCE_LEN; i++) {
		strcpy(bad, n);
		bad[i] = bad[i] == '0' ? '1' : '0';
		assert_int_equal(mr_digest_nonce_check(secret, sizeof(secret), bad, t, 300),
				 -EINVAL);
	}
	/* an old timestamp spliced in is not "stale": the MAC fails first */
	strcpy(bad, n);
	memcpy(bad, "0000000000000001", 16);
	assert_int_equal(mr_digest_nonce_check(secret, sizeof(secret), bad, t, 300), -EINVAL);
	/* truncated, extended, uppercase, empty, the RFC's */
	strcpy(bad, n);
	bad[MR_DIGEST_NONCE_LEN - 1] = '\0';
	assert_int_equal(mr_digest_nonce_check(secret, sizeof(secret), bad, t, 300), -EINVAL);
	snprintf(bad, sizeof(bad), "%s0", n);
	assert_int_equal(mr_digest_nonce_check(secret, sizeof(secret), bad, t, 300), -EINVAL);
	strcpy(bad, n);
	for (i = 0; bad[i] != '\0'; i++)
		if (bad[i] >= 'a' && bad[i] <= 'f')
			bad[i] = (char)(bad[i] - 'a' + 'A');
	if (strcmp(bad, n) != 0)
		assert_int_equal(mr_digest_nonce_check(secret, sizeof(secret), bad, t, 300),
				 -EINVAL);
	assert_int_equal(mr_digest_nonce_check(secret, sizeof(secret), "", t, 300), -EINVAL);
	assert_int_equal(mr_digest_nonce_check(secret, sizeof(secret), RFC_NONCE, t, 300),
			 -EINVAL);
	/* secrets too short to be one */
	assert_int_equal(mr_digest_nonce_make(secret, 16, t, n), -EINVAL);
	assert_int_equal(mr_digest_nonce_check(secret, 16, n, t, 300), -EINVAL);
}

/* ---- challenge --------------------------------------------------------- */

static void
test_challenge(void **state)
{
	char out[256], small[40];

	(void)state;
	assert_int_equal(mr_digest_challenge(out, sizeof(out), "example.net", "abc",
					     MR_DIGEST_SHA256, false), 0);
	assert_string_equal(out, "Digest realm=\"example.net\", nonce=\"abc\", "
			    "algorithm=SHA-256, qop=\"auth\"");
	assert_int_equal(mr_digest_challenge(out, sizeof(out), "example.net", "abc",
					     MR_DIGEST_MD5, true), 0);
	assert_string_equal(out, "Digest realm=\"example.net\", nonce=\"abc\", "
			    "algorithm=MD5, qop=\"auth\", stale=true");
	assert_int_equal(mr_digest_challenge(out, sizeof(out), "a\"b\\c", "n",
					     MR_DIGEST_MD5, false), 0);
	assert_string_equal(out, "Digest realm=\"a\\\"b\\\\c\", nonce=\"n\", "
			    "algorithm=MD5, qop=\"auth\"");
	assert_int_equal(mr_digest_challenge(small, sizeof(small), "example.net", "abc",
					     MR_DIGEST_MD5, false), -ENOSPC);
	assert_int_equal(mr_digest_challenge(small, 10, "example.net", "abc",
					     MR_DIGEST_MD5, false), -ENOSPC);
	assert_int_equal(mr_digest_challenge(out, sizeof(out), "a\r\nb", "n",
					     MR_DIGEST_MD5, false), -EINVAL);
	assert_int_equal(mr_digest_challenge(out, sizeof(out), "r", "n\"",
					     MR_DIGEST_MD5, false), -EINVAL);
	assert_int_equal(mr_digest_challenge(out, sizeof(out), "r", "n",
					     MR_DIGEST_INVALID, false), -EINVAL);
}

/* ---- parser ------------------------------------------------------------ */

#define GOOD_TAIL "nonce=\"n\", uri=\"sip:x\", qop=auth, nc=00000001, cnonce=\"c\", " \
	"response=\"" RFC_RESP_MD5 "\""

static void
test_parse_forms(void **state)
{
	struct mr_digest_creds c;
	char err[128];

	(void)state;
	/* escapes are removed; names and scheme match without case */
	assert_int_equal(parse("digest USERNAME=\"a\\\"b\\\\c\", Realm=\"r\", " GOOD_TAIL,
			       &c, err, sizeof(err)), 0);
	assert_string_equal(c.username, "a\"b\\c");
	assert_string_equal(c.realm, "r");
	assert_int_equal(c.alg, MR_DIGEST_MD5);         /* no algorithm: MD5 */
	assert_null(c.opaque);
	/* commas inside quotes, empty elements, unknown params, folded lines */
	assert_int_equal(parse("Digest ,username=\"x, y\",,realm=\"r\" ,\r\n\t"
			       "foo=bar, baz=\"q,\\\"\", " GOOD_TAIL ",", &c, err, sizeof(err)), 0);
	assert_string_equal(c.username, "x, y");
	/* uppercase hex response and qop are normalised */
	assert_int_equal(parse("Digest username=u, realm=r, nonce=n, uri=\"sip:x\", qop=AUTH,"
			       " nc=0000000A, cnonce=c, algorithm=sha-256, response="
			       "753927FA0E85D155564E2E272A28D1802CA10DAF4496794697CF8DB5856CB6C1",
			       &c, err, sizeof(err)), 0);
	assert_int_equal(c.alg, MR_DIGEST_SHA256);
	assert_string_equal(c.response, RFC_RESP_SHA256);
	assert_string_equal(c.qop, "auth");
	assert_string_equal(c.nc, "0000000A");
	/* a value may be an empty quoted-string */
	assert_int_equal(parse("Digest username=\"\", realm=\"\", " GOOD_TAIL,
			       &c, err, sizeof(err)), 0);
	assert_string_equal(c.username, "");
}

static void
test_parse_bad(void **state)
{
	static const struct {
		const char *hdr;
		int ret;
		const char *why;
	} rows[] = {
		{ "", -EINVAL, "scheme is not Digest" },
		{ "Basic dXNlcjpwYXNz", -EINVAL, "scheme is not Digest" },
		{ "Digestusername=\"a\"", -EINVAL, "scheme is not Digest" },
		{ "Digest", -EINVAL, "no parameters" },
		{ "Digest   ", -EINVAL, "no parameters" },
		{ "Digest username", -EINVAL, "expected '=' after username" },
		{ "Digest username=", -EINVAL, "missing value of username" },
		{ "Digest username=\"abc", -EINVAL, "username: unterminated quoted-string" },
		{ "Digest username=\"abc\\", -EINVAL, "username: unterminated quoted-string" },
		{ "Digest username=\"a\\\rb\"", -EINVAL, "username: bad escape in quoted-string" },
		{ "Digest username=\"a\rb\"", -EINVAL,
		  "username: control character in quoted-string" },
		{ "Digest username=\"a\x01" "b\"", -EINVAL,
		  "username: control character in quoted-string" },
		{ "Digest username=\"a\" realm=\"r\"", -EINVAL, "expected ',' after username" },
		{ "Digest username=a b", -EINVAL, "expected ',' after username" },
		{ "Digest =a", -EINVAL, "expected a parameter name at offset 7" },
		{ "Digest username=@", -EINVAL, "bad value of username" },
		{ "Digest username=a,\nrealm=b", -EINVAL, "bare CR or LF" },
		{ "Digest username=a,\r\nrealm=b", -EINVAL, "bare CR or LF" },
		{ "Digest username=a, username=b", -EINVAL, "duplicate username" },
		{ "Digest realm=\"r\", " GOOD_TAIL, -EINVAL, "missing username" },
		{ "Digest username=u, " GOOD_TAIL, -EINVAL, "missing realm" },
		{ "Digest username=u, realm=r, uri=x, response=x", -EINVAL, "missing nonce" },
		{ "Digest username=u, realm=r, nonce=n, response=x", -EINVAL, "missing uri" },
		{ "Digest username=u, realm=r, nonce=n, uri=x", -EINVAL, "missing response" },
		{ "Digest username=u, realm=r, nonce=n, uri=x, response=x, algorithm=SHA-512-256",
		  -ENOTSUP, "unsupported algorithm" },
		{ "Digest username=u, realm=r, nonce=n, uri=x, response=x, algorithm=MD5-sess",
		  -ENOTSUP, "unsupported algorithm" },
		{ "Digest username=u, realm=r, nonce=n, uri=x, response=" RFC_RESP_MD5, -ENOTSUP,
		  "qop missing: qop=auth is required" },
		{ "Digest username=u, realm=r, nonce=n, uri=x, response=x, qop=auth-int",
		  -ENOTSUP, "unsupported qop" },
		{ "Digest username=u, realm=r, nonce=n, uri=x, response=x, qop=auth, cnonce=c",
		  -EINVAL, "qop=auth without nc and cnonce" },
		{ "Digest username=u, realm=r, nonce=n, uri=x, response=x, qop=auth, nc=00000001",
		  -EINVAL, "qop=auth without nc and cnonce" },
		{ "Digest username=u, realm=r, nonce=n, uri=x, response=x, qop=auth, nc=1,"
		  " cnonce=c", -EINVAL, "nc is not 8 hex digits" },
		{ "Digest username=u, realm=r, nonce=n, uri=x, response=x, qop=auth,"
		  " nc=0000000g, cnonce=c", -EINVAL, "nc is not 8 hex digits" },
		{ "Digest username=u, realm=r, nonce=n, uri=x, response=x, qop=auth,"
		  " nc=00000001, cnonce=\"\"", -EINVAL, "empty cnonce" },
		{ "Digest username=u, realm=r, nonce=n, uri=x, response=x, qop=auth,"
		  " nc=00000001, cnonce=c", -EINVAL, "response is not a MD5 hash in hex" },
		{ "Digest username=u, realm=r, nonce=n, uri=x, qop=auth, nc=00000001, cnonce=c,"
		  " algorithm=SHA-256, response=" RFC_RESP_MD5, -EINVAL,
		  "response is not a SHA-256 hash in hex" },
	};
	struct mr_digest_creds c;
	char err[128];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		err[0] = '\0';
		print_message("row %zu: %s\n", i, rows[i].why);
		assert_int_equal(parse(rows[i].hdr, &c, err, sizeof(err)), rows[i].ret);
		assert_string_equal(err, rows[i].why);
	}
	/* a NUL byte inside the given length */
	assert_int_equal(mr_digest_parse("Digest username=\"a\0b\"", 21, &c, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(mr_digest_parse("Digest u\0=a", 11, &c, err, sizeof(err)), -EINVAL);
	/* too long, NULL header, NULL err */
	{
		char *big = malloc(MR_DIGEST_HDR_MAX + 16);

		assert_non_null(big);
		memset(big, 'a', MR_DIGEST_HDR_MAX + 15);
		memcpy(big, "Digest username=", 16);
		big[MR_DIGEST_HDR_MAX + 15] = '\0';
		assert_int_equal(parse(big, &c, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, "header too long");
		free(big);
	}
	assert_int_equal(mr_digest_parse(NULL, 0, &c, NULL, 0), -EINVAL);
	assert_int_equal(parse("junk", &c, NULL, 0), -EINVAL);
}

/* Every prefix and many random mutations of a good header: a result, never a
 * crash; on success the required fields are present. */
static void
test_parse_robust(void **state)
{
	static const char good[] = RFC_HDR("SHA-256", RFC_RESP_SHA256);
	const size_t n = sizeof(good) - 1;
	struct mr_digest_creds c;
	char err[128], *buf = malloc(n);
	unsigned int seed = 12345;
	size_t i, k;
	int r;

	(void)state;
	assert_non_null(buf);
	for (i = 0; i <= n; i++) {
		memcpy(buf, good, i);   /* exactly i bytes: an overread would show in ASan */
		r = mr_digest_parse(buf, i, &c, err, sizeof(err));
		assert_true(r == 0 || r == -EINVAL || r == -ENOTSUP);
		if (r == 0)
			assert_non_null(c.response);
	}
	for (i = 0; i < 5000; i++) {
		memcpy(buf, good, n);
		for (k = 0; k < 1 + i % 4; k++) {
			seed = seed * 1103515245u + 12345u;
			buf[(seed >> 8) % n] = (char)(seed >> 20);
		}
		r = mr_digest_parse(buf, n, &c, err, sizeof(err));
		assert_true(r == 0 || r == -EINVAL || r == -ENOTSUP);
		if (r == 0) {
			assert_non_null(c.username);
			assert_int_equal(strlen(c.response), mr_digest_hex_len(c.alg));
		}
	}
	free(buf);
}

/* The whole exchange as the registrar will run it. */
static void
test_round_trip(void **state)
{
	char nonce[MR_DIGEST_NONCE_LEN + 1], chal[256], ha1[MR_DIGEST_HEX_MAX];
	char resp[MR_DIGEST_HEX_MAX], hdr[512], err[128];
	struct mr_digest_creds c;
	const uint64_t t = 1800000000;

	(void)state;
	assert_int_equal(mr_digest_nonce_make(secret, sizeof(secret), t, nonce), 0);
	assert_int_equal(mr_digest_challenge(chal, sizeof(chal), "example.net", nonce,
					     MR_DIGEST_SHA256, false), 0);
	assert_int_equal(mr_digest_ha1(MR_DIGEST_SHA256, "alice", "example.net", "s3cret", ha1), 0);
	assert_int_equal(mr_digest_response(MR_DIGEST_SHA256, ha1, "REGISTER", "sip:example.net",
					    nonce, "00000001", "xyz", resp), 0);
	snprintf(hdr, sizeof(hdr), "Digest username=\"alice\", realm=\"example.net\", "
		 "nonce=\"%s\", uri=\"sip:example.net\", response=\"%s\", algorithm=SHA-256, "
		 "cnonce=\"xyz\", qop=auth, nc=00000001", nonce, resp);
	assert_int_equal(parse(hdr, &c, err, sizeof(err)), 0);
	assert_int_equal(mr_digest_nonce_check(secret, sizeof(secret), c.nonce, t + 10, 300), 0);
	assert_int_equal(mr_digest_verify(&c, "REGISTER", ha1), 0);
	assert_int_equal(mr_digest_nonce_check(secret, sizeof(secret), c.nonce, t + 900, 300),
			 -ESTALE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alg_names),
		cmocka_unit_test(test_rfc7616_md5),
		cmocka_unit_test(test_rfc7616_sha256),
		cmocka_unit_test(test_wrong_password),
		cmocka_unit_test(test_ha1_args),
		cmocka_unit_test(test_nonce_fresh_and_stale),
		cmocka_unit_test(test_nonce_tampered),
		cmocka_unit_test(test_challenge),
		cmocka_unit_test(test_parse_forms),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_robust),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
