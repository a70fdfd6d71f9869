# SPDX-License-Identifier: MIT
"""Finalizers (PEP 442 and legacy), resurrection, weak references."""

import gc
import unittest
import weakref

import rcgc
from support import RcgcTestCase, catch_unraisable


class FinalizerTest(RcgcTestCase):
    def test_finalizer_runs_when_count_reaches_zero(self):
        seen = []
        n = self.heap.node(payload=4, finalizer=lambda x: seen.append(
            (x.payload_size, x.finalized)))
        del n
        self.assertEqual(seen, [(4, True)])
        self.assertEqual(self.live(), 0)

    def test_finalizer_runs_once_in_a_collected_cycle(self):
        seen = []
        a = self.heap.node(1, finalizer=lambda x: seen.append("a"))
        b = self.heap.node(1, finalizer=lambda x: seen.append("b"))
        a[0], b[0] = b, a
        del a, b
        self.assertEqual(self.heap.collect(), 2)
        self.assertEqual(sorted(seen), ["a", "b"])
        self.assertEqual(self.live(), 0)

    def test_finalizer_resurrects_into_python(self):
        saved = []
        n = self.heap.node(1, finalizer=saved.append)
        n[0] = n
        del n
        self.heap.collect()
        self.assertEqual(len(saved), 1)
        back = saved[0]
        self.assertTrue(back.alive)
        self.assertTrue(back.finalized)
        self.assertIs(back[0], back)
        self.assertEqual(self.live(), 1)
        # Finalized once: dropping it again frees it without a second call.
        saved.clear()
        del back
        self.heap.collect()
        self.assertEqual(self.live(), 0)
        self.assertEqual(saved, [])

    def test_finalizer_resurrects_on_refcount_death(self):
        saved = []
        n = self.heap.node(finalizer=saved.append)
        del n
        self.assertEqual(self.live(), 1)
        self.assertTrue(saved[0].finalized)
        saved.clear()
        self.assertEqual(self.live(), 0)

    def test_finalizer_resurrects_into_a_slot(self):
        holder = self.heap.node(1)

        def fin(x):
            holder[0] = x
        a = self.heap.node(1, finalizer=fin)
        b = self.heap.node(1)
        a[0], b[0] = b, a
        del a, b
        self.heap.collect()
        self.assertIsNotNone(holder[0])
        self.assertEqual(self.live(), 3)
        holder[0] = None
        self.heap.collect()
        self.assertEqual(self.live(), 1)

    def test_finalizer_that_raises_is_reported_and_node_still_dies(self):
        def fin(x):
            raise ZeroDivisionError("boom")
        a = self.heap.node(1, finalizer=fin)
        a[0] = a
        del a
        with catch_unraisable() as got:
            self.assertEqual(self.heap.collect(), 1)
        self.assertEqual(len(got), 1)
        self.assertIsInstance(got[0].exc_value, ZeroDivisionError)
        self.assertEqual(self.live(), 0)

    def test_legacy_finalizer_runs_each_time_count_reaches_zero(self):
        calls = []
        saved = []

        def fin(x):
            calls.append(1)
            if len(calls) == 1:
                saved.append(x)
        n = self.heap.node(legacy=True, finalizer=fin)
        del n
        self.assertEqual(len(calls), 1)
        saved.clear()
        self.assertEqual(len(calls), 2)
        self.assertEqual(self.live(), 0)

    def test_finalizer_can_use_the_heap(self):
        made = []

        def fin(x):
            made.append(self.heap.node())
            self.assertEqual(self.heap.collect(), 0)  # during a collection
        a = self.heap.node(1, finalizer=fin)
        a[0] = a
        del a
        self.heap.collect()
        self.assertEqual(len(made), 1)
        self.assertTrue(made[0].alive)

    def test_destroy_from_a_finalizer_is_refused(self):
        errors = []

        def fin(x):
            try:
                self.heap.destroy()
            except rcgc.HeapError as e:
                errors.append(e)
        n = self.heap.node(finalizer=fin)
        del n
        self.assertEqual(len(errors), 1)
        self.assertFalse(self.heap.destroyed)


class WeakRefTest(RcgcTestCase):
    def test_weakref_returns_node_until_it_dies(self):
        n = self.heap.node()
        w = n.weakref()
        self.assertIs(w(), n)
        self.assertTrue(w.alive)
        self.assertEqual(n.weakref_count, 1)
        del n
        self.assertIsNone(w())
        self.assertFalse(w.alive)

    def test_weakref_callback_on_refcount_death(self):
        got = []
        n = self.heap.node()
        w = n.weakref(got.append)
        self.assertIsNotNone(w.callback)
        del n
        self.assertEqual(got, [w])

    def test_weakref_callback_on_collection(self):
        got = []
        a = self.heap.node(1)
        a[0] = a
        w = a.weakref(lambda wr: got.append(wr()))
        del a
        self.assertEqual(self.heap.collect(), 1)
        self.assertEqual(got, [None])

    def test_dead_weakref_gets_no_callback(self):
        got = []
        n = self.heap.node()
        w = n.weakref(got.append)
        del w
        del n
        self.assertEqual(got, [])

    def test_weakref_callback_that_raises_is_reported(self):
        def cb(wr):
            raise KeyError("cb")
        n = self.heap.node()
        w = n.weakref(cb)
        with catch_unraisable() as got:
            del n
        self.assertEqual(len(got), 1)
        self.assertIsInstance(got[0].exc_value, KeyError)
        self.assertIsNone(w())

    def test_weakref_callback_must_be_callable(self):
        with self.assertRaises(TypeError):
            self.heap.node().weakref(3)


class CrossWorldTest(RcgcTestCase):
    """Cycles through Python and rcgc that CPython's gc must collect."""

    def test_node_holding_its_own_handle_is_collected_by_cpython(self):
        got = []
        n = self.heap.node()
        w = n.weakref(got.append)
        n.value = n              # handle -> node -> value=handle
        del n
        self.assertEqual(self.live(), 1)
        gc.collect()
        self.assertEqual(self.live(), 0)
        self.assertEqual(got, [w])

    def test_finalizer_closure_capturing_its_handle_is_collected(self):
        seen = []
        n = self.heap.node()

        def fin(x, keep=n):
            seen.append(x is keep or not keep.alive)
        n.finalizer = fin
        del fin, n
        gc.collect()
        self.assertEqual(self.live(), 0)

    def test_heap_in_a_python_cycle_is_collected(self):
        heap = rcgc.Heap()
        heap.callbacks.append(lambda phase, info, h=heap: None)
        a = heap.node(1)
        a.value = heap
        ref = weakref.ref(heap)
        del heap, a
        gc.collect()
        self.assertIsNone(ref())


if __name__ == "__main__":
    unittest.main()
