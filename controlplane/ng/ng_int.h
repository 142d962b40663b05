/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_CP_NG_INT_H
#define MR_CP_NG_INT_H

/*
 * The NG front-end's private parts: the handle, one request's context (its
 * dictionary, the reply being built, a string pool for the reply's
 * values), the options a request carries (opts.c), and the per-call state
 * an offer leaves for its answer (struct ng_call). Shared by dispatch.c,
 * opts.c, offer.c and call_cmd.c.
 */
#include <stdarg.h>

#include "bencode.h"
#include "cache.h"
#include "frame.h"
#include "ng.h"
#include "sdes.h"

#define NG_REQ_NODES 4096u              /* a request's bencode values */
#define NG_REPLY_NODES 8192u            /* a reply's (query of a big call) */
#define NG_POOL_BYTES (96u * 1024u)     /* reply strings (SDP included) */
#define NG_MAX_MEDIA 16u                /* m= lines of a description (sdp.h) */
/* The callee's leg before its to-tag is known: '<' and '>' are not SIP
 * token characters, so no real tag can be this. */
#define NG_PENDING_TAG "<callee>"

struct mr_ng {
	struct mr_session *sess;
	unsigned int n_ifaces;
	struct mr_session_iface ifaces[MR_SESSION_MAX_IFACES];
	struct mr_ng_cache *cache;
	struct mr_ng_counters cnt;
	mr_session_end_cb *ended;
	void *ended_ctx;
	uint64_t started_wall_s;
	uint64_t calls_total, calls_rejected;   /* offers that made a call / were refused */

	struct mr_bc_node req_nodes[NG_REQ_NODES];
	struct mr_bc_node reply_nodes[NG_REPLY_NODES];
	char pool[NG_POOL_BYTES];
};

/* One request being handled. */
struct ng_req {
	struct mr_ng *ng;
	const struct mr_bc_node *dict;
	struct mr_bc_arena a;           /* reply nodes */
	struct mr_bc_node *reply;       /* the reply dictionary */
	size_t pool_used;
	char err[256];                  /* error-reason when a handler fails */
	char warning[256];              /* "warning" of an ok reply; "" = none */
	uint64_t now_ms;
};

/* Fail the request: the reason goes into error-reason. Returns -1. */
int ng_fail(struct ng_req *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A copy of the formatted string in the request's pool; "" when it is full
 * (the printer then fails with -ENOSPC only if the node arena does too). */
const char *ng_strf(struct ng_req *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Reserve @len bytes of the pool (for the SDP printer); NULL when full. */
char *ng_pool_take(struct ng_req *q, size_t len);
void ng_pool_give_back(struct ng_req *q, size_t unused);
/* The relay's session manager view of "now" on the wall clock, seconds. */
uint64_t ng_wall_s(void);

/* ---- options (opts.c) ---------------------------------------------------- */

/*
 * ICE towards the peer that gets the command's SDP (docs/ng-protocol.md):
 * DEFAULT: ICE-lite if the offer carried ICE, else none; REMOVE: none;
 * FORCE: ICE-lite (the relay's own credentials and candidates only).
 */
enum ng_ice { NG_ICE_DEFAULT = 0, NG_ICE_REMOVE, NG_ICE_FORCE };

/* rtcp-mux list (bits) */
#define NG_MUX_OFFER    (1u << 0)
#define NG_MUX_REQUIRE  (1u << 1)
#define NG_MUX_DEMUX    (1u << 2)
#define NG_MUX_ACCEPT   (1u << 3)
#define NG_MUX_REJECT   (1u << 4)

struct ng_opts {
	char call_id[MR_SESSION_ID_MAX + 1];
	char from_tag[MR_SESSION_TAG_MAX + 1];
	char to_tag[MR_SESSION_TAG_MAX + 1];    /* "" = none */
	char via_branch[128];
	const char *sdp;                /* points into the request */
	size_t sdp_len;
	int iface[2];                   /* direction / interface; -1 = default */
	uint8_t ice;                    /* enum ng_ice */
	uint8_t tproto;                 /* enum mr_sdp_proto; 0 = keep */
	uint8_t rtcp_mux;               /* NG_MUX_* */
	uint8_t af;                     /* address family: MR_AF_INET/6; 0 = as the peer */
	bool sdes_off;
	bool sip_source;                /* "SIP source address" */
	bool strict_source;
	bool replace_origin, replace_session_conn, replace_zero, sdp_version;
	bool fatal;                     /* delete: errors are errors, not warnings */
	bool all;
	struct mr_sockaddr media_address;       /* family NONE = not given */
	struct mr_sockaddr received_from;
	struct mr_sdes_prefs prefs;     /* SDES-no-/only- applied */
	int64_t delete_delay;           /* -1 = not given */
	int64_t limit;                  /* list; 0 = default */
};

/*
 * Read every key and flag @cmd uses from the request into @o. Unknown keys
 * and flags are ignored (rtpengine does the same); keys that ask for what
 * mrelay cannot do (DTLS-SRTP, codec manipulation, recording, T.38, ...)
 * fail with a reason. 0 or -1 (ng_fail()).
 */
int ng_opts_read(struct ng_req *q, enum mr_ng_cmd cmd, struct ng_opts *o);

/* ---- per-call state an offer leaves for its answer ---------------------- */

struct ng_call {
	uint64_t created_s, last_signal_s;      /* wall clock */
	uint8_t offerer;                        /* leg index of the last offer's sender */
	uint8_t n_media;                        /* m= lines of the offer */
	int8_t stream_of[NG_MAX_MEDIA];         /* m= line -> stream, -1 = port 0 */
	uint8_t n_streams;
	/* per leg index (0, 1) and stream */
	uint8_t proto[2][NG_MAX_MEDIA];         /* enum mr_sdp_proto towards that leg's peer */
	bool mux[2][NG_MAX_MEDIA];              /* rtcp-mux towards that leg's peer */
	bool mux_offered[2][NG_MAX_MEDIA];      /* the offer to that leg carried a=rtcp-mux */
	char type[NG_MAX_MEDIA][12];            /* "audio", "video", ... */
	bool answered;
};

/* The call's NG state, or NULL (made by the admin socket, or recovered
 * without a usable note). */
struct ng_call *ng_call_of(const struct mr_call *c);
/* Give @nc (malloc'd) to @c: freed with the call. */
void ng_call_attach(struct mr_call *c, struct ng_call *nc);

/* ---- the state as the call's journaled note (call_note.c) ------------------ */

/* @nc as note text into @buf; its length, or -EINVAL / -ENOSPC. */
int ng_call_note_format(const struct ng_call *nc, char *buf, size_t cap);
/* Note text back into @ret, checked against the legs' @n_streams. 0,
 * -EPROTO (another note format), -EINVAL. */
int ng_call_note_parse(const char *note, unsigned int n_streams, struct ng_call *ret);
/*
 * Journal @c's NG state (after each offer and answer), so a restarted
 * mrelay-cp can answer. On failure the request still succeeds (media is
 * set up) with a warning saying a restart would lose the call's NG state.
 */
int ng_call_save(struct ng_req *q, struct mr_call *c);
/* mr_ng_new(): rebuild the NG state of recovered calls from their notes. */
void ng_calls_restore(struct mr_ng *ng);

/* ---- commands ------------------------------------------------------------ */

int ng_cmd_offer(struct ng_req *q, const struct ng_opts *o);
int ng_cmd_answer(struct ng_req *q, const struct ng_opts *o);
int ng_cmd_delete(struct ng_req *q, const struct ng_opts *o);
int ng_cmd_query(struct ng_req *q, const struct ng_opts *o);
int ng_cmd_list(struct ng_req *q, const struct ng_opts *o);
int ng_cmd_statistics(struct ng_req *q, const struct ng_opts *o);
int ng_cmd_mute(struct ng_req *q, const struct ng_opts *o, bool mute);

/* Query-shaped statistics of @c into dict @d (query and delete replies). */
int ng_call_stats(struct ng_req *q, const struct mr_call *c, struct mr_bc_node *d);

#endif /* MR_CP_NG_INT_H */
