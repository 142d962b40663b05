/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_CP_SDP_H
#define MR_CP_SDP_H

/*
 * SDP (RFC 4566/8866) as the relay needs it: parse a session description
 * into a neutral model, and rewrite it so that media flows through the
 * relay. docs/sdp-rewrite.md states what is rewritten and what passes
 * through; in short:
 *
 *  - mr_sdp_parse() checks the text line by line (shape, characters, limits,
 *    which line types may appear where), has sofia-sip's SDP parser check the
 *    grammar of every field (sdp_parse(), with its sanity check: o= present,
 *    a c= for every used m= line), and fills struct mr_sdp. Anything sofia-sip
 *    or the line check refuses is an error with a reason; nothing is guessed.
 *  - mr_sdp_rewrite() prints the description again with each m= line as the
 *    caller's plan says: accepted (relay address and ports, transport, the
 *    relay's a=crypto, ICE-lite candidates or none, direction) or rejected
 *    (port 0, no client address, no client key). Lines mrelay does not own
 *    (codecs, rtpmap, fmtp, b=, a=ssrc, a=mid, a=extmap, unknown attributes)
 *    are copied byte for byte, in their order. The printer is mrelay's own,
 *    working on the original lines: sofia-sip's sdp_print() would turn
 *    b=TIAS into b=AS, drop a=rtpmap lines of payload types not in m=, and
 *    reorder rtpmap/fmtp and direction attributes (docs/sdp-rewrite.md).
 *
 * The model's strings are NUL-terminated and point into the struct mr_sdp
 * that holds them; they live until mr_sdp_free(). Addresses use the
 * contract's struct mr_sockaddr (port_be unused, 0).
 *
 * Functions that fail write a reason, NUL-terminated, to @err (@err_len
 * bytes; @err may be NULL). Reasons name lines by number and attributes by
 * name; they quote no attribute value, so never a key. Nothing here logs.
 * No global state: a parsed description may be read (rewritten) by several
 * threads at once; mr_sdp_free() only by its owner.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mrelay/leg.h>

#include "sdes.h"

/* Limits of one description; past any of them mr_sdp_parse() fails -E2BIG. */
#define MR_SDP_MAX_BYTES        32768u  /* the whole text */
#define MR_SDP_MAX_LINES        1024u
#define MR_SDP_MAX_MEDIA        16u     /* m= lines */
#define MR_SDP_MAX_FORMATS      128u    /* formats of one m= line (RTP: one per PT) */
#define MR_SDP_MAX_CRYPTO       MR_SDES_MAX_LINES /* a=crypto of one m= line */
#define MR_SDP_MAX_CANDIDATES   64u     /* a=candidate of one m= line */
#define MR_SDP_MAX_FINGERPRINTS 8u      /* a=fingerprint of one level */
/* A reason buffer of this size is never truncated. */
#define MR_SDP_ERR_MAX          192u

/* Direction attribute (RFC 4566 section 6, RFC 3264 section 5.1). */
enum mr_sdp_dir {
	MR_SDP_DIR_NONE = 0,    /* not given (model) / keep as it is (plan) */
	MR_SDP_DIR_SENDRECV,
	MR_SDP_DIR_SENDONLY,
	MR_SDP_DIR_RECVONLY,
	MR_SDP_DIR_INACTIVE,
};

enum mr_sdp_media_type {
	MR_SDP_MEDIA_OTHER = 0,
	MR_SDP_MEDIA_AUDIO,
	MR_SDP_MEDIA_VIDEO,
	MR_SDP_MEDIA_APPLICATION,       /* BFCP, data channels, ... */
	MR_SDP_MEDIA_IMAGE,             /* T.38 */
	MR_SDP_MEDIA_TEXT,              /* T.140 real-time text */
	MR_SDP_MEDIA_MESSAGE,           /* MSRP */
};

/* Transport protocol of an m= line; names match without regard to case. */
enum mr_sdp_proto {
	MR_SDP_PROTO_OTHER = 0,         /* see proto_name */
	MR_SDP_PROTO_RTP_AVP,           /* RFC 3551 */
	MR_SDP_PROTO_RTP_AVPF,          /* RFC 4585 */
	MR_SDP_PROTO_RTP_SAVP,          /* RFC 3711 */
	MR_SDP_PROTO_RTP_SAVPF,         /* RFC 5124 */
	MR_SDP_PROTO_UDP_TLS_RTP_SAVP,  /* RFC 5764: DTLS-SRTP */
	MR_SDP_PROTO_UDP_TLS_RTP_SAVPF,
	MR_SDP_PROTO_UDP_BFCP,          /* RFC 8856 */
	MR_SDP_PROTO_TCP_BFCP,
	MR_SDP_PROTO_TCP_TLS_BFCP,
	MR_SDP_PROTO_UDPTL,             /* T.38 */
	MR_SDP_PROTO_UDP,
	MR_SDP_PROTO_TCP,
	MR_SDP_PROTO_TCP_MSRP,          /* RFC 4975 */
	MR_SDP_PROTO_TCP_TLS_MSRP,
	MR_SDP_PROTO_UDP_DTLS_SCTP,     /* RFC 8841: WebRTC data channel */
	MR_SDP_PROTO_MAX
};

/* A connection address: c= line, the address of o= or of a=rtcp. */
struct mr_sdp_conn {
	const char *address;            /* as written; NULL: none given */
	struct mr_sockaddr addr;        /* family MR_AF_NONE when not an IP literal (FQDN) */
	uint8_t addrtype;               /* declared: MR_AF_INET (IP4) or MR_AF_INET6 (IP6) */
	bool multicast;                 /* a TTL or group count, a multicast
					 * address, or several c= lines */
	bool unspecified;               /* 0.0.0.0 or :: (RFC 2543 hold) */
};

/* One m= line and its attributes, media-level values first. */
struct mr_sdp_media {
	const char *type_name;          /* "audio", as written */
	const char *proto_name;         /* "RTP/SAVP", as written */
	uint8_t type;                   /* enum mr_sdp_media_type */
	uint8_t proto;                  /* enum mr_sdp_proto */
	uint16_t port;                  /* 0: the line is disabled/rejected */
	uint16_t port_count;            /* "m=video 49170/2": 2; else 1 */
	uint16_t n_formats;             /* 1..MR_SDP_MAX_FORMATS */
	const char *format[MR_SDP_MAX_FORMATS];  /* "0", "96", "*", "t38" */

	struct mr_sdp_conn conn;        /* media-level c=, else the session's */
	bool conn_from_session;         /* conn is the session-level c= */

	uint16_t rtcp_port;             /* a=rtcp (RFC 3605); 0: not given */
	struct mr_sdp_conn rtcp_conn;   /* its address, if given */
	bool rtcp_mux;                  /* a=rtcp-mux (RFC 5761) */
	bool rtcp_mux_only;             /* a=rtcp-mux-only (RFC 8858) */

	uint16_t n_crypto;
	const char *crypto[MR_SDP_MAX_CRYPTO];  /* a=crypto values, for mr_sdes_*() */

	/* ICE (RFC 8839): media level, else inherited from the session. */
	const char *ice_ufrag;
	const char *ice_pwd;
	const char *ice_options;
	uint16_t n_candidates;
	const char *candidate[MR_SDP_MAX_CANDIDATES];  /* a=candidate values */
	bool end_of_candidates;

	/* DTLS-SRTP (RFC 8842): media level, else the session's. mrelay does
	 * not terminate DTLS; these let the caller refuse it with a reason. */
	const char *fingerprint;        /* the first a=fingerprint value */
	uint8_t n_fingerprints;
	const char *setup;              /* a=setup value */
	bool dtls;                      /* DTLS: UDP/TLS/RTP/SAVP(F) or UDP/DTLS/SCTP,
					 * or an RTP proto with a=fingerprint */

	uint8_t dir;                    /* enum mr_sdp_dir: media-level, else
					 * session-level, else SENDRECV */
	uint8_t dir_attr;               /* the media-level attribute; NONE if absent */
	const char *mid;                /* a=mid (RFC 5888) */
	const char *content;            /* a=content (RFC 4796): "slides", "main" */
	bool bundle_only;               /* a=bundle-only (RFC 8843) */
};

/* A parsed session description (allocated by mr_sdp_parse()). */
struct mr_sdp {
	/* o=<username> <sess-id> <sess-version> IN <addrtype> <address> */
	const char *origin_username;
	const char *origin_sess_id;     /* digits, as written */
	uint64_t origin_version;
	struct mr_sdp_conn origin_conn;

	struct mr_sdp_conn conn;        /* session-level c=; address NULL if absent */
	uint8_t dir;                    /* session-level direction; NONE if absent */
	bool ice_lite;                  /* a=ice-lite */
	const char *ice_ufrag;          /* session-level ICE, also inherited by media */
	const char *ice_pwd;
	const char *ice_options;
	const char *fingerprint;        /* session-level DTLS, also inherited */
	uint8_t n_fingerprints;
	const char *setup;
	const char *bundle;             /* a=group:BUNDLE mids, NULL if absent */

	uint16_t n_media;
	struct mr_sdp_media media[MR_SDP_MAX_MEDIA];

	struct mr_sdp_text *text;       /* private: the lines, for mr_sdp_rewrite() */
};

/*
 * Parse @len bytes of SDP (lines end in CRLF or LF; the last may end without
 * one; blank lines are skipped; no NUL, no bare CR, no control character but
 * TAB). On success *@ret is a new description for mr_sdp_free().
 * Returns 0; -EINVAL (malformed, with the reason and, where there is one, the
 * line number); -E2BIG (over a MR_SDP_MAX_* limit); -ENOMEM.
 */
int mr_sdp_parse(const char *text, size_t len, struct mr_sdp **ret,
		 char *err, size_t err_len);

/* Free @sdp; NULL is a no-op. */
void mr_sdp_free(struct mr_sdp *sdp);

/* How ICE attributes come out of mr_sdp_rewrite(). */
enum mr_sdp_ice {
	MR_SDP_ICE_REMOVE = 0,          /* every ICE attribute removed */
	MR_SDP_ICE_LITE,                /* removed, then a=ice-lite and, per accepted
					 * m= line, the relay's credentials and one
					 * host candidate per component */
};

/* What happens to the o= version. */
enum mr_sdp_version {
	MR_SDP_VERSION_KEEP = 0,
	MR_SDP_VERSION_BUMP,            /* + 1 */
	MR_SDP_VERSION_SET,             /* plan.version_value */
};

/* The caller's decision for one m= line. */
struct mr_sdp_media_plan {
	bool accept;                    /* false: rejected, port 0 */
	bool rtcp_mux;                  /* write a=rtcp-mux */
	uint8_t dir;                    /* enum mr_sdp_dir; NONE keeps the line's own */
	uint16_t rtp_port;              /* accepted: 1..65535 */
	uint16_t rtcp_port;             /* a=rtcp:<port>; 0: no a=rtcp line */
	struct mr_sockaddr addr;        /* relay address (c=, candidates); accepted only */
	const char *proto;              /* m= transport to write; NULL: as it was */
	const char *const *crypto;      /* a=crypto values to write (mr_sdes_print()) */
	size_t n_crypto;                /* at most MR_SDP_MAX_CRYPTO */
	const char *ice_ufrag;          /* MR_SDP_ICE_LITE: the relay's credentials, */
	const char *ice_pwd;            /* RFC 8839 ice-char, 4..256 and 22..256 long */
};

/* The caller's decision for a whole description. */
struct mr_sdp_plan {
	struct mr_sockaddr addr;        /* relay address for o=, the session c= and
					 * the c= of rejected lines that need one */
	bool replace_origin;            /* o= address := addr (NG replace: origin) */
	bool replace_session_conn;      /* session c= := addr (session-connection) */
	bool replace_zero_addr;         /* an unspecified c= (hold) gets the relay
					 * address too; else it stays unspecified */
	uint8_t version;                /* enum mr_sdp_version */
	uint8_t ice;                    /* enum mr_sdp_ice */
	uint64_t version_value;         /* MR_SDP_VERSION_SET */
	uint16_t n_media;               /* must be sdp->n_media */
	struct mr_sdp_media_plan media[MR_SDP_MAX_MEDIA];
};

/*
 * Print @sdp rewritten by @plan into @buf (@cap bytes), NUL-terminated,
 * lines ending in CRLF; the length without the NUL in @ret_len.
 * Returns 0; -EINVAL (the plan does not fit @sdp or holds a value that cannot
 * be printed: a bad address, port, transport or credential, a CR or LF in a
 * string, accepting a line whose port is 0, an RTP transport for a line whose
 * formats are not payload types); -ERANGE (o= version cannot be bumped);
 * -ENOSPC (@buf too small; nothing useful in it). @ret_len is written only
 * on success.
 */
int mr_sdp_rewrite(const struct mr_sdp *sdp, const struct mr_sdp_plan *plan,
		   char *buf, size_t cap, size_t *ret_len, char *err, size_t err_len);

/* "RTP/SAVP", ...; NULL for OTHER or out of range. */
const char *mr_sdp_proto_name(enum mr_sdp_proto proto);
/* The proto named @name (@len bytes, any case); MR_SDP_PROTO_OTHER if unknown. */
enum mr_sdp_proto mr_sdp_proto_from_name(const char *name, size_t len);
/* RTP/AVP, RTP/AVPF, RTP/SAVP, RTP/SAVPF and their UDP/TLS forms. */
bool mr_sdp_proto_is_rtp(enum mr_sdp_proto proto);
/* "sendrecv", ...; NULL for NONE or out of range. */
const char *mr_sdp_dir_name(enum mr_sdp_dir dir);

#endif /* MR_CP_SDP_H */
