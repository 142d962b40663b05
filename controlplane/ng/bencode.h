/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_CP_BENCODE_H
#define MR_CP_BENCODE_H

/*
 * Bencode (BitTorrent BEP 3), as rtpengine's NG protocol carries it: parse a
 * message into nodes taken from a caller-provided arena, look values up, build
 * trees for replies, and print a tree back.
 *
 * What the parser accepts is exactly one value and nothing after it:
 *  - integers "i<n>e": an optional '-', decimal digits, no leading zero, no
 *    "-0", within int64_t;
 *  - byte strings "<len>:<bytes>": len in decimal without leading zero (so
 *    "0:" is the empty string); the bytes are binary-safe and may hold NULs;
 *  - lists "l...e" and dictionaries "d...e" whose keys are byte strings.
 * Dictionary keys are accepted in any order: BEP 3 wants them sorted, but
 * rtpengine documents that it does not enforce this and Kamailio's module
 * sends "sdp", "call-id", ..., "command" in insertion order, so a strict
 * parser would refuse every real request. A key may appear only once per
 * dictionary: a request whose meaning depends on which duplicate wins is
 * refused rather than guessed at. The printer always emits keys sorted by
 * raw bytes, so what mrelay sends is canonical bencode.
 *
 * Parsing is zero copy: string nodes point into the input, which must outlive
 * the nodes. Nodes come from a struct mr_bc_arena the caller owns (usually an
 * array on the stack): no allocation per node, a hard bound on the node count,
 * and nesting is limited to MR_BC_MAX_DEPTH, so no input can exhaust memory or
 * the stack. Bad input gives an error with the byte offset where parsing
 * stopped, never a crash.
 *
 * No global state. An arena and the trees in it belong to one thread.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Deepest nesting of lists and dictionaries (the outermost one is depth 1). */
#define MR_BC_MAX_DEPTH 32u

enum mr_bc_type {
	MR_BC_INT = 1,
	MR_BC_STR,
	MR_BC_LIST,
	MR_BC_DICT,
};

struct mr_bc_node {
	struct mr_bc_node *next;        /* next sibling in the parent, NULL at the end */
	union {
		int64_t i;                      /* MR_BC_INT */
		struct {
			const char *p;          /* not NUL-terminated */
			size_t len;
		} s;                            /* MR_BC_STR */
		struct {
			struct mr_bc_node *first;       /* list: items; dict: key, value, key, ... */
			struct mr_bc_node *last;
		} c;                            /* MR_BC_LIST, MR_BC_DICT */
	};
	uint32_t count;                 /* list items or dictionary pairs */
	uint8_t type;                   /* enum mr_bc_type */
};

/* Where nodes come from: @nodes[0..cap), of which the first @used are taken. */
struct mr_bc_arena {
	struct mr_bc_node *nodes;
	size_t cap;
	size_t used;
};

/* Why parsing stopped: @what is a static string, @offset a byte offset into
 * the input (the input's length when it ended too early). */
struct mr_bc_err {
	size_t offset;
	const char *what;
};

void mr_bc_arena_init(struct mr_bc_arena *a, struct mr_bc_node *nodes, size_t cap);

/*
 * Parse @buf[0..len) into nodes taken from @a. Returns 0 and the root in
 * @ret_root; -EINVAL when the input is not bencode as described above, or
 * -E2BIG when it nests deeper than MR_BC_MAX_DEPTH or needs more nodes than
 * @a has left; on either error @ret_err says where and why and @a is as it
 * was before the call. Time is linear in @len except for the duplicate-key
 * check, quadratic in the number of keys of one dictionary (bounded by the
 * arena).
 */
int mr_bc_parse(const char *buf, size_t len, struct mr_bc_arena *a,
		const struct mr_bc_node **ret_root, struct mr_bc_err *ret_err);

/*
 * Print the tree at @root into @buf (not NUL-terminated) with dictionary keys
 * sorted. Returns 0 and the length in @ret_len; -ENOSPC if @cap is too small
 * (@buf then holds a partial, meaningless prefix); -EINVAL if the tree cannot
 * be printed as bencode: a dictionary key that is not a string, a key that
 * appears twice, an unknown node type, or nesting deeper than MR_BC_MAX_DEPTH.
 */
int mr_bc_print(const struct mr_bc_node *root, char *buf, size_t cap, size_t *ret_len);

/* ---- reading a tree --------------------------------------------------- */

/* First item of a list or first key of a dictionary; NULL if empty or if @n
 * is not a container. */
static inline const struct mr_bc_node *
mr_bc_first(const struct mr_bc_node *n)
{
	return n != NULL && (n->type == MR_BC_LIST || n->type == MR_BC_DICT) ? n->c.first : NULL;
}

/* Every item of list @list (or nothing if it is not a list). */
#define mr_bc_list_foreach(it, list) \
	for ((it) = (list) != NULL && (list)->type == MR_BC_LIST ? (list)->c.first : NULL; \
	     (it) != NULL; (it) = (it)->next)

/* Every key and value of dictionary @dict, in the order they arrived. */
#define mr_bc_dict_foreach(key, val, dict) \
	for ((key) = (dict) != NULL && (dict)->type == MR_BC_DICT ? (dict)->c.first : NULL; \
	     (key) != NULL && ((val) = (key)->next) != NULL; (key) = (val)->next)

/* True if @n is a string holding exactly the bytes of the C string @s. */
bool mr_bc_str_eq(const struct mr_bc_node *n, const char *s);

/* Value of @key (@key_len bytes) in @dict; NULL if absent or @dict is not a
 * dictionary. */
const struct mr_bc_node *mr_bc_dict_getn(const struct mr_bc_node *dict,
					 const char *key, size_t key_len);
/* Same with a NUL-terminated @key. */
const struct mr_bc_node *mr_bc_dict_get(const struct mr_bc_node *dict, const char *key);

/* Typed lookups: 0, -ENOENT if @key is absent, -EINVAL if its value has
 * another type. The list variant returns the list node itself. */
int mr_bc_dict_get_str(const struct mr_bc_node *dict, const char *key,
		       const char **ret_p, size_t *ret_len);
int mr_bc_dict_get_int(const struct mr_bc_node *dict, const char *key, int64_t *ret);
int mr_bc_dict_get_list(const struct mr_bc_node *dict, const char *key,
			const struct mr_bc_node **ret_list);
int mr_bc_dict_get_dict(const struct mr_bc_node *dict, const char *key,
			const struct mr_bc_node **ret_dict);

/*
 * Copy string node @n into @buf as a C string. 0; -EINVAL if @n is not a
 * string or holds a NUL byte (it could not be used as a C string without
 * silently shortening it); -ENOSPC if it does not fit with its terminator.
 */
int mr_bc_str_copy(const struct mr_bc_node *n, char *buf, size_t cap);

/* ---- building a tree -------------------------------------------------- */

/*
 * Constructors return a node from @a, or NULL when @a is full. Strings are
 * referenced, not copied: @p must outlive the tree. A node may be added to
 * one container only, once. The add functions take NULL arguments (a failed
 * constructor) and then return -ENOSPC, so calls can be nested without a
 * check each; they return -EINVAL if the container has the wrong type or a
 * dictionary key is not a string. Duplicate keys are caught by mr_bc_print().
 */
struct mr_bc_node *mr_bc_new_int(struct mr_bc_arena *a, int64_t v);
struct mr_bc_node *mr_bc_new_str(struct mr_bc_arena *a, const char *p, size_t len);
struct mr_bc_node *mr_bc_new_cstr(struct mr_bc_arena *a, const char *s);
struct mr_bc_node *mr_bc_new_list(struct mr_bc_arena *a);
struct mr_bc_node *mr_bc_new_dict(struct mr_bc_arena *a);

int mr_bc_list_add(struct mr_bc_node *list, struct mr_bc_node *item);
int mr_bc_dict_add(struct mr_bc_node *dict, struct mr_bc_node *key, struct mr_bc_node *val);
/* Add @key with a string (referenced) or integer value. */
int mr_bc_dict_add_cstr(struct mr_bc_arena *a, struct mr_bc_node *dict,
			const char *key, const char *val);
int mr_bc_dict_add_str(struct mr_bc_arena *a, struct mr_bc_node *dict,
		       const char *key, const char *val, size_t val_len);
int mr_bc_dict_add_int(struct mr_bc_arena *a, struct mr_bc_node *dict,
		       const char *key, int64_t val);

#endif /* MR_CP_BENCODE_H */
