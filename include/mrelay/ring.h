/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Single-producer single-consumer rings in the shared region, and the two
 * record types that travel on them.
 *
 *  - command ring, control side -> mrelay-dp: "slot S is now at generation
 *    G" (MR_CMD_LEG_SET), "slot S is gone" (MR_CMD_LEG_DEL), and a barrier
 *    (MR_CMD_SYNC) answered by an MR_EV_SYNC event with the same cookie.
 *    Commands carry no data: the slot is the data, so a command that is lost
 *    (ring full, dataplane down) is repaired by the full scan mrelay-dp does
 *    at start or on a resync request (mr_shm_header.resync_req).
 *  - event ring, mrelay-dp -> control side: latched, idle, torn slot, sync.
 *    Only the dataplane's management lcore produces; when the ring is full
 *    the event is dropped and counted, never waited for.
 *
 * head is written only by the producer and tail only by the consumer, each
 * in its own cache line. Both are free-running 32-bit counters; size is a
 * power of two. A producer that dies mid-push leaves head unchanged, so the
 * half-written entry is never seen.
 */
#ifndef MRELAY_RING_H
#define MRELAY_RING_H

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "leg.h"

struct mr_ring {
	uint32_t size;          /**< entries, power of two; RO after create */
	uint32_t entry_size;    /**< bytes; RO after create */
	uint8_t pad0[56];
	uint32_t head;          /**< producer-owned */
	uint8_t pad1[60];
	uint32_t tail;          /**< consumer-owned */
	uint8_t pad2[60];
	/* entries follow */
};
_Static_assert(sizeof(struct mr_ring) == 192, "ring ABI");

static inline uint8_t *
mr_ring_entry(struct mr_ring *r, uint32_t idx)
{
	return (uint8_t *)(r + 1) + (size_t)(idx & (r->size - 1u)) * r->entry_size;
}

/** Producer: copy one entry in. Returns 0 or -ENOBUFS when full. */
static inline int
mr_ring_push(struct mr_ring *r, const void *e)
{
	uint32_t head = r->head;
	uint32_t tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);

	if (head - tail >= r->size)
		return -ENOBUFS;
	memcpy(mr_ring_entry(r, head), e, r->entry_size);
	__atomic_store_n(&r->head, head + 1u, __ATOMIC_RELEASE);
	return 0;
}

/** Consumer: copy one entry out. Returns 0 or -ENOENT when empty. */
static inline int
mr_ring_pop(struct mr_ring *r, void *e)
{
	uint32_t tail = r->tail;
	uint32_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);

	if (tail == head)
		return -ENOENT;
	memcpy(e, mr_ring_entry(r, tail), r->entry_size);
	__atomic_store_n(&r->tail, tail + 1u, __ATOMIC_RELEASE);
	return 0;
}

/** Entries waiting (either side may ask; the answer may be stale). */
static inline uint32_t
mr_ring_count(const struct mr_ring *r)
{
	return __atomic_load_n(&r->head, __ATOMIC_ACQUIRE) -
	       __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
}

enum mr_cmd_op {
	MR_CMD_NOP = 0,
	MR_CMD_LEG_SET = 1,     /**< (re)apply slot at generation */
	MR_CMD_LEG_DEL = 2,     /**< remove the leg's flows; dp part is reset */
	MR_CMD_SYNC = 3,        /**< answer MR_EV_SYNC with cookie once applied */
};

struct mr_cmd {
	uint16_t op;            /**< enum mr_cmd_op */
	uint16_t flags;
	uint32_t slot;
	uint32_t generation;
	uint32_t cookie;
};
_Static_assert(sizeof(struct mr_cmd) == 16, "cmd ABI");

enum mr_event_type {
	MR_EV_NONE = 0,
	MR_EV_LATCHED = 1,      /**< addr = new source of component comp */
	MR_EV_IDLE = 2,         /**< no media for the idle timeout */
	MR_EV_SYNC = 3,         /**< cookie of the MR_CMD_SYNC */
	MR_EV_SLOT_TORN = 4,    /**< slot stayed odd; control side should repair */
	MR_EV_DP_START = 5,     /**< value = dataplane pid */
	MR_EV_AUTH_FAIL = 6,    /**< value = failures since last event */
	MR_EV_SSRC = 7,         /**< value = new SSRC */
	MR_EV_STUN = 8,         /**< addr = checking peer */
};

struct mr_event {
	uint16_t type;          /**< enum mr_event_type */
	uint8_t comp;           /**< MR_COMP_* */
	uint8_t pad0;
	uint32_t slot;
	uint32_t generation;
	uint32_t cookie;
	uint64_t leg_uid;
	uint64_t value;
	struct mr_sockaddr addr;
	uint8_t pad1[12];
};
_Static_assert(sizeof(struct mr_event) == 64, "event ABI");

#endif /* MRELAY_RING_H */
