/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_CP_SDP_PRIV_H
#define MR_CP_SDP_PRIV_H

/*
 * What sdp_lines.c, sdp_parse.c and sdp_rewrite.c share and callers do not
 * see: the description as a table of lines.
 *
 * Two copies of the normalised text are kept. @orig holds every kept line
 * followed by CRLF; it is what sofia-sip parses (so sofia-sip and the line
 * table see the same lines) and what the printer copies lines from. @work is
 * the same bytes with each line ending turned into NULs; the model builder
 * cuts it into NUL-terminated tokens that struct mr_sdp points to.
 */
#include <stddef.h>
#include <stdint.h>

#include "sdp.h"
#include "sdp_say.h"

/* What a line is to the printer; set by the model builder. */
enum sdp_kind {
	SDP_K_PASS = 0,         /* copied as it is */
	SDP_K_VERSION,          /* v= */
	SDP_K_ORIGIN,           /* o= */
	SDP_K_CONN,             /* c= */
	SDP_K_KEY,              /* k= (obsolete key field) */
	SDP_K_MEDIA,            /* m= */
	SDP_K_RTCP,             /* a=rtcp */
	SDP_K_RTCP_MUX,         /* a=rtcp-mux, a=rtcp-mux-only */
	SDP_K_CRYPTO,           /* a=crypto */
	SDP_K_ICE,              /* a=candidate, a=ice-*, ... */
	SDP_K_DTLS,             /* a=fingerprint, a=setup, a=tls-id */
	SDP_K_BUNDLE,           /* a=group:BUNDLE, a=bundle-only */
	SDP_K_DIR,              /* a=sendrecv, a=sendonly, a=recvonly, a=inactive */
	SDP_K_MID,              /* a=mid */
};

struct sdp_line {
	uint32_t off;           /* of the line in orig and work */
	uint16_t len;           /* without the line ending */
	uint16_t lineno;        /* 1-based, in the caller's text, for reasons */
	uint8_t section;        /* 0: session level; k + 1: media k */
	uint8_t kind;           /* enum sdp_kind */
	char type;              /* 'v', 'o', ..., 'a' */
	uint8_t pad;
};

struct mr_sdp_text {
	char *orig;             /* the kept lines, each + CRLF */
	char *work;             /* same bytes, cut into tokens */
	size_t orig_len;
	uint16_t n_lines;
	struct sdp_line line[MR_SDP_MAX_LINES];
};

/*
 * Check @text line by line and build its line table (see mr_sdp_parse() for
 * the rules). 0; -EINVAL, -E2BIG with a reason; -ENOMEM.
 */
int mr_sdp_text_split(const char *text, size_t len, struct mr_sdp_text **ret,
		      char *err, size_t err_len);
void mr_sdp_text_free(struct mr_sdp_text *t);

#endif /* MR_CP_SDP_PRIV_H */
