/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Datagram flows: plain SIP over UDP, for pstn trunks only. A flow is a
 * (listener socket, source address and port) pair; a datagram from any
 * other source IP is counted and dropped before it is even framed. Few
 * trunks, so the flows sit in a small array scanned linearly.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sipframe.h"
#include "transport_int.h"

static struct mr_sip_flow *
udp_find(const struct mr_sip_transport *t, int l, const struct mr_sockaddr *peer)
{
	unsigned int i;

	for (i = 0; i < MR_SIP_UDP_FLOWS_MAX; i++) {
		struct mr_sip_flow *f = t->udp_flows[i];

		if (f != NULL && f->udp == l && mr_sockaddr_eq(&f->info.peer, peer))
			return f;
	}
	return NULL;
}

/* A new flow in a free slot; NULL (counted) at either limit. */
static struct mr_sip_flow *
udp_flow_new(struct mr_sip_transport *t, int fd, int l, const struct mr_sockaddr *peer, int trunk)
{
	struct mr_sip_flow *f;
	unsigned int i;

	for (i = 0; i < MR_SIP_UDP_FLOWS_MAX && t->udp_flows[i] != NULL; i++)
		;
	if (i == MR_SIP_UDP_FLOWS_MAX || t->n_flows >= t->max_flows) {
		t->c.flows_refused_limit++;
		return NULL;
	}
	f = mr_sip_flow_new(t, fd, MR_SIP_UDP);
	if (f == NULL)
		return NULL;
	t->udp_flows[i] = f;
	f->udp_slot = i;
	f->udp = l;
	f->info.peer = *peer;
	f->info.trunk = trunk;
	if (l >= 0)
		f->info.local = t->udp[l].addr;
	f->state = MR_SIP_F_UP;
	return f;
}

void
mr_sip_udp_input(struct mr_sip_transport *t, int l, struct mr_sip_flow *own)
{
	int fd = own != NULL ? own->fd : t->udp[l].fd, i;

	for (i = 0; i < MR_SIP_DGRAMS; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct mr_sockaddr peer;
		struct mr_sip_flow *f = own;
		size_t len = 0;
		ssize_t n;
		int trunk = -1;

		n = recvfrom(fd, t->scratch, MR_SIP_MSG_MAX + 1, 0, (struct sockaddr *)&ss, &sl);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			continue;       /* an ICMP error reported late, EINTR */
		}
		mr_sip_addr_from(&ss, &peer);
		if (f == NULL) {
			trunk = mr_sip_trunk_by_ip(t, &peer, true, 0);
			if (trunk < 0) {
				t->c.plain_refused++;
				continue;
			}
			f = udp_find(t, l, &peer);
		}
		switch (mr_sip_frame_datagram(t->scratch, (size_t)n, MR_SIP_MSG_MAX, &len)) {
		case MR_SIP_FRAME_MSG:
			break;
		case MR_SIP_FRAME_SKIP:
			if (f != NULL)
				f->last_ms = t->now_ms; /* a keep-alive keeps it */
			continue;
		default:
			t->c.framing_errors++;
			continue;
		}
		if (f == NULL) {
			f = udp_flow_new(t, -1, l, &peer, trunk);
			if (f == NULL)
				continue;
			t->c.flows_accepted++;
		}
		f->last_ms = t->now_ms;
		mr_sip_flow_deliver(t, f, t->scratch, len);
		if (own != NULL && own->state == MR_SIP_F_DEAD)
			return;
	}
}

int
mr_sip_udp_dial(struct mr_sip_transport *t, unsigned int trunk, struct mr_sip_flow **ret)
{
	const struct mr_sip_trunk *tr = &t->cfg->trunks[trunk];
	struct sockaddr_storage ss;
	socklen_t sl = mr_sip_addr_to(&tr->addr, &ss);
	struct mr_sip_flow *f;
	int l, fd, r;

	if (sl == 0)
		return -EINVAL;
	for (l = 0; l < (int)MR_SIP_MAX_LISTEN; l++) {
		if (t->udp[l].fd >= 0 && t->udp[l].addr.family == tr->addr.family)
			break;
	}
	if (l < (int)MR_SIP_MAX_LISTEN) {
		f = udp_find(t, l, &tr->addr);
		if (f == NULL)
			f = udp_flow_new(t, -1, l, &tr->addr, (int)trunk);
		if (f == NULL)
			return -EMFILE;
		f->info.trunk = (int)trunk;
		f->dialled = true;
		*ret = f;
		return 0;
	}

	/* No listener: a connected socket of its own, which also filters
	 * what comes back to the trunk's address. */
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	f = udp_flow_new(t, fd, -1, &tr->addr, (int)trunk);
	if (f == NULL) {
		close(fd);
		return -EMFILE;
	}
	f->dialled = true;
	sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		mr_sip_addr_from(&ss, &f->info.local);
	r = mr_sip_epoll_add(t, fd, MR_SIP_TAG_FLOW, f->info.id, EPOLLIN);
	if (r < 0) {
		mr_sip_flow_kill(t, f);
		return r;
	}
	f->ev = EPOLLIN;
	*ret = f;
	return 0;
}

int
mr_sip_udp_send(struct mr_sip_transport *t, struct mr_sip_flow *f, const char *msg, size_t len)
{
	struct sockaddr_storage ss;
	ssize_t r;

	if (f->fd >= 0) {
		r = send(f->fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	} else {
		socklen_t sl = mr_sip_addr_to(&f->info.peer, &ss);

		r = sendto(t->udp[f->udp].fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL,
			   (struct sockaddr *)&ss, sl);
	}
	if (r < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	if ((size_t)r != len)
		return -EMSGSIZE;
	f->last_ms = t->now_ms;
	return 0;
}
