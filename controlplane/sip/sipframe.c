/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SIP message framing (sipframe.h). Strict on purpose: whatever decides
 * where a message ends also decides where the next one starts, so a length
 * that two parsers could read differently (duplicate, signed, folded into
 * junk) closes the flow instead of being guessed at (request smuggling).
 */
#include <stdbool.h>
#include <string.h>

#include "sipframe.h"

enum { CL_NONE, CL_OK, CL_BAD };

static bool
is_lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Case-insensitive comparison of @s[0..n) with lower-case @lit. */
static bool
name_is(const char *s, size_t n, const char *lit)
{
	size_t i;

	if (n != strlen(lit))
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != lit[i])
			return false;
	}
	return true;
}

/*
 * Parse 1*DIGIT surrounded by linear white space in @p[0..n). A value
 * above @max is reported as max + 1, so any length is safe to add later.
 */
static bool
parse_length(const char *p, size_t n, size_t max, size_t *ret)
{
	size_t i = 0, v = 0, digits = 0;

	while (i < n && is_lws(p[i]))
		i++;
	for (; i < n && p[i] >= '0' && p[i] <= '9'; i++, digits++) {
		v = v * 10 + (size_t)(p[i] - '0');
		if (v > max)
			v = max + 1;    /* saturate: no overflow, still too big */
	}
	while (i < n && is_lws(p[i]))
		i++;
	if (digits == 0 || i != n)
		return false;
	*ret = v;
	return true;
}

/*
 * Find Content-Length among the header fields of @buf[0..hdr_len), which
 * ends with CRLFCRLF. The first line is the start line; a line that starts
 * with SP or HT continues the field above it (RFC 3261 7.3.1).
 */
static int
content_length(const char *buf, size_t hdr_len, size_t max, size_t *ret)
{
	const char *p = memchr(buf, '\n', hdr_len), *end = buf + hdr_len - 2;
	bool found = false;
	size_t v = 0;

	if (p == NULL)
		return CL_BAD;  /* cannot happen: hdr_len ends with CRLFCRLF */
	p++;
	while (p < end) {
		const char *e = p, *colon;
		size_t nlen;

		/* the field ends at a CRLF not followed by SP/HT */
		for (;;) {
			e = memchr(e, '\n', (size_t)(end - e) + 1);
			if (e == NULL || e + 1 >= end || (e[1] != ' ' && e[1] != '\t'))
				break;
			e++;
		}
		if (e == NULL)
			e = end;
		else
			e++;    /* past the LF */
		colon = memchr(p, ':', (size_t)(e - p));
		if (colon != NULL) {
			nlen = (size_t)(colon - p);
			while (nlen > 0 && (p[nlen - 1] == ' ' || p[nlen - 1] == '\t'))
				nlen--;
			if (name_is(p, nlen, "content-length") || name_is(p, nlen, "l")) {
				if (found || !parse_length(colon + 1, (size_t)(e - colon - 1), max, &v))
					return CL_BAD;
				found = true;
			}
		}
		p = e;
	}
	if (!found)
		return CL_NONE;
	*ret = v;
	return CL_OK;
}

enum mr_sip_frame
mr_sip_frame(const char *buf, size_t len, size_t max, size_t *ret_len)
{
	const char *crlf2;
	size_t scan, hdr_len, body = 0;

	if (len == 0)
		return MR_SIP_FRAME_NEED;
	if (buf[0] == '\r') {
		if (len < 2)
			return MR_SIP_FRAME_NEED;
		if (buf[1] == '\n') {
			if (len < 3)
				return MR_SIP_FRAME_NEED;       /* ping or stray CRLF? */
			if (buf[2] == '\r') {
				if (len < 4)
					return MR_SIP_FRAME_NEED;
				if (buf[3] == '\n') {
					*ret_len = 4;
					return MR_SIP_FRAME_PING;
				}
			}
			*ret_len = 2;
			return MR_SIP_FRAME_SKIP;
		}
	}

	scan = len < max ? len : max;
	crlf2 = memmem(buf, scan, "\r\n\r\n", 4);
	if (crlf2 == NULL)
		return len >= max ? MR_SIP_FRAME_TOO_BIG : MR_SIP_FRAME_NEED;
	hdr_len = (size_t)(crlf2 - buf) + 4;

	switch (content_length(buf, hdr_len, max, &body)) {
	case CL_OK:
		break;
	default:
		return MR_SIP_FRAME_BAD;        /* a stream needs the length */
	}
	if (body > max - hdr_len)
		return MR_SIP_FRAME_TOO_BIG;
	if (len < hdr_len + body)
		return MR_SIP_FRAME_NEED;
	*ret_len = hdr_len + body;
	return MR_SIP_FRAME_MSG;
}

enum mr_sip_frame
mr_sip_frame_datagram(const char *buf, size_t len, size_t max, size_t *ret_len)
{
	const char *crlf2;
	size_t i, hdr_len, body = 0;

	for (i = 0; i < len && (buf[i] == '\r' || buf[i] == '\n'); i++)
		;
	if (i == len) {
		*ret_len = len;
		return MR_SIP_FRAME_SKIP;
	}
	if (len > max)
		return MR_SIP_FRAME_TOO_BIG;
	crlf2 = memmem(buf, len, "\r\n\r\n", 4);
	if (crlf2 == NULL)
		return MR_SIP_FRAME_BAD;
	hdr_len = (size_t)(crlf2 - buf) + 4;

	switch (content_length(buf, hdr_len, max, &body)) {
	case CL_NONE:
		*ret_len = len;         /* UDP: the datagram is the message */
		return MR_SIP_FRAME_MSG;
	case CL_OK:
		if (body > len - hdr_len)
			return MR_SIP_FRAME_BAD;        /* truncated: discard */
		*ret_len = hdr_len + body;
		return MR_SIP_FRAME_MSG;
	default:
		return MR_SIP_FRAME_BAD;
	}
}
