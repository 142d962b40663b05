/* SPDX-License-Identifier: BSD-3-Clause */
/* Latch policy: who may move where a leg's media goes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "latch.h"

static struct mr_sockaddr
v4(uint8_t last, uint16_t port)
{
	struct mr_sockaddr a;

	memset(&a, 0, sizeof(a));
	a.family = MR_AF_INET;
	a.ip[0] = 198;
	a.ip[1] = 18;
	a.ip[2] = 1;
	a.ip[3] = last;
	a.port_be = __builtin_bswap16(port);
	return a;
}

static struct mr_latch_in
base(uint8_t policy, const struct mr_sockaddr *hint, const struct mr_sockaddr *cur,
     const struct mr_sockaddr *src)
{
	struct mr_latch_in in = {
		.policy = policy,
		.latched = cur != NULL,
		.window_ms = 3000,
		.relatch_idle_ms = 5000,
		.created_ms = 100000,
		.last_rx_ms = 0,
		.now_ms = 100000,
		.hint = hint,
		.current = cur,
		.src = src,
	};
	return in;
}

static void
first_packet_latches_any_source(void **state)
{
	struct mr_sockaddr hint = v4(1, 4000), nat = v4(99, 61000);
	struct mr_latch_in in = base(MR_LATCH_FIRST, &hint, NULL, &nat);

	(void)state;
	/* The signaled address is only a hint: the NAT's public address wins. */
	assert_int_equal(mr_latch_check(&in, NULL), MR_LATCH_LATCH);
}

static void
latched_source_accepted(void **state)
{
	struct mr_sockaddr nat = v4(99, 61000);
	struct mr_latch_in in = base(MR_LATCH_FIRST, NULL, &nat, &nat);

	(void)state;
	in.now_ms += 60000;
	in.last_rx_ms = in.now_ms - 20;
	assert_int_equal(mr_latch_check(&in, NULL), MR_LATCH_ACCEPT);
}

static void
spoof_after_window_rejected(void **state)
{
	struct mr_sockaddr nat = v4(99, 61000), spoof = v4(66, 61000);
	struct mr_latch_in in = base(MR_LATCH_FIRST, NULL, &nat, &spoof);

	(void)state;
	in.now_ms = in.created_ms + 3000;       /* window just closed */
	in.last_rx_ms = in.now_ms - 20;         /* latched source is talking */
	assert_int_equal(mr_latch_check(&in, NULL), MR_LATCH_REJECT);
	/* Same IP, other port is another source too (RTP-bleed). */
	spoof = v4(99, 61001);
	assert_int_equal(mr_latch_check(&in, NULL), MR_LATCH_REJECT);
}

static void
relatch_within_window(void **state)
{
	struct mr_sockaddr nat = v4(99, 61000), other = v4(99, 62000);
	struct mr_latch_in in = base(MR_LATCH_FIRST, NULL, &nat, &other);

	(void)state;
	in.now_ms = in.created_ms + 2999;
	in.last_rx_ms = in.now_ms - 1;
	assert_int_equal(mr_latch_check(&in, NULL), MR_LATCH_LATCH);
}

static void
relatch_after_silence(void **state)
{
	struct mr_sockaddr nat = v4(99, 61000), rebound = v4(99, 62000);
	struct mr_latch_in in = base(MR_LATCH_FIRST, NULL, &nat, &rebound);

	(void)state;
	in.now_ms = in.created_ms + 600000;
	in.last_rx_ms = in.now_ms - 4999;
	assert_int_equal(mr_latch_check(&in, NULL), MR_LATCH_REJECT);
	in.last_rx_ms = in.now_ms - 5000;
	assert_int_equal(mr_latch_check(&in, NULL), MR_LATCH_LATCH);
}

static void
strict_only_hint(void **state)
{
	struct mr_sockaddr hint = v4(1, 4000), other = v4(2, 4000);
	struct mr_latch_in in = base(MR_LATCH_STRICT, &hint, NULL, &other);

	(void)state;
	assert_int_equal(mr_latch_check(&in, NULL), MR_LATCH_REJECT);
	in.src = &hint;
	assert_int_equal(mr_latch_check(&in, NULL), MR_LATCH_LATCH);
	in.latched = true;
	in.current = &hint;
	assert_int_equal(mr_latch_check(&in, NULL), MR_LATCH_ACCEPT);
	/* Even an idle leg never moves off the signaled address. */
	in.src = &other;
	in.now_ms += 1000000;
	assert_int_equal(mr_latch_check(&in, NULL), MR_LATCH_REJECT);
	/* No hint: nothing is acceptable. */
	in.hint = NULL;
	in.src = &hint;
	assert_int_equal(mr_latch_check(&in, NULL), MR_LATCH_REJECT);
}

static void
auth_policy_needs_authentication(void **state)
{
	struct mr_sockaddr a = v4(1, 4000);
	struct mr_latch_in in = base(MR_LATCH_FIRST_AUTH, NULL, NULL, &a);
	struct mr_latch_cand cand = { .count = 0 };

	(void)state;
	assert_int_equal(mr_latch_check(&in, &cand), MR_LATCH_REJECT);
	in.authenticated = true;
	assert_int_equal(mr_latch_check(&in, &cand), MR_LATCH_LATCH);
	in.latched = true;
	in.current = &a;
	assert_int_equal(mr_latch_check(&in, &cand), MR_LATCH_ACCEPT);
	/* Even the latched source must authenticate. */
	in.authenticated = false;
	assert_int_equal(mr_latch_check(&in, &cand), MR_LATCH_REJECT);
}

static struct mr_latch_in
auth_leg(const struct mr_sockaddr *cur, const struct mr_sockaddr *src)
{
	struct mr_latch_in in = base(MR_LATCH_FIRST_AUTH, NULL, cur, src);

	in.authenticated = true;
	in.index16 = true;
	in.auth_packets = 3;
	in.auth_quiet_ms = 200;
	in.now_ms = in.created_ms + 60000;
	in.last_rx_ms = in.now_ms - 500;        /* latched source quiet for 500 ms */
	return in;
}

static void
auth_takeover_needs_rising_run(void **state)
{
	struct mr_sockaddr old = v4(1, 4000), rebound = v4(1, 61000);
	struct mr_latch_in in = auth_leg(&old, &rebound);
	struct mr_latch_cand cand = { .count = 0 };

	(void)state;
	/* NAT rebinding: three authenticated packets, rising, from one source. */
	in.index = 100;
	assert_int_equal(mr_latch_check(&in, &cand), MR_LATCH_REJECT);
	in.index = 101;
	assert_int_equal(mr_latch_check(&in, &cand), MR_LATCH_REJECT);
	in.index = 103;
	assert_int_equal(mr_latch_check(&in, &cand), MR_LATCH_LATCH);
	/* Rising across the 16-bit wrap counts too. */
	in.index = 65534;
	assert_int_equal(mr_latch_check(&in, &cand), MR_LATCH_REJECT);
	in.index = 65535;
	assert_int_equal(mr_latch_check(&in, &cand), MR_LATCH_REJECT);
	in.index = 0;
	assert_int_equal(mr_latch_check(&in, &cand), MR_LATCH_LATCH);
}

static void
auth_takeover_refuses_lucky_replayed_or_interleaved(void **state)
{
	struct mr_sockaddr old = v4(1, 4000), x = v4(2, 5000), y = v4(3, 5000);
	struct mr_latch_in in = auth_leg(&old, &x);
	struct mr_latch_cand cand = { .count = 0 };

	(void)state;
	/* One packet never moves anything, however many times it comes. */
	in.index = 50;
	assert_int_equal(mr_latch_check(&in, &cand), MR_LATCH_REJECT);
	assert_int_equal(mr_latch_check(&in, &cand), MR_LATCH_REJECT);
	assert_int_equal(mr_latch_check(&in, &cand), MR_LATCH_REJECT);
	/* Falling indices restart the count. */
	in.index = 51;
	assert_int_equal(mr_latch_check(&in, &cand), MR_LATCH_REJECT);
	in.index = 49;
	assert_int_equal(mr_latch_check(&in, &cand), MR_LATCH_REJECT);
	assert_int_equal(cand.count, 1);
	/* Two sources taking turns never add up. */
	in.src = &y;
	in.index = 52;
	assert_int_equal(mr_latch_check(&in, &cand), MR_LATCH_REJECT);
	in.src = &x;
	in.index = 53;
	assert_int_equal(mr_latch_check(&in, &cand), MR_LATCH_REJECT);
	assert_int_equal(cand.count, 1);
	/* A latched source that is still talking is never displaced. */
	in.last_rx_ms = in.now_ms - 199;
	in.index = 54;
	assert_int_equal(mr_latch_check(&in, &cand), MR_LATCH_REJECT);
	in.index = 55;
	assert_int_equal(mr_latch_check(&in, &cand), MR_LATCH_REJECT);
	in.index = 56;
	assert_int_equal(mr_latch_check(&in, &cand), MR_LATCH_REJECT);
	assert_int_equal(cand.count, 0);
	/* Unauthenticated: not even a candidate. */
	in.last_rx_ms = in.now_ms - 1000;
	in.authenticated = false;
	in.index = 57;
	assert_int_equal(mr_latch_check(&in, &cand), MR_LATCH_REJECT);
	assert_int_equal(cand.count, 0);
}

static void
invalid_policy_never_latches(void **state)
{
	struct mr_sockaddr a = v4(1, 4000);
	struct mr_latch_in in = base(MR_LATCH_INVALID, &a, NULL, &a);

	(void)state;
	assert_int_equal(mr_latch_check(&in, NULL), MR_LATCH_REJECT);
	in.policy = MR_LATCH_MAX;
	assert_int_equal(mr_latch_check(&in, NULL), MR_LATCH_REJECT);
}

static void
sockaddr_compare(void **state)
{
	struct mr_sockaddr a = v4(1, 4000), b = v4(1, 4000);
	struct mr_sockaddr c;

	(void)state;
	assert_true(mr_sockaddr_eq(&a, &b));
	b.port_be++;
	assert_false(mr_sockaddr_eq(&a, &b));
	assert_true(mr_sockaddr_ip_eq(&a, &b));
	memset(&c, 0, sizeof(c));
	c.family = MR_AF_INET6;
	memcpy(c.ip, a.ip, 4);
	c.port_be = a.port_be;
	assert_false(mr_sockaddr_eq(&a, &c));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(first_packet_latches_any_source),
		cmocka_unit_test(latched_source_accepted),
		cmocka_unit_test(spoof_after_window_rejected),
		cmocka_unit_test(relatch_within_window),
		cmocka_unit_test(relatch_after_silence),
		cmocka_unit_test(strict_only_hint),
		cmocka_unit_test(auth_policy_needs_authentication),
		cmocka_unit_test(auth_takeover_needs_rising_run),
		cmocka_unit_test(auth_takeover_refuses_lucky_replayed_or_interleaved),
		cmocka_unit_test(invalid_policy_never_latches),
		cmocka_unit_test(sockaddr_compare),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
