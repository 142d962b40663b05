/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for mr_parse_frame(), with and without the NIC checksum
 * flag. Besides "no crash, no read past len" (ASan), it checks the
 * promises parse.h makes on success: every offset lies inside the frame
 * and the UDP payload ends within it. A broken promise aborts, which both
 * libFuzzer and the replay test report.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const uint8_t *data, uint32_t len, unsigned int flags)
{
	struct mr_pkt_info pi;
	uint8_t reason = UINT8_MAX;

	if (!mr_parse_frame(data, len, flags, &pi, &reason)) {
		if (reason >= MR_DROP_MAX)
			abort();
		return;
	}
	if (reason != UINT8_MAX || pi.kind > MR_PKT_OTHER_L2 || pi.l3_off > len)
		abort();
	if (pi.kind == MR_PKT_ARP || pi.kind == MR_PKT_OTHER_L2)
		return;
	if ((uint32_t)pi.l3_off + pi.l3_len > len || pi.l4_off < pi.l3_off ||
	    pi.l4_off > pi.l3_off + pi.l3_len)
		abort();
	if (pi.src.family != pi.dst.family ||
	    (pi.src.family != MR_AF_INET && pi.src.family != MR_AF_INET6))
		abort();
	if (pi.kind == MR_PKT_UDP &&
	    (pi.payload_off != pi.l4_off + 8 ||
	     (uint32_t)pi.payload_off + pi.payload_len > (uint32_t)pi.l3_off + pi.l3_len))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t len = size > UINT32_MAX ? UINT32_MAX : (uint32_t)size;

	check(data, len, 0);
	check(data, len, MR_PARSE_IP_CKSUM_OK);
	return 0;
}
