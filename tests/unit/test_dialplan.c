/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dial plan (controlplane/sip/dialplan.c): longest prefix wins, ties go
 * to the trunk listed first, strip_prefix, numbers that match no trunk
 * falling back to an account (an extension), account names, and user parts
 * that route nowhere (escapes, blanks, empty, too long, NUL inside).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "accounts.h"
#include "dialplan.h"

static struct mr_sip_config cfg;

static void
add_trunk(const char *name, bool strip, const char *const *prefixes)
{
	struct mr_sip_trunk *t = &cfg.trunks[cfg.n_trunks++];

	strcpy(t->name, name);
	t->proto = MR_SIP_UDP;
	t->pstn = true;
	t->strip_prefix = strip;
	for (; *prefixes != NULL; prefixes++)
		strcpy(t->prefixes[t->n_prefixes++], *prefixes);
}

static int
setup(void **state)
{
	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	add_trunk("intl", false, (const char *const[]){ "00", "+", NULL });
	add_trunk("de", true, (const char *const[]){ "0049", "+49", NULL });
	add_trunk("de-too", false, (const char *const[]){ "+49", NULL });      /* tie: loses */
	add_trunk("service", true, (const char *const[]){ "*9", "#", NULL });
	return 0;
}

static enum mr_route_kind
route(const char *user, struct mr_route *r)
{
	return mr_dialplan_route(&cfg, user, strlen(user), r);
}

static void
expect_trunk(const char *user, const char *trunk, const char *number)
{
	struct mr_route r;

	if (route(user, &r) != MR_ROUTE_TRUNK)
		fail_msg("'%s': kind %d, expected a trunk", user, (int)r.kind);
	assert_int_equal(r.kind, MR_ROUTE_TRUNK);
	assert_true(r.trunk >= 0 && (unsigned int)r.trunk < cfg.n_trunks);
	if (strcmp(cfg.trunks[r.trunk].name, trunk) != 0)
		fail_msg("'%s': trunk %s, expected %s", user, cfg.trunks[r.trunk].name, trunk);
	assert_string_equal(r.number, number);
}

static void
expect_account(const char *user)
{
	struct mr_route r;

	assert_int_equal(route(user, &r), MR_ROUTE_ACCOUNT);
	assert_int_equal(r.kind, MR_ROUTE_ACCOUNT);
	assert_int_equal(r.trunk, -1);
	assert_string_equal(r.number, user);
}

static void
expect_none(const char *user, size_t len)
{
	struct mr_route r;

	if (mr_dialplan_route(&cfg, user, len, &r) != MR_ROUTE_NONE)
		fail_msg("'%.*s' routed (kind %d)", (int)len, user, (int)r.kind);
	assert_int_equal(r.kind, MR_ROUTE_NONE);
	assert_int_equal(r.trunk, -1);
}

static void
test_longest_prefix(void **state)
{
	(void)state;
	expect_trunk("0033123456", "intl", "0033123456");
	expect_trunk("+33123456", "intl", "+33123456");
	expect_trunk("004930123456", "de", "30123456");         /* "0049" beats "00" */
	expect_trunk("+4930123456", "de", "30123456");          /* tie with de-too: first wins */
	expect_trunk("*9123", "service", "123");
	expect_trunk("#31#", "service", "31#");
}

static void
test_no_strip(void **state)
{
	(void)state;
	cfg.trunks[1].strip_prefix = false;
	expect_trunk("004930123456", "de", "004930123456");
	expect_trunk("+4930123456", "de", "+4930123456");
	/* A prefix alone is a number for a trunk that keeps it... */
	expect_trunk("+49", "de", "+49");
	cfg.trunks[1].strip_prefix = true;
	/* ...and nothing to dial for one that strips it. */
	expect_none("+49", 3);
	expect_none("*9", 2);
}

static void
test_accounts(void **state)
{
	struct mr_route r;
	char longest[MR_ACCOUNTS_NAME_MAX + 1];

	(void)state;
	expect_account("alice");
	expect_account("room-4.2_east");
	expect_account("Bob!~*'()");
	/* A number no trunk takes may be an extension... */
	expect_account("1234");
	expect_account("*12");
	/* ...but '+' and '#' cannot be in an account name. */
	expect_none("12#", 3);
	/* Without trunks, every number that is a valid name is an account. */
	cfg.n_trunks = 0;
	expect_account("0049301");
	assert_int_equal(route("+49301", &r), MR_ROUTE_NONE);
	memset(longest, 'a', MR_ACCOUNTS_NAME_MAX);
	longest[MR_ACCOUNTS_NAME_MAX] = '\0';
	expect_account(longest);
}

static void
test_refused(void **state)
{
	char big[200];

	(void)state;
	expect_none("", 0);
	expect_none("al ice", 6);
	expect_none("alice@x", 7);
	expect_none("ali%63e", 7);              /* escapes are not unescaped */
	expect_none("00%34", 5);
	expect_none("alice;x=1", 9);
	expect_none("00:49", 5);
	expect_none("al\0ce", 5);
	expect_none("00\0049", 5);
	expect_none("\xc3\xa9t\xc3\xa9", 6);
	memset(big, '1', sizeof(big));
	expect_none(big, 127 + 1);              /* does not fit number[] */
	memset(big, 'a', sizeof(big));
	expect_none(big, MR_ACCOUNTS_NAME_MAX + 1);
	/* The longest number that fits still routes. */
	memset(big, '0', 127);
	big[127] = '\0';
	expect_trunk(big, "intl", big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_longest_prefix, setup),
		cmocka_unit_test_setup(test_no_strip, setup),
		cmocka_unit_test_setup(test_accounts, setup),
		cmocka_unit_test_setup(test_refused, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
