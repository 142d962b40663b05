/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The reference: dpdk-testpmd forwarding on a net_ring port in the same run,
 * its forwarding lcore on the CPU mrelay's worker uses. net_ring0 as a vdev
 * is one ring used for both RX and TX (a loopback), and "start tx_first 31"
 * puts 31 bursts of 32 frames (992, about as many as mrelay's generator
 * keeps in flight) into it, which testpmd then forwards forever.
 *
 * testpmd runs interactively with its stdin and stdout on pipes. Each
 * "show port stats 0" reads the port's counters when testpmd executes it,
 * which is when we write it, so the two snapshots are timed here (and the
 * forwarding thread's CPU clock read at the same moments); the text is
 * parsed after testpmd exits, whenever its stdout buffer got flushed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "runner.h"

#define TP_BURSTS "31"
#define TP_START_TIMEOUT_S 30.0
#define TP_EXIT_TIMEOUT_S 30.0

struct outbuf {
	char *p;
	size_t len, cap;
	bool eof;
};

/* Read what @fd has for up to @timeout_s (less at EOF). */
static void
pump(struct outbuf *b, int fd, double timeout_s)
{
	uint64_t deadline = bench_now_ns() + (uint64_t)(timeout_s * 1e9);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	while (!b->eof) {
		uint64_t now = bench_now_ns();
		ssize_t n;

		if (now >= deadline)
			return;
		if (poll(&pfd, 1, (int)((deadline - now) / 1000000u) + 1) <= 0)
			continue;
		if (b->cap - b->len < 4096) {
			size_t cap = b->cap ? b->cap * 2 : 65536;
			char *p = realloc(b->p, cap);

			if (p == NULL)
				return;
			b->p = p;
			b->cap = cap;
		}
		n = read(fd, b->p + b->len, b->cap - b->len - 1);
		if (n > 0) {
			b->len += (size_t)n;
			b->p[b->len] = '\0';
		} else if (n == 0 || errno != EINTR) {
			b->eof = true;
		}
	}
}

static bool
wait_for(struct outbuf *b, int fd, const char *what, double timeout_s)
{
	uint64_t deadline = bench_now_ns() + (uint64_t)(timeout_s * 1e9);

	while (bench_now_ns() < deadline && !b->eof) {
		if (b->p != NULL && strstr(b->p, what) != NULL)
			return true;
		pump(b, fd, 0.05);
	}
	return b->p != NULL && strstr(b->p, what) != NULL;
}

static void
say(int fd, const char *cmd)
{
	size_t len = strlen(cmd);

	if (write(fd, cmd, len) != (ssize_t)len || write(fd, "\n", 1) != 1)
		fprintf(stderr, "bench: testpmd: cannot write \"%s\"\n", cmd);
}

/* The forwarding lcore's thread: EAL names it "rte-worker-1" ("lcore-worker-1" elsewhere). */
static pid_t
find_fwd_thread(pid_t pid)
{
	char path[320], comm[64];
	struct dirent *d;
	pid_t tid = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (dir == NULL)
		return 0;
	while (tid == 0 && (d = readdir(dir)) != NULL) {
		FILE *f;
		size_t n;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/comm", (int)pid, d->d_name);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		n = fread(comm, 1, sizeof(comm) - 1, f);
		fclose(f);
		comm[n] = '\0';
		comm[strcspn(comm, "\n")] = '\0';
		n = strlen(comm);
		if (n >= 8 && strcmp(comm + n - 8, "worker-1") == 0)
			tid = (pid_t)atoi(d->d_name);
	}
	closedir(dir);
	return tid;
}

/* The RX-packets of the first two "show port stats" blocks (the lines with RX-missed). */
static int
parse_stats(const char *out, uint64_t *ret_a, uint64_t *ret_b)
{
	uint64_t v[2];
	const char *line = out;
	int n = 0;

	while (n < 2 && line != NULL && *line != '\0') {
		const char *end = strchr(line, '\n');
		const char *rx = strstr(line, "RX-packets:");
		const char *miss = strstr(line, "RX-missed");

		if (rx != NULL && miss != NULL && (end == NULL || (miss < end && rx < end)))
			v[n++] = strtoull(rx + strlen("RX-packets:"), NULL, 10);
		line = end != NULL ? end + 1 : NULL;
	}
	if (n < 2)
		return -ENOMSG;
	*ret_a = v[0];
	*ret_b = v[1];
	return 0;
}

static pid_t
spawn(const struct bench_opts *o, const char *mode, const char *tag, int *ret_in, int *ret_out)
{
	char lcores[64], prefix[128], fwd[64];
	char *argv[24];
	int in[2], out[2], argc = 0;
	pid_t pid;

	snprintf(lcores, sizeof(lcores), "0@%u,1@%u", o->other_cpu, o->worker_cpu);
	snprintf(prefix, sizeof(prefix), "--file-prefix=%s", tag);
	snprintf(fwd, sizeof(fwd), "--forward-mode=%s", mode);
	argv[argc++] = (char *)o->testpmd;
	argc += (int)bench_eal_args(o, argv + argc, "512", prefix, lcores);
	argv[argc++] = "--vdev=net_ring0";
	argv[argc++] = "--log-level=*:error";
	argv[argc++] = "--";
	argv[argc++] = "-i";
	argv[argc++] = fwd;
	argv[argc++] = "--txpkts=242";          /* BENCH_FRAME_LEN */
	argv[argc++] = "--total-num-mbufs=8192";
	argv[argc] = NULL;

	if (pipe2(in, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return -errno;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		dup2(out[1], STDERR_FILENO);
		execv(o->testpmd, argv);
		fprintf(stderr, "cannot run %s: %s\n", o->testpmd, strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	if (pid < 0) {
		close(in[1]);
		close(out[0]);
		return -errno;
	}
	*ret_in = in[1];
	*ret_out = out[0];
	return pid;
}

int
bench_testpmd_run(const struct bench_opts *o, const char *mode, const char *tag,
		  struct tp_result *ret)
{
	struct cpu_sample s0 = { 0 }, s1 = { 0 };
	struct outbuf b = { 0 };
	uint64_t t0, t1, p0 = 0, p1 = 0;
	int in = -1, out = -1, status = 0, err = 0;
	pid_t pid, tid;

	memset(ret, 0, sizeof(*ret));
	pid = spawn(o, mode, tag, &in, &out);
	if (pid < 0)
		return (int)pid;
	bench_child = pid;
	if (!wait_for(&b, out, "testpmd> ", TP_START_TIMEOUT_S)) {
		err = -ETIMEDOUT;
		goto out_kill;
	}
	tid = find_fwd_thread(pid);
	say(in, "start tx_first " TP_BURSTS);
	pump(&b, out, o->warmup_s);
	say(in, "show port stats 0");
	t0 = bench_now_ns();
	if (tid > 0)
		bench_schedstat(pid, tid, &s0);
	pump(&b, out, o->seconds);
	say(in, "show port stats 0");
	t1 = bench_now_ns();
	if (tid > 0)
		bench_schedstat(pid, tid, &s1);
	say(in, "stop");
	say(in, "quit");
	close(in);
	in = -1;
	pump(&b, out, TP_EXIT_TIMEOUT_S);
	if (!b.eof) {
		err = -ETIMEDOUT;
		goto out_kill;
	}
	waitpid(pid, &status, 0);
	bench_child = 0;
	err = b.p != NULL ? parse_stats(b.p, &p0, &p1) : -ENOMSG;
	if (err == 0) {
		ret->wall_s = (double)(t1 - t0) / 1e9;
		ret->cpu_s = (double)(s1.cpu_ns - s0.cpu_ns) / 1e9;
		ret->wait_s = (double)(s1.wait_ns - s0.wait_ns) / 1e9;
		ret->pkts = p1 - p0;
	}
	goto out;
out_kill:
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	bench_child = 0;
out:
	if (err < 0 || o->verbose)
		fprintf(stderr, "bench: testpmd %s output:\n%s\n", mode, b.p != NULL ? b.p : "");
	if (in >= 0)
		close(in);
	close(out);
	free(b.p);
	ret->status = err;
	return err;
}
