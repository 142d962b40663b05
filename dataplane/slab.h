/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_DP_SLAB_H
#define MR_DP_SLAB_H

/*
 * Fixed-size objects for the management lcore: flows and burst-engine
 * contexts, one class per object size, carved from 2 MiB chunks of EAL
 * (hugepage) memory, or of the process heap once that runs out. Allocation
 * and release take the same time however many objects are live: DPDK
 * 22.11's rte_malloc() walks a free list that grows with them, and made
 * 100,000 GCM legs take minutes to get their contexts. Chunks are kept for
 * the process's life; a released object serves the next of its size.
 * Management lcore only: no locks.
 */
#include <stddef.h>
#include <stdint.h>

#define MR_SLAB_CHUNK (2u << 20)
#define MR_SLAB_CLASSES 8u

/* @size bytes aligned to 64, or NULL (out of memory, a ninth size, or larger than a chunk). */
void *mr_slab_alloc(size_t size);
/* Release @p, allocated with the same @size. NULL is a no-op. */
void mr_slab_free(void *p, size_t size);

struct mr_slab_stats {
	uint64_t chunks;                /* 2 MiB chunks taken */
	uint64_t live;                  /* objects allocated and not released */
};
void mr_slab_stats(struct mr_slab_stats *ret);

#endif /* MR_DP_SLAB_H */
