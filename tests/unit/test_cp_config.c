/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mrelay-cp configuration loader (controlplane/cp/config.c): a full file,
 * the defaults, the shipped etc/mrelay-cp.conf, one case per bad file with
 * its whole "FILE:LINE: SETTING: what" message, and which changes a reload
 * cannot apply.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static char tmpdir[256];

static void
write_file(const char *name, const char *text, char *path, size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static int
group_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/mr-test-cp-config-XXXXXX");
	return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int
group_teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
assert_ip(const struct mr_sockaddr *a, const char *lit)
{
	uint8_t ip[16] = { 0 };
	int fam = strchr(lit, ':') != NULL ? AF_INET6 : AF_INET;

	assert_int_equal(inet_pton(fam, lit, ip), 1);
	assert_int_equal(a->family, fam == AF_INET6 ? MR_AF_INET6 : MR_AF_INET);
	assert_memory_equal(a->ip, ip, 16);
}

static void
test_full(void **state)
{
	struct mr_cp_config cfg;
	char err[512];

	(void)state;
	assert_int_equal(mr_cp_config_load(MR_TEST_DATA "/cp/full.conf", &cfg, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_string_equal(cfg.region, "/dev/shm/mrelay-test");
	assert_int_equal(cfg.region_max_legs, 4096);
	assert_int_equal(cfg.region_max_workers, 8);
	assert_int_equal(cfg.n_ifaces, 2);
	assert_string_equal(cfg.ifaces[0].name, "public");
	assert_ip(&cfg.ifaces[0].local4, "198.18.0.2");
	assert_ip(&cfg.ifaces[0].local6, "2001:db8::2");
	assert_ip(&cfg.ifaces[0].adv4, "203.0.113.5");
	assert_int_equal(cfg.ifaces[0].adv6.family, MR_AF_NONE);
	assert_int_equal(cfg.ifaces[0].port_min, 30000);
	assert_int_equal(cfg.ifaces[0].port_max, 34999);
	assert_int_equal(cfg.ifaces[0].dscp, 46);
	assert_string_equal(cfg.ifaces[1].name, "private");
	assert_int_equal(cfg.ifaces[1].local6.family, MR_AF_NONE);
	assert_int_equal(cfg.ifaces[1].dscp, 0);
	assert_false(cfg.ifaces[0].pstn);
	assert_true(cfg.ifaces[1].pstn);
	assert_int_equal(cfg.timeouts.media_idle_ms, 30000);
	assert_int_equal(cfg.timeouts.offer_ms, 90000);
	assert_int_equal(cfg.timeouts.call_max_ms, 7200000);
	assert_int_equal(cfg.limits.max_calls, 5000);
	assert_int_equal(cfg.limits.max_legs, 20000);
	assert_int_equal(cfg.limits.offers_per_s, 250);
	assert_string_equal(cfg.admin_socket, "/run/mrelay-test/cp.sock");
	assert_string_equal(cfg.state_dir, "/var/lib/mrelay-test");
	assert_int_equal(cfg.n_ng_udp, 2);
	assert_ip(&cfg.ng_udp[1], "::1");
	assert_int_equal(ntohs(cfg.ng_udp[1].port_be), 2223);
	assert_int_equal(cfg.n_ng_tcp, 1);
	assert_int_equal(ntohs(cfg.ng_tcp[0].port_be), 2224);
	/* "level" is every subsystem's default; "session" wins wherever it is. */
	assert_int_equal(cfg.log_level[MR_LOG_CORE], LOG_NOTICE);
	assert_int_equal(cfg.log_level[MR_LOG_SESSION], LOG_DEBUG);
}

static void
test_defaults(void **state)
{
	struct mr_cp_config cfg;
	char path[512], err[512];

	(void)state;
	write_file("min.conf", "interfaces = ( { name = \"wan\"; addresses = [ \"198.18.0.2\" ]; } );\n",
		   path, sizeof(path));
	assert_int_equal(mr_cp_config_load(path, &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.region, "/dev/shm/mrelay");
	assert_int_equal(cfg.region_max_legs, 65536);
	assert_int_equal(cfg.ifaces[0].port_min, 30000);
	assert_int_equal(cfg.ifaces[0].port_max, 39999);
	assert_int_equal(cfg.timeouts.media_idle_ms, 60000);
	assert_int_equal(cfg.timeouts.offer_ms, 60000);
	assert_int_equal(cfg.timeouts.call_max_ms, 14400000);
	assert_int_equal(cfg.limits.max_calls, 0);
	assert_string_equal(cfg.admin_socket, "/run/mrelay/mrelay-cp.sock");
	assert_string_equal(cfg.state_dir, "/var/lib/mrelay");
	assert_int_equal(cfg.n_ng_udp, 1);
	assert_ip(&cfg.ng_udp[0], "127.0.0.1");
	assert_int_equal(ntohs(cfg.ng_udp[0].port_be), 2223);
	assert_int_equal(cfg.n_ng_tcp, 0);
	assert_int_equal(cfg.log_level[MR_LOG_ADMIN], LOG_INFO);
}

static void
test_shipped(void **state)
{
	struct mr_cp_config cfg;
	char err[512];

	(void)state;
	assert_int_equal(mr_cp_config_load(MR_TEST_DATA "/../../etc/mrelay-cp.conf", &cfg, err,
					   sizeof(err)), 0);
	assert_int_equal(cfg.n_ifaces, 1);
}

struct bad {
	const char *text;
	const char *msg;        /* after "<path>:" */
};

#define IF "interfaces = ( { name = \"wan\"; addresses = [ \"198.18.0.2\" ]; } );\n"

static const struct bad bad_files[] = {
	{ "interfaces = ( { name = \"wan\"; addresses = [ \"198.18.0.2\" ]; } );\nregion = { path = };\n",
	  "2: syntax error" },
	{ "region = { path = \"/x\"; };\n",
	  " interfaces: missing (required): at least one interface" },
	{ IF "timeout = { offer_s = 3; };\n",
	  "2: timeout: unknown setting (did you mean \"timeouts\"?)" },
	{ IF "timeouts = { media_idle = 3; };\n",
	  "2: timeouts.media_idle: unknown setting (did you mean \"media_idle_s\"?)" },
	{ IF "timeouts = { offer_s = \"3\"; };\n",
	  "2: timeouts.offer_s: expected an integer, got a string" },
	{ IF "timeouts = { call_max_s = 604801; };\n",
	  "2: timeouts.call_max_s: 604801 is out of range 0..604800" },
	{ IF "limits = { max_calls = -1; };\n",
	  "2: limits.max_calls: -1 is out of range 0..10000000" },
	{ IF "region = { path = \"dev/shm/x\"; };\n",
	  "2: region.path: \"dev/shm/x\" is not an absolute path" },
	{ IF "region = { max_workers = 65; };\n",
	  "2: region.max_workers: 65 is out of range 1..64" },
	{ IF "state_dir = \"\";\n", "2: state_dir: must not be empty" },
	{ IF "admin = { socket = \"/run/" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"; };\n",
	  "2: admin.socket: too long (114 characters, at most 107)" },
	{ IF "ng = { udp = [ \"127.0.0.1\" ]; };\n",
	  "2: ng.udp[0]: \"127.0.0.1\" is not IPv4:PORT or [IPv6]:PORT" },
	{ IF "ng = { tcp = [ \"127.0.0.1:1\", \"127.0.0.1:1\" ]; };\n",
	  "2: ng.tcp[1]: \"127.0.0.1:1\" is listed twice" },
	{ IF "log = { level = \"verbose\"; };\n",
	  "2: log.level: \"verbose\" is not a level (error, warning, notice, info, debug)" },
	{ IF "log = { sesion = \"debug\"; };\n",
	  "2: log.sesion: unknown setting (did you mean \"session\"?)" },
	{ "interfaces = ();\n", "1: interfaces: at least one interface is required" },
	{ "interfaces = ( { addresses = [ \"198.18.0.2\" ]; } );\n",
	  "1: interfaces[0].name: missing (required)" },
	{ "interfaces = ( { name = \"a b\"; addresses = [ \"198.18.0.2\" ]; } );\n",
	  "1: interfaces[0].name: \"a b\": use letters, digits, '-', '_' and '.'" },
	{ "interfaces = ( { name = \"wan\"; } );\n",
	  "1: interfaces[0].addresses: missing (required)" },
	{ "interfaces = ( { name = \"wan\"; addresses = [ \"198.18.0.2/24\" ]; } );\n",
	  "1: interfaces[0].addresses[0]: \"198.18.0.2/24\" is not an IPv4 or IPv6 address (no port, no prefix)" },
	{ "interfaces = ( { name = \"wan\"; addresses = [ \"127.0.0.1\" ]; } );\n",
	  "1: interfaces[0].addresses[0]: \"127.0.0.1\" is a loopback address" },
	{ "interfaces = ( { name = \"wan\"; addresses = [ \"198.18.0.2\", \"198.18.0.3\" ]; } );\n",
	  "1: interfaces[0].addresses[1]: \"198.18.0.3\": a second IPv4 address (one of each family)" },
	{ "interfaces = ( { name = \"wan\"; addresses = [ \"198.18.0.2\" ];\n"
	  "  advertised = [ \"2001:db8::5\" ]; } );\n",
	  "2: interfaces[0].advertised: advertises an address family the interface has no address of" },
	{ "interfaces = ( { name = \"wan\"; addresses = [ \"198.18.0.2\" ]; port_min = 30001; } );\n",
	  "1: interfaces[0].port_min: 30001 is odd: RTP takes an even port, RTCP the next one" },
	{ "interfaces = ( { name = \"wan\"; addresses = [ \"198.18.0.2\" ]; port_min = 30000;\n"
	  "  port_max = 30000; } );\n",
	  "2: interfaces[0].port_max: range 30000..30000 holds no RTP/RTCP pair" },
	{ "interfaces = ( { name = \"wan\"; addresses = [ \"198.18.0.2\" ]; dscp = 64; } );\n",
	  "1: interfaces[0].dscp: 64 is out of range 0..63" },
	{ "interfaces = ( { name = \"a\"; addresses = [ \"198.18.0.2\" ]; },\n"
	  "  { name = \"a\"; addresses = [ \"198.18.0.3\" ]; } );\n",
	  "2: interfaces[1].name: duplicate interface name \"a\"" },
	{ "interfaces = ( { name = \"a\"; addresses = [ \"198.18.0.2\" ]; },\n"
	  "  { name = \"b\"; addresses = [ \"198.18.0.2\" ]; port_min = 39000; port_max = 40999; } );\n",
	  "2: interfaces[1].port_max: ports 39000..40999 overlap interface \"a\" (30000..39999) on the same address 198.18.0.2" },
	{ "interfaces = { name = \"wan\"; };\n",
	  "1: interfaces: expected a list of groups ( { ... }, ... ), got a group" },
};

static void
test_bad(void **state)
{
	struct mr_cp_config cfg;
	char path[512], err[512], want[1024], name[32];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad_files); i++) {
		snprintf(name, sizeof(name), "bad%zu.conf", i);
		write_file(name, bad_files[i].text, path, sizeof(path));
		mr_cp_config_defaults(&cfg);
		cfg.n_ifaces = 77;      /* must survive a failed load */
		if (mr_cp_config_load(path, &cfg, err, sizeof(err)) != -EINVAL)
			fail_msg("case %zu accepted (or unreadable): %s", i, err);
		snprintf(want, sizeof(want), "%s:%s", path, bad_files[i].msg);
		if (strcmp(err, want) != 0)
			fail_msg("case %zu:\n got: %s\nwant: %s", i, err, want);
		assert_int_equal(cfg.n_ifaces, 77);
	}
}

static void
test_unreadable(void **state)
{
	struct mr_cp_config cfg;
	char err[512], want[600];

	(void)state;
	assert_int_equal(mr_cp_config_load("/nonexistent/cp.conf", &cfg, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "/nonexistent/cp.conf: No such file or directory");
	assert_int_equal(mr_cp_config_load(tmpdir, &cfg, err, sizeof(err)), -EISDIR);
	snprintf(want, sizeof(want), "%s: Is a directory", tmpdir);
	assert_string_equal(err, want);
}

static void
test_restart_diff(void **state)
{
	struct mr_cp_config a, b;
	char err[512], buf[256];

	(void)state;
	assert_int_equal(mr_cp_config_load(MR_TEST_DATA "/cp/full.conf", &a, err, sizeof(err)), 0);
	b = a;
	b.timeouts.offer_ms = 1000;
	b.limits.max_calls = 1;
	b.log_level[MR_LOG_CORE] = LOG_DEBUG;
	assert_int_equal(mr_cp_config_restart_diff(&a, &b, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	b.ifaces[0].dscp = 10;
	snprintf(b.admin_socket, sizeof(b.admin_socket), "/x");
	b.n_ng_udp = 1;
	assert_int_equal(mr_cp_config_restart_diff(&a, &b, buf, sizeof(buf)), 3);
	assert_string_equal(buf, "interfaces, admin.socket, ng.udp");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_shipped),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_unreadable),
		cmocka_unit_test(test_restart_diff),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
