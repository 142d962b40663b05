/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_CP_SIP_TRANSPORT_H
#define MR_CP_SIP_TRANSPORT_H

/*
 * SIP transport: TLS terminated here with OpenSSL (docs/sip.md says why not
 * in sofia-sip), plus plain UDP/TCP for PSTN trunks only. Hands whole SIP
 * messages up and takes whole messages down; knows nothing of SIP beyond
 * framing (Content-Length on streams) and RFC 5626 keep-alives.
 *
 * A flow is one connection (TLS or TCP), or one (socket, trunk address)
 * pair on UDP. Its id is never reused in the life of the process, so a
 * stale id held by a registration or a dialog simply fails to send
 * (-ENOTCONN) instead of reaching somebody else. Firewall traversal: the
 * upper layer reaches a client only through the flow the client opened;
 * this layer never dials anyone but configured trunks.
 *
 * Keep-alives (RFC 5626 section 4.4.1): a CRLFCRLF ping on a stream flow is
 * answered with a CRLF pong and never handed up; a bare CRLF is ignored.
 *
 * Everything runs in the daemon's thread. Sockets are non-blocking and
 * registered in one epoll set whose descriptor the daemon polls
 * (mr_sip_transport_fd()); mr_sip_transport_serve() does the work that is
 * ready, bounded per call so a flood cannot starve the loop. The set also
 * holds a 1 s timer (idle flows, slow handshakes and messages) and a wake-up
 * for work left over by the bound or for closed() callbacks owed, so
 * polling that one descriptor is all the daemon does; no callback ever runs
 * outside mr_sip_transport_serve(). The caller ignores SIGPIPE (OpenSSL
 * writes to sockets with write(2)); mrelay-cp does.
 *
 * Timers run on the now_ms the daemon passes to serve (CLOCK_MONOTONIC
 * milliseconds): a TCP connect and TLS handshake must finish within 10 s, a
 * message must arrive whole within 10 s of its first byte (slowloris), and
 * a flow without traffic either way for cfg->flow_idle_s (0: never) is
 * closed; clients keep theirs with keep-alives and re-registrations.
 *
 * Refusals are counted, never logged per packet: plain SIP from anyone but
 * a pstn trunk's address, handshakes that fail (old protocol version, bad
 * client certificate), messages too large or unframeable (the flow is
 * closed), too many flows, slow headers.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sip_config.h"

#define MR_SIP_MSG_MAX 65535u           /* longest message accepted or sent */

typedef uint64_t mr_flow_id;            /* 0 = none */

/* What the upper layer learns about the flow a message came on. */
struct mr_sip_flow_info {
	mr_flow_id id;
	enum mr_sip_proto proto;
	struct mr_sockaddr peer;        /* source address and port as seen here
	                                   (behind a NAT: the NAT's) */
	struct mr_sockaddr local;
	int listener;                   /* index into cfg->tls[], -1 otherwise */
	int trunk;                      /* index into cfg->trunks[]: the trunk this
	                                   flow is from or was dialled to; -1.
	                                   "From": the source IP is a trunk's
	                                   (plain listeners: a pstn trunk's; TLS
	                                   listeners: a TLS trunk's) */
	bool client_verified;           /* TLS: a client certificate was presented
	                                   and verified */
	char peer_cn[128];              /* its subject CN; "" */
};

struct mr_sip_transport_ops {
	/* One whole message, @len bytes, not NUL-terminated. */
	void (*message)(void *ctx, const struct mr_sip_flow_info *f, const char *msg,
			size_t len, uint64_t now_ms);
	/* The flow is gone (peer closed, error, idle, mr_sip_transport_drop()).
	 * Called exactly once per flow that was ever handed up or dialled,
	 * from mr_sip_transport_serve() only. */
	void (*closed)(void *ctx, mr_flow_id id);
};

struct mr_sip_transport_counters {
	uint64_t flows_accepted, flows_refused_limit;
	uint64_t handshake_failures;    /* includes protocol version and certificate */
	uint64_t plain_refused;         /* plain SIP from a non-pstn source */
	uint64_t framing_errors;        /* oversize / bad Content-Length: flow closed */
	uint64_t keepalive_pongs;
	uint64_t msgs_in, msgs_out;
	uint64_t send_failures;
	uint64_t idle_closed;
	uint64_t slow_closed;           /* a message did not arrive whole in time */
	uint64_t dial_failures;         /* connect to a trunk failed or timed out */
};

struct mr_sip_transport;

/*
 * Load certificates and keys, bind every listener of @cfg (which must stay
 * valid). 0, or -errno with "what: why" in @err (e.g. a certificate that
 * does not match its key, an address in use).
 */
int mr_sip_transport_open(const struct mr_sip_config *cfg, const struct mr_sip_transport_ops *ops,
			  void *ctx, struct mr_sip_transport **ret, char *err, size_t errlen);
/* Close every flow (no closed() callbacks) and listener. NULL: no-op.
 * Not from inside a callback. */
void mr_sip_transport_close(struct mr_sip_transport *t);

/*
 * Where listener @idx of cfg->tls[] / plain_tcp[] / plain_udp[] (by @proto)
 * is bound: a port 0 in the configuration picks a free one (tests).
 * 0 or -ENOENT.
 */
int mr_sip_transport_listener_addr(const struct mr_sip_transport *t, enum mr_sip_proto proto,
				   unsigned int idx, struct mr_sockaddr *ret);

/* The epoll descriptor to poll for POLLIN. */
int mr_sip_transport_fd(const struct mr_sip_transport *t);
/* Do what is ready; also closes idle flows and slow handshakes. */
void mr_sip_transport_serve(struct mr_sip_transport *t, uint64_t now_ms);

/*
 * Queue one whole message on flow @id (written as the socket allows).
 * 0; -ENOTCONN (no such flow, or closed); -EMSGSIZE; -ENOBUFS (the flow's
 * queue is full: the peer does not read; the flow is then dropped).
 * UDP flows send at once: a full socket buffer or an ICMP error is -EAGAIN
 * or -errno and counted; the flow stays (SIP over UDP retransmits).
 */
int mr_sip_transport_send(struct mr_sip_transport *t, mr_flow_id id, const char *msg, size_t len);

/*
 * A flow to trunk @trunk (index into cfg->trunks[]): an existing one to that
 * trunk if any, else a new connection (TLS: verified against trunk_ca and
 * tls_name). Messages sent before it is up are queued. 0 or -errno:
 * -EINVAL (no such trunk), -EMFILE (max_flows reached), a socket error.
 * A connection that fails later closes the flow (closed() follows).
 * UDP: from the first plain_udp listener of the trunk's family, so the
 * trunk's answers come back to a port it knows; without one, from a socket
 * of the flow's own.
 */
int mr_sip_transport_dial(struct mr_sip_transport *t, unsigned int trunk, mr_flow_id *ret);

/* Close flow @id now: its socket at once; closed() follows from
 * mr_sip_transport_serve(), never from inside this call. Unknown ids: no-op. */
void mr_sip_transport_drop(struct mr_sip_transport *t, mr_flow_id id);

/* Whether @id is still up, and what it is. */
bool mr_sip_transport_flow(const struct mr_sip_transport *t, mr_flow_id id,
			   struct mr_sip_flow_info *ret);

const struct mr_sip_transport_counters *
mr_sip_transport_counters(const struct mr_sip_transport *t);

#endif /* MR_CP_SIP_TRANSPORT_H */
