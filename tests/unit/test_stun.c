/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * STUN for ICE-lite (dataplane/stun.c) against the RFC 5769 test vectors:
 * the sample request (2.1) parses and authenticates with its password, the
 * IPv4 and IPv6 sample responses (2.2, 2.3) verify and are rebuilt byte for
 * byte by mr_stun_build_response(); then the ICE checks: USERNAME order,
 * wrong password, broken FINGERPRINT, truncation, attributes after
 * FINGERPRINT, indications.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "stun.h"

static const char PWD[] = "VOkJxbRl1RmTxUk/WvJxBt";

/* RFC 5769 2.1: USERNAME "evtj:h6vY", SOFTWARE "STUN test client". */
static const uint8_t sample_request[108] = {
	0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01,
	0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10,
	0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73, 0x74, 0x20, 0x63, 0x6c,
	0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
	0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36,
	0x00, 0x06, 0x00, 0x09, 0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76,
	0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14, 0x9a, 0xea, 0xa7, 0x0c,
	0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
	0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
};

/* RFC 5769 2.2: 192.0.2.1 port 32853, SOFTWARE "test vector". */
static const uint8_t sample_v4_response[80] = {
	0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01,
	0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b,
	0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20,
	0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
	0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3,
	0x8c, 0x74, 0x89, 0xf9, 0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7,
	0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
};

/* RFC 5769 2.3: 2001:db8:1234:5678:11:2233:4455:6677 port 32853. */
static const uint8_t sample_v6_response[92] = {
	0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01,
	0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b,
	0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20,
	0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa,
	0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9,
	0x00, 0x08, 0x00, 0x14, 0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1,
	0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75, 0xbf, 0xe3, 0xed, 0x41,
	0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c,
};

static void
test_rfc5769_request(void **state)
{
	struct mr_stun_msg m;

	(void)state;
	assert_true(mr_stun_parse(sample_request, sizeof(sample_request), &m));
	assert_int_equal(m.type, MR_STUN_BINDING_REQUEST);
	assert_int_equal(m.len, 108);
	assert_ptr_equal(m.txid, sample_request + 8);
	assert_int_equal(m.username_len, 9);
	assert_memory_equal(sample_request + m.username_off, "evtj:h6vY", 9);
	assert_int_equal(m.priority, 0x6e0001ff);
	assert_true(m.controlled);
	assert_false(m.controlling);
	assert_false(m.use_candidate);
	assert_int_equal(m.integrity_off, 76);
	assert_int_equal(m.fingerprint_off, 100);
	assert_true(mr_stun_fingerprint_ok(sample_request, &m));
	assert_true(mr_stun_integrity_ok(sample_request, &m, (const uint8_t *)PWD, strlen(PWD)));
	assert_false(mr_stun_integrity_ok(sample_request, &m, (const uint8_t *)"VOkJxbRl1RmTxUk/WvJxBu",
					  strlen(PWD)));
	/* The relay is "evtj": the request names it first. */
	assert_int_equal(mr_stun_check_request(sample_request, sizeof(sample_request), "evtj", PWD, &m),
			 MR_STUN_OK);
}

static void
test_rfc5769_responses_verify(void **state)
{
	struct mr_stun_msg m;

	(void)state;
	assert_true(mr_stun_parse(sample_v4_response, sizeof(sample_v4_response), &m));
	assert_int_equal(m.type, MR_STUN_BINDING_SUCCESS);
	assert_int_equal(m.xor_mapped_len, 8);
	assert_true(mr_stun_fingerprint_ok(sample_v4_response, &m));
	assert_true(mr_stun_integrity_ok(sample_v4_response, &m, (const uint8_t *)PWD, strlen(PWD)));
	/* A response is well-formed but nothing the relay answers. */
	assert_int_equal(mr_stun_check_request(sample_v4_response, sizeof(sample_v4_response), "evtj",
					       PWD, &m), MR_STUN_NOT_REQUEST);

	assert_true(mr_stun_parse(sample_v6_response, sizeof(sample_v6_response), &m));
	assert_int_equal(m.xor_mapped_len, 20);
	assert_true(mr_stun_fingerprint_ok(sample_v6_response, &m));
	assert_true(mr_stun_integrity_ok(sample_v6_response, &m, (const uint8_t *)PWD, strlen(PWD)));
}

static void
test_rfc5769_responses_build(void **state)
{
	struct mr_sockaddr v4 = { .ip = { 192, 0, 2, 1 }, .family = MR_AF_INET };
	struct mr_sockaddr v6 = {
		.ip = { 0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0x78,
			0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77 },
		.family = MR_AF_INET6,
	};
	uint8_t out[128];
	uint16_t n;

	(void)state;
	v4.port_be = v6.port_be = (uint16_t)__builtin_bswap16(32853);
	n = mr_stun_build_response(out, sizeof(out), sample_request + 8, &v4, PWD, "test vector");
	assert_int_equal(n, sizeof(sample_v4_response));
	assert_memory_equal(out, sample_v4_response, sizeof(sample_v4_response));
	n = mr_stun_build_response(out, sizeof(out), sample_request + 8, &v6, PWD, "test vector");
	assert_int_equal(n, sizeof(sample_v6_response));
	assert_memory_equal(out, sample_v6_response, sizeof(sample_v6_response));
	/* Too small a buffer writes nothing useful and says so. */
	assert_int_equal(mr_stun_build_response(out, 79, sample_request + 8, &v4, PWD, "test vector"), 0);
	v4.family = MR_AF_NONE;
	assert_int_equal(mr_stun_build_response(out, sizeof(out), sample_request + 8, &v4, PWD, NULL), 0);
}

/* What the dataplane sends: no SOFTWARE; the txid may sit in the buffer. */
static void
test_build_in_place(void **state)
{
	struct mr_sockaddr src = { .ip = { 198, 18, 0, 10 }, .family = MR_AF_INET };
	uint8_t buf[MR_STUN_RESPONSE_MAX];
	struct mr_stun_msg m;
	uint16_t n;

	(void)state;
	src.port_be = (uint16_t)__builtin_bswap16(40000);
	memcpy(buf, sample_request, sizeof(buf));
	n = mr_stun_build_response(buf, sizeof(buf), buf + 8, &src, PWD, NULL);
	assert_int_equal(n, 64);
	assert_true(mr_stun_parse(buf, n, &m));
	assert_int_equal(m.type, MR_STUN_BINDING_SUCCESS);
	assert_memory_equal(m.txid, sample_request + 8, MR_STUN_TXID_LEN);
	assert_true(mr_stun_fingerprint_ok(buf, &m));
	assert_true(mr_stun_integrity_ok(buf, &m, (const uint8_t *)PWD, strlen(PWD)));
	/* XOR-MAPPED-ADDRESS decodes to the source. */
	assert_int_equal(buf[m.xor_mapped_off + 1], 1);
	assert_int_equal(((buf[m.xor_mapped_off + 2] ^ 0x21) << 8 | (buf[m.xor_mapped_off + 3] ^ 0x12)), 40000);
	assert_int_equal(buf[m.xor_mapped_off + 4] ^ 0x21, 198);
	assert_int_equal(buf[m.xor_mapped_off + 7] ^ 0x42, 10);
	src.family = MR_AF_INET6;
	assert_int_equal(mr_stun_build_response(buf, sizeof(buf), buf + 8, &src, PWD, NULL),
			 MR_STUN_RESPONSE_MAX);
}

static size_t make_msg(uint8_t *out, uint16_t type, const char *username, const char *pwd,
		       bool use_candidate);

/* A check as a full agent sends it, MI and FP computed independently here. */
static size_t
make_check(uint8_t *out, const char *username, const char *pwd, bool use_candidate)
{
	return make_msg(out, 0x0001, username, pwd, use_candidate);
}

static size_t
make_msg(uint8_t *out, uint16_t type, const char *username, const char *pwd, bool use_candidate)
{
	size_t ul = strlen(username), off = 20;
	unsigned int mdlen = 0;
	uint32_t crc;
	size_t i;
	int k;

	memset(out, 0, 256);
	out[0] = (uint8_t)(type >> 8);
	out[1] = (uint8_t)type;
	out[4] = 0x21, out[5] = 0x12, out[6] = 0xa4, out[7] = 0x42;
	for (i = 0; i < 12; i++)
		out[8 + i] = (uint8_t)(0x40 + i);
	out[off] = 0x00, out[off + 1] = 0x06, out[off + 3] = (uint8_t)ul;
	memcpy(out + off + 4, username, ul);
	off += 4 + ((ul + 3) & ~3u);
	out[off] = 0x00, out[off + 1] = 0x24, out[off + 3] = 4;
	out[off + 4] = 0x6e, out[off + 7] = 0xff;
	off += 8;
	out[off] = 0x80, out[off + 1] = 0x2a, out[off + 3] = 8;
	off += 12;
	if (use_candidate) {
		out[off] = 0x00, out[off + 1] = 0x25;
		off += 4;
	}
	out[3] = (uint8_t)(off + 24 - 20);
	out[off] = 0x00, out[off + 1] = 0x08, out[off + 3] = 20;
	HMAC(EVP_sha1(), pwd, (int)strlen(pwd), out, off, out + off + 4, &mdlen);
	off += 24;
	out[3] = (uint8_t)(off + 8 - 20);
	crc = 0xffffffffu;
	for (i = 0; i < off; i++) {
		crc ^= out[i];
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
	}
	crc = ~crc ^ 0x5354554eu;
	out[off] = 0x80, out[off + 1] = 0x28, out[off + 3] = 4;
	out[off + 4] = (uint8_t)(crc >> 24), out[off + 5] = (uint8_t)(crc >> 16);
	out[off + 6] = (uint8_t)(crc >> 8), out[off + 7] = (uint8_t)crc;
	return off + 8;
}

static void
test_ice_checks(void **state)
{
	const char *pwd = "relaypasswordof24chars__";
	struct mr_stun_msg m;
	uint8_t req[256];
	size_t n;

	(void)state;
	n = make_check(req, "mrly:peer", pwd, true);
	assert_int_equal(mr_stun_check_request(req, (uint32_t)n, "mrly", pwd, &m), MR_STUN_OK);
	assert_true(m.use_candidate && m.controlling);
	n = make_check(req, "mrly:peer", pwd, false);
	assert_int_equal(mr_stun_check_request(req, (uint32_t)n, "mrly", pwd, &m), MR_STUN_OK);
	assert_false(m.use_candidate);
	/* The relay's ufrag comes first; the reversed order is refused. */
	n = make_check(req, "peer:mrly", pwd, true);
	assert_int_equal(mr_stun_check_request(req, (uint32_t)n, "mrly", pwd, &m), MR_STUN_AUTH);
	/* A ufrag that only starts like ours, or no peer part. */
	n = make_check(req, "mrlyx:peer", pwd, true);
	assert_int_equal(mr_stun_check_request(req, (uint32_t)n, "mrly", pwd, &m), MR_STUN_AUTH);
	n = make_check(req, "mrly:", pwd, true);
	assert_int_equal(mr_stun_check_request(req, (uint32_t)n, "mrly", pwd, &m), MR_STUN_OK);
	n = make_check(req, "mrly", pwd, true);
	assert_int_equal(mr_stun_check_request(req, (uint32_t)n, "mrly", pwd, &m), MR_STUN_AUTH);
	/* Wrong password: integrity fails, FINGERPRINT is still right. */
	n = make_check(req, "mrly:peer", "some-other-password-xxx", true);
	assert_int_equal(mr_stun_check_request(req, (uint32_t)n, "mrly", pwd, &m), MR_STUN_AUTH);
	/* Empty credentials match nothing. */
	n = make_check(req, "mrly:peer", pwd, true);
	assert_int_equal(mr_stun_check_request(req, (uint32_t)n, "", pwd, &m), MR_STUN_AUTH);
	assert_int_equal(mr_stun_check_request(req, (uint32_t)n, "mrly", "", &m), MR_STUN_AUTH);
	/* A flipped bit under the MAC breaks the FINGERPRINT first. */
	req[25] ^= 1;
	assert_int_equal(mr_stun_check_request(req, (uint32_t)n, "mrly", pwd, &m), MR_STUN_MALFORMED);
	req[25] ^= 1;
	/* A wrong FINGERPRINT alone. */
	req[n - 1] ^= 1;
	assert_int_equal(mr_stun_check_request(req, (uint32_t)n, "mrly", pwd, &m), MR_STUN_MALFORMED);
	req[n - 1] ^= 1;
	assert_int_equal(mr_stun_check_request(req, (uint32_t)n, "mrly", pwd, &m), MR_STUN_OK);
	/* An indication (keepalive) or a response is not answered, even signed. */
	n = make_msg(req, MR_STUN_BINDING_INDICATION, "mrly:peer", pwd, false);
	assert_int_equal(mr_stun_check_request(req, (uint32_t)n, "mrly", pwd, &m), MR_STUN_NOT_REQUEST);
	n = make_msg(req, MR_STUN_BINDING_SUCCESS, "mrly:peer", pwd, false);
	assert_int_equal(mr_stun_check_request(req, (uint32_t)n, "mrly", pwd, &m), MR_STUN_NOT_REQUEST);
}

static void
test_malformed(void **state)
{
	uint8_t buf[sizeof(sample_request) + 8];
	struct mr_stun_msg m;
	uint32_t i;

	(void)state;
	/* Every truncation is refused (the length field no longer fits). */
	for (i = 0; i < sizeof(sample_request); i++)
		assert_false(mr_stun_parse(sample_request, i, &m));
	memcpy(buf, sample_request, sizeof(sample_request));
	/* Bad cookie; top bits set; length not a multiple of 4. */
	buf[4] ^= 1;
	assert_false(mr_stun_parse(buf, sizeof(sample_request), &m));
	buf[4] ^= 1;
	buf[0] |= 0x40;
	assert_false(mr_stun_parse(buf, sizeof(sample_request), &m));
	buf[0] &= 0x3f;
	buf[3] = 0x59;
	assert_false(mr_stun_parse(buf, sizeof(sample_request), &m));
	buf[3] = 0x58;
	/* An attribute after FINGERPRINT. */
	memcpy(buf + sizeof(sample_request), "\x00\x24\x00\x04\x00\x00\x00\x00", 8);
	buf[3] = 0x60;
	assert_false(mr_stun_parse(buf, sizeof(buf), &m));
	buf[3] = 0x58;
	/* An attribute overrunning the message. */
	buf[23] = 0x40;
	assert_false(mr_stun_parse(buf, sizeof(sample_request), &m));
	buf[23] = 0x10;
	/* MESSAGE-INTEGRITY of the wrong size. */
	buf[79] = 0x10;
	assert_false(mr_stun_parse(buf, sizeof(sample_request), &m));
	buf[79] = 0x14;
	assert_true(mr_stun_parse(buf, sizeof(sample_request), &m));
	/* No FINGERPRINT: parses, but an ICE check must carry one. */
	buf[3] = 0x50;
	assert_true(mr_stun_parse(buf, sizeof(sample_request) - 8, &m));
	assert_int_equal(mr_stun_check_request(buf, sizeof(sample_request) - 8, "evtj", PWD, &m),
			 MR_STUN_MALFORMED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc5769_request),
		cmocka_unit_test(test_rfc5769_responses_verify),
		cmocka_unit_test(test_rfc5769_responses_build),
		cmocka_unit_test(test_build_in_place),
		cmocka_unit_test(test_ice_checks),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
