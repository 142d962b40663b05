/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The shared-memory region between the control side and mrelay-dp.
 *
 * Protocol
 * --------
 * One file (default /dev/shm/mrelay, mode 0600). The control side creates it
 * (mr_shm_create()); mrelay-dp only attaches (mr_shm_attach()) and waits for
 * it while it is absent. Layout, every section 4 KiB aligned:
 *
 *   header            struct mr_shm_header
 *   slots[max_legs]   struct mr_leg_slot      control side writes (seqlock)
 *   dp[max_legs]      struct mr_leg_dp        mrelay-dp writes (seqlock)
 *   counters[max_workers][max_legs]  struct mr_leg_counters, one row per lcore
 *   wstats[max_workers + 1]          struct mr_worker_stats (+1 = management)
 *   command ring      struct mr_ring + struct mr_cmd[]     control -> dp
 *   event ring        struct mr_ring + struct mr_event[]   dp -> control
 *
 * To change a leg, the control side writes the whole slot under its seqlock
 * (mr_seq_write_begin/end), bumping generation, then pushes
 * (MR_CMD_LEG_SET, slot, generation). To delete, it wipes the slot (keys
 * included), sets state = MR_LEG_FREE, bumps generation and pushes
 * MR_CMD_LEG_DEL. mrelay-dp's management lcore reads the slot under the
 * seqlock (bounded retries: a torn slot is skipped, counted, reported as
 * MR_EV_SLOT_TORN and retried later), builds a private flow entry and
 * publishes it to the workers by RCU. A slot whose leg_uid differs from the
 * one in its dp part is a new leg: its dp part is reset first.
 *
 * If the command ring is full the control side increments resync_req; the
 * dataplane then rescans every slot, as it does at start. Commands are
 * idempotent, so a rescan followed by stale commands is harmless.
 *
 * Liveness: each side stores its pid and a CLOCK_MONOTONIC millisecond
 * heartbeat in its own cache line of the header; neither side ever waits on
 * the other.
 *
 * Versioning: MR_SHM_ABI_VERSION changes with any layout change; both sides
 * refuse a region of another version (mr_shm_check()).
 */
#ifndef MRELAY_SHM_H
#define MRELAY_SHM_H

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "counters.h"
#include "leg.h"
#include "ring.h"
#include "seqlock.h"

#define MR_SHM_MAGIC 0x4853594c4552524dull /* "MRRELYSH" little-endian */
#define MR_SHM_ABI_VERSION 1u
#define MR_SHM_DEFAULT_PATH "/dev/shm/mrelay"
#define MR_SHM_DEFAULT_LEGS 65536u
#define MR_SHM_MAX_LEGS (1u << 22)
#define MR_SHM_DEFAULT_WORKERS 4u
#define MR_SHM_MAX_WORKERS 64u
#define MR_SHM_CMD_RING 16384u
#define MR_SHM_EVENT_RING 16384u
#define MR_SHM_ALIGN 4096u

/* mr_shm_header.dp_state */
#define MR_DP_DOWN 0u
#define MR_DP_STARTING 1u
#define MR_DP_RUNNING 2u

struct mr_shm_header {
	/* RO after create */
	uint64_t magic;
	uint32_t abi_version;
	uint32_t header_size;
	uint64_t region_size;
	uint32_t max_legs;
	uint32_t max_workers;
	uint64_t off_slots;
	uint64_t off_dp;
	uint64_t off_counters;
	uint64_t off_wstats;
	uint64_t off_cmd_ring;
	uint64_t off_event_ring;
	uint8_t pad0[48];
	/* control side's cache line */
	uint32_t cp_pid;
	uint32_t resync_req;    /**< bumped when a command could not be queued */
	uint64_t cp_heartbeat_ms;
	uint64_t cp_start_ms;
	uint64_t next_leg_uid;  /**< control side's allocator for leg_uid */
	uint8_t pad1[32];
	/* dataplane's cache line */
	uint32_t dp_pid;
	uint32_t dp_state;      /**< MR_DP_* */
	uint64_t dp_heartbeat_ms;
	uint64_t dp_start_ms;
	uint32_t dp_workers;    /**< workers of the running dataplane */
	uint32_t resync_done;   /**< last resync_req the dataplane served */
	uint8_t pad2[32];
};
_Static_assert(sizeof(struct mr_shm_header) == 256, "shm header ABI");
_Static_assert(offsetof(struct mr_shm_header, cp_pid) == 128, "shm header ABI");
_Static_assert(offsetof(struct mr_shm_header, dp_pid) == 192, "shm header ABI");

/** Section offsets and total size for a region of the given dimensions. */
struct mr_shm_layout {
	uint64_t off_slots, off_dp, off_counters, off_wstats;
	uint64_t off_cmd_ring, off_event_ring, size;
};

static inline uint64_t
mr_shm_align(uint64_t v)
{
	return (v + MR_SHM_ALIGN - 1u) & ~(uint64_t)(MR_SHM_ALIGN - 1u);
}

static inline int
mr_shm_layout(uint32_t max_legs, uint32_t max_workers, struct mr_shm_layout *l)
{
	uint64_t o;

	if (max_legs == 0 || max_legs > MR_SHM_MAX_LEGS ||
	    max_workers == 0 || max_workers > MR_SHM_MAX_WORKERS)
		return -EINVAL;
	o = mr_shm_align(sizeof(struct mr_shm_header));
	l->off_slots = o;
	o = mr_shm_align(o + (uint64_t)max_legs * sizeof(struct mr_leg_slot));
	l->off_dp = o;
	o = mr_shm_align(o + (uint64_t)max_legs * sizeof(struct mr_leg_dp));
	l->off_counters = o;
	o = mr_shm_align(o + (uint64_t)max_workers * max_legs *
			 sizeof(struct mr_leg_counters));
	l->off_wstats = o;
	o = mr_shm_align(o + (uint64_t)(max_workers + 1u) *
			 sizeof(struct mr_worker_stats));
	l->off_cmd_ring = o;
	o = mr_shm_align(o + sizeof(struct mr_ring) +
			 (uint64_t)MR_SHM_CMD_RING * sizeof(struct mr_cmd));
	l->off_event_ring = o;
	o = mr_shm_align(o + sizeof(struct mr_ring) +
			 (uint64_t)MR_SHM_EVENT_RING * sizeof(struct mr_event));
	l->size = o;
	return 0;
}

/**
 * Validate a mapped region of @p size bytes. Returns 0, -EPROTO for another
 * ABI version, -EINVAL for anything else that does not add up.
 */
static inline int
mr_shm_check(const struct mr_shm_header *h, uint64_t size)
{
	struct mr_shm_layout l;

	if (size < sizeof(*h) || h->magic != MR_SHM_MAGIC)
		return -EINVAL;
	if (h->abi_version != MR_SHM_ABI_VERSION)
		return -EPROTO;
	if (h->header_size != sizeof(*h) ||
	    mr_shm_layout(h->max_legs, h->max_workers, &l) < 0 ||
	    l.size != h->region_size || size < l.size ||
	    l.off_slots != h->off_slots || l.off_dp != h->off_dp ||
	    l.off_counters != h->off_counters || l.off_wstats != h->off_wstats ||
	    l.off_cmd_ring != h->off_cmd_ring ||
	    l.off_event_ring != h->off_event_ring)
		return -EINVAL;
	return 0;
}

static inline struct mr_leg_slot *
mr_shm_slot(const struct mr_shm_header *h, uint32_t i)
{
	return (struct mr_leg_slot *)((uint8_t *)h + h->off_slots) + i;
}

static inline struct mr_leg_dp *
mr_shm_leg_dp(const struct mr_shm_header *h, uint32_t i)
{
	return (struct mr_leg_dp *)((uint8_t *)h + h->off_dp) + i;
}

/** Row of worker @p w (0 .. max_workers-1). */
static inline struct mr_leg_counters *
mr_shm_counters(const struct mr_shm_header *h, uint32_t w, uint32_t i)
{
	return (struct mr_leg_counters *)((uint8_t *)h + h->off_counters) +
	       (size_t)w * h->max_legs + i;
}

/** Totals of worker @p w; w == max_workers is the management lcore. */
static inline struct mr_worker_stats *
mr_shm_wstats(const struct mr_shm_header *h, uint32_t w)
{
	return (struct mr_worker_stats *)((uint8_t *)h + h->off_wstats) + w;
}

static inline struct mr_ring *
mr_shm_cmd_ring(const struct mr_shm_header *h)
{
	return (struct mr_ring *)((uint8_t *)h + h->off_cmd_ring);
}

static inline struct mr_ring *
mr_shm_event_ring(const struct mr_shm_header *h)
{
	return (struct mr_ring *)((uint8_t *)h + h->off_event_ring);
}

/** CLOCK_MONOTONIC in milliseconds: the time base of every *_ms field. */
static inline uint64_t
mr_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/**
 * Map an existing region read-write and validate it. On success
 * ret_hdr and ret_size describe the mapping (unmap with munmap()).
 * Returns 0, -errno from open/mmap, or mr_shm_check()'s error.
 */
static inline int
mr_shm_attach(const char *path, struct mr_shm_header **ret_hdr, uint64_t *ret_size)
{
	struct stat st;
	void *p;
	int fd, r;

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto err_close;
	}
	if ((uint64_t)st.st_size < sizeof(struct mr_shm_header)) {
		r = -EINVAL;
		goto err_close;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		r = -errno;
		goto err_close;
	}
	close(fd);
	r = mr_shm_check(p, (uint64_t)st.st_size);
	if (r < 0) {
		munmap(p, (size_t)st.st_size);
		return r;
	}
	*ret_hdr = p;
	*ret_size = (uint64_t)st.st_size;
	return 0;
err_close:
	close(fd);
	return r;
}

/**
 * Create a new zeroed region at @p path, mode 0600; -EEXIST if a file is
 * there (a live region is never replaced behind a dataplane's back). The
 * file is sized with ftruncate, so untouched slots cost no memory. Returns 0
 * or -errno; on success the region is mapped as by mr_shm_attach().
 */
static inline int
mr_shm_create(const char *path, uint32_t max_legs, uint32_t max_workers,
	      struct mr_shm_header **ret_hdr, uint64_t *ret_size)
{
	struct mr_shm_layout l;
	struct mr_shm_header *h;
	struct mr_ring *r;
	void *p;
	int fd, err;

	err = mr_shm_layout(max_legs, max_workers, &l);
	if (err < 0)
		return err;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0600) < 0 || ftruncate(fd, (off_t)l.size) < 0) {
		err = -errno;
		close(fd);
		unlink(path);
		return err;
	}
	p = mmap(NULL, (size_t)l.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	err = -errno;
	close(fd);
	if (p == MAP_FAILED) {
		unlink(path);
		return err;
	}
	h = p;
	h->abi_version = MR_SHM_ABI_VERSION;
	h->header_size = sizeof(*h);
	h->region_size = l.size;
	h->max_legs = max_legs;
	h->max_workers = max_workers;
	h->off_slots = l.off_slots;
	h->off_dp = l.off_dp;
	h->off_counters = l.off_counters;
	h->off_wstats = l.off_wstats;
	h->off_cmd_ring = l.off_cmd_ring;
	h->off_event_ring = l.off_event_ring;
	h->next_leg_uid = 1;
	r = mr_shm_cmd_ring(h);
	r->size = MR_SHM_CMD_RING;
	r->entry_size = sizeof(struct mr_cmd);
	r = mr_shm_event_ring(h);
	r->size = MR_SHM_EVENT_RING;
	r->entry_size = sizeof(struct mr_event);
	/* Magic last: an attacher never sees a half-initialised header. */
	__atomic_store_n(&h->magic, MR_SHM_MAGIC, __ATOMIC_RELEASE);
	*ret_hdr = h;
	*ret_size = l.size;
	return 0;
}

#endif /* MRELAY_SHM_H */
