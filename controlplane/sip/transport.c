/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The SIP transport (transport.h): listeners, the flow table, the serve
 * loop with its timers, and the calls of the upper layer. Stream I/O is in
 * stream.c, datagrams in udp.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "tls.h"
#include "transport_int.h"

/* ---- lists ---- */

static void
link_init(struct mr_sip_link *h)
{
	h->next = h->prev = h;
}

static bool
link_empty(const struct mr_sip_link *h)
{
	return h->next == h;
}

static void
link_add_tail(struct mr_sip_link *h, struct mr_sip_link *n)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}

static void
link_del(struct mr_sip_link *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n->prev = n;
}

/* ---- addresses ---- */

void
mr_sip_addr_from(const struct sockaddr_storage *ss, struct mr_sockaddr *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		ret->family = MR_AF_INET;
		memcpy(ret->ip, &s4->sin_addr, 4);
		ret->port_be = s4->sin_port;
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		ret->family = MR_AF_INET6;
		memcpy(ret->ip, &s6->sin6_addr, 16);
		ret->port_be = s6->sin6_port;
	}
}

socklen_t
mr_sip_addr_to(const struct mr_sockaddr *a, struct sockaddr_storage *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (a->family == MR_AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ret;

		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, a->ip, 4);
		s4->sin_port = a->port_be;
		return sizeof(*s4);
	}
	if (a->family == MR_AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ret;

		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, a->ip, 16);
		s6->sin6_port = a->port_be;
		return sizeof(*s6);
	}
	return 0;
}

static const char *
addr_str(const struct mr_sockaddr *a, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	inet_ntop(a->family == MR_AF_INET6 ? AF_INET6 : AF_INET, a->ip, ip, sizeof(ip));
	snprintf(buf, len, a->family == MR_AF_INET6 ? "[%s]:%u" : "%s:%u", ip, ntohs(a->port_be));
	return buf;
}

int
mr_sip_trunk_by_ip(const struct mr_sip_transport *t, const struct mr_sockaddr *a, bool pstn_only,
		   enum mr_sip_proto proto)
{
	unsigned int i;

	for (i = 0; i < t->cfg->n_trunks; i++) {
		const struct mr_sip_trunk *tr = &t->cfg->trunks[i];

		if (pstn_only && !tr->pstn)
			continue;
		if (proto != 0 && tr->proto != proto)
			continue;
		if (mr_sockaddr_ip_eq(&tr->addr, a))
			return (int)i;
	}
	return -1;
}

int
mr_sip_epoll_add(struct mr_sip_transport *t, int fd, enum mr_sip_tag tag, uint64_t id, uint32_t ev)
{
	struct epoll_event e = { .events = ev, .data.u64 = ((uint64_t)tag << MR_SIP_TAG_SHIFT) | id };

	return epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &e) < 0 ? -errno : 0;
}

/* ---- flows ---- */

struct mr_sip_flow *
mr_sip_flow_new(struct mr_sip_transport *t, int fd, enum mr_sip_proto proto)
{
	struct mr_sip_flow *f = calloc(1, sizeof(*f));
	size_t b;

	if (f == NULL)
		return NULL;
	f->info.id = ++t->next_id;
	f->info.proto = proto;
	f->info.listener = -1;
	f->info.trunk = -1;
	f->fd = fd;
	f->udp = -1;
	f->created_ms = f->last_ms = t->now_ms;
	link_init(&f->pend);
	link_add_tail(&t->live, &f->all);
	b = (size_t)f->info.id & t->hash_mask;
	f->hnext = t->hash[b];
	t->hash[b] = f;
	t->n_flows++;
	return f;
}

struct mr_sip_flow *
mr_sip_flow_find(const struct mr_sip_transport *t, mr_flow_id id)
{
	struct mr_sip_flow *f;

	for (f = t->hash[(size_t)id & t->hash_mask]; f != NULL; f = f->hnext) {
		if (f->info.id == id)
			return f;
	}
	return NULL;
}

/* The daemon polls only the epoll descriptor: make it readable while
 * there is work it cannot see (leftovers, callbacks owed). */
static void
wake(struct mr_sip_transport *t)
{
	uint64_t one = 1;

	if (!t->woken && write(t->wakefd, &one, sizeof(one)) == sizeof(one))
		t->woken = true;
}

void
mr_sip_flow_set_pending(struct mr_sip_transport *t, struct mr_sip_flow *f)
{
	if (f->pending || f->state == MR_SIP_F_DEAD)
		return;
	f->pending = true;
	link_add_tail(&t->pending, &f->pend);
	wake(t);
}

/* Close sockets and free buffers; the struct itself stays for the reaper. */
static void
flow_release(struct mr_sip_flow *f)
{
	if (f->ssl != NULL) {
		/* A polite close_notify on a healthy connection, best effort:
		 * non-blocking, never waited for. */
		if (!f->ssl_broken && f->state == MR_SIP_F_UP)
			SSL_shutdown(f->ssl);
		SSL_free(f->ssl);
		f->ssl = NULL;
	}
	if (f->fd >= 0)
		close(f->fd);   /* also leaves the epoll set */
	f->fd = -1;
	free(f->rbuf);
	free(f->wbuf);
	f->rbuf = f->wbuf = NULL;
	f->rlen = f->woff = f->wlen = f->wcap = 0;
}

void
mr_sip_flow_kill(struct mr_sip_transport *t, struct mr_sip_flow *f)
{
	struct mr_sip_flow **pp;

	if (f->state == MR_SIP_F_DEAD)
		return;
	for (pp = &t->hash[(size_t)f->info.id & t->hash_mask]; *pp != NULL; pp = &(*pp)->hnext) {
		if (*pp == f) {
			*pp = f->hnext;
			break;
		}
	}
	if (f->pending) {
		link_del(&f->pend);
		f->pending = false;
	}
	flow_release(f);
	t->n_flows--;
	if (f->info.proto == MR_SIP_UDP && t->udp_flows[f->udp_slot] == f)
		t->udp_flows[f->udp_slot] = NULL;
	f->state = MR_SIP_F_DEAD;
	link_del(&f->all);
	link_add_tail(&t->reap, &f->all);
	wake(t);
}

void
mr_sip_flow_deliver(struct mr_sip_transport *t, struct mr_sip_flow *f, const char *msg, size_t len)
{
	f->owed_closed = true;
	t->c.msgs_in++;
	t->ops->message(t->ctx, &f->info, msg, len, t->now_ms);
}

/* closed() for the dead; a callback may kill more, which land here too. */
static void
reap(struct mr_sip_transport *t)
{
	while (!link_empty(&t->reap)) {
		struct mr_sip_flow *f = mr_sip_flow_of(t->reap.next, all);

		link_del(&f->all);
		if (f->owed_closed && t->ops->closed != NULL)
			t->ops->closed(t->ctx, f->info.id);
		free(f);
	}
}

/* Whether @ms have passed since @since (a clock that steps back never
 * expires anything). */
static bool
elapsed(uint64_t now, uint64_t since, uint64_t ms)
{
	return now > since && now - since >= ms;
}

/* Timers: handshakes, slow messages, idle flows. */
static void
sweep(struct mr_sip_transport *t, uint64_t now)
{
	uint64_t idle_ms = (uint64_t)t->cfg->flow_idle_s * 1000u;
	struct mr_sip_link *l, *next;

	for (l = t->live.next; l != &t->live; l = next) {
		struct mr_sip_flow *f = mr_sip_flow_of(l, all);

		next = l->next;
		if (f->state == MR_SIP_F_CONNECTING || f->state == MR_SIP_F_HANDSHAKE) {
			if (elapsed(now, f->created_ms, MR_SIP_HANDSHAKE_MS)) {
				if (f->state == MR_SIP_F_CONNECTING)
					t->c.dial_failures++;
				else
					t->c.handshake_failures++;
				mr_sip_flow_kill(t, f);
			}
		} else if (f->msg_start_ms != 0 && elapsed(now, f->msg_start_ms, MR_SIP_MSG_MS)) {
			t->c.slow_closed++;
			mr_sip_flow_kill(t, f);
		} else if (idle_ms != 0 && elapsed(now, f->last_ms, idle_ms)) {
			t->c.idle_closed++;
			mr_sip_flow_kill(t, f);
		}
	}
}

/* ---- listeners ---- */

static int
bind_listener(struct mr_sip_transport *t, struct mr_sip_listen *l, const struct mr_sockaddr *a,
	      int type, enum mr_sip_tag tag, unsigned int idx, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl = mr_sip_addr_to(a, &ss);
	char as[64];
	int one = 1, r;

	l->fd = socket(ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (sl == 0 || l->fd < 0) {
		r = sl == 0 ? -EAFNOSUPPORT : -errno;
		snprintf(err, errlen, "listen %s: %s", addr_str(a, as, sizeof(as)), strerror(-r));
		return r;
	}
	setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(l->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(l->fd, (struct sockaddr *)&ss, sl) < 0 ||
	    (type == SOCK_STREAM && listen(l->fd, SOMAXCONN) < 0)) {
		r = -errno;
		snprintf(err, errlen, "listen %s: %s", addr_str(a, as, sizeof(as)), strerror(-r));
		return r;
	}
	sl = sizeof(ss);
	if (getsockname(l->fd, (struct sockaddr *)&ss, &sl) == 0)
		mr_sip_addr_from(&ss, &l->addr);
	r = mr_sip_epoll_add(t, l->fd, tag, idx, EPOLLIN);
	if (r < 0)
		snprintf(err, errlen, "epoll: %s", strerror(-r));
	return r;
}

static int
open_listeners(struct mr_sip_transport *t, char *err, size_t errlen)
{
	const struct mr_sip_config *cfg = t->cfg;
	unsigned int i;
	int r;

	for (i = 0; i < cfg->n_tls && i < MR_SIP_MAX_LISTEN; i++) {
		t->tls[i].ctx = mr_sip_tls_server_ctx(cfg, i, err, errlen);
		if (t->tls[i].ctx == NULL)
			return -EINVAL;
		r = bind_listener(t, &t->tls[i], &cfg->tls[i].addr, SOCK_STREAM, MR_SIP_TAG_TLS, i,
				  err, errlen);
		if (r < 0)
			return r;
	}
	for (i = 0; i < cfg->n_plain_tcp && i < MR_SIP_MAX_LISTEN; i++) {
		r = bind_listener(t, &t->tcp[i], &cfg->plain_tcp[i], SOCK_STREAM, MR_SIP_TAG_TCP, i,
				  err, errlen);
		if (r < 0)
			return r;
	}
	for (i = 0; i < cfg->n_plain_udp && i < MR_SIP_MAX_LISTEN; i++) {
		r = bind_listener(t, &t->udp[i], &cfg->plain_udp[i], SOCK_DGRAM, MR_SIP_TAG_UDP, i,
				  err, errlen);
		if (r < 0)
			return r;
	}
	for (i = 0; i < cfg->n_trunks && i < MR_SIP_MAX_TRUNKS; i++) {
		if (cfg->trunks[i].proto == MR_SIP_TLS && t->client_ctx == NULL) {
			t->client_ctx = mr_sip_tls_client_ctx(cfg, err, errlen);
			if (t->client_ctx == NULL)
				return -EINVAL;
		}
	}
	return 0;
}

/* ---- the API ---- */

int
mr_sip_transport_open(const struct mr_sip_config *cfg, const struct mr_sip_transport_ops *ops,
		      void *ctx, struct mr_sip_transport **ret, char *err, size_t errlen)
{
	struct itimerspec its = { .it_interval = { .tv_sec = MR_SIP_SWEEP_MS / 1000u },
				  .it_value = { .tv_sec = MR_SIP_SWEEP_MS / 1000u } };
	struct mr_sip_transport *t = calloc(1, sizeof(*t));
	size_t buckets = 64;
	unsigned int i;
	int r;

	if (t == NULL)
		return -ENOMEM;
	t->cfg = cfg;
	t->ops = ops;
	t->ctx = ctx;
	t->epfd = t->wakefd = t->timerfd = -1;
	t->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	for (i = 0; i < MR_SIP_MAX_LISTEN; i++)
		t->tls[i].fd = t->tcp[i].fd = t->udp[i].fd = -1;
	link_init(&t->live);
	link_init(&t->reap);
	link_init(&t->pending);
	t->max_flows = cfg->max_flows != 0 ? cfg->max_flows : MR_SIP_FLOWS_DEFAULT;
	while (buckets < 2u * (size_t)t->max_flows && buckets < (1u << 20))
		buckets <<= 1;
	t->hash = calloc(buckets, sizeof(*t->hash));
	t->hash_mask = buckets - 1;
	t->scratch = malloc(MR_SIP_MSG_MAX + 1);
	if (t->hash == NULL || t->scratch == NULL) {
		snprintf(err, errlen, "sip transport: out of memory");
		r = -ENOMEM;
		goto err_close;
	}

	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	t->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	t->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (t->epfd < 0 || t->wakefd < 0 || t->timerfd < 0 ||
	    timerfd_settime(t->timerfd, 0, &its, NULL) < 0 ||
	    mr_sip_epoll_add(t, t->wakefd, MR_SIP_TAG_WAKE, 0, EPOLLIN) < 0 ||
	    mr_sip_epoll_add(t, t->timerfd, MR_SIP_TAG_TIMER, 0, EPOLLIN) < 0) {
		r = -errno;
		snprintf(err, errlen, "sip transport: %s", strerror(errno));
		goto err_close;
	}
	r = open_listeners(t, err, errlen);
	if (r < 0)
		goto err_close;
	*ret = t;
	return 0;
err_close:
	mr_sip_transport_close(t);
	return r;
}

void
mr_sip_transport_close(struct mr_sip_transport *t)
{
	unsigned int i;

	if (t == NULL)
		return;
	while (!link_empty(&t->live))
		mr_sip_flow_kill(t, mr_sip_flow_of(t->live.next, all));
	while (!link_empty(&t->reap)) {
		struct mr_sip_flow *f = mr_sip_flow_of(t->reap.next, all);

		link_del(&f->all);
		free(f);
	}
	for (i = 0; i < MR_SIP_MAX_LISTEN; i++) {
		if (t->tls[i].fd >= 0)
			close(t->tls[i].fd);
		if (t->tcp[i].fd >= 0)
			close(t->tcp[i].fd);
		if (t->udp[i].fd >= 0)
			close(t->udp[i].fd);
		SSL_CTX_free(t->tls[i].ctx);
	}
	SSL_CTX_free(t->client_ctx);
	if (t->epfd >= 0)
		close(t->epfd);
	if (t->wakefd >= 0)
		close(t->wakefd);
	if (t->timerfd >= 0)
		close(t->timerfd);
	if (t->spare_fd >= 0)
		close(t->spare_fd);
	free(t->hash);
	free(t->scratch);
	free(t);
}

int
mr_sip_transport_fd(const struct mr_sip_transport *t)
{
	return t->epfd;
}

int
mr_sip_transport_listener_addr(const struct mr_sip_transport *t, enum mr_sip_proto proto,
			       unsigned int idx, struct mr_sockaddr *ret)
{
	const struct mr_sip_listen *l;

	if (idx >= MR_SIP_MAX_LISTEN)
		return -ENOENT;
	l = proto == MR_SIP_TLS ? &t->tls[idx] : proto == MR_SIP_TCP ? &t->tcp[idx] : &t->udp[idx];
	if (l->fd < 0)
		return -ENOENT;
	*ret = l->addr;
	return 0;
}

static void
dispatch(struct mr_sip_transport *t, uint64_t data)
{
	unsigned int tag = (unsigned int)(data >> MR_SIP_TAG_SHIFT);
	uint64_t id = data & ((1ull << MR_SIP_TAG_SHIFT) - 1);
	struct mr_sip_flow *f;
	uint64_t junk;

	switch (tag) {
	case MR_SIP_TAG_FLOW:
		f = mr_sip_flow_find(t, id);
		if (f == NULL)
			break;          /* killed earlier in this batch */
		if (f->info.proto == MR_SIP_UDP)
			mr_sip_udp_input(t, -1, f);
		else
			mr_sip_stream_event(t, f);
		break;
	case MR_SIP_TAG_TLS:
		mr_sip_stream_accept(t, (unsigned int)id, true);
		break;
	case MR_SIP_TAG_TCP:
		mr_sip_stream_accept(t, (unsigned int)id, false);
		break;
	case MR_SIP_TAG_UDP:
		mr_sip_udp_input(t, (int)id, NULL);
		break;
	case MR_SIP_TAG_TIMER:
		/* only a wake-up: the sweep goes by now_ms, not by expirations */
		if (read(t->timerfd, &junk, sizeof(junk)) != sizeof(junk))
			junk = 0;
		break;
	default:
		break;          /* wake: reset below */
	}
}

void
mr_sip_transport_serve(struct mr_sip_transport *t, uint64_t now_ms)
{
	struct epoll_event ev[MR_SIP_EVENTS];
	struct mr_sip_link todo;
	uint64_t junk;
	int i, n;

	if (t->now_ms == 0) {
		struct mr_sip_link *l;

		/* flows dialled before the first call start their clocks now */
		for (l = t->live.next; l != &t->live; l = l->next)
			mr_sip_flow_of(l, all)->created_ms = mr_sip_flow_of(l, all)->last_ms = now_ms;
	}
	t->now_ms = now_ms;
	if (t->woken) {
		if (read(t->wakefd, &junk, sizeof(junk)) == sizeof(junk) || errno == EAGAIN)
			t->woken = false;
	}

	/* Leftovers first: they waited longest. Detached, so a flow that
	 * still has work re-queues itself for the next call. */
	link_init(&todo);
	if (!link_empty(&t->pending)) {
		todo.next = t->pending.next;
		todo.prev = t->pending.prev;
		todo.next->prev = todo.prev->next = &todo;
		link_init(&t->pending);
	}
	while (!link_empty(&todo)) {
		struct mr_sip_flow *f = mr_sip_flow_of(todo.next, pend);

		link_del(&f->pend);
		f->pending = false;
		if (f->info.proto == MR_SIP_UDP)
			continue;       /* datagrams: the socket stays readable */
		mr_sip_stream_event(t, f);
	}

	n = epoll_wait(t->epfd, ev, MR_SIP_EVENTS, 0);
	for (i = 0; i < n; i++)
		dispatch(t, ev[i].data.u64);

	if (now_ms >= t->next_sweep_ms) {
		sweep(t, now_ms);
		t->next_sweep_ms = now_ms + MR_SIP_SWEEP_MS;
	}
	reap(t);
	if (!link_empty(&t->pending) || !link_empty(&t->reap))
		wake(t);
}

int
mr_sip_transport_send(struct mr_sip_transport *t, mr_flow_id id, const char *msg, size_t len)
{
	struct mr_sip_flow *f = mr_sip_flow_find(t, id);
	int r;

	if (f == NULL || f->state == MR_SIP_F_DEAD)
		return -ENOTCONN;
	if (len > MR_SIP_MSG_MAX || len == 0)
		return -EMSGSIZE;
	if (f->info.proto == MR_SIP_UDP)
		r = mr_sip_udp_send(t, f, msg, len);
	else
		r = mr_sip_stream_send(t, f, msg, len);
	if (r == 0)
		t->c.msgs_out++;
	else
		t->c.send_failures++;
	return r;
}

int
mr_sip_transport_dial(struct mr_sip_transport *t, unsigned int trunk, mr_flow_id *ret)
{
	struct mr_sip_flow *f;
	int r;

	if (trunk >= t->cfg->n_trunks || trunk >= MR_SIP_MAX_TRUNKS)
		return -EINVAL;
	f = mr_sip_flow_find(t, t->trunk_flow[trunk]);
	if (f != NULL && f->state != MR_SIP_F_DEAD) {
		*ret = f->info.id;
		return 0;
	}
	if (t->n_flows >= t->max_flows) {
		t->c.flows_refused_limit++;
		return -EMFILE;
	}
	if (t->cfg->trunks[trunk].proto == MR_SIP_UDP)
		r = mr_sip_udp_dial(t, trunk, &f);
	else
		r = mr_sip_stream_dial(t, trunk, &f);
	if (r < 0) {
		t->c.dial_failures++;
		return r;
	}
	f->owed_closed = true;
	t->trunk_flow[trunk] = f->info.id;
	*ret = f->info.id;
	return 0;
}

void
mr_sip_transport_drop(struct mr_sip_transport *t, mr_flow_id id)
{
	struct mr_sip_flow *f = mr_sip_flow_find(t, id);

	if (f != NULL)
		mr_sip_flow_kill(t, f);
}

bool
mr_sip_transport_flow(const struct mr_sip_transport *t, mr_flow_id id, struct mr_sip_flow_info *ret)
{
	const struct mr_sip_flow *f = mr_sip_flow_find(t, id);

	if (f == NULL || f->state == MR_SIP_F_DEAD)
		return false;
	if (ret != NULL)
		*ret = f->info;
	return true;
}

const struct mr_sip_transport_counters *
mr_sip_transport_counters(const struct mr_sip_transport *t)
{
	return &t->c;
}
