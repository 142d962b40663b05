/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_CP_SIP_TLS_H
#define MR_CP_SIP_TLS_H

/*
 * The OpenSSL contexts of the SIP transport (docs/sip.md, "Transport and
 * TLS"): one server context per TLS listener, one client context for the
 * trunks we dial. Policy lives here and nowhere else: TLS 1.2 minimum (1.3
 * with tls13_only), AEAD ECDHE suites only, no compression, no
 * renegotiation, the whole certificate chain, the key checked against it.
 * No sockets: transport.c owns those.
 */
#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

#include "sip_config.h"

/* TLS 1.2 suites when cfg->ciphers is "": forward secret and AEAD only. */
#define MR_SIP_TLS12_CIPHERS "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL"

/* Server context of listener @l. NULL with "what: why" in @err. */
SSL_CTX *mr_sip_tls_server_ctx(const struct mr_sip_config *cfg, unsigned int l,
			       char *err, size_t errlen);

/* Client context for dialled trunks (trunk_ca or the system store, and
 * the optional client certificate). NULL with "what: why" in @err. */
SSL_CTX *mr_sip_tls_client_ctx(const struct mr_sip_config *cfg, char *err, size_t errlen);

/*
 * Make @ssl verify that the peer is trunk @tr: its tls_name as a DNS name
 * (also sent as SNI) or an IP address, or, with "", the trunk's address.
 * 0 or -ENOMEM / -EINVAL.
 */
int mr_sip_tls_expect_peer(SSL *ssl, const struct mr_sip_trunk *tr);

/*
 * After the handshake: whether the peer presented a certificate that
 * verified, and its subject CN ("" when not verified, absent, or not
 * printable).
 */
void mr_sip_tls_peer(SSL *ssl, bool *ret_verified, char *cn, size_t cnlen);

#endif /* MR_CP_SIP_TLS_H */
