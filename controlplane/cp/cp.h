/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_CP_H
#define MR_CP_H

/*
 * mrelay-cp, the daemon: one thread, one poll() loop (main.c). Each turn of
 * the loop writes the heartbeat, takes the region's writer lock, and with it
 * drains dataplane events (events.c), serves the admin socket (admin.c,
 * admin_cmd.c) and runs the session timers, then drops the lock so that
 * mrelayctl --force can get a word in.
 */
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "region.h"
#include "session.h"

/* A dataplane heartbeat older than this counts as stopped. */
#define MR_CP_DP_MAX_AGE_MS 2000u

struct mr_admin;
struct mr_ng;
struct mr_ng_listen;
struct mr_cp_sip;

struct mr_cp {
	const char *config_path;
	struct mr_cp_config cfg;
	struct mr_region region;
	struct mr_session *sess;
	struct mr_admin *admin;
	struct mr_ng *ng;               /* the NG front-end (ng/ng.h) */
	struct mr_ng_listen *ng_listen; /* its sockets */
	struct mr_cp_sip *sip;          /* the SIP front-end (sip_front.h); NULL: none */
	bool dp_alive;                  /* as last logged */
	uint32_t dp_pid;
	uint64_t events;                /* popped since start */
	bool reload;                    /* SIGHUP or admin "reload" pending */
	bool stop;
};

/* events.c: pop and act on dataplane events; watch its heartbeat. Lock held. */
void mr_cp_events_drain(struct mr_cp *cp, uint64_t now_ms);
void mr_cp_dp_watch(struct mr_cp *cp, uint64_t now_ms);
/* The end callback every caller of the session manager passes: logs why. */
void mr_cp_call_ended(const struct mr_call *c, enum mr_end_reason why, void *ctx);

/* main.c: reload the configuration file (SIGHUP). */
void mr_cp_reload(struct mr_cp *cp);

#endif /* MR_CP_H */
