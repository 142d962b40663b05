/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_DP_STUN_H
#define MR_DP_STUN_H

/*
 * STUN (RFC 8489, RFC 5389) as an ICE-lite agent needs it (RFC 8445 lite:
 * the peer is a full agent and does the checks; the relay only answers).
 * Pure functions over bytes: no EAL, no allocation of our own (OpenSSL's
 * HMAC may allocate), never a read outside [p, p + len). Used by the
 * management lcore (mgmt.c), the unit tests and the fuzz target.
 *
 * A connectivity check is a Binding request carrying
 *   USERNAME            "<relay ufrag>:<peer ufrag>" (the receiver's first)
 *   MESSAGE-INTEGRITY   HMAC-SHA1 keyed with the relay's ice-pwd (short-term
 *                       credential: the key is the password's bytes)
 *   FINGERPRINT         CRC-32 ^ 0x5354554e, the last attribute
 * and usually PRIORITY, ICE-CONTROLLING and USE-CANDIDATE (nomination).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mrelay/leg.h>

#define MR_STUN_HDR_LEN 20u
#define MR_STUN_TXID_LEN 12u
#define MR_STUN_MAGIC_COOKIE 0x2112a442u

/* Message types (method | class). */
#define MR_STUN_BINDING_REQUEST 0x0001u
#define MR_STUN_BINDING_INDICATION 0x0011u
#define MR_STUN_BINDING_SUCCESS 0x0101u
#define MR_STUN_BINDING_ERROR 0x0111u

/* Attributes the relay reads or writes. */
#define MR_STUN_ATTR_USERNAME 0x0006u
#define MR_STUN_ATTR_MESSAGE_INTEGRITY 0x0008u
#define MR_STUN_ATTR_XOR_MAPPED_ADDRESS 0x0020u
#define MR_STUN_ATTR_PRIORITY 0x0024u
#define MR_STUN_ATTR_USE_CANDIDATE 0x0025u
#define MR_STUN_ATTR_SOFTWARE 0x8022u
#define MR_STUN_ATTR_FINGERPRINT 0x8028u
#define MR_STUN_ATTR_ICE_CONTROLLED 0x8029u
#define MR_STUN_ATTR_ICE_CONTROLLING 0x802au

/* Longest Binding success response mr_stun_build_response() writes
 * without SOFTWARE: header, XOR-MAPPED-ADDRESS (IPv6), MI, FINGERPRINT. */
#define MR_STUN_RESPONSE_MAX (20u + 24u + 24u + 8u)

/*
 * A parsed message: where its attributes are. Offsets count from the start
 * of the message; 0 = absent (no attribute can start at 0). Only the first
 * of each attribute counts (RFC 8489 14). Attributes after
 * MESSAGE-INTEGRITY other than FINGERPRINT are ignored, as the RFC says.
 */
struct mr_stun_msg {
	uint16_t type;
	uint16_t len;                   /* whole message, header included */
	const uint8_t *txid;            /* MR_STUN_TXID_LEN bytes inside the message */
	uint16_t username_off;          /* value */
	uint16_t username_len;
	uint16_t integrity_off;         /* attribute header of MESSAGE-INTEGRITY */
	uint16_t fingerprint_off;       /* attribute header of FINGERPRINT */
	uint16_t xor_mapped_off;        /* value */
	uint16_t xor_mapped_len;
	uint32_t priority;
	bool use_candidate;
	bool controlling;               /* ICE-CONTROLLING present */
	bool controlled;                /* ICE-CONTROLLED present */
};

/*
 * Whether @p (@len bytes: a whole UDP payload) is one well-formed STUN
 * message: top two bits zero, the magic cookie, a length that is a
 * multiple of 4 and accounts for exactly @len, attributes that tile the
 * body, known attributes of the right size, nothing after FINGERPRINT.
 * Integrity and fingerprint are not checked here. @m is written either way.
 */
bool mr_stun_parse(const uint8_t *p, uint32_t len, struct mr_stun_msg *m);

/* FINGERPRINT present and right (RFC 8489 14.7). */
bool mr_stun_fingerprint_ok(const uint8_t *p, const struct mr_stun_msg *m);

/* MESSAGE-INTEGRITY present and right for @key (RFC 8489 14.5), compared
 * in constant time. */
bool mr_stun_integrity_ok(const uint8_t *p, const struct mr_stun_msg *m,
			  const uint8_t *key, size_t key_len);

enum mr_stun_verdict {
	MR_STUN_OK = 0,                 /* an authenticated Binding request: answer it */
	MR_STUN_MALFORMED,              /* not well-formed STUN, or no/wrong FINGERPRINT */
	MR_STUN_NOT_REQUEST,            /* well-formed, not a Binding request (an
					   indication, a response): nothing to answer */
	MR_STUN_AUTH,                   /* USERNAME not "<ufrag>:...", or
					   MESSAGE-INTEGRITY missing or wrong */
};

/*
 * The ICE-lite agent's check of a received message against the relay's
 * credentials @ufrag and @pwd (NUL-terminated). On MR_STUN_OK, @m says
 * what the request carried (USE-CANDIDATE, ...). FINGERPRINT is required
 * (RFC 8445 7.2.2 has every check carry it).
 */
enum mr_stun_verdict mr_stun_check_request(const uint8_t *p, uint32_t len, const char *ufrag,
					   const char *pwd, struct mr_stun_msg *m);

/*
 * Write a Binding success response to transaction @txid into @out (@cap
 * bytes): [SOFTWARE @software, padded with spaces as RFC 5769 does],
 * XOR-MAPPED-ADDRESS of @mapped (the request's source), MESSAGE-INTEGRITY
 * keyed with @pwd, FINGERPRINT. @txid may point into @out (it is copied
 * first). @software may be NULL. Returns the length, or 0 if @cap is too
 * small or @mapped is not an IPv4/IPv6 address.
 */
uint16_t mr_stun_build_response(uint8_t *out, uint32_t cap, const uint8_t *txid,
				const struct mr_sockaddr *mapped, const char *pwd,
				const char *software);

#endif /* MR_DP_STUN_H */
