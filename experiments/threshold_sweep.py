# SPDX-License-Identifier: MIT
"""Threshold sweep: throughput against pause against peak memory.

A churn workload runs once per generation-0 threshold: a live random graph
(the long-lived heap), then batches of small garbage rings (3 nodes, made
in C) with automatic collection on.  For each threshold: allocation
throughput (nodes per second, wall clock, collections included), the
number of collections, the longest and mean pause (event log), and the
peak memory the heap took from the system (arenas high-water).

The workload runs --samples times (default 5) per threshold, the
thresholds interleaved round by round; each value is the median over the
runs, with min and max.

Output: threshold_sweep.csv and threshold_sweep.png (three panels against
the threshold, log x, min-max error bars).
"""

import os
import time

import common
import rcgc


def run(threshold, live, batches, rings_per_batch):
    with rcgc.Heap() as heap:
        heap.set_threshold(threshold)
        roots = heap.random_graph(live, 3, seed=42)
        seen, pauses = 0, []
        t0 = time.perf_counter()
        for _ in range(batches):
            heap.rings(rings_per_batch, 3)
            for e in heap.events():
                if e["seq"] > seen:
                    pauses.append(e["pause_ns"])
                    seen = e["seq"]
        elapsed = time.perf_counter() - t0
        made = batches * rings_per_batch * 3
        row = {
            "threshold0": threshold,
            "nodes_allocated": made,
            "throughput_nodes_per_s": int(made / elapsed),
            "collections": len(pauses),
            "max_pause_ns": max(pauses) if pauses else 0,
            "mean_pause_ns": int(sum(pauses) / len(pauses)) if pauses else 0,
            "peak_bytes": common.peak_bytes(heap),
        }
        del roots
        return row


MEASURED = ("throughput_nodes_per_s", "collections", "max_pause_ns",
            "mean_pause_ns", "peak_bytes")


def main():
    args = common.parse_args(__doc__.splitlines()[0])
    if args.quick:
        live, batches, per = 20000, 100, 300
    else:
        live, batches, per = 200000, 400, 1000
    thresholds = (100, 300, 700, 2000, 5000, 10000, 30000, 100000)
    runs = {t: [] for t in thresholds}
    for _ in range(args.samples):          # rounds: drift hits all alike
        for t in thresholds:
            runs[t].append(run(t, live, batches, per))
    rows = []
    for t in thresholds:
        row = {"threshold0": t,
               "nodes_allocated": runs[t][0]["nodes_allocated"]}
        for k in MEASURED:
            common.add_spread(row, k, [r[k] for r in runs[t]])
        rows.append(row)
        print("threshold %6d: %9d nodes/s, %5d collections, max pause "
              "%8.3f ms, peak %6.1f MiB" % (
                  t, row["throughput_nodes_per_s"], row["collections"],
                  row["max_pause_ns"] / 1e6, row["peak_bytes"] / 2**20))
    fields = ["threshold0", "nodes_allocated"] + common.with_spread(*MEASURED)
    common.write_csv(os.path.join(args.out, "threshold_sweep.csv"), fields,
                     rows)
    plt = common.pyplot()
    if plt is None:
        return
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8))
    series = [
        ("throughput (Mnodes/s)", "throughput_nodes_per_s", 1e-6),
        ("max pause (ms)", "max_pause_ns", 1e-6),
        ("peak memory (MiB)", "peak_bytes", 1 / 2**20),
    ]
    for ax, (label, key, scale) in zip(axes, series):
        common.errorbar(ax, rows, "threshold0", key, scale)
        ax.set_xscale("log")
        ax.set_xlabel("generation-0 threshold")
        ax.set_ylabel(label)
    fig.suptitle("rcgc: threshold sweep on a churn workload (median of %d, "
                 "min-max)" % args.samples)
    common.save_png(fig, os.path.join(args.out, "threshold_sweep.png"))


if __name__ == "__main__":
    main()
