/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Bencode parser, lookups, tree builder and printer (see bencode.h for what
 * is accepted and why). The parser is recursive descent; recursion is bounded
 * by MR_BC_MAX_DEPTH, so its stack use is bounded too. On error the arena is
 * rolled back, so a failed parse leaves no half-built nodes behind.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bencode.h"

struct parser {
	const char *buf;
	size_t len;
	size_t pos;
	struct mr_bc_arena *a;
	struct mr_bc_err err;
};

void
mr_bc_arena_init(struct mr_bc_arena *a, struct mr_bc_node *nodes, size_t cap)
{
	a->nodes = nodes;
	a->cap = nodes != NULL ? cap : 0;
	a->used = 0;
}

static struct mr_bc_node *
node_new(struct mr_bc_arena *a, uint8_t type)
{
	struct mr_bc_node *n;

	if (a == NULL || a->used >= a->cap)
		return NULL;
	n = &a->nodes[a->used++];
	memset(n, 0, sizeof(*n));
	n->type = type;
	return n;
}

/* ---- parser ----------------------------------------------------------- */

static int
fail(struct parser *ps, int r, size_t offset, const char *what)
{
	ps->err.offset = offset;
	ps->err.what = what;
	return r;
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Append @child to container @parent (the parser's and builder's one link). */
static void
link_child(struct mr_bc_node *parent, struct mr_bc_node *child)
{
	if (parent->c.last != NULL)
		parent->c.last->next = child;
	else
		parent->c.first = child;
	parent->c.last = child;
}

static int
parse_int(struct parser *ps, struct mr_bc_node *n)
{
	size_t start = ps->pos++;       /* the 'i' */
	bool neg = false;
	uint64_t mag = 0, limit;

	if (ps->pos < ps->len && ps->buf[ps->pos] == '-') {
		neg = true;
		ps->pos++;
	}
	limit = neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
	if (ps->pos >= ps->len)
		return fail(ps, -EINVAL, ps->len, "unexpected end of input in an integer");
	if (!is_digit(ps->buf[ps->pos]))
		return fail(ps, -EINVAL, ps->pos, "integer without digits");
	if (ps->buf[ps->pos] == '0' && ps->pos + 1 < ps->len && ps->buf[ps->pos + 1] != 'e') {
		return fail(ps, -EINVAL, ps->pos, is_digit(ps->buf[ps->pos + 1]) ?
			    "integer with a leading zero" : "integer not ended by 'e'");
	}
	if (neg && ps->buf[ps->pos] == '0')
		return fail(ps, -EINVAL, start, "negative zero integer");
	while (ps->pos < ps->len && is_digit(ps->buf[ps->pos])) {
		unsigned int d = (unsigned int)(ps->buf[ps->pos] - '0');

		if (mag > (limit - d) / 10u)
			return fail(ps, -EINVAL, start, "integer out of 64-bit range");
		mag = mag * 10u + d;
		ps->pos++;
	}
	if (ps->pos >= ps->len)
		return fail(ps, -EINVAL, ps->len, "unexpected end of input in an integer");
	if (ps->buf[ps->pos] != 'e')
		return fail(ps, -EINVAL, ps->pos, "integer not ended by 'e'");
	ps->pos++;
	/* mag <= 2^63 when neg: negate in unsigned arithmetic, then convert. */
	n->i = neg ? (int64_t)(0u - mag) : (int64_t)mag;
	return 0;
}

static int
parse_str(struct parser *ps, struct mr_bc_node *n)
{
	size_t start = ps->pos, want = 0, left;

	if (ps->buf[ps->pos] == '0' && ps->pos + 1 < ps->len && is_digit(ps->buf[ps->pos + 1]))
		return fail(ps, -EINVAL, start, "string length with a leading zero");
	while (ps->pos < ps->len && is_digit(ps->buf[ps->pos])) {
		unsigned int d = (unsigned int)(ps->buf[ps->pos] - '0');

		/* Anything past the input is an error anyway; stop before overflow. */
		if (want > (SIZE_MAX - d) / 10u || want * 10u + d > ps->len)
			return fail(ps, -EINVAL, start, "string longer than the input");
		want = want * 10u + d;
		ps->pos++;
	}
	if (ps->pos >= ps->len)
		return fail(ps, -EINVAL, ps->len, "unexpected end of input in a string length");
	if (ps->buf[ps->pos] != ':')
		return fail(ps, -EINVAL, ps->pos, "string length not followed by ':'");
	ps->pos++;
	left = ps->len - ps->pos;
	if (want > left)
		return fail(ps, -EINVAL, start, "string longer than the input");
	n->s.p = ps->buf + ps->pos;
	n->s.len = want;
	ps->pos += want;
	return 0;
}

static bool
key_eq(const struct mr_bc_node *a, const struct mr_bc_node *b)
{
	return a->s.len == b->s.len && memcmp(a->s.p, b->s.p, a->s.len) == 0;
}

static int parse_value(struct parser *ps, unsigned int depth, struct mr_bc_node **ret);

static int
parse_container(struct parser *ps, unsigned int depth, struct mr_bc_node *n)
{
	bool dict = n->type == MR_BC_DICT;
	size_t open = ps->pos++;        /* the 'l' or 'd' */

	if (depth > MR_BC_MAX_DEPTH)
		return fail(ps, -E2BIG, open, "nested deeper than the limit");
	for (;;) {
		struct mr_bc_node *key = NULL, *val, *k;
		size_t key_at = ps->pos;
		int r;

		if (ps->pos >= ps->len)
			return fail(ps, -EINVAL, ps->len, dict ? "unexpected end of input in a dictionary" :
				    "unexpected end of input in a list");
		if (ps->buf[ps->pos] == 'e') {
			ps->pos++;
			return 0;
		}
		if (dict) {
			if (!is_digit(ps->buf[ps->pos]))
				return fail(ps, -EINVAL, ps->pos, "dictionary key is not a string");
			r = parse_value(ps, depth, &key);
			if (r < 0)
				return r;
			for (k = n->c.first; k != NULL; k = k->next->next) {
				if (key_eq(k, key))
					return fail(ps, -EINVAL, key_at, "duplicate dictionary key");
			}
			if (ps->pos < ps->len && ps->buf[ps->pos] == 'e')
				return fail(ps, -EINVAL, ps->pos, "dictionary key without a value");
		}
		r = parse_value(ps, depth, &val);
		if (r < 0)
			return r;
		if (key != NULL)
			link_child(n, key);
		link_child(n, val);
		n->count++;
	}
}

/* One value at ps->pos; @depth is the nesting of the container holding it. */
static int
parse_value(struct parser *ps, unsigned int depth, struct mr_bc_node **ret)
{
	struct mr_bc_node *n;
	uint8_t type;
	char c;
	int r;

	if (ps->pos >= ps->len)
		return fail(ps, -EINVAL, ps->len, "unexpected end of input");
	c = ps->buf[ps->pos];
	if (c == 'i')
		type = MR_BC_INT;
	else if (c == 'l')
		type = MR_BC_LIST;
	else if (c == 'd')
		type = MR_BC_DICT;
	else if (is_digit(c))
		type = MR_BC_STR;
	else
		return fail(ps, -EINVAL, ps->pos, "expected 'i', 'l', 'd' or a string length");

	n = node_new(ps->a, type);
	if (n == NULL)
		return fail(ps, -E2BIG, ps->pos, "more values than the node limit");
	switch (type) {
	case MR_BC_INT:
		r = parse_int(ps, n);
		break;
	case MR_BC_STR:
		r = parse_str(ps, n);
		break;
	default:
		r = parse_container(ps, depth + 1, n);
		break;
	}
	if (r < 0)
		return r;
	*ret = n;
	return 0;
}

int
mr_bc_parse(const char *buf, size_t len, struct mr_bc_arena *a,
	    const struct mr_bc_node **ret_root, struct mr_bc_err *ret_err)
{
	struct parser ps = { .buf = buf, .len = len, .a = a };
	size_t used = a->used;
	struct mr_bc_node *root;
	int r;

	if (buf == NULL && len != 0)
		return -EINVAL;
	r = parse_value(&ps, 0, &root);
	if (r == 0 && ps.pos != len)
		r = fail(&ps, -EINVAL, ps.pos, "trailing data after the value");
	if (r < 0) {
		a->used = used;
		if (ret_err != NULL)
			*ret_err = ps.err;
		return r;
	}
	*ret_root = root;
	return 0;
}

/* ---- lookups ---------------------------------------------------------- */

bool
mr_bc_str_eq(const struct mr_bc_node *n, const char *s)
{
	size_t len = strlen(s);

	return n != NULL && n->type == MR_BC_STR && n->s.len == len && memcmp(n->s.p, s, len) == 0;
}

const struct mr_bc_node *
mr_bc_dict_getn(const struct mr_bc_node *dict, const char *key, size_t key_len)
{
	const struct mr_bc_node *k, *v;

	mr_bc_dict_foreach(k, v, dict) {
		if (k->type == MR_BC_STR && k->s.len == key_len && memcmp(k->s.p, key, key_len) == 0)
			return v;
	}
	return NULL;
}

const struct mr_bc_node *
mr_bc_dict_get(const struct mr_bc_node *dict, const char *key)
{
	return mr_bc_dict_getn(dict, key, strlen(key));
}

static int
get_typed(const struct mr_bc_node *dict, const char *key, uint8_t type,
	  const struct mr_bc_node **ret)
{
	const struct mr_bc_node *v = mr_bc_dict_get(dict, key);

	if (v == NULL)
		return -ENOENT;
	if (v->type != type)
		return -EINVAL;
	*ret = v;
	return 0;
}

int
mr_bc_dict_get_str(const struct mr_bc_node *dict, const char *key,
		   const char **ret_p, size_t *ret_len)
{
	const struct mr_bc_node *v;
	int r = get_typed(dict, key, MR_BC_STR, &v);

	if (r < 0)
		return r;
	*ret_p = v->s.p;
	*ret_len = v->s.len;
	return 0;
}

int
mr_bc_dict_get_int(const struct mr_bc_node *dict, const char *key, int64_t *ret)
{
	const struct mr_bc_node *v;
	int r = get_typed(dict, key, MR_BC_INT, &v);

	if (r < 0)
		return r;
	*ret = v->i;
	return 0;
}

int
mr_bc_dict_get_list(const struct mr_bc_node *dict, const char *key,
		    const struct mr_bc_node **ret_list)
{
	return get_typed(dict, key, MR_BC_LIST, ret_list);
}

int
mr_bc_dict_get_dict(const struct mr_bc_node *dict, const char *key,
		    const struct mr_bc_node **ret_dict)
{
	return get_typed(dict, key, MR_BC_DICT, ret_dict);
}

int
mr_bc_str_copy(const struct mr_bc_node *n, char *buf, size_t cap)
{
	if (n == NULL || n->type != MR_BC_STR || memchr(n->s.p, '\0', n->s.len) != NULL)
		return -EINVAL;
	if (n->s.len >= cap)
		return -ENOSPC;
	memcpy(buf, n->s.p, n->s.len);
	buf[n->s.len] = '\0';
	return 0;
}

/* ---- builder ---------------------------------------------------------- */

struct mr_bc_node *
mr_bc_new_int(struct mr_bc_arena *a, int64_t v)
{
	struct mr_bc_node *n = node_new(a, MR_BC_INT);

	if (n != NULL)
		n->i = v;
	return n;
}

struct mr_bc_node *
mr_bc_new_str(struct mr_bc_arena *a, const char *p, size_t len)
{
	struct mr_bc_node *n;

	if (p == NULL && len != 0)
		return NULL;
	n = node_new(a, MR_BC_STR);
	if (n != NULL) {
		n->s.p = p != NULL ? p : "";
		n->s.len = len;
	}
	return n;
}

struct mr_bc_node *
mr_bc_new_cstr(struct mr_bc_arena *a, const char *s)
{
	return s != NULL ? mr_bc_new_str(a, s, strlen(s)) : NULL;
}

struct mr_bc_node *
mr_bc_new_list(struct mr_bc_arena *a)
{
	return node_new(a, MR_BC_LIST);
}

struct mr_bc_node *
mr_bc_new_dict(struct mr_bc_arena *a)
{
	return node_new(a, MR_BC_DICT);
}

int
mr_bc_list_add(struct mr_bc_node *list, struct mr_bc_node *item)
{
	if (list == NULL || item == NULL)
		return -ENOSPC;
	if (list->type != MR_BC_LIST)
		return -EINVAL;
	link_child(list, item);
	list->count++;
	return 0;
}

int
mr_bc_dict_add(struct mr_bc_node *dict, struct mr_bc_node *key, struct mr_bc_node *val)
{
	if (dict == NULL || key == NULL || val == NULL)
		return -ENOSPC;
	if (dict->type != MR_BC_DICT || key->type != MR_BC_STR)
		return -EINVAL;
	link_child(dict, key);
	link_child(dict, val);
	dict->count++;
	return 0;
}

int
mr_bc_dict_add_str(struct mr_bc_arena *a, struct mr_bc_node *dict,
		   const char *key, const char *val, size_t val_len)
{
	return mr_bc_dict_add(dict, mr_bc_new_cstr(a, key), mr_bc_new_str(a, val, val_len));
}

int
mr_bc_dict_add_cstr(struct mr_bc_arena *a, struct mr_bc_node *dict,
		    const char *key, const char *val)
{
	return mr_bc_dict_add(dict, mr_bc_new_cstr(a, key), mr_bc_new_cstr(a, val));
}

int
mr_bc_dict_add_int(struct mr_bc_arena *a, struct mr_bc_node *dict,
		   const char *key, int64_t val)
{
	return mr_bc_dict_add(dict, mr_bc_new_cstr(a, key), mr_bc_new_int(a, val));
}

/* ---- printer ---------------------------------------------------------- */

struct printer {
	char *buf;
	size_t cap;
	size_t len;
};

static int
put(struct printer *pr, const void *p, size_t n)
{
	if (n > pr->cap - pr->len)
		return -ENOSPC;
	if (n != 0)
		memcpy(pr->buf + pr->len, p, n);
	pr->len += n;
	return 0;
}

static int
put_fmt_u(struct printer *pr, const char *prefix, size_t v, char suffix)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "%s%zu%c", prefix, v, suffix);

	return put(pr, tmp, (size_t)n);
}

/* Byte order as BEP 3 sorts keys: memcmp, then the shorter first. */
static int
key_cmp(const struct mr_bc_node *a, const struct mr_bc_node *b)
{
	size_t n = a->s.len < b->s.len ? a->s.len : b->s.len;
	int c = n != 0 ? memcmp(a->s.p, b->s.p, n) : 0;

	if (c != 0)
		return c;
	return a->s.len < b->s.len ? -1 : a->s.len > b->s.len;
}

static int print_value(struct printer *pr, const struct mr_bc_node *n, unsigned int depth);

/*
 * Keys in sorted order without sorting in place (the tree is const) or extra
 * memory: each round picks the smallest key greater than the last one
 * printed. Quadratic in the keys of one dictionary; replies have a few dozen.
 */
static int
print_dict(struct printer *pr, const struct mr_bc_node *dict, unsigned int depth)
{
	const struct mr_bc_node *last = NULL, *k, *v, *best;
	uint32_t i;
	int r;

	for (k = dict->c.first; k != NULL; k = v->next) {
		v = k->next;
		if (k->type != MR_BC_STR || v == NULL)
			return -EINVAL;
	}
	for (i = 0; i < dict->count; i++) {
		best = NULL;
		for (k = dict->c.first; k != NULL; k = k->next->next) {
			if (last != NULL && key_cmp(k, last) <= 0)
				continue;
			if (best == NULL || key_cmp(k, best) < 0) {
				best = k;
			} else if (key_cmp(k, best) == 0) {
				return -EINVAL;         /* duplicate key */
			}
		}
		if (best == NULL)
			return -EINVAL;         /* count says more pairs than linked */
		r = put_fmt_u(pr, "", best->s.len, ':');
		if (r == 0)
			r = put(pr, best->s.p, best->s.len);
		if (r == 0)
			r = print_value(pr, best->next, depth);
		if (r < 0)
			return r;
		last = best;
	}
	return 0;
}

static int
print_value(struct printer *pr, const struct mr_bc_node *n, unsigned int depth)
{
	const struct mr_bc_node *it;
	char tmp[32];
	int r;

	if (n == NULL)
		return -EINVAL;
	switch (n->type) {
	case MR_BC_INT:
		r = snprintf(tmp, sizeof(tmp), "i%" PRId64 "e", n->i);
		return put(pr, tmp, (size_t)r);
	case MR_BC_STR:
		r = put_fmt_u(pr, "", n->s.len, ':');
		return r < 0 ? r : put(pr, n->s.p, n->s.len);
	case MR_BC_LIST:
	case MR_BC_DICT:
		if (depth + 1 > MR_BC_MAX_DEPTH)
			return -EINVAL;
		r = put(pr, n->type == MR_BC_LIST ? "l" : "d", 1);
		if (r < 0)
			return r;
		if (n->type == MR_BC_DICT) {
			r = print_dict(pr, n, depth + 1);
		} else {
			for (it = n->c.first; it != NULL && r == 0; it = it->next)
				r = print_value(pr, it, depth + 1);
		}
		return r < 0 ? r : put(pr, "e", 1);
	default:
		return -EINVAL;
	}
}

int
mr_bc_print(const struct mr_bc_node *root, char *buf, size_t cap, size_t *ret_len)
{
	struct printer pr = { .buf = buf, .cap = buf != NULL ? cap : 0 };
	int r = print_value(&pr, root, 0);

	if (r < 0)
		return r;
	*ret_len = pr.len;
	return 0;
}
