/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_DP_CONFIG_H
#define MR_DP_CONFIG_H

/*
 * mrelay-dp's libconfig file: ports, relay addresses, next hops, relay port
 * range, worker lcores, idle back-off, timeouts, exception path. Loaded and
 * validated whole; the first problem is reported as "file:line: what".
 * docs/configuration.md documents every key.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>

#include <mrelay/leg.h>

#define MR_CFG_MAX_PORTS 8u
#define MR_CFG_MAX_ADDRS 64u            /* relay addresses per port */
#define MR_CFG_MAX_WORKERS 64u
#define MR_CFG_MAX_NEIGH 64u

struct mr_cfg_addr {
	struct mr_sockaddr ip;          /* port_be unused (0) */
	uint8_t prefix_len;             /* on-link prefix */
};

/*
 * Whether the first @plen bits (0..128) of two addresses agree. Per packet
 * (is the next hop on link?): two 64-bit compares, no library call.
 */
static inline bool
mr_prefix_match(const uint8_t a[16], const uint8_t b[16], unsigned int plen)
{
	uint64_t x, y;

	if (plen == 0)
		return true;
	memcpy(&x, a, 8);
	memcpy(&y, b, 8);
	x = rte_be_to_cpu_64(x ^ y);
	if (plen <= 64)
		return x >> (64 - plen) == 0;
	if (x != 0)
		return false;
	memcpy(&x, a + 8, 8);
	memcpy(&y, b + 8, 8);
	return rte_be_to_cpu_64(x ^ y) >> (128 - plen) == 0;
}

struct mr_cfg_port {
	char name[32];
	char device[256];               /* vdev args ("net_tap0,iface=x") or PCI address */
	uint16_t mtu;                   /* 0 = keep the PMD's default */
	uint16_t vlan;                  /* 0 = untagged, else 1..4094 */
	uint16_t rx_desc, tx_desc;      /* 0 = defaults (1024) */
	unsigned int n_addrs;
	struct mr_cfg_addr addrs[MR_CFG_MAX_ADDRS];
	struct mr_sockaddr gateway4;    /* family MR_AF_NONE = none */
	struct mr_sockaddr gateway6;
};

struct mr_cfg_neigh {                   /* static neighbour entry */
	struct mr_sockaddr ip;
	uint8_t mac[6];
	unsigned int port;              /* index into ports[] */
};

/* Which SRTP engine runs a stream (docs/configuration.md, docs/srtp-engine.md). */
enum mr_cfg_srtp_engine {
	MR_CFG_SRTP_AUTO = 0,           /* the burst engine where it can, else libsrtp */
	MR_CFG_SRTP_LIBSRTP,            /* libsrtp for every stream (the reference) */
	MR_CFG_SRTP_IPSEC_MB,           /* like auto, but refuse to start without it */
};

struct mr_dp_config {
	char region[256];               /* default MR_SHM_DEFAULT_PATH */
	unsigned int n_ports;
	struct mr_cfg_port ports[MR_CFG_MAX_PORTS];
	uint16_t port_min, port_max;    /* relay UDP port range, inclusive */
	unsigned int n_workers;         /* 0 = every EAL lcore but the main one */
	unsigned int workers[MR_CFG_MAX_WORKERS];  /* lcore ids */
	uint32_t idle_backoff_us;       /* 0 = busy poll (benchmarks) */
	uint32_t latch_window_ms;       /* re-latch window after creation (plain RTP) */
	uint32_t relatch_idle_ms;       /* silence after which a plain leg may re-latch */
	uint32_t relatch_auth_packets;  /* SRTP leg: authenticated packets in a row to re-latch */
	uint32_t relatch_auth_quiet_ms; /* ... while the latched source is silent this long */
	uint32_t media_idle_ms;         /* no media -> MR_EV_IDLE; 0 = never */
	uint32_t neigh_reachable_ms;    /* refresh a resolved neighbour after this */
	uint32_t neigh_retry_ms;        /* re-send an unanswered ARP/NS after this */
	uint32_t mbufs;                 /* mbuf pool size */
	uint8_t srtp_engine;            /* enum mr_cfg_srtp_engine */
	bool exception_enabled;         /* kernel exception path (TAP) */
	char exception_iface[16];       /* its kernel-side name */
	unsigned int n_neigh;
	struct mr_cfg_neigh neigh[MR_CFG_MAX_NEIGH];
};

/* Fill @cfg with the defaults documented in docs/configuration.md. */
void mr_config_defaults(struct mr_dp_config *cfg);

/*
 * Load @path over the defaults. Returns 0, or -EINVAL (bad syntax or value)
 * / -errno (unreadable) with "file:line: what" in @err.
 */
int mr_config_load(const char *path, struct mr_dp_config *cfg, char *err, size_t errlen);

/* Parse "a.b.c.d" or an IPv6 literal; "/len" accepted when @prefix != NULL. */
int mr_config_parse_ip(const char *s, struct mr_sockaddr *ip, uint8_t *prefix);

#endif /* MR_DP_CONFIG_H */
