/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_CP_SIP_DBFILE_H
#define MR_CP_SIP_DBFILE_H

/*
 * The SQLite files of the SIP front-end (accounts.c, cdr.c): opened the
 * same way, so that mrelay-cp and mrelayctl may open, create and use one
 * file at the same time.
 *  - The file is created by us, mode 0600 from its first byte whatever the
 *    umask, and an existing one is forced back to 0600 (SQLite gives its
 *    journal files the database's mode).
 *  - A busy timeout is set before the first statement: a writer of the
 *    other process makes us wait, not fail.
 *  - The schema is created in one IMMEDIATE transaction that looks at
 *    PRAGMA user_version again under the write lock, so two processes
 *    creating the same new file at once end with one schema, and neither
 *    fails.
 * Nothing logs. 0 or -errno (-EIO for SQLite's own errors).
 */
#include <sqlite3.h>

#define MR_DBFILE_BUSY_MS 2000

/* Create (0600) or open @path read-write; *ret is closed by the caller
 * with sqlite3_close_v2(). */
int mr_dbfile_open(const char *path, sqlite3 **ret);

/*
 * Make @db's schema version @version. A database at version 0 (new, empty)
 * gets @create (SQL that also sets PRAGMA user_version = @version) and then
 * @fill(@db, @arg) if not NULL, in one transaction. Returns 0 when the
 * schema is @version (created now or before), -ENOTSUP for a newer one,
 * -EIO for an older one or a file that is not a database.
 */
int mr_dbfile_schema(sqlite3 *db, int version, const char *create,
		     int (*fill)(sqlite3 *db, void *arg), void *arg);

/*
 * Put @db in WAL mode (a property of the file, kept once set): readers and
 * the writer no longer block each other. Changing the mode needs the file
 * to itself and SQLite does not call the busy handler for it, so this
 * retries for up to MR_DBFILE_BUSY_MS. 0, -EBUSY or -EIO.
 */
int mr_dbfile_wal(sqlite3 *db);

#endif /* MR_CP_SIP_DBFILE_H */
