# SPDX-License-Identifier: MIT
"""Heaps are independent; allocator statistics, events, why_alive."""

import unittest

import rcgc
from support import RcgcTestCase


class IndependenceTest(unittest.TestCase):
    def test_collection_in_one_heap_leaves_the_other(self):
        with rcgc.Heap() as h1, rcgc.Heap() as h2:
            h1.rings(3, 3)
            h2.rings(2, 2)
            self.assertEqual(h1.collect(), 9)
            self.assertEqual(h2.live_nodes, 4)
            self.assertEqual(h2.get_stats()[2]["collections"], 0)
            self.assertEqual(h2.collect(), 4)

    def test_settings_are_per_heap(self):
        with rcgc.Heap() as h1, rcgc.Heap() as h2:
            h1.set_threshold(5, 5, 5)
            h1.disable()
            h1.callbacks.append(print)
            self.assertEqual(h2.get_threshold(), (2000, 10, 10))
            self.assertTrue(h2.isenabled())
            self.assertEqual(h2.callbacks, [])

    def test_destroying_one_heap_leaves_the_other(self):
        h1, h2 = rcgc.Heap(), rcgc.Heap()
        a = h1.chain(5)[0]
        b = h2.chain(5)[0]
        h1.destroy()
        self.assertFalse(a.alive)
        self.assertTrue(b.alive)
        self.assertEqual(h2.live_nodes, 5)
        self.assertTrue(h2.check())
        h2.destroy()

    def test_many_heaps(self):
        heaps = [rcgc.Heap() for _ in range(20)]
        for i, h in enumerate(heaps):
            h.chain(i + 1)
            h.rings(1, i + 1)
        for i, h in enumerate(heaps):
            self.assertEqual(h.collect(), i + 1)
            h.destroy()


class AllocStatsTest(RcgcTestCase):
    def test_alloc_stats_fields(self):
        st = self.heap.alloc_stats()
        for key in ("arenas", "arenas_medium", "arenas_highwater",
                    "bytes_mapped", "pools_full", "pools_used",
                    "pools_empty", "spans",
                    "blocks_used", "bytes_used", "bytes_stranded",
                    "bytes_requested", "bytes_handed", "large_blocks",
                    "large_mapped", "nmalloc", "nfree", "nfail", "classes"):
            self.assertIn(key, st)
        self.assertEqual(len(st["classes"]), 80)
        self.assertEqual(st["classes"][0]["block_size"], 16)
        self.assertEqual(st["classes"][31]["block_size"], 512)
        self.assertEqual(st["classes"][32]["block_size"], 576)
        self.assertEqual(st["classes"][79]["block_size"], 32768)

    def test_blocks_follow_the_nodes(self):
        before = self.heap.alloc_stats()["blocks_used"]
        roots = self.heap.chain(1000)
        self.assertGreaterEqual(self.heap.alloc_stats()["blocks_used"],
                                before + 1000)
        self.assertGreaterEqual(self.heap.alloc_stats()["arenas"], 1)
        del roots
        self.assertEqual(self.heap.alloc_stats()["blocks_used"], before)


class EventLogTest(RcgcTestCase):
    def test_each_collection_is_logged(self):
        self.heap.rings(2, 5)
        self.heap.collect(2)
        self.heap.collect(0)
        ev = self.heap.events()
        self.assertEqual(len(ev), 2)
        self.assertEqual(ev[0]["generation"], 2)
        self.assertEqual(ev[0]["reason"], "explicit")
        self.assertEqual(ev[0]["collected"], 10)
        self.assertGreaterEqual(ev[0]["examined"], 10)
        self.assertLess(ev[0]["seq"], ev[1]["seq"])
        self.assertEqual(set(ev[0]), {"seq", "generation", "reason",
                                      "examined", "collected",
                                      "uncollectable", "pause_ns",
                                      "threshold", "next_threshold",
                                      "bytes", "skipped", "increment",
                                      "work"})


class WhyAliveTest(RcgcTestCase):
    def test_path_from_the_held_root(self):
        root = self.heap.chain(4)[0]
        last = root[0][0][0]
        path = self.heap.why_alive(last)
        self.assertEqual(path[0], root)
        self.assertEqual(path[-1], last)
        self.assertEqual(len(path), 4)

    def test_node_held_only_by_the_caller(self):
        n = self.heap.node()
        self.assertEqual(self.heap.why_alive(n), [])

    def test_cyclic_garbage_has_no_path(self):
        r = self.heap.rings(1, 3)[0]
        self.assertEqual(self.heap.why_alive(r), [])
        self.assertEqual(self.heap.why_alive(r[0]), [r, r[0]])

    def test_held_node_is_its_own_root(self):
        a = self.heap.node(1)
        b = self.heap.node()
        a[0] = b
        self.assertEqual(self.heap.why_alive(b), [a, b])


if __name__ == "__main__":
    unittest.main()
