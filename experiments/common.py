"""Shared helpers for the rcgc experiments.

Every experiment script takes --out DIR (default experiments/out) and
--quick (small sizes, for `make experiments` and smoke runs), writes its
table as CSV, and, when matplotlib is importable, a PNG of the figure.
Without matplotlib it says so once and writes CSV only.

The scripts import rcgc from the installed package or, when the
environment variable RCGC_PYTHONPATH or a built tree is found, from
there (scripts/experiments.sh builds the extension first).
"""

import argparse
import csv
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

try:
    import rcgc  # noqa: F401
except ImportError:  # run from a source tree after build_ext --inplace
    sys.path.insert(0, os.path.join(ROOT, "pyext"))
    import rcgc  # noqa: F401


def parse_args(description, extra=None):
    """Parse --out and --quick (and the script's own options)."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--out", default=os.path.join(HERE, "out"),
                   help="output directory (default: experiments/out)")
    p.add_argument("--quick", action="store_true",
                   help="small sizes: a few seconds per script")
    if extra is not None:
        extra(p)
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    return args


def write_csv(path, fields, rows):
    """Write rows (dicts) with the given column order; print the path."""
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in fields})
    print("wrote", os.path.relpath(path))


_warned = False


def pyplot():
    """matplotlib.pyplot with the Agg backend, or None (noted once)."""
    global _warned
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        return plt
    except ImportError:
        if not _warned:
            print("note: matplotlib is not importable: CSV only, no PNG "
                  "(Debian: apt-get install python3-matplotlib, for "
                  "/usr/bin/python3)")
            _warned = True
        return None


def save_png(fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print("wrote", os.path.relpath(path))


def now_ns():
    return time.perf_counter_ns()


def last_event(heap):
    """The most recent collection in heap's event log."""
    ev = heap.events()
    return ev[-1] if ev else None


def peak_bytes(heap):
    """High-water memory the heap took from the system, in bytes."""
    st = heap.alloc_stats()
    return st["arenas_highwater"] * rcgc.ARENA_SIZE + st["large_bytes"]
