# SPDX-License-Identifier: MIT
"""Shared helpers for the rcgc experiments.

Every experiment script takes --out DIR (default experiments/out),
--quick (small sizes, for `make experiments` and smoke runs) and
--samples N (default and minimum 5), writes its table as CSV, and, when
matplotlib is importable, a PNG of the figure.  Without matplotlib it says
so once and writes CSV only (scripts/experiments.sh picks a Python that
has it when one is installed).

Every plotted point is the median of N samples (N runs of the measurement,
or N seeds where the measurement itself is deterministic), drawn with its
spread (min to max: error bars or a band); the CSV has the median under
the measurement's name and the spread as <name>_min and <name>_max.

The scripts import rcgc from the installed package or, when the
environment variable RCGC_PYTHONPATH or a built tree is found, from
there (scripts/experiments.sh builds the extension first).
"""

import argparse
import csv
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

try:
    import rcgc  # noqa: F401
except ImportError:  # run from a source tree after build_ext --inplace
    sys.path.insert(0, os.path.join(ROOT, "pyext"))
    import rcgc  # noqa: F401


MIN_SAMPLES = 5


def parse_args(description, extra=None):
    """Parse --out and --quick (and the script's own options)."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--out", default=os.path.join(HERE, "out"),
                   help="output directory (default: experiments/out)")
    p.add_argument("--quick", action="store_true",
                   help="small sizes: a few seconds per script")
    p.add_argument("--samples", type=int, default=MIN_SAMPLES,
                   help="samples per point, their median plotted "
                        "(default and minimum %d)" % MIN_SAMPLES)
    if extra is not None:
        extra(p)
    args = p.parse_args()
    if args.samples < MIN_SAMPLES:
        p.error("--samples must be at least %d" % MIN_SAMPLES)
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


def spread(values):
    """(median, min, max) of a list of samples."""
    return statistics.median(values), min(values), max(values)


def add_spread(row, name, values, digits=None):
    """Put the median of values in row[name], min and max beside it."""
    med, lo, hi = spread(values)
    if digits is not None:
        med, lo, hi = (round(v, digits) for v in (med, lo, hi))
    row[name], row[name + "_min"], row[name + "_max"] = med, lo, hi
    return row


def with_spread(*names):
    """CSV columns: each name followed by name_min and name_max."""
    out = []
    for n in names:
        out += [n, n + "_min", n + "_max"]
    return out


def errorbar(ax, rows, x, name, scale=1.0, **kw):
    """Plot rows' medians of `name` against `x`, spread as error bars."""
    xs = [r[x] for r in rows]
    med = [r[name] * scale for r in rows]
    lo = [m - r[name + "_min"] * scale for m, r in zip(med, rows)]
    hi = [r[name + "_max"] * scale - m for m, r in zip(med, rows)]
    kw.setdefault("marker", "o")
    kw.setdefault("capsize", 3)
    return ax.errorbar(xs, med, yerr=[lo, hi], **kw)


def band(ax, rows, x, name, scale=1.0, label=None, **kw):
    """Plot the medians of `name` as a line and the spread as a band."""
    xs = [r[x] for r in rows]
    line, = ax.plot(xs, [r[name] * scale for r in rows], label=label, **kw)
    ax.fill_between(xs, [r[name + "_min"] * scale for r in rows],
                    [r[name + "_max"] * scale for r in rows],
                    color=line.get_color(), alpha=0.25, linewidth=0)
    return line
