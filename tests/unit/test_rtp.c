/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mr_media_classify(), mr_rtp_parse(), mr_rtcp_parse(): valid packets of
 * every shape, every malformed case, and every prefix of valid packets.
 * Packets are built here byte by byte. Each call gets a heap copy of
 * exactly its length (a zero-length input is the one-past-end pointer of
 * a 1-byte block), so a read outside [p, p + len) trips ASan.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <mrelay/counters.h>

#include "rtp.h"

#define REASON_UNSET 0xaa       /* ret_reason before the call */
#define RI_FILL 0x5c            /* *ri before the call: untouched on failure */

#define T_SEQ 0x1234u
#define T_TS 0xa0b0c0d0u
#define T_SSRC 0xdeadbeefu
#define T_CSRC 0x11223344u

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* Heap copy of exactly @len bytes; free with copy_free(). */
static uint8_t *
copy_exact(const uint8_t *p, size_t len)
{
	uint8_t *buf = malloc(len ? len : 1);

	assert_non_null(buf);
	if (len == 0)
		return buf + 1;         /* nothing may be read from here */
	memcpy(buf, p, len);
	return buf;
}

static void
copy_free(uint8_t *buf, size_t len)
{
	free(len ? buf : buf - 1);
}

/* ---- builders ---- */

struct rtp_spec {
	unsigned int cc;        /* CSRC count */
	int ext_words;          /* extension length in words, -1: no X bit */
	unsigned int payload;   /* payload bytes */
	unsigned int pad;       /* padding bytes (P set, last = count), 0: none */
	unsigned int trailer;   /* SRTP MKI + tag bytes */
	bool marker;
	uint8_t pt;
};

/* Writes the packet @s describes into @f and returns its length. */
static size_t
build_rtp(uint8_t *f, const struct rtp_spec *s)
{
	size_t off = 12;
	unsigned int i;

	f[0] = (uint8_t)(0x80 | (s->pad ? 0x20 : 0) | (s->ext_words >= 0 ? 0x10 : 0) | s->cc);
	f[1] = (uint8_t)((s->marker ? 0x80 : 0) | s->pt);
	put16(f + 2, T_SEQ);
	put32(f + 4, T_TS);
	put32(f + 8, T_SSRC);
	for (i = 0; i < s->cc; i++, off += 4)
		put32(f + off, T_CSRC + i);
	if (s->ext_words >= 0) {
		put16(f + off, 0xbede);         /* RFC 8285 one-byte form */
		put16(f + off + 2, (uint16_t)s->ext_words);
		off += 4;
		memset(f + off, 0x22, 4u * (unsigned int)s->ext_words);
		off += 4u * (unsigned int)s->ext_words;
	}
	memset(f + off, 0x5a, s->payload);
	off += s->payload;
	if (s->pad) {
		memset(f + off, 0, s->pad);
		off += s->pad;
		f[off - 1] = (uint8_t)s->pad;
	}
	memset(f + off, 0xee, s->trailer);
	return off + s->trailer;
}

static size_t
spec_hdr_len(const struct rtp_spec *s)
{
	return 12 + 4 * s->cc + (s->ext_words >= 0 ? 4 + 4 * (size_t)s->ext_words : 0);
}

/* One RTCP packet: header, SSRC, body bytes 0x33 up to (len_words + 1) * 4. */
static size_t
put_rtcp(uint8_t *p, uint8_t rc, uint8_t pt, uint16_t len_words, uint32_t ssrc)
{
	size_t n = 4u * ((size_t)len_words + 1);

	p[0] = (uint8_t)(0x80 | rc);
	p[1] = pt;
	put16(p + 2, len_words);
	if (n >= 8) {
		put32(p + 4, ssrc);
		memset(p + 8, 0x33, n - 8);
	}
	return n;
}

/* SR (28 bytes, no report block) + RR with one report block (32 bytes). */
static size_t
build_sr_rr(uint8_t *f)
{
	size_t n = put_rtcp(f, 0, 200, 6, T_SSRC);

	return n + put_rtcp(f + n, 1, 201, 7, T_SSRC);
}

/* ---- call wrappers ---- */

static enum mr_media_kind
classify_copy(const uint8_t *p, size_t len)
{
	uint8_t *buf = copy_exact(p, len);
	enum mr_media_kind k = mr_media_classify(buf, (uint32_t)len);

	copy_free(buf, len);
	return k;
}

static bool
rtp_copy(const uint8_t *p, size_t len, uint32_t trailer, bool check_padding,
	 struct mr_rtp_info *ri, uint8_t *reason)
{
	uint8_t *buf = copy_exact(p, len);
	bool ok;

	memset(ri, RI_FILL, sizeof(*ri));
	*reason = REASON_UNSET;
	ok = mr_rtp_parse(buf, (uint32_t)len, trailer, check_padding, ri, reason);
	copy_free(buf, len);
	return ok;
}

static bool
rtcp_copy(const uint8_t *p, size_t len, uint32_t trailer,
	  struct mr_rtcp_info *ri, uint8_t *reason)
{
	uint8_t *buf = copy_exact(p, len);
	bool ok;

	memset(ri, RI_FILL, sizeof(*ri));
	*reason = REASON_UNSET;
	ok = mr_rtcp_parse(buf, (uint32_t)len, trailer, ri, reason);
	copy_free(buf, len);
	return ok;
}

static void
assert_untouched(const void *ri, size_t n)
{
	const uint8_t *b = ri;
	size_t i;

	for (i = 0; i < n; i++)
		assert_int_equal(b[i], RI_FILL);
}

static void
rtp_ok(const uint8_t *p, size_t len, uint32_t trailer, bool check_padding,
       struct mr_rtp_info *ri)
{
	uint8_t reason;

	assert_true(rtp_copy(p, len, trailer, check_padding, ri, &reason));
	assert_int_equal(reason, REASON_UNSET);     /* only written on failure */
}

static void
rtp_bad(const uint8_t *p, size_t len, uint32_t trailer, bool check_padding)
{
	struct mr_rtp_info ri;
	uint8_t reason;

	assert_false(rtp_copy(p, len, trailer, check_padding, &ri, &reason));
	assert_int_equal(reason, MR_DROP_MALFORMED);
	assert_untouched(&ri, sizeof(ri));
}

static void
rtcp_ok(const uint8_t *p, size_t len, uint32_t trailer, struct mr_rtcp_info *ri)
{
	uint8_t reason;

	assert_true(rtcp_copy(p, len, trailer, ri, &reason));
	assert_int_equal(reason, REASON_UNSET);
}

static void
rtcp_bad(const uint8_t *p, size_t len, uint32_t trailer)
{
	struct mr_rtcp_info ri;
	uint8_t reason;

	assert_false(rtcp_copy(p, len, trailer, &ri, &reason));
	assert_int_equal(reason, MR_DROP_MALFORMED);
	assert_untouched(&ri, sizeof(ri));
}

/* Parse the packet @s describes and check every field against @s. */
static void
rtp_ok_spec(const struct rtp_spec *s, bool check_padding)
{
	uint8_t f[512];
	size_t len = build_rtp(f, s);
	struct mr_rtp_info ri;

	rtp_ok(f, len, s->trailer, check_padding, &ri);
	assert_int_equal(ri.ssrc, T_SSRC);
	assert_int_equal(ri.timestamp, T_TS);
	assert_int_equal(ri.seq, T_SEQ);
	assert_int_equal(ri.hdr_len, spec_hdr_len(s));
	assert_int_equal(ri.pt, s->pt);
	assert_int_equal(ri.marker, s->marker);
	if (check_padding) {
		assert_int_equal(ri.pad_len, s->pad);
		assert_int_equal(ri.payload_len, s->payload);
	} else {
		/* unchecked padding stays in the payload (it may be encrypted) */
		assert_int_equal(ri.pad_len, 0);
		assert_int_equal(ri.payload_len, s->payload + s->pad);
	}
}

/* ---- RTP: valid ---- */

static void
test_rtp_plain(void **state)
{
	struct rtp_spec s = { .ext_words = -1, .payload = 160, .pt = 0 };

	(void)state;
	rtp_ok_spec(&s, true);
	rtp_ok_spec(&s, false);
	s.payload = 0;                  /* header only: legal, e.g. keepalive */
	rtp_ok_spec(&s, true);
	s.pt = 127;
	rtp_ok_spec(&s, true);
}

static void
test_rtp_marker(void **state)
{
	struct rtp_spec s = { .ext_words = -1, .payload = 20, .marker = true, .pt = 96 };
	uint8_t f[64];
	struct mr_rtp_info ri;

	(void)state;
	rtp_ok_spec(&s, true);
	/* M set on PT 0: the byte is 0x80, not PT 128 */
	s.pt = 0;
	build_rtp(f, &s);
	assert_int_equal(f[1], 0x80);
	rtp_ok(f, 32, 0, true, &ri);
	assert_true(ri.marker);
	assert_int_equal(ri.pt, 0);
}

static void
test_rtp_csrc(void **state)
{
	struct rtp_spec s = { .ext_words = -1, .payload = 20, .pt = 8 };

	(void)state;
	for (s.cc = 1; s.cc <= 15; s.cc++)
		rtp_ok_spec(&s, true);
	s.cc = 15;
	s.payload = 0;                  /* 15 CSRCs exactly fill the packet */
	rtp_ok_spec(&s, true);
}

static void
test_rtp_extension(void **state)
{
	struct rtp_spec s = { .ext_words = 0, .payload = 20, .pt = 111 };

	(void)state;
	rtp_ok_spec(&s, true);          /* X with an empty extension: 16 bytes */
	s.ext_words = 3;
	rtp_ok_spec(&s, true);
	s.cc = 2;                       /* the extension follows the CSRCs */
	rtp_ok_spec(&s, true);
	s.payload = 0;                  /* extension ends at the last byte */
	rtp_ok_spec(&s, true);
}

static void
test_rtp_padding(void **state)
{
	struct rtp_spec s = { .ext_words = -1, .payload = 20, .pad = 4, .pt = 96 };

	(void)state;
	rtp_ok_spec(&s, true);
	rtp_ok_spec(&s, false);
	s.pad = 1;                      /* the count byte alone */
	rtp_ok_spec(&s, true);
	s.pad = 255;
	rtp_ok_spec(&s, true);
	s.payload = 0;                  /* padding-only packet (RFC 3550 5.1) */
	s.pad = 12;
	rtp_ok_spec(&s, true);
	/* everything at once */
	s = (struct rtp_spec){ .cc = 3, .ext_words = 2, .payload = 33, .pad = 3,
			       .marker = true, .pt = 100 };
	rtp_ok_spec(&s, true);
	rtp_ok_spec(&s, false);
}

static void
test_rtp_srtp_trailer(void **state)
{
	struct rtp_spec s = { .ext_words = -1, .payload = 160, .trailer = 10, .pt = 0 };
	uint8_t f[64];
	struct mr_rtp_info ri;
	size_t len;

	(void)state;
	rtp_ok_spec(&s, false);         /* AES_CM_128_HMAC_SHA1_80 */
	s.trailer = 4 + 10;             /* with a 4-byte MKI */
	rtp_ok_spec(&s, false);
	s.trailer = 16;                 /* AEAD tag counted as trailer */
	s.cc = 2;
	s.ext_words = 1;
	rtp_ok_spec(&s, false);
	/* padding checked on decrypted packets still sits before any trailer */
	s = (struct rtp_spec){ .ext_words = -1, .payload = 10, .pad = 6, .trailer = 10 };
	rtp_ok_spec(&s, true);
	/* a trailer that leaves exactly the header */
	s = (struct rtp_spec){ .ext_words = -1, .trailer = 10 };
	len = build_rtp(f, &s);
	rtp_ok(f, len, 10, false, &ri);
	assert_int_equal(ri.payload_len, 0);
}

/* ---- RTP: malformed ---- */

static void
test_rtp_bad_version(void **state)
{
	struct rtp_spec s = { .ext_words = -1, .payload = 20 };
	uint8_t f[64];
	size_t len = build_rtp(f, &s);
	unsigned int v;

	(void)state;
	for (v = 0; v < 4; v++) {
		f[0] = (uint8_t)((f[0] & 0x3f) | (v << 6));
		if (v == 2)
			continue;
		rtp_bad(f, len, 0, true);
		rtp_bad(f, len, 0, false);
		rtp_bad(f, len, 4, false);
	}
}

/* Every prefix of @s's packet: false whenever the header cannot fit. */
static void
rtp_prefixes(const struct rtp_spec *s, bool check_padding)
{
	uint8_t f[512];
	size_t full = build_rtp(f, s), hdr = spec_hdr_len(s), n;
	struct mr_rtp_info ri;
	uint8_t reason;

	for (n = 0; n <= full; n++) {
		bool ok = rtp_copy(f, n, s->trailer, check_padding, &ri, &reason);

		if (n < hdr + s->trailer) {
			assert_false(ok);
			assert_int_equal(reason, MR_DROP_MALFORMED);
			continue;
		}
		if (n == full)
			assert_true(ok);
		if (!ok) {
			/* only a checked pad count (the prefix's last byte) may fail */
			assert_true(check_padding && s->pad);
			assert_int_equal(reason, MR_DROP_MALFORMED);
			continue;
		}
		assert_int_equal(ri.hdr_len, hdr);
		assert_int_equal(ri.hdr_len + ri.payload_len + ri.pad_len + s->trailer, n);
	}
}

static void
test_rtp_truncated(void **state)
{
	static const struct rtp_spec specs[] = {
		{ .ext_words = -1, .payload = 20 },
		{ .cc = 2, .ext_words = -1, .payload = 8 },
		{ .ext_words = 2, .payload = 8 },
		{ .cc = 15, .ext_words = 3, .payload = 8 },
		{ .ext_words = -1, .payload = 8, .pad = 4 },
		{ .cc = 1, .ext_words = 1, .payload = 5, .pad = 3, .marker = true },
		{ .ext_words = -1, .payload = 20, .trailer = 10 },
		{ .cc = 1, .ext_words = 1, .payload = 7, .trailer = 14 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		rtp_prefixes(&specs[i], true);
		rtp_prefixes(&specs[i], false);
	}
}

static void
test_rtp_cc_past_end(void **state)
{
	struct rtp_spec s = { .cc = 15, .ext_words = -1 };
	uint8_t f[128];
	size_t len = build_rtp(f, &s);     /* 72 bytes */

	(void)state;
	rtp_bad(f, len - 1, 0, true);
	rtp_bad(f, len - 4, 0, false);
	rtp_bad(f, len, 1, false);          /* the trailer eats the last CSRC */
	f[0] = 0x81;                        /* CC 1 in a 12-byte packet */
	rtp_bad(f, 12, 0, true);
	rtp_bad(f, 15, 0, true);
}

static void
test_rtp_ext_past_end(void **state)
{
	struct rtp_spec s = { .cc = 1, .ext_words = 2, .payload = 0 };
	uint8_t f[128];
	size_t len = build_rtp(f, &s);     /* 12 + 4 + 4 + 8 = 28 */

	(void)state;
	rtp_bad(f, len - 1, 0, true);       /* last extension word cut */
	rtp_bad(f, 16, 0, true);            /* X but no extension header */
	rtp_bad(f, 18, 0, true);            /* half an extension header */
	rtp_bad(f, 20, 0, true);            /* header, no extension data */
	rtp_bad(f, len, 4, false);          /* the trailer overlaps it */
	put16(f + 18, 0xffff);              /* 262140 bytes of extension */
	rtp_bad(f, len, 0, true);
	put16(f + 18, 3);                   /* one word too many */
	rtp_bad(f, len, 0, true);
}

static void
test_rtp_bad_padding(void **state)
{
	struct rtp_spec s = { .ext_words = -1, .payload = 8, .pad = 4 };
	uint8_t f[128];
	size_t len = build_rtp(f, &s);     /* 24 bytes, 12 after the header */

	(void)state;
	f[len - 1] = 0;                     /* count zero */
	rtp_bad(f, len, 0, true);
	f[len - 1] = 13;                    /* one more than the payload */
	rtp_bad(f, len, 0, true);
	f[len - 1] = 255;
	rtp_bad(f, len, 0, true);
	/* unchecked, the same packets are fine (SRTP: count is encrypted) */
	f[len - 1] = 0;
	{
		struct mr_rtp_info ri;

		rtp_ok(f, len, 0, false, &ri);
		assert_int_equal(ri.payload_len, 12);
		assert_int_equal(ri.pad_len, 0);
	}
	/* P set on a header-only packet: no byte left for the count */
	rtp_bad(f, 12, 0, true);
	/* the count must be looked for before the trailer, not in it */
	s = (struct rtp_spec){ .ext_words = -1, .payload = 8, .pad = 4, .trailer = 10 };
	len = build_rtp(f, &s);
	f[len - 1] = 4;                     /* a plausible count in the tag */
	f[len - 11] = 0;                    /* and a bad one where it belongs */
	rtp_bad(f, len, 10, true);
	/* padding bigger than payload once the header has CSRCs and ext */
	s = (struct rtp_spec){ .cc = 2, .ext_words = 1, .payload = 0, .pad = 4 };
	len = build_rtp(f, &s);
	f[len - 1] = 5;
	rtp_bad(f, len, 0, true);
}

static void
test_rtp_trailer_too_large(void **state)
{
	struct rtp_spec s = { .ext_words = -1, .payload = 20 };
	uint8_t f[64];
	size_t len = build_rtp(f, &s);

	(void)state;
	rtp_bad(f, len, (uint32_t)len + 1, false);
	rtp_bad(f, len, (uint32_t)len, false);
	rtp_bad(f, len, (uint32_t)len - 11, false);   /* 11 bytes left */
	rtp_bad(f, len, UINT32_MAX, true);
	rtp_bad(f, 0, 1, false);
	rtp_bad(f, 0, 0, false);
}

static void
test_rtp_max_len(void **state)
{
	uint8_t *f = calloc(1, 65536);
	struct mr_rtp_info ri;

	(void)state;
	assert_non_null(f);
	f[0] = 0x80;
	rtp_ok(f, 65535, 0, true, &ri);
	assert_int_equal(ri.payload_len, 65535 - 12);
	rtp_ok(f, 65535, 65535 - 12, false, &ri);
	assert_int_equal(ri.payload_len, 0);
	/* lengths are 16 bits in mr_rtp_info: no UDP payload is bigger */
	rtp_bad(f, 65536, 0, false);
	rtp_bad(f, 65536, 1, false);
	free(f);
}

/* ---- classify ---- */

static void
test_classify_first_byte(void **state)
{
	uint8_t f[32] = { 0 };
	unsigned int b;

	(void)state;
	put32(f + 4, 0x2112a442);          /* STUN cookie, for 0..3 */
	for (b = 0; b < 256; b++) {
		enum mr_media_kind want;

		if (b <= 3)
			want = MR_MEDIA_STUN;
		else if (b >= 20 && b <= 63)
			want = MR_MEDIA_DTLS;
		else if (b >= 128 && b <= 191)
			want = MR_MEDIA_RTP;        /* second byte 0 */
		else                                /* incl. ZRTP 16..19, TURN 64..79 */
			want = MR_MEDIA_OTHER;
		f[0] = (uint8_t)b;
		assert_int_equal(classify_copy(f, sizeof(f)), want);
		assert_int_equal(classify_copy(f, 20), want);
	}
	/* first-byte-only kinds need no more than the byte */
	f[0] = 22;                          /* DTLS handshake */
	assert_int_equal(classify_copy(f, 1), MR_MEDIA_DTLS);
	f[0] = 16;
	assert_int_equal(classify_copy(f, 1), MR_MEDIA_OTHER);
	f[0] = 64;
	assert_int_equal(classify_copy(f, 4), MR_MEDIA_OTHER);
}

static void
test_classify_rfc5761(void **state)
{
	static const struct {
		uint8_t b1;
		enum mr_media_kind want;
	} cases[] = {
		{ 0, MR_MEDIA_RTP }, { 96, MR_MEDIA_RTP }, { 127, MR_MEDIA_RTP },
		{ 128, MR_MEDIA_RTP }, { 191, MR_MEDIA_RTP },
		{ 192, MR_MEDIA_RTCP }, { 200, MR_MEDIA_RTCP }, { 201, MR_MEDIA_RTCP },
		{ 207, MR_MEDIA_RTCP }, { 223, MR_MEDIA_RTCP },
		{ 224, MR_MEDIA_RTP }, { 255, MR_MEDIA_RTP },
	};
	static const uint8_t b0s[] = { 0x80, 0x81, 0x90, 0xa0, 0xbf };
	uint8_t f[2];
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(b0s); i++) {
		for (j = 0; j < sizeof(cases) / sizeof(cases[0]); j++) {
			f[0] = b0s[i];
			f[1] = cases[j].b1;
			assert_int_equal(classify_copy(f, 2), cases[j].want);
		}
	}
	/* no second byte: cannot tell, not media */
	assert_int_equal(classify_copy(f, 1), MR_MEDIA_OTHER);
	assert_int_equal(classify_copy(f, 0), MR_MEDIA_OTHER);
}

static void
test_classify_stun(void **state)
{
	uint8_t f[28] = { 0 };
	size_t n;

	(void)state;
	put16(f, 0x0001);                   /* Binding request */
	put16(f + 2, 8);
	put32(f + 4, 0x2112a442);
	memset(f + 8, 0x77, 12);            /* transaction id */
	put32(f + 20, 0x80220004);          /* SOFTWARE, 4 bytes */
	assert_int_equal(classify_copy(f, 28), MR_MEDIA_STUN);
	assert_int_equal(classify_copy(f, 20), MR_MEDIA_STUN);
	for (n = 0; n < 20; n++)            /* header not complete */
		assert_int_equal(classify_copy(f, n), MR_MEDIA_OTHER);
	put16(f, 0x0101);                   /* success response: still STUN */
	assert_int_equal(classify_copy(f, 28), MR_MEDIA_STUN);
	f[7] ^= 1;                          /* RFC 3489 style, no cookie */
	assert_int_equal(classify_copy(f, 28), MR_MEDIA_OTHER);
	memset(f + 4, 0, 4);
	assert_int_equal(classify_copy(f, 28), MR_MEDIA_OTHER);
}

/* ---- RTCP ---- */

static void
test_rtcp_compound(void **state)
{
	uint8_t f[128];
	size_t len = build_sr_rr(f);
	struct mr_rtcp_info ri;

	(void)state;
	rtcp_ok(f, len, 0, &ri);
	assert_int_equal(ri.compound_len, 60);
	assert_int_equal(ri.pt, 200);
	assert_int_equal(ri.ssrc, T_SSRC);
	assert_false(ri.srtcp);
	assert_false(ri.e_flag);
	assert_int_equal(ri.srtcp_index, 0);
	/* SR alone, RR alone, + SDES-less BYE (header only, SC 0) */
	rtcp_ok(f, 28, 0, &ri);
	assert_int_equal(ri.compound_len, 28);
	rtcp_ok(f + 28, 32, 0, &ri);
	assert_int_equal(ri.pt, 201);
	len += put_rtcp(f + len, 0, 203, 0, 0);
	rtcp_ok(f, len, 0, &ri);
	assert_int_equal(ri.compound_len, 64);
	/* RR with no report block: the minimal 8-byte compound */
	put_rtcp(f, 0, 201, 1, 0x01020304);
	rtcp_ok(f, 8, 0, &ri);
	assert_int_equal(ri.ssrc, 0x01020304);
}

static void
test_rtcp_first_type(void **state)
{
	uint8_t f[128];
	size_t len = build_sr_rr(f);
	struct mr_rtcp_info ri;

	(void)state;
	f[1] = 192;                         /* RFC 5761 range, inclusive */
	rtcp_ok(f, len, 0, &ri);
	f[1] = 223;
	rtcp_ok(f, len, 0, &ri);
	f[1] = 191;
	rtcp_bad(f, len, 0);
	f[1] = 224;
	rtcp_bad(f, len, 0);
	f[1] = 0;
	rtcp_bad(f, len, 14);
}

static void
test_rtcp_bad_version(void **state)
{
	uint8_t f[128];
	size_t len = build_sr_rr(f);

	(void)state;
	f[0] = 0x40;                        /* V=1 */
	rtcp_bad(f, len, 0);
	f[0] = 0xc0;                        /* V=3 */
	rtcp_bad(f, len, 0);
	f[0] = 0x80;
	f[28] = 0xc1;                       /* second packet V=3 */
	rtcp_bad(f, len, 0);
	f[28] = 0x01;                       /* second packet V=0 */
	rtcp_bad(f, len, 0);
}

static void
test_rtcp_lengths(void **state)
{
	uint8_t f[128];
	size_t len = build_sr_rr(f);
	struct mr_rtcp_info ri;

	(void)state;
	/* a trailing garbage byte, or 2, 3, or a 4-byte non-RTCP tail */
	f[len] = 0x80;
	f[len + 1] = 200;
	f[len + 2] = 0;
	f[len + 3] = 0;
	rtcp_bad(f, len + 1, 0);
	rtcp_bad(f, len + 2, 0);
	rtcp_bad(f, len + 3, 0);
	rtcp_ok(f, len + 4, 0, &ri);        /* that tail is a 4-byte packet */
	f[len] = 0;
	rtcp_bad(f, len + 4, 0);            /* this one is not (V=0) */
	/* second length word one word past the end */
	put16(f + 30, 8);
	rtcp_bad(f, len, 0);
	put16(f + 30, 0xffff);
	rtcp_bad(f, len, 0);
	/* second length word one word short: 4 bytes left over, V=0 */
	put16(f + 30, 6);
	rtcp_bad(f, len, 0);
	put16(f + 30, 7);
	rtcp_ok(f, len, 0, &ri);
	/* first length word past the end, or short so the next is SR body */
	put16(f + 2, 15);
	rtcp_bad(f, len, 0);
	put16(f + 2, 0xffff);
	rtcp_bad(f, len, 0);
	put16(f + 2, 1);
	rtcp_bad(f, len, 0);
}

static void
test_rtcp_truncated(void **state)
{
	uint8_t f[128] = { 0 };         /* four zero bytes after the compound */
	size_t full = build_sr_rr(f), n;
	struct mr_rtcp_info ri;
	uint8_t reason;

	(void)state;
	for (n = 0; n <= full + 4; n++) {
		bool ok = rtcp_copy(f, n, 0, &ri, &reason);

		/* only the SR alone and the whole compound add up */
		assert_int_equal(ok, n == 28 || n == full);
		if (!ok)
			assert_int_equal(reason, MR_DROP_MALFORMED);
		else
			assert_int_equal(ri.compound_len, n);
	}
}

/* SR+RR compound, then @tag bytes (AEAD: inside the compound), E|index, MKI, tag. */
static size_t
build_srtcp(uint8_t *f, uint32_t e_index, size_t aead_tag, size_t mki, size_t tag)
{
	size_t len = build_sr_rr(f);

	memset(f + 8, 0xc3, len - 8);       /* "ciphertext" after the SSRC */
	memset(f + len, 0xa7, aead_tag);
	len += aead_tag;
	put32(f + len, e_index);
	len += 4;
	memset(f + len, 0xff, mki);         /* all ones: not an E|index */
	len += mki;
	memset(f + len, 0xff, tag);
	return len + tag;
}

static void
test_srtcp(void **state)
{
	static const struct {
		uint32_t word;
		bool e;
		uint32_t index;
	} cases[] = {
		{ 0x80000001, true, 1 },
		{ 0x00000005, false, 5 },
		{ 0xffffffff, true, 0x7fffffff },
		{ 0x7fffffff, false, 0x7fffffff },
		{ 0x80000000, true, 0 },
		{ 0x00000000, false, 0 },
	};
	uint8_t f[160];
	struct mr_rtcp_info ri;
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* AES_CM_128_HMAC_SHA1_80: E|index + 10-byte tag */
		len = build_srtcp(f, cases[i].word, 0, 0, 10);
		rtcp_ok(f, len, 14, &ri);
		assert_true(ri.srtcp);
		assert_int_equal(ri.e_flag, cases[i].e);
		assert_int_equal(ri.srtcp_index, cases[i].index);
		assert_int_equal(ri.compound_len, 60);
		assert_int_equal(ri.pt, 200);
		assert_int_equal(ri.ssrc, T_SSRC);
		/* with a 4-byte MKI between E|index and tag */
		len = build_srtcp(f, cases[i].word, 0, 4, 10);
		rtcp_ok(f, len, 18, &ri);
		assert_int_equal(ri.e_flag, cases[i].e);
		assert_int_equal(ri.srtcp_index, cases[i].index);
		assert_int_equal(ri.compound_len, 60);
		/* AEAD (RFC 7714 9.1): tag before E|index, caller passes 4 + MKI */
		len = build_srtcp(f, cases[i].word, 16, 0, 0);
		rtcp_ok(f, len, 4, &ri);
		assert_int_equal(ri.e_flag, cases[i].e);
		assert_int_equal(ri.srtcp_index, cases[i].index);
		assert_int_equal(ri.compound_len, 76);
		len = build_srtcp(f, cases[i].word, 16, 4, 0);
		rtcp_ok(f, len, 8, &ri);
		assert_int_equal(ri.srtcp_index, cases[i].index);
		assert_int_equal(ri.compound_len, 76);
	}
}

static void
test_srtcp_bad(void **state)
{
	uint8_t f[160];
	size_t len = build_srtcp(f, 0x80000001, 0, 0, 10), n;
	struct mr_rtcp_info ri;
	uint8_t reason;
	uint32_t t;

	(void)state;
	/* the encrypted part is not walked, but the first header is checked */
	f[0] = 0x40;
	rtcp_bad(f, len, 14);
	f[0] = 0x80;
	f[1] = 224;
	rtcp_bad(f, len, 14);
	f[1] = 200;
	put16(f + 2, 15);                   /* 64 bytes > 60 of compound */
	rtcp_bad(f, len, 14);
	put16(f + 2, 14);                   /* 60: the whole compound */
	rtcp_ok(f, len, 14, &ri);
	put16(f + 2, 6);
	/* trailer too large, or too small to hold E|index */
	rtcp_bad(f, len, (uint32_t)len + 1);
	rtcp_bad(f, len, (uint32_t)len);
	rtcp_bad(f, len, (uint32_t)len - 7);  /* 7 bytes of compound */
	rtcp_bad(f, len, UINT32_MAX);
	for (t = 1; t < 4; t++)
		rtcp_bad(f, len, t);
	/* every prefix: fine once the SR header and E|index+tag fit */
	for (n = 0; n <= len; n++) {
		bool ok = rtcp_copy(f, n, 14, &ri, &reason);

		assert_int_equal(ok, n >= 28 + 14);
		if (ok)
			assert_int_equal(ri.compound_len + 14, n);
	}
}

static void
test_rtcp_max_len(void **state)
{
	uint8_t *f = calloc(1, 65536);
	struct mr_rtcp_info ri;
	size_t off;

	(void)state;
	assert_non_null(f);
	/* 65532 bytes: the largest a 16-bit length word can describe */
	put_rtcp(f, 0, 201, 0x3ffe, 1);
	rtcp_ok(f, 65532, 0, &ri);
	assert_int_equal(ri.compound_len, 65532);
	/* worst case walk: 1 + 16383 header-only packets */
	put_rtcp(f, 0, 201, 1, 1);
	for (off = 8; off + 4 <= 65532; off += 4)
		put_rtcp(f + off, 0, 203, 0, 0);
	rtcp_ok(f, 65532, 0, &ri);
	rtcp_bad(f, 65533, 0);              /* one zero byte left over */
	rtcp_ok(f, 65535, 4, &ri);          /* SRTCP: only the first is checked */
	assert_int_equal(ri.compound_len, 65531);
	rtcp_bad(f, 65535, 3);
	/* lengths are 16 bits in mr_rtcp_info */
	rtcp_bad(f, 65536, 4);
	rtcp_bad(f, 65536, 0);
	free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rtp_plain),
		cmocka_unit_test(test_rtp_marker),
		cmocka_unit_test(test_rtp_csrc),
		cmocka_unit_test(test_rtp_extension),
		cmocka_unit_test(test_rtp_padding),
		cmocka_unit_test(test_rtp_srtp_trailer),
		cmocka_unit_test(test_rtp_bad_version),
		cmocka_unit_test(test_rtp_truncated),
		cmocka_unit_test(test_rtp_cc_past_end),
		cmocka_unit_test(test_rtp_ext_past_end),
		cmocka_unit_test(test_rtp_bad_padding),
		cmocka_unit_test(test_rtp_trailer_too_large),
		cmocka_unit_test(test_rtp_max_len),
		cmocka_unit_test(test_classify_first_byte),
		cmocka_unit_test(test_classify_rfc5761),
		cmocka_unit_test(test_classify_stun),
		cmocka_unit_test(test_rtcp_compound),
		cmocka_unit_test(test_rtcp_first_type),
		cmocka_unit_test(test_rtcp_bad_version),
		cmocka_unit_test(test_rtcp_lengths),
		cmocka_unit_test(test_rtcp_truncated),
		cmocka_unit_test(test_srtcp),
		cmocka_unit_test(test_srtcp_bad),
		cmocka_unit_test(test_rtcp_max_len),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
