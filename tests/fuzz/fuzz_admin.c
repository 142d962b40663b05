/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for mrelay-cp's admin socket commands (controlplane/cp/
 * admin_cmd.c, mr_admin_run()): the input is request lines, one per '\n',
 * run in order against a session manager on a temporary region, as
 * mrelayctl sends them. The SIP front-end is absent (its three hooks are
 * stubs below, as in a daemon without a "sip" group). Besides ASan's
 * checks, it aborts when a promise breaks:
 *  - a request is done (0) or refused with a NUL-terminated, non-empty
 *    reason;
 *  - no slot allows plain RTP (MR_LEG_F_PSTN) outside the interface
 *    marked pstn: the admin socket cannot turn encryption off;
 *  - whatever the requests made, ending every call afterwards leaves no
 *    call, no slot and no port pair in use (nothing leaked).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <syslog.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "admin.h"
#include "cp.h"
#include "sip.h"
#include "sip_front.h"
#include "../unit/session_iface.h"
#include "../unit/tmpdir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LEGS 64u

static struct {
	struct mr_test_tmpdir t;
	struct mr_cp cp;
	uint8_t pstn_ip[4];
	FILE *body;
	bool trace;
	bool ready;
} F;

/* No SIP front-end: what sip_front.c answers when the "sip" group is absent. */
int
mr_cp_sip_revoke(struct mr_cp *cp, const char *name, uint64_t now_ms)
{
	(void)cp;
	(void)name;
	(void)now_ms;
	return 0;
}

const struct mr_sip_transport_counters *
mr_cp_sip_transport_counters(const struct mr_cp *cp)
{
	(void)cp;
	return NULL;
}

struct mr_sip *
mr_cp_sip_b2bua(const struct mr_cp *cp)
{
	(void)cp;
	return NULL;
}

const struct mr_sip_counters *
mr_sip_counters(const struct mr_sip *s)
{
	(void)s;
	abort();        /* only reached with a front-end, and there is none */
}

/* events.c's end callback logs why a call ended: nothing to log here. */
void
mr_cp_call_ended(const struct mr_call *c, enum mr_end_reason why, void *ctx)
{
	(void)c;
	(void)why;
	(void)ctx;
}

static void
cleanup(void)
{
	mr_session_free(F.cp.sess);
	mr_region_close(&F.cp.region);
	if (F.body != NULL && F.body != stderr)
		fclose(F.body);
	if (mr_test_tmpdir_remove(&F.t) != 0)
		fprintf(stderr, "fuzz_admin: could not remove %s\n", F.t.dir);
}

static void
init(void)
{
	struct mr_session_params p = { 0 };
	char err[256];
	unsigned int i;

	for (i = 0; i < MR_LOG_SUBSYS_MAX; i++)
		mr_log_set_level(i, LOG_CRIT);  /* every call made or ended logs a line */
	check(mr_test_tmpdir_make(&F.t, "/tmp/mr-fuzz-admin-XXXXXX", "region") == 0);
	check(mr_region_open(&F.cp.region, F.t.path, true, LEGS, 1) == 0);
	check(mr_region_lock(&F.cp.region) == 0);
	mr_cp_config_defaults(&F.cp.cfg);
	mr_test_iface(&F.cp.cfg.ifaces[0], "wan", "198.18.0.2", 30000, 30031, false);
	mr_test_iface(&F.cp.cfg.ifaces[1], "pstn", "198.18.0.3", 40000, 40015, true);
	F.cp.cfg.n_ifaces = 2;
	check(inet_pton(AF_INET, "198.18.0.3", F.pstn_ip) == 1);
	F.cp.config_path = "fuzz.conf";
	p.ifaces = F.cp.cfg.ifaces;
	p.n_ifaces = F.cp.cfg.n_ifaces;
	p.state_dir = F.t.dir;
	if (mr_session_new(&p, &F.cp.region, &F.cp.sess, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_admin: %s\n", err);
		abort();
	}
	/* FUZZ_ADMIN_TRACE=1: the replies and refusals on stderr */
	F.trace = getenv("FUZZ_ADMIN_TRACE") != NULL;
	F.body = F.trace ? stderr : fopen("/dev/null", "w");
	check(F.body != NULL);
	atexit(cleanup);
	F.ready = true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *nl;
	char line[MR_ADMIN_LINE_MAX], err[256];
	struct mr_session_stats st;
	size_t n;
	int r;

	if (!F.ready)
		init();
	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		/* admin.c hands over one line, NUL-terminated, at most this long */
		n = (size_t)(nl - p) < sizeof(line) - 1 ? (size_t)(nl - p) : sizeof(line) - 1;
		memcpy(line, p, n);
		line[n] = '\0';
		memset(err, 0x5c, sizeof(err));
		r = mr_admin_run(&F.cp, line, F.body, err, sizeof(err));
		check(r <= 0);
		if (F.trace)
			fprintf(stderr, "> %s: %d %s\n", line, r, r < 0 ? err : "");
		if (r < 0)
			check(terminated(err, sizeof(err)) && err[0] != '\0');
	}
	F.cp.reload = false;
	for (n = 0; n < LEGS; n++) {
		const struct mr_leg_slot *ls = mr_shm_slot(F.cp.region.hdr, (uint32_t)n);

		if (ls->state == MR_LEG_ACTIVE && (ls->flags & MR_LEG_F_PSTN))
			check(memcmp(ls->local.ip, F.pstn_ip, 4) == 0);
	}
	mr_session_end_all(F.cp.sess, NULL, NULL);
	mr_session_stats(F.cp.sess, &st);
	check(st.calls == 0 && st.legs == 0 && st.slots_free == LEGS && st.ports_used == 0);
	return 0;
}
