/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_FUZZ_CHECK_H
#define MR_FUZZ_CHECK_H

/*
 * What a fuzz target does when a promise of the code under test breaks:
 * abort, which libFuzzer and the replay test both report as a crash, with
 * the input that caused it.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static inline void
check(int cond)
{
	if (!cond)
		abort();
}

/* Does the string at @s end within its @cap bytes? */
static inline int
terminated(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

#endif
