/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_CP_SIP_MSG_H
#define MR_CP_SIP_MSG_H

/*
 * SIP messages for the B2BUA: sofia-sip's parser on the way in (msg_make()
 * + sip_object(), no sofia-sip state machine), plain text on the way out.
 * A parsed message owns its msg_t; the raw text stays the caller's and must
 * outlive it (the Request-URI is read from it as sent, for digest checks).
 *
 * struct sipbuf builds one outgoing message in a fixed buffer; writes past
 * the end are dropped and remembered (sipbuf_ok() is then false), so a
 * builder never needs a check per line.
 *
 * Nothing here logs or keeps state besides the caller's buffers.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sofia-sip/sip.h>
#include <sofia-sip/msg.h>

#include "transport.h"

#define SIP_BRANCH_MAGIC "z9hG4bK"
#define SIP_TOKEN_MAX 48u

struct sipmsg {
	msg_t *msg;
	sip_t *sip;
	const char *raw;
	size_t raw_len;
	bool request;
	bool respondable;               /* Via, From, To, Call-ID, CSeq all parse */
	const char *ruri;               /* requests: the Request-URI as sent */
	size_t ruri_len;
	const char *method;             /* requests: the method name; responses: CSeq's */
	int status;                     /* responses */
};

/*
 * Parse @raw[0..len). Returns 0 (the message is usable: a request or
 * response whose mandatory headers parse); -EBADMSG when it parsed but is
 * not usable (@ret->respondable says whether a 400 can be sent; free it);
 * -EINVAL when nothing could be made of it (@ret zeroed, nothing to free).
 */
int sipmsg_parse(const char *raw, size_t len, struct sipmsg *ret);
void sipmsg_free(struct sipmsg *m);

/* The payload, or NULL with *len 0. */
const char *sipmsg_body(const struct sipmsg *m, size_t *len);
bool sipmsg_has_sdp(const struct sipmsg *m);
/* Whether list header @h (Supported, Require, Allow...) holds @item (case-insensitive). */
bool sipmsg_list_has(const msg_list_t *h, const char *item);
/* Top Via's branch ("" if none). */
const char *sipmsg_branch(const struct sipmsg *m);

/* ---- building ------------------------------------------------------- */

struct sipbuf {
	char *p;
	size_t len, cap;
	bool overflow;
};

void sipbuf_init(struct sipbuf *b, char *p, size_t cap);
void sipbuf_printf(struct sipbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sipbuf_put(struct sipbuf *b, const char *s, size_t len);
/* One header as sofia-sip prints it, "Name: value\r\n"; nothing if NULL.
 * Every value of a chained header (Via) is printed, one line each. */
void sipbuf_header(struct sipbuf *b, const void *h, bool chain);
/* Content-Length (and Content-Type if @body), the blank line, the body. */
void sipbuf_finish(struct sipbuf *b, const char *body, size_t body_len);
static inline bool
sipbuf_ok(const struct sipbuf *b)
{
	return !b->overflow;
}

/* @url printed "sip:..." into @out; "" on failure. */
void sip_url_str(const url_t *url, char *out, size_t cap);

/* "<sip:...>" with parameters other than tag, from From or To: the
 * dialog's URIs. */
void sip_addr_str(const sip_addr_t *a, char *out, size_t cap);

/* A random token of @n hex digits (n < SIP_TOKEN_MAX): tags, Call-IDs,
 * branches. RAND_bytes; on failure a counter-based fallback is never
 * used: returns -EIO. */
int sip_token(char *out, unsigned int n);

/* "1.2.3.4:5060" or "[2001:db8::1]:5061"; "" for family NONE. */
void sip_hostport(const struct mr_sockaddr *a, char *out, size_t cap);

/* "TLS", "TCP", "UDP"; for Via and ;transport= (lowercased there). */
const char *sip_proto_name(enum mr_sip_proto p);

/* Well-known reason phrases for the codes we send. */
const char *sip_phrase(int code);

#endif /* MR_CP_SIP_MSG_H */
