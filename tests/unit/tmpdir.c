/* SPDX-License-Identifier: BSD-3-Clause */
/* A temporary directory per test (tmpdir.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tmpdir.h"

int
mr_test_tmpdir_make(struct mr_test_tmpdir *t, const char *template, const char *file)
{
	if (strlen(template) >= sizeof(t->dir) ||
	    (file != NULL && strlen(template) + 1 + strlen(file) >= sizeof(t->path)))
		return -ENAMETOOLONG;
	strcpy(t->dir, template);
	if (mkdtemp(t->dir) == NULL)
		return -errno;
	if (file != NULL)
		snprintf(t->path, sizeof(t->path), "%s/%s", t->dir, file);
	else
		t->path[0] = '\0';
	return 0;
}

int
mr_test_tmpdir_remove(const struct mr_test_tmpdir *t)
{
	char cmd[sizeof(t->dir) + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	return system(cmd) == 0 ? 0 : -1;
}

int
mr_test_tmpdir_write(const struct mr_test_tmpdir *t, const char *name, const char *text,
		     char *path, size_t len)
{
	FILE *f;
	int r = 0;

	snprintf(path, len, "%s/%s", t->dir, name);
	f = fopen(path, "w");
	if (f == NULL)
		return -errno;
	if (fputs(text, f) < 0)
		r = -EIO;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	return r;
}
