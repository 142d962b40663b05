/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mrelayctl leg add|set|pair|del|list.
 *
 * A request is validated whole before anything is written: first what can be
 * checked from the arguments alone, then, under the writer lock, what depends
 * on the region (slot free, egress active, local address+ports unused). On
 * any error nothing has changed, except that taking the lock repairs slots a
 * dead writer left torn.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"

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
};

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
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
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
};

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
	return 0;
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
	return 0;
}

static bool
crypto_dir_plain(const struct mr_crypto_dir *d)
{
	return d->gen[0].suite == MR_SUITE_NONE && d->gen[1].suite == MR_SUITE_NONE;
}

/* No key in either direction: media would cross the relay unencrypted. */
static bool
leg_is_plain(const struct mr_leg_slot *s)
{
	return crypto_dir_plain(&s->crypto_in) && crypto_dir_plain(&s->crypto_out);
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

/* What can be checked from the leg alone; prints and returns -EINVAL. */
static int
check_leg(const struct mr_leg_slot *s)
{
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
	if (leg_is_plain(s) && !(s->flags & MR_LEG_F_PSTN)) {
		mr_ctl_err("plain RTP requires --pstn: media encryption is mandatory otherwise");
		return -EINVAL;
	}
	if (s->latch == MR_LATCH_FIRST_AUTH && leg_is_plain(s) && !(s->flags & MR_LEG_F_ICE)) {
		mr_ctl_err("--latch auth: this leg has neither SRTP keys nor ICE credentials, "
			   "so no packet could ever authenticate");
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

static int
expect_args(const char *cmd, int argc, char **argv, int n)
{
	if (argc - optind < n) {
		mr_ctl_err("%s: missing argument (see mrelayctl --help)", cmd);
		return MR_CTL_EXIT_INPUT;
	}
	if (argc - optind > n) {
		mr_ctl_err("%s: unexpected argument '%s'", cmd, argv[optind + n]);
		return MR_CTL_EXIT_INPUT;
	}
	return 0;
}

static int
leg_add(const char *path, int argc, char **argv)
{
	struct mr_leg_slot leg;
	struct leg_opts o;
	struct mr_region r;
	uint32_t slot;
	int err;

	err = parse_leg_opts(argc, argv, "leg add", true, &o);
	if (err != 0 || o.help) {
		if (o.help)
			mr_ctl_usage(stdout);
		return err;
	}
	err = expect_args("leg add", argc, argv, 0);
	if (err != 0)
		return err;
	if (!(o.given & OPT_LOCAL)) {
		mr_ctl_err("leg add: --local is required");
		return MR_CTL_EXIT_INPUT;
	}
	memset(&leg, 0, sizeof(leg));
	leg.latch = MR_LATCH_FIRST;
	leg.egress_slot = MR_LEG_NONE;
	if (apply_leg_opts(&o, &leg) < 0 || check_leg(&leg) < 0)
		return MR_CTL_EXIT_INPUT;

	err = mr_region_open(&r, path, false, 0, 0);
	if (err == -ENOENT) {
		/* About to create an empty region: refuse what would fail in it
		 * before creating anything. */
		if ((o.given & OPT_EGRESS) && o.egress != MR_LEG_NONE) {
			mr_ctl_err("--egress: slot %" PRIu32 " is not an active leg", o.egress);
			return MR_CTL_EXIT_INPUT;
		}
		if ((o.given & OPT_SLOT) && o.slot >= MR_SHM_DEFAULT_LEGS) {
			mr_ctl_err("--slot: %" PRIu32 " is out of range (a new region has %u slots)",
				   o.slot, MR_SHM_DEFAULT_LEGS);
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
	if (o.given & OPT_SLOT) {
		slot = o.slot;
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
	if (check_egress(&r, slot, leg.egress_slot) < 0 || check_ports_free(&r, slot, &leg) < 0) {
		err = MR_CTL_EXIT_INPUT;
		goto out_close;
	}
	err = write_leg(&r, slot, &leg);
	if (err == 0)
		printf("%" PRIu32 "\n", slot);
out_close:
	mr_region_close(&r);    /* also unlocks */
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

static int
leg_set(const char *path, int argc, char **argv)
{
	struct mr_leg_slot leg;
	struct leg_opts o;
	struct mr_region r;
	uint32_t slot;
	int err;

	err = parse_leg_opts(argc, argv, "leg set", false, &o);
	if (err != 0 || o.help) {
		if (o.help)
			mr_ctl_usage(stdout);
		return err;
	}
	err = expect_args("leg set", argc, argv, 1);
	if (err != 0)
		return err;
	if (parse_slot("leg set", argv[optind], &slot) < 0)
		return MR_CTL_EXIT_INPUT;
	if (o.given == 0) {
		mr_ctl_err("leg set: nothing to change (give at least one leg option)");
		return MR_CTL_EXIT_INPUT;
	}
	memset(&leg, 0, sizeof(leg));
	err = open_active(&r, path, slot);
	if (err != 0)
		goto out_close;
	err = mr_region_leg_read(&r, slot, &leg);
	if (err < 0) {
		mr_ctl_err("slot %" PRIu32 ": cannot read it: %s", slot, strerror(-err));
		err = MR_CTL_EXIT_REGION;
		goto out_close;
	}
	if (apply_leg_opts(&o, &leg) < 0 || check_leg(&leg) < 0 ||
	    ((o.given & OPT_EGRESS) && check_egress(&r, slot, leg.egress_slot) < 0) ||
	    ((o.given & OPT_PORTS) && check_ports_free(&r, slot, &leg) < 0)) {
		err = MR_CTL_EXIT_INPUT;
		goto out_close;
	}
	err = write_leg(&r, slot, &leg);
out_close:
	explicit_bzero(&leg, sizeof(leg));      /* the copy holds the leg's keys */
	mr_region_close(&r);
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
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct mr_region r;
	uint32_t a, b;
	int c, err;

	optind = 0;
	while ((c = mr_ctl_getopt(argc, argv, opts, "leg pair")) != -1) {
		if (c == 'h') {
			mr_ctl_usage(stdout);
			return 0;
		}
		return MR_CTL_EXIT_INPUT;
	}
	err = expect_args("leg pair", argc, argv, 2);
	if (err != 0)
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
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct mr_region r;
	uint32_t slot, i;
	int c, err;

	optind = 0;
	while ((c = mr_ctl_getopt(argc, argv, opts, "leg del")) != -1) {
		if (c == 'h') {
			mr_ctl_usage(stdout);
			return 0;
		}
		return MR_CTL_EXIT_INPUT;
	}
	err = expect_args("leg del", argc, argv, 1);
	if (err != 0)
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
	       leg_is_plain(s) ? "false" : "true", (unsigned int)s->dscp,
	       s->latch_window_ms, s->relatch_idle_ms, s->idle_timeout_ms);
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
	printf("%-6" PRIu32 " %-24s %-5s %-24s %-6s %-6s %-16s %-24s %-24s %10" PRIu64 " %10" PRIu64 "\n",
	       slot, local, rtcp_port, peer, egress, latch_name(s->latch), flags, rtp, rtcp,
	       c->rx_pkts, c->tx_pkts);
}

static int
leg_list(const char *path, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct mr_leg_counters cnt;
	struct mr_leg_slot leg;
	struct mr_leg_dp dp;
	struct mr_region r;
	bool json = false, first = true, dp_valid;
	uint32_t i;
	int c, err;

	optind = 0;
	while ((c = mr_ctl_getopt(argc, argv, opts, "leg list")) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			mr_ctl_usage(stdout);
			return 0;
		default:
			return MR_CTL_EXIT_INPUT;
		}
	}
	err = expect_args("leg list", argc, argv, 0);
	if (err != 0)
		return err;
	err = mr_ctl_open(&r, path, false);
	if (err != 0)
		return err;
	if (json)
		printf("{\"legs\": [");
	else
		printf("%-6s %-24s %-5s %-24s %-6s %-6s %-16s %-24s %-24s %10s %10s\n",
		       "SLOT", "LOCAL", "RTCP", "PEER", "EGRESS", "LATCH", "FLAGS",
		       "LATCHED-RTP", "LATCHED-RTCP", "RX-PKTS", "TX-PKTS");
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
