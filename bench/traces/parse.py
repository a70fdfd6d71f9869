# SPDX-License-Identifier: MIT
"""Trace workload "parse": ast.parse of standard library modules.

Parses the first 60 top-level modules of the standard library (sorted
names), walks each tree counting node types, and keeps the last 20 trees
alive so that the heap holds a working set.  Prints a checksum.
"""
import ast
import collections
import os
import zlib

root = os.path.dirname(os.__file__)
files = sorted(f for f in os.listdir(root) if f.endswith(".py"))[:60]
counts = collections.Counter()
alive = collections.deque(maxlen=20)
for name in files:
    with open(os.path.join(root, name), encoding="utf-8") as f:
        tree = ast.parse(f.read(), filename=name)
    for node in ast.walk(tree):
        counts[type(node).__name__] += 1
    alive.append(tree)
text = ",".join(f"{k}={v}" for k, v in sorted(counts.items()))
print("parse", len(files), f"{zlib.crc32(text.encode()):08x}")
