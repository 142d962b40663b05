/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mrelay-dp's configuration file (libconfig), docs/configuration.md.
 *
 * The file is loaded into a private copy of the defaults and copied out only
 * when every setting checks out, so a caller never sees half a configuration.
 * Settings are visited in file order and the first problem wins, so the error
 * is the first one a reader of the file meets. Checks that relate settings to
 * each other (gateway on-link, neighbours naming ports) run once what they
 * refer to is known. Unknown names are errors: a typo must not silently fall
 * back to a default. Each group is a table of the keys it takes, walked by
 * one function, so a key's rules sit on one line and the unknown-name hint
 * comes from the same table.
 *
 * Main thread, before the EAL starts; no DPDK calls, so the unit tests need
 * no hugepages.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libconfig.h>

#include <mrelay/leg.h>
#include <mrelay/shm.h>

#include "config.h"

#define MR_CFG_MTU_MIN 68                 /* RFC 791 minimum */
#define MR_CFG_MTU_MAX 9600
#define MR_CFG_DESC_MIN 64
#define MR_CFG_DESC_MAX 8192
#define MR_CFG_LCORE_MAX 127              /* RTE_MAX_LCORE (128) - 1 */
#define MR_CFG_RELAY_PORT_MIN 1024        /* below: privileged, well-known */
#define MR_CFG_BACKOFF_MAX_US 100000
#define MR_CFG_TIMEOUT_MAX_MS 86400000    /* one day */
#define MR_CFG_MBUFS_MIN 1023
#define MR_CFG_MBUFS_MAX 4194303

struct loader {
	const char *path;               /* named in errors when libconfig has no file */
	const char *include_dir;        /* where relative "@include" names live, or NULL */
	struct mr_dp_config *cfg;       /* private copy being filled */
	char *err;
	size_t errlen;
};

/*
 * One key of a group. Its loader reads and checks the value; the generic
 * loaders (integers, booleans, strings, addresses) store it at @off from the
 * group's base (the config, a port, a neighbour), and a loader made for one
 * key (a port's name, a neighbour's MAC) writes its own field. Checks that
 * relate keys to each other run in the group's function, after load_group().
 */
struct key;
typedef int key_loader(struct loader *ld, const config_setting_t *s, const struct key *k,
		       void *base);

struct key {
	const char *name;
	key_loader *load;               /* NULL: the group's function loads it after the walk */
	size_t off;                     /* where the value goes, from the group's base */
	/* integers: the range; strings: max = the buffer's size; load_host(): min = family */
	uint32_t min, max;
	const char *missing;            /* the complaint when the key is absent; NULL: optional */
};

#define REQUIRED "missing (required)"
#define CFG(f) offsetof(struct mr_dp_config, f)
#define CFG_SIZE(f) sizeof(((struct mr_dp_config *)0)->f)

void
mr_config_defaults(struct mr_dp_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->region, sizeof(cfg->region), "%s", MR_SHM_DEFAULT_PATH);
	cfg->port_min = 30000;
	cfg->port_max = 39999;
	cfg->idle_backoff_us = 100;
	cfg->latch_window_ms = 3000;
	cfg->relatch_idle_ms = 5000;
	cfg->relatch_auth_packets = 3;
	cfg->relatch_auth_quiet_ms = 200;
	cfg->media_idle_ms = 60000;
	cfg->neigh_reachable_ms = 30000;
	cfg->neigh_retry_ms = 1000;
	cfg->mbufs = 16383;             /* 2^q - 1: the mempool's sweet spot */
	cfg->exception_enabled = false;
	snprintf(cfg->exception_iface, sizeof(cfg->exception_iface), "%s", "mrelay-exc0");
}

/* ---- IP literals ------------------------------------------------------- */

/* "24": decimal, no sign, no leading zero, at most @max. */
static bool
parse_prefix_len(const char *s, unsigned int max, uint8_t *ret)
{
	unsigned int v = 0;
	size_t i;

	if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= 3 || s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned int)(s[i] - '0');
	}
	if (v > max)
		return false;
	*ret = (uint8_t)v;
	return true;
}

/*
 * mr_config_parse_ip() with the reason for a refusal, which the loader puts
 * in its message. @why completes a sentence whose subject is the literal.
 */
static int
parse_ip(const char *s, struct mr_sockaddr *ret_ip, uint8_t *ret_prefix, const char **why)
{
	struct mr_sockaddr ip;
	char buf[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t len = slash != NULL ? (size_t)(slash - s) : strlen(s);
	unsigned int max;
	uint8_t plen;

	if (slash != NULL && ret_prefix == NULL) {
		*why = "has a prefix length, which is not allowed here";
		return -EINVAL;
	}
	if (len == 0 || len >= sizeof(buf)) {
		*why = "is not an IPv4 or IPv6 address";
		return -EINVAL;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';

	/* inet_pton() refuses trailing garbage, shorthand ("10.1") and zones. */
	memset(&ip, 0, sizeof(ip));
	if (inet_pton(AF_INET, buf, ip.ip) == 1) {
		ip.family = MR_AF_INET;
		max = 32;
	} else {
		memset(&ip, 0, sizeof(ip));
		if (inet_pton(AF_INET6, buf, ip.ip) != 1) {
			*why = "is not an IPv4 or IPv6 address";
			return -EINVAL;
		}
		ip.family = MR_AF_INET6;
		max = 128;
	}

	plen = (uint8_t)max;
	if (slash != NULL && !parse_prefix_len(slash + 1, max, &plen)) {
		*why = max == 32 ? "has a bad prefix length (IPv4: 0..32)" :
				   "has a bad prefix length (IPv6: 0..128)";
		return -EINVAL;
	}
	*ret_ip = ip;
	if (ret_prefix != NULL)
		*ret_prefix = plen;
	return 0;
}

int
mr_config_parse_ip(const char *s, struct mr_sockaddr *ip, uint8_t *prefix)
{
	const char *why;

	if (s == NULL || ip == NULL)
		return -EINVAL;
	return parse_ip(s, ip, prefix, &why);
}

static bool
is_link_local6(const struct mr_sockaddr *ip)
{
	return ip->family == MR_AF_INET6 && ip->ip[0] == 0xfe && (ip->ip[1] & 0xc0) == 0x80;
}

/*
 * Why @ip cannot be a unicast host address (a relay address, a next hop, a
 * neighbour), or NULL if it can.
 */
static const char *
unicast_problem(const struct mr_sockaddr *ip)
{
	static const uint8_t v4mapped[12] = { [10] = 0xff, [11] = 0xff };
	static const uint8_t zero[16];
	const uint8_t *a = ip->ip;

	if (ip->family == MR_AF_INET) {
		if (a[0] == 0)
			return "is in 0.0.0.0/8 (\"this network\")";
		if (a[0] == 127)
			return "is a loopback address";
		if (a[0] >= 224 && a[0] < 240)
			return "is a multicast address";
		if (a[0] >= 240)
			return "is a reserved or broadcast address";
		return NULL;
	}
	if (memcmp(a, zero, 16) == 0)
		return "is the unspecified address";
	if (memcmp(a, zero, 15) == 0 && a[15] == 1)
		return "is a loopback address";
	if (a[0] == 0xff)
		return "is a multicast address";
	if (memcmp(a, v4mapped, sizeof(v4mapped)) == 0)
		return "is IPv4-mapped; write the IPv4 form";
	return NULL;
}

/* ---- errors -------------------------------------------------------------- */

/* "ports[1].addresses[0]": @s named the way a reader of the file would. */
static void
setting_path(const config_setting_t *s, char *buf, size_t len, size_t *off)
{
	const config_setting_t *parent = config_setting_parent(s);
	int n;

	if (parent == NULL)             /* the root group has no name */
		return;
	setting_path(parent, buf, len, off);
	if (config_setting_name(s) != NULL)
		n = snprintf(buf + *off, len - *off, "%s%s", *off > 0 ? "." : "",
			     config_setting_name(s));
	else
		n = snprintf(buf + *off, len - *off, "[%d]", config_setting_index(s));
	if (n > 0)
		*off = *off + (size_t)n < len ? *off + (size_t)n : len - 1;
}

/*
 * The file to name in a message about @file (libconfig's name for it): the
 * top file has none, and included files carry the name as written in the
 * "@include", relative to the including file's directory, not to the cwd.
 */
static const char *
file_name(const struct loader *ld, const char *file, char *buf, size_t len)
{
	if (file == NULL)
		return ld->path;
	if (file[0] == '/' || ld->include_dir == NULL)
		return file;
	if (snprintf(buf, len, "%s/%s", ld->include_dir, file) >= (int)len)
		return file;
	return buf;
}

/*
 * Record "FILE:LINE: SETTING: what" about @s (or about its missing member
 * @key, at the line of @s). The root group has no line: its messages are
 * "FILE: SETTING: what". Callers use fail(), which evaluates to -EINVAL in
 * plain sight, so the compiler knows that out-params are not read after it.
 */
#define fail(...) (record(__VA_ARGS__), -EINVAL)

static void __attribute__((format(printf, 4, 5)))
record(struct loader *ld, const config_setting_t *s, const char *key, const char *fmt, ...)
{
	unsigned int line = config_setting_source_line(s);
	char where[256], what[512], fbuf[PATH_MAX];
	const char *file;
	size_t off = 0;
	va_list ap;

	if (ld->err == NULL || ld->errlen == 0)
		return;
	where[0] = '\0';
	setting_path(s, where, sizeof(where), &off);
	if (key != NULL)
		snprintf(where + off, sizeof(where) - off, "%s%s", off > 0 ? "." : "", key);
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);

	file = file_name(ld, config_setting_source_file(s), fbuf, sizeof(fbuf));
	if (line > 0)
		snprintf(ld->err, ld->errlen, "%s:%u: %s: %s", file, line, where, what);
	else
		snprintf(ld->err, ld->errlen, "%s: %s: %s", file, where, what);
}

/* Levenshtein distance, capped: enough to spot a typo in a short name. */
static unsigned int
edit_distance(const char *a, const char *b)
{
	unsigned int row[33], i, j, diag, up;
	size_t la = strlen(a), lb = strlen(b);

	if (la > 32 || lb > 32)
		return UINT_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		diag = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			up = row[j];
			row[j] = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < row[j])
				row[j] = up + 1;
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			diag = up;
		}
	}
	return row[lb];
}

/* @keys: the table of the group @s sits in; used for a hint. */
static int
fail_unknown(struct loader *ld, const config_setting_t *s, const struct key *keys)
{
	const char *name = config_setting_name(s), *best = NULL;
	unsigned int d, best_d = 3;     /* suggest only within two edits */

	for (; keys->name != NULL; keys++) {
		d = edit_distance(name, keys->name);
		/* "media_idle" for "media_idle_ms": a dropped unit suffix */
		if (d >= best_d && strlen(name) >= 3 &&
		    strncmp(name, keys->name, strlen(name)) == 0)
			d = best_d - 1;
		if (d < best_d) {
			best_d = d;
			best = keys->name;
		}
	}
	if (best != NULL)
		return fail(ld, s, NULL, "unknown setting (did you mean \"%s\"?)", best);
	return fail(ld, s, NULL, "unknown setting");
}

static const char *
type_name(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP:
		return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a float";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	case CONFIG_TYPE_ARRAY:
		return "an array";
	case CONFIG_TYPE_LIST:
		return "a list";
	default:
		return "nothing";
	}
}

/* ---- typed values -------------------------------------------------------- */

/* Where the value of @k goes. */
static void *
at(void *base, const struct key *k)
{
	return (char *)base + k->off;
}

static int
get_int(struct loader *ld, const config_setting_t *s, long long min, long long max,
	long long *ret)
{
	long long v;

	if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64)
		return fail(ld, s, NULL, "expected an integer, got %s", type_name(s));
	v = config_setting_get_int64(s);
	if (v < min || v > max)
		return fail(ld, s, NULL, "%lld is out of range %lld..%lld", v, min, max);
	*ret = v;
	return 0;
}

static int
load_u16(struct loader *ld, const config_setting_t *s, const struct key *k, void *base)
{
	long long v;
	int r = get_int(ld, s, k->min, k->max, &v);

	if (r == 0)
		*(uint16_t *)at(base, k) = (uint16_t)v;
	return r;
}

static int
load_u32(struct loader *ld, const config_setting_t *s, const struct key *k, void *base)
{
	long long v;
	int r = get_int(ld, s, k->min, k->max, &v);

	if (r == 0)
		*(uint32_t *)at(base, k) = (uint32_t)v;
	return r;
}

/* Descriptor ring sizes: PMDs want a power of two. */
static int
load_desc(struct loader *ld, const config_setting_t *s, const struct key *k, void *base)
{
	const uint16_t *v = at(base, k);
	int r = load_u16(ld, s, k, base);

	if (r == 0 && (*v & (*v - 1)) != 0)
		r = fail(ld, s, NULL, "%u is not a power of two", *v);
	return r;
}

static int
load_bool(struct loader *ld, const config_setting_t *s, const struct key *k, void *base)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return fail(ld, s, NULL, "expected a boolean (true/false), got %s", type_name(s));
	*(bool *)at(base, k) = config_setting_get_bool(s) != 0;
	return 0;
}

/* A non-empty string; *ret points into libconfig's tree. */
static int
get_str(struct loader *ld, const config_setting_t *s, const char **ret)
{
	const char *v;

	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return fail(ld, s, NULL, "expected a string, got %s", type_name(s));
	v = config_setting_get_string(s);
	if (v[0] == '\0')
		return fail(ld, s, NULL, "must not be empty");
	*ret = v;
	return 0;
}

/* A non-empty string that fits @size bytes with its NUL. */
static int
get_str_buf(struct loader *ld, const config_setting_t *s, char *buf, size_t size)
{
	const char *v;
	size_t len;
	int r = get_str(ld, s, &v);

	if (r < 0)
		return r;
	len = strlen(v);
	if (len >= size)
		return fail(ld, s, NULL, "too long (%zu characters, at most %zu)", len, size - 1);
	memcpy(buf, v, len + 1);
	return 0;
}

static int
expect_group(struct loader *ld, const config_setting_t *s)
{
	if (!config_setting_is_group(s))
		return fail(ld, s, NULL, "expected a group { ... }, got %s", type_name(s));
	return 0;
}

/* Lists and arrays both hold a sequence; "()" and "[]" are both empty. */
static int
expect_seq(struct loader *ld, const config_setting_t *s, const char *what)
{
	if (!config_setting_is_list(s) && !config_setting_is_array(s))
		return fail(ld, s, NULL, "expected %s, got %s", what, type_name(s));
	return 0;
}

/* ---- the table walker ---------------------------------------------------- */

/*
 * Load group @g into @base by @keys (ended by a NULL name). Settings are
 * loaded in file order and the first problem wins; a required key that is
 * absent is reported after them, at the group's line, as a reader meets its
 * absence at the group's end.
 */
static int
load_group(struct loader *ld, const config_setting_t *g, const struct key *keys, void *base)
{
	const struct key *k;
	unsigned int i, n;
	int r;

	r = expect_group(ld, g);
	if (r < 0)
		return r;
	n = (unsigned int)config_setting_length(g);
	for (i = 0; i < n; i++) {
		const config_setting_t *c = config_setting_get_elem(g, i);
		const char *name = config_setting_name(c);

		for (k = keys; k->name != NULL && strcmp(k->name, name) != 0; k++)
			;
		if (k->name == NULL)
			return fail_unknown(ld, c, keys);
		r = k->load != NULL ? k->load(ld, c, k, base) : 0;
		if (r < 0)
			return r;
	}
	for (k = keys; k->name != NULL; k++)
		if (k->missing != NULL && config_setting_get_member(g, k->name) == NULL)
			return fail(ld, g, k->name, "%s", k->missing);
	return 0;
}

/* ---- ports --------------------------------------------------------------- */

/* Names show up in logs, mrelayctl and neighbour entries: keep them plain. */
static bool
name_ok(const char *s)
{
	for (; *s != '\0'; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
			return false;
	}
	return true;
}

static const struct mr_cfg_port *
port_with_addr(const struct mr_dp_config *cfg, unsigned int n_ports, const struct mr_sockaddr *ip)
{
	unsigned int i, j;

	for (i = 0; i < n_ports; i++)
		for (j = 0; j < cfg->ports[i].n_addrs; j++)
			if (mr_sockaddr_ip_eq(&cfg->ports[i].addrs[j].ip, ip))
				return &cfg->ports[i];
	return NULL;
}

/* Inside one of @p's prefixes (or IPv6 link-local on a port that has IPv6). */
static bool
on_link(const struct mr_cfg_port *p, const struct mr_sockaddr *ip)
{
	bool has_family = false;
	unsigned int i;

	for (i = 0; i < p->n_addrs; i++) {
		const struct mr_cfg_addr *a = &p->addrs[i];

		if (a->ip.family != ip->family)
			continue;
		has_family = true;
		if (mr_prefix_match(a->ip.ip, ip->ip, a->prefix_len))
			return true;
	}
	return has_family && is_link_local6(ip);
}

static bool
has_family(const struct mr_cfg_port *p, uint8_t family)
{
	unsigned int i;

	for (i = 0; i < p->n_addrs; i++)
		if (p->addrs[i].ip.family == family)
			return true;
	return false;
}

/* Why an IPv4 host address is unusable inside its own /@plen, or NULL. */
static const char *
subnet_problem(const struct mr_sockaddr *ip, uint8_t plen)
{
	uint32_t v, host;

	if (ip->family != MR_AF_INET || plen == 0 || plen > 30)
		return NULL;            /* /31 and /32 have no network/broadcast */
	v = (uint32_t)ip->ip[0] << 24 | (uint32_t)ip->ip[1] << 16 |
	    (uint32_t)ip->ip[2] << 8 | ip->ip[3];
	host = v & (UINT32_MAX >> plen);
	if (host == 0)
		return "is the network address of its subnet";
	if (host == UINT32_MAX >> plen)
		return "is the broadcast address of its subnet";
	return NULL;
}

static int
load_addresses(struct loader *ld, const config_setting_t *s, const struct key *k, void *base)
{
	struct mr_dp_config *cfg = ld->cfg;
	struct mr_cfg_port *p = base;
	unsigned int i, n, idx = (unsigned int)(p - cfg->ports);
	int r;

	(void)k;
	r = expect_seq(ld, s, "an array of \"IP/prefix\" strings");
	if (r < 0)
		return r;
	n = (unsigned int)config_setting_length(s);
	if (n == 0)
		return fail(ld, s, NULL, "at least one address is required");
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		const struct mr_cfg_port *other;
		struct mr_cfg_addr a;
		const char *str, *why;

		if (i >= MR_CFG_MAX_ADDRS)
			return fail(ld, e, NULL, "too many addresses (at most %u)", MR_CFG_MAX_ADDRS);
		r = get_str(ld, e, &str);
		if (r < 0)
			return r;
		if (parse_ip(str, &a.ip, &a.prefix_len, &why) < 0)
			return fail(ld, e, NULL, "\"%s\" %s", str, why);
		if (strchr(str, '/') == NULL)
			return fail(ld, e, NULL, "\"%s\" has no prefix length (\"IP/prefix\")", str);
		if (a.prefix_len == 0)
			return fail(ld, e, NULL, "\"%s\": a /0 prefix would put every host on-link",
				    str);
		why = unicast_problem(&a.ip);
		if (why == NULL)
			why = subnet_problem(&a.ip, a.prefix_len);
		if (why != NULL)
			return fail(ld, e, NULL, "\"%s\" %s", str, why);
		/* ports[idx] counts itself: its addresses so far are in place */
		other = port_with_addr(cfg, idx + 1, &a.ip);
		if (other != NULL)
			return fail(ld, e, NULL, "duplicate address \"%s\" (already on port \"%s\")",
				    str, other->name);
		p->addrs[p->n_addrs++] = a;
	}
	return 0;
}

/*
 * A unicast host address without prefix, of family k->min (MR_AF_NONE:
 * either): a next hop or a neighbour. Where it lies relative to the ports
 * is checked once they are known.
 */
static int
load_host(struct loader *ld, const config_setting_t *s, const struct key *k, void *base)
{
	struct mr_sockaddr ip;
	const char *str, *why;
	int r = get_str(ld, s, &str);

	if (r < 0)
		return r;
	if (parse_ip(str, &ip, NULL, &why) < 0)
		return fail(ld, s, NULL, "\"%s\" %s", str, why);
	if (k->min != MR_AF_NONE && ip.family != k->min)
		return fail(ld, s, NULL, "\"%s\" is not an %s address", str,
			    k->min == MR_AF_INET ? "IPv4" : "IPv6");
	why = unicast_problem(&ip);
	if (why != NULL)
		return fail(ld, s, NULL, "\"%s\" %s", str, why);
	*(struct mr_sockaddr *)at(base, k) = ip;
	return 0;
}

/*
 * A next hop (@s, NULL if the port has none) must be reachable without a
 * next hop, and not be ourselves.
 */
static int
check_gateway(struct loader *ld, const config_setting_t *s, const struct mr_cfg_port *p,
	      const struct mr_sockaddr *gw)
{
	const char *fam = gw->family == MR_AF_INET ? "IPv4" : "IPv6";
	const char *str;

	if (s == NULL)
		return 0;
	str = config_setting_get_string(s);
	if (!has_family(p, gw->family))
		return fail(ld, s, NULL, "\"%s\": port \"%s\" has no %s address", str, p->name, fam);
	if (port_with_addr(ld->cfg, ld->cfg->n_ports, gw) != NULL)
		return fail(ld, s, NULL, "\"%s\" is one of the relay's own addresses", str);
	if (!on_link(p, gw))
		return fail(ld, s, NULL, "\"%s\" is not on-link: no %s prefix of port \"%s\" holds it",
			    str, fam, p->name);
	return 0;
}

/* Earlier ports hold the names and devices this one must not repeat. */
static int
load_port_name(struct loader *ld, const config_setting_t *s, const struct key *k, void *base)
{
	struct mr_cfg_port *p = base;
	const struct mr_cfg_port *o;
	int r = get_str_buf(ld, s, p->name, sizeof(p->name));

	(void)k;
	if (r < 0)
		return r;
	if (!name_ok(p->name))
		return fail(ld, s, NULL, "\"%s\": use letters, digits, '-', '_' and '.'", p->name);
	for (o = ld->cfg->ports; o < p; o++)
		if (strcmp(o->name, p->name) == 0)
			return fail(ld, s, NULL, "duplicate port name \"%s\"", p->name);
	return 0;
}

static int
load_device(struct loader *ld, const config_setting_t *s, const struct key *k, void *base)
{
	struct mr_cfg_port *p = base;
	const struct mr_cfg_port *o;
	int r = get_str_buf(ld, s, p->device, sizeof(p->device));

	(void)k;
	if (r < 0)
		return r;
	if (strpbrk(p->device, " \t\r\n") != NULL)
		return fail(ld, s, NULL, "\"%s\" contains white space", p->device);
	for (o = ld->cfg->ports; o < p; o++)
		if (strcmp(o->device, p->device) == 0)
			return fail(ld, s, NULL, "device \"%s\" is already port \"%s\"", p->device,
				    o->name);
	return 0;
}

#define PORT(f) offsetof(struct mr_cfg_port, f)

static const struct key port_keys[] = {
	{ "name", load_port_name, 0, 0, 0, REQUIRED },
	{ "device", load_device, 0, 0, 0, REQUIRED },
	{ "mtu", load_u16, PORT(mtu), MR_CFG_MTU_MIN, MR_CFG_MTU_MAX, NULL },
	{ "vlan", load_u16, PORT(vlan), 1, 4094, NULL },
	{ "rx_desc", load_desc, PORT(rx_desc), MR_CFG_DESC_MIN, MR_CFG_DESC_MAX, NULL },
	{ "tx_desc", load_desc, PORT(tx_desc), MR_CFG_DESC_MIN, MR_CFG_DESC_MAX, NULL },
	{ "addresses", load_addresses, 0, 0, 0, REQUIRED },
	{ "gateway", load_host, PORT(gateway4), MR_AF_INET, 0, NULL },
	{ "gateway6", load_host, PORT(gateway6), MR_AF_INET6, 0, NULL },
	{ NULL, NULL, 0, 0, 0, NULL },
};

static int
load_port(struct loader *ld, const config_setting_t *g, unsigned int idx)
{
	struct mr_cfg_port *p = &ld->cfg->ports[idx];
	int r;

	r = load_group(ld, g, port_keys, p);
	if (r < 0)
		return r;
	/* Own-address checks below see this port's addresses too. */
	ld->cfg->n_ports = idx + 1;
	r = check_gateway(ld, config_setting_get_member(g, "gateway"), p, &p->gateway4);
	if (r < 0)
		return r;
	return check_gateway(ld, config_setting_get_member(g, "gateway6"), p, &p->gateway6);
}

static int
load_ports(struct loader *ld, const config_setting_t *s, const struct key *k, void *base)
{
	unsigned int i, n;
	int r;

	(void)k;
	(void)base;
	r = expect_seq(ld, s, "a list of groups ( { ... }, ... )");
	if (r < 0)
		return r;
	n = (unsigned int)config_setting_length(s);
	if (n == 0)
		return fail(ld, s, NULL, "at least one port is required");
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);

		if (i >= MR_CFG_MAX_PORTS)
			return fail(ld, e, NULL, "too many ports (at most %u)", MR_CFG_MAX_PORTS);
		r = load_port(ld, e, i);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- other groups -------------------------------------------------------- */

static const struct key relay_keys[] = {
	{ "port_min", load_u16, CFG(port_min), MR_CFG_RELAY_PORT_MIN, UINT16_MAX, NULL },
	{ "port_max", load_u16, CFG(port_max), MR_CFG_RELAY_PORT_MIN, UINT16_MAX, NULL },
	{ NULL, NULL, 0, 0, 0, NULL },
};

static int
load_relay(struct loader *ld, const config_setting_t *g, const struct key *k, void *base)
{
	struct mr_dp_config *cfg = base;
	const config_setting_t *smin, *smax, *blame;
	int r;

	(void)k;
	r = load_group(ld, g, relay_keys, cfg);
	if (r < 0)
		return r;

	/* The defaults are sane, so whatever is wrong was set here. */
	smin = config_setting_get_member(g, "port_min");
	smax = config_setting_get_member(g, "port_max");
	if (cfg->port_min % 2 != 0)
		return fail(ld, smin, NULL, "%u is odd: RTP takes an even port, RTCP the next one",
			    cfg->port_min);
	blame = smax != NULL ? smax : smin;
	if (cfg->port_max < cfg->port_min)
		return fail(ld, blame, NULL, "range %u..%u is inverted", cfg->port_min,
			    cfg->port_max);
	if (cfg->port_max == cfg->port_min)
		return fail(ld, blame, NULL,
			    "range %u..%u holds one port; RTP and RTCP need at least 2",
			    cfg->port_min, cfg->port_max);
	return 0;
}

static int
load_workers(struct loader *ld, const config_setting_t *s, const struct key *k, void *base)
{
	struct mr_dp_config *cfg = base;
	unsigned int i, j, n;
	int r;

	(void)k;
	r = expect_seq(ld, s, "an array of lcore ids [ ... ]");
	if (r < 0)
		return r;
	n = (unsigned int)config_setting_length(s);
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		long long lcore = 0;    /* set when r == 0; gcc -O3 warns otherwise */

		if (i >= MR_CFG_MAX_WORKERS)
			return fail(ld, e, NULL, "too many workers (at most %u)", MR_CFG_MAX_WORKERS);
		r = get_int(ld, e, 1, MR_CFG_LCORE_MAX, &lcore);
		if (r < 0)
			return r;
		for (j = 0; j < i; j++)
			if (cfg->workers[j] == lcore)
				return fail(ld, e, NULL, "lcore %lld is listed twice", lcore);
		cfg->workers[i] = (unsigned int)lcore;
	}
	cfg->n_workers = n;
	return 0;
}

/* A neighbour timer of 0 would spin: those must be > 0. */
static const struct key timeout_keys[] = {
	{ "latch_window_ms", load_u32, CFG(latch_window_ms), 0, MR_CFG_TIMEOUT_MAX_MS, NULL },
	{ "relatch_idle_ms", load_u32, CFG(relatch_idle_ms), 0, MR_CFG_TIMEOUT_MAX_MS, NULL },
	{ "relatch_auth_packets", load_u32, CFG(relatch_auth_packets), 1, 64, NULL },
	{ "relatch_auth_quiet_ms", load_u32, CFG(relatch_auth_quiet_ms),
	  0, MR_CFG_TIMEOUT_MAX_MS, NULL },
	{ "media_idle_ms", load_u32, CFG(media_idle_ms), 0, MR_CFG_TIMEOUT_MAX_MS, NULL },
	{ "neighbour_reachable_ms", load_u32, CFG(neigh_reachable_ms),
	  1, MR_CFG_TIMEOUT_MAX_MS, NULL },
	{ "neighbour_retry_ms", load_u32, CFG(neigh_retry_ms), 1, MR_CFG_TIMEOUT_MAX_MS, NULL },
	{ NULL, NULL, 0, 0, 0, NULL },
};

static int
load_timeouts(struct loader *ld, const config_setting_t *g, const struct key *k, void *base)
{
	(void)k;
	return load_group(ld, g, timeout_keys, base);
}

/* What the kernel accepts as a link name (dev_valid_name()). */
static bool
ifname_ok(const char *s)
{
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (; *s != '\0'; s++)
		if (*s <= ' ' || *s == '/' || *s == ':' || *s == 0x7f)
			return false;
	return true;
}

static int
load_ifname(struct loader *ld, const config_setting_t *s, const struct key *k, void *base)
{
	char *v = at(base, k);
	int r = get_str_buf(ld, s, v, k->max);

	if (r == 0 && !ifname_ok(v))
		r = fail(ld, s, NULL, "\"%s\" is not a valid interface name", v);
	return r;
}

static const struct key exception_keys[] = {
	{ "enabled", load_bool, CFG(exception_enabled), 0, 0, NULL },
	{ "iface", load_ifname, CFG(exception_iface), 0, CFG_SIZE(exception_iface), NULL },
	{ NULL, NULL, 0, 0, 0, NULL },
};

static int
load_exception(struct loader *ld, const config_setting_t *g, const struct key *k, void *base)
{
	(void)k;
	return load_group(ld, g, exception_keys, base);
}

/* ---- neighbours ---------------------------------------------------------- */

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Exactly "aa:bb:cc:dd:ee:ff" (either case). */
static bool
parse_mac(const char *s, uint8_t mac[6])
{
	uint8_t m[6];
	unsigned int i;
	int hi, lo;

	if (strlen(s) != 17)
		return false;
	for (i = 0; i < 6; i++) {
		hi = hex_digit(s[3 * i]);
		lo = hex_digit(s[3 * i + 1]);
		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return false;
		m[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(mac, m, sizeof(m));
	return true;
}

static int
load_mac(struct loader *ld, const config_setting_t *s, const struct key *k, void *base)
{
	static const uint8_t zero_mac[6];
	struct mr_cfg_neigh *nb = base;
	const char *str;
	int r = get_str(ld, s, &str);

	(void)k;
	if (r < 0)
		return r;
	if (!parse_mac(str, nb->mac))
		return fail(ld, s, NULL, "\"%s\" is not a MAC address (aa:bb:cc:dd:ee:ff)", str);
	if ((nb->mac[0] & 1) != 0 || memcmp(nb->mac, zero_mac, 6) == 0)
		return fail(ld, s, NULL, "\"%s\" is not a unicast MAC address", str);
	return 0;
}

/* By name: load_root() loads neighbours once every port is known. */
static int
load_neigh_port(struct loader *ld, const config_setting_t *s, const struct key *k, void *base)
{
	struct mr_cfg_neigh *nb = base;
	const char *str;
	unsigned int j;
	int r = get_str(ld, s, &str);

	(void)k;
	if (r < 0)
		return r;
	for (j = 0; j < ld->cfg->n_ports; j++)
		if (strcmp(ld->cfg->ports[j].name, str) == 0) {
			nb->port = j;
			return 0;
		}
	return fail(ld, s, NULL, "no port is named \"%s\"", str);
}

static const struct key neigh_keys[] = {
	{ "ip", load_host, offsetof(struct mr_cfg_neigh, ip), MR_AF_NONE, 0, REQUIRED },
	{ "mac", load_mac, 0, 0, 0, REQUIRED },
	{ "port", load_neigh_port, 0, 0, 0, REQUIRED },
	{ NULL, NULL, 0, 0, 0, NULL },
};

static int
load_neighbour(struct loader *ld, const config_setting_t *g, unsigned int idx)
{
	struct mr_dp_config *cfg = ld->cfg;
	struct mr_cfg_neigh *nb = &cfg->neigh[idx];
	const config_setting_t *sip;
	const struct mr_cfg_port *p;
	const char *str;
	unsigned int j;
	int r;

	r = load_group(ld, g, neigh_keys, nb);
	if (r < 0)
		return r;

	/* Static entries stand in for ARP/ND, which only ever resolve on-link. */
	p = &cfg->ports[nb->port];
	sip = config_setting_get_member(g, "ip");
	str = config_setting_get_string(sip);
	if (port_with_addr(cfg, cfg->n_ports, &nb->ip) != NULL)
		return fail(ld, sip, NULL, "\"%s\" is one of the relay's own addresses", str);
	if (!on_link(p, &nb->ip))
		return fail(ld, sip, NULL, "\"%s\" is not on-link on port \"%s\"", str, p->name);
	for (j = 0; j < idx; j++)
		if (cfg->neigh[j].port == nb->port && mr_sockaddr_ip_eq(&cfg->neigh[j].ip, &nb->ip))
			return fail(ld, sip, NULL, "duplicate neighbour \"%s\" on port \"%s\"", str,
				    p->name);
	return 0;
}

static int
load_neighbours(struct loader *ld, const config_setting_t *s)
{
	unsigned int i, n;
	int r;

	r = expect_seq(ld, s, "a list of groups ( { ... }, ... )");
	if (r < 0)
		return r;
	n = (unsigned int)config_setting_length(s);
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);

		if (i >= MR_CFG_MAX_NEIGH)
			return fail(ld, e, NULL, "too many neighbours (at most %u)", MR_CFG_MAX_NEIGH);
		r = load_neighbour(ld, e, i);
		if (r < 0)
			return r;
		ld->cfg->n_neigh = i + 1;
	}
	return 0;
}

/* ---- the file ------------------------------------------------------------ */

/* mrelay-dp may run from any directory (systemd: /). */
static int
load_path(struct loader *ld, const config_setting_t *s, const struct key *k, void *base)
{
	char *v = at(base, k);
	int r = get_str_buf(ld, s, v, k->max);

	if (r == 0 && v[0] != '/')
		r = fail(ld, s, NULL, "\"%s\" is not an absolute path", v);
	return r;
}

static int
load_engine(struct loader *ld, const config_setting_t *s, const struct key *k, void *base)
{
	static const char *const names[] = {
		[MR_CFG_SRTP_AUTO] = "auto",
		[MR_CFG_SRTP_LIBSRTP] = "libsrtp",
		[MR_CFG_SRTP_IPSEC_MB] = "ipsec-mb",
	};
	const char *v;
	uint8_t i;
	int r = get_str(ld, s, &v);

	if (r < 0)
		return r;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(v, names[i]) == 0) {
			*(uint8_t *)at(base, k) = i;
			return 0;
		}
	return fail(ld, s, NULL, "\"%s\" is not an SRTP engine (auto, libsrtp, ipsec-mb)", v);
}

static const struct key root_keys[] = {
	{ "region", load_path, CFG(region), 0, CFG_SIZE(region), NULL },
	{ "ports", load_ports, 0, 0, 0, "missing (required): at least one port" },
	{ "relay", load_relay, 0, 0, 0, NULL },
	{ "workers", load_workers, 0, 0, 0, NULL },
	{ "idle_backoff_us", load_u32, CFG(idle_backoff_us), 0, MR_CFG_BACKOFF_MAX_US, NULL },
	{ "timeouts", load_timeouts, 0, 0, 0, NULL },
	{ "mbufs", load_u32, CFG(mbufs), MR_CFG_MBUFS_MIN, MR_CFG_MBUFS_MAX, NULL },
	{ "exception", load_exception, 0, 0, 0, NULL },
	{ "neighbours", NULL, 0, 0, 0, NULL },  /* names ports: loaded once all are known */
	{ "srtp_engine", load_engine, CFG(srtp_engine), 0, 0, NULL },
	{ NULL, NULL, 0, 0, 0, NULL },
};

static int
load_root(struct loader *ld, const config_setting_t *root)
{
	const config_setting_t *neigh;
	int r;

	r = load_group(ld, root, root_keys, ld->cfg);
	if (r < 0)
		return r;
	neigh = config_setting_get_member(root, "neighbours");
	if (neigh != NULL)
		return load_neighbours(ld, neigh);
	return 0;
}

/*
 * Where "@include" names are looked up: next to the file, not in the cwd.
 * @dir (PATH_MAX bytes) must outlive the load: messages name files with it.
 */
static void
set_include_dir(struct loader *ld, config_t *lc, char *dir)
{
	const char *slash = strrchr(ld->path, '/');
	size_t len;

	if (slash == NULL)
		return;         /* the cwd: libconfig's default */
	len = slash == ld->path ? 1 : (size_t)(slash - ld->path);
	if (len >= PATH_MAX)
		return;
	memcpy(dir, ld->path, len);
	dir[len] = '\0';
	config_set_include_dir(lc, dir);
	ld->include_dir = dir;
}

static void __attribute__((format(printf, 3, 4)))
report(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int
mr_config_load(const char *path, struct mr_dp_config *cfg, char *err, size_t errlen)
{
	struct loader ld = { .path = path, .err = err, .errlen = errlen };
	char dir[PATH_MAX], fbuf[PATH_MAX];
	struct stat st;
	config_t lc;
	FILE *f;
	int r;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	/* Open it ourselves: libconfig reports only "file I/O error", not why. */
	f = fopen(path, "r");
	if (f == NULL) {
		r = -errno;
		report(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	if (fstat(fileno(f), &st) < 0) {
		r = -errno;
		report(err, errlen, "%s: %s", path, strerror(-r));
		goto err_close;
	}
	if (S_ISDIR(st.st_mode)) {
		r = -EISDIR;
		report(err, errlen, "%s: %s", path, strerror(-r));
		goto err_close;
	}
	ld.cfg = malloc(sizeof(*ld.cfg));
	if (ld.cfg == NULL) {
		r = -ENOMEM;
		report(err, errlen, "%s: %s", path, strerror(-r));
		goto err_close;
	}
	mr_config_defaults(ld.cfg);

	config_init(&lc);
	set_include_dir(&ld, &lc, dir);
	if (config_read(&lc, f) != CONFIG_TRUE) {
		const char *file = file_name(&ld, config_error_file(&lc), fbuf, sizeof(fbuf));

		r = config_error_type(&lc) == CONFIG_ERR_FILE_IO ? -EIO : -EINVAL;
		if (config_error_line(&lc) > 0)
			report(err, errlen, "%s:%d: %s", file, config_error_line(&lc),
			       config_error_text(&lc));
		else
			report(err, errlen, "%s: %s", file, config_error_text(&lc));
		goto err_destroy;
	}
	r = load_root(&ld, config_root_setting(&lc));
	if (r < 0)
		goto err_destroy;
	*cfg = *ld.cfg;
err_destroy:
	config_destroy(&lc);
	free(ld.cfg);
err_close:
	fclose(f);
	return r;
}
