# SPDX-License-Identifier: MIT
"""Trace workload "testsuite": a unittest suite run in process.

Many small test cases over the standard library (collections, fractions,
decimal, dataclasses, itertools, string formatting, heapq, bisect), each
run several times by unittest's loader and runner with output to a
string.  Prints the number of tests run and whether all passed.
"""
import bisect
import collections
import dataclasses
import decimal
import fractions
import heapq
import io
import itertools
import unittest


@dataclasses.dataclass(order=True)
class Item:
    key: int
    name: str
    tags: list = dataclasses.field(default_factory=list)


class Containers(unittest.TestCase):
    def test_counter(self):
        c = collections.Counter(str(i % 97) for i in range(3000))
        self.assertEqual(sum(c.values()), 3000)
        self.assertEqual(len(c.most_common(10)), 10)

    def test_ordered_dict(self):
        d = collections.OrderedDict((str(i), i) for i in range(2000))
        for i in range(0, 2000, 3):
            d.move_to_end(str(i))
        self.assertEqual(len(d), 2000)

    def test_deque(self):
        q = collections.deque(range(5000), maxlen=1000)
        q.rotate(17)
        self.assertEqual(len(q), 1000)

    def test_dataclasses(self):
        items = sorted(Item(i * 7 % 101, f"n{i}", [i] * (i % 5))
                       for i in range(1500))
        self.assertEqual(items[0].key, 0)
        self.assertTrue(all(dataclasses.asdict(x) for x in items[:200]))


class Numbers(unittest.TestCase):
    def test_fractions(self):
        s = sum(fractions.Fraction(1, k) for k in range(1, 300))
        self.assertGreater(s, 6)

    def test_decimal(self):
        decimal.getcontext().prec = 40
        s = sum(decimal.Decimal(i) / 7 for i in range(2000))
        self.assertGreater(s, 0)

    def test_format(self):
        rows = [f"{i:>8} {i * 1.5:12.3f} {hex(i)} {i!r}" for i in range(4000)]
        self.assertEqual(len("\n".join(rows).splitlines()), 4000)


class Algorithms(unittest.TestCase):
    def test_heapq(self):
        h = []
        for i in range(5000):
            heapq.heappush(h, (i * 7919 % 5003, str(i)))
        self.assertEqual(len([heapq.heappop(h) for _ in range(5000)]), 5000)

    def test_bisect(self):
        a = []
        for i in range(3000):
            bisect.insort(a, i * 31 % 3001)
        self.assertEqual(a, sorted(a))

    def test_itertools(self):
        p = list(itertools.permutations(range(7)))
        self.assertEqual(len(p), 5040)
        g = {k: list(v) for k, v in itertools.groupby(sorted(range(3000),
                                                     key=lambda x: x % 13),
                                                     key=lambda x: x % 13)}
        self.assertEqual(len(g), 13)

    @unittest.expectedFailure
    def test_expected_failure(self):
        self.assertEqual([1, 2, 3], [1, 2, 4])

    def test_subtests(self):
        for i in range(200):
            with self.subTest(i=i):
                self.assertEqual(str(i), f"{i}")


ok = True
ran = 0
for _ in range(4):
    suite = unittest.defaultTestLoader.loadTestsFromModule(
        __import__(__name__))
    result = unittest.TextTestRunner(stream=io.StringIO(),
                                     verbosity=2).run(suite)
    ok = ok and result.wasSuccessful()
    ran += result.testsRun
print("testsuite", ran, ok)
