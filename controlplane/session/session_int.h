/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_CP_SESSION_INT_H
#define MR_CP_SESSION_INT_H

/*
 * The session manager's private structures, shared by session.c (the
 * primitives) and recover.c (rebuilding them after a restart). Nothing
 * here holds a key.
 */
#include "journal.h"
#include "ports.h"
#include "session.h"

struct mr_stream {
	uint32_t slot;
	uint64_t leg_uid;               /* what the slot must still hold */
	uint16_t rtp_port;              /* RTCP is rtp_port + 1 */
	uint64_t auth_failures;
	uint64_t retire_ms;             /* wipe the previous inbound key then; 0 = no */
};

struct mr_leg {
	struct mr_call *call;
	unsigned int idx;               /* position in call->legs, journaled */
	unsigned int iface;             /* index; >= n_ifaces if it vanished from
	                                   the configuration (recovered call) */
	char iface_name[MR_SESSION_IFACE_NAME];
	char tag[MR_SESSION_TAG_MAX + 1];
	bool muted;
	unsigned int n_streams;
	struct mr_stream streams[MR_SESSION_MAX_STREAMS];
};

struct mr_call {
	struct mr_call *prev, *next;    /* creation order */
	struct mr_call *hnext;          /* id hash chain */
	char *id;
	uint64_t tag;
	uint64_t created_ms;
	uint64_t paired_ms;             /* 0 = never paired */
	uint64_t recovered_ms;          /* idle grace after a restart */
	bool lost;                      /* recovery: a slot is gone */
	char *note;                     /* the front-end's, journaled (N); NULL = none */
	void *priv;                     /* the front-end's, never journaled */
	void (*priv_free)(void *priv);
	unsigned int n_legs;
	struct mr_leg *legs[MR_SESSION_MAX_LEGS];
};

struct mr_slot_owner {
	struct mr_leg *leg;             /* NULL = not ours */
	uint8_t stream;
};

struct mr_session {
	struct mr_region *r;
	struct mr_journal *j;
	unsigned int n_ifaces;
	struct mr_session_iface ifaces[MR_SESSION_MAX_IFACES];
	struct mr_ports *ports[MR_SESSION_MAX_IFACES];
	struct mr_session_limits limits;
	struct mr_session_timeouts timeouts;

	struct mr_call **buckets;       /* by call-id */
	uint32_t n_buckets;             /* power of two */
	struct mr_call *head, *tail;
	uint32_t n_calls;
	uint32_t n_slots;               /* streams of all calls */

	uint32_t max_legs;              /* region slots */
	struct mr_slot_owner *owner;    /* [max_legs] */
	uint32_t *free_slots;           /* stack, lowest slot on top */
	uint32_t n_free;

	uint64_t next_tag;
	uint64_t rate_sec;              /* offers_per_s window */
	uint32_t rate_count;
	uint64_t live_records;          /* journal lines the live state needs */
	uint32_t n_retiring;            /* streams with retire_ms set */
};

int mr_sess_init(struct mr_session *s, const struct mr_session_params *p, struct mr_region *r);
int mr_sess_iface_find(const struct mr_session *s, const char *name);
struct mr_call *mr_sess_call_alloc(const char *call_id, uint64_t tag, uint64_t created_ms);
void mr_sess_call_free(struct mr_call *c);
int mr_sess_call_link(struct mr_session *s, struct mr_call *c);
void mr_sess_call_unlink(struct mr_session *s, struct mr_call *c);
void mr_sess_jrec_call(const struct mr_call *c, struct mr_jrec *j);
void mr_sess_jrec_leg(const struct mr_session *s, const struct mr_leg *l, struct mr_jrec *j);
void mr_sess_jrec_stream(const struct mr_leg *l, unsigned int i, struct mr_jrec *j);
void mr_sess_jrec_note(const struct mr_call *c, struct mr_jrec *j);
void mr_sess_stream_keys_adopt(struct mr_session *s, struct mr_stream *st, uint64_t now_ms);

#endif /* MR_CP_SESSION_INT_H */
