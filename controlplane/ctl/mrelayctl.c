/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mrelayctl: inspect and change the shared-memory region while there is no
 * control plane (and, later, beside it). Every write runs under the region's
 * writer lock. This file holds the entry point, the helpers the command files
 * share, and the region, events and sync commands; legs are in leg_cmd.c and
 * counters in stats_cmd.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"

/* How often `events` looks at the event ring while it waits. */
#define EVENTS_POLL_MS 10u
#define SYNC_DEFAULT_TIMEOUT_MS 2000u

void
mr_ctl_err(const char *fmt, ...)
{
	va_list ap;

	fputs("mrelayctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
mr_ctl_usage(FILE *f)
{
	fprintf(f,
"Usage: mrelayctl [-r REGION] [-s SOCKET] [--force] COMMAND ...\n"
"Inspect and change the shared-memory region between the control side and\n"
"mrelay-dp (default region: " MR_SHM_DEFAULT_PATH "), and talk to mrelay-cp\n"
"over its admin socket (default: " MR_CTL_ADMIN_DEFAULT ").\n"
"\n"
"Through mrelay-cp (the normal way once it runs):\n"
"  calls [--json]             calls, their legs and counters\n"
"  call add CALL-ID FROM-TAG TO-TAG [iface=NAME] [peer-a=ADDR] [peer-b=ADDR] [rtcp-mux]\n"
"                             plain RTP: on an interface marked pstn (default: the first)\n"
"  call del CALL-ID\n"
"  call show CALL-ID [--json]\n"
"  call mute CALL-ID TAG on|off\n"
"  cp status [json] | cp ping | cp reload\n"
"\n"
"SIP accounts and call records (on their files; where from: mrelay-cp's\n"
"configuration, --cp-config PATH (default /etc/mrelay/mrelay-cp.conf), or\n"
"--accounts PATH --domain DOMAIN / --cdr PATH):\n"
"  account add NAME --password-file FILE|-\n"
"  account passwd NAME --password-file FILE|-\n"
"  account list [--json]\n"
"  account revoke NAME         also ends its registrations and calls in mrelay-cp\n"
"  cdr [--since YYYY-MM-DD[THH:MM:SSZ]] [--json]\n"
"\n"
"Direct on the region (lab and diagnostics; the writing ones refuse while a\n"
"live mrelay-cp owns the region, unless --force):\n"
"  region create [--max-legs N] [--max-workers W]\n"
"  region info [--json]\n"
"  leg add --local IP:PORT [--rtcp-port P | --rtcp-mux] [LEG OPTIONS] [--slot N]\n"
"  leg set SLOT [LEG OPTIONS]\n"
"  leg pair A B\n"
"  leg del SLOT\n"
"  leg list [--json]\n"
"  stats [--json] [SLOT]\n"
"  events [--json] [--count N] [--timeout-ms N]\n"
"  sync [--timeout-ms N]\n"
"  batch                      commands from standard input, one per line\n"
"\n"
"Leg options (IPv6 addresses are written [addr]:port):\n"
"  --local IP:PORT           relay address and RTP port\n"
"  --rtcp-port P             relay RTCP port (default: RTP port + 1)\n"
"  --rtcp-mux                RTCP shares the RTP port\n"
"  --peer IP:PORT|none       peer's signaled RTP address (a hint)\n"
"  --peer-rtcp IP:PORT|none  peer's signaled RTCP address (a hint)\n"
"  --egress SLOT|none        active leg that receives this leg's media\n"
"  --latch first|strict|auth latch policy (default: first)\n"
"  --muted, --no-muted       do not / do forward this leg's media\n"
"  --pstn, --no-pstn         operator-marked PSTN trunk: plain RTP allowed\n"
"  --latch-window-ms N       re-latch window after creation (0: dataplane default)\n"
"  --relatch-idle-ms N       silence before another source may latch (0: default)\n"
"  --idle-timeout-ms N       idle event after N ms without media (0: default)\n"
"  --dscp N                  DSCP 0..63 for packets sent to the peer\n"
"  --call-tag N              control-side call id (joins logs and events)\n"
"  --in-key [GEN:]SUITE:BASE64[:MKI:MKILEN]\n"
"                            SRTP key of generation GEN (0 or 1, default 0) for\n"
"                            what the peer sends; BASE64 is the SDES inline\n"
"                            key||salt, MKI:MKILEN its MKI (decimal, 1..8 bytes)\n"
"  --out-key [GEN:]SUITE:BASE64[:MKI:MKILEN]\n"
"                            the same for what the relay sends the peer\n"
"  --no-in-key GEN, --no-out-key GEN\n"
"                            wipe that generation's key\n"
"  --out-active GEN          outbound generation in use (default 0)\n"
"  --ice UFRAG:PWD, --no-ice the relay's ICE-lite credentials: the dataplane\n"
"                            answers STUN connectivity checks (RFC 8445 lite)\n"
"\n"
"Suites: AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32, AES_256_CM_HMAC_SHA1_80,\n"
"AES_256_CM_HMAC_SHA1_32, AEAD_AES_128_GCM, AEAD_AES_256_GCM. Encryption is\n"
"mandatory: a leg without both an inbound and an outbound key needs --pstn.\n"
"Keys are never shown. On a command line other users may see them in ps for\n"
"a moment; 'batch' reads them from standard input instead.\n"
"Exit status: 0 done; 1 bad usage or refused request (nothing changed);\n"
"2 region, accounts or CDR file absent or unusable, no dataplane answering,\n"
"or mrelay-cp unreachable.\n");
}

int
mr_ctl_getopt(int argc, char **argv, const struct option *longopts, const char *cmd)
{
	int c;

	opterr = 0;
	c = getopt_long(argc, argv, ":h", longopts, NULL);
	if (c == ':') {
		mr_ctl_err("%s: option '%s' needs a value", cmd, argv[optind - 1]);
		return '?';
	}
	if (c == '?') {
		/* Only the name: a mistyped "--in-kee=SUITE:KEY" must not show
		 * the key. */
		const char *opt = argv[optind - 1];

		mr_ctl_err("%s: unknown option '%.*s'", cmd, (int)strcspn(opt, "="), opt);
		return '?';
	}
	return c;
}

int
mr_ctl_expect_args(const char *cmd, int argc, char **argv, int min, int max, bool hide)
{
	if (argc - optind < min) {
		mr_ctl_err("%s: missing argument (see mrelayctl --help)", cmd);
		return MR_CTL_EXIT_INPUT;
	}
	if (argc - optind > max) {
		if (hide)
			mr_ctl_err("%s: unexpected argument (not shown: the command carries keys)",
				   cmd);
		else
			mr_ctl_err("%s: unexpected argument '%s'", cmd, argv[optind + max]);
		return MR_CTL_EXIT_INPUT;
	}
	return 0;
}

const struct option mr_ctl_json_opts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

const struct option mr_ctl_help_opts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int
mr_ctl_parse_opts(int argc, char **argv, const struct option *longopts, const char *cmd,
		  int min_args, int max_args, struct mr_ctl_opts *o)
{
	int c;

	optind = 0;
	while ((c = mr_ctl_getopt(argc, argv, longopts, cmd)) != -1) {
		switch (c) {
		case 'c':
			if (mr_ctl_parse_u32("--count", optarg, 1, UINT32_MAX, &o->count) < 0)
				return MR_CTL_EXIT_INPUT;
			break;
		case 't':
			if (mr_ctl_parse_u32("--timeout-ms", optarg, 0, UINT32_MAX, &o->timeout_ms) < 0)
				return MR_CTL_EXIT_INPUT;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			o->help = true;
			mr_ctl_usage(stdout);
			return 0;
		default:
			return MR_CTL_EXIT_INPUT;
		}
	}
	return mr_ctl_expect_args(cmd, argc, argv, min_args, max_args, false);
}

int
mr_ctl_parse_u64(const char *what, const char *s, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	/* strtoull() would accept leading blanks and signs ("-1" wraps). */
	if (s[0] < '0' || s[0] > '9')
		goto err;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0')
		goto err;
	if (errno == ERANGE) {
		mr_ctl_err("%s: %s is out of range", what, s);
		return -EINVAL;
	}
	*ret = v;
	return 0;
err:
	mr_ctl_err("%s: '%s' is not a number", what, s);
	return -EINVAL;
}

int
mr_ctl_parse_u32(const char *what, const char *s, uint32_t min, uint32_t max,
		 uint32_t *ret)
{
	uint64_t v;

	if (mr_ctl_parse_u64(what, s, &v) < 0)
		return -EINVAL;
	if (v < min || v > max) {
		mr_ctl_err("%s: %s is out of range %" PRIu32 "..%" PRIu32, what, s, min, max);
		return -EINVAL;
	}
	*ret = (uint32_t)v;
	return 0;
}

int
mr_ctl_parse_addr(const char *what, const char *s, struct mr_sockaddr *ret)
{
	char host[INET6_ADDRSTRLEN + 1];
	struct mr_sockaddr a;
	const char *colon, *port;
	struct in6_addr in6;
	struct in_addr in4;
	uint32_t p;
	size_t len;

	memset(&a, 0, sizeof(a));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':') {
			mr_ctl_err("%s: '%s' is not [IPv6]:port", what, s);
			return -EINVAL;
		}
		len = (size_t)(close - s - 1);
		port = close + 2;
		if (len == 0 || len >= sizeof(host))
			goto err_ip;
		memcpy(host, s + 1, len);
		host[len] = '\0';
		if (inet_pton(AF_INET6, host, &in6) != 1)
			goto err_ip;
		if (IN6_IS_ADDR_V4MAPPED(&in6)) {
			mr_ctl_err("%s: '%s' is IPv4-mapped: write it as IPv4", what, s);
			return -EINVAL;
		}
		memcpy(a.ip, &in6, 16);
		a.family = MR_AF_INET6;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL) {
			mr_ctl_err("%s: '%s' has no port (IP:PORT, or [IPv6]:PORT)", what, s);
			return -EINVAL;
		}
		if (memchr(s, ':', (size_t)(colon - s)) != NULL) {
			mr_ctl_err("%s: IPv6 addresses are written [addr]:port, not '%s'", what, s);
			return -EINVAL;
		}
		len = (size_t)(colon - s);
		port = colon + 1;
		if (len == 0 || len >= sizeof(host))
			goto err_ip;
		memcpy(host, s, len);
		host[len] = '\0';
		if (inet_pton(AF_INET, host, &in4) != 1)
			goto err_ip;
		memcpy(a.ip, &in4, 4);
		a.family = MR_AF_INET;
	}
	if (mr_ctl_parse_u32(what, port, 1, 65535, &p) < 0)
		return -EINVAL;
	a.port_be = htons((uint16_t)p);
	*ret = a;
	return 0;
err_ip:
	mr_ctl_err("%s: '%s' is not an IPv4 or [IPv6] address with port", what, s);
	return -EINVAL;
}

void
mr_ctl_format_ip(const struct mr_sockaddr *a, char *buf, size_t len)
{
	int af = a->family == MR_AF_INET6 ? AF_INET6 : AF_INET;

	if (a->family == MR_AF_NONE || inet_ntop(af, a->ip, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "-");
}

void
mr_ctl_format_addr(const struct mr_sockaddr *a, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (a->family != MR_AF_INET && a->family != MR_AF_INET6) {
		snprintf(buf, len, "-");
		return;
	}
	mr_ctl_format_ip(a, ip, sizeof(ip));
	snprintf(buf, len, a->family == MR_AF_INET6 ? "[%s]:%u" : "%s:%u",
		 ip, (unsigned int)ntohs(a->port_be));
}

void
mr_ctl_json_str(FILE *f, const char *s)
{
	const unsigned char *p;

	if (s == NULL) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

void
mr_ctl_json_addr(FILE *f, const struct mr_sockaddr *a)
{
	char buf[MR_CTL_ADDR_LEN];

	if (a->family != MR_AF_INET && a->family != MR_AF_INET6) {
		fputs("null", f);
		return;
	}
	mr_ctl_format_addr(a, buf, sizeof(buf));
	mr_ctl_json_str(f, buf);
}

/* Read the header of a file that failed mr_shm_check(), to say why. */
static bool
peek_header(const char *path, struct mr_shm_header *ret)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = pread(fd, ret, sizeof(*ret), 0);
	close(fd);
	return n == (ssize_t)sizeof(*ret);
}

int
mr_ctl_region_error(const char *path, int err, bool create)
{
	struct mr_shm_header h;

	switch (err) {
	case -ENOENT:
		if (create)     /* the directory is missing */
			goto other;
		mr_ctl_err("region %s does not exist (create it with 'mrelayctl region create')",
			   path);
		break;
	case -EPROTO:
		if (peek_header(path, &h))
			mr_ctl_err("%s: region ABI version %" PRIu32 ", expected %u",
				   path, h.abi_version, MR_SHM_ABI_VERSION);
		else
			mr_ctl_err("%s: region ABI version differs, expected %u",
				   path, MR_SHM_ABI_VERSION);
		break;
	case -EINVAL:
		if (!peek_header(path, &h) || h.magic != MR_SHM_MAGIC)
			mr_ctl_err("%s is not an mrelay region (bad magic)", path);
		else
			mr_ctl_err("%s: region header is inconsistent (sizes, offsets or rings)",
				   path);
		break;
	case -ENAMETOOLONG:
		mr_ctl_err("region path is too long: %s", path);
		break;
	default:
other:
		mr_ctl_err("cannot %s region %s: %s", create ? "open or create" : "open",
			   path, strerror(-err));
		break;
	}
	return MR_CTL_EXIT_REGION;
}

int
mr_ctl_open(struct mr_region *r, const char *path, bool create)
{
	int err;

	err = mr_region_open(r, path, create, MR_SHM_DEFAULT_LEGS, MR_SHM_DEFAULT_WORKERS);
	if (err == 0)
		return 0;
	mr_region_close(r);
	return mr_ctl_region_error(path, err, create);
}

static bool repaired_once;
bool mr_ctl_force;

int
mr_ctl_lock(struct mr_region *r, bool repair)
{
	unsigned int n;
	uint64_t age;
	uint32_t pid;
	int err;

	if (!mr_ctl_force && mr_region_cp_alive(r, MR_CTL_CP_MAX_AGE_MS, &pid, &age)) {
		mr_ctl_err("region %s is owned by mrelay-cp (pid %" PRIu32 ", heartbeat %" PRIu64
			   " ms ago): change calls through it ('mrelayctl calls', 'mrelayctl call "
			   "...'), or pass --force to write anyway", r->path, pid, age);
		return MR_CTL_EXIT_INPUT;
	}

	err = mr_region_lock(r);
	if (err == -ESTALE) {
		mr_ctl_err("region %s was replaced while in use; try again", r->path);
		return MR_CTL_EXIT_REGION;
	}
	if (err < 0) {
		mr_ctl_err("cannot lock region %s: %s", r->path, strerror(-err));
		return MR_CTL_EXIT_REGION;
	}
	/* Once per process: a batch of thousands of writes need not rescan
	 * every slot for each of them. */
	if (!repair || repaired_once)
		return 0;
	repaired_once = true;
	/* Under the lock nobody writes: an odd slot was left by a dead writer. */
	n = mr_region_repair(r);
	if (n > 0)
		mr_ctl_err("repaired %u torn slot%s left by a writer that died",
			   n, n == 1 ? "" : "s");
	return 0;
}

/* --- region -------------------------------------------------------------- */

static int
cmd_region_create(const char *path, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "max-legs", required_argument, NULL, 'l' },
		{ "max-workers", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint32_t legs = MR_SHM_DEFAULT_LEGS, workers = MR_SHM_DEFAULT_WORKERS;
	struct mr_shm_header *h = NULL;
	uint64_t size = 0;
	int c, err;

	optind = 0;
	while ((c = mr_ctl_getopt(argc, argv, opts, "region create")) != -1) {
		switch (c) {
		case 'l':
			if (mr_ctl_parse_u32("--max-legs", optarg, 1, MR_SHM_MAX_LEGS, &legs) < 0)
				return MR_CTL_EXIT_INPUT;
			break;
		case 'w':
			if (mr_ctl_parse_u32("--max-workers", optarg, 1, MR_SHM_MAX_WORKERS,
					     &workers) < 0)
				return MR_CTL_EXIT_INPUT;
			break;
		case 'h':
			mr_ctl_usage(stdout);
			return 0;
		default:
			return MR_CTL_EXIT_INPUT;
		}
	}
	err = mr_ctl_expect_args("region create", argc, argv, 0, 0, false);
	if (err != 0)
		return err;
	err = mr_shm_create(path, legs, workers, &h, &size);
	if (err == -EEXIST) {
		mr_ctl_err("region %s already exists", path);
		return MR_CTL_EXIT_INPUT;
	}
	if (err < 0) {
		mr_ctl_err("cannot create region %s: %s", path, strerror(-err));
		return MR_CTL_EXIT_REGION;
	}
	munmap(h, (size_t)size);
	printf("created %s: %" PRIu32 " legs, %" PRIu32 " workers, %" PRIu64 " bytes\n",
	       path, legs, workers, size);
	return 0;
}

static const char *
dp_state_name(uint32_t s)
{
	switch (s) {
	case MR_DP_DOWN:
		return "down";
	case MR_DP_STARTING:
		return "starting";
	case MR_DP_RUNNING:
		return "running";
	default:
		return "unknown";
	}
}

/* Age of a heartbeat, or -1 if there never was one. */
static int64_t
age_ms(uint64_t hb, uint64_t now)
{
	if (hb == 0)
		return -1;
	return hb >= now ? 0 : (int64_t)(now - hb);
}

static void
json_age(FILE *f, int64_t age)
{
	if (age < 0)
		fputs("null", f);
	else
		fprintf(f, "%" PRId64, age);
}

static uint32_t
count_active(const struct mr_region *r)
{
	uint32_t i, n = 0;

	for (i = 0; i < r->hdr->max_legs; i++)
		if (__atomic_load_n(&mr_shm_slot(r->hdr, i)->state, __ATOMIC_RELAXED) ==
		    MR_LEG_ACTIVE)
			n++;
	return n;
}

static int
cmd_region_info(const char *path, int argc, char **argv)
{
	struct mr_ctl_opts o = { .json = false };
	const struct mr_shm_header *h;
	struct mr_region r;
	bool json, alive;
	uint64_t now;
	int64_t dp_age, cp_age;
	int err;

	err = mr_ctl_parse_opts(argc, argv, mr_ctl_json_opts, "region info", 0, 0, &o);
	if (err != 0 || o.help)
		return err;
	json = o.json;
	err = mr_ctl_open(&r, path, false);
	if (err != 0)
		return err;
	h = r.hdr;
	now = mr_now_ms();
	alive = mr_region_dp_alive(&r, MR_CTL_DP_MAX_AGE_MS);
	dp_age = age_ms(__atomic_load_n(&h->dp_heartbeat_ms, __ATOMIC_RELAXED), now);
	cp_age = age_ms(__atomic_load_n(&h->cp_heartbeat_ms, __ATOMIC_RELAXED), now);
	if (json) {
		printf("{\"path\": ");
		mr_ctl_json_str(stdout, path);
		printf(", \"abi_version\": %" PRIu32 ", \"region_size\": %" PRIu64
		       ", \"max_legs\": %" PRIu32 ", \"max_workers\": %" PRIu32
		       ", \"active_legs\": %" PRIu32 ", \"next_leg_uid\": %" PRIu64,
		       h->abi_version, h->region_size, h->max_legs, h->max_workers,
		       count_active(&r), h->next_leg_uid);
		printf(", \"dataplane\": {\"pid\": %" PRIu32 ", \"state\": \"%s\", \"alive\": %s"
		       ", \"workers\": %" PRIu32 ", \"heartbeat_age_ms\": ",
		       h->dp_pid, dp_state_name(h->dp_state), alive ? "true" : "false",
		       h->dp_workers);
		json_age(stdout, dp_age);
		printf("}, \"control\": {\"pid\": %" PRIu32 ", \"heartbeat_age_ms\": ", h->cp_pid);
		json_age(stdout, cp_age);
		printf("}, \"cmd_ring\": {\"used\": %" PRIu32 ", \"size\": %" PRIu32 "}"
		       ", \"event_ring\": {\"used\": %" PRIu32 ", \"size\": %" PRIu32 "}"
		       ", \"resync\": {\"requested\": %" PRIu32 ", \"served\": %" PRIu32 "}}\n",
		       mr_ring_count(mr_shm_cmd_ring(h)), mr_shm_cmd_ring(h)->size,
		       mr_ring_count(mr_shm_event_ring(h)), mr_shm_event_ring(h)->size,
		       __atomic_load_n(&h->resync_req, __ATOMIC_RELAXED),
		       __atomic_load_n(&h->resync_done, __ATOMIC_RELAXED));
	} else {
		printf("region       %s\n", path);
		printf("abi version  %" PRIu32 "\n", h->abi_version);
		printf("size         %" PRIu64 " bytes (%" PRIu64 " per leg)\n",
		       h->region_size, h->region_size / h->max_legs);
		printf("legs         %" PRIu32 " active of %" PRIu32 " (next uid %" PRIu64 ")\n",
		       count_active(&r), h->max_legs, h->next_leg_uid);
		printf("workers      %" PRIu32 " rows", h->max_workers);
		if (h->dp_workers != 0)
			printf(", dataplane runs %" PRIu32, h->dp_workers);
		printf("\ndataplane    %s, pid %" PRIu32 ", state %s",
		       alive ? "alive" : "not alive", h->dp_pid, dp_state_name(h->dp_state));
		if (dp_age >= 0)
			printf(", heartbeat %" PRId64 " ms ago", dp_age);
		printf("\ncontrol      pid %" PRIu32, h->cp_pid);
		if (cp_age >= 0)
			printf(", heartbeat %" PRId64 " ms ago", cp_age);
		printf("\ncmd ring     %" PRIu32 "/%" PRIu32 "\n",
		       mr_ring_count(mr_shm_cmd_ring(h)), mr_shm_cmd_ring(h)->size);
		printf("event ring   %" PRIu32 "/%" PRIu32 "\n",
		       mr_ring_count(mr_shm_event_ring(h)), mr_shm_event_ring(h)->size);
		printf("resync       requested %" PRIu32 ", served %" PRIu32 "\n",
		       __atomic_load_n(&h->resync_req, __ATOMIC_RELAXED),
		       __atomic_load_n(&h->resync_done, __ATOMIC_RELAXED));
	}
	mr_region_close(&r);
	return 0;
}

static int
cmd_region(const char *path, int argc, char **argv)
{
	if (argc < 2) {
		mr_ctl_err("region: expected 'create' or 'info'");
		return MR_CTL_EXIT_INPUT;
	}
	if (strcmp(argv[1], "create") == 0)
		return cmd_region_create(path, argc - 1, argv + 1);
	if (strcmp(argv[1], "info") == 0)
		return cmd_region_info(path, argc - 1, argv + 1);
	mr_ctl_err("region: unknown command '%s'", argv[1]);
	return MR_CTL_EXIT_INPUT;
}

/* --- events and sync ----------------------------------------------------- */

static const char *
event_name(uint16_t type)
{
	switch (type) {
	case MR_EV_NONE:
		return "none";
	case MR_EV_LATCHED:
		return "latched";
	case MR_EV_IDLE:
		return "idle";
	case MR_EV_SYNC:
		return "sync";
	case MR_EV_SLOT_TORN:
		return "slot-torn";
	case MR_EV_DP_START:
		return "dp-start";
	case MR_EV_AUTH_FAIL:
		return "auth-fail";
	case MR_EV_SSRC:
		return "ssrc";
	case MR_EV_STUN:
		return "stun";
	default:
		return NULL;
	}
}

struct event_out {
	bool json;
	unsigned long n;        /* events printed so far */
};

static void
print_event(const struct mr_event *ev, void *ctx)
{
	struct event_out *o = ctx;
	const char *name = event_name(ev->type);
	char addr[MR_CTL_ADDR_LEN], unknown[16];

	if (name == NULL) {
		snprintf(unknown, sizeof(unknown), "type-%u", (unsigned int)ev->type);
		name = unknown;
	}
	if (o->json) {
		printf("%s\n  {\"type\": \"%s\", \"slot\": ", o->n == 0 ? "" : ",", name);
		if (ev->slot == MR_LEG_NONE)
			printf("null");
		else
			printf("%" PRIu32, ev->slot);
		printf(", \"generation\": %" PRIu32 ", \"leg_uid\": %" PRIu64
		       ", \"comp\": \"%s\", \"cookie\": %" PRIu32 ", \"value\": %" PRIu64
		       ", \"addr\": ",
		       ev->generation, ev->leg_uid, ev->comp == MR_COMP_RTCP ? "rtcp" : "rtp",
		       ev->cookie, ev->value);
		mr_ctl_json_addr(stdout, &ev->addr);
		printf("}");
	} else {
		printf("%s slot=", name);
		if (ev->slot == MR_LEG_NONE)
			printf("-");
		else
			printf("%" PRIu32, ev->slot);
		printf(" gen=%" PRIu32 " uid=%" PRIu64, ev->generation, ev->leg_uid);
		switch (ev->type) {
		case MR_EV_LATCHED:
		case MR_EV_STUN:
			mr_ctl_format_addr(&ev->addr, addr, sizeof(addr));
			printf(" comp=%s addr=%s", ev->comp == MR_COMP_RTCP ? "rtcp" : "rtp", addr);
			break;
		case MR_EV_SYNC:
			printf(" cookie=%" PRIu32, ev->cookie);
			break;
		case MR_EV_DP_START:
			printf(" pid=%" PRIu64, ev->value);
			break;
		case MR_EV_AUTH_FAIL:
			printf(" failures=%" PRIu64, ev->value);
			break;
		case MR_EV_SSRC:
			printf(" ssrc=0x%08" PRIx64, ev->value);
			break;
		default:
			if (ev->value != 0)
				printf(" value=%" PRIu64, ev->value);
			break;
		}
		printf("\n");
	}
	o->n++;
	fflush(stdout);
}

static int
cmd_events(const char *path, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "count", required_argument, NULL, 'c' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct timespec poll = { .tv_nsec = EVENTS_POLL_MS * 1000000L };
	struct mr_ctl_opts o = { .timeout_ms = 0 };
	struct event_out out = { .json = false };
	struct mr_event ev;
	struct mr_region r;
	uint64_t deadline;
	uint32_t count;
	int err;

	err = mr_ctl_parse_opts(argc, argv, opts, "events", 0, 0, &o);
	if (err != 0 || o.help)
		return err;
	out.json = o.json;
	count = o.count;
	err = mr_ctl_open(&r, path, false);
	if (err != 0)
		return err;
	if (out.json)
		printf("[");
	/* Popping moves the ring's tail, a write: take the lock for each drain
	 * only, so a long wait does not hold up writers. Slots are not ours to
	 * repair here (that scans the whole table on every poll). */
	deadline = mr_now_ms() + o.timeout_ms;
	for (;;) {
		err = mr_ctl_lock(&r, false);
		if (err != 0)
			break;
		while ((count == 0 || out.n < count) &&
		       mr_ring_pop(mr_shm_event_ring(r.hdr), &ev) == 0)
			print_event(&ev, &out);
		mr_region_unlock(&r);
		if ((count != 0 && out.n >= count) || mr_now_ms() >= deadline)
			break;
		nanosleep(&poll, NULL);
	}
	if (out.json)
		printf("%s]\n", out.n == 0 ? "" : "\n");
	mr_region_close(&r);
	return err;
}

static int
cmd_sync(const char *path, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct mr_ctl_opts o = { .timeout_ms = SYNC_DEFAULT_TIMEOUT_MS };
	struct event_out out = { .json = false };
	uint32_t timeout_ms;
	struct mr_region r;
	int err;

	err = mr_ctl_parse_opts(argc, argv, opts, "sync", 0, 0, &o);
	if (err != 0 || o.help)
		return err;
	timeout_ms = o.timeout_ms;
	err = mr_ctl_open(&r, path, false);
	if (err != 0)
		return err;
	/*
	 * Any heartbeat age will do: a dataplane whose management lcore is
	 * starved for a while (a loaded machine) still answers within the
	 * timeout, and refusing it at once would only make callers retry.
	 */
	if (!mr_region_dp_alive(&r, UINT64_MAX)) {
		mr_ctl_err("sync: no dataplane is running on region %s", path);
		err = MR_CTL_EXIT_REGION;
		goto out_close;
	}
	err = mr_ctl_lock(&r, true);
	if (err != 0)
		goto out_close;
	/* Events sync pops on the way are shown rather than lost silently. */
	err = mr_region_sync(&r, timeout_ms, print_event, &out);
	mr_region_unlock(&r);
	switch (err) {
	case 0:
		break;
	case -ETIMEDOUT:
		mr_ctl_err("sync: the dataplane did not answer within %" PRIu32 " ms", timeout_ms);
		err = MR_CTL_EXIT_REGION;
		break;
	case -ENOBUFS:
		mr_ctl_err("sync: the command ring is full (the dataplane is not consuming it)");
		err = MR_CTL_EXIT_REGION;
		break;
	default:
		mr_ctl_err("sync: %s", strerror(-err));
		err = MR_CTL_EXIT_REGION;
		break;
	}
out_close:
	mr_region_close(&r);
	return err;
}

static int dispatch(const char *region, int argc, char **argv, bool top);
static const char *admin_socket = MR_CTL_ADMIN_DEFAULT;
static bool admin_socket_set;           /* -s given: it wins over mrelay-cp's file */

#define BATCH_MAX_ARGS 64
/* Room for a line with keys, so that getline() need not move (and leave a
 * copy of) it while it reads. */
#define BATCH_LINE_BYTES 4096u

/*
 * One command per line from standard input, as on the command line after
 * the region option ('#' starts a comment). Stops at the first command
 * that fails and exits with its status, naming the line: a batch is a
 * script, and later lines usually depend on earlier ones. One process for
 * thousands of changes is what makes bulk changes fast.
 */
static int
cmd_batch(const char *region, int argc, char **argv)
{
	/* stdin's buffer is ours, so that the keys read through it can be
	 * wiped; a line and its copy in the buffer are wiped once run. */
	static char inbuf[BUFSIZ];
	char *line = NULL, *args[BATCH_MAX_ARGS + 1];
	size_t cap = 0;
	unsigned long lineno = 0;
	int n, r = 0;

	(void)argv;
	if (argc != 1) {
		mr_ctl_err("batch: takes no arguments (commands come on standard input)");
		return MR_CTL_EXIT_INPUT;
	}
	setvbuf(stdin, inbuf, _IOFBF, sizeof(inbuf));
	line = malloc(BATCH_LINE_BYTES);
	cap = line != NULL ? BATCH_LINE_BYTES : 0;      /* else getline() allocates */
	while (getline(&line, &cap, stdin) >= 0) {
		char *save = NULL, *tok;

		lineno++;
		n = 0;
		for (tok = strtok_r(line, " \t\r\n", &save); tok != NULL && tok[0] != '#';
		     tok = strtok_r(NULL, " \t\r\n", &save)) {
			if (n == BATCH_MAX_ARGS) {
				mr_ctl_err("batch: line %lu: more than %d words", lineno, BATCH_MAX_ARGS);
				r = MR_CTL_EXIT_INPUT;
				goto out_wipe;
			}
			args[n++] = tok;
		}
		if (n == 0)
			continue;
		args[n] = NULL;
		r = dispatch(region, n, args, false);
		explicit_bzero(line, cap);
		fflush(stdout);
		if (r != 0) {
			mr_ctl_err("batch: line %lu failed; later lines not run", lineno);
			break;
		}
	}
out_wipe:
	if (line != NULL)
		explicit_bzero(line, cap);
	free(line);
	/* Later lines stay unread; nothing reads stdin after a batch. */
	explicit_bzero(inbuf, sizeof(inbuf));
	return r;
}

static int
dispatch(const char *region, int argc, char **argv, bool top)
{
	if (strcmp(argv[0], "region") == 0)
		return cmd_region(region, argc, argv);
	if (strcmp(argv[0], "leg") == 0)
		return mr_ctl_leg(region, argc, argv);
	if (strcmp(argv[0], "stats") == 0)
		return mr_ctl_stats(region, argc, argv);
	if (strcmp(argv[0], "events") == 0)
		return cmd_events(region, argc, argv);
	if (strcmp(argv[0], "sync") == 0)
		return cmd_sync(region, argc, argv);
	if (top && strcmp(argv[0], "batch") == 0)
		return cmd_batch(region, argc, argv);
	if (strcmp(argv[0], "calls") == 0)
		return mr_ctl_calls(admin_socket, argc, argv);
	if (strcmp(argv[0], "call") == 0 || strcmp(argv[0], "cp") == 0)
		return mr_ctl_cp(admin_socket, argc, argv);
	/* Not in a batch: a password may come on standard input. */
	if (top && strcmp(argv[0], "account") == 0)
		return mr_ctl_account(admin_socket_set ? admin_socket : NULL, argc, argv);
	if (strcmp(argv[0], "cdr") == 0)
		return mr_ctl_cdr(argc, argv);
	if (strcmp(argv[0], "help") == 0) {
		mr_ctl_usage(stdout);
		return 0;
	}
	mr_ctl_err("unknown command '%s' (see mrelayctl --help)", argv[0]);
	return MR_CTL_EXIT_INPUT;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "region", required_argument, NULL, 'r' },
		{ "socket", required_argument, NULL, 's' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *region = MR_SHM_DEFAULT_PATH;
	int c;

	opterr = 0;
	/* '+': options after the command word belong to the command. */
	while ((c = getopt_long(argc, argv, "+:r:s:h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			region = optarg;
			break;
		case 's':
			admin_socket = optarg;
			admin_socket_set = true;
			break;
		case 'f':
			mr_ctl_force = true;
			break;
		case 'h':
			mr_ctl_usage(stdout);
			return 0;
		case ':':
			mr_ctl_err("option '%s' needs a value", argv[optind - 1]);
			return MR_CTL_EXIT_INPUT;
		default:
			mr_ctl_err("unknown option '%s'", argv[optind - 1]);
			mr_ctl_usage(stderr);
			return MR_CTL_EXIT_INPUT;
		}
	}
	argc -= optind;
	argv += optind;
	if (region[0] == '\0') {
		mr_ctl_err("-r: empty region path");
		return MR_CTL_EXIT_INPUT;
	}
	if (argc == 0) {
		mr_ctl_usage(stderr);
		return MR_CTL_EXIT_INPUT;
	}
	return dispatch(region, argc, argv, true);
}
