/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_CP_ADMIN_H
#define MR_CP_ADMIN_H

/*
 * The admin socket: a unix stream socket, mode 0600, for mrelayctl and
 * operators (docs/mrelayctl.md, "Admin socket"). A request is one line of
 * space-separated words; a reply is a status line ("ok" or "error: what"),
 * body lines, and a line holding a single ".". Requests are served in
 * order; a client may pipeline them.
 *
 * Bad input (over-long lines, NUL bytes, unknown commands) gets an error
 * reply; a client that sends an over-long line is answered and dropped.
 */
#include <poll.h>
#include <stdio.h>

struct mr_cp;
struct mr_admin;

#define MR_ADMIN_LINE_MAX 4096u
#define MR_ADMIN_MAX_CLIENTS 16u

/* Bind and listen at @path (a stale socket there is replaced; a live one is
 * an error). 0 or -errno, with "what" in @err. */
int mr_admin_open(const char *path, struct mr_admin **ret, char *err, size_t errlen);
/* Close every connection and unlink the socket. NULL is a no-op. */
void mr_admin_close(struct mr_admin *a);

/* The descriptors to poll: fills @fds (room for 1 + MR_ADMIN_MAX_CLIENTS). */
unsigned int mr_admin_pollfds(const struct mr_admin *a, struct pollfd *fds);
/* Serve what poll() reported in @fds[0..n). Region lock held. */
void mr_admin_serve(struct mr_admin *a, const struct pollfd *fds, unsigned int n,
		    struct mr_cp *cp);

/*
 * admin_cmd.c: run one request line (NUL-terminated, no '\n') for @cp.
 * Writes the body to @body and returns 0, or returns -1 with the reason in
 * @err (the body is then dropped).
 */
int mr_admin_run(struct mr_cp *cp, char *line, FILE *body, char *err, size_t errlen);

#endif /* MR_CP_ADMIN_H */
