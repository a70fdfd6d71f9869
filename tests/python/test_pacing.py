# SPDX-License-Identifier: MIT
"""Pacing: the adaptive mode, and payload bytes that advance the collector.

Heap.set_pacing('fixed' | 'adaptive'); get_stats() shows each threshold
in force and the bytes accounted; events() shows each decision.  A
node's payload bytes count toward generation 0 (one count per 64 bytes),
so cycles holding big payloads are collected as their bytes require.
Nothing here is timed.
"""

import unittest

from support import RcgcTestCase

MIB = 1 << 20


class PacingModeTest(RcgcTestCase):
    def test_fixed_is_the_default(self):
        self.assertEqual(self.heap.get_pacing(), "fixed")

    def test_text_signatures(self):
        self.assertEqual(self.heap.set_pacing.__text_signature__,
                         "($self, mode, /)")
        self.assertEqual(self.heap.get_pacing.__text_signature__,
                         "($self, /)")

    def test_bad_modes_raise(self):
        with self.assertRaisesRegex(ValueError, "'fixed' or 'adaptive'"):
            self.heap.set_pacing("fast")
        with self.assertRaisesRegex(TypeError, "not int"):
            self.heap.set_pacing(1)
        self.assertEqual(self.heap.get_pacing(), "fixed")

    def test_young_survivors_move_on_unexamined_three_times_in_four(self):
        self.heap.set_threshold(100, 1000, 1000)
        self.heap.set_pacing("adaptive")
        keep = [self.heap.node(1) for _ in range(2000)]
        young = [e for e in self.heap.events() if e["generation"] == 0]
        self.assertGreaterEqual(len(young), 4)
        self.assertEqual([e["skipped"] for e in young[:4]], [0, 3, 3, 3])
        self.assertTrue(all(e["threshold"] == e["next_threshold"] == 100
                            for e in young))
        self.assertGreaterEqual(self.heap.get_stats()[0]["skipped"], 9)
        del keep

    def test_empty_full_collections_raise_threshold2_within_eight_times(self):
        self.heap.set_pacing("adaptive")
        keep = self.heap.node(1)
        seen = []
        for _ in range(4):
            self.heap.collect(2)
            seen.append(self.heap.get_stats()[2]["threshold"])
        self.assertEqual(seen, [20, 40, 80, 80])
        self.assertEqual(self.heap.get_threshold(), (2000, 10, 10))
        self.assertEqual([e["next_threshold"] for e in self.heap.events()],
                         seen)
        del keep

    def test_fixed_keeps_the_threshold(self):
        self.heap.set_threshold(100, 1000, 1000)
        keep = [self.heap.node(1) for _ in range(1000)]
        self.assertEqual(self.heap.get_stats()[0]["threshold"], 100)
        self.assertTrue(all(e["next_threshold"] == e["threshold"] == 100
                            for e in self.heap.events()))
        del keep


class PayloadBytesTest(RcgcTestCase):
    def test_payload_bytes_are_accounted_while_the_node_lives(self):
        n = self.heap.node(1, payload=MIB)
        self.assertEqual(self.heap.get_stats()[0]["bytes"], MIB)
        self.assertEqual(self.heap.get_count()[0], 1 + MIB // 64)
        del n
        self.assertEqual(self.heap.get_stats()[0]["bytes"], 0)
        self.assertEqual(self.heap.get_count()[0], 0)

    def test_events_show_the_bytes(self):
        keep = self.heap.node(1, payload=4096)
        self.heap.collect(0)
        self.assertEqual(self.heap.events()[-1]["bytes"], 4096)
        del keep

    def cycles_with_payload(self, payload, iterations):
        """2-cycles whose first node holds payload bytes, dropped at
        once; the peak of payload bytes alive, read after each."""
        peak = 0
        for _ in range(iterations):
            a, b = self.heap.node(1, payload=payload), self.heap.node(1)
            a[0], b[0] = b, a
            del a, b
            peak = max(peak, self.heap.get_stats()[0]["bytes"])
        return peak

    def test_cycles_holding_a_mib_stay_within_twice_the_live_data(self):
        peak = self.cycles_with_payload(MIB, 200)
        self.assertLessEqual(peak, 2 * MIB)
        self.heap.collect()
        self.assertEqual(self.live(), 0)

    def test_small_payloads_leave_the_pace_of_objects(self):
        # 100 cycles of 64-byte payloads: 300 counts, under the threshold
        self.cycles_with_payload(64, 100)
        self.assertEqual(self.heap.get_stats()[0]["collections"], 0)
        self.assertEqual(self.live(), 200)


if __name__ == "__main__":
    unittest.main()
