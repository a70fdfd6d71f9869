# SPDX-License-Identifier: MIT
"""The graph builders under memory pressure (issue 7's OOM sweep, from
Python): each builder is run with the heap's memory limit raised step by
step from what the heap already holds; every run below the need fails
with MemoryError, leaves the heap sound with exactly the nodes it had, and
the run that fits succeeds."""

import unittest

import rcgc

STEP = rcgc.ARENA_SIZE // 4


class BuilderOomTest(unittest.TestCase):
    BUILDERS = {
        "chain": lambda h: h.chain(20000, payload=48),
        "rings": lambda h: h.rings(2000, 10, payload=16),
        "tree": lambda h: h.tree(15, 2, payload=32),
        "random_graph": lambda h: h.random_graph(
            20000, 2, seed=7, garbage_fraction=0.25, payload=24),
    }

    def sweep(self, build):
        self.heap = heap = rcgc.Heap()     # fresh: nothing mapped to reuse
        self.live = lambda: heap.live_nodes
        keep = self.heap.chain(5)
        before = self.live()
        st = self.heap.alloc_stats()
        base = st["bytes_mapped"] + st["large_bytes"] + st["meta_bytes"]
        failures = 0
        for k in range(1, 200):
            self.heap.memory_limit = base + k * STEP
            try:
                roots = build(self.heap)
            except MemoryError:
                failures += 1
                self.assertEqual(self.live(), before, "k=%d" % k)
                self.assertTrue(self.heap.check(), "k=%d" % k)
                continue
            self.assertTrue(self.heap.check())
            del roots
            break
        else:
            self.fail("the builder never fitted")
        self.heap.memory_limit = None
        self.heap.collect()
        self.assertEqual(self.live(), before)
        self.assertGreater(failures, 0, "the sweep never hit the limit")
        del keep
        self.assertTrue(heap.check())
        heap.destroy()

    def test_each_builder_fails_cleanly_below_its_need(self):
        for name, build in self.BUILDERS.items():
            with self.subTest(builder=name):
                self.sweep(build)


if __name__ == "__main__":
    unittest.main()
