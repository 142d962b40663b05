/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_CP_REGION_H
#define MR_CP_REGION_H

/*
 * The control side of the shared-memory region: open or create it, write
 * legs (whole slot under the seqlock, then a command), read the dataplane's
 * part, sum counters, drain events. Used by mrelayctl now and by mrelay-cp.
 * Single writer: callers serialise with mr_region_lock() (flock on the
 * region file), since the command ring has one producer.
 *
 * The event ring has one consumer on this side, and it is the caller: the
 * holder of the writer lock pops events (mr_region_sync() does, and so may
 * the caller with mr_ring_pop(mr_shm_event_ring(r->hdr), ...)). Whoever pops
 * an event owns it; nobody else will see it. Popping without the lock races
 * another consumer and corrupts the ring's tail.
 *
 * Functions that change the region return -ENOLCK when called without the
 * lock. None of them logs: callers report errors.
 */
#include <stdbool.h>
#include <stdint.h>

#include <mrelay/shm.h>

struct mr_region {
	struct mr_shm_header *hdr;
	uint64_t size;
	int lock_fd;                    /* -1 when not locked */
	uint64_t dev, ino;              /* the mapped file; mr_region_lock() checks
	                                   that the path still names it */
	char path[256];
};

/*
 * Attach to @path; if absent and @create, create it with the given size
 * (dimensions are ignored when it exists). Returns 0, -ENOENT, -EPROTO (other
 * ABI version), -EINVAL (not a region), -ENAMETOOLONG or another -errno.
 * After any return mr_region_close() is safe to call.
 */
int mr_region_open(struct mr_region *r, const char *path, bool create,
		   uint32_t max_legs, uint32_t max_workers);
void mr_region_close(struct mr_region *r);

/*
 * Exclusive writer lock (flock LOCK_EX on a separate fd of the file); blocks.
 * -ESTALE if the path now names another file than the one mapped (the region
 * was deleted or replaced), -EDEADLK if already held by @r.
 */
int mr_region_lock(struct mr_region *r);
void mr_region_unlock(struct mr_region *r);

/* Lowest free slot, or -ENOSPC. Caller holds the lock. */
int mr_region_find_free(const struct mr_region *r, uint32_t *ret_slot);

/*
 * Write @slot from @src (state/leg_uid/generation are managed here: a FREE
 * slot gets a new leg_uid), then queue MR_CMD_LEG_SET. If the ring is full,
 * requests a resync instead (the slot is already written). Caller holds the
 * lock. Returns 0, -EINVAL (slot out of range, or @src structurally invalid:
 * bad enum, length or family, egress out of range, unterminated ICE string)
 * or -ENOLCK; on error nothing changed.
 */
int mr_region_leg_write(struct mr_region *r, uint32_t slot, const struct mr_leg_slot *src);

/*
 * Wipe @slot (keys included), mark it free, queue MR_CMD_LEG_DEL. -ENOENT if free.
 * Legs whose egress_slot is @slot are not touched: the caller detaches them
 * first, or the next leg to take this slot would receive their media.
 */
int mr_region_leg_delete(struct mr_region *r, uint32_t slot);

/* Copy a slot / its dp part consistently; -EAGAIN if torn (bounded retries),
 * -EINVAL if @slot is out of range. Lock-free; any process may call. */
int mr_region_leg_read(const struct mr_region *r, uint32_t slot, struct mr_leg_slot *ret);
int mr_region_leg_dp_read(const struct mr_region *r, uint32_t slot, struct mr_leg_dp *ret);

/* Sum a leg's counters over all worker rows (last_rx_ms: the max); zeros if
 * @slot is out of range. A value may be one update stale. */
void mr_region_leg_counters(const struct mr_region *r, uint32_t slot, struct mr_leg_counters *ret);

/* Queue MR_CMD_SYNC and wait up to @timeout_ms for the dataplane's MR_EV_SYNC
 * (other events popped meanwhile are passed to @cb if non-NULL, else dropped).
 * Caller holds the lock (it produces commands and consumes events).
 * 0, -ETIMEDOUT, -ENOBUFS (command ring full), -ENOLCK. */
int mr_region_sync(struct mr_region *r, uint32_t timeout_ms,
		   void (*cb)(const struct mr_event *, void *), void *ctx);

/* Is the dataplane alive (state not DOWN, pid exists in our pid namespace and
 * heartbeat younger than @max_age_ms)? */
bool mr_region_dp_alive(const struct mr_region *r, uint64_t max_age_ms);

/*
 * Is a control side alive (mrelay-cp, or whatever wrote cp_pid): its pid
 * exists in our pid namespace and is not a zombie, and its heartbeat is
 * younger than @max_age_ms? Then the slots are its own. *@ret_pid and, if
 * @ret_age_ms is not NULL, the heartbeat's age are written either way, for
 * the caller's message.
 */
bool mr_region_cp_alive(const struct mr_region *r, uint64_t max_age_ms, uint32_t *ret_pid,
			uint64_t *ret_age_ms);

/* Repair slots left odd by a writer that died: rewrite as free (wiped) and
 * queue MR_CMD_LEG_DEL. Caller holds the lock. Returns count. */
unsigned int mr_region_repair(struct mr_region *r);

#endif /* MR_CP_REGION_H */
