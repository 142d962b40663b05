/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_CP_SIP_TRANSPORT_INT_H
#define MR_CP_SIP_TRANSPORT_INT_H

/*
 * Inside the SIP transport: the flow table and lists (transport.c), stream
 * flows over TCP and TLS (stream.c), datagram flows (udp.c). Not for the
 * upper layer, which sees only transport.h.
 *
 * Lifetime of a flow: created live (hash by id, the list of all flows);
 * mr_sip_flow_kill() closes its socket at once, unhashes it and moves it to
 * the reap list; mr_sip_transport_serve() then calls closed() (if the upper
 * layer knows the flow) and frees it. So a flow pointer stays valid for the
 * rest of any callback or event batch that holds it, and an epoll event or
 * an id for a killed flow finds nothing.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "transport.h"

#define MR_SIP_WQ_MAX (4u * MR_SIP_MSG_MAX)     /* bytes queued per flow */
#define MR_SIP_HANDSHAKE_MS 10000u      /* connect + TLS handshake */
#define MR_SIP_MSG_MS 10000u            /* first byte to last of one message */
#define MR_SIP_SWEEP_MS 1000u           /* timer resolution */
#define MR_SIP_FLOWS_DEFAULT 4096u      /* cfg->max_flows == 0 */
#define MR_SIP_UDP_FLOWS_MAX 256u       /* (socket, source) pairs: trunks only */
/* Work bounds per serve call, so a flood cannot starve the daemon. */
#define MR_SIP_EVENTS 64
#define MR_SIP_ACCEPTS 16
#define MR_SIP_READS 4                  /* reads per flow */
#define MR_SIP_MSGS 16                  /* messages handed up per flow */
#define MR_SIP_DGRAMS 32

/* What an epoll event is about: the tag in the top byte, then an id. */
#define MR_SIP_TAG_SHIFT 56
enum mr_sip_tag { MR_SIP_TAG_FLOW = 0, MR_SIP_TAG_TLS, MR_SIP_TAG_TCP, MR_SIP_TAG_UDP,
		  MR_SIP_TAG_WAKE, MR_SIP_TAG_TIMER };

struct mr_sip_link {
	struct mr_sip_link *next, *prev;
};

enum mr_sip_flow_state {
	MR_SIP_F_CONNECTING = 1,        /* dialled: TCP connect in progress */
	MR_SIP_F_HANDSHAKE,             /* TLS handshake in progress */
	MR_SIP_F_UP,
	MR_SIP_F_DEAD,                  /* on the reap list */
};

struct mr_sip_flow {
	struct mr_sip_link all;         /* live list, then reap list */
	struct mr_sip_link pend;        /* pending list: work left over */
	struct mr_sip_flow *hnext;      /* id hash chain */
	struct mr_sip_flow_info info;
	uint8_t state;                  /* enum mr_sip_flow_state */
	bool pending;
	bool owed_closed;               /* handed up or dialled: closed() owed */
	bool dialled;                   /* we connected out (to a trunk) */
	bool ssl_broken;                /* fatal TLS error: no close_notify */
	bool hs_wants_write, rd_wants_write, wr_wants_read;
	int fd;                         /* own socket; -1 on a UDP listener's */
	int udp;                        /* UDP: index of the listener socket, -1 */
	unsigned int udp_slot;          /* UDP: index in transport's udp_flows[] */
	SSL *ssl;
	uint32_t ev;                    /* events registered with epoll */
	uint64_t created_ms, last_ms;   /* last_ms: traffic either way */
	uint64_t msg_start_ms;          /* an incomplete message since; 0 */
	char *rbuf;                     /* MR_SIP_MSG_MAX bytes while in use */
	size_t rlen;
	char *wbuf;                     /* write queue: wbuf[woff..wlen) */
	size_t woff, wlen, wcap;
};

struct mr_sip_listen {
	int fd;
	struct mr_sockaddr addr;        /* as bound (the port, if 0 asked) */
	SSL_CTX *ctx;                   /* TLS listeners */
};

struct mr_sip_transport {
	const struct mr_sip_config *cfg;
	const struct mr_sip_transport_ops *ops;
	void *ctx;
	int epfd, wakefd, timerfd;
	bool woken;                     /* wakefd is readable */
	struct mr_sip_listen tls[MR_SIP_MAX_LISTEN];
	struct mr_sip_listen tcp[MR_SIP_MAX_LISTEN];
	struct mr_sip_listen udp[MR_SIP_MAX_LISTEN];
	SSL_CTX *client_ctx;            /* NULL without a TLS trunk */
	mr_flow_id trunk_flow[MR_SIP_MAX_TRUNKS];       /* last dialled */
	int spare_fd;                   /* given up to accept-and-close at EMFILE */
	struct mr_sip_flow *udp_flows[MR_SIP_UDP_FLOWS_MAX];    /* by udp_slot */

	struct mr_sip_flow **hash;
	size_t hash_mask;
	struct mr_sip_link live, reap, pending;
	uint32_t n_flows, max_flows;
	mr_flow_id next_id;
	uint64_t now_ms, next_sweep_ms;
	char *scratch;                  /* one datagram */
	struct mr_sip_transport_counters c;
};

#define mr_sip_flow_of(l, member) \
	((struct mr_sip_flow *)(void *)((char *)(l) - offsetof(struct mr_sip_flow, member)))

/* transport.c */
struct mr_sip_flow *mr_sip_flow_new(struct mr_sip_transport *t, int fd, enum mr_sip_proto proto);
struct mr_sip_flow *mr_sip_flow_find(const struct mr_sip_transport *t, mr_flow_id id);
void mr_sip_flow_kill(struct mr_sip_transport *t, struct mr_sip_flow *f);
void mr_sip_flow_set_pending(struct mr_sip_transport *t, struct mr_sip_flow *f);
void mr_sip_flow_deliver(struct mr_sip_transport *t, struct mr_sip_flow *f, const char *msg,
			 size_t len);
int mr_sip_trunk_by_ip(const struct mr_sip_transport *t, const struct mr_sockaddr *a,
		       bool pstn_only, enum mr_sip_proto proto);
void mr_sip_addr_from(const struct sockaddr_storage *ss, struct mr_sockaddr *ret);
socklen_t mr_sip_addr_to(const struct mr_sockaddr *a, struct sockaddr_storage *ret);
int mr_sip_epoll_add(struct mr_sip_transport *t, int fd, enum mr_sip_tag tag, uint64_t id,
		     uint32_t ev);

/* stream.c */
void mr_sip_stream_accept(struct mr_sip_transport *t, unsigned int l, bool tls);
int mr_sip_stream_dial(struct mr_sip_transport *t, unsigned int trunk, struct mr_sip_flow **ret);
void mr_sip_stream_event(struct mr_sip_transport *t, struct mr_sip_flow *f);
int mr_sip_stream_send(struct mr_sip_transport *t, struct mr_sip_flow *f, const char *msg,
		       size_t len);

/* udp.c */
void mr_sip_udp_input(struct mr_sip_transport *t, int l, struct mr_sip_flow *own);
int mr_sip_udp_dial(struct mr_sip_transport *t, unsigned int trunk, struct mr_sip_flow **ret);
int mr_sip_udp_send(struct mr_sip_transport *t, struct mr_sip_flow *f, const char *msg,
		    size_t len);

#endif /* MR_CP_SIP_TRANSPORT_INT_H */
