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
 *    records the record parser accepts, reporting bad lines with a reason.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"
#include "../unit/tmpdir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct {
	struct mr_test_tmpdir t;
	bool ready;
} F;

static void
check(int cond)
{
	if (!cond)
		abort();
}

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
	if (mr_test_tmpdir_remove(&F.t) != 0)
		fprintf(stderr, "fuzz_journal: could not remove %s\n", F.t.dir);
}

static void
read_file(const uint8_t *data, size_t size)
{
	struct mr_journal *j = NULL;
	char err[512];
	unsigned int good = 0, bad = 0;
	FILE *f;
	int r;

	if (!F.ready) {
		check(mr_test_tmpdir_make(&F.t, "/tmp/mr-fuzz-journal-XXXXXX", "journal") == 0);
		atexit(cleanup);
		F.ready = true;
	}
	f = fopen(F.t.path, "w");
	check(f != NULL && fwrite(data, 1, size, f) == size && fclose(f) == 0);
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	each_line(data, size);
	read_file(data, size);
	return 0;
}
