/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The SIP account store (controlplane/sip/accounts.c) on a temporary
 * database: add, list, passwd, revoke and HA1 lookup (checked against
 * mr_digest_ha1()); the file is 0600 under a permissive umask; no password
 * ever reaches the file's bytes, not even an old one after passwd or revoke;
 * bad names are refused; the realm and schema version guard a reopen; a file
 * that is not a database is refused; two processes opening the same new
 * file at once both succeed, with one schema.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "accounts.h"
#include "race.h"
#include "tmpdir.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define REALM "example.net"
#define PASS_A "correct horse battery"
#define PASS_B "Tr0ub4dor&3-staple"
#define PASS_C "p@ss w0rd (third)"

struct fixture {
	struct mr_test_tmpdir tmp;      /* path: the database */
	struct mr_accounts *a;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	if (mr_test_tmpdir_make(&f->tmp, "/tmp/mr-accounts-XXXXXX", "accounts.db") < 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char p[128];

	mr_accounts_close(f->a);
	unlink(f->tmp.path);
	snprintf(p, sizeof(p), "%s-journal", f->tmp.path);
	unlink(p);
	rmdir(f->tmp.dir);
	free(f);
	return 0;
}

struct seen {
	char names[8][MR_ACCOUNTS_NAME_MAX + 1];
	size_t n;
};

static int
collect(void *arg, const char *name, int64_t created_s, int64_t changed_s)
{
	struct seen *s = arg;

	assert_true(created_s > 0 && changed_s >= created_s);
	if (s->n < ARRAY_SIZE(s->names))
		strcpy(s->names[s->n++], name);
	return 0;
}

static int
stop_at_first(void *arg, const char *name, int64_t created_s, int64_t changed_s)
{
	(void)name;
	(void)created_s;
	(void)changed_s;
	(*(int *)arg)++;
	return 7;
}

static void
expect_ha1(struct mr_accounts *a, const char *name, const char *password)
{
	char got[MR_DIGEST_HEX_MAX], want[MR_DIGEST_HEX_MAX];

	assert_int_equal(mr_accounts_lookup_ha1(a, name, MR_DIGEST_MD5, got), 0);
	assert_int_equal(mr_digest_ha1(MR_DIGEST_MD5, name, REALM, password, want), 0);
	assert_string_equal(got, want);
	assert_int_equal(mr_accounts_lookup_ha1(a, name, MR_DIGEST_SHA256, got), 0);
	assert_int_equal(mr_digest_ha1(MR_DIGEST_SHA256, name, REALM, password, want), 0);
	assert_string_equal(got, want);
}

static void
test_lifecycle(void **state)
{
	struct fixture *f = *state;
	char ha1[MR_DIGEST_HEX_MAX];
	struct seen s = { 0 };
	int calls = 0;

	(void)state;
	assert_int_equal(mr_accounts_open(f->tmp.path, REALM, &f->a), 0);
	assert_int_equal(mr_accounts_add(f->a, "room-1", PASS_A), 0);
	assert_int_equal(mr_accounts_add(f->a, "alice", PASS_B), 0);
	assert_int_equal(mr_accounts_add(f->a, "alice", PASS_C), -EEXIST);
	assert_int_equal(mr_accounts_add(f->a, "bob", ""), -EINVAL);
	assert_int_equal(mr_accounts_add(f->a, "bob", NULL), -EINVAL);

	assert_int_equal(mr_accounts_list(f->a, collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.names[0], "alice");
	assert_string_equal(s.names[1], "room-1");
	assert_int_equal(mr_accounts_list(f->a, stop_at_first, &calls), 7);
	assert_int_equal(calls, 1);

	expect_ha1(f->a, "alice", PASS_B);
	expect_ha1(f->a, "room-1", PASS_A);
	assert_int_equal(mr_accounts_lookup_ha1(f->a, "carol", MR_DIGEST_MD5, ha1), -ENOENT);
	assert_int_equal(mr_accounts_lookup_ha1(f->a, "bad name", MR_DIGEST_MD5, ha1), -ENOENT);
	assert_int_equal(mr_accounts_lookup_ha1(f->a, "alice", MR_DIGEST_INVALID, ha1), -EINVAL);

	assert_int_equal(mr_accounts_passwd(f->a, "alice", PASS_C), 0);
	expect_ha1(f->a, "alice", PASS_C);
	assert_int_equal(mr_accounts_passwd(f->a, "carol", PASS_C), -ENOENT);

	assert_int_equal(mr_accounts_revoke(f->a, "room-1"), 0);
	assert_int_equal(mr_accounts_lookup_ha1(f->a, "room-1", MR_DIGEST_SHA256, ha1), -ENOENT);
	assert_int_equal(mr_accounts_revoke(f->a, "room-1"), -ENOENT);

	/* reopen: the data persisted */
	mr_accounts_close(f->a);
	f->a = NULL;
	assert_int_equal(mr_accounts_open(f->tmp.path, REALM, &f->a), 0);
	expect_ha1(f->a, "alice", PASS_C);
	memset(&s, 0, sizeof(s));
	assert_int_equal(mr_accounts_list(f->a, collect, &s), 0);
	assert_int_equal(s.n, 1);
}

static void
test_file_mode(void **state)
{
	struct fixture *f = *state;
	struct stat st;
	mode_t old = umask(0);

	assert_int_equal(mr_accounts_open(f->tmp.path, REALM, &f->a), 0);
	umask(old);
	assert_int_equal(mr_accounts_add(f->a, "alice", PASS_A), 0);
	assert_int_equal(stat(f->tmp.path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	mr_accounts_close(f->a);
	f->a = NULL;
	/* an existing file someone loosened is tightened again */
	assert_int_equal(chmod(f->tmp.path, 0644), 0);
	assert_int_equal(mr_accounts_open(f->tmp.path, REALM, &f->a), 0);
	assert_int_equal(stat(f->tmp.path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
}

static bool
file_contains(const char *path, const char *needle)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;
	bool found;

	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	assert_true(n > 0);
	rewind(fp);
	buf = malloc((size_t)n);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	found = memmem(buf, (size_t)n, needle, strlen(needle)) != NULL;
	free(buf);
	return found;
}

static void
test_no_password_in_file(void **state)
{
	struct fixture *f = *state;
	char ha1[MR_DIGEST_HEX_MAX];

	assert_int_equal(mr_accounts_open(f->tmp.path, REALM, &f->a), 0);
	assert_int_equal(mr_accounts_add(f->a, "alice", PASS_A), 0);
	assert_int_equal(mr_accounts_add(f->a, "bob", PASS_B), 0);
	assert_int_equal(mr_accounts_passwd(f->a, "alice", PASS_C), 0);
	mr_accounts_close(f->a);
	f->a = NULL;
	assert_true(file_contains(f->tmp.path, "alice"));   /* the check can see rows */
	assert_false(file_contains(f->tmp.path, PASS_A));
	assert_false(file_contains(f->tmp.path, PASS_B));
	assert_false(file_contains(f->tmp.path, PASS_C));
	/* secure_delete: alice's replaced HA1 and revoked bob's are gone too */
	assert_int_equal(mr_digest_ha1(MR_DIGEST_SHA256, "alice", REALM, PASS_A, ha1), 0);
	assert_false(file_contains(f->tmp.path, ha1));
	assert_int_equal(mr_accounts_open(f->tmp.path, REALM, &f->a), 0);
	assert_int_equal(mr_accounts_revoke(f->a, "bob"), 0);
	mr_accounts_close(f->a);
	f->a = NULL;
	assert_int_equal(mr_digest_ha1(MR_DIGEST_SHA256, "bob", REALM, PASS_B, ha1), 0);
	assert_false(file_contains(f->tmp.path, ha1));
	assert_int_equal(mr_digest_ha1(MR_DIGEST_MD5, "bob", REALM, PASS_B, ha1), 0);
	assert_false(file_contains(f->tmp.path, ha1));
}

static void
test_bad_names(void **state)
{
	static const char *const bad[] = {
		"", "a b", "a@b", "a:b", "a;b", "a/b", "a%40b", "a\"b", "sip:alice",
		"\xc3\xa9", "a\nb",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 65 */
	};
	static const char *const good[] = {
		"a", "Alice", "room-1", "r.s_t!u~v*w'x(y)z", "0123456789",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 64 */
	};
	struct fixture *f = *state;
	size_t i;

	assert_int_equal(mr_accounts_open(f->tmp.path, REALM, &f->a), 0);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		print_message("bad %zu\n", i);
		assert_false(mr_accounts_name_valid(bad[i]));
		assert_int_equal(mr_accounts_add(f->a, bad[i], PASS_A), -EINVAL);
		assert_int_equal(mr_accounts_revoke(f->a, bad[i]), -EINVAL);
		assert_int_equal(mr_accounts_passwd(f->a, bad[i], PASS_A), -EINVAL);
	}
	assert_false(mr_accounts_name_valid(NULL));
	for (i = 0; i < ARRAY_SIZE(good); i++) {
		assert_true(mr_accounts_name_valid(good[i]));
		assert_int_equal(mr_accounts_add(f->a, good[i], PASS_A), 0);
	}
	/* SQL in a name cannot get past validation, and binding would hold it anyway */
	assert_int_equal(mr_accounts_add(f->a, "x'); DROP TABLE accounts;--", PASS_A), -EINVAL);
}

static void
test_reopen_guards(void **state)
{
	struct fixture *f = *state;
	struct mr_accounts *b = NULL;
	sqlite3 *db;
	int fd;

	assert_int_equal(mr_accounts_open(f->tmp.path, "bad:realm", &b), -EINVAL);
	assert_int_equal(mr_accounts_open(f->tmp.path, "", &b), -EINVAL);
	assert_int_equal(mr_accounts_open(f->tmp.path, REALM, &f->a), 0);
	mr_accounts_close(f->a);
	f->a = NULL;
	/* every HA1 would be wrong under another realm */
	assert_int_equal(mr_accounts_open(f->tmp.path, "other.example", &b), -EXDEV);
	assert_null(b);
	/* a newer schema */
	assert_int_equal(sqlite3_open(f->tmp.path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 2", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(mr_accounts_open(f->tmp.path, REALM, &b), -ENOTSUP);
	/* not a database */
	unlink(f->tmp.path);
	fd = open(f->tmp.path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "this is not an SQLite database, not even close.\n", 48), 48);
	close(fd);
	assert_int_equal(mr_accounts_open(f->tmp.path, REALM, &b), -EIO);
	/* a directory that does not exist */
	assert_int_equal(mr_accounts_open("/nonexistent-dir/x.db", REALM, &b), -ENOENT);
	mr_accounts_close(NULL);
}

/*
 * Two processes (mrelay-cp and mrelayctl) open a database that does not
 * exist yet at the same moment: both must get it, each able to add an
 * account the other sees. Released together through a pipe, many times, as
 * the window is narrow.
 */
#define RACE_ROUNDS 40

static int
race_child(unsigned int i, void *arg)
{
	static const char *const names[2] = { "first", "second" };
	const char *path = arg;
	struct mr_accounts *a = NULL;
	int r;

	r = mr_accounts_open(path, REALM, &a);
	if (r < 0)
		return 20 + (-r & 0x3f);
	r = mr_accounts_add(a, names[i], PASS_A);
	mr_accounts_close(a);
	return r < 0 ? 90 : 0;
}

static void
test_concurrent_create(void **state)
{
	struct fixture *f = *state;
	unsigned int round;

	for (round = 0; round < RACE_ROUNDS; round++) {
		struct seen seen = { .n = 0 };
		char p[128];

		unlink(f->tmp.path);
		snprintf(p, sizeof(p), "%s-journal", f->tmp.path);
		unlink(p);
		mr_test_race_pair(race_child, f->tmp.path, round, " (20+errno: open failed)");
		assert_int_equal(mr_accounts_open(f->tmp.path, REALM, &f->a), 0);
		assert_int_equal(mr_accounts_list(f->a, collect, &seen), 0);
		assert_int_equal(seen.n, 2);
		assert_string_equal(seen.names[0], "first");
		assert_string_equal(seen.names[1], "second");
		mr_accounts_close(f->a);
		f->a = NULL;
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_password_in_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_guards, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_create, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
