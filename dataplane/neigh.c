/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Neighbour table (ARP / NDP cache), one per port. The management lcore is
 * the only writer; workers read entries under their seqlock, so a lookup
 * never blocks and never sees half an address. Open addressing with a
 * bounded probe window; entries are never emptied, only replaced, so a
 * probe may stop at the first empty entry.
 */
#include <string.h>

#include <rte_jhash.h>
#include <rte_malloc.h>

#include "dp.h"

#define NEIGH_SIZE 4096u
#define NEIGH_PROBE 8u
#define NEIGH_MAX_TRIES 3u

enum {
	NEIGH_EMPTY = 0,
	NEIGH_INCOMPLETE,       /* asked, no answer yet: no MAC */
	NEIGH_REACHABLE,
	NEIGH_STALE,            /* MAC still used while being refreshed */
};

struct neigh_entry {
	uint32_t seq;
	uint8_t state;
	uint8_t is_static;
	uint8_t mac[6];
	struct mr_sockaddr ip;
	uint32_t tries;
	uint64_t updated_ms;
	uint64_t requested_ms;
};

struct mr_neigh_table {
	struct neigh_entry e[NEIGH_SIZE];
};

static uint32_t
neigh_hash(const struct mr_sockaddr *ip)
{
	return rte_jhash(ip->ip, ip->family == MR_AF_INET ? 4 : 16, ip->family);
}

struct mr_neigh_table *
mr_neigh_create(unsigned int socket)
{
	return rte_zmalloc_socket("mr_neigh", sizeof(struct mr_neigh_table),
				  RTE_CACHE_LINE_SIZE, (int)socket);
}

void
mr_neigh_free(struct mr_neigh_table *t)
{
	rte_free(t);
}

bool
mr_neigh_lookup(const struct mr_neigh_table *t, const struct mr_sockaddr *ip,
		struct rte_ether_addr *ret_mac)
{
	uint32_t h = neigh_hash(ip);
	unsigned int i;

	for (i = 0; i < NEIGH_PROBE; i++) {
		const struct neigh_entry *p = &t->e[(h + i) & (NEIGH_SIZE - 1u)];
		struct neigh_entry e;

		if (mr_seq_read(&p->seq, &e, p, sizeof(e)) < 0)
			return false;
		if (e.state == NEIGH_EMPTY)
			return false;
		if (!mr_sockaddr_ip_eq(&e.ip, ip))
			continue;
		if (e.state != NEIGH_REACHABLE && e.state != NEIGH_STALE)
			return false;
		memcpy(ret_mac->addr_bytes, e.mac, 6);
		return true;
	}
	return false;
}

/* Entry for @ip, or the slot to (re)use for it; mgmt only. */
static struct neigh_entry *
neigh_slot(struct mr_neigh_table *t, const struct mr_sockaddr *ip, bool *ret_found)
{
	uint32_t h = neigh_hash(ip);
	struct neigh_entry *victim = NULL;
	unsigned int i;

	*ret_found = false;
	for (i = 0; i < NEIGH_PROBE; i++) {
		struct neigh_entry *e = &t->e[(h + i) & (NEIGH_SIZE - 1u)];

		if (e->state == NEIGH_EMPTY)
			return victim != NULL ? victim : e;
		if (mr_sockaddr_ip_eq(&e->ip, ip)) {
			*ret_found = true;
			return e;
		}
		if (!e->is_static && (victim == NULL || e->updated_ms < victim->updated_ms))
			victim = e;
	}
	return victim;
}

static void
neigh_set(struct neigh_entry *e, const struct mr_sockaddr *ip, uint8_t state,
	  const uint8_t mac[6], bool is_static, uint64_t now_ms, uint64_t requested_ms)
{
	mr_seq_write_begin(&e->seq);
	e->state = state;
	e->is_static = is_static;
	if (mac != NULL)
		memcpy(e->mac, mac, 6);
	else
		memset(e->mac, 0, 6);
	e->ip = *ip;
	e->ip.port_be = 0;
	e->tries = 0;
	e->updated_ms = now_ms;
	e->requested_ms = requested_ms;
	mr_seq_write_end(&e->seq);
}

void
mr_neigh_update(struct mr_neigh_table *t, const struct mr_sockaddr *ip,
		const uint8_t mac[6], bool is_static, uint64_t now_ms)
{
	bool found;
	struct neigh_entry *e = neigh_slot(t, ip, &found);

	if (e == NULL || (found && e->is_static && !is_static))
		return;
	neigh_set(e, ip, NEIGH_REACHABLE, mac, is_static, now_ms, 0);
}

bool
mr_neigh_want(struct mr_neigh_table *t, const struct mr_sockaddr *ip,
	      uint64_t now_ms, uint32_t retry_ms)
{
	bool found;
	struct neigh_entry *e = neigh_slot(t, ip, &found);

	if (e == NULL)
		return false;
	if (!found) {
		neigh_set(e, ip, NEIGH_INCOMPLETE, NULL, false, now_ms, now_ms);
		return true;
	}
	if (e->state == NEIGH_REACHABLE || e->is_static ||
	    now_ms - e->requested_ms < retry_ms)
		return false;
	e->requested_ms = now_ms;       /* mgmt-only field: no seqlock needed */
	return true;
}

unsigned int
mr_neigh_age(struct mr_neigh_table *t, uint64_t now_ms, uint32_t reachable_ms,
	     uint32_t retry_ms, struct mr_sockaddr *ret_refresh, unsigned int max)
{
	unsigned int i, n = 0;

	for (i = 0; i < NEIGH_SIZE && n < max; i++) {
		struct neigh_entry *e = &t->e[i];

		if (e->is_static || e->state == NEIGH_EMPTY || e->state == NEIGH_INCOMPLETE)
			continue;
		if (e->state == NEIGH_REACHABLE) {
			if (now_ms - e->updated_ms < reachable_ms)
				continue;
			mr_seq_write_begin(&e->seq);
			e->state = NEIGH_STALE;
			mr_seq_write_end(&e->seq);
		}
		if (now_ms - e->requested_ms < retry_ms)
			continue;
		if (e->tries >= NEIGH_MAX_TRIES) {
			/* Gone: stop sending to a MAC nobody answers for. */
			neigh_set(e, &e->ip, NEIGH_INCOMPLETE, NULL, false, e->updated_ms, now_ms);
			continue;
		}
		e->tries++;
		e->requested_ms = now_ms;
		ret_refresh[n++] = e->ip;
	}
	return n;
}
