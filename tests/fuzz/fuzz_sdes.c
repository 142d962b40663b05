/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for SDES (controlplane/session/sdes.c, sdes_negotiate.c).
 * The input is one a=crypto value, and also, split at newlines, the list of
 * a=crypto lines of an offer (and of an answer). Besides ASan's "no read
 * past the input", it aborts when a promise of sdes.h breaks:
 *  - a refused or malformed line leaves the output untouched and says why in
 *    a NUL-terminated reason; nothing else comes back;
 *  - an accepted line prints (padded or not) within MR_SDES_LINE_MAX and
 *    parses back to the same key, salt, MKI, lifetime and tag; flags only
 *    ever refuse more, never accept more;
 *  - an answer picks an offered line that parses alone, echoes its tag and
 *    suite and brings a key of the right length; the answer check accepts
 *    only a single line whose tag and suite were offered.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "sdes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FILL 0x5c
#define MAX_LINE_BYTES 512

static bool
all_fill(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++) {
		if (b[i] != FILL)
			return false;
	}
	return true;
}

static bool
reason_ok(const char *err, size_t cap)
{
	return memchr(err, '\0', cap) != NULL;
}

/* Parse with @flags; on success print both ways and parse back. */
static int
check_line(const char *line, size_t len, uint32_t flags, struct mr_sdes_crypto *ret)
{
	struct mr_sdes_crypto c, back;
	char err[96], out[MR_SDES_LINE_MAX];
	size_t out_len;
	uint32_t pad;
	int r;

	memset(&c, FILL, sizeof(c));
	memset(err, FILL, sizeof(err));
	r = mr_sdes_parse(line, len, flags, &c, err, sizeof(err));
	check(reason_ok(err, sizeof(err)));
	if (r < 0) {
		check(r == -EINVAL || r == -ENOTSUP);
		check(err[0] != '\0' && all_fill(&c, sizeof(c)));
		return r;
	}
	check(err[0] == '\0');
	check(c.tag >= 1 && c.tag <= MR_SDES_TAG_MAX);
	check(c.suite > MR_SUITE_NONE && c.suite < MR_SUITE_MAX);
	check(c.mki_len <= MR_MKI_MAX_BYTES && (c.mki_len == 0 || (flags & MR_SDES_F_MKI)));
	check(c.lifetime == 0 || ((flags & MR_SDES_F_LIFETIME) && c.lifetime >= (1ull << 31)));
	for (pad = 0; pad <= MR_SDES_F_NO_PAD; pad += MR_SDES_F_NO_PAD) {
		check(mr_sdes_print(&c, pad, out, sizeof(out), &out_len) == 0);
		check(out_len == strlen(out) && out_len < MR_SDES_LINE_MAX);
		check(mr_sdes_parse(out, out_len, flags, &back, NULL, 0) == 0);
		/* the tail of the arrays past the lengths is zero in both */
		check(memcmp(&back, &c, sizeof(c)) == 0);
	}
	if (ret != NULL)
		*ret = c;
	mr_sdes_wipe(&c);
	mr_sdes_wipe(&back);
	return 0;
}

/* Split @data at newlines into NUL-terminated lines in @buf. */
static size_t
split_lines(const uint8_t *data, size_t size, char *buf, const char **lines, size_t max)
{
	size_t n = 0, i, start = 0;

	memcpy(buf, data, size);
	buf[size] = '\0';
	for (i = 0; i <= size && n < max; i++) {
		if (i == size || buf[i] == '\n') {
			buf[i] = '\0';
			lines[n++] = buf + start;
			start = i + 1;
		}
	}
	return n;
}

static void
check_answer(const struct mr_sdes_prefs *prefs, const char *const *lines, size_t n)
{
	struct mr_sdes_crypto remote, local, alone;
	char err[256];
	size_t idx = SIZE_MAX;
	int r;

	memset(&remote, FILL, sizeof(remote));
	memset(&local, FILL, sizeof(local));
	r = mr_sdes_answer(prefs, lines, n, &idx, &remote, &local, err, sizeof(err));
	check(reason_ok(err, sizeof(err)));
	if (r < 0) {
		check(r == -EINVAL || r == -ENOTSUP || r == -ENOENT);
		check(idx == SIZE_MAX && all_fill(&remote, sizeof(remote)) &&
		      all_fill(&local, sizeof(local)));
		return;
	}
	check(idx < n && idx < MR_SDES_MAX_LINES);
	check(mr_sdes_parse(lines[idx], strlen(lines[idx]), prefs->flags, &alone, NULL, 0) == 0);
	check(memcmp(&alone, &remote, sizeof(alone)) == 0);
	check(local.tag == remote.tag && local.suite == remote.suite &&
	      local.key_len == remote.key_len && local.salt_len == remote.salt_len &&
	      local.mki_len == 0 && local.lifetime == 0);
	mr_sdes_wipe(&remote);
	mr_sdes_wipe(&local);
	mr_sdes_wipe(&alone);
}

/* The relay offered every suite with fixed keys, tags 1..6; is this its answer? */
static void
check_accept(const char *const *lines, size_t n)
{
	struct mr_sdes_crypto offered[MR_SUITE_MAX - 1], remote;
	size_t i, idx = SIZE_MAX;
	char err[128];
	int r;

	memset(offered, 0, sizeof(offered));
	for (i = 0; i < MR_SUITE_MAX - 1; i++) {
		offered[i].tag = (uint32_t)i + 1;
		offered[i].suite = (uint8_t)(i + 1);
		check(mr_sdes_suite_lengths((enum mr_srtp_suite)(i + 1), &offered[i].key_len,
					    &offered[i].salt_len));
	}
	memset(&remote, FILL, sizeof(remote));
	r = mr_sdes_accept_answer(offered, MR_SUITE_MAX - 1, MR_SDES_F_MKI, lines, n, &idx,
				  &remote, err, sizeof(err));
	if (r < 0) {
		check(r == -EINVAL || r == -ENOTSUP || r == -ENOENT);
		check(idx == SIZE_MAX && all_fill(&remote, sizeof(remote)));
		return;
	}
	check(n == 1 && idx < MR_SUITE_MAX - 1);
	check(remote.tag == offered[idx].tag && remote.suite == offered[idx].suite);
	mr_sdes_wipe(&remote);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[8192];
	const char *lines[MR_SDES_MAX_LINES + 2];
	struct mr_sdes_prefs prefs;
	size_t n;
	int strict, lax;

	/* One line: the flags only widen what is accepted. */
	if (size <= MAX_LINE_BYTES) {
		strict = check_line((const char *)data, size, 0, NULL);
		lax = check_line((const char *)data, size, MR_SDES_F_MKI | MR_SDES_F_LIFETIME, NULL);
		check(!(strict == 0 && lax != 0));
		check(!(strict == -EINVAL && lax != -EINVAL));
	}

	/* Lines: an offer to answer, and an answer to the relay's offer. */
	if (size >= sizeof(buf))
		return 0;
	n = split_lines(data, size, buf, lines, MR_SDES_MAX_LINES + 2);
	mr_sdes_prefs_default(&prefs);
	check_answer(&prefs, lines, n);
	prefs.flags = MR_SDES_F_OFFERER_ORDER | MR_SDES_F_MKI | MR_SDES_F_LIFETIME;
	prefs.n_suites = 3;                     /* a narrower configuration */
	prefs.suites[0] = MR_SUITE_AES_CM_128_HMAC_SHA1_80;
	prefs.suites[1] = MR_SUITE_AES_CM_128_HMAC_SHA1_32;
	prefs.suites[2] = MR_SUITE_AEAD_AES_128_GCM;
	check_answer(&prefs, lines, n);
	check_accept(lines, n);
	return 0;
}
