/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mr_sdp_parse(): the line check (sdp_lines.c), then sofia-sip's SDP parser
 * over the same lines, then the model, read from those lines.
 *
 * sofia-sip is the judge of each field's grammar (o=, c=, b=, t=, r=, z=,
 * k=, m= and its RTP payload types, a=rtpmap/a=fmtp) and of the session's
 * sanity (o= present, a c= for every m= line in use). Its result is not
 * what the model is filled from: its parse tree drops what the relay must
 * print back (attribute order, the spelling of protos and formats, b=TIAS),
 * and its strings die with its memory home. So the model is read from
 * mrelay's own copy of the lines, with the few syntax checks the model's
 * values need (ports, digits, addresses) and a cross-check that sofia-sip
 * saw the same m= lines.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/sdp.h>

#include "sdp_priv.h"

#define NAME_SHOWN 32           /* longest attribute name echoed in a reason */
#define O_FIELDS 6              /* o=<user> <id> <version> <nettype> <addrtype> <addr> */
#define C_FIELDS 3              /* c=<nettype> <addrtype> <addr> */

/* ---- names ------------------------------------------------------------ */

static const char *const proto_names[MR_SDP_PROTO_MAX] = {
	[MR_SDP_PROTO_RTP_AVP] = "RTP/AVP",
	[MR_SDP_PROTO_RTP_AVPF] = "RTP/AVPF",
	[MR_SDP_PROTO_RTP_SAVP] = "RTP/SAVP",
	[MR_SDP_PROTO_RTP_SAVPF] = "RTP/SAVPF",
	[MR_SDP_PROTO_UDP_TLS_RTP_SAVP] = "UDP/TLS/RTP/SAVP",
	[MR_SDP_PROTO_UDP_TLS_RTP_SAVPF] = "UDP/TLS/RTP/SAVPF",
	[MR_SDP_PROTO_UDP_BFCP] = "UDP/BFCP",
	[MR_SDP_PROTO_TCP_BFCP] = "TCP/BFCP",
	[MR_SDP_PROTO_TCP_TLS_BFCP] = "TCP/TLS/BFCP",
	[MR_SDP_PROTO_UDPTL] = "udptl",
	[MR_SDP_PROTO_UDP] = "UDP",
	[MR_SDP_PROTO_TCP] = "TCP",
	[MR_SDP_PROTO_TCP_MSRP] = "TCP/MSRP",
	[MR_SDP_PROTO_TCP_TLS_MSRP] = "TCP/TLS/MSRP",
	[MR_SDP_PROTO_UDP_DTLS_SCTP] = "UDP/DTLS/SCTP",
};

static const char *const media_names[] = {
	[MR_SDP_MEDIA_AUDIO] = "audio",
	[MR_SDP_MEDIA_VIDEO] = "video",
	[MR_SDP_MEDIA_APPLICATION] = "application",
	[MR_SDP_MEDIA_IMAGE] = "image",
	[MR_SDP_MEDIA_TEXT] = "text",
	[MR_SDP_MEDIA_MESSAGE] = "message",
};

static const char *const dir_names[] = {
	[MR_SDP_DIR_SENDRECV] = "sendrecv",
	[MR_SDP_DIR_SENDONLY] = "sendonly",
	[MR_SDP_DIR_RECVONLY] = "recvonly",
	[MR_SDP_DIR_INACTIVE] = "inactive",
};

static bool
word_eq(const char *p, size_t len, const char *word)
{
	return word != NULL && strlen(word) == len && strncasecmp(p, word, len) == 0;
}

const char *
mr_sdp_proto_name(enum mr_sdp_proto proto)
{
	return (unsigned int)proto < MR_SDP_PROTO_MAX ? proto_names[proto] : NULL;
}

enum mr_sdp_proto
mr_sdp_proto_from_name(const char *name, size_t len)
{
	unsigned int i;

	for (i = 1; i < MR_SDP_PROTO_MAX; i++) {
		if (word_eq(name, len, proto_names[i]))
			return (enum mr_sdp_proto)i;
	}
	return MR_SDP_PROTO_OTHER;
}

bool
mr_sdp_proto_is_rtp(enum mr_sdp_proto proto)
{
	return proto >= MR_SDP_PROTO_RTP_AVP && proto <= MR_SDP_PROTO_UDP_TLS_RTP_SAVPF;
}

const char *
mr_sdp_dir_name(enum mr_sdp_dir dir)
{
	return (unsigned int)dir < sizeof(dir_names) / sizeof(dir_names[0]) ? dir_names[dir] : NULL;
}

static uint8_t
dir_from_name(const char *name)
{
	unsigned int i;

	for (i = 1; i < sizeof(dir_names) / sizeof(dir_names[0]); i++) {
		if (strcasecmp(name, dir_names[i]) == 0)
			return (uint8_t)i;
	}
	return MR_SDP_DIR_NONE;
}

static uint8_t
media_type_from_name(const char *name)
{
	unsigned int i;

	for (i = 1; i < sizeof(media_names) / sizeof(media_names[0]); i++) {
		if (strcasecmp(name, media_names[i]) == 0)
			return (uint8_t)i;
	}
	return MR_SDP_MEDIA_OTHER;
}

/* ---- small syntax ----------------------------------------------------- */

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Cut the NUL-terminated @s in place into at most @max blank-separated
 * tokens; the count in the return value (max + 1 means "more than max"). */
static unsigned int
split_tokens(char *s, char **tok, unsigned int max)
{
	unsigned int n = 0;

	for (;;) {
		while (is_blank(*s))
			*s++ = '\0';
		if (*s == '\0')
			return n;
		if (n == max)
			return max + 1;
		tok[n++] = s;
		while (*s != '\0' && !is_blank(*s))
			s++;
	}
}

/* 1*DIGIT, at most @max_digits of them, value <= @max. */
static bool
parse_uint(const char *s, size_t len, unsigned int max_digits, uint64_t max, uint64_t *ret)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > max_digits)
		return false;
	for (i = 0; i < len; i++) {
		unsigned int d = (unsigned int)(s[i] - '0');

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (v > max)
		return false;
	*ret = v;
	return true;
}

static bool
parse_port(const char *s, size_t len, bool zero_ok, uint16_t *ret)
{
	uint64_t v;

	if (!parse_uint(s, len, 5, UINT16_MAX, &v) || (v == 0 && !zero_ok))
		return false;
	*ret = (uint16_t)v;
	return true;
}

/* RFC 4566 token; with @proto, a proto: token *("/" token). A '/' at the
 * start would read as a port count ("m=audio 5000 /X" is "5000/X"). */
static bool
is_token(const char *s, bool proto)
{
	char prev = '/';

	if (*s == '\0')
		return false;
	for (; *s != '\0'; prev = *s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '/' && proto && prev != '/')
			continue;
		if (c <= 0x20 || c >= 0x7f || strchr("\"(),/:;<=>?@[\\]{}", c) != NULL)
			return false;
	}
	return prev != '/';
}

/* Host name characters (RFC 1035 letters, digits, hyphen, dot). */
static bool
is_fqdn(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '.'))
			return false;
	}
	return true;
}

/* An RTP payload type: 1 to 3 digits, below 128. */
static bool
parse_pt(const char *s, size_t len, unsigned int *ret)
{
	uint64_t v;

	if (!parse_uint(s, len, 3, 127, &v))
		return false;
	*ret = (unsigned int)v;
	return true;
}

/* RFC 4566 token characters: what sofia-sip accepts in an encoding name. */
static bool
is_token_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("-!#$%&'*+.^_`{|}~", c) != NULL);
}

/*
 * "IN" <addrtype> <address>: fill @c. The address is an IP literal of the
 * declared type, or a host name. Returns false for anything else.
 */
static bool
parse_conn(const char *nettype, const char *addrtype, char *address, struct mr_sdp_conn *c)
{
	uint8_t buf[16];
	char *slash;

	memset(c, 0, sizeof(*c));
	if (strcasecmp(nettype, "IN") != 0)
		return false;
	if (strcasecmp(addrtype, "IP4") == 0)
		c->addrtype = MR_AF_INET;
	else if (strcasecmp(addrtype, "IP6") == 0)
		c->addrtype = MR_AF_INET6;
	else
		return false;
	slash = strchr(address, '/');
	if (slash != NULL) {            /* multicast TTL and/or group count */
		*slash = '\0';
		c->multicast = true;
	}
	c->address = address;
	if (inet_pton(AF_INET, address, buf) == 1) {
		if (c->addrtype != MR_AF_INET)
			return false;
		c->addr.family = MR_AF_INET;
		memcpy(c->addr.ip, buf, 4);
		c->multicast |= (buf[0] & 0xf0) == 0xe0;
		c->unspecified = memcmp(buf, "\0\0\0\0", 4) == 0;
	} else if (inet_pton(AF_INET6, address, buf) == 1) {
		if (c->addrtype != MR_AF_INET6)
			return false;
		c->addr.family = MR_AF_INET6;
		memcpy(c->addr.ip, buf, 16);
		c->multicast |= buf[0] == 0xff;
		c->unspecified = memcmp(buf, (const uint8_t[16]){ 0 }, 16) == 0;
	} else if (!is_fqdn(address)) {
		return false;
	}
	return true;
}

/* ---- the model -------------------------------------------------------- */

struct builder {
	struct mr_sdp *sdp;
	struct mr_sdp_text *t;
	struct mr_sdp_media *m;         /* NULL at session level */
	unsigned int n_origin;
	unsigned int n_media_conn;      /* c= lines of the current media */
	bool session_conn;
	char *err;
	size_t err_len;
};

static int
bad(struct builder *b, const struct sdp_line *l, const char *what)
{
	return mr_sdp_say(b->err, b->err_len, -EINVAL, "line %u: %s", l->lineno, what);
}

static int
origin_line(struct builder *b, struct sdp_line *l, char *value)
{
	struct mr_sdp *sdp = b->sdp;
	char *f[O_FIELDS];
	uint64_t v;

	l->kind = SDP_K_ORIGIN;
	if (b->n_origin++ != 0)
		return bad(b, l, "repeated o= line");
	if (split_tokens(value, f, O_FIELDS) != O_FIELDS)
		return bad(b, l, "o= needs 6 fields");
	if (f[1][strspn(f[1], "0123456789")] != '\0')
		return bad(b, l, "o= session id is not a number");
	if (!parse_uint(f[2], strlen(f[2]), 20, UINT64_MAX, &v))
		return bad(b, l, "o= session version is not a number below 2^64");
	sdp->origin_username = f[0];
	sdp->origin_sess_id = f[1];
	sdp->origin_version = v;
	/* o= only names the session (RFC 4566 5.2): any address type sofia-sip
	 * accepts is kept as text, and an unparsable one is no error here. */
	if (!parse_conn(f[3], f[4], f[5], &sdp->origin_conn)) {
		memset(&sdp->origin_conn, 0, sizeof(sdp->origin_conn));
		sdp->origin_conn.address = f[5];
	}
	return 0;
}

static int
conn_line(struct builder *b, struct sdp_line *l, char *value)
{
	struct mr_sdp_conn c;
	char *f[C_FIELDS];

	l->kind = SDP_K_CONN;
	if (split_tokens(value, f, C_FIELDS) != C_FIELDS)
		return bad(b, l, "c= needs 3 fields");
	if (!parse_conn(f[0], f[1], f[2], &c))
		return bad(b, l, "c= is not IN IP4/IP6 with an address of that type");
	if (b->m == NULL) {
		if (b->session_conn)
			return bad(b, l, "repeated session-level c= line");
		b->session_conn = true;
		b->sdp->conn = c;
		return 0;
	}
	if (b->n_media_conn++ == 0) {
		b->m->conn = c;
	} else {
		/* several c= lines: layered multicast (RFC 4566 5.7) */
		b->m->conn.multicast = true;
	}
	return 0;
}

static int
media_line(struct builder *b, struct sdp_line *l, char *value)
{
	struct mr_sdp_media *m = &b->sdp->media[b->sdp->n_media++];
	char *f[3 + MR_SDP_MAX_FORMATS], *slash;
	unsigned int n, i;

	l->kind = SDP_K_MEDIA;
	b->m = m;
	b->n_media_conn = 0;
	n = split_tokens(value, f, 3 + MR_SDP_MAX_FORMATS);
	if (n > 3 + MR_SDP_MAX_FORMATS)
		return mr_sdp_say(b->err, b->err_len, -E2BIG,
				  "line %u: more than %u formats on an m= line",
				  l->lineno, MR_SDP_MAX_FORMATS);
	if (n < 4)
		return bad(b, l, "m= needs a media type, a port, a proto and formats");
	if (!is_token(f[0], false))
		return bad(b, l, "m= media type is not a token");
	m->type_name = f[0];
	m->type = media_type_from_name(f[0]);
	m->port_count = 1;
	slash = strchr(f[1], '/');
	if (slash != NULL) {
		*slash++ = '\0';
		if (!parse_port(slash, strlen(slash), false, &m->port_count))
			return bad(b, l, "m= port count is not a number from 1 to 65535");
	}
	if (!parse_port(f[1], strlen(f[1]), true, &m->port))
		return bad(b, l, "m= port is not a number from 0 to 65535");
	if (!is_token(f[2], true))
		return bad(b, l, "m= proto is not token *(\"/\" token)");
	m->proto_name = f[2];
	m->proto = (uint8_t)mr_sdp_proto_from_name(f[2], strlen(f[2]));
	for (i = 3; i < n; i++) {
		unsigned int pt;

		if (!is_token(f[i], false))
			return bad(b, l, "m= format is not a token");
		if (mr_sdp_proto_is_rtp(m->proto) && !parse_pt(f[i], strlen(f[i]), &pt))
			return bad(b, l, "m= format is not an RTP payload type (0-127)");
		m->format[m->n_formats++] = f[i];
	}
	return 0;
}

/*
 * a=rtpmap:<pt> <encoding>/<clock rate>[/<parameters>] (RFC 4566 6), on any
 * m= line. sofia-sip checks it only for the protos it knows as RTP (Debian's
 * 1.12.11 does not know RTP/AVPF or RTP/SAVPF) and only when <pt> is one of
 * the line's formats; checking it here everywhere means a rewrite to another
 * transport can never print a line sofia-sip would refuse.
 */
static int
rtpmap_attr(struct builder *b, struct sdp_line *l, const char *value)
{
	size_t n = strspn(value, "0123456789");
	unsigned int pt;
	const char *s = value + n;

	if (!parse_pt(value, n, &pt) || !is_blank(*s))
		return bad(b, l, "a=rtpmap is not <pt> <encoding>/<clock rate>");
	while (is_blank(*s))
		s++;
	if (!is_token_char(*s))
		return bad(b, l, "a=rtpmap is not <pt> <encoding>/<clock rate>");
	while (is_token_char(*s))
		s++;
	if (*s++ != '/')
		return bad(b, l, "a=rtpmap is not <pt> <encoding>/<clock rate>");
	n = strspn(s, "0123456789");
	if (n == 0 || n > 10 || (s[n] != '\0' && s[n] != '/' && !is_blank(s[n])))
		return bad(b, l, "a=rtpmap is not <pt> <encoding>/<clock rate>");
	return 0;
}

/* a=rtcp:<port> [IN IP4|IP6 <address>] (RFC 3605) */
static int
rtcp_attr(struct builder *b, struct sdp_line *l, char *value)
{
	struct mr_sdp_media *m = b->m;
	char *f[4];
	unsigned int n = split_tokens(value, f, 4);

	if ((n != 1 && n != 4) || !parse_port(f[0], strlen(f[0]), false, &m->rtcp_port))
		return bad(b, l, "a=rtcp is not <port> [IN IP4|IP6 <address>]");
	if (n == 4 && !parse_conn(f[1], f[2], f[3], &m->rtcp_conn))
		return bad(b, l, "a=rtcp address is not IN IP4/IP6 with an address of that type");
	return 0;
}

/* A value that may be given once per level: @slot is NULL until it is. */
static int
once(struct builder *b, struct sdp_line *l, const char *name, const char **slot, const char *value)
{
	if (*slot != NULL)
		return mr_sdp_say(b->err, b->err_len, -EINVAL, "line %u: repeated a=%s",
				  l->lineno, name);
	*slot = value;
	return 0;
}

static int
direction(struct builder *b, struct sdp_line *l, uint8_t dir)
{
	uint8_t *slot = b->m != NULL ? &b->m->dir_attr : &b->sdp->dir;

	l->kind = SDP_K_DIR;
	if (*slot != MR_SDP_DIR_NONE && *slot != dir)
		return bad(b, l, "a second, different direction attribute");
	*slot = dir;
	return 0;
}

/* Attributes at both levels: ICE, DTLS, direction. 1 if not one of them. */
static int
common_attr(struct builder *b, struct sdp_line *l, const char *name, const char *value)
{
	struct mr_sdp *sdp = b->sdp;
	struct mr_sdp_media *m = b->m;
	uint8_t dir = dir_from_name(name);

	if (dir != MR_SDP_DIR_NONE)
		return direction(b, l, dir);
	if (strcasecmp(name, "ice-ufrag") == 0) {
		l->kind = SDP_K_ICE;
		return once(b, l, name, m ? &m->ice_ufrag : &sdp->ice_ufrag, value);
	}
	if (strcasecmp(name, "ice-pwd") == 0) {
		l->kind = SDP_K_ICE;
		return once(b, l, name, m ? &m->ice_pwd : &sdp->ice_pwd, value);
	}
	if (strcasecmp(name, "ice-options") == 0) {
		l->kind = SDP_K_ICE;
		return once(b, l, name, m ? &m->ice_options : &sdp->ice_options, value);
	}
	if (strcasecmp(name, "ice-lite") == 0 || strcasecmp(name, "ice-mismatch") == 0 ||
	    strcasecmp(name, "ice-pacing") == 0 || strcasecmp(name, "remote-candidates") == 0 ||
	    strcasecmp(name, "end-of-candidates") == 0 || strcasecmp(name, "candidate") == 0) {
		l->kind = SDP_K_ICE;
		if (m == NULL) {
			sdp->ice_lite |= strcasecmp(name, "ice-lite") == 0;
			return 0;
		}
		m->end_of_candidates |= strcasecmp(name, "end-of-candidates") == 0;
		if (strcasecmp(name, "candidate") == 0) {
			if (m->n_candidates == MR_SDP_MAX_CANDIDATES)
				return mr_sdp_say(b->err, b->err_len, -E2BIG,
						  "line %u: more than %u a=candidate lines",
						  l->lineno, MR_SDP_MAX_CANDIDATES);
			m->candidate[m->n_candidates++] = value;
		}
		return 0;
	}
	if (strcasecmp(name, "fingerprint") == 0) {
		uint8_t *n = m ? &m->n_fingerprints : &sdp->n_fingerprints;

		l->kind = SDP_K_DTLS;
		if (*n == MR_SDP_MAX_FINGERPRINTS)
			return mr_sdp_say(b->err, b->err_len, -E2BIG,
					  "line %u: more than %u a=fingerprint lines",
					  l->lineno, MR_SDP_MAX_FINGERPRINTS);
		if ((*n)++ == 0)
			*(m ? &m->fingerprint : &sdp->fingerprint) = value;
		return 0;
	}
	if (strcasecmp(name, "setup") == 0) {
		l->kind = SDP_K_DTLS;
		return once(b, l, name, m ? &m->setup : &sdp->setup, value);
	}
	if (strcasecmp(name, "tls-id") == 0) {
		l->kind = SDP_K_DTLS;
		return 0;
	}
	return 1;
}

static int
media_attr(struct builder *b, struct sdp_line *l, const char *name, char *value)
{
	struct mr_sdp_media *m = b->m;

	if (strcasecmp(name, "rtcp") == 0) {
		l->kind = SDP_K_RTCP;
		if (m->rtcp_port != 0)
			return bad(b, l, "repeated a=rtcp");
		return rtcp_attr(b, l, value);
	}
	if (strcasecmp(name, "rtcp-mux") == 0 || strcasecmp(name, "rtcp-mux-only") == 0) {
		l->kind = SDP_K_RTCP_MUX;
		if (name[8] == '\0')
			m->rtcp_mux = true;
		else
			m->rtcp_mux_only = true;
		return 0;
	}
	if (strcasecmp(name, "crypto") == 0) {
		l->kind = SDP_K_CRYPTO;
		if (m->n_crypto == MR_SDP_MAX_CRYPTO)
			return mr_sdp_say(b->err, b->err_len, -E2BIG,
					  "line %u: more than %u a=crypto lines",
					  l->lineno, MR_SDP_MAX_CRYPTO);
		m->crypto[m->n_crypto++] = value;
		return 0;
	}
	if (strcasecmp(name, "mid") == 0) {
		l->kind = SDP_K_MID;
		return once(b, l, name, &m->mid, value);
	}
	if (strcasecmp(name, "bundle-only") == 0) {
		l->kind = SDP_K_BUNDLE;
		m->bundle_only = true;
		return 0;
	}
	if (strcasecmp(name, "rtpmap") == 0)
		return rtpmap_attr(b, l, value);
	if (strcasecmp(name, "content") == 0 && m->content == NULL)
		m->content = value;
	return 0;
}

static int
session_attr(struct builder *b, struct sdp_line *l, const char *name, const char *value)
{
	/* "a=group:BUNDLE 0 1" (RFC 8843); other group semantics pass through */
	if (strcasecmp(name, "group") == 0 && strncasecmp(value, "BUNDLE", 6) == 0 &&
	    (value[6] == '\0' || is_blank(value[6]))) {
		l->kind = SDP_K_BUNDLE;
		if (b->sdp->bundle == NULL) {
			value += 6;
			while (is_blank(*value))
				value++;
			b->sdp->bundle = value;
		}
		return 0;
	}
	/* Media-level attributes a peer misplaced: printing them would pass on
	 * a client's key or address, so they are marked to be dropped. */
	if (strcasecmp(name, "crypto") == 0)
		l->kind = SDP_K_CRYPTO;
	else if (strcasecmp(name, "rtcp") == 0)
		l->kind = SDP_K_RTCP;
	else if (strcasecmp(name, "rtcp-mux") == 0 || strcasecmp(name, "rtcp-mux-only") == 0)
		l->kind = SDP_K_RTCP_MUX;
	return 0;
}

/* Attributes whose meaning needs a value. */
static bool
needs_value(const char *name)
{
	static const char *const names[] = {
		"rtcp", "crypto", "candidate", "ice-ufrag", "ice-pwd", "ice-options",
		"fingerprint", "setup", "mid", "group", "content", "remote-candidates",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(name, names[i]) == 0)
			return true;
	}
	return false;
}

static int
attr_line(struct builder *b, struct sdp_line *l, char *text)
{
	char *colon = strchr(text, ':');
	char *value = colon != NULL ? colon + 1 : text + strlen(text);
	int r;

	if (colon != NULL)
		*colon = '\0';
	if (!is_token(text, false))
		return bad(b, l, "attribute name is not a token");
	if (*value == '\0' && needs_value(text))
		return mr_sdp_say(b->err, b->err_len, -EINVAL, "line %u: a=%.*s needs a value",
				  l->lineno, NAME_SHOWN, text);
	r = common_attr(b, l, text, value);
	if (r <= 0)
		return r;
	return b->m != NULL ? media_attr(b, l, text, value) : session_attr(b, l, text, value);
}

static int
build(struct builder *b)
{
	struct mr_sdp_text *t = b->t;
	unsigned int i;
	int r = 0;

	for (i = 0; i < t->n_lines && r == 0; i++) {
		struct sdp_line *l = &t->line[i];
		char *value = t->work + l->off + 2;

		switch (l->type) {
		case 'v':
			l->kind = SDP_K_VERSION;
			break;
		case 'o':
			r = origin_line(b, l, value);
			break;
		case 'c':
			r = conn_line(b, l, value);
			break;
		case 'k':
			l->kind = SDP_K_KEY;
			break;
		case 'm':
			r = media_line(b, l, value);
			break;
		case 'a':
			r = attr_line(b, l, value);
			break;
		default:
			break;
		}
	}
	return r;
}

/* What media inherit from the session level. */
static void
inherit(struct mr_sdp *sdp)
{
	unsigned int i;

	for (i = 0; i < sdp->n_media; i++) {
		struct mr_sdp_media *m = &sdp->media[i];

		if (m->conn.address == NULL && sdp->conn.address != NULL) {
			m->conn = sdp->conn;
			m->conn_from_session = true;
		}
		if (m->ice_ufrag == NULL)
			m->ice_ufrag = sdp->ice_ufrag;
		if (m->ice_pwd == NULL)
			m->ice_pwd = sdp->ice_pwd;
		if (m->ice_options == NULL)
			m->ice_options = sdp->ice_options;
		if (m->n_fingerprints == 0) {
			m->fingerprint = sdp->fingerprint;
			m->n_fingerprints = sdp->n_fingerprints;
		}
		if (m->setup == NULL)
			m->setup = sdp->setup;
		/* a=setup and a=fingerprint also serve TCP and TLS (RFC 4145,
		 * 8122: BFCP, MSRP); only with RTP or a UDP/TLS|DTLS proto do
		 * they mean DTLS. */
		m->dtls = m->proto == MR_SDP_PROTO_UDP_TLS_RTP_SAVP ||
			  m->proto == MR_SDP_PROTO_UDP_TLS_RTP_SAVPF ||
			  m->proto == MR_SDP_PROTO_UDP_DTLS_SCTP ||
			  (mr_sdp_proto_is_rtp(m->proto) && m->fingerprint != NULL);
		m->dir = m->dir_attr != MR_SDP_DIR_NONE ? m->dir_attr :
			 sdp->dir != MR_SDP_DIR_NONE ? sdp->dir : MR_SDP_DIR_SENDRECV;
	}
}

/*
 * sofia-sip's verdict on the same lines. It must also have seen the same m=
 * lines with the same ports: if it did not, the two parsers read the text
 * differently, and the text is refused rather than trusted.
 */
static int
sofia_check(const struct mr_sdp_text *t, const struct mr_sdp *sdp, char *err, size_t err_len)
{
	sdp_parser_t *p = sdp_parse(NULL, t->orig, (issize_t)t->orig_len, sdp_f_mode_manual);
	sdp_session_t *s = sdp_session(p);
	const sdp_media_t *sm;
	unsigned int i = 0;
	int r = 0;

	if (s == NULL) {
		const char *why = sdp_parsing_error(p);

		r = mr_sdp_say(err, err_len, -EINVAL, "invalid SDP (sofia-sip): %s",
			       why != NULL ? why : "out of memory");
		goto out;
	}
	for (sm = s->sdp_media; sm != NULL && i < sdp->n_media; sm = sm->m_next, i++) {
		if (sm->m_port != sdp->media[i].port)
			break;
	}
	if (sm != NULL || i != sdp->n_media)
		r = mr_sdp_say(err, err_len, -EINVAL,
			       "invalid SDP: sofia-sip reads the m= lines differently");
out:
	sdp_parser_free(p);
	return r;
}

int
mr_sdp_parse(const char *text, size_t len, struct mr_sdp **ret, char *err, size_t err_len)
{
	struct builder b = { .err = err, .err_len = err_len };
	int r;

	if (err != NULL && err_len != 0)
		err[0] = '\0';
	b.sdp = calloc(1, sizeof(*b.sdp));
	if (b.sdp == NULL)
		return mr_sdp_say(err, err_len, -ENOMEM, "out of memory");
	r = mr_sdp_text_split(text, len, &b.t, err, err_len);
	if (r < 0)
		goto err_free_sdp;
	b.sdp->text = b.t;
	r = build(&b);
	if (r < 0)
		goto err_free_sdp;
	if (b.n_origin == 0) {
		r = mr_sdp_say(err, err_len, -EINVAL, "no o= line");
		goto err_free_sdp;
	}
	r = sofia_check(b.t, b.sdp, err, err_len);
	if (r < 0)
		goto err_free_sdp;
	inherit(b.sdp);
	*ret = b.sdp;
	return 0;
err_free_sdp:
	mr_sdp_free(b.sdp);
	return r;
}

void
mr_sdp_free(struct mr_sdp *sdp)
{
	if (sdp == NULL)
		return;
	mr_sdp_text_free(sdp->text);
	free(sdp);
}
