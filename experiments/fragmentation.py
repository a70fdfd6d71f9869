# SPDX-License-Identifier: MIT
"""Fragmentation over time: blocks used against pools held against arenas.

Three phases on one heap, sampled every few hundred operations:
  grow     allocate nodes with random payloads (0..400 bytes: many size
           classes), all kept;
  thin     free a random 90 % of them (no cycles: refcount frees them at
           once) - used blocks fall, pools and arenas stay, stranded bytes
           (free space inside partly used pools) rise;
  regrow   allocate again: the holes are reused before new pools.

The run is deterministic for a seed; it is repeated with --samples seeds
(default 5) and each value is the median over the seeds (min and max
beside it, drawn as a band).

Output: fragmentation.csv (step, phase, blocks_used, bytes_used,
bytes_stranded, pools_full, pools_used, pools_empty, pool_bytes, arenas,
bytes_mapped) and fragmentation.png (bytes used / held in pools / mapped).
"""

import os
import random

import common
import rcgc


FIELDS = ["step", "phase", "blocks_used", "bytes_used", "bytes_stranded",
          "pools_full", "pools_used", "pools_empty", "pool_bytes",
          "arenas", "bytes_mapped"]


def sample(heap, step, phase):
    st = heap.alloc_stats()
    row = {k: st[k] for k in FIELDS if k in st}
    row["step"], row["phase"] = step, phase
    row["pool_bytes"] = (st["pools_full"] + st["pools_used"]) * \
        rcgc.POOL_SIZE
    return row


def simulate(n, seed):
    """One run: a sample row every n / 100 operations."""
    every = max(1, n // 100)
    rng = random.Random(seed)
    rows, step = [], 0
    with rcgc.Heap() as heap:
        heap.disable()
        keep = []
        for i in range(n):
            keep.append(heap.node(0, rng.randrange(0, 401)))
            step += 1
            if step % every == 0:
                rows.append(sample(heap, step, "grow"))
        order = list(range(n))
        rng.shuffle(order)
        for j, i in enumerate(order[: n * 9 // 10]):
            keep[i] = None
            step += 1
            if step % every == 0:
                rows.append(sample(heap, step, "thin"))
        for i in range(n // 2):
            keep.append(heap.node(0, rng.randrange(0, 401)))
            step += 1
            if step % every == 0:
                rows.append(sample(heap, step, "regrow"))
        del keep
    return rows


MEASURED = [f for f in FIELDS if f not in ("step", "phase")]


def main():
    args = common.parse_args(__doc__.splitlines()[0])
    n = 40000 if args.quick else 400000
    runs = [simulate(n, seed) for seed in range(5, 5 + args.samples)]
    rows = []
    for i, first in enumerate(runs[0]):
        row = {"step": first["step"], "phase": first["phase"]}
        for k in MEASURED:
            common.add_spread(row, k, [r[i][k] for r in runs])
        rows.append(row)
    common.write_csv(os.path.join(args.out, "fragmentation.csv"),
                     ["step", "phase"] + common.with_spread(*MEASURED),
                     rows)
    last = {r["phase"]: r for r in rows}
    for ph in ("grow", "thin", "regrow"):
        r = last[ph]
        print("end of %-6s: used %6.1f MiB, in pools %6.1f MiB, mapped "
              "%6.1f MiB, stranded %6.1f MiB" % (
                  ph, r["bytes_used"] / 2**20, r["pool_bytes"] / 2**20,
                  r["bytes_mapped"] / 2**20, r["bytes_stranded"] / 2**20))
    plt = common.pyplot()
    if plt is None:
        return
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for key, label in (("bytes_used", "blocks used"),
                       ("pool_bytes", "held in pools"),
                       ("bytes_mapped", "arenas mapped"),
                       ("bytes_stranded", "stranded (free in used pools)")):
        common.band(ax, rows, "step", key, 1 / 2**20, label=label)
    ax.set_xlabel("operation")
    ax.set_ylabel("MiB")
    ax.set_title("rcgc: fragmentation over time (grow, thin 90 %%, regrow;"
                 "\nmedian of %d seeds, min-max)" % args.samples)
    ax.legend()
    common.save_png(fig, os.path.join(args.out, "fragmentation.png"))


if __name__ == "__main__":
    main()
