# SPDX-License-Identifier: MIT
"""Trace workload "compile": byte-compiling standard library modules.

compile()s the source of 40 top-level standard library modules (sorted
names from the middle of the alphabet) at optimisation levels 0 and 2,
and marshals each code object.  Prints the total size of the marshalled
code.
"""
import marshal
import os

root = os.path.dirname(os.__file__)
files = sorted(f for f in os.listdir(root) if f.endswith(".py"))[60:100]
total = 0
for name in files:
    with open(os.path.join(root, name), encoding="utf-8") as f:
        source = f.read()
    for opt in (0, 2):
        code = compile(source, name, "exec", optimize=opt)
        total += len(marshal.dumps(code))
print("compile", len(files), total)
