/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Opening the SIP front-end's SQLite files (contract in dbfile.h).
 *
 * Why the schema transaction is IMMEDIATE and checks again: a DEFERRED
 * "BEGIN; CREATE TABLE ..." started by two processes that both read
 * user_version 0 either deadlocks (both hold SHARED, both want RESERVED,
 * SQLite fails one at once with SQLITE_BUSY, without calling the busy
 * handler) or fails the second with "table already exists". BEGIN
 * IMMEDIATE takes RESERVED first, waiting through the busy timeout, and
 * the version read under it is the truth.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dbfile.h"

int
mr_dbfile_open(const char *path, sqlite3 **ret)
{
	sqlite3 *db = NULL;
	int fd, r;

	if (path == NULL || path[0] == '\0' || ret == NULL)
		return -EINVAL;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0600) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	close(fd);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL) !=
	    SQLITE_OK) {
		sqlite3_close_v2(db);   /* a handle is returned even on error */
		return -EIO;
	}
	sqlite3_busy_timeout(db, MR_DBFILE_BUSY_MS);
	*ret = db;
	return 0;
}

/* PRAGMA user_version, or -EIO ("file is not a database" shows up here). */
static int
user_version(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int v = -EIO;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int
check_version(int have, int want)
{
	if (have < 0)
		return have;
	if (have > want)
		return -ENOTSUP;
	return have == want ? 0 : -EIO;
}

int
mr_dbfile_schema(sqlite3 *db, int version, const char *create,
		 int (*fill)(sqlite3 *db, void *arg), void *arg)
{
	int v = user_version(db);

	if (v != 0)
		return check_version(v, version);
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return -EIO;
	v = user_version(db);           /* another process may have won */
	if (v != 0) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return check_version(v, version);
	}
	if (sqlite3_exec(db, create, NULL, NULL, NULL) != SQLITE_OK)
		goto err_rollback;
	if (fill != NULL && fill(db, arg) < 0)
		goto err_rollback;
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto err_rollback;
	return 0;
err_rollback:
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -EIO;
}

/* "PRAGMA journal_mode[ = WAL]": 1 if the answer is "wal", 0 if another
 * mode, -EBUSY or -EIO. */
static int
journal_mode_wal(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int rc, r;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
	else
		r = (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED ? -EBUSY : -EIO;
	sqlite3_finalize(st);
	return r;
}

int
mr_dbfile_wal(sqlite3 *db)
{
	const struct timespec pause = { .tv_nsec = 5 * 1000 * 1000 };
	int i, r;

	for (i = 0; i < MR_DBFILE_BUSY_MS / 5; i++) {
		r = journal_mode_wal(db, "PRAGMA journal_mode = WAL");
		if (r == 1)
			return 0;
		if (r == 0)
			return -EIO;    /* e.g. a file system without shared memory */
		if (r != -EBUSY)
			return r;
		nanosleep(&pause, NULL);
	}
	return -EBUSY;
}
