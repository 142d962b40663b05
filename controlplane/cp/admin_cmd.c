/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Admin socket commands (docs/mrelayctl.md, "Admin socket"):
 *
 *   ping
 *   status [json]
 *   calls [json]
 *   call show CALL-ID [json]
 *   call add CALL-ID FROM-TAG TO-TAG [iface=NAME] [peer-a=ADDR] [peer-b=ADDR] [rtcp-mux]
 *   call del CALL-ID
 *   call mute CALL-ID TAG on|off
 *   reload
 *   sip-revoke NAME      (mrelayctl account revoke: end NAME's registrations
 *                         and calls now; the account is already gone)
 *
 * "call add" makes a plain-RTP call between two operator-marked (PSTN)
 * legs, one stream each, paired, on an interface marked pstn (the first,
 * unless iface= names one; the session layer refuses any other): a hook
 * for tests and operators, through the same session primitives a
 * front-end uses. It never takes or shows a
 * key. Replies never contain keys either: queries show suites only.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "cp.h"
#include "log.h"
#include "sip.h"
#include "sip_front.h"
#include "transport.h"

#define MAX_WORDS 16

struct req {
	int n;
	char *w[MAX_WORDS];
	bool json;
};

static void
json_str(FILE *f, const char *s)
{
	const unsigned char *p;

	fputc('"', f);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			fprintf(f, "\\u%04x", *p);  /* bytes, not UTF-8: stays valid JSON */
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void
json_addr(FILE *f, const struct mr_sockaddr *a)
{
	char buf[MR_LOG_ADDR_LEN];

	if (a->family != MR_AF_INET && a->family != MR_AF_INET6)
		fputs("null", f);
	else
		json_str(f, mr_log_addr(a, buf, sizeof(buf)));
}

static const char *
suite_name(uint8_t suite)
{
	const char *n = mr_sdes_suite_name(suite);

	return n != NULL ? n : "none";
}

/* ---- queries ----------------------------------------------------------------- */

static void
stream_json(FILE *f, const struct mr_stream_info *si, uint64_t now)
{
	const struct mr_leg_counters *k = &si->counters;

	fprintf(f, "{\"slot\": %" PRIu32 ", \"leg_uid\": %" PRIu64 ", \"local\": ", si->slot,
		si->leg_uid);
	json_addr(f, &si->local);
	fputs(", \"advertised\": ", f);
	json_addr(f, &si->advertised);
	fprintf(f, ", \"rtcp_port\": %u, \"rtcp_mux\": %s, \"muted\": %s, \"egress_slot\": ",
		(unsigned int)si->rtcp_port, si->flags & MR_LEG_F_RTCP_MUX ? "true" : "false",
		si->flags & MR_LEG_F_MUTED ? "true" : "false");
	if (si->egress_slot == MR_LEG_NONE)
		fputs("null", f);
	else
		fprintf(f, "%" PRIu32, si->egress_slot);
	fprintf(f, ", \"in_suite\": \"%s\", \"out_suite\": \"%s\", \"peer\": ",
		suite_name(si->in_suite), suite_name(si->out_suite));
	json_addr(f, &si->peer_rtp);
	fputs(", \"latched_rtp\": ", f);
	json_addr(f, &si->latched_rtp);
	fputs(", \"latched_rtcp\": ", f);
	json_addr(f, &si->latched_rtcp);
	fprintf(f, ", \"rx_pkts\": %" PRIu64 ", \"rx_bytes\": %" PRIu64 ", \"tx_pkts\": %" PRIu64
		", \"tx_bytes\": %" PRIu64 ", \"drop_src\": %" PRIu64 ", \"drop_auth\": %" PRIu64
		", \"drop_other\": %" PRIu64 ", \"auth_failures\": %" PRIu64 ", \"last_rx_age_ms\": ",
		k->rx_pkts, k->rx_bytes, k->tx_pkts, k->tx_bytes, k->drop_src, k->drop_auth,
		k->drop_other, si->auth_failures);
	if (k->last_rx_ms == 0)
		fputs("null", f);
	else
		fprintf(f, "%" PRIu64, now > k->last_rx_ms ? now - k->last_rx_ms : 0);
	fputc('}', f);
}

static void
stream_text(FILE *f, const struct mr_stream_info *si)
{
	const struct mr_leg_counters *k = &si->counters;
	char a[MR_LOG_ADDR_LEN], b[MR_LOG_ADDR_LEN], c[MR_LOG_ADDR_LEN];

	fprintf(f, "    slot %" PRIu32 " %s peer %s latched %s", si->slot,
		mr_log_addr(&si->local, a, sizeof(a)), mr_log_addr(&si->peer_rtp, b, sizeof(b)),
		mr_log_addr(&si->latched_rtp, c, sizeof(c)));
	if (si->egress_slot != MR_LEG_NONE)
		fprintf(f, " -> slot %" PRIu32, si->egress_slot);
	fprintf(f, "%s  rx %" PRIu64 " pkts %" PRIu64 " B  tx %" PRIu64 " pkts %" PRIu64
		" B  drops src %" PRIu64 " auth %" PRIu64 " other %" PRIu64 "\n",
		si->flags & MR_LEG_F_MUTED ? " muted" : "", k->rx_pkts, k->rx_bytes, k->tx_pkts,
		k->tx_bytes, k->drop_src, k->drop_auth, k->drop_other);
}

static void
call_out(struct mr_cp *cp, const struct mr_call *c, FILE *f, bool json, uint64_t now)
{
	struct mr_call_info ci;
	unsigned int i, k;

	mr_session_call_info(c, &ci);
	if (json) {
		fputs("{\"call_id\": ", f);
		json_str(f, ci.call_id);
		fprintf(f, ", \"tag\": %" PRIu64 ", \"age_ms\": %" PRIu64 ", \"paired\": %s, \"legs\": [",
			ci.tag, now > ci.created_ms ? now - ci.created_ms : 0,
			ci.paired_ms != 0 ? "true" : "false");
	} else {
		fprintf(f, "%s tag %" PRIu64 " age %" PRIu64 " s %s\n", ci.call_id, ci.tag,
			now > ci.created_ms ? (now - ci.created_ms) / 1000u : 0,
			ci.paired_ms != 0 ? "paired" : "offered");
	}
	for (i = 0; i < ci.n_legs; i++) {
		const struct mr_leg *l = mr_session_leg_at(c, i);
		struct mr_leg_info li;

		mr_session_leg_info(l, &li);
		if (json) {
			fprintf(f, "%s{\"tag\": ", i > 0 ? ", " : "");
			json_str(f, li.tag);
			fputs(", \"iface\": ", f);
			json_str(f, li.iface);
			fprintf(f, ", \"muted\": %s, \"streams\": [", li.muted ? "true" : "false");
		} else {
			fprintf(f, "  leg %s iface %s%s\n", li.tag, li.iface, li.muted ? " muted" : "");
		}
		for (k = 0; k < li.n_streams; k++) {
			struct mr_stream_info si;

			if (mr_session_stream_info(cp->sess, l, k, &si) < 0) {
				if (json)
					fprintf(f, "%snull", k > 0 ? ", " : "");
				else
					fputs("    (slot being written; try again)\n", f);
				continue;
			}
			if (json) {
				fputs(k > 0 ? ", " : "", f);
				stream_json(f, &si, now);
			} else {
				stream_text(f, &si);
			}
		}
		if (json)
			fputs("]}", f);
	}
	if (json)
		fputs("]}", f);
}

static int
cmd_calls(struct mr_cp *cp, const struct req *q, FILE *f)
{
	const struct mr_call *c;
	uint64_t now = mr_now_ms();
	bool first = true;

	(void)q;
	if (q->json)
		fputs("{\"calls\": [", f);
	for (c = mr_session_call_next(cp->sess, NULL); c != NULL;
	     c = mr_session_call_next(cp->sess, c)) {
		if (q->json && !first)
			fputs(", ", f);
		call_out(cp, c, f, q->json, now);
		first = false;
	}
	if (q->json)
		fputs("]}\n", f);
	return 0;
}

/* The SIP front-end's counters: a text line, or a "sip" member of the JSON object. */
static void
sip_status(const struct mr_cp *cp, FILE *f, bool json)
{
	const struct mr_sip_transport_counters *t = mr_cp_sip_transport_counters(cp);
	const struct mr_sip *sip = mr_cp_sip_b2bua(cp);
	const struct mr_sip_counters *c;

	if (t == NULL || sip == NULL)
		return;
	c = mr_sip_counters(sip);
	fprintf(f, json ? ", \"sip\": {\"bindings\": %" PRIu32 ", \"calls_active\": %" PRIu32
		     ", \"calls_total\": %" PRIu64 ", \"calls_answered\": %" PRIu64
		     ", \"calls_failed\": %" PRIu64 ", \"registrations\": %" PRIu64
		     ", \"auth_failures\": %" PRIu64 ", \"rejected_488\": %" PRIu64
		     ", \"flows_accepted\": %" PRIu64 ", \"handshake_failures\": %" PRIu64
		     ", \"plain_refused\": %" PRIu64 ", \"framing_errors\": %" PRIu64 "}" :
		     "sip: %" PRIu32 " bindings, %" PRIu32 " calls (%" PRIu64 " total, %" PRIu64
		     " answered, %" PRIu64 " failed), %" PRIu64 " registrations, %" PRIu64
		     " auth failures, %" PRIu64 " refused 488; flows %" PRIu64 " accepted, %"
		     PRIu64 " failed handshakes, %" PRIu64 " plain refused, %" PRIu64
		     " framing errors\n",
		c->bindings, c->calls_active, c->calls_total, c->calls_answered, c->calls_failed,
		c->registrations, c->auth_failures, c->rejected_488, t->flows_accepted,
		t->handshake_failures, t->plain_refused, t->framing_errors);
}

static int
cmd_status(struct mr_cp *cp, const struct req *q, FILE *f)
{
	const struct mr_shm_header *h = cp->region.hdr;
	struct mr_session_stats st;
	bool dp = mr_region_dp_alive(&cp->region, MR_CP_DP_MAX_AGE_MS);

	mr_session_stats(cp->sess, &st);
	if (!q->json) {
		fprintf(f, "mrelay-cp pid %ld, config %s, region %s\n", (long)getpid(),
			cp->config_path, cp->region.path);
		fprintf(f, "calls %" PRIu32 ", legs %" PRIu32 ", free slots %" PRIu32
			", port pairs %" PRIu32 "/%" PRIu32 "\n", st.calls, st.legs, st.slots_free,
			st.ports_used, st.ports_capacity);
		fprintf(f, "dataplane %s (pid %" PRIu32 "), events %" PRIu64 "\n",
			dp ? "alive" : "not alive", h->dp_pid, cp->events);
		fprintf(f, "journal %" PRIu64 " records, %" PRIu64 " live\n", st.journal_records,
			st.journal_live);
		sip_status(cp, f, false);
		return 0;
	}
	fprintf(f, "{\"pid\": %ld, \"config\": ", (long)getpid());
	json_str(f, cp->config_path);
	fputs(", \"region\": ", f);
	json_str(f, cp->region.path);
	fprintf(f, ", \"calls\": %" PRIu32 ", \"legs\": %" PRIu32 ", \"slots_free\": %" PRIu32
		", \"ports_used\": %" PRIu32 ", \"ports_capacity\": %" PRIu32
		", \"journal_records\": %" PRIu64 ", \"journal_live\": %" PRIu64
		", \"events\": %" PRIu64 ", \"dataplane\": {\"alive\": %s, \"pid\": %" PRIu32 "}"
		", \"limits\": {\"max_calls\": %" PRIu32 ", \"max_legs\": %" PRIu32
		", \"offers_per_second\": %" PRIu32 "}"
		", \"timeouts\": {\"media_idle_s\": %" PRIu32 ", \"offer_s\": %" PRIu32
		", \"call_max_s\": %" PRIu32 ", \"old_key_s\": %" PRIu32 "}",
		st.calls, st.legs, st.slots_free, st.ports_used, st.ports_capacity,
		st.journal_records, st.journal_live, cp->events, dp ? "true" : "false", h->dp_pid,
		cp->cfg.limits.max_calls, cp->cfg.limits.max_legs, cp->cfg.limits.offers_per_s,
		cp->cfg.timeouts.media_idle_ms / 1000u, cp->cfg.timeouts.offer_ms / 1000u,
		cp->cfg.timeouts.call_max_ms / 1000u, cp->cfg.timeouts.old_key_ms / 1000u);
	sip_status(cp, f, true);
	fputs("}\n", f);
	return 0;
}

/* ---- call commands --------------------------------------------------------------- */

static int __attribute__((format(printf, 3, 4)))
refuse(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int
cmd_sip_revoke(struct mr_cp *cp, const struct req *q, FILE *f, char *err, size_t errlen)
{
	int n = mr_cp_sip_revoke(cp, q->w[1], mr_now_ms());

	if (n < 0)
		return refuse(err, errlen, "the SIP front-end is not enabled");
	mr_log(LOG_NOTICE, MR_LOG_SIP, NULL, "account %s revoked: %d calls ended", q->w[1], n);
	fprintf(f, "ended %d call%s\n", n, n == 1 ? "" : "s");
	return 0;
}

/* Why a session primitive said @e, in words an operator can act on. */
static int
session_error(struct mr_cp *cp, int e, const char *what, char *err, size_t errlen)
{
	struct mr_session_stats st;

	mr_session_stats(cp->sess, &st);
	switch (e) {
	case -EEXIST:
		return refuse(err, errlen, "%s: already exists", what);
	case -EUSERS:
		return refuse(err, errlen, "%s: limit reached (max_calls %" PRIu32 ", max_legs %"
			      PRIu32 "; %" PRIu32 " calls, %" PRIu32 " legs in use)", what,
			      cp->cfg.limits.max_calls, cp->cfg.limits.max_legs, st.calls, st.legs);
	case -EBUSY:
		return refuse(err, errlen, "%s: offer rate limit (%" PRIu32 " per second) reached",
			      what, cp->cfg.limits.offers_per_s);
	case -ENOSPC:
		return refuse(err, errlen, "%s: out of relay ports or slots (%" PRIu32 "/%" PRIu32
			      " port pairs used, %" PRIu32 " slots free)", what, st.ports_used,
			      st.ports_capacity, st.slots_free);
	case -ENODEV:
		return refuse(err, errlen, "%s: no such interface, or it has no address of that "
			      "family", what);
	case -EPERM:
		return refuse(err, errlen, "%s: plain RTP only on an interface marked pstn", what);
	default:
		return refuse(err, errlen, "%s: %s", what, strerror(-e));
	}
}

static int
opt_addr(const char *v, struct mr_sockaddr *ret, char *err, size_t errlen)
{
	if (mr_cp_parse_addr(v, ret) < 0)
		return refuse(err, errlen, "'%s' is not IPv4:PORT or [IPv6]:PORT", v);
	return 0;
}

/*
 * The admin socket's calls are plain RTP (it has no way to hand keys to
 * the peers), so they go where the operator allows that.
 */
static const char *
first_pstn_iface(const struct mr_cp_config *cfg)
{
	unsigned int i;

	for (i = 0; i < cfg->n_ifaces; i++)
		if (cfg->ifaces[i].pstn)
			return cfg->ifaces[i].name;
	return NULL;
}

static int
call_add(struct mr_cp *cp, const struct req *q, FILE *f, char *err, size_t errlen)
{
	struct mr_stream_params sa, sb;
	struct mr_leg_params la, lb;
	struct mr_call *c;
	struct mr_leg *a, *b;
	const char *iface = NULL;
	int i, e;

	if (q->n < 5)
		return refuse(err, errlen, "usage: call add CALL-ID FROM-TAG TO-TAG [iface=NAME] "
			      "[peer-a=ADDR] [peer-b=ADDR] [rtcp-mux]");
	memset(&sa, 0, sizeof(sa));
	memset(&sb, 0, sizeof(sb));
	sa.pstn = sb.pstn = true;
	for (i = 5; i < q->n; i++) {
		const char *w = q->w[i];

		if (strncmp(w, "iface=", 6) == 0) {
			iface = w + 6;
		} else if (strncmp(w, "peer-a=", 7) == 0) {
			if (opt_addr(w + 7, &sa.peer_rtp, err, errlen) < 0)
				return -1;
		} else if (strncmp(w, "peer-b=", 7) == 0) {
			if (opt_addr(w + 7, &sb.peer_rtp, err, errlen) < 0)
				return -1;
		} else if (strcmp(w, "rtcp-mux") == 0) {
			sa.rtcp_mux = sb.rtcp_mux = true;
		} else {
			return refuse(err, errlen, "call add: unknown option '%s'", w);
		}
	}
	if (strcmp(q->w[3], q->w[4]) == 0)
		return refuse(err, errlen, "call add: the two tags must differ");
	if (iface == NULL) {
		iface = first_pstn_iface(&cp->cfg);
		if (iface == NULL)
			return refuse(err, errlen, "call add: its legs are plain RTP, and no "
				      "interface is marked pstn");
	}
	la = (struct mr_leg_params){ .tag = q->w[3], .iface = iface, .n_streams = 1, .streams = &sa };
	lb = (struct mr_leg_params){ .tag = q->w[4], .iface = iface, .n_streams = 1, .streams = &sb };
	e = mr_session_call_new(cp->sess, q->w[2], mr_now_ms(), &c);
	if (e < 0)
		return session_error(cp, e, "call", err, errlen);
	e = mr_session_leg_add(cp->sess, c, &la, &a);
	if (e == 0)
		e = mr_session_leg_add(cp->sess, c, &lb, &b);
	if (e == 0)
		e = mr_session_pair(cp->sess, a, b);
	if (e < 0) {
		/* All or nothing: what was made of the call goes again. */
		mr_session_call_end(cp->sess, c, MR_END_DELETED);
		return session_error(cp, e, "leg", err, errlen);
	}
	mr_log(LOG_INFO, MR_LOG_SESSION, q->w[2], "call created by the admin socket (tags %s, %s)",
	       q->w[3], q->w[4]);
	call_out(cp, c, f, true, mr_now_ms());
	fputc('\n', f);
	return 0;
}

static struct mr_call *
find_call(struct mr_cp *cp, const char *id, char *err, size_t errlen)
{
	struct mr_call *c = mr_session_call_get(cp->sess, id);

	if (c == NULL)
		refuse(err, errlen, "no call '%s'", id);
	return c;
}

static int
cmd_call(struct mr_cp *cp, const struct req *q, FILE *f, char *err, size_t errlen)
{
	struct mr_call *c;
	struct mr_leg *l;
	int e;

	if (q->n < 3)
		return refuse(err, errlen, "usage: call add|del|show|mute CALL-ID ...");
	if (strcmp(q->w[1], "add") == 0)
		return call_add(cp, q, f, err, errlen);
	c = find_call(cp, q->w[2], err, errlen);
	if (c == NULL)
		return -1;
	if (strcmp(q->w[1], "show") == 0 && q->n == 3) {
		call_out(cp, c, f, q->json, mr_now_ms());
		if (q->json)
			fputc('\n', f);
		return 0;
	}
	if (strcmp(q->w[1], "del") == 0 && q->n == 3) {
		mr_cp_call_ended(c, MR_END_DELETED, cp);
		e = mr_session_call_end(cp->sess, c, MR_END_DELETED);
		return e < 0 ? session_error(cp, e, "call", err, errlen) : 0;
	}
	if (strcmp(q->w[1], "mute") == 0 && q->n == 5) {
		bool on = strcmp(q->w[4], "on") == 0;

		if (!on && strcmp(q->w[4], "off") != 0)
			return refuse(err, errlen, "call mute: expected on or off, not '%s'", q->w[4]);
		l = mr_session_leg_get(c, q->w[3]);
		if (l == NULL)
			return refuse(err, errlen, "call '%s' has no leg '%s'", q->w[2], q->w[3]);
		e = mr_session_leg_mute(cp->sess, l, on);
		if (e < 0)
			return session_error(cp, e, "leg", err, errlen);
		mr_log(LOG_INFO, MR_LOG_SESSION, q->w[2], "leg %s %s by the admin socket", q->w[3],
		       on ? "muted" : "unmuted");
		return 0;
	}
	return refuse(err, errlen, "call %s: wrong arguments (see docs/mrelayctl.md)", q->w[1]);
}

int
mr_admin_run(struct mr_cp *cp, char *line, FILE *body, char *err, size_t errlen)
{
	/* A known command with the wrong words is told its form, not called unknown. */
	static const char *const usage[][2] = {
		{ "ping", "ping" }, { "status", "status [json]" }, { "calls", "calls [json]" },
		{ "sip-revoke", "sip-revoke NAME" }, { "reload", "reload" },
	};
	struct req q = { 0 };
	char *save = NULL, *tok;
	size_t i;

	for (tok = strtok_r(line, " \t", &save); tok != NULL; tok = strtok_r(NULL, " \t", &save)) {
		if (q.n == MAX_WORDS)
			return refuse(err, errlen, "too many words (at most %d)", MAX_WORDS);
		q.w[q.n++] = tok;
	}
	/* A trailing "json" asks for JSON wherever a command offers it. */
	if (q.n > 1 && strcmp(q.w[q.n - 1], "json") == 0 && strcmp(q.w[0], "call") != 0) {
		q.json = true;
		q.n--;
	} else if (q.n > 3 && strcmp(q.w[0], "call") == 0 && strcmp(q.w[1], "show") == 0 &&
		   strcmp(q.w[q.n - 1], "json") == 0) {
		q.json = true;
		q.n--;
	}
	if (q.n == 0)
		return refuse(err, errlen, "empty request");
	if (strcmp(q.w[0], "ping") == 0 && q.n == 1)
		return 0;
	if (strcmp(q.w[0], "status") == 0 && q.n == 1)
		return cmd_status(cp, &q, body);
	if (strcmp(q.w[0], "calls") == 0 && q.n == 1)
		return cmd_calls(cp, &q, body);
	if (strcmp(q.w[0], "call") == 0)
		return cmd_call(cp, &q, body, err, errlen);
	if (strcmp(q.w[0], "sip-revoke") == 0 && q.n == 2)
		return cmd_sip_revoke(cp, &q, body, err, errlen);
	if (strcmp(q.w[0], "reload") == 0 && q.n == 1) {
		cp->reload = true;      /* the main loop reloads after this turn */
		return 0;
	}
	for (i = 0; i < sizeof(usage) / sizeof(usage[0]); i++)
		if (strcmp(q.w[0], usage[i][0]) == 0)
			return refuse(err, errlen, "usage: %s", usage[i][1]);
	return refuse(err, errlen,
		      "unknown command '%.64s' (ping, status, calls, call, sip-revoke, reload)",
		      q.w[0]);
}
