/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_CP_BASE64_H
#define MR_CP_BASE64_H

/*
 * Base64 (RFC 4648 section 4, the standard alphabet) of SRTP master keys:
 * the SDES inline key (sdes.c) and mrelayctl's --in-key and --out-key.
 *
 * Decoding is strict: '=' only as one or two final chars and only where the
 * length needs it, and the unused low bits of the last digit zero, so each
 * byte string has exactly one spelling with padding and one without, and a
 * key prints back as it came. SDES peers send both spellings; mrelayctl
 * wants the padded one only (MR_BASE64_PADDED), as `openssl rand -base64`
 * prints it. Nothing here prints or logs: the input is key material.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* mr_base64_len(), mr_base64_decode(): refuse unpadded input (a length that
 * is not a multiple of 4). */
#define MR_BASE64_PADDED (1u << 0)

/*
 * Check the @len chars at @s; the decoded length, or -EILSEQ (a char outside
 * the alphabet that is not '='), -EINVAL (no data, length, a misplaced '=',
 * or unused bits set).
 */
ssize_t mr_base64_len(const char *s, size_t len, uint32_t flags);
/*
 * As mr_base64_len(), and write the bytes to @out, which has room for @cap;
 * -EMSGSIZE, and nothing written, if they do not all fit.
 */
ssize_t mr_base64_decode(const char *s, size_t len, uint32_t flags, uint8_t *out, size_t cap);

/* Encode @n bytes into @out (NUL-terminated), with '=' padding if @pad;
 * @out holds 4 * ceil(n / 3) + 1. Returns the length without the NUL. */
size_t mr_base64_encode(const uint8_t *in, size_t n, bool pad, char *out);

#endif /* MR_CP_BASE64_H */
