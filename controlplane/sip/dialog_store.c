/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Confirmed calls' dialogs on disk, so a restarted mrelay-cp can carry on
 * with them (docs/sip.md, "A restart of mrelay-cp"): one small text file
 * per call, STATE_DIR/sip-dialogs/<NG call-id>.dialog, of "key=value"
 * lines, written whole to a temporary name and renamed over the old one,
 * so a reader sees the old file or the new one, never half of either.
 *
 * Why files and not a table next to the CDRs: a call's dialog is written
 * once when it is confirmed (again only when a target changes) and removed
 * when it ends, and read back only at start; each file stands alone, so a
 * torn or unreadable one loses one call, not all, and an operator can read
 * them with cat. No fsync: what this guards against is the process dying;
 * after a host crash the region (in /dev/shm) is gone too, and with it the
 * media these dialogs describe.
 *
 * What is written: identifiers (Call-IDs, tags, URIs, targets), CSeqs, the
 * account names or trunk, media interface, pstn flag, session-timer
 * parameters, the NG call-id, CDR start/answer times. Never SDP: the last
 * SDP we sent a leg holds the relay's a=crypto key. Nothing here logs.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sip_int.h"

#define DIALOG_MAGIC "mrelay-sip-dialog 1"
#define DIALOG_FILE_MAX 16384u

enum fkind { F_STR, F_INT, F_U32, F_BOOL };

/* A field of struct sip_leg, written as "legN.<name>". */
struct field {
	const char *name;
	enum fkind kind;
	size_t off, size;
};

#define LSTR(n) { #n, F_STR, offsetof(struct sip_leg, n), sizeof(((struct sip_leg *)0)->n) }
#define LU32(n) { #n, F_U32, offsetof(struct sip_leg, n), sizeof(uint32_t) }
#define LBOOL(n) { #n, F_BOOL, offsetof(struct sip_leg, n), sizeof(bool) }
#define LINT(n) { #n, F_INT, offsetof(struct sip_leg, n), sizeof(int) }

static const struct field leg_fields[] = {
	LINT(trunk), LINT(listener), LSTR(iface), LBOOL(pstn), LSTR(call_id), LSTR(local_tag),
	LSTR(remote_tag), LSTR(local_uri), LSTR(remote_uri), LSTR(target), LU32(local_cseq),
	LU32(remote_cseq), LBOOL(allow_update), LU32(se_s), LBOOL(we_refresh), LBOOL(peer_timer),
};

#define NFIELDS (sizeof(leg_fields) / sizeof(leg_fields[0]))

static bool
one_line(const char *v)
{
	return strpbrk(v, "\r\n") == NULL;
}

/* The file of call @ng_id, or its temporary name. */
static int
dialog_path(const struct mr_sip *s, const char *ng_id, bool tmp, char *out, size_t cap)
{
	int n;

	if (s->dialog_dir[0] == '\0')
		return -ENOENT;
	n = snprintf(out, cap, "%s/%s%s.%s", s->dialog_dir, tmp ? "." : "", ng_id,
		     tmp ? "tmp" : "dialog");
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* The file's text, into @b. */
static int
format(const struct sip_call *c, struct sipbuf *b)
{
	unsigned int i, k;

	if (!one_line(c->cdr.call_id) || !one_line(c->cdr.caller) || !one_line(c->cdr.callee))
		return -EINVAL;
	sipbuf_printf(b, DIALOG_MAGIC "\nng_id=%s\ncdr_call_id=%s\ncaller=%s\ncallee=%s\n"
		      "start_s=%" PRId64 "\nanswer_s=%" PRId64 "\nstatus=%u\n", c->ng_id,
		      c->cdr.call_id, c->cdr.caller, c->cdr.callee, c->start_wall_s,
		      c->answer_wall_s, (unsigned int)c->cdr.sip_status);
	for (i = 0; i < 2; i++) {
		const char *l = (const char *)&c->leg[i];

		sipbuf_printf(b, "leg%u.proto=%d\n", i, (int)c->leg[i].proto);
		for (k = 0; k < NFIELDS; k++) {
			const struct field *f = &leg_fields[k];
			const void *p = l + f->off;

			switch (f->kind) {
			case F_STR:
				if (!one_line(p))
					return -EINVAL;
				sipbuf_printf(b, "leg%u.%s=%s\n", i, f->name, (const char *)p);
				break;
			case F_INT:
				sipbuf_printf(b, "leg%u.%s=%d\n", i, f->name, *(const int *)p);
				break;
			case F_U32:
				sipbuf_printf(b, "leg%u.%s=%" PRIu32 "\n", i, f->name,
					      *(const uint32_t *)p);
				break;
			case F_BOOL:
				sipbuf_printf(b, "leg%u.%s=%d\n", i, f->name, *(const bool *)p ? 1 : 0);
				break;
			}
		}
	}
	return sipbuf_ok(b) ? 0 : -ENOSPC;
}

int
sip_dialog_save(struct mr_sip *s, struct sip_call *c)
{
	static char buf[DIALOG_FILE_MAX];
	char tmp[PATH_MAX_DIALOG], path[PATH_MAX_DIALOG];
	struct sipbuf b;
	ssize_t w;
	int fd, r;

	if (s->dialog_dir[0] == '\0')
		return 0;
	sipbuf_init(&b, buf, sizeof(buf));
	r = format(c, &b);
	if (r == 0)
		r = dialog_path(s, c->ng_id, true, tmp, sizeof(tmp));
	if (r == 0)
		r = dialog_path(s, c->ng_id, false, path, sizeof(path));
	if (r < 0)
		goto err;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		r = -errno;
		goto err;
	}
	w = write(fd, b.p, b.len);
	r = w == (ssize_t)b.len ? 0 : w < 0 ? -errno : -EIO;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		goto err;
	}
	c->persisted = true;
	return 0;
err:
	s->k.dialog_failures++;
	return r;
}

void
sip_dialog_delete(struct mr_sip *s, struct sip_call *c)
{
	char path[PATH_MAX_DIALOG];

	if (!c->persisted)
		return;
	c->persisted = false;
	if (dialog_path(s, c->ng_id, false, path, sizeof(path)) == 0 && unlink(path) < 0 &&
	    errno != ENOENT)
		s->k.dialog_failures++;
}

static int
set_str(char *dst, size_t cap, const char *v)
{
	size_t n = strlen(v);

	if (n >= cap)
		return -EINVAL;
	memcpy(dst, v, n + 1);
	return 0;
}

static int
set_int(long long *ret, const char *v, long long min, long long max)
{
	char *end;
	long long x;

	errno = 0;
	x = strtoll(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || x < min || x > max)
		return -EINVAL;
	*ret = x;
	return 0;
}

/* One "legN.name=value" line into @l. */
static int
leg_line(struct sip_leg *l, const char *name, const char *v)
{
	char *p = (char *)l;
	long long x;
	unsigned int k;

	if (strcmp(name, "proto") == 0) {
		if (set_int(&x, v, MR_SIP_UDP, MR_SIP_TLS) < 0)
			return -EINVAL;
		l->proto = (enum mr_sip_proto)x;
		return 0;
	}
	for (k = 0; k < NFIELDS; k++) {
		const struct field *f = &leg_fields[k];

		if (strcmp(name, f->name) != 0)
			continue;
		switch (f->kind) {
		case F_STR:
			return set_str(p + f->off, f->size, v);
		case F_INT:
			if (set_int(&x, v, -1, 65535) < 0)
				return -EINVAL;
			*(int *)(p + f->off) = (int)x;
			return 0;
		case F_U32:
			if (set_int(&x, v, 0, UINT32_MAX) < 0)
				return -EINVAL;
			*(uint32_t *)(p + f->off) = (uint32_t)x;
			return 0;
		case F_BOOL:
			if (set_int(&x, v, 0, 1) < 0)
				return -EINVAL;
			*(bool *)(p + f->off) = x != 0;
			return 0;
		}
	}
	return 0;       /* a key of a newer version: ignored */
}

static int
line(struct sip_call *c, const char *k, const char *v)
{
	long long x;

	if (strncmp(k, "leg", 3) == 0 && (k[3] == '0' || k[3] == '1') && k[4] == '.')
		return leg_line(&c->leg[k[3] - '0'], k + 5, v);
	if (strcmp(k, "ng_id") == 0)
		return set_str(c->ng_id, sizeof(c->ng_id), v);
	if (strcmp(k, "cdr_call_id") == 0)
		return set_str(c->cdr.call_id, sizeof(c->cdr.call_id), v);
	if (strcmp(k, "caller") == 0)
		return set_str(c->cdr.caller, sizeof(c->cdr.caller), v);
	if (strcmp(k, "callee") == 0)
		return set_str(c->cdr.callee, sizeof(c->cdr.callee), v);
	if (strcmp(k, "start_s") == 0)
		return set_int(&x, v, 0, INT64_MAX) < 0 ? -EINVAL : (c->start_wall_s = x, 0);
	if (strcmp(k, "answer_s") == 0)
		return set_int(&x, v, 0, INT64_MAX) < 0 ? -EINVAL : (c->answer_wall_s = x, 0);
	if (strcmp(k, "status") == 0)
		return set_int(&x, v, 0, 699) < 0 ? -EINVAL : (c->cdr.sip_status = (uint16_t)x, 0);
	return 0;
}

/* Parse @text (NUL-terminated, changed in place) into @c. */
static int
parse(char *text, struct sip_call *c)
{
	char *save = NULL, *ln, *eq;
	bool first = true;

	for (ln = strtok_r(text, "\n", &save); ln != NULL; ln = strtok_r(NULL, "\n", &save)) {
		if (first) {
			if (strcmp(ln, DIALOG_MAGIC) != 0)
				return -EINVAL;
			first = false;
			continue;
		}
		eq = strchr(ln, '=');
		if (eq == NULL)
			return -EINVAL;
		*eq = '\0';
		if (line(c, ln, eq + 1) < 0)
			return -EINVAL;
	}
	if (first || c->ng_id[0] == '\0' || c->leg[0].call_id[0] == '\0' ||
	    c->leg[1].call_id[0] == '\0' || c->leg[0].local_tag[0] == '\0' ||
	    c->leg[1].local_tag[0] == '\0')
		return -EINVAL;
	return 0;
}

/* Read file @name of the store into @c (zeroed by the caller). */
static int
read_one(const struct mr_sip *s, const char *name, struct sip_call *c)
{
	static char text[DIALOG_FILE_MAX + 1];
	char path[PATH_MAX_DIALOG];
	ssize_t n;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", s->dialog_dir, name) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	n = read(fd, text, DIALOG_FILE_MAX + 1);
	close(fd);
	if (n < 0 || (size_t)n > DIALOG_FILE_MAX)
		return -EINVAL;
	text[n] = '\0';
	if (strlen(text) != (size_t)n)
		return -EINVAL;
	return parse(text, c);
}

int
sip_dialog_store_open(struct mr_sip *s, const char *state_dir)
{
	struct stat st;
	int n;

	s->dialog_dir[0] = '\0';
	if (state_dir == NULL || state_dir[0] == '\0')
		return 0;
	n = snprintf(s->dialog_dir, sizeof(s->dialog_dir), "%s/sip-dialogs", state_dir);
	if (n < 0 || (size_t)n >= sizeof(s->dialog_dir)) {
		s->dialog_dir[0] = '\0';
		return -ENAMETOOLONG;
	}
	if (mkdir(s->dialog_dir, 0700) < 0 && errno != EEXIST)
		goto err;
	if (lstat(s->dialog_dir, &st) < 0)
		goto err;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		goto err;
	}
	return 0;
err:
	n = -errno;
	s->dialog_dir[0] = '\0';
	return n;
}

int
sip_dialogs_each(struct mr_sip *s, int (*fn)(struct mr_sip *s, struct sip_call *c))
{
	struct dirent *e;
	DIR *d;
	size_t n;

	if (s->dialog_dir[0] == '\0')
		return 0;
	d = opendir(s->dialog_dir);
	if (d == NULL)
		return -errno;
	while ((e = readdir(d)) != NULL) {
		char path[PATH_MAX_DIALOG];
		struct sip_call *c;

		n = strlen(e->d_name);
		if (e->d_name[0] == '.') {
			/* a temporary file a crash left behind */
			if (n > 4 && strcmp(e->d_name + n - 4, ".tmp") == 0 &&
			    (size_t)snprintf(path, sizeof(path), "%s/%s", s->dialog_dir,
					     e->d_name) < sizeof(path))
				unlink(path);
			continue;
		}
		if (n < 8 || strcmp(e->d_name + n - 7, ".dialog") != 0)
			continue;
		c = calloc(1, sizeof(*c));
		if (c == NULL)
			break;
		if (read_one(s, e->d_name, c) < 0 ||
		    strncmp(e->d_name, c->ng_id, n - 7) != 0 || strlen(c->ng_id) != n - 7 ||
		    fn(s, c) < 0) {
			free(c);
			s->k.recover_failed++;
			if ((size_t)snprintf(path, sizeof(path), "%s/%s", s->dialog_dir,
					     e->d_name) < sizeof(path))
				unlink(path);
		}
	}
	closedir(d);
	return 0;
}
