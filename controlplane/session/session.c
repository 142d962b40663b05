/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The media session manager (session.h): calls, legs, streams, their slots
 * and ports, limits and timers. Recovery after a restart is in recover.c.
 *
 * Ownership: this file is the only writer of the slots it hands out, under
 * the region's writer lock that the caller holds. Keys pass through stack
 * copies of slots only, each wiped before its function returns.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include <openssl/rand.h>

#include "session_int.h"

_Static_assert(MR_SESSION_NOTE_MAX == MR_JOURNAL_NOTE_MAX, "a note is one journal record");

static const char *const end_names[MR_END_MAX] = {
	[MR_END_DELETED] = "deleted",
	[MR_END_MEDIA_IDLE] = "media-idle",
	[MR_END_OFFER_TIMEOUT] = "offer-timeout",
	[MR_END_CALL_LIMIT] = "call-limit",
	[MR_END_LOST] = "lost-at-restart",
	[MR_END_SHUTDOWN] = "shutdown",
};

const char *
mr_end_reason_name(enum mr_end_reason why)
{
	return (unsigned int)why < MR_END_MAX ? end_names[why] : "unknown";
}

/* ---- calls by id ------------------------------------------------------------ */

static uint64_t
hash_id(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;     /* FNV-1a */

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

static int
table_grow(struct mr_session *s)
{
	uint32_t n = s->n_buckets != 0 ? s->n_buckets * 2 : 1024, i;
	struct mr_call **b = calloc(n, sizeof(*b)), *c, *next;

	if (b == NULL)
		return -ENOMEM;
	for (i = 0; i < s->n_buckets; i++) {
		for (c = s->buckets[i]; c != NULL; c = next) {
			next = c->hnext;
			c->hnext = b[hash_id(c->id) & (n - 1)];
			b[hash_id(c->id) & (n - 1)] = c;
		}
	}
	free(s->buckets);
	s->buckets = b;
	s->n_buckets = n;
	return 0;
}

struct mr_call *
mr_session_call_get(const struct mr_session *s, const char *call_id)
{
	struct mr_call *c;

	if (s->n_buckets == 0)
		return NULL;
	for (c = s->buckets[hash_id(call_id) & (s->n_buckets - 1)]; c != NULL; c = c->hnext)
		if (strcmp(c->id, call_id) == 0)
			return c;
	return NULL;
}

/* Link a new call (id unique, checked by the caller). */
int
mr_sess_call_link(struct mr_session *s, struct mr_call *c)
{
	uint32_t b;

	if (s->n_calls + 1 > s->n_buckets) {
		int r = table_grow(s);

		if (r < 0)
			return r;
	}
	b = (uint32_t)(hash_id(c->id) & (s->n_buckets - 1));
	c->hnext = s->buckets[b];
	s->buckets[b] = c;
	c->prev = s->tail;
	c->next = NULL;
	if (s->tail != NULL)
		s->tail->next = c;
	else
		s->head = c;
	s->tail = c;
	s->n_calls++;
	return 0;
}

void
mr_sess_call_unlink(struct mr_session *s, struct mr_call *c)
{
	struct mr_call **pp = &s->buckets[hash_id(c->id) & (s->n_buckets - 1)];

	while (*pp != c)
		pp = &(*pp)->hnext;
	*pp = c->hnext;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	else
		s->tail = c->prev;
	s->n_calls--;
}

void
mr_sess_call_free(struct mr_call *c)
{
	unsigned int i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n_legs; i++)
		free(c->legs[i]);
	if (c->priv != NULL && c->priv_free != NULL)
		c->priv_free(c->priv);
	free(c->note);
	free(c->id);
	free(c);
}

struct mr_call *
mr_sess_call_alloc(const char *call_id, uint64_t tag, uint64_t created_ms)
{
	struct mr_call *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->id = strdup(call_id);
	if (c->id == NULL) {
		free(c);
		return NULL;
	}
	c->tag = tag;
	c->created_ms = created_ms;
	return c;
}

struct mr_call *
mr_session_call_next(const struct mr_session *s, const struct mr_call *c)
{
	return c == NULL ? s->head : c->next;
}

/* ---- slots ---------------------------------------------------------------------- */

/*
 * A free slot: the lowest the free stack holds that the region also says is
 * free. A slot someone else took behind our back (mrelayctl --force) leaves
 * the stack for good.
 */
static int
slot_take(struct mr_session *s, uint32_t *ret)
{
	while (s->n_free > 0) {
		uint32_t i = s->free_slots[--s->n_free];
		const struct mr_leg_slot *sl = mr_shm_slot(s->r->hdr, i);

		if (sl->state == MR_LEG_FREE && !mr_seq_is_odd(&sl->seq)) {
			*ret = i;
			return 0;
		}
	}
	return -ENOSPC;
}

static void
slot_give_back(struct mr_session *s, uint32_t slot)
{
	s->owner[slot].leg = NULL;
	s->free_slots[s->n_free++] = slot;
}

/*
 * Read-modify-write of a slot we own. A change that leaves the slot as it
 * was writes nothing: no generation bump, no command, no flow rebuild in
 * mrelay-dp (a re-offer that repeats itself touches no slot). The stack
 * copies hold keys, wiped here.
 */
static int
slot_update(struct mr_session *s, uint32_t slot,
	    void (*fn)(struct mr_leg_slot *ls, void *arg), void *arg)
{
	struct mr_leg_slot tmp, was;
	int r;

	if (s->r->lock_fd < 0)
		return -ENOLCK;
	r = mr_region_leg_read(s->r, slot, &tmp);
	if (r == 0) {
		memcpy(&was, &tmp, sizeof(was));
		fn(&tmp, arg);
		if (memcmp(&was, &tmp, sizeof(tmp)) != 0)
			r = mr_region_leg_write(s->r, slot, &tmp);
	}
	explicit_bzero(&tmp, sizeof(tmp));
	explicit_bzero(&was, sizeof(was));
	return r;
}

/* ---- interfaces and ports ----------------------------------------------------- */

int
mr_sess_iface_find(const struct mr_session *s, const char *name)
{
	unsigned int i;

	if (name == NULL)
		return 0;
	for (i = 0; i < s->n_ifaces; i++)
		if (strcmp(s->ifaces[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* The relay address of @iface for @family, or NULL. */
static const struct mr_sockaddr *
iface_addr(const struct mr_session_iface *f, uint8_t family, bool advertised)
{
	if (family == MR_AF_INET6) {
		if (f->local6.family != MR_AF_INET6)
			return NULL;
		return advertised && f->adv6.family == MR_AF_INET6 ? &f->adv6 : &f->local6;
	}
	if (f->local4.family != MR_AF_INET)
		return NULL;
	return advertised && f->adv4.family == MR_AF_INET ? &f->adv4 : &f->local4;
}

/* ---- the manager ------------------------------------------------------------------- */

static bool
iface_ok(const struct mr_session_iface *f)
{
	return f->name[0] != '\0' && memchr(f->name, '\0', sizeof(f->name)) != NULL &&
	       (f->local4.family == MR_AF_INET || f->local6.family == MR_AF_INET6) &&
	       f->dscp <= 63 && f->port_min > 0 && f->port_min <= f->port_max;
}

int
mr_sess_init(struct mr_session *s, const struct mr_session_params *p, struct mr_region *r)
{
	unsigned int i;

	if (p->n_ifaces == 0 || p->n_ifaces > MR_SESSION_MAX_IFACES || p->state_dir == NULL)
		return -EINVAL;
	s->r = r;
	s->n_ifaces = p->n_ifaces;
	for (i = 0; i < p->n_ifaces; i++) {
		if (!iface_ok(&p->ifaces[i]))
			return -EINVAL;
		s->ifaces[i] = p->ifaces[i];
		s->ports[i] = mr_ports_new(p->ifaces[i].port_min, p->ifaces[i].port_max);
		if (s->ports[i] == NULL)
			return -errno;
	}
	s->limits = p->limits;
	s->timeouts = p->timeouts;
	s->max_legs = r->hdr->max_legs;
	s->owner = calloc(s->max_legs, sizeof(*s->owner));
	s->free_slots = calloc(s->max_legs, sizeof(*s->free_slots));
	if (s->owner == NULL || s->free_slots == NULL)
		return -ENOMEM;
	return table_grow(s);
}

void
mr_session_free(struct mr_session *s)
{
	struct mr_call *c, *next;
	unsigned int i;

	if (s == NULL)
		return;
	for (c = s->head; c != NULL; c = next) {
		next = c->next;
		mr_sess_call_free(c);
	}
	for (i = 0; i < s->n_ifaces; i++)
		mr_ports_free(s->ports[i]);
	mr_journal_close(s->j);
	free(s->buckets);
	free(s->owner);
	free(s->free_slots);
	free(s);
}

void
mr_session_set_policy(struct mr_session *s, const struct mr_session_limits *l,
		      const struct mr_session_timeouts *t)
{
	s->limits = *l;
	s->timeouts = *t;
}

/* ---- journal helpers ---------------------------------------------------------------- */

void
mr_sess_jrec_call(const struct mr_call *c, struct mr_jrec *j)
{
	memset(j, 0, sizeof(*j));
	j->type = MR_JREC_CALL;
	j->call_tag = c->tag;
	j->created_ms = c->created_ms;
	snprintf(j->text, sizeof(j->text), "%s", c->id);
}

void
mr_sess_jrec_leg(const struct mr_session *s, const struct mr_leg *l, struct mr_jrec *j)
{
	memset(j, 0, sizeof(*j));
	j->type = MR_JREC_LEG;
	j->call_tag = l->call->tag;
	j->leg = l->idx;
	(void)s;
	snprintf(j->iface, sizeof(j->iface), "%s", l->iface_name);
	snprintf(j->text, sizeof(j->text), "%s", l->tag);
}

void
mr_sess_jrec_stream(const struct mr_leg *l, unsigned int i, struct mr_jrec *j)
{
	memset(j, 0, sizeof(*j));
	j->type = MR_JREC_STREAM;
	j->call_tag = l->call->tag;
	j->leg = l->idx;
	j->stream = i;
	j->slot = l->streams[i].slot;
	j->leg_uid = l->streams[i].leg_uid;
	j->rtp_port = l->streams[i].rtp_port;
}

void
mr_sess_jrec_note(const struct mr_call *c, struct mr_jrec *j)
{
	memset(j, 0, sizeof(*j));
	j->type = MR_JREC_NOTE;
	j->call_tag = c->tag;
	snprintf(j->note, sizeof(j->note), "%s", c->note);
}

static uint64_t
call_lines(const struct mr_call *c)
{
	uint64_t n = c->note != NULL ? 2 : 1;
	unsigned int i;

	for (i = 0; i < c->n_legs; i++)
		n += 1 + c->legs[i]->n_streams;
	return n;
}

int
mr_session_compact(struct mr_session *s, bool force)
{
	const struct mr_call *c;
	struct mr_jrec j;
	unsigned int i, k;
	int r;

	if (!force && mr_journal_records(s->j) <= 2 * s->live_records + 1024)
		return 0;
	r = mr_journal_rewrite_begin(s->j);
	if (r < 0)
		return r;
	for (c = s->head; c != NULL && r == 0; c = c->next) {
		mr_sess_jrec_call(c, &j);
		r = mr_journal_rewrite_add(s->j, &j);
		for (i = 0; i < c->n_legs && r == 0; i++) {
			const struct mr_leg *l = c->legs[i];

			mr_sess_jrec_leg(s, l, &j);
			r = mr_journal_rewrite_add(s->j, &j);
			for (k = 0; k < l->n_streams && r == 0; k++) {
				mr_sess_jrec_stream(l, k, &j);
				r = mr_journal_rewrite_add(s->j, &j);
			}
		}
		if (c->note != NULL && r == 0) {
			mr_sess_jrec_note(c, &j);
			r = mr_journal_rewrite_add(s->j, &j);
		}
	}
	if (r < 0) {
		mr_journal_rewrite_abort(s->j);
		return r;
	}
	return mr_journal_rewrite_commit(s->j);
}

/* ---- calls ------------------------------------------------------------------------------ */

static bool
text_ok(const char *t, size_t max)
{
	size_t n;

	if (t == NULL)
		return false;
	n = strnlen(t, max + 1);
	return n > 0 && n <= max;
}

int
mr_session_call_new(struct mr_session *s, const char *call_id, uint64_t now_ms,
		    struct mr_call **ret)
{
	struct mr_call *c;
	struct mr_jrec j;
	int r;

	if (!text_ok(call_id, MR_SESSION_ID_MAX))
		return -EINVAL;
	if (mr_session_call_get(s, call_id) != NULL)
		return -EEXIST;
	if (s->limits.max_calls != 0 && s->n_calls >= s->limits.max_calls)
		return -EUSERS;
	if (s->limits.offers_per_s != 0) {
		if (now_ms / 1000u != s->rate_sec) {
			s->rate_sec = now_ms / 1000u;
			s->rate_count = 0;
		}
		if (s->rate_count >= s->limits.offers_per_s)
			return -EBUSY;
	}
	c = mr_sess_call_alloc(call_id, s->next_tag, now_ms);
	if (c == NULL)
		return -ENOMEM;
	mr_sess_jrec_call(c, &j);
	r = mr_journal_append(s->j, &j, 1);
	if (r < 0)
		goto err_free;
	r = mr_sess_call_link(s, c);
	if (r < 0)
		goto err_journal;
	s->next_tag++;
	s->rate_count++;
	s->live_records++;
	*ret = c;
	return 0;
err_journal:
	/* The C record is out there: cancel it, or recovery would bring back
	 * an empty call. If even that fails, the empty call comes back and
	 * its offer timeout ends it. */
	j.type = MR_JREC_END;
	mr_journal_append(s->j, &j, 1);
err_free:
	mr_sess_call_free(c);
	return r;
}

static void stream_retire_at(struct mr_session *s, struct mr_stream *st, uint64_t at_ms);

/* Wipe and free every slot of @c, release its ports, unlink and free it. */
static int
call_destroy(struct mr_session *s, struct mr_call *c)
{
	unsigned int i, k;

	for (i = 0; i < c->n_legs; i++) {
		struct mr_leg *l = c->legs[i];

		for (k = 0; k < l->n_streams; k++) {
			struct mr_stream *st = &l->streams[k];

			/* -ENOENT: already free (someone forced it); still ours to forget. */
			(void)mr_region_leg_delete(s->r, st->slot);
			stream_retire_at(s, st, 0);
			slot_give_back(s, st->slot);
			if (l->iface < s->n_ifaces)
				(void)mr_ports_release(s->ports[l->iface], st->rtp_port);
			s->n_slots--;
		}
	}
	s->live_records -= call_lines(c);
	mr_sess_call_unlink(s, c);
	mr_sess_call_free(c);
	return 0;
}

int
mr_session_call_end(struct mr_session *s, struct mr_call *c, enum mr_end_reason why)
{
	struct mr_jrec j;

	(void)why;
	if (s->r->lock_fd < 0)
		return -ENOLCK;
	memset(&j, 0, sizeof(j));
	j.type = MR_JREC_END;
	j.call_tag = c->tag;
	call_destroy(s, c);
	/* Slots first, then the record: a crash in between leaves a call whose
	 * slots are gone, which recovery drops. A failed append is the same. */
	(void)mr_journal_append(s->j, &j, 1);
	(void)mr_session_compact(s, false);
	return 0;
}

/* ---- legs --------------------------------------------------------------------------------- */

struct mr_leg *
mr_session_leg_get(const struct mr_call *c, const char *tag)
{
	unsigned int i;

	for (i = 0; i < c->n_legs; i++)
		if (strcmp(c->legs[i]->tag, tag) == 0)
			return c->legs[i];
	return NULL;
}

struct mr_leg *
mr_session_leg_at(const struct mr_call *c, unsigned int i)
{
	return i < c->n_legs ? c->legs[i] : NULL;
}

static bool
sockaddr_valid(const struct mr_sockaddr *a)
{
	return a->family == MR_AF_NONE || a->family == MR_AF_INET || a->family == MR_AF_INET6;
}

static int
stream_params_ok(const struct mr_stream_params *p)
{
	if (!sockaddr_valid(&p->peer_rtp) || !sockaddr_valid(&p->peer_rtcp) ||
	    p->suite >= MR_SUITE_MAX || p->latch >= MR_LATCH_MAX ||
	    (p->family != 0 && p->family != MR_AF_INET && p->family != MR_AF_INET6))
		return -EINVAL;
	if (p->in_key != NULL && (p->in_key->suite == MR_SUITE_NONE ||
				  p->in_key->suite >= MR_SUITE_MAX))
		return -EINVAL;
	if (p->out_tag > MR_SDES_TAG_MAX)
		return -EINVAL;
	/*
	 * Encryption is mandatory unless the operator marked the trunk. A keyed
	 * stream whose peer key comes later (the answer) is fine: mrelay-dp
	 * installs it only once both keys are there.
	 */
	if (p->suite == MR_SUITE_NONE && !p->pstn)
		return -EINVAL;
	return 0;
}

static uint8_t
stream_family(const struct mr_stream_params *p)
{
	if (p->family != 0)
		return p->family;
	return p->peer_rtp.family == MR_AF_INET6 ? MR_AF_INET6 : MR_AF_INET;
}

/*
 * @n random ice-chars (RFC 8839 5.4: ALPHA / DIGIT / "+" / "/", 64 of them,
 * so a byte's low 6 bits pick one without bias) from OpenSSL's CSPRNG, and
 * a NUL. -EIO if the generator fails.
 */
static int
ice_random(char *out, size_t n)
{
	static const char ice_chars[65] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint8_t rnd[32];
	size_t i;

	if (n > sizeof(rnd) || RAND_bytes(rnd, (int)n) != 1)
		return -EIO;
	for (i = 0; i < n; i++)
		out[i] = ice_chars[rnd[i] & 63u];
	out[n] = '\0';
	explicit_bzero(rnd, sizeof(rnd));
	return 0;
}

/* Compose the slot of a new stream; keys included (the caller wipes). */
static int
compose_slot(const struct mr_session *s, const struct mr_call *c, unsigned int iface,
	     const struct mr_stream_params *p, uint16_t port, struct mr_leg_slot *ls)
{
	const struct mr_session_iface *f = &s->ifaces[iface];
	const struct mr_sockaddr *local = iface_addr(f, stream_family(p), false);
	struct mr_sdes_crypto out;
	int r;

	if (local == NULL)
		return -ENODEV;
	memset(ls, 0, sizeof(*ls));
	ls->call_tag = c->tag;
	ls->latch = p->latch != 0 ? p->latch :
		    p->suite != MR_SUITE_NONE || p->in_key != NULL ? MR_LATCH_FIRST_AUTH :
								  MR_LATCH_FIRST;
	ls->dscp = f->dscp;
	ls->flags = (p->rtcp_mux ? MR_LEG_F_RTCP_MUX : 0) | (p->pstn ? MR_LEG_F_PSTN : 0);
	ls->egress_slot = MR_LEG_NONE;
	ls->local = *local;
	ls->local.port_be = htons(port);
	ls->local_rtcp_port_be = htons((uint16_t)(port + 1));
	ls->peer_rtp = p->peer_rtp;
	ls->peer_rtcp = p->peer_rtcp;
	ls->idle_timeout_ms = s->timeouts.media_idle_ms;
	if (p->suite != MR_SUITE_NONE) {
		r = mr_sdes_generate(p->suite, p->out_tag != 0 ? p->out_tag : 1, &out);
		if (r < 0)
			return r;
		mr_sdes_to_key_gen(&out, &ls->crypto_out.gen[0]);
		mr_sdes_wipe(&out);
	}
	if (p->in_key != NULL)
		mr_sdes_to_key_gen(p->in_key, &ls->crypto_in.gen[0]);
	if (p->ice) {
		_Static_assert(MR_SESSION_ICE_UFRAG_LEN < sizeof(ls->ice.local_ufrag) &&
			       MR_SESSION_ICE_PWD_LEN < sizeof(ls->ice.local_pwd), "ICE credentials");
		r = ice_random(ls->ice.local_ufrag, MR_SESSION_ICE_UFRAG_LEN);
		if (r == 0)
			r = ice_random(ls->ice.local_pwd, MR_SESSION_ICE_PWD_LEN);
		if (r < 0)
			return r;
		ls->flags |= MR_LEG_F_ICE;
	}
	return 0;
}

int
mr_session_leg_add(struct mr_session *s, struct mr_call *c, const struct mr_leg_params *p,
		   struct mr_leg **ret)
{
	struct mr_jrec recs[1 + MR_SESSION_MAX_STREAMS];
	struct mr_leg_slot ls;
	struct mr_leg *l;
	unsigned int i, done_ports = 0, done_slots = 0, written = 0;
	int iface, r;

	if (s->r->lock_fd < 0)
		return -ENOLCK;
	if (!text_ok(p->tag, MR_SESSION_TAG_MAX) || p->n_streams == 0 ||
	    p->n_streams > MR_SESSION_MAX_STREAMS || p->streams == NULL)
		return -EINVAL;
	for (i = 0; i < p->n_streams; i++) {
		r = stream_params_ok(&p->streams[i]);
		if (r < 0)
			return r;
	}
	if (mr_session_leg_get(c, p->tag) != NULL)
		return -EEXIST;
	if (c->n_legs >= MR_SESSION_MAX_LEGS)
		return -EUSERS;
	if (s->limits.max_legs != 0 && s->n_slots + p->n_streams > s->limits.max_legs)
		return -EUSERS;
	iface = mr_sess_iface_find(s, p->iface);
	if (iface < 0)
		return -ENODEV;
	for (i = 0; i < p->n_streams; i++) {
		if (iface_addr(&s->ifaces[iface], stream_family(&p->streams[i]), false) == NULL)
			return -ENODEV;
		/*
		 * Plain RTP only where the operator marked the interface: what a
		 * front-end (or the admin socket) asks for does not widen that.
		 */
		if (p->streams[i].pstn && !s->ifaces[iface].pstn)
			return -EPERM;
	}

	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return -ENOMEM;
	l->call = c;
	l->idx = c->n_legs;
	l->iface = (unsigned int)iface;
	l->n_streams = p->n_streams;
	snprintf(l->tag, sizeof(l->tag), "%s", p->tag);
	snprintf(l->iface_name, sizeof(l->iface_name), "%s", s->ifaces[iface].name);

	for (; done_ports < p->n_streams; done_ports++) {
		r = mr_ports_alloc(s->ports[iface], &l->streams[done_ports].rtp_port);
		if (r < 0)
			goto err_release;
	}
	for (; done_slots < p->n_streams; done_slots++) {
		r = slot_take(s, &l->streams[done_slots].slot);
		if (r < 0)
			goto err_release;
	}
	for (; written < p->n_streams; written++) {
		struct mr_stream *st = &l->streams[written];

		r = compose_slot(s, c, l->iface, &p->streams[written], st->rtp_port, &ls);
		if (r == 0)
			r = mr_region_leg_write(s->r, st->slot, &ls);
		explicit_bzero(&ls, sizeof(ls));
		if (r < 0)
			goto err_release;
		st->leg_uid = mr_shm_slot(s->r->hdr, st->slot)->leg_uid;
	}
	/* The leg and its streams in one write: all of them or none. */
	mr_sess_jrec_leg(s, l, &recs[0]);
	for (i = 0; i < p->n_streams; i++)
		mr_sess_jrec_stream(l, i, &recs[1 + i]);
	r = mr_journal_append(s->j, recs, 1 + p->n_streams);
	if (r < 0)
		goto err_release;

	for (i = 0; i < p->n_streams; i++) {
		s->owner[l->streams[i].slot].leg = l;
		s->owner[l->streams[i].slot].stream = (uint8_t)i;
	}
	c->legs[c->n_legs++] = l;
	s->n_slots += p->n_streams;
	s->live_records += 1 + p->n_streams;
	*ret = l;
	return 0;

err_release:
	for (i = 0; i < written; i++)
		(void)mr_region_leg_delete(s->r, l->streams[i].slot);
	for (i = 0; i < done_slots; i++)
		s->free_slots[s->n_free++] = l->streams[i].slot;
	for (i = 0; i < done_ports; i++)
		(void)mr_ports_release(s->ports[iface], l->streams[i].rtp_port);
	free(l);
	return r;
}

/* ---- stream updates ------------------------------------------------------------------------- */

/*
 * Inbound key changes (session.h, mr_session_stream_set_in_key()). The
 * slot's crypto_in is the whole state, so a restarted mrelay-cp finds it
 * there: gen[active] is the peer's newest key; with MR_CRYPTO_CP_PENDING it
 * is only offered and gen[active ^ 1] is the key in use; without, it is in
 * use and gen[active ^ 1], if set, is the previous key, retiring
 * (mr_stream.retire_ms, memory only: a restart gives it a full grace again).
 */

/* Same key material (the SDES tag is a label, not part of the key). */
static bool
key_gen_eq(const struct mr_key_gen *a, const struct mr_key_gen *b)
{
	return a->suite == b->suite && a->key_len == b->key_len && a->salt_len == b->salt_len &&
	       a->mki_len == b->mki_len && memcmp(a->key, b->key, sizeof(a->key)) == 0 &&
	       memcmp(a->salt, b->salt, sizeof(a->salt)) == 0 &&
	       memcmp(a->mki, b->mki, sizeof(a->mki)) == 0;
}

struct in_key {
	struct mr_key_gen gen;          /* the new key; wiped by the caller */
	bool staged;                    /* out: now beside the key in use */
};

static void
set_in_key(struct mr_leg_slot *ls, void *arg)
{
	struct in_key *k = arg;
	struct mr_crypto_dir *d = &ls->crypto_in;
	unsigned int cur = d->active & 1u, oth = cur ^ 1u;

	if (d->gen[cur].suite == MR_SUITE_NONE && d->gen[oth].suite != MR_SUITE_NONE) {
		/* Only the other generation holds a key (mrelayctl wrote it so):
		 * that one is in use. */
		cur = oth;
		oth ^= 1u;
		d->active = (uint8_t)cur;
		d->cp_flags &= (uint8_t)~MR_CRYPTO_CP_PENDING;
	}
	if (d->gen[cur].suite == MR_SUITE_NONE) {
		/* The stream's first key: nothing else the peer could send with. */
		d->gen[cur] = k->gen;
		d->cp_flags &= (uint8_t)~MR_CRYPTO_CP_PENDING;
		return;
	}
	if (key_gen_eq(&d->gen[cur], &k->gen))
		return;         /* hold, resume, retransmission: nothing changes */
	if (d->cp_flags & MR_CRYPTO_CP_PENDING) {
		/*
		 * A change that never completed (the re-offer was refused, or
		 * is being offered again): the peer never sent with gen[cur],
		 * as it switches only on the answer. Replace it, or withdraw it
		 * if the peer goes back to the key in use.
		 */
		if (key_gen_eq(&d->gen[oth], &k->gen)) {
			explicit_bzero(&d->gen[cur], sizeof(d->gen[cur]));
			d->active = (uint8_t)oth;
			d->cp_flags &= (uint8_t)~MR_CRYPTO_CP_PENDING;
		} else {
			d->gen[cur] = k->gen;
		}
		return;
	}
	/* Make-before-break: the new key beside the one in use, which stays
	 * until the exchange completes (and a grace period after it). */
	if (!key_gen_eq(&d->gen[oth], &k->gen))
		d->gen[oth] = k->gen;
	d->active = (uint8_t)oth;
	d->cp_flags |= MR_CRYPTO_CP_PENDING;
	k->staged = true;
}

static void
stream_retire_at(struct mr_session *s, struct mr_stream *st, uint64_t at_ms)
{
	if (st->retire_ms != 0)
		s->n_retiring--;
	st->retire_ms = at_ms;
	if (at_ms != 0)
		s->n_retiring++;
}

int
mr_session_stream_set_in_key(struct mr_session *s, struct mr_leg *l, unsigned int i,
			     const struct mr_sdes_crypto *key)
{
	struct in_key k = { .staged = false };
	int r;

	if (i >= l->n_streams)
		return -ERANGE;
	if (key == NULL || key->suite == MR_SUITE_NONE || key->suite >= MR_SUITE_MAX)
		return -EINVAL;
	mr_sdes_to_key_gen(key, &k.gen);
	r = slot_update(s, l->streams[i].slot, set_in_key, &k);
	/* The key that was retiring is the one in use again, or gone. */
	if (r == 0 && k.staged)
		stream_retire_at(s, &l->streams[i], 0);
	explicit_bzero(&k, sizeof(k));
	return r;
}

/* The exchange completed: a pending key is the one in use. */
static void
confirm_in_key(struct mr_leg_slot *ls, void *arg)
{
	struct mr_crypto_dir *d = &ls->crypto_in;

	if (d->cp_flags & MR_CRYPTO_CP_PENDING) {
		d->cp_flags &= (uint8_t)~MR_CRYPTO_CP_PENDING;
		*(bool *)arg = d->gen[(d->active & 1u) ^ 1u].suite != MR_SUITE_NONE;
	}
}

static int
leg_confirm_keys(struct mr_session *s, struct mr_leg *l, uint64_t now_ms)
{
	unsigned int i;
	int r;

	for (i = 0; i < l->n_streams; i++) {
		bool retiring = false;

		r = slot_update(s, l->streams[i].slot, confirm_in_key, &retiring);
		if (r < 0)
			return r;
		if (retiring)
			stream_retire_at(s, &l->streams[i],
					 s->timeouts.old_key_ms != 0 ? now_ms + s->timeouts.old_key_ms : 0);
	}
	return 0;
}

static void
retire_in_key(struct mr_leg_slot *ls, void *arg)
{
	struct mr_crypto_dir *d = &ls->crypto_in;

	(void)arg;
	if (!(d->cp_flags & MR_CRYPTO_CP_PENDING))
		explicit_bzero(&d->gen[(d->active & 1u) ^ 1u], sizeof(d->gen[0]));
}

/* Wipe the previous inbound keys whose grace is over. */
static void
retire_keys(struct mr_session *s, uint64_t now_ms)
{
	struct mr_call *c;
	unsigned int i, k;

	for (c = s->head; c != NULL && s->n_retiring > 0; c = c->next)
		for (i = 0; i < c->n_legs; i++)
			for (k = 0; k < c->legs[i]->n_streams; k++) {
				struct mr_stream *st = &c->legs[i]->streams[k];

				if (st->retire_ms == 0 || now_ms < st->retire_ms)
					continue;
				/* A torn slot: the next tick tries again. */
				if (slot_update(s, st->slot, retire_in_key, NULL) == 0)
					stream_retire_at(s, st, 0);
			}
}

/*
 * Recovery: a stream whose slot holds a previous key beside a confirmed one
 * gets a full grace from now (the old deadline was in the dead process).
 */
void
mr_sess_stream_keys_adopt(struct mr_session *s, struct mr_stream *st, uint64_t now_ms)
{
	const struct mr_crypto_dir *d = &mr_shm_slot(s->r->hdr, st->slot)->crypto_in;

	st->retire_ms = 0;
	if (!(d->cp_flags & MR_CRYPTO_CP_PENDING) && s->timeouts.old_key_ms != 0 &&
	    d->gen[0].suite != MR_SUITE_NONE && d->gen[1].suite != MR_SUITE_NONE)
		stream_retire_at(s, st, now_ms + s->timeouts.old_key_ms);
}

struct peers {
	const struct mr_sockaddr *rtp, *rtcp;
};

static void
set_peer(struct mr_leg_slot *ls, void *arg)
{
	const struct peers *p = arg;

	if (p->rtp != NULL)
		ls->peer_rtp = *p->rtp;
	if (p->rtcp != NULL)
		ls->peer_rtcp = *p->rtcp;
}

int
mr_session_stream_set_peer(struct mr_session *s, struct mr_leg *l, unsigned int i,
			   const struct mr_sockaddr *rtp, const struct mr_sockaddr *rtcp)
{
	struct peers p = { rtp, rtcp };

	if (i >= l->n_streams)
		return -ERANGE;
	if ((rtp != NULL && !sockaddr_valid(rtp)) || (rtcp != NULL && !sockaddr_valid(rtcp)))
		return -EINVAL;
	return slot_update(s, l->streams[i].slot, set_peer, &p);
}

int
mr_session_stream_out_key(const struct mr_session *s, const struct mr_leg *l, unsigned int i,
			  struct mr_sdes_crypto *ret)
{
	struct mr_leg_slot tmp;
	const struct mr_key_gen *g;
	int r;

	if (i >= l->n_streams)
		return -ERANGE;
	r = mr_region_leg_read(s->r, l->streams[i].slot, &tmp);
	if (r < 0)
		goto out;
	g = &tmp.crypto_out.gen[tmp.crypto_out.active & 1];
	if (g->suite == MR_SUITE_NONE) {
		r = -ENOENT;
		goto out;
	}
	memset(ret, 0, sizeof(*ret));
	ret->tag = g->tag != 0 ? g->tag : 1;
	ret->suite = g->suite;
	ret->key_len = g->key_len;
	ret->salt_len = g->salt_len;
	ret->mki_len = g->mki_len;
	memcpy(ret->key, g->key, sizeof(ret->key));
	memcpy(ret->salt, g->salt, sizeof(ret->salt));
	memcpy(ret->mki, g->mki, sizeof(ret->mki));
out:
	explicit_bzero(&tmp, sizeof(tmp));
	return r;
}

int
mr_session_stream_ice(const struct mr_session *s, const struct mr_leg *l, unsigned int i,
		      char ufrag[16], char pwd[32])
{
	struct mr_leg_slot tmp;
	int r;

	if (i >= l->n_streams)
		return -ERANGE;
	r = mr_region_leg_read(s->r, l->streams[i].slot, &tmp);
	if (r == 0 && (!(tmp.flags & MR_LEG_F_ICE) || tmp.ice.local_ufrag[0] == '\0'))
		r = -ENOENT;
	if (r == 0) {
		_Static_assert(sizeof(tmp.ice.local_ufrag) == 16 && sizeof(tmp.ice.local_pwd) == 32,
			       "ICE credential fields");
		memcpy(ufrag, tmp.ice.local_ufrag, 16);
		memcpy(pwd, tmp.ice.local_pwd, 32);
		ufrag[15] = pwd[31] = '\0';
	}
	explicit_bzero(&tmp, sizeof(tmp));
	return r;
}

static void
set_egress(struct mr_leg_slot *ls, void *arg)
{
	ls->egress_slot = *(const uint32_t *)arg;
}

int
mr_session_pair(struct mr_session *s, struct mr_leg *a, struct mr_leg *b)
{
	unsigned int i, n;
	uint64_t now;
	int r;

	if (a == b || a->call != b->call)
		return -EINVAL;
	if (s->r->lock_fd < 0)
		return -ENOLCK;
	n = a->n_streams < b->n_streams ? a->n_streams : b->n_streams;
	for (i = 0; i < n; i++) {
		r = slot_update(s, a->streams[i].slot, set_egress, &b->streams[i].slot);
		if (r == 0)
			r = slot_update(s, b->streams[i].slot, set_egress, &a->streams[i].slot);
		if (r < 0)
			return r;
	}
	now = mr_now_ms();
	r = leg_confirm_keys(s, a, now);
	if (r == 0)
		r = leg_confirm_keys(s, b, now);
	if (r < 0)
		return r;
	if (a->call->paired_ms == 0)
		a->call->paired_ms = now;
	return 0;
}

static void
set_rtcp_mux(struct mr_leg_slot *ls, void *arg)
{
	if (*(const bool *)arg)
		ls->flags |= MR_LEG_F_RTCP_MUX;
	else
		ls->flags &= ~MR_LEG_F_RTCP_MUX;
}

int
mr_session_stream_set_rtcp_mux(struct mr_session *s, struct mr_leg *l, unsigned int i, bool mux)
{
	if (i >= l->n_streams)
		return -ERANGE;
	return slot_update(s, l->streams[i].slot, set_rtcp_mux, &mux);
}

int
mr_session_leg_retag(struct mr_session *s, struct mr_leg *l, const char *tag)
{
	struct mr_leg *other;
	struct mr_jrec j;
	int r;

	if (!text_ok(tag, MR_SESSION_TAG_MAX))
		return -EINVAL;
	if (strcmp(l->tag, tag) == 0)
		return 0;
	other = mr_session_leg_get(l->call, tag);
	if (other != NULL)
		return -EEXIST;
	memset(&j, 0, sizeof(j));
	j.type = MR_JREC_RETAG;
	j.call_tag = l->call->tag;
	j.leg = l->idx;
	snprintf(j.text, sizeof(j.text), "%s", tag);
	r = mr_journal_append(s->j, &j, 1);
	if (r < 0)
		return r;
	/* Compaction writes the leg's L record with the new tag: one more
	 * line now, none after the next rewrite. */
	snprintf(l->tag, sizeof(l->tag), "%s", tag);
	return 0;
}

void
mr_session_call_set_priv(struct mr_call *c, void *priv, void (*priv_free)(void *priv))
{
	if (c->priv != NULL && c->priv != priv && c->priv_free != NULL)
		c->priv_free(c->priv);
	c->priv = priv;
	c->priv_free = priv_free;
}

void *
mr_session_call_priv(const struct mr_call *c)
{
	return c->priv;
}

int
mr_session_call_set_note(struct mr_session *s, struct mr_call *c, const char *note)
{
	struct mr_jrec j;
	char *copy;
	int r;

	if (!text_ok(note, MR_SESSION_NOTE_MAX))
		return -EINVAL;
	if (c->note != NULL && strcmp(c->note, note) == 0)
		return 0;
	copy = strdup(note);
	if (copy == NULL)
		return -ENOMEM;
	memset(&j, 0, sizeof(j));
	j.type = MR_JREC_NOTE;
	j.call_tag = c->tag;
	memcpy(j.note, note, strlen(note) + 1);
	r = mr_journal_append(s->j, &j, 1);
	if (r < 0) {
		free(copy);
		return r;
	}
	/* Replay keeps the last N record of a call; a rewrite writes one. */
	if (c->note == NULL)
		s->live_records++;
	free(c->note);
	c->note = copy;
	return 0;
}

const char *
mr_session_call_note(const struct mr_call *c)
{
	return c->note;
}

static void
set_muted(struct mr_leg_slot *ls, void *arg)
{
	if (*(const bool *)arg)
		ls->flags |= MR_LEG_F_MUTED;
	else
		ls->flags &= ~MR_LEG_F_MUTED;
}

int
mr_session_leg_mute(struct mr_session *s, struct mr_leg *l, bool muted)
{
	unsigned int i;
	int r;

	if (s->r->lock_fd < 0)
		return -ENOLCK;
	for (i = 0; i < l->n_streams; i++) {
		r = slot_update(s, l->streams[i].slot, set_muted, &muted);
		if (r < 0)
			return r;
	}
	l->muted = muted;
	return 0;
}

/* ---- queries ----------------------------------------------------------------------------------- */

void
mr_session_call_info(const struct mr_call *c, struct mr_call_info *ret)
{
	ret->call_id = c->id;
	ret->tag = c->tag;
	ret->created_ms = c->created_ms;
	ret->paired_ms = c->paired_ms;
	ret->n_legs = c->n_legs;
}

void
mr_session_leg_info(const struct mr_leg *l, struct mr_leg_info *ret)
{
	ret->tag = l->tag;
	ret->iface = l->iface_name;
	ret->n_streams = l->n_streams;
	ret->muted = l->muted;
}

int
mr_session_stream_info(const struct mr_session *s, const struct mr_leg *l, unsigned int i,
		       struct mr_stream_info *ret)
{
	const struct mr_stream *st;
	struct mr_leg_slot tmp;
	struct mr_leg_dp dp;
	const struct mr_sockaddr *adv;
	int r;

	if (i >= l->n_streams)
		return -ERANGE;
	st = &l->streams[i];
	r = mr_region_leg_read(s->r, st->slot, &tmp);
	if (r < 0) {
		explicit_bzero(&tmp, sizeof(tmp));
		return r;
	}
	memset(ret, 0, sizeof(*ret));
	ret->slot = st->slot;
	ret->leg_uid = st->leg_uid;
	ret->local = tmp.local;
	ret->advertised = tmp.local;
	if (l->iface < s->n_ifaces) {
		adv = iface_addr(&s->ifaces[l->iface], tmp.local.family, true);
		if (adv != NULL) {
			ret->advertised = *adv;
			ret->advertised.port_be = tmp.local.port_be;
		}
	}
	ret->rtcp_port = ntohs(tmp.local_rtcp_port_be);
	ret->flags = tmp.flags;
	ret->egress_slot = tmp.egress_slot;
	ret->in_suite = tmp.crypto_in.gen[tmp.crypto_in.active & 1].suite;
	ret->out_suite = tmp.crypto_out.gen[tmp.crypto_out.active & 1].suite;
	ret->peer_rtp = tmp.peer_rtp;
	explicit_bzero(&tmp, sizeof(tmp));
	/* The dp part belongs to this leg only once mrelay-dp installed it. */
	if (mr_region_leg_dp_read(s->r, st->slot, &dp) == 0 && dp.leg_uid == st->leg_uid) {
		if (dp.latch_flags & MR_LATCHED_RTP)
			ret->latched_rtp = dp.latched_rtp;
		if (dp.latch_flags & MR_LATCHED_RTCP)
			ret->latched_rtcp = dp.latched_rtcp;
	}
	mr_region_leg_counters(s->r, st->slot, &ret->counters);
	ret->auth_failures = st->auth_failures;
	return 0;
}

void
mr_session_stats(const struct mr_session *s, struct mr_session_stats *ret)
{
	unsigned int i;

	memset(ret, 0, sizeof(*ret));
	ret->calls = s->n_calls;
	ret->legs = s->n_slots;
	ret->slots_free = s->n_free;
	for (i = 0; i < s->n_ifaces; i++) {
		ret->ports_used += mr_ports_used(s->ports[i]);
		ret->ports_capacity += mr_ports_capacity(s->ports[i]);
	}
	ret->journal_records = mr_journal_records(s->j);
	ret->journal_live = s->live_records;
}

/* ---- timers and events ---------------------------------------------------------------------- */

/* Latest sign of media on any stream of @c (or the call's start/answer). */
static uint64_t
last_media_ms(const struct mr_session *s, const struct mr_call *c)
{
	uint64_t last = c->created_ms > c->paired_ms ? c->created_ms : c->paired_ms;
	struct mr_leg_counters ctr;
	unsigned int i, k;

	if (c->recovered_ms > last)
		last = c->recovered_ms;
	for (i = 0; i < c->n_legs; i++)
		for (k = 0; k < c->legs[i]->n_streams; k++) {
			mr_region_leg_counters(s->r, c->legs[i]->streams[k].slot, &ctr);
			if (ctr.last_rx_ms > last)
				last = ctr.last_rx_ms;
		}
	return last;
}

static bool
media_idle(const struct mr_session *s, const struct mr_call *c, uint64_t now)
{
	uint64_t last;

	if (s->timeouts.media_idle_ms == 0)
		return false;
	last = last_media_ms(s, c);
	return now > last && now - last >= s->timeouts.media_idle_ms;
}

/* Why @c should end at @now, or MR_END_MAX if it should not. */
static enum mr_end_reason
due(const struct mr_session *s, const struct mr_call *c, uint64_t now)
{
	uint64_t age = now > c->created_ms ? now - c->created_ms : 0;

	if (s->timeouts.call_max_ms != 0 && age >= s->timeouts.call_max_ms)
		return MR_END_CALL_LIMIT;
	if (s->timeouts.offer_ms != 0 && c->paired_ms == 0 && age >= s->timeouts.offer_ms)
		return MR_END_OFFER_TIMEOUT;
	if (media_idle(s, c, now))
		return MR_END_MEDIA_IDLE;
	return MR_END_MAX;
}

static void
end_with(struct mr_session *s, struct mr_call *c, enum mr_end_reason why,
	 mr_session_end_cb *cb, void *ctx)
{
	if (cb != NULL)
		cb(c, why, ctx);
	mr_session_call_end(s, c, why);
}

unsigned int
mr_session_tick(struct mr_session *s, uint64_t now_ms, mr_session_end_cb *cb, void *ctx)
{
	struct mr_call *c, *next;
	unsigned int n = 0;

	if (s->r->lock_fd < 0)
		return 0;
	retire_keys(s, now_ms);
	for (c = s->head; c != NULL; c = next) {
		enum mr_end_reason why = due(s, c, now_ms);

		next = c->next;
		if (why != MR_END_MAX) {
			end_with(s, c, why, cb, ctx);
			n++;
		}
	}
	return n;
}

int
mr_session_event(struct mr_session *s, const struct mr_event *ev, uint64_t now_ms,
		 mr_session_end_cb *cb, void *ctx, const struct mr_call **ret_call)
{
	struct mr_leg *l;
	struct mr_stream *st;

	*ret_call = NULL;
	if (ev->type == MR_EV_SYNC || ev->type == MR_EV_DP_START || ev->type == MR_EV_NONE)
		return -EINVAL;
	if (ev->slot >= s->max_legs)
		return -ENOENT;
	l = s->owner[ev->slot].leg;
	if (l == NULL)
		return -ENOENT;
	st = &l->streams[s->owner[ev->slot].stream];
	if (st->leg_uid != ev->leg_uid && ev->leg_uid != 0)
		return -ENOENT;
	*ret_call = l->call;
	switch (ev->type) {
	case MR_EV_AUTH_FAIL:
		st->auth_failures += ev->value;
		break;
	case MR_EV_IDLE:
		/* One idle stream ends nothing while another one flows. */
		if (s->r->lock_fd >= 0 && media_idle(s, l->call, now_ms)) {
			end_with(s, l->call, MR_END_MEDIA_IDLE, cb, ctx);
			*ret_call = NULL;
		}
		break;
	default:
		break;
	}
	return 0;
}

unsigned int
mr_session_end_all(struct mr_session *s, mr_session_end_cb *cb, void *ctx)
{
	struct mr_call *c, *next;
	unsigned int n = 0;

	if (s->r->lock_fd < 0)
		return 0;
	for (c = s->head; c != NULL; c = next) {
		next = c->next;
		end_with(s, c, MR_END_SHUTDOWN, cb, ctx);
		n++;
	}
	return n;
}
