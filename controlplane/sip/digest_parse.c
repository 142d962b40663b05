/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Authorization header value (contract in digest.h). Grammar, from
 * RFC 3261 section 25.1 and RFC 7616 section 3.4:
 *
 *   credentials  = "Digest" LWS dig-resp *(COMMA dig-resp)
 *   dig-resp     = token EQUAL ( token / quoted-string )
 *   quoted-string = DQUOTE *(qdtext / quoted-pair) DQUOTE
 *   quoted-pair  = "\" (any char but CR and LF)
 *
 * LWS includes folded lines (CRLF followed by a blank); a bare CR or LF is
 * refused. Empty list elements (", ,") are skipped, as RFC 7230 section 7
 * allows. Values are copied, unescaped, into the output's buffer; the copy
 * is never longer than the input, so MR_DIGEST_HDR_MAX bounds both.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "digest.h"

struct cursor {
	const char *p, *end;
	char *o, *oend;                 /* output: the creds' buffer */
};

static int
fail(int r, char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && err_len > 0) {
		va_start(ap, fmt);
		vsnprintf(err, err_len, fmt, ap);
		va_end(ap);
	}
	return r;
}

/* RFC 3261 token characters. */
static bool
is_token(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("-.!%*_+`'~", c) != NULL);
}

/* Skip LWS. Returns false on a CR or LF that is not a line fold. */
static bool
skip_lws(struct cursor *c)
{
	while (c->p < c->end) {
		if (*c->p == ' ' || *c->p == '\t') {
			c->p++;
		} else if (*c->p == '\r' && c->end - c->p >= 3 && c->p[1] == '\n' &&
			   (c->p[2] == ' ' || c->p[2] == '\t')) {
			c->p += 3;
		} else if (*c->p == '\r' || *c->p == '\n') {
			return false;
		} else {
			break;
		}
	}
	return true;
}

/* Copy one token to the output, NUL-terminated; returns its start or NULL. */
static char *
take_token(struct cursor *c)
{
	char *start = c->o;

	while (c->p < c->end && is_token(*c->p)) {
		if (c->o + 1 >= c->oend)
			return NULL;
		*c->o++ = *c->p++;
	}
	if (c->o == start)
		return NULL;
	*c->o++ = '\0';
	return start;
}

/* Copy one quoted-string's content, unescaped; c->p is on the opening quote. */
static char *
take_quoted(struct cursor *c, const char **why)
{
	char *start = c->o;

	c->p++;
	for (;;) {
		char ch;

		if (c->p >= c->end) {
			*why = "unterminated quoted-string";
			return NULL;
		}
		ch = *c->p++;
		if (ch == '"')
			break;
		if (ch == '\\') {
			if (c->p >= c->end) {
				*why = "unterminated quoted-string";
				return NULL;
			}
			ch = *c->p++;
			if (ch == '\r' || ch == '\n' || ch == '\0') {
				*why = "bad escape in quoted-string";
				return NULL;
			}
		} else if (ch == '\0' || ch == '\r' || ch == '\n' ||
			   ((unsigned char)ch < 0x20 && ch != '\t') || ch == 0x7f) {
			*why = "control character in quoted-string";
			return NULL;
		}
		if (c->o + 1 >= c->oend) {
			*why = "header too long";
			return NULL;
		}
		*c->o++ = ch;
	}
	if (c->o + 1 >= c->oend) {
		*why = "header too long";
		return NULL;
	}
	*c->o++ = '\0';
	return start;
}

static bool
is_hex(const char *s, size_t n)
{
	size_t i;

	if (strlen(s) != n)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
		      (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	return true;
}

static void
lowercase(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'F')
			*s = (char)(*s - 'A' + 'a');
}

/* The parameters we read; an unknown name maps to NULL and is ignored. */
static const char **
slot_for(struct mr_digest_creds *d, const char *name, const char **alg)
{
	static const char *const names[] = {
		"username", "realm", "nonce", "uri", "response",
		"cnonce", "nc", "qop", "opaque", "algorithm",
	};
	const char **slots[] = {
		&d->username, &d->realm, &d->nonce, &d->uri, &d->response,
		&d->cnonce, &d->nc, &d->qop, &d->opaque, alg,
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(name, names[i]) == 0)
			return slots[i];
	return NULL;
}

static int
check_fields(struct mr_digest_creds *d, const char *alg, char *err, size_t err_len)
{
	static const struct {
		size_t off;
		const char *name;
	} required[] = {
		{ offsetof(struct mr_digest_creds, username), "username" },
		{ offsetof(struct mr_digest_creds, realm), "realm" },
		{ offsetof(struct mr_digest_creds, nonce), "nonce" },
		{ offsetof(struct mr_digest_creds, uri), "uri" },
		{ offsetof(struct mr_digest_creds, response), "response" },
	};
	size_t i;

	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (*(const char **)((char *)d + required[i].off) == NULL)
			return fail(-EINVAL, err, err_len, "missing %s", required[i].name);
	if (alg == NULL || strcasecmp(alg, "MD5") == 0)
		d->alg = MR_DIGEST_MD5;
	else if (strcasecmp(alg, "SHA-256") == 0)
		d->alg = MR_DIGEST_SHA256;
	else
		return fail(-ENOTSUP, err, err_len, "unsupported algorithm");
	if (d->qop == NULL)
		return fail(-ENOTSUP, err, err_len, "qop missing: qop=auth is required");
	if (strcasecmp(d->qop, "auth") != 0)
		return fail(-ENOTSUP, err, err_len, "unsupported qop");
	d->qop = "auth";
	if (d->nc == NULL || d->cnonce == NULL)
		return fail(-EINVAL, err, err_len, "qop=auth without nc and cnonce");
	if (!is_hex(d->nc, 8))
		return fail(-EINVAL, err, err_len, "nc is not 8 hex digits");
	if (d->cnonce[0] == '\0')
		return fail(-EINVAL, err, err_len, "empty cnonce");
	if (!is_hex(d->response, mr_digest_hex_len(d->alg)))
		return fail(-EINVAL, err, err_len, "response is not a %s hash in hex",
			    mr_digest_alg_name(d->alg));
	lowercase((char *)d->response); /* points into d->buf */
	return 0;
}

int
mr_digest_parse(const char *hdr, size_t len, struct mr_digest_creds *ret,
		char *err, size_t err_len)
{
	struct mr_digest_creds d;
	struct cursor c;
	const char *alg = NULL, *why = NULL;
	bool any = false;
	int r;

	if (hdr == NULL || ret == NULL)
		return fail(-EINVAL, err, err_len, "no header");
	if (len >= MR_DIGEST_HDR_MAX)
		return fail(-EINVAL, err, err_len, "header too long");
	memset(&d, 0, sizeof(d));
	c = (struct cursor){ .p = hdr, .end = hdr + len, .o = d.buf, .oend = d.buf + sizeof(d.buf) };
	if (!skip_lws(&c))
		return fail(-EINVAL, err, err_len, "bare CR or LF");
	if (c.end - c.p < 6 || strncasecmp(c.p, "Digest", 6) != 0)
		return fail(-EINVAL, err, err_len, "scheme is not Digest");
	c.p += 6;
	if (c.p < c.end && *c.p != ' ' && *c.p != '\t' && *c.p != '\r')
		return fail(-EINVAL, err, err_len, "scheme is not Digest");
	for (;;) {
		const char **slot;
		char *name, *value;

		if (!skip_lws(&c))
			return fail(-EINVAL, err, err_len, "bare CR or LF");
		if (c.p >= c.end)
			break;
		if (*c.p == ',') {              /* an empty list element */
			c.p++;
			continue;
		}
		name = take_token(&c);
		if (name == NULL)
			return fail(-EINVAL, err, err_len, "expected a parameter name at offset %zu",
				    (size_t)(c.p - hdr));
		if (!skip_lws(&c) || c.p >= c.end || *c.p != '=')
			return fail(-EINVAL, err, err_len, "expected '=' after %.32s", name);
		c.p++;
		if (!skip_lws(&c) || c.p >= c.end)
			return fail(-EINVAL, err, err_len, "missing value of %.32s", name);
		if (*c.p == '"') {
			value = take_quoted(&c, &why);
			if (value == NULL)
				return fail(-EINVAL, err, err_len, "%.32s: %s", name, why);
		} else {
			value = take_token(&c);
			if (value == NULL)
				return fail(-EINVAL, err, err_len, "bad value of %.32s", name);
		}
		slot = slot_for(&d, name, &alg);
		if (slot != NULL) {
			if (*slot != NULL)
				return fail(-EINVAL, err, err_len, "duplicate %.32s", name);
			*slot = value;
		}
		any = true;
		if (!skip_lws(&c))
			return fail(-EINVAL, err, err_len, "bare CR or LF");
		if (c.p < c.end && *c.p != ',')
			return fail(-EINVAL, err, err_len, "expected ',' after %.32s", name);
	}
	if (!any)
		return fail(-EINVAL, err, err_len, "no parameters");
	r = check_fields(&d, alg, err, err_len);
	if (r < 0)
		return r;
	/* The strings point into d.buf: rebase them onto ret->buf. */
	memcpy(ret, &d, sizeof(d));
#define REBASE(f) do { if (d.f != NULL) ret->f = ret->buf + (d.f - d.buf); } while (0)
	REBASE(username);
	REBASE(realm);
	REBASE(nonce);
	REBASE(uri);
	REBASE(response);
	REBASE(cnonce);
	REBASE(nc);
	REBASE(opaque);
#undef REBASE
	ret->qop = "auth";
	return 0;
}
