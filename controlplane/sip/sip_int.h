/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_CP_SIP_INT_H
#define MR_CP_SIP_INT_H

/*
 * The SIP front-end's private state (sip.h is the contract): bindings
 * (registrar.c), client transactions and the response cache (txn.c), calls
 * of two legs (b2bua.c, b2bua_reply.c, b2bua_end.c), their media through
 * NG (b2bua_media.c), session timers (timer.c) and digest checks (auth.c).
 *
 * Ownership: struct mr_sip owns every list. A call owns its legs and its
 * pending server transactions; a client transaction points back at its
 * call, and that pointer is cleared when the call ends, so late responses
 * (the 487 after a CANCEL, a 2xx crossing it) are still handled (ACK, BYE)
 * without a call.
 *
 * Indexes: every entry is on one list of all its kind (walked by the timers
 * and on shutdown only) and on a hash chain for each key a message looks it
 * up by, so that a message costs the same at ten or ten thousand entries:
 * bindings by account and by flow, calls by Call-ID and by flow (a link per
 * leg) and by account (caller, callee), client transactions by branch, by
 * flow and on their call's own list. Chains are intrusive (struct
 * sip_hnode: unlinking needs no search) and new entries go first, so a
 * chain filtered on its key is in the order the old single lists had,
 * newest first: lookups and removals happen in the same order as before.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "accounts.h"
#include "cdr.h"
#include "msg.h"
#include "sip.h"

#define SIP_T1_MS 500u
#define SIP_T2_MS 4000u
#define SIP_TXN_TIMEOUT_MS (64u * SIP_T1_MS)    /* Timer B, F, H: 32 s */
#define SIP_NONCE_MAX_AGE_S 300u
#define SIP_URI_MAX 512u
#define SIP_TAG_MAX 128u
#define SIP_CALLID_MAX 256u
#define SIP_RCACHE_TTL_MS SIP_TXN_TIMEOUT_MS
/* Hash buckets of the response cache, a power of two. Every response of
 * the last 32 s is cached, and every request looks it up: at 1,000
 * responses a second that is 32,000 entries, about 4 per bucket. */
#define SIP_RCACHE_BUCKETS 8192u
/* Hash buckets of the other indexes, powers of two, fixed: sized for what
 * this appliance targets, with a load factor of about 1 there, so a lookup
 * compares a few entries; beyond it the cost grows by one comparison per
 * bucket's worth of entries (twice the state: twice the chain), with no
 * rehash pause and no allocation on the message path. Each table is an
 * array of pointers in struct mr_sip: 64 KiB per 8192 buckets.
 *  - bindings: tens of thousands of registrations (by account; by flow,
 *    where a client's connection carries its few bindings);
 *  - calls: thousands held, each on the Call-ID, flow and account tables
 *    twice (once per leg, caller and callee);
 *  - client transactions: hundreds of calls a second, each INVITE kept
 *    32 s after it completes, plus BYEs and refreshes: ~10^4. */
#define SIP_DIALOG_DIR_MAX 512u
#define PATH_MAX_DIALOG (SIP_DIALOG_DIR_MAX + 64u)
/* How often a recovered call with a leg nobody reclaimed yet asks NG
 * whether its media still exists (the session manager ends idle calls). */
#define SIP_RECOVERED_PROBE_MS 5000u
/* What a recovered leg's local CSeq jumps by: changes after the last save
 * (refreshes, re-INVITEs) are not written, and a CSeq lower than one we
 * sent before would be refused by the peer (500). */
#define SIP_RECOVERED_CSEQ_STEP 1000u
#define SIP_BIND_BUCKETS 16384u
#define SIP_CALL_BUCKETS 8192u
#define SIP_CTXN_BUCKETS 8192u
#define SIP_ALLOW "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, PRACK, REGISTER"
/* What we support as the UAS and registrar (responses, OPTIONS): no 100rel
 * towards callers (we never send reliable provisionals, and a PRACK from a
 * caller gets 481), no Path (clients reach us directly over their flows).
 * Our requests to callees say "timer, 100rel": we PRACK their reliable
 * provisionals. */
#define SIP_SUPPORTED "timer, outbound"

/* A link of an intrusive hash chain or list (the Linux hlist): unlinked in
 * O(1) without knowing the head; @obj is the entry it is part of. */
struct sip_hnode {
	struct sip_hnode *next;
	struct sip_hnode **pprev;       /* NULL: on no chain */
	void *obj;
};

static inline void
sip_hnode_add(struct sip_hnode **head, struct sip_hnode *n, void *obj)
{
	n->obj = obj;
	n->next = *head;
	if (n->next != NULL)
		n->next->pprev = &n->next;
	n->pprev = head;
	*head = n;
}

/* A no-op if @n is on no chain. */
static inline void
sip_hnode_del(struct sip_hnode *n)
{
	if (n->pprev == NULL)
		return;
	*n->pprev = n->next;
	if (n->next != NULL)
		n->next->pprev = n->pprev;
	n->next = NULL;
	n->pprev = NULL;
}

/* FNV-1a, 64-bit: over a string, then a flow id, folded to a bucket of a
 * power-of-two table. Keys come from the network, so chains a peer can
 * lengthen at will are only those of its own entries (see where used). */
#define SIP_HASH_INIT 0xcbf29ce484222325ull

static inline uint64_t
sip_hash_str(uint64_t h, const char *s)
{
	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return h;
}

static inline uint64_t
sip_hash_u64(uint64_t h, uint64_t v)
{
	unsigned int i;

	for (i = 0; i < 8; i++, v >>= 8)
		h = (h ^ (v & 0xff)) * 0x100000001b3ull;
	return h;
}

static inline unsigned int
sip_hash_fold(uint64_t h, unsigned int buckets)
{
	return (unsigned int)(h ^ (h >> 32)) & (buckets - 1);
}

struct sip_binding {
	struct sip_hnode all;           /* s->bindings */
	struct sip_hnode by_account;    /* s->bind_by_account[] */
	struct sip_hnode by_flow;       /* s->bind_by_flow[] */
	char account[MR_ACCOUNTS_NAME_MAX + 1];
	char contact[SIP_URI_MAX];      /* the Contact URI as registered */
	char instance[160];             /* +sip.instance; "" */
	unsigned long reg_id;           /* 0: none */
	mr_flow_id flow;
	enum mr_sip_proto proto;
	struct mr_sockaddr local;       /* our address on the flow */
	int listener;
	uint64_t expires_ms;
	uint64_t created_ms;
	char call_id[SIP_CALLID_MAX];   /* of the REGISTER, for the CSeq order */
	uint32_t cseq;
};

/* A request we sent: retransmitted on UDP (Timer A/E), timed out (B/F). */
enum txn_role {
	TXN_INVITE = 1,         /* the call's INVITE to the callee */
	TXN_REINVITE,           /* a re-INVITE or UPDATE carrying an offer onwards */
	TXN_REFRESH,            /* our session refresh (UPDATE or re-INVITE) */
	TXN_BYE,
	TXN_CANCEL,
	TXN_PRACK,
};

struct sip_call;

struct sip_ctxn {
	struct sip_hnode all;           /* s->ctxns */
	struct sip_hnode by_branch;     /* s->ctxn_by_branch[] */
	struct sip_hnode by_flow;       /* s->ctxn_by_flow[] */
	struct sip_hnode by_call;       /* call->ctxns, while ->call is set */
	enum txn_role role;
	char method[12];
	char branch[SIP_TOKEN_MAX + 8];
	uint32_t cseq;
	mr_flow_id flow;
	bool udp;
	char *text;                     /* the request as sent */
	size_t len;
	char *ruri;                     /* for CANCEL and the non-2xx ACK */
	char *via, *from, *to, *callid; /* header lines, CRLF-terminated */
	uint64_t next_ms, interval_ms, deadline_ms;
	bool provisional;               /* stop retransmitting (INVITE) */
	bool done;                      /* a final response arrived */
	struct sip_call *call;          /* NULL once the call ended (sip_ctxn_detach) */
	int leg;                        /* 0 caller side, 1 callee side */
};

/* The last response to a request, kept to answer its retransmissions. */
struct sip_rcache {
	struct sip_rcache *next;        /* in its bucket */
	char key[SIP_CALLID_MAX + 96];  /* Call-ID, top branch, CSeq, method */
	mr_flow_id flow;
	char *text;
	size_t len;
	uint64_t expires_ms;
};

/* A request received that waits for the other side before we answer. */
struct sip_stxn {
	bool active;
	char *hdrs;                     /* Via..., From, Call-ID, CSeq lines */
	char *to;                       /* To line, no CRLF */
	bool to_tagged;
	char branch[SIP_TOKEN_MAX + 64];
	char method[12];
	uint32_t cseq;
	char key[SIP_CALLID_MAX + 96];  /* its rcache key */
	/* UDP: a 2xx to INVITE retransmitted until ACK (Timer G/H). */
	char *final;
	size_t final_len;
	uint64_t next_ms, interval_ms, deadline_ms;
};

struct sip_leg {
	mr_flow_id flow;
	bool flow_guessed;              /* recovered leg bound to its account's new
	                                   registration; a request of the dialog
	                                   on another of its flows takes it over */
	int trunk;                      /* -1: a client */
	int listener;
	enum mr_sip_proto proto;
	struct mr_sockaddr local;       /* our address on the flow: Via, Contact */
	char iface[MR_SIP_NAME_MAX];    /* media interface; "" = the first */
	bool pstn;
	char call_id[SIP_CALLID_MAX];
	char local_tag[SIP_TOKEN_MAX];
	char remote_tag[SIP_TAG_MAX];
	char local_uri[SIP_URI_MAX];    /* "<sip:...>" */
	char remote_uri[SIP_URI_MAX];
	char target[SIP_URI_MAX];       /* remote Contact: Request-URI of our requests */
	uint32_t local_cseq;
	uint32_t remote_cseq;
	bool confirmed;
	bool allow_update;
	char *last_sdp;                 /* what we last sent it: session refreshes */
	/* RFC 4028 */
	uint32_t se_s;                  /* 0: no session timer */
	bool we_refresh;
	bool peer_timer;                /* it said Supported/Require: timer */
	uint64_t se_last_ms;
	bool refreshing;
};

enum call_state { CALL_EARLY = 1, CALL_CONFIRMED };

struct sip_call {
	struct sip_hnode all;           /* s->calls */
	/* sip_call_index(): per leg, by its call_id, by its flow (not 0);
	 * by cdr.caller [0] and cdr.callee [1] */
	struct sip_hnode by_callid[2];
	struct sip_hnode by_flow[2];
	struct sip_hnode by_account[2];
	struct sip_hnode *ctxns;        /* client transactions of the call */
	enum call_state state;
	char ng_id[40];                 /* NG call-id: ours, unique */
	struct sip_leg leg[2];          /* 0: caller (we are UAS), 1: callee (UAC) */
	struct sip_stxn inv;            /* the caller's INVITE */
	bool inv_final;                 /* a final response went to the caller */
	bool a_acked;                   /* the caller ACKed our 2xx */
	bool media;                     /* NG has the call */
	struct sip_ctxn *b_inv;         /* our INVITE to the callee */
	char *b_ack;                    /* ACK sent for the callee's 2xx (resent on
	                                   its retransmissions) */
	size_t b_ack_len;
	bool b_2xx;                     /* the callee's 2xx arrived */
	uint32_t b_rseq;                /* last RSeq PRACKed */
	/* a re-INVITE / UPDATE with an offer in progress */
	struct sip_stxn re;
	int re_from;                    /* -1: none; 0/1: which leg sent it */
	bool re_invite;                 /* INVITE (needs ACK) rather than UPDATE */
	struct sip_ctxn *re_out;
	struct mr_cdr_row cdr;
	uint64_t start_ms, answer_ms;
	int64_t start_wall_s;
	int64_t answer_wall_s;          /* 0: not answered */
	/* A restart of mrelay-cp (dialog_store.c, dialog_restore.c) */
	bool persisted;                 /* its dialog file exists */
	bool recovered;                 /* read back from it at start */
	bool clock_pending;             /* start_ms/answer_ms/se_last_ms not yet
	                                   rebased on this process's clock */
	uint64_t probe_ms;              /* next NG query while a leg is unbound */
};

struct mr_sip {
	const struct mr_sip_config *cfg;
	struct mr_ng *ng;
	struct mr_sip_io io;
	char default_iface[MR_SIP_NAME_MAX];
	struct mr_accounts *acc;
	struct mr_cdr *cdr;
	uint8_t secret[32];
	struct sip_hnode *bindings;     /* all of them: expiry, shutdown */
	struct sip_hnode *bind_by_account[SIP_BIND_BUCKETS];
	struct sip_hnode *bind_by_flow[SIP_BIND_BUCKETS];
	struct sip_hnode *calls;        /* all of them: timers, shutdown */
	struct sip_hnode *call_by_callid[SIP_CALL_BUCKETS];
	struct sip_hnode *call_by_flow[SIP_CALL_BUCKETS];
	struct sip_hnode *call_by_account[SIP_CALL_BUCKETS];
	struct sip_hnode *ctxns;        /* all of them: timers, shutdown */
	struct sip_hnode *ctxn_by_branch[SIP_CTXN_BUCKETS];
	struct sip_hnode *ctxn_by_flow[SIP_CTXN_BUCKETS];
	struct sip_rcache *rcache[SIP_RCACHE_BUCKETS];  /* by sip_rcache_bucket() */
	unsigned int n_rcache;
	char branch_prefix[24];         /* ours: z9hG4bK-mr<random>- (loops) */
	uint64_t ng_cookie;
	uint64_t last_purge_ms;
	char dialog_dir[SIP_DIALOG_DIR_MAX];    /* "": dialogs are not kept */
	unsigned int n_recovered;               /* calls recovered and not ended */
	struct mr_sip_counters k;
};

/* ---- sip.c: sending ----------------------------------------------------- */
int sip_send(struct mr_sip *s, mr_flow_id flow, const char *text, size_t len);
/* Respond to @m (on @f): status line, its Via/From/Call-ID/CSeq, To with
 * @to_tag added when it has none ("" = none), @extra header lines, body. */
void sip_respond(struct mr_sip *s, const struct mr_sip_flow_info *f, const struct sipmsg *m,
		 int code, const char *to_tag, const char *extra, const char *body,
		 size_t body_len, uint64_t now_ms);
void sip_leg_contact(const struct mr_sip *s, const struct sip_leg *l, char *out, size_t cap);
/* The rcache key of request @m. */
void sip_rcache_key(const struct sipmsg *m, const char *method, char *out, size_t cap);
/* The bucket of (@key, @flow) in s->rcache. */
unsigned int sip_rcache_bucket(const char *key, mr_flow_id flow);
void sip_rcache_put(struct mr_sip *s, const char *key, mr_flow_id flow, const char *text,
		    size_t len, uint64_t now_ms);

/* ---- auth.c ----------------------------------------------------------- */
/* 0 with the account in @ret_name; >0: a response was sent (challenge or
 * 403), stop. */
int sip_auth(struct mr_sip *s, const struct mr_sip_flow_info *f, const struct sipmsg *m,
	     char *ret_name, size_t cap, uint64_t now_ms);

/* ---- registrar.c -------------------------------------------------------- */
void sip_register(struct mr_sip *s, const struct mr_sip_flow_info *f, const struct sipmsg *m,
		  uint64_t now_ms);
struct sip_binding *sip_binding_newest(struct mr_sip *s, const char *account);
/* Is there a binding of @account on flow @flow? */
bool sip_binding_on_flow(struct mr_sip *s, mr_flow_id flow, const char *account);
unsigned int sip_bindings_drop_flow(struct mr_sip *s, mr_flow_id id);
unsigned int sip_bindings_drop_account(struct mr_sip *s, const char *account);
void sip_bindings_expire(struct mr_sip *s, uint64_t now_ms);
void sip_bindings_free(struct mr_sip *s);

/* ---- txn.c ---------------------------------------------------------------- */
/* Build a request on leg @l (in-dialog unless @ruri given), send it, and
 * track it. @extra: header lines. Returns the transaction or NULL. */
struct sip_ctxn *sip_ctxn_send(struct mr_sip *s, struct sip_call *c, int leg, enum txn_role role,
			       const char *method, const char *ruri, const char *extra,
			       const char *body, size_t body_len, uint64_t now_ms);
struct sip_ctxn *sip_ctxn_match(struct mr_sip *s, const struct sipmsg *m);
void sip_ctxn_free(struct mr_sip *s, struct sip_ctxn *t);
void sip_ctxn_cancel(struct mr_sip *s, struct sip_ctxn *inv, uint64_t now_ms);
/* ACK for a non-2xx final response (same branch, hop by hop). */
void sip_ctxn_ack_non2xx(struct mr_sip *s, struct sip_ctxn *t, const struct sipmsg *resp);
/* The ACK for 2xx @resp to INVITE @t (a new branch, end to end), built,
 * not sent: malloc'd text, or NULL. */
char *sip_ack_2xx_build(struct mr_sip *s, const struct sip_ctxn *t, const struct sipmsg *resp,
			size_t *ret_len);
void sip_txn_tick(struct mr_sip *s, uint64_t now_ms);
/* A final response was handled: INVITE kept 32 s (done), others freed. */
void sip_ctxn_done(struct mr_sip *s, struct sip_ctxn *t, uint64_t now_ms);
/* The call is ending: its transactions live on without it. */
void sip_ctxns_forget_call(struct mr_sip *s, struct sip_call *c);
/* @t no longer belongs to a call (its ->call cleared, off the call's list). */
void sip_ctxn_detach(struct sip_ctxn *t);
/* Free the transactions on flow @id (it closed). */
void sip_ctxns_drop_flow(struct mr_sip *s, mr_flow_id id);
void sip_ctxns_free(struct mr_sip *s);
void sip_rcache_free(struct mr_sip *s);
bool sip_rcache_hit(struct mr_sip *s, const struct mr_sip_flow_info *f, const struct sipmsg *m,
		    uint64_t now_ms);

/* ---- b2bua.c, b2bua_reply.c, b2bua_end.c ------------------------------- */
void sip_b2bua_request(struct mr_sip *s, const struct mr_sip_flow_info *f, const struct sipmsg *m,
		       uint64_t now_ms);
void sip_b2bua_response(struct mr_sip *s, const struct mr_sip_flow_info *f,
			const struct sipmsg *m, uint64_t now_ms);
void sip_stxn_save(struct sip_stxn *t, const struct sipmsg *m, const char *key);
void sip_stxn_clear(struct sip_stxn *t);
/* Respond on a saved server transaction over leg @l's flow. */
void sip_stxn_respond(struct mr_sip *s, struct sip_call *c, struct sip_stxn *t, struct sip_leg *l,
		      int code, const char *extra, const char *body, size_t body_len,
		      uint64_t now_ms);
void sip_session_headers(const struct mr_sip *s, const struct sip_leg *l, bool in_2xx,
			 char *out, size_t cap);
/* End the call: responses/CANCEL/BYE as its state needs (not towards leg
 * @skip, -1 none), media deleted, CDR row written, call freed. */
void sip_call_end(struct mr_sip *s, struct sip_call *c, const char *reason, int code, int skip,
		  uint64_t now_ms);
void sip_calls_tick(struct mr_sip *s, uint64_t now_ms);
/* Free @c without ending it: its dialog file stays for the next start. */
void sip_call_forget(struct mr_sip *s, struct sip_call *c);
/* Put @c on the call indexes by its current legs' Call-IDs and flows and
 * its caller and callee accounts (again, after any of them changed). */
void sip_call_index(struct mr_sip *s, struct sip_call *c);
/* The call whose leg has (@call_id, @local_tag, @remote_tag), and which leg;
 * NULL if none. */
struct sip_call *sip_call_find_dialog(struct mr_sip *s, const char *call_id,
				      const char *local_tag, const char *remote_tag, int *ret_leg);
/* The newest call whose caller's leg has @call_id, came on @flow and whose
 * INVITE had @branch and @cseq (what a CANCEL names); NULL if none. */
struct sip_call *sip_call_find_invite(struct mr_sip *s, mr_flow_id flow, const char *call_id,
				      const char *branch, uint32_t cseq);
/* End every call of account @name (as caller or callee), newest first. */
unsigned int sip_calls_revoke(struct mr_sip *s, const char *name, uint64_t now_ms);
/* Timer B/F fired for @t (already unlinked; freed by the caller). */
void sip_b2bua_timeout(struct mr_sip *s, struct sip_ctxn *t, uint64_t now_ms);
/* The leg's flow went away. */
unsigned int sip_calls_flow_lost(struct mr_sip *s, mr_flow_id id, uint64_t now_ms);

/* ---- dialog_store.c: confirmed dialogs on disk ------------------------ */
/* Use STATE_DIR/sip-dialogs (created 0700); @state_dir NULL or "": none. */
int sip_dialog_store_open(struct mr_sip *s, const char *state_dir);
/* Write @c's dialog file (atomically: a temporary file renamed); sets
 * c->persisted. 0, or -errno (counted in dialog_failures). */
int sip_dialog_save(struct mr_sip *s, struct sip_call *c);
/* Remove @c's file, if it has one. */
void sip_dialog_delete(struct mr_sip *s, struct sip_call *c);
/* Read every dialog file into a new zeroed call and hand it to @fn, which
 * owns it on 0; a file that does not parse, or that @fn refuses, is
 * counted (recover_failed) and removed. */
int sip_dialogs_each(struct mr_sip *s, int (*fn)(struct mr_sip *s, struct sip_call *c));

/* ---- dialog_restore.c: recovered calls and their legs ------------------- */
/* Bring back the calls of the store (mr_sip_new). */
void sip_dialogs_recover(struct mr_sip *s);
/* Rebase a recovered call's times on @now_ms (once; no-op after). */
void sip_call_rebase(struct sip_call *c, uint64_t now_ms);
/* Account @account registered on flow @f: its unbound legs take it. */
void sip_dialogs_rebind(struct mr_sip *s, const char *account, const struct mr_sip_flow_info *f,
			uint64_t now_ms);
/* In-dialog request @m came on @f for leg @i of @c. 0: the leg uses @f (it
 * did, or a recovered leg without a flow, or with a guessed one, was taken
 * over: a binding of its account on @f, the trunk's flow, or digest as its
 * account); 1: a response was sent (a challenge, 403), stop; -ENOENT: not
 * this leg's flow (481). */
int sip_leg_claim(struct mr_sip *s, struct sip_call *c, int i, const struct mr_sip_flow_info *f,
		  const struct sipmsg *m, uint64_t now_ms);
/* Before sending on leg @i without a flow: its account's newest binding,
 * or the trunk dialled again. The leg may still have no flow. */
void sip_leg_reach(struct mr_sip *s, struct sip_call *c, int i);
/* A recovered call with an unbound leg: true if NG no longer has its media
 * (checked every SIP_RECOVERED_PROBE_MS). */
bool sip_call_media_gone(struct mr_sip *s, struct sip_call *c, uint64_t now_ms);

/* ---- b2bua_media.c -------------------------------------------------------- */
/* Offer @sdp from leg @from; *ret_sdp (malloc) for the other leg. 0, or
 * -EPERM (encryption policy: 488 with the SRTP warning), -EINVAL (other
 * refusal: 488), -EIO. */
int sip_media_offer(struct mr_sip *s, struct sip_call *c, int from, bool initial, const char *sdp,
		    size_t len, char **ret_sdp, uint64_t now_ms);
/* Answer @sdp from leg @from to the offer of the other leg. */
int sip_media_answer(struct mr_sip *s, struct sip_call *c, int from, const char *sdp, size_t len,
		     char **ret_sdp, uint64_t now_ms);
/* Delete, with the media counters into c->cdr. */
void sip_media_delete(struct mr_sip *s, struct sip_call *c, uint64_t now_ms);
/* False only when NG says it has no such call (ended: idle, deleted). */
bool sip_media_exists(struct mr_sip *s, struct sip_call *c, uint64_t now_ms);

#endif /* MR_CP_SIP_INT_H */
