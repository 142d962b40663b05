/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for SIP framing (controlplane/sip/sipframe.c). The input is a
 * byte stream as a TLS or TCP flow would deliver it. Besides "no crash, no
 * read past the input" (ASan), it checks what sipframe.h promises, and
 * aborts when a promise breaks:
 *  - every MSG, PING and SKIP consumes 1..remaining bytes, a MSG at most
 *    the limit, a PING exactly CRLFCRLF, a SKIP exactly one CRLF;
 *  - a message frames the same on its own, and its last byte is needed;
 *  - read boundaries do not matter: the stream fed in chunks (sizes drawn
 *    from the input, the buffer never past the limit, as the transport
 *    reads) frames into exactly the same sequence as the whole stream;
 *  - a datagram's message is a prefix of it.
 * Two limits: the real one, and a small one that the inputs can reach.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "sipframe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_EVENTS 512
#define SMALL_MAX 300u

struct ev {
	enum mr_sip_frame r;
	size_t len;
};

/* Frame @buf[0..len) from the start: the events, ending with the first
 * NEED, TOO_BIG or BAD. Returns their number. */
static size_t
frame_whole(const char *buf, size_t len, size_t max, struct ev *out)
{
	size_t off = 0, n, k = 0;

	while (k < MAX_EVENTS) {
		enum mr_sip_frame r = off < len ? mr_sip_frame(buf + off, len - off, max, &n) :
						  MR_SIP_FRAME_NEED;

		out[k].r = r;
		out[k].len = 0;
		if (r != MR_SIP_FRAME_MSG && r != MR_SIP_FRAME_PING && r != MR_SIP_FRAME_SKIP)
			return k + 1;
		check(n >= 1 && n <= len - off);
		if (r == MR_SIP_FRAME_MSG) {
			size_t again = 0;

			check(n <= max);
			check(mr_sip_frame(buf + off, n, max, &again) == MR_SIP_FRAME_MSG && again == n);
			check(mr_sip_frame(buf + off, n - 1, max, &again) == MR_SIP_FRAME_NEED);
		} else if (r == MR_SIP_FRAME_PING) {
			check(n == 4 && memcmp(buf + off, "\r\n\r\n", 4) == 0);
		} else {
			check(n == 2 && memcmp(buf + off, "\r\n", 2) == 0);
		}
		out[k++].len = n;
		off += n;
	}
	return k;
}

/* The same stream through a reassembly buffer of at most @max bytes. */
static void
frame_chunked(const char *buf, size_t len, size_t max, const struct ev *ref, size_t nref)
{
	static char rb[65536];
	size_t in = 0, rlen = 0, k = 0, n;
	unsigned int step = 0;

	for (;;) {
		size_t chunk = 1 + (len ? (unsigned char)buf[step++ % len] % 97 : 0);
		size_t off = 0;

		if (chunk > max - rlen)
			chunk = max - rlen;
		if (chunk > len - in)
			chunk = len - in;
		memcpy(rb + rlen, buf + in, chunk);
		rlen += chunk;
		in += chunk;
		for (;;) {
			enum mr_sip_frame r = off < rlen ? mr_sip_frame(rb + off, rlen - off, max, &n) :
							   MR_SIP_FRAME_NEED;

			if (r == MR_SIP_FRAME_NEED && in < len)
				break;  /* read more */
			check(k < nref && ref[k].r == r);
			if (r != MR_SIP_FRAME_MSG && r != MR_SIP_FRAME_PING && r != MR_SIP_FRAME_SKIP)
				return;
			check(ref[k].len == n);
			k++;
			off += n;
			if (k == MAX_EVENTS)
				return;
		}
		memmove(rb, rb + off, rlen - off);
		rlen -= off;
		check(rlen < max);      /* room to read: else framing stalled */
	}
}

static void
check_stream(const char *buf, size_t len, size_t max)
{
	static struct ev ref[MAX_EVENTS];
	size_t nref = frame_whole(buf, len, max, ref);

	frame_chunked(buf, len, max, ref, nref);
}

static void
check_datagram(const char *buf, size_t len, size_t max)
{
	size_t n = SIZE_MAX;
	enum mr_sip_frame r = mr_sip_frame_datagram(buf, len, max, &n);

	if (r == MR_SIP_FRAME_MSG)
		check(n <= len && n <= max && n > 0);
	else if (r == MR_SIP_FRAME_SKIP)
		check(n == len);
	else
		check(r == MR_SIP_FRAME_BAD || r == MR_SIP_FRAME_TOO_BIG);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;

	if (size > 65535)
		return 0;
	check_stream(buf, size, 65535);
	check_stream(buf, size, SMALL_MAX);
	check_datagram(buf, size, 65535);
	check_datagram(buf, size, SMALL_MAX);
	return 0;
}
