/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_CP_SIP_CDR_H
#define MR_CP_SIP_CDR_H

/*
 * Call detail records: one row per call the SIP front-end handled, in an
 * SQLite file (0600). Metadata only: who called whom, when, how long, why
 * it ended, and media counters. Never SDP, keys, passwords or media.
 * Rows older than the retention are purged (mr_cdr_purge(), called on the
 * daemon's tick). Nothing here logs; 0 or -errno.
 */
#include <stdint.h>

#define MR_CDR_FIELD_MAX 256u

struct mr_cdr_row {
	char call_id[MR_CDR_FIELD_MAX]; /* the caller side's Call-ID */
	char caller[MR_CDR_FIELD_MAX];  /* account name, or trunk:NUMBER */
	char callee[MR_CDR_FIELD_MAX];  /* account name, or trunk:NUMBER */
	int64_t start_s;                /* INVITE received, Unix seconds */
	int64_t answer_s;               /* 200 OK; 0 = never answered */
	int64_t end_s;
	uint32_t duration_s;            /* end - answer, 0 if never answered */
	uint16_t sip_status;            /* final response to the INVITE */
	char end_reason[64];            /* "caller-bye", "callee-bye", "cancel",
	                                   "rejected", "revoked", "session-timer",
	                                   "flow-lost", "media-idle", "shutdown" */
	uint64_t pkts_caller_to_callee, bytes_caller_to_callee;
	uint64_t pkts_callee_to_caller, bytes_callee_to_caller;
	uint64_t pkts_dropped;          /* the dataplane's drops on the call's legs */
};

struct mr_cdr;

/* Open or create @path (mode 0600, forced back if looser). */
int mr_cdr_open(const char *path, struct mr_cdr **ret);
void mr_cdr_close(struct mr_cdr *c);
int mr_cdr_write(struct mr_cdr *c, const struct mr_cdr_row *row);
/* Delete rows that ended before @before_s; returns how many, or -errno. */
int mr_cdr_purge(struct mr_cdr *c, int64_t before_s);
/* Rows ended at or after @since_s, oldest first; @fn non-zero stops. */
int mr_cdr_list(struct mr_cdr *c, int64_t since_s,
		int (*fn)(void *arg, const struct mr_cdr_row *row), void *arg);

#endif /* MR_CP_SIP_CDR_H */
