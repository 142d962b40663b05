/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for NG dispatch (controlplane/ng/): whole requests through
 * mr_ng_process() (cookie, retransmission cache, bencode, options, the
 * command, the SDP model and rewrite, the session manager) against a real
 * session manager on a temporary region and journal, with no dataplane.
 *
 * An input is one or more NG datagrams separated by two NUL bytes (real
 * requests hold none), so a seed can be a whole call: offer, answer,
 * query, delete. Besides ASan and UBSan, it aborts when a promise breaks:
 *  - every datagram gets a reply (0) unless it has no usable cookie
 *    (-EINVAL, dropped); the reply splits, carries the request's cookie,
 *    parses as a dictionary whose result is ok, pong or error, and an error
 *    reply holds error-reason and result and nothing else;
 *  - the region holds exactly the slots the session manager says it uses
 *    (a refused request leaves nothing behind);
 *  - each call's NG state prints as a note that parses back and prints the
 *    same, and the journaled note is that text (unless the reply warned);
 *  - after the input, a restart (the manager and the front-end rebuilt from
 *    journal and region, as after a kill -9) brings back every call with
 *    the same NG state; then ending every call frees every slot and port.
 *
 * The clock moves 100 s per input, past the retransmission cache's 30 s,
 * so an input never gets a reply cached by an earlier one. With
 * FUZZ_NG_TRACE set in the environment, each request's command and outcome
 * go to stderr (to see what a seed does; make_corpus.py writes them).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_check.h"
#include "frame.h"
#include "ng.h"
#include "ng_int.h"
#include "../unit/session_iface.h"
#include "../unit/tmpdir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LEGS 48u
#define MAX_CALLS 6u
#define REPLY_NODES 8192u

static struct {
	bool ready;
	bool trace;
	struct mr_test_tmpdir tmp;      /* path: the region; dir: the session's state_dir */
	struct mr_region r;
	struct mr_session_iface ifaces[2];
	struct mr_session *s;
	struct mr_ng *ng;
	uint64_t now_ms;
	char out[MR_NG_MSG_MAX];
	struct mr_bc_node nodes[REPLY_NODES];
} F;

static void
start(void)
{
	struct mr_session_params p = { 0 };
	struct mr_ng_params np = { 0 };
	char err[256];

	p.ifaces = F.ifaces;
	p.n_ifaces = 2;
	p.limits.max_calls = MAX_CALLS;
	p.state_dir = F.tmp.dir;
	check(mr_region_lock(&F.r) == 0);
	if (mr_session_new(&p, &F.r, &F.s, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_ng: %s\n", err);
		abort();
	}
	np.sess = F.s;
	np.ifaces = F.ifaces;
	np.n_ifaces = 2;
	F.ng = mr_ng_new(&np);
	check(F.ng != NULL);
}

/* As a kill -9 leaves it: nothing ended, the lock dropped. */
static void
stop(void)
{
	mr_ng_free(F.ng);
	F.ng = NULL;
	mr_session_free(F.s);
	F.s = NULL;
	mr_region_unlock(&F.r);
}

static void
cleanup(void)
{
	if (F.s != NULL)
		stop();
	mr_region_close(&F.r);
	if (mr_test_tmpdir_remove(&F.tmp) < 0)
		fprintf(stderr, "fuzz_ng: could not remove %s\n", F.tmp.dir);
}

static void
init(void)
{
	unsigned int i;

	check(mr_test_tmpdir_make(&F.tmp, "/tmp/mr-fuzz-ng-XXXXXX", "region") == 0);
	check(mr_region_open(&F.r, F.tmp.path, true, LEGS, 2) == 0);
	/* Small ranges, so exhaustion is reachable: 8 pairs on wan, 4 on pstn. */
	mr_test_iface(&F.ifaces[0], "wan", "198.18.0.2", 30000, 30015, false);
	mr_test_iface(&F.ifaces[1], "pstn", "198.18.0.2", 40000, 40007, true);
	/* offers may ask for IPv6: both interfaces have an address for it */
	for (i = 0; i < 2; i++) {
		F.ifaces[i].local6.family = MR_AF_INET6;
		inet_pton(AF_INET6, "2001:db8::2", F.ifaces[i].local6.ip);
	}
	start();
	atexit(cleanup);
	F.trace = getenv("FUZZ_NG_TRACE") != NULL;
	F.ready = true;
}

static unsigned int
active_slots(void)
{
	unsigned int i, n = 0;

	for (i = 0; i < LEGS; i++)
		n += mr_shm_slot(F.r.hdr, i)->state == MR_LEG_ACTIVE;
	return n;
}

/* The reply in F.out[0..len) to a request with cookie @ck. */
static void
check_reply(size_t len, const char *ck, size_t ck_len)
{
	const struct mr_bc_node *d, *res;
	struct mr_bc_arena a;
	struct mr_ng_msg m;
	struct mr_bc_err e;

	check(len <= sizeof(F.out));
	check(mr_ng_split(F.out, len, &m, NULL) == 0);
	check(m.cookie_len == ck_len && memcmp(m.cookie, ck, ck_len) == 0);
	mr_bc_arena_init(&a, F.nodes, REPLY_NODES);
	check(mr_ng_parse_request(&m, &a, &d, &e) == 0);
	res = mr_bc_dict_get(d, "result");
	check(res != NULL && res->type == MR_BC_STR);
	check(mr_bc_str_eq(res, "ok") || mr_bc_str_eq(res, "pong") || mr_bc_str_eq(res, "error"));
	if (mr_bc_str_eq(res, "error")) {
		const struct mr_bc_node *why = mr_bc_dict_get(d, "error-reason");

		check(d->count == 2 && why != NULL && why->type == MR_BC_STR && why->s.len > 0);
	}
}

/* Every call's NG state against its note; @journaled: the note must be it. */
static void
check_notes(bool journaled)
{
	char a[MR_SESSION_NOTE_MAX + 1], b[MR_SESSION_NOTE_MAX + 1];
	struct mr_call *c;

	for (c = mr_session_call_next(F.s, NULL); c != NULL; c = mr_session_call_next(F.s, c)) {
		const struct ng_call *nc = ng_call_of(c);
		struct mr_leg_info li;
		struct ng_call back;

		if (nc == NULL)
			continue;
		mr_session_leg_info(mr_session_leg_at(c, 0), &li);
		check(ng_call_note_format(nc, a, sizeof(a)) > 0);
		check(ng_call_note_parse(a, li.n_streams, &back) == 0);
		check(ng_call_note_format(&back, b, sizeof(b)) > 0);
		check(strcmp(a, b) == 0);
		if (journaled)
			check(mr_session_call_note(c) != NULL && strcmp(mr_session_call_note(c), a) == 0);
	}
}

/* Restart: every call comes back with the same note and NG state. */
static void
check_restart(void)
{
	static char notes[MAX_CALLS][MR_SESSION_NOTE_MAX + 1];
	struct mr_session_stats before, after;
	unsigned int n = 0, i;
	struct mr_call *c;

	mr_session_stats(F.s, &before);
	for (c = mr_session_call_next(F.s, NULL); c != NULL && n < MAX_CALLS;
	     c = mr_session_call_next(F.s, c), n++)
		snprintf(notes[n], sizeof(notes[n]), "%s",
			 mr_session_call_note(c) != NULL ? mr_session_call_note(c) : "");
	stop();
	start();
	mr_session_stats(F.s, &after);
	check(after.calls == before.calls && after.legs == before.legs &&
	      after.ports_used == before.ports_used);
	for (c = mr_session_call_next(F.s, NULL), i = 0; c != NULL;
	     c = mr_session_call_next(F.s, c), i++) {
		char now[MR_SESSION_NOTE_MAX + 1];

		check(i < n);
		check(strcmp(mr_session_call_note(c) != NULL ? mr_session_call_note(c) : "",
			     notes[i]) == 0);
		if (notes[i][0] != '\0') {
			check(ng_call_of(c) != NULL);
			check(ng_call_note_format(ng_call_of(c), now, sizeof(now)) > 0);
			check(strcmp(now, notes[i]) == 0);
		}
	}
	check(i == n);
}

static void
one(const char *msg, size_t len)
{
	struct mr_session_stats st;
	struct mr_ng_result res;
	struct mr_ng_msg m;
	size_t out_len = 0;
	int r;

	r = mr_ng_process(F.ng, msg, len, "fuzz", 4, F.now_ms++, F.out, sizeof(F.out), &out_len,
			  &res);
	if (r < 0) {
		check(r == -EINVAL && res.dropped);
	} else {
		check(r == 0 && !res.dropped);
		check(mr_ng_split(msg, len, &m, NULL) == 0);
		check_reply(out_len, m.cookie, m.cookie_len);
	}
	check(strnlen(res.reason, sizeof(res.reason)) < sizeof(res.reason));
	if (F.trace)
		fprintf(stderr, "fuzz_ng: %s%s%s: %s\n", mr_ng_cmd_name(res.cmd),
			res.cached ? " (cached)" : "", res.dropped ? " (dropped)" : "",
			res.error ? res.reason : res.reason[0] != '\0' ? res.reason : "ok");
	mr_session_stats(F.s, &st);
	check(active_slots() == st.legs);
	check_notes(r == 0 && !res.cached && !res.error && res.reason[0] == '\0');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	struct mr_session_stats st;

	if (!F.ready)
		init();
	F.now_ms += 100000;
	while (p <= end) {
		const char *sep = p;

		while (sep + 1 < end && !(sep[0] == '\0' && sep[1] == '\0'))
			sep++;
		if (sep + 1 >= end)
			sep = end;
		one(p, (size_t)(sep - p));
		p = sep + 2;
	}
	mr_session_stats(F.s, &st);
	if (st.calls > 0)
		check_restart();
	mr_session_end_all(F.s, NULL, NULL);     /* the lock is held since start() */
	mr_session_stats(F.s, &st);
	check(st.calls == 0 && st.legs == 0 && st.ports_used == 0 && st.slots_free == LEGS);
	check(active_slots() == 0);
	return 0;
}
