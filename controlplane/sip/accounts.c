/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The account store (contract in accounts.h). Schema version 1:
 *
 *   meta(key TEXT PRIMARY KEY, value TEXT)     -- "realm"
 *   accounts(name TEXT PRIMARY KEY, ha1_md5 TEXT, ha1_sha256 TEXT,
 *            created INTEGER, changed INTEGER) -- Unix seconds
 *
 * HA1s are bound with SQLITE_STATIC from our own buffers, so SQLite makes no
 * copy we cannot wipe; bindings are cleared before the buffers are wiped.
 * SQLite's page cache still holds rows while the handle is open: that is the
 * file's content, protected like the file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <sqlite3.h>

#include "accounts.h"
#include "dbfile.h"

#define SCHEMA_VERSION 1
#define REALM_MAX 255u

struct mr_accounts {
	sqlite3 *db;
	char realm[REALM_MAX + 1];      /* checked against the file's at open */
	sqlite3_stmt *add, *passwd, *revoke, *list, *get_md5, *get_sha256;
};

static const char schema_v1[] =
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE accounts(name TEXT PRIMARY KEY NOT NULL,"
	" ha1_md5 TEXT NOT NULL, ha1_sha256 TEXT NOT NULL,"
	" created INTEGER NOT NULL, changed INTEGER NOT NULL);"
	"PRAGMA user_version = 1;";

bool
mr_accounts_name_valid(const char *name)
{
	size_t i;

	if (name == NULL || name[0] == '\0')
		return false;
	for (i = 0; name[i] != '\0'; i++) {
		char c = name[i];

		if (i >= MR_ACCOUNTS_NAME_MAX)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("-_.!~*'()", c) != NULL))
			return false;
	}
	return true;
}

static bool
realm_valid(const char *realm)
{
	size_t n;

	if (realm == NULL)
		return false;
	n = strlen(realm);
	if (n == 0 || n > REALM_MAX || strchr(realm, ':') != NULL)
		return false;
	for (; *realm != '\0'; realm++)
		if ((unsigned char)*realm < 0x20 || *realm == 0x7f)
			return false;
	return true;
}

static int
prepare(sqlite3 *db, const char *sql, sqlite3_stmt **ret)
{
	return sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, ret, NULL) ==
	       SQLITE_OK ? 0 : -EIO;
}

/* Step a statement that returns no row, then reset it and drop its bindings. */
static int
run(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_DONE)
		return 0;
	return (rc & 0xff) == SQLITE_CONSTRAINT ? -EEXIST : -EIO;
}

static int
insert_realm(sqlite3 *db, void *arg)
{
	sqlite3_stmt *st = NULL;
	int r;

	if (prepare(db, "INSERT INTO meta(key, value) VALUES('realm', ?1)", &st) < 0)
		return -EIO;
	sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	r = run(st);
	sqlite3_finalize(st);
	return r;
}

/* Create the schema in an empty database, or check an existing one. */
static int
check_schema(sqlite3 *db, const char *realm)
{
	sqlite3_stmt *st = NULL;
	int r;

	r = mr_dbfile_schema(db, SCHEMA_VERSION, schema_v1, insert_realm, (void *)realm);
	if (r < 0)
		return r;
	if (prepare(db, "SELECT value FROM meta WHERE key = 'realm'", &st) < 0)
		return -EIO;
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return -EIO;
	}
	r = strcmp((const char *)sqlite3_column_text(st, 0), realm) == 0 ? 0 : -EXDEV;
	sqlite3_finalize(st);
	return r;
}

int
mr_accounts_open(const char *path, const char *realm, struct mr_accounts **ret)
{
	struct mr_accounts *a;
	int r;

	if (path == NULL || ret == NULL || !realm_valid(realm))
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return -ENOMEM;
	/* 0600 from the first byte, busy timeout first (dbfile.h): mrelayctl
	 * and mrelay-cp share the file. */
	r = mr_dbfile_open(path, &a->db);
	if (r < 0)
		goto err_close;
	if (sqlite3_exec(a->db, "PRAGMA secure_delete = ON", NULL, NULL, NULL) != SQLITE_OK) {
		r = -EIO;
		goto err_close;
	}
	r = check_schema(a->db, realm);
	if (r < 0)
		goto err_close;
	strcpy(a->realm, realm);        /* realm_valid() bounded its length */
	if (prepare(a->db, "INSERT INTO accounts(name, ha1_md5, ha1_sha256, created, changed)"
		    " VALUES(?1, ?2, ?3, ?4, ?4)", &a->add) < 0 ||
	    prepare(a->db, "UPDATE accounts SET ha1_md5 = ?2, ha1_sha256 = ?3, changed = ?4"
		    " WHERE name = ?1", &a->passwd) < 0 ||
	    prepare(a->db, "DELETE FROM accounts WHERE name = ?1", &a->revoke) < 0 ||
	    prepare(a->db, "SELECT name, created, changed FROM accounts ORDER BY name",
		    &a->list) < 0 ||
	    prepare(a->db, "SELECT ha1_md5 FROM accounts WHERE name = ?1", &a->get_md5) < 0 ||
	    prepare(a->db, "SELECT ha1_sha256 FROM accounts WHERE name = ?1", &a->get_sha256) < 0) {
		r = -EIO;
		goto err_close;
	}
	*ret = a;
	return 0;
err_close:
	mr_accounts_close(a);
	return r;
}

void
mr_accounts_close(struct mr_accounts *a)
{
	if (a == NULL)
		return;
	sqlite3_finalize(a->add);       /* NULL is a no-op */
	sqlite3_finalize(a->passwd);
	sqlite3_finalize(a->revoke);
	sqlite3_finalize(a->list);
	sqlite3_finalize(a->get_md5);
	sqlite3_finalize(a->get_sha256);
	sqlite3_close_v2(a->db);
	free(a);
}

/* add and passwd: bind name, both HA1s and the time, then step @st. */
static int
store_ha1s(struct mr_accounts *a, sqlite3_stmt *st, const char *name, const char *password)
{
	char md5[MR_DIGEST_HEX_MAX], sha[MR_DIGEST_HEX_MAX];
	int r;

	if (!mr_accounts_name_valid(name) || password == NULL || password[0] == '\0')
		return -EINVAL;
	r = mr_digest_ha1(MR_DIGEST_MD5, name, a->realm, password, md5);
	if (r < 0)
		goto out_wipe;
	r = mr_digest_ha1(MR_DIGEST_SHA256, name, a->realm, password, sha);
	if (r < 0)
		goto out_wipe;
	if (sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, md5, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 3, sha, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL)) != SQLITE_OK) {
		sqlite3_clear_bindings(st);
		r = -EIO;
		goto out_wipe;
	}
	r = run(st);                    /* clears the bindings before the wipe */
out_wipe:
	OPENSSL_cleanse(md5, sizeof(md5));
	OPENSSL_cleanse(sha, sizeof(sha));
	return r;
}

int
mr_accounts_add(struct mr_accounts *a, const char *name, const char *password)
{
	if (a == NULL)
		return -EINVAL;
	return store_ha1s(a, a->add, name, password);
}

int
mr_accounts_passwd(struct mr_accounts *a, const char *name, const char *password)
{
	int r;

	if (a == NULL)
		return -EINVAL;
	r = store_ha1s(a, a->passwd, name, password);
	if (r == 0 && sqlite3_changes(a->db) == 0)
		return -ENOENT;
	return r;
}

int
mr_accounts_revoke(struct mr_accounts *a, const char *name)
{
	int r;

	if (a == NULL || !mr_accounts_name_valid(name))
		return -EINVAL;
	if (sqlite3_bind_text(a->revoke, 1, name, -1, SQLITE_STATIC) != SQLITE_OK)
		return -EIO;
	r = run(a->revoke);
	if (r == 0 && sqlite3_changes(a->db) == 0)
		return -ENOENT;
	return r;
}

int
mr_accounts_list(struct mr_accounts *a,
		 int (*fn)(void *arg, const char *name, int64_t created_s, int64_t changed_s),
		 void *arg)
{
	int rc, r = 0;

	if (a == NULL || fn == NULL)
		return -EINVAL;
	while ((rc = sqlite3_step(a->list)) == SQLITE_ROW) {
		r = fn(arg, (const char *)sqlite3_column_text(a->list, 0),
		       sqlite3_column_int64(a->list, 1), sqlite3_column_int64(a->list, 2));
		if (r != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = -EIO;
	sqlite3_reset(a->list);
	return r;
}

int
mr_accounts_lookup_ha1(struct mr_accounts *a, const char *name, enum mr_digest_alg alg,
		       char *ret_hex)
{
	sqlite3_stmt *st;
	const unsigned char *v;
	size_t n = mr_digest_hex_len(alg);
	int rc, r;

	if (a == NULL || ret_hex == NULL || n == 0)
		return -EINVAL;
	if (!mr_accounts_name_valid(name))
		return -ENOENT;
	st = alg == MR_DIGEST_MD5 ? a->get_md5 : a->get_sha256;
	if (sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) != SQLITE_OK)
		return -EIO;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		v = sqlite3_column_text(st, 0);
		if (v != NULL && strlen((const char *)v) == n) {
			memcpy(ret_hex, v, n + 1);
			r = 0;
		} else {
			r = -EIO;               /* a row we did not write */
		}
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : -EIO;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return r;
}
