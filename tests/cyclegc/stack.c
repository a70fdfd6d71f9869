/* SPDX-License-Identifier: MIT */
/* stack.c - collections of ten million objects in a thread whose stack is
 * 256 KiB: a ring (one cycle through every object), a live chain ten
 * million deep (the reachability pass must not recurse), and a garbage
 * chain ten million deep hanging off a cycle (clearing it frees the chain
 * through refcount's non-recursive deallocation).  Sizes are divided by
 * 20 under Valgrind only (tc_scaled).  Criterion assertions are made on
 * the main thread from what the job recorded. */
#include "cyclegc/gcutil.h"

#include <criterion/criterion.h>

TestSuite(stack, .init = gt_setup, .fini = gt_teardown);

#define SMALL_STACK (256u << 10)
#define BIG         10000000u

typedef struct Job {
    size_t n;
    int failed;          /* an allocation failed */
    long first, second;  /* results of the job's collections */
    size_t walked;       /* chain length found by walking it */
    size_t live_between; /* rc_live_total between the collections */
    size_t live_after;   /* rc_live_total at the end */
    int enabled;         /* leave automatic collection on */
    RcObject *cycle;     /* a self-referencing GtNode made by the test */
    RcObject *chain;     /* a chain built by one job for the next */
} Job;

static RcObject *
new_link(Job *job, RcObject *next)
{
    RcObject *op = rc_new(gt_rc, &gt_link_type);
    if (op == NULL) {
        job->failed = 1;
        return NULL;
    }
    GtLink *l = rc_payload(op);
    l->next = next; /* steals */
    l->id = job->n;
    return op;
}

/* A chain of n links, head returned with the caller's reference. */
static RcObject *
build_chain(Job *job, size_t n, RcObject **tail)
{
    RcObject *last = new_link(job, NULL);
    RcObject *head = last;
    for (size_t i = 1; i < n && head != NULL; i++) {
        head = new_link(job, head);
    }
    *tail = last;
    return head;
}

static void *
ring_job(void *arg)
{
    Job *job = arg;
    RcObject *tail;
    RcObject *head = build_chain(job, job->n, &tail);
    if (head == NULL) {
        return NULL;
    }
    ((GtLink *)rc_payload(tail))->next = head; /* close: takes our ref */
    job->live_between = rc_live_total(gt_rc);
    job->first = gc_collect(gt_gc, 2);
    job->live_after = rc_live_total(gt_rc);
    return NULL;
}

Test(stack, ring_of_ten_million_is_collected_in_a_small_stack)
{
    gc_disable(gt_gc);
    Job job = {.n = tc_scaled(BIG)};
    tc_run_with_stack(SMALL_STACK, ring_job, &job);
    cr_assert_eq(job.failed, 0);
    cr_expect_eq(job.live_between, job.n);
    cr_expect_eq(job.first, (long)job.n);
    cr_expect_eq(job.live_after, 0);
    cr_expect_eq(gt_count.link_deallocs, (long)job.n);
    gt_check();
}

static void *
live_chain_job(void *arg)
{
    Job *job = arg;
    if (job->enabled) {
        gc_enable(gt_gc);
    }
    RcObject *tail;
    RcObject *head = build_chain(job, job->n, &tail);
    if (head == NULL) {
        return NULL;
    }
    job->first = gc_collect(gt_gc, 0);
    job->second = gc_collect(gt_gc, 2);
    for (RcObject *p = head; p != NULL; p = ((GtLink *)rc_payload(p))->next) {
        job->walked++;
    }
    job->live_between = rc_live_total(gt_rc);
    rc_decref(head);
    job->live_after = rc_live_total(gt_rc);
    return NULL;
}

Test(stack, live_chain_ten_million_deep_survives_in_a_small_stack)
{
    gc_disable(gt_gc);
    Job job = {.n = tc_scaled(BIG)};
    tc_run_with_stack(SMALL_STACK, live_chain_job, &job);
    cr_assert_eq(job.failed, 0);
    cr_expect_eq(job.first, 0);
    cr_expect_eq(job.second, 0);
    cr_expect_eq(job.walked, job.n);
    cr_expect_eq(job.live_between, job.n);
    cr_expect_eq(job.live_after, 0);
    gt_check();
}

Test(stack, live_chain_built_with_automatic_collections)
{
    Job job = {.n = tc_scaled(BIG / 5), .enabled = 1};
    tc_run_with_stack(SMALL_STACK, live_chain_job, &job);
    cr_assert_eq(job.failed, 0);
    cr_expect_eq(job.second, 0);
    cr_expect_eq(job.walked, job.n);
    cr_expect_eq(job.live_after, 0);
    cr_expect_gt(gt_stats(0).collections, 0);
    gt_check();
}

static void *
chain_off_cycle_job(void *arg)
{
    Job *job = arg;
    RcObject *tail;
    RcObject *head = build_chain(job, job->n, &tail);
    if (head == NULL) {
        return NULL;
    }
    RcObject *c = job->cycle;
    gt_node(c)->slot[1] = head; /* steals */
    rc_decref(c);               /* now c and the chain are garbage */
    job->live_between = rc_live_total(gt_rc);
    job->first = gc_collect(gt_gc, 2);
    job->live_after = rc_live_total(gt_rc);
    return NULL;
}

Test(stack, garbage_chain_ten_million_deep_off_a_cycle_is_collected)
{
    gc_disable(gt_gc);
    Job job = {.n = tc_scaled(BIG)};
    job.cycle = gt_new(&gt_node_type); /* made here: gt_new may assert */
    gt_link(job.cycle, 0, job.cycle);
    tc_run_with_stack(SMALL_STACK, chain_off_cycle_job, &job);
    cr_assert_eq(job.failed, 0);
    cr_expect_eq(job.live_between, job.n + 1);
    cr_expect_eq(job.first, (long)job.n + 1);
    cr_expect_eq(job.live_after, 0);
    cr_expect_eq(gt_count.link_deallocs, (long)job.n);
    cr_expect_eq(gt_count.deallocs, 1);
    gt_check();
}

static void *
old_chain_job(void *arg)
{
    Job *job = arg;
    RcObject *tail;
    job->chain = build_chain(job, job->n, &tail);
    if (job->chain != NULL) {
        gc_collect(gt_gc, 2); /* the chain is old now */
    }
    return NULL;
}

static void *
young_cycle_job(void *arg)
{
    Job *job = arg;
    RcObject *c = job->cycle;
    gt_node(c)->slot[1] = job->chain; /* steals */
    rc_decref(c);
    /* a young collection finds only c; clearing it frees the old chain
     * by reference counting */
    job->first = gc_collect(gt_gc, 0);
    job->live_after = rc_live_total(gt_rc);
    return NULL;
}

Test(stack, young_cycle_holding_an_old_deep_chain_frees_it)
{
    gc_disable(gt_gc);
    Job job = {.n = tc_scaled(BIG / 5)};
    tc_run_with_stack(SMALL_STACK, old_chain_job, &job);
    cr_assert_eq(job.failed, 0);
    job.cycle = gt_new(&gt_node_type); /* young */
    gt_link(job.cycle, 0, job.cycle);
    tc_run_with_stack(SMALL_STACK, young_cycle_job, &job);
    cr_expect_eq(job.first, 1);
    cr_expect_eq(job.live_after, 0);
    cr_expect_eq(gt_count.link_deallocs, (long)job.n);
    gt_check();
}
