# SPDX-License-Identifier: MIT
"""Pause distribution against heap size, stop-the-world and pause-bounded.

For each live heap size and mode, --samples times (default 5): a fresh
heap with automatic collection on holds a live random graph (out-degree
2); the program then runs batches, each of which rewrites random slots of
the live graph (a sample of its nodes along the spine) and makes rings of
4 nodes that it holds for HOLD batches before dropping them, so that they
reach the old generation first and die there.  Every collection and every increment in the event log
during the batches is a pause; a run gives their maximum, 99th percentile
and median.  Modes: 'stop-the-world' (no pause budget) and 'bounded'
(Heap.set_pause_budget(2000): the old generation in increments of about
2 ms).  Each point is the median over the samples, with min and max.

Output: pause_modes.csv and pause_modes.png (max, p99 and p50 pause
against live nodes, log-log, one line per mode, min-max error bars).
"""

import collections
import os
import random

import common
import rcgc

MODES = (("stop-the-world", 0), ("bounded", 2000))
HOLD = 40
MEASURED = ("max_pause_ns", "p99_pause_ns", "p50_pause_ns", "pauses",
            "peak_bytes")


def percentile(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))] if v else 0


def run(n, budget, batches, seed):
    rng = random.Random(seed)
    with rcgc.Heap() as heap:
        heap.set_pause_budget(budget)
        roots = heap.random_graph(n, 2, seed=seed)
        # every 64th node along the spine (slot 0): the handles the
        # program rewrites through
        sample, node, i = [], roots[0], 0
        while node is not None and len(sample) < 512:
            if i % 64 == 0:
                sample.append(node)
            node, i = node[0], i + 1
        seen = max((e["seq"] for e in heap.events()), default=0)
        pauses, held = [], collections.deque()
        for _ in range(batches):
            for _ in range(64):
                a, b = rng.choice(sample), rng.choice(sample)
                a[1] = b
            held.append(heap.rings(256, 4))
            if len(held) > HOLD:
                held.popleft()
            for e in heap.events():
                if e["seq"] > seen:
                    pauses.append(e["pause_ns"])
                    seen = e["seq"]
        row = {
            "max_pause_ns": max(pauses, default=0),
            "p99_pause_ns": percentile(pauses, 0.99),
            "p50_pause_ns": percentile(pauses, 0.50),
            "pauses": len(pauses),
            "peak_bytes": common.peak_bytes(heap),
        }
        del sample, node, roots, held
        return row


def main():
    args = common.parse_args(__doc__.splitlines()[0])
    if args.quick:
        sizes, batches = [10000, 30000, 100000], 400
    else:
        sizes, batches = [100000, 300000, 1000000, 4000000], 1500
    cells = [(n, m) for n in sizes for m in MODES]
    runs = {c: [] for c in cells}
    for s in range(args.samples):          # rounds: drift hits all alike
        for n, m in cells:
            runs[(n, m)].append(run(n, m[1], batches, seed=s + 1))
    rows = []
    for n, (mode, budget) in cells:
        row = {"nodes": n, "mode": mode, "budget_us": budget}
        for k in MEASURED:
            common.add_spread(row, k, [r[k] for r in runs[(n, (mode,
                                                                budget))]])
        rows.append(row)
        print("%8d nodes %-14s: max %8.3f ms, p99 %8.3f ms, p50 %8.3f ms, "
              "%d pauses" % (n, mode, row["max_pause_ns"] / 1e6,
                             row["p99_pause_ns"] / 1e6,
                             row["p50_pause_ns"] / 1e6, row["pauses"]))
    common.write_csv(os.path.join(args.out, "pause_modes.csv"),
                     ["nodes", "mode", "budget_us"] +
                     common.with_spread(*MEASURED), rows)
    plt = common.pyplot()
    if plt is None:
        return
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8))
    for ax, (label, key) in zip(axes, (("max pause (ms)", "max_pause_ns"),
                                       ("p99 pause (ms)", "p99_pause_ns"),
                                       ("p50 pause (ms)", "p50_pause_ns"))):
        for mode, _ in MODES:
            mine = [r for r in rows if r["mode"] == mode]
            common.errorbar(ax, mine, "nodes", key, 1e-6, label=mode)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("live nodes")
        ax.set_ylabel(label)
        ax.legend()
    fig.suptitle("rcgc: pauses while mutating a live graph, both modes "
                 "(median of %d, min-max)" % args.samples)
    common.save_png(fig, os.path.join(args.out, "pause_modes.png"))


if __name__ == "__main__":
    main()
