# SPDX-License-Identifier: MIT
"""Threshold sweep: throughput against pause against peak memory.

A churn workload runs once per generation-0 threshold and pacing mode
('fixed': the thresholds as set; 'adaptive': the pacing follows the yield
of the collections, Heap.set_pacing - young passes that would find little
move on unexamined, threshold2 within 1x..8x of the base): a live random
graph (the long-lived heap), then batches of small garbage rings (3
nodes, made in C) with automatic collection on.  For each: allocation
throughput (nodes per second, wall clock, collections included), the
number of collections, the longest and mean pause (event log), the peak
memory the heap took from the system (arenas high-water), the young
passes adaptive pacing skipped and threshold2 in force at the end.

The workload runs --samples times (default 5) per threshold and mode,
interleaved round by round; each value is the median over the runs, with
min and max.

Output: threshold_sweep.csv and threshold_sweep.png (three panels against
the base threshold, log x, one line per pacing mode, min-max error bars).
"""

import os
import time

import common
import rcgc

PACINGS = ("fixed", "adaptive")


def run(threshold, pacing, live, batches, rings_per_batch):
    with rcgc.Heap() as heap:
        heap.set_threshold(threshold)
        heap.set_pacing(pacing)
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
        stats = heap.get_stats()
        row = {
            "threshold0": threshold,
            "pacing": pacing,
            "nodes_allocated": made,
            "throughput_nodes_per_s": int(made / elapsed),
            "collections": len(pauses),
            "max_pause_ns": max(pauses) if pauses else 0,
            "mean_pause_ns": int(sum(pauses) / len(pauses)) if pauses else 0,
            "peak_bytes": common.peak_bytes(heap),
            "young_skipped": stats[0]["skipped"],
            "threshold2_in_force": stats[2]["threshold"],
        }
        del roots
        return row


MEASURED = ("throughput_nodes_per_s", "collections", "max_pause_ns",
            "mean_pause_ns", "peak_bytes", "young_skipped",
            "threshold2_in_force")


def main():
    args = common.parse_args(__doc__.splitlines()[0])
    if args.quick:
        live, batches, per = 20000, 100, 300
    else:
        live, batches, per = 200000, 400, 1000
    thresholds = (100, 300, 700, 2000, 5000, 10000, 30000, 100000)
    cells = [(t, p) for t in thresholds for p in PACINGS]
    runs = {c: [] for c in cells}
    for _ in range(args.samples):          # rounds: drift hits all alike
        for t, p in cells:
            runs[(t, p)].append(run(t, p, live, batches, per))
    rows = []
    for t, p in cells:
        row = {"threshold0": t, "pacing": p,
               "nodes_allocated": runs[(t, p)][0]["nodes_allocated"]}
        for k in MEASURED:
            common.add_spread(row, k, [r[k] for r in runs[(t, p)]])
        rows.append(row)
        print("threshold %6d %-8s: %9d nodes/s, %5d collections, max "
              "pause %8.3f ms, peak %6.1f MiB, %d skipped" % (
                  t, p, row["throughput_nodes_per_s"], row["collections"],
                  row["max_pause_ns"] / 1e6, row["peak_bytes"] / 2**20,
                  row["young_skipped"]))
    fields = (["threshold0", "pacing", "nodes_allocated"] +
              common.with_spread(*MEASURED))
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
        for p in PACINGS:
            mine = [r for r in rows if r["pacing"] == p]
            common.errorbar(ax, mine, "threshold0", key, scale, label=p)
        ax.legend()
        ax.set_xscale("log")
        ax.set_xlabel("base generation-0 threshold")
        ax.set_ylabel(label)
    fig.suptitle("rcgc: threshold sweep on a churn workload, both pacing "
                 "modes (median of %d, min-max)" % args.samples)
    common.save_png(fig, os.path.join(args.out, "threshold_sweep.png"))


if __name__ == "__main__":
    main()
