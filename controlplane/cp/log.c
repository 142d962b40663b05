/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mrelay-cp's log (log.h). Single-threaded daemon: no locking. Each line is
 * formatted whole and written with one fputs() on an unbuffered stderr, so
 * lines of two processes sharing the stream do not interleave mid-line.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static const char *const subsys_names[MR_LOG_SUBSYS_MAX] = {
	[MR_LOG_CORE] = "core",
	[MR_LOG_REGION] = "region",
	[MR_LOG_SESSION] = "session",
	[MR_LOG_ADMIN] = "admin",
	[MR_LOG_NG] = "ng",
	[MR_LOG_SIP] = "sip",
};

static const char *const level_names[] = {
	[LOG_EMERG] = "emerg", [LOG_ALERT] = "alert", [LOG_CRIT] = "crit",
	[LOG_ERR] = "error", [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
	[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

static int levels[MR_LOG_SUBSYS_MAX] = {
	LOG_INFO, LOG_INFO, LOG_INFO, LOG_INFO, LOG_INFO,
};

/* -1: not decided yet; 0/1: whether to write "<N>" prefixes. */
static int journal_prefix = -1;

const char *
mr_log_subsys_name(unsigned int subsys)
{
	return subsys < MR_LOG_SUBSYS_MAX ? subsys_names[subsys] : NULL;
}

int
mr_log_level_from_name(const char *name)
{
	int i;

	/* Only the five an operator picks from; emerg..crit are ours to use. */
	for (i = LOG_ERR; i <= LOG_DEBUG; i++)
		if (strcmp(name, level_names[i]) == 0)
			return i;
	return -1;
}

const char *
mr_log_level_name(int prio)
{
	return prio >= LOG_EMERG && prio <= LOG_DEBUG ? level_names[prio] : "unknown";
}

void
mr_log_set_level(unsigned int subsys, int prio)
{
	if (subsys < MR_LOG_SUBSYS_MAX)
		levels[subsys] = prio;
}

int
mr_log_get_level(unsigned int subsys)
{
	return subsys < MR_LOG_SUBSYS_MAX ? levels[subsys] : LOG_INFO;
}

/*
 * A call-id comes from the network: print at most 128 bytes of it, with
 * control bytes replaced, so that it cannot forge log lines.
 */
static const char *
clean_ctx(const char *ctx, char *buf, size_t len)
{
	size_t i;

	if (ctx == NULL)
		return NULL;
	for (i = 0; ctx[i] != '\0' && i + 1 < len; i++)
		buf[i] = (unsigned char)ctx[i] < 0x20 || ctx[i] == 0x7f ? '?' : ctx[i];
	buf[i] = '\0';
	return buf;
}

void
mr_vlog(int prio, unsigned int subsys, const char *ctx, const char *fmt, va_list ap)
{
	char msg[1024], line[1280], cbuf[129];

	if (subsys >= MR_LOG_SUBSYS_MAX || prio > levels[subsys])
		return;
	ctx = clean_ctx(ctx, cbuf, sizeof(cbuf));
	if (journal_prefix < 0) {
		journal_prefix = getenv("JOURNAL_STREAM") != NULL;
		setvbuf(stderr, NULL, _IONBF, 0);
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (journal_prefix)
		snprintf(line, sizeof(line), "<%d>%s: %s%s%s%s\n", prio, subsys_names[subsys],
			 ctx != NULL ? "[" : "", ctx != NULL ? ctx : "", ctx != NULL ? "] " : "", msg);
	else
		snprintf(line, sizeof(line), "%s: %s: %s%s%s%s\n", mr_log_level_name(prio),
			 subsys_names[subsys], ctx != NULL ? "[" : "", ctx != NULL ? ctx : "",
			 ctx != NULL ? "] " : "", msg);
	fputs(line, stderr);
}

void
mr_log(int prio, unsigned int subsys, const char *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	mr_vlog(prio, subsys, ctx, fmt, ap);
	va_end(ap);
}

const char *
mr_log_addr(const struct mr_sockaddr *a, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];
	int af = a->family == MR_AF_INET6 ? AF_INET6 : AF_INET;

	if ((a->family != MR_AF_INET && a->family != MR_AF_INET6) ||
	    inet_ntop(af, a->ip, ip, sizeof(ip)) == NULL) {
		snprintf(buf, len, "-");
		return buf;
	}
	if (a->port_be == 0)
		snprintf(buf, len, "%s", ip);
	else
		snprintf(buf, len, af == AF_INET6 ? "[%s]:%u" : "%s:%u", ip,
			 (unsigned int)ntohs(a->port_be));
	return buf;
}
