/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SRTP and SRTCP for one stream on libsrtp2 (see srtp.h for the contract).
 * Written against libsrtp 2.5.0 as Debian ships it (NSS crypto backend);
 * every behaviour relied on below was read in that release's srtp/srtp.c.
 *
 * Choices the header leaves open:
 *
 *  - One srtp_t per context, with one ssrc_specific policy: a packet of
 *    another SSRC finds no stream (-EINVAL), and no wildcard template ever
 *    allocates a stream on the packet path. The direction is fixed at
 *    creation: protect on an inbound context (or unprotect/verify on an
 *    outbound one) is refused with -EINVAL, which also keeps libsrtp's
 *    SSRC-collision event from firing.
 *
 *  - Replay window 1024 packets (libsrtp's default is 128). Video bursts,
 *    RSS moves and the owner-lcore handoff ring reorder by more than 128
 *    packets at high rates; 1024 is about one second of 1000 pps video and
 *    costs 128 bytes of bitmap per context.
 *
 *  - allow_repeat_tx = 0. The relay re-protects what peers send; a second
 *    packet with an already used sequence number (a peer's retransmission
 *    with the same seq, a duplicated plain-RTP packet from a PSTN leg) may
 *    carry a different payload, and protecting it with the same key and
 *    index would reuse keystream. Such a packet is refused (-EALREADY) and
 *    counted by the caller; the receiver's replay check would drop it anyway.
 *
 *  - KDR 0 (libsrtp's only supported value); keys are key || salt as
 *    libsrtp expects, built on the stack and wiped after srtp_create(). The
 *    context keeps no copy of the master key: libsrtp keeps only the
 *    derived session keys, which srtp_dealloc() releases. The context is
 *    zeroed before it is freed (it holds the MKI).
 *
 *  - MKI (mki_len > 0): one srtp_master_key_t with that MKI, protected with
 *    use_mki = 1 / mki_index 0, unprotected with use_mki = 1 (libsrtp then
 *    looks the MKI up in the packet and answers srtp_err_status_bad_mki
 *    when it is not ours; packets without an MKI fail the same way or fail
 *    authentication). An unknown MKI maps to -EBADMSG, not -EINVAL: it
 *    means "not made with this context's key", which is what the caller
 *    trying the other key generation (make-before-break) needs to know.
 *    libsrtp 2.5 locates the MKI of an SRTCP packet from the *RTP* tag
 *    length (srtp_get_session_keys(); fixed upstream by cisco/libsrtp
 *    PR #733/#737, Dec 2024), so with the _32 suites (4-byte SRTP tag,
 *    10-byte SRTCP tag) it looks six bytes too far right and rejects every
 *    MKI-carrying SRTCP packet. For exactly that case the MKI is checked
 *    here, the tag is slid down over it (the MKI is not authenticated,
 *    RFC 3711 3.4) and the packet is unprotected without MKI lookup, using
 *    the same (only) master key; on failure the trailer is put back.
 *
 *  - Resuming SRTP (@resume: the stored roc and seq_hi). libsrtp 2.5 has
 *    one way in: srtp_set_stream_roc(), which only sets stream->pending_roc
 *    (no allocation), and the next packet processed is taken to have that
 *    ROC (srtp_get_est_pkt_index(); pending_roc 0 means "none", and the
 *    fresh replay database then estimates ROC 0). Set at creation it would
 *    be wrong whenever the sequence number wrapped after seq_hi was stored
 *    (the stream went on while the dataplane was down, or the process died
 *    between a wrap and its persist): the first packet's true ROC is then
 *    roc + 1, inbound every packet fails authentication and outbound the
 *    first packet would reuse the keystream of an index sent long ago. So
 *    nothing is set at creation; instead, until an RTP packet passes, each
 *    one's ROC is estimated against (roc, seq_hi) as RFC 3711 3.3.1 does
 *    (roc - 1, roc or roc + 1) and handed to srtp_set_stream_roc() right
 *    before libsrtp sees the packet. libsrtp keeps the pending ROC until a
 *    packet authenticates (srtp_unprotect_mki() clears it only on success),
 *    and the estimate is redone on every attempt, so a forged packet whose
 *    sequence number suggests another ROC fixes nothing: the next genuine
 *    packet sets its own. The estimate is right while the first packet
 *    after the restart is within 2^15 packets of the stored seq_hi, the
 *    same limit every SRTP receiver has across a loss.
 *
 *    Outbound, after a resume, libsrtp's replay database starts empty, so
 *    it would protect again an index the previous process already sent
 *    (a duplicate, or a late packet). Every index at or below the resume
 *    point is therefore refused (-EALREADY), as libsrtp itself refuses a
 *    repeat (allow_repeat_tx = 0, below) or anything older than its window
 *    in a running process. Inbound takes such packets (below).
 *
 *  - Resuming SRTCP outbound (@resume->srtcp_index): libsrtp 2.5 has no
 *    public way to set the SRTCP index (it lives in the private
 *    stream->rtcp_rdb; cisco/libsrtp issue #769 asks for one), and
 *    restarting at index 1 with the same key would reuse keystream and be
 *    dropped as replays by the peer. So the index is fast-forwarded through
 *    the public API: srtcp_index minimal RTCP packets are protected into a
 *    stack buffer and discarded (each call advances libsrtp's counter by
 *    one; no output leaves), so the first real packet carries srtcp_index +
 *    1. The caller adds whatever margin its store needs (flow.c). Cost is
 *    linear, about 2 us per index with Debian's NSS build, so it is
 *    bounded: above MR_SRTCP_RESUME_MAX mr_srtp_ctx_new() fails (NULL)
 *    rather than reuse keystream, and the control side must re-key.
 *    Inbound, srtcp_index is only the starting point of the reported state:
 *    libsrtp's SRTCP replay database restarts empty, so after a restart
 *    SRTCP packets with an index at or below the stored one are accepted
 *    once each until a newer packet moves the window (likewise SRTP within
 *    the replay window).
 *
 *  - State: the highest RTP index (ROC, seq) is tracked here on every
 *    success, each packet's ROC estimated as above, which is how libsrtp
 *    estimates too (srtp_index_guess() is RFC 3711 3.3.1; the unit tests
 *    compare the two across the wrap and across resumes). libsrtp's own
 *    (srtp_get_stream_roc()) is not used: after a resume its index starts
 *    at the first packet, which may be older than the resume point
 *    (reordering), and a persist must never write back less than was
 *    resumed from. Before a packet passes, the state is the resume point.
 *    The SRTCP index is the highest E|index word seen in packets protected
 *    or unprotected.
 *
 *  - Errors: srtp_err_status_auth_fail and bad_mki -> -EBADMSG;
 *    replay_fail, replay_old and pkt_idx_old -> -EALREADY; anything else
 *    (parse_err, bad_param, no_ctx, cipher_fail, key_expired at SRTCP index
 *    2^31 - 1, ...) -> -EINVAL. Lengths are checked here first: a packet
 *    shorter than its header plus trailer, or longer than 65535 bytes, is
 *    -EINVAL without reaching libsrtp.
 *
 *  - A failed unprotect leaves the packet as it was with the AES-CM suites
 *    (libsrtp authenticates before it decrypts). With the AEAD suites it
 *    does not: libsrtp decrypts in place through NSS's PK11_Decrypt(),
 *    which clears the plaintext it wrote when the tag does not match, so
 *    only the header and trailer survive (the unit tests pin both). A
 *    caller that may try a second context on the same packet (the other
 *    key generation, make-before-break) must try the first one with
 *    mr_srtp_verify()/mr_srtcp_verify(), which never touch the packet.
 *
 * Packet path: nothing here allocates, locks or logs. libsrtp itself is
 * another matter: its NSS backend creates a PKCS#11 context on every
 * srtp_cipher_set_iv() (and an HMAC digest context per packet), so each
 * packet costs heap allocations inside NSS (valgrind counts about 14 per
 * AES-CM and 5 per AES-GCM protect or unprotect). Only another libsrtp
 * build (or the later burst engine) removes that. libsrtp also reads the
 * RTP/RTCP header through uint32_t pointers: @pkt should be 4-byte aligned
 * (x86 tolerates less).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <srtp2/srtp.h>

#include "srtp.h"

#define MR_SRTP_WINDOW 1024u            /* replay window, packets */
#define MR_SRTCP_RESUME_MAX (1u << 20)  /* SRTCP fast-forward bound, ~2 s */
#define MR_SRTP_LEN_MAX 0xffffu         /* no UDP payload is longer */

#define MR_RTP_HDR_LEN 12u
#define MR_RTCP_HDR_LEN 8u
#define MR_SRTCP_INDEX_LEN 4u
#define MR_SRTCP_INDEX_MASK 0x7fffffffu  /* 31-bit SRTCP index */

struct mr_srtp_ctx {
	srtp_t s;               /* RO after new; the owner worker's alone */
	uint32_t ssrc;
	uint8_t dir;            /* enum mr_srtp_dir */
	uint8_t mki_len;
	uint8_t rtp_trailer;    /* MKI + SRTP tag */
	uint8_t rtcp_trailer;   /* E|index + MKI + SRTCP tag */
	uint8_t rtcp_index_end; /* bytes from the E|index word to the end */
	bool rtcp_mki_fixup;    /* libsrtp 2.5 _32 + MKI SRTCP lookup bug */
	bool roc_pending;       /* resumed, no RTP packet passed yet: set each one's ROC */
	bool floor_set;         /* outbound resumed: refuse indexes <= floor */
	uint8_t rtcp_tag_len;
	uint16_t seq_hi;        /* highest RTP index: seq */
	uint32_t roc;           /* highest RTP index: ROC */
	uint64_t floor;         /* resume point as a 48-bit index (outbound) */
	uint32_t srtcp_index;   /* highest SRTCP index */
	uint8_t mki[MR_MKI_MAX_BYTES];
};

static const struct mr_srtp_suite_info suites[MR_SUITE_MAX] = {
	[MR_SUITE_AES_CM_128_HMAC_SHA1_80] = { "AES_CM_128_HMAC_SHA1_80", 16, 14, 10, 10 },
	[MR_SUITE_AES_CM_128_HMAC_SHA1_32] = { "AES_CM_128_HMAC_SHA1_32", 16, 14, 4, 10 },
	[MR_SUITE_AES_256_CM_HMAC_SHA1_80] = { "AES_256_CM_HMAC_SHA1_80", 32, 14, 10, 10 },
	[MR_SUITE_AES_256_CM_HMAC_SHA1_32] = { "AES_256_CM_HMAC_SHA1_32", 32, 14, 4, 10 },
	[MR_SUITE_AEAD_AES_128_GCM] = { "AEAD_AES_128_GCM", 16, 12, 16, 16 },
	[MR_SUITE_AEAD_AES_256_GCM] = { "AEAD_AES_256_GCM", 32, 12, 16, 16 },
};

static bool srtp_ready;         /* mgmt lcore only */

const struct mr_srtp_suite_info *
mr_srtp_suite(uint8_t suite)
{
	if (suite >= MR_SUITE_MAX || suites[suite].name == NULL)
		return NULL;
	return &suites[suite];
}

uint8_t
mr_srtp_suite_by_name(const char *name)
{
	uint8_t i;

	if (name == NULL)
		return MR_SUITE_NONE;
	for (i = 0; i < MR_SUITE_MAX; i++)
		if (suites[i].name != NULL && strcmp(suites[i].name, name) == 0)
			return i;
	return MR_SUITE_NONE;
}

static bool
is_aead(uint8_t suite)
{
	return suite == MR_SUITE_AEAD_AES_128_GCM || suite == MR_SUITE_AEAD_AES_256_GCM;
}

/*
 * Dropped on purpose: libsrtp's messages can carry key material when its
 * debug modules are on, and the dataplane never logs keys. A later change
 * routes them to rte_log at debug level.
 */
static void
drop_log(srtp_log_level_t level, const char *msg, void *data)
{
	(void)level;
	(void)msg;
	(void)data;
}

int
mr_srtp_init(void)
{
	if (srtp_ready)
		return 0;
	if (srtp_init() != srtp_err_status_ok)
		return -EIO;
	if (srtp_install_log_handler(drop_log, NULL) != srtp_err_status_ok)
		return -EIO;
	srtp_ready = true;
	return 0;
}

static int
map_err(srtp_err_status_t st)
{
	switch (st) {
	case srtp_err_status_ok:
		return 0;
	case srtp_err_status_auth_fail:
	case srtp_err_status_bad_mki:
		return -EBADMSG;
	case srtp_err_status_replay_fail:
	case srtp_err_status_replay_old:
	case srtp_err_status_pkt_idx_old:
		return -EALREADY;
	default:
		return -EINVAL;
	}
}

static void
set_policy(uint8_t suite, srtp_crypto_policy_t *rtp, srtp_crypto_policy_t *rtcp)
{
	switch (suite) {
	case MR_SUITE_AES_CM_128_HMAC_SHA1_80:
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(rtcp);
		break;
	case MR_SUITE_AES_CM_128_HMAC_SHA1_32:
		/* RFC 4568 6.2.1: SRTCP keeps the 80-bit tag. */
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(rtcp);
		break;
	case MR_SUITE_AES_256_CM_HMAC_SHA1_80:
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(rtp);
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(rtcp);
		break;
	case MR_SUITE_AES_256_CM_HMAC_SHA1_32:
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_32(rtp);
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(rtcp);
		break;
	case MR_SUITE_AEAD_AES_128_GCM:
		srtp_crypto_policy_set_aes_gcm_128_16_auth(rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(rtcp);
		break;
	case MR_SUITE_AEAD_AES_256_GCM:
		srtp_crypto_policy_set_aes_gcm_256_16_auth(rtp);
		srtp_crypto_policy_set_aes_gcm_256_16_auth(rtcp);
		break;
	}
}

static inline uint16_t
rd_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t
rd_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * RFC 3711 3.3.1: the ROC of a packet with sequence number @seq, given the
 * highest index so far, (@roc, @s_l). There is no ROC below 0 (libsrtp
 * then takes the packet as a jump forward at ROC 0, and so does this) nor
 * above 2^32 - 1.
 */
static inline uint32_t
estimate_roc(uint32_t roc, uint16_t s_l, uint16_t seq)
{
	if (s_l < 0x8000u) {
		if (seq > s_l && (uint16_t)(seq - s_l) > 0x8000u && roc > 0)
			return roc - 1;
	} else if ((uint16_t)(s_l - 0x8000u) > seq && roc < UINT32_MAX) {
		return roc + 1;
	}
	return roc;
}

static inline uint64_t
rtp_index(uint32_t roc, uint16_t seq)
{
	return (uint64_t)roc << 16 | seq;
}

/*
 * Before libsrtp sees an RTP packet: its ROC (@ret_roc), handed to libsrtp
 * while the context still resumes. 0, or -EALREADY for an outbound index
 * the previous process may have used.
 */
static inline int
rtp_prepare(struct mr_srtp_ctx *c, uint16_t seq, uint32_t *ret_roc)
{
	uint32_t roc = estimate_roc(c->roc, c->seq_hi, seq);

	if (c->floor_set && rtp_index(roc, seq) <= c->floor)
		return -EALREADY;
	if (c->roc_pending && srtp_set_stream_roc(c->s, c->ssrc, roc) != srtp_err_status_ok)
		return -EINVAL;
	*ret_roc = roc;
	return 0;
}

/* After an RTP packet passed: the resume is over, the highest index may rise. */
static inline void
rtp_passed(struct mr_srtp_ctx *c, uint32_t roc, uint16_t seq)
{
	c->roc_pending = false;
	if (rtp_index(roc, seq) > rtp_index(c->roc, c->seq_hi)) {
		c->roc = roc;
		c->seq_hi = seq;
	}
}

static inline void
note_srtcp_index(struct mr_srtp_ctx *c, uint32_t word)
{
	uint32_t idx = word & MR_SRTCP_INDEX_MASK;

	if (idx > c->srtcp_index)
		c->srtcp_index = idx;
}

/*
 * Advance libsrtp's outbound SRTCP index by @n through the public API (see
 * the top of this file): each protected dummy RR consumes one index and is
 * thrown away.
 */
static int
srtcp_fast_forward(struct mr_srtp_ctx *c, uint32_t n)
{
	uint32_t buf[(MR_RTCP_HDR_LEN + MR_SRTCP_INDEX_LEN + MR_MKI_MAX_BYTES +
		      SRTP_MAX_TAG_LEN) / 4];
	uint8_t *p = (uint8_t *)buf;
	uint32_t i;
	int len;

	for (i = 0; i < n; i++) {
		p[0] = 0x80;            /* V=2, RC=0 */
		p[1] = 201;             /* RR */
		p[2] = 0;
		p[3] = 1;               /* length: 2 words - 1 */
		p[4] = (uint8_t)(c->ssrc >> 24);
		p[5] = (uint8_t)(c->ssrc >> 16);
		p[6] = (uint8_t)(c->ssrc >> 8);
		p[7] = (uint8_t)c->ssrc;
		len = MR_RTCP_HDR_LEN;
		if (srtp_protect_rtcp_mki(c->s, p, &len, c->mki_len != 0, 0) != srtp_err_status_ok)
			return -EINVAL;
	}
	return 0;
}

struct mr_srtp_ctx *
mr_srtp_ctx_new(const struct mr_key_gen *k, uint32_t ssrc, enum mr_srtp_dir dir,
		const struct mr_srtp_resume *resume)
{
	static const struct mr_srtp_resume fresh;
	uint8_t master[MR_KEY_MAX_BYTES + MR_SALT_MAX_BYTES];
	const struct mr_srtp_suite_info *si;
	srtp_master_key_t mk, *mks[1];
	struct mr_srtp_ctx *c;
	srtp_policy_t pol;
	srtp_err_status_t st;

	if (k == NULL || (dir != MR_SRTP_INBOUND && dir != MR_SRTP_OUTBOUND))
		return NULL;
	si = mr_srtp_suite(k->suite);
	if (si == NULL || k->key_len != si->key_len || k->salt_len != si->salt_len ||
	    k->mki_len > MR_MKI_MAX_BYTES)
		return NULL;
	if (resume == NULL || !resume->valid)
		resume = &fresh;
	if (resume->srtcp_index > MR_SRTCP_INDEX_MASK ||
	    (dir == MR_SRTP_OUTBOUND && resume->srtcp_index > MR_SRTCP_RESUME_MAX))
		return NULL;
	if (mr_srtp_init() < 0)         /* a no-op once done; both run on mgmt */
		return NULL;

	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->ssrc = ssrc;
	c->dir = (uint8_t)dir;
	c->mki_len = k->mki_len;
	c->rtcp_tag_len = si->rtcp_tag_len;
	c->rtp_trailer = (uint8_t)(k->mki_len + si->rtp_tag_len);
	c->rtcp_trailer = (uint8_t)(MR_SRTCP_INDEX_LEN + k->mki_len + si->rtcp_tag_len);
	/* RFC 3711: E|index, MKI, tag. RFC 7714: the tag is inside the ciphertext. */
	c->rtcp_index_end = (uint8_t)(is_aead(k->suite) ? c->rtcp_trailer - si->rtcp_tag_len :
					c->rtcp_trailer);
	c->rtcp_mki_fixup = k->mki_len != 0 && !is_aead(k->suite) &&
			    si->rtp_tag_len != si->rtcp_tag_len;
	c->roc = resume->roc;
	c->seq_hi = resume->seq_hi;
	c->srtcp_index = resume->srtcp_index;
	c->roc_pending = resume->valid;
	c->floor_set = resume->valid && dir == MR_SRTP_OUTBOUND;
	c->floor = rtp_index(resume->roc, resume->seq_hi);
	memcpy(c->mki, k->mki, k->mki_len);

	memset(&pol, 0, sizeof(pol));
	set_policy(k->suite, &pol.rtp, &pol.rtcp);
	pol.ssrc.type = ssrc_specific;
	pol.ssrc.value = ssrc;
	memcpy(master, k->key, k->key_len);
	memcpy(master + k->key_len, k->salt, k->salt_len);
	if (k->mki_len != 0) {
		mk.key = master;
		mk.mki_id = c->mki;     /* libsrtp copies it */
		mk.mki_size = k->mki_len;
		mks[0] = &mk;
		pol.keys = mks;
		pol.num_master_keys = 1;
	} else {
		pol.key = master;
	}
	pol.window_size = MR_SRTP_WINDOW;
	pol.allow_repeat_tx = 0;
	st = srtp_create(&c->s, &pol);
	explicit_bzero(master, sizeof(master));
	if (st != srtp_err_status_ok)
		goto err_free;

	if (dir == MR_SRTP_OUTBOUND && srtcp_fast_forward(c, resume->srtcp_index) < 0)
		goto err_dealloc;
	return c;

err_dealloc:
	(void)srtp_dealloc(c->s);
err_free:
	explicit_bzero(c, sizeof(*c));
	free(c);
	return NULL;
}

void
mr_srtp_ctx_free(struct mr_srtp_ctx *c)
{
	if (c == NULL)
		return;
	(void)srtp_dealloc(c->s);
	explicit_bzero(c, sizeof(*c));
	free(c);
}

int
mr_srtp_protect(struct mr_srtp_ctx *c, uint8_t *pkt, uint32_t *len, uint32_t cap)
{
	srtp_err_status_t st;
	uint32_t roc;
	uint16_t seq;
	int n, r;

	if (c->dir != MR_SRTP_OUTBOUND || *len < MR_RTP_HDR_LEN || *len > MR_SRTP_LEN_MAX)
		return -EINVAL;
	if (cap < *len || cap - *len < c->rtp_trailer)
		return -EMSGSIZE;
	seq = rd_be16(pkt + 2);
	r = rtp_prepare(c, seq, &roc);
	if (r < 0)
		return r;
	n = (int)*len;
	st = srtp_protect_mki(c->s, pkt, &n, c->mki_len != 0, 0);
	if (st != srtp_err_status_ok)
		return map_err(st);
	rtp_passed(c, roc, seq);
	*len = (uint32_t)n;
	return 0;
}

int
mr_srtp_unprotect(struct mr_srtp_ctx *c, uint8_t *pkt, uint32_t *len)
{
	srtp_err_status_t st;
	uint32_t roc;
	uint16_t seq;
	int n, r;

	if (c->dir != MR_SRTP_INBOUND || *len < MR_RTP_HDR_LEN + c->rtp_trailer ||
	    *len > MR_SRTP_LEN_MAX)
		return -EINVAL;
	seq = rd_be16(pkt + 2);
	r = rtp_prepare(c, seq, &roc);
	if (r < 0)
		return r;
	n = (int)*len;
	st = srtp_unprotect_mki(c->s, pkt, &n, c->mki_len != 0);
	if (st != srtp_err_status_ok)
		return map_err(st);
	rtp_passed(c, roc, seq);
	*len = (uint32_t)n;
	return 0;
}

int
mr_srtcp_protect(struct mr_srtp_ctx *c, uint8_t *pkt, uint32_t *len, uint32_t cap)
{
	srtp_err_status_t st;
	int n;

	if (c->dir != MR_SRTP_OUTBOUND || *len < MR_RTCP_HDR_LEN || *len > MR_SRTP_LEN_MAX)
		return -EINVAL;
	if (cap < *len || cap - *len < c->rtcp_trailer)
		return -EMSGSIZE;
	n = (int)*len;
	st = srtp_protect_rtcp_mki(c->s, pkt, &n, c->mki_len != 0, 0);
	if (st != srtp_err_status_ok)
		return map_err(st);
	note_srtcp_index(c, rd_be32(pkt + n - c->rtcp_index_end));
	*len = (uint32_t)n;
	return 0;
}

/*
 * The _32 suites with an MKI on libsrtp 2.5 (see the top of this file):
 * check the MKI here, slide the 10-byte tag over it, unprotect as a packet
 * without MKI, and restore the trailer if that fails.
 */
static srtp_err_status_t
unprotect_rtcp_mki_fixup(struct mr_srtp_ctx *c, uint8_t *pkt, int *n)
{
	uint8_t *mki = pkt + *n - c->rtcp_tag_len - c->mki_len;
	srtp_err_status_t st;

	if (memcmp(mki, c->mki, c->mki_len) != 0)
		return srtp_err_status_bad_mki;
	memmove(mki, mki + c->mki_len, c->rtcp_tag_len);
	*n -= c->mki_len;
	st = srtp_unprotect_rtcp(c->s, pkt, n);
	if (st != srtp_err_status_ok) {
		memmove(mki + c->mki_len, mki, c->rtcp_tag_len);
		memcpy(mki, c->mki, c->mki_len);
	}
	return st;
}

int
mr_srtcp_unprotect(struct mr_srtp_ctx *c, uint8_t *pkt, uint32_t *len)
{
	srtp_err_status_t st;
	uint32_t word;
	int n;

	if (c->dir != MR_SRTP_INBOUND || *len < MR_RTCP_HDR_LEN + c->rtcp_trailer ||
	    *len > MR_SRTP_LEN_MAX)
		return -EINVAL;
	word = rd_be32(pkt + *len - c->rtcp_index_end);
	n = (int)*len;
	if (c->rtcp_mki_fixup)
		st = unprotect_rtcp_mki_fixup(c, pkt, &n);
	else
		st = srtp_unprotect_rtcp_mki(c->s, pkt, &n, c->mki_len != 0);
	if (st != srtp_err_status_ok)
		return map_err(st);
	note_srtcp_index(c, word);
	*len = (uint32_t)n;
	return 0;
}

/* Unprotect a copy in @scratch: @pkt stays as it came, whatever the suite. */
static int
verify(struct mr_srtp_ctx *c, const uint8_t *pkt, uint32_t len, uint8_t *scratch,
       uint32_t scratch_cap, bool rtcp)
{
	uint32_t n = len;

	if (len > MR_SRTP_LEN_MAX)
		return -EINVAL;
	if (scratch_cap < len)
		return -EMSGSIZE;
	memcpy(scratch, pkt, len);
	return rtcp ? mr_srtcp_unprotect(c, scratch, &n) : mr_srtp_unprotect(c, scratch, &n);
}

int
mr_srtp_verify(struct mr_srtp_ctx *c, const uint8_t *pkt, uint32_t len,
	       uint8_t *scratch, uint32_t scratch_cap)
{
	return verify(c, pkt, len, scratch, scratch_cap, false);
}

int
mr_srtcp_verify(struct mr_srtp_ctx *c, const uint8_t *pkt, uint32_t len,
		uint8_t *scratch, uint32_t scratch_cap)
{
	return verify(c, pkt, len, scratch, scratch_cap, true);
}

void
mr_srtp_ctx_state(const struct mr_srtp_ctx *c, uint32_t *ret_roc, uint16_t *ret_seq,
		  uint32_t *ret_srtcp_index)
{
	if (ret_roc != NULL)
		*ret_roc = c->roc;
	if (ret_seq != NULL)
		*ret_seq = c->seq_hi;
	if (ret_srtcp_index != NULL)
		*ret_srtcp_index = c->srtcp_index;
}
