/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for the SIP registrar and B2BUA (controlplane/sip/sip.h):
 * arbitrary bytes through mr_sip_on_message(), over the real NG front-end
 * and session manager on a temporary region (no dataplane), with the test
 * doubles of the dial plan and CDR store (tests/unit/sip_doubles.c).
 *
 * An input is one or more SIP messages separated by two NUL bytes; the
 * first byte of each picks the flow it arrives on: 0 the pstn trunk
 * (trusted: its INVITEs become calls), 1 bob's TLS flow (bob is registered
 * with digest before each input, so calls to him reach his flow), 2 an
 * unauthenticated client. Then the clock moves 40 s (timers fire) and
 * every flow closes. Besides ASan and UBSan, it aborts when a promise
 * breaks:
 *  - every request mrelay sends parses as SIP (sofia-sip) with its
 *    mandatory headers, every response at least as a SIP response;
 *  - after the flows close no call, binding or media slot is left.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_check.h"
#include "accounts.h"
#include "digest.h"
#include "msg.h"
#include "sip.h"
#include "../unit/session_iface.h"
#include "../unit/sip_doubles.h"
#include "../unit/tmpdir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LEGS 48u
#define DOMAIN "example.test"

static struct {
	bool ready;
	struct mr_test_tmpdir tmp;      /* path: the region; dir: state_dir, databases, nonce key */
	struct mr_region r;
	struct mr_session_iface ifaces[2];
	struct mr_session *sess;
	struct mr_ng *ng;
	struct mr_sip_config cfg;
	struct mr_sip *sip;
	uint64_t now_ms;
	mr_flow_id base;
	char last[MR_SIP_MSG_MAX + 1];
} F;

static int
io_send(void *ctx, mr_flow_id id, const char *msg, size_t len)
{
	struct sipmsg m;
	int r;

	(void)ctx;
	(void)id;
	check(len <= MR_SIP_MSG_MAX);
	r = sipmsg_parse(msg, len, &m);
	/* A request is all ours; a response echoes the request's Via, From,
	 * To, Call-ID and CSeq as they came (RFC 3261 8.2.6.2), which sofia-sip
	 * may print in a form it does not parse back ("CSeq: 1 INV"). */
	if (strncmp(msg, "SIP/2.0 ", 8) == 0 ? r == -EINVAL : r != 0) {
		fprintf(stderr, "fuzz_sip: sent an unparseable message:\n%.*s\n", (int)len, msg);
		abort();
	}
	sipmsg_free(&m);
	memcpy(F.last, msg, len);
	F.last[len] = '\0';
	return 0;
}

static int
io_dial(void *ctx, unsigned int trunk, mr_flow_id *ret)
{
	(void)ctx;
	*ret = F.base + 3 + trunk;
	return 0;
}

static void
cleanup(void)
{
	mr_sip_free(F.sip);
	mr_ng_free(F.ng);
	mr_session_free(F.sess);
	mr_region_unlock(&F.r);
	mr_region_close(&F.r);
	if (mr_test_tmpdir_remove(&F.tmp) < 0)
		fprintf(stderr, "fuzz_sip: could not remove %s\n", F.tmp.dir);
}

static void
init(void)
{
	struct mr_session_params p = { 0 };
	struct mr_ng_params np = { 0 };
	struct mr_sip_params sp = { 0 };
	struct mr_accounts *acc;
	char err[256], nonce_path[128];

	check(mr_test_tmpdir_make(&F.tmp, "/tmp/mr-fuzz-sip-XXXXXX", "region") == 0);
	check(mr_region_open(&F.r, F.tmp.path, true, LEGS, 2) == 0);
	mr_test_iface(&F.ifaces[0], "wan", "198.18.0.2", 30000, 30015, false);
	mr_test_iface(&F.ifaces[1], "pstn", "198.18.0.3", 40000, 40007, true);
	p.ifaces = F.ifaces;
	p.n_ifaces = 2;
	p.state_dir = F.tmp.dir;
	check(mr_region_lock(&F.r) == 0);
	check(mr_session_new(&p, &F.r, &F.sess, NULL, err, sizeof(err)) == 0);
	np.sess = F.sess;
	np.ifaces = F.ifaces;
	np.n_ifaces = 2;
	F.ng = mr_ng_new(&np);
	check(F.ng != NULL);

	mr_test_sip_config(&F.cfg, DOMAIN, F.tmp.dir);
	F.cfg.session_expires_s = 90;
	check(mr_accounts_open(F.cfg.accounts_db, DOMAIN, &acc) == 0);
	check(mr_accounts_add(acc, "bob", "secretB") == 0);
	check(mr_accounts_add(acc, "alice", "secretA") == 0);
	mr_accounts_close(acc);
	sp.cfg = &F.cfg;
	sp.ng = F.ng;
	sp.io.send = io_send;
	sp.io.dial = io_dial;
	snprintf(nonce_path, sizeof(nonce_path), "%s/nonce.key", F.tmp.dir);
	sp.nonce_secret_path = nonce_path;     /* read by mr_sip_new() only */
	sp.default_iface = "wan";
	F.sip = mr_sip_new(&sp, err, sizeof(err));
	check(F.sip != NULL);
	F.now_ms = 1000000;
	atexit(cleanup);
	F.ready = true;
}

static void
flow(struct mr_sip_flow_info *f, unsigned int which)
{
	memset(f, 0, sizeof(*f));
	f->id = F.base + which;
	f->proto = which == 0 ? MR_SIP_UDP : MR_SIP_TLS;
	f->listener = which == 0 ? -1 : 0;
	f->trunk = which == 0 ? 0 : -1;
	mr_test_sa4(&f->peer, which == 0 ? "198.18.0.50" : "198.18.1.10", (uint16_t)(5060 + which));
	mr_test_sa4(&f->local, "198.18.0.1", which == 0 ? 5060 : 5061);
}

/* bob registers on flow 1 (challenge, then the SHA-256 answer). */
static void
register_bob(void)
{
	static const char fmt[] =
		"REGISTER sip:" DOMAIN " SIP/2.0\r\nVia: SIP/2.0/TLS 198.18.1.10;branch=z9hG4bKr%d\r\n"
		"From: <sip:bob@" DOMAIN ">;tag=r\r\nTo: <sip:bob@" DOMAIN ">\r\nCall-ID: r%llu\r\n"
		"CSeq: %d REGISTER\r\nContact: <sip:bob@198.18.1.10;transport=tls>;expires=600\r\n"
		"%s%s%sContent-Length: 0\r\n\r\n";
	char msg[2048], auth[1024], nonce[MR_DIGEST_NONCE_LEN + 1], ha1[MR_DIGEST_HEX_MAX];
	char resp[MR_DIGEST_HEX_MAX];
	struct mr_sip_flow_info f;
	const char *p;
	int n;

	flow(&f, 1);
	n = snprintf(msg, sizeof(msg), fmt, 1, (unsigned long long)F.base, 1, "", "", "");
	mr_sip_on_message(F.sip, &f, msg, (size_t)n, F.now_ms);
	p = strstr(F.last, "nonce=\"");
	check(p != NULL);
	memcpy(nonce, p + 7, MR_DIGEST_NONCE_LEN);
	nonce[MR_DIGEST_NONCE_LEN] = '\0';
	check(mr_digest_ha1(MR_DIGEST_SHA256, "bob", DOMAIN, "secretB", ha1) == 0);
	check(mr_digest_response(MR_DIGEST_SHA256, ha1, "REGISTER", "sip:" DOMAIN, nonce, "00000001",
				 "c", resp) == 0);
	snprintf(auth, sizeof(auth), "Digest username=\"bob\", realm=\"" DOMAIN "\", nonce=\"%s\", "
		 "uri=\"sip:" DOMAIN "\", response=\"%s\", algorithm=SHA-256, qop=auth, "
		 "nc=00000001, cnonce=\"c\"", nonce, resp);
	n = snprintf(msg, sizeof(msg), fmt, 2, (unsigned long long)F.base, 2, "Authorization: ",
		     auth, "\r\n");
	mr_sip_on_message(F.sip, &f, msg, (size_t)n, F.now_ms);
	check(strncmp(F.last, "SIP/2.0 200 ", 12) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *sep;
	struct mr_sip_flow_info f;
	struct mr_session_stats st;
	unsigned int i;

	if (!F.ready)
		init();
	F.base += 16;
	F.now_ms += 100000;
	register_bob();
	while (p < end) {
		size_t n;

		sep = NULL;
		for (const char *q = p; q + 1 < end; q++)
			if (q[0] == '\0' && q[1] == '\0') {
				sep = q;
				break;
			}
		n = (size_t)((sep != NULL ? sep : end) - p);
		if (n > 1) {
			flow(&f, (unsigned char)p[0] % 3);
			mr_sip_on_message(F.sip, &f, p + 1, n - 1, F.now_ms);
		}
		p += n + (sep != NULL ? 2 : 0);
		F.now_ms += 10;
	}
	for (i = 0; i < 4; i++) {
		F.now_ms += 10000;
		mr_sip_tick(F.sip, F.now_ms);
	}
	for (i = 0; i < 16; i++)
		mr_sip_on_closed(F.sip, F.base + i, F.now_ms);
	check(mr_sip_counters(F.sip)->calls_active == 0);
	check(mr_sip_counters(F.sip)->bindings == 0);
	mr_session_stats(F.sess, &st);
	check(st.calls == 0);
	return 0;
}
