# SPDX-License-Identifier: MIT
"""Shared helpers for the rcgc Python tests.

RcgcTestCase gives each test a fresh heap (self.heap) and, after the
test, checks every layer's invariants and destroys it.  catch_unraisable()
collects what sys.unraisablehook receives (exceptions from finalizers and
callbacks), so a test can assert on them.
"""

import contextlib
import sys
import types
import unittest

import rcgc


@contextlib.contextmanager
def catch_unraisable():
    """Collect the UnraisableHookArgs reported inside the block."""
    got = []
    old = sys.unraisablehook

    def hook(u):
        # Keep the exception without its traceback: the traceback's frames
        # hold the finalizer's argument, which would resurrect the node.
        got.append(types.SimpleNamespace(
            exc_type=u.exc_type, object=u.object,
            exc_value=u.exc_value.with_traceback(None)
            if u.exc_value is not None else None))
    sys.unraisablehook = hook
    try:
        yield got
    finally:
        sys.unraisablehook = old


class RcgcTestCase(unittest.TestCase):
    """A fresh rcgc heap per test, checked and destroyed afterwards."""

    def setUp(self):
        self.heap = rcgc.Heap()

    def tearDown(self):
        heap = self.heap
        if not heap.destroyed:
            self.assertTrue(heap.check())
            heap.destroy()
        del self.heap

    def live(self):
        """Live nodes of self.heap."""
        return self.heap.live_nodes
