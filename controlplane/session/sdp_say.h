/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_CP_SDP_SAY_H
#define MR_CP_SDP_SAY_H

/*
 * How the SDP line check, model and printer (sdp_*.c) and the SDES a=crypto
 * parser and negotiation (sdes*.c) hand a reason to their caller: they never
 * log, the caller logs the reason once.
 */
#include <stddef.h>

/* Write a reason (printf) to @err, @err_len bytes with the NUL (@err may be
 * NULL or @err_len 0: nothing is written), and return @r. */
int mr_sdp_say(char *err, size_t err_len, int r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif /* MR_CP_SDP_SAY_H */
