# SPDX-License-Identifier: MIT
"""Every Heap method that mirrors Python's gc module."""

import unittest

import rcgc
from support import RcgcTestCase


class CollectTest(RcgcTestCase):
    def test_collect_finds_a_two_node_cycle(self):
        a, b = self.heap.node(1), self.heap.node(1)
        a[0], b[0] = b, a
        del a, b
        self.assertEqual(self.live(), 2)
        self.assertEqual(self.heap.collect(), 2)
        self.assertEqual(self.live(), 0)

    def test_collect_keeps_what_a_handle_holds(self):
        a, b = self.heap.node(1), self.heap.node(1)
        a[0], b[0] = b, a
        del b
        self.assertEqual(self.heap.collect(), 0)
        self.assertEqual(self.live(), 2)
        self.assertIsNotNone(a[0])

    def test_collect_each_generation(self):
        for g in range(3):
            self.heap.rings(2, 3)
            self.assertEqual(self.heap.collect(g), 6)
        self.assertEqual(self.heap.collect(generation=2), 0)

    def test_collect_rejects_invalid_generation(self):
        for g in (-1, 3, 100):
            with self.assertRaises(ValueError):
                self.heap.collect(g)

    def test_acyclic_garbage_dies_without_collection(self):
        self.heap.chain(100)
        self.assertEqual(self.live(), 0)


class EnableTest(RcgcTestCase):
    def test_enable_disable_isenabled(self):
        self.assertTrue(self.heap.isenabled())
        self.heap.disable()
        self.assertFalse(self.heap.isenabled())
        self.heap.enable()
        self.assertTrue(self.heap.isenabled())

    def test_disabled_heap_does_not_collect_automatically(self):
        self.heap.disable()
        self.heap.set_threshold(10)
        self.heap.rings(50, 2)
        self.assertEqual(self.live(), 100)
        self.assertEqual(self.heap.get_stats()[0]["collections"], 0)

    def test_enabled_heap_collects_past_threshold(self):
        self.heap.set_threshold(10)
        for _ in range(50):     # each call's ring is garbage once it returns
            self.heap.rings(1, 2)
        self.assertLess(self.live(), 100)
        self.assertGreater(self.heap.get_stats()[0]["collections"], 0)
        reasons = {e["reason"] for e in self.heap.events()}
        self.assertIn("threshold", reasons)


class CountThresholdTest(RcgcTestCase):
    def test_get_count_counts_new_nodes(self):
        self.heap.collect()
        before = self.heap.get_count()[0]
        keep = [self.heap.node() for _ in range(5)]
        self.assertEqual(self.heap.get_count()[0], before + 5)
        self.assertEqual(len(self.heap.get_count()), 3)
        del keep

    def test_collect_resets_count0(self):
        keep = [self.heap.node() for _ in range(5)]
        self.heap.collect(0)
        self.assertEqual(self.heap.get_count()[0], 0)
        del keep

    def test_default_threshold_is_cpython_313(self):
        self.assertEqual(self.heap.get_threshold(), (2000, 10, 10))

    def test_set_threshold_keeps_omitted_values(self):
        self.heap.set_threshold(100)
        self.assertEqual(self.heap.get_threshold(), (100, 10, 10))
        self.heap.set_threshold(5, 6)
        self.assertEqual(self.heap.get_threshold(), (5, 6, 10))
        self.heap.set_threshold(7, 8, 9)
        self.assertEqual(self.heap.get_threshold(), (7, 8, 9))

    def test_set_threshold_rejects_negative(self):
        with self.assertRaises(ValueError):
            self.heap.set_threshold(-1)
        self.assertEqual(self.heap.get_threshold(), (2000, 10, 10))


class StatsTest(RcgcTestCase):
    def test_get_stats_is_a_list_of_dicts_like_gc(self):
        stats = self.heap.get_stats()
        self.assertEqual(len(stats), 3)
        for s in stats:
            # gc.get_stats()'s keys, and the pacing: threshold in force
            # and payload bytes accounted (issue 17)
            self.assertEqual(set(s), {"collections", "collected",
                                      "uncollectable", "threshold", "bytes",
                                      "skipped"})

    def test_get_stats_counts_collections_and_collected(self):
        self.heap.rings(1, 4)
        self.heap.collect(2)
        s = self.heap.get_stats()[2]
        self.assertEqual(s["collections"], 1)
        self.assertEqual(s["collected"], 4)
        self.assertEqual(s["uncollectable"], 0)


class FreezeTest(RcgcTestCase):
    def test_freeze_moves_tracked_nodes_to_permanent(self):
        keep = [self.heap.node() for _ in range(4)]
        self.heap.freeze()
        self.assertEqual(self.heap.get_freeze_count(), 4)
        self.assertEqual(keep[0].generation, 3)
        self.heap.unfreeze()
        self.assertEqual(self.heap.get_freeze_count(), 0)
        self.assertEqual(keep[0].generation, 2)

    def test_frozen_cycle_is_not_collected_until_unfrozen(self):
        self.heap.disable()
        self.heap.rings(1, 3)
        self.heap.freeze()
        self.assertEqual(self.heap.collect(), 0)
        self.assertEqual(self.live(), 3)
        self.heap.unfreeze()
        self.assertEqual(self.heap.collect(), 3)


class ObjectsTest(RcgcTestCase):
    def test_get_objects_returns_the_same_handles(self):
        a = self.heap.node()
        objs = self.heap.get_objects()
        self.assertEqual(len(objs), 1)
        self.assertIs(objs[0], a)

    def test_get_objects_by_generation(self):
        a = self.heap.node()
        self.assertIn(a, self.heap.get_objects(0))
        self.heap.collect(0)
        self.assertNotIn(a, self.heap.get_objects(0))
        self.assertIn(a, self.heap.get_objects(1))
        self.assertEqual(a.generation, 1)
        self.heap.collect(2)
        self.assertIn(a, self.heap.get_objects(2))
        with self.assertRaises(ValueError):
            self.heap.get_objects(3)

    def test_get_objects_makes_handles_for_unheld_nodes(self):
        root = self.heap.chain(3)[0]
        objs = self.heap.get_objects()
        self.assertEqual(len(objs), 3)
        self.assertIn(root, objs)
        self.assertIs(root[0][0], [o for o in objs if o[0] is None][0])

    def test_get_referrers_and_referents(self):
        a, b, c = self.heap.node(2), self.heap.node(1), self.heap.node()
        a[0], a[1], b[0] = b, c, c
        self.assertEqual(set(self.heap.get_referents(a)), {b, c})
        self.assertEqual(self.heap.get_referents(c), [])
        self.assertEqual(set(self.heap.get_referrers(c)), {a, b})
        self.assertEqual(set(self.heap.get_referrers(b, c)), {a, b})
        self.assertEqual(self.heap.get_referrers(a), [])

    def test_is_tracked_and_is_finalized(self):
        a = self.heap.node()
        self.assertTrue(self.heap.is_tracked(a))
        self.assertTrue(a.tracked)
        self.assertFalse(self.heap.is_finalized(a))
        self.assertFalse(a.finalized)


class GarbageDebugTest(RcgcTestCase):
    def test_legacy_cycle_goes_to_garbage(self):
        a = self.heap.node(1, legacy=True)
        b = self.heap.node(1)
        a[0], b[0] = b, a
        addr = a.address
        del a, b
        self.assertEqual(self.heap.collect(), 2)
        garbage = self.heap.garbage
        self.assertIn(addr, [g.address for g in garbage])
        self.assertEqual(self.heap.get_stats()[2]["uncollectable"], 2)
        del garbage
        self.heap.clear_garbage()
        self.assertEqual(self.heap.garbage, [])

    def test_saveall_keeps_collectable_garbage(self):
        self.heap.set_debug(rcgc.DEBUG_SAVEALL)
        self.assertEqual(self.heap.get_debug(), rcgc.DEBUG_SAVEALL)
        self.heap.rings(1, 3)
        self.assertEqual(self.heap.collect(), 3)
        self.assertEqual(len(self.heap.garbage), 3)
        self.heap.set_debug(0)
        self.heap.clear_garbage()
        self.heap.collect()
        self.assertEqual(self.live(), 0)

    def test_garbage_is_one_list_the_user_can_clear(self):
        # As gc.garbage: the same list every time, and emptying it (not
        # only clear_garbage()) releases its nodes.
        self.heap.set_debug(rcgc.DEBUG_SAVEALL)
        self.heap.rings(2, 3)
        self.assertEqual(self.heap.collect(), 6)
        garbage = self.heap.garbage
        self.assertIs(self.heap.garbage, garbage)
        self.assertEqual(len(garbage), 6)
        self.heap.set_debug(0)
        del garbage[:]
        self.assertEqual(self.heap.garbage, [])
        self.heap.collect()
        self.assertEqual(self.live(), 0)

    def test_each_collection_appends_to_garbage(self):
        self.heap.set_debug(rcgc.DEBUG_SAVEALL)
        garbage = self.heap.garbage
        self.heap.rings(1, 2)
        self.heap.collect()
        self.heap.rings(1, 4)
        self.assertEqual(len(garbage), 2)
        self.heap.collect()
        self.assertEqual(len(garbage), 6)
        self.heap.set_debug(0)
        self.heap.clear_garbage()
        self.assertEqual(garbage, [])

    def test_debug_constants_match_gc(self):
        import gc
        for name in ("DEBUG_STATS", "DEBUG_COLLECTABLE",
                     "DEBUG_UNCOLLECTABLE", "DEBUG_SAVEALL", "DEBUG_LEAK"):
            self.assertEqual(getattr(rcgc, name), getattr(gc, name))
            self.assertEqual(getattr(rcgc.Heap, name), getattr(gc, name))

    def test_set_debug_rejects_negative(self):
        with self.assertRaises(ValueError):
            self.heap.set_debug(-1)


if __name__ == "__main__":
    unittest.main()
