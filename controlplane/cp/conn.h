/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_CP_CONN_H
#define MR_CP_CONN_H

/*
 * The reply side of a client on one of mrelay-cp's non-blocking stream
 * sockets (the admin socket, NG over TCP): replies are queued whole and
 * written as the socket takes them, and a client that asks to go (its
 * peer closed, an error) is dropped only once its replies are out. Each
 * owner keeps its own request buffer and framing. The daemon's poll loop
 * only.
 */
#include <stdbool.h>
#include <stddef.h>

struct mr_conn {
	int fd;                         /* -1: the entry is free */
	bool closing;                   /* drop once out is written */
	char *out;                      /* reply bytes not written yet */
	size_t out_len, out_off;
};

/* Append @len bytes to the replies; 0 or -ENOMEM (nothing queued). */
int mr_conn_queue(struct mr_conn *c, const void *buf, size_t len);

/* Replies wait to be written? */
bool mr_conn_pending(const struct mr_conn *c);

/* What to poll for: output first, so no new request is read before the
 * replies to the last ones are out (a slow reader slows only itself). */
short mr_conn_events(const struct mr_conn *c);

/*
 * After the owner served what poll() reported (@revents): an error or
 * hang-up without input marks @c closing; then as much of the replies is
 * written as the socket takes (a write error drops the rest and marks it
 * closing). Returns true when @c is closing with nothing left to write:
 * the owner then drops it.
 */
bool mr_conn_flush(struct mr_conn *c, short revents);

/* Close the socket and free the replies; the owner then resets its entry. */
void mr_conn_release(struct mr_conn *c);

#endif /* MR_CP_CONN_H */
