/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * struct sipbuf (controlplane/sip/msg.c), the B2BUA's message builder: in
 * a buffer of every size from none to room to spare, a message that does
 * not fit is flagged, and holds exactly the parts (printf'd text, put
 * bytes, each line of a chained header) that fitted whole before the first
 * that did not: a later, shorter part is not written.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "msg.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char request[] =
	"OPTIONS sip:bob@example.test SIP/2.0\r\n"
	"Via: SIP/2.0/TLS 198.18.0.1:5061;branch=z9hG4bK1\r\n"
	"Via: SIP/2.0/TLS 198.18.0.2:5061;branch=z9hG4bK2\r\n"
	"From: <sip:alice@example.test>;tag=a\r\n"
	"To: <sip:bob@example.test>\r\n"
	"Call-ID: c1\r\n"
	"CSeq: 1 OPTIONS\r\n"
	"Content-Length: 0\r\n"
	"\r\n";

/* The parts build() writes, in order. */
static const char *const parts[] = {
	"SIP/2.0 200 OK\r\n",
	"Via: SIP/2.0/TLS 198.18.0.1:5061;branch=z9hG4bK1\r\n",
	"Via: SIP/2.0/TLS 198.18.0.2:5061;branch=z9hG4bK2\r\n",
	"Call-ID: c1\r\n",
	"X: ",
	"y\r\n",
	"Content-Length: 0\r\n\r\n",
};

static void
build(struct sipbuf *b, const struct sipmsg *m)
{
	sipbuf_printf(b, "SIP/2.0 %d %s\r\n", 200, "OK");
	sipbuf_header(b, m->sip->sip_via, true);
	sipbuf_header(b, m->sip->sip_call_id, false);
	sipbuf_put(b, "X: ", 3);
	sipbuf_printf(b, "%s\r\n", "y");
	sipbuf_finish(b, NULL, 0);
}

static void
test_every_size(void **state)
{
	char full[512], want[512], buf[512];
	struct sipmsg m;
	struct sipbuf b;
	size_t cap, total, i;

	(void)state;
	assert_int_equal(sipmsg_parse(request, strlen(request), &m), 0);
	full[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(parts); i++)
		strcat(full, parts[i]);
	total = strlen(full);

	for (cap = 0; cap <= total + 2; cap++) {
		memset(buf, 'Z', sizeof(buf));
		sipbuf_init(&b, buf, cap);
		build(&b, &m);
		/* what fits: whole parts, with room for the NUL after them */
		want[0] = '\0';
		for (i = 0; i < ARRAY_SIZE(parts) && strlen(want) + strlen(parts[i]) < cap; i++)
			strcat(want, parts[i]);
		assert_int_equal(sipbuf_ok(&b), i == ARRAY_SIZE(parts));
		if (cap == 0) {
			assert_int_equal(buf[0], 'Z');
			continue;
		}
		assert_int_equal(b.len, strlen(want));
		assert_string_equal(buf, want);
	}
	assert_string_equal(buf, full);
	sipmsg_free(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
