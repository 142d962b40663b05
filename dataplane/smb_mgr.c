/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * intel-ipsec-mb managers for the burst engine: one per worker engine, one
 * for key derivation on the management lcore. Both come from
 * init_mb_mgr_auto(), so they pick the same code path, which matters: the
 * GHASH tables of struct gcm_key_data are laid out per code path, and a
 * context's tables (made on the management lcore) are used by a worker's
 * manager.
 */
#include <errno.h>
#include <stdio.h>

#include "smb_int.h"

static char last_error[128];    /* management lcore */

void
smb_set_error(const char *why)
{
	snprintf(last_error, sizeof(last_error), "%s", why);
}

const char *
mr_smb_last_error(void)
{
	return last_error;
}

const char *
smb_arch_name(unsigned int arch)
{
	switch (arch) {
	case IMB_ARCH_NOAESNI:
		return "noaesni";
	case IMB_ARCH_SSE:
		return "sse";
	case IMB_ARCH_AVX:
		return "avx";
	case IMB_ARCH_AVX2:
		return "avx2";
	case IMB_ARCH_AVX512:
		return "avx512";
	default:
		return "none";
	}
}

IMB_MGR *
smb_mgr_new(void)
{
	unsigned int v = imb_get_version();
	IMB_ARCH arch = IMB_ARCH_NONE;
	IMB_MGR *m;

	/* The job layout and the managers' ABI are those of the 1.x headers. */
	if (v < IMB_VERSION(1, 3, 0) || v >= IMB_VERSION(2, 0, 0)) {
		smb_set_error("intel-ipsec-mb is not 1.x (>= 1.3): job ABI differs");
		errno = ENOTSUP;
		return NULL;
	}
	m = alloc_mb_mgr(0);
	if (m == NULL) {
		smb_set_error("intel-ipsec-mb: cannot allocate a manager");
		errno = ENOMEM;
		return NULL;
	}
	init_mb_mgr_auto(m, &arch);
	/*
	 * Without AES-NI the library emulates AES in software, slower than
	 * libsrtp's NSS backend: let the caller keep libsrtp instead.
	 */
	if (imb_get_errno(m) != 0 || arch < IMB_ARCH_SSE) {
		smb_set_error("intel-ipsec-mb: no AES-NI code path on this CPU");
		free_mb_mgr(m);
		errno = ENOTSUP;
		return NULL;
	}
	return m;
}
