/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The SIP transport (controlplane/sip/transport.c) on loopback, with
 * certificates made for the run by the openssl CLI in a temporary
 * directory: root CA -> intermediate -> server leaf (sip.test, 127.0.0.1),
 * a client CA with a client (CN room1) and a server-only certificate, and a
 * rogue CA with a look-alike.
 *  - openssl s_client: TLS 1.1 refused (and counted), 1.2 and 1.3 accepted,
 *    the chain verifies against the root alone (the intermediate is sent)
 *    and -showcerts lists it;
 *  - an in-test client (a thread): a message split over two writes comes
 *    up whole with its flow info, CRLFCRLF gets a CRLF back, a reply sent
 *    with mr_sip_transport_send() arrives; TLS 1.2 renegotiation fails;
 *  - client certificates: required refuses none, a rogue one and one not
 *    for client use, takes a good one (client_verified, CN); optional
 *    takes none;
 *  - plain TCP and UDP: refused from 127.0.0.2, accepted from the pstn
 *    trunk at 127.0.0.1, replies reach it; a framing error closes the flow
 *    with exactly one closed(); a peer that never reads loses its flow;
 *  - dialling a TLS trunk (a second transport): its certificate is checked
 *    (a wrong name is refused), our client certificate is presented, the
 *    flow is reused;
 *  - timers (on the test's own clock): idle close, handshake and slow
 *    message timeouts; max_flows refusal; a key that does not match.
 * Ports are ephemeral (port 0, mr_sip_transport_listener_addr()).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tmpdir.h"
#include "transport.h"

extern char **environ;

#define MSG_INVITE                                                  \
	"INVITE sip:bob@example.net SIP/2.0\r\n"                    \
	"Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bKtest1\r\n"   \
	"Call-ID: t1@127.0.0.1\r\n"                                 \
	"CSeq: 1 INVITE\r\n"                                        \
	"Content-Type: application/sdp\r\n"                         \
	"l: 10\r\n"                                                 \
	"\r\n"                                                      \
	"v=0\r\ns=-\r\n"
#define MSG_OK "SIP/2.0 200 OK\r\nCall-ID: t1@127.0.0.1\r\nContent-Length: 0\r\n\r\n"
#define DEADLINE_MS 8000

static struct mr_test_tmpdir tmp;      /* the certificates and their script */
static uint64_t skew_ms;        /* the transport's clock runs ahead by this */

/* ---- what the upper layer saw ---- */

struct seen {
	int msgs;
	char msg[4096];
	size_t len;
	struct mr_sip_flow_info info;
	int closed;
	mr_flow_id closed_id[16];
};

static void
on_message(void *ctx, const struct mr_sip_flow_info *f, const char *msg, size_t len, uint64_t now)
{
	struct seen *s = ctx;

	(void)now;
	s->msgs++;
	s->info = *f;
	s->len = len < sizeof(s->msg) ? len : sizeof(s->msg);
	memcpy(s->msg, msg, s->len);
}

static void
on_closed(void *ctx, mr_flow_id id)
{
	struct seen *s = ctx;

	if (s->closed < 16)
		s->closed_id[s->closed] = id;
	s->closed++;
}

static const struct mr_sip_transport_ops ops = { on_message, on_closed };

/* ---- clock and event loop ---- */

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Poll the transports' descriptors (10 ms at most), serve them. */
static void
pump(struct mr_sip_transport *a, struct mr_sip_transport *b)
{
	struct pollfd p[2] = { { mr_sip_transport_fd(a), POLLIN, 0 }, { -1, POLLIN, 0 } };

	if (b != NULL)
		p[1].fd = mr_sip_transport_fd(b);
	poll(p, 2, 10);
	mr_sip_transport_serve(a, mono_ms() + skew_ms);
	if (b != NULL)
		mr_sip_transport_serve(b, mono_ms() + skew_ms);
}

#define PUMP_UNTIL(cond, a, b)                                \
	do {                                                  \
		uint64_t end_ = mono_ms() + DEADLINE_MS;      \
		while (!(cond) && mono_ms() < end_)           \
			pump((a), (b));                       \
		assert_true(cond);                            \
	} while (0)

/* Serve with the clock moved on by @ms (timers, no waiting). */
static void
advance(struct mr_sip_transport *t, uint64_t ms)
{
	skew_ms += ms;
	mr_sip_transport_serve(t, mono_ms() + skew_ms);
}

/* ---- certificates ---- */

static const char gen_sh[] =
	"set -eu\n"
	"cat > x.cnf <<'X'\n"
	"[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = unused\n"
	"[ca]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\n"
	"subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n"
	"[server]\nbasicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\n"
	"extendedKeyUsage = serverAuth\nsubjectAltName = DNS:sip.test,IP:127.0.0.1\n"
	"[client]\nbasicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\n"
	"extendedKeyUsage = clientAuth\n"
	"X\n"
	"key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out \"$1.key\"; }\n"
	"root() { key \"$1\"; openssl req -x509 -new -key \"$1.key\" -subj \"/CN=$2\" -days 2 "
	"-config x.cnf -extensions ca -out \"$1.pem\"; }\n"
	"leaf() { key \"$1\"; openssl req -new -key \"$1.key\" -subj \"/CN=$2\" -config x.cnf "
	"-out \"$1.csr\"; openssl x509 -req -in \"$1.csr\" -CA \"$3.pem\" -CAkey \"$3.key\" "
	"-CAcreateserial -days 2 -extfile x.cnf -extensions \"$4\" -out \"$1.pem\" 2>/dev/null; }\n"
	"root root 'Test Root CA'\n"
	"leaf inter 'Test Intermediate CA' root ca\n"
	"leaf server sip.test inter server\n"
	"cat server.pem inter.pem > server_chain.pem\n"
	"root clientca 'Test Client CA'\n"
	"leaf client room1 clientca client\n"
	"leaf servereku room1 clientca server\n"
	"root rogueca 'Rogue CA'\n"
	"leaf rogue room1 rogueca client\n";

static const char *
path(const char *name)
{
	static char buf[8][128];
	static unsigned int next;
	char *p = buf[next++ % 8];

	snprintf(p, 128, "%s/%s", tmp.dir, name);
	return p;
}

static int
group_setup(void **state)
{
	char cmd[256], script[96];

	(void)state;
	signal(SIGPIPE, SIG_IGN);       /* as mrelay-cp does */
	if (mr_test_tmpdir_make(&tmp, "/tmp/mr-siptls-XXXXXX", NULL) < 0 ||
	    mr_test_tmpdir_write(&tmp, "gen.sh", gen_sh, script, sizeof(script)) < 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "cd %s && sh gen.sh >gen.log 2>&1", tmp.dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "certificate generation failed, see %s/gen.log\n", tmp.dir);
		return -1;
	}
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	return mr_test_tmpdir_remove(&tmp);
}

/* ---- configuration ---- */

static void
set_addr(struct mr_sockaddr *a, const char *ip, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->family = MR_AF_INET;
	inet_pton(AF_INET, ip, a->ip);
	a->port_be = htons(port);
}

static void
base_cfg(struct mr_sip_config *c)
{
	memset(c, 0, sizeof(*c));
	c->enabled = true;
	c->max_flows = 64;
	c->flow_idle_s = 600;
}

static void
add_tls(struct mr_sip_config *c, enum mr_sip_verify v)
{
	struct mr_sip_tls_listener *l = &c->tls[c->n_tls++];

	set_addr(&l->addr, "127.0.0.1", 0);
	snprintf(l->cert, sizeof(l->cert), "%s", path("server_chain.pem"));
	snprintf(l->key, sizeof(l->key), "%s", path("server.key"));
	l->verify = v;
	if (v != MR_SIP_VERIFY_NONE)
		snprintf(l->client_ca, sizeof(l->client_ca), "%s", path("clientca.pem"));
}

static struct mr_sip_transport *
open_ok(const struct mr_sip_config *c, struct seen *s)
{
	struct mr_sip_transport *t = NULL;
	char err[256] = "";
	int r = mr_sip_transport_open(c, &ops, s, &t, err, sizeof(err));

	if (r != 0)
		fprintf(stderr, "open: %s\n", err);
	assert_int_equal(r, 0);
	return t;
}

static uint16_t
port_of(struct mr_sip_transport *t, enum mr_sip_proto p, unsigned int idx)
{
	struct mr_sockaddr a;

	assert_int_equal(mr_sip_transport_listener_addr(t, p, idx, &a), 0);
	assert_int_not_equal(a.port_be, 0);
	return ntohs(a.port_be);
}

/* ---- openssl s_client ---- */

/* Run s_client against @port with @args while serving @t; its output. */
static int
s_client(struct mr_sip_transport *t, uint16_t port, const char *args, char *out, size_t outlen)
{
	char cmd[1024], *argv[] = { "sh", "-c", cmd, NULL };
	posix_spawn_file_actions_t fa;
	int status = -1;
	pid_t pid;
	uint64_t end = mono_ms() + DEADLINE_MS;
	FILE *f;
	size_t n;

	snprintf(cmd, sizeof(cmd), "openssl s_client -connect 127.0.0.1:%u %s </dev/null >%s 2>&1",
		 port, args, path("s_client.out"));
	posix_spawn_file_actions_init(&fa);
	assert_int_equal(posix_spawn(&pid, "/bin/sh", &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (mono_ms() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
		pump(t, NULL);
	}
	f = fopen(path("s_client.out"), "r");
	assert_non_null(f);
	n = fread(out, 1, outlen - 1, f);
	out[n] = '\0';
	fclose(f);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
test_tls_versions_and_chain(void **state)
{
	struct mr_sip_config c;
	struct seen s = { 0 };
	struct mr_sip_transport *t;
	const struct mr_sip_transport_counters *k;
	static char out[65536];
	char args[512];
	uint16_t port;

	(void)state;
	base_cfg(&c);
	add_tls(&c, MR_SIP_VERIFY_NONE);
	t = open_ok(&c, &s);
	k = mr_sip_transport_counters(t);
	port = port_of(t, MR_SIP_TLS, 0);

	/* TLS 1.1, offered for real (security level 0 on the client side) */
	assert_int_not_equal(s_client(t, port, "-tls1_1 -cipher DEFAULT@SECLEVEL=0", out,
				      sizeof(out)), 0);
	PUMP_UNTIL(k->handshake_failures == 1, t, NULL);
	assert_int_equal(k->flows_accepted, 0);

	/* 1.2 and 1.3, verified against the root alone: the intermediate
	 * must come from the server */
	snprintf(args, sizeof(args), "-tls1_2 -brief -CAfile %s -verify_return_error "
		 "-verify_hostname sip.test", path("root.pem"));
	assert_int_equal(s_client(t, port, args, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "Protocol version: TLSv1.2"));
	assert_non_null(strstr(out, "Verification: OK"));
	snprintf(args, sizeof(args), "-tls1_3 -brief -CAfile %s -verify_return_error "
		 "-verify_hostname sip.test", path("root.pem"));
	assert_int_equal(s_client(t, port, args, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "Protocol version: TLSv1.3"));
	assert_non_null(strstr(out, "Verification: OK"));

	/* the chain as sent: leaf then intermediate */
	assert_int_equal(s_client(t, port, "-showcerts", out, sizeof(out)), 0);
	assert_non_null(strstr(out, " 0 s:CN = sip.test"));
	assert_non_null(strstr(out, " 1 s:CN = Test Intermediate CA"));

	/* a TLS 1.2 cipher outside the list: refused */
	assert_int_not_equal(s_client(t, port, "-tls1_2 -cipher AES128-SHA", out, sizeof(out)), 0);
	PUMP_UNTIL(k->handshake_failures == 2, t, NULL);
	PUMP_UNTIL(k->flows_accepted == 3, t, NULL);
	assert_int_equal(s.msgs, 0);
	assert_int_equal(s.closed, 0);  /* nothing was handed up */
	mr_sip_transport_close(t);
}

/* ---- an in-test TLS client, in a thread ---- */

struct client {
	uint16_t port;
	const char *bind_ip;            /* NULL: any */
	const char *cert, *key;         /* NULL: none */
	const char *part1, *part2;      /* written after the handshake */
	size_t expect;                  /* bytes to read back */
	bool renegotiate;               /* TLS 1.2, then try to renegotiate */
	bool handshake_ok, renegotiated;
	char got[4096];
	size_t got_len;
	atomic_bool done;
};

static void *
client_run(void *arg)
{
	struct client *cl = arg;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(cl->port) };
	struct timeval tv = { .tv_sec = 5 };
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = NULL;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (ctx == NULL || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto out;
	SSL_CTX_load_verify_locations(ctx, path("root.pem"), NULL);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (cl->cert != NULL && (!SSL_CTX_use_certificate_chain_file(ctx, cl->cert) ||
				 !SSL_CTX_use_PrivateKey_file(ctx, cl->key, SSL_FILETYPE_PEM)))
		goto out;
	if (cl->renegotiate)
		SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	SSL_set1_host(ssl, "sip.test");
	if (SSL_connect(ssl) != 1)
		goto out;
	cl->handshake_ok = true;
	if (cl->renegotiate)
		cl->renegotiated = SSL_renegotiate(ssl) == 1 && SSL_do_handshake(ssl) == 1;
	if (cl->part1 != NULL && SSL_write(ssl, cl->part1, (int)strlen(cl->part1)) <= 0)
		goto out;
	if (cl->part2 != NULL) {
		usleep(30000);  /* a second TLS record, a second read */
		if (SSL_write(ssl, cl->part2, (int)strlen(cl->part2)) <= 0)
			goto out;
	}
	while (cl->got_len < cl->expect) {
		int n = SSL_read(ssl, cl->got + cl->got_len, (int)(cl->expect - cl->got_len));

		if (n <= 0)
			break;
		cl->got_len += (size_t)n;
	}
out:
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	atomic_store(&cl->done, true);
	return NULL;
}

static void
client_go(struct client *cl, pthread_t *th)
{
	atomic_init(&cl->done, false);
	assert_int_equal(pthread_create(th, NULL, client_run, cl), 0);
}

static void
test_tls_message_reply_ping(void **state)
{
	struct mr_sip_config c;
	struct seen s = { 0 };
	struct mr_sip_transport *t;
	const struct mr_sip_transport_counters *k;
	struct client cl = { 0 };
	struct mr_sip_flow_info fi;
	pthread_t th;
	char first[128], second[512];
	size_t half = 70;

	(void)state;
	base_cfg(&c);
	add_tls(&c, MR_SIP_VERIFY_NONE);
	t = open_ok(&c, &s);
	k = mr_sip_transport_counters(t);

	/* the INVITE cut in two writes, a ping right behind it */
	snprintf(first, sizeof(first), "%.*s", (int)half, MSG_INVITE);
	snprintf(second, sizeof(second), "%s\r\n\r\n", MSG_INVITE + half);
	cl.port = port_of(t, MR_SIP_TLS, 0);
	cl.part1 = first;
	cl.part2 = second;
	cl.expect = 2 + strlen(MSG_OK);
	client_go(&cl, &th);
	PUMP_UNTIL(s.msgs == 1, t, NULL);
	assert_int_equal(s.len, strlen(MSG_INVITE));
	assert_memory_equal(s.msg, MSG_INVITE, s.len);
	assert_int_equal(s.info.proto, MR_SIP_TLS);
	assert_int_equal(s.info.listener, 0);
	assert_int_equal(s.info.trunk, -1);
	assert_false(s.info.client_verified);
	assert_string_equal(s.info.peer_cn, "");
	assert_int_equal(s.info.peer.family, MR_AF_INET);
	assert_int_not_equal(s.info.peer.port_be, 0);
	assert_int_equal(s.info.local.port_be, htons(cl.port));
	assert_true(mr_sip_transport_flow(t, s.info.id, &fi));
	assert_int_equal(fi.id, s.info.id);

	/* keep-alive: the ping is answered, never handed up */
	assert_int_equal(mr_sip_transport_send(t, s.info.id, "x", 0), -EMSGSIZE);
	assert_int_equal(mr_sip_transport_send(t, s.info.id + 1000, "x", 1), -ENOTCONN);
	assert_int_equal(mr_sip_transport_send(t, s.info.id, MSG_OK, strlen(MSG_OK)), 0);
	PUMP_UNTIL(atomic_load(&cl.done), t, NULL);
	pthread_join(th, NULL);
	assert_true(cl.handshake_ok);
	assert_int_equal(cl.got_len, cl.expect);
	assert_memory_equal(cl.got, "\r\n" MSG_OK, cl.expect);
	assert_int_equal(k->keepalive_pongs, 1);
	assert_int_equal(k->msgs_in, 1);
	assert_int_equal(k->msgs_out, 1);
	assert_int_equal(s.msgs, 1);

	/* the client hung up: closed() once, the id is dead for good */
	PUMP_UNTIL(s.closed == 1, t, NULL);
	assert_int_equal(s.closed_id[0], s.info.id);
	assert_false(mr_sip_transport_flow(t, s.info.id, NULL));
	assert_int_equal(mr_sip_transport_send(t, s.info.id, MSG_OK, strlen(MSG_OK)), -ENOTCONN);

	/* TLS 1.2 renegotiation is refused (SSL_OP_NO_RENEGOTIATION; OpenSSL 3
	 * also refuses client-initiated renegotiation by default, so this
	 * guards the behaviour, not the option) */
	memset(&cl, 0, sizeof(cl));
	cl.port = port_of(t, MR_SIP_TLS, 0);
	cl.renegotiate = true;
	client_go(&cl, &th);
	PUMP_UNTIL(atomic_load(&cl.done), t, NULL);
	pthread_join(th, NULL);
	assert_true(cl.handshake_ok);
	assert_false(cl.renegotiated);
	mr_sip_transport_close(t);
}

/* One client against listener @l; whether its message came up. */
static bool
mtls_try(struct mr_sip_transport *t, struct seen *s, unsigned int l, const char *cert,
	 const char *key)
{
	const struct mr_sip_transport_counters *k = mr_sip_transport_counters(t);
	uint64_t fails = k->handshake_failures, accepted = k->flows_accepted;
	struct client cl = { 0 };
	int before = s->msgs;
	pthread_t th;

	cl.port = port_of(t, MR_SIP_TLS, l);
	cl.cert = cert;
	cl.key = key;
	cl.part1 = MSG_INVITE;
	cl.expect = 1;  /* read until the server replies or closes */
	client_go(&cl, &th);
	PUMP_UNTIL(s->msgs > before || k->handshake_failures > fails, t, NULL);
	if (s->msgs > before)
		mr_sip_transport_drop(t, s->info.id);   /* the client's read ends */
	PUMP_UNTIL(atomic_load(&cl.done), t, NULL);
	pthread_join(th, NULL);
	assert_true(k->flows_accepted == accepted + (s->msgs > before));
	return s->msgs > before;
}

static void
test_client_certificates(void **state)
{
	struct mr_sip_config c;
	struct seen s = { 0 };
	struct mr_sip_transport *t;

	(void)state;
	base_cfg(&c);
	add_tls(&c, MR_SIP_VERIFY_REQUIRED);
	add_tls(&c, MR_SIP_VERIFY_OPTIONAL);
	t = open_ok(&c, &s);

	assert_false(mtls_try(t, &s, 0, NULL, NULL));
	assert_false(mtls_try(t, &s, 0, path("rogue.pem"), path("rogue.key")));
	/* a certificate of another chain (the server's own) */
	assert_false(mtls_try(t, &s, 0, path("server_chain.pem"), path("server.key")));
	/* the right CA, but for servers only (extendedKeyUsage) */
	assert_false(mtls_try(t, &s, 0, path("servereku.pem"), path("servereku.key")));
	assert_int_equal(s.msgs, 0);
	assert_int_equal(mr_sip_transport_counters(t)->handshake_failures, 4);

	assert_true(mtls_try(t, &s, 0, path("client.pem"), path("client.key")));
	assert_true(s.info.client_verified);
	assert_string_equal(s.info.peer_cn, "room1");
	assert_int_equal(s.info.listener, 0);

	/* optional: none is fine, a rogue one is not */
	assert_true(mtls_try(t, &s, 1, NULL, NULL));
	assert_false(s.info.client_verified);
	assert_string_equal(s.info.peer_cn, "");
	assert_false(mtls_try(t, &s, 1, path("rogue.pem"), path("rogue.key")));
	assert_true(mtls_try(t, &s, 1, path("client.pem"), path("client.key")));
	assert_true(s.info.client_verified);
	assert_int_equal(s.info.listener, 1);

	/* dropped flows were handed up: one closed() each */
	PUMP_UNTIL(s.closed == 3, t, NULL);
	mr_sip_transport_close(t);
}

/* ---- plain TCP and UDP ---- */

static int
tcp_connect(const char *src, uint16_t port, int rcvbuf)
{
	struct sockaddr_in sa = { .sin_family = AF_INET }, dst = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = 5 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	inet_pton(AF_INET, src, &sa.sin_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	if (rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
	dst.sin_port = htons(port);
	assert_int_equal(connect(fd, (struct sockaddr *)&dst, sizeof(dst)), 0);
	return fd;
}

static int
udp_socket(const char *src)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = 5 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	inet_pton(AF_INET, src, &sa.sin_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static void
udp_send(int fd, uint16_t port, const char *msg)
{
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(port) };

	inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
	assert_int_equal(sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&dst, sizeof(dst)),
			 (ssize_t)strlen(msg));
}

/* Read from @fd while serving @t, until @want bytes or EOF; the count. */
static ssize_t
read_serving(struct mr_sip_transport *t, int fd, char *buf, size_t want)
{
	uint64_t end = mono_ms() + DEADLINE_MS;
	size_t got = 0;

	while (got < want && mono_ms() < end) {
		ssize_t n = recv(fd, buf + got, want - got, MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno != EAGAIN))
			break;
		if (n > 0)
			got += (size_t)n;
		else
			pump(t, NULL);
	}
	return (ssize_t)got;
}

static void
plain_cfg(struct mr_sip_config *c)
{
	base_cfg(c);
	c->n_plain_tcp = c->n_plain_udp = 1;
	set_addr(&c->plain_tcp[0], "127.0.0.1", 0);
	set_addr(&c->plain_udp[0], "127.0.0.1", 0);
	c->n_trunks = 2;
	/* a TLS trunk on the same address is not a pstn one: it does not
	 * open the plain listeners to 127.0.0.1 */
	snprintf(c->trunks[0].name, sizeof(c->trunks[0].name), "carrier");
	c->trunks[0].proto = MR_SIP_TLS;
	set_addr(&c->trunks[0].addr, "127.0.0.2", 5061);
	snprintf(c->trunks[1].name, sizeof(c->trunks[1].name), "pstn");
	c->trunks[1].proto = MR_SIP_UDP;
	c->trunks[1].pstn = true;
	set_addr(&c->trunks[1].addr, "127.0.0.1", 5060);
	snprintf(c->trunk_ca, sizeof(c->trunk_ca), "%s", path("root.pem"));
}

static void
test_plain_tcp(void **state)
{
	struct mr_sip_config c;
	struct seen s = { 0 };
	struct mr_sip_transport *t;
	const struct mr_sip_transport_counters *k;
	static char big[60000];
	char buf[256];
	uint16_t port;
	int fd, i, r = 0;

	(void)state;
	plain_cfg(&c);
	t = open_ok(&c, &s);
	k = mr_sip_transport_counters(t);
	port = port_of(t, MR_SIP_TCP, 0);

	/* from a source that is no pstn trunk: closed at once, counted */
	fd = tcp_connect("127.0.0.2", port, 0);
	assert_int_equal(send(fd, MSG_INVITE, strlen(MSG_INVITE), MSG_NOSIGNAL),
			 (ssize_t)strlen(MSG_INVITE));
	PUMP_UNTIL(k->plain_refused == 1, t, NULL);
	assert_int_equal(read_serving(t, fd, buf, sizeof(buf)), 0);
	close(fd);
	assert_int_equal(s.msgs, 0);

	/* from the pstn trunk's address, any port: in, and a reply out */
	fd = tcp_connect("127.0.0.1", port, 0);
	assert_int_equal(send(fd, "\r\n" MSG_INVITE, 2 + strlen(MSG_INVITE), MSG_NOSIGNAL),
			 (ssize_t)(2 + strlen(MSG_INVITE)));
	PUMP_UNTIL(s.msgs == 1, t, NULL);
	assert_int_equal(s.len, strlen(MSG_INVITE));
	assert_int_equal(s.info.proto, MR_SIP_TCP);
	assert_int_equal(s.info.trunk, 1);
	assert_int_equal(s.info.listener, -1);
	assert_int_equal(k->flows_accepted, 1);
	assert_int_equal(mr_sip_transport_send(t, s.info.id, MSG_OK, strlen(MSG_OK)), 0);
	assert_int_equal(read_serving(t, fd, buf, strlen(MSG_OK)), (ssize_t)strlen(MSG_OK));
	assert_memory_equal(buf, MSG_OK, strlen(MSG_OK));

	/* no Content-Length on a stream: the flow is closed, closed() once */
	assert_int_equal(send(fd, "BYE sip:x SIP/2.0\r\n\r\n", 21, MSG_NOSIGNAL), 21);
	PUMP_UNTIL(s.closed == 1, t, NULL);
	assert_int_equal(k->framing_errors, 1);
	assert_int_equal(s.closed_id[0], s.info.id);
	assert_int_equal(read_serving(t, fd, buf, sizeof(buf)), 0);
	close(fd);

	/* a peer that never reads: its queue fills, it loses the flow */
	fd = tcp_connect("127.0.0.1", port, 4096);
	assert_int_equal(send(fd, MSG_INVITE, strlen(MSG_INVITE), MSG_NOSIGNAL),
			 (ssize_t)strlen(MSG_INVITE));
	PUMP_UNTIL(s.msgs == 2, t, NULL);
	memset(big, 'x', sizeof(big));
	for (i = 0; i < 2000 && r == 0; i++)
		r = mr_sip_transport_send(t, s.info.id, big, sizeof(big));
	assert_int_equal(r, -ENOBUFS);
	assert_false(mr_sip_transport_flow(t, s.info.id, NULL));
	assert_int_equal(s.closed, 1);  /* closed() comes from serve, not send */
	PUMP_UNTIL(s.closed == 2, t, NULL);
	assert_int_equal(s.closed_id[1], s.info.id);
	close(fd);
	pump(t, NULL);
	assert_int_equal(s.closed, 2);
	mr_sip_transport_close(t);
}

static void
test_plain_udp(void **state)
{
	struct mr_sip_config c;
	struct seen s = { 0 };
	struct mr_sip_transport *t;
	const struct mr_sip_transport_counters *k;
	struct sockaddr_in me;
	socklen_t sl = sizeof(me);
	char buf[256];
	mr_flow_id id;
	uint16_t port;
	int bad, good;

	(void)state;
	/* the pstn trunk is this socket, so dialling it finds its flow */
	good = udp_socket("127.0.0.1");
	getsockname(good, (struct sockaddr *)&me, &sl);
	plain_cfg(&c);
	c.trunks[1].addr.port_be = me.sin_port;
	t = open_ok(&c, &s);
	k = mr_sip_transport_counters(t);
	port = port_of(t, MR_SIP_UDP, 0);

	bad = udp_socket("127.0.0.2");
	udp_send(bad, port, MSG_INVITE);
	PUMP_UNTIL(k->plain_refused == 1, t, NULL);
	assert_int_equal(s.msgs, 0);
	close(bad);

	udp_send(good, port, "\r\n\r\n");               /* keep-alive: ignored */
	udp_send(good, port, MSG_INVITE "trailing junk"); /* cut to l: 10 */
	PUMP_UNTIL(s.msgs == 1, t, NULL);
	assert_int_equal(s.len, strlen(MSG_INVITE));
	assert_int_equal(s.info.proto, MR_SIP_UDP);
	assert_int_equal(s.info.trunk, 1);
	assert_int_equal(s.info.peer.port_be, me.sin_port);
	assert_int_equal(mr_sip_transport_send(t, s.info.id, MSG_OK, strlen(MSG_OK)), 0);
	assert_int_equal(recv(good, buf, sizeof(buf), 0), (ssize_t)strlen(MSG_OK));
	assert_memory_equal(buf, MSG_OK, strlen(MSG_OK));

	/* the same source is the same flow, also when dialled (from the
	 * listener, so the trunk sees the port it knows) */
	udp_send(good, port, MSG_OK);
	PUMP_UNTIL(s.msgs == 2, t, NULL);
	assert_int_equal(k->flows_accepted, 1);
	assert_int_equal(k->keepalive_pongs, 0);
	assert_int_equal(mr_sip_transport_dial(t, 1, &id), 0);
	assert_int_equal(id, s.info.id);
	assert_int_equal(mr_sip_transport_send(t, id, MSG_INVITE, strlen(MSG_INVITE)), 0);
	assert_int_equal(recvfrom(good, buf, sizeof(buf), 0, (struct sockaddr *)&me, &sl),
			 (ssize_t)strlen(MSG_INVITE));
	assert_int_equal(ntohs(me.sin_port), port);

	/* a datagram that lies about its length: dropped, counted */
	udp_send(good, port, "BYE sip:x SIP/2.0\r\nl: 99\r\n\r\nshort");
	PUMP_UNTIL(k->framing_errors == 1, t, NULL);
	assert_int_equal(s.msgs, 2);
	close(good);
	mr_sip_transport_close(t);
}

/* ---- dialling a TLS trunk ---- */

static void
test_dial_tls_trunk(void **state)
{
	struct mr_sip_config cb, ca;
	struct seen sb = { 0 }, sa = { 0 };
	struct mr_sip_transport *b, *a;
	const struct mr_sip_transport_counters *ka;
	mr_flow_id id, id2, bad;
	uint16_t port;

	(void)state;
	/* b: the trunk's side, a TLS listener that wants our certificate */
	base_cfg(&cb);
	add_tls(&cb, MR_SIP_VERIFY_REQUIRED);
	b = open_ok(&cb, &sb);
	port = port_of(b, MR_SIP_TLS, 0);

	/* a: dials b as "sip.test" (good) and as "evil.test" (refused) */
	base_cfg(&ca);
	snprintf(ca.trunk_ca, sizeof(ca.trunk_ca), "%s", path("root.pem"));
	snprintf(ca.client_cert, sizeof(ca.client_cert), "%s", path("client.pem"));
	snprintf(ca.client_key, sizeof(ca.client_key), "%s", path("client.key"));
	ca.n_trunks = 3;
	ca.trunks[0].proto = MR_SIP_TLS;
	set_addr(&ca.trunks[0].addr, "127.0.0.1", port);
	snprintf(ca.trunks[0].tls_name, sizeof(ca.trunks[0].tls_name), "sip.test");
	ca.trunks[1] = ca.trunks[0];
	snprintf(ca.trunks[1].tls_name, sizeof(ca.trunks[1].tls_name), "evil.test");
	ca.trunks[2] = ca.trunks[0];
	ca.trunks[2].tls_name[0] = '\0';        /* by address: 127.0.0.1 is in the SAN */
	a = open_ok(&ca, &sa);
	ka = mr_sip_transport_counters(a);

	assert_int_equal(mr_sip_transport_dial(a, 0, &id), 0);
	assert_int_equal(mr_sip_transport_send(a, id, MSG_INVITE, strlen(MSG_INVITE)), 0);
	PUMP_UNTIL(sb.msgs == 1, a, b);
	assert_memory_equal(sb.msg, MSG_INVITE, strlen(MSG_INVITE));
	assert_true(sb.info.client_verified);
	assert_string_equal(sb.info.peer_cn, "room1");
	assert_int_equal(mr_sip_transport_send(b, sb.info.id, MSG_OK, strlen(MSG_OK)), 0);
	PUMP_UNTIL(sa.msgs == 1, a, b);
	assert_int_equal(sa.info.id, id);
	assert_int_equal(sa.info.trunk, 0);
	assert_int_equal(sa.info.listener, -1);
	assert_true(sa.info.client_verified);   /* the trunk's certificate */
	assert_string_equal(sa.info.peer_cn, "sip.test");
	assert_int_equal(ka->flows_accepted, 0);        /* dialled, not accepted */

	/* the same trunk again: the same flow */
	assert_int_equal(mr_sip_transport_dial(a, 0, &id2), 0);
	assert_int_equal(id2, id);

	/* by address */
	assert_int_equal(mr_sip_transport_dial(a, 2, &id2), 0);
	assert_int_not_equal(id2, id);
	assert_int_equal(mr_sip_transport_send(a, id2, MSG_INVITE, strlen(MSG_INVITE)), 0);
	PUMP_UNTIL(sb.msgs == 2, a, b);

	/* the wrong name: refused, closed() for the dialled id, nothing sent */
	assert_int_equal(mr_sip_transport_dial(a, 1, &bad), 0);
	assert_int_equal(mr_sip_transport_send(a, bad, MSG_INVITE, strlen(MSG_INVITE)), 0);
	PUMP_UNTIL(sa.closed == 1, a, b);
	assert_int_equal(sa.closed_id[0], bad);
	assert_int_equal(ka->handshake_failures, 1);
	assert_int_equal(sb.msgs, 2);

	assert_int_equal(mr_sip_transport_dial(a, 7, &bad), -EINVAL);

	/* b goes away: a's flows close, each reported once */
	mr_sip_transport_close(b);
	PUMP_UNTIL(sa.closed == 3, a, NULL);
	mr_sip_transport_close(a);
	assert_int_equal(sa.closed, 3);
}

/* ---- timers and limits ---- */

static void
test_timers_and_limits(void **state)
{
	struct mr_sip_config c;
	struct seen s = { 0 };
	struct mr_sip_transport *t;
	const struct mr_sip_transport_counters *k;
	char buf[64];
	uint16_t tcp, tls;
	int fd[3], i;

	(void)state;
	plain_cfg(&c);
	add_tls(&c, MR_SIP_VERIFY_NONE);
	c.flow_idle_s = 30;
	c.max_flows = 2;
	t = open_ok(&c, &s);
	k = mr_sip_transport_counters(t);
	tcp = port_of(t, MR_SIP_TCP, 0);
	tls = port_of(t, MR_SIP_TLS, 0);
	mr_sip_transport_serve(t, mono_ms() + skew_ms);

	/* max_flows: the third connection is refused */
	for (i = 0; i < 3; i++)
		fd[i] = tcp_connect("127.0.0.1", tcp, 0);
	PUMP_UNTIL(k->flows_accepted == 2 && k->flows_refused_limit == 1, t, NULL);
	assert_int_equal(read_serving(t, fd[2], buf, sizeof(buf)), 0);
	close(fd[2]);

	/* idle: one flow speaks and is handed up, both go quiet; traffic
	 * either way restarts the clock */
	assert_int_equal(send(fd[0], MSG_OK, strlen(MSG_OK), MSG_NOSIGNAL), (ssize_t)strlen(MSG_OK));
	PUMP_UNTIL(s.msgs == 1, t, NULL);
	advance(t, 20000);
	assert_int_equal(mr_sip_transport_send(t, s.info.id, MSG_OK, strlen(MSG_OK)), 0);
	advance(t, 20000);
	assert_int_equal(k->idle_closed, 1);    /* the silent one */
	assert_int_equal(s.closed, 0);          /* never handed up: no closed() */
	assert_true(mr_sip_transport_flow(t, s.info.id, NULL));
	advance(t, 11000);
	assert_int_equal(k->idle_closed, 2);
	assert_int_equal(s.closed, 1);
	assert_int_equal(s.closed_id[0], s.info.id);
	close(fd[0]);
	close(fd[1]);

	/* slowloris: half a message, then nothing */
	fd[0] = tcp_connect("127.0.0.1", tcp, 0);
	assert_int_equal(send(fd[0], "INVITE sip:x SIP/2.0\r\nVia", 25, MSG_NOSIGNAL), 25);
	PUMP_UNTIL(k->flows_accepted == 3, t, NULL);
	for (i = 0; i < 5; i++)
		pump(t, NULL);  /* and its bytes read */
	assert_int_equal(k->slow_closed, 0);
	advance(t, 11000);
	assert_int_equal(k->slow_closed, 1);
	close(fd[0]);

	/* a TCP connection to the TLS port that never says hello */
	fd[0] = tcp_connect("127.0.0.1", tls, 0);
	for (i = 0; i < 5; i++)
		pump(t, NULL);
	assert_int_equal(k->handshake_failures, 0);
	advance(t, 11000);
	assert_int_equal(k->handshake_failures, 1);
	assert_int_equal(read_serving(t, fd[0], buf, sizeof(buf)), 0);
	close(fd[0]);
	mr_sip_transport_close(t);
}

static void
test_open_errors(void **state)
{
	struct mr_sip_config c;
	struct seen s = { 0 };
	struct mr_sip_transport *t = NULL;
	char err[256] = "";

	(void)state;
	base_cfg(&c);
	add_tls(&c, MR_SIP_VERIFY_NONE);
	snprintf(c.tls[0].key, sizeof(c.tls[0].key), "%s", path("client.key"));
	assert_int_equal(mr_sip_transport_open(&c, &ops, &s, &t, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "key does not match"));

	base_cfg(&c);
	add_tls(&c, MR_SIP_VERIFY_REQUIRED);
	c.tls[0].client_ca[0] = '\0';
	assert_int_equal(mr_sip_transport_open(&c, &ops, &s, &t, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "client_ca"));

	base_cfg(&c);
	add_tls(&c, MR_SIP_VERIFY_NONE);
	snprintf(c.ciphers, sizeof(c.ciphers), "NO-SUCH-CIPHER");
	assert_int_equal(mr_sip_transport_open(&c, &ops, &s, &t, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "ciphers"));
	mr_sip_transport_close(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_tls_versions_and_chain),
		cmocka_unit_test(test_tls_message_reply_ping),
		cmocka_unit_test(test_client_certificates),
		cmocka_unit_test(test_plain_tcp),
		cmocka_unit_test(test_plain_udp),
		cmocka_unit_test(test_dial_tls_trunk),
		cmocka_unit_test(test_timers_and_limits),
	};

	if (system("openssl version >/dev/null 2>&1") != 0) {
		printf("openssl CLI not found: skipped\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
