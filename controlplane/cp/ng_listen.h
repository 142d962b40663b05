/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_CP_NG_LISTEN_H
#define MR_CP_NG_LISTEN_H

/*
 * The NG front-end's sockets: the UDP and TCP addresses of the
 * configuration's ng group, non-blocking, served from the daemon's poll()
 * loop with the region's lock held. UDP: one request per datagram, the
 * reply to its source. TCP: messages back to back on a stream
 * (mr_ng_frame_len()); replies in order; a stream that cannot be framed is
 * closed. Each turn serves at most a bounded number of messages per
 * socket, so a flood cannot starve the heartbeat or the event ring.
 */
#include <poll.h>
#include <stdint.h>

#include "config.h"
#include "ng.h"

#define MR_NG_TCP_CLIENTS 32u
#define MR_NG_LISTEN_FDS (2u * MR_CP_MAX_LISTEN + MR_NG_TCP_CLIENTS)

struct mr_ng_listen;

/* Bind every address of @cfg; 0 or -errno with "ADDR: what" in @err. */
int mr_ng_listen_open(const struct mr_cp_config *cfg, struct mr_ng *ng,
		      struct mr_ng_listen **ret, char *err, size_t errlen);
void mr_ng_listen_close(struct mr_ng_listen *l);

/* Fill @fds (room for MR_NG_LISTEN_FDS); returns how many. */
unsigned int mr_ng_listen_pollfds(const struct mr_ng_listen *l, struct pollfd *fds);
void mr_ng_listen_serve(struct mr_ng_listen *l, const struct pollfd *fds, unsigned int n,
			uint64_t now_ms);

#endif /* MR_CP_NG_LISTEN_H */
