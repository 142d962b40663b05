/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_CP_ACCOUNTS_H
#define MR_CP_ACCOUNTS_H

/*
 * SIP accounts in an SQLite database: a name (the user part of
 * sip:NAME@DOMAIN) and its digest HA1 for MD5 and for SHA-256 (digest.h).
 * The password itself is never stored: it is hashed on the way in and the
 * caller wipes it. HA1 is still password-equivalent for this realm, so:
 *  - the file is created 0600 and forced back to 0600 when opened;
 *  - secure_delete is on, so a revoked or replaced HA1 is overwritten in
 *    the file rather than left in a free page;
 *  - nothing here logs, and our copies of HA1s are wiped after use.
 *
 * HA1 depends on the realm, so the database records the realm it was created
 * for and refuses to open for another (every HA1 would be wrong).
 *
 * The schema is versioned with PRAGMA user_version; a newer one is refused.
 * Every statement is prepared with bound parameters.
 *
 * Actions return 0 or -errno. One handle is for one thread at a time.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digest.h"

#define MR_ACCOUNTS_NAME_MAX 64u        /* bytes, without the NUL */

struct mr_accounts;

/*
 * Open @path, creating it (mode 0600) and its schema if missing, for @realm.
 * Returns 0 and *ret; -EXDEV when the file belongs to another realm;
 * -ENOTSUP for a newer schema; -EINVAL for a bad realm; -EIO when the file
 * is not a database of ours; or the errno of the failed open.
 */
int mr_accounts_open(const char *path, const char *realm, struct mr_accounts **ret);

/* Close; NULL is a no-op. */
void mr_accounts_close(struct mr_accounts *a);

/*
 * Whether @name may be an account: 1 to MR_ACCOUNTS_NAME_MAX characters of
 * RFC 3261 "unreserved" (alphanumerics and - _ . ! ~ * ' ( )), which need no
 * escaping in a SIP URI's user part and so compare byte for byte.
 */
bool mr_accounts_name_valid(const char *name);

/* Add @name with @password. Returns 0, -EINVAL (bad name, empty password)
 * or -EEXIST. */
int mr_accounts_add(struct mr_accounts *a, const char *name, const char *password);

/* Replace @name's HA1s. Returns 0, -EINVAL or -ENOENT. */
int mr_accounts_passwd(struct mr_accounts *a, const char *name, const char *password);

/* Delete @name. Returns 0, -EINVAL or -ENOENT. The caller then ends the
 * account's registrations and calls. */
int mr_accounts_revoke(struct mr_accounts *a, const char *name);

/*
 * Call @fn for each account in name order, with its creation and last
 * password change (Unix seconds). A non-zero return from @fn stops the walk
 * and is returned. Returns 0, or -EIO.
 */
int mr_accounts_list(struct mr_accounts *a,
		     int (*fn)(void *arg, const char *name, int64_t created_s, int64_t changed_s),
		     void *arg);

/*
 * @name's HA1 for @alg in lowercase hex into @ret_hex (MR_DIGEST_HEX_MAX
 * bytes; the caller wipes it with OPENSSL_cleanse() after use). Returns 0,
 * -EINVAL or -ENOENT (also for a name that cannot exist, so that a lookup
 * tells nothing more than "no").
 */
int mr_accounts_lookup_ha1(struct mr_accounts *a, const char *name, enum mr_digest_alg alg,
			   char *ret_hex);

#endif /* MR_CP_ACCOUNTS_H */
