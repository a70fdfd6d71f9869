# SPDX-License-Identifier: MIT
"""Python code that runs inside rcgc operations and pokes at the heap.

Finalizers, weak reference callbacks and collector callbacks run while
rcgc is in the middle of a collection or a deallocation.  Whatever they do
with the heap must give an exception or a sound heap, never a crash.
"""

import gc
import unittest

import rcgc
from support import RcgcTestCase, catch_unraisable


class ReentrancyTest(RcgcTestCase):
    def garbage_ring(self, length, finalizer):
        nodes = [self.heap.node(1, finalizer=finalizer)
                 for _ in range(length)]
        for i, n in enumerate(nodes):
            n[0] = nodes[(i + 1) % length]

    def test_finalizer_inspects_the_heap_during_a_collection(self):
        seen = []

        def fin(x):
            seen.append((len(self.heap.get_objects()),
                         len(self.heap.get_referrers(x)),
                         len(self.heap.get_referents(x)),
                         self.heap.get_count(), self.heap.alloc_stats()))
        self.garbage_ring(5, fin)
        self.assertEqual(self.heap.collect(), 5)
        self.assertEqual(len(seen), 5)
        self.assertEqual(self.live(), 0)

    def test_why_alive_during_a_collection_raises(self):
        errors = []

        def fin(x):
            try:
                self.heap.why_alive(x)
            except ValueError as e:
                errors.append(str(e))
        self.garbage_ring(2, fin)
        self.assertEqual(self.heap.collect(), 2)
        self.assertEqual(len(errors), 2)
        self.assertEqual(self.live(), 0)

    def test_finalizer_keeps_every_object_it_reaches(self):
        kept = []
        self.garbage_ring(4, lambda x: kept.extend(
            [x, x[0]] + self.heap.get_objects() + self.heap.get_referents(x)))
        self.heap.collect()
        self.assertTrue(self.heap.check())
        self.assertEqual(self.live(), 4)     # all resurrected
        kept.clear()
        self.heap.collect()
        self.assertEqual(self.live(), 0)

    def test_finalizer_breaks_the_cycle_it_is_part_of(self):
        def fin(x):
            x[0] = None
        self.garbage_ring(6, fin)
        self.heap.collect()
        self.assertEqual(self.live(), 0)

    def test_finalizer_links_garbage_to_garbage(self):
        other = []

        def fin(x):
            if other:
                x[0] = other[0]
            other.append(x)
        self.garbage_ring(4, fin)
        self.heap.collect()
        other.clear()
        self.heap.collect()
        self.assertEqual(self.live(), 0)

    def test_finalizer_runs_cpython_gc_and_allocates(self):
        def fin(x):
            gc.collect()
            for _ in range(100):
                self.heap.node(1)
        self.garbage_ring(3, fin)
        self.heap.set_threshold(10)
        self.heap.collect()
        self.heap.collect()
        self.assertEqual(self.live(), 0)

    def test_automatic_collections_with_finalizers_during_a_builder(self):
        calls = []
        self.heap.set_threshold(5)
        for _ in range(20):
            self.garbage_ring(3, lambda x: calls.append(
                self.heap.rings(2, 2)))
        self.heap.rings(200, 3)
        for _ in range(3):  # rings made by the last finalizers are kept
            calls.clear()
            self.heap.collect()
        self.assertEqual(self.live(), 0)

    def test_weakref_callback_tries_to_destroy_and_drops_itself(self):
        errors = []
        holder = []

        def cb(wr):
            holder.clear()          # drops the last other reference to wr
            try:
                self.heap.destroy()
            except rcgc.HeapError as e:
                errors.append(e)
        n = self.heap.node(1)
        n[0] = n
        holder.append(n.weakref(cb))
        del n
        self.heap.collect()
        self.assertEqual(len(errors), 1)
        self.assertFalse(self.heap.destroyed)
        self.assertEqual(self.live(), 0)

    def test_collector_callback_rewrites_the_heap(self):
        keep = []

        def cb(phase, info):
            keep.append(self.heap.chain(10))
            if phase == "stop":
                self.heap.callbacks.clear()
                keep.clear()
        self.heap.callbacks.append(cb)
        self.heap.rings(10, 10)
        self.assertEqual(self.heap.collect(), 100)
        self.assertEqual(self.live(), 0)

    def test_saveall_then_destroy(self):
        self.heap.set_debug(rcgc.DEBUG_SAVEALL)
        self.garbage_ring(3, lambda x: None)
        self.heap.collect()
        g = self.heap.garbage
        self.heap.destroy()
        self.assertFalse(any(n.alive for n in g))

    def test_legacy_finalizer_that_always_resurrects(self):
        box = []
        n = self.heap.node(legacy=True, finalizer=box.append)
        del n
        for _ in range(3):
            self.assertEqual(len(box), 1)
            box.pop()               # dies again, resurrects again
        n = box.pop()
        n.finalizer = None
        del n
        self.assertEqual(self.live(), 0)

    def test_handle_of_a_node_that_cpython_gc_cleared(self):
        with catch_unraisable():
            n = self.heap.node()
            n.value = [n]
            w = n.weakref()
            del n
            gc.collect()
        self.assertIsNone(w())
        self.assertEqual(self.live(), 0)


if __name__ == "__main__":
    unittest.main()
