# SPDX-License-Identifier: MIT
"""Errors from Python are exceptions, never crashes."""

import unittest

import rcgc
from support import RcgcTestCase, catch_unraisable


class DestroyedHeapTest(unittest.TestCase):
    def test_every_use_of_a_destroyed_heap_raises(self):
        heap = rcgc.Heap()
        n = heap.node(1)
        w = n.weakref()
        heap.destroy()
        self.assertTrue(heap.destroyed)
        self.assertFalse(n.alive)
        for call in (lambda: n[0], lambda: len(n), lambda: n.refcount,
                     lambda: n.weakref(), lambda: n.slots(),
                     lambda: n.__setitem__(0, None), lambda: n.payload,
                     lambda: heap.collect(), lambda: heap.node(),
                     lambda: heap.get_objects(), lambda: heap.alloc_stats(),
                     lambda: heap.events(), lambda: heap.chain(3),
                     lambda: w()):
            with self.assertRaises(rcgc.HeapError):
                call()
        heap.destroy()              # twice is fine
        self.assertIn("destroyed", repr(heap))
        self.assertIn("released", repr(n))

    def test_with_block_destroys(self):
        with rcgc.Heap() as heap:
            root = heap.chain(10)[0]
        self.assertTrue(heap.destroyed)
        with self.assertRaises(rcgc.HeapError):
            root[0]

    def test_destroy_releases_python_objects_of_nodes(self):
        import weakref

        class Box:
            pass
        heap = rcgc.Heap()
        box = Box()
        ref = weakref.ref(box)
        n = heap.node(1, finalizer=lambda x: None, value=box)
        n[0] = n
        del box
        heap.destroy()
        self.assertIsNone(ref())


class BadArgumentTest(RcgcTestCase):
    def test_node_from_another_heap_in_a_slot(self):
        other = rcgc.Heap()
        try:
            a, b = self.heap.node(1), other.node()
            with self.assertRaises(ValueError):
                a[0] = b
            self.assertIsNone(a[0])
            with self.assertRaises(ValueError):
                self.heap.get_referrers(b)
            with self.assertRaises(ValueError):
                self.heap.is_tracked(b)
        finally:
            other.destroy()

    def test_index_out_of_range(self):
        n = self.heap.node(2)
        for i in (2, -3, 100):
            with self.assertRaises(IndexError):
                n[i]
            with self.assertRaises(IndexError):
                n[i] = None
        with self.assertRaises(IndexError):
            self.heap.node()[0]

    def test_not_a_node_in_a_slot(self):
        n = self.heap.node(1)
        with self.assertRaises(TypeError):
            n[0] = 42
        with self.assertRaises(TypeError):
            self.heap.get_referents("x")

    def test_node_cannot_be_made_directly(self):
        with self.assertRaises(TypeError):
            rcgc.Node()

    def test_bad_node_arguments(self):
        with self.assertRaises(ValueError):
            self.heap.node(-1)
        with self.assertRaises(ValueError):
            self.heap.node(rcgc.MAX_SLOTS + 1)
        with self.assertRaises(TypeError):
            self.heap.node(finalizer=3)
        n = self.heap.node(payload=4)
        with self.assertRaises(ValueError):
            n.payload = b"12345"
        with self.assertRaises(TypeError):
            n.payload = 5

    def test_memory_limit_gives_memory_error_and_a_sound_heap(self):
        keep = self.heap.chain(10)
        st = self.heap.alloc_stats()
        self.heap.memory_limit = st["bytes_mapped"] + st["large_bytes"] \
            + rcgc.ARENA_SIZE
        with self.assertRaises(MemoryError):
            self.heap.chain(200000, payload=64)
        self.assertEqual(self.live(), 10)
        self.assertTrue(self.heap.check())
        self.heap.memory_limit = None
        self.assertEqual(self.heap.memory_limit, 0)
        self.assertEqual(len(self.heap.chain(1000)), 1)
        del keep


class CallbackErrorTest(RcgcTestCase):
    def test_errors_in_callbacks_do_not_leak_into_the_caller(self):
        self.heap.callbacks.append(lambda p, i: 1 / 0)
        with catch_unraisable() as got:
            try:
                raise ValueError("pending")
            except ValueError:
                self.heap.collect()     # runs with an exception being handled
        self.assertEqual(len(got), 2)

    def test_finalizer_with_wrong_signature_is_reported(self):
        n = self.heap.node(finalizer=lambda: None)
        with catch_unraisable() as got:
            del n
        self.assertEqual(len(got), 1)
        self.assertIsInstance(got[0].exc_value, TypeError)
        self.assertEqual(self.live(), 0)


if __name__ == "__main__":
    unittest.main()
