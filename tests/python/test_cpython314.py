# SPDX-License-Identifier: MIT
"""CPython 3.14's order around finalizers, weak references and garbage.

Each test restates a case of CPython's Lib/test/test_finalization.py or
test_gc.py with rcgc nodes and names it.  A Python handle holds a count
of its node, so a node is garbage only once no handle of it is left; a
finalizer receives a handle that becomes owning when it stores it
(resurrection), as CPython's __del__ receives self.
"""

import unittest

import rcgc
from support import RcgcTestCase


class WeakrefOrderTest(RcgcTestCase):
    def test_self_cycle_resurrector_keeps_its_plain_weakref(self):
        # restates test_finalization
        # SelfCycleFinalizationTest.test_simple_resurrect (3.14)
        self.heap.disable()
        survivors = []
        s = self.heap.node(1, finalizer=survivors.append)
        s[0] = s
        wr = s.weakref()
        wrc = s.weakref(lambda ref: None)
        del s
        self.assertEqual(self.heap.collect(), 0)
        self.assertEqual(len(survivors), 1)
        # "This used to be None because weakrefs were cleared before
        # calling finalizers.  Now they are cleared after."
        self.assertIsNotNone(wr())
        self.assertIs(wr(), survivors[0])
        # "A weakref with a callback is still cleared before calling
        # finalizers."
        self.assertIsNone(wrc())
        survivors.clear()
        self.assertEqual(self.heap.collect(), 1)
        self.assertEqual(survivors, [])     # __del__ not called again
        self.assertIsNone(wr())

    def build_chain(self, kinds, survivors, del_calls):
        """test_finalization's build_chain: slot 0 -> right, 1 -> left."""
        def resurrect(x):
            del_calls.append(x.address)
            survivors.append(x)

        def plain(x):
            del_calls.append(x.address)
        nodes = [self.heap.node(2, finalizer=resurrect if k else plain)
                 for k in kinds]
        for i, n in enumerate(nodes):
            left = nodes[i - 1]
            n[1] = left
            left[0] = n
        return nodes

    def test_resurrecting_chain_keeps_plain_weakrefs(self):
        # restates test_finalization CycleChainFinalizationTest
        # .test_heterogenous_resurrect_one (3.14 check_resurrecting_chain)
        self.heap.disable()
        survivors, del_calls = [], []
        nodes = self.build_chain([True, False] * 2, survivors, del_calls)
        ids = [n.address for n in nodes]
        wrs = [n.weakref() for n in nodes]
        wrcs = [n.weakref(lambda ref: None) for n in nodes]
        del nodes
        self.assertEqual(self.heap.collect(), 0)
        self.assertEqual(sorted(del_calls), sorted(ids))
        self.assertEqual(len(survivors), 2)
        for wr in wrs:
            self.assertIsNotNone(wr())
        for wr in wrcs:
            self.assertIsNone(wr())
        survivors.clear()
        self.assertEqual(self.heap.collect(), 4)
        self.assertEqual(sorted(del_calls), sorted(ids))
        self.assertEqual([wr() for wr in wrs], [None] * 4)

    def test_non_resurrecting_chain_clears_every_weakref(self):
        # restates test_finalization CycleChainFinalizationTest
        # .test_homogenous (check_non_resurrecting_chain)
        self.heap.disable()
        survivors, del_calls = [], []
        nodes = self.build_chain([False] * 3, survivors, del_calls)
        ids = [n.address for n in nodes]
        wrs = [n.weakref() for n in nodes]
        del nodes
        self.assertEqual(self.heap.collect(), 3)
        self.assertEqual(sorted(del_calls), sorted(ids))
        self.assertEqual([wr() for wr in wrs], [None] * 3)

    def test_finalizer_reads_a_plain_weakref_to_other_garbage(self):
        # restates the rule of gh-135552 that test_gc
        # test_datetime_weakref_cycle (gh-132413) depends on: weakrefs
        # without callbacks "are still usable while finalizers are being
        # executed"; one with a callback is cleared already
        self.heap.disable()
        seen = []
        a = self.heap.node(1)
        b = self.heap.node(1)
        a[0], b[0] = b, a
        wr_plain = b.weakref()
        wr_cb = b.weakref(lambda ref: None)
        address = b.address

        def fin(x):
            target = wr_plain()
            seen.append((target is not None and target.address,
                         target is not None and target[0] is x,
                         wr_cb()))
        a.finalizer = fin
        del a, b
        self.assertEqual(self.heap.collect(), 2)
        self.assertEqual(seen, [(address, True, None)])
        self.assertIsNone(wr_plain())
        self.assertEqual(self.live(), 0)

    def test_function_tp_clear_leaves_consistent_state(self):
        # restates test_gc test_function_tp_clear_leaves_consistent_state
        # (gh-91636, GH-136401): a weakref made by a finalizer to garbage
        # is cleared before the garbage is; "func=None"
        self.heap.disable()
        seen = []
        holder = []

        def late_fin(x):            # 8.
            seen.append(x.value())

        def cyc_fin(x):             # 5., 6.
            x[1].value = x[0].weakref()
            holder.clear()
        latefin = self.heap.node(0, finalizer=late_fin)
        holder.append(latefin)
        func = self.heap.node(1)
        cyc = self.heap.node(2, finalizer=cyc_fin)
        cyc[0], cyc[1] = func, latefin
        func[0] = cyc               # 1.
        del func, cyc, latefin      # 2.
        self.assertEqual(self.heap.collect(), 2)    # 3.
        self.assertEqual(seen, [None])              # 9.
        self.assertEqual(self.live(), 0)

    def test_weakref_made_by_a_finalizer_to_a_survivor_stays(self):
        # only what stays garbage loses its weakrefs (CPython's
        # clear_weakrefs walks the final unreachable set)
        self.heap.disable()
        made, survivors = [], []

        def fin(x):
            made.append(x.weakref())
            survivors.append(x)
        z = self.heap.node(1, finalizer=fin)
        z[0] = z
        del z
        self.assertEqual(self.heap.collect(), 0)
        self.assertIs(made[0](), survivors[0])
        survivors.clear()
        self.assertEqual(self.heap.collect(), 1)
        self.assertIsNone(made[0]())


class RefcountDeathOrderTest(RcgcTestCase):
    def test_simple_resurrect_keeps_the_weakref(self):
        # restates test_finalization SimpleFinalizationTest
        # .test_simple_resurrect
        survivors = []
        s = self.heap.node(finalizer=survivors.append)
        wr = s.weakref()
        del s
        self.assertEqual(len(survivors), 1)
        self.assertIsNotNone(wr())
        survivors.clear()
        self.assertIsNone(wr())
        self.assertEqual(self.live(), 0)

    def test_legacy_runs_after_weakref_callbacks(self):
        # restates test_finalization LegacyFinalizationTest.test_legacy:
        # CPython's subtype_dealloc clears weakrefs (callbacks run) before
        # tp_del
        events = []
        s = self.heap.node(legacy=True)
        wr = s.weakref()
        wrc = s.weakref(lambda ref: events.append("callback"))
        s.finalizer = lambda x: events.append(("tp_del", wr()))
        del s
        self.assertEqual(events, ["callback", ("tp_del", None)])
        self.assertIsNone(wr())
        self.assertIsNone(wrc())

    def test_legacy_resurrect_finds_its_weakrefs_cleared(self):
        # restates test_finalization LegacyFinalizationTest
        # .test_legacy_resurrect: "weakrefs are cleared before tp_del is
        # called"; tp_del runs again at the next death
        survivors, tp_del_calls, callbacks = [], [], []

        def tp_del(x):
            tp_del_calls.append(x.address)
            survivors.append(x)
        s = self.heap.node(legacy=True, finalizer=tp_del)
        ids = [s.address]
        wr = s.weakref()
        wrc = s.weakref(callbacks.append)
        del s
        self.assertEqual(tp_del_calls, ids)
        self.assertEqual(len(survivors), 1)
        self.assertIsNone(wr())
        self.assertIsNone(wrc())
        self.assertEqual(callbacks, [wrc])
        survivors.clear()
        self.assertEqual(tp_del_calls, ids * 2)
        self.assertEqual(len(survivors), 1)
        self.assertIsNone(wr())
        survivors[0].finalizer = None
        survivors.clear()
        self.assertEqual(self.live(), 0)


class GarbageListTest(RcgcTestCase):
    def test_legacy_finalizer_lists_only_its_owner(self):
        # restates test_gc test_legacy_finalizer: a tp_del object in a
        # cycle with what it reaches (its __dict__): both uncollectable,
        # only it in gc.garbage
        self.heap.disable()
        a = self.heap.node(1, legacy=True)
        d = self.heap.node(1)
        a[0], d[0] = d, a
        addr = a.address
        del a, d
        self.assertEqual(self.heap.collect(), 2)
        self.assertEqual(self.heap.get_stats()[2]["uncollectable"], 2)
        garbage = self.heap.garbage
        self.assertEqual([g.address for g in garbage], [addr])
        garbage[0][0] = None        # del obj.a
        del garbage
        self.heap.clear_garbage()
        self.assertEqual(self.live(), 0)

    def test_saveall_lists_everything_set_aside(self):
        # CPython's handle_legacy_finalizers with DEBUG_SAVEALL
        self.heap.disable()
        self.heap.set_debug(rcgc.DEBUG_SAVEALL)
        a = self.heap.node(1, legacy=True)
        d = self.heap.node(1)
        a[0], d[0] = d, a
        del a, d
        self.assertEqual(self.heap.collect(), 2)
        self.assertEqual(len(self.heap.garbage), 2)
        self.heap.set_debug(0)
        self.heap.garbage[0][0] = None
        self.heap.clear_garbage()
        self.heap.collect()
        self.assertEqual(self.live(), 0)

    def test_legacy_self_cycle(self):
        # restates test_finalization LegacyFinalizationTest
        # .test_legacy_self_cycle
        self.heap.disable()
        tp_del_calls = []
        s = self.heap.node(1, legacy=True,
                           finalizer=lambda x: tp_del_calls.append(1))
        s[0] = s
        addr = s.address
        wr = s.weakref()
        del s
        self.assertEqual(self.heap.collect(), 1)
        self.assertEqual(tp_del_calls, [])
        self.assertEqual([g.address for g in self.heap.garbage], [addr])
        self.assertIsNotNone(wr())
        self.heap.garbage[0][0] = None      # gc.garbage[0].ref = None
        self.heap.clear_garbage()
        self.assertEqual(self.heap.garbage, [])
        self.assertIsNone(wr())
        self.assertEqual(tp_del_calls, [1])


class FreezeCountTest(RcgcTestCase):
    def test_freeze_sets_every_count_to_zero(self):
        # restates test_gc test_collect_generations ((b, c) == (1, 0)
        # after collect(0)), then gc.freeze(): all three counts are 0
        self.heap.disable()
        x = self.heap.node()
        self.heap.collect(0)
        self.assertEqual(self.heap.get_count()[1:], (1, 0))
        y = self.heap.node()
        self.assertGreater(self.heap.get_count()[0], 0)
        self.heap.freeze()
        self.assertEqual(self.heap.get_count(), (0, 0, 0))
        self.heap.unfreeze()
        del x, y


if __name__ == "__main__":
    unittest.main()
