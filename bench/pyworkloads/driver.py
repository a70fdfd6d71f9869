"""driver.py - run the stdlib workloads under each interpreter setup.

Usage: python3 driver.py --launcher BUILD/rcgc-python [--stock PYTHON]
                         [--static BUILD/rcgc-python-static]
                         [--runs N] [--only NAME,...]

Setups, all running the same workload scripts:
  pymalloc   the stock interpreter (/usr/bin/python3.11, CPython's pymalloc)
  malloc     the stock interpreter with PYTHONMALLOC=malloc (glibc)
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
what the workload computed) must be the same under every setup.
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


def setups(stock, launcher, static):
    out = [
        ("pymalloc", stock, {}),
        ("malloc", stock, {"PYTHONMALLOC": "malloc"}),
        ("objalloc", launcher, {}),
        ("pymalloc.so", launcher, {"RCGC_OBJALLOC": "0"}),
    ]
    if static:
        out.insert(3, ("objalloc.a", static, {}))
    return out


def clean_env(extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "RCGC_"))}
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


def measure(stock, launcher, static, runs, only):
    names = [s[0] for s in setups(stock, launcher, static)]
    results = {}  # (workload, setup) -> [(wall, cpu, rss)]
    for r in range(runs):
        order = setups(stock, launcher, static)
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
                 "objalloc: rcgc-python (shared libpython3.11.so); "
                 "objalloc.a: rcgc-python-static (static libpython3.11.a, "
                 "as the stock binary); pymalloc.so: rcgc-python with "
                 "RCGC_OBJALLOC=0 (pymalloc via the shared libpython3.11).")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--launcher", required=True)
    ap.add_argument("--stock", default="/usr/bin/python3.11")
    ap.add_argument("--static", default="")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    only = set(filter(None, args.only.split(",")))
    static = os.path.abspath(args.static) if args.static else ""
    names, results = measure(args.stock, os.path.abspath(args.launcher),
                             static, args.runs, only)
    print(table(names, results, args.runs))


if __name__ == "__main__":
    main()
