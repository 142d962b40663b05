/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_TEST_SIP_DOUBLES_H
#define MR_TEST_SIP_DOUBLES_H
#include "cdr.h"

#define MR_TEST_CDR_MAX 64u
extern struct mr_cdr_row mr_test_cdr_rows[MR_TEST_CDR_MAX];
extern unsigned int mr_test_cdr_n;

#endif
