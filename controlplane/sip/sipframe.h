/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_CP_SIP_SIPFRAME_H
#define MR_CP_SIP_SIPFRAME_H

/*
 * Where one SIP message ends, on a stream (TLS, TCP) and in a datagram
 * (UDP). The only SIP the transport understands: the header block ends at
 * the first CRLFCRLF and the body is Content-Length bytes (RFC 3261 18.3;
 * also the compact form "l", header names case-insensitive). Everything
 * else (start line, other headers, the body) is the upper layer's job.
 *
 * Pure functions over (buffer, length): no state, no allocation, so the
 * unit test and the fuzz target drive them directly.
 */
#include <stddef.h>

enum mr_sip_frame {
	MR_SIP_FRAME_NEED = 0,          /* no whole message yet: read more */
	MR_SIP_FRAME_MSG,               /* a message: buf[0..*ret_len) */
	MR_SIP_FRAME_PING,              /* CRLFCRLF (RFC 5626 ping): *ret_len = 4,
	                                   answer with one CRLF */
	MR_SIP_FRAME_SKIP,              /* *ret_len bytes of CRLF before a start
	                                   line (RFC 3261 7.5): discard them */
	MR_SIP_FRAME_TOO_BIG,           /* longer than the limit: close the flow */
	MR_SIP_FRAME_BAD,               /* no, a negative, malformed or duplicate
	                                   Content-Length: close the flow */
};

/*
 * Frame the start of stream buffer @buf[0..len): the caller has consumed
 * every earlier message, so @buf starts where the next one may. A message,
 * headers and body together, may be at most @max bytes: a header block that
 * has not ended within @max bytes is MR_SIP_FRAME_TOO_BIG at once, without
 * waiting for more. A lone CRLF at the very end of @buf is MR_SIP_FRAME_NEED:
 * the next bytes tell a ping from a CRLF before a message.
 * @ret_len is written for MSG, PING and SKIP only.
 */
enum mr_sip_frame mr_sip_frame(const char *buf, size_t len, size_t max, size_t *ret_len);

/*
 * Frame UDP datagram @buf[0..len) (RFC 3261 18.3): MSG with the message
 * length, which is the datagram cut to its Content-Length when it has one
 * (bytes beyond it are discarded) and the whole datagram otherwise; SKIP
 * (*ret_len = len) for a datagram of nothing but CRLFs (a NAT keep-alive,
 * never answered on UDP); BAD for a Content-Length longer than the body, or
 * malformed, or a datagram without a CRLFCRLF; TOO_BIG beyond @max.
 */
enum mr_sip_frame mr_sip_frame_datagram(const char *buf, size_t len, size_t max, size_t *ret_len);

#endif /* MR_CP_SIP_SIPFRAME_H */
