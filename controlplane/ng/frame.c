/* SPDX-License-Identifier: BSD-3-Clause */
/* NG framing: cookie, space, bencode dictionary (see frame.h). */
#include <errno.h>
#include <string.h>

#include "frame.h"

bool
mr_ng_cookie_valid(const char *cookie, size_t len)
{
	size_t i;

	if (cookie == NULL || len == 0 || len > MR_NG_COOKIE_MAX)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)cookie[i];

		if (c < 0x21 || c > 0x7e)
			return false;
	}
	return true;
}

static int
why(const char **ret_why, const char *what)
{
	if (ret_why != NULL)
		*ret_why = what;
	return -EINVAL;
}

int
mr_ng_split(const char *buf, size_t len, struct mr_ng_msg *ret, const char **ret_why)
{
	const char *sp;
	size_t cookie_len;

	if (buf == NULL || len == 0)
		return why(ret_why, "empty message");
	/* Only the first MR_NG_COOKIE_MAX + 1 bytes can hold the separator. */
	sp = memchr(buf, ' ', len < MR_NG_COOKIE_MAX + 1 ? len : MR_NG_COOKIE_MAX + 1);
	if (sp == NULL)
		return why(ret_why, len > MR_NG_COOKIE_MAX ? "cookie too long or missing" :
			   "no space after the cookie");
	cookie_len = (size_t)(sp - buf);
	if (cookie_len == 0)
		return why(ret_why, "empty cookie");
	if (!mr_ng_cookie_valid(buf, cookie_len))
		return why(ret_why, "cookie holds a byte that is not printable ASCII");
	if (cookie_len + 1 == len)
		return why(ret_why, "no dictionary after the cookie");
	ret->cookie = buf;
	ret->cookie_len = cookie_len;
	ret->body = sp + 1;
	ret->body_len = len - cookie_len - 1;
	return 0;
}

int
mr_ng_parse_request(const struct mr_ng_msg *msg, struct mr_bc_arena *a,
		    const struct mr_bc_node **ret_dict, struct mr_bc_err *ret_err)
{
	const struct mr_bc_node *root;
	size_t used = a->used;
	int r;

	if (msg->body_len != 0 && msg->body[0] == '{') {
		if (ret_err != NULL)
			*ret_err = (struct mr_bc_err){ 0, "JSON requests are not supported: use bencode" };
		return -EINVAL;
	}
	r = mr_bc_parse(msg->body, msg->body_len, a, &root, ret_err);
	if (r < 0)
		return r;
	if (root->type != MR_BC_DICT) {
		a->used = used;
		if (ret_err != NULL)
			*ret_err = (struct mr_bc_err){ 0, "request is not a dictionary" };
		return -EINVAL;
	}
	*ret_dict = root;
	return 0;
}

int
mr_ng_reply_print(const char *cookie, size_t cookie_len, const struct mr_bc_node *dict,
		  char *buf, size_t cap, size_t *ret_len)
{
	size_t body_len;
	int r;

	if (!mr_ng_cookie_valid(cookie, cookie_len) || dict == NULL || dict->type != MR_BC_DICT)
		return -EINVAL;
	if (buf == NULL || cap < cookie_len + 1)
		return -ENOSPC;
	r = mr_bc_print(dict, buf + cookie_len + 1, cap - cookie_len - 1, &body_len);
	if (r < 0)
		return r;
	memcpy(buf, cookie, cookie_len);
	buf[cookie_len] = ' ';
	*ret_len = cookie_len + 1 + body_len;
	return 0;
}

int
mr_ng_reply_error(const char *cookie, size_t cookie_len, const char *reason,
		  char *buf, size_t cap, size_t *ret_len)
{
	struct mr_bc_node nodes[5];
	struct mr_bc_arena a;
	struct mr_bc_node *d;

	if (reason == NULL)
		return -EINVAL;
	mr_bc_arena_init(&a, nodes, sizeof(nodes) / sizeof(nodes[0]));
	d = mr_bc_new_dict(&a);
	if (mr_bc_dict_add_cstr(&a, d, "result", "error") < 0 ||
	    mr_bc_dict_add_cstr(&a, d, "error-reason", reason) < 0)
		return -EINVAL;         /* cannot happen: 5 nodes suffice */
	return mr_ng_reply_print(cookie, cookie_len, d, buf, cap, ret_len);
}

/*
 * Skip one bencode value starting at @p[0..len). Only the structure is
 * followed (lengths, nesting, terminators); mr_bc_parse() validates the
 * message afterwards. Returns the value's length, 0 if more bytes are
 * needed, or -EINVAL when the bytes cannot start a value.
 */
static long
skip_value(const char *p, size_t len)
{
	unsigned int depth = 0;
	size_t i = 0;

	do {
		size_t n;

		if (i >= len)
			return 0;
		switch (p[i]) {
		case 'i': {
			const char *e = memchr(p + i, 'e', len - i);

			if (e == NULL)
				return len - i > 21 ? -EINVAL : 0;
			i = (size_t)(e - p) + 1;
			break;
		}
		case 'l':
		case 'd':
			if (++depth > MR_BC_MAX_DEPTH)
				return -EINVAL;
			i++;
			continue;
		case 'e':
			if (depth == 0)
				return -EINVAL;
			depth--;
			i++;
			break;
		default:
			if (p[i] < '0' || p[i] > '9')
				return -EINVAL;
			for (n = 0; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
				n = n * 10 + (size_t)(p[i] - '0');
				if (n > MR_NG_MSG_MAX)
					return -EINVAL;
			}
			if (i >= len)
				return 0;
			if (p[i] != ':')
				return -EINVAL;
			i++;
			if (len - i < n)
				return 0;
			i += n;
			break;
		}
	} while (depth > 0);
	return (long)i;
}

int
mr_ng_frame_len(const char *buf, size_t len, size_t *ret_len, const char **ret_why)
{
	const char *sp;
	size_t cookie_len;
	long v;

	sp = memchr(buf, ' ', len < MR_NG_COOKIE_MAX + 1 ? len : MR_NG_COOKIE_MAX + 1);
	if (sp == NULL)
		return len > MR_NG_COOKIE_MAX ? why(ret_why, "cookie too long or missing") : -EAGAIN;
	cookie_len = (size_t)(sp - buf);
	if (!mr_ng_cookie_valid(buf, cookie_len))
		return why(ret_why, "bad cookie");
	v = skip_value(sp + 1, len - cookie_len - 1);
	if (v < 0)
		return why(ret_why, "not a bencode value after the cookie");
	if (v == 0)
		return len >= MR_NG_MSG_MAX ? why(ret_why, "message too long") : -EAGAIN;
	if (cookie_len + 1 + (size_t)v > MR_NG_MSG_MAX)
		return why(ret_why, "message too long");
	*ret_len = cookie_len + 1 + (size_t)v;
	return 0;
}
