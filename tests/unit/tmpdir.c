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
	    strlen(template) + 1 + strlen(file) >= sizeof(t->path))
		return -ENAMETOOLONG;
	strcpy(t->dir, template);
	if (mkdtemp(t->dir) == NULL)
		return -errno;
	snprintf(t->path, sizeof(t->path), "%s/%s", t->dir, file);
	return 0;
}

int
mr_test_tmpdir_remove(const struct mr_test_tmpdir *t)
{
	char cmd[sizeof(t->dir) + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	return system(cmd) == 0 ? 0 : -1;
}
