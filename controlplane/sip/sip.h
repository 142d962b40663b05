/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_CP_SIP_H
#define MR_CP_SIP_H

/*
 * The SIP front-end: registrar and B2BUA for clients and room systems that
 * connect over TLS (docs/sip.md). Every call is two dialogs, one per side,
 * and its media goes through the relay: the B2BUA drives the same NG
 * offer/answer code an external proxy uses (ng.h, in-process), so SDES
 * re-keying, ICE-lite, PSTN interfaces and their policy are one code path.
 *
 * The B2BUA talks to the network through struct mr_sip_io, which the daemon
 * binds to the transport (transport.h) and the unit tests to a fake.
 *
 * Threads: one, the daemon's loop, with the region's writer lock held.
 * Nothing logs per message; counters and the daemon's log lines say what
 * happened.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ng.h"
#include "sip_config.h"
#include "transport.h"

struct mr_sip_io {
	int (*send)(void *ctx, mr_flow_id id, const char *msg, size_t len);
	int (*dial)(void *ctx, unsigned int trunk, mr_flow_id *ret);
	void (*drop)(void *ctx, mr_flow_id id);
	void *ctx;
};

struct mr_sip_params {
	const struct mr_sip_config *cfg;        /* stays valid */
	struct mr_ng *ng;                       /* media, in-process */
	struct mr_sip_io io;
	const char *nonce_secret_path;          /* created (0600) if missing */
	const char *default_iface;              /* name of the first media interface:
	                                           what an iface of "" in cfg means;
	                                           NULL = let NG pick its first */
	const char *state_dir;                  /* confirmed dialogs kept in
	                                           STATE_DIR/sip-dialogs across
	                                           restarts; NULL: not kept */
};

/* What the front-end did, for the daemon's admin "cp" command. */
struct mr_sip_counters {
	uint64_t msgs_in;
	uint64_t bad_requests;          /* answered 400 */
	uint64_t dropped;               /* unparseable, or a response nobody waits for */
	uint64_t registrations;         /* REGISTERs accepted (refreshes included) */
	uint32_t bindings;              /* now */
	uint32_t calls_active;          /* now */
	uint64_t calls_total, calls_answered, calls_failed;
	uint64_t auth_challenges;       /* 401/407 sent */
	uint64_t auth_failures;         /* 403 after a response that did not verify */
	uint64_t rejected_488;          /* media refused (e.g. no SRTP) */
	uint64_t loops, too_many_hops;  /* 482, 483 */
	uint64_t retransmits_out;       /* requests/2xx we resent (UDP) */
	uint64_t retransmits_in;        /* requests answered from the response cache */
	uint64_t txn_timeouts;          /* Timer B/F/H fired */
	uint64_t session_timer_expired;
	uint64_t send_failures;
	uint64_t ng_errors;             /* NG refused something other than policy */
	uint64_t cdr_failures;          /* rows that could not be written */
	uint32_t calls_recovered;       /* dialogs read back at start */
	uint32_t recover_failed;        /* dialog files unusable (removed) */
	uint64_t dialog_failures;       /* dialog files not written or removed */
};

struct mr_sip;

struct mr_sip *mr_sip_new(const struct mr_sip_params *p, char *err, size_t errlen);
void mr_sip_free(struct mr_sip *s);

/* The transport's callbacks (transport.h), which the daemon forwards. */
void mr_sip_on_message(struct mr_sip *s, const struct mr_sip_flow_info *f, const char *msg,
		       size_t len, uint64_t now_ms);
void mr_sip_on_closed(struct mr_sip *s, mr_flow_id id, uint64_t now_ms);

/* Timers: registrations, transactions, session timers, CDR purge. */
void mr_sip_tick(struct mr_sip *s, uint64_t now_ms);

/* @name was revoked (mrelayctl account revoke): its registrations go and
 * its calls end now. Returns how many calls were ended. */
unsigned int mr_sip_account_revoked(struct mr_sip *s, const char *name, uint64_t now_ms);

const struct mr_sip_counters *mr_sip_counters(const struct mr_sip *s);

#endif /* MR_CP_SIP_H */
