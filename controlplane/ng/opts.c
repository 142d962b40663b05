/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The keys and flags of an NG request (ng_int.h, struct ng_opts). rtpengine
 * accepts a space or a hyphen in multi-word keys and flags ("transport
 * protocol", "transport-protocol"), so both are looked up. Anything mrelay
 * cannot honour fails the request here, before a command changes anything;
 * docs/ng-protocol.md lists what is supported, ignored and refused.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ng_int.h"
#include "sdp.h"

/* The value of @key, also found with its spaces written as hyphens. */
static const struct mr_bc_node *
get(const struct mr_bc_node *dict, const char *key)
{
	const struct mr_bc_node *v = mr_bc_dict_get(dict, key);
	char alt[64];
	size_t i, n = strlen(key);

	if (v != NULL || n >= sizeof(alt))
		return v;
	for (i = 0; i <= n; i++)
		alt[i] = key[i] == ' ' ? '-' : key[i];
	return mr_bc_dict_get(dict, alt);
}

/* Compare bencode string @n with @word, where a hyphen in @n may stand for a space. */
static bool
word_eq(const char *p, size_t len, const char *word)
{
	size_t i;

	if (strlen(word) != len)
		return false;
	for (i = 0; i < len; i++)
		if (p[i] != word[i] && !(p[i] == '-' && word[i] == ' '))
			return false;
	return true;
}

static bool
prefix(const char *p, size_t len, const char *pre, const char **rest, size_t *rest_len)
{
	size_t n = strlen(pre);

	if (len < n || memcmp(p, pre, n) != 0)
		return false;
	*rest = p + n;
	*rest_len = len - n;
	return true;
}

static int
copy_str(struct ng_req *q, const char *key, char *buf, size_t cap, bool required)
{
	const struct mr_bc_node *v = get(q->dict, key);
	int r;

	buf[0] = '\0';
	if (v == NULL)
		return required ? ng_fail(q, "No %s in message", key) : 0;
	r = mr_bc_str_copy(v, buf, cap);
	if (r == -EINVAL)
		return ng_fail(q, "%s is not a string (or holds a NUL byte)", key);
	if (r < 0)
		return ng_fail(q, "%s is too long (at most %zu bytes)", key, cap - 1);
	if (required && buf[0] == '\0')
		return ng_fail(q, "%s is empty", key);
	return 0;
}

static int
parse_ip(const char *p, size_t len, struct mr_sockaddr *ret)
{
	char buf[INET6_ADDRSTRLEN + 1];

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, p, len);
	buf[len] = '\0';
	memset(ret, 0, sizeof(*ret));
	if (inet_pton(AF_INET, buf, ret->ip) == 1) {
		ret->family = MR_AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, ret->ip) == 1) {
		ret->family = MR_AF_INET6;
		return 0;
	}
	return -EINVAL;
}

static int
iface_index(struct ng_req *q, const struct mr_bc_node *n, int *ret)
{
	unsigned int i;

	if (n == NULL || n->type != MR_BC_STR)
		return ng_fail(q, "interface names must be strings");
	for (i = 0; i < q->ng->n_ifaces; i++)
		if (strlen(q->ng->ifaces[i].name) == n->s.len &&
		    memcmp(q->ng->ifaces[i].name, n->s.p, n->s.len) == 0) {
			*ret = (int)i;
			return 0;
		}
	return ng_fail(q, "Unknown interface '%.*s'", (int)(n->s.len > 32 ? 32 : n->s.len), n->s.p);
}

/* SDES options, from the SDES list or "SDES-..." flags. */
static int
sdes_opt(struct ng_req *q, struct ng_opts *o, const char *p, size_t len, uint8_t *only,
	 uint8_t *no)
{
	const char *s;
	size_t sl;
	enum mr_srtp_suite suite;

	if (word_eq(p, len, "off") || word_eq(p, len, "no") || word_eq(p, len, "disable")) {
		o->sdes_off = true;
		return 0;
	}
	if (prefix(p, len, "no-", &s, &sl) || prefix(p, len, "only-", &s, &sl)) {
		suite = mr_sdes_suite_from_name(s, sl);
		if (suite != MR_SUITE_NONE)
			(p[0] == 'n' ? no : only)[suite] = 1;
		return 0;       /* a suite mrelay never offers: nothing to exclude */
	}
	if (word_eq(p, len, "unencrypted_srtp") || word_eq(p, len, "unencrypted_srtcp") ||
	    word_eq(p, len, "unauthenticated_srtp") || word_eq(p, len, "UNENCRYPTED_SRTP") ||
	    word_eq(p, len, "UNENCRYPTED_SRTCP") || word_eq(p, len, "UNAUTHENTICATED_SRTP"))
		return ng_fail(q, "SDES-%.*s refused: mrelay never turns off SRTP encryption or "
			       "authentication", (int)len, p);
	/* encrypted_*, authenticated_srtp (mrelay's only way), pad (mrelay pads
	 * anyway), nonew, order:, offerer_pref:, static, lifetime: nothing to do. */
	return 0;
}

static void
apply_suites(struct ng_opts *o, const uint8_t *only, const uint8_t *no)
{
	struct mr_sdes_prefs def;
	unsigned int i, n = 0, n_only = 0;

	mr_sdes_prefs_default(&def);
	for (i = 0; i < MR_SUITE_MAX; i++)
		n_only += only[i];
	for (i = 0; i < def.n_suites; i++) {
		uint8_t s = def.suites[i];

		if ((n_only > 0 && !only[s]) || (n_only == 0 && no[s]))
			continue;
		o->prefs.suites[n++] = s;
	}
	o->prefs.n_suites = (uint8_t)n;
	o->prefs.flags = MR_SDES_F_OFFERER_ORDER;
}

/* Things that need transcoding, recording or DTLS: refuse with a reason. */
static int
refuse_unsupported(struct ng_req *q)
{
	const struct mr_bc_node *v, *k, *val;
	const char *p;
	size_t len;

	v = get(q->dict, "codec");
	if (v != NULL && v->type == MR_BC_DICT) {
		mr_bc_dict_foreach(k, val, v)
			if (val->type != MR_BC_LIST || val->count > 0)
				return ng_fail(q, "codec manipulation (codec-%.*s) needs transcoding, "
					       "which mrelay does not do", (int)k->s.len, k->s.p);
	}
	v = get(q->dict, "record call");
	if (v != NULL && (mr_bc_str_eq(v, "yes") || mr_bc_str_eq(v, "on")))
		return ng_fail(q, "call recording is not supported by mrelay");
	v = get(q->dict, "T.38");
	if (v != NULL && (v->type != MR_BC_LIST || v->count > 0))
		return ng_fail(q, "T.38 gatewaying is not supported by mrelay");
	if (get(q->dict, "ptime") != NULL || get(q->dict, "ptime-reverse") != NULL)
		return ng_fail(q, "ptime changes need repacketization (transcoding), which mrelay "
			       "does not do");
	v = get(q->dict, "OSRTP");
	if (v != NULL && (v->type != MR_BC_LIST || v->count > 0))
		return ng_fail(q, "OSRTP is not supported: mrelay's SRTP is never optional");
	v = get(q->dict, "media echo");
	if (v != NULL)
		return ng_fail(q, "media echo is not supported by mrelay");
	if (mr_bc_dict_get_str(q->dict, "DTLS", &p, &len) == 0 && !word_eq(p, len, "off") &&
	    !word_eq(p, len, "no") && !word_eq(p, len, "disable") && !word_eq(p, len, "passive") &&
	    !word_eq(p, len, "active"))
		return ng_fail(q, "DTLS=%.*s: DTLS-SRTP is not supported by mrelay", (int)len, p);
	return 0;
}

static int
read_flags(struct ng_req *q, struct ng_opts *o, uint8_t *only, uint8_t *no)
{
	const struct mr_bc_node *list = get(q->dict, "flags"), *it;

	if (list != NULL && list->type != MR_BC_LIST)
		return ng_fail(q, "flags is not a list");
	mr_bc_list_foreach(it, list) {
		const char *p = it->s.p, *rest;
		size_t len = it->s.len, rl;

		if (it->type != MR_BC_STR)
			return ng_fail(q, "flags must be strings");
		if (word_eq(p, len, "trust address") || word_eq(p, len, "symmetric") ||
		    word_eq(p, len, "media handover") || word_eq(p, len, "port latching"))
			continue;       /* mrelay's default behaviour */
		if (word_eq(p, len, "SIP source address") || word_eq(p, len, "SIP-source-address"))
			o->sip_source = true;
		else if (word_eq(p, len, "strict source"))
			o->strict_source = true;
		else if (word_eq(p, len, "fatal"))
			o->fatal = true;
		else if (word_eq(p, len, "all"))
			o->all = true;
		else if (word_eq(p, len, "reject ICE"))
			o->ice = NG_ICE_REMOVE;
		else if (word_eq(p, len, "record call"))
			return ng_fail(q, "call recording is not supported by mrelay");
		else if (word_eq(p, len, "always transcode") || word_eq(p, len, "single codec") ||
			 word_eq(p, len, "inject DTMF") || word_eq(p, len, "generate RTCP") ||
			 word_eq(p, len, "detect DTMF"))
			return ng_fail(q, "flag '%.*s' needs transcoding, which mrelay does not do",
				       (int)len, p);
		else if (prefix(p, len, "codec-", &rest, &rl) || prefix(p, len, "OSRTP-", &rest, &rl) ||
			 prefix(p, len, "sdp-attr-", &rest, &rl))
			return ng_fail(q, "flag '%.*s' is not supported by mrelay (transcoding, "
				       "OSRTP or SDP attribute editing)", (int)(len > 48 ? 48 : len), p);
		else if (prefix(p, len, "SDES-", &rest, &rl)) {
			if (sdes_opt(q, o, rest, rl, only, no) < 0)
				return -1;
		} else if (prefix(p, len, "replace-", &rest, &rl)) {
			if (word_eq(rest, rl, "origin"))
				o->replace_origin = true;
			else if (word_eq(rest, rl, "session connection"))
				o->replace_session_conn = true;
		} else if (word_eq(p, len, "pad crypto")) {
			continue;
		}
		/* Unknown and harmless flags are ignored, as rtpengine ignores them. */
	}
	return 0;
}

static int
read_lists(struct ng_req *q, struct ng_opts *o, uint8_t *only, uint8_t *no)
{
	const struct mr_bc_node *v, *it;

	v = get(q->dict, "replace");
	mr_bc_list_foreach(it, v) {
		if (it->type != MR_BC_STR)
			return ng_fail(q, "replace must be a list of strings");
		if (word_eq(it->s.p, it->s.len, "origin"))
			o->replace_origin = true;
		else if (word_eq(it->s.p, it->s.len, "session connection"))
			o->replace_session_conn = true;
		else if (word_eq(it->s.p, it->s.len, "zero address"))
			o->replace_zero = true;
		else if (word_eq(it->s.p, it->s.len, "SDP version") ||
			 word_eq(it->s.p, it->s.len, "force increment sdp ver"))
			o->sdp_version = true;
	}
	v = get(q->dict, "rtcp-mux");
	mr_bc_list_foreach(it, v) {
		if (it->type != MR_BC_STR)
			return ng_fail(q, "rtcp-mux must be a list of strings");
		if (mr_bc_str_eq(it, "offer"))
			o->rtcp_mux |= NG_MUX_OFFER;
		else if (mr_bc_str_eq(it, "require"))
			o->rtcp_mux |= NG_MUX_REQUIRE;
		else if (mr_bc_str_eq(it, "demux"))
			o->rtcp_mux |= NG_MUX_DEMUX;
		else if (mr_bc_str_eq(it, "accept"))
			o->rtcp_mux |= NG_MUX_ACCEPT;
		else if (mr_bc_str_eq(it, "reject"))
			o->rtcp_mux |= NG_MUX_REJECT;
	}
	v = get(q->dict, "SDES");
	mr_bc_list_foreach(it, v) {
		if (it->type != MR_BC_STR)
			return ng_fail(q, "SDES must be a list of strings");
		if (sdes_opt(q, o, it->s.p, it->s.len, only, no) < 0)
			return -1;
	}
	v = get(q->dict, "direction");
	if (v != NULL) {
		if (v->type != MR_BC_LIST || v->count != 2)
			return ng_fail(q, "direction must be a list of two interface names");
		if (iface_index(q, v->c.first, &o->iface[0]) < 0 ||
		    iface_index(q, v->c.first->next, &o->iface[1]) < 0)
			return -1;
	}
	v = get(q->dict, "interface");
	if (v != NULL) {
		if (iface_index(q, v, &o->iface[0]) < 0)
			return -1;
		if (get(q->dict, "direction") == NULL)
			o->iface[1] = o->iface[0];
	}
	v = get(q->dict, "received from");
	if (v != NULL) {
		if (v->type != MR_BC_LIST || v->count != 2 || v->c.first->next->type != MR_BC_STR ||
		    parse_ip(v->c.first->next->s.p, v->c.first->next->s.len, &o->received_from) < 0)
			return ng_fail(q, "received-from must be [ \"IP4\"|\"IP6\", ADDRESS ]");
	}
	return 0;
}

static int
read_strings(struct ng_req *q, struct ng_opts *o)
{
	const struct mr_bc_node *v;

	v = get(q->dict, "ICE");
	if (v != NULL) {
		/* The relay is an ICE-lite agent and always the only candidate:
		 * force-relay is force. */
		if (mr_bc_str_eq(v, "remove"))
			o->ice = NG_ICE_REMOVE;
		else if (mr_bc_str_eq(v, "default"))
			o->ice = NG_ICE_DEFAULT;
		else if (mr_bc_str_eq(v, "force") || mr_bc_str_eq(v, "force-relay") ||
			 mr_bc_str_eq(v, "force_relay"))
			o->ice = NG_ICE_FORCE;
		else if (v->type == MR_BC_STR)
			return ng_fail(q, "ICE=%.*s is not supported: mrelay is an ICE-lite agent "
				       "(ICE=force, default or remove)",
				       (int)(v->s.len > 16 ? 16 : v->s.len), v->s.p);
		else
			return ng_fail(q, "ICE is not a string");
	}
	v = get(q->dict, "transport protocol");
	if (v != NULL) {
		if (v->type != MR_BC_STR)
			return ng_fail(q, "transport-protocol is not a string");
		if (!mr_bc_str_eq(v, "accept")) {
			o->tproto = (uint8_t)mr_sdp_proto_from_name(v->s.p, v->s.len);
			if (o->tproto == MR_SDP_PROTO_UDP_TLS_RTP_SAVP ||
			    o->tproto == MR_SDP_PROTO_UDP_TLS_RTP_SAVPF)
				return ng_fail(q, "transport-protocol %.*s: DTLS-SRTP is not supported "
					       "by mrelay", (int)v->s.len, v->s.p);
			if (o->tproto != MR_SDP_PROTO_RTP_AVP && o->tproto != MR_SDP_PROTO_RTP_AVPF &&
			    o->tproto != MR_SDP_PROTO_RTP_SAVP && o->tproto != MR_SDP_PROTO_RTP_SAVPF)
				return ng_fail(q, "transport-protocol must be RTP/AVP, RTP/AVPF, "
					       "RTP/SAVP or RTP/SAVPF");
		}
	}
	v = get(q->dict, "address family");
	if (v != NULL) {
		if (mr_bc_str_eq(v, "IP4"))
			o->af = MR_AF_INET;
		else if (mr_bc_str_eq(v, "IP6"))
			o->af = MR_AF_INET6;
		else
			return ng_fail(q, "address family must be IP4 or IP6");
	}
	v = get(q->dict, "media address");
	if (v != NULL && (v->type != MR_BC_STR ||
			  parse_ip(v->s.p, v->s.len, &o->media_address) < 0))
		return ng_fail(q, "media address is not an IPv4 or IPv6 address");
	v = get(q->dict, "delete delay");
	if (v != NULL) {
		if (v->type != MR_BC_INT || v->i < 0)
			return ng_fail(q, "delete-delay must be a non-negative integer");
		o->delete_delay = v->i;
	}
	v = get(q->dict, "limit");
	if (v != NULL) {
		if (v->type != MR_BC_INT || v->i <= 0)
			return ng_fail(q, "limit must be a positive integer");
		o->limit = v->i;
	}
	return 0;
}

int
ng_opts_read(struct ng_req *q, enum mr_ng_cmd cmd, struct ng_opts *o)
{
	uint8_t only[MR_SUITE_MAX] = { 0 }, no[MR_SUITE_MAX] = { 0 };
	bool sdp = cmd == MR_NG_CMD_OFFER || cmd == MR_NG_CMD_ANSWER;
	bool call = cmd != MR_NG_CMD_PING && cmd != MR_NG_CMD_LIST &&
		    cmd != MR_NG_CMD_STATISTICS;
	const struct mr_bc_node *v;

	memset(o, 0, sizeof(*o));
	o->iface[0] = o->iface[1] = -1;
	o->delete_delay = -1;
	if (copy_str(q, "call-id", o->call_id, sizeof(o->call_id), call) < 0 ||
	    copy_str(q, "from-tag", o->from_tag, sizeof(o->from_tag), sdp) < 0 ||
	    copy_str(q, "to-tag", o->to_tag, sizeof(o->to_tag), cmd == MR_NG_CMD_ANSWER) < 0 ||
	    copy_str(q, "via-branch", o->via_branch, sizeof(o->via_branch), false) < 0)
		return -1;
	/* delete: rtpengine wants a from-tag; here a call-id alone deletes the call. */
	if (sdp) {
		v = get(q->dict, "sdp");
		if (v == NULL)
			return ng_fail(q, "No SDP body in message");
		if (v->type != MR_BC_STR)
			return ng_fail(q, "sdp is not a string");
		o->sdp = v->s.p;
		o->sdp_len = v->s.len;
		if (refuse_unsupported(q) < 0)
			return -1;
	}
	if (read_flags(q, o, only, no) < 0 || read_lists(q, o, only, no) < 0 ||
	    read_strings(q, o) < 0)
		return -1;
	apply_suites(o, only, no);
	if (sdp && o->prefs.n_suites == 0 && !o->sdes_off)
		return ng_fail(q, "SDES options exclude every SRTP suite mrelay supports");
	return 0;
}
