/* SPDX-License-Identifier: MIT */
/* deep.c - deallocation uses bounded stack: a 10-million-long chain and
 * 10-million-node trees are freed from a thread with a 256 KiB stack.
 * Sizes are divided by 20 under Valgrind only. */
#include "refcount/helpers.h"

#include <criterion/criterion.h>
#include <stdlib.h>

#define SMALL_STACK (256u << 10)
#define BIG         10000000u

TestSuite(deep, .init = rc_test_setup, .fini = rc_test_teardown);

typedef struct Job {
    size_t n;
    size_t built;      /* objects created */
    size_t live_after; /* rc_live_total after the drop */
    int failed;        /* an allocation failed */
} Job;

/* Run job_fn for n objects in the small stack: it made all n, and
 * dropping its last reference freed every one. */
static void
expect_built_and_freed(void *(*job_fn)(void *), size_t n)
{
    Job job = {.n = n};
    tc_run_with_stack(SMALL_STACK, job_fn, &job);
    cr_expect_eq(job.failed, 0);
    cr_expect_eq(job.built, job.n);
    cr_expect_eq(job.live_after, 0);
}

static void *
chain_job(void *arg)
{
    Job *job = arg;
    RcObject *head = NULL;
    for (size_t i = 0; i < job->n; i++) {
        RcObject *p = rc_new(heap, &pair_type);
        if (p == NULL) {
            job->failed = 1;
            break;
        }
        pair(p)->a = head;
        head = p;
        job->built++;
    }
    rc_xdecref(head);
    job->live_after = rc_live_total(heap);
    return NULL;
}

Test(deep, chain_of_ten_million_frees_in_a_small_stack)
{
    expect_built_and_freed(chain_job, tc_scaled(BIG));
}

Test(deep, tracked_chain_frees_in_a_small_stack)
{
    attach_fake_gc();
    Job job = {.n = tc_scaled(BIG / 10)};
    tc_run_with_stack(SMALL_STACK, chain_job, &job);
    cr_expect_eq(job.built, job.n);
    cr_expect_eq(job.live_after, 0);
    cr_expect_eq(fake_gc.untracked, (long)job.n);
}

/* A complete binary tree: node i has children 2i+1 and 2i+2, built from
 * the last node up so children exist before their parent. */
static void *
tree_job(void *arg)
{
    Job *job = arg;
    size_t n = job->n;
    RcObject **nodes = malloc(n * sizeof(*nodes));
    if (nodes == NULL) {
        job->failed = 1;
        return NULL;
    }
    for (size_t i = n; i-- > 0;) {
        RcObject *p = rc_new(heap, &pair_type);
        if (p == NULL) {
            job->failed = 1;
            break;
        }
        pair(p)->a = 2 * i + 1 < n ? nodes[2 * i + 1] : NULL;
        pair(p)->b = 2 * i + 2 < n ? nodes[2 * i + 2] : NULL;
        nodes[i] = p;
        job->built++;
    }
    if (!job->failed) {
        rc_decref(nodes[0]);
    }
    free(nodes);
    job->live_after = rc_live_total(heap);
    return NULL;
}

Test(deep, balanced_tree_of_ten_million_frees_in_a_small_stack)
{
    expect_built_and_freed(tree_job, tc_scaled(BIG));
}

/* A comb: a spine of n/2 nodes, each also holding a leaf node (a tree as
 * deep as it is large, both slots used). */
static void *
comb_job(void *arg)
{
    Job *job = arg;
    RcObject *spine = NULL;
    for (size_t i = 0; i < job->n / 2; i++) {
        RcObject *leaf = rc_new(heap, &pair_type);
        RcObject *p = rc_new(heap, &pair_type);
        if (leaf == NULL || p == NULL) {
            job->failed = 1;
            rc_xdecref(leaf);
            rc_xdecref(p);
            break;
        }
        /* Alternate the slot that continues the spine. */
        pair(p)->a = (i & 1) ? spine : leaf;
        pair(p)->b = (i & 1) ? leaf : spine;
        spine = p;
        job->built += 2;
    }
    rc_xdecref(spine);
    job->live_after = rc_live_total(heap);
    return NULL;
}

Test(deep, comb_tree_of_ten_million_frees_in_a_small_stack)
{
    expect_built_and_freed(comb_job, tc_scaled(BIG));
}

/* A variable object with many slots, each the head of a chain. */
static void *
fan_job(void *arg)
{
    Job *job = arg;
    size_t width = 1000, depth = job->n / width;
    RcObject *v = rc_new_var(heap, &vec_type, width);
    if (v == NULL) {
        job->failed = 1;
        return NULL;
    }
    Vec *vec = rc_payload(v);
    job->built = 1;
    for (size_t w = 0; w < width; w++) {
        for (size_t d = 0; d < depth; d++) {
            RcObject *p = rc_new(heap, &pair_type);
            if (p == NULL) {
                job->failed = 1;
                break;
            }
            pair(p)->b = vec->items[w];
            vec->items[w] = p;
            job->built++;
        }
    }
    rc_decref(v);
    job->live_after = rc_live_total(heap);
    return NULL;
}

Test(deep, wide_object_of_long_chains_frees_in_a_small_stack)
{
    Job job = {.n = tc_scaled(BIG / 10)};
    tc_run_with_stack(SMALL_STACK, fan_job, &job);
    cr_expect_eq(job.failed, 0);
    cr_expect_eq(job.built, 1 + job.n / 1000 * 1000);
    cr_expect_eq(job.live_after, 0);
}
