/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mrelayctl leg add|set|pair|del|list.
 *
 * A request is validated whole before anything is written: first what can be
 * checked from the arguments alone, then, under the writer lock, what depends
 * on the region (slot free, egress active, local address+ports unused). On
 * any error nothing has changed, except that taking the lock repairs slots a
 * dead writer left torn.
 *
 * SRTP keys: never printed, not even in part, not even in errors (which
 * therefore never quote a key option's value, or an argument of a command
 * that carries keys). Every copy this process makes is wiped: the option's
 * text in argv once decoded, and struct leg_opts and the slot copies when
 * the command ends.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "base64.h"
#include "ctl.h"
#include "sdes.h"

/* Options given on the command line (struct leg_opts.given). */
enum {
	OPT_LOCAL = 1u << 0,
	OPT_RTCP_PORT = 1u << 1,
	OPT_RTCP_MUX = 1u << 2,
	OPT_PEER = 1u << 3,
	OPT_PEER_RTCP = 1u << 4,
	OPT_EGRESS = 1u << 5,
	OPT_LATCH = 1u << 6,
	OPT_MUTED = 1u << 7,
	OPT_NO_MUTED = 1u << 8,
	OPT_PSTN = 1u << 9,
	OPT_NO_PSTN = 1u << 10,
	OPT_SLOT = 1u << 11,
	OPT_LATCH_WINDOW = 1u << 12,
	OPT_RELATCH_IDLE = 1u << 13,
	OPT_IDLE_TIMEOUT = 1u << 14,
	OPT_DSCP = 1u << 15,
	OPT_CALL_TAG = 1u << 16,
	OPT_IN_KEY = 1u << 17,
	OPT_OUT_KEY = 1u << 18,
	OPT_NO_IN_KEY = 1u << 19,
	OPT_NO_OUT_KEY = 1u << 20,
	OPT_OUT_ACTIVE = 1u << 21,
	OPT_ICE = 1u << 22,
	OPT_NO_ICE = 1u << 23,
};

/* Options whose values are (or, mistyped, may be) key material. */
#define OPT_KEYS (OPT_IN_KEY | OPT_OUT_KEY | OPT_NO_IN_KEY | OPT_NO_OUT_KEY | OPT_OUT_ACTIVE | \
		  OPT_ICE)

/* Options that move the leg's local ports, and so need a clash check. */
#define OPT_PORTS (OPT_LOCAL | OPT_RTCP_PORT | OPT_RTCP_MUX)

static const struct option leg_longopts[] = {
	{ "local", required_argument, NULL, 'L' },
	{ "rtcp-port", required_argument, NULL, 'R' },
	{ "rtcp-mux", no_argument, NULL, 'M' },
	{ "peer", required_argument, NULL, 'P' },
	{ "peer-rtcp", required_argument, NULL, 'Q' },
	{ "egress", required_argument, NULL, 'E' },
	{ "latch", required_argument, NULL, 'l' },
	{ "muted", no_argument, NULL, 'm' },
	{ "no-muted", no_argument, NULL, 'u' },
	{ "pstn", no_argument, NULL, 'p' },
	{ "no-pstn", no_argument, NULL, 'n' },
	{ "slot", required_argument, NULL, 's' },
	{ "latch-window-ms", required_argument, NULL, 'w' },
	{ "relatch-idle-ms", required_argument, NULL, 'r' },
	{ "idle-timeout-ms", required_argument, NULL, 'i' },
	{ "dscp", required_argument, NULL, 'd' },
	{ "call-tag", required_argument, NULL, 't' },
	{ "in-key", required_argument, NULL, 'K' },
	{ "out-key", required_argument, NULL, 'O' },
	{ "no-in-key", required_argument, NULL, 'k' },
	{ "no-out-key", required_argument, NULL, 'o' },
	{ "out-active", required_argument, NULL, 'a' },
	{ "ice", required_argument, NULL, 'I' },
	{ "no-ice", no_argument, NULL, 'N' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/*
 * Key options of one direction. Holds key material: whoever owns a struct
 * leg_opts wipes it (explicit_bzero) when done.
 */
struct key_opts {
	uint8_t set;                    /* generations given a key (bit g) */
	uint8_t wipe;                   /* generations to wipe (bit g) */
	struct mr_key_gen gen[2];
};

struct leg_opts {
	uint32_t given;                 /* OPT_* */
	bool help;
	struct mr_sockaddr local, peer, peer_rtcp;
	uint32_t rtcp_port;
	uint32_t egress;                /* MR_LEG_NONE for "none" */
	uint32_t slot;
	uint32_t latch_window_ms, relatch_idle_ms, idle_timeout_ms;
	uint32_t latch;                 /* enum mr_latch_policy */
	uint32_t dscp;
	uint64_t call_tag;
	struct key_opts in, out;
	uint32_t out_active;
	struct mr_ice ice;              /* --ice; the password is wiped with the keys */
};

/* An SRTP suite as SDES names it, with its master key and salt lengths in
 * bytes (sdes.h). */
struct key_suite {
	const char *name;
	uint8_t suite;                  /* enum mr_srtp_suite */
	uint8_t key_len;
	uint8_t salt_len;
};

#define KEY_SUITE_NAMES "AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32, " \
	"AES_256_CM_HMAC_SHA1_80, AES_256_CM_HMAC_SHA1_32, AEAD_AES_128_GCM or AEAD_AES_256_GCM"
#define KEY_SYNTAX "[GEN:]SUITE:BASE64[:MKI:MKILEN]"

/* A part of an option's value: not NUL-terminated. */
struct span {
	const char *p;
	size_t n;
};

/*
 * The suite named @name into @ret; false if there is none. Exactly as
 * written: mrelayctl's key options are case-sensitive, where an SDES line
 * is not.
 */
static bool
key_suite_by_name(struct span name, struct key_suite *ret)
{
	enum mr_srtp_suite suite = mr_sdes_suite_from_name(name.p, name.n);
	const char *canon = mr_sdes_suite_name(suite);

	if (canon == NULL || memcmp(canon, name.p, name.n) != 0)
		return false;
	ret->name = canon;
	ret->suite = (uint8_t)suite;
	return mr_sdes_suite_lengths(suite, &ret->key_len, &ret->salt_len);
}

/* Strict decimal, as mr_ctl_parse_u64() but silent (the caller words the
 * error without quoting what may be a key). */
static bool
span_u64(struct span s, uint64_t *ret)
{
	uint64_t v = 0;
	size_t i;

	if (s.n == 0)
		return false;
	for (i = 0; i < s.n; i++) {
		unsigned int d = (unsigned int)(s.p[i] - '0');

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*ret = v;
	return true;
}

/* A key generation, 0 or 1; prints (without quoting @s) and returns -EINVAL. */
static int
parse_gen(const char *what, struct span s, uint32_t *ret)
{
	uint64_t v;

	if (!span_u64(s, &v) || v > 1) {
		mr_ctl_err("%s: GEN must be 0 or 1", what);
		return -EINVAL;
	}
	*ret = (uint32_t)v;
	return 0;
}

/*
 * Split @s at its colons into at most @max spans; returns how many, or
 * @max + 1 if there are more.
 */
static size_t
split_colons(const char *s, struct span *ret, size_t max)
{
	size_t n = 0;

	for (;;) {
		const char *colon = strchr(s, ':');

		if (n == max)
			return max + 1;
		ret[n].p = s;
		ret[n].n = colon != NULL ? (size_t)(colon - s) : strlen(s);
		n++;
		if (colon == NULL)
			return n;
		s = colon + 1;
	}
}

/*
 * "[GEN:]SUITE:BASE64[:MKI:MKILEN]" (--in-key, --out-key) into @k->gen[GEN].
 * BASE64 is the SDES inline key||salt (RFC 4568 section 6.1); MKI is the
 * decimal MKI value, stored big-endian in MKILEN (1..8) bytes. Errors never
 * quote @arg: with its fields in the wrong order, any of them may be the key.
 * @arg is wiped on return, so that the key leaves argv (which other users
 * can read in /proc/PID/cmdline) as soon as it can. 0 or -EINVAL (printed).
 */
static int
parse_key(const char *what, char *arg, struct key_opts *k)
{
	uint8_t buf[MR_KEY_MAX_BYTES + MR_SALT_MAX_BYTES];
	struct key_suite ks;
	struct mr_key_gen *g;
	struct span f[5];
	size_t nf, i = 0, j;
	uint64_t mki = 0, mki_len = 0;
	uint32_t gen = 0;
	ssize_t n;
	int err = -EINVAL;

	nf = split_colons(arg, f, 5);
	if (nf < 2 || nf > 5) {
		mr_ctl_err("%s: expected " KEY_SYNTAX, what);
		goto out_wipe;
	}
	/* 3 or 5 fields: GEN first; 4 or 5: MKI:MKILEN last. */
	if ((nf == 3 && key_suite_by_name(f[0], &ks)) ||
	    (nf == 4 && key_suite_by_name(f[1], &ks))) {
		mr_ctl_err("%s: MKI and MKILEN go together (expected " KEY_SYNTAX ")", what);
		goto out_wipe;
	}
	if ((nf == 3 || nf == 5) && parse_gen(what, f[i++], &gen) < 0)
		goto out_wipe;
	if (!key_suite_by_name(f[i], &ks)) {
		mr_ctl_err("%s: unknown suite (expected " KEY_SYNTAX " with SUITE one of "
			   KEY_SUITE_NAMES ")", what);
		goto out_wipe;
	}
	n = mr_base64_len(f[i + 1].p, f[i + 1].n, MR_BASE64_PADDED);
	if (f[i + 1].n == 0) {
		mr_ctl_err("%s: the key is empty", what);
		goto out_wipe;
	}
	if (n == -EILSEQ) {
		mr_ctl_err("%s: the key is not base64 (a character outside A-Z a-z 0-9 + /)", what);
		goto out_wipe;
	}
	if (n < 0) {
		mr_ctl_err("%s: the key is not valid base64 (its length, padding or last digit)",
			   what);
		goto out_wipe;
	}
	if ((size_t)n != (size_t)ks.key_len + ks.salt_len) {
		mr_ctl_err("%s: key is %zd bytes, %s needs %u", what, n, ks.name,
			   (unsigned int)(ks.key_len + ks.salt_len));
		goto out_wipe;
	}
	if (nf >= 4) {
		if (!span_u64(f[nf - 2], &mki)) {
			mr_ctl_err("%s: MKI is not a decimal number", what);
			goto out_wipe;
		}
		if (!span_u64(f[nf - 1], &mki_len) || mki_len < 1 || mki_len > MR_MKI_MAX_BYTES) {
			mr_ctl_err("%s: MKI length must be 1..%u bytes", what, MR_MKI_MAX_BYTES);
			goto out_wipe;
		}
		if (mki_len < 8 && mki >> (8 * mki_len) != 0) {
			mr_ctl_err("%s: MKI %" PRIu64 " does not fit in %" PRIu64 " byte%s",
				   what, mki, mki_len, mki_len == 1 ? "" : "s");
			goto out_wipe;
		}
	}
	if (k->set & (1u << gen)) {
		mr_ctl_err("%s: generation %" PRIu32 " given twice", what, gen);
		goto out_wipe;
	}
	if (mr_base64_decode(f[i + 1].p, f[i + 1].n, MR_BASE64_PADDED, buf, sizeof(buf)) != n) {
		mr_ctl_err("%s: cannot decode the key", what);      /* a bug */
		goto out_wipe;
	}
	g = &k->gen[gen];
	memset(g, 0, sizeof(*g));
	g->suite = ks.suite;
	g->key_len = ks.key_len;
	g->salt_len = ks.salt_len;
	g->mki_len = (uint8_t)mki_len;
	for (j = 0; j < mki_len; j++)
		g->mki[j] = (uint8_t)(mki >> (8 * (mki_len - 1 - j)));
	memcpy(g->key, buf, ks.key_len);
	memcpy(g->salt, buf + ks.key_len, ks.salt_len);
	k->set |= (uint8_t)(1u << gen);
	err = 0;
out_wipe:
	explicit_bzero(buf, sizeof(buf));
	explicit_bzero(arg, strlen(arg));
	return err;
}

/* --no-in-key, --no-out-key GEN. */
static int
parse_wipe(const char *what, char *arg, struct key_opts *k)
{
	struct span s = { arg, strlen(arg) };
	uint32_t gen;

	if (parse_gen(what, s, &gen) < 0)
		return -EINVAL;
	k->wipe |= (uint8_t)(1u << gen);
	return 0;
}

static int
check_key_opts(const char *cmd, const char *dir, const struct key_opts *k)
{
	uint8_t both = k->set & k->wipe;

	if (both != 0) {
		mr_ctl_err("%s: --%s-key and --no-%s-key both name generation %u", cmd, dir, dir,
			   (both & 1u) ? 0u : 1u);
		return -EINVAL;
	}
	return 0;
}

static const char *
latch_name(uint8_t l)
{
	switch (l) {
	case MR_LATCH_FIRST:
		return "first";
	case MR_LATCH_FIRST_AUTH:
		return "auth";
	case MR_LATCH_STRICT:
		return "strict";
	default:
		return "invalid";
	}
}

static const char *const flag_names[] = { "rtcp-mux", "muted", "hold", "pstn", "record", "ice" };
_Static_assert(sizeof(flag_names) / sizeof(flag_names[0]) == 6, "one name per MR_LEG_F_*");

static int
parse_peer(const char *what, const char *s, struct mr_sockaddr *ret)
{
	if (strcmp(s, "none") == 0) {
		memset(ret, 0, sizeof(*ret));
		return 0;
	}
	return mr_ctl_parse_addr(what, s, ret);
}

static int
parse_slot(const char *what, const char *s, uint32_t *ret)
{
	return mr_ctl_parse_u32(what, s, 0, MR_SHM_MAX_LEGS - 1u, ret);
}

/*
 * --ice UFRAG:PWD: the relay's ICE-lite credentials (RFC 8839 ice-chars,
 * ufrag 4..15 and pwd 22..31 characters: what struct mr_ice holds). The
 * value is not quoted back: it carries the password, and it is wiped from
 * argv as --in-key's is.
 */
static int
parse_ice(char *s, struct mr_ice *ret)
{
	static const char ice_chars[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *colon = strchr(s, ':');
	size_t ul = colon != NULL ? (size_t)(colon - s) : 0, pl = colon != NULL ? strlen(colon + 1) : 0;

	if (colon == NULL || ul < 4 || ul >= sizeof(ret->local_ufrag) || pl < 22 ||
	    pl >= sizeof(ret->local_pwd) || strspn(s, ice_chars) != ul ||
	    strspn(colon + 1, ice_chars) != pl) {
		mr_ctl_err("--ice: not UFRAG:PWD of ice-chars, ufrag 4..%zu and pwd 22..%zu long "
			   "(not shown: it carries the password)", sizeof(ret->local_ufrag) - 1,
			   sizeof(ret->local_pwd) - 1);
		explicit_bzero(s, strlen(s));
		return -EINVAL;
	}
	memset(ret, 0, sizeof(*ret));
	memcpy(ret->local_ufrag, s, ul);
	memcpy(ret->local_pwd, colon + 1, pl);
	explicit_bzero(s, strlen(s));
	return 0;
}

/* Parse leg options into @o; 0 or MR_CTL_EXIT_INPUT (error printed). */
static int
parse_leg_opts(int argc, char **argv, const char *cmd, bool allow_slot, struct leg_opts *o)
{
	int c, err = 0;

	memset(o, 0, sizeof(*o));
	optind = 0;
	while (err == 0 && (c = mr_ctl_getopt(argc, argv, leg_longopts, cmd)) != -1) {
		switch (c) {
		case 'L':
			o->given |= OPT_LOCAL;
			err = mr_ctl_parse_addr("--local", optarg, &o->local);
			break;
		case 'R':
			o->given |= OPT_RTCP_PORT;
			err = mr_ctl_parse_u32("--rtcp-port", optarg, 1, 65535, &o->rtcp_port);
			break;
		case 'M':
			o->given |= OPT_RTCP_MUX;
			break;
		case 'P':
			o->given |= OPT_PEER;
			err = parse_peer("--peer", optarg, &o->peer);
			break;
		case 'Q':
			o->given |= OPT_PEER_RTCP;
			err = parse_peer("--peer-rtcp", optarg, &o->peer_rtcp);
			break;
		case 'E':
			o->given |= OPT_EGRESS;
			if (strcmp(optarg, "none") == 0)
				o->egress = MR_LEG_NONE;
			else
				err = parse_slot("--egress", optarg, &o->egress);
			break;
		case 'l':
			o->given |= OPT_LATCH;
			if (strcmp(optarg, "first") == 0) {
				o->latch = MR_LATCH_FIRST;
			} else if (strcmp(optarg, "strict") == 0) {
				o->latch = MR_LATCH_STRICT;
			} else if (strcmp(optarg, "auth") == 0) {
				o->latch = MR_LATCH_FIRST_AUTH;
			} else {
				mr_ctl_err("--latch: '%s' is not first, strict or auth", optarg);
				err = -EINVAL;
			}
			break;
		case 'm':
			o->given |= OPT_MUTED;
			break;
		case 'u':
			o->given |= OPT_NO_MUTED;
			break;
		case 'p':
			o->given |= OPT_PSTN;
			break;
		case 'n':
			o->given |= OPT_NO_PSTN;
			break;
		case 's':
			if (!allow_slot) {
				mr_ctl_err("%s: --slot is not an option here (the slot is the argument)",
					   cmd);
				return MR_CTL_EXIT_INPUT;
			}
			o->given |= OPT_SLOT;
			err = parse_slot("--slot", optarg, &o->slot);
			break;
		case 'w':
			o->given |= OPT_LATCH_WINDOW;
			err = mr_ctl_parse_u32("--latch-window-ms", optarg, 0, UINT32_MAX,
					       &o->latch_window_ms);
			break;
		case 'r':
			o->given |= OPT_RELATCH_IDLE;
			err = mr_ctl_parse_u32("--relatch-idle-ms", optarg, 0, UINT32_MAX,
					       &o->relatch_idle_ms);
			break;
		case 'i':
			o->given |= OPT_IDLE_TIMEOUT;
			err = mr_ctl_parse_u32("--idle-timeout-ms", optarg, 0, UINT32_MAX,
					       &o->idle_timeout_ms);
			break;
		case 'd':
			o->given |= OPT_DSCP;
			err = mr_ctl_parse_u32("--dscp", optarg, 0, 63, &o->dscp);
			break;
		case 't':
			o->given |= OPT_CALL_TAG;
			err = mr_ctl_parse_u64("--call-tag", optarg, &o->call_tag);
			break;
		case 'K':
			o->given |= OPT_IN_KEY;
			err = parse_key("--in-key", optarg, &o->in);
			break;
		case 'O':
			o->given |= OPT_OUT_KEY;
			err = parse_key("--out-key", optarg, &o->out);
			break;
		case 'k':
			o->given |= OPT_NO_IN_KEY;
			err = parse_wipe("--no-in-key", optarg, &o->in);
			break;
		case 'o':
			o->given |= OPT_NO_OUT_KEY;
			err = parse_wipe("--no-out-key", optarg, &o->out);
			break;
		case 'a': {
			struct span sp = { optarg, strlen(optarg) };

			o->given |= OPT_OUT_ACTIVE;
			err = parse_gen("--out-active", sp, &o->out_active);
			break;
		}
		case 'I':
			o->given |= OPT_ICE;
			err = parse_ice(optarg, &o->ice);
			break;
		case 'N':
			o->given |= OPT_NO_ICE;
			break;
		case 'h':
			o->help = true;
			return 0;
		default:
			return MR_CTL_EXIT_INPUT;
		}
	}
	if (err != 0)
		return MR_CTL_EXIT_INPUT;
	if ((o->given & OPT_RTCP_PORT) && (o->given & OPT_RTCP_MUX)) {
		mr_ctl_err("%s: --rtcp-port and --rtcp-mux exclude each other", cmd);
		return MR_CTL_EXIT_INPUT;
	}
	if ((o->given & OPT_MUTED) && (o->given & OPT_NO_MUTED)) {
		mr_ctl_err("%s: --muted and --no-muted exclude each other", cmd);
		return MR_CTL_EXIT_INPUT;
	}
	if ((o->given & OPT_PSTN) && (o->given & OPT_NO_PSTN)) {
		mr_ctl_err("%s: --pstn and --no-pstn exclude each other", cmd);
		return MR_CTL_EXIT_INPUT;
	}
	if ((o->given & OPT_ICE) && (o->given & OPT_NO_ICE)) {
		mr_ctl_err("%s: --ice and --no-ice exclude each other", cmd);
		return MR_CTL_EXIT_INPUT;
	}
	if (check_key_opts(cmd, "in", &o->in) < 0 || check_key_opts(cmd, "out", &o->out) < 0)
		return MR_CTL_EXIT_INPUT;
	return 0;
}

/* Wipe, then set, the generations @k names. */
static void
apply_key_opts(const struct key_opts *k, struct mr_crypto_dir *d)
{
	unsigned int g;

	for (g = 0; g < 2; g++) {
		if (k->wipe & (1u << g))
			explicit_bzero(&d->gen[g], sizeof(d->gen[g]));
		if (k->set & (1u << g))
			memcpy(&d->gen[g], &k->gen[g], sizeof(d->gen[g]));
	}
}

/* Apply the given options to @s; fields not given keep their values. */
static int
apply_leg_opts(const struct leg_opts *o, struct mr_leg_slot *s)
{
	if (o->given & OPT_LOCAL)
		s->local = o->local;
	if (o->given & OPT_RTCP_MUX) {
		s->flags |= MR_LEG_F_RTCP_MUX;
		s->local_rtcp_port_be = 0;
	} else if (o->given & OPT_RTCP_PORT) {
		s->flags &= ~MR_LEG_F_RTCP_MUX;
		s->local_rtcp_port_be = htons((uint16_t)o->rtcp_port);
	} else if ((o->given & OPT_LOCAL) && !(s->flags & MR_LEG_F_RTCP_MUX)) {
		/* A new RTP port moves the implied RTCP port with it. */
		uint16_t rtp = ntohs(s->local.port_be);

		if (rtp == 65535) {
			mr_ctl_err("--local: RTP port 65535 leaves no room for RTCP at port + 1; "
				   "give --rtcp-port or --rtcp-mux");
			return -EINVAL;
		}
		s->local_rtcp_port_be = htons((uint16_t)(rtp + 1u));
	}
	if (o->given & OPT_PEER)
		s->peer_rtp = o->peer;
	if (o->given & OPT_PEER_RTCP)
		s->peer_rtcp = o->peer_rtcp;
	if (o->given & OPT_EGRESS)
		s->egress_slot = o->egress;
	if (o->given & OPT_LATCH)
		s->latch = (uint8_t)o->latch;
	if (o->given & OPT_MUTED)
		s->flags |= MR_LEG_F_MUTED;
	if (o->given & OPT_NO_MUTED)
		s->flags &= ~MR_LEG_F_MUTED;
	if (o->given & OPT_PSTN)
		s->flags |= MR_LEG_F_PSTN;
	if (o->given & OPT_NO_PSTN)
		s->flags &= ~MR_LEG_F_PSTN;
	if (o->given & OPT_LATCH_WINDOW)
		s->latch_window_ms = o->latch_window_ms;
	if (o->given & OPT_RELATCH_IDLE)
		s->relatch_idle_ms = o->relatch_idle_ms;
	if (o->given & OPT_IDLE_TIMEOUT)
		s->idle_timeout_ms = o->idle_timeout_ms;
	if (o->given & OPT_DSCP)
		s->dscp = (uint8_t)o->dscp;
	if (o->given & OPT_CALL_TAG)
		s->call_tag = o->call_tag;
	apply_key_opts(&o->in, &s->crypto_in);
	apply_key_opts(&o->out, &s->crypto_out);
	if (o->given & OPT_OUT_ACTIVE)
		s->crypto_out.active = (uint8_t)o->out_active;
	if (o->given & OPT_ICE) {
		memcpy(s->ice.local_ufrag, o->ice.local_ufrag, sizeof(s->ice.local_ufrag));
		memcpy(s->ice.local_pwd, o->ice.local_pwd, sizeof(s->ice.local_pwd));
		s->flags |= MR_LEG_F_ICE;
	}
	if (o->given & OPT_NO_ICE) {
		explicit_bzero(&s->ice, sizeof(s->ice));
		s->flags &= ~MR_LEG_F_ICE;
	}
	return 0;
}

static bool
crypto_dir_plain(const struct mr_crypto_dir *d)
{
	return d->gen[0].suite == MR_SUITE_NONE && d->gen[1].suite == MR_SUITE_NONE;
}

/* Keys both ways: no plain RTP crosses the leg. */
static bool
leg_is_encrypted(const struct mr_leg_slot *s)
{
	return !crypto_dir_plain(&s->crypto_in) && !crypto_dir_plain(&s->crypto_out);
}

static bool
ip_is_zero(const struct mr_sockaddr *a)
{
	static const uint8_t zero[16];

	return memcmp(a->ip, zero, a->family == MR_AF_INET ? 4 : 16) == 0;
}

static bool
ip_is_multicast(const struct mr_sockaddr *a)
{
	if (a->family == MR_AF_INET)
		return (a->ip[0] & 0xf0) == 0xe0 ||
		       (a->ip[0] == 255 && a->ip[1] == 255 && a->ip[2] == 255 && a->ip[3] == 255);
	return a->ip[0] == 0xff;
}

static int
check_peer(const char *what, const struct mr_sockaddr *peer, const struct mr_sockaddr *local)
{
	if (peer->family == MR_AF_NONE)
		return 0;
	if (peer->family != local->family) {
		mr_ctl_err("%s: address family differs from the leg's local address", what);
		return -EINVAL;
	}
	if (ip_is_zero(peer) || ip_is_multicast(peer)) {
		mr_ctl_err("%s: not a unicast address", what);
		return -EINVAL;
	}
	return 0;
}

/*
 * What can be checked from the leg alone; prints and returns -EINVAL.
 * @given (OPT_*) words the errors after what the command changed.
 */
static int
check_leg(const struct mr_leg_slot *s, uint32_t given)
{
	const struct mr_crypto_dir *out = &s->crypto_out;
	bool keyed_in = !crypto_dir_plain(&s->crypto_in), keyed_out = !crypto_dir_plain(out);

	if (ip_is_zero(&s->local) || ip_is_multicast(&s->local)) {
		mr_ctl_err("--local: not a unicast address of the relay");
		return -EINVAL;
	}
	if (!(s->flags & MR_LEG_F_RTCP_MUX) && s->local_rtcp_port_be == s->local.port_be) {
		mr_ctl_err("--rtcp-port: equals the RTP port (use --rtcp-mux to share it)");
		return -EINVAL;
	}
	if (check_peer("--peer", &s->peer_rtp, &s->local) < 0 ||
	    check_peer("--peer-rtcp", &s->peer_rtcp, &s->local) < 0)
		return -EINVAL;
	/* Read back from the region by leg set: distrust it before indexing. */
	if (out->active > 1) {
		mr_ctl_err("the slot's active outbound generation (%u) is invalid; "
			   "give --out-active", (unsigned int)out->active);
		return -EINVAL;
	}
	/* The dataplane protects with gen[active]: it must hold a key. */
	if ((given & OPT_OUT_ACTIVE) && out->gen[out->active].suite == MR_SUITE_NONE) {
		mr_ctl_err("--out-active: outbound generation %u has no key",
			   (unsigned int)out->active);
		return -EINVAL;
	}
	if (keyed_out && out->gen[out->active].suite == MR_SUITE_NONE) {
		mr_ctl_err("outbound generation %u is active but has no key "
			   "(give --out-active %u, or --out-key %u:...)",
			   (unsigned int)out->active, out->active ^ 1u, (unsigned int)out->active);
		return -EINVAL;
	}
	if ((!keyed_in || !keyed_out) && !(s->flags & MR_LEG_F_PSTN)) {
		mr_ctl_err("plain RTP requires --pstn: media encryption is mandatory otherwise "
			   "(the leg has %s)",
			   !keyed_in && !keyed_out ? "no SRTP keys" :
			   !keyed_in ? "no inbound key: give --in-key" :
				       "no outbound key: give --out-key");
		return -EINVAL;
	}
	if (s->latch == MR_LATCH_FIRST_AUTH && !keyed_in && !(s->flags & MR_LEG_F_ICE)) {
		mr_ctl_err("--latch auth: this leg has neither an inbound SRTP key nor ICE "
			   "credentials, so no packet could ever authenticate");
		return -EINVAL;
	}
	return 0;
}

static bool
slot_active(const struct mr_region *r, uint32_t slot)
{
	return slot < r->hdr->max_legs &&
	       __atomic_load_n(&mr_shm_slot(r->hdr, slot)->state, __ATOMIC_RELAXED) ==
		       MR_LEG_ACTIVE;
}

static bool
leg_uses_port(const struct mr_leg_slot *s, uint16_t port_be)
{
	return s->local.port_be == port_be ||
	       (!(s->flags & MR_LEG_F_RTCP_MUX) && s->local_rtcp_port_be == port_be);
}

/*
 * Another active leg that receives on one of @leg's local ports (RTP, and
 * RTCP unless muxed) of the same address. Caller holds the lock, so the
 * slots can be read in place.
 */
static int
check_ports_free(const struct mr_region *r, uint32_t self, const struct mr_leg_slot *leg)
{
	const struct mr_shm_header *h = r->hdr;
	char ip[MR_CTL_ADDR_LEN];
	uint16_t ports[2] = { leg->local.port_be, leg->local_rtcp_port_be };
	unsigned int nports = (leg->flags & MR_LEG_F_RTCP_MUX) ? 1 : 2;
	uint32_t i;
	unsigned int k;

	for (i = 0; i < h->max_legs; i++) {
		const struct mr_leg_slot *o = mr_shm_slot(h, i);

		if (i == self || o->state != MR_LEG_ACTIVE ||
		    !mr_sockaddr_ip_eq(&o->local, &leg->local))
			continue;
		for (k = 0; k < nports; k++) {
			if (!leg_uses_port(o, ports[k]))
				continue;
			mr_ctl_format_ip(&leg->local, ip, sizeof(ip));
			mr_ctl_err("%s: %s port %u is already used by the leg in slot %" PRIu32,
				   k == 0 ? "--local" : "--rtcp-port", ip,
				   (unsigned int)ntohs(ports[k]), i);
			return -EADDRINUSE;
		}
	}
	return 0;
}

static int
check_egress(const struct mr_region *r, uint32_t self, uint32_t egress)
{
	if (egress == MR_LEG_NONE)
		return 0;
	if (egress == self) {
		mr_ctl_err("--egress: a leg cannot feed itself (slot %" PRIu32 ")", self);
		return -EINVAL;
	}
	if (egress >= r->hdr->max_legs) {
		mr_ctl_err("--egress: slot %" PRIu32 " is out of range (region has %" PRIu32 " slots)",
			   egress, r->hdr->max_legs);
		return -EINVAL;
	}
	if (!slot_active(r, egress)) {
		mr_ctl_err("--egress: slot %" PRIu32 " is not an active leg", egress);
		return -EINVAL;
	}
	return 0;
}

static int
write_leg(struct mr_region *r, uint32_t slot, const struct mr_leg_slot *leg)
{
	int err = mr_region_leg_write(r, slot, leg);

	if (err < 0) {
		/* check_leg() passed, so this is a bug or a corrupt region. */
		mr_ctl_err("slot %" PRIu32 ": the region refused the leg: %s", slot, strerror(-err));
		return MR_CTL_EXIT_REGION;
	}
	return 0;
}

/* The caller wipes @o and @leg, which may hold keys, whatever this returns. */
static int
leg_add_run(const char *path, int argc, char **argv, struct leg_opts *o,
	    struct mr_leg_slot *l)
{
	struct mr_region r;
	uint32_t slot;
	int err;

	err = parse_leg_opts(argc, argv, "leg add", true, o);
	if (err != 0 || o->help) {
		if (o->help)
			mr_ctl_usage(stdout);
		return err;
	}
	err = mr_ctl_expect_args("leg add", argc, argv, 0, 0, o->given & OPT_KEYS);
	if (err != 0)
		return err;
	if (!(o->given & OPT_LOCAL)) {
		mr_ctl_err("leg add: --local is required");
		return MR_CTL_EXIT_INPUT;
	}
	memset(l, 0, sizeof(*l));
	l->latch = MR_LATCH_FIRST;
	l->egress_slot = MR_LEG_NONE;
	if (apply_leg_opts(o, l) < 0 || check_leg(l, o->given) < 0)
		return MR_CTL_EXIT_INPUT;

	err = mr_region_open(&r, path, false, 0, 0);
	if (err == -ENOENT) {
		/* About to create an empty region: refuse what would fail in it
		 * before creating anything. */
		if ((o->given & OPT_EGRESS) && o->egress != MR_LEG_NONE) {
			mr_ctl_err("--egress: slot %" PRIu32 " is not an active leg", o->egress);
			return MR_CTL_EXIT_INPUT;
		}
		if ((o->given & OPT_SLOT) && o->slot >= MR_SHM_DEFAULT_LEGS) {
			mr_ctl_err("--slot: %" PRIu32 " is out of range (a new region has %u slots)",
				   o->slot, MR_SHM_DEFAULT_LEGS);
			return MR_CTL_EXIT_INPUT;
		}
		err = mr_ctl_open(&r, path, true);
		if (err != 0)
			return err;
	} else if (err < 0) {
		mr_region_close(&r);
		return mr_ctl_region_error(path, err, false);
	}

	err = mr_ctl_lock(&r, true);
	if (err != 0)
		goto out_close;
	if (o->given & OPT_SLOT) {
		slot = o->slot;
		if (slot >= r.hdr->max_legs) {
			mr_ctl_err("--slot: %" PRIu32 " is out of range (region has %" PRIu32 " slots)",
				   slot, r.hdr->max_legs);
			err = MR_CTL_EXIT_INPUT;
			goto out_close;
		}
		if (mr_shm_slot(r.hdr, slot)->state != MR_LEG_FREE) {
			mr_ctl_err("--slot: slot %" PRIu32 " is in use", slot);
			err = MR_CTL_EXIT_INPUT;
			goto out_close;
		}
	} else if (mr_region_find_free(&r, &slot) < 0) {
		mr_ctl_err("leg add: the region is full (%" PRIu32 " legs)", r.hdr->max_legs);
		err = MR_CTL_EXIT_INPUT;
		goto out_close;
	}
	if (check_egress(&r, slot, l->egress_slot) < 0 || check_ports_free(&r, slot, l) < 0) {
		err = MR_CTL_EXIT_INPUT;
		goto out_close;
	}
	err = write_leg(&r, slot, l);
	if (err == 0)
		printf("%" PRIu32 "\n", slot);
out_close:
	mr_region_close(&r);    /* also unlocks */
	return err;
}

static int
leg_add(const char *path, int argc, char **argv)
{
	struct mr_leg_slot leg;
	struct leg_opts o;
	int err = leg_add_run(path, argc, argv, &o, &leg);

	explicit_bzero(&o, sizeof(o));
	explicit_bzero(&leg, sizeof(leg));
	return err;
}

/* Open the region, take the lock and check that @slot holds an active leg. */
static int
open_active(struct mr_region *r, const char *path, uint32_t slot)
{
	int err;

	err = mr_ctl_open(r, path, false);
	if (err != 0)
		return err;
	err = mr_ctl_lock(r, true);
	if (err != 0)
		return err;
	if (slot >= r->hdr->max_legs) {
		mr_ctl_err("slot %" PRIu32 " is out of range (region has %" PRIu32 " slots)",
			   slot, r->hdr->max_legs);
		return MR_CTL_EXIT_INPUT;
	}
	if (!slot_active(r, slot)) {
		mr_ctl_err("slot %" PRIu32 " is not an active leg", slot);
		return MR_CTL_EXIT_INPUT;
	}
	return 0;
}

/* The caller wipes @o and @leg, which may hold keys, whatever this returns. */
static int
leg_set_run(const char *path, int argc, char **argv, struct leg_opts *o,
	    struct mr_leg_slot *l)
{
	struct mr_region r;
	struct span arg;
	uint64_t v;
	uint32_t slot;
	int err;

	err = parse_leg_opts(argc, argv, "leg set", false, o);
	if (err != 0 || o->help) {
		if (o->help)
			mr_ctl_usage(stdout);
		return err;
	}
	err = mr_ctl_expect_args("leg set", argc, argv, 1, 1, o->given & OPT_KEYS);
	if (err != 0)
		return err;
	if (!(o->given & OPT_KEYS)) {
		if (parse_slot("leg set", argv[optind], &slot) < 0)
			return MR_CTL_EXIT_INPUT;
	} else {
		/* The argument may be a stray part of a key: do not quote it. */
		arg.p = argv[optind];
		arg.n = strlen(arg.p);
		if (!span_u64(arg, &v) || v > MR_SHM_MAX_LEGS - 1u) {
			mr_ctl_err("leg set: the slot is not a number in 0..%u "
				   "(not shown: the command carries keys)", MR_SHM_MAX_LEGS - 1u);
			return MR_CTL_EXIT_INPUT;
		}
		slot = (uint32_t)v;
	}
	if (o->given == 0) {
		mr_ctl_err("leg set: nothing to change (give at least one leg option)");
		return MR_CTL_EXIT_INPUT;
	}
	memset(l, 0, sizeof(*l));
	err = open_active(&r, path, slot);
	if (err != 0)
		goto out_close;
	err = mr_region_leg_read(&r, slot, l);
	if (err < 0) {
		mr_ctl_err("slot %" PRIu32 ": cannot read it: %s", slot, strerror(-err));
		err = MR_CTL_EXIT_REGION;
		goto out_close;
	}
	if (apply_leg_opts(o, l) < 0 || check_leg(l, o->given) < 0 ||
	    ((o->given & OPT_EGRESS) && check_egress(&r, slot, l->egress_slot) < 0) ||
	    ((o->given & OPT_PORTS) && check_ports_free(&r, slot, l) < 0)) {
		err = MR_CTL_EXIT_INPUT;
		goto out_close;
	}
	err = write_leg(&r, slot, l);
out_close:
	mr_region_close(&r);
	return err;
}

static int
leg_set(const char *path, int argc, char **argv)
{
	struct mr_leg_slot leg;
	struct leg_opts o;
	int err = leg_set_run(path, argc, argv, &o, &leg);

	explicit_bzero(&o, sizeof(o));
	explicit_bzero(&leg, sizeof(leg));      /* the copy holds the leg's keys */
	return err;
}

static int
set_egress(struct mr_region *r, uint32_t slot, uint32_t egress)
{
	struct mr_leg_slot leg;
	int err;

	err = mr_region_leg_read(r, slot, &leg);
	if (err < 0) {
		mr_ctl_err("slot %" PRIu32 ": cannot read it: %s", slot, strerror(-err));
		return MR_CTL_EXIT_REGION;
	}
	leg.egress_slot = egress;
	err = write_leg(r, slot, &leg);
	explicit_bzero(&leg, sizeof(leg));
	return err;
}

static int
leg_pair(const char *path, int argc, char **argv)
{
	struct mr_ctl_opts o = { .help = false };
	struct mr_region r;
	uint32_t a, b;
	int err;

	err = mr_ctl_parse_opts(argc, argv, mr_ctl_help_opts, "leg pair", 2, 2, &o);
	if (err != 0 || o.help)
		return err;
	if (parse_slot("leg pair", argv[optind], &a) < 0 ||
	    parse_slot("leg pair", argv[optind + 1], &b) < 0)
		return MR_CTL_EXIT_INPUT;
	if (a == b) {
		mr_ctl_err("leg pair: a leg cannot be paired with itself");
		return MR_CTL_EXIT_INPUT;
	}
	err = open_active(&r, path, a);
	if (err != 0)
		goto out_close;
	if (!slot_active(&r, b)) {
		mr_ctl_err("slot %" PRIu32 " is not an active leg", b);
		err = MR_CTL_EXIT_INPUT;
		goto out_close;
	}
	err = set_egress(&r, a, b);
	if (err == 0)
		err = set_egress(&r, b, a);
out_close:
	mr_region_close(&r);
	return err;
}

static int
leg_del(const char *path, int argc, char **argv)
{
	struct mr_ctl_opts o = { .help = false };
	struct mr_region r;
	uint32_t slot, i;
	int err;

	err = mr_ctl_parse_opts(argc, argv, mr_ctl_help_opts, "leg del", 1, 1, &o);
	if (err != 0 || o.help)
		return err;
	if (parse_slot("leg del", argv[optind], &slot) < 0)
		return MR_CTL_EXIT_INPUT;
	err = open_active(&r, path, slot);
	if (err != 0)
		goto out_close;
	/* Legs that feed this one stop first: otherwise the next leg to take
	 * the slot would receive media meant for another call. */
	for (i = 0; err == 0 && i < r.hdr->max_legs; i++) {
		const struct mr_leg_slot *s = mr_shm_slot(r.hdr, i);

		if (i != slot && s->state == MR_LEG_ACTIVE && s->egress_slot == slot)
			err = set_egress(&r, i, MR_LEG_NONE);
	}
	if (err == 0 && mr_region_leg_delete(&r, slot) < 0) {
		mr_ctl_err("slot %" PRIu32 ": cannot delete it", slot);
		err = MR_CTL_EXIT_REGION;
	}
out_close:
	mr_region_close(&r);
	return err;
}

static void
format_flags(uint32_t flags, char *buf, size_t len)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++) {
		if (!(flags & (1u << i)))
			continue;
		off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? "," : "", flag_names[i]);
		if (off >= len)
			break;
	}
	if (buf[0] == '\0')
		snprintf(buf, len, "-");
}

static const char *
suite_name(uint8_t suite)
{
	const char *name = mr_sdes_suite_name(suite);

	return name != NULL ? name : "unknown";
}

/*
 * The keyed generations of @d as "0:SUITE,1:SUITE/mki4" ('*' after the
 * active generation's number if @out), or "-". Never any key bytes.
 */
static void
format_crypto(const struct mr_crypto_dir *d, bool out, char *buf, size_t len)
{
	size_t off = 0;
	unsigned int g;

	buf[0] = '\0';
	for (g = 0; g < 2 && off < len; g++) {
		const struct mr_key_gen *k = &d->gen[g];

		if (k->suite == MR_SUITE_NONE)
			continue;
		off += (size_t)snprintf(buf + off, len - off, "%s%u%s:%s", off ? "," : "", g,
					out && d->active == g ? "*" : "", suite_name(k->suite));
		if (k->mki_len != 0 && off < len)
			off += (size_t)snprintf(buf + off, len - off, "/mki%u",
						(unsigned int)k->mki_len);
	}
	if (buf[0] == '\0')
		snprintf(buf, len, "-");
}

/* {"gens": [G0, G1]} (+ "active" if @out); G is null or {"suite", "mki_len"}. */
static void
print_crypto_json(const struct mr_crypto_dir *d, bool out)
{
	unsigned int g;

	printf("{");
	if (out)
		printf("\"active\": %u, ", (unsigned int)d->active);
	printf("\"gens\": [");
	for (g = 0; g < 2; g++) {
		const struct mr_key_gen *k = &d->gen[g];

		if (g > 0)
			printf(", ");
		if (k->suite == MR_SUITE_NONE)
			printf("null");
		else
			printf("{\"suite\": \"%s\", \"mki_len\": %u}", suite_name(k->suite),
			       (unsigned int)k->mki_len);
	}
	printf("]}");
}

/* The latched source of component @bit, if the dp part is this leg's. */
static const struct mr_sockaddr *
latched(const struct mr_leg_dp *dp, bool dp_valid, unsigned int bit,
	const struct mr_sockaddr *addr)
{
	static const struct mr_sockaddr none;

	return dp_valid && (dp->latch_flags & bit) ? addr : &none;
}

static void
print_leg_json(uint32_t slot, const struct mr_leg_slot *s, const struct mr_leg_dp *dp,
	       bool dp_valid, const struct mr_leg_counters *c, bool first)
{
	size_t i;
	bool any = false;

	printf("%s\n  {\"slot\": %" PRIu32 ", \"leg_uid\": %" PRIu64 ", \"generation\": %" PRIu32
	       ", \"call_tag\": %" PRIu64 ", \"local\": ",
	       first ? "" : ",", slot, s->leg_uid, s->generation, s->call_tag);
	mr_ctl_json_addr(stdout, &s->local);
	if (s->flags & MR_LEG_F_RTCP_MUX)
		printf(", \"rtcp_port\": null, \"rtcp_mux\": true");
	else
		printf(", \"rtcp_port\": %u, \"rtcp_mux\": false",
		       (unsigned int)ntohs(s->local_rtcp_port_be));
	printf(", \"peer\": ");
	mr_ctl_json_addr(stdout, &s->peer_rtp);
	printf(", \"peer_rtcp\": ");
	mr_ctl_json_addr(stdout, &s->peer_rtcp);
	if (s->egress_slot == MR_LEG_NONE)
		printf(", \"egress\": null");
	else
		printf(", \"egress\": %" PRIu32, s->egress_slot);
	printf(", \"latch\": \"%s\", \"flags\": [", latch_name(s->latch));
	for (i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++) {
		if (s->flags & (1u << i)) {
			printf("%s\"%s\"", any ? ", " : "", flag_names[i]);
			any = true;
		}
	}
	printf("], \"encrypted\": %s, \"dscp\": %u, \"latch_window_ms\": %" PRIu32
	       ", \"relatch_idle_ms\": %" PRIu32 ", \"idle_timeout_ms\": %" PRIu32,
	       leg_is_encrypted(s) ? "true" : "false", (unsigned int)s->dscp,
	       s->latch_window_ms, s->relatch_idle_ms, s->idle_timeout_ms);
	printf(", \"srtp_in\": ");
	print_crypto_json(&s->crypto_in, false);
	printf(", \"srtp_out\": ");
	print_crypto_json(&s->crypto_out, true);
	printf(", \"latched_rtp\": ");
	mr_ctl_json_addr(stdout, latched(dp, dp_valid, MR_LATCHED_RTP, &dp->latched_rtp));
	printf(", \"latched_rtcp\": ");
	mr_ctl_json_addr(stdout, latched(dp, dp_valid, MR_LATCHED_RTCP, &dp->latched_rtcp));
	printf(", \"rx_pkts\": %" PRIu64 ", \"tx_pkts\": %" PRIu64 "}", c->rx_pkts, c->tx_pkts);
}

static void
print_leg_text(uint32_t slot, const struct mr_leg_slot *s, const struct mr_leg_dp *dp,
	       bool dp_valid, const struct mr_leg_counters *c)
{
	char local[MR_CTL_ADDR_LEN], peer[MR_CTL_ADDR_LEN], rtp[MR_CTL_ADDR_LEN];
	char rtcp[MR_CTL_ADDR_LEN], rtcp_port[8], egress[12], flags[64];
	char srtp_in[80], srtp_out[80];

	mr_ctl_format_addr(&s->local, local, sizeof(local));
	mr_ctl_format_addr(&s->peer_rtp, peer, sizeof(peer));
	mr_ctl_format_addr(latched(dp, dp_valid, MR_LATCHED_RTP, &dp->latched_rtp),
			   rtp, sizeof(rtp));
	mr_ctl_format_addr(latched(dp, dp_valid, MR_LATCHED_RTCP, &dp->latched_rtcp),
			   rtcp, sizeof(rtcp));
	if (s->flags & MR_LEG_F_RTCP_MUX)
		snprintf(rtcp_port, sizeof(rtcp_port), "mux");
	else
		snprintf(rtcp_port, sizeof(rtcp_port), "%u", (unsigned int)ntohs(s->local_rtcp_port_be));
	if (s->egress_slot == MR_LEG_NONE)
		snprintf(egress, sizeof(egress), "-");
	else
		snprintf(egress, sizeof(egress), "%" PRIu32, s->egress_slot);
	format_flags(s->flags, flags, sizeof(flags));
	format_crypto(&s->crypto_in, false, srtp_in, sizeof(srtp_in));
	format_crypto(&s->crypto_out, true, srtp_out, sizeof(srtp_out));
	printf("%-6" PRIu32 " %-24s %-5s %-24s %-6s %-6s %-16s %-24s %-24s %10" PRIu64 " %10" PRIu64
	       " %-36s %s\n",
	       slot, local, rtcp_port, peer, egress, latch_name(s->latch), flags, rtp, rtcp,
	       c->rx_pkts, c->tx_pkts, srtp_in, srtp_out);
}

static int
leg_list(const char *path, int argc, char **argv)
{
	struct mr_ctl_opts o = { .json = false };
	struct mr_leg_counters cnt;
	struct mr_leg_slot leg;
	struct mr_leg_dp dp;
	struct mr_region r;
	bool json, first = true, dp_valid;
	uint32_t i;
	int err;

	err = mr_ctl_parse_opts(argc, argv, mr_ctl_json_opts, "leg list", 0, 0, &o);
	if (err != 0 || o.help)
		return err;
	json = o.json;
	err = mr_ctl_open(&r, path, false);
	if (err != 0)
		return err;
	if (json)
		printf("{\"legs\": [");
	else
		printf("%-6s %-24s %-5s %-24s %-6s %-6s %-16s %-24s %-24s %10s %10s %-36s %s\n",
		       "SLOT", "LOCAL", "RTCP", "PEER", "EGRESS", "LATCH", "FLAGS",
		       "LATCHED-RTP", "LATCHED-RTCP", "RX-PKTS", "TX-PKTS", "SRTP-IN", "SRTP-OUT");
	/* Lock-free: each slot is read under its seqlock. */
	for (i = 0; i < r.hdr->max_legs; i++) {
		if (!slot_active(&r, i))
			continue;
		if (mr_region_leg_read(&r, i, &leg) < 0) {
			mr_ctl_err("slot %" PRIu32 " is being written or torn; skipped", i);
			continue;
		}
		if (leg.state != MR_LEG_ACTIVE)
			continue;
		dp_valid = mr_region_leg_dp_read(&r, i, &dp) == 0 && dp.leg_uid == leg.leg_uid;
		if (!dp_valid)
			memset(&dp, 0, sizeof(dp));
		mr_region_leg_counters(&r, i, &cnt);
		if (json)
			print_leg_json(i, &leg, &dp, dp_valid, &cnt, first);
		else
			print_leg_text(i, &leg, &dp, dp_valid, &cnt);
		first = false;
	}
	if (json)
		printf("%s]}\n", first ? "" : "\n");
	explicit_bzero(&leg, sizeof(leg));
	mr_region_close(&r);
	return 0;
}

int
mr_ctl_leg(const char *path, int argc, char **argv)
{
	const char *cmd = argc >= 2 ? argv[1] : NULL;

	if (cmd == NULL) {
		mr_ctl_err("leg: expected add, set, pair, del or list");
		return MR_CTL_EXIT_INPUT;
	}
	argc--;
	argv++;
	if (strcmp(cmd, "add") == 0)
		return leg_add(path, argc, argv);
	if (strcmp(cmd, "set") == 0)
		return leg_set(path, argc, argv);
	if (strcmp(cmd, "pair") == 0)
		return leg_pair(path, argc, argv);
	if (strcmp(cmd, "del") == 0)
		return leg_del(path, argc, argv);
	if (strcmp(cmd, "list") == 0)
		return leg_list(path, argc, argv);
	mr_ctl_err("leg: unknown command '%s' (add, set, pair, del or list)", cmd);
	return MR_CTL_EXIT_INPUT;
}
