/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_CP_NG_CACHE_H
#define MR_CP_NG_CACHE_H

/*
 * The NG retransmission cache. A SIP proxy that gets no reply in time sends
 * the same request again with the same cookie; executing it twice would, for
 * an offer, allocate a second set of ports and keys. So the reply to every
 * request is kept for a while under its cookie, and a repeated cookie gets the
 * stored reply, byte for byte, without running the command again.
 *
 * The key is opaque bytes: the cookie alone (as rtpengine does), or, since two
 * proxies may use the same cookie, the caller may prefix the sender's address.
 *
 * A fixed number of entries in a ring: an entry lives until @ttl_ms after it
 * was stored, or until @n_entries newer ones have been stored and the ring
 * has evicted it, whichever comes first. A hit does not refresh an entry: retransmissions come
 * within seconds of the original, and an entry that keeps being hit past its
 * TTL is a proxy bug the cache must not hide forever. Lookup is a chained
 * hash over the keys with a per-cache random seed, so chains stay short for
 * any cookie scheme a proxy uses (and never longer than the ring).
 *
 * Time comes from the caller (@now_ms, any monotonic millisecond clock), so
 * the cache never reads a clock and tests control expiry. Not thread-safe:
 * one cache per thread, or a lock around it.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MR_NG_CACHE_KEY_MAX 128u
#define MR_NG_CACHE_MAX_ENTRIES (1u << 20)

struct mr_ng_cache;

/* @n_entries: 1..MR_NG_CACHE_MAX_ENTRIES (about 180 bytes each, plus the
 * replies); @ttl_ms > 0. NULL on bad arguments (errno EINVAL) or no memory. */
struct mr_ng_cache *mr_ng_cache_new(uint32_t n_entries, uint32_t ttl_ms);
/* Frees every stored reply. NULL is a no-op. */
void mr_ng_cache_free(struct mr_ng_cache *c);

/*
 * Store a copy of @reply under @key at time @now_ms, replacing an entry with
 * the same key and, when the ring is full, evicting the oldest. Returns 0,
 * -EINVAL (@key empty or longer than MR_NG_CACHE_KEY_MAX) or -ENOMEM (the
 * cache is unchanged then).
 */
int mr_ng_cache_put(struct mr_ng_cache *c, const void *key, size_t key_len,
		    const void *reply, size_t reply_len, uint64_t now_ms);

/*
 * The reply stored under @key if it has not expired at @now_ms. The pointer
 * stays valid until the next put or free. An expired entry found here is
 * dropped.
 */
bool mr_ng_cache_get(struct mr_ng_cache *c, const void *key, size_t key_len,
		     uint64_t now_ms, const void **ret_reply, size_t *ret_len);

/* Entries stored and not yet expired at @now_ms (walks the ring: for
 * statistics and tests, not the request path). */
uint32_t mr_ng_cache_count(const struct mr_ng_cache *c, uint64_t now_ms);

#endif /* MR_CP_NG_CACHE_H */
