/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Call detail records in SQLite (contract in cdr.h). Schema version 1:
 *
 *   cdr(id INTEGER PRIMARY KEY, call_id, caller, callee TEXT,
 *       start_s, answer_s, end_s INTEGER,          -- Unix seconds
 *       duration_s, sip_status INTEGER, end_reason TEXT,
 *       pkts_ab, bytes_ab, pkts_ba, bytes_ba, pkts_dropped INTEGER)
 *   index on end_s (purge and list both go by it)
 *
 * "ab" is caller to callee. Counters are stored as SQLite's signed 64-bit
 * integers and read back as the same bits.
 *
 * The file is in WAL mode: mrelayctl reading CDRs never blocks the daemon's
 * writes, nor the daemon mrelayctl. Writers (the daemon's write and purge)
 * wait for each other through the busy timeout (dbfile.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "cdr.h"
#include "dbfile.h"

#define SCHEMA_VERSION 1

struct mr_cdr {
	sqlite3 *db;
	sqlite3_stmt *insert, *purge, *list;
};

static const char schema_v1[] =
	"CREATE TABLE cdr(id INTEGER PRIMARY KEY,"
	" call_id TEXT NOT NULL, caller TEXT NOT NULL, callee TEXT NOT NULL,"
	" start_s INTEGER NOT NULL, answer_s INTEGER NOT NULL, end_s INTEGER NOT NULL,"
	" duration_s INTEGER NOT NULL, sip_status INTEGER NOT NULL, end_reason TEXT NOT NULL,"
	" pkts_ab INTEGER NOT NULL, bytes_ab INTEGER NOT NULL,"
	" pkts_ba INTEGER NOT NULL, bytes_ba INTEGER NOT NULL,"
	" pkts_dropped INTEGER NOT NULL);"
	"CREATE INDEX cdr_end ON cdr(end_s);"
	"PRAGMA user_version = 1;";

#define COLUMNS "call_id, caller, callee, start_s, answer_s, end_s, duration_s, sip_status," \
		" end_reason, pkts_ab, bytes_ab, pkts_ba, bytes_ba, pkts_dropped"

static int
prepare(sqlite3 *db, const char *sql, sqlite3_stmt **ret)
{
	return sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, ret, NULL) ==
	       SQLITE_OK ? 0 : -EIO;
}

int
mr_cdr_open(const char *path, struct mr_cdr **ret)
{
	struct mr_cdr *c;
	int r;

	if (path == NULL || ret == NULL)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	r = mr_dbfile_open(path, &c->db);
	if (r < 0)
		goto err_close;
	r = mr_dbfile_schema(c->db, SCHEMA_VERSION, schema_v1, NULL, NULL);
	if (r < 0)
		goto err_close;
	r = mr_dbfile_wal(c->db);
	if (r < 0)
		goto err_close;
	if (prepare(c->db, "INSERT INTO cdr(" COLUMNS ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
		    " ?9, ?10, ?11, ?12, ?13, ?14)", &c->insert) < 0 ||
	    prepare(c->db, "DELETE FROM cdr WHERE end_s < ?1", &c->purge) < 0 ||
	    prepare(c->db, "SELECT " COLUMNS " FROM cdr WHERE end_s >= ?1 ORDER BY end_s, id",
		    &c->list) < 0) {
		r = -EIO;
		goto err_close;
	}
	*ret = c;
	return 0;
err_close:
	mr_cdr_close(c);
	return r;
}

void
mr_cdr_close(struct mr_cdr *c)
{
	if (c == NULL)
		return;
	sqlite3_finalize(c->insert);    /* NULL is a no-op */
	sqlite3_finalize(c->purge);
	sqlite3_finalize(c->list);
	sqlite3_close_v2(c->db);
	free(c);
}

/* A text field of a row: NUL-terminated within its buffer, or refused. */
static int
bind_field(sqlite3_stmt *st, int idx, const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	if (n == cap)
		return -EINVAL;
	return sqlite3_bind_text(st, idx, s, (int)n, SQLITE_STATIC) == SQLITE_OK ? 0 : -EIO;
}

int
mr_cdr_write(struct mr_cdr *c, const struct mr_cdr_row *row)
{
	sqlite3_stmt *st;
	int r, rc;

	if (c == NULL || row == NULL)
		return -EINVAL;
	st = c->insert;
	if ((r = bind_field(st, 1, row->call_id, sizeof(row->call_id))) < 0 ||
	    (r = bind_field(st, 2, row->caller, sizeof(row->caller))) < 0 ||
	    (r = bind_field(st, 3, row->callee, sizeof(row->callee))) < 0 ||
	    (r = bind_field(st, 9, row->end_reason, sizeof(row->end_reason))) < 0)
		goto out_clear;
	if (sqlite3_bind_int64(st, 4, row->start_s) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 5, row->answer_s) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 6, row->end_s) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 7, row->duration_s) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 8, row->sip_status) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 10, (sqlite3_int64)row->pkts_caller_to_callee) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 11, (sqlite3_int64)row->bytes_caller_to_callee) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 12, (sqlite3_int64)row->pkts_callee_to_caller) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 13, (sqlite3_int64)row->bytes_callee_to_caller) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 14, (sqlite3_int64)row->pkts_dropped) != SQLITE_OK) {
		r = -EIO;
		goto out_clear;
	}
	rc = sqlite3_step(st);
	r = rc == SQLITE_DONE ? 0 : (rc & 0xff) == SQLITE_BUSY ? -EBUSY : -EIO;
	sqlite3_reset(st);
out_clear:
	sqlite3_clear_bindings(st);
	return r;
}

int
mr_cdr_purge(struct mr_cdr *c, int64_t before_s)
{
	int rc, r;

	if (c == NULL)
		return -EINVAL;
	if (sqlite3_bind_int64(c->purge, 1, before_s) != SQLITE_OK)
		return -EIO;
	rc = sqlite3_step(c->purge);
	r = rc == SQLITE_DONE ? sqlite3_changes(c->db) : (rc & 0xff) == SQLITE_BUSY ? -EBUSY : -EIO;
	sqlite3_reset(c->purge);
	sqlite3_clear_bindings(c->purge);
	return r;
}

static void
column_text(sqlite3_stmt *st, int col, char *buf, size_t cap)
{
	const unsigned char *v = sqlite3_column_text(st, col);

	snprintf(buf, cap, "%s", v != NULL ? (const char *)v : "");
}

int
mr_cdr_list(struct mr_cdr *c, int64_t since_s,
	    int (*fn)(void *arg, const struct mr_cdr_row *row), void *arg)
{
	struct mr_cdr_row row;
	sqlite3_stmt *st;
	int rc, r = 0;

	if (c == NULL || fn == NULL)
		return -EINVAL;
	st = c->list;
	if (sqlite3_bind_int64(st, 1, since_s) != SQLITE_OK)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&row, 0, sizeof(row));
		column_text(st, 0, row.call_id, sizeof(row.call_id));
		column_text(st, 1, row.caller, sizeof(row.caller));
		column_text(st, 2, row.callee, sizeof(row.callee));
		row.start_s = sqlite3_column_int64(st, 3);
		row.answer_s = sqlite3_column_int64(st, 4);
		row.end_s = sqlite3_column_int64(st, 5);
		row.duration_s = (uint32_t)sqlite3_column_int64(st, 6);
		row.sip_status = (uint16_t)sqlite3_column_int64(st, 7);
		column_text(st, 8, row.end_reason, sizeof(row.end_reason));
		row.pkts_caller_to_callee = (uint64_t)sqlite3_column_int64(st, 9);
		row.bytes_caller_to_callee = (uint64_t)sqlite3_column_int64(st, 10);
		row.pkts_callee_to_caller = (uint64_t)sqlite3_column_int64(st, 11);
		row.bytes_callee_to_caller = (uint64_t)sqlite3_column_int64(st, 12);
		row.pkts_dropped = (uint64_t)sqlite3_column_int64(st, 13);
		r = fn(arg, &row);
		if (r != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = (rc & 0xff) == SQLITE_BUSY ? -EBUSY : -EIO;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return r;
}
