"""The module surface: names, docstrings, stub file."""

import os
import pydoc
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
