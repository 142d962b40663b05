/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_CP_REGION_H
#define MR_CP_REGION_H

/*
 * The control side of the shared-memory region: open or create it, write
 * legs (whole slot under the seqlock, then a command), read the dataplane's
 * part, sum counters, drain events. Used by mrelayctl now and by mrelay-cp.
 * Single writer: callers serialise with mr_region_lock() (flock on the
 * region file), since the command ring has one producer.
 */
#include <stdbool.h>
#include <stdint.h>

#include <mrelay/shm.h>

struct mr_region {
	struct mr_shm_header *hdr;
	uint64_t size;
	int lock_fd;                    /* -1 when not locked */
	char path[256];
};

/* Attach to @path; if absent and @create, create it with the given size. */
int mr_region_open(struct mr_region *r, const char *path, bool create,
		   uint32_t max_legs, uint32_t max_workers);
void mr_region_close(struct mr_region *r);

/* Exclusive writer lock (flock LOCK_EX on the file). */
int mr_region_lock(struct mr_region *r);
void mr_region_unlock(struct mr_region *r);

/* Lowest free slot, or -ENOSPC. Caller holds the lock. */
int mr_region_find_free(const struct mr_region *r, uint32_t *ret_slot);

/*
 * Write @slot from @src (state/leg_uid/generation are managed here: a FREE
 * slot gets a new leg_uid), then queue MR_CMD_LEG_SET. If the ring is full,
 * requests a resync instead (the slot is already written). Returns 0 or -errno.
 */
int mr_region_leg_write(struct mr_region *r, uint32_t slot, const struct mr_leg_slot *src);

/* Wipe @slot (keys included), mark it free, queue MR_CMD_LEG_DEL. -ENOENT if free. */
int mr_region_leg_delete(struct mr_region *r, uint32_t slot);

/* Copy a slot / its dp part consistently; -EAGAIN if torn (bounded retries). */
int mr_region_leg_read(const struct mr_region *r, uint32_t slot, struct mr_leg_slot *ret);
int mr_region_leg_dp_read(const struct mr_region *r, uint32_t slot, struct mr_leg_dp *ret);

/* Sum a leg's counters over all worker rows (last_rx_ms: the max). */
void mr_region_leg_counters(const struct mr_region *r, uint32_t slot, struct mr_leg_counters *ret);

/* Queue MR_CMD_SYNC and wait up to @timeout_ms for the dataplane's MR_EV_SYNC
 * (other events popped meanwhile are passed to @cb if non-NULL). 0, -ETIMEDOUT. */
int mr_region_sync(struct mr_region *r, uint32_t timeout_ms,
		   void (*cb)(const struct mr_event *, void *), void *ctx);

/* Is the dataplane alive (pid exists and heartbeat younger than @max_age_ms)? */
bool mr_region_dp_alive(const struct mr_region *r, uint64_t max_age_ms);

/* Repair slots left odd by a writer that died: rewrite as free. Returns count. */
unsigned int mr_region_repair(struct mr_region *r);

#endif /* MR_CP_REGION_H */
