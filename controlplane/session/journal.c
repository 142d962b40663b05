/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The session journal (journal.h): line codec, replay, append, rewrite.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"

#define HEADER "mrelay-cp-journal"
#define MAX_WORDS 8

struct mr_journal {
	int fd;                         /* O_APPEND */
	FILE *rw;                       /* the new file during a rewrite */
	uint64_t records;
	uint64_t rw_records;
	unsigned int version;           /* of the file's header */
	char path[PATH_MAX];
	char tmp_path[PATH_MAX];
};

/* ---- the line codec ------------------------------------------------------ */

static bool
plain_byte(unsigned char c)
{
	return c > ' ' && c <= '~' && c != '%';
}

/* Percent-encode NUL-terminated @s; false if it does not fit. */
static bool
encode(const char *s, char *out, size_t cap, size_t *off)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (plain_byte(*p)) {
			if (*off + 1 >= cap)
				return false;
			out[(*off)++] = (char)*p;
		} else {
			if (*off + 3 >= cap)
				return false;
			out[(*off)++] = '%';
			out[(*off)++] = hex[*p >> 4];
			out[(*off)++] = hex[*p & 15];
		}
	}
	return true;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decode a word of @len bytes into @out (@cap with NUL); NUL bytes refused. */
static bool
decode(const char *w, size_t len, char *out, size_t cap)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		int c;

		if (w[i] == '%') {
			int hi, lo;

			if (i + 2 >= len)
				return false;
			hi = hexval(w[i + 1]);
			lo = hexval(w[i + 2]);
			if (hi < 0 || lo < 0)
				return false;
			c = hi << 4 | lo;
			if (c == 0)
				return false;
			i += 2;
		} else if (plain_byte((unsigned char)w[i])) {
			c = (unsigned char)w[i];
		} else {
			return false;
		}
		if (o + 1 >= cap)
			return false;
		out[o++] = (char)c;
	}
	if (o == 0)
		return false;
	out[o] = '\0';
	return true;
}

static bool
str_ok(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	return n > 0 && n < cap;
}

int
mr_jrec_format(const struct mr_jrec *r, char *buf, size_t cap)
{
	size_t off;
	int n;

	if (r->call_tag == 0 || cap < MR_JOURNAL_LINE_MAX)
		return -EINVAL;
	switch (r->type) {
	case MR_JREC_CALL:
		if (!str_ok(r->text, sizeof(r->text)))
			return -EINVAL;
		n = snprintf(buf, cap, "C %" PRIu64 " %" PRIu64 " ", r->call_tag, r->created_ms);
		break;
	case MR_JREC_LEG:
		if (!str_ok(r->text, sizeof(r->text)) || !str_ok(r->iface, sizeof(r->iface)))
			return -EINVAL;
		n = snprintf(buf, cap, "L %" PRIu64 " %" PRIu32 " ", r->call_tag, r->leg);
		off = (size_t)n;
		if (!encode(r->iface, buf, cap, &off) || off + 1 >= cap)
			return -EINVAL;
		buf[off++] = ' ';
		n = (int)off;
		break;
	case MR_JREC_RETAG:
		if (!str_ok(r->text, sizeof(r->text)))
			return -EINVAL;
		n = snprintf(buf, cap, "T %" PRIu64 " %" PRIu32 " ", r->call_tag, r->leg);
		break;
	case MR_JREC_STREAM:
		if (r->leg_uid == 0 || r->rtp_port == 0 || r->rtp_port % 2 != 0)
			return -EINVAL;
		n = snprintf(buf, cap, "S %" PRIu64 " %" PRIu32 " %" PRIu32 " %" PRIu32 " %" PRIu64
			     " %u\n", r->call_tag, r->leg, r->stream, r->slot, r->leg_uid,
			     (unsigned int)r->rtp_port);
		return n;
	case MR_JREC_END:
		return snprintf(buf, cap, "D %" PRIu64 "\n", r->call_tag);
	case MR_JREC_NOTE:
		if (!str_ok(r->note, sizeof(r->note)))
			return -EINVAL;
		n = snprintf(buf, cap, "N %" PRIu64 " ", r->call_tag);
		break;
	default:
		return -EINVAL;
	}
	off = (size_t)n;
	if (!encode(r->type == MR_JREC_NOTE ? r->note : r->text, buf, cap, &off) || off + 1 >= cap)
		return -EINVAL;
	buf[off++] = '\n';
	buf[off] = '\0';
	return (int)off;
}

/* Strict decimal: digits only, no sign, no leading zero, <= @max. */
static bool
word_u64(const char *w, size_t len, uint64_t max, uint64_t *ret)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 20 || (len > 1 && w[0] == '0'))
		return false;
	for (i = 0; i < len; i++) {
		unsigned int d;

		if (w[i] < '0' || w[i] > '9')
			return false;
		d = (unsigned int)(w[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (v > max)
		return false;
	*ret = v;
	return true;
}

int
mr_jrec_parse(const char *line, size_t len, struct mr_jrec *ret, const char **why)
{
	const char *w[MAX_WORDS];
	size_t wl[MAX_WORDS], i = 0, n = 0, want;
	struct mr_jrec r;
	uint64_t v;

	/* Split on single spaces; anything else between words is malformed. */
	while (i < len) {
		size_t start = i;

		while (i < len && line[i] != ' ')
			i++;
		if (i == start) {
			*why = "empty word (two spaces, or a space at an end)";
			return -EINVAL;
		}
		if (n == MAX_WORDS) {
			*why = "too many words";
			return -EINVAL;
		}
		w[n] = line + start;
		wl[n++] = i - start;
		if (i < len && ++i == len) {
			*why = "trailing space";
			return -EINVAL;
		}
	}
	if (n == 0 || wl[0] != 1) {
		*why = "no record type";
		return -EINVAL;
	}
	memset(&r, 0, sizeof(r));
	r.type = (uint8_t)w[0][0];
	switch (r.type) {
	case MR_JREC_CALL:
		want = 4;
		break;
	case MR_JREC_LEG:
		want = 5;
		break;
	case MR_JREC_STREAM:
		want = 7;
		break;
	case MR_JREC_END:
		want = 2;
		break;
	case MR_JREC_RETAG:
		want = 4;
		break;
	case MR_JREC_NOTE:
		want = 3;
		break;
	default:
		*why = "unknown record type";
		return -EINVAL;
	}
	if (n != want) {
		*why = "wrong number of fields";
		return -EINVAL;
	}
	if (!word_u64(w[1], wl[1], UINT64_MAX, &r.call_tag) || r.call_tag == 0) {
		*why = "bad call tag";
		return -EINVAL;
	}
	switch (r.type) {
	case MR_JREC_CALL:
		if (!word_u64(w[2], wl[2], UINT64_MAX, &r.created_ms)) {
			*why = "bad creation time";
			return -EINVAL;
		}
		if (!decode(w[3], wl[3], r.text, sizeof(r.text))) {
			*why = "bad call-id encoding or length";
			return -EINVAL;
		}
		break;
	case MR_JREC_LEG:
		if (!word_u64(w[2], wl[2], UINT32_MAX, &v)) {
			*why = "bad leg index";
			return -EINVAL;
		}
		r.leg = (uint32_t)v;
		if (!decode(w[3], wl[3], r.iface, sizeof(r.iface))) {
			*why = "bad interface name";
			return -EINVAL;
		}
		if (!decode(w[4], wl[4], r.text, sizeof(r.text))) {
			*why = "bad leg tag encoding or length";
			return -EINVAL;
		}
		break;
	case MR_JREC_RETAG:
		if (!word_u64(w[2], wl[2], UINT32_MAX, &v)) {
			*why = "bad leg index";
			return -EINVAL;
		}
		r.leg = (uint32_t)v;
		if (!decode(w[3], wl[3], r.text, sizeof(r.text))) {
			*why = "bad leg tag encoding or length";
			return -EINVAL;
		}
		break;
	case MR_JREC_STREAM:
		if (!word_u64(w[2], wl[2], UINT32_MAX, &v)) {
			*why = "bad leg index";
			return -EINVAL;
		}
		r.leg = (uint32_t)v;
		if (!word_u64(w[3], wl[3], UINT32_MAX, &v)) {
			*why = "bad stream index";
			return -EINVAL;
		}
		r.stream = (uint32_t)v;
		if (!word_u64(w[4], wl[4], UINT32_MAX - 1, &v)) {
			*why = "bad slot";
			return -EINVAL;
		}
		r.slot = (uint32_t)v;
		if (!word_u64(w[5], wl[5], UINT64_MAX, &r.leg_uid) || r.leg_uid == 0) {
			*why = "bad leg uid";
			return -EINVAL;
		}
		if (!word_u64(w[6], wl[6], 65534, &v) || v == 0 || v % 2 != 0) {
			*why = "bad RTP port (even, 2..65534)";
			return -EINVAL;
		}
		r.rtp_port = (uint16_t)v;
		break;
	case MR_JREC_NOTE:
		if (!decode(w[2], wl[2], r.note, sizeof(r.note))) {
			*why = "bad note encoding or length";
			return -EINVAL;
		}
		break;
	default:
		break;
	}
	*ret = r;
	return 0;
}

/* ---- the file ------------------------------------------------------------- */

static void __attribute__((format(printf, 3, 4)))
report(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

static int
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int
mr_journal_open(const char *dir, struct mr_journal **ret, char *err, size_t errlen)
{
	char head[64];
	struct mr_journal *j;
	struct stat st;
	ssize_t n;
	int r;

	j = calloc(1, sizeof(*j));
	if (j == NULL)
		return -ENOMEM;
	j->fd = -1;
	if (snprintf(j->path, sizeof(j->path), "%s/journal", dir) >= (int)sizeof(j->path) ||
	    snprintf(j->tmp_path, sizeof(j->tmp_path), "%s/journal.new", dir) >=
		    (int)sizeof(j->tmp_path)) {
		report(err, errlen, "%s: state directory path too long", dir);
		r = -ENAMETOOLONG;
		goto err_free;
	}
	j->fd = open(j->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (j->fd < 0) {
		r = -errno;
		report(err, errlen, "%s: %s", j->path, strerror(-r));
		goto err_free;
	}
	if (fstat(j->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		r = -EINVAL;
		report(err, errlen, "%s: not a regular file", j->path);
		goto err_close;
	}
	if (st.st_size == 0) {
		n = snprintf(head, sizeof(head), HEADER " %u\n", MR_JOURNAL_VERSION);
		r = write_all(j->fd, head, (size_t)n);
		if (r < 0) {
			report(err, errlen, "%s: %s", j->path, strerror(-r));
			goto err_close;
		}
		j->version = MR_JOURNAL_VERSION;
	} else {
		/* "mrelay-cp-journal N\n" with N a version this code reads. */
		unsigned int v;

		n = pread(j->fd, head, sizeof(head) - 1, 0);
		if (n < 0)
			n = 0;
		head[n] = '\0';
		j->version = 0;
		for (v = MR_JOURNAL_VERSION_MIN; v <= MR_JOURNAL_VERSION; v++) {
			char want[64];
			int wl = snprintf(want, sizeof(want), HEADER " %u\n", v);

			if (n >= wl && memcmp(head, want, (size_t)wl) == 0)
				j->version = v;
		}
		if (j->version == 0) {
			r = -EPROTO;
			report(err, errlen, "%s:1: not an mrelay-cp journal of version %u..%u "
			       "(left as it is; move it away to start without the calls it names)",
			       j->path, MR_JOURNAL_VERSION_MIN, MR_JOURNAL_VERSION);
			goto err_close;
		}
	}
	*ret = j;
	return 0;
err_close:
	close(j->fd);
err_free:
	free(j);
	return r;
}

void
mr_journal_close(struct mr_journal *j)
{
	if (j == NULL)
		return;
	mr_journal_rewrite_abort(j);
	if (j->fd >= 0)
		close(j->fd);
	free(j);
}

unsigned int
mr_journal_version(const struct mr_journal *j)
{
	return j->version;
}

const char *
mr_journal_path(const struct mr_journal *j)
{
	return j->path;
}

uint64_t
mr_journal_records(const struct mr_journal *j)
{
	return j->records;
}

int
mr_journal_replay(struct mr_journal *j,
		  int (*cb)(const struct mr_jrec *r, void *ctx, const char **why), void *ctx,
		  unsigned int *ret_bad, char *err, size_t errlen)
{
	unsigned int bad = 0;
	unsigned long lineno = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *f;
	int fd, r = 0;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	fd = open(j->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "r");
	if (f == NULL) {
		r = -errno;
		close(fd);
		return r;
	}
	j->records = 0;
	while ((len = getline(&line, &cap, f)) >= 0) {
		const char *why = NULL;
		struct mr_jrec rec;

		lineno++;
		if (lineno == 1)
			continue;       /* the header, checked by open */
		if (len == 0 || line[len - 1] != '\n')
			why = "unterminated last line (a write cut short)";
		else if ((size_t)len > MR_JOURNAL_LINE_MAX)
			why = "line too long";
		else if (memchr(line, '\0', (size_t)len) != NULL)
			why = "NUL byte in line";
		else if (mr_jrec_parse(line, (size_t)len - 1, &rec, &why) == 0 &&
			 cb(&rec, ctx, &why) == 0)
			why = NULL;
		else if (why == NULL)
			why = "refused";
		j->records++;
		if (why != NULL) {
			if (bad++ == 0)
				report(err, errlen, "%s:%lu: %s", j->path, lineno, why);
		}
	}
	if (ferror(f))
		r = -EIO;
	free(line);
	fclose(f);
	if (ret_bad != NULL)
		*ret_bad = bad;
	return r;
}

int
mr_journal_append(struct mr_journal *j, const struct mr_jrec *recs, size_t n)
{
	char stackbuf[4 * MR_JOURNAL_LINE_MAX], *buf = stackbuf;
	size_t i, off = 0, cap = sizeof(stackbuf);
	int len, r;

	if (n > 4) {
		cap = n * MR_JOURNAL_LINE_MAX;
		buf = malloc(cap);
		if (buf == NULL)
			return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		/* A version-1 reader would skip it as bad: rewrite first. */
		if (recs[i].type == MR_JREC_NOTE && j->version < 2) {
			r = -EPROTO;
			goto out;
		}
		len = mr_jrec_format(&recs[i], buf + off, cap - off);
		if (len < 0) {
			r = len;
			goto out;
		}
		off += (size_t)len;
	}
	/* One write(): a reader never sees half of a leg's records, and a
	 * kill -9 leaves at most one unterminated line. */
	r = write_all(j->fd, buf, off);
	if (r == 0)
		j->records += n;
out:
	if (buf != stackbuf)
		free(buf);
	return r;
}

int
mr_journal_rewrite_begin(struct mr_journal *j)
{
	int fd;

	mr_journal_rewrite_abort(j);
	fd = open(j->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	j->rw = fdopen(fd, "w");
	if (j->rw == NULL) {
		int r = -errno;

		close(fd);
		unlink(j->tmp_path);
		return r;
	}
	j->rw_records = 0;
	fprintf(j->rw, HEADER " %u\n", MR_JOURNAL_VERSION);
	return 0;
}

int
mr_journal_rewrite_add(struct mr_journal *j, const struct mr_jrec *r)
{
	char buf[MR_JOURNAL_LINE_MAX];
	int len;

	if (j->rw == NULL)
		return -EBADF;
	len = mr_jrec_format(r, buf, sizeof(buf));
	if (len < 0)
		return len;
	if (fwrite(buf, 1, (size_t)len, j->rw) != (size_t)len)
		return -EIO;
	j->rw_records++;
	return 0;
}

int
mr_journal_rewrite_commit(struct mr_journal *j)
{
	int fd, r;

	if (j->rw == NULL)
		return -EBADF;
	r = fflush(j->rw) == 0 && !ferror(j->rw) ? 0 : -EIO;
	if (fclose(j->rw) != 0 && r == 0)
		r = -EIO;
	j->rw = NULL;
	if (r == 0 && rename(j->tmp_path, j->path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(j->tmp_path);
		return r;
	}
	fd = open(j->path, O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;  /* the old fd still appends to the unlinked file */
	close(j->fd);
	j->fd = fd;
	j->records = j->rw_records;
	j->version = MR_JOURNAL_VERSION;
	return 0;
}

void
mr_journal_rewrite_abort(struct mr_journal *j)
{
	if (j->rw == NULL)
		return;
	fclose(j->rw);
	j->rw = NULL;
	unlink(j->tmp_path);
}
