# SPDX-License-Identifier: MIT
"""ast.parse of many standard library files.

Parses every .py file of the standard library's top level (names a-l) and of a few
packages (the same list on every run: sorted paths), walks each tree and
counts its nodes by type.  The trees of the last 200 files stay alive, so
the heap holds a realistic working set.  Prints the node counts' checksum.
With --small: top-level names a-b and two packages (for cgcompare.py,
under Valgrind).
"""
import ast
import collections
import os
import sys
import zlib

SMALL = "--small" in sys.argv[1:]
PACKAGES = ["email", "json"] if SMALL else [
    "email", "json", "http", "xml", "asyncio", "logging", "unittest"]
LAST = "c" if SMALL else "m"  # top-level files named below this


def stdlib_files():
    root = os.path.dirname(os.__file__)
    files = [os.path.join(root, f) for f in os.listdir(root)
             if f.endswith(".py") and f < LAST]
    for pkg in PACKAGES:
        for dirpath, dirnames, names in os.walk(os.path.join(root, pkg)):
            dirnames[:] = sorted(d for d in dirnames if d != "test"
                                 and d != "tests" and d != "__pycache__")
            files += [os.path.join(dirpath, n) for n in names
                      if n.endswith(".py")]
    return sorted(files)


def main():
    counts = collections.Counter()
    alive = collections.deque(maxlen=200)
    nfiles = 0
    for path in stdlib_files():
        with open(path, encoding="utf-8", errors="replace") as f:
            source = f.read()
        try:
            tree = ast.parse(source, filename=path)
        except SyntaxError:
            continue
        nfiles += 1
        for node in ast.walk(tree):
            counts[type(node).__name__] += 1
        alive.append(tree)
    text = ",".join(f"{k}={v}" for k, v in sorted(counts.items()))
    print(f"ast_parse {nfiles} files {zlib.crc32(text.encode()):08x}")


main()
