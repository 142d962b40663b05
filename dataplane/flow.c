/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The forwarding table: turns control-side slots into flow entries and
 * publishes them to the workers. Management lcore only.
 *
 * Workers find a flow by (relay address, port) in an rte_hash with
 * lock-free readers, and a leg's egress by slot in by_slot[]. An entry is
 * never edited after publication: a changed slot gets a new entry, and the
 * old one (with deleted hash key positions) is freed here after an RCU grace
 * period (synchronize_rcu(): every worker has passed a quiescent state), so
 * an untouched leg never sees a table update at all.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_hash_crc.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <urcu-qsbr.h>

#include "dp.h"
#include "sbatch.h"
#include "slab.h"

RTE_LOG_REGISTER(mr_logtype_flow, user.mrelay.flow, INFO);
#define RTE_LOGTYPE_MR_FLOW mr_logtype_flow
#define FLOW_LOG(lvl, fmt, ...) RTE_LOG(lvl, MR_FLOW, fmt "\n", ##__VA_ARGS__)

static void flow_free(struct mr_flow *f);

/* Deferred frees, mgmt-private. */
static struct mr_flow *pending_flows;
static int32_t *pending_pos;
static size_t n_pending_pos, cap_pending_pos;
static uint8_t *quarantine;             /* slot removed, grace period pending */
static uint32_t *feeder_of;             /* slot -> the leg whose egress it is */

/*
 * The flow table's key is a whole struct mr_sockaddr (20 bytes; an IPv4
 * address leaves the rest of ip[] zero). rte_hash compares keys of that
 * size with memcmp(), a library call per lookup; three loads compare it
 * inline.
 */
static int
flow_key_cmp(const void *a, const void *b, size_t len)
{
	uint64_t a0, a1, b0, b1;
	uint32_t a2, b2;

	(void)len;
	memcpy(&a0, a, 8);
	memcpy(&a1, (const uint8_t *)a + 8, 8);
	memcpy(&a2, (const uint8_t *)a + 16, 4);
	memcpy(&b0, b, 8);
	memcpy(&b1, (const uint8_t *)b + 8, 8);
	memcpy(&b2, (const uint8_t *)b + 16, 4);
	return ((a0 ^ b0) | (a1 ^ b1) | (a2 ^ b2)) != 0;
}
_Static_assert(sizeof(struct mr_sockaddr) == 20, "flow_key_cmp compares 20 bytes");

int
mr_flow_init(struct mr_dp *dp)
{
	uint32_t legs = dp->shm->max_legs;
	struct rte_hash_parameters hp = {
		.name = "mr_flows",
		.entries = legs * 2u + legs / 4u + 64u,
		.key_len = sizeof(struct mr_sockaddr),
		.hash_func = rte_hash_crc,      /* SSE4.2 crc32 where the CPU has it */
		.socket_id = (int)rte_socket_id(),
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF |
			      RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};

	dp->flows = rte_hash_create(&hp);
	if (dp->flows != NULL)
		rte_hash_set_cmp_func(dp->flows, flow_key_cmp);
	dp->by_slot = rte_zmalloc("mr_by_slot", sizeof(*dp->by_slot) * legs, RTE_CACHE_LINE_SIZE);
	dp->rt = rte_zmalloc("mr_leg_rt", sizeof(*dp->rt) * legs, RTE_CACHE_LINE_SIZE);
	quarantine = calloc(legs, 1);
	feeder_of = malloc(sizeof(*feeder_of) * legs);
	if (feeder_of != NULL)
		memset(feeder_of, 0xff, sizeof(*feeder_of) * legs);
	if (dp->flows == NULL || dp->by_slot == NULL || dp->rt == NULL || quarantine == NULL ||
	    feeder_of == NULL) {
		FLOW_LOG(ERR, "cannot allocate the flow table for %u legs", legs);
		return -ENOMEM;
	}
	return 0;
}

void
mr_flow_fini(struct mr_dp *dp)
{
	uint32_t i;

	if (dp->by_slot != NULL && dp->shm != NULL)
		for (i = 0; i < dp->shm->max_legs; i++)
			flow_free(dp->by_slot[i]);
	for (struct mr_flow *f = pending_flows, *n; f != NULL; f = n) {
		n = f->free_next;
		flow_free(f);
	}
	pending_flows = NULL;
	rte_hash_free(dp->flows);
	rte_free(dp->by_slot);
	rte_free(dp->rt);
	free(pending_pos);
	free(quarantine);
	free(feeder_of);
}

/* Free a flow and the SRTP contexts it still owns; wipes its key copies. */
static void
flow_free(struct mr_flow *f)
{
	unsigned int i, g;

	if (f == NULL)
		return;
	for (i = 0; i < f->n_streams; i++) {
		struct mr_stream *st = &f->streams[i];

		for (g = 0; g < 2; g++)
			if (st->owns & MR_STREAM_OWNS_IN(g))
				mr_sctx_free(st->in[g]);
		if (st->owns & MR_STREAM_OWNS_OUT)
			mr_sctx_free(st->out);
	}
	explicit_bzero(f->in_keys, sizeof(f->in_keys));
	explicit_bzero(&f->out_key, sizeof(f->out_key));
	explicit_bzero(f->ice_pwd, sizeof(f->ice_pwd));
	mr_slab_free(f, sizeof(*f));
}

bool
mr_flow_reclaim_pending(const struct mr_dp *dp)
{
	(void)dp;
	return pending_flows != NULL || n_pending_pos != 0;
}

/* Free everything unpublished before now, once no worker can hold it. */
void
mr_flow_reclaim(struct mr_dp *dp)
{
	struct mr_flow *f, *n;
	size_t i;

	if (!mr_flow_reclaim_pending(dp))
		return;
	synchronize_rcu();
	for (f = pending_flows; f != NULL; f = n) {
		n = f->free_next;
		quarantine[f->slot] = 0;
		flow_free(f);
	}
	pending_flows = NULL;
	for (i = 0; i < n_pending_pos; i++)
		rte_hash_free_key_with_position(dp->flows, pending_pos[i]);
	n_pending_pos = 0;
}

static void
defer_key(struct mr_dp *dp, const struct mr_sockaddr *key)
{
	int32_t pos = rte_hash_del_key(dp->flows, key);

	if (pos < 0)
		return;
	if (n_pending_pos == cap_pending_pos) {
		size_t cap = cap_pending_pos ? cap_pending_pos * 2 : 1024;
		int32_t *p = realloc(pending_pos, cap * sizeof(*p));

		if (p == NULL) {
			/* Cannot defer: wait for the grace period right here. */
			synchronize_rcu();
			rte_hash_free_key_with_position(dp->flows, pos);
			return;
		}
		pending_pos = p;
		cap_pending_pos = cap;
	}
	pending_pos[n_pending_pos++] = pos;
}

static bool
uses_rtcp_key(const struct mr_flow *f)
{
	return !(f->flags & MR_LEG_F_RTCP_MUX);
}

/* Delete @key if it still leads to @f (as RTP or RTCP). */
static void
drop_key_of(struct mr_dp *dp, const struct mr_sockaddr *key, const struct mr_flow *f)
{
	void *data;

	if (rte_hash_lookup_data(dp->flows, key, &data) >= 0 &&
	    ((uintptr_t)data & ~(uintptr_t)1u) == (uintptr_t)f)
		defer_key(dp, key);
}

/*
 * Take @old out of the table and queue it for the grace period. Only keys
 * that still lead to it go: one the flow replacing it has added again
 * leads to that one now, in whichever role. Asking the table, rather than
 * comparing the two flows' addresses, keeps this right for every pair of
 * keys, even ones that compare equal as addresses but not as the table's
 * 20-byte keys: a key left behind would lead a worker to a freed flow.
 */
static void
unpublish(struct mr_dp *dp, struct mr_flow *old)
{
	drop_key_of(dp, &old->local, old);
	if (uses_rtcp_key(old))
		drop_key_of(dp, &old->local_rtcp, old);
	old->free_next = pending_flows;
	pending_flows = old;
	quarantine[old->slot] = 1;
}

void
mr_flow_remove(struct mr_dp *dp, uint32_t slot)
{
	struct mr_flow *old = dp->by_slot[slot];

	if (old == NULL)
		return;
	rcu_assign_pointer(dp->by_slot[slot], NULL);
	unpublish(dp, old);
}

static bool
key_invalid(const struct mr_key_gen *k)
{
	const struct mr_srtp_suite_info *si = mr_srtp_suite(k->suite);

	if (k->suite == MR_SUITE_NONE)
		return false;
	return si == NULL || k->key_len != si->key_len || k->salt_len != si->salt_len ||
	       k->mki_len > MR_MKI_MAX_BYTES;
}

static bool
in_keyed(const struct mr_leg_slot *s)
{
	return s->crypto_in.gen[0].suite != MR_SUITE_NONE ||
	       s->crypto_in.gen[1].suite != MR_SUITE_NONE;
}

/* ICE-lite credentials: non-empty, NUL-terminated within their fields. */
static bool
ice_invalid(const struct mr_ice *ice)
{
	size_t u = strnlen(ice->local_ufrag, sizeof(ice->local_ufrag));
	size_t p = strnlen(ice->local_pwd, sizeof(ice->local_pwd));

	return u == 0 || u == sizeof(ice->local_ufrag) || p == 0 || p == sizeof(ice->local_pwd);
}

/*
 * The flow table's key is the whole struct (flow_key_cmp()): an address in
 * another spelling than a parsed packet's (an IPv4 one with bytes past its
 * four, the pad byte set) would be a key no packet finds. region.c never
 * writes one; a stray writer might.
 */
static bool
addr_canonical(const struct mr_sockaddr *a)
{
	static const uint8_t zero[12];

	if (a->pad != 0)
		return false;
	if (a->family == MR_AF_INET)
		return memcmp(a->ip + 4, zero, sizeof(zero)) == 0;
	return a->family == MR_AF_INET6;
}

static const char *
refuse_reason(const struct mr_dp *dp, const struct mr_leg_slot *s, int *ret_port)
{
	uint16_t lp = rte_be_to_cpu_16(s->local.port_be);
	uint16_t rp = rte_be_to_cpu_16(s->local_rtcp_port_be);

	if (s->latch == MR_LATCH_INVALID || s->latch >= MR_LATCH_MAX)
		return "invalid latch policy";
	if (s->flags & ~MR_LEG_F_ALL)
		return "unknown flags";
	if (!addr_canonical(&s->local))
		return "local address malformed (bytes set past an IPv4 address, or in its padding)";
	*ret_port = mr_port_of_addr(dp, &s->local);
	if (*ret_port < 0)
		return "local address is not a relay address";
	if (lp < dp->cfg.port_min || lp > dp->cfg.port_max)
		return "local port outside the relay port range";
	if (!(s->flags & MR_LEG_F_RTCP_MUX) &&
	    (rp < dp->cfg.port_min || rp > dp->cfg.port_max || rp == lp))
		return "RTCP port outside the relay port range";
	if (s->egress_slot != MR_LEG_NONE && s->egress_slot >= dp->shm->max_legs)
		return "egress slot out of range";
	if (key_invalid(&s->crypto_in.gen[0]) || key_invalid(&s->crypto_in.gen[1]) ||
	    key_invalid(&s->crypto_out.gen[0]) || key_invalid(&s->crypto_out.gen[1]) ||
	    s->crypto_out.active > 1)
		return "SRTP key of an unknown suite or with wrong lengths";
	if ((s->flags & MR_LEG_F_ICE) && ice_invalid(&s->ice))
		return "ICE flag without an ice-ufrag and ice-pwd";
	/* Encryption is mandatory: plain RTP only on operator-marked PSTN legs. */
	if ((!in_keyed(s) || s->crypto_out.gen[s->crypto_out.active].suite == MR_SUITE_NONE) &&
	    !(s->flags & MR_LEG_F_PSTN))
		return "plain RTP on a leg not marked PSTN";
	return NULL;
}

/* Key of @k is free, or already ours. */
static bool
key_available(const struct mr_dp *dp, const struct mr_sockaddr *k, uint32_t slot)
{
	void *data;

	if (rte_hash_lookup_data(dp->flows, k, &data) < 0)
		return true;
	return ((const struct mr_flow *)((uintptr_t)data & ~(uintptr_t)1u))->slot == slot;
}

static void
build_flow(const struct mr_dp *dp, const struct mr_leg_slot *s, uint32_t slot, int port,
	   struct mr_flow *f)
{
	memset(f, 0, sizeof(*f));
	f->slot = slot;
	f->generation = s->generation;
	f->leg_uid = s->leg_uid;
	f->owner = (uint16_t)(slot % dp->n_workers);
	f->port = (uint16_t)port;
	f->latch = s->latch;
	f->dscp = s->dscp & 0x3f;
	f->flags = s->flags;
	f->egress_slot = s->egress_slot;
	f->latch_window_ms = s->latch_window_ms ? s->latch_window_ms : dp->cfg.latch_window_ms;
	f->relatch_idle_ms = s->relatch_idle_ms ? s->relatch_idle_ms : dp->cfg.relatch_idle_ms;
	f->idle_timeout_ms = s->idle_timeout_ms ? s->idle_timeout_ms : dp->cfg.media_idle_ms;
	f->relatch_auth_packets = dp->cfg.relatch_auth_packets;
	f->relatch_auth_quiet_ms = dp->cfg.relatch_auth_quiet_ms;
	f->local = s->local;
	f->local_rtcp = s->local;
	if (!(s->flags & MR_LEG_F_RTCP_MUX))
		f->local_rtcp.port_be = s->local_rtcp_port_be;
	f->peer_rtp = s->peer_rtp;
	f->peer_rtcp = s->peer_rtcp;
	if (s->flags & MR_LEG_F_ICE) {
		memcpy(f->ice_ufrag, s->ice.local_ufrag, sizeof(f->ice_ufrag));
		memcpy(f->ice_pwd, s->ice.local_pwd, sizeof(f->ice_pwd));
	}
	if (f->peer_rtcp.family == MR_AF_NONE && f->peer_rtp.family != MR_AF_NONE &&
	    !(s->flags & MR_LEG_F_RTCP_MUX)) {
		/* RFC 3550: RTCP on the next port unless signaled otherwise. */
		f->peer_rtcp = f->peer_rtp;
		f->peer_rtcp.port_be = rte_cpu_to_be_16(rte_be_to_cpu_16(f->peer_rtp.port_be) + 1u);
	}
}

/* Make the dp part describe this leg before any worker can see the flow. */
static void
prepare_dp_part(struct mr_dp *dp, const struct mr_flow *f, bool first_install)
{
	struct mr_leg_dp *p = mr_shm_leg_dp(dp->shm, f->slot);
	struct mr_leg_dp d;
	uint64_t now = mr_dp_now_ms();

	if (p->leg_uid != f->leg_uid) {
		unsigned int w;

		memset(&d, 0, sizeof(d));
		d.leg_uid = f->leg_uid;
		d.created_ms = now;
		d.owner_lcore = f->owner;
		mr_leg_dp_write(p, &d);
		memset(&dp->rt[f->slot], 0, sizeof(dp->rt[f->slot]));
		/*
		 * A new leg's counters start at zero. No worker writes this
		 * slot's rows now: the previous leg's flow is past its grace
		 * period and the new one is not published yet.
		 */
		for (w = 0; w < dp->shm->max_workers; w++)
			memset(mr_shm_counters(dp->shm, w, f->slot), 0, sizeof(struct mr_leg_counters));
		return;
	}
	if (first_install) {
		/*
		 * Resuming after a restart: the latched source is kept, and a
		 * new source must wait out relatch_idle_ms as if the latched
		 * one had just spoken, so a restart opens no hijack window.
		 */
		dp->rt[f->slot].last_rx_ms[MR_COMP_RTP] = now;
		dp->rt[f->slot].last_rx_ms[MR_COMP_RTCP] = now;
	}
	if (p->owner_lcore != f->owner) {
		d = *p;
		d.owner_lcore = f->owner;
		mr_leg_dp_write(p, &d);
	}
}

static bool
key_eq(const struct mr_key_gen *a, const struct mr_key_gen *b)
{
	return a->suite == b->suite && a->key_len == b->key_len && a->salt_len == b->salt_len &&
	       a->mki_len == b->mki_len && memcmp(a->mki, b->mki, sizeof(a->mki)) == 0 &&
	       memcmp(a->key, b->key, sizeof(a->key)) == 0 &&
	       memcmp(a->salt, b->salt, sizeof(a->salt)) == 0;
}

/*
 * The egress leg's outbound key decides what this direction does to each
 * packet (crypt.c). Read from the egress slot itself, so a flow always
 * matches the keys the control side last wrote for both legs.
 */
static void
build_crypto(const struct mr_dp *dp, const struct mr_leg_slot *s, struct mr_flow *f)
{
	struct mr_leg_slot e;
	unsigned int g;

	for (g = 0; g < 2; g++) {
		f->in_keys[g] = s->crypto_in.gen[g];
		if (f->in_keys[g].suite != MR_SUITE_NONE)
			f->in_gens |= (uint8_t)(1u << g);
	}
	if (s->egress_slot >= dp->shm->max_legs ||
	    mr_seq_read(&mr_shm_slot(dp->shm, s->egress_slot)->seq, &e,
			mr_shm_slot(dp->shm, s->egress_slot), sizeof(e)) < 0 ||
	    e.state != MR_LEG_ACTIVE || e.crypto_out.active > 1)
		goto out;
	f->egress_uid = e.leg_uid;
	f->out_key = e.crypto_out.gen[e.crypto_out.active];
	f->out_keyed = f->out_key.suite != MR_SUITE_NONE;
	for (g = 0; g < 2; g++)
		if (f->out_keyed && (f->in_gens & (1u << g)) && key_eq(&f->in_keys[g], &f->out_key))
			f->pass_gens |= (uint8_t)(1u << g);
out:
	explicit_bzero(&e, sizeof(e));
}

/*
 * Resume point the dp part holds for @ssrc, if any (ret->valid). An
 * outbound stream's SRTCP index skips MR_SRTCP_RESUME_SKIP past the stored
 * one: the packets sent since it was stored used the indexes right after it
 * (dp.h says why that many are enough).
 */
static void
resume_point(const struct mr_ssrc_state *tab, uint32_t ssrc, enum mr_srtp_dir dir,
	     struct mr_srtp_resume *r)
{
	unsigned int i;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < MR_LEG_SSRCS; i++)
		if ((tab[i].flags & MR_SSRC_F_VALID) && tab[i].ssrc == ssrc) {
			r->valid = true;
			r->roc = tab[i].roc;
			r->seq_hi = tab[i].seq_hi;
			r->srtcp_index = tab[i].srtcp_index;
			if (dir == MR_SRTP_OUTBOUND)
				r->srtcp_index += MR_SRTCP_RESUME_SKIP;
			return;
		}
}

static struct mr_sctx *
stream_ctx(struct mr_dp *dp, struct mr_stream *os, struct mr_sctx *old_ctx, uint8_t own_bit,
	   bool same_key, bool resume, const struct mr_key_gen *k, uint32_t ssrc,
	   enum mr_srtp_dir dir, const struct mr_ssrc_state *tab)
{
	struct mr_worker_stats *st = mr_shm_wstats(dp->shm, dp->shm->max_workers);
	struct mr_srtp_resume r = { 0 };
	struct mr_sctx *c;

	if (os != NULL && old_ctx != NULL && same_key && (os->owns & own_bit)) {
		os->owns &= (uint8_t)~own_bit;  /* handed over: the old flow no longer frees it */
		return old_ctx;
	}
	/*
	 * The dp part's resume point belongs to the key the leg had: a key the
	 * flow did not have before is a new crypto context and starts at ROC 0.
	 */
	if (resume)
		resume_point(tab, ssrc, dir, &r);
	c = mr_sctx_new(k, ssrc, dir, &r, dp->srtp_burst);
	if (c == NULL)
		FLOW_LOG(ERR, "SSRC %08x: cannot make an SRTP context (%s)", ssrc,
			 dp->srtp_burst && mr_smb_suite_supported(k->suite) ? mr_smb_last_error() :
									       "libsrtp");
	else if (c->engine == MR_ENGINE_MB)
		st->srtp_ctx_burst++;
	else
		st->srtp_ctx_libsrtp++;
	return c;
}

/*
 * After a restart, a re-keyed stream that was renumbered past a mute must
 * go on with the same offset, or its receiver would see the sequence jump
 * by the whole mute. The offset is not stored: both ends of the stream are,
 * written together, and their difference is the offset. It is the offset
 * of the last store: muted packets stop before mr_crypt_persist() (worker.c
 * drops them before the egress stage), so the part of a mute still going on
 * at the kill that came after the last store shows as a gap after the
 * restart, like the packets lost while the dataplane was down
 * (e2e-srtp-restart-mute measures both).
 */
static void
resume_renumbering(struct mr_dp *dp, const struct mr_flow *f, unsigned int i)
{
	const struct mr_leg_dp *d = mr_shm_leg_dp(dp->shm, f->slot);
	const struct mr_ssrc_state *in = NULL, *out = NULL;
	unsigned int j;

	if (f->in_gens == 0 || f->pass_gens != 0 || !f->out_keyed)
		return;
	for (j = 0; j < MR_LEG_SSRCS; j++) {
		if ((d->ssrc_in[j].flags & MR_SSRC_F_VALID) && d->ssrc_in[j].ssrc == f->streams[i].ssrc)
			in = &d->ssrc_in[j];
		if ((d->ssrc_out[j].flags & MR_SSRC_F_VALID) && d->ssrc_out[j].ssrc == f->streams[i].ssrc)
			out = &d->ssrc_out[j];
	}
	if (in != NULL && out != NULL)
		dp->rt[f->slot].seq_off[i] = (uint16_t)(in->seq_hi - out->seq_hi);
}

/*
 * Whether this direction ever protects with the egress leg's key: RTP from
 * a PSTN leg (no inbound key), or a packet that authenticated with an
 * inbound generation other than the egress key. When every inbound
 * generation is the egress key (pass-through), mr_crypt_ingress() marks
 * each packet as_is and mr_crypt_egress() never touches the outbound
 * context, so none is made: no allocation, no throwaway SRTCP protects on a
 * restart, and no resume point stored for a context that never sends.
 */
static bool
protects_out(const struct mr_flow *f)
{
	return f->out_keyed && (f->in_gens == 0 || (f->in_gens & ~f->pass_gens) != 0);
}

/*
 * Contexts for every SSRC the old flow had (carried over when the keys did
 * not change) plus @extra. Returns 0 or -ENOMEM (f owns what it built).
 */
static int
build_streams(struct mr_dp *dp, struct mr_flow *f, struct mr_flow *old, const uint32_t *extra)
{
	const struct mr_leg_dp *d = mr_shm_leg_dp(dp->shm, f->slot);
	uint32_t ssrcs[MR_LEG_SSRCS];
	unsigned int n = 0, i, g;

	/* First install in this process (a restart) resumes from the dp part. */
	bool same_leg = old != NULL && old->leg_uid == f->leg_uid;

	if (!mr_flow_crypto(f))
		return 0;
	if (same_leg) {
		for (i = 0; i < old->n_streams; i++)
			ssrcs[n++] = old->streams[i].ssrc;
	} else if (old == NULL) {
		/*
		 * Every stream the dp part remembers gets its contexts now. Left
		 * to its next packet, a paused stream would lose its resume point
		 * to the first mr_crypt_persist() of another stream of the leg
		 * (which writes the flow's streams only) and come back at ROC 0
		 * and SRTCP index 0.
		 */
		for (i = 0; i < MR_LEG_SSRCS; i++) {
			const struct mr_ssrc_state *st = (d->ssrc_out[i].flags & MR_SSRC_F_VALID) ?
							 &d->ssrc_out[i] : &d->ssrc_in[i];

			if (st->flags & MR_SSRC_F_VALID)
				ssrcs[n++] = st->ssrc;
		}
	}
	if (extra != NULL && n < MR_LEG_SSRCS) {
		for (i = 0; i < n && ssrcs[i] != *extra; i++)
			;
		if (i == n)
			ssrcs[n++] = *extra;
	}
	for (i = 0; i < n; i++) {
		struct mr_stream *ns = &f->streams[i], *os = NULL;
		unsigned int j;

		if (same_leg)
			for (j = 0; j < old->n_streams; j++)
				if (old->streams[j].ssrc == ssrcs[i])
					os = &old->streams[j];
		ns->ssrc = ssrcs[i];
		f->n_streams = (uint8_t)(i + 1);
		for (g = 0; g < 2; g++) {
			bool known;

			if (!(f->in_gens & (1u << g)))
				continue;
			known = same_leg && key_eq(&old->in_keys[g], &f->in_keys[g]);
			ns->in[g] = stream_ctx(dp, os, os ? os->in[g] : NULL, MR_STREAM_OWNS_IN(g),
					       known, !same_leg || known, &f->in_keys[g], ns->ssrc,
					       MR_SRTP_INBOUND, d->ssrc_in);
			if (ns->in[g] == NULL)
				return -ENOMEM;
			ns->owns |= MR_STREAM_OWNS_IN(g);
		}
		if (protects_out(f)) {
			bool known = same_leg && old->out_keyed && old->egress_uid == f->egress_uid &&
				     key_eq(&old->out_key, &f->out_key);

			ns->out = stream_ctx(dp, os, os ? os->out : NULL, MR_STREAM_OWNS_OUT, known,
					     !same_leg || known, &f->out_key, ns->ssrc,
					     MR_SRTP_OUTBOUND, d->ssrc_out);
			if (ns->out == NULL)
				return -ENOMEM;
			ns->owns |= MR_STREAM_OWNS_OUT;
		}
		if (old == NULL)
			resume_renumbering(dp, f, i);
	}
	return 0;
}

static int apply(struct mr_dp *dp, uint32_t slot, bool force, const uint32_t *extra_ssrc,
		 bool propagate);

/*
 * A direction's outbound crypto comes from its egress leg, so when a leg
 * changes (or goes), the leg feeding it is rebuilt too.
 */
static void
rebuild_feeder(struct mr_dp *dp, uint32_t slot)
{
	uint32_t feeder = feeder_of[slot];

	if (feeder < dp->shm->max_legs && dp->by_slot[feeder] != NULL &&
	    dp->by_slot[feeder]->egress_slot == slot)
		apply(dp, feeder, true, NULL, false);
}

/* Undo build_streams(): contexts carried over go back to @old. */
static void
give_back(struct mr_flow *old, struct mr_flow *f)
{
	unsigned int i, j, g;

	for (i = 0; old != NULL && i < f->n_streams; i++)
		for (j = 0; j < old->n_streams; j++) {
			struct mr_stream *ns = &f->streams[i], *os = &old->streams[j];

			for (g = 0; g < 2; g++)
				if (ns->in[g] != NULL && ns->in[g] == os->in[g]) {
					os->owns |= MR_STREAM_OWNS_IN(g);
					ns->owns &= (uint8_t)~MR_STREAM_OWNS_IN(g);
				}
			if (ns->out != NULL && ns->out == os->out) {
				os->owns |= MR_STREAM_OWNS_OUT;
				ns->owns &= (uint8_t)~MR_STREAM_OWNS_OUT;
			}
		}
}

static int
apply(struct mr_dp *dp, uint32_t slot, bool force, const uint32_t *extra_ssrc, bool propagate)
{
	struct mr_worker_stats *st = mr_shm_wstats(dp->shm, dp->shm->max_workers);
	struct mr_flow *old = dp->by_slot[slot], *f;
	struct mr_leg_slot s;
	const char *why;
	int port = -1, r;

	if (mr_seq_read(&mr_shm_slot(dp->shm, slot)->seq, &s, mr_shm_slot(dp->shm, slot),
			sizeof(s)) < 0) {
		struct mr_event ev;

		/* The writer died mid-write: skip the slot and tell the control
		 * side, which repairs it and asks for a rescan. */
		st->torn_slots++;
		memset(&ev, 0, sizeof(ev));
		ev.type = MR_EV_SLOT_TORN;
		ev.slot = slot;
		mr_mgmt_post_event(dp, &ev);
		return -EAGAIN;
	}
	if (s.state != MR_LEG_ACTIVE) {
		mr_flow_remove(dp, slot);
		if (propagate)
			rebuild_feeder(dp, slot);
		r = 0;
		goto out;
	}
	r = 0;
	if (!force && old != NULL && old->generation == s.generation && old->leg_uid == s.leg_uid)
		goto out;       /* already applied: commands are idempotent */
	why = refuse_reason(dp, &s, &port);
	if (why == NULL && !key_available(dp, &s.local, slot))
		why = "local address and port used by another leg";
	if (why != NULL) {
		FLOW_LOG(WARNING, "leg %u (call %" PRIx64 "): refused: %s", slot, s.call_tag, why);
		mr_flow_remove(dp, slot);
		r = -EINVAL;
		goto out;
	}
	/*
	 * A reused slot must not share state with another leg still in flight
	 * (the same leg's own earlier flow is harmless): wait for the grace
	 * period first. The caller batches these, so one
	 * synchronize_rcu() serves many reused slots.
	 */
	if ((old != NULL && old->leg_uid != s.leg_uid) ||
	    (quarantine[slot] && mr_shm_leg_dp(dp->shm, slot)->leg_uid != s.leg_uid)) {
		mr_flow_remove(dp, slot);
		r = -EBUSY;
		goto out;
	}
	r = -ENOMEM;
	f = mr_slab_alloc(sizeof(*f));
	if (f == NULL) {
		st->alloc_failures++;
		FLOW_LOG(ERR, "leg %u (call %" PRIx64 "): no memory for its flow entry: %s", slot,
			 s.call_tag, old != NULL ? "the previous one stays" : "not installed");
		goto out;
	}
	build_flow(dp, &s, slot, port, f);
	build_crypto(dp, &s, f);
	if (!(f->flags & MR_LEG_F_RTCP_MUX) && !key_available(dp, &f->local_rtcp, slot)) {
		FLOW_LOG(WARNING, "leg %u: refused: RTCP port used by another leg", slot);
		flow_free(f);
		mr_flow_remove(dp, slot);
		r = -EINVAL;
		goto out;
	}
	prepare_dp_part(dp, f, old == NULL);
	if (build_streams(dp, f, old, extra_ssrc) < 0) {
		st->alloc_failures++;
		FLOW_LOG(ERR, "leg %u (call %" PRIx64 "): cannot create SRTP contexts: %s", slot,
			 s.call_tag, old != NULL ? "the previous flow stays" : "not installed");
		give_back(old, f);
		flow_free(f);
		r = -ENOMEM;
		goto out;
	}
	if (rte_hash_add_key_data(dp->flows, &f->local, f) < 0 ||
	    (!(f->flags & MR_LEG_F_RTCP_MUX) &&
	     rte_hash_add_key_data(dp->flows, &f->local_rtcp, (void *)((uintptr_t)f | 1u)) < 0)) {
		/* Cannot happen with the table sized for every leg; if it
		 * does, the leg is removed whole rather than half-installed. */
		FLOW_LOG(ERR, "leg %u: flow table full, leg removed", slot);
		rcu_assign_pointer(dp->by_slot[slot], NULL);
		if (old != NULL)
			unpublish(dp, old);
		unpublish(dp, f);
		r = -ENOSPC;
		goto out;
	}
	rcu_assign_pointer(dp->by_slot[slot], f);
	if (old != NULL)
		unpublish(dp, old);
	if (f->egress_slot < dp->shm->max_legs)
		feeder_of[f->egress_slot] = slot;
	st->cmds_applied++;
	if (propagate)
		rebuild_feeder(dp, slot);
	r = 0;
out:
	explicit_bzero(&s, sizeof(s));  /* the copy held keys */
	return r;
}

int
mr_flow_apply(struct mr_dp *dp, uint32_t slot)
{
	return apply(dp, slot, false, NULL, true);
}

int
mr_flow_add_ssrc(struct mr_dp *dp, uint32_t slot, uint32_t ssrc)
{
	int r = apply(dp, slot, true, &ssrc, false);

	if (r == -EBUSY) {
		mr_flow_reclaim(dp);
		r = apply(dp, slot, true, &ssrc, false);
	}
	return r;
}

void
mr_flow_rescan(struct mr_dp *dp)
{
	uint32_t i;

	for (i = 0; i < dp->shm->max_legs; i++) {
		const struct mr_leg_slot *s = mr_shm_slot(dp->shm, i);

		if ((__atomic_load_n(&s->state, __ATOMIC_RELAXED) == MR_LEG_ACTIVE ||
		     dp->by_slot[i] != NULL || mr_seq_is_odd(&s->seq)) &&
		    mr_flow_apply(dp, i) == -EBUSY) {
			mr_flow_reclaim(dp);
			mr_flow_apply(dp, i);
		}
	}
}
