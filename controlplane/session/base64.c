/* SPDX-License-Identifier: BSD-3-Clause */
/* Base64 (RFC 4648 section 4) of SRTP keys: the rules are in base64.h. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>

#include <openssl/crypto.h>

#include "base64.h"

static const char b64_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Value of a base64 digit, or -1. */
static int
b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

ssize_t
mr_base64_len(const char *s, size_t len, uint32_t flags)
{
	size_t pads = 0, data, i;

	if (len > (size_t)SSIZE_MAX)
		return -EINVAL;
	while (pads < 2 && pads < len && s[len - 1 - pads] == '=')
		pads++;
	data = len - pads;
	/* One digit alone carries no whole byte. With padding the total is a
	 * multiple of 4, so one '=' follows 3 digits and two follow 2. */
	if (data == 0 || data % 4 == 1)
		return -EINVAL;
	if ((pads != 0 || (flags & MR_BASE64_PADDED)) && len % 4 != 0)
		return -EINVAL;
	for (i = 0; i < data; i++) {
		if (b64_value(s[i]) < 0)
			return s[i] == '=' ? -EINVAL : -EILSEQ;
	}
	/* The last digit of 2 has 4 bits past the data, of 3 it has 2
	 * (RFC 4648 section 3.5): they must be zero. */
	if ((data % 4 == 2 && (b64_value(s[data - 1]) & 0x0f) != 0) ||
	    (data % 4 == 3 && (b64_value(s[data - 1]) & 0x03) != 0))
		return -EINVAL;
	return (ssize_t)(data / 4 * 3 + (data % 4 == 0 ? 0 : data % 4 - 1));
}

ssize_t
mr_base64_decode(const char *s, size_t len, uint32_t flags, uint8_t *out, size_t cap)
{
	ssize_t n = mr_base64_len(s, len, flags);
	uint32_t acc = 0;
	size_t i, o = 0;
	unsigned int bits = 0;

	if (n < 0)
		return n;
	if ((size_t)n > cap)
		return -EMSGSIZE;
	for (i = 0; o < (size_t)n; i++) {
		acc = (acc << 6) | (uint32_t)b64_value(s[i]);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	OPENSSL_cleanse(&acc, sizeof(acc));
	return n;
}

size_t
mr_base64_encode(const uint8_t *in, size_t n, bool pad, char *out)
{
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8) | in[i + 2];

		out[o++] = b64_chars[v >> 18];
		out[o++] = b64_chars[(v >> 12) & 63];
		out[o++] = b64_chars[(v >> 6) & 63];
		out[o++] = b64_chars[v & 63];
	}
	if (n - i == 1) {
		out[o++] = b64_chars[in[i] >> 2];
		out[o++] = b64_chars[(in[i] & 3) << 4];
		if (pad) {
			out[o++] = '=';
			out[o++] = '=';
		}
	} else if (n - i == 2) {
		uint32_t v = ((uint32_t)in[i] << 8) | in[i + 1];

		out[o++] = b64_chars[v >> 10];
		out[o++] = b64_chars[(v >> 4) & 63];
		out[o++] = b64_chars[(v & 15) << 2];
		if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}
