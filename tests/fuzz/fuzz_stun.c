/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for dataplane/stun.c: the ICE-lite check of a UDP payload
 * against fixed credentials, and, when a message parses, the integrity and
 * fingerprint checks on their own. Checked promises: a message the parser
 * accepts has its attribute offsets inside it; an accepted check yields a
 * response that parses back and verifies with the same password; nothing
 * reads past the input (ASan, the input is a heap copy of exactly its size).
 *
 * Random mutations almost never keep FINGERPRINT and MESSAGE-INTEGRITY
 * right, so each input runs a second time re-signed (MI with the relay's
 * password, then FP) when it has room for both: that pass reaches what lies
 * behind the checks (USERNAME, the builder).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "stun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define UFRAG "mrly"
#define PWD "0123456789abcdefghijKL"

static uint32_t
crc32(const uint8_t *p, size_t n)
{
	uint32_t crc = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		crc ^= p[i];
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

static void
check_one(const uint8_t *p, size_t size)
{
	struct mr_sockaddr src = { .ip = { 198, 18, 0, 10 }, .port_be = 0x409c,
				   .family = MR_AF_INET };
	uint8_t out[MR_STUN_RESPONSE_MAX];
	struct mr_stun_msg m, r;
	uint16_t n;

	if (mr_stun_parse(p, (uint32_t)size, &m)) {
		if (m.len != size || (m.username_off && m.username_off + m.username_len > size) ||
		    (m.integrity_off && m.integrity_off + 24u > size) ||
		    (m.fingerprint_off && m.fingerprint_off + 8u != size) ||
		    (m.xor_mapped_off && m.xor_mapped_off + m.xor_mapped_len > size))
			abort();
		(void)mr_stun_fingerprint_ok(p, &m);
		(void)mr_stun_integrity_ok(p, &m, (const uint8_t *)PWD, strlen(PWD));
	}
	if (mr_stun_check_request(p, (uint32_t)size, UFRAG, PWD, &m) != MR_STUN_OK)
		return;
	if (m.type != MR_STUN_BINDING_REQUEST || m.username_off == 0 || m.integrity_off == 0)
		abort();
	src.family = (size & 1) ? MR_AF_INET6 : MR_AF_INET;
	n = mr_stun_build_response(out, sizeof(out), m.txid, &src, PWD, NULL);
	if (n == 0 || !mr_stun_parse(out, n, &r) || !mr_stun_fingerprint_ok(out, &r) ||
	    !mr_stun_integrity_ok(out, &r, (const uint8_t *)PWD, strlen(PWD)) ||
	    memcmp(r.txid, m.txid, MR_STUN_TXID_LEN) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned int mdlen = 0;
	uint8_t *p = malloc(size ? size : 1);
	size_t mi, fp;
	uint32_t crc;

	if (p == NULL)
		return 0;
	memcpy(p, data, size);
	check_one(p, size);
	/* Re-signed: the last 32 bytes become MI + FP over what precedes. */
	if (size >= 20 + 32 && size <= 0xffff && (size & 3) == 0) {
		mi = size - 32;
		fp = size - 8;
		p[0] &= 0x3f;
		p[4] = 0x21, p[5] = 0x12, p[6] = 0xa4, p[7] = 0x42;
		p[2] = (uint8_t)((mi + 24 - 20) >> 8);
		p[3] = (uint8_t)(mi + 24 - 20);
		p[mi] = 0x00, p[mi + 1] = 0x08, p[mi + 2] = 0x00, p[mi + 3] = 0x14;
		HMAC(EVP_sha1(), PWD, (int)strlen(PWD), p, mi, p + mi + 4, &mdlen);
		p[2] = (uint8_t)((size - 20) >> 8);
		p[3] = (uint8_t)(size - 20);
		crc = crc32(p, fp) ^ 0x5354554eu;
		p[fp] = 0x80, p[fp + 1] = 0x28, p[fp + 2] = 0x00, p[fp + 3] = 0x04;
		p[fp + 4] = (uint8_t)(crc >> 24), p[fp + 5] = (uint8_t)(crc >> 16);
		p[fp + 6] = (uint8_t)(crc >> 8), p[fp + 7] = (uint8_t)crc;
		check_one(p, size);
	}
	free(p);
	return 0;
}
