/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mr_sdp_rewrite(): print a parsed description again, line by line, as the
 * caller's plan says (docs/sdp-rewrite.md has the whole table).
 *
 * Each line is copied from the original text, dropped, or replaced, by its
 * kind (set by the parser) and its level; what the relay adds to a media
 * description (a=rtcp, a=rtcp-mux, a=crypto, ICE, direction) goes at its
 * end, and the relay's c= goes where RFC 4566's order wants it (after m= and
 * i=, before b=, k= and a=). Output lines end in CRLF, as RFC 4566 requires,
 * whatever the input used.
 *
 * Privacy is by construction: a line that may carry a client's address or
 * key (c=, a=rtcp, a=candidate, a=remote-candidates, a=crypto, k=) is never
 * copied from an accepted or rejected m= line; only o= (if not replaced) and
 * the session c= (if not replaced) are, and only when the caller says so.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdp_priv.h"

#define PROTO_MAX_LEN 64        /* a transport the plan may name */
#define CRYPTO_MAX_LEN 512      /* an a=crypto value the plan may hold */
#define ICE_UFRAG_MIN 4         /* RFC 8839 section 5.4 */
#define ICE_PWD_MIN 22
#define ICE_CRED_MAX 256
/* RFC 8445 5.1.2.1: host type preference 126, one local address (65535). */
#define HOST_PRIORITY(comp) ((126u << 24) | (65535u << 8) | (256u - (comp)))

struct out {
	char *buf;
	size_t cap;
	size_t len;
	bool full;
};

static void
put(struct out *o, const char *s, size_t n)
{
	if (o->full || n >= o->cap - o->len) {  /* keep room for the NUL */
		o->full = true;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void __attribute__((format(printf, 2, 3)))
putf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len)
		o->full = true;
	else
		o->len += (size_t)n;
}

static void
crlf(struct out *o)
{
	put(o, "\r\n", 2);
}

/* "IP4 198.51.100.1" or "IP6 2001:db8::1" for c=, o= and candidates */
static void
put_addr(struct out *o, const struct mr_sockaddr *a, bool with_type)
{
	char text[INET6_ADDRSTRLEN];
	int af = a->family == MR_AF_INET ? AF_INET : AF_INET6;

	/* the plan was checked: the family is one of the two, ntop cannot fail */
	inet_ntop(af, a->ip, text, sizeof(text));
	if (with_type)
		putf(o, "IP%c ", a->family == MR_AF_INET ? '4' : '6');
	putf(o, "%s", text);
}

/* ---- the plan --------------------------------------------------------- */

static bool
addr_ok(const struct mr_sockaddr *a)
{
	return a->family == MR_AF_INET || a->family == MR_AF_INET6;
}

/* Printable ASCII without CR, LF or NUL, @min..@max long; @set limits the
 * characters further when not NULL. */
static bool
text_ok(const char *s, size_t min, size_t max, const char *set)
{
	size_t n;

	if (s == NULL)
		return false;
	for (n = 0; s[n] != '\0'; n++) {
		if (n == max || s[n] < 0x20 || s[n] > 0x7e)
			return false;
		if (set != NULL && strchr(set, s[n]) == NULL)
			return false;
	}
	return n >= min;
}

/* An RTP transport needs payload types for formats (0..127). */
static bool
formats_fit(const struct mr_sdp_media *m, const char *proto)
{
	uint16_t i;

	if (!mr_sdp_proto_is_rtp(mr_sdp_proto_from_name(proto, strlen(proto))))
		return true;
	for (i = 0; i < m->n_formats; i++) {
		const char *f = m->format[i];
		size_t n = strlen(f);

		if (n == 0 || n > 3 || strspn(f, "0123456789") != n || atoi(f) > 127)
			return false;
	}
	return true;
}

#define ICE_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
#define PROTO_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._-+"

/* A transport the plan may name: "RTP/SAVP", "UDP/TLS/RTP/SAVPF"; no empty
 * part, so not "/RTP" (which would read as a port count) nor "RTP//AVP". */
static bool
proto_ok(const char *s)
{
	size_t i;

	if (!text_ok(s, 1, PROTO_MAX_LEN, PROTO_CHARS))
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == '/' && (i == 0 || s[i + 1] == '\0' || s[i + 1] == '/'))
			return false;
	}
	return true;
}

static int
check_media_plan(const struct mr_sdp *sdp, const struct mr_sdp_plan *plan, unsigned int i,
		 char *err, size_t err_len)
{
	const struct mr_sdp_media_plan *mp = &plan->media[i];
	unsigned int n = i + 1;
	size_t k;

	if (!mp->accept)
		return 0;
	if (sdp->media[i].port == 0)
		return mr_sdp_say(err, err_len, -EINVAL,
				  "m= line %u: its port is 0, it cannot be accepted", n);
	if (mp->rtp_port == 0 || !addr_ok(&mp->addr))
		return mr_sdp_say(err, err_len, -EINVAL,
				  "m= line %u: accepted without a relay address and port", n);
	if (mp->proto != NULL && !proto_ok(mp->proto))
		return mr_sdp_say(err, err_len, -EINVAL, "m= line %u: bad transport", n);
	if (mp->proto != NULL && !formats_fit(&sdp->media[i], mp->proto))
		return mr_sdp_say(err, err_len, -EINVAL,
				  "m= line %u: its formats are not RTP payload types", n);
	if (mp->dir > MR_SDP_DIR_INACTIVE)
		return mr_sdp_say(err, err_len, -EINVAL, "m= line %u: bad direction", n);
	if (mp->n_crypto > MR_SDP_MAX_CRYPTO || (mp->n_crypto != 0 && mp->crypto == NULL))
		return mr_sdp_say(err, err_len, -EINVAL, "m= line %u: bad a=crypto list", n);
	for (k = 0; k < mp->n_crypto; k++) {
		if (!text_ok(mp->crypto[k], 1, CRYPTO_MAX_LEN, NULL))
			return mr_sdp_say(err, err_len, -EINVAL,
					  "m= line %u: a=crypto %zu is not one printable line",
					  n, k + 1);
	}
	if (plan->ice == MR_SDP_ICE_LITE &&
	    (!text_ok(mp->ice_ufrag, ICE_UFRAG_MIN, ICE_CRED_MAX, ICE_CHARS) ||
	     !text_ok(mp->ice_pwd, ICE_PWD_MIN, ICE_CRED_MAX, ICE_CHARS)))
		return mr_sdp_say(err, err_len, -EINVAL,
				  "m= line %u: ICE-lite needs a ufrag of 4-256 and a pwd of "
				  "22-256 ice-chars", n);
	return 0;
}

static int
check_plan(const struct mr_sdp *sdp, const struct mr_sdp_plan *plan, char *err, size_t err_len)
{
	unsigned int i;
	int r;

	if (plan->n_media != sdp->n_media)
		return mr_sdp_say(err, err_len, -EINVAL, "plan has %u m= lines, the SDP %u",
				  plan->n_media, sdp->n_media);
	if (!addr_ok(&plan->addr))
		return mr_sdp_say(err, err_len, -EINVAL, "plan has no relay address");
	if (plan->version > MR_SDP_VERSION_SET || plan->ice > MR_SDP_ICE_LITE)
		return mr_sdp_say(err, err_len, -EINVAL, "bad version or ICE mode in the plan");
	if (plan->version == MR_SDP_VERSION_BUMP && sdp->origin_version == UINT64_MAX)
		return mr_sdp_say(err, err_len, -ERANGE, "o= version cannot be bumped past 2^64-1");
	for (i = 0; i < sdp->n_media; i++) {
		r = check_media_plan(sdp, plan, i, err, err_len);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- printing --------------------------------------------------------- */

struct printer {
	struct out out;
	const struct mr_sdp *sdp;
	const struct mr_sdp_plan *plan;
	const struct mr_sdp_text *t;
	bool any_accepted;
	/* the current media description */
	const struct mr_sdp_media *m;
	const struct mr_sdp_media_plan *mp;
	bool need_conn;                 /* it gets a c= line */
	bool conn_done;                 /* ... and has it already */
};

static void
copy_line(struct printer *p, const struct sdp_line *l)
{
	put(&p->out, p->t->orig + l->off, l->len);
	crlf(&p->out);
}

/* o=: the original up to the version, the version, then the address. */
static void
origin(struct printer *p, const struct sdp_line *l)
{
	const struct mr_sdp *sdp = p->sdp;
	const struct mr_sdp_plan *plan = p->plan;
	const char *s = p->t->orig + l->off + 2, *end = p->t->orig + l->off + l->len;
	uint64_t version = sdp->origin_version;
	unsigned int field;

	if (!plan->replace_origin && plan->version == MR_SDP_VERSION_KEEP) {
		copy_line(p, l);
		return;
	}
	if (plan->version == MR_SDP_VERSION_BUMP)
		version++;
	else if (plan->version == MR_SDP_VERSION_SET)
		version = plan->version_value;
	putf(&p->out, "o=%s %s %" PRIu64 " ", sdp->origin_username, sdp->origin_sess_id, version);
	if (plan->replace_origin) {
		put(&p->out, "IN ", 3);
		put_addr(&p->out, &plan->addr, true);
	} else {
		/* skip user, id and version with the blanks around them (sofia-sip
		 * and the model allow blanks before the first) */
		for (field = 0; field < 3; field++) {
			while (s < end && (*s == ' ' || *s == '\t'))
				s++;
			while (s < end && *s != ' ' && *s != '\t')
				s++;
		}
		while (s < end && (*s == ' ' || *s == '\t'))
			s++;
		put(&p->out, s, (size_t)(end - s));
	}
	crlf(&p->out);
}

static void
session_line(struct printer *p, const struct sdp_line *l)
{
	switch (l->kind) {
	case SDP_K_ORIGIN:
		origin(p, l);
		return;
	case SDP_K_CONN:
		if (!p->plan->replace_session_conn)
			break;
		put(&p->out, "c=IN ", 5);
		put_addr(&p->out, &p->plan->addr, true);
		crlf(&p->out);
		return;
	case SDP_K_KEY:         /* a key in clear: never passed on */
	case SDP_K_ICE:         /* removed, or replaced at the end of the level */
	case SDP_K_DTLS:        /* the client's certificate: the relay is not it */
	case SDP_K_BUNDLE:      /* each m= line gets its own relay ports */
	case SDP_K_CRYPTO:      /* misplaced media-level attributes */
	case SDP_K_RTCP:
	case SDP_K_RTCP_MUX:
		return;
	default:
		break;
	}
	copy_line(p, l);
}

static void
session_end(struct printer *p)
{
	if (p->plan->ice == MR_SDP_ICE_LITE && p->any_accepted)
		put(&p->out, "a=ice-lite\r\n", 12);
}

/* The c= of the current media description. */
static void
media_conn(struct printer *p)
{
	const struct mr_sdp_media_plan *mp = p->mp;

	p->conn_done = true;
	put(&p->out, "c=IN ", 5);
	if (!mp->accept) {
		/* RFC 3264 6: the address of a rejected line does not matter; the
		 * relay's own is truthful and leaks nothing. */
		put_addr(&p->out, &p->plan->addr, true);
	} else if (p->m->conn.unspecified && !p->plan->replace_zero_addr) {
		/* RFC 2543 hold: the far end keeps not sending */
		put(&p->out, mp->addr.family == MR_AF_INET ? "IP4 0.0.0.0" : "IP6 ::",
		    mp->addr.family == MR_AF_INET ? 11 : 6);
	} else {
		put_addr(&p->out, &mp->addr, true);
	}
	crlf(&p->out);
}

static void
media_start(struct printer *p, unsigned int k)
{
	const struct mr_sdp_media *m = &p->sdp->media[k];
	const struct mr_sdp_media_plan *mp = &p->plan->media[k];
	uint16_t i;

	p->m = m;
	p->mp = mp;
	p->conn_done = false;
	/* A rejected line needs its own c= only where it would otherwise show
	 * the client's: it had one, or the session c= is kept. */
	p->need_conn = mp->accept || (!m->conn_from_session && m->conn.address != NULL) ||
		       (m->conn_from_session && !p->plan->replace_session_conn);
	if (mp->accept)
		putf(&p->out, "m=%s %u %s", m->type_name, mp->rtp_port,
		     mp->proto != NULL ? mp->proto : m->proto_name);
	else
		putf(&p->out, "m=%s 0 %s", m->type_name, m->proto_name);
	for (i = 0; i < m->n_formats; i++)
		putf(&p->out, " %s", m->format[i]);
	crlf(&p->out);
}

static void
media_line(struct printer *p, const struct sdp_line *l)
{
	bool accept = p->mp->accept;

	if (l->type == 'c') {
		if (p->need_conn && !p->conn_done)
			media_conn(p);
		return;
	}
	/* RFC 4566 order: m= i= c= b= k= a= */
	if (l->type != 'i' && p->need_conn && !p->conn_done)
		media_conn(p);
	switch (l->kind) {
	case SDP_K_MID:
		break;                  /* kept on rejected lines too (RFC 8843, JSEP) */
	case SDP_K_DIR:
		if (!accept || p->mp->dir != MR_SDP_DIR_NONE)
			return;
		break;
	case SDP_K_PASS:
		if (!accept)
			return;
		break;
	default:                        /* k=, a=rtcp*, a=crypto, ICE, DTLS, BUNDLE */
		return;
	}
	copy_line(p, l);
}

/* RFC 8839 5.1 host candidate; the foundation is a hash of the address, so
 * candidates on one relay address share it and others do not. */
static void
candidate(struct printer *p, unsigned int comp, uint16_t port)
{
	const struct mr_sockaddr *a = &p->mp->addr;
	uint32_t h = 2166136261u;       /* FNV-1a */
	unsigned int i;

	h = (h ^ a->family) * 16777619u;
	for (i = 0; i < (a->family == MR_AF_INET ? 4u : 16u); i++)
		h = (h ^ a->ip[i]) * 16777619u;
	putf(&p->out, "a=candidate:%08x %u UDP %u ", h, comp, HOST_PRIORITY(comp));
	put_addr(&p->out, a, false);
	putf(&p->out, " %u typ host\r\n", port);
}

static void
media_end(struct printer *p)
{
	const struct mr_sdp_media_plan *mp = p->mp;
	size_t k;

	if (p->need_conn && !p->conn_done)
		media_conn(p);
	if (!mp->accept)
		return;
	if (mp->rtcp_port != 0)
		putf(&p->out, "a=rtcp:%u\r\n", mp->rtcp_port);
	if (mp->rtcp_mux)
		put(&p->out, "a=rtcp-mux\r\n", 12);
	for (k = 0; k < mp->n_crypto; k++)
		putf(&p->out, "a=crypto:%s\r\n", mp->crypto[k]);
	if (p->plan->ice == MR_SDP_ICE_LITE) {
		putf(&p->out, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n", mp->ice_ufrag, mp->ice_pwd);
		candidate(p, 1, mp->rtp_port);
		if (!mp->rtcp_mux && mp->rtcp_port != 0)
			candidate(p, 2, mp->rtcp_port);
	}
	if (mp->dir != MR_SDP_DIR_NONE)
		putf(&p->out, "a=%s\r\n", mr_sdp_dir_name(mp->dir));
}

int
mr_sdp_rewrite(const struct mr_sdp *sdp, const struct mr_sdp_plan *plan,
	       char *buf, size_t cap, size_t *ret_len, char *err, size_t err_len)
{
	struct printer p = {
		.out = { .buf = buf, .cap = cap },
		.sdp = sdp,
		.plan = plan,
		.t = sdp->text,
	};
	unsigned int i, section = 0;
	int r;

	if (err != NULL && err_len != 0)
		err[0] = '\0';
	r = check_plan(sdp, plan, err, err_len);
	if (r < 0)
		return r;
	if (cap == 0)
		return mr_sdp_say(err, err_len, -ENOSPC, "no room for the SDP");
	for (i = 0; i < sdp->n_media; i++)
		p.any_accepted |= plan->media[i].accept;

	for (i = 0; i < p.t->n_lines; i++) {
		const struct sdp_line *l = &p.t->line[i];

		if (l->section != section) {    /* an m= line: a new description */
			if (section == 0)
				session_end(&p);
			else
				media_end(&p);
			section = l->section;
			media_start(&p, section - 1u);
			continue;
		}
		if (section == 0)
			session_line(&p, l);
		else
			media_line(&p, l);
	}
	if (section == 0)
		session_end(&p);
	else
		media_end(&p);

	if (p.out.full)
		return mr_sdp_say(err, err_len, -ENOSPC, "SDP does not fit in %zu bytes", cap);
	buf[p.out.len] = '\0';
	*ret_len = p.out.len;
	return 0;
}
