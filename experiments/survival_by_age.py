# SPDX-License-Identifier: MIT
"""Survival by age: the generational hypothesis on a churn workload.

Each step allocates a 2-node cycle and keeps it (a handle) for a lifetime
drawn from a mix: most objects die young (exponential, mean 200 steps), a
few live long (uniform up to the whole run).  Dropping the handle leaves
cyclic garbage, which only the collector frees.  A weak reference on
every k-th object records when the collector freed it.

The run is deterministic for a seed; it is repeated with --samples seeds
(default 5) and each point is the median over the seeds, with min and max.

Outputs:
  survival_by_age.csv     age (allocations since birth) against the
                          fraction of sampled objects still referenced
                          by the program and the fraction still in memory
  survival_by_gen.csv     per generation: collections, objects examined,
                          collected, and the survival rate
                          1 - collected / examined (from the event log)
  survival_by_age.png     the two curves (log age axis)
"""

import collections
import os
import random

import common
import rcgc


def simulate(steps, seed):
    """One run: (rows per age, rows per generation)."""
    sample_every = 10
    rng = random.Random(seed)
    heap = rcgc.Heap()
    heap.set_threshold(700, 10, 10)   # CPython 3.12's values: more churn
    clock = [0]
    dies = collections.defaultdict(list)   # step -> handles to drop
    samples = {}                            # id -> [birth, dropped, freed]

    def freed(wr, sid):
        samples[sid][2] = clock[0]

    weakrefs = []
    seen = ncoll_seen = 0
    gen = collections.defaultdict(lambda: [0, 0, 0])
    for step in range(steps):
        clock[0] = step
        a, b = heap.node(1), heap.node(1)
        a[0], b[0] = b, a
        life = (int(rng.expovariate(1 / 200)) if rng.random() < 0.95
                else rng.randrange(steps))
        dies[step + life].append(a)
        if step % sample_every == 0:
            sid = len(samples)
            samples[sid] = [step, step + life, None]
            weakrefs.append(a.weakref(lambda wr, sid=sid: freed(wr, sid)))
        del a, b
        dies.pop(step, None)          # drop the handles that die now
        ncoll = sum(s["collections"] for s in heap.get_stats())
        if ncoll == ncoll_seen:
            continue
        ncoll_seen = ncoll
        for e in heap.events():
            if e["seq"] > seen:
                seen = e["seq"]
                g = gen[e["generation"]]
                g[0] += 1
                g[1] += e["examined"]
                g[2] += e["collected"]
    clock[0] = steps
    ages = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000,
            20000, 50000, 100000, 200000]
    ages = [a for a in ages if a < steps]
    rows = []
    for age in ages:
        eligible = [s for s in samples.values() if s[0] + age < steps]
        if not eligible:
            continue
        ref = sum(1 for s in eligible if s[1] > s[0] + age)
        mem = sum(1 for s in eligible
                  if s[2] is None or s[2] > s[0] + age)
        rows.append({"age": age, "samples": len(eligible),
                     "referenced": round(ref / len(eligible), 4),
                     "in_memory": round(mem / len(eligible), 4)})
    grows = []
    for g in sorted(gen):
        c, ex, col = gen[g]
        grows.append({"generation": g, "collections": c, "examined": ex,
                      "collected": col,
                      "survival": round(1 - col / ex, 4) if ex else None})
    dies.clear()
    weakrefs.clear()
    heap.destroy()
    return rows, grows


def main():
    args = common.parse_args(__doc__.splitlines()[0])
    steps = 30000 if args.quick else 300000
    runs = [simulate(steps, seed) for seed in range(1, args.samples + 1)]
    rows = []
    for i, first in enumerate(runs[0][0]):
        row = {"age": first["age"], "samples": first["samples"]}
        for k in ("referenced", "in_memory"):
            common.add_spread(row, k, [r[0][i][k] for r in runs])
        rows.append(row)
    common.write_csv(os.path.join(args.out, "survival_by_age.csv"),
                     ["age", "samples"] +
                     common.with_spread("referenced", "in_memory"), rows)
    grows = []
    for g in sorted({x["generation"] for r in runs for x in r[1]}):
        per = [x for r in runs for x in r[1] if x["generation"] == g]
        row = {"generation": g}
        for k in ("collections", "examined", "collected"):
            common.add_spread(row, k, [x[k] for x in per])
        surv = [x["survival"] for x in per if x["survival"] is not None]
        if surv:
            common.add_spread(row, "survival", surv, 4)
        grows.append(row)
        print("generation %d: %5s collections, survival %s (%s-%s)" % (
            g, row["collections"], row.get("survival"),
            row.get("survival_min"), row.get("survival_max")))
    common.write_csv(os.path.join(args.out, "survival_by_gen.csv"),
                     ["generation"] +
                     common.with_spread("collections", "examined",
                                        "collected", "survival"), grows)
    plt = common.pyplot()
    if plt is None:
        return
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    common.band(ax, rows, "age", "referenced", marker="o",
                label="still referenced by the program")
    common.band(ax, rows, "age", "in_memory", marker="s",
                label="still in memory (not yet collected)")
    ax.set_xscale("log")
    ax.set_xlabel("age (allocations since birth)")
    ax.set_ylabel("fraction surviving")
    ax.set_title("rcgc: survival by age (median of %d seeds, min-max)"
                 % args.samples)
    ax.legend()
    common.save_png(fig, os.path.join(args.out, "survival_by_age.png"))


if __name__ == "__main__":
    main()
