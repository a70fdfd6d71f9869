# SPDX-License-Identifier: MIT
"""Node semantics: slots, payload, counts, identity, attributes."""

import unittest

import rcgc
from support import RcgcTestCase


class SlotTest(RcgcTestCase):
    def test_new_node_has_empty_slots(self):
        n = self.heap.node(3)
        self.assertEqual(len(n), 3)
        self.assertEqual([n[0], n[1], n[2]], [None, None, None])
        self.assertEqual(n.slots(), [None, None, None])

    def test_set_get_and_clear_a_slot(self):
        a, b = self.heap.node(2), self.heap.node()
        a[1] = b
        self.assertIs(a[1], b)
        self.assertIs(a[-1], b)
        a[1] = None
        self.assertIsNone(a[1])
        a[0] = b
        del a[0]
        self.assertIsNone(a[0])

    def test_slot_holds_a_count(self):
        a, b = self.heap.node(1), self.heap.node()
        self.assertEqual(b.refcount, 1)      # the handle's
        a[0] = b
        self.assertEqual(b.refcount, 2)
        a[0] = None
        self.assertEqual(b.refcount, 1)

    def test_node_kept_alive_by_a_slot_outlives_its_handle(self):
        a = self.heap.node(1)
        a[0] = self.heap.node(payload=8)
        self.assertEqual(self.live(), 2)
        self.assertEqual(a[0].payload_size, 8)
        a[0] = None
        self.assertEqual(self.live(), 1)

    def test_self_reference(self):
        a = self.heap.node(1)
        a[0] = a
        self.assertIs(a[0], a)
        self.assertEqual(a.refcount, 2)
        del a
        self.assertEqual(self.heap.collect(), 1)


class IdentityTest(RcgcTestCase):
    def test_one_handle_per_node(self):
        a, b = self.heap.node(1), self.heap.node()
        a[0] = b
        self.assertIs(a[0], b)
        self.assertIs(a[0], a[0])
        self.assertEqual(hash(a[0]), hash(b))
        self.assertEqual(a[0], b)
        self.assertNotEqual(a, b)

    def test_new_handle_after_the_old_one_died(self):
        a = self.heap.node(1)
        a[0] = self.heap.node()
        addr = a[0].address
        h = a[0]
        self.assertEqual(h.address, addr)
        self.assertEqual(a[0].refcount, 2)  # slot + handle
        del h
        self.assertEqual(a[0].refcount, 2)  # slot + the new temporary one

    def test_nodes_usable_as_dict_keys(self):
        nodes = [self.heap.node() for _ in range(10)]
        d = {n: i for i, n in enumerate(nodes)}
        for i, n in enumerate(self.heap.get_objects()):
            self.assertIn(n, d)


class AttributeTest(RcgcTestCase):
    def test_payload_roundtrip(self):
        n = self.heap.node(payload=16)
        self.assertEqual(n.payload, bytes(16))
        n.payload = b"hello"
        self.assertEqual(n.payload, b"hello" + bytes(11))
        n.payload = bytearray(b"x" * 16)
        self.assertEqual(n.payload, b"x" * 16)
        del n.payload
        self.assertEqual(n.payload, bytes(16))

    def test_value_holds_any_python_object(self):
        n = self.heap.node()
        self.assertIsNone(n.value)
        n.value = {"label": 1}
        self.assertEqual(n.value, {"label": 1})
        n.value = None
        self.assertIsNone(n.value)

    def test_value_released_when_node_dies(self):
        import weakref

        class Box:
            pass
        box = Box()
        ref = weakref.ref(box)
        a = self.heap.node(1)
        a[0] = self.heap.node()
        a[0].value = box
        del box
        self.assertIsNotNone(ref())
        a[0] = None
        self.assertIsNone(ref())

    def test_flags_and_queries(self):
        n = self.heap.node(2, 32)
        self.assertFalse(n.legacy)
        self.assertTrue(self.heap.node(legacy=True).legacy)
        self.assertTrue(n.alive)
        self.assertIs(n.heap, self.heap)
        self.assertEqual(n.payload_size, 32)
        self.assertIsInstance(n.address, int)
        self.assertEqual(n.generation, 0)
        self.assertIn("2 slots", repr(n))

    def test_finalizer_attribute(self):
        n = self.heap.node()
        self.assertIsNone(n.finalizer)
        f = print
        n.finalizer = f
        self.assertIs(n.finalizer, f)
        n.finalizer = None
        self.assertIsNone(n.finalizer)
        with self.assertRaises(TypeError):
            n.finalizer = 42

    def test_live_nodes_and_object_stats(self):
        keep = [self.heap.node() for _ in range(3)]
        self.assertEqual(self.heap.live_nodes, 3)
        st = self.heap.object_stats()["rcgc.Node"]
        self.assertEqual(st["live"], 3)
        self.assertEqual(st["created"], 3)
        del keep
        self.assertEqual(self.heap.object_stats()["rcgc.Node"]["freed"], 3)


if __name__ == "__main__":
    unittest.main()
