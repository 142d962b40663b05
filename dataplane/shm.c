/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Attaching to the region and repairing what a killed mrelay-dp left
 * behind. Cold path: runs before the workers start.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_log.h>

#include "dp.h"

RTE_LOG_REGISTER(mr_logtype_shm, user.mrelay.shm, INFO);
#define RTE_LOGTYPE_MR_SHM mr_logtype_shm
#define SHM_LOG(lvl, fmt, ...) RTE_LOG(lvl, MR_SHM, fmt "\n", ##__VA_ARGS__)

static uint32_t
region_abi(const char *path)
{
	struct mr_shm_header h;
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL)
		return 0;
	n = fread(&h, 1, sizeof(h), f);
	fclose(f);
	return n == sizeof(h) ? h.abi_version : 0;
}

/*
 * A dp part left odd was being written when the previous mrelay-dp died.
 * Its latch may be torn, so it is forgotten (the peer re-latches under the
 * normal policy); the owner is recomputed anyway.
 */
static unsigned int
repair_dp_parts(struct mr_shm_header *h)
{
	unsigned int repaired = 0;
	uint32_t i;

	for (i = 0; i < h->max_legs; i++) {
		struct mr_leg_dp *d = mr_shm_leg_dp(h, i);

		if (!mr_seq_is_odd(&d->dseq))
			continue;
		d->latch_flags = 0;
		memset(&d->latched_rtp, 0, sizeof(d->latched_rtp));
		memset(&d->latched_rtcp, 0, sizeof(d->latched_rtcp));
		mr_seq_repair(&d->dseq);
		repaired++;
	}
	return repaired;
}

int
mr_shm_dp_attach(struct mr_dp *dp, unsigned int wait_s)
{
	const char *path = dp->cfg.region;
	uint64_t deadline = mr_now_ms() + (uint64_t)wait_s * 1000u;
	struct mr_shm_header *h = NULL;
	unsigned int repaired;
	bool said = false;
	int r;

	for (;;) {
		r = mr_shm_attach(path, &h, &dp->shm_size);
		if (r == 0)
			break;
		if (r == -EPROTO) {
			SHM_LOG(ERR, "%s: region ABI version %u, expected %u",
				path, region_abi(path), MR_SHM_ABI_VERSION);
			return r;
		}
		/* Absent, or being created (magic not yet written): wait. */
		if ((r != -ENOENT && r != -EINVAL) || mr_now_ms() >= deadline || dp->quit) {
			SHM_LOG(ERR, "%s: cannot attach: %s", path, strerror(-r));
			return r;
		}
		if (!said) {
			SHM_LOG(INFO, "%s: waiting for the region", path);
			said = true;
		}
		usleep(100 * 1000);
	}
	if (dp->n_workers > h->max_workers) {
		SHM_LOG(ERR, "%s: region has counters for %u workers, %u configured",
			path, h->max_workers, dp->n_workers);
		munmap(h, dp->shm_size);
		return -ERANGE;
	}
	repaired = repair_dp_parts(h);
	if (repaired)
		SHM_LOG(WARNING, "repaired %u leg states torn by a previous crash", repaired);
	h->dp_pid = (uint32_t)getpid();
	h->dp_workers = dp->n_workers;
	h->dp_start_ms = mr_now_ms();
	__atomic_store_n(&h->dp_heartbeat_ms, h->dp_start_ms, __ATOMIC_RELEASE);
	__atomic_store_n(&h->dp_state, MR_DP_STARTING, __ATOMIC_RELEASE);
	dp->shm = h;
	SHM_LOG(INFO, "%s: attached, %u legs, %u worker rows", path, h->max_legs,
		h->max_workers);
	return 0;
}

void
mr_shm_dp_detach(struct mr_dp *dp)
{
	if (dp->shm == NULL)
		return;
	__atomic_store_n(&dp->shm->dp_state, MR_DP_DOWN, __ATOMIC_RELEASE);
	munmap(dp->shm, dp->shm_size);
	dp->shm = NULL;
}

void
mr_leg_dp_write(struct mr_leg_dp *d, const struct mr_leg_dp *src)
{
	mr_seq_write_begin(&d->dseq);
	memcpy((uint8_t *)d + sizeof(d->dseq), (const uint8_t *)src + sizeof(src->dseq),
	       sizeof(*d) - sizeof(d->dseq));
	mr_seq_write_end(&d->dseq);
}
