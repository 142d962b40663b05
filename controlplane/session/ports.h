/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_CP_PORTS_H
#define MR_CP_PORTS_H

/*
 * Relay port allocator of one interface: UDP ports from a configured range
 * [min, max], handed out as pairs (RTP on an even port P, RTCP on P + 1).
 *
 * Always a pair, also for a leg that negotiates rtcp-mux (RFC 5761), as
 * rtpengine does: an offer's rtcp-mux may be refused in the answer, or
 * dropped by a re-INVITE, and the leg then needs the RTCP port it advertised
 * in a=rtcp without renumbering the call. Keeping pairs also lets a single
 * bit stand for both ports.
 *
 * Freed pairs go to the back of the line: free pairs wait in a FIFO, a
 * released pair joins its tail, and allocation takes its head. A pair just
 * released is reused only after every other free pair has been handed out.
 * Packets of a finished call keep arriving for a while (the far end has not
 * processed the BYE yet, or they sat in a queue or a NAT), and a call that
 * got the same port at once would receive them: noise at best, a hijacked
 * latch on a plain RTP leg at worst. A fresh allocator queues the pairs in
 * port order.
 *
 * After a restart the caller re-reserves the ports of the calls it recovered
 * with mr_ports_mark(), and may mr_ports_seek() to the port it saved from
 * mr_ports_cursor() before the restart, so allocation resumes where it was
 * rather than at the bottom of the range, where ports were handed out (and
 * may just have been freed) long before.
 *
 * Cost: 4 bytes and 1 bit per pair (about 130 KiB for the whole 1..65535
 * range); alloc, release and mark are O(1), seek O(pairs). Not thread-safe:
 * one owner.
 */
#include <stdbool.h>
#include <stdint.h>

struct mr_ports;

/*
 * An allocator for the pairs inside [@min, @max]: the first RTP port is the
 * first even port >= @min, the last pair ends at or before @max. NULL with
 * errno EINVAL if @min is 0, @min > @max, or no whole pair fits (e.g.
 * [30001, 30002]); ENOMEM if out of memory.
 */
struct mr_ports *mr_ports_new(uint16_t min, uint16_t max);
void mr_ports_free(struct mr_ports *p);

/*
 * Reserve a free pair; its RTP port in @ret_rtp, RTCP is @ret_rtp + 1.
 * Returns 0, or -ENOSPC when every pair is in use.
 */
int mr_ports_alloc(struct mr_ports *p, uint16_t *ret_rtp);

/*
 * Return the pair of RTP port @rtp. 0; -EINVAL if @rtp is not the RTP port
 * of a pair of this range; -ENOENT if that pair is not in use (a double
 * release: the caller's bookkeeping is wrong, and nothing changes here).
 */
int mr_ports_release(struct mr_ports *p, uint16_t rtp);

/*
 * Reserve the pair of RTP port @rtp, for recovering the calls that were live
 * before a restart. 0; -EINVAL as for release; -EEXIST if the pair is
 * already in use (two recovered calls claim it).
 */
int mr_ports_mark(struct mr_ports *p, uint16_t rtp);

/* True if the pair of RTP port @rtp is in use (false if not a pair here). */
bool mr_ports_in_use(const struct mr_ports *p, uint16_t rtp);

/* Pairs in the range, and pairs in use. */
uint32_t mr_ports_capacity(const struct mr_ports *p);
uint32_t mr_ports_used(const struct mr_ports *p);

/* The RTP port the next allocation hands out; 0 when none is free. */
uint16_t mr_ports_cursor(const struct mr_ports *p);
/*
 * Requeue every free pair in port order starting at @port's pair (an odd
 * port means its pair; a port outside the range means the first pair). Meant
 * for a fresh allocator after a restart: it forgets the release order.
 */
void mr_ports_seek(struct mr_ports *p, uint16_t port);

#endif /* MR_CP_PORTS_H */
