/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_BENCH_RUNNER_H
#define MR_BENCH_RUNNER_H

/*
 * What the bench programs (bench_relay, bench_ng, bench_srtp_engine) share
 * to run and time a measurement: clocks, pinning to a CPU, ordering figures
 * for a median, and removing what a finished EAL leaves behind.
 */
#include <stdint.h>
#include <time.h>

/* Nanoseconds on @clk; 0 if it cannot be read. Inline: called inside timed loops. */
static inline uint64_t
bench_clock_ns(clockid_t clk)
{
	struct timespec ts;

	if (clock_gettime(clk, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Wall time, for deadlines and windows. */
static inline uint64_t
bench_now_ns(void)
{
	return bench_clock_ns(CLOCK_MONOTONIC);
}

/* CPU time of the calling thread: the machines are shared, so wall time says little. */
static inline uint64_t
bench_thread_ns(void)
{
	return bench_clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

/* Sleeps @s seconds (nothing if @s <= 0), resuming after signals. */
void bench_sleep_s(double s);

/* Binds the calling thread to @cpu. Returns 0 or -errno. */
int bench_pin_cpu(unsigned int cpu);

/* qsort() order of doubles, ascending. */
int bench_cmp_double(const void *a, const void *b);

/* Removes the runtime directory an EAL with file prefix @tag leaves behind. */
void bench_eal_dir_remove(const char *tag);

#endif /* MR_BENCH_RUNNER_H */
