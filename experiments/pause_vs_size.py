# SPDX-License-Identifier: MIT
"""Pause against heap size, for each graph shape.

For each shape and size, --samples times (default 5): a fresh heap
(automatic collection off), the shape built in C, then one full
collection; its pause, objects examined and freed come from the heap's
event log.  Each point is the median pause, with min and max.  Shapes:

  tree-live      a complete binary tree held by its root (all survive)
  random-live    random graph, out-degree 3, all live
  random-garbage random graph, out-degree 3, 50 % garbage
  rings-garbage  rings of 8 nodes, all garbage (every node freed)

Output: pause_vs_size.csv (shape, nodes, pause_ns with its _min and _max,
ns_per_node (of the median), examined, collected) and pause_vs_size.png
(pause in ms against nodes, log-log, min-max error bars).
"""

import os

import common
import rcgc


def build(heap, shape, n):
    if shape == "tree-live":
        depth = max(0, n.bit_length() - 2)    # 2^(depth+1) - 1 ~ n nodes
        return heap.tree(depth, 2)
    if shape == "random-live":
        return heap.random_graph(n, 3, seed=1)
    if shape == "random-garbage":
        return heap.random_graph(n, 3, seed=1, garbage_fraction=0.5)
    if shape == "rings-garbage":
        heap.rings(max(1, n // 8), 8)
        return []
    raise ValueError(shape)


SHAPES = ("tree-live", "random-live", "random-garbage", "rings-garbage")


def measure(shape, n):
    """One sample: a fresh heap, the shape, one full collection's event."""
    with rcgc.Heap() as heap:
        heap.disable()
        roots = build(heap, shape, n)
        nodes = heap.live_nodes
        heap.collect(2)
        ev = common.last_event(heap)
        del roots
    return nodes, ev


def main():
    args = common.parse_args(__doc__.splitlines()[0])
    sizes = ([1000, 4000, 16000, 64000] if args.quick else
             [1000, 4000, 16000, 64000, 256000, 1000000])
    rows = []
    for shape in SHAPES:
        for n in sizes:
            samples = [measure(shape, n) for _ in range(args.samples)]
            nodes, ev = samples[0]
            row = {"shape": shape, "nodes": nodes,
                   "examined": ev["examined"], "collected": ev["collected"]}
            common.add_spread(row, "pause_ns",
                              [e["pause_ns"] for _, e in samples])
            row["ns_per_node"] = round(row["pause_ns"] / max(1, nodes), 2)
            rows.append(row)
            print("%-15s %8d nodes  %10.3f ms (%.3f-%.3f)" % (
                shape, nodes, row["pause_ns"] / 1e6,
                row["pause_ns_min"] / 1e6, row["pause_ns_max"] / 1e6))
    common.write_csv(os.path.join(args.out, "pause_vs_size.csv"),
                     ["shape", "nodes"] + common.with_spread("pause_ns") +
                     ["ns_per_node", "examined", "collected"], rows)
    plt = common.pyplot()
    if plt is None:
        return
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for shape in SHAPES:
        pts = [r for r in rows if r["shape"] == shape]
        common.errorbar(ax, pts, "nodes", "pause_ns", 1e-6, label=shape)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("nodes in the heap")
    ax.set_ylabel("full collection pause (ms)")
    ax.set_title("rcgc: pause against heap size (median of %d, min-max)"
                 % args.samples)
    ax.legend()
    common.save_png(fig, os.path.join(args.out, "pause_vs_size.png"))


if __name__ == "__main__":
    main()
