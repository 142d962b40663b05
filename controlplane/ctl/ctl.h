/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_CTL_H
#define MR_CTL_H

/*
 * mrelayctl internals shared by its command files. Commands return an exit
 * status: 0, MR_CTL_EXIT_INPUT (bad usage or a refused request: nothing was
 * changed) or MR_CTL_EXIT_REGION (the region cannot be used, or there is no
 * dataplane to answer). Errors are printed once, where they are detected, as
 * "mrelayctl: what" on stderr.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "region.h"

#define MR_CTL_EXIT_INPUT 1
#define MR_CTL_EXIT_REGION 2

/* A dataplane whose heartbeat is older than this is reported dead. */
#define MR_CTL_DP_MAX_AGE_MS 2000u
/* A mrelay-cp heartbeat younger than this means it owns the region. */
#define MR_CTL_CP_MAX_AGE_MS 2000u

void mr_ctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void mr_ctl_usage(FILE *f);

/*
 * Reset getopt and parse @argv (argv[0] is the command name) against
 * @longopts; returns the option value, -1 at the end, or '?' after printing
 * what was wrong.
 */
int mr_ctl_getopt(int argc, char **argv, const struct option *longopts, const char *cmd);

/*
 * @min..@max arguments after the options, or print "@cmd: missing
 * argument" or "@cmd: unexpected argument 'X'" and return
 * MR_CTL_EXIT_INPUT. @hide: the command carries keys, and a stray argument
 * may be part of one (a key option's value split by a blank), so it is not
 * quoted.
 */
int mr_ctl_expect_args(const char *cmd, int argc, char **argv, int min, int max, bool hide);

/*
 * The options that several commands take, with one meaning wherever they
 * are accepted. Which ones a command accepts is its longopts table, drawn
 * from json ('j'), count ('c'), timeout-ms ('t') and help ('h').
 */
struct mr_ctl_opts {
	bool json;                      /* --json */
	bool help;                      /* --help: usage printed, nothing left to do */
	uint32_t count;                 /* --count N, 1..; 0 when not given */
	uint32_t timeout_ms;            /* --timeout-ms N; the caller sets the default */
};
extern const struct option mr_ctl_json_opts[];  /* --json and --help */
extern const struct option mr_ctl_help_opts[];  /* --help only */

/*
 * Parse @argv (argv[0] is @cmd's name) against @longopts into @o, then
 * mr_ctl_expect_args(@min_args, @max_args). 0 or MR_CTL_EXIT_INPUT
 * (printed). --help prints the usage and returns 0 with o->help set, at
 * once: what follows it is not looked at.
 */
int mr_ctl_parse_opts(int argc, char **argv, const struct option *longopts, const char *cmd,
		      int min_args, int max_args, struct mr_ctl_opts *o);

/* Strict decimal numbers in [min, max]; print "@what: ..." and return -EINVAL. */
int mr_ctl_parse_u32(const char *what, const char *s, uint32_t min, uint32_t max,
		     uint32_t *ret);
int mr_ctl_parse_u64(const char *what, const char *s, uint64_t *ret);

/* "IPv4:port" or "[IPv6]:port", port 1..65535; prints and returns -EINVAL. */
int mr_ctl_parse_addr(const char *what, const char *s, struct mr_sockaddr *ret);

/* "1.2.3.4:5", "[2001:db8::1]:5", or "-" when unset. @len >= MR_CTL_ADDR_LEN. */
#define MR_CTL_ADDR_LEN 56
void mr_ctl_format_addr(const struct mr_sockaddr *a, char *buf, size_t len);
/* As above without the port ("1.2.3.4", "2001:db8::1"). */
void mr_ctl_format_ip(const struct mr_sockaddr *a, char *buf, size_t len);

/* A JSON string literal, escaped; NULL prints null. */
void mr_ctl_json_str(FILE *f, const char *s);
/* An address as a JSON string, or null when unset. */
void mr_ctl_json_addr(FILE *f, const struct mr_sockaddr *a);

/*
 * Open the region (creating it with default dimensions if @create), printing
 * a precise error. Returns 0 or an exit status.
 */
int mr_ctl_open(struct mr_region *r, const char *path, bool create);
/* Explain mr_region_open()'s @err for @path; returns MR_CTL_EXIT_REGION. */
int mr_ctl_region_error(const char *path, int err, bool create);
/* Take the writer lock and, if @repair, repair torn slots (reported on
 * stderr). 0 or exit status. */
int mr_ctl_lock(struct mr_region *r, bool repair);

/* mrelay-cp's admin socket by default (its admin.socket default). */
#define MR_CTL_ADMIN_DEFAULT "/run/mrelay/mrelay-cp.sock"

/*
 * A live mrelay-cp owns the region's slots: commands that write slots or
 * consume events refuse while its heartbeat is fresh, unless --force set
 * this (mr_ctl_lock() checks).
 */
extern bool mr_ctl_force;

/*
 * Send one request @line to mrelay-cp's admin socket @sock and print the
 * reply's body on stdout. Exit status: 0; MR_CTL_EXIT_INPUT when mrelay-cp
 * refused the request (its reason on stderr); MR_CTL_EXIT_REGION when it
 * cannot be reached or the reply is cut short; with @absent_ok,
 * MR_CTL_CP_ABSENT, printing nothing, when no mrelay-cp listens there.
 */
#define MR_CTL_CP_ABSENT (-1)
int mr_ctl_admin_request(const char *sock, const char *line, bool absent_ok);

/* Commands: @argv[0] is "leg" / "stats", the rest is their arguments. */
int mr_ctl_leg(const char *region, int argc, char **argv);
int mr_ctl_stats(const char *region, int argc, char **argv);
/* Through mrelay-cp's admin socket @sock: "calls", "call ...", "cp ...". */
int mr_ctl_calls(const char *sock, int argc, char **argv);
int mr_ctl_cp(const char *sock, int argc, char **argv);
/*
 * SIP accounts and CDRs, on their SQLite files (account_cmd.c): "account
 * add|list|passwd|revoke ...", "cdr ...". @sock is the admin socket named
 * by -s, or NULL for mrelay-cp's configured one (revoke tells mrelay-cp).
 */
int mr_ctl_account(const char *sock, int argc, char **argv);
int mr_ctl_cdr(int argc, char **argv);

#endif /* MR_CTL_H */
