/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A call's media through the NG front-end, in-process (ng.h): the same
 * offer / answer / delete an external proxy would send, so SDES re-keying
 * per leg, the pstn policy and multi-m-line SDP are one code path.
 *
 *  offer   call-id = the call's own id (ours, unique), from-tag = the
 *          offering party's tag in its dialog, direction = [ its media
 *          interface, the other's ] (first offer only), replace-origin,
 *          replace-session-connection, ICE=remove (the relay is a plain
 *          RTP endpoint to both; latching handles NATs),
 *          transport-protocol RTP/AVP when the SDP goes to a pstn trunk.
 *  answer  from-tag = the offerer's tag, to-tag = the answerer's.
 *  delete  ends the media; its reply's per-party statistics fill the CDR.
 *
 * NG's refusal of plain RTP from a non-pstn interface is told apart
 * (-EPERM) so the caller answers 488 with the SRTP warning.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bencode.h"
#include "frame.h"
#include "sip_int.h"

#define NODES 256u

struct ngq {
	struct mr_bc_node nodes[NODES];
	struct mr_bc_arena a;
	struct mr_bc_node *d;
	struct mr_bc_node rnodes[4096];
	const struct mr_bc_node *reply;
	char reason[256];
};

static char ngbuf[MR_NG_MSG_MAX], ngout[MR_NG_MSG_MAX];

static void
ngq_init(struct ngq *q, const char *cmd, const struct sip_call *c)
{
	mr_bc_arena_init(&q->a, q->nodes, NODES);
	q->d = mr_bc_new_dict(&q->a);
	mr_bc_dict_add_cstr(&q->a, q->d, "command", cmd);
	mr_bc_dict_add_cstr(&q->a, q->d, "call-id", c->ng_id);
	q->reply = NULL;
	q->reason[0] = '\0';
}

static void
common_flags(struct ngq *q)
{
	struct mr_bc_node *fl = mr_bc_new_list(&q->a);

	mr_bc_list_add(fl, mr_bc_new_cstr(&q->a, "replace-origin"));
	mr_bc_list_add(fl, mr_bc_new_cstr(&q->a, "replace-session-connection"));
	mr_bc_dict_add(q->d, mr_bc_new_cstr(&q->a, "flags"), fl);
	mr_bc_dict_add_cstr(&q->a, q->d, "ICE", "remove");
}

/* Run @q through NG. 0 with q->reply (result ok); -EINVAL with q->reason. */
static int
run(struct mr_sip *s, struct ngq *q, uint64_t now_ms)
{
	struct mr_ng_result res;
	struct mr_bc_arena ra;
	struct mr_bc_err e;
	struct mr_ng_msg m;
	size_t len, outlen;
	const char *why;
	int n;

	n = snprintf(ngbuf, sizeof(ngbuf), "sip%llu ", (unsigned long long)++s->ng_cookie);
	if (n < 0 || mr_bc_print(q->d, ngbuf + n, sizeof(ngbuf) - (size_t)n, &len) < 0) {
		snprintf(q->reason, sizeof(q->reason), "request too large");
		return -EINVAL;
	}
	if (mr_ng_process(s->ng, ngbuf, len + (size_t)n, "sip", 3, now_ms, ngout, sizeof(ngout),
			  &outlen, &res) < 0 ||
	    mr_ng_split(ngout, outlen, &m, NULL) < 0) {
		snprintf(q->reason, sizeof(q->reason), "no reply");
		return -EINVAL;
	}
	mr_bc_arena_init(&ra, q->rnodes, sizeof(q->rnodes) / sizeof(q->rnodes[0]));
	if (mr_ng_parse_request(&m, &ra, &q->reply, &e) < 0) {
		snprintf(q->reason, sizeof(q->reason), "bad reply");
		return -EINVAL;
	}
	if (!mr_bc_str_eq(mr_bc_dict_get(q->reply, "result"), "ok")) {
		if (mr_bc_dict_get_str(q->reply, "error-reason", &why, &len) == 0)
			snprintf(q->reason, sizeof(q->reason), "%.*s", (int)len, why);
		return -EINVAL;
	}
	return 0;
}

static int
reply_sdp(struct ngq *q, char **ret_sdp)
{
	const char *p;
	size_t len;

	if (mr_bc_dict_get_str(q->reply, "sdp", &p, &len) < 0)
		return -EINVAL;
	*ret_sdp = malloc(len + 1);
	if (*ret_sdp == NULL)
		return -ENOMEM;
	memcpy(*ret_sdp, p, len);
	(*ret_sdp)[len] = '\0';
	return 0;
}

static const char *
iface(const struct mr_sip *s, const struct sip_leg *l)
{
	return l->iface[0] != '\0' ? l->iface : s->default_iface;
}

/*
 * Run offer/answer @q (freed here): 0 with the SDP for the other leg in
 * *ret_sdp; -EPERM when NG refused it by the encryption policy (its
 * reasons for plain RTP where SRTP is required: offer.c), which the caller
 * answers with 488 and the SRTP Warning; other refusals -EINVAL, counted.
 */
static int
finish(struct mr_sip *s, struct ngq *q, char **ret_sdp, uint64_t now_ms)
{
	int r = run(s, q, now_ms);

	if (r == 0)
		r = reply_sdp(q, ret_sdp);
	else if (strstr(q->reason, "plain") != NULL || strstr(q->reason, "encryption") != NULL)
		r = -EPERM;
	else
		s->k.ng_errors++;
	free(q);
	return r;
}

int
sip_media_offer(struct mr_sip *s, struct sip_call *c, int from, bool initial, const char *sdp,
		size_t len, char **ret_sdp, uint64_t now_ms)
{
	const struct sip_leg *l = &c->leg[from], *o = &c->leg[!from];
	struct ngq *q = malloc(sizeof(*q));

	if (q == NULL)
		return -ENOMEM;
	ngq_init(q, "offer", c);
	mr_bc_dict_add_cstr(&q->a, q->d, "from-tag", l->remote_tag);
	mr_bc_dict_add_str(&q->a, q->d, "sdp", sdp, len);
	common_flags(q);
	if (initial && iface(s, l)[0] != '\0' && iface(s, o)[0] != '\0') {
		struct mr_bc_node *dir = mr_bc_new_list(&q->a);

		mr_bc_list_add(dir, mr_bc_new_cstr(&q->a, iface(s, l)));
		mr_bc_list_add(dir, mr_bc_new_cstr(&q->a, iface(s, o)));
		mr_bc_dict_add(q->d, mr_bc_new_cstr(&q->a, "direction"), dir);
	}
	if (o->pstn)
		mr_bc_dict_add_cstr(&q->a, q->d, "transport-protocol", "RTP/AVP");
	return finish(s, q, ret_sdp, now_ms);
}

int
sip_media_answer(struct mr_sip *s, struct sip_call *c, int from, const char *sdp, size_t len,
		 char **ret_sdp, uint64_t now_ms)
{
	struct ngq *q = malloc(sizeof(*q));

	if (q == NULL)
		return -ENOMEM;
	ngq_init(q, "answer", c);
	mr_bc_dict_add_cstr(&q->a, q->d, "from-tag", c->leg[!from].remote_tag);
	mr_bc_dict_add_cstr(&q->a, q->d, "to-tag", c->leg[from].remote_tag);
	mr_bc_dict_add_str(&q->a, q->d, "sdp", sdp, len);
	common_flags(q);
	return finish(s, q, ret_sdp, now_ms);
}

static int64_t
get_int(const struct mr_bc_node *d, const char *key)
{
	int64_t v = 0;

	return mr_bc_dict_get_int(d, key, &v) == 0 && v > 0 ? v : 0;
}

/* Sum one party's medias[].streams[].stats into pkts/bytes/errors. */
static void
party_stats(const struct mr_bc_node *party, uint64_t *pkts, uint64_t *bytes, uint64_t *errs)
{
	const struct mr_bc_node *medias = mr_bc_dict_get(party, "medias"), *m, *st;

	mr_bc_list_foreach(m, medias) {
		mr_bc_list_foreach(st, mr_bc_dict_get(m, "streams")) {
			const struct mr_bc_node *k = mr_bc_dict_get(st, "stats");

			*pkts += (uint64_t)get_int(k, "packets");
			*bytes += (uint64_t)get_int(k, "bytes");
			*errs += (uint64_t)get_int(k, "errors");
		}
	}
}

void
sip_media_delete(struct mr_sip *s, struct sip_call *c, uint64_t now_ms)
{
	struct ngq *q = malloc(sizeof(*q));
	const struct mr_bc_node *tags, *key, *val;
	struct mr_cdr_row *row = &c->cdr;

	if (q == NULL)
		return;
	ngq_init(q, "delete", c);
	if (run(s, q, now_ms) == 0) {
		tags = mr_bc_dict_get(q->reply, "tags");
		mr_bc_dict_foreach(key, val, tags) {
			bool caller = key->type == MR_BC_STR && c->leg[0].remote_tag[0] != '\0' &&
				      mr_bc_str_eq(key, c->leg[0].remote_tag);

			if (caller)
				party_stats(val, &row->pkts_caller_to_callee,
					    &row->bytes_caller_to_callee, &row->pkts_dropped);
			else
				party_stats(val, &row->pkts_callee_to_caller,
					    &row->bytes_callee_to_caller, &row->pkts_dropped);
		}
	}
	free(q);
}

bool
sip_media_exists(struct mr_sip *s, struct sip_call *c, uint64_t now_ms)
{
	struct ngq *q = malloc(sizeof(*q));
	bool gone;

	if (q == NULL)
		return true;
	ngq_init(q, "query", c);
	gone = run(s, q, now_ms) < 0 && strcmp(q->reason, "Unknown call-id") == 0;
	free(q);
	return !gone;
}
