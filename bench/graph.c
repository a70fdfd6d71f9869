/* SPDX-License-Identifier: MIT */
/* graph.c - the graph shapes the object benches build in both runtimes.
 *
 * A shape is computed once as an index graph (Graph: two slot targets per
 * node, the roots held from outside), then built identically by each
 * backend: nodes allocated in index order (so address order follows index
 * order in a fresh heap), slots wired, creation references dropped.
 *
 * Shapes (n nodes, each with 2 slots):
 *   ringK   n/K doubly linked rings of K nodes (slot 0 next, slot 1
 *           previous), no roots: all garbage;
 *   tree    a binary tree in breadth-first index order (children 2i+1,
 *           2i+2), root 0 held: all live, laid out in address order;
 *   random  all live, out-degree 2, visited in random address order: a
 *           binary tree over a random permutation of the nodes (so every
 *           node is reachable from the root, node 0), and every slot the
 *           tree leaves empty points at a uniformly random node;
 *   mixed   each node is garbage with probability 1/10: the live ones form
 *           a `random` graph among themselves, the garbage ones rings of
 *           10 in index order whose second slot points at a random live
 *           node (garbage referring into the live heap);
 *   chain   node i -> node i+1 in slot 0, slot 1 -> the last node (a
 *           shared leaf), root 0 held: dropping it frees the whole chain
 *           through reference counting alone.
 */
#include "bench/backend.h"
#include "bench/harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *
xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL) {
        perror("bench: graph");
        exit(1);
    }
    return p;
}

const char *
shape_name(Shape shape)
{
    static const char *const names[SHAPE_COUNT] = {
        "rings of 2", "rings of 10",       "rings of 1000",
        "live tree",  "live random graph", "mixed 90% live / 10% garbage",
        "chain",
    };
    return names[shape];
}

static void
rings(Graph *g, size_t k)
{
    for (size_t start = 0; start < g->n; start += k) {
        size_t len = g->n - start < k ? g->n - start : k;
        for (size_t j = 0; j < len; j++) {
            size_t i = start + j;
            g->e[2 * i] = (int32_t)(start + (j + 1) % len);
            g->e[2 * i + 1] = (int32_t)(start + (j + len - 1) % len);
        }
    }
    g->ngarbage = g->n;
}

/* The `random` shape over the nodes idx[0..m) (idx[0] is the root):
 * tree over a shuffled order, empty slots to random members. */
static void
random_live(Graph *g, uint32_t *idx, size_t m, Rng *r)
{
    rng_shuffle(r, idx + 1, m - 1);
    for (size_t k = 0; k < m; k++) {
        size_t i = idx[k];
        for (int s = 0; s < 2; s++) {
            size_t child = 2 * k + 1 + (size_t)s;
            g->e[2 * i + (size_t)s] = child < m
                                          ? (int32_t)idx[child]
                                          : (int32_t)idx[rng_below(r, m)];
        }
    }
}

void
graph_make(Graph *g, Shape shape, size_t n, uint64_t seed)
{
    Rng r;
    rng_seed(&r, seed);
    memset(g, 0, sizeof *g);
    g->n = n;
    g->e = xmalloc(2 * n * sizeof(int32_t));
    g->roots = xmalloc(sizeof(uint32_t));
    for (size_t i = 0; i < 2 * n; i++) {
        g->e[i] = -1;
    }
    switch (shape) {
        case SHAPE_RING2:
            rings(g, 2);
            return;
        case SHAPE_RING10:
            rings(g, 10);
            return;
        case SHAPE_RING1000:
            rings(g, 1000);
            return;
        default:
            break;
    }
    g->roots[0] = 0;
    g->nroots = 1;
    if (shape == SHAPE_TREE) {
        for (size_t i = 0; i < n; i++) {
            g->e[2 * i] = 2 * i + 1 < n ? (int32_t)(2 * i + 1) : -1;
            g->e[2 * i + 1] = 2 * i + 2 < n ? (int32_t)(2 * i + 2) : -1;
        }
    }
    else if (shape == SHAPE_CHAIN) {
        for (size_t i = 0; i + 1 < n; i++) {
            g->e[2 * i] = (int32_t)(i + 1);
            g->e[2 * i + 1] = (int32_t)(n - 1);
        }
    }
    else if (shape == SHAPE_RANDOM) {
        uint32_t *idx = xmalloc(n * sizeof(uint32_t));
        for (size_t i = 0; i < n; i++) {
            idx[i] = (uint32_t)i;
        }
        random_live(g, idx, n, &r);
        free(idx);
    }
    else if (shape == SHAPE_MIXED) {
        uint32_t *live = xmalloc(n * sizeof(uint32_t));
        uint32_t *dead = xmalloc(n * sizeof(uint32_t));
        size_t nl = 0, nd = 0;
        for (size_t i = 0; i < n; i++) {
            if (i > 0 && rng_below(&r, 10) == 0) {
                dead[nd++] = (uint32_t)i;
            }
            else {
                live[nl++] = (uint32_t)i;
            }
        }
        for (size_t start = 0; start < nd; start += 10) {
            size_t len = nd - start < 10 ? nd - start : 10;
            for (size_t j = 0; j < len; j++) {
                size_t i = dead[start + j];
                g->e[2 * i] = (int32_t)dead[start + (j + 1) % len];
                g->e[2 * i + 1] = (int32_t)live[rng_below(&r, nl)];
            }
        }
        random_live(g, live, nl, &r);
        g->ngarbage = nd;
        free(live);
        free(dead);
    }
}

void
graph_free(Graph *g)
{
    free(g->e);
    free(g->roots);
    memset(g, 0, sizeof *g);
}

void
graph_build(const Backend *b, const Graph *g, void **nodes, void **roots)
{
    for (size_t i = 0; i < g->n; i++) {
        nodes[i] = b->node_new();
    }
    for (size_t i = 0; i < g->n; i++) {
        for (int s = 0; s < 2; s++) {
            int32_t t = g->e[2 * i + (size_t)s];
            if (t >= 0) {
                b->set_slot(nodes[i], s, nodes[t]);
            }
        }
    }
    for (size_t k = 0; k < g->nroots; k++) {
        roots[k] = nodes[g->roots[k]];
        nodes[g->roots[k]] = NULL;
    }
    for (size_t i = 0; i < g->n; i++) {
        if (nodes[i] != NULL) {
            b->decref(nodes[i]);
        }
    }
    for (size_t k = 0; k < g->nroots; k++) {
        nodes[g->roots[k]] = roots[k];
    }
}

void
graph_drop_roots(const Backend *b, const Graph *g, void **roots)
{
    for (size_t k = 0; k < g->nroots; k++) {
        b->decref(roots[k]);
        roots[k] = NULL;
    }
}

void
pauselog_init(PauseLog *log, size_t cap)
{
    memset(log, 0, sizeof *log);
    log->ns = xmalloc(cap * sizeof(uint64_t));
    log->gen = xmalloc(cap);
    log->cap = cap;
}

void
pauselog_free(PauseLog *log)
{
    free(log->ns);
    free(log->gen);
    memset(log, 0, sizeof *log);
}
