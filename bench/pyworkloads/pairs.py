# SPDX-License-Identifier: MIT
"""pairs.py - CPython on objalloc against the same binary on pymalloc, in
alternating pairs, with a sign test and a pymalloc-against-pymalloc
control measured in the same run.

Usage: python3 pairs.py BUILD/launcher/rcgc-python-stock [--pairs N]
                        [--only json,regex,...]

For each workload (the scripts of this directory) and each of N pairs
(default 24): run the stock interpreter with objalloc preloaded
(rcgc-python-stock) and the same binary with the library idle
(RCGC_OBJALLOC=0), the order alternating from pair to pair; then the
control pair, idle against idle.  Each run is one child process: wall
time around it, peak RSS from os.wait4.  Prints, per workload and pair
kind, the median of the per-pair ratios (first / second), how many pairs
the first was faster in, and the one-sided sign test's p-values (first
faster in at least k pairs; slower in at least N - k), with the median
peak RSS ratio.  Every run has PYTHONHASHSEED=0.
"""
import argparse
import math
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOADS = {"json": "json_roundtrip.py", "ast": "ast_parse.py",
             "compileall": "compile_all.py", "regex": "regex_text.py"}
OBJALLOC = {}
PYMALLOC = {"RCGC_OBJALLOC": "0"}


def run(launcher, script, extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "RCGC_")) and k != "LD_PRELOAD"}
    env["PYTHONHASHSEED"] = "0"
    env.update(extra)
    start = time.perf_counter()
    proc = subprocess.Popen([launcher, os.path.join(HERE, script)], env=env,
                            stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"pairs: {script} failed under {extra or 'objalloc'}")
    return time.perf_counter() - start, usage.ru_maxrss


def sign_p(k, n):
    """P(X >= k) for X ~ Binomial(n, 1/2)."""
    return sum(math.comb(n, i) for i in range(k, n + 1)) / 2 ** n


def measure(launcher, script, npairs):
    kinds = {"objalloc/pymalloc": (OBJALLOC, PYMALLOC),
             "pymalloc/pymalloc (control)": (PYMALLOC, PYMALLOC)}
    out = {}
    for label, (first, second) in kinds.items():
        wall, rss = [], []
        for i in range(npairs):
            order = [(0, first), (1, second)]
            if i % 2:
                order.reverse()
            r = {}
            for idx, env in order:
                r[idx] = run(launcher, script, env)
            wall.append(r[0][0] / r[1][0])
            rss.append(r[0][1] / r[1][1])
            print(f"pairs: {script} {label} {i + 1}/{npairs}",
                  file=sys.stderr)
        out[label] = (wall, rss)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("launcher")
    ap.add_argument("--pairs", type=int, default=24)
    ap.add_argument("--only", default=",".join(WORKLOADS))
    args = ap.parse_args()
    print("| workload | pair | wall (median ratio) | first faster in | "
          "p (faster) | p (slower) | peak RSS (median ratio) |")
    print("|---|---|---|---|---|---|---|")
    for name in args.only.split(","):
        res = measure(args.launcher, WORKLOADS[name], args.pairs)
        for label, (wall, rss) in res.items():
            k = sum(x < 1 for x in wall)
            n = len(wall)
            print(f"| {name} | {label} | {statistics.median(wall):.3f} | "
                  f"{k}/{n} | {sign_p(k, n):.3f} | {sign_p(n - k, n):.3f} | "
                  f"{statistics.median(rss):.3f} |", flush=True)


if __name__ == "__main__":
    main()
