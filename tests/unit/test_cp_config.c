/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mrelay-cp configuration loader (controlplane/cp/config.c): a full file,
 * the defaults, the shipped etc/mrelay-cp.conf, one case per bad file with
 * its whole "FILE:LINE: SETTING: what" message (the sip group's checks
 * included: listeners, trunks, interfaces they name, plain SIP for PSTN
 * trunks only), and which changes a reload cannot apply.
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
#include "digest.h"
#include "tmpdir.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static struct mr_test_tmpdir tmp;

static void
write_file(const char *name, const char *text, char *path, size_t len)
{
	assert_int_equal(mr_test_tmpdir_write(&tmp, name, text, path, len), 0);
}

static int
group_setup(void **state)
{
	(void)state;
	return mr_test_tmpdir_make(&tmp, "/tmp/mr-test-cp-config-XXXXXX", NULL);
}

static int
group_teardown(void **state)
{
	(void)state;
	return mr_test_tmpdir_remove(&tmp);
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
check_full_sip(const struct mr_sip_config *sip)
{
	assert_true(sip->enabled);
	assert_string_equal(sip->domain, "mrelay.test");
	assert_string_equal(sip->accounts_db, "/var/lib/mrelay-test/accounts.db");
	assert_string_equal(sip->cdr_db, "/var/lib/mrelay-test/cdr.db");
	assert_int_equal(sip->cdr_retention_days, 30);
	assert_true(sip->tls13_only);
	assert_string_equal(sip->ciphers, "ECDHE+AESGCM");
	assert_string_equal(sip->ciphersuites, "TLS_AES_256_GCM_SHA384");
	assert_string_equal(sip->trunk_ca, "/etc/mrelay-test/trunk-ca.pem");
	assert_string_equal(sip->client_cert, "/etc/mrelay-test/client.pem");
	assert_string_equal(sip->client_key, "/etc/mrelay-test/client.key");
	assert_int_equal(sip->n_tls, 2);
	assert_ip(&sip->tls[0].addr, "127.0.0.1");
	assert_int_equal(ntohs(sip->tls[0].addr.port_be), 5061);
	assert_string_equal(sip->tls[0].cert, "/etc/mrelay-test/sip-chain.pem");
	assert_string_equal(sip->tls[0].key, "/etc/mrelay-test/sip.key");
	assert_int_equal(sip->tls[0].verify, MR_SIP_VERIFY_NONE);
	assert_string_equal(sip->tls[0].client_ca, "");
	assert_string_equal(sip->tls[0].iface, "");
	assert_ip(&sip->tls[1].addr, "2001:db8::2");
	assert_int_equal(ntohs(sip->tls[1].addr.port_be), 5062);
	assert_int_equal(sip->tls[1].verify, MR_SIP_VERIFY_REQUIRED);
	assert_string_equal(sip->tls[1].client_ca, "/etc/mrelay-test/clients-ca.pem");
	assert_string_equal(sip->tls[1].iface, "private");
	assert_int_equal(sip->tls[0].digest.n, 0);
	assert_int_equal(sip->tls[1].digest.n, 2);
	assert_int_equal(sip->tls[1].digest.alg[0], MR_DIGEST_SHA256);
	assert_int_equal(sip->tls[1].digest.alg[1], MR_DIGEST_MD5);
	assert_int_equal(sip->n_plain_udp, 1);
	assert_int_equal(sip->n_plain_tcp, 1);
	assert_ip(&sip->plain_udp[0], "198.18.0.2");
	assert_int_equal(ntohs(sip->plain_tcp[0].port_be), 5060);
	assert_int_equal(sip->n_trunks, 3);
	assert_string_equal(sip->trunks[0].name, "pstn1");
	assert_int_equal(sip->trunks[0].proto, MR_SIP_UDP);
	assert_ip(&sip->trunks[0].addr, "198.18.5.2");
	assert_true(sip->trunks[0].pstn);
	assert_string_equal(sip->trunks[0].iface, "private");
	assert_int_equal(sip->trunks[0].n_prefixes, 2);
	assert_string_equal(sip->trunks[0].prefixes[0], "00");
	assert_string_equal(sip->trunks[0].prefixes[1], "+");
	assert_false(sip->trunks[0].strip_prefix);
	assert_int_equal(sip->trunks[1].proto, MR_SIP_TCP);
	assert_true(sip->trunks[1].strip_prefix);
	assert_int_equal(sip->trunks[2].proto, MR_SIP_TLS);
	assert_false(sip->trunks[2].pstn);
	assert_string_equal(sip->trunks[2].tls_name, "sip.partner.example");
	assert_string_equal(sip->trunks[2].iface, "");
	assert_string_equal(sip->trunks[2].prefixes[0], "*7");
	assert_int_equal(sip->reg_min_expires_s, 120);
	assert_int_equal(sip->reg_max_expires_s, 7200);
	assert_int_equal(sip->session_expires_s, 900);
	assert_int_equal(sip->min_se_s, 120);
	assert_int_equal(sip->max_flows, 2000);
	assert_int_equal(sip->flow_idle_s, 600);
	assert_int_equal(sip->digest.n, 1);
	assert_int_equal(sip->digest.alg[0], MR_DIGEST_MD5);
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
	assert_int_equal(cfg.timeouts.old_key_ms, 20000);
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
	check_full_sip(&cfg.sip);
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
	assert_int_equal(cfg.timeouts.old_key_ms, 60000);
	assert_int_equal(cfg.limits.max_calls, 0);
	assert_string_equal(cfg.admin_socket, "/run/mrelay/mrelay-cp.sock");
	assert_string_equal(cfg.state_dir, "/var/lib/mrelay");
	assert_int_equal(cfg.n_ng_udp, 1);
	assert_ip(&cfg.ng_udp[0], "127.0.0.1");
	assert_int_equal(ntohs(cfg.ng_udp[0].port_be), 2223);
	assert_int_equal(cfg.n_ng_tcp, 0);
	assert_int_equal(cfg.log_level[MR_LOG_ADMIN], LOG_INFO);
	assert_false(cfg.sip.enabled);
}

/* The smallest sip group: a domain and one TLS listener; the rest defaults. */
static void
test_sip_defaults(void **state)
{
	struct mr_cp_config cfg;
	char path[512], err[512];

	(void)state;
	write_file("sip-min.conf", "sip = { domain = \"mrelay.test\";\n"
		   "  listen = ( { address = \"127.0.0.1:5061\"; cert = \"/c.pem\"; key = \"/k.pem\"; } );\n"
		   "};\n"
		   "interfaces = ( { name = \"wan\"; addresses = [ \"198.18.0.2\" ]; } );\n",
		   path, sizeof(path));
	assert_int_equal(mr_cp_config_load(path, &cfg, err, sizeof(err)), 0);
	assert_true(cfg.sip.enabled);
	assert_string_equal(cfg.sip.accounts_db, "/var/lib/mrelay/accounts.db");
	assert_string_equal(cfg.sip.cdr_db, "/var/lib/mrelay/cdr.db");
	assert_int_equal(cfg.sip.cdr_retention_days, 90);
	assert_false(cfg.sip.tls13_only);
	assert_string_equal(cfg.sip.ciphers, "ECDHE+AESGCM:ECDHE+CHACHA20");
	assert_string_equal(cfg.sip.ciphersuites,
			    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256");
	assert_string_equal(cfg.sip.trunk_ca, "");
	assert_string_equal(cfg.sip.client_cert, "");
	assert_int_equal(cfg.sip.n_tls, 1);
	assert_int_equal(cfg.sip.tls[0].verify, MR_SIP_VERIFY_NONE);
	assert_int_equal(cfg.sip.n_plain_udp + cfg.sip.n_plain_tcp, 0);
	assert_int_equal(cfg.sip.n_trunks, 0);
	assert_int_equal(cfg.sip.reg_min_expires_s, 60);
	assert_int_equal(cfg.sip.reg_max_expires_s, 3600);
	assert_int_equal(cfg.sip.session_expires_s, 1800);
	assert_int_equal(cfg.sip.min_se_s, 90);
	assert_int_equal(cfg.sip.max_flows, 4096);
	assert_int_equal(cfg.sip.flow_idle_s, 300);
}

static void
test_shipped(void **state)
{
	struct mr_cp_config cfg;
	char err[512];

	(void)state;
	assert_int_equal(mr_cp_config_load(MR_TEST_DATA "/../../etc/mrelay-cp.conf", &cfg, err,
					   sizeof(err)), 0);
	/* SRTP on wan; plain RTP (the admin socket's calls) only on pstn */
	assert_int_equal(cfg.n_ifaces, 2);
	assert_false(cfg.ifaces[0].pstn);
	assert_string_equal(cfg.ifaces[1].name, "pstn");
	assert_true(cfg.ifaces[1].pstn);
	/* scripts/run's SIP front-end: TLS on loopback and on the veth's host side. */
	assert_true(cfg.sip.enabled);
	assert_string_equal(cfg.sip.domain, "mrelay.test");
	assert_int_equal(cfg.sip.n_tls, 4);
	assert_int_equal(cfg.sip.tls[0].digest.n, 0);   /* SHA-256, then MD5 */
	assert_int_equal(cfg.sip.tls[2].digest.n, 1);   /* legacy clients: MD5 */
	assert_int_equal(cfg.sip.n_plain_udp + cfg.sip.n_plain_tcp, 0);
}

struct bad {
	const char *text;
	const char *msg;        /* after "<path>:" */
};

#define IF "interfaces = ( { name = \"wan\"; addresses = [ \"198.18.0.2\" ]; } );\n"
#define LSN "{ address = \"127.0.0.1:5061\"; cert = \"/c\"; key = \"/k\"; }"
#define TRK "{ name = \"t\"; transport = \"udp\"; address = \"198.18.5.2:5060\"; pstn = true; }"

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
	/* sip */
	{ IF "sip = { listen = ( " LSN " ); };\n",
	  "2: sip.domain: missing (required): clients register as sip:NAME@DOMAIN" },
	{ IF "sip = { domain = \"mrelay.test\"; };\n",
	  "2: sip.listen: at least one TLS listener is required" },
	{ IF "sip = { domain = \"mrelay test\"; };\n",
	  "2: sip.domain: \"mrelay test\" is not a domain name (letters, digits, '-' and '.')" },
	{ IF "sip = { domain = \"mrelay.test\"; listen = ( " LSN " ); domian = \"x\"; };\n",
	  "2: sip.domian: unknown setting (did you mean \"domain\"?)" },
	{ IF "sip = { domain = \"d\"; listen = ( " LSN " ); tls = { min_version = \"1.1\"; }; };\n",
	  "2: sip.tls.min_version: \"1.1\": \"1.2\" or \"1.3\" (older versions are never accepted)" },
	{ IF "sip = { domain = \"d\"; listen = ( " LSN " ); tls = { ciphers = \"\"; }; };\n",
	  "2: sip.tls.ciphers: must not be empty" },
	{ IF "sip = { domain = \"d\"; listen = ( " LSN " ); tls = { client_cert = \"/c\"; }; };\n",
	  "2: sip.tls.client_cert: client_cert and client_key go together" },
	{ IF "sip = { domain = \"d\"; listen = ( " LSN " ); accounts = \"a.db\"; };\n",
	  "2: sip.accounts: \"a.db\" is not an absolute path" },
	{ IF "sip = { domain = \"d\"; listen = ( { address = \"127.0.0.1:5061\"; key = \"/k\"; } ); };\n",
	  "2: sip.listen[0].cert: missing (required): the certificate chain (PEM)" },
	{ IF "sip = { domain = \"d\"; listen = ( { address = \"127.0.0.1\"; cert = \"/c\"; key = \"/k\"; } ); };\n",
	  "2: sip.listen[0].address: \"127.0.0.1\" is not IPv4:PORT or [IPv6]:PORT" },
	{ IF "sip = { domain = \"d\"; listen = ( { address = \"127.0.0.1:5061\"; cert = \"/c\"; key = \"/k\";\n"
	  "  verify_client = \"required\"; } ); };\n",
	  "3: sip.listen[0].verify_client: verifying client certificates needs client_ca" },
	{ IF "sip = { domain = \"d\"; listen = ( { address = \"127.0.0.1:5061\"; cert = \"/c\"; key = \"/k\";\n"
	  "  verify_client = \"sometimes\"; } ); };\n",
	  "3: sip.listen[0].verify_client: \"sometimes\": none, optional or required" },
	{ IF "sip = { domain = \"d\"; listen = ( " LSN ", " LSN " ); };\n",
	  "2: sip.listen[1].address: the address of listener 0 too" },
	{ IF "sip = { domain = \"d\"; listen = ( { address = \"127.0.0.1:5061\"; cert = \"/c\"; key = \"/k\";\n"
	  "  interface = \"lan\"; } ); };\n",
	  "3: sip.listen[0].interface: no interface named \"lan\" in \"interfaces\"" },
	{ "sip = { domain = \"d\"; listen = ( " LSN " );\n"
	  "  trunks = ( { name = \"t\"; transport = \"udp\"; address = \"198.18.5.2:5060\"; pstn = true;\n"
	  "    interface = \"pstn\"; } ); };\n" IF,
	  "3: sip.trunks[0].interface: no interface named \"pstn\" in \"interfaces\"" },
	{ IF "sip = { domain = \"d\"; listen = ( " LSN " );\n"
	  "  trunks = ( { name = \"t\"; transport = \"udp\"; address = \"198.18.5.2:5060\"; } ); };\n",
	  "3: sip.trunks[0].transport: plain SIP only for pstn trunks: use transport \"tls\", or set pstn = true for a PSTN gateway" },
	{ IF "sip = { domain = \"d\"; listen = ( " LSN " );\n"
	  "  trunks = ( { name = \"t\"; transport = \"tcp\"; address = \"198.18.5.2:5060\"; pstn = false; } ); };\n",
	  "3: sip.trunks[0].pstn: plain SIP only for pstn trunks: use transport \"tls\", or set pstn = true for a PSTN gateway" },
	{ IF "sip = { domain = \"d\"; listen = ( " LSN " );\n"
	  "  trunks = ( { name = \"t\"; transport = \"sctp\"; address = \"198.18.5.2:5060\"; } ); };\n",
	  "3: sip.trunks[0].transport: \"sctp\": udp, tcp or tls" },
	{ IF "sip = { domain = \"d\"; listen = ( " LSN " );\n"
	  "  trunks = ( { name = \"t\"; address = \"198.18.5.2:5060\"; } ); };\n",
	  "3: sip.trunks[0].transport: missing (required): udp, tcp or tls" },
	{ IF "sip = { domain = \"d\"; listen = ( " LSN " );\n"
	  "  trunks = ( " TRK ", " TRK " ); };\n",
	  "3: sip.trunks[1].name: duplicate trunk name \"t\"" },
	{ IF "sip = { domain = \"d\"; listen = ( " LSN " );\n"
	  "  trunks = ( { name = \"t\"; transport = \"tls\"; address = \"198.18.5.2:5061\";\n"
	  "    prefixes = [ \"00\", \"\" ]; } ); };\n",
	  "4: sip.trunks[0].prefixes[1]: must not be empty" },
	{ IF "sip = { domain = \"d\"; listen = ( " LSN " );\n"
	  "  trunks = ( { name = \"t\"; transport = \"tls\"; address = \"198.18.5.2:5061\";\n"
	  "    prefixes = [ \"0x\" ]; } ); };\n",
	  "4: sip.trunks[0].prefixes[0]: \"0x\": a prefix is digits, '+', '*' and '#'" },
	{ IF "sip = { domain = \"d\"; listen = ( " LSN " );\n"
	  "  trunks = ( { name = \"t\"; transport = \"tls\"; address = \"198.18.5.2:5061\";\n"
	  "    prefixes = [ \"00\", \"00\" ]; } ); };\n",
	  "4: sip.trunks[0].prefixes[1]: \"00\" is listed twice" },
	{ IF "sip = { domain = \"d\"; listen = ( " LSN " );\n"
	  "  trunks = ( { name = \"t\"; transport = \"udp\"; pstn = true; address = \"198.18.5.2:5060\";\n"
	  "    tls_name = \"x.example\"; } ); };\n",
	  "4: sip.trunks[0].tls_name: only for transport \"tls\"" },
	{ IF "sip = { domain = \"d\"; listen = ( " LSN " );\n"
	  "  plain = { udp = [ \"198.18.0.2:5060\" ]; }; };\n",
	  "3: sip.plain.udp: plain SIP only for pstn trunks: no trunk with transport \"udp\" and pstn = true" },
	{ IF "sip = { domain = \"d\"; listen = ( " LSN " ); trunks = ( " TRK " );\n"
	  "  plain = { udp = [ \"198.18.0.2:5060\" ]; tcp = [ \"198.18.0.2:5060\" ]; }; };\n",
	  "3: sip.plain.tcp: plain SIP only for pstn trunks: no trunk with transport \"tcp\" and pstn = true" },
	{ IF "sip = { domain = \"d\"; listen = ( " LSN " ); digest_algorithms = [ \"SHA-1\" ]; };\n",
	  "2: sip.digest_algorithms[0]: \"SHA-1\": \"SHA-256\" or \"MD5\"" },
	{ IF "sip = { domain = \"d\"; listen = ( " LSN " ); digest_algorithms = [ \"MD5\", \"MD5\" ]; };\n",
	  "2: sip.digest_algorithms[1]: \"MD5\" is listed twice" },
	{ IF "sip = { domain = \"d\"; listen = ( " LSN " ); digest_algorithms = [ ]; };\n",
	  "2: sip.digest_algorithms: 1 or 2 algorithms, in order of preference" },
	{ IF "sip = { domain = \"d\"; listen = ( " LSN " ); session_timer = { min_se_s = 89; }; };\n",
	  "2: sip.session_timer.min_se_s: 89 is out of range 90..86400" },
	{ IF "sip = { domain = \"d\"; listen = ( " LSN " );\n"
	  "  session_timer = { session_expires_s = 100; min_se_s = 120; }; };\n",
	  "3: sip.session_timer.session_expires_s: 100 is below min_se_s (120)" },
	{ IF "sip = { domain = \"d\"; listen = ( " LSN " );\n"
	  "  registration = { min_expires_s = 600; max_expires_s = 300; }; };\n",
	  "3: sip.registration.max_expires_s: 300 is below min_expires_s (600)" },
	{ IF "sip = { domain = \"d\"; listen = ( " LSN " ); flows = { max = 0; }; };\n",
	  "2: sip.flows.max: 0 is out of range 1..1000000" },
	{ IF "sip = { domain = \"d\"; listen = { address = \"127.0.0.1:5061\"; }; };\n",
	  "2: sip.listen: expected a list of groups ( { ... }, ... ), got a group" },
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
	assert_int_equal(mr_cp_config_load(tmp.dir, &cfg, err, sizeof(err)), -EISDIR);
	snprintf(want, sizeof(want), "%s: Is a directory", tmp.dir);
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
	/* the sip group is restart-only, any key of it */
	b = a;
	b.sip.trunks[2].prefixes[0][1] = '8';
	assert_int_equal(mr_cp_config_restart_diff(&a, &b, buf, sizeof(buf)), 1);
	assert_string_equal(buf, "sip");
	b = a;
	b.sip.enabled = false;
	assert_int_equal(mr_cp_config_restart_diff(&a, &b, buf, sizeof(buf)), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_sip_defaults),
		cmocka_unit_test(test_shipped),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_unreadable),
		cmocka_unit_test(test_restart_diff),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
