/* SPDX-License-Identifier: BSD-3-Clause */
/* Two processes released at the same moment (race.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "race.h"

void
mr_test_race_pair(int (*child)(unsigned int i, void *arg), void *arg, unsigned int round,
		  const char *hint)
{
	pid_t pid[2];
	int go[2], status;
	unsigned int i;
	char c;

	assert_int_equal(pipe(go), 0);
	for (i = 0; i < 2; i++) {
		pid[i] = fork();
		assert_true(pid[i] >= 0);
		if (pid[i] == 0) {
			close(go[1]);
			if (read(go[0], &c, 1) != 1)
				_exit(10);
			_exit(child(i, arg));
		}
	}
	close(go[0]);
	assert_int_equal(write(go[1], "gg", 2), 2);
	close(go[1]);
	for (i = 0; i < 2; i++) {
		assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
		assert_true(WIFEXITED(status));
		if (WEXITSTATUS(status) != 0)
			fail_msg("round %u: process %u exited %d%s", round, i, WEXITSTATUS(status),
				 hint);
	}
}
