/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The SRTP stage of the packet path (worker lcores, the leg's owner only).
 *
 * Per packet the direction "this leg -> egress leg" does one of:
 *  - plain (PSTN to PSTN): nothing;
 *  - pass-through (the egress leg's outbound key is the inbound key that
 *    authenticated the packet): verify in scratch, forward the bytes as is;
 *  - re-key: unprotect with this leg's key, protect with the egress leg's;
 *  - RTP -> SRTP (a PSTN leg feeding an SRTP leg): protect only;
 *  - SRTP -> RTP (an SRTP leg feeding a PSTN leg): unprotect only.
 * Inbound, both key generations are accepted (make-before-break): the one
 * that last authenticated is tried first. A packet that fails
 * authentication or the replay check is dropped here, before the latch, so
 * it can never latch or move a latched source.
 *
 * Contexts exist per SSRC and are created by the management lcore (they
 * allocate): a packet of an SSRC the flow does not know yet is handed there
 * (MR_CRYPT_NEW_SSRC) and comes back once its contexts are published.
 *
 * The worker runs the crypto of a whole burst at once (sbatch.h): *_prep()
 * turns a packet into an operation (MR_CRYPT_OP), the worker runs them all,
 * *_done() reads the result. A packet the first key generation does not
 * authenticate comes back from mr_crypt_in_done() as a second operation,
 * for the other generation, on the same untouched bytes.
 */
#include <rte_byteorder.h>
#include <rte_mbuf.h>

#include "dp.h"
#include "parse.h"
#include "rtp.h"
#include "sbatch.h"

static inline uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int
find_stream(const struct mr_flow *f, uint32_t ssrc)
{
	unsigned int i;

	for (i = 0; i < f->n_streams; i++)
		if (f->streams[i].ssrc == ssrc)
			return (int)i;
	return -1;
}

static void
in_op(const struct mr_flow *f, const struct mr_crypt_pkt *cp, uint8_t *p, uint32_t len,
      struct mr_sop *op)
{
	op->ctx = f->streams[cp->stream].in[cp->gen];
	op->pkt = p;
	op->len = len;
	op->cap = len;
	op->rtcp = cp->rtcp;
	op->kind = ((f->pass_gens >> cp->gen) & 1u) ? MR_SOP_VERIFY : MR_SOP_UNPROTECT;
}

int
mr_crypt_in_prep(const struct mr_flow *f, struct rte_mbuf *m, const struct mr_pkt_info *pi,
		 uint8_t comp, struct mr_crypt_pkt *cp, struct mr_sop *op, uint32_t *ret_ssrc)
{
	uint8_t *p = rte_pktmbuf_mtod_offset(m, uint8_t *, pi->payload_off);
	uint32_t len = pi->payload_len, ssrc;
	enum mr_media_kind kind = mr_media_classify(p, len);
	uint8_t g;
	int s;

	/* RFC 5761: only a muxed port carries both; a separate RTCP port only RTCP. */
	cp->rtcp = comp == MR_COMP_RTCP ||
		   ((f->flags & MR_LEG_F_RTCP_MUX) && kind == MR_MEDIA_RTCP);
	if (unlikely(kind != MR_MEDIA_RTP && kind != MR_MEDIA_RTCP))
		return MR_DROP_ERR(MR_DROP_NOT_RTP);
	if (unlikely(len < (cp->rtcp ? 8u : 12u)))
		return MR_DROP_ERR(MR_DROP_MALFORMED);
	ssrc = be32(p + (cp->rtcp ? 4 : 8));
	*ret_ssrc = ssrc;
	cp->index = cp->rtcp ? 0 : (uint32_t)(p[2] << 8 | p[3]);
	s = find_stream(f, ssrc);
	if (s < 0)
		return MR_CRYPT_NEW_SSRC;
	cp->stream = (uint8_t)s;
	cp->authenticated = false;
	cp->as_is = !f->out_keyed;
	cp->tries = 0;
	if (f->in_gens == 0)
		return 0;       /* plain RTP from a PSTN leg */
	/* The generation that last authenticated first (make-before-break). */
	g = mr_dp.rt[f->slot].cur_gen;
	if (f->streams[s].in[g] == NULL)
		g ^= 1u;
	if (unlikely(f->streams[s].in[g] == NULL))
		return MR_DROP_ERR(MR_DROP_SRTP_AUTH);
	cp->gen = g;
	cp->tries = 1;
	in_op(f, cp, p, len, op);
	return MR_CRYPT_OP;
}

int
mr_crypt_in_done(const struct mr_flow *f, struct mr_pkt_info *pi, struct mr_crypt_pkt *cp,
		 struct mr_sop *op)
{
	struct mr_leg_rt *rt = &mr_dp.rt[f->slot];

	if (op->status == 0) {
		rt->cur_gen = cp->gen;
		cp->as_is = op->kind == MR_SOP_VERIFY;
		cp->authenticated = true;
		if (cp->rtcp) {
			uint32_t roc;
			uint16_t seq;

			/* The context's highest SRTCP index rises exactly when this one does. */
			mr_sctx_state(op->ctx, &roc, &seq, &cp->index);
		}
		pi->payload_len = (uint16_t)op->len;
		return 0;
	}
	if (op->status == -EALREADY)
		return MR_DROP_ERR(MR_DROP_SRTP_REPLAY);        /* the right key: no second try */
	if (op->status == -EBADMSG && cp->tries == 1 &&
	    f->streams[cp->stream].in[cp->gen ^ 1u] != NULL) {
		/* Not this generation's key: the other one, on the untouched bytes. */
		cp->gen ^= 1u;
		cp->tries = 2;
		in_op(f, cp, op->pkt, op->len, op);
		return MR_CRYPT_OP;
	}
	return op->status == -EBADMSG ? MR_DROP_ERR(MR_DROP_SRTP_AUTH) :
					MR_DROP_ERR(MR_DROP_MALFORMED);
}

int
mr_crypt_out_prep(const struct mr_flow *f, struct rte_mbuf *m, const struct mr_pkt_info *pi,
		  const struct mr_crypt_pkt *cp, struct mr_sop *op)
{
	uint32_t len = pi->payload_len, end;
	uint16_t off;
	uint8_t *p;

	if (cp->as_is || !f->out_keyed)
		return 0;       /* forwarded as it came, or decrypted towards a PSTN leg */
	op->ctx = f->streams[cp->stream].out;
	if (unlikely(op->ctx == NULL))
		return MR_DROP_ERR(MR_DROP_NO_EGRESS);
	p = rte_pktmbuf_mtod_offset(m, uint8_t *, pi->payload_off);
	off = mr_dp.rt[f->slot].seq_off[cp->stream];
	if (off != 0 && !cp->rtcp) {
		/* Close the gap a mute left, so the receiver's ROC estimate holds. */
		uint16_t seq = (uint16_t)((p[2] << 8 | p[3]) - off);

		p[2] = (uint8_t)(seq >> 8);
		p[3] = (uint8_t)seq;
	}
	/* Room for the trailer: what follows the payload in the segment, and its tailroom. */
	end = (uint32_t)pi->payload_off + len;
	op->pkt = p;
	op->len = len;
	op->cap = len + (rte_pktmbuf_data_len(m) - end) + rte_pktmbuf_tailroom(m);
	op->kind = MR_SOP_PROTECT;
	op->rtcp = cp->rtcp;
	return MR_CRYPT_OP;
}

int
mr_crypt_out_done(struct rte_mbuf *m, struct mr_pkt_info *pi, const struct mr_sop *op)
{
	if (unlikely(op->status != 0))
		return op->status == -EMSGSIZE ? MR_DROP_ERR(MR_DROP_NO_TAILROOM) :
		       op->status == -EALREADY ? MR_DROP_ERR(MR_DROP_SRTP_REPLAY) :
						 MR_DROP_ERR(MR_DROP_MALFORMED);
	if (pi->payload_off + op->len > rte_pktmbuf_data_len(m) &&
	    rte_pktmbuf_append(m, (uint16_t)(pi->payload_off + op->len - rte_pktmbuf_data_len(m))) ==
		    NULL)
		return MR_DROP_ERR(MR_DROP_NO_TAILROOM);
	pi->payload_len = (uint16_t)op->len;
	return 0;
}

static void
fill_state(struct mr_ssrc_state *st, const struct mr_sctx *c, uint32_t ssrc)
{
	if (c == NULL) {
		memset(st, 0, sizeof(*st));
		return;
	}
	st->ssrc = ssrc;
	st->flags = MR_SSRC_F_VALID;
	mr_sctx_state(c, &st->roc, &st->seq_hi, &st->srtcp_index);
}

/*
 * The outbound SRTCP index of @s is MR_SRTCP_PERSIST_STEP or more past the
 * one @p holds for it, or @p holds none (dp.h: the resume bound).
 */
static bool
srtcp_out_due(const struct mr_leg_dp *p, const struct mr_stream *s)
{
	uint32_t idx;
	unsigned int i;

	if (s->out == NULL)
		return false;
	mr_sctx_state(s->out, NULL, NULL, &idx);
	for (i = 0; i < MR_LEG_SSRCS; i++)
		if ((p->ssrc_out[i].flags & MR_SSRC_F_VALID) && p->ssrc_out[i].ssrc == s->ssrc)
			return idx - p->ssrc_out[i].srtcp_index >= MR_SRTCP_PERSIST_STEP;
	return true;
}

/*
 * Write the SRTP resume point of every stream of this direction to the
 * leg's dp part, so a restarted dataplane neither reuses keystream nor
 * fails authentication: when a sequence number wrapped (the ROC moved),
 * when an outbound SRTCP index got MR_SRTCP_PERSIST_STEP past the stored
 * one (dp.h), and at least every second. A restart resumes from the
 * stored (ROC, seq_hi) even if the stream wrapped again meanwhile (srtp.c
 * estimates the first packet's ROC), as long as it moved less than 2^15.
 */
void
mr_crypt_persist(struct mr_worker *w, const struct mr_flow *f, const struct mr_crypt_pkt *cp)
{
	struct mr_leg_rt *rt = &mr_dp.rt[f->slot];
	struct mr_leg_dp *p = mr_shm_leg_dp(mr_dp.shm, f->slot), d;
	uint16_t seq = 0;
	bool due = false;
	unsigned int i;

	if (!cp->rtcp) {
		uint16_t last = rt->last_seq[cp->stream], off = rt->seq_off[cp->stream];

		seq = (uint16_t)cp->index;
		/* The inbound stream wrapped, or the renumbered outbound one did. */
		due = (seq < last && (uint16_t)(last - seq) > 0x8000u) ||
		      ((uint16_t)(seq - off) < (uint16_t)(last - off) &&
		       (uint16_t)((last - off) - (seq - off)) > 0x8000u);
		rt->last_seq[cp->stream] = seq;
	} else if (!cp->as_is) {
		/* RTCP is rare: this read of our own dp part costs nothing. */
		due = srtcp_out_due(p, &f->streams[cp->stream]);
	}
	if (!due && w->now_ms - rt->persist_ms < 1000u)
		return;
	rt->persist_ms = w->now_ms;
	d = *p;
	for (i = 0; i < MR_LEG_SSRCS; i++) {
		const struct mr_stream *s = &f->streams[i];

		if (i >= f->n_streams) {
			memset(&d.ssrc_in[i], 0, sizeof(d.ssrc_in[i]));
			memset(&d.ssrc_out[i], 0, sizeof(d.ssrc_out[i]));
			continue;
		}
		fill_state(&d.ssrc_in[i], s->in[rt->cur_gen] ? s->in[rt->cur_gen] : s->in[rt->cur_gen ^ 1u],
			   s->ssrc);
		fill_state(&d.ssrc_out[i], s->out, s->ssrc);
	}
	mr_leg_dp_write(p, &d);
}
