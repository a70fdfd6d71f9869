# SPDX-License-Identifier: MIT
"""The module surface: names, docstrings, signatures, version, stub file,
the extension's exported symbols."""

import ctypes
import inspect
import os
import pydoc
import re
import unittest

import rcgc


class ModuleTest(unittest.TestCase):
    def test_everything_public_has_a_docstring(self):
        for name in rcgc.__all__:
            obj = getattr(rcgc, name)
            if isinstance(obj, int):
                continue
            self.assertTrue(obj.__doc__, name)
        for cls in (rcgc.Heap, rcgc.Node, rcgc.WeakRef):
            for attr, value in vars(cls).items():
                if attr.startswith("__") or isinstance(value, int):
                    continue
                self.assertTrue(getattr(value, "__doc__", None),
                                "%s.%s" % (cls.__name__, attr))

    def test_heap_has_the_gc_module_api(self):
        for name in ("collect", "enable", "disable", "isenabled",
                     "get_count", "get_threshold", "set_threshold",
                     "get_stats", "callbacks", "freeze", "unfreeze",
                     "get_freeze_count", "get_objects", "get_referrers",
                     "get_referents", "is_tracked", "is_finalized",
                     "garbage", "set_debug", "get_debug"):
            self.assertTrue(hasattr(rcgc.Heap, name), name)

    def test_help_renders(self):
        text = pydoc.render_doc(rcgc, renderer=pydoc.plaintext)
        for word in ("Heap", "Node", "WeakRef", "collect", "Ownership"):
            self.assertIn(word, text)

    def public_routines(self):
        """(name, callable) for every public function and method."""
        out = []
        for name in rcgc.__all__:
            obj = getattr(rcgc, name)
            if inspect.isroutine(obj):
                out.append((name, obj))
        for cls in (rcgc.Heap, rcgc.Node, rcgc.WeakRef):
            for attr, value in vars(cls).items():
                if inspect.isroutine(value) and (
                        not attr.startswith("_")
                        or attr in ("__enter__", "__exit__")):
                    out.append(("%s.%s" % (cls.__name__, attr), value))
        return out

    def test_every_function_and_method_has_a_signature(self):
        routines = self.public_routines()
        self.assertGreater(len(routines), 30)
        for name, obj in routines:
            with self.subTest(name):
                sig = inspect.signature(obj)
                if "." in name:     # methods: self first, positional-only
                    first = next(iter(sig.parameters.values()))
                    self.assertEqual(first.name, "self")
                    self.assertEqual(first.kind, first.POSITIONAL_ONLY)

    def test_signatures_name_the_real_parameters(self):
        heap = rcgc.Heap()
        self.addCleanup(heap.destroy)
        node = heap.node(slots=1)
        self.assertEqual(str(inspect.signature(heap.collect)),
                         "(generation=2)")
        self.assertEqual(list(inspect.signature(heap.node).parameters),
                         ["slots", "payload", "finalizer", "legacy",
                          "value"])
        self.assertEqual(str(inspect.signature(node.weakref)),
                         "(callback=None)")
        self.assertEqual(str(inspect.signature(rcgc.Heap)), "()")
        # Every name a signature gives is accepted by keyword.
        heap.collect(generation=0)
        heap.random_graph(n=10, out_degree=2, seed=1,
                          garbage_fraction=0.5, payload=8)
        heap.set_threshold(100, None, 5)
        self.assertEqual(heap.get_threshold()[::2], (100, 5))

    def test_version(self):
        self.assertRegex(rcgc.__version__, r"^\d+\.\d+\.\d+")
        version_file = os.path.join(os.path.dirname(__file__), "..", "..",
                                    "VERSION")
        if os.path.exists(version_file):    # run from a source tree
            with open(version_file) as f:
                self.assertEqual(rcgc.__version__, f.readline().strip())

    def test_extension_exports_only_its_init_function(self):
        # Were the library's functions exported, a librcgc.so loaded
        # globally (LD_PRELOAD, or a program linked with it) would
        # replace them (check-python.sh also runs tests that way).
        lib = ctypes.CDLL(rcgc._rcgc.__file__)
        self.assertTrue(hasattr(lib, "PyInit__rcgc"))
        for name in ("oa_heap_new", "oa_malloc", "rc_new", "rc_zero",
                     "rc_weakref_new", "gc_heap_new", "gc_collect"):
            self.assertFalse(hasattr(lib, name), name)

    def test_stub_names_match_the_module(self):
        stub = os.path.join(os.path.dirname(rcgc.__file__), "__init__.pyi")
        if not os.path.exists(stub):
            self.skipTest("no stub next to the module")
        with open(stub) as f:
            text = f.read()
        for name in rcgc.__all__:
            self.assertIn(name, text)
        for cls in (rcgc.Heap, rcgc.Node, rcgc.WeakRef):
            for attr in vars(cls):
                if not attr.startswith("_") or attr in ("__enter__",
                                                        "__exit__"):
                    self.assertIn(attr, text, "%s.%s" % (cls.__name__, attr))


if __name__ == "__main__":
    unittest.main()
