/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NG dispatch (ng.h): cookie, retransmission cache, bencode, command table,
 * reply. A handler builds its reply dictionary in the request's arena and
 * pool, or fails with a reason; everything past the handler (printing,
 * caching, counting) happens here, so every command gets the same
 * treatment of errors and retransmissions.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ng_int.h"

static const char *const cmd_names[] = {
#define MR_X_NAME(name, str) str,
	MR_NG_COMMANDS(MR_X_NAME)
#undef MR_X_NAME
};

const char *
mr_ng_cmd_name(enum mr_ng_cmd cmd)
{
	return cmd < MR_NG_CMD_MAX ? cmd_names[cmd] : "other";
}

uint64_t
ng_wall_s(void)
{
	return (uint64_t)time(NULL);
}

struct mr_ng *
mr_ng_new(const struct mr_ng_params *p)
{
	struct mr_ng *ng;

	if (p == NULL || p->sess == NULL || p->n_ifaces == 0 || p->n_ifaces > MR_SESSION_MAX_IFACES) {
		errno = EINVAL;
		return NULL;
	}
	ng = calloc(1, sizeof(*ng));
	if (ng == NULL)
		return NULL;
	ng->cache = mr_ng_cache_new(p->cache_entries != 0 ? p->cache_entries : 4096u,
				    p->cache_ttl_ms != 0 ? p->cache_ttl_ms : 30000u);
	if (ng->cache == NULL) {
		free(ng);
		return NULL;
	}
	ng->sess = p->sess;
	ng->n_ifaces = p->n_ifaces;
	memcpy(ng->ifaces, p->ifaces, p->n_ifaces * sizeof(p->ifaces[0]));
	ng->ended = p->ended;
	ng->ended_ctx = p->ended_ctx;
	ng->started_wall_s = ng_wall_s();
	ng_calls_restore(ng);
	return ng;
}

void
mr_ng_free(struct mr_ng *ng)
{
	if (ng == NULL)
		return;
	mr_ng_cache_free(ng->cache);
	free(ng);
}

const struct mr_ng_counters *
mr_ng_counters(const struct mr_ng *ng)
{
	return &ng->cnt;
}

int
ng_fail(struct ng_req *q, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(q->err, sizeof(q->err), fmt, ap);
	va_end(ap);
	return -1;
}

const char *
ng_strf(struct ng_req *q, const char *fmt, ...)
{
	size_t room = sizeof(q->ng->pool) - q->pool_used;
	char *p = q->ng->pool + q->pool_used;
	va_list ap;
	int n;

	if (room == 0)
		return "";
	va_start(ap, fmt);
	n = vsnprintf(p, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room)
		return "";
	q->pool_used += (size_t)n + 1;
	return p;
}

char *
ng_pool_take(struct ng_req *q, size_t len)
{
	char *p;

	if (sizeof(q->ng->pool) - q->pool_used < len)
		return NULL;
	p = q->ng->pool + q->pool_used;
	q->pool_used += len;
	return p;
}

void
ng_pool_give_back(struct ng_req *q, size_t unused)
{
	q->pool_used -= unused;
}

/* ---- the command table ------------------------------------------------------ */

static int
cmd_ping(struct ng_req *q, const struct ng_opts *o)
{
	(void)o;
	return mr_bc_dict_add_cstr(&q->a, q->reply, "result", "pong") < 0 ?
	       ng_fail(q, "reply too large") : 0;
}

static int
cmd_block(struct ng_req *q, const struct ng_opts *o)
{
	return ng_cmd_mute(q, o, true);
}

static int
cmd_unblock(struct ng_req *q, const struct ng_opts *o)
{
	return ng_cmd_mute(q, o, false);
}

static const struct {
	const char *name;
	enum mr_ng_cmd cmd;
	int (*run)(struct ng_req *q, const struct ng_opts *o);
} commands[] = {
	{ "ping", MR_NG_CMD_PING, cmd_ping },
	{ "offer", MR_NG_CMD_OFFER, ng_cmd_offer },
	{ "answer", MR_NG_CMD_ANSWER, ng_cmd_answer },
	{ "delete", MR_NG_CMD_DELETE, ng_cmd_delete },
	{ "query", MR_NG_CMD_QUERY, ng_cmd_query },
	{ "list", MR_NG_CMD_LIST, ng_cmd_list },
	{ "statistics", MR_NG_CMD_STATISTICS, ng_cmd_statistics },
	{ "block media", MR_NG_CMD_BLOCK_MEDIA, cmd_block },
	{ "unblock media", MR_NG_CMD_UNBLOCK_MEDIA, cmd_unblock },
	{ "silence media", MR_NG_CMD_SILENCE_MEDIA, cmd_block },
	{ "unsilence media", MR_NG_CMD_UNSILENCE_MEDIA, cmd_unblock },
};

/* rtpengine commands mrelay knows of and does not do: a clear refusal
 * rather than "unknown command". */
static const char *const refused[] = {
	"start recording", "stop recording", "pause recording", "block DTMF", "unblock DTMF",
	"start forwarding", "stop forwarding", "play media", "stop media", "play DTMF",
	"publish", "subscribe request", "subscribe answer", "unsubscribe", "connect",
};

static void
set_call_id(const struct mr_bc_node *dict, struct mr_ng_result *res)
{
	const char *p;
	size_t len, i;

	if (mr_bc_dict_get_str(dict, "call-id", &p, &len) < 0)
		return;
	if (len >= sizeof(res->call_id))
		len = sizeof(res->call_id) - 1;
	for (i = 0; i < len; i++)       /* for a log line: printable only */
		res->call_id[i] = p[i] > 0x20 && p[i] < 0x7f ? p[i] : '?';
	res->call_id[len] = '\0';
}

/* @p[0..len) names command @name; a hyphen may stand for a space. */
static bool
cmd_eq(const char *p, size_t len, const char *name)
{
	size_t i;

	if (strlen(name) != len)
		return false;
	for (i = 0; i < len; i++)
		if (p[i] != name[i] && !(p[i] == '-' && name[i] == ' '))
			return false;
	return true;
}

/* Run the command of @q->dict; 0 with q->reply built, or -1 with q->err. */
static int
run(struct ng_req *q, struct mr_ng_result *res)
{
	struct ng_opts o;
	const char *name;
	size_t len, i;

	if (mr_bc_dict_get_str(q->dict, "command", &name, &len) < 0) {
		q->ng->cnt.bad_requests++;
		return ng_fail(q, mr_bc_dict_get(q->dict, "command") == NULL ?
			       "no command in the request" : "command is not a string");
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!cmd_eq(name, len, commands[i].name))
			continue;
		res->cmd = commands[i].cmd;
		q->ng->cnt.requests[res->cmd]++;
		if (ng_opts_read(q, res->cmd, &o) < 0)
			return -1;
		return commands[i].run(q, &o);
	}
	q->ng->cnt.requests[MR_NG_CMD_OTHER]++;
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (cmd_eq(name, len, refused[i]))
			return ng_fail(q, "command '%s' is not supported by mrelay", refused[i]);
	return ng_fail(q, "Unrecognized command '%.*s'", (int)(len > 64 ? 64 : len), name);
}

int
mr_ng_process(struct mr_ng *ng, const char *msg, size_t len, const void *peer,
	      size_t peer_len, uint64_t now_ms, char *out, size_t cap, size_t *ret_len,
	      struct mr_ng_result *res)
{
	struct mr_bc_arena req_arena;
	struct mr_bc_err perr;
	struct ng_req q;
	struct mr_ng_msg m;
	uint8_t key[64 + MR_NG_COOKIE_MAX];
	const void *cached;
	size_t klen, cached_len;
	const char *why;
	int r;

	memset(res, 0, sizeof(*res));
	res->cmd = MR_NG_CMD_OTHER;
	if (mr_ng_split(msg, len, &m, &why) < 0) {
		ng->cnt.dropped++;
		res->dropped = true;
		snprintf(res->reason, sizeof(res->reason), "%s", why);
		return -EINVAL;
	}
	if (peer_len > 64)
		peer_len = 64;
	memcpy(key, peer, peer_len);
	memcpy(key + peer_len, m.cookie, m.cookie_len);
	klen = peer_len + m.cookie_len;
	if (mr_ng_cache_get(ng->cache, key, klen, now_ms, &cached, &cached_len) &&
	    cached_len <= cap) {
		ng->cnt.retransmits++;
		res->cached = true;
		memcpy(out, cached, cached_len);
		*ret_len = cached_len;
		return 0;
	}

	memset(&q, 0, sizeof(q));
	q.ng = ng;
	q.now_ms = now_ms;
	mr_bc_arena_init(&req_arena, ng->req_nodes, NG_REQ_NODES);
	mr_bc_arena_init(&q.a, ng->reply_nodes, NG_REPLY_NODES);
	if (mr_ng_parse_request(&m, &req_arena, &q.dict, &perr) < 0) {
		ng->cnt.bad_requests++;
		r = ng_fail(&q, "Failed to decode dictionary: %s at offset %zu", perr.what,
			    perr.offset);
	} else {
		set_call_id(q.dict, res);
		q.reply = mr_bc_new_dict(&q.a);
		r = q.reply == NULL ? ng_fail(&q, "out of reply space") : run(&q, res);
	}
	if (r == 0 && q.warning[0] != '\0')
		r = mr_bc_dict_add_cstr(&q.a, q.reply, "warning", q.warning) < 0 ?
		    ng_fail(&q, "reply too large") : 0;
	if (r == 0 && mr_bc_dict_get(q.reply, "result") == NULL &&
	    mr_bc_dict_add_cstr(&q.a, q.reply, "result", "ok") < 0)
		r = ng_fail(&q, "reply too large");
	if (r == 0) {
		r = mr_ng_reply_print(m.cookie, m.cookie_len, q.reply, out, cap, ret_len);
		if (r < 0)
			r = ng_fail(&q, "reply too large for one message");
	}
	if (r < 0) {
		ng->cnt.errors[res->cmd]++;
		res->error = true;
		snprintf(res->reason, sizeof(res->reason), "%s", q.err);
		if (mr_ng_reply_error(m.cookie, m.cookie_len, q.err, out, cap, ret_len) < 0) {
			res->dropped = true;
			return -EINVAL;
		}
	} else if (q.warning[0] != '\0') {
		snprintf(res->reason, sizeof(res->reason), "%s", q.warning);
	}
	/* A failed put only costs idempotency of a retransmission. */
	(void)mr_ng_cache_put(ng->cache, key, klen, out, *ret_len, now_ms);
	return 0;
}
