/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Starting the session manager: rebuild the calls of a previous mrelay-cp
 * from its journal and the region (docs/control-plane.md, "Restart").
 *
 *  1. Replay the journal: calls, their legs and streams (slot, leg uid,
 *     port). Bad lines are skipped and counted.
 *  2. Repair torn slots (odd seqlock: the old process died mid-write): they
 *     are wiped, as their content cannot be trusted.
 *  3. Check each stream's slot: active, same leg uid, same call tag. A call
 *     with a stream that fails is "lost": its other slots are wiped too, as
 *     it was being torn down (or a slot was torn) when the process died.
 *  4. Re-reserve the ports of the calls kept, and mark the slots ours.
 *  5. Sweep: an active slot carrying the tag of a journaled call but named
 *     by no stream was written just before the crash and never journaled:
 *     wipe it. Active slots of unknown tags are someone else's (mrelayctl
 *     legs): left alone and never handed out.
 *  6. Rewrite the journal with what was kept.
 *
 * The dataplane keeps forwarding through all of this: slots of kept calls
 * are only read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "session_int.h"

struct tagged {
	uint64_t tag;
	struct mr_call *c;              /* NULL once ended in the journal */
};

struct replay {
	struct mr_session *s;
	struct tagged *calls;           /* in tag order (the journal's order) */
	size_t n, cap;
	uint16_t last_port[MR_SESSION_MAX_IFACES];
};

static struct tagged *
find_tag(const struct replay *rp, uint64_t tag)
{
	size_t lo = 0, hi = rp->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (rp->calls[mid].tag == tag)
			return &rp->calls[mid];
		if (rp->calls[mid].tag < tag)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void
call_unlink_free(struct mr_session *s, struct mr_call *c)
{
	mr_sess_call_unlink(s, c);
	mr_sess_call_free(c);
}

static int
on_call(struct replay *rp, const struct mr_jrec *r, const char **why)
{
	struct mr_call *c;
	struct tagged *t;

	if (rp->n > 0 && r->call_tag <= rp->calls[rp->n - 1].tag) {
		*why = "call tag not above the previous call's";
		return -EINVAL;
	}
	if (mr_session_call_get(rp->s, r->text) != NULL) {
		*why = "call-id already live";
		return -EINVAL;
	}
	if (rp->n == rp->cap) {
		size_t cap = rp->cap != 0 ? rp->cap * 2 : 256;

		t = realloc(rp->calls, cap * sizeof(*t));
		if (t == NULL) {
			*why = "out of memory";
			return -ENOMEM;
		}
		rp->calls = t;
		rp->cap = cap;
	}
	c = mr_sess_call_alloc(r->text, r->call_tag, r->created_ms);
	if (c == NULL || mr_sess_call_link(rp->s, c) < 0) {
		mr_sess_call_free(c);
		*why = "out of memory";
		return -ENOMEM;
	}
	rp->calls[rp->n].tag = r->call_tag;
	rp->calls[rp->n++].c = c;
	return 0;
}

static int
on_leg(struct replay *rp, struct mr_call *c, const struct mr_jrec *r, const char **why)
{
	struct mr_leg *l;
	int iface;

	if (r->leg != c->n_legs || c->n_legs >= MR_SESSION_MAX_LEGS) {
		*why = "leg index out of sequence";
		return -EINVAL;
	}
	if (strlen(r->text) > MR_SESSION_TAG_MAX || mr_session_leg_get(c, r->text) != NULL) {
		*why = "leg tag too long or repeated";
		return -EINVAL;
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL) {
		*why = "out of memory";
		return -ENOMEM;
	}
	iface = mr_sess_iface_find(rp->s, r->iface);
	l->call = c;
	l->idx = r->leg;
	l->iface = iface < 0 ? rp->s->n_ifaces : (unsigned int)iface;
	snprintf(l->iface_name, sizeof(l->iface_name), "%s", r->iface);
	snprintf(l->tag, sizeof(l->tag), "%s", r->text);
	c->legs[c->n_legs++] = l;
	return 0;
}

static int
on_stream(struct replay *rp, struct mr_call *c, const struct mr_jrec *r, const char **why)
{
	struct mr_leg *l;
	struct mr_stream *st;

	if (r->leg >= c->n_legs) {
		*why = "stream of an unknown leg";
		return -EINVAL;
	}
	l = c->legs[r->leg];
	if (r->stream != l->n_streams || l->n_streams >= MR_SESSION_MAX_STREAMS) {
		*why = "stream index out of sequence";
		return -EINVAL;
	}
	if (r->slot >= rp->s->max_legs) {
		*why = "slot beyond the region";
		return -EINVAL;
	}
	st = &l->streams[l->n_streams++];
	st->slot = r->slot;
	st->leg_uid = r->leg_uid;
	st->rtp_port = r->rtp_port;
	if (l->iface < rp->s->n_ifaces)
		rp->last_port[l->iface] = r->rtp_port;
	return 0;
}

static int
on_retag(struct mr_call *c, const struct mr_jrec *r, const char **why)
{
	struct mr_leg *other;

	if (r->leg >= c->n_legs) {
		*why = "rename of an unknown leg";
		return -EINVAL;
	}
	other = mr_session_leg_get(c, r->text);
	if (strlen(r->text) > MR_SESSION_TAG_MAX || (other != NULL && other != c->legs[r->leg])) {
		*why = "leg tag too long or repeated";
		return -EINVAL;
	}
	snprintf(c->legs[r->leg]->tag, sizeof(c->legs[r->leg]->tag), "%s", r->text);
	return 0;
}

/* The last note of a call wins: each replaces the one before. */
static int
on_note(struct mr_call *c, const struct mr_jrec *r, const char **why)
{
	char *copy = strdup(r->note);

	if (copy == NULL) {
		*why = "out of memory";
		return -ENOMEM;
	}
	free(c->note);
	c->note = copy;
	return 0;
}

static int
on_record(const struct mr_jrec *r, void *ctx, const char **why)
{
	struct replay *rp = ctx;
	struct tagged *t;

	if (r->type == MR_JREC_CALL)
		return on_call(rp, r, why);
	t = find_tag(rp, r->call_tag);
	if (t == NULL || t->c == NULL) {
		*why = "record of an unknown or ended call";
		return -EINVAL;
	}
	switch (r->type) {
	case MR_JREC_LEG:
		return on_leg(rp, t->c, r, why);
	case MR_JREC_STREAM:
		return on_stream(rp, t->c, r, why);
	case MR_JREC_RETAG:
		return on_retag(t->c, r, why);
	case MR_JREC_NOTE:
		return on_note(t->c, r, why);
	case MR_JREC_END:
		call_unlink_free(rp->s, t->c);
		t->c = NULL;
		return 0;
	default:
		*why = "unknown record type";
		return -EINVAL;
	}
}

/* Does @slot still hold stream @st of call @c? (Lock held: plain reads.) */
static bool
slot_holds(const struct mr_session *s, const struct mr_call *c, const struct mr_stream *st)
{
	const struct mr_leg_slot *ls = mr_shm_slot(s->r->hdr, st->slot);

	return ls->state == MR_LEG_ACTIVE && !mr_seq_is_odd(&ls->seq) &&
	       ls->leg_uid == st->leg_uid && ls->call_tag == c->tag;
}

/* Step 3 for one call: claim its slots, or find it lost. */
static bool
claim_call(struct mr_session *s, struct mr_call *c)
{
	unsigned int i, k;

	for (i = 0; i < c->n_legs; i++)
		for (k = 0; k < c->legs[i]->n_streams; k++) {
			struct mr_stream *st = &c->legs[i]->streams[k];

			if (s->owner[st->slot].leg != NULL || !slot_holds(s, c, st))
				return false;
			s->owner[st->slot].leg = c->legs[i];
			s->owner[st->slot].stream = (uint8_t)k;
		}
	return true;
}

static void
drop_lost(struct mr_session *s, struct mr_call *c)
{
	unsigned int i, k;

	for (i = 0; i < c->n_legs; i++)
		for (k = 0; k < c->legs[i]->n_streams; k++) {
			struct mr_stream *st = &c->legs[i]->streams[k];

			bool mine = s->owner[st->slot].leg == c->legs[i] &&
				    s->owner[st->slot].stream == k;

			/* Claimed before the check failed, or never reached. */
			if (mine)
				s->owner[st->slot].leg = NULL;
			if ((mine || s->owner[st->slot].leg == NULL) && slot_holds(s, c, st))
				(void)mr_region_leg_delete(s->r, st->slot);
		}
	call_unlink_free(s, c);
}

/* Step 4 for a kept call: ports, pairing, mute, counts. */
static void
adopt_call(struct mr_session *s, struct mr_call *c, uint64_t now,
	   struct mr_session_recovery *rec)
{
	unsigned int i, k;

	if (c->created_ms > now)
		c->created_ms = now;    /* a journal from before a reboot */
	c->recovered_ms = now;
	for (i = 0; i < c->n_legs; i++) {
		struct mr_leg *l = c->legs[i];

		for (k = 0; k < l->n_streams; k++) {
			const struct mr_leg_slot *ls = mr_shm_slot(s->r->hdr, l->streams[k].slot);

			if (ls->egress_slot != MR_LEG_NONE)
				c->paired_ms = now;
			if (ls->flags & MR_LEG_F_MUTED)
				l->muted = true;
			mr_sess_stream_keys_adopt(s, &l->streams[k], now);
			if (l->iface >= s->n_ifaces ||
			    mr_ports_mark(s->ports[l->iface], l->streams[k].rtp_port) < 0)
				rec->ports_unmarked++;
		}
		s->n_slots += l->n_streams;
		s->live_records += 1 + l->n_streams;
	}
	s->live_records += c->note != NULL ? 2 : 1;
}

static int
cmp_tagged(const void *a, const void *b)
{
	uint64_t x = ((const struct tagged *)a)->tag, y = ((const struct tagged *)b)->tag;

	return x < y ? -1 : x > y;
}

static void
recover(struct mr_session *s, struct replay *rp, struct mr_session_recovery *rec)
{
	const struct mr_shm_header *h = s->r->hdr;
	struct mr_call *c, *next;
	uint64_t now = mr_now_ms(), wall;
	uint32_t i;

	rec->slots_repaired = mr_region_repair(s->r);
	for (c = s->head; c != NULL; c = c->next)
		c->lost = !claim_call(s, c);
	for (c = s->head; c != NULL; c = next) {
		next = c->next;
		if (c->lost) {
			drop_lost(s, c);
			rec->calls_lost++;
		} else {
			adopt_call(s, c, now, rec);
			rec->calls++;
		}
	}
	/* Step 5. rp->calls is in tag order already (replay refuses others).
	 * No qsort() of an empty journal: rp->calls is NULL then, which
	 * qsort() must not be given even for zero elements (UBSan). */
	if (rp->n > 1)
		qsort(rp->calls, rp->n, sizeof(*rp->calls), cmp_tagged);
	for (i = 0; i < h->max_legs; i++) {
		const struct mr_leg_slot *ls = mr_shm_slot(h, i);

		if (s->owner[i].leg != NULL || ls->state != MR_LEG_ACTIVE)
			continue;
		if (find_tag(rp, ls->call_tag) != NULL) {
			(void)mr_region_leg_delete(s->r, i);
			rec->slots_swept++;
		} else {
			rec->slots_foreign++;
		}
	}
	for (i = h->max_legs; i-- > 0;) {
		const struct mr_leg_slot *ls = mr_shm_slot(h, i);

		if (s->owner[i].leg == NULL && ls->state == MR_LEG_FREE && !mr_seq_is_odd(&ls->seq))
			s->free_slots[s->n_free++] = i;
	}
	/* Resume port allocation after the last pair handed out, not at the
	 * bottom of the range where pairs were just freed. */
	for (i = 0; i < s->n_ifaces; i++)
		if (rp->last_port[i] != 0)
			mr_ports_seek(s->ports[i], (uint16_t)(rp->last_port[i] + 2u));
	/* Tags must never repeat, even if the journal was lost: start past the
	 * wall clock's seconds (2^20 calls a second of headroom). */
	wall = (uint64_t)time(NULL) << 20;
	s->next_tag = rp->n > 0 ? rp->calls[rp->n - 1].tag + 1 : 1;
	if (wall > s->next_tag)
		s->next_tag = wall;
}

int
mr_session_new(const struct mr_session_params *p, struct mr_region *r,
	       struct mr_session **ret, struct mr_session_recovery *ret_rec,
	       char *err, size_t errlen)
{
	struct mr_session_recovery rec;
	struct replay rp;
	struct mr_session *s;
	int e;

	memset(&rec, 0, sizeof(rec));
	memset(&rp, 0, sizeof(rp));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (r->lock_fd < 0)
		return -ENOLCK;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	rp.s = s;
	e = mr_sess_init(s, p, r);
	if (e < 0) {
		snprintf(err, errlen, "session manager: %s", strerror(-e));
		goto err_free;
	}
	e = mr_journal_open(p->state_dir, &s->j, err, errlen);
	if (e < 0)
		goto err_free;
	e = mr_journal_replay(s->j, on_record, &rp, &rec.journal_bad, rec.journal_err,
			      sizeof(rec.journal_err));
	if (e < 0) {
		snprintf(err, errlen, "%s: %s", mr_journal_path(s->j), strerror(-e));
		goto err_free;
	}
	recover(s, &rp, &rec);
	e = mr_session_compact(s, true);
	if (e < 0) {
		snprintf(err, errlen, "%s: rewrite: %s", mr_journal_path(s->j), strerror(-e));
		goto err_free;
	}
	free(rp.calls);
	if (ret_rec != NULL)
		*ret_rec = rec;
	*ret = s;
	return 0;
err_free:
	free(rp.calls);
	mr_session_free(s);
	return e;
}
