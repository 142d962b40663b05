/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <ftw.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "runner.h"

void
bench_sleep_s(double s)
{
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int
bench_pin_cpu(unsigned int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) == 0 ? 0 : -errno;
}

int
bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* Where the EAL puts it: /var/run for root, else $XDG_RUNTIME_DIR or /tmp. */
void
bench_eal_dir_remove(const char *tag)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	char path[512];

	if (geteuid() == 0)
		snprintf(path, sizeof(path), "/var/run/dpdk/%s", tag);
	else
		snprintf(path, sizeof(path), "%s/dpdk/%s", xdg != NULL ? xdg : "/tmp", tag);
	nftw(path, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}
