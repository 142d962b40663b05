/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The NG protocol's building blocks (controlplane/ng/): the bencode parser
 * (every rule of bencode.h, one table row per malformed input with the
 * offset and reason it must report), lookups and the tree builder, the
 * printer (sorted keys, exact bytes, -ENOSPC at every short length, trees
 * it must refuse), the limits (depth, node count), the NG framing (cookie
 * rules, request parsing, the exact bytes of replies), and the
 * retransmission cache (hit, miss, expiry, eviction, replacement).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bencode.h"
#include "cache.h"
#include "frame.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NODES 256

/* A parsed document and the storage it lives in. */
struct doc {
	struct mr_bc_node nodes[NODES];
	struct mr_bc_arena a;
	const struct mr_bc_node *root;
	struct mr_bc_err err;
};

static int
parse(struct doc *d, const char *s, size_t len)
{
	mr_bc_arena_init(&d->a, d->nodes, NODES);
	d->root = NULL;
	d->err = (struct mr_bc_err){ 0, NULL };
	return mr_bc_parse(s, len, &d->a, &d->root, &d->err);
}

static int
parse_str(struct doc *d, const char *s)
{
	return parse(d, s, strlen(s));
}

/* Print @n and compare with @want exactly. */
static void
assert_prints(const struct mr_bc_node *n, const char *want, size_t want_len)
{
	char buf[1024];
	size_t len = 0;

	assert_int_equal(mr_bc_print(n, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, want_len);
	assert_memory_equal(buf, want, want_len);
}

/* ---- valid input ------------------------------------------------------ */

static void
test_integers(void **state)
{
	static const struct {
		const char *in;
		int64_t v;
	} cases[] = {
		{ "i0e", 0 }, { "i42e", 42 }, { "i-42e", -42 }, { "i1e", 1 }, { "i-1e", -1 },
		{ "i9223372036854775807e", INT64_MAX },
		{ "i-9223372036854775808e", INT64_MIN },
		{ "i1000000000000e", 1000000000000ll },
	};
	struct doc d;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		assert_int_equal(parse_str(&d, cases[i].in), 0);
		assert_int_equal(d.root->type, MR_BC_INT);
		assert_true(d.root->i == cases[i].v);
		assert_int_equal(d.a.used, 1);
		assert_prints(d.root, cases[i].in, strlen(cases[i].in));
	}
}

static void
test_strings(void **state)
{
	static const char bin[] = "5:a\0b\xff\n";
	struct doc d;

	(void)state;
	assert_int_equal(parse_str(&d, "0:"), 0);
	assert_int_equal(d.root->type, MR_BC_STR);
	assert_int_equal(d.root->s.len, 0);

	assert_int_equal(parse_str(&d, "4:spam"), 0);
	assert_int_equal(d.root->s.len, 4);
	assert_memory_equal(d.root->s.p, "spam", 4);
	assert_true(mr_bc_str_eq(d.root, "spam"));
	assert_false(mr_bc_str_eq(d.root, "spa"));
	assert_false(mr_bc_str_eq(d.root, "spams"));

	/* binary-safe: NUL and high bytes are data; zero copy into the input */
	assert_int_equal(parse(&d, bin, sizeof(bin) - 1), 0);
	assert_int_equal(d.root->s.len, 5);
	assert_ptr_equal(d.root->s.p, bin + 2);
	assert_memory_equal(d.root->s.p, "a\0b\xff\n", 5);
	assert_prints(d.root, bin, sizeof(bin) - 1);

	/* a string may hold bencode-looking bytes */
	assert_int_equal(parse_str(&d, "6:i1ee:x"), 0);
	assert_int_equal(d.root->s.len, 6);
}

static void
test_containers(void **state)
{
	const struct mr_bc_node *it, *k, *v, *l;
	struct doc d;
	int n;

	(void)state;
	assert_int_equal(parse_str(&d, "le"), 0);
	assert_int_equal(d.root->type, MR_BC_LIST);
	assert_int_equal(d.root->count, 0);
	assert_null(mr_bc_first(d.root));

	assert_int_equal(parse_str(&d, "de"), 0);
	assert_int_equal(d.root->type, MR_BC_DICT);
	assert_int_equal(d.root->count, 0);

	assert_int_equal(parse_str(&d, "l4:spami42eli1ei2eedee"), 0);
	assert_int_equal(d.root->count, 4);
	n = 0;
	mr_bc_list_foreach(it, d.root)
		n++;
	assert_int_equal(n, 4);
	it = mr_bc_first(d.root);
	assert_true(mr_bc_str_eq(it, "spam"));
	assert_true(it->next->i == 42);
	assert_int_equal(it->next->next->type, MR_BC_LIST);
	assert_int_equal(it->next->next->count, 2);
	assert_int_equal(it->next->next->next->type, MR_BC_DICT);
	assert_null(it->next->next->next->next);

	/* keys in arrival order when iterating, whatever their order */
	assert_int_equal(parse_str(&d, "d3:zzzi1e1:ai2e2:mml1:xee"), 0);
	assert_int_equal(d.root->count, 3);
	n = 0;
	mr_bc_dict_foreach(k, v, d.root) {
		static const char *const want[] = { "zzz", "a", "mm" };

		assert_true(mr_bc_str_eq(k, want[n]));
		n++;
	}
	assert_int_equal(n, 3);
	assert_int_equal(mr_bc_dict_get_list(d.root, "mm", &l), 0);
	assert_int_equal(l->count, 1);
	/* printed sorted */
	assert_prints(d.root, "d1:ai2e2:mml1:xe3:zzzi1ee", 25);

	/* foreach over a non-container iterates nothing */
	assert_int_equal(parse_str(&d, "i1e"), 0);
	n = 0;
	mr_bc_list_foreach(it, d.root)
		n++;
	mr_bc_dict_foreach(k, v, d.root)
		n++;
	assert_int_equal(n, 0);
}

/* Canonical input (sorted keys) prints back byte for byte. */
static void
test_round_trip(void **state)
{
	static const char *const cases[] = {
		"i0e", "0:", "le", "de", "llleee", "d0:0:e",
		"d1:ad1:bd1:cleeee",
		"d7:call-id8:abc@host5:flagsl5:trust10:SIP-sourcee8:from-tag3:ft13:sdp4:v=0\ne",
		"li-1ei0ei1e3:abcl0:ed1:k0:ee",
	};
	struct doc d;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		assert_int_equal(parse_str(&d, cases[i]), 0);
		assert_prints(d.root, cases[i], strlen(cases[i]));
	}
}

/* ---- malformed input -------------------------------------------------- */

static void
test_malformed(void **state)
{
	static const struct {
		const char *in;
		int r;
		size_t offset;
		const char *what;
	} cases[] = {
		{ "", -EINVAL, 0, "unexpected end of input" },
		{ "x", -EINVAL, 0, "expected 'i', 'l', 'd' or a string length" },
		{ "-1", -EINVAL, 0, "expected 'i', 'l', 'd' or a string length" },
		{ "e", -EINVAL, 0, "expected 'i', 'l', 'd' or a string length" },
		{ "i", -EINVAL, 1, "unexpected end of input in an integer" },
		{ "i-", -EINVAL, 2, "unexpected end of input in an integer" },
		{ "ie", -EINVAL, 1, "integer without digits" },
		{ "i-e", -EINVAL, 2, "integer without digits" },
		{ "i+1e", -EINVAL, 1, "integer without digits" },
		{ "i 1e", -EINVAL, 1, "integer without digits" },
		{ "i00e", -EINVAL, 1, "integer with a leading zero" },
		{ "i03e", -EINVAL, 1, "integer with a leading zero" },
		{ "i-03e", -EINVAL, 2, "integer with a leading zero" },
		{ "i-0e", -EINVAL, 0, "negative zero integer" },
		{ "i0x", -EINVAL, 1, "integer not ended by 'e'" },
		{ "i12", -EINVAL, 3, "unexpected end of input in an integer" },
		{ "i12x", -EINVAL, 3, "integer not ended by 'e'" },
		{ "i1.5e", -EINVAL, 2, "integer not ended by 'e'" },
		{ "i9223372036854775808e", -EINVAL, 0, "integer out of 64-bit range" },
		{ "i-9223372036854775809e", -EINVAL, 0, "integer out of 64-bit range" },
		{ "i99999999999999999999999e", -EINVAL, 0, "integer out of 64-bit range" },
		{ "0", -EINVAL, 1, "unexpected end of input in a string length" },
		{ "4", -EINVAL, 0, "string longer than the input" },
		{ "4spam", -EINVAL, 1, "string length not followed by ':'" },
		{ "4:spa", -EINVAL, 0, "string longer than the input" },
		{ "04:spam", -EINVAL, 0, "string length with a leading zero" },
		{ "00:", -EINVAL, 0, "string length with a leading zero" },
		{ "99999999999999999999999:x", -EINVAL, 0, "string longer than the input" },
		{ "18446744073709551616:x", -EINVAL, 0, "string longer than the input" },
		{ "l", -EINVAL, 1, "unexpected end of input in a list" },
		{ "li1e", -EINVAL, 4, "unexpected end of input in a list" },
		{ "lx", -EINVAL, 1, "expected 'i', 'l', 'd' or a string length" },
		{ "d", -EINVAL, 1, "unexpected end of input in a dictionary" },
		{ "di1ei2ee", -EINVAL, 1, "dictionary key is not a string" },
		{ "dlei1ee", -EINVAL, 1, "dictionary key is not a string" },
		{ "d1:ae", -EINVAL, 4, "dictionary key without a value" },
		{ "d1:a", -EINVAL, 4, "unexpected end of input" },
		{ "d1:ai1e1:ai2ee", -EINVAL, 7, "duplicate dictionary key" },
		{ "d1:ad1:bi1e1:bi2eee", -EINVAL, 11, "duplicate dictionary key" },
		{ "i1ei2e", -EINVAL, 3, "trailing data after the value" },
		{ "le ", -EINVAL, 2, "trailing data after the value" },
		{ "de\n", -EINVAL, 2, "trailing data after the value" },
		{ "4:spam4:spam", -EINVAL, 6, "trailing data after the value" },
	};
	struct doc d;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		int r = parse_str(&d, cases[i].in);

		if (r != cases[i].r || d.err.offset != cases[i].offset ||
		    d.err.what == NULL || strcmp(d.err.what, cases[i].what) != 0)
			fail_msg("\"%s\": got %d at %zu \"%s\", want %d at %zu \"%s\"", cases[i].in, r,
				 d.err.offset, d.err.what ? d.err.what : "(null)", cases[i].r,
				 cases[i].offset, cases[i].what);
		assert_null(d.root);
		assert_int_equal(d.a.used, 0);  /* rolled back */
	}
}

/* Every proper prefix of a valid document is an error, never a crash. */
static void
test_truncations(void **state)
{
	static const char msg[] =
		"d7:command5:offer7:call-id6:abc@de8:from-tag2:ft5:flagsl5:truste"
		"8:rtcp-muxl5:demuxe3:sdp8:v=0\r\no=-e";
	struct doc d;
	size_t len;

	(void)state;
	assert_int_equal(parse(&d, msg, sizeof(msg) - 1), 0);
	for (len = 0; len < sizeof(msg) - 1; len++)
		assert_int_equal(parse(&d, msg, len), -EINVAL);
}

/* ---- limits ----------------------------------------------------------- */

static void
test_depth_limit(void **state)
{
	char buf[2 * (MR_BC_MAX_DEPTH + 2) + 8];
	struct doc d;
	size_t depth, i, n;

	(void)state;
	for (depth = MR_BC_MAX_DEPTH; depth <= MR_BC_MAX_DEPTH + 1; depth++) {
		n = 0;
		for (i = 0; i < depth; i++)
			buf[n++] = 'l';
		for (i = 0; i < depth; i++)
			buf[n++] = 'e';
		if (depth <= MR_BC_MAX_DEPTH) {
			assert_int_equal(parse(&d, buf, n), 0);
			assert_prints(d.root, buf, n);
		} else {
			assert_int_equal(parse(&d, buf, n), -E2BIG);
			assert_int_equal(d.err.offset, MR_BC_MAX_DEPTH);
			assert_string_equal(d.err.what, "nested deeper than the limit");
		}
	}
	/* dictionaries count too, and a scalar at the deepest level is fine */
	for (depth = MR_BC_MAX_DEPTH; depth <= MR_BC_MAX_DEPTH + 1; depth++) {
		char deep[5 * (MR_BC_MAX_DEPTH + 1) + 8];

		n = 0;
		for (i = 0; i < depth; i++) {
			memcpy(deep + n, "d1:k", 4);
			n += 4;
		}
		memcpy(deep + n, "i7e", 3);
		n += 3;
		for (i = 0; i < depth; i++)
			deep[n++] = 'e';
		if (depth <= MR_BC_MAX_DEPTH) {
			assert_int_equal(parse(&d, deep, n), 0);
			assert_prints(d.root, deep, n);
		} else {
			assert_int_equal(parse(&d, deep, n), -E2BIG);
			assert_int_equal(d.err.offset, 4 * MR_BC_MAX_DEPTH);
		}
	}
}

static void
test_node_limit(void **state)
{
	struct mr_bc_node nodes[4];
	const struct mr_bc_node *root = NULL;
	struct mr_bc_arena a;
	struct mr_bc_err err;

	(void)state;
	mr_bc_arena_init(&a, nodes, 3);
	assert_int_equal(mr_bc_parse("li1ei2ee", 8, &a, &root, &err), 0);
	assert_int_equal(a.used, 3);

	mr_bc_arena_init(&a, nodes, 3);
	root = NULL;
	assert_int_equal(mr_bc_parse("li1ei2ei3ee", 11, &a, &root, &err), -E2BIG);
	assert_null(root);
	assert_int_equal(a.used, 0);
	assert_int_equal(err.offset, 7);
	assert_string_equal(err.what, "more values than the node limit");

	/* the arena is shared: a second document continues after the first */
	mr_bc_arena_init(&a, nodes, 4);
	assert_int_equal(mr_bc_parse("li1ee", 5, &a, &root, &err), 0);
	assert_int_equal(a.used, 2);
	assert_int_equal(mr_bc_parse("li1ei2ee", 8, &a, &root, &err), -E2BIG);
	assert_int_equal(a.used, 2);    /* the failed parse took nothing */
	assert_int_equal(mr_bc_parse("l0:e", 4, &a, &root, &err), 0);
	assert_int_equal(a.used, 4);

	/* no arena at all */
	mr_bc_arena_init(&a, NULL, 10);
	assert_int_equal(mr_bc_parse("i1e", 3, &a, &root, &err), -E2BIG);
}

/* ---- lookups ---------------------------------------------------------- */

static void
test_lookups(void **state)
{
	static const char full[] = "d3:inti-7e4:listl1:ae1:s5:hello4:dictde2:nu3:a\0be";
	const struct mr_bc_node *n;
	struct doc d;
	const char *p;
	size_t len;
	int64_t i;
	char buf[8];

	(void)state;
	assert_int_equal(parse(&d, full, sizeof(full) - 1), 0);
	assert_int_equal(mr_bc_dict_get_int(d.root, "int", &i), 0);
	assert_true(i == -7);
	assert_int_equal(mr_bc_dict_get_str(d.root, "s", &p, &len), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(p, "hello", 5);
	assert_int_equal(mr_bc_dict_get_list(d.root, "list", &n), 0);
	assert_int_equal(n->count, 1);
	assert_int_equal(mr_bc_dict_get_dict(d.root, "dict", &n), 0);
	assert_int_equal(n->count, 0);

	assert_int_equal(mr_bc_dict_get_int(d.root, "s", &i), -EINVAL);
	assert_int_equal(mr_bc_dict_get_str(d.root, "int", &p, &len), -EINVAL);
	assert_int_equal(mr_bc_dict_get_list(d.root, "dict", &n), -EINVAL);
	assert_int_equal(mr_bc_dict_get_dict(d.root, "list", &n), -EINVAL);
	assert_int_equal(mr_bc_dict_get_int(d.root, "nope", &i), -ENOENT);
	assert_int_equal(mr_bc_dict_get_str(d.root, "", &p, &len), -ENOENT);
	assert_null(mr_bc_dict_get(d.root, "in"));      /* no prefix match */
	assert_null(mr_bc_dict_get(d.root, "intx"));
	assert_non_null(mr_bc_dict_getn(d.root, "intx", 3));
	assert_null(mr_bc_dict_get(NULL, "int"));
	assert_null(mr_bc_dict_get(mr_bc_dict_get(d.root, "s"), "x"));   /* not a dict */

	/* C-string copies: fits, too long, holds a NUL, not a string */
	assert_int_equal(mr_bc_str_copy(mr_bc_dict_get(d.root, "s"), buf, sizeof(buf)), 0);
	assert_string_equal(buf, "hello");
	assert_int_equal(mr_bc_str_copy(mr_bc_dict_get(d.root, "s"), buf, 5), -ENOSPC);
	assert_int_equal(mr_bc_str_copy(mr_bc_dict_get(d.root, "s"), buf, 6), 0);
	assert_int_equal(mr_bc_str_copy(mr_bc_dict_get(d.root, "nu"), buf, sizeof(buf)), -EINVAL);
	assert_int_equal(mr_bc_str_copy(mr_bc_dict_get(d.root, "int"), buf, sizeof(buf)), -EINVAL);
	assert_int_equal(mr_bc_str_copy(NULL, buf, sizeof(buf)), -EINVAL);
}

/* A Kamailio-style offer: keys unsorted, lists of flags, the SDP as one string. */
static void
test_ng_offer_lookup(void **state)
{
	static const char sdp[] =
		"v=0\r\no=- 1545997027 1 IN IP4 198.18.0.10\r\ns=-\r\nc=IN IP4 198.18.0.10\r\n"
		"t=0 0\r\nm=audio 30000 RTP/AVP 0 8\r\n";
	char msg[1024];
	const struct mr_bc_node *flags, *it, *rf;
	struct doc d;
	const char *p;
	size_t len;
	int n;

	(void)state;
	n = snprintf(msg, sizeof(msg),
		     "d3:sdp%zu:%s5:flagsl13:trust-address13:strict-sourcee"
		     "7:replacel6:origin18:session-connectione"
		     "18:transport-protocol8:RTP/SAVP3:ICE6:remove8:rtcp-muxl5:demuxe"
		     "9:directionl8:external8:internale4:SDESl20:no-NULL_HMAC_SHA1_32e"
		     "7:call-id24:a84b4c76e66710@pc33.test13:received-froml3:IP411:198.18.0.10e"
		     "8:from-tag10:1928301774"
		     "7:command5:offere",
		     sizeof(sdp) - 1, sdp);
	assert_true(n > 0 && (size_t)n < sizeof(msg));
	assert_int_equal(parse(&d, msg, (size_t)n), 0);
	assert_int_equal(d.root->type, MR_BC_DICT);
	assert_true(mr_bc_str_eq(mr_bc_dict_get(d.root, "command"), "offer"));
	assert_int_equal(mr_bc_dict_get_str(d.root, "sdp", &p, &len), 0);
	assert_int_equal(len, sizeof(sdp) - 1);
	assert_memory_equal(p, sdp, len);
	assert_true(mr_bc_str_eq(mr_bc_dict_get(d.root, "call-id"), "a84b4c76e66710@pc33.test"));
	assert_true(mr_bc_str_eq(mr_bc_dict_get(d.root, "from-tag"), "1928301774"));
	assert_int_equal(mr_bc_dict_get_list(d.root, "flags", &flags), 0);
	it = mr_bc_first(flags);
	assert_true(mr_bc_str_eq(it, "trust-address"));
	assert_true(mr_bc_str_eq(it->next, "strict-source"));
	assert_int_equal(mr_bc_dict_get_list(d.root, "received-from", &rf), 0);
	assert_int_equal(rf->count, 2);
	assert_true(mr_bc_str_eq(mr_bc_first(rf), "IP4"));
	assert_true(mr_bc_str_eq(mr_bc_first(rf)->next, "198.18.0.10"));
	assert_true(mr_bc_str_eq(mr_bc_dict_get(d.root, "ICE"), "remove"));
	assert_int_equal(mr_bc_dict_get_str(d.root, "to-tag", &p, &len), -ENOENT);
}

/* ---- builder and printer ---------------------------------------------- */

static void
test_build_and_print(void **state)
{
	struct mr_bc_node nodes[16];
	struct mr_bc_arena a;
	struct mr_bc_node *d, *l;
	char buf[128];
	size_t len, cut;

	(void)state;
	mr_bc_arena_init(&a, nodes, ARRAY_SIZE(nodes));
	d = mr_bc_new_dict(&a);
	assert_int_equal(mr_bc_dict_add_cstr(&a, d, "result", "ok"), 0);
	assert_int_equal(mr_bc_dict_add_str(&a, d, "sdp", "v=0\r\n", 5), 0);
	l = mr_bc_new_list(&a);
	assert_int_equal(mr_bc_list_add(l, mr_bc_new_int(&a, -3)), 0);
	assert_int_equal(mr_bc_list_add(l, mr_bc_new_cstr(&a, "")), 0);
	assert_int_equal(mr_bc_dict_add(d, mr_bc_new_cstr(&a, "created"), l), 0);
	assert_int_equal(mr_bc_dict_add_int(&a, d, "last signal", 1700000000), 0);
	assert_int_equal(d->count, 4);
	assert_prints(d, "d7:createdli-3e0:e11:last signali1700000000e6:result2:ok3:sdp5:v=0\r\ne",
		      strlen("d7:createdli-3e0:e11:last signali1700000000e6:result2:ok3:sdp5:v=0\r\ne"));

	/* -ENOSPC at every length short of the whole */
	assert_int_equal(mr_bc_print(d, buf, sizeof(buf), &len), 0);
	for (cut = 0; cut < len; cut++) {
		size_t got = 12345;

		assert_int_equal(mr_bc_print(d, buf, cut, &got), -ENOSPC);
		assert_int_equal(got, 12345);   /* untouched on error */
	}
	assert_int_equal(mr_bc_print(d, NULL, 100, &len), -ENOSPC);

	/* full arena: constructors return NULL, adds say -ENOSPC */
	mr_bc_arena_init(&a, nodes, 2);
	d = mr_bc_new_dict(&a);
	assert_non_null(d);
	assert_int_equal(mr_bc_dict_add_cstr(&a, d, "result", "ok"), -ENOSPC);
	assert_null(mr_bc_new_int(&a, 1));
	assert_int_equal(mr_bc_list_add(NULL, NULL), -ENOSPC);

	/* wrong container types and non-string keys */
	mr_bc_arena_init(&a, nodes, ARRAY_SIZE(nodes));
	d = mr_bc_new_dict(&a);
	l = mr_bc_new_list(&a);
	assert_int_equal(mr_bc_list_add(d, mr_bc_new_int(&a, 1)), -EINVAL);
	assert_int_equal(mr_bc_dict_add(l, mr_bc_new_cstr(&a, "k"), mr_bc_new_int(&a, 1)), -EINVAL);
	assert_int_equal(mr_bc_dict_add(d, mr_bc_new_int(&a, 1), mr_bc_new_int(&a, 1)), -EINVAL);
	assert_null(mr_bc_new_str(&a, NULL, 3));
	assert_null(mr_bc_new_cstr(&a, NULL));
}

static void
test_print_refuses(void **state)
{
	struct mr_bc_node nodes[2 * MR_BC_MAX_DEPTH + 8];
	struct mr_bc_arena a;
	struct mr_bc_node *d, *l, *inner;
	char buf[256];
	size_t len, i;

	(void)state;
	/* duplicate key */
	mr_bc_arena_init(&a, nodes, ARRAY_SIZE(nodes));
	d = mr_bc_new_dict(&a);
	assert_int_equal(mr_bc_dict_add_int(&a, d, "b", 1), 0);
	assert_int_equal(mr_bc_dict_add_int(&a, d, "a", 1), 0);
	assert_int_equal(mr_bc_dict_add_int(&a, d, "b", 2), 0);
	assert_int_equal(mr_bc_print(d, buf, sizeof(buf), &len), -EINVAL);

	/* a key that is not a string (only possible by hand) */
	mr_bc_arena_init(&a, nodes, ARRAY_SIZE(nodes));
	d = mr_bc_new_dict(&a);
	assert_int_equal(mr_bc_dict_add_int(&a, d, "a", 1), 0);
	d->c.first->type = MR_BC_INT;
	assert_int_equal(mr_bc_print(d, buf, sizeof(buf), &len), -EINVAL);

	/* unknown type, NULL root */
	nodes[0].type = 0;
	assert_int_equal(mr_bc_print(&nodes[0], buf, sizeof(buf), &len), -EINVAL);
	assert_int_equal(mr_bc_print(NULL, buf, sizeof(buf), &len), -EINVAL);

	/* nesting past the limit cannot be printed (nor parsed back) */
	mr_bc_arena_init(&a, nodes, ARRAY_SIZE(nodes));
	l = mr_bc_new_list(&a);
	inner = l;
	for (i = 1; i < MR_BC_MAX_DEPTH; i++) {
		struct mr_bc_node *n = mr_bc_new_list(&a);

		assert_int_equal(mr_bc_list_add(inner, n), 0);
		inner = n;
	}
	assert_int_equal(mr_bc_print(l, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 2 * MR_BC_MAX_DEPTH);
	assert_int_equal(mr_bc_list_add(inner, mr_bc_new_list(&a)), 0);
	assert_int_equal(mr_bc_print(l, buf, sizeof(buf), &len), -EINVAL);
}

/* Keys sort by raw bytes: shorter first on a common prefix, high bytes last. */
static void
test_print_key_order(void **state)
{
	static const char in[] = "d1:b0:2:ab0:1:a0:0:0:3:\xff\x01\x02" "0:1:B0:e";
	static const char want[] = "d0:0:1:B0:1:a0:2:ab0:1:b0:3:\xff\x01\x02" "0:e";
	struct doc d;

	(void)state;
	assert_int_equal(parse(&d, in, sizeof(in) - 1), 0);
	assert_prints(d.root, want, sizeof(want) - 1);
}

/* ---- NG framing ------------------------------------------------------- */

static void
test_ng_split(void **state)
{
	static const struct {
		const char *in;
		const char *why;
	} bad[] = {
		{ "", "empty message" },
		{ "d7:command4:pinge", "no space after the cookie" },
		{ " d7:command4:pinge", "empty cookie" },
		{ "abc ", "no dictionary after the cookie" },
		{ "ab\x01 de", "cookie holds a byte that is not printable ASCII" },
		{ "ab\x7f de", "cookie holds a byte that is not printable ASCII" },
		{ "ab\xc3\xa9 de", "cookie holds a byte that is not printable ASCII" },
		{ "ab\tc de", "cookie holds a byte that is not printable ASCII" },
		{ "0123456789012345678901234567890123456789012345678901234567890123456789 de",
		  "cookie too long or missing" },
	};
	struct mr_ng_msg m;
	const char *why;
	char longest[MR_NG_COOKIE_MAX + 8];
	size_t i;

	(void)state;
	assert_int_equal(mr_ng_split("5323_1 d7:command4:pinge", 24, &m, &why), 0);
	assert_int_equal(m.cookie_len, 6);
	assert_memory_equal(m.cookie, "5323_1", 6);
	assert_int_equal(m.body_len, 17);
	assert_memory_equal(m.body, "d7:command4:pinge", 17);

	/* only the first space separates: the body may contain more */
	assert_int_equal(mr_ng_split("c  x y", 6, &m, &why), 0);
	assert_int_equal(m.cookie_len, 1);
	assert_int_equal(m.body_len, 4);

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		why = NULL;
		assert_int_equal(mr_ng_split(bad[i].in, strlen(bad[i].in), &m, &why), -EINVAL);
		assert_non_null(why);
		if (strcmp(why, bad[i].why) != 0)
			fail_msg("\"%s\": got \"%s\", want \"%s\"", bad[i].in, why, bad[i].why);
	}
	assert_int_equal(mr_ng_split(NULL, 3, &m, NULL), -EINVAL);

	/* exactly the longest cookie, and one byte more */
	memset(longest, 'k', sizeof(longest));
	longest[MR_NG_COOKIE_MAX] = ' ';
	longest[MR_NG_COOKIE_MAX + 1] = 'd';
	longest[MR_NG_COOKIE_MAX + 2] = 'e';
	assert_int_equal(mr_ng_split(longest, MR_NG_COOKIE_MAX + 3, &m, &why), 0);
	assert_int_equal(m.cookie_len, MR_NG_COOKIE_MAX);
	memset(longest, 'k', sizeof(longest));
	longest[MR_NG_COOKIE_MAX + 1] = ' ';
	longest[MR_NG_COOKIE_MAX + 2] = 'd';
	longest[MR_NG_COOKIE_MAX + 3] = 'e';
	assert_int_equal(mr_ng_split(longest, MR_NG_COOKIE_MAX + 4, &m, &why), -EINVAL);
	assert_string_equal(why, "cookie too long or missing");

	assert_true(mr_ng_cookie_valid("!~", 2));
	assert_false(mr_ng_cookie_valid("a b", 3));
	assert_false(mr_ng_cookie_valid("", 0));
	assert_false(mr_ng_cookie_valid(NULL, 1));
}

static void
test_ng_parse_request(void **state)
{
	struct mr_bc_node nodes[16];
	const struct mr_bc_node *dict;
	struct mr_bc_arena a;
	struct mr_bc_err err;
	struct mr_ng_msg m;

	(void)state;
	mr_bc_arena_init(&a, nodes, ARRAY_SIZE(nodes));
	assert_int_equal(mr_ng_split("5323_1 d7:command4:pinge", 24, &m, NULL), 0);
	assert_int_equal(mr_ng_parse_request(&m, &a, &dict, &err), 0);
	assert_true(mr_bc_str_eq(mr_bc_dict_get(dict, "command"), "ping"));

	mr_bc_arena_init(&a, nodes, ARRAY_SIZE(nodes));
	assert_int_equal(mr_ng_split("c1 l4:pinge", 11, &m, NULL), 0);
	assert_int_equal(mr_ng_parse_request(&m, &a, &dict, &err), -EINVAL);
	assert_string_equal(err.what, "request is not a dictionary");
	assert_int_equal(a.used, 0);

	assert_int_equal(mr_ng_split("c1 {\"command\":\"ping\"}", 21, &m, NULL), 0);
	assert_int_equal(mr_ng_parse_request(&m, &a, &dict, &err), -EINVAL);
	assert_string_equal(err.what, "JSON requests are not supported: use bencode");

	assert_int_equal(mr_ng_split("c1 d7:command4:ping", 19, &m, NULL), 0);
	assert_int_equal(mr_ng_parse_request(&m, &a, &dict, &err), -EINVAL);
	assert_int_equal(err.offset, 16);
	assert_string_equal(err.what, "unexpected end of input in a dictionary");
}

static void
test_ng_replies(void **state)
{
	static const char pong[] = "5323_1 d6:result4:ponge";
	static const char err_reply[] = "abc_9 d12:error-reason12:Unknown call6:result5:errore";
	static const char ok_sdp[] = "k d6:result2:ok3:sdp5:v=0\r\n7:warning2:hie";
	struct mr_bc_node nodes[16];
	struct mr_bc_arena a;
	struct mr_bc_node *d;
	char buf[256];
	size_t len, cut;

	(void)state;
	mr_bc_arena_init(&a, nodes, ARRAY_SIZE(nodes));
	d = mr_bc_new_dict(&a);
	assert_int_equal(mr_bc_dict_add_cstr(&a, d, "result", "pong"), 0);
	assert_int_equal(mr_ng_reply_print("5323_1", 6, d, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, sizeof(pong) - 1);
	assert_memory_equal(buf, pong, len);
	for (cut = 0; cut < len; cut++)
		assert_int_equal(mr_ng_reply_print("5323_1", 6, d, buf, cut, &len), -ENOSPC);

	assert_int_equal(mr_ng_reply_error("abc_9", 5, "Unknown call", buf, sizeof(buf), &len), 0);
	assert_int_equal(len, sizeof(err_reply) - 1);
	assert_memory_equal(buf, err_reply, len);

	/* keys sorted whatever order the caller added them in */
	mr_bc_arena_init(&a, nodes, ARRAY_SIZE(nodes));
	d = mr_bc_new_dict(&a);
	assert_int_equal(mr_bc_dict_add_cstr(&a, d, "warning", "hi"), 0);
	assert_int_equal(mr_bc_dict_add_cstr(&a, d, "sdp", "v=0\r\n"), 0);
	assert_int_equal(mr_bc_dict_add_cstr(&a, d, "result", "ok"), 0);
	assert_int_equal(mr_ng_reply_print("k", 1, d, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, sizeof(ok_sdp) - 1);
	assert_memory_equal(buf, ok_sdp, len);

	/* bad cookie, not a dictionary, no reason */
	assert_int_equal(mr_ng_reply_print("a b", 3, d, buf, sizeof(buf), &len), -EINVAL);
	assert_int_equal(mr_ng_reply_print("", 0, d, buf, sizeof(buf), &len), -EINVAL);
	assert_int_equal(mr_ng_reply_print("k", 1, mr_bc_new_list(&a), buf, sizeof(buf), &len), -EINVAL);
	assert_int_equal(mr_ng_reply_print("k", 1, NULL, buf, sizeof(buf), &len), -EINVAL);
	assert_int_equal(mr_ng_reply_error("k", 1, NULL, buf, sizeof(buf), &len), -EINVAL);
	assert_int_equal(mr_ng_reply_error("k", 1, "x", buf, 10, &len), -ENOSPC);
}

/* ---- retransmission cache --------------------------------------------- */

static void
assert_hit(struct mr_ng_cache *c, const char *key, uint64_t now, const char *want)
{
	const void *reply = NULL;
	size_t len = 0;

	if (!mr_ng_cache_get(c, key, strlen(key), now, &reply, &len))
		fail_msg("cache miss for \"%s\" at %llu", key, (unsigned long long)now);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(reply, want, len);
}

static void
assert_miss(struct mr_ng_cache *c, const char *key, uint64_t now)
{
	const void *reply = NULL;
	size_t len = 0;

	if (mr_ng_cache_get(c, key, strlen(key), now, &reply, &len))
		fail_msg("cache hit for \"%s\" at %llu", key, (unsigned long long)now);
}

static int
put(struct mr_ng_cache *c, const char *key, const char *reply, uint64_t now)
{
	return mr_ng_cache_put(c, key, strlen(key), reply, strlen(reply), now);
}

static void
test_cache_hit_miss_expiry(void **state)
{
	static const char reply[] = "5323_1 d6:result2:ok3:sdp3:\0\1\2e";
	struct mr_ng_cache *c = mr_ng_cache_new(4, 1000);
	const void *got;
	size_t len;

	(void)state;
	assert_non_null(c);
	assert_miss(c, "5323_1", 0);
	/* binary reply, stored as a copy */
	{
		char tmp[sizeof(reply)];

		memcpy(tmp, reply, sizeof(reply));
		assert_int_equal(mr_ng_cache_put(c, "5323_1", 6, tmp, sizeof(reply) - 1, 5000), 0);
		memset(tmp, 'x', sizeof(tmp));
	}
	assert_true(mr_ng_cache_get(c, "5323_1", 6, 5000, &got, &len));
	assert_int_equal(len, sizeof(reply) - 1);
	assert_memory_equal(got, reply, len);
	assert_true(mr_ng_cache_get(c, "5323_1", 6, 5999, &got, &len));        /* last ms */
	assert_int_equal(mr_ng_cache_count(c, 5999), 1);
	assert_miss(c, "5323_", 5000);
	assert_miss(c, "5323_12", 5000);
	assert_int_equal(mr_ng_cache_count(c, 6000), 0);
	assert_miss(c, "5323_1", 6000);                                         /* expired */
	assert_miss(c, "5323_1", 5500);                                         /* and dropped */

	/* the same key again replaces the reply and restarts its TTL */
	assert_int_equal(put(c, "k", "first", 0), 0);
	assert_int_equal(put(c, "k", "second", 500), 0);
	assert_hit(c, "k", 1400, "second");
	assert_int_equal(mr_ng_cache_count(c, 1400), 1);

	/* empty reply, argument checks */
	assert_int_equal(mr_ng_cache_put(c, "e", 1, NULL, 0, 0), 0);
	assert_hit(c, "e", 1, "");
	assert_int_equal(mr_ng_cache_put(c, "", 0, "x", 1, 0), -EINVAL);
	assert_int_equal(mr_ng_cache_put(c, NULL, 1, "x", 1, 0), -EINVAL);
	assert_int_equal(mr_ng_cache_put(c, "k", 1, NULL, 1, 0), -EINVAL);
	{
		char key[MR_NG_CACHE_KEY_MAX + 1];

		memset(key, 'a', sizeof(key));
		assert_int_equal(mr_ng_cache_put(c, key, sizeof(key), "x", 1, 0), -EINVAL);
		assert_int_equal(mr_ng_cache_put(c, key, MR_NG_CACHE_KEY_MAX, "x", 1, 0), 0);
		assert_true(mr_ng_cache_get(c, key, MR_NG_CACHE_KEY_MAX, 1, &got, &len));
		assert_false(mr_ng_cache_get(c, key, sizeof(key), 1, &got, &len));
	}
	/* no overflow when now + ttl passes 2^64 */
	assert_int_equal(put(c, "late", "r", UINT64_MAX - 10), 0);
	assert_hit(c, "late", UINT64_MAX - 1, "r");
	mr_ng_cache_free(c);
	mr_ng_cache_free(NULL);
}

static void
test_cache_eviction(void **state)
{
	struct mr_ng_cache *c = mr_ng_cache_new(3, 60000);
	char key[16], val[16];
	int i;

	(void)state;
	assert_int_equal(put(c, "a", "ra", 1), 0);
	assert_int_equal(put(c, "b", "rb", 2), 0);
	assert_int_equal(put(c, "c", "rc", 3), 0);
	assert_hit(c, "a", 4, "ra");            /* a hit does not refresh */
	assert_int_equal(put(c, "d", "rd", 5), 0);
	assert_miss(c, "a", 6);                 /* oldest went */
	assert_hit(c, "b", 6, "rb");
	assert_hit(c, "c", 6, "rc");
	assert_hit(c, "d", 6, "rd");
	assert_int_equal(mr_ng_cache_count(c, 6), 3);

	/* replacing b leaves a hole; the ring still evicts oldest first */
	assert_int_equal(put(c, "b", "rb2", 7), 0);     /* b becomes the newest */
	assert_hit(c, "b", 8, "rb2");
	assert_int_equal(mr_ng_cache_count(c, 8), 3);
	assert_int_equal(put(c, "e", "re", 9), 0);
	assert_miss(c, "c", 10);
	assert_hit(c, "d", 10, "rd");
	assert_hit(c, "b", 10, "rb2");
	assert_hit(c, "e", 10, "re");

	/* many more than fit: exactly the last three survive */
	for (i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "%d_%d", 4242, i);
		snprintf(val, sizeof(val), "v%d", i);
		assert_int_equal(put(c, key, val, 100 + (uint64_t)i), 0);
	}
	for (i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "%d_%d", 4242, i);
		snprintf(val, sizeof(val), "v%d", i);
		if (i >= 997)
			assert_hit(c, key, 2000, val);
		else
			assert_miss(c, key, 2000);
	}
	assert_int_equal(mr_ng_cache_count(c, 2000), 3);
	mr_ng_cache_free(c);
}

/* A bigger cache: each of many keys is found in its chain, and only it. */
static void
test_cache_many(void **state)
{
	struct mr_ng_cache *c = mr_ng_cache_new(4096, 30000);
	char key[32], val[32];
	int i;

	(void)state;
	assert_non_null(c);
	for (i = 0; i < 4096; i++) {
		snprintf(key, sizeof(key), "1234_%d_%d", i, i * 7);
		snprintf(val, sizeof(val), "reply %d", i);
		assert_int_equal(put(c, key, val, (uint64_t)i), 0);
	}
	assert_int_equal(mr_ng_cache_count(c, 4096), 4096);
	for (i = 0; i < 4096; i++) {
		snprintf(key, sizeof(key), "1234_%d_%d", i, i * 7);
		snprintf(val, sizeof(val), "reply %d", i);
		assert_hit(c, key, 5000, val);
	}
	/* stored at 0..4095 with a TTL of 30 s: at 32048 those after 2048 remain */
	assert_int_equal(mr_ng_cache_count(c, 32048), 2047);
	mr_ng_cache_free(c);
}

static void
test_cache_new_args(void **state)
{
	(void)state;
	errno = 0;
	assert_null(mr_ng_cache_new(0, 1000));
	assert_int_equal(errno, EINVAL);
	assert_null(mr_ng_cache_new(8, 0));
	assert_null(mr_ng_cache_new(MR_NG_CACHE_MAX_ENTRIES + 1, 1000));
	mr_ng_cache_free(mr_ng_cache_new(1, 1));
}

/* One entry: every put evicts the previous one. */
static void
test_cache_single(void **state)
{
	struct mr_ng_cache *c = mr_ng_cache_new(1, 100);

	(void)state;
	assert_int_equal(put(c, "a", "1", 0), 0);
	assert_hit(c, "a", 0, "1");
	assert_int_equal(put(c, "b", "2", 0), 0);
	assert_miss(c, "a", 0);
	assert_hit(c, "b", 99, "2");
	assert_int_equal(put(c, "b", "3", 0), 0);
	assert_hit(c, "b", 0, "3");
	assert_int_equal(mr_ng_cache_count(c, 0), 1);
	mr_ng_cache_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_containers),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_node_limit),
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_ng_offer_lookup),
		cmocka_unit_test(test_build_and_print),
		cmocka_unit_test(test_print_refuses),
		cmocka_unit_test(test_print_key_order),
		cmocka_unit_test(test_ng_split),
		cmocka_unit_test(test_ng_parse_request),
		cmocka_unit_test(test_ng_replies),
		cmocka_unit_test(test_cache_hit_miss_expiry),
		cmocka_unit_test(test_cache_eviction),
		cmocka_unit_test(test_cache_many),
		cmocka_unit_test(test_cache_new_args),
		cmocka_unit_test(test_cache_single),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
