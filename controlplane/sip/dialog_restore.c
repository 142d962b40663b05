/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Calls that survive a restart of mrelay-cp (docs/sip.md, "A restart of
 * mrelay-cp"). At start every dialog file (dialog_store.c) becomes a
 * confirmed call whose legs have no flow: every TLS connection closed with
 * the old process. A leg gets a flow back
 *  - when its account registers again (sip_dialogs_rebind(): a guess, the
 *    account may have several devices),
 *  - when a request of its dialog comes over a flow that holds a binding
 *    of the leg's account, or that authenticates (digest) as that account,
 *    or from its trunk (sip_leg_claim(); the dialog's identifiers include
 *    our random tag, and the account must match as well),
 *  - when we must send to it: the account's newest binding, or the trunk
 *    dialled again (sip_leg_reach()).
 * A call whose party never comes back ends when NG no longer has its media
 * (the session manager ends idle calls; sip_call_media_gone()), or by its
 * session timer, as any call would.
 *
 * Our CSeqs on a recovered leg jump by SIP_RECOVERED_CSEQ_STEP: refreshes
 * and re-INVITEs after the last save are not written, and a CSeq at or below
 * one we sent is refused by the peer. Times come back on this process's
 * monotonic clock at the first chance (sip_call_rebase()).
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "sip_int.h"

static const char *
leg_account(const struct sip_call *c, int i)
{
	if (c->leg[i].trunk >= 0)
		return NULL;
	return i == 0 ? c->cdr.caller : c->cdr.callee;
}

static int
recover_one(struct mr_sip *s, struct sip_call *c)
{
	int i;

	for (i = 0; i < 2; i++) {
		struct sip_leg *l = &c->leg[i];

		if (l->trunk >= 0 && (unsigned int)l->trunk >= s->cfg->n_trunks)
			return -EINVAL;         /* the trunk is no longer configured */
		if (l->listener >= 0 && (unsigned int)l->listener >= s->cfg->n_tls)
			l->listener = -1;
		if (l->trunk < 0 && leg_account(c, i)[0] == '\0')
			return -EINVAL;
		l->flow = 0;
		memset(&l->local, 0, sizeof(l->local));         /* MR_AF_NONE */
		l->confirmed = true;
		l->local_cseq += SIP_RECOVERED_CSEQ_STEP;
	}
	c->state = CALL_CONFIRMED;
	c->re_from = -1;
	c->inv_final = true;
	c->a_acked = true;
	c->b_2xx = true;
	c->media = true;
	c->recovered = true;
	c->clock_pending = true;
	c->persisted = true;
	sip_hnode_add(&s->calls, &c->all, c);
	sip_call_index(s, c);
	s->k.calls_active++;
	s->k.calls_recovered++;
	s->n_recovered++;
	/* the CSeqs just bumped, so a second restart bumps from here */
	(void)sip_dialog_save(s, c);
	return 0;
}

void
sip_dialogs_recover(struct mr_sip *s)
{
	(void)sip_dialogs_each(s, recover_one);
}

void
sip_call_rebase(struct sip_call *c, uint64_t now_ms)
{
	int64_t el_s;
	uint64_t el_ms;

	if (!c->clock_pending)
		return;
	c->clock_pending = false;
	el_s = (int64_t)time(NULL) - c->start_wall_s;
	el_ms = el_s > 0 ? (uint64_t)el_s * 1000 : 0;
	c->start_ms = now_ms > el_ms ? now_ms - el_ms : 0;
	if (c->answer_wall_s != 0) {
		int64_t a_s = c->answer_wall_s - c->start_wall_s;

		c->answer_ms = c->start_ms + (a_s > 0 ? (uint64_t)a_s * 1000 : 0);
		if (c->answer_ms == 0)
			c->answer_ms = 1;       /* 0 means "never answered" */
	}
	/* a whole interval for the refresher, as after a refresh */
	c->leg[0].se_last_ms = now_ms;
	c->leg[1].se_last_ms = now_ms;
	c->probe_ms = now_ms + SIP_RECOVERED_PROBE_MS;
}

static void
bind_leg(struct mr_sip *s, struct sip_call *c, int i, const struct mr_sip_flow_info *f,
	 bool guessed, uint64_t now_ms)
{
	struct sip_leg *l = &c->leg[i];

	sip_call_rebase(c, now_ms);
	l->flow = f->id;
	l->flow_guessed = guessed;
	l->proto = f->proto;
	l->local = f->local;
	if (l->trunk < 0)
		l->listener = f->listener;
	sip_call_index(s, c);
}

void
sip_dialogs_rebind(struct mr_sip *s, const char *account, const struct mr_sip_flow_info *f,
		   uint64_t now_ms)
{
	struct sip_hnode *n;
	struct sip_call *c = NULL;
	const char *a;
	int i = 0;

	if (s->n_recovered == 0)
		return;         /* the common case: no call from before a restart */
	/* Binding re-links the call on this chain: start again each time,
	 * until no unbound leg of @account is left. */
	for (;;) {
		for (n = s->call_by_account[sip_hash_fold(sip_hash_str(SIP_HASH_INIT, account),
							  SIP_CALL_BUCKETS)];
		     n != NULL; n = n->next) {
			c = n->obj;
			if (!c->recovered)
				continue;
			for (i = 0; i < 2; i++) {
				a = leg_account(c, i);
				if (c->leg[i].flow == 0 && a != NULL && strcmp(a, account) == 0)
					break;
			}
			if (i < 2)
				break;
		}
		if (n == NULL)
			return;
		bind_leg(s, c, i, f, true, now_ms);
	}
}

int
sip_leg_claim(struct mr_sip *s, struct sip_call *c, int i, const struct mr_sip_flow_info *f,
	      const struct sipmsg *m, uint64_t now_ms)
{
	struct sip_leg *l = &c->leg[i];
	const char *a = leg_account(c, i);
	char name[MR_ACCOUNTS_NAME_MAX + 1];

	if (l->flow == f->id)
		return 0;
	if (!c->recovered || (l->flow != 0 && !l->flow_guessed))
		return -ENOENT;
	if (l->trunk >= 0) {
		if (f->trunk != l->trunk)
			return -ENOENT;
	} else if (f->trunk >= 0) {
		return -ENOENT;
	} else if (!sip_binding_on_flow(s, f->id, a)) {
		/* Not registered (yet) on this connection: the request proves
		 * its account with digest, as an INVITE does. */
		if (sip_auth(s, f, m, name, sizeof(name), now_ms) != 0)
			return 1;
		if (strcmp(name, a) != 0)
			return -ENOENT;
	}
	bind_leg(s, c, i, f, false, now_ms);
	return 0;
}

void
sip_leg_reach(struct mr_sip *s, struct sip_call *c, int i)
{
	struct sip_leg *l = &c->leg[i];
	const struct sip_binding *b;
	mr_flow_id id;

	if (l->flow != 0 || !c->recovered)
		return;
	if (l->trunk >= 0) {
		if (s->io.dial == NULL || s->io.dial(s->io.ctx, (unsigned int)l->trunk, &id) < 0)
			return;
		l->flow = id;
		memset(&l->local, 0, sizeof(l->local));         /* as leg_callee() */
		l->flow_guessed = false;
	} else {
		b = sip_binding_newest(s, leg_account(c, i));
		if (b == NULL)
			return;
		l->flow = b->flow;
		l->proto = b->proto;
		l->local = b->local;
		l->listener = b->listener;
		l->flow_guessed = true;
	}
	sip_call_index(s, c);
}

bool
sip_call_media_gone(struct mr_sip *s, struct sip_call *c, uint64_t now_ms)
{
	if (!c->recovered || (c->leg[0].flow != 0 && c->leg[1].flow != 0) || now_ms < c->probe_ms)
		return false;
	c->probe_ms = now_ms + SIP_RECOVERED_PROBE_MS;
	return !sip_media_exists(s, c, now_ms);
}
