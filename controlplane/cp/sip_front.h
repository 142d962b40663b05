/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_CP_SIP_FRONT_H
#define MR_CP_SIP_FRONT_H

/*
 * The SIP front-end inside mrelay-cp (sip_front.c): the transport and the
 * B2BUA, opened when the configuration has a "sip" group. Everything runs
 * in the daemon's loop with the region's writer lock held.
 */
#include <stddef.h>
#include <stdint.h>

struct mr_cp;
struct mr_sip;
struct mr_sip_transport_counters;

/* 0 when there is no "sip" group (cp->sip stays NULL); -errno with @err. */
int mr_cp_sip_open(struct mr_cp *cp, char *err, size_t errlen);
void mr_cp_sip_close(struct mr_cp *cp);
/* The descriptor to poll for POLLIN; -1 without SIP. */
int mr_cp_sip_fd(const struct mr_cp *cp);
void mr_cp_sip_serve(struct mr_cp *cp, uint64_t now_ms);
void mr_cp_sip_tick(struct mr_cp *cp, uint64_t now_ms);
/* Calls ended, or -ENOTSUP without SIP. */
int mr_cp_sip_revoke(struct mr_cp *cp, const char *name, uint64_t now_ms);
const struct mr_sip_transport_counters *mr_cp_sip_transport_counters(const struct mr_cp *cp);
struct mr_sip *mr_cp_sip_b2bua(const struct mr_cp *cp);

#endif /* MR_CP_SIP_FRONT_H */
