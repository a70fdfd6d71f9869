"""Threshold sweep: throughput against pause against peak memory.

A churn workload runs once per generation-0 threshold and pacing mode
('fixed': the thresholds as set; 'adaptive': the pacing follows the yield
of the collections, Heap.set_pacing - young passes that would find little
move on unexamined, threshold2 within 1x..8x of the base): a
live random graph (the long-lived heap), then batches of small garbage
rings (3 nodes, made in C) with automatic collection on.  For each: allocation
throughput (nodes per second, wall clock, collections included), the
number of collections, the longest and mean pause (event log), and the
peak memory the heap took from the system (arenas high-water), the
young passes adaptive pacing skipped and threshold2 in force at the end.

Output: threshold_sweep.csv and threshold_sweep.png (three panels against
the base threshold, log x, one line per pacing mode).
"""

import os
import time

import common
import rcgc


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
        row = {
            "threshold0": threshold,
            "pacing": pacing,
            "young_skipped": heap.get_stats()[0]["skipped"],
            "threshold2_in_force": heap.get_stats()[2]["threshold"],
            "nodes_allocated": made,
            "throughput_nodes_per_s": int(made / elapsed),
            "collections": len(pauses),
            "max_pause_ns": max(pauses) if pauses else 0,
            "mean_pause_ns": int(sum(pauses) / len(pauses)) if pauses else 0,
            "peak_bytes": common.peak_bytes(heap),
        }
        del roots
        return row


def main():
    args = common.parse_args(__doc__.splitlines()[0])
    if args.quick:
        live, batches, per = 20000, 100, 300
    else:
        live, batches, per = 200000, 400, 1000
    rows = []
    for t in (100, 300, 700, 2000, 5000, 10000, 30000, 100000):
        for pacing in ("fixed", "adaptive"):
            rows.append(run(t, pacing, live, batches, per))
            r = rows[-1]
            print("threshold %6d %-8s: %9d nodes/s, %5d collections, max "
                  "pause %8.3f ms, peak %6.1f MiB, %d skipped" % (
                      t, pacing, r["throughput_nodes_per_s"],
                      r["collections"], r["max_pause_ns"] / 1e6,
                      r["peak_bytes"] / 2**20, r["young_skipped"]))
    fields = ["threshold0", "pacing", "young_skipped", "threshold2_in_force",
              "nodes_allocated", "throughput_nodes_per_s",
              "collections", "max_pause_ns", "mean_pause_ns", "peak_bytes"]
    common.write_csv(os.path.join(args.out, "threshold_sweep.csv"), fields,
                     rows)
    plt = common.pyplot()
    if plt is None:
        return
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8))
    series = [
        ("throughput (Mnodes/s)", lambda r: r["throughput_nodes_per_s"] / 1e6),
        ("max pause (ms)", lambda r: r["max_pause_ns"] / 1e6),
        ("peak memory (MiB)", lambda r: r["peak_bytes"] / 2**20),
    ]
    for ax, (label, f) in zip(axes, series):
        for pacing in ("fixed", "adaptive"):
            mine = [r for r in rows if r["pacing"] == pacing]
            ax.plot([r["threshold0"] for r in mine], [f(r) for r in mine],
                    marker="o", label=pacing)
        ax.legend()
        ax.set_xscale("log")
        ax.set_xlabel("generation-0 threshold")
        ax.set_ylabel(label)
    fig.suptitle("rcgc: threshold sweep on a churn workload")
    common.save_png(fig, os.path.join(args.out, "threshold_sweep.png"))


if __name__ == "__main__":
    main()
