/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_TEST_TMPDIR_H
#define MR_TEST_TMPDIR_H

#include <stddef.h>

/*
 * A directory of a test's own under /tmp (or $TMPDIR, if the test's
 * template says so), made by its setup, and the path of the file the test
 * is about in it (a database, a region), if there is one. Each test passes
 * its own mkdtemp() template, so a directory left behind says which test
 * left it. No cmocka here: the fuzz targets use it too.
 */
struct mr_test_tmpdir {
	char dir[64];
	char path[96];
};

/*
 * mkdtemp(@template) into @t->dir, and @t->path = dir/@file, or "" if @file
 * is NULL; 0 or -errno.
 */
int mr_test_tmpdir_make(struct mr_test_tmpdir *t, const char *template, const char *file);

/* rm -rf the directory; 0, or -1 if that failed. */
int mr_test_tmpdir_remove(const struct mr_test_tmpdir *t);

/*
 * Writes @text to the file @name in the directory, whose path goes to
 * @path (@len bytes) even on failure, for the test's messages. 0 or -errno.
 */
int mr_test_tmpdir_write(const struct mr_test_tmpdir *t, const char *name, const char *text,
			 char *path, size_t len);

#endif
