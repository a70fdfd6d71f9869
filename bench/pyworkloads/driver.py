# SPDX-License-Identifier: MIT
"""driver.py - run the stdlib workloads under each interpreter setup.

Usage: python3 driver.py --launcher BUILD/rcgc-python [--stock PYTHON]
                         [--static BUILD/rcgc-python-static]
                         [--preloaded BUILD/rcgc-python-stock]
                         [--runs N] [--only NAME,...]

Setups, all running the same workload scripts:
  pymalloc   the stock interpreter (/usr/bin/python3.11, CPython's pymalloc)
  malloc     the stock interpreter with PYTHONMALLOC=malloc (glibc)
  objalloc.stock  rcgc-python-stock (when given): the stock interpreter
             binary itself with librcgc-pyalloc.so preloaded, objalloc for
             MEM and OBJ - the same binary as pymalloc, so this pair
             compares the allocators and nothing else
  pymalloc.stock  rcgc-python-stock with RCGC_OBJALLOC=0: the stock binary
             with the same library preloaded but idle (pymalloc) - the
             control that tells the preload's own cost (one more mapped
             library, a different start-up heap) from the allocator's
  objalloc   rcgc-python: libpython3.11.so with objalloc for MEM and OBJ
  objalloc.a   rcgc-python-static (when given): the static libpython3.11.a
             with objalloc, linked like the stock binary
  pymalloc.so  rcgc-python with RCGC_OBJALLOC=0: pymalloc through the same
             shared libpython as objalloc (Debian's python3.11 binary links
             the interpreter statically; this column separates that effect
             from the allocator's)

For each of N rounds, every workload runs once under every setup, the order
of the setups rotating from round to round (so that drift of the shared
machine spreads over all of them).  Each run is one child process; its
wall time is measured around it and its peak RSS comes from os.wait4's
rusage (ru_maxrss) of that child alone.  The medians over the rounds are
printed as a markdown table on stdout, with ratios to the stock
interpreter; progress goes to stderr.  Every run's stdout (a checksum of
what the workload computed) must be the same under every setup.  Every
run has PYTHONHASHSEED=0, so that all make the same allocations.

A second table states the target - objalloc faster than pymalloc at
no more peak RSS - per binary, objalloc against pymalloc in the same
binary: objalloc.stock / pymalloc (the stock binary), objalloc.stock /
pymalloc.stock (the stock binary, the library preloaded in both) and
objalloc / pymalloc.so (libpython3.11.so).

Reading the peak RSS ratios: they include the program's glibc heap, which
the allocators do not own, and whose layout is sensitive to small
differences in the requests it sees (objalloc served 0-byte requests
itself until 2026-12-06, and ast's heap then settled 0.6 MiB larger at
the peak in most environments) and moves by 100-200 KiB between runs of
compileall; and, for objalloc.stock, the preloaded library's own pages,
which pymalloc.stock shows for the idle library.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOADS = [
    ("json", "json_roundtrip.py", "json dumps/loads round trips, 4-9 MB"),
    ("ast", "ast_parse.py", "ast.parse + walk of ~190 stdlib files"),
    ("compileall", "compile_all.py", "compileall of a copied stdlib subset"),
    ("regex", "regex_text.py", "regex-heavy processing of 4 MB of text"),
]


def setups(stock, launcher, static, preloaded):
    out = [
        ("pymalloc", stock, {}),
        ("malloc", stock, {"PYTHONMALLOC": "malloc"}),
    ]
    if preloaded:
        out.append(("objalloc.stock", preloaded, {"RCGC_STOCK_PYTHON": stock}))
        out.append(("pymalloc.stock", preloaded,
                    {"RCGC_STOCK_PYTHON": stock, "RCGC_OBJALLOC": "0"}))
    out.append(("objalloc", launcher, {}))
    if static:
        out.append(("objalloc.a", static, {}))
    out.append(("pymalloc.so", launcher, {"RCGC_OBJALLOC": "0"}))
    return out

# Issue 8's target, per binary: (label, objalloc setup, pymalloc setup).
TARGET_PAIRS = [
    ("stock python3.11 binary (static libpython, PGO+LTO)",
     "objalloc.stock", "pymalloc"),
    ("the same, librcgc-pyalloc.so preloaded in both",
     "objalloc.stock", "pymalloc.stock"),
    ("libpython3.11.so (rcgc-python)", "objalloc", "pymalloc.so"),
]


def clean_env(extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "RCGC_")) and k != "LD_PRELOAD"}
    # One string hash seed for every run: with a random seed each run
    # builds its dicts and sets differently, so its allocations differ
    # too (peak RSS of one setup varied by 1.5% from run to run, as much
    # as the setups differ); with the same seed, every setup makes the
    # same requests and only the allocator differs.
    env["PYTHONHASHSEED"] = "0"
    env.update(extra)
    return env


def run_once(python, script, env):
    """(wall s, CPU s (user + sys), peak RSS KiB, stdout) of one child."""
    start = time.perf_counter()
    proc = subprocess.Popen([python, os.path.join(HERE, script)], env=env,
                            stdout=subprocess.PIPE)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stdout.close()
    if proc.returncode != 0:
        sys.exit(f"driver: {python} {script} failed ({proc.returncode})")
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, usage.ru_maxrss, out.decode()


def measure(stock, launcher, static, preloaded, runs, only):
    names = [s[0] for s in setups(stock, launcher, static, preloaded)]
    results = {}  # (workload, setup) -> [(wall, cpu, rss)]
    for r in range(runs):
        order = setups(stock, launcher, static, preloaded)
        order = order[r % len(order):] + order[:r % len(order)]
        for wname, script, _ in WORKLOADS:
            if only and wname not in only:
                continue
            outputs = set()
            for sname, python, env in order:
                wall, cpu, rss, out = run_once(python, script,
                                               clean_env(env))
                outputs.add(out)
                results.setdefault((wname, sname), []).append(
                    (wall, cpu, rss))
                print(f"round {r + 1}/{runs} {wname:<10} {sname:<11} "
                      f"{wall:6.2f} s wall {cpu:6.2f} s cpu "
                      f"{rss / 1024:7.1f} MiB", file=sys.stderr)
            if len(outputs) != 1:
                sys.exit(f"driver: {wname}: setups disagree: {outputs}")
    return names, results


def table(names, results, runs):
    lines = [
        f"Python stdlib workloads: median of {runs} alternating runs per "
        "cell (wall time, CPU time = user + sys, peak RSS); ratios are to "
        "the stock interpreter (pymalloc), lower is better.",
        "",
        "| workload | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    geo = {n: [] for n in names}
    for wname, _, desc in WORKLOADS:
        if (wname, names[0]) not in results:
            continue
        base = [statistics.median(x) for x in zip(*results[(wname, names[0])])]
        cells = []
        for n in names:
            med = [statistics.median(x) for x in zip(*results[(wname, n)])]
            ratio = [m / b for m, b in zip(med, base)]
            if n == names[0]:
                cells.append(f"{med[0]:.2f} s wall, {med[1]:.2f} s cpu, "
                             f"{med[2] / 1024:.0f} MiB")
            else:
                cells.append(f"{ratio[0]:.3f}x wall, {ratio[1]:.3f}x cpu, "
                             f"{ratio[2]:.3f}x RSS")
            geo[n].append(ratio)
        lines.append(f"| {wname} ({desc}) | " + " | ".join(cells) + " |")
    cells = []
    for n in names:
        g = [statistics.geometric_mean(col) for col in zip(*geo[n])]
        cells.append(f"{g[0]:.3f}x wall, {g[1]:.3f}x cpu, {g[2]:.3f}x RSS")
    lines.append("| geometric mean | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("pymalloc: /usr/bin/python3.11; malloc: PYTHONMALLOC=malloc; "
                 "objalloc.stock: rcgc-python-stock (the same "
                 "/usr/bin/python3.11 binary, librcgc-pyalloc.so "
                 "preloaded); pymalloc.stock: the same with "
                 "RCGC_OBJALLOC=0 (library preloaded, idle: pymalloc); "
                 "objalloc: rcgc-python (shared libpython3.11.so); "
                 "objalloc.a: rcgc-python-static (static libpython3.11.a, "
                 "not PGO); pymalloc.so: rcgc-python with "
                 "RCGC_OBJALLOC=0 (pymalloc via the shared libpython3.11).")
    return "\n".join(lines)


def target_table(names, results, runs):
    """Issue 8's target: objalloc / pymalloc within one binary."""
    pairs = [p for p in TARGET_PAIRS if p[1] in names and p[2] in names]
    wls = [w for w, _, _ in WORKLOADS if (w, names[0]) in results]
    lines = [
        "Target: objalloc faster than pymalloc on every workload and "
        "<= 0.90x wall on their geometric mean, peak RSS <= 1.00x on each: "
        "objalloc / pymalloc in the same binary (medians of the same "
        f"{runs} alternating runs; below 1 is better). So few runs show a "
        "direction only: bench/pyworkloads/pairs.py runs 24 alternating "
        "pairs with a pymalloc-against-pymalloc control and a sign test.",
        "",
        "| binary | " + " | ".join(wls) + " | geometric mean | target |",
        "|---|" + "---|" * (len(wls) + 2),
    ]
    for label, oa, pm in pairs:
        cells, walls, rsss = [], [], []
        for w in wls:
            o = [statistics.median(x) for x in zip(*results[(w, oa)])]
            p = [statistics.median(x) for x in zip(*results[(w, pm)])]
            walls.append(o[0] / p[0])
            rsss.append(o[2] / p[2])
            cells.append(f"{walls[-1]:.3f}x wall, {rsss[-1]:.3f}x RSS")
        gw = statistics.geometric_mean(walls)
        gr = statistics.geometric_mean(rsss)
        met = gw <= 0.90 and max(walls) < 1.0 and max(rsss) <= 1.0
        verdict = ("met" if met else "missed") + \
            f" (worst wall {max(walls):.3f}x, worst RSS {max(rsss):.3f}x)"
        lines.append(f"| {label}: {oa} / {pm} | " + " | ".join(cells) +
                     f" | {gw:.3f}x wall, {gr:.3f}x RSS | {verdict} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--launcher", required=True)
    ap.add_argument("--stock", default="/usr/bin/python3.11")
    ap.add_argument("--static", default="")
    ap.add_argument("--preloaded", default="")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    only = set(filter(None, args.only.split(",")))
    static = os.path.abspath(args.static) if args.static else ""
    preloaded = os.path.abspath(args.preloaded) if args.preloaded else ""
    names, results = measure(args.stock, os.path.abspath(args.launcher),
                             static, preloaded, args.runs, only)
    print(table(names, results, args.runs))
    print()
    print(target_table(names, results, args.runs))


if __name__ == "__main__":
    main()
