/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NG commands on existing calls and on the daemon: delete, query, list,
 * statistics, block/unblock/silence/unsilence media. Replies take
 * rtpengine's shapes (docs/ng-protocol.md); counters come from the region,
 * summed over the dataplane's workers by the session manager.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ng_int.h"
#include "sdp.h"

#define ADD_INT(q, d, k, v) mr_bc_dict_add_int(&(q)->a, (d), (k), (int64_t)(v))

static uint64_t
mono_to_wall_s(const struct ng_req *q, uint64_t mono_ms)
{
	uint64_t now = ng_wall_s();

	if (mono_ms == 0 || mono_ms > q->now_ms)
		return now;
	return now - (q->now_ms - mono_ms) / 1000u;
}

static struct mr_bc_node *
endpoint(struct ng_req *q, const struct mr_sockaddr *a)
{
	struct mr_bc_node *d = mr_bc_new_dict(&q->a);
	char buf[INET6_ADDRSTRLEN];

	if (inet_ntop(a->family == MR_AF_INET6 ? AF_INET6 : AF_INET, a->ip, buf, sizeof(buf)) == NULL)
		buf[0] = '\0';
	mr_bc_dict_add_cstr(&q->a, d, "family", a->family == MR_AF_INET6 ? "IPv6" : "IPv4");
	mr_bc_dict_add_cstr(&q->a, d, "address", ng_strf(q, "%s", buf));
	ADD_INT(q, d, "port", ntohs(a->port_be));
	return d;
}

static struct mr_bc_node *
stats(struct ng_req *q, uint64_t pkts, uint64_t bytes, uint64_t errors)
{
	struct mr_bc_node *d = mr_bc_new_dict(&q->a);

	ADD_INT(q, d, "packets", pkts);
	ADD_INT(q, d, "bytes", bytes);
	ADD_INT(q, d, "errors", errors);
	return d;
}

struct totals {
	uint64_t pkts, bytes, errors;
};

/* One packet stream of a media: RTP (with the slot's counters) or RTCP. */
static struct mr_bc_node *
stream_dict(struct ng_req *q, const struct mr_stream_info *si, bool rtcp, bool secure,
	    struct totals *t)
{
	struct mr_bc_node *d = mr_bc_new_dict(&q->a), *fl = mr_bc_new_list(&q->a);
	const struct mr_leg_counters *k = &si->counters;
	struct mr_sockaddr ep = si->latched_rtp.family != MR_AF_NONE ? si->latched_rtp : si->peer_rtp;
	uint64_t errs = k->drop_src + k->drop_auth + k->drop_other;

	if (rtcp) {
		ep = si->latched_rtcp;
		ADD_INT(q, d, "local port", si->rtcp_port);
	} else {
		ADD_INT(q, d, "local port", ntohs(si->local.port_be));
	}
	if (ep.family != MR_AF_NONE)
		mr_bc_dict_add(d, mr_bc_new_cstr(&q->a, "endpoint"), endpoint(q, &ep));
	if (!rtcp && si->peer_rtp.family != MR_AF_NONE)
		mr_bc_dict_add(d, mr_bc_new_cstr(&q->a, "advertised endpoint"),
			       endpoint(q, &si->peer_rtp));
	if (secure && mr_sdes_suite_name(si->out_suite) != NULL)
		mr_bc_dict_add_cstr(&q->a, d, "crypto suite", mr_sdes_suite_name(si->out_suite));
	if (!rtcp && k->last_rx_ms != 0)
		ADD_INT(q, d, "last packet", mono_to_wall_s(q, k->last_rx_ms));
	mr_bc_list_add(fl, mr_bc_new_cstr(&q->a, rtcp ? "RTCP" : "RTP"));
	if (ep.family != MR_AF_NONE)
		mr_bc_list_add(fl, mr_bc_new_cstr(&q->a, "filled"));
	if (si->latched_rtp.family != MR_AF_NONE && !rtcp)
		mr_bc_list_add(fl, mr_bc_new_cstr(&q->a, "confirmed"));
	mr_bc_dict_add(d, mr_bc_new_cstr(&q->a, "flags"), fl);
	/* mrelay-dp counts a slot's RTP and RTCP together: all on the RTP entry. */
	if (rtcp) {
		mr_bc_dict_add(d, mr_bc_new_cstr(&q->a, "stats"), stats(q, 0, 0, 0));
	} else {
		mr_bc_dict_add(d, mr_bc_new_cstr(&q->a, "stats"),
			       stats(q, k->rx_pkts, k->rx_bytes, errs));
		t->pkts += k->rx_pkts;
		t->bytes += k->rx_bytes;
		t->errors += errs;
	}
	return d;
}

/* The m= line index (1-based) of stream @k, as rtpengine numbers medias. */
static unsigned int
media_index(const struct ng_call *nc, unsigned int k)
{
	unsigned int i;

	if (nc != NULL)
		for (i = 0; i < nc->n_media; i++)
			if (nc->stream_of[i] == (int)k)
				return i + 1;
	return k + 1;
}

static struct mr_bc_node *
leg_dict(struct ng_req *q, const struct mr_call *c, unsigned int li, uint64_t created_s,
	 struct totals *t, int *ret)
{
	const struct mr_leg *l = mr_session_leg_at(c, li);
	const struct mr_leg *other = mr_session_leg_at(c, li == 0 ? 1 : 0);
	const struct ng_call *nc = ng_call_of(c);
	struct mr_bc_node *d = mr_bc_new_dict(&q->a), *medias = mr_bc_new_list(&q->a);
	struct mr_leg_info info, oi;
	unsigned int k;

	mr_session_leg_info(l, &info);
	mr_bc_dict_add_cstr(&q->a, d, "tag", ng_strf(q, "%s", info.tag));
	ADD_INT(q, d, "created", created_s);
	mr_bc_dict_add_cstr(&q->a, d, "interface", ng_strf(q, "%s", info.iface));
	if (info.muted)
		mr_bc_dict_add_cstr(&q->a, d, "media blocked", "yes");
	if (other != NULL) {
		mr_session_leg_info(other, &oi);
		mr_bc_dict_add_cstr(&q->a, d, "in dialogue with", ng_strf(q, "%s", oi.tag));
	}
	for (k = 0; k < info.n_streams; k++) {
		struct mr_bc_node *m = mr_bc_new_dict(&q->a), *fl = mr_bc_new_list(&q->a);
		struct mr_bc_node *streams = mr_bc_new_list(&q->a);
		struct mr_stream_info si;
		bool secure, mux;

		if (mr_session_stream_info(q->ng->sess, l, k, &si) < 0) {
			*ret = ng_fail(q, "a slot of the call is being written; try again");
			return d;
		}
		secure = si.out_suite != MR_SUITE_NONE;
		mux = (si.flags & MR_LEG_F_RTCP_MUX) != 0;
		ADD_INT(q, m, "index", media_index(nc, k));
		if (nc != NULL && li < 2) {
			/* A copy: delete frees the call (and nc) before the
			 * reply is printed. */
			mr_bc_dict_add_cstr(&q->a, m, "type", ng_strf(q, "%s", nc->type[k]));
			mr_bc_dict_add_cstr(&q->a, m, "protocol",
					    mr_sdp_proto_name(nc->proto[li][k]) != NULL ?
					    mr_sdp_proto_name(nc->proto[li][k]) : "");
		}
		mr_bc_list_add(fl, mr_bc_new_cstr(&q->a, "initialized"));
		if (mux)
			mr_bc_list_add(fl, mr_bc_new_cstr(&q->a, "rtcp-mux"));
		if (secure)
			mr_bc_list_add(fl, mr_bc_new_cstr(&q->a, "SDES"));
		mr_bc_dict_add(m, mr_bc_new_cstr(&q->a, "flags"), fl);
		mr_bc_list_add(streams, stream_dict(q, &si, false, secure, t));
		if (!mux)
			mr_bc_list_add(streams, stream_dict(q, &si, true, secure, t));
		mr_bc_dict_add(m, mr_bc_new_cstr(&q->a, "streams"), streams);
		mr_bc_list_add(medias, m);
	}
	mr_bc_dict_add(d, mr_bc_new_cstr(&q->a, "medias"), medias);
	return d;
}

int
ng_call_stats(struct ng_req *q, const struct mr_call *c, struct mr_bc_node *d)
{
	const struct ng_call *nc = ng_call_of(c);
	struct mr_bc_node *tags = mr_bc_new_dict(&q->a), *tot = mr_bc_new_dict(&q->a);
	struct mr_call_info ci;
	struct totals t = { 0 };
	uint64_t created;
	unsigned int i;
	int r = 0;

	mr_session_call_info(c, &ci);
	created = nc != NULL ? nc->created_s : mono_to_wall_s(q, ci.created_ms);
	ADD_INT(q, d, "created", created);
	ADD_INT(q, d, "last signal", nc != NULL ? nc->last_signal_s : created);
	for (i = 0; i < ci.n_legs && r == 0; i++) {
		struct mr_leg_info li;
		struct mr_bc_node *ld;

		mr_session_leg_info(mr_session_leg_at(c, i), &li);
		ld = leg_dict(q, c, i, created, &t, &r);
		/* The callee's leg before the answer: rtpengine's empty tag. */
		mr_bc_dict_add(tags, mr_bc_new_cstr(&q->a, strcmp(li.tag, NG_PENDING_TAG) == 0 ?
					    "" : ng_strf(q, "%s", li.tag)), ld);
	}
	if (r < 0)
		return r;
	mr_bc_dict_add(d, mr_bc_new_cstr(&q->a, "tags"), tags);
	mr_bc_dict_add(tot, mr_bc_new_cstr(&q->a, "RTP"), stats(q, t.pkts, t.bytes, t.errors));
	mr_bc_dict_add(tot, mr_bc_new_cstr(&q->a, "RTCP"), stats(q, 0, 0, 0));
	if (mr_bc_dict_add(d, mr_bc_new_cstr(&q->a, "totals"), tot) < 0)
		return ng_fail(q, "reply too large");
	return 0;
}

/* A tag of the call (or the callee's, once answered); NULL if none matches. */
static struct mr_leg *
leg_by_tag(const struct mr_call *c, const char *tag)
{
	return tag[0] != '\0' ? mr_session_leg_get(c, tag) : NULL;
}

int
ng_cmd_delete(struct ng_req *q, const struct ng_opts *o)
{
	struct mr_call *c = mr_session_call_get(q->ng->sess, o->call_id);
	int r;

	if (c == NULL) {
		if (o->fatal)
			return ng_fail(q, "Unknown call-id");
		snprintf(q->warning, sizeof(q->warning), "Call-ID not found or tags didn't match");
		return 0;
	}
	if ((o->from_tag[0] != '\0' && leg_by_tag(c, o->from_tag) == NULL) ||
	    (o->to_tag[0] != '\0' && leg_by_tag(c, o->to_tag) == NULL &&
	     mr_session_leg_get(c, NG_PENDING_TAG) == NULL)) {
		if (o->fatal)
			return ng_fail(q, "Unknown monologue tag");
		snprintf(q->warning, sizeof(q->warning), "Call-ID not found or tags didn't match");
		return 0;
	}
	/*
	 * The statistics rtpengine returns with a delete, then the end: a
	 * two-party call ends as a whole whichever tag names it. "delete delay"
	 * is not honoured: the ports wait at the back of the allocator's queue
	 * instead (ports.h), which is what the delay protects against.
	 */
	if (ng_call_stats(q, c, q->reply) < 0)
		return -1;
	if (q->ng->ended != NULL)
		q->ng->ended(c, MR_END_DELETED, q->ng->ended_ctx);
	r = mr_session_call_end(q->ng->sess, c, MR_END_DELETED);
	if (r < 0)
		return ng_fail(q, "delete failed: %s", strerror(-r));
	return 0;
}

int
ng_cmd_query(struct ng_req *q, const struct ng_opts *o)
{
	struct mr_call *c = mr_session_call_get(q->ng->sess, o->call_id);

	if (c == NULL)
		return ng_fail(q, "Unknown call-id");
	return ng_call_stats(q, c, q->reply);
}

int
ng_cmd_list(struct ng_req *q, const struct ng_opts *o)
{
	struct mr_bc_node *l = mr_bc_new_list(&q->a);
	const struct mr_call *c;
	int64_t n = 0, limit = o->limit > 0 ? o->limit : 32;

	for (c = mr_session_call_next(q->ng->sess, NULL); c != NULL && n < limit;
	     c = mr_session_call_next(q->ng->sess, c), n++) {
		struct mr_call_info ci;

		mr_session_call_info(c, &ci);
		if (mr_bc_list_add(l, mr_bc_new_cstr(&q->a, ci.call_id)) < 0)
			return ng_fail(q, "reply too large: use a smaller limit");
	}
	return mr_bc_dict_add(q->reply, mr_bc_new_cstr(&q->a, "calls"), l) < 0 ?
	       ng_fail(q, "reply too large") : 0;
}

int
ng_cmd_statistics(struct ng_req *q, const struct ng_opts *o)
{
	const struct mr_ng_counters *k = &q->ng->cnt;
	struct mr_bc_node *st = mr_bc_new_dict(&q->a), *cur = mr_bc_new_dict(&q->a);
	struct mr_bc_node *tot = mr_bc_new_dict(&q->a), *ctl = mr_bc_new_dict(&q->a);
	struct mr_bc_node *ngd = mr_bc_new_dict(&q->a), *rel = mr_bc_new_dict(&q->a);
	struct mr_session_stats ss;
	unsigned int i;

	(void)o;
	mr_session_stats(q->ng->sess, &ss);
	ADD_INT(q, cur, "sessionsown", ss.calls);
	ADD_INT(q, cur, "sessionsforeign", 0);
	ADD_INT(q, cur, "sessionstotal", ss.calls);
	ADD_INT(q, cur, "transcodedmedia", 0);
	mr_bc_dict_add_cstr(&q->a, tot, "uptime",
			    ng_strf(q, "%llu", (unsigned long long)(ng_wall_s() - q->ng->started_wall_s)));
	ADD_INT(q, tot, "managedsessions", q->ng->calls_total);
	ADD_INT(q, tot, "rejectedsessions", q->ng->calls_rejected);
	for (i = 0; i < MR_NG_CMD_MAX; i++) {
		struct mr_bc_node *e = mr_bc_new_dict(&q->a);
		char name[32];
		size_t j, n = 0;

		/* rtpengine's key shape: "total" + command without spaces + "count". */
		for (j = 0; mr_ng_cmd_name(i)[j] != '\0' && n + 1 < sizeof(name); j++)
			if (mr_ng_cmd_name(i)[j] != ' ')
				name[n++] = mr_ng_cmd_name(i)[j];
		name[n] = '\0';
		ADD_INT(q, ctl, ng_strf(q, "total%scount", name), k->requests[i]);
		ADD_INT(q, e, "requests", k->requests[i]);
		ADD_INT(q, e, "errors", k->errors[i]);
		mr_bc_dict_add(ngd, mr_bc_new_cstr(&q->a, mr_ng_cmd_name(i)), e);
	}
	ADD_INT(q, ngd, "retransmits", k->retransmits);
	ADD_INT(q, ngd, "dropped", k->dropped);
	ADD_INT(q, ngd, "bad requests", k->bad_requests);
	ADD_INT(q, rel, "legs", ss.legs);
	ADD_INT(q, rel, "slots free", ss.slots_free);
	ADD_INT(q, rel, "ports used", ss.ports_used);
	ADD_INT(q, rel, "ports capacity", ss.ports_capacity);
	mr_bc_dict_add(st, mr_bc_new_cstr(&q->a, "currentstatistics"), cur);
	mr_bc_dict_add(st, mr_bc_new_cstr(&q->a, "totalstatistics"), tot);
	mr_bc_dict_add(st, mr_bc_new_cstr(&q->a, "controlstatistics"), ctl);
	mr_bc_dict_add(st, mr_bc_new_cstr(&q->a, "ng"), ngd);
	mr_bc_dict_add(st, mr_bc_new_cstr(&q->a, "mrelay"), rel);
	return mr_bc_dict_add(q->reply, mr_bc_new_cstr(&q->a, "statistics"), st) < 0 ?
	       ng_fail(q, "reply too large") : 0;
}

/*
 * block/silence media: the session manager's leg mute (the dataplane stops
 * forwarding what that leg's peer sends and renumbers, so SRTP survives the
 * unmute). Silence is the same mute: mrelay does not decode media to write
 * silence into it. unblock and unsilence both unmute.
 */
int
ng_cmd_mute(struct ng_req *q, const struct ng_opts *o, bool mute)
{
	struct mr_call *c = mr_session_call_get(q->ng->sess, o->call_id);
	struct mr_leg *l;
	unsigned int i;
	int r = 0;

	if (c == NULL)
		return ng_fail(q, "Unknown call-id");
	if (o->from_tag[0] != '\0') {
		l = leg_by_tag(c, o->from_tag);
		if (l == NULL)
			return ng_fail(q, "Unknown monologue tag '%s'", o->from_tag);
		r = mr_session_leg_mute(q->ng->sess, l, mute);
	} else {
		if (mr_bc_dict_get(q->dict, "label") != NULL || mr_bc_dict_get(q->dict, "address") != NULL)
			return ng_fail(q, "select the participant by from-tag: label and address "
				       "selection are not supported");
		for (i = 0; (l = mr_session_leg_at(c, i)) != NULL && r == 0; i++)
			r = mr_session_leg_mute(q->ng->sess, l, mute);
	}
	return r < 0 ? ng_fail(q, "mute failed: %s", strerror(-r)) : 0;
}
