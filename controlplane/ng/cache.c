/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NG retransmission cache (see cache.h): a ring of entries in insertion order,
 * indexed by a chained hash. The ring position to write next always holds the
 * oldest entry (or none), so eviction is O(1) and never searches.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "cache.h"

#define NONE UINT32_MAX

struct entry {
	uint64_t expire_ms;
	void *reply;
	size_t reply_len;
	uint32_t hash;
	uint32_t hnext;                 /* next entry in the same bucket, or NONE */
	bool live;
	uint8_t key_len;
	char key[MR_NG_CACHE_KEY_MAX];
};

struct mr_ng_cache {
	struct entry *e;                /* the ring */
	uint32_t n;
	uint32_t next;                  /* ring position written next: the oldest */
	uint32_t *buckets;              /* heads of chains, mask + 1 of them */
	uint32_t mask;
	uint32_t ttl_ms;
	uint64_t seed;
};

/* FNV-1a over a random per-cache basis: cheap, and a sender cannot aim many
 * keys at one chain without knowing the seed. */
static uint32_t
hash_key(const struct mr_ng_cache *c, const unsigned char *k, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull ^ c->seed;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= k[i];
		h *= 0x100000001b3ull;
	}
	return (uint32_t)(h ^ (h >> 32));
}

struct mr_ng_cache *
mr_ng_cache_new(uint32_t n_entries, uint32_t ttl_ms)
{
	struct mr_ng_cache *c;
	uint32_t nb = 1, i;

	if (n_entries == 0 || n_entries > MR_NG_CACHE_MAX_ENTRIES || ttl_ms == 0) {
		errno = EINVAL;
		return NULL;
	}
	while (nb < n_entries)          /* a load factor of at most 1 */
		nb <<= 1;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->e = calloc(n_entries, sizeof(*c->e));
	c->buckets = malloc((size_t)nb * sizeof(*c->buckets));
	if (c->e == NULL || c->buckets == NULL) {
		mr_ng_cache_free(c);
		errno = ENOMEM;
		return NULL;
	}
	for (i = 0; i < nb; i++)
		c->buckets[i] = NONE;
	c->n = n_entries;
	c->mask = nb - 1;
	c->ttl_ms = ttl_ms;
	/* A fixed seed would only weaken the hash, not break the cache. */
	if (getrandom(&c->seed, sizeof(c->seed), GRND_NONBLOCK) != (ssize_t)sizeof(c->seed))
		c->seed = (uint64_t)(uintptr_t)c * 0x9e3779b97f4a7c15ull;
	return c;
}

static void
entry_drop(struct mr_ng_cache *c, uint32_t idx)
{
	struct entry *e = &c->e[idx];
	uint32_t *link = &c->buckets[e->hash & c->mask];

	while (*link != idx)
		link = &c->e[*link].hnext;
	*link = e->hnext;
	free(e->reply);
	e->reply = NULL;
	e->reply_len = 0;
	e->live = false;
}

static uint32_t
entry_find(const struct mr_ng_cache *c, uint32_t hash, const void *key, size_t key_len)
{
	uint32_t idx;

	for (idx = c->buckets[hash & c->mask]; idx != NONE; idx = c->e[idx].hnext) {
		const struct entry *e = &c->e[idx];

		if (e->hash == hash && e->key_len == key_len && memcmp(e->key, key, key_len) == 0)
			return idx;
	}
	return NONE;
}

void
mr_ng_cache_free(struct mr_ng_cache *c)
{
	uint32_t i;

	if (c == NULL)
		return;
	if (c->e != NULL) {
		for (i = 0; i < c->n; i++)
			free(c->e[i].reply);
	}
	free(c->e);
	free(c->buckets);
	free(c);
}

int
mr_ng_cache_put(struct mr_ng_cache *c, const void *key, size_t key_len,
		const void *reply, size_t reply_len, uint64_t now_ms)
{
	uint32_t hash, idx;
	struct entry *e;
	void *copy;

	if (key == NULL || key_len == 0 || key_len > MR_NG_CACHE_KEY_MAX ||
	    (reply == NULL && reply_len != 0))
		return -EINVAL;
	copy = malloc(reply_len != 0 ? reply_len : 1);
	if (copy == NULL)
		return -ENOMEM;
	if (reply_len != 0)
		memcpy(copy, reply, reply_len);

	hash = hash_key(c, key, key_len);
	idx = entry_find(c, hash, key, key_len);
	if (idx != NONE)
		entry_drop(c, idx);
	idx = c->next;
	c->next = idx + 1 == c->n ? 0 : idx + 1;
	if (c->e[idx].live)
		entry_drop(c, idx);

	e = &c->e[idx];
	e->expire_ms = now_ms > UINT64_MAX - c->ttl_ms ? UINT64_MAX : now_ms + c->ttl_ms;
	e->reply = copy;
	e->reply_len = reply_len;
	e->hash = hash;
	e->key_len = (uint8_t)key_len;
	memcpy(e->key, key, key_len);
	e->live = true;
	e->hnext = c->buckets[hash & c->mask];
	c->buckets[hash & c->mask] = idx;
	return 0;
}

bool
mr_ng_cache_get(struct mr_ng_cache *c, const void *key, size_t key_len,
		uint64_t now_ms, const void **ret_reply, size_t *ret_len)
{
	uint32_t idx;

	if (key == NULL || key_len == 0 || key_len > MR_NG_CACHE_KEY_MAX)
		return false;
	idx = entry_find(c, hash_key(c, key, key_len), key, key_len);
	if (idx == NONE)
		return false;
	if (now_ms >= c->e[idx].expire_ms) {
		entry_drop(c, idx);
		return false;
	}
	*ret_reply = c->e[idx].reply;
	*ret_len = c->e[idx].reply_len;
	return true;
}

uint32_t
mr_ng_cache_count(const struct mr_ng_cache *c, uint64_t now_ms)
{
	uint32_t i, n = 0;

	for (i = 0; i < c->n; i++)
		n += c->e[i].live && now_ms < c->e[i].expire_ms;
	return n;
}
