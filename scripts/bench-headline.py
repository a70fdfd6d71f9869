#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The headline benchmark table of README.md, taken from bench/RESULTS.md.

README.md carries a few rows of the published benchmark run (the rest is
in bench/RESULTS.md).  This script picks those rows (HEADLINE below: the
table's heading and a pattern for the row's workload) out of RESULTS.md,
with the run's date, and writes them between the markers
<!-- headline:begin --> and <!-- headline:end --> of README.md.  Run by
`make bench-publish` after it copies a run to bench/RESULTS.md, so the
README never shows numbers of another run than RESULTS.md.

Usage: bench-headline.py [--check] [RESULTS.md [README.md]]
  --check   only compare: exit 1 when README.md's table is not the one
            RESULTS.md gives
"""

import re
import sys

# (start of the table's heading in RESULTS.md, a regular expression that
# matches the start of the row's workload cell, label or None)
HEADLINE = [
    ("Allocator: real programs", "time: geometric mean",
     "six stdlib programs' allocation traces replayed (geometric mean)"),
    ("Allocator: speed", "LIFO, every class", None),
    ("Allocator: speed", r"churn .*CPython-like", None),
    ("Allocator: memory kept", "RSS kept after freeing the oldest 90%", None),
    ("Collector: identical graphs", "1M rings of 10, all garbage", None),
    ("Collector: identical graphs", "1M live tree: 1st full collection",
     None),
    ("Collector: identical graphs",
     "1M live random graph: 1st full collection", None),
    ("Collector: identical graphs",
     "1M live random graph: teardown", None),
    ("Collector: young generation", "gen-0 pause p99", None),
    ("Memory: live random graph", "1M nodes: peak RSS over base", None),
]
BEGIN, END = "<!-- headline:begin -->", "<!-- headline:end -->"


def tables(text):
    """{heading: (column names, [rows as lists of cells])}."""
    out, heading, cols = {}, None, None
    for line in text.splitlines():
        if line.startswith("#"):
            heading, cols = line.lstrip("#").strip(), None
        elif line.startswith("|") and heading is not None:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if cols is None:
                cols = cells
                out[heading] = (cols, [])
            elif not set(line) <= set("|-: "):
                out[heading][1].append(cells)
    return out


def cell(text):
    """'2.89 (2.80–3.67) **1.00×**' -> ('2.89', '1.00×')."""
    m = re.match(r"(\S+)(?: \([^)]*\))? \*\*([^*]+)\*\*", text)
    if m is None:
        raise ValueError("unexpected cell %r" % text)
    return m.group(1), m.group(2)


def headline(results):
    m = re.search(r"Produced by `[^`]*` on (\d{4}-\d\d-\d\d \d\d:\d\d UTC)",
                  results)
    if m is None:
        raise ValueError("RESULTS.md names no date ('Produced by ... on')")
    found = tables(results)
    lines = [
        "Measured by `make bench` on %s (published in "
        "[bench/RESULTS.md](bench/RESULTS.md), with every other row, the "
        "spreads and the machine); ratio = rcgc / reference in the same "
        "run, below 1 is better." % m.group(1),
        "",
        "| benchmark | unit | reference | rcgc | ratio |",
        "|---|---|---|---|---|",
    ]
    for heading, start, label in HEADLINE:
        key = next((h for h in found if h.startswith(heading)), None)
        if key is None:
            raise ValueError("RESULTS.md has no table '%s'" % heading)
        cols, rows = found[key]
        row = next((r for r in rows if re.match(start, r[0])), None)
        if row is None:
            raise ValueError("table '%s' has no row '%s'" % (key, start))
        ref_name = cols[2]
        ours = "objalloc" if "objalloc" in cols else "rcgc"
        ref_val, _ = cell(row[2])
        our_val, ratio = cell(row[cols.index(ours)])
        lines.append("| %s | %s | %s %s | %s %s | **%s** |" % (
            label or row[0], row[1], ref_name, ref_val, ours, our_val,
            ratio))
    return "\n".join(lines) + "\n"


def main(argv):
    check = "--check" in argv
    args = [a for a in argv if a != "--check"]
    results_path = args[0] if args else "bench/RESULTS.md"
    readme_path = args[1] if len(args) > 1 else "README.md"
    with open(results_path, encoding="utf-8") as f:
        table = headline(f.read())
    with open(readme_path, encoding="utf-8") as f:
        readme = f.read()
    if BEGIN not in readme or END not in readme:
        sys.exit("bench-headline: %s has no %s ... %s markers"
                 % (readme_path, BEGIN, END))
    head, rest = readme.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    new = head + BEGIN + "\n" + table + END + tail
    if check:
        if new != readme:
            sys.exit("bench-headline: %s's table is not %s's (run "
                     "scripts/bench-headline.py)" % (readme_path,
                                                     results_path))
        return
    if new != readme:
        with open(readme_path, "w", encoding="utf-8") as f:
            f.write(new)
        print("bench-headline: updated the headline table of %s"
              % readme_path)


if __name__ == "__main__":
    main(sys.argv[1:])
