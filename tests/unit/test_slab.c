/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The management lcore's slab (slab.h), without an EAL: chunks come from
 * the process heap. Alignment, no overlap, reuse of released objects by
 * size, the limits, and the chunk count staying flat through churn.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "slab.h"

#define N 5000u

static uint8_t *obj[N];

/* Objects of three sizes, interleaved: aligned, disjoint, each keeps its bytes. */
static void
test_disjoint(void **state)
{
	static const size_t sizes[] = { 1, 1000, 2200 };
	unsigned int i, j;

	(void)state;
	for (i = 0; i < N; i++) {
		obj[i] = mr_slab_alloc(sizes[i % 3]);
		assert_non_null(obj[i]);
		assert_int_equal((uintptr_t)obj[i] % 64, 0);
		memset(obj[i], (int)(i & 0xff), sizes[i % 3]);
	}
	for (i = 0; i < N; i++)
		for (j = 0; j < sizes[i % 3]; j++)
			assert_int_equal(obj[i][j], i & 0xff);
	for (i = 0; i < N; i++)
		mr_slab_free(obj[i], sizes[i % 3]);
}

/* A released object serves the next of its size; churn takes no new chunk. */
static void
test_reuse(void **state)
{
	struct mr_slab_stats a, b;
	unsigned int round, i;
	uint8_t *p, *q;

	(void)state;
	p = mr_slab_alloc(1000);
	mr_slab_free(p, 1000);
	q = mr_slab_alloc(1020);        /* the same class: 1,024 bytes */
	assert_ptr_equal(p, q);
	mr_slab_free(q, 1020);

	for (i = 0; i < N; i++)
		obj[i] = mr_slab_alloc(2200);
	mr_slab_stats(&a);
	for (round = 0; round < 20; round++) {
		for (i = 0; i < N; i += 2)
			mr_slab_free(obj[i], 2200);
		for (i = 0; i < N; i += 2)
			assert_non_null(obj[i] = mr_slab_alloc(2200));
	}
	mr_slab_stats(&b);
	assert_int_equal(a.chunks, b.chunks);
	assert_int_equal(a.live, b.live);
	for (i = 0; i < N; i++)
		mr_slab_free(obj[i], 2200);
	mr_slab_stats(&b);
	assert_int_equal(b.live, a.live - N);
}

static void
test_limits(void **state)
{
	size_t size;
	unsigned int n = 0;

	(void)state;
	assert_null(mr_slab_alloc(0));
	assert_null(mr_slab_alloc(MR_SLAB_CHUNK + 1));
	mr_slab_free(NULL, 64);
	/* three classes exist from the tests before; the rest fill up, then NULL */
	for (size = 64 * 100; n < MR_SLAB_CLASSES + 2; size += 64, n++)
		if (mr_slab_alloc(size) == NULL)
			break;
	assert_int_equal(n, MR_SLAB_CLASSES - 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_disjoint),
		cmocka_unit_test(test_reuse),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
