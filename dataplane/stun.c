/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * STUN for the ICE-lite agent (see stun.h for the contract). Management
 * lcore, unit tests and fuzz target only: HMAC-SHA1 comes from OpenSSL's
 * EVP_MAC, which allocates, so the worker path never calls in here.
 *
 * Choices the RFCs leave open, or that an ICE-lite relay makes differently:
 *  - Nothing that fails a check is answered: no 400, 401 or 487 error
 *    response. An error response would tell a prober which ports hold ICE
 *    legs and whether its username was right, and would make the relay a
 *    reflector; a real peer whose check is lost simply retransmits.
 *  - Unknown comprehension-required attributes (type < 0x8000) are ignored
 *    rather than answered with 420: browsers add their own (GOOG-*), which
 *    are comprehension-optional anyway, and the integrity check is what
 *    decides.
 *  - ICE-CONTROLLED in a request (a full agent that wrongly thinks it is
 *    controlled beside a lite agent) is answered like any check: a lite
 *    agent is always controlled and never switches role (RFC 8445 6.1.1).
 *  - SOFTWARE is written only when asked (the dataplane does not): padding
 *    is spaces, as in RFC 5769, so the test vectors come out byte for byte.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "stun.h"

#define ATTR_HDR_LEN 4u
#define MI_LEN 20u                      /* HMAC-SHA1 */
#define FP_LEN 4u
#define FP_XOR 0x5354554eu
#define USERNAME_MAX 513u               /* RFC 8489 14.3: < 513 bytes */

static inline uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void
wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* CRC-32 of ISO 3309 / ITU-T V.42 (the Ethernet one), bit by bit: a few
 * checks a second do not need a table. @crc starts at 0. */
static uint32_t
crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
	size_t i;
	int k;

	crc = ~crc;
	for (i = 0; i < n; i++) {
		crc ^= p[i];
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

/* The value of the length field when the message ends right after the
 * attribute at @attr_off whose value is @value_len bytes. */
static uint16_t
len_through(uint16_t attr_off, uint16_t value_len)
{
	return (uint16_t)(attr_off + ATTR_HDR_LEN + value_len - MR_STUN_HDR_LEN);
}

/* CRC-32 of the message before the attribute at @off, the length field
 * made to end after a FINGERPRINT there. */
static uint32_t
fingerprint_of(const uint8_t *p, uint16_t off)
{
	uint8_t hdr[4];
	uint32_t crc;

	memcpy(hdr, p, 2);
	wr16(hdr + 2, len_through(off, FP_LEN));
	crc = crc32_update(0, hdr, sizeof(hdr));
	crc = crc32_update(crc, p + 4, off - 4u);
	return crc ^ FP_XOR;
}

/* HMAC-SHA1 of the message before the attribute at @off, the length field
 * made to end after a MESSAGE-INTEGRITY there. false if OpenSSL fails. */
static bool
integrity_of(const uint8_t *p, uint16_t off, const uint8_t *key, size_t key_len,
	     uint8_t out[MI_LEN])
{
	OSSL_PARAM params[2];
	EVP_MAC_CTX *ctx = NULL;
	EVP_MAC *mac;
	uint8_t hdr[4];
	size_t n = 0;
	bool ok = false;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA1", 0);
	params[1] = OSSL_PARAM_construct_end();
	memcpy(hdr, p, 2);
	wr16(hdr + 2, len_through(off, MI_LEN));
	mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (mac == NULL)
		return false;
	ctx = EVP_MAC_CTX_new(mac);
	if (ctx != NULL && EVP_MAC_init(ctx, key, key_len, params) == 1 &&
	    EVP_MAC_update(ctx, hdr, sizeof(hdr)) == 1 &&
	    EVP_MAC_update(ctx, p + 4, off - 4u) == 1 &&
	    EVP_MAC_final(ctx, out, &n, MI_LEN) == 1 && n == MI_LEN)
		ok = true;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return ok;
}

bool
mr_stun_parse(const uint8_t *p, uint32_t len, struct mr_stun_msg *m)
{
	uint32_t off, alen, end;
	uint16_t type;

	memset(m, 0, sizeof(*m));
	if (len < MR_STUN_HDR_LEN || len > UINT16_MAX || (p[0] & 0xc0) != 0 ||
	    rd32(p + 4) != MR_STUN_MAGIC_COOKIE)
		return false;
	if ((rd16(p + 2) & 3u) != 0 || MR_STUN_HDR_LEN + rd16(p + 2) != len)
		return false;
	m->type = rd16(p);
	m->len = (uint16_t)len;
	m->txid = p + 8;
	for (off = MR_STUN_HDR_LEN; off < len; off = end) {
		if (len - off < ATTR_HDR_LEN)
			return false;
		type = rd16(p + off);
		alen = rd16(p + off + 2);
		end = off + ATTR_HDR_LEN + ((alen + 3u) & ~3u);
		if (end > len)
			return false;
		if (m->fingerprint_off != 0)
			return false;           /* FINGERPRINT must be last */
		if (type == MR_STUN_ATTR_FINGERPRINT) {
			if (alen != FP_LEN)
				return false;
			m->fingerprint_off = (uint16_t)off;
			continue;
		}
		if (m->integrity_off != 0)
			continue;               /* covered by nothing: ignored */
		switch (type) {
		case MR_STUN_ATTR_MESSAGE_INTEGRITY:
			if (alen != MI_LEN)
				return false;
			m->integrity_off = (uint16_t)off;
			break;
		case MR_STUN_ATTR_USERNAME:
			if (alen >= USERNAME_MAX)
				return false;
			if (m->username_off == 0) {
				m->username_off = (uint16_t)(off + ATTR_HDR_LEN);
				m->username_len = (uint16_t)alen;
			}
			break;
		case MR_STUN_ATTR_XOR_MAPPED_ADDRESS:
			if (alen != 8 && alen != 20)
				return false;
			if (m->xor_mapped_off == 0) {
				m->xor_mapped_off = (uint16_t)(off + ATTR_HDR_LEN);
				m->xor_mapped_len = (uint16_t)alen;
			}
			break;
		case MR_STUN_ATTR_PRIORITY:
			if (alen != 4)
				return false;
			m->priority = rd32(p + off + ATTR_HDR_LEN);
			break;
		case MR_STUN_ATTR_USE_CANDIDATE:
			if (alen != 0)
				return false;
			m->use_candidate = true;
			break;
		case MR_STUN_ATTR_ICE_CONTROLLING:
		case MR_STUN_ATTR_ICE_CONTROLLED:
			if (alen != 8)
				return false;
			if (type == MR_STUN_ATTR_ICE_CONTROLLING)
				m->controlling = true;
			else
				m->controlled = true;
			break;
		default:
			break;
		}
	}
	return true;
}

bool
mr_stun_fingerprint_ok(const uint8_t *p, const struct mr_stun_msg *m)
{
	if (m->fingerprint_off == 0)
		return false;
	return rd32(p + m->fingerprint_off + ATTR_HDR_LEN) == fingerprint_of(p, m->fingerprint_off);
}

bool
mr_stun_integrity_ok(const uint8_t *p, const struct mr_stun_msg *m, const uint8_t *key,
		     size_t key_len)
{
	uint8_t mac[MI_LEN];
	bool ok;

	if (m->integrity_off == 0 || !integrity_of(p, m->integrity_off, key, key_len, mac))
		return false;
	ok = CRYPTO_memcmp(mac, p + m->integrity_off + ATTR_HDR_LEN, MI_LEN) == 0;
	OPENSSL_cleanse(mac, sizeof(mac));
	return ok;
}

enum mr_stun_verdict
mr_stun_check_request(const uint8_t *p, uint32_t len, const char *ufrag, const char *pwd,
		      struct mr_stun_msg *m)
{
	size_t ul = strlen(ufrag);

	if (!mr_stun_parse(p, len, m) || !mr_stun_fingerprint_ok(p, m))
		return MR_STUN_MALFORMED;
	if (m->type != MR_STUN_BINDING_REQUEST)
		return MR_STUN_NOT_REQUEST;
	/* RFC 8445 7.3: USERNAME is "<our ufrag>:<theirs>"; an empty ufrag
	 * (a slot without credentials) matches nothing. */
	if (ul == 0 || m->username_off == 0 || m->username_len <= ul ||
	    memcmp(p + m->username_off, ufrag, ul) != 0 || p[m->username_off + ul] != ':')
		return MR_STUN_AUTH;
	if (pwd[0] == '\0' || !mr_stun_integrity_ok(p, m, (const uint8_t *)pwd, strlen(pwd)))
		return MR_STUN_AUTH;
	return MR_STUN_OK;
}

/* Append an attribute header at @off of @out; returns the value's offset. */
static uint32_t
put_attr(uint8_t *out, uint32_t off, uint16_t type, uint16_t len)
{
	wr16(out + off, type);
	wr16(out + off + 2, len);
	return off + ATTR_HDR_LEN;
}

uint16_t
mr_stun_build_response(uint8_t *out, uint32_t cap, const uint8_t *txid,
		       const struct mr_sockaddr *mapped, const char *pwd, const char *software)
{
	uint8_t id[MR_STUN_TXID_LEN], mac[MI_LEN];
	size_t sw_len = software != NULL ? strlen(software) : 0;
	uint32_t need, off, v, i, addr_len;

	if (mapped->family == MR_AF_INET)
		addr_len = 4;
	else if (mapped->family == MR_AF_INET6)
		addr_len = 16;
	else
		return 0;
	if (sw_len > 763)               /* RFC 8489 14.14: < 128 characters, < 763 bytes */
		return 0;
	need = MR_STUN_HDR_LEN + (sw_len != 0 ? ATTR_HDR_LEN + ((sw_len + 3u) & ~3u) : 0) +
	       ATTR_HDR_LEN + 4 + addr_len + ATTR_HDR_LEN + MI_LEN + ATTR_HDR_LEN + FP_LEN;
	if (cap < need)
		return 0;
	memcpy(id, txid, sizeof(id));           /* @txid may lie inside @out */
	wr16(out, MR_STUN_BINDING_SUCCESS);
	wr16(out + 2, 0);                       /* set as attributes go in */
	wr32(out + 4, MR_STUN_MAGIC_COOKIE);
	memcpy(out + 8, id, sizeof(id));
	off = MR_STUN_HDR_LEN;
	if (sw_len != 0) {
		v = put_attr(out, off, MR_STUN_ATTR_SOFTWARE, (uint16_t)sw_len);
		memcpy(out + v, software, sw_len);
		memset(out + v + sw_len, ' ', ((sw_len + 3u) & ~3u) - sw_len);
		off = v + (uint32_t)((sw_len + 3u) & ~3u);
	}
	/* XOR-MAPPED-ADDRESS (RFC 8489 14.2): port ^ top of the cookie, the
	 * address ^ cookie (IPv4) or ^ cookie || transaction id (IPv6). */
	v = put_attr(out, off, MR_STUN_ATTR_XOR_MAPPED_ADDRESS, (uint16_t)(4 + addr_len));
	out[v] = 0;
	out[v + 1] = mapped->family == MR_AF_INET ? 0x01 : 0x02;
	memcpy(out + v + 2, &mapped->port_be, 2);
	out[v + 2] ^= (uint8_t)(MR_STUN_MAGIC_COOKIE >> 24);
	out[v + 3] ^= (uint8_t)(MR_STUN_MAGIC_COOKIE >> 16);
	for (i = 0; i < addr_len; i++)
		out[v + 4 + i] = mapped->ip[i] ^ out[4 + i];    /* cookie, then txid */
	off = v + 4 + addr_len;
	/* MESSAGE-INTEGRITY over everything before it (integrity_of() sets
	 * the length field as if the message ended after it). */
	if (!integrity_of(out, (uint16_t)off, (const uint8_t *)pwd, strlen(pwd), mac))
		return 0;
	v = put_attr(out, off, MR_STUN_ATTR_MESSAGE_INTEGRITY, MI_LEN);
	memcpy(out + v, mac, MI_LEN);
	OPENSSL_cleanse(mac, sizeof(mac));
	off = v + MI_LEN;
	v = put_attr(out, off, MR_STUN_ATTR_FINGERPRINT, FP_LEN);
	wr32(out + v, fingerprint_of(out, (uint16_t)off));
	off = v + FP_LEN;
	wr16(out + 2, (uint16_t)(off - MR_STUN_HDR_LEN));
	return (uint16_t)off;
}
