/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mrelay-cp: the control plane daemon. Runs in the foreground (systemd
 * Type=notify, or any supervisor), owns the shared region's control side,
 * and keeps calls across its own restarts (docs/control-plane.md).
 *
 *   mrelay-cp --config FILE [--check]
 *
 * Signals: SIGHUP reloads what can change at run time (timeouts, limits,
 * log levels) and warns about the rest; SIGTERM and SIGINT stop the daemon
 * cleanly, leaving every call in place for the next one (a stop is a
 * restart as far as media is concerned).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "admin.h"
#include "cp.h"
#include "log.h"
#include "ng.h"
#include "ng_listen.h"
#include "sip_front.h"

/* Loop turn: heartbeat period, and the longest a timer waits. */
#define TURN_MS 100
/* Session timers run this often; their resolution is a second anyway. */
#define TICK_MS 1000u
/* Another control side's heartbeat younger than this means it is alive. */
#define CP_MAX_AGE_MS 2000u

#define EXIT_CONFIG 1           /* bad configuration or environment */
#define EXIT_RUNTIME 2          /* the region went away under us */

static void
usage(FILE *f)
{
	fprintf(f,
"Usage: mrelay-cp --config FILE [--check]\n"
"mrelay's control plane: owns the shared region's control side, the calls\n"
"and their journal; serves the admin socket. Runs in the foreground.\n"
"  -c, --config FILE   libconfig file (docs/configuration.md, \"mrelay-cp\")\n"
"      --check         validate the file and exit (0 = good)\n"
"  -h, --help\n"
"Signals: HUP reloads timeouts, limits and log levels; TERM/INT stop\n"
"(calls stay in the region for the next mrelay-cp).\n");
}

/* systemd's readiness protocol (sd_notify(3)) without libsystemd. */
static void
notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len;
	int fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@'))
		return;
	len = strlen(path);
	if (len >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';  /* abstract namespace */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	(void)sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa,
		     (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
	close(fd);
}

static void
apply_log_levels(const struct mr_cp_config *cfg)
{
	unsigned int i;

	for (i = 0; i < MR_LOG_SUBSYS_MAX; i++)
		mr_log_set_level(i, cfg->log_level[i]);
}

static void
session_params(const struct mr_cp_config *cfg, struct mr_session_params *p)
{
	memset(p, 0, sizeof(*p));
	p->ifaces = cfg->ifaces;
	p->n_ifaces = cfg->n_ifaces;
	p->limits = cfg->limits;
	p->timeouts = cfg->timeouts;
	p->state_dir = cfg->state_dir;
}

void
mr_cp_reload(struct mr_cp *cp)
{
	struct mr_cp_config *next = malloc(sizeof(*next));
	char err[1024], diff[512];

	cp->reload = false;
	notify("RELOADING=1");
	if (next == NULL) {
		mr_log(LOG_ERR, MR_LOG_CORE, NULL, "reload: out of memory; nothing changed");
		goto out;
	}
	if (mr_cp_config_load(cp->config_path, next, err, sizeof(err)) < 0) {
		mr_log(LOG_ERR, MR_LOG_CORE, NULL, "reload refused, running configuration kept: %s",
		       err);
		goto out;
	}
	if (mr_cp_config_restart_diff(&cp->cfg, next, diff, sizeof(diff)) > 0)
		mr_log(LOG_WARNING, MR_LOG_CORE, NULL,
		       "reload: %s changed; that takes a restart of mrelay-cp (calls survive it); "
		       "running values kept", diff);
	/* Only the run-time part is taken; the rest stays as it runs. */
	cp->cfg.timeouts = next->timeouts;
	cp->cfg.limits = next->limits;
	memcpy(cp->cfg.log_level, next->log_level, sizeof(cp->cfg.log_level));
	apply_log_levels(&cp->cfg);
	mr_session_set_policy(cp->sess, &cp->cfg.limits, &cp->cfg.timeouts);
	mr_log(LOG_NOTICE, MR_LOG_CORE, NULL,
	       "reloaded %s: media_idle %" PRIu32 " s, offer %" PRIu32 " s, call_max %" PRIu32
	       " s; max_calls %" PRIu32 ", max_legs %" PRIu32 ", offers/s %" PRIu32,
	       cp->config_path, cp->cfg.timeouts.media_idle_ms / 1000u,
	       cp->cfg.timeouts.offer_ms / 1000u, cp->cfg.timeouts.call_max_ms / 1000u,
	       cp->cfg.limits.max_calls, cp->cfg.limits.max_legs, cp->cfg.limits.offers_per_s);
out:
	free(next);
	notify("READY=1");
}

/* One mrelay-cp per state directory: its journal has one writer. */
static int
lock_state_dir(const char *dir)
{
	char path[PATH_MAX];
	int fd;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		mr_log(LOG_ERR, MR_LOG_CORE, NULL, "state_dir %s: cannot create: %s", dir,
		       strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/mrelay-cp.lock", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		mr_log(LOG_ERR, MR_LOG_CORE, NULL, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		mr_log(LOG_ERR, MR_LOG_CORE, NULL,
		       "another mrelay-cp runs with state_dir %s (%s is locked)", dir, path);
		close(fd);
		return -1;
	}
	return fd;
}

/* Read the header of a region we could not attach to, to say why. */
static void
region_error(const char *path, int err)
{
	struct mr_shm_header h;
	ssize_t n = -1;
	int fd;

	if (err == -EPROTO) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			n = pread(fd, &h, sizeof(h), 0);
			close(fd);
		}
		if (n == (ssize_t)sizeof(h))
			mr_log(LOG_ERR, MR_LOG_REGION, NULL,
			       "region %s has ABI version %" PRIu32 "; this mrelay-cp speaks version %u. "
			       "Run matching mrelay-cp and mrelay-dp, or stop the dataplane and remove "
			       "the region", path, h.abi_version, MR_SHM_ABI_VERSION);
		else
			mr_log(LOG_ERR, MR_LOG_REGION, NULL,
			       "region %s has another ABI version; this mrelay-cp speaks version %u",
			       path, MR_SHM_ABI_VERSION);
	} else if (err == -EINVAL) {
		mr_log(LOG_ERR, MR_LOG_REGION, NULL,
		       "%s is not an mrelay region (bad magic or inconsistent header)", path);
	} else {
		mr_log(LOG_ERR, MR_LOG_REGION, NULL, "cannot open or create region %s: %s", path,
		       strerror(-err));
	}
}

static void
heartbeat(struct mr_shm_header *h, uint64_t now)
{
	__atomic_store_n(&h->cp_heartbeat_ms, now, __ATOMIC_RELEASE);
}

static int
start(struct mr_cp *cp)
{
	struct mr_shm_header *h;
	struct mr_session_params sp;
	struct mr_session_recovery rec;
	struct mr_ng_params ngp;
	char err[1024];
	uint32_t pid;
	int r;

	r = mr_region_open(&cp->region, cp->cfg.region, true, cp->cfg.region_max_legs,
			   cp->cfg.region_max_workers);
	if (r < 0) {
		region_error(cp->cfg.region, r);
		return -1;
	}
	h = cp->region.hdr;
	/* Refuse to share the region with another live control side. Our own
	 * pid there was left by an earlier process that had it (a container
	 * starts the daemon with the same pid each time). */
	if (mr_region_cp_alive(&cp->region, CP_MAX_AGE_MS, &pid, NULL) &&
	    pid != (uint32_t)getpid()) {
		mr_log(LOG_ERR, MR_LOG_REGION, NULL,
		       "another mrelay-cp (pid %" PRIu32 ") owns region %s", pid, cp->cfg.region);
		return -1;
	}
	if (h->max_legs != cp->cfg.region_max_legs || h->max_workers != cp->cfg.region_max_workers)
		mr_log(LOG_NOTICE, MR_LOG_REGION, NULL,
		       "region %s exists with %" PRIu32 " legs and %" PRIu32 " worker rows; using "
		       "those (region.max_legs/max_workers apply when creating it)",
		       cp->cfg.region, h->max_legs, h->max_workers);
	__atomic_store_n(&h->cp_start_ms, mr_now_ms(), __ATOMIC_RELAXED);
	heartbeat(h, mr_now_ms());
	__atomic_store_n(&h->cp_pid, (uint32_t)getpid(), __ATOMIC_RELEASE);

	r = mr_region_lock(&cp->region);
	if (r < 0) {
		mr_log(LOG_ERR, MR_LOG_REGION, NULL, "cannot lock region %s: %s", cp->cfg.region,
		       strerror(-r));
		return -1;
	}
	session_params(&cp->cfg, &sp);
	r = mr_session_new(&sp, &cp->region, &cp->sess, &rec, err, sizeof(err));
	mr_region_unlock(&cp->region);
	if (r < 0) {
		mr_log(LOG_ERR, MR_LOG_SESSION, NULL, "%s", err[0] != '\0' ? err : strerror(-r));
		return -1;
	}
	if (rec.journal_bad > 0)
		mr_log(LOG_WARNING, MR_LOG_SESSION, NULL,
		       "journal: %u bad lines skipped; first: %s", rec.journal_bad, rec.journal_err);
	if (rec.slots_repaired > 0)
		mr_log(LOG_WARNING, MR_LOG_SESSION, NULL,
		       "repaired %u slots left half-written by a control side that died",
		       rec.slots_repaired);
	if (rec.calls_lost > 0)
		mr_log(LOG_WARNING, MR_LOG_SESSION, NULL,
		       "%u calls could not be recovered (a slot gone or torn) and were ended",
		       rec.calls_lost);
	if (rec.slots_swept > 0)
		mr_log(LOG_NOTICE, MR_LOG_SESSION, NULL,
		       "freed %u slots written but never journaled before a crash", rec.slots_swept);
	if (rec.slots_foreign > 0)
		mr_log(LOG_NOTICE, MR_LOG_SESSION, NULL,
		       "%u active slots belong to no call (mrelayctl legs?); left alone, never reused",
		       rec.slots_foreign);
	if (rec.ports_unmarked > 0)
		mr_log(LOG_WARNING, MR_LOG_SESSION, NULL,
		       "%u recovered port pairs are outside every configured interface range",
		       rec.ports_unmarked);
	mr_log(LOG_NOTICE, MR_LOG_SESSION, NULL, "recovered %u calls from %s", rec.calls,
	       cp->cfg.state_dir);

	r = mr_admin_open(cp->cfg.admin_socket, &cp->admin, err, sizeof(err));
	if (r < 0) {
		mr_log(LOG_ERR, MR_LOG_ADMIN, NULL, "admin socket: %s", err);
		return -1;
	}
	ngp = (struct mr_ng_params){ .sess = cp->sess, .ifaces = cp->cfg.ifaces,
				     .n_ifaces = cp->cfg.n_ifaces, .ended = mr_cp_call_ended,
				     .ended_ctx = cp };
	cp->ng = mr_ng_new(&ngp);
	if (cp->ng == NULL) {
		mr_log(LOG_ERR, MR_LOG_NG, NULL, "NG front-end: %s", strerror(errno));
		return -1;
	}
	if (mr_ng_counters(cp->ng)->restored > 0)
		mr_log(LOG_NOTICE, MR_LOG_NG, NULL, "NG state of %u recovered calls restored",
		       mr_ng_counters(cp->ng)->restored);
	if (mr_ng_counters(cp->ng)->restore_failed > 0)
		mr_log(LOG_WARNING, MR_LOG_NG, NULL, "NG state of %u recovered calls unusable: "
		       "they can be queried and deleted, not answered",
		       mr_ng_counters(cp->ng)->restore_failed);
	r = mr_ng_listen_open(&cp->cfg, cp->ng, &cp->ng_listen, err, sizeof(err));
	if (r < 0) {
		mr_log(LOG_ERR, MR_LOG_NG, NULL, "%s", err);
		return -1;
	}
	r = mr_cp_sip_open(cp, err, sizeof(err));
	if (r < 0) {
		mr_log(LOG_ERR, MR_LOG_SIP, NULL, "%s", err);
		return -1;
	}
	if (cp->sip != NULL)
		mr_log(LOG_NOTICE, MR_LOG_SIP, NULL,
		       "SIP front-end for domain %s: %u TLS listeners, %u trunks",
		       cp->cfg.sip.domain, cp->cfg.sip.n_tls, cp->cfg.sip.n_trunks);
	return 0;
}

static void
on_signal(struct mr_cp *cp, int sfd)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			cp->reload = true;
			break;
		case SIGTERM:
		case SIGINT:
			mr_log(LOG_NOTICE, MR_LOG_CORE, NULL,
			       "%s: stopping; calls stay for the next mrelay-cp",
			       si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
			cp->stop = true;
			break;
		default:
			break;
		}
	}
}

static int
run(struct mr_cp *cp, int sfd)
{
	struct pollfd fds[3 + MR_ADMIN_MAX_CLIENTS + MR_NG_LISTEN_FDS];
	uint64_t last_tick = 0;
	int r;

	while (!cp->stop) {
		unsigned int n = mr_admin_pollfds(cp->admin, fds + 1);
		unsigned int n_ng = mr_ng_listen_pollfds(cp->ng_listen, fds + 1 + n);
		unsigned int n_sip = 0;
		uint64_t now;

		fds[0].fd = sfd;
		fds[0].events = POLLIN;
		if (cp->sip != NULL) {
			/* The transport's epoll set: its own timers are in it too. */
			fds[1 + n + n_ng].fd = mr_cp_sip_fd(cp);
			fds[1 + n + n_ng].events = POLLIN;
			n_sip = 1;
		}
		if (poll(fds, n + n_ng + n_sip + 1, TURN_MS) < 0 && errno != EINTR) {
			mr_log(LOG_ERR, MR_LOG_CORE, NULL, "poll: %s", strerror(errno));
			return EXIT_RUNTIME;
		}
		now = mr_now_ms();
		heartbeat(cp->region.hdr, now);
		if (fds[0].revents & POLLIN)
			on_signal(cp, sfd);

		r = mr_region_lock(&cp->region);
		if (r < 0) {
			/* -ESTALE: the file was deleted or replaced; the dataplane
			 * will follow the new one, and so must we (by restarting). */
			mr_log(LOG_ERR, MR_LOG_REGION, NULL, "region %s: %s; exiting",
			       cp->region.path, r == -ESTALE ? "replaced or removed" : strerror(-r));
			return EXIT_RUNTIME;
		}
		mr_cp_events_drain(cp, now);
		mr_admin_serve(cp->admin, fds + 1, n, cp);
		mr_ng_listen_serve(cp->ng_listen, fds + 1 + n, n_ng, now);
		if (n_sip != 0 && (fds[1 + n + n_ng].revents & POLLIN))
			mr_cp_sip_serve(cp, now);
		if (now - last_tick >= TICK_MS) {
			last_tick = now;
			mr_cp_sip_tick(cp, now);
			mr_session_tick(cp->sess, now, mr_cp_call_ended, cp);
			mr_cp_dp_watch(cp, now);
		}
		mr_region_unlock(&cp->region);
		if (cp->reload)
			mr_cp_reload(cp);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct mr_cp cp;
	bool check = false;
	char err[1024];
	sigset_t set;
	int c, sfd, lock_fd, rc;

	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			cp.config_path = optarg;
			break;
		case 'k':
			check = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_CONFIG;
		}
	}
	if (cp.config_path == NULL || optind < argc) {
		usage(stderr);
		return EXIT_CONFIG;
	}
	if (mr_cp_config_load(cp.config_path, &cp.cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "mrelay-cp: %s\n", err);
		return EXIT_CONFIG;
	}
	if (check) {
		printf("%s: ok\n", cp.config_path);
		return 0;
	}
	apply_log_levels(&cp.cfg);

	/* Signals arrive as reads on a descriptor, between loop turns. */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0) {
		mr_log(LOG_ERR, MR_LOG_CORE, NULL, "signalfd: %s", strerror(errno));
		return EXIT_CONFIG;
	}
	lock_fd = lock_state_dir(cp.cfg.state_dir);
	if (lock_fd < 0)
		return EXIT_CONFIG;
	if (start(&cp) < 0) {
		rc = EXIT_CONFIG;
		goto out;
	}
	mr_log(LOG_NOTICE, MR_LOG_CORE, NULL,
	       "mrelay-cp pid %ld running: region %s, admin socket %s, %u interfaces",
	       (long)getpid(), cp.cfg.region, cp.cfg.admin_socket, cp.cfg.n_ifaces);
	notify("READY=1");
	rc = run(&cp, sfd);
	notify("STOPPING=1");
out:
	mr_cp_sip_close(&cp);
	mr_ng_listen_close(cp.ng_listen);
	mr_ng_free(cp.ng);
	mr_admin_close(cp.admin);
	mr_session_free(cp.sess);
	if (cp.region.hdr != NULL &&
	    __atomic_load_n(&cp.region.hdr->cp_pid, __ATOMIC_ACQUIRE) == (uint32_t)getpid()) {
		/* Gone on purpose: mrelayctl need not wait for the heartbeat to age. */
		__atomic_store_n(&cp.region.hdr->cp_heartbeat_ms, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&cp.region.hdr->cp_pid, 0, __ATOMIC_RELEASE);
	}
	mr_region_close(&cp.region);
	close(lock_fd);
	close(sfd);
	if (rc == 0)
		mr_log(LOG_NOTICE, MR_LOG_CORE, NULL, "stopped");
	return rc;
}
