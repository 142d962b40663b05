/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SIP message parsing (sofia-sip's parser only) and text builders for what
 * the B2BUA sends (msg.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include <openssl/rand.h>

#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>
#include <sofia-sip/url.h>

#include "msg.h"

int
sipmsg_parse(const char *raw, size_t len, struct sipmsg *ret)
{
	struct sipmsg m = { .raw = raw, .raw_len = len };
	sip_t *sip;
	int fl;

	memset(ret, 0, sizeof(*ret));
	if (len == 0 || len > MR_SIP_MSG_MAX)
		return -EINVAL;
	m.msg = msg_make(sip_default_mclass(), 0, raw, (ssize_t)len);
	if (m.msg == NULL)
		return -EINVAL;
	sip = sip_object(m.msg);
	fl = msg_get_flags(m.msg, ~0u);
	if (sip == NULL || (sip->sip_request == NULL && sip->sip_status == NULL)) {
		msg_destroy(m.msg);
		return -EINVAL;
	}
	m.sip = sip;
	m.request = sip->sip_request != NULL;
	m.respondable = m.request && sip->sip_via != NULL && sip->sip_from != NULL &&
			sip->sip_to != NULL && sip->sip_call_id != NULL && sip->sip_cseq != NULL &&
			sip->sip_via->v_host != NULL && sip->sip_call_id->i_id != NULL;
	if (m.request) {
		const char *sp = memchr(raw, ' ', len), *sp2;

		m.method = sip->sip_request->rq_method_name;
		if (sp != NULL) {
			sp2 = memchr(sp + 1, ' ', len - (size_t)(sp + 1 - raw));
			if (sp2 != NULL) {
				m.ruri = sp + 1;
				m.ruri_len = (size_t)(sp2 - sp - 1);
			}
		}
	} else {
		m.status = sip->sip_status->st_status;
		m.method = sip->sip_cseq != NULL ? sip->sip_cseq->cs_method_name : NULL;
	}
	*ret = m;
	if (!(fl & MSG_FLG_COMPLETE) || (fl & (MSG_FLG_ERROR | MSG_FLG_TRUNC | MSG_FLG_TOOLARGE)) ||
	    sip->sip_error != NULL || sip->sip_via == NULL || sip->sip_from == NULL ||
	    sip->sip_to == NULL || sip->sip_call_id == NULL || sip->sip_cseq == NULL ||
	    m.method == NULL || (m.ruri == NULL && m.request) ||
	    (m.request && (sip->sip_cseq->cs_method_name == NULL ||
			   strcmp(sip->sip_cseq->cs_method_name, m.method) != 0)) ||
	    (!m.request && (m.status < 100 || m.status > 699)) ||
	    strlen(sip->sip_call_id->i_id) > 255)
		return -EBADMSG;
	return 0;
}

void
sipmsg_free(struct sipmsg *m)
{
	if (m->msg != NULL)
		msg_destroy(m->msg);
	m->msg = NULL;
	m->sip = NULL;
}

const char *
sipmsg_body(const struct sipmsg *m, size_t *len)
{
	*len = 0;
	if (m->sip == NULL || m->sip->sip_payload == NULL || m->sip->sip_payload->pl_len == 0)
		return NULL;
	*len = m->sip->sip_payload->pl_len;
	return m->sip->sip_payload->pl_data;
}

bool
sipmsg_has_sdp(const struct sipmsg *m)
{
	size_t n;
	const sip_content_type_t *ct = m->sip->sip_content_type;

	if (sipmsg_body(m, &n) == NULL)
		return false;
	return ct == NULL || (ct->c_type != NULL && strcasecmp(ct->c_type, "application/sdp") == 0);
}

bool
sipmsg_list_has(const msg_list_t *h, const char *item)
{
	const msg_list_t *l;
	size_t i;

	for (l = h; l != NULL; l = l->k_next)
		for (i = 0; l->k_items != NULL && l->k_items[i] != NULL; i++)
			if (strcasecmp(l->k_items[i], item) == 0)
				return true;
	return false;
}

const char *
sipmsg_branch(const struct sipmsg *m)
{
	const sip_via_t *v = m->sip != NULL ? m->sip->sip_via : NULL;

	return v != NULL && v->v_branch != NULL ? v->v_branch : "";
}

void
sipbuf_init(struct sipbuf *b, char *p, size_t cap)
{
	b->p = p;
	b->cap = cap;
	b->len = 0;
	b->overflow = cap == 0;
	if (cap > 0)
		p[0] = '\0';
}

void
sipbuf_put(struct sipbuf *b, const char *s, size_t len)
{
	if (b->overflow || len >= b->cap - b->len) {
		b->overflow = true;
		return;
	}
	memcpy(b->p + b->len, s, len);
	b->len += len;
	b->p[b->len] = '\0';
}

/*
 * Take in the @n bytes an encoder just wrote at the end, counted as
 * snprintf() counts them: if that is an error or more than fitted with the
 * NUL, the message is marked overflowed and cut back to its last whole part.
 */
static void
advance(struct sipbuf *b, ssize_t n)
{
	if (n < 0 || (size_t)n >= b->cap - b->len) {
		b->overflow = true;
		b->p[b->len] = '\0';
		return;
	}
	b->len += (size_t)n;
}

void
sipbuf_printf(struct sipbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	advance(b, n);
}

void
sipbuf_header(struct sipbuf *b, const void *hv, bool chain)
{
	const msg_header_t *h = hv;

	for (; h != NULL && !b->overflow; h = chain ? h->sh_next : NULL)
		advance(b, msg_header_e(b->p + b->len, (isize_t)(b->cap - b->len), h, 0));
}

void
sipbuf_finish(struct sipbuf *b, const char *body, size_t body_len)
{
	if (body != NULL && body_len > 0)
		sipbuf_printf(b, "Content-Type: application/sdp\r\n");
	else
		body_len = 0;
	sipbuf_printf(b, "Content-Length: %zu\r\n\r\n", body_len);
	if (body_len > 0)
		sipbuf_put(b, body, body_len);
}

void
sip_url_str(const url_t *url, char *out, size_t cap)
{
	issize_t n = url_e(out, (isize_t)cap, url);

	if (n < 0 || (size_t)n >= cap)
		out[0] = '\0';
}

void
sip_addr_str(const sip_addr_t *a, char *out, size_t cap)
{
	struct sipbuf b;
	char u[512];
	size_t i;

	sip_url_str(a->a_url, u, sizeof(u));
	sipbuf_init(&b, out, cap);
	sipbuf_printf(&b, "<%s>", u);
	for (i = 0; a->a_params != NULL && a->a_params[i] != NULL; i++)
		if (strncasecmp(a->a_params[i], "tag=", 4) != 0)
			sipbuf_printf(&b, ";%s", a->a_params[i]);
	if (!sipbuf_ok(&b))
		snprintf(out, cap, "<%s>", u);
}

int
sip_token(char *out, unsigned int n)
{
	static const char digits[] = "0123456789abcdef";
	uint8_t r[SIP_TOKEN_MAX / 2];
	unsigned int i;

	if (n >= SIP_TOKEN_MAX || RAND_bytes(r, (int)((n + 1) / 2)) != 1) {
		out[0] = '\0';
		return -EIO;
	}
	for (i = 0; i < n; i++)
		out[i] = digits[(r[i / 2] >> (i % 2 ? 0 : 4)) & 0xf];
	out[n] = '\0';
	return 0;
}

void
sip_hostport(const struct mr_sockaddr *a, char *out, size_t cap)
{
	char ip[INET6_ADDRSTRLEN];

	out[0] = '\0';
	if (a->family == MR_AF_INET6) {
		if (inet_ntop(AF_INET6, a->ip, ip, sizeof(ip)) != NULL)
			snprintf(out, cap, "[%s]:%u", ip, ntohs(a->port_be));
	} else if (a->family == MR_AF_INET) {
		if (inet_ntop(AF_INET, a->ip, ip, sizeof(ip)) != NULL)
			snprintf(out, cap, "%s:%u", ip, ntohs(a->port_be));
	}
}

const char *
sip_proto_name(enum mr_sip_proto p)
{
	switch (p) {
	case MR_SIP_UDP: return "UDP";
	case MR_SIP_TCP: return "TCP";
	default: return "TLS";
	}
}

const char *
sip_phrase(int code)
{
	switch (code) {
	case 100: return "Trying";
	case 180: return "Ringing";
	case 181: return "Call Is Being Forwarded";
	case 182: return "Queued";
	case 183: return "Session Progress";
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 407: return "Proxy Authentication Required";
	case 408: return "Request Timeout";
	case 420: return "Bad Extension";
	case 422: return "Session Interval Too Small";
	case 423: return "Interval Too Brief";
	case 480: return "Temporarily Unavailable";
	case 481: return "Call/Transaction Does Not Exist";
	case 482: return "Loop Detected";
	case 483: return "Too Many Hops";
	case 486: return "Busy Here";
	case 487: return "Request Terminated";
	case 488: return "Not Acceptable Here";
	case 491: return "Request Pending";
	case 500: return "Server Internal Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 603: return "Decline";
	default:
		return code < 200 ? "Progress" : code < 300 ? "OK" : code < 400 ? "Redirect" :
		       code < 500 ? "Request Failed" : code < 600 ? "Server Error" : "Global Failure";
	}
}
