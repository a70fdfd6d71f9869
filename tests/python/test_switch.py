# SPDX-License-Identifier: MIT
"""rcgc.use_objalloc(): this interpreter's object domain on objalloc.

Runs in a child interpreter: the switch lasts for the process."""

import os
import subprocess
import sys
import unittest

import rcgc

CHILD = r"""
import json, rcgc, re, gc
assert rcgc.objalloc_status()["installed"] is False
old = [str(i) * 3 for i in range(20000)]          # made by pymalloc
assert rcgc.use_objalloc() is True
assert rcgc.use_objalloc() is False               # already switched
new = [str(i) * 3 for i in range(20000)]          # made by objalloc
st = rcgc.objalloc_status()
assert st["installed"] and st["live_blocks"] > 10000, st
doc = json.dumps({"k%d" % i: list(range(i % 50)) for i in range(3000)})
assert json.loads(doc)["k49"] == list(range(49))
del old                                           # forwarded frees
assert rcgc.objalloc_status()["forwarded_frees"] > 10000
h = rcgc.Heap(); a = h.node(slots=1); a[0] = a; del a
assert h.collect() == 1
assert rcgc.stop_objalloc() is True               # blocks live: drains
st = rcgc.objalloc_status()
assert st["draining"], st
del new; gc.collect()
print("switch ok")
"""


class SwitchTest(unittest.TestCase):
    def test_switch_a_running_interpreter_and_back(self):
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in [os.path.dirname(os.path.dirname(rcgc.__file__)),
                        env.get("PYTHONPATH", "")] if p)
        r = subprocess.run([sys.executable, "-c", CHILD], env=env,
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("switch ok", r.stdout)

    def test_refused_while_tracemalloc_traces(self):
        code = ("import tracemalloc, rcgc\ntracemalloc.start()\n"
                "try:\n    rcgc.use_objalloc()\nexcept RuntimeError as e:\n"
                "    print('refused:', e)\n")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.path.dirname(os.path.dirname(rcgc.__file__))
        r = subprocess.run([sys.executable, "-c", code], env=env,
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("refused:", r.stdout)


if __name__ == "__main__":
    unittest.main()
