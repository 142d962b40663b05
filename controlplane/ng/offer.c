/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NG offer and answer: SDP in, session primitives, SDP out.
 *
 * An offer from A (from-tag) makes a call of two legs: A's, whose streams
 * receive from A with A's key (negotiated from A's a=crypto lines, RFC 4568
 * section 7), and the callee's (tag NG_PENDING_TAG until the answer names
 * it), whose streams will receive from the callee. The SDP that goes on to
 * the callee shows the callee's leg: its relay address and ports and its
 * outbound key (one a=crypto line). The answer gives the callee's key and
 * addresses to the callee's leg, pairs the legs, and the SDP that goes back
 * to A shows A's leg with A's outbound key under the tag A chose.
 *
 * Which m= line is which stream, and the transport each side sees, stay in
 * struct ng_call (the call's front-end state) from offer to answer, and are
 * journaled as the call's note (call_note.c) after each offer and answer,
 * so that a restarted mrelay-cp answers an offer the old one made. The
 * keys an SDP needs are read from the slots, never journaled.
 *
 * Policy (docs/ng-protocol.md): encryption is mandatory. Plain RTP is taken
 * from, or sent towards, a side only when that side's interface is marked
 * pstn in the configuration. An m= line mrelay cannot relay (not RTP: BFCP,
 * T.38/UDPTL, MSRP; or already rejected) goes on with port 0; DTLS-SRTP
 * fails the request.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ng_int.h"
#include "sdp.h"

/* Room for a rewritten description: the input's limit plus our lines. */
#define SDP_OUT_MAX (MR_SDP_MAX_BYTES + 8192u)

struct ng_call *
ng_call_of(const struct mr_call *c)
{
	return mr_session_call_priv(c);
}

static bool
proto_secure(uint8_t p)
{
	return p == MR_SDP_PROTO_RTP_SAVP || p == MR_SDP_PROTO_RTP_SAVPF;
}

static uint8_t
proto_plain(uint8_t p)
{
	return p == MR_SDP_PROTO_RTP_SAVPF ? MR_SDP_PROTO_RTP_AVPF :
	       p == MR_SDP_PROTO_RTP_SAVP ? MR_SDP_PROTO_RTP_AVP : p;
}

static uint8_t
proto_secured(uint8_t p)
{
	return p == MR_SDP_PROTO_RTP_AVPF ? MR_SDP_PROTO_RTP_SAVPF :
	       p == MR_SDP_PROTO_RTP_AVP ? MR_SDP_PROTO_RTP_SAVP : p;
}

/* A session error in words a proxy's log reader can act on. */
static int
sess_fail(struct ng_req *q, int e, const char *what)
{
	switch (e) {
	case -EUSERS:
		q->ng->calls_rejected++;
		return ng_fail(q, "%s: limit reached (max_calls or max_legs)", what);
	case -EBUSY:
		q->ng->calls_rejected++;
		return ng_fail(q, "%s: offer rate limit reached", what);
	case -ENOSPC:
		q->ng->calls_rejected++;
		return ng_fail(q, "%s: out of relay ports or slots", what);
	case -ENODEV:
		return ng_fail(q, "%s: the interface has no relay address of that family", what);
	case -EEXIST:
		return ng_fail(q, "%s: already exists", what);
	default:
		return ng_fail(q, "%s: %s", what, strerror(-e));
	}
}

/* Where the peer of m= line @m sends from (a hint for latching). */
static void
media_peer(const struct ng_opts *o, const struct mr_sdp_media *m, struct mr_sockaddr *rtp,
	   struct mr_sockaddr *rtcp)
{
	struct mr_sockaddr src;

	memset(rtp, 0, sizeof(*rtp));
	memset(rtcp, 0, sizeof(*rtcp));
	memset(&src, 0, sizeof(src));
	if (o->media_address.family != MR_AF_NONE)
		src = o->media_address;
	else if (o->sip_source && o->received_from.family != MR_AF_NONE)
		src = o->received_from;
	else if (m->conn.addr.family != MR_AF_NONE && !m->conn.unspecified)
		src = m->conn.addr;
	if (src.family == MR_AF_NONE || m->port == 0)
		return;
	*rtp = src;
	rtp->port_be = htons(m->port);
	if (m->rtcp_mux)
		return;
	*rtcp = src;
	if (m->rtcp_port != 0 && m->rtcp_conn.addr.family != MR_AF_NONE)
		*rtcp = m->rtcp_conn.addr;
	rtcp->port_be = htons(m->rtcp_port != 0 ? m->rtcp_port : (uint16_t)(m->port + 1));
}

/* What the offer does with each m= line. Holds A's key: wiped by the caller. */
struct decision {
	unsigned int n_streams;
	int8_t stream_of[NG_MAX_MEDIA];
	uint8_t proto_a[NG_MAX_MEDIA], proto_b[NG_MAX_MEDIA];
	bool mux_a[NG_MAX_MEDIA], mux_b_offer[NG_MAX_MEDIA], mux_b_now[NG_MAX_MEDIA];
	uint8_t suite_b[NG_MAX_MEDIA];
	struct mr_sdes_crypto in_a[NG_MAX_MEDIA];       /* suite NONE: plain */
	struct mr_stream_params sa[NG_MAX_MEDIA], sb[NG_MAX_MEDIA];
};

static void
decision_wipe(struct decision *d)
{
	unsigned int i;

	for (i = 0; i < NG_MAX_MEDIA; i++)
		mr_sdes_wipe(&d->in_a[i]);
}

static uint8_t
default_suite(const struct mr_sdes_prefs *p)
{
	unsigned int i;

	/* Towards a peer that offered no suite: the one every SDES endpoint
	 * implements (RFC 4568 section 6.2.1 makes it mandatory), if allowed. */
	for (i = 0; i < p->n_suites; i++)
		if (p->suites[i] == MR_SUITE_AES_CM_128_HMAC_SHA1_80)
			return MR_SUITE_AES_CM_128_HMAC_SHA1_80;
	return p->suites[0];
}

/* Decide every m= line of A's offer @sdp; -1 (ng_fail) on refusal. */
static int
decide(struct ng_req *q, const struct ng_opts *o, const struct mr_sdp *sdp, int ia, int ib,
       struct decision *d)
{
	const struct mr_session_iface *fa = &q->ng->ifaces[ia], *fb = &q->ng->ifaces[ib];
	char why[256];
	unsigned int i;

	memset(d, 0, sizeof(*d));
	for (i = 0; i < sdp->n_media; i++) {
		const struct mr_sdp_media *m = &sdp->media[i];
		unsigned int k = d->n_streams;
		struct mr_sdes_crypto local;
		uint8_t pa, pb;
		bool a_ice;
		size_t idx;
		int r;

		d->stream_of[i] = -1;
		if (m->port == 0)
			continue;
		if (m->dtls)
			return ng_fail(q, "m-line %u: DTLS-SRTP (%s) is not supported by mrelay; "
				       "offer SDES (a=crypto) instead", i + 1, m->proto_name);
		if (!mr_sdp_proto_is_rtp(m->proto) || m->conn.multicast)
			continue;       /* BFCP, T.38, MSRP, multicast: port 0 */
		pa = m->proto;
		if (proto_secure(pa)) {
			if (m->n_crypto == 0)
				return ng_fail(q, "m-line %u: %s without a=crypto (DTLS-SRTP is not "
					       "supported)", i + 1, m->proto_name);
			r = mr_sdes_answer(&o->prefs, m->crypto, m->n_crypto, &idx, &d->in_a[k],
					   &local, why, sizeof(why));
			mr_sdes_wipe(&local);
			if (r < 0)
				return ng_fail(q, "m-line %u: no acceptable a=crypto: %s", i + 1, why);
		} else if (!fa->pstn) {
			return ng_fail(q, "m-line %u: plain %s from interface '%s' refused: "
				       "encryption is mandatory except on interfaces marked pstn",
				       i + 1, m->proto_name, fa->name);
		}
		if (o->tproto != 0)
			pb = o->tproto;
		else if (!proto_secure(pa) && !fb->pstn)
			pb = proto_secured(pa);
		else
			pb = pa;
		if (o->sdes_off)
			pb = proto_plain(pb);
		if (!proto_secure(pb) && !fb->pstn)
			return ng_fail(q, "m-line %u: plain %s towards interface '%s' refused: "
				       "encryption is mandatory except on interfaces marked pstn",
				       i + 1, mr_sdp_proto_name(pb), fb->name);
		if (k >= MR_SESSION_MAX_STREAMS)
			return ng_fail(q, "too many media streams (at most %u)", MR_SESSION_MAX_STREAMS);
		d->stream_of[i] = (int8_t)k;
		d->proto_a[k] = pa;
		d->proto_b[k] = pb;
		d->suite_b[k] = !proto_secure(pb) ? MR_SUITE_NONE :
				proto_secure(pa) ? d->in_a[k].suite : default_suite(&o->prefs);
		d->mux_a[k] = m->rtcp_mux && !(o->rtcp_mux & NG_MUX_REJECT);
		d->mux_b_offer[k] = (m->rtcp_mux && !(o->rtcp_mux & (NG_MUX_DEMUX | NG_MUX_REJECT))) ||
				    (o->rtcp_mux & (NG_MUX_OFFER | NG_MUX_REQUIRE));
		d->mux_b_now[k] = (o->rtcp_mux & NG_MUX_REQUIRE) != 0;

		media_peer(o, m, &d->sa[k].peer_rtp, &d->sa[k].peer_rtcp);
		d->sa[k].family = m->conn.addrtype == MR_AF_INET6 ? MR_AF_INET6 : MR_AF_INET;
		d->sa[k].suite = proto_secure(pa) ? d->in_a[k].suite : MR_SUITE_NONE;
		d->sa[k].out_tag = proto_secure(pa) ? d->in_a[k].tag : 0;
		d->sa[k].rtcp_mux = d->mux_a[k];
		d->sa[k].pstn = fa->pstn;
		d->sa[k].in_key = proto_secure(pa) ? &d->in_a[k] : NULL;
		d->sa[k].latch = o->strict_source && !proto_secure(pa) ? MR_LATCH_STRICT : 0;
		/* ICE: A's streams answer A's checks if A does ICE (the answer
		 * may then offer ICE-lite back); B's as the ICE option says. */
		a_ice = m->ice_ufrag != NULL && m->ice_pwd != NULL;
		d->sa[k].ice = a_ice && o->ice != NG_ICE_REMOVE;
		d->sb[k].ice = o->ice == NG_ICE_FORCE || (o->ice == NG_ICE_DEFAULT && a_ice);

		d->sb[k].family = o->af != 0 ? o->af : d->sa[k].family;
		d->sb[k].suite = d->suite_b[k];
		d->sb[k].rtcp_mux = d->mux_b_now[k];
		d->sb[k].pstn = fb->pstn;
		d->sb[k].latch = o->strict_source && !proto_secure(pb) ? MR_LATCH_STRICT : 0;
		d->n_streams++;
	}
	if (d->n_streams == 0)
		return ng_fail(q, "no m-line mrelay can relay (RTP/AVP(F) or RTP/SAVP(F) with a "
			       "port) in the offer");
	return 0;
}

/* The relay's a=crypto line for stream @k of @l, into the pool. NULL if plain. */
static const char *
crypto_line(struct ng_req *q, const struct mr_leg *l, unsigned int k)
{
	struct mr_sdes_crypto key;
	char line[MR_SDES_LINE_MAX];
	const char *ret = NULL;
	size_t len;

	if (mr_session_stream_out_key(q->ng->sess, l, k, &key) < 0)
		return NULL;
	if (mr_sdes_print(&key, 0, line, sizeof(line), &len) == 0)
		ret = ng_strf(q, "%s", line);
	mr_sdes_wipe(&key);
	explicit_bzero(line, sizeof(line));
	return ret;
}

/*
 * Print @sdp rewritten for the peer of leg @l (leg index @li of @nc): the
 * relay's addresses and ports of @l's streams, @l's outbound keys, the
 * transport @nc says that peer sees. m= lines without a stream, or that
 * @answer_sdp rejected, go with port 0. Adds "sdp" to the reply.
 */
static int
render(struct ng_req *q, const struct ng_opts *o, const struct mr_sdp *sdp,
       const struct mr_leg *l, unsigned int li, const struct ng_call *nc, bool offer)
{
	/* Static: the plan holds 16 media plans; the loop is single-threaded. */
	static struct mr_sdp_plan plan;
	static const char *cryptos[NG_MAX_MEDIA];
	char err[MR_SDP_ERR_MAX], ufrag[16], pwd[32];
	unsigned int n_accepted = 0, n_ice = 0;
	struct mr_stream_info si;
	bool have_addr = false;
	size_t len;
	char *buf;
	unsigned int i;
	int r;

	memset(&plan, 0, sizeof(plan));
	plan.n_media = sdp->n_media;
	plan.replace_origin = o->replace_origin;
	plan.replace_session_conn = o->replace_session_conn;
	plan.replace_zero_addr = o->replace_zero;
	plan.version = o->sdp_version ? MR_SDP_VERSION_BUMP : MR_SDP_VERSION_KEEP;
	plan.ice = MR_SDP_ICE_REMOVE;
	for (i = 0; i < sdp->n_media && i < NG_MAX_MEDIA; i++) {
		struct mr_sdp_media_plan *mp = &plan.media[i];
		int k = i < nc->n_media ? nc->stream_of[i] : -1;

		if (k < 0 || sdp->media[i].port == 0)
			continue;       /* rejected: port 0 */
		r = mr_session_stream_info(q->ng->sess, l, (unsigned int)k, &si);
		if (r < 0)
			return ng_fail(q, "stream %d: cannot read its slot (%s); try again", k,
				       strerror(-r));
		mp->accept = true;
		mp->rtp_port = ntohs(si.advertised.port_be);
		mp->addr = si.advertised;
		mp->addr.port_be = 0;
		mp->rtcp_mux = offer ? nc->mux_offered[li][k] : nc->mux[li][k];
		mp->rtcp_port = mp->rtcp_mux && (!offer || nc->mux[li][k]) ? 0 : si.rtcp_port;
		mp->proto = mr_sdp_proto_name(nc->proto[li][k]);
		cryptos[i] = proto_secure(nc->proto[li][k]) ? crypto_line(q, l, (unsigned int)k) : NULL;
		if (proto_secure(nc->proto[li][k]) && (cryptos[i] == NULL || cryptos[i][0] == '\0'))
			return ng_fail(q, "stream %d: no outbound key to offer", k);
		mp->crypto = &cryptos[i];
		mp->n_crypto = cryptos[i] != NULL ? 1 : 0;
		n_accepted++;
		/* The relay's ICE-lite credentials, read from the slot like the keys. */
		if ((si.flags & MR_LEG_F_ICE) &&
		    mr_session_stream_ice(q->ng->sess, l, (unsigned int)k, ufrag, pwd) == 0) {
			mp->ice_ufrag = ng_strf(q, "%s", ufrag);
			mp->ice_pwd = ng_strf(q, "%s", pwd);
			n_ice++;
		}
		if (!have_addr) {
			plan.addr = mp->addr;
			have_addr = true;
		}
	}
	explicit_bzero(pwd, sizeof(pwd));
	/* ICE-lite towards this peer when every stream it sees answers checks
	 * (the slots say: ICE=force, or the offer had ICE) and this command
	 * does not remove ICE; every ICE attribute of the input goes either way. */
	if (o->ice != NG_ICE_REMOVE && n_accepted != 0 && n_ice == n_accepted)
		plan.ice = MR_SDP_ICE_LITE;
	buf = ng_pool_take(q, SDP_OUT_MAX);
	if (buf == NULL)
		return ng_fail(q, "out of reply space for the SDP");
	r = mr_sdp_rewrite(sdp, &plan, buf, SDP_OUT_MAX, &len, err, sizeof(err));
	for (i = 0; i < NG_MAX_MEDIA; i++)
		cryptos[i] = NULL;      /* the lines themselves stay in the pool, for the reply */
	if (r < 0) {
		ng_pool_give_back(q, SDP_OUT_MAX);
		return ng_fail(q, "cannot rewrite the SDP: %s", err);
	}
	ng_pool_give_back(q, SDP_OUT_MAX - len - 1);
	if (mr_bc_dict_add(q->reply, mr_bc_new_cstr(&q->a, "sdp"), mr_bc_new_str(&q->a, buf, len)) < 0)
		return ng_fail(q, "reply too large");
	return 0;
}

static int
parse_sdp(struct ng_req *q, const struct ng_opts *o, struct mr_sdp **ret)
{
	char err[MR_SDP_ERR_MAX];
	int r = mr_sdp_parse(o->sdp, o->sdp_len, ret, err, sizeof(err));

	if (r < 0)
		return ng_fail(q, "Failed to parse SDP: %s", err);
	if ((*ret)->n_media > NG_MAX_MEDIA) {
		mr_sdp_free(*ret);
		return ng_fail(q, "too many m-lines");
	}
	return 0;
}

static void
note_decision(struct ng_call *nc, const struct mr_sdp *sdp, const struct decision *d,
	      unsigned int la, unsigned int lb)
{
	unsigned int i, k;

	nc->n_media = (uint8_t)sdp->n_media;
	nc->n_streams = (uint8_t)d->n_streams;
	memcpy(nc->stream_of, d->stream_of, sizeof(nc->stream_of));
	for (i = 0; i < sdp->n_media; i++) {
		if (d->stream_of[i] < 0)
			continue;
		k = (unsigned int)d->stream_of[i];
		snprintf(nc->type[k], sizeof(nc->type[k]), "%s", sdp->media[i].type_name);
	}
	for (k = 0; k < d->n_streams; k++) {
		nc->proto[la][k] = d->proto_a[k];
		nc->proto[lb][k] = d->proto_b[k];
		nc->mux[la][k] = d->mux_a[k];
		nc->mux_offered[la][k] = d->mux_a[k];
		nc->mux_offered[lb][k] = d->mux_b_offer[k];
		nc->mux[lb][k] = d->mux_b_now[k];
	}
	nc->offerer = (uint8_t)la;
	nc->last_signal_s = ng_wall_s();
}

static int
iface_of(const struct ng_req *q, const struct mr_leg *l)
{
	struct mr_leg_info li;
	unsigned int i;

	mr_session_leg_info(l, &li);
	for (i = 0; i < q->ng->n_ifaces; i++)
		if (strcmp(q->ng->ifaces[i].name, li.iface) == 0)
			return (int)i;
	return -1;
}

static unsigned int
leg_index(const struct mr_call *c, const struct mr_leg *l)
{
	unsigned int i;

	for (i = 0; mr_session_leg_at(c, i) != NULL; i++)
		if (mr_session_leg_at(c, i) == l)
			return i;
	return 0;
}

/* A new call: both legs, all or nothing. */
static int
offer_new(struct ng_req *q, const struct ng_opts *o, const struct mr_sdp *sdp)
{
	struct mr_session *s = q->ng->sess;
	int ia = o->iface[0] >= 0 ? o->iface[0] : 0, ib = o->iface[1] >= 0 ? o->iface[1] : ia;
	struct mr_leg_params pa, pb;
	struct decision *d;
	struct ng_call *nc;
	struct mr_call *c;
	struct mr_leg *la, *lb;
	int r;

	d = calloc(1, sizeof(*d));
	nc = calloc(1, sizeof(*nc));
	if (d == NULL || nc == NULL) {
		free(d);
		free(nc);
		return ng_fail(q, "out of memory");
	}
	r = decide(q, o, sdp, ia, ib, d);
	if (r < 0)
		goto out;
	r = mr_session_call_new(s, o->call_id, q->now_ms, &c);
	if (r < 0) {
		r = sess_fail(q, r, "call");
		goto out;
	}
	pa = (struct mr_leg_params){ .tag = o->from_tag, .iface = q->ng->ifaces[ia].name,
				     .n_streams = d->n_streams, .streams = d->sa };
	pb = (struct mr_leg_params){ .tag = NG_PENDING_TAG, .iface = q->ng->ifaces[ib].name,
				     .n_streams = d->n_streams, .streams = d->sb };
	r = mr_session_leg_add(s, c, &pa, &la);
	if (r == 0)
		r = mr_session_leg_add(s, c, &pb, &lb);
	if (r < 0) {
		/* All or nothing: the half-made call goes. */
		(void)mr_session_call_end(s, c, MR_END_DELETED);
		r = sess_fail(q, r, "leg");
		goto out;
	}
	nc->created_s = ng_wall_s();
	note_decision(nc, sdp, d, 0, 1);
	ng_call_attach(c, nc);
	nc = NULL;
	q->ng->calls_total++;
	r = render(q, o, sdp, lb, 1, ng_call_of(c), true);
	if (r < 0)
		(void)mr_session_call_end(s, c, MR_END_DELETED);
	else
		(void)ng_call_save(q, c);      /* failure: a warning, the call stands */
out:
	decision_wipe(d);
	free(d);
	free(nc);
	return r;
}

/*
 * A repeated offer from a leg the call has (a retransmission with a new
 * cookie, or a re-INVITE): same ports, same keys, the peer's new key and
 * addresses. A re-offer that changes the m= lines, their SRTP suites or
 * tags is refused: mrelay does not re-key or renumber a live call.
 */
static int
offer_again(struct ng_req *q, const struct ng_opts *o, const struct mr_sdp *sdp,
	    struct mr_call *c, struct mr_leg *la)
{
	struct mr_session *s = q->ng->sess;
	struct ng_call *nc = ng_call_of(c);
	unsigned int ai = leg_index(c, la), bi = ai == 0 ? 1 : 0, k;
	struct mr_leg *lb = mr_session_leg_at(c, bi);
	int ia = iface_of(q, la), ib = lb != NULL ? iface_of(q, lb) : -1;
	struct mr_sdes_crypto cur;
	struct decision *d;
	int r;

	if (nc == NULL || lb == NULL || ia < 0 || ib < 0 || mr_session_leg_at(c, 2) != NULL)
		return ng_fail(q, "call '%s' was not made by an NG offer of this mrelay-cp (or "
			       "its NG state was not journaled): delete it and offer again", o->call_id);
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return ng_fail(q, "out of memory");
	r = decide(q, o, sdp, ia, ib, d);
	if (r < 0)
		goto out;
	if (sdp->n_media != nc->n_media || d->n_streams != nc->n_streams ||
	    memcmp(d->stream_of, nc->stream_of, sizeof(d->stream_of)) != 0) {
		r = ng_fail(q, "re-offer changes the media lines of the call: not supported; "
			    "delete the call and offer again");
		goto out;
	}
	for (k = 0; k < d->n_streams && r == 0; k++) {
		bool a_keyed = mr_session_stream_out_key(s, la, k, &cur) == 0;

		if (a_keyed != (d->sa[k].suite != MR_SUITE_NONE) ||
		    (a_keyed && (cur.suite != d->sa[k].suite || cur.tag != d->sa[k].out_tag)))
			r = ng_fail(q, "m-line stream %u: re-offer changes the SRTP suite or tag: "
				    "not supported; delete the call and offer again", k);
		if (a_keyed)
			mr_sdes_wipe(&cur);
		if (r == 0 && (mr_session_stream_out_key(s, lb, k, &cur) == 0) !=
		    (d->suite_b[k] != MR_SUITE_NONE))
			r = ng_fail(q, "stream %u: re-offer switches between RTP and SRTP: not "
				    "supported", k);
		mr_sdes_wipe(&cur);
	}
	for (k = 0; k < d->n_streams && r == 0; k++) {
		if (d->sa[k].in_key != NULL)
			r = mr_session_stream_set_in_key(s, la, k, d->sa[k].in_key);
		if (r == 0)
			r = mr_session_stream_set_peer(s, la, k, &d->sa[k].peer_rtp,
						       &d->sa[k].peer_rtcp);
		if (r == 0)
			r = mr_session_stream_set_rtcp_mux(s, la, k, d->mux_a[k]);
		if (r < 0)
			r = sess_fail(q, r, "stream");
	}
	if (r < 0)
		goto out;
	/* What the other side saw stays until its answer says otherwise. */
	for (k = 0; k < d->n_streams; k++)
		d->mux_b_now[k] = nc->mux[bi][k] || d->mux_b_now[k];
	note_decision(nc, sdp, d, ai, bi);
	r = render(q, o, sdp, lb, bi, nc, true);
	/* The state changed even if the SDP could not be printed: the journal
	 * must say what memory says, or a restart would bring back another. */
	(void)ng_call_save(q, c);
out:
	decision_wipe(d);
	free(d);
	return r;
}

int
ng_cmd_offer(struct ng_req *q, const struct ng_opts *o)
{
	struct mr_sdp *sdp;
	struct mr_call *c;
	struct mr_leg *l;
	int r;

	if (parse_sdp(q, o, &sdp) < 0)
		return -1;
	c = mr_session_call_get(q->ng->sess, o->call_id);
	if (c == NULL)
		r = offer_new(q, o, sdp);
	else if ((l = mr_session_leg_get(c, o->from_tag)) != NULL)
		r = offer_again(q, o, sdp, c, l);
	else
		r = ng_fail(q, "call '%s' exists with other tags: a second offer with a new "
			    "from-tag (forking towards the caller) is not supported", o->call_id);
	mr_sdp_free(sdp);
	return r;
}

/* ---- answer ------------------------------------------------------------------------ */

/* The callee's answer for stream @k (m= line @am): key, addresses, rtcp-mux. */
static int
answer_stream(struct ng_req *q, const struct ng_opts *o, struct ng_call *nc, struct mr_leg *lb,
	      unsigned int bi, unsigned int k, unsigned int line, const struct mr_sdp_media *am)
{
	struct mr_session *s = q->ng->sess;
	struct mr_sdes_crypto out, remote;
	struct mr_sockaddr rtp, rtcp;
	char why[256];
	size_t idx;
	int r;

	if (am->dtls)
		return ng_fail(q, "m-line %u: the answer uses DTLS-SRTP, which mrelay does not "
			       "support", line + 1);
	if (proto_secure(nc->proto[bi][k])) {
		if (mr_session_stream_out_key(s, lb, k, &out) < 0)
			return ng_fail(q, "stream %u has no outbound key", k);
		r = mr_sdes_accept_answer(&out, 1, 0, am->crypto, am->n_crypto, &idx, &remote, why,
					  sizeof(why));
		mr_sdes_wipe(&out);
		if (r == -ENOENT)
			return ng_fail(q, "m-line %u: the answer has no a=crypto for the SRTP offer",
				       line + 1);
		if (r < 0)
			return ng_fail(q, "m-line %u: the answer's a=crypto is not acceptable: %s",
				       line + 1, why);
		r = mr_session_stream_set_in_key(s, lb, k, &remote);
		mr_sdes_wipe(&remote);
		if (r < 0)
			return sess_fail(q, r, "stream");
	} else if (am->n_crypto > 0 && proto_secure(am->proto)) {
		return ng_fail(q, "m-line %u: an SRTP answer to a plain RTP offer", line + 1);
	}
	media_peer(o, am, &rtp, &rtcp);
	r = mr_session_stream_set_peer(s, lb, k, &rtp, &rtcp);
	if (r == 0) {
		nc->mux[bi][k] = nc->mux[bi][k] || (am->rtcp_mux && nc->mux_offered[bi][k]);
		r = mr_session_stream_set_rtcp_mux(s, lb, k, nc->mux[bi][k]);
	}
	return r < 0 ? sess_fail(q, r, "stream") : 0;
}

int
ng_cmd_answer(struct ng_req *q, const struct ng_opts *o)
{
	struct mr_session *s = q->ng->sess;
	struct mr_call *c = mr_session_call_get(s, o->call_id);
	struct mr_sdp *sdp = NULL;
	struct mr_leg *la, *lb;
	struct ng_call *nc;
	unsigned int ai, bi, i;
	int r;

	if (c == NULL)
		return ng_fail(q, "Unknown call-id");
	la = mr_session_leg_get(c, o->from_tag);
	if (la == NULL)
		return ng_fail(q, "Unknown from-tag");
	nc = ng_call_of(c);
	ai = leg_index(c, la);
	bi = ai == 0 ? 1 : 0;
	lb = mr_session_leg_at(c, bi);
	if (nc == NULL || lb == NULL || mr_session_leg_at(c, 2) != NULL || nc->offerer != ai)
		return ng_fail(q, "call '%s' has no NG offer from this from-tag pending here (made "
			       "elsewhere, or its NG state was not journaled): offer again",
			       o->call_id);
	if (mr_session_leg_get(c, o->to_tag) != NULL && mr_session_leg_get(c, o->to_tag) != lb)
		return ng_fail(q, "to-tag names the offerer's own leg");
	{
		struct mr_leg_info li;

		mr_session_leg_info(lb, &li);
		if (strcmp(li.tag, NG_PENDING_TAG) != 0 && strcmp(li.tag, o->to_tag) != 0)
			return ng_fail(q, "call already answered by to-tag '%s' (forked answers "
				       "are not supported)", li.tag);
	}
	if (parse_sdp(q, o, &sdp) < 0)
		return -1;
	if (sdp->n_media != nc->n_media) {
		r = ng_fail(q, "the answer has %u m-lines, the offer had %u", sdp->n_media,
			    nc->n_media);
		goto out;
	}
	for (i = 0, r = 0; i < sdp->n_media && r == 0; i++) {
		int k = nc->stream_of[i];

		if (k < 0 || sdp->media[i].port == 0)
			continue;
		r = answer_stream(q, o, nc, lb, bi, (unsigned int)k, i, &sdp->media[i]);
	}
	if (r < 0)
		goto out_save;
	r = mr_session_leg_retag(s, lb, o->to_tag);
	if (r == 0)
		r = mr_session_pair(s, la, lb);
	if (r < 0) {
		r = sess_fail(q, r, "answer");
		goto out_save;
	}
	nc->answered = true;
	nc->last_signal_s = ng_wall_s();
	r = render(q, o, sdp, la, ai, nc, false);
out_save:
	/* answer_stream() may have changed rtcp-mux of the streams before a
	 * later one failed: journal what memory holds, error or not. */
	(void)ng_call_save(q, c);
out:
	mr_sdp_free(sdp);
	return r;
}
