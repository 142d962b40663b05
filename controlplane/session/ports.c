/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Relay port pairs of one interface (see ports.h): a FIFO of free pairs as a
 * doubly linked list over pair indices, plus a bitmap of pairs in use.
 * Allocation takes the head, release appends to the tail, and marking a pair
 * in use unlinks it from wherever it is: all O(1).
 *
 * Why not a bitmap searched from a rotating cursor: a pair released just
 * ahead of the cursor is handed out again by the very next allocation, which
 * is exactly the reuse this allocator exists to prevent (test_ports.c's
 * churn test caught it).
 */
#include <errno.h>
#include <stdlib.h>

#include "ports.h"

#define NONE UINT16_MAX                 /* pair indices are < 32768 */

struct mr_ports {
	uint32_t first;                 /* RTP port of pair 0 (even) */
	uint32_t n;                     /* pairs */
	uint32_t used;
	uint16_t head;                  /* next pair handed out, NONE if none free */
	uint16_t tail;                  /* most recently released free pair */
	uint16_t *next;                 /* free list links, by pair index */
	uint16_t *prev;
	uint64_t *bits;                 /* 1 = in use */
};

static bool
bit_test(const struct mr_ports *p, uint32_t idx)
{
	return (p->bits[idx / 64u] >> (idx % 64u)) & 1u;
}

static void
bit_set(struct mr_ports *p, uint32_t idx, bool on)
{
	if (on)
		p->bits[idx / 64u] |= 1ull << (idx % 64u);
	else
		p->bits[idx / 64u] &= ~(1ull << (idx % 64u));
}

static void
list_append(struct mr_ports *p, uint16_t idx)
{
	p->next[idx] = NONE;
	p->prev[idx] = p->tail;
	if (p->tail != NONE)
		p->next[p->tail] = idx;
	else
		p->head = idx;
	p->tail = idx;
}

static void
list_unlink(struct mr_ports *p, uint16_t idx)
{
	if (p->prev[idx] != NONE)
		p->next[p->prev[idx]] = p->next[idx];
	else
		p->head = p->next[idx];
	if (p->next[idx] != NONE)
		p->prev[p->next[idx]] = p->prev[idx];
	else
		p->tail = p->prev[idx];
}

/* Queue every free pair in port order, starting with pair @start. */
static void
list_rebuild(struct mr_ports *p, uint32_t start)
{
	uint32_t k, idx;

	p->head = NONE;
	p->tail = NONE;
	for (k = 0; k < p->n; k++) {
		idx = start + k < p->n ? start + k : start + k - p->n;
		if (!bit_test(p, idx))
			list_append(p, (uint16_t)idx);
	}
}

struct mr_ports *
mr_ports_new(uint16_t min, uint16_t max)
{
	uint32_t first = (uint32_t)min + (min & 1u), n, words;
	struct mr_ports *p;

	if (min == 0 || min > max || first + 1u > max) {
		errno = EINVAL;
		return NULL;
	}
	n = (max - first + 1u) / 2u;
	words = (n + 63u) / 64u;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->next = malloc(n * sizeof(*p->next));
	p->prev = malloc(n * sizeof(*p->prev));
	p->bits = calloc(words, sizeof(*p->bits));
	if (p->next == NULL || p->prev == NULL || p->bits == NULL) {
		mr_ports_free(p);
		errno = ENOMEM;
		return NULL;
	}
	p->first = first;
	p->n = n;
	list_rebuild(p, 0);
	return p;
}

void
mr_ports_free(struct mr_ports *p)
{
	if (p == NULL)
		return;
	free(p->next);
	free(p->prev);
	free(p->bits);
	free(p);
}

/* Pair index of RTP port @rtp, or -EINVAL if @rtp does not start a pair here. */
static int
pair_of(const struct mr_ports *p, uint16_t rtp, uint32_t *ret_idx)
{
	uint32_t off;

	if (rtp < p->first || ((rtp - p->first) & 1u) != 0)
		return -EINVAL;
	off = (rtp - p->first) / 2u;
	if (off >= p->n)
		return -EINVAL;
	*ret_idx = off;
	return 0;
}

int
mr_ports_alloc(struct mr_ports *p, uint16_t *ret_rtp)
{
	uint16_t idx = p->head;

	if (idx == NONE)
		return -ENOSPC;
	list_unlink(p, idx);
	bit_set(p, idx, true);
	p->used++;
	*ret_rtp = (uint16_t)(p->first + 2u * idx);
	return 0;
}

int
mr_ports_release(struct mr_ports *p, uint16_t rtp)
{
	uint32_t idx;
	int r = pair_of(p, rtp, &idx);

	if (r < 0)
		return r;
	if (!bit_test(p, idx))
		return -ENOENT;
	bit_set(p, idx, false);
	list_append(p, (uint16_t)idx);
	p->used--;
	return 0;
}

int
mr_ports_mark(struct mr_ports *p, uint16_t rtp)
{
	uint32_t idx;
	int r = pair_of(p, rtp, &idx);

	if (r < 0)
		return r;
	if (bit_test(p, idx))
		return -EEXIST;
	list_unlink(p, (uint16_t)idx);
	bit_set(p, idx, true);
	p->used++;
	return 0;
}

bool
mr_ports_in_use(const struct mr_ports *p, uint16_t rtp)
{
	uint32_t idx;

	return pair_of(p, rtp, &idx) == 0 && bit_test(p, idx);
}

uint32_t
mr_ports_capacity(const struct mr_ports *p)
{
	return p->n;
}

uint32_t
mr_ports_used(const struct mr_ports *p)
{
	return p->used;
}

uint16_t
mr_ports_cursor(const struct mr_ports *p)
{
	return p->head != NONE ? (uint16_t)(p->first + 2u * p->head) : 0;
}

void
mr_ports_seek(struct mr_ports *p, uint16_t port)
{
	uint32_t idx = port >= p->first ? (port - p->first) / 2u : 0;

	list_rebuild(p, idx < p->n ? idx : 0);
}
