# SPDX-License-Identifier: MIT
"""Heap.callbacks: start/stop around each collection, like gc.callbacks."""

import unittest

from support import RcgcTestCase, catch_unraisable


class CallbackTest(RcgcTestCase):
    def test_start_and_stop_with_info(self):
        calls = []
        self.heap.callbacks.append(lambda p, i: calls.append((p, dict(i))))
        self.heap.rings(1, 3)
        self.assertEqual(self.heap.collect(1), 3)
        self.assertEqual([c[0] for c in calls], ["start", "stop"])
        start, stop = calls[0][1], calls[1][1]
        self.assertEqual(start["generation"], 1)
        self.assertEqual(stop, {"generation": 1, "collected": 3,
                                "uncollectable": 0})
        self.assertEqual(set(start), {"generation", "collected",
                                      "uncollectable"})

    def test_callbacks_run_in_order_and_can_be_removed(self):
        order = []

        def first(p, i):
            order.append(("first", p))

        def second(p, i):
            order.append(("second", p))
        self.heap.callbacks.extend([first, second])
        self.heap.collect()
        self.assertEqual(order, [("first", "start"), ("second", "start"),
                                 ("first", "stop"), ("second", "stop")])
        self.heap.callbacks.remove(first)
        order.clear()
        self.heap.collect()
        self.assertEqual(order, [("second", "start"), ("second", "stop")])

    def test_raising_callback_is_reported_and_collection_continues(self):
        later = []

        def bad(p, i):
            raise RuntimeError("bad callback " + p)
        self.heap.callbacks.append(bad)
        self.heap.callbacks.append(lambda p, i: later.append(p))
        self.heap.rings(2, 2)
        with catch_unraisable() as got:
            self.assertEqual(self.heap.collect(), 4)
        self.assertEqual(len(got), 2)
        self.assertIsInstance(got[0].exc_value, RuntimeError)
        self.assertEqual(later, ["start", "stop"])
        self.assertEqual(self.live(), 0)

    def test_collect_inside_a_callback_returns_zero(self):
        inner = []
        self.heap.callbacks.append(
            lambda p, i: inner.append(self.heap.collect()))
        self.heap.rings(1, 2)
        self.assertEqual(self.heap.collect(), 2)
        self.assertEqual(inner, [0, 0])

    def test_callback_may_modify_the_list(self):
        calls = []

        def once(p, i):
            calls.append(p)
            if once in self.heap.callbacks:
                self.heap.callbacks.remove(once)
        self.heap.callbacks.append(once)
        self.heap.collect()
        self.heap.collect()
        self.assertEqual(calls, ["start"])     # removed before "stop"
        self.assertEqual(self.heap.callbacks, [])

    def test_callbacks_see_automatic_collections(self):
        gens = []
        self.heap.callbacks.append(
            lambda p, i: gens.append(i["generation"]) if p == "stop" else 0)
        self.heap.set_threshold(20)
        self.heap.rings(30, 2)
        self.assertIn(0, gens)


if __name__ == "__main__":
    unittest.main()
