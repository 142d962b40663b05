/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * include/mrelay/seqlock.h: a reader never returns a torn copy, a dead writer
 * makes readers give up after bounded retries, and repair recovers.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <mrelay/seqlock.h>

#define WORDS 31u               /* record body: 248 bytes, several cache lines */
#define READERS 3
#define READS_PER_READER 500000u

/* Every word of the body holds the same value: a copy that mixes two writes
 * shows up as unequal words. */
struct record {
	uint32_t seq;
	uint32_t pad;
	uint64_t w[WORDS];
};

struct hammer {
	struct record rec __attribute__((aligned(64)));
	int stop;               /* set by main when the readers are done */
	uint64_t writes;        /* writer's count, read after join */
	uint64_t live;          /* writer's count while running (readers wait for it) */
};

struct reader_result {
	struct hammer *h;
	uint64_t ok;            /* consistent copies */
	uint64_t torn;          /* copies with unequal words: must stay 0 */
	uint64_t again;         /* -EAGAIN: allowed under heavy writing */
	uint64_t backwards;     /* value older than one seen before: must stay 0 */
};

static void *
writer_main(void *arg)
{
	struct hammer *h = arg;
	uint64_t v = 0;
	unsigned int i;

	while (!__atomic_load_n(&h->stop, __ATOMIC_ACQUIRE)) {
		v++;
		mr_seq_write_begin(&h->rec.seq);
		for (i = 0; i < WORDS; i++)
			__atomic_store_n(&h->rec.w[i], v, __ATOMIC_RELAXED);
		mr_seq_write_end(&h->rec.seq);
		__atomic_store_n(&h->live, v, __ATOMIC_RELAXED);
		/* Let readers in now and then, as a real writer does. */
		if ((v & 63u) == 0)
			for (i = 0; i < 64; i++)
				mr_cpu_relax();
	}
	h->writes = v;
	return NULL;
}

static void *
reader_main(void *arg)
{
	struct reader_result *res = arg;
	struct record copy;
	uint64_t last = 0;
	unsigned int n, i;

	/* On a loaded 2-core box the readers could otherwise be done before
	 * the writer is first scheduled, and the test would prove nothing. */
	while (__atomic_load_n(&res->h->live, __ATOMIC_RELAXED) < 1000)
		sched_yield();
	for (n = 0; n < READS_PER_READER; n++) {
		if (mr_seq_read(&res->h->rec.seq, &copy, &res->h->rec, sizeof(copy)) < 0) {
			res->again++;
			continue;
		}
		for (i = 1; i < WORDS; i++)
			if (copy.w[i] != copy.w[0])
				break;
		if (i != WORDS) {
			res->torn++;
			continue;
		}
		if (copy.w[0] < last)
			res->backwards++;
		last = copy.w[0];
		res->ok++;
	}
	return NULL;
}

static void
test_write_read_basic(void **state)
{
	struct record r, copy;

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_false(mr_seq_is_odd(&r.seq));
	mr_seq_write_begin(&r.seq);
	assert_true(mr_seq_is_odd(&r.seq));
	r.w[0] = 42;
	r.w[WORDS - 1] = 43;
	mr_seq_write_end(&r.seq);
	assert_false(mr_seq_is_odd(&r.seq));
	assert_int_equal(r.seq, 2);
	assert_int_equal(mr_seq_read(&r.seq, &copy, &r, sizeof(copy)), 0);
	assert_int_equal(copy.w[0], 42);
	assert_int_equal(copy.w[WORDS - 1], 43);
	assert_int_equal(copy.seq, 2);
	/* Nothing to repair on an even counter. */
	assert_false(mr_seq_repair(&r.seq));
	assert_int_equal(r.seq, 2);
}

static void
test_counter_wraps(void **state)
{
	struct record r, copy;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.seq = UINT32_MAX - 1u;        /* even, one write from wrapping */
	mr_seq_write_begin(&r.seq);
	assert_true(mr_seq_is_odd(&r.seq));
	r.w[3] = 7;
	mr_seq_write_end(&r.seq);
	assert_int_equal(r.seq, 0);
	assert_int_equal(mr_seq_read(&r.seq, &copy, &r, sizeof(copy)), 0);
	assert_int_equal(copy.w[3], 7);
}

static void
test_dead_writer(void **state)
{
	struct record r, copy;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.w[0] = 1;
	/* The writer dies between begin and end. */
	mr_seq_write_begin(&r.seq);
	r.w[0] = 2;
	assert_int_equal(mr_seq_read(&r.seq, &copy, &r, sizeof(copy)), -EAGAIN);
	/* Still odd: giving up did not change anything. */
	assert_true(mr_seq_is_odd(&r.seq));
	assert_int_equal(mr_seq_read(&r.seq, &copy, &r, sizeof(copy)), -EAGAIN);

	/* The owner restarts, rewrites the body and repairs the counter. */
	r.w[0] = 3;
	assert_true(mr_seq_repair(&r.seq));
	assert_false(mr_seq_is_odd(&r.seq));
	assert_false(mr_seq_repair(&r.seq));
	assert_int_equal(mr_seq_read(&r.seq, &copy, &r, sizeof(copy)), 0);
	assert_int_equal(copy.w[0], 3);
	/* And normal writes work again. */
	mr_seq_write_begin(&r.seq);
	r.w[0] = 4;
	mr_seq_write_end(&r.seq);
	assert_int_equal(mr_seq_read(&r.seq, &copy, &r, sizeof(copy)), 0);
	assert_int_equal(copy.w[0], 4);
}

static void
test_writer_vs_readers(void **state)
{
	struct reader_result res[READERS];
	pthread_t writer, readers[READERS];
	struct hammer *h;
	uint64_t ok = 0;
	int i;

	(void)state;
	h = aligned_alloc(64, sizeof(*h));
	assert_non_null(h);
	memset(h, 0, sizeof(*h));
	memset(res, 0, sizeof(res));

	assert_int_equal(pthread_create(&writer, NULL, writer_main, h), 0);
	for (i = 0; i < READERS; i++) {
		res[i].h = h;
		assert_int_equal(pthread_create(&readers[i], NULL, reader_main, &res[i]), 0);
	}
	for (i = 0; i < READERS; i++)
		assert_int_equal(pthread_join(readers[i], NULL), 0);
	__atomic_store_n(&h->stop, 1, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(writer, NULL), 0);

	for (i = 0; i < READERS; i++) {
		assert_int_equal(res[i].torn, 0);
		assert_int_equal(res[i].backwards, 0);
		assert_int_equal(res[i].ok + res[i].again, READS_PER_READER);
		ok += res[i].ok;
	}
	print_message("writes %llu, consistent reads %llu, gave up %llu/%llu/%llu\n",
		      (unsigned long long)h->writes, (unsigned long long)ok,
		      (unsigned long long)res[0].again, (unsigned long long)res[1].again,
		      (unsigned long long)res[2].again);
	/* The test means something only if both sides really ran. */
	assert_true(h->writes > 100);
	assert_true(ok > 1000);
	free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_read_basic),
		cmocka_unit_test(test_counter_wraps),
		cmocka_unit_test(test_dead_writer),
		cmocka_unit_test(test_writer_vs_readers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
