# SPDX-License-Identifier: MIT
"""The C graph builders: node and edge counts, roots, garbage."""

import unittest

import rcgc
from support import RcgcTestCase


class BuilderTest(RcgcTestCase):
    def setUp(self):
        super().setUp()
        self.heap.disable()     # counts below include uncollected garbage

    def test_chain(self):
        roots = self.heap.chain(50, payload=24)
        self.assertEqual(len(roots), 1)
        self.assertEqual(rcgc.census(self.heap), (50, 49))
        n, length = roots[0], 1
        while n[0] is not None:
            n, length = n[0], length + 1
        self.assertEqual(length, 50)
        self.assertEqual(n.payload_size, 24)
        self.assertEqual(self.heap.chain(0), [])

    def test_chain_dies_with_its_head(self):
        roots = self.heap.chain(10000)
        self.assertEqual(self.live(), 10000)
        del roots
        self.assertEqual(self.live(), 0)

    def test_rings(self):
        roots = self.heap.rings(7, 5)
        self.assertEqual(len(roots), 7)
        self.assertEqual(rcgc.census(self.heap), (35, 35))
        for r in roots:
            n = r
            for _ in range(5):
                n = n[0]
            self.assertIs(n, r)
        del roots, r, n
        self.assertEqual(self.heap.collect(), 35)

    def test_tree(self):
        roots = self.heap.tree(3, 4)
        self.assertEqual(len(roots), 1)
        nodes = 1 + 4 + 16 + 64
        self.assertEqual(rcgc.census(self.heap), (nodes, nodes - 1))
        self.assertEqual(len(roots[0]), 4)
        leaf = roots[0][3][3][3]
        self.assertEqual(leaf.slots(), [None] * 4)
        self.assertEqual(rcgc.census(self.heap)[0], nodes)
        self.assertEqual(self.heap.tree(0, 2)[0].slots(), [None, None])

    def test_random_graph_without_garbage(self):
        roots = self.heap.random_graph(200, 3, seed=1)
        self.assertEqual(len(roots), 1)
        self.assertEqual(rcgc.census(self.heap), (200, 600))
        self.assertEqual(self.heap.collect(), 0)

    def test_random_graph_garbage_fraction(self):
        roots = self.heap.random_graph(1000, 2, seed=7, garbage_fraction=0.25)
        self.heap.collect()
        self.assertEqual(self.live(), 750)
        self.assertEqual(rcgc.census(self.heap), (750, 1500))
        del roots
        self.heap.collect()
        self.assertEqual(self.live(), 0)

    def test_random_graph_is_reproducible(self):
        def shape(seed):
            with rcgc.Heap() as h:
                h.random_graph(50, 2, seed=seed)
                nodes = sorted(h.get_objects(), key=lambda n: n.address)
                index = {n: i for i, n in enumerate(nodes)}
                return [index[s] for n in nodes for s in n.slots()]
        self.assertEqual(shape(3), shape(3))
        self.assertNotEqual(shape(3), shape(4))

    def test_random_graph_out_degree_zero_returns_every_live_node(self):
        roots = self.heap.random_graph(10, 0, garbage_fraction=0.5)
        self.assertEqual(len(roots), 5)
        self.assertEqual(self.live(), 5)

    def test_builders_reject_bad_arguments(self):
        with self.assertRaises(ValueError):
            self.heap.rings(1, 0)
        with self.assertRaises(ValueError):
            self.heap.chain(-1)
        with self.assertRaises(ValueError):
            self.heap.tree(2, 0)
        with self.assertRaises(ValueError):
            self.heap.random_graph(10, 2, garbage_fraction=1.5)
        with self.assertRaises(OverflowError):
            self.heap.tree(100, 10)
        with self.assertRaises(ValueError):
            self.heap.node(payload=-1)


if __name__ == "__main__":
    unittest.main()
