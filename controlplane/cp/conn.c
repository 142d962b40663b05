/* SPDX-License-Identifier: BSD-3-Clause */
/* Replies of a stream socket's client (conn.h). */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"

int
mr_conn_queue(struct mr_conn *c, const void *buf, size_t len)
{
	char *p;

	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	p = realloc(c->out, c->out_len + len);
	if (p == NULL)
		return -ENOMEM;
	memcpy(p + c->out_len, buf, len);
	c->out = p;
	c->out_len += len;
	return 0;
}

bool
mr_conn_pending(const struct mr_conn *c)
{
	return c->out_len > c->out_off;
}

short
mr_conn_events(const struct mr_conn *c)
{
	return mr_conn_pending(c) ? POLLOUT : POLLIN;
}

bool
mr_conn_flush(struct mr_conn *c, short revents)
{
	if (!(revents & POLLIN) && (revents & (POLLERR | POLLHUP | POLLNVAL)))
		c->closing = true;
	while (c->out_off < c->out_len) {
		ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			c->closing = true;
			c->out_off = c->out_len;
			break;
		}
		c->out_off += (size_t)n;
	}
	return c->closing && c->out_off >= c->out_len;
}

void
mr_conn_release(struct mr_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->out);
}
