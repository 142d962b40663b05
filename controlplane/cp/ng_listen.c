/* SPDX-License-Identifier: BSD-3-Clause */
/* NG sockets (ng_listen.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "frame.h"
#include "log.h"
#include "ng_listen.h"

/* Messages served per socket per loop turn. */
#define BURST 64u

struct tcp_client {
	struct mr_conn conn;
	struct sockaddr_storage peer;
	socklen_t peer_len;
	char *in;                       /* MR_NG_MSG_MAX bytes */
	size_t in_len;
};

struct mr_ng_listen {
	struct mr_ng *ng;
	unsigned int n_udp, n_tcp;
	int udp[MR_CP_MAX_LISTEN];
	int tcp[MR_CP_MAX_LISTEN];
	struct tcp_client clients[MR_NG_TCP_CLIENTS];
	char rx[MR_NG_MSG_MAX + 1];
	char tx[MR_NG_MSG_MAX];
};

static socklen_t
to_sockaddr(const struct mr_sockaddr *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == MR_AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, a->ip, 16);
		s6->sin6_port = a->port_be;
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	s4->sin_family = AF_INET;
	memcpy(&s4->sin_addr, a->ip, 4);
	s4->sin_port = a->port_be;
	return sizeof(*s4);
}

static int
bind_one(const struct mr_sockaddr *a, int type, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	char buf[MR_LOG_ADDR_LEN];
	socklen_t len = to_sockaddr(a, &ss);
	int fd, one = 1, r;

	fd = socket(ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 64) < 0))
		goto fail;
	return fd;
fail:
	r = -errno;
	snprintf(err, errlen, "NG %s %s: %s", type == SOCK_STREAM ? "tcp" : "udp",
		 mr_log_addr(a, buf, sizeof(buf)), strerror(-r));
	if (fd >= 0)
		close(fd);
	return r;
}

int
mr_ng_listen_open(const struct mr_cp_config *cfg, struct mr_ng *ng,
		  struct mr_ng_listen **ret, char *err, size_t errlen)
{
	struct mr_ng_listen *l = calloc(1, sizeof(*l));
	unsigned int i;
	int fd;

	if (l == NULL)
		return -ENOMEM;
	l->ng = ng;
	for (i = 0; i < MR_NG_TCP_CLIENTS; i++)
		l->clients[i].conn.fd = -1;
	for (i = 0; i < cfg->n_ng_udp; i++) {
		fd = bind_one(&cfg->ng_udp[i], SOCK_DGRAM, err, errlen);
		if (fd < 0)
			goto err_close;
		l->udp[l->n_udp++] = fd;
	}
	for (i = 0; i < cfg->n_ng_tcp; i++) {
		fd = bind_one(&cfg->ng_tcp[i], SOCK_STREAM, err, errlen);
		if (fd < 0)
			goto err_close;
		l->tcp[l->n_tcp++] = fd;
	}
	*ret = l;
	return 0;
err_close:
	mr_ng_listen_close(l);
	return fd;
}

static void
client_drop(struct tcp_client *c)
{
	mr_conn_release(&c->conn);
	free(c->in);
	memset(c, 0, sizeof(*c));
	c->conn.fd = -1;
}

void
mr_ng_listen_close(struct mr_ng_listen *l)
{
	unsigned int i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n_udp; i++)
		close(l->udp[i]);
	for (i = 0; i < l->n_tcp; i++)
		close(l->tcp[i]);
	for (i = 0; i < MR_NG_TCP_CLIENTS; i++)
		if (l->clients[i].conn.fd >= 0)
			client_drop(&l->clients[i]);
	free(l);
}

unsigned int
mr_ng_listen_pollfds(const struct mr_ng_listen *l, struct pollfd *fds)
{
	unsigned int i, n = 0;

	for (i = 0; i < l->n_udp; i++)
		fds[n++] = (struct pollfd){ .fd = l->udp[i], .events = POLLIN };
	for (i = 0; i < l->n_tcp; i++)
		fds[n++] = (struct pollfd){ .fd = l->tcp[i], .events = POLLIN };
	for (i = 0; i < MR_NG_TCP_CLIENTS; i++) {
		const struct mr_conn *c = &l->clients[i].conn;

		if (c->fd < 0)
			continue;
		fds[n++] = (struct pollfd){ .fd = c->fd, .events = mr_conn_events(c) };
	}
	return n;
}

/* The cache key's peer part: address and port bytes. */
static size_t
peer_key(const struct sockaddr_storage *ss, uint8_t *key)
{
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		memcpy(key, &s6->sin6_addr, 16);
		memcpy(key + 16, &s6->sin6_port, 2);
		return 18;
	}
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

	memcpy(key, &s4->sin_addr, 4);
	memcpy(key + 4, &s4->sin_port, 2);
	return 6;
}

static void
log_result(const struct mr_ng_result *res, const char *transport)
{
	const char *ctx = res->call_id[0] != '\0' ? res->call_id : NULL;

	if (res->dropped)
		mr_log(LOG_NOTICE, MR_LOG_NG, NULL, "%s: message dropped: %s", transport, res->reason);
	else if (res->cached)
		mr_log(LOG_DEBUG, MR_LOG_NG, ctx, "%s: retransmitted %s answered from the cache",
		       transport, mr_ng_cmd_name(res->cmd));
	else if (res->error)
		mr_log(LOG_NOTICE, MR_LOG_NG, ctx, "%s: %s refused: %s", transport,
		       mr_ng_cmd_name(res->cmd), res->reason);
	else
		mr_log(res->cmd == MR_NG_CMD_PING || res->cmd == MR_NG_CMD_QUERY ||
		       res->cmd == MR_NG_CMD_LIST || res->cmd == MR_NG_CMD_STATISTICS ?
		       LOG_DEBUG : LOG_INFO, MR_LOG_NG, ctx, "%s: %s ok%s%s", transport,
		       mr_ng_cmd_name(res->cmd), res->reason[0] != '\0' ? ", warning: " : "",
		       res->reason);
}

static void
serve_udp(struct mr_ng_listen *l, int fd, uint64_t now_ms)
{
	struct mr_ng_result res;
	unsigned int i;

	for (i = 0; i < BURST; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		uint8_t key[18];
		size_t out_len;
		ssize_t n = recvfrom(fd, l->rx, sizeof(l->rx), 0, (struct sockaddr *)&ss, &sl);

		if (n < 0)
			return;         /* EAGAIN, or an ICMP error of an earlier send */
		if ((size_t)n > MR_NG_MSG_MAX) {
			mr_log(LOG_NOTICE, MR_LOG_NG, NULL, "udp: datagram over %u bytes dropped",
			       MR_NG_MSG_MAX);
			continue;
		}
		if (mr_ng_process(l->ng, l->rx, (size_t)n, key, peer_key(&ss, key), now_ms, l->tx,
				  sizeof(l->tx), &out_len, &res) == 0)
			(void)sendto(fd, l->tx, out_len, MSG_DONTWAIT, (struct sockaddr *)&ss, sl);
		log_result(&res, "udp");
	}
}

static void
accept_tcp(struct mr_ng_listen *l, int fd)
{
	unsigned int i;

	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int cfd = accept4(fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd < 0)
			return;
		for (i = 0; i < MR_NG_TCP_CLIENTS && l->clients[i].conn.fd >= 0; i++)
			;
		if (i == MR_NG_TCP_CLIENTS) {
			mr_log(LOG_WARNING, MR_LOG_NG, NULL, "tcp: refused a connection: %u are open",
			       MR_NG_TCP_CLIENTS);
			close(cfd);
			continue;
		}
		l->clients[i].in = malloc(MR_NG_MSG_MAX);
		if (l->clients[i].in == NULL) {
			close(cfd);
			continue;
		}
		l->clients[i].conn.fd = cfd;
		l->clients[i].peer = ss;
		l->clients[i].peer_len = sl;
	}
}

static void
read_tcp(struct mr_ng_listen *l, struct tcp_client *c, uint64_t now_ms)
{
	struct mr_ng_result res;
	const char *why = NULL;
	uint8_t key[18];
	size_t klen = peer_key(&c->peer, key), msg_len, out_len;
	ssize_t n;
	int r;

	n = read(c->conn.fd, c->in + c->in_len, MR_NG_MSG_MAX - c->in_len);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		c->conn.closing = true;
		return;
	}
	if (n > 0)
		c->in_len += (size_t)n;
	/* All complete messages of this read (at most MR_NG_MSG_MAX bytes of
	 * them): what stays in the buffer would wait for the peer's next write. */
	while (c->in_len > 0) {
		r = mr_ng_frame_len(c->in, c->in_len, &msg_len, &why);
		if (r == -EAGAIN)
			return;
		if (r < 0) {
			mr_log(LOG_NOTICE, MR_LOG_NG, NULL, "tcp: closing a connection: %s", why);
			c->conn.closing = true;
			c->in_len = 0;
			return;
		}
		if (mr_ng_process(l->ng, c->in, msg_len, key, klen, now_ms, l->tx, sizeof(l->tx),
				  &out_len, &res) == 0 && mr_conn_queue(&c->conn, l->tx, out_len) < 0)
			c->conn.closing = true;
		log_result(&res, "tcp");
		memmove(c->in, c->in + msg_len, c->in_len - msg_len);
		c->in_len -= msg_len;
	}
}

void
mr_ng_listen_serve(struct mr_ng_listen *l, const struct pollfd *fds, unsigned int n,
		   uint64_t now_ms)
{
	unsigned int i, k;

	for (i = 0; i < n; i++) {
		struct tcp_client *c = NULL;

		if (fds[i].revents == 0)
			continue;
		if (i < l->n_udp) {
			serve_udp(l, fds[i].fd, now_ms);
			continue;
		}
		if (i < l->n_udp + l->n_tcp) {
			accept_tcp(l, fds[i].fd);
			continue;
		}
		for (k = 0; k < MR_NG_TCP_CLIENTS; k++)
			if (l->clients[k].conn.fd == fds[i].fd)
				c = &l->clients[k];
		if (c == NULL)
			continue;
		if (fds[i].revents & POLLIN)
			read_tcp(l, c, now_ms);
		if (mr_conn_flush(&c->conn, fds[i].revents))
			client_drop(c);
	}
}
