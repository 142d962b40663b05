/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_TEST_RACE_H
#define MR_TEST_RACE_H

/*
 * Two processes doing the same thing at the same moment, as mrelay-cp and
 * mrelayctl may when both create a file that does not exist yet. The
 * window is narrow, so both are forked first and then released together
 * through a pipe; callers repeat the race for many rounds.
 */

/*
 * Runs @child(i, @arg) in process i = 0 and 1, once both exist, and fails
 * the running cmocka test unless both exit 0. @child returns its process's
 * exit status (10 is taken: the release never came). The failure message
 * names @round and ends with @hint, which says what the statuses mean.
 */
void mr_test_race_pair(int (*child)(unsigned int i, void *arg), void *arg, unsigned int round,
		       const char *hint);

#endif
