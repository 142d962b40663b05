/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_CP_CONFIG_H
#define MR_CP_CONFIG_H

/*
 * mrelay-cp's libconfig file: region, interfaces, timeouts, limits, admin
 * socket, state directory, NG listeners, the SIP front-end, log levels. Loaded into a private
 * copy and validated whole; the first problem is reported as
 * "FILE:LINE: SETTING: what". docs/configuration.md ("mrelay-cp")
 * documents every key, and which ones SIGHUP can change.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mrelay/leg.h>

#include "log.h"
#include "session.h"
#include "sip_config.h"

#define MR_CP_MAX_LISTEN 8u

struct mr_cp_config {
	/* Restart only: SIGHUP warns if these differ and keeps the old ones. */
	char region[256];
	uint32_t region_max_legs;       /* used only when creating the region */
	uint32_t region_max_workers;
	unsigned int n_ifaces;
	struct mr_session_iface ifaces[MR_SESSION_MAX_IFACES];
	char admin_socket[108];         /* sun_path */
	char state_dir[256];
	unsigned int n_ng_udp, n_ng_tcp;
	struct mr_sockaddr ng_udp[MR_CP_MAX_LISTEN];
	struct mr_sockaddr ng_tcp[MR_CP_MAX_LISTEN];
	struct mr_sip_config sip;       /* the "sip" group; sip.enabled if present */

	/* SIGHUP applies these to the running daemon. */
	struct mr_session_timeouts timeouts;
	struct mr_session_limits limits;
	int log_level[MR_LOG_SUBSYS_MAX];       /* LOG_ERR .. LOG_DEBUG */
};

/* Fill @cfg with the defaults of docs/configuration.md (no interface). */
void mr_cp_config_defaults(struct mr_cp_config *cfg);

/*
 * Load @path over the defaults. 0, or -EINVAL (syntax or value) / -errno
 * (unreadable) with "FILE:LINE: SETTING: what" in @err; @cfg is written
 * only on success.
 */
int mr_cp_config_load(const char *path, struct mr_cp_config *cfg, char *err, size_t errlen);

/*
 * Names of the restart-only settings that differ between @old and @new,
 * ", "-separated, into @buf. Returns how many differ.
 */
unsigned int mr_cp_config_restart_diff(const struct mr_cp_config *old,
				       const struct mr_cp_config *new, char *buf, size_t len);

/* "IPv4:PORT" or "[IPv6]:PORT", port 1..65535: 0 or -EINVAL. */
int mr_cp_parse_addr(const char *s, struct mr_sockaddr *ret);

#endif /* MR_CP_CONFIG_H */
