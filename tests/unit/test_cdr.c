/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The CDR store (controlplane/sip/cdr.c) on temporary files: write, list
 * (since, order, early stop), purge by end time; strings with quotes and
 * SQL in them come back byte for byte; counters keep all 64 bits; the file
 * (and its WAL) is 0600 under umask 0 and a looser existing file is
 * tightened; bad paths and non-databases are errors; a second handle (as
 * mrelayctl) lists while the first writes, and two processes creating the
 * same new file at once both succeed.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "cdr.h"
#include "race.h"
#include "tmpdir.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct fixture {
	struct mr_test_tmpdir tmp;      /* path: the database */
	struct mr_cdr *c;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	if (mr_test_tmpdir_make(&f->tmp, "/tmp/mr-cdr-XXXXXX", "cdr.db") < 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	int r;

	mr_cdr_close(f->c);
	r = mr_test_tmpdir_remove(&f->tmp);
	free(f);
	return r;
}

static struct mr_cdr_row
make_row(const char *call_id, int64_t start, int64_t answer, int64_t end)
{
	struct mr_cdr_row r;

	memset(&r, 0, sizeof(r));
	snprintf(r.call_id, sizeof(r.call_id), "%s", call_id);
	snprintf(r.caller, sizeof(r.caller), "alice");
	snprintf(r.callee, sizeof(r.callee), "pstn1:004930123456");
	r.start_s = start;
	r.answer_s = answer;
	r.end_s = end;
	r.duration_s = answer != 0 ? (uint32_t)(end - answer) : 0;
	r.sip_status = answer != 0 ? 200 : 486;
	snprintf(r.end_reason, sizeof(r.end_reason), "%s", answer != 0 ? "caller-bye" : "rejected");
	r.pkts_caller_to_callee = 1000;
	r.bytes_caller_to_callee = 172000;
	r.pkts_callee_to_caller = 999;
	r.bytes_callee_to_caller = 171828;
	r.pkts_dropped = 3;
	return r;
}

struct got {
	struct mr_cdr_row rows[8];
	unsigned int n, stop_after;
};

static int
collect(void *arg, const struct mr_cdr_row *row)
{
	struct got *g = arg;

	if (g->n < ARRAY_SIZE(g->rows))
		g->rows[g->n] = *row;
	g->n++;
	return g->stop_after != 0 && g->n >= g->stop_after ? 42 : 0;
}

static void
assert_row_equal(const struct mr_cdr_row *a, const struct mr_cdr_row *b)
{
	assert_string_equal(a->call_id, b->call_id);
	assert_string_equal(a->caller, b->caller);
	assert_string_equal(a->callee, b->callee);
	assert_int_equal(a->start_s, b->start_s);
	assert_int_equal(a->answer_s, b->answer_s);
	assert_int_equal(a->end_s, b->end_s);
	assert_int_equal(a->duration_s, b->duration_s);
	assert_int_equal(a->sip_status, b->sip_status);
	assert_string_equal(a->end_reason, b->end_reason);
	assert_true(a->pkts_caller_to_callee == b->pkts_caller_to_callee);
	assert_true(a->bytes_caller_to_callee == b->bytes_caller_to_callee);
	assert_true(a->pkts_callee_to_caller == b->pkts_callee_to_caller);
	assert_true(a->bytes_callee_to_caller == b->bytes_callee_to_caller);
	assert_true(a->pkts_dropped == b->pkts_dropped);
}

static void
test_write_list_purge(void **state)
{
	struct fixture *f = *state;
	struct mr_cdr_row rows[4];
	struct got g = { .n = 0 };
	unsigned int i;

	rows[0] = make_row("c3@host", 1000, 1005, 1300);
	rows[1] = make_row("c1@host", 900, 0, 910);     /* rejected, ended first */
	rows[2] = make_row("c2@host", 1100, 1101, 1200);
	rows[3] = make_row("c4@host", 1200, 1201, 1300); /* same end as c3: insertion order */
	rows[3].bytes_callee_to_caller = UINT64_MAX;    /* all 64 bits */
	rows[3].pkts_dropped = (uint64_t)1 << 63;
	assert_int_equal(mr_cdr_open(f->tmp.path, &f->c), 0);
	for (i = 0; i < ARRAY_SIZE(rows); i++)
		assert_int_equal(mr_cdr_write(f->c, &rows[i]), 0);

	assert_int_equal(mr_cdr_list(f->c, 0, collect, &g), 0);
	assert_int_equal(g.n, 4);
	assert_row_equal(&g.rows[0], &rows[1]);
	assert_row_equal(&g.rows[1], &rows[2]);
	assert_row_equal(&g.rows[2], &rows[0]);
	assert_row_equal(&g.rows[3], &rows[3]);

	/* since: ended at or after */
	g = (struct got){ .n = 0 };
	assert_int_equal(mr_cdr_list(f->c, 1200, collect, &g), 0);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.rows[0].call_id, "c2@host");
	g = (struct got){ .n = 0, .stop_after = 2 };
	assert_int_equal(mr_cdr_list(f->c, 0, collect, &g), 42);
	assert_int_equal(g.n, 2);

	/* purge: ended before */
	assert_int_equal(mr_cdr_purge(f->c, 910), 0);
	assert_int_equal(mr_cdr_purge(f->c, 1201), 2);
	g = (struct got){ .n = 0 };
	assert_int_equal(mr_cdr_list(f->c, 0, collect, &g), 0);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.rows[0].call_id, "c3@host");
	assert_string_equal(g.rows[1].call_id, "c4@host");

	/* kept across a reopen */
	mr_cdr_close(f->c);
	assert_int_equal(mr_cdr_open(f->tmp.path, &f->c), 0);
	g = (struct got){ .n = 0 };
	assert_int_equal(mr_cdr_list(f->c, 0, collect, &g), 0);
	assert_int_equal(g.n, 2);
	assert_row_equal(&g.rows[1], &rows[3]);
	assert_int_equal(mr_cdr_purge(f->c, INT64_MAX), 2);
	mr_cdr_close(NULL);
}

static void
test_strings(void **state)
{
	static const char *const nasty[] = {
		"it's \"quoted\"",
		"x'); DROP TABLE cdr; --",
		"semi;colon\\back\\slash %s %n",
		"\xc3\xa9t\xc3\xa9 \t tab",
	};
	struct fixture *f = *state;
	struct mr_cdr_row row = make_row("", 1, 2, 3);
	struct got g = { .n = 0 };
	unsigned int i;

	assert_int_equal(mr_cdr_open(f->tmp.path, &f->c), 0);
	for (i = 0; i < ARRAY_SIZE(nasty); i++) {
		snprintf(row.call_id, sizeof(row.call_id), "%s", nasty[i]);
		snprintf(row.caller, sizeof(row.caller), "%s", nasty[(i + 1) % ARRAY_SIZE(nasty)]);
		snprintf(row.end_reason, sizeof(row.end_reason), "%s", nasty[i]);
		assert_int_equal(mr_cdr_write(f->c, &row), 0);
	}
	assert_int_equal(mr_cdr_list(f->c, 0, collect, &g), 0);
	assert_int_equal(g.n, ARRAY_SIZE(nasty));
	for (i = 0; i < ARRAY_SIZE(nasty); i++) {
		assert_string_equal(g.rows[i].call_id, nasty[i]);
		assert_string_equal(g.rows[i].caller, nasty[(i + 1) % ARRAY_SIZE(nasty)]);
		assert_string_equal(g.rows[i].end_reason, nasty[i]);
	}
	/* A field as long as its buffer fits; one without its NUL is refused. */
	memset(row.callee, 'x', sizeof(row.callee) - 1);
	row.callee[sizeof(row.callee) - 1] = '\0';
	assert_int_equal(mr_cdr_write(f->c, &row), 0);
	row.callee[sizeof(row.callee) - 1] = 'x';
	assert_int_equal(mr_cdr_write(f->c, &row), -EINVAL);
	g = (struct got){ .n = 0 };
	assert_int_equal(mr_cdr_list(f->c, 0, collect, &g), 0);
	assert_int_equal(g.n, ARRAY_SIZE(nasty) + 1);
	assert_int_equal(strlen(g.rows[ARRAY_SIZE(nasty)].callee), sizeof(row.callee) - 1);
	assert_int_equal(mr_cdr_write(NULL, &row), -EINVAL);
	assert_int_equal(mr_cdr_write(f->c, NULL), -EINVAL);
}

static void
assert_mode_0600(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	if ((st.st_mode & 07777) != 0600)
		fail_msg("%s has mode %o", path, (unsigned int)(st.st_mode & 07777));
}

static void
test_file_mode(void **state)
{
	struct fixture *f = *state;
	struct mr_cdr_row row = make_row("m", 1, 2, 3);
	char wal[128];
	mode_t old = umask(0);
	int fd;

	assert_int_equal(mr_cdr_open(f->tmp.path, &f->c), 0);
	assert_int_equal(mr_cdr_write(f->c, &row), 0);
	assert_mode_0600(f->tmp.path);
	snprintf(wal, sizeof(wal), "%s-wal", f->tmp.path);
	assert_mode_0600(wal);
	mr_cdr_close(f->c);
	f->c = NULL;
	/* an existing file left readable by others is tightened */
	assert_int_equal(chmod(f->tmp.path, 0644), 0);
	assert_int_equal(mr_cdr_open(f->tmp.path, &f->c), 0);
	assert_mode_0600(f->tmp.path);
	mr_cdr_close(f->c);
	f->c = NULL;
	/* an empty file made by someone else with a loose mode */
	unlink(f->tmp.path);
	fd = open(f->tmp.path, O_WRONLY | O_CREAT, 0666);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(mr_cdr_open(f->tmp.path, &f->c), 0);
	assert_mode_0600(f->tmp.path);
	umask(old);
}

static void
test_bad_paths(void **state)
{
	struct fixture *f = *state;
	struct mr_cdr *c = NULL;
	char link[128];
	sqlite3 *db;
	int fd;

	assert_int_equal(mr_cdr_open("/nonexistent-dir/cdr.db", &c), -ENOENT);
	assert_int_equal(mr_cdr_open(f->tmp.dir, &c), -EISDIR);
	assert_int_equal(mr_cdr_open("", &c), -EINVAL);
	assert_int_equal(mr_cdr_open(NULL, &c), -EINVAL);
	assert_null(c);
	/* a symlink is not followed (someone else's file would become ours) */
	snprintf(link, sizeof(link), "%s/link.db", f->tmp.dir);
	assert_int_equal(symlink(f->tmp.path, link), 0);
	assert_int_equal(mr_cdr_open(link, &c), -ELOOP);
	/* not a database */
	fd = open(f->tmp.path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "this is not an SQLite database, not even close.\n", 48), 48);
	close(fd);
	assert_int_equal(mr_cdr_open(f->tmp.path, &c), -EIO);
	assert_null(c);
	/* a newer schema */
	unlink(f->tmp.path);
	assert_int_equal(sqlite3_open(f->tmp.path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 2", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(mr_cdr_open(f->tmp.path, &c), -ENOTSUP);
}

/* A second handle (mrelayctl) lists while the first (the daemon) writes in
 * the middle of the walk: neither waits nor fails (WAL). */
struct reader {
	struct mr_cdr *writer;
	unsigned int n;
	int wr;
};

static int
write_during_list(void *arg, const struct mr_cdr_row *row)
{
	struct reader *rd = arg;
	struct mr_cdr_row more = make_row("during", 50, 51, 60);

	(void)row;
	if (rd->n++ == 0)
		rd->wr = mr_cdr_write(rd->writer, &more);
	return 0;
}

static void
test_reader_beside_writer(void **state)
{
	struct fixture *f = *state;
	struct mr_cdr *reader = NULL;
	struct mr_cdr_row row = make_row("before", 10, 11, 20);
	struct reader rd = { .n = 0 };
	struct got g = { .n = 0 };

	assert_int_equal(mr_cdr_open(f->tmp.path, &f->c), 0);
	assert_int_equal(mr_cdr_write(f->c, &row), 0);
	assert_int_equal(mr_cdr_write(f->c, &row), 0);
	assert_int_equal(mr_cdr_open(f->tmp.path, &reader), 0);
	rd.writer = f->c;
	assert_int_equal(mr_cdr_list(reader, 0, write_during_list, &rd), 0);
	assert_int_equal(rd.wr, 0);
	assert_int_equal(rd.n, 2);      /* its snapshot */
	assert_int_equal(mr_cdr_list(reader, 0, collect, &g), 0);
	assert_int_equal(g.n, 3);
	assert_int_equal(mr_cdr_purge(f->c, 100), 3);
	mr_cdr_close(reader);
}

static int
race_child(unsigned int i, void *arg)
{
	const char *path = arg;
	struct mr_cdr *c = NULL;
	struct mr_cdr_row row = make_row("race", 1, 2, 3);
	int r;

	(void)i;
	r = mr_cdr_open(path, &c);
	if (r < 0)
		return 20 + (-r & 0x3f);
	r = mr_cdr_write(c, &row);
	mr_cdr_close(c);
	return r < 0 ? 90 : 0;
}

static void
test_concurrent_create(void **state)
{
	struct fixture *f = *state;
	unsigned int round;

	for (round = 0; round < 20; round++) {
		struct got g = { .n = 0 };
		char cmd[512];

		snprintf(cmd, sizeof(cmd), "rm -f '%s' '%s-wal' '%s-shm' '%s-journal'", f->tmp.path,
			 f->tmp.path, f->tmp.path, f->tmp.path);
		assert_int_equal(system(cmd), 0);
		mr_test_race_pair(race_child, f->tmp.path, round, "");
		assert_int_equal(mr_cdr_open(f->tmp.path, &f->c), 0);
		assert_int_equal(mr_cdr_list(f->c, 0, collect, &g), 0);
		assert_int_equal(g.n, 2);
		mr_cdr_close(f->c);
		f->c = NULL;
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_list_purge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_strings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_beside_writer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_create, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
