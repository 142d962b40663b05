/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The session manager (controlplane/session/): calls, legs and streams on a
 * real (temporary) region; limits and all-or-nothing refusals; port and
 * slot exhaustion; timers; the journal's codec, its round trip through a
 * restart, and that it never holds a key; recovery of torn, orphaned and
 * vanished slots.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
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

#include "journal.h"
#include "session_int.h"     /* white box: slots and tags of legs */
#include "tmpdir.h"

#define LEGS 64u

struct fx {
	struct mr_test_tmpdir tmp;      /* path: the region; dir: the session's state_dir */
	struct mr_region r;
	struct mr_session_iface iface;
	bool not_pstn;                  /* start(): the interface is not marked pstn */
	struct mr_session_params p;
	struct mr_session *s;
	struct mr_session_timeouts t;   /* given to mr_session_new() by start() */
};

static struct fx F;

static void
start(const struct mr_session_limits *l, uint16_t port_min, uint16_t port_max,
      struct mr_session_recovery *rec)
{
	char err[256];

	memset(&F.iface, 0, sizeof(F.iface));
	snprintf(F.iface.name, sizeof(F.iface.name), "wan");
	F.iface.local4.family = MR_AF_INET;
	inet_pton(AF_INET, "198.18.0.2", F.iface.local4.ip);
	F.iface.port_min = port_min;
	F.iface.port_max = port_max;
	F.iface.dscp = 46;
	F.iface.pstn = !F.not_pstn;
	memset(&F.p, 0, sizeof(F.p));
	F.p.ifaces = &F.iface;
	F.p.n_ifaces = 1;
	if (l != NULL)
		F.p.limits = *l;
	F.p.timeouts = F.t;
	F.p.state_dir = F.tmp.dir;
	assert_int_equal(mr_region_lock(&F.r), 0);
	assert_int_equal(mr_session_new(&F.p, &F.r, &F.s, rec, err, sizeof(err)), 0);
}

static void
stop(void)
{
	mr_session_free(F.s);
	F.s = NULL;
	mr_region_unlock(&F.r);
}

static int
setup(void **state)
{
	(void)state;
	memset(&F, 0, sizeof(F));
	if (mr_test_tmpdir_make(&F.tmp, "/tmp/mr-test-session-XXXXXX", "region") < 0)
		return -1;
	return mr_region_open(&F.r, F.tmp.path, true, LEGS, 2);
}

static int
teardown(void **state)
{
	(void)state;
	if (F.s != NULL)
		stop();
	mr_region_close(&F.r);
	return mr_test_tmpdir_remove(&F.tmp);
}

static unsigned int
active_slots(void)
{
	unsigned int i, n = 0;

	for (i = 0; i < LEGS; i++)
		n += mr_shm_slot(F.r.hdr, i)->state == MR_LEG_ACTIVE;
	return n;
}

/* A plain call of two one-stream legs, paired. */
static struct mr_call *
plain_call(const char *id, int want)
{
	struct mr_stream_params sp = { .pstn = true };
	struct mr_leg_params a = { .tag = "from", .n_streams = 1, .streams = &sp };
	struct mr_leg_params b = { .tag = "to", .n_streams = 1, .streams = &sp };
	struct mr_call *c = NULL;
	struct mr_leg *la, *lb;
	int r = mr_session_call_new(F.s, id, mr_now_ms(), &c);

	if (r == 0)
		r = mr_session_leg_add(F.s, c, &a, &la);
	if (r == 0)
		r = mr_session_leg_add(F.s, c, &b, &lb);
	if (r == 0)
		r = mr_session_pair(F.s, la, lb);
	assert_int_equal(r, want);
	if (r < 0 && c != NULL) {
		mr_session_call_end(F.s, c, MR_END_DELETED);
		c = NULL;
	}
	return c;
}

static void
test_create_delete(void **state)
{
	struct mr_session_stats st;
	struct mr_stream_info si;
	const struct mr_leg_slot *ls;
	struct mr_call *c;
	struct mr_leg *l;

	(void)state;
	start(NULL, 30000, 30099, NULL);
	c = plain_call("call-1", 0);
	assert_ptr_equal(mr_session_call_get(F.s, "call-1"), c);
	assert_int_equal(active_slots(), 2);
	l = mr_session_leg_get(c, "from");
	assert_non_null(l);
	assert_int_equal(mr_session_stream_info(F.s, l, 0, &si), 0);
	assert_int_equal(ntohs(si.local.port_be), 30000);
	assert_int_equal(si.rtcp_port, 30001);
	ls = mr_shm_slot(F.r.hdr, si.slot);
	assert_int_equal(ls->egress_slot, mr_session_leg_at(c, 1)->streams[0].slot);
	assert_int_equal(ls->dscp, 46);
	assert_true(ls->flags & MR_LEG_F_PSTN);
	assert_int_not_equal(ls->call_tag, 0);
	assert_int_equal(mr_session_stream_info(F.s, l, 1, &si), -ERANGE);
	/* Mute flips the slot flag and back. */
	assert_int_equal(mr_session_leg_mute(F.s, l, true), 0);
	assert_true(ls->flags & MR_LEG_F_MUTED);
	assert_int_equal(mr_session_leg_mute(F.s, l, false), 0);
	assert_false(ls->flags & MR_LEG_F_MUTED);
	/* Same call-id twice; same tag twice. */
	plain_call("call-1", -EEXIST);
	mr_session_stats(F.s, &st);
	assert_int_equal(st.calls, 1);
	assert_int_equal(st.legs, 2);
	assert_int_equal(st.ports_used, 2);
	assert_int_equal(mr_session_call_end(F.s, c, MR_END_DELETED), 0);
	assert_int_equal(active_slots(), 0);
	mr_session_stats(F.s, &st);
	assert_int_equal(st.calls + st.legs + st.ports_used, 0);
	assert_null(mr_session_call_get(F.s, "call-1"));
	stop();
}

static void
test_limits(void **state)
{
	struct mr_session_limits l = { .max_calls = 2 };
	struct mr_session_stats st;
	struct mr_call *c;

	(void)state;
	start(&l, 30000, 30099, NULL);
	plain_call("a", 0);
	plain_call("b", 0);
	plain_call("c", -EUSERS);
	l = (struct mr_session_limits){ .max_legs = 5 };
	mr_session_set_policy(F.s, &l, &(struct mr_session_timeouts){ 0 });
	/* 4 legs in use: the third call's first leg fits, its second does not,
	 * and the whole call goes. */
	plain_call("c", -EUSERS);
	mr_session_stats(F.s, &st);
	assert_int_equal(st.calls, 2);
	assert_int_equal(st.legs, 4);
	assert_int_equal(active_slots(), 4);
	l = (struct mr_session_limits){ .offers_per_s = 3 };
	mr_session_set_policy(F.s, &l, &(struct mr_session_timeouts){ 0 });
	assert_int_equal(mr_session_call_new(F.s, "r1", 5000, &c), 0);
	assert_int_equal(mr_session_call_new(F.s, "r2", 5100, &c), 0);
	assert_int_equal(mr_session_call_new(F.s, "r3", 5900, &c), 0);
	assert_int_equal(mr_session_call_new(F.s, "r4", 5999, &c), -EBUSY);
	assert_int_equal(mr_session_call_new(F.s, "r4", 6000, &c), 0);
	assert_int_equal(mr_session_call_new(F.s, "", 7000, &c), -EINVAL);
	stop();
}

/* Two port pairs: a leg of three streams cannot be made, and leaves nothing. */
static void
test_port_exhaustion(void **state)
{
	struct mr_stream_params sp[3] = { { .pstn = true }, { .pstn = true }, { .pstn = true } };
	struct mr_leg_params lp = { .tag = "x", .n_streams = 3, .streams = sp };
	struct mr_session_stats st;
	struct mr_call *c;
	struct mr_leg *l;

	(void)state;
	start(NULL, 30000, 30003, NULL);
	assert_int_equal(mr_session_call_new(F.s, "big", mr_now_ms(), &c), 0);
	assert_int_equal(mr_session_leg_add(F.s, c, &lp, &l), -ENOSPC);
	mr_session_stats(F.s, &st);
	assert_int_equal(st.ports_used, 0);
	assert_int_equal(st.legs, 0);
	assert_int_equal(active_slots(), 0);
	lp.n_streams = 2;
	assert_int_equal(mr_session_leg_add(F.s, c, &lp, &l), 0);
	plain_call("more", -ENOSPC);
	mr_session_stats(F.s, &st);
	assert_int_equal(st.calls, 1);
	assert_int_equal(st.ports_used, 2);
	assert_int_equal(active_slots(), 2);
	/* Bad parameters: unknown interface, plain without pstn, bad tag. */
	lp.iface = "nope";
	lp.tag = "y";
	assert_int_equal(mr_session_leg_add(F.s, c, &lp, &l), -ENODEV);
	stop();
}

static void
test_bad_params(void **state)
{
	struct mr_stream_params sp = { 0 };
	struct mr_leg_params lp = { .tag = "t", .n_streams = 1, .streams = &sp };
	struct mr_call *c;
	struct mr_leg *l;

	(void)state;
	start(NULL, 30000, 30099, NULL);
	assert_int_equal(mr_session_call_new(F.s, "p", mr_now_ms(), &c), 0);
	/* Plain RTP only on a PSTN leg: encryption is mandatory. */
	assert_int_equal(mr_session_leg_add(F.s, c, &lp, &l), -EINVAL);
	sp.family = MR_AF_INET6;        /* the interface has no IPv6 */
	sp.pstn = true;
	assert_int_equal(mr_session_leg_add(F.s, c, &lp, &l), -ENODEV);
	sp.family = 0;
	lp.n_streams = 0;
	assert_int_equal(mr_session_leg_add(F.s, c, &lp, &l), -EINVAL);
	lp.n_streams = 1;
	lp.tag = "";
	assert_int_equal(mr_session_leg_add(F.s, c, &lp, &l), -EINVAL);
	assert_int_equal(active_slots(), 0);
	stop();
}

/*
 * Plain RTP only on an interface the operator marked pstn, whatever the
 * caller (a front-end, the admin socket) says: refused before anything
 * is taken; a keyed leg is fine there.
 */
static void
test_plain_needs_pstn_iface(void **state)
{
	struct mr_stream_params sp = { .pstn = true };
	struct mr_leg_params lp = { .tag = "t", .n_streams = 1, .streams = &sp };
	struct mr_session_stats st;
	struct mr_stream_info si;
	struct mr_call *c;
	struct mr_leg *l;

	(void)state;
	F.not_pstn = true;
	start(NULL, 30000, 30099, NULL);
	assert_int_equal(mr_session_call_new(F.s, "p", mr_now_ms(), &c), 0);
	assert_int_equal(mr_session_leg_add(F.s, c, &lp, &l), -EPERM);
	sp.suite = MR_SUITE_AES_CM_128_HMAC_SHA1_80;   /* keyed, but flagged plain-allowed */
	assert_int_equal(mr_session_leg_add(F.s, c, &lp, &l), -EPERM);
	mr_session_stats(F.s, &st);
	assert_int_equal(st.legs, 0);
	assert_int_equal(st.ports_used, 0);
	assert_int_equal(active_slots(), 0);
	sp.pstn = false;
	assert_int_equal(mr_session_leg_add(F.s, c, &lp, &l), 0);
	assert_int_equal(mr_session_stream_info(F.s, l, 0, &si), 0);
	assert_int_equal(mr_shm_slot(F.r.hdr, si.slot)->flags & MR_LEG_F_PSTN, 0);
	stop();
}

/* Read a whole file into a malloc'd buffer. */
static char *
slurp(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*ret_len = (size_t)n;
	return buf;
}

static bool
contains(const char *hay, size_t len, const void *needle, size_t nlen)
{
	return memmem(hay, len, needle, nlen) != NULL;
}

/* An SRTP call, a restart, the same call; keys in the region, never the journal. */
static void
test_journal_roundtrip_no_keys(void **state)
{
	struct mr_sdes_crypto in, out;
	struct mr_stream_params sp = { .suite = MR_SUITE_AES_CM_128_HMAC_SHA1_80 };
	struct mr_leg_params lp = { .tag = "caller", .n_streams = 1, .streams = &sp };
	struct mr_session_recovery rec;
	struct mr_stream_info si;
	struct mr_call *c;
	struct mr_leg *l;
	char path[256], hex[2 * 30 + 1], line[MR_SDES_LINE_MAX];
	size_t len, i, ll;
	char *j;
	uint32_t slot;

	(void)state;
	start(NULL, 30000, 30099, NULL);
	assert_int_equal(mr_sdes_generate(MR_SUITE_AES_CM_128_HMAC_SHA1_80, 1, &in), 0);
	sp.in_key = &in;
	assert_int_equal(mr_session_call_new(F.s, "srtp call", mr_now_ms(), &c), 0);
	assert_int_equal(mr_session_leg_add(F.s, c, &lp, &l), 0);
	assert_int_equal(mr_session_stream_out_key(F.s, l, 0, &out), 0);
	assert_int_equal(out.suite, MR_SUITE_AES_CM_128_HMAC_SHA1_80);
	slot = l->streams[0].slot;
	assert_memory_equal(mr_shm_slot(F.r.hdr, slot)->crypto_in.gen[0].key, in.key, in.key_len);
	stop();

	/* The journal: no key, no salt, in raw bytes, hex or SDES base64. */
	snprintf(path, sizeof(path), "%s/journal", F.tmp.dir);
	j = slurp(path, &len);
	assert_non_null(strstr(j, "srtp%20call"));
	for (i = 0; i < 2; i++) {
		const struct mr_sdes_crypto *k = i == 0 ? &in : &out;
		size_t b;

		assert_false(contains(j, len, k->key, k->key_len));
		assert_false(contains(j, len, k->salt, k->salt_len));
		for (b = 0; b < k->key_len; b++)
			snprintf(hex + 2 * b, 3, "%02x", k->key[b]);
		assert_false(contains(j, len, hex, 2 * k->key_len));
		assert_int_equal(mr_sdes_print(k, 0, line, sizeof(line), &ll), 0);
		assert_non_null(strstr(line, "inline:"));
		assert_false(contains(j, len, strstr(line, "inline:") + 7, 40));
	}
	free(j);

	/* Restart: the call is back, same slot, key untouched. */
	start(NULL, 30000, 30099, &rec);
	assert_int_equal(rec.calls, 1);
	assert_int_equal(rec.calls_lost + rec.slots_repaired + rec.slots_swept + rec.journal_bad, 0);
	c = mr_session_call_get(F.s, "srtp call");
	assert_non_null(c);
	l = mr_session_leg_get(c, "caller");
	assert_non_null(l);
	assert_int_equal(mr_session_stream_info(F.s, l, 0, &si), 0);
	assert_int_equal(si.slot, slot);
	assert_int_equal(si.in_suite, MR_SUITE_AES_CM_128_HMAC_SHA1_80);
	mr_sdes_wipe(&in);
	assert_int_equal(mr_session_stream_out_key(F.s, l, 0, &in), 0);
	assert_memory_equal(in.key, out.key, out.key_len);
	/* The recovered port is taken: the next call gets another. */
	plain_call("next", 0);
	assert_int_equal(mr_session_call_end(F.s, c, MR_END_DELETED), 0);
	assert_int_equal(mr_shm_slot(F.r.hdr, slot)->state, MR_LEG_FREE);
	assert_int_equal(mr_shm_slot(F.r.hdr, slot)->crypto_out.gen[0].suite, 0);
	mr_sdes_wipe(&in);
	mr_sdes_wipe(&out);
	stop();
}

/* Recovery: a torn slot ends its call; an unjournaled slot of a known call
 * is swept; a foreign slot is left alone; bad journal lines are skipped. */
static void
test_recovery_repairs(void **state)
{
	struct mr_session_recovery rec;
	struct mr_leg_slot extra;
	struct mr_call *c1, *c2;
	uint32_t torn, tag2;
	char path[256];
	FILE *f;

	(void)state;
	start(NULL, 30000, 30099, NULL);
	c1 = plain_call("one", 0);
	c2 = plain_call("two", 0);
	torn = mr_session_leg_at(c1, 0)->streams[0].slot;
	tag2 = (uint32_t)c2->tag;
	/* A slot written with call two's tag but never journaled (a crash
	 * between the two), and one of nobody's. */
	memset(&extra, 0, sizeof(extra));
	extra.call_tag = c2->tag;
	extra.latch = MR_LATCH_FIRST;
	extra.flags = MR_LEG_F_PSTN;
	extra.egress_slot = MR_LEG_NONE;
	extra.local.family = MR_AF_INET;
	inet_pton(AF_INET, "198.18.0.2", extra.local.ip);
	extra.local.port_be = htons(30050);
	assert_int_equal(mr_region_leg_write(&F.r, 40, &extra), 0);
	extra.call_tag = 12345;
	assert_int_equal(mr_region_leg_write(&F.r, 41, &extra), 0);
	(void)tag2;
	stop();
	/* A writer that died mid-write of call one's first slot. */
	mr_shm_slot(F.r.hdr, torn)->seq |= 1u;
	snprintf(path, sizeof(path), "%s/journal", F.tmp.dir);
	f = fopen(path, "a");
	assert_non_null(f);
	fputs("X garbage\nS 1 0 0 0 0 30000\nC 99999999999999999999 1 x\nD 7", f);
	fclose(f);

	start(NULL, 30000, 30099, &rec);
	assert_int_equal(rec.calls, 1);
	assert_int_equal(rec.calls_lost, 1);
	assert_int_equal(rec.slots_repaired, 1);
	assert_int_equal(rec.slots_swept, 1);
	assert_int_equal(rec.slots_foreign, 1);
	assert_int_equal(rec.journal_bad, 4);
	assert_non_null(strstr(rec.journal_err, "unknown record type"));
	assert_null(mr_session_call_get(F.s, "one"));
	assert_non_null(mr_session_call_get(F.s, "two"));
	assert_int_equal(mr_shm_slot(F.r.hdr, 40)->state, MR_LEG_FREE);
	assert_int_equal(mr_shm_slot(F.r.hdr, 41)->state, MR_LEG_ACTIVE);
	assert_int_equal(active_slots(), 3);
	/* The foreign slot is never handed out. */
	for (unsigned int i = 0; i < 20; i++) {
		char id[16];

		snprintf(id, sizeof(id), "fill%u", i);
		plain_call(id, 0);
	}
	assert_int_equal(mr_shm_slot(F.r.hdr, 41)->call_tag, 12345);
	stop();
}

static uint64_t
last_tick_cb_count;

static void
count_end(const struct mr_call *c, enum mr_end_reason why, void *ctx)
{
	(void)c;
	*(enum mr_end_reason *)ctx = why;
	last_tick_cb_count++;
}

static void
test_timers(void **state)
{
	struct mr_session_timeouts t = { .offer_ms = 1000, .call_max_ms = 5000, .media_idle_ms = 3000 };
	struct mr_session_limits l = { 0 };
	struct mr_stream_params sp = { .pstn = true };
	struct mr_leg_params lp = { .tag = "a", .n_streams = 1, .streams = &sp };
	enum mr_end_reason why = MR_END_MAX;
	struct mr_event ev;
	const struct mr_call *ec;
	struct mr_call *c;
	struct mr_leg *leg;
	uint64_t now;

	(void)state;
	start(NULL, 30000, 30099, NULL);
	mr_session_set_policy(F.s, &l, &t);
	now = mr_now_ms();
	/* Offered, never paired. */
	assert_int_equal(mr_session_call_new(F.s, "unanswered", now, &c), 0);
	assert_int_equal(mr_session_leg_add(F.s, c, &lp, &leg), 0);
	assert_int_equal(mr_session_tick(F.s, now + 999, count_end, &why), 0);
	assert_int_equal(mr_session_tick(F.s, now + 1000, count_end, &why), 1);
	assert_int_equal(why, MR_END_OFFER_TIMEOUT);
	assert_int_equal(active_slots(), 0);
	/* Paired, silent: media idle (no counters move here). */
	c = plain_call("quiet", 0);
	now = c->paired_ms;
	assert_int_equal(mr_session_tick(F.s, now + 2999, count_end, &why), 0);
	/* An idle event of a stream: stale uid is ignored, the real one ends it. */
	memset(&ev, 0, sizeof(ev));
	ev.type = MR_EV_IDLE;
	ev.slot = mr_session_leg_at(c, 0)->streams[0].slot;
	ev.leg_uid = 999999;
	assert_int_equal(mr_session_event(F.s, &ev, now + 3000, count_end, &why, &ec), -ENOENT);
	ev.leg_uid = mr_session_leg_at(c, 0)->streams[0].leg_uid;
	assert_int_equal(mr_session_event(F.s, &ev, now + 3000, count_end, &why, &ec), 0);
	assert_null(ec);
	assert_int_equal(why, MR_END_MEDIA_IDLE);
	assert_null(mr_session_call_get(F.s, "quiet"));
	/* Hard limit, even with media: counters say media just came. */
	t.media_idle_ms = 0;
	mr_session_set_policy(F.s, &l, &t);
	c = plain_call("long", 0);
	assert_int_equal(mr_session_tick(F.s, c->created_ms + 4999, count_end, &why), 0);
	assert_int_equal(mr_session_tick(F.s, c->created_ms + 5000, count_end, &why), 1);
	assert_int_equal(why, MR_END_CALL_LIMIT);
	stop();
}

/* ---- key changes (make-before-break) ------------------------------------------------- */

static const struct mr_crypto_dir *
crypto_in(const struct mr_leg *l)
{
	return &mr_shm_slot(F.r.hdr, l->streams[0].slot)->crypto_in;
}

static bool
gen_holds(const struct mr_key_gen *g, const struct mr_sdes_crypto *k)
{
	return g->suite == k->suite && g->key_len == k->key_len &&
	       memcmp(g->key, k->key, k->key_len) == 0 && memcmp(g->salt, k->salt, k->salt_len) == 0;
}

static bool
gen_wiped(const struct mr_key_gen *g)
{
	static const struct mr_key_gen zero;

	return memcmp(g, &zero, sizeof(zero)) == 0;
}

static uint32_t
slot_gen(const struct mr_leg *l)
{
	return mr_shm_slot(F.r.hdr, l->streams[0].slot)->generation;
}

/* One SRTP call: a (keyed by its offer) and b (keyed by its answer), paired. */
static struct mr_call *
srtp_call(const char *id, const struct mr_sdes_crypto *ka, const struct mr_sdes_crypto *kb,
	  struct mr_leg **ret_a, struct mr_leg **ret_b)
{
	struct mr_stream_params sa = { .suite = MR_SUITE_AES_CM_128_HMAC_SHA1_80, .in_key = ka };
	struct mr_stream_params sb = { .suite = MR_SUITE_AES_CM_128_HMAC_SHA1_80 };
	struct mr_leg_params pa = { .tag = "a", .n_streams = 1, .streams = &sa };
	struct mr_leg_params pb = { .tag = "b", .n_streams = 1, .streams = &sb };
	struct mr_call *c;

	assert_int_equal(mr_session_call_new(F.s, id, mr_now_ms(), &c), 0);
	assert_int_equal(mr_session_leg_add(F.s, c, &pa, ret_a), 0);
	assert_int_equal(mr_session_leg_add(F.s, c, &pb, ret_b), 0);
	assert_int_equal(mr_session_stream_set_in_key(F.s, *ret_b, 0, kb), 0);
	assert_int_equal(mr_session_pair(F.s, *ret_a, *ret_b), 0);
	return c;
}

/*
 * RFC 4568 section 7.1.4: a peer that re-offers a new key keeps sending
 * with the old one until the answer. Both stay in the slot until then, and
 * old_key_ms after it; the same key writes nothing; a change that never
 * completed is replaced or withdrawn, never the key in use.
 */
static void
test_key_change(void **state)
{
	struct mr_sdes_crypto k1, k2, k3, k4, kb;
	const struct mr_crypto_dir *d;
	struct mr_stream_info si;
	struct mr_call *c;
	struct mr_leg *a, *b;
	uint32_t gen_a, gen_b, seq_a;
	uint64_t now;

	(void)state;
	F.t.old_key_ms = 5000;
	start(NULL, 30000, 30099, NULL);
	assert_int_equal(mr_sdes_generate(MR_SUITE_AES_CM_128_HMAC_SHA1_80, 1, &k1), 0);
	assert_int_equal(mr_sdes_generate(MR_SUITE_AES_CM_128_HMAC_SHA1_80, 1, &k2), 0);
	assert_int_equal(mr_sdes_generate(MR_SUITE_AES_CM_128_HMAC_SHA1_80, 1, &k3), 0);
	assert_int_equal(mr_sdes_generate(MR_SUITE_AES_CM_128_HMAC_SHA1_80, 1, &k4), 0);
	assert_int_equal(mr_sdes_generate(MR_SUITE_AES_CM_128_HMAC_SHA1_80, 1, &kb), 0);
	c = srtp_call("rekey", &k1, &kb, &a, &b);
	d = crypto_in(a);
	assert_true(gen_holds(&d->gen[0], &k1));
	assert_true(gen_wiped(&d->gen[1]));
	assert_int_equal(d->active, 0);
	assert_int_equal(d->cp_flags, 0);
	/* The callee's first key, from its answer: in use at once. */
	assert_true(gen_holds(&crypto_in(b)->gen[0], &kb));
	assert_int_equal(crypto_in(b)->cp_flags, 0);

	/* Hold/resume re-offer with the same key: the slot is not written. */
	gen_a = slot_gen(a);
	seq_a = mr_shm_slot(F.r.hdr, a->streams[0].slot)->seq;
	assert_int_equal(mr_session_stream_set_in_key(F.s, a, 0, &k1), 0);
	assert_int_equal(slot_gen(a), gen_a);
	assert_int_equal(mr_shm_slot(F.r.hdr, a->streams[0].slot)->seq, seq_a);

	/* Re-offer with k2: beside k1, pending; both accepted. */
	assert_int_equal(mr_session_stream_set_in_key(F.s, a, 0, &k2), 0);
	assert_int_equal(slot_gen(a), gen_a + 1);
	assert_true(gen_holds(&d->gen[0], &k1));
	assert_true(gen_holds(&d->gen[1], &k2));
	assert_int_equal(d->active, 1);
	assert_int_equal(d->cp_flags, MR_CRYPTO_CP_PENDING);
	assert_int_equal(mr_session_stream_info(F.s, a, 0, &si), 0);
	assert_int_equal(si.in_suite, MR_SUITE_AES_CM_128_HMAC_SHA1_80);
	/* Its retransmission: nothing written. */
	assert_int_equal(mr_session_stream_set_in_key(F.s, a, 0, &k2), 0);
	assert_int_equal(slot_gen(a), gen_a + 1);
	assert_int_equal(a->streams[0].retire_ms, 0);

	/* The answer (pair again): k2 in use, k1 retiring; b had no change and
	 * is not written. */
	gen_b = slot_gen(b);
	now = mr_now_ms();
	assert_int_equal(mr_session_pair(F.s, a, b), 0);
	assert_int_equal(slot_gen(b), gen_b);
	assert_int_equal(d->cp_flags, 0);
	assert_true(gen_holds(&d->gen[0], &k1));
	assert_true(gen_holds(&d->gen[1], &k2));
	assert_true(a->streams[0].retire_ms >= now + 5000);
	assert_true(a->streams[0].retire_ms <= mr_now_ms() + 5000);
	assert_int_equal(F.s->n_retiring, 1);
	/* Grace: k1 stays; then it is wiped, k2 stays. */
	assert_int_equal(mr_session_tick(F.s, a->streams[0].retire_ms - 1, NULL, NULL), 0);
	assert_true(gen_holds(&d->gen[0], &k1));
	assert_int_equal(mr_session_tick(F.s, a->streams[0].retire_ms, NULL, NULL), 0);
	assert_true(gen_wiped(&d->gen[0]));
	assert_true(gen_holds(&d->gen[1], &k2));
	assert_int_equal(d->active, 1);
	assert_int_equal(a->streams[0].retire_ms, 0);
	assert_int_equal(F.s->n_retiring, 0);

	/* A re-offer of k3 that is refused (no answer), then one of k4: k4
	 * replaces k3, never k2, which the peer still sends with. */
	assert_int_equal(mr_session_stream_set_in_key(F.s, a, 0, &k3), 0);
	assert_true(gen_holds(&d->gen[0], &k3));
	assert_int_equal(d->active, 0);
	assert_int_equal(mr_session_stream_set_in_key(F.s, a, 0, &k4), 0);
	assert_true(gen_holds(&d->gen[0], &k4));
	assert_true(gen_holds(&d->gen[1], &k2));
	assert_int_equal(d->cp_flags, MR_CRYPTO_CP_PENDING);
	/* ... and one back with k2, the key in use: the pending one goes. */
	assert_int_equal(mr_session_stream_set_in_key(F.s, a, 0, &k2), 0);
	assert_true(gen_wiped(&d->gen[0]));
	assert_true(gen_holds(&d->gen[1], &k2));
	assert_int_equal(d->active, 1);
	assert_int_equal(d->cp_flags, 0);

	/* Back to a retiring key: it is pending again, the timer stops. */
	assert_int_equal(mr_session_stream_set_in_key(F.s, a, 0, &k3), 0);
	assert_int_equal(mr_session_pair(F.s, a, b), 0);
	assert_int_equal(F.s->n_retiring, 1);
	assert_int_equal(mr_session_stream_set_in_key(F.s, a, 0, &k2), 0);
	assert_int_equal(F.s->n_retiring, 0);
	assert_int_equal(d->active, 1);
	assert_int_equal(d->cp_flags, MR_CRYPTO_CP_PENDING);
	assert_true(gen_holds(&d->gen[0], &k3));
	assert_true(gen_holds(&d->gen[1], &k2));
	assert_int_equal(mr_session_pair(F.s, a, b), 0);
	assert_int_equal(F.s->n_retiring, 1);
	(void)c;
	/* Ending the call stops its timers. */
	assert_int_equal(mr_session_call_end(F.s, c, MR_END_DELETED), 0);
	assert_int_equal(F.s->n_retiring, 0);
	stop();
	mr_sdes_wipe(&k1);
	mr_sdes_wipe(&k2);
	mr_sdes_wipe(&k3);
	mr_sdes_wipe(&k4);
	mr_sdes_wipe(&kb);
}

/* Key changes survive a restart of the control side: pending or retiring,
 * both generations stay in the slot, and recovery knows which is which. */
static void
test_key_change_recovery(void **state)
{
	struct mr_sdes_crypto k1, k2, k3, kb;
	struct mr_session_recovery rec;
	const struct mr_crypto_dir *d;
	struct mr_call *c;
	struct mr_leg *a, *b;
	uint32_t gen_a;
	uint64_t before;

	(void)state;
	F.t.old_key_ms = 5000;
	start(NULL, 30000, 30099, NULL);
	assert_int_equal(mr_sdes_generate(MR_SUITE_AES_CM_128_HMAC_SHA1_80, 1, &k1), 0);
	assert_int_equal(mr_sdes_generate(MR_SUITE_AES_CM_128_HMAC_SHA1_80, 1, &k2), 0);
	assert_int_equal(mr_sdes_generate(MR_SUITE_AES_CM_128_HMAC_SHA1_80, 1, &k3), 0);
	assert_int_equal(mr_sdes_generate(MR_SUITE_AES_CM_128_HMAC_SHA1_80, 1, &kb), 0);
	srtp_call("rekey", &k1, &kb, &a, &b);
	/* Pending at the restart: both kept, no timer; the answer after it
	 * completes the change. */
	assert_int_equal(mr_session_stream_set_in_key(F.s, a, 0, &k2), 0);
	gen_a = slot_gen(a);
	stop();
	start(NULL, 30000, 30099, &rec);
	assert_int_equal(rec.calls, 1);
	assert_int_equal(rec.calls_lost, 0);
	assert_int_equal(rec.slots_repaired, 0);
	c = mr_session_call_get(F.s, "rekey");
	assert_non_null(c);
	a = mr_session_leg_get(c, "a");
	b = mr_session_leg_get(c, "b");
	d = crypto_in(a);
	assert_int_equal(slot_gen(a), gen_a);   /* recovery wrote nothing */
	assert_true(gen_holds(&d->gen[0], &k1));
	assert_true(gen_holds(&d->gen[1], &k2));
	assert_int_equal(d->cp_flags, MR_CRYPTO_CP_PENDING);
	assert_int_equal(a->streams[0].retire_ms, 0);
	assert_int_equal(mr_session_pair(F.s, a, b), 0);
	assert_int_equal(F.s->n_retiring, 1);

	/* Retiring at the restart: a full grace from the restart. */
	stop();
	before = mr_now_ms();
	start(NULL, 30000, 30099, &rec);
	assert_int_equal(rec.calls, 1);
	c = mr_session_call_get(F.s, "rekey");
	a = mr_session_leg_get(c, "a");
	b = mr_session_leg_get(c, "b");
	d = crypto_in(a);
	assert_int_equal(F.s->n_retiring, 1);
	assert_true(a->streams[0].retire_ms >= before + 5000);
	assert_int_equal(d->cp_flags, 0);
	/* A change now replaces the retiring key, not the one in use. */
	assert_int_equal(mr_session_stream_set_in_key(F.s, a, 0, &k3), 0);
	assert_true(gen_holds(&d->gen[0], &k3));
	assert_true(gen_holds(&d->gen[1], &k2));
	assert_int_equal(F.s->n_retiring, 0);
	stop();
	mr_sdes_wipe(&k1);
	mr_sdes_wipe(&k2);
	mr_sdes_wipe(&k3);
	mr_sdes_wipe(&kb);
}

static void
test_jrec_codec(void **state)
{
	static const char *const bad[] = {
		"", "C", "C 0 1 x", "C 1 1", "C 1 1 a b", "C 01 1 x", "C 1 1 %zz", "C 1 1 %00",
		"C 1 1 a\tb", "C 1 1 x ", " C 1 1 x", "C  1 1 x", "L 1 0 wan", "S 1 0 0 0 1 30001",
		"S 1 0 0 0 0 30000", "S 1 0 0 0 1 0", "S 1 0 0 4294967295 1 30000",
		"S 1 0 0 0 1 65536", "D 18446744073709551616", "Z 1", "DD 1",
		"N 1", "N 1 a b", "N 0 a", "N 1 %00",
	};
	struct mr_jrec r, back;
	char buf[MR_JOURNAL_LINE_MAX];
	const char *why;
	size_t i;
	int n;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.type = MR_JREC_LEG;
	r.call_tag = 42;
	r.leg = 1;
	snprintf(r.iface, sizeof(r.iface), "wan");
	snprintf(r.text, sizeof(r.text), "tag with spaces %%\n\x7f\xff!");
	n = mr_jrec_format(&r, buf, sizeof(buf));
	assert_true(n > 0);
	assert_string_equal(buf, "L 42 1 wan tag%20with%20spaces%20%25%0A%7F%FF!\n");
	assert_int_equal(mr_jrec_parse(buf, (size_t)n - 1, &back, &why), 0);
	assert_string_equal(back.text, r.text);
	assert_int_equal(back.leg, 1);
	r.type = MR_JREC_STREAM;
	r.slot = 7;
	r.leg_uid = 18446744073709551615ull;
	r.rtp_port = 65534;
	n = mr_jrec_format(&r, buf, sizeof(buf));
	assert_string_equal(buf, "S 42 1 0 7 18446744073709551615 65534\n");
	assert_int_equal(mr_jrec_parse(buf, (size_t)n - 1, &back, &why), 0);
	assert_int_equal(back.leg_uid, r.leg_uid);
	r.rtp_port = 3;
	assert_int_equal(mr_jrec_format(&r, buf, sizeof(buf)), -EINVAL);
	r.type = MR_JREC_NOTE;
	assert_int_equal(mr_jrec_format(&r, buf, sizeof(buf)), -EINVAL);  /* empty note */
	snprintf(r.note, sizeof(r.note), "1,2 x");
	n = mr_jrec_format(&r, buf, sizeof(buf));
	assert_string_equal(buf, "N 42 1,2%20x\n");
	assert_int_equal(mr_jrec_parse(buf, (size_t)n - 1, &back, &why), 0);
	assert_string_equal(back.note, "1,2 x");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		if (mr_jrec_parse(bad[i], strlen(bad[i]), &back, &why) != -EINVAL)
			fail_msg("accepted '%s'", bad[i]);
		assert_non_null(why);
	}
}

static void
test_journal_version(void **state)
{
	struct mr_session_recovery rec;
	struct mr_session *s;
	char path[256], err[512];
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/journal", F.tmp.dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("mrelay-cp-journal 3\n", f);
	fclose(f);
	memset(&F.iface, 0, sizeof(F.iface));
	snprintf(F.iface.name, sizeof(F.iface.name), "wan");
	F.iface.local4.family = MR_AF_INET;
	F.iface.port_min = 30000;
	F.iface.port_max = 30099;
	F.p = (struct mr_session_params){ .ifaces = &F.iface, .n_ifaces = 1, .state_dir = F.tmp.dir };
	assert_int_equal(mr_session_new(&F.p, &F.r, &s, &rec, err, sizeof(err)), -ENOLCK);
	assert_int_equal(mr_region_lock(&F.r), 0);
	assert_int_equal(mr_session_new(&F.p, &F.r, &s, &rec, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "not an mrelay-cp journal of version 1..2"));
	mr_region_unlock(&F.r);
}

/*
 * Notes: journaled, the last one wins on replay, kept by compaction and
 * rewritten; a version-1 journal (no N records) is read and rewritten as
 * version 2; N records are refused in a version-1 file.
 */
static void
test_journal_notes(void **state)
{
	struct mr_session_recovery rec;
	struct mr_call *c;
	char path[256], big[MR_SESSION_NOTE_MAX + 2];
	size_t len;
	char *j;
	FILE *f;

	(void)state;
	start(NULL, 30000, 30099, NULL);
	c = plain_call("noted", 0);
	assert_null(mr_session_call_note(c));
	assert_int_equal(mr_session_call_set_note(F.s, c, "first note"), 0);
	assert_int_equal(mr_session_call_set_note(F.s, c, "second,note"), 0);
	assert_int_equal(mr_session_call_set_note(F.s, c, ""), -EINVAL);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(mr_session_call_set_note(F.s, c, big), -EINVAL);
	big[MR_SESSION_NOTE_MAX] = '\0';        /* the longest, all escaped: still one line */
	memset(big, ' ', MR_SESSION_NOTE_MAX);
	assert_int_equal(mr_session_call_set_note(F.s, c, big), 0);
	assert_int_equal(mr_session_call_set_note(F.s, c, "second,note"), 0);
	assert_string_equal(mr_session_call_note(c), "second,note");
	plain_call("plain", 0);
	stop();
	snprintf(path, sizeof(path), "%s/journal", F.tmp.dir);
	j = slurp(path, &len);
	assert_non_null(strstr(j, "mrelay-cp-journal 2\n"));
	assert_non_null(strstr(j, "first%20note"));
	free(j);

	start(NULL, 30000, 30099, &rec);
	assert_int_equal(rec.calls, 2);
	assert_int_equal(rec.journal_bad, 0);
	c = mr_session_call_get(F.s, "noted");
	assert_non_null(c);
	assert_string_equal(mr_session_call_note(c), "second,note");
	assert_null(mr_session_call_note(mr_session_call_get(F.s, "plain")));
	{
		struct mr_session_stats st;

		mr_session_stats(F.s, &st);
		assert_int_equal(st.journal_live, st.journal_records);
	}
	stop();
	/* Compacted at start: one N record left. */
	j = slurp(path, &len);
	assert_null(strstr(j, "first%20note"));
	assert_non_null(strstr(j, "second,note"));
	free(j);

	/* A version-1 journal: read, then rewritten as version 2. */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("mrelay-cp-journal 1\nC 5 1 old%20call\nD 5\n", f);
	fclose(f);
	start(NULL, 30000, 30099, &rec);
	assert_int_equal(rec.journal_bad, 0);
	stop();
	j = slurp(path, &len);
	assert_non_null(strstr(j, "mrelay-cp-journal 2\n"));
	free(j);
}

/* The journal layer refuses N records in a version-1 file. */
static void
test_journal_v1_no_notes(void **state)
{
	struct mr_journal *j;
	struct mr_jrec r = { .type = MR_JREC_NOTE, .call_tag = 7 };
	char path[256], err[256];
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/journal", F.tmp.dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("mrelay-cp-journal 1\n", f);
	fclose(f);
	assert_int_equal(mr_journal_open(F.tmp.dir, &j, err, sizeof(err)), 0);
	assert_int_equal(mr_journal_version(j), 1);
	snprintf(r.note, sizeof(r.note), "n");
	assert_int_equal(mr_journal_append(j, &r, 1), -EPROTO);
	assert_int_equal(mr_journal_rewrite_begin(j), 0);
	assert_int_equal(mr_journal_rewrite_commit(j), 0);
	assert_int_equal(mr_journal_version(j), 2);
	assert_int_equal(mr_journal_append(j, &r, 1), 0);
	mr_journal_close(j);
}

/* 10,000 calls made and ended: nothing left anywhere, journal compacted. */
static void
test_churn(void **state)
{
	struct mr_session_stats st;
	char id[32];
	unsigned int i;

	(void)state;
	start(NULL, 30000, 30099, NULL);
	for (i = 0; i < 10000; i++) {
		struct mr_call *c;

		snprintf(id, sizeof(id), "churn-%u", i);
		c = plain_call(id, 0);
		assert_int_equal(mr_session_call_end(F.s, c, MR_END_DELETED), 0);
	}
	mr_session_stats(F.s, &st);
	assert_int_equal(st.calls + st.legs + st.ports_used, 0);
	assert_int_equal(st.slots_free, LEGS);
	assert_int_equal(st.journal_live, 0);
	assert_true(st.journal_records <= 2 * st.journal_live + 1024 + 8);
	assert_int_equal(active_slots(), 0);
	stop();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_port_exhaustion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_params, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plain_needs_pstn_iface, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_roundtrip_no_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recovery_repairs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_change_recovery, setup, teardown),
		cmocka_unit_test(test_jrec_codec),
		cmocka_unit_test_setup_teardown(test_journal_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_notes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_v1_no_notes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_churn, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
