/* SPDX-License-Identifier: MIT */
/* errors.h - a recording error handler for the suites that check rcgc's
 * messages.  tc_record_errors() empties tc_err and registers the handler
 * (rcgc_register_error); every message then lands in tc_err: how many
 * came, and the last one's kind and text.  Header-only, so that each
 * suite that includes it has its own record. */
#ifndef RCGC_TEST_ERRORS_H
#define RCGC_TEST_ERRORS_H

#include "objalloc/objalloc.h"

#include <stdio.h>

typedef struct TcErrors {
    int n;          /* messages since tc_record_errors */
    int kind;       /* the last one's RCGC_ERROR_* */
    char text[512]; /* the last one's text */
} TcErrors;

static TcErrors tc_err;

static inline void
tc_error_record(int kind, const char *message, void *arg)
{
    (void)arg;
    tc_err.kind = kind;
    snprintf(tc_err.text, sizeof tc_err.text, "%s", message);
    tc_err.n++;
}

static inline void
tc_record_errors(void)
{
    tc_err.n = 0;
    tc_err.text[0] = 0;
    rcgc_register_error(tc_error_record, NULL);
}

#endif
