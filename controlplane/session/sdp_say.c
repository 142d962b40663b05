/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdarg.h>
#include <stdio.h>

#include "sdp_say.h"

int
mr_sdp_say(char *err, size_t err_len, int r, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && err_len != 0) {
		va_start(ap, fmt);
		vsnprintf(err, err_len, fmt, ap);
		va_end(ap);
	}
	return r;
}
