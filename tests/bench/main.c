/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_relay: packets per second of one mrelay worker relaying plain RTP
 * with 1, 10,000 and 1,000,000 legs on net_ring, beside dpdk-testpmd (io
 * and macswap) on net_ring in the same run, and leg installs per second
 * while forwarding; then SRTP (pass-through, re-key, RTP -> SRTP, SRTP ->
 * RTP) per suite, packet size and leg count, beside the cost of libsrtp
 * alone and the crypto limit (raw intel-ipsec-mb, raw_crypto.h) measured
 * in the same run. Rates are given per wall second and per
 * CPU-second of the forwarding thread, since the machines are shared and
 * noisy.
 *
 * Usage: bench_relay [--legs 1,10000,1000000] [--seconds 3] [--warmup 1]
 *                    [--worker-cpu 1] [--other-cpu 0] [--huge | --no-huge]
 *                    [--testpmd PATH | --no-testpmd] [--churn-legs 10000]
 *                    [--churn-pps N] [--inflight 1023] [--repeat 3] [--verbose]
 *                    [--srtp pass,rekey,rtp2srtp,srtp2rtp | --srtp none]
 *                    [--srtp-suites LIST | all] [--srtp-sizes 200,1200]
 *                    [--srtp-legs 1] [--srtp-scale-legs 10000] [--srtp-scale-mode srtp2rtp]
 *                    [--srtp-seconds 1] [--srtp-warmup 0.2] [--srtp-stock-mib 1024]
 *
 * Each measurement runs in a forked child with its own EAL (file prefix
 * mrbench-PID-N), its region /dev/shm/mrbench-PID-N and config
 * /dev/shm/mrbench-PID-N.conf; this parent removes them, and the EAL's
 * runtime directory, after each child. Never asserts: exit status is 0
 * unless the options are wrong.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mrelay/counters.h>

#include "bench.h"
#include "config.h"
#include "runner.h"
#include "srtp.h"

#define MAX_REPEAT 9u
#define SRTP_MAX_CASES (2u * (BENCH_SRTP_MAX_LEG_COUNTS * MR_SUITE_MAX * BENCH_SRTP_MAX_SIZES * \
			BENCH_SRTP_MODES + MR_SUITE_MAX))  /* + the scale rows; x 2 engines */

volatile pid_t bench_child;             /* current child, for SIGINT/SIGTERM */
static volatile sig_atomic_t interrupted;

/* /proc/PID/task/TID/schedstat: ns on CPU, ns runnable but waiting, timeslices. */
int
bench_schedstat(pid_t pid, pid_t tid, struct cpu_sample *ret)
{
	unsigned long long run, wait;
	char path[64];
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", (int)pid, (int)tid);
	f = fopen(path, "r");
	if (f == NULL)
		return -errno;
	n = fscanf(f, "%llu %llu", &run, &wait);
	fclose(f);
	if (n != 2)
		return -EINVAL;
	ret->cpu_ns = run;
	ret->wait_ns = wait;
	return 0;
}

/* --- children and their leftovers ----------------------------------------- */

/* What a run may leave: its region, config, and the EAL's runtime directory. */
static void
cleanup(const char *tag)
{
	char path[512];

	snprintf(path, sizeof(path), "/dev/shm/%s", tag);
	unlink(path);
	snprintf(path, sizeof(path), "/dev/shm/%s.conf", tag);
	unlink(path);
	bench_eal_dir_remove(tag);
}

static void
on_signal(int sig)
{
	interrupted = 1;
	if (bench_child > 0)
		kill(bench_child, sig == SIGINT ? SIGTERM : sig);
}

typedef int (*child_fn)(const struct bench_opts *o, const void *arg, const char *tag,
			void *res);

/*
 * Run @fn in a forked child, which sends back @len bytes of result (whose
 * first member is the int status). Returns that status, or -ECHILD if the
 * child died without an answer.
 */
static int
in_child(const struct bench_opts *o, child_fn fn, const void *arg, const char *tag,
	 void *res, size_t len)
{
	size_t got = 0;
	int p[2], status = 0;
	pid_t pid;

	if (pipe(p) < 0)
		return -errno;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		int r;

		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		close(p[0]);
		r = fn(o, arg, tag, res);
		*(int *)res = r;
		if (write(p[1], res, len) != (ssize_t)len)
			_exit(1);
		fflush(stdout);
		_exit(0);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return -errno;
	}
	bench_child = pid;
	while (got < len) {
		ssize_t n = read(p[0], (char *)res + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	bench_child = 0;
	cleanup(tag);
	if (got != len) {
		if (WIFSIGNALED(status))
			fprintf(stderr, "bench: %s: killed by signal %d\n", tag, WTERMSIG(status));
		else
			fprintf(stderr, "bench: %s: exited %d without a result\n", tag,
				WEXITSTATUS(status));
		*(int *)res = -ECHILD;
		return -ECHILD;
	}
	return *(int *)res;
}

static int
relay_child(const struct bench_opts *o, const void *arg, const char *tag, void *res)
{
	return bench_relay_run(o, *(const uint32_t *)arg, tag, res);
}

static int
churn_child(const struct bench_opts *o, const void *arg, const char *tag, void *res)
{
	(void)arg;
	return bench_churn_run(o, tag, res);
}

struct srtp_arg {
	const struct bench_srtp_case *c;
	struct bench_stock *stock;      /* NULL: RTP -> SRTP */
};

static int
srtp_child(const struct bench_opts *o, const void *arg, const char *tag, void *res)
{
	const struct srtp_arg *a = arg;

	return bench_srtp_run(o, a->c, a->stock, tag, res);
}

static int
stock_child(const struct bench_opts *o, const void *arg, const char *tag, void *res)
{
	const struct srtp_arg *a = arg;

	(void)tag;
	return bench_stock_build(o, a->c, a->stock, res);
}

static int
ref_child(const struct bench_opts *o, const void *arg, const char *tag, void *res)
{
	(void)arg;
	(void)tag;
	return bench_srtp_reference(o, res);
}

/* --- figures --------------------------------------------------------------- */

static double
rate(uint64_t n, double s)
{
	return s > 0 ? (double)n / s : 0;
}

static double
relay_cpu_rate(const struct relay_result *r)
{
	return r->status == 0 ? rate(r->tx, r->cpu_s) : 0;
}

/* CPU the worker spent relaying: its CPU time less its empty polls. */
static double
relay_busy_s(const struct relay_result *r)
{
	double idle = (double)r->idle_loops * r->idle_poll_ns / 1e9;

	return r->idle_poll_ns > 0 && idle < r->cpu_s ? r->cpu_s - idle : r->cpu_s;
}

static double
relay_busy_rate(const struct relay_result *r)
{
	return r->status == 0 ? rate(r->tx, relay_busy_s(r)) : 0;
}

static double
tp_cpu_rate(const struct tp_result *r)
{
	return r->status == 0 ? rate(r->pkts, r->cpu_s) : 0;
}

/* Index of the median of @n values (by rate), failed runs last. */
static unsigned int
median_of(const double *v, unsigned int n)
{
	unsigned int i, j, best = 0;

	for (i = 0; i < n; i++) {
		unsigned int below = 0, above = 0;

		for (j = 0; j < n; j++) {
			if (v[j] < v[i])
				below++;
			else if (v[j] > v[i])
				above++;
		}
		if (below <= n / 2 && above <= n / 2 && v[i] > 0) {
			best = i;
			break;
		}
	}
	return best;
}

/* "1,000,000" */
static const char *
grouped(uint64_t v, char *buf, size_t len)
{
	char tmp[32];
	size_t n, i, o = 0;

	n = (size_t)snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
	for (i = 0; i < n && o + 2 < len; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = tmp[i];
	}
	buf[o] = '\0';
	return buf;
}

static void
print_ratio(double a, double b)
{
	if (a > 0 && b > 0)
		printf(" %7.4f", a / b);
	else
		printf(" %7s", "-");
}

struct row {
	double wall_pps, cpu_pps, busy_pps, share, empty;       /* empty < 0: not known */
};

static void
print_row(const char *label, const struct row *r, double io, double ms)
{
	printf("  %-22s %8.2f %8.2f %8.2f %7.1f %6.1f%%", label, r->wall_pps / 1e6,
	       r->cpu_pps / 1e6, r->busy_pps / 1e6, r->busy_pps > 0 ? 1e9 / r->busy_pps : 0,
	       r->share * 100);
	if (r->empty >= 0)
		printf(" %6.1f%%", r->empty * 100);
	else
		printf(" %7s", "-");
	print_ratio(r->busy_pps, io);
	print_ratio(r->busy_pps, ms);
	printf("\n");
}

static void
host_line(void)
{
	char model[256] = "unknown CPU", line[512], load[64] = "?";
	struct utsname u;
	FILE *f;

	f = fopen("/proc/cpuinfo", "r");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		char *c = strchr(line, ':');

		if (strncmp(line, "model name", 10) == 0 && c != NULL) {
			snprintf(model, sizeof(model), "%s", c + 2);
			model[strcspn(model, "\n")] = '\0';
			break;
		}
	}
	if (f != NULL)
		fclose(f);
	f = fopen("/proc/loadavg", "r");
	if (f != NULL) {
		if (fgets(load, sizeof(load), f) == NULL)
			snprintf(load, sizeof(load), "?");
		fclose(f);
		load[strcspn(load, "\n")] = '\0';
	}
	uname(&u);
	printf("host: %s, %ld CPUs online, Linux %s; load average at start: %.14s\n",
	       model, sysconf(_SC_NPROCESSORS_ONLN), u.release, load);
}

#define HP_DIR "/sys/kernel/mm/hugepages/hugepages-2048kB/"

static unsigned long
read_ulong(const char *path)
{
	unsigned long v = 0;
	FILE *f = fopen(path, "r");

	if (f != NULL) {
		if (fscanf(f, "%lu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

static bool
hugetlbfs_mounted(void)
{
	char line[512];
	bool found = false;
	FILE *f = fopen("/proc/mounts", "r");

	while (f != NULL && !found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, " hugetlbfs ") != NULL;
	if (f != NULL)
		fclose(f);
	return found;
}

/*
 * 2 MiB pages the largest run needs: DPDK heap measured at about 71 MiB
 * plus 1.2 KiB per slot (tables, flows: 1,255 MiB with 1,000,000 legs since
 * flows carry SRTP state), with a margin; testpmd less.
 */
static unsigned long
pages_needed(const struct bench_opts *o)
{
	uint64_t slots = o->churn_legs ? o->churn_legs + BENCH_CHURN_SLOTS + 1u : 0;
	unsigned int i;

	for (i = 0; i < o->n_legs; i++)
		slots = o->legs[i] > slots ? o->legs[i] : slots;
	for (i = 0; o->n_srtp_modes != 0 && i < o->n_srtp_legs; i++)
		slots = o->srtp_legs[i] > slots ? o->srtp_legs[i] : slots;
	if (o->n_srtp_modes != 0 && o->srtp_scale_legs > slots)
		slots = o->srtp_scale_legs;
	return (unsigned long)((96u + ((slots * 1280u) >> 20)) / 2u + 16u);
}

/*
 * Production runs on hugepages, and 4 KiB pages change the figures (TLB
 * misses: testpmd macswap is several times slower on them), so use
 * hugepages when enough are free, once for every run, and say which.
 */
static const char *
choose_memory(struct bench_opts *o)
{
	static char text[160];
	unsigned long free_pages = read_ulong(HP_DIR "free_hugepages");
	unsigned long need = pages_needed(o);

	if (o->mem == BENCH_MEM_AUTO)
		o->mem = free_pages >= need && hugetlbfs_mounted() ? BENCH_MEM_HUGE :
		         BENCH_MEM_NOHUGE;
	if (o->mem == BENCH_MEM_HUGE)
		snprintf(text, sizeof(text), "--in-memory (2 MiB hugepages: %lu free, "
			 "about %lu needed)", free_pages, need);
	else
		snprintf(text, sizeof(text), "--no-huge (4 KiB pages; %lu free hugepages, "
			 "about %lu needed)", free_pages, need);
	return text;
}

/*
 * The EAL arguments the relay and testpmd share, so that the reference runs
 * on the same memory: what choose_memory() picked (@mib MiB without
 * hugepages), no PCI, @prefix_arg and --lcores @lcores. Appended at @argv;
 * returns how many.
 */
unsigned int
bench_eal_args(const struct bench_opts *o, char **argv, char *mib, char *prefix_arg,
	       char *lcores)
{
	unsigned int argc = 0;

	if (o->mem == BENCH_MEM_HUGE) {
		argv[argc++] = "--in-memory";
	} else {
		argv[argc++] = "--no-huge";
		argv[argc++] = "-m";
		argv[argc++] = mib;
	}
	argv[argc++] = "--no-pci";
	argv[argc++] = prefix_arg;
	argv[argc++] = "--lcores";
	argv[argc++] = lcores;
	return argc;
}

static bool
cpu_usable(unsigned int cpu)
{
	cpu_set_t set;

	return sched_getaffinity(0, sizeof(set), &set) == 0 && cpu < CPU_SETSIZE &&
	       CPU_ISSET(cpu, &set);
}

/* --- options --------------------------------------------------------------- */

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: bench_relay [options]\n"
		"  --legs LIST        leg counts of the plain-relay runs (default 1,10000,1000000;\n"
		"                     k and M suffixes: 10k, 1M; at most 2064384; none: no runs)\n"
		"  --seconds S        measurement window of each run (default 3)\n"
		"  --warmup S         warm-up before it, at least (default 1); also lasts until\n"
		"                     every leg has been sent to twice\n"
		"  --worker-cpu N     CPU of the worker and of testpmd's forwarding lcore (default 1)\n"
		"  --other-cpu N      CPU of management, generator and testpmd's main lcore (default 0)\n"
		"  --huge             EAL on hugepages (--in-memory); default: when enough 2 MiB\n"
		"                     pages are free for the largest run, else --no-huge\n"
		"  --no-huge          EAL on 4 KiB pages (--no-huge -m N)\n"
		"  --testpmd PATH     reference forwarder (default /usr/bin/dpdk-testpmd)\n"
		"  --no-testpmd       no reference\n"
		"  --churn-legs N     stable legs of the install benchmark (default 10000, 0 skips it,\n"
		"                     at most 2047999)\n"
		"  --churn-pps N      their packet rate (default 50 pps per leg)\n"
		"  --inflight N       mbufs circulating between generator and worker (default 1023)\n"
		"  --repeat N         runs of each row, the median is shown (default 3, at most %u)\n"
		"  --verbose          show EAL, dataplane and testpmd output\n"
		"SRTP cases (every mode x suite x size x leg count, then the scale rows):\n"
		"  --srtp LIST        modes: pass, rekey, rtp2srtp, srtp2rtp (default all four);\n"
		"                     none: no SRTP cases (nor scale rows)\n"
		"  --srtp-suites LIST SDES names (default AES_CM_128_HMAC_SHA1_80,AEAD_AES_128_GCM);\n"
		"                     all: the six suites the dataplane knows\n"
		"  --srtp-sizes LIST  RTP packet bytes before protection, header included\n"
		"                     (default 200,1200; %u..%u)\n"
		"  --srtp-legs LIST   leg counts of the whole matrix (default 1,100k; at most %u);\n"
		"                     libsrtp cases only up to 10,000 legs (on Debian's NSS build\n"
		"                     each context is slower to make the more exist)\n"
		"  --srtp-scale-legs N one more row per suite at N legs, with the scale mode and\n"
		"                     the first size, run once (default 0: none)\n"
		"  --srtp-scale-mode M its mode (default srtp2rtp: one context per leg)\n"
		"  --srtp-seconds S   measurement window (default 1); shorter if the stock of\n"
		"                     pre-protected packets runs out first (the report says so)\n"
		"  --srtp-warmup S    after every leg has its SRTP contexts (default 0.2)\n"
		"  --srtp-stock-mib N memory for a case's pre-protected packets (default 1024)\n"
		"  --srtp-engines L   ipsec-mb (the burst engine), libsrtp, or both (default both):\n"
		"                     every case runs on each\n",
		MAX_REPEAT, BENCH_SRTP_MIN_SIZE, BENCH_SRTP_MAX_SIZE, BENCH_SRTP_MAX_LEGS);
}

static int
parse_count(const char *s, uint32_t *ret)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (end == s || errno != 0)
		return -EINVAL;
	if (*end == 'k' || *end == 'K') {
		v *= 1000u;
		end++;
	} else if (*end == 'M') {
		v *= 1000000u;
		end++;
	}
	if (*end != '\0' || v > UINT32_MAX)
		return -EINVAL;
	*ret = (uint32_t)v;
	return 0;
}

static int
parse_legs(char *s, struct bench_opts *o)
{
	char *tok, *save = NULL;

	o->n_legs = 0;
	if (strcmp(s, "none") == 0)
		return 0;
	for (tok = strtok_r(s, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		if (o->n_legs == BENCH_MAX_LEG_COUNTS ||
		    parse_count(tok, &o->legs[o->n_legs]) < 0 || o->legs[o->n_legs] == 0 ||
		    o->legs[o->n_legs] > BENCH_MAX_LEGS)
			return -EINVAL;
		o->n_legs++;
	}
	return o->n_legs ? 0 : -EINVAL;
}

/* "a,b,c" into @ret (at most @max values in [lo, hi]); k/M suffixes. */
static int
parse_list(char *s, uint32_t *ret, unsigned int max, uint32_t lo, uint32_t hi,
	   unsigned int *ret_n)
{
	char *tok, *save = NULL;
	unsigned int n = 0;

	for (tok = strtok_r(s, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		if (n == max || parse_count(tok, &ret[n]) < 0 || ret[n] < lo || ret[n] > hi)
			return -EINVAL;
		n++;
	}
	*ret_n = n;
	return n ? 0 : -EINVAL;
}

/* A mode's option name, or BENCH_SRTP_MODES if unknown. */
static uint8_t
srtp_mode_by_name(const char *name)
{
	static const char *const names[BENCH_SRTP_MODES] = {
		[BENCH_SRTP_PASS] = "pass", [BENCH_SRTP_REKEY] = "rekey",
		[BENCH_SRTP_RTP2SRTP] = "rtp2srtp", [BENCH_SRTP_SRTP2RTP] = "srtp2rtp",
	};
	uint8_t m;

	for (m = 0; m < BENCH_SRTP_MODES && strcmp(name, names[m]) != 0; m++)
		;
	return m;
}

static int
parse_srtp_modes(char *s, struct bench_opts *o)
{
	char *tok, *save = NULL;
	uint8_t m;

	o->n_srtp_modes = 0;
	if (strcmp(s, "none") == 0)
		return 0;
	for (tok = strtok_r(s, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		m = srtp_mode_by_name(tok);
		if (m == BENCH_SRTP_MODES || o->n_srtp_modes == BENCH_SRTP_MODES)
			return -EINVAL;
		o->srtp_modes[o->n_srtp_modes++] = m;
	}
	return o->n_srtp_modes ? 0 : -EINVAL;
}

static int
parse_srtp_suites(char *s, struct bench_opts *o)
{
	char *tok, *save = NULL;
	uint8_t suite;

	o->n_srtp_suites = 0;
	if (strcmp(s, "all") == 0) {
		for (suite = 1; suite < MR_SUITE_MAX; suite++)
			if (mr_srtp_suite(suite) != NULL)
				o->srtp_suites[o->n_srtp_suites++] = suite;
		return 0;
	}
	for (tok = strtok_r(s, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		suite = mr_srtp_suite_by_name(tok);
		if (suite == MR_SUITE_NONE || o->n_srtp_suites == MR_SUITE_MAX)
			return -EINVAL;
		o->srtp_suites[o->n_srtp_suites++] = suite;
	}
	return o->n_srtp_suites ? 0 : -EINVAL;
}

/* "ipsec-mb,libsrtp", either, or both in any order. */
static int
parse_srtp_engines(char *s, struct bench_opts *o)
{
	char *tok, *save = NULL;

	o->n_srtp_engines = 0;
	for (tok = strtok_r(s, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		uint8_t e;

		if (strcmp(tok, "ipsec-mb") == 0)
			e = MR_CFG_SRTP_IPSEC_MB;
		else if (strcmp(tok, "libsrtp") == 0)
			e = MR_CFG_SRTP_LIBSRTP;
		else
			return -EINVAL;
		if (o->n_srtp_engines == 2 || (o->n_srtp_engines == 1 && o->srtp_engines[0] == e))
			return -EINVAL;
		o->srtp_engines[o->n_srtp_engines++] = e;
	}
	return o->n_srtp_engines ? 0 : -EINVAL;
}

static int
parse_args(int argc, char **argv, struct bench_opts *o)
{
	static const struct option opts[] = {
		{ "legs", required_argument, NULL, 'l' },
		{ "seconds", required_argument, NULL, 's' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "worker-cpu", required_argument, NULL, 'W' },
		{ "other-cpu", required_argument, NULL, 'O' },
		{ "huge", no_argument, NULL, 'H' },
		{ "no-huge", no_argument, NULL, 'N' },
		{ "testpmd", required_argument, NULL, 't' },
		{ "no-testpmd", no_argument, NULL, 'T' },
		{ "churn-legs", required_argument, NULL, 'c' },
		{ "churn-pps", required_argument, NULL, 'p' },
		{ "inflight", required_argument, NULL, 'i' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "srtp", required_argument, NULL, 'S' },
		{ "srtp-suites", required_argument, NULL, 'U' },
		{ "srtp-sizes", required_argument, NULL, 'Z' },
		{ "srtp-legs", required_argument, NULL, 'L' },
		{ "srtp-scale-legs", required_argument, NULL, 'X' },
		{ "srtp-scale-mode", required_argument, NULL, 'Y' },
		{ "srtp-seconds", required_argument, NULL, 'E' },
		{ "srtp-warmup", required_argument, NULL, 'M' },
		{ "srtp-stock-mib", required_argument, NULL, 'K' },
		{ "srtp-engines", required_argument, NULL, 'G' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint32_t v;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			if (parse_legs(optarg, o) < 0)
				return -EINVAL;
			break;
		case 's':
			o->seconds = atof(optarg);
			if (!(o->seconds >= 0.1 && o->seconds <= 600))
				return -EINVAL;
			break;
		case 'w':
			o->warmup_s = atof(optarg);
			if (!(o->warmup_s >= 0 && o->warmup_s <= 600))
				return -EINVAL;
			break;
		case 'W':
		case 'O':
			if (parse_count(optarg, &v) < 0 || v >= 1024)
				return -EINVAL;
			*(c == 'W' ? &o->worker_cpu : &o->other_cpu) = v;
			break;
		case 'H':
			o->mem = BENCH_MEM_HUGE;
			break;
		case 'N':
			o->mem = BENCH_MEM_NOHUGE;
			break;
		case 't':
			o->testpmd = optarg;
			break;
		case 'T':
			o->testpmd = NULL;
			break;
		case 'c':
			if (parse_count(optarg, &o->churn_legs) < 0 ||
			    o->churn_legs > BENCH_MAX_LEGS - BENCH_CHURN_SLOTS - 1u)
				return -EINVAL;
			break;
		case 'p':
			if (parse_count(optarg, &o->churn_pps) < 0)
				return -EINVAL;
			break;
		case 'i':
			if (parse_count(optarg, &o->inflight) < 0 || o->inflight < 64)
				return -EINVAL;
			break;
		case 'r':
			if (parse_count(optarg, &v) < 0 || v == 0 || v > MAX_REPEAT)
				return -EINVAL;
			o->repeat = v;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'S':
			if (parse_srtp_modes(optarg, o) < 0)
				return -EINVAL;
			break;
		case 'U':
			if (parse_srtp_suites(optarg, o) < 0)
				return -EINVAL;
			break;
		case 'Z':
			if (parse_list(optarg, o->srtp_sizes, BENCH_SRTP_MAX_SIZES, BENCH_SRTP_MIN_SIZE,
				       BENCH_SRTP_MAX_SIZE, &o->n_srtp_sizes) < 0)
				return -EINVAL;
			break;
		case 'L':
			if (parse_list(optarg, o->srtp_legs, BENCH_SRTP_MAX_LEG_COUNTS, 1,
				       BENCH_SRTP_MAX_LEGS, &o->n_srtp_legs) < 0)
				return -EINVAL;
			break;
		case 'X':
			if (parse_count(optarg, &o->srtp_scale_legs) < 0 ||
			    o->srtp_scale_legs > BENCH_SRTP_MAX_LEGS)
				return -EINVAL;
			break;
		case 'Y':
			o->srtp_scale_mode = srtp_mode_by_name(optarg);
			if (o->srtp_scale_mode == BENCH_SRTP_MODES)
				return -EINVAL;
			break;
		case 'E':
			o->srtp_seconds = atof(optarg);
			if (!(o->srtp_seconds >= 0.1 && o->srtp_seconds <= 600))
				return -EINVAL;
			break;
		case 'M':
			o->srtp_warmup_s = atof(optarg);
			if (!(o->srtp_warmup_s >= 0 && o->srtp_warmup_s <= 600))
				return -EINVAL;
			break;
		case 'K':
			if (parse_count(optarg, &o->srtp_stock_mib) < 0 || o->srtp_stock_mib < 16 ||
			    o->srtp_stock_mib > 65536)
				return -EINVAL;
			break;
		case 'G':
			if (parse_srtp_engines(optarg, o) < 0)
				return -EINVAL;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -EINVAL;
		}
	}
	return optind == argc ? 0 : -EINVAL;
}

/* --- main -------------------------------------------------------------------- */

struct results {
	struct tp_result io[MAX_REPEAT], ms[MAX_REPEAT];
	struct relay_result relay[BENCH_MAX_LEG_COUNTS][MAX_REPEAT];
	struct churn_result churn[MAX_REPEAT];
	struct srtp_ref ref;
	unsigned int n_cases;
	struct bench_srtp_case cases[SRTP_MAX_CASES];
	unsigned int case_size[SRTP_MAX_CASES];         /* index into srtp_sizes */
	unsigned int case_runs[SRTP_MAX_CASES];         /* runs made (median of) */
	struct relay_result srtp[SRTP_MAX_CASES][MAX_REPEAT];
	struct stock_result stock[SRTP_MAX_CASES];      /* the stock the case used */
};

static void
progress_relay(const struct relay_result *r)
{
	char b[32];

	if (r->status != 0) {
		printf("  run: mrelay %s legs: failed (%s)\n", grouped(r->legs, b, sizeof(b)),
		       strerror(-r->status));
		return;
	}
	printf("  run: mrelay %s leg%s: %.2f Mpps wall, %.2f per worker CPU-s, %.2f per busy "
	       "CPU-s (worker CPU %.2f s of %.2f s, waited %.2f s, %.2f s in %" PRIu64
	       " empty polls of %.0f ns, %.1f packets per busy poll; generator CPU %.2f s), %"
	       PRIu64 " drops%s%s\n",
	       grouped(r->legs, b, sizeof(b)), r->legs == 1 ? "" : "s",
	       rate(r->tx, r->wall_s) / 1e6, relay_cpu_rate(r) / 1e6, relay_busy_rate(r) / 1e6, r->cpu_s, r->wall_s, r->wait_s,
	       r->cpu_s - relay_busy_s(r), r->idle_loops, r->idle_poll_ns,
	       r->loops > r->idle_loops ? (double)r->rx / (double)(r->loops - r->idle_loops) : 0.0,
	       r->gen_cpu_s,
	       r->drops,
	       r->drops ? " mostly " : "", r->drops ? mr_drop_name(r->top_drop) : "");
	if (r->latched != 0 || r->notes_dropped != 0 || r->handoff != 0)
		printf("       worker in the window: %" PRIu64 " latch decisions, %" PRIu64
		       " notes dropped, %" PRIu64 " hand-offs (all expected 0)\n",
		       r->latched, r->notes_dropped, r->handoff);
}

static void
progress_tp(const char *mode, const struct tp_result *r)
{
	if (r->status != 0) {
		printf("  run: testpmd %s: failed (%s)\n", mode, strerror(-r->status));
		return;
	}
	printf("  run: testpmd %s: %.2f Mpps wall, %.2f Mpps per forwarding-lcore CPU-s "
	       "(CPU %.2f s of %.2f s, waited %.2f s)\n", mode, rate(r->pkts, r->wall_s) / 1e6,
	       tp_cpu_rate(r) / 1e6, r->cpu_s, r->wall_s, r->wait_s);
}

static void
progress_churn(const struct churn_result *r)
{
	unsigned int i;

	if (r->status != 0) {
		printf("  run: installs while forwarding: failed (%s)\n", strerror(-r->status));
		return;
	}
	for (i = 0; i < BENCH_CHURN_PHASES; i++) {
		const struct churn_phase *p = &r->phase[i];

		printf("  run: installs, %s: %.0f/s wall, %.0f per mgmt CPU-s\n", p->name,
		       rate(p->installs, p->wall_s), rate(p->installs, p->mgmt_cpu_s));
	}
}

/* --- SRTP cases ------------------------------------------------------------ */

const char *
bench_engine_name(uint8_t engine)
{
	return engine == MR_CFG_SRTP_LIBSRTP ? "libsrtp" : "ipsec-mb";
}

static const char *
suite_name(uint8_t suite)
{
	const struct mr_srtp_suite_info *si = mr_srtp_suite(suite);

	return si != NULL ? si->name : "?";
}

/* libsrtp contexts a leg of the case holds in the relay (one SSRC per leg). */
static unsigned int
contexts_per_leg(uint8_t mode)
{
	return mode == BENCH_SRTP_PASS || mode == BENCH_SRTP_REKEY ? 2u : 1u;
}

/* CPU ns of libsrtp alone for what the case does to a packet; 0 if unknown. */
static double
crypto_ns(const struct srtp_ref *ref, const struct bench_srtp_case *c, unsigned int zi)
{
	double p = ref->protect_ns[c->suite][zi], u = ref->unprotect_ns[c->suite][zi];

	if (ref->status != 0)
		return 0;
	switch (c->mode) {
	case BENCH_SRTP_PASS:           /* verify: unprotect in scratch */
	case BENCH_SRTP_SRTP2RTP:
		return u;
	case BENCH_SRTP_REKEY:
		return u + p;
	case BENCH_SRTP_RTP2SRTP:
		return p;
	}
	return 0;
}

/*
 * CPU ns of the crypto limit (raw intel-ipsec-mb, the engine's calls) for
 * what the case does to a packet; 0 if not measured.
 */
static double
limit_ns(const struct srtp_ref *ref, const struct bench_srtp_case *c, unsigned int zi)
{
	const double *l = ref->limit_ns[c->suite][zi];      /* protect, unprotect, verify */

	if (ref->status != 0 || l[0] <= 0 || l[1] <= 0 || l[2] <= 0)
		return 0;
	switch (c->mode) {
	case BENCH_SRTP_PASS:
		return l[2];
	case BENCH_SRTP_SRTP2RTP:
		return l[1];
	case BENCH_SRTP_REKEY:
		return l[1] + l[0];
	case BENCH_SRTP_RTP2SRTP:
		return l[0];
	}
	return 0;
}

/* The ns/pkt of a relay at @busy packets per busy CPU-s over @ref_ns, or "-". */
static void
print_over(double busy, double ref_ns)
{
	if (busy > 0 && ref_ns > 0)
		printf(" %8.2f", 1e9 / busy / ref_ns);
	else
		printf(" %8s", "-");
}

static void
case_label(const struct bench_srtp_case *c, char *buf, size_t len)
{
	char b[32];

	snprintf(buf, len, "%s, %u B, %s leg%s, %s", bench_srtp_mode_name(c->mode), c->size,
		 grouped(c->legs, b, sizeof(b)), c->legs == 1 ? "" : "s",
		 bench_engine_name(c->engine));
}

static void
print_drops(const struct relay_result *r)
{
	unsigned int d;

	for (d = 0; d < MR_DROP_MAX; d++)
		if (r->drop_by[d] != 0)
			printf(" %s %" PRIu64, mr_drop_name(d), r->drop_by[d]);
}

static void
progress_srtp(const struct bench_srtp_case *c, const struct relay_result *r)
{
	char label[96];

	case_label(c, label, sizeof(label));
	if (r->status != 0) {
		printf("  run: SRTP %s %s: failed (%s)\n", suite_name(c->suite), label,
		       strerror(-r->status));
		return;
	}
	printf("  run: SRTP %s %s: %.1f kpps wall, %.1f per worker CPU-s, %.1f per busy CPU-s "
	       "(%.0f ns/pkt; worker CPU %.2f s of %.2f s, waited %.2f s, %.1f%% empty polls, "
	       "%.1f packets per busy poll; generator CPU %.2f s); contexts ready after %.1f s; window drops %" PRIu64 "%s",
	       suite_name(c->suite), label, rate(r->tx, r->wall_s) / 1e3, relay_cpu_rate(r) / 1e3,
	       relay_busy_rate(r) / 1e3,
	       relay_busy_rate(r) > 0 ? 1e9 / relay_busy_rate(r) : 0, r->cpu_s, r->wall_s, r->wait_s,
	       r->cpu_s > 0 ? (1.0 - relay_busy_s(r) / r->cpu_s) * 100 : 0,
	       r->loops > r->idle_loops ? (double)r->rx / (double)(r->loops - r->idle_loops) : 0.0,
	       r->gen_cpu_s, r->ctx_s, r->drops, r->drops ? ":" : "");
	print_drops(r);
	printf(" (management %" PRIu64 ", warm-up %" PRIu64 "); checked %u/%u%s\n", r->mgmt_drops,
	       r->warm_drops, r->checked - r->check_bad, r->checked,
	       r->window_cut ? "; window cut: stock ran out" : "");
}

static void
report_srtp(const struct bench_opts *o, const struct results *res)
{
	const struct srtp_ref *ref = &res->ref;
	double v[MAX_REPEAT] = { 0 };
	unsigned int i, k, z, s, n;
	char label[96], b1[32], b2[32];
	bool set_up = false;

	printf("\n== SRTP relay, one worker: packets relayed per second ==\n");
	if (ref->status != 0) {
		printf("  libsrtp alone: failed (%s); no ratios\n", strerror(-ref->status));
	} else {
		printf("  %s alone: srtp_protect / srtp_unprotect, one session each way, no dataplane,\n"
		       "  on CPU %u; CPU ns per call (median of nine rounds; the lower of a\n"
		       "  measurement before and one after the SRTP runs)\n", ref->version, o->worker_cpu);
		for (s = 0; s < o->n_srtp_suites; s++)
			for (z = 0; z < o->n_srtp_sizes; z++) {
				uint8_t suite = o->srtp_suites[s];

				printf("    %-24s %5u B  protect %6.0f  unprotect %6.0f  (%s calls each)\n",
				       z == 0 ? suite_name(suite) : "", o->srtp_sizes[z],
				       ref->protect_ns[suite][z], ref->unprotect_ns[suite][z],
				       grouped(ref->calls[suite][z], b1, sizeof(b1)));
			}
		printf("  The crypto limit: intel-ipsec-mb alone doing the same cipher and\n"
		       "  authentication work through the burst engine's calls (AES-CTR and\n"
		       "  HMAC-SHA1 bursts of 32, AES-GCM direct), one context, nothing else; CPU ns\n"
		       "  per op (median of nine rounds; the lower of before and after)\n");
		for (s = 0; s < o->n_srtp_suites; s++)
			for (z = 0; z < o->n_srtp_sizes; z++) {
				uint8_t suite = o->srtp_suites[s];
				const double *l = ref->limit_ns[suite][z];

				printf("    %-24s %5u B  protect %6.0f  unprotect %6.0f  verify %6.0f\n",
				       z == 0 ? suite_name(suite) : "", o->srtp_sizes[z], l[0], l[1], l[2]);
			}
	}
	printf("  %-24s %9s %9s %11s %6s %6s %9s %8s %7s %8s %7s %6s %6s %6s\n", "", "kpps per",
	       "kpps per", "ns/pkt", "CPU", "empty", "libsrtp", "ratio", "crypto", "ratio",
	       "window", "srtp-", "srtp-", "other");
	printf("  %-24s %9s %9s %11s %6s %6s %9s %8s %7s %8s %7s %6s %6s %6s\n", "", "wall s",
	       "CPU-s", "(busy)", "share", "polls", "alone", "relay /", "limit", "relay /", "s",
	       "auth", "replay", "drops");
	printf("  %-24s %9s %9s %11s %6s %6s %9s %8s %7s %8s %7s %6s %6s %6s\n", "", "", "", "",
	       "", "", "ns/pkt", "libsrtp", "ns/pkt", "limit", "", "", "", "");
	for (i = 0; i < res->n_cases; i++) {
		const struct bench_srtp_case *c = &res->cases[i];
		const struct relay_result *r;
		double busy, crypto;

		n = res->case_runs[i];
		if (i == 0 || c->suite != res->cases[i - 1].suite ||
		    c->legs != res->cases[i - 1].legs ||
		    n != res->case_runs[i - 1])
			printf("  %s, %s leg%s (%s)\n", suite_name(c->suite),
			       grouped(c->legs, b1, sizeof(b1)), c->legs == 1 ? "" : "s",
			       n == 1 ? "one run" : "median of the runs");
		for (k = 0; k < n; k++)
			v[k] = relay_busy_rate(&res->srtp[i][k]);
		r = &res->srtp[i][median_of(v, n)];
		snprintf(label, sizeof(label), "  %s, %u B, %s", bench_srtp_mode_name(c->mode), c->size,
			 c->engine == MR_CFG_SRTP_LIBSRTP ? "lib" : "mb");
		if (r->status != 0) {
			printf("  %-24s failed (%s)\n", label, strerror(-r->status));
			continue;
		}
		busy = relay_busy_rate(r);
		crypto = crypto_ns(ref, c, res->case_size[i]);
		printf("  %-24s %9.1f %9.1f %11s %5.1f%% %5.1f%% %9s", label,
		       rate(r->tx, r->wall_s) / 1e3, relay_cpu_rate(r) / 1e3,
		       grouped(busy > 0 ? (uint64_t)(1e9 / busy + 0.5) : 0, b1, sizeof(b1)),
		       r->wall_s > 0 ? r->cpu_s / r->wall_s * 100 : 0,
		       r->cpu_s > 0 ? (1.0 - relay_busy_s(r) / r->cpu_s) * 100 : 0,
		       grouped((uint64_t)(crypto + 0.5), b2, sizeof(b2)));
		print_over(busy, crypto);
		crypto = limit_ns(ref, c, res->case_size[i]);
		printf(" %7.0f", crypto);
		print_over(busy, crypto);
		printf(" %6.2f%s %6" PRIu64 " %6" PRIu64 " %6" PRIu64 "\n", r->wall_s,
		       r->window_cut ? "*" : " ", r->drop_by[MR_DROP_SRTP_AUTH],
		       r->drop_by[MR_DROP_SRTP_REPLAY],
		       r->drops - r->drop_by[MR_DROP_SRTP_AUTH] - r->drop_by[MR_DROP_SRTP_REPLAY]);
		if (r->checked != BENCH_SRTP_CHECKS || r->check_bad != 0)
			printf("  %-24s   relayed packets checked: %u, wrong: %u\n", "", r->checked,
			       r->check_bad);
	}
	printf("  Sizes: RTP packets before protection, header included (the SRTP packet adds\n"
	       "  the tag: 10 bytes for _80, 4 for _32, 16 for GCM). Every direction of a row does\n"
	       "  the same to each packet: pass-through verifies in scratch and forwards the bytes;\n"
	       "  re-key unprotects and protects again; RTP -> SRTP protects; SRTP -> RTP\n"
	       "  unprotects. ns/pkt: worker CPU per relayed packet, empty polls left out.\n"
	       "  libsrtp alone: the calls the row makes per packet, from the table above (re-key:\n"
	       "  unprotect + protect); ratio: ns/pkt over that. Crypto limit: the same for raw\n"
	       "  intel-ipsec-mb (pass-through: verify), and ns/pkt over it. Drops: the worker's in the\n"
	       "  window, by reason (expected 0). window s: * = the pre-protected packets ran out\n"
	       "  first (shorter window, still valid). After each window 32 relayed packets are\n"
	       "  decrypted as the egress leg's peer would; only failures are shown.\n");

	for (i = 0; i < res->n_cases; i++) {
		const struct bench_srtp_case *c = &res->cases[i];
		const struct relay_result *r;
		uint64_t ctx = (uint64_t)c->legs * contexts_per_leg(c->mode);
		struct srtp_ref here = { 0 };
		double busy, lib, fresh;

		n = res->case_runs[i];
		for (k = 0; k < n; k++)
			v[k] = relay_busy_rate(&res->srtp[i][k]);
		r = &res->srtp[i][median_of(v, n)];
		if (r->status != 0 || c->legs < BENCH_SRTP_INPROC_LEGS)
			continue;
		if (!set_up) {
			printf("\n== SRTP with many legs: where the time goes ==\n"
			       "  set-up: the first packet of a leg's SSRC goes to the management lcore,\n"
			       "  which makes its SRTP contexts (on the row's engine); ready: until every\n"
			       "  leg had accepted a packet; per s: contexts made per second. Then, after\n"
			       "  the window, libsrtp alone once more, in the relay's process with all\n"
			       "  its contexts alive, on the worker's CPU.\n");
			printf("  %-24s %8s %8s %7s %11s %11s %8s %9s %8s\n", "", "contexts", "ready",
			       "per s", "relay", "libsrtp in", "relay /", "libsrtp,", "grown");
			printf("  %-24s %8s %8s %7s %11s %11s %8s %9s %8s\n", "", "alive", "after s",
			       "", "ns/pkt", "the relay's", "libsrtp", "1 session", "by");
			printf("  %-24s %8s %8s %7s %11s %11s %8s %9s %8s\n", "", "", "", "", "",
			       "process", "", "", "");
		}
		if (!set_up || c->suite != res->cases[i - 1].suite ||
		    c->legs != res->cases[i - 1].legs)
			printf("  %s, %s legs\n", suite_name(c->suite), grouped(c->legs, b1, sizeof(b1)));
		set_up = true;
		busy = relay_busy_rate(r);
		here.protect_ns[c->suite][res->case_size[i]] = r->lib_protect_ns;
		here.unprotect_ns[c->suite][res->case_size[i]] = r->lib_unprotect_ns;
		lib = r->lib_protect_ns > 0 ? crypto_ns(&here, c, res->case_size[i]) : 0;
		fresh = crypto_ns(ref, c, res->case_size[i]);
		snprintf(label, sizeof(label), "  %s, %u B", bench_srtp_mode_name(c->mode), c->size);
		printf("  %-24s %8s %8.1f", label, grouped(ctx, b1, sizeof(b1)), r->ctx_s);
		printf(" %7s", grouped((uint64_t)rate(ctx, r->ctx_s), b1, sizeof(b1)));
		printf(" %11s", grouped(busy > 0 ? (uint64_t)(1e9 / busy + 0.5) : 0, b2, sizeof(b2)));
		printf(" %11s", grouped((uint64_t)(lib + 0.5), b1, sizeof(b1)));
		print_over(busy, lib);
		printf(" %9s", grouped((uint64_t)(fresh + 0.5), b1, sizeof(b1)));
		if (lib > 0 && fresh > 0)
			printf(" %7.1fx\n", lib / fresh);
		else
			printf(" %8s\n", "-");
	}
	if (set_up)
		printf("  libsrtp on NSS (Debian's build) keeps each context's keys as PKCS#11 objects\n"
		       "  in a hash table of few buckets and makes new objects on every call: each\n"
		       "  call, and each context made, costs time in proportion to the contexts alive.\n");
}

/* The plain-relay table and the install times. */
static void
report_plain(const struct bench_opts *o, const struct results *res)
{
	double io_cpu = 0, ms_cpu = 0, v[MAX_REPEAT] = { 0 };
	unsigned int i, k, n = o->repeat;
	char b1[32], b2[32], label[64];

	printf("\n== Plain relay, one worker: packets relayed per second ==\n");
	printf("  %-22s %8s %8s %8s %7s %7s %7s %7s %7s\n", "", "Mpps per", "Mpps per",
	       "Mpps per", "ns/pkt", "CPU", "empty", "ratio", "ratio");
	printf("  %-22s %8s %8s %8s %7s %7s %7s %7s %7s\n", "", "wall s", "CPU-s", "busy",
	       "(busy)", "share", "polls", "to io", "to mac-");
	printf("  %-22s %8s %8s %8s %7s %7s %7s %7s %7s\n", "", "", "", "CPU-s", "", "", "", "",
	       "swap");
	if (o->testpmd != NULL) {
		const struct tp_result *io, *ms;

		for (k = 0; k < n; k++)
			v[k] = tp_cpu_rate(&res->io[k]);
		io = &res->io[median_of(v, n)];
		for (k = 0; k < n; k++)
			v[k] = tp_cpu_rate(&res->ms[k]);
		ms = &res->ms[median_of(v, n)];
		io_cpu = tp_cpu_rate(io);
		ms_cpu = tp_cpu_rate(ms);
		for (k = 0; k < 2; k++) {
			const struct tp_result *t = k == 0 ? io : ms;
			const char *name = k == 0 ? "dpdk-testpmd io" : "dpdk-testpmd macswap";
			struct row row = {
				.wall_pps = rate(t->pkts, t->wall_s),
				.cpu_pps = tp_cpu_rate(t),
				.busy_pps = tp_cpu_rate(t),
				.share = t->wall_s > 0 ? t->cpu_s / t->wall_s : 0,
				.empty = -1,
			};

			if (t->status == 0)
				print_row(name, &row, io_cpu, ms_cpu);
			else
				printf("  %-22s failed (%s)\n", name, strerror(-t->status));
		}
	}
	for (i = 0; i < o->n_legs; i++) {
		const struct relay_result *r;
		struct row row;

		for (k = 0; k < n; k++)
			v[k] = relay_busy_rate(&res->relay[i][k]);
		r = &res->relay[i][median_of(v, n)];
		snprintf(label, sizeof(label), "mrelay, %s leg%s", grouped(r->legs, b1, sizeof(b1)),
			 r->legs == 1 ? "" : "s");
		if (r->status != 0) {
			printf("  %-22s failed (%s)\n", label, strerror(-r->status));
			continue;
		}
		row.wall_pps = rate(r->tx, r->wall_s);
		row.cpu_pps = relay_cpu_rate(r);
		row.busy_pps = relay_busy_rate(r);
		row.share = r->wall_s > 0 ? r->cpu_s / r->wall_s : 0;
		row.empty = r->cpu_s > 0 ? 1.0 - relay_busy_s(r) / r->cpu_s : 0;
		print_row(label, &row, io_cpu, ms_cpu);
	}
	printf("  CPU-s: CPU time of the forwarding thread (CLOCK_THREAD_CPUTIME; testpmd's from\n"
	       "  schedstat); CPU share: that / wall time, below 100%% when other load ran on its\n"
	       "  CPU. empty polls: share of the worker's CPU time spent polling an empty ring\n"
	       "  (waiting for the generator), from an empty-poll cost measured after the window;\n"
	       "  busy CPU-s leaves it out. Ratios divide busy-CPU-second rates (testpmd never\n"
	       "  waits: its frames loop on one ring).\n");
	if (o->n_legs == 0)
		return;

	printf("\n== Installing the legs before forwarding starts ==\n"
	       "  control side: region.h writes every slot (the commands overflow the ring,\n"
	       "  so it asks for a resync); dataplane: mr_dp_setup(), whose rescan installs\n"
	       "  every leg (its time includes bringing the port up, ~0.1 s)\n");
	for (i = 0; i < o->n_legs; i++) {
		const struct relay_result *r = &res->relay[i][0];

		if (r->status != 0)
			continue;
		printf("  %10s leg%s: control side %7.3f s", grouped(r->legs, b1, sizeof(b1)),
		       r->legs == 1 ? " " : "s", r->write_s);
		if (r->legs >= 10000)
			printf(" (%s legs/s)", grouped((uint64_t)rate(r->legs, r->write_s), b2,
						       sizeof(b2)));
		printf(", dataplane start-up %7.3f s", r->setup_s);
		if (r->legs >= 10000)
			printf(" (%s legs/s)", grouped((uint64_t)rate(r->legs, r->setup_s), b2,
						       sizeof(b2)));
		printf("\n  %16s memory: region %.0f MiB, DPDK heap in use %.0f MiB\n", "",
		       r->region_mib, r->heap_mib);
	}

}

static void
report_churn(const struct bench_opts *o, const struct results *res)
{
	double v[MAX_REPEAT] = { 0 };
	unsigned int i, k, n = o->repeat;
	const struct churn_result *c;
	char b1[32], b2[32];

	for (k = 0; k < n; k++)
		v[k] = res->churn[k].status == 0 ?
		       rate(res->churn[k].phase[0].installs, res->churn[k].phase[0].wall_s) : 0;
	c = &res->churn[median_of(v, n)];
	printf("\n== Leg installs per second while forwarding ==\n");
	if (c->status != 0) {
		printf("  failed (%s)\n", strerror(-c->status));
		return;
	}
	printf("  %s stable legs relayed at %s pps; churn legs installed and deleted\n"
	       "  through the command ring as fast as it takes them, %u live of %u slots\n",
	       grouped(c->stable_legs, b1, sizeof(b1)), grouped(c->pps, b2, sizeof(b2)),
	       c->churn_live, c->churn_slots);
	printf("  %-14s %11s %11s %11s %10s %8s %9s %7s\n", "", "installs/s", "per mgmt",
	       "commands/s", "mgmt CPU", "relayed", "worker", "ring");
	printf("  %-14s %11s %11s %11s %10s %8s %9s %7s\n", "", "(wall)", "CPU-s", "(wall)",
	       "share", "Mpps", "drops", "resyncs");
	for (i = 0; i < BENCH_CHURN_PHASES; i++) {
		const struct churn_phase *p = &c->phase[i];

		printf("  %-14s %11.0f %11.0f %11.0f %9.1f%% %8.3f %9" PRIu64 " %7" PRIu64
		       "\n", p->name, rate(p->installs, p->wall_s),
		       rate(p->installs, p->mgmt_cpu_s), rate(p->cmds, p->wall_s),
		       p->wall_s > 0 ? p->mgmt_cpu_s / p->wall_s * 100 : 0,
		       rate(p->fwd, p->wall_s) / 1e6, p->drops, p->resyncs);
	}
	printf("  stable legs: %s packets sent, %s came back relayed, %" PRId64 " lost; "
	       "worker drops over the run: %" PRIu64 "%s%s\n",
	       grouped(c->sent, b1, sizeof(b1)), grouped(c->returned, b2, sizeof(b2)),
	       (int64_t)(c->sent - c->returned), c->drops, c->drops ? ", mostly " : "",
	       c->drops ? mr_drop_name(c->top_drop) : "");
	printf("  fresh slots: a slot is reused only after %u other installs; reused slots:\n"
	       "  a deleted leg's slot takes the next leg at once (lowest-free allocation),\n"
	       "  so installs wait for an RCU grace period, one per command batch\n"
	       "  (flow.c quarantine, mgmt.c cmds_poll).\n",
	       c->churn_slots - c->churn_live);
}

/*
 * Records of pre-protected packets for a case: enough for the warm-up and
 * the window at the fastest the worker could go, with a margin, within
 * --srtp-stock-mib. On libsrtp it never beats one libsrtp unprotect per
 * packet; the burst engine relays a packet in no less than BURST_FLOOR_NS
 * (the plain relay alone costs about 120 ns at one leg).
 */
#define BURST_FLOOR_NS 150.0
static uint64_t
stock_records(const struct bench_opts *o, const struct srtp_ref *ref,
	      const struct bench_srtp_case *c, unsigned int zi, uint32_t rec)
{
	uint64_t cap = ((uint64_t)o->srtp_stock_mib << 20) / rec;
	uint64_t fixed = BENCH_STOCK_RESERVE(o->inflight) + (uint64_t)c->legs * 8u;
	double un = ref->status == 0 ? ref->unprotect_ns[c->suite][zi] : 0, need;

	for (unsigned int i = 0; i < o->n_srtp_engines; i++)
		if (o->srtp_engines[i] != MR_CFG_SRTP_LIBSRTP && (un <= 0 || un > BURST_FLOOR_NS))
			un = BURST_FLOOR_NS;
	if (un <= 0)
		return cap;
	need = (o->srtp_warmup_s + o->srtp_seconds + 0.5) * 1e9 / un * 1.25 + (double)fixed;
	return need < (double)cap ? (uint64_t)need : cap;
}

static void
next_tag(char *tag, size_t len, unsigned int *seq)
{
	snprintf(tag, len, "mrbench-%d-%u", (int)getpid(), (*seq)++);
}

/*
 * One leg count, suite and size: one stock (shared by the modes that take
 * SRTP in, and by every run), then @runs runs of each of @modes.
 */
static void
run_srtp_group(const struct bench_opts *o, struct results *res, unsigned int *seq,
	       uint32_t legs, uint8_t suite, unsigned int zi, const uint8_t *modes,
	       unsigned int n_modes, unsigned int runs)
{
	unsigned int first = res->n_cases, mi, k, i;
	struct bench_stock st = { 0 };
	struct stock_result sr = { 0 };
	bool need_stock = false;
	char tag[64], b1[32], b2[32];

	for (mi = 0; mi < n_modes * o->n_srtp_engines && res->n_cases < SRTP_MAX_CASES; mi++) {
		struct bench_srtp_case *c = &res->cases[res->n_cases];
		uint8_t engine = o->srtp_engines[mi % o->n_srtp_engines];

		if (engine == MR_CFG_SRTP_LIBSRTP && legs > BENCH_SRTP_LIBSRTP_MAX_LEGS)
			continue;
		c->mode = modes[mi / o->n_srtp_engines];
		c->engine = engine;
		c->suite = suite;
		c->size = o->srtp_sizes[zi];
		c->legs = legs;
		res->case_size[res->n_cases] = zi;
		res->case_runs[res->n_cases++] = runs;
		need_stock |= c->mode != BENCH_SRTP_RTP2SRTP;
	}
	if (need_stock) {
		const struct bench_srtp_case *c = &res->cases[first];
		struct srtp_arg a = { .c = c, .stock = &st };

		st.len = c->size + bench_srtp_tag_len(c->suite);
		st.rec = (st.len + 63u) & ~63u;
		st.n = stock_records(o, &res->ref, c, zi, st.rec);
		st.map_len = st.n * st.rec;
		st.data = mmap(NULL, st.map_len, PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (st.data == MAP_FAILED) {
			st.data = NULL;
			sr.status = -errno;
		} else {
			next_tag(tag, sizeof(tag), seq);
			in_child(o, stock_child, &a, tag, &sr, sizeof(sr));
		}
		if (sr.status != 0)
			printf("  run: SRTP stock %s %u B: failed (%s)\n", suite_name(c->suite),
			       c->size, strerror(-sr.status));
		else
			printf("  run: SRTP stock %s %u B, %s leg%s: %s packets protected in %.1f s\n",
			       suite_name(c->suite), c->size, grouped(c->legs, b1, sizeof(b1)),
			       c->legs == 1 ? "" : "s", grouped(sr.n, b2, sizeof(b2)), sr.build_s);
	}
	for (k = 0; k < runs && !interrupted; k++)
		for (i = first; i < res->n_cases && !interrupted; i++) {
			const struct bench_srtp_case *c = &res->cases[i];
			struct srtp_arg a = { .c = c, .stock = NULL };

			if (c->mode != BENCH_SRTP_RTP2SRTP) {
				res->stock[i] = sr;
				if (sr.status != 0) {
					res->srtp[i][k].status = sr.status;
					continue;
				}
				a.stock = &st;
			}
			next_tag(tag, sizeof(tag), seq);
			in_child(o, srtp_child, &a, tag, &res->srtp[i][k], sizeof(res->srtp[i][k]));
			res->srtp[i][k].legs = c->legs;
			progress_srtp(c, &res->srtp[i][k]);
		}
	if (st.data != NULL)
		munmap(st.data, st.map_len);
}

/*
 * The libsrtp reference first, then every mode x suite x size x leg count
 * (--repeat runs each), then the scale rows (one per suite, run once).
 */
/*
 * libsrtp alone, in a child of its own: the first time into res->ref, the
 * second time (after the SRTP runs) each figure becomes the lower of the
 * two, so a stretch of other load on the CPU during one does not stay.
 */
static void
run_srtp_ref(const struct bench_opts *o, struct results *res, unsigned int *seq, bool again)
{
	struct srtp_ref r, *dst = again ? &r : &res->ref;
	unsigned int s, z, k;
	char tag[64];

	next_tag(tag, sizeof(tag), seq);
	in_child(o, ref_child, NULL, tag, dst, sizeof(*dst));
	if (dst->status != 0) {
		printf("  run: libsrtp alone: failed (%s)\n", strerror(-dst->status));
		return;
	}
	printf("  run: %s alone: measured on CPU %u%s\n", dst->version, o->worker_cpu,
	       again ? " (again)" : "");
	if (!again || res->ref.status != 0)
		return;
	for (s = 0; s < o->n_srtp_suites; s++)
		for (z = 0; z < o->n_srtp_sizes; z++) {
			uint8_t suite = o->srtp_suites[s];
			double *p = &res->ref.protect_ns[suite][z], *u = &res->ref.unprotect_ns[suite][z];

			*p = r.protect_ns[suite][z] < *p ? r.protect_ns[suite][z] : *p;
			*u = r.unprotect_ns[suite][z] < *u ? r.unprotect_ns[suite][z] : *u;
			res->ref.calls[suite][z] += r.calls[suite][z];
			for (k = 0; k < BENCH_LIMIT_OPS; k++) {
				double *l = &res->ref.limit_ns[suite][z][k], a = r.limit_ns[suite][z][k];

				if (a > 0 && (*l <= 0 || a < *l))
					*l = a;
			}
		}
}

static void
run_srtp(const struct bench_opts *o, struct results *res, unsigned int *seq)
{
	unsigned int li, si, zi;

	run_srtp_ref(o, res, seq, false);
	for (li = 0; li < o->n_srtp_legs && !interrupted; li++)
		for (si = 0; si < o->n_srtp_suites && !interrupted; si++)
			for (zi = 0; zi < o->n_srtp_sizes && !interrupted; zi++)
				run_srtp_group(o, res, seq, o->srtp_legs[li], o->srtp_suites[si], zi,
					       o->srtp_modes, o->n_srtp_modes, o->repeat);
	for (si = 0; o->srtp_scale_legs != 0 && si < o->n_srtp_suites && !interrupted; si++)
		run_srtp_group(o, res, seq, o->srtp_scale_legs, o->srtp_suites[si], 0,
			       &o->srtp_scale_mode, 1, 1);
	if (!interrupted)
		run_srtp_ref(o, res, seq, true);
}

static void
report(const struct bench_opts *o, const struct results *res)
{
	if (o->n_legs != 0 || o->testpmd != NULL)
		report_plain(o, res);
	if (o->churn_legs != 0)
		report_churn(o, res);
	if (o->n_srtp_modes != 0)
		report_srtp(o, res);
}

int
main(int argc, char **argv)
{
	static const uint32_t default_legs[] = { 1, 10000, 1000000 };
	static const uint8_t default_suites[] = {
		MR_SUITE_AES_CM_128_HMAC_SHA1_80, MR_SUITE_AEAD_AES_128_GCM,
	};
	static const uint32_t default_srtp_sizes[] = { 200, 1200 };
	static const uint32_t default_srtp_legs[] = { 1, 100000 };
	struct bench_opts o = {
		.seconds = 3,
		.warmup_s = 1,
		.worker_cpu = 1,
		.other_cpu = 0,
		.testpmd = "/usr/bin/dpdk-testpmd",
		.churn_legs = 10000,
		.inflight = 1023,
		.repeat = 3,
		.srtp_modes = { BENCH_SRTP_PASS, BENCH_SRTP_REKEY, BENCH_SRTP_RTP2SRTP,
				BENCH_SRTP_SRTP2RTP },
		.n_srtp_modes = BENCH_SRTP_MODES,
		.srtp_scale_legs = 0,
		.srtp_scale_mode = BENCH_SRTP_SRTP2RTP,
		.srtp_seconds = 1,
		.srtp_warmup_s = 0.2,
		.srtp_stock_mib = 1024,
		.srtp_engines = { MR_CFG_SRTP_IPSEC_MB, MR_CFG_SRTP_LIBSRTP },
		.n_srtp_engines = 2,
	};
	static struct results res;
	unsigned int i, k, seq = 0;
	const char *mem_text;
	char tag[64];

	memcpy(o.legs, default_legs, sizeof(default_legs));
	o.n_legs = sizeof(default_legs) / sizeof(default_legs[0]);
	memcpy(o.srtp_suites, default_suites, sizeof(default_suites));
	o.n_srtp_suites = sizeof(default_suites) / sizeof(default_suites[0]);
	memcpy(o.srtp_sizes, default_srtp_sizes, sizeof(default_srtp_sizes));
	o.n_srtp_sizes = sizeof(default_srtp_sizes) / sizeof(default_srtp_sizes[0]);
	memcpy(o.srtp_legs, default_srtp_legs, sizeof(default_srtp_legs));
	o.n_srtp_legs = sizeof(default_srtp_legs) / sizeof(default_srtp_legs[0]);
	if (parse_args(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	if (!cpu_usable(o.worker_cpu) || !cpu_usable(o.other_cpu) ||
	    o.worker_cpu == o.other_cpu) {
		fprintf(stderr, "bench_relay: --worker-cpu %u and --other-cpu %u must be two "
			"different CPUs this process may run on\n", o.worker_cpu, o.other_cpu);
		return 2;
	}
	if (o.testpmd != NULL && access(o.testpmd, X_OK) != 0) {
		printf("note: %s: %s; no testpmd reference this run\n", o.testpmd,
		       strerror(errno));
		o.testpmd = NULL;
	}
	mem_text = choose_memory(&o);
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	printf("mrelay benchmarks (tests/bench/bench_relay)\n");
	host_line();
	printf("traffic: plain RTP on PSTN legs (latch \"first\"), IPv4, %u-byte frames "
	       "(%u-byte UDP payload), legs in pairs,\n"
	       "         sent to every leg in turn (stride ~n/phi), %u mbufs circulating\n",
	       BENCH_FRAME_LEN, BENCH_PAYLOAD_LEN, o.inflight);
	printf("device:  net_ring (mrelay: generator lcore -> rx ring -> worker -> tx ring -> "
	       "generator;\n"
	       "         testpmd: one ring looped back, 992 frames)\n");
	printf("CPUs:    forwarding thread alone on CPU %u; management, generator, testpmd's main "
	       "on CPU %u\n", o.worker_cpu, o.other_cpu);
	printf("EAL:     %s; windows of %.1f s after >= %.1f s warm-up; %u run%s per row, median shown\n",
	       mem_text, o.seconds, o.warmup_s, o.repeat, o.repeat == 1 ? "" : "s");
	if (o.n_srtp_modes != 0) {
		char b[32];

		printf("SRTP:    %u mode%s x %u suite%s x %u size%s x %u leg count%s", o.n_srtp_modes,
		       o.n_srtp_modes == 1 ? "" : "s", o.n_srtp_suites, o.n_srtp_suites == 1 ? "" : "s",
		       o.n_srtp_sizes, o.n_srtp_sizes == 1 ? "" : "s", o.n_srtp_legs,
		       o.n_srtp_legs == 1 ? "" : "s");
		if (o.srtp_scale_legs != 0)
			printf(", and per suite %s at %s legs (%u B, once)",
			       bench_srtp_mode_name(o.srtp_scale_mode),
			       grouped(o.srtp_scale_legs, b, sizeof(b)), o.srtp_sizes[0]);
		printf(";\n         windows of %.1f s after every leg has its contexts and %.1f s more;\n"
		       "         input pre-protected with libsrtp before each case\n",
		       o.srtp_seconds, o.srtp_warmup_s);
	}
	printf("\n");

	for (k = 0; k < o.repeat && !interrupted; k++) {
		if (o.testpmd != NULL) {
			snprintf(tag, sizeof(tag), "mrbench-%d-%u", (int)getpid(), seq++);
			bench_testpmd_run(&o, "io", tag, &res.io[k]);
			cleanup(tag);
			progress_tp("io", &res.io[k]);
			snprintf(tag, sizeof(tag), "mrbench-%d-%u", (int)getpid(), seq++);
			if (!interrupted)
				bench_testpmd_run(&o, "macswap", tag, &res.ms[k]);
			cleanup(tag);
			progress_tp("macswap", &res.ms[k]);
		}
		for (i = 0; i < o.n_legs && !interrupted; i++) {
			snprintf(tag, sizeof(tag), "mrbench-%d-%u", (int)getpid(), seq++);
			in_child(&o, relay_child, &o.legs[i], tag, &res.relay[i][k],
				 sizeof(res.relay[i][k]));
			res.relay[i][k].legs = o.legs[i];
			progress_relay(&res.relay[i][k]);
		}
		if (o.churn_legs != 0 && !interrupted) {
			snprintf(tag, sizeof(tag), "mrbench-%d-%u", (int)getpid(), seq++);
			in_child(&o, churn_child, NULL, tag, &res.churn[k], sizeof(res.churn[k]));
			progress_churn(&res.churn[k]);
		}
	}
	if (o.n_srtp_modes != 0 && !interrupted)
		run_srtp(&o, &res, &seq);
	if (interrupted) {
		printf("bench: interrupted\n");
		return 130;
	}
	report(&o, &res);
	return 0;
}
