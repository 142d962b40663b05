/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for the NG protocol's parsers (controlplane/ng/): bencode and
 * the cookie framing. Besides "no crash, no read past the input" (ASan), it
 * checks what bencode.h and frame.h promise, and aborts when a promise breaks:
 *  - a failed parse says why, at an offset inside the input, and takes no
 *    nodes from the arena;
 *  - a document that parses prints back to exactly its own length (every
 *    accepted token is canonical, only key order may change), and to the
 *    very same bytes when its keys were sorted; the printed form parses to
 *    the same tree and prints identically again (round trip, idempotence);
 *  - a small arena either holds the whole document or reports -E2BIG;
 *  - a datagram that splits has a valid cookie and a body inside it, and the
 *    error reply built for it splits and parses back to that cookie and
 *    reason.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "bencode.h"
#include "frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NODES 1024
#define SMALL_NODES 8
#define PRINT_MAX 8192

static size_t
count_nodes(const struct mr_bc_node *n)
{
	const struct mr_bc_node *it;
	size_t c = 1;

	if (n->type == MR_BC_LIST || n->type == MR_BC_DICT) {
		for (it = n->c.first; it != NULL; it = it->next)
			c += count_nodes(it);
	}
	return c;
}

static bool
sorted_keys(const struct mr_bc_node *n)
{
	const struct mr_bc_node *it, *k, *v, *prev = NULL;

	if (n->type == MR_BC_LIST) {
		mr_bc_list_foreach(it, n) {
			if (!sorted_keys(it))
				return false;
		}
	} else if (n->type == MR_BC_DICT) {
		mr_bc_dict_foreach(k, v, n) {
			if (prev != NULL) {
				size_t m = prev->s.len < k->s.len ? prev->s.len : k->s.len;
				int c = m != 0 ? memcmp(prev->s.p, k->s.p, m) : 0;

				if (c > 0 || (c == 0 && prev->s.len >= k->s.len))
					return false;
			}
			if (!sorted_keys(v))
				return false;
			prev = k;
		}
	}
	return true;
}

/* Same tree; dictionaries compared as maps (order may differ after printing). */
static bool
same_tree(const struct mr_bc_node *a, const struct mr_bc_node *b)
{
	const struct mr_bc_node *x, *y, *k, *v;

	if (a->type != b->type)
		return false;
	switch (a->type) {
	case MR_BC_INT:
		return a->i == b->i;
	case MR_BC_STR:
		return a->s.len == b->s.len && memcmp(a->s.p, b->s.p, a->s.len) == 0;
	case MR_BC_LIST:
		if (a->count != b->count)
			return false;
		for (x = a->c.first, y = b->c.first; x != NULL && y != NULL; x = x->next, y = y->next) {
			if (!same_tree(x, y))
				return false;
		}
		return x == NULL && y == NULL;
	case MR_BC_DICT:
		if (a->count != b->count)
			return false;
		mr_bc_dict_foreach(k, v, a) {
			y = mr_bc_dict_getn(b, k->s.p, k->s.len);
			if (y == NULL || !same_tree(v, y))
				return false;
		}
		return true;
	default:
		return false;
	}
}

static void
check_bencode(const char *in, size_t size)
{
	static struct mr_bc_node nodes[NODES], nodes2[NODES], small[SMALL_NODES];
	static char out[PRINT_MAX], out2[PRINT_MAX];
	const struct mr_bc_node *root = NULL, *root2 = NULL, *root3 = NULL;
	struct mr_bc_arena a, a2, as;
	struct mr_bc_err err = { 0, NULL };
	size_t len = 0, len2 = 0;
	int r;

	mr_bc_arena_init(&a, nodes, NODES);
	r = mr_bc_parse(in, size, &a, &root, &err);
	if (r < 0) {
		check(r == -EINVAL || r == -E2BIG);
		check(err.what != NULL && err.offset <= size);
		check(a.used == 0 && root == NULL);
		return;
	}
	check(root != NULL && a.used == count_nodes(root));

	/* print: exactly as long as the input, and the input itself if sorted */
	r = mr_bc_print(root, out, sizeof(out), &len);
	if (size > sizeof(out)) {
		check(r == 0 || r == -ENOSPC);
		if (r < 0)
			return;
	}
	check(r == 0 && len == size);
	if (sorted_keys(root))
		check(memcmp(out, in, size) == 0);
	if (size > 0) {
		size_t dummy = 0;

		check(mr_bc_print(root, out2, size - 1, &dummy) == -ENOSPC && dummy == 0);
	}

	/* round trip and idempotence */
	mr_bc_arena_init(&a2, nodes2, NODES);
	check(mr_bc_parse(out, len, &a2, &root2, &err) == 0);
	check(a2.used == a.used && same_tree(root, root2) && sorted_keys(root2));
	check(mr_bc_print(root2, out2, sizeof(out2), &len2) == 0);
	check(len2 == len && memcmp(out, out2, len) == 0);

	/* the same document in a small arena: whole, or -E2BIG */
	mr_bc_arena_init(&as, small, SMALL_NODES);
	r = mr_bc_parse(in, size, &as, &root3, &err);
	if (a.used <= SMALL_NODES)
		check(r == 0 && same_tree(root, root3));
	else
		check(r == -E2BIG && as.used == 0);
}

static void
check_ng(const char *in, size_t size)
{
	static struct mr_bc_node nodes[NODES];
	static char reply[MR_NG_COOKIE_MAX + 256];
	const struct mr_bc_node *dict = NULL, *rd = NULL;
	struct mr_ng_msg m, rm;
	struct mr_bc_arena a;
	struct mr_bc_err err = { 0, NULL };
	const char *why = NULL, *p;
	size_t len, plen;
	int r;

	if (mr_ng_split(in, size, &m, &why) < 0) {
		check(why != NULL);
		return;
	}
	check(m.cookie == in && mr_ng_cookie_valid(m.cookie, m.cookie_len));
	check(m.body == in + m.cookie_len + 1 && m.body_len >= 1 &&
	      m.cookie_len + 1 + m.body_len == size);

	mr_bc_arena_init(&a, nodes, NODES);
	r = mr_ng_parse_request(&m, &a, &dict, &err);
	if (r == 0) {
		check(dict->type == MR_BC_DICT);
		return;
	}
	check(err.what != NULL && err.offset <= m.body_len && a.used == 0);

	/* the error reply carries the cookie and the reason, and parses back */
	check(mr_ng_reply_error(m.cookie, m.cookie_len, err.what, reply, sizeof(reply), &len) == 0);
	check(mr_ng_split(reply, len, &rm, NULL) == 0);
	check(rm.cookie_len == m.cookie_len && memcmp(rm.cookie, m.cookie, m.cookie_len) == 0);
	mr_bc_arena_init(&a, nodes, NODES);
	check(mr_ng_parse_request(&rm, &a, &rd, &err) == 0);
	check(mr_bc_str_eq(mr_bc_dict_get(rd, "result"), "error"));
	check(mr_bc_dict_get_str(rd, "error-reason", &p, &plen) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_bencode((const char *)data, size);
	check_ng((const char *)data, size);
	return 0;
}
