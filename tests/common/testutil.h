/* SPDX-License-Identifier: MIT */
/* testutil.h - helpers every C suite shares (tests/common/testutil.c).
 *
 * Sizes under Valgrind: scripts/valgrind-tests.sh sets RCGC_UNDER_VALGRIND
 * when it runs a suite under memcheck, about 20 times slower than native.
 * The big tests (ten-million-object chains, long random runs) divide their
 * size by 20 there (tc_scaled) and run full size natively and under ASan.
 *
 * Death tests: tc_expect_abort runs a function that must abort with a
 * message, in a child process (tc_run_child, for a test that checks the
 * message itself).
 *
 * Small stacks: tc_run_with_stack runs a function in a thread whose stack
 * is as small as the test says, to show that deallocation and collection
 * of deep structures do not recurse. */
#ifndef RCGC_TESTS_COMMON_TESTUTIL_H
#define RCGC_TESTS_COMMON_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

/* 1 under Valgrind (RCGC_UNDER_VALGRIND set), else 0. */
int tc_under_valgrind(void);

/* A seeded pseudo-random stream for the model tests (xorshift64*):
 * *state must start non-zero; the same seed gives the same stream. */
uint64_t tc_rand(uint64_t *state);
/* A number in 0..n-1 from the stream (n > 0). */
size_t tc_below(uint64_t *state, size_t n);
/* n natively; n / 20 (at least 2) under Valgrind. */
size_t tc_scaled(size_t n);

/* Run fn in a forked child (SIGABRT at its default) with its stderr
 * captured into buf (NUL-terminated, cap - 1 bytes at most); return the
 * child's wait status. */
int tc_run_child(void (*fn)(void), char *buf, size_t cap);

/* Run fn in a forked child with its stderr captured: it must die of
 * SIGABRT after printing a message that contains both needles (the
 * debug checks' death tests). */
void tc_expect_abort(void (*fn)(void), const char *n1, const char *n2);

/* Run fn(arg) in a thread with a stack of stack_bytes; wait for it. */
void tc_run_with_stack(size_t stack_bytes, void *(*fn)(void *), void *arg);

#endif
