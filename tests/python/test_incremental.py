# SPDX-License-Identifier: MIT
"""The pause-bounded mode: the setting, increments, stats and events."""

import unittest

from support import RcgcTestCase


class PauseBudgetTest(RcgcTestCase):
    def test_budget_round_trips_and_reports_the_mode(self):
        self.assertEqual(self.heap.get_pause_budget(), 0)
        st = self.heap.get_incremental_stats()
        self.assertEqual(st["mode"], "stop-the-world")
        self.heap.set_pause_budget(2000)
        self.assertEqual(self.heap.get_pause_budget(), 2000)
        st = self.heap.get_incremental_stats()
        self.assertEqual(st["mode"], "pause-bounded")
        self.assertEqual(st["budget_us"], 2000)
        self.heap.set_pause_budget(0)
        self.assertEqual(self.heap.get_incremental_stats()["mode"],
                         "stop-the-world")

    def test_bad_budgets_are_refused(self):
        with self.assertRaises(ValueError):
            self.heap.set_pause_budget(-1)
        with self.assertRaises(ValueError):
            self.heap.set_pause_budget(20_000_000)
        with self.assertRaises(TypeError):
            self.heap.set_pause_budget("2ms")
        with self.assertRaises(ValueError):
            self.heap.set_increment_work(-5)
        self.assertEqual(self.heap.get_pause_budget(), 0)

    def test_increments_free_an_old_cycle(self):
        self.heap.set_increment_work(5)
        a, b = self.heap.node(1), self.heap.node(1)
        a[0], b[0] = b, a
        keep = self.heap.chain(10)
        self.heap.collect(2)  # all in generation 2
        del a, b
        found = 0
        for _ in range(1000):
            found += self.heap.collect_increment()
            if self.heap.get_incremental_stats()["passes"] == 1:
                break
        self.assertEqual(found, 2)
        self.assertEqual(self.live(), 10)
        st = self.heap.get_incremental_stats()
        self.assertGreater(st["increments"], 1)
        self.assertFalse(st["pass_running"])
        events = self.heap.events()
        incs = [e for e in events if e["increment"]]
        self.assertEqual(len(incs), st["increments"])
        self.assertTrue(all(e["generation"] == 2 for e in incs))
        # each stays near its cap (one traversal may pass it)
        self.assertTrue(all(e["work"] <= 10 for e in incs))
        self.assertGreater(sum(e["work"] for e in incs), 2 * 12)
        self.assertEqual(sum(e["collected"] for e in incs), 2)
        self.assertFalse(events[0]["increment"])
        del keep

    def test_full_collection_during_a_pass_is_complete(self):
        self.heap.set_increment_work(3)
        keep = self.heap.rings(1, 20)
        doomed = self.heap.rings(1, 20)
        self.heap.collect(2)  # both in generation 2
        del doomed
        self.heap.collect_increment()
        self.assertTrue(self.heap.get_incremental_stats()["pass_running"])
        self.assertEqual(self.heap.collect(2), 20)
        st = self.heap.get_incremental_stats()
        self.assertFalse(st["pass_running"])
        self.assertEqual(st["abandoned"], 1)
        self.assertEqual(self.live(), 20)
        del keep

if __name__ == "__main__":
    unittest.main()
