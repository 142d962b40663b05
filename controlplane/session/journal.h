/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_CP_JOURNAL_H
#define MR_CP_JOURNAL_H

/*
 * The session manager's journal: what mrelay-cp needs, beyond the region, to
 * rebuild its calls after a restart (docs/control-plane.md). A text file,
 * one record per line, appended with one write() per change:
 *
 *   mrelay-cp-journal 2                                  header, first line
 *   C <call-tag> <created-ms> <call-id>                  call created
 *   L <call-tag> <leg> <iface> <leg-tag>                 leg <leg> (0, 1, ...) added
 *   S <call-tag> <leg> <stream> <slot> <leg-uid> <rtp-port>   its stream
 *   T <call-tag> <leg> <leg-tag>                         leg <leg> renamed
 *   N <call-tag> <note>                                  the front-end's note (v2)
 *   D <call-tag>                                         call ended
 *
 * Version 2 added N; a version-1 file is a version-2 file without N
 * records, so both are read (mr_journal_open()), and every file written
 * (new, or rewritten) is version 2. A version-1 mrelay-cp refuses a
 * version-2 file rather than silently dropping what N records say.
 *
 * Numbers are decimal; call-ids and tags are percent-encoded (every byte
 * outside '!'..'~', and '%' itself, as %XX), so a record is always one line
 * of space-separated words. There are no keys here, ever: keys live in the
 * region only.
 *
 * No fsync: a process crash leaves the page cache intact, and what a power
 * loss takes (the file's tail) it also takes from the region in /dev/shm.
 * A write cut short by kill -9 leaves an unterminated last line, which
 * replay skips. mr_journal_rewrite_*() replace the file atomically
 * (write a new file, rename it over the old one).
 *
 * Parsers never trust the file: every line is checked, and a bad one is
 * reported as "FILE:LINE: what" and skipped.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MR_JOURNAL_VERSION 2u         /* what this code writes */
#define MR_JOURNAL_VERSION_MIN 1u     /* oldest it reads */
#define MR_JOURNAL_LINE_MAX 1024u       /* longest valid line, with '\n' */
#define MR_JOURNAL_TEXT_MAX 255u        /* decoded call-id / leg tag bytes */
/* Decoded note bytes: even all percent-encoded (3 bytes each) a note
 * record stays within MR_JOURNAL_LINE_MAX. */
#define MR_JOURNAL_NOTE_MAX 320u
#define MR_JOURNAL_IFACE_MAX 31u

enum mr_jrec_type {
	MR_JREC_CALL = 'C',
	MR_JREC_LEG = 'L',
	MR_JREC_STREAM = 'S',
	MR_JREC_END = 'D',
	MR_JREC_RETAG = 'T',    /* a leg learns its tag (NG answer: the to-tag) */
	MR_JREC_NOTE = 'N',     /* a front-end's state of the call (v2); the last one counts */
};

struct mr_jrec {
	uint8_t type;                   /* enum mr_jrec_type */
	uint64_t call_tag;              /* every record; never 0 */
	uint64_t created_ms;            /* CALL */
	uint32_t leg;                   /* LEG, STREAM, RETAG */
	uint32_t stream;                /* STREAM */
	uint32_t slot;                  /* STREAM */
	uint64_t leg_uid;               /* STREAM; never 0 */
	uint16_t rtp_port;              /* STREAM; even, never 0 */
	char iface[MR_JOURNAL_IFACE_MAX + 1];   /* LEG */
	char text[MR_JOURNAL_TEXT_MAX + 1];     /* CALL: call-id; LEG, RETAG: tag; non-empty */
	char note[MR_JOURNAL_NOTE_MAX + 1];     /* NOTE; non-empty */
};

/*
 * One record as a line with its '\n' into @buf (at least
 * MR_JOURNAL_LINE_MAX bytes). Returns the length, or -EINVAL if @r is not
 * valid (unknown type, zero tag, empty or over-long text, NUL-less strings).
 */
int mr_jrec_format(const struct mr_jrec *r, char *buf, size_t cap);
/* Parse one line of @len bytes (without its '\n'). 0, or -EINVAL with a
 * reason in @why (static text). */
int mr_jrec_parse(const char *line, size_t len, struct mr_jrec *ret, const char **why);

struct mr_journal;

/*
 * Open (create, mode 0600) "<@dir>/journal". -ENOENT if @dir is missing,
 * -EPROTO if the file is not a journal of a version this code reads
 * (MR_JOURNAL_VERSION_MIN..MR_JOURNAL_VERSION; it is left alone), other
 * -errno. @err gets "PATH: what". An older version is read as it is; the
 * caller rewrites the file (mr_journal_rewrite_*(), which writes the
 * current version) before it appends records the old version lacks.
 */
int mr_journal_open(const char *dir, struct mr_journal **ret, char *err, size_t errlen);
/* The version in the file's header (the current one after a rewrite). */
unsigned int mr_journal_version(const struct mr_journal *j);
void mr_journal_close(struct mr_journal *j);
const char *mr_journal_path(const struct mr_journal *j);

/*
 * Call @cb for each good record in file order; @cb returning < 0 marks that
 * line bad too (with its own reason in *why). Bad lines are counted in
 * @ret_bad, the first reported in @err as "PATH:LINE: what". 0 or -errno
 * (I/O).
 */
int mr_journal_replay(struct mr_journal *j,
		      int (*cb)(const struct mr_jrec *r, void *ctx, const char **why), void *ctx,
		      unsigned int *ret_bad, char *err, size_t errlen);

/* Append records (one write()). 0, -EINVAL (bad record), -EIO/-ENOSPC... */
int mr_journal_append(struct mr_journal *j, const struct mr_jrec *recs, size_t n);

/* Replace the file: begin, add the live records, commit (rename). abort
 * drops the new file. Between begin and commit, appends go nowhere: call
 * them back to back. */
int mr_journal_rewrite_begin(struct mr_journal *j);
int mr_journal_rewrite_add(struct mr_journal *j, const struct mr_jrec *r);
int mr_journal_rewrite_commit(struct mr_journal *j);
void mr_journal_rewrite_abort(struct mr_journal *j);

/* Record lines in the file (header excluded). */
uint64_t mr_journal_records(const struct mr_journal *j);

#endif /* MR_CP_JOURNAL_H */
