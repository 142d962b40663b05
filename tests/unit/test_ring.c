/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * include/mrelay/ring.h: full and empty, wrap-around of the free-running
 * 32-bit counters, and a producer thread passing sequenced entries to a
 * consumer thread with none lost, duplicated or reordered.
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

#include <mrelay/ring.h>
#include <mrelay/seqlock.h>     /* mr_cpu_relax() */

#define THREAD_ENTRIES 1000000u

static struct mr_ring *
ring_new(uint32_t size, uint32_t entry_size, uint32_t start)
{
	struct mr_ring *r;
	size_t bytes = sizeof(*r) + (size_t)size * entry_size;

	r = aligned_alloc(64, (bytes + 63u) & ~(size_t)63u);
	assert_non_null(r);
	memset(r, 0, bytes);
	r->size = size;
	r->entry_size = entry_size;
	r->head = start;
	r->tail = start;
	return r;
}

static void
cmd_of(uint32_t n, struct mr_cmd *c)
{
	memset(c, 0, sizeof(*c));
	c->op = MR_CMD_LEG_SET;
	c->slot = n;
	c->generation = ~n;
	c->cookie = n * 2654435761u;
}

static void
assert_cmd(const struct mr_cmd *c, uint32_t n)
{
	assert_int_equal(c->op, MR_CMD_LEG_SET);
	assert_int_equal(c->slot, n);
	assert_int_equal(c->generation, ~n);
	assert_int_equal(c->cookie, n * 2654435761u);
}

/* Fill @r from empty, check it refuses one more, then drain it in order. */
static void
fill_and_drain(struct mr_ring *r, uint32_t first)
{
	struct mr_cmd c;
	uint32_t i;

	assert_int_equal(mr_ring_count(r), 0);
	assert_int_equal(mr_ring_pop(r, &c), -ENOENT);
	for (i = 0; i < r->size; i++) {
		cmd_of(first + i, &c);
		assert_int_equal(mr_ring_push(r, &c), 0);
		assert_int_equal(mr_ring_count(r), i + 1u);
	}
	cmd_of(0xdead, &c);
	assert_int_equal(mr_ring_push(r, &c), -ENOBUFS);
	assert_int_equal(mr_ring_push(r, &c), -ENOBUFS);
	assert_int_equal(mr_ring_count(r), r->size);
	for (i = 0; i < r->size; i++) {
		memset(&c, 0xff, sizeof(c));
		assert_int_equal(mr_ring_pop(r, &c), 0);
		assert_cmd(&c, first + i);
	}
	assert_int_equal(mr_ring_pop(r, &c), -ENOENT);
	assert_int_equal(mr_ring_pop(r, &c), -ENOENT);
	assert_int_equal(mr_ring_count(r), 0);
}

static void
test_full_and_empty(void **state)
{
	struct mr_ring *r = ring_new(8, sizeof(struct mr_cmd), 0);

	(void)state;
	fill_and_drain(r, 100);
	assert_int_equal(r->head, 8);
	assert_int_equal(r->tail, 8);
	/* Again, from a non-zero position: slots are reused. */
	fill_and_drain(r, 200);
	free(r);
}

static void
test_counters_wrap(void **state)
{
	struct mr_ring *r;
	struct mr_cmd c;
	uint32_t start, i, pushed = 0, popped = 0;

	(void)state;
	/* A full ring whose head wraps past UINT32_MAX while tail has not. */
	r = ring_new(8, sizeof(struct mr_cmd), UINT32_MAX - 2u);
	fill_and_drain(r, 1000);
	assert_int_equal(r->head, 5);   /* UINT32_MAX - 2 + 8, modulo 2^32 */
	assert_int_equal(r->tail, 5);
	free(r);

	/* Every starting offset around the wrap, interleaving push and pop. */
	for (start = UINT32_MAX - 9u; start != 10u; start++) {
		r = ring_new(4, sizeof(struct mr_cmd), start);
		pushed = popped = 0;
		for (i = 0; i < 40; i++) {
			cmd_of(pushed, &c);
			if (mr_ring_push(r, &c) == 0)
				pushed++;
			if (i % 3 == 2) {
				assert_int_equal(mr_ring_pop(r, &c), 0);
				assert_cmd(&c, popped++);
			}
			assert_int_equal(mr_ring_count(r), pushed - popped);
			assert_true(mr_ring_count(r) <= 4);
		}
		while (mr_ring_pop(r, &c) == 0)
			assert_cmd(&c, popped++);
		assert_int_equal(pushed, popped);
		assert_int_equal(r->head, r->tail);
		free(r);
	}
}

static void
test_entry_size(void **state)
{
	struct mr_ring *r = ring_new(4, sizeof(struct mr_event), 0);
	struct mr_event in, out;
	uint32_t i;

	(void)state;
	/* Entries are copied whole, and land in their own slot of the array. */
	for (i = 0; i < 4; i++) {
		memset(&in, (int)(0x10 + i), sizeof(in));
		assert_int_equal(mr_ring_push(r, &in), 0);
		assert_ptr_equal(mr_ring_entry(r, i),
				 (uint8_t *)(r + 1) + (size_t)i * sizeof(struct mr_event));
	}
	assert_ptr_equal(mr_ring_entry(r, 4), mr_ring_entry(r, 0));
	for (i = 0; i < 4; i++) {
		memset(&in, (int)(0x10 + i), sizeof(in));
		assert_int_equal(mr_ring_pop(r, &out), 0);
		assert_memory_equal(&in, &out, sizeof(in));
	}
	free(r);
}

struct spsc {
	struct mr_ring *r;
	uint64_t full_spins, empty_spins;
	uint64_t lost, bad;     /* consumer's findings; must stay 0 */
};

/* Spin briefly (both threads really run at once), then let the other run
 * (the suite must pass on a 2-core machine with other tests running). */
static void
backoff(uint64_t *spins)
{
	if ((++*spins & 63u) != 0)
		mr_cpu_relax();
	else
		sched_yield();
}

static void *
producer_main(void *arg)
{
	struct spsc *t = arg;
	struct mr_event ev;
	uint32_t n;

	memset(&ev, 0, sizeof(ev));
	for (n = 0; n < THREAD_ENTRIES; n++) {
		ev.type = MR_EV_LATCHED;
		ev.slot = n;
		ev.leg_uid = (uint64_t)n << 20 | 0xabcde;
		ev.value = ~(uint64_t)n;
		while (mr_ring_push(t->r, &ev) == -ENOBUFS)
			backoff(&t->full_spins);
	}
	return NULL;
}

static void *
consumer_main(void *arg)
{
	struct spsc *t = arg;
	struct mr_event ev;
	uint32_t popped, expect = 0;

	/* The producer pushes exactly THREAD_ENTRIES: pop that many. */
	for (popped = 0; popped < THREAD_ENTRIES;) {
		if (mr_ring_pop(t->r, &ev) == -ENOENT) {
			backoff(&t->empty_spins);
			continue;
		}
		popped++;
		if (ev.slot != expect)
			t->lost++;
		if (ev.type != MR_EV_LATCHED || ev.leg_uid != ((uint64_t)ev.slot << 20 | 0xabcde) ||
		    ev.value != ~(uint64_t)ev.slot)
			t->bad++;
		expect = ev.slot + 1u;  /* resynchronise so one loss counts once */
	}
	return NULL;
}

static void
test_threads_million(void **state)
{
	struct spsc t;
	pthread_t prod, cons;

	(void)state;
	memset(&t, 0, sizeof(t));
	/* Small ring so it fills and empties often; counters wrap mid-run. */
	t.r = ring_new(256, sizeof(struct mr_event), UINT32_MAX - 500000u);
	assert_int_equal(pthread_create(&cons, NULL, consumer_main, &t), 0);
	assert_int_equal(pthread_create(&prod, NULL, producer_main, &t), 0);
	assert_int_equal(pthread_join(prod, NULL), 0);
	assert_int_equal(pthread_join(cons, NULL), 0);
	print_message("spins on full %llu, on empty %llu\n",
		      (unsigned long long)t.full_spins, (unsigned long long)t.empty_spins);
	assert_int_equal(t.lost, 0);
	assert_int_equal(t.bad, 0);
	assert_int_equal(mr_ring_count(t.r), 0);
	assert_int_equal(t.r->head, (uint32_t)(UINT32_MAX - 500000u + THREAD_ENTRIES));
	free(t.r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_and_empty),
		cmocka_unit_test(test_counters_wrap),
		cmocka_unit_test(test_entry_size),
		cmocka_unit_test(test_threads_million),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
