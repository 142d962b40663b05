/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mr_sipload: a scripted SIP user agent and load generator for mrelay's SIP
 * front-end (issue 6), on sofia-sip's nua. Like srtp_peer it is the
 * independent side tests hold mrelay against: it uses sofia-sip directly and
 * nothing of mrelay's own code.
 *
 * One run, in phases, each bounded by --timeout:
 *   1. register  --accounts N accounts PREFIX0001.. (sip:NAME@DOMAIN) with
 *                the password read from --password-file (one for all),
 *                answering 401/407 with digest (sofia-sip: MD5 only);
 *                at most --window REGISTERs outstanding.
 *   2. call      --calls M calls between pairs: PREFIX0001 calls PREFIX0002,
 *                PREFIX0003 calls PREFIX0004, ... (so 2M <= N). The offer
 *                is SDES-SRTP (m=audio RTP/SAVP, a=crypto
 *                AES_CM_128_HMAC_SHA1_80 with a key from /dev/urandom); the
 *                callee answers any INVITE at once with an SRTP answer of
 *                its own key, or 488 if the offer has no crypto. A call
 *                whose answer is not SRTP fails. --rate paces the INVITEs
 *                (calls/s; 0: only the window limits them).
 *   3. hold      every established call is kept --hold seconds; a BYE from
 *                the far end in that time fails the call.
 *   4. hang up   the callers send BYE; a call is ok when its BYE got 200.
 *   5. unregister every registration (Expires: 0), then shut down.
 *
 * No media is sent: this measures signalling (mrelay still allocates relay
 * legs and keys for every call). Accounts are spread over --conns nua
 * instances, each with its own transport and so its own TLS connection to
 * the server (account i uses connection (i - 1) % conns).
 *
 * Re-INVITEs the far end sends in a call (session refresh, re-key) are
 * answered with a fresh SRTP description.
 *
 * TLS (the default transport) through sofia-sip's tport, OpenSSL's
 * TLS_method() (1.2 or 1.3; sofia-sip's default, TLSv1 only, is refused by
 * Debian's OpenSSL 3 settings): the CA file given with --ca is copied into
 * a private directory as cafile.pem (tport's TPTAG_CERTIFICATE layout).
 * --verify asks tport to verify the server's certificate chain
 * (TPTLS_VERIFY_OUT); the name in it is not checked, and without --verify
 * any certificate is accepted. --client-cert and --client-key give it a
 * certificate to present when the server asks (mutual TLS; tport loads the
 * leaf only, no chain). --transport tcp|udp sends plaintext SIP instead
 * (for tests that must see it refused). How TLS failures show: a server
 * certificate that does not verify leaves the REGISTERs unanswered (counted
 * 408 at --timeout; OpenSSL's reason on stderr), a handshake the server
 * refuses (alert) fails them at once with 503.
 *
 * Output: one summary line,
 *   mr_sipload: reg ok=N failed=N rate=R/s latency_ms median=X p95=Y |
 *     calls ok=N failed=N setup_rate=R/s latency_ms median=X p95=Y max=Z |
 *     unreg failed=N | failed_status ... | phases_s register=S call=S hold=S
 *     hangup=S unregister=S
 * and with --json the same figures as one JSON object on the last line.
 * When the hold phase starts, "mr_sipload: holding N calls, M registered"
 * (flushed: tests/bench/sip_bench.py waits for it to hold a background).
 * A registration's latency runs from its first REGISTER to the 2xx (both
 * round trips when challenged); a call's from the INVITE to the 200 (also
 * both when challenged); the rates divide the successes by the time from
 * the start of the phase to the last success. A phase's time is from its
 * start until everything in it was answered or timed out.
 * failed_status counts the final SIP status of what failed (408 for no
 * answer). Failures are listed on stderr (the first --show-failures of them).
 *
 * Exit status: 0 every registration, call and unregistration succeeded;
 * 1 anything failed; 2 usage or set-up error.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <openssl/evp.h>

struct conn;
struct hctx;
#define NUA_MAGIC_T struct conn
#define NUA_HMAGIC_T struct hctx

#include <sofia-sip/msg_header.h>
#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/su.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/su_tag_io.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/tport_tag.h>

#define PROG "mr_sipload"

#define EXIT_CHECK      1
#define EXIT_USAGE      2

#define NAME_MAX_BYTES  64u
#define SDP_MAX_BYTES   1024u
#define KEY_SALT_BYTES  30u             /* AES_CM_128_HMAC_SHA1_80: 16 + 14 */
#define MEDIA_PORT_BASE 20000u          /* fake RTP ports in the SDPs */
#define MAX_AUTH_TRIES  2               /* a second challenge: wrong password */
#define STATUS_KINDS    64u
#define SUITE           "AES_CM_128_HMAC_SHA1_80"

enum hkind { H_REG, H_CALLER, H_CALLEE };

/* What a nua handle belongs to: an account's registration, or one side of
 * a call. */
struct hctx {
	enum hkind kind;
	struct account *acct;
	struct call *call;
	int auth_tries;
};

enum reg_state { REG_IDLE, REG_SENT, REG_OK, REG_FAILED, UNREG_SENT, UNREG_DONE, UNREG_FAILED };

struct account {
	char name[NAME_MAX_BYTES];
	struct conn *conn;
	nua_handle_t *nh;
	struct hctx h;
	enum reg_state state;
	double t_sent, t_done;
	bool registered;                /* its first REGISTER got a 2xx */
	struct call *as_callee;         /* the call that rings this account */
};

enum call_state {
	CALL_IDLE, CALL_INVITING, CALL_UP, CALL_BYE_SENT, CALL_OK, CALL_FAILED,
};

struct call {
	unsigned int idx;
	struct account *caller, *callee;
	nua_handle_t *out, *in;         /* caller's and callee's handles */
	struct hctx hout, hin;
	enum call_state state;
	double t_invite, t_up;
	bool callee_answered;
	bool callee_closed;             /* the callee side's dialog ended */
	char why[160];                  /* why it failed */
};

struct conn {
	unsigned int idx;
	nua_t *nua;
	bool shut_down;
};

struct opts {
	const char *server;             /* host:port */
	const char *domain;
	const char *ca;
	const char *client_cert, *client_key;
	const char *password_file;
	const char *prefix;
	const char *transport;          /* tls, tcp, udp */
	const char *bind_ip;
	const char *media_ip;
	unsigned int accounts, calls, conns, window, expires, show_failures;
	double rate, hold_s, timeout_s;
	bool verify, json, plain_offer, no_unregister;
};

enum phase { PH_REGISTER, PH_CALL, PH_HOLD, PH_HANGUP, PH_UNREGISTER, PH_COUNT };

static const char *const phase_names[PH_COUNT] = {
	[PH_REGISTER] = "register", [PH_CALL] = "call", [PH_HOLD] = "hold",
	[PH_HANGUP] = "hangup", [PH_UNREGISTER] = "unregister",
};

struct stats {
	unsigned int reg_ok, reg_failed, unreg_failed;
	unsigned int calls_up, calls_ok, calls_failed;
	double reg_t0, reg_t1, call_t0, call_t1;
	double phase_s[PH_COUNT];       /* wall time of each phase */
	struct { int status; unsigned int n; } status[STATUS_KINDS];
	unsigned int failures_shown;
};

static struct opts o = {
	.prefix = "user", .transport = "tls", .accounts = 2, .calls = 1, .conns = 10,
	.window = 100, .expires = 600, .show_failures = 10, .hold_s = 2.0, .timeout_s = 30.0,
};
static struct stats st;
static struct account *accts;
static struct call *calls;
static struct conn *conns;
static char password[256];
static char proxy_url[300];
static char registrar_url[200];         /* sip:DOMAIN: REGISTER's Request-URI */
static char media_ip[64];
static char tls_dir[64];
static FILE *urandom;

/* A URL tag's value from a string (URL_STRING_MAKE() on an array trips
 * -Waddress). */
static const url_string_t *
url_str(const char *s)
{
	return (const url_string_t *)s;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
note_status(int status)
{
	unsigned int i;

	for (i = 0; i < STATUS_KINDS && st.status[i].n; i++)
		if (st.status[i].status == status)
			break;
	if (i == STATUS_KINDS)
		return;
	st.status[i].status = status;
	st.status[i].n++;
}

static void __attribute__((format(printf, 1, 2)))
failure(const char *fmt, ...)
{
	va_list ap;

	if (st.failures_shown++ >= o.show_failures)
		return;
	va_start(ap, fmt);
	fprintf(stderr, PROG ": ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
}

/* --- SDP ------------------------------------------------------------------ */

/* An SDES-SRTP (or, with @plain, RTP/AVP) audio SDP on @port, with a fresh
 * key. Returns 0 or -EIO. */
static int
make_sdp(char *buf, size_t len, const char *user, unsigned int port, bool plain)
{
	unsigned char key[KEY_SALT_BYTES];
	char b64[4 * ((KEY_SALT_BYTES + 2) / 3) + 1];
	char crypto[128] = "";

	if (!plain) {
		if (fread(key, 1, sizeof(key), urandom) != sizeof(key))
			return -EIO;
		EVP_EncodeBlock((unsigned char *)b64, key, sizeof(key));
		snprintf(crypto, sizeof(crypto), "a=crypto:1 " SUITE " inline:%s\r\n", b64);
	}
	snprintf(buf, len,
		 "v=0\r\n"
		 "o=%s %u 1 IN IP4 %s\r\n"
		 "s=mr_sipload\r\n"
		 "c=IN IP4 %s\r\n"
		 "t=0 0\r\n"
		 "m=audio %u %s 0 8\r\n"
		 "a=rtpmap:0 PCMU/8000\r\n"
		 "a=rtpmap:8 PCMA/8000\r\n"
		 "a=ptime:20\r\n"
		 "%s"
		 "a=sendrecv\r\n",
		 user, port, media_ip, media_ip, port, plain ? "RTP/AVP" : "RTP/SAVP", crypto);
	return 0;
}

/* Does @sip carry an SDES-SRTP audio description (RTP/SAVP and an a=crypto
 * line of our suite with an inline key)? */
static bool
sdp_is_srtp(const sip_t *sip)
{
	char body[4096];
	size_t n;

	if (sip == NULL || sip->sip_payload == NULL)
		return false;
	n = sip->sip_payload->pl_len < sizeof(body) - 1 ? sip->sip_payload->pl_len : sizeof(body) - 1;
	memcpy(body, sip->sip_payload->pl_data, n);
	body[n] = '\0';
	return strstr(body, " RTP/SAVP ") != NULL && strstr(body, "a=crypto:") != NULL &&
	       strstr(body, SUITE " inline:") != NULL;
}

/* --- digest ------------------------------------------------------------------ */

/* Answer a 401/407 on @nh with the account's credentials. Returns false when
 * there is nothing to answer it with (no challenge, or it came again after
 * our answer: the password is wrong). */
static bool
authenticate(nua_handle_t *nh, struct hctx *h, const char *user, const sip_t *sip)
{
	const msg_auth_t *au = NULL;
	const char *realm;
	char cred[512];

	if (sip != NULL)
		au = sip->sip_www_authenticate ? sip->sip_www_authenticate : sip->sip_proxy_authenticate;
	if (au == NULL || h->auth_tries >= MAX_AUTH_TRIES - 1)
		return false;
	realm = msg_params_find(au->au_params, "realm=");
	if (realm == NULL)
		return false;
	h->auth_tries++;
	/* scheme:"realm":user:password; the realm keeps its quotes. */
	snprintf(cred, sizeof(cred), "%s:%s:%s:%s", au->au_scheme, realm, user, password);
	nua_authenticate(nh, NUTAG_AUTH(cred), TAG_END());
	explicit_bzero(cred, sizeof(cred));
	return true;
}

/* --- registrations -------------------------------------------------------------- */

static void
reg_start(struct account *a)
{
	char aor[NAME_MAX_BYTES + 160], expires[16];

	snprintf(aor, sizeof(aor), "sip:%s@%s", a->name, o.domain);
	snprintf(expires, sizeof(expires), "%u", o.expires);
	a->h = (struct hctx){ .kind = H_REG, .acct = a };
	a->nh = nua_handle(a->conn->nua, &a->h, SIPTAG_TO_STR(aor), SIPTAG_FROM_STR(aor),
			   NUTAG_M_USERNAME(a->name), TAG_END());
	if (a->nh == NULL) {
		a->state = REG_FAILED;
		st.reg_failed++;
		failure("register %s: nua_handle failed", a->name);
		return;
	}
	a->state = REG_SENT;
	a->t_sent = now_s();
	nua_register(a->nh, NUTAG_M_USERNAME(a->name), NUTAG_REGISTRAR(url_str(registrar_url)),
		     SIPTAG_EXPIRES_STR(expires), NUTAG_OUTBOUND("no-options-keepalive no-validate"),
		     TAG_END());
}

static void
on_register(struct account *a, nua_handle_t *nh, int status, const char *phrase, const sip_t *sip)
{
	if (status < 200)
		return;
	if ((status == 401 || status == 407) && authenticate(nh, &a->h, a->name, sip))
		return;
	if (a->state != REG_SENT)
		return;         /* a refresh: not counted */
	a->t_done = now_s();
	if (status >= 200 && status < 300) {
		a->state = REG_OK;
		a->registered = true;
		st.reg_ok++;
	} else {
		a->state = REG_FAILED;
		st.reg_failed++;
		note_status(status);
		failure("register %s: %d %s", a->name, status, phrase);
		nua_handle_destroy(nh);         /* (else nua_shutdown() waits on it) */
		a->nh = NULL;
	}
}

static void
on_unregister(struct account *a, int status, const char *phrase, const sip_t *sip)
{
	if (status < 200)
		return;
	if ((status == 401 || status == 407) && authenticate(a->nh, &a->h, a->name, sip))
		return;
	if (a->state != UNREG_SENT)
		return;
	if (status >= 200 && status < 300) {
		a->state = UNREG_DONE;
	} else {
		a->state = UNREG_FAILED;
		st.unreg_failed++;
		failure("unregister %s: %d %s", a->name, status, phrase);
	}
}

/* --- calls -------------------------------------------------------------------------- */

static void
call_fail(struct call *c, int status, const char *fmt, ...)
{
	va_list ap;

	if (c->state == CALL_FAILED || c->state == CALL_OK)
		return;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	if (c->state >= CALL_UP)
		st.calls_up--;
	c->state = CALL_FAILED;
	st.calls_failed++;
	if (status)
		note_status(status);
	failure("call %u %s -> %s: %s", c->idx + 1, c->caller->name, c->callee->name, c->why);
}

static void
call_start(struct call *c)
{
	char from[NAME_MAX_BYTES + 160], to[NAME_MAX_BYTES + 160], sdp[SDP_MAX_BYTES];

	snprintf(from, sizeof(from), "sip:%s@%s", c->caller->name, o.domain);
	snprintf(to, sizeof(to), "sip:%s@%s", c->callee->name, o.domain);
	c->hout = (struct hctx){ .kind = H_CALLER, .call = c };
	c->state = CALL_INVITING;
	if (make_sdp(sdp, sizeof(sdp), c->caller->name, MEDIA_PORT_BASE + 4 * c->idx, o.plain_offer) < 0) {
		call_fail(c, 0, "no random bytes for the key");
		return;
	}
	c->out = nua_handle(c->caller->conn->nua, &c->hout, SIPTAG_TO_STR(to), SIPTAG_FROM_STR(from),
			    NUTAG_M_USERNAME(c->caller->name), TAG_END());
	if (c->out == NULL) {
		call_fail(c, 0, "nua_handle failed");
		return;
	}
	c->t_invite = now_s();
	nua_invite(c->out, NUTAG_MEDIA_ENABLE(0), SIPTAG_CONTENT_TYPE_STR("application/sdp"),
		   SIPTAG_PAYLOAD_STR(sdp), TAG_END());
}

static void
on_invite_reply(struct call *c, nua_handle_t *nh, int status, const char *phrase, const sip_t *sip)
{
	if (status < 200 || c->state != CALL_INVITING)
		return;
	if ((status == 401 || status == 407) && authenticate(nh, &c->hout, c->caller->name, sip))
		return;
	if (status >= 300) {
		call_fail(c, status, "INVITE: %d %s", status, phrase);
		return;
	}
	if (!sdp_is_srtp(sip)) {
		call_fail(c, 0, "the 200's SDP is not SDES-SRTP (%s)", SUITE);
		nua_bye(nh, TAG_END());
		return;
	}
	c->t_up = now_s();
	c->state = CALL_UP;
	st.calls_up++;
	st.call_t1 = c->t_up;
}

/* An INVITE for one of our accounts: answer it at once. */
static void
on_incoming_invite(nua_t *nua, nua_handle_t *nh, const sip_t *sip)
{
	char sdp[SDP_MAX_BYTES];
	const char *user = sip && sip->sip_to ? sip->sip_to->a_url->url_user : NULL;
	struct call *c = NULL;
	unsigned int i;

	for (i = 0; user != NULL && i < o.calls; i++)
		if (strcmp(calls[i].callee->name, user) == 0) {
			c = &calls[i];
			break;
		}
	if (c == NULL || c->in != NULL) {
		if (c == NULL)
			nua_respond(nh, SIP_404_NOT_FOUND, NUTAG_WITH_THIS(nua), TAG_END());
		else
			nua_respond(nh, SIP_486_BUSY_HERE, NUTAG_WITH_THIS(nua), TAG_END());
		nua_handle_destroy(nh);
		return;
	}
	c->in = nh;
	c->hin = (struct hctx){ .kind = H_CALLEE, .call = c };
	nua_handle_bind(nh, &c->hin);
	if (!sdp_is_srtp(sip)) {
		nua_respond(nh, 488, "Not Acceptable Here (SDES-SRTP " SUITE " required)",
			    NUTAG_WITH_THIS(nua), TAG_END());
		return;
	}
	if (make_sdp(sdp, sizeof(sdp), c->callee->name, MEDIA_PORT_BASE + 4 * c->idx + 2, false) < 0) {
		nua_respond(nh, SIP_500_INTERNAL_SERVER_ERROR, NUTAG_WITH_THIS(nua), TAG_END());
		return;
	}
	c->callee_answered = true;
	nua_respond(nh, SIP_200_OK, NUTAG_WITH_THIS(nua), NUTAG_MEDIA_ENABLE(0),
		    SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(sdp), TAG_END());
}

/* A re-INVITE in one of our calls (a session refresh, or the far end
 * re-keying): with media off nua leaves the answer to us. Answered with a
 * fresh SRTP description of the same port, or 488 if it has no crypto. */
static void
on_reinvite(nua_t *nua, nua_handle_t *nh, struct hctx *h, const sip_t *sip)
{
	struct call *c = h->call;
	bool caller = h->kind == H_CALLER;
	char sdp[SDP_MAX_BYTES];

	if (sip != NULL && sip->sip_payload != NULL && !sdp_is_srtp(sip)) {
		nua_respond(nh, 488, "Not Acceptable Here (SDES-SRTP " SUITE " required)",
			    NUTAG_WITH_THIS(nua), TAG_END());
		return;
	}
	if (make_sdp(sdp, sizeof(sdp), caller ? c->caller->name : c->callee->name,
		     MEDIA_PORT_BASE + 4 * c->idx + (caller ? 0 : 2), false) < 0) {
		nua_respond(nh, SIP_500_INTERNAL_SERVER_ERROR, NUTAG_WITH_THIS(nua), TAG_END());
		return;
	}
	nua_respond(nh, SIP_200_OK, NUTAG_WITH_THIS(nua), SIPTAG_CONTENT_TYPE_STR("application/sdp"),
		    SIPTAG_PAYLOAD_STR(sdp), TAG_END());
}

static void
on_bye_reply(struct call *c, nua_handle_t *nh, int status, const char *phrase, const sip_t *sip)
{
	if (status < 200)
		return;
	if ((status == 401 || status == 407) && authenticate(nh, &c->hout, c->caller->name, sip))
		return;
	if (c->state != CALL_BYE_SENT)
		return;
	if (status >= 300) {
		call_fail(c, status, "BYE: %d %s", status, phrase);
		return;
	}
	c->state = CALL_OK;
	st.calls_up--;
	st.calls_ok++;
}

/* --- the nua callback ------------------------------------------------------------------ */

static void
callback(nua_event_t event, int status, char const *phrase, nua_t *nua, struct conn *cn,
	 nua_handle_t *nh, struct hctx *h, sip_t const *sip, tagi_t tags[])
{
	(void)tags;
	switch (event) {
	case nua_r_shutdown:
		if (status >= 200)
			cn->shut_down = true;
		return;
	case nua_i_invite:
		if (h == NULL)
			on_incoming_invite(nua, nh, sip);
		else if (h->call != NULL)
			on_reinvite(nua, nh, h, sip);
		return;
	case nua_r_register:
		if (h != NULL && h->kind == H_REG)
			on_register(h->acct, nh, status, phrase, sip);
		return;
	case nua_r_unregister:
		if (h != NULL && h->kind == H_REG)
			on_unregister(h->acct, status, phrase, sip);
		return;
	case nua_r_invite:
		if (h != NULL && h->kind == H_CALLER)
			on_invite_reply(h->call, nh, status, phrase, sip);
		return;
	case nua_r_bye:
		if (h != NULL && h->kind == H_CALLER)
			on_bye_reply(h->call, nh, status, phrase, sip);
		return;
	case nua_i_bye:
		/* The far end hung up: only the caller's BYE is expected, and
		 * that arrives on the callee's side. */
		if (h != NULL && h->kind == H_CALLER)
			call_fail(h->call, 0, "BYE from the far end");
		else if (h != NULL && h->kind == H_CALLEE && h->call->state < CALL_BYE_SENT)
			call_fail(h->call, 0, "the callee got a BYE before the caller hung up");
		return;
	case nua_i_state:
		if (h != NULL && h->kind == H_CALLEE) {
			int cs = -1;

			tl_gets(tags, NUTAG_CALLSTATE_REF(cs), TAG_END());
			if (cs == nua_callstate_terminated)
				h->call->callee_closed = true;
		}
		return;
	case nua_i_terminated:
		if (h != NULL && h->kind == H_CALLEE)
			h->call->callee_closed = true;
		return;
	case nua_i_error:
		if (h != NULL && h->call != NULL && h->call->state < CALL_BYE_SENT)
			call_fail(h->call, status, "%s: %d %s", nua_event_name(event), status, phrase);
		return;
	default:
		return;
	}
}

/* tport's log without what tls_init_context() says about agent.pem and
 * tls_seed.dat, which a client without a certificate of its own lacks. */
extern su_log_t tport_log[];    /* libsofia-sip-ua's, not in its headers */

static void
tport_logger(void *stream, char const *fmt, va_list ap)
{
	char line[1024];

	(void)stream;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (strncmp(line, "tls_init_context", 16) != 0)
		fputs(line, stderr);
}

/* --- setup ---------------------------------------------------------------------------- */

static void
usage(FILE *f)
{
	fprintf(f,
"usage: " PROG " --server HOST:PORT --domain DOMAIN [options]\n"
"  --server HOST:PORT     registrar/proxy (every request goes there)\n"
"  --domain DOMAIN        accounts are sip:NAME@DOMAIN\n"
"  --transport tls|tcp|udp  default tls; tcp/udp send plaintext SIP\n"
"  --ca FILE              CA certificate(s), PEM, for --verify\n"
"  --verify               verify the server's certificate chain (needs --ca)\n"
"  --client-cert FILE     certificate (PEM; the leaf only) presented when the\n"
"  --client-key FILE        server asks for one (mutual TLS), and its key\n"
"  --password-file FILE   every account's password (first line); none: no auth\n"
"  --prefix P             account names P0001, P0002, ... (default user)\n"
"  --accounts N           accounts to register (default 2)\n"
"  --calls M              calls PREFIX(2k-1) -> PREFIX(2k), 2M <= N (default 1; 0: none)\n"
"  --rate R               INVITEs per second (default 0: as the window allows)\n"
"  --hold S               seconds every call is held once all are up (default 2)\n"
"  --window W             transactions outstanding at once (default 100)\n"
"  --conns K              nua instances, i.e. connections to the server (default 10)\n"
"  --expires S            registration Expires (default 600)\n"
"  --timeout S            limit for each phase (default 30)\n"
"  --bind IP              local address (default any)\n"
"  --media-ip IP          address in the SDPs (default: the route to the server)\n"
"  --plain-offer          offer RTP/AVP without crypto (expect 488)\n"
"  --no-unregister        leave the registrations in place\n"
"  --show-failures N      failures printed to stderr (default 10)\n"
"  --json                 also print the summary as JSON\n"
"Exit status: 0 nothing failed, 1 something failed, 2 usage or set-up error.\n");
}

static unsigned int
parse_uint(const char *s, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0' || v > 1000000) {
		fprintf(stderr, PROG ": bad %s: %s\n", what, s);
		exit(EXIT_USAGE);
	}
	return (unsigned int)v;
}

static double
parse_double(const char *s, const char *what)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || *s == '\0' || *end != '\0' || !(v >= 0) || v > 1e6) {
		fprintf(stderr, PROG ": bad %s: %s\n", what, s);
		exit(EXIT_USAGE);
	}
	return v;
}

static void
parse_args(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "domain", required_argument, NULL, 'd' },
		{ "transport", required_argument, NULL, 't' },
		{ "ca", required_argument, NULL, 'c' },
		{ "verify", no_argument, NULL, 'V' },
		{ "client-cert", required_argument, NULL, 'C' },
		{ "client-key", required_argument, NULL, 'K' },
		{ "password-file", required_argument, NULL, 'p' },
		{ "prefix", required_argument, NULL, 'P' },
		{ "accounts", required_argument, NULL, 'n' },
		{ "calls", required_argument, NULL, 'm' },
		{ "rate", required_argument, NULL, 'r' },
		{ "hold", required_argument, NULL, 'H' },
		{ "window", required_argument, NULL, 'w' },
		{ "conns", required_argument, NULL, 'k' },
		{ "expires", required_argument, NULL, 'e' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "bind", required_argument, NULL, 'b' },
		{ "media-ip", required_argument, NULL, 'M' },
		{ "plain-offer", no_argument, NULL, 'O' },
		{ "no-unregister", no_argument, NULL, 'U' },
		{ "show-failures", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		switch (c) {
		case 's': o.server = optarg; break;
		case 'd': o.domain = optarg; break;
		case 't': o.transport = optarg; break;
		case 'c': o.ca = optarg; break;
		case 'V': o.verify = true; break;
		case 'C': o.client_cert = optarg; break;
		case 'K': o.client_key = optarg; break;
		case 'p': o.password_file = optarg; break;
		case 'P': o.prefix = optarg; break;
		case 'n': o.accounts = parse_uint(optarg, "--accounts"); break;
		case 'm': o.calls = parse_uint(optarg, "--calls"); break;
		case 'r': o.rate = parse_double(optarg, "--rate"); break;
		case 'H': o.hold_s = parse_double(optarg, "--hold"); break;
		case 'w': o.window = parse_uint(optarg, "--window"); break;
		case 'k': o.conns = parse_uint(optarg, "--conns"); break;
		case 'e': o.expires = parse_uint(optarg, "--expires"); break;
		case 'T': o.timeout_s = parse_double(optarg, "--timeout"); break;
		case 'b': o.bind_ip = optarg; break;
		case 'M': o.media_ip = optarg; break;
		case 'O': o.plain_offer = true; break;
		case 'U': o.no_unregister = true; break;
		case 'f': o.show_failures = parse_uint(optarg, "--show-failures"); break;
		case 'j': o.json = true; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(EXIT_USAGE);
		}
	}
	if (optind != argc || o.server == NULL || o.domain == NULL) {
		usage(stderr);
		exit(EXIT_USAGE);
	}
	if (strcmp(o.transport, "tls") && strcmp(o.transport, "tcp") && strcmp(o.transport, "udp")) {
		fprintf(stderr, PROG ": --transport must be tls, tcp or udp\n");
		exit(EXIT_USAGE);
	}
	if ((o.client_cert == NULL) != (o.client_key == NULL)) {
		fprintf(stderr, PROG ": --client-cert and --client-key go together\n");
		exit(EXIT_USAGE);
	}
	if (o.verify && o.ca == NULL) {
		fprintf(stderr, PROG ": --verify needs --ca\n");
		exit(EXIT_USAGE);
	}
	if (o.accounts == 0 || 2ull * o.calls > o.accounts || o.conns == 0 || o.window == 0) {
		fprintf(stderr, PROG ": need accounts >= 1, 2 * calls <= accounts, conns >= 1, window >= 1\n");
		exit(EXIT_USAGE);
	}
	if (o.conns > o.accounts)
		o.conns = o.accounts;
}

/* The local address that routes to the server, for the SDPs. */
static int
route_ip(const char *host, char *out, size_t len)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(9) };
	socklen_t sl = sizeof(sa);
	int fd, r = -EINVAL;

	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -EINVAL;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &sl) == 0 &&
	    inet_ntop(AF_INET, &sa.sin_addr, out, len) != NULL)
		r = 0;
	close(fd);
	return r;
}

static int
read_password(const char *path)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return -errno;
	if (fgets(password, sizeof(password), f) == NULL) {
		fclose(f);
		return -EINVAL;
	}
	fclose(f);
	n = strcspn(password, "\r\n");
	password[n] = '\0';
	return n ? 0 : -EINVAL;
}

/* Append @src to the open file @out. Returns 0 or -errno. */
static int
append_file(FILE *out, const char *src)
{
	char buf[4096];
	FILE *in = fopen(src, "r");
	size_t n;
	int r = 0;

	if (in == NULL)
		return -errno;
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			r = -EIO;
	if (ferror(in))
		r = -EIO;
	fclose(in);
	return r;
}

/* Write @dir/@name (0600) from @a and, if not NULL, @b. */
static int
write_pem(const char *name, const char *a, const char *b)
{
	char path[128];
	FILE *out;
	int r;

	snprintf(path, sizeof(path), "%s/%s", tls_dir, name);
	out = fopen(path, "w");
	if (out == NULL)
		return -errno;
	chmod(path, 0600);
	r = append_file(out, a);
	if (r == 0 && b != NULL)
		r = append_file(out, b);
	if (fclose(out) != 0 && r == 0)
		r = -EIO;
	return r;
}

/* tport reads TLS material from a directory: cafile.pem (trust), agent.pem
 * (our own key and certificate, in one file; none: a client without a
 * certificate). */
static int
make_tls_dir(void)
{
	int r = 0;

	snprintf(tls_dir, sizeof(tls_dir), "/tmp/" PROG ".XXXXXX");
	if (mkdtemp(tls_dir) == NULL)
		return -errno;
	if (o.ca != NULL)
		r = write_pem("cafile.pem", o.ca, NULL);
	if (r == 0 && o.client_cert != NULL)
		r = write_pem("agent.pem", o.client_key, o.client_cert);
	return r;
}

static void
remove_tls_dir(void)
{
	char path[128];

	if (tls_dir[0] == '\0')
		return;
	snprintf(path, sizeof(path), "%s/cafile.pem", tls_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/agent.pem", tls_dir);
	unlink(path);
	rmdir(tls_dir);
}

/* --- the run ---------------------------------------------------------------------------- */

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Step the loop until @done() or @limit_s passes. */
static bool
run_until(su_root_t *root, bool (*done)(void), double limit_s)
{
	double end = now_s() + limit_s;

	while (!done()) {
		if (now_s() >= end)
			return false;
		su_root_step(root, 5);
	}
	return true;
}

static unsigned int next_reg, next_call, next_unreg;
static double hold_end;

static unsigned int
regs_outstanding(void)
{
	return next_reg - st.reg_ok - st.reg_failed;
}

static bool
regs_done(void)
{
	while (next_reg < o.accounts && regs_outstanding() < o.window)
		reg_start(&accts[next_reg++]);
	return next_reg == o.accounts && regs_outstanding() == 0;
}

static unsigned int
calls_pending(void)
{
	unsigned int i, n = 0;

	for (i = 0; i < next_call; i++)
		n += calls[i].state == CALL_INVITING;
	return n;
}

static bool
calls_placed(void)
{
	double t = now_s();

	while (next_call < o.calls && calls_pending() < o.window &&
	       (o.rate <= 0 || next_call < (t - st.call_t0) * o.rate + 1)) {
		struct call *c = &calls[next_call++];

		if (c->caller->state != REG_OK || c->callee->state != REG_OK) {
			c->state = CALL_INVITING;
			call_fail(c, 0, "not placed: an account did not register");
			continue;
		}
		call_start(c);
	}
	return next_call == o.calls && calls_pending() == 0;
}

static bool
hold_over(void)
{
	return now_s() >= hold_end;
}

static bool
byes_done(void)
{
	unsigned int i;

	for (i = 0; i < o.calls; i++)
		if (calls[i].state == CALL_BYE_SENT)
			return false;
	return true;
}

static bool
unregs_done(void)
{
	unsigned int i, out = 0;

	for (i = 0; i < next_unreg; i++)
		out += accts[i].state == UNREG_SENT;
	while (next_unreg < o.accounts && out < o.window) {
		struct account *a = &accts[next_unreg++];

		if (a->state != REG_OK)
			continue;
		a->state = UNREG_SENT;
		a->h.auth_tries = 0;
		nua_unregister(a->nh, TAG_END());
		out++;
	}
	return next_unreg == o.accounts && out == 0;
}

static bool
all_shut_down(void)
{
	unsigned int i;

	for (i = 0; i < o.conns; i++)
		if (!conns[i].shut_down)
			return false;
	return true;
}

/* Median, 95th percentile and maximum of @v[0..n) (sorted in place); zeros
 * when n is 0. */
static void
percentiles(double *v, unsigned int n, double *ret_med, double *ret_p95, double *ret_max)
{
	*ret_med = *ret_p95 = *ret_max = 0;
	if (n == 0)
		return;
	qsort(v, n, sizeof(*v), cmp_double);
	*ret_med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	*ret_p95 = v[(unsigned int)ceil(0.95 * n) - 1];
	*ret_max = v[n - 1];
}

static void
summary(void)
{
	unsigned int cap = o.accounts > o.calls ? o.accounts : o.calls;
	double *lat = calloc(cap + 1, sizeof(*lat));
	double med = 0, p95 = 0, max = 0, setup_rate = 0, reg_rate = 0;
	double reg_med = 0, reg_p95 = 0, reg_max = 0;
	unsigned int i, n = 0, nreg = 0;
	char status[512] = "", phases[256] = "", phases_json[256] = "";
	size_t off = 0, poff = 0, pjoff = 0;

	for (i = 0; lat != NULL && i < o.accounts; i++)
		if (accts[i].registered)
			lat[nreg++] = (accts[i].t_done - accts[i].t_sent) * 1000.0;
	if (lat != NULL)
		percentiles(lat, nreg, &reg_med, &reg_p95, &reg_max);
	for (i = 0; lat != NULL && i < o.calls; i++)
		if (calls[i].t_up > 0)
			lat[n++] = (calls[i].t_up - calls[i].t_invite) * 1000.0;
	if (n > 0) {
		percentiles(lat, n, &med, &p95, &max);
		if (st.call_t1 > st.call_t0)
			setup_rate = n / (st.call_t1 - st.call_t0);
	}
	if (st.reg_ok > 0 && st.reg_t1 > st.reg_t0)
		reg_rate = st.reg_ok / (st.reg_t1 - st.reg_t0);
	for (i = 0; i < STATUS_KINDS && st.status[i].n && off < sizeof(status) - 16; i++)
		off += snprintf(status + off, sizeof(status) - off, "%s%d:%u", off ? "," : "",
				st.status[i].status, st.status[i].n);
	for (i = 0; i < PH_COUNT; i++) {
		poff += snprintf(phases + poff, sizeof(phases) - poff, " %s=%.3f", phase_names[i],
				 st.phase_s[i]);
		pjoff += snprintf(phases_json + pjoff, sizeof(phases_json) - pjoff, "%s\"%s\": %.4f",
				  i ? ", " : "", phase_names[i], st.phase_s[i]);
	}
	printf(PROG ": reg ok=%u failed=%u rate=%.1f/s latency_ms median=%.1f p95=%.1f | calls ok=%u "
	       "failed=%u setup_rate=%.1f/s latency_ms median=%.1f p95=%.1f max=%.1f | unreg failed=%u | "
	       "failed_status %s | phases_s%s\n",
	       st.reg_ok, st.reg_failed, reg_rate, reg_med, reg_p95, st.calls_ok, st.calls_failed, setup_rate,
	       med, p95, max, st.unreg_failed, off ? status : "-", phases);
	if (o.json)
		printf("{\"accounts\": %u, \"reg_ok\": %u, \"reg_failed\": %u, \"reg_rate\": %.2f, "
		       "\"reg_latency_ms_median\": %.2f, \"reg_latency_ms_p95\": %.2f, "
		       "\"reg_latency_ms_max\": %.2f, "
		       "\"calls\": %u, \"calls_established\": %u, \"calls_ok\": %u, \"calls_failed\": %u, "
		       "\"setup_rate\": %.2f, \"latency_ms_median\": %.2f, \"latency_ms_p95\": %.2f, "
		       "\"latency_ms_max\": %.2f, \"unreg_failed\": %u, \"failed_status\": \"%s\", "
		       "\"phase_s\": {%s}}\n",
		       o.accounts, st.reg_ok, st.reg_failed, reg_rate, reg_med, reg_p95, reg_max, o.calls, n,
		       st.calls_ok, st.calls_failed, setup_rate, med, p95, max, st.unreg_failed, status,
		       phases_json);
	fflush(stdout);
	free(lat);
}

int
main(int argc, char **argv)
{
	unsigned int i, width;
	char bind_url[128];
	su_root_t *root;
	double t;
	int r;

	parse_args(argc, argv);
	if (o.password_file != NULL && (r = read_password(o.password_file)) < 0) {
		fprintf(stderr, PROG ": %s: %s\n", o.password_file, r == -EINVAL ? "no password" : strerror(-r));
		return EXIT_USAGE;
	}
	urandom = fopen("/dev/urandom", "rb");
	if (urandom == NULL) {
		fprintf(stderr, PROG ": /dev/urandom: %s\n", strerror(errno));
		return EXIT_USAGE;
	}
	{
		char host[128];
		const char *colon = strrchr(o.server, ':');

		snprintf(host, sizeof(host), "%.*s", colon ? (int)(colon - o.server) : (int)strlen(o.server),
			 o.server);
		if (o.media_ip != NULL)
			snprintf(media_ip, sizeof(media_ip), "%s", o.media_ip);
		else if (route_ip(host, media_ip, sizeof(media_ip)) < 0)
			snprintf(media_ip, sizeof(media_ip), "%s", o.bind_ip ? o.bind_ip : "127.0.0.1");
	}
	snprintf(proxy_url, sizeof(proxy_url), "sip:%s;transport=%s", o.server, o.transport);
	snprintf(registrar_url, sizeof(registrar_url), "sip:%s", o.domain);
	/* tport takes TLS only as sips: ("sip:...;transport=tls" fails
	 * with EPROTONOSUPPORT). */
	if (strcmp(o.transport, "tls") == 0)
		snprintf(bind_url, sizeof(bind_url), "sips:%s:*", o.bind_ip ? o.bind_ip : "*");
	else
		snprintf(bind_url, sizeof(bind_url), "sip:%s:*;transport=%s", o.bind_ip ? o.bind_ip : "*",
			 o.transport);
	if (strcmp(o.transport, "tls") == 0 && (r = make_tls_dir()) < 0) {
		fprintf(stderr, PROG ": TLS files (--ca, --client-cert, --client-key): %s\n", strerror(-r));
		remove_tls_dir();
		return EXIT_USAGE;
	}

	accts = calloc(o.accounts, sizeof(*accts));
	calls = calloc(o.calls + 1, sizeof(*calls));
	conns = calloc(o.conns, sizeof(*conns));
	if (accts == NULL || calls == NULL || conns == NULL) {
		fprintf(stderr, PROG ": out of memory\n");
		return EXIT_USAGE;
	}
	for (width = 4, i = 10000; i <= o.accounts; i *= 10)
		width++;
	for (i = 0; i < o.accounts; i++) {
		snprintf(accts[i].name, sizeof(accts[i].name), "%s%0*u", o.prefix, (int)width, i + 1);
		accts[i].conn = &conns[i % o.conns];
	}
	for (i = 0; i < o.calls; i++) {
		calls[i].idx = i;
		calls[i].caller = &accts[2 * i];
		calls[i].callee = &accts[2 * i + 1];
		accts[2 * i + 1].as_callee = &calls[i];
	}

	/* sofia-sip's own log on stderr: tport at level 3 keeps what a
	 * failure needs (a certificate that does not verify) without its
	 * complaints about the key and seed files a client does without
	 * (tport_logger()); the environment's TPORT_DEBUG wins. */
	setenv("TPORT_DEBUG", "3", 0);
	su_init();
	su_log_redirect(tport_log, tport_logger, NULL);
	root = su_root_create(NULL);
	if (root == NULL) {
		fprintf(stderr, PROG ": su_root_create failed\n");
		return EXIT_USAGE;
	}
	for (i = 0; i < o.conns; i++) {
		conns[i].idx = i;
		/* TPTAG_TLS_VERSION(0): TLS_method() (1.2 and 1.3) rather than
		 * sofia-sip's default TLSv1_client_method(), which OpenSSL 3's
		 * MinProtocol refuses. */
		conns[i].nua = nua_create(root, callback, &conns[i],
					  NUTAG_URL(url_str(bind_url)),
					  NUTAG_PROXY(url_str(proxy_url)),
					  NUTAG_MEDIA_ENABLE(0),
					  NUTAG_OUTBOUND("no-options-keepalive no-validate"),
					  NUTAG_KEEPALIVE(0),
					  SIPTAG_USER_AGENT_STR(PROG),
					  TAG_IF(tls_dir[0], TPTAG_CERTIFICATE(tls_dir)),
					  TAG_IF(tls_dir[0], TPTAG_TLS_VERSION(0)),
					  TAG_IF(tls_dir[0], TPTAG_TLS_VERIFY_POLICY(o.verify ? TPTLS_VERIFY_OUT
										 : TPTLS_VERIFY_NONE)),
					  TAG_END());
		if (conns[i].nua == NULL) {
			fprintf(stderr, PROG ": nua_create(%s) failed (TLS context? see sofia-sip's log above)\n",
				bind_url);
			remove_tls_dir();
			return EXIT_USAGE;
		}
	}

	/* 1. register */
	st.reg_t0 = now_s();
	if (!run_until(root, regs_done, o.timeout_s))
		failure("registration: timed out after %.0f s", o.timeout_s);
	st.phase_s[PH_REGISTER] = now_s() - st.reg_t0;
	for (i = 0; i < o.accounts; i++) {
		if (accts[i].state == REG_SENT || accts[i].state == REG_IDLE) {
			/* (else nua_shutdown() waits for the transaction) */
			if (accts[i].nh != NULL)
				nua_handle_destroy(accts[i].nh);
			accts[i].nh = NULL;
			accts[i].state = REG_FAILED;
			st.reg_failed++;
			note_status(408);
			failure("register %s: no final answer", accts[i].name);
		}
		if (accts[i].t_done > st.reg_t1)
			st.reg_t1 = accts[i].t_done;
	}

	/* 2. call, 3. hold, 4. hang up */
	if (o.calls > 0) {
		st.call_t0 = now_s();
		if (!run_until(root, calls_placed, o.timeout_s))
			failure("calls: timed out after %.0f s", o.timeout_s);
		st.phase_s[PH_CALL] = now_s() - st.call_t0;
		for (i = 0; i < o.calls; i++)
			if (calls[i].state == CALL_INVITING || calls[i].state == CALL_IDLE) {
				calls[i].state = CALL_INVITING;
				call_fail(&calls[i], 408, "no final answer to the INVITE");
				if (calls[i].out != NULL)
					nua_cancel(calls[i].out, TAG_END());
			}
		t = now_s();
		hold_end = t + o.hold_s;
		/* for whoever waits on this run to hold its state (sip_bench.py) */
		printf(PROG ": holding %u calls, %u registered\n", st.calls_up, st.reg_ok);
		fflush(stdout);
		run_until(root, hold_over, o.hold_s + 1);
		st.phase_s[PH_HOLD] = now_s() - t;
		t = now_s();
		for (i = 0; i < o.calls; i++)
			if (calls[i].state == CALL_UP) {
				calls[i].state = CALL_BYE_SENT;
				nua_bye(calls[i].out, TAG_END());
			}
		if (!run_until(root, byes_done, o.timeout_s))
			failure("hang-up: timed out after %.0f s", o.timeout_s);
		st.phase_s[PH_HANGUP] = now_s() - t;
		for (i = 0; i < o.calls; i++)
			if (calls[i].state == CALL_BYE_SENT)
				call_fail(&calls[i], 408, "no final answer to the BYE");
		for (i = 0; i < o.calls; i++)
			if (calls[i].state == CALL_OK && !calls[i].callee_answered)
				call_fail(&calls[i], 0, "answered, but not by the callee");
	}

	/* 5. unregister, shut down */
	t = now_s();
	if (!o.no_unregister && !run_until(root, unregs_done, o.timeout_s)) {
		failure("unregistration: timed out after %.0f s", o.timeout_s);
		for (i = 0; i < o.accounts; i++)
			if (accts[i].state == UNREG_SENT)
				st.unreg_failed++;
	}
	st.phase_s[PH_UNREGISTER] = now_s() - t;
	for (i = 0; i < o.conns; i++)
		nua_shutdown(conns[i].nua);
	if (run_until(root, all_shut_down, 5)) {
		/* (nua_destroy() before the shutdown completed aborts: then
		 * the process exit frees it all.) */
		for (i = 0; i < o.conns; i++)
			nua_destroy(conns[i].nua);
		su_root_destroy(root);
		su_deinit();
	}
	remove_tls_dir();

	summary();
	fclose(urandom);
	explicit_bzero(password, sizeof(password));
	return st.reg_failed || st.calls_failed || st.unreg_failed || st.calls_ok != o.calls ||
	       st.reg_ok != o.accounts ? EXIT_CHECK : 0;
}
