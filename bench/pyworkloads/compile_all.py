# SPDX-License-Identifier: MIT
"""compileall of a copy of a standard library subset, in a temporary dir.

Copies the standard library's top-level modules and a few packages into a
fresh temporary directory (so no existing .pyc is reused and nothing
outside it is written), byte-compiles the copy with compileall (one
process, forced, optimisation levels 0 and 2), and prints how many .pyc
files it wrote.  With --small: top-level names a-b and two packages (for
cgcompare.py, under Valgrind).
"""
import compileall
import os
import shutil
import sys
import tempfile

SMALL = "--small" in sys.argv[1:]
PACKAGES = ["email", "json"] if SMALL else [
    "email", "json", "http", "xml", "asyncio", "concurrent", "importlib",
    "logging", "unittest", "urllib"]
LAST = "c" if SMALL else None  # top-level files named below this


def copy_subset(root, dest):
    for name in sorted(os.listdir(root)):
        if name.endswith(".py") and (LAST is None or name < LAST):
            shutil.copy(os.path.join(root, name), dest)
    for pkg in PACKAGES:
        shutil.copytree(os.path.join(root, pkg), os.path.join(dest, pkg),
                        ignore=shutil.ignore_patterns("__pycache__", "test",
                                                      "tests"))


def main():
    root = os.path.dirname(os.__file__)
    with tempfile.TemporaryDirectory(prefix="rcgc-compileall-") as tmp:
        copy_subset(root, tmp)
        ok = compileall.compile_dir(tmp, quiet=2, force=True, workers=1,
                                    optimize=[0, 2])
        npyc = sum(len(names) for path, _, names in os.walk(tmp)
                   if path.endswith("__pycache__"))
    print(f"compile_all ok={bool(ok)} pyc={npyc}")


main()
