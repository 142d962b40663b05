/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for the session manager's journal (controlplane/session/
 * journal.c), which mrelay-cp reads back after a restart: the input is a
 * whole journal file. Each line goes to the record parser, and the file to
 * the reader (open, replay). Besides ASan's checks, it aborts when a
 * promise of journal.h breaks:
 *  - a refused line says why; an accepted record formats again within
 *    MR_JOURNAL_LINE_MAX as one line, which parses back to a record that
 *    formats the same (so what the reader takes, the writer can write);
 *  - the reader opens a file or refuses it with a reason, and replays only
 *    records the record parser accepts, reporting bad lines with a reason;
 *  - the session manager restarts on it (recover.c) over a region holding a
 *    slot for each stream record whose leg uid is not 3 mod 4 (so some
 *    streams' slots are missing, and the fuzzer picks which): the calls it
 *    keeps are as many as it says, each slot belongs to one stream at most,
 *    and each kept stream's slot is active with its call's tag.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "fuzz_check.h"
#include "journal.h"
#include "region.h"
#include "session.h"
#include "../unit/session_iface.h"
#include "../unit/tmpdir.h"

#define LEGS 64u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct {
	struct mr_test_tmpdir t;
	struct mr_region r;
	struct mr_session_iface ifaces[2];
	bool ready;
} F;

static void
round_trip(const struct mr_jrec *r)
{
	static struct mr_jrec back;
	char line[MR_JOURNAL_LINE_MAX], again[MR_JOURNAL_LINE_MAX];
	const char *why = NULL;
	int n, m;

	n = mr_jrec_format(r, line, sizeof(line));
	check(n > 0 && (size_t)n <= sizeof(line) && line[n - 1] == '\n');
	check(memchr(line, '\n', (size_t)n - 1) == NULL);
	check(mr_jrec_parse(line, (size_t)n - 1, &back, &why) == 0);
	m = mr_jrec_format(&back, again, sizeof(again));
	check(m == n && memcmp(line, again, (size_t)n) == 0);
}

static void
each_line(const uint8_t *data, size_t size)
{
	static struct mr_jrec r;
	const char *p = (const char *)data, *end = p + size, *nl;
	const char *why;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		why = NULL;
		if (mr_jrec_parse(p, (size_t)(nl - p), &r, &why) == 0)
			round_trip(&r);
		else
			check(why != NULL && why[0] != '\0');
		p = nl + 1;
	}
}

static int
replayed(const struct mr_jrec *r, void *ctx, const char **why)
{
	(void)why;
	++*(unsigned int *)ctx;
	round_trip(r);
	return 0;
}

static void
cleanup(void)
{
	mr_region_close(&F.r);
	if (mr_test_tmpdir_remove(&F.t) != 0)
		fprintf(stderr, "fuzz_journal: could not remove %s\n", F.t.dir);
}

static void
init(void)
{
	char path[sizeof(F.t.dir) + 8];

	check(mr_test_tmpdir_make(&F.t, "/tmp/mr-fuzz-journal-XXXXXX", "journal") == 0);
	snprintf(path, sizeof(path), "%s/region", F.t.dir);
	check(mr_region_open(&F.r, path, true, LEGS, 1) == 0);
	mr_test_iface(&F.ifaces[0], "wan", "198.18.0.2", 30000, 30063, false);
	mr_test_iface(&F.ifaces[1], "pstn", "198.18.0.2", 40000, 40031, true);
	atexit(cleanup);
	F.ready = true;
}

/* The input as the journal file: the reader and the restart both read it. */
static void
write_journal(const uint8_t *data, size_t size)
{
	FILE *f = fopen(F.t.path, "w");

	check(f != NULL && fwrite(data, 1, size, f) == size && fclose(f) == 0);
}

/* Only reads: the file stays the input for restart(). */
static void
read_file(size_t size)
{
	struct mr_journal *j = NULL;
	char err[512];
	unsigned int good = 0, bad = 0;
	int r;

	err[0] = '\0';
	r = mr_journal_open(F.t.dir, &j, err, sizeof(err));
	if (r < 0) {
		check(j == NULL && memchr(err, '\0', sizeof(err)) != NULL && err[0] != '\0');
		return;
	}
	check(mr_journal_version(j) >= MR_JOURNAL_VERSION_MIN &&
	      mr_journal_version(j) <= MR_JOURNAL_VERSION);
	err[0] = '\0';
	r = mr_journal_replay(j, replayed, &good, &bad, err, sizeof(err));
	check(r <= 0);
	check(bad == 0 || (memchr(err, '\0', sizeof(err)) != NULL && err[0] != '\0'));
	check(good + bad <= size);
	mr_journal_close(j);
}

/*
 * The region as the journal's streams would have left it: a slot for each
 * stream record (leg uid not 3 mod 4), everything else free.
 */
static void
region_for(const uint8_t *data, size_t size)
{
	static struct mr_jrec r;
	const char *p = (const char *)data, *end = p + size, *nl, *why;
	uint32_t i;

	for (i = 0; i < LEGS; i++)
		memset(mr_shm_slot(F.r.hdr, i), 0, sizeof(struct mr_leg_slot));
	for (; p < end; p = nl + 1) {
		struct mr_leg_slot *ls;

		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		if (mr_jrec_parse(p, (size_t)(nl - p), &r, &why) < 0 || r.type != MR_JREC_STREAM ||
		    r.slot >= LEGS || r.leg_uid % 4u == 3u)
			continue;
		ls = mr_shm_slot(F.r.hdr, r.slot);
		ls->state = MR_LEG_ACTIVE;
		ls->leg_uid = r.leg_uid;
		ls->call_tag = r.call_tag;
		ls->latch = MR_LATCH_FIRST;
		ls->egress_slot = MR_LEG_NONE;
		ls->flags = MR_LEG_F_PSTN;
		ls->local = F.ifaces[0].local4;
		ls->local.port_be = htons(r.rtp_port);
	}
}

static void
restart(const uint8_t *data, size_t size)
{
	struct mr_session_params p = { 0 };
	struct mr_session_recovery rec;
	struct mr_session *s = NULL;
	struct mr_call *c = NULL;
	struct mr_call_info ci;
	struct mr_leg_info li;
	struct mr_stream_info si;
	bool owned[LEGS] = { false };
	unsigned int calls = 0, k, i;
	char err[512];

	region_for(data, size);
	p.ifaces = F.ifaces;
	p.n_ifaces = 2;
	p.state_dir = F.t.dir;
	check(mr_region_lock(&F.r) == 0);
	memset(&rec, 0, sizeof(rec));
	if (mr_session_new(&p, &F.r, &s, &rec, err, sizeof(err)) < 0) {
		check(s == NULL && memchr(err, '\0', sizeof(err)) != NULL && err[0] != '\0');
		mr_region_unlock(&F.r);
		return;
	}
	while ((c = mr_session_call_next(s, c)) != NULL) {
		calls++;
		mr_session_call_info(c, &ci);
		for (k = 0; k < ci.n_legs; k++) {
			const struct mr_leg *l = mr_session_leg_at(c, k);

			check(l != NULL);
			mr_session_leg_info(l, &li);
			for (i = 0; i < li.n_streams; i++) {
				const struct mr_leg_slot *ls;

				check(mr_session_stream_info(s, l, i, &si) == 0 && si.slot < LEGS);
				check(!owned[si.slot]);
				owned[si.slot] = true;
				ls = mr_shm_slot(F.r.hdr, si.slot);
				check(ls->state == MR_LEG_ACTIVE && ls->call_tag == ci.tag);
			}
		}
	}
	check(calls == rec.calls);
	mr_session_free(s);
	mr_region_unlock(&F.r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!F.ready)
		init();
	each_line(data, size);
	write_journal(data, size);
	read_file(size);
	restart(data, size);
	return 0;
}
