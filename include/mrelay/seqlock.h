/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Sequence counters for records that cross the process boundary.
 *
 * One writer, any number of readers, no reader ever blocks the writer. The
 * counter is odd while a write is in progress. A reader copies the record
 * and retries if the counter was odd or changed under it.
 *
 * Crash safety: the writer may be killed between begin and end, leaving the
 * counter odd forever. Readers therefore retry a bounded number of times
 * (MR_SEQ_MAX_RETRIES) and then give up with -EAGAIN; the caller skips the
 * record and counts it. The process that owns the writing side repairs odd
 * counters when it restarts (mr_seq_repair()).
 *
 * These helpers use the GCC/Clang __atomic builtins on plain fields so that
 * the shared layout stays plain fixed-width integers.
 */
#ifndef MRELAY_SEQLOCK_H
#define MRELAY_SEQLOCK_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/** Attempts a reader makes before it reports the record as torn. */
#define MR_SEQ_MAX_RETRIES 256u

/** CPU spin hint; x86 (bare metal) and arm64 (Graviton ENA hosts). */
static inline void
mr_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield" ::: "memory");
#endif
}

/** Writer: start a write. Caller is the only writer of this counter. */
static inline void
mr_seq_write_begin(uint32_t *seq)
{
	uint32_t s = __atomic_load_n(seq, __ATOMIC_RELAXED);

	__atomic_store_n(seq, s + 1u, __ATOMIC_RELAXED);
	/* The odd value must be visible before any store to the body. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

/** Writer: end a write; publishes the body. */
static inline void
mr_seq_write_end(uint32_t *seq)
{
	uint32_t s = __atomic_load_n(seq, __ATOMIC_RELAXED);

	__atomic_store_n(seq, s + 1u, __ATOMIC_RELEASE);
}

/** True when a write is in progress (or its writer died mid-write). */
static inline bool
mr_seq_is_odd(const uint32_t *seq)
{
	return (__atomic_load_n(seq, __ATOMIC_ACQUIRE) & 1u) != 0;
}

/**
 * Writer side, after a restart: make an odd counter even again. The body may
 * be torn; the caller rewrites or discards it before calling this.
 * Returns true when a repair was needed.
 */
static inline bool
mr_seq_repair(uint32_t *seq)
{
	uint32_t s = __atomic_load_n(seq, __ATOMIC_RELAXED);

	if ((s & 1u) == 0)
		return false;
	__atomic_store_n(seq, s + 1u, __ATOMIC_RELEASE);
	return true;
}

/**
 * Reader: copy @p len bytes of the record at @p src (protected by @p seq)
 * into @p dst. Returns 0, or -EAGAIN when the record stayed inconsistent for
 * MR_SEQ_MAX_RETRIES attempts. On -EAGAIN @p dst holds garbage.
 */
static inline int
mr_seq_read(const uint32_t *seq, void *dst, const void *src, size_t len)
{
	unsigned int i;

	for (i = 0; i < MR_SEQ_MAX_RETRIES; i++) {
		uint32_t s1 = __atomic_load_n(seq, __ATOMIC_ACQUIRE);

		if (s1 & 1u) {
			mr_cpu_relax();
			continue;
		}
		memcpy(dst, src, len);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(seq, __ATOMIC_RELAXED) == s1)
			return 0;
	}
	return -EAGAIN;
}

#endif /* MRELAY_SEQLOCK_H */
