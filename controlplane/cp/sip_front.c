/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The daemon's SIP front-end: binds the B2BUA (sip/sip.h) to the TLS
 * transport (sip/transport.h) and to the poll loop. The two halves know
 * nothing of each other: the transport hands whole messages up through
 * its ops, the B2BUA sends through struct mr_sip_io, and this file is the
 * wire between them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cp.h"
#include "log.h"
#include "sip.h"
#include "sip_front.h"
#include "transport.h"

struct mr_cp_sip {
	struct mr_sip_transport *t;
	struct mr_sip *sip;
	uint64_t now_ms;
};

static void
on_message(void *ctx, const struct mr_sip_flow_info *f, const char *msg, size_t len,
	   uint64_t now_ms)
{
	struct mr_cp_sip *s = ctx;

	if (s->sip != NULL)
		mr_sip_on_message(s->sip, f, msg, len, now_ms);
}

static void
on_closed(void *ctx, mr_flow_id id)
{
	struct mr_cp_sip *s = ctx;

	if (s->sip != NULL)
		mr_sip_on_closed(s->sip, id, s->now_ms);
}

static int
io_send(void *ctx, mr_flow_id id, const char *msg, size_t len)
{
	struct mr_cp_sip *s = ctx;

	return mr_sip_transport_send(s->t, id, msg, len);
}

static int
io_dial(void *ctx, unsigned int trunk, mr_flow_id *ret)
{
	struct mr_cp_sip *s = ctx;

	return mr_sip_transport_dial(s->t, trunk, ret);
}

static void
io_drop(void *ctx, mr_flow_id id)
{
	struct mr_cp_sip *s = ctx;

	mr_sip_transport_drop(s->t, id);
}

int
mr_cp_sip_open(struct mr_cp *cp, char *err, size_t errlen)
{
	static const struct mr_sip_transport_ops ops = { on_message, on_closed };
	struct mr_sip_params p;
	struct mr_cp_sip *s;
	char secret[sizeof(cp->cfg.state_dir) + 32];
	int r;

	cp->sip = NULL;
	if (!cp->cfg.sip.enabled)
		return 0;
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		snprintf(err, errlen, "SIP front-end: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	r = mr_sip_transport_open(&cp->cfg.sip, &ops, s, &s->t, err, errlen);
	if (r < 0) {
		free(s);
		return r;
	}
	snprintf(secret, sizeof(secret), "%s/sip-nonce.key", cp->cfg.state_dir);
	p = (struct mr_sip_params){
		.cfg = &cp->cfg.sip,
		.ng = cp->ng,
		.io = { io_send, io_dial, io_drop, s },
		.nonce_secret_path = secret,
		.default_iface = cp->cfg.n_ifaces > 0 ? cp->cfg.ifaces[0].name : NULL,
		.state_dir = cp->cfg.state_dir,
	};
	s->sip = mr_sip_new(&p, err, errlen);
	if (s->sip == NULL) {
		mr_sip_transport_close(s->t);
		free(s);
		return -EINVAL;
	}
	if (mr_sip_counters(s->sip)->calls_recovered > 0 ||
	    mr_sip_counters(s->sip)->recover_failed > 0)
		mr_log(LOG_NOTICE, MR_LOG_SIP, NULL,
		       "SIP dialogs of %u calls recovered, %u unusable (removed)",
		       mr_sip_counters(s->sip)->calls_recovered,
		       mr_sip_counters(s->sip)->recover_failed);
	cp->sip = s;
	return 0;
}

void
mr_cp_sip_close(struct mr_cp *cp)
{
	struct mr_cp_sip *s = cp->sip;

	if (s == NULL)
		return;
	/* The transport first: it calls nothing back while closing. */
	mr_sip_transport_close(s->t);
	mr_sip_free(s->sip);
	free(s);
	cp->sip = NULL;
}

int
mr_cp_sip_fd(const struct mr_cp *cp)
{
	return cp->sip != NULL ? mr_sip_transport_fd(cp->sip->t) : -1;
}

void
mr_cp_sip_serve(struct mr_cp *cp, uint64_t now_ms)
{
	if (cp->sip == NULL)
		return;
	cp->sip->now_ms = now_ms;
	mr_sip_transport_serve(cp->sip->t, now_ms);
}

void
mr_cp_sip_tick(struct mr_cp *cp, uint64_t now_ms)
{
	if (cp->sip != NULL)
		mr_sip_tick(cp->sip->sip, now_ms);
}

int
mr_cp_sip_revoke(struct mr_cp *cp, const char *name, uint64_t now_ms)
{
	if (cp->sip == NULL)
		return -ENOTSUP;
	return (int)mr_sip_account_revoked(cp->sip->sip, name, now_ms);
}

const struct mr_sip_transport_counters *
mr_cp_sip_transport_counters(const struct mr_cp *cp)
{
	return cp->sip != NULL ? mr_sip_transport_counters(cp->sip->t) : NULL;
}

struct mr_sip *
mr_cp_sip_b2bua(const struct mr_cp *cp)
{
	return cp->sip != NULL ? cp->sip->sip : NULL;
}
