/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stream flows, TLS and plain TCP: accept, connect, handshake, read and
 * frame, the bounded write queue. Non-blocking throughout: OpenSSL may want
 * to write while we read (a TLS 1.3 key update, tickets) and to read while
 * we write, so each direction remembers what it waits for and arm() asks
 * epoll for EPOLLOUT only while something waits for it.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>

#include "sipframe.h"
#include "tls.h"
#include "transport_int.h"

static void
arm(struct mr_sip_transport *t, struct mr_sip_flow *f)
{
	struct epoll_event e = { .data.u64 = f->info.id };
	uint32_t ev;

	if (f->state == MR_SIP_F_DEAD)
		return;
	if (f->state == MR_SIP_F_CONNECTING)
		ev = EPOLLOUT;
	else if (f->state == MR_SIP_F_HANDSHAKE)
		ev = EPOLLIN | (f->hs_wants_write ? EPOLLOUT : 0);
	else
		ev = EPOLLIN | (f->rd_wants_write || (f->wlen > f->woff && !f->wr_wants_read) ?
				EPOLLOUT : 0);
	if (ev == f->ev)
		return;
	e.events = ev;
	if (epoll_ctl(t->epfd, f->ev == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, f->fd, &e) < 0) {
		mr_sip_flow_kill(t, f);
		return;
	}
	f->ev = ev;
}

static void
local_addr(struct mr_sip_flow *f)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getsockname(f->fd, (struct sockaddr *)&ss, &sl) == 0)
		mr_sip_addr_from(&ss, &f->info.local);
}

/* Append to the write queue; the queue is compacted, never grown past
 * MR_SIP_WQ_MAX: a peer that does not read loses its flow. */
static int
wq_append(struct mr_sip_flow *f, const char *msg, size_t len)
{
	size_t queued = f->wlen - f->woff;

	if (queued + len > MR_SIP_WQ_MAX)
		return -ENOBUFS;
	if (f->woff > 0 && f->wlen + len > f->wcap) {
		memmove(f->wbuf, f->wbuf + f->woff, queued);
		f->woff = 0;
		f->wlen = queued;
	}
	if (f->wlen + len > f->wcap) {
		size_t cap = f->wcap != 0 ? f->wcap : 4096;
		char *p;

		while (cap < f->wlen + len)
			cap *= 2;
		if (cap > MR_SIP_WQ_MAX)
			cap = MR_SIP_WQ_MAX;
		p = realloc(f->wbuf, cap);
		if (p == NULL)
			return -ENOBUFS;
		f->wbuf = p;
		f->wcap = cap;
	}
	memcpy(f->wbuf + f->wlen, msg, len);
	f->wlen += len;
	return 0;
}

/* Write what the socket takes. 0 (all written, or blocked until an event),
 * -1 when the flow died. */
static int
flush(struct mr_sip_transport *t, struct mr_sip_flow *f)
{
	f->wr_wants_read = false;
	while (f->woff < f->wlen) {
		size_t n = f->wlen - f->woff;

		if (f->ssl != NULL) {
			int r;

			ERR_clear_error();
			r = SSL_write(f->ssl, f->wbuf + f->woff, (int)n);
			if (r > 0) {
				f->woff += (size_t)r;
				continue;
			}
			switch (SSL_get_error(f->ssl, r)) {
			case SSL_ERROR_WANT_WRITE:
				return 0;
			case SSL_ERROR_WANT_READ:
				f->wr_wants_read = true;
				return 0;
			default:
				f->ssl_broken = true;
				mr_sip_flow_kill(t, f);
				return -1;
			}
		} else {
			ssize_t r = send(f->fd, f->wbuf + f->woff, n, MSG_NOSIGNAL | MSG_DONTWAIT);

			if (r > 0) {
				f->woff += (size_t)r;
				continue;
			}
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return 0;
			mr_sip_flow_kill(t, f);
			return -1;
		}
	}
	/* Empty: give the memory back, most flows idle most of the time. */
	free(f->wbuf);
	f->wbuf = NULL;
	f->woff = f->wlen = f->wcap = 0;
	return 0;
}

/* >0 bytes, 0 for nothing now, -1 for gone (closed by the peer, error). */
static ssize_t
stream_read(struct mr_sip_flow *f, char *buf, size_t n)
{
	int r;

	if (f->ssl == NULL) {
		ssize_t got = recv(f->fd, buf, n, 0);

		if (got > 0)
			return got;
		if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return 0;
		return -1;
	}
	f->rd_wants_write = false;
	ERR_clear_error();
	r = SSL_read(f->ssl, buf, (int)n);
	if (r > 0)
		return r;
	switch (SSL_get_error(f->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		return 0;
	case SSL_ERROR_WANT_WRITE:
		f->rd_wants_write = true;
		return 0;
	case SSL_ERROR_ZERO_RETURN:
		return -1;      /* close_notify: ours may still go out */
	default:
		f->ssl_broken = true;
		return -1;
	}
}

static int
pong(struct mr_sip_transport *t, struct mr_sip_flow *f)
{
	if (wq_append(f, "\r\n", 2) < 0) {
		mr_sip_flow_kill(t, f);
		return -1;
	}
	t->c.keepalive_pongs++;
	return 0;
}

/*
 * Hand up every whole message in the read buffer, at most *budget of them.
 * -1 when the flow died (framing error, or the upper layer dropped it).
 */
static int
frame_all(struct mr_sip_transport *t, struct mr_sip_flow *f, unsigned int *budget)
{
	size_t off = 0, n = 0;

	while (off < f->rlen && *budget > 0) {
		switch (mr_sip_frame(f->rbuf + off, f->rlen - off, MR_SIP_MSG_MAX, &n)) {
		case MR_SIP_FRAME_NEED:
			goto out;
		case MR_SIP_FRAME_SKIP:
			break;
		case MR_SIP_FRAME_PING:
			if (pong(t, f) < 0)
				return -1;
			break;
		case MR_SIP_FRAME_MSG:
			(*budget)--;
			mr_sip_flow_deliver(t, f, f->rbuf + off, n);
			if (f->state == MR_SIP_F_DEAD)
				return -1;
			break;
		default:
			t->c.framing_errors++;
			mr_sip_flow_kill(t, f);
			return -1;
		}
		off += n;
	}
out:
	if (off > 0) {
		memmove(f->rbuf, f->rbuf + off, f->rlen - off);
		f->rlen -= off;
		f->msg_start_ms = 0;    /* what is left started now */
	}
	/* The clock against slow messages; a lone CRLF (someone's keep-alive
	 * style) is not a message in progress. */
	if (f->rlen == 0 || (f->rlen == 2 && memcmp(f->rbuf, "\r\n", 2) == 0))
		f->msg_start_ms = 0;
	else if (f->msg_start_ms == 0)
		f->msg_start_ms = t->now_ms;
	return 0;
}

static void
input(struct mr_sip_transport *t, struct mr_sip_flow *f)
{
	unsigned int budget = MR_SIP_MSGS, reads;
	ssize_t n;

	for (reads = 0;; reads++) {
		if (f->rlen > 0 && frame_all(t, f, &budget) < 0)
			return;
		if (budget == 0 || reads == MR_SIP_READS) {
			mr_sip_flow_set_pending(t, f);  /* more next call */
			return;
		}
		if (f->rbuf == NULL) {
			f->rbuf = malloc(MR_SIP_MSG_MAX);
			if (f->rbuf == NULL) {
				mr_sip_flow_kill(t, f);
				return;
			}
		}
		/* frame_all() leaves room: a full buffer is a whole message
		 * or TOO_BIG */
		n = stream_read(f, f->rbuf + f->rlen, MR_SIP_MSG_MAX - f->rlen);
		if (n < 0) {
			mr_sip_flow_kill(t, f);
			return;
		}
		if (n == 0)
			break;
		f->rlen += (size_t)n;
		f->last_ms = t->now_ms;
	}
	if (f->rlen == 0) {
		free(f->rbuf);
		f->rbuf = NULL;
	}
}

static int
handshake(struct mr_sip_transport *t, struct mr_sip_flow *f)
{
	int r;

	ERR_clear_error();
	r = SSL_do_handshake(f->ssl);
	if (r == 1) {
		f->hs_wants_write = false;
		f->state = MR_SIP_F_UP;
		f->last_ms = t->now_ms;
		mr_sip_tls_peer(f->ssl, &f->info.client_verified, f->info.peer_cn,
				sizeof(f->info.peer_cn));
		if (!f->dialled)
			t->c.flows_accepted++;
		return 0;
	}
	switch (SSL_get_error(f->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		f->hs_wants_write = false;
		return 0;
	case SSL_ERROR_WANT_WRITE:
		f->hs_wants_write = true;
		return 0;
	default:
		/* old protocol version, no shared cipher, a certificate that
		 * does not verify, not TLS at all: counted, never logged */
		t->c.handshake_failures++;
		f->ssl_broken = true;
		mr_sip_flow_kill(t, f);
		return -1;
	}
}

/* A dialled connection finished connecting, or failed to. */
static int
connected(struct mr_sip_transport *t, struct mr_sip_flow *f)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int err = 0;

	if (getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &err, &(socklen_t){ sizeof(err) }) < 0 ||
	    err != 0 || getpeername(f->fd, (struct sockaddr *)&ss, &sl) < 0) {
		t->c.dial_failures++;
		mr_sip_flow_kill(t, f);
		return -1;
	}
	local_addr(f);
	f->state = f->ssl != NULL ? MR_SIP_F_HANDSHAKE : MR_SIP_F_UP;
	return 0;
}

void
mr_sip_stream_event(struct mr_sip_transport *t, struct mr_sip_flow *f)
{
	if (f->state == MR_SIP_F_CONNECTING && connected(t, f) < 0)
		return;
	if (f->state == MR_SIP_F_HANDSHAKE && handshake(t, f) < 0)
		return;
	if (f->state == MR_SIP_F_UP) {
		/* Write first (a WANT_READ write may be waiting on this very
		 * event), read, then write what reading queued (pongs). */
		if (flush(t, f) < 0)
			return;
		input(t, f);
		if (f->state == MR_SIP_F_DEAD || flush(t, f) < 0)
			return;
	}
	arm(t, f);
}

/* Out of descriptors: accept and close one connection with the spare, so
 * the listener does not stay readable and spin the daemon. */
static void
shed(struct mr_sip_transport *t, int lfd)
{
	int fd;

	if (t->spare_fd < 0)
		return;
	close(t->spare_fd);
	fd = accept(lfd, NULL, NULL);
	if (fd >= 0)
		close(fd);
	t->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	t->c.flows_refused_limit++;
}

void
mr_sip_stream_accept(struct mr_sip_transport *t, unsigned int l, bool tls)
{
	int lfd = tls ? t->tls[l].fd : t->tcp[l].fd, one = 1, i;

	for (i = 0; i < MR_SIP_ACCEPTS; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct mr_sockaddr peer;
		struct mr_sip_flow *f;
		int fd, trunk;

		fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE)
				shed(t, lfd);
			return;         /* EAGAIN: all taken */
		}
		mr_sip_addr_from(&ss, &peer);
		/* Plain SIP only from a pstn trunk's address; TLS from anyone,
		 * tagged with the TLS trunk at that address, if any. */
		trunk = mr_sip_trunk_by_ip(t, &peer, !tls, tls ? MR_SIP_TLS : 0);
		if (!tls && trunk < 0) {
			t->c.plain_refused++;
			close(fd);
			continue;
		}
		if (t->n_flows >= t->max_flows) {
			t->c.flows_refused_limit++;
			close(fd);
			continue;
		}
		f = mr_sip_flow_new(t, fd, tls ? MR_SIP_TLS : MR_SIP_TCP);
		if (f == NULL) {
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		f->info.peer = peer;
		f->info.trunk = trunk;
		local_addr(f);
		if (tls) {
			f->info.listener = (int)l;
			f->ssl = SSL_new(t->tls[l].ctx);
			if (f->ssl == NULL || !SSL_set_fd(f->ssl, fd)) {
				mr_sip_flow_kill(t, f);
				continue;
			}
			SSL_set_accept_state(f->ssl);
			f->state = MR_SIP_F_HANDSHAKE;
		} else {
			f->state = MR_SIP_F_UP;
			t->c.flows_accepted++;
		}
		arm(t, f);
	}
}

int
mr_sip_stream_dial(struct mr_sip_transport *t, unsigned int trunk, struct mr_sip_flow **ret)
{
	const struct mr_sip_trunk *tr = &t->cfg->trunks[trunk];
	struct sockaddr_storage ss;
	socklen_t sl = mr_sip_addr_to(&tr->addr, &ss);
	struct mr_sip_flow *f;
	int fd, one = 1, r;

	if (sl == 0 || (tr->proto == MR_SIP_TLS && t->client_ctx == NULL))
		return -EINVAL;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	f = mr_sip_flow_new(t, fd, tr->proto == MR_SIP_TLS ? MR_SIP_TLS : MR_SIP_TCP);
	if (f == NULL) {
		close(fd);
		return -ENOMEM;
	}
	f->dialled = true;
	f->info.trunk = (int)trunk;
	f->info.peer = tr->addr;
	if (tr->proto == MR_SIP_TLS) {
		f->ssl = SSL_new(t->client_ctx);
		if (f->ssl == NULL || mr_sip_tls_expect_peer(f->ssl, tr) < 0 ||
		    !SSL_set_fd(f->ssl, fd)) {
			r = -ENOMEM;
			goto err_kill;
		}
		SSL_set_connect_state(f->ssl);
	}
	if (connect(fd, (struct sockaddr *)&ss, sl) == 0) {
		local_addr(f);
		f->state = f->ssl != NULL ? MR_SIP_F_HANDSHAKE : MR_SIP_F_UP;
		f->hs_wants_write = true;       /* ClientHello on the first event */
	} else if (errno == EINPROGRESS) {
		f->state = MR_SIP_F_CONNECTING;
	} else {
		r = -errno;
		goto err_kill;
	}
	arm(t, f);
	if (f->state == MR_SIP_F_DEAD)
		return -EIO;    /* not owed yet: no closed() */
	/* From here on the flow is the caller's: failures arrive as closed(). */
	f->owed_closed = true;
	*ret = f;
	return 0;
err_kill:
	mr_sip_flow_kill(t, f);     /* not owed: no closed() */
	return r;
}

int
mr_sip_stream_send(struct mr_sip_transport *t, struct mr_sip_flow *f, const char *msg, size_t len)
{
	if (wq_append(f, msg, len) < 0) {
		mr_sip_flow_kill(t, f);
		return -ENOBUFS;
	}
	f->last_ms = t->now_ms;
	if (f->state == MR_SIP_F_UP && flush(t, f) < 0)
		return -ENOTCONN;
	arm(t, f);
	return 0;
}
