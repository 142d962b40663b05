/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_ng: NG call set-up against mrelay-cp and, in the same run, against
 * Debian's rtpengine, with the same client and the same SDPs.
 *
 *   latency     one call at a time: offer, answer, delete, over and over.
 *               Set-up latency = offer sent -> answer's reply received
 *               (two NG round trips and the server's work for both);
 *               median and p99, and the calls per second this gives.
 *   throughput  --concurrency calls in flight (one UDP socket each, every
 *               one offer -> answer -> delete in a loop): offer+answer+delete
 *               per second, and per CPU-second of the server process, since
 *               the machines are shared and noisy.
 *
 * Both servers are started by the bench, on their own ports, and stopped
 * after: mrelay-cp with a region, state directory and config in a
 * temporary directory, without mrelay-dp (slots are written to the region
 * as in production; nothing forwards); rtpengine userspace only
 * (--table=-1, in the foreground, no config file), media ports on
 * 127.0.0.1. Both log at notice (no line per request). The offer is SRTP
 * (RTP/SAVP, one a=crypto, one audio m= line, rtcp-mux); the answer SRTP
 * too; "replace" origin and session-connection, "ICE" remove, as a
 * Kamailio route would send them, nothing else (each server's defaults).
 * Towards the callee mrelay-cp offers one a=crypto line with a key of its
 * own (it always decrypts and re-encrypts); rtpengine 10.5 passes the
 * caller's line on as it is and adds seven suites of its own with fresh
 * keys (the answer picks the first, so rtpengine ends up passing SRTP
 * through).
 *
 * Prints figures and the ratio mrelay-cp / rtpengine; never asserts (exit
 * status 0 unless the options are wrong or mrelay-cp cannot start). Without
 * rtpengine (the rtpengine-daemon package) only mrelay-cp is measured.
 *
 * Usage: bench_ng [--mrelay-cp PATH] [--rtpengine PATH | --no-rtpengine]
 *                 [--seconds 4] [--warmup 200] [--concurrency 8] [--repeat 1]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runner.h"

#define MAX_CONC 64u
#define MAX_SAMPLES 2000000u
#define MSG_MAX 65536u
#define REPLY_TIMEOUT_MS 2000
#define MAX_REPEAT 9u

/* The same for both servers (rtpengine-ng-client's defaults, SRTP). */
#define OFFER_SDP \
	"v=0\r\no=- 1545997027 1 IN IP4 198.18.1.10\r\ns=-\r\nc=IN IP4 198.18.1.10\r\nt=0 0\r\n" \
	"m=audio 30000 RTP/SAVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n" \
	"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=sendrecv\r\na=rtcp-mux\r\n" \
	"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\r\n"
#define ANSWER_SDP \
	"v=0\r\no=- 2890844527 1 IN IP4 198.18.0.11\r\ns=-\r\nc=IN IP4 198.18.0.11\r\nt=0 0\r\n" \
	"m=audio 40000 RTP/SAVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n" \
	"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=sendrecv\r\na=rtcp-mux\r\n" \
	"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk\r\n"

struct opts {
	const char *mrelay_cp;
	const char *rtpengine;          /* NULL: not measured */
	double seconds;
	unsigned int warmup;
	unsigned int concurrency;
	unsigned int repeat;
};

struct server {
	const char *name;
	pid_t pid;
	struct sockaddr_in ng;
	char log[320];
};

struct result {
	bool ok;
	uint64_t calls, errors;
	double seconds;
	double cps;                     /* calls (offer+answer+delete) per wall second */
	double cps_cpu;                 /* ... per CPU-second of the server */
	double med_us, p99_us;          /* set-up latency (latency phase) */
	char first_error[200];
};

static char tmpdir[] = "/tmp/mrbench-ng-XXXXXX";
static uint64_t *samples;
static uint32_t cookie_seq;
static uint64_t call_seq;

static void
rm_tmpdir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		printf("bench_ng: could not remove %s\n", tmpdir);
}

/* utime + stime of @pid, all threads, in seconds. */
static double
cpu_s(pid_t pid)
{
	char path[64], buf[2048], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (p == NULL || (p = strrchr(buf, ')')) == NULL)
		return 0;
	/* Fields after the command: state is 3, utime 14, stime 15. */
	for (i = 3; i < 14 && p != NULL; i++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p, " %lu %lu", &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static uint16_t
free_udp_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	uint16_t port = 0;

	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* ---- NG messages ----------------------------------------------------------- */

static size_t
msg_offer(char *buf, size_t cap, const char *cookie, const char *cid)
{
	return (size_t)snprintf(buf, cap,
		"%s d7:command5:offer7:call-id%zu:%s8:from-tag6:from-a3:sdp%zu:%s"
		"7:replacel6:origin18:session-connectione3:ICE6:removee",
		cookie, strlen(cid), cid, strlen(OFFER_SDP), OFFER_SDP);
}

static size_t
msg_answer(char *buf, size_t cap, const char *cookie, const char *cid)
{
	return (size_t)snprintf(buf, cap,
		"%s d7:command6:answer7:call-id%zu:%s8:from-tag6:from-a6:to-tag4:to-b3:sdp%zu:%s"
		"7:replacel6:origin18:session-connectione3:ICE6:removee",
		cookie, strlen(cid), cid, strlen(ANSWER_SDP), ANSWER_SDP);
}

static size_t
msg_delete(char *buf, size_t cap, const char *cookie, const char *cid)
{
	return (size_t)snprintf(buf, cap, "%s d7:command6:delete7:call-id%zu:%s8:from-tag6:from-ae",
				cookie, strlen(cid), cid);
}

/* A reply to @cookie with result ok (or pong); else a reason in @why. */
static bool
reply_ok(const char *r, size_t len, const char *cookie, char *why, size_t whylen)
{
	size_t cl = strlen(cookie);
	const char *p, *end = r + len;

	if (len < cl + 2 || memcmp(r, cookie, cl) != 0 || r[cl] != ' ') {
		snprintf(why, whylen, "reply to another cookie");
		return false;
	}
	if (memmem(r, len, "6:result2:ok", 12) != NULL || memmem(r, len, "6:result4:pong", 14) != NULL)
		return true;
	p = memmem(r, len, "12:error-reason", 15);
	if (p != NULL) {
		unsigned long n = strtoul(p + 15, (char **)&p, 10);

		if (p < end && *p == ':' && n <= (unsigned long)(end - p - 1)) {
			snprintf(why, whylen, "%.*s", (int)(n > 150 ? 150 : n), p + 1);
			return false;
		}
	}
	snprintf(why, whylen, "result not ok");
	return false;
}

/* ---- one call flow on one socket -------------------------------------------------- */

enum { ST_OFFER, ST_ANSWER, ST_DELETE };

struct flow {
	int fd;
	int state;
	char cookie[32];
	char cid[48];
	uint64_t t_offer, t_sent;
};

static int
flow_open(const struct server *s)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&s->ng, sizeof(s->ng)) < 0) {
		close(fd);
		return -errno;
	}
	return fd;
}

/* Send the request of @f's state. */
static int
flow_send(struct flow *f, const char *tag)
{
	static char buf[MSG_MAX];
	size_t n;

	snprintf(f->cookie, sizeof(f->cookie), "%d_%" PRIu32, (int)getpid(), ++cookie_seq);
	if (f->state == ST_OFFER)
		snprintf(f->cid, sizeof(f->cid), "bench-%s-%d-%" PRIu64, tag, (int)getpid(), ++call_seq);
	n = f->state == ST_OFFER ? msg_offer(buf, sizeof(buf), f->cookie, f->cid) :
	    f->state == ST_ANSWER ? msg_answer(buf, sizeof(buf), f->cookie, f->cid) :
	    msg_delete(buf, sizeof(buf), f->cookie, f->cid);
	f->t_sent = bench_now_ns();
	if (f->state == ST_OFFER)
		f->t_offer = f->t_sent;
	return send(f->fd, buf, n, 0) == (ssize_t)n ? 0 : -EIO;
}

/*
 * Read @f's reply; advance. Returns 1 when a call completed (its delete was
 * answered), 0 otherwise; -1 on an error reply (the flow starts a new call).
 * @ret_setup_ns: the call's set-up latency when the answer's reply came.
 */
static int
flow_recv(struct flow *f, struct result *res, uint64_t *ret_setup_ns)
{
	static char buf[MSG_MAX];
	char why[160];
	ssize_t n = recv(f->fd, buf, sizeof(buf), 0);

	if (n <= 0)
		return 0;
	if (!reply_ok(buf, (size_t)n, f->cookie, why, sizeof(why))) {
		if (res->errors++ == 0)
			snprintf(res->first_error, sizeof(res->first_error), "%s: %s",
				 f->state == ST_OFFER ? "offer" : f->state == ST_ANSWER ? "answer" :
				 "delete", why);
		f->state = ST_OFFER;
		return -1;
	}
	if (f->state == ST_ANSWER && ret_setup_ns != NULL)
		*ret_setup_ns = bench_now_ns() - f->t_offer;
	if (f->state == ST_DELETE) {
		f->state = ST_OFFER;
		return 1;
	}
	f->state++;
	return 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * @conc flows for @seconds (after @warmup calls per flow, unmeasured).
 * With @conc == 1, the set-up latencies are kept for median and p99.
 */
static void
run(const struct server *s, unsigned int conc, double seconds, unsigned int warmup,
    struct result *res)
{
	struct flow fl[MAX_CONC];
	struct pollfd pfd[MAX_CONC];
	uint64_t n_samples = 0, t0 = 0, t_end = 0, done_warm = 0;
	double c0 = 0;
	bool measuring = warmup == 0;
	unsigned int i;

	memset(res, 0, sizeof(*res));
	for (i = 0; i < conc; i++) {
		memset(&fl[i], 0, sizeof(fl[i]));
		fl[i].fd = flow_open(s);
		if (fl[i].fd < 0) {
			snprintf(res->first_error, sizeof(res->first_error), "socket: %s",
				 strerror(-fl[i].fd));
			while (i-- > 0)
				close(fl[i].fd);
			return;
		}
		pfd[i] = (struct pollfd){ .fd = fl[i].fd, .events = POLLIN };
	}
	if (measuring) {
		t0 = bench_now_ns();
		t_end = t0 + (uint64_t)(seconds * 1e9);
		c0 = cpu_s(s->pid);
	}
	for (i = 0; i < conc; i++)
		(void)flow_send(&fl[i], s->name);
	for (;;) {
		int n = poll(pfd, conc, REPLY_TIMEOUT_MS);
		uint64_t now;

		if (n <= 0) {
			snprintf(res->first_error, sizeof(res->first_error),
				 "no reply within %d ms", REPLY_TIMEOUT_MS);
			res->errors++;
			break;
		}
		for (i = 0; i < conc; i++) {
			uint64_t setup = 0;
			int r;

			if (!(pfd[i].revents & POLLIN))
				continue;
			r = flow_recv(&fl[i], res, &setup);
			if (measuring && setup != 0 && conc == 1 && n_samples < MAX_SAMPLES)
				samples[n_samples++] = setup;
			if (r == 1 && measuring)
				res->calls++;
			if (r == 1 && !measuring && ++done_warm >= (uint64_t)warmup * conc) {
				measuring = true;
				t0 = bench_now_ns();
				t_end = t0 + (uint64_t)(seconds * 1e9);
				c0 = cpu_s(s->pid);
			}
			(void)flow_send(&fl[i], s->name);
		}
		now = bench_now_ns();
		if (measuring && now >= t_end)
			break;
	}
	res->seconds = (double)(bench_now_ns() - t0) / 1e9;
	if (measuring && res->seconds > 0) {
		double cpu = cpu_s(s->pid) - c0;

		res->cps = (double)res->calls / res->seconds;
		res->cps_cpu = cpu > 0 ? (double)res->calls / cpu : 0;
		res->ok = res->calls > 0;
	}
	if (n_samples > 0) {
		qsort(samples, n_samples, sizeof(samples[0]), cmp_u64);
		res->med_us = (double)samples[n_samples / 2] / 1e3;
		res->p99_us = (double)samples[(n_samples * 99) / 100] / 1e3;
	}
	/* Replies still in flight: drain a little so the next run starts clean. */
	for (i = 0; i < conc; i++)
		close(fl[i].fd);
}

/* ---- the servers ---------------------------------------------------------------------- */

static pid_t
spawn(char *const argv[], const char *log)
{
	pid_t pid;

	/* Or the child's freopen() writes our buffered lines a second time. */
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		FILE *f = freopen(log, "w", stdout);

		if (f == NULL || dup2(STDOUT_FILENO, STDERR_FILENO) < 0)
			_exit(126);
		execv(argv[0], argv);
		fprintf(stderr, "bench_ng: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	return pid;
}

/* Ping until pong (or the process died, or 10 s). */
static bool
wait_ready(struct server *s)
{
	uint64_t deadline = bench_now_ns() + 10000000000ull;
	int fd = flow_open(s);
	char buf[256], why[64];

	if (fd < 0)
		return false;
	while (bench_now_ns() < deadline) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int status;

		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			s->pid = 0;
			break;
		}
		if (send(fd, "ping_1 d7:command4:pinge", 24, 0) == 24 && poll(&p, 1, 100) == 1) {
			ssize_t n = recv(fd, buf, sizeof(buf), 0);

			if (n > 0 && reply_ok(buf, (size_t)n, "ping_1", why, sizeof(why))) {
				close(fd);
				return true;
			}
		}
	}
	close(fd);
	return false;
}

static void
stop(struct server *s)
{
	int status;

	if (s->pid <= 0)
		return;
	kill(s->pid, SIGTERM);
	for (int i = 0; i < 100; i++) {
		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			s->pid = 0;
			return;
		}
		usleep(50000);
	}
	kill(s->pid, SIGKILL);
	waitpid(s->pid, &status, 0);
	s->pid = 0;
}

static bool
start_mrelay(const struct opts *o, struct server *s)
{
	char cfg[320], state[320], arg_cfg[340];
	char *argv[] = { (char *)o->mrelay_cp, "--config", arg_cfg, NULL };
	uint16_t port = free_udp_port();
	FILE *f;

	memset(s, 0, sizeof(*s));
	s->name = "mrelay-cp";
	snprintf(cfg, sizeof(cfg), "%s/cp.conf", tmpdir);
	snprintf(state, sizeof(state), "%s/state", tmpdir);
	snprintf(s->log, sizeof(s->log), "%s/mrelay-cp.log", tmpdir);
	snprintf(arg_cfg, sizeof(arg_cfg), "%s", cfg);
	if (mkdir(state, 0700) < 0 && errno != EEXIST)
		return false;
	f = fopen(cfg, "w");
	if (f == NULL)
		return false;
	fprintf(f,
		"region = { path = \"%s/region\"; max_legs = 4096; max_workers = 1; };\n"
		"interfaces = ( { name = \"wan\"; addresses = [ \"198.18.0.2\" ]; "
		"port_min = 30000; port_max = 39999; } );\n"
		"admin = { socket = \"%s/cp.sock\"; };\n"
		"state_dir = \"%s\";\n"
		"timeouts = { media_idle_s = 600; offer_s = 600; call_max_s = 3600; };\n"
		"ng = { udp = [ \"127.0.0.1:%u\" ]; };\n"
		"log = { level = \"notice\"; };\n", tmpdir, tmpdir, state, port);
	fclose(f);
	s->ng = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(port),
				      .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	s->pid = spawn(argv, s->log);
	return s->pid > 0 && wait_ready(s);
}

static bool
start_rtpengine(const struct opts *o, struct server *s)
{
	char listen[64];
	uint16_t port = free_udp_port();
	char *argv[] = { (char *)o->rtpengine, "--config-file=none", "--foreground",
			 "--log-stderr", "--table=-1", "--interface=127.0.0.1", listen,
			 "--port-min=50000", "--port-max=53999", "--delete-delay=0",
			 "--timeout=600", "--log-level=5", NULL };

	memset(s, 0, sizeof(*s));
	s->name = "rtpengine";
	snprintf(listen, sizeof(listen), "--listen-ng=127.0.0.1:%u", port);
	snprintf(s->log, sizeof(s->log), "%s/rtpengine.log", tmpdir);
	s->ng = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(port),
				      .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	s->pid = spawn(argv, s->log);
	return s->pid > 0 && wait_ready(s);
}

/* ---- report ---------------------------------------------------------------------------- */

/* Median over repeats of one figure. */
static double
med(const struct result *r, unsigned int n, size_t off)
{
	double v[MAX_REPEAT];
	unsigned int i, k = 0;

	for (i = 0; i < n; i++)
		if (r[i].ok)
			v[k++] = *(const double *)((const char *)&r[i] + off);
	if (k == 0)
		return 0;
	qsort(v, k, sizeof(v[0]), bench_cmp_double);
	return v[k / 2];
}

#define MED(r, n, field) med(r, n, offsetof(struct result, field))

static void
ratio(const char *what, double a, double b, const char *better)
{
	if (a > 0 && b > 0)
		printf("  %-34s %8.2f  (%s)\n", what, a / b, better);
	else
		printf("  %-34s %8s\n", what, "n/a");
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: bench_ng [--mrelay-cp PATH] [--rtpengine PATH | --no-rtpengine]\n"
		   "                [--seconds S] [--warmup CALLS] [--concurrency N] [--repeat N]\n");
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "mrelay-cp", required_argument, NULL, 'm' },
		{ "rtpengine", required_argument, NULL, 'r' },
		{ "no-rtpengine", no_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 's' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "concurrency", required_argument, NULL, 'c' },
		{ "repeat", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .seconds = 4, .warmup = 200, .concurrency = 8, .repeat = 1 };
	struct result lat[2][MAX_REPEAT], thr[2][MAX_REPEAT];
	const char *names[2] = { "mrelay-cp", "rtpengine" };
	bool have[2] = { true, false };
	unsigned int rep, t;
	char cmd[400];
	int c;

	o.mrelay_cp = getenv("MRELAY_CP");
	o.rtpengine = getenv("RTPENGINE") != NULL ? getenv("RTPENGINE") : "/usr/bin/rtpengine";
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'm': o.mrelay_cp = optarg; break;
		case 'r': o.rtpengine = optarg; break;
		case 'n': o.rtpengine = NULL; break;
		case 's': o.seconds = atof(optarg); break;
		case 'w': o.warmup = (unsigned int)atoi(optarg); break;
		case 'c': o.concurrency = (unsigned int)atoi(optarg); break;
		case 'R': o.repeat = (unsigned int)atoi(optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (o.mrelay_cp == NULL || o.seconds <= 0 || o.concurrency == 0 ||
	    o.concurrency > MAX_CONC || o.repeat == 0 || o.repeat > MAX_REPEAT) {
		usage(stderr);
		return 2;
	}
	if (o.rtpengine != NULL && access(o.rtpengine, X_OK) != 0) {
		printf("bench_ng: %s not found (Debian: rtpengine-daemon): mrelay-cp only\n",
		       o.rtpengine);
		o.rtpengine = NULL;
	}
	have[1] = o.rtpengine != NULL;
	samples = malloc(MAX_SAMPLES * sizeof(*samples));
	if (samples == NULL || mkdtemp(tmpdir) == NULL) {
		perror("bench_ng");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	printf("bench_ng: NG offer+answer+delete, SRTP<->SRTP, one audio m= line; %.1f s per "
	       "measurement after %u warm-up calls, %u round%s\n", o.seconds, o.warmup, o.repeat,
	       o.repeat > 1 ? "s (medians)" : "");
	memset(lat, 0, sizeof(lat));
	memset(thr, 0, sizeof(thr));
	/* Servers alternate within a round, so drifts in machine load hit both. */
	for (rep = 0; rep < o.repeat; rep++) {
		for (t = 0; t < 2; t++) {
			struct server s;
			bool up;

			if (!have[t])
				continue;
			up = t == 0 ? start_mrelay(&o, &s) : start_rtpengine(&o, &s);
			if (!up) {
				printf("bench_ng: %s did not start; its log:\n", names[t]);
				snprintf(cmd, sizeof(cmd), "tail -n 20 '%s'", s.log);
				if (system(cmd) != 0)
					printf("(no log)\n");
				stop(&s);
				if (t == 0) {
					rm_tmpdir();
					return 1;
				}
				have[t] = false;
				continue;
			}
			run(&s, 1, o.seconds, o.warmup, &lat[t][rep]);
			run(&s, o.concurrency, o.seconds, o.warmup / o.concurrency + 1, &thr[t][rep]);
			stop(&s);
			for (c = 0; c < 2; c++) {
				const struct result *r = c == 0 ? &lat[t][rep] : &thr[t][rep];

				if (r->errors > 0)
					printf("bench_ng: note: %s: %" PRIu64 " error replies, first: %s\n",
					       names[t], r->errors, r->first_error);
			}
		}
	}
	rm_tmpdir();

	printf("\n%-10s %10s %10s %12s %12s %12s\n", "", "set-up", "set-up", "calls/s", "calls/s",
	       "calls per");
	printf("%-10s %10s %10s %12s %9u in %12s\n", "server", "med (us)", "p99 (us)", "1 at a time",
	       o.concurrency, "CPU-s (conc)");
	for (t = 0; t < 2; t++) {
		if (!have[t])
			continue;
		printf("%-10s %10.0f %10.0f %12.0f %12.0f %12.0f\n", names[t],
		       MED(lat[t], o.repeat, med_us), MED(lat[t], o.repeat, p99_us),
		       MED(lat[t], o.repeat, cps), MED(thr[t], o.repeat, cps),
		       MED(thr[t], o.repeat, cps_cpu));
	}
	if (have[1]) {
		printf("\nmrelay-cp / rtpengine:\n");
		ratio("set-up latency, median", MED(lat[0], o.repeat, med_us),
		      MED(lat[1], o.repeat, med_us), "below 1: mrelay-cp faster");
		ratio("set-up latency, p99", MED(lat[0], o.repeat, p99_us),
		      MED(lat[1], o.repeat, p99_us), "below 1: mrelay-cp faster");
		ratio("calls/s, one at a time", MED(lat[0], o.repeat, cps),
		      MED(lat[1], o.repeat, cps), "above 1: mrelay-cp faster");
		ratio("calls/s, concurrent", MED(thr[0], o.repeat, cps),
		      MED(thr[1], o.repeat, cps), "above 1: mrelay-cp faster");
		ratio("calls per CPU-second, concurrent", MED(thr[0], o.repeat, cps_cpu),
		      MED(thr[1], o.repeat, cps_cpu), "above 1: mrelay-cp cheaper");
	}
	free(samples);
	return 0;
}
