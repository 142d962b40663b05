/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_CP_LOG_H
#define MR_CP_LOG_H

/*
 * mrelay-cp's log: syslog priorities, one threshold per subsystem (Knot's
 * sources, rtpengine's log levels). Lines go to stderr; under systemd
 * (JOURNAL_STREAM set) they carry the "<N>" priority prefix journald reads
 * (sd-daemon(3)), elsewhere a word ("info:"). The @ctx of a line is the
 * call-id it is about, or NULL, so that one grep follows a call.
 *
 * Never pass key material, passwords or message bodies: nothing here can
 * tell them apart from other text.
 */
#include <stdarg.h>
#include <stddef.h>
#include <syslog.h>

#include <mrelay/leg.h>

enum mr_log_subsys {
	MR_LOG_CORE = 0,        /* start, stop, signals, configuration */
	MR_LOG_REGION,          /* the shared region, dataplane liveness, events */
	MR_LOG_SESSION,         /* calls: creation, end and why, recovery */
	MR_LOG_ADMIN,           /* the admin socket */
	MR_LOG_NG,              /* the NG front-end */
	MR_LOG_SIP,             /* the SIP front-end: start, revocations */
	MR_LOG_SUBSYS_MAX
};

/* "core", "region", ...; NULL if out of range. */
const char *mr_log_subsys_name(unsigned int subsys);
/* LOG_ERR .. LOG_DEBUG from "error", "warning", "notice", "info", "debug";
 * -1 if none. */
int mr_log_level_from_name(const char *name);
const char *mr_log_level_name(int prio);

/* Lines of @subsys less severe than @prio are dropped. Default LOG_INFO. */
void mr_log_set_level(unsigned int subsys, int prio);
int mr_log_get_level(unsigned int subsys);

void mr_log(int prio, unsigned int subsys, const char *ctx, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void mr_vlog(int prio, unsigned int subsys, const char *ctx, const char *fmt, va_list ap);

/* "1.2.3.4:5", "[2001:db8::1]:5", "1.2.3.4" (port 0), or "-" (unset),
 * into @buf (at least MR_LOG_ADDR_LEN bytes); returns @buf. */
#define MR_LOG_ADDR_LEN 56
const char *mr_log_addr(const struct mr_sockaddr *a, char *buf, size_t len);

#endif /* MR_CP_LOG_H */
