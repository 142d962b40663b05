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
 */
#include <rte_byteorder.h>
#include <rte_mbuf.h>

#include "dp.h"
#include "parse.h"
#include "rtp.h"
#include "srtp.h"

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

int
mr_crypt_ingress(struct mr_worker *w, const struct mr_flow *f, struct rte_mbuf *m,
		 struct mr_pkt_info *pi, uint8_t comp, struct mr_crypt_pkt *cp,
		 uint32_t *ret_ssrc)
{
	uint8_t *p = rte_pktmbuf_mtod_offset(m, uint8_t *, pi->payload_off);
	struct mr_leg_rt *rt = &mr_dp.rt[f->slot];
	uint32_t len = pi->payload_len, ssrc;
	enum mr_media_kind kind = mr_media_classify(p, len);
	unsigned int attempt;
	int s, r = -EBADMSG;
	uint8_t g;

	/* RFC 5761: only a muxed port carries both; a separate RTCP port only RTCP. */
	cp->rtcp = comp == MR_COMP_RTCP ||
		   ((f->flags & MR_LEG_F_RTCP_MUX) && kind == MR_MEDIA_RTCP);
	if (unlikely(kind != MR_MEDIA_RTP && kind != MR_MEDIA_RTCP))
		return MR_DROP_ERR(MR_DROP_NOT_RTP);
	if (unlikely(len < (cp->rtcp ? 8u : 12u)))
		return MR_DROP_ERR(MR_DROP_MALFORMED);
	ssrc = be32(p + (cp->rtcp ? 4 : 8));
	cp->index = cp->rtcp ? 0 : (uint32_t)(p[2] << 8 | p[3]);
	s = find_stream(f, ssrc);
	if (s < 0) {
		*ret_ssrc = ssrc;
		return MR_CRYPT_NEW_SSRC;
	}
	cp->stream = (uint8_t)s;
	cp->authenticated = false;
	cp->as_is = !f->out_keyed;
	if (f->in_gens == 0)
		return 0;       /* plain RTP from a PSTN leg */

	g = rt->cur_gen;
	for (attempt = 0; attempt < 2; attempt++, g ^= 1u) {
		struct mr_srtp_ctx *c = f->streams[s].in[g];
		bool as_is = (f->pass_gens >> g) & 1u;

		if (c == NULL)
			continue;
		if (as_is) {
			r = cp->rtcp ? mr_srtcp_verify(c, p, len, w->scratch, sizeof(w->scratch)) :
				       mr_srtp_verify(c, p, len, w->scratch, sizeof(w->scratch));
		} else if (f->in_gens == 3u && len <= sizeof(w->scratch)) {
			/*
			 * Two live generations (a key change): a failed GCM
			 * unprotect wipes the payload, so try on a copy and keep
			 * the packet intact for the other generation.
			 */
			uint32_t n = len;

			memcpy(w->scratch, p, len);
			r = cp->rtcp ? mr_srtcp_unprotect(c, w->scratch, &n) :
				       mr_srtp_unprotect(c, w->scratch, &n);
			if (r == 0) {
				memcpy(p, w->scratch, n);
				len = n;
			}
		} else {
			r = cp->rtcp ? mr_srtcp_unprotect(c, p, &len) :
				       mr_srtp_unprotect(c, p, &len);
		}
		if (r == 0) {
			cp->as_is = as_is;
			break;
		}
		if (r == -EALREADY)
			return MR_DROP_ERR(MR_DROP_SRTP_REPLAY);    /* the right key: no second try */
	}
	if (r != 0)
		return r == -EINVAL ? MR_DROP_ERR(MR_DROP_MALFORMED) : MR_DROP_ERR(MR_DROP_SRTP_AUTH);
	rt->cur_gen = g;
	cp->gen = g;
	cp->authenticated = true;
	if (cp->rtcp) {
		uint32_t roc;
		uint16_t seq;

		/* The context's highest SRTCP index rises exactly when this one does. */
		mr_srtp_ctx_state(f->streams[s].in[g], &roc, &seq, &cp->index);
	}
	pi->payload_len = (uint16_t)len;
	return 0;
}

int
mr_crypt_egress(struct mr_worker *w, const struct mr_flow *f, struct rte_mbuf *m,
		struct mr_pkt_info *pi, const struct mr_crypt_pkt *cp)
{
	struct mr_srtp_ctx *c = f->streams[cp->stream].out;
	uint32_t len = pi->payload_len, end, cap;
	uint8_t *p;
	int r;

	uint16_t off = mr_dp.rt[f->slot].seq_off[cp->stream];

	(void)w;
	if (cp->as_is || !f->out_keyed)
		return 0;       /* forwarded as it came, or decrypted towards a PSTN leg */
	if (unlikely(c == NULL))
		return MR_DROP_ERR(MR_DROP_NO_EGRESS);
	/* Room for the trailer: what follows the payload in the segment, and its tailroom. */
	end = (uint32_t)pi->payload_off + len;
	cap = len + (rte_pktmbuf_data_len(m) - end) + rte_pktmbuf_tailroom(m);
	p = rte_pktmbuf_mtod_offset(m, uint8_t *, pi->payload_off);
	if (off != 0 && !cp->rtcp) {
		/* Close the gap a mute left, so the receiver's ROC estimate holds. */
		uint16_t seq = (uint16_t)((p[2] << 8 | p[3]) - off);

		p[2] = (uint8_t)(seq >> 8);
		p[3] = (uint8_t)seq;
	}
	r = cp->rtcp ? mr_srtcp_protect(c, p, &len, cap) : mr_srtp_protect(c, p, &len, cap);
	if (unlikely(r != 0))
		return r == -EMSGSIZE ? MR_DROP_ERR(MR_DROP_NO_TAILROOM) :
		       r == -EALREADY ? MR_DROP_ERR(MR_DROP_SRTP_REPLAY) : MR_DROP_ERR(MR_DROP_MALFORMED);
	if (pi->payload_off + len > rte_pktmbuf_data_len(m) &&
	    rte_pktmbuf_append(m, (uint16_t)(pi->payload_off + len - rte_pktmbuf_data_len(m))) == NULL)
		return MR_DROP_ERR(MR_DROP_NO_TAILROOM);
	pi->payload_len = (uint16_t)len;
	return 0;
}

static void
fill_state(struct mr_ssrc_state *st, const struct mr_srtp_ctx *c, uint32_t ssrc)
{
	if (c == NULL) {
		memset(st, 0, sizeof(*st));
		return;
	}
	st->ssrc = ssrc;
	st->flags = MR_SSRC_F_VALID;
	/* Before its first packet a resumed context reports its resume point. */
	mr_srtp_ctx_state(c, &st->roc, &st->seq_hi, &st->srtcp_index);
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
	mr_srtp_ctx_state(s->out, NULL, NULL, &idx);
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
