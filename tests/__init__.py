# SPDX-License-Identifier: MIT
"""Makes `python3 -m unittest` at the repository root run the Python tests.

unittest's discovery from the root finds this package and calls
load_tests(), which discovers tests/python (the C suites under tests/ are
run by ctest).  The tests import `rcgc` and their helper `support`: rcgc
from wherever it is importable (an install, PYTHONPATH), else from an
in-place build (python3 setup.py build_ext --inplace puts the extension
in pyext/rcgc/).
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def _rcgc_importable():
    try:
        import rcgc  # noqa: F401
    except ImportError:
        return False
    return True


def load_tests(loader, standard_tests, pattern):
    if not _rcgc_importable():
        sys.path.append(os.path.join(ROOT, "pyext"))
        if not _rcgc_importable():
            raise ImportError(
                "rcgc is not importable: build it first "
                "(python3 setup.py build_ext --inplace, or pip install .)")
    python_tests = os.path.join(HERE, "python")
    standard_tests.addTests(loader.discover(
        start_dir=python_tests, pattern=pattern or "test*.py",
        top_level_dir=python_tests))
    return standard_tests
