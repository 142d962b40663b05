/* SPDX-License-Identifier: BSD-3-Clause */
/* placeholder */
typedef int mr_placeholder_shm;
