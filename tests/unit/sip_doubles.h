/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_TEST_SIP_DOUBLES_H
#define MR_TEST_SIP_DOUBLES_H
#include <stdbool.h>
#include <stdint.h>

#include "cdr.h"
#include "session.h"

#define MR_TEST_CDR_MAX 64u
extern struct mr_cdr_row mr_test_cdr_rows[MR_TEST_CDR_MAX];
extern unsigned int mr_test_cdr_n;

/* Fixture helpers of the B2BUA's unit test and fuzz target (interfaces:
 * session_iface.h). */
void mr_test_sa4(struct mr_sockaddr *a, const char *ip, uint16_t port);

struct mr_sip_config;
/*
 * @cfg from zero as both set up the B2BUA: domain @domain, the account and
 * CDR databases in @dir, one TLS listener (198.18.0.1:5061), plain UDP
 * (198.18.0.1:5060), one PSTN trunk "gw" (UDP 198.18.0.50:5060, interface
 * "pstn", prefix "00"), registrations of 60..3600 s, Min-SE 90 s. The
 * session expiry, and anything else, is the caller's.
 */
void mr_test_sip_config(struct mr_sip_config *cfg, const char *domain, const char *dir);

#endif
