/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mrelay-dp configuration loader (dataplane/config.c): a full file, the
 * defaults, the shipped etc/mrelay-dp.conf, IP literals, and one test per
 * bad file, each checking the whole "FILE:LINE: what" message. Bad files are
 * written from the strings below into a private temporary directory, so each
 * case reads next to the message it must produce.
 */
#include <errno.h>
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

#include "config.h"
#include "tmpdir.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static struct mr_test_tmpdir tmp;

/* Write @text to "<tmp.dir>/<name>" and return its path in @path. */
static void
write_file(const char *name, const char *text, char *path, size_t len)
{
	assert_int_equal(mr_test_tmpdir_write(&tmp, name, text, path, len), 0);
}

static void
assert_ip(const struct mr_sockaddr *ip, const char *literal)
{
	struct mr_sockaddr want;

	assert_int_equal(mr_config_parse_ip(literal, &want, NULL), 0);
	assert_int_equal(ip->family, want.family);
	assert_memory_equal(ip->ip, want.ip, sizeof(want.ip));
	assert_int_equal(ip->port_be, 0);
}

static void
assert_addr(const struct mr_cfg_addr *a, const char *literal, uint8_t prefix_len)
{
	assert_ip(&a->ip, literal);
	assert_int_equal(a->prefix_len, prefix_len);
}

static int
group_setup(void **state)
{
	const char *base = getenv("TMPDIR");
	char template[256];             /* too long for tmp.dir: -ENAMETOOLONG, not cut */

	(void)state;
	snprintf(template, sizeof(template), "%s/mr-test-config-XXXXXX",
		 base != NULL && base[0] != '\0' ? base : "/tmp");
	return mr_test_tmpdir_make(&tmp, template, NULL);
}

/* Also removes what a failed test left behind. */
static int
group_teardown(void **state)
{
	(void)state;
	return mr_test_tmpdir_remove(&tmp);
}

/* ---- good files ---------------------------------------------------------- */

static void
test_full(void **state)
{
	struct mr_dp_config cfg;
	const struct mr_cfg_port *p;
	char err[512];

	(void)state;
	assert_int_equal(mr_config_load(MR_TEST_DATA "/config/full.conf", &cfg, err,
					sizeof(err)), 0);
	assert_string_equal(err, "");

	assert_string_equal(cfg.region, "/dev/shm/mrelay-test");
	assert_int_equal(cfg.n_ports, 2);

	p = &cfg.ports[0];
	assert_string_equal(p->name, "wan");
	assert_string_equal(p->device, "net_af_packet0,iface=mr-dp0");
	assert_int_equal(p->mtu, 1500);
	assert_int_equal(p->vlan, 100);
	assert_int_equal(p->rx_desc, 2048);
	assert_int_equal(p->tx_desc, 512);
	assert_int_equal(p->n_addrs, 3);
	assert_addr(&p->addrs[0], "198.18.0.2", 24);
	assert_addr(&p->addrs[1], "198.18.0.3", 24);
	assert_addr(&p->addrs[2], "2001:db8:0:1::2", 64);
	assert_ip(&p->gateway4, "198.18.0.1");
	assert_ip(&p->gateway6, "fe80::1");

	p = &cfg.ports[1];
	assert_string_equal(p->name, "lan");
	assert_string_equal(p->device, "0000:03:00.1");
	assert_int_equal(p->mtu, 0);
	assert_int_equal(p->vlan, 0);
	assert_int_equal(p->rx_desc, 0);
	assert_int_equal(p->tx_desc, 0);
	assert_int_equal(p->n_addrs, 2);
	assert_addr(&p->addrs[0], "198.19.10.1", 30);
	assert_addr(&p->addrs[1], "2001:db8:0:2::10", 64);
	assert_int_equal(p->gateway4.family, MR_AF_NONE);
	assert_ip(&p->gateway6, "2001:db8:0:2::1");

	assert_int_equal(cfg.port_min, 40000);
	assert_int_equal(cfg.port_max, 40099);
	assert_int_equal(cfg.n_workers, 3);
	assert_int_equal(cfg.workers[0], 2);
	assert_int_equal(cfg.workers[1], 3);
	assert_int_equal(cfg.workers[2], 5);
	assert_int_equal(cfg.idle_backoff_us, 0);
	assert_int_equal(cfg.latch_window_ms, 1000);
	assert_int_equal(cfg.relatch_idle_ms, 0);
	assert_int_equal(cfg.media_idle_ms, 0);
	assert_int_equal(cfg.neigh_reachable_ms, 45000);
	assert_int_equal(cfg.neigh_retry_ms, 250);
	assert_int_equal(cfg.mbufs, 65535);
	assert_int_equal(cfg.srtp_engine, MR_CFG_SRTP_LIBSRTP);
	assert_true(cfg.exception_enabled);
	assert_string_equal(cfg.exception_iface, "mr-exc-test");

	assert_int_equal(cfg.n_neigh, 3);
	assert_ip(&cfg.neigh[0].ip, "198.18.0.1");
	assert_memory_equal(cfg.neigh[0].mac, "\x02\x00\x00\x00\x00\x01", 6);
	assert_int_equal(cfg.neigh[0].port, 0);
	assert_ip(&cfg.neigh[1].ip, "fe80::1");
	assert_memory_equal(cfg.neigh[1].mac, "\x02\x00\x00\x00\x00\x0a", 6);
	assert_int_equal(cfg.neigh[1].port, 0);
	assert_ip(&cfg.neigh[2].ip, "198.19.10.2");
	assert_memory_equal(cfg.neigh[2].mac, "\x02\x00\x00\x00\x00\x02", 6);
	assert_int_equal(cfg.neigh[2].port, 1);
}

static void
assert_defaults(const struct mr_dp_config *cfg)
{
	assert_string_equal(cfg->region, "/dev/shm/mrelay");
	assert_int_equal(cfg->port_min, 30000);
	assert_int_equal(cfg->port_max, 39999);
	assert_int_equal(cfg->n_workers, 0);
	assert_int_equal(cfg->idle_backoff_us, 100);
	assert_int_equal(cfg->latch_window_ms, 3000);
	assert_int_equal(cfg->relatch_idle_ms, 5000);
	assert_int_equal(cfg->media_idle_ms, 60000);
	assert_int_equal(cfg->neigh_reachable_ms, 30000);
	assert_int_equal(cfg->neigh_retry_ms, 1000);
	assert_int_equal(cfg->mbufs, 16383);
	assert_int_equal(cfg->srtp_engine, MR_CFG_SRTP_AUTO);
	assert_false(cfg->exception_enabled);
	assert_string_equal(cfg->exception_iface, "mrelay-exc0");
	assert_int_equal(cfg->n_neigh, 0);
}

static void
test_defaults(void **state)
{
	struct mr_dp_config cfg;
	const struct mr_cfg_port *p;
	char path[512], err[512];

	(void)state;
	mr_config_defaults(&cfg);
	assert_defaults(&cfg);
	assert_int_equal(cfg.n_ports, 0);

	/* Only the required keys: everything else keeps its default. */
	write_file("minimal.conf",
		   "ports = ( { name = \"p0\"; device = \"net_null0\";\n"
		   "            addresses = [ \"10.1.2.3/8\" ]; } );\n",
		   path, sizeof(path));
	memset(&cfg, 0xa5, sizeof(cfg));
	assert_int_equal(mr_config_load(path, &cfg, err, sizeof(err)), 0);
	assert_defaults(&cfg);
	assert_int_equal(cfg.n_ports, 1);
	p = &cfg.ports[0];
	assert_string_equal(p->name, "p0");
	assert_string_equal(p->device, "net_null0");
	assert_int_equal(p->mtu, 0);
	assert_int_equal(p->vlan, 0);
	assert_int_equal(p->rx_desc, 0);
	assert_int_equal(p->tx_desc, 0);
	assert_int_equal(p->n_addrs, 1);
	assert_addr(&p->addrs[0], "10.1.2.3", 8);
	assert_int_equal(p->gateway4.family, MR_AF_NONE);
	assert_int_equal(p->gateway6.family, MR_AF_NONE);
	unlink(path);

	/* Empty groups and lists are fine and change nothing. */
	write_file("empty-groups.conf",
		   "ports = ( { name = \"p0\"; device = \"net_null0\";\n"
		   "            addresses = [ \"10.1.2.3/8\" ]; } );\n"
		   "relay = { }; timeouts = { }; exception = { }; workers = [ ];\n"
		   "neighbours = ( );\n",
		   path, sizeof(path));
	assert_int_equal(mr_config_load(path, &cfg, err, sizeof(err)), 0);
	assert_defaults(&cfg);
	unlink(path);
}

/* The file scripts/run starts mrelay-dp with. */
static void
test_shipped(void **state)
{
	struct mr_dp_config cfg;
	const struct mr_cfg_port *p;
	char err[512];

	(void)state;
	assert_int_equal(mr_config_load(MR_TEST_DATA "/../../etc/mrelay-dp.conf", &cfg, err,
					sizeof(err)), 0);
	assert_string_equal(cfg.region, "/dev/shm/mrelay");
	assert_int_equal(cfg.n_ports, 1);
	p = &cfg.ports[0];
	assert_string_equal(p->name, "wan");
	assert_string_equal(p->device, "net_af_packet0,iface=mr-dp0");
	assert_int_equal(p->n_addrs, 1);
	assert_addr(&p->addrs[0], "198.18.0.2", 24);
	assert_int_equal(p->gateway4.family, MR_AF_NONE);
	assert_int_equal(p->gateway6.family, MR_AF_NONE);
	assert_int_equal(cfg.port_min, 30000);
	assert_int_equal(cfg.port_max, 39999);
	assert_int_equal(cfg.n_workers, 1);
	assert_int_equal(cfg.workers[0], 1);
	assert_int_equal(cfg.idle_backoff_us, 100);
	assert_false(cfg.exception_enabled);
	assert_int_equal(cfg.n_neigh, 0);
}

/* "@include" is resolved next to the including file; errors name the file. */
static void
test_include(void **state)
{
	struct mr_dp_config cfg;
	char path[512], inc[512], err[1024], want[1024];

	(void)state;
	write_file("inc-ports.inc",
		   "ports = ( { name = \"p0\"; device = \"net_null0\";\n"
		   "            addresses = [ \"10.1.2.3/8\" ]; } );\n",
		   inc, sizeof(inc));
	write_file("inc-main.conf", "@include \"inc-ports.inc\"\nmbufs = 4095;\n",
		   path, sizeof(path));
	assert_int_equal(mr_config_load(path, &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.n_ports, 1);
	assert_int_equal(cfg.mbufs, 4095);
	unlink(inc);

	write_file("inc-bad.inc", "\n\nrelay = { port_min = 30001; };\n", inc, sizeof(inc));
	write_file("inc-main.conf",
		   "ports = ( { name = \"p0\"; device = \"net_null0\";\n"
		   "            addresses = [ \"10.1.2.3/8\" ]; } );\n"
		   "@include \"inc-bad.inc\"\n",
		   path, sizeof(path));
	assert_int_equal(mr_config_load(path, &cfg, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s:3: relay.port_min: 30001 is odd: RTP takes an even port, RTCP the next one",
		 inc);
	assert_string_equal(err, want);
	unlink(inc);

	/* Missing include file: reported at the @include line. */
	assert_int_equal(mr_config_load(path, &cfg, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:3: cannot open include file", path);
	assert_string_equal(err, want);
	unlink(path);
}

/* ---- files that cannot be read --------------------------------------------- */

static void
test_unreadable(void **state)
{
	struct mr_dp_config cfg, before;
	char path[512], err[512], want[1024];

	(void)state;
	memset(&cfg, 0x5a, sizeof(cfg));
	before = cfg;
	snprintf(path, sizeof(path), "%s/does-not-exist.conf", tmp.dir);
	assert_int_equal(mr_config_load(path, &cfg, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	assert_string_equal(err, want);
	assert_memory_equal(&cfg, &before, sizeof(cfg));

	assert_int_equal(mr_config_load(tmp.dir, &cfg, err, sizeof(err)), -EISDIR);
	snprintf(want, sizeof(want), "%s: Is a directory", tmp.dir);
	assert_string_equal(err, want);

	/* Permission bits do not stop root: check EACCES only when they bite. */
	write_file("mode-000.conf", "", path, sizeof(path));
	assert_int_equal(chmod(path, 0), 0);
	if (geteuid() != 0) {
		assert_int_equal(mr_config_load(path, &cfg, err, sizeof(err)), -EACCES);
		snprintf(want, sizeof(want), "%s: Permission denied", path);
		assert_string_equal(err, want);
	}
	unlink(path);
}

/* A short or absent error buffer is fine: truncated, never overrun. */
static void
test_err_buffer(void **state)
{
	struct mr_dp_config cfg;
	char path[512], err[16];

	(void)state;
	write_file("short-err.conf", "mbufs = 1;\n", path, sizeof(path));
	memset(err, 'x', sizeof(err));
	assert_int_equal(mr_config_load(path, &cfg, err, 8), -EINVAL);
	assert_int_equal(strlen(err), 7);
	assert_int_equal(err[8], 'x');
	assert_memory_equal(err, path, 7);
	assert_int_equal(mr_config_load(path, &cfg, NULL, 0), -EINVAL);
	memset(err, 'x', sizeof(err));
	assert_int_equal(mr_config_load(path, &cfg, err, 0), -EINVAL);
	assert_int_equal(err[0], 'x');
	unlink(path);

	/* The same for errors found before libconfig runs. */
	assert_int_equal(mr_config_load(tmp.dir, &cfg, NULL, 0), -EISDIR);
}

/* ---- IP literals --------------------------------------------------------- */

static void
test_parse_ip(void **state)
{
	static const struct {
		const char *s;
		bool with_prefix;       /* pass a prefix pointer */
		int ret;
		uint8_t family, prefix;
		uint8_t ip[16];
	} cases[] = {
		{ "198.18.0.2", false, 0, MR_AF_INET, 0, { 198, 18, 0, 2 } },
		{ "198.18.0.2", true, 0, MR_AF_INET, 32, { 198, 18, 0, 2 } },
		{ "198.18.0.2/24", true, 0, MR_AF_INET, 24, { 198, 18, 0, 2 } },
		{ "0.0.0.0/0", true, 0, MR_AF_INET, 0, { 0 } },
		{ "255.255.255.255/32", true, 0, MR_AF_INET, 32, { 255, 255, 255, 255 } },
		{ "2001:db8::1", false, 0, MR_AF_INET6, 0,
		  { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } },
		{ "2001:DB8::1/64", true, 0, MR_AF_INET6, 64,
		  { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } },
		{ "::/0", true, 0, MR_AF_INET6, 0, { 0 } },
		{ "::ffff:1.2.3.4/128", true, 0, MR_AF_INET6, 128,
		  { [10] = 0xff, [11] = 0xff, [12] = 1, [13] = 2, [14] = 3, [15] = 4 } },
		{ "198.18.0.2/24", false, -EINVAL, 0, 0, { 0 } },  /* no prefix wanted */
		{ "198.18.0.2/33", true, -EINVAL, 0, 0, { 0 } },
		{ "2001:db8::1/129", true, -EINVAL, 0, 0, { 0 } },
		{ "198.18.0.2/", true, -EINVAL, 0, 0, { 0 } },
		{ "198.18.0.2/024", true, -EINVAL, 0, 0, { 0 } },
		{ "198.18.0.2/+24", true, -EINVAL, 0, 0, { 0 } },
		{ "198.18.0.2/24x", true, -EINVAL, 0, 0, { 0 } },
		{ "198.18.0.2/24/1", true, -EINVAL, 0, 0, { 0 } },
		{ "198.18.0.2 ", false, -EINVAL, 0, 0, { 0 } },
		{ " 198.18.0.2", false, -EINVAL, 0, 0, { 0 } },
		{ "198.18.0.2x", false, -EINVAL, 0, 0, { 0 } },
		{ "198.18.0.256", false, -EINVAL, 0, 0, { 0 } },
		{ "198.18.0", false, -EINVAL, 0, 0, { 0 } },
		{ "198.018.0.2", false, -EINVAL, 0, 0, { 0 } },
		{ "fe80::1%eth0", false, -EINVAL, 0, 0, { 0 } },
		{ "2001:db8:::1", false, -EINVAL, 0, 0, { 0 } },
		{ "", false, -EINVAL, 0, 0, { 0 } },
		{ "/24", true, -EINVAL, 0, 0, { 0 } },
		{ "localhost", false, -EINVAL, 0, 0, { 0 } },
		{ "1111:2222:3333:4444:5555:6666:7777:8888:9999", false, -EINVAL, 0, 0, { 0 } },
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct mr_sockaddr ip, untouched;
		uint8_t prefix = 0xee;

		memset(&ip, 0xee, sizeof(ip));
		untouched = ip;
		print_message("parse_ip \"%s\"\n", cases[i].s);
		assert_int_equal(mr_config_parse_ip(cases[i].s, &ip,
						    cases[i].with_prefix ? &prefix : NULL),
				 cases[i].ret);
		if (cases[i].ret < 0) {
			/* ret_* out-params are written only on success */
			assert_memory_equal(&ip, &untouched, sizeof(ip));
			assert_int_equal(prefix, 0xee);
			continue;
		}
		assert_int_equal(ip.family, cases[i].family);
		assert_memory_equal(ip.ip, cases[i].ip, 16);
		assert_int_equal(ip.port_be, 0);
		assert_int_equal(ip.pad, 0);
		if (cases[i].with_prefix)
			assert_int_equal(prefix, cases[i].prefix);
	}
	assert_int_equal(mr_config_parse_ip(NULL, &(struct mr_sockaddr){ 0 }, NULL), -EINVAL);
}

/* ---- bad files ----------------------------------------------------------- */

struct bad_case {
	const char *name;
	const char *text;               /* the file */
	unsigned int line;              /* 0: the message has no line */
	const char *what;               /* the message after "FILE:LINE: " */
};

/* One valid port on one line, with @extra settings appended inside it. */
#define WAN(extra) "ports = ( { name = \"wan\"; device = \"net_null0\"; " \
	"addresses = [ \"198.18.0.2/24\" ]; " extra " } );\n"
#define WAN6(extra) "ports = ( { name = \"wan\"; device = \"net_null0\"; " \
	"addresses = [ \"198.18.0.2/24\", \"2001:db8::2/64\" ]; " extra " } );\n"

static const struct bad_case bad_cases[] = {
	/* syntax */
	{ "syntax-error", WAN("") "mbufs = = 4095;\n", 2, "syntax error" },
	/* libconfig reports end of file on the line after the last newline */
	{ "syntax-unterminated-group", WAN("") "relay = {\n  port_min = 30000;\n", 4,
	  "syntax error" },
	{ "syntax-duplicate-key", WAN("") "mbufs = 4095;\nmbufs = 8191;\n", 3,
	  "duplicate setting name" },
	{ "syntax-mixed-array", WAN("") "workers = [ 1, \"2\" ];\n", 2,
	  "mismatched element type in array" },

	/* unknown names */
	{ "unknown-top", WAN("") "neighbors = ( );\n", 2,
	  "neighbors: unknown setting (did you mean \"neighbours\"?)" },
	{ "unknown-top-far", WAN("") "colour = \"blue\";\n", 2, "colour: unknown setting" },
	{ "unknown-port-key", WAN("mtuu = 1500;"), 1,
	  "ports[0].mtuu: unknown setting (did you mean \"mtu\"?)" },
	{ "unknown-relay-key", WAN("") "relay = {\n  port_min = 30000;\n  portmax = 30001;\n};\n",
	  4, "relay.portmax: unknown setting (did you mean \"port_max\"?)" },
	{ "unknown-timeouts-key", WAN("") "timeouts = { media_idle = 0; };\n", 2,
	  "timeouts.media_idle: unknown setting (did you mean \"media_idle_ms\"?)" },
	{ "unknown-exception-key", WAN("") "exception = { enable = true; };\n", 2,
	  "exception.enable: unknown setting (did you mean \"enabled\"?)" },
	{ "unknown-neighbour-key", WAN("")
	  "neighbours = ( { ip = \"198.18.0.1\"; mac = \"02:00:00:00:00:01\"; port = \"wan\"; "
	  "dev = \"x\"; } );\n", 2, "neighbours[0].dev: unknown setting" },

	/* types */
	{ "type-region", WAN("") "region = 5;\n", 2, "region: expected a string, got an integer" },
	{ "type-mtu", WAN("mtu = \"1500\";"), 1, "ports[0].mtu: expected an integer, got a string" },
	{ "type-backoff-float", WAN("") "idle_backoff_us = 1.5;\n", 2,
	  "idle_backoff_us: expected an integer, got a float" },
	{ "type-enabled", WAN("") "exception = { enabled = 1; };\n", 2,
	  "exception.enabled: expected a boolean (true/false), got an integer" },
	{ "type-relay", WAN("") "relay = 30000;\n", 2,
	  "relay: expected a group { ... }, got an integer" },
	{ "type-ports", "ports = { name = \"wan\"; };\n", 1,
	  "ports: expected a list of groups ( { ... }, ... ), got a group" },
	{ "type-port-elem", "ports = ( \"wan\" );\n", 1,
	  "ports[0]: expected a group { ... }, got a string" },
	{ "type-addresses", "ports = ( { name = \"wan\"; device = \"d\";\n"
	  "  addresses = \"198.18.0.2/24\"; } );\n", 2,
	  "ports[0].addresses: expected an array of \"IP/prefix\" strings, got a string" },
	{ "type-address-elem", "ports = ( { name = \"wan\"; device = \"d\";\n"
	  "  addresses = [ 1 ]; } );\n", 2, "ports[0].addresses[0]: expected a string, got an integer" },
	{ "type-workers", WAN("") "workers = 1;\n", 2,
	  "workers: expected an array of lcore ids [ ... ], got an integer" },
	{ "type-worker-elem", WAN("") "workers = [ \"1\" ];\n", 2,
	  "workers[0]: expected an integer, got a string" },
	{ "type-neighbours", WAN("") "neighbours = { };\n", 2,
	  "neighbours: expected a list of groups ( { ... }, ... ), got a group" },

	/* addresses */
	{ "ip-bad", "ports = ( { name = \"wan\"; device = \"d\";\n"
	  "  addresses = [ \"198.18.0.2/24\",\n                \"198.18.0.300/24\" ]; } );\n", 3,
	  "ports[0].addresses[1]: \"198.18.0.300/24\" is not an IPv4 or IPv6 address" },
	{ "ip-trailing-garbage", "ports = ( { name = \"wan\"; device = \"d\";\n"
	  "  addresses = [ \"198.18.0.2x/24\" ]; } );\n", 2,
	  "ports[0].addresses[0]: \"198.18.0.2x/24\" is not an IPv4 or IPv6 address" },
	{ "ip-hostname", "ports = ( { name = \"wan\"; device = \"d\";\n"
	  "  addresses = [ \"relay.example/24\" ]; } );\n", 2,
	  "ports[0].addresses[0]: \"relay.example/24\" is not an IPv4 or IPv6 address" },
	{ "prefix-v4-too-long", "ports = ( { name = \"wan\"; device = \"d\";\n"
	  "  addresses = [ \"198.18.0.2/33\" ]; } );\n", 2,
	  "ports[0].addresses[0]: \"198.18.0.2/33\" has a bad prefix length (IPv4: 0..32)" },
	{ "prefix-v6-too-long", "ports = ( { name = \"wan\"; device = \"d\";\n"
	  "  addresses = [ \"2001:db8::2/129\" ]; } );\n", 2,
	  "ports[0].addresses[0]: \"2001:db8::2/129\" has a bad prefix length (IPv6: 0..128)" },
	{ "prefix-not-a-number", "ports = ( { name = \"wan\"; device = \"d\";\n"
	  "  addresses = [ \"198.18.0.2/2a\" ]; } );\n", 2,
	  "ports[0].addresses[0]: \"198.18.0.2/2a\" has a bad prefix length (IPv4: 0..32)" },
	{ "prefix-missing", "ports = ( { name = \"wan\"; device = \"d\";\n"
	  "  addresses = [ \"198.18.0.2\" ]; } );\n", 2,
	  "ports[0].addresses[0]: \"198.18.0.2\" has no prefix length (\"IP/prefix\")" },
	{ "prefix-zero", "ports = ( { name = \"wan\"; device = \"d\";\n"
	  "  addresses = [ \"198.18.0.2/0\" ]; } );\n", 2,
	  "ports[0].addresses[0]: \"198.18.0.2/0\": a /0 prefix would put every host on-link" },
	{ "addr-multicast", "ports = ( { name = \"wan\"; device = \"d\";\n"
	  "  addresses = [ \"224.0.0.5/24\" ]; } );\n", 2,
	  "ports[0].addresses[0]: \"224.0.0.5/24\" is a multicast address" },
	{ "addr-loopback6", "ports = ( { name = \"wan\"; device = \"d\";\n"
	  "  addresses = [ \"::1/128\" ]; } );\n", 2,
	  "ports[0].addresses[0]: \"::1/128\" is a loopback address" },
	{ "addr-v4-mapped", "ports = ( { name = \"wan\"; device = \"d\";\n"
	  "  addresses = [ \"::ffff:198.18.0.2/120\" ]; } );\n", 2,
	  "ports[0].addresses[0]: \"::ffff:198.18.0.2/120\" is IPv4-mapped; write the IPv4 form" },
	{ "addr-network", "ports = ( { name = \"wan\"; device = \"d\";\n"
	  "  addresses = [ \"198.18.0.0/24\" ]; } );\n", 2,
	  "ports[0].addresses[0]: \"198.18.0.0/24\" is the network address of its subnet" },
	{ "addr-broadcast", "ports = ( { name = \"wan\"; device = \"d\";\n"
	  "  addresses = [ \"198.18.0.255/24\" ]; } );\n", 2,
	  "ports[0].addresses[0]: \"198.18.0.255/24\" is the broadcast address of its subnet" },
	{ "addr-duplicate-in-port", "ports = ( { name = \"wan\"; device = \"d\";\n"
	  "  addresses = [ \"2001:db8::2/64\", \"2001:DB8:0::2/64\" ]; } );\n", 2,
	  "ports[0].addresses[1]: duplicate address \"2001:DB8:0::2/64\" (already on port \"wan\")" },
	{ "addr-duplicate-across-ports", "ports = (\n"
	  "  { name = \"wan\"; device = \"d0\"; addresses = [ \"198.18.0.2/24\" ]; },\n"
	  "  { name = \"lan\"; device = \"d1\"; addresses = [ \"198.19.0.1/24\",\n"
	  "                                                 \"198.18.0.2/16\" ]; }\n);\n", 4,
	  "ports[1].addresses[1]: duplicate address \"198.18.0.2/16\" (already on port \"wan\")" },
	{ "addr-empty", "ports = ( {\n  name = \"wan\";\n  device = \"d\";\n  addresses = [ ];\n} );\n",
	  4, "ports[0].addresses: at least one address is required" },

	/* next hops */
	{ "gateway-off-link", WAN("gateway = \"198.19.0.1\";"), 1,
	  "ports[0].gateway: \"198.19.0.1\" is not on-link: no IPv4 prefix of port \"wan\" holds it" },
	{ "gateway-v6-in-v4", WAN6("gateway = \"2001:db8::1\";"), 1,
	  "ports[0].gateway: \"2001:db8::1\" is not an IPv4 address" },
	{ "gateway-own", WAN("gateway = \"198.18.0.2\";"), 1,
	  "ports[0].gateway: \"198.18.0.2\" is one of the relay's own addresses" },
	{ "gateway-prefix", WAN("gateway = \"198.18.0.1/24\";"), 1,
	  "ports[0].gateway: \"198.18.0.1/24\" has a prefix length, which is not allowed here" },
	{ "gateway6-no-v6", WAN("gateway6 = \"fe80::1\";"), 1,
	  "ports[0].gateway6: \"fe80::1\": port \"wan\" has no IPv6 address" },
	{ "gateway6-off-link", WAN6("gateway6 = \"2001:db9::1\";"), 1,
	  "ports[0].gateway6: \"2001:db9::1\" is not on-link: no IPv6 prefix of port \"wan\" holds it" },
	{ "gateway6-multicast", WAN6("gateway6 = \"ff02::1\";"), 1,
	  "ports[0].gateway6: \"ff02::1\" is a multicast address" },

	/* relay port range */
	{ "relay-inverted", WAN("") "relay = {\n  port_min = 40000;\n  port_max = 39998;\n};\n", 4,
	  "relay.port_max: range 40000..39998 is inverted" },
	{ "relay-inverted-by-min", WAN("") "relay = {\n  port_min = 40000;\n};\n", 3,
	  "relay.port_min: range 40000..39999 is inverted" },
	{ "relay-odd", WAN("") "relay = { port_min = 30001; port_max = 39999; };\n", 2,
	  "relay.port_min: 30001 is odd: RTP takes an even port, RTCP the next one" },
	{ "relay-one-port", WAN("") "relay = {\n  port_min = 30000;\n  port_max = 30000;\n};\n", 4,
	  "relay.port_max: range 30000..30000 holds one port; RTP and RTCP need at least 2" },
	{ "relay-privileged", WAN("") "relay = { port_min = 1000; };\n", 2,
	  "relay.port_min: 1000 is out of range 1024..65535" },
	{ "relay-too-high", WAN("") "relay = { port_max = 65536; };\n", 2,
	  "relay.port_max: 65536 is out of range 1024..65535" },

	/* port settings */
	{ "vlan-zero", WAN("vlan = 0;"), 1, "ports[0].vlan: 0 is out of range 1..4094" },
	{ "vlan-4095", WAN("vlan = 4095;"), 1, "ports[0].vlan: 4095 is out of range 1..4094" },
	{ "mtu-small", WAN("mtu = 67;"), 1, "ports[0].mtu: 67 is out of range 68..9600" },
	{ "mtu-big", WAN("mtu = 9601;"), 1, "ports[0].mtu: 9601 is out of range 68..9600" },
	{ "rx-desc-not-pow2", WAN("rx_desc = 1000;"), 1, "ports[0].rx_desc: 1000 is not a power of two" },
	{ "tx-desc-big", WAN("tx_desc = 16384;"), 1, "ports[0].tx_desc: 16384 is out of range 64..8192" },
	{ "port-name-duplicate", "ports = (\n"
	  "  { name = \"wan\"; device = \"d0\"; addresses = [ \"198.18.0.2/24\" ]; },\n"
	  "  { name = \"wan\"; device = \"d1\"; addresses = [ \"198.19.0.2/24\" ]; }\n);\n", 3,
	  "ports[1].name: duplicate port name \"wan\"" },
	{ "port-name-chars", "ports = ( { name = \"w a n\"; device = \"d\";\n"
	  "  addresses = [ \"198.18.0.2/24\" ]; } );\n", 1,
	  "ports[0].name: \"w a n\": use letters, digits, '-', '_' and '.'" },
	{ "port-name-long", "ports = ( { name = \"abcdefghijklmnopqrstuvwxyz0123456\"; device = \"d\";\n"
	  "  addresses = [ \"198.18.0.2/24\" ]; } );\n", 1,
	  "ports[0].name: too long (33 characters, at most 31)" },
	{ "port-name-empty", "ports = ( { name = \"\"; device = \"d\";\n"
	  "  addresses = [ \"198.18.0.2/24\" ]; } );\n", 1, "ports[0].name: must not be empty" },
	{ "port-device-duplicate", "ports = (\n"
	  "  { name = \"wan\"; device = \"0000:03:00.0\"; addresses = [ \"198.18.0.2/24\" ]; },\n"
	  "  { name = \"lan\"; device = \"0000:03:00.0\"; addresses = [ \"198.19.0.2/24\" ]; }\n);\n",
	  3, "ports[1].device: device \"0000:03:00.0\" is already port \"wan\"" },
	{ "port-device-space", "ports = ( { name = \"wan\"; device = \"net_null0, iface=x\";\n"
	  "  addresses = [ \"198.18.0.2/24\" ]; } );\n", 1,
	  "ports[0].device: \"net_null0, iface=x\" contains white space" },
	{ "unknown-top-near-ports", WAN("") "ports2 = 1;\n", 2,
	  "ports2: unknown setting (did you mean \"ports\"?)" },
	{ "port-missing-device", "ports = (\n  {\n    name = \"wan\";\n"
	  "    addresses = [ \"198.18.0.2/24\" ];\n  }\n);\n", 2,
	  "ports[0].device: missing (required)" },
	{ "port-missing-name", "ports = (\n  { device = \"d\"; addresses = [ \"198.18.0.2/24\" ]; }\n);\n",
	  2, "ports[0].name: missing (required)" },
	{ "port-missing-addresses", "\nports = ( { name = \"wan\"; device = \"d\"; } );\n", 2,
	  "ports[0].addresses: missing (required)" },
	{ "ports-empty", "region = \"/dev/shm/x\";\nports = ( );\n", 2,
	  "ports: at least one port is required" },
	{ "ports-missing", "region = \"/dev/shm/x\";\n", 0,
	  "ports: missing (required): at least one port" },
	{ "ports-too-many", "ports = (\n"
	  "  { name = \"p0\"; device = \"d0\"; addresses = [ \"10.0.0.1/24\" ]; },\n"
	  "  { name = \"p1\"; device = \"d1\"; addresses = [ \"10.0.1.1/24\" ]; },\n"
	  "  { name = \"p2\"; device = \"d2\"; addresses = [ \"10.0.2.1/24\" ]; },\n"
	  "  { name = \"p3\"; device = \"d3\"; addresses = [ \"10.0.3.1/24\" ]; },\n"
	  "  { name = \"p4\"; device = \"d4\"; addresses = [ \"10.0.4.1/24\" ]; },\n"
	  "  { name = \"p5\"; device = \"d5\"; addresses = [ \"10.0.5.1/24\" ]; },\n"
	  "  { name = \"p6\"; device = \"d6\"; addresses = [ \"10.0.6.1/24\" ]; },\n"
	  "  { name = \"p7\"; device = \"d7\"; addresses = [ \"10.0.7.1/24\" ]; },\n"
	  "  { name = \"p8\"; device = \"d8\"; addresses = [ \"10.0.8.1/24\" ]; }\n);\n", 10,
	  "ports[8]: too many ports (at most 8)" },

	/* scalars */
	{ "region-relative", WAN("") "region = \"shm/mrelay\";\n", 2,
	  "region: \"shm/mrelay\" is not an absolute path" },
	{ "region-empty", WAN("") "region = \"\";\n", 2, "region: must not be empty" },
	{ "workers-duplicate", WAN("") "workers = [ 1, 2,\n  1 ];\n", 3,
	  "workers[2]: lcore 1 is listed twice" },
	{ "workers-main-lcore", WAN("") "workers = [ 0 ];\n", 2,
	  "workers[0]: 0 is out of range 1..127" },
	{ "workers-128", WAN("") "workers = [ 128 ];\n", 2, "workers[0]: 128 is out of range 1..127" },
	{ "backoff-big", WAN("") "idle_backoff_us = 100001;\n", 2,
	  "idle_backoff_us: 100001 is out of range 0..100000" },
	{ "backoff-negative", WAN("") "idle_backoff_us = -1;\n", 2,
	  "idle_backoff_us: -1 is out of range 0..100000" },
	{ "timeout-retry-zero", WAN("") "timeouts = {\n  neighbour_retry_ms = 0;\n};\n", 3,
	  "timeouts.neighbour_retry_ms: 0 is out of range 1..86400000" },
	{ "timeout-reachable-zero", WAN("") "timeouts = { neighbour_reachable_ms = 0; };\n", 2,
	  "timeouts.neighbour_reachable_ms: 0 is out of range 1..86400000" },
	{ "timeout-media-big", WAN("") "timeouts = { media_idle_ms = 86400001; };\n", 2,
	  "timeouts.media_idle_ms: 86400001 is out of range 0..86400000" },
	{ "timeout-int64", WAN("") "timeouts = { latch_window_ms = 10000000000L; };\n", 2,
	  "timeouts.latch_window_ms: 10000000000 is out of range 0..86400000" },
	{ "mbufs-small", WAN("") "mbufs = 1022;\n", 2, "mbufs: 1022 is out of range 1023..4194303" },
	{ "mbufs-big", WAN("") "mbufs = 4194304;\n", 2, "mbufs: 4194304 is out of range 1023..4194303" },
	{ "srtp-engine-unknown", WAN("") "srtp_engine = \"openssl\";\n", 2,
	  "srtp_engine: \"openssl\" is not an SRTP engine (auto, libsrtp, ipsec-mb)" },
	{ "srtp-engine-type", WAN("") "srtp_engine = 1;\n", 2, "srtp_engine: expected a string, got an integer" },
	{ "exception-iface-long", WAN("") "exception = { iface = \"mrelay-exception\"; };\n", 2,
	  "exception.iface: too long (16 characters, at most 15)" },
	{ "exception-iface-slash", WAN("") "exception = { iface = \"mr/exc\"; };\n", 2,
	  "exception.iface: \"mr/exc\" is not a valid interface name" },

	/* neighbours */
	{ "neigh-unknown-port", WAN("") "neighbours = (\n"
	  "  { ip = \"198.18.0.1\"; mac = \"02:00:00:00:00:01\"; port = \"lan\"; }\n);\n", 3,
	  "neighbours[0].port: no port is named \"lan\"" },
	{ "neigh-bad-mac", WAN("") "neighbours = (\n"
	  "  { ip = \"198.18.0.1\"; mac = \"02:00:00:00:00\"; port = \"wan\"; }\n);\n", 3,
	  "neighbours[0].mac: \"02:00:00:00:00\" is not a MAC address (aa:bb:cc:dd:ee:ff)" },
	{ "neigh-bad-mac-sep", WAN("") "neighbours = (\n"
	  "  { ip = \"198.18.0.1\"; mac = \"02-00-00-00-00-01\"; port = \"wan\"; }\n);\n", 3,
	  "neighbours[0].mac: \"02-00-00-00-00-01\" is not a MAC address (aa:bb:cc:dd:ee:ff)" },
	{ "neigh-multicast-mac", WAN("") "neighbours = (\n"
	  "  { ip = \"198.18.0.1\"; mac = \"01:00:5e:00:00:01\"; port = \"wan\"; }\n);\n", 3,
	  "neighbours[0].mac: \"01:00:5e:00:00:01\" is not a unicast MAC address" },
	{ "neigh-off-link", WAN("") "neighbours = (\n"
	  "  { ip = \"198.19.0.1\"; mac = \"02:00:00:00:00:01\"; port = \"wan\"; }\n);\n", 3,
	  "neighbours[0].ip: \"198.19.0.1\" is not on-link on port \"wan\"" },
	{ "neigh-own", WAN("") "neighbours = (\n"
	  "  { ip = \"198.18.0.2\"; mac = \"02:00:00:00:00:01\"; port = \"wan\"; }\n);\n", 3,
	  "neighbours[0].ip: \"198.18.0.2\" is one of the relay's own addresses" },
	{ "neigh-duplicate", WAN("") "neighbours = (\n"
	  "  { ip = \"198.18.0.1\"; mac = \"02:00:00:00:00:01\"; port = \"wan\"; },\n"
	  "  { ip = \"198.18.0.1\"; mac = \"02:00:00:00:00:02\"; port = \"wan\"; }\n);\n", 4,
	  "neighbours[1].ip: duplicate neighbour \"198.18.0.1\" on port \"wan\"" },
	{ "neigh-missing-mac", WAN("") "neighbours = (\n"
	  "  { ip = \"198.18.0.1\";\n    port = \"wan\"; }\n);\n", 3,
	  "neighbours[0].mac: missing (required)" },
	{ "neigh-before-ports", "neighbours = (\n"
	  "  { ip = \"198.18.0.1\"; mac = \"02:00:00:00:00:01\"; port = \"wan\"; }\n);\n"
	  WAN("") "mbufs = 1;\n", 5, "mbufs: 1 is out of range 1023..4194303" },
};

static void
test_bad(void **state)
{
	const struct bad_case *c = *state;
	struct mr_dp_config cfg, before;
	char name[128], path[512], err[1024], want[1024];

	snprintf(name, sizeof(name), "%s.conf", c->name);
	write_file(name, c->text, path, sizeof(path));
	if (c->line > 0)
		snprintf(want, sizeof(want), "%s:%u: %s", path, c->line, c->what);
	else
		snprintf(want, sizeof(want), "%s: %s", path, c->what);

	/* A failed load leaves the caller's struct alone. */
	memset(&cfg, 0x5a, sizeof(cfg));
	before = cfg;
	assert_int_equal(mr_config_load(path, &cfg, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, want);
	assert_memory_equal(&cfg, &before, sizeof(cfg));
	unlink(path);
}

/* Generated: one over MR_CFG_MAX_ADDRS / MR_CFG_MAX_NEIGH / MR_CFG_MAX_WORKERS. */
static void
test_too_many(void **state)
{
	struct mr_dp_config cfg;
	char path[512], err[1024], want[1024];
	char *text = malloc(64 * 1024);
	size_t off;
	unsigned int i;

	(void)state;
	assert_non_null(text);

	/*
	 * libconfig gives an array element the line of the token after it, so
	 * each comma ends its element's line.
	 */
	off = (size_t)sprintf(text, "ports = ( { name = \"wan\"; device = \"d\"; addresses = [\n");
	for (i = 0; i <= MR_CFG_MAX_ADDRS; i++)
		off += (size_t)sprintf(text + off, "\"10.0.%u.1/16\"%s\n", i,
				       i < MR_CFG_MAX_ADDRS ? "," : " ]; } );");
	write_file("too-many-addrs.conf", text, path, sizeof(path));
	assert_int_equal(mr_config_load(path, &cfg, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:%u: ports[0].addresses[%u]: too many addresses (at most %u)",
		 path, MR_CFG_MAX_ADDRS + 2, MR_CFG_MAX_ADDRS, MR_CFG_MAX_ADDRS);
	assert_string_equal(err, want);
	unlink(path);

	/* Exactly the maximum is fine. */
	off = (size_t)sprintf(text, "ports = ( { name = \"wan\"; device = \"d\"; addresses = [\n");
	for (i = 0; i < MR_CFG_MAX_ADDRS; i++)
		off += (size_t)sprintf(text + off, "%s\"10.0.%u.1/16\"\n", i > 0 ? "," : "", i);
	off += (size_t)sprintf(text + off, "]; } );\nworkers = [ ");
	for (i = 0; i < MR_CFG_MAX_WORKERS; i++)
		off += (size_t)sprintf(text + off, "%s%u", i > 0 ? ", " : "", i + 1);
	off += (size_t)sprintf(text + off, " ];\nneighbours = (\n");
	for (i = 0; i < MR_CFG_MAX_NEIGH; i++)
		off += (size_t)sprintf(text + off,
				       "%s{ ip = \"10.0.200.%u\"; mac = \"02:00:00:00:00:%02x\"; port = \"wan\"; }\n",
				       i > 0 ? "," : "", i + 1, i + 1);
	sprintf(text + off, ");\n");
	write_file("max.conf", text, path, sizeof(path));
	assert_int_equal(mr_config_load(path, &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.ports[0].n_addrs, MR_CFG_MAX_ADDRS);
	assert_int_equal(cfg.n_workers, MR_CFG_MAX_WORKERS);
	assert_int_equal(cfg.n_neigh, MR_CFG_MAX_NEIGH);
	assert_int_equal(cfg.neigh[MR_CFG_MAX_NEIGH - 1].mac[5], MR_CFG_MAX_NEIGH);
	unlink(path);

	off = (size_t)sprintf(text, "%s", WAN(""));
	off += (size_t)sprintf(text + off, "neighbours = (\n");
	for (i = 0; i <= MR_CFG_MAX_NEIGH; i++)
		off += (size_t)sprintf(text + off,
				       "%s{ ip = \"198.18.0.%u\"; mac = \"02:00:00:00:00:01\"; port = \"wan\"; }\n",
				       i > 0 ? "," : "", i + 10);
	sprintf(text + off, ");\n");
	write_file("too-many-neigh.conf", text, path, sizeof(path));
	assert_int_equal(mr_config_load(path, &cfg, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:%u: neighbours[%u]: too many neighbours (at most %u)",
		 path, MR_CFG_MAX_NEIGH + 3, MR_CFG_MAX_NEIGH, MR_CFG_MAX_NEIGH);
	assert_string_equal(err, want);
	unlink(path);

	off = (size_t)sprintf(text, "%s", WAN(""));
	off += (size_t)sprintf(text + off, "workers = [ ");
	for (i = 0; i <= MR_CFG_MAX_WORKERS; i++)
		off += (size_t)sprintf(text + off, "%s%u", i > 0 ? ", " : "", i + 1);
	sprintf(text + off, " ];\n");
	write_file("too-many-workers.conf", text, path, sizeof(path));
	assert_int_equal(mr_config_load(path, &cfg, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:2: workers[%u]: too many workers (at most %u)",
		 path, MR_CFG_MAX_WORKERS, MR_CFG_MAX_WORKERS);
	assert_string_equal(err, want);
	unlink(path);

	free(text);
}

/* mr_prefix_match() against a bit-by-bit reference: addresses that first differ at bit d. */
static void
test_prefix_match(void **state)
{
	uint8_t a[16], b[16];
	unsigned int d, plen, i;

	(void)state;
	for (d = 0; d <= 128; d++) {
		for (i = 0; i < 16; i++)
			a[i] = b[i] = (uint8_t)(i * 37u + d);
		if (d < 128) {
			b[d / 8] ^= (uint8_t)(0x80u >> (d % 8));       /* bit d differs */
			for (i = d + 1; i < 128; i += 3)
				b[i / 8] ^= (uint8_t)(0x80u >> (i % 8)); /* and some later ones */
		}
		for (plen = 0; plen <= 128; plen++)
			assert_int_equal(mr_prefix_match(a, b, plen), plen <= d);
	}
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_shipped),
		cmocka_unit_test(test_include),
		cmocka_unit_test(test_unreadable),
		cmocka_unit_test(test_err_buffer),
		cmocka_unit_test(test_parse_ip),
		cmocka_unit_test(test_too_many),
		cmocka_unit_test(test_prefix_match),
	};
	struct CMUnitTest tests[ARRAY_SIZE(fixed) + ARRAY_SIZE(bad_cases)];
	unsigned int i;

	memcpy(tests, fixed, sizeof(fixed));
	for (i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		tests[ARRAY_SIZE(fixed) + i] = (struct CMUnitTest){
			.name = bad_cases[i].name,
			.test_func = test_bad,
			.initial_state = (void *)(uintptr_t)&bad_cases[i],
		};
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
