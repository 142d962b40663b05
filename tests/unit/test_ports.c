/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The relay port allocator (controlplane/session/ports.c): ranges and their
 * odd bounds, pairs only, exhaustion, the order in which released pairs come
 * back (last), recovery marking, the cursor, and ranges from 2 to 65535
 * ports.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ports.h"

static uint16_t
alloc_ok(struct mr_ports *p)
{
	uint16_t port = 0;

	assert_int_equal(mr_ports_alloc(p, &port), 0);
	return port;
}

static void
test_bad_ranges(void **state)
{
	static const uint16_t bad[][2] = {
		{ 0, 100 },             /* port 0 is not a port */
		{ 200, 100 },           /* min > max */
		{ 30000, 30000 },       /* one port */
		{ 30001, 30002 },       /* two ports, but not a pair */
		{ 30001, 30001 },
		{ 65535, 65535 },
		{ 65534, 65534 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		assert_null(mr_ports_new(bad[i][0], bad[i][1]));
		assert_int_equal(errno, EINVAL);
	}
	mr_ports_free(NULL);
}

/* The smallest range: one pair. */
static void
test_two_ports(void **state)
{
	struct mr_ports *p = mr_ports_new(30000, 30001);
	uint16_t port = 1;

	(void)state;
	assert_non_null(p);
	assert_int_equal(mr_ports_capacity(p), 1);
	assert_int_equal(alloc_ok(p), 30000);
	assert_int_equal(mr_ports_alloc(p, &port), -ENOSPC);
	assert_int_equal(port, 1);              /* untouched on error */
	assert_int_equal(mr_ports_used(p), 1);
	assert_int_equal(mr_ports_release(p, 30000), 0);
	assert_int_equal(alloc_ok(p), 30000);   /* the only pair comes back */
	mr_ports_free(p);

	/* [1, 2]: the pair must start even, so 2/3, which does not fit */
	assert_null(mr_ports_new(1, 2));
	p = mr_ports_new(2, 3);
	assert_non_null(p);
	assert_int_equal(alloc_ok(p), 2);
	mr_ports_free(p);
	p = mr_ports_new(65534, 65535);
	assert_non_null(p);
	assert_int_equal(alloc_ok(p), 65534);
	mr_ports_free(p);
}

/* Odd bounds shrink the range to whole pairs with an even RTP port. */
static void
test_odd_bounds(void **state)
{
	struct mr_ports *p = mr_ports_new(30001, 30010);
	uint16_t port;

	(void)state;
	assert_int_equal(mr_ports_capacity(p), 4);      /* 30002..30009; 30010 alone is no pair */
	assert_int_equal(alloc_ok(p), 30002);
	assert_int_equal(alloc_ok(p), 30004);
	assert_int_equal(alloc_ok(p), 30006);
	assert_int_equal(alloc_ok(p), 30008);
	assert_int_equal(mr_ports_alloc(p, &port), -ENOSPC);
	/* odd ports, ports outside, and the port above the last pair are no pairs */
	assert_int_equal(mr_ports_release(p, 30003), -EINVAL);
	assert_int_equal(mr_ports_release(p, 30000), -EINVAL);
	assert_int_equal(mr_ports_release(p, 30010), -EINVAL);
	assert_int_equal(mr_ports_release(p, 0), -EINVAL);
	assert_int_equal(mr_ports_release(p, 65534), -EINVAL);
	assert_int_equal(mr_ports_mark(p, 30005), -EINVAL);
	assert_false(mr_ports_in_use(p, 30005));
	assert_true(mr_ports_in_use(p, 30004));
	mr_ports_free(p);

	/* even min, even max: max is the first port of no pair */
	p = mr_ports_new(40000, 40010);
	assert_int_equal(mr_ports_capacity(p), 5);
	mr_ports_free(p);
	/* odd min, odd max */
	p = mr_ports_new(40001, 40011);
	assert_int_equal(mr_ports_capacity(p), 5);
	assert_int_equal(alloc_ok(p), 40002);
	mr_ports_free(p);
}

/* Released pairs go to the back of the line. */
static void
test_reuse_order(void **state)
{
	struct mr_ports *p = mr_ports_new(30000, 30019);       /* 10 pairs */
	uint16_t port;
	int i;

	(void)state;
	assert_int_equal(alloc_ok(p), 30000);
	assert_int_equal(alloc_ok(p), 30002);
	assert_int_equal(alloc_ok(p), 30004);
	assert_int_equal(mr_ports_release(p, 30000), 0);
	assert_int_equal(mr_ports_release(p, 30002), 0);
	/* not 30000: every never-used pair comes first */
	assert_int_equal(alloc_ok(p), 30006);
	for (i = 8; i < 20; i += 2)
		assert_int_equal(alloc_ok(p), 30000 + i);
	/* now the cursor wraps and finds the released ones, oldest first */
	assert_int_equal(alloc_ok(p), 30000);
	assert_int_equal(alloc_ok(p), 30002);
	assert_int_equal(mr_ports_alloc(p, &port), -ENOSPC);
	assert_int_equal(mr_ports_used(p), 10);

	/* a pair freed in the middle of a full range is the next one out */
	assert_int_equal(mr_ports_release(p, 30012), 0);
	assert_int_equal(alloc_ok(p), 30012);

	/* in release order, whatever their port numbers */
	assert_int_equal(mr_ports_release(p, 30016), 0);
	assert_int_equal(mr_ports_release(p, 30008), 0);
	assert_int_equal(mr_ports_release(p, 30010), 0);
	assert_int_equal(alloc_ok(p), 30016);
	assert_int_equal(alloc_ok(p), 30008);
	assert_int_equal(alloc_ok(p), 30010);

	/* double release is refused and changes nothing */
	assert_int_equal(mr_ports_release(p, 30004), 0);
	assert_int_equal(mr_ports_release(p, 30004), -ENOENT);
	assert_int_equal(mr_ports_used(p), 9);
	mr_ports_free(p);
}

static void
test_exhaustion(void **state)
{
	struct mr_ports *p = mr_ports_new(10000, 10999);       /* 500 pairs, 8 words */
	uint16_t port;
	int i;

	(void)state;
	for (i = 0; i < 500; i++)
		assert_int_equal(alloc_ok(p), 10000 + 2 * i);
	assert_int_equal(mr_ports_alloc(p, &port), -ENOSPC);
	assert_int_equal(mr_ports_alloc(p, &port), -ENOSPC);
	assert_int_equal(mr_ports_used(p), 500);
	/* one free pair in the last, partly used word */
	assert_int_equal(mr_ports_release(p, 10998), 0);
	assert_int_equal(alloc_ok(p), 10998);
	assert_int_equal(mr_ports_alloc(p, &port), -ENOSPC);
	/* and one in the first word, found by wrapping */
	assert_int_equal(mr_ports_release(p, 10000), 0);
	assert_int_equal(alloc_ok(p), 10000);
	for (i = 0; i < 500; i++)
		assert_int_equal(mr_ports_release(p, (uint16_t)(10000 + 2 * i)), 0);
	assert_int_equal(mr_ports_used(p), 0);
	mr_ports_free(p);
}

/* After a restart the recovered calls' pairs are marked; allocation skips them. */
static void
test_recovery_mark(void **state)
{
	struct mr_ports *p = mr_ports_new(30000, 30009);       /* 5 pairs */
	uint16_t port;

	(void)state;
	assert_int_equal(mr_ports_mark(p, 30002), 0);
	assert_int_equal(mr_ports_mark(p, 30006), 0);
	assert_int_equal(mr_ports_mark(p, 30006), -EEXIST);    /* two calls claim it */
	assert_int_equal(mr_ports_mark(p, 30007), -EINVAL);
	assert_int_equal(mr_ports_mark(p, 30010), -EINVAL);
	assert_int_equal(mr_ports_used(p), 2);
	assert_int_equal(mr_ports_cursor(p), 30000);
	assert_int_equal(alloc_ok(p), 30000);
	assert_int_equal(alloc_ok(p), 30004);
	assert_int_equal(alloc_ok(p), 30008);
	assert_int_equal(mr_ports_alloc(p, &port), -ENOSPC);
	/* a recovered call that ends releases like any other */
	assert_int_equal(mr_ports_release(p, 30006), 0);
	assert_int_equal(alloc_ok(p), 30006);
	assert_int_equal(mr_ports_cursor(p), 0);               /* none free */

	/* marking the next pair out, or one at the end of the queue */
	assert_int_equal(mr_ports_release(p, 30000), 0);
	assert_int_equal(mr_ports_release(p, 30004), 0);
	assert_int_equal(mr_ports_release(p, 30008), 0);
	assert_int_equal(mr_ports_mark(p, 30000), 0);
	assert_int_equal(mr_ports_mark(p, 30008), 0);
	assert_int_equal(alloc_ok(p), 30004);
	assert_int_equal(mr_ports_alloc(p, &port), -ENOSPC);
	mr_ports_free(p);
}

static void
test_cursor(void **state)
{
	struct mr_ports *p = mr_ports_new(30001, 30021);       /* pairs 30002..30020 */

	(void)state;
	assert_int_equal(mr_ports_cursor(p), 30002);
	assert_int_equal(alloc_ok(p), 30002);
	assert_int_equal(mr_ports_cursor(p), 30004);
	/* a restart restores the saved cursor: allocation resumes there */
	mr_ports_seek(p, 30014);
	assert_int_equal(mr_ports_cursor(p), 30014);
	assert_int_equal(alloc_ok(p), 30014);
	assert_int_equal(alloc_ok(p), 30016);
	assert_int_equal(alloc_ok(p), 30018);
	assert_int_equal(alloc_ok(p), 30020);
	assert_int_equal(alloc_ok(p), 30004);   /* wrapped; 30002 is in use */
	mr_ports_seek(p, 30015);                /* odd: the pair it belongs to, in use */
	assert_int_equal(mr_ports_cursor(p), 30006);
	mr_ports_seek(p, 1);                    /* below the range: the start */
	assert_int_equal(mr_ports_cursor(p), 30006);
	mr_ports_seek(p, 60000);                /* above: the start */
	assert_int_equal(mr_ports_cursor(p), 30006);
	mr_ports_seek(p, 30012);
	assert_int_equal(alloc_ok(p), 30012);
	assert_int_equal(alloc_ok(p), 30006);
	assert_int_equal(alloc_ok(p), 30008);
	assert_int_equal(alloc_ok(p), 30010);
	assert_int_equal(mr_ports_cursor(p), 0);
	mr_ports_seek(p, 30002);                /* nothing free: still nothing */
	assert_int_equal(mr_ports_cursor(p), 0);
	assert_int_equal(mr_ports_used(p), 10);
	mr_ports_free(p);
}

/* 30000 ports: every pair handed out once, even, in range, distinct. */
static void
test_large_range(void **state)
{
	struct mr_ports *p = mr_ports_new(20000, 49999);
	uint8_t *seen = calloc(65536, 1);
	uint16_t port;
	uint32_t i;

	(void)state;
	assert_non_null(seen);
	assert_int_equal(mr_ports_capacity(p), 15000);
	for (i = 0; i < 15000; i++) {
		port = alloc_ok(p);
		assert_true(port >= 20000 && port <= 49998 && port % 2 == 0);
		assert_int_equal(seen[port], 0);
		seen[port] = 1;
	}
	assert_int_equal(mr_ports_alloc(p, &port), -ENOSPC);
	/* release every third pair; they come back in release order */
	for (i = 0; i < 15000; i += 3)
		assert_int_equal(mr_ports_release(p, (uint16_t)(20000 + 2 * i)), 0);
	for (i = 0; i < 15000; i += 3)
		assert_int_equal(alloc_ok(p), 20000 + 2 * i);
	assert_int_equal(mr_ports_alloc(p, &port), -ENOSPC);
	free(seen);
	mr_ports_free(p);

	/* the whole port space: pairs 2/3 .. 65534/65535 */
	p = mr_ports_new(1, 65535);
	assert_int_equal(mr_ports_capacity(p), 32767);
	for (i = 0; i < 32767; i++)
		assert_int_equal(alloc_ok(p), 2 + 2 * i);
	assert_int_equal(mr_ports_alloc(p, &port), -ENOSPC);
	assert_true(mr_ports_in_use(p, 65534));
	assert_int_equal(mr_ports_release(p, 65534), 0);
	assert_int_equal(alloc_ok(p), 65534);
	mr_ports_free(p);
}

/*
 * Churn like a busy relay: 50 calls live, 50 pairs free, one call ends and
 * another starts, 10000 times. Each released pair must wait behind the 50
 * that were free before it: it comes back exactly 50 allocations later.
 * (A bitmap searched from a rotating cursor fails this: a pair released just
 * ahead of the cursor is the very next one out.)
 */
static void
test_churn_quarantine(void **state)
{
	struct mr_ports *p = mr_ports_new(30000, 30199);       /* 100 pairs */
	int32_t released_at[100];
	uint16_t live[50], port;
	unsigned int i, round;

	(void)state;
	for (i = 0; i < 100; i++)
		released_at[i] = -1;
	for (i = 0; i < 50; i++)
		live[i] = alloc_ok(p);
	srand(7);
	for (round = 0; round < 10000; round++) {
		i = (unsigned int)rand() % 50;
		assert_int_equal(mr_ports_release(p, live[i]), 0);
		released_at[(live[i] - 30000) / 2] = (int32_t)round;
		port = alloc_ok(p);
		if (released_at[(port - 30000) / 2] >= 0)
			assert_int_equal(round - (uint32_t)released_at[(port - 30000) / 2], 50);
		else
			assert_true(round < 50);        /* a never-used pair */
		live[i] = port;
	}
	assert_int_equal(mr_ports_used(p), 50);
	mr_ports_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_ranges),
		cmocka_unit_test(test_two_ports),
		cmocka_unit_test(test_odd_bounds),
		cmocka_unit_test(test_reuse_order),
		cmocka_unit_test(test_exhaustion),
		cmocka_unit_test(test_recovery_mark),
		cmocka_unit_test(test_cursor),
		cmocka_unit_test(test_large_range),
		cmocka_unit_test(test_churn_quarantine),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
