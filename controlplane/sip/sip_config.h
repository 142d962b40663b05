/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_CP_SIP_CONFIG_H
#define MR_CP_SIP_CONFIG_H

/*
 * The SIP front-end's settings (the "sip" group of mrelay-cp's
 * configuration, docs/configuration.md): what the TLS listeners present and
 * ask for, where accounts and CDRs live, the trunks and their dial-plan
 * prefixes. Filled by controlplane/cp/config.c, read by the transport
 * (transport.h), the dial plan (dialplan.h) and the B2BUA (sip.h).
 *
 * Plain SIP (UDP or TCP without TLS) exists only for trunks the operator
 * marks pstn: the plain listeners accept a message only from the address of
 * such a trunk, and nothing is ever sent in plaintext to anyone else.
 */
#include <stdbool.h>
#include <stdint.h>

#include <mrelay/leg.h>

#define MR_SIP_MAX_LISTEN 8u
#define MR_SIP_MAX_TRUNKS 16u
#define MR_SIP_MAX_PREFIXES 8u
#define MR_SIP_PREFIX_MAX 16u           /* bytes with the NUL */
#define MR_SIP_NAME_MAX 32u             /* trunk and interface names, with the NUL */
#define MR_SIP_PATH_MAX 256u

enum mr_sip_proto { MR_SIP_UDP = 1, MR_SIP_TCP, MR_SIP_TLS };

/*
 * Digest algorithms challenged with, in order of preference (RFC 8760 2.4:
 * a client takes the first it supports); a response with another is
 * refused. Values of enum mr_digest_alg (digest.h); n == 0: not set here.
 */
struct mr_sip_digest_algs {
	unsigned int n;
	uint8_t alg[2];
};

/* Client certificates on a TLS listener. */
enum mr_sip_verify {
	MR_SIP_VERIFY_NONE = 0,         /* not asked for (clients: digest only) */
	MR_SIP_VERIFY_OPTIONAL,         /* asked; a bad one fails the handshake,
	                                   none is accepted */
	MR_SIP_VERIFY_REQUIRED,         /* a valid one, chained to client_ca */
};

struct mr_sip_tls_listener {
	struct mr_sockaddr addr;
	char cert[MR_SIP_PATH_MAX];     /* PEM: the leaf, then its intermediates */
	char key[MR_SIP_PATH_MAX];
	char client_ca[MR_SIP_PATH_MAX];/* PEM bundle; "" with VERIFY_NONE */
	enum mr_sip_verify verify;
	char iface[MR_SIP_NAME_MAX];    /* media interface (session.h) of calls
	                                   that arrive here; "" = the first */
	struct mr_sip_digest_algs digest;       /* n == 0: the group's */
};

struct mr_sip_trunk {
	char name[MR_SIP_NAME_MAX];
	enum mr_sip_proto proto;
	struct mr_sockaddr addr;        /* where its calls go; for UDP/TCP also the
	                                   only source accepted as this trunk */
	char tls_name[256];             /* TLS: the name its certificate must carry
	                                   ("" = its address) */
	bool pstn;                      /* operator-marked PSTN gateway: plain SIP
	                                   and plain RTP allowed */
	char iface[MR_SIP_NAME_MAX];    /* media interface of its legs */
	unsigned int n_prefixes;
	char prefixes[MR_SIP_MAX_PREFIXES][MR_SIP_PREFIX_MAX];
	bool strip_prefix;              /* send the number without the prefix */
};

struct mr_sip_config {
	bool enabled;                   /* a "sip" group is present */
	char domain[128];               /* sip:NAME@DOMAIN; also the digest realm */
	char accounts_db[MR_SIP_PATH_MAX];
	char cdr_db[MR_SIP_PATH_MAX];
	uint32_t cdr_retention_days;    /* rows older are purged; 0 = keep */

	/* Every TLS context, server and client: TLS 1.2 minimum, these lists. */
	bool tls13_only;                /* min_version "1.3" */
	char ciphers[512];              /* TLS 1.2 (OpenSSL cipher string) */
	char ciphersuites[256];         /* TLS 1.3 */
	char trunk_ca[MR_SIP_PATH_MAX]; /* verifies trunks we connect to over TLS;
	                                   "" = the system store */
	char client_cert[MR_SIP_PATH_MAX];      /* presented to TLS trunks; "" = none */
	char client_key[MR_SIP_PATH_MAX];

	unsigned int n_tls;
	struct mr_sip_tls_listener tls[MR_SIP_MAX_LISTEN];
	unsigned int n_plain_udp, n_plain_tcp;  /* PSTN trunks only */
	struct mr_sockaddr plain_udp[MR_SIP_MAX_LISTEN];
	struct mr_sockaddr plain_tcp[MR_SIP_MAX_LISTEN];

	unsigned int n_trunks;
	struct mr_sip_trunk trunks[MR_SIP_MAX_TRUNKS];

	/* Every listener's unless it sets its own; n == 0: SHA-256 then MD5.
	 * Clients that give up when any challenge names an algorithm they lack
	 * (libre 1.x, sofia-sip 1.12) need a listener with MD5 alone. */
	struct mr_sip_digest_algs digest;

	uint32_t reg_min_expires_s;     /* shorter asks get 423 Interval Too Brief */
	uint32_t reg_max_expires_s;     /* longer asks are cut to this */
	uint32_t session_expires_s;     /* RFC 4028: what we ask for */
	uint32_t min_se_s;              /* RFC 4028: the shortest we accept (>= 90) */
	uint32_t max_flows;             /* connections, all listeners */
	uint32_t flow_idle_s;           /* a flow with no binding nor dialog and no
	                                   traffic for this long is closed */
};

#endif /* MR_CP_SIP_CONFIG_H */
