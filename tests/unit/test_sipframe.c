/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SIP framing (controlplane/sip/sipframe.c): pipelined messages, a message
 * fed one byte at a time, the compact "l" header and header-name case,
 * folded and spaced headers, RFC 5626 keep-alives (ping, lone CRLF, CRLFs
 * before a message), Content-Length missing, negative, malformed,
 * duplicated or too large, oversize header blocks, and datagrams.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sipframe.h"

#define MAX 65535u

#define INVITE_HDR                                       \
	"INVITE sip:bob@example.net SIP/2.0\r\n"         \
	"Via: SIP/2.0/TLS 192.0.2.1;branch=z9hG4bK1\r\n" \
	"Call-ID: a@b\r\n"
#define BODY "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n"

static enum mr_sip_frame
frame(const char *s, size_t *len)
{
	return mr_sip_frame(s, strlen(s), MAX, len);
}

static void
test_one_message(void **state)
{
	const char *m = INVITE_HDR "Content-Length: 31\r\n\r\n" BODY;
	size_t len = 0;

	(void)state;
	assert_int_equal(strlen(BODY), 31);
	assert_int_equal(frame(m, &len), MR_SIP_FRAME_MSG);
	assert_int_equal(len, strlen(m));
}

static void
test_pipelined(void **state)
{
	char buf[1024];
	const char *a = INVITE_HDR "Content-Length: 31\r\n\r\n" BODY;
	const char *b = "SIP/2.0 200 OK\r\nl: 0\r\n\r\n";
	const char *c = "OPTIONS sip:x SIP/2.0\r\ncontent-length:3\r\n\r\nabc";
	size_t off = 0, len = 0, n;

	(void)state;
	n = (size_t)snprintf(buf, sizeof(buf), "%s%s%s", a, b, c);
	assert_int_equal(mr_sip_frame(buf, n, MAX, &len), MR_SIP_FRAME_MSG);
	assert_int_equal(len, strlen(a));
	off += len;
	assert_int_equal(mr_sip_frame(buf + off, n - off, MAX, &len), MR_SIP_FRAME_MSG);
	assert_int_equal(len, strlen(b));
	off += len;
	assert_int_equal(mr_sip_frame(buf + off, n - off, MAX, &len), MR_SIP_FRAME_MSG);
	assert_int_equal(len, strlen(c));
	assert_int_equal(off + len, n);
	/* the next one started: need more */
	assert_int_equal(mr_sip_frame("INVITE", 6, MAX, &len), MR_SIP_FRAME_NEED);
}

/* Every prefix is NEED, the whole is MSG: reads split anywhere. */
static void
test_split_reads(void **state)
{
	const char *m = INVITE_HDR "Content-Length: 31\r\n\r\n" BODY;
	size_t i, len = 0, n = strlen(m);

	(void)state;
	for (i = 0; i < n; i++) {
		if (i == 0)
			continue;
		assert_int_equal(mr_sip_frame(m, i, MAX, &len), MR_SIP_FRAME_NEED);
	}
	assert_int_equal(mr_sip_frame(m, n, MAX, &len), MR_SIP_FRAME_MSG);
	assert_int_equal(len, n);
}

static void
test_header_forms(void **state)
{
	size_t len = 0;

	(void)state;
	assert_int_equal(frame("BYE x SIP/2.0\r\nL:2\r\n\r\nhi", &len), MR_SIP_FRAME_MSG);
	assert_int_equal(len, 24);
	assert_int_equal(frame("BYE x SIP/2.0\r\nCONTENT-LENGTH \t:  2 \r\n\r\nhi", &len),
			 MR_SIP_FRAME_MSG);
	/* folded value (RFC 3261 7.3.1) */
	assert_int_equal(frame("BYE x SIP/2.0\r\nContent-Length:\r\n 2\r\n\r\nhi", &len),
			 MR_SIP_FRAME_MSG);
	/* a header that merely starts with "l" or contains the name */
	assert_int_equal(frame("BYE x SIP/2.0\r\nLength: 5\r\nl: 0\r\n\r\n", &len),
			 MR_SIP_FRAME_MSG);
	assert_int_equal(frame("BYE x SIP/2.0\r\nX-Content-Length: 5\r\nl: 0\r\n\r\n", &len),
			 MR_SIP_FRAME_MSG);
	/* a folded line of another header that looks like Content-Length */
	assert_int_equal(frame("BYE x SIP/2.0\r\nSubject: a\r\n l: 9\r\nl: 0\r\n\r\n", &len),
			 MR_SIP_FRAME_MSG);
	/* the start line is not a header */
	assert_int_equal(frame("l: 5 x SIP/2.0\r\nl: 0\r\n\r\n", &len), MR_SIP_FRAME_MSG);
	/* leading zeros */
	assert_int_equal(frame("BYE x SIP/2.0\r\nl: 0002\r\n\r\nhi", &len), MR_SIP_FRAME_MSG);
	assert_int_equal(len, 28);
}

static void
test_keepalive(void **state)
{
	size_t len = 0;

	(void)state;
	assert_int_equal(mr_sip_frame("\r\n\r\n", 4, MAX, &len), MR_SIP_FRAME_PING);
	assert_int_equal(len, 4);
	/* a lone CRLF waits: ping or CRLF before a message? */
	assert_int_equal(mr_sip_frame("\r\n", 2, MAX, &len), MR_SIP_FRAME_NEED);
	assert_int_equal(mr_sip_frame("\r", 1, MAX, &len), MR_SIP_FRAME_NEED);
	assert_int_equal(mr_sip_frame("\r\n\r", 3, MAX, &len), MR_SIP_FRAME_NEED);
	/* CRLF before a start line is skipped (RFC 3261 7.5) */
	assert_int_equal(frame("\r\nBYE x SIP/2.0\r\nl: 0\r\n\r\n", &len), MR_SIP_FRAME_SKIP);
	assert_int_equal(len, 2);
	/* ping then a message */
	assert_int_equal(frame("\r\n\r\nBYE x SIP/2.0\r\nl: 0\r\n\r\n", &len), MR_SIP_FRAME_PING);
	assert_int_equal(len, 4);
	/* a CRLFCRLF inside a message is its end, never a ping */
	assert_int_equal(frame("BYE x SIP/2.0\r\nl: 0\r\n\r\n\r\n\r\n", &len), MR_SIP_FRAME_MSG);
	assert_int_equal(len, 23);
}

static void
test_bad_length(void **state)
{
	size_t len = 0;

	(void)state;
	/* RFC 3261 18.3: a stream message must say how long its body is */
	assert_int_equal(frame("BYE x SIP/2.0\r\nCall-ID: a\r\n\r\n", &len), MR_SIP_FRAME_BAD);
	assert_int_equal(frame("BYE x SIP/2.0\r\n\r\n", &len), MR_SIP_FRAME_BAD);
	assert_int_equal(frame("BYE x SIP/2.0\r\nl: -1\r\n\r\n", &len), MR_SIP_FRAME_BAD);
	assert_int_equal(frame("BYE x SIP/2.0\r\nl: +1\r\n\r\nx", &len), MR_SIP_FRAME_BAD);
	assert_int_equal(frame("BYE x SIP/2.0\r\nl:\r\n\r\n", &len), MR_SIP_FRAME_BAD);
	assert_int_equal(frame("BYE x SIP/2.0\r\nl: 1 2\r\n\r\nxx", &len), MR_SIP_FRAME_BAD);
	assert_int_equal(frame("BYE x SIP/2.0\r\nl: 0x10\r\n\r\n", &len), MR_SIP_FRAME_BAD);
	assert_int_equal(frame("BYE x SIP/2.0\r\nl: 1;x\r\n\r\nx", &len), MR_SIP_FRAME_BAD);
	/* duplicates, even equal ones: two parsers must never disagree */
	assert_int_equal(frame("BYE x SIP/2.0\r\nl: 0\r\nContent-Length: 0\r\n\r\n", &len),
			 MR_SIP_FRAME_BAD);
	assert_int_equal(frame("BYE x SIP/2.0\r\nl: 0\r\nl: 5\r\n\r\nabcde", &len),
			 MR_SIP_FRAME_BAD);
}

static void
test_oversize(void **state)
{
	static char big[MAX + 100];
	size_t len = 0;
	int n;

	(void)state;
	/* a length past the limit, however many digits */
	assert_int_equal(frame("BYE x SIP/2.0\r\nl: 65536\r\n\r\n", &len), MR_SIP_FRAME_TOO_BIG);
	assert_int_equal(frame("BYE x SIP/2.0\r\nl: 99999999999999999999999999\r\n\r\n", &len),
			 MR_SIP_FRAME_TOO_BIG);
	/* headers plus body one past the limit, and exactly at it */
	n = snprintf(big, sizeof(big), "BYE x SIP/2.0\r\nl: %u\r\n\r\n", 100u);
	assert_int_equal(mr_sip_frame(big, (size_t)n + 100, (size_t)n + 99, &len),
			 MR_SIP_FRAME_TOO_BIG);
	assert_int_equal(mr_sip_frame(big, (size_t)n + 100, (size_t)n + 100, &len),
			 MR_SIP_FRAME_MSG);
	/* a header block that never ends: refused once the limit is reached */
	memset(big, 'a', sizeof(big));
	assert_int_equal(mr_sip_frame(big, MAX - 1, MAX, &len), MR_SIP_FRAME_NEED);
	assert_int_equal(mr_sip_frame(big, MAX, MAX, &len), MR_SIP_FRAME_TOO_BIG);
	assert_int_equal(mr_sip_frame(big, sizeof(big), MAX, &len), MR_SIP_FRAME_TOO_BIG);
}

static void
test_datagram(void **state)
{
	const char *m = "OPTIONS sip:x SIP/2.0\r\nl: 3\r\n\r\nabcEXTRA";
	size_t len = 0;

	(void)state;
	/* cut to Content-Length */
	assert_int_equal(mr_sip_frame_datagram(m, strlen(m), MAX, &len), MR_SIP_FRAME_MSG);
	assert_int_equal(len, strlen(m) - 5);
	/* no Content-Length: the datagram is the message */
	m = "OPTIONS sip:x SIP/2.0\r\nCall-ID: a\r\n\r\nbody";
	assert_int_equal(mr_sip_frame_datagram(m, strlen(m), MAX, &len), MR_SIP_FRAME_MSG);
	assert_int_equal(len, strlen(m));
	/* truncated body, bad length, no header end */
	m = "OPTIONS sip:x SIP/2.0\r\nl: 30\r\n\r\nabc";
	assert_int_equal(mr_sip_frame_datagram(m, strlen(m), MAX, &len), MR_SIP_FRAME_BAD);
	m = "OPTIONS sip:x SIP/2.0\r\nl: -3\r\n\r\nabc";
	assert_int_equal(mr_sip_frame_datagram(m, strlen(m), MAX, &len), MR_SIP_FRAME_BAD);
	m = "OPTIONS sip:x SIP/2.0\r\nl: 3\r\n";
	assert_int_equal(mr_sip_frame_datagram(m, strlen(m), MAX, &len), MR_SIP_FRAME_BAD);
	/* keep-alives */
	assert_int_equal(mr_sip_frame_datagram("\r\n\r\n", 4, MAX, &len), MR_SIP_FRAME_SKIP);
	assert_int_equal(len, 4);
	assert_int_equal(mr_sip_frame_datagram("\r\n", 2, MAX, &len), MR_SIP_FRAME_SKIP);
	m = "OPTIONS sip:x SIP/2.0\r\nl: 3\r\n\r\nabc";
	assert_int_equal(mr_sip_frame_datagram(m, strlen(m), 10, &len), MR_SIP_FRAME_TOO_BIG);
}

/* Junk never reads past the buffer (the fuzz target goes further). */
static void
test_junk(void **state)
{
	static const char *const junk[] = {
		"\n\n\n", "\r\r\r\r", ":\r\n\r\n", "x\r\n:\r\n\r\n", "x\r\nl\r\n\r\n",
		"x\r\n\tl: 1\r\n\r\n", "\0\0\0\0", "x\r\nl: 0\r\n\r",
	};
	size_t i, len = 0;

	(void)state;
	for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		enum mr_sip_frame r = mr_sip_frame(junk[i], strlen(junk[i]) ? strlen(junk[i]) : 4,
						   MAX, &len);

		assert_true(r <= MR_SIP_FRAME_BAD);
		(void)mr_sip_frame_datagram(junk[i], strlen(junk[i]), MAX, &len);
	}
	/* a header line with no colon and no Content-Length elsewhere */
	assert_int_equal(frame("x\r\nl\r\n\r\n", &len), MR_SIP_FRAME_BAD);
	/* a continuation line right after the start line belongs to no header */
	assert_int_equal(frame("x\r\n\tl: 1\r\nl: 0\r\n\r\n", &len), MR_SIP_FRAME_MSG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_message),
		cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_split_reads),
		cmocka_unit_test(test_header_forms),
		cmocka_unit_test(test_keepalive),
		cmocka_unit_test(test_bad_length),
		cmocka_unit_test(test_oversize),
		cmocka_unit_test(test_datagram),
		cmocka_unit_test(test_junk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
