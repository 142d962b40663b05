/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mrelay-cp's configuration file (libconfig), docs/configuration.md.
 *
 * The approach is mrelay-dp's (dataplane/config.c): load into a private copy
 * of the defaults, visit settings in file order so the first problem a
 * reader meets is the one reported, refuse unknown names (with a "did you
 * mean"), and relate settings to each other once all are known. So is the
 * shape: each group is described by a table of keys (name, loader, where
 * the value goes, range), walked by one function, so adding a key is one
 * line and the unknown-key hint comes from the same table.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

#include <libconfig.h>

#include <mrelay/shm.h>

#include "config.h"
#include "digest.h"

#define RELAY_PORT_MIN 1024             /* as mrelay-dp's relay range */
#define DAY_S 86400
#define WEEK_S (7 * DAY_S)
#define MAX_CALLS 10000000
#define MAX_RATE 1000000
#define JOURNAL_SUFFIX_LEN 13           /* "/journal.new" and NUL */

struct loader {
	const char *path;
	const char *include_dir;
	struct mr_cp_config *cfg;
	char *err;
	size_t errlen;
};

struct key;
typedef int key_loader(struct loader *ld, const config_setting_t *s, const struct key *k,
		       void *base);

struct key {
	const char *name;
	key_loader *load;
	size_t off;                     /* where the value goes, from the group's base */
	long long min, max;             /* integers; strings: max = buffer size */
	long long scale;                /* integers: stored = value * scale (0 = 1) */
	const struct key *sub;          /* nested group's table */
	size_t sub_off;                 /* nested group's base, from this base */
};

/* The "sip" group's defaults; sip.enabled stays false until the group is
 * seen. docs/configuration.md lists the same values. */
static void
sip_defaults(struct mr_sip_config *sip)
{
	snprintf(sip->accounts_db, sizeof(sip->accounts_db), "%s", "/var/lib/mrelay/accounts.db");
	snprintf(sip->cdr_db, sizeof(sip->cdr_db), "%s", "/var/lib/mrelay/cdr.db");
	sip->cdr_retention_days = 90;
	snprintf(sip->ciphers, sizeof(sip->ciphers), "%s", "ECDHE+AESGCM:ECDHE+CHACHA20");
	snprintf(sip->ciphersuites, sizeof(sip->ciphersuites), "%s",
		 "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256");
	sip->reg_min_expires_s = 60;
	sip->reg_max_expires_s = 3600;
	sip->session_expires_s = 1800;
	sip->min_se_s = 90;
	sip->max_flows = 4096;
	sip->flow_idle_s = 300;
}

void
mr_cp_config_defaults(struct mr_cp_config *cfg)
{
	unsigned int i;

	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->region, sizeof(cfg->region), "%s", MR_SHM_DEFAULT_PATH);
	cfg->region_max_legs = MR_SHM_DEFAULT_LEGS;
	cfg->region_max_workers = MR_SHM_DEFAULT_WORKERS;
	snprintf(cfg->admin_socket, sizeof(cfg->admin_socket), "%s", "/run/mrelay/mrelay-cp.sock");
	snprintf(cfg->state_dir, sizeof(cfg->state_dir), "%s", "/var/lib/mrelay");
	cfg->n_ng_udp = 1;
	cfg->ng_udp[0].family = MR_AF_INET;
	inet_pton(AF_INET, "127.0.0.1", cfg->ng_udp[0].ip);
	cfg->ng_udp[0].port_be = htons(2223);
	cfg->timeouts.media_idle_ms = 60000;
	cfg->timeouts.offer_ms = 60000;
	cfg->timeouts.call_max_ms = 4 * 3600 * 1000;
	cfg->timeouts.old_key_ms = 60000;
	for (i = 0; i < MR_LOG_SUBSYS_MAX; i++)
		cfg->log_level[i] = LOG_INFO;
	sip_defaults(&cfg->sip);
}

/* ---- errors (the messages mrelay-dp's loader gives) -------------------------- */

static void
setting_path(const config_setting_t *s, char *buf, size_t len, size_t *off)
{
	const config_setting_t *parent = config_setting_parent(s);
	int n;

	if (parent == NULL)
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

static int
fail_unknown(struct loader *ld, const config_setting_t *s, const struct key *keys)
{
	const char *name = config_setting_name(s), *best = NULL;
	unsigned int d, best_d = 3;

	for (; keys->name != NULL; keys++) {
		d = edit_distance(name, keys->name);
		if (d >= best_d && strlen(name) >= 3 &&
		    strncmp(name, keys->name, strlen(name)) == 0)
			d = best_d - 1;         /* "media_idle" for "media_idle_s" */
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

/* ---- the table walker ---------------------------------------------------------- */

static int
load_group(struct loader *ld, const config_setting_t *g, const struct key *keys, void *base,
	   const config_setting_t **seen)
{
	unsigned int i, n;

	if (!config_setting_is_group(g))
		return fail(ld, g, NULL, "expected a group { ... }, got %s", type_name(g));
	n = (unsigned int)config_setting_length(g);
	for (i = 0; i < n; i++) {
		const config_setting_t *c = config_setting_get_elem(g, i);
		const char *name = config_setting_name(c);
		const struct key *k;
		int r;

		for (k = keys; k->name != NULL && strcmp(k->name, name) != 0; k++)
			;
		if (k->name == NULL)
			return fail_unknown(ld, c, keys);
		r = k->load(ld, c, k, base);
		if (r < 0)
			return r;
		if (seen != NULL)
			seen[k - keys] = c;
	}
	return 0;
}

static int
load_sub(struct loader *ld, const config_setting_t *s, const struct key *k, void *base)
{
	return load_group(ld, s, k->sub, (char *)base + k->sub_off, NULL);
}

/* ---- scalar values ------------------------------------------------------------- */

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
load_u32(struct loader *ld, const config_setting_t *s, const struct key *k, void *base)
{
	long long v = 0;
	int r = get_int(ld, s, k->min, k->max, &v);

	if (r == 0)
		*(uint32_t *)((char *)base + k->off) = (uint32_t)(v * (k->scale != 0 ? k->scale : 1));
	return r;
}

static int
load_u16(struct loader *ld, const config_setting_t *s, const struct key *k, void *base)
{
	long long v = 0;
	int r = get_int(ld, s, k->min, k->max, &v);

	if (r == 0)
		*(uint16_t *)((char *)base + k->off) = (uint16_t)v;
	return r;
}

static int
load_u8(struct loader *ld, const config_setting_t *s, const struct key *k, void *base)
{
	long long v = 0;
	int r = get_int(ld, s, k->min, k->max, &v);

	if (r == 0)
		*(uint8_t *)((char *)base + k->off) = (uint8_t)v;
	return r;
}

static int
load_bool(struct loader *ld, const config_setting_t *s, const struct key *k, void *base)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return fail(ld, s, NULL, "expected true or false, got %s", type_name(s));
	*(bool *)((char *)base + k->off) = config_setting_get_bool(s) != 0;
	return 0;
}

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

/* get_str(), refusing what would not fit @size bytes with its NUL. */
static int
get_str_fits(struct loader *ld, const config_setting_t *s, long long size, const char **ret)
{
	const char *v = NULL;
	int r = get_str(ld, s, &v);

	if (r < 0)
		return r;
	if (strlen(v) >= (size_t)size)
		return fail(ld, s, NULL, "too long (%zu characters, at most %lld)", strlen(v),
			    size - 1);
	*ret = v;
	return 0;
}

/* An absolute path that fits k->max bytes: daemons run from "/". */
static int
load_path(struct loader *ld, const config_setting_t *s, const struct key *k, void *base)
{
	const char *v = NULL;
	size_t len;
	int r = get_str(ld, s, &v);

	if (r < 0)
		return r;
	len = strlen(v);
	if (v[0] != '/')
		return fail(ld, s, NULL, "\"%s\" is not an absolute path", v);
	if (len >= (size_t)k->max)
		return fail(ld, s, NULL, "too long (%zu characters, at most %lld)", len, k->max - 1);
	memcpy((char *)base + k->off, v, len + 1);
	return 0;
}

static int
load_level(struct loader *ld, const config_setting_t *s, const struct key *k, void *base)
{
	const char *v = NULL;
	int r = get_str(ld, s, &v), lvl;

	if (r < 0)
		return r;
	lvl = mr_log_level_from_name(v);
	if (lvl < 0)
		return fail(ld, s, NULL, "\"%s\" is not a level (error, warning, notice, info, debug)",
			    v);
	*(int *)((char *)base + k->off) = lvl;
	return 0;
}

/* ---- addresses --------------------------------------------------------------- */

static int
parse_ip(const char *s, struct mr_sockaddr *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (inet_pton(AF_INET, s, ret->ip) == 1) {
		ret->family = MR_AF_INET;
		return 0;
	}
	memset(ret, 0, sizeof(*ret));
	if (inet_pton(AF_INET6, s, ret->ip) == 1) {
		ret->family = MR_AF_INET6;
		return 0;
	}
	return -EINVAL;
}

/* Why @ip cannot be a relay address, or NULL. */
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
		if (a[0] >= 224)
			return "is a multicast, reserved or broadcast address";
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

/* "addresses" or "advertised": at most one IPv4 and one IPv6 address. */
static int
load_ip_pair(struct loader *ld, const config_setting_t *s, struct mr_sockaddr *v4,
	     struct mr_sockaddr *v6, bool relay)
{
	unsigned int i, n;

	if (!config_setting_is_list(s) && !config_setting_is_array(s))
		return fail(ld, s, NULL, "expected an array of address strings, got %s", type_name(s));
	n = (unsigned int)config_setting_length(s);
	if (n == 0)
		return fail(ld, s, NULL, "at least one address is required");
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		struct mr_sockaddr ip, *slot;
		const char *str = NULL, *why;
		int r = get_str(ld, e, &str);

		if (r < 0)
			return r;
		if (parse_ip(str, &ip) < 0)
			return fail(ld, e, NULL, "\"%s\" is not an IPv4 or IPv6 address (no port, no "
				    "prefix)", str);
		why = unicast_problem(&ip);
		/* An advertised address may be anything routable, but not these. */
		if (why != NULL)
			return fail(ld, e, NULL, "\"%s\" %s", str, why);
		slot = ip.family == MR_AF_INET ? v4 : v6;
		if (slot->family != MR_AF_NONE)
			return fail(ld, e, NULL, "\"%s\": a second %s address (one of each family)",
				    str, ip.family == MR_AF_INET ? "IPv4" : "IPv6");
		*slot = ip;
	}
	(void)relay;
	return 0;
}

static int
load_addresses(struct loader *ld, const config_setting_t *s, const struct key *k, void *base)
{
	struct mr_session_iface *f = base;

	(void)k;
	return load_ip_pair(ld, s, &f->local4, &f->local6, true);
}

static int
load_advertised(struct loader *ld, const config_setting_t *s, const struct key *k, void *base)
{
	struct mr_session_iface *f = base;

	(void)k;
	return load_ip_pair(ld, s, &f->adv4, &f->adv6, false);
}

int
mr_cp_parse_addr(const char *s, struct mr_sockaddr *ret)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port;
	size_t len;
	char *end;
	long p;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':')
			return -EINVAL;
		len = (size_t)(close - s - 1);
		port = close + 2;
		if (len == 0 || len >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, len);
		host[len] = '\0';
		memset(ret, 0, sizeof(*ret));
		if (inet_pton(AF_INET6, host, ret->ip) != 1)
			return -EINVAL;
		ret->family = MR_AF_INET6;
	} else {
		const char *colon = strchr(s, ':');

		if (colon == NULL || strchr(colon + 1, ':') != NULL)
			return -EINVAL;
		len = (size_t)(colon - s);
		port = colon + 1;
		if (len == 0 || len >= sizeof(host))
			return -EINVAL;
		memcpy(host, s, len);
		host[len] = '\0';
		memset(ret, 0, sizeof(*ret));
		if (inet_pton(AF_INET, host, ret->ip) != 1)
			return -EINVAL;
		ret->family = MR_AF_INET;
	}
	if (port[0] < '1' || port[0] > '9')
		return -EINVAL;
	p = strtol(port, &end, 10);
	if (*end != '\0' || p < 1 || p > 65535)
		return -EINVAL;
	ret->port_be = htons((uint16_t)p);
	return 0;
}

static int
load_listen(struct loader *ld, const config_setting_t *s, struct mr_sockaddr *out,
	    unsigned int *ret_n)
{
	unsigned int i, j, n;

	if (!config_setting_is_list(s) && !config_setting_is_array(s))
		return fail(ld, s, NULL, "expected an array of \"IP:PORT\" strings, got %s",
			    type_name(s));
	n = (unsigned int)config_setting_length(s);
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		const char *str = NULL;
		int r;

		if (i >= MR_CP_MAX_LISTEN)
			return fail(ld, e, NULL, "too many listeners (at most %u)", MR_CP_MAX_LISTEN);
		r = get_str(ld, e, &str);
		if (r < 0)
			return r;
		if (mr_cp_parse_addr(str, &out[i]) < 0)
			return fail(ld, e, NULL, "\"%s\" is not IPv4:PORT or [IPv6]:PORT", str);
		for (j = 0; j < i; j++)
			if (mr_sockaddr_eq(&out[j], &out[i]))
				return fail(ld, e, NULL, "\"%s\" is listed twice", str);
	}
	*ret_n = n;
	return 0;
}

static int
load_ng_udp(struct loader *ld, const config_setting_t *s, const struct key *k, void *base)
{
	struct mr_cp_config *cfg = base;

	(void)k;
	return load_listen(ld, s, cfg->ng_udp, &cfg->n_ng_udp);
}

static int
load_ng_tcp(struct loader *ld, const config_setting_t *s, const struct key *k, void *base)
{
	struct mr_cp_config *cfg = base;

	(void)k;
	return load_listen(ld, s, cfg->ng_tcp, &cfg->n_ng_tcp);
}

/* ---- interfaces ---------------------------------------------------------------- */

static bool
name_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

static int
load_name(struct loader *ld, const config_setting_t *s, const struct key *k, void *base)
{
	const char *v = NULL;
	int r = get_str_fits(ld, s, k->max, &v);

	if (r < 0)
		return r;
	if (!name_ok(v))
		return fail(ld, s, NULL, "\"%s\": use letters, digits, '-', '_' and '.'", v);
	memcpy((char *)base + k->off, v, strlen(v) + 1);
	return 0;
}

#define IF_OFF(f) offsetof(struct mr_session_iface, f)

enum { IK_NAME, IK_ADDRS, IK_ADV, IK_PMIN, IK_PMAX, IK_DSCP, IK_PSTN };
static const struct key iface_keys[] = {
	[IK_NAME] = { "name", load_name, IF_OFF(name), 0, MR_SESSION_IFACE_NAME, 0, NULL, 0 },
	[IK_ADDRS] = { "addresses", load_addresses, 0, 0, 0, 0, NULL, 0 },
	[IK_ADV] = { "advertised", load_advertised, 0, 0, 0, 0, NULL, 0 },
	[IK_PMIN] = { "port_min", load_u16, IF_OFF(port_min), RELAY_PORT_MIN, 65535, 0, NULL, 0 },
	[IK_PMAX] = { "port_max", load_u16, IF_OFF(port_max), RELAY_PORT_MIN, 65535, 0, NULL, 0 },
	[IK_DSCP] = { "dscp", load_u8, IF_OFF(dscp), 0, 63, 0, NULL, 0 },
	[IK_PSTN] = { "pstn", load_bool, IF_OFF(pstn), 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, 0, NULL, 0 },
};

static const char *
ip_str(const struct mr_sockaddr *a, char *buf, size_t len)
{
	if (inet_ntop(a->family == MR_AF_INET6 ? AF_INET6 : AF_INET, a->ip, buf,
		      (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}

/* Two interfaces on one address must not hand out the same ports. */
static int
check_overlap(struct loader *ld, const config_setting_t *blame, unsigned int idx)
{
	const struct mr_session_iface *f = &ld->cfg->ifaces[idx];
	char buf[INET6_ADDRSTRLEN];
	unsigned int j;

	for (j = 0; j < idx; j++) {
		const struct mr_session_iface *o = &ld->cfg->ifaces[j];
		const struct mr_sockaddr *same = NULL;

		if (f->local4.family != MR_AF_NONE && mr_sockaddr_ip_eq(&f->local4, &o->local4))
			same = &f->local4;
		else if (f->local6.family != MR_AF_NONE && mr_sockaddr_ip_eq(&f->local6, &o->local6))
			same = &f->local6;
		if (same != NULL && f->port_min <= o->port_max && o->port_min <= f->port_max)
			return fail(ld, blame, NULL,
				    "ports %u..%u overlap interface \"%s\" (%u..%u) on the same "
				    "address %s", f->port_min, f->port_max, o->name, o->port_min,
				    o->port_max, ip_str(same, buf, sizeof(buf)));
	}
	return 0;
}

static int
load_iface(struct loader *ld, const config_setting_t *g, unsigned int idx)
{
	const config_setting_t *seen[sizeof(iface_keys) / sizeof(iface_keys[0])] = { NULL };
	struct mr_session_iface *f = &ld->cfg->ifaces[idx];
	const config_setting_t *blame;
	unsigned int j;
	int r;

	f->port_min = 30000;
	f->port_max = 39999;
	r = load_group(ld, g, iface_keys, f, seen);
	if (r < 0)
		return r;
	if (seen[IK_NAME] == NULL)
		return fail(ld, g, "name", "missing (required)");
	if (seen[IK_ADDRS] == NULL)
		return fail(ld, g, "addresses", "missing (required)");
	for (j = 0; j < idx; j++)
		if (strcmp(ld->cfg->ifaces[j].name, f->name) == 0)
			return fail(ld, seen[IK_NAME], NULL, "duplicate interface name \"%s\"",
				    f->name);
	if ((f->adv4.family != MR_AF_NONE && f->local4.family == MR_AF_NONE) ||
	    (f->adv6.family != MR_AF_NONE && f->local6.family == MR_AF_NONE))
		return fail(ld, seen[IK_ADV], NULL,
			    "advertises an address family the interface has no address of");
	if (f->port_min % 2 != 0)
		return fail(ld, seen[IK_PMIN], NULL,
			    "%u is odd: RTP takes an even port, RTCP the next one", f->port_min);
	blame = seen[IK_PMAX] != NULL ? seen[IK_PMAX] : seen[IK_PMIN] != NULL ? seen[IK_PMIN] : g;
	if (f->port_max <= f->port_min)
		return fail(ld, blame, NULL, "range %u..%u holds no RTP/RTCP pair", f->port_min,
			    f->port_max);
	return check_overlap(ld, blame, idx);
}

static int
load_ifaces(struct loader *ld, const config_setting_t *s, const struct key *k, void *base)
{
	unsigned int i, n;
	int r;

	(void)k;
	(void)base;
	if (!config_setting_is_list(s))
		return fail(ld, s, NULL, "expected a list of groups ( { ... }, ... ), got %s",
			    type_name(s));
	n = (unsigned int)config_setting_length(s);
	if (n == 0)
		return fail(ld, s, NULL, "at least one interface is required");
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);

		if (i >= MR_SESSION_MAX_IFACES)
			return fail(ld, e, NULL, "too many interfaces (at most %u)",
				    MR_SESSION_MAX_IFACES);
		r = load_iface(ld, e, i);
		if (r < 0)
			return r;
		ld->cfg->n_ifaces = i + 1;
	}
	return 0;
}

/* ---- sip ------------------------------------------------------------------------- */

/*
 * The "sip" group (sip_config.h, docs/configuration.md "sip"). Each key is
 * checked on its own while loading; how listeners, trunks and interfaces
 * relate is checked by check_sip() once the whole file is known, as the
 * interfaces may come after the sip group.
 */

#define SF(f) offsetof(struct mr_sip_config, f)
#define SIP_SIZE(f) sizeof(((struct mr_sip_config *)0)->f)

/* A string of printable ASCII without blanks that fits k->max bytes; ""
 * is allowed only for keys whose k->min is 0 ... which is all of them but
 * the cipher lists (k->min 1). */
static int
load_text(struct loader *ld, const config_setting_t *s, const struct key *k, void *base)
{
	const char *v, *p;
	size_t len;

	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return fail(ld, s, NULL, "expected a string, got %s", type_name(s));
	v = config_setting_get_string(s);
	len = strlen(v);
	if (len == 0 && k->min > 0)
		return fail(ld, s, NULL, "must not be empty");
	if (len >= (size_t)k->max)
		return fail(ld, s, NULL, "too long (%zu characters, at most %lld)", len, k->max - 1);
	for (p = v; *p != '\0'; p++)
		if (*p <= ' ' || *p >= 0x7f)
			return fail(ld, s, NULL, "blanks and control or non-ASCII characters are "
				    "not allowed");
	memcpy((char *)base + k->off, v, len + 1);
	return 0;
}

/* An absolute path, or "" for "none". */
static int
load_opt_path(struct loader *ld, const config_setting_t *s, const struct key *k, void *base)
{
	if (config_setting_type(s) == CONFIG_TYPE_STRING && config_setting_get_string(s)[0] == '\0') {
		*((char *)base + k->off) = '\0';
		return 0;
	}
	return load_path(ld, s, k, base);
}

/* A domain name or an IP address literal: sip:NAME@DOMAIN, and the realm. */
static int
load_domain(struct loader *ld, const config_setting_t *s, const struct key *k, void *base)
{
	const char *v = NULL, *p;
	int r = get_str_fits(ld, s, k->max, &v);

	if (r < 0)
		return r;
	for (p = v; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
			return fail(ld, s, NULL, "\"%s\" is not a domain name (letters, digits, '-' "
				    "and '.')", v);
	if (v[0] == '.' || v[0] == '-' || p[-1] == '.' || p[-1] == '-' || strstr(v, "..") != NULL)
		return fail(ld, s, NULL, "\"%s\" is not a domain name", v);
	memcpy((char *)base + k->off, v, strlen(v) + 1);
	return 0;
}

static int
load_tls_version(struct loader *ld, const config_setting_t *s, const struct key *k, void *base)
{
	struct mr_sip_config *sip = base;
	const char *v = NULL;
	int r = get_str(ld, s, &v);

	(void)k;
	if (r < 0)
		return r;
	if (strcmp(v, "1.2") == 0)
		sip->tls13_only = false;
	else if (strcmp(v, "1.3") == 0)
		sip->tls13_only = true;
	else
		return fail(ld, s, NULL, "\"%s\": \"1.2\" or \"1.3\" (older versions are never "
			    "accepted)", v);
	return 0;
}

/* digest_algorithms: a list of "SHA-256" / "MD5", each at most once, into
 * the struct mr_sip_digest_algs at k->off. */
static int
load_digest_algs(struct loader *ld, const config_setting_t *s, const struct key *k, void *base)
{
	struct mr_sip_digest_algs *d = (struct mr_sip_digest_algs *)((char *)base + k->off);
	unsigned int i, n;

	if (!config_setting_is_array(s) && !config_setting_is_list(s))
		return fail(ld, s, NULL, "expected a list of \"SHA-256\" and \"MD5\"");
	n = (unsigned int)config_setting_length(s);
	if (n == 0 || n > 2)
		return fail(ld, s, NULL, "1 or 2 algorithms, in order of preference");
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		const char *v = NULL;
		enum mr_digest_alg a;
		int r = get_str(ld, e, &v);

		if (r < 0)
			return r;
		a = strcmp(v, "SHA-256") == 0 ? MR_DIGEST_SHA256 :
		    strcmp(v, "MD5") == 0 ? MR_DIGEST_MD5 : MR_DIGEST_INVALID;
		if (a == MR_DIGEST_INVALID)
			return fail(ld, e, NULL, "\"%s\": \"SHA-256\" or \"MD5\"", v);
		if (i == 1 && d->alg[0] == (uint8_t)a)
			return fail(ld, e, NULL, "\"%s\" is listed twice", v);
		d->alg[i] = (uint8_t)a;
	}
	d->n = n;
	return 0;
}

/* "IP:PORT" into a struct mr_sockaddr at k->off. */
static int
load_sockaddr(struct loader *ld, const config_setting_t *s, const struct key *k, void *base)
{
	const char *v = NULL;
	int r = get_str(ld, s, &v);

	if (r < 0)
		return r;
	if (mr_cp_parse_addr(v, (struct mr_sockaddr *)((char *)base + k->off)) < 0)
		return fail(ld, s, NULL, "\"%s\" is not IPv4:PORT or [IPv6]:PORT", v);
	return 0;
}

static int
load_verify(struct loader *ld, const config_setting_t *s, const struct key *k, void *base)
{
	struct mr_sip_tls_listener *l = base;
	const char *v = NULL;
	int r = get_str(ld, s, &v);

	(void)k;
	if (r < 0)
		return r;
	if (strcmp(v, "none") == 0)
		l->verify = MR_SIP_VERIFY_NONE;
	else if (strcmp(v, "optional") == 0)
		l->verify = MR_SIP_VERIFY_OPTIONAL;
	else if (strcmp(v, "required") == 0)
		l->verify = MR_SIP_VERIFY_REQUIRED;
	else
		return fail(ld, s, NULL, "\"%s\": none, optional or required", v);
	return 0;
}

static int
load_proto(struct loader *ld, const config_setting_t *s, const struct key *k, void *base)
{
	struct mr_sip_trunk *t = base;
	const char *v = NULL;
	int r = get_str(ld, s, &v);

	(void)k;
	if (r < 0)
		return r;
	if (strcmp(v, "udp") == 0)
		t->proto = MR_SIP_UDP;
	else if (strcmp(v, "tcp") == 0)
		t->proto = MR_SIP_TCP;
	else if (strcmp(v, "tls") == 0)
		t->proto = MR_SIP_TLS;
	else
		return fail(ld, s, NULL, "\"%s\": udp, tcp or tls", v);
	return 0;
}

/* Dial-plan prefixes: what a keypad or an E.164 number starts with. */
static int
load_prefixes(struct loader *ld, const config_setting_t *s, const struct key *k, void *base)
{
	struct mr_sip_trunk *t = base;
	unsigned int i, j, n;

	(void)k;
	if (!config_setting_is_list(s) && !config_setting_is_array(s))
		return fail(ld, s, NULL, "expected an array of strings, got %s", type_name(s));
	n = (unsigned int)config_setting_length(s);
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		const char *v = NULL, *p;
		int r;

		if (i >= MR_SIP_MAX_PREFIXES)
			return fail(ld, e, NULL, "too many prefixes (at most %u)", MR_SIP_MAX_PREFIXES);
		r = get_str_fits(ld, e, MR_SIP_PREFIX_MAX, &v);
		if (r < 0)
			return r;
		for (p = v; *p != '\0'; p++)
			if (!((*p >= '0' && *p <= '9') || *p == '+' || *p == '*' || *p == '#'))
				return fail(ld, e, NULL, "\"%s\": a prefix is digits, '+', '*' and "
					    "'#'", v);
		for (j = 0; j < i; j++)
			if (strcmp(t->prefixes[j], v) == 0)
				return fail(ld, e, NULL, "\"%s\" is listed twice", v);
		memcpy(t->prefixes[i], v, strlen(v) + 1);
	}
	t->n_prefixes = n;
	return 0;
}

/* A key each element of a list of groups must have. */
struct required {
	unsigned int key;               /* index in the key table */
	const char *missing;            /* what to say when it is absent */
};

#define LF(f) offsetof(struct mr_sip_tls_listener, f)
#define LSIZE(f) sizeof(((struct mr_sip_tls_listener *)0)->f)

enum { LK_ADDR, LK_CERT, LK_KEY, LK_VERIFY, LK_CA, LK_IFACE };
static const struct key listen_keys[] = {
	[LK_ADDR] = { "address", load_sockaddr, LF(addr), 0, 0, 0, NULL, 0 },
	[LK_CERT] = { "cert", load_path, LF(cert), 0, LSIZE(cert), 0, NULL, 0 },
	[LK_KEY] = { "key", load_path, LF(key), 0, LSIZE(key), 0, NULL, 0 },
	[LK_VERIFY] = { "verify_client", load_verify, 0, 0, 0, 0, NULL, 0 },
	[LK_CA] = { "client_ca", load_opt_path, LF(client_ca), 0, LSIZE(client_ca), 0, NULL, 0 },
	[LK_IFACE] = { "interface", load_name, LF(iface), 0, LSIZE(iface), 0, NULL, 0 },
	{ "digest_algorithms", load_digest_algs, LF(digest), 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, 0, NULL, 0 },
};

static const struct required listen_required[] = {
	{ LK_ADDR, "missing (required)" },
	{ LK_CERT, "missing (required): the certificate chain (PEM)" },
	{ LK_KEY, "missing (required)" },
	{ 0, NULL },
};

#define TF(f) offsetof(struct mr_sip_trunk, f)
#define TSIZE(f) sizeof(((struct mr_sip_trunk *)0)->f)

enum { TK_NAME, TK_PROTO, TK_ADDR, TK_PSTN, TK_IFACE, TK_PREFIXES, TK_STRIP, TK_TLS_NAME };
static const struct key trunk_keys[] = {
	[TK_NAME] = { "name", load_name, TF(name), 0, TSIZE(name), 0, NULL, 0 },
	[TK_PROTO] = { "transport", load_proto, 0, 0, 0, 0, NULL, 0 },
	[TK_ADDR] = { "address", load_sockaddr, TF(addr), 0, 0, 0, NULL, 0 },
	[TK_PSTN] = { "pstn", load_bool, TF(pstn), 0, 0, 0, NULL, 0 },
	[TK_IFACE] = { "interface", load_name, TF(iface), 0, TSIZE(iface), 0, NULL, 0 },
	[TK_PREFIXES] = { "prefixes", load_prefixes, 0, 0, 0, 0, NULL, 0 },
	[TK_STRIP] = { "strip_prefix", load_bool, TF(strip_prefix), 0, 0, 0, NULL, 0 },
	[TK_TLS_NAME] = { "tls_name", load_text, TF(tls_name), 0, TSIZE(tls_name), 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, 0, NULL, 0 },
};

static const struct required trunk_required[] = {
	{ TK_NAME, "missing (required)" },
	{ TK_PROTO, "missing (required): udp, tcp or tls" },
	{ TK_ADDR, "missing (required)" },
	{ 0, NULL },
};

/* "interface" of a listener or trunk: absent (the first) or the name of
 * an interface. Checked after the whole file, as "interfaces" may follow. */
static int
check_iface_ref(struct loader *ld, const config_setting_t *g, const char *name)
{
	unsigned int i;

	if (name[0] == '\0')
		return 0;
	for (i = 0; i < ld->cfg->n_ifaces; i++)
		if (strcmp(ld->cfg->ifaces[i].name, name) == 0)
			return 0;
	return fail(ld, config_setting_get_member(g, "interface"), NULL,
		    "no interface named \"%s\" in \"interfaces\"", name);
}

/* Room for what load_group() saw of a listener or trunk, by key. */
#define GROUP_KEYS_MAX 16
_Static_assert(sizeof(listen_keys) / sizeof(listen_keys[0]) <= GROUP_KEYS_MAX, "listen_keys");
_Static_assert(sizeof(trunk_keys) / sizeof(trunk_keys[0]) <= GROUP_KEYS_MAX, "trunk_keys");

/*
 * Checks one element of a list of groups once its keys are loaded and the
 * required ones are known to be there: @elems holds it at @idx and the
 * elements before it; @seen is what load_group() saw, indexed like the key
 * table.
 */
typedef int group_check(struct loader *ld, void *elems, unsigned int idx,
			const config_setting_t **seen);

/*
 * A list of groups ( { ... }, ... ) of at most @max elements: "too many"
 * is refused before any element is read. Then, in file order, each is
 * loaded by @keys into the next @size bytes of @elems (all @max zeroed
 * first), its @req keys (ended by a NULL message) looked for, and checked,
 * before the next is read.
 */
static int
load_group_list(struct loader *ld, const config_setting_t *s, const struct key *keys,
		const struct required *req, void *elems, size_t size, unsigned int max,
		const char *what, group_check *check, unsigned int *ret_n)
{
	const struct required *q;
	const config_setting_t *seen[GROUP_KEYS_MAX];
	unsigned int i, n;
	int r;

	if (!config_setting_is_list(s))
		return fail(ld, s, NULL, "expected a list of groups ( { ... }, ... ), got %s",
			    type_name(s));
	n = (unsigned int)config_setting_length(s);
	if (n > max)
		return fail(ld, config_setting_get_elem(s, max), NULL, "too many %s (at most %u)",
			    what, max);
	memset(elems, 0, size * max);
	for (i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(s, i);

		memset(seen, 0, sizeof(seen));
		r = load_group(ld, g, keys, (char *)elems + i * size, seen);
		if (r < 0)
			return r;
		for (q = req; q->missing != NULL; q++)
			if (seen[q->key] == NULL)
				return fail(ld, g, keys[q->key].name, "%s", q->missing);
		r = check(ld, elems, i, seen);
		if (r < 0)
			return r;
	}
	*ret_n = n;
	return 0;
}

static int
check_listener(struct loader *ld, void *elems, unsigned int idx, const config_setting_t **seen)
{
	const struct mr_sip_tls_listener *tls = elems, *l = &tls[idx];
	unsigned int j;

	if (l->verify != MR_SIP_VERIFY_NONE && l->client_ca[0] == '\0')
		return fail(ld, seen[LK_VERIFY], NULL,
			    "verifying client certificates needs client_ca");
	if (l->verify == MR_SIP_VERIFY_NONE && l->client_ca[0] != '\0')
		return fail(ld, seen[LK_CA], NULL,
			    "client_ca is unused with verify_client \"none\"");
	for (j = 0; j < idx; j++)
		if (mr_sockaddr_eq(&tls[j].addr, &l->addr))
			return fail(ld, seen[LK_ADDR], NULL, "the address of listener %u too", j);
	return 0;
}

static int
load_sip_listen(struct loader *ld, const config_setting_t *s, const struct key *k, void *base)
{
	struct mr_sip_config *sip = base;

	(void)k;
	return load_group_list(ld, s, listen_keys, listen_required, sip->tls, sizeof(sip->tls[0]),
			       MR_SIP_MAX_LISTEN, "TLS listeners", check_listener, &sip->n_tls);
}

static int
check_trunk(struct loader *ld, void *elems, unsigned int idx, const config_setting_t **seen)
{
	const struct mr_sip_trunk *trunks = elems, *t = &trunks[idx];
	unsigned int j;

	for (j = 0; j < idx; j++)
		if (strcmp(trunks[j].name, t->name) == 0)
			return fail(ld, seen[TK_NAME], NULL, "duplicate trunk name \"%s\"", t->name);
	if (t->proto != MR_SIP_TLS && !t->pstn)
		return fail(ld, seen[TK_PSTN] != NULL ? seen[TK_PSTN] : seen[TK_PROTO], NULL,
			    "plain SIP only for pstn trunks: use transport \"tls\", or "
			    "set pstn = true for a PSTN gateway");
	if (t->proto != MR_SIP_TLS && t->tls_name[0] != '\0')
		return fail(ld, seen[TK_TLS_NAME], NULL, "only for transport \"tls\"");
	return 0;
}

static int
load_trunks(struct loader *ld, const config_setting_t *s, const struct key *k, void *base)
{
	struct mr_sip_config *sip = base;

	(void)k;
	return load_group_list(ld, s, trunk_keys, trunk_required, sip->trunks,
			       sizeof(sip->trunks[0]), MR_SIP_MAX_TRUNKS, "trunks", check_trunk,
			       &sip->n_trunks);
}

static int
load_plain_udp(struct loader *ld, const config_setting_t *s, const struct key *k, void *base)
{
	struct mr_sip_config *sip = base;

	(void)k;
	return load_listen(ld, s, sip->plain_udp, &sip->n_plain_udp);
}

static int
load_plain_tcp(struct loader *ld, const config_setting_t *s, const struct key *k, void *base)
{
	struct mr_sip_config *sip = base;

	(void)k;
	return load_listen(ld, s, sip->plain_tcp, &sip->n_plain_tcp);
}

static const struct key sip_cdr_keys[] = {
	{ "path", load_path, SF(cdr_db), 0, SIP_SIZE(cdr_db), 0, NULL, 0 },
	{ "retention_days", load_u32, SF(cdr_retention_days), 0, 36500, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, 0, NULL, 0 },
};

static const struct key sip_tls_keys[] = {
	{ "min_version", load_tls_version, 0, 0, 0, 0, NULL, 0 },
	{ "ciphers", load_text, SF(ciphers), 1, SIP_SIZE(ciphers), 0, NULL, 0 },
	{ "ciphersuites", load_text, SF(ciphersuites), 1, SIP_SIZE(ciphersuites), 0, NULL, 0 },
	{ "trunk_ca", load_opt_path, SF(trunk_ca), 0, SIP_SIZE(trunk_ca), 0, NULL, 0 },
	{ "client_cert", load_opt_path, SF(client_cert), 0, SIP_SIZE(client_cert), 0, NULL, 0 },
	{ "client_key", load_opt_path, SF(client_key), 0, SIP_SIZE(client_key), 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, 0, NULL, 0 },
};

static const struct key sip_plain_keys[] = {
	{ "udp", load_plain_udp, 0, 0, 0, 0, NULL, 0 },
	{ "tcp", load_plain_tcp, 0, 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, 0, NULL, 0 },
};

static const struct key sip_reg_keys[] = {
	{ "min_expires_s", load_u32, SF(reg_min_expires_s), 1, DAY_S, 0, NULL, 0 },
	{ "max_expires_s", load_u32, SF(reg_max_expires_s), 1, DAY_S, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, 0, NULL, 0 },
};

static const struct key sip_timer_keys[] = {
	{ "session_expires_s", load_u32, SF(session_expires_s), 90, DAY_S, 0, NULL, 0 },
	{ "min_se_s", load_u32, SF(min_se_s), 90, DAY_S, 0, NULL, 0 },     /* RFC 4028: >= 90 */
	{ NULL, NULL, 0, 0, 0, 0, NULL, 0 },
};

static const struct key sip_flow_keys[] = {
	{ "max", load_u32, SF(max_flows), 1, 1000000, 0, NULL, 0 },
	{ "idle_s", load_u32, SF(flow_idle_s), 10, DAY_S, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, 0, NULL, 0 },
};

enum { SK_DOMAIN, SK_ACCOUNTS, SK_CDR, SK_TLS, SK_LISTEN, SK_PLAIN, SK_TRUNKS, SK_REG, SK_TIMER,
       SK_FLOWS, SK_DIGEST };
static const struct key sip_keys[] = {
	[SK_DOMAIN] = { "domain", load_domain, SF(domain), 0, SIP_SIZE(domain), 0, NULL, 0 },
	[SK_ACCOUNTS] = { "accounts", load_path, SF(accounts_db), 0, SIP_SIZE(accounts_db), 0,
			  NULL, 0 },
	[SK_CDR] = { "cdr", load_sub, 0, 0, 0, 0, sip_cdr_keys, 0 },
	[SK_TLS] = { "tls", load_sub, 0, 0, 0, 0, sip_tls_keys, 0 },
	[SK_LISTEN] = { "listen", load_sip_listen, 0, 0, 0, 0, NULL, 0 },
	[SK_PLAIN] = { "plain", load_sub, 0, 0, 0, 0, sip_plain_keys, 0 },
	[SK_TRUNKS] = { "trunks", load_trunks, 0, 0, 0, 0, NULL, 0 },
	[SK_REG] = { "registration", load_sub, 0, 0, 0, 0, sip_reg_keys, 0 },
	[SK_TIMER] = { "session_timer", load_sub, 0, 0, 0, 0, sip_timer_keys, 0 },
	[SK_FLOWS] = { "flows", load_sub, 0, 0, 0, 0, sip_flow_keys, 0 },
	[SK_DIGEST] = { "digest_algorithms", load_digest_algs, SF(digest), 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, 0, NULL, 0 },
};

/* The setting @name of group @g, or @g itself to blame when it is absent. */
static const config_setting_t *
member_or(const config_setting_t *g, const char *name)
{
	const config_setting_t *m = g != NULL ? config_setting_get_member(g, name) : NULL;

	return m != NULL ? m : g;
}

static bool
has_pstn_trunk(const struct mr_sip_config *sip, enum mr_sip_proto proto)
{
	unsigned int i;

	for (i = 0; i < sip->n_trunks; i++)
		if (sip->trunks[i].proto == proto && sip->trunks[i].pstn)
			return true;
	return false;
}

static int
load_sip(struct loader *ld, const config_setting_t *s, const struct key *k, void *base)
{
	const config_setting_t *seen[sizeof(sip_keys) / sizeof(sip_keys[0])] = { NULL };
	struct mr_sip_config *sip = &ld->cfg->sip;
	unsigned int i, j;
	int r;

	(void)k;
	(void)base;
	r = load_group(ld, s, sip_keys, sip, seen);
	if (r < 0)
		return r;
	sip->enabled = true;
	if (seen[SK_DOMAIN] == NULL)
		return fail(ld, s, "domain", "missing (required): clients register as "
			    "sip:NAME@DOMAIN");
	if (sip->n_tls == 0)
		return fail(ld, seen[SK_LISTEN] != NULL ? seen[SK_LISTEN] : s,
			    seen[SK_LISTEN] != NULL ? NULL : "listen",
			    "at least one TLS listener is required");
	if ((sip->client_cert[0] == '\0') != (sip->client_key[0] == '\0'))
		return fail(ld, member_or(seen[SK_TLS], sip->client_cert[0] == '\0' ?
					  "client_key" : "client_cert"), NULL,
			    "client_cert and client_key go together");
	if (sip->reg_min_expires_s > sip->reg_max_expires_s)
		return fail(ld, member_or(seen[SK_REG], "max_expires_s"), NULL,
			    "%u is below min_expires_s (%u)", sip->reg_max_expires_s,
			    sip->reg_min_expires_s);
	if (sip->session_expires_s < sip->min_se_s)
		return fail(ld, member_or(seen[SK_TIMER], "session_expires_s"), NULL,
			    "%u is below min_se_s (%u)", sip->session_expires_s, sip->min_se_s);
	/* Plain listeners exist for PSTN gateways only: one must be able to
	 * use each. */
	if (sip->n_plain_udp > 0 && !has_pstn_trunk(sip, MR_SIP_UDP))
		return fail(ld, member_or(seen[SK_PLAIN], "udp"), NULL,
			    "plain SIP only for pstn trunks: no trunk with transport \"udp\" and "
			    "pstn = true");
	if (sip->n_plain_tcp > 0 && !has_pstn_trunk(sip, MR_SIP_TCP))
		return fail(ld, member_or(seen[SK_PLAIN], "tcp"), NULL,
			    "plain SIP only for pstn trunks: no trunk with transport \"tcp\" and "
			    "pstn = true");
	/* A TCP port is either TLS or plain. */
	for (i = 0; i < sip->n_plain_tcp; i++)
		for (j = 0; j < sip->n_tls; j++)
			if (mr_sockaddr_eq(&sip->plain_tcp[i], &sip->tls[j].addr))
				return fail(ld, config_setting_get_elem(member_or(seen[SK_PLAIN],
										  "tcp"), i),
					    NULL, "also the address of TLS listener %u", j);
	return 0;
}

/* What needs the interfaces: run after the whole file is loaded. */
static int
check_sip(struct loader *ld, const config_setting_t *s)
{
	const struct mr_sip_config *sip = &ld->cfg->sip;
	const config_setting_t *listen = config_setting_get_member(s, "listen");
	const config_setting_t *trunks = config_setting_get_member(s, "trunks");
	unsigned int i;
	int r;

	for (i = 0; i < sip->n_tls; i++) {
		r = check_iface_ref(ld, config_setting_get_elem(listen, i), sip->tls[i].iface);
		if (r < 0)
			return r;
	}
	for (i = 0; i < sip->n_trunks; i++) {
		r = check_iface_ref(ld, config_setting_get_elem(trunks, i), sip->trunks[i].iface);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- the file -------------------------------------------------------------------- */

#define CF(f) offsetof(struct mr_cp_config, f)

static const struct key region_keys[] = {
	{ "path", load_path, CF(region), 0, sizeof(((struct mr_cp_config *)0)->region), 0, NULL, 0 },
	{ "max_legs", load_u32, CF(region_max_legs), 1, MR_SHM_MAX_LEGS, 0, NULL, 0 },
	{ "max_workers", load_u32, CF(region_max_workers), 1, MR_SHM_MAX_WORKERS, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, 0, NULL, 0 },
};

static const struct key timeout_keys[] = {
	{ "media_idle_s", load_u32, CF(timeouts.media_idle_ms), 0, DAY_S, 1000, NULL, 0 },
	{ "offer_s", load_u32, CF(timeouts.offer_ms), 0, DAY_S, 1000, NULL, 0 },
	{ "call_max_s", load_u32, CF(timeouts.call_max_ms), 0, WEEK_S, 1000, NULL, 0 },
	{ "old_key_s", load_u32, CF(timeouts.old_key_ms), 0, DAY_S, 1000, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, 0, NULL, 0 },
};

static const struct key limit_keys[] = {
	{ "max_calls", load_u32, CF(limits.max_calls), 0, MAX_CALLS, 0, NULL, 0 },
	{ "max_legs", load_u32, CF(limits.max_legs), 0, MR_SHM_MAX_LEGS, 0, NULL, 0 },
	{ "offers_per_second", load_u32, CF(limits.offers_per_s), 0, MAX_RATE, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, 0, NULL, 0 },
};

static const struct key admin_keys[] = {
	{ "socket", load_path, CF(admin_socket), 0, sizeof(((struct mr_cp_config *)0)->admin_socket),
	  0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, 0, NULL, 0 },
};

static const struct key ng_keys[] = {
	{ "udp", load_ng_udp, 0, 0, 0, 0, NULL, 0 },
	{ "tcp", load_ng_tcp, 0, 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, 0, NULL, 0 },
};

static const struct key log_keys[] = {
	{ "level", load_level, 0, 0, 0, 0, NULL, 0 },   /* apply_log_levels() */
	{ "core", load_level, CF(log_level[MR_LOG_CORE]), 0, 0, 0, NULL, 0 },
	{ "region", load_level, CF(log_level[MR_LOG_REGION]), 0, 0, 0, NULL, 0 },
	{ "session", load_level, CF(log_level[MR_LOG_SESSION]), 0, 0, 0, NULL, 0 },
	{ "admin", load_level, CF(log_level[MR_LOG_ADMIN]), 0, 0, 0, NULL, 0 },
	{ "ng", load_level, CF(log_level[MR_LOG_NG]), 0, 0, 0, NULL, 0 },
	{ "sip", load_level, CF(log_level[MR_LOG_SIP]), 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, 0, NULL, 0 },
};

static key_loader load_log;

enum { RK_REGION, RK_IFACES, RK_TIMEOUTS, RK_LIMITS, RK_ADMIN, RK_STATE, RK_NG, RK_SIP, RK_LOG };
static const struct key root_keys[] = {
	[RK_REGION] = { "region", load_sub, 0, 0, 0, 0, region_keys, 0 },
	[RK_IFACES] = { "interfaces", load_ifaces, 0, 0, 0, 0, NULL, 0 },
	[RK_TIMEOUTS] = { "timeouts", load_sub, 0, 0, 0, 0, timeout_keys, 0 },
	[RK_LIMITS] = { "limits", load_sub, 0, 0, 0, 0, limit_keys, 0 },
	[RK_ADMIN] = { "admin", load_sub, 0, 0, 0, 0, admin_keys, 0 },
	[RK_STATE] = { "state_dir", load_path, CF(state_dir),
		       0, sizeof(((struct mr_cp_config *)0)->state_dir) - JOURNAL_SUFFIX_LEN,
		       0, NULL, 0 },
	[RK_NG] = { "ng", load_sub, 0, 0, 0, 0, ng_keys, 0 },
	[RK_SIP] = { "sip", load_sip, 0, 0, 0, 0, NULL, 0 },
	[RK_LOG] = { "log", load_log, 0, 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, 0, NULL, 0 },
};

/*
 * log.level is the default of every subsystem; a subsystem's own key wins
 * wherever it stands in the group. So the group is walked twice: "level"
 * first, then the rest.
 */
static int
apply_log_levels(struct loader *ld, const config_setting_t *g)
{
	const config_setting_t *lvl = config_setting_get_member(g, "level");
	unsigned int i, n;
	int r;

	if (lvl != NULL) {
		int v = LOG_INFO;
		struct key k = { "level", load_level, 0, 0, 0, 0, NULL, 0 };

		r = load_level(ld, lvl, &k, &v);
		if (r < 0)
			return r;
		for (i = 0; i < MR_LOG_SUBSYS_MAX; i++)
			ld->cfg->log_level[i] = v;
	}
	n = (unsigned int)config_setting_length(g);
	for (i = 0; i < n; i++) {
		const config_setting_t *c = config_setting_get_elem(g, i);
		const struct key *k;

		if (c == lvl)
			continue;
		for (k = log_keys + 1; k->name != NULL && strcmp(k->name, config_setting_name(c)); k++)
			;
		if (k->name == NULL)
			return fail_unknown(ld, c, log_keys);
		r = load_level(ld, c, k, ld->cfg);
		if (r < 0)
			return r;
	}
	return 0;
}

static int
load_log(struct loader *ld, const config_setting_t *s, const struct key *k, void *base)
{
	(void)k;
	(void)base;
	if (!config_setting_is_group(s))
		return fail(ld, s, NULL, "expected a group { ... }, got %s", type_name(s));
	return apply_log_levels(ld, s);
}

static int
load_root(struct loader *ld, const config_setting_t *root)
{
	const config_setting_t *seen[sizeof(root_keys) / sizeof(root_keys[0])] = { NULL };
	int r;

	r = load_group(ld, root, root_keys, ld->cfg, seen);
	if (r < 0)
		return r;
	if (seen[RK_IFACES] == NULL)
		return fail(ld, root, "interfaces", "missing (required): at least one interface");
	if (seen[RK_SIP] != NULL)
		return check_sip(ld, seen[RK_SIP]);
	return 0;
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

static void
set_include_dir(struct loader *ld, config_t *lc, char *dir)
{
	const char *slash = strrchr(ld->path, '/');
	size_t len;

	if (slash == NULL)
		return;
	len = slash == ld->path ? 1 : (size_t)(slash - ld->path);
	if (len >= PATH_MAX)
		return;
	memcpy(dir, ld->path, len);
	dir[len] = '\0';
	config_set_include_dir(lc, dir);
	ld->include_dir = dir;
}

int
mr_cp_config_load(const char *path, struct mr_cp_config *cfg, char *err, size_t errlen)
{
	struct loader ld = { .path = path, .err = err, .errlen = errlen };
	char dir[PATH_MAX], fbuf[PATH_MAX];
	struct stat st;
	config_t lc;
	FILE *f;
	int r;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	f = fopen(path, "r");
	if (f == NULL) {
		r = -errno;
		report(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	if (fstat(fileno(f), &st) < 0 || S_ISDIR(st.st_mode)) {
		r = S_ISDIR(st.st_mode) ? -EISDIR : -errno;
		report(err, errlen, "%s: %s", path, strerror(-r));
		goto err_close;
	}
	ld.cfg = malloc(sizeof(*ld.cfg));
	if (ld.cfg == NULL) {
		r = -ENOMEM;
		report(err, errlen, "%s: %s", path, strerror(-r));
		goto err_close;
	}
	mr_cp_config_defaults(ld.cfg);
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

/* ---- reload -------------------------------------------------------------------- */

static void
add_name(char *buf, size_t len, const char *name)
{
	size_t off = strnlen(buf, len), n = strlen(name);

	if (off > 0 && off + 3 <= len) {
		memcpy(buf + off, ", ", 3);
		off += 2;
	}
	if (off + 1 >= len)
		return;
	if (n > len - off - 1)
		n = len - off - 1;
	memcpy(buf + off, name, n);
	buf[off + n] = '\0';
}

unsigned int
mr_cp_config_restart_diff(const struct mr_cp_config *old, const struct mr_cp_config *new,
			  char *buf, size_t len)
{
	unsigned int n = 0;

	if (len > 0)
		buf[0] = '\0';
#define DIFF(cond, name)                        \
	do {                                    \
		if (cond) {                     \
			add_name(buf, len, name);       \
			n++;                    \
		}                               \
	} while (0)
	DIFF(strcmp(old->region, new->region) != 0, "region.path");
	DIFF(old->region_max_legs != new->region_max_legs, "region.max_legs");
	DIFF(old->region_max_workers != new->region_max_workers, "region.max_workers");
	/* Interfaces are compared whole: ports and slots of live calls come
	 * from them. Structs were zeroed before loading, so memcmp is exact. */
	DIFF(old->n_ifaces != new->n_ifaces ||
	     memcmp(old->ifaces, new->ifaces, sizeof(old->ifaces)) != 0, "interfaces");
	DIFF(strcmp(old->admin_socket, new->admin_socket) != 0, "admin.socket");
	DIFF(strcmp(old->state_dir, new->state_dir) != 0, "state_dir");
	DIFF(old->n_ng_udp != new->n_ng_udp ||
	     memcmp(old->ng_udp, new->ng_udp, sizeof(old->ng_udp)) != 0, "ng.udp");
	DIFF(old->n_ng_tcp != new->n_ng_tcp ||
	     memcmp(old->ng_tcp, new->ng_tcp, sizeof(old->ng_tcp)) != 0, "ng.tcp");
	/* The whole group: listeners, certificates, trunks and the databases
	 * are opened once. Zeroed before loading, so memcmp is exact. */
	DIFF(memcmp(&old->sip, &new->sip, sizeof(old->sip)) != 0, "sip");
#undef DIFF
	return n;
}
