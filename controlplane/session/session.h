/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_CP_SESSION_H
#define MR_CP_SESSION_H

/*
 * The media session manager: protocol-neutral calls, legs and streams, and
 * the only code in mrelay-cp that writes leg slots of the region.
 *
 *   call    one call-id. Owns its legs; ends as a whole.
 *   leg     one party of the call (a monologue: the from-tag or the to-tag
 *           side), on one interface (realm).
 *   stream  one m-line of a leg: one region slot (the dataplane's "leg") and
 *           one relay port pair (RTP on an even port, RTCP on the next).
 *
 * Front-ends (NG now; SIP and H.323 later) translate their messages into the
 * primitives below, which know nothing of offers and answers: an offer is
 * mr_session_call_new() (or _get) + mr_session_leg_add() for both sides, an
 * answer is mr_session_stream_set_in_key()/_set_peer() + mr_session_pair(),
 * a delete is mr_session_call_end(). `grep mr_session_` shows a call's life.
 *
 * Keys. The relay's outbound key of a stream (what it sends that peer with)
 * is generated here from OpenSSL's CSPRNG (sdes.h); the inbound key (what the
 * peer sends with) is given by the caller. Both go straight into the slot,
 * and nowhere else: not in these structs, not in the journal. A caller that
 * needs the outbound key for its SDP reads it back with
 * mr_session_stream_out_key() and wipes its copy.
 *
 * Journal. Every change that a restart must know about is appended to a
 * journal in the state directory (journal.h) before the call returns. After
 * a kill -9, mr_session_new() rebuilds every call from the journal plus the
 * region (see docs/control-plane.md), so media never stops and
 * query/delete keep working.
 *
 * Errors: 0 or -errno, nothing logged (the caller logs once). A function
 * that fails has changed nothing: a leg_add that runs out of ports on its
 * third stream frees the first two. The region's writer lock
 * (mr_region_lock()) must be held by the caller around every call that
 * changes the region; functions that need it return -ENOLCK otherwise.
 *
 * Threads: one. The manager belongs to the daemon's main loop.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mrelay/shm.h>

#include "region.h"
#include "sdes.h"

#define MR_SESSION_ID_MAX 255u          /* call-id bytes (without NUL) */
#define MR_SESSION_TAG_MAX 127u         /* leg tag bytes (without NUL) */
#define MR_SESSION_IFACE_NAME 32u       /* interface name with its NUL */
#define MR_SESSION_MAX_IFACES 16u
#define MR_SESSION_MAX_LEGS 8u          /* legs per call */
#define MR_SESSION_MAX_STREAMS 16u      /* streams (m-lines) per leg */
#define MR_SESSION_NOTE_MAX 320u        /* a call's note, bytes (MR_JOURNAL_NOTE_MAX) */

/* An interface (realm): where a leg's relay addresses and ports come from. */
struct mr_session_iface {
	char name[MR_SESSION_IFACE_NAME];
	struct mr_sockaddr local4;      /* relay address (family NONE: none); port 0 */
	struct mr_sockaddr local6;
	struct mr_sockaddr adv4;        /* what SDP shows; NONE = local4 */
	struct mr_sockaddr adv6;
	uint16_t port_min, port_max;    /* relay UDP ports, RTP even, RTCP + 1 */
	uint8_t dscp;                   /* 0..63, for packets sent to peers */
	bool pstn;                      /* operator-marked trunk: front-ends may
	                                   place plain-RTP streams here */
};

/* 0 = no limit. max_legs counts region slots, i.e. streams of all calls. */
struct mr_session_limits {
	uint32_t max_calls;
	uint32_t max_legs;
	uint32_t offers_per_s;          /* mr_session_call_new() per second */
};

/* Milliseconds; 0 = never. */
struct mr_session_timeouts {
	uint32_t media_idle_ms;         /* no packet on any stream of the call */
	uint32_t offer_ms;              /* created but never paired (no answer) */
	uint32_t call_max_ms;           /* hard limit on a call's life */
	uint32_t old_key_ms;            /* a peer's previous SRTP key, after the
	                                   offer/answer that replaced it completed
	                                   (0 = until the next key change) */
};

struct mr_session_params {
	const struct mr_session_iface *ifaces;  /* copied */
	unsigned int n_ifaces;                  /* 1..MR_SESSION_MAX_IFACES */
	struct mr_session_limits limits;
	struct mr_session_timeouts timeouts;
	const char *state_dir;                  /* holds the journal; must exist */
};

/* Why a call ended: logged by the caller, shown by queries. */
enum mr_end_reason {
	MR_END_DELETED = 0,     /* a front-end or the operator deleted it */
	MR_END_MEDIA_IDLE,      /* timeouts.media_idle_ms without media */
	MR_END_OFFER_TIMEOUT,   /* timeouts.offer_ms without being paired */
	MR_END_CALL_LIMIT,      /* timeouts.call_max_ms reached */
	MR_END_LOST,            /* recovery: a slot of it was gone or torn */
	MR_END_SHUTDOWN,        /* mr_session_end_all() */
	MR_END_MAX
};
const char *mr_end_reason_name(enum mr_end_reason why);

/* What mr_session_new() found when it rebuilt state from journal + region. */
struct mr_session_recovery {
	unsigned int calls;             /* recovered, media untouched */
	unsigned int calls_lost;        /* ended: a slot was gone, torn or foreign */
	unsigned int slots_repaired;    /* odd seqlock: wiped (mr_region_repair()) */
	unsigned int slots_swept;       /* written but never journaled: freed */
	unsigned int slots_foreign;     /* active, owned by no call (mrelayctl legs) */
	unsigned int ports_unmarked;    /* ports outside every interface's range now */
	unsigned int journal_bad;       /* journal lines skipped as malformed */
	char journal_err[256];          /* first such line's "journal:LINE: what" */
};

struct mr_session;
struct mr_call;
struct mr_leg;

/* One stream of mr_session_leg_add(). */
struct mr_stream_params {
	struct mr_sockaddr peer_rtp;    /* signaled address, a hint; NONE = unknown */
	struct mr_sockaddr peer_rtcp;   /* NONE = unknown (or rtcp-mux) */
	uint8_t family;                 /* relay side: MR_AF_INET/INET6; 0 = as peer_rtp, else IPv4 */
	uint8_t suite;                  /* enum mr_srtp_suite of the relay's outbound
	                                   key; MR_SUITE_NONE = plain towards the peer */
	uint8_t latch;                  /* enum mr_latch_policy; 0 = auth if keyed, else first */
	bool rtcp_mux;
	bool pstn;                      /* operator-marked trunk: plain RTP allowed;
	                                   only on an interface marked pstn (-EPERM) */
	uint32_t out_tag;               /* SDES tag of the relay's outbound key; 0 = 1
	                                   (an answer must reuse the offer's tag) */
	bool ice;                       /* ICE-lite: fresh relay ice-ufrag/ice-pwd in the
	                                   slot, MR_LEG_F_ICE (the dataplane answers
	                                   the peer's connectivity checks) */
	const struct mr_sdes_crypto *in_key;    /* the peer's key; NULL = later */
};

struct mr_leg_params {
	const char *tag;                /* from-tag / to-tag; unique in the call */
	const char *iface;              /* interface name; NULL = the first */
	unsigned int n_streams;         /* 1..MR_SESSION_MAX_STREAMS */
	const struct mr_stream_params *streams;
};

/* A stream as a query shows it (no keys). */
struct mr_stream_info {
	uint32_t slot;
	uint64_t leg_uid;
	struct mr_sockaddr local;       /* relay address and RTP port */
	struct mr_sockaddr advertised;  /* the address to put in SDP, RTP port */
	uint16_t rtcp_port;
	uint32_t flags;                 /* MR_LEG_F_* of the slot */
	uint32_t egress_slot;           /* MR_LEG_NONE until paired */
	uint8_t in_suite, out_suite;    /* MR_SUITE_NONE = plain */
	struct mr_sockaddr peer_rtp;    /* signaled */
	struct mr_sockaddr latched_rtp; /* from the dataplane's part; NONE = not yet */
	struct mr_sockaddr latched_rtcp;
	struct mr_leg_counters counters;        /* summed over workers */
	uint64_t auth_failures;         /* MR_EV_AUTH_FAIL totals seen by this process */
};

struct mr_call_info {
	const char *call_id;
	uint64_t tag;                   /* slot call_tag: joins cp logs and dp events */
	uint64_t created_ms;            /* CLOCK_MONOTONIC */
	uint64_t paired_ms;             /* 0 = never paired */
	unsigned int n_legs;
};

struct mr_leg_info {
	const char *tag;
	const char *iface;
	unsigned int n_streams;
	bool muted;
};

/*
 * Start the manager on region @r (opened by the caller, which also holds its
 * writer lock during this call): open or create the journal in
 * @p->state_dir, rebuild the calls it names (see the recovery struct), wipe
 * slots left torn, and rewrite the journal compactly. @ret_rec may be NULL.
 * On error, @err says why (e.g. "journal /var/lib/mrelay/journal: ...").
 * -EINVAL (bad params), -ENOLCK, -ENOMEM, -errno of the journal file.
 */
int mr_session_new(const struct mr_session_params *p, struct mr_region *r,
		   struct mr_session **ret, struct mr_session_recovery *ret_rec,
		   char *err, size_t errlen);
/* Stop managing: calls stay in the region and the journal, for the next
 * process. NULL is a no-op. */
void mr_session_free(struct mr_session *s);

/* Replace limits and timeouts (SIGHUP). Live calls keep running; a lower
 * limit only refuses new calls. */
void mr_session_set_policy(struct mr_session *s, const struct mr_session_limits *l,
			   const struct mr_session_timeouts *t);

/*
 * A new call @call_id at @now_ms (CLOCK_MONOTONIC). -EEXIST (call-id in
 * use), -EUSERS (limits.max_calls), -EBUSY (limits.offers_per_s this
 * second), -EINVAL (empty or too long), -ENOMEM, -EIO (journal).
 */
int mr_session_call_new(struct mr_session *s, const char *call_id, uint64_t now_ms,
			struct mr_call **ret);
struct mr_call *mr_session_call_get(const struct mr_session *s, const char *call_id);

/*
 * Add a leg of @p->n_streams streams to @c: for each, a port pair from the
 * interface, a free slot, a fresh outbound key (unless suite NONE), and the
 * slot written (unpaired). All or nothing. -EEXIST (tag in @c), -ENODEV
 * (no such interface, or it lacks the address family), -ENOSPC (ports or
 * slots exhausted), -EUSERS (limits.max_legs or MR_SESSION_MAX_LEGS),
 * -EPERM (a pstn stream on an interface not marked pstn), -EINVAL
 * (params), -EIO (key generation or journal), -ENOLCK, -ENOMEM.
 */
int mr_session_leg_add(struct mr_session *s, struct mr_call *c, const struct mr_leg_params *p,
		       struct mr_leg **ret);
struct mr_leg *mr_session_leg_get(const struct mr_call *c, const char *tag);
struct mr_leg *mr_session_leg_at(const struct mr_call *c, unsigned int i);

/*
 * The peer's key for stream @i (from an offer or an answer), make-before-
 * break (RFC 4568 section 7.1.4: a peer keeps sending with its old key
 * until the exchange that changes it completes):
 *  - the key in use, or no change: nothing is written, not even the slot's
 *    generation;
 *  - a new key goes into the other generation of the slot's inbound crypto
 *    and becomes gen[active], marked MR_CRYPTO_CP_PENDING; the key in use
 *    stays, so mrelay-dp accepts both;
 *  - while a change is pending (no answer yet), another new key replaces
 *    the pending one (never used: a peer switches only on the answer), and
 *    the key in use again withdraws it.
 * mr_session_pair() completes the exchange; the previous key is then wiped
 * timeouts.old_key_ms later by mr_session_tick(), or replaced by the next
 * change. The first key of a stream is in use at once.
 * -ERANGE (no stream @i), -EINVAL, -ENOLCK, -EAGAIN (slot torn).
 */
int mr_session_stream_set_in_key(struct mr_session *s, struct mr_leg *l, unsigned int i,
				 const struct mr_sdes_crypto *key);
/* The peer's signaled addresses, as for leg_add. -ERANGE, -EINVAL, -ENOLCK. */
int mr_session_stream_set_peer(struct mr_session *s, struct mr_leg *l, unsigned int i,
			       const struct mr_sockaddr *rtp, const struct mr_sockaddr *rtcp);
/* The relay's outbound key of stream @i, read from its slot, for the
 * caller's SDP. -ENOENT if the stream is plain. Wipe @ret after use. */
int mr_session_stream_out_key(const struct mr_session *s, const struct mr_leg *l, unsigned int i,
			      struct mr_sdes_crypto *ret);

/* ICE-lite credentials of the relay for stream @i's peer (NUL-terminated),
 * read from its slot for the caller's SDP. -ENOENT if the stream has none
 * (no MR_LEG_F_ICE), -ERANGE, -EAGAIN (torn). */
#define MR_SESSION_ICE_UFRAG_LEN 8u     /* 48 bits: RFC 8445 wants >= 24 */
#define MR_SESSION_ICE_PWD_LEN 24u      /* 144 bits: RFC 8445 wants >= 128 */
int mr_session_stream_ice(const struct mr_session *s, const struct mr_leg *l, unsigned int i,
			  char ufrag[16], char pwd[32]);

/*
 * Media of @a's stream i goes to @b's stream i and back, for i below both
 * stream counts; the call counts as answered (no offer timeout). Pairing a
 * leg again re-points it. It is the end of an offer/answer exchange: a key
 * change pending on any stream of @a or @b is complete, and the key it
 * replaced is wiped timeouts.old_key_ms later (mr_session_tick()). Slots
 * that already say all this are not written. -EINVAL (@a == @b or another
 * call), -ENOLCK.
 */
int mr_session_pair(struct mr_session *s, struct mr_leg *a, struct mr_leg *b);
/* Whether stream @i's peer multiplexes RTCP on the RTP port (RFC 5761):
 * known for an offered leg only once the answer says. -ERANGE, -ENOLCK. */
int mr_session_stream_set_rtcp_mux(struct mr_session *s, struct mr_leg *l, unsigned int i,
				   bool mux);
/*
 * Rename leg @l to @tag (journaled): an NG offer makes the callee's leg
 * before the callee's to-tag is known, and the answer names it. 0 (also
 * when the name is already @tag); -EEXIST (another leg has it), -EINVAL,
 * -EIO (journal).
 */
int mr_session_leg_retag(struct mr_session *s, struct mr_leg *l, const char *tag);
/*
 * A front-end's own state for @c, in memory only, freed with @priv_free
 * when the call ends or the manager is freed. Not journaled: after a
 * restart a call has none; what the front-end needs to carry on goes into
 * the call's note (below), from which it rebuilds this. Setting another
 * pointer frees the old one.
 */
void mr_session_call_set_priv(struct mr_call *c, void *priv, void (*priv_free)(void *priv));
void *mr_session_call_priv(const struct mr_call *c);
/*
 * The front-end's note on @c: text it needs after a restart of mrelay-cp
 * to carry on with the call (NG: which m-line is which stream, each side's
 * transport and rtcp-mux, so an answer to an offer made before the restart
 * works). Journaled (N record) before it replaces the old note, and
 * rebuilt with the call by mr_session_new(). 1..MR_SESSION_NOTE_MAX bytes,
 * no NUL; never a key (the journal holds none: a front-end that needs a
 * key reads it from the slot, mr_session_stream_out_key()). Setting the
 * same text again writes nothing. 0, -EINVAL, -EIO/-ENOSPC (journal: the
 * old note stays).
 */
int mr_session_call_set_note(struct mr_session *s, struct mr_call *c, const char *note);
/* The note, or NULL if none; valid until the next set or the call's end. */
const char *mr_session_call_note(const struct mr_call *c);
/* Stop (or resume) forwarding what @l's peer sends, on all its streams.
 * The dataplane renumbers so the far end's SRTP survives. */
int mr_session_leg_mute(struct mr_session *s, struct mr_leg *l, bool muted);

/* End @c: wipe its slots (keys included), free slots and ports, journal
 * the end. @c is freed. -ENOLCK (nothing changed). */
int mr_session_call_end(struct mr_session *s, struct mr_call *c, enum mr_end_reason why);

/* Query. Pointers in the info structs live as long as the call. */
void mr_session_call_info(const struct mr_call *c, struct mr_call_info *ret);
void mr_session_leg_info(const struct mr_leg *l, struct mr_leg_info *ret);
/* -ERANGE (no stream @i), -EAGAIN (slot torn: retry). */
int mr_session_stream_info(const struct mr_session *s, const struct mr_leg *l, unsigned int i,
			   struct mr_stream_info *ret);
/* Calls in creation order: first is mr_session_call_next(s, NULL). */
struct mr_call *mr_session_call_next(const struct mr_session *s, const struct mr_call *c);

struct mr_session_stats {
	uint32_t calls;
	uint32_t legs;                  /* region slots in use by calls */
	uint32_t slots_free;            /* slots the manager may still hand out */
	uint32_t ports_used, ports_capacity;    /* pairs, over all interfaces */
	uint64_t journal_records;       /* lines in the journal file now */
	uint64_t journal_live;          /* lines a compaction would keep */
};
void mr_session_stats(const struct mr_session *s, struct mr_session_stats *ret);

/*
 * Called for each call a timer or an event ends, just before it is ended,
 * so the caller can log what it was (the call is freed afterwards).
 */
typedef void mr_session_end_cb(const struct mr_call *c, enum mr_end_reason why, void *ctx);

/*
 * Timers at @now_ms: media idle (counters' last_rx_ms), offer timeout, call
 * limit, which end the calls they say; and old peer keys past
 * timeouts.old_key_ms, which are wiped from their slots. Returns how many
 * calls ended. Needs the lock.
 */
unsigned int mr_session_tick(struct mr_session *s, uint64_t now_ms, mr_session_end_cb *cb,
			     void *ctx);

/*
 * A dataplane event. Returns 0 with @ret_call set when it belongs to a
 * stream of a live call (an MR_EV_IDLE that ends the call calls @cb and
 * then sets *ret_call = NULL); -ENOENT if stale (slot reused, leg gone);
 * -EINVAL for events that are not about a leg. Needs the lock for IDLE.
 */
int mr_session_event(struct mr_session *s, const struct mr_event *ev, uint64_t now_ms,
		     mr_session_end_cb *cb, void *ctx, const struct mr_call **ret_call);

/* End every call (operator shutdown of the service, not a restart). */
unsigned int mr_session_end_all(struct mr_session *s, mr_session_end_cb *cb, void *ctx);

/* Rewrite the journal with only the live state, if it has grown past twice
 * that (or always with @force). 0 or -errno. */
int mr_session_compact(struct mr_session *s, bool force);

#endif /* MR_CP_SESSION_H */
