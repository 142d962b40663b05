/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * srtp_peer: an SRTP/SRTCP test peer for mrelay, the C counterpart of
 * rtp_peer.py's duplex mode.
 *
 * It is the independent side that tests hold the relay against, so it uses
 * libsrtp directly and nothing of mrelay's own code. One UDP socket (IPv4 or
 * IPv6) sends --count RTP packets to --to, protected with --tx-key (plain RTP
 * without one), with an RTCP SR after every --rtcp-every packets; at the same
 * time it receives on --bind, unprotects with --rx-key (then --rx-key2, the
 * next key generation of a make-before-break re-key) and checks what arrived.
 * With --tx-key2 and --tx-switch-file it changes its own sending key the way
 * an SDES peer does after a re-offer (RFC 4568 section 7.1.4): it keeps
 * --tx-key until the file exists (the test creates it once the answer is
 * through), then protects every later packet with --tx-key2, the sequence
 * numbers going on.
 *
 * Packets are the ones rtp_peer.py sends: V=2, PT 0, the sequence number and
 * timestamp (+160) advance by one packet each, and the payload is a function
 * of the sequence number alone (payload_byte()), so the two tools verify
 * each other's plain streams. The SSRC is checked with --expect-ssrc.
 *
 * Exit status: 0 every expected packet arrived intact (within --allow-loss)
 * and nothing failed authentication (unless --allow-auth-fail); 1 a check
 * failed; 2 usage, socket or libsrtp set-up error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <srtp2/srtp.h>

#define PROG "srtp_peer"

#define RTP_HDR_BYTES           12u
#define RTCP_SR_BYTES           28u     /* header, sender info, no report blocks */
#define RTCP_PT_SR              200u
#define RTP_PT                  0u      /* PCMU, as rtp_peer.py */
#define MAX_PAYLOAD_BYTES       8192u
#define TX_BUF_BYTES            (RTP_HDR_BYTES + MAX_PAYLOAD_BYTES + SRTP_MAX_TRAILER_LEN + 4)
#define RX_BUF_BYTES            65536u
#define MAX_KEY_SALT_BYTES      46u     /* AES-256 key + 112-bit salt */
#define MAX_B64_CHARS           128u
#define TX_BURST                64u     /* sends per loop turn, so receiving keeps up */
#define RX_BURST                1024u
#define MAX_SOURCES             16u
#define MAX_SSRCS               8u
#define MAX_FAILURES            12u
#define SEEN_MAX_BITS           (1ull << 27)    /* 2048 sequence cycles */
#define NTP_UNIX_OFFSET_S       2208988800ull
#define NS_PER_S                1000000000ll

/* Exit codes, as rtp_peer.py. */
#define EXIT_CHECK              1
#define EXIT_USAGE              2

struct suite {
	const char *name;
	void (*rtp)(srtp_crypto_policy_t *p);
	void (*rtcp)(srtp_crypto_policy_t *p);
	unsigned key_salt_bytes;        /* length of the SDES inline key||salt */
	unsigned srtcp_mki_tag_bytes;   /* nonzero: find the SRTCP MKI ourselves */
};

/*
 * The RFC 4568 / RFC 7714 suites. The _32 suites shorten only the SRTP tag:
 * SRTCP keeps HMAC-SHA1-80 (RFC 4568 6.2.1). AEAD tags are 16 bytes.
 *
 * libsrtp before 2.7 (cisco/libsrtp#733, #737) looks for the MKI of an SRTCP
 * packet one *SRTP* tag length from its end, so with a _32 suite it reads
 * the wrong bytes and every SRTCP packet with an MKI fails. For those suites
 * rx_unprotect() checks and strips the MKI itself (it sits between the
 * E+index word and the 10-byte tag, RFC 3711 3.4) and lets libsrtp do the
 * rest with use_mki = 0, which selects the session's one master key.
 */
static const struct suite suites[] = {
	{ "AES_CM_128_HMAC_SHA1_80", srtp_crypto_policy_set_rtp_default,
		srtp_crypto_policy_set_rtcp_default, 30, 0 },
	{ "AES_CM_128_HMAC_SHA1_32", srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32,
		srtp_crypto_policy_set_rtcp_default, 30, 10 },
	{ "AES_256_CM_HMAC_SHA1_80", srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80,
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80, 46, 0 },
	{ "AES_256_CM_HMAC_SHA1_32", srtp_crypto_policy_set_aes_cm_256_hmac_sha1_32,
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80, 46, 10 },
	{ "AEAD_AES_128_GCM", srtp_crypto_policy_set_aes_gcm_128_16_auth,
		srtp_crypto_policy_set_aes_gcm_128_16_auth, 28, 0 },
	{ "AEAD_AES_256_GCM", srtp_crypto_policy_set_aes_gcm_256_16_auth,
		srtp_crypto_policy_set_aes_gcm_256_16_auth, 44, 0 },
};

struct key_spec {
	const struct suite *suite;      /* NULL: no key, plain RTP */
	uint8_t key_salt[MAX_KEY_SALT_BYTES];
	uint8_t mki[SRTP_MAX_MKI_LEN];
	unsigned mki_bytes;             /* 0: no MKI */
};

struct opts {
	const char *bind_text;
	const char *to_text;
	const char *expect_from_text;
	const char *ready_file;
	uint32_t count;
	uint32_t expect_count;
	bool expect_count_set;
	double interval_ms;
	uint32_t ssrc;
	uint32_t expect_ssrc;
	bool expect_ssrc_set;
	uint16_t seq_start;
	uint32_t payload_bytes;
	double timeout_s;
	double linger_ms;
	double start_delay_ms;
	uint32_t allow_loss;
	bool allow_auth_fail;
	bool no_payload_check;  /* a relay that renumbers (mute) changes seq, not payload */
	uint32_t tx_roc;        /* continue a stream another process started */
	uint32_t rtcp_every;            /* 0: no RTCP */
	uint32_t expect_rtcp;
	bool json;
	struct key_spec tx_key;
	struct key_spec tx_key2;        /* after tx_switch_file appears */
	const char *tx_switch_file;
	struct key_spec rx_key[2];
};

/* One inbound key generation: a session with an ssrc_any_inbound template. */
struct rx_gen {
	srtp_t ctx;
	const struct key_spec *key;     /* suite and MKI; the key bytes are wiped */
	bool use_mki;
	uint64_t rtp_ok;
	uint64_t rtcp_ok;
};

struct source {
	char addr[INET6_ADDRSTRLEN + 8];
	uint64_t n;
};

struct peer {
	struct opts o;
	int fd;
	struct sockaddr_storage to;
	socklen_t to_len;
	struct sockaddr_storage bind;

	/* sender */
	srtp_t tx;                      /* NULL: plain */
	bool tx_mki;
	srtp_t tx_old;                  /* tx before the switch to --tx-key2 */
	srtp_t tx2;                     /* --tx-key2 until the switch */
	bool tx2_mki;
	bool tx_switched;
	uint32_t tx_switched_at;        /* packets sent with --tx-key */
	uint32_t sent;
	uint32_t send_errors;
	uint32_t rtcp_sent;
	uint16_t seq;
	uint32_t ts;
	int64_t start_ns;
	int64_t interval_ns;

	/* receiver */
	struct rx_gen rx[2];
	unsigned n_rx;                  /* 0: plain */
	int last_gen;                   /* generation of the last RTP accepted */
	uint32_t last_ssrc;
	uint64_t datagrams;
	uint64_t received;
	uint64_t unique;
	uint64_t duplicates;
	uint64_t reordered;
	uint64_t payload_errors;
	uint64_t not_rtp;
	uint64_t wrong_ssrc;
	uint64_t unexpected_source;
	uint64_t auth_failures;         /* RTP and RTCP */
	uint64_t replay_failures;       /* RTP and RTCP */
	uint64_t rtcp_received;         /* every datagram that looks like RTCP */
	uint64_t rtcp_authenticated;    /* unprotected (keyed) or well formed (plain) */
	uint64_t rtcp_auth_failures;
	uint64_t rtcp_replay_failures;
	bool have_seq;
	uint16_t first_seq;
	uint16_t last_seq;
	int64_t first_ext;              /* lowest extended sequence number seen */
	int64_t max_ext;
	int64_t seen_base;              /* extended seq of bit 0 of seen */
	uint8_t *seen;
	uint64_t seen_bits;
	bool have_expect_from;
	char expect_from[INET6_ADDRSTRLEN + 8];
	struct source sources[MAX_SOURCES];
	unsigned n_sources;
	uint64_t other_sources;
	uint32_t ssrcs[MAX_SSRCS];
	unsigned n_ssrcs;

	uint8_t txbuf[TX_BUF_BYTES];
	uint8_t rxbuf[RX_BUF_BYTES];
	uint8_t work[RX_BUF_BYTES];
};

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static void
sleep_ns(int64_t ns)
{
	struct timespec ts = { .tv_sec = ns / NS_PER_S, .tv_nsec = ns % NS_PER_S };

	while (ns > 0 && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void
put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint16_t
get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * Byte @i of the payload of packet @seq: rtp_peer.py's payload(), a rotation
 * of 0..255 that starts at seq * 7 mod 256.
 */
static uint8_t
payload_byte(uint16_t seq, size_t i)
{
	return (uint8_t)((seq * 7u + i) & 0xff);
}

/* ---- command line ---------------------------------------------------- */

static void
usage(FILE *f)
{
	fprintf(f,
"usage: " PROG " --bind IP:PORT --to IP:PORT [options]\n"
"\n"
"Send an (S)RTP stream to --to and receive one on --bind, on one socket.\n"
"Addresses are IP:PORT or [IPv6]:PORT.\n"
"\n"
"  --count N            packets to send (50)\n"
"  --expect-count N     packets expected (default: --count)\n"
"  --interval-ms X      gap between packets, 0 = as fast as possible (20)\n"
"  --ssrc S             our SSRC, decimal or 0x hex (0x4d52454c)\n"
"  --expect-ssrc S      only this SSRC is valid\n"
"  --expect-from IP:PORT  only this source is valid\n"
"  --seq-start N        first sequence number, 0..65535 (1000)\n"
"  --payload-size B     payload bytes per packet (160)\n"
"  --timeout S          give up after S seconds (10)\n"
"  --linger-ms X        keep receiving this long after the last wanted packet (0)\n"
"  --allow-loss N       pass with up to N packets missing (0)\n"
"  --allow-auth-fail    authentication failures do not fail the run\n"
"  --no-payload-check   do not derive payload bytes from the sequence number\n"
"  --tx-roc N           start sending at rollover counter N (continue a stream)\n"
"  --tx-key SPEC        protect what we send; SPEC = SUITE:BASE64[:MKI:MKILEN]\n"
"  --rx-key SPEC        unprotect what we receive (plain RTP without one)\n"
"  --rx-key2 SPEC       the next key generation, tried when --rx-key fails\n"
"  --tx-key2 SPEC       switch to this key once --tx-switch-file exists\n"
"  --tx-switch-file F   the file whose appearance switches to --tx-key2\n"
"  --rtcp-every N       send an RTCP SR after every N packets (0 = none)\n"
"  --expect-rtcp N      require N authenticated RTCP packets (0)\n"
"  --ready-file F       write our pid to F once the socket is bound\n"
"  --start-delay-ms X   wait this long after binding before sending (0)\n"
"  --json               print a one-line JSON summary\n"
"\n"
"SUITE: AES_CM_128_HMAC_SHA1_80 AES_CM_128_HMAC_SHA1_32 AES_256_CM_HMAC_SHA1_80\n"
"       AES_256_CM_HMAC_SHA1_32 AEAD_AES_128_GCM AEAD_AES_256_GCM\n"
"BASE64: key||salt as in SDES (30, 30, 46, 46, 28, 44 bytes). MKI: the MKI value\n"
"(decimal or 0x hex), MKILEN: its length in bytes, 1..%u.\n"
"Exit status: 0 ok, 1 check failed, 2 usage or set-up error.\n",
		SRTP_MAX_MKI_LEN);
}

static int
parse_u64(const char *s, int base, uint64_t max, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	if (s == NULL || *s == '\0' || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno != 0 || *end != '\0' || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

static int
parse_u32(const char *s, int base, uint32_t max, uint32_t *ret)
{
	uint64_t v;
	int r = parse_u64(s, base, max, &v);

	if (r < 0)
		return r;
	*ret = (uint32_t)v;
	return 0;
}

static int
parse_nonneg_double(const char *s, double *ret)
{
	double v;
	char *end;

	if (s == NULL || *s == '\0')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !isfinite(v) || v < 0)
		return -ERANGE;
	*ret = v;
	return 0;
}

/* 'IP:PORT' or '[IPv6]:PORT' (numeric only; a %scope is allowed). */
static int
parse_addr(const char *text, struct sockaddr_storage *ret, socklen_t *ret_len)
{
	char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
	struct addrinfo hints = {
		.ai_socktype = SOCK_DGRAM,
		.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
	};
	struct addrinfo *ai;
	const char *port, *end;
	uint32_t port_num;
	size_t n;

	if (text[0] == '[') {
		end = strchr(text, ']');
		if (end == NULL || end[1] != ':')
			return -EINVAL;
		n = (size_t)(end - text - 1);
		text++;
		port = end + 2;
	} else {
		end = strrchr(text, ':');
		if (end == NULL || memchr(text, ':', (size_t)(end - text)) != NULL)
			return -EINVAL;
		n = (size_t)(end - text);
		port = end + 1;
	}
	if (n == 0 || n >= sizeof(host) || parse_u32(port, 10, 65535, &port_num) < 0)
		return -EINVAL;
	memcpy(host, text, n);
	host[n] = '\0';
	if (getaddrinfo(host, port, &hints, &ai) != 0)
		return -EINVAL;
	if (ai->ai_addrlen > sizeof(*ret)) {
		freeaddrinfo(ai);
		return -EINVAL;
	}
	memset(ret, 0, sizeof(*ret));
	memcpy(ret, ai->ai_addr, ai->ai_addrlen);
	*ret_len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

/* Canonical text of @sa: v4-mapped IPv6 becomes IPv4, as rtp_peer.py. */
static void
fmt_addr(const struct sockaddr_storage *sa, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN];

	if (sa->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		snprintf(buf, size, "%s:%u", ip, ntohs(s4->sin_port));
	} else if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], ip, sizeof(ip));
			snprintf(buf, size, "%s:%u", ip, ntohs(s6->sin6_port));
		} else {
			inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
			snprintf(buf, size, "[%s]:%u", ip, ntohs(s6->sin6_port));
		}
	} else {
		snprintf(buf, size, "?");
	}
}

static const struct suite *
suite_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		if (strcmp(suites[i].name, name) == 0)
			return &suites[i];
	return NULL;
}

/*
 * Decodes standard base64 (padding optional) into @out. Returns the number
 * of bytes or -EINVAL.
 */
static int
b64_decode(const char *in, uint8_t *out, size_t out_size)
{
	unsigned char padded[MAX_B64_CHARS + 4];
	size_t n = strlen(in), pad = 0;
	int len;

	if (n == 0 || n > MAX_B64_CHARS || n % 4 == 1 || (n + 3) / 4 * 3 > out_size)
		return -EINVAL;
	memcpy(padded, in, n);
	while (n % 4 != 0)
		padded[n++] = '=';
	padded[n] = '\0';
	while (pad < 2 && padded[n - 1 - pad] == '=')
		pad++;
	len = EVP_DecodeBlock(out, padded, (int)n);
	OPENSSL_cleanse(padded, sizeof(padded));
	if (len < 0 || (size_t)len < pad)
		return -EINVAL;
	return len - (int)pad;
}

/* SUITE:BASE64[:MKI:MKILEN] into @k; never prints the key. */
static int
parse_key(const char *text, struct key_spec *k, const char **ret_why)
{
	uint8_t raw[MAX_B64_CHARS];
	char buf[256];
	char *field[5], *cur = buf;
	uint64_t mki;
	uint32_t mki_bytes;
	unsigned n = 0, i;
	int len, r = -EINVAL;

	if (strlen(text) >= sizeof(buf)) {
		*ret_why = "too long";
		return -EINVAL;
	}
	strcpy(buf, text);
	while (n < 5 && (field[n] = strsep(&cur, ":")) != NULL)
		n++;
	if (n != 2 && n != 4) {
		*ret_why = "want SUITE:BASE64 or SUITE:BASE64:MKI:MKILEN";
		goto out;
	}
	k->suite = suite_find(field[0]);
	if (k->suite == NULL) {
		*ret_why = "unknown suite";
		goto out;
	}
	len = b64_decode(field[1], raw, sizeof(raw));
	if (len < 0) {
		*ret_why = "bad base64";
		goto out;
	}
	if ((unsigned)len != k->suite->key_salt_bytes) {
		*ret_why = "key||salt has the wrong length for the suite";
		goto out;
	}
	memcpy(k->key_salt, raw, (size_t)len);
	k->mki_bytes = 0;
	if (n == 4) {
		if (parse_u64(field[2], 0, UINT64_MAX, &mki) < 0 ||
		    parse_u32(field[3], 10, SRTP_MAX_MKI_LEN, &mki_bytes) < 0 ||
		    mki_bytes == 0 || (mki_bytes < 8 && mki >> (8 * mki_bytes) != 0)) {
			*ret_why = "bad MKI or MKI length";
			goto out;
		}
		/* big-endian, left-padded with zeros */
		memset(k->mki, 0, sizeof(k->mki));
		for (i = 0; i < mki_bytes && i < 8; i++)
			k->mki[mki_bytes - 1 - i] = (uint8_t)(mki >> (8 * i));
		k->mki_bytes = mki_bytes;
	}
	r = 0;
out:
	OPENSSL_cleanse(raw, sizeof(raw));
	OPENSSL_cleanse(buf, sizeof(buf));
	if (r < 0)
		k->suite = NULL;
	return r;
}

enum {
	OPT_BIND = 256, OPT_TO, OPT_COUNT, OPT_EXPECT_COUNT, OPT_INTERVAL,
	OPT_SSRC, OPT_EXPECT_SSRC, OPT_EXPECT_FROM, OPT_SEQ_START, OPT_PAYLOAD,
	OPT_TIMEOUT, OPT_LINGER, OPT_ALLOW_LOSS, OPT_ALLOW_AUTH_FAIL, OPT_NO_PAYLOAD_CHECK, OPT_TX_ROC, OPT_TX_KEY,
	OPT_RX_KEY, OPT_RX_KEY2, OPT_RTCP_EVERY, OPT_EXPECT_RTCP, OPT_READY,
	OPT_START_DELAY, OPT_JSON, OPT_HELP, OPT_TX_KEY2, OPT_TX_SWITCH_FILE,
};

static const struct option long_opts[] = {
	{ "bind", required_argument, NULL, OPT_BIND },
	{ "to", required_argument, NULL, OPT_TO },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "expect-count", required_argument, NULL, OPT_EXPECT_COUNT },
	{ "interval-ms", required_argument, NULL, OPT_INTERVAL },
	{ "ssrc", required_argument, NULL, OPT_SSRC },
	{ "expect-ssrc", required_argument, NULL, OPT_EXPECT_SSRC },
	{ "expect-from", required_argument, NULL, OPT_EXPECT_FROM },
	{ "seq-start", required_argument, NULL, OPT_SEQ_START },
	{ "payload-size", required_argument, NULL, OPT_PAYLOAD },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "linger-ms", required_argument, NULL, OPT_LINGER },
	{ "allow-loss", required_argument, NULL, OPT_ALLOW_LOSS },
	{ "allow-auth-fail", no_argument, NULL, OPT_ALLOW_AUTH_FAIL },
	{ "no-payload-check", no_argument, NULL, OPT_NO_PAYLOAD_CHECK },
	{ "tx-roc", required_argument, NULL, OPT_TX_ROC },
	{ "tx-key", required_argument, NULL, OPT_TX_KEY },
	{ "rx-key", required_argument, NULL, OPT_RX_KEY },
	{ "rx-key2", required_argument, NULL, OPT_RX_KEY2 },
	{ "tx-key2", required_argument, NULL, OPT_TX_KEY2 },
	{ "tx-switch-file", required_argument, NULL, OPT_TX_SWITCH_FILE },
	{ "rtcp-every", required_argument, NULL, OPT_RTCP_EVERY },
	{ "expect-rtcp", required_argument, NULL, OPT_EXPECT_RTCP },
	{ "ready-file", required_argument, NULL, OPT_READY },
	{ "start-delay-ms", required_argument, NULL, OPT_START_DELAY },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

/* Returns 0, 1 after --help, or -EINVAL after printing why. */
static int
parse_args(int argc, char **argv, struct opts *o)
{
	const char *why = NULL;
	uint32_t seq = 0;
	int c, r, idx = 0;

	*o = (struct opts){
		.count = 50,
		.interval_ms = 20.0,
		.ssrc = 0x4D52454C,
		.seq_start = 1000,
		.payload_bytes = 160,
		.timeout_s = 10.0,
	};
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", long_opts, &idx)) != -1) {
		r = 0;
		switch (c) {
		case OPT_BIND:
			o->bind_text = optarg;
			break;
		case OPT_TO:
			o->to_text = optarg;
			break;
		case OPT_EXPECT_FROM:
			o->expect_from_text = optarg;
			break;
		case OPT_COUNT:
			r = parse_u32(optarg, 10, UINT32_MAX, &o->count);
			break;
		case OPT_EXPECT_COUNT:
			r = parse_u32(optarg, 10, UINT32_MAX, &o->expect_count);
			o->expect_count_set = true;
			break;
		case OPT_INTERVAL:
			r = parse_nonneg_double(optarg, &o->interval_ms);
			break;
		case OPT_SSRC:
			r = parse_u32(optarg, 0, UINT32_MAX, &o->ssrc);
			break;
		case OPT_EXPECT_SSRC:
			r = parse_u32(optarg, 0, UINT32_MAX, &o->expect_ssrc);
			o->expect_ssrc_set = true;
			break;
		case OPT_SEQ_START:
			r = parse_u32(optarg, 10, 65535, &seq);
			o->seq_start = (uint16_t)seq;
			break;
		case OPT_PAYLOAD:
			r = parse_u32(optarg, 10, MAX_PAYLOAD_BYTES, &o->payload_bytes);
			break;
		case OPT_TIMEOUT:
			r = parse_nonneg_double(optarg, &o->timeout_s);
			break;
		case OPT_LINGER:
			r = parse_nonneg_double(optarg, &o->linger_ms);
			break;
		case OPT_START_DELAY:
			r = parse_nonneg_double(optarg, &o->start_delay_ms);
			break;
		case OPT_ALLOW_LOSS:
			r = parse_u32(optarg, 10, UINT32_MAX, &o->allow_loss);
			break;
		case OPT_NO_PAYLOAD_CHECK:
			o->no_payload_check = true;
			break;
		case OPT_TX_ROC:
			o->tx_roc = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case OPT_ALLOW_AUTH_FAIL:
			o->allow_auth_fail = true;
			break;
		case OPT_TX_KEY:
			r = parse_key(optarg, &o->tx_key, &why);
			break;
		case OPT_RX_KEY:
			r = parse_key(optarg, &o->rx_key[0], &why);
			break;
		case OPT_RX_KEY2:
			r = parse_key(optarg, &o->rx_key[1], &why);
			break;
		case OPT_TX_KEY2:
			r = parse_key(optarg, &o->tx_key2, &why);
			break;
		case OPT_TX_SWITCH_FILE:
			o->tx_switch_file = optarg;
			break;
		case OPT_RTCP_EVERY:
			r = parse_u32(optarg, 10, UINT32_MAX, &o->rtcp_every);
			break;
		case OPT_EXPECT_RTCP:
			r = parse_u32(optarg, 10, UINT32_MAX, &o->expect_rtcp);
			break;
		case OPT_READY:
			o->ready_file = optarg;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_HELP:
			usage(stdout);
			return 1;
		default:
			fprintf(stderr, PROG ": unknown option or missing value: %s\n",
				argv[optind - 1]);
			return -EINVAL;
		}
		if (r < 0) {
			/* the value may be a key: name the option only */
			fprintf(stderr, PROG ": bad value for --%s%s%s\n", long_opts[idx].name,
				why ? ": " : "", why ? why : "");
			return -EINVAL;
		}
	}
	if (optind != argc) {
		fprintf(stderr, PROG ": unexpected argument: %s\n", argv[optind]);
		return -EINVAL;
	}
	if (o->bind_text == NULL || o->to_text == NULL) {
		fprintf(stderr, PROG ": --bind and --to are required\n");
		return -EINVAL;
	}
	if (o->rx_key[1].suite != NULL && o->rx_key[0].suite == NULL) {
		fprintf(stderr, PROG ": --rx-key2 needs --rx-key\n");
		return -EINVAL;
	}
	if ((o->tx_key2.suite != NULL) != (o->tx_switch_file != NULL) ||
	    (o->tx_key2.suite != NULL && o->tx_key.suite == NULL)) {
		fprintf(stderr, PROG ": --tx-key2 and --tx-switch-file go together, with --tx-key\n");
		return -EINVAL;
	}
	if (o->timeout_s <= 0) {
		fprintf(stderr, PROG ": --timeout must be positive\n");
		return -EINVAL;
	}
	if (!o->expect_count_set)
		o->expect_count = o->count;
	return 0;
}

/* ---- libsrtp ----------------------------------------------------------- */

static void
srtp_log(srtp_log_level_t level, const char *msg, void *data)
{
	(void)data;
	if (level == srtp_log_level_error)
		fprintf(stderr, PROG ": libsrtp: %s\n", msg);
}

/* Creates a session for @k with one stream policy (@type, @ssrc). */
static int
session_create(srtp_t *ret, struct key_spec *k, srtp_ssrc_type_t type, uint32_t ssrc)
{
	srtp_master_key_t mk = { .key = k->key_salt, .mki_id = k->mki, .mki_size = k->mki_bytes };
	srtp_master_key_t *mks[1] = { &mk };
	srtp_policy_t p;
	srtp_err_status_t st;

	memset(&p, 0, sizeof(p));
	k->suite->rtp(&p.rtp);
	k->suite->rtcp(&p.rtcp);
	p.ssrc.type = type;
	p.ssrc.value = ssrc;
	if (k->mki_bytes > 0) {
		p.keys = mks;           /* key == NULL: libsrtp takes keys[] */
		p.num_master_keys = 1;
	} else {
		p.key = k->key_salt;
	}
	st = srtp_create(ret, &p);
	if (st != srtp_err_status_ok) {
		fprintf(stderr, PROG ": srtp_create(%s): libsrtp error %d\n", k->suite->name, (int)st);
		return -EINVAL;
	}
	return 0;
}

/* Zeroes the master keys; the suites stay for the report. */
static void
keys_wipe(struct opts *o)
{
	unsigned g;

	OPENSSL_cleanse(o->tx_key.key_salt, sizeof(o->tx_key.key_salt));
	OPENSSL_cleanse(o->tx_key2.key_salt, sizeof(o->tx_key2.key_salt));
	for (g = 0; g < 2; g++)
		OPENSSL_cleanse(o->rx_key[g].key_salt, sizeof(o->rx_key[g].key_salt));
}

/* ---- sending ----------------------------------------------------------- */

static bool
tx_done(const struct peer *p)
{
	return p->sent >= p->o.count;
}

static int64_t
tx_next_due_ns(const struct peer *p)
{
	return p->start_ns + (int64_t)p->sent * p->interval_ns;
}

static void
tx_datagram(struct peer *p, const uint8_t *buf, size_t len)
{
	if (sendto(p->fd, buf, len, 0, (const struct sockaddr *)&p->to, p->to_len) >= 0)
		return;
	/* ICMP errors of earlier packets surface here; keep the timing */
	if (p->send_errors++ == 0)
		fprintf(stderr, PROG ": send: %s\n", strerror(errno));
}

static void
tx_rtcp_sr(struct peer *p)
{
	uint8_t *b = p->txbuf;
	struct timespec wall;
	uint64_t frac;
	int len = RTCP_SR_BYTES;
	srtp_err_status_t st;

	clock_gettime(CLOCK_REALTIME, &wall);
	frac = ((uint64_t)wall.tv_nsec << 32) / NS_PER_S;
	b[0] = 0x80;                    /* V=2, no report blocks */
	b[1] = RTCP_PT_SR;
	put_be16(b + 2, RTCP_SR_BYTES / 4 - 1);
	put_be32(b + 4, p->o.ssrc);
	put_be32(b + 8, (uint32_t)((uint64_t)wall.tv_sec + NTP_UNIX_OFFSET_S));
	put_be32(b + 12, (uint32_t)frac);
	put_be32(b + 16, p->ts);
	put_be32(b + 20, p->sent);
	put_be32(b + 24, p->sent * p->o.payload_bytes);
	if (p->tx != NULL) {
		st = srtp_protect_rtcp_mki(p->tx, b, &len, p->tx_mki, 0);
		if (st != srtp_err_status_ok) {
			fprintf(stderr, PROG ": srtp_protect_rtcp: libsrtp error %d\n", (int)st);
			p->send_errors++;
			return;
		}
	}
	tx_datagram(p, b, (size_t)len);
	p->rtcp_sent++;
}

static void
tx_rtp(struct peer *p)
{
	uint8_t *b = p->txbuf;
	int len = (int)(RTP_HDR_BYTES + p->o.payload_bytes);
	srtp_err_status_t st;
	uint32_t i;

	b[0] = 0x80;                                    /* V=2 */
	b[1] = (p->sent == 0 ? 0x80 : 0x00) | RTP_PT;   /* marker on the first */
	put_be16(b + 2, p->seq);
	put_be32(b + 4, p->ts);
	put_be32(b + 8, p->o.ssrc);
	for (i = 0; i < p->o.payload_bytes; i++)
		b[RTP_HDR_BYTES + i] = payload_byte(p->seq, i);
	if (p->tx != NULL) {
		st = srtp_protect_mki(p->tx, b, &len, p->tx_mki, 0);
		if (st != srtp_err_status_ok) {
			fprintf(stderr, PROG ": srtp_protect: libsrtp error %d\n", (int)st);
			p->send_errors++;
			len = 0;
		}
	}
	if (len > 0)
		tx_datagram(p, b, (size_t)len);
	p->sent++;
	p->seq++;
	p->ts += 160;
}

/* Sends what is due at @now, at most TX_BURST packets. */
static void
tx_due(struct peer *p, int64_t now)
{
	unsigned n = 0;

	if (p->start_ns < 0)
		p->start_ns = now;
	if (p->tx2 != NULL && !p->tx_switched && access(p->o.tx_switch_file, F_OK) == 0) {
		/* The answer is through: every later packet goes with the new key. */
		p->tx_old = p->tx;
		p->tx = p->tx2;
		p->tx_mki = p->tx2_mki;
		p->tx2 = NULL;
		p->tx_switched = true;
		p->tx_switched_at = p->sent;
	}
	while (!tx_done(p) && tx_next_due_ns(p) <= now && n++ < TX_BURST) {
		tx_rtp(p);
		if (p->o.rtcp_every != 0 && p->sent % p->o.rtcp_every == 0)
			tx_rtcp_sr(p);
	}
}

/* ---- receiving --------------------------------------------------------- */

static void
count_source(struct peer *p, const char *addr)
{
	unsigned i;

	for (i = 0; i < p->n_sources; i++) {
		if (strcmp(p->sources[i].addr, addr) == 0) {
			p->sources[i].n++;
			return;
		}
	}
	if (p->n_sources == MAX_SOURCES) {
		p->other_sources++;
		return;
	}
	snprintf(p->sources[i].addr, sizeof(p->sources[i].addr), "%s", addr);
	p->sources[i].n = 1;
	p->n_sources++;
}

static void
note_ssrc(struct peer *p, uint32_t ssrc)
{
	unsigned i;

	for (i = 0; i < p->n_ssrcs; i++)
		if (p->ssrcs[i] == ssrc)
			return;
	if (p->n_ssrcs < MAX_SSRCS)
		p->ssrcs[p->n_ssrcs++] = ssrc;
}

/* RFC 5761 4: payload types 64..95 (with the marker bit: 192..223) are RTCP. */
static bool
looks_like_rtcp(const uint8_t *d, size_t len)
{
	return len >= 2 && (d[1] & 0x7f) >= 64 && (d[1] & 0x7f) <= 95;
}

enum rx_verdict { RX_OK, RX_AUTH_FAIL, RX_REPLAY };

/* srtp_unprotect_rtcp_mki(), or the MKI work-around above the suites. */
static srtp_err_status_t
rx_unprotect_rtcp(const struct rx_gen *gen, uint8_t *pkt, int *len)
{
	const struct key_spec *k = gen->key;
	size_t tag = k->suite->srtcp_mki_tag_bytes, mki = k->mki_bytes;
	uint8_t *at;

	if (!gen->use_mki || tag == 0)
		return srtp_unprotect_rtcp_mki(gen->ctx, pkt, len, gen->use_mki);
	if ((size_t)*len < 8 + 4 + mki + tag)
		return srtp_err_status_bad_param;
	at = pkt + *len - tag - mki;
	if (memcmp(at, k->mki, mki) != 0)
		return srtp_err_status_bad_mki;
	memmove(at, at + mki, tag);
	*len -= (int)mki;
	return srtp_unprotect_rtcp_mki(gen->ctx, pkt, len, 0);
}

/*
 * Unprotects @len bytes of p->rxbuf into p->work with each key generation in
 * turn (a failed attempt may have modified its copy, so each gets a fresh
 * one). On RX_OK *len is the plaintext length and *ret_gen the generation.
 * A replay under any generation wins over an authentication failure: the
 * packet is a genuine repeat under that key.
 */
static enum rx_verdict
rx_unprotect(struct peer *p, bool rtcp, int *len, int *ret_gen)
{
	bool replay = false;
	srtp_err_status_t st;
	unsigned g;
	int n;

	for (g = 0; g < p->n_rx; g++) {
		memcpy(p->work, p->rxbuf, (size_t)*len);
		n = *len;
		if (rtcp)
			st = rx_unprotect_rtcp(&p->rx[g], p->work, &n);
		else
			st = srtp_unprotect_mki(p->rx[g].ctx, p->work, &n, p->rx[g].use_mki);
		if (st == srtp_err_status_ok) {
			*len = n;
			*ret_gen = (int)g;
			return RX_OK;
		}
		if (st == srtp_err_status_replay_fail || st == srtp_err_status_replay_old)
			replay = true;
	}
	return replay ? RX_REPLAY : RX_AUTH_FAIL;
}

static void
rx_rtcp(struct peer *p, size_t size)
{
	const uint8_t *d = p->rxbuf;
	int len = (int)size, gen = -1;

	p->rtcp_received++;
	if (p->n_rx > 0) {
		switch (rx_unprotect(p, true, &len, &gen)) {
		case RX_OK:
			d = p->work;
			p->rx[gen].rtcp_ok++;
			break;
		case RX_AUTH_FAIL:
			p->auth_failures++;
			p->rtcp_auth_failures++;
			return;
		case RX_REPLAY:
			p->replay_failures++;
			p->rtcp_replay_failures++;
			return;
		}
	}
	if (len < 8 || d[0] >> 6 != 2) {
		p->not_rtp++;
		return;
	}
	p->rtcp_authenticated++;
}

/*
 * Marks extended sequence number @ext seen; returns true if it already was,
 * -ERANGE (as a negative int) if it cannot be tracked.
 */
static int
seen_test_set(struct peer *p, int64_t ext)
{
	uint64_t bit, new_bits;
	uint8_t *grown;
	bool was;

	if (ext < p->seen_base)
		return -ERANGE;
	bit = (uint64_t)(ext - p->seen_base);
	if (bit >= p->seen_bits) {
		new_bits = p->seen_bits ? p->seen_bits : 1u << 18;
		while (new_bits <= bit)
			new_bits *= 2;
		if (new_bits > SEEN_MAX_BITS)
			return -ERANGE;
		grown = realloc(p->seen, new_bits / 8);
		if (grown == NULL)
			return -ENOMEM;
		memset(grown + p->seen_bits / 8, 0, (new_bits - p->seen_bits) / 8);
		p->seen = grown;
		p->seen_bits = new_bits;
	}
	was = p->seen[bit / 8] & (1u << (bit % 8));
	p->seen[bit / 8] |= (uint8_t)(1u << (bit % 8));
	return was;
}

/* rtp_peer.py's _extend(): RFC 3550 A.1 without probation. */
static int64_t
seq_extend(const struct peer *p, uint16_t seq)
{
	int32_t delta;

	if (!p->have_seq)
		return seq;
	delta = (int32_t)((seq - (uint32_t)p->max_ext) & 0xffff);
	if (delta >= 0x8000)
		delta -= 0x10000;
	return p->max_ext + delta;
}

static void
rx_rtp(struct peer *p, size_t size)
{
	const uint8_t *d = p->rxbuf;
	int len = (int)size, gen = -1, was;
	size_t hdr, end, i;
	uint16_t seq;
	uint32_t ssrc;
	int64_t ext;

	if (p->n_rx > 0) {
		switch (rx_unprotect(p, false, &len, &gen)) {
		case RX_OK:
			d = p->work;
			break;
		case RX_AUTH_FAIL:
			p->auth_failures++;
			return;
		case RX_REPLAY:
			p->replay_failures++;
			return;
		}
	}
	if ((size_t)len < RTP_HDR_BYTES || d[0] >> 6 != 2) {
		p->not_rtp++;
		return;
	}
	hdr = RTP_HDR_BYTES + 4u * (d[0] & 0x0f);
	if (d[0] & 0x10) {                      /* header extension */
		if ((size_t)len < hdr + 4) {
			p->not_rtp++;
			return;
		}
		hdr += 4 + 4u * get_be16(d + hdr + 2);
	}
	end = (size_t)len;
	if (d[0] & 0x20)                        /* padding */
		end = d[len - 1] <= end ? end - d[len - 1] : 0;
	if (hdr > end) {
		p->not_rtp++;
		return;
	}
	seq = get_be16(d + 2);
	ssrc = get_be32(d + 8);
	if (p->o.expect_ssrc_set && ssrc != p->o.expect_ssrc) {
		p->wrong_ssrc++;
		return;
	}
	note_ssrc(p, ssrc);
	ext = seq_extend(p, seq);
	if (!p->have_seq)
		p->seen_base = ext - 0x8000;    /* _extend never goes lower */
	was = seen_test_set(p, ext);
	if (was < 0) {
		p->not_rtp++;                   /* a jump of thousands of cycles */
		return;
	}
	if (gen >= 0) {
		p->rx[gen].rtp_ok++;
		p->last_gen = gen;
		p->last_ssrc = ssrc;
	}
	p->received++;
	if (!p->have_seq)
		p->first_seq = seq;
	p->last_seq = seq;
	if (was) {
		p->duplicates++;
		return;
	}
	p->unique++;
	if (!p->have_seq || ext < p->first_ext)
		p->first_ext = ext;
	if (!p->have_seq || ext > p->max_ext)
		p->max_ext = ext;
	else if (ext < p->max_ext)
		p->reordered++;
	p->have_seq = true;
	for (i = hdr; i < end && !p->o.no_payload_check; i++) {
		if (d[i] != payload_byte(seq, i - hdr)) {
			p->payload_errors++;
			break;
		}
	}
}

static void
rx_datagram(struct peer *p, size_t len, const struct sockaddr_storage *src)
{
	char addr[INET6_ADDRSTRLEN + 8];

	p->datagrams++;
	fmt_addr(src, addr, sizeof(addr));
	count_source(p, addr);
	if (p->have_expect_from && strcmp(addr, p->expect_from) != 0) {
		p->unexpected_source++;
		return;
	}
	if (looks_like_rtcp(p->rxbuf, len))
		rx_rtcp(p, len);
	else
		rx_rtp(p, len);
}

/* Reads what is queued, at most RX_BURST datagrams. */
static int
rx_drain(struct peer *p)
{
	struct sockaddr_storage src;
	socklen_t src_len;
	ssize_t n;
	unsigned i;

	for (i = 0; i < RX_BURST; i++) {
		src_len = sizeof(src);
		n = recvfrom(p->fd, p->rxbuf, sizeof(p->rxbuf), MSG_DONTWAIT,
			     (struct sockaddr *)&src, &src_len);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return 0;
			if (errno == ECONNREFUSED)      /* ICMP for an earlier send */
				continue;
			return -errno;
		}
		rx_datagram(p, (size_t)n, &src);
	}
	return 0;
}

static bool
rx_satisfied(const struct peer *p)
{
	return p->unique >= p->o.expect_count && p->rtcp_authenticated >= p->o.expect_rtcp;
}

/* ---- main loop --------------------------------------------------------- */

/*
 * Sends and receives until everything is sent and received (plus
 * --linger-ms), or --timeout. Returns 0 (finished or timed out: the report
 * says which) or -errno on a socket error.
 */
static int
run(struct peer *p)
{
	int64_t deadline = now_ns() + (int64_t)(p->o.timeout_s * 1e9);
	int64_t linger_ns = (int64_t)(p->o.linger_ms * 1e6);
	int64_t rx_done_at = -1, now, wait;
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
	struct timespec ts;
	bool txd, rxd;
	int r;

	for (;;) {
		now = now_ns();
		if (!tx_done(p))
			tx_due(p, now);
		txd = tx_done(p);
		if (rx_done_at < 0 && rx_satisfied(p))
			rx_done_at = now;
		rxd = rx_done_at >= 0 && now >= rx_done_at + linger_ns;
		if (txd && rxd)
			return 0;
		if (now >= deadline)
			return 0;
		wait = deadline - now;
		if (!txd && tx_next_due_ns(p) - now < wait)
			wait = tx_next_due_ns(p) - now;
		if (rx_done_at >= 0 && rx_done_at + linger_ns - now < wait)
			wait = rx_done_at + linger_ns - now;
		if (wait < 0)
			wait = 0;
		ts.tv_sec = wait / NS_PER_S;
		ts.tv_nsec = wait % NS_PER_S;
		r = ppoll(&pfd, 1, &ts, NULL);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r > 0) {
			r = rx_drain(p);
			if (r < 0)
				return r;
		}
	}
}

/* ---- report ------------------------------------------------------------ */

/* Writes a JSON object or "key=value ..." text, keys in call order. */
struct out {
	FILE *f;
	bool json;
	bool first;
};

static void
out_key(struct out *o, const char *k)
{
	if (o->json)
		fprintf(o->f, "%s\"%s\": ", o->first ? "" : ", ", k);
	else
		fprintf(o->f, "%s%s=", o->first ? "" : " ", k);
	o->first = false;
}

static void
out_u64(struct out *o, const char *k, uint64_t v)
{
	out_key(o, k);
	fprintf(o->f, "%" PRIu64, v);
}

static void
out_opt_u64(struct out *o, const char *k, bool have, uint64_t v)
{
	out_key(o, k);
	if (have)
		fprintf(o->f, "%" PRIu64, v);
	else
		fputs(o->json ? "null" : "-", o->f);
}

static void
out_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void
out_str(struct out *o, const char *k, const char *v)
{
	out_key(o, k);
	if (v == NULL)
		fputs(o->json ? "null" : "-", o->f);
	else if (o->json)
		out_json_string(o->f, v);
	else
		fputs(v, o->f);
}

static void
out_bool(struct out *o, const char *k, bool v)
{
	out_key(o, k);
	fputs(v ? "true" : "false", o->f);
}

static void
out_sources(struct out *o, const struct peer *p)
{
	unsigned i;

	out_key(o, "sources");
	fputs(o->json ? "{" : "", o->f);
	for (i = 0; i < p->n_sources; i++) {
		if (o->json) {
			fputs(i ? ", " : "", o->f);
			out_json_string(o->f, p->sources[i].addr);
			fprintf(o->f, ": %" PRIu64, p->sources[i].n);
		} else {
			fprintf(o->f, "%s%s(%" PRIu64 ")", i ? "," : "",
				p->sources[i].addr, p->sources[i].n);
		}
	}
	if (p->other_sources != 0)
		fprintf(o->f, o->json ? "%s\"other\": %" PRIu64 : "%sother(%" PRIu64 ")",
			p->n_sources ? (o->json ? ", " : ",") : "", p->other_sources);
	fputs(o->json ? "}" : "", o->f);
}

static void
out_ssrcs(struct out *o, const struct peer *p)
{
	unsigned i;

	out_key(o, "ssrcs");
	fputs(o->json ? "[" : "", o->f);
	for (i = 0; i < p->n_ssrcs; i++)
		fprintf(o->f, o->json ? "%s%" PRIu32 : "%s0x%08" PRIx32,
			i ? (o->json ? ", " : ",") : "", p->ssrcs[i]);
	fputs(o->json ? "]" : "", o->f);
}

static void
out_failures(struct out *o, char (*why)[160], unsigned n)
{
	unsigned i;

	out_key(o, "failures");
	fputc('[', o->f);
	for (i = 0; i < n; i++) {
		fputs(i ? ", " : "", o->f);
		out_json_string(o->f, why[i]);
	}
	fputc(']', o->f);
}

#define FAIL(...) do {                                                  \
	if (n_why < MAX_FAILURES)                                       \
		snprintf(why[n_why++], sizeof(why[0]), __VA_ARGS__);    \
} while (0)

/* Prints the summary; returns the exit status. */
static int
report(struct peer *p)
{
	char why[MAX_FAILURES][160];
	char bind_addr[INET6_ADDRSTRLEN + 8], to_addr[INET6_ADDRSTRLEN + 8];
	struct out o = { .f = stdout, .json = p->o.json, .first = true };
	uint64_t expected = 0, lost = 0;
	uint32_t rx_roc = 0, tx_roc = 0;
	bool have_rx_roc = false, have_tx_roc = false;
	unsigned n_why = 0, i;

	if (p->have_seq) {
		expected = (uint64_t)(p->max_ext - p->first_ext + 1);
		lost = expected - p->unique;
	}
	/* the ROC the receiver ended at: libsrtp's own when keyed */
	if (p->n_rx > 0 && p->last_gen >= 0) {
		have_rx_roc = srtp_get_stream_roc(p->rx[p->last_gen].ctx, p->last_ssrc,
						  &rx_roc) == srtp_err_status_ok;
	} else if (p->n_rx == 0 && p->have_seq) {
		rx_roc = (uint32_t)(p->max_ext >> 16);
		have_rx_roc = true;
	}
	if (p->tx != NULL && p->sent > 0) {
		have_tx_roc = srtp_get_stream_roc(p->tx, p->o.ssrc, &tx_roc) == srtp_err_status_ok;
	} else if (p->sent > 0) {
		tx_roc = (uint32_t)(((uint64_t)p->o.seq_start + p->sent - 1) >> 16);
		have_tx_roc = true;
	}

	if (p->unique + p->o.allow_loss < p->o.expect_count)
		FAIL("received %" PRIu64 " of %" PRIu32 " packets", p->unique, p->o.expect_count);
	if (p->payload_errors)
		FAIL("%" PRIu64 " payload integrity errors", p->payload_errors);
	if (p->unexpected_source)
		FAIL("%" PRIu64 " packets from unexpected sources", p->unexpected_source);
	if (p->not_rtp)
		FAIL("%" PRIu64 " packets that are not RTP or RTCP", p->not_rtp);
	if (p->wrong_ssrc)
		FAIL("%" PRIu64 " packets with another SSRC", p->wrong_ssrc);
	if (p->auth_failures && !p->o.allow_auth_fail)
		FAIL("%" PRIu64 " packets failed authentication (%" PRIu64 " RTCP)",
		     p->auth_failures, p->rtcp_auth_failures);
	if (p->rtcp_authenticated < p->o.expect_rtcp)
		FAIL("received %" PRIu64 " of %" PRIu32 " RTCP packets",
		     p->rtcp_authenticated, p->o.expect_rtcp);
	if (p->sent < p->o.count)
		FAIL("sent %" PRIu32 " of %" PRIu32 " packets before the timeout",
		     p->sent, p->o.count);
	if (p->send_errors)
		FAIL("%" PRIu32 " sends failed", p->send_errors);

	fmt_addr(&p->bind, bind_addr, sizeof(bind_addr));
	fmt_addr(&p->to, to_addr, sizeof(to_addr));
	if (o.json)
		fputc('{', o.f);
	else
		fputs(n_why ? "FAIL: " : "ok: ", o.f);
	out_str(&o, "mode", "duplex");
	out_str(&o, "bind", bind_addr);
	out_str(&o, "to", to_addr);
	out_bool(&o, "ok", n_why == 0);
	out_str(&o, "tx_suite", p->o.tx_key.suite ? p->o.tx_key.suite->name : NULL);
	out_str(&o, "rx_suite", p->o.rx_key[0].suite ? p->o.rx_key[0].suite->name : NULL);
	out_str(&o, "rx_suite2", p->o.rx_key[1].suite ? p->o.rx_key[1].suite->name : NULL);
	out_u64(&o, "ssrc", p->o.ssrc);
	out_u64(&o, "sent", p->sent);
	out_opt_u64(&o, "tx_switched_at", p->tx_switched, p->tx_switched_at);
	out_u64(&o, "send_errors", p->send_errors);
	out_u64(&o, "rtcp_sent", p->rtcp_sent);
	out_u64(&o, "tx_first_seq", p->o.seq_start);
	out_opt_u64(&o, "tx_last_seq", p->sent > 0, (uint16_t)(p->o.seq_start + p->sent - 1));
	out_opt_u64(&o, "tx_roc_final", have_tx_roc, tx_roc);
	out_u64(&o, "expected", p->o.expect_count);
	out_u64(&o, "missing", p->unique < p->o.expect_count ? p->o.expect_count - p->unique : 0);
	out_u64(&o, "datagrams", p->datagrams);
	out_u64(&o, "received", p->received);
	out_u64(&o, "unique", p->unique);
	out_u64(&o, "lost", lost);
	out_u64(&o, "reordered", p->reordered);
	out_u64(&o, "duplicates", p->duplicates);
	out_u64(&o, "payload_errors", p->payload_errors);
	out_u64(&o, "not_rtp", p->not_rtp);
	out_u64(&o, "wrong_ssrc", p->wrong_ssrc);
	out_u64(&o, "unexpected_source", p->unexpected_source);
	out_u64(&o, "auth_failures", p->auth_failures);
	out_u64(&o, "replay_failures", p->replay_failures);
	out_u64(&o, "rx_key1_packets", p->n_rx > 0 ? p->rx[0].rtp_ok : 0);
	out_u64(&o, "rx_key2_packets", p->n_rx > 1 ? p->rx[1].rtp_ok : 0);
	out_u64(&o, "rtcp_received", p->rtcp_received);
	out_u64(&o, "rtcp_authenticated", p->rtcp_authenticated);
	out_u64(&o, "rtcp_auth_failures", p->rtcp_auth_failures);
	out_u64(&o, "rtcp_replay_failures", p->rtcp_replay_failures);
	out_opt_u64(&o, "first_seq", p->have_seq, p->first_seq);
	out_opt_u64(&o, "last_seq", p->have_seq, p->last_seq);
	out_opt_u64(&o, "min_seq", p->have_seq, (uint64_t)p->first_ext & 0xffff);
	out_opt_u64(&o, "max_seq", p->have_seq, (uint64_t)p->max_ext & 0xffff);
	out_opt_u64(&o, "roc_final", have_rx_roc, rx_roc);
	out_ssrcs(&o, p);
	out_sources(&o, p);
	if (o.json) {
		if (n_why)
			out_failures(&o, why, n_why);
		fputc('}', o.f);
	}
	fputc('\n', o.f);
	fflush(o.f);
	for (i = 0; i < n_why; i++)
		fprintf(stderr, PROG ": %s\n", why[i]);
	return n_why ? EXIT_CHECK : 0;
}

/* ---- set-up ------------------------------------------------------------ */

static int
open_socket(struct peer *p)
{
	socklen_t bind_len;
	int one = 1, rcvbuf = 1 << 20;
	int tfam;

	if (parse_addr(p->o.bind_text, &p->bind, &bind_len) < 0) {
		fprintf(stderr, PROG ": bad --bind address %s: want IP:PORT or [IPv6]:PORT\n",
			p->o.bind_text);
		return -EINVAL;
	}
	if (parse_addr(p->o.to_text, &p->to, &p->to_len) < 0) {
		fprintf(stderr, PROG ": bad --to address %s: want IP:PORT or [IPv6]:PORT\n",
			p->o.to_text);
		return -EINVAL;
	}
	tfam = p->to.ss_family;
	if (tfam != p->bind.ss_family) {
		fprintf(stderr, PROG ": --bind and --to must be the same address family\n");
		return -EINVAL;
	}
	if (p->o.expect_from_text != NULL) {
		struct sockaddr_storage from;
		socklen_t from_len;

		if (parse_addr(p->o.expect_from_text, &from, &from_len) < 0) {
			fprintf(stderr, PROG ": bad --expect-from address %s\n",
				p->o.expect_from_text);
			return -EINVAL;
		}
		fmt_addr(&from, p->expect_from, sizeof(p->expect_from));
		p->have_expect_from = true;
	}
	p->fd = socket(tfam, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (p->fd < 0)
		goto err;
	setsockopt(p->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(p->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(p->fd, (const struct sockaddr *)&p->bind, bind_len) < 0)
		goto err_close;
	/* report the real port when --bind asked for port 0 */
	getsockname(p->fd, (struct sockaddr *)&p->bind, &bind_len);
	return 0;
err_close:
	close(p->fd);
	p->fd = -1;
err:
	fprintf(stderr, PROG ": socket %s: %s\n", p->o.bind_text, strerror(errno));
	return -errno;
}

static int
mark_ready(const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) != 0) {
		fprintf(stderr, PROG ": --ready-file %s: %s\n", path, strerror(errno));
		return -errno;
	}
	return 0;
}

/* Creates the outbound session and one inbound session per rx key. */
static int
sessions_create(struct peer *p)
{
	unsigned g;

	if (p->o.tx_key.suite != NULL) {
		if (session_create(&p->tx, &p->o.tx_key, ssrc_specific, p->o.ssrc) < 0)
			return -EINVAL;
		if (p->o.tx_roc != 0 &&
		    srtp_set_stream_roc(p->tx, p->o.ssrc, p->o.tx_roc) != srtp_err_status_ok)
			return -EINVAL;
		p->tx_mki = p->o.tx_key.mki_bytes > 0;
	}
	if (p->o.tx_key2.suite != NULL) {
		if (session_create(&p->tx2, &p->o.tx_key2, ssrc_specific, p->o.ssrc) < 0)
			return -EINVAL;
		if (p->o.tx_roc != 0 &&
		    srtp_set_stream_roc(p->tx2, p->o.ssrc, p->o.tx_roc) != srtp_err_status_ok)
			return -EINVAL;
		p->tx2_mki = p->o.tx_key2.mki_bytes > 0;
	}
	for (g = 0; g < 2 && p->o.rx_key[g].suite != NULL; g++) {
		if (session_create(&p->rx[g].ctx, &p->o.rx_key[g], ssrc_any_inbound, 0) < 0)
			return -EINVAL;
		p->rx[g].key = &p->o.rx_key[g];
		p->rx[g].use_mki = p->o.rx_key[g].mki_bytes > 0;
		p->n_rx = g + 1;
	}
	return 0;
}

static void
sessions_free(struct peer *p)
{
	unsigned g;

	if (p->tx != NULL)
		srtp_dealloc(p->tx);
	if (p->tx_old != NULL)
		srtp_dealloc(p->tx_old);
	if (p->tx2 != NULL)
		srtp_dealloc(p->tx2);
	for (g = 0; g < p->n_rx; g++)
		srtp_dealloc(p->rx[g].ctx);
}

int
main(int argc, char **argv)
{
	struct peer *p = calloc(1, sizeof(*p));
	int r, status = EXIT_USAGE;

	if (p == NULL) {
		fprintf(stderr, PROG ": out of memory\n");
		return EXIT_USAGE;
	}
	p->fd = -1;
	p->start_ns = -1;
	p->last_gen = -1;
	r = parse_args(argc, argv, &p->o);
	if (r != 0) {
		status = r > 0 ? 0 : EXIT_USAGE;
		if (r < 0)
			fprintf(stderr, "try '" PROG " --help'\n");
		goto out_free;
	}
	p->seq = p->o.seq_start;
	p->interval_ns = (int64_t)(p->o.interval_ms * 1e6);
	if (srtp_init() != srtp_err_status_ok) {
		fprintf(stderr, PROG ": srtp_init failed\n");
		goto out_free;
	}
	srtp_install_log_handler(srtp_log, NULL);
	r = sessions_create(p);
	keys_wipe(&p->o);       /* libsrtp derived its session keys */
	if (r < 0)
		goto out_srtp;
	if (open_socket(p) < 0)
		goto out_srtp;
	if (p->o.ready_file != NULL && mark_ready(p->o.ready_file) < 0)
		goto out_close;
	/* let the other side bind before the first packet: see rtp_peer.py */
	sleep_ns((int64_t)(p->o.start_delay_ms * 1e6));
	r = run(p);
	if (r < 0) {
		fprintf(stderr, PROG ": socket: %s\n", strerror(-r));
		goto out_close;
	}
	status = report(p);
out_close:
	close(p->fd);
out_srtp:
	sessions_free(p);
	srtp_shutdown();
out_free:
	free(p->seen);
	free(p);
	return status;
}
