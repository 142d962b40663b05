/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_DP_SRTP_MB_H
#define MR_DP_SRTP_MB_H

/*
 * The burst SRTP/SRTCP engine: the same streams as srtp.h (one SSRC of one
 * direction of one leg, one key generation), processed a burst at a time
 * on intel-ipsec-mb's job API so its multi-buffer lanes fill. Its results
 * are those of the libsrtp wrapper (srtp.c) running the same packets one
 * after another, byte for byte and status for status; docs/srtp-engine.md
 * lists the few deliberate differences (a failed unprotect leaves the
 * packet as it was with every suite; two libsrtp 2.5 bugs are not copied).
 *
 * Threads: contexts are made and freed on the management lcore (allocates,
 * derives keys); between the two a context belongs to one worker, which
 * passes it to mr_smb_run() on its own engine. An engine belongs to one
 * worker lcore. mr_smb_run() does not allocate, lock, log or make system
 * calls. Keys are wiped when a context is freed and never logged.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mrelay/leg.h>

#include "srtp.h"

/* The suites this engine does; anything else stays on libsrtp (srtp.h). */
bool mr_smb_suite_supported(uint8_t suite);

struct mr_smb_ctx;

/*
 * A context for @ssrc with key generation @k, resuming from @r (NULL or
 * !valid: a new stream). The first RTP packet's ROC is estimated against
 * (roc, seq_hi) (RFC 3711 3.3.1), so a stream that wrapped while the
 * dataplane was down resumes at roc + 1; outbound, no RTP index at or below
 * the resume point is protected again, and the next SRTCP index is
 * srtcp_index + 1. Management lcore only. NULL (and errno) if @k is
 * invalid or unsupported (EINVAL), srtcp_index > 2^31 - 1 (EINVAL),
 * intel-ipsec-mb cannot run here (ENOTSUP) or memory runs out (ENOMEM).
 */
struct mr_smb_ctx *mr_smb_ctx_new(const struct mr_key_gen *k, uint32_t ssrc,
				  enum mr_srtp_dir dir, const struct mr_srtp_resume *r);

/* Wipes the keys, then frees; NULL is a no-op. Management lcore. */
void mr_smb_ctx_free(struct mr_smb_ctx *c);

/*
 * Prefetch what an RTP operation on @c reads (its state, its header and
 * the RTP key set), from addresses alone: nothing of @c is read, so a
 * worker can issue it for packets further down a burst while their
 * contexts are still far away. NULL is a no-op.
 */
void mr_smb_ctx_prefetch(const struct mr_smb_ctx *c);

/*
 * Where contexts live: aligned_alloc() and free() unless set here, once,
 * before the first context (management lcore). With many streams a
 * burst's contexts are cold and their pages too: in hugepage memory (DPDK's
 * rte_malloc(), or transparent huge pages) bench_srtp_engine spends 20-30%
 * less per packet at 100,000 contexts. @alloc returns @size bytes
 * aligned to @align (64), or NULL; @release gets the same @size back.
 */
void mr_smb_set_allocator(void *(*alloc)(size_t align, size_t size),
			  void (*release)(void *p, size_t size));

/*
 * Resume point of the stream: the highest RTP index that passed, as (ROC,
 * sequence number), and the highest SRTCP index; before a packet passes,
 * what the context was made with. Any argument may be NULL. Owner worker
 * (or anyone while no burst runs on it).
 */
void mr_smb_ctx_state(const struct mr_smb_ctx *c, uint32_t *ret_roc, uint16_t *ret_seq_hi,
		      uint32_t *ret_srtcp_index);

struct mr_smb_engine;

/*
 * One per worker lcore: its intel-ipsec-mb manager (about 200 KiB) and
 * per-op scratch (about 150 KiB, most of it 2 KiB AEAD verify buffers). NULL with errno ENOTSUP when intel-ipsec-mb cannot run on this
 * CPU (no AES-NI: it would emulate AES in software) or the library is not
 * the 1.x the engine was built for, ENOMEM when memory runs out;
 * mr_smb_last_error() then says which in words. Management lcore.
 */
struct mr_smb_engine *mr_smb_engine_new(void);
void mr_smb_engine_free(struct mr_smb_engine *e);

/* Why the last mr_smb_engine_new() or mr_smb_ctx_new() failed ("" if none). */
const char *mr_smb_last_error(void);

/* The intel-ipsec-mb code path @e runs ("avx512", "avx2", "avx", "sse"). */
const char *mr_smb_engine_arch(const struct mr_smb_engine *e);

/* What an engine has done since it was made (owner worker; read anywhere, racy). */
struct mr_smb_stats {
	uint64_t bursts;        /* mr_smb_run() calls */
	uint64_t ops;           /* ops passed in */
	uint64_t jobs;          /* intel-ipsec-mb operations (jobs, GCM calls), undos included */
	uint64_t redone;        /* ops decided again in a later round: an earlier op
	                           on their context failed (forgeries, key changes) */
	uint64_t undone;        /* packets encrypted again after an in-place decrypt
	                           that did not pass (or a large AEAD verify) */
};

void mr_smb_engine_stats(const struct mr_smb_engine *e, struct mr_smb_stats *ret);

enum mr_smb_kind {
	MR_SMB_PROTECT = 0,     /* RTP/RTCP -> SRTP/SRTCP in place (outbound context) */
	MR_SMB_UNPROTECT = 1,   /* SRTP/SRTCP -> RTP/RTCP in place (inbound context) */
	MR_SMB_VERIFY = 2,      /* authenticate and count as received; packet unchanged */
};

#define MR_SMB_BURST_MAX 64u

struct mr_smb_op {
	struct mr_smb_ctx *ctx;
	uint8_t *pkt;           /* RTP or RTCP packet; ops of a burst never share bytes */
	uint32_t len;           /* in: packet length; out: after protect/unprotect */
	uint32_t cap;           /* room from pkt; protect needs len + trailer (srtp.h) */
	uint8_t kind;           /* enum mr_smb_kind */
	bool rtcp;              /* SRTCP rather than SRTP */
	int status;             /* out: 0, -EBADMSG, -EALREADY, -EMSGSIZE, -EINVAL (srtp.h) */
};

/*
 * Runs @n (<= MR_SMB_BURST_MAX) operations as if one after another through
 * srtp.c, in array order: operations on the same context see each other's
 * effects (replay window, ROC, SRTCP index), a repeated index later in the
 * burst is -EALREADY. A failed UNPROTECT leaves the packet as it was (the
 * caller may try another key generation); VERIFY never changes it on
 * return (it may rewrite and restore a few bytes meanwhile). -EMSGSIZE is
 * protect's "cap too small". Owner worker of every context in @ops.
 */
void mr_smb_run(struct mr_smb_engine *e, struct mr_smb_op *ops, unsigned int n);

#endif /* MR_DP_SRTP_MB_H */
