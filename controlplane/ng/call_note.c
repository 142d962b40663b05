/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The NG state of a call (struct ng_call) as the session manager's note
 * (mr_session_call_set_note()), so that it survives a kill -9 of mrelay-cp:
 * a restarted process answers an offer the old one made, and its queries
 * show the same m-line numbers and transports.
 *
 * The note is one line of text, no key in it (the relay's keys are read
 * back from the slots when an SDP needs them):
 *
 *   1,<created_s>,<last_signal_s>,<offerer><answered>,<stream_of>,<s0>,<s1>,...
 *
 *   1              the note's own format version
 *   offerer        leg index (0 or 1) of the last offer's sender
 *   answered       0 or 1
 *   stream_of      one character per m= line of the offer: '-' (port 0),
 *                  or the stream's index as one hex digit
 *   s<k>           per stream: proto towards leg 0, proto towards leg 1
 *                  (enum mr_sdp_proto, one hex digit each), one hex digit
 *                  of rtcp-mux bits (mux[0], mux[1], mux_offered[0],
 *                  mux_offered[1]), then the media type ("audio")
 *
 * Every character is printable and none needs escaping in the journal, so
 * the longest note (16 streams of an 11-character type) is about 300 bytes,
 * within MR_SESSION_NOTE_MAX. Media types keep only [A-Za-z0-9.+_-] (others
 * become '_'): they are shown by query, nothing more.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ng_int.h"
#include "sdp.h"

#define NOTE_FORMAT '1'

_Static_assert(NG_MAX_MEDIA <= 16 && MR_SESSION_MAX_STREAMS <= 16,
	       "stream indexes are one hex digit in the note");
_Static_assert(MR_SDP_PROTO_TCP_TLS_BFCP < 16, "protos are one hex digit in the note");

static const char hexd[] = "0123456789abcdef";

static bool
type_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '+' || c == '_' || c == '-';
}

int
ng_call_note_format(const struct ng_call *nc, char *buf, size_t cap)
{
	size_t off;
	unsigned int i, k;
	int n;

	if (nc->n_media > NG_MAX_MEDIA || nc->n_streams > nc->n_media || nc->offerer > 1)
		return -EINVAL;
	n = snprintf(buf, cap, "%c,%" PRIu64 ",%" PRIu64 ",%u%u,", NOTE_FORMAT, nc->created_s,
		     nc->last_signal_s, (unsigned int)nc->offerer, nc->answered ? 1u : 0u);
	if (n < 0 || (size_t)n >= cap)
		return -ENOSPC;
	off = (size_t)n;
	for (i = 0; i < nc->n_media; i++) {
		if (off + 1 >= cap)
			return -ENOSPC;
		buf[off++] = nc->stream_of[i] < 0 ? '-' : hexd[nc->stream_of[i] & 15];
	}
	for (k = 0; k < nc->n_streams; k++) {
		const char *t = nc->type[k];
		unsigned int mux = (nc->mux[0][k] ? 1u : 0u) | (nc->mux[1][k] ? 2u : 0u) |
				   (nc->mux_offered[0][k] ? 4u : 0u) |
				   (nc->mux_offered[1][k] ? 8u : 0u);

		if (nc->proto[0][k] > 15 || nc->proto[1][k] > 15 || off + 5 >= cap)
			return -ENOSPC;
		buf[off++] = ',';
		buf[off++] = hexd[nc->proto[0][k]];
		buf[off++] = hexd[nc->proto[1][k]];
		buf[off++] = hexd[mux];
		for (; *t != '\0'; t++) {
			if (off + 1 >= cap)
				return -ENOSPC;
			buf[off++] = type_char(*t) ? *t : '_';
		}
	}
	buf[off] = '\0';
	return (int)off;
}

static int
hex_digit(char c)
{
	const char *p = c != '\0' ? strchr(hexd, c) : NULL;

	return p != NULL ? (int)(p - hexd) : -1;
}

/* Strict decimal up to the next ','; advances *pp past it. */
static bool
take_u64(const char **pp, uint64_t *ret)
{
	const char *p = *pp;
	uint64_t v = 0;

	if (*p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (*p != ',')
		return false;
	*pp = p + 1;
	*ret = v;
	return true;
}

int
ng_call_note_parse(const char *note, unsigned int n_streams, struct ng_call *ret)
{
	const char *p = note;
	struct ng_call nc;
	unsigned int i, k;
	int v;

	memset(&nc, 0, sizeof(nc));
	if (p[0] != NOTE_FORMAT || p[1] != ',')
		return -EPROTO;
	p += 2;
	if (!take_u64(&p, &nc.created_s) || !take_u64(&p, &nc.last_signal_s))
		return -EINVAL;
	if ((p[0] != '0' && p[0] != '1') || (p[1] != '0' && p[1] != '1') || p[2] != ',')
		return -EINVAL;
	nc.offerer = (uint8_t)(p[0] - '0');
	nc.answered = p[1] == '1';
	p += 3;
	for (i = 0; *p != ',' && *p != '\0'; i++, p++) {
		if (i >= NG_MAX_MEDIA)
			return -EINVAL;
		if (*p == '-') {
			nc.stream_of[i] = -1;
			continue;
		}
		v = hex_digit(*p);
		if (v < 0 || (unsigned int)v >= n_streams)
			return -EINVAL;
		nc.stream_of[i] = (int8_t)v;
	}
	nc.n_media = (uint8_t)i;
	for (k = 0; *p == ','; k++) {
		int pa, pb, mux;
		size_t tl = 0;

		if (k >= n_streams)
			return -EINVAL;
		pa = hex_digit(p[1]);
		pb = pa < 0 ? -1 : hex_digit(p[2]);
		mux = pb < 0 ? -1 : hex_digit(p[3]);
		if (mux < 0 || !mr_sdp_proto_is_rtp((enum mr_sdp_proto)pa) ||
		    !mr_sdp_proto_is_rtp((enum mr_sdp_proto)pb))
			return -EINVAL;
		nc.proto[0][k] = (uint8_t)pa;
		nc.proto[1][k] = (uint8_t)pb;
		nc.mux[0][k] = (mux & 1) != 0;
		nc.mux[1][k] = (mux & 2) != 0;
		nc.mux_offered[0][k] = (mux & 4) != 0;
		nc.mux_offered[1][k] = (mux & 8) != 0;
		for (p += 4; *p != ',' && *p != '\0'; p++) {
			if (!type_char(*p) || tl + 1 >= sizeof(nc.type[k]))
				return -EINVAL;
			nc.type[k][tl++] = *p;
		}
		if (tl == 0)
			return -EINVAL;
	}
	if (*p != '\0' || k != n_streams)
		return -EINVAL;
	/* Every stream is some m= line's, once. */
	for (k = 0; k < n_streams; k++) {
		unsigned int seen = 0;

		for (i = 0; i < nc.n_media; i++)
			seen += nc.stream_of[i] == (int8_t)k;
		if (seen != 1)
			return -EINVAL;
	}
	nc.n_streams = (uint8_t)n_streams;
	*ret = nc;
	return 0;
}

int
ng_call_save(struct ng_req *q, struct mr_call *c)
{
	const struct ng_call *nc = ng_call_of(c);
	char note[MR_SESSION_NOTE_MAX + 1];
	int r;

	if (nc == NULL)
		return -ENOENT;
	r = ng_call_note_format(nc, note, sizeof(note));
	if (r >= 0)
		r = mr_session_call_set_note(q->ng->sess, c, note);
	if (r < 0)
		snprintf(q->warning, sizeof(q->warning), "mrelay-cp could not journal the call's "
			 "NG state (%s): after a restart of mrelay-cp, offer again", strerror(-r));
	return r;
}

static void
ng_call_free(void *p)
{
	free(p);
}

void
ng_call_attach(struct mr_call *c, struct ng_call *nc)
{
	mr_session_call_set_priv(c, nc, ng_call_free);
}

/*
 * Rebuild the NG state of every call the session manager recovered with a
 * note; a call whose note is missing (made by the admin socket, or by a
 * version-1 mrelay-cp) or does not fit its legs stays without one, and an
 * answer to it is refused ("offer again"), as before notes existed.
 */
void
ng_calls_restore(struct mr_ng *ng)
{
	struct mr_call *c;

	for (c = mr_session_call_next(ng->sess, NULL); c != NULL;
	     c = mr_session_call_next(ng->sess, c)) {
		const char *note = mr_session_call_note(c);
		const struct mr_leg *l0 = mr_session_leg_at(c, 0), *l1 = mr_session_leg_at(c, 1);
		struct mr_leg_info i0, i1;
		struct ng_call *nc;

		if (note == NULL || ng_call_of(c) != NULL)
			continue;
		if (l0 == NULL || l1 == NULL || mr_session_leg_at(c, 2) != NULL) {
			ng->cnt.restore_failed++;
			continue;
		}
		mr_session_leg_info(l0, &i0);
		mr_session_leg_info(l1, &i1);
		nc = calloc(1, sizeof(*nc));
		if (nc == NULL || i0.n_streams != i1.n_streams ||
		    ng_call_note_parse(note, i0.n_streams, nc) < 0) {
			free(nc);
			ng->cnt.restore_failed++;
			continue;
		}
		ng_call_attach(c, nc);
		ng->cnt.restored++;
	}
}
