/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The first pass over an SDP text: split it into lines and check each line's
 * shape before sofia-sip sees it.
 *
 * The checks close gaps sofia-sip's parser leaves (read from its sdp_parse.c,
 * and seen in tests): it stops parsing without an error at a line shorter
 * than two bytes or made of blanks (everything after it, m= lines included,
 * is silently lost); it skips unknown line types inside a media description;
 * it strips leading blanks; and it reads a NUL as the end of the message. So
 * here every line must be "<letter>=<text>" with a type letter RFC 4566
 * defines at that level, and the text may not hold NUL, a bare CR or another
 * control character (TAB excepted). Lines end in LF or CRLF; the last may
 * end without either. Blank lines are dropped, as sofia-sip drops them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sdp_priv.h"

/* Line types RFC 4566 section 5 allows before the first m= and after it (an
 * m= line starts a media description at either place). */
#define SESSION_TYPES "osiuepcbtrzkam"
#define MEDIA_TYPES "micbka"

void
mr_sdp_text_free(struct mr_sdp_text *t)
{
	if (t == NULL)
		return;
	free(t->orig);
	free(t->work);
	free(t);
}

/* The bytes of one line are text: no NUL, no CR, no control but TAB. */
static int
check_bytes(const char *p, size_t len, unsigned int lineno, char *err, size_t err_len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\0')
			return mr_sdp_say(err, err_len, -EINVAL, "line %u: NUL byte", lineno);
		if (c == '\r')
			return mr_sdp_say(err, err_len, -EINVAL,
					  "line %u: CR not followed by LF", lineno);
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return mr_sdp_say(err, err_len, -EINVAL,
					  "line %u: control character 0x%02x", lineno, c);
	}
	return 0;
}

/* Is line @p (@len bytes, already checked) allowed at this point? */
static int
check_type(struct mr_sdp_text *t, const char *p, size_t len, unsigned int lineno,
	   unsigned int *n_media, char *err, size_t err_len)
{
	char type = p[0];

	if (len < 2 || type < 'a' || type > 'z' || p[1] != '=')
		return mr_sdp_say(err, err_len, -EINVAL,
				  "line %u: not a \"<type>=<value>\" line", lineno);
	if (t->n_lines == 0) {
		if (len != 3 || memcmp(p, "v=0", 3) != 0)
			return mr_sdp_say(err, err_len, -EINVAL,
					  "line %u: an SDP must start with v=0", lineno);
		return 0;
	}
	if (type == 'v')
		return mr_sdp_say(err, err_len, -EINVAL,
				  "line %u: v= is not allowed after the first line", lineno);
	if (strchr(*n_media == 0 ? SESSION_TYPES : MEDIA_TYPES, type) == NULL) {
		if (strchr(SESSION_TYPES, type) == NULL)
			return mr_sdp_say(err, err_len, -EINVAL,
					  "line %u: unknown line type %c=", lineno, type);
		return mr_sdp_say(err, err_len, -EINVAL,
				  "line %u: %c= is not allowed in a media description",
				  lineno, type);
	}
	if (type == 'm') {
		if (*n_media == MR_SDP_MAX_MEDIA)
			return mr_sdp_say(err, err_len, -E2BIG,
					  "line %u: more than %u m= lines", lineno, MR_SDP_MAX_MEDIA);
		(*n_media)++;
	}
	return 0;
}

int
mr_sdp_text_split(const char *text, size_t len, struct mr_sdp_text **ret,
		  char *err, size_t err_len)
{
	struct mr_sdp_text *t;
	size_t pos = 0, newlines = 0, cap, i;
	unsigned int lineno = 0, n_media = 0;
	int r;

	if (len == 0)
		return mr_sdp_say(err, err_len, -EINVAL, "empty SDP");
	if (len > MR_SDP_MAX_BYTES)
		return mr_sdp_say(err, err_len, -E2BIG, "SDP of %zu bytes is over the limit of %u",
				  len, MR_SDP_MAX_BYTES);
	for (i = 0; i < len; i++)
		newlines += text[i] == '\n';
	/* every kept line grows by at most one byte (LF -> CRLF), the last by two */
	cap = len + newlines + 3;

	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return mr_sdp_say(err, err_len, -ENOMEM, "out of memory");
	t->orig = malloc(cap);
	t->work = malloc(cap);
	if (t->orig == NULL || t->work == NULL) {
		r = mr_sdp_say(err, err_len, -ENOMEM, "out of memory");
		goto err_free;
	}

	while (pos < len) {
		const char *p = text + pos, *nl = memchr(p, '\n', len - pos);
		size_t line_len = nl != NULL ? (size_t)(nl - p) : len - pos;
		struct sdp_line *l;

		pos += line_len + (nl != NULL);
		lineno++;
		if (nl != NULL && line_len > 0 && p[line_len - 1] == '\r')
			line_len--;
		r = check_bytes(p, line_len, lineno, err, err_len);
		if (r < 0)
			goto err_free;
		if (line_len == 0)
			continue;
		if (t->n_lines == MR_SDP_MAX_LINES) {
			r = mr_sdp_say(err, err_len, -E2BIG, "line %u: more than %u lines",
				       lineno, MR_SDP_MAX_LINES);
			goto err_free;
		}
		r = check_type(t, p, line_len, lineno, &n_media, err, err_len);
		if (r < 0)
			goto err_free;
		l = &t->line[t->n_lines++];
		l->off = (uint32_t)t->orig_len;
		l->len = (uint16_t)line_len;
		l->lineno = (uint16_t)lineno;
		l->section = (uint8_t)n_media;
		l->type = p[0];
		l->kind = SDP_K_PASS;
		memcpy(t->orig + t->orig_len, p, line_len);
		memcpy(t->orig + t->orig_len + line_len, "\r\n", 2);
		t->orig_len += line_len + 2;
	}
	if (t->n_lines == 0) {
		r = mr_sdp_say(err, err_len, -EINVAL, "SDP has only blank lines");
		goto err_free;
	}
	memcpy(t->work, t->orig, t->orig_len);
	for (i = 0; i < t->n_lines; i++)
		memset(t->work + t->line[i].off + t->line[i].len, '\0', 2);
	t->orig[t->orig_len] = '\0';
	t->work[t->orig_len] = '\0';
	*ret = t;
	return 0;
err_free:
	mr_sdp_text_free(t);
	return r;
}
