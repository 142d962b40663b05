/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_CP_NG_H
#define MR_CP_NG_H

/*
 * The NG front-end: rtpengine's control protocol (docs/ng-protocol.md)
 * translated into the session manager's primitives. One call,
 * mr_ng_process(), takes a message as it came off the wire (UDP datagram,
 * or one message framed out of a TCP stream by mr_ng_frame_len()) and
 * writes the reply bytes: the retransmission cache, the bencode parse, the
 * command, and the error reply for anything that goes wrong. Sockets are
 * the daemon's (controlplane/cp/ng_listen.c).
 *
 * Nothing here logs: mr_ng_process() says what it did in struct
 * mr_ng_result, and the caller logs once.
 *
 * Threads: one, the daemon's loop, with the region's writer lock held
 * (the session manager's rule).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "session.h"

/* Commands, counted for "statistics". */
#define MR_NG_COMMANDS(X)                       \
	X(PING, "ping")                         \
	X(OFFER, "offer")                       \
	X(ANSWER, "answer")                     \
	X(DELETE, "delete")                     \
	X(QUERY, "query")                       \
	X(LIST, "list")                         \
	X(STATISTICS, "statistics")             \
	X(BLOCK_MEDIA, "block media")           \
	X(UNBLOCK_MEDIA, "unblock media")       \
	X(SILENCE_MEDIA, "silence media")       \
	X(UNSILENCE_MEDIA, "unsilence media")   \
	X(OTHER, "other")

enum mr_ng_cmd {
#define MR_X_ENUM(name, str) MR_NG_CMD_##name,
	MR_NG_COMMANDS(MR_X_ENUM)
#undef MR_X_ENUM
	MR_NG_CMD_MAX
};
const char *mr_ng_cmd_name(enum mr_ng_cmd cmd);

struct mr_ng_counters {
	uint64_t requests[MR_NG_CMD_MAX];
	uint64_t errors[MR_NG_CMD_MAX];         /* replies with result "error" */
	uint64_t retransmits;                   /* answered from the cache */
	uint64_t dropped;                       /* no cookie: nothing to reply to */
	uint64_t bad_requests;                  /* not bencode, no command */
	uint32_t restored;                      /* recovered calls whose NG state came back */
	uint32_t restore_failed;                /* ... whose note was unusable */
};

struct mr_ng_params {
	struct mr_session *sess;
	const struct mr_session_iface *ifaces;  /* as configured (copied): names, pstn */
	unsigned int n_ifaces;
	uint32_t cache_entries;                 /* 0 = 4096 */
	uint32_t cache_ttl_ms;                  /* 0 = 30000 */
	/* Called for each call a delete ends, before it is freed (to log it). */
	mr_session_end_cb *ended;
	void *ended_ctx;
};

/* What one message did, for the caller's log line. */
struct mr_ng_result {
	enum mr_ng_cmd cmd;
	bool error;                     /* the reply is result "error" */
	bool cached;                    /* a retransmission, answered from the cache */
	bool dropped;                   /* no reply at all (no usable cookie) */
	char call_id[64];               /* the request's call-id, cut short; "" if none */
	char reason[256];               /* error-reason or warning; never a key */
};

struct mr_ng;

/*
 * NULL with errno EINVAL or ENOMEM. Rebuilds the NG state of the calls
 * the session manager recovered from its journal (counters: restored,
 * restore_failed), so they can be answered after a restart.
 */
struct mr_ng *mr_ng_new(const struct mr_ng_params *p);
void mr_ng_free(struct mr_ng *ng);

/*
 * Handle one message @msg[0..len) from the peer identified by @peer
 * (opaque bytes, up to 64: the cache key is peer + cookie, so two proxies
 * with the same cookie scheme do not get each other's replies). Writes the
 * reply to @out (@cap bytes, MR_NG_MSG_MAX is always enough) and its length
 * to @ret_len; returns 0, or -EINVAL when there is nothing to reply to
 * (@res->dropped). @now_ms: CLOCK_MONOTONIC.
 */
int mr_ng_process(struct mr_ng *ng, const char *msg, size_t len, const void *peer,
		  size_t peer_len, uint64_t now_ms, char *out, size_t cap, size_t *ret_len,
		  struct mr_ng_result *res);

const struct mr_ng_counters *mr_ng_counters(const struct mr_ng *ng);

#endif /* MR_CP_NG_H */
