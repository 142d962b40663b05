/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Size classes of fixed-size objects (see slab.h). A free object holds the
 * next free one of its class in its first word.
 */
#include <stdlib.h>

#include <rte_malloc.h>

#include "slab.h"

struct slab_class {
	size_t size;                    /* 0: unused */
	void *free;
	uint8_t *next, *end;            /* the current chunk's untouched part */
};

static struct slab_class classes[MR_SLAB_CLASSES];
static struct mr_slab_stats stats;

static struct slab_class *
class_of(size_t size)
{
	unsigned int i;

	for (i = 0; i < MR_SLAB_CLASSES; i++) {
		if (classes[i].size == size)
			return &classes[i];
		if (classes[i].size == 0) {
			classes[i].size = size;
			return &classes[i];
		}
	}
	return NULL;
}

static size_t
rounded(size_t size)
{
	return (size + 63u) & ~(size_t)63u;
}

void *
mr_slab_alloc(size_t size)
{
	struct slab_class *c;
	void *p;

	size = rounded(size);
	if (size == 0 || size > MR_SLAB_CHUNK || (c = class_of(size)) == NULL)
		return NULL;
	if (c->free != NULL) {
		p = c->free;
		c->free = *(void **)p;
	} else {
		if (c->next == NULL || (size_t)(c->end - c->next) < size) {
			uint8_t *chunk = rte_malloc("mr_slab", MR_SLAB_CHUNK, 64);

			if (chunk == NULL)
				chunk = aligned_alloc(64, MR_SLAB_CHUNK);
			if (chunk == NULL)
				return NULL;
			stats.chunks++;
			c->next = chunk;
			c->end = chunk + MR_SLAB_CHUNK;
		}
		p = c->next;
		c->next += size;
	}
	stats.live++;
	return p;
}

void
mr_slab_free(void *p, size_t size)
{
	struct slab_class *c;

	if (p == NULL)
		return;
	c = class_of(rounded(size));
	if (c == NULL)
		return;         /* not ours: cannot happen for a pointer mr_slab_alloc() gave */
	*(void **)p = c->free;
	c->free = p;
	stats.live--;
}

void
mr_slab_stats(struct mr_slab_stats *ret)
{
	*ret = stats;
}
