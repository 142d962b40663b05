/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * OpenSSL contexts for SIP over TLS (tls.h). Why OpenSSL here rather than
 * sofia-sip's TLS: docs/sip.md, "Transport and TLS".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "tls.h"

/* "what path: OpenSSL's reason"; clears OpenSSL's error queue. */
static void
fail(char *err, size_t errlen, const char *what, const char *path)
{
	unsigned long e = ERR_peek_last_error();
	const char *why = e != 0 ? ERR_reason_error_string(e) : NULL;


	snprintf(err, errlen, "%s%s%s: %s", what, path[0] != '\0' ? " " : "", path,
		 why != NULL ? why : "failed");
	ERR_clear_error();
}

/* What every context shares, server and client. */
static int
common(SSL_CTX *ctx, const struct mr_sip_config *cfg, char *err, size_t errlen)
{
	const char *ciphers = cfg->ciphers[0] != '\0' ? cfg->ciphers : MR_SIP_TLS12_CIPHERS;

	if (!SSL_CTX_set_min_proto_version(ctx, cfg->tls13_only ? TLS1_3_VERSION : TLS1_2_VERSION)) {
		fail(err, errlen, "tls min version", "");
		return -EINVAL;
	}
	/* Renegotiation only ever served attacks on SIP (CVE-2009-3555, CPU
	 * exhaustion); compression leaks (CRIME). */
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	/* Partial and moving writes: the write queue is compacted between
	 * retries. Released buffers: thousands of idle registered flows. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
			 SSL_MODE_RELEASE_BUFFERS);
	if (!SSL_CTX_set_cipher_list(ctx, ciphers)) {
		fail(err, errlen, "tls ciphers", ciphers);
		return -EINVAL;
	}
	if (cfg->ciphersuites[0] != '\0' && !SSL_CTX_set_ciphersuites(ctx, cfg->ciphersuites)) {
		fail(err, errlen, "tls ciphersuites", cfg->ciphersuites);
		return -EINVAL;
	}
	return 0;
}

/* The chain (leaf first, then intermediates, all sent) and its key. */
static int
load_identity(SSL_CTX *ctx, const char *cert, const char *key, char *err, size_t errlen)
{
	/* OpenSSL reports a file it cannot open as "system lib": say why. */
	if (access(cert, R_OK) != 0 || access(key, R_OK) != 0) {
		int e = errno;

		snprintf(err, errlen, "%s %s: %s", access(cert, R_OK) != 0 ? "certificate" : "key",
			 access(cert, R_OK) != 0 ? cert : key, strerror(e));
		return -e;
	}
	if (!SSL_CTX_use_certificate_chain_file(ctx, cert)) {
		fail(err, errlen, "certificate", cert);
		return -EINVAL;
	}
	/* OpenSSL compares the key with the leaf already here; say so in
	 * words an operator acts on. */
	if (!SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) ||
	    !SSL_CTX_check_private_key(ctx)) {
		if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
			ERR_clear_error();
			snprintf(err, errlen, "key %s does not match certificate %s", key, cert);
		} else {
			fail(err, errlen, "key", key);
		}
		return -EINVAL;
	}
	return 0;
}

SSL_CTX *
mr_sip_tls_server_ctx(const struct mr_sip_config *cfg, unsigned int l, char *err, size_t errlen)
{
	const struct mr_sip_tls_listener *tl = &cfg->tls[l];
	STACK_OF(X509_NAME) *names;
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	char sid[32];
	int mode;

	if (ctx == NULL) {
		fail(err, errlen, "tls", "");
		return NULL;
	}
	if (common(ctx, cfg, err, errlen) < 0 || load_identity(ctx, tl->cert, tl->key, err, errlen) < 0)
		goto err_free_ctx;
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* Resumed sessions must not cross listeners with different client
	 * certificate policies. */
	snprintf(sid, sizeof(sid), "mrelay-sip-%u", l);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)sid, (unsigned int)strlen(sid));

	if (tl->verify == MR_SIP_VERIFY_NONE) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		return ctx;
	}
	if (tl->client_ca[0] == '\0') {
		snprintf(err, errlen, "client_ca: needed to verify client certificates");
		goto err_free_ctx;
	}
	if (!SSL_CTX_load_verify_locations(ctx, tl->client_ca, NULL)) {
		fail(err, errlen, "client_ca", tl->client_ca);
		goto err_free_ctx;
	}
	/* The CA names in the CertificateRequest tell a client with several
	 * certificates which one to present. */
	names = SSL_load_client_CA_file(tl->client_ca);
	if (names == NULL) {
		fail(err, errlen, "client_ca", tl->client_ca);
		goto err_free_ctx;
	}
	SSL_CTX_set_client_CA_list(ctx, names);
	mode = SSL_VERIFY_PEER;
	if (tl->verify == MR_SIP_VERIFY_REQUIRED)
		mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
	SSL_CTX_set_verify(ctx, mode, NULL);
	return ctx;
err_free_ctx:
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *
mr_sip_tls_client_ctx(const struct mr_sip_config *cfg, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL) {
		fail(err, errlen, "tls", "");
		return NULL;
	}
	if (common(ctx, cfg, err, errlen) < 0)
		goto err_free_ctx;
	if (cfg->trunk_ca[0] != '\0') {
		if (!SSL_CTX_load_verify_locations(ctx, cfg->trunk_ca, NULL)) {
			fail(err, errlen, "trunk_ca", cfg->trunk_ca);
			goto err_free_ctx;
		}
	} else if (!SSL_CTX_set_default_verify_paths(ctx)) {
		fail(err, errlen, "system CA store", "");
		goto err_free_ctx;
	}
	if (cfg->client_cert[0] != '\0' &&
	    load_identity(ctx, cfg->client_cert, cfg->client_key, err, errlen) < 0)
		goto err_free_ctx;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;
err_free_ctx:
	SSL_CTX_free(ctx);
	return NULL;
}

int
mr_sip_tls_expect_peer(SSL *ssl, const struct mr_sip_trunk *tr)
{
	X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
	unsigned char ip[16];

	if (tr->tls_name[0] == '\0') {
		size_t n = tr->addr.family == MR_AF_INET ? 4 : 16;

		return X509_VERIFY_PARAM_set1_ip(vp, tr->addr.ip, n) ? 0 : -ENOMEM;
	}
	if (inet_pton(AF_INET, tr->tls_name, ip) == 1)
		return X509_VERIFY_PARAM_set1_ip(vp, ip, 4) ? 0 : -ENOMEM;
	if (inet_pton(AF_INET6, tr->tls_name, ip) == 1)
		return X509_VERIFY_PARAM_set1_ip(vp, ip, 16) ? 0 : -ENOMEM;
	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (!SSL_set1_host(ssl, tr->tls_name) || !SSL_set_tlsext_host_name(ssl, tr->tls_name))
		return -EINVAL;
	return 0;
}

void
mr_sip_tls_peer(SSL *ssl, bool *ret_verified, char *cn, size_t cnlen)
{
	X509 *peer = SSL_get0_peer_certificate(ssl);
	const X509_NAME *subj;
	unsigned char *utf8 = NULL;
	int idx, n, i;

	*ret_verified = false;
	if (cnlen > 0)
		cn[0] = '\0';
	if (peer == NULL || SSL_get_verify_result(ssl) != X509_V_OK)
		return;
	*ret_verified = true;
	subj = X509_get_subject_name(peer);
	idx = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);
	if (idx < 0)
		return;
	n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, idx)));
	if (n < 0)
		return;
	/* The CN ends up in logs and CDRs: refuse control characters and
	 * anything that does not fit rather than cut or escape it. */
	for (i = 0; i < n; i++) {
		if (utf8[i] < 0x20 || utf8[i] == 0x7f)
			break;
	}
	if (i == n && (size_t)n < cnlen) {
		memcpy(cn, utf8, (size_t)n);
		cn[n] = '\0';
	}
	OPENSSL_free(utf8);
}
