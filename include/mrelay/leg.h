/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Leg slots: one party's media stream as the relay sees it.
 *
 * Each leg has three parts, in three arrays of the region (see shm.h):
 *  - struct mr_leg_slot: written only by the control side (mrelay-cp, or
 *    mrelayctl while there is none) under its seqlock; read by mrelay-dp.
 *  - struct mr_leg_dp: written only by mrelay-dp (the leg's owner lcore)
 *    under its own seqlock; read by the control side and by a restarted
 *    mrelay-dp, which resumes from it (latched source, SRTP indices).
 *  - struct mr_leg_counters: one row per worker lcore (counters.h).
 *
 * Enumerations are stored in fixed-width fields: enum size is not ABI.
 */
#ifndef MRELAY_LEG_H
#define MRELAY_LEG_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/** "No leg" in slot references. */
#define MR_LEG_NONE UINT32_MAX

/** Address families as stored in struct mr_sockaddr.family. */
#define MR_AF_NONE 0u
#define MR_AF_INET 4u
#define MR_AF_INET6 6u

/**
 * A transport address. IPv4 uses ip[0..3] and leaves the rest zero, so two
 * addresses compare equal with memcmp().
 */
struct mr_sockaddr {
	uint8_t ip[16];
	uint16_t port_be;       /**< network byte order; 0 = unset */
	uint8_t family;         /**< MR_AF_* */
	uint8_t pad;
};
_Static_assert(sizeof(struct mr_sockaddr) == 20, "mr_sockaddr ABI");

enum mr_leg_state {
	MR_LEG_FREE = 0,        /**< a zeroed slot is free */
	MR_LEG_ACTIVE = 1,
};

enum mr_latch_policy {
	MR_LATCH_INVALID = 0,   /**< a zeroed slot never latches */
	/** Plain RTP: first packet latches; another source may re-latch only
	 *  within latch_window_ms of the leg's creation or after the latched
	 *  source has been silent for relatch_idle_ms. */
	MR_LATCH_FIRST = 1,
	/** SRTP/STUN: only a packet that authenticates latches or re-latches
	 *  (the authenticating stages arrive with the SRTP issue). */
	MR_LATCH_FIRST_AUTH = 2,
	/** Accept only the signaled peer address; never latch elsewhere. */
	MR_LATCH_STRICT = 3,
	MR_LATCH_MAX
};

/* mr_leg_slot.flags */
#define MR_LEG_F_RTCP_MUX   (1u << 0)   /**< RTCP shares the RTP port (RFC 5761) */
#define MR_LEG_F_MUTED      (1u << 1)   /**< media from this leg is not forwarded */
#define MR_LEG_F_HOLD       (1u << 2)   /**< on hold (signaled direction) */
#define MR_LEG_F_PSTN       (1u << 3)   /**< operator-marked PSTN trunk: plain RTP allowed */
#define MR_LEG_F_RECORD     (1u << 4)   /**< recorded (notice given by signaling) */
#define MR_LEG_F_ICE        (1u << 5)   /**< answer STUN checks with ice credentials */
#define MR_LEG_F_ALL        ((1u << 6) - 1u)

/** SRTP protection profiles; MR_SUITE_NONE = plain RTP (PSTN legs only). */
enum mr_srtp_suite {
	MR_SUITE_NONE = 0,
	MR_SUITE_AES_CM_128_HMAC_SHA1_80 = 1,
	MR_SUITE_AES_CM_128_HMAC_SHA1_32 = 2,
	MR_SUITE_AES_256_CM_HMAC_SHA1_80 = 3,
	MR_SUITE_AES_256_CM_HMAC_SHA1_32 = 4,
	MR_SUITE_AEAD_AES_128_GCM = 5,
	MR_SUITE_AEAD_AES_256_GCM = 6,
	MR_SUITE_MAX
};

#define MR_KEY_MAX_BYTES 32u
#define MR_SALT_MAX_BYTES 14u
#define MR_MKI_MAX_BYTES 8u

/** One key generation of one direction. Wiped (zeroed) when unused. */
struct mr_key_gen {
	uint8_t suite;          /**< enum mr_srtp_suite; NONE = generation unused */
	uint8_t mki_len;        /**< 0 = no MKI */
	uint8_t key_len;
	uint8_t salt_len;
	uint32_t tag;           /**< control-side label of this generation */
	uint8_t mki[MR_MKI_MAX_BYTES];
	uint8_t key[MR_KEY_MAX_BYTES];
	uint8_t salt[MR_SALT_MAX_BYTES];
	uint8_t pad[2];
};
_Static_assert(sizeof(struct mr_key_gen) == 64, "mr_key_gen ABI");

/**
 * mr_crypto_dir.cp_flags: control-side bookkeeping kept beside the keys it
 * describes, so it survives a restart of mrelay-cp without a journal entry.
 * mrelay-dp never reads it; no dataplane behaviour depends on it.
 */
/** Inbound: gen[active] was signaled (a re-offer) but its offer/answer has
 *  not completed; gen[active ^ 1] is the key the peer still sends with. */
#define MR_CRYPTO_CP_PENDING (1u << 0)

/**
 * Crypto of one direction. Inbound, mrelay-dp accepts either live
 * generation, the one that last authenticated first (make-before-break);
 * there, active names the generation the control side wrote last (the
 * peer's newest key). Outbound uses gen[active].
 */
struct mr_crypto_dir {
	uint8_t active;         /**< 0 or 1 */
	uint8_t cp_flags;       /**< MR_CRYPTO_CP_*; control side only */
	uint8_t pad[6];
	struct mr_key_gen gen[2];
};
_Static_assert(sizeof(struct mr_crypto_dir) == 136, "mr_crypto_dir ABI");

/** ICE-lite credentials (NUL-terminated strings). */
struct mr_ice {
	char local_ufrag[16];
	char local_pwd[32];
	char remote_ufrag[64];
};
_Static_assert(sizeof(struct mr_ice) == 112, "mr_ice ABI");

/** Control-side part of a leg: written whole under seq by the control side. */
struct mr_leg_slot {
	uint32_t seq;           /**< seqlock.h; odd while being written */
	uint32_t generation;    /**< bumped on every write; echoed in commands */
	uint64_t leg_uid;       /**< new value = new leg; mrelay-dp resets its part */
	uint64_t call_tag;      /**< control-side call id, joins logs and events */
	uint8_t state;          /**< enum mr_leg_state */
	uint8_t latch;          /**< enum mr_latch_policy */
	uint8_t dscp;           /**< DSCP for packets sent to this leg's peer */
	uint8_t pad0;
	uint32_t flags;         /**< MR_LEG_F_* */
	uint32_t egress_slot;   /**< leg that receives this leg's media, or MR_LEG_NONE */
	uint32_t group;         /**< conference group (fan-out); 0 = none */
	struct mr_sockaddr local;       /**< relay address and RTP port */
	uint16_t local_rtcp_port_be;    /**< ignored with MR_LEG_F_RTCP_MUX */
	uint16_t pad1;
	struct mr_sockaddr peer_rtp;    /**< signaled address: a hint only */
	struct mr_sockaddr peer_rtcp;   /**< signaled RTCP address (hint) */
	uint32_t latch_window_ms;       /**< 0 = mrelay-dp default */
	uint32_t relatch_idle_ms;       /**< 0 = mrelay-dp default */
	uint32_t idle_timeout_ms;       /**< 0 = mrelay-dp default */
	uint32_t pad2[3];
	struct mr_crypto_dir crypto_in;  /**< verifies/decrypts what the peer sends */
	struct mr_crypto_dir crypto_out; /**< protects what the relay sends the peer */
	struct mr_ice ice;
};
_Static_assert(sizeof(struct mr_leg_slot) == 512, "leg slot ABI");
_Static_assert(offsetof(struct mr_leg_slot, local) == 40, "leg slot ABI");
_Static_assert(offsetof(struct mr_leg_slot, crypto_in) == 128, "leg slot ABI");
_Static_assert(offsetof(struct mr_leg_slot, ice) == 400, "leg slot ABI");

/** Latch components (also mr_event.comp). */
#define MR_COMP_RTP 0u
#define MR_COMP_RTCP 1u

/* mr_ssrc_state.flags */
#define MR_SSRC_F_VALID (1u << 0)

/** SRTP resume point of one SSRC of one direction. */
struct mr_ssrc_state {
	uint32_t ssrc;
	uint16_t seq_hi;        /**< highest RTP sequence number seen/sent */
	uint8_t flags;          /**< MR_SSRC_F_* */
	uint8_t pad;
	uint32_t roc;           /**< rollover counter */
	uint32_t srtcp_index;   /**< last SRTCP index */
};
_Static_assert(sizeof(struct mr_ssrc_state) == 16, "ssrc state ABI");

#define MR_LEG_SSRCS 4u

/* mr_leg_dp.latch_flags */
#define MR_LATCHED_RTP  (1u << MR_COMP_RTP)
#define MR_LATCHED_RTCP (1u << MR_COMP_RTCP)

/**
 * Dataplane-side part of a leg: only mrelay-dp writes it (the owner lcore of
 * the leg's ingress direction, or the management lcore while the leg is not
 * published), under dseq.
 */
struct mr_leg_dp {
	uint32_t dseq;          /**< seqlock.h */
	uint16_t owner_lcore;   /**< worker index owning this leg's ingress and
	                             the egress crypto of the leg it feeds */
	uint8_t latch_flags;    /**< MR_LATCHED_* */
	uint8_t pad;
	uint64_t leg_uid;       /**< leg this state belongs to */
	uint64_t created_ms;    /**< CLOCK_MONOTONIC ms when first installed */
	struct mr_sockaddr latched_rtp;
	struct mr_sockaddr latched_rtcp;
	struct mr_ssrc_state ssrc_in[MR_LEG_SSRCS];
	struct mr_ssrc_state ssrc_out[MR_LEG_SSRCS];
};
_Static_assert(sizeof(struct mr_leg_dp) == 192, "leg dp ABI");

/** Same family, IP and port. */
static inline bool
mr_sockaddr_eq(const struct mr_sockaddr *a, const struct mr_sockaddr *b)
{
	uint64_t x0, x1, y0, y1;
	uint32_t x, y;

	if (a->family != b->family || a->port_be != b->port_be)
		return false;
	/* Inline loads, not a memcmp() call: this runs per packet (latch). */
	if (a->family == MR_AF_INET) {
		memcpy(&x, a->ip, 4);
		memcpy(&y, b->ip, 4);
		return x == y;
	}
	memcpy(&x0, a->ip, 8);
	memcpy(&y0, b->ip, 8);
	memcpy(&x1, a->ip + 8, 8);
	memcpy(&y1, b->ip + 8, 8);
	return ((x0 ^ y0) | (x1 ^ y1)) == 0;
}

/** Same family and IP; port ignored. */
static inline bool
mr_sockaddr_ip_eq(const struct mr_sockaddr *a, const struct mr_sockaddr *b)
{
	return a->family == b->family &&
	       memcmp(a->ip, b->ip, a->family == MR_AF_INET ? 4 : 16) == 0;
}

#endif /* MRELAY_LEG_H */
