/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Bringing mrelay-dp up and down, after EAL and the configuration: shared by
 * main.c and by the in-process tests and benchmarks, which drive the same
 * dataplane on net_ring ports. Cold path.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_memory.h>
#include <rte_mbuf.h>

#include "dp.h"
#include "srtp.h"
#include "slab.h"
#include "srtp_mb.h"

struct mr_dp mr_dp;

RTE_LOG_REGISTER(mr_logtype_setup, user.mrelay.setup, INFO);
#define RTE_LOGTYPE_MR_SETUP mr_logtype_setup
#define SETUP_LOG(lvl, fmt, ...) RTE_LOG(lvl, MR_SETUP, fmt "\n", ##__VA_ARGS__)

static int
choose_workers(struct mr_dp *dp)
{
	unsigned int lcore, i;

	if (dp->cfg.n_workers == 0) {
		RTE_LCORE_FOREACH_WORKER(lcore) {
			if (dp->n_workers == MR_CFG_MAX_WORKERS)
				break;
			dp->workers[dp->n_workers++].lcore = lcore;
		}
	} else {
		for (i = 0; i < dp->cfg.n_workers; i++) {
			lcore = dp->cfg.workers[i];
			if (lcore >= RTE_MAX_LCORE || !rte_lcore_is_enabled(lcore) ||
			    lcore == rte_get_main_lcore()) {
				SETUP_LOG(ERR, "worker lcore %u is not an enabled non-main EAL lcore (-l)",
					 lcore);
				return -EINVAL;
			}
			dp->workers[dp->n_workers++].lcore = lcore;
		}
	}
	if (dp->n_workers == 0) {
		SETUP_LOG(ERR, "no worker lcore: give EAL at least two lcores (-l 0,1)");
		return -EINVAL;
	}
	for (i = 0; i < dp->n_workers; i++)
		dp->workers[i].idx = i;
	return 0;
}

static int
create_rings(struct mr_dp *dp)
{
	int socket = (int)rte_socket_id();
	unsigned int i;
	char name[RTE_RING_NAMESIZE];

	dp->punt = rte_ring_create("mr_punt", 1024, socket, RING_F_SC_DEQ);
	dp->new_ssrc = rte_ring_create("mr_new_ssrc", 1024, socket, RING_F_SC_DEQ);
	dp->stun = rte_ring_create("mr_stun", 1024, socket, RING_F_SC_DEQ);
	dp->exc_to_kernel = rte_ring_create("mr_exc", 1024, socket, RING_F_SC_DEQ);
	dp->notes = rte_ring_create_elem("mr_notes", sizeof(struct mr_note), 4096, socket,
					 RING_F_SC_DEQ);
	if (dp->punt == NULL || dp->exc_to_kernel == NULL || dp->notes == NULL ||
	    dp->new_ssrc == NULL || dp->stun == NULL)
		return -ENOMEM;
	for (i = 0; i < dp->n_workers; i++) {
		struct mr_worker *w = &dp->workers[i];

		snprintf(name, sizeof(name), "mr_handoff%u", i);
		w->handoff = rte_ring_create(name, 4096, socket, RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "mr_reinject%u", i);
		w->reinject = rte_ring_create(name, 1024, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (w->handoff == NULL || w->reinject == NULL)
			return -ENOMEM;
		w->st = mr_shm_wstats(dp->shm, i);
		w->ctr = mr_shm_counters(dp->shm, i, 0);
	}
	return 0;
}

/*
 * One burst SRTP engine per worker, unless the configuration asks for
 * libsrtp or (auto) the CPU cannot run intel-ipsec-mb: then every stream
 * stays on libsrtp, and the log says why.
 */
/*
 * Burst-engine contexts in hugepage memory (fewer page walks with many
 * streams), from the slab: created at the rate new streams arrive however
 * many exist (slab.h).
 */
static void *
ctx_alloc(size_t align, size_t size)
{
	(void)align;                    /* the slab's objects are 64-byte aligned */
	return mr_slab_alloc(size);
}

static void
free_engines(struct mr_dp *dp)
{
	unsigned int i;

	for (i = 0; i < dp->n_workers; i++) {
		mr_smb_engine_free(dp->workers[i].smb);
		dp->workers[i].smb = NULL;
	}
}

static int
create_engines(struct mr_dp *dp)
{
	unsigned int i;

	dp->srtp_burst = false;
	if (dp->cfg.srtp_engine == MR_CFG_SRTP_LIBSRTP) {
		SETUP_LOG(INFO, "SRTP: libsrtp for every stream (srtp_engine \"libsrtp\")");
		return 0;
	}
	mr_smb_set_allocator(ctx_alloc, mr_slab_free);
	for (i = 0; i < dp->n_workers; i++) {
		dp->workers[i].smb = mr_smb_engine_new();
		if (dp->workers[i].smb == NULL) {
			int err = errno;

			if (dp->cfg.srtp_engine == MR_CFG_SRTP_IPSEC_MB) {
				SETUP_LOG(ERR, "SRTP: the burst engine cannot run: %s "
					  "(srtp_engine \"ipsec-mb\")", mr_smb_last_error());
				free_engines(dp);
				return err == ENOMEM ? -ENOMEM : -ENOTSUP;
			}
			SETUP_LOG(WARNING, "SRTP: the burst engine cannot run: %s; "
				  "libsrtp for every stream", mr_smb_last_error());
			free_engines(dp);
			return 0;
		}
	}
	dp->srtp_burst = true;
	SETUP_LOG(INFO, "SRTP: burst engine on intel-ipsec-mb (%s), libsrtp for other suites",
		  dp->n_workers ? mr_smb_engine_arch(dp->workers[0].smb) : "-");
	return 0;
}

static int
create_pool(struct mr_dp *dp)
{
	unsigned int i;
	uint32_t room = RTE_MBUF_DEFAULT_BUF_SIZE;

	/* Frames up to the largest MTU fit one mbuf: the packet path is single-segment. */
	for (i = 0; i < dp->cfg.n_ports; i++) {
		uint32_t need = dp->cfg.ports[i].mtu + RTE_ETHER_HDR_LEN + 2 * RTE_VLAN_HLEN +
				RTE_ETHER_CRC_LEN + RTE_PKTMBUF_HEADROOM;

		room = need > room ? need : room;
	}
	dp->pool = rte_pktmbuf_pool_create("mr_mbufs", dp->cfg.mbufs, 256, 0, (uint16_t)room,
					   (int)rte_socket_id());
	return dp->pool != NULL ? 0 : -rte_errno;
}

int
mr_dp_setup(struct mr_dp *dp, unsigned int wait_region_s)
{
	int r;

	dp->exc_port = -1;
	mr_dp_clock_tick();
	r = mr_srtp_init();
	if (r == 0)
		r = choose_workers(dp);
	if (r == 0)
		r = mr_shm_dp_attach(dp, wait_region_s);
	if (r == 0)
		r = create_pool(dp);
	if (r == 0)
		r = create_rings(dp);
	if (r == 0)
		r = create_engines(dp);
	if (r == 0)
		r = mr_port_init_all(dp);
	if (r == 0)
		r = mr_exception_init(dp);
	if (r == 0)
		r = mr_flow_init(dp);
	if (r < 0) {
		SETUP_LOG(ERR, "start-up failed: %s", strerror(-r));
		return r;
	}
	/* Resume every leg of the region before taking new commands. */
	mr_flow_rescan(dp);
	dp->shm->resync_done = __atomic_load_n(&dp->shm->resync_req, __ATOMIC_ACQUIRE);
	return 0;
}

int
mr_dp_launch_workers(struct mr_dp *dp)
{
	unsigned int i;

	for (i = 0; i < dp->n_workers; i++) {
		if (rte_eal_remote_launch(mr_worker_main, &dp->workers[i],
					  dp->workers[i].lcore) < 0) {
			SETUP_LOG(ERR, "cannot launch worker on lcore %u", dp->workers[i].lcore);
			dp->quit = true;
			rte_eal_mp_wait_lcore();
			return -EBUSY;
		}
	}
	return 0;
}

void
mr_dp_teardown(struct mr_dp *dp)
{
	dp->quit = true;
	rte_eal_mp_wait_lcore();
	if (dp->n_ports)
		mr_port_stop_all(dp);
	if (dp->flows != NULL)
		mr_flow_fini(dp);
	free_engines(dp);
	mr_shm_dp_detach(dp);
}
