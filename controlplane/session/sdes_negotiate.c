/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SDES offer/answer (RFC 4568 section 7): the relay's preferences, key
 * generation, answering an offer and checking the answer to the relay's own
 * offer. Parsed offers hold the peers' keys: every temporary copy is wiped
 * before return, whatever the outcome.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "sdes.h"
#include "sdp_say.h"

#define REASON_MAX 160u

void
mr_sdes_prefs_default(struct mr_sdes_prefs *ret)
{
	static const uint8_t order[] = {
		MR_SUITE_AEAD_AES_256_GCM, MR_SUITE_AEAD_AES_128_GCM,
		MR_SUITE_AES_256_CM_HMAC_SHA1_80, MR_SUITE_AES_CM_128_HMAC_SHA1_80,
		MR_SUITE_AES_256_CM_HMAC_SHA1_32, MR_SUITE_AES_CM_128_HMAC_SHA1_32,
	};

	memset(ret, 0, sizeof(*ret));
	memcpy(ret->suites, order, sizeof(order));
	ret->n_suites = (uint8_t)sizeof(order);
}

int
mr_sdes_prefs_check(const struct mr_sdes_prefs *prefs)
{
	bool seen[MR_SUITE_MAX] = { false };
	unsigned int i;

	if (prefs == NULL || prefs->n_suites == 0 || prefs->n_suites > MR_SUITE_MAX - 1)
		return -EINVAL;
	for (i = 0; i < prefs->n_suites; i++) {
		uint8_t s = prefs->suites[i];

		if (s == MR_SUITE_NONE || s >= MR_SUITE_MAX || seen[s])
			return -EINVAL;
		seen[s] = true;
	}
	return 0;
}

static bool
prefs_allow(const struct mr_sdes_prefs *prefs, uint8_t suite)
{
	unsigned int i;

	for (i = 0; i < prefs->n_suites; i++) {
		if (prefs->suites[i] == suite)
			return true;
	}
	return false;
}

int
mr_sdes_generate(enum mr_srtp_suite suite, uint32_t tag, struct mr_sdes_crypto *ret)
{
	uint8_t key_len, salt_len;

	if (!mr_sdes_suite_lengths(suite, &key_len, &salt_len) || tag == 0 || tag > MR_SDES_TAG_MAX)
		return -EINVAL;
	mr_sdes_wipe(ret);
	ret->tag = tag;
	ret->suite = (uint8_t)suite;
	ret->key_len = key_len;
	ret->salt_len = salt_len;
	if (RAND_bytes(ret->key, key_len) != 1 || RAND_bytes(ret->salt, salt_len) != 1) {
		mr_sdes_wipe(ret);
		return -EIO;
	}
	return 0;
}

int
mr_sdes_offer(const struct mr_sdes_prefs *prefs, struct mr_sdes_crypto *ret,
	      size_t cap, size_t *ret_n)
{
	size_t i, n;
	int r;

	if (mr_sdes_prefs_check(prefs) < 0 || (ret == NULL && cap != 0))
		return -EINVAL;
	n = prefs->n_suites < cap ? prefs->n_suites : cap;
	for (i = 0; i < n; i++) {
		r = mr_sdes_generate((enum mr_srtp_suite)prefs->suites[i], (uint32_t)i + 1, &ret[i]);
		if (r < 0) {
			while (i-- > 0)
				mr_sdes_wipe(&ret[i]);
			return r;
		}
	}
	*ret_n = n;
	return 0;
}

/*
 * The suite an a=crypto line names, without parsing the rest: lets a refused
 * line be ranked by whether its suite was one the relay wanted.
 */
static uint8_t
peek_suite(const char *line)
{
	const char *p = line, *start;

	while (*p >= '0' && *p <= '9')
		p++;
	while (*p == ' ' || *p == '\t')
		p++;
	start = p;
	while (*p != '\0' && *p != ' ' && *p != '\t')
		p++;
	return (uint8_t)mr_sdes_suite_from_name(start, (size_t)(p - start));
}

struct offer_scan {
	struct mr_sdes_crypto c[MR_SDES_MAX_LINES];
	bool ok[MR_SDES_MAX_LINES];
	size_t n;
	char reason[REASON_MAX];        /* why the best-ranked refused line was refused */
	uint32_t reason_rank;       /* 0 none yet, 1 suite not wanted, 2 suite wanted */
};

static void
scan_wipe(struct offer_scan *sc)
{
	OPENSSL_cleanse(sc->c, sizeof(sc->c));
}

static void
note_refusal(struct offer_scan *sc, const char *line, uint32_t rank, const char *why)
{
	char tag[12];
	size_t i = 0;

	if (rank <= sc->reason_rank)
		return;
	while (i + 1 < sizeof(tag) && line[i] >= '0' && line[i] <= '9') {
		tag[i] = line[i];
		i++;
	}
	tag[i] = '\0';
	snprintf(sc->reason, sizeof(sc->reason), "a=crypto %s: %s", i != 0 ? tag : "?", why);
	sc->reason_rank = rank;
}

/* The tag a line starts with, or 0 if it does not start with a valid one. */
static uint32_t
peek_tag(const char *line)
{
	uint32_t tag = 0;
	size_t i;

	for (i = 0; line[i] >= '0' && line[i] <= '9'; i++) {
		if (i == 9)
			return 0;
		tag = tag * 10u + (uint32_t)(line[i] - '0');
	}
	return line[i] == ' ' || line[i] == '\t' ? tag : 0;
}

/*
 * Parse every offered line. -EINVAL if two lines share a tag, acceptable or
 * not: the answer names the chosen line by its tag alone.
 */
static int
scan_offer(struct offer_scan *sc, const struct mr_sdes_prefs *prefs,
	   const char *const *lines, size_t n, char *err, size_t err_len)
{
	uint32_t tags[MR_SDES_MAX_LINES];
	char why[REASON_MAX];
	size_t i, j;

	sc->n = n < MR_SDES_MAX_LINES ? n : MR_SDES_MAX_LINES;
	for (i = 0; i < sc->n; i++) {
		tags[i] = lines[i] != NULL ? peek_tag(lines[i]) : 0;
		for (j = 0; j < i && tags[i] != 0; j++) {
			if (tags[j] == tags[i])
				return mr_sdp_say(err, err_len, -EINVAL,
						  "a=crypto tag %u appears twice", tags[i]);
		}
	}
	for (i = 0; i < sc->n; i++) {
		uint32_t rank;

		if (lines[i] == NULL) {
			note_refusal(sc, "", 1, "missing");
			continue;
		}
		rank = prefs_allow(prefs, peek_suite(lines[i])) ? 2 : 1;
		if (mr_sdes_parse(lines[i], strlen(lines[i]), prefs->flags, &sc->c[i], why,
				  sizeof(why)) < 0) {
			note_refusal(sc, lines[i], rank, why);
			continue;
		}
		if (rank == 1) {
			snprintf(why, sizeof(why), "crypto-suite %s is not enabled",
				 mr_sdes_suite_name((enum mr_srtp_suite)sc->c[i].suite));
			note_refusal(sc, lines[i], 1, why);
			mr_sdes_wipe(&sc->c[i]);
			continue;
		}
		sc->ok[i] = true;
	}
	return 0;
}

static size_t
pick(const struct offer_scan *sc, const struct mr_sdes_prefs *prefs)
{
	size_t i, k;

	if (prefs->flags & MR_SDES_F_OFFERER_ORDER) {
		for (i = 0; i < sc->n; i++) {
			if (sc->ok[i])
				return i;
		}
		return SIZE_MAX;
	}
	for (k = 0; k < prefs->n_suites; k++) {
		for (i = 0; i < sc->n; i++) {
			if (sc->ok[i] && sc->c[i].suite == prefs->suites[k])
				return i;
		}
	}
	return SIZE_MAX;
}

int
mr_sdes_answer(const struct mr_sdes_prefs *prefs, const char *const *lines, size_t n,
	       size_t *ret_index, struct mr_sdes_crypto *ret_remote,
	       struct mr_sdes_crypto *ret_local, char *err, size_t err_len)
{
	struct offer_scan sc;
	struct mr_sdes_crypto local;
	size_t i;
	int r;

	if (mr_sdes_prefs_check(prefs) < 0)
		return mr_sdp_say(err, err_len, -EINVAL, "no valid crypto-suite preference");
	if (n == 0 || lines == NULL)
		return mr_sdp_say(err, err_len, -ENOENT, "no a=crypto line in the offer");
	memset(&sc, 0, sizeof(sc));
	r = scan_offer(&sc, prefs, lines, n, err, err_len);
	if (r < 0)
		goto out;
	i = pick(&sc, prefs);
	if (i == SIZE_MAX) {
		r = mr_sdp_say(err, err_len, -ENOTSUP, "no acceptable a=crypto line (%s)",
			       sc.reason);
		goto out;
	}
	r = mr_sdes_generate((enum mr_srtp_suite)sc.c[i].suite, sc.c[i].tag, &local);
	if (r < 0) {
		mr_sdp_say(err, err_len, r, "cannot generate a key");
		goto out;
	}
	*ret_index = i;
	*ret_remote = sc.c[i];
	*ret_local = local;
	mr_sdes_wipe(&local);
	mr_sdp_say(err, err_len, 0, "%s", "");
out:
	scan_wipe(&sc);
	return r;
}

int
mr_sdes_accept_answer(const struct mr_sdes_crypto *offered, size_t n_offered,
		      uint32_t flags, const char *const *lines, size_t n_lines,
		      size_t *ret_index, struct mr_sdes_crypto *ret_remote,
		      char *err, size_t err_len)
{
	struct mr_sdes_crypto c;
	size_t i;
	int r;

	if (n_lines == 0 || lines == NULL)
		return mr_sdp_say(err, err_len, -ENOENT, "no a=crypto line in the answer");
	if (n_lines > 1)
		return mr_sdp_say(err, err_len, -EINVAL,
				  "the answer has %zu a=crypto lines; RFC 4568 allows one",
				  n_lines);
	if (lines[0] == NULL)
		return mr_sdp_say(err, err_len, -ENOENT, "no a=crypto line in the answer");
	r = mr_sdes_parse(lines[0], strlen(lines[0]), flags, &c, err, err_len);
	if (r < 0)
		return r;
	for (i = 0; i < n_offered; i++) {
		if (offered[i].tag == c.tag)
			break;
	}
	if (i == n_offered) {
		r = mr_sdp_say(err, err_len, -EINVAL,
			       "the answer's a=crypto tag %u was not offered", c.tag);
	} else if (offered[i].suite != c.suite) {
		r = mr_sdp_say(err, err_len, -EINVAL,
			       "the answer's a=crypto tag %u has %s, but %s was offered", c.tag,
			       mr_sdes_suite_name((enum mr_srtp_suite)c.suite),
			       mr_sdes_suite_name((enum mr_srtp_suite)offered[i].suite));
	} else {
		*ret_index = i;
		*ret_remote = c;
	}
	mr_sdes_wipe(&c);
	return r;
}
