/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_CP_NG_FRAME_H
#define MR_CP_NG_FRAME_H

/*
 * NG message framing (rtpengine's ng_control_protocol.md): every request and
 * reply is "COOKIE SP DICTIONARY". The cookie matches a reply to its request
 * and marks retransmissions, so a reply carries the request's cookie byte for
 * byte. mrelay accepts a cookie of 1..MR_NG_COOKIE_MAX printable, non-space
 * ASCII bytes (0x21..0x7e): the SIP proxies' modules send "<pid>_<counter>"
 * style cookies, and a bound keeps the retransmission cache's keys small.
 * The dictionary is bencode only: a JSON body is refused with a clear reason.
 *
 * No state; no allocation.
 */
#include <stdbool.h>
#include <stddef.h>

#include "bencode.h"

#define MR_NG_COOKIE_MAX 64u
/* Longest message, either way: what one UDP datagram can carry. */
#define MR_NG_MSG_MAX 65507u

struct mr_ng_msg {
	const char *cookie;             /* points into the datagram */
	size_t cookie_len;
	const char *body;               /* everything after the single space */
	size_t body_len;
};

/* 1..MR_NG_COOKIE_MAX bytes, each 0x21..0x7e. */
bool mr_ng_cookie_valid(const char *cookie, size_t len);

/*
 * Split datagram @buf[0..len) at its first space. Returns 0; or -EINVAL with
 * a static reason in @ret_why (when not NULL): no space, an empty, too long
 * or non-printable cookie, or an empty body. Without a valid cookie there is
 * nothing a reply could be matched to: the caller drops the datagram.
 */
int mr_ng_split(const char *buf, size_t len, struct mr_ng_msg *ret, const char **ret_why);

/*
 * Parse the body of @msg as a bencode dictionary, nodes from @a. Returns 0
 * and the dictionary, or -EINVAL / -E2BIG with @ret_err set as
 * mr_bc_parse() does; a valid value that is not a dictionary, or a JSON
 * body, is -EINVAL at offset 0.
 */
int mr_ng_parse_request(const struct mr_ng_msg *msg, struct mr_bc_arena *a,
			const struct mr_bc_node **ret_dict, struct mr_bc_err *ret_err);

/*
 * Print "COOKIE SP <dict>" into @buf (not NUL-terminated). @dict must be a
 * dictionary; the caller puts "result" (and the rest) into it. Returns 0 and
 * the length; -EINVAL (bad cookie, not a dictionary, or as mr_bc_print());
 * -ENOSPC.
 */
int mr_ng_reply_print(const char *cookie, size_t cookie_len, const struct mr_bc_node *dict,
		      char *buf, size_t cap, size_t *ret_len);

/*
 * The rtpengine error reply: "COOKIE d12:error-reason<N>:<reason>6:result5:errore"
 * (keys sorted). @reason is a NUL-terminated human-readable string.
 */
int mr_ng_reply_error(const char *cookie, size_t cookie_len, const char *reason,
		      char *buf, size_t cap, size_t *ret_len);

/*
 * NG over TCP (rtpengine's --listen-tcp-ng) is the same messages back to
 * back on a stream, with nothing between them: the end of a message is the
 * end of its bencode value. Given the bytes received so far, returns 0 and
 * the length of the first complete message in @ret_len; -EAGAIN if it is
 * not complete yet; -EINVAL (reason in @ret_why) if the stream cannot be
 * framed any more (no cookie, not bencode, over MR_NG_MSG_MAX): the caller
 * closes the connection, as there is no way to find the next message.
 */
int mr_ng_frame_len(const char *buf, size_t len, size_t *ret_len, const char **ret_why);

#endif /* MR_CP_NG_FRAME_H */
